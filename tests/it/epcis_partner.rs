//! EPCIS identities a partner can join, through the real binary: a received lot travels
//! as the supplier's LGTIN with our code beside it, `epcis export --lot` takes a
//! supplier's lot code, a repeat delivery imports as a new receipt of the same supplier
//! lot, an event with serial numbers is refused whole with the reason, eventTime is the
//! recorded time in the plant's zone, and every eventID is the standard event hash — the
//! value GS1's reference implementation gives (golden values in `epcis_hash/`, made by
//! `epcis_hash/regen.sh`; this test needs no Python).

use crate::epcis::{Db, assert_valid, read_json, validator};
use lotline_export::epcis::{NS, hash::event_hash};
use serde_json::Value;
use std::path::Path;

/// A zone east of UTC (`+02:00`) as a POSIX TZ string, which needs no zone files.
const TZ: &str = "<+02>-2";

const EGGS_LGTIN: &str = "https://id.gs1.org/01/00614141000036/10/SU26301-2";

/// `lotline` on `db` in the plant's zone.
fn run_tz(db: &Db, args: &[&str]) -> crate::support::Run {
    let mut c = crate::support::lotline();
    c.env("LOTLINE_NO_SERVER", "1")
        .env("LOTLINE_STATION", "dock")
        .env("TZ", TZ)
        .arg("--db")
        .arg(&db.path)
        .args(args);
    crate::support::Run::of(&mut c, None)
}

/// One command given as one line of words.
fn ok_line(db: &Db, line: &str) -> String {
    ok_tz(db, &line.split_whitespace().collect::<Vec<_>>())
}

fn ok_tz(db: &Db, args: &[&str]) -> String {
    let r = run_tz(db, args);
    assert_eq!(r.code, 0, "lotline {args:?} failed: {}", r.stderr);
    r.stdout
}

/// Our lot received under supplier lot `supplier_lot`.
fn our_lot(db: &Db, supplier_lot: &str) -> String {
    let lots = db.json(&["lots", "--supplier-lot", supplier_lot, "--json"]);
    lots[0]["lot"].as_str().unwrap().to_string()
}

/// A small plant with a GLN: eggs (GTIN) from a farm (GLN), flour (no GTIN) from a mill
/// (no GLN), both used in bread (GTIN), shipped to a shop, recorded in the plant's zone.
/// One command a line; `{EGGS}`, `{FLOUR}`, `{BREAD}` are the lots made before it.
const SMALL_PLANT: &[&str] = &[
    "--create plant set --name Partner-Bakery --gln 0614141000012",
    "item add EGGS --name Shell-eggs --unit dozen --gtin 00614141000036",
    "item add FLOUR --name Flour --unit kg",
    "item add BREAD --name Bread --unit case --kind finished --gtin 00614141000043",
    "party add FARM --name Sunny-Farm --role supplier --gln 0614141000029",
    "party add MILL --name Mill --role supplier",
    "party add SHOP --name Corner-Shop --role customer",
    "receive --item EGGS --supplier FARM --supplier-lot SU26301-2 --qty 30 --ref PO:88123",
    "receive --item FLOUR --supplier MILL --supplier-lot M-77 --qty 50 --unit lb",
    "produce --item BREAD --qty 12 --input {EGGS}=2.5 --input {FLOUR}=10",
    "ship --customer SHOP --lot {BREAD}=10 --ref INV:5521",
];

/// Builds [`SMALL_PLANT`] in `db`; returns the bread lot.
fn small_plant(db: &Db) -> String {
    let mut made: Vec<(&str, String)> = Vec::new();
    for line in SMALL_PLANT {
        let args: Vec<String> = line
            .split_whitespace()
            .map(|a| {
                made.iter()
                    .fold(a.to_string(), |a, (name, code)| a.replace(name, code))
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = ok_tz(db, &args).trim().to_string();
        match args[..2] {
            ["receive", "--item"] => made.push((
                if args[2] == "EGGS" {
                    "{EGGS}"
                } else {
                    "{FLOUR}"
                },
                out,
            )),
            ["produce", "--item"] => made.push(("{BREAD}", out)),
            _ => {}
        }
    }
    made.pop().map(|(_, bread)| bread).expect("the bread lot")
}

fn events(doc: &Value) -> &Vec<Value> {
    doc["epcisBody"]["eventList"].as_array().unwrap()
}

fn export(db: &Db, args: &[&str]) -> Value {
    let mut a = vec!["epcis", "export", "--all"];
    a.extend_from_slice(args);
    serde_json::from_str(&ok_tz(db, &a)).unwrap()
}

#[test]
fn a_received_lot_travels_as_the_suppliers_lgtin_with_our_code_beside() {
    let dir = tempfile::tempdir().unwrap();
    let plant = Db::at(dir.path(), "plant.redb");
    let bread = small_plant(&plant);
    let (eggs, flour) = (our_lot(&plant, "SU26301-2"), our_lot(&plant, "M-77"));
    let doc = export(&plant, &[]);
    assert_valid(&validator(), &doc, "the partner plant's export");
    let evs = events(&doc);
    let receiving = |code: &str| {
        evs.iter()
            .find(|e| e["bizStep"] == "receiving" && e["lotline:lots"][0] == code)
            .unwrap_or_else(|| panic!("no receipt of {code}: {evs:#?}"))
    };
    // The code on the supplier's label and in the supplier's own events: their GTIN and
    // their lot, with our code beside it.
    let e = receiving(&eggs);
    assert_eq!(e["quantityList"][0]["epcClass"], EGGS_LGTIN);
    assert_eq!(e["lotline:tlc"], "SU26301-2");
    // Without a GTIN: a lot identifier of that supplier's.
    let f = receiving(&flour);
    assert_eq!(
        f["quantityList"][0]["epcClass"],
        "https://lotline.example/id/gln-0614141000012/party/MILL/item/FLOUR/lot/M-77"
    );
    // The batch names the inputs the same way; what we made is our GTIN and our code.
    let t = evs
        .iter()
        .find(|e| e["type"] == "TransformationEvent")
        .unwrap();
    let inputs: Vec<&str> = t["inputQuantityList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["epcClass"].as_str().unwrap())
        .collect();
    assert!(inputs.contains(&EGGS_LGTIN), "{inputs:?}");
    let out = format!("https://id.gs1.org/01/00614141000043/10/{bread}");
    assert_eq!(t["outputQuantityList"][0]["epcClass"], out.as_str());
    assert_eq!(t["lotline:lots"][2], bread.as_str());

    // Imported at a head office, our codes come back as they were, the supplier lot kept.
    let path = dir.path().join("plant.jsonld");
    std::fs::write(&path, doc.to_string()).unwrap();
    let office = Db::at(dir.path(), "office.redb");
    office.ok(&["epcis", "import", path.to_str().unwrap()]);
    assert_eq!(our_lot(&office, "SU26301-2"), eggs);
    assert_eq!(our_lot(&office, "M-77"), flour);
    assert_eq!(
        office.json(&["trace", &eggs, "--forward", "--json"]),
        plant.json(&["trace", &eggs, "--forward", "--json"])
    );
    assert!(office.ok(&["check"]).contains("all consistent"));
}

#[test]
fn export_lot_takes_a_suppliers_lot_code() {
    let dir = tempfile::tempdir().unwrap();
    let plant = Db::at(dir.path(), "plant.redb");
    small_plant(&plant);
    let eggs = our_lot(&plant, "SU26301-2");
    let r = run_tz(&plant, &["epcis", "export", "--all", "--lot", "SU26301-2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("Supplier lot SU26301-2 is our lot {eggs}.")),
        "{}",
        r.stderr
    );
    let by_supplier: Value = serde_json::from_str(&r.stdout).unwrap();
    let by_ours = export(&plant, &["--lot", &eggs]);
    assert_eq!(events(&by_supplier), events(&by_ours));
    // The receipt, the batch and the shipment of the bread made with it.
    assert_eq!(events(&by_ours).len(), 3, "{by_ours:#}");
    let r = run_tz(
        &plant,
        &["epcis", "export", "--all", "--lot", "NO-SUCH-LOT"],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("not one of our lots, nor a supplier lot we received"),
        "{}",
        r.stderr
    );
}

/// A supplier system's document: one receiving event per `(eventID, lot, date)`, the lot
/// by GTIN and lot code, from the farm's GLN; `serials` adds serial numbers to the last.
fn partner_doc(path: &Path, events: &[(&str, &str, &str)], serials: bool) {
    let list: Vec<Value> = events
        .iter()
        .enumerate()
        .map(|(i, (id, lot, date))| {
            let mut e = serde_json::json!({
                "type": "ObjectEvent", "eventID": id,
                "eventTime": format!("{date}T08:00:00.000-05:00"), "eventTimeZoneOffset": "-05:00",
                "action": "OBSERVE", "bizStep": "https://ref.gs1.org/cbv/BizStep-receiving",
                "quantityList": [{"epcClass": format!("https://id.gs1.org/01/00614141000036/10/{lot}"),
                                  "quantity": 30, "uom": "DZN"}],
                "sourceList": [{"type": "owning_party", "source": "https://id.gs1.org/417/0614141000029"}],
            });
            if serials && i + 1 == events.len() {
                e["epcList"] = serde_json::json!(["https://id.gs1.org/01/00614141000036/21/7001"]);
            }
            e
        })
        .collect();
    let doc = serde_json::json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-21T09:00:00Z",
        "epcisBody": {"eventList": list},
    });
    assert_valid(&validator(), &doc, "the partner's document");
    std::fs::write(path, doc.to_string()).unwrap();
}

#[test]
fn a_repeat_delivery_imports_as_a_new_receipt_of_the_same_supplier_lot() {
    let dir = tempfile::tempdir().unwrap();
    let office = Db::at(dir.path(), "office.redb");
    let (first, second) = (dir.path().join("1.jsonld"), dir.path().join("2.jsonld"));
    partner_doc(
        &first,
        &[("urn:uuid:delivery-1", "SU-9", "2026-11-02")],
        false,
    );
    partner_doc(
        &second,
        &[("urn:uuid:delivery-2", "SU-9", "2026-11-09")],
        false,
    );
    office.ok(&["--create", "epcis", "import", first.to_str().unwrap()]);
    let out = office.ok(&["epcis", "import", second.to_str().unwrap()]);
    assert!(out.contains("imported 1 events"), "{out}");
    let lots = office.json(&["lots", "--supplier-lot", "SU-9", "--json"]);
    let lots = lots.as_array().unwrap();
    assert_eq!(lots.len(), 2, "{lots:#?}");
    let mut dates: Vec<&str> = lots.iter().map(|l| l["date"].as_str().unwrap()).collect();
    dates.sort();
    assert_eq!(dates, ["2026-11-02", "2026-11-09"]);
    assert!(lots.iter().any(|l| l["lot"] == "SU-9"), "{lots:#?}");
    assert!(office.ok(&["check"]).contains("all consistent"));
}

#[test]
fn an_event_with_serial_numbers_is_refused_with_the_reason_never_half_imported() {
    let dir = tempfile::tempdir().unwrap();
    let office = Db::at(dir.path(), "office.redb");
    let doc = dir.path().join("serials.jsonld");
    partner_doc(
        &doc,
        &[
            ("urn:uuid:lots-only", "SU-1", "2026-11-02"),
            ("urn:uuid:with-serials", "SU-2", "2026-11-03"),
        ],
        true,
    );
    let r = office.run(&["--create", "epcis", "import", doc.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stdout.contains(
            "cannot map: event 1 urn:uuid:with-serials: it names 1 serial-numbered instance (epcList)"
        ),
        "{}",
        r.stdout
    );
    assert!(r.stderr.contains("nothing was stored"), "{}", r.stderr);
    // Asked to record the rest, the other event is recorded and this one is skipped whole:
    // no lot SU-2 at all, not one without its serial numbers.
    let out = office.ok(&[
        "--create",
        "epcis",
        "import",
        doc.to_str().unwrap(),
        "--skip-unmappable",
    ]);
    assert!(
        out.contains("skipped: event 1 urn:uuid:with-serials"),
        "{out}"
    );
    assert_eq!(
        office
            .json(&["lots", "--supplier-lot", "SU-1", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        office
            .json(&["lots", "--supplier-lot", "SU-2", "--json"])
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn event_times_are_the_recorded_time_in_the_plants_zone() {
    let dir = tempfile::tempdir().unwrap();
    let plant = Db::at(dir.path(), "plant.redb");
    small_plant(&plant);
    // A receipt entered after the day it happened.
    ok_line(
        &plant,
        "receive --item FLOUR --supplier MILL --supplier-lot M-1 --qty 5 --date 2026-01-05",
    );
    let late = our_lot(&plant, "M-1");
    let doc = export(&plant, &[]);
    let mut recorded_today = 0;
    for e in events(&doc) {
        assert_eq!(e["eventTimeZoneOffset"], "+02:00", "{e:#}");
        let time = e["eventTime"].as_str().unwrap();
        assert!(time.ends_with("+02:00"), "{time}");
        if e["lotline:lots"][0] == late.as_str() {
            assert_eq!(time, "2026-01-05T00:00:00.000+02:00");
            continue;
        }
        // The same instant as when it was recorded.
        let at = chrono::DateTime::parse_from_rfc3339(time).unwrap();
        let rec = chrono::DateTime::parse_from_rfc3339(e["recordTime"].as_str().unwrap()).unwrap();
        assert_eq!(at, rec, "{e:#}");
        recorded_today += 1;
    }
    assert_eq!(recorded_today, 4);
}

/// The hash of every event of `doc` by lotline's own implementation.
fn our_hashes(doc: &Value) -> Vec<String> {
    events(doc)
        .iter()
        .map(|e| event_hash(e, &[("lotline", NS)]))
        .collect()
}

#[test]
fn event_ids_are_the_standard_event_hash_as_gs1s_reference_gives_it() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/epcis_hash");
    let doc = read_json(&dir.join("plant.jsonld"));
    let golden: Vec<String> = std::fs::read_to_string(dir.join("hashes.txt"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(golden.len(), events(&doc).len());
    assert!(golden.len() >= 6, "every kind of event: {golden:#?}");
    // Events with two reference documents (a list the hash sorts) and the reason for none.
    for step in ["receiving", "creating_class_instance", "shipping"] {
        assert!(
            events(&doc).iter().any(|e| e["bizStep"] == step
                && e["bizTransactionList"].as_array().map(Vec::len) == Some(2)),
            "a {step} event with two documents"
        );
    }
    assert!(
        events(&doc)
            .iter()
            .any(|e| e["lotline:noReferenceReason"].is_string())
    );
    // lotline's implementation gives what GS1's gave, and is what the export wrote.
    assert_eq!(our_hashes(&doc), golden);
    let written: Vec<&str> = events(&doc)
        .iter()
        .map(|e| e["eventID"].as_str().unwrap())
        .collect();
    assert_eq!(written, golden);

    // A plant's export now: every eventID is its event's hash, no two alike, and a
    // second export gives the same ids (a partner de-duplicates by them).
    let tmp = tempfile::tempdir().unwrap();
    let plant = Db::at(tmp.path(), "plant.redb");
    let bread = small_plant(&plant);
    let shipment =
        plant.json(&["trace", &bread, "--forward", "--json"])["shipments"][0]["event"].to_string();
    ok_line(
        &plant,
        &format!("return --shipment {shipment} --lot {bread} --qty 1 --reason wet --ref QA:1"),
    );
    let first = export(&plant, &[]);
    assert_valid(&validator(), &first, "an export with a return");
    let ids: Vec<&str> = events(&first)
        .iter()
        .map(|e| e["eventID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, our_hashes(&first));
    assert!(
        ids.iter()
            .all(|i| i.starts_with("ni:///sha-256;") && i.ends_with("?ver=CBV2.0"))
    );
    let distinct: std::collections::BTreeSet<&&str> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len());
    let second = export(&plant, &[]);
    assert_eq!(events(&second), events(&first));
    // The return names the shipment it came back from by the shipment's eventID.
    let ret = events(&first)
        .iter()
        .find(|e| e["disposition"] == "returned")
        .unwrap();
    let ship = events(&first)
        .iter()
        .find(|e| e["bizStep"] == "shipping")
        .unwrap();
    assert_eq!(ret["lotline:returnOf"], ship["eventID"]);
}

/// The partner plant's FTL-only export (what FDA asks for) names the flour its bread used,
/// but flour is not on the list, so its receipt is not in the document. Imported into an
/// empty plant, the flour is kept as a lot known only by the partner's identifier: the
/// batch and its links stand, a trace goes through it, and the full export imported
/// later fills it in as the mill's received lot — the same lot, not a second.
#[test]
fn a_lot_only_named_by_a_partner_is_kept_and_filled_in_by_a_later_document() {
    let dir = tempfile::tempdir().unwrap();
    let plant = Db::at(dir.path(), "plant.redb");
    let bread = small_plant(&plant);
    ok_line(&plant, "item edit EGGS --ftl yes");
    ok_line(&plant, "item edit BREAD --ftl yes");
    let flour = our_lot(&plant, "M-77");
    let ftl_only: Value = serde_json::from_str(&ok_tz(&plant, &["epcis", "export"])).unwrap();
    assert!(
        !events(&ftl_only)
            .iter()
            .any(|e| e["lotline:lots"][0] == flour.as_str() && e["bizStep"] == "receiving"),
        "the flour's receipt is not in an FTL-only export"
    );
    let path = dir.path().join("ftl.jsonld");
    std::fs::write(&path, ftl_only.to_string()).unwrap();
    let office = Db::at(dir.path(), "office.redb");
    let out = office.ok(&["epcis", "import", path.to_str().unwrap()]);
    assert!(out.contains("1 lots the plant had never seen"), "{out}");

    let lot = |db: &Db, code: &str| {
        let lots = db.json(&["lots", "--json"]);
        lots.as_array()
            .unwrap()
            .iter()
            .filter(|l| l["lot"] == code)
            .cloned()
            .collect::<Vec<Value>>()
    };
    let kept = lot(&office, &flour);
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0]["origin"], "partner");
    assert_eq!(
        (kept[0]["quantity"].as_f64(), kept[0]["balance"].as_f64()),
        (Some(10.0), Some(0.0))
    );
    // The trace from the bread back reaches the flour, and says where it is known from.
    let trace = office.ok(&["trace", &bread, "--backward"]);
    assert!(trace.contains(&flour), "{trace}");
    assert!(trace.contains("known only from"), "{trace}");
    let history = office.ok(&["lot", &flour]);
    assert!(
        history.contains(
            "https://lotline.example/id/gln-0614141000012/party/MILL/item/FLOUR/lot/M-77"
        ),
        "{history}"
    );
    assert!(office.ok(&["check"]).contains("all consistent"));

    // The whole plant exported later: the mill's receipt fills the flour in.
    let all = export(&plant, &[]);
    let path = dir.path().join("all.jsonld");
    std::fs::write(&path, all.to_string()).unwrap();
    let out = office.ok(&["epcis", "import", path.to_str().unwrap()]);
    assert!(out.contains("1 such lots filled in"), "{out}");
    let filled = lot(&office, &flour);
    assert_eq!(filled.len(), 1, "{filled:?}");
    assert_eq!(filled[0]["origin"], "received");
    assert_eq!(filled[0]["supplier_lot"], "M-77");
    assert_eq!(our_lot(&office, "M-77"), flour);
    assert_eq!(
        office.json(&["trace", &flour, "--forward", "--json"]),
        plant.json(&["trace", &flour, "--forward", "--json"])
    );
    assert!(office.ok(&["check"]).contains("all consistent"));

    // Either document again adds nothing.
    let before = office.snapshot();
    for doc in ["ftl.jsonld", "all.jsonld"] {
        let p = dir.path().join(doc);
        let out = office.ok(&["epcis", "import", p.to_str().unwrap()]);
        assert!(out.starts_with("imported 0 events"), "{out}");
    }
    assert_eq!(office.snapshot(), before);
}
