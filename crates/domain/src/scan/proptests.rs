use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;

use super::*;

/// Starts that steer random data into each parser, not just the plain path.
const PREFIXES: &[&str] = &[
    "",
    "]C1",
    "]d2",
    "]Q3",
    "]e0",
    "]C0",
    "]Q1",
    "]X9",
    "\u{1d}",
    "(01)",
    "(10)",
    "https://id.gs1.org/01/",
    "https://id.gs1.org/01/09501101530003/10/",
    "https://id.gs1.org/01/09501101530003?17=",
];

fn fixed_today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 15).unwrap()
}

fn any_chars(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..max).prop_map(String::from_iter)
}

fn gs1ish_chars(max: usize) -> impl Strategy<Value = String> {
    let alphabet: Vec<char> = "0123456789012345678901234567()]\u{1d}~|ACdQeLX/?=&%.-€\r\n "
        .chars()
        .collect();
    prop::collection::vec(prop::sample::select(alphabet), 0..max).prop_map(String::from_iter)
}

fn any_today() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![
        Just(fixed_today()),
        Just(NaiveDate::MIN),
        Just(NaiveDate::MAX),
        (-100_000i32..100_000).prop_filter_map("valid year", |y| NaiveDate::from_ymd_opt(y, 1, 1)),
    ]
}

fn any_config() -> impl Strategy<Value = ScanConfig> {
    (
        prop::sample::select(vec!['\u{1d}', '~', '|', '0', '(', 'é', '\n']),
        prop::option::of(prop::sample::select(vec!["@", "]C1", "é", "("])),
    )
        .prop_map(|(separator, prefix)| ScanConfig {
            separator,
            prefix: prefix.map(str::to_owned),
        })
}

fn yymmdd(d: NaiveDate) -> String {
    format!(
        "{:02}{:02}{:02}",
        d.year().rem_euclid(100),
        d.month(),
        d.day()
    )
}

/// Independent of the parser: build the expected decimal text from the integer.
fn expected_decimal(raw: u32, places: u32) -> String {
    let scale = 10u32.pow(places);
    let (int, frac) = (raw / scale, raw % scale);
    if places == 0 {
        int.to_string()
    } else {
        format!("{int}.{frac:0width$}", width = places as usize)
    }
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn valid_date() -> impl Strategy<Value = NaiveDate> {
    // The century window around 2025-06-15 is 1976..=2075.
    (1976i32..=2075, 1u32..=12, 1u32..=31)
        .prop_filter_map("real date", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
}

crate::fuzz_tiers! {
    fast = 200, full = 2000, slow = full_count;

    #[test]
    fn never_panics_on_arbitrary_text(
        prefix in prop::sample::select(PREFIXES),
        body in any_chars(80),
        cfg in any_config(),
        today in any_today(),
    ) {
        let _ = parse_at(&format!("{prefix}{body}"), &cfg, today);
    }

    #[test]
    fn never_panics_on_gs1ish_text(
        prefix in prop::sample::select(PREFIXES),
        body in gs1ish_chars(120),
        cfg in any_config(),
        today in any_today(),
    ) {
        let _ = parse_at(&format!("{prefix}{body}"), &cfg, today);
    }

    #[test]
    fn never_panics_on_any_string(s in any::<String>()) {
        let _ = parse(&s, &ScanConfig::default());
    }

    #[test]
    fn errors_are_one_line(body in gs1ish_chars(60), prefix in prop::sample::select(PREFIXES)) {
        if let Err(e) = parse_at(&format!("{prefix}{body}"), &ScanConfig::default(), fixed_today()) {
            let msg = e.to_string();
            // Messages quote scanned data, which may hold CR/LF; the template itself must not.
            if !body.contains(['\r', '\n']) {
                prop_assert!(!msg.contains('\n'), "{msg:?}");
            }
            prop_assert!(!msg.ends_with('.'), "{msg:?}");
            prop_assert!(!msg.is_empty());
        }
    }

    #[test]
    fn check_digit_detects_any_single_digit_change(body in "[0-9]{13}", pos in 0usize..13, delta in 1u32..10) {
        let check = gs1_check_digit(&body).unwrap();
        let mut changed: Vec<char> = body.chars().collect();
        let d = (changed[pos].to_digit(10).unwrap() + delta) % 10;
        changed[pos] = char::from_digit(d, 10).unwrap();
        let changed: String = changed.into_iter().collect();
        prop_assert_ne!(gs1_check_digit(&changed).unwrap(), check);
    }

    #[test]
    fn element_string_round_trips(
        body in "[0-9]{13}",
        lot in "[!\"%&'()*+,\\-./0-9:;<=>?A-Z_a-z]{1,20}",
        date in valid_date(),
        day_zero in any::<bool>(),
        order in 0usize..6,
        leading_separator in any::<bool>(),
        sep in prop::sample::select(vec!['\u{1d}', '~', '|']),
        aim in prop::sample::select(vec!["]C1", "]d2", "]Q3", "]e0"]),
    ) {
        let gtin = format!("{body}{}", gs1_check_digit(&body).unwrap());
        let (date_text, want_date) = if day_zero {
            let last = NaiveDate::from_ymd_opt(date.year(), date.month(), 1)
                .unwrap()
                .checked_add_months(chrono::Months::new(1))
                .unwrap()
                .pred_opt()
                .unwrap();
            (format!("{}00", &yymmdd(date)[..4]), last)
        } else {
            (yymmdd(date), date)
        };
        let parts = [format!("01{gtin}"), format!("17{date_text}"), format!("10{lot}")];
        let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
        let mut encoded = String::from(aim);
        if leading_separator {
            encoded.push(sep);
        }
        for (n, &ix) in orders[order].iter().enumerate() {
            encoded.push_str(&parts[ix]);
            // Only the variable-length lot needs a separator when something follows.
            if ix == 2 && n < 2 {
                encoded.push(sep);
            }
        }
        let cfg = ScanConfig { separator: sep, prefix: None };
        let scan = parse_at(&encoded, &cfg, fixed_today()).unwrap();
        prop_assert_eq!(scan.gtin(), Some(gtin.as_str()));
        prop_assert_eq!(scan.lot(), Some(lot.as_str()));
        prop_assert_eq!(scan.expiry(), Some(want_date));
        prop_assert_eq!(scan.elements().len(), 3);
        prop_assert_eq!(scan.symbology().map(Symbology::aim_id), Some(aim.to_owned()));

        // Same data as a Digital Link.
        let uri = format!(
            "https://id.gs1.org/01/{gtin}/10/{}?17={date_text}&linkType=all",
            percent_encode(&lot)
        );
        let dl = parse_at(&uri, &ScanConfig::default(), fixed_today()).unwrap();
        prop_assert_eq!(dl.gtin(), Some(gtin.as_str()));
        prop_assert_eq!(dl.lot(), Some(lot.as_str()));
        prop_assert_eq!(dl.expiry(), Some(want_date));

        // And human-readable, unless the lot itself looks like "(nn)", which
        // that form cannot express unambiguously.
        if !lot.contains('(') {
            let hri = format!("(01){gtin}(17){date_text}(10){lot}");
            let h = parse_at(&hri, &ScanConfig::default(), fixed_today()).unwrap();
            let sorted = |s: &Scan| {
                let mut v = s.elements().to_vec();
                v.sort_by(|a, b| a.ai.cmp(&b.ai));
                v
            };
            prop_assert_eq!(sorted(&h), sorted(&scan));
            prop_assert_eq!(h.lot(), Some(lot.as_str()));
            prop_assert_eq!(h.expiry(), Some(want_date));
        }
    }

    #[test]
    fn weights_round_trip(raw in 0u32..1_000_000, places in 0u32..=5, lb in any::<bool>()) {
        let ai = format!("3{}0{places}", if lb { 2 } else { 1 });
        let scan = parse_at(&format!("]C1{ai}{raw:06}"), &ScanConfig::default(), fixed_today()).unwrap();
        let unit = if lb { "lb" } else { "kg" };
        prop_assert_eq!(scan.net_weight(), Some((expected_decimal(raw, places), unit)));
    }
}
