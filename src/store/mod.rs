//! The one embedded store: redb tables, record codec, schema version, the write commands
//! (each one transaction), read queries, trace traversal and the integrity check.

mod check;
mod codec;
mod error;
mod exchange;
mod graph;
#[cfg(test)]
mod props;
mod query;
mod recall;
mod tables;
mod trace;
mod write;

pub use check::{CheckReport, Problem};
pub use error::StoreError;
pub use exchange::MAX_PAGE;
pub use graph::LinkGraph;
pub use query::{AuditTrail, HistoryEntry, LotFilter, LotHistory, Stats};
pub use recall::{Delivery, RecallScope, ScopeCustomer};
pub use tables::SCHEMA_VERSION;
pub use trace::{Child, Direction, Reach, Trace, TraceIndex, TraceLink, TraceShipment};
pub use write::{Bulk, Created};

use redb::{
    ConcurrencyMode, Database, ReadOnlyDatabase, ReadTransaction, ReadableDatabase,
    ReadableMultimapTable, ReadableTable, ReadableTableMetadata, WriteTransaction,
};
use std::path::{Path, PathBuf};
use tables::*;

/// The redb handle: the one writer, or a read-only view that follows the writer's commits.
///
/// Every open uses redb's `SingleWriter` mode (DESIGN.md §4.5): one process — the server,
/// or a `--no-server` command — writes, and any number of processes read the file at the
/// same time through MVCC snapshots, never waiting for the writer.
pub(crate) enum Db {
    Writer(Database),
    Reader(ReadOnlyDatabase),
}

impl Db {
    pub(crate) fn begin_read(&self) -> Result<ReadTransaction, redb::TransactionError> {
        match self {
            Db::Writer(d) => d.begin_read(),
            Db::Reader(d) => d.begin_read(),
        }
    }

    fn begin_write(&self) -> Result<WriteTransaction, redb::TransactionError> {
        match self {
            Db::Writer(d) => d.begin_write(),
            // Callers check `writable()` first; this is the backstop.
            Db::Reader(_) => Err(redb::TransactionError::Storage(redb::StorageError::Io(
                std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    "the database is open read-only",
                ),
            ))),
        }
    }
}

/// How every lotline process opens the file: one writer, many readers (see [`Db`]).
fn builder() -> redb::Builder {
    let mut b = redb::Builder::new();
    b.set_concurrency_mode(ConcurrencyMode::SingleWriter);
    b
}

/// An open lotline database: the one writer of the file, or a read-only view of it.
pub struct Store {
    db: Db,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Open the database at `path`, creating and initialising it when `create` is set and
    /// no file is there. Reports files that are not lotline databases, damaged, in use, or
    /// from a newer version.
    pub fn open(path: &Path, create: bool) -> Result<Store, StoreError> {
        let exists = path.exists();
        if !exists && !create {
            return Err(StoreError::Missing {
                path: path.to_path_buf(),
            });
        }
        if exists && path.is_dir() {
            return Err(StoreError::NotLotline {
                path: path.to_path_buf(),
                detail: "it is a directory".into(),
            });
        }
        if !exists
            && let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Io(format!("cannot create folder {}: {e}", dir.display()))
            })?;
        }
        let db = open_redb(path, exists)?;
        let store = Store {
            db: Db::Writer(db),
            path: path.to_path_buf(),
        };
        // Reading the schema of a damaged file can trip redb's assertions; see open_redb.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.initialise())) {
            Ok(result) => result?,
            Err(_) => {
                return Err(StoreError::NotLotline {
                    path: path.to_path_buf(),
                    detail: "the file is damaged or not a database".into(),
                });
            }
        }
        Ok(store)
    }

    /// Open an existing database without ever writing to it: for read-only commands, which
    /// then run while another process writes, on a read-only copy and on a read-only mount.
    /// A file that needs recovery after a crash, or a schema upgrade, cannot be opened this
    /// way ([`StoreError::NeedsWriter`]): the writer (the server) does that on its open.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::Missing {
                    path: path.to_path_buf(),
                });
            }
            Err(e) => return Err(StoreError::Io(format!("{}: {e}", path.display()))),
            Ok(m) if m.is_dir() => {
                return Err(StoreError::NotLotline {
                    path: path.to_path_buf(),
                    detail: "it is a directory".into(),
                });
            }
            Ok(m) if !m.is_file() => {
                return Err(StoreError::NotLotline {
                    path: path.to_path_buf(),
                    detail: "it is not a regular file".into(),
                });
            }
            Ok(m) if m.len() == 0 => {
                return Err(StoreError::NotLotline {
                    path: path.to_path_buf(),
                    detail: "the file is empty".into(),
                });
            }
            Ok(_) => {}
        }
        use redb::DatabaseError as D;
        let attempt = std::panic::catch_unwind(|| builder().open_read_only(path));
        let db = match attempt {
            Ok(Ok(db)) => db,
            Ok(Err(D::DatabaseAlreadyOpen)) => {
                return Err(StoreError::InUse {
                    path: path.to_path_buf(),
                });
            }
            Ok(Err(D::RepairAborted)) => {
                return Err(StoreError::NeedsWriter {
                    path: path.to_path_buf(),
                    why: "it was not closed cleanly and must be recovered".into(),
                });
            }
            Ok(Err(D::Storage(redb::StorageError::Io(e))))
                if e.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                return Err(StoreError::Io(format!(
                    "{}: permission denied",
                    path.display()
                )));
            }
            Ok(Err(e)) => {
                return Err(StoreError::NotLotline {
                    path: path.to_path_buf(),
                    detail: format!("not a readable database file: {e}"),
                });
            }
            Err(_) => {
                return Err(StoreError::NotLotline {
                    path: path.to_path_buf(),
                    detail: "the file is damaged or not a database".into(),
                });
            }
        };
        let store = Store {
            db: Db::Reader(db),
            path: path.to_path_buf(),
        };
        let found =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.schema_version()))
                .unwrap_or_else(|_| {
                    Err(StoreError::NotLotline {
                        path: path.to_path_buf(),
                        detail: "the file is damaged or not a database".into(),
                    })
                })?;
        match found {
            None => Err(StoreError::NotLotline {
                path: path.to_path_buf(),
                detail: "it is not a lotline database".into(),
            }),
            Some(v) if v > SCHEMA_VERSION => Err(StoreError::NewerSchema {
                path: path.to_path_buf(),
                found: v,
                supported: SCHEMA_VERSION,
            }),
            Some(v) if v < SCHEMA_VERSION => Err(StoreError::NeedsWriter {
                path: path.to_path_buf(),
                why: format!("it is schema {v} and must be upgraded to {SCHEMA_VERSION}"),
            }),
            Some(_) => Ok(store),
        }
    }

    /// The schema version a file records, or `None` for a file with no lotline tables.
    fn schema_version(&self) -> Result<Option<u32>, StoreError> {
        let r = self.db.begin_read()?;
        match r.open_table(META) {
            Ok(meta) => {
                let Some(v) = meta.get("schema_version")? else {
                    return Ok(None);
                };
                let bytes: [u8; 4] = v.value().try_into().map_err(|_| StoreError::NotLotline {
                    path: self.path.clone(),
                    detail: "its schema version is unreadable".into(),
                })?;
                Ok(Some(u32::from_le_bytes(bytes)))
            }
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this handle may write (it is the file's one writer).
    pub fn writable(&self) -> bool {
        matches!(self.db, Db::Writer(_))
    }

    /// A write transaction, or a clear refusal on a read-only handle.
    pub(crate) fn begin_write(&self) -> Result<WriteTransaction, StoreError> {
        if !self.writable() {
            return Err(StoreError::ReadOnly {
                path: self.path.clone(),
            });
        }
        Ok(self.db.begin_write()?)
    }

    /// Close the file and report what closing found, instead of dropping it and losing
    /// the error (DESIGN.md §4.7). A panic inside redb while closing a damaged file is
    /// reported as damage, never a crash.
    pub fn close(self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let closed =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || match self.db {
                Db::Writer(d) => d.close(),
                Db::Reader(d) => d.close(),
            }));
        match closed {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Io(format!(
                "closing {} failed: {e}",
                path.display()
            ))),
            Err(_) => Err(StoreError::Damaged {
                detail: format!("closing {} failed; the file may be damaged", path.display()),
            }),
        }
    }

    /// Create every table and the schema version on a new file; on an existing one, check
    /// that it is a lotline database this version can read.
    fn initialise(&self) -> Result<(), StoreError> {
        let not_lotline = |detail: &str| StoreError::NotLotline {
            path: self.path.clone(),
            detail: detail.into(),
        };
        {
            let r = self.db.begin_read()?;
            match r.open_table(META) {
                Ok(meta) => {
                    let Some(v) = meta.get("schema_version")? else {
                        return Err(not_lotline("it has no schema version"));
                    };
                    let found = v
                        .value()
                        .try_into()
                        .map(u32::from_le_bytes)
                        .map_err(|_| not_lotline("its schema version is unreadable"))?;
                    if found > SCHEMA_VERSION {
                        return Err(StoreError::NewerSchema {
                            path: self.path.clone(),
                            found,
                            supported: SCHEMA_VERSION,
                        });
                    }
                    if found < SCHEMA_VERSION {
                        // Every page guard of this read must be gone before the write
                        // frees pages, or redb asserts.
                        drop(v);
                        drop(meta);
                        drop(r);
                        // Keep the file as it was: a migration is one transaction, but a copy
                        // is what lets a plant go back to the older lotline if it must.
                        let backup = self.path.with_extension(format!("schema{found}.bak"));
                        if !backup.exists() {
                            std::fs::copy(&self.path, &backup).map_err(|e| {
                                StoreError::Io(format!(
                                    "cannot back up {} before upgrading it: {e}",
                                    self.path.display()
                                ))
                            })?;
                        }
                        return self.migrate(found);
                    }
                    return Ok(());
                }
                Err(redb::TableError::TableDoesNotExist(_)) => {
                    if r.list_tables()?.next().is_some()
                        || r.list_multimap_tables()?.next().is_some()
                    {
                        return Err(not_lotline("it is a redb file with other tables"));
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        let w = self.begin_write()?;
        {
            let mut meta = w.open_table(META)?;
            meta.insert("schema_version", SCHEMA_VERSION.to_le_bytes().as_slice())?;
            meta.insert(
                "plant",
                codec::encode(&crate::domain::Plant::default()).as_slice(),
            )?;
            w.open_table(ITEMS)?;
            w.open_table(PARTIES)?;
            w.open_table(LOTS)?;
            w.open_table(LOT_CODES)?;
            w.open_table(EVENTS)?;
            w.open_table(EVENT_VOIDS)?;
            w.open_table(EVENTS_BY_DATE)?;
            w.open_multimap_table(LINKS_FWD)?;
            w.open_table(LINKS_REV)?;
            w.open_table(LOT_EVENTS)?;
            w.open_multimap_table(LOT_SHIPMENTS)?;
            w.open_table(SUPPLIER_LOTS)?;
            w.open_table(ITEM_LOTS)?;
            w.open_table(PARTY_EVENTS)?;
            w.open_table(EPCIS_EVENTS)?;
            w.open_table(ITEM_EVENTS)?;
        }
        w.commit()?;
        Ok(())
    }

    /// Bring a file written by an older lotline up to `SCHEMA_VERSION`, in one
    /// transaction: a failure leaves the file as it was.
    fn migrate(&self, from: u32) -> Result<(), StoreError> {
        let w = self.begin_write()?;
        if from < 2 {
            // lot_shipments held event ids only; rebuild it from the shipment events.
            w.delete_multimap_table(old::LOT_SHIPMENTS_V1)?;
            let mut ships = w.open_multimap_table(LOT_SHIPMENTS)?;
            let events = w.open_table(EVENTS)?;
            // In slices, holding no guard into `events` while `ships` grows: redb asserts
            // when a page is freed under a live guard, and a slice bounds the memory.
            let mut next = 0u64;
            loop {
                let mut slice: Vec<crate::domain::Event> = Vec::new();
                for e in events.range(next..)?.take(10_000) {
                    let (k, v) = e?;
                    next = k.value() + 1;
                    // Events are still as schemas 1 to 5 wrote them; step 6 re-encodes.
                    let old: old::EventV5 = codec::decode(v.value(), "events", &k.value())?;
                    slice.push(old.into());
                }
                if slice.is_empty() {
                    break;
                }
                for ev in &slice {
                    for (lot, line) in shipment_lines(ev) {
                        ships.insert(lot, line)?;
                    }
                }
            }
        }
        if from < 3 {
            // Four multimaps become (key, value) tables under new names: copied entry by
            // entry, then the old tables dropped.
            macro_rules! copy {
                ($old:expr, $new:expr) => {{
                    {
                        let from = w.open_multimap_table($old)?;
                        let mut to = w.open_table($new)?;
                        for e in from.iter()? {
                            let (k, vals) = e?;
                            for v in vals {
                                to.insert((k.value(), v?.value()), ())?;
                            }
                        }
                    }
                    w.delete_multimap_table($old)?;
                }};
            }
            copy!(old::LOT_EVENTS, LOT_EVENTS);
            copy!(old::SUPPLIER_LOTS, SUPPLIER_LOTS);
            copy!(old::ITEM_LOTS, ITEM_LOTS);
            copy!(old::PARTY_EVENTS, PARTY_EVENTS);
        }
        if from < 4 {
            // Reverse links: one packed value per batch instead of one multimap value per
            // input, under a new name.
            {
                let from = w.open_multimap_table(old::LINKS_REV)?;
                let mut to = w.open_table(LINKS_REV)?;
                for e in from.iter()? {
                    let (k, vals) = e?;
                    let mut inputs = vals
                        .map(|v| v.map(|v| v.value()))
                        .collect::<Result<Vec<_>, _>>()?;
                    to.insert(k.value(), pack_inputs(&mut inputs).as_slice())?;
                }
            }
            w.delete_multimap_table(old::LINKS_REV)?;
        }
        if from < 5 {
            // Items gain a receiving temperature range and a retirement, parties a
            // retirement: every record re-encoded with both empty.
            {
                let mut items = w.open_table(ITEMS)?;
                let mut upgraded = Vec::new();
                for e in items.iter()? {
                    let (k, v) = e?;
                    let old: old::ItemV4 = codec::decode(v.value(), "items", &k.value())?;
                    upgraded.push(old.upgrade());
                }
                for i in upgraded {
                    items.insert(i.code.as_str(), codec::encode(&i).as_slice())?;
                }
                let mut parties = w.open_table(PARTIES)?;
                let mut upgraded = Vec::new();
                for e in parties.iter()? {
                    let (k, v) = e?;
                    let old: old::PartyV4 = codec::decode(v.value(), "parties", &k.value())?;
                    upgraded.push(old.upgrade());
                }
                for p in upgraded {
                    parties.insert(p.id.as_str(), codec::encode(&p).as_slice())?;
                }
            }
            w.open_table(ITEM_EVENTS)?;
        }
        if from < 6 {
            // Receipts gained the quantity as received and the TLC source reference:
            // every receive event is decoded as it was and written again. Only receive
            // events change, so the rest are left as they are (same bytes either way).
            let mut events = w.open_table(EVENTS)?;
            let mut next = 0u64;
            loop {
                // In slices, holding no guard while writing (see step 2).
                let mut slice: Vec<(u64, Vec<u8>)> = Vec::new();
                let mut seen = 0;
                for e in events.range(next..)?.take(10_000) {
                    let (k, v) = e?;
                    next = k.value() + 1;
                    seen += 1;
                    let old: old::EventV5 = codec::decode(v.value(), "events", &k.value())?;
                    if matches!(old.kind, old::EventKindV5::Receive(_)) {
                        let new: crate::domain::Event = old.into();
                        slice.push((k.value(), codec::encode(&new)));
                    }
                }
                if seen == 0 {
                    break;
                }
                for (k, bytes) in &slice {
                    events.insert(k, bytes.as_slice())?;
                }
            }
        }
        w.open_table(META)?
            .insert("schema_version", SCHEMA_VERSION.to_le_bytes().as_slice())?;
        w.commit()?;
        Ok(())
    }

    /// Counts of what the database holds.
    pub fn stats(&self) -> Result<Stats, StoreError> {
        let r = self.db.begin_read()?;
        Ok(Stats {
            items: r.open_table(ITEMS)?.len()?,
            parties: r.open_table(PARTIES)?.len()?,
            lots: r.open_table(LOTS)?.len()?,
            events: r.open_table(EVENTS)?.len()?,
            links: r.open_multimap_table(LINKS_FWD)?.len()?,
        })
    }
}

fn open_redb(path: &Path, existed: bool) -> Result<Database, StoreError> {
    use redb::DatabaseError as D;
    // redb's own recovery may panic on some malformed files; a panic must not reach the
    // user as a crash, so it is caught and reported like any other unreadable file.
    let attempt = std::panic::catch_unwind(|| builder().create(path));
    match attempt {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(D::DatabaseAlreadyOpen)) => Err(StoreError::InUse {
            path: path.to_path_buf(),
        }),
        Ok(Err(D::Storage(redb::StorageError::Io(e))))
            if e.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            Err(StoreError::Io(format!(
                "{}: permission denied",
                path.display()
            )))
        }
        Ok(Err(D::Storage(redb::StorageError::Io(e))))
            if e.kind() == std::io::ErrorKind::WouldBlock =>
        {
            Err(StoreError::InUse {
                path: path.to_path_buf(),
            })
        }
        Ok(Err(e)) if existed => Err(StoreError::NotLotline {
            path: path.to_path_buf(),
            detail: format!("not a readable database file: {e}"),
        }),
        Ok(Err(e)) => Err(StoreError::Io(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
        Err(_) => Err(StoreError::NotLotline {
            path: path.to_path_buf(),
            detail: "the file is damaged or not a database".into(),
        }),
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    use super::*;
    use crate::domain::*;
    use chrono::{NaiveDate, TimeZone, Utc};

    pub fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    pub fn stamp() -> Stamp {
        Stamp {
            operator: "ana".into(),
            station: "dock-1".into(),
            at: Utc.with_ymd_and_hms(2026, 11, 21, 8, 0, 0).unwrap(),
        }
    }

    pub fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("t.lotline"), true).unwrap();
        (dir, s)
    }

    pub fn add_item(s: &Store, code: &str, unit: Unit, kind: ItemKind) {
        s.add_item(
            NewItem {
                code: ItemCode::parse(code, "code").unwrap(),
                description: ProductDescription {
                    name: format!("{code} name"),
                    ..Default::default()
                },
                unit,
                kind,
                gtin: None,
                shelf_life_days: Some(30),
                ftl: false,
                receiving_temp: TempRange::default(),
            },
            &stamp(),
        )
        .unwrap();
    }

    pub fn add_party(s: &Store, id: &str, role: Role) {
        s.add_party(
            NewParty {
                id: PartyId::parse(id, "id").unwrap(),
                role,
                location: Location {
                    business_name: format!("{id} Inc"),
                    ..Default::default()
                },
                gln: None,
                recall_contact: Contact::default(),
            },
            &stamp(),
        )
        .unwrap();
    }

    pub fn receive(s: &Store, item: &str, supplier: &str, slot: &str, qty: i64) -> LotCode {
        s.receive(
            NewReceipt {
                item: ItemCode::parse(item, "item").unwrap(),
                supplier: PartyId::parse(supplier, "supplier").unwrap(),
                supplier_lot: SupplierLot::parse(slot, "supplier-lot").unwrap(),
                qty: Qty::from_units(qty),
                unit: None,
                date: today(),
                expiry: None,
                reference: None,
                quality: Quality::default(),
                tlc_source_ref: None,
            },
            &stamp(),
            today(),
        )
        .unwrap()
        .code
    }

    pub fn line(lot: &LotCode, qty: i64) -> LotLine {
        LotLine {
            lot: lot.clone(),
            qty: Qty::from_units(qty),
        }
    }

    pub fn produce(
        s: &Store,
        item: &str,
        qty: i64,
        inputs: Vec<LotLine>,
    ) -> Result<LotCode, StoreError> {
        s.produce(
            NewBatch {
                allow_expired: false,
                item: ItemCode::parse(item, "item").unwrap(),
                qty: Qty::from_units(qty),
                unit: None,
                date: today(),
                line: None,
                reference: None,
                expiry: None,
                inputs,
            },
            &stamp(),
            today(),
        )
        .map(|c| c.code)
    }

    pub fn ship(s: &Store, customer: &str, lines: Vec<LotLine>) -> Result<u64, StoreError> {
        s.ship(
            NewShipment {
                allow_expired: false,
                customer: PartyId::parse(customer, "customer").unwrap(),
                date: today(),
                reference: None,
                lines,
            },
            &stamp(),
            today(),
        )
    }

    /// A small bakery: flour and eggs → dough → cookies → shipped to two customers.
    pub fn bakery() -> (tempfile::TempDir, Store, [LotCode; 4]) {
        let (d, s) = temp_store();
        add_item(&s, "FLOUR", Unit::Kg, ItemKind::Ingredient);
        add_item(&s, "EGGS", Unit::Dozen, ItemKind::Ingredient);
        add_item(&s, "DOUGH", Unit::Kg, ItemKind::Intermediate);
        add_item(&s, "COOKIE", Unit::Case, ItemKind::Finished);
        add_party(&s, "MILL", Role::Supplier);
        add_party(&s, "FARM", Role::Supplier);
        add_party(&s, "SHOP", Role::Customer);
        add_party(&s, "CAFE", Role::Customer);
        let flour = receive(&s, "FLOUR", "MILL", "M-88", 1000);
        let eggs = receive(&s, "EGGS", "FARM", "f-1121", 50);
        let dough = produce(&s, "DOUGH", 120, vec![line(&flour, 100), line(&eggs, 10)]).unwrap();
        let cookies = produce(&s, "COOKIE", 40, vec![line(&dough, 120)]).unwrap();
        ship(&s, "SHOP", vec![line(&cookies, 15)]).unwrap();
        ship(&s, "CAFE", vec![line(&cookies, 5)]).unwrap();
        (d, s, [flour, eggs, dough, cookies])
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::*;
    use super::*;

    /// Re-encode every event as schemas 1 to 5 stored it.
    fn events_to_v5(w: &redb::WriteTransaction) {
        let mut t = w.open_table(EVENTS).unwrap();
        let all: Vec<(u64, crate::domain::Event)> = t
            .iter()
            .unwrap()
            .map(|e| {
                let (k, v) = e.unwrap();
                (k.value(), codec::decode(v.value(), "events", &0).unwrap())
            })
            .collect();
        for (k, e) in all {
            let old: old::EventV5 = e.into();
            t.insert(k, codec::encode(&old).as_slice()).unwrap();
        }
    }

    /// Rewrite `s`'s file as schema 5 had it: receipts without the quantity as received
    /// or a TLC source reference.
    fn downgrade_to_v5(s: &Store) {
        let w = s.db.begin_write().unwrap();
        events_to_v5(&w);
        w.open_table(META)
            .unwrap()
            .insert("schema_version", 5u32.to_le_bytes().as_slice())
            .unwrap();
        w.commit().unwrap();
    }

    /// Re-encode items and parties as schemas 1 to 4 had them, and drop the item history.
    fn downgrade_records_to_v4(w: &redb::WriteTransaction) {
        {
            let mut items = w.open_table(ITEMS).unwrap();
            let all: Vec<crate::domain::Item> = items
                .iter()
                .unwrap()
                .map(|e| codec::decode(e.unwrap().1.value(), "items", &"").unwrap())
                .collect();
            for i in all {
                let old = old::ItemV4 {
                    code: i.code.clone(),
                    description: i.description,
                    unit: i.unit,
                    kind: i.kind,
                    gtin: i.gtin,
                    shelf_life_days: i.shelf_life_days,
                    ftl: i.ftl,
                    created: i.created,
                };
                items
                    .insert(i.code.as_str(), codec::encode(&old).as_slice())
                    .unwrap();
            }
            let mut parties = w.open_table(PARTIES).unwrap();
            let all: Vec<crate::domain::Party> = parties
                .iter()
                .unwrap()
                .map(|e| codec::decode(e.unwrap().1.value(), "parties", &"").unwrap())
                .collect();
            for p in all {
                let old = old::PartyV4 {
                    id: p.id.clone(),
                    role: p.role,
                    location: p.location,
                    gln: p.gln,
                    recall_contact: p.recall_contact,
                    created: p.created,
                };
                parties
                    .insert(p.id.as_str(), codec::encode(&old).as_slice())
                    .unwrap();
            }
        }
        w.delete_table(ITEM_EVENTS).unwrap();
    }

    #[test]
    fn a_schema_4_file_is_migrated_on_open() {
        let (dir, s, [_, eggs, ..]) = bakery();
        let items = s.items().unwrap();
        let parties = s.parties().unwrap();
        let mut history = s.lot_history(&eggs).unwrap();
        // Schema 4 kept no quantity as received either (schema 6 added it).
        for e in &mut history.events {
            if let crate::domain::EventKind::Receive(r) = &mut e.event.kind {
                r.as_received = None;
            }
        }
        let w = s.db.begin_write().unwrap();
        downgrade_records_to_v4(&w);
        events_to_v5(&w);
        w.open_table(META)
            .unwrap()
            .insert("schema_version", 4u32.to_le_bytes().as_slice())
            .unwrap();
        w.commit().unwrap();
        let path = s.path().to_path_buf();
        drop(s);
        let s = Store::open(&path, false).unwrap();
        assert_eq!(s.items().unwrap(), items);
        assert_eq!(s.parties().unwrap(), parties);
        assert!(
            items
                .iter()
                .all(|i| i.retired.is_none() && i.receiving_temp.is_open())
        );
        assert_eq!(s.lot_history(&eggs).unwrap(), history);
        assert!(s.check().unwrap().problems.is_empty());
        assert!(path.with_extension("schema4.bak").exists());
        drop(dir);
    }

    /// Rewrite `s`'s file as schema 1 had it: multimap indexes, and a shipment index of
    /// event ids only.
    fn downgrade_to_v1(s: &Store) {
        let w = s.db.begin_write().unwrap();
        events_to_v5(&w);
        downgrade_records_to_v4(&w);
        {
            let mut lines = Vec::new();
            let table = w.open_multimap_table(LOT_SHIPMENTS).unwrap();
            for e in table.iter().unwrap() {
                let (k, vals) = e.unwrap();
                for v in vals {
                    lines.push((k.value(), v.unwrap().value().0));
                }
            }
            drop(table);
            w.delete_multimap_table(LOT_SHIPMENTS).unwrap();
            let mut t = w.open_multimap_table(old::LOT_SHIPMENTS_V1).unwrap();
            for (lot, event) in lines {
                t.insert(lot, event).unwrap();
            }
            let mut t = w.open_multimap_table(old::LINKS_REV).unwrap();
            for e in w.open_table(LINKS_REV).unwrap().iter().unwrap() {
                let (k, v) = e.unwrap();
                for input in unpack_inputs(v.value()).unwrap() {
                    t.insert(k.value(), input).unwrap();
                }
            }
            let mut t = w.open_multimap_table(old::LOT_EVENTS).unwrap();
            for e in w.open_table(LOT_EVENTS).unwrap().iter().unwrap() {
                let (l, ev) = e.unwrap().0.value();
                t.insert(l, ev).unwrap();
            }
            let mut t = w.open_multimap_table(old::SUPPLIER_LOTS).unwrap();
            for e in w.open_table(SUPPLIER_LOTS).unwrap().iter().unwrap() {
                let e = e.unwrap();
                let (k, l) = e.0.value();
                t.insert(k, l).unwrap();
            }
            let mut t = w.open_multimap_table(old::ITEM_LOTS).unwrap();
            for e in w.open_table(ITEM_LOTS).unwrap().iter().unwrap() {
                let e = e.unwrap();
                let (k, l) = e.0.value();
                t.insert(k, l).unwrap();
            }
            let mut t = w.open_multimap_table(old::PARTY_EVENTS).unwrap();
            for e in w.open_table(PARTY_EVENTS).unwrap().iter().unwrap() {
                let e = e.unwrap();
                let (k, ev) = e.0.value();
                t.insert(k, ev).unwrap();
            }
            w.open_table(META)
                .unwrap()
                .insert("schema_version", 1u32.to_le_bytes().as_slice())
                .unwrap();
        }
        w.delete_table(LINKS_REV).unwrap();
        w.delete_table(LOT_EVENTS).unwrap();
        w.delete_table(SUPPLIER_LOTS).unwrap();
        w.delete_table(ITEM_LOTS).unwrap();
        w.delete_table(PARTY_EVENTS).unwrap();
        w.commit().unwrap();
    }

    #[test]
    fn a_schema_1_file_is_migrated_on_open() {
        let (dir, s, [flour, eggs, dough, cookies]) = bakery();
        let traces = |s: &Store| {
            [&flour, &eggs, &dough, &cookies].map(|l| s.trace(l, Direction::Both).unwrap())
        };
        let histories =
            |s: &Store| [&flour, &eggs, &dough, &cookies].map(|l| s.lot_history(l).unwrap());
        let by_supplier_lot = |s: &Store| {
            s.find_lots(&LotFilter {
                supplier_lot: Some("f-1121".into()),
                ..Default::default()
            })
            .unwrap()
        };
        let shop = crate::domain::PartyId::parse("SHOP", "party").unwrap();
        // Schema 1 kept no quantity as received: after the migration it is `None`.
        let mut old_histories = histories(&s);
        for h in &mut old_histories {
            for e in &mut h.events {
                if let crate::domain::EventKind::Receive(r) = &mut e.event.kind {
                    r.as_received = None;
                }
            }
        }
        let before = (
            traces(&s),
            old_histories,
            by_supplier_lot(&s),
            s.party_events(&shop).unwrap(),
            s.stats().unwrap(),
        );
        assert_eq!(before.0[1].shipments.len(), 2);
        assert_eq!(before.2.len(), 1);
        downgrade_to_v1(&s);
        let path = s.path().to_path_buf();
        drop(s);
        let s = Store::open(&path, false).unwrap();
        {
            // The file as it was is kept beside it, still a schema-1 database.
            let bak = redb::Database::open(path.with_extension("schema1.bak")).unwrap();
            let r = bak.begin_read().unwrap();
            let meta = r.open_table(META).unwrap();
            let v = meta.get("schema_version").unwrap().unwrap();
            assert_eq!(v.value(), 1u32.to_le_bytes().as_slice());
        }
        let after = (
            traces(&s),
            histories(&s),
            by_supplier_lot(&s),
            s.party_events(&shop).unwrap(),
            s.stats().unwrap(),
        );
        assert_eq!(after, before);
        assert!(s.check().unwrap().problems.is_empty());
        // The old tables are gone.
        let r = s.db.begin_read().unwrap();
        let mut multimaps: Vec<String> = r
            .list_multimap_tables()
            .unwrap()
            .map(|t| redb::MultimapTableHandle::name(&t).to_string())
            .collect();
        multimaps.sort();
        assert_eq!(multimaps, ["links_fwd", "lot_shipments"]);
        drop(r);
        let r = s.db.begin_read().unwrap();
        let v = r.open_table(META).unwrap().get("schema_version").unwrap();
        assert_eq!(v.unwrap().value(), SCHEMA_VERSION.to_le_bytes());
        drop(dir);
    }

    #[test]
    fn a_schema_5_file_keeps_its_receipts_without_an_as_received_quantity() {
        let (_dir, s, [flour, eggs, dough, cookies]) = bakery();
        let lots = [&flour, &eggs, &dough, &cookies];
        let traces = |s: &Store| lots.map(|l| s.trace(l, Direction::Both).unwrap());
        let before_traces = traces(&s);
        let before: Vec<crate::domain::Event> = lots
            .iter()
            .flat_map(|l| s.lot_history(l).unwrap().events)
            .map(|h| h.event)
            .collect();
        downgrade_to_v5(&s);
        let path = s.path().to_path_buf();
        drop(s);
        let s = Store::open(&path, false).unwrap();
        assert!(path.with_extension("schema5.bak").exists());
        assert_eq!(traces(&s), before_traces);
        let after: Vec<crate::domain::Event> = lots
            .iter()
            .flat_map(|l| s.lot_history(l).unwrap().events)
            .map(|h| h.event)
            .collect();
        assert_eq!(after.len(), before.len());
        let mut receipts = 0;
        for (a, b) in after.iter().zip(&before) {
            match (&a.kind, &b.kind) {
                (crate::domain::EventKind::Receive(ra), crate::domain::EventKind::Receive(rb)) => {
                    receipts += 1;
                    // What schema 5 never kept is not made up; the rest is as it was.
                    assert_eq!(ra.as_received, None);
                    assert!(rb.as_received.is_some());
                    let mut rb = rb.clone();
                    rb.as_received = None;
                    assert_eq!(ra, &rb);
                }
                _ => assert_eq!(a, b),
            }
        }
        assert_eq!(receipts, 2);
        assert!(s.check().unwrap().problems.is_empty());
        // New receipts on the migrated file keep what was counted.
        let lot = receive(&s, "FLOUR", "MILL", "M-89", 3);
        let h = s.lot_history(&lot).unwrap();
        let crate::domain::EventKind::Receive(r) = &h.events[0].event.kind else {
            panic!("not a receipt");
        };
        assert!(r.as_received.is_some());
    }

    #[test]
    fn readers_open_beside_the_writer_and_never_write() {
        let (dir, s, _) = bakery();
        let path = s.path().to_path_buf();
        // Beside the open writer, a read-only handle sees what it committed.
        let r = Store::open_read_only(&path).unwrap();
        assert!(!r.writable());
        assert_eq!(r.stats().unwrap(), s.stats().unwrap());
        let e = r.set_plant(&crate::domain::Plant::default()).unwrap_err();
        assert!(matches!(e, StoreError::ReadOnly { .. }), "{e}");
        // A reader follows the writer's later commits.
        let before = r.stats().unwrap().items;
        test_util::add_item(
            &s,
            "SALT",
            crate::domain::Unit::Kg,
            crate::domain::ItemKind::Ingredient,
        );
        assert_eq!(r.stats().unwrap().items, before + 1);
        r.close().unwrap();
        s.close().unwrap();
        // Reads leave the file's bytes as they were, also with no writer open.
        let bytes = std::fs::read(&path).unwrap();
        let r = Store::open_read_only(&path).unwrap();
        r.stats().unwrap();
        r.check().unwrap();
        r.close().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        // A read-only file can be traced.
        let mut perms = std::fs::metadata(&path).unwrap().permissions();
        perms.set_readonly(true);
        std::fs::set_permissions(&path, perms).unwrap();
        let r = Store::open_read_only(&path).unwrap();
        assert!(r.stats().unwrap().lots > 0);
        drop(dir);
    }

    #[test]
    fn read_only_opens_refuse_what_is_not_a_plant() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.redb");
        assert!(matches!(
            Store::open_read_only(&missing),
            Err(StoreError::Missing { .. })
        ));
        assert!(!missing.exists());
        let empty = dir.path().join("empty.redb");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(
            Store::open_read_only(&empty),
            Err(StoreError::NotLotline { .. })
        ));
        assert_eq!(std::fs::read(&empty).unwrap(), b"");
        assert!(matches!(
            Store::open_read_only(dir.path()),
            Err(StoreError::NotLotline { .. })
        ));
        let foreign = dir.path().join("foreign.redb");
        std::fs::write(&foreign, b"hello, not a database").unwrap();
        assert!(matches!(
            Store::open_read_only(&foreign),
            Err(StoreError::NotLotline { .. })
        ));
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let (_dir, s, _) = bakery();
        let w = s.db.begin_write().unwrap();
        w.open_table(META)
            .unwrap()
            .insert("schema_version", 99u32.to_le_bytes().as_slice())
            .unwrap();
        w.commit().unwrap();
        let path = s.path().to_path_buf();
        drop(s);
        let e = Store::open(&path, false).unwrap_err();
        assert!(
            matches!(e, StoreError::NewerSchema { found: 99, .. }),
            "{e}"
        );
    }
}
