//! `lotline fsma`, `kde` and `plan` through the real binary against a real database: a
//! fixed small plant gives a reviewed golden CSV; bad filters and existing outputs are
//! refused with nothing written.

use crate::support::Plant;
use crate::support::snapshot::assert_golden;
use std::path::Path;

/// Refused with exit 2 and one line naming `field`, nothing stored.
fn refused(p: &Plant, args: &[&str], field: &str, words: &str) {
    let r = p.refused(args, field, words);
    assert_eq!(r.code, 2, "lotline {args:?}: {}{}", r.stdout, r.stderr);
}

/// Eggs (on the FTL, a case label in dozens) and sugar (counted in lb, bought through
/// a distributor) into custard; custard shipped twice, one shipment voided, and two
/// cases of the other returned by the customer.
pub(crate) fn creamery() -> (Plant, String, String, String) {
    let p = Plant::empty();
    p.ok(&[
        "--create",
        "plant",
        "set",
        "--name",
        "Test Creamery",
        "--phone",
        "503-555-0100",
        "--street",
        "1 Dairy Rd",
        "--city",
        "Salem",
        "--state",
        "OR",
        "--zip",
        "97301",
        "--country",
        "US",
        "--gln",
        "0614141000005",
    ]);
    p.ok(&[
        "item",
        "add",
        "EGGS",
        "--name",
        "Shell eggs",
        "--unit",
        "dozen",
        "--ftl",
        "--commodity",
        "shell eggs",
        "--pack-size",
        "30 dozen case",
    ]);
    p.ok(&[
        "item",
        "add",
        "SUGAR",
        "--name",
        "Cane sugar",
        "--unit",
        "kg",
    ]);
    p.ok(&[
        "item",
        "add",
        "CUSTARD",
        "--name",
        "Vanilla custard",
        "--unit",
        "case",
        "--kind",
        "finished",
        "--ftl",
        "--brand",
        "Creamery",
        "--pack-style",
        "tub",
    ]);
    p.ok(&[
        "party",
        "add",
        "FARM",
        "--name",
        "Sunny Ridge Farms",
        "--role",
        "supplier",
        "--phone",
        "541-555-0192",
        "--city",
        "Albany",
        "--state",
        "OR",
        "--gln",
        "0614141000012",
    ]);
    p.ok(&[
        "party",
        "add",
        "DIST",
        "--name",
        "Valley Distributors",
        "--role",
        "supplier",
    ]);
    p.ok(&[
        "party",
        "add",
        "SHOP",
        "--name",
        "=Corner Market, #12",
        "--role",
        "customer",
        "--city",
        "Portland",
    ]);
    let eggs = p.ok(&[
        "receive",
        "--item",
        "EGGS",
        "--supplier",
        "FARM",
        "--supplier-lot",
        "SR-1121",
        "--qty",
        "30",
        "--date",
        "2026-11-01",
        "--ref",
        "BOL:4471",
        "--ref",
        "PO:88123",
    ]);
    let sugar = p.ok(&[
        "receive",
        "--item",
        "SUGAR",
        "--supplier",
        "DIST",
        "--supplier-lot",
        "CS-50",
        "--qty",
        "50",
        "--unit",
        "lb",
        "--date",
        "2026-11-01",
        "--tlc-source-ref",
        "GLN 0614141000029",
    ]);
    let custard = p.ok(&[
        "produce",
        "--item",
        "CUSTARD",
        "--qty",
        "20",
        "--input",
        &format!("{eggs}=10"),
        "--input",
        &format!("{sugar}=5"),
        "--date",
        "2026-11-02",
        "--ref",
        "WO:7",
    ]);
    let shipped = p.ok(&[
        "ship",
        "--customer",
        "SHOP",
        "--lot",
        &format!("{custard}=12"),
        "--date",
        "2026-11-03",
        "--ref",
        "BOL:5521",
    ]);
    let wrong = p.ok(&[
        "ship",
        "--customer",
        "SHOP",
        "--lot",
        &format!("{custard}=1"),
        "--date",
        "2026-11-03",
        "--ref",
        "BOL:5522",
    ]);
    p.ok(&["void", &wrong, "--reason", "typed twice"]);
    // Two cases of the good shipment come back, against its bill of lading.
    p.ok(&[
        "return",
        "--shipment",
        "BOL:5521",
        "--lot",
        &custard,
        "--qty",
        "2",
        "--date",
        "2026-11-05",
        "--reason",
        "lids split",
    ]);
    (p, custard, shipped, wrong)
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn a_small_plant_gives_the_reviewed_csv() {
    let (p, ..) = creamery();
    let out = p.ok(&["fsma", "--all", "--csv", "fda"]);
    assert_eq!(out.lines().count(), 4, "{out}");
    let golden = ["receiving.csv", "transformation.csv", "shipping.csv"]
        .map(|f| format!("== {f}\n{}", read(&p.path("fda").join(f))))
        .join("\n");
    assert_golden("fsma", "fsma_small_plant_all", &golden);
    let readme = read(&p.path("fda/read-me.txt"));
    assert!(
        readme.contains("Records asked for: all dates; every item"),
        "{readme}"
    );
    assert!(
        readme.contains("1 voided event(s) in scope left out"),
        "{readme}"
    );
    assert!(
        readme.contains("Point of contact: the plant, 503-555-0100"),
        "{readme}"
    );
    // FTL only, the default: sugar's receipt goes, its row in the custard batch stays
    // (custard is on the list).
    p.ok(&["fsma", "--csv", "ftl", "--contact", "Quinn, 503-555-0199"]);
    let rec = read(&p.path("ftl/receiving.csv"));
    assert!(rec.contains("SR-1121") && !rec.contains("CS-50"), "{rec}");
    let tra = read(&p.path("ftl/transformation.csv"));
    assert_eq!(tra.lines().count(), 3, "{tra}");
    assert!(read(&p.path("ftl/read-me.txt")).contains("Point of contact: Quinn, 503-555-0199"));
}

#[test]
fn by_lot_supplier_tlc_item_and_dates_and_xlsx() {
    let (p, custard, ..) = creamery();
    // The supplier's TLC finds our lot and its whole trace.
    p.ok(&["fsma", "--lot", "SR-1121", "--csv", "by-tlc"]);
    p.ok(&["fsma", "--lot", &custard, "--csv", "by-lot"]);
    for f in ["receiving.csv", "transformation.csv", "shipping.csv"] {
        assert_eq!(
            read(&p.path("by-tlc").join(f)),
            read(&p.path("by-lot").join(f)),
            "{f}"
        );
    }
    assert_eq!(read(&p.path("by-lot/shipping.csv")).lines().count(), 2);
    // The customer return belongs to the custard's trace: a receipt of the shipped TLC
    // from the customer, asked for by the shipped lot, the supplier's TLC, the return lot
    // (which brings the shipment it came back from), or the food in the return's dates.
    let back = format!("{custard}-R1");
    let returned = |rec: &str| {
        rec.lines().any(|l| {
            l.starts_with(&format!(
                "{custard},Vanilla custard,Creamery,,,,tub,2,case,"
            ))
        })
    };
    assert!(returned(&read(&p.path("by-lot/receiving.csv"))));
    assert!(returned(&read(&p.path("by-tlc/receiving.csv"))));
    p.ok(&["fsma", "--lot", &back, "--csv", "by-return"]);
    assert!(returned(&read(&p.path("by-return/receiving.csv"))));
    assert_eq!(
        read(&p.path("by-return/shipping.csv")),
        read(&p.path("by-lot/shipping.csv"))
    );
    p.ok(&[
        "fsma",
        "--item",
        "CUSTARD",
        "--from",
        "2026-11-05",
        "--csv",
        "returns",
    ]);
    let rec = read(&p.path("returns/receiving.csv"));
    assert_eq!(rec.lines().count(), 2, "{rec}");
    assert!(returned(&rec), "{rec}");
    assert_eq!(read(&p.path("returns/shipping.csv")).lines().count(), 1);
    // Another food's request in the same dates has no return of it.
    refused(
        &p,
        &[
            "fsma",
            "--item",
            "EGGS",
            "--from",
            "2026-11-05",
            "--csv",
            "no-eggs",
        ],
        "filters",
        "nothing was written",
    );
    p.ok(&[
        "fsma",
        "--item",
        "EGGS",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-01",
        "--csv",
        "d",
    ]);
    assert_eq!(read(&p.path("d/receiving.csv")).lines().count(), 2);
    assert_eq!(read(&p.path("d/transformation.csv")).lines().count(), 1);
    let out = p.ok(&["fsma", "--all", "--xlsx", "fda.xlsx"]);
    assert_eq!(
        out,
        p.path("fda.xlsx")
            .display()
            .to_string()
            .replace(&format!("{}/", p.dir.path().display()), "")
    );
    assert!(p.path("fda.xlsx").exists());
}

#[test]
fn bad_filters_and_existing_files_are_refused_and_write_nothing() {
    let (p, ..) = creamery();
    refused(
        &p,
        &["fsma", "--all"],
        "xlsx",
        "--xlsx FILE and/or --csv DIR",
    );
    refused(
        &p,
        &[
            "fsma",
            "--from",
            "2026-11-05",
            "--to",
            "2026-11-01",
            "--csv",
            "x",
        ],
        "from",
        "after --to",
    );
    refused(
        &p,
        &["fsma", "--from", "someday", "--csv", "x"],
        "from",
        "not a date",
    );
    refused(
        &p,
        &["fsma", "--item", "SUGAR", "--csv", "x"],
        "item",
        "--all",
    );
    refused(
        &p,
        &["fsma", "--item", "NOPE", "--all", "--csv", "x"],
        "item",
        "no item NOPE",
    );
    refused(
        &p,
        &["fsma", "--lot", "ZZ-9", "--csv", "x"],
        "lot",
        "no lot of ours",
    );
    refused(
        &p,
        &["fsma", "--from", "2027-01-01", "--all", "--csv", "x"],
        "filters",
        "nothing was written",
    );
    assert!(!p.path("x").exists(), "no folder for nothing");
    std::fs::write(p.path("taken.xlsx"), b"keep me").unwrap();
    refused(
        &p,
        &["fsma", "--all", "--xlsx", "taken.xlsx"],
        "xlsx",
        "already exists",
    );
    assert_eq!(std::fs::read(p.path("taken.xlsx")).unwrap(), b"keep me");
    std::fs::create_dir(p.path("half")).unwrap();
    std::fs::write(p.path("half/shipping.csv"), b"mine").unwrap();
    refused(
        &p,
        &["fsma", "--all", "--csv", "half"],
        "csv",
        "already exists",
    );
    assert!(
        !p.path("half/receiving.csv").exists(),
        "nothing written beside it"
    );
}

#[test]
fn kde_gives_a_customer_its_shipping_kdes() {
    let (p, custard, shipped, wrong) = creamery();
    let text = p.ok(&["kde", &shipped]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("Traceability lot code,Quantity,Unit of measure,Product name"));
    assert!(lines[1].starts_with(&format!("{custard},12,case,Vanilla custard,Creamery,")));
    // The customer's name starts with '=': kept as text, not a formula.
    assert!(
        lines[1].contains("\"'=Corner Market, #12\""),
        "{}",
        lines[1]
    );
    p.ok(&["kde", &shipped, "--csv", "ship.csv"]);
    assert_eq!(read(&p.path("ship.csv")).trim(), text);
    refused(
        &p,
        &["kde", &shipped, "--csv", "ship.csv"],
        "csv",
        "already exists",
    );
    refused(&p, &["kde", &wrong], "shipment", "voided");
    let history: serde_json::Value =
        serde_json::from_str(&p.ok(&["lot", &custard, "--json"])).unwrap();
    let made = history["events"][0]["event"].to_string();
    refused(&p, &["kde", &made], "shipment", "not a shipment");
    refused(&p, &["kde", "five"], "shipment", "not an event id");
    let help = p.ok(&["kde", "--help"]);
    assert!(help.contains("--epcis"), "{help}");

    // EPCIS for customers who take it: one shipping event, valid against GS1's schema.
    let out = p.ok(&[
        "kde",
        &shipped,
        "--csv",
        "ship2.csv",
        "--epcis",
        "ship2.jsonld",
    ]);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert_eq!(read(&p.path("ship2.csv")).trim(), text);
    let doc: serde_json::Value = serde_json::from_str(&read(&p.path("ship2.jsonld"))).unwrap();
    let events = doc["epcisBody"]["eventList"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{doc}");
    assert_eq!(events[0]["bizStep"], "shipping");
    assert_eq!(events[0]["quantityList"][0]["quantity"], 12);
    let schema: serde_json::Value = serde_json::from_str(&read(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/epcis/EPCIS-JSON-Schema.json"),
    ))
    .unwrap();
    let v = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&schema)
        .unwrap();
    assert!(v.is_valid(&doc), "{doc}");
    // Only EPCIS asked for: nothing on standard output but the file's name.
    let out = p.ok(&["kde", &shipped, "--epcis", "ship3.jsonld"]);
    assert_eq!(out, "ship3.jsonld");
    // An existing EPCIS file refuses both before either is written.
    refused(
        &p,
        &[
            "kde",
            &shipped,
            "--csv",
            "ship4.csv",
            "--epcis",
            "ship3.jsonld",
        ],
        "epcis",
        "already exists",
    );
    assert!(!p.path("ship4.csv").exists());
    refused(
        &p,
        &["kde", &wrong, "--epcis", "void.jsonld"],
        "shipment",
        "voided",
    );
    assert!(!p.path("void.jsonld").exists());
}

#[test]
fn plan_drafts_what_section_1315_asks() {
    let (p, ..) = creamery();
    let md = p.ok(&[
        "plan",
        "--contact",
        "Quinn Lee, 503-555-0199, qa@example.com",
    ]);
    for want in [
        "# Traceability plan: Test Creamery",
        "Quinn Lee, 503-555-0199",
        "EGGS — Shell eggs",
        "CUSTARD — Vanilla custard",
        "`R{YY}{JJJ}-{SEQ:3}`",
        "`B{YY}{JJJ}-{SEQ:3}`",
        "lotline fsma",
    ] {
        assert!(md.contains(want), "plan lacks {want}:\n{md}");
    }
    assert!(!md.contains("SUGAR —"), "sugar is not on the FTL");
    let text = p.ok(&["plan", "--text"]);
    assert!(text.contains("TO DO: name, phone and email"), "{text}");
    assert!(!text.contains("# "), "{text}");
    p.ok(&["plan", "--out", "plan.md"]);
    refused(&p, &["plan", "--out", "plan.md"], "out", "already exists");
}
