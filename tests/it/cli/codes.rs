//! Codes typed or scanned on the command line: GS1 element strings, supplier lots, TLC
//! source references; and labels with any text, a recalled lot's only by force.

use super::*;

#[test]
fn bare_element_strings_read_as_gs1_on_the_command_line() {
    let p = Plant::new();
    p.bakery();
    // No symbology identifier, no leading FNC1: what the app's scan test reads as (01)(10).
    let v = p.json(&["barcode", "0100614141000036\u{1d}10ABC", "--json"]);
    assert_eq!(v["symbology"], Value::Null);
    assert_eq!(v["elements"][0]["ai"], "01");
    assert_eq!(v["elements"][1]["ai"], "10");
    assert_eq!(v["elements"][1]["value"], "ABC");
    assert_eq!(v["item"], "EGGS");
    assert_eq!(v["text"], Value::Null);
    let text = p.ok(&["barcode", "0100614141000036\u{1d}10ABC"]);
    assert!(text.contains("(10)   batch / lot"), "{text}");
    // A wrong check digit: not GS1, a code someone typed.
    let v = p.json(&["barcode", "0100614141000037", "--json"]);
    assert_eq!(v["text"], "0100614141000037");
    // `--separator GS` as in the config file.
    let v = p.json(&[
        "barcode",
        "]C10100614141000036101121-A\u{1d}17261130",
        "--separator",
        "GS",
        "--json",
    ]);
    assert_eq!(v["elements"][1]["value"], "1121-A");
}

/// A produce supplier's case label as scanned at the dock: every element read and shown
/// with its title, the ones the receipt takes told from the ones kept beside it, none
/// refused; only a malformed element refuses the scan, naming the AI and what is wrong.
#[test]
fn every_gs1_ai_on_a_supplier_label_is_read_with_its_title() {
    let p = Plant::new();
    let scan = "]C101006141410000361026-0601\u{1d}7007260601260605\u{1d}422484\u{1d}4300ACME%20FOODS\u{1d}91ROW-7";
    let text = p.ok(&["barcode", scan]);
    for line in [
        "(01)   GTIN",
        "(10)   batch / lot                    26-0601",
        "(7007) harvest date                   260601260605  = 2026-06-01",
        "(422)  country of origin              484",
        "(4300) SHIP TO COMP                   ACME%20FOODS",
        "(91)   INTERNAL                       ROW-7",
    ] {
        assert!(text.contains(line), "{line:?} not in {text}");
    }
    let v = p.json(&["barcode", scan, "--json"]);
    assert_eq!(v["elements"][2]["ai"], "7007");
    assert_eq!(v["elements"][2]["title"], "harvest date");
    assert_eq!(v["elements"][2]["fills_receipt"], false);
    assert_eq!(v["elements"][1]["fills_receipt"], true);
    let r = p.run(&["barcode", "]C10100614141000036\u{1d}422999"]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr
            .contains("AI (422) value 999 is not valid: 999 is not an ISO 3166 country code"),
        "{}",
        r.stderr
    );
}

#[test]
fn supplier_lots_resolve_on_the_command_line_as_in_the_app() {
    let p = Plant::new();
    let (_, eggs, dough, _) = p.bakery();
    // barcode: the supplier lot we received is our lot.
    let text = p.ok(&["barcode", "srf-1121"]);
    assert!(
        text.contains("supplier lot 'srf-1121' is on 1 lot of ours"),
        "{text}"
    );
    assert!(text.contains(&eggs), "{text}");
    let v = p.json(&["barcode", "srf-1121", "--json"]);
    assert_eq!(v["lots"][0]["lot"], eggs.as_str());
    // A GS1 label with the supplier's lot in (10).
    let v = p.json(&["barcode", "]C10100614141000036\u{1d}10srf-1121", "--json"]);
    assert_eq!(v["lots"][0]["lot"], eggs.as_str());
    // trace: the supplier lot is traced as our lot, and says so.
    let t = p.ok(&["trace", "srf-1121", "--forward"]);
    assert!(
        t.starts_with(&format!("Supplier lot srf-1121 is our lot {eggs}.")),
        "{t}"
    );
    assert!(t.contains(&dough), "{t}");
    let j = p.json(&["trace", "srf-1121", "--json"]);
    assert_eq!(j["root"], eggs.as_str());
    // A second delivery under the same supplier lot: both are listed, none is chosen.
    let again = p.ok(&[
        "receive",
        "--item",
        "EGGS",
        "--supplier",
        "FARM",
        "--supplier-lot",
        "srf-1121",
        "--qty",
        "5",
        "--date",
        "2026-11-02",
    ]);
    let r = p.run(&["trace", "srf-1121"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("supplier lot 'srf-1121' is on 2 lots of ours; give one of them")
            && r.stderr.contains(&eggs)
            && r.stderr.contains(&again),
        "{}",
        r.stderr
    );
    let text = p.ok(&["barcode", "srf-1121"]);
    assert!(text.contains("is on 2 lots of ours"), "{text}");
    // Nothing by that name.
    let r = p.run(&["trace", "nope-77"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("nor a supplier lot we received"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_receipt_keeps_the_quantity_as_counted_and_the_tlc_source_reference() {
    let p = Plant::new();
    p.bakery();
    let lot = p.ok(&[
        "receive",
        "--item",
        "FLOUR",
        "--supplier",
        "MILL",
        "--supplier-lot",
        "M-90",
        "--qty",
        "50",
        "--unit",
        "lb",
        "--date",
        "2026-11-04",
        "--tlc-source-ref",
        "GLN 0614141000012",
    ]);
    let text = p.ok(&["lot", &lot]);
    assert!(text.contains("quantity 22.68 kg"), "{text}");
    assert!(text.contains("received 50 lb as counted"), "{text}");
    assert!(text.contains("TLC source GLN 0614141000012"), "{text}");
    let j = p.json(&["lot", &lot, "--json"]);
    assert_eq!(j["quantity"], 22.68);
    assert_eq!(j["received_quantity"], 50);
    assert_eq!(j["received_unit"], "lb");
    assert_eq!(j["tlc_source_ref"], "GLN 0614141000012");
    p.refused(
        &[
            "receive",
            "--item",
            "FLOUR",
            "--supplier",
            "MILL",
            "--supplier-lot",
            "M-91",
            "--qty",
            "5",
            "--tlc-source-ref",
            &"x".repeat(101),
        ],
        "tlc-source-ref",
        "longer than 100",
    );
}

#[test]
fn labels_are_utf8_and_a_recalled_lot_needs_force() {
    let p = Plant::new();
    let (flour, eggs, _, _) = p.bakery();
    p.ok(&[
        "item",
        "add",
        "CREME",
        "--name",
        "Crème fraîche 豆腐",
        "--unit",
        "kg",
    ]);
    let creme = p.ok(&[
        "receive",
        "--item",
        "CREME",
        "--supplier",
        "MILL",
        "--supplier-lot",
        "C-1",
        "--qty",
        "3",
    ]);
    let out = lotline()
        .arg("--db")
        .arg(&p.db)
        .args(["label", &creme, "--zpl"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let z = &out.stdout;
    assert!(
        z.windows(5).any(|w| w == b"^CI28"),
        "UTF-8 code page: {}",
        String::from_utf8_lossy(z)
    );
    let name = "Crème fraîche 豆腐".as_bytes();
    assert!(
        z.windows(name.len()).any(|w| w == name),
        "the name's UTF-8 bytes: {}",
        String::from_utf8_lossy(z)
    );
    // No labels is not a print job.
    let r = p.run(&["label", &flour, "--zpl", "--copies", "0"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--copies"), "{}", r.stderr);
    assert_eq!(
        p.ok(&["label", &flour, "--zpl", "--copies", "3"])
            .matches("^XA")
            .count(),
        3
    );
    // A recalled lot's label is printed only on purpose.
    p.ok(&["recall", &eggs, "--reason", "supplier recall"]);
    let r = p.run(&["label", &eggs, "--zpl"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.starts_with("lotline: force: ") && r.stderr.contains("is recalled"),
        "{}",
        r.stderr
    );
    assert!(p.ok(&["label", &eggs, "--zpl", "--force"]).contains("^XA"));
}

#[test]
fn a_label_is_previewed_as_text_and_laid_out_for_the_plant_s_label_size() {
    let p = Plant::new();
    let (_, eggs, _, _) = p.bakery();
    let shown = p.ok(&["label", &eggs, "--preview"]);
    assert!(
        shown.starts_with("4x2 in at 203 dpi (812 x 406 dots)\n+--"),
        "{shown}"
    );
    assert!(shown.contains(&format!("| LOT {eggs} ")), "{shown}");
    assert!(shown.contains("GS1-128 barcode, 0.25 mm |||"), "{shown}");
    assert!(
        shown.contains(&format!("(01)00614141000036(17)261130(10){eggs}")),
        "{shown}"
    );
    // The size is a plant setting: validated, shown, and what labels are laid out for.
    let r = p.run(&["plant", "set", "--label-size", "4x3-203"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("lotline: label-size: ")
            && r.stderr.contains("4x2-203, 4x2-300, 4x6-203, 4x6-300"),
        "{}",
        r.stderr
    );
    let set = p.ok(&["plant", "set", "--label-size", "4x6@300"]);
    assert!(
        set.contains("label size       4x6-300 (4x6 in at 300 dpi)"),
        "{set}"
    );
    let shown: serde_json::Value =
        serde_json::from_str(&p.ok(&["plant", "show", "--json"])).unwrap();
    assert_eq!(shown["label_size"], "4x6-300");
    assert!(
        p.ok(&["label", &eggs, "--zpl"])
            .contains("^PW1200\n^LL1800\n"),
        "a 4x6 label at 300 dpi"
    );
    assert!(p.ok(&["audit"]).contains("label size: 4x2-203 → 4x6-300"));
    // A recalled lot may be looked at; the preview says what printing it takes.
    p.ok(&["recall", &eggs, "--reason", "supplier recall"]);
    let shown = p.ok(&["label", &eggs, "--preview"]);
    assert!(
        shown.contains("is recalled; printing its label asks first"),
        "{shown}"
    );
}
