//! The plant's own identity: the location every receipt, batch and shipment happens at.

use super::{DEFAULT_BATCH_PATTERN, DEFAULT_RECEIPT_PATTERN, Gln, Location, LotPattern};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plant {
    /// FSMA receiving / transformation / ship-from location.
    pub location: Location,
    pub gln: Option<Gln>,
    pub receipt_pattern: LotPattern,
    pub batch_pattern: LotPattern,
    /// Users who may hold, release, recall and correct. Empty: everybody may, which suits
    /// a one-person plant until QA users are named.
    pub qa_users: Vec<String>,
    /// How long a clerk's unsaved form is kept for them to come back to, in hours
    /// (docs/server.md, "Drafts").
    pub draft_hours: u16,
    /// The label stock the plant's printers hold: what our lot labels are laid out for.
    pub label_size: LabelSize,
}

impl Default for Plant {
    fn default() -> Self {
        Plant {
            location: Location {
                business_name: "Unnamed plant".into(),
                ..Default::default()
            },
            gln: None,
            receipt_pattern: LotPattern::parse(DEFAULT_RECEIPT_PATTERN, "receipt-pattern")
                .expect("default pattern is valid"),
            batch_pattern: LotPattern::parse(DEFAULT_BATCH_PATTERN, "batch-pattern")
                .expect("default pattern is valid"),
            qa_users: Vec::new(),
            draft_hours: super::DEFAULT_DRAFT_HOURS,
            label_size: LabelSize::default(),
        }
    }
}

impl Plant {
    /// Check what a user or a front end sent as the plant's settings.
    pub fn validate(&self) -> Result<(), super::Invalid> {
        let l = &self.location;
        super::required_text(&l.business_name, "name", 100)?;
        for (v, f) in [
            (&l.phone, "phone"),
            (&l.street, "street"),
            (&l.city, "city"),
            (&l.state, "state"),
            (&l.zip, "zip"),
            (&l.country, "country"),
        ] {
            super::clean_text(v, f, 100)?;
        }
        for u in &self.qa_users {
            if u.is_empty()
                || u.len() > 64
                || u.chars().any(|c| super::text::is_unsafe(c) || c == ',')
            {
                return Err(super::Invalid::new(
                    "qa-users",
                    format!("{} is not a user name", crate::text::excerpt(u)),
                ));
            }
        }
        check_draft_hours(self.draft_hours)?;
        Ok(())
    }

    pub fn is_qa(&self, user: &str) -> bool {
        self.qa_users.is_empty() || self.qa_users.iter().any(|u| u == user)
    }
}

/// Drafts are kept at least an hour (a dropped handheld is back within minutes) and at
/// most `MAX_DRAFT_HOURS`.
pub fn check_draft_hours(h: u16) -> Result<(), super::Invalid> {
    if (1..=super::MAX_DRAFT_HOURS).contains(&h) {
        return Ok(());
    }
    Err(super::Invalid::new(
        "draft-hours",
        format!(
            "{h} is not a number of hours drafts may be kept; give 1 to {} (the default is {})",
            super::MAX_DRAFT_HOURS,
            super::DEFAULT_DRAFT_HOURS
        ),
    ))
}

/// The label stock a plant prints its lot labels on: width and height in inches and the
/// printer's resolution. A fixed set, because each has a layout that was checked to fit
/// (the label tests render every one and read its barcode back). Named in JSON as the
/// setting is typed; stored by position, so variants are only ever appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum LabelSize {
    /// 4 x 2 inches at 203 dpi: the common shipping-label stock and printer.
    #[default]
    #[serde(rename = "4x2-203")]
    In4x2Dpi203,
    #[serde(rename = "4x2-300")]
    In4x2Dpi300,
    /// 4 x 6 inches: a pallet or case label with room for large type.
    #[serde(rename = "4x6-203")]
    In4x6Dpi203,
    #[serde(rename = "4x6-300")]
    In4x6Dpi300,
}

impl LabelSize {
    pub const ALL: [LabelSize; 4] = [
        LabelSize::In4x2Dpi203,
        LabelSize::In4x2Dpi300,
        LabelSize::In4x6Dpi203,
        LabelSize::In4x6Dpi300,
    ];

    /// The setting as typed: `4x2-203`, `4x2-300`, `4x6-203`, `4x6-300`.
    pub fn as_str(self) -> &'static str {
        match self {
            LabelSize::In4x2Dpi203 => "4x2-203",
            LabelSize::In4x2Dpi300 => "4x2-300",
            LabelSize::In4x6Dpi203 => "4x6-203",
            LabelSize::In4x6Dpi300 => "4x6-300",
        }
    }

    /// Read a setting: `4x2-203` and the like; `4x2@203`, `4x2 203` and a trailing `dpi`
    /// are taken too, since that is how printers and label rolls are described.
    pub fn parse(text: &str, field: &str) -> Result<LabelSize, super::Invalid> {
        let t = text.trim().to_ascii_lowercase();
        let t = t.strip_suffix("dpi").unwrap_or(&t).trim_end();
        let norm: String = t
            .chars()
            .map(|c| if matches!(c, '@' | ' ' | '/') { '-' } else { c })
            .collect();
        let norm = norm.replace("in", "").replace('"', "").replace("--", "-");
        LabelSize::ALL
            .into_iter()
            .find(|s| s.as_str() == norm)
            .ok_or_else(|| {
                super::Invalid::new(
                    field,
                    format!(
                        "{} is not a label size lotline lays out; use one of {}",
                        crate::text::excerpt(text),
                        LabelSize::ALL.map(LabelSize::as_str).join(", ")
                    ),
                )
            })
    }

    /// Width and height in inches.
    pub fn inches(self) -> (u32, u32) {
        match self {
            LabelSize::In4x2Dpi203 | LabelSize::In4x2Dpi300 => (4, 2),
            LabelSize::In4x6Dpi203 | LabelSize::In4x6Dpi300 => (4, 6),
        }
    }

    /// The printer's resolution in dots per inch.
    pub fn dpi(self) -> u32 {
        match self {
            LabelSize::In4x2Dpi203 | LabelSize::In4x6Dpi203 => 203,
            LabelSize::In4x2Dpi300 | LabelSize::In4x6Dpi300 => 300,
        }
    }

    /// Width and height in printer dots.
    pub fn dots(self) -> (u32, u32) {
        let (w, h) = self.inches();
        (w * self.dpi(), h * self.dpi())
    }
}

impl std::fmt::Display for LabelSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (w, h) = self.inches();
        write!(f, "{w}x{h} in at {} dpi", self.dpi())
    }
}

#[cfg(test)]
mod label_size_tests {
    use super::LabelSize;

    #[test]
    fn every_size_reads_back_from_its_setting_and_as_printers_name_it() {
        for s in LabelSize::ALL {
            assert_eq!(LabelSize::parse(s.as_str(), "f").unwrap(), s);
        }
        for (typed, want) in [
            (" 4x6@300 ", LabelSize::In4x6Dpi300),
            ("4X2 203dpi", LabelSize::In4x2Dpi203),
            ("4x6-203 dpi", LabelSize::In4x6Dpi203),
            ("4inx2in 300", LabelSize::In4x2Dpi300),
        ] {
            assert_eq!(LabelSize::parse(typed, "f").unwrap(), want, "{typed}");
        }
        assert_eq!(LabelSize::In4x6Dpi300.dots(), (1200, 1800));
        assert_eq!(LabelSize::In4x2Dpi203.to_string(), "4x2 in at 203 dpi");
    }

    #[test]
    fn an_unknown_size_names_the_ones_there_are() {
        for bad in ["", "4x3-203", "4x2-600", "A4", "4x2"] {
            let e = LabelSize::parse(bad, "label-size").unwrap_err();
            assert_eq!(e.field, "label-size");
            assert!(
                e.problem.contains("4x2-203, 4x2-300, 4x6-203, 4x6-300"),
                "{e:?}"
            );
        }
    }
}
