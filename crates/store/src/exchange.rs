//! Events in and out for other systems: pages of events with the lots they name (for the
//! EPCIS export), and an EPCIS import applied in one write transaction.

use super::codec::{decode, encode};
use super::query::read_event;
use super::tables::*;
use super::write::{PendingPartner, Tx};
use super::{Store, StoreError};
use chrono::NaiveDate;
use lotline_domain::*;
use redb::ReadableTable;
use std::collections::{BTreeMap, HashMap};

impl Store {
    /// Standing events with business dates in `from..=to`, ordered by (date, id), starting
    /// at `after` (exclusive), at most `limit`; or exactly the events `ids`, in that order
    /// (voided and unknown ids are left out). Voided events and voids themselves are
    /// never returned: an export shows what stands.
    pub fn event_page(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        after: Option<(NaiveDate, u64)>,
        ids: Option<&[u64]>,
        limit: usize,
    ) -> Result<EventPageRows, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let r = self.read()?;
        let voids = r.open_table(EVENT_VOIDS)?;
        let mut out = EventPageRows::default();
        let keep = |ev: Event, out: &mut EventPageRows| -> Result<(), StoreError> {
            if voids.get(ev.id)?.is_some() || matches!(ev.kind, EventKind::Void { .. }) {
                return Ok(());
            }
            out.events.push(ev);
            Ok(())
        };
        match ids {
            Some(ids) => {
                let events = r.open_table(EVENTS)?;
                for &id in ids.iter().take(limit) {
                    if let Some(v) = events.get(id)? {
                        let ev: Event = decode(v.value(), "events", &id)?;
                        keep(ev, &mut out)?;
                    }
                }
            }
            None => {
                let idx = r.open_table(EVENTS_BY_DATE)?;
                let lo = match after {
                    Some((d, id)) => (day_number(d), id.saturating_add(1)),
                    None => (day_number(from), 0),
                };
                let hi = (day_number(to), u64::MAX);
                if lo <= hi {
                    let mut seen = 0usize;
                    for e in idx.range(lo..=hi)? {
                        let (k, _) = e?;
                        let id = k.value().1;
                        let ev = read_event(&r, id)?;
                        let date = ev.date;
                        keep(ev, &mut out)?;
                        seen += 1;
                        if seen == limit {
                            out.next = Some((date, id));
                            break;
                        }
                    }
                }
            }
        }
        let lots = r.open_table(LOTS)?;
        let mut wanted: BTreeMap<u32, ()> = BTreeMap::new();
        for ev in &out.events {
            for l in ev.kind.lots() {
                wanted.insert(l.0, ());
            }
        }
        for id in wanted.keys() {
            if let Some(v) = lots.get(*id)? {
                out.lots.push(decode(v.value(), "lots", id)?);
            }
        }
        // Each event's second reference document, or why it has none: a partner is told
        // every document the FDA sheet shows.
        match r.open_table(EVENT_DOCUMENTS) {
            Ok(t) => {
                for e in &out.events {
                    if let Some(v) = t.get(e.id)? {
                        out.documents
                            .push((e.id, decode(v.value(), "event_documents", &e.id)?));
                    }
                }
            }
            // A file nothing has written documents to yet.
            Err(redb::TableError::TableDoesNotExist(_)) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(out)
    }
}

impl Tx<'_> {
    /// Record an EPCIS import. Events already imported (by event id) are skipped. An event
    /// that breaks a rule (a lot code already taken, an input lot not known, more shipped
    /// than on hand, a customer used as a supplier) is listed in the report with its
    /// reason; unless `skip_unmappable` is set, one such event — or one the client could
    /// not map — leaves the whole document unstored: the report says so
    /// ([`super::Applied::stored`]) and the transaction is not committed.
    pub(super) fn import_epcis(
        &mut self,
        imp: &EpcisImport,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<ImportReport, StoreError> {
        if imp.events.len() > MAX_IMPORT_EVENTS {
            return Err(StoreError::invalid(
                "file",
                format!(
                    "{} events is more than one import takes ({MAX_IMPORT_EVENTS}); export the plant in date ranges (--from/--to) and import each",
                    imp.events.len()
                ),
            ));
        }
        // Many events to one transaction, as a bulk load: each lot stored once (by the
        // bulk load itself when the import is one of its commands).
        let deferring = self.defer_lot_writes();
        let mut run = Import::new(self, imp, stamp, partner_today(stamp, today))?;
        for ev in &imp.events {
            run.event(ev)?;
        }
        let mut report = run.report;
        if deferring {
            self.store_deferred_lots()?;
        }
        report.unmapped.extend(imp.unmapped.iter().cloned());
        report.unmapped.sort_by_key(|u| u.index);
        report.stored = imp.skip_unmappable || report.unmapped.is_empty();
        Ok(report)
    }
}

/// The latest business day a partner's event may carry. An event's date is the day in
/// the partner's own zone, which can already be tomorrow here: a plant at +02:00 is on
/// the 8th while an office in UTC is still on the 7th. No zone is ahead of UTC by more
/// than 14 hours, so no partner's "today" is later than that; it is never earlier than
/// our own.
fn partner_today(stamp: &Stamp, today: NaiveDate) -> NaiveDate {
    let east_most = (stamp.at + chrono::Duration::hours(14)).date_naive();
    today.max(east_most)
}

/// One import in progress over an open transaction.
struct Import<'a, 'b, 't> {
    tx: &'a mut Tx<'t>,
    imp: &'b EpcisImport,
    stamp: &'b Stamp,
    today: NaiveDate,
    /// Resolved item codes and party ids by the document's index, or why not.
    items: Vec<Option<Result<ItemCode, String>>>,
    parties: Vec<Option<Result<PartyId, String>>>,
    by_gtin: HashMap<Gtin, ItemCode>,
    by_gln: HashMap<Gln, PartyId>,
    report: ImportReport,
    /// Lots known only by a partner's identifier the current event makes.
    fresh_partner_lots: u64,
    /// The current event is a receipt filling in such a lot.
    filling_now: bool,
}

impl<'a, 'b, 't> Import<'a, 'b, 't> {
    fn new(
        tx: &'a mut Tx<'t>,
        imp: &'b EpcisImport,
        stamp: &'b Stamp,
        today: NaiveDate,
    ) -> Result<Self, StoreError> {
        let mut by_gtin = HashMap::new();
        for e in tx.items.iter()? {
            let (k, v) = e?;
            let item: Item = decode(v.value(), "items", &k.value())?;
            if let Some(g) = item.gtin {
                by_gtin.insert(g, item.code);
            }
        }
        let mut by_gln = HashMap::new();
        for e in tx.parties.iter()? {
            let (k, v) = e?;
            let party: Party = decode(v.value(), "parties", &k.value())?;
            if let Some(g) = party.gln {
                by_gln.insert(g, party.id);
            }
        }
        Ok(Import {
            tx,
            imp,
            stamp,
            today,
            items: vec![None; imp.items.len()],
            parties: vec![None; imp.parties.len()],
            by_gtin,
            by_gln,
            report: ImportReport::default(),
            fresh_partner_lots: 0,
            filling_now: false,
        })
    }

    fn item(&mut self, index: u32) -> Result<Result<ItemCode, String>, StoreError> {
        let i = index as usize;
        let Some(r) = self.imp.items.get(i) else {
            return Ok(Err(format!(
                "names item {index}, which the import does not list"
            )));
        };
        if let Some(done) = &self.items[i] {
            return Ok(done.clone());
        }
        let found = match r.gtin.as_ref().and_then(|g| self.by_gtin.get(g)) {
            Some(code) => Ok(code.clone()),
            None if self.tx.items.get(r.new.code.as_str())?.is_some() => Ok(r.new.code.clone()),
            None => match self.tx.add_item(r.new.clone(), self.stamp) {
                Ok(item) => {
                    self.report.items_created += 1;
                    if let Some(g) = item.gtin {
                        self.by_gtin.insert(g, item.code.clone());
                    }
                    Ok(item.code)
                }
                Err(StoreError::Invalid(i)) => Err(format!("item {}: {i}", r.new.code)),
                Err(e) => return Err(e),
            },
        };
        self.items[i] = Some(found.clone());
        Ok(found)
    }

    fn party(&mut self, index: u32) -> Result<Result<PartyId, String>, StoreError> {
        let i = index as usize;
        let Some(r) = self.imp.parties.get(i) else {
            return Ok(Err(format!(
                "names party {index}, which the import does not list"
            )));
        };
        if let Some(done) = &self.parties[i] {
            return Ok(done.clone());
        }
        let found = match r.gln.as_ref().and_then(|g| self.by_gln.get(g)) {
            Some(id) => Ok(id.clone()),
            None if self.tx.parties.get(r.new.id.as_str())?.is_some() => Ok(r.new.id.clone()),
            None => match self.tx.add_party(r.new.clone(), self.stamp) {
                Ok(p) => {
                    self.report.parties_created += 1;
                    if let Some(g) = p.gln {
                        self.by_gln.insert(g, p.id.clone());
                    }
                    Ok(p.id)
                }
                Err(StoreError::Invalid(i)) => Err(format!("party {}: {i}", r.new.id)),
                Err(e) => return Err(e),
            },
        };
        self.parties[i] = Some(found.clone());
        Ok(found)
    }

    /// `line`'s quantity in the unit lot `line.lot` is kept in.
    fn in_lot_unit(&self, line: &ImportLine, field: &str) -> Result<LotLine, StoreError> {
        let lot = self.tx.lot_by_code(&line.lot, field)?;
        let qty = line
            .unit
            .convert(line.qty, lot.unit)
            .map_err(|why| StoreError::invalid(field, format!("lot {}: {why}", lot.code)))?;
        Ok(LotLine {
            lot: line.lot.clone(),
            qty,
        })
    }

    /// `line` as a use of a lot, in the lot's unit. A lot the plant has never seen, named
    /// with the document's identifier, or one known only from a partner's document, is
    /// made ready for the batch or shipment to record as such (`Tx::partners`).
    fn use_line(
        &mut self,
        line: &ImportLine,
        field: &str,
        ev: &ImportEvent,
    ) -> Result<Result<LotLine, String>, StoreError> {
        let known = match self.tx.lot_by_code(&line.lot, field) {
            Ok(lot) => Some(lot),
            Err(StoreError::Invalid(_)) => None,
            Err(e) => return Err(e),
        };
        let (item, unit, identifier) = match (known, &line.partner) {
            (Some(lot), _) if !matches!(lot.origin, Origin::Partner { .. }) => {
                return match self.in_lot_unit(line, field) {
                    Ok(l) => Ok(Ok(l)),
                    Err(StoreError::Invalid(i)) => Ok(Err(i.to_string())),
                    Err(e) => Err(e),
                };
            }
            (Some(lot), p) => {
                let identifier = match (p, &lot.origin) {
                    (Some(p), _) => p.identifier.clone(),
                    (None, Origin::Partner { identifier, .. }) => identifier.clone(),
                    (None, _) => String::new(),
                };
                (lot.item, lot.unit, identifier)
            }
            (None, None) => {
                return Ok(Err(format!(
                    "{field}: no lot {}; check the code on the label",
                    line.lot
                )));
            }
            (None, Some(p)) => {
                let code = match self.item(p.item)? {
                    Ok(c) => c,
                    Err(why) => return Ok(Err(why)),
                };
                let unit = self.tx.item(&code, field)?.unit;
                self.fresh_partner_lots += 1;
                (code, unit, p.identifier.clone())
            }
        };
        let qty = match line.unit.convert(line.qty, unit) {
            Ok(q) => q,
            Err(why) => return Ok(Err(format!("{field}: lot {}: {why}", line.lot))),
        };
        self.tx.partners.push(PendingPartner {
            code: line.lot.clone(),
            item,
            unit,
            identifier,
            source: self.imp.source.clone(),
            event_id: ev.event_id.clone(),
        });
        Ok(Ok(LotLine {
            lot: line.lot.clone(),
            qty,
        }))
    }

    fn event(&mut self, ev: &ImportEvent) -> Result<(), StoreError> {
        if self.tx.epcis.get(ev.event_id.as_str())?.is_some() {
            self.report.already += 1;
            return Ok(());
        }
        let unmapped = |reason: String| Unmapped {
            index: ev.index,
            event_id: ev.event_id.clone(),
            reason,
        };
        // Every rule a command checks is checked before it writes anything (see
        // `Tx::receive` and the others), so a refused event leaves nothing behind and the
        // import can go on without it.
        self.fresh_partner_lots = 0;
        self.filling_now = false;
        let made = self.apply(ev);
        self.tx.forced_code = None;
        self.tx.partners.clear();
        self.tx.filling = None;
        let made = match made? {
            Ok(made) => made,
            Err(reason) => {
                self.report.unmapped.push(unmapped(reason));
                return Ok(());
            }
        };
        self.report.imported += 1;
        self.report.records += made.len() as u64;
        self.report.partner_lots += self.fresh_partner_lots;
        let record = ImportedEvent {
            source: self.imp.source.clone(),
            event_time: ev.event_time.clone(),
            location: ev.location.clone(),
            events: made,
        };
        self.tx
            .epcis
            .insert(ev.event_id.as_str(), encode(&record).as_slice())?;
        Ok(())
    }

    /// The lotline events `ev` became, or why it could not be recorded.
    fn apply(&mut self, ev: &ImportEvent) -> Result<Result<Vec<u64>, String>, StoreError> {
        let (stamp, today) = (self.stamp, self.today);
        let refused = |e: StoreError| match e {
            StoreError::Invalid(i) => Ok(Err(i.to_string())),
            other => Err(other),
        };
        macro_rules! resolve {
            ($e:expr) => {
                match $e? {
                    Ok(v) => v,
                    Err(why) => return Ok(Err(why)),
                }
            };
        }
        let result = match &ev.kind {
            ImportKind::Receive {
                item,
                supplier,
                line,
                supplier_lot,
                expiry,
                quality,
                tlc_source_ref,
                label,
            } => {
                let item = resolve!(self.item(*item));
                let supplier = resolve!(self.party(*supplier));
                // A repeat delivery: a partner's document names the lot by the
                // supplier's code only, and a receipt of that supplier lot of that item
                // from that supplier already has the code. It is a new receipt of the
                // same supplier lot, numbered as the plant numbers its receipts.
                let repeat = match self.tx.lot_by_code(&line.lot, "lot") {
                    // A lot an earlier document named without saying where it came
                    // from: this receipt fills it in (docs/epcis.md).
                    Ok(l) if matches!(l.origin, Origin::Partner { .. }) => {
                        self.tx.filling = Some(l);
                        self.filling_now = true;
                        true
                    }
                    Ok(l) => {
                        l.item == item
                            && matches!(&l.origin, Origin::Received { supplier: p, supplier_lot: s }
                                if *p == supplier && s == supplier_lot)
                    }
                    Err(StoreError::Invalid(_)) => false,
                    Err(e) => return Err(e),
                };
                self.tx.forced_code = (!repeat).then(|| line.lot.clone());
                let r = NewReceipt {
                    item,
                    supplier,
                    supplier_lot: supplier_lot.clone(),
                    qty: line.qty,
                    unit: Some(line.unit),
                    date: ev.date,
                    expiry: *expiry,
                    reference: ev.reference.clone(),
                    documents: imported_documents(ev),
                    quality: quality.clone(),
                    tlc_source_ref: tlc_source_ref.clone(),
                };
                // The label the partner scanned is kept as a scan here keeps it: its own
                // record beside the receipt, in this transaction (none when it is empty).
                let scanned = ScannedReceipt {
                    receipt: r,
                    label: label.clone(),
                };
                self.tx
                    .receive_scanned(scanned, stamp, today)
                    .map(|c| vec![c.event])
            }
            ImportKind::Produce {
                item,
                output,
                expiry,
                line,
                inputs,
            } => {
                let item = resolve!(self.item(*item));
                let mut lines = Vec::with_capacity(inputs.len());
                for (i, l) in inputs.iter().enumerate() {
                    lines.push(resolve!(self.use_line(l, &format!("input {}", i + 1), ev)));
                }
                self.tx.forced_code = Some(output.lot.clone());
                let b = NewBatch {
                    // What is imported already happened: a lot used past its expiry is
                    // recorded as such (an expiry-override event), not refused.
                    allow_expired: true,
                    item,
                    qty: output.qty,
                    unit: Some(output.unit),
                    date: ev.date,
                    line: line.clone(),
                    reference: ev.reference.clone(),
                    documents: imported_documents(ev),
                    expiry: *expiry,
                    inputs: lines,
                };
                // A partner's transformation is a record of what they made, not a batch
                // asking our recipe's leave: it is stored as it was, any deviation from our
                // recipe written on the batch with this reason (docs/epcis.md). The
                // allergen holds still apply: they protect what leaves here.
                let recorded = Override {
                    reason: format!("imported from {}: the partner's record", self.imp.source),
                    off_recipe: true,
                };
                self.tx
                    .produce_with(b, Some(recorded), stamp, today)
                    .map(|c| vec![c.event])
            }
            ImportKind::Ship { customer, lines } => {
                let customer = resolve!(self.party(*customer));
                let mut out = Vec::with_capacity(lines.len());
                for (i, l) in lines.iter().enumerate() {
                    out.push(resolve!(self.use_line(l, &format!("line {}", i + 1), ev)));
                }
                let s = NewShipment {
                    allow_expired: true,
                    customer,
                    date: ev.date,
                    reference: ev.reference.clone(),
                    documents: imported_documents(ev),
                    lines: out,
                };
                self.tx.ship(s, stamp, today).map(|e| vec![e])
            }
            ImportKind::Adjust { lot, delta, reason } => {
                let a = Adjustment {
                    lot: lot.clone(),
                    delta: *delta,
                    date: ev.date,
                    reason: reason.clone(),
                };
                self.tx.adjust(a, stamp, today).map(|e| vec![e])
            }
            ImportKind::Return {
                customer,
                line,
                return_lot,
                shipment,
                reason,
            } => {
                let customer = resolve!(self.party(*customer));
                let back = match self.in_lot_unit(line, "lot") {
                    Ok(l) => l,
                    Err(e) => return refused(e),
                };
                let from = self.tx.lot_by_code(&line.lot, "lot")?;
                // The shipment as this database numbers it: the one an import recorded
                // for the document's shipment event, else the latest to that customer.
                let imported = match shipment {
                    Some(id) => match self.tx.epcis.get(id.as_str())? {
                        Some(v) => {
                            let rec: ImportedEvent = decode(v.value(), "epcis_events", id)?;
                            rec.events.first().copied()
                        }
                        None => None,
                    },
                    None => None,
                };
                let found = match imported {
                    Some(id) => Ok(id),
                    None => self
                        .tx
                        .shipment_for_return(&from, &customer, ev.date, back.qty),
                };
                let ship_id = match found {
                    Ok(id) => id,
                    Err(e) => return refused(e),
                };
                if let EventKind::Ship(s) = &self.tx.event(ship_id, "shipment")?.kind
                    && s.customer != customer
                {
                    return Ok(Err(format!(
                        "the return comes from {customer}, but shipment {ship_id} of lot {} went to {}",
                        from.code, s.customer
                    )));
                }
                self.tx.forced_code = return_lot.clone();
                let r = NewReturn {
                    shipment: ship_id.to_string(),
                    lot: from.code.clone(),
                    qty: back.qty,
                    unit: None,
                    date: ev.date,
                    reason: reason.clone(),
                    reference: ev.reference.clone(),
                };
                self.tx.return_goods(r, stamp, today).map(|c| vec![c.event])
            }
        };
        match result {
            Ok(made) => {
                match &ev.kind {
                    ImportKind::Receive { .. } if self.filling_now => self.report.filled_in += 1,
                    ImportKind::Receive { .. }
                    | ImportKind::Produce { .. }
                    | ImportKind::Return { .. } => self.report.lots_created += 1,
                    _ => {}
                }
                Ok(Ok(made))
            }
            Err(e) => refused(e),
        }
    }
}

/// An imported event's further documents: its second document, or the reason the
/// partner's document gave for naming none; when it names none and gives no reason, that
/// is the reason (a food on the Food Traceability List is refused without one or a
/// reason, and the import records what the partner recorded).
fn imported_documents(ev: &ImportEvent) -> Documents {
    let mut docs = ev.documents.clone();
    if ev.reference.is_none() && docs.none_because.is_none() {
        docs.none_because = Some("recorded from an EPCIS document that names none".to_string());
    }
    docs
}

impl Store {
    /// What an earlier import recorded for EPCIS event `event_id`, if it did.
    pub fn imported_event(&self, event_id: &str) -> Result<Option<ImportedEvent>, StoreError> {
        let r = self.db.begin_read()?;
        let t = match r.open_table(EPCIS_EVENTS) {
            Ok(t) => t,
            // A file no import has written to yet.
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        match t.get(event_id)? {
            Some(v) => Ok(Some(decode(v.value(), "epcis_events", &event_id)?)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use chrono::{TimeZone, Utc};
    use lotline_domain::api::Command;

    fn code(s: &str) -> LotCode {
        LotCode::parse(s, "lot").unwrap()
    }

    fn doc(skip: bool) -> EpcisImport {
        let item = ItemRef {
            gtin: None,
            new: NewItem {
                code: ItemCode::parse("FLOUR", "item").unwrap(),
                description: ProductDescription {
                    name: "Flour".into(),
                    ..Default::default()
                },
                unit: Unit::Kg,
                kind: ItemKind::Ingredient,
                gtin: None,
                shelf_life_days: None,
                ftl: false,
                receiving_temp: TempRange::default(),
            },
        };
        let party = |id: &str, role| PartyRef {
            gln: None,
            new: NewParty {
                id: PartyId::parse(id, "id").unwrap(),
                role,
                location: Location {
                    business_name: id.into(),
                    ..Default::default()
                },
                gln: None,
                recall_contact: Contact::default(),
            },
        };
        let ev = |id: &str, index, kind| ImportEvent {
            event_id: id.into(),
            index,
            date: today(),
            event_time: "2026-11-21T08:00:00+02:00".into(),
            location: Some("urn:epc:id:sgln:0614141.00777.0".into()),
            reference: None,
            documents: Default::default(),
            kind,
        };
        let line = |lot: &str, qty| ImportLine {
            lot: code(lot),
            qty: Qty::from_units(qty),
            unit: Unit::Kg,
            partner: None,
        };
        EpcisImport {
            source: "doc.jsonld".into(),
            skip_unmappable: skip,
            items: vec![item],
            parties: vec![party("MILL", Role::Supplier), party("SHOP", Role::Customer)],
            events: vec![
                ev(
                    "e1",
                    0,
                    ImportKind::Receive {
                        item: 0,
                        supplier: 0,
                        line: line("A-1", 100),
                        supplier_lot: SupplierLot::parse("m1", "s").unwrap(),
                        expiry: None,
                        quality: Quality::default(),
                        tlc_source_ref: None,
                        label: Vec::new(),
                    },
                ),
                // More than the lot holds: refused, and with it nothing of this event.
                ev(
                    "e2",
                    1,
                    ImportKind::Ship {
                        customer: 1,
                        lines: vec![line("A-1", 150)],
                    },
                ),
                ev(
                    "e3",
                    2,
                    ImportKind::Ship {
                        customer: 1,
                        lines: vec![line("A-1", 40)],
                    },
                ),
            ],
            unmapped: Vec::new(),
        }
    }

    #[test]
    fn one_bad_event_refuses_the_document_unless_skipping() {
        let (_d, s) = temp_store();
        let r = s
            .apply(Command::ImportEpcis(doc(false)), &stamp(), today())
            .unwrap()
            .imported()
            .unwrap();
        assert!(!r.stored);
        assert_eq!(r.unmapped.len(), 1);
        assert_eq!(r.unmapped[0].event_id, "e2");
        assert!(
            r.unmapped[0].reason.contains("more than lot A-1 has"),
            "{r:?}"
        );
        assert_eq!(s.stats().unwrap().lots, 0, "nothing stored");
        assert!(s.imported_event("e1").unwrap().is_none());

        let r = s
            .apply(Command::ImportEpcis(doc(true)), &stamp(), today())
            .unwrap()
            .imported()
            .unwrap();
        assert!(r.stored);
        assert_eq!((r.imported, r.lots_created, r.items_created), (2, 1, 1));
        assert_eq!(
            s.lot_by_code(&code("A-1")).unwrap().balance,
            Qty::from_units(60)
        );
        assert!(s.check().unwrap().problems.is_empty());
        // The source's own time and place are kept beside the importer's stamp.
        let rec = s.imported_event("e1").unwrap().unwrap();
        assert_eq!(rec.event_time, "2026-11-21T08:00:00+02:00");
        assert_eq!(rec.source, "doc.jsonld");
        assert_eq!(rec.events.len(), 1);
        assert_eq!(s.event(rec.events[0]).unwrap().stamp, stamp());
        assert!(s.imported_event("e2").unwrap().is_none());

        // Again: the recorded events are skipped, the refused one is tried (and refused).
        let r = s
            .apply(Command::ImportEpcis(doc(true)), &stamp(), today())
            .unwrap()
            .imported()
            .unwrap();
        assert_eq!((r.imported, r.already, r.unmapped.len()), (0, 2, 1));
        assert_eq!(s.stats().unwrap().events, 2);
    }

    /// A partner east of us is already on tomorrow: at 22:30 UTC a plant at +02:00
    /// records its events on the 22nd while an office in UTC is still on the 21st. The
    /// office imports them; a date no zone on Earth has reached yet is still refused.
    #[test]
    fn a_partner_ahead_of_us_in_time_is_not_in_the_future() {
        let late = Stamp {
            at: Utc.with_ymd_and_hms(2026, 11, 21, 22, 30, 0).unwrap(),
            ..stamp()
        };
        let dated = |days| {
            let mut d = doc(true);
            d.events.truncate(1);
            d.events[0].date = today() + chrono::Duration::days(days);
            d
        };
        let (_d, s) = temp_store();
        let r = s
            .apply(Command::ImportEpcis(dated(2)), &late, today())
            .unwrap()
            .imported()
            .unwrap();
        assert_eq!(r.imported, 0, "{r:?}");
        assert!(
            r.unmapped[0].reason.contains(
                "2026-11-23 is in the future; record events on or before today (2026-11-22)"
            ),
            "{r:?}"
        );
        let r = s
            .apply(Command::ImportEpcis(dated(1)), &late, today())
            .unwrap()
            .imported()
            .unwrap();
        assert_eq!((r.stored, r.imported), (true, 1), "{r:?}");
        // Early in the UTC day, the same date is no one's today yet.
        let early = Stamp {
            at: Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap(),
            ..stamp()
        };
        let mut again = dated(1);
        again.events[0].event_id = "e1-early".into();
        let r = s
            .apply(Command::ImportEpcis(again), &early, today())
            .unwrap()
            .imported()
            .unwrap();
        assert_eq!(r.imported, 0, "{r:?}");
        assert!(r.unmapped[0].reason.contains("is in the future"), "{r:?}");
    }

    /// An imported event's second document and the reason another came with none are
    /// kept beside the events, and the export's pages carry them.
    #[test]
    fn an_import_keeps_every_document_and_pages_carry_them() {
        let (_d, s) = temp_store();
        let r = |t: &str| Some(Reference::parse(t, "ref").unwrap());
        let mut d = doc(false);
        d.events.remove(1);
        d.events[0].reference = r("BOL:4471");
        d.events[0].documents.second = r("PO:88123");
        d.events[1].documents.none_because = Some("sent on account".into());
        let report = import(&s, d);
        assert!(report.stored, "{report:?}");
        let page = s
            .event_page(NaiveDate::MIN, NaiveDate::MAX, None, None, 10)
            .unwrap();
        let [receipt, shipment] = [0, 1].map(|i| page.events[i].id);
        assert_eq!(page.events[0].reference, r("BOL:4471"));
        assert_eq!(page.events[1].reference, None);
        assert_eq!(
            page.documents,
            [
                (
                    receipt,
                    Documents {
                        second: r("PO:88123"),
                        none_because: None,
                    }
                ),
                (
                    shipment,
                    Documents {
                        second: None,
                        none_because: Some("sent on account".into()),
                    }
                ),
            ]
        );
        // A page of chosen events carries only theirs.
        let one = s
            .event_page(NaiveDate::MIN, NaiveDate::MAX, None, Some(&[shipment]), 10)
            .unwrap();
        assert_eq!(one.documents.len(), 1);
        assert_eq!(one.documents[0].0, shipment);
        assert!(s.check().unwrap().problems.is_empty());
    }

    /// A receipt's label travels with it: recorded beside the receipt in the import's
    /// transaction, as a scan records it, and not again when the document comes back.
    #[test]
    fn an_imported_receipts_label_is_kept_beside_it_once() {
        let (_d, s) = temp_store();
        let label = vec![
            LabelElement {
                ai: "7007".into(),
                value: "250601250605".into(),
            },
            LabelElement {
                ai: "91".into(),
                value: "ROW-7".into(),
            },
        ];
        let mut d = doc(false);
        d.events.truncate(1);
        if let ImportKind::Receive { label: l, .. } = &mut d.events[0].kind {
            *l = label.clone();
        }
        let report = import(&s, d.clone());
        assert!(report.stored, "{report:?}");
        assert_eq!((report.imported, report.records), (1, 1));
        let page = s
            .event_page(NaiveDate::MIN, NaiveDate::MAX, None, None, 10)
            .unwrap();
        let receipt = s.imported_event("e1").unwrap().unwrap().events[0];
        let lot = s.lot_by_code(&code("A-1")).unwrap().id;
        assert_eq!(page.events.len(), 2, "{page:?}");
        assert_eq!(page.events[0].id, receipt);
        assert_eq!(
            page.events[1].kind,
            EventKind::LabelData {
                receipt,
                lot,
                elements: label,
            }
        );
        assert!(s.check().unwrap().problems.is_empty());

        let again = import(&s, d);
        assert_eq!((again.imported, again.already), (0, 1));
        assert_eq!(s.stats().unwrap().events, 2);
    }

    #[test]
    fn a_lot_code_already_here_is_reported_not_overwritten() {
        let (_d, s, [flour, ..]) = bakery();
        let mut d = doc(true);
        if let ImportKind::Receive { line, .. } = &mut d.events[0].kind {
            line.lot = flour.clone();
        }
        d.events.truncate(1);
        let before = s.lot_by_code(&flour).unwrap();
        let r = s
            .apply(Command::ImportEpcis(d), &stamp(), today())
            .unwrap()
            .imported()
            .unwrap();
        assert_eq!(r.imported, 0);
        assert!(
            r.unmapped[0].reason.contains("already exists here"),
            "{r:?}"
        );
        assert!(r.unmapped[0].reason.contains("--lot-prefix"), "{r:?}");
        assert_eq!(s.lot_by_code(&flour).unwrap(), before);
        assert!(s.check().unwrap().problems.is_empty());
    }

    #[test]
    fn a_repeat_delivery_of_a_supplier_lot_is_a_new_receipt_of_it() {
        let (_d, s) = temp_store();
        let mut first = doc(false);
        first.events.truncate(1);
        let mut again = first.clone();
        again.events[0].event_id = "e1-second-delivery".into();
        for d in [first, again.clone()] {
            let r = s
                .apply(Command::ImportEpcis(d), &stamp(), today())
                .unwrap()
                .imported()
                .unwrap();
            assert!(r.stored && r.imported == 1, "{r:?}");
        }
        let mut lots = s.find_lots(&LotFilter::default()).unwrap();
        lots.sort_by_key(|l| l.id);
        assert_eq!(lots.len(), 2, "{lots:?}");
        assert_eq!(lots[0].code, code("A-1"));
        assert_ne!(lots[1].code, code("A-1"));
        for l in &lots {
            let Origin::Received { supplier_lot, .. } = &l.origin else {
                panic!("{l:?}")
            };
            assert_eq!(supplier_lot.as_str(), "m1");
        }
        // Another supplier lot under a code already here is still refused.
        if let ImportKind::Receive { supplier_lot, .. } = &mut again.events[0].kind {
            *supplier_lot = SupplierLot::parse("m2", "s").unwrap();
        }
        again.events[0].event_id = "e1-other-lot".into();
        let r = s
            .apply(Command::ImportEpcis(again), &stamp(), today())
            .unwrap()
            .imported()
            .unwrap();
        assert!(
            !r.stored && r.unmapped[0].reason.contains("already exists here"),
            "{r:?}"
        );
        assert!(s.check().unwrap().problems.is_empty());
    }

    #[test]
    fn a_return_is_recorded_against_the_shipment_it_came_back_from() {
        let (_d, s, [_, _, _, cookies]) = bakery();
        let mut d = doc(true);
        let back = |id: &str, qty: i64, return_lot: Option<&str>| ImportEvent {
            event_id: id.into(),
            index: 0,
            date: today(),
            event_time: "2026-11-21T08:00:00Z".into(),
            location: None,
            reference: None,
            documents: Default::default(),
            kind: ImportKind::Return {
                customer: 1,
                line: ImportLine {
                    lot: cookies.clone(),
                    qty: Qty::from_units(qty),
                    unit: Unit::Case,
                    partner: None,
                },
                return_lot: return_lot.map(code),
                shipment: Some("not-in-this-database".into()),
                reason: "wet".into(),
            },
        };
        // SHOP had 15 cases (shipment 5): 20 cannot come back from any shipment to it.
        d.events = vec![back("r1", 20, None), back("r2", 3, Some("BACK-1"))];
        let r = s
            .apply(Command::ImportEpcis(d), &stamp(), today())
            .unwrap()
            .imported()
            .unwrap();
        assert_eq!((r.imported, r.lots_created), (1, 1), "{r:?}");
        assert!(
            r.unmapped[0].reason.contains("no shipment of lot")
                && r.unmapped[0].reason.contains("to SHOP"),
            "{r:?}"
        );
        let lot = s.lot_by_code(&code("BACK-1")).unwrap();
        assert_eq!(lot.status, LotStatus::Hold);
        let Origin::Returned { shipment, from, .. } = lot.origin else {
            panic!("{lot:?}")
        };
        assert_eq!(shipment, 5);
        assert_eq!(from, s.lot_by_code(&cookies).unwrap().id);
        assert!(s.check().unwrap().problems.is_empty());
    }

    /// A partner's batch of cookies from flour this plant has never seen, then their
    /// shipment; `doc()`'s flour is item 0, its mill party 0 and its shop party 1.
    fn partner_batch(id: &str, flour_kg: i64) -> EpcisImport {
        let mut d = doc(false);
        let mut cookies = d.items[0].clone();
        cookies.new.code = ItemCode::parse("COOKIE", "item").unwrap();
        cookies.new.unit = Unit::Ea;
        cookies.new.kind = ItemKind::Finished;
        d.items.push(cookies);
        let flour = ImportLine {
            lot: code("F-1"),
            qty: Qty::from_units(flour_kg),
            unit: Unit::Kg,
            partner: Some(PartnerRef {
                item: 0,
                identifier: "https://id.gs1.org/01/00614141000036/10/F-1".into(),
            }),
        };
        let mut batch = d.events[0].clone();
        batch.event_id = id.into();
        batch.kind = ImportKind::Produce {
            item: 1,
            output: ImportLine {
                lot: code(&format!("C-{id}")),
                qty: Qty::from_units(10),
                unit: Unit::Ea,
                partner: None,
            },
            expiry: None,
            line: None,
            inputs: vec![flour],
        };
        d.events = vec![batch];
        d
    }

    fn import(s: &Store, d: EpcisImport) -> ImportReport {
        s.apply(Command::ImportEpcis(d), &stamp(), today())
            .unwrap()
            .imported()
            .unwrap()
    }

    #[test]
    fn a_lot_known_only_from_a_partner_keeps_the_batch_and_is_filled_in_later() {
        let (_d, s) = temp_store();
        let r = import(&s, partner_batch("b1", 30));
        assert!(r.stored && r.unmapped.is_empty(), "{r:?}");
        assert_eq!((r.imported, r.lots_created, r.partner_lots), (1, 1, 1));
        let flour = s.lot_by_code(&code("F-1")).unwrap();
        let Origin::Partner { identifier, source } = &flour.origin else {
            panic!("{flour:?}")
        };
        assert_eq!(identifier, "https://id.gs1.org/01/00614141000036/10/F-1");
        assert_eq!(source, "doc.jsonld");
        assert_eq!(
            flour.origin.partner_note().unwrap(),
            "known only from doc.jsonld"
        );
        assert_eq!(
            (flour.quantity, flour.balance),
            (Qty::from_units(30), Qty::ZERO)
        );
        assert_eq!(flour.item.as_str(), "FLOUR");
        // The batch's link stands: a backward trace of the cookies reaches the flour.
        let t = s.trace(&code("C-b1"), Direction::Backward).unwrap();
        assert!(
            t.links
                .iter()
                .any(|l| l.input == flour.id && l.qty == Qty::from_units(30))
        );
        assert!(s.check().unwrap().problems.is_empty());
        let m = s.mass_balance(&code("F-1")).unwrap();
        assert_eq!(
            (m.start, m.consumed, m.gap()),
            (Qty::from_units(30), Qty::from_units(30), Qty::ZERO)
        );

        // A second batch of the same flour names 20 kg more of it; no second lot.
        let r = import(&s, partner_batch("b2", 20));
        assert_eq!((r.imported, r.partner_lots), (1, 0), "{r:?}");
        let again = s.lot_by_code(&code("F-1")).unwrap();
        assert_eq!(
            (again.id, again.quantity, again.balance),
            (flour.id, Qty::from_units(50), Qty::ZERO)
        );
        // What a partner's document said cannot be voided.
        let named = s.lot_history(&code("F-1")).unwrap();
        let first = again.event;
        let e = s
            .apply(
                Command::Void(VoidEvent {
                    event: first,
                    date: today(),
                    reason: "no".into(),
                }),
                &stamp(),
                today(),
            )
            .unwrap_err();
        assert!(e.to_string().contains("stands as imported"), "{e}");

        // The mill's receipt of that lot fills it in: the same lot, now received.
        let mut receipt = doc(false);
        receipt.events.truncate(1);
        receipt.events[0].event_id = "mill-receipt".into();
        if let ImportKind::Receive { line, .. } = &mut receipt.events[0].kind {
            line.lot = code("F-1");
        }
        // Less than the documents show used is refused, and nothing changes.
        let mut short = receipt.clone();
        if let ImportKind::Receive { line, .. } = &mut short.events[0].kind {
            line.qty = Qty::from_units(40);
        }
        let r = import(&s, short);
        assert!(
            !r.stored && r.unmapped[0].reason.contains("already show used"),
            "{r:?}"
        );
        let r = import(&s, receipt.clone());
        assert!(r.stored, "{r:?}");
        assert_eq!((r.imported, r.lots_created, r.filled_in), (1, 0, 1));
        let filled = s.lot_by_code(&code("F-1")).unwrap();
        assert_eq!(filled.id, flour.id);
        assert!(
            matches!(&filled.origin, Origin::Received { supplier_lot, .. } if supplier_lot.as_str() == "m1")
        );
        assert_eq!(
            (filled.quantity, filled.balance),
            (Qty::from_units(100), Qty::from_units(50))
        );
        let e = s
            .apply(
                Command::Void(VoidEvent {
                    event: filled.event,
                    date: today(),
                    reason: "no".into(),
                }),
                &stamp(),
                today(),
            )
            .unwrap_err();
        assert!(e.to_string().contains("both stand as imported"), "{e}");
        let m = s.mass_balance(&code("F-1")).unwrap();
        assert_eq!(
            (m.start, m.consumed, m.on_hand),
            (
                Qty::from_units(100),
                Qty::from_units(50),
                Qty::from_units(50)
            )
        );
        // Its history keeps what the partner said, then the receipt and the fill-in.
        let h = s.lot_history(&code("F-1")).unwrap();
        assert_eq!(h.events.len(), named.events.len() + 2, "{h:?}");
        assert!(h.events.iter().any(|e| matches!(
            e.event.kind,
            EventKind::PartnerLotFilled { named, .. } if named == Qty::from_units(50)
        )));
        assert!(
            s.check().unwrap().problems.is_empty(),
            "{:?}",
            s.check().unwrap()
        );
        let by_supplier_lot = LotFilter {
            supplier_lot: Some("m1".into()),
            ..Default::default()
        };
        assert_eq!(s.find_lots(&by_supplier_lot).unwrap().len(), 1);

        // Every document again: nothing added.
        let events = s.stats().unwrap().events;
        for d in [partner_batch("b1", 30), partner_batch("b2", 20), receipt] {
            let r = import(&s, d);
            assert_eq!((r.imported, r.already), (0, 1), "{r:?}");
        }
        assert_eq!(s.stats().unwrap().events, events);
    }

    #[test]
    fn pages_leave_out_voided_events_and_carry_their_lots() {
        let (_d, s, [flour, ..]) = bakery();
        let all = s
            .event_page(NaiveDate::MIN, NaiveDate::MAX, None, None, 3)
            .unwrap();
        assert_eq!(all.events.len(), 3);
        let next = all.next.unwrap();
        let rest = s
            .event_page(NaiveDate::MIN, NaiveDate::MAX, Some(next), None, 100)
            .unwrap();
        assert!(rest.next.is_none());
        assert_eq!(all.events.len() + rest.events.len(), 6);
        assert!(all.lots.iter().any(|l| l.code == flour));
        let ship = rest.events.last().unwrap().id;
        s.apply(
            Command::Void(VoidEvent {
                event: ship,
                date: today(),
                reason: "wrong customer".into(),
            }),
            &stamp(),
            today(),
        )
        .unwrap();
        let page = s
            .event_page(NaiveDate::MIN, NaiveDate::MAX, None, Some(&[ship, 1]), 10)
            .unwrap();
        assert_eq!(page.events.iter().map(|e| e.id).collect::<Vec<_>>(), [1]);
    }
}
