//! Rolling daily backups kept by the server (`serve --backup-dir DIR --keep N`): one
//! consistent copy of the plant per local day, taken from a read snapshot while stations
//! keep writing, verified, and the oldest beyond N removed.
//!
//! Backups trust content, not names. Each backup the server writes is recorded in the
//! folder's manifest, `STEM.backups.json`, with its day, size and SHA-256; pruning
//! considers only backups recorded there, removes one only when its bytes still match the
//! checksum, never removes the newest, and never counts or removes one dated after today.
//! A file named like a backup that the server did not write (`plant-2099-01-01.redb`) is
//! left alone and changes nothing; one that holds today's name makes the server write
//! today's under the next free name (`plant-2026-12-01-2.redb`). The manifest is read only
//! when it is a regular file of the server's user that nobody else can write, and is
//! replaced whole; while it is not so, backups go on and nothing is removed
//! (docs/server.md, "Backups").

use super::log;
use chrono::{Local, NaiveDate};
use lotline_store::{Store, backup};
use serde::{Deserialize, Serialize};
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
        // Backups hold every record: a folder made for them is the server's alone (0700).
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| {
                format!(
                    "--backup-dir (or the config's backup_dir): the folder {} cannot be made ({e}); make it for the server's user (`install -d -o USER -m 0700 {}`), then start again",
                    self.dir.display(),
                    self.dir.display()
                )
            })?;
        if !self.dir.is_dir() {
            return Err(format!(
                "--backup-dir: {} is not a folder",
                self.dir.display()
            ));
        }
        // A fresh name with O_EXCL, removed on drop: a link planted at a name the probe
        // could be predicted to use would have been written through.
        tempfile::Builder::new()
            .prefix(".lotline-probe-")
            .tempfile_in(&self.dir)
            .map(drop)
            .map_err(|e| format!("--backup-dir: cannot write in {}: {e}", self.dir.display()))
    }
}

/// The name of `db`'s backup for `day`.
pub fn backup_name(db: &Path, day: NaiveDate) -> String {
    format!("{}-{}.redb", stem(db), day.format("%Y-%m-%d"))
}

/// The `n`th name for `day` (n > 1: the first was taken by a file the server did not write).
fn backup_name_n(db: &Path, day: NaiveDate, n: u32) -> String {
    match n {
        0 | 1 => backup_name(db, day),
        n => format!("{}-{}-{n}.redb", stem(db), day.format("%Y-%m-%d")),
    }
}

fn stem(db: &Path) -> String {
    db.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "lotline".into())
}

/// The day of a file named like one of `db`'s backups. Names decide nothing about what is
/// removed: only to say how many such files the server leaves alone.
fn day_of(db: &Path, name: &str) -> Option<NaiveDate> {
    let rest = name.strip_prefix(&format!("{}-", stem(db)))?;
    let date = rest.strip_suffix(".redb")?;
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

/// The manifest of `db`'s backups in `dir`.
pub fn manifest_path(dir: &Path, db: &Path) -> PathBuf {
    dir.join(format!("{}.backups.json", stem(db)))
}

/// One backup the server wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    /// Its file name in the backup folder.
    file: String,
    day: NaiveDate,
    bytes: u64,
    /// SHA-256 of the whole file, in hex, taken right after it was verified.
    sha256: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    /// The format of this file.
    lotline_backups: u32,
    backups: Vec<Entry>,
}

/// The manifest is small; anything larger is not ours.
const MAX_MANIFEST: u64 = 4 << 20;

impl Manifest {
    /// The manifest at `path`, if there is one this server may trust: a regular file (not a
    /// link) of the server's user, with one name, that nobody else can write. `Err` says why
    /// one that is there is not used; nothing in it is then ever removed.
    fn load(path: &Path) -> Result<Manifest, String> {
        use std::io::Read;
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        let shown = crate::remote::path_words(path);
        let mut f = match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Manifest::default()),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(format!("{shown} is a symbolic link"));
            }
            Err(e) => return Err(format!("{shown} cannot be read: {e}")),
        };
        let m = f
            .metadata()
            .map_err(|e| format!("{shown} cannot be read: {e}"))?;
        let me = crate::remote::effective_uid();
        if !m.is_file() || m.uid() != me || m.mode() & 0o022 != 0 || m.nlink() != 1 {
            return Err(format!(
                "{shown} is not a file only this server's user can write (a {} of {}, mode {:o}, {} name(s))",
                crate::remote::kind_words(m.file_type()),
                crate::remote::uid_words(m.uid()),
                m.mode() & 0o7777,
                m.nlink()
            ));
        }
        if m.len() > MAX_MANIFEST {
            return Err(format!("{shown} is {} bytes, too big to be ours", m.len()));
        }
        let mut text = String::new();
        f.read_to_string(&mut text)
            .map_err(|e| format!("{shown} cannot be read: {e}"))?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| format!("{shown} is not a lotline backup manifest: {e}"))?;
        if manifest.lotline_backups != 1 {
            return Err(format!(
                "{shown} is of a format this lotline does not know ({})",
                manifest.lotline_backups
            ));
        }
        Ok(manifest)
    }

    /// Replace the manifest whole: written in a private folder beside it, synced, renamed
    /// over it (a rename replaces a link planted there, never writes through it).
    fn save(&self, path: &Path) -> Result<(), String> {
        use std::io::Write;
        let shown = crate::remote::path_words(path);
        let private = backup::Private::beside(path).map_err(|e| e.to_string())?;
        let tmp = private.join("manifest.json");
        let mut text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        text.push('\n');
        let written = std::fs::File::create(&tmp)
            .and_then(|mut f| {
                f.write_all(text.as_bytes())?;
                f.sync_all()
            })
            .and_then(|()| std::fs::rename(&tmp, path));
        written.map_err(|e| format!("cannot write {shown}: {e}"))?;
        if let Some(dir) = path.parent() {
            lotline_files::sync_dir(dir);
        }
        Ok(())
    }
}

/// SHA-256 of the file at `path`, and its size, read through one open file that is not a
/// link.
fn digest(path: &Path) -> std::io::Result<(String, u64)> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        total += n as u64;
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((hex, total))
}

/// The size of the regular file at `path` (not followed through a link), if it is one.
fn size_of(path: &Path) -> Option<u64> {
    std::fs::symlink_metadata(path)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len())
}

/// Take today's backup if there is none yet, then remove the oldest beyond `keep`. Returns
/// the backup written, if one was.
pub fn run_once(
    store: &Store,
    policy: &BackupPolicy,
    today: NaiveDate,
) -> Result<Option<PathBuf>, String> {
    let db = store.path();
    let manifest_file = manifest_path(&policy.dir, db);
    // A record that is not the server's own stops pruning, never the day's backup.
    let (mut manifest, trusted) = match Manifest::load(&manifest_file) {
        Ok(m) => (m, true),
        Err(why) => {
            log(format_args!(
                "backup: {why}; it is where the server records the backups it wrote: backups go on, but none is recorded or removed until it is a file only the server's user can write, or is removed"
            ));
            (Manifest::default(), false)
        }
    };
    let done = manifest
        .backups
        .iter()
        .any(|e| e.day == today && size_of(&policy.dir.join(&e.file)) == Some(e.bytes));
    let written = if done {
        None
    } else {
        // Today's name, unless something the server did not write holds it.
        let dest = (1..=100)
            .map(|n| policy.dir.join(backup_name_n(db, today, n)))
            .find(|p| p.symlink_metadata().is_err())
            .ok_or_else(|| {
                format!(
                    "every name for today's backup in {} is taken",
                    policy.dir.display()
                )
            })?;
        let taken = dest.file_name() != Some(std::ffi::OsStr::new(&backup_name(db, today)));
        if taken {
            log(format_args!(
                "backup: {} is not a backup this server wrote; left alone, today's goes to {}",
                crate::remote::path_words(&policy.dir.join(backup_name(db, today))),
                crate::remote::path_words(&dest)
            ));
        }
        let rep = backup::write_backup(store, &dest).map_err(|e| e.to_string())?;
        let (sha256, bytes) =
            digest(&dest).map_err(|e| format!("cannot read back {}: {e}", dest.display()))?;
        manifest.lotline_backups = 1;
        manifest.backups.push(Entry {
            file: dest
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            day: today,
            bytes,
            sha256,
        });
        if trusted {
            manifest.save(&manifest_file)?;
        }
        log(format_args!(
            "backup: {} records to {} ({} bytes), verified",
            rep.records(),
            dest.display(),
            rep.bytes
        ));
        Some(dest)
    };
    if trusted {
        prune(db, policy, today, &mut manifest)?;
        manifest.save(&manifest_file)?;
    }
    Ok(written)
}

/// Remove the oldest backups the server wrote beyond `keep`: only those in the manifest,
/// dated today or before, whose bytes still match their checksum, and never the newest.
fn prune(
    db: &Path,
    policy: &BackupPolicy,
    today: NaiveDate,
    manifest: &mut Manifest,
) -> Result<(), String> {
    let present = |e: &Entry| size_of(&policy.dir.join(&e.file)) == Some(e.bytes);
    // Gone (removed by hand) or changed in size: not ours any more, forgotten.
    manifest.backups.retain(|e| {
        let keep = present(e);
        if !keep {
            log(format_args!(
                "backup: {} is gone or changed; it is no longer counted",
                policy.dir.join(&e.file).display()
            ));
        }
        keep
    });
    // Newest first; dated after today (the clock went back): neither counted nor removed.
    let mut counted: Vec<Entry> = manifest
        .backups
        .iter()
        .filter(|e| e.day <= today)
        .cloned()
        .collect();
    counted.sort_by(|a, b| b.day.cmp(&a.day).then_with(|| b.file.cmp(&a.file)));
    for old in counted.iter().skip(policy.keep.max(1)) {
        let path = policy.dir.join(&old.file);
        match digest(&path) {
            Ok((sha, bytes)) if sha == old.sha256 && bytes == old.bytes => {
                match std::fs::remove_file(&path) {
                    Ok(()) => log(format_args!("backup: removed the old {}", path.display())),
                    Err(e) => {
                        log(format_args!(
                            "backup: cannot remove {}: {e}",
                            path.display()
                        ));
                        continue;
                    }
                }
            }
            Ok(_) => log(format_args!(
                "backup: {} is not what this server wrote there (its checksum differs); left alone and no longer counted",
                path.display()
            )),
            Err(e) => {
                log(format_args!(
                    "backup: cannot read {}: {e}; left alone",
                    path.display()
                ));
                continue;
            }
        }
        manifest.backups.retain(|e| e.file != old.file);
    }
    // Files named like backups that the server did not write: said, never removed.
    let recorded: Vec<&str> = manifest.backups.iter().map(|e| e.file.as_str()).collect();
    let strangers = std::fs::read_dir(&policy.dir)
        .map_err(|e| format!("cannot list {}: {e}", policy.dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| day_of(db, n).is_some() && !recorded.contains(&n.as_str()))
        .count();
    if strangers > 0 {
        log(format_args!(
            "backup: {strangers} file(s) in {} are named like backups but are not in {}; the server never removes them (only backups it wrote and recorded)",
            policy.dir.display(),
            manifest_path(&policy.dir, db).display()
        ));
    }
    Ok(())
}

/// Keep backups until `stop`: one now (if today has none), then one each new local day.
/// A failed backup is logged and tried again in an hour; it never stops the server.
pub fn keep_backing_up(store: &Store, policy: &BackupPolicy, stop: &AtomicBool) {
    let mut done_for: Option<NaiveDate> = None;
    let mut retry_at = std::time::Instant::now();
    let mut said = false;
    while !stop.load(Ordering::SeqCst) {
        // A file that failed its check (served read-only) or met damage since is no source
        // for a backup: a copy of it would prune, day by day, the good copies taken before —
        // the ones every refusal tells the plant to restore.
        if !store.writable() || store.is_damaged() {
            if !said {
                log(format_args!(
                    "no backups while {} is damaged or read-only: the ones in {} are kept as they are",
                    store.path().display(),
                    policy.dir.display()
                ));
                said = true;
            }
            std::thread::sleep(Duration::from_millis(500));
            continue;
        }
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

    /// A file served read-only (it failed its check) is no source for backups: none is
    /// taken and none of the good ones before it is pruned.
    #[test]
    fn a_file_served_read_only_takes_no_backup_and_prunes_none() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("plant.redb");
        Store::open(&db, true).unwrap().close().unwrap();
        let backups = dir.path().join("backups");
        std::fs::create_dir(&backups).unwrap();
        let good = backups.join("plant-2020-01-01.redb");
        std::fs::copy(&db, &good).unwrap();
        let store = Store::open_read_only(&db).unwrap();
        let policy = BackupPolicy {
            dir: backups.clone(),
            keep: 1,
        };
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| keep_backing_up(&store, &policy, &stop));
            // Long enough for a writable store's first backup (taken at once).
            std::thread::sleep(Duration::from_millis(1500));
            stop.store(true, Ordering::SeqCst);
        });
        let names: Vec<_> = std::fs::read_dir(&backups)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("plant-2020-01-01.redb")]
        );
    }

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

    fn listing(dir: &Path) -> Vec<String> {
        let mut left: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        left
    }

    fn plant() -> (tempfile::TempDir, Store, BackupPolicy) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("plant.redb"), true).unwrap();
        let policy = BackupPolicy {
            dir: dir.path().join("backups"),
            keep: 2,
        };
        policy.prepare().unwrap();
        (dir, store, policy)
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    #[test]
    fn a_day_is_backed_up_once_and_the_oldest_beyond_keep_go() {
        let (_dir, store, policy) = plant();
        std::fs::write(policy.dir.join("notes.txt"), "mine").unwrap();
        let first = run_once(&store, &policy, day(1)).unwrap().unwrap();
        assert!(first.ends_with("plant-2026-12-01.redb"));
        assert_eq!(
            run_once(&store, &policy, day(1)).unwrap(),
            None,
            "once a day"
        );
        run_once(&store, &policy, day(2)).unwrap().unwrap();
        run_once(&store, &policy, day(3)).unwrap().unwrap();
        assert_eq!(
            listing(&policy.dir),
            [
                "notes.txt",
                "plant-2026-12-02.redb",
                "plant-2026-12-03.redb",
                "plant.backups.json"
            ]
        );
        // Each backup opens as a lotline database.
        let copy = Store::open_read_only(&policy.dir.join("plant-2026-12-03.redb")).unwrap();
        assert!(copy.check().unwrap().problems.is_empty());
    }

    /// Junk named like backups from the future made the server delete the backup it had
    /// just written; now names count for nothing and the newest backup is never removed.
    #[test]
    fn planted_backup_names_remove_nothing_and_never_the_newest() {
        let (_dir, store, policy) = plant();
        for d in 1..=3 {
            std::fs::write(policy.dir.join(format!("plant-2099-01-0{d}.redb")), "junk").unwrap();
        }
        // An old-looking one too: not written by the server, never removed.
        std::fs::write(policy.dir.join("plant-2020-01-01.redb"), "junk").unwrap();
        let written = run_once(&store, &policy, day(1)).unwrap().unwrap();
        assert!(written.exists(), "today's backup was removed");
        run_once(&store, &policy, day(2)).unwrap().unwrap();
        run_once(&store, &policy, day(3)).unwrap().unwrap();
        assert_eq!(
            listing(&policy.dir),
            [
                "plant-2020-01-01.redb",
                "plant-2026-12-02.redb",
                "plant-2026-12-03.redb",
                "plant-2099-01-01.redb",
                "plant-2099-01-02.redb",
                "plant-2099-01-03.redb",
                "plant.backups.json"
            ]
        );
        let newest = Store::open_read_only(&policy.dir.join("plant-2026-12-03.redb")).unwrap();
        assert!(newest.check().unwrap().problems.is_empty());
    }

    /// A planted file holding today's name skipped that day's backup; now today's goes to
    /// the next free name and the planted file is left as it was.
    #[test]
    fn a_planted_file_with_todays_name_does_not_skip_todays_backup() {
        let (_dir, store, policy) = plant();
        let planted = policy.dir.join("plant-2026-12-01.redb");
        std::fs::write(&planted, "not a backup").unwrap();
        let written = run_once(&store, &policy, day(1)).unwrap().unwrap();
        assert!(written.ends_with("plant-2026-12-01-2.redb"), "{written:?}");
        assert_eq!(std::fs::read(&planted).unwrap(), b"not a backup");
        let copy = Store::open_read_only(&written).unwrap();
        assert!(copy.check().unwrap().problems.is_empty());
        assert_eq!(
            run_once(&store, &policy, day(1)).unwrap(),
            None,
            "once a day"
        );
    }

    /// A backup whose bytes were replaced after it was written is not the server's any
    /// more: never removed, no longer counted.
    #[test]
    fn a_backup_changed_after_it_was_written_is_never_removed() {
        let (_dir, store, policy) = plant();
        let first = run_once(&store, &policy, day(1)).unwrap().unwrap();
        let mut bytes = std::fs::read(&first).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&first, &bytes).unwrap();
        run_once(&store, &policy, day(2)).unwrap().unwrap();
        run_once(&store, &policy, day(3)).unwrap().unwrap();
        assert_eq!(
            std::fs::read(&first).unwrap(),
            bytes,
            "not what we wrote: kept"
        );
        let m = Manifest::load(&manifest_path(&policy.dir, store.path())).unwrap();
        let files: Vec<&str> = m.backups.iter().map(|e| e.file.as_str()).collect();
        assert_eq!(files, ["plant-2026-12-02.redb", "plant-2026-12-03.redb"]);
    }

    /// A clock set back: backups recorded for days after today are neither counted nor
    /// removed, and today's is taken.
    #[test]
    fn backups_dated_after_today_are_not_counted() {
        let (_dir, store, policy) = plant();
        run_once(&store, &policy, day(20)).unwrap().unwrap();
        run_once(&store, &policy, day(21)).unwrap().unwrap();
        run_once(&store, &policy, day(1)).unwrap().unwrap();
        run_once(&store, &policy, day(2)).unwrap().unwrap();
        run_once(&store, &policy, day(3)).unwrap().unwrap();
        assert_eq!(
            listing(&policy.dir),
            [
                "plant-2026-12-02.redb",
                "plant-2026-12-03.redb",
                "plant-2026-12-20.redb",
                "plant-2026-12-21.redb",
                "plant.backups.json"
            ]
        );
    }

    /// A manifest that is a link (or not the server's) is not read nor written through:
    /// the day's backup is still taken, and nothing is removed until it is put right.
    #[test]
    fn a_manifest_the_server_did_not_write_is_never_trusted() {
        let (dir, store, mut policy) = plant();
        policy.keep = 1;
        let first = run_once(&store, &policy, day(1)).unwrap().unwrap();
        let manifest = manifest_path(&policy.dir, store.path());
        let elsewhere = dir.path().join("elsewhere.json");
        std::fs::rename(&manifest, &elsewhere).unwrap();
        let before = std::fs::read(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &manifest).unwrap();
        let second = run_once(&store, &policy, day(2)).unwrap().unwrap();
        assert!(second.ends_with("plant-2026-12-02.redb"));
        assert!(first.exists(), "nothing removed");
        assert_eq!(std::fs::read(&elsewhere).unwrap(), before);
        assert!(
            manifest
                .symlink_metadata()
                .unwrap()
                .file_type()
                .is_symlink()
        );
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
