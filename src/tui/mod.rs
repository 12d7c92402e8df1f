//! The full-screen terminal app (DESIGN.md §4.3): Receive, Produce, Ship, Trace, Lots and
//! Help screens over a `station` handle; the TUI never opens the database itself. Input flows
//! terminal event → `input::Decoder` → keymap → action → screen `update` → pure `render`.

pub mod app;
pub mod config;
pub mod draw;
pub mod form;
pub mod input;
pub mod keymap;
pub mod labels;
pub mod queue;
pub mod scanning;
pub mod screens;
pub mod theme;
pub mod tree;

pub use app::App;
pub use config::{Config, Options, PrinterSetting, ScannerSettings};
pub use keymap::{Keymap, KeymapError};

use crate::station::Station;
use input::Decoder;
use ratatui::crossterm::event::{self, DisableBracketedPaste, EnableBracketedPaste};
use ratatui::crossterm::execute;
use std::io;
use std::time::{Duration, Instant};
use theme::Theme;

/// The local wall clock, for the header.
fn local_now() -> chrono::NaiveDateTime {
    chrono::Local::now().naive_local()
}

/// Run the app on this terminal until the user quits. The terminal is put back as it was
/// on the way out, also after a panic. No mouse capture: the terminal's own selection
/// and scrollback keep working.
pub fn run(station: &dyn Station, options: Options) -> io::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let _ = execute!(io::stdout(), EnableBracketedPaste);
    let result = event_loop(&mut terminal, station, options);
    let _ = execute!(io::stdout(), DisableBracketedPaste);
    ratatui::restore();
    result
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    station: &dyn Station,
    options: Options,
) -> io::Result<()> {
    let theme = Theme::new(options.mono, options.ascii);
    let mut decoder = Decoder::with_timing(options.scanner.timing());
    let mut app = App::new(options.keymap, theme, local_now(), station)
        .with_devices(options.scanner, options.printer);
    let mut dirty = true;
    loop {
        if app.clear_screen {
            terminal.clear()?;
            app.clear_screen = false;
            dirty = true;
        }
        if dirty {
            // ratatui diffs against the last frame: only changed cells are written.
            terminal.draw(|f| app.render(f))?;
            dirty = false;
        }
        if app.quit {
            return Ok(());
        }
        // Wake for the next minute of the header clock, for input, or when keys held back
        // as a possible scan must be let go.
        let secs = 60 - u64::from(chrono::Timelike::second(&local_now())).min(59);
        let mut wait = Duration::from_secs(secs);
        if let Some(due) = decoder.deadline() {
            wait = wait.min(due.saturating_duration_since(Instant::now()));
        }
        if event::poll(wait)? {
            // Take everything already waiting before drawing again (a scanner's burst).
            loop {
                let ev = event::read()?;
                for input in decoder.feed(ev, Instant::now()) {
                    dirty |= app.handle(input, station);
                }
                if app.quit || !event::poll(Duration::ZERO)? {
                    break;
                }
            }
        } else {
            // A person's keys, held for a few milliseconds in case they were a scan.
            for input in decoder.flush(Instant::now()) {
                dirty |= app.handle(input, station);
            }
            dirty |= app.tick(local_now(), station);
        }
    }
}

#[cfg(test)]
mod tests;
