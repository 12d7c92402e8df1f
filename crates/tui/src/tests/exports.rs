//! Exports from the app: the FDA spreadsheet from the Trace screen's root and from the
//! date-range form, a saved shipment's shipping KDEs, progress from the worker thread
//! into the app, refusals in the form, and snapshots of each stage at 80x24 and 40x16.

use super::*;
use crate::exports::{Msg, Progress, Stage, What};
use crate::queue::{InternalEvent, Level, Outcome};
use ratatui::crossterm::event::KeyCode;
use std::path::{Path, PathBuf};

const FULL: (u16, u16) = (80, 24);
const COMPACT: (u16, u16) = (40, 16);

pub(super) fn status(a: &App) -> String {
    a.status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default()
}

/// A shipment to SHOP on BOL:5521 typed into the Ship screen, field by field (the second
/// reference, the reason for none, the date and the item left empty), up to its quantity.
fn ship_typed(a: &mut App, p: &Plant, lot: &str, qty: &str) {
    for t in ["shop", "BOL:5521", "", "", "", "", lot, qty] {
        typed(a, p, t);
        keys(a, p, [Input::code(KeyCode::Enter)]);
    }
}

pub(super) fn stage(a: &App) -> Stage {
    a.exports.dialog.as_ref().expect("dialog").stage.clone()
}

/// The app on the Trace screen with the good eggs' trace loaded, new files going to `dir`.
pub(super) fn on_eggs_trace(p: &Plant, dir: &Path) -> App {
    let mut a = app(p);
    a.exports.dir = Some(dir.to_path_buf());
    let out = Outcome::changed().with(InternalEvent::OpenTrace(p.eggs.clone()));
    a.process(out, &p.st);
    a
}

/// Let the FDA form's KDE check run on a worker thread against `st`, as the app loop
/// does, and poll as the loop does until its answer is in (or a deadline passes).
pub(super) fn check_done(a: &mut App, st: &(dyn lotline_station::Station + Sync)) {
    let work = a.exports.take_check().expect("a KDE check for the worker");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    std::thread::scope(|s| {
        s.spawn(|| work.run(st));
        while a.exports.checking() && std::time::Instant::now() < deadline {
            a.poll_background();
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    });
    assert!(!a.exports.checking(), "the KDE check answered in time");
}

/// Run the job the app handed over on this thread (deterministic), then take its messages.
pub(super) fn run_here(a: &mut App, p: &Plant) {
    let work = a.exports.take_pending().expect("a job for the worker");
    work.run(&p.st);
    a.poll_background();
}

pub(super) fn field_value(a: &App, name: &str) -> String {
    a.exports
        .dialog
        .as_ref()
        .unwrap()
        .form
        .value(name)
        .to_string()
}

/// Give the plant a phone (the FDA form's contact is offered from it).
pub(super) fn set_phone(p: &Plant, phone: &str) {
    let mut plant = p.st.plant().unwrap();
    plant.location.phone = phone.into();
    p.st.set_plant(plant).unwrap();
}

/// The files in `dir`, by name (a temporary file included).
fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Replace the focused field's text.
pub(super) fn retype(a: &mut App, p: &Plant, text: &str) {
    keys(a, p, [Input::ctrl('u')]);
    typed(a, p, text);
}

#[test]
fn export_for_fda_from_the_trace_root_runs_on_a_worker_and_reports_into_the_app() {
    let p = plant();
    let out = tempfile::tempdir().unwrap();
    let mut a = on_eggs_trace(&p, out.path());
    typed(&mut a, &p, "F");
    let d = a.exports.dialog.as_ref().expect("the FDA dialog");
    assert_eq!(d.what, What::Fda);
    assert_eq!(field_value(&a, "lot"), p.eggs.as_str());
    let expected = out
        .path()
        .join(format!("fda-{}-2026-11-21.xlsx", p.eggs.as_str()));
    assert_eq!(field_value(&a, "file"), expected.display().to_string());
    assert!(a.wants_text(), "the file name can be changed");
    // The cursor starts on the file: Enter confirms it and starts the export.
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    assert_eq!(stage(&a), Stage::Running);
    assert!(a.background_busy());
    // The app loop hands the job to a thread and keeps polling; here, the same by hand.
    let work = a.exports.take_pending().expect("a job");
    std::thread::scope(|s| {
        s.spawn(|| work.run(&p.st));
        for _ in 0..2000 {
            a.poll_background();
            if !a.background_busy() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    });
    assert!(!a.background_busy(), "the worker finished");
    let d = a.exports.dialog.as_ref().unwrap();
    // The worker's last progress message (saving the workbook) reached the app's state.
    assert_eq!(
        (d.progress.step, d.progress.steps),
        (3, 3),
        "{:?}",
        d.progress
    );
    assert_eq!(d.progress.what, "putting the file in place");
    match &d.stage {
        Stage::Done(lines) => {
            assert!(lines[0].contains("fda-"), "{lines:?}");
            assert!(lines[1].contains("receiving"), "{lines:?}");
        }
        other => panic!("not done: {other:?}"),
    }
    assert!(expected.exists());
    assert!(std::fs::metadata(&expected).unwrap().len() > 0);
    assert_eq!(a.status.as_ref().unwrap().level, Level::Ok);
    // Enter closes; the same export again offers a new name, never the file written.
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    assert!(a.exports.dialog.is_none());
    typed(&mut a, &p, "F");
    assert!(field_value(&a, "file").ends_with("-2.xlsx"));
}

#[test]
fn progress_messages_reach_the_app_state_and_a_hidden_export_reports_on_the_status_line() {
    let p = plant();
    let mut a = on_eggs_trace(&p, Path::new("/srv/qa"));
    typed(&mut a, &p, "F");
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    let work = a.exports.take_pending().unwrap();
    work.report(Msg::Progress(Progress {
        step: 2,
        steps: 3,
        done: 5_000,
        total: 10_000,
        what: "writing the rows".into(),
    }));
    assert!(a.poll_background());
    let d = a.exports.dialog.as_ref().unwrap();
    assert_eq!((d.progress.done, d.progress.total), (5_000, 10_000));
    assert!((d.progress.fraction() - 0.5).abs() < 1e-9);
    snap("export_progress", &a, FULL);
    snap("export_progress", &a, COMPACT);
    // Enter hides it; the app is usable and the progress goes to the status line.
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    assert!(!a.exports.shown());
    assert!(status(&a).contains("it goes on"), "{}", status(&a));
    keys(&mut a, &p, [Input::code(KeyCode::F(6))]);
    assert_eq!(a.screen, crate::keymap::ScreenId::Lots);
    work.report(Msg::Progress(Progress {
        step: 3,
        steps: 3,
        done: 0,
        total: 0,
        what: "compressing and saving".into(),
    }));
    a.poll_background();
    assert!(status(&a).starts_with("Exporting 67%"), "{}", status(&a));
    // A second export is refused while one runs, and the running one is shown again.
    keys(&mut a, &p, [Input::code(KeyCode::F(5))]);
    typed(&mut a, &p, "F");
    assert!(a.exports.shown());
    assert!(status(&a).contains("under way"), "{}", status(&a));
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    work.report(Msg::Done(vec![
        "Wrote /srv/qa/fda.xlsx".into(),
        "3 rows".into(),
    ]));
    a.poll_background();
    assert!(a.exports.dialog.is_none());
    assert!(!a.background_busy());
    assert_eq!(a.status.as_ref().unwrap().level, Level::Ok);
    assert!(
        status(&a).contains("Export done: Wrote /srv/qa/fda.xlsx"),
        "{}",
        status(&a)
    );
}

#[test]
fn a_worker_that_dies_is_reported_not_waited_for() {
    let p = plant();
    let mut a = on_eggs_trace(&p, Path::new("/srv/qa"));
    typed(&mut a, &p, "F");
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    drop(a.exports.take_pending());
    a.poll_background();
    assert!(matches!(stage(&a), Stage::Failed(w) if w.contains("stopped unexpectedly")));
    assert!(!a.background_busy());
}

#[test]
fn the_date_range_form_from_the_menu_refuses_bad_input_and_writes_nothing_for_no_match() {
    let p = plant();
    let mut a = app(&p);
    a.exports.dir = Some(PathBuf::from("/srv/qa"));
    // From a form screen: Esc for the menu, then f.
    keys(&mut a, &p, [Input::code(KeyCode::Esc)]);
    typed(&mut a, &p, "f");
    assert_eq!(a.exports.dialog.as_ref().unwrap().what, What::Fda);
    assert_eq!(field_value(&a, "lot"), "");
    assert_eq!(field_value(&a, "foods"), "ftl");
    check_done(&mut a, &p.st);
    snap("export_form_dates", &a, FULL);
    snap("export_form_dates", &a, COMPACT);
    // A reversed range is refused in the form, naming From; nothing starts.
    keys(&mut a, &p, [Input::code(KeyCode::Tab)]);
    typed(&mut a, &p, "2026-11-10");
    keys(&mut a, &p, [Input::code(KeyCode::Tab)]);
    typed(&mut a, &p, "2026-11-01");
    keys(&mut a, &p, [Input::ctrl('s')]);
    assert_eq!(stage(&a), Stage::Form);
    assert!(a.exports.take_pending().is_none());
    assert!(status(&a).contains("after To"), "{}", status(&a));
    let d = a.exports.dialog.as_ref().unwrap();
    assert!(d.form.get("from").error);
    assert_eq!(d.form.focused().unwrap().name, "from");
    // A food that is not one: refused by name.
    retype(&mut a, &p, "2026-11-16");
    keys(&mut a, &p, [Input::code(KeyCode::Tab)]);
    retype(&mut a, &p, "2026-11-21");
    keys(
        &mut a,
        &p,
        [Input::code(KeyCode::Tab), Input::code(KeyCode::Tab)],
    );
    retype(&mut a, &p, "some");
    keys(&mut a, &p, [Input::ctrl('s')]);
    assert!(status(&a).contains("not one of ftl, all"), "{}", status(&a));
    // Every item, dates with no records: the worker says so and writes no file.
    retype(&mut a, &p, "all");
    keys(&mut a, &p, [Input::ctrl('s')]);
    run_here(&mut a, &p);
    match stage(&a) {
        Stage::Failed(why) => assert!(why.contains("nothing was written"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(!Path::new(&field_value(&a, "file")).exists());
    snap("export_nothing_matched", &a, FULL);
    snap("export_nothing_matched", &a, COMPACT);
    keys(&mut a, &p, [Input::code(KeyCode::Esc)]);
    assert!(a.exports.dialog.is_none());
}

#[test]
fn an_existing_file_is_refused_and_left_alone_and_a_folder_name_gives_csv_files() {
    let p = plant();
    let out = tempfile::tempdir().unwrap();
    let mut a = on_eggs_trace(&p, out.path());
    let taken = out.path().join("taken.xlsx");
    std::fs::write(&taken, b"keep me").unwrap();
    typed(&mut a, &p, "F");
    retype(&mut a, &p, &taken.display().to_string());
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    assert_eq!(stage(&a), Stage::Form);
    assert!(status(&a).contains("already exists"), "{}", status(&a));
    assert_eq!(std::fs::read(&taken).unwrap(), b"keep me");
    // A name without .xlsx is a folder of CSV files, one per sheet and the read-me.
    let folder: PathBuf = out.path().join("fda-eggs");
    retype(&mut a, &p, &folder.display().to_string());
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    run_here(&mut a, &p);
    assert!(matches!(stage(&a), Stage::Done(_)), "{:?}", stage(&a));
    let rec = std::fs::read_to_string(folder.join("receiving.csv")).unwrap();
    assert!(rec.contains("f-1121"), "{rec}");
    assert!(folder.join("read-me.txt").exists());
}

#[test]
fn the_ship_screen_writes_the_saved_shipments_kdes_as_csv_and_epcis() {
    let p = plant();
    let out = tempfile::tempdir().unwrap();
    let mut a = app(&p);
    a.exports.dir = Some(out.path().to_path_buf());
    keys(&mut a, &p, [Input::code(KeyCode::F(4))]);
    // Before a save there is no shipment to write.
    keys(&mut a, &p, [Input::ctrl('g')]);
    assert!(a.exports.dialog.is_none());
    assert!(status(&a).contains("save a shipment"), "{}", status(&a));
    ship_typed(&mut a, &p, p.cookies_a.as_str(), "12");
    keys(&mut a, &p, [Input::ctrl('s')]);
    let event = a.ship.last_event.expect("saved");
    keys(&mut a, &p, [Input::ctrl('g')]);
    let d = a.exports.dialog.as_ref().expect("the KDE dialog");
    assert_eq!(d.what, What::Kde { shipment: event });
    let csv = out.path().join(format!("shipment-{event}-kdes.csv"));
    assert_eq!(field_value(&a, "file"), csv.display().to_string());
    keys(&mut a, &p, [Input::code(KeyCode::Tab)]);
    retype(&mut a, &p, "yes");
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    run_here(&mut a, &p);
    assert!(matches!(stage(&a), Stage::Done(_)), "{:?}", stage(&a));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("Traceability lot code,"), "{text}");
    assert!(
        text.contains(p.cookies_a.as_str()) && text.contains("BOL"),
        "{text}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(csv.with_extension("jsonld")).unwrap())
            .unwrap();
    let events = doc["epcisBody"]["eventList"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["bizStep"], "shipping");
    // Again: the files are there, so the default name moves on and nothing is replaced.
    keys(&mut a, &p, [Input::code(KeyCode::Enter), Input::ctrl('g')]);
    assert!(field_value(&a, "file").ends_with("-kdes-2.csv"));
}

#[test]
fn snapshots_of_the_dialogs() {
    let p = plant();
    set_phone(&p, "+1 555 0100");
    let mut a = on_eggs_trace(&p, Path::new("/srv/qa"));
    typed(&mut a, &p, "F");
    check_done(&mut a, &p.st);
    snap("export_form_root", &a, FULL);
    snap("export_form_root", &a, COMPACT);
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    let work = a.exports.take_pending().unwrap();
    work.report(Msg::Done(vec![
        "Wrote /srv/qa/fda-eggs.xlsx".into(),
        "4 rows: 1 receiving, 1 transformation, 2 shipping".into(),
        "Check the Read me, then send the file as FDA directs; keep a copy with the request."
            .into(),
    ]));
    a.poll_background();
    snap("export_done", &a, FULL);
    snap("export_done", &a, COMPACT);

    // The Ship screen's dialog, for a shipment saved just now.
    let mut b = app(&p);
    b.exports.dir = Some(PathBuf::from("/srv/qa"));
    keys(&mut b, &p, [Input::code(KeyCode::F(4))]);
    ship_typed(&mut b, &p, p.cookies_b.as_str(), "2");
    keys(&mut b, &p, [Input::ctrl('s'), Input::ctrl('g')]);
    snap("export_kde_form", &b, FULL);
    snap("export_kde_form", &b, COMPACT);
}

#[test]
fn esc_cancels_a_running_export_at_its_next_step_and_leaves_no_file_and_no_temp_file() {
    let p = plant();
    let out = tempfile::tempdir().unwrap();
    let mut a = on_eggs_trace(&p, out.path());
    typed(&mut a, &p, "F");
    let file = PathBuf::from(field_value(&a, "file"));
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    let mut work = a.exports.take_pending().expect("a job");
    // Hold the real worker at its last step: the workbook saved under its temporary
    // name, not yet put in place.
    let (at_tx, at_rx) = std::sync::mpsc::channel::<Progress>();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    work.pause = Some(Box::new(move |p: &Progress| {
        if p.what == "putting the file in place" {
            let _ = at_tx.send(p.clone());
            // Let go when told, or when the test gave up (its sender gone).
            let _ = go_rx.recv();
        }
    }));
    let st = &p.st;
    // While the worker is held nothing here may panic (the scope would wait for it):
    // what is seen is kept, and checked once it has gone on.
    let (held, temp, footer) = std::thread::scope(|s| {
        let go_tx = go_tx;
        let worker = s.spawn(move || work.run(st));
        let held = at_rx.recv().ok();
        let temp = files_in(out.path());
        // Every step so far reaches the app; Esc then asks the worker to stop.
        a.poll_background();
        let footer = screen(&a, 80, 24);
        keys(&mut a, &p, [Input::code(KeyCode::Esc)]);
        let _ = go_tx.send(());
        let _ = worker.join();
        (held, temp, footer)
    });
    let held = held.expect("the worker reached its last step");
    assert_eq!((held.step, held.steps), (3, 3));
    assert!(
        temp.len() == 1 && temp[0].ends_with(".tmp"),
        "the workbook waited under a temporary name: {temp:?}"
    );
    assert!(footer.contains("Esc cancel export"), "{footer}");
    // Until the app hears from the worker, the dialog says it is cancelling.
    assert_eq!(stage(&a), Stage::Running);
    assert!(a.exports.dialog.as_ref().unwrap().cancelling);
    assert!(status(&a).starts_with("Cancelling"), "{}", status(&a));
    snap("export_cancelling", &a, FULL);
    snap("export_cancelling", &a, COMPACT);
    a.poll_background();
    assert!(a.exports.dialog.is_none());
    assert!(!a.background_busy());
    assert_eq!(status(&a), "Export cancelled; nothing was written");
    assert!(!file.exists());
    assert_eq!(
        files_in(out.path()),
        Vec::<String>::new(),
        "no temporary file"
    );
    // The next export is not stopped by the last one's cancel.
    typed(&mut a, &p, "F");
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    run_here(&mut a, &p);
    assert!(matches!(stage(&a), Stage::Done(_)), "{:?}", stage(&a));
    assert!(file.exists());
}

#[test]
fn a_cancel_before_the_first_step_writes_nothing_and_one_too_late_says_so() {
    let p = plant();
    let out = tempfile::tempdir().unwrap();
    let mut a = app(&p);
    a.exports.dir = Some(out.path().to_path_buf());
    keys(&mut a, &p, [Input::code(KeyCode::F(4))]);
    ship_typed(&mut a, &p, p.cookies_a.as_str(), "12");
    keys(
        &mut a,
        &p,
        [
            Input::ctrl('s'),
            Input::ctrl('g'),
            Input::code(KeyCode::Tab),
        ],
    );
    retype(&mut a, &p, "yes");
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    assert_eq!(stage(&a), Stage::Running);
    // Esc before the worker has begun: it stops at its first step.
    keys(&mut a, &p, [Input::code(KeyCode::Esc)]);
    // A second Esc only says it is under way.
    keys(&mut a, &p, [Input::code(KeyCode::Esc)]);
    assert!(status(&a).starts_with("Cancelling"), "{}", status(&a));
    run_here(&mut a, &p);
    assert_eq!(status(&a), "Export cancelled; nothing was written");
    assert_eq!(files_in(out.path()), Vec::<String>::new());

    // A worker that finished before the Esc reached it: what it wrote is said.
    keys(&mut a, &p, [Input::ctrl('g'), Input::ctrl('s')]);
    let work = a.exports.take_pending().unwrap();
    work.report(Msg::Done(vec!["Wrote /srv/qa/s.csv (1 line)".into()]));
    keys(&mut a, &p, [Input::code(KeyCode::Esc)]);
    a.poll_background();
    assert!(
        status(&a).starts_with("Too late to cancel"),
        "{}",
        status(&a)
    );
    assert!(status(&a).contains("Wrote /srv/qa/s.csv"), "{}", status(&a));
    assert!(matches!(stage(&a), Stage::Done(_)));
}

#[test]
fn the_fda_form_takes_who_fda_should_call_into_the_read_me_and_refuses_bad_text_there() {
    use calamine::{Reader, Xlsx, open_workbook};
    let p = plant();
    set_phone(&p, "+1 555 0100");
    let out = tempfile::tempdir().unwrap();
    let mut a = on_eggs_trace(&p, out.path());
    typed(&mut a, &p, "F");
    // Offered as the CLI's default: the plant's phone.
    assert_eq!(field_value(&a, "contact"), "the plant, +1 555 0100");
    let file = PathBuf::from(field_value(&a, "file"));
    // From the file, back to the contact: too long is refused there.
    keys(&mut a, &p, [Input::code(KeyCode::BackTab)]);
    retype(&mut a, &p, &"x".repeat(201));
    keys(&mut a, &p, [Input::ctrl('s')]);
    assert_eq!(stage(&a), Stage::Form);
    let d = a.exports.dialog.as_ref().unwrap();
    assert!(d.form.get("contact").error);
    assert_eq!(d.form.focused().unwrap().name, "contact");
    assert!(status(&a).contains("longer than 200"), "{}", status(&a));
    // Text that would read as something else (a right-to-left override) too.
    retype(&mut a, &p, "Dana\u{202e}Reyes");
    keys(&mut a, &p, [Input::ctrl('s')]);
    assert_eq!(stage(&a), Stage::Form);
    assert!(status(&a).contains("plain text"), "{}", status(&a));
    let who = "Dana Reyes, +1 555 0199, dana@testbakery.example";
    retype(&mut a, &p, who);
    keys(
        &mut a,
        &p,
        [Input::code(KeyCode::Enter), Input::code(KeyCode::Enter)],
    );
    run_here(&mut a, &p);
    assert!(matches!(stage(&a), Stage::Done(_)), "{:?}", stage(&a));
    let mut wb: Xlsx<_> = open_workbook(&file).unwrap();
    let readme = wb.worksheet_range("Read me").unwrap();
    let contact: Vec<String> = readme
        .rows()
        .filter(|r| r[0] == calamine::Data::String("Point of contact".into()))
        .map(|r| r[1].to_string())
        .collect();
    assert_eq!(contact, [who]);
}
