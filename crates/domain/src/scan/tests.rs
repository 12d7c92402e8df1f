use chrono::NaiveDate;

use super::*;

// Check digits of these were worked out by hand (weights 3,1,3,… from the
// right) as well as being GS1's own published examples where noted.
/// GS1 example GTIN.
const GTIN: &str = "09501101530003";
/// 1061414100000 → 3·0+0+3·0+0+3·0+1+3·4+1+3·4+1+3·6+0+3·1 = 48 → 2.
const GTIN_CASE: &str = "10614141000002";
/// GS1 example SSCC.
const SSCC: &str = "106141411234567897";
/// 541234500001 → 47 → 3.
const GLN: &str = "5412345000013";

const G: &str = "\u{1d}";

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn today() -> NaiveDate {
    day(2025, 6, 15)
}

fn p(input: &str) -> Result<Scan, ScanError> {
    parse_at(input, &ScanConfig::default(), today())
}

fn ok(input: &str) -> Scan {
    match p(input) {
        Ok(s) => s,
        Err(e) => panic!("{input:?} failed: {e}"),
    }
}

fn err(input: &str) -> ScanError {
    match p(input) {
        Ok(s) => panic!("{input:?} parsed as {s:?}"),
        Err(e) => e,
    }
}

fn ais(scan: &Scan) -> Vec<(&str, &str)> {
    scan.elements()
        .iter()
        .map(|e| (e.ai.as_str(), e.value.as_str()))
        .collect()
}

// ---------------------------------------------------------------- check digit

#[test]
fn check_digit_known_values() {
    assert_eq!(gs1_check_digit("0950110153000"), Some(3));
    assert_eq!(gs1_check_digit("1061414100000"), Some(2));
    assert_eq!(gs1_check_digit("10614141123456789"), Some(7));
    assert_eq!(gs1_check_digit("541234500001"), Some(3));
    // UPC-A 036000291452 and EAN-8 96385074, both textbook examples.
    assert_eq!(gs1_check_digit("03600029145"), Some(2));
    assert_eq!(gs1_check_digit("9638507"), Some(4));
    // Leading zeros do not change the result: GTIN-12 padded to 14.
    assert_eq!(gs1_check_digit("0003600029145"), Some(2));
}

#[test]
fn check_digit_rejects_non_digits() {
    assert_eq!(gs1_check_digit("12a4"), None);
    assert_eq!(gs1_check_digit("١٢٣"), None);
    assert_eq!(gs1_check_digit(""), None);
}

// ---------------------------------------------------------------- table

#[test]
fn table_is_in_lexical_order_for_binary_search() {
    let all = dictionary::all();
    for pair in all.windows(2) {
        assert!(
            pair[0].ai < pair[1].ai,
            "{} before {}",
            pair[0].ai,
            pair[1].ai
        );
    }
    for d in all {
        assert!(
            std::ptr::eq(dictionary::lookup(d.ai).unwrap(), d),
            "AI {}",
            d.ai
        );
        for k in 1..=d.ai.len() {
            assert!(dictionary::is_known_prefix(&d.ai[..k]), "{}", &d.ai[..k]);
        }
    }
    for unknown in ["27", "3106", "809", "9", "0"] {
        assert!(dictionary::lookup(unknown).is_none(), "{unknown}");
    }
    assert!(!dictionary::is_known_prefix("27"));
    assert!(!dictionary::is_known_prefix("809"));
}

#[test]
fn table_is_prefix_free() {
    for a in dictionary::all() {
        for b in dictionary::all() {
            if a.ai != b.ai {
                assert!(!b.ai.starts_with(a.ai), "{} is a prefix of {}", a.ai, b.ai);
            }
        }
    }
}

/// The dictionary's `*` flag (no separator needed) agrees with GS1's predefined-length
/// list, which is fixed forever: every flagged AI is fixed-length with the list's total,
/// and every AI the list covers is flagged.
#[test]
fn predefined_table_matches_dictionary_flags() {
    for d in dictionary::all() {
        match ai::predefined_total_length(d.ai) {
            Some(total) => {
                assert!(
                    !d.separator,
                    "AI {} is predefined-length but needs a separator",
                    d.ai
                );
                assert_eq!(
                    (d.min_len(), d.max_len()),
                    (total - d.ai.len(), total - d.ai.len()),
                    "AI {}",
                    d.ai
                );
            }
            None => assert!(d.separator, "AI {} is flagged predefined-length", d.ai),
        }
    }
    assert_eq!(ai::predefined_total_length("00"), Some(20));
    assert_eq!(ai::predefined_total_length("410"), Some(16));
    assert_eq!(ai::predefined_total_length("3103"), Some(10));
    assert_eq!(ai::predefined_total_length("10"), None);
    assert_eq!(ai::predefined_total_length("37"), None);
    assert_eq!(ai::predefined_total_length("422"), None);
    assert_eq!(ai::predefined_total_length("23"), None);
}

/// The whole dictionary made it into the table: its line count, ranges expanded.
#[test]
fn table_has_every_ai_of_the_dictionary() {
    let all = dictionary::all();
    assert!(all.len() > 500, "only {} AIs", all.len());
    for ai in [
        "00", "01", "10", "3105", "3955", "4300", "7007", "7040", "8030", "8112", "90", "91", "99",
    ] {
        assert!(dictionary::lookup(ai).is_some(), "AI {ai} missing");
    }
    assert_eq!(dictionary::lookup("91").map(|d| d.title), Some("INTERNAL"));
    assert!(dictionary::lookup("3106").is_none());
}

// ---------------------------------------------------------------- keys

#[test]
fn sscc() {
    let s = ok(&format!("]C100{SSCC}"));
    assert_eq!(s.sscc(), Some(SSCC));
    assert_eq!(s.symbology(), Some(&Symbology::Gs1_128));
}

#[test]
fn sscc_bad_check_digit() {
    assert_eq!(
        err("]C1001061414112345678900").to_string(),
        "AI (00) SSCC 106141411234567890 has check digit 0, but it should be 7"
    );
}

#[test]
fn gtin() {
    let s = ok(&format!("]C101{GTIN}"));
    assert_eq!(s.gtin(), Some(GTIN));
    assert_eq!(s.get("01").unwrap().value, GTIN);
    assert_eq!(s.get("10"), None);
}

#[test]
fn gtin_bad_check_digit() {
    let e = err("]C10109501101530009");
    assert_eq!(
        e,
        ScanError::CheckDigit {
            ai: "01".into(),
            key: "GTIN",
            value: "09501101530009".into(),
            expected: 3,
            found: 9
        }
    );
    assert_eq!(
        e.to_string(),
        "AI (01) GTIN 09501101530009 has check digit 9, but it should be 3"
    );
}

#[test]
fn gtin_too_short_at_end() {
    assert_eq!(
        err("]C101950110153").to_string(),
        "AI (01) needs 14 digits, found 9 before the end of the scan"
    );
}

#[test]
fn gtin_too_short_before_separator() {
    assert_eq!(
        err(&format!("]C101950110153{G}10ABC")).to_string(),
        "AI (01) needs 14 digits, found 9 before a separator"
    );
}

#[test]
fn gtin_not_numeric() {
    let e = err("]C1010950110153000A");
    assert_eq!(
        e.to_string(),
        "AI (01) must contain only digits, but has 'A'"
    );
}

#[test]
fn contained_gtin_with_count() {
    let s = ok(&format!("]C100{SSCC}02{GTIN_CASE}3712{G}10L1"));
    assert_eq!(s.gtin(), Some(GTIN_CASE));
    assert_eq!(s.count(), Some(12));
    assert_eq!(s.sscc(), Some(SSCC));
    assert_eq!(s.lot(), Some("L1"));
}

#[test]
fn glns_410_to_414() {
    for a in ["410", "411", "412", "413", "414"] {
        let s = ok(&format!("]C1{a}{GLN}"));
        assert_eq!(s.get(a).unwrap().value, GLN, "AI {a}");
    }
    // Predefined length: no separator needed before the next AI.
    let s = ok(&format!("]C1410{GLN}414{GLN}01{GTIN}"));
    assert_eq!(ais(&s), vec![("410", GLN), ("414", GLN), ("01", GTIN)]);
}

#[test]
fn gln_bad_check_digit() {
    assert_eq!(
        err("]C14145412345000019").to_string(),
        "AI (414) GLN 5412345000019 has check digit 9, but it should be 3"
    );
}

// ---------------------------------------------------------------- text AIs

#[test]
fn lot() {
    let s = ok(&format!("]C101{GTIN}10R25324-007"));
    assert_eq!(s.lot(), Some("R25324-007"));
}

#[test]
fn lot_with_all_cset82_punctuation() {
    let lot = "!\"%&'()*+,-./:;<=>?_";
    let s = ok(&format!("]C110{lot}"));
    assert_eq!(s.lot(), Some(lot));
}

#[test]
fn lot_at_max_length_and_too_long() {
    let s = ok(&format!("]C110{}", "A".repeat(20)));
    assert_eq!(s.lot().map(str::len), Some(20));
    let e = err(&format!("]C110{}", "A".repeat(23)));
    assert_eq!(
        e.to_string(),
        "AI (10) data is too long (23 characters, at most 20) — a missing separator after it?"
    );
}

#[test]
fn lot_empty() {
    assert_eq!(
        err(&format!("]C110{G}17261231")).to_string(),
        "AI (10) needs at least 1 character, found 0 before a separator"
    );
}

#[test]
fn lot_invalid_character() {
    assert_eq!(
        err("]C110AB€").to_string(),
        "AI (10) contains a character that GS1 does not allow: '€'"
    );
    assert!(matches!(
        err("]C110AB C"),
        ScanError::InvalidCharacter { found: ' ', .. }
    ));
    assert!(matches!(
        err("]C110ab#c"),
        ScanError::InvalidCharacter { found: '#', .. }
    ));
}

#[test]
fn invalid_character_hints_at_separator() {
    // Scanner sends '~' for FNC1 but lotline is still on GS.
    let e = err("]C110AB~17261231");
    assert_eq!(
        e.to_string(),
        "AI (10) contains a character that GS1 does not allow: '~' — is the scanner sending it as the separator?"
    );
}

#[test]
fn serial() {
    let s = ok(&format!("]C101{GTIN}21SN-0001/x"));
    assert_eq!(s.serial(), Some("SN-0001/x"));
    assert!(matches!(
        err(&format!("]C121{}", "9".repeat(21))),
        ScanError::TooLong { ref ai, found: 21, max: 20, .. } if ai == "21"
    ));
}

#[test]
fn purchase_order() {
    let po = "PO-2025/0042(A)";
    let s = ok(&format!("]C1400{po}{G}01{GTIN}"));
    assert_eq!(s.get("400").unwrap().value, po);
    ok(&format!("]C1400{}", "1".repeat(30)));
    assert!(matches!(
        err(&format!("]C1400{}", "1".repeat(31))),
        ScanError::TooLong { ref ai, found: 31, max: 30, fixed: false, .. } if ai == "400"
    ));
}

// ---------------------------------------------------------------- counts

#[test]
fn count_37_variable_needs_separator() {
    let s = ok(&format!("]C102{GTIN_CASE}3748{G}10L7"));
    assert_eq!(s.count(), Some(48));
    assert_eq!(s.lot(), Some("L7"));
    ok(&format!("]C102{GTIN_CASE}3712345678"));
    assert!(matches!(
        err(&format!("]C102{GTIN_CASE}37123456789")),
        ScanError::TooLong { ref ai, found: 9, max: 8, numeric: true, .. } if ai == "37"
    ));
}

#[test]
fn count_missing_separator_runs_into_next_ai() {
    // Without a separator "10L7" becomes part of the count.
    assert_eq!(
        err(&format!("]C102{GTIN_CASE}374810L7")).to_string(),
        "AI (37) must contain only digits, but has 'L'"
    );
}

#[test]
fn variable_count_30() {
    let s = ok(&format!("]C101{GTIN}3025{G}10X"));
    assert_eq!(s.get("30").unwrap().value, "25");
    assert_eq!(s.count(), None);
}

// ---------------------------------------------------------------- dates

#[test]
fn dates_all_date_ais() {
    for a in ["11", "12", "13", "15", "16", "17"] {
        let s = ok(&format!("]C1{a}261231"));
        assert_eq!(s.get(a).unwrap().date, Some(day(2026, 12, 31)), "AI {a}");
    }
}

#[test]
fn expiry_prefers_17_then_15() {
    let s = ok(&format!("]C101{GTIN}15260101"));
    assert_eq!(s.expiry(), Some(day(2026, 1, 1)));
    let s = ok(&format!("]C101{GTIN}1526010117260615"));
    assert_eq!(s.expiry(), Some(day(2026, 6, 15)));
    let s = ok(&format!("]C101{GTIN}11250610"));
    assert_eq!(s.production_date(), Some(day(2025, 6, 10)));
    assert_eq!(s.expiry(), None);
}

#[test]
fn day_zero_is_last_day_of_month() {
    let cases = [
        ("261200", day(2026, 12, 31)),
        ("260400", day(2026, 4, 30)),
        ("240200", day(2024, 2, 29)),
        ("250200", day(2025, 2, 28)),
    ];
    for (v, d) in cases {
        assert_eq!(ok(&format!("]C117{v}")).expiry(), Some(d), "{v}");
    }
    let s = ok("]C117261200");
    assert_eq!(s.get("17").unwrap().value, "261200");
}

#[test]
fn day_zero_not_allowed_for_first_freeze_date() {
    assert_eq!(
        err("]C17006250600").to_string(),
        "AI (7006) date 250600 is not a date (day 00 is not allowed for this AI)"
    );
    assert_eq!(
        ok("]C17006250601").get("7006").unwrap().date,
        Some(day(2025, 6, 1))
    );
}

#[test]
fn century_rule_from_2025() {
    // 2025: difference 50 stays in this century, 51 goes back.
    let cases = [
        ("750101", 2075),
        ("760101", 1976),
        ("991231", 1999),
        ("000101", 2000),
        ("250101", 2025),
    ];
    for (v, y) in cases {
        let d = ok(&format!("]C117{v}")).expiry().unwrap();
        assert_eq!(chrono::Datelike::year(&d), y, "{v}");
    }
}

#[test]
fn century_rule_forward_to_next_century() {
    let cfg = ScanConfig::default();
    let at = |v: &str, today: NaiveDate| {
        parse_at(&format!("]C117{v}"), &cfg, today)
            .unwrap()
            .expiry()
            .map(|d| chrono::Datelike::year(&d))
    };
    // 2080: 30 is 50 behind → next century; 31 is 49 behind → this century.
    assert_eq!(at("300101", day(2080, 1, 1)), Some(2130));
    assert_eq!(at("310101", day(2080, 1, 1)), Some(2031));
    // 2099: 00 is 99 behind → 2100.
    assert_eq!(at("000101", day(2099, 12, 31)), Some(2100));
    // 2000: 99 is 99 ahead → 1999; 50 → 2050; 51 → 1951.
    assert_eq!(at("990101", day(2000, 1, 1)), Some(1999));
    assert_eq!(at("500101", day(2000, 1, 1)), Some(2050));
    assert_eq!(at("510101", day(2000, 1, 1)), Some(1951));
}

#[test]
fn century_rule_direct() {
    assert_eq!(ai::resolve_year(75, day(2025, 1, 1)), 2075);
    assert_eq!(ai::resolve_year(76, day(2025, 1, 1)), 1976);
    assert_eq!(ai::resolve_year(30, day(2080, 1, 1)), 2130);
    assert_eq!(ai::resolve_year(31, day(2080, 1, 1)), 2031);
}

#[test]
fn invalid_month() {
    let e = err("]C117261332");
    assert_eq!(
        e.to_string(),
        "AI (17) date 261332 is not a date (month 13)"
    );
    assert_eq!(
        err("]C111260015").to_string(),
        "AI (11) date 260015 is not a date (month 00)"
    );
}

#[test]
fn invalid_day() {
    assert_eq!(
        err("]C117260230").to_string(),
        "AI (17) date 260230 is not a date (February 2026 has only 28 days)"
    );
    assert_eq!(
        err("]C115250431").to_string(),
        "AI (15) date 250431 is not a date (April 2025 has only 30 days)"
    );
    // 2024 is a leap year.
    assert_eq!(ok("]C117240229").expiry(), Some(day(2024, 2, 29)));
}

#[test]
fn date_too_short() {
    assert_eq!(
        err(&format!("]C1172612{G}10A")).to_string(),
        "AI (17) needs 6 digits, found 4 before a separator"
    );
}

// ---------------------------------------------------------------- weights

#[test]
fn net_weight_kg_all_decimal_positions() {
    let cases = [
        ("3100", "12345"),
        ("3101", "1234.5"),
        ("3102", "123.45"),
        ("3103", "12.345"),
        ("3104", "1.2345"),
        ("3105", "0.12345"),
    ];
    for (a, want) in cases {
        let s = ok(&format!("]C1{a}012345"));
        assert_eq!(s.net_weight(), Some((want.to_owned(), "kg")), "AI {a}");
        assert_eq!(s.get(a).unwrap().value, "012345");
    }
}

#[test]
fn net_weight_lb_all_decimal_positions() {
    let cases = [
        ("3200", "120"),
        ("3201", "12.0"),
        ("3202", "1.20"),
        ("3203", "0.120"),
        ("3204", "0.0120"),
        ("3205", "0.00120"),
    ];
    for (a, want) in cases {
        let s = ok(&format!("]C1{a}000120"));
        assert_eq!(s.net_weight(), Some((want.to_owned(), "lb")), "AI {a}");
    }
}

#[test]
fn net_weight_zero_and_half() {
    assert_eq!(
        ok("]C13100000000").net_weight(),
        Some(("0".to_owned(), "kg"))
    );
    assert_eq!(
        ok("]C13103000500").net_weight(),
        Some(("0.500".to_owned(), "kg"))
    );
}

#[test]
fn weight_is_predefined_length() {
    let s = ok(&format!("]C101{GTIN}310300150017261231"));
    assert_eq!(s.net_weight(), Some(("1.500".to_owned(), "kg")));
    assert_eq!(s.expiry(), Some(day(2026, 12, 31)));
}

#[test]
fn unsupported_weight_decimal_position_is_unknown() {
    assert_eq!(
        err("]C13109012345").to_string(),
        "AI (3109) is not a GS1 Application Identifier"
    );
}

// ---------------------------------------------------------------- separators

#[test]
fn no_separator_after_predefined_ais() {
    let s = ok(&format!("]C101{GTIN}17261231{}10ABC123", ""));
    assert_eq!(
        ais(&s),
        vec![("01", GTIN), ("17", "261231"), ("10", "ABC123")]
    );
}

#[test]
fn separator_after_variable_ai() {
    let s = ok(&format!("]C110ABC123{G}17261231{G}21S1"));
    assert_eq!(s.lot(), Some("ABC123"));
    assert_eq!(s.expiry(), Some(day(2026, 12, 31)));
    assert_eq!(s.serial(), Some("S1"));
}

#[test]
fn missing_separator_after_variable_ai_is_caught_by_length() {
    // "ABCDEFGHIJ" + "17261231" + "21SERIAL1" = 27 characters of lot.
    let e = err("]C110ABCDEFGHIJ1726123121SERIAL1");
    assert!(
        matches!(e, ScanError::TooLong { ref ai, found: 27, .. } if ai == "10"),
        "{e:?}"
    );
}

#[test]
fn leading_and_doubled_separators() {
    let s = ok(&format!("]C1{G}01{GTIN}10ABC{G}{G}17261231{G}"));
    assert_eq!(ais(&s), vec![("01", GTIN), ("10", "ABC"), ("17", "261231")]);
}

#[test]
fn separator_after_predefined_ai_tolerated() {
    let s = ok(&format!("]C101{GTIN}{G}17261231"));
    assert_eq!(s.expiry(), Some(day(2026, 12, 31)));
}

#[test]
fn substitute_separator() {
    for sep in ['~', '|'] {
        let cfg = ScanConfig {
            separator: sep,
            prefix: None,
        };
        let s = parse_at(
            &format!("]C1{sep}01{GTIN}10ABC{sep}17261231"),
            &cfg,
            today(),
        )
        .unwrap();
        assert_eq!(s.lot(), Some("ABC"), "{sep}");
        assert_eq!(s.expiry(), Some(day(2026, 12, 31)));
    }
}

#[test]
fn real_gs_accepted_alongside_substitute() {
    let cfg = ScanConfig {
        separator: '~',
        prefix: None,
    };
    let s = parse_at(&format!("]C110ABC{G}21X~30"), &cfg, today());
    // "30" with no value after the last separator.
    assert!(matches!(s, Err(ScanError::TooShort { ref ai, .. }) if ai == "30"));
    let s = parse_at(&format!("]C110ABC{G}21X~3012"), &cfg, today()).unwrap();
    assert_eq!(ais(&s), vec![("10", "ABC"), ("21", "X"), ("30", "12")]);
}

#[test]
fn fixed_length_outside_predefined_table_needs_separator() {
    let s = ok(&format!("]C1422276{G}10LOT"));
    assert_eq!(ais(&s), vec![("422", "276"), ("10", "LOT")]);
    // Without the separator the next AI is run into the country code.
    assert_eq!(
        err("]C142227610LOT").to_string(),
        "AI (422) data is too long (8 digits, exactly 3) — a missing separator after it?"
    );
    assert_eq!(
        err("]C142227").to_string(),
        "AI (422) needs 3 digits, found 2 before the end of the scan"
    );
    let s = ok(&format!("]C1426276{G}7006250601"));
    assert_eq!(s.get("7006").unwrap().date, Some(day(2025, 6, 1)));
}

#[test]
fn trailing_cr_lf_stripped() {
    let s = ok(&format!("]C101{GTIN}10ABC\r\n"));
    assert_eq!(s.lot(), Some("ABC"));
    let s = ok("R25324-007\r");
    assert_eq!(
        s,
        Scan::Plain {
            symbology: None,
            text: "R25324-007".into()
        }
    );
}

#[test]
fn configured_prefix_stripped() {
    let cfg = ScanConfig {
        prefix: Some("@@".into()),
        ..ScanConfig::default()
    };
    let s = parse_at(&format!("@@]C101{GTIN}\n"), &cfg, today()).unwrap();
    assert_eq!(s.gtin(), Some(GTIN));
    // A scan without the prefix still parses.
    let s = parse_at("]C0R25324-007", &cfg, today()).unwrap();
    assert_eq!(
        s,
        Scan::Plain {
            symbology: Some(Symbology::Code128),
            text: "R25324-007".into()
        }
    );
}

#[test]
fn leading_gs_without_aim_id_is_gs1() {
    let s = ok(&format!("{G}01{GTIN}10ABC"));
    assert_eq!(s.symbology(), None);
    assert_eq!(s.lot(), Some("ABC"));
}

// ---------------------------------------------------------------- symbologies

#[test]
fn gs1_symbology_identifiers() {
    let cases = [
        ("]C1", Symbology::Gs1_128),
        ("]d2", Symbology::Gs1DataMatrix),
        ("]Q3", Symbology::Gs1Qr),
        ("]e0", Symbology::Gs1DataBar),
    ];
    for (id, sym) in cases {
        let s = ok(&format!("{id}01{GTIN}"));
        assert_eq!(s.symbology(), Some(&sym));
        assert_eq!(s.gtin(), Some(GTIN));
        assert!(sym.is_gs1());
        assert_eq!(sym.aim_id(), id);
    }
}

#[test]
fn plain_symbology_identifiers() {
    let cases = [
        ("]C0", Symbology::Code128),
        ("]d1", Symbology::DataMatrix),
        ("]Q1", Symbology::Qr),
        ("]E0", Symbology::Other("]E0".into())),
        ("]X9", Symbology::Other("]X9".into())),
    ];
    for (id, sym) in cases {
        let s = ok(&format!("{id}R25324-007"));
        assert_eq!(
            s,
            Scan::Plain {
                symbology: Some(sym.clone()),
                text: "R25324-007".into()
            }
        );
        assert!(!sym.is_gs1());
        assert_eq!(sym.aim_id(), id);
    }
}

#[test]
fn element_string_digits_without_gs1_identifier_are_plain() {
    let s = ok(&format!("]C001{GTIN}"));
    assert_eq!(
        s,
        Scan::Plain {
            symbology: Some(Symbology::Code128),
            text: format!("01{GTIN}")
        }
    );
}

/// No identifier at all: bare element strings are GS1 when they read completely, from
/// their first AI, with a key whose check digit is right; anything else is a lot code.
#[test]
fn bare_element_strings_without_any_identifier() {
    let s = ok(&format!("01{GTIN}"));
    assert_eq!((s.symbology(), s.gtin()), (None, Some(GTIN)));
    let s = ok(&format!("01{GTIN}10ABC{G}17261130"));
    assert_eq!(s.lot(), Some("ABC"));
    assert_eq!(s.expiry(), Some(day(2026, 11, 30)));
    // The same with the separator the scanner is set to.
    let cfg = ScanConfig {
        separator: '~',
        ..ScanConfig::default()
    };
    let s = parse_at(&format!("01{GTIN}10ABC~17261130"), &cfg, today()).unwrap();
    assert_eq!(s.lot(), Some("ABC"));
    for text in [
        // A wrong check digit: not a GTIN, so a code someone typed.
        "0100614141000037",
        // No key: a lot code that happens to start with an AI.
        "10ABC",
        "17261130",
        // Does not read completely.
        "0100614141000036XYZ",
        "12345",
        "R26305-001",
    ] {
        assert!(
            matches!(
                ok(text),
                Scan::Plain {
                    symbology: None,
                    ..
                }
            ),
            "{text} is plain"
        );
    }
}

#[test]
fn human_readable_recognised_under_any_symbology() {
    for id in ["", "]C0", "]Q1", "]E0", "]C1"] {
        let s = ok(&format!("{id}(01){GTIN}(10)ABC"));
        assert_eq!(s.gtin(), Some(GTIN), "{id}");
        assert_eq!(s.lot(), Some("ABC"));
    }
}

#[test]
fn from_aim_id() {
    assert_eq!(Symbology::from_aim_id("]C1"), Some(Symbology::Gs1_128));
    assert_eq!(Symbology::from_aim_id("]C"), None);
    assert_eq!(Symbology::from_aim_id("]C10"), None);
    assert_eq!(Symbology::from_aim_id("]1C"), None);
    assert_eq!(Symbology::from_aim_id("]é1"), None);
}

#[test]
fn bracket_that_is_not_an_aim_id_is_text() {
    let s = ok("]é1abc");
    assert_eq!(
        s,
        Scan::Plain {
            symbology: None,
            text: "]é1abc".into()
        }
    );
}

// ---------------------------------------------------------------- plain & empty

#[test]
fn plain_lot_code() {
    let s = ok("  R25324-007  ");
    assert_eq!(
        s,
        Scan::Plain {
            symbology: None,
            text: "R25324-007".into()
        }
    );
    assert_eq!(s.gtin(), None);
    assert_eq!(s.get("10"), None);
    assert!(s.elements().is_empty());
}

#[test]
fn empty_inputs() {
    for input in ["", "\r\n", "   ", "]C0", "]C0  \r\n"] {
        assert_eq!(err(input), ScanError::Empty, "{input:?}");
    }
    assert_eq!(err(G), ScanError::Empty);
    assert_eq!(
        err("]C1").to_string(),
        "The scan has the GS1 symbology identifier ]C1 but no data after it"
    );
    assert_eq!(
        err(&format!("]d2{G}{G}")),
        ScanError::NoGs1Data {
            aim_id: "]d2".into()
        }
    );
}

// ---------------------------------------------------------------- AI errors

#[test]
fn unknown_ai() {
    let e = err("]C12712345");
    assert_eq!(e, ScanError::UnknownAi { ai: "27".into() });
    assert_eq!(e.to_string(), "AI (27) is not a GS1 Application Identifier");
    // Named as far as it is certainly unknown: 80nn AIs exist, 809n do not.
    assert_eq!(
        err(&format!("]C101{GTIN}8099123")),
        ScanError::UnknownAi { ai: "809".into() }
    );
}

#[test]
fn truncated_ai() {
    let e = err(&format!("]C101{GTIN}31"));
    assert_eq!(
        e,
        ScanError::TruncatedAi {
            digits: "31".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "The scan ends in the middle of an Application Identifier (31)"
    );
    assert_eq!(
        err(&format!("]C101{GTIN}3")),
        ScanError::TruncatedAi { digits: "3".into() }
    );
}

#[test]
fn expected_ai() {
    let e = err("]C1ABC");
    assert_eq!(e, ScanError::ExpectedAi { found: 'A' });
    assert_eq!(
        e.to_string(),
        "GS1 data should continue with an Application Identifier (digits), but found 'A'"
    );
}

#[test]
fn duplicate_ai() {
    let e = err(&format!("]C110ABC{G}10XYZ"));
    assert_eq!(
        e.to_string(),
        "AI (10) appears twice with different values (ABC and XYZ)"
    );
    // An identical repeat is kept once.
    let s = ok(&format!("]C101{GTIN}10ABC{G}01{GTIN}"));
    assert_eq!(ais(&s), vec![("01", GTIN), ("10", "ABC")]);
}

#[test]
fn pairing_rules() {
    let e = err(&format!("]C101{GTIN}3712"));
    assert_eq!(e, ScanError::Pairing(PairingRule::CountWithGtin));
    assert_eq!(
        e.to_string(),
        "AI (37) counts the trade items inside a logistic unit and is only used with AI (02), not with AI (01)"
    );
    assert_eq!(
        err(&format!("]C102{GTIN_CASE}")).to_string(),
        "AI (02) needs AI (37) with the number of trade items contained"
    );
    assert_eq!(
        err("]C13712").to_string(),
        "AI (37) is only used together with AI (02), which is missing"
    );
    assert_eq!(
        err(&format!("]C101{GTIN}02{GTIN_CASE}3712")).to_string(),
        "AI (01) and AI (02) cannot both appear in one scan"
    );
}

// ---------------------------------------------------------------- human-readable

#[test]
fn human_readable() {
    let s = ok(&format!("(01){GTIN}(10)ABC123(17)261231"));
    assert_eq!(s.symbology(), None);
    assert_eq!(
        ais(&s),
        vec![("01", GTIN), ("10", "ABC123"), ("17", "261231")]
    );
    assert_eq!(s.expiry(), Some(day(2026, 12, 31)));
}

#[test]
fn human_readable_with_whitespace() {
    let s = ok(&format!("  (01) {GTIN}  (10) ABC123\t(3103)000500 \r\n"));
    assert_eq!(s.lot(), Some("ABC123"));
    assert_eq!(s.net_weight(), Some(("0.500".to_owned(), "kg")));
}

#[test]
fn human_readable_keeps_parentheses_inside_values() {
    let s = ok("(10)A(B)C(21)X(1)");
    assert_eq!(s.lot(), Some("A(B)C"));
    assert_eq!(s.serial(), Some("X(1)"));
}

#[test]
fn human_readable_errors() {
    assert_eq!(
        err(&format!("(01){}(10)A", &GTIN[..13])).to_string(),
        "AI (01) needs 14 digits, found 13 before the next AI"
    );
    assert_eq!(
        err(&format!("(01){GTIN}(10)")).to_string(),
        "AI (10) needs at least 1 character, found 0 before the end of the scan"
    );
    assert_eq!(
        err(&format!("(10){}", "B".repeat(21))).to_string(),
        "AI (10) data is too long (21 characters, at most 20)"
    );
    assert_eq!(err("(27)123"), ScanError::UnknownAi { ai: "27".into() });
    assert!(matches!(err("(17)261301"), ScanError::InvalidDate { .. }));
    assert!(matches!(
        err("(02)10614141000002"),
        ScanError::Pairing(PairingRule::ContentWithoutCount)
    ));
}

// ---------------------------------------------------------------- Digital Link

#[test]
fn digital_link_basic() {
    let s = ok("https://id.gs1.org/01/09501101530003/10/ABC123?17=261231&3103=000500");
    assert_eq!(s.symbology(), None);
    assert_eq!(
        ais(&s),
        vec![
            ("01", GTIN),
            ("10", "ABC123"),
            ("17", "261231"),
            ("3103", "000500")
        ]
    );
    assert_eq!(s.expiry(), Some(day(2026, 12, 31)));
    assert_eq!(s.net_weight(), Some(("0.500".to_owned(), "kg")));
}

#[test]
fn digital_link_in_plain_qr() {
    let s = ok(&format!("]Q1https://id.gs1.org/01/{GTIN}/21/S1"));
    assert_eq!(s.symbology(), Some(&Symbology::Qr));
    assert_eq!(s.serial(), Some("S1"));
}

#[test]
fn digital_link_with_path_prefix_and_other_domain() {
    let s = ok(&format!("https://example.com/foo/01/{GTIN}/10/L1"));
    assert_eq!(s.gtin(), Some(GTIN));
    assert_eq!(s.lot(), Some("L1"));
    // A prefix that itself contains "01" before the real key.
    let s = ok(&format!(
        "http://brand.example/01/shop/01/{GTIN}/22/V1/10/L1/21/S1"
    ));
    assert_eq!(
        ais(&s),
        vec![("01", GTIN), ("22", "V1"), ("10", "L1"), ("21", "S1")]
    );
}

#[test]
fn digital_link_case_insensitive_scheme_and_host() {
    let s = ok(&format!("HTTPS://ID.GS1.ORG/01/{GTIN}"));
    assert_eq!(s.gtin(), Some(GTIN));
}

#[test]
fn digital_link_short_gtins_padded() {
    let cases = [
        ("96385074", "00000096385074"),
        ("036000291452", "00036000291452"),
        ("9501101530003", GTIN),
        (GTIN, GTIN),
    ];
    for (raw, want) in cases {
        let s = ok(&format!("https://id.gs1.org/01/{raw}"));
        assert_eq!(s.gtin(), Some(want), "{raw}");
    }
}

#[test]
fn digital_link_gtin_wrong_length_or_check() {
    let e = err("https://id.gs1.org/01/0950110153");
    assert_eq!(e, ScanError::DigitalLinkGtinLength { found: 10 });
    assert_eq!(
        e.to_string(),
        "AI (01) in a Digital Link needs 8, 12, 13 or 14 digits, found 10"
    );
    assert!(matches!(
        err("https://id.gs1.org/01/036000291453"),
        ScanError::CheckDigit {
            expected: 2,
            found: 3,
            ..
        }
    ));
}

#[test]
fn digital_link_percent_encoding() {
    let s = ok(&format!(
        "https://id.gs1.org/01/{GTIN}/10/AB%2F12%21/21/x%2By+z"
    ));
    assert_eq!(s.lot(), Some("AB/12!"));
    // '+' is literal in Digital Link, and legal in CSET 82.
    assert_eq!(s.serial(), Some("x+y+z"));
    let e = err(&format!("https://id.gs1.org/01/{GTIN}/10/AB%2"));
    assert_eq!(
        e.to_string(),
        "AI (10) in the Digital Link URI has broken percent-encoding"
    );
    assert!(matches!(
        err(&format!("https://id.gs1.org/01/{GTIN}/10/%FF")),
        ScanError::PercentEncoding { .. }
    ));
    assert_eq!(
        err(&format!("https://id.gs1.org/01/{GTIN}/10/A%20B")),
        ScanError::InvalidCharacter {
            ai: "10".into(),
            found: ' ',
            separator_hint: false
        }
    );
}

#[test]
fn digital_link_query_ignores_non_ai_params() {
    let s = ok(&format!(
        "https://id.gs1.org/01/{GTIN}?linkType=gs1:pip&15=270100&lang=en&&x&11=250101#frag"
    ));
    assert_eq!(
        ais(&s),
        vec![("01", GTIN), ("15", "270100"), ("11", "250101")]
    );
    assert_eq!(s.expiry(), Some(day(2027, 1, 31)));
}

#[test]
fn digital_link_query_errors() {
    assert_eq!(
        err(&format!("https://id.gs1.org/01/{GTIN}?17=261332")).to_string(),
        "AI (17) date 261332 is not a date (month 13)"
    );
    assert_eq!(
        err(&format!("https://id.gs1.org/01/{GTIN}?17=2612")).to_string(),
        "AI (17) needs 6 digits, found 4 in the Digital Link URI"
    );
    assert_eq!(
        err(&format!("https://id.gs1.org/01/{GTIN}?27=1")),
        ScanError::UnknownAi { ai: "27".into() }
    );
    // A key qualifier belongs in the path; GS1 does not let it be a data attribute.
    assert_eq!(
        err(&format!("https://id.gs1.org/01/{GTIN}?21=X")).to_string(),
        "AI (21) cannot be a Digital Link data attribute (?21=…); only the path may carry it"
    );
    assert!(matches!(
        err(&format!("https://id.gs1.org/01/{GTIN}/10/A?10=B")),
        ScanError::DuplicateAi { .. }
    ));
}

#[test]
fn digital_link_sscc_and_gln_keys() {
    let s = ok(&format!(
        "https://example.org/00/{SSCC}?02={GTIN_CASE}&37=10"
    ));
    assert_eq!(s.sscc(), Some(SSCC));
    assert_eq!(s.count(), Some(10));
    let s = ok(&format!("https://example.org/414/{GLN}/254/DOCK-3"));
    assert_eq!(ais(&s), vec![("414", GLN), ("254", "DOCK-3")]);
}

#[test]
fn digital_link_bad_path_structure() {
    assert_eq!(
        err(&format!("https://id.gs1.org/01/{GTIN}/99/x")).to_string(),
        "The Digital Link URI is not valid: path segment '99' is not a key qualifier allowed after AI (01) (allowed, in this order: 22, 10, 21 or 235)"
    );
    assert_eq!(
        err(&format!("https://id.gs1.org/01/{GTIN}/10")).to_string(),
        "The Digital Link URI is not valid: path segment '10' after AI (01) has no value"
    );
    assert!(matches!(
        err(&format!("https://id.gs1.org/00/{SSCC}/10/L")),
        ScanError::DigitalLink { .. }
    ));
}

#[test]
fn ordinary_url_is_plain() {
    for url in [
        "https://example.com/about",
        "https://example.com/2024/01/05/news",
        "http://example.com",
        "https://example.com/01/",
    ] {
        assert_eq!(
            ok(url),
            Scan::Plain {
                symbology: None,
                text: url.into()
            }
        );
    }
}

// ---------------------------------------------------------------- robustness

#[test]
fn huge_inputs_do_not_panic() {
    let long_lot = format!("]C110{}", "A".repeat(1_000_000));
    assert!(matches!(
        p(&long_lot),
        Err(ScanError::TooLong {
            found: 1_000_000,
            ..
        })
    ));
    let repeated = format!("]C1{}", format!("01{GTIN}").repeat(50_000));
    assert_eq!(ais(&ok(&repeated)), vec![("01", GTIN)]);
    let parens = "(".repeat(200_000);
    assert!(matches!(p(&parens), Ok(Scan::Plain { .. })));
    let hri = format!("(10){}", "(1".repeat(100_000));
    assert!(p(&hri).is_err());
}

#[test]
fn odd_unicode_does_not_panic() {
    for input in [
        "]",
        "]C",
        "]C1\u{1d}",
        "]C1€",
        "]C10€",
        "]C101€",
        "(01)€",
        "(€)",
        "https://€",
        "https://x/01/€€€€€€€€",
        "https://x/01/12345678/%",
        "\u{0}",
        "]d2\u{1d}10\u{1d}",
        "🙂🙂🙂",
        "]C1(",
        "(0",
        "(01",
        "(01)",
    ] {
        let _ = p(input);
        let _ = parse(input, &ScanConfig::default());
    }
}

#[test]
fn parse_uses_today() {
    // Far-future and far-past YY both resolve within ±50 years of now.
    let s = parse(&format!("]C101{GTIN}17261231"), &ScanConfig::default()).unwrap();
    let y = chrono::Datelike::year(&s.expiry().unwrap());
    assert!(y == 2026 || y == 2126 || y == 1926, "{y}");
}
