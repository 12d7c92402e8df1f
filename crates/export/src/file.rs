//! New files in the words of the option that named them: every file export writes goes
//! through `lotline_files` (whole or absent, never over an existing file), and a refusal
//! or failure comes back as the option's error.

use lotline_domain::Invalid;
use lotline_station::StationError;
use std::path::Path;

/// Refuse to write where a file already is, naming it: asked before any work, so a long
/// export is not run for nothing.
pub(crate) fn refuse_existing(path: &Path, flag: &str) -> Result<(), StationError> {
    if path.exists() {
        return Err(exists(path, flag));
    }
    Ok(())
}

fn exists(path: &Path, flag: &str) -> StationError {
    Invalid::new(
        flag,
        format!(
            "{} already exists; give a new name (nothing was written)",
            path.display()
        ),
    )
    .into()
}

pub(crate) fn io_error(flag: &str, path: &Path, e: impl std::fmt::Display) -> StationError {
    Invalid::new(
        flag,
        format!("{} could not be written: {e}", path.display()),
    )
    .into()
}

/// Why the new file at `path` was not made, as `flag`'s error.
pub(crate) fn not_written<E: std::fmt::Display>(
    flag: &str,
    path: &Path,
    e: lotline_files::Error<E>,
) -> StationError {
    use lotline_files::Error;
    match e {
        Error::Exists => exists(path, flag),
        Error::Appeared => Invalid::new(
            flag,
            format!(
                "{} appeared while writing; nothing was written over it",
                path.display()
            ),
        )
        .into(),
        Error::Io(e) | Error::Place(e) => io_error(flag, path, e),
        Error::Writer(e) => io_error(flag, path, e),
    }
}

/// Write `text` as a new file at `path` (see `lotline_files`). `flag` names the option
/// for errors.
pub fn write_new_file(path: &Path, text: &str, flag: &str) -> Result<(), StationError> {
    lotline_files::write_new(path, text).map_err(|e| not_written(flag, path, e))
}
