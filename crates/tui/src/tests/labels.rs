//! Our lot labels from the app: after a Receive save, after a batch closes, and from Lots.

use super::*;
use crate::PrinterSetting;
use crate::queue::Level;
use lotline_export::label::Printer;
use ratatui::crossterm::event::KeyCode;

fn status(a: &App) -> (Option<Level>, String) {
    a.status
        .as_ref()
        .map(|s| (Some(s.level), s.text.clone()))
        .unwrap_or_default()
}

fn with_printer(a: App, text: &str) -> App {
    let printer = Printer::parse(text, "printer").unwrap();
    a.with_devices(
        Default::default(),
        Some(PrinterSetting {
            printer,
            text: text.into(),
            from: "config.toml".into(),
        }),
    )
}

/// Wait for labels on their way to finish, as the app's loop does between keys.
fn finish(a: &mut App) {
    let start = std::time::Instant::now();
    loop {
        a.poll_background();
        if !a.background_busy() {
            return;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "a label never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn enter(a: &mut App, p: &Plant, text: &str) {
    typed(a, p, text);
    keys(a, p, [Input::code(KeyCode::Enter)]);
}

/// Receive one case of flour; the new lot's code.
fn receive_one(a: &mut App, p: &Plant) -> String {
    for t in ["flour", "mill", "M-90", "25"] {
        enter(a, p, t);
    }
    keys(a, p, [Input::ctrl('s')]);
    a.receive.last.as_ref().expect("saved").code.to_string()
}

#[test]
fn the_new_lots_label_prints_after_a_save_and_a_closed_batch() {
    let p = plant();
    let spool = p.dir.path().join("labels.zpl");
    let mut a = with_printer(app(&p), &format!("file:{}", spool.display()));
    // Nothing saved yet: nothing to print, and the footer does not offer it.
    keys(&mut a, &p, [Input::ctrl('p')]);
    finish(&mut a);
    assert_eq!(
        status(&a),
        (
            Some(Level::Warn),
            "label: nothing received yet; the label is for the lot a save creates".into()
        )
    );
    assert!(!screen(&a, 80, 24).contains("C-p print label"));
    let lot = receive_one(&mut a, &p);
    assert!(
        screen(&a, 80, 24).contains("C-p print label"),
        "offered now"
    );
    // The label is shown first, as it will print; typing does not reach the form below.
    keys(&mut a, &p, [Input::ctrl('p')]);
    typed(&mut a, &p, "x");
    assert!(a.labels.preview.is_some() && !a.labels.busy());
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    finish(&mut a);
    assert_eq!(
        status(&a),
        (
            Some(Level::Ok),
            format!("Label for lot {lot} sent to file:{}", spool.display())
        )
    );
    let zpl = std::fs::read_to_string(&spool).unwrap();
    assert!(
        zpl.starts_with("^XA") && zpl.contains(&format!("LOT {lot}")),
        "{zpl}"
    );
    assert!(zpl.contains("All-purpose flour"), "{zpl}");

    // A batch: its label after it closes.
    keys(&mut a, &p, [Input::code(KeyCode::F(3))]);
    keys(&mut a, &p, [Input::ctrl('p')]);
    finish(&mut a);
    assert!(
        status(&a).1.starts_with("label: no batch closed yet"),
        "{:?}",
        status(&a)
    );
    enter(&mut a, &p, "dough");
    for t in ["", "", ""] {
        enter(&mut a, &p, t);
    }
    enter(&mut a, &p, &lot);
    enter(&mut a, &p, "10");
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    enter(&mut a, &p, "10");
    keys(&mut a, &p, [Input::ctrl('s')]);
    let batch = a.produce.last.as_ref().expect("closed").0.to_string();
    keys(&mut a, &p, [Input::ctrl('p'), Input::code(KeyCode::Enter)]);
    finish(&mut a);
    assert_eq!(
        status(&a).1,
        format!("Label for lot {batch} sent to file:{}", spool.display())
    );
    let zpl = std::fs::read_to_string(&spool).unwrap();
    assert!(zpl.contains(&format!("LOT {batch}")), "{zpl}");
    assert!(zpl.contains("Cookie dough"), "{zpl}");

    // On the Lots screen: the selected lot's label.
    keys(&mut a, &p, [Input::code(KeyCode::F(6))]);
    enter(&mut a, &p, p.held_sugar.as_str());
    keys(
        &mut a,
        &p,
        [Input::code(KeyCode::Char('P')), Input::code(KeyCode::Enter)],
    );
    finish(&mut a);
    assert_eq!(
        status(&a).1,
        format!(
            "Label for lot {} sent to file:{}",
            p.held_sugar,
            spool.display()
        )
    );
}

#[test]
fn without_a_printer_or_with_a_broken_one_the_status_line_says_so() {
    let p = plant();
    let mut a = app(&p);
    let lot = receive_one(&mut a, &p);
    keys(&mut a, &p, [Input::ctrl('p')]);
    finish(&mut a);
    assert_eq!(
        status(&a),
        (
            Some(Level::Warn),
            format!(
                "label: no printer set for lot {lot}; add [label] printer to config.toml or set LOTLINE_PRINTER"
            )
        )
    );
    let mut a = with_printer(app(&p), "cmd:echo out of paper >&2; exit 3");
    let lot = receive_one(&mut a, &p);
    keys(&mut a, &p, [Input::ctrl('p'), Input::code(KeyCode::Enter)]);
    finish(&mut a);
    let (level, text) = status(&a);
    assert_eq!(level, Some(Level::Error));
    assert!(
        text.starts_with(&format!("label: lot {lot} did not print: printer command")),
        "{text}"
    );
    assert!(text.ends_with("out of paper"), "{text}");
}

#[test]
fn a_stuck_printer_never_freezes_the_app() {
    let p = plant();
    let mut a = with_printer(app(&p), "cmd:sleep 30");
    a.labels.timeout = std::time::Duration::from_millis(300);
    let lot = receive_one(&mut a, &p);
    keys(&mut a, &p, [Input::ctrl('p'), Input::code(KeyCode::Enter)]);
    // The key came back at once: the label is on its way and the app takes more keys.
    assert_eq!(
        status(&a),
        (
            Some(Level::Info),
            format!("Printing the label for lot {lot} on cmd:sleep 30…")
        )
    );
    assert!(a.background_busy());
    keys(&mut a, &p, [Input::code(KeyCode::F(6))]);
    assert_eq!(a.screen, crate::keymap::ScreenId::Lots);
    finish(&mut a);
    let (level, text) = status(&a);
    assert_eq!(level, Some(Level::Error));
    assert!(
        text.starts_with(&format!("label: lot {lot} did not print: printer command")),
        "{text}"
    );
    assert!(text.contains("did not finish within"), "{text}");
}

#[test]
fn esc_closes_the_label_without_printing_it() {
    let p = plant();
    // The label is only looked at: nothing is sent to the printer.
    let mut a = with_printer(app(&p), "tcp:127.0.0.1:9100");
    let lot = receive_one(&mut a, &p);
    keys(&mut a, &p, [Input::ctrl('p')]);
    for size in [(80, 24), (40, 16)] {
        snap("label_preview", &a, size);
    }
    let shown = screen(&a, 80, 24);
    assert!(shown.contains(&format!("Label for lot {lot}")), "{shown}");
    assert!(shown.contains(&format!("LOT {lot}")), "{shown}");
    assert!(
        shown.contains("Enter print"),
        "the footer says what Enter does: {shown}"
    );
    keys(&mut a, &p, [Input::code(KeyCode::Esc)]);
    finish(&mut a);
    assert!(a.labels.preview.is_none());
    assert_eq!(
        status(&a),
        (Some(Level::Info), format!("label: lot {lot} not printed"))
    );
    assert!(!a.labels.busy(), "nothing was sent");
}
