//! Drafts in the app: a half-typed form kept at the station comes back in a new app on
//! the same station, with its prompt (snapshots at 80x24 and 40x16), and saving it makes
//! exactly one lot and ends the draft.

use super::*;
use chrono::FixedOffset;
use lotline_station::{Query, Reply, Request, Station};
use ratatui::crossterm::event::KeyCode;
use std::time::Instant;

fn enter(a: &mut App, p: &Plant, text: &str) {
    typed(a, p, text);
    keys(a, p, [Input::code(KeyCode::Enter)]);
}

fn drafts(p: &Plant) -> usize {
    match p.st.call(Request::Query(Query::Resume)).unwrap() {
        Reply::Resume(r) => r.drafts.len(),
        other => panic!("{other:?}"),
    }
}

/// A receipt typed up to its quantity, kept at the station as the app leaves.
fn half_a_receipt(p: &Plant) {
    let mut a = app(p);
    enter(&mut a, p, "flour");
    enter(&mut a, p, "mill");
    enter(&mut a, p, "DROP-77");
    typed(&mut a, p, "12");
    a.keep_drafts(Instant::now(), true, &p.st);
}

/// The app as a clerk coming back finds it, its clock on UTC so the snapshot holds.
fn back(p: &Plant) -> App {
    let mut a = app(p);
    a.drafts.tz = FixedOffset::east_opt(0).unwrap();
    a
}

#[test]
fn a_half_typed_receipt_is_offered_back_and_saved_once() {
    let p = plant();
    let lots_before = p.st.lots(Default::default()).unwrap().len();
    half_a_receipt(&p);
    assert_eq!(drafts(&p), 1);
    let mut a = back(&p);
    let s = screen(&a, 80, 24);
    assert!(
        s.contains("You were receiving FLOUR from MILL, lot DROP-77, 12"),
        "{s}"
    );
    snap("resume_prompt", &a, (80, 24));
    snap("resume_prompt", &a, (40, 16));
    // Keys other than Enter and Esc do nothing behind the prompt.
    typed(&mut a, &p, "x");
    assert!(!a.drafts.offers.is_empty());
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    assert!(a.drafts.offers.is_empty());
    assert_eq!(a.receive.form.value("item"), "FLOUR");
    assert_eq!(a.receive.form.value("supplier"), "MILL");
    assert_eq!(a.receive.form.value("supplier-lot"), "DROP-77");
    assert_eq!(a.receive.form.value("qty"), "12");
    assert!(a.receive.form.is_focused("qty"), "the cursor where it was");
    assert_eq!(a.receive.form.focused().unwrap().input.cursor(), 2);
    keys(&mut a, &p, [Input::ctrl('s')]);
    let st = a.status.as_ref().unwrap().text.clone();
    assert!(st.contains("Received"), "{st}");
    assert_eq!(
        p.st.lots(Default::default()).unwrap().len(),
        lots_before + 1
    );
    assert_eq!(drafts(&p), 0, "saving ends the draft");
    // Coming back again: nothing to resume, and the last saved receipt is shown.
    let a = back(&p);
    assert!(a.drafts.offers.is_empty());
    let st = a.status.as_ref().unwrap().text.clone();
    assert!(
        st.starts_with("Last saved: R") && st.contains("FLOUR 12 kg"),
        "{st}"
    );
    assert!(
        a.receive.last.is_some(),
        "the Last saved box is filled again"
    );
}

#[test]
fn esc_discards_the_draft() {
    let p = plant();
    half_a_receipt(&p);
    let mut a = back(&p);
    keys(&mut a, &p, [Input::code(KeyCode::Esc)]);
    assert!(a.drafts.offers.is_empty());
    assert_eq!(a.receive.form.value("item"), "");
    assert_eq!(drafts(&p), 0);
}

#[test]
fn a_batch_and_an_order_come_back_with_their_lines() {
    let p = plant();
    let mut a = app(&p);
    keys(&mut a, &p, [Input::code(KeyCode::F(3))]);
    enter(&mut a, &p, "dough");
    enter(&mut a, &p, "WO:2211");
    enter(&mut a, &p, "L1");
    enter(&mut a, &p, "");
    enter(&mut a, &p, p.flour.as_str());
    enter(&mut a, &p, "100");
    enter(&mut a, &p, p.sugar.as_str());
    enter(&mut a, &p, "5");
    assert_eq!(a.produce.entry.lines.len(), 2);
    keys(&mut a, &p, [Input::code(KeyCode::F(4))]);
    enter(&mut a, &p, "shop");
    enter(&mut a, &p, "BOL:5521");
    enter(&mut a, &p, "");
    enter(&mut a, &p, "cookie");
    enter(&mut a, &p, p.cookies_a.as_str());
    enter(&mut a, &p, "2");
    assert_eq!(a.ship.entry.lines.len(), 1);
    a.keep_drafts(Instant::now(), true, &p.st);
    assert_eq!(drafts(&p), 2);
    let mut b = back(&p);
    assert_eq!(b.drafts.offers.len(), 2);
    // Newest first: the order, then the batch.
    keys(&mut b, &p, [Input::code(KeyCode::Enter)]);
    keys(&mut b, &p, [Input::code(KeyCode::Enter)]);
    assert_eq!(b.produce.entry.lines.len(), 2);
    assert_eq!(b.produce.entry.lines[0].lot.code, p.flour);
    assert_eq!(b.produce.entry.form.value("ref"), "WO:2211");
    assert_eq!(b.ship.entry.lines.len(), 1);
    assert_eq!(b.ship.entry.lines[0].lot.code, p.cookies_a);
    assert_eq!(b.ship.entry.form.value("customer"), "SHOP");
}

#[test]
fn a_trace_comes_back_to_its_root_open_nodes_and_selection() {
    let p = plant();
    let mut a = app(&p);
    keys(&mut a, &p, [Input::code(KeyCode::F(5))]);
    typed(&mut a, &p, p.cookies_a.as_str());
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    // The dough opened (two rows down), and the row under it selected.
    keys(
        &mut a,
        &p,
        [
            Input::code(KeyCode::Down),
            Input::code(KeyCode::Down),
            Input::code(KeyCode::Enter),
            Input::code(KeyCode::Down),
        ],
    );
    let was = a.trace.loaded.as_ref().unwrap();
    let (open, rows, selected) = (was.expanded.clone(), was.rows.len(), was.selected);
    assert!(
        open.len() > 3,
        "more than the root and its sections open:\n{}",
        screen(&a, 80, 24)
    );
    a.keep_drafts(Instant::now(), true, &p.st);
    let mut b = back(&p);
    let s = screen(&b, 80, 24);
    assert!(
        s.contains(&format!("You were tracing {} both ways", p.cookies_a)),
        "{s}"
    );
    keys(&mut b, &p, [Input::code(KeyCode::Enter)]);
    assert_eq!(b.screen, crate::keymap::ScreenId::Trace);
    let l = b.trace.loaded.as_ref().expect("the trace is shown again");
    assert_eq!(l.root().code, p.cookies_a);
    assert_eq!(l.expanded, open);
    assert_eq!((l.rows.len(), l.selected), (rows, selected));
}
