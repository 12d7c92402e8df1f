//! Our lot labels from the app: after a Receive save or a closed batch, the print-label key
//! (`C-p` in the default map) shows the new lot's label as text (as `lotline label
//! --preview` does), and Enter sends it (ZPL, see `export::label`) to the printer set in
//! the config file (`[label] printer`) or in `LOTLINE_PRINTER`; on the Lots screen it is
//! the selected lot's. The label is sent off the input loop, with a time limit; the
//! result, or why not, goes to the status line when it is known.

use super::App;
use super::config::PrinterSetting;
use super::draw::{self, put};
use super::keymap::{Action, Layer, ScreenId};
use super::queue::{Outcome, Status};
use super::screens::Ui;
use lotline_domain::LotCode;
use lotline_station::Station;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
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
    let layout = lotline_export::label::lot_layout(station, &code);
    match layout {
        Err(e) => Outcome::error(&e),
        Ok(l) => {
            app.labels.preview = Some(Preview {
                title: format!("Label for lot {code} · {}", l.size()),
                code,
                printer: p.clone(),
                zpl: l.zpl(),
                rows: l.rows(),
                notes: l.notes().to_vec(),
            });
            Outcome::changed()
        }
    }
}

/// The label about to print, shown as text: Enter prints it, Esc closes it.
pub struct Preview {
    code: LotCode,
    printer: PrinterSetting,
    zpl: String,
    title: String,
    rows: Vec<String>,
    notes: Vec<String>,
}

/// A key while the label is shown: confirm prints it, cancel closes it; nothing else
/// reaches the screen beneath.
pub fn preview_action(app: &mut App, a: Action) -> Outcome {
    match a {
        Action::Confirm | Action::Save | Action::PrintLabel => {
            let Some(p) = app.labels.preview.take() else {
                return Outcome::none();
            };
            let status = Status::info(format!(
                "Printing the label for lot {} on {}…",
                p.code, p.printer.text
            ));
            app.labels.start(p.code, p.printer, p.zpl);
            Outcome::changed().status(status)
        }
        Action::Cancel | Action::Back => match app.labels.preview.take() {
            Some(p) => Outcome::changed()
                .status(Status::info(format!("label: lot {} not printed", p.code))),
            None => Outcome::none(),
        },
        _ => Outcome::none(),
    }
}

/// What the footer's keys do while the label is shown.
pub fn hint(a: Action) -> Option<&'static str> {
    match a {
        Action::Confirm => Some("print"),
        Action::Cancel => Some("close"),
        _ => None,
    }
}

/// Draw the label's text in a box over the screen.
pub fn render(p: &Preview, buf: &mut Buffer, area: Rect, ui: &Ui) {
    let t = ui.theme;
    let w = if ui.compact {
        area.width
    } else {
        area.width.min(64)
    };
    let inner_w = w.saturating_sub(2) as usize;
    let mut lines: Vec<(String, ratatui::style::Style)> = Vec::new();
    for r in &p.rows {
        for l in draw::wrap(r, inner_w) {
            lines.push((l, t.strong));
        }
    }
    for n in &p.notes {
        for l in draw::wrap(n, inner_w) {
            lines.push((l, t.warn));
        }
    }
    let key = |a: Action| {
        ui.keymap
            .key_for(&[Layer::Form], a)
            .map(|k| k.label())
            .unwrap_or_default()
    };
    let (print, close) = (key(Action::Confirm), key(Action::Cancel));
    let hint = if ui.compact {
        format!("{print} prints it, {close} closes")
    } else {
        format!(
            "{print} prints it on {}; {close} closes it unprinted",
            p.printer.text
        )
    };
    for l in draw::wrap(&hint, inner_w) {
        lines.push((l, t.dim));
    }
    let h = (lines.len() as u16 + 2).min(area.height);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + area.height.saturating_sub(h) / 2,
        w,
        h,
    );
    let inner = draw::boxed(buf, r, &t.text(&p.title), t);
    for (i, (l, style)) in lines.iter().enumerate() {
        let row = draw::row(inner, i as u16);
        if row.height == 0 {
            break;
        }
        put(buf, row, row.x, row.y, &t.text(l), *style);
    }
}

/// Labels being sent. Each goes on its own thread with a time limit, so a printer that is
/// slow, stuck or gone never freezes the app: it keeps taking keys and scans, and the
/// result comes to the status line when it is known.
pub struct Jobs {
    /// The label shown before it prints, if one is.
    pub preview: Option<Preview>,
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
            preview: None,
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
