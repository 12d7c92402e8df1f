//! `lotline check`: prove a whole database consistent. Links mirror each other and match
//! the batches that made them; every balance and status equals what the events say;
//! everything referenced exists. Problems are collected, not fatal, so one run lists all.
//!
//! Each rule is a function of its own, run in sequence by [`Store::check`]: it reads what it
//! needs (the records every rule shares are read once, into [`Stored`], and the events
//! replayed once, into [`Replay`]) and adds what it finds to [`Found`], in the order found.

use super::codec::decode;
use super::tables::*;
use super::{Store, StoreError};
use lotline_domain::*;
use redb::{ReadTransaction, ReadableMultimapTable, ReadableTable, ReadableTableMetadata};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The problems found so far, in the order found.
#[derive(Default)]
struct Found(Vec<Problem>);

impl Found {
    fn bad(&mut self, s: String) {
        self.0.push(Problem(s));
    }
}

/// Report entries missing from, and extra in, one index; at most 20 of each, so a badly
/// damaged file gives a readable report.
fn compare<T: Ord>(
    name: &str,
    expected: &BTreeSet<T>,
    actual: &BTreeSet<T>,
    found: &mut Found,
    show: impl Fn(&T) -> String,
) {
    for (what, set) in [
        (
            "missing from",
            expected.difference(actual).collect::<Vec<_>>(),
        ),
        ("extra in", actual.difference(expected).collect()),
    ] {
        for t in set.iter().take(20) {
            found.bad(format!("{} is {what} the {name}", show(t)));
        }
        if set.len() > 20 {
            found.bad(format!("… and {} more {what} the {name}", set.len() - 20));
        }
    }
}

/// The master data and lots as stored (those that could be read), for every rule.
struct Stored {
    items: HashSet<ItemCode>,
    parties: HashSet<PartyId>,
    lots: HashMap<LotId, Lot>,
}

impl Stored {
    /// A lot's code for a report, or its id when the lot is missing.
    fn code_of(&self, id: LotId) -> String {
        self.lots
            .get(&id)
            .map(|l| l.code.to_string())
            .unwrap_or_else(|| format!("#{}", id.0))
    }
}

/// One shipment line as the shipment index keeps it (see `LOT_SHIPMENTS`).
type Line = (u64, i64, i32, String, String, String);

/// What the events say, replayed once: each lot's balance and status, and what every
/// index built from the events should hold.
#[derive(Default)]
struct Replay {
    events: u64,
    /// The void index as stored: voided event → the void.
    voids: HashMap<u64, u64>,
    /// The same, as the void events say.
    void_events: HashMap<u64, u64>,
    balance: HashMap<LotId, Qty>,
    status: HashMap<LotId, LotStatus>,
    voided_lots: HashSet<LotId>,
    links: BTreeSet<(u32, u32, i64)>,
    ships: BTreeSet<(u32, Line)>,
    history: BTreeSet<(u32, u64)>,
    party: BTreeSet<(String, u64)>,
    dates: BTreeSet<(i32, u64)>,
    /// Mock recall records: each start's root lot, and every count and completion in
    /// recording order (recall, event, root, is a completion).
    mock_starts: HashMap<u64, LotId>,
    mock_members: Vec<(u64, u64, LotId, bool)>,
    mock_index: BTreeSet<(u64, u64)>,
    /// Receipts' lots by event, and every scanned label's record: (event, receipt, lot).
    receipts: HashMap<u64, LotId>,
    labels: Vec<(u64, u64, LotId)>,
    /// Lots a partner's document named (see [`PartnerSeen`]).
    partner: HashMap<LotId, PartnerSeen>,
}

/// What the events say of a lot a partner's document named before the plant knew it.
#[derive(Default)]
struct PartnerSeen {
    /// The first `PartnerLot` event, and the quantity all of them named.
    first: Option<u64>,
    named: Qty,
    /// The `PartnerLotFilled` event: its id, the receipt, and the quantity it took back.
    filled: Option<(u64, u64, Qty)>,
}

impl Store {
    pub fn check(&self) -> Result<CheckReport, StoreError> {
        let r = self.read()?;
        let mut found = Found::default();
        let items = master_data(&r, ITEMS, "items", |i: Item| i.code, &mut found)?;
        let parties = master_data(&r, PARTIES, "parties", |p: Party| p.id, &mut found)?;
        let lots = lots(&r, &items, &parties, &mut found)?;
        let st = Stored {
            items,
            parties,
            lots,
        };
        lot_codes(&r, &st, &mut found)?;
        let replay = replay(&r, &st, &mut found)?;
        voids(&replay, &mut found);
        balances_and_statuses(&st, &replay, &mut found);
        partner_lots(&st, &replay, &mut found);
        links(&r, &st, &replay, &mut found)?;
        shipment_index(&r, &st, &replay, &mut found)?;
        indexes(&r, &st, &replay, &mut found)?;
        mock_recalls(&st, &replay, &mut found);
        mock_recall_index(&r, &replay, &mut found)?;
        label_data(&st, &replay, &mut found);
        event_documents(&r, &mut found)?;
        let code = |id: LotId| st.code_of(id);
        for p in super::check_recipes::recipes_and_allergens(&r, &st.items, &st.lots, &code)? {
            found.bad(p);
        }
        Ok(CheckReport {
            lots: st.lots.len() as u64,
            events: replay.events,
            links: r.open_multimap_table(LINKS_FWD)?.len()?,
            problems: found.0,
        })
    }
}

/// Every record of a master data table (`ITEMS`, `PARTIES`) reads; the keys of those that
/// do.
fn master_data<T: serde::de::DeserializeOwned, K: Eq + std::hash::Hash>(
    r: &ReadTransaction,
    table: redb::TableDefinition<&str, &[u8]>,
    name: &'static str,
    key: impl Fn(T) -> K,
    found: &mut Found,
) -> Result<HashSet<K>, StoreError> {
    let mut keys = HashSet::new();
    for e in r.open_table(table)?.iter()? {
        let (k, v) = e?;
        match decode::<T>(v.value(), name, &k.value()) {
            Ok(record) => {
                keys.insert(key(record));
            }
            Err(e) => found.bad(e.to_string()),
        }
    }
    Ok(keys)
}

/// Every lot record reads, is kept under its own id, and names an item and (if received)
/// a supplier that exist.
fn lots(
    r: &ReadTransaction,
    items: &HashSet<ItemCode>,
    parties: &HashSet<PartyId>,
    found: &mut Found,
) -> Result<HashMap<LotId, Lot>, StoreError> {
    let mut lots: HashMap<LotId, Lot> = HashMap::new();
    for e in r.open_table(LOTS)?.iter()? {
        let (k, v) = e?;
        match decode::<Lot>(v.value(), "lots", &k.value()) {
            Ok(l) if l.id.0 != k.value() => found.bad(format!(
                "lot record under id {} says id {}",
                k.value(),
                l.id.0
            )),
            Ok(l) => {
                if !items.contains(&l.item) {
                    found.bad(format!(
                        "lot {} names item {} which does not exist",
                        l.code, l.item
                    ));
                }
                if let Origin::Received { supplier, .. } = &l.origin
                    && !parties.contains(supplier)
                {
                    found.bad(format!(
                        "lot {} names supplier {} which does not exist",
                        l.code, supplier
                    ));
                }
                lots.insert(l.id, l);
            }
            Err(e) => found.bad(e.to_string()),
        }
    }
    Ok(lots)
}

/// Lot codes and lots point at each other.
fn lot_codes(r: &ReadTransaction, st: &Stored, found: &mut Found) -> Result<(), StoreError> {
    let codes = r.open_table(LOT_CODES)?;
    for e in codes.iter()? {
        let (k, v) = e?;
        match st.lots.get(&LotId(v.value())) {
            Some(l) if l.code.as_str() == k.value() => {}
            Some(l) => found.bad(format!("lot code {} points at lot {}", k.value(), l.code)),
            None => found.bad(format!(
                "lot code {} points at missing lot id {}",
                k.value(),
                v.value()
            )),
        }
    }
    for l in st.lots.values() {
        if codes.get(l.code.as_str())?.map(|v| v.value()) != Some(l.id.0) {
            found.bad(format!("lot {} is not findable by its code", l.code));
        }
    }
    Ok(())
}

/// Replay the events: balances, statuses and what the indexes and links should hold.
/// Every event reads and names lots, items and parties that exist.
fn replay(r: &ReadTransaction, st: &Stored, found: &mut Found) -> Result<Replay, StoreError> {
    let mut rp = Replay {
        voids: r
            .open_table(EVENT_VOIDS)?
            .iter()?
            .map(|e| e.map(|(k, v)| (k.value(), v.value())))
            .collect::<Result<_, _>>()?,
        ..Replay::default()
    };
    let mut voided_event_lots: HashMap<u64, Vec<LotId>> = HashMap::new();
    for e in r.open_table(EVENTS)?.iter()? {
        let (k, v) = e?;
        rp.events += 1;
        let ev: Event = match decode(v.value(), "events", &k.value()) {
            Ok(ev) => ev,
            Err(e) => {
                found.bad(e.to_string());
                continue;
            }
        };
        for lot in ev.kind.lots() {
            rp.history.insert((lot.0, ev.id));
        }
        if rp.voids.contains_key(&ev.id) {
            voided_event_lots.insert(ev.id, ev.kind.lots());
        }
        if let EventKind::Void { event, .. } = &ev.kind {
            // A void is in the history of every lot the voided event touched.
            for lot in voided_event_lots.get(event).into_iter().flatten() {
                rp.history.insert((lot.0, ev.id));
            }
        }
        for p in ev.kind.parties() {
            rp.party.insert((p.to_string(), ev.id));
        }
        rp.dates.insert((day_number(ev.date), ev.id));
        for (lot, (id, q, day, customer, kind, number)) in shipment_lines(&ev) {
            let line = (id, q, day, customer.into(), kind.into(), number.into());
            rp.ships.insert((lot, line));
        }
        for lot in ev.kind.lots() {
            if !st.lots.contains_key(&lot) {
                found.bad(format!("event {} names missing lot id {}", ev.id, lot.0));
            }
        }
        match &ev.kind {
            EventKind::Receive(rc) => {
                if !st.items.contains(&rc.item) {
                    found.bad(format!(
                        "receipt event {} names missing item {}",
                        ev.id, rc.item
                    ));
                }
                if !st.parties.contains(&rc.supplier) {
                    found.bad(format!(
                        "receipt event {} names missing supplier {}",
                        ev.id, rc.supplier
                    ));
                }
            }
            EventKind::Produce(b) => {
                if !st.items.contains(&b.item) {
                    found.bad(format!(
                        "batch event {} names missing item {}",
                        ev.id, b.item
                    ));
                }
                for u in &b.inputs {
                    rp.links.insert((u.lot.0, b.output.0, u.qty.milli()));
                }
            }
            // A return lot's one input is the lot it was shipped from.
            EventKind::Return(rt) => {
                rp.links.insert((rt.from.0, rt.lot.0, rt.qty.milli()));
            }
            EventKind::Ship(s) if !st.parties.contains(&s.customer) => {
                found.bad(format!(
                    "shipment event {} names missing customer {}",
                    ev.id, s.customer
                ));
            }
            EventKind::Void { event, .. } => {
                rp.void_events.insert(*event, ev.id);
            }
            EventKind::PartnerLot(p) => {
                let seen = rp.partner.entry(p.lot).or_default();
                seen.first.get_or_insert(ev.id);
                seen.named = seen.named + p.qty;
            }
            EventKind::PartnerLotFilled { lot, by, named } => {
                rp.partner.entry(*lot).or_default().filled = Some((ev.id, *by, *named));
            }
            EventKind::MockRecallStarted(m) => {
                rp.mock_starts.insert(ev.id, m.root);
                rp.mock_index.insert((ev.id, ev.id));
            }
            EventKind::MockRecallCount(c) => {
                rp.mock_members.push((c.recall, ev.id, c.root, false));
                rp.mock_index.insert((c.recall, ev.id));
            }
            EventKind::MockRecallFinished(f) => {
                rp.mock_members.push((f.recall, ev.id, f.root, true));
                rp.mock_index.insert((f.recall, ev.id));
            }
            EventKind::LabelData { receipt, lot, .. } => {
                rp.labels.push((ev.id, *receipt, *lot));
            }
            _ => {}
        }
        if let EventKind::Receive(Receipt { lot, .. }) = &ev.kind {
            rp.receipts.insert(ev.id, *lot);
        }
        if rp.voids.contains_key(&ev.id) {
            if let EventKind::Receive(Receipt { lot, .. })
            | EventKind::Produce(Batch { output: lot, .. })
            | EventKind::Return(CustomerReturn { lot, .. }) = &ev.kind
            {
                // A lot whose creation was voided never existed, whatever its status
                // events said before the void.
                rp.voided_lots.insert(*lot);
            }
            continue;
        }
        if let EventKind::Status { lot, to, .. } = &ev.kind {
            rp.status.insert(*lot, *to);
        }
        let touched: BTreeSet<LotId> = ev.kind.lots().into_iter().collect();
        for lot in touched {
            let b = rp.balance.entry(lot).or_default();
            *b = *b + ev.kind.balance_effect(lot);
        }
    }
    Ok(rp)
}

/// The void index lists exactly the voids the void events make.
fn voids(rp: &Replay, found: &mut Found) {
    if rp.void_events == rp.voids {
        return;
    }
    for (target, by) in &rp.voids {
        if rp.void_events.get(target) != Some(by) {
            found.bad(format!(
                "event {target} is marked voided by event {by}, which is not a void of it"
            ));
        }
    }
    for (target, by) in &rp.void_events {
        if rp.voids.get(target) != Some(by) {
            found.bad(format!(
                "void event {by} of event {target} is not recorded in the void index"
            ));
        }
    }
}

/// Every lot's balance and status are what its events say, and no balance is negative.
fn balances_and_statuses(st: &Stored, rp: &Replay, found: &mut Found) {
    let mut ids: Vec<&LotId> = st.lots.keys().collect();
    ids.sort();
    for id in ids {
        let l = &st.lots[id];
        let want = rp.balance.get(id).copied().unwrap_or_default();
        if l.balance != want {
            found.bad(format!(
                "lot {} has balance {} {} but its events add up to {}",
                l.code, l.balance, l.unit, want
            ));
        }
        if l.balance.milli() < 0 {
            found.bad(format!(
                "lot {} has a negative balance {}",
                l.code, l.balance
            ));
        }
        let want = if rp.voided_lots.contains(id) {
            LotStatus::Voided
        } else {
            rp.status.get(id).copied().unwrap_or(LotStatus::Released)
        };
        if l.status != want {
            found.bad(format!(
                "lot {} has status {} but its events say {}",
                l.code, l.status, want
            ));
        }
    }
}

/// A lot known only from a partner's document was made by the first event naming it, and
/// its quantity is what those events named; one filled in by a receipt is that receipt's
/// lot, and the fill-in took back exactly what had been named (docs/epcis.md).
fn partner_lots(st: &Stored, rp: &Replay, found: &mut Found) {
    let mut ids: Vec<&LotId> = st.lots.keys().collect();
    ids.sort();
    for id in ids {
        let l = &st.lots[id];
        let seen = rp.partner.get(id);
        match (&l.origin, seen) {
            (Origin::Partner { .. }, None) => found.bad(format!(
                "lot {} is known only from a partner's document, but no event of its records that",
                l.code
            )),
            (Origin::Partner { .. }, Some(seen)) => {
                if seen.first != Some(l.event) {
                    found.bad(format!(
                        "lot {} says event {} made it, but its first partner-lot event is {}",
                        l.code,
                        l.event,
                        seen.first.map_or("none".into(), |e| e.to_string())
                    ));
                }
                if let Some((fill, ..)) = seen.filled {
                    found.bad(format!(
                        "lot {} was filled in by event {fill} but is still known only from a partner's document",
                        l.code
                    ));
                }
                if l.quantity != seen.named {
                    found.bad(format!(
                        "lot {} has quantity {} {} but the partner's documents named {}",
                        l.code, l.quantity, l.unit, seen.named
                    ));
                }
            }
            (_, None) => {}
            (origin, Some(seen)) => match seen.filled {
                None => found.bad(format!(
                    "lot {} was named by a partner's document and is now {}, but no fill-in event says so",
                    l.code,
                    origin.as_str()
                )),
                Some((fill, by, named)) => {
                    if !matches!(origin, Origin::Received { .. })
                        || l.event != by
                        || rp.receipts.get(&by) != Some(id)
                    {
                        found.bad(format!(
                            "lot {} was filled in by event {fill} naming receipt {by}, but the lot is not that receipt's",
                            l.code
                        ));
                    }
                    if named != seen.named {
                        found.bad(format!(
                            "fill-in event {fill} of lot {} took back {named}, but the partner's documents named {}",
                            l.code, seen.named
                        ));
                    }
                }
            },
        }
    }
}

/// Links: forward and reverse mirror each other and the batches, and name lots that exist.
fn links(
    r: &ReadTransaction,
    st: &Stored,
    rp: &Replay,
    found: &mut Found,
) -> Result<(), StoreError> {
    let mut fwd: BTreeSet<(u32, u32, i64)> = BTreeSet::new();
    for e in r.open_multimap_table(LINKS_FWD)?.iter()? {
        let (k, vals) = e?;
        for v in vals {
            let (out, q) = v?.value();
            fwd.insert((k.value(), out, q));
        }
    }
    let mut rev: BTreeSet<(u32, u32, i64)> = BTreeSet::new();
    for e in r.open_table(LINKS_REV)?.iter()? {
        let (k, v) = e?;
        match unpack_inputs(v.value()) {
            Some(inputs) => rev.extend(inputs.map(|(inp, q)| (inp, k.value(), q))),
            None => found.bad(format!(
                "the reverse links of lot {} are unreadable",
                st.code_of(LotId(k.value()))
            )),
        }
    }
    let show = |(i, o, q): &(u32, u32, i64)| {
        format!(
            "{} → {} ({})",
            st.code_of(LotId(*i)),
            st.code_of(LotId(*o)),
            Qty(*q)
        )
    };
    for l in fwd.difference(&rev) {
        found.bad(format!("forward link {} has no reverse link", show(l)));
    }
    for l in rev.difference(&fwd) {
        found.bad(format!("reverse link {} has no forward link", show(l)));
    }
    for l in rp.links.difference(&fwd) {
        found.bad(format!(
            "batch link {} is missing from the link tables",
            show(l)
        ));
    }
    for l in fwd.difference(&rp.links) {
        found.bad(format!("link {} was made by no batch", show(l)));
    }
    for (i, o, _) in fwd.iter().chain(rev.iter()) {
        for id in [i, o] {
            if !st.lots.contains_key(&LotId(*id)) {
                found.bad(format!("a link names missing lot id {id}"));
            }
        }
    }
    Ok(())
}

/// The shipment index (what forward traces and recalls read instead of the events) holds
/// exactly the shipments' lines.
fn shipment_index(
    r: &ReadTransaction,
    st: &Stored,
    rp: &Replay,
    found: &mut Found,
) -> Result<(), StoreError> {
    let mut ships: BTreeSet<(u32, Line)> = BTreeSet::new();
    for e in r.open_multimap_table(LOT_SHIPMENTS)?.iter()? {
        let (k, vals) = e?;
        for v in vals {
            let v = v?;
            let (id, q, day, customer, kind, number) = v.value();
            ships.insert((
                k.value(),
                (id, q, day, customer.into(), kind.into(), number.into()),
            ));
        }
    }
    for (lot, l) in ships.difference(&rp.ships) {
        found.bad(format!(
            "shipment index entry for lot {} (event {}) matches no shipment line",
            st.code_of(LotId(*lot)),
            l.0
        ));
    }
    for (lot, l) in rp.ships.difference(&ships) {
        found.bad(format!(
            "shipment line of event {} for lot {} is missing from the shipment index",
            l.0,
            st.code_of(LotId(*lot))
        ));
    }
    Ok(())
}

/// The indexes answers are read from: a lot's history, a customer's deliveries, date
/// ranges, an item's lots, a supplier's lot codes. Each is rebuilt from the events and
/// lots and compared with what is stored.
fn indexes(
    r: &ReadTransaction,
    st: &Stored,
    rp: &Replay,
    found: &mut Found,
) -> Result<(), StoreError> {
    let mut history = BTreeSet::new();
    for e in r.open_table(LOT_EVENTS)?.iter()? {
        history.insert(e?.0.value());
    }
    let mut party = BTreeSet::new();
    for e in r.open_table(PARTY_EVENTS)?.iter()? {
        let k = e?.0;
        let (p, id) = k.value();
        party.insert((p.to_string(), id));
    }
    let mut dates = BTreeSet::new();
    for e in r.open_table(EVENTS_BY_DATE)?.iter()? {
        dates.insert(e?.0.value());
    }
    let mut item_index = BTreeSet::new();
    for e in r.open_table(ITEM_LOTS)?.iter()? {
        let k = e?.0;
        let (i, l) = k.value();
        item_index.insert((i.to_string(), l));
    }
    let mut supplier_index = BTreeSet::new();
    for e in r.open_table(SUPPLIER_LOTS)?.iter()? {
        let k = e?.0;
        let (sl, l) = k.value();
        supplier_index.insert((sl.to_string(), l));
    }
    let mut expected_items = BTreeSet::new();
    let mut expected_suppliers = BTreeSet::new();
    for l in st.lots.values() {
        expected_items.insert((l.item.to_string(), l.id.0));
        if let Origin::Received {
            supplier,
            supplier_lot,
        } = &l.origin
        {
            expected_suppliers.insert((
                supplier_lot_key(supplier_lot.as_str(), supplier.as_str()),
                l.id.0,
            ));
        }
    }
    compare("lot history", &rp.history, &history, found, |(l, e)| {
        format!("lot {} event {e}", st.code_of(LotId(*l)))
    });
    compare(
        "customer and supplier history",
        &rp.party,
        &party,
        found,
        |(p, e)| format!("party {p} event {e}"),
    );
    compare("date index", &rp.dates, &dates, found, |(_, e)| {
        format!("event {e}")
    });
    compare(
        "item index",
        &expected_items,
        &item_index,
        found,
        |(i, l)| format!("item {i} lot {}", st.code_of(LotId(*l))),
    );
    compare(
        "supplier-lot index",
        &expected_suppliers,
        &supplier_index,
        found,
        |(k, l)| {
            format!(
                "supplier lot {} lot {}",
                k.replace('\0', " of "),
                st.code_of(LotId(*l))
            )
        },
    );
    Ok(())
}

/// Mock recall records: every count and completion belongs to a record that was started,
/// from the same lot, before it; a record is completed at most once and counted no more
/// after.
fn mock_recalls(st: &Stored, rp: &Replay, found: &mut Found) {
    let mut finished: HashMap<u64, u64> = HashMap::new();
    for &(recall, id, root, finish) in &rp.mock_members {
        let what = if finish { "completion" } else { "count" };
        match rp.mock_starts.get(&recall) {
            None => found.bad(format!(
                "mock recall {what} event {id} names mock recall {recall}, which is not a mock recall start"
            )),
            Some(start_root) => {
                if *start_root != root {
                    found.bad(format!(
                        "mock recall {what} event {id} is about lot {} but mock recall {recall} started from lot {}",
                        st.code_of(root),
                        st.code_of(*start_root)
                    ));
                }
                if id <= recall {
                    found.bad(format!(
                        "mock recall {what} event {id} was recorded before mock recall {recall} started"
                    ));
                }
            }
        }
        if let Some(done) = finished.get(&recall) {
            found.bad(format!(
                "mock recall {what} event {id} comes after mock recall {recall} was completed by event {done}"
            ));
        } else if finish {
            finished.insert(recall, id);
        }
    }
}

/// A scanned label's record belongs to the receipt it names: a receipt of the same lot,
/// recorded before it (in the same transaction).
fn label_data(st: &Stored, rp: &Replay, found: &mut Found) {
    for &(id, receipt, lot) in &rp.labels {
        match rp.receipts.get(&receipt) {
            None => found.bad(format!(
                "label data event {id} names event {receipt}, which is not a receipt"
            )),
            Some(&received) if received != lot => found.bad(format!(
                "label data event {id} is about lot {} but receipt {receipt} received lot {}",
                st.code_of(lot),
                st.code_of(received)
            )),
            Some(_) if receipt >= id => found.bad(format!(
                "label data event {id} was recorded before receipt {receipt}, which it names"
            )),
            Some(_) => {}
        }
    }
}

/// Every event's further documents read, belong to a receipt, batch or shipment, and hold
/// what its capture allowed: something, a second document only beside a first, a reason
/// for none only without one.
fn event_documents(r: &ReadTransaction, found: &mut Found) -> Result<(), StoreError> {
    let t = match r.open_table(EVENT_DOCUMENTS) {
        Ok(t) => t,
        // A file nothing has written documents to since the table came.
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let events = r.open_table(EVENTS)?;
    for e in t.iter()? {
        let (k, v) = e?;
        let id = k.value();
        let docs = match decode::<Documents>(v.value(), "event_documents", &id) {
            Ok(d) => d,
            Err(e) => {
                found.bad(e.to_string());
                continue;
            }
        };
        let Some(ev) = events.get(id)? else {
            found.bad(format!(
                "documents are kept for event {id}, which does not exist"
            ));
            continue;
        };
        let ev: Event = match decode(ev.value(), "events", &id) {
            Ok(ev) => ev,
            // Reported by the replay of the events.
            Err(_) => continue,
        };
        if !matches!(
            ev.kind,
            EventKind::Receive(_) | EventKind::Produce(_) | EventKind::Ship(_)
        ) {
            found.bad(format!(
                "documents are kept for event {id} ({}), a kind that has none",
                ev.kind.name()
            ));
        } else if docs.is_empty() {
            found.bad(format!("event {id} has an empty documents record"));
        } else if let Err(e) = docs.check_with(ev.reference.as_ref()) {
            found.bad(format!(
                "event {id}'s documents: {}: {}",
                e.field, e.problem
            ));
        }
    }
    Ok(())
}

/// The index mock recall records are read by lists exactly their events.
fn mock_recall_index(
    r: &ReadTransaction,
    rp: &Replay,
    found: &mut Found,
) -> Result<(), StoreError> {
    let mut mock_index = BTreeSet::new();
    match r.open_table(MOCK_RECALLS) {
        Ok(t) => {
            for e in t.iter()? {
                mock_index.insert(e?.0.value());
            }
        }
        // A file no write has touched since mock recall records came (schema 7): it has
        // no index, and must then have no records either.
        Err(redb::TableError::TableDoesNotExist(_)) => {}
        Err(e) => return Err(e.into()),
    }
    // What an entry nobody expects points at, for the report: its record and event may be
    // missing or of another kind.
    let events_t = r.open_table(EVENTS)?;
    let mut kind_of: HashMap<u64, String> = HashMap::new();
    for &(recall, id) in mock_index.difference(&rp.mock_index).take(20) {
        for e in [recall, id] {
            if kind_of.contains_key(&e) {
                continue;
            }
            let said = match events_t.get(e)? {
                None => "no such event".to_string(),
                Some(v) => match decode::<Event>(v.value(), "events", &e) {
                    Ok(ev) => format!("a {} event", ev.kind.name()),
                    Err(_) => "an unreadable event".to_string(),
                },
            };
            kind_of.insert(e, said);
        }
    }
    compare(
        "mock recall index",
        &rp.mock_index,
        &mock_index,
        found,
        |(recall, id)| match (kind_of.get(recall), kind_of.get(id)) {
            (Some(r), Some(_)) if recall == id => {
                format!("mock recall {recall} ({r})")
            }
            (Some(r), Some(e)) => {
                format!("mock recall {recall} ({r}) event {id} ({e})")
            }
            _ => format!("mock recall {recall} event {id}"),
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use lotline_domain::api::Command;

    #[test]
    fn a_clean_bakery_checks_clean() {
        let (_d, s, _) = bakery();
        let rep = s.check().unwrap();
        assert!(rep.problems.is_empty(), "{:?}", rep.problems);
        assert_eq!((rep.lots, rep.events, rep.links), (4, 6, 3));
    }

    #[test]
    fn tampering_is_found() {
        let (_d, s, [flour, _, dough, _]) = bakery();
        let flour_id = s.lot_by_code(&flour).unwrap().id;
        let dough_id = s.lot_by_code(&dough).unwrap().id;
        // Break the store behind the API's back: drop a reverse link, change a balance.
        let w = s.db.begin_write().unwrap();
        {
            let mut rev = w.open_table(LINKS_REV).unwrap();
            let mut inputs: Vec<(u32, i64)> = {
                let v = rev.get(dough_id.0).unwrap().unwrap();
                unpack_inputs(v.value()).unwrap().collect()
            };
            inputs.retain(|(i, _)| *i != flour_id.0);
            rev.insert(dough_id.0, pack_inputs(&mut inputs).as_slice())
                .unwrap();
            // And a shipment line that lost its customer.
            let mut ships = w.open_multimap_table(LOT_SHIPMENTS).unwrap();
            let (lot, (id, q, day, kind, number)) = {
                let (k, mut vals) = ships.iter().unwrap().next().unwrap().unwrap();
                let v = vals.next().unwrap().unwrap();
                let (id, q, day, _, kind, number) = v.value();
                (
                    k.value(),
                    (id, q, day, kind.to_string(), number.to_string()),
                )
            };
            ships.remove_all(lot).unwrap();
            ships
                .insert(lot, (id, q, day, "NOBODY", kind.as_str(), number.as_str()))
                .unwrap();
            let mut lots = w.open_table(LOTS).unwrap();
            let mut l = s.lot(flour_id).unwrap();
            l.balance = Qty::from_units(901);
            lots.insert(flour_id.0, super::super::codec::encode(&l).as_slice())
                .unwrap();
        }
        w.commit().unwrap();
        let rep = s.check().unwrap();
        let text: Vec<&str> = rep.problems.iter().map(|p| p.0.as_str()).collect();
        assert!(
            text.iter()
                .any(|p| p.starts_with("forward link") && p.contains("no reverse link")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|p| p.contains("balance 901 kg but its events add up to 900")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|p| p.contains("matches no shipment line")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|p| p.contains("missing from the shipment index")),
            "{text:?}"
        );
    }

    #[test]
    fn label_data_that_names_no_receipt_of_its_lot_is_found() {
        let (_d, s, [flour, _, dough, _]) = bakery();
        let flour = s.lot_by_code(&flour).unwrap();
        let dough = s.lot_by_code(&dough).unwrap();
        let label = |receipt: u64, lot: LotId| EventKind::LabelData {
            receipt,
            lot,
            elements: vec![LabelElement {
                ai: "91".into(),
                value: "X".into(),
            }],
        };
        // Written behind the API's back: one naming a batch, one the wrong lot's receipt.
        let w = s.db.begin_write().unwrap();
        {
            let mut events = w.open_table(EVENTS).unwrap();
            let template: Event = {
                let v = events.get(flour.event).unwrap().unwrap();
                decode(v.value(), "events", &flour.event).unwrap()
            };
            for (id, kind) in [
                (900, label(dough.event, dough.id)),
                (901, label(flour.event, dough.id)),
            ] {
                let ev = Event {
                    id,
                    kind,
                    ..template.clone()
                };
                events
                    .insert(id, super::super::codec::encode(&ev).as_slice())
                    .unwrap();
            }
        }
        w.commit().unwrap();
        let rep = s.check().unwrap();
        let text: Vec<&str> = rep.problems.iter().map(|p| p.0.as_str()).collect();
        let batch = format!(
            "label data event 900 names event {}, which is not a receipt",
            dough.event
        );
        let wrong_lot = format!(
            "label data event 901 is about lot {} but receipt {} received lot {}",
            dough.code, flour.event, flour.code
        );
        for p in [batch, wrong_lot] {
            assert!(text.iter().any(|t| *t == p), "{p:?} not in {text:?}");
        }
    }

    #[test]
    fn voiding_the_receipt_of_a_held_lot_checks_clean() {
        // Found by the property test: the void must outrank the earlier hold.
        let (_d, s) = temp_store();
        add_item(&s, "FLOUR", Unit::Kg, ItemKind::Ingredient);
        add_party(&s, "MILL", Role::Supplier);
        let lot = receive(&s, "FLOUR", "MILL", "A1", 10);
        s.apply(
            Command::SetStatus(StatusChange {
                lot: lot.clone(),
                to: LotStatus::Hold,
                date: today(),
                reason: "r".into(),
            }),
            &stamp(),
            today(),
        )
        .unwrap();
        let event = s.lot_by_code(&lot).unwrap().event;
        s.apply(
            Command::Void(VoidEvent {
                event,
                date: today(),
                reason: "never arrived".into(),
            }),
            &stamp(),
            today(),
        )
        .unwrap();
        assert_eq!(s.lot_by_code(&lot).unwrap().status, LotStatus::Voided);
        let rep = s.check().unwrap();
        assert!(rep.problems.is_empty(), "{:?}", rep.problems);
    }

    #[test]
    fn only_the_latest_status_change_can_be_voided() {
        // Found by the property test: hold, release, hold again, then void the first hold.
        let (_d, s) = temp_store();
        add_item(&s, "FLOUR", Unit::Kg, ItemKind::Ingredient);
        add_party(&s, "MILL", Role::Supplier);
        let lot = receive(&s, "FLOUR", "MILL", "A1", 10);
        let change = |to| {
            s.apply(
                Command::SetStatus(StatusChange {
                    lot: lot.clone(),
                    to,
                    date: today(),
                    reason: "r".into(),
                }),
                &stamp(),
                today(),
            )
            .unwrap()
            .event()
            .unwrap()
        };
        let first_hold = change(LotStatus::Hold);
        change(LotStatus::Released);
        let last_hold = change(LotStatus::Hold);
        let e = s
            .apply(
                Command::Void(VoidEvent {
                    event: first_hold,
                    date: today(),
                    reason: "x".into(),
                }),
                &stamp(),
                today(),
            )
            .unwrap_err();
        assert!(e.to_string().contains("has changed status since"), "{e}");
        s.apply(
            Command::Void(VoidEvent {
                event: last_hold,
                date: today(),
                reason: "wrong lot".into(),
            }),
            &stamp(),
            today(),
        )
        .unwrap();
        assert_eq!(s.lot_by_code(&lot).unwrap().status, LotStatus::Released);
        assert!(
            s.check().unwrap().problems.is_empty(),
            "{:?}",
            s.check().unwrap().problems
        );
    }

    #[test]
    fn a_receipt_can_be_voided_once_its_downstream_events_are() {
        // Found in review: the void of a shipment counted as a use of the lot.
        let (_d, s) = temp_store();
        add_item(&s, "FLOUR", Unit::Kg, ItemKind::Ingredient);
        add_party(&s, "MILL", Role::Supplier);
        add_party(&s, "SHOP", Role::Customer);
        let lot = receive(&s, "FLOUR", "MILL", "A1", 10);
        let shipped = ship(&s, "SHOP", vec![line(&lot, 4)]).unwrap();
        let receipt = s.lot_by_code(&lot).unwrap().event;
        let void = |event| {
            s.apply(
                Command::Void(VoidEvent {
                    event,
                    date: today(),
                    reason: "entered in error".into(),
                }),
                &stamp(),
                today(),
            )
        };
        assert!(
            void(receipt)
                .unwrap_err()
                .to_string()
                .contains("has been used")
        );
        void(shipped).unwrap();
        void(receipt).unwrap();
        assert_eq!(s.lot_by_code(&lot).unwrap().status, LotStatus::Voided);
        assert!(
            s.check().unwrap().problems.is_empty(),
            "{:?}",
            s.check().unwrap().problems
        );
    }

    #[test]
    fn a_damaged_mock_recall_index_is_found() {
        let (_d, s, [_, _, _, cookies]) = bakery();
        let start = s
            .apply(
                Command::StartMockRecall(StartMockRecall {
                    lot: cookies.clone(),
                    asked_as: String::new(),
                    note: String::new(),
                    date: today(),
                }),
                &stamp(),
                today(),
            )
            .unwrap()
            .event()
            .unwrap();
        let count = s
            .apply(
                Command::CountMockRecall {
                    count: NewMockCount {
                        recall: start,
                        lot: Some(cookies.clone()),
                        customer: None,
                        on_hand: Some(Qty::ZERO),
                        retrieved: None,
                        consumed: None,
                        destroyed: None,
                        unit: None,
                        note: String::new(),
                    },
                    date: today(),
                },
                &stamp(),
                today(),
            )
            .unwrap()
            .event()
            .unwrap();
        let clean = s.check().unwrap();
        assert!(clean.problems.is_empty(), "{:?}", clean.problems);
        // Lose the start's own entry and the count's, and point one at a shipment and
        // one at nothing.
        let w = s.db.begin_write().unwrap();
        {
            let mut t = w.open_table(MOCK_RECALLS).unwrap();
            assert!(t.remove((start, start)).unwrap().is_some());
            assert!(t.remove((start, count)).unwrap().is_some());
            t.insert((5, 5), ()).unwrap();
            t.insert((start, 999), ()).unwrap();
        }
        w.commit().unwrap();
        let rep = s.check().unwrap();
        let text: Vec<&str> = rep.problems.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(
            text,
            vec![
                format!(
                    "mock recall {start} (a mock recall started event) is missing from the mock recall index"
                ),
                format!("mock recall {start} event {count} is missing from the mock recall index"),
                "mock recall 5 (a ship event) is extra in the mock recall index".to_string(),
                format!(
                    "mock recall {start} (a mock recall started event) event 999 (no such event) is extra in the mock recall index"
                ),
            ],
        );
        // A count naming a record that was never started is found from the events alone.
        let w = s.db.begin_write().unwrap();
        {
            let mut t = w.open_table(EVENTS).unwrap();
            let mut ev: Event =
                super::super::codec::decode(t.get(count).unwrap().unwrap().value(), "e", &0)
                    .unwrap();
            if let EventKind::MockRecallCount(c) = &mut ev.kind {
                c.recall = 4;
            }
            t.insert(count, super::super::codec::encode(&ev).as_slice())
                .unwrap();
        }
        w.commit().unwrap();
        let rep = s.check().unwrap();
        assert!(
            rep.problems.iter().any(|p| p.0
                == format!("mock recall count event {count} names mock recall 4, which is not a mock recall start")),
            "{:?}",
            rep.problems
        );
    }

    #[test]
    fn a_missing_index_entry_is_found() {
        // Found in review: a lost party_history row hid a delivery from the complaint lookup
        // while check said all was consistent.
        let (_d, s, _) = bakery();
        let shop_event = s
            .party_events(&PartyId::parse("SHOP", "p").unwrap())
            .unwrap()[0]
            .id;
        let w = s.db.begin_write().unwrap();
        {
            let mut t = w.open_table(PARTY_EVENTS).unwrap();
            assert!(t.remove(("SHOP", shop_event)).unwrap().is_some());
        }
        w.commit().unwrap();
        let rep = s.check().unwrap();
        let text: Vec<&str> = rep.problems.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(text, vec![format!("party SHOP event {shop_event} is missing from the customer and supplier history").as_str()]);
    }
}
