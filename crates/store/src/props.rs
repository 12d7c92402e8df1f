//! Property tests: whatever sequence of receipts, batches, shipments, holds, voids and
//! adjustments users throw at the store — including ones it must refuse — the database
//! stays consistent, and every lot reached forward from x leads back to x.

use super::test_util::*;
use super::*;
use lotline_domain::api::Command;
use lotline_domain::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Receive {
        item: u8,
        qty: u16,
    },
    /// Inputs as (lot index, per-mille of its balance; > 1000 asks for too much).
    Produce {
        item: u8,
        qty: u16,
        inputs: Vec<(u8, u16)>,
    },
    Ship {
        customer: u8,
        lines: Vec<(u8, u16)>,
    },
    Hold(u8),
    Release(u8),
    Adjust(u8, i16),
    Void(u8),
}

fn op() -> impl Strategy<Value = Op> {
    let line = (any::<u8>(), 1u16..1200);
    prop_oneof![
        3 => (0u8..4, 1u16..500).prop_map(|(item, qty)| Op::Receive { item, qty }),
        4 => (0u8..4, 1u16..300, prop::collection::vec(line.clone(), 1..4)).prop_map(|(item, qty, inputs)| Op::Produce { item, qty, inputs }),
        2 => (0u8..2, prop::collection::vec(line, 1..3)).prop_map(|(customer, lines)| Op::Ship { customer, lines }),
        1 => any::<u8>().prop_map(Op::Hold),
        1 => any::<u8>().prop_map(Op::Release),
        1 => (any::<u8>(), -50i16..50).prop_map(|(l, d)| Op::Adjust(l, d)),
        1 => any::<u8>().prop_map(Op::Void),
    ]
}

const ITEMS: [&str; 4] = ["FLOUR", "EGGS", "DOUGH", "COOKIE"];
const CUSTOMERS: [&str; 2] = ["SHOP", "CAFE"];

fn pick(lots: &[Lot], i: u8) -> Option<&Lot> {
    (!lots.is_empty()).then(|| &lots[i as usize % lots.len()])
}

/// Part of a lot's balance, in per-mille; at least one thousandth.
fn part(l: &Lot, per_mille: u16) -> Qty {
    Qty((l.balance.milli() * per_mille as i64 / 1000).max(1))
}

fn apply(s: &Store, op: &Op) -> Result<(), StoreError> {
    let lots = s.find_lots(&LotFilter::default())?;
    let reason = || "property test".to_string();
    match op {
        Op::Receive { item, qty } => {
            s.apply(
                Command::Receive(NewReceipt {
                    item: ItemCode::parse(ITEMS[*item as usize % 2], "item")?,
                    supplier: PartyId::parse("MILL", "supplier")?,
                    supplier_lot: SupplierLot::parse(&format!("S{qty}"), "supplier-lot")?,
                    qty: Qty::from_units(*qty as i64),
                    unit: None,
                    date: today(),
                    expiry: None,
                    reference: None,
                    documents: Default::default(),
                    quality: Quality::default(),
                    tlc_source_ref: None,
                }),
                &stamp(),
                today(),
            )?;
        }
        Op::Produce { item, qty, inputs } => {
            let lines = inputs
                .iter()
                .filter_map(|(i, pm)| {
                    pick(&lots, *i).map(|l| LotLine {
                        lot: l.code.clone(),
                        qty: part(l, *pm),
                    })
                })
                .collect();
            s.apply(
                Command::Produce(NewBatch {
                    allow_expired: false,
                    item: ItemCode::parse(ITEMS[*item as usize], "item")?,
                    qty: Qty::from_units(*qty as i64),
                    unit: None,
                    date: today(),
                    line: None,
                    reference: None,
                    documents: Default::default(),
                    expiry: None,
                    inputs: lines,
                }),
                &stamp(),
                today(),
            )?;
        }
        Op::Ship { customer, lines } => {
            let lines = lines
                .iter()
                .filter_map(|(i, pm)| {
                    pick(&lots, *i).map(|l| LotLine {
                        lot: l.code.clone(),
                        qty: part(l, *pm),
                    })
                })
                .collect();
            s.apply(
                Command::Ship(NewShipment {
                    allow_expired: false,
                    customer: PartyId::parse(CUSTOMERS[*customer as usize], "customer")?,
                    date: today(),
                    reference: None,
                    documents: Default::default(),
                    lines,
                }),
                &stamp(),
                today(),
            )?;
        }
        Op::Hold(i) | Op::Release(i) => {
            if let Some(l) = pick(&lots, *i) {
                let to = if matches!(op, Op::Hold(_)) {
                    LotStatus::Hold
                } else {
                    LotStatus::Released
                };
                s.apply(
                    Command::SetStatus(StatusChange {
                        lot: l.code.clone(),
                        to,
                        date: today(),
                        reason: reason(),
                    }),
                    &stamp(),
                    today(),
                )?;
            }
        }
        Op::Adjust(i, d) => {
            if let Some(l) = pick(&lots, *i) {
                s.apply(
                    Command::Adjust(Adjustment {
                        lot: l.code.clone(),
                        delta: Qty::from_units(*d as i64),
                        date: today(),
                        reason: reason(),
                    }),
                    &stamp(),
                    today(),
                )?;
            }
        }
        Op::Void(i) => {
            let n = s.stats()?.events;
            if n > 0 {
                s.apply(
                    Command::Void(VoidEvent {
                        event: 1 + *i as u64 % n,
                        date: today(),
                        reason: reason(),
                    }),
                    &stamp(),
                    today(),
                )?;
            }
        }
    }
    Ok(())
}

fn setup() -> (tempfile::TempDir, Store) {
    let (d, s) = temp_store();
    add_item(&s, "FLOUR", Unit::Kg, ItemKind::Ingredient);
    add_item(&s, "EGGS", Unit::Dozen, ItemKind::Ingredient);
    add_item(&s, "DOUGH", Unit::Kg, ItemKind::Intermediate);
    add_item(&s, "COOKIE", Unit::Case, ItemKind::Finished);
    add_party(&s, "MILL", Role::Supplier);
    add_party(&s, "SHOP", Role::Customer);
    add_party(&s, "CAFE", Role::Customer);
    (d, s)
}

proptest! {
    // 24 cases keep `cargo test` quick.
    #![proptest_config(lotline_domain::fuzz::config(24))]

    #[test]
    fn random_histories_stay_consistent_and_traces_are_symmetric(ops in prop::collection::vec(op(), 1..40)) {
        let (_d, s) = setup();
        for op in &ops {
            let before = (s.stats().unwrap(), s.find_lots(&LotFilter::default()).unwrap());
            if let Err(e) = apply(&s, op) {
                // A refused command is a user error with a field, and it stores nothing.
                prop_assert!(matches!(e, StoreError::Invalid(_)), "{op:?}: {e}");
                let after = (s.stats().unwrap(), s.find_lots(&LotFilter::default()).unwrap());
                prop_assert_eq!(before, after, "refused {:?} changed the store", op);
            }
        }
        let report = s.check().unwrap();
        prop_assert!(report.problems.is_empty(), "{:?}", report.problems);
        // The void rule, judged from each lot's history: a receipt or batch whose lot has
        // no standing use (nothing but status changes, records and voids) can be voided.
        for lot in s.find_lots(&LotFilter::default()).unwrap() {
            if lot.status == LotStatus::Voided {
                continue;
            }
            let h = s.lot_history(&lot.code).unwrap();
            let used = h.events.iter().any(|e| {
                e.voided_by.is_none()
                    && e.event.id != lot.event
                    && !matches!(e.event.kind, EventKind::Status { .. } | EventKind::Void { .. } | EventKind::MockRecall(_))
            });
            let made_by_standing_event = h.events.iter().any(|e| e.event.id == lot.event && e.voided_by.is_none());
            if !used && made_by_standing_event {
                let r = s.apply(Command::Void(VoidEvent { event: lot.event, date: today(), reason: "oracle".into() }), &stamp(), today());
                prop_assert!(r.is_ok(), "unused lot {} could not be voided: {:?}", lot.code, r);
            }
        }
        let report = s.check().unwrap();
        prop_assert!(report.problems.is_empty(), "after voiding unused lots: {:?}", report.problems);
        for x in s.find_lots(&LotFilter::default()).unwrap() {
            let fwd = s.trace(&x.code, Direction::Forward).unwrap();
            for y in &fwd.lots {
                let back = s.trace(&y.code, Direction::Backward).unwrap();
                prop_assert!(back.contains(x.id), "backward({}) misses {} though forward({}) reached it", y.code, x.code, x.code);
            }
            let both = s.trace(&x.code, Direction::Both).unwrap();
            let mut ids: Vec<_> = both.lots.iter().map(|l| l.id).collect();
            ids.sort();
            ids.dedup();
            prop_assert_eq!(ids.len(), both.lots.len(), "a lot listed twice in a trace");
        }
    }
}
