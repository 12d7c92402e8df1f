//! The FDA workbook against FDA's template, through the real binary: every sheet's first
//! columns are the template's, in its order (written out here from the template, not
//! from lotline's code), two reference documents per event, dates as date cells; and
//! `lotline kde --missing` on the demo plant finds exactly the gaps a test plants.

use crate::fsma::creamery;
use crate::support::{Plant, demo_copy};
use calamine::{Data, Reader, Xlsx, open_workbook};

/// A location description's columns, as the template splits it.
fn location(prefix: &str) -> Vec<String> {
    [
        "business name",
        "phone",
        "street address",
        "city",
        "state",
        "ZIP",
        "country",
    ]
    .iter()
    .map(|f| format!("{prefix} {f}"))
    .collect()
}

/// A product description's columns, as the template splits it.
fn product(prefix: &str) -> Vec<String> {
    let parts = [
        "product name",
        "brand",
        "commodity",
        "variety",
        "packaging size",
        "packaging style",
    ];
    if prefix.is_empty() {
        [
            "Product name",
            "Brand",
            "Commodity",
            "Variety",
            "Packaging size",
            "Packaging style",
        ]
        .map(String::from)
        .to_vec()
    } else {
        parts.iter().map(|f| format!("{prefix} {f}")).collect()
    }
}

fn cols(titles: &[&str]) -> Vec<String> {
    titles.iter().map(|t| t.to_string()).collect()
}

fn references() -> Vec<String> {
    cols(&[
        "Reference document 1 type",
        "Reference document 1 number",
        "Reference document 2 type",
        "Reference document 2 number",
    ])
}

/// FDA's template, sheet by sheet, in its order.
fn template() -> [(&'static str, Vec<String>); 3] {
    let receiving = [
        cols(&["Traceability lot code"]),
        product(""),
        cols(&["Quantity received", "Unit of measure"]),
        location("Immediate previous source"),
        location("Receiving location"),
        cols(&["Date received"]),
        location("TLC source"),
        cols(&["TLC source reference"]),
        references(),
    ]
    .concat();
    let transformation = [
        cols(&["New traceability lot code"]),
        product("New"),
        cols(&["New quantity", "New unit of measure"]),
        location("Transformation location"),
        cols(&["Date completed", "TLC source reference"]),
        cols(&["Input traceability lot code"]),
        product("Input"),
        cols(&["Input quantity used", "Input unit of measure"]),
        references(),
    ]
    .concat();
    let shipping = [
        cols(&["Traceability lot code", "Quantity", "Unit of measure"]),
        product(""),
        location("Immediate subsequent recipient"),
        location("Ship-from location"),
        cols(&["Date shipped"]),
        location("TLC source"),
        cols(&["TLC source reference"]),
        references(),
    ]
    .concat();
    [
        ("Receiving", receiving),
        ("Transformation", transformation),
        ("Shipping", shipping),
    ]
}

/// Excel's serial day number of a date (days since 1899-12-30).
fn serial(date: &str) -> f64 {
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    (d - chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()).num_days() as f64
}

fn is_date(cell: &Data, date: &str) -> bool {
    matches!(cell, Data::DateTime(d) if d.as_f64() == serial(date))
}

#[test]
fn the_workbook_follows_the_template_with_two_documents_and_date_cells() {
    let (p, custard, ..) = creamery();
    p.ok(&["fsma", "--all", "--xlsx", "fda.xlsx"]);
    let mut wb: Xlsx<_> = open_workbook(p.path("fda.xlsx")).unwrap();
    let mut headers = Vec::new();
    for (name, want) in template() {
        let range = wb.worksheet_range(name).unwrap();
        let header: Vec<String> = range
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert!(
            header.len() > want.len(),
            "{name}: lotline's columns follow"
        );
        assert_eq!(
            header[..want.len()],
            want[..],
            "{name}: the template's order"
        );
        headers.push(header);
    }
    let at = |sheet: usize, title: &str| {
        headers[sheet]
            .iter()
            .position(|h| h == title)
            .unwrap_or_else(|| panic!("no column {title}"))
    };
    // The eggs came with a bill of lading and a purchase order: both, in order.
    let rec = wb.worksheet_range("Receiving").unwrap();
    let eggs = rec.rows().find(|r| r[0] == "SR-1121").unwrap();
    let docs: Vec<String> = references()
        .iter()
        .map(|t| eggs[at(0, t)].to_string())
        .collect();
    assert_eq!(docs, ["BOL", "4471", "PO", "88123"]);
    assert!(
        is_date(&eggs[at(0, "Date received")], "2026-11-01"),
        "{:?}",
        eggs[at(0, "Date received")]
    );
    // One document: the second pair is empty.
    let tra = wb.worksheet_range("Transformation").unwrap();
    let batch: Vec<_> = tra.rows().skip(1).collect();
    assert_eq!(batch.len(), 2, "one row per input");
    for row in &batch {
        assert_eq!(row[0].to_string(), custard);
        assert_eq!(row[at(1, "Reference document 1 type")].to_string(), "WO");
        assert_eq!(row[at(1, "Reference document 2 type")], Data::Empty);
        assert!(is_date(&row[at(1, "Date completed")], "2026-11-02"));
        // The plant is the new lot's TLC source; its GLN is the reference.
        assert_eq!(
            row[at(1, "TLC source reference")].to_string(),
            "0614141000005"
        );
    }
    let shi = wb.worksheet_range("Shipping").unwrap();
    let shipped = shi.rows().nth(1).unwrap();
    assert!(is_date(&shipped[at(2, "Date shipped")], "2026-11-03"));
    assert_eq!(
        shipped[at(2, "Reference document 1 number")].to_string(),
        "5521"
    );
    // The CSV has the same columns, dates as ISO text.
    p.ok(&["fsma", "--all", "--csv", "fda"]);
    let csv = std::fs::read_to_string(p.path("fda/receiving.csv")).unwrap();
    assert_eq!(csv.lines().next().unwrap(), headers[0].join(","));
    let line = csv.lines().find(|l| l.starts_with("SR-1121,")).unwrap();
    assert!(line.contains(",2026-11-01,"), "{line}");
    assert!(line.contains(",BOL,4471,PO,88123,"), "{line}");
}

#[test]
fn a_listed_food_needs_a_reference_document_or_a_reason() {
    let (p, ..) = creamery();
    let receipt = |extra: &[&str]| {
        let mut a = vec![
            "receive",
            "--item",
            "EGGS",
            "--supplier",
            "FARM",
            "--supplier-lot",
            "SR-2000",
            "--qty",
            "5",
            "--date",
            "2026-11-04",
        ];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let args = receipt(&[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    p.refused(&args, "ref", "--no-ref-reason");
    let three = receipt(&["--ref", "BOL:1", "--ref", "PO:2", "--ref", "INV:3"]);
    let three: Vec<&str> = three.iter().map(String::as_str).collect();
    p.refused(&three, "ref", "keeps two per record");
    // A food off the list needs none.
    p.ok(&[
        "receive",
        "--item",
        "SUGAR",
        "--supplier",
        "DIST",
        "--supplier-lot",
        "CS-51",
        "--qty",
        "5",
        "--date",
        "2026-11-04",
    ]);
    // The reason is kept, and shown where the document would be.
    let why = receipt(&["--no-ref-reason", "driver brought no paperwork"]);
    let why: Vec<&str> = why.iter().map(String::as_str).collect();
    p.ok(&why);
    p.ok(&["fsma", "--csv", "fda"]);
    let csv = std::fs::read_to_string(p.path("fda/receiving.csv")).unwrap();
    let line = csv.lines().find(|l| l.starts_with("SR-2000,")).unwrap();
    assert!(line.ends_with(",driver brought no paperwork"), "{line}");
    // A reason given is no gap (the creamery's other gaps are its master data's).
    let missing = p.ok(&["kde", "--missing"]);
    assert!(
        missing.contains("SR-1121") || missing.contains("R26305-001"),
        "{missing}"
    );
    assert!(!missing.contains("reference document"), "{missing}");
}

#[test]
fn kde_missing_on_the_demo_finds_exactly_the_planted_gaps() {
    let p = Plant::empty();
    demo_copy(&p.db);
    // The demo has every KDE.
    let clean = p.run(&["kde", "--missing"]);
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    assert_eq!(clean.stdout, "", "{}", clean.stdout);
    assert!(
        clean.stderr.contains("0 KDEs missing")
            && clean
                .stderr
                .contains("the FDA spreadsheet will have every KDE"),
        "{}",
        clean.stderr
    );
    // Planted: sprouts bought from a grower with no street or ZIP, before anyone marked
    // them as on the Food Traceability List, without a bill of lading, and with no
    // packaging style.
    p.ok(&[
        "item",
        "add",
        "SPROUTS",
        "--name",
        "Alfalfa sprouts",
        "--unit",
        "kg",
        "--pack-size",
        "5 lb",
    ]);
    p.ok(&[
        "party",
        "add",
        "GROWER",
        "--name",
        "Green Shoots",
        "--role",
        "supplier",
        "--phone",
        "503-555-0190",
        "--city",
        "Salem",
        "--state",
        "OR",
    ]);
    let lot = p.ok(&[
        "receive",
        "--item",
        "SPROUTS",
        "--supplier",
        "GROWER",
        "--supplier-lot",
        "GS-7",
        "--qty",
        "10",
    ]);
    p.ok(&["item", "edit", "SPROUTS", "--ftl", "yes"]);
    let found = p.run(&["kde", "--missing"]);
    assert_eq!(found.code, 0, "{}", found.stderr);
    let lines: Vec<&str> = found.stdout.lines().collect();
    assert!(lines[0].starts_with("DATE"), "{}", found.stdout);
    let gaps: Vec<(&str, &str)> = lines[1..]
        .iter()
        .map(|l| {
            assert!(l.contains(&lot) && l.contains("receiving"), "{l}");
            let missing = ["reference document", "GROWER", "SPROUTS packaging style"]
                .into_iter()
                .find(|m| l.contains(m))
                .unwrap_or_else(|| panic!("not planted: {l}"));
            let fill = l.split_once("lotline ").map(|(_, f)| f).unwrap_or("");
            (missing, fill)
        })
        .collect();
    assert_eq!(gaps.len(), 4, "{}", found.stdout);
    assert!(gaps.contains(&(
        "SPROUTS packaging style",
        "item edit SPROUTS --pack-style …"
    )));
    assert!(gaps.contains(&("GROWER", "party edit GROWER --street …")));
    assert!(gaps.contains(&("GROWER", "party edit GROWER --zip …")));
    assert!(
        gaps.iter()
            .any(|(m, f)| *m == "reference document" && f.starts_with("void ")),
        "{gaps:?}"
    );
    assert!(
        found.stderr.contains("4 KDEs missing in 1 event"),
        "{}",
        found.stderr
    );
    // Filled in, the gaps go; the event's own document needs it recorded again.
    p.ok(&["item", "edit", "SPROUTS", "--pack-style", "clamshell"]);
    p.ok(&[
        "party",
        "edit",
        "GROWER",
        "--street",
        "9 Seed Ln",
        "--zip",
        "97301",
    ]);
    let left = p.ok(&["kde", "--missing"]);
    assert_eq!(left.lines().count(), 2, "{left}");
    assert!(left.contains("reference document"), "{left}");
}
