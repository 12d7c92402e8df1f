//! Mass balance: how much of a lot is accounted for. Auditors (SQF, BRCGS) judge a mock
//! recall by it: received or produced against consumed + shipped + on hand, with what was
//! written off (adjusted) shown as the part not accounted for.
//! All arithmetic is exact: thousandths in integers, percentages in hundredths of a percent.

use super::{EventKind, LotId, Qty};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MassBalance {
    /// Received or produced (0 if the creating event was voided).
    pub start: Qty,
    /// Used as input to batches.
    pub consumed: Qty,
    pub shipped: Qty,
    /// Net adjustments: negative for write-offs, positive for recounts that found more.
    pub adjusted: Qty,
    /// The lot's recorded balance.
    pub on_hand: Qty,
    /// Of `shipped`, what customers sent back: it came into return lots of its own (on
    /// hold), so it stays counted as shipped here and is shown beside it.
    pub returned: Qty,
}

/// A mass balance as the first mock-recall records kept it (before returns were counted):
/// the layout those stored events were written in, read as it was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedBalance {
    pub start: Qty,
    pub consumed: Qty,
    pub shipped: Qty,
    pub adjusted: Qty,
    pub on_hand: Qty,
}

impl From<RecordedBalance> for MassBalance {
    fn from(b: RecordedBalance) -> MassBalance {
        MassBalance {
            start: b.start,
            consumed: b.consumed,
            shipped: b.shipped,
            adjusted: b.adjusted,
            on_hand: b.on_hand,
            returned: Qty::ZERO,
        }
    }
}

impl From<MassBalance> for RecordedBalance {
    fn from(b: MassBalance) -> RecordedBalance {
        RecordedBalance {
            start: b.start,
            consumed: b.consumed,
            shipped: b.shipped,
            adjusted: b.adjusted,
            on_hand: b.on_hand,
        }
    }
}

impl MassBalance {
    /// Tally a lot's events (voided ones excluded by the caller) against its balance.
    pub fn tally<'a>(
        lot: LotId,
        on_hand: Qty,
        events: impl IntoIterator<Item = &'a EventKind>,
    ) -> MassBalance {
        let mut m = MassBalance {
            on_hand,
            ..Default::default()
        };
        for e in events {
            match e {
                EventKind::Receive(r) if r.lot == lot => m.start = m.start + r.qty,
                EventKind::Produce(b) => {
                    if b.output == lot {
                        m.start = m.start + b.qty;
                    }
                    m.consumed = m.consumed
                        + b.inputs
                            .iter()
                            .filter(|u| u.lot == lot)
                            .map(|u| u.qty)
                            .sum();
                }
                EventKind::Ship(s) => {
                    m.shipped =
                        m.shipped + s.lines.iter().filter(|u| u.lot == lot).map(|u| u.qty).sum()
                }
                EventKind::Adjust { lot: l, delta, .. } if *l == lot => {
                    m.adjusted = m.adjusted + *delta
                }
                // A return lot starts with what came back; the lot it was shipped from
                // shows the return beside its shipments.
                EventKind::Return(r) if r.lot == lot => m.start = m.start + r.qty,
                EventKind::Return(r) if r.from == lot => m.returned = m.returned + r.qty,
                // What a partner's documents named of a lot known only from them starts
                // it, until a receipt fills it in and takes that back.
                EventKind::PartnerLot(p) if p.lot == lot => m.start = m.start + p.qty,
                EventKind::PartnerLotFilled { lot: l, named, .. } if *l == lot => {
                    m.start = m.start - *named
                }
                _ => {}
            }
        }
        m
    }

    /// Consumed + shipped + on hand: where the product is accounted for. Write-offs are
    /// not in it: a spill is product that went nowhere, and the reconciliation must show it.
    pub fn accounted(&self) -> Qty {
        self.consumed + self.shipped + self.on_hand
    }

    /// What is not accounted for: received or produced less accounted (positive: missing,
    /// written off; negative: more found than came in). On a consistent lot this is the
    /// net write-off.
    pub fn gap(&self) -> Qty {
        self.start - self.accounted()
    }

    /// Accounted / start in hundredths of a percent, rounded half away from zero; `None`
    /// for an empty lot.
    pub fn reconciliation_bp(&self) -> Option<i64> {
        if !self.start.is_positive() {
            return None;
        }
        let num = self.accounted().milli() as i128 * 10_000;
        let den = self.start.milli() as i128;
        let half = den * num.signum();
        Some(((num * 2 + half) / (den * 2)) as i64)
    }

    /// "99.97 %", "-1.99 %" or "n/a".
    pub fn reconciliation_text(&self) -> String {
        match self.reconciliation_bp() {
            Some(bp) => {
                let sign = if bp < 0 { "-" } else { "" };
                let a = bp.unsigned_abs();
                format!("{sign}{}.{:02} %", a / 100, a % 100)
            }
            None => "n/a".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Batch, ItemCode, PartyId, Receipt, Shipment, SupplierLot, Unit, Use};

    fn q(s: &str) -> Qty {
        s.parse().unwrap()
    }

    fn receipt(lot: LotId, qty: &str) -> EventKind {
        EventKind::Receive(Receipt {
            lot,
            item: ItemCode::parse("FLOUR", "i").unwrap(),
            supplier: PartyId::parse("MILL", "s").unwrap(),
            supplier_lot: SupplierLot::parse("M1", "s").unwrap(),
            qty: q(qty),
            unit: Unit::Kg,
            expiry: None,
            quality: Default::default(),
            as_received: None,
            tlc_source_ref: None,
        })
    }

    fn batch(input: LotId, used: &str) -> EventKind {
        EventKind::Produce(Batch {
            output: LotId(99),
            item: ItemCode::parse("DOUGH", "i").unwrap(),
            qty: q("1"),
            unit: Unit::Kg,
            line: None,
            inputs: vec![Use {
                lot: input,
                qty: q(used),
            }],
        })
    }

    #[test]
    fn mock_recall_records_of_older_files_read_as_they_were_written() {
        // The layout `MassBalance` had when the first mock recall records were stored.
        #[derive(Serialize)]
        struct Before {
            start: Qty,
            consumed: Qty,
            shipped: Qty,
            adjusted: Qty,
            on_hand: Qty,
        }
        let old = postcard::to_stdvec(&Before {
            start: q("40"),
            consumed: q("1"),
            shipped: q("20"),
            adjusted: q("-0.5"),
            on_hand: q("18.5"),
        })
        .unwrap();
        let read: RecordedBalance = postcard::from_bytes(&old).unwrap();
        let m = MassBalance::from(read);
        assert_eq!(
            (m.start, m.on_hand, m.returned),
            (q("40"), q("18.5"), Qty::ZERO)
        );
        assert_eq!(m.reconciliation_text(), "98.75 %");
    }

    #[test]
    fn a_return_starts_its_own_lot_and_shows_beside_the_shipments_it_came_from() {
        let (shipped, back) = (LotId(1), LotId(2));
        let events = vec![
            receipt(shipped, "40"),
            EventKind::Ship(Shipment {
                customer: PartyId::parse("SHOP", "c").unwrap(),
                lines: vec![Use {
                    lot: shipped,
                    qty: q("15"),
                }],
            }),
            EventKind::Return(crate::CustomerReturn {
                shipment: 2,
                customer: PartyId::parse("SHOP", "c").unwrap(),
                from: shipped,
                lot: back,
                item: ItemCode::parse("FLOUR", "i").unwrap(),
                qty: q("4"),
                unit: Unit::Kg,
                reason: "dented".into(),
            }),
        ];
        let m = MassBalance::tally(shipped, q("25"), &events);
        // Shipped stays shipped; what came back is shown beside it, and all is accounted.
        assert_eq!(
            (m.shipped, m.returned, m.gap()),
            (q("15"), q("4"), Qty::ZERO)
        );
        let r = MassBalance::tally(back, q("4"), &events);
        assert_eq!((r.start, r.on_hand, r.gap()), (q("4"), q("4"), Qty::ZERO));
    }

    #[test]
    fn a_write_off_shows_in_the_reconciliation() {
        let l = LotId(1);
        let events = vec![
            receipt(l, "1000"),
            batch(l, "333.333"),
            batch(l, "333.333"),
            EventKind::Ship(Shipment {
                customer: PartyId::parse("SHOP", "c").unwrap(),
                lines: vec![Use {
                    lot: l,
                    qty: q("100"),
                }],
            }),
            EventKind::Adjust {
                lot: l,
                delta: q("-0.334"),
                reason: "spill".into(),
            },
        ];
        let m = MassBalance::tally(l, q("233"), &events);
        assert_eq!(m.start, q("1000"));
        assert_eq!(m.consumed, q("666.666"));
        assert_eq!(m.shipped, q("100"));
        assert_eq!(m.adjusted, q("-0.334"));
        // The spill is not accounted for: the gap shows it, and the reconciliation.
        assert_eq!(m.accounted(), q("999.666"));
        assert_eq!(m.gap(), q("0.334"));
        assert_eq!(m.reconciliation_text(), "99.97 %");
    }

    #[test]
    fn thousands_of_small_uses_have_no_drift() {
        let l = LotId(1);
        let mut events = vec![receipt(l, "1000")];
        events.extend((0..10_000).map(|_| batch(l, "0.1")));
        let m = MassBalance::tally(l, Qty::ZERO, &events);
        assert_eq!(m.consumed, q("1000"));
        assert_eq!(m.reconciliation_bp(), Some(10_000));
    }

    #[test]
    fn a_gap_shows_as_less_than_100_percent() {
        let l = LotId(1);
        let m = MassBalance::tally(l, q("10"), &[receipt(l, "3"), batch(l, "0.5")]);
        // 3 received, 0.5 used, 10 on the books: more found than came in
        assert_eq!(m.gap(), q("-7.5"));
        assert_eq!(m.reconciliation_text(), "350.00 %");
        let m = MassBalance::tally(l, q("0.999"), &[receipt(l, "3"), batch(l, "2")]);
        assert_eq!(m.reconciliation_bp(), Some(9_997)); // 2.999 / 3 = 99.9667 % → 99.97 %
        assert_eq!(m.reconciliation_text(), "99.97 %");
        assert_eq!(MassBalance::default().reconciliation_text(), "n/a");
        // Negative figures keep their sign and digits (found in review: -1.99 showed as -1.01).
        let m = MassBalance {
            start: q("100"),
            on_hand: q("-1.99"),
            ..Default::default()
        };
        assert_eq!(m.reconciliation_text(), "-1.99 %");
        let m = MassBalance {
            start: q("100"),
            on_hand: q("-0.5"),
            ..Default::default()
        };
        assert_eq!(m.reconciliation_text(), "-0.50 %");
    }
}
