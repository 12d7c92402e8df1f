//! Panes that hold more than they show: the marker on the border ("↓ more", "v more" in
//! ASCII), the keys that reach the rest, and the marker gone once the last line is in view.
//! Long content: an item with a long change history, a trace node with many details, a
//! lot with many events and a receipt with a long dock note.

use super::*;
use crate::keymap::ScreenId;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

const FULL: (u16, u16) = (80, 24);
const COMPACT: (u16, u16) = (40, 16);

fn key(a: &mut App, p: &Plant, c: KeyCode) {
    keys(a, p, [Input::code(c)]);
}

/// The body's rows of the screen as drawn (the header, footer and status line left out,
/// so a marker there cannot be mistaken for one in a pane).
fn rows(a: &App, (w, h): (u16, u16)) -> Vec<String> {
    let buf = buffer(a, w, h);
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect())
        .collect()
}

fn shows(a: &App, size: (u16, u16), text: &str) -> bool {
    rows(a, size).iter().any(|r| r.contains(text))
}

/// FLOUR changed `n` times: its shelf life, one day at a time.
fn many_changes(p: &Plant, n: u32) {
    for k in 0..n {
        let i =
            p.st.items()
                .unwrap()
                .into_iter()
                .find(|i| i.code.as_str() == "FLOUR")
                .unwrap();
        p.st.edit_item(NewItem {
            code: i.code.clone(),
            description: i.description.clone(),
            unit: i.unit,
            kind: i.kind,
            gtin: i.gtin.clone(),
            shelf_life_days: Some(300 + k),
            ftl: i.ftl,
            receiving_temp: i.receiving_temp,
        })
        .unwrap();
    }
}

/// The details of FLOUR, after many changes, on the Items/Parties screen.
fn flour_details(p: &Plant, keymap: Keymap) -> App {
    many_changes(p, 14);
    let mut a = App::new(keymap, Theme::new(false, false), now(), &p.st);
    key(&mut a, p, KeyCode::F(7));
    assert_eq!(a.screen, ScreenId::Master);
    key(&mut a, p, KeyCode::Home);
    while a.master.selected_key().as_deref() != Some("FLOUR") {
        key(&mut a, p, KeyCode::Down);
    }
    key(&mut a, p, KeyCode::Enter);
    a
}

#[test]
fn a_long_change_history_is_marked_and_scrolls_to_its_last_line() {
    let p = plant();
    let a = flour_details(&p, Keymap::default_map());
    snap("panes_master_history", &a, FULL);
    snap("panes_master_history", &a, COMPACT);
    for size in [FULL, COMPACT] {
        let mut a = flour_details(&p, Keymap::default_map());
        // The oldest change is the last line: 300 days, from the first edit.
        let oldest = "'240' -> '300'";
        assert!(shows(&a, size, "↓ more"), "{}", screen(&a, size.0, size.1));
        assert!(!shows(&a, size, oldest));
        assert!(!shows(&a, size, "↑"));
        assert!(a.master.details_scroll.can_scroll());
        let mut presses = 0;
        while shows(&a, size, "↓ more") {
            key(&mut a, &p, KeyCode::Char(']'));
            presses += 1;
            assert!(presses < 60, "the marker never went away");
        }
        assert!(presses > 1, "one line a key");
        let text = screen(&a, size.0, size.1);
        assert!(shows(&a, size, oldest), "the last line is in view: {text}");
        assert!(shows(&a, size, "↑ more"), "{text}");
        // At the end a key does nothing more.
        let before = screen(&a, size.0, size.1);
        key(&mut a, &p, KeyCode::Char(']'));
        assert_eq!(screen(&a, size.0, size.1), before);
        // Shift+Up (or [) goes back; Up moves to the next record, at its top.
        keys(
            &mut a,
            &p,
            [Input::key(KeyEvent::new(KeyCode::Up, KeyModifiers::SHIFT))],
        );
        assert!(shows(&a, size, "↑↓ more"), "{}", screen(&a, size.0, size.1));
        for _ in 0..presses {
            key(&mut a, &p, KeyCode::Char('['));
        }
        assert!(!shows(&a, size, "↑"), "back at the top");
        assert!(shows(&a, size, "↓ more"));
    }
}

#[test]
fn the_vim_keymap_scrolls_details_with_ctrl_e_and_ctrl_y() {
    let p = plant();
    let mut a = flour_details(&p, Keymap::vim_map());
    assert!(shows(&a, COMPACT, "↓ more"));
    assert!(
        shows(&a, COMPACT, "C-e/C-y scroll"),
        "the border names the keys: {}",
        screen(&a, 40, 16)
    );
    for _ in 0..60 {
        keys(&mut a, &p, [Input::ctrl('e')]);
    }
    assert!(!shows(&a, COMPACT, "↓ more"), "{}", screen(&a, 40, 16));
    assert!(shows(&a, COMPACT, "'240' -> '300'"));
    for _ in 0..60 {
        keys(&mut a, &p, [Input::ctrl('y')]);
    }
    assert!(!shows(&a, COMPACT, "↑"));
    // Help lists the keys of the map in use.
    key(&mut a, &p, KeyCode::F(1));
    let help = screen(&a, 100, 200);
    assert!(
        help.lines()
            .any(|l| l.contains("C-e") && l.contains("scroll details down")),
        "{help}"
    );
}

/// A spice with every description field, from a supplier with a long name, received with
/// a long dock note: a node with more details than a pane holds.
fn spice(p: &Plant) -> LotCode {
    p.st.add_item(NewItem {
        code: ItemCode::parse("PAPRIKA", "code").unwrap(),
        description: ProductDescription {
            name: "Smoked sweet paprika, ground".into(),
            brand: "La Dalia de la Vera".into(),
            commodity: "Spices and seasonings".into(),
            variety: "Jaranda and Jariza peppers".into(),
            pack_size: "25 kg".into(),
            pack_style: "paper sack with liner".into(),
        },
        unit: Unit::Kg,
        kind: ItemKind::Ingredient,
        gtin: None,
        shelf_life_days: Some(720),
        ftl: true,
        receiving_temp: TempRange::default(),
    })
    .unwrap();
    p.st.add_party(NewParty {
        id: PartyId::parse("VERA", "id").unwrap(),
        role: Role::Supplier,
        location: Location {
            business_name: "Pimentoneros de la Vera Sociedad Cooperativa".into(),
            ..Default::default()
        },
        gln: None,
        recall_contact: Contact::default(),
    })
    .unwrap();
    p.st.receive(NewReceipt {
        item: ItemCode::parse("PAPRIKA", "item").unwrap(),
        supplier: PartyId::parse("VERA", "supplier").unwrap(),
        supplier_lot: SupplierLot::parse("PV-2026-0931", "supplier-lot").unwrap(),
        qty: Qty::from_units(250),
        unit: None,
        date: "2026-11-20".parse().unwrap(),
        expiry: Some("2028-11-01".parse().unwrap()),
        reference: Some(Reference::parse("BOL:9931", "ref").unwrap()),
        quality: Quality {
            temperature_dc: Some(180),
            inspection: Some(Inspection::Pass),
            note: "two sacks with torn outer paper, liners intact; pallet wrap re-applied \
                   at the dock before putaway"
                .into(),
        },
        tlc_source_ref: None,
    })
    .unwrap()
    .code
}

fn trace_of(p: &Plant, code: &LotCode) -> App {
    let mut a = app(p);
    key(&mut a, p, KeyCode::F(5));
    typed(&mut a, p, code.as_str());
    key(&mut a, p, KeyCode::Enter);
    assert!(a.trace.loaded.is_some(), "{}", screen(&a, 80, 24));
    a
}

#[test]
fn a_trace_node_with_many_details_is_marked_and_scrolls() {
    let p = plant();
    let lot = spice(&p);
    let a = trace_of(&p, &lot);
    snap("panes_trace_details", &a, FULL);
    let mut small = trace_of(&p, &lot);
    key(&mut small, &p, KeyCode::Char('i'));
    snap("panes_trace_details", &small, COMPACT);
    for (mut a, size) in [(a, FULL), (small, COMPACT)] {
        assert!(shows(&a, size, "↓ more"), "{}", screen(&a, size.0, size.1));
        let last = "Event 10 by ana@dock-1";
        assert!(!shows(&a, size, last), "{}", screen(&a, size.0, size.1));
        let mut presses = 0;
        while shows(&a, size, "↓ more") {
            key(&mut a, &p, KeyCode::Char(']'));
            presses += 1;
            assert!(presses < 40, "the marker never went away");
        }
        assert!(shows(&a, size, last), "{}", screen(&a, size.0, size.1));
        assert!(shows(&a, size, "↑ more"));
        // The pane wraps a long line rather than cutting it.
        for _ in 0..presses {
            key(&mut a, &p, KeyCode::Char('['));
        }
        assert!(!shows(&a, size, "↑"), "{}", screen(&a, size.0, size.1));
    }
}

#[test]
fn a_details_pane_that_fits_offers_no_scroll_key() {
    let p = plant();
    let mut a = trace_of(&p, &p.sugar);
    let text = screen(&a, 80, 24);
    assert!(!text.contains("more"), "{text}");
    assert!(!a.trace.details_scroll.can_scroll());
    let before = screen(&a, 80, 24);
    key(&mut a, &p, KeyCode::Char(']'));
    assert_eq!(screen(&a, 80, 24), before, "nothing to scroll to");
}

/// A lot held and released many times: more events than the history pane holds.
fn busy_lot(p: &Plant) -> App {
    for k in 0..12 {
        for to in [LotStatus::Hold, LotStatus::Released] {
            p.st.set_status(StatusChange {
                lot: p.flour.clone(),
                to,
                date: today(),
                reason: format!("swab {k}"),
            })
            .unwrap();
        }
    }
    let mut a = app(p);
    key(&mut a, p, KeyCode::F(6));
    typed(&mut a, p, p.flour.as_str());
    key(&mut a, p, KeyCode::Enter);
    assert!(a.lots.history.is_some());
    a
}

#[test]
fn a_lot_with_many_events_shows_where_it_is_and_what_is_above() {
    let p = plant();
    let mut a = busy_lot(&p);
    snap("panes_lot_events", &a, FULL);
    snap("panes_lot_events", &a, COMPACT);
    for size in [FULL, COMPACT] {
        // The history opens on the newest event, at the bottom: the rest is above.
        key(&mut a, &p, KeyCode::End);
        assert!(shows(&a, size, "↑ more"), "{}", screen(&a, size.0, size.1));
        assert!(!shows(&a, size, "↓"));
        key(&mut a, &p, KeyCode::Home);
        assert!(shows(&a, size, "↓ more"), "{}", screen(&a, size.0, size.1));
        assert!(!shows(&a, size, "↑"));
    }
}

#[test]
fn the_selected_event_shows_a_long_dock_note_in_full() {
    let p = plant();
    let lot = spice(&p);
    let mut a = app(&p);
    key(&mut a, &p, KeyCode::F(6));
    typed(&mut a, &p, lot.as_str());
    key(&mut a, &p, KeyCode::Enter);
    key(&mut a, &p, KeyCode::Home);
    snap("panes_dock_note", &a, FULL);
    snap("panes_dock_note", &a, COMPACT);
    for size in [FULL, COMPACT] {
        let text = rows(&a, size).join("");
        assert!(
            text.contains("putaway"),
            "the note's last word is on screen: {}",
            screen(&a, size.0, size.1)
        );
    }
}

#[test]
fn ascii_terminals_get_the_marker_in_ascii() {
    let p = plant();
    many_changes(&p, 14);
    let mut a = App::new(Keymap::default_map(), Theme::new(true, true), now(), &p.st);
    key(&mut a, &p, KeyCode::F(6));
    key(&mut a, &p, KeyCode::Enter);
    let text = screen(&a, 40, 16);
    assert!(text.contains("v more"), "{text}");
    assert!(text.is_ascii(), "{text}");
    key(&mut a, &p, KeyCode::End);
    let text = screen(&a, 40, 16);
    assert!(text.contains("^ more"), "{text}");
}

#[test]
fn a_handheld_form_marks_the_fields_below_until_tab_reaches_them() {
    let p = plant();
    let mut a = app(&p);
    // Receive at 40x16: Item is in view, the rest of the form below it.
    assert!(shows(&a, COMPACT, "↓ more"), "{}", screen(&a, 40, 16));
    assert!(!shows(&a, COMPACT, "[ Save ]"));
    let mut tabs = 0;
    while !shows(&a, COMPACT, "[ Save ]") {
        key(&mut a, &p, KeyCode::Tab);
        tabs += 1;
        assert!(tabs < 30, "Tab never reached the button");
    }
    let text = screen(&a, 40, 16);
    assert!(!text.contains("more"), "nothing below the button: {text}");
    // Back up the form, the marker comes back.
    keys(&mut a, &p, [Input::code(KeyCode::BackTab)]);
    keys(&mut a, &p, [Input::code(KeyCode::BackTab)]);
    keys(&mut a, &p, [Input::code(KeyCode::BackTab)]);
    assert!(shows(&a, COMPACT, "more"), "{}", screen(&a, 40, 16));
    // At 80x24 the whole form fits: no marker.
    assert!(!screen(&a, 80, 24).contains("more"));
}

#[test]
fn a_review_longer_than_the_screen_says_how_much_is_not_shown() {
    use crate::first_run::FirstRun;
    use crate::screens::setup::Step;
    let mut f = FirstRun::new(
        Keymap::default_map(),
        Theme::new(false, false),
        "/srv/lotline/plant.redb",
        "maria",
    );
    let mut feed = |inputs: Vec<Input>| {
        for i in inputs {
            f.handle(i);
        }
    };
    let line = |t: &str| {
        let mut v = Input::typed(t);
        v.push(Input::code(KeyCode::Enter));
        v
    };
    feed(line("Valley Bakery"));
    feed(vec![Input::ctrl('s'), Input::ctrl('s')]);
    for n in 0..8 {
        feed(line(&format!("ITEM{n}")));
        feed(line(&format!("Item number {n}")));
        feed(vec![Input::ctrl('s')]);
    }
    feed(vec![Input::code(KeyCode::Enter), Input::ctrl('d')]);
    assert_eq!(f.setup.step, Step::Review);
    let draw = |f: &FirstRun, (w, h): (u16, u16)| {
        let mut t = ratatui::Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|fr| {
            let area = fr.area();
            f.draw(fr.buffer_mut(), area);
        })
        .unwrap();
        t.backend().to_string()
    };
    let small = draw(&f, COMPACT);
    assert!(
        small.contains("5 more; a taller terminal shows all"),
        "{small}"
    );
    assert!(
        small.contains("Enter: write it"),
        "the way on stays: {small}"
    );
    let tall = draw(&f, (80, 40));
    assert!(!tall.contains("taller terminal"), "{tall}");
    assert!(tall.contains("ITEM7"), "{tall}");
}

/// `n` more lots of sugar, each of 10 kg, expiring a day apart.
fn sugar_lots(p: &Plant, n: u32) -> Vec<LotCode> {
    (0..n)
        .map(|k| {
            receive(
                &p.st,
                "SUGAR",
                "MILL",
                &format!("S-{}", 100 + k),
                10,
                "2026-11-04",
                &format!("2028-01-{:02}", k + 1),
            )
        })
        .collect()
}

#[test]
fn produce_inputs_and_ship_lots_beyond_their_rows_are_marked() {
    let p = plant();
    let lots = sugar_lots(&p, 20);
    // A batch with more input lines than its table holds at 80x24.
    let mut a = app(&p);
    key(&mut a, &p, KeyCode::F(3));
    for t in ["dough", "", "", ""] {
        typed(&mut a, &p, t);
        key(&mut a, &p, KeyCode::Enter);
    }
    for l in &lots[..11] {
        typed(&mut a, &p, l.as_str());
        key(&mut a, &p, KeyCode::Enter);
        typed(&mut a, &p, "1");
        key(&mut a, &p, KeyCode::Enter);
    }
    assert_eq!(a.produce.entry.lines.len(), 11, "{}", screen(&a, 80, 24));
    snap("panes_produce_inputs", &a, FULL);
    snap("panes_produce_inputs", &a, COMPACT);
    // On a handheld the inputs stay in view above the lot field (they used to vanish once
    // the list was taller than the rows above the cursor).
    assert!(
        shows(&a, COMPACT, lots[10].as_str()),
        "{}",
        screen(&a, 40, 16)
    );
    assert!(shows(&a, FULL, "↑ more"), "{}", screen(&a, 80, 24));
    // Up to the first line: the rest is below.
    keys(&mut a, &p, [Input::code(KeyCode::BackTab)]);
    while a.produce.entry.selected > 0 {
        key(&mut a, &p, KeyCode::Up);
    }
    assert!(shows(&a, FULL, "↓ more"), "{}", screen(&a, 80, 24));

    // Ship: the FEFO list of an item with more lots than the pane holds.
    let mut a = app(&p);
    key(&mut a, &p, KeyCode::F(4));
    for t in ["shop", "", "", "sugar"] {
        typed(&mut a, &p, t);
        key(&mut a, &p, KeyCode::Enter);
    }
    snap("panes_ship_fefo", &a, FULL);
    snap("panes_ship_fefo", &a, COMPACT);
    assert!(shows(&a, FULL, "↓ more"), "{}", screen(&a, 80, 24));
    // Down on the Lot field walks the list to its last lot; the marker turns up.
    key(&mut a, &p, KeyCode::Down);
    for _ in 0..40 {
        key(&mut a, &p, KeyCode::Down);
    }
    assert!(shows(&a, FULL, "↑ more"), "{}", screen(&a, 80, 24));
    assert!(!shows(&a, FULL, "↓"), "{}", screen(&a, 80, 24));
}

#[test]
fn the_recall_scope_scrolls_to_its_end_and_the_marker_goes() {
    let p = plant();
    let mut a = trace_of(&p, &p.flour);
    key(&mut a, &p, KeyCode::Char('R'));
    for size in [FULL, COMPACT] {
        key(&mut a, &p, KeyCode::Home);
        let text = screen(&a, size.0, size.1);
        if !text.contains("↓ more") {
            // Everything fits at this size: nothing to mark.
            assert!(!text.contains("more"), "{text}");
            continue;
        }
        let mut presses = 0;
        while shows(&a, size, "↓ more") {
            key(&mut a, &p, KeyCode::Down);
            presses += 1;
            assert!(presses < 80, "the marker never went away");
        }
        assert!(shows(&a, size, "↑ more"), "{}", screen(&a, size.0, size.1));
    }
    key(&mut a, &p, KeyCode::Home);
    let text = screen(&a, 40, 16);
    assert!(
        text.contains("Recall scope") && text.contains("↓ more"),
        "the handheld shows part of it: {text}"
    );
}
