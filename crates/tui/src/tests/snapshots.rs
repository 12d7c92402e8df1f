//! Every screen at 80x24 and 40x16, mono and ASCII variants, the "too small" message, and
//! renders at degenerate sizes that must not panic. The clock and the station's date are
//! fixed, so the snapshots never hold today's real date.

use super::*;
use ratatui::crossterm::event::KeyCode;
use ratatui::style::{Color, Modifier};

const FULL: (u16, u16) = (80, 24);
const COMPACT: (u16, u16) = (40, 16);

fn enter(a: &mut App, p: &Plant, text: &str) {
    typed(a, p, text);
    keys(a, p, [Input::code(KeyCode::Enter)]);
}

/// A case saved, and the next one being typed: the pick list shows for "su".
fn receive_scene(p: &Plant, theme: Theme) -> App {
    let mut a = App::new(Keymap::default_map(), theme, now(), &p.st);
    for t in ["flour", "mill", "M-89", "25"] {
        enter(&mut a, p, t);
    }
    keys(
        &mut a,
        p,
        [Input::code(KeyCode::Tab), Input::code(KeyCode::Tab)],
    );
    enter(&mut a, p, "2027-06-30");
    enter(&mut a, p, "BOL:4471");
    enter(&mut a, p, "");
    enter(&mut a, p, "");
    enter(&mut a, p, "3.5");
    keys(&mut a, p, [Input::ctrl('s')]);
    typed(&mut a, p, "su");
    a
}

/// A batch with two lines (one expired) and a third lot looked up.
fn produce_scene(p: &Plant) -> App {
    let mut a = app(p);
    keys(&mut a, p, [Input::code(KeyCode::F(3))]);
    enter(&mut a, p, "dough");
    enter(&mut a, p, "WO:2211");
    enter(&mut a, p, "");
    enter(&mut a, p, "");
    enter(&mut a, p, "L1");
    enter(&mut a, p, "");
    enter(&mut a, p, p.flour.as_str());
    enter(&mut a, p, "100");
    enter(&mut a, p, p.old_eggs.as_str());
    enter(&mut a, p, "2");
    enter(&mut a, p, p.sugar.as_str());
    a
}

/// An order with one line, and the FEFO list open on the lot field.
fn ship_scene(p: &Plant) -> App {
    let mut a = app(p);
    keys(&mut a, p, [Input::code(KeyCode::F(4))]);
    enter(&mut a, p, "shop");
    enter(&mut a, p, "BOL:5521");
    enter(&mut a, p, "");
    enter(&mut a, p, "");
    enter(&mut a, p, "");
    enter(&mut a, p, "cookie");
    enter(&mut a, p, p.cookies_a.as_str());
    enter(&mut a, p, "30");
    keys(&mut a, p, [Input::code(KeyCode::Down)]);
    a
}

/// The Ship screen's customer return form, filled in up to the reason.
fn ship_return_scene(p: &Plant) -> App {
    let mut a = app(p);
    keys(&mut a, p, [Input::code(KeyCode::F(4)), Input::ctrl('r')]);
    enter(&mut a, p, "BOL:7001");
    enter(&mut a, p, p.cookies_a.as_str());
    enter(&mut a, p, "3");
    typed(&mut a, p, "dented cases");
    a
}

fn lots_scene(p: &Plant) -> App {
    let mut a = app(p);
    keys(&mut a, p, [Input::code(KeyCode::F(6))]);
    enter(&mut a, p, "");
    a
}

fn history_scene(p: &Plant) -> App {
    let mut a = lots_scene(p);
    keys(&mut a, p, [Input::code(KeyCode::Esc)]); // back to the search field
    keys(&mut a, p, [Input::ctrl('u')]);
    enter(&mut a, p, p.held_sugar.as_str());
    keys(&mut a, p, [Input::code(KeyCode::Enter)]);
    a
}

fn help_scene(p: &Plant) -> App {
    let mut a = app(p);
    keys(&mut a, p, [Input::code(KeyCode::F(1))]);
    a
}

/// The truck's supplier typed, then a case of oats scanned: the form is full, the cursor
/// on Save.
fn receive_scanned_scene(p: &Plant) -> App {
    with_gtins(p);
    let mut a = app(p);
    keys(&mut a, p, [Input::code(KeyCode::Tab)]);
    enter(&mut a, p, "mill");
    keys(
        &mut a,
        p,
        [Input::Scan(format!(
            "]C101{OATS}3102002500{GS}10OAT-42{GS}17270331"
        ))],
    );
    a
}

/// Help after a test scan of the same label.
fn help_scan_test_scene(p: &Plant) -> App {
    with_gtins(p);
    let mut a = app(p);
    keys(&mut a, p, [Input::code(KeyCode::F(1))]);
    keys(
        &mut a,
        p,
        [Input::Scan(format!(
            "]C101{OATS}3102002500{GS}10OAT-42{GS}17270331"
        ))],
    );
    a
}

#[test]
fn receive() {
    let p = plant();
    let a = receive_scene(&p, Theme::new(false, false));
    snap("receive", &a, FULL);
    snap("receive", &a, COMPACT);
    let fresh = app(&p);
    snap("receive_empty", &fresh, FULL);
    snap("receive_empty", &fresh, COMPACT);
}

#[test]
fn receive_by_scan() {
    let p = plant();
    let a = receive_scanned_scene(&p);
    snap("receive_scanned", &a, FULL);
    snap("receive_scanned", &a, COMPACT);
}

/// A case bought through a distributor: its label names the packer's production
/// location in (416), which fills the TLC source.
#[test]
fn receive_by_scan_with_a_tlc_source() {
    let p = plant();
    with_gtins(&p);
    let mut a = app(&p);
    keys(&mut a, &p, [Input::code(KeyCode::Tab)]);
    enter(&mut a, &p, "mill");
    keys(
        &mut a,
        &p,
        [Input::Scan(format!(
            "]C101{OATS}31020025004160614141000012{GS}10OAT-42{GS}17270331"
        ))],
    );
    snap("receive_scanned_tlc_source", &a, FULL);
    snap("receive_scanned_tlc_source", &a, COMPACT);
}

#[test]
fn help_scan_test() {
    let p = plant();
    let a = help_scan_test_scene(&p);
    snap("help_scan_test", &a, FULL);
}

#[test]
fn produce() {
    let p = plant();
    let a = produce_scene(&p);
    snap("produce", &a, FULL);
    snap("produce", &a, COMPACT);
}

#[test]
fn ship() {
    let p = plant();
    let a = ship_scene(&p);
    snap("ship", &a, FULL);
    snap("ship", &a, COMPACT);
    let a = ship_return_scene(&p);
    snap("ship_return", &a, FULL);
    snap("ship_return", &a, COMPACT);
}

#[test]
fn lots() {
    let p = plant();
    let a = lots_scene(&p);
    snap("lots", &a, FULL);
    snap("lots", &a, COMPACT);
    let h = history_scene(&p);
    snap("lot_history", &h, FULL);
    snap("lot_history", &h, COMPACT);
}

/// Before a search the list says how to search, wrapped to the screen, not cut.
#[test]
fn lots_before_a_search() {
    let p = plant();
    let mut a = app(&p);
    keys(&mut a, &p, [Input::code(KeyCode::F(6))]);
    snap("lots_before_a_search", &a, FULL);
    snap("lots_before_a_search", &a, COMPACT);
    let s = screen(&a, COMPACT.0, COMPACT.1);
    assert!(!s.contains('…'), "{s}");
}

#[test]
fn help() {
    let p = plant();
    let a = help_scene(&p);
    snap("help", &a, FULL);
    snap("help", &a, COMPACT);
}

#[test]
fn menu_after_esc() {
    let p = plant();
    let mut a = app(&p);
    keys(&mut a, &p, [Input::code(KeyCode::Esc)]);
    snap("menu", &a, FULL);
}

#[test]
fn mono_draws_with_bold_and_reverse_only() {
    let p = plant();
    let a = receive_scene(&p, Theme::new(true, false));
    let buf = buffer(&a, FULL.0, FULL.1);
    let mut modifiers = Modifier::empty();
    for c in buf.content() {
        assert_eq!(c.fg, Color::Reset, "mono never sets a colour: {c:?}");
        assert_eq!(c.bg, Color::Reset, "mono never sets a colour: {c:?}");
        modifiers |= c.modifier;
    }
    assert!(modifiers.contains(Modifier::REVERSED | Modifier::BOLD));
    // The styles are part of this snapshot: where bold and reverse fall.
    insta::with_settings!({prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!("receive_mono_80x24", format!("{buf:?}"));
    });
}

#[test]
fn ascii_borders_and_marks() {
    let p = plant();
    let a = receive_scene(&p, Theme::new(false, true));
    let text = screen(&a, FULL.0, FULL.1);
    assert!(text.is_ascii(), "{text}");
    snap("receive_ascii", &a, FULL);
    let mut b = produce_scene(&p);
    b.theme = Theme::new(true, true);
    let text = screen(&b, COMPACT.0, COMPACT.1);
    assert!(text.is_ascii(), "{text}");
    snap("produce_ascii", &b, COMPACT);
}

#[test]
fn too_small() {
    let p = plant();
    let a = receive_scene(&p, Theme::new(false, false));
    snap("too_small", &a, (19, 9));
    let text = screen(&a, 20, 10);
    assert!(!text.contains("too small"), "20x10 is enough: {text}");
}

#[test]
fn any_size_draws_without_panicking() {
    let p = plant();
    let scenes = [
        receive_scene(&p, Theme::new(false, false)),
        produce_scene(&p),
        ship_scene(&p),
        lots_scene(&p),
        history_scene(&p),
        help_scene(&p),
    ];
    let q = plant();
    let scenes = scenes
        .into_iter()
        .chain([receive_scanned_scene(&q)])
        .collect::<Vec<_>>();
    let r = plant();
    let scenes = scenes
        .into_iter()
        .chain([help_scan_test_scene(&r)])
        .collect::<Vec<_>>();
    for a in &scenes {
        for (w, h) in [
            (0, 0),
            (1, 1),
            (0, 10),
            (10, 0),
            (1, 30),
            (200, 1),
            (20, 10),
            (21, 11),
        ] {
            let _ = buffer(a, w, h);
        }
        for w in (0..=100).step_by(7) {
            for h in (0..=30).step_by(3) {
                let _ = buffer(a, w, h);
            }
        }
    }
}

/// docs/tui.md shows the screens as text; each capture there must be a snapshot here, so
/// the page cannot drift from the program.
#[test]
fn the_docs_show_the_screens_as_they_are() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join("crates/tui/src/tests/snapshots");
    let mut snaps = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        let lines: Vec<String> = text
            .lines()
            .filter(|l| l.len() >= 2 && l.starts_with('"') && l.ends_with('"'))
            .map(|l| l[1..l.len() - 1].trim_end().to_string())
            .collect();
        snaps.push(lines.join("\n"));
    }
    let doc = std::fs::read_to_string(root.join("docs/tui.md")).unwrap();
    let blocks: Vec<&str> = doc
        .split("```text\n")
        .skip(1)
        .map(|b| b.split("\n```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 10, "the page shows every screen");
    for b in blocks {
        assert!(
            snaps.iter().any(|s| s == b),
            "docs/tui.md shows a screen no snapshot has; update it from crates/tui/src/tests/snapshots:\n{b}"
        );
    }
    // README shows command output too; its screen captures are the blocks with a box.
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let screens: Vec<&str> = readme
        .split("```text\n")
        .skip(1)
        .map(|b| b.split("\n```").next().unwrap())
        .filter(|b| b.contains('┌'))
        .collect();
    // README shows a few screens (docs/tui.md, checked above, shows every one): each
    // must still be the program's.
    assert!(screens.len() >= 3, "README shows the app's main screens");
    for b in screens {
        assert!(
            snaps.iter().any(|s| s == b),
            "README.md shows a screen no snapshot has; update it from crates/tui/src/tests/snapshots:\n{b}"
        );
    }
}

/// A message longer than the terminal is wide wraps onto the lines above the status line
/// (the body gives them up) instead of being cut; at 40x16 too.
#[test]
fn a_long_message_wraps_instead_of_being_cut() {
    let p = plant();
    let mut a = app(&p);
    a.status = Some(crate::queue::Status::error(
        "expiry: 2026-11-01 is before the receipt date 2026-11-21; a lot that arrives expired \
         is refused at the dock, and is only used with --allow-expired, which the lot's history records",
    ));
    snap("long_message", &a, FULL);
    snap("long_message", &a, COMPACT);
    let s = screen(&a, 80, 24);
    assert!(s.contains("history records"), "{s}");
}
