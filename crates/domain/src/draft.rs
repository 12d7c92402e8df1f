//! Drafts: what a clerk has typed on a form and not saved, kept by the station so a
//! handheld that drops off the Wi-Fi comes back to its half-typed form (docs/server.md,
//! "Drafts"). A draft is never a record: it names no lot movement, is kept in a table of
//! its own, never in an event, a trace, an export, a balance or `check`'s audit of
//! records, and is removed when it is saved, discarded or too old.
//!
//! The form's state itself is the front end's business: the station keeps its bytes
//! (bounded, `DRAFT_MAX`) and who, where and when, and never reads them.

use crate::{Event, Invalid, Lot, Stamp};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The most bytes a draft's form state may take: a receipt's twelve fields, or a batch of
/// some dozens of lines, take a few hundred.
pub const DRAFT_MAX: usize = 16 * 1024;

/// How long a draft is kept when the plant says nothing else: a shift and then some.
pub const DEFAULT_DRAFT_HOURS: u16 = 12;
/// The longest a plant may keep drafts: a month. Longer, a draft is no longer a form
/// someone was typing but a record nobody made.
pub const MAX_DRAFT_HOURS: u16 = 24 * 31;

/// The forms whose drafts are kept. Numbered by place on the wire and in the drafts
/// table's key: append only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DraftForm {
    Receive,
    Produce,
    Ship,
    Trace,
}

impl DraftForm {
    pub const ALL: [DraftForm; 4] = [
        DraftForm::Receive,
        DraftForm::Produce,
        DraftForm::Ship,
        DraftForm::Trace,
    ];

    /// Its number in the drafts table's key.
    pub fn number(self) -> u8 {
        self as u8
    }

    pub fn from_number(n: u8) -> Option<DraftForm> {
        DraftForm::ALL.get(usize::from(n)).copied()
    }

    pub fn name(self) -> &'static str {
        match self {
            DraftForm::Receive => "receive",
            DraftForm::Produce => "produce",
            DraftForm::Ship => "ship",
            DraftForm::Trace => "trace",
        }
    }
}

/// A draft as kept: one per user, station and form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub form: DraftForm,
    /// Who typed it, at which station, and when it was last sent.
    pub stamp: Stamp,
    /// The app session that keeps it (set by the station): another session of the same
    /// user never writes over it while this one is connected.
    pub session: u64,
    /// The form's state, as the front end encoded it.
    pub bytes: Vec<u8>,
}

/// What a front end sends: this form's state now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftSave {
    pub form: DraftForm,
    pub bytes: Vec<u8>,
    /// The sending app's session: set by the station from the connection, whatever the
    /// client put here.
    pub session: u64,
}

impl DraftSave {
    pub fn check(&self) -> Result<(), Invalid> {
        if self.bytes.len() > DRAFT_MAX {
            return Err(Invalid::new(
                "draft",
                format!(
                    "is {} bytes, more than the {DRAFT_MAX} a draft may be; save the form",
                    self.bytes.len()
                ),
            ));
        }
        Ok(())
    }
}

/// A draft of the caller's, as the station offers it on return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftOffer {
    pub draft: Draft,
    /// The session that keeps it is connected now, since then: the caller's other
    /// lotline, which keeps its draft.
    pub held_since: Option<DateTime<Utc>>,
    /// Some session is connected at the draft's station now.
    pub station_connected: bool,
}

/// What the station knows of the caller on return: their drafts, and the last thing they
/// saved at this station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    /// Every draft of the caller's not yet expired, newest first.
    pub drafts: Vec<DraftOffer>,
    pub last_saved: Option<LastSaved>,
}

/// The caller's last event at this station, and the lots it names (the one it made, or
/// those it moved), so "Last saved" can say which lot, which item and how much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastSaved {
    pub event: Event,
    pub lots: Vec<Lot>,
}

/// Drafts kept for one user at once, over every station and form: four forms at four
/// stations. A station name is the client's to choose, so without this one user could make
/// the plant keep a draft under every name they cared to connect with; past it, saving a
/// new one lets the user's oldest go (the newest typing is the one to keep).
pub const MAX_DRAFTS_PER_USER: usize = 16;

/// Is a draft stamped `at` past its time at `now`?
pub fn draft_expired(at: DateTime<Utc>, now: DateTime<Utc>, hours: u16) -> bool {
    now.signed_duration_since(at) > chrono::Duration::hours(i64::from(hours))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_keep_their_numbers() {
        for f in DraftForm::ALL {
            assert_eq!(DraftForm::from_number(f.number()), Some(f));
        }
        assert_eq!(DraftForm::from_number(4), None);
        assert_eq!(DraftForm::Trace.number(), 3);
    }

    #[test]
    fn a_draft_past_its_hours_is_expired() {
        let at: DateTime<Utc> = "2026-12-07T08:00:00Z".parse().unwrap();
        let later = |h: i64| at + chrono::Duration::hours(h);
        assert!(!draft_expired(at, later(12), 12));
        assert!(draft_expired(
            at,
            later(12) + chrono::Duration::seconds(1),
            12
        ));
        assert!(!draft_expired(at, later(30), 48));
    }

    #[test]
    fn a_draft_larger_than_the_bound_is_refused() {
        let ok = DraftSave {
            form: DraftForm::Receive,
            bytes: vec![0; DRAFT_MAX],
            session: 0,
        };
        assert!(ok.check().is_ok());
        let big = DraftSave {
            bytes: vec![0; DRAFT_MAX + 1],
            ..ok
        };
        let e = big.check().unwrap_err();
        assert!(e.to_string().contains("draft"), "{e}");
    }

    #[test]
    fn a_draft_of_a_station_is_dropped_only_by_its_exact_name() {
        use crate::api::Command;
        let drop = |station: &str| {
            Command::DropDraft {
                station: station.into(),
                form: DraftForm::Ship,
            }
            .check()
        };
        assert!(drop("hh-3").is_ok());
        for bad in ["\nhh-3", " hh-3", "hh-3\t", "", "\u{1b}]52;c;aGk=\u{7}"] {
            assert!(drop(bad).is_err(), "{bad:?}");
        }
    }
}
