//! Our labels scan back, as a plant would find out: the ZPL is drawn by a renderer that
//! knows only what a Zebra does with it (this file's, written from the ZPL and Code 128
//! rules, sharing nothing with `code128`), the picture is read by an independent decoder
//! (`rxing`, a port of ZXing), and what it reads is typed the way keyboard-wedge scanners
//! type it — with the AIM symbology identifier, without it, or with FNC1 as a leading GS —
//! into lotline's own scan parser and lot lookup, which must find the lot the label is for.

use super::*;
use lotline_domain::scan::{self, ScanConfig};
use lotline_domain::*;
use lotline_station::{Local, StationExt};
use rxing::{BarcodeFormat, DecodeHints, RXingResultMetadataType, RXingResultMetadataValue};

/// Code 128's symbol patterns, values 0 to 105: bar, space, bar, space, bar, space widths
/// in modules (ISO/IEC 15417, table 1). The stop pattern has a seventh bar.
const PATTERNS: [&str; 106] = [
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232",
];
const STOP: &str = "2331112";

/// A label as a Zebra would print it: the page, and every field's place.
struct Page {
    width: u32,
    height: u32,
    texts: Vec<(u32, u32, u32)>,
    codes: Vec<Code>,
}

struct Code {
    x: u32,
    y: u32,
    module: u32,
    height: u32,
    data: String,
}

/// Read the ZPL subset our labels use; anything else fails the test, so a new command
/// in the labels is a renderer to extend, not something silently skipped.
fn read_zpl(z: &str) -> Page {
    let mut page = Page {
        width: 0,
        height: 0,
        texts: Vec::new(),
        codes: Vec::new(),
    };
    let (mut at, mut font, mut module, mut bar) = ((0, 0), None, 2, None);
    let nums =
        |p: &str| -> Vec<u32> { p.split(',').filter_map(|n| n.trim().parse().ok()).collect() };
    for cmd in z.split('^').skip(1) {
        let cmd = cmd.trim_end_matches('\n');
        let (name, params) = cmd.split_at(2.min(cmd.len()));
        match name {
            "XA" | "XZ" | "FH" | "FS" | "LH" => {}
            "CI" => assert_eq!(params, "28", "labels are UTF-8"),
            "PW" => page.width = nums(params)[0],
            "LL" => page.height = nums(params)[0],
            "FO" => at = (nums(params)[0], nums(params)[1]),
            "A0" => font = Some(nums(&params[2..])[0]),
            "BY" => module = nums(params)[0],
            "BC" => {
                let p: Vec<&str> = params.split(',').collect();
                assert_eq!(p[0], "N", "{z}");
                assert_eq!(p[2], "N", "the human-readable line is a text field: {z}");
                assert_eq!(
                    p.get(5).copied(),
                    Some("N"),
                    "only mode N writes every symbol; other modes leave FNC1 to the printer: {z}"
                );
                bar = Some(p[1].parse::<u32>().unwrap());
            }
            "FD" => match bar.take() {
                Some(height) => page.codes.push(Code {
                    x: at.0,
                    y: at.1,
                    module,
                    height,
                    data: params.to_string(),
                }),
                None => {
                    let h = font.take().expect("text has its font");
                    page.texts.push((at.0, at.1, h));
                }
            },
            other => panic!("the test's renderer does not know ^{other}: {z}"),
        }
    }
    page
}

/// The symbol values a Zebra encodes for `^BC` mode N field data: start code, data,
/// check character (the stop pattern is drawn after them).
fn values(data: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut chars = data.chars().peekable();
    // Without a start code a Zebra begins in subset B.
    let mut set = 'B';
    if data.starts_with('>') {
        chars.next();
        let (v, s) = match chars.next() {
            Some('9') => (103, 'A'),
            Some(':') => (104, 'B'),
            Some(';') => (105, 'C'),
            other => panic!("{other:?} is not a start code in {data}"),
        };
        out.push(v);
        set = s;
    } else {
        out.push(104);
    }
    while let Some(c) = chars.next() {
        if c == '>' {
            match chars.next() {
                Some('5') => {
                    out.push(99);
                    set = 'C';
                }
                Some('6') => {
                    out.push(100);
                    set = 'B';
                }
                Some('8') => out.push(102),
                other => panic!("invocation >{other:?} not expected in {data}"),
            }
            continue;
        }
        match set {
            'C' => {
                let d = chars.next().expect("subset C takes digits in pairs");
                let pair: String = [c, d].iter().collect();
                out.push(
                    pair.parse()
                        .unwrap_or_else(|_| panic!("{pair} in subset C: {data}")),
                );
            }
            'B' => {
                assert!(
                    (' '..='\u{7f}').contains(&c),
                    "{c:?} is not in subset B: {data}"
                );
                out.push(c as usize - 32);
            }
            _ => panic!("subset {set} is not used by our labels: {data}"),
        }
    }
    let check = out
        .iter()
        .enumerate()
        .map(|(i, v)| i.max(1) * v)
        .sum::<usize>()
        % 103;
    out.push(check);
    out
}

/// Draw the page's barcodes in black on white, one byte a dot.
fn draw(page: &Page) -> Vec<u8> {
    let mut img = vec![255u8; (page.width * page.height) as usize];
    for code in &page.codes {
        let mut x = code.x;
        let widths: String = values(&code.data)
            .into_iter()
            .map(|v| PATTERNS[v])
            .chain([STOP])
            .collect();
        let total: u32 = widths.bytes().map(|b| u32::from(b - b'0')).sum();
        let quiet = 10 * code.module;
        assert!(
            code.x >= quiet && code.x + total * code.module + quiet <= page.width,
            "the barcode and its quiet zones fit the label's width: at {} with {} modules of {} dots on {}",
            code.x,
            total,
            code.module,
            page.width
        );
        assert!(
            code.y + code.height <= page.height,
            "the barcode fits the label's height"
        );
        for (i, w) in widths.bytes().enumerate() {
            let w = u32::from(w - b'0') * code.module;
            if i % 2 == 0 {
                for y in code.y..code.y + code.height {
                    let row = (y * page.width) as usize;
                    img[row + x as usize..row + (x + w) as usize].fill(0);
                }
            }
            x += w;
        }
    }
    img
}

/// What a scanner reads from the label's lot barcode (the lowest): the text and its
/// symbology identifier.
fn decode(zpl: &str) -> (String, String) {
    decode_all(zpl).pop().expect("a label has a barcode")
}

/// What a scanner reads from each of the label's barcodes, top to bottom: one, or on a
/// case label two (the second holding what the first could not).
fn decode_all(zpl: &str) -> Vec<(String, String)> {
    let page = read_zpl(zpl);
    assert!(
        (1..=2).contains(&page.codes.len()),
        "one barcode a label, two on a case label: {zpl}"
    );
    if page.codes.len() == 2 {
        assert!(
            page.height >= 1218,
            "a second barcode only on a 6 in label: {zpl}"
        );
    }
    for (i, code) in page.codes.iter().enumerate() {
        // Text never runs into the bars.
        for &(_, y, h) in &page.texts {
            assert!(
                y + h <= code.y || y >= code.y + code.height,
                "text at {y} (height {h}) overlaps the barcode at {}..{}: {zpl}",
                code.y,
                code.y + code.height
            );
        }
        // Barcodes are apart, by more than the white band a scanner is shown of each.
        for other in &page.codes[i + 1..] {
            assert!(
                code.y + code.height + 20 <= other.y || other.y + other.height + 20 <= code.y,
                "two barcodes touch: {zpl}"
            );
        }
    }
    let img = draw(&page);
    page.codes
        .iter()
        .map(|code| read_code(&page, &img, code, zpl))
        .collect()
}

/// `code` as the independent decoder reads it from the drawn page `img`.
fn read_code(page: &Page, img: &[u8], code: &Code, zpl: &str) -> (String, String) {
    // The barcode's band, with white above and below, is what the decoder is shown.
    let top = code.y.saturating_sub(10);
    let bottom = (code.y + code.height + 10).min(page.height);
    let band = img[(top * page.width) as usize..(bottom * page.width) as usize].to_vec();
    let mut hints = DecodeHints {
        AssumeGs1: Some(true),
        ..Default::default()
    };
    let r = rxing::helpers::detect_in_luma_with_hints(
        band,
        page.width,
        bottom - top,
        Some(BarcodeFormat::CODE_128),
        &mut hints,
    )
    .unwrap_or_else(|e| panic!("rxing cannot read the label's barcode ({e}): {zpl}"));
    let aim = match r
        .getRXingResultMetadata()
        .get(&RXingResultMetadataType::SYMBOLOGY_IDENTIFIER)
    {
        Some(RXingResultMetadataValue::SymbologyIdentifier(s)) => s.clone(),
        other => panic!("no symbology identifier: {other:?}"),
    };
    let mut text = r.getText().to_string();
    // rxing, told to read GS1, turns every FNC1 value into GS, the check character's too
    // when it happens to be 102; a scanner never sends the check character.
    if values(&code.data).last() == Some(&102) {
        assert_eq!(text.pop(), Some('\u{1d}'), "{zpl}");
    }
    (text, aim)
}

/// The ways a keyboard-wedge scanner types what it read: with the AIM identifier (FNC1 in
/// first place is the `]C1`, later ones GS), without it, and with the first FNC1 as GS.
fn typed(text: &str, aim: &str) -> Vec<String> {
    match text.strip_prefix("]C1") {
        Some(data) => vec![text.to_string(), data.to_string(), format!("\u{1d}{data}")],
        None => vec![format!("{aim}{text}"), text.to_string()],
    }
}

/// Every way of typing `zpl`'s lot barcode must name exactly `want` on `st`; a case
/// label's second barcode reads as GS1 element strings and names no lot, never another.
fn scans_back(st: &Local, zpl: &str, want: &Lot) {
    let mut codes = decode_all(zpl);
    let (text, aim) = codes.pop().unwrap();
    let items = st.items().unwrap();
    for (text, aim) in codes {
        for t in typed(&text, &aim) {
            let s = scan::parse(&t, &ScanConfig::default())
                .unwrap_or_else(|e| panic!("lotline cannot read {t:?} from {zpl}: {e}"));
            let e = lotline_station::lookup::scanned_lots(&s, &items, "scan", st).unwrap_err();
            assert!(
                e.to_string().contains("the scanned label has no lot (10)"),
                "{t:?}: {e}"
            );
        }
    }
    for t in typed(&text, &aim) {
        let s = scan::parse(&t, &ScanConfig::default())
            .unwrap_or_else(|e| panic!("lotline cannot read {t:?} from {zpl}: {e}"));
        let found = lotline_station::lookup::scanned_lots(&s, &items, "scan", st)
            .unwrap_or_else(|e| panic!("{t:?}: {e}"));
        assert_eq!(
            found.iter().map(|l| &l.code).collect::<Vec<_>>(),
            [&want.code],
            "{t:?} scanned from {zpl}"
        );
    }
}

fn station(dir: &tempfile::TempDir) -> Local {
    Local::open(&dir.path().join("plant.redb"), true, "ana", "dock-1").unwrap()
}

/// A lot of a new item, received today: with or without GTIN, expiry, weight.
fn received(
    st: &Local,
    code: &str,
    unit: Unit,
    gtin: Option<&str>,
    qty: &str,
    expiry: bool,
) -> Lot {
    let new = NewItem {
        code: ItemCode::parse(code, "code").unwrap(),
        description: ProductDescription {
            name: format!("Test item {code}"),
            ..Default::default()
        },
        unit,
        kind: ItemKind::Ingredient,
        gtin: gtin.map(|g| Gtin::parse(g, "gtin").unwrap()),
        shelf_life_days: None,
        ftl: false,
        receiving_temp: TempRange::default(),
    };
    st.add_item(new).unwrap();
    let today = st.today().unwrap();
    let r = st
        .receive(NewReceipt {
            item: ItemCode::parse(code, "item").unwrap(),
            supplier: PartyId::parse("MILLCO", "supplier").unwrap(),
            supplier_lot: SupplierLot::parse(&format!("S-{code}"), "supplier-lot").unwrap(),
            qty: Qty::parse_positive(qty, "qty").unwrap(),
            unit: Some(unit),
            date: today,
            expiry: expiry.then(|| today + chrono::Days::new(30)),
            reference: None,
            documents: Default::default(),
            quality: Quality::default(),
            tlc_source_ref: None,
        })
        .unwrap();
    st.lot(r.code).unwrap()
}

#[test]
fn every_label_of_every_size_scans_back_to_its_lot() {
    let dir = tempfile::tempdir().unwrap();
    let st = station(&dir);
    lotline_station::demo::build(&st, &mut |_| {}).unwrap();
    let mut lots: Vec<Lot> = Vec::new();
    // The demo bakery's lots: one of each item, received and made, with and without a
    // GTIN, with and without expiry.
    let all = st.lots(LotFilter::default()).unwrap();
    for i in st.items().unwrap() {
        lots.extend(all.iter().find(|l| l.item == i.code).cloned());
    }
    assert!(
        lots.iter()
            .any(|l| matches!(l.origin, Origin::Produced { .. }))
    );
    assert!(
        lots.iter()
            .any(|l| matches!(l.origin, Origin::Received { .. }))
    );
    lots.extend(
        all.iter()
            .find(|l| matches!(l.origin, Origin::Returned { .. }))
            .cloned(),
    );
    // Weighed items (variable-measure GTINs, starting 9): kg and lb, with and without expiry.
    lots.push(received(
        &st,
        "WEIGHED-KG",
        Unit::Kg,
        Some("90614141000015"),
        "12.345",
        true,
    ));
    lots.push(received(
        &st,
        "WEIGHED-LB",
        Unit::Lb,
        Some("90614141000022"),
        "40",
        false,
    ));
    lots.push(received(
        &st,
        "CASES",
        Unit::Case,
        Some("00614141000043"),
        "12",
        false,
    ));
    lots.push(received(&st, "LOOSE", Unit::Kg, None, "3", false));
    let items = st.items().unwrap();
    let mut gs1 = 0;
    for size in LabelSize::ALL {
        let mut plant = st.plant().unwrap();
        plant.label_size = size;
        for lot in &lots {
            let item = items.iter().find(|i| i.code == lot.item).unwrap();
            let z = zpl(&plant, item, lot);
            scans_back(&st, &z, lot);
            gs1 += usize::from(item.gtin.is_some());
        }
    }
    assert!(gs1 >= 4 * 8, "GS1-128 labels were read: {gs1}");
    // What each kind of label carries, read back through the independent decoder.
    let plant = st.plant().unwrap();
    let read = |code: &str| {
        let lot = lots.iter().find(|l| l.item.as_str() == code).unwrap();
        let item = items.iter().find(|i| i.code == lot.item).unwrap();
        decode(&zpl(&plant, item, lot)).0
    };
    let kg = read("WEIGHED-KG");
    assert!(
        kg.starts_with("]C10190614141000015") && kg.contains("3103012345"),
        "{kg}"
    );
    assert!(
        read("WEIGHED-LB").contains("3200000040"),
        "{}",
        read("WEIGHED-LB")
    );
    assert!(
        read("CASES").starts_with("]C10100614141000043"),
        "{}",
        read("CASES")
    );
    assert!(!read("LOOSE").starts_with("]C1"), "{}", read("LOOSE"));

    // Every item name of the demo bakery is on its label whole (set smaller or wrapped onto
    // two lines), or cut with the mark and a note; the longest one fits whole.
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let longest = items
        .iter()
        .max_by_key(|i| i.description.name.chars().count())
        .unwrap();
    for size in LabelSize::ALL {
        let plant = Plant {
            label_size: size,
            ..st.plant().unwrap()
        };
        for (item, lot) in items
            .iter()
            .filter_map(|i| Some((i, lots.iter().find(|l| l.item == i.code)?)))
        {
            let l = layout(&plant, item, lot);
            let text: Vec<&str> = l
                .blocks
                .iter()
                .filter_map(|b| match b {
                    Block::Text { text, .. } => Some(text.as_str()),
                    Block::Barcode { .. } => None,
                })
                .collect();
            let all = words(&text.join(" "));
            let whole = all.contains(&words(&format!("{}  {}", item.code, item.description.name)));
            let marked = l
                .notes()
                .iter()
                .any(|n| n.starts_with("the item did not fit"))
                && text.iter().any(|t| t.ends_with(CUT));
            assert!(whole || marked, "{}: {}", size, l.preview());
            if item.code == longest.code {
                assert!(
                    whole && !marked,
                    "the longest name, {}: {}",
                    longest.description.name,
                    l.preview()
                );
            }
        }
    }
}

#[test]
fn lot_codes_of_every_length_scan_back_on_every_size() {
    let dir = tempfile::tempdir().unwrap();
    let st = station(&dir);
    st.add_party(NewParty {
        id: PartyId::parse("MILLCO", "id").unwrap(),
        role: Role::Supplier,
        location: Location {
            business_name: "Mill Co".into(),
            ..Default::default()
        },
        gln: None,
        recall_contact: Contact::default(),
    })
    .unwrap();
    let plant0 = st.plant().unwrap();
    let weighed = received(&st, "W", Unit::Kg, Some("90614141000015"), "999.5", true);
    let plain = received(&st, "P", Unit::Kg, None, "1", true);
    let items = st.items().unwrap();
    // Lot codes as long as (10) takes, and longer (plain Code 128), digits and letters.
    for (i, code) in [
        "A",
        "12345678901234567890",
        "ABCDEFGHIJKLMNOPQRST",
        "PLANT2-LINE4-R26325-0007",
        "X1234567890123456789012345678901234567-9",
        "ZYXWVUTSRQPONMLKJIHGFEDCBAZYXWVUTSRQPONM",
    ]
    .into_iter()
    .enumerate()
    {
        for base in [&weighed, &plain] {
            let item = items.iter().find(|it| it.code == base.item).unwrap();
            let mut lot = base.clone();
            lot.code = LotCode::parse(code, "lot").unwrap();
            for size in LabelSize::ALL {
                let plant = Plant {
                    label_size: size,
                    ..plant0.clone()
                };
                let notes = layout(&plant, item, &lot).notes().to_vec();
                assert!(
                    !notes
                        .iter()
                        .any(|n| n.starts_with("the lot code did not fit")),
                    "{code} on {size}: {notes:?}"
                );
                let (text, aim) = decode(&zpl(&plant, item, &lot));
                for t in typed(&text, &aim) {
                    let s = scan::parse(&t, &ScanConfig::default()).unwrap();
                    assert_eq!(
                        lotline_station::lookup::scanned_text(&s),
                        Some(code),
                        "{i}: {t:?} on {size}"
                    );
                }
            }
        }
    }
}

/// A case label holds in a second barcode what the first cannot: read by the independent
/// decoder, the lot's barcode has (01) and (10), the second the expiry, production date
/// and weight, and together they are every element string the lot has. A 4x2 label
/// prints them as text, and says so.
#[test]
fn a_case_label_carries_what_the_first_barcode_cannot_in_a_second() {
    let (i, mut l) = super::tests::made("90614141000015", Unit::Kg, "12.5");
    l.code = LotCode::parse("ABCDEFGHIJKLMNOPQRST", "l").unwrap();
    for size in LabelSize::ALL {
        let plant = Plant {
            label_size: size,
            ..Plant::default()
        };
        let codes = decode_all(&zpl(&plant, &i, &l));
        let read: Vec<&str> = codes.iter().map(|(t, _)| t.as_str()).collect();
        let lay = layout(&plant, &i, &l);
        if size.inches().1 >= 6 {
            assert_eq!(
                read,
                [
                    "]C117261221112611213101000125",
                    "]C1019061414100001510ABCDEFGHIJKLMNOPQRST"
                ],
                "{size}"
            );
            assert_eq!(
                lay.second_barcode_text(),
                Some("(17)261221(11)261121(3101)000125")
            );
            assert!(lay.notes().is_empty(), "{size}: {:?}", lay.notes());
            if size == LabelSize::ALL[2] {
                insta::assert_snapshot!("case_label_with_a_second_barcode", lay.preview());
            }
        } else {
            assert_eq!(read.len(), 1, "{size}");
            assert_eq!(lay.second_barcode_text(), None);
            assert_eq!(lay.notes().len(), 3, "{size}: {:?}", lay.notes());
        }
    }
}

#[test]
fn the_old_mode_d_label_is_what_this_renderer_refuses() {
    // The label before: parentheses left to the printer's mode D. A renderer that takes
    // them literally, or drops the FNC1, is what lost the lot; ours refuses to guess.
    let old = "^XA\n^PW812\n^LL406\n^FO40,230^BY2^BCN,120,Y,N,N,D^FD(01)10614141000125(10)B26277-004(17)270102^FS\n^XZ\n";
    let r = std::panic::catch_unwind(|| read_zpl(old));
    assert!(r.is_err());
    // The check character: start B (104) plus each value times its place, modulo 103.
    // 104 + 48 + 2*42 + 3*42 + 4*17 + 5*18 + 6*19 + 7*35 = 879 = 8*103 + 55.
    assert_eq!(values(">:PJJ123C"), [104, 48, 42, 42, 17, 18, 19, 35, 55]);
}

mod any_lot {
    use super::super::tests::{item, lot};
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

        /// Any lot code, name, quantity, unit, expiry and origin on any size: the label
        /// lays out without overlap, and its barcode reads back to the lot code and the
        /// values it carries, however a scanner types it.
        #[test]
        fn any_label_reads_back_what_it_carries(
            code in "[A-Z0-9][A-Z0-9_./-]{0,39}",
            gtin in 0..3usize,
            milli in 1i64..2_000_000_000,
            unit in 0..4usize,
            expiry in proptest::option::of(0u64..3000),
            produced in any::<bool>(),
            size in 0..4usize,
            name in "\\PC{0,120}",
        ) {
            let mut i = item([None, Some("00614141000036"), Some("90614141000015")][gtin]);
            i.description.name = name;
            let mut l = lot();
            l.code = LotCode::parse(&code, "lot").unwrap();
            l.unit = [Unit::Kg, Unit::Lb, Unit::G, Unit::Case][unit];
            l.quantity = Qty(milli);
            let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
            l.expiry = expiry.map(|d| start + chrono::Days::new(d));
            if produced {
                l.origin = Origin::Produced { line: None };
            }
            let plant = Plant { label_size: LabelSize::ALL[size], ..Plant::default() };
            let z = zpl(&plant, &i, &l);
            let codes = decode_all(&z);
            // Every element string the lot has is in a barcode, or named in a note as left
            // out; a case label leaves none out.
            if let Some(all) = gs1_elements(&i, &l) {
                let mut read: Vec<String> = Vec::new();
                for (text, aim) in &codes {
                    let t = &typed(text, aim)[0];
                    let s = scan::parse(t, &ScanConfig::default())
                        .unwrap_or_else(|e| panic!("{t:?} from {z}: {e}"));
                    read.extend(s.elements().iter().map(|e| format!("({}){}", e.ai, e.value)));
                }
                let notes = layout(&plant, &i, &l).notes().to_vec();
                let mut left_out = 0;
                for e in &all {
                    let es = format!("({}){}", e.ai, e.value);
                    let noted = notes.iter().any(|n| n.starts_with(&format!("({}) ", e.ai)));
                    prop_assert!(read.contains(&es) != noted, "{es}: {read:?} {notes:?}");
                    left_out += usize::from(noted);
                    if plant.label_size.inches().1 >= 6 {
                        prop_assert!(!noted, "{es} left out of a case label: {notes:?}");
                    }
                }
                prop_assert_eq!(read.len() + left_out, all.len(), "{:?}", read);
            }
            let (text, aim) = codes.last().unwrap().clone();
            for t in typed(&text, &aim) {
                let s = scan::parse(&t, &ScanConfig::default())
                    .unwrap_or_else(|e| panic!("{t:?} from {z}: {e}"));
                prop_assert_eq!(lotline_station::lookup::scanned_text(&s), Some(code.as_str()));
                if let Some(g) = &i.gtin && code.len() <= 20 {
                    prop_assert_eq!(s.gtin(), Some(g.as_str()));
                    if let Some(e) = s.expiry() {
                        prop_assert_eq!(Some(e), l.expiry);
                    }
                    // The weight, when the label carries one, is the lot's quantity exactly:
                    // v with n decimals is the quantity in thousandths (of a g: millionths
                    // of a kg).
                    let weight = s.elements().iter().find(|e| {
                        e.ai.len() == 4 && (e.ai.starts_with("310") || e.ai.starts_with("320"))
                    });
                    if let Some(e) = weight {
                        let n = u32::from(e.ai.as_bytes()[3] - b'0');
                        let v: i128 = e.value.parse().unwrap();
                        let (family, places) = match l.unit {
                            Unit::Kg => ("310", 3),
                            Unit::G => ("310", 6),
                            Unit::Lb => ("320", 3),
                            _ => ("none", 0),
                        };
                        prop_assert!(e.ai.starts_with(family), "{} for {:?}", e.ai, l.unit);
                        prop_assert_eq!(
                            v * 10i128.pow(places),
                            i128::from(l.quantity.0) * 10i128.pow(n)
                        );
                    }
                }
            }
        }
    }
}
