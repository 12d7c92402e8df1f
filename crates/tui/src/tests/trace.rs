//! The Trace screen: from a complaint or a code to the tree, references and counts, the
//! recall scope with hold-all, the mass balance and the mock recall record, export; and
//! its snapshots at 80x24 and 40x16. The elapsed time is fixed so snapshots are stable.

use super::*;
use crate::keymap::ScreenId;
use crate::queue::{InternalEvent, Level, Outcome};
use crate::screens::trace::{PromptKind, Stage, Stopwatch, Trace, TraceAction, View};
use crate::tree::{NodeKey, NodeKind};
use ratatui::crossterm::event::KeyCode;
use std::time::Duration;

pub(super) const FULL: (u16, u16) = (80, 24);
pub(super) const COMPACT: (u16, u16) = (40, 16);

/// The test bakery, with shipments and a lot reached twice.
pub struct Bakery {
    pub p: Plant,
    /// Cookies made straight from dough and eggs: the eggs are reached twice backward.
    pub cookies_c: LotCode,
    pub dough: LotCode,
}

fn ship(st: &Local, customer: &str, bol: &str, lines: &[(&LotCode, i64)]) {
    st.ship(NewShipment {
        allow_expired: true,
        customer: PartyId::parse(customer, "customer").unwrap(),
        date: day("2026-11-18"),
        reference: Some(Reference::parse(bol, "ref").unwrap()),
        documents: Default::default(),
        lines: lines
            .iter()
            .map(|(l, q)| LotLine {
                lot: (*l).clone(),
                qty: Qty::from_units(*q),
            })
            .collect(),
    })
    .unwrap();
}

pub fn bakery() -> Bakery {
    let p = plant();
    let dough =
        p.st.lots(lotline_domain::LotFilter {
            item: Some(ItemCode::parse("DOUGH", "item").unwrap()),
            ..Default::default()
        })
        .unwrap()[0]
            .code
            .clone();
    let cookies_c = produce(
        &p.st,
        "COOKIE",
        10,
        "2026-11-16",
        &[(&dough, 10), (&p.eggs, 2)],
    );
    ship(
        &p.st,
        "SHOP",
        "BOL:7001",
        &[(&p.cookies_a, 10), (&p.cookies_b, 12)],
    );
    ship(&p.st, "CAFE", "BOL:7002", &[(&p.cookies_a, 5)]);
    ship(&p.st, "CAFE", "BOL:7003", &[(&cookies_c, 4)]);
    Bakery {
        p,
        cookies_c,
        dough,
    }
}

pub(super) fn new_app(b: &Bakery, theme: Theme) -> App {
    let mut a = App::new(Keymap::default_map(), theme, now(), &b.p.st);
    a.trace.stopwatch = Stopwatch::Fixed(Duration::from_secs(41));
    a
}

pub(super) fn key(c: KeyCode) -> Input {
    Input::code(c)
}

pub(super) fn press(a: &mut App, b: &Bakery, c: KeyCode) {
    keys(a, &b.p, [key(c)]);
}

pub(super) fn letter(a: &mut App, b: &Bakery, c: char) {
    press(a, b, KeyCode::Char(c));
}

pub(super) fn status(a: &App) -> String {
    a.status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default()
}

/// Type into the start field and press Enter: the trace opens.
pub(super) fn open(a: &mut App, b: &Bakery, code: &str) {
    keys(a, &b.p, [Input::code(KeyCode::F(5))]);
    typed(a, &b.p, code);
    press(a, b, KeyCode::Enter);
}

/// The selected row's label.
fn selected(a: &App) -> String {
    let l = a.trace.loaded.as_ref().unwrap();
    let r = l.row().unwrap();
    match r.kind {
        NodeKind::Ship(i) => format!("ship {}", l.graph.shipments[i].customer),
        k => l
            .graph
            .lot(k.lot(&l.graph).unwrap())
            .unwrap()
            .code
            .to_string(),
    }
}

/// Move down until the selected node is `code` (a lot) or fail.
fn down_to(a: &mut App, b: &Bakery, code: &str) {
    for _ in 0..50 {
        if selected(a) == code {
            return;
        }
        press(a, b, KeyCode::Down);
    }
    panic!("{code} not reached going down; at {}", selected(a));
}

// ----- scenes ---------------------------------------------------------------------------

fn start_scene(b: &Bakery) -> App {
    let mut a = new_app(b, Theme::new(false, false));
    keys(&mut a, &b.p, [Input::code(KeyCode::F(5))]);
    a
}

/// The complaint: SHOP, cookies → the lots they got.
fn complaint_scene(b: &Bakery) -> App {
    let mut a = start_scene(b);
    press(&mut a, b, KeyCode::Enter); // no code: on to the customer
    typed(&mut a, &b.p, "corner");
    press(&mut a, b, KeyCode::Enter);
    typed(&mut a, &b.p, "cookie");
    press(&mut a, b, KeyCode::Enter);
    keys(&mut a, &b.p, [Input::ctrl('s')]);
    a
}

/// Backward from the mixed cookie lot: the first level, with counts.
fn collapsed_scene(b: &Bakery, theme: Theme) -> App {
    let mut a = new_app(b, theme);
    open(&mut a, b, b.cookies_c.as_str());
    letter(&mut a, b, 'd'); // both → backward
    a
}

/// The same, everything open: the eggs show in full under the dough, and as a
/// reference at the top level.
fn expanded_scene(b: &Bakery, theme: Theme) -> App {
    let mut a = collapsed_scene(b, theme);
    letter(&mut a, b, 'e');
    a
}

/// Forward from the eggs, first level; then (in the test) the dough opened.
pub(super) fn forward_scene(b: &Bakery) -> App {
    let mut a = new_app(b, Theme::new(false, false));
    open(&mut a, b, b.p.eggs.as_str());
    letter(&mut a, b, 'd'); // both → backward
    letter(&mut a, b, 'd'); // → forward
    a
}

fn scope_scene(b: &Bakery) -> App {
    let mut a = forward_scene(b);
    letter(&mut a, b, 'R');
    a
}

pub(super) fn balance_scene(b: &Bakery) -> App {
    let mut a = forward_scene(b);
    letter(&mut a, b, 'm');
    a
}

// ----- stories --------------------------------------------------------------------------

#[test]
fn a_complaint_counts_shipments_and_lots_apart_and_refuses_a_reversed_range() {
    let b = bakery();
    // SHOP gets one of the same lots again: 3 lines on 2 shipments, of 2 lots.
    ship(&b.p.st, "SHOP", "BOL:7009", &[(&b.p.cookies_a, 1)]);
    let a = complaint_scene(&b);
    assert_eq!(a.trace.pick.as_ref().unwrap().entries.len(), 3);
    assert!(
        status(&a).contains("2 shipments of 2 lots shipped to SHOP"),
        "{}",
        status(&a)
    );
    // The same complaint with the dates the wrong way round: refused at "Shipped to".
    let mut a = start_scene(&b);
    press(&mut a, &b, KeyCode::Enter);
    typed(&mut a, &b.p, "corner");
    press(&mut a, &b, KeyCode::Enter);
    typed(&mut a, &b.p, "cookie");
    press(&mut a, &b, KeyCode::Enter);
    typed(&mut a, &b.p, "2026-11-30");
    press(&mut a, &b, KeyCode::Enter);
    typed(&mut a, &b.p, "2026-11-01");
    keys(&mut a, &b.p, [Input::ctrl('s')]);
    assert_eq!(a.trace.stage, Stage::Start);
    assert!(
        a.trace.start.is_focused("to"),
        "the cursor goes to the wrong date"
    );
    assert!(
        status(&a).contains("2026-11-01 is before 2026-11-30"),
        "{}",
        status(&a)
    );
}

#[test]
fn the_complaint_leads_from_the_customer_to_the_egg_lot_and_its_other_customers() {
    let b = bakery();
    let mut a = complaint_scene(&b);
    assert_eq!(a.trace.stage, Stage::Pick, "{}", status(&a));
    let pick = a.trace.pick.as_ref().unwrap();
    let lots: Vec<String> = pick
        .entries
        .iter()
        .map(|e| e.lot.code.to_string())
        .collect();
    assert_eq!(
        lots,
        vec![b.p.cookies_a.to_string(), b.p.cookies_b.to_string()],
        "what SHOP got"
    );
    assert!(
        status(&a).contains("1 shipment of 2 lots shipped to SHOP"),
        "{}",
        status(&a)
    );
    // The one complained about: the second. It opens backward.
    press(&mut a, &b, KeyCode::Down);
    press(&mut a, &b, KeyCode::Enter);
    assert_eq!(a.trace.stage, Stage::Tree);
    let l = a.trace.loaded.as_ref().unwrap();
    assert_eq!(l.root().code, b.p.cookies_b);
    assert_eq!(l.graph.direction, lotline_domain::Direction::Backward);
    // To the batch, open it, and down to its egg lot.
    press(&mut a, &b, KeyCode::Down);
    assert_eq!(selected(&a), b.dough.to_string());
    press(&mut a, &b, KeyCode::Right);
    down_to(&mut a, &b, b.p.eggs.as_str());
    // Root there, and turn forward: every customer of the eggs.
    letter(&mut a, &b, 'o');
    let l = a.trace.loaded.as_ref().unwrap();
    assert_eq!(l.root().code, b.p.eggs);
    letter(&mut a, &b, 'd');
    assert_eq!(
        a.trace.loaded.as_ref().unwrap().graph.direction,
        lotline_domain::Direction::Forward
    );
    letter(&mut a, &b, 'R');
    assert_eq!(a.trace.view, View::Scope);
    let text = screen(&a, 80, 24);
    for c in ["CAFE Main St Cafe", "SHOP Corner Market"] {
        assert!(text.contains(c), "{c} in\n{text}");
    }
    // Esc: back to the tree; again: back to the cookie lot it was re-rooted from.
    press(&mut a, &b, KeyCode::Esc);
    assert_eq!(a.trace.view, View::Tree);
    press(&mut a, &b, KeyCode::Esc);
    let l = a.trace.loaded.as_ref().unwrap();
    assert_eq!(l.root().code, b.p.cookies_b);
    assert_eq!(selected(&a), b.p.eggs.to_string(), "where it left off");
    // And back to the list, then the form.
    press(&mut a, &b, KeyCode::Esc);
    assert_eq!(a.trace.stage, Stage::Pick);
    press(&mut a, &b, KeyCode::Esc);
    assert_eq!(a.trace.stage, Stage::Start);
    assert!(a.wants_text());
}

#[test]
fn start_from_a_supplier_lot_or_a_gs1_scan() {
    let b = bakery();
    // The supplier's lot code of the eggs: one lot carries it; it opens forward.
    let mut a = new_app(&b, Theme::new(false, false));
    open(&mut a, &b, "f-1121");
    let l = a.trace.loaded.as_ref().expect("opened");
    assert_eq!(l.root().code, b.p.eggs);
    assert_eq!(l.graph.direction, lotline_domain::Direction::Forward);
    assert!(
        status(&a).starts_with(&format!("Supplier lot f-1121 is our lot {}", b.p.eggs)),
        "{}",
        status(&a)
    );
    // Two lots carrying one supplier lot: a list to pick from.
    receive(
        &b.p.st,
        "EGGS",
        "FARM",
        "f-1121",
        5,
        "2026-11-06",
        "2026-12-06",
    );
    let mut a = new_app(&b, Theme::new(false, false));
    open(&mut a, &b, "f-1121");
    assert_eq!(a.trace.stage, Stage::Pick);
    assert_eq!(a.trace.pick.as_ref().unwrap().entries.len(), 2);
    // A GS1 scan: GTIN → item, (10) → the supplier lot of that item.
    let mut item = b.p.st.item(ItemCode::parse("SUGAR", "i").unwrap()).unwrap();
    item.gtin = Some(Gtin::parse("09501101530003", "gtin").unwrap());
    b.p.st
        .add_item(NewItem {
            code: ItemCode::parse("SUGAR-G", "i").unwrap(),
            description: item.description.clone(),
            unit: item.unit,
            kind: item.kind,
            gtin: item.gtin.clone(),
            shelf_life_days: None,
            ftl: false,
            receiving_temp: TempRange::default(),
        })
        .unwrap();
    let sugar_g = receive(
        &b.p.st,
        "SUGAR-G",
        "MILL",
        "S-7",
        20,
        "2026-11-07",
        "2028-11-01",
    );
    let mut a = new_app(&b, Theme::new(false, false));
    // S-7 is also the supplier lot of the plain SUGAR lot: the GTIN tells them apart.
    open(&mut a, &b, "(01)09501101530003(10)S-7");
    let l = a.trace.loaded.as_ref().expect("opened");
    assert_eq!(l.root().code, sugar_g, "{}", status(&a));
    // Our own lot code in a scan opens that lot.
    let mut a = new_app(&b, Theme::new(false, false));
    open(&mut a, &b, &format!("(10){}", b.p.flour));
    assert_eq!(a.trace.loaded.as_ref().unwrap().root().code, b.p.flour);
    // Nothing known: the field says so.
    let mut a = new_app(&b, Theme::new(false, false));
    open(&mut a, &b, "NOPE-1");
    assert_eq!(a.trace.stage, Stage::Start);
    assert!(
        status(&a).contains("no lot of ours and no supplier lot is 'NOPE-1'"),
        "{}",
        status(&a)
    );
    assert!(a.trace.start.get("code").error);
}

#[test]
fn open_trace_from_a_scan_and_from_the_lots_screen() {
    let b = bakery();
    let mut a = new_app(&b, Theme::new(false, false));
    // What the scanner raises outside a form field.
    let out = Outcome::changed().with(InternalEvent::OpenTrace(b.p.eggs.clone()));
    assert!(a_process(&mut a, &b, out));
    assert_eq!(a.screen, ScreenId::Trace);
    assert_eq!(a.trace.loaded.as_ref().unwrap().root().code, b.p.eggs);
    // The Lots screen's trace key, on the selected lot.
    keys(&mut a, &b.p, [Input::code(KeyCode::F(6))]);
    typed(&mut a, &b.p, b.p.flour.as_str());
    press(&mut a, &b, KeyCode::Enter);
    letter(&mut a, &b, 't');
    assert_eq!(a.screen, ScreenId::Trace);
    assert_eq!(a.trace.loaded.as_ref().unwrap().root().code, b.p.flour);
    assert!(status(&a).starts_with("Trace of"), "{}", status(&a));
}

/// Route an outcome through the app as a screen's update would.
fn a_process(a: &mut App, b: &Bakery, out: Outcome) -> bool {
    a.process(out, &b.p.st)
}

#[test]
fn tree_moves_say_whether_anything_changed() {
    let b = bakery();
    let mut t = Trace::new();
    let st = &b.p.st;
    t.update(TraceAction::Refresh, st);
    t.update(TraceAction::Open(b.cookies_c.clone()), st);
    t.update(TraceAction::Direction, st); // backward
    assert!(!t.update(TraceAction::Up, st).changed, "at the top already");
    assert!(
        !t.update(TraceAction::Parent, st).changed,
        "the root has none"
    );
    // The eggs first (a supplier receipt: nothing under it), then the dough.
    assert!(t.update(TraceAction::Down, st).changed);
    assert!(
        !t.update(TraceAction::Expand, st).changed,
        "a leaf does not open"
    );
    assert!(!t.update(TraceAction::Activate, st).changed);
    assert!(t.update(TraceAction::Down, st).changed);
    let dough_row = t.loaded.as_ref().unwrap().selected;
    assert!(t.update(TraceAction::Expand, st).changed, "opens");
    assert!(
        t.update(TraceAction::Expand, st).changed,
        "to the first child"
    );
    assert!(t.update(TraceAction::Parent, st).changed);
    assert_eq!(t.loaded.as_ref().unwrap().selected, dough_row);
    assert!(t.update(TraceAction::Collapse, st).changed, "closes");
    assert!(t.update(TraceAction::Collapse, st).changed, "to the parent");
    assert!(
        !t.update(TraceAction::CollapseAll, st).changed,
        "all closed"
    );
    assert!(t.update(TraceAction::ExpandAll, st).changed);
    assert!(!t.update(TraceAction::ExpandAll, st).changed, "all open");
    t.update(TraceAction::Last, st);
    assert!(
        !t.update(TraceAction::Last, st).changed,
        "at the bottom already"
    );
}

#[test]
fn a_reference_jumps_to_the_lot_shown_in_full() {
    let b = bakery();
    let mut a = collapsed_scene(&b, Theme::new(false, false));
    // The eggs are shown in full at the top; under the dough they are a reference.
    down_to(&mut a, &b, b.dough.as_str());
    press(&mut a, &b, KeyCode::Right);
    let l = a.trace.loaded.as_ref().unwrap();
    let r = l
        .rows
        .iter()
        .position(|r| matches!(r.kind, NodeKind::Ref { .. }))
        .expect("the eggs, reached twice");
    for _ in 0..r {
        press(&mut a, &b, KeyCode::Down);
    }
    assert_eq!(selected(&a), b.p.eggs.to_string());
    press(&mut a, &b, KeyCode::Enter);
    let l = a.trace.loaded.as_ref().unwrap();
    let row = l.row().unwrap();
    assert!(matches!(row.key, NodeKey::Lot { .. }), "{row:?}");
    assert_eq!(selected(&a), b.p.eggs.to_string());
    assert_eq!(row.depth, 1, "at the top");
    assert_eq!(l.selected, 1);
    // And from a reference under a closed branch, the branch opens on the way.
    let mut a = forward_scene(&b);
    let l = a.trace.loaded.as_ref().unwrap();
    let r = l
        .rows
        .iter()
        .position(|r| matches!(r.kind, NodeKind::Ref { .. }))
        .expect("the mixed cookies, reached from the eggs and from the dough");
    for _ in 0..r {
        press(&mut a, &b, KeyCode::Down);
    }
    press(&mut a, &b, KeyCode::Enter);
    let l = a.trace.loaded.as_ref().unwrap();
    assert_eq!(selected(&a), b.cookies_c.to_string());
    assert_eq!(
        l.row().unwrap().depth,
        2,
        "under the dough, opened on the way"
    );
}

#[test]
fn search_finds_nodes_in_closed_branches_and_cycles_through_matches() {
    let b = bakery();
    let mut a = forward_scene(&b);
    letter(&mut a, &b, '/');
    typed(&mut a, &b.p, "main st");
    press(&mut a, &b, KeyCode::Enter);
    assert_eq!(selected(&a), "ship CAFE", "{}", status(&a));
    assert_eq!(status(&a), "Match 1 of 2 for 'main st'");
    letter(&mut a, &b, 'n');
    assert_eq!(status(&a), "Match 2 of 2 for 'main st'");
    letter(&mut a, &b, 'n');
    assert_eq!(status(&a), "Match 1 of 2 for 'main st'", "wraps");
    letter(&mut a, &b, '/');
    keys(&mut a, &b.p, [Input::ctrl('u')]);
    typed(&mut a, &b.p, "zebra");
    press(&mut a, &b, KeyCode::Enter);
    assert_eq!(status(&a), "No node matches 'zebra'");
}

#[test]
fn hold_all_holds_every_lot_on_hand_in_the_scope() {
    let b = bakery();
    let mut a = scope_scene(&b);
    letter(&mut a, &b, 'H');
    assert_eq!(
        a.trace.prompt.as_ref().map(|p| p.kind),
        Some(PromptKind::Hold)
    );
    press(&mut a, &b, KeyCode::Enter);
    assert!(status(&a).contains("reason: say why"), "{}", status(&a));
    typed(&mut a, &b.p, "egg supplier recall");
    press(&mut a, &b, KeyCode::Enter);
    assert!(a.trace.prompt.is_none(), "{}", status(&a));
    assert!(
        status(&a).starts_with("Held 5 lots in one go"),
        "{}",
        status(&a)
    );
    for lot in [
        &b.p.eggs,
        &b.dough,
        &b.p.cookies_a,
        &b.p.cookies_b,
        &b.cookies_c,
    ] {
        assert_eq!(
            b.p.st.lot(lot.clone()).unwrap().status,
            LotStatus::Hold,
            "{lot}"
        );
    }
    assert_eq!(
        b.p.st.lot(b.p.flour.clone()).unwrap().status,
        LotStatus::Released,
        "not in the eggs' scope"
    );
    // The view shows them held now; a second hold-all has nothing to do.
    let text = screen(&a, 80, 24);
    assert!(
        text.contains("On hand: 0 lots to hold, 5 already held"),
        "{text}"
    );
    letter(&mut a, &b, 'H');
    assert!(status(&a).starts_with("Nothing to hold"), "{}", status(&a));
}

#[test]
fn a_half_typed_reason_or_note_is_not_lost_to_another_trace_or_quit() {
    // Found in review: opening a trace from Lots or a scan threw the typed reason away.
    let b = bakery();
    let mut a = scope_scene(&b);
    letter(&mut a, &b, 'H');
    typed(&mut a, &b.p, "egg supp");
    // The Lots screen's trace key, on another lot.
    keys(&mut a, &b.p, [key(KeyCode::F(6))]);
    typed(&mut a, &b.p, b.p.flour.as_str());
    press(&mut a, &b, KeyCode::Enter);
    letter(&mut a, &b, 't');
    let refused = |a: &App| {
        assert_eq!(a.screen, ScreenId::Trace, "the prompt is shown");
        let p = a.trace.prompt.as_ref().expect("the prompt stays");
        assert_eq!(p.kind, PromptKind::Hold);
        assert_eq!(p.form.fields[0].value(), "egg supp");
        assert_eq!(a.trace.loaded.as_ref().unwrap().root().code, b.p.eggs);
        let s = a.status.clone().unwrap();
        assert_eq!(s.level, Level::Warn, "{}", s.text);
        assert!(
            s.text.contains("finish it (Enter) or cancel it (Esc)"),
            "{}",
            s.text
        );
    };
    refused(&a);
    // A lot label scanned from another screen's menu.
    keys(&mut a, &b.p, [key(KeyCode::F(2)), key(KeyCode::Esc)]);
    keys(&mut a, &b.p, [Input::Scan(format!("]C0{}", b.p.flour))]);
    refused(&a);
    // Quit asks twice.
    keys(&mut a, &b.p, [Input::ctrl('c')]);
    assert!(!a.quit);
    assert!(
        status(&a).contains("Unsaved input on Trace"),
        "{}",
        status(&a)
    );
    // Finished (or cancelled), the next trace opens.
    press(&mut a, &b, KeyCode::Esc);
    assert!(a.trace.prompt.is_none());
    keys(&mut a, &b.p, [Input::Scan(format!("]C0{}", b.p.flour))]);
    assert_eq!(a.trace.loaded.as_ref().unwrap().root().code, b.p.flour);
    // The mock recall note: untouched, it is no loss; typed, it is kept.
    letter(&mut a, &b, 'm');
    keys(&mut a, &b.p, [Input::ctrl('s')]);
    assert_eq!(
        a.trace.prompt.as_ref().map(|p| p.kind),
        Some(PromptKind::Record)
    );
    let out = Outcome::changed().with(InternalEvent::OpenTrace(b.p.eggs.clone()));
    a_process(&mut a, &b, out);
    assert_eq!(a.trace.loaded.as_ref().unwrap().root().code, b.p.eggs);
    letter(&mut a, &b, 'm');
    keys(&mut a, &b.p, [Input::ctrl('s')]);
    typed(&mut a, &b.p, " Q4");
    let out = Outcome::changed().with(InternalEvent::OpenTrace(b.p.flour.clone()));
    a_process(&mut a, &b, out);
    assert_eq!(a.trace.loaded.as_ref().unwrap().root().code, b.p.eggs);
    assert!(status(&a).contains("mock recall note"), "{}", status(&a));
}

/// A station that counts the traces and recall scopes asked of it.
struct Counting<'a> {
    inner: &'a Local,
    traces: std::cell::Cell<usize>,
    scopes: std::cell::Cell<usize>,
}

impl lotline_station::Station for Counting<'_> {
    fn call(
        &self,
        r: lotline_station::Request,
    ) -> Result<lotline_station::Reply, lotline_station::StationError> {
        use lotline_station::{Query, Request};
        match &r {
            Request::Query(Query::Trace { .. }) => self.traces.set(self.traces.get() + 1),
            Request::Query(Query::RecallScope(_)) => self.scopes.set(self.scopes.get() + 1),
            _ => {}
        }
        self.inner.call(r)
    }
}

#[test]
fn hold_all_holds_the_scope_as_it_is_when_the_reason_is_given() {
    // Found in review: the lots held were the scope as it was when H was pressed, the
    // count said was the number asked for, and the trace was loaded twice after.
    let b = bakery();
    let mut a = scope_scene(&b);
    letter(&mut a, &b, 'H');
    typed(&mut a, &b.p, "egg supplier recall");
    // Meanwhile, on the line and in QA: a new batch from the eggs, and a lot held.
    let dough2 = produce(&b.p.st, "DOUGH", 5, "2026-11-20", &[(&b.p.eggs, 1)]);
    b.p.st
        .set_status(StatusChange {
            lot: b.p.cookies_a.clone(),
            to: LotStatus::Hold,
            date: today(),
            reason: "swab".into(),
        })
        .unwrap();
    let st = Counting {
        inner: &b.p.st,
        traces: Default::default(),
        scopes: Default::default(),
    };
    a.handle(key(KeyCode::Enter), &st);
    assert!(a.trace.prompt.is_none(), "{}", status(&a));
    assert_eq!(
        b.p.st.lot(dough2.clone()).unwrap().status,
        LotStatus::Hold,
        "the batch made meanwhile is held too"
    );
    assert_eq!(
        status(&a),
        "Held 5 lots in one go (5 status events), 1 already held: egg supplier recall"
    );
    assert_eq!(st.traces.get(), 1, "the trace is loaded again once");
    let text = screen(&a, 80, 24);
    assert!(
        text.contains("On hand: 0 lots to hold, 6 already held"),
        "{text}"
    );
}

#[test]
fn hold_all_is_refused_to_a_user_who_is_not_qa() {
    let b = bakery();
    let mut plant = b.p.st.plant().unwrap();
    plant.qa_users = vec!["quinn".into()];
    b.p.st.set_plant(plant).unwrap();
    // One station per database file: the clerk's replaces the bakery's.
    drop(b.p.st);
    let clerk = station(&b.p.dir, "cory");
    let mut a = App::new(
        Keymap::default_map(),
        Theme::new(false, false),
        now(),
        &clerk,
    );
    let act = |a: &mut App, i: Input| {
        a.handle(i, &clerk);
    };
    act(&mut a, Input::code(KeyCode::F(5)));
    for i in Input::typed(b.p.eggs.as_str()) {
        act(&mut a, i);
    }
    act(&mut a, Input::code(KeyCode::Enter));
    act(&mut a, Input::code(KeyCode::Char('R')));
    act(&mut a, Input::code(KeyCode::Char('H')));
    assert!(a.trace.prompt.is_none(), "no reason is asked for");
    let s = a.status.clone().unwrap();
    assert_eq!(s.level, Level::Error);
    assert!(
        s.text
            .contains("needs the QA role: cory is an operator here"),
        "{}",
        s.text
    );
    assert_eq!(
        clerk.lot(b.p.eggs.clone()).unwrap().status,
        LotStatus::Released
    );
    // A mock recall record is QA's too.
    act(&mut a, Input::ctrl('s'));
    assert!(
        status(&a).contains("needs the QA role: cory is an operator here"),
        "{}",
        status(&a)
    );
}

/// The mock recall record started from the mass balance (its note empty, never text that
/// typing appends to), and the count form filled in: cookies_a counted 20 of the 25 left.
pub(super) fn mock_scene(b: &Bakery) -> App {
    let mut a = balance_scene(b);
    keys(&mut a, &b.p, [Input::ctrl('s')]);
    typed(&mut a, &b.p, "Q4 mock recall");
    press(&mut a, b, KeyCode::Enter);
    keys(&mut a, &b.p, [Input::ctrl('s')]);
    for t in [b.p.cookies_a.as_str(), "", "20", "", "", ""] {
        typed(&mut a, &b.p, t);
        press(&mut a, b, KeyCode::Enter);
    }
    a
}

#[test]
fn export_writes_the_tree_as_text_and_the_rows_as_csv() {
    let b = bakery();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("eggs.txt");
    let mut a = scope_scene(&b);
    letter(&mut a, &b, 'x');
    assert_eq!(
        a.trace.prompt.as_ref().unwrap().form.fields[0].value(),
        format!("trace-{}-forward.txt", b.p.eggs)
    );
    keys(&mut a, &b.p, [Input::ctrl('u')]);
    typed(&mut a, &b.p, path.to_str().unwrap());
    press(&mut a, &b, KeyCode::Enter);
    assert_eq!(
        a.status.as_ref().unwrap().level,
        Level::Ok,
        "{}",
        status(&a)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let csv = std::fs::read_to_string(dir.path().join("eggs.csv")).unwrap();
    // The tree, all of it, as the screen draws it.
    assert!(
        text.contains(&format!("▾ {} EGGS Shell eggs, large", b.p.eggs)),
        "{text}"
    );
    assert!(
        text.contains(&format!("{} COOKIE (shown above)", b.cookies_c)),
        "{text}"
    );
    assert!(
        text.contains("shipped 4 case to CAFE 2026-11-18 BOL:7003"),
        "{text}"
    );
    assert!(
        text.contains("Recall scope of"),
        "the scope was looked at: {text}"
    );
    // One CSV row per lot and shipment of the tree.
    let rows: Vec<&str> = csv.lines().collect();
    assert!(rows[0].starts_with("level,node,lot,item"));
    assert_eq!(rows.len(), 1 + 1 + 4 + 1 + 4, "{csv}");
    assert!(
        rows.iter()
            .any(|r| r.starts_with(&format!("0,root,{},EGGS,\"Shell eggs, large\"", b.p.eggs))),
        "{csv}"
    );
    assert!(
        rows.iter()
            .any(|r| r.contains(",shipment,") && r.contains("CAFE,Main St Cafe")),
        "{csv}"
    );
    assert!(rows.iter().any(|r| r.contains(",reference,")), "{csv}");
    // A file that cannot be written: the prompt stays, with the reason.
    letter(&mut a, &b, 'x');
    keys(&mut a, &b.p, [Input::ctrl('u')]);
    typed(&mut a, &b.p, "/no/such/dir/t.txt");
    press(&mut a, &b, KeyCode::Enter);
    assert!(a.trace.prompt.is_some());
    assert!(
        status(&a).contains("could not be written"),
        "{}",
        status(&a)
    );
}

/// Every link of the app's tree and of its export, both ways, in the unit of the lot the
/// quantity was taken from: eggs (dozen) and flour (kg) into dough (kg), dough and eggs
/// into cookies (case).
#[test]
fn the_tree_and_the_export_give_every_link_in_the_input_lots_unit() {
    let b = bakery();
    let dir = tempfile::tempdir().unwrap();
    let export = |a: &mut App, name: &str| -> (String, Vec<Vec<String>>) {
        letter(a, &b, 'x');
        keys(a, &b.p, [Input::ctrl('u')]);
        typed(a, &b.p, dir.path().join(name).to_str().unwrap());
        press(a, &b, KeyCode::Enter);
        assert_eq!(a.status.as_ref().unwrap().level, Level::Ok, "{}", status(a));
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
        let csv = std::fs::read_to_string(dir.path().join(name).with_extension("csv")).unwrap();
        // The one quoted field in this plant is the eggs' name; unquote it to split simply.
        let rows = csv
            .replace("\"Shell eggs, large\"", "Shell eggs large")
            .lines()
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect();
        (text, rows)
    };
    let link = |rows: &[Vec<String>], node: &str, lot: &LotCode, parent: &LotCode| {
        let col = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
        let r = rows
            .iter()
            .find(|r| {
                r[1] == node && r[2] == lot.as_str() && r[col("parent_lot")] == parent.as_str()
            })
            .unwrap_or_else(|| panic!("no {node} row {lot} under {parent}: {rows:?}"));
        format!("{} {}", r[col("link_quantity")], r[col("link_unit")])
    };
    // Forward from the eggs.
    let mut a = forward_scene(&b);
    letter(&mut a, &b, 'e');
    let (text, rows) = export(&mut a, "fwd.txt");
    assert!(text.contains(&format!("{} DOUGH", b.dough)), "{text}");
    let line = |text: &str, code: &LotCode| {
        text.lines()
            .find(|l| l.contains(&format!("{code} ")) && !l.contains("shown above"))
            .unwrap_or_else(|| panic!("no line for {code}: {text}"))
            .to_string()
    };
    assert!(line(&text, &b.dough).ends_with("10 dozen in"), "{text}");
    assert!(line(&text, &b.p.cookies_a).ends_with("100 kg in"), "{text}");
    assert!(line(&text, &b.p.cookies_b).ends_with("80 kg in"), "{text}");
    assert_eq!(link(&rows, "output", &b.dough, &b.p.eggs), "10 dozen");
    assert_eq!(link(&rows, "output", &b.p.cookies_a, &b.dough), "100 kg");
    assert_eq!(link(&rows, "output", &b.cookies_c, &b.dough), "10 kg");
    // The mixed cookies, shown in full under the dough, are a reference under the eggs.
    assert_eq!(link(&rows, "reference", &b.cookies_c, &b.p.eggs), "2 dozen");
    // Backward from the mixed cookies.
    let mut a = expanded_scene(&b, Theme::new(false, false));
    let (text, rows) = export(&mut a, "back.txt");
    assert!(line(&text, &b.dough).ends_with("10 kg used"), "{text}");
    assert!(line(&text, &b.p.flour).ends_with("150 kg used"), "{text}");
    assert!(line(&text, &b.p.eggs).ends_with("2 dozen used"), "{text}");
    assert_eq!(link(&rows, "input", &b.dough, &b.cookies_c), "10 kg");
    assert_eq!(link(&rows, "input", &b.p.eggs, &b.cookies_c), "2 dozen");
    assert_eq!(link(&rows, "reference", &b.p.eggs, &b.dough), "10 dozen");
    assert_eq!(link(&rows, "input", &b.p.flour, &b.dough), "150 kg");
}

#[test]
fn export_gives_the_link_unit_defuses_formulas_and_never_overwrites() {
    let b = bakery();
    // A customer whose name a spreadsheet would run as a formula.
    b.p.st
        .add_party(NewParty {
            id: PartyId::parse("EVIL", "id").unwrap(),
            role: Role::Customer,
            location: Location {
                business_name: "=HYPERLINK(\"http://x\",\"y\")".into(),
                ..Default::default()
            },
            gln: None,
            recall_contact: Contact::default(),
        })
        .unwrap();
    ship(&b.p.st, "EVIL", "BOL:7004", &[(&b.cookies_c, 1)]);
    let dir = tempfile::tempdir().unwrap();
    let mut a = scope_scene(&b);
    let export = |a: &mut App, name: &str| {
        letter(a, &b, 'x');
        keys(a, &b.p, [Input::ctrl('u')]);
        typed(a, &b.p, dir.path().join(name).to_str().unwrap());
        press(a, &b, KeyCode::Enter);
    };
    // The extension is read whatever its case: .CSV names the CSV file.
    export(&mut a, "eggs.CSV");
    assert_eq!(
        a.status.as_ref().unwrap().level,
        Level::Ok,
        "{}",
        status(&a)
    );
    let csv = std::fs::read_to_string(dir.path().join("eggs.CSV")).unwrap();
    let text = std::fs::read_to_string(dir.path().join("eggs.txt")).unwrap();
    assert!(text.starts_with("Trace export"), "{text}");
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    let col = |name: &str| rows[0].iter().position(|c| *c == name).unwrap();
    assert_eq!(
        col("link_unit"),
        col("link_quantity") + 1,
        "{}",
        rows[0].join(",")
    );
    // The dough took 10 dozen of the eggs: the link is in the input lot's unit.
    let dough = rows
        .iter()
        .find(|r| r[1] == "output" && r[2] == b.dough.as_str())
        .expect("the dough's row");
    assert_eq!(
        (
            dough[col("link_quantity")],
            dough[col("link_unit")],
            dough[col("unit")]
        ),
        ("10", "dozen", "kg")
    );
    assert!(
        csv.contains(",EVIL,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\","),
        "a formula is made text: {csv}"
    );
    // The same name again: refused, the name kept for editing, nothing overwritten.
    std::fs::write(dir.path().join("eggs.txt"), "mine").unwrap();
    export(&mut a, "eggs.txt");
    assert_eq!(
        a.status.as_ref().unwrap().level,
        Level::Error,
        "{}",
        status(&a)
    );
    assert!(status(&a).contains("already exists"), "{}", status(&a));
    let p = a.trace.prompt.as_ref().expect("the prompt stays");
    assert!(p.form.fields[0].value().ends_with("eggs.txt"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("eggs.txt")).unwrap(),
        "mine"
    );
}

// ----- snapshots ------------------------------------------------------------------------

#[test]
fn snapshots_of_the_start_and_the_complaint_list() {
    let b = bakery();
    let a = start_scene(&b);
    snap("trace_start", &a, FULL);
    snap("trace_start", &a, COMPACT);
    let a = complaint_scene(&b);
    snap("trace_pick", &a, FULL);
    snap("trace_pick", &a, COMPACT);
}

#[test]
fn snapshots_of_the_tree() {
    let b = bakery();
    let a = collapsed_scene(&b, Theme::new(false, false));
    snap("trace_collapsed", &a, FULL);
    snap("trace_collapsed", &a, COMPACT);
    let mut a = expanded_scene(&b, Theme::new(false, false));
    snap("trace_expanded", &a, FULL);
    // Details on demand on a handheld.
    press(&mut a, &b, KeyCode::Down);
    press(&mut a, &b, KeyCode::Down);
    snap("trace_expanded", &a, COMPACT);
    letter(&mut a, &b, 'i');
    snap("trace_details", &a, COMPACT);
    let mut a = forward_scene(&b);
    snap("trace_forward", &a, FULL);
    letter(&mut a, &b, 'e');
    press(&mut a, &b, KeyCode::End);
    snap("trace_forward_expanded", &a, FULL);
    snap("trace_forward_expanded", &a, COMPACT);
}

#[test]
fn snapshots_of_the_recall_scope_and_the_mass_balance() {
    let b = bakery();
    let a = scope_scene(&b);
    snap("trace_scope", &a, FULL);
    snap("trace_scope", &a, COMPACT);
    let a = balance_scene(&b);
    snap("trace_balance", &a, FULL);
    snap("trace_balance", &a, COMPACT);
}

#[test]
fn ascii_and_mono_trees() {
    let b = bakery();
    let a = expanded_scene(&b, Theme::new(true, true));
    let text = screen(&a, FULL.0, FULL.1);
    assert!(text.is_ascii(), "{text}");
    snap("trace_ascii", &a, FULL);
    let buf = buffer(&a, FULL.0, FULL.1);
    for c in buf.content() {
        assert_eq!(c.fg, ratatui::style::Color::Reset, "{c:?}");
        assert_eq!(c.bg, ratatui::style::Color::Reset, "{c:?}");
    }
    // Every view of the screen, at both sizes.
    let mut scenes = vec![
        start_scene(&b),
        complaint_scene(&b),
        scope_scene(&b),
        balance_scene(&b),
    ];
    let mut d = expanded_scene(&b, Theme::new(false, false));
    letter(&mut d, &b, 'i');
    scenes.push(d);
    let mut f = forward_scene(&b);
    letter(&mut f, &b, 'e');
    scenes.push(f);
    for mut a in scenes {
        a.theme = Theme::new(true, true);
        for (w, h) in [FULL, COMPACT] {
            let text = screen(&a, w, h);
            assert!(text.is_ascii(), "{text}");
        }
    }
}

#[test]
fn any_size_draws_without_panicking() {
    let b = bakery();
    let mut scenes = vec![
        start_scene(&b),
        complaint_scene(&b),
        collapsed_scene(&b, Theme::new(false, false)),
        expanded_scene(&b, Theme::new(true, true)),
        scope_scene(&b),
        balance_scene(&b),
    ];
    let mut d = expanded_scene(&b, Theme::new(false, false));
    letter(&mut d, &b, 'i');
    scenes.push(d);
    let mut p = scope_scene(&b);
    letter(&mut p, &b, 'H');
    scenes.push(p);
    for a in &scenes {
        for (w, h) in [
            (0, 0),
            (1, 1),
            (0, 10),
            (10, 0),
            (1, 30),
            (200, 1),
            (20, 10),
        ] {
            let _ = buffer(a, w, h);
        }
        for w in (0..=100).step_by(9) {
            for h in (0..=30).step_by(4) {
                let _ = buffer(a, w, h);
            }
        }
    }
}

/// The demo plant's most-used ingredient lot, traced forward: one update and one draw
/// show it. A measurement as well: run with
/// `cargo test --lib -- --ignored --nocapture most_used_ingredient` to see the times.
#[test]
#[ignore = "builds the demo plant; a measurement, run on demand"]
fn the_most_used_ingredient_opens_forward_in_one_frame() {
    use std::time::Instant;
    let dir = tempfile::tempdir().unwrap();
    let st = station(&dir, "ana");
    lotline_station::demo::build(&st, &mut |_| {}).unwrap();
    // The ingredient lot that went into the most batches.
    let ingredients: Vec<ItemCode> = st
        .items()
        .unwrap()
        .into_iter()
        .filter(|i| i.kind == ItemKind::Ingredient)
        .map(|i| i.code)
        .collect();
    let mut best: Option<(usize, LotCode)> = None;
    for l in st.lots(lotline_domain::LotFilter::default()).unwrap() {
        if !ingredients.contains(&l.item) {
            continue;
        }
        let t = st
            .trace(l.code.clone(), lotline_domain::Direction::Forward)
            .unwrap();
        let n = t.links.iter().filter(|k| k.input == l.id).count();
        if best.as_ref().is_none_or(|(m, _)| n > *m) {
            best = Some((n, l.code.clone()));
        }
    }
    let (batches, code) = best.unwrap();
    let mut a = App::new(Keymap::default_map(), Theme::new(false, false), now(), &st);
    let mut term = ratatui::Terminal::new(TestBackend::new(80, 24)).unwrap();
    let t0 = Instant::now();
    a.process(
        Outcome::changed().with(InternalEvent::OpenTrace(code.clone())),
        &st,
    );
    let t1 = Instant::now();
    term.draw(|f| a.render(f)).unwrap();
    let t2 = Instant::now();
    a.handle(Input::code(KeyCode::Char('d')), &st); // both → backward
    let t3 = Instant::now();
    a.handle(Input::code(KeyCode::Char('d')), &st); // → forward
    let t4 = Instant::now();
    term.draw(|f| a.render(f)).unwrap();
    let t5 = Instant::now();
    let text = term.backend().to_string();
    assert!(
        text.contains(&format!("Trace of {code} · forward")),
        "{text}"
    );
    a.handle(Input::code(KeyCode::Char('e')), &st);
    let t6 = Instant::now();
    term.draw(|f| a.render(f)).unwrap();
    let t7 = Instant::now();
    for _ in 0..200 {
        a.handle(Input::code(KeyCode::PageDown), &st);
        term.draw(|f| a.render(f)).unwrap();
    }
    let t8 = Instant::now();
    let l = a.trace.loaded.as_ref().unwrap();
    let item = l.root().item.clone();
    eprintln!(
        "{code} {}: {batches} batches, {} lots, {} shipments, {} rows expanded\n\
         open (both) {:?} + draw {:?}; turn to forward {:?} + draw {:?}; \
         expand all {:?} + draw {:?}; 200 page-downs with draws {:?}",
        item,
        l.graph.lots.len(),
        l.graph.shipments.len(),
        l.rows.len(),
        t1 - t0,
        t2 - t1,
        t4 - t3,
        t5 - t4,
        t6 - t5,
        t7 - t6,
        t8 - t7,
    );
}

#[test]
fn a_customer_return_is_recorded_from_the_ship_screen_and_comes_in_on_hold() {
    let b = bakery();
    let mut a = new_app(&b, Theme::new(false, false));
    keys(&mut a, &b.p, [Input::code(KeyCode::F(4)), Input::ctrl('r')]);
    assert!(a.ship.returning.is_some());
    // More than was shipped on BOL:7001 (10 cases) is refused, with the figures.
    for t in ["BOL:7001", b.p.cookies_a.as_str(), "12", "dented", ""] {
        typed(&mut a, &b.p, t);
        press(&mut a, &b, KeyCode::Enter);
    }
    assert!(
        status(&a).contains("10 case shipped to SHOP"),
        "{}",
        status(&a)
    );
    assert!(a.ship.returning.is_some(), "the form stays to be corrected");
    keys(&mut a, &b.p, [Input::ctrl('u')]);
    typed(&mut a, &b.p, "3");
    keys(&mut a, &b.p, [Input::ctrl('s')]);
    assert!(status(&a).contains("ON HOLD"), "{}", status(&a));
    assert!(a.ship.returning.is_none());
    let code = LotCode::parse(&format!("{}-R1", b.p.cookies_a), "lot").unwrap();
    let lot = b.p.st.lot(code).unwrap();
    assert_eq!(lot.status, LotStatus::Hold);
    assert_eq!(lot.balance, Qty::from_units(3));
}

#[test]
fn a_long_line_of_the_recall_scope_is_selected_and_read_in_full_on_a_handheld() {
    let b = bakery();
    // A customer whose recall contact makes its line longer than a handheld's screen.
    let cafe = PartyId::parse("CAFE", "id").unwrap();
    let party = b.p.st.party(cafe.clone()).unwrap();
    b.p.st
        .edit_party(NewParty {
            id: cafe,
            role: party.role,
            location: party.location.clone(),
            gln: party.gln.clone(),
            recall_contact: Contact {
                name: "Maria Lind".into(),
                phone: "541-555-0192".into(),
                email: String::new(),
            },
        })
        .unwrap();
    let mut a = scope_scene(&b);
    // The first line is selected; Down steps over the blank line to the customers.
    let line = "CAFE Main St Cafe · Maria Lind 541-555-0192";
    for _ in 0..20 {
        let l = a.trace.loaded.as_ref().unwrap();
        let v = a.trace.drawn_lines(" · ", &|_| String::new());
        if v[l.scroll].0 == line {
            break;
        }
        let before = l.scroll;
        press(&mut a, &b, KeyCode::Down);
        let now = a.trace.loaded.as_ref().unwrap().scroll;
        assert!(now > before, "Down moved");
        assert!(!v[now].0.trim().is_empty(), "a blank line is stepped over");
    }
    // At 80 columns the line fits: nothing is repeated under the list.
    let text = screen(&a, FULL.0, FULL.1);
    assert_eq!(text.matches("Maria Lind").count(), 1, "{text}");
    snap("trace_scope_long_line", &a, FULL);
    let text = screen(&a, COMPACT.0, COMPACT.1);
    assert!(
        !text.contains(line),
        "cut in the list at 40 columns: {text}"
    );
    assert!(
        text.contains("CAFE Main St Cafe · Maria Lind") && text.contains("541-555-0192"),
        "and there in full under it: {text}"
    );
    snap("trace_scope_long_line", &a, COMPACT);
    // A row of the mock recall's gap table keeps its columns in the list.
    let mut m = mock_scene(&b);
    for _ in 0..8 {
        press(&mut m, &b, KeyCode::Down);
    }
    let text = screen(&m, COMPACT.0, COMPACT.1);
    assert!(text.contains("not counted"), "the row in full: {text}");
}
