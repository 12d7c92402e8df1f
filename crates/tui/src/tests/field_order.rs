//! Saving a form with several wrong fields: the refusal names the first wrong field in the
//! order the form shows them, puts the cursor there, marks the others and counts them, so
//! a clerk fixes them top to bottom. Each form is driven with keys: every wrong value
//! typed, then save, fix the field named, save again… until the save goes through.

use super::*;
use crate::first_run::FirstRun;
use crate::form::{Form, Slot};
use crate::queue::{Level, Status};
use crate::screens::setup::Step;
use ratatui::crossterm::event::KeyCode;

/// A front end showing a form: the app (with the form it shows now) or the guided start.
trait Front {
    fn send(&mut self, i: Input);
    fn form(&self) -> &Form;
    fn status(&self) -> Status;
}

struct InApp<'p> {
    a: App,
    p: &'p Plant,
    form: fn(&App) -> &Form,
    /// Move between fields with Down/Up rather than Tab (a form whose Tab looks a field
    /// up, as the return form's lot).
    arrows: bool,
}

impl<'p> InApp<'p> {
    fn new(a: App, p: &'p Plant, form: fn(&App) -> &Form) -> InApp<'p> {
        InApp {
            a,
            p,
            form,
            arrows: false,
        }
    }
}

impl Front for InApp<'_> {
    fn send(&mut self, i: Input) {
        self.a.handle(i, &self.p.st);
    }
    fn form(&self) -> &Form {
        (self.form)(&self.a)
    }
    fn status(&self) -> Status {
        self.a.status.clone().expect("a status message")
    }
}

impl Front for FirstRun {
    fn send(&mut self, i: Input) {
        self.handle(i);
    }
    fn form(&self) -> &Form {
        self.setup.form().expect("a step with a form")
    }
    fn status(&self) -> Status {
        self.status.clone().expect("a status message")
    }
}

fn press(f: &mut dyn Front, c: KeyCode) {
    f.send(Input::code(c));
}

fn type_in(f: &mut dyn Front, text: &str) {
    for i in Input::typed(text) {
        f.send(i);
    }
}

/// Move the cursor to the field called `name`, Tab or Shift-Tab at a time (`arrows`:
/// Down or Up).
fn go_to(f: &mut dyn Front, name: &str, arrows: bool) {
    for _ in 0..40 {
        let form = f.form();
        if form.is_focused(name) {
            return;
        }
        let i = form
            .index(name)
            .unwrap_or_else(|| panic!("no field {name}"));
        let at = form
            .order
            .iter()
            .position(|s| *s == Slot::Field(i))
            .expect("the field is in the focus order");
        let key = match (at > form.focus, arrows) {
            (true, false) => KeyCode::Tab,
            (false, false) => KeyCode::BackTab,
            (true, true) => KeyCode::Down,
            (false, true) => KeyCode::Up,
        };
        press(f, key);
    }
    panic!("the cursor does not reach {name}");
}

/// Replace what field `name` holds with `text`.
fn set(f: &mut dyn Front, name: &str, text: &str, arrows: bool) {
    go_to(f, name, arrows);
    f.send(Input::ctrl('u'));
    type_in(f, text);
}

/// How a wrong field is put right.
enum Fix<'a> {
    To(&'a str),
    By(&'a dyn Fn(&mut dyn Front)),
}

/// With every field of `steps` wrong, save again and again: each time the refusal names
/// the next wrong field in the form's order, with the cursor on it, the fields after it
/// still marked and counted; then it is fixed. Returns after the last fix, unsaved.
fn walk(f: &mut dyn Front, save: &[Input], steps: &[(&str, Fix)], arrows: bool) {
    for (n, (field, fix)) in steps.iter().enumerate() {
        for i in save {
            f.send(i.clone());
        }
        let s = f.status();
        assert_eq!(s.level, Level::Error, "save {}: {}", n + 1, s.text);
        assert!(
            s.text.starts_with(&format!("{field}: ")),
            "save {}: {field} is the first wrong field: {}",
            n + 1,
            s.text
        );
        let more = match steps.len() - n - 1 {
            0 => None,
            1 => Some("(1 more field to fix)".to_string()),
            k => Some(format!("({k} more fields to fix)")),
        };
        match &more {
            Some(m) => assert!(s.text.ends_with(m.as_str()), "{}", s.text),
            None => assert!(!s.text.contains("to fix)"), "{}", s.text),
        }
        let form = f.form();
        assert!(form.is_focused(field), "the cursor is on {field}");
        assert!(form.get(field).error, "{field} is marked");
        for (later, _) in &steps[n + 1..] {
            assert!(form.get(later).error, "{later} is marked too");
        }
        match fix {
            Fix::To(text) => set(f, field, text, arrows),
            Fix::By(run) => run(f),
        }
    }
}

fn save_key() -> Vec<Input> {
    vec![Input::ctrl('s')]
}

fn ok(f: &dyn Front) -> String {
    let s = f.status();
    assert_eq!(s.level, Level::Ok, "{}", s.text);
    s.text
}

#[test]
fn receive_names_its_wrong_fields_top_to_bottom() {
    let p = plant();
    let mut f = InApp::new(app(&p), &p, |a| &a.receive.form);
    press(&mut f, KeyCode::F(2));
    for (name, text) in [
        ("item", "FLOUR"),
        ("supplier", "MILL"),
        ("qty", "lots"),
        ("unit", "furlong"),
        ("date", "2026-12-25"),
        ("temp", "hot"),
        ("inspection", "maybe"),
    ] {
        set(&mut f, name, text, false);
    }
    walk(
        &mut f,
        &save_key(),
        &[
            ("supplier-lot", Fix::To("M-90")),
            ("qty", Fix::To("25")),
            ("unit", Fix::To("kg")),
            ("date", Fix::To("2026-11-20")),
            ("temp", Fix::To("3.5")),
            ("inspection", Fix::To("pass")),
        ],
        false,
    );
    f.send(Input::ctrl('s'));
    assert!(ok(&f).contains("FLOUR 25 kg from MILL lot M-90"));
}

#[test]
fn produce_names_its_wrong_fields_and_a_missing_input_in_form_order() {
    let p = plant();
    let mut f = InApp::new(app(&p), &p, |a| &a.produce.entry.form);
    press(&mut f, KeyCode::F(3));
    for (name, text) in [
        ("item", "NOPE"),
        ("ref", "nocolon"),
        ("date", "2026-12-25"),
        ("qty", "-3"),
    ] {
        set(&mut f, name, text, false);
    }
    let flour = p.flour.to_string();
    let add_line = move |f: &mut dyn Front| {
        set(f, "input", &flour, false);
        press(f, KeyCode::Enter);
        type_in(f, "5");
        press(f, KeyCode::Enter);
    };
    walk(
        &mut f,
        &save_key(),
        &[
            ("item", Fix::To("DOUGH")),
            ("ref", Fix::To("WO:1")),
            ("date", Fix::To("2026-11-21")),
            ("input", Fix::By(&add_line)),
            ("qty", Fix::To("10")),
        ],
        false,
    );
    f.send(Input::ctrl('s'));
    assert!(ok(&f).starts_with("Batch closed"));
}

#[test]
fn ship_names_its_wrong_fields_and_a_missing_lot_in_form_order() {
    let p = plant();
    let mut f = InApp::new(app(&p), &p, |a| &a.ship.entry.form);
    press(&mut f, KeyCode::F(4));
    for (name, text) in [
        ("customer", "NOPE"),
        ("ref", "nocolon"),
        ("date", "2026-12-25"),
    ] {
        set(&mut f, name, text, false);
    }
    let cookies = p.cookies_b.to_string();
    let add_line = move |f: &mut dyn Front| {
        set(f, "lot", &cookies, false);
        press(f, KeyCode::Enter);
        type_in(f, "1");
        press(f, KeyCode::Enter);
    };
    walk(
        &mut f,
        &save_key(),
        &[
            ("customer", Fix::To("SHOP")),
            ("ref", Fix::To("BOL:9")),
            ("date", Fix::To("2026-11-21")),
            ("lot", Fix::By(&add_line)),
        ],
        false,
    );
    f.send(Input::ctrl('s'));
    assert!(ok(&f).starts_with("Shipped 1 lot"));
}

#[test]
fn the_return_form_names_its_wrong_fields_in_form_order() {
    let p = plant();
    p.st.ship(NewShipment {
        allow_expired: false,
        customer: PartyId::parse("SHOP", "customer").unwrap(),
        date: today(),
        reference: Some(Reference::parse("BOL:77", "ref").unwrap()),
        documents: Default::default(),
        lines: vec![LotLine {
            lot: p.cookies_b.clone(),
            qty: Qty::from_units(3),
        }],
    })
    .unwrap();
    let mut f = InApp::new(app(&p), &p, |a| a.ship.returning.as_ref().unwrap());
    // Tab on the lot field looks the lot up; Down moves on without.
    f.arrows = true;
    f.send(Input::code(KeyCode::F(4)));
    f.send(Input::ctrl('r'));
    set(&mut f, "lot", "??", true);
    set(&mut f, "qty", "x", true);
    walk(
        &mut f,
        &save_key(),
        &[
            ("shipment", Fix::To("BOL:77")),
            ("lot", Fix::To(p.cookies_b.as_str())),
            ("qty", Fix::To("1")),
        ],
        true,
    );
    f.send(Input::ctrl('s'));
    assert!(ok(&f).starts_with("Returned 1 "));
}

#[test]
fn the_item_form_names_its_wrong_fields_in_form_order() {
    let p = plant();
    let mut f = InApp::new(app(&p), &p, |a| &a.master.editor.as_ref().unwrap().form);
    press(&mut f, KeyCode::F(7));
    press(&mut f, KeyCode::Char('n'));
    let long = "x".repeat(101);
    for (name, text) in [
        ("code", "BUTTER"),
        ("unit", "furlong"),
        ("brand", long.as_str()),
        ("gtin", "123"),
        ("shelf-life", "0"),
        ("temp-min", "5"),
        ("temp-max", "2"),
    ] {
        set(&mut f, name, text, false);
    }
    // The name is read before the unit, the brand before the unit too: the form shows
    // name, unit, kind, brand.
    walk(
        &mut f,
        &save_key(),
        &[
            ("name", Fix::To("Butter")),
            ("unit", Fix::To("case")),
            ("brand", Fix::To("Valley")),
            ("gtin", Fix::To("")),
            ("shelf-life", Fix::To("120")),
            ("temp-min", Fix::To("1")),
        ],
        false,
    );
    f.send(Input::ctrl('s'));
    assert_eq!(ok(&f), "Item BUTTER added");
}

#[test]
fn the_party_form_names_its_role_before_its_address() {
    let p = plant();
    let mut f = InApp::new(app(&p), &p, |a| &a.master.editor.as_ref().unwrap().form);
    press(&mut f, KeyCode::F(7));
    press(&mut f, KeyCode::Tab); // the parties
    press(&mut f, KeyCode::Char('e'));
    let long = "9".repeat(101);
    for (name, text) in [("role", "friend"), ("phone", long.as_str()), ("gln", "12")] {
        set(&mut f, name, text, false);
    }
    walk(
        &mut f,
        &save_key(),
        &[
            ("role", Fix::To("customer")),
            ("phone", Fix::To("555-0100")),
            ("gln", Fix::To("")),
        ],
        false,
    );
    f.send(Input::ctrl('s'));
    assert!(ok(&f).contains("changed"));
}

#[test]
fn the_fda_form_names_its_wrong_fields_in_form_order() {
    let p = plant();
    let dir = tempfile::tempdir().unwrap();
    let there = dir.path().join("there.xlsx");
    std::fs::write(&there, "taken").unwrap();
    let mut a = app(&p);
    a.exports.dir = Some(dir.path().to_path_buf());
    let mut f = InApp::new(a, &p, |a| &a.exports.dialog.as_ref().unwrap().form);
    press(&mut f, KeyCode::Esc);
    type_in(&mut f, "f");
    for (name, text) in [
        ("lot", "NOPE-1"),
        ("from", "2026-02-30"),
        ("to", "soon"),
        ("items", "FL@UR"),
        ("foods", "some"),
        ("file", there.to_str().unwrap()),
    ] {
        set(&mut f, name, text, false);
    }
    let fresh = dir.path().join("fresh.xlsx");
    walk(
        &mut f,
        &save_key(),
        &[
            // Not a lot of ours, nor a supplier's: refused in the form, not by the worker.
            ("lot", Fix::To("f-1121")),
            ("from", Fix::To("2026-11-01")),
            ("to", Fix::To("2026-11-21")),
            ("items", Fix::To("FLOUR")),
            ("foods", Fix::To("all")),
            ("file", Fix::To(fresh.to_str().unwrap())),
        ],
        false,
    );
    // Items the export would not take are refused in the form too, before it starts.
    set(&mut f, "items", "NOPE", false);
    set(&mut f, "foods", "ftl", false);
    f.send(Input::ctrl('s'));
    assert_eq!(
        f.status().text,
        "items: no item NOPE; see Items/Parties (F7)"
    );
    set(&mut f, "items", "FLOUR", false);
    f.send(Input::ctrl('s'));
    assert!(
        f.status()
            .text
            .starts_with("items: item FLOUR is not on the Food Traceability List"),
        "{}",
        f.status().text
    );
    assert!(f.form().is_focused("items"));
    set(&mut f, "items", "EGGS", false);
    f.send(Input::ctrl('s'));
    assert_eq!(f.status().text, "Exporting for FDA…");
    assert!(
        f.a.exports.take_pending().is_some(),
        "the job is handed over"
    );
}

#[test]
fn the_shipping_kde_form_names_the_file_before_the_epcis_choice() {
    let p = plant();
    let dir = tempfile::tempdir().unwrap();
    let there = dir.path().join("there.csv");
    std::fs::write(&there, "taken").unwrap();
    let event =
        p.st.ship(NewShipment {
            allow_expired: false,
            customer: PartyId::parse("SHOP", "customer").unwrap(),
            date: today(),
            reference: None,
            documents: Default::default(),
            lines: vec![LotLine {
                lot: p.cookies_b.clone(),
                qty: Qty::from_units(1),
            }],
        })
        .unwrap();
    let mut a = app(&p);
    a.exports.dir = Some(dir.path().to_path_buf());
    let mut f = InApp::new(a, &p, |a| &a.exports.dialog.as_ref().unwrap().form);
    press(&mut f, KeyCode::F(4));
    f.a.ship.last_event = Some(event);
    f.send(Input::ctrl('g'));
    set(&mut f, "file", there.to_str().unwrap(), false);
    set(&mut f, "epcis", "maybe", false);
    let fresh = dir.path().join("fresh.csv");
    walk(
        &mut f,
        &save_key(),
        &[
            ("file", Fix::To(fresh.to_str().unwrap())),
            ("epcis", Fix::To("yes")),
        ],
        false,
    );
    f.send(Input::ctrl('s'));
    assert_eq!(f.status().text, "Writing the shipping KDEs…");
    assert!(
        f.a.exports.take_pending().is_some(),
        "the job is handed over"
    );
}

#[test]
fn the_complaint_names_its_wrong_fields_in_form_order() {
    let b = super::trace::bakery();
    let p = &b.p;
    let mut f = InApp::new(app(p), p, |a| &a.trace.start);
    press(&mut f, KeyCode::F(5));
    for (name, text) in [
        ("customer", "NOPE"),
        ("item", "NOPE"),
        ("from", "2026-02-30"),
        ("to", "soon"),
    ] {
        set(&mut f, name, text, false);
    }
    walk(
        &mut f,
        &save_key(),
        &[
            ("customer", Fix::To("SHOP")),
            ("item", Fix::To("COOKIE")),
            ("from", Fix::To("2026-11-01")),
            ("to", Fix::To("2026-11-30")),
        ],
        false,
    );
    f.send(Input::ctrl('s'));
    let s = f.status();
    assert!(s.text.contains("shipped to SHOP"), "{}", s.text);
    assert_eq!(
        f.a.trace.stage,
        crate::screens::trace::Stage::Pick,
        "the lots they got, to pick from"
    );
}

#[test]
fn the_mock_recall_count_names_its_wrong_fields_in_form_order() {
    let b = super::trace::bakery();
    let p = &b.p;
    let mut f = InApp::new(app(p), p, |a| &a.trace.prompt.as_ref().unwrap().form);
    press(&mut f, KeyCode::F(5));
    type_in(&mut f, p.eggs.as_str());
    press(&mut f, KeyCode::Enter);
    for c in ['d', 'd', 'm'] {
        press(&mut f, KeyCode::Char(c)); // forward, then the mass balance
    }
    f.send(Input::ctrl('s'));
    type_in(&mut f, "Q4 mock recall");
    press(&mut f, KeyCode::Enter);
    f.send(Input::ctrl('s'));
    for (name, text) in [
        ("lot", "??"),
        ("customer", "??"),
        ("on_hand", "x"),
        ("retrieved", "y"),
    ] {
        set(&mut f, name, text, false);
    }
    walk(
        &mut f,
        &save_key(),
        &[
            ("lot", Fix::To(p.cookies_a.as_str())),
            ("customer", Fix::To("")),
            ("on_hand", Fix::To("20")),
            ("retrieved", Fix::To("")),
        ],
        false,
    );
    f.send(Input::ctrl('s'));
    assert!(ok(&f).starts_with("Count saved"));
}

#[test]
fn the_guided_start_names_wrong_fields_in_form_order() {
    let mut f = FirstRun::new(
        Keymap::default_map(),
        Theme::new(false, false),
        "/srv/lotline/plant.redb",
        "maria",
    );
    let long = "9".repeat(101);
    set(&mut f, "phone", &long, false);
    set(&mut f, "gln", "12", false);
    walk(
        &mut f,
        &save_key(),
        &[
            ("name", Fix::To("Valley Bakery")),
            ("phone", Fix::To("555-0199")),
            ("gln", Fix::To("")),
        ],
        false,
    );
    f.send(Input::ctrl('s'));
    assert_eq!(f.setup.step, Step::Qa);
    f.send(Input::ctrl('s'));
    f.send(Input::ctrl('d')); // no items now
    assert_eq!(f.setup.step, Step::Parties);
    // The role is asked right after the name: it comes before the phone.
    set(&mut f, "id", "MILL", false);
    set(&mut f, "role", "friend", false);
    set(&mut f, "phone", &long, false);
    walk(
        &mut f,
        &save_key(),
        &[
            ("name", Fix::To("Prairie Mill")),
            ("role", Fix::To("supplier")),
            ("phone", Fix::To("555-0100")),
        ],
        false,
    );
    f.send(Input::ctrl('s'));
    assert_eq!(f.setup.parties.len(), 1, "{:?}", f.status);
}
