//! What the ledger answers, as every front end receives it (locally or over the wire):
//! lot lists and histories, the audit, recall scopes and mock recalls, a check's report.
//! The store builds these (docs/store.md); nothing here reads a file.

use crate::*;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub items: u64,
    pub parties: u64,
    pub lots: u64,
    pub events: u64,
    pub links: u64,
}

/// Which lots to list; every given field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotFilter {
    pub item: Option<ItemCode>,
    pub supplier: Option<PartyId>,
    pub supplier_lot: Option<String>,
    pub status: Option<LotStatus>,
    /// Only lots with something on hand.
    pub on_hand: bool,
}

impl LotFilter {
    /// Whether `lot` is one this filter lists (every given field matches).
    pub fn matches(&self, lot: &Lot) -> bool {
        self.item.as_ref().is_none_or(|i| &lot.item == i)
            && self.status.is_none_or(|s| lot.status == s)
            && (!self.on_hand || lot.balance.is_positive())
            && match (&self.supplier, &self.supplier_lot, &lot.origin) {
                (None, None, _) => true,
                (
                    want,
                    want_lot,
                    Origin::Received {
                        supplier,
                        supplier_lot,
                    },
                ) => {
                    want.as_ref().is_none_or(|w| w == supplier)
                        && want_lot.as_ref().is_none_or(|w| w == supplier_lot.as_str())
                }
                (
                    _,
                    _,
                    Origin::Produced { .. } | Origin::Returned { .. } | Origin::Partner { .. },
                ) => false,
            }
    }
}

/// A lot's events, oldest first, each with the event that voided it, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotHistory {
    pub lot: Lot,
    pub events: Vec<HistoryEntry>,
    /// The codes and units of the other lots these events name.
    pub related: Vec<(LotId, LotCode, Unit)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditTrail {
    /// Newest first.
    pub entries: Vec<HistoryEntry>,
    /// What is not an event, newest first: master data added, settings changed, attempts
    /// refused (`store::audit`).
    pub notes: Vec<AuditNote>,
    /// The codes and units of the lots the entries name.
    pub codes: Vec<(LotId, LotCode, Unit)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub event: Event,
    pub voided_by: Option<u64>,
}

/// Most events one page carries, whatever the caller asks: a page is one reply.
pub const MAX_PAGE: usize = 20_000;

/// One customer's part of a recall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeCustomer {
    pub party: Party,
    pub shipments: Vec<TraceShipment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecallScope {
    /// The forward trace the scope was drawn from.
    pub trace: Trace,
    /// Finished-goods lots reached (the root too, if finished).
    pub finished: Vec<LotId>,
    /// Customers who received any lot in the trace, by id, with their shipments.
    pub customers: Vec<ScopeCustomer>,
    /// Lots in the trace with stock still on hand and not yet held or recalled: what to hold.
    pub to_hold: Vec<LotId>,
    /// Lots in the trace already on hold or recalled, with stock.
    pub already_held: Vec<LotId>,
}

/// A shipment line to one customer, for a complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub event: u64,
    pub date: NaiveDate,
    pub reference: Option<Reference>,
    pub lot: Lot,
    pub qty: Qty,
}

/// The recall scope with what each affected lot and customer means for a recall: the
/// figures of the scope command, the customer notification list and a mock recall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecallReport {
    pub scope: RecallScope,
    /// Item code → name, for every item in the scope.
    pub names: BTreeMap<ItemCode, String>,
    /// The lots that reconcile (the root, finished lots, any lot shipped) and each
    /// customer's part per lot, with nothing counted yet.
    pub base: Reconciliation,
}

/// A mock recall record as it stands: its reconciliation (live while open, as completed
/// once completed) and every count entered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockRecallView {
    pub id: u64,
    pub root: Lot,
    pub asked_as: String,
    pub note: String,
    pub started: Stamp,
    pub finished: Option<MockFinished>,
    pub result: Reconciliation,
    pub counts: Vec<CountEntry>,
    /// The scope as it is now (lots to hold), for the app and the export.
    pub names: BTreeMap<ItemCode, String>,
}

impl MockRecallView {
    /// Start to completion (or to `now` while open), in whole seconds.
    pub fn elapsed_secs(&self, now: chrono::DateTime<chrono::Utc>) -> i64 {
        let end = self.finished.as_ref().map(|f| f.stamp.at).unwrap_or(now);
        (end - self.started.at).num_seconds().max(0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockFinished {
    pub event: u64,
    pub stamp: Stamp,
    pub note: String,
}

/// One count as entered; `superseded_by` names the later count of the same line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountEntry {
    pub event: u64,
    pub stamp: Stamp,
    pub line: CountLine,
    pub note: String,
    pub superseded_by: Option<u64>,
}

/// A mock recall in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockRecallSummary {
    pub id: u64,
    pub root: LotCode,
    pub item: ItemCode,
    pub asked_as: String,
    pub started: Stamp,
    pub counts: usize,
    /// When completed: then, and the overall totals.
    pub finished: Option<Stamp>,
    pub totals: Vec<UnitTotal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem(pub String);

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    pub lots: u64,
    pub events: u64,
    pub links: u64,
    pub problems: Vec<Problem>,
}

/// The longest text kept for what was tried and why it was refused, in characters.
pub const MAX_NOTE_CHARS: usize = 240;

/// A change to the plant's settings, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsChange {
    pub stamp: Stamp,
    /// What changed, in words: `QA users: quinn → quinn, ana`.
    pub changes: String,
}

/// An attempt the plant's roles refused, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// Who tried, from which station, when.
    pub stamp: Stamp,
    /// What was tried, in a few words: `release lot R26305-001`.
    pub tried: String,
    /// The lot it was about, when one: `audit --lot` finds it.
    pub lot: Option<LotCode>,
    /// Why it was refused: what the user was told.
    pub why: String,
}

impl Refusal {
    /// A refusal with its text cut to [`MAX_NOTE_CHARS`].
    pub fn new(stamp: Stamp, tried: &str, lot: Option<LotCode>, why: &str) -> Refusal {
        Refusal {
            stamp,
            tried: cap(tried),
            lot,
            why: cap(why),
        }
    }
}

/// One audit line that is not an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditNote {
    pub stamp: Stamp,
    pub what: NoteKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoteKind {
    ItemAdded { code: ItemCode, name: String },
    PartyAdded { id: PartyId, name: String },
    Settings { changes: String },
    Refused(Refusal),
}

impl NoteKind {
    /// The line's words.
    pub fn describe(&self) -> String {
        match self {
            NoteKind::ItemAdded { code, name } => format!("item {code} added: {name}"),
            NoteKind::PartyAdded { id, name } => format!("party {id} added: {name}"),
            NoteKind::Settings { changes } => format!("plant settings changed: {changes}"),
            NoteKind::Refused(r) => format!("REFUSED {}: {}", r.tried, r.why),
        }
    }

    /// The lot the line is about, if one.
    pub fn lot(&self) -> Option<&LotCode> {
        match self {
            NoteKind::Refused(r) => r.lot.as_ref(),
            _ => None,
        }
    }

    /// `item_added`, `party_added`, `settings`, `refused`: the JSON `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            NoteKind::ItemAdded { .. } => "item_added",
            NoteKind::PartyAdded { .. } => "party_added",
            NoteKind::Settings { .. } => "settings",
            NoteKind::Refused(_) => "refused",
        }
    }
}

/// `s` on one line, cut to [`MAX_NOTE_CHARS`] with an ellipsis.
fn cap(s: &str) -> String {
    let one: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one.chars().count() <= MAX_NOTE_CHARS {
        return one;
    }
    let mut out: String = one.chars().take(MAX_NOTE_CHARS - 1).collect();
    out.push('…');
    out
}

/// What differs between two versions of the plant's settings, in words; empty when
/// nothing does.
pub fn settings_changes(before: &Plant, after: &Plant) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut field = |name: &str, a: String, b: String| {
        if a != b {
            let shown = |v: String| if v.is_empty() { "(none)".into() } else { v };
            parts.push(format!("{name}: {} → {}", shown(a), shown(b)));
        }
    };
    let (l0, l1) = (&before.location, &after.location);
    field("name", l0.business_name.clone(), l1.business_name.clone());
    field("phone", l0.phone.clone(), l1.phone.clone());
    field("street", l0.street.clone(), l1.street.clone());
    field("city", l0.city.clone(), l1.city.clone());
    field("state", l0.state.clone(), l1.state.clone());
    field("zip", l0.zip.clone(), l1.zip.clone());
    field("country", l0.country.clone(), l1.country.clone());
    let gln = |g: &Option<Gln>| {
        g.as_ref()
            .map(|g| g.as_str().to_string())
            .unwrap_or_default()
    };
    field("GLN", gln(&before.gln), gln(&after.gln));
    field(
        "receipt pattern",
        before.receipt_pattern.to_string(),
        after.receipt_pattern.to_string(),
    );
    field(
        "batch pattern",
        before.batch_pattern.to_string(),
        after.batch_pattern.to_string(),
    );
    // The QA list is who may hold and release: a role change, named as such.
    field(
        "QA users",
        before.qa_users.join(", "),
        after.qa_users.join(", "),
    );
    field(
        "draft hours",
        before.draft_hours.to_string(),
        after.draft_hours.to_string(),
    );
    field(
        "label size",
        before.label_size.as_str().into(),
        after.label_size.as_str().into(),
    );
    cap(&parts.join("; "))
}
