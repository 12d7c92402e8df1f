//! Is a file sound enough to write to? Asked before lotline opens an existing database for
//! writing — the server, a command with `--no-server` — because redb trusts a file that
//! was closed cleanly and writes to it at once (opening for writing marks the file in use;
//! the first commit reuses its pages), so a page damaged since would be built upon and the
//! damage spread, against `check`'s promise that lotline will not write to a damaged file.
//!
//! The check is redb's own integrity check, the one `check` runs: every page reachable
//! from the committed roots read and compared with its checksum, the tree structure and
//! the allocator state rebuilt and compared. It runs on the file itself, read through a
//! storage layer that keeps whatever the check would write (a repair, redb's bookkeeping)
//! in memory: the file's bytes never change, and nothing is copied. It reads the whole
//! file, which is the cost of opening for writing: for the 1.1 GB plant of 1M lots, 1.4 s
//! with the file in the operating system's cache, 2.3 s from a cold disk, and about 15 MB.

use super::StoreError;
use redb::StorageBackend;
use std::collections::HashMap;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Mutex;

/// Granularity of what the check writes, kept in memory.
const PAGE: u64 = 4096;

/// redb's page cache while checking: the check reads every page once, so a large cache
/// would only hold what is not read again.
const CHECK_CACHE: usize = 16 << 20;

/// The file, read as it is; writes kept in memory, page by page, and read back over it.
#[derive(Debug)]
struct Overlay {
    file: std::fs::File,
    state: Mutex<OverlayState>,
}

#[derive(Debug)]
struct OverlayState {
    len: u64,
    /// How much of the file still shows through: its length, less what a `set_len` cut
    /// off (which reads as zeros if the length grows again).
    file_shown: u64,
    pages: HashMap<u64, Box<[u8]>>,
}

impl Overlay {
    fn open(path: &Path) -> std::io::Result<Overlay> {
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        Ok(Overlay {
            file,
            state: Mutex::new(OverlayState {
                len,
                file_shown: len,
                pages: HashMap::new(),
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OverlayState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The file's own bytes at `offset`, zeros past what shows of it.
    fn read_file(&self, shown: u64, offset: u64, out: &mut [u8]) -> std::io::Result<()> {
        out.fill(0);
        if offset >= shown {
            return Ok(());
        }
        let n = ((shown - offset) as usize).min(out.len());
        self.file.read_exact_at(&mut out[..n], offset)
    }
}

impl StorageBackend for Overlay {
    fn len(&self) -> Result<u64, std::io::Error> {
        Ok(self.lock().len)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        let st = self.lock();
        let end = offset
            .checked_add(out.len() as u64)
            .filter(|e| *e <= st.len)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::UnexpectedEof))?;
        self.read_file(st.file_shown, offset, out)?;
        if st.pages.is_empty() {
            return Ok(());
        }
        for index in offset / PAGE..end.div_ceil(PAGE) {
            if let Some(page) = st.pages.get(&index) {
                let start = (index * PAGE).max(offset);
                let stop = ((index + 1) * PAGE).min(end);
                out[(start - offset) as usize..(stop - offset) as usize].copy_from_slice(
                    &page[(start - index * PAGE) as usize..(stop - index * PAGE) as usize],
                );
            }
        }
        Ok(())
    }

    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        let mut st = self.lock();
        if len < st.len {
            let last = len / PAGE;
            st.pages.retain(|i, _| *i <= last);
            if let Some(p) = st.pages.get_mut(&last) {
                p[(len - last * PAGE) as usize..].fill(0);
            }
            st.file_shown = st.file_shown.min(len);
        }
        st.len = len;
        Ok(())
    }

    fn sync_data(&self) -> Result<(), std::io::Error> {
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        let mut st = self.lock();
        let end = offset + data.len() as u64;
        for index in offset / PAGE..end.div_ceil(PAGE) {
            if !st.pages.contains_key(&index) {
                let mut buf = vec![0u8; PAGE as usize].into_boxed_slice();
                self.read_file(st.file_shown, index * PAGE, &mut buf)?;
                st.pages.insert(index, buf);
            }
            let start = (index * PAGE).max(offset);
            let stop = ((index + 1) * PAGE).min(end);
            if let Some(page) = st.pages.get_mut(&index) {
                page[(start - index * PAGE) as usize..(stop - index * PAGE) as usize]
                    .copy_from_slice(&data[(start - offset) as usize..(stop - offset) as usize]);
            }
        }
        if end > st.len {
            st.len = end;
        }
        Ok(())
    }
}

/// Why a file is not sound, in words, or `None` when redb's integrity check passes. The
/// file is only read.
pub(crate) fn unsound(path: &Path) -> Option<String> {
    let overlay = match Overlay::open(path) {
        Ok(o) => o,
        Err(e) => return Some(format!("it cannot be read ({e})")),
    };
    // The check reads every page in tree order, scattered over the file; read ahead of it
    // in file order meanwhile, so a cold start reads the disk at its sequential speed (a
    // 1.1 GB plant from a cold disk: 2.3 s, against 8.7 s without). Stops with the check.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ahead = std::fs::File::open(path).ok().map(|f| {
        let done = done.clone();
        std::thread::spawn(move || read_ahead(&f, &done))
    });
    let found = check(overlay);
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(t) = ahead {
        let _ = t.join();
    }
    found
}

/// Read `f` from start to end in large pieces, discarding them, until told to stop: what
/// is read stays in the operating system's cache for the check.
fn read_ahead(f: &std::fs::File, done: &std::sync::atomic::AtomicBool) {
    let mut buf = vec![0u8; 4 << 20];
    let mut at = 0u64;
    while !done.load(std::sync::atomic::Ordering::Relaxed) {
        match f.read_at(&mut buf, at) {
            Ok(0) | Err(_) => return,
            Ok(n) => at += n as u64,
        }
    }
}

fn check(overlay: Overlay) -> Option<String> {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut b = redb::Builder::new();
        b.set_cache_size(CHECK_CACHE);
        let mut db = b.create_with_backend(overlay)?;
        let clean = db.check_integrity()?;
        // Closing writes redb's bookkeeping: into the overlay, which is then dropped.
        let _ = db.close();
        Ok::<bool, redb::DatabaseError>(clean)
    }));
    match outcome {
        Ok(Ok(true)) => None,
        Ok(Ok(false)) => Some(
            "part of it no longer matches its checksums; redb could read it only by dropping what was written last".into(),
        ),
        Ok(Err(e)) => Some(describe(&e)),
        Err(_) => Some("redb stopped reading it on a damaged page".into()),
    }
}

fn describe(e: &redb::DatabaseError) -> String {
    let detail = lotline_domain::text::escaped_within(&e.to_string(), 120);
    let what = match e {
        redb::DatabaseError::Storage(redb::StorageError::Corrupted(m))
            if m.contains("truncated") || m.contains("length") =>
        {
            "it is shorter or longer than redb wrote it"
        }
        redb::DatabaseError::Storage(redb::StorageError::Corrupted(_)) => {
            "its pages do not match their checksums"
        }
        redb::DatabaseError::Storage(redb::StorageError::Io(_)) => "it cannot be read",
        _ => "redb cannot open it",
    };
    format!("{what} (redb: {detail})")
}

/// Refuse to write to a file that fails its check, saying why and what to do. Checked
/// again while the file changes under it (another process writing): a check of a moving
/// file proves nothing either way, and a file that keeps changing is in use.
pub(crate) fn refuse_unsound(path: &Path) -> Result<(), StoreError> {
    if !looks_like_redb(path) {
        // Not redb's at all (another program's file): redb refuses it on its first read,
        // before writing anything, and the open says it is not a lotline database.
        return Ok(());
    }
    let stamp = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| (m.len(), m.modified().ok()))
    };
    for _ in 0..3 {
        let before = stamp(path);
        let found = unsound(path);
        if stamp(path) != before {
            continue;
        }
        return match found {
            None => Ok(()),
            Some(why) => Err(StoreError::FailedCheck {
                path: path.to_path_buf(),
                why,
            }),
        };
    }
    Err(StoreError::InUse {
        path: path.to_path_buf(),
    })
}

/// Whether the file begins as every redb file does.
fn looks_like_redb(path: &Path) -> bool {
    const MAGIC: [u8; 9] = [b'r', b'e', b'd', b'b', 0x1A, 0x0A, 0xA9, 0x0D, 0x0A];
    let mut head = [0u8; 9];
    std::fs::File::open(path)
        .and_then(|f| f.read_exact_at(&mut head, 0))
        .is_ok_and(|()| head == MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::*;

    #[test]
    fn the_overlay_reads_back_what_was_written_and_never_writes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        let original: Vec<u8> = (0..3 * PAGE + 100).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &original).unwrap();
        let o = Overlay::open(&p).unwrap();
        o.write(PAGE - 2, &[9, 9, 9, 9]).unwrap();
        let mut got = vec![0u8; 8];
        o.read(PAGE - 4, &mut got).unwrap();
        assert_eq!(
            got,
            [
                original[(PAGE - 4) as usize],
                original[(PAGE - 3) as usize],
                9,
                9,
                9,
                9,
                original[(PAGE + 2) as usize],
                original[(PAGE + 3) as usize]
            ]
        );
        // Shrink, then grow: the cut-off bytes read as zeros.
        o.set_len(PAGE + 1).unwrap();
        o.set_len(3 * PAGE).unwrap();
        let mut tail = vec![1u8; 10];
        o.read(PAGE, &mut tail).unwrap();
        assert_eq!(tail[0], 9);
        assert!(tail[1..].iter().all(|b| *b == 0), "{tail:?}");
        assert!(o.read(3 * PAGE - 1, &mut [0u8; 2]).is_err());
        o.write(5 * PAGE, &[1]).unwrap();
        assert_eq!(o.len().unwrap(), 5 * PAGE + 1);
        drop(o);
        assert_eq!(std::fs::read(&p).unwrap(), original);
    }

    #[test]
    fn a_sound_file_passes_and_a_damaged_one_is_refused_unchanged() {
        let (dir, s, _) = bakery();
        let path = s.path().to_path_buf();
        s.close().unwrap();
        let good = std::fs::read(&path).unwrap();
        assert_eq!(unsound(&path), None);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            good,
            "checking wrote nothing"
        );
        // A page in the middle damaged: found, and the file left as it is.
        let mut bad = good.clone();
        let mid = bad.len() / 2 / 4096 * 4096;
        for b in &mut bad[mid..mid + 4096] {
            *b ^= 0x5a;
        }
        let damaged = dir.path().join("damaged.redb");
        std::fs::write(&damaged, &bad).unwrap();
        let e = refuse_unsound(&damaged).unwrap_err();
        assert!(matches!(e, StoreError::FailedCheck { .. }), "{e}");
        assert!(
            e.to_string().contains("lotline salvage"),
            "says what to do: {e}"
        );
        assert_eq!(std::fs::read(&damaged).unwrap(), bad);
        // Cut short: found.
        let short = dir.path().join("short.redb");
        std::fs::write(&short, &good[..good.len() / 2]).unwrap();
        assert!(unsound(&short).is_some());
        assert_eq!(std::fs::read(&short).unwrap(), &good[..good.len() / 2]);
    }
}
