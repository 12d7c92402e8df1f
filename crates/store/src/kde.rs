//! The events an FSMA 204 records request covers (docs/architecture.md, "The law behind it"): by lot (its whole
//! trace), by dates, by items, or one shipment — gathered in one read transaction where
//! the store can, with every lot they name, so a front end (or a server's client) builds
//! the spreadsheet without reading the store itself.

use super::codec::decode;
use super::query::{read_event, read_lot, read_lot_id};
use super::tables::*;

use super::{Store, StoreError};
use lotline_domain::*;
use redb::{ReadableTable, ReadableTableMetadata};
use std::collections::{BTreeMap, BTreeSet, HashSet};

impl Store {
    /// The receiving, transformation and shipping events `q` asks for, customer returns
    /// among the receipts (FSMA: a return is received back from the customer), oldest
    /// first (business date, then event id), voided ones left out, with every lot they
    /// name.
    pub fn kde_records(&self, q: &KdeQuery) -> Result<KdeRecords, StoreError> {
        if let (Some(from), Some(to)) = (q.from, q.to)
            && from > to
        {
            return Err(StoreError::invalid(
                "from",
                format!("{from} is after --to {to}; give the earlier date first"),
            ));
        }
        let mut roots = Vec::new();
        // Candidate event ids, when a lot or a shipment narrows them; `None`: by date.
        let wanted: Option<BTreeSet<u64>> = if let Some(id) = q.shipment {
            let e = self.event(id)?;
            if !matches!(e.kind, EventKind::Ship(_)) {
                return Err(StoreError::invalid(
                    "shipment",
                    format!(
                        "event {id} is a {} event, not a shipment; give the number `ship` printed",
                        e.kind.name()
                    ),
                ));
            }
            Some(BTreeSet::from([id]))
        } else if let Some(text) = &q.lot {
            let ids = self.lots_named(text)?;
            let mut events = BTreeSet::new();
            for id in ids {
                let root = self.lot(id)?;
                // The trace both ways: what made every lot reached, and the shipments of
                // the root and of every lot reached forward. Not every batch a backward
                // lot went into: a flour lot used in 1,400 batches is not in this
                // cookie lot's story.
                let t = self.trace(&root.code, Direction::Both)?;
                events.extend(t.lots.iter().map(|l| l.event));
                events.extend(t.shipments.iter().map(|s| s.event));
                // A return lot reached came back from a shipment: that shipment is in
                // its story too, also when the trace reached the return lot backward.
                for l in &t.lots {
                    if let Origin::Returned { shipment, .. } = l.origin {
                        events.insert(shipment);
                    }
                }
                roots.push(root.code);
            }
            Some(events)
        } else if !q.items.is_empty() {
            Some(self.events_of_items(&q.items)?)
        } else {
            None
        };

        let r = self.read()?;
        let voids = r.open_table(EVENT_VOIDS)?;
        let mut events = Vec::new();
        let mut voided = 0u64;
        let in_dates =
            |d: chrono::NaiveDate| q.from.is_none_or(|f| d >= f) && q.to.is_none_or(|t| d <= t);
        let mut consider = |e: Event, voided_by: bool| {
            let cte = matches!(
                e.kind,
                EventKind::Receive(_)
                    | EventKind::Produce(_)
                    | EventKind::Ship(_)
                    | EventKind::Return(_)
            );
            if !cte || !in_dates(e.date) {
                return;
            }
            if voided_by {
                voided += 1;
            } else {
                events.push(e);
            }
        };
        match &wanted {
            Some(ids) => {
                for &id in ids {
                    let voided_by = voids.get(id)?.is_some();
                    consider(read_event(&r, id)?, voided_by);
                }
            }
            None if q.from.is_some() || q.to.is_some() => {
                let idx = r.open_table(EVENTS_BY_DATE)?;
                let lo = (q.from.map(day_number).unwrap_or(i32::MIN), 0u64);
                let hi = (q.to.map(day_number).unwrap_or(i32::MAX), u64::MAX);
                let t = r.open_table(EVENTS)?;
                for e in idx.range(lo..=hi)? {
                    let id = e?.0.value().1;
                    let voided_by = voids.get(id)?.is_some();
                    match t.get(id)? {
                        Some(v) => consider(decode(v.value(), "events", &id)?, voided_by),
                        None => {
                            return Err(StoreError::Damaged {
                                detail: format!("event {id} is in the date index but missing"),
                            });
                        }
                    }
                }
            }
            None => {
                let void_ids: HashSet<u64> = voids
                    .iter()?
                    .map(|e| e.map(|(k, _)| k.value()))
                    .collect::<Result<_, _>>()?;
                for e in r.open_table(EVENTS)?.iter()? {
                    let (k, v) = e?;
                    let id = k.value();
                    consider(decode(v.value(), "events", &id)?, void_ids.contains(&id));
                }
            }
        }

        // Every lot the events name, read once.
        let mut ids: BTreeSet<u32> = BTreeSet::new();
        for e in &events {
            ids.extend(e.kind.lots().iter().map(|l| l.0));
        }
        let lots_t = r.open_table(LOTS)?;
        let mut lots: BTreeMap<u32, Lot> = BTreeMap::new();
        if ids.len() as u64 > lots_t.len()? / 4 {
            // Most of the plant: one pass over the table beats a lookup per lot.
            for e in lots_t.iter()? {
                let (k, v) = e?;
                if ids.contains(&k.value()) {
                    lots.insert(k.value(), decode(v.value(), "lots", &k.value())?);
                }
            }
        } else {
            for &id in &ids {
                lots.insert(id, read_lot(&r, LotId(id))?);
            }
        }
        if ids.len() != lots.len() {
            return Err(StoreError::Damaged {
                detail: "an event names a lot that is missing".into(),
            });
        }

        if !q.items.is_empty() {
            let want: HashSet<&ItemCode> = q.items.iter().collect();
            events.retain(|e| {
                e.kind
                    .lots()
                    .iter()
                    .any(|l| lots.get(&l.0).is_some_and(|lot| want.contains(&lot.item)))
            });
            let named: HashSet<u32> = events
                .iter()
                .flat_map(|e| e.kind.lots())
                .map(|l| l.0)
                .collect();
            lots.retain(|id, _| named.contains(id));
        }
        // A return lot keeps the TLC of the lot it came back from (FSMA assigns a new TLC
        // only on transformation): the lots it came back from, to the first that was not
        // a return, come along so its TLC and TLC source can be given.
        let mut back: Vec<u32> = lots
            .values()
            .filter_map(|l| match l.origin {
                Origin::Returned { from, .. } => Some(from.0),
                _ => None,
            })
            .collect();
        while let Some(id) = back.pop() {
            if lots.contains_key(&id) {
                continue;
            }
            let l = read_lot(&r, LotId(id))?;
            if let Origin::Returned { from, .. } = l.origin {
                back.push(from.0);
            }
            lots.insert(id, l);
        }
        events.sort_by_key(|e| (e.date, e.id));
        // The reference document of each shipment a return came back from.
        let mut shipment_refs = Vec::new();
        for e in &events {
            if let EventKind::Return(rt) = &e.kind
                && let Some(rf) = read_event(&r, rt.shipment)?.reference
            {
                shipment_refs.push((rt.shipment, rf));
            }
        }
        shipment_refs.sort_by_key(|(id, _)| *id);
        shipment_refs.dedup_by_key(|(id, _)| *id);
        let mut tlc_source_refs = Vec::new();
        let by_id: BTreeMap<u64, &Event> = events.iter().map(|e| (e.id, e)).collect();
        for lot in lots.values() {
            if !matches!(lot.origin, Origin::Received { .. }) {
                continue;
            }
            let outside;
            let made = match by_id.get(&lot.event) {
                Some(e) => *e,
                None => {
                    outside = read_event(&r, lot.event)?;
                    &outside
                }
            };
            if let EventKind::Receive(rc) = &made.kind
                && let Some(t) = &rc.tlc_source_ref
            {
                tlc_source_refs.push((lot.id, t.clone()));
            }
        }
        // Each event's second reference document, or why it has none.
        let mut documents = Vec::new();
        match r.open_table(EVENT_DOCUMENTS) {
            Ok(t) => {
                for e in &events {
                    if let Some(v) = t.get(e.id)? {
                        documents.push((e.id, decode(v.value(), "event_documents", &e.id)?));
                    }
                }
            }
            // A file nothing has written documents to yet.
            Err(redb::TableError::TableDoesNotExist(_)) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(KdeRecords {
            events,
            lots: lots.into_values().collect(),
            roots,
            voided,
            tlc_source_refs,
            shipment_refs,
            documents,
        })
    }

    /// Every event naming a lot of one of `items`: the items' lots (`item_lot_index`), then
    /// each lot's history. The FSMA request by food starts here whatever its dates: the
    /// date path reads every lot the dates' events name, most of the plant's, which cost
    /// more than the scattered reads (a year of one food on the 1M-lot plant: 1.65 s of
    /// CPU against 2.6 s, BENCHMARKS.md, "FDA exports"); dates are filtered as the events
    /// are read.
    pub fn events_of_items(&self, items: &[ItemCode]) -> Result<BTreeSet<u64>, StoreError> {
        let r = self.read()?;
        let item_lots = r.open_table(ITEM_LOTS)?;
        let history = r.open_table(LOT_EVENTS)?;
        let mut events = BTreeSet::new();
        for item in items {
            for row in item_lots.range((item.as_str(), 0)..=(item.as_str(), u32::MAX))? {
                let lot = row?.0.value().1;
                for e in history.range((lot, 0)..=(lot, u64::MAX))? {
                    events.insert(e?.0.value().1);
                }
            }
        }
        Ok(events)
    }

    /// For an export by food within dates: the events naming the items' lots, when there
    /// are several times fewer of them than events in the dates; else `None` (read the
    /// dates). Scattered reads by id cost more than the date index's run of neighbours:
    /// on the 1M-lot plant a year of one food read by its lots (55,000 events over every
    /// year) took 1.6 s against 1.3 s by its dates (260,000 events), while its whole
    /// history took 3.7 s by its lots against 9.9 s by dates (BENCHMARKS.md).
    pub fn item_events_if_fewer(
        &self,
        items: &[ItemCode],
        from: Option<chrono::NaiveDate>,
        to: Option<chrono::NaiveDate>,
    ) -> Result<Option<Vec<u64>>, StoreError> {
        const SCATTERED_COST: usize = 6;
        let ids = self.events_of_items(items)?;
        let enough = ids.len().saturating_mul(SCATTERED_COST);
        let r = self.read()?;
        let lo = (from.map(day_number).unwrap_or(i32::MIN), 0u64);
        let hi = (to.map(day_number).unwrap_or(i32::MAX), u64::MAX);
        let mut in_dates = 0usize;
        for e in r.open_table(EVENTS_BY_DATE)?.range(lo..=hi)? {
            e?;
            in_dates += 1;
            if in_dates > enough {
                return Ok(Some(ids.into_iter().collect()));
            }
        }
        Ok(None)
    }

    /// Our lots named by `text`: our lot code, else every lot received under that
    /// supplier lot code (the FSMA TLC, matched exactly as printed).
    fn lots_named(&self, text: &str) -> Result<Vec<LotId>, StoreError> {
        let r = self.read()?;
        if let Ok(code) = LotCode::parse(text, "lot")
            && let Ok(id) = read_lot_id(&r, &code)
        {
            return Ok(vec![id]);
        }
        let t = r.open_table(SUPPLIER_LOTS)?;
        let sl = text.trim();
        let start = format!("{sl}\0");
        let end = format!("{sl}\u{1}");
        let mut ids = Vec::new();
        for e in t.range((start.as_str(), 0)..(end.as_str(), 0))? {
            ids.push(LotId(e?.0.value().1));
        }
        if ids.is_empty() {
            return Err(StoreError::invalid(
                "lot",
                format!(
                    "no lot of ours and no supplier lot (TLC) is '{sl}'; check the code, or find it with `lotline lots --supplier-lot`"
                ),
            ));
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use lotline_domain::api::Command;

    fn kinds(r: &KdeRecords) -> Vec<&'static str> {
        r.events.iter().map(|e| e.kind.name()).collect()
    }

    #[test]
    fn everything_by_lot_by_tlc_by_date_and_by_item() {
        let (_d, s, [flour, eggs, _dough, cookies]) = bakery();
        // A flour lot used elsewhere is not in the eggs' story.
        let other = produce(&s, "DOUGH", 10, vec![line(&flour, 10)]).unwrap();
        let all = s.kde_records(&KdeQuery::default()).unwrap();
        assert_eq!(
            kinds(&all),
            [
                "receive", "receive", "produce", "produce", "ship", "ship", "produce"
            ]
        );
        assert_eq!(all.lots.len(), 5);
        let by_eggs = s
            .kde_records(&KdeQuery {
                lot: Some(eggs.to_string()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            kinds(&by_eggs),
            ["receive", "produce", "produce", "ship", "ship"]
        );
        assert_eq!(by_eggs.roots, vec![eggs.clone()]);
        // The dough batch names flour as an input, so flour's lot comes along, but not
        // the other dough batch flour went into.
        assert!(by_eggs.lots.iter().any(|l| l.code == flour));
        assert!(!by_eggs.lots.iter().any(|l| l.code == other));
        // The supplier's TLC, exactly as printed, finds the same lot.
        let by_tlc = s
            .kde_records(&KdeQuery {
                lot: Some("f-1121".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(by_tlc, by_eggs);
        let e = s
            .kde_records(&KdeQuery {
                lot: Some("NOPE-1".into()),
                ..Default::default()
            })
            .unwrap_err();
        assert!(e.to_string().starts_with("lot: no lot of ours"), "{e}");
        // By item: the eggs' receipt and the batch that used them.
        let eggs_item = s
            .kde_records(&KdeQuery {
                items: vec![ItemCode::parse("EGGS", "item").unwrap()],
                ..Default::default()
            })
            .unwrap();
        assert_eq!(kinds(&eggs_item), ["receive", "produce"]);
        // Dates: inclusive; reversed refused; outside gives nothing.
        let day = today();
        let one = s
            .kde_records(&KdeQuery {
                from: Some(day),
                to: Some(day),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(one.events.len(), 7);
        let none = s
            .kde_records(&KdeQuery {
                from: day.succ_opt(),
                ..Default::default()
            })
            .unwrap();
        assert!(none.events.is_empty() && none.lots.is_empty());
        let e = s
            .kde_records(&KdeQuery {
                from: day.succ_opt(),
                to: Some(day),
                ..Default::default()
            })
            .unwrap_err();
        assert!(e.to_string().starts_with("from:"), "{e}");
        let _ = cookies;
    }

    /// By item the store starts from the items' lots, not the date index; what it finds
    /// must be what the date path finds and then keeps about those items, voids too.
    #[test]
    fn by_item_reads_the_items_lots_and_finds_what_the_dates_would() {
        let (_d, s) = temp_store();
        let spec = crate::plantgen::Spec {
            seed: 3,
            lots_per_day: 120,
            ..crate::plantgen::Spec::new(1_500)
        };
        crate::plantgen::generate(&s, &spec, &mut |_| {}).unwrap();
        let day = spec.end - chrono::Duration::days(4);
        // Void a few shipments in the range, as entered in error.
        let some: Vec<u64> = s
            .kde_records(&KdeQuery {
                from: Some(day),
                to: Some(day),
                ..Default::default()
            })
            .unwrap()
            .events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Ship(_)))
            .step_by(5)
            .map(|e| e.id)
            .collect();
        assert!(some.len() >= 3, "{} events voided", some.len());
        for id in &some {
            let v = VoidEvent {
                event: *id,
                date: spec.end,
                reason: "entered in error".into(),
            };
            s.apply(Command::Void(v), &stamp(), spec.end).unwrap();
        }
        let (from, to) = (Some(day - chrono::Duration::days(3)), Some(day));
        let everything = s
            .kde_records(&KdeQuery {
                from,
                to,
                ..Default::default()
            })
            .unwrap();
        let item_of: std::collections::HashMap<u32, ItemCode> = everything
            .lots
            .iter()
            .map(|l| (l.id.0, l.item.clone()))
            .collect();
        let mut tried = 0;
        for item in s.items().unwrap() {
            let by_item = s
                .kde_records(&KdeQuery {
                    from,
                    to,
                    items: vec![item.code.clone()],
                    ..Default::default()
                })
                .unwrap();
            let about = |e: &Event| {
                e.kind
                    .lots()
                    .iter()
                    .any(|l| item_of.get(&l.0) == Some(&item.code))
            };
            let want: Vec<u64> = everything
                .events
                .iter()
                .filter(|e| about(e))
                .map(|e| e.id)
                .collect();
            let got: Vec<u64> = by_item.events.iter().map(|e| e.id).collect();
            assert_eq!(got, want, "{}", item.code);
            let named: BTreeSet<u32> = by_item
                .events
                .iter()
                .flat_map(|e| e.kind.lots())
                .map(|l| l.0)
                .collect();
            let lots: BTreeSet<u32> = by_item.lots.iter().map(|l| l.id.0).collect();
            assert_eq!(lots, named, "{}", item.code);
            tried += usize::from(!want.is_empty());
        }
        assert!(tried >= 5, "only {tried} items had events in the range");
        let all_items: Vec<ItemCode> = s.items().unwrap().into_iter().map(|i| i.code).collect();
        let every = s
            .kde_records(&KdeQuery {
                from,
                to,
                items: all_items,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(every.events, everything.events, "every item: every event");
        assert_eq!(every.voided, everything.voided);
        assert!(every.voided >= 3);
        // The EPCIS export's choice: a food's whole history by its lots, one day by date.
        let flour = [ItemCode::parse("FLOUR-AP", "item").unwrap()];
        let history = s.events_of_items(&flour).unwrap();
        assert_eq!(
            s.item_events_if_fewer(&flour, None, None).unwrap(),
            Some(history.iter().copied().collect())
        );
        assert_eq!(
            s.item_events_if_fewer(&flour, Some(day), Some(day))
                .unwrap(),
            None,
            "one day of the plant is fewer events than {} scattered ones",
            history.len()
        );
    }

    /// Cookies back from SHOP (its shipment is the bakery's fifth event), `qty` cases.
    fn return_cookies(s: &Store, cookies: &LotCode, qty: i64) -> (LotCode, u64) {
        let c = s
            .apply(
                Command::Return(NewReturn {
                    shipment: "5".into(),
                    lot: cookies.clone(),
                    qty: Qty::from_units(qty),
                    unit: None,
                    date: today(),
                    reason: "crushed cases".into(),
                    reference: Some(Reference::parse("RMA:31", "ref").unwrap()),
                }),
                &stamp(),
                today(),
            )
            .unwrap()
            .created()
            .unwrap();
        (c.code, c.event)
    }

    #[test]
    fn a_return_is_in_every_request_it_belongs_to() {
        let (_d, s, [flour, eggs, dough, cookies]) = bakery();
        let (back, event) = return_cookies(&s, &cookies, 3);
        let has = |q: KdeQuery| {
            let r = s.kde_records(&q).unwrap();
            let found = r.events.iter().any(|e| e.id == event);
            if found {
                // Both lots come along: the return lot, and the shipped one whose TLC it keeps.
                assert!(r.lots.iter().any(|l| l.code == back));
                assert!(r.lots.iter().any(|l| l.code == cookies));
                assert_eq!(r.shipment_refs, Vec::new(), "the shipment had no document");
            }
            found
        };
        assert!(has(KdeQuery::default()));
        // By lot: forward from what went into the shipped lot, and backward from the
        // return lot itself, which also brings the shipment it came back from.
        for lot in [&eggs, &flour, &dough, &cookies, &back] {
            assert!(
                has(KdeQuery {
                    lot: Some(lot.to_string()),
                    ..Default::default()
                }),
                "{lot}"
            );
        }
        let by_back = s
            .kde_records(&KdeQuery {
                lot: Some(back.to_string()),
                ..Default::default()
            })
            .unwrap();
        assert!(by_back.events.iter().any(|e| e.id == 5), "its shipment");
        // By item and dates: the returned food's item, not another's; its date only.
        let item = |code: &str| vec![ItemCode::parse(code, "item").unwrap()];
        assert!(has(KdeQuery {
            items: item("COOKIE"),
            ..Default::default()
        }));
        assert!(!has(KdeQuery {
            items: item("EGGS"),
            ..Default::default()
        }));
        assert!(has(KdeQuery {
            from: Some(today()),
            to: Some(today()),
            ..Default::default()
        }));
        assert!(!has(KdeQuery {
            to: today().pred_opt(),
            ..Default::default()
        }));
    }

    #[test]
    fn voided_events_are_left_out_and_counted() {
        let (_d, s, [_, _, _, cookies]) = bakery();
        let ship = ship(&s, "SHOP", vec![line(&cookies, 1)]).unwrap();
        s.apply(
            Command::Void(VoidEvent {
                event: ship,
                date: today(),
                reason: "typed twice".into(),
            }),
            &stamp(),
            today(),
        )
        .unwrap();
        let all = s.kde_records(&KdeQuery::default()).unwrap();
        assert_eq!(all.voided, 1);
        assert!(all.events.iter().all(|e| e.id != ship));
        let one = s.kde_records(&KdeQuery {
            shipment: Some(ship),
            ..Default::default()
        });
        assert_eq!(one.unwrap().events.len(), 0);
        let e = s
            .kde_records(&KdeQuery {
                shipment: Some(1),
                ..Default::default()
            })
            .unwrap_err();
        assert!(e.to_string().contains("not a shipment"), "{e}");
    }
}
