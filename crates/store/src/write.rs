//! The write commands. Each is one redb transaction: it checks everything first and
//! commits all of its changes or none of them. A bulk load ([`Store::bulk`]) runs the same
//! command code, many commands to a transaction, with the same all-or-nothing rule.

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
    /// load. `set_plant` is the only writer of the record and keeps it in step.
    plant_cache: RefCell<Option<Plant>>,
    /// EPCIS event ids already imported (see `EPCIS_EVENTS`).
    pub epcis: Table<'t, &'static str, &'static [u8]>,
    /// Mock recall records' events (see `MOCK_RECALLS`).
    pub mock_recalls: Table<'t, (u64, u64), ()>,
    /// The code the next new lot takes instead of one from the plant's pattern: an import
    /// keeps the codes the source plant printed. Taken (and so cleared) by the next
    /// `next_lot_code`.
    pub forced_code: Option<LotCode>,
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
            forced_code: None,
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
        if let EventKind::ItemChanged { after, .. } = &e.kind {
            self.item_events.insert((after.code.as_str(), e.id), ())?;
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
        for (i, l) in lines.iter().enumerate() {
            let f = if lines.len() == 1 {
                field.to_string()
            } else {
                format!("{field} {}", i + 1)
            };
            let lot = self.lot_by_code(&l.lot, &f)?;
            lot.check_use(l.qty, &f)?;
            lot.check_date(date, "date")?;
            if !allow_expired
                && lot.is_expired(date)
                && let Some(exp) = lot.expiry
            {
                return Err(StoreError::invalid(
                    &f,
                    format!(
                        "lot {} expired on {exp}; if QA has approved using it, confirm the override (command line: --allow-expired), which is recorded",
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
                    | EventKind::MockRecallStarted(_)
                    | EventKind::MockRecallCount(_)
                    | EventKind::MockRecallFinished(_)
            ) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Why a receipt's dock checks hold the new lot: a failed inspection, a temperature outside
/// the item's range, or both; `None` when it may be used at once.
pub fn receiving_hold(q: &Quality, item: &Item) -> Option<String> {
    let mut why = Vec::new();
    if q.inspection == Some(Inspection::Fail) {
        why.push("receiving inspection failed".to_string());
    }
    if let Some(dc) = q.temperature_dc
        && let Some(out) = item.receiving_temp.outside(dc)
    {
        why.push(out);
    }
    if why.is_empty() {
        return None;
    }
    let mut reason = why.join("; ");
    if !q.note.trim().is_empty() {
        reason.push_str(&format!(" (note: {})", q.note.trim()));
    }
    Some(reason)
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

pub fn day_number(d: NaiveDate) -> i32 {
    use chrono::Datelike;
    d.num_days_from_ce()
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
            Command::Receive(r) => Created(self.receive(r, st, today)?),
            Command::Produce(b) => Created(self.produce(b, st, today)?),
            Command::Ship(s) => Event(self.ship(s, st, today)?),
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
        })
    }
}
/// The commands themselves, over an open transaction: one write or a bulk load.
impl Tx<'_> {
    /// Set the plant's settings, keeping who changed what for the audit in the same
    /// transaction: the settings never change without their audit line.
    fn set_plant(&mut self, plant: &Plant, stamp: &Stamp) -> Result<(), StoreError> {
        plant.validate()?;
        let before = self.plant()?;
        self.write_plant(plant)?;
        super::audit::settings_changed(self.w, stamp, &before, plant)
    }

    /// A generated plant's first settings, which nobody changed: no audit line.
    pub(super) fn put_plant(&mut self, plant: &Plant) -> Result<(), StoreError> {
        plant.validate()?;
        self.write_plant(plant)
    }

    fn write_plant(&mut self, plant: &Plant) -> Result<(), StoreError> {
        self.meta.insert("plant", encode(plant).as_slice())?;
        *self.plant_cache.get_mut() = Some(plant.clone());
        Ok(())
    }

    pub(super) fn add_item(&mut self, new: NewItem, stamp: &Stamp) -> Result<Item, StoreError> {
        let item = Item {
            code: new.code,
            description: new.description,
            unit: new.unit,
            kind: new.kind,
            gtin: new.gtin,
            shelf_life_days: new.shelf_life_days,
            ftl: new.ftl,
            created: stamp.clone(),
            receiving_temp: new.receiving_temp,
            retired: None,
        };
        item.validate()?;
        if self.items.get(item.code.as_str())?.is_some() {
            return Err(StoreError::invalid(
                "code",
                format!("item {} already exists; item codes are unique", item.code),
            ));
        }
        if let Some(g) = &item.gtin {
            for entry in self.items.iter()? {
                let (k, v) = entry?;
                let other: Item = decode(v.value(), "items", &k.value())?;
                if other.gtin.as_ref() == Some(g) {
                    return Err(StoreError::invalid(
                        "gtin",
                        format!("GTIN {g} already belongs to item {}", other.code),
                    ));
                }
            }
        }
        self.items
            .insert(item.code.as_str(), encode(&item).as_slice())?;
        Ok(item)
    }

    pub(super) fn add_party(&mut self, new: NewParty, stamp: &Stamp) -> Result<Party, StoreError> {
        let party = Party {
            id: new.id,
            role: new.role,
            location: new.location,
            gln: new.gln,
            recall_contact: new.recall_contact,
            created: stamp.clone(),
            retired: None,
        };
        party.validate()?;
        if self.parties.get(party.id.as_str())?.is_some() {
            return Err(StoreError::invalid(
                "id",
                format!("party {} already exists; party ids are unique", party.id),
            ));
        }
        self.parties
            .insert(party.id.as_str(), encode(&party).as_slice())?;
        Ok(party)
    }

    fn check_gtin_free(&self, item: &Item) -> Result<(), StoreError> {
        if let Some(g) = &item.gtin {
            for entry in self.items.iter()? {
                let (k, v) = entry?;
                let other: Item = decode(v.value(), "items", &k.value())?;
                if other.code != item.code && other.gtin.as_ref() == Some(g) {
                    return Err(StoreError::invalid(
                        "gtin",
                        format!("GTIN {g} already belongs to item {}", other.code),
                    ));
                }
            }
        }
        Ok(())
    }

    fn item_has_lots(&self, code: &ItemCode) -> Result<bool, StoreError> {
        Ok(self
            .item_lots
            .range((code.as_str(), 0)..=(code.as_str(), u32::MAX))?
            .next()
            .is_some())
    }

    fn item_changed(
        &mut self,
        before: Item,
        after: Item,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        self.items
            .insert(after.code.as_str(), encode(&after).as_slice())?;
        self.append(
            stamp,
            today,
            None,
            EventKind::ItemChanged {
                before: Box::new(before),
                after: Box::new(after),
            },
        )
    }

    fn edit_item(
        &mut self,
        new: NewItem,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        let before = self.item(&new.code, "code")?;
        // Every lot of an item is kept in its unit: changing it would change what every
        // recorded quantity means.
        if new.unit != before.unit && self.item_has_lots(&before.code)? {
            return Err(StoreError::invalid(
                "unit",
                format!(
                    "item {} has lots kept in {}; its unit cannot change (add a new item for the new unit and retire this one)",
                    before.code, before.unit
                ),
            ));
        }
        let after = Item {
            code: before.code.clone(),
            description: new.description,
            unit: new.unit,
            kind: new.kind,
            gtin: new.gtin,
            shelf_life_days: new.shelf_life_days,
            ftl: new.ftl,
            created: before.created.clone(),
            receiving_temp: new.receiving_temp,
            retired: before.retired.clone(),
        };
        after.validate()?;
        if after == before {
            return Err(StoreError::invalid(
                "item",
                format!(
                    "nothing to change: item {} already has these values",
                    before.code
                ),
            ));
        }
        self.check_gtin_free(&after)?;
        self.item_changed(before, after, stamp, today)
    }

    fn retire_item(
        &mut self,
        code: &ItemCode,
        reason: &str,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        let reason = required_text(reason, "reason", 200)?;
        let before = self.item(code, "item")?;
        let retired = retirement("item", &before.code, before.retired.as_ref(), stamp, reason)?;
        let after = Item {
            retired: Some(retired),
            ..before.clone()
        };
        self.item_changed(before, after, stamp, today)
    }

    fn party_changed(
        &mut self,
        before: Party,
        after: Party,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        self.parties
            .insert(after.id.as_str(), encode(&after).as_slice())?;
        self.append(
            stamp,
            today,
            None,
            EventKind::PartyChanged {
                before: Box::new(before),
                after: Box::new(after),
            },
        )
    }

    fn edit_party(
        &mut self,
        new: NewParty,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        let before = self.party(&new.id, "id")?;
        let after = Party {
            id: before.id.clone(),
            role: new.role,
            location: new.location,
            gln: new.gln,
            recall_contact: new.recall_contact,
            created: before.created.clone(),
            retired: before.retired.clone(),
        };
        after.validate()?;
        if after == before {
            return Err(StoreError::invalid(
                "party",
                format!(
                    "nothing to change: party {} already has these values",
                    before.id
                ),
            ));
        }
        self.party_changed(before, after, stamp, today)
    }

    fn retire_party(
        &mut self,
        id: &PartyId,
        reason: &str,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        let reason = required_text(reason, "reason", 200)?;
        let before = self.party(id, "party")?;
        let retired = retirement("party", &before.id, before.retired.as_ref(), stamp, reason)?;
        let after = Party {
            retired: Some(retired),
            ..before.clone()
        };
        self.party_changed(before, after, stamp, today)
    }

    /// Receiving (FSMA §1.1345): a new lot of our own code carrying the supplier's lot code.
    pub(super) fn receive(
        &mut self,
        r: NewReceipt,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<Created, StoreError> {
        check_not_future(r.date, "date", today)?;
        clean_text(&r.quality.note, "note", 500)?;
        if !r.qty.is_positive() {
            return Err(StoreError::invalid(
                "qty",
                format!("must be greater than zero (got {})", r.qty),
            ));
        }
        if let Some(exp) = r.expiry {
            lotline_domain::check_year(exp, "expiry")?;
        }
        if let Some(exp) = r.expiry
            && exp < r.date
        {
            return Err(StoreError::invalid(
                "expiry",
                format!("{exp} is before the date received ({})", r.date),
            ));
        }
        let item = self.item(&r.item, "item")?;
        check_item_active(&item, "item")?;
        let supplier = self.party(&r.supplier, "supplier")?;
        check_party_active(&supplier, "supplier")?;
        if !supplier.role.supplies() {
            return Err(StoreError::invalid(
                "supplier",
                format!("{} is a customer, not a supplier", supplier.id),
            ));
        }
        let qty = convert_qty(r.qty, r.unit, &item, "unit")?;
        if !qty.is_positive() {
            return Err(StoreError::invalid(
                "qty",
                format!(
                    "{} {} is less than 0.001 {}",
                    r.qty,
                    r.unit.unwrap_or(item.unit),
                    item.unit
                ),
            ));
        }
        let tlc_source_ref = match &r.tlc_source_ref {
            Some(t) => parse_tlc_source_ref(t, "tlc-source-ref")?,
            None => None,
        };
        let hold = receiving_hold(&r.quality, &item);
        let plant = self.plant()?;
        let code = self.next_lot_code(&plant.receipt_pattern, r.date)?;
        let id = self.next_lot_id()?;
        let event_id = self.next_event_id()?;
        let lot = Lot {
            id,
            code: code.clone(),
            item: item.code.clone(),
            origin: Origin::Received {
                supplier: supplier.id.clone(),
                supplier_lot: r.supplier_lot.clone(),
            },
            event: event_id,
            quantity: qty,
            unit: item.unit,
            date: r.date,
            expiry: r.expiry,
            status: LotStatus::Released,
            balance: qty,
        };
        self.new_lot(&lot)?;
        self.put_event(&Event {
            id: event_id,
            stamp: stamp.clone(),
            date: r.date,
            reference: r.reference.clone(),
            kind: EventKind::Receive(Receipt {
                lot: id,
                item: item.code,
                supplier: supplier.id,
                supplier_lot: r.supplier_lot.clone(),
                qty,
                unit: item.unit,
                expiry: r.expiry,
                quality: r.quality.clone(),
                as_received: Some(Counted {
                    qty: r.qty,
                    unit: r.unit.unwrap_or(item.unit),
                }),
                tlc_source_ref,
            }),
        })?;
        // A failed check holds the lot before anyone can use it: the hold is its own
        // status event, stamped like the receipt, so releasing it later is ordinary QA work.
        if let Some(reason) = &hold {
            let mut held = self.lot(id)?;
            held.status = LotStatus::Hold;
            self.put_lot(&held)?;
            self.append(
                stamp,
                r.date,
                None,
                EventKind::Status {
                    lot: id,
                    from: LotStatus::Released,
                    to: LotStatus::Hold,
                    reason: reason.clone(),
                },
            )?;
        }
        Ok(Created {
            code,
            lot: id,
            event: event_id,
            hold,
        })
    }

    /// Transformation (FSMA §1.1350): inputs consumed, one new output lot, links both ways.
    pub(super) fn produce(
        &mut self,
        b: NewBatch,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<Created, StoreError> {
        check_not_future(b.date, "date", today)?;
        if !b.qty.is_positive() {
            return Err(StoreError::invalid(
                "qty",
                format!("must be greater than zero (got {})", b.qty),
            ));
        }
        if let Some(exp) = b.expiry {
            lotline_domain::check_year(exp, "expiry")?;
        }
        if let Some(exp) = b.expiry
            && exp < b.date
        {
            return Err(StoreError::invalid(
                "expiry",
                format!("{exp} is before the batch date ({})", b.date),
            ));
        }
        if let Some(line) = &b.line {
            required_text(line, "line", 40)?;
        }
        let item = self.item(&b.item, "item")?;
        check_item_active(&item, "item")?;
        let qty = convert_qty(b.qty, b.unit, &item, "unit")?;
        if !qty.is_positive() {
            return Err(StoreError::invalid(
                "qty",
                format!(
                    "{} {} is less than 0.001 {}",
                    b.qty,
                    b.unit.unwrap_or(item.unit),
                    item.unit
                ),
            ));
        }
        let inputs = self.take(&b.inputs, "input", b.date, b.allow_expired)?;
        let plant = self.plant()?;
        let code = self.next_lot_code(&plant.batch_pattern, b.date)?;
        let id = self.next_lot_id()?;
        let event_id = self.next_event_id()?;
        let expiry = b.expiry.or_else(|| {
            item.shelf_life_days
                .and_then(|d| b.date.checked_add_days(Days::new(d as u64)))
        });
        let mut reverse = Vec::with_capacity(inputs.len());
        for (mut lot, used) in inputs.iter().cloned() {
            lot.balance = lot.balance - used;
            self.put_lot(&lot)?;
            self.fwd.insert(lot.id.0, (id.0, used.milli()))?;
            reverse.push((lot.id.0, used.milli()));
        }
        self.rev
            .insert(id.0, pack_inputs(&mut reverse).as_slice())?;
        let lot = Lot {
            id,
            code: code.clone(),
            item: item.code.clone(),
            origin: Origin::Produced {
                line: b.line.clone(),
            },
            event: event_id,
            quantity: qty,
            unit: item.unit,
            date: b.date,
            expiry,
            status: LotStatus::Released,
            balance: qty,
        };
        self.new_lot(&lot)?;
        self.put_event(&Event {
            id: event_id,
            stamp: stamp.clone(),
            date: b.date,
            reference: b.reference.clone(),
            kind: EventKind::Produce(Batch {
                output: id,
                item: item.code,
                qty,
                unit: item.unit,
                line: b.line.clone(),
                inputs: inputs
                    .iter()
                    .map(|(l, q)| Use { lot: l.id, qty: *q })
                    .collect(),
            }),
        })?;
        self.record_expiry_override(event_id, &inputs, b.date, stamp)?;
        Ok(Created {
            code,
            lot: id,
            event: event_id,
            hold: None,
        })
    }

    /// Shipping (FSMA §1.1340): lots leave for a customer. Returns the event id.
    pub(super) fn ship(
        &mut self,
        s: NewShipment,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        check_not_future(s.date, "date", today)?;
        let customer = self.party(&s.customer, "customer")?;
        check_party_active(&customer, "customer")?;
        if !customer.role.buys() {
            return Err(StoreError::invalid(
                "customer",
                format!("{} is a supplier, not a customer", customer.id),
            ));
        }
        let taken = self.take(&s.lines, "lot", s.date, s.allow_expired)?;
        for (mut lot, q) in taken.iter().cloned() {
            lot.balance = lot.balance - q;
            self.put_lot(&lot)?;
        }
        let lines = taken
            .iter()
            .map(|(l, q)| Use { lot: l.id, qty: *q })
            .collect();
        let id = self.append(
            stamp,
            s.date,
            s.reference.clone(),
            EventKind::Ship(Shipment {
                customer: customer.id,
                lines,
            }),
        )?;
        self.record_expiry_override(id, &taken, s.date, stamp)?;
        Ok(id)
    }

    /// When `event` used lots past their expiry (the user overrode the refusal), say so in
    /// an event of its own, in each of those lots' histories.
    fn record_expiry_override(
        &mut self,
        event: u64,
        taken: &[(Lot, Qty)],
        date: NaiveDate,
        stamp: &Stamp,
    ) -> Result<(), StoreError> {
        let lots: Vec<LotId> = taken
            .iter()
            .filter(|(l, _)| l.is_expired(date))
            .map(|(l, _)| l.id)
            .collect();
        if !lots.is_empty() {
            self.append(stamp, date, None, EventKind::ExpiryOverride { event, lots })?;
        }
        Ok(())
    }

    /// A counted correction of a lot's balance, with a reason. Returns the event id.
    pub(super) fn adjust(
        &mut self,
        a: Adjustment,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        check_not_future(a.date, "date", today)?;
        let reason = required_text(&a.reason, "reason", 200)?;
        if a.delta == Qty::ZERO {
            return Err(StoreError::invalid(
                "qty",
                "an adjustment of 0 changes nothing; give +N or -N",
            ));
        }
        let mut lot = self.lot_by_code(&a.lot, "lot")?;
        lot.check_date(a.date, "date")?;
        if lot.status == LotStatus::Voided {
            return Err(StoreError::invalid(
                "lot",
                format!("lot {} was voided; it cannot be adjusted", lot.code),
            ));
        }
        let new_balance = lot
            .balance
            .checked_add(a.delta)
            .filter(|b| b.milli() >= 0)
            .ok_or_else(|| {
                StoreError::invalid(
                    "qty",
                    format!(
                        "{} would leave lot {} below zero (on hand {} {})",
                        a.delta, lot.code, lot.balance, lot.unit
                    ),
                )
            })?;
        lot.balance = new_balance;
        self.put_lot(&lot)?;
        self.append(
            stamp,
            a.date,
            None,
            EventKind::Adjust {
                lot: lot.id,
                delta: a.delta,
                reason: reason.clone(),
            },
        )
    }

    /// Hold, release or recall a lot, with a reason. Returns the event id.
    fn set_status(
        &mut self,
        c: StatusChange,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        check_not_future(c.date, "date", today)?;
        let reason = required_text(&c.reason, "reason", 200)?;
        if c.to == LotStatus::Voided {
            return Err(StoreError::invalid(
                "status",
                "a lot is voided by voiding the event that created it (`lotline void`)",
            ));
        }
        let mut lot = self.lot_by_code(&c.lot, "lot")?;
        lot.check_date(c.date, "date")?;
        let from = lot.status;
        if from == LotStatus::Voided {
            return Err(StoreError::invalid(
                "lot",
                format!("lot {} was voided; its status cannot change", lot.code),
            ));
        }
        if from == c.to {
            return Err(StoreError::invalid(
                "lot",
                format!("lot {} is already {}", lot.code, from),
            ));
        }
        lot.status = c.to;
        self.put_lot(&lot)?;
        self.append(
            stamp,
            c.date,
            None,
            EventKind::Status {
                lot: lot.id,
                from,
                to: c.to,
                reason: reason.clone(),
            },
        )
    }

    /// Hold every released lot in `h.lots` (a recall scope's stock) with one reason. Lots
    /// already held, recalled or voided are left as they are. Returns the status events.
    fn hold_all(
        &mut self,
        h: HoldAll,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<Vec<u64>, StoreError> {
        let reason = required_text(&h.reason, "reason", 200)?;
        if h.lots.is_empty() {
            return Err(StoreError::invalid("lots", "no lots to hold"));
        }
        let mut events = Vec::new();
        for code in &h.lots {
            if self.lot_by_code(code, "lots")?.status != LotStatus::Released {
                continue;
            }
            let change = StatusChange {
                lot: code.clone(),
                to: LotStatus::Hold,
                date: h.date,
                reason: reason.clone(),
            };
            events.push(self.set_status(change, stamp, today)?);
        }
        Ok(events)
    }

    /// Keep a mock recall's result as an event in the root lot's history, for the auditor.
    fn record_mock_recall(
        &mut self,
        m: MockRecall,
        date: NaiveDate,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        check_not_future(date, "date", today)?;
        // Through the transaction's own view of lots, which a bulk load's pending writes
        // are part of.
        let known =
            self.lot_cache.borrow().contains_key(&m.root.0) || self.lots.get(m.root.0)?.is_some();
        if !known {
            return Err(StoreError::invalid(
                "lot",
                format!("no lot with id {}", m.root.0),
            ));
        }
        let root = self.lot(m.root)?;
        root.check_date(date, "date")?;
        if root.status == LotStatus::Voided {
            return Err(StoreError::invalid(
                "lot",
                format!("lot {} was voided", root.code),
            ));
        }
        let note = clean_text(&m.note, "note", 500)?;
        if !matches!(m.direction.as_str(), "forward" | "backward" | "both") {
            return Err(StoreError::invalid(
                "direction",
                format!(
                    "{} is not a direction; accepted: forward, backward, both",
                    lotline_domain::text::excerpt(&m.direction)
                ),
            ));
        }
        self.append(
            stamp,
            date,
            None,
            EventKind::MockRecall(MockRecall { note, ..m }),
        )
    }

    /// How much of `lot` standing returns have brought back from `shipment`.
    fn returned_from(&self, lot: LotId, shipment: u64) -> Result<Qty, StoreError> {
        let mut sum = Qty::ZERO;
        for id in self.lot_event_ids(lot)? {
            if id <= shipment || self.is_voided(id)? {
                continue;
            }
            if let EventKind::Return(r) = self.event(id, "event")?.kind
                && r.shipment == shipment
                && r.from == lot
            {
                sum = sum + r.qty;
            }
        }
        Ok(sum)
    }

    /// For a return a document gives without naming its shipment: the latest standing
    /// shipment of `lot` to `customer` on or before `date` with at least `qty` not yet
    /// returned.
    pub(super) fn shipment_for_return(
        &self,
        lot: &Lot,
        customer: &PartyId,
        date: NaiveDate,
        qty: Qty,
    ) -> Result<u64, StoreError> {
        let day = day_number(date);
        let mut shipped: Vec<(i32, u64, i64)> = Vec::new();
        for line in self.lot_ships.get(lot.id.0)? {
            let guard = line?;
            let (event, milli, d, to, _, _) = guard.value();
            if to == customer.as_str() && d <= day && !self.is_voided(event)? {
                match shipped.iter_mut().find(|(_, e, _)| *e == event) {
                    Some(s) => s.2 += milli,
                    None => shipped.push((d, event, milli)),
                }
            }
        }
        shipped.sort_unstable();
        for &(_, event, milli) in shipped.iter().rev() {
            if Qty(milli) - self.returned_from(lot.id, event)? >= qty {
                return Ok(event);
            }
        }
        Err(StoreError::invalid(
            "shipment",
            format!(
                "no shipment of lot {} to {customer} on or before {date} has {qty} {} left to come back",
                lot.code, lot.unit
            ),
        ))
    }

    /// The standing shipment of `lot` the user named: by event id, or by its reference
    /// document (`BOL:4471`, or the number alone when only one shipment of the lot has it).
    fn shipment_of(&self, lot: &Lot, named: &str) -> Result<Event, StoreError> {
        let named = named.trim();
        let field = "shipment";
        let mut found: Vec<u64> = Vec::new();
        for line in self.lot_ships.get(lot.id.0)? {
            let guard = line?;
            let (event, _, _, _, kind, number) = guard.value();
            let by_id = named.parse::<u64>().is_ok_and(|n| n == event);
            let by_ref = !number.is_empty()
                && (named.eq_ignore_ascii_case(&format!("{kind}:{number}"))
                    || named.eq_ignore_ascii_case(number));
            if (by_id || by_ref) && !found.contains(&event) && !self.is_voided(event)? {
                found.push(event);
            }
        }
        match found.as_slice() {
            [one] => self.event(*one, field),
            [] => {
                // Say why: no such shipment at all, or one that did not carry this lot.
                if let Ok(n) = named.parse::<u64>()
                    && let Ok(e) = self.event(n, field)
                {
                    let why = match &e.kind {
                        EventKind::Ship(_) if self.is_voided(n)? => "was voided",
                        EventKind::Ship(_) => "did not carry it",
                        _ => "is not a shipment",
                    };
                    return Err(StoreError::invalid(
                        field,
                        format!(
                            "event {n} {why}; `lotline lot {}` lists the lot's shipments",
                            lot.code
                        ),
                    ));
                }
                Err(StoreError::invalid(
                    field,
                    format!(
                        "no shipment of lot {} is {}; give the shipment's event id or reference (`lotline lot {}` lists them)",
                        lot.code,
                        lotline_domain::text::excerpt(named),
                        lot.code
                    ),
                ))
            }
            many => Err(StoreError::invalid(
                field,
                format!(
                    "{} names {} shipments of lot {} (events {}); give the event id",
                    lotline_domain::text::excerpt(named),
                    many.len(),
                    lot.code,
                    many.iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    /// The return lot's code: the shipped lot's with `-R1`, `-R2`…, so the label says which
    /// lot came back; the plant's batch pattern when that would not be a valid code.
    fn return_code(&mut self, from: &Lot, date: NaiveDate) -> Result<LotCode, StoreError> {
        if self.forced_code.is_some() {
            // An import keeps the code the source plant gave the return lot.
            let plant = self.plant()?;
            return self.next_lot_code(&plant.batch_pattern, date);
        }
        for n in 1..1000u32 {
            let Ok(code) = LotCode::parse(&format!("{}-R{n}", from.code), "lot") else {
                break;
            };
            if self.lot_codes.get(code.as_str())?.is_none() {
                return Ok(code);
            }
        }
        let plant = self.plant()?;
        self.next_lot_code(&plant.batch_pattern, date)
    }

    /// Product back from a customer against a shipment, into a new lot on hold (see
    /// `CustomerReturn` for why a new lot), linked from the shipped lot.
    pub(super) fn return_goods(
        &mut self,
        r: NewReturn,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<Created, StoreError> {
        check_not_future(r.date, "date", today)?;
        let reason = clean_text(&r.reason, "reason", 200)?;
        if !r.qty.is_positive() {
            return Err(StoreError::invalid(
                "qty",
                format!("must be greater than zero (got {})", r.qty),
            ));
        }
        let from = self.lot_by_code(&r.lot, "lot")?;
        if let Some(u) = r.unit
            && u != from.unit
        {
            return Err(StoreError::invalid(
                "unit",
                format!(
                    "lot {} was shipped in {}; give the quantity in {} (returns are not converted)",
                    from.code, from.unit, from.unit
                ),
            ));
        }
        let shipment = self.shipment_of(&from, &r.shipment)?;
        let EventKind::Ship(s) = &shipment.kind else {
            return Err(StoreError::invalid(
                "shipment",
                format!("event {} is not a shipment", shipment.id),
            ));
        };
        if r.date < shipment.date {
            return Err(StoreError::invalid(
                "date",
                format!(
                    "{} is before shipment {} left ({}); date the return on or after it",
                    r.date, shipment.id, shipment.date
                ),
            ));
        }
        let shipped: Qty = s
            .lines
            .iter()
            .filter(|u| u.lot == from.id)
            .map(|u| u.qty)
            .sum();
        let returned = self.returned_from(from.id, shipment.id)?;
        let left = shipped - returned;
        if r.qty > left {
            return Err(StoreError::invalid(
                "qty",
                format!(
                    "{} {u} is more than can come back from shipment {} of lot {}: {shipped} {u} shipped to {}, {returned} {u} returned already",
                    r.qty,
                    shipment.id,
                    from.code,
                    s.customer,
                    u = from.unit
                ),
            ));
        }
        let customer = s.customer.clone();
        let code = self.return_code(&from, r.date)?;
        let id = self.next_lot_id()?;
        let event_id = self.next_event_id()?;
        let lot = Lot {
            id,
            code: code.clone(),
            item: from.item.clone(),
            origin: Origin::Returned {
                customer: customer.clone(),
                shipment: shipment.id,
                from: from.id,
            },
            event: event_id,
            quantity: r.qty,
            unit: from.unit,
            date: r.date,
            expiry: from.expiry,
            status: LotStatus::Released,
            balance: r.qty,
        };
        self.new_lot(&lot)?;
        // The shipped lot is the return lot's one input: traces pass through it both ways.
        self.fwd.insert(from.id.0, (id.0, r.qty.milli()))?;
        self.rev.insert(
            id.0,
            pack_inputs(&mut [(from.id.0, r.qty.milli())]).as_slice(),
        )?;
        self.put_event(&Event {
            id: event_id,
            stamp: stamp.clone(),
            date: r.date,
            reference: r.reference.clone(),
            kind: EventKind::Return(CustomerReturn {
                shipment: shipment.id,
                customer: customer.clone(),
                from: from.id,
                lot: id,
                item: from.item.clone(),
                qty: r.qty,
                unit: from.unit,
                reason: reason.clone(),
            }),
        })?;
        // Nothing that came back is used or shipped again before QA has looked at it: the
        // hold is its own status event, so releasing it is ordinary QA work.
        let why = if reason.is_empty() {
            format!("returned by {customer} (shipment {})", shipment.id)
        } else {
            format!(
                "returned by {customer} (shipment {}): {reason}",
                shipment.id
            )
        };
        let mut held = self.lot(id)?;
        held.status = LotStatus::Hold;
        self.put_lot(&held)?;
        self.append(
            stamp,
            r.date,
            None,
            EventKind::Status {
                lot: id,
                from: LotStatus::Released,
                to: LotStatus::Hold,
                reason: why.clone(),
            },
        )?;
        Ok(Created {
            code,
            lot: id,
            event: event_id,
            hold: Some(why),
        })
    }

    /// The first event of a mock recall record, on its root lot.
    fn start_mock_recall(
        &mut self,
        m: StartMockRecall,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        check_not_future(m.date, "date", today)?;
        let note = clean_text(&m.note, "note", 500)?;
        let asked_as = clean_text(&m.asked_as, "lot", 100)?;
        let root = self.lot_by_code(&m.lot, "lot")?;
        if root.status == LotStatus::Voided {
            return Err(StoreError::invalid(
                "lot",
                format!("lot {} was voided; start from a lot that exists", root.code),
            ));
        }
        self.append(
            stamp,
            m.date,
            None,
            EventKind::MockRecallStarted(MockStart {
                root: root.id,
                asked_as: if asked_as == root.code.as_str() {
                    String::new()
                } else {
                    asked_as
                },
                note,
            }),
        )
    }

    /// Record what was found for one line of a mock recall, checked against its scope.
    fn count_mock_recall(
        &mut self,
        c: NewMockCount,
        date: NaiveDate,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        let view = self.store.mock_recall(c.recall)?;
        let line = super::recall::resolve_count(&view, &c)?;
        let note = clean_text(&c.note, "note", 200)?;
        let kind = EventKind::MockRecallCount(MockCount {
            recall: c.recall,
            root: view.root.id,
            line,
            note,
        });
        self.mock_recall_event(c.recall, kind, date, stamp, today)
    }

    /// Complete a mock recall: its reconciliation as it stands is kept in the record.
    fn finish_mock_recall(
        &mut self,
        recall: u64,
        note: &str,
        date: NaiveDate,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        let view = self.store.mock_recall(recall)?;
        let note = clean_text(note, "note", 500)?;
        let kind = EventKind::MockRecallFinished(Box::new(MockFinish {
            recall,
            root: view.root.id,
            result: view.result,
            note,
        }));
        self.mock_recall_event(recall, kind, date, stamp, today)
    }

    /// A count or the completion of a mock recall, checked against the record as last
    /// committed; refused here if the record was completed since.
    fn mock_recall_event(
        &mut self,
        recall: u64,
        kind: EventKind,
        date: NaiveDate,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        check_not_future(date, "date", today)?;
        for e in self.mock_recalls.range((recall, 0)..=(recall, u64::MAX))? {
            let id = e?.0.value().1;
            if let EventKind::MockRecallFinished(_) = self.event(id, "recall")?.kind {
                return Err(StoreError::invalid(
                    "recall",
                    format!(
                        "mock recall {recall} was completed (event {id}); start a new one to count again"
                    ),
                ));
            }
        }
        self.append(stamp, date, None, kind)
    }

    /// Take back an event entered in error. Its record stays; a void event names it and
    /// the reason, and its effect on balances and statuses is reversed. A receipt or batch
    /// can only be voided while nothing has used its lot, so no history downstream is
    /// left pointing at a lot that never was.
    fn void(&mut self, v: VoidEvent, stamp: &Stamp, today: NaiveDate) -> Result<u64, StoreError> {
        check_not_future(v.date, "date", today)?;
        let reason = required_text(&v.reason, "reason", 200)?;
        let target = self.event(v.event, "event")?;
        if v.date < target.date {
            return Err(StoreError::invalid(
                "date",
                format!(
                    "{} is before event {} ({}); date the void on or after it",
                    v.date, target.id, target.date
                ),
            ));
        }
        if let Some(by) = self.voids.get(v.event)? {
            return Err(StoreError::invalid(
                "event",
                format!(
                    "event {} was already voided by event {}",
                    v.event,
                    by.value()
                ),
            ));
        }
        let id = self.next_event_id()?;
        match &target.kind {
            // A record only: nothing to reverse.
            EventKind::MockRecall(_) | EventKind::ExpiryOverride { .. } => {}
            // Master data is corrected by another edit, which keeps this one in history.
            EventKind::ItemChanged { .. } | EventKind::PartyChanged { .. } => {
                return Err(StoreError::invalid(
                    "event",
                    format!(
                        "event {} changed master data; correct it with another edit (`lotline item edit` / `party edit`)",
                        v.event
                    ),
                ));
            }
            EventKind::Void { .. } => {
                return Err(StoreError::invalid(
                    "event",
                    format!(
                        "event {} is itself a void; record the event again instead",
                        v.event
                    ),
                ));
            }
            // A mock recall is corrected by counting the line again: the record keeps both.
            EventKind::MockRecallStarted(_)
            | EventKind::MockRecallCount(_)
            | EventKind::MockRecallFinished(_) => {
                return Err(StoreError::invalid(
                    "event",
                    format!(
                        "event {} is part of a mock recall record; correct a count by counting the line again (`lotline mock-recall count`), which keeps both",
                        v.event
                    ),
                ));
            }
            EventKind::Receive(Receipt { lot, .. })
            | EventKind::Produce(Batch { output: lot, .. })
            | EventKind::Return(CustomerReturn { lot, .. }) => {
                let mut out = self.lot(*lot)?;
                if self.lot_was_used(*lot, target.id)? {
                    return Err(StoreError::invalid(
                        "event",
                        format!(
                            "lot {} has been used, shipped or adjusted since; void those events first",
                            out.code
                        ),
                    ));
                }
                out.status = LotStatus::Voided;
                out.balance = Qty::ZERO;
                self.put_lot(&out)?;
                if let EventKind::Produce(b) = &target.kind {
                    for u in &b.inputs {
                        let mut l = self.lot(u.lot)?;
                        l.balance = l.balance + u.qty;
                        self.put_lot(&l)?;
                    }
                }
            }
            EventKind::Ship(s) => {
                for u in &s.lines {
                    // Returns name the shipment; they go first.
                    if self.returned_from(u.lot, target.id)?.is_positive() {
                        return Err(StoreError::invalid(
                            "event",
                            format!(
                                "goods of shipment {} were returned (see `lotline lot {}`); void the returns first",
                                target.id,
                                self.lot(u.lot)?.code
                            ),
                        ));
                    }
                    let mut l = self.lot(u.lot)?;
                    l.balance = l.balance + u.qty;
                    self.put_lot(&l)?;
                }
            }
            EventKind::Adjust { lot, delta, .. } => {
                let mut l = self.lot(*lot)?;
                l.balance = l
                    .balance
                    .checked_sub(*delta)
                    .filter(|b| b.milli() >= 0)
                    .ok_or_else(|| {
                        StoreError::invalid(
                            "event",
                            format!("voiding it would leave lot {} below zero", l.code),
                        )
                    })?;
                self.put_lot(&l)?;
            }
            EventKind::Status { lot, from, .. } => {
                let mut l = self.lot(*lot)?;
                // Only the lot's latest standing status change can be taken back; undoing an
                // older one would contradict the changes made after it.
                if let Some(later) = self.later_status_change(*lot, target.id)? {
                    return Err(StoreError::invalid(
                        "event",
                        format!(
                            "lot {} has changed status since (event {later}, now {}); record a new status change instead",
                            l.code, l.status
                        ),
                    ));
                }
                if l.status == LotStatus::Voided {
                    return Err(StoreError::invalid(
                        "event",
                        format!(
                            "lot {} was voided; its status changes stand as recorded",
                            l.code
                        ),
                    ));
                }
                l.status = *from;
                self.put_lot(&l)?;
            }
        }
        self.voids.insert(v.event, id)?;
        self.put_event(&Event {
            id,
            stamp: stamp.clone(),
            date: v.date,
            reference: None,
            kind: EventKind::Void {
                event: v.event,
                reason,
            },
        })?;
        // The void belongs in the history of every lot the voided event touched.
        for lot in target.kind.lots() {
            self.lot_events.insert((lot.0, id), ())?;
        }
        Ok(id)
    }
}

/// The retirement of an item or party (`kind`, named `name`) by `stamp`, refused when it
/// was retired already: retiring is once, and its first record stands.
fn retirement(
    kind: &str,
    name: &dyn std::fmt::Display,
    already: Option<&Retired>,
    stamp: &Stamp,
    reason: String,
) -> Result<Retired, StoreError> {
    if let Some(r) = already {
        return Err(StoreError::invalid(
            kind,
            format!(
                "{kind} {name} was already retired on {} ({})",
                r.stamp.at.date_naive(),
                r.reason
            ),
        ));
    }
    Ok(Retired {
        stamp: stamp.clone(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use lotline_domain::Direction;
    use lotline_domain::api::Command;
    use lotline_domain::*;

    #[test]
    fn receive_assigns_julian_codes_in_sequence() {
        let (_d, s) = temp_store();
        add_item(&s, "FLOUR", Unit::Kg, ItemKind::Ingredient);
        add_party(&s, "MILL", Role::Supplier);
        // 2026-11-21 is day 325
        assert_eq!(
            receive(&s, "FLOUR", "MILL", "A1", 10).as_str(),
            "R26325-001"
        );
        assert_eq!(
            receive(&s, "FLOUR", "MILL", "A2", 10).as_str(),
            "R26325-002"
        );
    }

    #[test]
    fn produce_consumes_inputs_and_links_both_ways() {
        let (_d, s, [flour, eggs, dough, cookies]) = bakery();
        assert_eq!(s.lot_by_code(&flour).unwrap().balance, Qty::from_units(900));
        assert_eq!(s.lot_by_code(&eggs).unwrap().balance, Qty::from_units(40));
        assert_eq!(s.lot_by_code(&dough).unwrap().balance, Qty::ZERO);
        assert_eq!(
            s.lot_by_code(&cookies).unwrap().balance,
            Qty::from_units(20)
        );
        assert!(s.check().unwrap().problems.is_empty());
    }

    #[test]
    fn over_use_and_unknown_lots_store_nothing() {
        let (_d, s, [flour, ..]) = bakery();
        let before = s.stats().unwrap();
        let e = produce(&s, "DOUGH", 1, vec![line(&flour, 901)]).unwrap_err();
        assert!(
            e.to_string().starts_with("input: 901 kg is more than lot"),
            "{e}"
        );
        let ghost = LotCode::parse("R00000-999", "lot").unwrap();
        let e = produce(&s, "DOUGH", 1, vec![line(&flour, 1), line(&ghost, 1)]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "input 2: no lot R00000-999; check the code on the label"
        );
        let e = produce(&s, "DOUGH", 1, vec![line(&flour, 1), line(&flour, 2)]).unwrap_err();
        assert!(e.to_string().contains("listed twice"), "{e}");
        assert_eq!(s.stats().unwrap(), before);
        assert_eq!(s.lot_by_code(&flour).unwrap().balance, Qty::from_units(900));
    }

    #[test]
    fn held_lots_cannot_be_shipped_until_released() {
        let (_d, s, [.., cookies]) = bakery();
        let hold = |to| StatusChange {
            lot: cookies.clone(),
            to,
            date: today(),
            reason: "swab".into(),
        };
        s.apply(Command::SetStatus(hold(LotStatus::Hold)), &stamp(), today())
            .unwrap();
        let e = ship(&s, "SHOP", vec![line(&cookies, 1)]).unwrap_err();
        assert!(e.to_string().contains("on hold"), "{e}");
        let e = s
            .apply(Command::SetStatus(hold(LotStatus::Hold)), &stamp(), today())
            .unwrap_err();
        assert!(e.to_string().contains("already hold"), "{e}");
        s.apply(
            Command::SetStatus(hold(LotStatus::Released)),
            &stamp(),
            today(),
        )
        .unwrap();
        ship(&s, "SHOP", vec![line(&cookies, 1)]).unwrap();
    }

    #[test]
    fn void_reverses_a_shipment_and_keeps_the_record() {
        let (_d, s, [.., cookies]) = bakery();
        let ev = ship(&s, "SHOP", vec![line(&cookies, 3)]).unwrap();
        assert_eq!(
            s.lot_by_code(&cookies).unwrap().balance,
            Qty::from_units(17)
        );
        let vid = s
            .apply(
                Command::Void(VoidEvent {
                    event: ev,
                    date: today(),
                    reason: "wrong customer".into(),
                }),
                &stamp(),
                today(),
            )
            .unwrap()
            .event()
            .unwrap();
        assert_eq!(
            s.lot_by_code(&cookies).unwrap().balance,
            Qty::from_units(20)
        );
        let h = s.lot_history(&cookies).unwrap();
        assert!(
            h.events
                .iter()
                .any(|e| e.event.id == ev && e.voided_by == Some(vid))
        );
        let e = s
            .apply(
                Command::Void(VoidEvent {
                    event: ev,
                    date: today(),
                    reason: "again".into(),
                }),
                &stamp(),
                today(),
            )
            .unwrap_err();
        assert!(e.to_string().contains("already voided"), "{e}");
        assert!(s.check().unwrap().problems.is_empty());
    }

    #[test]
    fn a_used_lot_cannot_be_voided_but_an_unused_batch_can() {
        let (_d, s, [flour, _eggs, dough, _]) = bakery();
        let flour_lot = s.lot_by_code(&flour).unwrap();
        let e = s
            .apply(
                Command::Void(VoidEvent {
                    event: flour_lot.event,
                    date: today(),
                    reason: "x".into(),
                }),
                &stamp(),
                today(),
            )
            .unwrap_err();
        assert!(e.to_string().contains("has been used"), "{e}");
        let extra = produce(&s, "DOUGH", 5, vec![line(&flour, 5)]).unwrap();
        let batch = s.lot_by_code(&extra).unwrap();
        s.apply(
            Command::Void(VoidEvent {
                event: batch.event,
                date: today(),
                reason: "typed twice".into(),
            }),
            &stamp(),
            today(),
        )
        .unwrap();
        assert_eq!(s.lot_by_code(&extra).unwrap().status, LotStatus::Voided);
        assert_eq!(s.lot_by_code(&flour).unwrap().balance, Qty::from_units(900));
        let _ = dough;
        assert!(
            s.check().unwrap().problems.is_empty(),
            "{:?}",
            s.check().unwrap().problems
        );
    }

    #[test]
    fn adjustments_cannot_go_below_zero_and_need_a_reason() {
        let (_d, s, [flour, ..]) = bakery();
        let adj = |delta: i64, reason: &str| Adjustment {
            lot: flour.clone(),
            delta: Qty::from_units(delta),
            date: today(),
            reason: reason.into(),
        };
        s.apply(Command::Adjust(adj(-50, "spilled")), &stamp(), today())
            .unwrap();
        assert_eq!(s.lot_by_code(&flour).unwrap().balance, Qty::from_units(850));
        assert!(
            s.apply(Command::Adjust(adj(-851, "count")), &stamp(), today())
                .unwrap_err()
                .to_string()
                .contains("below zero")
        );
        assert!(
            s.apply(Command::Adjust(adj(-1, " ")), &stamp(), today())
                .unwrap_err()
                .to_string()
                .starts_with("reason:")
        );
        assert!(s.check().unwrap().problems.is_empty());
    }

    #[test]
    fn units_convert_to_the_items_unit() {
        let (_d, s) = temp_store();
        add_item(&s, "SUGAR", Unit::Kg, ItemKind::Ingredient);
        add_party(&s, "SWEET", Role::Supplier);
        let mut r = NewReceipt {
            item: ItemCode::parse("SUGAR", "item").unwrap(),
            supplier: PartyId::parse("SWEET", "supplier").unwrap(),
            supplier_lot: SupplierLot::parse("S1", "supplier-lot").unwrap(),
            qty: Qty::from_units(50),
            unit: Some(Unit::Lb),
            date: today(),
            expiry: None,
            reference: None,
            quality: Quality::default(),
            tlc_source_ref: None,
        };
        let c = s
            .apply(Command::Receive(r.clone()), &stamp(), today())
            .unwrap()
            .created()
            .unwrap();
        assert_eq!(
            s.lot_by_code(&c.code).unwrap().quantity.to_string(),
            "22.68"
        );
        // FSMA asks for the quantity as received: the 50 lb is kept beside the 22.68 kg.
        let h = s.lot_history(&c.code).unwrap();
        let EventKind::Receive(rec) = &h.events[0].event.kind else {
            panic!("not a receipt");
        };
        assert_eq!(
            rec.as_received,
            Some(Counted {
                qty: Qty::from_units(50),
                unit: Unit::Lb
            })
        );
        assert_eq!((rec.qty.to_string(), rec.unit), ("22.68".into(), Unit::Kg));
        assert_eq!(rec.tlc_source_ref, None);
        // A TLC source reference is kept trimmed; blank is none; control characters and
        // overlong text are refused naming the field.
        r.tlc_source_ref = Some("  GLN 0614141000012 ".into());
        let c = s
            .apply(Command::Receive(r.clone()), &stamp(), today())
            .unwrap()
            .created()
            .unwrap();
        let h = s.lot_history(&c.code).unwrap();
        let EventKind::Receive(rec) = &h.events[0].event.kind else {
            panic!("not a receipt");
        };
        assert_eq!(rec.tlc_source_ref.as_deref(), Some("GLN 0614141000012"));
        r.tlc_source_ref = Some("a\u{7}b".into());
        let e = s
            .apply(Command::Receive(r.clone()), &stamp(), today())
            .unwrap_err();
        assert!(e.to_string().starts_with("tlc-source-ref:"), "{e}");
        r.tlc_source_ref = Some("x".repeat(101));
        assert!(
            s.apply(Command::Receive(r.clone()), &stamp(), today())
                .is_err()
        );
        r.tlc_source_ref = Some("   ".into());
        let c = s
            .apply(Command::Receive(r.clone()), &stamp(), today())
            .unwrap()
            .created()
            .unwrap();
        let h = s.lot_history(&c.code).unwrap();
        let EventKind::Receive(rec) = &h.events[0].event.kind else {
            panic!("not a receipt");
        };
        assert_eq!(rec.tlc_source_ref, None);
        r.tlc_source_ref = None;
        r.unit = Some(Unit::L);
        let e = s.apply(Command::Receive(r), &stamp(), today()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unit: l cannot be converted to kg: item SUGAR is kept in kg; accepted units: kg, g, lb, oz"
        );
    }

    #[test]
    fn duplicates_and_wrong_roles_are_refused() {
        let (_d, s, _) = bakery();
        let e = s
            .apply(
                Command::AddItem(NewItem {
                    code: ItemCode::parse("flour", "code").unwrap(),
                    description: ProductDescription {
                        name: "x".into(),
                        ..Default::default()
                    },
                    unit: Unit::Kg,
                    kind: ItemKind::Ingredient,
                    gtin: None,
                    shelf_life_days: None,
                    ftl: false,
                    receiving_temp: TempRange::default(),
                }),
                &stamp(),
                today(),
            )
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "code: item FLOUR already exists; item codes are unique"
        );
        let e = ship(&s, "MILL", vec![]).unwrap_err();
        assert!(e.to_string().contains("not a customer"), "{e}");
    }

    /// The bakery of `bakery()`, recorded in one bulk load instead of one commit each.
    fn bulk_bakery(s: &super::Store) -> Result<[LotCode; 4], super::StoreError> {
        s.bulk(|b| {
            let (st, t) = (&stamp(), today());
            let receipt = |item: &str, sup: &str, slot: &str, qty: i64| NewReceipt {
                item: ItemCode::parse(item, "item").unwrap(),
                supplier: PartyId::parse(sup, "supplier").unwrap(),
                supplier_lot: SupplierLot::parse(slot, "supplier-lot").unwrap(),
                qty: Qty::from_units(qty),
                unit: None,
                date: t,
                expiry: None,
                reference: None,
                quality: Quality::default(),
                tlc_source_ref: None,
            };
            let batch = |item: &str, qty: i64, inputs: Vec<LotLine>| NewBatch {
                allow_expired: false,
                item: ItemCode::parse(item, "item").unwrap(),
                qty: Qty::from_units(qty),
                unit: None,
                date: t,
                line: None,
                reference: None,
                expiry: None,
                inputs,
            };
            let shipment = |to: &str, lines: Vec<LotLine>| NewShipment {
                allow_expired: false,
                customer: PartyId::parse(to, "customer").unwrap(),
                date: t,
                reference: None,
                lines,
            };
            let flour = b
                .apply(
                    Command::Receive(receipt("FLOUR", "MILL", "M-88", 1000)),
                    st,
                    t,
                )?
                .created()
                .unwrap()
                .code;
            let eggs = b
                .apply(
                    Command::Receive(receipt("EGGS", "FARM", "f-1121", 50)),
                    st,
                    t,
                )?
                .created()
                .unwrap()
                .code;
            let dough = b
                .apply(
                    Command::Produce(batch(
                        "DOUGH",
                        120,
                        vec![line(&flour, 100), line(&eggs, 10)],
                    )),
                    st,
                    t,
                )?
                .created()
                .unwrap()
                .code;
            let cookies = b
                .apply(
                    Command::Produce(batch("COOKIE", 40, vec![line(&dough, 120)])),
                    st,
                    t,
                )?
                .created()
                .unwrap()
                .code;
            b.apply(
                Command::Ship(shipment("SHOP", vec![line(&cookies, 15)])),
                st,
                t,
            )?;
            b.apply(
                Command::Ship(shipment("CAFE", vec![line(&cookies, 5)])),
                st,
                t,
            )?;
            assert_eq!(b.len(), 6);
            Ok([flour, eggs, dough, cookies])
        })
    }

    fn bakery_master_data(s: &super::Store) {
        add_item(s, "FLOUR", Unit::Kg, ItemKind::Ingredient);
        add_item(s, "EGGS", Unit::Dozen, ItemKind::Ingredient);
        add_item(s, "DOUGH", Unit::Kg, ItemKind::Intermediate);
        add_item(s, "COOKIE", Unit::Case, ItemKind::Finished);
        add_party(s, "MILL", Role::Supplier);
        add_party(s, "FARM", Role::Supplier);
        add_party(s, "SHOP", Role::Customer);
        add_party(s, "CAFE", Role::Customer);
    }

    #[test]
    fn a_bulk_load_stores_what_the_same_commands_store_one_by_one() {
        let (_d1, one, one_codes) = bakery();
        let (_d2, bulk) = temp_store();
        bakery_master_data(&bulk);
        let bulk_codes = bulk_bakery(&bulk).unwrap();
        assert_eq!(one_codes, bulk_codes);
        assert_eq!(one.stats().unwrap(), bulk.stats().unwrap());
        for code in &one_codes {
            assert_eq!(
                one.lot_history(code).unwrap(),
                bulk.lot_history(code).unwrap()
            );
            for dir in [Direction::Backward, Direction::Forward] {
                assert_eq!(
                    one.trace(code, dir).unwrap(),
                    bulk.trace(code, dir).unwrap()
                );
            }
        }
        assert!(bulk.check().unwrap().problems.is_empty());
    }

    #[test]
    fn a_failing_command_mid_bulk_stores_nothing() {
        let (_d, s) = temp_store();
        bakery_master_data(&s);
        let before = s.stats().unwrap();
        let over = |b: &mut super::Bulk<'_, '_>| {
            let flour = receive_in(b, "FLOUR", 10)?;
            // More than the lot holds: the third command fails after two succeeded.
            b.apply(
                Command::Produce(NewBatch {
                    allow_expired: false,
                    item: ItemCode::parse("DOUGH", "item").unwrap(),
                    qty: Qty::from_units(1),
                    unit: None,
                    date: today(),
                    line: None,
                    reference: None,
                    expiry: None,
                    inputs: vec![line(&flour, 11)],
                }),
                &stamp(),
                today(),
            )
        };
        let e = s.bulk(|b| {
            receive_in(b, "EGGS", 5)?;
            over(b)
        });
        assert!(e.unwrap_err().to_string().contains("more than lot"));
        assert_eq!(s.stats().unwrap(), before);

        // A loader that ignores the error and carries on still gets nothing stored, and
        // is told which command failed.
        let e = s
            .bulk(|b| {
                receive_in(b, "EGGS", 5)?;
                let _ = over(b);
                let later = receive_in(b, "EGGS", 5).unwrap_err();
                assert!(later.to_string().contains("command 3 failed"), "{later}");
                Ok(())
            })
            .unwrap_err();
        assert_eq!(
            e.to_string().split(" (").next(),
            Some("bulk: command 3 failed")
        );
        assert_eq!(s.stats().unwrap(), before);
        assert!(s.check().unwrap().problems.is_empty());
        // The sequence counter went back too: the next receipt gets the first code.
        assert_eq!(receive(&s, "FLOUR", "MILL", "A1", 1).as_str(), "R26325-001");
    }

    fn receive_in(
        b: &mut super::Bulk<'_, '_>,
        item: &str,
        qty: i64,
    ) -> Result<LotCode, super::StoreError> {
        b.apply(
            Command::Receive(NewReceipt {
                item: ItemCode::parse(item, "item").unwrap(),
                supplier: PartyId::parse("MILL", "supplier").unwrap(),
                supplier_lot: SupplierLot::parse("X", "supplier-lot").unwrap(),
                qty: Qty::from_units(qty),
                unit: None,
                date: today(),
                expiry: None,
                reference: None,
                quality: Quality::default(),
                tlc_source_ref: None,
            }),
            &stamp(),
            today(),
        )
        .map(|a| a.created().unwrap().code)
    }

    fn receive_checked(
        s: &super::Store,
        temp: Option<i32>,
        inspection: Option<Inspection>,
        note: &str,
    ) -> super::Created {
        s.apply(
            Command::Receive(NewReceipt {
                item: ItemCode::parse("MILK", "item").unwrap(),
                supplier: PartyId::parse("MILL", "supplier").unwrap(),
                supplier_lot: SupplierLot::parse("D-1", "supplier-lot").unwrap(),
                qty: Qty::from_units(20),
                unit: None,
                date: today(),
                expiry: None,
                reference: None,
                quality: Quality {
                    temperature_dc: temp,
                    inspection,
                    note: note.into(),
                },
                tlc_source_ref: None,
            }),
            &stamp(),
            today(),
        )
        .unwrap()
        .created()
        .unwrap()
    }

    #[test]
    fn failed_dock_checks_hold_the_new_lot_in_the_same_transaction() {
        let (_d, s) = temp_store();
        add_party(&s, "MILL", Role::Supplier);
        s.apply(
            Command::AddItem(NewItem {
                code: ItemCode::parse("MILK", "code").unwrap(),
                description: ProductDescription {
                    name: "Milk".into(),
                    ..Default::default()
                },
                unit: Unit::L,
                kind: ItemKind::Ingredient,
                gtin: None,
                shelf_life_days: None,
                ftl: false,
                receiving_temp: TempRange {
                    min_dc: Some(0),
                    max_dc: Some(50),
                },
            }),
            &stamp(),
            today(),
        )
        .unwrap();
        // Within range and passed: released, no status event.
        let ok = receive_checked(&s, Some(50), Some(Inspection::Pass), "");
        assert_eq!(ok.hold, None);
        assert_eq!(s.lot_by_code(&ok.code).unwrap().status, LotStatus::Released);
        assert_eq!(s.lot_history(&ok.code).unwrap().events.len(), 1);

        let warm = receive_checked(&s, Some(51), Some(Inspection::Pass), "");
        let why = warm.hold.clone().unwrap();
        assert!(
            why.contains("5.1 °C is above the item's maximum 5.0 °C"),
            "{why}"
        );
        let lot = s.lot_by_code(&warm.code).unwrap();
        assert_eq!(lot.status, LotStatus::Hold);
        let h = s.lot_history(&warm.code).unwrap();
        assert_eq!(h.events.len(), 2);
        match &h.events[1].event.kind {
            EventKind::Status {
                from, to, reason, ..
            } => {
                assert_eq!((*from, *to), (LotStatus::Released, LotStatus::Hold));
                assert_eq!(reason, &why);
            }
            other => panic!("expected a hold, got {other:?}"),
        }
        assert_eq!(h.events[1].event.stamp, stamp());

        let frozen = receive_checked(&s, Some(-5), None, "");
        assert!(
            frozen
                .hold
                .unwrap()
                .contains("below the item's minimum 0.0 °C")
        );

        let cracked = receive_checked(&s, None, Some(Inspection::Fail), "shells cracked");
        assert_eq!(
            cracked.hold.as_deref(),
            Some("receiving inspection failed (note: shells cracked)")
        );
        let both = receive_checked(&s, Some(190), Some(Inspection::Fail), "");
        assert!(both.hold.unwrap().contains("failed; temperature 19.0"));

        // A held lot cannot be used until QA releases it, and the books stay consistent.
        add_party(&s, "SHOP", Role::Customer);
        let e = ship(&s, "SHOP", vec![line(&cracked.code, 1)]).unwrap_err();
        assert!(e.to_string().contains("on hold"), "{e}");
        assert!(s.check().unwrap().problems.is_empty());
        // The receipt of a held lot can still be voided: a hold used nothing.
        let receipt = s.lot_by_code(&cracked.code).unwrap().event;
        s.apply(
            Command::Void(VoidEvent {
                event: receipt,
                date: today(),
                reason: "entered twice".into(),
            }),
            &stamp(),
            today(),
        )
        .unwrap();
        assert!(s.check().unwrap().problems.is_empty());
    }

    #[test]
    fn events_cannot_be_dated_before_the_lots_they_touch() {
        // Found in review: a lot received on the 21st could be shipped on the 1st.
        let (_d, s, [flour, _, _, cookies]) = bakery();
        let early = today().pred_opt().unwrap();
        let e = s
            .apply(
                Command::Ship(NewShipment {
                    allow_expired: false,
                    customer: PartyId::parse("SHOP", "c").unwrap(),
                    date: early,
                    reference: None,
                    lines: vec![line(&cookies, 1)],
                }),
                &stamp(),
                today(),
            )
            .unwrap_err();
        assert!(
            e.to_string().starts_with("date: ") && e.to_string().contains("before lot"),
            "{e}"
        );
        let e = s
            .apply(
                Command::Produce(NewBatch {
                    allow_expired: false,
                    item: ItemCode::parse("DOUGH", "i").unwrap(),
                    qty: Qty::from_units(1),
                    unit: None,
                    date: early,
                    line: None,
                    reference: None,
                    expiry: None,
                    inputs: vec![line(&flour, 1)],
                }),
                &stamp(),
                today(),
            )
            .unwrap_err();
        assert!(e.to_string().contains("before lot"), "{e}");
        let e = s
            .apply(
                Command::Adjust(Adjustment {
                    lot: flour.clone(),
                    delta: Qty::from_units(-1),
                    date: early,
                    reason: "count".into(),
                }),
                &stamp(),
                today(),
            )
            .unwrap_err();
        assert!(e.to_string().contains("before lot"), "{e}");
        let e = s
            .apply(
                Command::SetStatus(StatusChange {
                    lot: flour.clone(),
                    to: LotStatus::Hold,
                    date: early,
                    reason: "r".into(),
                }),
                &stamp(),
                today(),
            )
            .unwrap_err();
        assert!(e.to_string().contains("before lot"), "{e}");
    }

    #[test]
    fn a_batch_checks_its_quantity_and_expiry_like_a_receipt() {
        let (_d, s, [flour, ..]) = bakery();
        let batch = |qty: &str, unit, expiry| NewBatch {
            allow_expired: false,
            item: ItemCode::parse("DOUGH", "i").unwrap(),
            qty: qty.parse().unwrap(),
            unit,
            date: today(),
            line: None,
            reference: None,
            expiry,
            inputs: vec![line(&flour, 1)],
        };
        let e = s
            .apply(
                Command::Produce(batch("0.4", Some(Unit::G), None)),
                &stamp(),
                today(),
            )
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("qty: 0.4 g is less than 0.001 kg"),
            "{e}"
        );
        let e = s
            .apply(
                Command::Produce(batch(
                    "1",
                    None,
                    chrono::NaiveDate::from_ymd_opt(2000, 1, 1),
                )),
                &stamp(),
                today(),
            )
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("expiry: 2000-01-01 is before the batch date"),
            "{e}"
        );
        assert_eq!(
            s.lot_by_code(&flour).unwrap().balance,
            Qty::from_units(900),
            "nothing consumed"
        );
    }
}
