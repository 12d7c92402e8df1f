//! The write commands. Each is one redb transaction: it checks everything first and
//! commits all of its changes or none of them. A bulk load ([`Store::bulk`]) runs the same
//! command code, many commands to a transaction, with the same all-or-nothing rule.
//!
//! A [`Command`] becomes its writes in one place, [`Tx::apply`], whichever way it came
//! ([`Store::apply`], [`Bulk::apply`]). Here are the transaction ([`Tx`]: its tables, caches
//! and the reads and writes every command shares); each family of commands is a module of
//! its own: `master` (plant settings, items, parties), `movement` (receive, produce, ship,
//! adjust), `status` (status, hold-all, void), `returns` and `mock` (mock recalls). An EPCIS
//! import, many of these at once, is the exchange module's.

use super::codec::{decode, encode};
use super::tables::*;
use super::{Store, StoreError};
use chrono::{Days, NaiveDate};
use lotline_domain::*;
use redb::{MultimapTable, ReadableMultimapTable, ReadableTable, Table, WriteTransaction};
use std::cell::RefCell;
use std::collections::HashMap;

pub use lotline_domain::api::Created;
use lotline_domain::api::{Command, Reply};
pub(super) use partner::PendingPartner;

mod drafts;
mod master;
mod mock;
mod movement;
mod partner;
mod recipe;
#[cfg(test)]
mod recipe_tests;
mod returns;
mod status;
#[cfg(test)]
mod tests;

/// Every table a write may touch, opened once for the transaction.
pub(super) struct Tx<'t> {
    /// The store, for what a command checks against the last committed state (a mock
    /// recall's record as it stands).
    store: &'t Store,
    /// The transaction, for tables only some commands touch (opening a table in a write
    /// transaction creates it).
    w: &'t WriteTransaction,
    pub meta: Table<'t, &'static str, &'static [u8]>,
    pub items: Table<'t, &'static str, &'static [u8]>,
    pub parties: Table<'t, &'static str, &'static [u8]>,
    pub lots: Table<'t, u32, &'static [u8]>,
    pub lot_codes: Table<'t, &'static str, u32>,
    pub events: Table<'t, u64, &'static [u8]>,
    pub voids: Table<'t, u64, u64>,
    pub by_date: Table<'t, (i32, u64), ()>,
    pub fwd: MultimapTable<'t, u32, (u32, i64)>,
    pub rev: Table<'t, u32, &'static [u8]>,
    pub lot_events: Table<'t, (u32, u64), ()>,
    pub lot_ships: MultimapTable<'t, u32, ShipLine>,
    pub supplier_lots: Table<'t, (&'static str, u32), ()>,
    pub item_lots: Table<'t, (&'static str, u32), ()>,
    pub party_events: Table<'t, (&'static str, u64), ()>,
    pub item_events: Table<'t, (&'static str, u64), ()>,
    /// Lots this transaction has read or written, decoded, and their codes. A bulk load
    /// uses the same lots over and over (a silo lot feeds hundreds of batches); reading
    /// each back from redb and decoding it was a seventh of a load (BENCHMARKS.md). Every
    /// write to `lots` goes through `put_lot`, which keeps this in step, and it lives no
    /// longer than the transaction.
    lot_cache: RefCell<HashMap<u32, Lot>>,
    code_cache: RefCell<HashMap<LotCode, u32>>,
    /// In a bulk load, lots written only to `lot_cache` so far, to be stored once each by
    /// `store_deferred_lots` before the commit: a silo lot feeding 1,900 batches was
    /// encoded and written back 1,900 times, once per batch (a fifth of a load's
    /// instructions, BENCHMARKS.md). `None` outside bulk loads, where every command is
    /// its own transaction and writes through.
    deferred: Option<std::collections::BTreeSet<u32>>,
    /// The plant settings as this transaction last read or wrote them: every receipt and
    /// batch needs its lot pattern, and decoding it (patterns parsed) was 6 % of a bulk
    /// load. `write_plant` is the only writer of the record and keeps it in step.
    plant_cache: RefCell<Option<Plant>>,
    /// EPCIS event ids already imported (see `EPCIS_EVENTS`).
    pub epcis: Table<'t, &'static str, &'static [u8]>,
    /// Mock recall records' events (see `MOCK_RECALLS`).
    pub mock_recalls: Table<'t, (u64, u64), ()>,
    /// Recipes and allergens (see `RECIPES` and the tables after it).
    pub recipes: Table<'t, (&'static str, u32), &'static [u8]>,
    pub item_allergens: Table<'t, &'static str, u64>,
    pub lot_allergens: Table<'t, u32, u64>,
    pub allergen_lots: Table<'t, (u8, u32), ()>,
    pub batch_recipes: Table<'t, u64, u64>,
    pub line_log: Table<'t, (&'static str, u64), (u8, u64)>,
    /// The code the next new lot takes instead of one from the plant's pattern: an import
    /// keeps the codes the source plant printed. Taken (and so cleared) by the next
    /// `next_lot_code`.
    pub forced_code: Option<LotCode>,
    /// Lots the next batch or shipment (from an import) may name without the plant having
    /// seen them: recorded as lots known only by a partner's identifier (`partner.rs`).
    /// Taken (and so cleared) by that command.
    pub partners: Vec<partner::PendingPartner>,
    /// The lot known only from a partner's document that the next receipt (from an
    /// import) fills in instead of making a new lot. Taken by that receipt.
    pub filling: Option<Lot>,
}

impl<'t> Tx<'t> {
    pub(super) fn open(store: &'t Store, w: &'t WriteTransaction) -> Result<Tx<'t>, StoreError> {
        Ok(Tx {
            store,
            w,
            meta: w.open_table(META)?,
            items: w.open_table(ITEMS)?,
            parties: w.open_table(PARTIES)?,
            lots: w.open_table(LOTS)?,
            lot_codes: w.open_table(LOT_CODES)?,
            events: w.open_table(EVENTS)?,
            voids: w.open_table(EVENT_VOIDS)?,
            by_date: w.open_table(EVENTS_BY_DATE)?,
            fwd: w.open_multimap_table(LINKS_FWD)?,
            rev: w.open_table(LINKS_REV)?,
            lot_events: w.open_table(LOT_EVENTS)?,
            lot_ships: w.open_multimap_table(LOT_SHIPMENTS)?,
            supplier_lots: w.open_table(SUPPLIER_LOTS)?,
            item_lots: w.open_table(ITEM_LOTS)?,
            party_events: w.open_table(PARTY_EVENTS)?,
            item_events: w.open_table(ITEM_EVENTS)?,
            lot_cache: RefCell::default(),
            code_cache: RefCell::default(),
            deferred: None,
            plant_cache: RefCell::default(),
            epcis: w.open_table(EPCIS_EVENTS)?,
            mock_recalls: w.open_table(MOCK_RECALLS)?,
            recipes: w.open_table(RECIPES)?,
            item_allergens: w.open_table(ITEM_ALLERGENS)?,
            lot_allergens: w.open_table(LOT_ALLERGENS)?,
            allergen_lots: w.open_table(ALLERGEN_LOTS)?,
            batch_recipes: w.open_table(BATCH_RECIPES)?,
            line_log: w.open_table(LINE_LOG)?,
            forced_code: None,
            partners: Vec::new(),
            filling: None,
        })
    }

    /// From now on, keep changed lots in memory and store each once, by
    /// `store_deferred_lots` before the commit: for transactions of many commands.
    /// Returns whether this began it (a bulk load may have already).
    pub(super) fn defer_lot_writes(&mut self) -> bool {
        let began = self.deferred.is_none();
        self.deferred.get_or_insert_with(Default::default);
        began
    }

    /// Store each lot whose writes were deferred, once, in id order (key order, so the
    /// B-tree is walked forward).
    pub(super) fn store_deferred_lots(&mut self) -> Result<(), StoreError> {
        let Some(ids) = self.deferred.take() else {
            return Ok(());
        };
        let cache = self.lot_cache.get_mut();
        for id in ids {
            if let Some(lot) = cache.get(&id) {
                self.lots.insert(id, encode(lot).as_slice())?;
            }
        }
        Ok(())
    }

    pub(super) fn item(&self, code: &ItemCode, field: &str) -> Result<Item, StoreError> {
        match self.items.get(code.as_str())? {
            Some(v) => decode(v.value(), "items", code),
            None => Err(StoreError::invalid(
                field,
                format!("no item {code}; add it with `lotline item add` or check the code"),
            )),
        }
    }

    fn party(&self, id: &PartyId, field: &str) -> Result<Party, StoreError> {
        match self.parties.get(id.as_str())? {
            Some(v) => decode(v.value(), "parties", id),
            None => Err(StoreError::invalid(
                field,
                format!("no party {id}; add it with `lotline party add` or check the id"),
            )),
        }
    }

    pub(super) fn lot_by_code(&self, code: &LotCode, field: &str) -> Result<Lot, StoreError> {
        let cached = self.code_cache.borrow().get(code).copied();
        let id = match cached {
            Some(id) => id,
            None => {
                let id = self
                    .lot_codes
                    .get(code.as_str())?
                    .map(|v| v.value())
                    .ok_or_else(|| {
                        StoreError::invalid(
                            field,
                            format!("no lot {code}; check the code on the label"),
                        )
                    })?;
                self.code_cache.borrow_mut().insert(code.clone(), id);
                id
            }
        };
        self.lot(LotId(id))
    }

    pub(super) fn lot(&self, id: LotId) -> Result<Lot, StoreError> {
        if let Some(lot) = self.lot_cache.borrow().get(&id.0) {
            return Ok(lot.clone());
        }
        let lot: Lot = match self.lots.get(id.0)? {
            Some(v) => decode(v.value(), "lots", &id.0)?,
            None => {
                return Err(StoreError::Damaged {
                    detail: format!("lot id {} is referenced but missing", id.0),
                });
            }
        };
        self.lot_cache.borrow_mut().insert(id.0, lot.clone());
        Ok(lot)
    }

    fn put_lot(&mut self, lot: &Lot) -> Result<(), StoreError> {
        match &mut self.deferred {
            Some(ids) => {
                ids.insert(lot.id.0);
            }
            None => {
                self.lots.insert(lot.id.0, encode(lot).as_slice())?;
            }
        }
        self.lot_cache.get_mut().insert(lot.id.0, lot.clone());
        Ok(())
    }

    fn next_event_id(&self) -> Result<u64, StoreError> {
        match self.events.last()? {
            None => Ok(1),
            Some((k, _)) => k.value().checked_add(1).ok_or_else(|| StoreError::Damaged {
                detail: "event ids are exhausted".into(),
            }),
        }
    }

    /// Ids are u32 for compact link tables: four billion lots, decades of any plant.
    /// Running out is refused, never wrapped onto lot 0.
    fn next_lot_id(&self) -> Result<LotId, StoreError> {
        let stored = self.lots.last()?.map(|(k, _)| k.value());
        // A new lot of this bulk load may not be in the table yet.
        let pending = self.deferred.as_ref().and_then(|ids| ids.last().copied());
        match stored.max(pending) {
            None => Ok(LotId(1)),
            Some(k) => k.checked_add(1).map(LotId).ok_or_else(|| {
                StoreError::invalid(
                    "lot",
                    "this database holds the most lots it can (4,294,967,295); start a new one",
                )
            }),
        }
    }

    fn plant(&self) -> Result<Plant, StoreError> {
        if let Some(p) = self.plant_cache.borrow().as_ref() {
            return Ok(p.clone());
        }
        let plant: Plant = match self.meta.get("plant")? {
            Some(v) => decode(v.value(), "meta", &"plant")?,
            None => Plant::default(),
        };
        *self.plant_cache.borrow_mut() = Some(plant.clone());
        Ok(plant)
    }

    /// The next free code from `pattern` for `date`. Counters live in `meta` per rendered
    /// prefix; a code taken by hand-entered data is skipped, never reused.
    fn next_lot_code(
        &mut self,
        pattern: &LotPattern,
        date: NaiveDate,
    ) -> Result<LotCode, StoreError> {
        if let Some(code) = self.forced_code.take() {
            if let Some(v) = self.lot_codes.get(code.as_str())? {
                let made = self.lot(LotId(v.value()))?.event;
                return Err(StoreError::invalid(
                    "lot",
                    format!(
                        "lot {code} already exists here (made by event {made}); import the document with a --lot-prefix for its plant"
                    ),
                ));
            }
            return Ok(code);
        }
        let key = format!("seq:{}", pattern.prefix(date));
        let mut n = match self.meta.get(key.as_str())? {
            Some(v) => v.value().try_into().map(u32::from_le_bytes).unwrap_or(0),
            None => 0,
        };
        loop {
            n = n.checked_add(1).ok_or_else(|| {
                StoreError::invalid("lot code", "the day's sequence is exhausted")
            })?;
            let code = LotCode::parse(&pattern.render(date, n), "lot code")?;
            if self.lot_codes.get(code.as_str())?.is_none() {
                self.meta.insert(key.as_str(), n.to_le_bytes().as_slice())?;
                return Ok(code);
            }
        }
    }

    /// Store an event and index it by lot, party and date.
    fn put_event(&mut self, e: &Event) -> Result<(), StoreError> {
        self.events.insert(e.id, encode(e).as_slice())?;
        for lot in e.kind.lots() {
            self.lot_events.insert((lot.0, e.id), ())?;
        }
        for (lot, line) in shipment_lines(e) {
            self.lot_ships.insert(lot, line)?;
        }
        for p in e.kind.parties() {
            self.party_events.insert((p.as_str(), e.id), ())?;
        }
        match &e.kind {
            EventKind::ItemChanged { after, .. } => {
                self.item_events.insert((after.code.as_str(), e.id), ())?;
            }
            EventKind::RecipeChanged(r) => {
                self.item_events
                    .insert((r.recipe.item.as_str(), e.id), ())?;
            }
            EventKind::AllergensDeclared { item, .. } => {
                self.item_events.insert((item.as_str(), e.id), ())?;
            }
            _ => {}
        }
        match &e.kind {
            EventKind::MockRecallStarted(_) => {
                self.mock_recalls.insert((e.id, e.id), ())?;
            }
            EventKind::MockRecallCount(MockCount { recall, .. }) => {
                self.mock_recalls.insert((*recall, e.id), ())?;
            }
            EventKind::MockRecallFinished(f) => {
                self.mock_recalls.insert((f.recall, e.id), ())?;
            }
            _ => {}
        }
        self.by_date.insert((day_number(e.date), e.id), ())?;
        Ok(())
    }

    /// Keep `event`'s second reference document, or why it has none, beside it (nothing
    /// when there is neither).
    fn put_documents(&mut self, event: u64, docs: &Documents) -> Result<(), StoreError> {
        if !docs.is_empty() {
            self.w
                .open_table(EVENT_DOCUMENTS)?
                .insert(event, encode(docs).as_slice())?;
        }
        Ok(())
    }

    /// Refuse an event of a food on the Food Traceability List (`ftl`, named by `what`)
    /// that names no reference document and gives no reason for it: FDA asks for the
    /// document's type and number of every receipt, transformation and shipment of one
    /// (21 CFR 1.1345, 1.1350, 1.1340), and a blank found at a records request cannot be
    /// filled in then.
    fn require_document(
        &self,
        reference: &Option<Reference>,
        docs: &Documents,
        ftl: Option<&ItemCode>,
        what: &str,
    ) -> Result<(), StoreError> {
        docs.check_with(reference.as_ref())?;
        match ftl {
            Some(item) if reference.is_none() && docs.none_because.is_none() => {
                Err(StoreError::invalid(
                    "ref",
                    format!(
                        "{item} is on the Food Traceability List, so FDA asks for the {what}'s reference document; give its type and number (such as BOL:4471 or PO:88123), or the reason there is none"
                    ),
                ))
            }
            _ => Ok(()),
        }
    }

    /// Record a new event under the next id and return the id.
    fn append(
        &mut self,
        stamp: &Stamp,
        date: NaiveDate,
        reference: Option<Reference>,
        kind: EventKind,
    ) -> Result<u64, StoreError> {
        stamp.validate()?;
        let id = self.next_event_id()?;
        self.put_event(&Event {
            id,
            stamp: stamp.clone(),
            date,
            reference,
            kind,
        })?;
        Ok(id)
    }

    fn new_lot(&mut self, lot: &Lot) -> Result<(), StoreError> {
        self.put_lot(lot)?;
        self.lot_codes.insert(lot.code.as_str(), lot.id.0)?;
        self.item_lots.insert((lot.item.as_str(), lot.id.0), ())?;
        self.index_supplier_lot(lot)
    }

    /// A received lot is found by its supplier's lot code.
    fn index_supplier_lot(&mut self, lot: &Lot) -> Result<(), StoreError> {
        if let Origin::Received {
            supplier,
            supplier_lot,
        } = &lot.origin
        {
            let key = supplier_lot_key(supplier_lot.as_str(), supplier.as_str());
            self.supplier_lots.insert((key.as_str(), lot.id.0), ())?;
        }
        Ok(())
    }

    /// Look up and check each line: the lot exists, may be used, has the quantity.
    /// A lot past its expiry on `date` is refused unless `allow_expired`.
    fn take(
        &self,
        lines: &[LotLine],
        field: &str,
        date: NaiveDate,
        allow_expired: bool,
    ) -> Result<Vec<(Lot, Qty)>, StoreError> {
        if lines.is_empty() {
            return Err(StoreError::invalid(field, "at least one lot is needed"));
        }
        let mut out: Vec<(Lot, Qty)> = Vec::with_capacity(lines.len());
        let mut fresh = 0;
        for (i, l) in lines.iter().enumerate() {
            let f = if lines.len() == 1 {
                field.to_string()
            } else {
                format!("{field} {}", i + 1)
            };
            let lot = match self.partner_view(&l.lot, l.qty, date, &mut fresh)? {
                Some(lot) => lot,
                None => self.lot_by_code(&l.lot, &f)?,
            };
            lot.check_use(l.qty, &f)?;
            lot.check_date(date, "date")?;
            if !allow_expired
                && lot.is_expired(date)
                && let Some(exp) = lot.expiry
            {
                return Err(StoreError::invalid(
                    &f,
                    format!(
                        "lot {} expired on {exp}; it is used only with QA's approved override, which is recorded",
                        lot.code
                    ),
                ));
            }
            out.push((lot, l.qty));
        }
        let uses: Vec<Use> = out
            .iter()
            .map(|(l, q)| Use { lot: l.id, qty: *q })
            .collect();
        check_distinct_lines(&uses, field, |id| {
            out.iter()
                .find(|(l, _)| l.id == id)
                .map(|(l, _)| l.code.to_string())
                .unwrap_or_default()
        })?;
        Ok(out)
    }

    fn is_voided(&self, event: u64) -> Result<bool, StoreError> {
        Ok(self.voids.get(event)?.is_some())
    }

    pub(super) fn event(&self, id: u64, field: &str) -> Result<Event, StoreError> {
        match self.events.get(id)? {
            Some(v) => decode(v.value(), "events", &id),
            None => Err(StoreError::invalid(
                field,
                format!("no event {id}; see a lot's history with `lotline lot CODE`"),
            )),
        }
    }

    /// The ids of every event in `lot`'s history, oldest first.
    fn lot_event_ids(&self, lot: LotId) -> Result<Vec<u64>, StoreError> {
        Ok(self
            .lot_events
            .range((lot.0, 0)..=(lot.0, u64::MAX))?
            .map(|e| e.map(|(k, _)| k.value().1))
            .collect::<Result<_, _>>()?)
    }

    /// The first standing (not voided) status change of `lot` recorded after event `after`.
    fn later_status_change(&self, lot: LotId, after: u64) -> Result<Option<u64>, StoreError> {
        for id in self.lot_event_ids(lot)? {
            if id <= after || self.is_voided(id)? {
                continue;
            }
            if matches!(self.event(id, "event")?.kind, EventKind::Status { .. }) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// Has anything used `lot`: a standing event other than `except` that moved stock?
    /// Status changes, mock-recall records and the voids of events already taken back do
    /// not count: they used nothing.
    fn lot_was_used(&self, lot: LotId, except: u64) -> Result<bool, StoreError> {
        for id in self.lot_event_ids(lot)? {
            if id == except || self.is_voided(id)? {
                continue;
            }
            let ev = self.event(id, "event")?;
            if !matches!(
                ev.kind,
                EventKind::Status { .. }
                    | EventKind::Void { .. }
                    | EventKind::MockRecall(_)
                    | EventKind::ExpiryOverride { .. }
                    | EventKind::LabelData { .. }
                    | EventKind::MockRecallStarted(_)
                    | EventKind::MockRecallCount(_)
                    | EventKind::MockRecallFinished(_)
                    | EventKind::BatchRecipe(_)
                    | EventKind::AllergenHold(_)
            ) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

fn check_item_active(item: &Item, field: &str) -> Result<(), StoreError> {
    match &item.retired {
        None => Ok(()),
        Some(r) => Err(StoreError::invalid(
            field,
            format!(
                "item {} was retired on {} ({}); it cannot be received or made",
                item.code,
                r.stamp.at.date_naive(),
                r.reason
            ),
        )),
    }
}

fn check_party_active(party: &Party, field: &str) -> Result<(), StoreError> {
    match &party.retired {
        None => Ok(()),
        Some(r) => Err(StoreError::invalid(
            field,
            format!(
                "party {} was retired on {} ({}); it cannot be named on new receipts or shipments",
                party.id,
                r.stamp.at.date_naive(),
                r.reason
            ),
        )),
    }
}

fn convert_qty(qty: Qty, given: Option<Unit>, item: &Item, field: &str) -> Result<Qty, StoreError> {
    match given {
        None => Ok(qty),
        Some(u) => u.convert(qty, item.unit).map_err(|why| {
            let ok: Vec<&str> = item.unit.compatible().iter().map(|u| u.as_str()).collect();
            StoreError::invalid(
                field,
                format!(
                    "{why}: item {} is kept in {}; accepted units: {}",
                    item.code,
                    item.unit,
                    ok.join(", ")
                ),
            )
        }),
    }
}

/// What a command did, as the store reports it (the station's reply is made from it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Settings or master data added: nothing new to name.
    Done,
    /// A receipt, batch or return: the new lot.
    Created(Created),
    /// The event the command recorded.
    Event(u64),
    /// A hold of many lots: the status events made (lots already held are skipped).
    Events(Vec<u64>),
    /// An EPCIS import: what was stored, skipped or refused, and whether it was kept.
    Imported(ImportReport),
}

impl Applied {
    /// Whether the command's changes are to be kept: all but an import its report refused.
    pub fn stored(&self) -> bool {
        match self {
            Applied::Imported(r) => r.stored,
            _ => true,
        }
    }

    /// The new lot, for a receipt, batch or return.
    pub fn created(self) -> Option<Created> {
        match self {
            Applied::Created(c) => Some(c),
            _ => None,
        }
    }

    /// An import's report.
    pub fn imported(self) -> Option<ImportReport> {
        match self {
            Applied::Imported(r) => Some(r),
            _ => None,
        }
    }

    /// The event recorded: the command's own, or the one that made its new lot.
    pub fn event(&self) -> Option<u64> {
        match self {
            Applied::Created(c) => Some(c.event),
            Applied::Event(e) => Some(*e),
            _ => None,
        }
    }
}

impl From<Applied> for Reply {
    fn from(a: Applied) -> Reply {
        match a {
            Applied::Done => Reply::Done,
            Applied::Created(c) => Reply::Created(c),
            Applied::Event(e) => Reply::Event(e),
            Applied::Events(e) => Reply::EventIds(e),
            Applied::Imported(r) => Reply::Imported(r),
        }
    }
}

impl Store {
    /// Run `f` in one write transaction; commit only if it succeeds with something to keep.
    pub(super) fn write_if<T>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, StoreError>,
        keep: impl FnOnce(&T) -> bool,
    ) -> Result<T, StoreError> {
        let w = self.begin_write()?;
        let out = {
            let mut tx = Tx::open(self, &w)?;
            f(&mut tx)
        };
        match out {
            Ok(v) if keep(&v) => {
                w.commit()?;
                Ok(v)
            }
            // Dropping would abort too; say it so a reader sees nothing partial is kept.
            Ok(v) => {
                let _ = w.abort();
                Ok(v)
            }
            Err(e) => {
                let _ = w.abort();
                Err(e)
            }
        }
    }

    /// Run `f` in one write transaction; commit only if it succeeds.
    pub(super) fn write<T>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.write_if(f, |_| true)
    }

    /// Apply one command in its own transaction: all of it is stored, or none of it.
    /// `stamp` says who and where; `today` is the plant's business day, which no event
    /// may be dated after.
    pub fn apply(
        &self,
        c: Command,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<Applied, StoreError> {
        self.write_if(|tx| tx.apply(c, stamp, today), Applied::stored)
    }

    /// Apply the commands `f` gives to a [`Bulk`] in one transaction: all or nothing.
    pub fn bulk<T>(
        &self,
        f: impl FnOnce(&mut Bulk<'_, '_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.write(|tx| {
            tx.defer_lot_writes();
            let mut b = Bulk {
                tx,
                done: 0,
                failed: None,
            };
            let out = f(&mut b)?;
            match b.failed {
                Some(why) => Err(StoreError::invalid("bulk", why)),
                None => {
                    b.tx.store_deferred_lots()?;
                    Ok(out)
                }
            }
        })
    }
}

/// Many commands applied in one write transaction: for loading data in bulk (the
/// benchmark plant) and the server's group commit, where a commit per command would spend
/// its time in fsync.
///
/// Each command runs exactly the checks and writes of [`Store::apply`], and sees the
/// effects of the commands before it. All of them are committed together when the
/// closure given to [`Store::bulk`] returns `Ok`; if any command fails, nothing is stored
/// — even when the closure carries on past the error — so a load never leaves half a
/// command behind. (A mock recall's count and completion are checked against the record
/// as last committed, so they see nothing of their own bulk.)
pub struct Bulk<'a, 't> {
    tx: &'a mut Tx<'t>,
    done: usize,
    failed: Option<String>,
}

impl Bulk<'_, '_> {
    /// How many commands have been applied so far.
    pub fn len(&self) -> usize {
        self.done
    }

    pub fn is_empty(&self) -> bool {
        self.done == 0
    }

    /// Apply one more command in this transaction.
    pub fn apply(
        &mut self,
        c: Command,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<Applied, StoreError> {
        if let Some(why) = &self.failed {
            return Err(StoreError::invalid("bulk", why.clone()));
        }
        match self.tx.apply(c, stamp, today) {
            Ok(a) if a.stored() => {
                self.done += 1;
                Ok(a)
            }
            // An import its report refused wrote part of itself: only aborting the whole
            // transaction takes that back.
            Ok(a) => {
                self.failed = Some(format!(
                    "command {} was not stored; nothing in this bulk load was stored",
                    self.done + 1
                ));
                Ok(a)
            }
            Err(e) => {
                // The failed command may have written part of itself before its error;
                // only aborting the whole transaction takes that back.
                self.failed = Some(format!(
                    "command {} failed ({e}); nothing in this bulk load was stored",
                    self.done + 1
                ));
                Err(e)
            }
        }
    }
}

/// The one place a command becomes its writes, over an open transaction: one command's
/// own, or a bulk load's.
impl Tx<'_> {
    pub(super) fn apply(
        &mut self,
        c: Command,
        st: &Stamp,
        today: NaiveDate,
    ) -> Result<Applied, StoreError> {
        use Applied::{Created, Done, Event, Events, Imported};
        Ok(match c {
            Command::SetPlant(p) => {
                self.set_plant(&p, st)?;
                Done
            }
            Command::AddItem(i) => {
                self.add_item(i, st)?;
                Done
            }
            Command::AddParty(p) => {
                self.add_party(p, st)?;
                Done
            }
            // Saving a form ends its draft, in the same transaction: a clerk who comes
            // back after the save is never offered the form to save again.
            Command::Receive(r) => {
                let made = self.receive(r, st, today)?;
                self.drop_draft(&st.operator, &st.station, DraftForm::Receive)?;
                Created(made)
            }
            Command::ReceiveScanned(s) => {
                let made = self.receive_scanned(s, st, today)?;
                self.drop_draft(&st.operator, &st.station, DraftForm::Receive)?;
                Created(made)
            }
            Command::Produce(b) => {
                let made = self.produce(b, st, today)?;
                self.drop_draft(&st.operator, &st.station, DraftForm::Produce)?;
                Created(made)
            }
            Command::Ship(s) => {
                let event = self.ship(s, st, today)?;
                self.drop_draft(&st.operator, &st.station, DraftForm::Ship)?;
                Event(event)
            }
            Command::Adjust(a) => Event(self.adjust(a, st, today)?),
            Command::SetStatus(s) => Event(self.set_status(s, st, today)?),
            Command::Void(v) => Event(self.void(v, st, today)?),
            Command::HoldAll(h) => Events(self.hold_all(h, st, today)?),
            Command::RecordMockRecall { record, date } => {
                Event(self.record_mock_recall(record, date, st, today)?)
            }
            Command::ImportEpcis(i) => Imported(self.import_epcis(&i, st, today)?),
            Command::EditItem(i) => Event(self.edit_item(i, st, today)?),
            Command::RetireItem { code, reason } => {
                Event(self.retire_item(&code, &reason, st, today)?)
            }
            Command::EditParty(p) => Event(self.edit_party(p, st, today)?),
            Command::RetireParty { id, reason } => {
                Event(self.retire_party(&id, &reason, st, today)?)
            }
            Command::Return(r) => Created(self.return_goods(r, st, today)?),
            Command::StartMockRecall(m) => Event(self.start_mock_recall(m, st, today)?),
            Command::CountMockRecall { count, date } => {
                Event(self.count_mock_recall(count, date, st, today)?)
            }
            Command::FinishMockRecall { recall, note, date } => {
                Event(self.finish_mock_recall(recall, &note, date, st, today)?)
            }
            Command::SetAllergens(names) => Event(self.set_allergens(&names, st, today)?),
            Command::DeclareAllergens {
                item,
                allergens,
                reason,
            } => Event(self.declare_allergens(&item, &allergens, &reason, st, today)?),
            Command::AddRecipe(r) => Event(self.add_recipe(r, st, today)?),
            Command::ProduceOverride { batch, reason } => {
                Created(self.produce_with(batch, Some(reason), st, today)?)
            }
            Command::Changeover(c) => Event(self.changeover(c, st, today)?),
            Command::SaveDraft(d) => {
                let hours = self.plant()?.draft_hours;
                self.save_draft(d, st, hours)?;
                Done
            }
            Command::DropDraft { station, form } => {
                self.drop_draft(&st.operator, &station, form)?;
                Done
            }
        })
    }
}
