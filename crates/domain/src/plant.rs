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
