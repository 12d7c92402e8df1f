//! Our lot labels from the app: after a Receive save or a closed batch, the print-label key
//! (`C-p` in the default map) sends the new lot's label (ZPL, see `export::label`) to the
//! printer set in the config file (`[label] printer`) or in `LOTLINE_PRINTER`; on the
//! Lots screen it prints the selected lot's. The label is sent off the input loop, with a
//! time limit; the result, or why not, goes to the status line when it is known.

use super::App;
use super::config::PrinterSetting;
use super::keymap::ScreenId;
use super::queue::{Outcome, Status};
use lotline_domain::LotCode;
use lotline_station::Station;
use std::sync::mpsc;
use std::time::Duration;

/// The lot the print-label key prints here, if any.
pub fn lot_to_print(app: &App) -> Option<LotCode> {
    match app.screen {
        ScreenId::Receive => app.receive.last.as_ref().map(|s| s.code.clone()),
        ScreenId::Produce => app.produce.last.as_ref().map(|(c, _)| c.clone()),
        ScreenId::Lots => app.lots.label_lot().map(|l| l.code.clone()),
        _ => None,
    }
}

/// Print the label of the lot `lot_to_print` names.
pub fn print(app: &mut App, station: &dyn Station) -> Outcome {
    let Some(code) = lot_to_print(app) else {
        let why = match app.screen {
            ScreenId::Receive => {
                "label: nothing received yet; the label is for the lot a save creates"
            }
            ScreenId::Produce => "label: no batch closed yet; the label is for the lot it makes",
            ScreenId::Lots => "label: find and select a lot first",
            _ => "label: labels print after a receipt or batch, or from the Lots list",
        };
        return Outcome::changed().status(Status::warn(why));
    };
    let Some(p) = &app.printer else {
        return Outcome::changed().status(Status::warn(format!(
            "label: no printer set for lot {code}; add [label] printer to config.toml or set LOTLINE_PRINTER"
        )));
    };
    let zpl = lotline_export::label::lot_zpl(station, &code);
    match zpl {
        Err(e) => Outcome::error(&e),
        Ok(z) => {
            let status = Status::info(format!("Printing the label for lot {code} on {}…", p.text));
            app.labels.start(code, p.clone(), z);
            Outcome::changed().status(status)
        }
    }
}

/// Labels being sent. Each goes on its own thread with a time limit, so a printer that is
/// slow, stuck or gone never freezes the app: it keeps taking keys and scans, and the
/// result comes to the status line when it is known.
pub struct Jobs {
    running: Vec<Job>,
    /// How long a printer gets: the default, or what the program's entry point was told
    /// (`Options::print_timeout`).
    pub timeout: Duration,
}

struct Job {
    code: LotCode,
    printer: String,
    done: mpsc::Receiver<Result<(), String>>,
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs {
            running: Vec::new(),
            timeout: lotline_export::label::SEND_TIMEOUT,
        }
    }
}

impl Jobs {
    fn start(&mut self, code: LotCode, p: PrinterSetting, zpl: String) {
        let (tx, rx) = mpsc::channel();
        let limit = self.timeout;
        let printer = p.printer.clone();
        std::thread::spawn(move || {
            // The app may have quit meanwhile; then nobody is listening.
            let _ = tx.send(printer.send_within(&zpl, limit));
        });
        self.running.push(Job {
            code,
            printer: p.text,
            done: rx,
        });
    }

    /// Whether a label is still on its way (the app then wakes often to report it).
    pub fn busy(&self) -> bool {
        !self.running.is_empty()
    }

    /// The results that have come in, oldest first.
    fn finished(&mut self) -> Vec<Status> {
        let mut out = Vec::new();
        self.running.retain(|j| {
            let result = match j.done.try_recv() {
                Ok(r) => r,
                Err(mpsc::TryRecvError::Empty) => return true,
                Err(mpsc::TryRecvError::Disconnected) => {
                    Err("the printing thread stopped unexpectedly".into())
                }
            };
            out.push(match result {
                Ok(()) => Status::ok(format!("Label for lot {} sent to {}", j.code, j.printer)),
                Err(m) => Status::error(format!("label: lot {} did not print: {m}", j.code)),
            });
            false
        });
        out
    }
}

/// Put the results of labels that finished on the status line; whether anything changed.
pub fn poll(app: &mut App) -> bool {
    let done = app.labels.finished();
    let changed = !done.is_empty();
    if let Some(last) = done.into_iter().last() {
        app.status = Some(last);
    }
    changed
}
