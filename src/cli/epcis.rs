//! `lotline epcis export` and `lotline epcis import`: GS1 EPCIS 2.0 JSON-LD documents for
//! trading partners, head offices and EPCIS repositories.

use super::{Failure, Res, open, open_read};
use clap::{Args, Subcommand};
use lotline_domain::*;
use lotline_export::epcis::{export, import};
use lotline_station::{Station, StationExt};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum EpcisCmd {
    /// Write the plant's receipts, batches and shipments as one EPCIS 2.0 JSON-LD document.
    Export(ExportArgs),
    /// Record the events of an EPCIS 2.0 JSON-LD document (lotline's or another system's),
    /// in one transaction: all or nothing (QA).
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// That lot's whole trace, both ways: our lot code, a supplier's lot code we
    /// received, or a scan of either.
    #[arg(long, value_name = "CODE")]
    pub lot: Option<String>,
    /// Only events naming lots of this item; repeat for several.
    #[arg(long, value_name = "CODE")]
    pub item: Vec<String>,
    /// First business date (YYYY-MM-DD), inclusive.
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last business date (YYYY-MM-DD), inclusive.
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Every item, not only those on the Food Traceability List.
    #[arg(long, conflicts_with = "ftl_only")]
    pub all: bool,
    /// Only items on the Food Traceability List (the default).
    #[arg(long)]
    pub ftl_only: bool,
    /// Write to this new file (never overwritten) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The EPCIS 2.0 JSON-LD document (at most 1 GiB).
    pub file: PathBuf,
    /// Put this in front of every lot code the document names: plants number lots alike,
    /// so give each plant its own prefix when merging them (e.g. `A-`).
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub lot_prefix: String,
    /// Record the events that map and list the others, instead of refusing the document.
    #[arg(long)]
    pub skip_unmappable: bool,
}

pub fn run(cli: &super::Cli, db: &Path, out: &mut impl Write, cmd: &EpcisCmd) -> Res {
    match cmd {
        EpcisCmd::Export(a) => {
            let st = open_read(cli, db)?;
            export_cmd(&st, out, a)
        }
        EpcisCmd::Import(a) => {
            let st = open(cli, db, true)?;
            // Through a server the document travels as one request, at most one frame.
            let limit = (!cli.no_server).then_some(lotline_station::wire::MAX_FRAME as u64);
            import_cmd(&st, out, a, limit)
        }
    }
}

/// Progress on stderr, only where a person watches it.
fn progress(label: &'static str) -> impl FnMut(u64) {
    let tty = std::io::stderr().is_terminal();
    move |n| {
        if tty {
            eprint!("\r  {label}: {n} events   ");
        }
    }
}

fn export_cmd(st: &dyn Station, out: &mut impl Write, a: &ExportArgs) -> Res {
    let today = st.today()?;
    let date = |t: &Option<String>, field: &str| {
        t.as_deref()
            .map(|t| parse_date(t, field, today))
            .transpose()
    };
    // A supplier's lot code is read as `trace` and `fsma --lot` read it; the document is
    // on standard output, so what it was read as goes to standard error.
    let lot = match a.lot.as_deref() {
        Some(text) => {
            let found = super::lookup::one_lot(st, text, "lot")?;
            let code = found.lot().code.clone();
            if let super::lookup::Found::Supplier { text, .. } = &found {
                eprintln!("Supplier lot {} is our lot {code}.", shown(text));
            }
            Some(code)
        }
        None => None,
    };
    let sel = export::Selection {
        lot,
        items: a
            .item
            .iter()
            .map(|i| ItemCode::parse(i, "item"))
            .collect::<Result<_, _>>()?,
        from: date(&a.from, "from")?,
        to: date(&a.to, "to")?,
        ftl_only: !a.all,
        events: None,
    };
    if let Some(path) = &a.out {
        refuse_existing(path)?;
    }
    let plan = export::plan(st, &sel, &mut progress("choosing")).map_err(export_failure)?;
    let created = chrono::Utc::now();
    let written = match &a.out {
        Some(path) => write_new_file(path, |w| {
            export::write(st, &plan, created, w, &mut progress("writing")).map_err(export_failure)
        })?,
        None => {
            let mut w = std::io::BufWriter::with_capacity(1 << 20, out);
            let n = export::write(st, &plan, created, &mut w, &mut progress("writing"))
                .map_err(export_failure)?;
            w.flush()?;
            n
        }
    };
    let c = plan.counts;
    eprintln!(
        "{}EPCIS document of {written} events ({} receipts, {} batches, {} shipments, {} returns, {} adjustments){}",
        if std::io::stderr().is_terminal() {
            "\r"
        } else {
            ""
        },
        c.receipts,
        c.batches,
        c.shipments,
        c.returns,
        c.adjustments,
        a.out
            .as_ref()
            .map(|p| format!(" written to {}", p.display()))
            .unwrap_or_default()
    );
    Ok(())
}

pub(super) fn export_failure(e: export::ExportError) -> Failure {
    match e {
        export::ExportError::Station(s) => s.into(),
        export::ExportError::Io(io) => io.into(),
        export::ExportError::Empty(why) => Failure::new(super::Kind::Invalid, why),
    }
}

fn refuse_existing(path: &Path) -> Res {
    if path.exists() {
        return Err(exists(path));
    }
    Ok(())
}

fn exists(path: &Path) -> Failure {
    Invalid::new(
        "out",
        format!(
            "{} already exists; lotline never overwrites a file: give a new name",
            path.display()
        ),
    )
    .into()
}

/// Write through `f` a new file at `path` (`lotline_files`): whole or absent, never
/// written over.
fn write_new_file<T>(path: &Path, f: impl FnOnce(&mut dyn Write) -> Res<T>) -> Res<T> {
    use lotline_files::Error;
    lotline_files::write_new_with(path, |w| f(w)).map_err(|e| match e {
        Error::Exists => exists(path),
        Error::Appeared => Invalid::new(
            "out",
            format!(
                "{} appeared while writing; nothing replaced it",
                path.display()
            ),
        )
        .into(),
        Error::Io(e) => Failure::data(format!("cannot write {}: {e}", path.display())),
        Error::Place(e) => Failure::data(format!("cannot create {}: {e}", path.display())),
        Error::Writer(f) => f,
    })
}

/// Text from a document, safe to print (the output is escaped again on its way out;
/// this keeps the message right wherever it goes).
fn shown(s: &str) -> String {
    lotline_domain::text::escape(s).into_owned()
}

/// Bytes `v` takes encoded as the station's wire format, without holding the encoding.
fn encoded_size(v: &impl serde::Serialize) -> u64 {
    struct Count(u64);
    impl Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len() as u64;
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    // Plain data always encodes; a failure would only undercount, and the server's own
    // frame check still stands behind this one.
    let _ = postcard::to_io(v, &mut c);
    c.0
}

fn import_cmd(
    st: &dyn Station,
    out: &mut impl Write,
    a: &ImportArgs,
    frame_limit: Option<u64>,
) -> Res {
    let shown_path = shown(&a.file.display().to_string());
    let file = std::fs::File::open(&a.file)
        .map_err(|e| Failure::invalid("file", format!("cannot open {shown_path}: {e}")))?;
    if let Ok(m) = file.metadata() {
        if m.is_dir() {
            return Err(Invalid::new("file", format!("{shown_path} is a directory")).into());
        }
        if m.len() > import::MAX_FILE {
            return Err(Invalid::new(
                "file",
                format!(
                    "{shown_path} is {} MiB, more than one import takes ({} MiB); export the plant in date ranges (--from/--to) and import each",
                    m.len() >> 20,
                    import::MAX_FILE >> 20
                ),
            )
            .into());
        }
    }
    let opts = import::Options {
        lot_prefix: a.lot_prefix.trim().to_ascii_uppercase(),
        skip_unmappable: a.skip_unmappable,
        ..Default::default()
    };
    let source = a
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parsed = import::read(file, &source, &opts, &mut progress("reading")).map_err(|e| {
        Failure::invalid(
            "file",
            format!("{shown_path}: {}; nothing was stored", shown(&e.0)),
        )
    })?;
    if std::io::stderr().is_terminal() && parsed.events_read >= 50_000 {
        eprintln!("\r  recording {} events ...", parsed.import.events.len());
    }
    if let Some(limit) = frame_limit {
        // The command as the station will receive it: the import plus a few bytes of
        // envelope (request and command tags), allowed for below.
        let size = encoded_size(&parsed.import);
        if size + 1024 > limit {
            return Err(Invalid::new(
                "file",
                format!(
                    "{shown_path} ({} events) is {} MiB as one request to the plant's server, more than it takes ({} MiB, about 400,000 events); export the plant in date ranges (--from/--to) and import each, or import with --no-server while no server runs",
                    parsed.import.events.len(),
                    size >> 20,
                    limit >> 20
                ),
            )
            .into());
        }
    }
    for d in &parsed.declared_in_error {
        writeln!(
            out,
            "not imported: event {} {}: {}",
            d.index,
            shown(&d.event_id),
            shown(&d.reason)
        )?;
    }
    let report = st.import_epcis(parsed.import)?;
    for u in &report.unmapped {
        writeln!(
            out,
            "{}: event {} {}: {}",
            if report.stored {
                "skipped"
            } else {
                "cannot map"
            },
            u.index,
            shown(&u.event_id),
            shown(&u.reason)
        )?;
    }
    if !report.stored {
        return Err(Failure::invalid(
            "file",
            format!(
                "{} of {} events in {shown_path} cannot be recorded (listed above); nothing was stored. Import the documents they depend on first, or give --skip-unmappable to record the rest",
                report.unmapped.len(),
                parsed.events_read
            ),
        ));
    }
    writeln!(
        out,
        "imported {} events as {} records ({} lots, {} new items, {} new parties); {} already imported; {} skipped; {} declared in error",
        report.imported,
        report.records,
        report.lots_created,
        report.items_created,
        report.parties_created,
        report.already,
        report.unmapped.len(),
        parsed.declared_in_error.len()
    )?;
    if report.partner_lots + report.filled_in > 0 {
        writeln!(
            out,
            "{} lots the plant had never seen are kept as known only by the partner's identifier (`lotline lots` shows them as \"known only from\"); {} such lots filled in by a receipt",
            report.partner_lots, report.filled_in
        )?;
    }
    Ok(())
}
