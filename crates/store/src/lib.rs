//! The one embedded store: redb tables, record codec, schema version, the write commands
//! (each one transaction), read queries, trace traversal and the integrity check.

mod audit;
pub mod backup;
mod check;
mod check_recipes;
mod codec;
mod drafts;
mod error;
mod exchange;
#[cfg(any(test, feature = "test-util"))]
pub mod full_disk;
mod graph;
mod integrity;
mod kde;
pub mod plantgen;
#[cfg(test)]
mod props;
mod query;
mod recall;
mod recipe;
mod tables;
mod trace;
mod write;

pub use audit::MAX_REFUSALS;
pub use error::StoreError;
pub use graph::LinkGraph;
pub use tables::SCHEMA_VERSION;
pub use write::{Applied, Bulk, Created};

use lotline_domain::Stats;
use redb::{
    ConcurrencyMode, Database, ReadOnlyDatabase, ReadTransaction, ReadableDatabase,
    ReadableMultimapTable, ReadableTable, ReadableTableMetadata, WriteTransaction,
};
use std::path::{Path, PathBuf};
use tables::*;

/// The redb handle: the one writer, or a read-only view that follows the writer's commits.
///
/// Every open uses redb's `SingleWriter` mode (docs/server.md): one process — the server,
/// or a `--no-server` command — writes, and any number of processes read the file at the
/// same time through MVCC snapshots, never waiting for the writer.
pub(crate) enum Db {
    Writer(Database),
    Reader(ReadOnlyDatabase),
    /// The writer, closed after a write failed (a full disk, an I/O error) and not yet
    /// opened again: the next request opens it again (see [`Handle`]).
    Lost,
    /// After `close`, or when the handle was let go without closing (see `Store::drop`).
    Closed,
}

impl Db {
    fn begin_read(&self) -> Result<ReadTransaction, redb::TransactionError> {
        match self {
            Db::Writer(d) => d.begin_read(),
            Db::Reader(d) => d.begin_read(),
            Db::Lost | Db::Closed => Err(redb::TransactionError::Storage(
                redb::StorageError::DatabaseClosed,
            )),
        }
    }

    fn begin_write(&self) -> Result<WriteTransaction, redb::TransactionError> {
        match self {
            Db::Writer(d) => d.begin_write(),
            // Callers check `writable()` first; this is the backstop.
            Db::Reader(_) | Db::Lost | Db::Closed => Err(redb::TransactionError::Storage(
                redb::StorageError::Io(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    "the database is open read-only",
                )),
            )),
        }
    }
}

/// How the writer opens the file: redb on the file itself, or (in tests) redb over a
/// storage backend that makes the disk fill up on demand.
pub(crate) type OpenWriter =
    std::sync::Arc<dyn Fn(&Path) -> Result<Database, redb::DatabaseError> + Send + Sync>;

fn file_writer() -> OpenWriter {
    std::sync::Arc::new(|path: &Path| builder().create(path))
}

/// The writer on the file with a page cache of `bytes` (redb's default is 1 GiB).
fn file_writer_cached(bytes: usize) -> OpenWriter {
    std::sync::Arc::new(move |path: &Path| {
        let mut b = builder();
        b.set_cache_size(bytes);
        b.create(path)
    })
}

/// The open database, and how to open it again.
///
/// After one failed write (a full disk, an I/O error) redb refuses everything on that
/// handle until it is closed ("previous I/O error"). A station that stays up — the app,
/// the server — must not refuse every later save until it is restarted (docs/architecture.md, "Trust in the file"):
/// so the next request closes the failed handle and opens the file again, which also runs
/// redb's recovery. The file itself was never changed by the failed commit.
pub(crate) struct Handle {
    db: std::sync::RwLock<Db>,
    writer: bool,
    path: PathBuf,
    open_writer: OpenWriter,
    /// Counts the times the writer was opened again, so that of several threads that saw
    /// the same failure only the first opens it again.
    generation: std::sync::atomic::AtomicU64,
}

impl Handle {
    fn new(db: Db, path: &Path, open_writer: OpenWriter) -> Handle {
        Handle {
            writer: matches!(db, Db::Writer(_)),
            db: std::sync::RwLock::new(db),
            path: path.to_path_buf(),
            open_writer,
            generation: Default::default(),
        }
    }

    fn lock(&self) -> std::sync::RwLockReadGuard<'_, Db> {
        // A panic while the lock was held (caught by the station) leaves the handle as it
        // was: redb's state is its own, not half-changed by us.
        self.db
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn begin_read(&self) -> Result<ReadTransaction, StoreError> {
        let seen = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        let first = self.lock().begin_read();
        match first {
            Err(e) if self.needs_reopen(&e) => {
                self.reopen(seen)?;
                Ok(self.lock().begin_read()?)
            }
            other => Ok(other?),
        }
    }

    fn begin_write(&self) -> Result<WriteTransaction, StoreError> {
        let seen = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        let first = self.lock().begin_write();
        match first {
            Err(e) if self.needs_reopen(&e) => {
                self.reopen(seen)?;
                Ok(self.lock().begin_write()?)
            }
            other => Ok(other?),
        }
    }

    /// Whether `e` says the writer failed earlier and must be opened again.
    fn needs_reopen(&self, e: &redb::TransactionError) -> bool {
        self.writer
            && match e {
                redb::TransactionError::Storage(redb::StorageError::PreviousIo) => true,
                _ => matches!(*self.lock(), Db::Lost),
            }
    }

    /// Close the failed writer and open the file again, unless another thread already did
    /// since `seen`, or the store was closed.
    fn reopen(&self, seen: u64) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        let mut db = self
            .db
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.generation.load(SeqCst) != seen {
            return Ok(());
        }
        match std::mem::replace(&mut *db, Db::Lost) {
            // Closing a failed handle reports the failure again; it is already known.
            Db::Writer(d) => {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| d.close()));
            }
            Db::Lost => {}
            other => {
                *db = other;
                return Ok(());
            }
        }
        match open_redb(&self.path, true, &self.open_writer) {
            Ok(d) => {
                *db = Db::Writer(d);
                self.generation.fetch_add(1, SeqCst);
                Ok(())
            }
            Err(e) => Err(StoreError::Io(format!(
                "an earlier write to {} failed and the file could not be opened again ({e}); free space on its disk, or fix what failed, and try again",
                self.path.display()
            ))),
        }
    }

    /// Take the handle out, to close it; the store is closed from then on.
    fn take(&mut self) -> Db {
        let db = self
            .db
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::replace(db, Db::Closed)
    }

    fn is_closed(&self) -> bool {
        matches!(*self.lock(), Db::Closed)
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
    db: Handle,
    path: PathBuf,
    /// Set once damage was seen (a redb panic caught, a corrupted page reported): from
    /// then on nothing more is written to the file, not even redb's bookkeeping on close,
    /// so a damaged file is never made worse (docs/architecture.md, "Trust in the file").
    damaged: std::sync::atomic::AtomicBool,
    /// Why, when the check at open found it (a file served read-only): said to every
    /// write refused.
    damage: std::sync::Mutex<Option<String>>,
}

/// Closing failures of stores that were dropped rather than closed, for the program to
/// report on its way out (a destructor has no one to return an error to).
static CLOSE_FAILURES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// What went wrong closing stores that were dropped since the last call.
pub fn take_close_failures() -> Vec<String> {
    CLOSE_FAILURES
        .lock()
        .map(|mut v| std::mem::take(&mut *v))
        .unwrap_or_default()
}

impl Drop for Store {
    /// A store let go without `close` is closed here, with redb's panics caught: redb
    /// commits its allocator state on close, which can panic on a damaged file, and a
    /// panic in a destructor while unwinding aborts the process. A damaged store is not
    /// closed at all (its handle is leaked; the OS releases the file at exit), so nothing
    /// more is written to it.
    fn drop(&mut self) {
        if self.db.is_closed() {
            return;
        }
        if let Err(e) = self.close_now()
            && let Ok(mut v) = CLOSE_FAILURES.lock()
        {
            v.push(e.to_string());
        }
    }
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
        Store::open_with(path, create, file_writer())
    }

    /// [`Store::open`] with a page cache of `cache_bytes`: the server's, which holds the
    /// link graph in memory and leaves lot pages to the operating system's cache, so its
    /// resident memory is the graph plus this cache rather than up to redb's 1 GiB
    /// (BENCHMARKS.md, "Server memory").
    pub fn open_cached(path: &Path, create: bool, cache_bytes: usize) -> Result<Store, StoreError> {
        Store::open_with(path, create, file_writer_cached(cache_bytes))
    }

    /// [`Store::open`], with the writer's storage opened by `open_writer`.
    pub(crate) fn open_with(
        path: &Path,
        create: bool,
        open_writer: OpenWriter,
    ) -> Result<Store, StoreError> {
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
        if path.extension().is_some_and(|e| e == "bak") {
            // A backup is kept as it was taken: even opening it for writing changes its
            // bytes, and upgrading it would destroy the very copy that lets a plant go back.
            return Err(StoreError::Invalid(lotline_domain::Invalid::new(
                "db",
                format!(
                    "{} is a backup; lotline never writes to it. Read it (trace, lots, check), or copy it to a new name and open the copy",
                    path.display()
                ),
            )));
        }
        if exists {
            refuse_non_database(path)?;
            // Before redb opens it for writing, which writes at once (see `integrity`).
            integrity::refuse_unsound(path)?;
        } else {
            if let Some(dir) = path.parent()
                && !dir.as_os_str().is_empty()
            {
                // Folders made for a plant are its owner's alone (0700): the records are
                // reached through the server's socket, never by reading the file.
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| {
                        StoreError::Io(format!("cannot create folder {}: {e}", dir.display()))
                    })?;
            }
            create_new(path, &open_writer)?;
        }
        let db = open_redb(path, true, &open_writer)?;
        let store = Store {
            db: Handle::new(Db::Writer(db), path, open_writer),
            path: path.to_path_buf(),
            damaged: Default::default(),
            damage: Default::default(),
        };
        // Reading the schema of a damaged file can trip redb's assertions; see open_redb.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.initialise())) {
            Ok(Err(e)) => {
                if matches!(e, StoreError::Damaged { .. }) {
                    store.mark_damaged();
                }
                return Err(e);
            }
            Ok(Ok(())) => {}
            Err(_) => {
                store.mark_damaged();
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
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(StoreError::NoAccess {
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
                return Err(StoreError::NoAccess {
                    path: path.to_path_buf(),
                });
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
            db: Handle::new(Db::Reader(db), path, file_writer()),
            path: path.to_path_buf(),
            damaged: Default::default(),
            damage: Default::default(),
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
        self.db.writer
    }

    /// Why nothing is written to this file, once damage was seen on it: what a refused
    /// write says, and what a read that fails on such a file says instead of the I/O
    /// error it ends in.
    pub fn damage_refusal(&self) -> Option<StoreError> {
        let why = self.damage.lock().map(|w| w.clone()).unwrap_or(None);
        if let Some(why) = why {
            return Some(StoreError::FailedCheck {
                path: self.path.clone(),
                why,
            });
        }
        self.is_damaged().then(|| StoreError::Damaged {
            detail: format!(
                "{} was found damaged, so lotline writes nothing more to it; restore it from a backup, or copy what is readable with `lotline salvage {} NEW.redb`",
                self.path.display(),
                self.path.display()
            ),
        })
    }

    /// A write transaction, or a clear refusal on a read-only handle.
    pub(crate) fn begin_write(&self) -> Result<WriteTransaction, StoreError> {
        // Damage first: a damaged file served read-only refuses a write for that reason.
        if let Some(refused) = self.damage_refusal() {
            return Err(refused);
        }
        if !self.writable() {
            return Err(StoreError::ReadOnly {
                path: self.path.clone(),
            });
        }
        self.db.begin_write()
    }

    /// Close the file and report what closing found, instead of dropping it and losing
    /// the error (docs/architecture.md, "Trust in the file"). A panic inside redb while closing a damaged file is
    /// reported as damage, never a crash.
    pub fn close(mut self) -> Result<(), StoreError> {
        self.close_now()
    }

    /// Mark the file damaged: nothing more is written to it by this handle.
    pub fn mark_damaged(&self) {
        self.damaged
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Mark the file damaged because it failed its check (`why`): every write refused
    /// says so.
    pub fn mark_failed_check(&self, why: String) {
        self.mark_damaged();
        if let Ok(mut w) = self.damage.lock() {
            *w = Some(why);
        }
    }

    /// Whether damage was seen on this handle.
    pub fn is_damaged(&self) -> bool {
        self.damaged.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn close_now(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let db = self.db.take();
        if self.is_damaged() {
            // Closing commits redb's allocator state: on a damaged file that is a write
            // that can destroy what is left. Let the handle go unclosed instead.
            std::mem::forget(db);
            return Ok(());
        }
        let closed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || match db {
            Db::Writer(d) => d.close(),
            Db::Reader(d) => d.close(),
            Db::Lost | Db::Closed => Ok(()),
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
                        backup_before_migration(&self.path, found)?;
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
                codec::encode(&lotline_domain::Plant::default()).as_slice(),
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
            w.open_table(MOCK_RECALLS)?;
            w.open_table(SETTINGS_CHANGES)?;
            w.open_table(REFUSALS)?;
            open_recipe_tables(&w)?;
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
                let mut slice: Vec<lotline_domain::Event> = Vec::new();
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
                        let new: lotline_domain::Event = old.into();
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
        if from < 7 {
            // Returns and mock recall records are new event kinds: only their index.
            w.open_table(MOCK_RECALLS)?;
        }
        // 8: label data kept with receipts is a new event kind; nothing to copy.
        if from < 9 {
            // Recipes and allergens: new tables, empty. Items without either behave as
            // before; a lot with no allergen entry carries none.
            open_recipe_tables(&w)?;
        }
        if from < 10 {
            // The plant's settings gained the hours drafts are kept: the one record is
            // read as it was and written with the default.
            let mut meta = w.open_table(META)?;
            let old: Option<old::PlantV9> = match meta.get("plant")? {
                Some(v) => Some(codec::decode(v.value(), "meta", &"plant")?),
                None => None,
            };
            if let Some(p) = old {
                meta.insert("plant", codec::encode(&p.upgrade()).as_slice())?;
            }
        }
        if from < 11 {
            // The plant's settings gained the label size: the one record re-encoded with
            // the size every label had before (4x2 inches at 203 dpi).
            let mut meta = w.open_table(META)?;
            let old = match meta.get("plant")? {
                Some(v) => Some(codec::decode::<old::PlantV10>(v.value(), "meta", &"plant")?),
                None => None,
            };
            if let Some(old) = old {
                meta.insert("plant", codec::encode(&old.upgrade()).as_slice())?;
            }
        }
        w.open_table(META)?
            .insert("schema_version", SCHEMA_VERSION.to_le_bytes().as_slice())?;
        w.commit()?;
        Ok(())
    }

    /// The roles file the plant was last served with (`lotline serve --roles FILE`): what
    /// every later server and `--no-server` command of this plant checks writes against
    /// when nothing else names one (see `station::roles`).
    pub fn roles_file(&self) -> Result<Option<PathBuf>, StoreError> {
        use std::os::unix::ffi::OsStrExt;
        let r = self.read()?;
        Ok(r.open_table(META)?
            .get("roles_file")?
            .map(|v| PathBuf::from(std::ffi::OsStr::from_bytes(v.value()))))
    }

    /// Keep `file` as the plant's roles file; nothing is written when it is already.
    pub fn record_roles_file(&self, file: &Path) -> Result<(), StoreError> {
        use std::os::unix::ffi::OsStrExt;
        if self.roles_file()?.as_deref() == Some(file) {
            return Ok(());
        }
        let w = self.begin_write()?;
        w.open_table(META)?
            .insert("roles_file", file.as_os_str().as_bytes())?;
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

/// A file that exists but cannot be a database is refused before redb sees it: a 0-byte
/// file would otherwise be turned into an empty plant, a FIFO would hang the open.
fn refuse_non_database(path: &Path) -> Result<(), StoreError> {
    let not = |detail: &str| StoreError::NotLotline {
        path: path.to_path_buf(),
        detail: detail.into(),
    };
    let m =
        std::fs::metadata(path).map_err(|e| StoreError::Io(format!("{}: {e}", path.display())))?;
    if m.is_dir() {
        return Err(not("it is a directory"));
    }
    if !m.is_file() {
        return Err(not("it is not a regular file"));
    }
    if m.len() == 0 {
        return Err(not(
            "the file is empty; if a new plant was meant, remove the empty file and record something to create one",
        ));
    }
    Ok(())
}

/// Create a new, initialised database at `path` whole or not at all: built under a
/// temporary name beside it, synced, then linked into place (never over a file that
/// appeared meanwhile). A full disk or a kill leaves no half-made file at `path` for a
/// later command to call "not a lotline database".
/// The tables of recipes and allergens (schema 9), created empty by a new file and by the
/// migration of an older one.
fn open_recipe_tables(w: &redb::WriteTransaction) -> Result<(), StoreError> {
    w.open_table(RECIPES)?;
    w.open_table(ITEM_ALLERGENS)?;
    w.open_table(LOT_ALLERGENS)?;
    w.open_table(ALLERGEN_LOTS)?;
    w.open_table(BATCH_RECIPES)?;
    w.open_table(LINE_LOG)?;
    w.open_table(ALLERGEN_HOLDS)?;
    Ok(())
}

fn create_new(path: &Path, open_writer: &OpenWriter) -> Result<(), StoreError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "lotline.redb".into());
    let tmp = path.with_file_name(format!(".{name}.new-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let built = (|| {
        private_file(&tmp)?;
        let db = open_redb(&tmp, false, open_writer)?;
        let store = Store {
            db: Handle::new(Db::Writer(db), &tmp, open_writer.clone()),
            path: tmp.clone(),
            damaged: Default::default(),
            damage: Default::default(),
        };
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.initialise()))
            .unwrap_or_else(|_| Err(StoreError::Io("creating the database failed".into())))?;
        store.close()?;
        sync_file(&tmp)?;
        match link_no_replace(&tmp, path) {
            Ok(()) => Ok(()),
            // Another process created it meanwhile: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(StoreError::Io(format!(
                "cannot create {}: {e}",
                path.display()
            ))),
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    if let Some(dir) = path.parent() {
        sync_dir(dir);
    }
    built.map_err(|e| match e {
        StoreError::Io(m) => StoreError::Io(format!(
            "cannot create {}: {m}; nothing was written",
            path.display()
        )),
        other => other,
    })
}

/// Make the empty file a new database is built in, readable and writable by its owner
/// only (0600) whatever the umask: anyone who can read the file reads every record,
/// bypassing the server's roles. Never through a link left at the temporary name.
fn private_file(tmp: &Path) -> Result<(), StoreError> {
    lotline_files::private_file(tmp)
        .map(drop)
        .map_err(|e| StoreError::Io(format!("cannot create {}: {e}", tmp.display())))
}

/// fsync a file's contents.
pub(crate) fn sync_file(path: &Path) -> Result<(), StoreError> {
    lotline_files::sync_file(path)
        .map_err(|e| StoreError::Io(format!("cannot sync {}: {e}", path.display())))
}

pub(crate) use lotline_files::{link_no_replace, sync_dir};

/// Copy `src` to `dest` whole or not at all: to a temporary name, synced, compared byte for
/// byte with the source, then renamed. `dest` must not exist.
pub(crate) fn copy_verified(src: &Path, dest: &Path) -> Result<u64, StoreError> {
    use std::io::Read;
    let io = |what: &str, e: std::io::Error| StoreError::Io(format!("{what}: {e}"));
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dest.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let bytes = std::fs::copy(src, &tmp).map_err(|e| {
            io(
                &format!("cannot copy {} to {}", src.display(), tmp.display()),
                e,
            )
        })?;
        sync_file(&tmp)?;
        let (mut a, mut b) = (
            std::io::BufReader::new(
                std::fs::File::open(src).map_err(|e| io(&src.display().to_string(), e))?,
            ),
            std::io::BufReader::new(
                std::fs::File::open(&tmp).map_err(|e| io(&tmp.display().to_string(), e))?,
            ),
        );
        let (mut x, mut y) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
        loop {
            let n = a
                .read(&mut x)
                .map_err(|e| io("cannot verify the copy", e))?;
            let mut got = 0;
            while got < n {
                let m = b
                    .read(&mut y[got..n])
                    .map_err(|e| io("cannot verify the copy", e))?;
                if m == 0 {
                    break;
                }
                got += m;
            }
            if got != n || x[..n] != y[..n] {
                return Err(StoreError::Io(format!(
                    "the copy of {} at {} differs from it (disk full, or the file changed while it was copied)",
                    src.display(),
                    tmp.display()
                )));
            }
            if n == 0 {
                break;
            }
        }
        // No-replace: a file that appeared at `dest` meanwhile is kept.
        link_no_replace(&tmp, dest)
            .map_err(|e| io(&format!("cannot put the copy at {}", dest.display()), e))?;
        Ok(bytes)
    })();
    let _ = std::fs::remove_file(&tmp);
    if let Some(dir) = dest.parent() {
        sync_dir(dir);
    }
    result
}

/// Before a migration, keep the file as it was at `NAME.schemaN.bak`, verified whole. An
/// existing backup is kept: if it is not this very file (an earlier copy cut short, or an
/// older state), the new one goes to `NAME.schemaN.2.bak` and so on, so nothing is lost
/// and no cut-short copy is taken for a whole one.
fn backup_before_migration(path: &Path, found: u32) -> Result<PathBuf, StoreError> {
    for n in 1..100 {
        let ext = if n == 1 {
            format!("schema{found}.bak")
        } else {
            format!("schema{found}.{n}.bak")
        };
        let backup = path.with_extension(ext);
        if backup.exists() {
            if same_bytes(path, &backup) {
                return Ok(backup);
            }
            continue;
        }
        copy_verified(path, &backup).map_err(|e| {
            StoreError::Io(format!(
                "cannot back up {} before upgrading it, so it was left as it was: {e}",
                path.display()
            ))
        })?;
        return Ok(backup);
    }
    Err(StoreError::Io(format!(
        "{} has 99 backups beside it already; move them away before upgrading",
        path.display()
    )))
}

/// Whether two files hold the same bytes (false on any error).
fn same_bytes(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) if x.len() == y.len() => {}
        _ => return false,
    }
    match (std::fs::read(a), std::fs::read(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn open_redb(path: &Path, existed: bool, open: &OpenWriter) -> Result<Database, StoreError> {
    use redb::DatabaseError as D;
    // redb's own recovery may panic on some malformed files; a panic must not reach the
    // user as a crash, so it is caught and reported like any other unreadable file.
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| open(path)));
    match attempt {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(D::DatabaseAlreadyOpen)) => Err(StoreError::InUse {
            path: path.to_path_buf(),
        }),
        Ok(Err(D::Storage(redb::StorageError::Io(e))))
            if e.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            Err(StoreError::NoAccess {
                path: path.to_path_buf(),
            })
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

/// Test plants for this crate's tests and, with the `test-util` feature, other crates'.
#[cfg(any(test, feature = "test-util"))]
pub mod test_util {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};
    use lotline_domain::api::Command;
    use lotline_domain::*;

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
        s.apply(
            Command::AddItem(NewItem {
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
            }),
            &stamp(),
            today(),
        )
        .unwrap();
    }

    pub fn add_party(s: &Store, id: &str, role: Role) {
        s.apply(
            Command::AddParty(NewParty {
                id: PartyId::parse(id, "id").unwrap(),
                role,
                location: Location {
                    business_name: format!("{id} Inc"),
                    ..Default::default()
                },
                gln: None,
                recall_contact: Contact::default(),
            }),
            &stamp(),
            today(),
        )
        .unwrap();
    }

    /// A plain receipt of `qty` units of `item` from `supplier`'s lot `slot`, today.
    pub fn new_receipt(item: &str, supplier: &str, slot: &str, qty: i64) -> NewReceipt {
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
        }
    }

    pub fn receive(s: &Store, item: &str, supplier: &str, slot: &str, qty: i64) -> LotCode {
        s.apply(
            Command::Receive(new_receipt(item, supplier, slot, qty)),
            &stamp(),
            today(),
        )
        .unwrap()
        .created()
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
        s.apply(
            Command::Produce(NewBatch {
                allow_expired: false,
                item: ItemCode::parse(item, "item").unwrap(),
                qty: Qty::from_units(qty),
                unit: None,
                date: today(),
                line: None,
                reference: None,
                expiry: None,
                inputs,
            }),
            &stamp(),
            today(),
        )
        .map(|a| a.created().unwrap().code)
    }

    pub fn ship(s: &Store, customer: &str, lines: Vec<LotLine>) -> Result<u64, StoreError> {
        s.apply(
            Command::Ship(NewShipment {
                allow_expired: false,
                customer: PartyId::parse(customer, "customer").unwrap(),
                date: today(),
                reference: None,
                lines,
            }),
            &stamp(),
            today(),
        )
        .map(|a| a.event().unwrap())
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
mod tests;
