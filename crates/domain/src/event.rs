//! Critical Tracking Events and corrections. Events are never changed or removed;
//! a mistake is answered by a new event that names the old one and gives a reason.

use super::{Invalid, ItemCode, LotId, LotStatus, PartyId, Qty, Reference, SupplierLot, Unit};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Who recorded something, at which station, and when (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub operator: String,
    pub station: String,
    pub at: DateTime<Utc>,
}

impl Stamp {
    /// Check who and where before they are stored: both are printed on every history and
    /// audit line, so neither may carry control or invisible characters, nor be unbounded.
    pub fn validate(&self) -> Result<(), super::Invalid> {
        super::text::station_name(&self.station, "station")?;
        let op = self.operator.as_str();
        if op.is_empty()
            || op.chars().count() > super::text::MAX_STATION_CHARS
            || op
                .chars()
                .any(|c| super::text::is_unsafe(c) || c.is_whitespace())
        {
            return Err(super::Invalid::new(
                "operator",
                format!("{} is not a user name", super::text::excerpt(op)),
            ));
        }
        Ok(())
    }

    /// When, who and where, as every record's history and paperwork shows it:
    /// "2026-11-21 09:00 UTC by ana@dock-1".
    pub fn text(&self) -> String {
        format!(
            "{} by {}@{}",
            self.at.format("%Y-%m-%d %H:%M UTC"),
            self.operator,
            self.station
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Inspection {
    Pass,
    Fail,
}

/// Quality data taken at the dock.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quality {
    /// Product temperature on arrival, °C, in tenths: exact, and enough for a probe.
    pub temperature_dc: Option<i32>,
    pub inspection: Option<Inspection>,
    pub note: String,
}

/// Parse a temperature such as `3.5` or `-18` (°C) into tenths of a degree.
pub fn parse_temperature(text: &str, field: &str) -> Result<i32, Invalid> {
    let q: Qty = text.parse().map_err(|_| {
        Invalid::new(
            field,
            format!(
                "{} is not a temperature; give degrees Celsius such as 3.5 or -18",
                super::text::excerpt(text.trim())
            ),
        )
    })?;
    if q.milli() % 100 != 0 {
        return Err(Invalid::new(
            field,
            "give the temperature to one decimal, such as 3.5",
        ));
    }
    let dc = q.milli() / 100;
    if !(-600..=1000).contains(&dc) {
        return Err(Invalid::new(
            field,
            format!(
                "{} °C is not a plausible product temperature (-60 to 100)",
                q
            ),
        ));
    }
    Ok(dc as i32)
}

pub fn format_temperature(dc: i32) -> String {
    let sign = if dc < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{}",
        dc.unsigned_abs() / 10,
        dc.unsigned_abs() % 10
    )
}

/// One lot and the quantity taken from it, in the lot's own unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Use {
    pub lot: LotId,
    pub qty: Qty,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub lot: LotId,
    pub item: ItemCode,
    pub supplier: PartyId,
    pub supplier_lot: SupplierLot,
    pub qty: Qty,
    pub unit: Unit,
    #[serde(with = "super::isodate::opt")]
    pub expiry: Option<NaiveDate>,
    pub quality: Quality,
    /// The quantity and unit as counted at the dock, FSMA's "quantity and unit of measure
    /// of the food as received" (§1.1345): 50 lb stays 50 lb here while `qty` and `unit`
    /// hold the 22.68 kg the lot is kept in. `None` only on receipts recorded before
    /// lotline kept it (schema 4 and older), where `qty` / `unit` are all there is.
    pub as_received: Option<Counted>,
    /// FSMA's "traceability lot code source reference" (§1.1345(a)(7)): where the lot code
    /// was assigned when that is not the supplier — the packer, for a lot bought through a
    /// distributor — as a GLN, an FDA registration number or a web address. `None`: the
    /// supplier is the TLC source.
    pub tlc_source_ref: Option<String>,
}

/// A quantity in the unit it was counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted {
    pub qty: Qty,
    pub unit: Unit,
}

/// Check a TLC source reference as typed or scanned: one line of up to 100 characters;
/// blank means none.
pub fn parse_tlc_source_ref(text: &str, field: &str) -> Result<Option<String>, Invalid> {
    let t = super::clean_text(text, field, 100)?;
    Ok((!t.is_empty()).then_some(t))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub output: LotId,
    pub item: ItemCode,
    pub qty: Qty,
    pub unit: Unit,
    pub line: Option<String>,
    pub inputs: Vec<Use>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub customer: PartyId,
    pub lines: Vec<Use>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    Receive(Receipt),
    Produce(Batch),
    Ship(Shipment),
    /// A counted correction of a lot's balance (spillage, cycle count, write-off).
    Adjust {
        lot: LotId,
        delta: Qty,
        reason: String,
    },
    /// Hold, release or recall.
    Status {
        lot: LotId,
        from: LotStatus,
        to: LotStatus,
        reason: String,
    },
    /// The named event is taken back; its effect on balances is reversed.
    Void {
        event: u64,
        reason: String,
    },
    /// A mock recall run from this lot, kept for the auditor. Changes nothing.
    MockRecall(MockRecall),
    /// `event` (a batch or shipment, recorded in the same transaction) used or shipped
    /// these lots past their expiry because the user overrode the refusal. Changes nothing.
    ExpiryOverride {
        event: u64,
        lots: Vec<LotId>,
    },
    /// An item's master data changed (an edit or a retirement): both versions kept, so
    /// its history shows every old value. Changes no lot.
    ItemChanged {
        before: Box<super::Item>,
        after: Box<super::Item>,
    },
    /// A party's master data changed (an edit or a retirement); both versions kept.
    PartyChanged {
        before: Box<super::Party>,
        after: Box<super::Party>,
    },
    /// Product came back from a customer into a new lot, on hold (see [`CustomerReturn`]).
    Return(CustomerReturn),
    /// A mock recall was started: its record's first event; its id names the record.
    MockRecallStarted(super::MockStart),
    /// What was physically found for one line of a mock recall. A later count of the same
    /// line supersedes it; both stay.
    MockRecallCount(super::MockCount),
    /// A mock recall completed, its reconciliation as it stood then.
    MockRecallFinished(Box<super::MockFinish>),
    /// What the supplier's scanned label said beyond the receipt `receipt` (recorded in the
    /// same transaction) into `lot`: harvest date, origin, serials… Changes nothing.
    LabelData {
        receipt: u64,
        lot: LotId,
        elements: Vec<super::LabelElement>,
    },
    /// A new version of an item's recipe (its item's history keeps every version).
    RecipeChanged(Box<super::Recipe>),
    /// The allergens an item declares changed. Lots made before keep the set they were
    /// made with; only new lots see the new declaration.
    AllergensDeclared {
        item: ItemCode,
        before: super::AllergenSet,
        after: super::AllergenSet,
        reason: String,
    },
    /// What a batch (`record.batch`, recorded in the same transaction) was made against:
    /// its recipe version, expected and actual output, and any override with its reason.
    BatchRecipe(Box<super::BatchRecipe>),
    /// Why a new lot was held for an allergen, beside the status event that held it.
    AllergenHold(Box<super::AllergenHold>),
    /// A production line cleaned or changed over.
    Changeover(super::Changeover),
    /// The plant's allergen list set (names only ever added once sets use them).
    AllergenListChanged {
        before: Vec<String>,
        after: Vec<String>,
    },
    /// An imported document named `lot`, which this plant had never seen, and took `qty`
    /// of it (in a transformation or a shipment, recorded right after): the lot is known
    /// only by the partner's identifier (`Origin::Partner`). Adds `qty` to its balance so
    /// the use that follows leaves it at zero, not below.
    PartnerLot(PartnerLot),
    /// A later document's receipt (`by`, recorded just before) is lot `lot`, until then
    /// known only from a partner's document: the lot becomes the received lot. Takes back
    /// the `named` quantity the partner's documents had added, so the balance is what was
    /// received less what the documents show used.
    PartnerLotFilled {
        lot: LotId,
        by: u64,
        named: Qty,
    },
}

/// See [`EventKind::PartnerLot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerLot {
    pub lot: LotId,
    pub item: ItemCode,
    /// In the lot's unit.
    pub qty: Qty,
    pub unit: Unit,
    /// The identifier as the document wrote it (its `epcClass`).
    pub identifier: String,
    /// The document (its id or file name) and the event in it that named the lot.
    pub source: String,
    pub event_id: String,
}

/// What a mock recall found, and how long it took: the record SQF and BRCGS auditors ask for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockRecall {
    pub root: LotId,
    /// Forward or both; a recall looks for where product went.
    pub direction: String,
    /// From opening the trace to saving the record, in milliseconds.
    pub elapsed_ms: u64,
    pub lots: u32,
    pub finished_lots: u32,
    pub shipments: u32,
    pub customers: u32,
    /// Lots with stock still on hand when the recall was run.
    pub on_hand_lots: u32,
    /// As recorded (the layout of these records: returns were not counted yet).
    pub balance: super::RecordedBalance,
    pub note: String,
}

/// Product a customer sent back against one of its shipments. It comes into a new lot of
/// its own, on hold, rather than back onto the shipped lot: the returned cases are kept
/// apart from stock that never left (they may be damaged, warm or tampered with), the
/// shipped lot's record stays as it was (shipped is shipped), and the new lot is linked to
/// the shipped one, so traces in both directions pass through it and a recall of the
/// shipped lot finds the returned stock to hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerReturn {
    /// The shipment it came back from.
    pub shipment: u64,
    pub customer: PartyId,
    /// The lot that was shipped.
    pub from: LotId,
    /// The new return lot.
    pub lot: LotId,
    pub item: ItemCode,
    /// In the shipped lot's unit.
    pub qty: Qty,
    pub unit: Unit,
    pub reason: String,
}

impl EventKind {
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Receive(_) => "receive",
            EventKind::Produce(_) => "produce",
            EventKind::Ship(_) => "ship",
            EventKind::Adjust { .. } => "adjust",
            EventKind::Status { .. } => "status",
            EventKind::Void { .. } => "void",
            EventKind::MockRecall(_) => "mock recall",
            EventKind::ExpiryOverride { .. } => "expiry override",
            EventKind::ItemChanged { .. } => "item changed",
            EventKind::PartyChanged { .. } => "party changed",
            EventKind::Return(_) => "return",
            EventKind::MockRecallStarted(_) => "mock recall started",
            EventKind::MockRecallCount(_) => "mock recall count",
            EventKind::MockRecallFinished(_) => "mock recall finished",
            EventKind::LabelData { .. } => "label data",
            EventKind::RecipeChanged(_) => "recipe changed",
            EventKind::AllergensDeclared { .. } => "allergens declared",
            EventKind::BatchRecipe(_) => "batch recipe",
            EventKind::AllergenHold(_) => "allergen hold",
            EventKind::Changeover(_) => "changeover",
            EventKind::AllergenListChanged { .. } => "allergen list changed",
            EventKind::PartnerLot(_) => "partner lot",
            EventKind::PartnerLotFilled { .. } => "partner lot filled in",
        }
    }

    /// Every lot this event touches, for the lot → events index.
    pub fn lots(&self) -> Vec<LotId> {
        match self {
            EventKind::Receive(r) => vec![r.lot],
            EventKind::Produce(b) => std::iter::once(b.output)
                .chain(b.inputs.iter().map(|u| u.lot))
                .collect(),
            EventKind::Ship(s) => s.lines.iter().map(|u| u.lot).collect(),
            EventKind::Adjust { lot, .. } | EventKind::Status { lot, .. } => vec![*lot],
            EventKind::MockRecall(m) => vec![m.root],
            EventKind::ExpiryOverride { lots, .. } => lots.clone(),
            EventKind::Return(r) => vec![r.from, r.lot],
            EventKind::MockRecallStarted(m) => vec![m.root],
            EventKind::MockRecallCount(c) => {
                let lot = c.line.lot();
                if lot == c.root {
                    vec![c.root]
                } else {
                    vec![c.root, lot]
                }
            }
            EventKind::MockRecallFinished(f) => vec![f.root],
            EventKind::LabelData { lot, .. } => vec![*lot],
            EventKind::BatchRecipe(b) => vec![b.output],
            EventKind::AllergenHold(h) => vec![h.lot],
            EventKind::RecipeChanged(_)
            | EventKind::AllergensDeclared { .. }
            | EventKind::Changeover(_)
            | EventKind::AllergenListChanged { .. } => vec![],
            EventKind::PartnerLot(p) => vec![p.lot],
            EventKind::PartnerLotFilled { lot, .. } => vec![*lot],
            EventKind::Void { .. }
            | EventKind::ItemChanged { .. }
            | EventKind::PartyChanged { .. } => vec![],
        }
    }

    /// Every party this event names, for the party → events index.
    pub fn parties(&self) -> Vec<&PartyId> {
        match self {
            EventKind::Receive(r) => vec![&r.supplier],
            EventKind::Ship(s) => vec![&s.customer],
            EventKind::PartyChanged { after, .. } => vec![&after.id],
            EventKind::Return(r) => vec![&r.customer],
            EventKind::MockRecallCount(c) => match &c.line {
                super::CountLine::Customer { party, .. } => vec![party],
                super::CountLine::OnHand { .. } => vec![],
            },
            _ => vec![],
        }
    }

    /// The change this event makes to `lot`'s balance (before any void).
    pub fn balance_effect(&self, lot: LotId) -> Qty {
        match self {
            EventKind::Receive(r) if r.lot == lot => r.qty,
            EventKind::Produce(b) => {
                let made = if b.output == lot { b.qty } else { Qty::ZERO };
                let used: Qty = b
                    .inputs
                    .iter()
                    .filter(|u| u.lot == lot)
                    .map(|u| u.qty)
                    .sum();
                made - used
            }
            EventKind::Ship(s) => -s
                .lines
                .iter()
                .filter(|u| u.lot == lot)
                .map(|u| u.qty)
                .sum::<Qty>(),
            EventKind::Adjust { lot: l, delta, .. } if *l == lot => *delta,
            EventKind::Return(r) if r.lot == lot => r.qty,
            EventKind::PartnerLot(p) if p.lot == lot => p.qty,
            EventKind::PartnerLotFilled { lot: l, named, .. } if *l == lot => -*named,
            _ => Qty::ZERO,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: u64,
    pub stamp: Stamp,
    /// The business date: when it happened on the floor (FSMA "date received/shipped/completed").
    #[serde(with = "super::isodate")]
    pub date: NaiveDate,
    pub reference: Option<Reference>,
    pub kind: EventKind,
}

/// A receipt's, batch's or shipment's reference documents beyond the event's own
/// `reference`, kept beside the event (a table of their own, so events keep their shape):
/// FDA's template has room for two documents per event (a bill of lading and a purchase
/// order), and an event of a food on the Food Traceability List recorded without any
/// document keeps the reason it was allowed without one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Documents {
    /// The second reference document; only with a first one.
    pub second: Option<Reference>,
    /// Why there is no reference document at all, as given when it was recorded.
    pub none_because: Option<String>,
}

impl Documents {
    pub fn is_empty(&self) -> bool {
        self.second.is_none() && self.none_because.is_none()
    }

    /// Both documents of an event whose first one is `first`, in order.
    pub fn all<'a>(&'a self, first: Option<&'a Reference>) -> Vec<&'a Reference> {
        first.into_iter().chain(self.second.as_ref()).collect()
    }

    /// The documents and this as a request carries them, checked against each other: a
    /// second document needs a first, the two differ, and a reason for having none comes
    /// only with none.
    pub fn check_with(&self, first: Option<&Reference>) -> Result<(), Invalid> {
        if let Some(second) = &self.second {
            let Some(first) = first else {
                return Err(Invalid::new(
                    "ref",
                    format!(
                        "{second} is a second reference document, but no first was given; give the first one too"
                    ),
                ));
            };
            if first == second {
                return Err(Invalid::new(
                    "ref",
                    format!("{second} is given twice; give each reference document once"),
                ));
            }
        }
        if let Some(why) = &self.none_because {
            let t = super::clean_text(why, "no-ref-reason", super::REASON_MAX)?;
            if t.is_empty() || t.len() != why.len() {
                return Err(Invalid::new(
                    "no-ref-reason",
                    "is blank or has spaces at its ends; say why there is no reference document, or give none",
                ));
            }
            if first.is_some() {
                return Err(Invalid::new(
                    "no-ref-reason",
                    "a reason for having no reference document was given with one; give either the document or the reason",
                ));
            }
        }
        Ok(())
    }
}

/// Merge lines naming the same lot twice would double-count a link; refuse them so the
/// user decides which quantity was meant.
pub fn check_distinct_lines(
    lines: &[Use],
    field: &str,
    code_of: impl Fn(LotId) -> String,
) -> Result<(), Invalid> {
    let mut seen = std::collections::HashSet::new();
    for u in lines {
        if !seen.insert(u.lot) {
            return Err(Invalid::new(
                field,
                format!(
                    "lot {} is listed twice; give it once with the total quantity",
                    code_of(u.lot)
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_reads_when_who_and_where() {
        let s = Stamp {
            operator: "ana".into(),
            station: "dock-1".into(),
            at: chrono::DateTime::parse_from_rfc3339("2026-11-21T09:00:59Z")
                .unwrap()
                .with_timezone(&Utc),
        };
        assert_eq!(s.text(), "2026-11-21 09:00 UTC by ana@dock-1");
    }

    #[test]
    fn temperatures_are_exact_tenths() {
        assert_eq!(parse_temperature("3.5", "temp").unwrap(), 35);
        assert_eq!(parse_temperature("-18", "temp").unwrap(), -180);
        assert_eq!(format_temperature(-5), "-0.5");
        assert_eq!(format_temperature(35), "3.5");
        assert!(parse_temperature("3.55", "temp").is_err());
        assert!(
            parse_temperature("warm", "temp")
                .unwrap_err()
                .problem
                .contains("Celsius")
        );
        assert!(parse_temperature("500", "temp").is_err());
    }

    #[test]
    fn balance_effects() {
        let a = LotId(1);
        let b = LotId(2);
        let out = LotId(3);
        let batch = EventKind::Produce(Batch {
            output: out,
            item: ItemCode::parse("DOUGH", "item").unwrap(),
            qty: Qty::from_units(50),
            unit: Unit::Kg,
            line: None,
            inputs: vec![
                Use {
                    lot: a,
                    qty: Qty::from_units(30),
                },
                Use {
                    lot: b,
                    qty: Qty::from_units(25),
                },
            ],
        });
        assert_eq!(batch.balance_effect(a), -Qty::from_units(30));
        assert_eq!(batch.balance_effect(out), Qty::from_units(50));
        assert_eq!(batch.balance_effect(LotId(9)), Qty::ZERO);
        assert_eq!(batch.lots(), vec![out, a, b]);
    }

    #[test]
    fn duplicate_lines_are_refused() {
        let u = Use {
            lot: LotId(7),
            qty: Qty::from_units(1),
        };
        let e = check_distinct_lines(&[u, u], "input", |_| "R1".into()).unwrap_err();
        assert!(e.problem.contains("listed twice"));
    }
}
