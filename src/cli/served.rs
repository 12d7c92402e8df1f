//! `check` and `backup` for users who may not read the plant's file: on a plant run as a
//! service only the service user reads it, so QA's checks go through the plant's server.
//! A file this user cannot read is never reported as damage: it says so, and asks the
//! server, which reads it. The server never writes where a client names: a backup comes
//! back as the bytes of the copy the server verified, written here with this user's own
//! rights and checked against the server's SHA-256 (see `station::copies`).

use super::{Failure, Kind, Res, output};
use lotline_station::remote::{ConnectError, Remote};
use lotline_station::{StationError, StationExt};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

/// Why this user cannot read `path`, when that is the reason it cannot be opened. Only a
/// regular file is tried (a FIFO would block an open, a device may act on one), and the
/// open does not wait; anything else is left to the command's own checks.
pub fn unreadable(path: &Path) -> Option<std::io::Error> {
    use std::os::unix::fs::OpenOptionsExt;
    let denied =
        |e: std::io::Error| (e.kind() == std::io::ErrorKind::PermissionDenied).then_some(e);
    match std::fs::metadata(path) {
        // A folder on the way this user may not enter.
        Err(e) => denied(e),
        Ok(m) if !m.is_file() => None,
        Ok(_) => std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .err()
            .and_then(denied),
    }
}

fn me() -> String {
    lotline_station::identity::Identity::current().user
}

/// The plant's server, reached without starting one: a server started by a user who
/// cannot read the file could not open it either.
fn server(cli: &super::Cli, db: &Path, why: &std::io::Error) -> Res<Remote> {
    let socket = super::socket_of(cli, db);
    Remote::connect_to(db, &socket, &super::station_name(cli)?).map_err(|e| match e {
        ConnectError::NoServer(_) => Failure::new(
            Kind::Busy,
            format!(
                "{} cannot read {} ({why}), and no lotline server answers on {} to read it instead: ask the plant's IT to start it (`systemctl start lotline`), or run this as a user who may read the file",
                me(),
                db.display(),
                socket.display()
            ),
        ),
        other => StationError::from(other).into(),
    })
}

/// `lotline check` on a file this user cannot read: the plant's own file is checked by
/// its server; any other file cannot be checked from here, which is said as such.
pub fn check(
    cli: &super::Cli,
    out: &mut impl Write,
    path: &Path,
    db: &Path,
    json: bool,
    why: std::io::Error,
) -> Res {
    if path != db {
        return Err(Failure::data(format!(
            "{} cannot read {} ({why}); that says nothing about the file itself: check it as a user who may read it",
            me(),
            path.display()
        )));
    }
    let note = format!(
        "{} cannot read {} ({why}); running the check through the plant's server (lotline's rules on the live data)",
        me(),
        path.display()
    );
    // JSON output stays one JSON document; the note goes beside it.
    if json {
        eprintln!("{note}");
    } else {
        writeln!(out, "{note}")?;
    }
    let st = server(cli, path, &why)?;
    let report = st.check()?;
    output::check(out, &report, json)?;
    if report.problems.is_empty() {
        return Ok(());
    }
    Err(Failure::new(
        Kind::Problems,
        format!(
            "the plant's server found {} in {}; lotline will not write to it. Ask the plant's IT to restore the last good backup (`lotline check BACKUP` first)",
            lotline_domain::words::plural(report.problems.len(), "problem", "problems"),
            path.display()
        ),
    ))
}

/// `lotline backup FILE` when this user cannot read the database: the server takes a
/// verified copy and this process fetches it into FILE.
pub fn backup(
    cli: &super::Cli,
    out: &mut impl Write,
    db: &Path,
    dest: &Path,
    why: std::io::Error,
) -> Res {
    if dest.symlink_metadata().is_ok() {
        return Err(Failure::invalid(
            "file",
            format!(
                "{} already exists; lotline never overwrites a file: name a new one",
                dest.display()
            ),
        ));
    }
    let st = server(cli, db, &why)?;
    let offer = st.backup_start()?;
    let fetched = fetch(&st, &offer, dest);
    let _ = st.backup_done(offer.id);
    fetched?;
    writeln!(
        out,
        "{} cannot read {} ({why}), so the plant's server took the backup: {} records, {} bytes, now at {} (SHA-256 matches the server's verified copy); check it with `lotline check {}`",
        me(),
        db.display(),
        offer.records,
        offer.bytes,
        dest.display(),
        dest.display()
    )?;
    Ok(())
}

/// Fetch the server's copy into `dest`: a new private file (`lotline_files`: under a
/// temporary name, synced, never over a file), kept only if its SHA-256 matches, then
/// opened as a plant.
fn fetch(st: &Remote, offer: &lotline_station::copies::BackupOffer, dest: &Path) -> Res {
    use lotline_files::{Access, Error, NewFile};
    let cannot_write =
        |e: std::io::Error| Failure::data(format!("cannot write {}: {e}", dest.display()));
    let placed = NewFile::at(dest).access(Access::Private).write_with(|f| -> Res {
        let mut hash = Sha256::new();
        let mut at = 0u64;
        while at < offer.bytes {
            let part = st.backup_part(offer.id, at)?;
            if part.is_empty() {
                return Err(Failure::data(format!(
                    "the server's copy ended at {at} of {} bytes; nothing was kept: run `lotline backup` again",
                    offer.bytes
                )));
            }
            hash.update(&part);
            f.write_all(&part).map_err(cannot_write)?;
            at += part.len() as u64;
        }
        if <[u8; 32]>::from(hash.finalize()) != offer.sha256 {
            return Err(Failure::data(
                "the copy that arrived differs from the one the server verified (SHA-256); nothing was kept: run `lotline backup` again",
            ));
        }
        Ok(())
    });
    placed.map_err(|e| match e {
        Error::Exists | Error::Appeared => Failure::invalid(
            "file",
            format!(
                "{} appeared while the backup was fetched; lotline never overwrites a file: name a new one",
                dest.display()
            ),
        ),
        Error::Io(e) => cannot_write(e),
        Error::Place(e) => Failure::data(format!("cannot put the copy at {}: {e}", dest.display())),
        Error::Writer(f) => f,
    })?;
    // The bytes are the server's verified copy; that it opens as a plant here is the
    // last word.
    lotline_station::file::PlantFile::open_read_only(dest)
        .map_err(lotline_station::StationError::from)?
        .close()?;
    Ok(())
}
