use super::*;
use proptest::prelude::*;

const RECEIVING: &str = r#"{
      "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                   {"ll": "https://lotline.example/epcis/ns#"}],
      "type": "EPCISDocument", "schemaVersion": "2.0",
      "creationDate": "2026-11-21T09:00:00Z",
      "epcisBody": {"eventList": [
        {"type": "ObjectEvent", "eventID": "urn:uuid:1",
         "eventTime": "2026-11-20T23:30:00Z", "eventTimeZoneOffset": "+02:00",
         "action": "OBSERVE", "bizStep": "urn:epcglobal:cbv:bizstep:receiving",
         "quantityList": [{"epcClass": "https://id.gs1.org/01/09501101530003/10/ab12",
                           "quantity": 22.68, "uom": "KGM"}],
         "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:0614141.00001"}],
         "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000012:88123"}],
         "ll:tlc": "AB12", "ll:temperatureC": "3.5"}
      ]}}"#;

fn read_str(s: &str, opts: &Options) -> Result<Parsed, ReadError> {
    read(s.as_bytes(), "test", opts, &mut |_| {})
}

#[test]
fn a_partners_receiving_event_maps_to_a_receipt() {
    let p = read_str(
        RECEIVING,
        &Options {
            lot_prefix: "P-".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(p.import.unmapped.is_empty(), "{:?}", p.import.unmapped);
    let ev = &p.import.events[0];
    assert_eq!(ev.event_id, "urn:uuid:1");
    // 23:30 UTC is 01:30 the next day at +02:00: the business date is the local one.
    assert_eq!(ev.date.to_string(), "2026-11-21");
    assert_eq!(ev.reference.as_ref().unwrap().to_string(), "PO:88123");
    let ImportKind::Receive {
        line,
        supplier_lot,
        quality,
        supplier,
        item,
        ..
    } = &ev.kind
    else {
        panic!("{:?}", ev.kind)
    };
    assert_eq!(line.lot.as_str(), "P-AB12");
    assert_eq!(line.qty.to_string(), "22.68");
    assert_eq!(line.unit, Unit::Kg);
    // The extension prefix is whatever the document binds to lotline's namespace.
    assert_eq!(supplier_lot.as_str(), "AB12");
    assert_eq!(quality.temperature_dc, Some(35));
    let party = &p.import.parties[*supplier as usize];
    assert_eq!(party.new.id.as_str(), "GLN-0614141000012");
    assert_eq!(party.new.role, Role::Supplier);
    let item = &p.import.items[*item as usize];
    assert_eq!(item.new.code.as_str(), "GTIN-09501101530003");
    assert_eq!(item.new.unit, Unit::Kg);
}

/// Every business transaction of another system's event is read, in the document's order:
/// the first two distinct ones lotline reads become the event's two reference documents.
#[test]
fn the_first_two_business_transactions_are_the_events_documents() {
    let three = r#"[{"type": "urn:epcglobal:cbv:btt:desadv", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000012:ASN-1"},
        {"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000012:ASN-1"},
        {"type": "https://ref.gs1.org/cbv/BTT-po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000012:88123"},
        {"type": "inv", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000012:5521"}]"#;
    let doc = RECEIVING.replace(
        r#"[{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000012:88123"}]"#,
        three,
    );
    assert_ne!(doc, RECEIVING);
    let p = read_str(&doc, &Options::default()).unwrap();
    assert!(p.import.unmapped.is_empty(), "{:?}", p.import.unmapped);
    let ev = &p.import.events[0];
    // The ASN named twice is one document; the invoice, third, is not kept.
    assert_eq!(ev.reference.as_ref().unwrap().to_string(), "ASN:ASN-1");
    assert_eq!(
        ev.documents.second.as_ref().unwrap().to_string(),
        "PO:88123"
    );
    assert_eq!(ev.documents.none_because, None);
    p.import.check().unwrap();

    // lotline's own reason for naming none comes back as the reason.
    let none = RECEIVING
        .replace(
            r#""bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000012:88123"}],"#,
            "",
        )
        .replace(
            r#""ll:tlc": "AB12""#,
            r#""ll:tlc": "AB12", "ll:noReferenceReason": " driver brought none ""#,
        );
    let p = read_str(&none, &Options::default()).unwrap();
    assert!(p.import.unmapped.is_empty(), "{:?}", p.import.unmapped);
    let ev = &p.import.events[0];
    assert_eq!(ev.reference, None);
    assert_eq!(
        ev.documents,
        Documents {
            second: None,
            none_because: Some("driver brought none".into()),
        }
    );
    p.import.check().unwrap();

    // A document named and a reason for having none contradict each other: reported.
    let both = RECEIVING.replace(
        r#""ll:tlc": "AB12""#,
        r#""ll:tlc": "AB12", "ll:noReferenceReason": "none came""#,
    );
    let p = read_str(&both, &Options::default()).unwrap();
    assert!(p.import.events.is_empty(), "{:?}", p.import.events);
    let u = &p.import.unmapped[0];
    assert!(
        u.reason.contains("PO:88123") && u.reason.contains("lotline:noReferenceReason"),
        "{u:?}"
    );
    // So is a reason with a character no record may hold (`\u202e` in the JSON: a
    // right-to-left override).
    let evil = none.replace(" driver brought none ", "none\\u202e");
    let p = read_str(&evil, &Options::default()).unwrap();
    assert!(p.import.events.is_empty(), "{:?}", p.import.events);
    assert!(
        p.import.unmapped[0]
            .reason
            .contains("lotline:noReferenceReason"),
        "{:?}",
        p.import.unmapped
    );
}

#[test]
fn a_receiving_event_with_disposition_returned_maps_to_a_customer_return() {
    let doc = RECEIVING
        .replace(
            "\"action\": \"OBSERVE\",",
            "\"action\": \"OBSERVE\", \"disposition\": \"https://ref.gs1.org/cbv/Disp-returned\",",
        )
        .replace(
            "\"ll:tlc\": \"AB12\"",
            "\"ll:returnLot\": \"ab12-R1\", \"ll:returnOf\": \"urn:uuid:ship-7\", \"ll:reason\": \"torn bags\"",
        );
    let p = read_str(
        &doc,
        &Options {
            lot_prefix: "P-".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(p.import.unmapped.is_empty(), "{:?}", p.import.unmapped);
    let ImportKind::Return {
        customer,
        line,
        return_lot,
        shipment,
        reason,
    } = &p.import.events[0].kind
    else {
        panic!("{:?}", p.import.events[0].kind)
    };
    // The shipped lot and the lot it is kept under both take the prefix.
    assert_eq!(line.lot.as_str(), "P-AB12");
    assert_eq!(line.qty.to_string(), "22.68");
    assert_eq!(return_lot.as_ref().unwrap().as_str(), "P-AB12-R1");
    assert_eq!(shipment.as_deref(), Some("urn:uuid:ship-7"));
    assert_eq!(reason, "torn bags");
    // The source is the customer it came back from.
    let party = &p.import.parties[*customer as usize];
    assert_eq!(party.new.role, Role::Customer);
    // A return of two lots at once is reported, not guessed at.
    let two = doc.replace(
        "\"uom\": \"KGM\"}]",
        "\"uom\": \"KGM\"}, {\"epcClass\": \"https://id.gs1.org/01/09501101530003/10/cd34\", \"quantity\": 1, \"uom\": \"KGM\"}]",
    );
    let p = read_str(&two, &Options::default()).unwrap();
    assert!(
        p.import.unmapped[0]
            .reason
            .contains("one shipped lot at a time"),
        "{:?}",
        p.import.unmapped
    );
}

#[test]
fn bad_documents_say_where() {
    let o = Options::default();
    let e = read_str("{\"type\": \"EPCISDocument\",, }", &o).unwrap_err();
    assert!(e.0.contains("not valid JSON at line 1, column"), "{e}");
    let e = read_str("[1, 2]", &o).unwrap_err();
    assert!(e.0.contains("EPCIS document"), "{e}");
    let e = read_str(&RECEIVING.replace("\"2.0\"", "\"1.2\""), &o).unwrap_err();
    assert!(
        e.0.contains("schemaVersion \"1.2\" is not supported"),
        "{e}"
    );
    let e = read_str(
        &RECEIVING.replace("EPCISDocument", "EPCISQueryDocument"),
        &o,
    )
    .unwrap_err();
    assert!(e.0.contains("lotline imports EPCISDocument"), "{e}");
    let cut = &RECEIVING[..RECEIVING.len() / 2];
    let e = read_str(cut, &o).unwrap_err();
    assert!(e.0.contains("truncated"), "{e}");
    let e = read_str(r#"{"type":"EPCISDocument","schemaVersion":"2.0"}"#, &o).unwrap_err();
    assert!(e.0.contains("no epcisBody"), "{e}");
    let e = read_str("", &o).unwrap_err();
    assert!(e.0.contains("truncated"), "{e}");
}

#[test]
fn sizes_are_bounded() {
    let big_event = RECEIVING.replace(
        "\"ll:tlc\"",
        &format!("\"x\": \"{}\", \"ll:tlc\"", "y".repeat(5000)),
    );
    let small = Options {
        max_event: 4096,
        ..Default::default()
    };
    let e = read_str(&big_event, &small).unwrap_err();
    assert!(e.0.contains("event 0 (starting at byte"), "{e}");
    assert!(e.0.contains("larger than 4096 bytes"), "{e}");
    let tiny = Options {
        max_file: 200,
        ..Default::default()
    };
    let e = read_str(RECEIVING, &tiny).unwrap_err();
    assert!(e.0.contains("document is larger than 200 bytes"), "{e}");
    // A stream that never ends stops at the limit: it is not read into memory.
    let endless = std::io::repeat(b' ');
    let e = read(endless, "t", &tiny, &mut |_| {}).unwrap_err();
    assert!(e.0.contains("larger than 200 bytes"), "{e}");
}

#[test]
fn what_cannot_map_is_reported_with_its_id() {
    let doc = RECEIVING
        .replace("urn:epcglobal:cbv:bizstep:receiving", "inspecting")
        .replace("\"eventID\": \"urn:uuid:1\",", "");
    let p = read_str(&doc, &Options::default()).unwrap();
    assert!(p.import.events.is_empty());
    let u = &p.import.unmapped[0];
    assert!(u.event_id.starts_with("lotline-content-sha256:"), "{u:?}");
    assert!(u.reason.contains("bizStep inspecting"), "{u:?}");
    // The same content gives the same identity: a second import is recognised.
    let again = read_str(&doc, &Options::default()).unwrap();
    assert_eq!(again.import.unmapped[0].event_id, u.event_id);
}

/// What the station checks of every event (`domain::checks`) is met here: an id or a
/// place with control characters is kept escaped or replaced, an event the station
/// would refuse is reported as unmappable instead of sinking the document, and the
/// import as sent passes the station's check.
#[test]
fn what_is_sent_is_what_the_station_accepts() {
    let doc = RECEIVING
        .replace("\"eventID\": \"urn:uuid:1\"", "\"eventID\": \"urn:uuid:\\u001b[2J\"")
        .replace(
            "\"action\": \"OBSERVE\",",
            "\"action\": \"OBSERVE\", \"bizLocation\": {\"id\": \"urn:epc:id:sgln:\\u001b]52;c;x\\u0007\"},",
        );
    let p = read(
        doc.as_bytes(),
        "evil\u{1b}name.jsonld",
        &Options::default(),
        &mut |_| {},
    )
    .unwrap();
    assert!(p.import.unmapped.is_empty(), "{:?}", p.import.unmapped);
    let e = &p.import.events[0];
    assert!(e.event_id.starts_with("lotline-content-sha256:"), "{e:?}");
    let place = e.location.as_deref().unwrap();
    assert!(
        place.contains("\\e]52") && !text::has_unsafe(place),
        "{place}"
    );
    assert!(!text::has_unsafe(&p.import.source), "{}", p.import.source);
    p.import.check().unwrap();
    // A return naming its shipment with control characters: reported, escaped.
    let doc = RECEIVING
        .replace(
            "\"action\": \"OBSERVE\",",
            "\"action\": \"OBSERVE\", \"disposition\": \"https://ref.gs1.org/cbv/Disp-returned\",",
        )
        .replace(
            "\"ll:tlc\": \"AB12\"",
            "\"ll:returnOf\": \"urn:uuid:\\u001b[31m\", \"ll:reason\": \"torn\"",
        );
    let p = read_str(&doc, &Options::default()).unwrap();
    assert!(p.import.events.is_empty(), "{:?}", p.import.events);
    let u = &p.import.unmapped[0];
    assert!(u.reason.contains("lotline:returnOf"), "{u:?}");
    assert!(!text::has_unsafe(&u.reason), "{u:?}");
    p.import.check().unwrap();
}

lotline_domain::fuzz_tiers! {
    fast = 30, full = 300, slow = full_count;

    /// Random bytes never panic the reader.
    #[test]
    fn random_input_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = read(bytes.as_slice(), "t", &Options::default(), &mut |_| {});
    }

    /// A real document with a byte changed, cut short or spliced never panics, and
    /// either reads or says why.
    #[test]
    fn mutated_documents_never_panic(
        at in 0usize..RECEIVING.len(),
        byte in any::<u8>(),
        cut in 0usize..RECEIVING.len(),
    ) {
        let mut b = RECEIVING.as_bytes().to_vec();
        b[at] = byte;
        let _ = read(b.as_slice(), "t", &Options::default(), &mut |_| {});
        let _ = read(&RECEIVING.as_bytes()[..cut], "t", &Options::default(), &mut |_| {});
        let mut spliced = RECEIVING.as_bytes()[..cut].to_vec();
        spliced.extend_from_slice(&RECEIVING.as_bytes()[at..]);
        if let Err(e) = read(spliced.as_slice(), "t", &Options::default(), &mut |_| {}) {
            prop_assert!(!e.0.is_empty());
        }
    }

    /// Values of the wrong JSON type in any field of an event are reported, not panicked on.
    #[test]
    fn wrong_types_in_events_never_panic(
        field in prop::sample::select(vec!["eventTime", "quantityList", "sourceList", "bizStep",
            "epcClass", "quantity", "uom", "eventTimeZoneOffset", "bizTransactionList", "ll:tlc",
            "ll:temperatureC", "type", "action", "eventID"]),
        value in prop::sample::select(vec!["null", "1e400", "-1", "[]", "{}", "\"\"", "[[[]]]",
            "\"urn:epc:class:lgtin:1.2.3\"", "true", "99999999999999999999"]),
    ) {
        let doc = RECEIVING.replace(&format!("\"{field}\": "), &format!("\"{field}\": {value}, \"was-{field}\": "));
        let _ = read_str(&doc, &Options::default());
    }
}

#[test]
fn an_event_with_serial_numbers_is_refused_whole_with_the_reason() {
    // Lot quantities and serial numbers in one event: recording the quantity alone would
    // drop what the serial numbers say, so nothing of it is recorded.
    let doc = RECEIVING.replace(
        "\"action\": \"OBSERVE\",",
        "\"action\": \"OBSERVE\", \"epcList\": [\"urn:epc:id:sgtin:0614141.107346.2017\", \"urn:epc:id:sgtin:0614141.107346.2018\"],",
    );
    let p = read_str(&doc, &Options::default()).unwrap();
    assert!(p.import.events.is_empty(), "{:?}", p.import.events);
    let u = &p.import.unmapped[0];
    assert_eq!(u.event_id, "urn:uuid:1");
    assert!(
        u.reason.contains("2 serial-numbered instances (epcList)")
            && u.reason.contains("not serial numbers"),
        "{u:?}"
    );
}

#[test]
fn our_lot_codes_beside_the_suppliers_identifier_name_the_lot_here() {
    // lotline's export names a received lot by the supplier's GTIN and lot; the code it
    // had at the plant travels in lotline:lots and is the code here.
    let doc = RECEIVING.replace("\"ll:tlc\": \"AB12\",", "\"ll:lots\": [\"R26301-003\"],");
    let opts = Options {
        lot_prefix: "P-".into(),
        ..Default::default()
    };
    let p = read_str(&doc, &opts).unwrap();
    let ImportKind::Receive {
        line, supplier_lot, ..
    } = &p.import.events[0].kind
    else {
        panic!("{:?}", p.import.events)
    };
    assert_eq!(line.lot.as_str(), "P-R26301-003");
    assert_eq!(supplier_lot.as_str(), "ab12");
    // As many codes as quantity elements, or the event does not map.
    let doc = RECEIVING.replace("\"ll:tlc\": \"AB12\",", "\"ll:lots\": [\"A\", \"B\"],");
    let p = read_str(&doc, &opts).unwrap();
    assert!(
        p.import.unmapped[0]
            .reason
            .contains("names 2 lots for 1 quantity elements"),
        "{:?}",
        p.import.unmapped
    );
}

/// RECEIVING with `ll:gs1Label` written as `label` (a JSON object's inside, or any value).
fn with_label(label: &str) -> String {
    RECEIVING.replace(
        "\"ll:tlc\": \"AB12\"",
        &format!("\"ll:tlc\": \"AB12\", \"ll:gs1Label\": {label}"),
    )
}

/// A receipt's scanned label comes back as it was scanned: AI by AI, in order, for the
/// station to keep beside the receipt; the CBV-named fields made from it are not read.
#[test]
fn a_receiving_events_gs1_label_is_the_receipts_label() {
    let doc = with_label(r#"{"7007": "250601250605", "422": "840", "91": "ROW-7"}"#).replace(
        "\"ll:tlc\"",
        "\"ll:countryOfOrigin\": \"DE\", \"ll:harvestStartDate\": \"x\", \"ll:tlc\"",
    );
    let p = read_str(&doc, &Options::default()).unwrap();
    assert!(p.import.unmapped.is_empty(), "{:?}", p.import.unmapped);
    let ImportKind::Receive { label, .. } = &p.import.events[0].kind else {
        panic!("{:?}", p.import.events[0].kind)
    };
    let pairs: Vec<(&str, &str)> = label
        .iter()
        .map(|e| (e.ai.as_str(), e.value.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [("7007", "250601250605"), ("422", "840"), ("91", "ROW-7")]
    );
    p.import.check().unwrap();
    // None given, none kept; an empty object is an empty label.
    for doc in [RECEIVING.to_string(), with_label("{}")] {
        let p = read_str(&doc, &Options::default()).unwrap();
        let ImportKind::Receive { label, .. } = &p.import.events[0].kind else {
            panic!("{:?}", p.import.events[0].kind)
        };
        assert!(label.is_empty(), "{label:?}");
    }
}

/// A label is one case's: on a receiving event of two lots it is not copied onto both
/// receipts (harvest dates and origin read from one case would be said of the other), so
/// the event does not map. Two lots with no label map as before.
#[test]
fn one_label_on_a_receiving_event_of_two_lots_is_not_guessed_at() {
    let two = |doc: &str| {
        doc.replace(
            r#""quantity": 22.68, "uom": "KGM"}],"#,
            r#""quantity": 22.68, "uom": "KGM"},
                          {"epcClass": "https://id.gs1.org/01/09501101530003/10/ab13",
                           "quantity": 10, "uom": "KGM"}],"#,
        )
    };
    let doc = two(&with_label(r#"{"7007": "250601250605", "422": "840"}"#));
    assert!(doc.contains("ab13"), "{doc}");
    let p = read_str(&doc, &Options::default()).unwrap();
    assert!(p.import.events.is_empty(), "{:?}", p.import.events);
    let u = &p.import.unmapped[0];
    assert_eq!(u.event_id, "urn:uuid:1");
    assert!(
        u.reason
            .starts_with("lotline:gs1Label: one scanned label on a receiving event of 2 lots"),
        "{u:?}"
    );
    for doc in [two(RECEIVING), two(&with_label("{}"))] {
        let p = read_str(&doc, &Options::default()).unwrap();
        assert!(p.import.unmapped.is_empty(), "{:?}", p.import.unmapped);
        assert_eq!(p.import.events.len(), 2);
        for ev in &p.import.events {
            let ImportKind::Receive { label, .. } = &ev.kind else {
                panic!("{:?}", ev.kind)
            };
            assert!(label.is_empty(), "{label:?}");
        }
    }
}

/// A label a scan would refuse makes its event unimportable with the reason, never a
/// receipt without its label.
#[test]
fn a_bad_gs1_label_is_the_events_reason_not_to_import() {
    let many: Vec<String> = (0..65)
        .map(|i| format!("\"{}\": \"X\"", 9000 + i))
        .collect();
    let many = format!("{{{}}}", many.join(", "));
    for (label, says) in [
        (
            r#"{"7007": "250601", "999": "1"}"#,
            "is not a GS1 Application Identifier",
        ),
        // A GLN whose check digit is not right (…12 is).
        (r#"{"414": "0614141000013"}"#, "check digit"),
        (r#"{"422": "999"}"#, "999 is not an ISO 3166 country code"),
        (
            r#"{"422": "840", "422": "276"}"#,
            "AI ('422') appears twice",
        ),
        (r#"{"422": 840}"#, "the value of AI ('422') is not a string"),
        (r#"["422", "840"]"#, "is not an object"),
        ("\"(422)840\"", "is not an object"),
        (&many, "65 label elements is more than a label carries"),
    ] {
        let p = read_str(&with_label(label), &Options::default()).unwrap();
        assert!(p.import.events.is_empty(), "{label}: {:?}", p.import.events);
        let u = &p.import.unmapped[0];
        assert_eq!(u.event_id, "urn:uuid:1");
        assert!(
            u.reason.starts_with("lotline:gs1Label") && u.reason.contains(says),
            "{label}: {u:?}"
        );
        assert!(!text::has_unsafe(&u.reason), "{u:?}");
    }
    // The key itself given twice: which label was meant is not known.
    let twice = with_label(r#"{"422": "840"}"#).replace(
        "\"ll:tlc\"",
        "\"ll:gs1Label\": {\"422\": \"276\"}, \"ll:tlc\"",
    );
    // And under its prefixed name and its full one: two labels all the same.
    let both = with_label(r#"{"422": "840"}"#).replace(
        "\"ll:tlc\"",
        &format!(
            "\"{}gs1Label\": {{\"422\": \"276\"}}, \"ll:tlc\"",
            super::super::NS
        ),
    );
    for doc in [twice, both] {
        let p = read_str(&doc, &Options::default()).unwrap();
        assert!(p.import.events.is_empty(), "{:?}", p.import.events);
        assert!(
            p.import.unmapped[0].reason.contains("given twice"),
            "{:?}",
            p.import.unmapped
        );
    }
}

/// Events are read into the same JSON serde_json makes of them, keys in order and the last
/// of a repeated one kept; only the repeat is noted besides.
#[test]
fn events_read_as_serde_json_reads_them() {
    let text = r#"{"a": [1, -2, 3.5, null, true, {"x": {"y": 1, "y": 2}}], "b": {"k": "v", "k": "w"},
        "a": "again", "big": 18446744073709551615, "s": "\u00e9\n"}"#;
    let mut twice = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text);
    let v = StrictValue {
        depth: 0,
        parent: "",
        twice: &mut twice,
    }
    .deserialize(&mut de)
    .unwrap();
    assert_eq!(v, serde_json::from_str::<Value>(text).unwrap());
    assert_eq!(
        v.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["a", "b", "big", "s"]
    );
    // Deeper than one level down, as serde_json reads it: not noted.
    assert_eq!(twice, ["b/k", "a"]);
}
