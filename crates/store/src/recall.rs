//! What a recall needs from a trace (docs/store.md): the scope — every finished lot and
//! customer shipment reachable forward, and what is still on hand to hold; the mass
//! balance of a lot; and the complaint lookup — what did this customer receive?

use super::codec::decode;
use super::query::{read_event, read_lot, read_lot_id};
use super::tables::*;

use super::{Store, StoreError};
use chrono::NaiveDate;
use lotline_domain::*;
use redb::ReadableTable;
use std::collections::{BTreeMap, HashMap};

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

impl Store {
    /// The recall scope of `code`, with every affected lot's figures and every customer's
    /// shipments and contacts (see [`RecallReport`]).
    pub fn recall_report(&self, code: &LotCode) -> Result<RecallReport, StoreError> {
        let scope = self.recall_scope(code)?;
        self.report_of(scope, false)
    }

    /// The recall report a mock recall reconciles: every live lot of the scope, work in
    /// progress too (an intermediate still on hand is product to find, docs/store.md).
    fn mock_report(&self, code: &LotCode) -> Result<RecallReport, StoreError> {
        let scope = self.recall_scope(code)?;
        self.report_of(scope, true)
    }

    /// `every_lot`: reconcile each live lot of the scope, not only the root, finished
    /// lots and lots shipped.
    fn report_of(&self, scope: RecallScope, every_lot: bool) -> Result<RecallReport, StoreError> {
        let r = self.read()?;
        let items = r.open_table(ITEMS)?;
        let t = &scope.trace;
        let mut names = BTreeMap::new();
        for l in &t.lots {
            if !names.contains_key(&l.item)
                && let Some(v) = items.get(l.item.as_str())?
            {
                let item: Item = decode(v.value(), "items", &l.item)?;
                names.insert(l.item.clone(), item.description.name);
            }
        }
        let live = |l: &Lot| l.status != LotStatus::Voided;
        let by_id = t.lot_index();
        // Returns, by the lot and shipment they came back from.
        let mut returns: HashMap<(LotId, u64), Qty> = HashMap::new();
        for l in t.lots.iter().filter(|l| live(l)) {
            if let Origin::Returned { shipment, from, .. } = &l.origin {
                let e = returns.entry((*from, *shipment)).or_default();
                *e = *e + l.quantity;
            }
        }
        let shipped_lots: std::collections::HashSet<LotId> =
            t.shipments.iter().map(|s| s.lot).collect();
        let finished: std::collections::HashSet<LotId> = scope.finished.iter().copied().collect();
        let mut lots = Vec::new();
        for l in &t.lots {
            let root = l.id == t.root;
            let reconciled = every_lot || finished.contains(&l.id) || shipped_lots.contains(&l.id);
            if !(root || (live(l) && reconciled)) {
                continue;
            }
            // Used in batches: links to live lots that are not returns (a return is the
            // customer's product coming back, counted at the customer).
            let consumed: Qty = t
                .links
                .iter()
                .filter(|k| k.input == l.id)
                .filter(|k| {
                    by_id
                        .get(&k.output)
                        .is_some_and(|o| live(o) && !matches!(o.origin, Origin::Returned { .. }))
                })
                .map(|k| k.qty)
                .sum();
            let shipped: Qty = t
                .shipments
                .iter()
                .filter(|s| s.lot == l.id)
                .map(|s| s.qty)
                .sum();
            lots.push(LotRecon {
                lot: l.id,
                code: l.code.clone(),
                item: l.item.clone(),
                unit: l.unit,
                root,
                finished: finished.contains(&l.id),
                produced: if live(l) { l.quantity } else { Qty::ZERO },
                consumed,
                shipped,
                on_hand: l.balance,
                counted: None,
                at_customers: Qty::ZERO,
            });
        }
        let mut customers: Vec<CustomerRecon> = Vec::new();
        for c in &scope.customers {
            for s in &c.shipments {
                let Some(l) = by_id.get(&s.lot) else { continue };
                let returned = returns.get(&(s.lot, s.event)).copied().unwrap_or_default();
                let ship = ShipRef {
                    event: s.event,
                    date: s.date,
                    reference: s.reference.clone(),
                    qty: s.qty,
                };
                match customers
                    .iter_mut()
                    .find(|x| x.party == c.party.id && x.lot == s.lot)
                {
                    Some(x) => {
                        x.shipped = x.shipped + s.qty;
                        x.returned = x.returned + returned;
                        x.shipments.push(ship);
                    }
                    None => customers.push(CustomerRecon {
                        party: c.party.id.clone(),
                        name: c.party.location.business_name.clone(),
                        phone: c.party.location.phone.clone(),
                        contact: c.party.recall_contact.clone(),
                        lot: s.lot,
                        code: l.code.clone(),
                        item: l.item.clone(),
                        unit: s.unit,
                        shipped: s.qty,
                        returned,
                        retrieved: None,
                        consumed: None,
                        destroyed: None,
                        shipments: vec![ship],
                    }),
                }
            }
        }
        let mut base = Reconciliation { lots, customers };
        base.apply(std::iter::empty());
        Ok(RecallReport { scope, names, base })
    }

    /// The mock recall record started by event `id`.
    pub fn mock_recall(&self, id: u64) -> Result<MockRecallView, StoreError> {
        let events = self.mock_recall_events(id)?;
        let Some(first) = events.first() else {
            return Err(StoreError::invalid(
                "recall",
                format!("no mock recall {id}; `lotline mock-recall list` shows them"),
            ));
        };
        let EventKind::MockRecallStarted(start) = &first.kind else {
            return Err(StoreError::Damaged {
                detail: format!("mock recall {id} does not begin with its start"),
            });
        };
        let root = self.lot(start.root)?;
        let mut counts: Vec<CountEntry> = Vec::new();
        let mut finished = None;
        let mut frozen = None;
        for e in &events[1..] {
            match &e.kind {
                EventKind::MockRecallCount(c) => {
                    for earlier in counts.iter_mut() {
                        if earlier.superseded_by.is_none() && earlier.line.key() == c.line.key() {
                            earlier.superseded_by = Some(e.id);
                        }
                    }
                    counts.push(CountEntry {
                        event: e.id,
                        stamp: e.stamp.clone(),
                        line: c.line.clone(),
                        note: c.note.clone(),
                        superseded_by: None,
                    });
                }
                EventKind::MockRecallFinished(f) => {
                    finished = Some(MockFinished {
                        event: e.id,
                        stamp: e.stamp.clone(),
                        note: f.note.clone(),
                    });
                    frozen = Some(f.result.clone());
                }
                _ => {}
            }
        }
        let report = self.mock_report(&root.code)?;
        let result = match frozen {
            Some(r) => r,
            None => {
                let mut r = report.base.clone();
                r.apply(counts.iter().map(|c| &c.line));
                r
            }
        };
        Ok(MockRecallView {
            id,
            root,
            asked_as: start.asked_as.clone(),
            note: start.note.clone(),
            started: first.stamp.clone(),
            finished,
            result,
            counts,
            names: report.names,
        })
    }

    /// Every mock recall record, newest first.
    pub fn mock_recalls(&self) -> Result<Vec<MockRecallSummary>, StoreError> {
        let ids: Vec<u64> = {
            let r = self.read()?;
            let t = match r.open_table(MOCK_RECALLS) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
                Err(e) => return Err(e.into()),
            };
            let mut ids = Vec::new();
            for e in t.iter()? {
                let (a, b) = e?.0.value();
                if a == b {
                    ids.push(a);
                }
            }
            ids
        };
        let mut out = Vec::new();
        for id in ids.into_iter().rev() {
            let events = self.mock_recall_events(id)?;
            let Some(EventKind::MockRecallStarted(start)) = events.first().map(|e| &e.kind) else {
                continue;
            };
            let root = self.lot(start.root)?;
            let mut s = MockRecallSummary {
                id,
                root: root.code,
                item: root.item,
                asked_as: start.asked_as.clone(),
                started: events[0].stamp.clone(),
                counts: 0,
                finished: None,
                totals: Vec::new(),
            };
            for e in &events[1..] {
                match &e.kind {
                    EventKind::MockRecallCount(_) => s.counts += 1,
                    EventKind::MockRecallFinished(f) => {
                        s.finished = Some(e.stamp.clone());
                        s.totals = f.result.totals();
                    }
                    _ => {}
                }
            }
            out.push(s);
        }
        Ok(out)
    }

    fn mock_recall_events(&self, id: u64) -> Result<Vec<Event>, StoreError> {
        let r = self.read()?;
        let t = match r.open_table(MOCK_RECALLS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        for e in t.range((id, 0)..=(id, u64::MAX))? {
            out.push(read_event(&r, e?.0.value().1)?);
        }
        Ok(out)
    }
}

/// The line a count names, checked against the record: a lot that reconciles, a customer
/// that received it, quantities not negative, in the lot's unit.
pub(super) fn resolve_count(
    view: &MockRecallView,
    c: &NewMockCount,
) -> Result<CountLine, StoreError> {
    if let Some(f) = &view.finished {
        return Err(StoreError::invalid(
            "recall",
            format!(
                "mock recall {} was completed (event {}); start a new one to count again",
                view.id, f.event
            ),
        ));
    }
    let r = &view.result;
    let listed = |lots: &mut dyn Iterator<Item = &LotCode>| {
        lots.map(|c| c.to_string()).collect::<Vec<_>>().join(", ")
    };
    let lot = match &c.lot {
        Some(code) => match r.lots.iter().find(|l| &l.code == code) {
            Some(l) => Some(l),
            None => {
                return Err(StoreError::invalid(
                    "lot",
                    format!(
                        "lot {code} is not one this mock recall reconciles; its lots: {}",
                        listed(&mut r.lots.iter().map(|l| &l.code))
                    ),
                ));
            }
        },
        None => None,
    };
    let unit_ok = |unit: Unit| -> Result<(), StoreError> {
        match c.unit {
            Some(u) if u != unit => Err(StoreError::invalid(
                "unit",
                format!(
                    "this line is counted in {unit}; give the count in {unit} (counts are not converted)"
                ),
            )),
            _ => Ok(()),
        }
    };
    let amount = |q: Option<Qty>, field: &str| -> Result<Qty, StoreError> {
        let q = q.unwrap_or(Qty::ZERO);
        if q.milli() < 0 {
            return Err(StoreError::invalid(
                field,
                format!("{q} is negative; give what was found, 0 or more"),
            ));
        }
        Ok(q)
    };
    match &c.customer {
        None => {
            let Some(l) = lot else {
                return Err(StoreError::invalid(
                    "lot",
                    "name the lot counted (--lot) or the customer who answered (--customer)",
                ));
            };
            if c.retrieved.is_some() || c.consumed.is_some() || c.destroyed.is_some() {
                return Err(StoreError::invalid(
                    "customer",
                    "retrieved, consumed and destroyed are a customer's; name the customer",
                ));
            }
            let Some(q) = c.on_hand else {
                return Err(StoreError::invalid(
                    "on-hand",
                    format!("give the quantity of lot {} counted on hand", l.code),
                ));
            };
            unit_ok(l.unit)?;
            Ok(CountLine::OnHand {
                lot: l.lot,
                qty: amount(Some(q), "on-hand")?,
            })
        }
        Some(party) => {
            if c.on_hand.is_some() {
                return Err(StoreError::invalid(
                    "on-hand",
                    "on hand is counted here, per lot; give it without --customer",
                ));
            }
            let mine: Vec<&CustomerRecon> =
                r.customers.iter().filter(|x| &x.party == party).collect();
            if mine.is_empty() {
                return Err(StoreError::invalid(
                    "customer",
                    format!(
                        "{party} received nothing in this recall's scope; its customers: {}",
                        r.customers
                            .iter()
                            .map(|x| x.party.to_string())
                            .collect::<std::collections::BTreeSet<_>>()
                            .into_iter()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            let line = match lot {
                Some(l) => match mine.iter().find(|x| x.lot == l.lot) {
                    Some(x) => *x,
                    None => {
                        return Err(StoreError::invalid(
                            "lot",
                            format!(
                                "{party} received no lot {} in this recall; it received {}",
                                l.code,
                                listed(&mut mine.iter().map(|x| &x.code))
                            ),
                        ));
                    }
                },
                None if mine.len() == 1 => mine[0],
                None => {
                    return Err(StoreError::invalid(
                        "lot",
                        format!(
                            "{party} received several lots in this recall; name one with --lot: {}",
                            listed(&mut mine.iter().map(|x| &x.code))
                        ),
                    ));
                }
            };
            if c.retrieved.is_none() && c.consumed.is_none() && c.destroyed.is_none() {
                return Err(StoreError::invalid(
                    "retrieved",
                    "give what the customer reported: --retrieved, --consumed and/or --destroyed",
                ));
            }
            unit_ok(line.unit)?;
            Ok(CountLine::Customer {
                party: party.clone(),
                lot: line.lot,
                retrieved: amount(c.retrieved, "retrieved")?,
                consumed: amount(c.consumed, "consumed")?,
                destroyed: amount(c.destroyed, "destroyed")?,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use crate::Applied;
    use lotline_domain::api::Command;

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
        s.apply(
            Command::SetStatus(StatusChange {
                lot: cookies.clone(),
                to: LotStatus::Hold,
                date: today(),
                reason: "swab".into(),
            }),
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
        let Applied::Events(events) = s
            .apply(
                Command::HoldAll(HoldAll {
                    lots: stock,
                    date: today(),
                    reason: "mock recall MR-7".into(),
                }),
                &stamp(),
                today(),
            )
            .unwrap()
        else {
            panic!("a hold of many lots answers with its events")
        };
        assert_eq!(events.len(), 1, "cookies were already on hold");
        assert_eq!(s.lot_by_code(&eggs).unwrap().status, LotStatus::Hold);
        assert_eq!(
            s.lot_by_code(&flour).unwrap().status,
            LotStatus::Released,
            "outside the scope"
        );
        // one bad lot: nothing is held
        let bad = s.apply(
            Command::HoldAll(HoldAll {
                lots: vec![flour.clone(), LotCode::parse("NOPE", "l").unwrap()],
                date: today(),
                reason: "x".into(),
            }),
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
            balance: s.mass_balance(&eggs).unwrap().into(),
            note: "quarterly mock recall".into(),
        };
        let id = s
            .apply(
                Command::RecordMockRecall {
                    record: record.clone(),
                    date: today(),
                },
                &stamp(),
                today(),
            )
            .unwrap()
            .event()
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

    fn mock(s: &Store, c: Command) -> Result<u64, StoreError> {
        s.apply(c, &stamp(), today()).map(|a| a.event().unwrap())
    }

    fn count(recall: u64, lot: &LotCode, on_hand: i64) -> Command {
        Command::CountMockRecall {
            count: NewMockCount {
                recall,
                lot: Some(lot.clone()),
                customer: None,
                on_hand: Some(Qty::from_units(on_hand)),
                retrieved: None,
                consumed: None,
                destroyed: None,
                unit: None,
                note: String::new(),
            },
            date: today(),
        }
    }

    #[test]
    fn a_mock_recall_counts_work_in_progress_and_needs_corrective_actions_for_a_gap() {
        let (_d, s, [_, eggs, dough, cookies]) = bakery();
        // Dough made from the eggs and not used yet: 30 kg of work in progress.
        let wip = produce(&s, "DOUGH", 30, vec![line(&eggs, 5)]).unwrap();
        let id = mock(
            &s,
            Command::StartMockRecall(StartMockRecall {
                lot: eggs.clone(),
                asked_as: String::new(),
                note: "drill".into(),
                date: today(),
            }),
        )
        .unwrap();
        let v = s.mock_recall(id).unwrap();
        let codes: Vec<&LotCode> = v.result.lots.iter().map(|l| &l.code).collect();
        assert_eq!(codes, vec![&eggs, &dough, &wip, &cookies]);
        // The recall scope's own report stays the root, finished and shipped lots.
        let report = s.recall_report(&eggs).unwrap();
        assert_eq!(report.base.lots.len(), 2);
        mock(&s, count(id, &wip, 30)).unwrap();
        let kg = |v: &MockRecallView| {
            v.result
                .totals()
                .into_iter()
                .find(|t| t.unit == Unit::Kg)
                .unwrap()
        };
        let v = s.mock_recall(id).unwrap();
        // 120 kg of dough used in the cookies, 30 kg counted on hand.
        assert_eq!(
            (kg(&v).produced, kg(&v).found),
            (Qty::from_units(150), Qty::from_units(150))
        );
        // Counted more than the lot can hold: kept, but never found product.
        mock(&s, count(id, &wip, 34)).unwrap();
        let v = s.mock_recall(id).unwrap();
        let w = v.result.lots.iter().find(|l| l.code == wip).unwrap();
        assert_eq!(
            (w.counted, w.over(), w.gap()),
            (Some(Qty::from_units(34)), Qty::from_units(4), Qty::ZERO)
        );
        assert_eq!(kg(&v).found, Qty::from_units(150));
        // Eggs and cookies not counted, SHOP and CAFE silent: no completion without
        // the corrective actions.
        let e = mock(
            &s,
            Command::FinishMockRecall {
                recall: id,
                note: " ".into(),
                date: today(),
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("give the corrective actions"), "{e}");
        assert!(s.mock_recall(id).unwrap().finished.is_none());
        mock(
            &s,
            Command::FinishMockRecall {
                recall: id,
                note: "call CAFE again; recount the dough".into(),
                date: today(),
            },
        )
        .unwrap();
        let v = s.mock_recall(id).unwrap();
        assert_eq!(
            v.finished.unwrap().note,
            "call CAFE again; recount the dough"
        );
        assert!(s.check().unwrap().problems.is_empty());
    }
}
