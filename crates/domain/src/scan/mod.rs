//! Parses what a keyboard-wedge barcode scanner types into GS1 data or plain
//! text.
//!
//! Three GS1 forms are recognised: the raw element string behind a GS1 AIM
//! symbology identifier (`]C1`, `]d2`, `]Q3`, `]e0`), the human-readable
//! bracketed form `(01)…(10)…` and GS1 Digital Link URIs. Anything else —
//! notably lotline's own lot codes on plain Code 128 — comes back as
//! [`Scan::Plain`], so one scan field can take both.
//!
//! Depends only on `domain` (for the GS1 check digit), as docs/architecture.md says.

mod ai;
mod dictionary;
mod digital_link;
mod element_string;
mod error;
mod hri;
mod lint;
mod symbology;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod samples;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize, Serializer};

pub use self::error::{Boundary, PairingRule, ScanError};
pub use self::symbology::Symbology;
pub use crate::gs1_check_digit;

/// ASCII 29, what scanners send for FNC1 unless told otherwise.
pub const GS: char = '\u{1d}';

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScanConfig {
    /// The character the scanner sends for FNC1. Some scanners cannot send
    /// ASCII 29 through a keyboard wedge and are set to `~` or `|` instead.
    /// ASCII 29 itself is always accepted as well.
    pub separator: char,
    /// A prefix the scanner is configured to send before each scan.
    pub prefix: Option<String>,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            separator: GS,
            prefix: None,
        }
    }
}

/// One Application Identifier with its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Element {
    pub ai: String,
    /// The value exactly as encoded (GTINs from a Digital Link padded to 14 digits).
    pub value: String,
    /// For date AIs; DD=00 is resolved to the last day of the month.
    #[serde(serialize_with = "serialize_date")]
    pub date: Option<NaiveDate>,
    /// For 310n/320n: exact decimal text such as "12.345", never a float.
    pub decimal: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scan {
    Gs1 {
        symbology: Option<Symbology>,
        elements: Vec<Element>,
    },
    Plain {
        symbology: Option<Symbology>,
        text: String,
    },
}

impl Scan {
    pub fn symbology(&self) -> Option<&Symbology> {
        match self {
            Scan::Gs1 { symbology, .. } | Scan::Plain { symbology, .. } => symbology.as_ref(),
        }
    }

    /// The GS1 elements in scan order; empty for plain text.
    pub fn elements(&self) -> &[Element] {
        match self {
            Scan::Gs1 { elements, .. } => elements,
            Scan::Plain { .. } => &[],
        }
    }

    pub fn get(&self, ai: &str) -> Option<&Element> {
        self.elements().iter().find(|e| e.ai == ai)
    }

    fn value(&self, ai: &str) -> Option<&str> {
        self.get(ai).map(|e| e.value.as_str())
    }

    /// GTIN of the item (01), or of the items contained in a logistic unit (02).
    pub fn gtin(&self) -> Option<&str> {
        self.value("01").or_else(|| self.value("02"))
    }

    pub fn lot(&self) -> Option<&str> {
        self.value("10")
    }

    pub fn serial(&self) -> Option<&str> {
        self.value("21")
    }

    pub fn sscc(&self) -> Option<&str> {
        self.value("00")
    }

    /// Expiry date (17), falling back to best-before (15).
    pub fn expiry(&self) -> Option<NaiveDate> {
        self.get("17")
            .or_else(|| self.get("15"))
            .and_then(|e| e.date)
    }

    pub fn production_date(&self) -> Option<NaiveDate> {
        self.get("11").and_then(|e| e.date)
    }

    /// Count of trade items (37).
    pub fn count(&self) -> Option<u64> {
        self.value("37").and_then(|v| v.parse().ok())
    }

    /// Net weight as exact decimal text with its unit: 310n in kg, else 320n in lb.
    pub fn net_weight(&self) -> Option<(String, &'static str)> {
        let find = |family: &str, unit: &'static str| {
            self.elements()
                .iter()
                .find(|e| e.ai.len() == 4 && e.ai.starts_with(family))
                .and_then(|e| e.decimal.clone())
                .map(|d| (d, unit))
        };
        find("310", "kg").or_else(|| find("320", "lb"))
    }
}

/// The AIs the receive form fills its fields from: the GTIN (item), the lot, the expiry or
/// best-before date, the count or net weight (quantity), the supplier's GLN and the lot
/// code's source. Every other element of a supplier's label is kept with the receipt.
pub fn fills_receipt(ai: &str) -> bool {
    matches!(ai, "01" | "02" | "10" | "15" | "17" | "37" | "412" | "416")
        || (ai.len() == 4 && (ai.starts_with("310") || ai.starts_with("320")))
}

impl Scan {
    /// The elements the receive form does not take, to keep with the receipt.
    pub fn kept(&self) -> Vec<crate::LabelElement> {
        self.elements()
            .iter()
            .filter(|e| !fills_receipt(&e.ai))
            .map(|e| crate::LabelElement {
                ai: e.ai.clone(),
                value: e.value.clone(),
            })
            .collect()
    }
}

/// Checks one element string given as AI and value (kept label data sent by a client):
/// a GS1 AI and a value valid for it. `today` decides two-digit centuries.
pub fn check_element(ai: &str, value: &str, today: NaiveDate) -> Result<Element, ScanError> {
    let def = ai::lookup(ai).ok_or_else(|| ScanError::UnknownAi {
        ai: crate::text::excerpt(ai),
    })?;
    ai::check_length(
        def,
        value.chars().count(),
        Boundary::EndOfScan,
        ai::Source::HumanReadable,
    )?;
    ai::make_element(def, value.to_owned(), ai::Source::HumanReadable, today)
}

/// The ISO 3166 two-letter code of a numeric one as GS1 AIs carry it ((422) 276 → "DE"),
/// for EPCIS, whose `countryOfOrigin` takes the letters.
pub fn country_alpha2(numeric: &str) -> Option<&'static str> {
    dictionary::alpha2_of(numeric)
}

/// Parses one scan, resolving two-digit years against the station's local date.
pub fn parse(input: &str, cfg: &ScanConfig) -> Result<Scan, ScanError> {
    parse_at(input, cfg, today_local())
}

/// [`parse`] with an explicit "today", which decides the century of YYMMDD dates.
pub fn parse_at(input: &str, cfg: &ScanConfig, today: NaiveDate) -> Result<Scan, ScanError> {
    let mut text = input.trim_end_matches(['\r', '\n']);
    if let Some(prefix) = cfg.prefix.as_deref().filter(|p| !p.is_empty()) {
        text = text.strip_prefix(prefix).unwrap_or(text);
    }
    let (symbology, data) = symbology::split_aim(text);
    let data = data.trim();
    let gs1_symbology = symbology.as_ref().is_some_and(Symbology::is_gs1);

    let elements = if digital_link::looks_like(data) {
        match digital_link::parse(data, today)? {
            Some(elements) => elements,
            None => return plain(symbology, data),
        }
    } else if hri::looks_like(data) {
        hri::parse(data, today)?
    } else if gs1_symbology || data.starts_with(GS) {
        // A leading real GS is FNC1-first from a scanner with AIM identifiers
        // switched off; no plain text starts with a control character.
        element_string::parse(data, cfg.separator, today)?
    } else if symbology.is_none()
        && let Some(elements) = bare_element_string(data, cfg.separator, today)
    {
        elements
    } else {
        return plain(symbology, data);
    };

    if elements.is_empty() {
        return Err(match symbology {
            Some(s) => ScanError::NoGs1Data { aim_id: s.aim_id() },
            None => ScanError::Empty,
        });
    }
    ai::check_pairs(&elements)?;
    Ok(Scan::Gs1 {
        symbology,
        elements,
    })
}

/// A scanner sending no symbology identifier and no leading FNC1 sends bare element
/// strings (`0100614141000036<GS>10ABC`). Such text is GS1 when it reads completely as
/// element strings from its first character, every pairing rule holds, and it carries an
/// identification key (GTIN, SSCC, GLN…) whose check digit is right: the check digit makes
/// a chance match with a typed lot code all but impossible. Anything else is plain text.
/// The command line and the app both read scans through here, so they agree.
fn bare_element_string(data: &str, separator: char, today: NaiveDate) -> Option<Vec<Element>> {
    if !data.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let elements = element_string::parse(data, separator, today).ok()?;
    let keyed = elements
        .iter()
        .any(|e| ai::lookup(&e.ai).is_some_and(ai::is_key));
    (keyed && ai::check_pairs(&elements).is_ok()).then_some(elements)
}

fn plain(symbology: Option<Symbology>, text: &str) -> Result<Scan, ScanError> {
    if text.is_empty() {
        return Err(ScanError::Empty);
    }
    Ok(Scan::Plain {
        symbology,
        text: text.to_owned(),
    })
}

/// The station's calendar date: GS1's century rule is relative to "now".
fn today_local() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// What an Application Identifier means: for the ones lotline uses, in the words a floor
/// user knows; for the rest, GS1's title from the syntax dictionary; "" for no AI.
pub fn ai_title(ai: &str) -> &'static str {
    match ai {
        "00" => "SSCC (pallet / logistic unit)",
        "01" => "GTIN",
        "02" => "GTIN of contained items",
        "10" => "batch / lot",
        "11" => "production date",
        "12" => "due date",
        "13" => "packaging date",
        "15" => "best before",
        "16" => "sell by",
        "17" => "expiry",
        "20" => "variant",
        "21" => "serial number",
        "22" => "consumer product variant",
        "30" => "variable count",
        "37" => "count of trade items",
        "240" => "additional product id",
        "241" => "customer part number",
        "254" => "GLN extension",
        "400" => "customer purchase order",
        "410" => "ship to (GLN)",
        "411" => "bill to (GLN)",
        "412" => "purchased from (GLN)",
        "413" => "ship for (GLN)",
        "414" => "physical location (GLN)",
        "415" => "invoicing party (GLN)",
        "416" => "production or service location (GLN)",
        "417" => "party (GLN)",
        "422" => "country of origin",
        "426" => "country of full process",
        "7006" => "first freeze date",
        "7007" => "harvest date",
        // The dictionary leaves these two untitled.
        "8110" => "COUPON CODE",
        "8112" => "PAPERLESS COUPON",
        a if a.starts_with("310") => "net weight, kg",
        a if a.starts_with("320") => "net weight, lb",
        // Every other AI by GS1's own short title ("SHIP TO POST").
        a => dictionary::lookup(a).map_or("", |d| d.title),
    }
}

// Dates are shown to people and scripts as ISO text (`lotline barcode --json`).
fn serialize_date<S: Serializer>(date: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
    match date {
        Some(d) => s.serialize_some(&d.to_string()),
        None => s.serialize_none(),
    }
}
