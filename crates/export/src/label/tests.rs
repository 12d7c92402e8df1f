use super::*;
use chrono::{NaiveDate, Utc};
use lotline_domain::*;
use std::time::Duration;

pub(super) fn item(gtin: Option<&str>) -> Item {
    Item {
        code: ItemCode::parse("EGGS", "c").unwrap(),
        description: ProductDescription {
            name: "Shell eggs ^large~".into(),
            ..Default::default()
        },
        unit: Unit::Dozen,
        kind: ItemKind::Ingredient,
        gtin: gtin.map(|g| Gtin::parse(g, "g").unwrap()),
        shelf_life_days: None,
        ftl: true,
        created: Stamp {
            operator: "a".into(),
            station: "b".into(),
            at: Utc::now(),
        },
        receiving_temp: TempRange::default(),
        retired: None,
    }
}

pub(super) fn lot() -> Lot {
    Lot {
        id: LotId(1),
        code: LotCode::parse("R26325-007", "l").unwrap(),
        item: ItemCode::parse("EGGS", "c").unwrap(),
        origin: Origin::Received {
            supplier: PartyId::parse("FARM", "s").unwrap(),
            supplier_lot: SupplierLot::parse("SR-1121", "s").unwrap(),
        },
        event: 1,
        quantity: Qty::from_units(60),
        unit: Unit::Dozen,
        date: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
        expiry: NaiveDate::from_ymd_opt(2026, 12, 21),
        status: LotStatus::Released,
        balance: Qty::from_units(60),
    }
}

#[test]
fn gs1_128_with_the_lot_code_last_and_every_symbol_written_out() {
    let z = zpl(&Plant::default(), &item(Some("00614141000036")), &lot());
    assert!(z.starts_with("^XA") && z.trim_end().ends_with("^XZ"));
    // Start C, FNC1, (01) and (17) in digit pairs, then (10), code B, the lot code.
    assert!(
        z.contains("^BY2^BCN,96,N,N,N,N^FD>;>801006141410000361726122110>6R26325-007^FS"),
        "{z}"
    );
    // No parentheses for the printer to read: the human-readable line is a text field.
    let bars: Vec<&str> = z.lines().filter(|l| l.contains("^BC")).collect();
    assert!(
        bars.len() == 1 && !bars[0].contains('(') && bars[0].contains(",N^FD"),
        "{z}"
    );
    assert!(
        z.contains("^FH^FD(01)00614141000036(17)261221(10)R26325-007^FS"),
        "{z}"
    );
    assert!(z.contains("LOT R26325-007"));
    assert!(z.contains("from FARM lot SR-1121"));
}

#[test]
fn names_in_any_language_reach_the_printer_as_utf8() {
    let mut i = item(None);
    i.description.name = "Crème fraîche 豆腐 \u{202e}x\u{7}".into();
    let mut plant = Plant::default();
    plant.location.business_name = "Boulangerie Étoile 東京".into();
    let z = zpl(&plant, &i, &lot());
    assert!(z.contains("^CI28"), "{z}");
    assert!(!z.contains("^CI0"), "{z}");
    let bytes = z.as_bytes();
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    // "è" is C3 A8, "î" C3 AE, "豆" E8 B1 86 in UTF-8.
    assert!(has("Crème fraîche 豆腐".as_bytes()), "{z}");
    assert!(has(&[0xC3, 0xA8]) && has(&[0xE8, 0xB1, 0x86]));
    assert!(has("Étoile 東京".as_bytes()), "{z}");
    // A bidi override and a bell are not sent to the printer.
    assert!(!z.contains('\u{202e}') && !z.contains('\u{7}'), "{z}");
    assert!(z.contains("豆腐 ?x?"), "{z}");
}

#[test]
fn code_128_of_the_lot_code_otherwise_and_text_is_escaped() {
    let z = zpl(&Plant::default(), &item(None), &lot());
    assert!(z.contains("^BCN,96,N,N,N,N^FD>:R26325-007^FS"), "{z}");
    assert!(
        z.contains("^FH^FDR26325-007^FS"),
        "the lot code is printed under it: {z}"
    );
    assert!(
        z.contains("Shell eggs _5Elarge_7E"),
        "^ and ~ must not reach the printer raw: {z}"
    );
    assert_eq!(z.matches("^XA").count(), 1);
}

#[test]
fn printers_parse_with_clear_errors() {
    assert_eq!(
        Printer::parse("tcp:10.0.0.5:9100", "printer").unwrap(),
        Printer::Tcp("10.0.0.5:9100".into())
    );
    assert_eq!(
        Printer::parse("cmd:lp -d zebra -o raw", "printer").unwrap(),
        Printer::Command("lp -d zebra -o raw".into())
    );
    assert!(
        Printer::parse("tcp:zebra", "printer")
            .unwrap_err()
            .problem
            .contains("HOST:PORT")
    );
    assert!(
        Printer::parse("zebra", "printer")
            .unwrap_err()
            .problem
            .contains("file:PATH")
    );
    assert!(
        Printer::parse("usb:1", "printer")
            .unwrap_err()
            .problem
            .contains("not a kind")
    );
}

#[test]
fn sends_to_a_file_a_command_and_a_tcp_port() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("labels.zpl");
    Printer::File(f.clone()).send("^XA^XZ\n").unwrap();
    Printer::File(f.clone()).send("^XA^XZ\n").unwrap();
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "^XA^XZ\n^XA^XZ\n");
    let g = dir.path().join("cmd.zpl");
    Printer::Command(format!("cat > '{}'", g.display()))
        .send("^XA1^XZ")
        .unwrap();
    assert_eq!(std::fs::read_to_string(&g).unwrap(), "^XA1^XZ");
    let e = Printer::Command("echo jammed >&2; exit 3".into())
        .send("x")
        .unwrap_err();
    assert!(e.contains("failed") && e.contains("jammed"), "{e}");
    // A printer on loopback.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let got = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = String::new();
        std::io::Read::read_to_string(&mut s, &mut buf).unwrap();
        buf
    });
    Printer::Tcp(addr).send("^XA2^XZ").unwrap();
    assert_eq!(got.join().unwrap(), "^XA2^XZ");
}

#[test]
fn a_printer_command_that_never_finishes_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("still-running");
    // `sleep` runs under `sh`: stopping only `sh` would leave it behind.
    let cmd = format!("sleep 30; touch '{}'", marker.display());
    let e = Printer::Command(cmd)
        .send_within("^XA^XZ", Duration::from_millis(300))
        .unwrap_err();
    assert!(e.contains("did not finish within"), "{e}");
    // A command that takes no input and exits 0 is fine; one that reads forever is not.
    let e = Printer::Command("cat > /dev/null; sleep 30".into())
        .send_within("^XA^XZ", Duration::from_millis(300))
        .unwrap_err();
    assert!(e.contains("was stopped"), "{e}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(!marker.exists(), "the whole process group was stopped");
}

#[test]
fn a_tcp_printer_that_stops_reading_times_out_clearly() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    // Accepts, then never reads: the socket buffers fill and the write stalls.
    let held = std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(3));
        drop(s);
    });
    let big = "^XA^FDxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx^FS^XZ".repeat(400_000);
    let e = Printer::Tcp(addr)
        .send_within(&big, Duration::from_millis(500))
        .unwrap_err();
    assert!(e.contains("stopped reading"), "{e}");
    assert!(!e.contains("os error"), "{e}");
    held.join().unwrap();
}

#[test]
fn a_pipe_nobody_reads_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("printer.fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads the NUL-terminated path only.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let e = Printer::File(fifo).send("^XA^XZ").unwrap_err();
    assert!(e.contains("nobody is reading"), "{e}");
}

#[test]
fn barcodes_carry_the_lot_code_exactly() {
    // Found in review: `_` was escaped as _5F inside the barcode itself.
    let mut l = lot();
    l.code = LotCode::parse("R_26325-007", "l").unwrap();
    let z = zpl(&Plant::default(), &item(Some("00614141000036")), &l);
    assert!(z.contains(">6R_26325-007^FS"), "{z}");
    // Longer than AI (10) allows: Code 128 of the lot code instead.
    l.code = LotCode::parse("PLANT2-LINE4-R26325-0007", "l").unwrap();
    let z = zpl(&Plant::default(), &item(Some("00614141000036")), &l);
    assert!(z.contains("^FD>:PLANT2-LINE4-R26325->50007^FS"), "{z}");
}

pub(super) fn made(gtin: &str, unit: Unit, qty: &str) -> (Item, Lot) {
    let mut i = item(Some(gtin));
    i.unit = unit;
    let mut l = lot();
    l.origin = Origin::Produced { line: None };
    l.unit = unit;
    l.quantity = Qty::parse_positive(qty, "q").unwrap();
    (i, l)
}

#[test]
fn element_strings_fixed_length_first_and_the_lot_code_last() {
    let ais = |i: &Item, l: &Lot| -> Vec<String> {
        gs1_elements(i, l)
            .unwrap()
            .into_iter()
            .map(|e| format!("({}){}", e.ai, e.value))
            .collect()
    };
    // A variable-measure item (GTIN starting 9) in kg: the net weight, three decimals
    // only when it needs them.
    let (i, l) = made("90614141000015", Unit::Kg, "12.5");
    assert_eq!(
        ais(&i, &l),
        [
            "(01)90614141000015",
            "(17)261221",
            "(11)261121",
            "(3101)000125",
            "(10)R26325-007"
        ]
    );
    let (i, l) = made("90614141000015", Unit::Lb, "1.234");
    assert_eq!(ais(&i, &l)[3], "(3203)001234");
    let (i, l) = made("90614141000015", Unit::G, "500");
    assert_eq!(ais(&i, &l)[3], "(3101)000005");
    // Too heavy for six digits, a fixed-measure GTIN, or a count: no weight.
    for (g, u, q) in [
        ("90614141000015", Unit::Kg, "1000000"),
        ("00614141000036", Unit::Kg, "12"),
        ("90614141000015", Unit::Case, "12"),
    ] {
        let (i, l) = made(g, u, q);
        assert!(
            ais(&i, &l)
                .iter()
                .all(|e| !e.starts_with("(31") && !e.starts_with("(32")),
            "{g} {u:?} {q}"
        );
    }
    // A received lot has no production date of ours.
    let received = ais(&item(Some("00614141000036")), &lot());
    assert_eq!(
        received,
        ["(01)00614141000036", "(17)261221", "(10)R26325-007"]
    );
}

#[test]
fn every_size_has_its_own_page_and_a_barcode_that_fits_it() {
    let (i, mut l) = made("90614141000015", Unit::Kg, "12.5");
    l.code = LotCode::parse("B26277-004", "l").unwrap();
    for size in LabelSize::ALL {
        let plant = Plant {
            label_size: size,
            ..Plant::default()
        };
        let z = zpl(&plant, &i, &l);
        let (w, h) = size.dots();
        assert!(z.contains(&format!("^PW{w}\n^LL{h}\n")), "{size}: {z}");
    }
}

#[test]
fn the_preview_shows_the_lines_as_printed_and_what_was_cut() {
    let mut i = item(Some("00614141000036"));
    i.description.name = "Organic stone-ground whole wheat flour from the north field of the Prairie Mill, unbleached and unbromated, in 25 kg paper sacks".into();
    let p = preview(&Plant::default(), &i, &lot());
    assert!(
        p.starts_with("4x2 in at 203 dpi (812 x 406 dots)\n+---"),
        "{p}"
    );
    assert!(p.contains("| LOT R26325-007 "), "{p}");
    assert!(p.contains("GS1-128 barcode, 0.25 mm |||"), "{p}");
    assert!(
        p.contains("(01)00614141000036(17)261221(10)R26325-007"),
        "{p}"
    );
    assert!(p.contains(&format!("{CUT} |")), "{p}");
    assert!(
        p.contains("Note: the item did not fit on two lines and is cut (marked …)"),
        "{p}"
    );
}

/// The demo bakery's chocolate chip cookies, the label the issue was found on.
fn cookies() -> (Plant, Item, Lot) {
    let mut plant = Plant::default();
    plant.location.business_name = "Hearth & Harvest Bakery (demo)".into();
    let mut i = item(Some("10614141000125"));
    i.code = ItemCode::parse("COOKIE-CC", "c").unwrap();
    i.description.name = "Chocolate chip cookies 12 x 200 g".into();
    i.unit = Unit::Case;
    let mut l = lot();
    l.code = LotCode::parse("B26277-004", "l").unwrap();
    l.item = i.code.clone();
    l.origin = Origin::Produced { line: None };
    l.date = NaiveDate::from_ymd_opt(2026, 10, 4).unwrap();
    l.expiry = NaiveDate::from_ymd_opt(2027, 1, 2);
    l.unit = Unit::Case;
    l.quantity = Qty::from_units(40);
    (plant, i, l)
}

#[test]
fn the_zpl_and_preview_of_each_size() {
    let (mut plant, i, l) = cookies();
    for size in LabelSize::ALL {
        plant.label_size = size;
        let name = size.as_str();
        insta::assert_snapshot!(format!("zpl_{name}"), zpl(&plant, &i, &l));
        insta::assert_snapshot!(format!("preview_{name}"), preview(&plant, &i, &l));
    }
}

#[test]
fn the_allergen_line_comes_from_the_lot_and_is_left_off_when_none() {
    let line = contains_line("Wheat, Egg, Milk");
    assert_eq!(line.as_deref(), Some("Contains: Wheat, Egg, Milk"));
    assert_eq!(contains_line(" "), None);
    let z = zpl_with(&Plant::default(), &item(None), &lot(), line.as_deref());
    assert!(z.contains("^FH^FDContains: Wheat, Egg, Milk^FS"), "{z}");
    assert!(!zpl(&Plant::default(), &item(None), &lot()).contains("Contains:"));
    // The line stays above the barcode, which still reads back (see scan_back).
    let at = |needle: &str| z.lines().position(|l| l.contains(needle)).unwrap();
    assert!(at("Contains:") < at("^BC"), "{z}");
}

#[test]
fn what_the_width_cannot_hold_leaves_the_barcode_production_date_first() {
    let (i, mut l) = made("90614141000015", Unit::Kg, "12.5");
    l.code = LotCode::parse("B26277-004", "l").unwrap();
    let lay = layout(&Plant::default(), &i, &l);
    assert_eq!(
        lay.barcode_text(),
        "(01)90614141000015(17)261221(3101)000125(10)B26277-004"
    );
    assert_eq!(
        lay.notes(),
        [
            "(11) production date is left out of the barcode: it does not fit the label's width at 0.25 mm bars; it is printed as text"
        ]
    );
    assert!(lay.zpl().contains("Made 2026-11-21"));
    // The longest lot code (10) takes: only what finds the lot stays in the bars.
    l.code = LotCode::parse("ABCDEFGHIJKLMNOPQRST", "l").unwrap();
    let lay = layout(&Plant::default(), &i, &l);
    assert_eq!(
        lay.barcode_text(),
        "(01)90614141000015(10)ABCDEFGHIJKLMNOPQRST"
    );
    let left: Vec<&str> = lay.notes().iter().map(|n| &n[..5]).collect();
    assert_eq!(left, ["(11) ", "(3101", "(17) "]);
}
