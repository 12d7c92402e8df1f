//! What a recall needs from a trace (DESIGN.md §4.2): the scope — every finished lot and
//! customer shipment reachable forward, and what is still on hand to hold; the mass
//! balance of a lot; and the complaint lookup — what did this customer receive?

use super::codec::decode;
use super::query::{read_event, read_lot, read_lot_id};
use super::tables::*;
use super::trace::{Direction, Trace, TraceShipment};
use super::{Store, StoreError};
use crate::domain::*;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

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

impl Store {
    /// Everything reachable forward from `code`, shaped for a recall.
    pub fn recall_scope(&self, code: &LotCode) -> Result<RecallScope, StoreError> {
        self.scope_of(self.trace(code, Direction::Forward)?)
    }

    /// A recall scope drawn from a forward trace, however it was walked.
    pub(super) fn scope_of(&self, trace: Trace) -> Result<RecallScope, StoreError> {
        let r = self.read()?;
        let items = r.open_table(ITEMS)?;
        let parties = r.open_table(PARTIES)?;
        let mut kinds: HashMap<ItemCode, ItemKind> = HashMap::new();
        let mut finished = Vec::new();
        let mut to_hold = Vec::new();
        let mut already_held = Vec::new();
        for l in &trace.lots {
            if !kinds.contains_key(&l.item) {
                let kind = match items.get(l.item.as_str())? {
                    Some(v) => decode::<Item>(v.value(), "items", &l.item)?.kind,
                    None => {
                        return Err(StoreError::Damaged {
                            detail: format!("lot {} names missing item {}", l.code, l.item),
                        });
                    }
                };
                kinds.insert(l.item.clone(), kind);
            }
            if kinds[&l.item] == ItemKind::Finished && l.status != LotStatus::Voided {
                finished.push(l.id);
            }
            if l.balance.is_positive() {
                match l.status {
                    LotStatus::Released => to_hold.push(l.id),
                    LotStatus::Hold | LotStatus::Recalled => already_held.push(l.id),
                    LotStatus::Voided => {}
                }
            }
        }
        let mut by_customer: BTreeMap<PartyId, Vec<TraceShipment>> = BTreeMap::new();
        for s in &trace.shipments {
            by_customer
                .entry(s.customer.clone())
                .or_default()
                .push(s.clone());
        }
        let mut customers = Vec::new();
        for (id, mut shipments) in by_customer {
            shipments.sort_by_key(|s| (s.date, s.event));
            let party = match parties.get(id.as_str())? {
                Some(v) => decode(v.value(), "parties", &id)?,
                None => {
                    return Err(StoreError::Damaged {
                        detail: format!("shipment names missing customer {id}"),
                    });
                }
            };
            customers.push(ScopeCustomer { party, shipments });
        }
        Ok(RecallScope {
            trace,
            finished,
            customers,
            to_hold,
            already_held,
        })
    }

    /// The lot's mass balance from its events (voided ones left out) and its balance.
    pub fn mass_balance(&self, code: &LotCode) -> Result<MassBalance, StoreError> {
        let h = self.lot_history(code)?;
        let live: Vec<&EventKind> = h
            .events
            .iter()
            .filter(|e| e.voided_by.is_none())
            .map(|e| &e.event.kind)
            .collect();
        Ok(MassBalance::tally(h.lot.id, h.lot.balance, live))
    }

    /// What `customer` received, newest first: optionally only `item`, only within dates.
    pub fn deliveries(
        &self,
        customer: &PartyId,
        item: Option<&ItemCode>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Vec<Delivery>, StoreError> {
        let r = self.read()?;
        if r.open_table(PARTIES)?.get(customer.as_str())?.is_none() {
            return Err(StoreError::invalid(
                "customer",
                format!("no party {customer}"),
            ));
        }
        let voids = r.open_table(EVENT_VOIDS)?;
        let mut out = Vec::new();
        for e in r
            .open_table(PARTY_EVENTS)?
            .range((customer.as_str(), 0)..=(customer.as_str(), u64::MAX))?
        {
            let id = e?.0.value().1;
            if voids.get(id)?.is_some() {
                continue;
            }
            let ev = read_event(&r, id)?;
            if from.is_some_and(|f| ev.date < f) || to.is_some_and(|t| ev.date > t) {
                continue;
            }
            if let EventKind::Ship(s) = &ev.kind {
                for line in &s.lines {
                    let lot = read_lot(&r, line.lot)?;
                    if item.is_none_or(|i| &lot.item == i) {
                        out.push(Delivery {
                            event: ev.id,
                            date: ev.date,
                            reference: ev.reference.clone(),
                            lot,
                            qty: line.qty,
                        });
                    }
                }
            }
        }
        out.sort_by_key(|d| std::cmp::Reverse((d.date, d.event)));
        Ok(out)
    }

    /// The lot with this code, if there is one (a scan may or may not be ours).
    pub fn find_lot(&self, code: &LotCode) -> Result<Option<Lot>, StoreError> {
        let r = self.read()?;
        match read_lot_id(&r, code) {
            Ok(id) => Ok(Some(read_lot(&r, id)?)),
            Err(StoreError::Invalid(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;

    #[test]
    fn scope_of_an_egg_lot_names_finished_lots_customers_and_stock_to_hold() {
        let (_d, s, [_, eggs, dough, cookies]) = bakery();
        let scope = s.recall_scope(&eggs).unwrap();
        let code = |id: LotId| scope.trace.lot(id).unwrap().code.clone();
        assert_eq!(
            scope.finished.iter().map(|i| code(*i)).collect::<Vec<_>>(),
            vec![cookies.clone()]
        );
        let names: Vec<&str> = scope
            .customers
            .iter()
            .map(|c| c.party.id.as_str())
            .collect();
        assert_eq!(names, vec!["CAFE", "SHOP"]);
        assert_eq!(scope.customers[1].shipments[0].qty, Qty::from_units(15));
        // eggs (40 dozen left) and cookies (20 cases) are on hand; dough is used up
        let hold: Vec<LotCode> = scope.to_hold.iter().map(|i| code(*i)).collect();
        assert_eq!(hold, vec![eggs.clone(), cookies.clone()]);
        assert!(!hold.contains(&dough));
    }

    #[test]
    fn mass_balance_of_a_used_and_shipped_lot() {
        let (_d, s, [flour, _, _, cookies]) = bakery();
        let m = s.mass_balance(&cookies).unwrap();
        assert_eq!(
            (m.start, m.shipped, m.on_hand),
            (
                Qty::from_units(40),
                Qty::from_units(20),
                Qty::from_units(20)
            )
        );
        assert_eq!(m.reconciliation_text(), "100.00 %");
        let m = s.mass_balance(&flour).unwrap();
        assert_eq!(
            (m.consumed, m.on_hand, m.gap()),
            (Qty::from_units(100), Qty::from_units(900), Qty::ZERO)
        );
    }

    #[test]
    fn deliveries_answer_what_did_this_customer_get() {
        let (_d, s, [.., cookies]) = bakery();
        let shop = PartyId::parse("SHOP", "c").unwrap();
        let d = s.deliveries(&shop, None, None, None).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].lot.code, cookies);
        let flour = ItemCode::parse("FLOUR", "i").unwrap();
        assert!(
            s.deliveries(&shop, Some(&flour), None, None)
                .unwrap()
                .is_empty()
        );
        let tomorrow = today().succ_opt().unwrap();
        assert!(
            s.deliveries(&shop, None, Some(tomorrow), None)
                .unwrap()
                .is_empty()
        );
        let e = s
            .deliveries(&PartyId::parse("NOBODY", "c").unwrap(), None, None, None)
            .unwrap_err();
        assert_eq!(e.to_string(), "customer: no party NOBODY");
        assert!(
            s.find_lot(&LotCode::parse("NOPE", "l").unwrap())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn hold_all_holds_the_scope_stock_in_one_go_and_skips_held_lots() {
        let (_d, s, [flour, eggs, _, cookies]) = bakery();
        s.set_status(
            StatusChange {
                lot: cookies.clone(),
                to: LotStatus::Hold,
                date: today(),
                reason: "swab".into(),
            },
            &stamp(),
            today(),
        )
        .unwrap();
        let scope = s.recall_scope(&eggs).unwrap();
        let stock: Vec<LotCode> = scope
            .to_hold
            .iter()
            .chain(&scope.already_held)
            .map(|id| scope.trace.lot(*id).unwrap().code.clone())
            .collect();
        let events = s
            .hold_all(
                HoldAll {
                    lots: stock,
                    date: today(),
                    reason: "mock recall MR-7".into(),
                },
                &stamp(),
                today(),
            )
            .unwrap();
        assert_eq!(events.len(), 1, "cookies were already on hold");
        assert_eq!(s.lot_by_code(&eggs).unwrap().status, LotStatus::Hold);
        assert_eq!(
            s.lot_by_code(&flour).unwrap().status,
            LotStatus::Released,
            "outside the scope"
        );
        // one bad lot: nothing is held
        let bad = s.hold_all(
            HoldAll {
                lots: vec![flour.clone(), LotCode::parse("NOPE", "l").unwrap()],
                date: today(),
                reason: "x".into(),
            },
            &stamp(),
            today(),
        );
        assert!(bad.is_err());
        assert_eq!(s.lot_by_code(&flour).unwrap().status, LotStatus::Released);
        assert!(s.check().unwrap().problems.is_empty());
    }

    #[test]
    fn a_mock_recall_is_kept_in_the_root_lots_history() {
        let (_d, s, [_, eggs, ..]) = bakery();
        let scope = s.recall_scope(&eggs).unwrap();
        let record = MockRecall {
            root: scope.trace.root,
            direction: "forward".into(),
            elapsed_ms: 41_000,
            lots: scope.trace.lots.len() as u32,
            finished_lots: scope.finished.len() as u32,
            shipments: scope.trace.shipments.len() as u32,
            customers: scope.customers.len() as u32,
            on_hand_lots: scope.to_hold.len() as u32,
            balance: s.mass_balance(&eggs).unwrap(),
            note: "quarterly mock recall".into(),
        };
        let id = s
            .record_mock_recall(record.clone(), today(), &stamp(), today())
            .unwrap();
        let h = s.lot_history(&eggs).unwrap();
        let last = h.events.last().unwrap();
        assert_eq!(last.event.id, id);
        assert_eq!(last.event.kind, EventKind::MockRecall(record));
        assert_eq!(
            s.lot_by_code(&eggs).unwrap().balance,
            Qty::from_units(40),
            "a record changes nothing"
        );
        assert!(s.check().unwrap().problems.is_empty());
    }
}
