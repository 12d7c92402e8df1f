//! The plant's file handled in this process, for the command line: opened as its writer or
//! as a reader (and, when that fails, which of the cases a front end acts on), the checks
//! of the file itself, backups, salvage and generated plants. Everything here speaks the
//! station's vocabulary, so no front end names the store.

use crate::{Caller, Local, Roles, StationError};
use lotline_store::{Store, StoreError, backup, plantgen};
use std::fmt;
use std::path::{Path, PathBuf};

pub use lotline_store::backup::CopyReport;
pub use lotline_store::plantgen::{Progress, Spec as GenerateSpec, Summary as Generated};

/// Why a plant's file could not be opened here, for the cases a front end decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// No file there.
    Missing,
    /// Another process (a server) holds it for writing.
    InUse,
    /// It must be recovered by its writer before it can be read.
    NeedsWriter,
    /// This user may not open it: its server reaches it for them.
    NoAccess,
    /// Anything else: damaged, not lotline's, newer, I/O.
    Other,
}

/// A file that could not be opened: which case, and the words for it.
#[derive(Debug, Clone)]
pub struct FileError {
    pub why: Why,
    pub error: StationError,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for FileError {}

impl From<StoreError> for FileError {
    fn from(e: StoreError) -> Self {
        let why = match &e {
            StoreError::Missing { .. } => Why::Missing,
            StoreError::InUse { .. } => Why::InUse,
            StoreError::NeedsWriter { .. } => Why::NeedsWriter,
            StoreError::NoAccess { .. } => Why::NoAccess,
            _ => Why::Other,
        };
        FileError {
            why,
            error: e.into(),
        }
    }
}

impl From<FileError> for StationError {
    fn from(e: FileError) -> Self {
        e.error
    }
}

/// No plant at `path`: the error a command gives before it tries to open it.
pub fn missing(path: &Path) -> StationError {
    StoreError::Missing {
        path: path.to_path_buf(),
    }
    .into()
}

/// `path` is there but is no plant file (a folder, a FIFO, a device).
pub fn not_a_plant(path: &Path, detail: &str) -> StationError {
    StoreError::NotLotline {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
    .into()
}

/// A plant's file opened in this process, not yet a station: what it records about itself
/// (its roles file) decides the roles the station is given.
pub struct PlantFile(Store);

impl PlantFile {
    /// As its writer (with `create`, made when it is not there).
    pub fn open(path: &Path, create: bool) -> Result<PlantFile, FileError> {
        Ok(PlantFile(Store::open(path, create)?))
    }

    /// As a reader beside the writer: never changes the file.
    pub fn open_read_only(path: &Path) -> Result<PlantFile, FileError> {
        Ok(PlantFile(Store::open_read_only(path)?))
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    pub fn writable(&self) -> bool {
        self.0.writable()
    }

    /// The roles file the plant records, if any.
    pub fn roles_file(&self) -> Result<Option<PathBuf>, StationError> {
        Ok(self.0.roles_file()?)
    }

    /// The station on this file for `caller` under `roles`.
    pub fn into_local(self, caller: Caller, roles: Roles) -> Local {
        Local::with_roles(self.0, caller, roles)
    }

    /// Close it and report what closing found.
    pub fn close(self) -> Result<(), StationError> {
        Ok(self.0.close()?)
    }

    /// A consistent copy of the plant as it is now, verified, at `dest` (never over a file).
    pub fn back_up(&self, dest: &Path) -> Result<CopyReport, StationError> {
        Ok(backup::write_backup(&self.0, dest)?)
    }

    /// Generate a plant of `spec`'s size into this (new) file.
    pub fn generate(
        &self,
        spec: &GenerateSpec,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Generated, StationError> {
        Ok(plantgen::generate(&self.0, spec, progress)?)
    }
}

/// What redb's own integrity check finds wrong with the file (on a private copy), if anything.
pub fn redb_integrity(path: &Path) -> Option<String> {
    backup::redb_integrity(path)
}

/// Each table's readability, for a file that fails redb's check.
pub fn scan_tables(path: &Path) -> Vec<String> {
    backup::scan_tables(path)
}

/// `work` on a private copy of `path` (in a 0700 folder nobody else can plant a link in),
/// opened as its writer so redb recovers it there, never in place; the copy is gone when
/// `work` returns.
pub fn on_recovered_copy<R>(
    path: &Path,
    work: impl FnOnce(PlantFile) -> R,
) -> Result<R, StationError> {
    let (private, copy) = backup::Private::copy_of(path).map_err(|m| StationError {
        kind: crate::ErrorKind::Database,
        field: None,
        message: m,
    })?;
    let file = PlantFile::open(&copy, false).map_err(StationError::from)?;
    let out = work(file);
    drop(private);
    Ok(out)
}

/// Every record still readable in `damaged`, into the new file `new`.
pub fn salvage(damaged: &Path, new: &Path) -> Result<CopyReport, StationError> {
    Ok(backup::salvage(damaged, new)?)
}

/// What went wrong closing plant files dropped since the last call: a failed close is
/// never silent.
pub fn take_close_failures() -> Vec<String> {
    lotline_store::take_close_failures()
}
