//! What a supplier's GS1 label carried beyond what a receipt takes: the harvest date
//! (7007), the country of origin (422), a serial, the supplier's internal codes (90–99)…
//! Read at the dock, kept with the receipt as an event of its own recorded in the same
//! transaction ([`crate::EventKind::LabelData`]), shown in the lot's history and exported
//! in EPCIS where EPCIS has a place for it (docs/scanning.md, "Kept with the receipt").

use crate::scan;
use crate::{Invalid, NewReceipt};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A GS1 label's elements beyond the 64 no real label carries are refused, not kept.
pub const MAX_LABEL_ELEMENTS: usize = 64;

/// One GS1 element string as scanned: the Application Identifier and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelElement {
    pub ai: String,
    pub value: String,
}

impl LabelElement {
    /// GS1's title for the AI ("harvest date", "ORIGIN").
    pub fn title(&self) -> &'static str {
        scan::ai_title(&self.ai)
    }
}

/// A receipt from a scanned label, with the label's elements that the receipt's own
/// fields do not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannedReceipt {
    pub receipt: NewReceipt,
    pub label: Vec<LabelElement>,
}

impl ScannedReceipt {
    /// Every element is a valid GS1 element string (what a client sends is checked again
    /// here: the server does not trust it), each AI once, and not too many.
    pub fn validate(&self) -> Result<(), Invalid> {
        check_label(&self.label, self.receipt.date, "label")
    }
}

/// The rules every kept label meets, however it arrives (a scan at the dock, a partner's
/// EPCIS document): each element a valid GS1 element string, each AI once, and not more
/// than [`MAX_LABEL_ELEMENTS`]. `date` is the receipt's, which decides two-digit
/// centuries; `field` names where the label came from in the message.
pub fn check_label(label: &[LabelElement], date: NaiveDate, field: &str) -> Result<(), Invalid> {
    if label.len() > MAX_LABEL_ELEMENTS {
        return Err(Invalid::new(
            field,
            format!(
                "{} label elements is more than a label carries (at most {MAX_LABEL_ELEMENTS})",
                label.len()
            ),
        ));
    }
    for (i, e) in label.iter().enumerate() {
        if label.iter().take(i).any(|f| f.ai == e.ai) {
            return Err(Invalid::new(
                field,
                format!("AI ({}) appears twice", crate::text::excerpt(&e.ai)),
            ));
        }
        scan::check_element(&e.ai, &e.value, date)
            .map_err(|err| Invalid::new(field, err.to_string()))?;
    }
    Ok(())
}

/// The kept elements in one line, for histories: `label (7007) harvest date 250615,
/// (422) ORIGIN 276`. Values are escaped: a stored record reaches the terminal only so.
pub fn describe_label(elements: &[LabelElement]) -> String {
    let parts: Vec<String> = elements
        .iter()
        .map(|e| {
            let title = e.title();
            let sep = if title.is_empty() { "" } else { " " };
            format!(
                "({}){sep}{title} {}",
                crate::text::escape(&e.ai),
                crate::text::escape(&e.value)
            )
        })
        .collect();
    format!("label {}", parts.join(", "))
}
