//! Reading a settings file (the keymap, the config) safely: both the keymap and the config
//! read theirs this way, so it lives below both.

use std::path::Path;

/// Largest keymap or config file read: real ones are a few kilobytes.
pub const MAX_SETTINGS_FILE: u64 = 256 * 1024;

/// Read a small settings file (keymap, config): a regular file only, at most `max` bytes.
/// `/dev/zero` would be read until memory runs out, and a FIFO would hang the start of the
/// app; both are refused with a reason. Opened non-blocking, so a FIFO put in the file's
/// place between the check and the open cannot hang it either.
pub fn read_settings_file(path: &Path, max: u64) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind, Read};
    use std::os::unix::fs::OpenOptionsExt;
    let not_regular = || {
        Error::new(
            ErrorKind::InvalidInput,
            "it is not a regular file (a device, pipe or folder); give a file",
        )
    };
    if !std::fs::metadata(path)?.is_file() {
        return Err(not_regular());
    }
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    if !f.metadata()?.is_file() {
        return Err(not_regular());
    }
    let mut bytes = Vec::new();
    f.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(Error::new(
            ErrorKind::InvalidData,
            format!(
                "it is larger than {} KiB; is it the right file?",
                max / 1024
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|_| Error::new(ErrorKind::InvalidData, "it is not UTF-8 text"))
}
