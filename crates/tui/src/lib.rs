//! The full-screen terminal app (docs/tui.md): Receive, Produce, Ship, Trace, Lots and
//! Help screens over a `station` handle; the TUI never opens the database itself. Input flows
//! terminal event → `input::Decoder` → keymap → action → screen `update` → pure `render`.

pub mod app;
pub mod config;
pub mod drafts;
pub mod draw;
pub mod exports;
pub mod first_run;
pub mod form;
pub mod input;
pub mod kde_check;
pub mod keymap;
pub mod labels;
pub mod paint;
pub mod queue;
mod resume;
pub mod scanning;
pub mod screens;
pub mod settings;
pub mod theme;
pub mod tree;
mod tty;

pub use app::App;
pub use config::{Config, Options, PrinterSetting, ScannerSettings};
pub use keymap::{Keymap, KeymapError};

use input::Decoder;
use lotline_station::Station;
use ratatui::crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use ratatui::crossterm::execute;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};
use theme::Theme;

/// The local wall clock, for the header.
fn local_now() -> chrono::NaiveDateTime {
    chrono::Local::now().naive_local()
}

/// Run the app on this terminal until the user quits. The terminal is put back as it was
/// on the way out, also after an error or a panic. No mouse capture: the terminal's own
/// selection and scrollback keep working.
pub fn run(station: &(dyn Station + Sync), options: Options) -> io::Result<()> {
    let (_guard, mut terminal) = TerminalGuard::enter()?;
    let tty = tty::Tty::start()?;
    // Exports run on threads of this scope, so they may borrow the station; on the way
    // out the scope waits for one still running (told to stop before it writes).
    std::thread::scope(|scope| event_loop(&mut terminal, &tty, station, options, scope, None))
}

/// What writes a confirmed setup: the station it was written to and a line saying what
/// was done, or why it could not be.
pub type CreatePlant<'a> = dyn FnMut(
        &lotline_station::setup::PlantSetup,
    ) -> Result<(Box<dyn Station + Send + Sync>, String), String>
    + 'a;

/// The guided start of a machine with no plant yet (`first_run`), then — once `create`
/// has written the confirmed setup — the app on the new plant, in the same terminal
/// session. Quitting before the confirmation writes nothing.
pub fn run_first(
    options: Options,
    db: &str,
    user: &str,
    create: &mut CreatePlant<'_>,
) -> io::Result<()> {
    let (_guard, mut terminal) = TerminalGuard::enter()?;
    let tty = tty::Tty::start()?;
    let theme = Theme::new(options.mono, options.ascii);
    let mut first = first_run::FirstRun::new(options.keymap.clone(), theme, db, user);
    first.status = Some(queue::Status::info(format!(
        "No plant in {db} yet: these steps set one up. Nothing is written until you confirm."
    )));
    let mut decoder = Decoder::with_timing(options.scanner.timing());
    let mut dirty = true;
    loop {
        if dirty {
            terminal.draw(|f| {
                let area = f.area();
                if let Some(p) = first.draw(f.buffer_mut(), area) {
                    f.set_cursor_position(p);
                }
            })?;
            dirty = false;
        }
        if first.quit {
            return Ok(());
        }
        if let Some(plan) = first.take_confirmed() {
            match create(&plan) {
                Ok((station, done)) => {
                    let greeting = Some(queue::Status::ok(done));
                    return std::thread::scope(|scope| {
                        let st = station.as_ref();
                        event_loop(&mut terminal, &tty, st, options, scope, greeting)
                    });
                }
                Err(why) => {
                    first.failed(&why);
                    dirty = true;
                    continue;
                }
            }
        }
        // A quarter second at most, so a terminal that hung up is seen at once (`tty`).
        let mut wait = Duration::from_millis(250);
        if let Some(due) = decoder.deadline() {
            wait = wait.min(due.saturating_duration_since(Instant::now()));
        }
        match tty.next(wait)? {
            tty::Next::Event(ev, at) => {
                let mut next = Some((ev, at));
                while let Some((ev, at)) = next {
                    for input in decoder.feed(ev, at) {
                        dirty |= first.handle(input);
                    }
                    if first.quit || first.setup.confirmed.is_some() {
                        break;
                    }
                    next = tty.ready()?;
                }
            }
            tty::Next::Quiet => {
                for input in decoder.flush(Instant::now()) {
                    dirty |= first.handle(input);
                }
            }
        }
    }
}

type PanicHook = dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync + 'static;

/// The terminal in the app's modes (raw, alternate screen, bracketed paste) for as long as
/// it lives. Dropped — on the way out, after an error — it puts the terminal back; so does
/// its panic hook, before the panic's message is printed, so the message shows and the
/// shell does not get its pastes wrapped in ESC[200~ … ESC[201~.
struct TerminalGuard {
    /// The hook before ours, put back on drop.
    prev: Arc<PanicHook>,
}

impl TerminalGuard {
    fn enter() -> io::Result<(TerminalGuard, ratatui::DefaultTerminal)> {
        let prev: Arc<PanicHook> = Arc::from(std::panic::take_hook());
        let terminal = match ratatui::try_init() {
            Ok(t) => t,
            Err(e) => {
                restore_hook(prev);
                return Err(e);
            }
        };
        // ratatui's hook puts raw mode and the screen back but leaves bracketed paste on,
        // and acts on every panic, even one the station catches and turns into an error
        // (redb's, on a damaged file): ours replaces it.
        let _ = std::panic::take_hook();
        let chained = prev.clone();
        std::panic::set_hook(Box::new(move |info| {
            if !lotline_station::is_storage_panic(info) {
                leave_terminal();
            }
            chained(info);
        }));
        let _ = execute!(io::stdout(), EnableBracketedPaste);
        Ok((TerminalGuard { prev }, terminal))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        // While unwinding from a panic the hook has done this, and hooks cannot be set.
        if std::thread::panicking() {
            return;
        }
        leave_terminal();
        restore_hook(self.prev.clone());
    }
}

fn restore_hook(prev: Arc<PanicHook>) {
    std::panic::set_hook(Box::new(move |info| prev(info)));
}

/// Bracketed paste off, raw mode off, out of the alternate screen, cursor shown.
fn leave_terminal() {
    // The painter hides the cursor itself (`paint.rs`), so ratatui does not know to show it
    // again: shown here, or the shell would be left without one.
    let _ = execute!(
        io::stdout(),
        DisableBracketedPaste,
        ratatui::crossterm::cursor::Show
    );
    // As `ratatui::restore`, without its message when it fails: on a terminal that hung
    // up nothing can be put back, and printing that would fail (and panic) in turn.
    let _ = ratatui::crossterm::terminal::disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        ratatui::crossterm::terminal::LeaveAlternateScreen
    );
}

/// Set by SIGHUP (the terminal went away: an SSH session dropped with the Wi-Fi) and
/// SIGTERM: the input loop sends the forms' drafts and leaves.
static HANG_UP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_hang_up(_: libc::c_int) {
    HANG_UP.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Catch SIGHUP and SIGTERM instead of dying of them, so the drafts are sent first.
fn catch_hang_up() {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe { lotline_station::signals::catch(&[libc::SIGHUP, libc::SIGTERM], on_hang_up) };
}

fn event_loop<'s>(
    terminal: &mut ratatui::DefaultTerminal,
    tty: &tty::Tty,
    station: &'s (dyn Station + Sync),
    options: Options,
    scope: &'s std::thread::Scope<'s, '_>,
    greeting: Option<queue::Status>,
) -> io::Result<()> {
    let theme = Theme::new(options.mono, options.ascii);
    let mut decoder = Decoder::with_timing(options.scanner.timing());
    let mut app = App::new(
        options.keymap,
        theme,
        chrono::Local::now().fixed_offset(),
        station,
    )
    .with_devices(options.scanner, options.printer);
    app.labels.timeout = options.print_timeout;
    if greeting.is_some() {
        app.status = greeting;
    }
    catch_hang_up();
    let ran = input_loop(terminal, tty, station, &mut decoder, &mut app, scope);
    // A KDE check nobody will see ends at its next read rather than hold up the way out
    // (the scope waits for its threads); an export asked for goes on unless quit stopped it.
    app.exports.drop_check();
    // However the loop ended — quit, hang-up, or a terminal that is gone (reads and
    // writes fail once the SSH session dropped) — what was typed goes to the station.
    app.keep_drafts(Instant::now(), true, station);
    ran
}

fn input_loop<'s>(
    terminal: &mut ratatui::DefaultTerminal,
    tty: &tty::Tty,
    station: &'s (dyn Station + Sync),
    decoder: &mut Decoder,
    app: &mut App,
    scope: &'s std::thread::Scope<'s, '_>,
) -> io::Result<()> {
    // Changes other stations commit, pushed by the server (docs/server.md, "Inside the server").
    let notices = station.notices();
    let vt220 = paint::vt220(std::env::var("TERM").ok().as_deref());
    let mut painter = paint::Painter::new(vt220);
    app.scroll_by_row = vt220;
    let mut dirty = true;
    loop {
        // An export the user asked for: off the input loop, so the app never freezes.
        if let Some(work) = app.exports.take_pending() {
            scope.spawn(move || work.run(station));
        }
        // The FDA form's KDE check, likewise: seconds of reading on a large plant.
        if let Some(work) = app.exports.take_check() {
            scope.spawn(move || work.run(station));
        }
        dirty |= app.poll_background();
        if let Some(rx) = &notices {
            while let Ok(n) = rx.try_recv() {
                dirty |= app.notice(n, station);
            }
        }
        if app.clear_screen {
            painter.forget();
            app.clear_screen = false;
            dirty = true;
        }
        if dirty {
            // Only what changed is written, in as few bytes as it takes (`paint`).
            let area = terminal.size()?.into();
            let mut frame = ratatui::buffer::Buffer::empty(area);
            let cursor = app.draw(&mut frame, area);
            painter.paint(&mut io::stdout().lock(), &frame, cursor)?;
            dirty = false;
            // For the test that the terminal is put back after a panic (debug builds only).
            if cfg!(debug_assertions) && std::env::var_os("LOTLINE_TEST_PANIC").is_some() {
                panic!("LOTLINE_TEST_PANIC is set: a test asked for this panic");
            }
        }
        if app.quit || HANG_UP.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        dirty |= app.keep_drafts(Instant::now(), false, station);
        // Wake for the next minute of the header clock, for input, or when keys held back
        // as a possible scan must be let go.
        let secs = 60 - u64::from(chrono::Timelike::second(&local_now())).min(59);
        let mut wait = Duration::from_secs(secs);
        if let Some(due) = decoder.deadline() {
            wait = wait.min(due.saturating_duration_since(Instant::now()));
        }
        if app.background_busy() {
            // A label on its way: look for its result a few times a second.
            wait = wait.min(Duration::from_millis(100));
        }
        if notices.is_some() {
            // Another station's change shows within a fraction of a second.
            wait = wait.min(Duration::from_millis(200));
        }
        if let Some(due) = app.drafts.due() {
            wait = wait.min(due.saturating_duration_since(Instant::now()));
        }
        // A hang-up is seen within a quarter second: a SIGHUP, or the terminal's own
        // (`tty`), which is all there is when the signal went to a shell over the app.
        wait = wait.min(Duration::from_millis(250));
        match tty.next(wait)? {
            tty::Next::Event(ev, at) => {
                // Take everything already waiting before drawing again (a scanner's burst).
                let mut next = Some((ev, at));
                while let Some((ev, at)) = next {
                    for input in decoder.feed(ev, at) {
                        dirty |= app.handle(input, station);
                    }
                    if app.quit {
                        break;
                    }
                    next = tty.ready()?;
                }
            }
            tty::Next::Quiet => {
                // A person's keys, held for a few milliseconds in case they were a scan.
                for input in decoder.flush(Instant::now()) {
                    dirty |= app.handle(input, station);
                }
                dirty |= app.tick(local_now(), station);
            }
        }
    }
}

#[cfg(test)]
mod tests;
