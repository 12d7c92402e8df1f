//! Every AI of the dictionary parses a value built from its own specification, in each
//! form a scanner sends, and each of the dictionary's checks refuses a value that breaks it.

use chrono::NaiveDate;

use super::dictionary::{self, AiDef, Cset, Lint, Part};
use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 15).unwrap()
}

/// GS1's own example GMN, with its check character pair.
const GMN: &str = "1987654Ad4X4bL5ttr2310c2K";
/// The textbook IBAN.
const IBAN: &str = "GB82WEST12345698765432";

/// A valid value for one component.
fn part_sample(part: &Part) -> String {
    let len = part.min.max(part.max.min(6));
    let lints = part.lints;
    let has = |l: Lint| lints.contains(&l);
    let fixed = [
        (Lint::Yymmd0, "250600"),
        (Lint::Yymmdd, "250615"),
        (Lint::Yyyymmdd, "20250615"),
        (Lint::Hhmi, "1230"),
        (Lint::Hh, "12"),
        (Lint::Mi, "30"),
        (Lint::Ss, "45"),
        (Lint::Iso3166, "276"),
        (Lint::Iso3166999, "999"),
        (Lint::Iso3166alpha2, "DE"),
        (Lint::Iso4217, "978"),
        (Lint::Iso5218, "2"),
        (Lint::Yesno, "1"),
        (Lint::Hyphen, "-"),
        (Lint::Zero, "0"),
        (Lint::Winding, "9"),
        (Lint::Pieceoftotal, "0203"),
        (Lint::Iban, IBAN),
        (Lint::Latitude, "0450000000"),
        (Lint::Longitude, "3600000000"),
        (Lint::Importeridx, "_"),
        (Lint::Packagetype, "BX"),
        (Lint::Mediatype, "09"),
        (Lint::Posinseqslash, "1/2"),
        (Lint::Csumalpha, GMN),
        (Lint::Couponcode, "0614141123452"),
        (Lint::Couponposoffer, "006141411234560123456"),
    ];
    if let Some((_, v)) = fixed.iter().find(|(l, _)| has(*l)) {
        return (*v).to_owned();
    }
    let mut v: String = match part.cset {
        Cset::Numeric => "123456789".chars().cycle().take(len).collect(),
        Cset::Cset82 | Cset::Cset39 | Cset::Base64Url if has(Lint::Pcenc) => "A%20B"
            .chars()
            .chain("C".chars().cycle())
            .take(len.max(5))
            .collect(),
        Cset::Cset82 | Cset::Cset39 => "1234ABC"
            .chars()
            .chain("D".chars().cycle())
            .take(len)
            .collect(),
        Cset::Base64Url => "ab-_Z9".chars().cycle().take(len).collect(),
    };
    if has(Lint::Csum) {
        v.truncate(len - 1);
        let check = gs1_check_digit(&v).unwrap();
        v.push(char::from(b'0' + check));
    }
    v
}

fn sample(def: &AiDef) -> String {
    def.parts.iter().map(part_sample).collect()
}

/// What some AIs need beside them in one scan: lotline's (02)/(37) rule, or a key's own
/// requisite.
fn partner(ai: &str) -> Option<(&'static str, &'static str)> {
    match ai {
        "02" | "8026" => Some(("37", "12")),
        "37" => Some(("02", "10614141000002")),
        "415" => Some(("8020", "REF-1")),
        _ => None,
    }
}

#[test]
fn every_ai_parses_a_sample_in_every_form() {
    let cfg = ScanConfig::default();
    for def in dictionary::all() {
        let value = sample(def);
        let (es, hri) = match partner(def.ai) {
            Some((ai, v)) => (format!("{GS}{ai}{v}"), format!("({ai}){v}")),
            None => (String::new(), String::new()),
        };
        let mut forms = vec![
            format!("]C1{}{value}{es}", def.ai),
            format!("]d2{}{value}{es}", def.ai),
            format!("({}){value}{hri}", def.ai),
        ];
        let enc = value.replace('%', "%25").replace('/', "%2F");
        if def.dl_primary.is_some() {
            forms.push(format!("https://id.gs1.org/{}/{enc}", def.ai));
        } else if def.dl_attribute && partner(def.ai).is_none() {
            forms.push(format!(
                "https://id.gs1.org/01/09501101530003?{}={enc}",
                def.ai
            ));
        }
        for form in forms {
            let scan = parse_at(&form, &cfg, today());
            let scan = match (scan, def.ai) {
                // Beside the path's GTIN the dictionary's pairing rules apply in full;
                // the differential test (tests/it/gs1_diff) gives each AI its requisites.
                (Err(ScanError::Excluded { .. } | ScanError::Requires { .. }), _)
                    if form.starts_with("https") =>
                {
                    continue;
                }
                (Ok(s), _) => s,
                (Err(e), _) => panic!("AI ({}) sample {form:?}: {e}", def.ai),
            };
            let got = scan.get(def.ai).map(|e| e.value.as_str());
            assert_eq!(got, Some(value.as_str()), "AI ({}) in {form:?}", def.ai);
            assert!(!ai_title(def.ai).is_empty(), "AI ({}) has no title", def.ai);
        }
    }
}

#[test]
fn dates_and_decimals_beyond_the_ones_lotline_uses() {
    let s = parse_at(
        &format!("]C101095011015300037007250615250620{GS}70032506151230{GS}91ABC"),
        &ScanConfig::default(),
        today(),
    );
    let s = s.unwrap_or_else(|e| panic!("{e}"));
    let e = s.get("7007").unwrap();
    assert_eq!(e.value, "250615250620");
    assert_eq!(e.date, NaiveDate::from_ymd_opt(2025, 6, 15));
    let s = parse_at(
        &format!("]C1010950110153000331030005003932978001995{GS}91X"),
        &ScanConfig::default(),
        today(),
    );
    let s = s.unwrap_or_else(|e| panic!("{e}"));
    let price = s.get("3932").unwrap();
    assert_eq!(price.decimal.as_deref(), Some("19.95"));
    // Fewer digits than decimal places: the leading zeros were left out.
    let s = parse_at(
        &format!("]C1010950110153000331030005003926304{GS}91X"),
        &ScanConfig::default(),
        today(),
    );
    let s = s.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        s.get("3926").and_then(|e| e.decimal.as_deref()),
        Some("0.000304")
    );
}

fn error(input: &str) -> String {
    match parse_at(input, &ScanConfig::default(), today()) {
        Ok(s) => panic!("{input:?} parsed as {s:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn each_check_refuses_what_breaks_it() {
    let gtin = "]C10109501101530003";
    for (input, message) in [
        (
            format!("{gtin}422999"),
            "AI (422) value 999 is not valid: 999 is not an ISO 3166 country code",
        ),
        (
            format!("{gtin}3912000100"),
            "AI (3912) value 000100 is not valid: 000 is not an ISO 4217 currency code",
        ),
        (
            format!("{gtin}70032506152460"),
            "AI (7003) value 2506152460 is not valid: 24 is not a valid hour (00 to 23)",
        ),
        (
            format!("{gtin}7006250600"),
            "AI (7006) date 250600 is not a date (day 00 is not allowed for this AI)",
        ),
        (
            format!("{gtin}80132987654Ad4X4bL5ttr2310c2K"),
            "AI (8013) value 2987654Ad4X4bL5ttr2310c2K is not valid: 2987654Ad4X4bL5ttr2310c2K should end in the check characters 56",
        ),
        (
            format!("{gtin}7007250615250"),
            "AI (7007) value 250615250 is not valid: part 2 needs 6 characters, found 3",
        ),
        (
            format!("{gtin}8007GB82WEST12345698765433"),
            "AI (8007) value GB82WEST12345698765433 is not valid: GB82WEST12345698765433 is not a valid IBAN",
        ),
        (
            format!("{gtin}4321{GS}0037"),
            "AI (4321) needs 1 digit, found 0 before a separator",
        ),
        (
            "]C10010614141123456789743213".to_owned(),
            "AI (4321) value 3 is not valid: 3 is not 0 (no) or 1 (yes)",
        ),
        (
            format!("{gtin}8006{}", "095011015300030102"),
            "AI (8006) cannot appear together with AI (01) in one scan",
        ),
        (
            format!("{gtin}2501"),
            "AI (250) is used only together with (01) with (21) or (03) with (21) or (8006) with (21), which this scan lacks",
        ),
        (
            format!("{gtin}3100000100{GS}3101000010"),
            "AI (3100) cannot appear together with AI (3101) in one scan",
        ),
        (
            "]C12531234567890122".to_owned(),
            "AI (253) GDTI 1234567890122 has check digit 2, but it should be 8",
        ),
    ] {
        assert_eq!(error(&input), message, "{input:?}");
    }
}

/// GS1 weighs pairing rules over every barcode on the item: a batch or a ship-to address
/// printed on its own symbol is read, not refused for the key printed on another.
#[test]
fn requisites_on_another_barcode_are_not_refused() {
    let cfg = ScanConfig::default();
    for input in [
        "]C110ABC",
        "]C14300ACME%20FOODS",
        "]C1420123456",
        "(7007)250615",
    ] {
        assert!(parse_at(input, &cfg, today()).is_ok(), "{input}");
    }
    // The SSCC is on its own barcode at the bottom of a logistic label.
    assert!(
        parse_at(
            &format!("]C10210614141000002{GS}3712{GS}4300ACME"),
            &cfg,
            today()
        )
        .is_ok()
    );
}
