//! Durable new files. Everything lotline hands over as a file (a spreadsheet for FDA, an
//! EPCIS document, a recall list, a fetched backup) is created whole or not at all, and
//! never over a file that is there: it is written under a private temporary name in the
//! same folder, synced, then linked into place (a hard link fails where a name exists,
//! where a rename would replace it), and the folder is synced so the new name survives a
//! power cut. A full disk, a kill or a failed writer leaves nothing at the path and no
//! temporary behind.
//!
//! The errors say what happened, not how to word it: each caller keeps its own message.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

#[cfg(test)]
mod tests;

/// Why no new file was made. In every case nothing is at the path that was not there
/// before, and no temporary file is left.
#[derive(Debug)]
pub enum Error<E = std::convert::Infallible> {
    /// Something was at the path already (a file, a folder, a link, even a broken one);
    /// nothing was written.
    Exists,
    /// Something appeared at the path while the file was being written; it was left as it
    /// is and the new file was dropped.
    Appeared,
    /// Making, writing or syncing the temporary file failed.
    Io(io::Error),
    /// The finished file could not be put at the path.
    Place(io::Error),
    /// The caller's writer failed.
    Writer(E),
}

impl<E: std::fmt::Display> std::fmt::Display for Error<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Exists => f.write_str("a file is there already"),
            Error::Appeared => f.write_str("a file appeared there while this one was written"),
            Error::Io(e) | Error::Place(e) => e.fmt(f),
            Error::Writer(e) => e.fmt(f),
        }
    }
}

impl<E: std::fmt::Debug + std::fmt::Display> std::error::Error for Error<E> {}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        match e {
            Error::Exists | Error::Appeared => {
                io::Error::new(io::ErrorKind::AlreadyExists, e.to_string())
            }
            Error::Io(e) | Error::Place(e) => e,
        }
    }
}

/// Who may read the finished file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// As `File::create` would make it: 0666 less the umask. The temporary stays private
    /// (0600) until it is whole, and gets these rights just before it is linked in.
    #[default]
    Usual,
    /// Its owner's alone (0600) whatever the umask: a copy of the plant holds every record.
    Private,
}

/// A new file at `path`, made by `write` or `write_with`.
#[derive(Debug, Clone, Copy)]
pub struct NewFile<'a> {
    path: &'a Path,
    access: Access,
}

/// Write `bytes` as a new file at `path` (see `NewFile::write`).
pub fn write_new(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), Error> {
    NewFile::at(path).write(bytes)
}

/// Write a new file at `path` through `f` (see `NewFile::write_with`).
pub fn write_new_with<T, E>(
    path: &Path,
    f: impl FnOnce(&mut BufWriter<File>) -> Result<T, E>,
) -> Result<T, Error<E>> {
    NewFile::at(path).write_with(f)
}

impl<'a> NewFile<'a> {
    pub fn at(path: &'a Path) -> Self {
        NewFile {
            path,
            access: Access::Usual,
        }
    }

    pub fn access(self, access: Access) -> Self {
        NewFile { access, ..self }
    }

    /// Write `bytes` as the whole file.
    pub fn write(self, bytes: impl AsRef<[u8]>) -> Result<(), Error> {
        self.write_with(|w| w.write_all(bytes.as_ref()))
            .map_err(|e| match e {
                Error::Writer(e) => Error::Io(e),
                Error::Exists => Error::Exists,
                Error::Appeared => Error::Appeared,
                Error::Io(e) => Error::Io(e),
                Error::Place(e) => Error::Place(e),
            })
    }

    /// Write the file through `f`, which gets a buffered writer on the temporary file
    /// (it can be handed to anything that takes `Write`, or `Write + Send`). `f` failing
    /// leaves nothing behind and is returned as `Error::Writer`; what it returns otherwise
    /// is returned once the file is in place.
    pub fn write_with<T, E>(
        self,
        f: impl FnOnce(&mut BufWriter<File>) -> Result<T, E>,
    ) -> Result<T, Error<E>> {
        let path = self.path;
        // Not `exists()`: that follows a link, and a broken one would read as free.
        if path.symlink_metadata().is_ok() {
            return Err(Error::Exists);
        }
        let (tmp, file) = private_temp(path, self.access).map_err(Error::Io)?;
        // Removed however this ends, a panic in `f` included. After a link it is a second
        // name for the file; after a rename it is already gone.
        let tmp = Temp(tmp);
        let tmp = &tmp.0;
        let result = (|| {
            let mut w = BufWriter::with_capacity(1 << 20, file);
            let value = f(&mut w).map_err(Error::Writer)?;
            let file = w.into_inner().map_err(|e| Error::Io(e.into_error()))?;
            if self.access == Access::Usual {
                use std::os::unix::fs::PermissionsExt;
                // Best effort: a file system without Unix modes (a FAT stick) refuses any
                // change, and what it shows is its mount's to say.
                let _ = file.set_permissions(std::fs::Permissions::from_mode(0o666 & !umask()));
            }
            file.sync_all().map_err(Error::Io)?;
            drop(file);
            match link_no_replace(tmp, path) {
                Ok(()) => Ok(value),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(Error::Appeared),
                Err(e) => Err(Error::Place(e)),
            }
        })();
        if result.is_ok() {
            sync_dir(folder_of(path));
        }
        result
    }
}

/// A temporary file's name, removed when dropped.
struct Temp(PathBuf);

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// fsync a folder, so a link, rename or removal in it survives a power cut. Best effort:
/// some file systems refuse to sync a folder, and the data itself is already synced.
pub fn sync_dir(dir: &Path) {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The folder `path` is in ("." for a bare name).
fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A new empty file beside `path`, readable and writable by its owner only (0600), under
/// a name no other file has: in the same folder so the final link stays on one file
/// system, hidden (a leading dot), and never opened through a link planted at the name.
/// Where the file system cannot make it exactly 0600 (one without Unix modes), that is
/// refused for a `Private` file and let be for a `Usual` one.
fn private_temp(path: &Path, access: Access) -> io::Result<(PathBuf, File)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    // Two writers in one process (the app exports while it runs) never share a name.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let dir = folder_of(path);
    let mut tries = 0;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}-{n}.tmp", std::process::id()));
        match create_0600(&tmp) {
            Ok(file) => {
                let exact = exactly_0600(&file);
                if let Err(e) = exact
                    && access == Access::Private
                {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e);
                }
                return Ok((tmp, file));
            }
            // Left by a process that had this id before and was killed: take another name.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 100 => tries += 1,
            Err(e) => return Err(e),
        }
    }
}

/// For writers that must write by path (redb creates and syncs its own file; a copy is
/// made with `std::fs::copy`), the same steps `NewFile` takes, one at a time: make the
/// temporary with [`private_file`], fill it, [`sync_file`], [`link_no_replace`], remove the
/// temporary, [`sync_dir`].
///
/// A new empty file at `path`, its owner's alone (0600) whatever the umask, never opened
/// through a link planted at the name; fails if anything is there.
pub fn private_file(path: &Path) -> io::Result<File> {
    let file = create_0600(path)?;
    exactly_0600(&file)?;
    Ok(file)
}

/// A new file at `path` asked for as 0600, never through a link at the name; fails if
/// anything is there.
fn create_0600(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// The umask can only take bits away from what `create_0600` asked; set exactly 0600 on
/// the open file (a file system without Unix modes refuses).
fn exactly_0600(file: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

/// fsync a file's contents, by path.
pub fn sync_file(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

/// Put `tmp` at `dest` unless something is there: a hard link (atomic, never replaces),
/// or on file systems without hard links a rename that refuses to replace.
pub fn link_no_replace(tmp: &Path, dest: &Path) -> io::Result<()> {
    match std::fs::hard_link(tmp, dest) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(e) => rename_no_replace(tmp, dest).map_err(|r| match r.kind() {
            io::ErrorKind::AlreadyExists => r,
            // No way to place it without risking a replace: the link's reason is the one.
            _ => e,
        }),
    }
}

#[cfg(target_os = "linux")]
fn rename_no_replace(tmp: &Path, dest: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL in the path"))
    };
    let (from, to) = (c(tmp)?, c(dest)?);
    // SAFETY: both are valid NUL-terminated paths that live across the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn rename_no_replace(_tmp: &Path, _dest: &Path) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// The process's umask, without changing it where the system says what it is: setting
/// it to read it back would race with other threads creating files.
fn umask() -> u32 {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(mask) = status
            .lines()
            .find_map(|l| l.strip_prefix("Umask:"))
            .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
    {
        return mask & 0o777;
    }
    // Elsewhere read it by setting the strictest mask for a moment: a file another thread
    // makes meanwhile comes out more private, never less.
    // SAFETY: umask(2) cannot fail and touches no memory.
    let old = unsafe { libc::umask(0o077) };
    // SAFETY: as above.
    unsafe { libc::umask(old) };
    // mode_t is narrower than u32 on some systems.
    #[allow(clippy::unnecessary_cast)]
    let old = old as u32;
    old & 0o777
}
