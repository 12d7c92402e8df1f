use super::*;
use calamine::{Reader, Xlsx, open_workbook};
use lotline_domain::{NewReceipt, Qty, Quality, SupplierLot, Unit};
use lotline_station::Local;
use lotline_station::testing::*;

fn run() -> RunBy {
    RunBy {
        operator: "ana".into(),
        station: "dock-1".into(),
        at: chrono::DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
    }
}

/// The test bakery, with a sugar receipt counted in pounds through a distributor.
fn plant() -> (tempfile::TempDir, Local) {
    let (d, s, _) = bakery();
    add_item(&s, "SUGAR", Unit::Kg, lotline_domain::ItemKind::Ingredient);
    s.apply(
        lotline_station::Command::Receive(NewReceipt {
            item: ItemCode::parse("SUGAR", "item").unwrap(),
            supplier: PartyId::parse("MILL", "supplier").unwrap(),
            supplier_lot: SupplierLot::parse("SW-50", "supplier-lot").unwrap(),
            qty: Qty::from_units(50),
            unit: Some(Unit::Lb),
            date: today(),
            expiry: None,
            reference: Some(Reference::parse("BOL:9", "ref").unwrap()),
            documents: Default::default(),
            quality: Quality::default(),
            tlc_source_ref: Some("GLN 0614141000012".into()),
        }),
        &stamp(),
        today(),
    )
    .unwrap();
    (d, Local::new(s, "ana", "dock-1"))
}

fn all() -> Request {
    Request {
        ftl_only: false,
        ..Default::default()
    }
}

fn column(sheet: &Sheet, title: &str) -> usize {
    sheet
        .columns
        .iter()
        .position(|(t, _)| t == title)
        .unwrap_or_else(|| panic!("no column {title}"))
}

/// A station whose answers of more than 700 events "would not fit": what the server
/// says of a whole plant's history, on a plant small enough for a test.
struct SmallReplies(Local);

impl Station for SmallReplies {
    fn call(
        &self,
        request: lotline_station::Request,
    ) -> Result<lotline_station::Reply, StationError> {
        let reply = self.0.call(request)?;
        match &reply {
            lotline_station::Reply::KdeRecords(r) if r.events.len() > 700 => Err(StationError {
                kind: ErrorKind::TooLarge,
                field: None,
                message: "the answer is 70 MB or more".into(),
            }),
            _ => Ok(reply),
        }
    }
}

#[test]
fn an_answer_too_big_for_one_reply_is_asked_for_in_parts() {
    let (_d, s) = temp_store();
    let spec = lotline_station::testing::plantgen::Spec {
        seed: 5,
        lots_per_day: 150,
        ..lotline_station::testing::plantgen::Spec::new(1_500)
    };
    lotline_station::testing::plantgen::generate(&s, &spec, &mut |_| {}).unwrap();
    let whole = Local::new(s, "ana", "dock-1");
    let mut parts = 0;
    let want = gather(&whole, &all(), &run(), &mut |_| {}).unwrap();
    let small = SmallReplies(whole);
    let got = gather(&small, &all(), &run(), &mut |m| {
        parts += usize::from(m.starts_with("gathering events in parts"));
    })
    .unwrap();
    assert!(parts >= 3, "asked in {parts} splits");
    assert!(want.rows() > 1_000, "{} rows", want.rows());
    assert_eq!(got.sheets, want.sheets, "the same sheets, row for row");
    // Dates asked for are halved the same way.
    let mut dated = all();
    dated.from = Some(spec.end - chrono::Duration::days(8));
    dated.to = Some(spec.end - chrono::Duration::days(1));
    let want = gather(&small.0, &dated, &run(), &mut |_| {}).unwrap();
    let got = gather(&small, &dated, &run(), &mut |_| {}).unwrap();
    assert_eq!(got.sheets, want.sheets);
}

#[test]
fn a_sheet_beyond_what_a_spreadsheet_holds_is_refused_before_any_work() {
    let (_d, st) = plant();
    let mut ex = gather(&st, &all(), &run(), &mut |_| {}).unwrap();
    ex.sheets[1].rows = vec![Vec::new(); XLSX_MAX_ROWS];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.xlsx");
    let e = write_xlsx(&path, &ex).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("xlsx"));
    assert!(
        e.message
            .contains("1,048,576 rows, more than a spreadsheet holds (1,048,575)")
            && e.message.contains("--csv"),
        "{e}"
    );
    assert!(!path.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn sheets_follow_the_template_and_keep_the_pounds() {
    let (_d, st) = plant();
    let ex = gather(&st, &all(), &run(), &mut |_| {}).unwrap();
    let [rec, tra, shi] = &ex.sheets;
    assert_eq!((rec.rows.len(), tra.rows.len(), shi.rows.len()), (3, 3, 2));
    for s in &ex.sheets {
        assert!(
            s.rows.iter().all(|r| r.len() == s.columns.len()),
            "{}",
            s.name
        );
    }
    let sugar = rec
        .rows
        .iter()
        .find(|r| r[0] == Cell::from("SW-50"))
        .expect("the sugar receipt");
    assert_eq!(
        sugar[column(rec, "Quantity received")],
        Cell::Qty(Qty::from_units(50))
    );
    assert_eq!(sugar[column(rec, "Unit of measure")], Cell::from("lb"));
    assert_eq!(sugar[column(rec, "Quantity stocked")].text(), "22.68");
    assert_eq!(sugar[column(rec, "Stock unit")], Cell::from("kg"));
    // Bought through a distributor: the reference stands for the TLC source.
    assert_eq!(
        sugar[column(rec, "TLC source reference")],
        Cell::from("GLN 0614141000012")
    );
    assert_eq!(
        sugar[column(rec, "TLC source business name")],
        Cell::from("")
    );
    assert_eq!(
        sugar[column(rec, "Reference document 1 type")],
        Cell::from("BOL")
    );
    assert_eq!(
        sugar[column(rec, "Reference document 1 number")],
        Cell::from("9")
    );
    assert_eq!(
        sugar[column(rec, "Reference document 2 type")],
        Cell::from("")
    );
    let flour = &rec.rows[0];
    assert_eq!(flour[0], Cell::from("M-88"));
    assert_eq!(
        flour[column(rec, "TLC source business name")],
        Cell::from("MILL Inc")
    );
    // The dough batch: one row per input, tied by the event id.
    let dough: Vec<_> = tra.rows.iter().filter(|r| r[0] == tra.rows[0][0]).collect();
    assert_eq!(dough.len(), 2);
    assert_eq!(
        dough[0][column(tra, "Input traceability lot code")],
        Cell::from("M-88")
    );
    assert_eq!(
        dough[1][column(tra, "Input traceability lot code")],
        Cell::from("f-1121")
    );
    assert_eq!(
        dough[0][column(tra, "Transformation location business name")],
        Cell::from("Unnamed plant")
    );
    // Shipping carries our TLC, our plant as its source.
    let ship = &shi.rows[0];
    assert_eq!(ship[0], ship[column(shi, "Internal lot code")]);
    assert_eq!(
        ship[column(shi, "TLC source business name")],
        Cell::from("Unnamed plant")
    );
    assert_eq!(
        ship[column(shi, "Immediate subsequent recipient business name")],
        Cell::from("SHOP Inc")
    );
    assert!(ex.readme.iter().any(|(k, v)| k == "Produced by"
        && v.starts_with("ana at station dock-1, 2026-11-21 10:00:00 UTC")));
}

#[test]
fn a_customer_return_is_a_receipt_from_the_customer_under_the_shipped_tlc() {
    let (_d, st) = plant();
    let ship = 5;
    let cookies = st
        .kde_records(KdeQuery::default())
        .unwrap()
        .lots
        .into_iter()
        .find(|l| l.item.as_str() == "COOKIE")
        .unwrap();
    let back = st
        .return_goods(lotline_domain::NewReturn {
            shipment: ship.to_string(),
            lot: cookies.code.clone(),
            qty: Qty::from_units(3),
            unit: None,
            date: today(),
            reason: "crushed cases".into(),
            reference: None,
        })
        .unwrap()
        .code;
    let ex = gather(&st, &all(), &run(), &mut |_| {}).unwrap();
    let [rec, _, shi] = &ex.sheets;
    assert!(rec.rows.iter().all(|r| r.len() == rec.columns.len()));
    let row = rec
        .rows
        .iter()
        .find(|r| r[column(rec, "Receipt type")] == Cell::from("customer return"))
        .expect("the return on the Receiving sheet");
    let shipped = shi
        .rows
        .iter()
        .find(|r| r[column(shi, "Event id")] == Cell::Id(ship))
        .unwrap();
    let cell = |name: &str| row[column(rec, name)].clone();
    // The TLC and its source are the shipped lot's, as on its Shipping row.
    assert_eq!(cell("Traceability lot code"), shipped[0]);
    assert_eq!(
        cell("TLC source business name"),
        shipped[column(shi, "TLC source business name")]
    );
    assert_eq!(cell("Internal lot code"), Cell::from(back.as_str()));
    assert_eq!(cell("Quantity received"), Cell::Qty(Qty::from_units(3)));
    assert_eq!(cell("Unit of measure"), Cell::from("case"));
    assert_eq!(cell("Stock unit"), Cell::from("case"));
    assert_eq!(
        cell("Immediate previous source business name"),
        Cell::from("SHOP Inc")
    );
    assert_eq!(
        cell("Receiving location business name"),
        Cell::from("Unnamed plant")
    );
    assert_eq!(cell("Date received"), Cell::Date(today()));
    assert_eq!(cell("Return of shipment"), Cell::Id(ship));
    assert_eq!(cell("Return reason"), Cell::from("crushed cases"));
    // Supplier receipts say so, and leave the return columns blank.
    let flour = &rec.rows[0];
    assert_eq!(
        flour[column(rec, "Receipt type")],
        Cell::from("from supplier")
    );
    assert_eq!(flour[column(rec, "Return of shipment")], Cell::from(""));
    assert!(ex.readme.iter().any(|(k, _)| k == "Customer returns"));
    // By the food: the return comes with it; another food's request leaves it out.
    let cookie = |items: &str| Request {
        items: vec![ItemCode::parse(items, "item").unwrap()],
        ..all()
    };
    let ex = gather(&st, &cookie("COOKIE"), &run(), &mut |_| {}).unwrap();
    assert_eq!(ex.sheets[0].rows.len(), 1);
    let ex = gather(&st, &cookie("EGGS"), &run(), &mut |_| {}).unwrap();
    assert!(
        ex.sheets[0]
            .rows
            .iter()
            .all(|r| r[column(rec, "Receipt type")] == Cell::from("from supplier"))
    );
}

#[test]
fn filters_refuse_what_cannot_be_answered() {
    let (_d, st) = plant();
    // The bakery has no FTL item: the default refuses and says what to do.
    let ftl = Request {
        ftl_only: true,
        ..Default::default()
    };
    let e = gather(&st, &ftl, &run(), &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("--all"), "{e}");
    let e = gather(
        &st,
        &Request {
            items: vec![ItemCode::parse("EGGS", "item").unwrap()],
            ftl_only: true,
            ..Default::default()
        },
        &run(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("item: item EGGS is not on the Food Traceability List"),
        "{e}"
    );
    let e = gather(
        &st,
        &Request {
            items: vec![ItemCode::parse("NOPE", "item").unwrap()],
            ..all()
        },
        &run(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("item: no item NOPE"), "{e}");
    let day = today();
    let e = gather(
        &st,
        &Request {
            from: day.succ_opt(),
            to: Some(day),
            ..all()
        },
        &run(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("from:"), "{e}");
    let e = gather(
        &st,
        &Request {
            from: day.succ_opt(),
            ..all()
        },
        &run(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("nothing was written"), "{e}");
    // By item: eggs' receipt and the batch row that used them.
    let ex = gather(
        &st,
        &Request {
            items: vec![ItemCode::parse("EGGS", "item").unwrap()],
            ..all()
        },
        &run(),
        &mut |_| {},
    )
    .unwrap();
    let n: Vec<usize> = ex.sheets.iter().map(|s| s.rows.len()).collect();
    assert_eq!(n, [1, 1, 0]);
}

#[test]
fn xlsx_reads_back_with_its_sheets_headers_and_rows() {
    let (d, st) = plant();
    let ex = gather(&st, &all(), &run(), &mut |_| {}).unwrap();
    let path = d.path().join("fda.xlsx");
    write_xlsx(&path, &ex).unwrap();
    let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(
        wb.sheet_names(),
        ["Read me", "Receiving", "Transformation", "Shipping"]
    );
    for s in &ex.sheets {
        let range = wb.worksheet_range(s.name).unwrap();
        assert_eq!(range.height(), s.rows.len() + 1, "{}", s.name);
        let header: Vec<String> = range
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        let want: Vec<String> = s.columns.iter().map(|(t, _)| t.clone()).collect();
        assert_eq!(header, want);
    }
    let rec = wb.worksheet_range("Receiving").unwrap();
    let sugar = rec.rows().find(|r| r[0] == "SW-50").unwrap();
    let at = |name: &str| column(&ex.sheets[0], name);
    assert_eq!(sugar[at("Quantity received")], calamine::Data::Float(50.0));
    assert_eq!(sugar[at("Unit of measure")].to_string(), "lb");
    assert_eq!(sugar[at("Quantity stocked")], calamine::Data::Float(22.68));
    let readme = wb.worksheet_range("Read me").unwrap();
    assert!(readme.rows().any(|r| r[0] == "Point of contact"));
    // Never over a file: the second write is refused and the first left as it was.
    let before = std::fs::read(&path).unwrap();
    let e = write_xlsx(&path, &ex).unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn csv_is_formula_safe_and_never_written_over() {
    let (d, st) = plant();
    let ex = gather(&st, &all(), &run(), &mut |_| {}).unwrap();
    let dir = d.path().join("fda");
    let files = write_csv(&dir, &ex).unwrap();
    assert_eq!(files.len(), 4);
    let rec = std::fs::read_to_string(dir.join("receiving.csv")).unwrap();
    assert!(
        rec.starts_with(
            "Traceability lot code,Product name,Brand,Commodity,Variety,Packaging size,Packaging style,Quantity received,Unit of measure,"
        )
    );
    assert!(rec.contains("SW-50,"), "{rec}");
    let e = write_csv(&dir, &ex).unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    let mut sheet = ex.sheets[2].clone();
    sheet.rows[0][0] = Cell::from("=HYPERLINK(\"x\")");
    let text = sheet_csv(&sheet).unwrap();
    assert!(text.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{text}");
}

#[test]
fn one_shipment_for_the_customer() {
    let (_d, st) = plant();
    let ships: Vec<u64> = st
        .kde_records(KdeQuery::default())
        .unwrap()
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Ship(_)))
        .map(|e| e.id)
        .collect();
    let sheet = shipment(&st, ships[1]).unwrap();
    assert_eq!(sheet.rows.len(), 1);
    assert_eq!(
        sheet.rows[0][column(&sheet, "Immediate subsequent recipient business name")],
        Cell::from("CAFE Inc")
    );
    assert!(
        shipment(&st, 1)
            .unwrap_err()
            .to_string()
            .contains("not a shipment")
    );
}
