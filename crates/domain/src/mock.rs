//! A mock recall as an auditor runs one (SQF, BRCGS): started from a lot, the system's
//! figures for every affected lot and customer, what the QA manager physically found
//! (counted on hand, retrieved from customers, confirmed consumed or destroyed), and the
//! reconciliation: the gap in units and percent per lot and overall. The record is a chain
//! of events — started, counts, finished — so nothing in it is ever overwritten: a later
//! count of the same line supersedes the earlier one and both stay in its history.
//! All arithmetic is exact (thousandths, hundredths of a percent).

use super::{Contact, ItemCode, LotCode, LotId, PartyId, Qty, Reference, Unit};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The first event of a mock recall; its event id is the record's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockStart {
    pub root: LotId,
    /// What the QA manager started from as typed or scanned: our lot code, or the
    /// supplier's lot code that named it.
    pub asked_as: String,
    pub note: String,
}

/// One line of a mock recall and what was found for it, in the lot's unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CountLine {
    /// Counted on site.
    OnHand { lot: LotId, qty: Qty },
    /// What one customer did with what it received of one lot.
    Customer {
        party: PartyId,
        lot: LotId,
        retrieved: Qty,
        consumed: Qty,
        destroyed: Qty,
    },
}

impl CountLine {
    pub fn lot(&self) -> LotId {
        match self {
            CountLine::OnHand { lot, .. } | CountLine::Customer { lot, .. } => *lot,
        }
    }

    /// Which line this counts: a later count with the same key supersedes this one.
    pub fn key(&self) -> (LotId, Option<&PartyId>) {
        match self {
            CountLine::OnHand { lot, .. } => (*lot, None),
            CountLine::Customer { party, lot, .. } => (*lot, Some(party)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockCount {
    /// The mock recall (its start event).
    pub recall: u64,
    pub root: LotId,
    pub line: CountLine,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockFinish {
    pub recall: u64,
    pub root: LotId,
    /// The reconciliation as it stood when completed: the record keeps what was signed.
    pub result: Reconciliation,
    pub note: String,
}

/// What the user enters for a line, as typed: lot and customer by code, quantities in the
/// lot's unit (or `unit`, which must be the lot's: counts are never converted silently).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMockCount {
    pub recall: u64,
    pub lot: Option<LotCode>,
    pub customer: Option<PartyId>,
    pub on_hand: Option<Qty>,
    pub retrieved: Option<Qty>,
    pub consumed: Option<Qty>,
    pub destroyed: Option<Qty>,
    pub unit: Option<Unit>,
    pub note: String,
}

/// One lot's part of the reconciliation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotRecon {
    pub lot: LotId,
    pub code: LotCode,
    pub item: ItemCode,
    pub unit: Unit,
    /// The lot the recall started from.
    pub root: bool,
    /// A finished-goods lot (or a return of one).
    pub finished: bool,
    /// Received, produced or returned into the lot.
    pub produced: Qty,
    /// Used in our own batches (traced onward; taken as recorded).
    pub consumed: Qty,
    pub shipped: Qty,
    /// On hand as the system has it.
    pub on_hand: Qty,
    /// On hand as counted; `None` until counted (then nothing is taken as found).
    pub counted: Option<Qty>,
    /// Accounted for at customers: returned, retrieved, consumed and destroyed.
    pub at_customers: Qty,
}

impl LotRecon {
    /// What can be on hand if nothing was lost: produced less used and shipped.
    pub fn room(&self) -> Qty {
        let r = self.produced - self.consumed - self.shipped;
        if r.is_positive() { r } else { Qty::ZERO }
    }

    /// The count on hand as it reconciles: at most [`room`](Self::room). More than that
    /// is an over-count (the records or the count are wrong), never found product that
    /// could make up another line's shortfall.
    pub fn counted_found(&self) -> Qty {
        self.counted
            .map(|c| c.min(self.room()))
            .unwrap_or(Qty::ZERO)
    }

    /// Counted on hand beyond what the lot can hold.
    pub fn over(&self) -> Qty {
        match self.counted {
            Some(c) if c > self.room() => c - self.room(),
            _ => Qty::ZERO,
        }
    }

    /// Counted on hand (up to what the lot can hold) + used in batches + accounted for at
    /// customers (each customer up to what it received); never more than produced.
    pub fn found(&self) -> Qty {
        let found = self.counted_found() + self.consumed + self.at_customers;
        let cap = if self.produced.is_positive() {
            self.produced
        } else {
            Qty::ZERO
        };
        found.min(cap)
    }

    /// Produced less found: product nobody could account for, never below zero.
    pub fn gap(&self) -> Qty {
        self.produced - self.found()
    }

    pub fn percent_bp(&self) -> Option<i64> {
        percent_bp(self.found(), self.produced)
    }
}

/// One shipment line to a customer, for the notification list and the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipRef {
    pub event: u64,
    #[serde(with = "super::isodate")]
    pub date: NaiveDate,
    pub reference: Option<Reference>,
    pub qty: Qty,
}

/// One customer's part for one lot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRecon {
    pub party: PartyId,
    pub name: String,
    pub phone: String,
    pub contact: Contact,
    pub lot: LotId,
    pub code: LotCode,
    pub item: ItemCode,
    pub unit: Unit,
    pub shipped: Qty,
    /// Recorded as returns (`lotline return`): retrieved, with the stock to show for it.
    pub returned: Qty,
    pub retrieved: Option<Qty>,
    pub consumed: Option<Qty>,
    pub destroyed: Option<Qty>,
    pub shipments: Vec<ShipRef>,
}

impl CustomerRecon {
    pub fn counted(&self) -> bool {
        self.retrieved.is_some() || self.consumed.is_some() || self.destroyed.is_some()
    }

    /// Returned + retrieved + consumed + destroyed, as reported.
    pub fn accounted(&self) -> Qty {
        self.returned
            + self.retrieved.unwrap_or(Qty::ZERO)
            + self.consumed.unwrap_or(Qty::ZERO)
            + self.destroyed.unwrap_or(Qty::ZERO)
    }

    /// What the answer accounts for as it reconciles: at most what was shipped. A
    /// customer cannot account for more of our lot than it received from us.
    pub fn found(&self) -> Qty {
        self.accounted().min(self.shipped)
    }

    /// Accounted for beyond what was shipped.
    pub fn over(&self) -> Qty {
        let a = self.accounted();
        if a > self.shipped {
            a - self.shipped
        } else {
            Qty::ZERO
        }
    }

    /// Shipped less found.
    pub fn gap(&self) -> Qty {
        self.shipped - self.found()
    }
}

/// Totals of the lots counted in one unit (cases and kilograms do not add up; kilograms
/// and pounds do, in the unit of the first lot weighed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitTotal {
    pub unit: Unit,
    pub produced: Qty,
    pub found: Qty,
}

impl UnitTotal {
    pub fn gap(&self) -> Qty {
        self.produced - self.found
    }

    pub fn percent_bp(&self) -> Option<i64> {
        percent_bp(self.found, self.produced)
    }

    /// "gap 2 case (95.00 % found)".
    pub fn gap_text(&self) -> String {
        format!(
            "gap {} {} ({} found)",
            self.gap(),
            self.unit,
            percent_text(self.percent_bp())
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    pub lots: Vec<LotRecon>,
    pub customers: Vec<CustomerRecon>,
}

impl Reconciliation {
    /// Overall, one total per unit, in the order units first appear. Lots weighed or
    /// measured in another unit of the same kind (lb beside kg) are converted into the
    /// first one's, so a mass balance reads in one unit; counts (case, dozen, each) are
    /// never converted. Each lot's found is its own, capped: an over-count never offsets
    /// another line's shortfall.
    pub fn totals(&self) -> Vec<UnitTotal> {
        let mut out: Vec<UnitTotal> = Vec::new();
        for l in &self.lots {
            let into = |t: &UnitTotal| {
                let same_kind = t.unit.dimension() == l.unit.dimension()
                    && t.unit.dimension() != super::Dimension::Count;
                if t.unit != l.unit && !same_kind {
                    return None;
                }
                let p = l.unit.convert(l.produced, t.unit).ok()?;
                let f = l.unit.convert(l.found(), t.unit).ok()?;
                Some((p, f))
            };
            match out.iter_mut().find_map(|t| into(t).map(|pf| (t, pf))) {
                Some((t, (p, f))) => {
                    t.produced = t.produced + p;
                    t.found = t.found + f;
                }
                None => out.push(UnitTotal {
                    unit: l.unit,
                    produced: l.produced,
                    found: l.found(),
                }),
            }
        }
        out
    }

    /// What an auditor reads as findings: every line with product not accounted for, and
    /// every over-count (more found than the line can hold), lots first.
    pub fn findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        for l in &self.lots {
            // The lot's own part of its gap: what should be on hand and was not found.
            // What its customers did not account for is theirs, listed below, never twice.
            let missing = l.room() - l.counted_found();
            if missing.is_positive() {
                out.push(Finding {
                    kind: FindingKind::Gap,
                    lot: l.code.clone(),
                    customer: None,
                    qty: missing,
                    unit: l.unit,
                    counted: l.counted.is_some(),
                });
            }
            if l.over().is_positive() {
                out.push(Finding {
                    kind: FindingKind::Over,
                    lot: l.code.clone(),
                    customer: None,
                    qty: l.over(),
                    unit: l.unit,
                    counted: true,
                });
            }
        }
        for c in &self.customers {
            for (kind, qty) in [(FindingKind::Gap, c.gap()), (FindingKind::Over, c.over())] {
                if qty.is_positive() {
                    out.push(Finding {
                        kind,
                        lot: c.code.clone(),
                        customer: Some(c.party.clone()),
                        qty,
                        unit: c.unit,
                        counted: c.counted(),
                    });
                }
            }
        }
        out
    }

    /// The over-counts of the line `line` counts (said as soon as it is entered).
    pub fn over_counts_of(&self, line: &CountLine) -> Vec<Finding> {
        let (id, party) = line.key();
        let code = self
            .lots
            .iter()
            .find(|l| l.lot == id)
            .map(|l| &l.code)
            .or_else(|| self.customers.iter().find(|c| c.lot == id).map(|c| &c.code));
        self.findings()
            .into_iter()
            .filter(|f| f.kind == FindingKind::Over)
            .filter(|f| Some(&f.lot) == code && f.customer.as_ref() == party)
            .collect()
    }

    /// Lines nobody has counted yet: lots not counted on hand, customers with no answer.
    /// A lot with nothing on hand as the system has it, and no room for any, has nothing
    /// to count.
    pub fn uncounted(&self) -> usize {
        self.lots
            .iter()
            .filter(|l| l.counted.is_none())
            .filter(|l| l.room().is_positive() || l.on_hand.is_positive())
            .count()
            + self.customers.iter().filter(|c| !c.counted()).count()
    }

    /// Apply the latest count of each line (counts in event order: later supersede).
    pub fn apply<'a>(&mut self, counts: impl IntoIterator<Item = &'a CountLine>) {
        for c in counts {
            match c {
                CountLine::OnHand { lot, qty } => {
                    if let Some(l) = self.lots.iter_mut().find(|l| l.lot == *lot) {
                        l.counted = Some(*qty);
                    }
                }
                CountLine::Customer {
                    party,
                    lot,
                    retrieved,
                    consumed,
                    destroyed,
                } => {
                    if let Some(x) = self
                        .customers
                        .iter_mut()
                        .find(|x| x.lot == *lot && &x.party == party)
                    {
                        x.retrieved = Some(*retrieved);
                        x.consumed = Some(*consumed);
                        x.destroyed = Some(*destroyed);
                    }
                }
            }
        }
        // What customers accounted for, onto their lots: each up to what it received.
        for l in &mut self.lots {
            l.at_customers = self
                .customers
                .iter()
                .filter(|c| c.lot == l.lot)
                .map(|c| c.found())
                .sum();
        }
    }
}

/// Whether a finding is product missing or more found than there can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FindingKind {
    Gap,
    Over,
}

/// One line of a mock recall an auditor asks about: a lot or a customer's part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub lot: LotCode,
    /// The customer, for a customer's line; `None` for the lot counted on hand.
    pub customer: Option<PartyId>,
    pub qty: Qty,
    pub unit: Unit,
    /// The line was counted (else its gap is only that nobody counted it yet).
    pub counted: bool,
}

impl Finding {
    /// "gap 3 case: lot B1 at SHOP (no answer)", "over-count 3 case: lot B1 at SHOP".
    pub fn text(&self) -> String {
        let whose = match &self.customer {
            Some(p) => format!("lot {} at {p}", self.lot),
            None => format!("lot {} on hand", self.lot),
        };
        match self.kind {
            FindingKind::Gap => format!(
                "gap {} {}: {whose}{}",
                self.qty,
                self.unit,
                if self.counted {
                    ""
                } else if self.customer.is_some() {
                    " (no answer)"
                } else {
                    " (not counted)"
                }
            ),
            FindingKind::Over => format!(
                "over-count {} {}: {whose} (more than {}; not taken as found)",
                self.qty,
                self.unit,
                if self.customer.is_some() {
                    "was shipped"
                } else {
                    "the lot can hold"
                }
            ),
        }
    }
}

/// "0 h 26 min": a mock recall's time from start to completion, in hours and whole
/// minutes, a started minute counted (an auditor reads time taken, never less).
pub fn elapsed_text(secs: i64) -> String {
    let min = (secs.max(0) + 59) / 60;
    format!("{} h {} min", min / 60, min % 60)
}

/// One line for a return or a mock recall event in a history, the same in the app and on
/// the command line; `name` gives a lot's code and, where known, its unit (every count is
/// in its lot's unit). `None` for other events.
pub fn recall_event_text(
    kind: &super::EventKind,
    name: &dyn Fn(LotId) -> (String, Option<Unit>),
) -> Option<String> {
    use super::EventKind as K;
    let code = |id: LotId| name(id).0;
    let amount = |id: LotId, q: &crate::Qty| match name(id).1 {
        Some(u) => format!("{q} {u}"),
        None => q.to_string(),
    };
    let note = |n: &str| {
        if n.is_empty() {
            String::new()
        } else {
            format!(" — {n}")
        }
    };
    Some(match kind {
        K::PartnerLot(p) => format!(
            "{} {} of lot {} named in {} (event {}) as {}: known only from that document",
            p.qty,
            p.unit,
            code(p.lot),
            p.source,
            p.event_id,
            p.identifier
        ),
        K::PartnerLotFilled { lot, by, named } => format!(
            "lot {} filled in by receipt {by}: the {} the partner's documents named is taken back",
            code(*lot),
            amount(*lot, named)
        ),
        K::Return(r) => format!(
            "{} {} of lot {} returned by {} against shipment {} into lot {}, on hold: {}",
            r.qty,
            r.unit,
            code(r.from),
            r.customer,
            r.shipment,
            code(r.lot),
            r.reason
        ),
        K::MockRecallStarted(m) => format!(
            "mock recall started from {}{}",
            if m.asked_as.is_empty() {
                code(m.root)
            } else {
                m.asked_as.clone()
            },
            note(&m.note)
        ),
        K::MockRecallCount(c) => match &c.line {
            CountLine::OnHand { lot, qty } => format!(
                "mock recall {}: {} counted on hand {}{}",
                c.recall,
                code(*lot),
                amount(*lot, qty),
                note(&c.note)
            ),
            CountLine::Customer {
                party,
                lot,
                retrieved,
                consumed,
                destroyed,
            } => format!(
                "mock recall {}: {party} for {}: retrieved {}, consumed {}, destroyed {}{}",
                c.recall,
                code(*lot),
                amount(*lot, retrieved),
                amount(*lot, consumed),
                amount(*lot, destroyed),
                note(&c.note)
            ),
        },
        K::MockRecallFinished(f) => {
            let totals: Vec<String> = f.result.totals().iter().map(UnitTotal::gap_text).collect();
            // The completion's note is its corrective actions: said as such.
            let actions = if f.note.is_empty() {
                String::new()
            } else {
                format!("; corrective actions: {}", f.note)
            };
            format!(
                "mock recall {} completed: {}{actions}",
                f.recall,
                totals.join(", ")
            )
        }
        _ => return None,
    })
}

/// `num / den` in hundredths of a percent, rounded half away from zero; `None` when
/// `den` is not positive.
pub fn percent_bp(num: Qty, den: Qty) -> Option<i64> {
    if !den.is_positive() {
        return None;
    }
    let num = num.milli() as i128 * 10_000;
    let den = den.milli() as i128;
    let half = den * num.signum();
    Some(((num * 2 + half) / (den * 2)) as i64)
}

/// "99.97 %", "-1.99 %" or "n/a".
pub fn percent_text(bp: Option<i64>) -> String {
    match bp {
        Some(bp) => {
            let sign = if bp < 0 { "-" } else { "" };
            let a = bp.unsigned_abs();
            format!("{sign}{}.{:02} %", a / 100, a % 100)
        }
        None => "n/a".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Qty {
        s.parse().unwrap()
    }

    fn recon() -> Reconciliation {
        let code = |c: &str| LotCode::parse(c, "l").unwrap();
        let item = ItemCode::parse("COOKIE", "i").unwrap();
        let lot = |id: u32, c: &str, produced: &str, shipped: &str| LotRecon {
            lot: LotId(id),
            code: code(c),
            item: item.clone(),
            unit: Unit::Case,
            root: false,
            finished: true,
            produced: q(produced),
            consumed: Qty::ZERO,
            shipped: q(shipped),
            on_hand: q(produced) - q(shipped),
            counted: None,
            at_customers: Qty::ZERO,
        };
        let cust = |p: &str, id: u32, c: &str, shipped: &str| CustomerRecon {
            party: PartyId::parse(p, "c").unwrap(),
            name: p.into(),
            phone: String::new(),
            contact: Contact::default(),
            lot: LotId(id),
            code: code(c),
            item: item.clone(),
            unit: Unit::Case,
            shipped: q(shipped),
            returned: Qty::ZERO,
            retrieved: None,
            consumed: None,
            destroyed: None,
            shipments: vec![],
        };
        Reconciliation {
            lots: vec![lot(1, "B1", "40", "20"), lot(2, "B2", "10", "0")],
            customers: vec![cust("SHOP", 1, "B1", "15"), cust("CAFE", 1, "B1", "5")],
        }
    }

    #[test]
    fn counts_leave_a_gap_per_lot_and_overall() {
        let mut r = recon();
        assert_eq!(r.uncounted(), 4);
        let shop = PartyId::parse("SHOP", "c").unwrap();
        let counts = [
            CountLine::OnHand {
                lot: LotId(1),
                qty: q("19"),
            },
            CountLine::Customer {
                party: shop.clone(),
                lot: LotId(1),
                retrieved: q("10"),
                consumed: q("2"),
                destroyed: q("1"),
            },
            // A recount supersedes the first count of the same line.
            CountLine::OnHand {
                lot: LotId(1),
                qty: q("18"),
            },
            CountLine::OnHand {
                lot: LotId(2),
                qty: q("10"),
            },
        ];
        r.apply(&counts);
        let b1 = &r.lots[0];
        assert_eq!(b1.counted, Some(q("18")));
        assert_eq!(b1.at_customers, q("13"));
        assert_eq!(b1.found(), q("31"));
        assert_eq!(b1.gap(), q("9"));
        assert_eq!(percent_text(b1.percent_bp()), "77.50 %");
        assert_eq!(r.uncounted(), 1, "CAFE has not answered");
        let t = r.totals();
        assert_eq!(t.len(), 1);
        assert_eq!(
            (t[0].produced, t[0].found, t[0].gap()),
            (q("50"), q("41"), q("9"))
        );
        assert_eq!(percent_text(t[0].percent_bp()), "82.00 %");
    }

    #[test]
    fn an_over_count_never_offsets_another_lines_shortfall() {
        let mut r = recon();
        let shop = PartyId::parse("SHOP", "c").unwrap();
        // SHOP got 15 of B1 and says 20 came back; CAFE (5) has not answered; B1's 20
        // on hand counted as 23; B2 counted in full.
        r.apply(&[
            CountLine::Customer {
                party: shop.clone(),
                lot: LotId(1),
                retrieved: q("20"),
                consumed: Qty::ZERO,
                destroyed: Qty::ZERO,
            },
            CountLine::OnHand {
                lot: LotId(1),
                qty: q("23"),
            },
            CountLine::OnHand {
                lot: LotId(2),
                qty: q("10"),
            },
        ]);
        let (shop_line, b1) = (&r.customers[0], &r.lots[0]);
        assert_eq!(
            (shop_line.found(), shop_line.over(), shop_line.gap()),
            (q("15"), q("5"), Qty::ZERO)
        );
        assert_eq!(
            (b1.at_customers, b1.counted_found(), b1.over()),
            (q("15"), q("20"), q("3"))
        );
        assert_eq!(
            (b1.found(), b1.gap()),
            (q("35"), q("5")),
            "CAFE's 5 stay missing"
        );
        let t = r.totals();
        assert_eq!((t[0].found, t[0].gap()), (q("45"), q("5")));
        assert_eq!(percent_text(t[0].percent_bp()), "90.00 %");
        let f: Vec<String> = r.findings().iter().map(Finding::text).collect();
        assert_eq!(
            f,
            vec![
                "over-count 3 case: lot B1 on hand (more than the lot can hold; not taken as found)",
                "over-count 5 case: lot B1 at SHOP (more than was shipped; not taken as found)",
                "gap 5 case: lot B1 at CAFE (no answer)",
            ]
        );
    }

    #[test]
    fn weights_total_in_one_unit_and_counts_apart() {
        let mut r = recon();
        let mut flour = r.lots[1].clone();
        flour.lot = LotId(3);
        flour.unit = Unit::Kg;
        flour.produced = q("10");
        flour.consumed = q("10");
        let mut sugar = flour.clone();
        sugar.lot = LotId(4);
        sugar.unit = Unit::Lb;
        sugar.produced = q("10");
        sugar.consumed = q("5");
        r.lots.extend([flour, sugar]);
        r.apply(&[]);
        let t = r.totals();
        assert_eq!(
            t.iter()
                .map(|t| (t.unit, t.produced, t.found))
                .collect::<Vec<_>>(),
            vec![
                (Unit::Case, q("50"), Qty::ZERO),
                (Unit::Kg, q("14.536"), q("12.268")),
            ]
        );
    }

    #[test]
    fn time_taken_reads_in_hours_and_minutes() {
        assert_eq!(elapsed_text(0), "0 h 0 min");
        assert_eq!(elapsed_text(26), "0 h 1 min");
        assert_eq!(elapsed_text(26 * 60), "0 h 26 min");
        assert_eq!(elapsed_text(3725), "1 h 3 min");
        assert_eq!(elapsed_text(-5), "0 h 0 min");
    }

    #[test]
    fn percentages() {
        assert_eq!(percent_text(percent_bp(q("2.999"), q("3"))), "99.97 %");
        assert_eq!(percent_text(percent_bp(q("1"), Qty::ZERO)), "n/a");
        assert_eq!(percent_text(percent_bp(q("-1.99"), q("100"))), "-1.99 %");
    }
}
