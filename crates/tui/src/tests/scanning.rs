//! Scans through the whole app against a real station: a supplier's case label fills the
//! Receive form, lot labels add Produce and Ship lines, a scan outside a field opens the
//! lot's trace, Lots searches, Help reads a scan back, and a bad scan says why.

use super::*;
use crate::form::Slot;
use crate::keymap::ScreenId;
use crate::queue::{InternalEvent, Level};
use crate::scanning::route;
use crate::screens::lots::Focus;
use crate::screens::trace::{PromptKind, Stage};
use lotline_domain::LotFilter;
use ratatui::crossterm::event::KeyCode;

/// The plant with GTINs, and the app on it.
fn setup() -> (Plant, App) {
    let p = plant();
    with_gtins(&p);
    let a = app(&p);
    (p, a)
}

fn scan(a: &mut App, p: &Plant, text: &str) {
    keys(a, p, [Input::Scan(text.to_string())]);
}

fn status(a: &App) -> String {
    a.status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default()
}

fn level(a: &App) -> Option<Level> {
    a.status.as_ref().map(|s| s.level)
}

fn field(a: &App, name: &str) -> String {
    a.receive.form.value(name).to_string()
}

fn focused(form: &crate::form::Form) -> &'static str {
    form.focused().map(|f| f.name).unwrap_or("(button)")
}

#[test]
fn a_supplier_case_label_fills_the_receive_form() {
    let (p, mut a) = setup();
    // A pallet of butter: (02) the cases' GTIN with (37) their count, (10) lot, (17) expiry.
    scan(
        &mut a,
        &p,
        &format!("]C102{BUTTER}3740{GS}10B-7{GS}17270331"),
    );
    assert_eq!(field(&a, "item"), "BUTTER");
    assert_eq!(field(&a, "supplier-lot"), "B-7");
    assert_eq!(field(&a, "expiry"), "2027-03-31");
    assert_eq!(field(&a, "qty"), "40");
    assert_eq!(field(&a, "unit"), "", "the item's own unit");
    // The supplier is not on the label: the cursor waits there.
    assert_eq!(focused(&a.receive.form), "supplier");
    assert_eq!(level(&a), Some(Level::Ok), "{}", status(&a));
    assert_eq!(
        status(&a),
        "Scanned BUTTER, lot B-7, expires 2027-03-31, 40 case; supplier next"
    );
    typed(&mut a, &p, "dairy");
    keys(&mut a, &p, [Input::code(KeyCode::Enter), Input::ctrl('s')]);
    assert!(status(&a).starts_with("Received "), "{}", status(&a));
    let lots =
        p.st.lots(LotFilter {
            supplier_lot: Some("B-7".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(lots.len(), 1);
    assert_eq!(lots[0].item.as_str(), "BUTTER");
    assert_eq!(lots[0].expiry, Some(day("2027-03-31")));
    assert_eq!(lots[0].quantity, Qty::from_units(40));
}

/// What the form has no field for — a harvest date range, the country of origin, the
/// supplier's internal code — is read, not refused, and kept with the receipt; a second
/// barcode of the same case (the origin on its own symbol) adds to it.
#[test]
fn the_rest_of_a_supplier_label_is_kept_with_the_receipt() {
    let (p, mut a) = setup();
    scan(
        &mut a,
        &p,
        &format!("]C102{BUTTER}3740{GS}10H-1{GS}7007250601250605{GS}91PALLET-A"),
    );
    assert_eq!(field(&a, "supplier-lot"), "H-1");
    assert_eq!(
        status(&a),
        "Scanned BUTTER, lot H-1, 40 case, keeping (7007)(91); supplier next"
    );
    scan(&mut a, &p, "]C1422380");
    assert_eq!(level(&a), Some(Level::Ok), "{}", status(&a));
    assert!(
        status(&a).contains("keeping (7007)(91)(422)"),
        "{}",
        status(&a)
    );
    typed(&mut a, &p, "dairy");
    keys(&mut a, &p, [Input::code(KeyCode::Enter), Input::ctrl('s')]);
    assert!(status(&a).starts_with("Received "), "{}", status(&a));
    let lot =
        p.st.lots(LotFilter {
            supplier_lot: Some("H-1".into()),
            ..Default::default()
        })
        .unwrap()
        .remove(0);
    let history = p.st.lot_history(lot.code.clone()).unwrap();
    let kept: Vec<String> = history
        .events
        .iter()
        .filter_map(|h| match &h.event.kind {
            lotline_domain::EventKind::LabelData { elements, .. } => {
                Some(lotline_domain::describe_label(elements))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        kept,
        vec![
            "label (7007) harvest date 250601250605, (91) INTERNAL PALLET-A, (422) country of origin 380"
        ]
    );
    // The next case starts clean: nothing of this label stays behind.
    assert!(a.receive.label.is_empty());
}

#[test]
fn a_net_weight_fills_quantity_and_unit_and_a_full_label_leaves_save() {
    let (p, mut a) = setup();
    // Oats: net weight 25.00 kg (3102), best before March 2027 (15, DD=00: month end),
    // from the supplier whose GLN is (412).
    scan(
        &mut a,
        &p,
        &format!(
            "]C101{OATS}3102002500412{}10OAT-42{GS}15270300",
            "0950110153007"
        ),
    );
    assert_eq!(field(&a, "item"), "OATS");
    assert_eq!(field(&a, "supplier"), "DAIRY", "by the (412) GLN");
    assert_eq!(field(&a, "qty"), "25");
    assert_eq!(field(&a, "unit"), "", "kg is the item's unit");
    assert_eq!(field(&a, "expiry"), "2027-03-31");
    assert_eq!(
        a.receive.form.slot(),
        Slot::Button,
        "nothing required is missing: Enter saves"
    );
    assert_eq!(
        status(&a),
        "Scanned OATS, from DAIRY, lot OAT-42, expires 2027-03-31, 25 kg; Enter saves"
    );
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    assert!(status(&a).starts_with("Received "), "{}", status(&a));

    // In pounds: the unit field says lb and the save converts to the item's kg.
    scan(&mut a, &p, &format!("]d201{OATS}3202005512{GS}10OAT-43"));
    assert_eq!(field(&a, "qty"), "55.12");
    assert_eq!(field(&a, "unit"), "lb");
    assert_eq!(field(&a, "supplier"), "DAIRY", "the truck's supplier stays");
    assert_eq!(
        field(&a, "expiry"),
        "",
        "a new case: the last one's expiry is gone"
    );
    keys(&mut a, &p, [Input::ctrl('s')]);
    let lot =
        p.st.lots(LotFilter {
            supplier_lot: Some("OAT-43".into()),
            ..Default::default()
        })
        .unwrap()
        .pop()
        .expect("saved");
    assert_eq!(lot.unit, Unit::Kg);
    assert_eq!(lot.quantity.to_string(), "25.002", "55.12 lb in kg");

    // Cream is kept in litres: a weight cannot become litres.
    scan(&mut a, &p, &format!("]C101{CREAM}3102001000{GS}10CR-1"));
    assert_eq!(level(&a), Some(Level::Error));
    assert!(
        status(&a).starts_with("qty: item CREAM is kept in l; the scanned net weight 10.00 kg"),
        "{}",
        status(&a)
    );
    assert_eq!(field(&a, "item"), "CREAM");
    assert_eq!(field(&a, "supplier-lot"), "CR-1", "the rest is filled");
    assert_eq!(field(&a, "qty"), "");
    assert_eq!(focused(&a.receive.form), "qty");
    assert!(a.receive.form.get("qty").error);
}

#[test]
fn an_unknown_gtin_is_named_on_the_status_line() {
    let (p, mut a) = setup();
    scan(&mut a, &p, &format!("]C101{STRANGER}10X-1{GS}17270101"));
    assert_eq!(level(&a), Some(Level::Error));
    assert!(
        status(&a).starts_with(&format!(
            "item: the scanned GTIN {STRANGER} is not on any item"
        )),
        "{}",
        status(&a)
    );
    assert_eq!(focused(&a.receive.form), "item");
    assert!(a.receive.form.get("item").error);
    assert_eq!(field(&a, "supplier-lot"), "X-1");
    assert_eq!(field(&a, "expiry"), "2027-01-01");
}

#[test]
fn plain_text_scanned_into_a_receive_field_is_typed_there() {
    let (p, mut a) = setup();
    for t in ["flour", "mill"] {
        typed(&mut a, &p, t);
        keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    }
    assert_eq!(focused(&a.receive.form), "supplier-lot");
    // A supplier's plain Code 128 of their lot: into the field, then on.
    scan(&mut a, &p, "]C0M-2231");
    assert_eq!(field(&a, "supplier-lot"), "M-2231");
    assert_eq!(focused(&a.receive.form), "qty");
}

#[test]
fn bad_scans_say_why_and_change_nothing() {
    let (p, mut a) = setup();
    typed(&mut a, &p, "flour");
    for bad in [
        "]C10109501101530004",                  // wrong check digit
        "]C11012345678901234567890123\u{1d}17", // (10) too long
        "]C1",                                  // nothing after the identifier
        "]C199",                                // an AI we do not know
        "(01)0950110153000",                    // short GTIN
        "\u{1d}\u{1d}",
    ] {
        scan(&mut a, &p, bad);
        assert_eq!(level(&a), Some(Level::Error), "{bad:?}: {}", status(&a));
        assert!(status(&a).starts_with("scan: "), "{bad:?}: {}", status(&a));
        assert_eq!(field(&a, "item"), "flour", "{bad:?} left the form alone");
    }
    scan(&mut a, &p, "]C10109501101530004");
    assert!(status(&a).contains("check digit"), "{}", status(&a));
}

#[test]
fn produce_lines_are_added_by_scanning() {
    let (p, mut a) = setup();
    keys(&mut a, &p, [Input::code(KeyCode::F(3))]);
    typed(&mut a, &p, "dough");
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    // Our lot label (Code 128 of the lot code): looked up, the quantity asked for.
    scan(&mut a, &p, &format!("]C0{}", p.flour));
    assert_eq!(a.produce.entry.form.value("input"), p.flour.as_str());
    assert_eq!(focused(&a.produce.entry.form), "used");
    assert!(
        status(&a).contains("enter the quantity used"),
        "{}",
        status(&a)
    );
    typed(&mut a, &p, "100");
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    assert_eq!(a.produce.entry.lines.len(), 1);
    // A supplier's case of sugar: their lot (10) is our lot; its net weight is the use.
    scan(&mut a, &p, "]C13102002500\u{1d}10S-7");
    assert_eq!(a.produce.entry.lines.len(), 2, "{}", status(&a));
    assert_eq!(a.produce.entry.lines[1].lot.code, p.sugar);
    assert_eq!(a.produce.entry.lines[1].qty, Qty::from_units(25));
    assert_eq!(status(&a), format!("Line 2: {} SUGAR 25 kg", p.sugar));
    assert_eq!(
        focused(&a.produce.entry.form),
        "input",
        "ready for the next"
    );
    // Our GS1-128 lot label: (10) is our lot code.
    scan(&mut a, &p, &format!("]C110{}", p.eggs));
    assert_eq!(
        a.produce.entry.preview.as_ref().map(|l| &l.code),
        Some(&p.eggs)
    );
    assert_eq!(focused(&a.produce.entry.form), "used");
    // Held, and unknown: refused, naming the field.
    scan(&mut a, &p, "]C110S-8");
    assert_eq!(level(&a), Some(Level::Error));
    assert!(status(&a).contains("is on hold"), "{}", status(&a));
    scan(&mut a, &p, "]C0NOPE-1");
    assert_eq!(
        status(&a),
        "input: the scanned 'NOPE-1' is not one of our lots, nor a supplier lot we received"
    );
    assert_eq!(focused(&a.produce.entry.form), "input");
    assert_eq!(a.produce.entry.lines.len(), 2);
    // A label with no lot at all.
    scan(&mut a, &p, &format!("]C101{OATS}"));
    assert!(status(&a).contains("has no lot (10)"), "{}", status(&a));
}

#[test]
fn a_new_lot_clears_the_quantity_typed_for_the_last_one_and_says_so() {
    // Found in review: scan lot A, type 12, scan lot B (no quantity on its label): the 12
    // stayed, Enter added "B 12", and A was dropped without a word.
    let (p, mut a) = setup();
    keys(&mut a, &p, [Input::code(KeyCode::F(3))]);
    typed(&mut a, &p, "dough");
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    scan(&mut a, &p, &format!("]C0{}", p.flour));
    typed(&mut a, &p, "12");
    scan(&mut a, &p, &format!("]C0{}", p.sugar));
    assert_eq!(a.produce.entry.form.value("input"), p.sugar.as_str());
    assert_eq!(a.produce.entry.form.value("used"), "", "{}", status(&a));
    assert_eq!(level(&a), Some(Level::Warn));
    assert!(
        status(&a).ends_with(&format!("not added: {} 12 kg", p.flour)),
        "{}",
        status(&a)
    );
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    assert!(
        a.produce.entry.lines.is_empty(),
        "no line of 12 kg of sugar"
    );
    // Typed, not scanned: the same.
    typed(&mut a, &p, "7");
    a.produce.entry.form.focus_field("input");
    keys(&mut a, &p, [Input::ctrl('u')]);
    typed(&mut a, &p, p.eggs.as_str());
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    assert_eq!(a.produce.entry.form.value("used"), "", "{}", status(&a));
    assert!(status(&a).contains("not added: "), "{}", status(&a));
    // The same lot again keeps its quantity: nothing is abandoned.
    typed(&mut a, &p, "3");
    scan(&mut a, &p, &format!("]C0{}", p.eggs));
    assert_eq!(a.produce.entry.form.value("used"), "3", "{}", status(&a));

    keys(&mut a, &p, [Input::code(KeyCode::F(4))]);
    typed(&mut a, &p, "shop");
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    scan(&mut a, &p, &format!("]C0{}", p.cookies_a));
    typed(&mut a, &p, "12");
    scan(&mut a, &p, &format!("]C0{}", p.cookies_b));
    assert_eq!(a.ship.entry.form.value("lot"), p.cookies_b.as_str());
    assert_eq!(a.ship.entry.form.value("qty"), "", "{}", status(&a));
    assert!(
        status(&a).ends_with(&format!("not added: {} 12 case", p.cookies_a)),
        "{}",
        status(&a)
    );
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    assert!(
        a.ship.entry.lines.is_empty(),
        "no line of 12 cases of the other lot"
    );
}

#[test]
fn ship_lines_are_added_by_scanning() {
    let (p, mut a) = setup();
    keys(&mut a, &p, [Input::code(KeyCode::F(4))]);
    typed(&mut a, &p, "shop");
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    scan(&mut a, &p, &format!("]C0{}", p.cookies_b));
    assert_eq!(a.ship.entry.form.value("lot"), p.cookies_b.as_str());
    assert_eq!(
        a.ship.entry.form.value("item"),
        "COOKIE",
        "the item follows the lot"
    );
    assert_eq!(focused(&a.ship.entry.form), "qty");
    assert!(status(&a).contains("enter the quantity"), "{}", status(&a));
    typed(&mut a, &p, "10");
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    assert_eq!(a.ship.entry.lines.len(), 1);
    assert_eq!(a.ship.entry.lines[0].lot.code, p.cookies_b);
    // A held lot by its supplier lot: refused.
    scan(&mut a, &p, "]C110S-8");
    assert!(status(&a).contains("is on hold"), "{}", status(&a));
    assert_eq!(a.ship.entry.lines.len(), 1);
}

#[test]
fn a_scan_outside_a_field_opens_the_lots_trace_on_the_trace_screen() {
    let (p, mut a) = setup();
    keys(&mut a, &p, [Input::code(KeyCode::Esc)]);
    assert!(a.menu);
    // The event is the contract with the Trace screen.
    let out = route(&mut a, &format!("]C0{}", p.flour), &p.st);
    assert_eq!(out.events, vec![InternalEvent::OpenTrace(p.flour.clone())]);
    // Our GS1-128 label: (01) and (10) our lot code.
    let out = route(&mut a, &format!("]C101{OATS}10{}", p.eggs), &p.st);
    assert_eq!(out.events, vec![InternalEvent::OpenTrace(p.eggs.clone())]);
    // A supplier lot received as exactly one lot of ours.
    let out = route(&mut a, "]C110M-88", &p.st);
    assert_eq!(out.events, vec![InternalEvent::OpenTrace(p.flour.clone())]);
    // Through the app: the Trace screen opens on the lot.
    scan(&mut a, &p, &format!("]C0{}", p.cookies_a));
    assert_eq!(a.screen, ScreenId::Trace);
    assert_eq!(
        a.trace.loaded.as_ref().map(|l| &l.root().code),
        Some(&p.cookies_a)
    );
    // On the Trace screen a scan opens the scanned lot's trace.
    scan(&mut a, &p, &format!("]C110{}", p.eggs));
    assert_eq!(a.screen, ScreenId::Trace);
    assert_eq!(
        a.trace.loaded.as_ref().map(|l| &l.root().code),
        Some(&p.eggs)
    );
    // Not ours: said so, nothing opens.
    keys(
        &mut a,
        &p,
        [Input::code(KeyCode::F(3)), Input::code(KeyCode::Esc)],
    );
    let out = route(&mut a, "]C0ZZ-999", &p.st);
    assert!(
        !out.events
            .iter()
            .any(|e| matches!(e, InternalEvent::OpenTrace(_))),
        "{out:?}"
    );
    assert_eq!(
        out.message().map(|s| s.text.as_str()),
        Some("scan: the scanned 'ZZ-999' is not one of our lots, nor a supplier lot we received")
    );
}

/// Supplier lot DUP-1 received twice: the first delivery used up in a batch of dough, the
/// second still on the shelf. Returns (used up, on hand).
fn received_twice(p: &Plant) -> (LotCode, LotCode) {
    let first = receive(
        &p.st,
        "EGGS",
        "FARM",
        "DUP-1",
        5,
        "2026-11-12",
        "2026-12-12",
    );
    produce(&p.st, "DOUGH", 20, "2026-11-13", &[(&first, 5)]);
    let second = receive(
        &p.st,
        "EGGS",
        "FARM",
        "DUP-1",
        10,
        "2026-11-19",
        "2026-12-19",
    );
    assert_eq!(p.st.lot(first.clone()).unwrap().balance, Qty::ZERO);
    (first, second)
}

#[test]
fn a_supplier_lot_that_became_several_of_our_lots_offers_them_all_to_trace() {
    // Found in review: from the menu the one still usable opened, and the used-up lot —
    // the one a recall is about — was never shown.
    let (p, mut a) = setup();
    let (used_up, on_hand) = received_twice(&p);
    keys(&mut a, &p, [Input::code(KeyCode::Esc)]);
    assert!(a.menu);
    scan(&mut a, &p, "]C0DUP-1");
    assert_eq!(a.screen, ScreenId::Trace);
    assert_eq!(a.trace.stage, Stage::Pick, "{}", status(&a));
    let pick = a.trace.pick.as_ref().unwrap();
    let codes: Vec<&LotCode> = pick.entries.iter().map(|e| &e.lot.code).collect();
    assert_eq!(codes, vec![&on_hand, &used_up], "newest first, both");
    assert_eq!(pick.direction, lotline_domain::Direction::Forward);
    assert!(a.trace.loaded.is_none(), "no lot was chosen for the user");
    assert!(
        status(&a).contains("2 of our lots carry supplier lot DUP-1"),
        "{}",
        status(&a)
    );
    // Picking the used-up one traces it forward.
    keys(
        &mut a,
        &p,
        [Input::code(KeyCode::Down), Input::code(KeyCode::Enter)],
    );
    assert_eq!(
        a.trace.loaded.as_ref().map(|l| &l.root().code),
        Some(&used_up)
    );
    // On the Trace screen, over a tree: the same list.
    scan(&mut a, &p, "]C110DUP-1");
    assert_eq!(a.trace.stage, Stage::Pick, "{}", status(&a));
    assert_eq!(a.trace.pick.as_ref().unwrap().entries.len(), 2);
    // In the Trace start form's lot field too.
    keys(&mut a, &p, [Input::code(KeyCode::Esc)]);
    assert_eq!(a.trace.start_field(), Some("code"));
    scan(&mut a, &p, "]C0DUP-1");
    assert_eq!(a.trace.stage, Stage::Pick, "{}", status(&a));
    // On Lots: the search results, both lots, nothing opened.
    keys(&mut a, &p, [Input::code(KeyCode::F(6))]);
    scan(&mut a, &p, "]C0DUP-1");
    assert!(a.lots.history.is_none(), "no lot was opened for the user");
    assert_eq!(a.lots.focus, Focus::List);
    let found: Vec<&LotCode> = a.lots.results.iter().map(|f| &f.lot.code).collect();
    assert!(
        found.contains(&&used_up) && found.contains(&&on_hand),
        "{found:?}"
    );
    // Produce still takes the one that can be used.
    keys(&mut a, &p, [Input::code(KeyCode::F(3))]);
    typed(&mut a, &p, "cookie");
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    scan(&mut a, &p, "]C0DUP-1");
    assert_eq!(
        a.produce.entry.form.value("input"),
        on_hand.as_str(),
        "{}",
        status(&a)
    );
}

#[test]
fn on_the_trace_start_form_only_the_lot_field_looks_a_scan_up() {
    // Found typing fast in a terminal: a burst in the Customer field was looked up as a lot.
    let (p, mut a) = setup();
    keys(
        &mut a,
        &p,
        [Input::code(KeyCode::F(5)), Input::code(KeyCode::Enter)],
    );
    assert_eq!(a.trace.start_field(), Some("customer"));
    scan(&mut a, &p, "SHOP");
    assert_eq!(a.trace.start.value("customer"), "SHOP");
    assert_eq!(
        a.trace.start_field(),
        Some("item"),
        "Enter moved on, as typed keys would"
    );
    assert!(a.trace.loaded.is_none(), "nothing was traced");
    assert_ne!(level(&a), Some(Level::Error), "{}", status(&a));
    // In the lot field a scan is a lot.
    keys(
        &mut a,
        &p,
        [Input::key(ratatui::crossterm::event::KeyEvent::new(
            KeyCode::BackTab,
            ratatui::crossterm::event::KeyModifiers::SHIFT,
        ))],
    );
    keys(
        &mut a,
        &p,
        [Input::key(ratatui::crossterm::event::KeyEvent::new(
            KeyCode::BackTab,
            ratatui::crossterm::event::KeyModifiers::SHIFT,
        ))],
    );
    assert_eq!(a.trace.start_field(), Some("code"));
    scan(&mut a, &p, &format!("]C0{}", p.flour));
    assert_eq!(
        a.trace.loaded.as_ref().map(|l| &l.root().code),
        Some(&p.flour)
    );
}

/// Fast typing — a line sent in one SSH packet, or keys piled up while the app was busy —
/// reaches the app as an unframed burst the decoder reads as a scan (six characters or
/// more, then Enter, within the key gap). With the cursor in a text field or prompt it is
/// what was typed: the text, then Enter, as the keys would have acted.
#[test]
fn fast_typing_in_a_field_or_prompt_is_typed_not_scanned() {
    // Trace: the hold-all reason.
    let (p, mut a) = setup();
    keys(&mut a, &p, [Input::code(KeyCode::F(5))]);
    typed(&mut a, &p, p.eggs.as_str());
    keys(
        &mut a,
        &p,
        [
            Input::code(KeyCode::Enter),
            Input::code(KeyCode::Char('R')),
            Input::code(KeyCode::Char('H')),
        ],
    );
    assert_eq!(
        a.trace.prompt.as_ref().map(|p| p.kind),
        Some(PromptKind::Hold)
    );
    scan(&mut a, &p, "egg supplier recall");
    assert!(a.trace.prompt.is_none(), "{}", status(&a));
    assert!(status(&a).starts_with("Held "), "{}", status(&a));
    assert_eq!(p.st.lot(p.eggs.clone()).unwrap().status, LotStatus::Hold);
    // A real (framed) scan in a prompt is still refused.
    keys(
        &mut a,
        &p,
        [Input::code(KeyCode::Esc), Input::code(KeyCode::Char('/'))],
    );
    assert_eq!(
        a.trace.prompt.as_ref().map(|p| p.kind),
        Some(PromptKind::Search)
    );
    scan(&mut a, &p, &format!("]C0{}", p.flour));
    assert!(
        status(&a).starts_with("scan: finish the prompt first"),
        "{}",
        status(&a)
    );
    assert!(a.trace.prompt.is_some());

    // Trace: the start form's lot field looks up what was typed, as Enter does.
    let (p, mut a) = setup();
    keys(&mut a, &p, [Input::code(KeyCode::F(5))]);
    assert_eq!(a.trace.start_field(), Some("code"));
    scan(&mut a, &p, "NOPE-12");
    assert_eq!(a.trace.start.value("code"), "NOPE-12", "{}", status(&a));
    assert!(
        status(&a).contains("no lot of ours and no supplier lot is 'NOPE-12'"),
        "{}",
        status(&a)
    );

    // Lots: the hold reason.
    let (p, mut a) = setup();
    keys(&mut a, &p, [Input::code(KeyCode::F(6))]);
    typed(&mut a, &p, p.flour.as_str());
    keys(
        &mut a,
        &p,
        [Input::code(KeyCode::Enter), Input::code(KeyCode::Char('h'))],
    );
    assert!(a.lots.prompt.is_some());
    scan(&mut a, &p, "torn bags");
    assert!(a.lots.prompt.is_none(), "{}", status(&a));
    assert_eq!(p.st.lot(p.flour.clone()).unwrap().status, LotStatus::Hold);

    // Produce and Ship: text typed fast into the lot field stays there, as typed.
    let (p, mut a) = setup();
    keys(&mut a, &p, [Input::code(KeyCode::F(3))]);
    a.produce.entry.form.focus_field("input");
    scan(&mut a, &p, "NOPE-99");
    assert_eq!(
        a.produce.entry.form.value("input"),
        "NOPE-99",
        "{}",
        status(&a)
    );
    assert_eq!(level(&a), Some(Level::Error));
    // Our lot code typed fast is looked up, as Enter does.
    a.produce.entry.form.get_mut("input").set("");
    scan(&mut a, &p, p.flour.as_str());
    assert_eq!(focused(&a.produce.entry.form), "used", "{}", status(&a));
    keys(&mut a, &p, [Input::code(KeyCode::F(4))]);
    a.ship.entry.form.focus_field("lot");
    scan(&mut a, &p, "NOPE-99");
    assert_eq!(a.ship.entry.form.value("lot"), "NOPE-99", "{}", status(&a));

    // A wedge scanner with neither AIM identifiers nor a prefix, FNC1 first not sent: a
    // GS1 case label (a GTIN, GS between fields) still fills the Receive form.
    let (p, mut a) = setup();
    scan(
        &mut a,
        &p,
        &format!("01{OATS}3102002500{GS}10OAT-42{GS}17270331"),
    );
    assert_eq!(field(&a, "item"), "OATS", "{}", status(&a));
    assert_eq!(field(&a, "supplier-lot"), "OAT-42");
    assert_eq!(field(&a, "expiry"), "2027-03-31");
    // The human-readable form too.
    scan(&mut a, &p, &format!("(01){OATS}(10)OAT-43"));
    assert_eq!(field(&a, "supplier-lot"), "OAT-43", "{}", status(&a));
}

#[test]
fn a_case_label_scanned_from_the_receive_menu_goes_to_the_form() {
    let (p, mut a) = setup();
    keys(&mut a, &p, [Input::code(KeyCode::Esc)]);
    scan(&mut a, &p, &format!("]C101{OATS}10OAT-9"));
    assert!(!a.menu, "back in the form");
    assert_eq!(a.screen, ScreenId::Receive);
    assert_eq!(field(&a, "item"), "OATS");
    assert_eq!(field(&a, "supplier-lot"), "OAT-9");
}

#[test]
fn on_the_lots_screen_a_scan_searches() {
    let (p, mut a) = setup();
    keys(&mut a, &p, [Input::code(KeyCode::F(6))]);
    // Our lot: found and opened.
    scan(&mut a, &p, &format!("]C0{}", p.sugar));
    assert_eq!(a.lots.history.as_ref().map(|h| &h.lot.code), Some(&p.sugar));
    // Two of our lots came from supplier lots f-1021 and f-1121; a search finds by text.
    scan(&mut a, &p, "]C0EGGS");
    assert_eq!(a.lots.search.fields[0].value(), "EGGS");
    assert_eq!(a.lots.focus, Focus::List);
    assert_eq!(a.lots.results.len(), 2, "{}", status(&a));
    // A GTIN alone searches for its item.
    scan(&mut a, &p, &format!("]C101{OATS}"));
    assert_eq!(a.lots.search.fields[0].value(), "OATS");
}

#[test]
fn help_reads_a_scan_back_and_does_nothing_else() {
    let (p, mut a) = setup();
    keys(&mut a, &p, [Input::code(KeyCode::F(1))]);
    scan(
        &mut a,
        &p,
        &format!("]C101{OATS}3102002500{GS}10OAT-42{GS}17270331"),
    );
    assert_eq!(a.screen, ScreenId::Help, "a test scan stays on Help");
    let lines = a.help.test_lines();
    let want = [
        "read       ]C101095011015300033102002500<GS>10OAT-42<GS>17270331",
        "symbology  ]C1 GS1-128",
        "(01)   GTIN                    09501101530003",
        "(3102) net weight, kg          002500 = 25.00",
        "(10)   batch / lot             OAT-42",
        "(17)   expiry                  270331 = 2027-03-31",
        "GTIN is item OATS, Rolled oats",
        "OAT-42 is not one of our lots, nor a supplier lot we received",
    ];
    assert_eq!(lines, want);
    // The test shows on screen.
    let s = screen(&a, 80, 24);
    assert!(s.contains("Scan test"), "{s}");
    assert!(s.contains("GTIN is item OATS, Rolled oats"), "{s}");
    // Our lot, and an error.
    scan(&mut a, &p, &format!("]C0{}", p.flour));
    let lines = a.help.test_lines();
    assert_eq!(lines[1], "symbology  ]C0 Code 128");
    assert_eq!(lines[2], format!("plain text \"{}\"", p.flour));
    assert_eq!(
        lines[3],
        format!("our lot {}: FLOUR, 850 kg on hand, released", p.flour)
    );
    // A supplier's lot we received: which lot of ours it is.
    scan(&mut a, &p, "]C110M-88");
    let lines = a.help.test_lines();
    assert_eq!(
        lines.last().unwrap(),
        &format!(
            "supplier lot M-88 is our lot {}: FLOUR, 850 kg on hand, released",
            p.flour
        )
    );
    scan(&mut a, &p, "]C10109501101530004");
    assert_eq!(level(&a), Some(Level::Warn));
    let lines = a.help.test_lines();
    assert_eq!(lines.len(), 2);
    assert!(lines[1].starts_with("error      AI (01) GTIN"), "{lines:?}");
    // Nothing happened elsewhere.
    assert!(!a.receive.is_dirty());
}

#[test]
fn help_shows_the_scanner_and_printer_settings() {
    let p = plant();
    let settings = crate::ScannerSettings {
        prefix: Some("@@".into()),
        separator: '~',
        ..Default::default()
    };
    let printer = crate::PrinterSetting {
        printer: lotline_export::label::Printer::Tcp("10.0.0.50:9100".into()),
        text: "tcp:10.0.0.50:9100".into(),
        from: "LOTLINE_PRINTER".into(),
    };
    let mut a = app(&p).with_devices(settings, Some(printer));
    keys(
        &mut a,
        &p,
        [Input::code(KeyCode::F(1)), Input::code(KeyCode::End)],
    );
    let s = screen(&a, 80, 24);
    for want in [
        "Scanner ([scanner] in the config file)",
        " prefix            \"@@\"",
        " separator         '~' (and GS)",
        " max_key_gap_ms    30",
        " min_burst_len     6",
        " tcp:10.0.0.50:9100 (from LOTLINE_PRINTER)",
        "Scan test",
    ] {
        assert!(s.contains(want), "{want:?} in\n{s}");
    }
    // The separator is the parser's: '~' separates GS1 fields here.
    keys(&mut a, &p, [Input::code(KeyCode::Esc)]);
    scan(&mut a, &p, &format!("@@]C101{OATS}10OAT-1~17270331"));
    assert_eq!(field(&a, "supplier-lot"), "OAT-1");
    assert_eq!(field(&a, "expiry"), "2027-03-31");
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    /// Scan-like text: AIM ids, digits, GS, brackets, Digital Link bits, our lot codes.
    fn scan_text(lots: Vec<String>) -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            prop::sample::select(vec![
                "]C1",
                "]C0",
                "]d2",
                "]Q3",
                "]e0",
                "]E0",
                "(01)",
                "(10)",
                "(17)",
                "(3102)",
                "01",
                "10",
                "17",
                "37",
                "3102",
                "3202",
                "412",
                "02",
                "00",
                "\u{1d}",
                "~",
                OATS,
                BUTTER,
                CREAM,
                STRANGER,
                "M-88",
                "S-8",
                "f-1121",
                "https://id.gs1.org/01/",
                "?17=",
                "/10/",
                "270331",
                "270300",
                "999999",
                "0",
                "-",
                "é",
                " ",
            ])
            .prop_map(str::to_string),
            prop::sample::select(lots),
            "[ -~]{0,6}",
        ];
        prop::collection::vec(piece, 0..8).prop_map(|v| v.concat())
    }

    #[test]
    fn whatever_is_scanned_wherever() {
        let (p, base) = setup();
        drop(base);
        let lots: Vec<String> = [&p.flour, &p.eggs, &p.held_sugar, &p.cookies_a]
            .iter()
            .map(|c| c.to_string())
            .collect();
        // One app per place a scan can land; each goes on from where the last scan left it.
        let places: Vec<Vec<Input>> = vec![
            vec![],
            vec![Input::code(KeyCode::Esc)],
            vec![Input::code(KeyCode::F(3))],
            vec![Input::code(KeyCode::F(4))],
            vec![Input::code(KeyCode::F(6))],
            vec![Input::code(KeyCode::F(6)), Input::code(KeyCode::Esc)],
            vec![Input::code(KeyCode::F(1))],
        ];
        let apps: Vec<App> = places
            .into_iter()
            .map(|ks| {
                let mut a = app(&p);
                keys(&mut a, &p, ks);
                a
            })
            .collect();
        let apps = std::cell::RefCell::new(apps);
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 150,
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        runner
            .run(&scan_text(lots), |text| {
                for a in apps.borrow_mut().iter_mut() {
                    keys(a, &p, [Input::Scan(text.clone())]);
                    let _ = screen(a, 80, 24);
                    let _ = screen(a, 40, 16);
                }
                Ok(())
            })
            .unwrap();
    }
}
