//! A full disk, through a redb storage backend that runs out of space on demand (no root,
//! no tmpfs needed): the file stays consistent, nothing acknowledged is lost, the failure
//! says what to do, and the next write after space returns succeeds in the same process —
//! the station is not left refusing every save until it is restarted.
//!
//! The model is harsher than most file systems: once the space is used up every write
//! fails, overwrites of existing pages included (as on copy-on-write and thin-provisioned
//! storage), a write that does not fit is cut short before it fails, and growing the file
//! takes space too. The rounds played against it are the station's tests.

use super::*;
use redb::StorageBackend;
use redb::backends::FileBackend;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

/// The disk: how many bytes may still be written, and how many writes it refused.
#[derive(Debug)]
pub struct Disk {
    left: AtomicU64,
    refused: AtomicU64,
}

/// No limit: `fill_up_after(u64::MAX)` is a disk that never fills.
const PLENTY: u64 = u64::MAX;

impl Disk {
    pub fn new() -> Arc<Disk> {
        Arc::new(Disk {
            left: AtomicU64::new(PLENTY),
            refused: AtomicU64::new(0),
        })
    }

    pub fn fill_up_after(&self, bytes: u64) {
        self.left.store(bytes, SeqCst);
    }

    /// How many writes it has refused so far.
    pub fn refused(&self) -> u64 {
        self.refused.load(SeqCst)
    }

    pub fn free_space(&self) {
        self.left.store(PLENTY, SeqCst);
    }

    /// Take up to `want` bytes; how many were granted.
    fn take(&self, want: u64) -> u64 {
        let mut granted = 0;
        let _ = self.left.fetch_update(SeqCst, SeqCst, |left| {
            granted = want.min(left);
            Some(if left == PLENTY { left } else { left - granted })
        });
        granted
    }

    fn full(&self) -> std::io::Error {
        self.refused.fetch_add(1, SeqCst);
        std::io::Error::from_raw_os_error(libc::ENOSPC)
    }
}

/// The file, on a disk that fills up.
#[derive(Debug)]
struct Filling {
    file: FileBackend,
    disk: Arc<Disk>,
}

impl StorageBackend for Filling {
    fn len(&self) -> Result<u64, std::io::Error> {
        self.file.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        self.file.read(offset, out)
    }

    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        let now = self.file.len()?;
        if len > now && self.disk.take(len - now) < len - now {
            return Err(self.disk.full());
        }
        self.file.set_len(len)
    }

    fn sync_data(&self) -> Result<(), std::io::Error> {
        self.file.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        let granted = self.disk.take(data.len() as u64) as usize;
        if granted < data.len() {
            // What fitted is written, as a real short write leaves it.
            self.file.write(offset, &data[..granted])?;
            return Err(self.disk.full());
        }
        self.file.write(offset, data)
    }

    fn close(&self) -> Result<(), std::io::Error> {
        self.file.close()
    }

    fn try_lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<bool, redb::BackendError> {
        self.file.try_lock_range(s, e)
    }

    fn try_lock_shared_range(
        &self,
        s: Bound<u64>,
        e: Bound<u64>,
    ) -> Result<bool, redb::BackendError> {
        self.file.try_lock_shared_range(s, e)
    }

    fn lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), redb::BackendError> {
        self.file.lock_range(s, e)
    }

    fn lock_shared_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), redb::BackendError> {
        self.file.lock_shared_range(s, e)
    }

    fn unlock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), redb::BackendError> {
        self.file.unlock_range(s, e)
    }

    fn query_lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<bool, redb::BackendError> {
        self.file.query_lock_range(s, e)
    }
}

/// How a store opens its file on `disk`.
fn on(disk: &Arc<Disk>) -> OpenWriter {
    let disk = disk.clone();
    Arc::new(move |path: &Path| {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| redb::DatabaseError::Storage(redb::StorageError::Io(e)))?;
        builder().create_with_backend(Filling {
            file: FileBackend::new(file)?,
            disk: disk.clone(),
        })
    })
}

/// Open (or, with `create`, make) the store at `path` on `disk`.
pub fn open(path: &Path, create: bool, disk: &Arc<Disk>) -> Result<Store, StoreError> {
    Store::open_with(path, create, on(disk))
}
