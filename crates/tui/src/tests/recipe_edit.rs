//! The Items screen's recipe editor through the whole app: a first recipe typed line by
//! line, a new version made from the newest with its reason, refusals that name the field
//! or select the line and keep everything typed, the admin's role, Esc twice. Snapshots at
//! 80x24 and 40x16.

use super::*;
use crate::keymap::ScreenId;
use crate::queue::Level;
use crate::screens::master::Focus;
use crate::screens::recipe_edit::RecipeEditor;
use ratatui::crossterm::event::KeyCode;

const FULL: (u16, u16) = (80, 24);
const COMPACT: (u16, u16) = (40, 16);

fn key(a: &mut App, p: &Plant, c: KeyCode) {
    keys(a, p, [Input::code(c)]);
}

fn enter(a: &mut App, p: &Plant, text: &str) {
    typed(a, p, text);
    key(a, p, KeyCode::Enter);
}

fn status(a: &App) -> (Level, String) {
    let s = a
        .status
        .clone()
        .unwrap_or_else(|| crate::queue::Status::info(""));
    (s.level, s.text)
}

fn code(s: &str) -> ItemCode {
    ItemCode::parse(s, "item").unwrap()
}

fn dough_recipes(p: &Plant) -> Vec<Recipe> {
    p.st.recipes(Some(code("DOUGH"))).unwrap()
}

/// Dough, version 1: 80 kg of flour (or sugar) and 2 dozen eggs per 100 kg, each within
/// 15 %.
fn house_recipe(p: &Plant) {
    let line = |item: &str, qty: i64, subs: &[&str]| RecipeLine {
        item: code(item),
        qty: Qty::from_units(qty),
        tolerance_pct: 15,
        substitutes: subs.iter().map(|s| code(s)).collect(),
    };
    p.st.add_recipe(NewRecipe {
        item: code("DOUGH"),
        effective: day("2026-11-01"),
        per: Qty::from_units(100),
        yield_tolerance_pct: 5,
        lines: vec![line("FLOUR", 80, &["SUGAR"]), line("EGGS", 2, &[])],
        reason: "house recipe".into(),
    })
    .unwrap();
}

/// The Items screen with `item` selected, its recipe editor opened with `r`.
fn editor_on(p: &Plant, item: &str) -> App {
    let mut a = app(p);
    key(&mut a, p, KeyCode::F(7));
    assert_eq!(a.screen, ScreenId::Master);
    key(&mut a, p, KeyCode::Home);
    for _ in 0..20 {
        if a.master.selected_key().as_deref() == Some(item) {
            break;
        }
        key(&mut a, p, KeyCode::Down);
    }
    assert_eq!(a.master.selected_key().as_deref(), Some(item));
    key(&mut a, p, KeyCode::Char('r'));
    assert!(a.master.recipe.is_some(), "{:?}", status(&a));
    assert!(a.wants_text());
    a
}

fn ed(a: &App) -> &RecipeEditor {
    a.master.recipe.as_ref().expect("the recipe editor is open")
}

/// Tab (or Shift+Tab, for one above the cursor) to the field called `name`.
fn to_field(a: &mut App, p: &Plant, name: &str) {
    for k in [KeyCode::Tab, KeyCode::BackTab] {
        for _ in 0..12 {
            if ed(a).form.is_focused(name) {
                return;
            }
            key(a, p, k);
        }
    }
    panic!("no field {name}");
}

fn retype(a: &mut App, p: &Plant, text: &str) {
    keys(a, p, [Input::ctrl('u')]);
    typed(a, p, text);
}

#[test]
fn an_admin_types_an_items_first_recipe_line_by_line_and_saves_it() {
    let p = plant();
    let mut a = editor_on(&p, "DOUGH");
    assert_eq!(ed(&a).title(), "First recipe of DOUGH");
    assert!(!a.master.is_dirty(), "the defaults are not unsaved input");
    let f = &ed(&a).form;
    assert_eq!(f.value("per"), "1");
    assert_eq!(f.value("effective"), "2026-11-21");
    assert_eq!(f.value("reason"), "first version");
    // The batch size, then on through the version's fields (Enter) to the first input.
    retype(&mut a, &p, "100");
    for _ in 0..4 {
        key(&mut a, &p, KeyCode::Enter);
    }
    assert!(
        ed(&a).form.is_focused("input"),
        "the empty lines are skipped"
    );
    // The input item by part of its name, completed from the pick list; its unit shown.
    typed(&mut a, &p, "all-purp");
    key(&mut a, &p, KeyCode::Enter);
    assert_eq!(ed(&a).form.value("input"), "FLOUR");
    key(&mut a, &p, KeyCode::Enter);
    assert!(ed(&a).form.is_focused("qty"));
    // The input's name beside it, and the unit its quantity is in.
    let text = screen(&a, 80, 24);
    assert!(text.contains("All-purpose flour"), "{text}");
    typed(&mut a, &p, "80");
    key(&mut a, &p, KeyCode::Tab);
    typed(&mut a, &p, "10");
    key(&mut a, &p, KeyCode::Tab);
    enter(&mut a, &p, "sugar");
    assert_eq!(ed(&a).lines.len(), 1, "{:?}", status(&a));
    assert!(ed(&a).form.is_focused("input"), "ready for the next line");
    // The second line: item and quantity, Enter adds it with the default tolerance.
    enter(&mut a, &p, "EGGS");
    enter(&mut a, &p, "2");
    assert_eq!(ed(&a).lines.len(), 2);
    let text = screen(&a, 80, 24);
    assert!(text.contains("FLOUR"), "{text}");
    assert!(text.contains("2 dozen"), "{text}");
    keys(&mut a, &p, [Input::ctrl('s')]);
    assert_eq!(
        status(&a),
        (Level::Ok, "DOUGH recipe version 1 saved".to_string())
    );
    assert!(a.master.recipe.is_none());
    let v = dough_recipes(&p);
    assert_eq!(v.len(), 1);
    let r = &v[0];
    assert_eq!(r.version, 1);
    assert_eq!(
        r.recipe,
        NewRecipe {
            item: code("DOUGH"),
            effective: today(),
            per: Qty::from_units(100),
            yield_tolerance_pct: 5,
            lines: vec![
                RecipeLine {
                    item: code("FLOUR"),
                    qty: Qty::from_units(80),
                    tolerance_pct: 10,
                    substitutes: vec![code("SUGAR")],
                },
                RecipeLine {
                    item: code("EGGS"),
                    qty: Qty::from_units(2),
                    tolerance_pct: 5,
                    substitutes: vec![],
                },
            ],
            reason: "first version".into(),
        }
    );
    // The details show it at once, in the recipe and the history.
    assert_eq!(a.master.focus, Focus::Details);
    let text = screen(&a, 80, 24);
    assert!(
        text.contains("Recipe v1 from 2026-11-21 (per 100, yield ±5 %):"),
        "{text}"
    );
    assert!(text.contains("  FLOUR 80 ±10 % or SUGAR"), "{text}");
    assert!(text.contains("recipe of DOUGH version 1"), "{text}");
}

#[test]
fn a_new_version_starts_from_the_newest_and_needs_its_reason() {
    let p = plant();
    house_recipe(&p);
    let mut a = editor_on(&p, "DOUGH");
    assert_eq!(ed(&a).title(), "Recipe of DOUGH (new version 2)");
    assert_eq!(ed(&a).lines.len(), 2);
    assert_eq!(ed(&a).form.value("per"), "100");
    assert_eq!(ed(&a).form.value("reason"), "", "a new version says why");
    snap("recipe_edit_version", &a, FULL);
    snap("recipe_edit_version", &a, COMPACT);
    // Past the version's four fields, the lines: the second one selected.
    for _ in 0..4 {
        key(&mut a, &p, KeyCode::Tab);
    }
    key(&mut a, &p, KeyCode::Down);
    assert_eq!(ed(&a).selected, 1);
    snap("recipe_edit_lines", &a, FULL);
    snap("recipe_edit_lines", &a, COMPACT);
    // Saved as it stands: refused for the missing reason, the field marked, nothing lost.
    keys(&mut a, &p, [Input::ctrl('s')]);
    assert_eq!(
        status(&a),
        (
            Level::Error,
            "reason: say why the recipe changes; it is kept with the version".to_string()
        )
    );
    assert!(ed(&a).form.get("reason").error);
    assert!(ed(&a).form.is_focused("reason"));
    assert_eq!(ed(&a).lines.len(), 2);
    snap("recipe_edit_refused", &a, FULL);
    snap("recipe_edit_refused", &a, COMPACT);
    typed(&mut a, &p, "less egg");
    // Into the lines: the second one back into the fields, its quantity changed, put back
    // in its place.
    key(&mut a, &p, KeyCode::Tab);
    assert_eq!(ed(&a).form.slot(), crate::form::Slot::Lines);
    assert_eq!(ed(&a).selected, 1);
    key(&mut a, &p, KeyCode::Enter);
    assert_eq!(ed(&a).lines.len(), 1);
    assert_eq!(ed(&a).form.value("input"), "EGGS");
    assert_eq!(ed(&a).form.value("tolerance"), "15");
    assert!(ed(&a).form.is_focused("qty"));
    retype(&mut a, &p, "1.5");
    key(&mut a, &p, KeyCode::Enter);
    assert_eq!(ed(&a).lines.len(), 2);
    assert_eq!(ed(&a).lines[1].item, code("EGGS"));
    // A date before version 1 takes effect: the store's refusal marks the field.
    to_field(&mut a, &p, "effective");
    retype(&mut a, &p, "2026-10-01");
    keys(&mut a, &p, [Input::ctrl('s')]);
    let (level, text) = status(&a);
    assert_eq!(level, Level::Error);
    assert!(
        text.starts_with("effective: 2026-10-01 is before version 1 takes effect (2026-11-01)"),
        "{text}"
    );
    assert!(ed(&a).form.get("effective").error);
    assert_eq!(dough_recipes(&p).len(), 1);
    retype(&mut a, &p, "today");
    keys(&mut a, &p, [Input::ctrl('s')]);
    assert_eq!(
        status(&a),
        (Level::Ok, "DOUGH recipe version 2 saved".to_string())
    );
    let v = dough_recipes(&p);
    assert_eq!(v.len(), 2);
    let n = &v[1].recipe;
    assert_eq!(v[1].version, 2);
    assert_eq!(n.reason, "less egg");
    assert_eq!(n.effective, today());
    assert_eq!(n.lines[0], v[0].recipe.lines[0], "kept as it was");
    assert_eq!(n.lines[1].qty.to_string(), "1.5");
    assert_eq!(n.lines[1].tolerance_pct, 15);
    let text = screen(&a, 80, 24);
    assert!(text.contains("Recipe v2 from 2026-11-21"), "{text}");
}

/// A line taken back into the fields whose fields are then emptied is not lost: saving, or
/// taking another line back, puts it back as it was (C-d is what removes a line).
#[test]
fn a_line_taken_back_and_emptied_goes_back_as_it_was() {
    let p = plant();
    house_recipe(&p);
    let mut a = editor_on(&p, "DOUGH");
    to_field(&mut a, &p, "reason");
    typed(&mut a, &p, "same again");
    key(&mut a, &p, KeyCode::Tab);
    assert_eq!(ed(&a).form.slot(), crate::form::Slot::Lines);
    // The first line back into the fields, then every field emptied.
    key(&mut a, &p, KeyCode::Enter);
    assert_eq!(ed(&a).lines.len(), 1);
    for f in ["input", "qty", "tolerance", "substitutes"] {
        to_field(&mut a, &p, f);
        keys(&mut a, &p, [Input::ctrl('u')]);
    }
    // Taking the other line back puts the first back where it was.
    // Up from the line fields (Tab stops at the button).
    for _ in 0..12 {
        if ed(&a).form.slot() == crate::form::Slot::Lines {
            break;
        }
        key(&mut a, &p, KeyCode::BackTab);
    }
    key(&mut a, &p, KeyCode::Down);
    assert_eq!(ed(&a).form.slot(), crate::form::Slot::Lines);
    key(&mut a, &p, KeyCode::Enter);
    assert_eq!(ed(&a).lines.len(), 1);
    assert_eq!(ed(&a).lines[0].item, code("FLOUR"));
    assert_eq!(ed(&a).form.value("input"), "EGGS");
    // Emptied too, then saved: both lines are in the new version, as they were.
    for f in ["input", "qty", "tolerance", "substitutes"] {
        to_field(&mut a, &p, f);
        keys(&mut a, &p, [Input::ctrl('u')]);
    }
    keys(&mut a, &p, [Input::ctrl('s')]);
    assert_eq!(
        status(&a),
        (Level::Ok, "DOUGH recipe version 2 saved".to_string())
    );
    let v = dough_recipes(&p);
    assert_eq!(v[1].recipe.lines, v[0].recipe.lines);
}

#[test]
fn a_refused_line_or_save_names_the_field_and_keeps_the_form() {
    let p = plant();
    let mut a = editor_on(&p, "DOUGH");
    to_field(&mut a, &p, "input");
    // The output item as its own input: in the recipe's words, at the input field.
    enter(&mut a, &p, "dough");
    typed(&mut a, &p, "1");
    keys(&mut a, &p, [Input::ctrl('s')]);
    let (level, text) = status(&a);
    assert_eq!(level, Level::Error);
    assert_eq!(
        text,
        "input: DOUGH cannot be an input of its own recipe; rework (a lot of DOUGH fed back in) is always accepted"
    );
    assert!(ed(&a).form.get("input").error);
    assert_eq!(ed(&a).form.value("qty"), "1", "kept as typed");
    assert!(dough_recipes(&p).is_empty());
    // A quantity of nothing.
    to_field(&mut a, &p, "input");
    retype(&mut a, &p, "FLOUR");
    to_field(&mut a, &p, "qty");
    retype(&mut a, &p, "0");
    key(&mut a, &p, KeyCode::Enter);
    assert_eq!(
        status(&a),
        (
            Level::Error,
            "qty: must be greater than zero (got 0)".to_string()
        )
    );
    assert!(ed(&a).form.get("qty").error);
    assert!(ed(&a).lines.is_empty());
    retype(&mut a, &p, "80");
    key(&mut a, &p, KeyCode::Enter);
    // The same item twice is the whole recipe's rule: the line it names is selected.
    enter(&mut a, &p, "FLOUR");
    enter(&mut a, &p, "5");
    assert_eq!(ed(&a).lines.len(), 2);
    keys(&mut a, &p, [Input::ctrl('s')]);
    let (level, text) = status(&a);
    assert_eq!(level, Level::Error);
    assert!(
        text.starts_with("input 2: FLOUR is named twice in the recipe"),
        "{text}"
    );
    assert!(text.ends_with("Enter on the line takes it back into the fields to change it"));
    assert_eq!(ed(&a).selected, 1);
    assert_eq!(ed(&a).form.slot(), crate::form::Slot::Lines);
    // Removed, the rest saves.
    keys(&mut a, &p, [Input::ctrl('d')]);
    assert_eq!(ed(&a).lines.len(), 1);
    assert_eq!(
        status(&a),
        (Level::Info, "Removed line 2: FLOUR 5 kg".to_string())
    );
    keys(&mut a, &p, [Input::ctrl('s')]);
    assert_eq!(status(&a).0, Level::Ok, "{:?}", status(&a));
    assert_eq!(dough_recipes(&p)[0].recipe.lines.len(), 1);
}

#[test]
fn an_unknown_substitute_or_input_is_refused_where_it_was_typed() {
    let p = plant();
    let mut a = editor_on(&p, "COOKIE");
    to_field(&mut a, &p, "input");
    enter(&mut a, &p, "NOPE");
    assert_eq!(
        status(&a),
        (Level::Error, "input: no item matches 'NOPE'".to_string())
    );
    retype(&mut a, &p, "DOUGH");
    key(&mut a, &p, KeyCode::Enter);
    typed(&mut a, &p, "3");
    to_field(&mut a, &p, "substitutes");
    enter(&mut a, &p, "FLOUR, GHOST");
    let (level, text) = status(&a);
    assert_eq!(level, Level::Error);
    assert_eq!(
        text,
        "substitutes: there is no item GHOST; give item codes as the Items list has them"
    );
    assert!(ed(&a).form.get("substitutes").error);
    snap("recipe_edit_line_refused", &a, FULL);
    snap("recipe_edit_line_refused", &a, COMPACT);
}

#[test]
fn an_operator_may_not_open_the_recipe_editor() {
    let (_dir, clerk) = clerk_on(plant());
    let mut a = app_on(&clerk);
    a.handle(Input::code(KeyCode::F(7)), &clerk);
    a.handle(Input::code(KeyCode::Char('r')), &clerk);
    assert!(a.master.recipe.is_none());
    let s = a.status.clone().unwrap();
    assert_eq!(s.level, Level::Error);
    assert!(
        s.text.contains("cory is an operator here") && s.text.contains("admin role"),
        "{}",
        s.text
    );
    // The key stays in the footer for everyone, greyed for them.
    assert!(screen(&a, 100, 24).contains("r recipe"));
}

#[test]
fn esc_twice_drops_a_changed_recipe_and_once_closes_an_unchanged_one() {
    let p = plant();
    house_recipe(&p);
    let mut a = editor_on(&p, "DOUGH");
    key(&mut a, &p, KeyCode::Esc);
    assert!(a.master.recipe.is_none(), "nothing changed: closed at once");
    key(&mut a, &p, KeyCode::Char('r'));
    to_field(&mut a, &p, "reason");
    typed(&mut a, &p, "half done");
    keys(&mut a, &p, [Input::ctrl('d')]);
    assert_eq!(ed(&a).lines.len(), 1);
    key(&mut a, &p, KeyCode::Esc);
    assert!(a.master.recipe.is_some(), "kept after one Esc");
    assert_eq!(status(&a).0, Level::Warn);
    assert_eq!(a.unsaved(), vec!["Items/Parties"]);
    key(&mut a, &p, KeyCode::Esc);
    assert!(a.master.recipe.is_none());
    assert_eq!(
        status(&a),
        (
            Level::Info,
            "Nothing saved: DOUGH's recipe is as it was".to_string()
        )
    );
    assert_eq!(dough_recipes(&p).len(), 1);
    assert!(a.unsaved().is_empty());
}

#[test]
fn a_saved_version_is_what_produce_follows_at_once() {
    let p = plant();
    house_recipe(&p);
    let mut a = app(&p);
    // Produce open on DOUGH, following version 1.
    key(&mut a, &p, KeyCode::F(3));
    enter(&mut a, &p, "dough");
    assert_eq!(a.produce.recipe.as_ref().map(|r| r.version), Some(1));
    key(&mut a, &p, KeyCode::F(7));
    key(&mut a, &p, KeyCode::Home);
    while a.master.selected_key().as_deref() != Some("DOUGH") {
        key(&mut a, &p, KeyCode::Down);
    }
    key(&mut a, &p, KeyCode::Char('r'));
    to_field(&mut a, &p, "reason");
    typed(&mut a, &p, "no sugar");
    keys(&mut a, &p, [Input::ctrl('s')]);
    assert_eq!(status(&a).0, Level::Ok, "{:?}", status(&a));
    assert_eq!(a.produce.recipe.as_ref().map(|r| r.version), Some(2));
}
