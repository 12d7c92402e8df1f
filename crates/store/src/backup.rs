//! Copies of a plant's database, record by record: `backup` (a consistent copy while
//! stations keep working), `salvage` (everything still readable from a damaged file), and
//! the table-by-table scan `check` uses on a file that fails redb's integrity check.
//!
//! A copy is built under a temporary name beside its destination, synced, linked into
//! place (never over an existing file) and verified, so it is whole or absent.

use super::tables::*;
use super::{Store, StoreError, link_no_replace, sync_dir, sync_file};
use redb::{
    Database, MultimapTableDefinition, MultimapTableHandle, ReadTransaction, ReadableDatabase,
    ReadableMultimapTable, ReadableTable, TableDefinition, TableHandle, WriteTransaction,
};
use std::path::{Path, PathBuf};

/// What a backup or salvage copied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Where the copy is.
    pub path: PathBuf,
    /// Records copied, by table, in the order tables are listed in `tables.rs`.
    pub tables: Vec<(String, u64)>,
    /// What could not be read: table and where (empty for a backup, which fails instead).
    pub unreadable: Vec<String>,
    /// Size of the copy in bytes.
    pub bytes: u64,
}

impl CopyReport {
    pub fn records(&self) -> u64 {
        self.tables.iter().map(|t| t.1).sum()
    }
}

/// Every table of the current schema, plain or multimap: a copy copies exactly these, and
/// a table the file holds that is not listed here stops a backup rather than being lost.
macro_rules! each_table {
    ($plain:ident, $multi:ident) => {
        $plain!(META);
        $plain!(ITEMS);
        $plain!(PARTIES);
        $plain!(LOTS);
        $plain!(LOT_CODES);
        $plain!(EVENTS);
        $plain!(EVENT_VOIDS);
        $plain!(EVENTS_BY_DATE);
        $multi!(LINKS_FWD);
        $plain!(LINKS_REV);
        $plain!(LOT_EVENTS);
        $multi!(LOT_SHIPMENTS);
        $plain!(SUPPLIER_LOTS);
        $plain!(ITEM_LOTS);
        $plain!(PARTY_EVENTS);
        $plain!(ITEM_EVENTS);
        $plain!(EPCIS_EVENTS);
        $plain!(MOCK_RECALLS);
        $plain!(SETTINGS_CHANGES);
        $plain!(REFUSALS);
        $plain!(RECIPES);
        $plain!(ITEM_ALLERGENS);
        $plain!(LOT_ALLERGENS);
        $plain!(ALLERGEN_LOTS);
        $plain!(BATCH_RECIPES);
        $plain!(LINE_LOG);
        $plain!(ALLERGEN_HOLDS);
        $plain!(DRAFTS);
    };
}

fn known_tables() -> Vec<&'static str> {
    let mut names = Vec::new();
    macro_rules! name {
        ($t:ident) => {
            names.push($t.name());
        };
    }
    each_table!(name, name);
    names
}

/// How a copy treats a record it cannot read: a backup stops (a backup with a hole is no
/// backup), a salvage notes it and goes on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Strict,
    Tolerant,
}

/// A panic inside redb (damaged pages trip its assertions) as an error message.
fn caught<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| {
        Err(p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "redb stopped on a damaged page".into()))
    })
}

/// Copy one plain table. In tolerant mode a table that stops reading part way is read
/// again from its end, so records on both sides of a damaged page are kept.
fn copy_plain<K: redb::Key + 'static, V: redb::Value + 'static>(
    r: &ReadTransaction,
    w: Option<&WriteTransaction>,
    def: TableDefinition<'static, K, V>,
    mode: Mode,
    unreadable: &mut Vec<String>,
) -> Result<u64, String> {
    let name = def.name().to_string();
    let mut count = 0u64;
    let mut dst = match w {
        Some(w) => Some(w.open_table(def).map_err(|e| format!("{name}: {e}"))?),
        None => None,
    };
    let forward = caught(|| {
        let src = match r.open_table(def) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok((true, None)),
            Err(e) => return Err(e.to_string()),
        };
        let mut last: Option<String> = None;
        for e in src.iter().map_err(|e| e.to_string())? {
            let (k, v) = match e {
                Ok(kv) => kv,
                Err(e) => return Ok((false, Some(format!("{e} (after key {last:?})")))),
            };
            if let Some(d) = dst.as_mut() {
                d.insert(k.value(), v.value()).map_err(|e| e.to_string())?;
            }
            last = Some(format!("{:?}", k.value()));
            count += 1;
        }
        Ok((true, None))
    });
    let (whole, why) = match forward {
        Ok(x) => x,
        Err(e) => (false, Some(e)),
    };
    if whole {
        return Ok(count);
    }
    let why = why.unwrap_or_default();
    if mode == Mode::Strict {
        return Err(format!("table {name}: {why}"));
    }
    // From the other end, until the damage again.
    let mut back = 0u64;
    let _ = caught(|| {
        let src = r.open_table(def).map_err(|e| e.to_string())?;
        for e in src.iter().map_err(|e| e.to_string())?.rev() {
            let Ok((k, v)) = e else { break };
            if let Some(d) = dst.as_mut() {
                d.insert(k.value(), v.value()).map_err(|e| e.to_string())?;
            }
            back += 1;
        }
        Ok(())
    });
    unreadable.push(format!(
        "table {name}: could not read past a damaged page ({why}); {count} records read from its start, {back} from its end"
    ));
    Ok(count + back)
}

fn copy_multi<K: redb::Key + 'static, V: redb::Key + 'static>(
    r: &ReadTransaction,
    w: Option<&WriteTransaction>,
    def: MultimapTableDefinition<'static, K, V>,
    mode: Mode,
    unreadable: &mut Vec<String>,
) -> Result<u64, String> {
    let name = def.name().to_string();
    let mut count = 0u64;
    let mut dst = match w {
        Some(w) => Some(
            w.open_multimap_table(def)
                .map_err(|e| format!("{name}: {e}"))?,
        ),
        None => None,
    };
    let result = caught(|| {
        let src = match r.open_multimap_table(def) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        };
        for e in src.iter().map_err(|e| e.to_string())? {
            let (k, vals) = e.map_err(|e| e.to_string())?;
            for v in vals {
                let v = v.map_err(|e| format!("{e} (key {:?})", k.value()))?;
                if let Some(d) = dst.as_mut() {
                    d.insert(k.value(), v.value()).map_err(|e| e.to_string())?;
                }
                count += 1;
            }
        }
        Ok(())
    });
    match (result, mode) {
        (Ok(()), _) => Ok(count),
        (Err(e), Mode::Strict) => Err(format!("table {name}: {e}")),
        (Err(e), Mode::Tolerant) => {
            unreadable.push(format!(
                "table {name}: could not read past a damaged page ({e}); {count} values read"
            ));
            Ok(count)
        }
    }
}

/// Records copied by table, and what could not be read.
type Copied = (Vec<(String, u64)>, Vec<String>);

/// Copy every known table from `r` into `w` (or only read them, with no `w`).
fn copy_all(
    r: &ReadTransaction,
    w: Option<&WriteTransaction>,
    mode: Mode,
) -> Result<Copied, String> {
    let mut unreadable = Vec::new();
    // Tables this lotline does not know would be lost by a copy: stop, or say so.
    let known = known_tables();
    let mut names: Vec<String> = Vec::new();
    match caught(|| {
        let mut v: Vec<String> = r
            .list_tables()
            .map_err(|e| e.to_string())?
            .map(|t| t.name().to_string())
            .collect();
        v.extend(
            r.list_multimap_tables()
                .map_err(|e| e.to_string())?
                .map(|t| t.name().to_string()),
        );
        Ok(v)
    }) {
        Ok(v) => names = v,
        Err(e) if mode == Mode::Tolerant => {
            unreadable.push(format!("the list of tables could not be read ({e})"))
        }
        Err(e) => return Err(e),
    }
    for n in names.iter().filter(|n| !known.contains(&n.as_str())) {
        let msg = format!("table {n} is not one this lotline knows; it was not copied");
        match mode {
            Mode::Strict => {
                return Err(format!(
                    "{msg} (a newer lotline made this file? back it up with that version)"
                ));
            }
            Mode::Tolerant => unreadable.push(msg),
        }
    }
    let mut tables = Vec::new();
    macro_rules! plain {
        ($t:ident) => {{
            let n = copy_plain(r, w, $t, mode, &mut unreadable)?;
            tables.push(($t.name().to_string(), n));
        }};
    }
    macro_rules! multi {
        ($t:ident) => {{
            let n = copy_multi(r, w, $t, mode, &mut unreadable)?;
            tables.push(($t.name().to_string(), n));
        }};
    }
    each_table!(plain, multi);
    Ok((tables, unreadable))
}

/// A private folder for a temporary file: a fresh name nobody can guess, made with
/// `mkdir` (which never reuses or follows what is there) and mode 0700, so nobody else can
/// put a link, a FIFO or a file of theirs at the names used inside it, nor read what is
/// copied there. Removed with everything in it when dropped.
pub struct Private {
    dir: tempfile::TempDir,
}

impl Private {
    /// In `dir` (beside a destination, so a finished copy is linked into place on the same
    /// file system).
    pub fn beside(dest: &Path) -> Result<Private, StoreError> {
        let dir = dest
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        tempfile::Builder::new()
            .prefix(".lotline-")
            .tempdir_in(dir)
            .map(|dir| Private { dir })
            .map_err(|e| {
                StoreError::Io(format!(
                    "cannot make a private folder in {} to build the copy: {e}",
                    dir.display()
                ))
            })
    }

    /// In the system's temporary folder (`$TMPDIR`, else /tmp), for copies only this
    /// process reads.
    pub fn temporary() -> Result<Private, String> {
        tempfile::Builder::new()
            .prefix(".lotline-")
            .tempdir()
            .map(|dir| Private { dir })
            .map_err(|e| {
                format!(
                    "cannot make a private folder in {} for a working copy: {e}",
                    std::env::temp_dir().display()
                )
            })
    }

    /// A name inside the folder.
    pub fn join(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A private copy of the file at `path`, to read where redb may have to repair it.
    pub fn copy_of(path: &Path) -> Result<(Private, PathBuf), String> {
        let private = Private::temporary()?;
        let work = private.join("copy.redb");
        std::fs::copy(path, &work)
            .map_err(|e| format!("cannot copy {} to read it: {e}", path.display()))?;
        Ok((private, work))
    }
}

/// Build a new database at `dest` from the read transaction `r`, whole or not at all.
fn write_copy(r: &ReadTransaction, dest: &Path, mode: Mode) -> Result<CopyReport, StoreError> {
    if dest.exists() || dest.symlink_metadata().is_ok() {
        return Err(StoreError::Invalid(lotline_domain::Invalid::new(
            "file",
            format!(
                "{} already exists; lotline never overwrites a file: name a new one",
                dest.display()
            ),
        )));
    }
    if let Some(dir) = dest.parent()
        && !dir.as_os_str().is_empty()
        && !dir.is_dir()
    {
        return Err(StoreError::Io(format!(
            "folder {} does not exist",
            dir.display()
        )));
    }
    let private = Private::beside(dest)?;
    let tmp = private.join("copy.redb");
    let built = (|| -> Result<Copied, StoreError> {
        // A copy holds every record: its owner's alone (0600), whatever the umask.
        super::private_file(&tmp)?;
        let db = Database::create(&tmp)
            .map_err(|e| StoreError::Io(format!("cannot create {}: {e}", tmp.display())))?;
        let w = db.begin_write()?;
        let (tables, unreadable) =
            copy_all(r, Some(&w), mode).map_err(|e| StoreError::Damaged {
                detail: format!("the copy stopped: {e}"),
            })?;
        w.commit()?;
        db.close()
            .map_err(|e| StoreError::Io(format!("closing the copy failed: {e}")))?;
        sync_file(&tmp)?;
        link_no_replace(&tmp, dest).map_err(|e| {
            StoreError::Io(format!("cannot put the copy at {}: {e}", dest.display()))
        })?;
        Ok((tables, unreadable))
    })();
    drop(private);
    if let Some(dir) = dest.parent() {
        sync_dir(dir);
    }
    let (tables, unreadable) = built?;
    // Verify: the copy opens as a lotline database and holds what was copied.
    let check = Store::open_read_only(dest)?;
    let (again, _) = {
        let r2 = check.db.begin_read()?;
        copy_all(&r2, None, Mode::Strict).map_err(|e| StoreError::Damaged {
            detail: format!("the copy at {} does not read back: {e}", dest.display()),
        })?
    };
    check.close()?;
    if again != tables {
        return Err(StoreError::Damaged {
            detail: format!(
                "the copy at {} does not hold what was copied into it",
                dest.display()
            ),
        });
    }
    let bytes = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
    Ok(CopyReport {
        path: dest.to_path_buf(),
        tables,
        unreadable,
        bytes,
    })
}

/// Write a consistent copy of the open database to `dest` (which must not exist): every
/// record as of one read snapshot, so stations keep working while it is taken. The copy is
/// built under a temporary name, synced, linked into place and read back before this
/// returns. Used by `lotline backup` and by the server's rolling backups.
pub fn write_backup(store: &Store, dest: &Path) -> Result<CopyReport, StoreError> {
    let r = store.db.begin_read()?;
    let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        write_copy(&r, dest, Mode::Strict)
    }))
    .unwrap_or_else(|_| {
        store.mark_damaged();
        Err(StoreError::Damaged {
            detail: format!(
                "{} could not be read whole for a backup",
                store.path().display()
            ),
        })
    })?;
    Ok(report)
}

/// Copy every record still readable from the damaged file at `damaged` into a new database
/// at `dest`, and say what could not be read. `damaged` is never written: redb may need to
/// repair a file to read it, so it reads a private copy.
pub fn salvage(damaged: &Path, dest: &Path) -> Result<CopyReport, StoreError> {
    if !damaged.is_file() {
        return Err(StoreError::NotLotline {
            path: damaged.to_path_buf(),
            detail: "it is not a regular file".into(),
        });
    }
    if dest.exists() {
        return Err(StoreError::Invalid(lotline_domain::Invalid::new(
            "new",
            format!(
                "{} already exists; salvage writes a new file: name one that does not exist",
                dest.display()
            ),
        )));
    }
    let private = Private::beside(dest)?;
    let work = private.join("source.redb");
    std::fs::copy(damaged, &work).map_err(|e| {
        StoreError::Io(format!("cannot copy {} to read it: {e}", damaged.display()))
    })?;
    let result = (|| -> Result<CopyReport, StoreError> {
        let db = caught(|| Database::open(&work).map_err(|e| e.to_string())).map_err(|e| {
            StoreError::NotLotline {
                path: damaged.to_path_buf(),
                detail: format!("redb cannot open it at all ({e}); nothing can be salvaged"),
            }
        })?;
        let r = db.begin_read()?;
        let report = caught(|| write_copy(&r, dest, Mode::Tolerant).map_err(|e| e.to_string()))
            .map_err(|e| StoreError::Damaged {
                detail: format!("salvage stopped: {e}"),
            })?;
        drop(r);
        // The work copy is thrown away: a close that fails on it changes nothing.
        let _ = caught(|| db.close().map_err(|e| e.to_string()));
        Ok(report)
    })();
    drop(private);
    result
}

/// Read every table of the file at `path` table by table, as salvage would, and list what
/// cannot be read. `path` is not written (a private copy is read). For `check` on a file
/// that fails redb's integrity check.
pub fn scan_tables(path: &Path) -> Vec<String> {
    let (private, work) = match Private::copy_of(path) {
        Ok(w) => w,
        Err(e) => return vec![e],
    };
    let out = caught(|| {
        let db = Database::open(&work).map_err(|e| e.to_string())?;
        let r = db.begin_read().map_err(|e| e.to_string())?;
        let (_, unreadable) = copy_all(&r, None, Mode::Tolerant)?;
        drop(r);
        let _ = db.close();
        Ok(unreadable)
    })
    .unwrap_or_else(|e| {
        vec![format!(
            "redb cannot open the file to read its tables ({e})"
        )]
    });
    drop(private);
    out
}

/// redb's own integrity check (page checksums, tree structure, allocator state), run on a
/// private copy so the file itself is never repaired or written. `None` when it passes.
pub fn redb_integrity(path: &Path) -> Option<String> {
    let (private, work) = match Private::copy_of(path) {
        Ok(w) => w,
        Err(e) => return Some(e),
    };
    let out = caught(|| {
        let mut db = Database::open(&work).map_err(|e| format!("it does not open: {e}"))?;
        let ok = db.check_integrity().map_err(|e| e.to_string())?;
        let _ = db.close();
        Ok(ok)
    });
    drop(private);
    match out {
        Ok(true) => None,
        Ok(false) => Some(
            "redb found damage it could repair only by dropping part of the file (a page checksum or its allocator state is wrong)".into(),
        ),
        Err(e) => Some(format!("redb's integrity check failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::*;

    #[test]
    fn a_backup_holds_every_record_and_checks_clean() {
        let (dir, s, [flour, _, _, cookies]) = bakery();
        let dest = dir.path().join("copy.redb");
        let rep = write_backup(&s, &dest).unwrap();
        assert!(rep.records() > 20, "{rep:?}");
        assert!(rep.unreadable.is_empty());
        let b = Store::open_read_only(&dest).unwrap();
        assert_eq!(b.stats().unwrap(), s.stats().unwrap());
        assert_eq!(
            b.trace(&cookies, lotline_domain::Direction::Both).unwrap(),
            s.trace(&cookies, lotline_domain::Direction::Both).unwrap()
        );
        assert_eq!(
            b.lot_history(&flour).unwrap(),
            s.lot_history(&flour).unwrap()
        );
        assert!(b.check().unwrap().problems.is_empty());
        assert!(redb_integrity(&dest).is_none());
        // Never over an existing file.
        let before = std::fs::read(&dest).unwrap();
        assert!(write_backup(&s, &dest).is_err());
        assert!(std::fs::read(&dest).unwrap() == before);
        // Nothing temporary left behind.
        for e in std::fs::read_dir(dir.path()).unwrap() {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(!n.starts_with('.'), "{n}");
        }
    }

    #[test]
    fn every_table_a_new_file_has_is_copied() {
        let (_d, s) = temp_store();
        let r = s.db.begin_read().unwrap();
        let mut names: Vec<String> = r.list_tables().unwrap().map(|t| t.name().into()).collect();
        names.extend(r.list_multimap_tables().unwrap().map(|t| t.name().into()));
        let known = known_tables();
        for n in names {
            assert!(
                known.contains(&n.as_str()),
                "backup.rs does not copy table {n}"
            );
        }
    }

    #[test]
    fn salvage_keeps_what_a_damaged_file_still_holds() {
        let (dir, s, _) = bakery();
        let path = s.path().to_path_buf();
        let lots = s.stats().unwrap().lots;
        s.close().unwrap();
        // An intact file salvages whole.
        let whole = dir.path().join("whole.redb");
        let rep = salvage(&path, &whole).unwrap();
        assert!(rep.unreadable.is_empty(), "{rep:?}");
        assert_eq!(
            Store::open_read_only(&whole).unwrap().stats().unwrap().lots,
            lots
        );
        // Damage a page in the middle; salvage reads around it and never touches it.
        let mut bytes = std::fs::read(&path).unwrap();
        let mid = bytes.len() / 2;
        for b in &mut bytes[mid..mid + 4096] {
            *b ^= 0x5a;
        }
        std::fs::write(&path, &bytes).unwrap();
        let new = dir.path().join("new.redb");
        let _ = salvage(&path, &new);
        assert!(
            std::fs::read(&path).unwrap() == bytes,
            "the damaged file is untouched"
        );
    }
}
