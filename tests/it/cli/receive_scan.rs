//! `lotline receive --scan`: a supplier's case label, as a dock script passes what the
//! scanner typed, makes the receipt the app's Receive form makes of the same scan — the
//! item by GTIN, the supplier lot, expiry, quantity, the supplier by its (412) GLN — and
//! keeps the label's other elements with it. Flags the label answers must agree with it;
//! a bad scan, a GTIN no item has and a disagreeing flag are refused with nothing stored.

use crate::support::Plant;
use serde_json::Value;

/// FLOUR's GTIN, given to it here (the bakery gives one to EGGS only).
const FLOUR_GTIN: &str = "09501101530003";
const EGGS_GTIN: &str = "00614141000036";
/// FARM's GLN in the bakery.
const FARM_GLN: &str = "0614141000012";
const GS: char = '\u{1d}';

/// The bakery, FLOUR with its GTIN, and refusals watching items and parties too.
fn plant() -> Plant {
    let p = Plant::new().watching_master_data();
    p.bakery();
    p.ok(&["item", "edit", "FLOUR", "--gtin", FLOUR_GTIN]);
    p
}

/// The one lot received under `supplier_lot`.
fn lot(p: &Plant, supplier_lot: &str) -> Value {
    let v = p.json(&["lots", "--supplier-lot", supplier_lot, "--json"]);
    let lots = v.as_array().unwrap();
    assert_eq!(lots.len(), 1, "{v}");
    lots[0].clone()
}

#[test]
fn a_scanned_case_label_fills_the_receipt_and_keeps_the_rest_of_the_label() {
    let p = plant();
    // GS1-128 as a wedge scanner types it: ]C1, GTIN, lot, GS, expiry, 25.00 kg, and two
    // elements the receipt has no field for, (11) production date and (400) the PO.
    let scan = format!("]C101{FLOUR_GTIN}10F-9{GS}17301231310200250011261030400PO-7");
    let r = p.run(&["receive", "--scan", &scan, "--supplier", "MILL"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let code = r.stdout.trim();
    assert_eq!(code.lines().count(), 1, "the lot code alone: {}", r.stdout);
    assert_eq!(
        r.stderr.trim(),
        "Scanned item FLOUR, supplier lot F-9, expiry 2030-12-31, quantity 25 kg; kept with the receipt: label (11) production date 261030, (400) customer purchase order PO-7"
    );
    let l = lot(&p, "F-9");
    assert_eq!(l["lot"], code);
    assert_eq!(l["item"], "FLOUR");
    assert_eq!(l["supplier"], "MILL");
    assert_eq!(l["quantity"], 25);
    assert_eq!(l["unit"], "kg");
    assert_eq!(l["expiry"], "2030-12-31");
    // The kept elements are in the lot's history, beside the receipt.
    let shown = p.ok(&["lot", code]);
    assert!(
        shown.contains(
            "label (11) production date 261030, (400) customer purchase order PO-7 (kept from the scan of receipt"
        ),
        "{shown}"
    );
    let v = p.json(&["lot", code, "--json"]);
    let kinds: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["receive", "label data"], "{v}");
}

#[test]
fn bare_and_digital_link_scans_are_read_too_and_the_supplier_comes_from_its_gln() {
    let p = plant();
    // No AIM identifier (the scanner's is off): a bare element string with a GTIN whose
    // check digit is right is GS1. A net weight in lb is kept as counted and stocked in kg.
    let bare = format!("01{FLOUR_GTIN}10F-10{GS}3202005512");
    let code = p.ok(&["receive", "--scan", &bare, "--supplier", "MILL"]);
    let v = p.json(&["lot", &code, "--json"]);
    assert_eq!(v["supplier_lot"], "F-10");
    assert_eq!(v["received_quantity"], 55.12, "{v}");
    assert_eq!(v["received_unit"], "lb", "{v}");
    assert_eq!(v["quantity"], 25.002, "55.12 lb in kg: {v}");
    // A GS1 Digital Link: its (412) GLN is FARM's, so no --supplier is needed. Eggs are on
    // the Food Traceability List (a reference document), and the label has no quantity:
    // the clerk's count is given.
    let link = format!("https://id.gs1.org/01/{EGGS_GTIN}/10/E-5?17=301231&412={FARM_GLN}");
    let r = p.run(&["receive", "--scan", &link, "--qty", "30", "--ref", "BOL:77"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stderr.trim(),
        "Scanned item EGGS, supplier FARM, supplier lot E-5, expiry 2030-12-31"
    );
    let l = lot(&p, "E-5");
    assert_eq!(l["item"], "EGGS");
    assert_eq!(l["supplier"], "FARM");
    assert_eq!(l["quantity"], 30);
    assert_eq!(l["unit"], "dozen");
    assert_eq!(l["expiry"], "2030-12-31");
    // The bracketed human-readable form, with a separator the scanner sends instead of GS.
    let code = p.ok(&[
        "receive",
        "--scan",
        &format!("]C101{FLOUR_GTIN}10F-11~3102001000"),
        "--separator",
        "~",
        "--supplier",
        "MILL",
    ]);
    assert_eq!(lot(&p, "F-11")["lot"], code.as_str());
    let code = p.ok(&[
        "receive",
        "--scan",
        &format!("(01){FLOUR_GTIN}(10)F-12(3102)001000"),
        "--supplier",
        "MILL",
    ]);
    assert_eq!(lot(&p, "F-12")["quantity"], 10, "{code}");
}

#[test]
fn flags_that_disagree_with_the_label_are_refused_naming_both() {
    let p = plant();
    let scan = format!("]C101{FLOUR_GTIN}10F-20{GS}17301231{GS}3102002500412{FARM_GLN}");
    let base = ["receive", "--scan", scan.as_str()];
    for (extra, field, words) in [
        (
            &["--item", "EGGS"][..],
            "item",
            "--item EGGS is not the item on the label: its GTIN 09501101530003 is item FLOUR",
        ),
        (
            &["--supplier", "MILL"],
            "supplier",
            "--supplier MILL is not the supplier on the label: its (412) GLN 0614141000012 is supplier FARM",
        ),
        (
            &["--supplier-lot", "F-21"],
            "supplier-lot",
            "--supplier-lot F-21 is not the lot on the label, (10) F-20",
        ),
        (
            &["--expiry", "2030-12-30"],
            "expiry",
            "--expiry 2030-12-30 is not the label's, 2030-12-31 ((17) expiry)",
        ),
        (
            &["--unit", "lb"],
            "unit",
            "--unit lb is not the label's: it says 25 kg",
        ),
    ] {
        p.refused(&[&base[..], extra].concat(), field, words);
    }
    // Flags that say what the label says are fine; --qty replaces the label's quantity
    // (a short case), as the app lets the clerk type over it.
    let code = p.ok(&[
        &base[..],
        &[
            "--item",
            "flour",
            "--supplier",
            "FARM",
            "--supplier-lot",
            "F-20",
            "--expiry",
            "2030-12-31",
            "--qty",
            "20",
        ],
    ]
    .concat());
    let l = lot(&p, "F-20");
    assert_eq!(l["lot"], code.as_str());
    assert_eq!(l["quantity"], 20);
    assert_eq!(l["supplier"], "FARM");
}

#[test]
fn bad_scans_and_unknown_gtins_are_refused_saying_what_to_do_and_store_nothing() {
    let p = plant();
    // Malformed: the parser's own words, and what to do.
    let r = p.refused(
        &[
            "receive",
            "--scan",
            "]C10109501101530009",
            "--supplier",
            "MILL",
        ],
        "scan",
        "AI (01) GTIN 09501101530009 has check digit 9, but it should be 3; nothing was received",
    );
    assert!(r.stderr.contains("lotline barcode"), "{}", r.stderr);
    // Plain text is not a case label.
    p.refused(
        &["receive", "--scan", "ABC-1", "--supplier", "MILL"],
        "scan",
        "'ABC-1' reads as plain text, not a GS1 case label",
    );
    // A GTIN no item has: how to give it to one.
    let stranger = "00614141000012";
    let scan = format!("]C101{stranger}10X-1{GS}3102000100");
    p.refused(
        &["receive", "--scan", &scan, "--supplier", "MILL"],
        "item",
        &format!(
            "the scanned GTIN {stranger} is not on any item; give the item its GTIN with `lotline item edit CODE --gtin {stranger}`"
        ),
    );
    p.refused(
        &["receive", "--scan", &scan, "--supplier", "MILL", "--item", "FLOUR"],
        "item",
        &format!("if this case is FLOUR, give it the GTIN with `lotline item edit FLOUR --gtin {stranger}`"),
    );
    // What the label does not say, a flag must.
    let no_lot = format!("]C101{FLOUR_GTIN}3102000100");
    p.refused(
        &["receive", "--scan", &no_lot, "--supplier", "MILL"],
        "supplier-lot",
        "the label has no lot (10); give --supplier-lot",
    );
    let no_qty = format!("]C101{FLOUR_GTIN}10X-2");
    p.refused(
        &["receive", "--scan", &no_qty, "--supplier", "MILL"],
        "qty",
        "the label has no quantity",
    );
    p.refused(
        &[
            "receive",
            "--scan",
            &format!("]C101{FLOUR_GTIN}10X-3{GS}3102000100"),
        ],
        "supplier",
        "the label does not name the supplier ((412) GLN); give --supplier",
    );
    // Eggs are counted in dozens: a net weight is no count of them.
    p.refused(
        &[
            "receive",
            "--scan",
            &format!("]C101{EGGS_GTIN}10X-4{GS}3102000100"),
            "--supplier",
            "FARM",
            "--ref",
            "BOL:1",
        ],
        "qty",
        "item EGGS is kept in dozen; the scanned net weight 1.00 kg cannot be converted to it; give the quantity with --qty",
    );
    // The scanner's settings go with a scan only.
    p.refused(
        &[
            "receive",
            "--item",
            "FLOUR",
            "--supplier",
            "MILL",
            "--supplier-lot",
            "X-5",
            "--qty",
            "1",
            "--separator",
            "~",
        ],
        "separator",
        "give them with --scan",
    );
}

/// GLNs are not unique among parties: a supplier retired and added again under a new id
/// keeps its GLN, and two may share one. The label's supplier is the one active supplier
/// with its GLN; with several, --supplier says which and must be one of them; with none,
/// a supplier typed whose own GLN is another is refused.
#[test]
fn the_labels_supplier_is_an_active_one_with_its_gln_and_a_typed_one_must_agree() {
    let p = plant();
    let scan =
        |lot: &str| format!("]C101{FLOUR_GTIN}10{lot}{GS}17301231{GS}3102002500412{FARM_GLN}");
    // FARM retired, its business carried on as FARM2 with the same GLN: the label is
    // FARM2's, and FARM2 may be typed too.
    p.ok(&["party", "retire", "FARM", "--reason", "new company"]);
    p.ok(&[
        "party",
        "add",
        "FARM2",
        "--name",
        "Sunny Ridge Farms LLC",
        "--role",
        "supplier",
        "--gln",
        FARM_GLN,
    ]);
    p.ok(&["receive", "--scan", &scan("G-1")]);
    assert_eq!(lot(&p, "G-1")["supplier"], "FARM2");
    p.ok(&["receive", "--scan", &scan("G-2"), "--supplier", "FARM2"]);
    assert_eq!(lot(&p, "G-2")["supplier"], "FARM2");
    // A second active supplier with the same GLN: the label alone does not say which.
    p.ok(&[
        "party",
        "add",
        "FARM3",
        "--name",
        "Sunny Ridge Eggs",
        "--role",
        "supplier",
        "--gln",
        FARM_GLN,
    ]);
    p.refused(
        &["receive", "--scan", &scan("G-3")],
        "supplier",
        "the label's (412) GLN 0614141000012 is that of suppliers FARM2 and FARM3; give --supplier to say which",
    );
    p.ok(&["receive", "--scan", &scan("G-3"), "--supplier", "FARM3"]);
    assert_eq!(lot(&p, "G-3")["supplier"], "FARM3");
    p.refused(
        &["receive", "--scan", &scan("G-4"), "--supplier", "MILL"],
        "supplier",
        "--supplier MILL is not the supplier on the label: its (412) GLN 0614141000012 is supplier FARM2 or FARM3",
    );
    // A GLN no supplier of ours has: a supplier typed with a GLN of its own that is
    // another is refused naming both; one without a GLN is taken.
    let other =
        |lot: &str| format!("]C101{FLOUR_GTIN}10{lot}{GS}17301231{GS}31020025004120614141999996");
    p.ok(&["party", "edit", "MILL", "--gln", "0614141000029"]);
    p.refused(
        &["receive", "--scan", &other("G-5"), "--supplier", "MILL"],
        "supplier",
        "--supplier MILL has GLN 0614141000029, not the label's (412) GLN 0614141999996",
    );
    p.ok(&["party", "edit", "MILL", "--gln", ""]);
    p.ok(&["receive", "--scan", &other("G-5"), "--supplier", "MILL"]);
    assert_eq!(lot(&p, "G-5")["supplier"], "MILL");
}
