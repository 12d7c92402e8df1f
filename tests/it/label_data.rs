//! A scanned supplier label's GS1 elements beyond what the receipt's fields take — a
//! harvest date range, the country of origin, the supplier's own code — kept with the
//! receipt in the same transaction, shown by `lotline lot` and exported on the receiving
//! event in EPCIS (under CBV's attribute names where CBV has one, every element in
//! `lotline:gs1Label`), against a real database file and the real binary.

use crate::epcis::{assert_valid, validator};
use crate::support::Plant;
use lotline_domain::scan::{ScanConfig, parse_at};
use lotline_domain::*;
use lotline_station::{ErrorKind, Local, StationExt};

const EGGS_GTIN: &str = "00614141000036";

fn receipt(today: chrono::NaiveDate, supplier_lot: &str) -> NewReceipt {
    NewReceipt {
        item: ItemCode::parse("EGGS", "item").unwrap(),
        supplier: PartyId::parse("FARM", "supplier").unwrap(),
        supplier_lot: SupplierLot::parse(supplier_lot, "supplier-lot").unwrap(),
        qty: Qty::from_units(30),
        unit: None,
        date: today,
        expiry: None,
        reference: None,
        documents: Default::default(),
        quality: Quality::default(),
        tlc_source_ref: None,
    }
}

/// A plant (in its own file, no server) with item EGGS, supplier FARM and one receipt of
/// supplier lot F-9 from a scanned case label keeping (7007), (422) and (91): the plant
/// and the receipt's lot code.
pub(crate) fn plant_with_a_scanned_receipt() -> (Plant, String) {
    let p = Plant::empty();
    p.ok(&[
        "--no-server",
        "--create",
        "item",
        "add",
        "EGGS",
        "--name",
        "Shell eggs",
        "--unit",
        "dozen",
        "--gtin",
        EGGS_GTIN,
    ]);
    p.ok(&[
        "--no-server",
        "party",
        "add",
        "FARM",
        "--name",
        "Sunny Ridge Farms",
        "--role",
        "supplier",
    ]);
    // What the app's Receive form and `lotline receive --scan` send for a scanned case
    // label (tests/it/cli/receive_scan.rs runs the command): the receipt, and the label's
    // elements it has no field for. Sent here directly, to refuse a bad element below.
    let st = Local::open(&p.db, false, "tester", "test-station").unwrap();
    let today = st.today().unwrap();
    let scan = parse_at(
        &format!("]C101{EGGS_GTIN}10F-9\u{1d}7007250601250605\u{1d}422840\u{1d}91ROW-7"),
        &ScanConfig::default(),
        today,
    )
    .unwrap();
    let label = scan.kept();
    assert_eq!(
        label.iter().map(|e| e.ai.as_str()).collect::<Vec<_>>(),
        ["7007", "422", "91"]
    );
    let created = st
        .receive_scanned(ScannedReceipt {
            receipt: receipt(today, "F-9"),
            label,
        })
        .unwrap();
    st.close().unwrap();
    (p, created.code.to_string())
}

#[test]
fn a_receipts_label_data_is_kept_shown_and_exported() {
    let (p, code) = plant_with_a_scanned_receipt();
    let st = Local::open(&p.db, false, "tester", "test-station").unwrap();
    let today = st.today().unwrap();
    // A label element that is not a valid element string is refused, and with it the
    // receipt: nothing is stored.
    let bad = st.receive_scanned(ScannedReceipt {
        receipt: receipt(today, "F-10"),
        label: vec![LabelElement {
            ai: "422".into(),
            value: "999".into(),
        }],
    });
    let e = bad.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid, "{e}");
    assert_eq!(e.field.as_deref(), Some("label"), "{e}");
    assert!(
        e.message.contains("999 is not an ISO 3166 country code"),
        "{e}"
    );
    st.close().unwrap();
    assert!(!p.ok(&["--no-server", "lots"]).contains("F-10"));

    let shown = p.ok(&["--no-server", "lot", &code]);
    assert!(
        shown.contains(
            "label (7007) harvest date 250601250605, (422) country of origin 840, (91) INTERNAL ROW-7 (kept from the scan of receipt"
        ),
        "{shown}"
    );

    let doc = p.path("export.jsonld");
    p.ok(&[
        "--no-server",
        "epcis",
        "export",
        "--all",
        "--out",
        doc.to_str().unwrap(),
    ]);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&doc).unwrap()).unwrap();
    assert_valid(&validator(), &doc, "an export with label data");
    let events = doc["epcisBody"]["eventList"].as_array().unwrap();
    let received = events
        .iter()
        .find(|e| e["lotline:tlc"] == "F-9")
        .expect("the receiving event");
    assert_eq!(received["lotline:harvestStartDate"], "2025-06-01");
    assert_eq!(received["lotline:harvestEndDate"], "2025-06-05");
    assert_eq!(received["lotline:countryOfOrigin"], "US");
    assert_eq!(
        received["lotline:gs1Label"],
        serde_json::json!({"7007": "250601250605", "422": "840", "91": "ROW-7"})
    );
}
