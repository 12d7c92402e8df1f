//! Rolling daily backups kept by the server (`serve --backup-dir DIR --keep N`): one
//! consistent copy of the plant per local day, taken from a read snapshot while stations
//! keep writing, verified, and the oldest beyond N removed. Only files this module names
//! (`STEM-YYYY-MM-DD.redb`) are ever removed; anything else in the folder is left alone.

use super::log;
use crate::store::{Store, backup};
use chrono::{Local, NaiveDate};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Where and how many.
#[derive(Debug, Clone)]
pub struct BackupPolicy {
    pub dir: PathBuf,
    /// Daily copies kept (at least 1).
    pub keep: usize,
}

impl BackupPolicy {
    /// Check the folder can take backups before the server starts serving: a mistyped or
    /// unwritable folder is refused at start, not discovered a day later.
    pub fn prepare(&self) -> Result<(), String> {
        if self.keep == 0 {
            return Err("--keep: keep at least 1 backup".into());
        }
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("--backup-dir: cannot create {}: {e}", self.dir.display()))?;
        if !self.dir.is_dir() {
            return Err(format!(
                "--backup-dir: {} is not a folder",
                self.dir.display()
            ));
        }
        let probe = self
            .dir
            .join(format!(".lotline-probe-{}", std::process::id()));
        std::fs::write(&probe, b"")
            .and_then(|_| std::fs::remove_file(&probe))
            .map_err(|e| format!("--backup-dir: cannot write in {}: {e}", self.dir.display()))
    }
}

/// The name of `db`'s backup for `day`.
pub fn backup_name(db: &Path, day: NaiveDate) -> String {
    format!("{}-{}.redb", stem(db), day.format("%Y-%m-%d"))
}

fn stem(db: &Path) -> String {
    db.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "lotline".into())
}

/// The day of one of our backup files, if `name` is one of `db`'s.
fn day_of(db: &Path, name: &str) -> Option<NaiveDate> {
    let rest = name.strip_prefix(&format!("{}-", stem(db)))?;
    let date = rest.strip_suffix(".redb")?;
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

/// Take today's backup if there is none yet, then remove the oldest beyond `keep`. Returns
/// the backup written, if one was.
pub fn run_once(
    store: &Store,
    policy: &BackupPolicy,
    today: NaiveDate,
) -> Result<Option<PathBuf>, String> {
    let dest = policy.dir.join(backup_name(store.path(), today));
    let written = if dest.exists() {
        None
    } else {
        let rep = backup::write_backup(store, &dest).map_err(|e| e.to_string())?;
        log(format_args!(
            "backup: {} records to {} ({} bytes), verified",
            rep.records(),
            dest.display(),
            rep.bytes
        ));
        Some(dest)
    };
    prune(store.path(), policy)?;
    Ok(written)
}

/// Remove our oldest daily backups beyond `keep`.
fn prune(db: &Path, policy: &BackupPolicy) -> Result<(), String> {
    let entries = std::fs::read_dir(&policy.dir)
        .map_err(|e| format!("cannot list {}: {e}", policy.dir.display()))?;
    let mut ours: Vec<(NaiveDate, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            day_of(db, &name).map(|d| (d, e.path()))
        })
        .collect();
    ours.sort();
    let excess = ours.len().saturating_sub(policy.keep);
    for (_, path) in ours.into_iter().take(excess) {
        match std::fs::remove_file(&path) {
            Ok(()) => log(format_args!("backup: removed the old {}", path.display())),
            Err(e) => log(format_args!(
                "backup: cannot remove {}: {e}",
                path.display()
            )),
        }
    }
    Ok(())
}

/// Keep backups until `stop`: one now (if today has none), then one each new local day.
/// A failed backup is logged and tried again in an hour; it never stops the server.
pub fn keep_backing_up(store: &Store, policy: &BackupPolicy, stop: &AtomicBool) {
    let mut done_for: Option<NaiveDate> = None;
    let mut retry_at = std::time::Instant::now();
    while !stop.load(Ordering::SeqCst) {
        let today = Local::now().date_naive();
        if done_for != Some(today) && std::time::Instant::now() >= retry_at {
            match run_once(store, policy, today) {
                Ok(_) => done_for = Some(today),
                Err(e) => {
                    log(format_args!("backup failed: {e}; trying again in an hour"));
                    retry_at = std::time::Instant::now() + Duration::from_secs(3600);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_days_round_trip_and_others_are_not_ours() {
        let db = Path::new("/srv/plant.redb");
        let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(backup_name(db, d), "plant-2026-12-01.redb");
        assert_eq!(day_of(db, "plant-2026-12-01.redb"), Some(d));
        assert_eq!(day_of(db, "plant-2026-12-01.redb.tmp"), None);
        assert_eq!(day_of(db, "other-2026-12-01.redb"), None);
        assert_eq!(day_of(db, "plant-latest.redb"), None);
    }

    #[test]
    fn a_day_is_backed_up_once_and_the_oldest_beyond_keep_go() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("plant.redb");
        let store = Store::open(&db, true).unwrap();
        let policy = BackupPolicy {
            dir: dir.path().join("backups"),
            keep: 2,
        };
        policy.prepare().unwrap();
        std::fs::write(policy.dir.join("notes.txt"), "mine").unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        let first = run_once(&store, &policy, day(1)).unwrap().unwrap();
        assert!(first.ends_with("plant-2026-12-01.redb"));
        assert_eq!(
            run_once(&store, &policy, day(1)).unwrap(),
            None,
            "once a day"
        );
        run_once(&store, &policy, day(2)).unwrap().unwrap();
        run_once(&store, &policy, day(3)).unwrap().unwrap();
        let mut left: Vec<String> = std::fs::read_dir(&policy.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "notes.txt",
                "plant-2026-12-02.redb",
                "plant-2026-12-03.redb"
            ]
        );
        // Each backup opens as a lotline database.
        let copy = Store::open_read_only(&policy.dir.join("plant-2026-12-03.redb")).unwrap();
        assert!(copy.check().unwrap().problems.is_empty());
    }

    #[test]
    fn a_folder_that_cannot_take_backups_is_refused_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let bad = BackupPolicy {
            dir: file.clone(),
            keep: 3,
        };
        assert!(bad.prepare().unwrap_err().contains("--backup-dir"));
        let none = BackupPolicy {
            dir: dir.path().into(),
            keep: 0,
        };
        assert!(none.prepare().unwrap_err().contains("--keep"));
    }
}
