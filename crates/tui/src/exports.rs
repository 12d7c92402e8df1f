//! Exports from the app (docs/architecture.md, "The law behind it"): the FSMA 204 sortable spreadsheet for FDA — for the
//! Trace screen's root (its whole trace, both ways) or for a date range, items and FTL
//! foods — and a saved shipment's shipping KDEs for its customer (CSV, and EPCIS when
//! chosen). The dialog is the app's, drawn over whatever screen is in front.
//!
//! A mock recall's workbook and one-page summary (`mock`) come from the Trace screen's
//! record the same way.
//!
//! The work runs on a worker thread (`Work::run`, spawned by the app loop) that reports
//! progress through a channel the loop polls, as label printing does: a year of records
//! takes seconds, and the app keeps taking keys and scans meanwhile. Esc hides a running
//! export; its progress and result then come to the status line. Nothing is ever written
//! over an existing file, and filters that match nothing write nothing.

use super::App;
use super::draw::{self, put};
use super::form::{Candidate, Field, Form, Slot};
use super::kde_check::{CheckWork, Checked, Panel, scope_of};
use super::keymap::{Action, Layer, ScreenId};
use super::queue::{Outcome, Status};
use super::screens::trace::Stage as TraceStage;
use super::screens::{Checks, FormAction, Ui, common, invalid, refuse_all};
use chrono::NaiveDate;
use lotline_domain::LotFilter;
use lotline_domain::{ItemCode, LotCode, Refused, parse_date};
use lotline_export::epcis::export as epcis;
use lotline_export::fsma::{self, Request, RunBy, XlsxStep};
use lotline_station::{Station, StationError, StationExt};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

mod mock;
pub use mock::open_mock;

/// What the dialog exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    /// The FDA sortable spreadsheet.
    Fda,
    /// The shipping KDEs of this shipment (its event id).
    Kde { shipment: u64 },
    /// A mock recall's workbook and one-page summary (its id).
    Mock { id: u64 },
}

/// Where the dialog is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Filling in what to export and where.
    Form,
    /// The worker is at it.
    Running,
    /// Written: one line per file, then the counts.
    Done(Vec<String>),
    /// Refused or failed; nothing was written.
    Failed(String),
}

/// How far the worker is: step `step` of `steps`, and `done` of `total` within it
/// (`total` 0 when the step cannot tell).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    pub step: u32,
    pub steps: u32,
    pub done: u64,
    pub total: u64,
    pub what: String,
}

impl Progress {
    fn at(step: u32, steps: u32, what: impl Into<String>) -> Progress {
        Progress {
            step,
            steps,
            done: 0,
            total: 0,
            what: what.into(),
        }
    }

    /// The whole export's share done, 0 to 1: finished steps plus this one's part.
    pub fn fraction(&self) -> f64 {
        if self.steps == 0 {
            return 0.0;
        }
        let within = if self.total > 0 {
            (self.done as f64 / self.total as f64).min(1.0)
        } else {
            0.0
        };
        ((f64::from(self.step.saturating_sub(1)) + within) / f64::from(self.steps)).min(1.0)
    }

    /// "Step 2 of 3: writing the workbook, 120000 of 300000 rows".
    pub fn text(&self) -> String {
        let mut s = format!("Step {} of {}: {}", self.step, self.steps, self.what);
        if self.total > 0 {
            use lotline_domain::words::thousands;
            s.push_str(&format!(
                ", {} of {}",
                thousands(self.done as usize),
                thousands(self.total as usize)
            ));
        }
        s
    }
}

/// What the worker tells the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    Progress(Progress),
    Done(Vec<String>),
    Failed(String),
    /// Stopped as asked (Esc, or the app closing) before anything was written.
    Cancelled,
}

/// How a worker's job ends short of done.
enum End {
    /// Asked to stop, and stopped with nothing written.
    Stopped,
    Failed(String),
}

fn failed(e: impl std::fmt::Display) -> End {
    End::Failed(e.to_string())
}

/// The work itself, checked and ready.
#[derive(Debug, Clone)]
pub enum Job {
    Fda {
        req: Request,
        /// The workbook, or (when `None`) the CSV folder.
        xlsx: Option<PathBuf>,
        csv: Option<PathBuf>,
    },
    Kde {
        shipment: u64,
        csv: PathBuf,
        epcis: Option<PathBuf>,
    },
    Mock {
        id: u64,
        xlsx: Option<PathBuf>,
        summary: Option<PathBuf>,
    },
}

/// What a test runs at each point where the worker may stop (see `Work::pause`).
#[cfg(test)]
pub type Pause = Box<dyn Fn(&Progress) + Send>;

/// A job and the channel back to the app: what the app loop hands a worker thread.
pub struct Work {
    pub job: Job,
    tx: mpsc::Sender<Msg>,
    /// Set when the user cancels this export or the app closes.
    stop: Arc<AtomicBool>,
    /// Called at each point where the worker may stop, after the app was told of it:
    /// tests hold the worker there to cancel at a known step.
    #[cfg(test)]
    pub pause: Option<Pause>,
}

impl Work {
    /// Send a message as the worker would (for tests of the app side).
    pub fn report(&self, m: Msg) {
        let _ = self.tx.send(m);
    }

    /// Do the job against `st`, reporting as it goes; ends with `Done`, `Failed` or
    /// `Cancelled`.
    pub fn run(self, st: &dyn Station) {
        let result = match &self.job {
            Job::Fda { req, xlsx, csv } => self.fda(st, req, xlsx.as_deref(), csv.as_deref()),
            Job::Kde {
                shipment,
                csv,
                epcis,
            } => self.kde(st, *shipment, csv, epcis.as_deref()),
            Job::Mock { id, xlsx, summary } => {
                self.mock(st, *id, xlsx.as_deref(), summary.as_deref())
            }
        };
        // The app may have quit meanwhile; then nobody is listening.
        let _ = self.tx.send(match result {
            Ok(lines) => Msg::Done(lines),
            Err(End::Stopped) => Msg::Cancelled,
            Err(End::Failed(e)) => Msg::Failed(e),
        });
    }

    fn send(&self, p: Progress) {
        let _ = self.tx.send(Msg::Progress(p));
    }

    /// Whether a stop was asked for (Esc, or the app closing): then nothing more is
    /// written.
    fn stopped(&self) -> Result<(), End> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(End::Stopped);
        }
        Ok(())
    }

    /// A point where the worker may stop: the app hears how far it is, then a stop
    /// asked for is taken here.
    fn point(&self, p: Progress) -> Result<(), End> {
        #[cfg(test)]
        let held = p.clone();
        self.send(p);
        #[cfg(test)]
        if let Some(pause) = &self.pause {
            pause(&held);
        }
        self.stopped()
    }

    fn fda(
        &self,
        st: &dyn Station,
        req: &Request,
        xlsx: Option<&Path>,
        csv: Option<&Path>,
    ) -> Result<Vec<String>, End> {
        let steps = if xlsx.is_some() { 3 } else { 2 };
        self.point(Progress::at(1, steps, "reading the records"))?;
        let run = st
            .whoami()
            .map(|me| RunBy {
                operator: me.operator,
                station: me.station,
                at: chrono::Utc::now(),
            })
            .map_err(failed)?;
        // Reading cannot stop part way; a stop asked for meanwhile is taken after it.
        let export = fsma::gather(st, req, &run, &mut |what: &str| {
            self.send(Progress::at(1, steps, what));
        })
        .map_err(failed)?;
        self.stopped()?;
        let counts: Vec<String> = export
            .sheets
            .iter()
            .map(|s| format!("{} {}", s.rows.len(), s.name.to_lowercase()))
            .collect();
        let mut lines = Vec::new();
        if let Some(path) = xlsx {
            // Each progress point of the writer is one where a stop is taken: the
            // workbook (or its temporary file) is then never left behind.
            let mut stop = false;
            let written = fsma::write_xlsx_with(path, &export, &mut |s| {
                let p = match s {
                    XlsxStep::Rows { done, total } => Progress {
                        done,
                        total,
                        ..Progress::at(2, steps, "writing the rows")
                    },
                    XlsxStep::Saving => Progress::at(3, steps, "compressing and saving"),
                    XlsxStep::Saved => Progress::at(3, steps, "putting the file in place"),
                };
                stop = self.point(p).is_err();
                if stop {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .map_err(failed)?;
            if written.is_break() || stop {
                return Err(End::Stopped);
            }
            lines.push(format!("Wrote {}", path.display()));
        }
        if let Some(dir) = csv {
            // The CSV files go one after another; once begun they are all written.
            self.point(Progress::at(2, steps, "writing the CSV files"))?;
            for p in fsma::write_csv(dir, &export).map_err(failed)? {
                lines.push(format!("Wrote {}", p.display()));
            }
        }
        lines.push(format!("{} rows: {}", export.rows(), counts.join(", ")));
        lines.push(
            "Check the Read me, then send the file as FDA directs; keep a copy with the request."
                .into(),
        );
        Ok(lines)
    }

    fn kde(
        &self,
        st: &dyn Station,
        shipment: u64,
        csv: &Path,
        epcis_path: Option<&Path>,
    ) -> Result<Vec<String>, End> {
        let steps = if epcis_path.is_some() { 2 } else { 1 };
        self.point(Progress::at(1, steps, "reading the shipment"))?;
        let sheet = fsma::shipment(st, shipment).map_err(failed)?;
        let text = fsma::sheet_csv(&sheet).map_err(failed)?;
        let sel = epcis::Selection {
            events: Some(vec![shipment]),
            ..Default::default()
        };
        let epcis_failed = |e: epcis::ExportError| match e {
            epcis::ExportError::Station(s) => failed(s),
            epcis::ExportError::Io(io) => failed(format!("epcis: {io}")),
            epcis::ExportError::Empty(why) => End::Failed(why),
        };
        // Everything is read before the first file is written, so that a stop asked
        // for until then leaves nothing; the two small files then go together.
        let plan = match epcis_path {
            Some(_) => Some(epcis::plan(st, &sel, &mut |_| {}).map_err(epcis_failed)?),
            None => None,
        };
        self.point(Progress::at(1, steps, "writing the CSV"))?;
        fsma::write_new_file(csv, &text, "csv").map_err(failed)?;
        let mut lines = vec![format!(
            "Wrote {} ({} line{})",
            csv.display(),
            sheet.rows.len(),
            if sheet.rows.len() == 1 { "" } else { "s" }
        )];
        if let (Some(path), Some(plan)) = (epcis_path, plan) {
            self.send(Progress::at(2, steps, "writing the EPCIS document"));
            let n = epcis::write_file(st, &plan, chrono::Utc::now(), path, &mut |_| {})
                .map_err(epcis_failed)?;
            lines.push(format!(
                "Wrote {} (EPCIS 2.0, {n} event{})",
                path.display(),
                if n == 1 { "" } else { "s" }
            ));
        }
        lines.push("Send both to the customer with the shipment's documents.".into());
        Ok(lines)
    }
}

/// The dialog: what it exports, its form, and how the export is going.
pub struct Dialog {
    pub what: What,
    pub form: Form,
    pub stage: Stage,
    pub progress: Progress,
    /// False once Enter hid a running export: it goes on, reporting on the status line.
    pub shown: bool,
    /// Esc asked the running export to stop; the worker stops at its next step.
    pub cancelling: bool,
    /// The FDA form's KDE check: the lot it is for and, once its worker has said, what
    /// it found (`kde_check`); none for other exports.
    pub kde_check: Option<crate::kde_check::Panel>,
}

impl Dialog {
    /// The dialog's form, shown, nothing running yet.
    fn new(what: What, form: Form) -> Dialog {
        Dialog {
            what,
            form,
            stage: Stage::Form,
            progress: Progress::default(),
            shown: true,
            cancelling: false,
            kde_check: None,
        }
    }
}

/// The app's exports: the dialog, the job waiting for a worker, the running one; and the
/// FDA form's KDE check, which has a worker of its own.
pub struct Exports {
    pub dialog: Option<Dialog>,
    /// Where new files go unless a path says otherwise: the current folder, or the home
    /// folder when the current one cannot be written (found when first needed).
    pub dir: Option<PathBuf>,
    pending: Option<Work>,
    rx: Option<mpsc::Receiver<Msg>>,
    stop: Arc<AtomicBool>,
    /// The KDE check waiting for a worker thread.
    check_pending: Option<CheckWork>,
    /// Where the check the panel waits for will answer; replaced when the lot changes,
    /// so that an older check's answer is never taken for the new lot's.
    check_rx: Option<mpsc::Receiver<Checked>>,
    check_stop: Arc<AtomicBool>,
}

impl Default for Exports {
    fn default() -> Self {
        Exports {
            dialog: None,
            dir: None,
            pending: None,
            rx: None,
            stop: Arc::new(AtomicBool::new(false)),
            check_pending: None,
            check_rx: None,
            check_stop: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// The current folder when a file can be made there, else `$HOME`, else the current one.
fn default_dir() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    static PROBES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = PROBES.fetch_add(1, Ordering::Relaxed);
    let probe = cwd.join(format!(".lotline-probe-{}-{n}", std::process::id()));
    let writable = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .is_ok();
    if writable {
        let _ = std::fs::remove_file(&probe);
        return cwd;
    }
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|h| h.is_dir())
        .unwrap_or(cwd)
}

impl Exports {
    /// The folder new files go to by default.
    fn dir(&mut self) -> PathBuf {
        self.dir.get_or_insert_with(default_dir).clone()
    }

    /// The dialog is over the screen (keys go to it).
    pub fn shown(&self) -> bool {
        self.dialog.as_ref().is_some_and(|d| d.shown)
    }

    /// Keys type into the dialog's form.
    pub fn wants_text(&self) -> bool {
        self.dialog
            .as_ref()
            .is_some_and(|d| d.shown && d.stage == Stage::Form)
    }

    /// An export is under way (the loop then wakes often for its progress).
    pub fn busy(&self) -> bool {
        self.rx.is_some() || self.pending.is_some()
    }

    /// The FDA form's KDE check is under way (the loop then wakes often for its result).
    /// Unlike an export it neither holds up quitting nor a next export.
    pub fn checking(&self) -> bool {
        self.check_rx.is_some() || self.check_pending.is_some()
    }

    /// The KDE check waiting for a worker thread, with its channel back to the app.
    pub fn take_check(&mut self) -> Option<CheckWork> {
        self.check_pending.take()
    }

    /// Check the KDEs of `scope` for the panel; a check still running for another scope
    /// is dropped (it stops at its next read, and its answer goes nowhere).
    fn start_check(&mut self, scope: Option<String>) {
        self.drop_check();
        let (work, rx, stop) = CheckWork::new(scope);
        self.check_pending = Some(work);
        self.check_rx = Some(rx);
        self.check_stop = stop;
    }

    /// No check is wanted any more: the form closed, its export started, or the app is
    /// leaving.
    pub fn drop_check(&mut self) {
        self.check_stop.store(true, Ordering::Relaxed);
        self.check_pending = None;
        self.check_rx = None;
    }

    /// The checked job waiting for a worker thread, with its channel back to the app.
    pub fn take_pending(&mut self) -> Option<Work> {
        self.pending.take()
    }

    /// The app is closing: a running export stops at its next step, before it writes
    /// (or removing what it had begun), and a KDE check at its next read.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.check_stop.store(true, Ordering::Relaxed);
    }

    fn start(&mut self, job: Job) {
        // The check was for the form, which the progress now replaces: its answer would
        // not be seen, and its reading would only slow the export's own.
        self.drop_check();
        let (tx, rx) = mpsc::channel();
        self.rx = Some(rx);
        // Each export its own flag: cancelling one never stops the next.
        self.stop = Arc::new(AtomicBool::new(false));
        self.pending = Some(Work {
            job,
            tx,
            stop: self.stop.clone(),
            #[cfg(test)]
            pause: None,
        });
        if let Some(d) = self.dialog.as_mut() {
            d.stage = Stage::Running;
            d.progress = Progress::at(1, 1, "starting");
        }
    }
}

fn foods_field() -> Field {
    let mut f = Field::new("foods", "Foods");
    f.candidates = vec![
        Candidate::new("ftl", "Food Traceability List only"),
        Candidate::new("all", "every item"),
    ];
    f.reset_to("ftl");
    f
}

/// A file name part made of a lot code: letters, digits, '-' and '.' kept.
fn file_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// `dir/name`, or `dir/name-2`, `-3`… (before the extension) when taken: the default
/// offered is never a file that is there already.
fn free_path(dir: &Path, stem: &str, ext: &str) -> PathBuf {
    let mut p = dir.join(format!("{stem}{ext}"));
    let mut n = 2;
    while p.exists() {
        p = dir.join(format!("{stem}-{n}{ext}"));
        n += 1;
    }
    p
}

/// Open the FDA export: for the Trace screen's root when a trace is shown (its whole
/// trace, both ways), otherwise with the lot empty, for dates and foods.
pub fn open_fda(app: &mut App, station: &dyn Station) -> Outcome {
    if let Some(o) = refuse_second(app) {
        return o;
    }
    let today = match station.today() {
        Ok(d) => d,
        Err(e) => return Outcome::error(&e),
    };
    let root = (app.screen == ScreenId::Trace && app.trace.stage == TraceStage::Tree)
        .then(|| app.trace.loaded.as_ref().map(|l| l.root().code.to_string()))
        .flatten();
    let stem = match &root {
        Some(l) => format!("fda-{}-{today}", file_part(l)),
        None => format!("fda-{today}"),
    };
    let file = free_path(&app.exports.dir(), &stem, ".xlsx");
    let mut lot = Field::new("lot", "Lot").placeholder("whole trace of one lot (optional)");
    lot.reset_to(root.as_deref().unwrap_or(""));
    let mut file_f = Field::new("file", "File").required();
    file_f.reset_to(&file.display().to_string());
    // Who FDA should call, for the Read me: offered as the CLI's default (the plant's
    // phone), to be put right before the file goes.
    let plant = match station.plant() {
        Ok(p) => p,
        Err(e) => return Outcome::error(&e),
    };
    let mut contact = Field::new("contact", "Contact").placeholder("name, phone, email for FDA");
    contact.reset_to(fsma::plant_contact(&plant).as_deref().unwrap_or(""));
    let mut form = Form::new(vec![
        lot,
        Field::new("from", "From").placeholder("YYYY-MM-DD (empty: the start)"),
        Field::new("to", "To").placeholder("YYYY-MM-DD (empty: today)"),
        Field::new("items", "Items").placeholder("item codes, comma-separated (optional)"),
        foods_field(),
        contact,
        file_f,
    ]);
    form.order = (0..7).map(Slot::Field).collect();
    if root.is_some() {
        form.focus_field("file");
    }
    // What the file would have blank, said before it is written: checked on a worker,
    // since on a large plant it takes seconds; the form is usable meanwhile.
    let mut dialog = Dialog::new(What::Fda, form);
    dialog.kde_check = Some(Panel {
        scope: root.clone(),
        found: None,
    });
    app.exports.dialog = Some(dialog);
    app.exports.start_check(root.clone());
    Outcome::changed().status(Status::info(match root {
        Some(l) => format!(
            "Export for FDA: lot {l}'s whole trace, both ways; check the file name and press Enter"
        ),
        None => "Export for FDA: give the dates, items or a lot FDA asked about".to_string(),
    }))
}

/// Open the shipping-KDE export for the shipment just saved on the Ship screen.
pub fn open_kde(app: &mut App) -> Outcome {
    if let Some(o) = refuse_second(app) {
        return o;
    }
    let Some(shipment) = (app.screen == ScreenId::Ship)
        .then_some(app.ship.last_event)
        .flatten()
    else {
        return Outcome::changed().status(Status::warn(
            "shipping KDEs: save a shipment on the Ship screen first; the key writes the KDEs of the shipment just saved",
        ));
    };
    let csv = free_path(
        &app.exports.dir(),
        &format!("shipment-{shipment}-kdes"),
        ".csv",
    );
    let mut file = Field::new("file", "File").required();
    file.reset_to(&csv.display().to_string());
    let mut ep = Field::new("epcis", "EPCIS");
    ep.candidates = vec![
        Candidate::new("no", "CSV only"),
        Candidate::new("yes", "also an EPCIS 2.0 document beside it"),
    ];
    ep.reset_to("no");
    let mut form = Form::new(vec![file, ep]);
    form.order = vec![Slot::Field(0), Slot::Field(1)];
    app.exports.dialog = Some(Dialog::new(What::Kde { shipment }, form));
    Outcome::changed().status(Status::info(format!(
        "Shipping KDEs of shipment {shipment} for the customer: check the file and press Enter"
    )))
}

/// One export at a time: say so, and show the one running.
fn refuse_second(app: &mut App) -> Option<Outcome> {
    if !app.exports.busy() {
        return None;
    }
    if let Some(d) = app.exports.dialog.as_mut() {
        d.shown = true;
    }
    Some(Outcome::changed().status(Status::warn(
        "An export is under way; it is shown again. Start the next when it is done.",
    )))
}

/// A key's action while the dialog is shown.
pub fn action(app: &mut App, a: Action, station: &dyn Station) -> Outcome {
    let fa = match a {
        Action::NextField => FormAction::Next,
        Action::PrevField => FormAction::Prev,
        Action::Up => FormAction::Up,
        Action::Down => FormAction::Down,
        Action::Confirm => FormAction::Confirm,
        Action::Cancel | Action::Back => FormAction::Cancel,
        Action::Save => FormAction::Save,
        _ => return Outcome::none(),
    };
    form_action(app, fa, station)
}

/// A form action (typing, Enter, Esc…) while the dialog is shown.
pub fn form_action(app: &mut App, fa: FormAction, station: &dyn Station) -> Outcome {
    let out = dialog_action(app, fa, station);
    follow_lot(app);
    out
}

/// The KDE check follows the Lot field: once the cursor has left it holding another lot
/// than the one checked, that lot is checked (and the older check dropped). While the
/// cursor is in it the panel says the check waits for it, rather than show the last
/// lot's gaps as if they were the new one's.
fn follow_lot(app: &mut App) {
    let Some(d) = app.exports.dialog.as_mut() else {
        app.exports.drop_check();
        return;
    };
    if d.stage != Stage::Form {
        return;
    }
    let Some(panel) = d.kde_check.as_mut() else {
        return;
    };
    let typed = scope_of(d.form.value("lot"));
    let in_lot = d.form.focused().is_some_and(|f| f.name == "lot");
    if in_lot || typed == panel.scope {
        return;
    }
    panel.scope = typed.clone();
    panel.found = None;
    app.exports.start_check(typed);
}

fn dialog_action(app: &mut App, fa: FormAction, station: &dyn Station) -> Outcome {
    let Some(d) = app.exports.dialog.as_mut() else {
        return Outcome::none();
    };
    match d.stage {
        Stage::Running => match fa {
            FormAction::Cancel if d.cancelling => Outcome::changed().status(Status::info(
                "Cancelling: the export stops at its next step; nothing will be written",
            )),
            FormAction::Cancel => {
                d.cancelling = true;
                app.exports.stop.store(true, Ordering::Relaxed);
                Outcome::changed().status(Status::info(
                    "Cancelling: the export stops at its next step; nothing will be written",
                ))
            }
            FormAction::Confirm => {
                d.shown = false;
                Outcome::changed().status(Status::info(format!(
                    "Export hidden; it goes on ({}). Its result comes here; asking for an export shows it again, to cancel it.",
                    d.progress.text()
                )))
            }
            _ => Outcome::none(),
        },
        Stage::Done(_) | Stage::Failed(_) => match fa {
            FormAction::Cancel | FormAction::Confirm | FormAction::Save => {
                app.exports.dialog = None;
                Outcome::changed()
            }
            _ => Outcome::none(),
        },
        Stage::Form => match fa {
            FormAction::Cancel => {
                if let Some(f) = d.form.focused_mut()
                    && f.pick_open()
                {
                    f.pick_closed = true;
                    f.browse = false;
                    return Outcome::changed();
                }
                app.exports.dialog = None;
                Outcome::changed().status(Status::info("Nothing was exported"))
            }
            FormAction::Next => {
                super::screens::accept_pick(&mut d.form);
                let moved = d.form.next(|_| false);
                if !moved {
                    d.form.focus_slot(Slot::Field(0));
                }
                Outcome::changed()
            }
            FormAction::Confirm => {
                if super::screens::accept_pick(&mut d.form) {
                    return Outcome::changed();
                }
                let last = d.form.focus + 1 >= d.form.order.len();
                if last {
                    submit(app, station)
                } else {
                    d.form.next(|_| false);
                    Outcome::changed()
                }
            }
            FormAction::Save => {
                super::screens::accept_pick(&mut d.form);
                submit(app, station)
            }
            other => common(&mut d.form, &other, |_| false).unwrap_or_default(),
        },
    }
}

/// Check the form and hand the job to a worker; a refusal marks the field.
fn submit(app: &mut App, station: &dyn Station) -> Outcome {
    let Some(d) = app.exports.dialog.as_mut() else {
        return Outcome::none();
    };
    for f in &mut d.form.fields {
        f.error = false;
    }
    let job = match d.what {
        What::Fda => fda_job(&d.form, station),
        What::Kde { shipment } => kde_job(&d.form, shipment),
        What::Mock { id } => mock::job(&d.form, id),
    };
    match job {
        Ok(job) => {
            let label = match &job {
                Job::Fda { .. } => "Exporting for FDA…",
                Job::Kde { .. } => "Writing the shipping KDEs…",
                Job::Mock { .. } => "Writing the mock recall's workbook and summary…",
            };
            app.exports.start(job);
            Outcome::changed().status(Status::info(label))
        }
        Err(e) => refuse_all(&mut d.form, e),
    }
}

fn choice<'a>(form: &'a Form, name: &str, allowed: &[&'a str]) -> Result<&'a str, StationError> {
    let v = form.value(name).trim();
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(v))
        .copied()
        .ok_or_else(|| {
            invalid(
                name,
                format!(
                    "'{}' is not one of {}",
                    lotline_domain::text::excerpt(v),
                    allowed.join(", ")
                ),
            )
        })
}

fn fda_job(form: &Form, station: &dyn Station) -> Result<Job, Refused<StationError>> {
    let today = station.today()?;
    let mut c = Checks::new();
    let mut date = |name: &str| -> Option<Option<NaiveDate>> {
        c.take(
            form.get(name)
                .opt()
                .map(|t| parse_date(t, name, today))
                .transpose(),
        )
    };
    let (from, to) = (date("from"), date("to"));
    if let (Some(Some(f)), Some(Some(t))) = (from, to)
        && f > t
    {
        c.push(invalid(
            "from",
            format!("{f} is after To {t}; give the earlier date first"),
        ));
    }
    let items = c.take(
        form.value("items")
            .split([',', ' ', ';'])
            .filter(|s| !s.trim().is_empty())
            .map(|s| ItemCode::parse(s.trim(), "items"))
            .collect::<Result<Vec<_>, _>>(),
    );
    let ftl_only = c
        .take(choice(form, "foods", &["ftl", "all"]))
        .map(|f| f == "ftl");
    // What the export would refuse about the items, refused here in the form instead.
    if let (Some(named), Some(known)) = (&items, c.take(station.items())) {
        let ftl_only = ftl_only == Some(true);
        for code in named {
            match known.iter().find(|i| &i.code == code) {
                None => c.push(invalid(
                    "items",
                    format!("no item {code}; see Items/Parties (F7)"),
                )),
                Some(i) if ftl_only && !i.ftl => c.push(invalid(
                    "items",
                    format!(
                        "item {code} is not on the Food Traceability List; set Foods to all to include it"
                    ),
                )),
                Some(_) => {}
            }
        }
        if named.is_empty() && ftl_only && !known.iter().any(|i| i.ftl) {
            c.push(invalid(
                "foods",
                "no item is marked as on the Food Traceability List; set Foods to all for every item",
            ));
        }
    }
    let lot = form.get("lot").opt().map(|s| s.trim().to_string());
    if let Some(text) = &lot {
        c.take(lot_named(station, text));
    }
    // The same check as `lotline fsma --contact`.
    let contact = c.take(fsma::clean_contact(form.value("contact")));
    let path = c.take(fda_path(form.value("file").trim()));
    c.finish(|| {
        let (path, is_xlsx) = path?;
        let req = Request {
            lot,
            items: items?,
            from: from?,
            to: to?,
            ftl_only: ftl_only?,
            contact: contact?,
        };
        Some(if is_xlsx {
            Job::Fda {
                req,
                xlsx: Some(path),
                csv: None,
            }
        } else {
            Job::Fda {
                req,
                xlsx: None,
                csv: Some(path),
            }
        })
    })
}

/// The FDA export's lot names one of our lots or a supplier lot (TLC) we received, as
/// the export will read it. Checked here, before the worker starts, so that it is refused
/// in its place in the form, above the dates, not after them.
fn lot_named(station: &dyn Station, text: &str) -> Result<(), StationError> {
    if let Ok(code) = LotCode::parse(text, "lot")
        && station.find_lot(code)?.is_some()
    {
        return Ok(());
    }
    let received = station.lots(LotFilter {
        supplier_lot: Some(text.to_string()),
        ..Default::default()
    })?;
    if received.is_empty() {
        return Err(invalid(
            "lot",
            format!(
                "no lot of ours and no supplier lot (TLC) is {}; check the code, or find it on Lots (F6)",
                lotline_domain::text::excerpt(text)
            ),
        ));
    }
    Ok(())
}

/// Where the FDA export goes, and whether it is a workbook (else a folder of CSV files):
/// never over a file that is there.
fn fda_path(file: &str) -> Result<(PathBuf, bool), StationError> {
    if file.is_empty() {
        return Err(invalid("file", "name the file to write"));
    }
    let path = PathBuf::from(file);
    let is_xlsx = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    if is_xlsx && path.exists() {
        return Err(invalid(
            "file",
            format!(
                "{} already exists; give another name (nothing was written)",
                path.display()
            ),
        ));
    }
    if !is_xlsx {
        if path.is_file() {
            return Err(invalid(
                "file",
                format!(
                    "{} is a file; end the name in .xlsx for a workbook, or name a folder for CSV files",
                    path.display()
                ),
            ));
        }
        for name in [
            "receiving.csv",
            "transformation.csv",
            "shipping.csv",
            "read-me.txt",
        ] {
            if path.join(name).exists() {
                return Err(invalid(
                    "file",
                    format!(
                        "{} already holds {name}; give another folder (nothing was written)",
                        path.display()
                    ),
                ));
            }
        }
    }
    Ok((path, is_xlsx))
}

/// Where the EPCIS document goes beside `csv`: the same name ending in `.jsonld`.
pub fn epcis_beside(csv: &Path) -> PathBuf {
    csv.with_extension("jsonld")
}

fn kde_job(form: &Form, shipment: u64) -> Result<Job, Refused<StationError>> {
    let mut c = Checks::new();
    let file = form.value("file").trim();
    if file.is_empty() {
        c.push(invalid("file", "name the file to write"));
    }
    let with_epcis = c
        .take(choice(form, "epcis", &["no", "yes"]))
        .map(|e| e == "yes");
    let csv = PathBuf::from(file);
    // The EPCIS file is only known once its field is; with it unreadable, the CSV alone
    // is checked.
    let epcis = with_epcis.unwrap_or(false).then(|| epcis_beside(&csv));
    if !file.is_empty()
        && let Some(p) = std::iter::once(&csv)
            .chain(epcis.as_ref())
            .find(|p| p.exists())
    {
        c.push(invalid(
            "file",
            format!(
                "{} already exists; give another name (nothing was written)",
                p.display()
            ),
        ));
    }
    c.finish(|| {
        with_epcis?;
        Some(Job::Kde {
            shipment,
            csv,
            epcis,
        })
    })
}

/// Take in what the workers sent (the export's, the KDE check's); whether the screen
/// changed.
pub fn poll(app: &mut App) -> bool {
    let checked = poll_check(app);
    poll_export(app) | checked
}

/// The KDE check's answer, into the panel when it is for the lot the panel shows.
fn poll_check(app: &mut App) -> bool {
    let Some(rx) = app.exports.check_rx.as_ref() else {
        return false;
    };
    let answer = match rx.try_recv() {
        Ok(a) => Some(a),
        Err(mpsc::TryRecvError::Empty) => return false,
        // The worker ended without a word: it panicked.
        Err(mpsc::TryRecvError::Disconnected) => None,
    };
    app.exports.check_rx = None;
    let Some(panel) = app
        .exports
        .dialog
        .as_mut()
        .filter(|d| d.stage == Stage::Form)
        .and_then(|d| d.kde_check.as_mut())
        .filter(|p| p.found.is_none())
    else {
        return false;
    };
    match answer {
        Some(a) if a.scope == panel.scope => panel.found = Some(a.check),
        // Only the current check's channel is listened to, so this is a safeguard.
        Some(_) => return false,
        None => panel.found = Some(crate::kde_check::lost()),
    }
    true
}

/// The export's progress and result.
fn poll_export(app: &mut App) -> bool {
    let Some(rx) = app.exports.rx.as_ref() else {
        return false;
    };
    let mut changed = false;
    // None inside: cancelled, nothing written.
    let mut end: Option<Option<Result<Vec<String>, String>>> = None;
    loop {
        match rx.try_recv() {
            Ok(Msg::Progress(p)) => {
                changed = true;
                if let Some(d) = app.exports.dialog.as_mut() {
                    d.progress = p;
                }
            }
            Ok(Msg::Done(lines)) => {
                end = Some(Some(Ok(lines)));
                break;
            }
            Ok(Msg::Failed(why)) => {
                end = Some(Some(Err(why)));
                break;
            }
            Ok(Msg::Cancelled) => {
                end = Some(None);
                break;
            }
            Err(mpsc::TryRecvError::Empty) => break,
            Err(mpsc::TryRecvError::Disconnected) => {
                end = Some(Some(Err(
                    "the export stopped unexpectedly; nothing may have been written".into(),
                )));
                break;
            }
        }
    }
    let hidden = app.exports.dialog.as_ref().is_some_and(|d| !d.shown);
    let cancelling = app.exports.dialog.as_ref().is_some_and(|d| d.cancelling);
    if let Some(result) = end {
        changed = true;
        app.exports.rx = None;
        let Some(result) = result else {
            app.exports.dialog = None;
            app.status = Some(Status::info("Export cancelled; nothing was written"));
            return changed;
        };
        if cancelling && let Ok(lines) = &result {
            // The last step cannot be stopped: what was written is said, not hidden.
            app.status = Some(Status::warn(format!(
                "Too late to cancel: the export had finished. {}",
                lines.first().map(String::as_str).unwrap_or("")
            )));
            if let Some(d) = app.exports.dialog.as_mut() {
                d.shown = true;
                d.stage = Stage::Done(lines.clone());
            }
            return changed;
        }
        if hidden {
            app.status = Some(match &result {
                Ok(lines) => Status::ok(format!("Export done: {}", lines.join("; "))),
                Err(why) => Status::error(format!("Export: {why}")),
            });
            app.exports.dialog = None;
        } else {
            app.status = Some(match &result {
                Ok(_) => Status::ok("Export done"),
                Err(_) => Status::error("Export: nothing was written"),
            });
            if let Some(d) = app.exports.dialog.as_mut() {
                d.stage = match result {
                    Ok(lines) => Stage::Done(lines),
                    Err(why) => Stage::Failed(why),
                };
            }
        }
    } else if changed
        && hidden
        && let Some(d) = app.exports.dialog.as_ref()
    {
        app.status = Some(Status::info(format!(
            "Exporting {:.0}%: {}",
            d.progress.fraction() * 100.0,
            d.progress.text()
        )));
    }
    changed
}

/// What the footer says Esc and Enter do now.
pub fn hint_desc(app: &App, a: Action) -> Option<&'static str> {
    let d = app.exports.dialog.as_ref()?;
    Some(match (&d.stage, a) {
        (Stage::Form, Action::Save) => "write",
        (Stage::Form, Action::Cancel) => "cancel",
        (Stage::Running, Action::Confirm) => "hide",
        (Stage::Running, Action::Cancel) if !d.cancelling => "cancel export",
        (Stage::Done(_) | Stage::Failed(_), Action::Cancel | Action::Confirm) => "close",
        _ => return None,
    })
}

/// Whether a key does anything in the dialog now (for the footer).
pub fn hint_applies(app: &App, a: Action) -> bool {
    let Some(d) = app.exports.dialog.as_ref() else {
        return false;
    };
    match d.stage {
        Stage::Form => matches!(
            a,
            Action::Confirm
                | Action::NextField
                | Action::PrevField
                | Action::Save
                | Action::Cancel
                | Action::Up
                | Action::Down
        ),
        Stage::Running if d.cancelling => a == Action::Confirm,
        _ => matches!(a, Action::Confirm | Action::Cancel),
    }
}

/// Words wrapped to `w` cells.
fn wrap(text: &str, w: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(l) if !l.is_empty() && draw::width(l) + 1 + draw::width(word) <= w => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// The progress bar, `w` cells: filled and empty parts, then the percentage.
pub fn bar(fraction: f64, w: usize, ascii: bool) -> String {
    let pct = format!(" {:>3.0}%", fraction * 100.0);
    let cells = w.saturating_sub(pct.len() + 2).max(1);
    let filled = ((fraction * cells as f64).round() as usize).min(cells);
    let (full, empty) = if ascii { ('#', '-') } else { ('█', '░') };
    let mut s = String::from("[");
    s.extend(std::iter::repeat_n(full, filled));
    s.extend(std::iter::repeat_n(empty, cells - filled));
    s.push(']');
    s.push_str(&pct);
    s
}

/// The KDE check's lines in the FDA form, each with its style.
fn panel_lines(panel: &Panel, form: &Form, ui: &Ui) -> Vec<(String, ratatui::style::Style)> {
    let t = ui.theme;
    if scope_of(form.value("lot")) != panel.scope {
        // Checked again once the cursor leaves the field (`follow_lot`).
        let text = if ui.compact {
            "KDE check: once you leave Lot"
        } else {
            "KDE check: for the lot typed, once you leave the Lot field."
        };
        return vec![(text.into(), t.dim)];
    }
    let Some(check) = &panel.found else {
        let text = if ui.compact {
            "KDE check: checking…"
        } else {
            "KDE check: checking… (the form can be filled in meanwhile)"
        };
        return vec![(text.into(), t.dim)];
    };
    let style = if check.failed {
        t.error
    } else if check.complete {
        t.ok
    } else {
        t.warn
    };
    let shown: &[String] = if ui.compact {
        std::slice::from_ref(&check.short)
    } else {
        &check.lines
    };
    shown.iter().map(|l| (l.clone(), style)).collect()
}

/// Draw the dialog over `area` (the body); the cursor position when a field has it.
pub fn render(d: &Dialog, buf: &mut Buffer, area: Rect, ui: &Ui) -> Option<Position> {
    let t = ui.theme;
    let title = match d.what {
        What::Fda => "Export for FDA (sortable spreadsheet)".to_string(),
        What::Kde { shipment } => format!("Shipping KDEs of shipment {shipment}"),
        What::Mock { id } => format!("Mock recall {id}: workbook and summary"),
    };
    let w = if ui.compact {
        area.width
    } else {
        area.width.min(76)
    };
    let inner_w = w.saturating_sub(2) as usize;
    // The lines under the fields, or the progress or result text.
    let mut lines: Vec<(String, ratatui::style::Style)> = Vec::new();
    match &d.stage {
        Stage::Form => {
            let note = match (d.what, ui.compact) {
                (What::Fda, false) => {
                    "File ending in .xlsx: a workbook; any other name: a folder of CSV files. Foods: ftl (what FDA asks about) or all. Nothing is written over."
                }
                (What::Fda, true) => ".xlsx: a workbook, else a CSV folder. Foods: ftl or all.",
                (What::Kde { .. }, false) => {
                    "File: the CSV. EPCIS yes: the same shipment as an EPCIS 2.0 document beside it (.jsonld), for customers who take it."
                }
                (What::Kde { .. }, true) => "EPCIS yes: a .jsonld beside the CSV.",
                (What::Mock { .. }, false) => {
                    "Workbook: Summary, Backward, Forward, Lots, Customers, Counts. Summary: one page with the signature lines. Leave one empty to skip it. Nothing is written over."
                }
                (What::Mock { .. }, true) => "Leave one empty to skip it.",
            };
            // The KDE check first: on a handheld its short line is what fits.
            if let Some(panel) = &d.kde_check {
                for (line, style) in panel_lines(panel, &d.form, ui) {
                    for l in wrap(&line, inner_w) {
                        lines.push((l, style));
                    }
                }
            }
            for l in wrap(note, inner_w) {
                lines.push((l, t.dim));
            }
        }
        Stage::Running => {
            lines.push((bar(d.progress.fraction(), inner_w, t.ascii), t.strong));
            for l in wrap(&d.progress.text(), inner_w) {
                lines.push((l, t.label));
            }
            lines.push((String::new(), t.label));
            let key = |a: Action| {
                ui.keymap
                    .key_for(&[Layer::Form], a)
                    .map(|k| k.label())
                    .unwrap_or_default()
            };
            let (hide, cancel) = (key(Action::Confirm), key(Action::Cancel));
            if d.cancelling {
                for l in wrap(
                    "Cancelling: it stops at its next step and writes nothing.",
                    inner_w,
                ) {
                    lines.push((l, t.warn));
                }
            } else {
                let text = if ui.compact {
                    format!(
                        "{cancel} cancels (nothing is written); {hide} hides it, the result then comes to the status line."
                    )
                } else {
                    format!(
                        "{cancel} cancels it: nothing is written. {hide} hides it: the app goes on meanwhile, and the result comes to the status line."
                    )
                };
                for l in wrap(&text, inner_w) {
                    lines.push((l, t.dim));
                }
            }
        }
        Stage::Done(done) => {
            for (i, line) in done.iter().enumerate() {
                let style = if i + 1 == done.len() { t.dim } else { t.ok };
                for l in wrap(line, inner_w) {
                    lines.push((l, style));
                }
            }
        }
        Stage::Failed(why) => {
            for l in wrap(why, inner_w) {
                lines.push((l, t.error));
            }
            lines.push((String::new(), t.label));
            for l in wrap(
                "Nothing was written. Enter or Esc closes; change the filters and try again.",
                inner_w,
            ) {
                lines.push((l, t.dim));
            }
        }
    }
    let fields = if d.stage == Stage::Form {
        d.form.fields.len() as u16 + 1
    } else {
        0
    };
    let h = (fields + lines.len() as u16 + 2).min(area.height);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + area.height.saturating_sub(h) / 2,
        w,
        h,
    );
    let inner = draw::boxed(buf, r, &t.text(&title), t);
    if inner.is_empty() {
        return None;
    }
    let mut cursor = None;
    let mut y = 0u16;
    if d.stage == Stage::Form {
        let label_w: u16 = if ui.compact { 8 } else { 11 };
        for (i, f) in d.form.fields.iter().enumerate() {
            let row = draw::row(inner, y);
            if row.height == 0 {
                break;
            }
            let focused = ui.editing && d.form.focus == i;
            let style = if focused { t.label_focus } else { t.label };
            let label = draw::fit(f.label, label_w as usize - 1, t.ellipsis());
            put(
                buf,
                row,
                row.x,
                row.y,
                &draw::pad(&label, label_w as usize),
                style,
            );
            let bx = Rect::new(
                row.x + label_w.min(row.width),
                row.y,
                row.width.saturating_sub(label_w),
                1,
            );
            if let Some(c) = super::form::render_input(buf, bx, f, focused, t) {
                cursor = Some(c);
            }
            y += 1;
        }
        y += 1;
    }
    // Rows left for the lines: fewer than there are (a small terminal) is marked on the
    // border, so a result is never taken for all there is.
    let room = inner.height.saturating_sub(y) as usize;
    draw::more(buf, r, 0, room, lines.len(), None, t);
    for (text, style) in &lines {
        let row = draw::row(inner, y);
        if row.height == 0 {
            break;
        }
        put(
            buf,
            row,
            row.x,
            row.y,
            &draw::fit(&t.text(text), inner.width as usize, t.ellipsis()),
            *style,
        );
        y += 1;
    }
    // A pick list open on the focused field (Foods, EPCIS) shows under the dialog's rows.
    if let Some(f) = d.form.focused()
        && d.stage == Stage::Form
        && ui.editing
        && f.pick_open()
    {
        let rows = (f.matches().len() as u16).min(4);
        let top = (inner.y + d.form.focus as u16 + 1).min(area.bottom().saturating_sub(rows + 2));
        let pick = Rect::new(inner.x + 4, top, inner.width.saturating_sub(4), rows + 2);
        super::form::render_picklist(buf, pick, f, t);
    }
    cursor
}
