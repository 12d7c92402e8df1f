//! Exports from the app: the FDA spreadsheet from the Trace screen's root and from the
//! date-range form, a saved shipment's shipping KDEs, progress from the worker thread
//! into the app, refusals in the form, and snapshots of each stage at 80x24 and 40x16.

use super::*;
use crate::tui::exports::{Msg, Progress, Stage, What};
use crate::tui::queue::{InternalEvent, Level, Outcome};
use ratatui::crossterm::event::KeyCode;
use std::path::{Path, PathBuf};

const FULL: (u16, u16) = (80, 24);
const COMPACT: (u16, u16) = (40, 16);

fn status(a: &App) -> String {
    a.status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default()
}

fn stage(a: &App) -> Stage {
    a.exports.dialog.as_ref().expect("dialog").stage.clone()
}

/// The app on the Trace screen with the good eggs' trace loaded, new files going to `dir`.
fn on_eggs_trace(p: &Plant, dir: &Path) -> App {
    let mut a = app(p);
    a.exports.dir = Some(dir.to_path_buf());
    let out = Outcome::changed().with(InternalEvent::OpenTrace(p.eggs.clone()));
    a.process(out, &p.st);
    a
}

/// Run the job the app handed over on this thread (deterministic), then take its messages.
fn run_here(a: &mut App, p: &Plant) {
    let work = a.exports.take_pending().expect("a job for the worker");
    work.run(&p.st);
    a.poll_background();
}

fn field_value(a: &App, name: &str) -> String {
    a.exports
        .dialog
        .as_ref()
        .unwrap()
        .form
        .value(name)
        .to_string()
}

/// Replace the focused field's text.
fn retype(a: &mut App, p: &Plant, text: &str) {
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
    assert_eq!(d.progress.what, "compressing and saving");
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
    // Esc hides it; the app is usable and the progress goes to the status line.
    keys(&mut a, &p, [Input::code(KeyCode::Esc)]);
    assert!(!a.exports.shown());
    assert!(status(&a).contains("it goes on"), "{}", status(&a));
    keys(&mut a, &p, [Input::code(KeyCode::F(6))]);
    assert_eq!(a.screen, crate::tui::keymap::ScreenId::Lots);
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
    keys(&mut a, &p, [Input::code(KeyCode::Esc)]);
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
    for t in ["shop", "BOL:5521", "", "", p.cookies_a.as_str(), "12"] {
        typed(&mut a, &p, t);
        keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    }
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
    let mut a = on_eggs_trace(&p, Path::new("/srv/qa"));
    typed(&mut a, &p, "F");
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
    for t in ["shop", "BOL:5521", "", "", p.cookies_b.as_str(), "2"] {
        typed(&mut b, &p, t);
        keys(&mut b, &p, [Input::code(KeyCode::Enter)]);
    }
    keys(&mut b, &p, [Input::ctrl('s'), Input::ctrl('g')]);
    snap("export_kde_form", &b, FULL);
    snap("export_kde_form", &b, COMPACT);
}
