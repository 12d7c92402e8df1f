//! The event hash against values GS1's reference implementation gave for the same
//! events (`tests/it/epcis_hash/regen.sh` runs it; these were computed with it from the
//! documents written out below).

use super::*;
use serde_json::json;

const PREFIXES: &[(&str, &str)] = &[("lotline", "https://lotline.example/epcis/ns#")];

fn check(event: Value, hex: &str) {
    let want = format!("ni:///sha-256;{hex}?ver=CBV2.0");
    assert_eq!(
        event_hash(&event, PREFIXES),
        want,
        "pre-hash: {}",
        pre_hash(&event, PREFIXES)
    );
}

#[test]
fn a_receipt_with_sources_references_and_extensions() {
    check(
        json!({"type": "ObjectEvent", "eventTime": "2026-11-21T08:00:00.000+02:00", "eventTimeZoneOffset": "+02:00", "recordTime": "2026-11-21T06:00:01.000Z", "action": "OBSERVE", "bizStep": "receiving", "readPoint": {"id": "https://id.gs1.org/414/0614141000012"}, "bizLocation": {"id": "https://id.gs1.org/414/0614141000012"}, "quantityList": [{"epcClass": "https://id.gs1.org/01/00614141000036/10/SU26301-2", "quantity": 22.68, "uom": "KGM"}], "sourceList": [{"type": "owning_party", "source": "https://id.gs1.org/417/0614141000029"}, {"type": "location", "source": "https://id.gs1.org/414/0614141000029"}], "destinationList": [{"type": "owning_party", "destination": "https://id.gs1.org/417/0614141000012"}, {"type": "location", "destination": "https://id.gs1.org/414/0614141000012"}], "bizTransactionList": [{"type": "po", "bizTransaction": "https://lotline.example/id/gln-0614141000012/doc/PO/88123"}], "lotline:tlc": "SU26301-2", "lotline:lots": ["R26301-003"], "lotline:temperatureC": "4.0", "lotline:note": "0123"}),
        "cf16086db4f7c96707fd9bb324e91c140e6695eaba969b565fdbbd0dcde6978c",
    );
}

#[test]
fn a_transformation_with_ilmd_and_an_untyped_document() {
    check(
        json!({"type": "TransformationEvent", "eventTime": "2026-11-21T08:30:00.000+02:00", "eventTimeZoneOffset": "+02:00", "inputQuantityList": [{"epcClass": "https://lotline.example/id/plant/item/FLOUR/lot/R1", "quantity": 50, "uom": "KGM"}, {"epcClass": "https://id.gs1.org/01/00614141000036/10/SU26301-2", "quantity": 2.5, "uom": "DZN"}], "outputQuantityList": [{"epcClass": "https://id.gs1.org/01/00614141000043/10/B26331-004", "quantity": 120, "uom": "CS"}], "bizStep": "creating_class_instance", "readPoint": {"id": "https://lotline.example/id/plant/plant"}, "ilmd": {"cbvmda:itemExpirationDate": "2026-12-21"}, "lotline:productionLine": "L1", "lotline:lots": ["R1", "R26301-003", "B26331-004"], "bizTransactionList": [{"type": "https://lotline.example/epcis/ns#document", "bizTransaction": "https://lotline.example/id/plant/doc/QA/7"}]}),
        "2dafe0b480f035379d55233c489d7f7b5775b6bbe3f4148f52112f6de51da6e3",
    );
}

#[test]
fn an_adjustment_with_a_disposition_and_small_numbers() {
    check(
        json!({"type": "ObjectEvent", "eventTime": "2026-11-22T00:00:00.000-05:00", "eventTimeZoneOffset": "-05:00", "action": "OBSERVE", "bizStep": "https://lotline.example/epcis/ns#adjusting", "disposition": "returned", "quantityList": [{"epcClass": "https://lotline.example/id/plant/item/FLOUR/lot/R1", "quantity": 0.001, "uom": "KGM"}], "lotline:adjustment": "-0.001", "lotline:reason": "spilt 1e3 bags"}),
        "27c2452ce1f0614dc0250df5179bab57b540bf339cd1e1d24eaf2b8dde71a834",
    );
}

/// A shipment with two reference documents: the list is sorted before it is hashed, so
/// the documents in either order are one event (as the reference gives both).
#[test]
fn two_documents_in_either_order_are_one_event() {
    let shipment = json!({"type": "ObjectEvent", "eventTime": "2026-11-21T10:15:00.000+02:00", "eventTimeZoneOffset": "+02:00", "recordTime": "2026-11-21T08:15:01.000Z", "action": "OBSERVE", "bizStep": "shipping", "readPoint": {"id": "https://id.gs1.org/414/0614141000012"}, "bizLocation": {"id": "https://id.gs1.org/414/0614141000012"}, "quantityList": [{"epcClass": "https://id.gs1.org/01/00614141000043/10/B26331-004", "quantity": 10, "uom": "CS"}], "sourceList": [{"type": "owning_party", "source": "https://id.gs1.org/417/0614141000012"}, {"type": "location", "source": "https://id.gs1.org/414/0614141000012"}], "destinationList": [{"type": "owning_party", "destination": "https://id.gs1.org/417/0614141000036"}, {"type": "location", "destination": "https://id.gs1.org/414/0614141000036"}], "bizTransactionList": [{"type": "inv", "bizTransaction": "https://lotline.example/id/gln-0614141000012/doc/INV/5521"}, {"type": "bol", "bizTransaction": "https://lotline.example/id/gln-0614141000012/doc/BOL/9001"}], "lotline:lots": ["B26331-004"]});
    let hex = "d425a08a062b73e735037334a31bc4596ee5c512f4c0bf24e69248912e49782d";
    check(shipment.clone(), hex);
    let mut turned = shipment;
    turned["bizTransactionList"]
        .as_array_mut()
        .unwrap()
        .reverse();
    check(turned, hex);
}

#[test]
fn a_receipt_without_a_document_and_the_reason() {
    check(
        json!({"type": "ObjectEvent", "eventTime": "2026-11-21T08:00:00.000+02:00", "eventTimeZoneOffset": "+02:00", "action": "OBSERVE", "bizStep": "receiving", "readPoint": {"id": "https://id.gs1.org/414/0614141000012"}, "quantityList": [{"epcClass": "https://id.gs1.org/01/00614141000036/10/SU26302-2", "quantity": 6, "uom": "DZN"}], "lotline:tlc": "SU26302-2", "lotline:noReferenceReason": "driver brought no paperwork", "lotline:lots": ["R26302-004"]}),
        "eadad82f47de3efc110f28039c167be3011c86438910543e3d7aaa1dd32bd40c",
    );
}

#[test]
fn numbers_as_python_writes_them() {
    assert_eq!(numeric("50.000").as_deref(), Some("50"));
    assert_eq!(numeric("0123").as_deref(), Some("123"));
    assert_eq!(numeric("-0.0").as_deref(), Some("0"));
    assert_eq!(numeric("22.680").as_deref(), Some("22.68"));
    assert_eq!(numeric("1_000.5").as_deref(), Some("1000.5"));
    assert_eq!(numeric("1e-5").as_deref(), Some("1e-05"));
    assert_eq!(
        numeric("12345678901234567.5").as_deref(),
        Some("12345678901234568")
    );
    assert_eq!(
        numeric("1e30").as_deref(),
        Some("1000000000000000019884624838656")
    );
    assert_eq!(numeric(".5").as_deref(), Some("0.5"));
    for text in ["1__0", "_1", "1e", "R26301-003", "nan", "inf", "", "0x10"] {
        assert_eq!(numeric(text), None, "{text}");
    }
    assert_eq!(py_repr(1.5e16), "1.5e+16");
    assert_eq!(py_repr(0.0001), "0.0001");
    assert_eq!(py_repr(123.0), "123.0");
}

#[test]
fn times_are_utc_to_the_millisecond() {
    assert_eq!(
        utc_millis("2026-11-21T08:00:00+02:00"),
        "2026-11-21T06:00:00.000Z"
    );
    assert_eq!(
        utc_millis("2026-11-21T08:00:00.0125-05:00"),
        "2026-11-21T13:00:00.012Z"
    );
    assert_eq!(utc_millis("not a time"), "not a time");
}
