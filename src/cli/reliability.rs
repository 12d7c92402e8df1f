//! `check`, `backup` and `salvage`: proving a file sound, copying it while stations work,
//! and rescuing what a damaged one still holds. None of them ever writes to the file it
//! reads (docs/architecture.md, "Trust in the file").

use super::{Failure, Kind, Res, local, output};
use lotline_domain::words::plural;
use lotline_domain::{CheckReport, Problem};
use lotline_station::StationError;
use lotline_station::StationExt;
use lotline_station::file::{self, PlantFile, Why};
use std::io::Write;
use std::path::Path;

/// `lotline check [FILE]`: redb's own integrity check first (on a private copy), then
/// lotline's rules; every problem found, table by table. Never writes to the file: a file
/// that must be recovered before it can be read is checked through a private copy.
pub fn check(cli: &super::Cli, out: &mut impl Write, path: &Path, json: bool) -> Res {
    match std::fs::metadata(path) {
        Err(_) => {
            return Err(file::missing(path).into());
        }
        // A FIFO would hang the copy, a device would never end.
        Ok(m) if !m.is_file() => {
            return Err(file::not_a_plant(path, "it is not a regular file").into());
        }
        Ok(_) => {}
    }
    let mut problems: Vec<Problem> = Vec::new();
    let redb = file::redb_integrity(path);
    if let Some(p) = &redb {
        problems.push(Problem(format!("redb: {p}")));
        for t in file::scan_tables(path) {
            problems.push(Problem(format!("redb: {t}")));
        }
    }
    let rules = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| lotline_rules(cli, path)))
        .unwrap_or_else(|_| {
            Err(Failure::new(
                Kind::Data,
                "lotline's rules could not be checked: redb stopped on a damaged page",
            ))
        });
    let mut unreadable = None;
    let mut report = match rules {
        Ok(r) => r,
        Err(f) if redb.is_some() => {
            problems.push(Problem(format!("lotline: {}", f.message)));
            unreadable = Some(f.message);
            CheckReport::default()
        }
        Err(f) => return Err(f),
    };
    problems.append(&mut report.problems);
    report.problems = problems;
    output::check(out, &report, json)?;
    if report.problems.is_empty() {
        return Ok(());
    }
    if let Some(m) = unreadable {
        return Err(Failure::new(
            Kind::Problems,
            format!(
                "{m}; {} listed",
                plural(report.problems.len(), "problem", "problems")
            ),
        ));
    }
    Err(Failure::new(
        Kind::Problems,
        format!(
            "{} found in {}; lotline will not write to it. Restore the last good backup (`lotline check BACKUP` first), or copy what is readable with `lotline salvage {} NEW.redb`",
            plural(report.problems.len(), "problem", "problems"),
            path.display(),
            path.display()
        ),
    ))
}

/// lotline's own rules on the file, opened read-only; or, when redb must recover it
/// before it can be read, on a private copy recovered in its place.
fn lotline_rules(cli: &super::Cli, path: &Path) -> Res<CheckReport> {
    let store = match PlantFile::open_read_only(path) {
        Ok(s) => s,
        Err(e) if e.why == Why::NeedsWriter => {
            // In a private folder: nobody can put a link or a FIFO at its name, nor read
            // the copy of a plant they may not read.
            return file::on_recovered_copy(path, |store| -> Res<CheckReport> {
                Ok(local(cli, store)?.check()?)
            })?;
        }
        Err(e) => return Err(StationError::from(e).into()),
    };
    let st = local(cli, store)?;
    Ok(st.check()?)
}

/// `lotline backup FILE`: a consistent copy of the plant as it is now, while stations go on
/// working; verified before this returns.
pub fn backup(out: &mut impl Write, db: &Path, dest: &Path) -> Res {
    let store = match PlantFile::open_read_only(db) {
        Ok(s) => s,
        // A file that needs recovery is recovered by its writer first.
        Err(e) if e.why == Why::NeedsWriter => {
            PlantFile::open(db, false).map_err(StationError::from)?
        }
        Err(e) => return Err(StationError::from(e).into()),
    };
    let rep = store.back_up(dest)?;
    store.close()?;
    writeln!(
        out,
        "backed up {} records of {} to {} ({} bytes); check it with `lotline check {}`",
        rep.records(),
        db.display(),
        rep.path.display(),
        rep.bytes,
        rep.path.display()
    )?;
    Ok(())
}

/// `lotline salvage DAMAGED NEW`: every record still readable, into a new file.
pub fn salvage(out: &mut impl Write, damaged: &Path, new: &Path) -> Res {
    let rep = file::salvage(damaged, new)?;
    for (table, n) in &rep.tables {
        writeln!(out, "{table:<20} {n:>9} records copied")?;
    }
    for u in &rep.unreadable {
        writeln!(out, "NOT READ: {u}")?;
    }
    writeln!(
        out,
        "salvaged {} records from {} into {}; {} left untouched. Run `lotline check {}`: what a damaged page held may be missing from it",
        rep.records(),
        damaged.display(),
        new.display(),
        damaged.display(),
        new.display()
    )?;
    if rep.unreadable.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(
            Kind::Data,
            format!(
                "{} part(s) of {} could not be read; see NOT READ above",
                rep.unreadable.len(),
                damaged.display()
            ),
        ))
    }
}
