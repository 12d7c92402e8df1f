//! Recipes, allergens, changeovers and yields on the command line, as a QA manager would
//! try them: a cookie batch skipping its dough is refused, an undeclared allergen and a
//! line not cleaned after peanuts hold the lot, and the records answer "which lots carry
//! peanut" and "which batches yielded badly".

use crate::support::Plant;

fn items(p: &Plant) {
    p.ok(&[
        "item",
        "add",
        "PEANUT-BUTTER",
        "--name",
        "Peanut butter",
        "--unit",
        "kg",
    ]);
    p.ok(&[
        "item",
        "add",
        "PB-COOKIE",
        "--name",
        "Peanut cookies",
        "--unit",
        "case",
        "--kind",
        "finished",
    ]);
    for (item, names) in [
        ("FLOUR", "wheat"),
        ("EGGS", "egg"),
        ("PEANUT-BUTTER", "peanut"),
        ("DOUGH", "wheat,egg"),
        ("COOKIE", "wheat, egg"),
        ("PB-COOKIE", "wheat,egg,peanuts"),
    ] {
        p.ok(&[
            "allergens",
            "declare",
            item,
            names,
            "--reason",
            "spec sheet",
        ]);
    }
}

fn receive(p: &Plant, item: &str, slot: &str, qty: &str) -> String {
    p.ok(&[
        "receive",
        "--item",
        item,
        "--supplier",
        "MILL",
        "--supplier-lot",
        slot,
        "--qty",
        qty,
    ])
}

#[test]
fn a_batch_off_its_recipe_is_refused_and_qa_overrides_it_with_a_reason() {
    let p = Plant::new();
    let (flour, ..) = p.bakery();
    items(&p);
    p.ok(&[
        "recipe",
        "add",
        "COOKIE",
        "--input",
        "DOUGH=3",
        "--input",
        "PEANUT-BUTTER=1",
        "--per",
        "1",
        "--input-tolerance",
        "DOUGH=10",
        "--substitute",
        "PEANUT-BUTTER=FLOUR",
    ]);
    let shown = p.ok(&["recipe", "show", "COOKIE"]);
    assert!(shown.contains("COOKIE recipe version 1"), "{shown}");
    assert!(shown.contains("or FLOUR"), "{shown}");
    let dough = p.ok(&[
        "produce",
        "--item",
        "DOUGH",
        "--qty",
        "30",
        "--input",
        &format!("{flour}=30"),
    ]);
    let pb = receive(&p, "PEANUT-BUTTER", "PB-1", "20");
    // Straight from flour and peanut butter, skipping the dough.
    let r = p.refused(
        &[
            "produce",
            "--item",
            "COOKIE",
            "--qty",
            "5",
            "--input",
            &format!("{pb}=5"),
        ],
        "input",
        "DOUGH is missing (15 expected)",
    );
    assert!(r.stderr.contains("(--reason)"), "{}", r.stderr);
    // An input that is not on the recipe: only QA's override lets it in.
    p.ok(&[
        "item", "add", "WALNUTS", "--name", "Walnuts", "--unit", "kg",
    ]);
    let walnuts = receive(&p, "WALNUTS", "W-1", "10");
    let r = p.refused(
        &[
            "produce",
            "--item",
            "COOKIE",
            "--qty",
            "2",
            "--input",
            &format!("{dough}=6"),
            "--input",
            &format!("{pb}=2"),
            "--input",
            &format!("{walnuts}=1"),
        ],
        "input 3",
        &format!("WALNUTS (lot {walnuts}) is not in COOKIE's recipe"),
    );
    assert!(r.stderr.contains("(--override-reason, QA)"), "{}", r.stderr);
    let made = p.run(&[
        "produce",
        "--item",
        "COOKIE",
        "--qty",
        "2",
        "--input",
        &format!("{dough}=6"),
        "--input",
        &format!("{pb}=2"),
        "--input",
        &format!("{walnuts}=1"),
        "--override-reason",
        "customer trial",
    ]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let lot = made.stdout.trim().to_string();
    // Peanut butter carries peanuts, which COOKIE does not declare: held, and why.
    assert!(
        made.stderr.contains(&format!(
            "lot {lot} is ON HOLD: contains PEANUTS via {pb} PEANUT-BUTTER, not declared on COOKIE"
        )),
        "{}",
        made.stderr
    );
    let y = p.json(&["yields", "--json"]);
    let row = y
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["lot"] == lot.as_str())
        .unwrap();
    assert_eq!(row["override_reason"], "customer trial");
    assert_eq!(row["version"], 1);
    assert_eq!(row["yield_pct"], 100.0);
    // Every lot that carries peanut: the held cookies first (finished), then the jar.
    let peanut: Vec<String> = p
        .json(&["lots", "--contains", "peanut", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lot"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(peanut, vec![lot.clone(), pb.clone()]);
    // The lot's own page says what it carries and where each allergen came from.
    let shown = p.ok(&["lot", &lot]);
    assert!(shown.contains("allergens Egg, Peanuts, Wheat\n"), "{shown}");
    assert!(
        shown.contains(&format!(
            "  peanuts (NOT DECLARED on COOKIE): via {pb} PEANUT-BUTTER\n"
        )),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("  egg: declared on COOKIE, via {dough} DOUGH\n")),
        "{shown}"
    );
    let j = p.json(&["lot", &lot, "--json"]);
    let a = &j["allergens"];
    assert_eq!(a["label"], "Egg, Peanuts, Wheat");
    assert_eq!(a["undeclared"], serde_json::json!(["peanuts"]));
    let peanuts = &a["sources"][1];
    assert_eq!(peanuts["allergen"], "peanuts");
    assert_eq!(peanuts["declared"], false);
    assert_eq!(peanuts["via"][0]["lot"], pb.as_str());
    assert_eq!(peanuts["via"][0]["item"], "PEANUT-BUTTER");
    // A lot carrying none says so.
    let walnut_page = p.ok(&["lot", &walnuts]);
    assert!(walnut_page.contains("allergens none\n"), "{walnut_page}");
    assert_eq!(
        p.json(&["lot", &walnuts, "--json"])["allergens"]["sources"],
        serde_json::json!([])
    );
    p.ok(&["yields", "--csv", "yields.csv"]);
    let csv = std::fs::read_to_string(p.path("yields.csv")).unwrap();
    assert!(
        csv.starts_with("Lot,Item,Date,Line,Recipe version"),
        "{csv}"
    );
    assert!(csv.contains("customer trial"), "{csv}");
    // A new version; batches before keep theirs.
    p.refused(
        &["recipe", "edit", "COOKIE", "--input", "DOUGH=3"],
        "reason",
        "say why the recipe changes",
    );
    p.ok(&[
        "recipe",
        "edit",
        "COOKIE",
        "--input",
        "DOUGH=3",
        "--reason",
        "no peanut",
    ]);
    let list = p.json(&["recipe", "list", "--json"]);
    assert_eq!(list[0]["version"], 2);
    assert_eq!(p.run(&["check"]).code, 0);
}

#[test]
fn a_line_not_cleaned_after_peanuts_holds_the_next_batch_until_a_changeover() {
    let p = Plant::new();
    let (flour, ..) = p.bakery();
    items(&p);
    let pb = receive(&p, "PEANUT-BUTTER", "PB-1", "20");
    let produce = |item: &str, inputs: &[String]| {
        let mut args = vec!["produce", "--item", item, "--qty", "1", "--line", "Oven 2"];
        for i in inputs {
            args.extend(["--input", i.as_str()]);
        }
        p.run(&args)
    };
    let first = produce("PB-COOKIE", &[format!("{flour}=1"), format!("{pb}=1")]);
    assert_eq!((first.code, first.stderr.as_str()), (0, ""));
    let pbc = first.stdout.trim().to_string();
    let next = produce("COOKIE", &[format!("{flour}=1")]);
    assert_eq!(next.code, 0, "{}", next.stderr);
    assert!(
        next.stderr.contains(&format!(
            "possible cross-contact: line Oven 2's previous batch {pbc} (PB-COOKIE) carried PEANUTS"
        )),
        "{}",
        next.stderr
    );
    produce("PB-COOKIE", &[format!("{flour}=1"), format!("{pb}=1")]);
    p.ok(&[
        "changeover",
        "Oven 2",
        "--cleared",
        "peanut",
        "--note",
        "wash-down, swab clean",
    ]);
    let clean = produce("COOKIE", &[format!("{flour}=1")]);
    assert_eq!((clean.code, clean.stderr.as_str()), (0, ""));
    p.refused(
        &["changeover", "Oven 2", "--cleared", "kiwi"],
        "allergen",
        "'kiwi' is not on this plant's allergen list",
    );
    let shown = p.ok(&["allergens", "show"]);
    assert!(
        shown.contains("PB-COOKIE      Egg, Peanuts, Wheat"),
        "{shown}"
    );
    assert_eq!(p.run(&["check"]).code, 0);
}
