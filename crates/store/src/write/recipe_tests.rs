//! Recipes, allergens, changeovers and yields against a real redb file.

use super::super::test_util::*;
use super::super::{Store, StoreError};
use chrono::{Days, NaiveDate};
use lotline_domain::api::Command;
use lotline_domain::*;
use proptest::prelude::*;

fn item(c: &str) -> ItemCode {
    ItemCode::parse(c, "item").unwrap()
}

fn q(s: &str) -> Qty {
    s.parse().unwrap()
}

fn apply(s: &Store, c: Command) -> Result<super::Applied, StoreError> {
    s.apply(c, &stamp(), today())
}

fn declare(s: &Store, code: &str, allergens: &[&str]) {
    apply(
        s,
        Command::DeclareAllergens {
            item: item(code),
            allergens: allergens.iter().map(|a| a.to_string()).collect(),
            reason: "spec sheet".into(),
        },
    )
    .unwrap();
}

fn recipe(out: &str, effective: NaiveDate, lines: &[(&str, &str, &[&str])]) -> NewRecipe {
    NewRecipe {
        item: item(out),
        effective,
        per: q("100"),
        yield_tolerance_pct: 5,
        lines: lines
            .iter()
            .map(|(i, qty, subs)| RecipeLine {
                item: item(i),
                qty: q(qty),
                tolerance_pct: 10,
                substitutes: subs.iter().map(|s| item(s)).collect(),
            })
            .collect(),
        reason: "new product".into(),
    }
}

fn batch(out: &str, qty: &str, line: Option<&str>, inputs: Vec<LotLine>) -> NewBatch {
    NewBatch {
        item: item(out),
        qty: q(qty),
        unit: None,
        date: today(),
        line: line.map(str::to_string),
        reference: None,
        documents: Default::default(),
        expiry: None,
        inputs,
        allow_expired: false,
    }
}

fn make(s: &Store, out: &str, qty: &str, line: Option<&str>, inputs: Vec<LotLine>) -> api::Created {
    made(s, batch(out, qty, line, inputs))
}

fn make_err(s: &Store, out: &str, qty: &str, line: Option<&str>, inputs: Vec<LotLine>) -> String {
    made_err(s, batch(out, qty, line, inputs))
}

fn made(s: &Store, b: NewBatch) -> api::Created {
    apply(s, Command::Produce(b)).unwrap().created().unwrap()
}

fn ql(lot: &LotCode, qty: &str) -> LotLine {
    LotLine {
        lot: lot.clone(),
        qty: q(qty),
    }
}

fn names(s: &Store, lot: &LotCode) -> Vec<String> {
    s.lot_allergens(lot)
        .unwrap()
        .sources
        .into_iter()
        .map(|a| a.allergen)
        .collect()
}

fn clean(s: &Store) {
    let report = s.check().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

/// Flour (wheat), eggs (egg), butter (milk), peanut butter (peanuts), chips; dough and
/// cookies made of them; one supplier.
/// Flour and peanut butter received from the mill: what the tests' cookies are made of.
fn flour_and_peanut_butter(s: &Store) -> (LotCode, LotCode) {
    (
        receive(s, "FLOUR", "MILL", "F1", 500),
        receive(s, "PEANUT-BUTTER", "MILL", "P1", 50),
    )
}

/// 20 of the flour and 5 of the peanut butter: a cookie batch that carries peanuts.
fn peanut_cookie(flour: &LotCode, pb: &LotCode) -> Vec<LotLine> {
    vec![ql(flour, "20"), ql(pb, "5")]
}

fn kitchen() -> (tempfile::TempDir, Store) {
    let (d, s) = temp_store();
    for (code, kind) in [
        ("FLOUR", ItemKind::Ingredient),
        ("EGGS", ItemKind::Ingredient),
        ("BUTTER", ItemKind::Ingredient),
        ("PEANUT-BUTTER", ItemKind::Ingredient),
        ("CHIPS", ItemKind::Ingredient),
        ("CHIPS-B", ItemKind::Ingredient),
        ("DOUGH", ItemKind::Intermediate),
        ("COOKIE", ItemKind::Finished),
        ("PB-COOKIE", ItemKind::Finished),
    ] {
        add_item(&s, code, Unit::Kg, kind);
    }
    add_party(&s, "MILL", Role::Supplier);
    declare(&s, "FLOUR", &["wheat"]);
    declare(&s, "EGGS", &["egg"]);
    declare(&s, "BUTTER", &["milk"]);
    declare(&s, "PEANUT-BUTTER", &["peanut"]);
    declare(&s, "DOUGH", &["wheat", "egg", "milk"]);
    declare(&s, "COOKIE", &["wheat", "egg", "milk"]);
    declare(&s, "PB-COOKIE", &["wheat", "egg", "milk", "peanuts"]);
    (d, s)
}

#[test]
fn a_lot_carries_its_items_declaration_and_its_inputs_through_three_levels_and_rework() {
    let (_d, s) = kitchen();
    let flour = receive(&s, "FLOUR", "MILL", "F1", 500);
    let eggs = receive(&s, "EGGS", "MILL", "E1", 100);
    let butter = receive(&s, "BUTTER", "MILL", "B1", 100);
    let chips = receive(&s, "CHIPS", "MILL", "C1", 100);
    assert_eq!(names(&s, &flour), ["wheat"]);
    assert!(names(&s, &chips).is_empty());
    let dough1 = make(
        &s,
        "DOUGH",
        "100",
        None,
        vec![ql(&flour, "60"), ql(&eggs, "20")],
    )
    .code;
    // Dough of dough and butter: a second level of intermediate.
    let dough2 = make(
        &s,
        "DOUGH",
        "50",
        None,
        vec![ql(&dough1, "40"), ql(&butter, "10")],
    )
    .code;
    let cookie = make(
        &s,
        "COOKIE",
        "50",
        None,
        vec![ql(&dough2, "45"), ql(&chips, "5")],
    );
    assert_eq!(cookie.hold, None);
    assert_eq!(names(&s, &cookie.code), ["milk", "egg", "wheat"]);
    let la = s.lot_allergens(&cookie.code).unwrap();
    assert_eq!(la.label, "Milk, Egg, Wheat");
    assert!(la.undeclared.is_empty());
    let egg = la.sources.iter().find(|a| a.allergen == "egg").unwrap();
    assert!(egg.declared);
    assert_eq!(egg.via, vec![(dough2.clone(), item("DOUGH"))]);
    // Rework: yesterday's cookies back into today's; nothing new, nothing lost.
    let again = make(
        &s,
        "COOKIE",
        "20",
        None,
        vec![ql(&cookie.code, "10"), ql(&dough2, "5")],
    );
    assert_eq!(names(&s, &again.code), ["milk", "egg", "wheat"]);
    let with_egg: Vec<LotCode> = s
        .lots_containing("egg")
        .unwrap()
        .into_iter()
        .map(|l| l.code)
        .collect();
    // Finished lots first, newest first.
    assert_eq!(
        with_egg,
        vec![again.code, cookie.code, dough2, dough1, eggs]
    );
    clean(&s);
}

#[test]
fn an_undeclared_allergen_holds_the_batch_in_its_own_transaction_naming_the_path() {
    let (_d, s) = kitchen();
    let (flour, pb) = flour_and_peanut_butter(&s);
    let c = make(&s, "COOKIE", "30", None, peanut_cookie(&flour, &pb));
    let why = c.hold.clone().expect("held");
    assert_eq!(
        why,
        format!("contains PEANUTS via {pb} PEANUT-BUTTER, not declared on COOKIE")
    );
    let lot = s.lot_by_code(&c.code).unwrap();
    assert_eq!(lot.status, LotStatus::Hold);
    let la = s.lot_allergens(&c.code).unwrap();
    assert_eq!(la.undeclared, ["peanuts"]);
    // The batch, its hold and the hold's reason: one commit, in this order.
    let h = s.lot_history(&c.code).unwrap();
    let kinds: Vec<&str> = h.events.iter().map(|e| e.event.kind.name()).collect();
    assert_eq!(kinds, ["produce", "status", "allergen hold"]);
    // Held lots are not used until QA releases them.
    let e = make_err(&s, "COOKIE", "1", None, vec![ql(&c.code, "1")]);
    assert!(e.contains("on hold"), "{e}");
    clean(&s);
    // A product that declares peanuts is made from the same lot without a hold.
    let ok = make(
        &s,
        "PB-COOKIE",
        "10",
        None,
        vec![ql(&flour, "5"), ql(&pb, "5")],
    );
    assert_eq!(ok.hold, None);
}

fn made_err(s: &Store, b: NewBatch) -> String {
    apply(s, Command::Produce(b)).unwrap_err().to_string()
}

#[test]
fn a_line_whose_last_batch_carried_an_allergen_holds_the_next_until_a_changeover() {
    let (_d, s) = kitchen();
    let (flour, pb) = flour_and_peanut_butter(&s);
    let pbc = make(
        &s,
        "PB-COOKIE",
        "10",
        Some("L1"),
        vec![ql(&flour, "5"), ql(&pb, "5")],
    );
    assert_eq!(pbc.hold, None);
    // Another line is not touched.
    let other = make(&s, "COOKIE", "10", Some("L2"), vec![ql(&flour, "5")]);
    assert_eq!(other.hold, None);
    let next = make(&s, "COOKIE", "10", Some("L1"), vec![ql(&flour, "5")]);
    assert_eq!(
        next.hold.as_deref(),
        Some(
            format!(
                "possible cross-contact: line L1's previous batch {} (PB-COOKIE) carried PEANUTS and no changeover has cleared it since",
                pbc.code
            )
            .as_str()
        )
    );
    clean(&s);
    // The held cookie is now the line's last batch, and it carries no peanut: the line
    // runs clean again.
    let after = make(&s, "COOKIE", "10", Some("L1"), vec![ql(&flour, "5")]);
    assert_eq!(after.hold, None);
    // Peanut again, then a changeover clearing only milk: still held; clearing peanuts: not.
    make(
        &s,
        "PB-COOKIE",
        "5",
        Some("L1"),
        vec![ql(&flour, "2"), ql(&pb, "2")],
    );
    let changeover = |cleared: &[&str]| {
        apply(
            &s,
            Command::Changeover(NewChangeover {
                line: "L1".into(),
                date: today(),
                cleared: cleared.iter().map(|c| c.to_string()).collect(),
                note: "wash-down".into(),
            }),
        )
        .unwrap()
        .event()
        .unwrap()
    };
    changeover(&["milk"]);
    let held = make(&s, "COOKIE", "5", Some("L1"), vec![ql(&flour, "2")]);
    assert!(held.hold.is_some());
    make(
        &s,
        "PB-COOKIE",
        "5",
        Some("L1"),
        vec![ql(&flour, "2"), ql(&pb, "2")],
    );
    let wash = changeover(&["peanuts"]);
    let fine = make(&s, "COOKIE", "5", Some("L1"), vec![ql(&flour, "2")]);
    assert_eq!(fine.hold, None);
    // A changeover recorded by mistake and voided no longer clears the line.
    make(
        &s,
        "PB-COOKIE",
        "5",
        Some("L1"),
        vec![ql(&flour, "2"), ql(&pb, "2")],
    );
    let all = changeover(&[]);
    apply(
        &s,
        Command::Void(VoidEvent {
            event: all,
            date: today(),
            reason: "recorded on the wrong line".into(),
        }),
    )
    .unwrap();
    assert!(wash < all);
    let again = make(&s, "COOKIE", "5", Some("L1"), vec![ql(&flour, "2")]);
    assert!(again.hold.is_some());
    clean(&s);
}

#[test]
fn an_input_off_the_recipe_is_refused_unless_qa_overrides_with_a_reason() {
    let (_d, s) = kitchen();
    apply(
        &s,
        Command::AddRecipe(recipe(
            "COOKIE",
            today(),
            &[("DOUGH", "90", &[]), ("CHIPS", "10", &["CHIPS-B"])],
        )),
    )
    .unwrap();
    let flour = receive(&s, "FLOUR", "MILL", "F1", 500);
    let eggs = receive(&s, "EGGS", "MILL", "E1", 100);
    let dough = make(
        &s,
        "DOUGH",
        "100",
        None,
        vec![ql(&flour, "60"), ql(&eggs, "20")],
    )
    .code;
    let chips = receive(&s, "CHIPS-B", "MILL", "C1", 100);
    let before = s.stats().unwrap();
    // Straight from eggs and flour, skipping the dough.
    let e = make_err(
        &s,
        "COOKIE",
        "100",
        None,
        vec![ql(&flour, "90"), ql(&chips, "10")],
    );
    assert_eq!(
        e,
        format!(
            "input 1: FLOUR (lot {flour}) is not in COOKIE's recipe; DOUGH is missing (90 expected) (version 1, in effect from {}); QA may let it in with a reason, which is recorded on the batch",
            today()
        )
    );
    assert_eq!(s.stats().unwrap(), before);
    let over = |off_recipe| Override {
        reason: "dough short; trial batch".into(),
        off_recipe,
    };
    let produce_over = |b, o| {
        apply(
            &s,
            Command::ProduceOverride {
                batch: b,
                reason: o,
            },
        )
    };
    // A reason without QA's override does not let an input off the recipe in…
    let e = produce_over(
        batch(
            "COOKIE",
            "100",
            None,
            vec![ql(&flour, "90"), ql(&chips, "10")],
        ),
        over(false),
    )
    .unwrap_err();
    assert!(e.to_string().contains("QA may let it in"), "{e}");
    // …but does close a batch with an input missing.
    let c = produce_over(
        batch("COOKIE", "90", None, vec![ql(&dough, "81")]),
        over(false),
    )
    .unwrap()
    .created()
    .unwrap();
    let rows = s.yields(&YieldFilter::default()).unwrap();
    assert_eq!(rows.len(), 1);
    let rec = &rows[0].record;
    assert_eq!(rows[0].lot, c.code);
    assert_eq!(rec.reason.as_deref(), Some("dough short; trial batch"));
    assert_eq!(
        rec.deviations,
        vec![Deviation::Missing {
            item: item("CHIPS"),
            expected: q("9")
        }]
    );
    // 81 of dough allows 90: a yield of 100 %.
    assert_eq!(rec.expected, Some(q("90")));
    assert_eq!(rec.yield_permille(), Some(1000));
    // QA's override lets flour in, and says so on the batch.
    let c2 = produce_over(
        batch(
            "COOKIE",
            "100",
            None,
            vec![ql(&flour, "90"), ql(&chips, "10")],
        ),
        over(true),
    )
    .unwrap()
    .created()
    .unwrap();
    let rows = s.yields(&YieldFilter::default()).unwrap();
    assert_eq!(rows[1].lot, c2.code);
    assert!(matches!(
        rows[1].record.deviations[..],
        [Deviation::NotInRecipe { .. }, Deviation::Missing { .. }]
    ));
    // A substitute and the quantities within tolerance: no reason needed.
    let chips2 = receive(&s, "CHIPS", "MILL", "C2", 100);
    let fine = make(
        &s,
        "COOKIE",
        "10",
        None,
        vec![ql(&dough, "9"), ql(&chips2, "1")],
    );
    assert_eq!(fine.hold, None);
    // Outside the tolerance: a reason.
    let e = make_err(
        &s,
        "COOKIE",
        "10",
        None,
        vec![ql(&dough, "9"), ql(&chips2, "3")],
    );
    assert!(
        e.contains("CHIPS: 3 used, 1 expected (±10 %)") && e.contains("give the reason"),
        "{e}"
    );
    clean(&s);
}

#[test]
fn recipes_are_versioned_and_batches_keep_the_version_they_used() {
    let (_d, s) = kitchen();
    let start = today().checked_sub_days(Days::new(10)).unwrap();
    let v2_from = today().checked_sub_days(Days::new(2)).unwrap();
    apply(
        &s,
        Command::AddRecipe(recipe(
            "DOUGH",
            start,
            &[("FLOUR", "80", &[]), ("EGGS", "20", &[])],
        )),
    )
    .unwrap();
    let flour = receive(&s, "FLOUR", "MILL", "F1", 500);
    let eggs = receive(&s, "EGGS", "MILL", "E1", 100);
    let butter = receive(&s, "BUTTER", "MILL", "B1", 100);
    let old = make(
        &s,
        "DOUGH",
        "100",
        None,
        vec![ql(&flour, "80"), ql(&eggs, "20")],
    );
    // Version 2 adds butter.
    apply(
        &s,
        Command::AddRecipe(recipe(
            "DOUGH",
            v2_from,
            &[
                ("FLOUR", "70", &[]),
                ("EGGS", "20", &[]),
                ("BUTTER", "10", &[]),
            ],
        )),
    )
    .unwrap();
    let e = apply(
        &s,
        Command::AddRecipe(recipe("DOUGH", start, &[("FLOUR", "1", &[])])),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("before version 2 takes effect"),
        "{e}"
    );
    // Today's batch without butter is now missing an input.
    let e = make_err(
        &s,
        "DOUGH",
        "100",
        None,
        vec![ql(&flour, "80"), ql(&eggs, "20")],
    );
    assert!(e.contains("BUTTER is missing (10 expected)"), "{e}");
    let new = make(
        &s,
        "DOUGH",
        "100",
        None,
        vec![ql(&flour, "70"), ql(&eggs, "20"), ql(&butter, "10")],
    );
    let rows = s.yields(&YieldFilter::default()).unwrap();
    let version = |c: &LotCode| rows.iter().find(|r| &r.lot == c).unwrap().record.version;
    assert_eq!((version(&old.code), version(&new.code)), (1, 2));
    let all = s.recipes(Some(&item("DOUGH"))).unwrap();
    assert_eq!(all.iter().map(|r| r.version).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(s.recipes(None).unwrap().len(), 1);
    // The item's history shows both versions and its declaration.
    let hist: Vec<&str> = s
        .item_events(&item("DOUGH"))
        .unwrap()
        .iter()
        .map(|e| e.kind.name())
        .collect();
    assert_eq!(
        hist,
        ["allergens declared", "recipe changed", "recipe changed"]
    );
    clean(&s);
}

#[test]
fn yields_list_batches_outside_their_tolerance() {
    let (_d, s) = kitchen();
    apply(
        &s,
        Command::AddRecipe(recipe("DOUGH", today(), &[("FLOUR", "100", &[])])),
    )
    .unwrap();
    let flour = receive(&s, "FLOUR", "MILL", "F1", 500);
    // 100 of flour should give 100 of dough; 92 is a 92 % yield, outside 5 %.
    let low = make(&s, "DOUGH", "92", Some("L1"), vec![ql(&flour, "100")]);
    let ok = make(&s, "DOUGH", "98", Some("L2"), vec![ql(&flour, "100")]);
    let outside = s
        .yields(&YieldFilter {
            outside_only: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(outside.len(), 1);
    assert_eq!(outside[0].lot, low.code);
    assert_eq!(outside[0].record.yield_permille(), Some(920));
    let l2 = s
        .yields(&YieldFilter {
            line: Some("L2".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(l2.len(), 1);
    assert_eq!(l2[0].lot, ok.code);
}

#[test]
fn the_allergen_list_only_grows_once_used_and_names_are_checked() {
    let (_d, s) = temp_store();
    add_item(&s, "SAUCE", Unit::Kg, ItemKind::Finished);
    // Unused: the EU's fourteen may replace the US nine.
    let eu: Vec<String> = EU_FOURTEEN.iter().map(|n| n.to_string()).collect();
    apply(&s, Command::SetAllergens(eu.clone())).unwrap();
    declare(&s, "SAUCE", &["mustard", "celery"]);
    let e = apply(
        &s,
        Command::SetAllergens(US_NINE.iter().map(|n| n.to_string()).collect()),
    )
    .unwrap_err();
    assert!(e.to_string().contains("is in use"), "{e}");
    let mut longer = eu;
    longer.push("kiwi".into());
    apply(&s, Command::SetAllergens(longer)).unwrap();
    let e = apply(
        &s,
        Command::DeclareAllergens {
            item: item("SAUCE"),
            allergens: vec!["peanutz".into()],
            reason: "spec".into(),
        },
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("not on this plant's allergen list"),
        "{e}"
    );
    let info = s.allergens().unwrap();
    assert_eq!(info.list.label(info.items[0].1), "Celery, Mustard");
    clean(&s);
}

#[test]
fn check_finds_a_damaged_allergen_index_and_a_hold_whose_reason_no_longer_stands() {
    let (d, s) = kitchen();
    let (flour, pb) = flour_and_peanut_butter(&s);
    let c = make(&s, "COOKIE", "30", None, peanut_cookie(&flour, &pb));
    assert!(c.hold.is_some());
    clean(&s);
    let path = d.path().join("t.lotline");
    drop(s);
    {
        let db = redb::Database::open(&path).unwrap();
        let w = db.begin_write().unwrap();
        {
            // The peanut butter lot loses its peanut: the cookie's hold no longer stands,
            // and the index no longer mirrors the sets.
            let mut sets = w.open_table(super::LOT_ALLERGENS).unwrap();
            sets.remove(2).unwrap();
        }
        w.commit().unwrap();
    }
    let s = Store::open(&path, true).unwrap();
    let problems: Vec<String> = s
        .check()
        .unwrap()
        .problems
        .iter()
        .map(|p| p.0.clone())
        .collect();
    let text = problems.join("\n");
    assert!(text.contains("is extra in the allergen index"), "{text}");
    assert!(
        text.contains(&format!(
            "input lot {pb} does not carry what the hold says it brought"
        )),
        "{text}"
    );
}

#[test]
fn a_schema_8_plant_opens_and_makes_batches_as_before() {
    let (d, s, [flour, ..]) = bakery();
    let path = d.path().join("t.lotline");
    drop(s);
    {
        let db = redb::Database::open(&path).unwrap();
        let w = db.begin_write().unwrap();
        w.delete_table(super::RECIPES).unwrap();
        w.delete_table(super::BATCH_RECIPES).unwrap();
        w.delete_table(super::LOT_ALLERGENS).unwrap();
        w.delete_table(super::ITEM_ALLERGENS).unwrap();
        w.delete_table(super::ALLERGEN_LOTS).unwrap();
        w.delete_table(super::LINE_LOG).unwrap();
        w.delete_table(super::ALLERGEN_HOLDS).unwrap();
        // The plant's settings as schema 8 had them too (no draft hours).
        crate::tests::plant_to_v9(&w);
        w.open_table(super::META)
            .unwrap()
            .insert("schema_version", 8u32.to_le_bytes().as_slice())
            .unwrap();
        w.commit().unwrap();
    }
    let s = Store::open(&path, true).unwrap();
    clean(&s);
    let c = produce(&s, "DOUGH", 1, vec![line(&flour, 1)]).unwrap();
    assert!(s.lot_allergens(&c).unwrap().sources.is_empty());
    assert!(s.yields(&YieldFilter::default()).unwrap().is_empty());
    clean(&s);
}

// A random plant: items declaring random allergens, lots received and made from random
// earlier lots. Every lot's computed set is the union of the declarations over its
// backward trace.
proptest! {
    #![proptest_config(lotline_domain::fuzz::config(24))]
    #[test]
    fn a_lots_allergens_are_the_union_over_its_backward_trace(
        decl in prop::collection::vec(0u64..512, 5),
        ops in prop::collection::vec((0usize..5, prop::collection::vec(any::<prop::sample::Index>(), 0..4)), 1..25),
    ) {
        let (_d, s) = temp_store();
        add_party(&s, "MILL", Role::Supplier);
        let codes = ["I0", "I1", "I2", "I3", "I4"];
        for (c, bits) in codes.iter().zip(&decl) {
            add_item(&s, c, Unit::Kg, ItemKind::Intermediate);
            let list = AllergenList::default();
            let named = list.names_of(AllergenSet(*bits));
            if !named.is_empty() {
                declare(&s, c, &named.iter().map(String::as_str).collect::<Vec<_>>());
            }
        }
        let mut lots: Vec<LotCode> = Vec::new();
        for (n, (it, picks)) in ops.iter().enumerate() {
            let code = if picks.is_empty() || lots.is_empty() {
                receive(&s, codes[*it], "MILL", &format!("S{n}"), 1000)
            } else {
                let mut inputs: Vec<LotCode> = picks.iter().map(|p| p.get(&lots).clone()).collect();
                inputs.sort_by(|a, b| a.as_str().cmp(b.as_str()));
                inputs.dedup();
                // Held lots (an undeclared allergen) cannot be used; pick released ones.
                inputs.retain(|l| s.lot_by_code(l).unwrap().status == LotStatus::Released);
                if inputs.is_empty() {
                    continue;
                }
                let b = batch(codes[*it], "1", None, inputs.iter().map(|l| ql(l, "0.001")).collect());
                apply(&s, Command::Produce(b)).unwrap().created().unwrap().code
            };
            lots.push(code);
        }
        for l in &lots {
            let t = s.trace(l, Direction::Backward).unwrap();
            let mut union = AllergenSet::EMPTY;
            for reached in &t.lots {
                let i = codes.iter().position(|c| *c == reached.item.as_str()).unwrap();
                union = union | AllergenSet(decl[i]);
            }
            prop_assert_eq!(s.lot_allergens(l).unwrap().set, union);
        }
        let report = s.check().unwrap();
        prop_assert!(report.problems.is_empty(), "{:?}", report.problems);
    }
}

/// A partner's transformation, imported: cookies made straight from flour and peanut
/// butter, which our recipe would refuse at the line.
fn partner_batch(flour: &LotCode, pb: &LotCode) -> EpcisImport {
    let cookie = ItemRef {
        gtin: None,
        new: NewItem {
            code: item("COOKIE"),
            description: ProductDescription {
                name: "Cookie".into(),
                ..Default::default()
            },
            unit: Unit::Kg,
            kind: ItemKind::Finished,
            gtin: None,
            shelf_life_days: None,
            ftl: false,
            receiving_temp: TempRange::default(),
        },
    };
    let line = |lot: &LotCode, qty| ImportLine {
        lot: lot.clone(),
        qty: q(qty),
        unit: Unit::Kg,
        partner: None,
    };
    EpcisImport {
        source: "partner.jsonld".into(),
        skip_unmappable: false,
        items: vec![cookie],
        parties: Vec::new(),
        events: vec![ImportEvent {
            event_id: "t1".into(),
            index: 0,
            date: today(),
            event_time: "2026-11-21T08:00:00+02:00".into(),
            location: None,
            reference: None,
            documents: Default::default(),
            kind: ImportKind::Produce {
                item: 0,
                output: line(&LotCode::parse("P-COOKIE-1", "lot").unwrap(), "30"),
                expiry: None,
                line: None,
                inputs: vec![line(flour, "20"), line(pb, "5")],
            },
        }],
        unmapped: Vec::new(),
    }
}

#[test]
fn an_imported_batch_is_recorded_as_it_was_made_and_still_held_for_an_undeclared_allergen() {
    let (_d, s) = kitchen();
    apply(
        &s,
        Command::AddRecipe(recipe("COOKIE", today(), &[("DOUGH", "90", &[])])),
    )
    .unwrap();
    let (flour, pb) = flour_and_peanut_butter(&s);
    // Made here, the same batch is refused by the recipe…
    let e = make_err(&s, "COOKIE", "30", None, peanut_cookie(&flour, &pb));
    assert!(e.contains("is not in COOKIE's recipe"), "{e}");
    // …imported, it is what the partner did: stored, the deviations and why on the batch.
    let r = apply(&s, Command::ImportEpcis(partner_batch(&flour, &pb)))
        .unwrap()
        .imported()
        .unwrap();
    assert!(r.stored && r.unmapped.is_empty(), "{r:?}");
    assert_eq!(r.imported, 1);
    let made = LotCode::parse("P-COOKIE-1", "lot").unwrap();
    let rows = s.yields(&YieldFilter::default()).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].lot, made);
    let rec = &rows[0].record;
    assert_eq!(
        rec.reason.as_deref(),
        Some("imported from partner.jsonld: the partner's record")
    );
    assert!(
        matches!(
            rec.deviations[..],
            [
                Deviation::NotInRecipe { .. },
                Deviation::NotInRecipe { .. },
                Deviation::Missing { .. }
            ]
        ),
        "{:?}",
        rec.deviations
    );
    // The peanuts it carries are not declared on COOKIE: held here, as a batch of ours is.
    assert_eq!(s.lot_by_code(&made).unwrap().status, LotStatus::Hold);
    assert_eq!(s.lot_allergens(&made).unwrap().undeclared, ["peanuts"]);
    clean(&s);
}
