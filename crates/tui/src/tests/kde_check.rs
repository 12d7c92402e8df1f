//! The FDA form's KDE check runs off the input loop: the dialog opens at once saying it is
//! checking, the form takes keys meanwhile, the panel fills in when the worker answers,
//! follows the Lot field, is dropped when the export starts or the form closes, and says
//! so when the database cannot be read.

use super::exports::{
    check_done, field_value, on_eggs_trace, retype, run_here, set_phone, stage, status,
};
use super::*;
use crate::exports::Stage;
use crate::kde_check::{self, KdeCheck, Panel};
use lotline_station::{ErrorKind, Reply, Request, Station, StationError};
use ratatui::crossterm::event::KeyCode;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const FULL: (u16, u16) = (80, 24);
const COMPACT: (u16, u16) = (40, 16);

fn panel(a: &App) -> Panel {
    a.exports
        .dialog
        .as_ref()
        .expect("dialog")
        .kde_check
        .clone()
        .expect("the FDA form's KDE check")
}

/// A station whose first call waits until the test lets it go: a check that takes as
/// long as the test wants, as one over a year of a large plant's records does.
struct Gated<'a> {
    inner: &'a Local,
    /// Told when the first call arrives.
    arrived: mpsc::Sender<()>,
    /// Taken by the first call, which waits on it.
    gate: Mutex<Option<mpsc::Receiver<()>>>,
}

impl Station for Gated<'_> {
    fn call(&self, r: Request) -> Result<Reply, StationError> {
        let gate = self.gate.lock().unwrap().take();
        if let Some(gate) = gate {
            let _ = self.arrived.send(());
            // Let go when told, or when the test gave up (its sender gone).
            let _ = gate.recv();
        }
        self.inner.call(r)
    }
}

/// A station that counts the calls made of it.
struct Counted<'a> {
    inner: &'a Local,
    calls: AtomicUsize,
}

impl Station for Counted<'_> {
    fn call(&self, r: Request) -> Result<Reply, StationError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.call(r)
    }
}

/// A station whose database cannot be read.
struct Damaged;

impl Station for Damaged {
    fn call(&self, _: Request) -> Result<Reply, StationError> {
        Err(StationError {
            kind: ErrorKind::Database,
            field: None,
            message: "the database file is damaged; run `lotline check`".into(),
        })
    }
}

#[test]
fn the_dialog_opens_at_once_checking_takes_keys_meanwhile_and_shows_the_gaps_when_the_check_answers()
 {
    let p = plant();
    set_phone(&p, "+1 555 0100");
    // From the menu: the Lot field empty, the check for every food on the list.
    let mut a = app(&p);
    a.exports.dir = Some(std::path::PathBuf::from("/srv/qa"));
    keys(&mut a, &p, [Input::code(KeyCode::Esc)]);
    typed(&mut a, &p, "f");
    // The dialog is there before anything was checked: the check waits for a worker.
    assert_eq!(stage(&a), Stage::Form);
    assert_eq!(
        panel(&a),
        Panel {
            scope: None,
            found: None
        }
    );
    assert!(a.exports.checking() && a.background_busy());
    assert!(!a.exports.busy(), "a check is not an export");
    assert!(
        screen(&a, 80, 24).contains("KDE check: checking… (the form can be filled in meanwhile)"),
        "{}",
        screen(&a, 80, 24)
    );
    snap("export_form_checking", &a, FULL);
    snap("export_form_checking", &a, COMPACT);

    // The real check runs on a thread, held at its first read; meanwhile the contact is
    // put right, key by key (down from the Lot field, past the empty lot: nothing to
    // check again).
    let work = a.exports.take_check().expect("a check for the worker");
    let (arrived_tx, arrived) = mpsc::channel();
    let (go, gate) = mpsc::channel::<()>();
    let gated = Gated {
        inner: &p.st,
        arrived: arrived_tx,
        gate: Mutex::new(Some(gate)),
    };
    let who = "Dana Reyes, +1 555 0199";
    let deadline = Instant::now() + Duration::from_secs(60);
    // Nothing here may panic while the worker is held: what is seen is kept and checked
    // after (the gate's sender is dropped on the way out in any case, letting it go).
    let (held, typed_meanwhile, still_checking, panel_then) = std::thread::scope(|s| {
        let go = go;
        s.spawn(|| work.run(&gated));
        let held = arrived.recv_timeout(Duration::from_secs(60)).is_ok();
        for _ in 0..5 {
            keys(&mut a, &p, [Input::code(KeyCode::Tab)]);
        }
        retype(&mut a, &p, who);
        a.poll_background();
        let typed_meanwhile = field_value(&a, "contact");
        let still_checking = a.exports.checking();
        let panel_then = a.exports.dialog.as_ref().and_then(|d| d.kde_check.clone());
        let _ = go.send(());
        while a.exports.checking() && Instant::now() < deadline {
            a.poll_background();
            std::thread::sleep(Duration::from_millis(5));
        }
        (held, typed_meanwhile, still_checking, panel_then)
    });
    assert!(held, "the worker reached its first read");
    assert_eq!(typed_meanwhile, who, "the keys typed during the check");
    assert!(still_checking);
    assert_eq!(panel_then.and_then(|p| p.found), None);
    // Its answer is the plant's gaps, shown under the fields; the contact typed is as it
    // was.
    assert!(!a.exports.checking(), "the check answered");
    let found = panel(&a).found.expect("the check's answer");
    assert_eq!(found, kde_check::check(&p.st, None));
    assert!(!found.complete && !found.failed, "{found:?}");
    let text = screen(&a, 80, 24);
    assert!(text.contains(&found.lines[0]), "{text}");
    assert!(!text.contains("checking"), "{text}");
    assert_eq!(field_value(&a, "contact"), who);
    assert!(
        screen(&a, 40, 16).contains(&found.short),
        "{}",
        screen(&a, 40, 16)
    );
}

#[test]
fn a_new_lot_is_checked_once_the_lot_field_is_left_and_the_old_lots_answer_is_never_shown() {
    let p = plant();
    let mut a = on_eggs_trace(&p, Path::new("/srv/qa"));
    typed(&mut a, &p, "F");
    let eggs_check = a.exports.take_check().expect("the eggs' check");
    // Back from the file to the Lot field, past every field between.
    for _ in 0..6 {
        keys(&mut a, &p, [Input::code(KeyCode::BackTab)]);
    }
    assert!(a.exports.dialog.as_ref().unwrap().form.is_focused("lot"));
    retype(&mut a, &p, p.old_eggs.as_str());
    // Typing in the field checks nothing yet, and the panel does not pass off the
    // eggs' check as this lot's.
    assert!(a.exports.take_check().is_none());
    let text = screen(&a, 80, 24);
    assert!(
        text.contains("KDE check: for the lot typed, once you leave the Lot field."),
        "{text}"
    );
    // On a handheld too (taller than the smallest, for the status line's three lines).
    assert!(screen(&a, 40, 22).contains("KDE check: once you leave Lot"));
    // Leaving it checks the lot typed.
    keys(&mut a, &p, [Input::code(KeyCode::Tab)]);
    assert_eq!(
        panel(&a),
        Panel {
            scope: Some(p.old_eggs.to_string()),
            found: None
        }
    );
    assert!(screen(&a, 80, 24).contains("KDE check: checking…"));
    // The eggs' check, dropped, reads nothing more and answers nothing.
    let counted = Counted {
        inner: &p.st,
        calls: AtomicUsize::new(0),
    };
    eggs_check.run(&counted);
    assert_eq!(counted.calls.load(Ordering::Relaxed), 0);
    assert!(!a.poll_background());
    assert_eq!(panel(&a).found, None);
    check_done(&mut a, &p.st);
    let old_eggs = kde_check::check(&p.st, Some(p.old_eggs.as_str()));
    assert_ne!(
        old_eggs,
        kde_check::check(&p.st, Some(p.eggs.as_str())),
        "the two lots' checks differ, so the panel shows which one ran"
    );
    assert_eq!(panel(&a).found, Some(old_eggs));
    // Leaving the field again with the same lot (spaces around it are not another lot)
    // checks nothing again.
    keys(&mut a, &p, [Input::code(KeyCode::BackTab)]);
    retype(&mut a, &p, &format!(" {} ", p.old_eggs));
    keys(&mut a, &p, [Input::code(KeyCode::Tab)]);
    assert!(!a.exports.checking());
    // An empty Lot is every food on the list.
    keys(
        &mut a,
        &p,
        [Input::code(KeyCode::BackTab), Input::ctrl('u')],
    );
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    assert_eq!(panel(&a).scope, None);
    check_done(&mut a, &p.st);
    assert_eq!(panel(&a).found, Some(kde_check::check(&p.st, None)));
    // A lot that is not there: the check says so in its own words, not as a failure
    // (the export refuses it in the form when asked to start).
    keys(&mut a, &p, [Input::code(KeyCode::BackTab)]);
    typed(&mut a, &p, "NOPE-1");
    keys(&mut a, &p, [Input::code(KeyCode::Tab)]);
    check_done(&mut a, &p.st);
    let found = panel(&a).found.expect("an answer");
    assert!(!found.failed && !found.complete, "{found:?}");
    assert!(
        found.lines[0].starts_with("KDE check: ") && found.lines[0].contains("NOPE-1"),
        "{found:?}"
    );
}

#[test]
fn starting_the_export_or_closing_the_form_drops_a_check_still_running() {
    let p = plant();
    let out = tempfile::tempdir().unwrap();
    let mut a = on_eggs_trace(&p, out.path());
    typed(&mut a, &p, "F");
    let check = a.exports.take_check().expect("a check");
    // Enter on the file starts the export at once, the check still running.
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    assert_eq!(stage(&a), Stage::Running);
    assert!(!a.exports.checking(), "the check is dropped");
    let counted = Counted {
        inner: &p.st,
        calls: AtomicUsize::new(0),
    };
    check.run(&counted);
    assert_eq!(
        counted.calls.load(Ordering::Relaxed),
        0,
        "it read nothing more"
    );
    run_here(&mut a, &p);
    assert!(matches!(stage(&a), Stage::Done(_)), "{:?}", stage(&a));
    // Esc on the form closes it, and its check with it.
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    typed(&mut a, &p, "F");
    assert!(a.exports.checking());
    keys(&mut a, &p, [Input::code(KeyCode::Esc)]);
    assert!(a.exports.dialog.is_none());
    assert!(!a.exports.checking() && !a.background_busy());
    // Quitting stops one too, so that the app does not wait for its reading.
    typed(&mut a, &p, "F");
    let check = a.exports.take_check().expect("a check");
    a.exports.stop();
    check.run(&counted);
    assert_eq!(counted.calls.load(Ordering::Relaxed), 0);
}

#[test]
fn a_check_that_cannot_read_the_database_says_so_on_the_panel_and_the_form_still_works() {
    let p = plant();
    let out = tempfile::tempdir().unwrap();
    let mut a = on_eggs_trace(&p, out.path());
    typed(&mut a, &p, "F");
    let work = a.exports.take_check().expect("a check");
    work.run(&Damaged);
    assert!(a.poll_background());
    let found = panel(&a).found.expect("an answer");
    assert!(found.failed && !found.complete);
    let text = screen(&a, 80, 24);
    assert!(
        text.contains("KDE check could not run: the database file is damaged;"),
        "{text}"
    );
    assert!(
        text.contains("The export can still be written; close and open the form to check"),
        "{text}"
    );
    assert!(screen(&a, 40, 22).contains("KDE check: could not run"));
    // In the error colour, not the warning's.
    let buf = buffer(&a, 80, 24);
    let row = (0..24)
        .find(|&y| {
            (0..80)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .contains("could not run")
        })
        .expect("the line");
    let x = (0..80)
        .find(|&x| buf[(x, row)].symbol() == "K")
        .expect("its start");
    assert_eq!(buf[(x, row)].fg, a.theme.error.fg.unwrap());
    // The export goes ahead all the same.
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    run_here(&mut a, &p);
    assert!(matches!(stage(&a), Stage::Done(_)), "{:?}", stage(&a));

    // A worker that ends without a word (it panicked) is said too, not waited for.
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    typed(&mut a, &p, "F");
    drop(a.exports.take_check());
    assert!(a.poll_background());
    assert!(!a.exports.checking());
    let found: KdeCheck = panel(&a).found.expect("an answer");
    assert!(found.failed);
    assert!(
        found.lines[0].contains("the check stopped unexpectedly"),
        "{found:?}"
    );
    assert!(status(&a).contains("Export for FDA"), "{}", status(&a));
}
