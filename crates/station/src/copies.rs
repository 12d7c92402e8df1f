//! Backups through the server, for users who may not read the database file (QA on a
//! plant run as a service, whose file only the service user reads). The server takes the
//! same verified copy `lotline backup` takes, beside the database (a folder it writes
//! anyway), opens it and unlinks it at once — so nothing is left behind, even if the
//! server dies — and hands its bytes out in parts. The client writes them where it chose,
//! with its own rights, and checks the SHA-256 and that the copy opens: the server never
//! writes to a path a client names.

use super::{ErrorKind, StationError};
use lotline_store::Store;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The most bytes one part carries: well under a frame, and small enough that a reply
/// waiting in the server's queue costs little.
pub const PART_BYTES: u32 = 1 << 20;

/// A copy nobody asked a part of for this long is dropped (its space freed) when the next
/// backup is asked for.
const IDLE: Duration = Duration::from_secs(600);

pub use lotline_domain::api::BackupOffer;

/// The copy being handed out: one at a time (a backup is a copy of the whole plant on
/// the server's disk; two at once would only double that).
#[derive(Default)]
pub struct Copies {
    current: Mutex<Option<Copy>>,
    next: AtomicU64,
}

struct Copy {
    id: u64,
    /// Who asked: only they get its parts.
    user: String,
    file: File,
    bytes: u64,
    last: Instant,
}

fn busy(message: String) -> StationError {
    StationError {
        kind: ErrorKind::Busy,
        field: None,
        message,
    }
}

fn database(message: String) -> StationError {
    StationError {
        kind: ErrorKind::Database,
        field: None,
        message,
    }
}

fn unknown() -> StationError {
    StationError {
        kind: ErrorKind::Invalid,
        field: Some("backup".into()),
        message: "that backup is no longer held by the server (it was finished, or left idle for 10 minutes, or the server restarted); run `lotline backup` again".into(),
    }
}

impl Copies {
    /// Take a verified copy of `store` for `user` and hold it open for [`Copies::part`].
    pub fn start(&self, store: &Store, user: &str) -> Result<BackupOffer, StationError> {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = current.as_ref()
            && c.last.elapsed() < IDLE
        {
            return Err(busy(format!(
                "a backup for {} is being fetched from the server; try again in a few minutes",
                c.user
            )));
        }
        *current = None;
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let name = store
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plant.redb".into());
        let dest: PathBuf = store
            .path()
            .with_file_name(format!(".{name}.copy-{}-{n}", std::process::id()));
        let report = lotline_store::backup::write_backup(store, &dest).map_err(|e| {
            database(format!(
                "the server could not take a copy beside the database: {e}"
            ))
        })?;
        let opened = File::open(&dest);
        // Unlinked at once: the open file is all that is left, freed when dropped.
        let _ = std::fs::remove_file(&dest);
        let file = opened
            .map_err(|e| database(format!("the server could not read its copy back: {e}")))?;
        let mut hash = Sha256::new();
        let mut buf = vec![0u8; PART_BYTES as usize];
        let mut at = 0u64;
        loop {
            let n = file
                .read_at(&mut buf, at)
                .map_err(|e| database(format!("the server could not read its copy: {e}")))?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            at += n as u64;
        }
        let id = (u64::from(std::process::id()) << 32) | (n & 0xffff_ffff);
        *current = Some(Copy {
            id,
            user: user.to_string(),
            file,
            bytes: at,
            last: Instant::now(),
        });
        Ok(BackupOffer {
            id,
            bytes: at,
            records: report.records(),
            sha256: hash.finalize().into(),
        })
    }

    /// Up to [`PART_BYTES`] of copy `id` from `offset`; empty past its end.
    pub fn part(&self, id: u64, offset: u64, user: &str) -> Result<Vec<u8>, StationError> {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let Some(c) = current.as_mut().filter(|c| c.id == id && c.user == user) else {
            return Err(unknown());
        };
        c.last = Instant::now();
        let want = c.bytes.saturating_sub(offset).min(u64::from(PART_BYTES)) as usize;
        let mut buf = vec![0u8; want];
        let mut got = 0;
        while got < want {
            let n = c
                .file
                .read_at(&mut buf[got..], offset + got as u64)
                .map_err(|e| database(format!("the server could not read its copy: {e}")))?;
            if n == 0 {
                break;
            }
            got += n;
        }
        buf.truncate(got);
        Ok(buf)
    }

    /// Let copy `id` go: its space is freed.
    pub fn done(&self, id: u64, user: &str) {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if current
            .as_ref()
            .is_some_and(|c| c.id == id && c.user == user)
        {
            *current = None;
        }
    }
}
