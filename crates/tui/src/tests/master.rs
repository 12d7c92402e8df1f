//! The Items/Parties screen and the guided start: state and actions against a real
//! station, and their snapshots at 80x24 and 40x16.

use super::*;
use crate::first_run::FirstRun;
use crate::keymap::ScreenId;
use crate::queue::Level;
use crate::screens::master::{Focus, Tab};
use crate::screens::setup::Step;
use lotline_station::setup::PlantSetup;
use ratatui::crossterm::event::KeyCode;

const FULL: (u16, u16) = (80, 24);
const COMPACT: (u16, u16) = (40, 16);

fn key(a: &mut App, p: &Plant, c: KeyCode) {
    keys(a, p, [Input::code(c)]);
}

fn status(a: &App) -> (Level, String) {
    let s = a.status.clone().unwrap();
    (s.level, s.text)
}

/// The Items/Parties screen on the test bakery.
fn master(p: &Plant) -> App {
    let mut a = app(p);
    key(&mut a, p, KeyCode::F(7));
    assert_eq!(a.screen, ScreenId::Master);
    a
}

/// Select the item or party whose code is `code`.
fn select(a: &mut App, p: &Plant, code: &str) {
    key(a, p, KeyCode::Home);
    for _ in 0..20 {
        if a.master.selected_key().as_deref() == Some(code) {
            return;
        }
        key(a, p, KeyCode::Down);
    }
    panic!("{code} not in the list");
}

/// Clear the focused field and type `text` into it.
fn retype(a: &mut App, p: &Plant, text: &str) {
    keys(a, p, [Input::ctrl('u')]);
    typed(a, p, text);
}

/// Tab to the field called `name` in the open editor.
fn to_field(a: &mut App, p: &Plant, name: &str) {
    for _ in 0..20 {
        let ed = a.master.editor.as_ref().unwrap();
        if ed.form.is_focused(name) {
            return;
        }
        key(a, p, KeyCode::Tab);
    }
    panic!("no field {name}");
}

#[test]
fn items_and_parties_are_listed_with_retired_ones_marked() {
    let p = plant();
    p.st.retire_item(
        ItemCode::parse("EGGS", "c").unwrap(),
        "supplier stopped".into(),
    )
    .unwrap();
    let mut a = master(&p);
    assert_eq!(a.master.tab, Tab::Items);
    assert_eq!(a.master.items.len(), 5);
    let text = screen(&a, 80, 24);
    assert!(text.contains("RETIRED"), "{text}");
    assert!(text.contains("F7 Items/Parties"), "{text}");
    snap("master_items", &a, FULL);
    snap("master_items", &a, COMPACT);
    key(&mut a, &p, KeyCode::Tab);
    assert_eq!(a.master.tab, Tab::Parties);
    snap("master_parties", &a, FULL);
    snap("master_parties", &a, COMPACT);
    // Enter opens the record; Esc goes back to the list.
    select(&mut a, &p, "MILL");
    key(&mut a, &p, KeyCode::Enter);
    assert_eq!(a.master.focus, Focus::Details);
    assert!(screen(&a, 80, 24).contains("Prairie Mill Co."));
    key(&mut a, &p, KeyCode::Esc);
    assert_eq!(a.master.focus, Focus::List);
}

#[test]
fn an_item_is_added_and_the_other_screens_offer_it_at_once() {
    let p = plant();
    let mut a = master(&p);
    key(&mut a, &p, KeyCode::Char('n'));
    assert!(a.master.editor.is_some());
    assert!(a.wants_text());
    snap("master_add", &a, FULL);
    snap("master_add", &a, COMPACT);
    for (t, _) in [
        ("BUTTER", "code"),
        ("Butter 20 x 1 lb", "name"),
        ("case", "unit"),
    ] {
        typed(&mut a, &p, t);
        key(&mut a, &p, KeyCode::Enter);
    }
    to_field(&mut a, &p, "shelf-life");
    typed(&mut a, &p, "120");
    keys(&mut a, &p, [Input::ctrl('s')]);
    let (level, text) = status(&a);
    assert_eq!(level, Level::Ok, "{text}");
    assert_eq!(text, "Item BUTTER added");
    assert!(a.master.editor.is_none());
    assert_eq!(a.master.selected_key().as_deref(), Some("BUTTER"));
    let b = p.st.item(ItemCode::parse("BUTTER", "c").unwrap()).unwrap();
    assert_eq!(b.shelf_life_days, Some(120));
    assert_eq!(b.unit, Unit::Case);
    // The Receive screen's item field offers it without a restart.
    key(&mut a, &p, KeyCode::F(2));
    typed(&mut a, &p, "butt");
    let f = a.receive.form.focused().unwrap();
    assert!(
        f.matches().iter().any(|c| c.value == "BUTTER"),
        "{:?}",
        f.matches()
    );
}

#[test]
fn a_wrong_value_names_its_field_and_keeps_the_form() {
    let p = plant();
    let mut a = master(&p);
    select(&mut a, &p, "FLOUR");
    key(&mut a, &p, KeyCode::Char('e'));
    let ed = a.master.editor.as_ref().unwrap();
    assert_eq!(ed.editing.as_deref(), Some("FLOUR"));
    assert_eq!(ed.form.value("name"), "All-purpose flour");
    assert!(ed.form.index("code").is_none(), "the code does not change");
    retype(&mut a, &p, "Flour, all-purpose");
    to_field(&mut a, &p, "shelf-life");
    retype(&mut a, &p, "0");
    keys(&mut a, &p, [Input::ctrl('s')]);
    let (level, text) = status(&a);
    assert_eq!(level, Level::Error);
    assert!(
        text.starts_with("shelf-life: 0 days is not a shelf life"),
        "{text}"
    );
    let ed = a.master.editor.as_ref().unwrap();
    assert!(ed.form.get("shelf-life").error);
    assert_eq!(ed.form.value("name"), "Flour, all-purpose", "kept as typed");
    snap("master_edit_error", &a, FULL);
    snap("master_edit_error", &a, COMPACT);
    // Corrected, it saves as one change event with both versions.
    retype(&mut a, &p, "200");
    keys(&mut a, &p, [Input::ctrl('s')]);
    let (level, text) = status(&a);
    assert_eq!(level, Level::Ok, "{text}");
    assert!(
        text.contains("name 'All-purpose flour' -> 'Flour, all-purpose'"),
        "{text}"
    );
    assert!(text.contains("shelf life days '240' -> '200'"), "{text}");
    let history =
        p.st.item_history(ItemCode::parse("FLOUR", "c").unwrap())
            .unwrap();
    assert_eq!(history.len(), 1);
    // The details show the change.
    key(&mut a, &p, KeyCode::Enter);
    let text = screen(&a, 80, 24);
    assert!(text.contains("Changes (1):"), "{text}");
    assert!(
        text.contains("ana: name 'All-purpose flour' -> 'Flour, all-purpose'"),
        "{text}"
    );
    snap("master_details", &a, FULL);
    snap("master_details", &a, COMPACT);
}

#[test]
fn esc_on_a_changed_form_asks_before_dropping_it() {
    let p = plant();
    let mut a = master(&p);
    key(&mut a, &p, KeyCode::Char('e'));
    typed(&mut a, &p, "x");
    key(&mut a, &p, KeyCode::Esc);
    assert!(a.master.editor.is_some(), "kept after one Esc");
    assert_eq!(status(&a).0, Level::Warn);
    assert_eq!(a.unsaved(), vec!["Items/Parties"]);
    key(&mut a, &p, KeyCode::Esc);
    assert!(a.master.editor.is_none());
    assert!(
        p.st.item_history(ItemCode::parse("COOKIE", "c").unwrap())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn retiring_needs_a_reason_and_is_kept_in_the_history() {
    let p = plant();
    let mut a = master(&p);
    key(&mut a, &p, KeyCode::Tab);
    select(&mut a, &p, "CAFE");
    key(&mut a, &p, KeyCode::Char('x'));
    assert!(a.master.prompt.is_some());
    snap("master_retire", &a, FULL);
    snap("master_retire", &a, COMPACT);
    key(&mut a, &p, KeyCode::Enter);
    let (level, text) = status(&a);
    assert_eq!(level, Level::Error);
    assert!(text.starts_with("reason: "), "{text}");
    assert!(a.master.prompt.is_some(), "still asking");
    typed(&mut a, &p, "closed down");
    key(&mut a, &p, KeyCode::Enter);
    let (level, text) = status(&a);
    assert_eq!(level, Level::Ok, "{text}");
    assert!(text.starts_with("Party CAFE retired (event "), "{text}");
    let cafe = p.st.party(PartyId::parse("CAFE", "c").unwrap()).unwrap();
    assert_eq!(cafe.retired.unwrap().reason, "closed down");
    assert!(screen(&a, 80, 24).contains("RETIRED"));
    // Twice is refused, saying when it was.
    key(&mut a, &p, KeyCode::Char('x'));
    assert!(a.master.prompt.is_none());
    assert!(
        status(&a).1.contains("already retired on 2026-11-21"),
        "{}",
        status(&a).1
    );
    // The party's history has the change; the shipping pick list no longer offers it.
    let h =
        p.st.party_history(PartyId::parse("CAFE", "c").unwrap())
            .unwrap();
    assert_eq!(h.len(), 1);
}

#[test]
fn an_operator_sees_the_lists_but_may_not_change_them() {
    let (_dir, clerk) = clerk_on(plant());
    let mut a = app_on(&clerk);
    a.handle(Input::code(KeyCode::F(7)), &clerk);
    assert_eq!(a.master.items.len(), 5, "reading is anyone's");
    for k in ['n', 'e', 'x'] {
        a.handle(Input::code(KeyCode::Char(k)), &clerk);
        assert!(
            a.master.editor.is_none() && a.master.prompt.is_none(),
            "{k}"
        );
        let (level, text) = status(&a);
        assert_eq!(level, Level::Error);
        assert!(
            text.contains("cory is an operator here") && text.contains("admin role"),
            "{text}"
        );
    }
    let text = screen(&a, 80, 24);
    assert!(text.contains("view only"), "{text}");
}

/// The guided start at each step, driven as a person would.
fn first(keys_in: &[Input]) -> FirstRun {
    let mut f = FirstRun::new(
        Keymap::default_map(),
        Theme::new(false, false),
        "/srv/lotline/plant.redb",
        "maria",
    );
    for k in keys_in {
        f.handle(k.clone());
    }
    f
}

fn first_screen(f: &FirstRun, (w, h): (u16, u16)) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|fr| {
        let area = fr.area();
        if let Some(p) = f.draw(fr.buffer_mut(), area) {
            fr.set_cursor_position(p);
        }
    })
    .unwrap();
    t.backend().to_string()
}

fn first_snap(name: &str, f: &FirstRun, size: (u16, u16)) {
    insta::with_settings!({prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!(format!("{name}_{}x{}", size.0, size.1), first_screen(f, size));
    });
}

fn line(text: &str) -> Vec<Input> {
    let mut v = Input::typed(text);
    v.push(Input::code(KeyCode::Enter));
    v
}

#[test]
fn the_guided_start_walks_through_each_step_and_writes_nothing_until_confirmed() {
    let mut ks: Vec<Input> = Vec::new();
    ks.extend(line("Valley Bakery"));
    ks.extend(line("555-0199"));
    let mut f = first(&ks);
    assert_eq!(f.setup.step, Step::Plant);
    first_snap("setup_plant", &f, FULL);
    first_snap("setup_plant", &f, COMPACT);
    // A wrong GLN is refused on leaving the step, naming the field.
    f.handle(Input::code(KeyCode::Tab));
    for _ in 0..4 {
        f.handle(Input::code(KeyCode::Tab));
    }
    for i in Input::typed("123") {
        f.handle(i);
    }
    f.handle(Input::ctrl('s'));
    assert_eq!(f.setup.step, Step::Plant);
    let s = f.status.clone().unwrap();
    assert_eq!(s.level, Level::Error);
    assert!(s.text.starts_with("gln: "), "{}", s.text);
    f.handle(Input::ctrl('u'));
    f.handle(Input::ctrl('s'));
    assert_eq!(f.setup.step, Step::Qa);
    // The QA users default to the person setting up.
    assert_eq!(f.setup.qa.value("qa-users"), "maria");
    f.handle(Input::ctrl('s'));
    assert_eq!(f.setup.step, Step::Items);
    for i in line("FLOUR").into_iter().chain(line("All-purpose flour")) {
        f.handle(i);
    }
    f.handle(Input::ctrl('s'));
    assert_eq!(f.setup.items.len(), 1, "{:?}", f.status);
    assert_eq!(f.setup.items[0].unit, Unit::Kg, "the default unit");
    // The same code twice is refused.
    for i in line("FLOUR").into_iter().chain(line("Flour again")) {
        f.handle(i);
    }
    f.handle(Input::ctrl('s'));
    assert_eq!(f.setup.items.len(), 1);
    assert!(
        f.status
            .clone()
            .unwrap()
            .text
            .contains("already in this setup")
    );
    f.handle(Input::ctrl('u'));
    for i in Input::typed("EGGS") {
        f.handle(i);
    }
    f.handle(Input::code(KeyCode::Enter));
    f.handle(Input::ctrl('u'));
    for i in line("Shell eggs") {
        f.handle(i);
    }
    f.handle(Input::ctrl('u'));
    for i in line("dozen") {
        f.handle(i);
    }
    f.handle(Input::ctrl('s'));
    assert_eq!(f.setup.items.len(), 2);
    first_snap("setup_items", &f, FULL);
    first_snap("setup_items", &f, COMPACT);
    // Enter on the empty code: on to the parties.
    f.handle(Input::code(KeyCode::Enter));
    assert_eq!(f.setup.step, Step::Parties);
    for i in line("MILL").into_iter().chain(line("Prairie Mill")) {
        f.handle(i);
    }
    f.handle(Input::ctrl('s'));
    assert_eq!(f.setup.parties.len(), 1);
    // Ctrl-D skips the rest of the step.
    f.handle(Input::ctrl('d'));
    assert_eq!(f.setup.step, Step::Review);
    first_snap("setup_review", &f, FULL);
    first_snap("setup_review", &f, COMPACT);
    assert!(f.take_confirmed().is_none(), "nothing until confirmed");
    // Esc goes back a step and forward again keeps everything.
    f.handle(Input::code(KeyCode::Esc));
    assert_eq!(f.setup.step, Step::Parties);
    f.handle(Input::code(KeyCode::Enter));
    assert_eq!(f.setup.step, Step::Review);
    f.handle(Input::code(KeyCode::Enter));
    let plan: PlantSetup = f.take_confirmed().expect("confirmed");
    assert_eq!(plan.plant.location.business_name, "Valley Bakery");
    assert_eq!(plan.plant.location.phone, "555-0199");
    assert_eq!(plan.plant.location.country, "US");
    assert_eq!(plan.plant.qa_users, vec!["maria"]);
    assert_eq!(plan.items.len(), 2);
    assert_eq!(plan.parties.len(), 1);
    // Written through a station: one event per record, and the plant is no longer new.
    let dir = tempfile::tempdir().unwrap();
    let st = station(&dir, "maria");
    assert!(lotline_station::setup::is_blank(&st).unwrap());
    let saved = lotline_station::setup::apply(&st, &plan).unwrap();
    assert_eq!(saved.len(), 4);
    assert!(!lotline_station::setup::is_blank(&st).unwrap());
    assert_eq!(st.plant().unwrap().location.business_name, "Valley Bakery");
    assert_eq!(st.items().unwrap().len(), 2);
}

#[test]
fn the_guided_start_refuses_to_skip_the_plant_and_quits_only_when_asked_twice() {
    let mut f = first(&[]);
    f.handle(Input::ctrl('d'));
    assert_eq!(f.setup.step, Step::Plant);
    assert_eq!(f.status.clone().unwrap().level, Level::Warn);
    f.handle(Input::ctrl('s'));
    let s = f.status.clone().unwrap();
    assert!(s.text.starts_with("name: is required"), "{}", s.text);
    // The other screens are not open yet.
    f.handle(Input::code(KeyCode::F(2)));
    assert!(
        f.status
            .clone()
            .unwrap()
            .text
            .contains("finish these steps first")
    );
    for i in Input::typed("Half") {
        f.handle(i);
    }
    f.handle(Input::ctrl('c'));
    assert!(!f.quit, "asks first: something was typed");
    f.handle(Input::ctrl('c'));
    assert!(f.quit);
    // Too small or odd sizes never panic.
    let f = first(&line("Valley Bakery"));
    for (w, h) in [(0, 0), (1, 1), (19, 9), (20, 10), (40, 16), (200, 3)] {
        let mut buf = ratatui::buffer::Buffer::empty(ratatui::layout::Rect::new(0, 0, w, h));
        f.draw(&mut buf, ratatui::layout::Rect::new(0, 0, w, h));
    }
}

#[test]
fn master_scenes_draw_at_any_size() {
    let p = plant();
    let mut scenes = vec![master(&p)];
    let mut b = master(&p);
    key(&mut b, &p, KeyCode::Char('n'));
    scenes.push(b);
    let mut c = master(&p);
    key(&mut c, &p, KeyCode::Char('x'));
    scenes.push(c);
    let mut d = master(&p);
    key(&mut d, &p, KeyCode::Enter);
    scenes.push(d);
    // The recipe editor: a first recipe, empty; then with lines, the cursor in them; then
    // with the input's pick list open and a refusal on the status line.
    let mut e = master(&p);
    select(&mut e, &p, "DOUGH");
    key(&mut e, &p, KeyCode::Char('r'));
    assert!(e.master.recipe.is_some());
    let mut f = master(&p);
    select(&mut f, &p, "COOKIE");
    key(&mut f, &p, KeyCode::Char('r'));
    for t in ["10", "", "", ""] {
        typed(&mut f, &p, t);
        key(&mut f, &p, KeyCode::Enter);
    }
    for (item, qty) in [("DOUGH", "3"), ("SUGAR", "0.25")] {
        typed(&mut f, &p, item);
        key(&mut f, &p, KeyCode::Enter);
        typed(&mut f, &p, qty);
        key(&mut f, &p, KeyCode::Enter);
    }
    assert_eq!(f.master.recipe.as_ref().unwrap().lines.len(), 2);
    let mut g = master(&p);
    select(&mut g, &p, "COOKIE");
    key(&mut g, &p, KeyCode::Char('r'));
    for _ in 0..4 {
        key(&mut g, &p, KeyCode::Enter);
    }
    typed(&mut g, &p, "ZZZ");
    key(&mut g, &p, KeyCode::Enter);
    typed(&mut g, &p, "f");
    scenes.extend([e, g]);
    key(&mut f, &p, KeyCode::BackTab);
    scenes.push(f);
    for a in &scenes {
        for w in (0..=100).step_by(9) {
            for h in (0..=30).step_by(4) {
                let _ = buffer(a, w, h);
            }
        }
        for (w, h) in [(20, 5), (21, 6), (40, 16), (80, 24), (300, 2)] {
            let _ = buffer(a, w, h);
        }
    }
}
