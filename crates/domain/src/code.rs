//! Identifiers people type and scan: item codes, party ids, lot codes, GTINs, GLNs,
//! reference documents, and the business dates events carry.

use super::Invalid;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest code we accept. GS1 AI (10) holds 20: a longer lot code still works everywhere,
/// but its label carries it as plain Code 128 instead of in a GS1-128 barcode.
pub const MAX_CODE_LEN: usize = 40;

/// Check a code: 1–40 printable characters, no spaces, stored upper-case so that
/// `flour-01` typed and `FLOUR-01` scanned are the same thing.
fn normalise_code(text: &str, field: &str, what: &str) -> Result<String, Invalid> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Invalid::new(
            field,
            format!("{what} is empty; type a code such as FLOUR-01"),
        ));
    }
    if t.chars().count() > MAX_CODE_LEN {
        return Err(Invalid::new(
            field,
            format!(
                "{} is longer than {MAX_CODE_LEN} characters",
                crate::text::excerpt(t)
            ),
        ));
    }
    if let Some(c) = t
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')))
    {
        return Err(Invalid::new(
            field,
            format!(
                "{} contains {c:?}; codes use only the letters A to Z, digits and - _ . /",
                crate::text::excerpt(t)
            ),
        ));
    }
    Ok(t.to_ascii_uppercase())
}

macro_rules! code_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = Invalid;
            fn try_from(s: String) -> Result<Self, Invalid> {
                $name::parse(&s, $what)
            }
        }

        impl From<$name> for String {
            fn from(c: $name) -> String {
                c.0
            }
        }

        impl $name {
            /// Validate text typed for `field`.
            pub fn parse(text: &str, field: &str) -> Result<Self, Invalid> {
                normalise_code(text, field, $what).map($name)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }
    };
}

code_type!(
    /// Our code for an item in the product master, e.g. `FLOUR-AP`.
    ItemCode,
    "item code"
);
code_type!(
    /// Our id for a supplier or customer, e.g. `MILLCO`.
    PartyId,
    "party id"
);
code_type!(
    /// The code printed on our lot label, e.g. `R25324-007`.
    LotCode,
    "lot code"
);

/// The supplier's own lot code: the FSMA traceability lot code of a received lot.
///
/// Kept exactly as the supplier printed it (case and all) because it is their identifier,
/// and a recall notice will quote it verbatim.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
// Checked whenever one is decoded, so a request from any front end (or a damaged record)
// cannot carry a value the parser would refuse.
#[serde(try_from = "String", into = "String")]
pub struct SupplierLot(String);

impl TryFrom<String> for SupplierLot {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        SupplierLot::parse(&s, "supplier lot")
    }
}

impl From<SupplierLot> for String {
    fn from(c: SupplierLot) -> String {
        c.0
    }
}

impl SupplierLot {
    pub fn parse(text: &str, field: &str) -> Result<Self, Invalid> {
        let t = text.trim();
        if t.is_empty() {
            return Err(Invalid::new(
                field,
                "is empty; type the lot code printed on the supplier's label",
            ));
        }
        if t.chars().count() > MAX_CODE_LEN {
            return Err(Invalid::new(
                field,
                format!(
                    "{} is longer than {MAX_CODE_LEN} characters",
                    crate::text::excerpt(t)
                ),
            ));
        }
        if t.chars().any(super::text::is_unsafe) {
            return Err(Invalid::new(
                field,
                "contains control or invisible characters; a scanner separator may have been read as data",
            ));
        }
        Ok(SupplierLot(t.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SupplierLot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

/// The GS1 mod-10 check digit over the digits that precede it; `None` if `digits` is empty
/// or holds anything but ASCII digits. Weights run 3, 1, 3, … from the right, so GTIN-8/12/13/14,
/// SSCC and GLN share it.
pub fn gs1_check_digit(digits: &str) -> Option<u8> {
    if digits.is_empty() {
        return None;
    }
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        let d = (b - b'0') as u32;
        sum += if i % 2 == 0 { d * 3 } else { d };
    }
    Some(((10 - sum % 10) % 10) as u8)
}

fn gs1_number(
    text: &str,
    field: &str,
    name: &str,
    lengths: &[usize],
    out_len: usize,
) -> Result<String, Invalid> {
    let t = text.trim();
    let shown = crate::text::excerpt(t);
    if let Some((at, c)) = t.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(Invalid::new(
            field,
            format!(
                "{shown} is not a {name}: a {name} is digits only, and character {} is {}",
                at + 1,
                crate::text::excerpt(c)
            ),
        ));
    }
    let n = t.len();
    if !lengths.contains(&n) {
        return Err(Invalid::new(
            field,
            format!(
                "{shown} is not a {name}: a {name} has {} digits, this has {n}",
                either_of(lengths)
            ),
        ));
    }
    let (body, check) = t.split_at(n - 1);
    let want = gs1_check_digit(body).unwrap_or(0);
    let got = check.as_bytes()[0] - b'0';
    if want != got {
        // Say which digit is which: the last one is the check digit, and the ones before
        // it decide what it must be.
        return Err(Invalid::new(
            field,
            format!(
                "{name} check digit: the {} digit is {got}, the first {} give {want}; check the number for a mistyped digit",
                crate::words::ordinal(n),
                crate::words::number_word(n - 1)
            ),
        ));
    }
    Ok(format!("{t:0>out_len$}"))
}

/// "13", "8, 12, 13 or 14".
fn either_of(lengths: &[usize]) -> String {
    match lengths {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(|l| l.to_string()).collect();
            format!("{} or {last}", init.join(", "))
        }
    }
}

/// A GTIN, always held as 14 digits (GTIN-8/12/13 are padded with leading zeros).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
// Checked whenever one is decoded, so a request from any front end (or a damaged record)
// cannot carry a value the parser would refuse.
#[serde(try_from = "String", into = "String")]
pub struct Gtin(String);

impl TryFrom<String> for Gtin {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        Gtin::parse(&s, "gtin")
    }
}

impl From<Gtin> for String {
    fn from(c: Gtin) -> String {
        c.0
    }
}

impl Gtin {
    pub fn parse(text: &str, field: &str) -> Result<Gtin, Invalid> {
        gs1_number(text, field, "GTIN", &[8, 12, 13, 14], 14).map(Gtin)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

/// A GS1 Global Location Number, 13 digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
// Checked whenever one is decoded, so a request from any front end (or a damaged record)
// cannot carry a value the parser would refuse.
#[serde(try_from = "String", into = "String")]
pub struct Gln(String);

impl TryFrom<String> for Gln {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        Gln::parse(&s, "gln")
    }
}

impl From<Gln> for String {
    fn from(c: Gln) -> String {
        c.0
    }
}

impl Gln {
    pub fn parse(text: &str, field: &str) -> Result<Gln, Invalid> {
        gs1_number(text, field, "GLN", &[13], 13).map(Gln)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Gln {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

/// A reference document, the FSMA KDE "reference document type and number",
/// e.g. `BOL:4471`, `PO:88123`, `WO:2211`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reference {
    pub kind: String,
    pub number: String,
}

impl Reference {
    pub fn parse(text: &str, field: &str) -> Result<Reference, Invalid> {
        let t = text.trim();
        let usage = "use TYPE:NUMBER such as BOL:4471, PO:88123 or INV:5521";
        let Some((kind, number)) = t.split_once(':') else {
            return Err(Invalid::new(
                field,
                format!("{} has no type; {usage}", crate::text::excerpt(t)),
            ));
        };
        let kind = kind.trim();
        let number = number.trim();
        if kind.is_empty()
            || kind.len() > 12
            || !kind
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Invalid::new(
                field,
                format!(
                    "{} is not a document type; {usage}",
                    crate::text::excerpt(kind)
                ),
            ));
        }
        if number.is_empty()
            || number.chars().count() > MAX_CODE_LEN
            || number.chars().any(super::text::is_unsafe)
        {
            return Err(Invalid::new(
                field,
                format!(
                    "{} is not a document number; {usage}",
                    crate::text::excerpt(number)
                ),
            ));
        }
        Ok(Reference {
            kind: kind.to_ascii_uppercase(),
            number: number.to_string(),
        })
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!("{}:{}", self.kind, self.number))
    }
}

/// Parse a date typed as `YYYY-MM-DD`, or `today` / `yesterday` relative to `today`.
pub fn parse_date(text: &str, field: &str, today: NaiveDate) -> Result<NaiveDate, Invalid> {
    let t = text.trim();
    match t.to_ascii_lowercase().as_str() {
        "today" => return Ok(today),
        "yesterday" => return Ok(today.pred_opt().unwrap_or(today)),
        _ => {}
    }
    let d = NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| {
        Invalid::new(
            field,
            format!(
                "{} is not a date; use YYYY-MM-DD (such as {today}), today or yesterday",
                crate::text::excerpt(t)
            ),
        )
    })?;
    check_year(d, field)?;
    Ok(d)
}

/// Years lotline records: 0001–9999. chrono takes year 0 and negative years, which no
/// plant record can have and which print as `0000` or `-0001` in exports.
pub fn check_year(d: NaiveDate, field: &str) -> Result<(), Invalid> {
    use chrono::Datelike;
    if !(1..=9999).contains(&d.year()) {
        return Err(Invalid::new(
            field,
            format!("{d} is not a real date; use a year from 0001 to 9999"),
        ));
    }
    Ok(())
}

/// A business date for an event that has happened: not after `today`.
pub fn parse_past_date(text: &str, field: &str, today: NaiveDate) -> Result<NaiveDate, Invalid> {
    let d = parse_date(text, field, today)?;
    check_not_future(d, field, today)?;
    Ok(d)
}

pub fn check_not_future(d: NaiveDate, field: &str, today: NaiveDate) -> Result<(), Invalid> {
    check_year(d, field)?;
    if d > today {
        return Err(Invalid::new(
            field,
            format!("{d} is in the future; record events on or before today ({today})"),
        ));
    }
    Ok(())
}

/// Free text a user types (notes, reasons, names): trimmed, bounded, no control characters.
pub fn clean_text(text: &str, field: &str, max: usize) -> Result<String, Invalid> {
    let t = text.trim();
    if t.chars().count() > max {
        return Err(Invalid::new(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    if let Some(c) = t.chars().find(|&c| super::text::is_unsafe(c)) {
        // Controls would reach a reader's terminal; bidi and zero-width characters make
        // text read as something it is not.
        return Err(Invalid::new(
            field,
            format!("contains {}; type plain text", super::text::describe(c)),
        ));
    }
    Ok(t.to_string())
}

/// Like [`clean_text`] but must not be empty (a reason for a correction, a name).
pub fn required_text(text: &str, field: &str, max: usize) -> Result<String, Invalid> {
    let t = clean_text(text, field, max)?;
    if t.is_empty() {
        return Err(Invalid::new(field, "is required"));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LotPattern;

    #[test]
    fn codes_are_upper_cased_and_checked() {
        assert_eq!(
            ItemCode::parse(" flour-ap ", "item").unwrap().as_str(),
            "FLOUR-AP"
        );
        let e = ItemCode::parse("flour ap", "item").unwrap_err();
        assert_eq!(e.field, "item");
        assert!(e.problem.contains("' '"), "{e}");
        assert!(
            LotCode::parse("", "lot")
                .unwrap_err()
                .problem
                .contains("empty")
        );
        assert!(PartyId::parse(&"X".repeat(41), "supplier").is_err());
    }

    #[test]
    fn supplier_lots_keep_their_case() {
        assert_eq!(
            SupplierLot::parse(" ab-12c ", "supplier-lot")
                .unwrap()
                .as_str(),
            "ab-12c"
        );
        assert!(SupplierLot::parse("AB\u{1d}17", "supplier-lot").is_err());
    }

    #[test]
    fn gtin_check_digits() {
        assert_eq!(gs1_check_digit("0950110153000"), Some(3));
        assert_eq!(
            Gtin::parse("09501101530003", "gtin").unwrap().as_str(),
            "09501101530003"
        );
        // GTIN-13 padded to 14
        assert_eq!(
            Gtin::parse("9501101530003", "gtin").unwrap().as_str(),
            "09501101530003"
        );
        let e = Gtin::parse("09501101530009", "gtin").unwrap_err();
        assert_eq!(
            e.problem,
            "GTIN check digit: the 14th digit is 9, the first thirteen give 3; check the number for a mistyped digit"
        );
        assert_eq!(
            Gln::parse("0614141", "gln").unwrap_err().problem,
            "'0614141' is not a GLN: a GLN has 13 digits, this has 7"
        );
        assert_eq!(
            Gln::parse("0614141000015", "gln").unwrap_err().problem,
            "GLN check digit: the 13th digit is 5, the first twelve give 2; check the number for a mistyped digit"
        );
        assert_eq!(
            Gtin::parse("1234567", "gtin").unwrap_err().problem,
            "'1234567' is not a GTIN: a GTIN has 8, 12, 13 or 14 digits, this has 7"
        );
        assert_eq!(
            Gtin::parse("0950110153000x", "gtin").unwrap_err().problem,
            "'0950110153000x' is not a GTIN: a GTIN is digits only, and character 14 is 'x'"
        );
        assert!(Gtin::parse("123", "gtin").is_err());
        assert!(Gtin::parse("0950110153000x", "gtin").is_err());
        assert_eq!(
            Gln::parse("0614141000012", "gln").unwrap().as_str(),
            "0614141000012"
        );
    }

    #[test]
    fn references_need_a_type_and_number() {
        let r = Reference::parse("bol:4471", "ref").unwrap();
        assert_eq!(r.to_string(), "BOL:4471");
        assert!(
            Reference::parse("4471", "ref")
                .unwrap_err()
                .problem
                .contains("TYPE:NUMBER")
        );
        assert!(Reference::parse("BOL:", "ref").is_err());
        assert!(Reference::parse("bill of lading:1", "ref").is_err());
    }

    #[test]
    fn dates_in_the_future_are_refused() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        assert_eq!(parse_past_date("today", "date", today).unwrap(), today);
        assert_eq!(
            parse_past_date("2026-11-20", "date", today).unwrap(),
            today.pred_opt().unwrap()
        );
        let e = parse_past_date("2026-11-22", "date", today).unwrap_err();
        assert!(e.problem.contains("in the future"), "{e}");
        let e = parse_past_date("21/11/2026", "date", today).unwrap_err();
        assert!(e.problem.contains("YYYY-MM-DD"), "{e}");
        assert!(parse_past_date("2026-02-30", "date", today).is_err());
        for bad in ["0000-01-01", "-0001-12-31", "+10000-01-01", "-2026-11-20"] {
            let e = parse_date(bad, "expiry", today).unwrap_err();
            assert_eq!(e.field, "expiry", "{bad}");
        }
        let year0 = NaiveDate::from_ymd_opt(0, 6, 1).unwrap();
        assert!(check_not_future(year0, "date", today).is_err());
        assert!(parse_date("0001-01-01", "date", today).is_ok());
    }

    #[test]
    fn decoded_codes_are_checked_like_typed_ones() {
        // The station takes requests as postcard bytes: a code must not skip its rules.
        let bytes = postcard::to_stdvec(&"BAD CODE".to_string()).unwrap();
        assert!(postcard::from_bytes::<LotCode>(&bytes).is_err());
        let bytes = postcard::to_stdvec(&"A\u{0}B".to_string()).unwrap();
        assert!(
            postcard::from_bytes::<SupplierLot>(&bytes).is_err(),
            "a NUL would corrupt the supplier-lot index"
        );
        let bytes = postcard::to_stdvec(&"r26325-001".to_string()).unwrap();
        assert_eq!(
            postcard::from_bytes::<LotCode>(&bytes).unwrap().as_str(),
            "R26325-001"
        );
        let bytes = postcard::to_stdvec(&"R{YY}".to_string()).unwrap();
        assert!(
            postcard::from_bytes::<LotPattern>(&bytes).is_err(),
            "a pattern without {{SEQ}} would never find a free code"
        );
    }
}
