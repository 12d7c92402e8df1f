//! The Produce screen following a recipe, through the whole app: lines ticked, a lot off
//! the recipe refused at the scan, an input missing at close, a yield out of tolerance.
//! Snapshots at 80x24 and 40x16.

use super::*;
use crate::queue::Level;
use ratatui::crossterm::event::KeyCode;

const FULL: (u16, u16) = (80, 24);
const COMPACT: (u16, u16) = (40, 16);

fn enter(a: &mut App, p: &Plant, text: &str) {
    typed(a, p, text);
    keys(a, p, [Input::code(KeyCode::Enter)]);
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

/// Dough: 80 kg of flour and 2 dozen eggs per 100 kg, each within 15 %; yield within 5 %.
fn with_recipe(p: &Plant) {
    let line = |item: &str, qty: i64| RecipeLine {
        item: ItemCode::parse(item, "item").unwrap(),
        qty: Qty::from_units(qty),
        tolerance_pct: 15,
        substitutes: vec![],
    };
    p.st.add_recipe(NewRecipe {
        item: ItemCode::parse("DOUGH", "item").unwrap(),
        effective: day("2026-11-01"),
        per: Qty::from_units(100),
        yield_tolerance_pct: 5,
        lines: vec![line("FLOUR", 80), line("EGGS", 2)],
        reason: "house recipe".into(),
    })
    .unwrap();
}

/// Produce open on DOUGH, line L1, at the first input lot.
fn dough(p: &Plant) -> App {
    with_recipe(p);
    let mut a = app(p);
    keys(&mut a, p, [Input::code(KeyCode::F(3))]);
    // Output item, the references (a second one and the reason for none left empty), the
    // line, the date.
    for t in ["dough", "WO:3001", "", "", "L1", ""] {
        enter(&mut a, p, t);
    }
    a
}

#[test]
fn the_recipes_inputs_are_ticked_as_lots_are_added() {
    let p = plant();
    let mut a = dough(&p);
    enter(&mut a, &p, p.flour.as_str());
    enter(&mut a, &p, "80");
    assert_eq!(a.produce.recipe.as_ref().map(|r| r.version), Some(1));
    let text = screen(&a, 80, 24);
    assert!(text.contains("[x] FLOUR"), "{text}");
    assert!(text.contains("[ ] EGGS"), "{text}");
    enter(&mut a, &p, p.eggs.as_str());
    enter(&mut a, &p, "2");
    // Done with inputs; the output quantity typed scales what the recipe expects.
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    typed(&mut a, &p, "100");
    snap("produce_recipe_ticked", &a, FULL);
    snap("produce_recipe_ticked", &a, COMPACT);
    // Two references and two lines leave one row for the ticks at 80x24: they sit side by
    // side there, every input still shown; a taller terminal gives each its own row.
    let text = screen(&a, 80, 24);
    assert!(text.contains("[x] FLOUR 80 kg of 80 kg ±15 %"), "{text}");
    assert!(text.contains("[x] EGGS 2 dozen of 2 dozen ±15 %"), "{text}");
    let text = screen(&a, 80, 28);
    assert!(text.contains("  [x] EGGS"), "{text}");
    assert!(text.contains("of 80 kg"), "{text}");
}

#[test]
fn a_lot_off_the_recipe_is_refused_at_the_scan_naming_item_and_recipe() {
    let p = plant();
    let mut a = dough(&p);
    enter(&mut a, &p, p.flour.as_str());
    enter(&mut a, &p, "80");
    keys(&mut a, &p, [Input::Scan(p.sugar.to_string())]);
    assert_eq!(level(&a), Some(Level::Error));
    assert_eq!(
        status(&a),
        format!(
            "input: SUGAR is not in DOUGH's recipe (version 1); QA may let lot {} in: give the reason below first, then scan it again",
            p.sugar
        )
    );
    assert_eq!(a.produce.entry.lines.len(), 1);
    snap("produce_recipe_refused", &a, FULL);
    snap("produce_recipe_refused", &a, COMPACT);
}

#[test]
fn closing_with_an_input_missing_asks_for_the_reason_and_records_it() {
    let p = plant();
    let mut a = dough(&p);
    enter(&mut a, &p, p.flour.as_str());
    enter(&mut a, &p, "80");
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    enter(&mut a, &p, "100");
    keys(&mut a, &p, [Input::ctrl('s')]);
    assert_eq!(
        status(&a),
        "reason: EGGS is missing (2 expected); give the reason to close the batch anyway (it is recorded on the batch)"
    );
    assert_eq!(
        a.produce.entry.form.focused().map(|f| f.name),
        Some("reason")
    );
    snap("produce_recipe_missing", &a, FULL);
    snap("produce_recipe_missing", &a, COMPACT);
    typed(&mut a, &p, "eggs short; egg-free trial");
    keys(&mut a, &p, [Input::ctrl('s')]);
    assert!(
        status(&a).starts_with("Batch closed: lot"),
        "{}",
        status(&a)
    );
    let y = p.st.yields(YieldFilter::default()).unwrap();
    assert_eq!(
        y[0].record.reason.as_deref(),
        Some("eggs short; egg-free trial")
    );
}

#[test]
fn a_yield_out_of_tolerance_is_said_when_the_batch_closes() {
    let p = plant();
    let mut a = dough(&p);
    enter(&mut a, &p, p.flour.as_str());
    enter(&mut a, &p, "80");
    enter(&mut a, &p, p.eggs.as_str());
    enter(&mut a, &p, "2");
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    enter(&mut a, &p, "90");
    keys(&mut a, &p, [Input::ctrl('s')]);
    assert_eq!(level(&a), Some(Level::Warn), "{}", status(&a));
    assert!(
        status(&a).ends_with("from 2 inputs; yield 90.0 %, OUTSIDE ±5 %"),
        "{}",
        status(&a)
    );
    snap("produce_recipe_yield", &a, FULL);
    snap("produce_recipe_yield", &a, COMPACT);
}

#[test]
fn the_trace_details_show_a_lots_allergens_and_where_each_came_from() {
    let p = plant();
    let declare = |item: &str, names: &[&str]| {
        p.st.declare_allergens(
            ItemCode::parse(item, "item").unwrap(),
            names.iter().map(|n| n.to_string()).collect(),
            "spec sheet".into(),
        )
        .unwrap();
    };
    declare("FLOUR", &["wheat"]);
    declare("EGGS", &["egg"]);
    declare("DOUGH", &["wheat"]);
    let flour = receive(
        &p.st,
        "FLOUR",
        "MILL",
        "M-90",
        100,
        "2026-11-20",
        "2027-11-20",
    );
    let eggs = receive(
        &p.st,
        "EGGS",
        "FARM",
        "F-90",
        10,
        "2026-11-20",
        "2026-12-20",
    );
    let made =
        p.st.produce(NewBatch {
            allow_expired: false,
            item: ItemCode::parse("DOUGH", "item").unwrap(),
            qty: Qty::from_units(50),
            unit: None,
            date: today(),
            line: None,
            // Eggs are on the Food Traceability List: the batch names its document.
            reference: Some(lotline_domain::Reference::parse("WO:3002", "ref").unwrap()),
            documents: Default::default(),
            expiry: None,
            inputs: vec![
                LotLine {
                    lot: flour.clone(),
                    qty: Qty::from_units(40),
                },
                LotLine {
                    lot: eggs.clone(),
                    qty: Qty::from_units(2),
                },
            ],
        })
        .unwrap();
    assert_eq!(
        made.hold.as_deref(),
        Some(format!("contains EGG via {eggs} EGGS, not declared on DOUGH").as_str())
    );
    let mut a = app(&p);
    keys(&mut a, &p, [Input::code(KeyCode::F(5))]);
    enter(&mut a, &p, made.code.as_str());
    let text = screen(&a, 80, 24);
    assert!(text.contains("Contains Egg, Wheat"), "{text}");
    assert!(text.contains("egg (NOT DECLARED): via"), "{text}");
    assert!(text.contains("wheat: declared on DOUGH,"), "{text}");
}

/// Eggs and dough declared as carrying egg, a lot of eggs received, and a dough batch made
/// from flour and those eggs (92 kg of 100 expected); the app is left on the Lots screen.
/// Returns the app, the eggs' lot and the dough's.
fn egg_dough(p: &Plant) -> (App, LotCode, LotCode) {
    for item in ["EGGS", "DOUGH"] {
        p.st.declare_allergens(
            ItemCode::parse(item, "item").unwrap(),
            vec!["egg".into()],
            "spec sheet".into(),
        )
        .unwrap();
    }
    let eggs = receive(
        &p.st,
        "EGGS",
        "FARM",
        "F-91",
        10,
        "2026-11-20",
        "2026-12-20",
    );
    let mut a = dough(p);
    enter(&mut a, p, p.flour.as_str());
    enter(&mut a, p, "80");
    enter(&mut a, p, eggs.as_str());
    enter(&mut a, p, "2");
    keys(&mut a, p, [Input::code(KeyCode::Enter)]);
    enter(&mut a, p, "92");
    keys(&mut a, p, [Input::ctrl('s')]);
    let made = a.produce.last.clone().unwrap().0;
    keys(&mut a, p, [Input::code(KeyCode::F(6))]);
    (a, eggs, made)
}

/// The Lots screen's results: each lot and what it was found by.
fn found(a: &App) -> Vec<(LotCode, &'static str)> {
    a.lots
        .results
        .iter()
        .map(|f| (f.lot.code.clone(), f.matched))
        .collect()
}

#[test]
fn the_lots_screen_finds_every_lot_carrying_an_allergen_and_shows_a_batchs_yield() {
    let p = plant();
    let (mut a, eggs, made) = egg_dough(&p);
    enter(&mut a, &p, "eggs");
    let found = found(&a);
    // The egg lots by their item, and the dough made with them because it carries egg.
    assert!(found.contains(&(eggs.clone(), "item")), "{found:?}");
    assert!(found.contains(&(made.clone(), "allergen")), "{found:?}");
    // Its history says what it was made against and its yield.
    let h = p.st.lot_history(made).unwrap();
    let line: Vec<String> = h
        .events
        .iter()
        .map(|e| crate::screens::lots::describe(&e.event, &h.lot, false))
        .collect();
    assert!(
        line.iter().any(|l| l.contains(
            "made against DOUGH's recipe version 1: 92 kg made of 100 kg expected, yield 92.0 % (outside ±5 %)"
        )),
        "{line:?}"
    );
}

#[test]
fn the_lots_screens_allergen_filter_lists_only_carriers_and_a_batch_shows_its_yield() {
    let p = plant();
    let (mut a, eggs, made) = egg_dough(&p);
    // "eggs" alone also finds the EGGS item's lots; the filter finds only the carriers,
    // the dough made from them first.
    enter(&mut a, &p, "contains egg");
    let found = found(&a);
    assert_eq!(
        found,
        vec![(made.clone(), "allergen"), (eggs.clone(), "allergen")],
        "{found:?}"
    );
    assert!(
        status(&a).ends_with("(carrying egg, finished lots first)"),
        "{}",
        status(&a)
    );
    snap("lots_contains_egg", &a, FULL);
    snap("lots_contains_egg", &a, COMPACT);
    // An allergen not on the plant's list says so and lists nothing.
    keys(&mut a, &p, [Input::code(KeyCode::Char('/'))]);
    keys(&mut a, &p, [Input::ctrl('u')]);
    enter(&mut a, &p, "contains: durian");
    assert!(a.lots.results.is_empty());
    assert_eq!(level(&a), Some(Level::Error), "{}", status(&a));
    assert!(status(&a).contains("durian"), "{}", status(&a));
    // The batch's history leads with what it carries and its yield.
    keys(&mut a, &p, [Input::ctrl('u')]);
    enter(&mut a, &p, made.as_str());
    let text = screen(&a, 80, 24);
    assert!(text.contains("Contains Egg"), "{text}");
    assert!(
        text.contains("Yield 92.0 % of 100 kg expected (outside ±5 %), recipe v1"),
        "{text}"
    );
    snap("lots_batch_yield", &a, FULL);
    snap("lots_batch_yield", &a, COMPACT);
}

#[test]
fn the_items_screen_shows_an_items_recipe_and_its_versions_in_its_history() {
    let p = plant();
    with_recipe(&p);
    let mut a = app(&p);
    keys(&mut a, &p, [Input::code(KeyCode::F(7))]);
    keys(&mut a, &p, [Input::code(KeyCode::Home)]);
    for _ in 0..20 {
        if a.master.selected_key().as_deref() == Some("DOUGH") {
            break;
        }
        keys(&mut a, &p, [Input::code(KeyCode::Down)]);
    }
    keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    let text = screen(&a, 80, 24);
    assert!(
        text.contains("Recipe v1 from 2026-11-01 (per 100, yield ±5 %):"),
        "{text}"
    );
    assert!(text.contains("  FLOUR 80 ±15 %"), "{text}");
    assert!(
        text.contains("recipe of DOUGH version 1 in effect from 2026-11-01:"),
        "{text}"
    );
}

/// A station that cannot read any lot's allergens (a server that went away between two
/// calls, a damaged table): everything else as the plant's.
struct NoAllergens<'a>(&'a Local);

impl lotline_station::Station for NoAllergens<'_> {
    fn call(
        &self,
        r: lotline_station::Request,
    ) -> Result<lotline_station::Reply, lotline_station::StationError> {
        if let lotline_station::Request::Query(lotline_domain::api::Query::LotAllergens(_)) = r {
            return Err(lotline_station::StationError {
                kind: lotline_station::ErrorKind::Database,
                field: None,
                message: "the database file is damaged; run `lotline check`".into(),
            });
        }
        self.0.call(r)
    }
}

#[test]
fn a_lots_allergens_that_cannot_be_read_are_said_so_never_shown_as_none() {
    let p = plant();
    let (mut a, _eggs, made) = egg_dough(&p);
    let broken = NoAllergens(&p.st);
    for i in Input::typed(made.as_str()) {
        a.handle(i, &broken);
    }
    a.handle(Input::code(KeyCode::Enter), &broken);
    let text = screen(&a, 80, 24);
    assert!(
        text.contains(
            "Allergens could not be read: the database file is damaged; run `lotline check`"
        ),
        "{text}"
    );
    assert!(!text.contains("Contains"), "{text}");
    // Opened again once the station answers: the allergens are back.
    a.handle(Input::code(KeyCode::Esc), &p.st);
    a.handle(Input::code(KeyCode::Enter), &p.st);
    let text = screen(&a, 80, 24);
    assert!(text.contains("Contains Egg"), "{text}");
}
