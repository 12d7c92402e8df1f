//! EPCIS 2.0 export and import through the real binary against real database files:
//! documents validate against GS1's schema, a plant exported and imported into an empty
//! database traces the same both ways, the standard's own examples map as documented, a
//! second import adds nothing, and every kind of bad input is refused with nothing stored.

use crate::support::{Run, demo_copy, lotline};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/epcis")
        .join(name)
}

pub(crate) struct Db {
    pub(crate) path: PathBuf,
}

impl Db {
    pub(crate) fn at(dir: &Path, name: &str) -> Db {
        Db {
            path: dir.join(name),
        }
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        let mut c = lotline();
        c.env("LOTLINE_STATION", "head-office")
            .arg("--db")
            .arg(&self.path)
            .args(args);
        Run::of(&mut c, None)
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args);
        assert_eq!(
            r.code, 0,
            "lotline {args:?} failed: {}\n{}",
            r.stderr, r.stdout
        );
        r.stdout
    }

    pub(crate) fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// Lots, balances and check's counts: what a refused import must leave alone.
    pub(crate) fn snapshot(&self) -> String {
        if !self.path.exists() {
            return String::new();
        }
        format!(
            "{}\n{}",
            self.ok(&["lots", "--json"]),
            self.ok(&["check", "--json"])
        )
    }
}

pub(crate) fn validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(data("EPCIS-JSON-Schema.json")).unwrap())
            .unwrap();
    // Draft-07 with formats checked (URIs, date-times): the schema's $refs are all local,
    // so nothing is fetched.
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

pub(crate) fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .take(5)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what} is not valid EPCIS: {errors:#?}");
}

pub(crate) fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A trace as JSON, without what differs between databases by construction: shipment
/// event ids (numbered by each database) and lot statuses (holds are not traceability
/// events and are not exported).
fn trace(db: &Db, lot: &str, dir: &str) -> Value {
    let mut t = db.json(&["trace", lot, dir, "--json"]);
    for s in t["shipments"].as_array_mut().unwrap() {
        s.as_object_mut().unwrap().remove("event");
    }
    for l in t["lots"].as_array_mut().unwrap() {
        l.as_object_mut().unwrap().remove("status");
    }
    t
}

/// Every standing lot, as `lots --json` shows it, without status.
fn standing_lots(db: &Db) -> Vec<Value> {
    let mut lots: Vec<Value> = db
        .json(&["lots", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["status"] != "voided")
        .cloned()
        .collect();
    for l in &mut lots {
        l.as_object_mut().unwrap().remove("status");
    }
    lots.sort_by_key(|l| l["lot"].as_str().unwrap().to_string());
    lots
}

#[test]
fn the_official_examples_validate_and_a_broken_document_does_not() {
    // The validator itself is checked: GS1's examples pass, and one with a required
    // field removed fails, so a pass below means something.
    let v = validator();
    for f in [
        "Example_9.6.1-ObjectEvent.jsonld",
        "Example_9.6.2-ObjectEvent.jsonld",
        "Example_9.6.4-TransformationEvent.jsonld",
        "ErrorDeclarationAndCorrectiveEvent.jsonld",
    ] {
        assert_valid(&v, &read_json(&data(f)), f);
    }
    let mut broken = read_json(&data("Example_9.6.2-ObjectEvent.jsonld"));
    broken["epcisBody"]["eventList"][0]
        .as_object_mut()
        .unwrap()
        .remove("eventTime");
    assert!(!v.is_valid(&broken));
    let mut bad_uom = read_json(&data("Example_9.6.2-ObjectEvent.jsonld"));
    bad_uom["epcisBody"]["eventList"][0]["quantityList"][0]["uom"] = "kg".into();
    assert!(!v.is_valid(&bad_uom));
}

#[test]
fn a_plant_exported_and_imported_traces_the_same_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let plant = Db::at(dir.path(), "plant.redb");
    demo_copy(&plant.path);
    // Two customer returns of one shipped lot: one named by the shipment's document, with
    // a return document of its own, the other by the shipment's event id.
    let first_batch = standing_lots(&plant)
        .into_iter()
        .find(|l| l["origin"] == "produced")
        .unwrap()["lot"]
        .as_str()
        .unwrap()
        .to_string();
    let t = plant.json(&["trace", &first_batch, "--forward", "--json"]);
    let ships = t["shipments"].as_array().unwrap();
    let one = &ships[0];
    let shipped = one["lot"].as_str().unwrap().to_string();
    let other = ships
        .iter()
        .find(|s| s["lot"] == one["lot"] && s["customer"] != one["customer"])
        .expect("a second customer of the same lot");
    let back_1 = plant
        .ok(&[
            "return",
            "--shipment",
            one["reference"].as_str().unwrap(),
            "--lot",
            &shipped,
            "--qty",
            "1",
            "--reason",
            "crushed cases",
            "--ref",
            "RMA:9",
        ])
        .trim()
        .to_string();
    let back_2 = plant
        .ok(&[
            "return",
            "--shipment",
            &other["event"].to_string(),
            "--lot",
            &shipped,
            "--qty",
            "1",
        ])
        .trim()
        .to_string();
    let doc = dir.path().join("plant.jsonld");
    let r = plant.run(&["epcis", "export", "--all", "--out", doc.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("written to"), "{}", r.stderr);
    assert!(r.stderr.contains(" 2 returns,"), "{}", r.stderr);
    let json = read_json(&doc);
    assert_valid(
        &validator(),
        &json,
        "the demo plant's export, returns and all",
    );
    let events = json["epcisBody"]["eventList"].as_array().unwrap();
    // A return is our food received back from the customer: the shipped lot, in its
    // unit, from the customer, disposition returned; the lot it is kept under here and
    // the shipment it came back from travel beside it.
    let ret = events
        .iter()
        .find(|e| e["lotline:returnLot"] == back_1.as_str())
        .unwrap();
    assert_eq!(ret["type"], "ObjectEvent");
    assert_eq!(ret["bizStep"], "receiving");
    assert_eq!(ret["disposition"], "returned");
    assert_eq!(ret["quantityList"][0]["quantity"], 1);
    assert_eq!(ret["quantityList"][0]["uom"], "CS");
    let class = ret["quantityList"][0]["epcClass"].as_str().unwrap();
    assert!(class.ends_with(&format!("/10/{shipped}")), "{class}");
    let customer = one["customer"].as_str().unwrap();
    assert!(
        ret["sourceList"][0]["source"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/party/{customer}")),
        "{ret}"
    );
    // The shipment it came back from, by the eventID the same export gives it.
    let (kind, number) = one["reference"].as_str().unwrap().split_once(':').unwrap();
    let doc_uri = format!("/doc/{kind}/{number}");
    let shipment = events
        .iter()
        .find(|e| {
            e["bizStep"] == "shipping"
                && e["bizTransactionList"][0]["bizTransaction"]
                    .as_str()
                    .is_some_and(|d| d.ends_with(&doc_uri))
                && e["destinationList"][0]["destination"]
                    .as_str()
                    .is_some_and(|d| {
                        d.ends_with(&format!("/party/{}", one["customer"].as_str().unwrap()))
                    })
        })
        .expect("the shipment in the export");
    assert_eq!(ret["lotline:returnOf"], shipment["eventID"], "{ret}");
    assert_eq!(ret["lotline:reason"], "crushed cases");
    assert_eq!(ret["bizTransactionList"][0]["type"], "rma");
    for step in ["receiving", "shipping"] {
        let e = events.iter().find(|e| e["bizStep"] == step).unwrap();
        assert_eq!(e["type"], "ObjectEvent");
        assert_eq!(e["action"], "OBSERVE");
    }
    let t = events
        .iter()
        .find(|e| e["type"] == "TransformationEvent")
        .unwrap();
    assert_eq!(t["bizStep"], "creating_class_instance");
    assert!(t["inputQuantityList"].as_array().unwrap().len() > 1);
    // Items with a GTIN are named by GS1 Digital Link, the others by lotline's own URIs.
    let classes: Vec<&str> = events
        .iter()
        .flat_map(|e| e["quantityList"].as_array().into_iter().flatten())
        .filter_map(|q| q["epcClass"].as_str())
        .collect();
    assert!(
        classes
            .iter()
            .any(|c| c.starts_with("https://id.gs1.org/01/"))
    );
    assert!(
        classes
            .iter()
            .any(|c| c.starts_with("https://lotline.example/id/"))
    );

    let office = Db::at(dir.path(), "office.redb");
    let out = office.ok(&["epcis", "import", doc.to_str().unwrap()]);
    assert!(
        out.contains(&format!("imported {} events", events.len())),
        "{out}"
    );
    assert_eq!(standing_lots(&office), standing_lots(&plant));
    let lots = standing_lots(&plant);
    let pick = |origin: &str, n: usize| -> Vec<String> {
        lots.iter()
            .filter(|l| l["origin"] == origin)
            .step_by(n)
            .map(|l| l["lot"].as_str().unwrap().to_string())
            .collect()
    };
    let mut sample = pick("received", 25);
    sample.extend(pick("produced", 40));
    assert!(sample.len() >= 10, "{sample:?}");
    // The returns both ways: from the shipped lot and from each return lot.
    sample.extend([shipped.clone(), back_1.clone(), back_2.clone()]);
    for lot in &sample {
        for dir in ["--backward", "--forward"] {
            assert_eq!(
                trace(&office, lot, dir),
                trace(&plant, lot, dir),
                "trace {lot} {dir}"
            );
        }
    }
    assert!(office.ok(&["check"]).contains("all consistent"));

    // The same document again adds nothing.
    let before = office.snapshot();
    let again = office.ok(&["epcis", "import", doc.to_str().unwrap()]);
    assert!(again.contains("imported 0 events"), "{again}");
    assert!(
        again.contains(&format!("{} already imported", events.len())),
        "{again}"
    );
    assert_eq!(office.snapshot(), before);

    // Another system's return names neither the lot it is kept under nor the shipment:
    // it is recorded against the latest shipment of the lot to that customer, under the
    // usual return lot code, and traces the same.
    let mut partner = json.clone();
    for e in partner["epcisBody"]["eventList"].as_array_mut().unwrap() {
        if e["disposition"] == "returned" {
            let o = e.as_object_mut().unwrap();
            o.remove("lotline:returnLot");
            o.remove("lotline:returnOf");
            o.insert(
                "disposition".into(),
                "urn:epcglobal:cbv:disp:returned".into(),
            );
        }
    }
    let partner_doc = dir.path().join("partner.jsonld");
    std::fs::write(&partner_doc, partner.to_string()).unwrap();
    let other_office = Db::at(dir.path(), "other.redb");
    other_office.ok(&["epcis", "import", partner_doc.to_str().unwrap()]);
    for lot in [&shipped, &back_1, &back_2] {
        assert_eq!(
            trace(&other_office, lot, "--backward"),
            trace(&plant, lot, "--backward"),
            "{lot}"
        );
    }
}

#[test]
fn a_generated_plant_with_corrections_round_trips() {
    // The generated plant has balance corrections, holds and voided events: voided events
    // stay out, corrections travel, so every balance comes out the same.
    let dir = tempfile::tempdir().unwrap();
    let plant = Db::at(dir.path(), "gen.redb");
    plant.ok(&["generate", "--lots", "1500", "--seed", "7"]);
    let doc = dir.path().join("gen.jsonld");
    plant.ok(&["epcis", "export", "--all", "--out", doc.to_str().unwrap()]);
    assert_valid(
        &validator(),
        &read_json(&doc),
        "the generated plant's export",
    );
    let office = Db::at(dir.path(), "office.redb");
    office.ok(&["epcis", "import", doc.to_str().unwrap()]);
    assert_eq!(standing_lots(&office), standing_lots(&plant));
    assert!(office.ok(&["check"]).contains("all consistent"));
}

#[test]
fn two_plants_merge_at_a_head_office_under_their_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let a = Db::at(dir.path(), "a.redb");
    demo_copy(&a.path);
    let b = Db::at(dir.path(), "b.redb");
    b.ok(&["generate", "--lots", "400", "--seed", "3"]);
    let (da, db) = (dir.path().join("a.jsonld"), dir.path().join("b.jsonld"));
    a.ok(&["epcis", "export", "--all", "--out", da.to_str().unwrap()]);
    b.ok(&["epcis", "export", "--all", "--out", db.to_str().unwrap()]);
    let office = Db::at(dir.path(), "office.redb");
    office.ok(&[
        "epcis",
        "import",
        da.to_str().unwrap(),
        "--lot-prefix",
        "A-",
    ]);
    office.ok(&[
        "epcis",
        "import",
        db.to_str().unwrap(),
        "--lot-prefix",
        "B-",
    ]);
    // Each plant's lots are there under its prefix, with the same traces.
    let lot_a = standing_lots(&a)[0]["lot"].as_str().unwrap().to_string();
    let lot_b = standing_lots(&b)[0]["lot"].as_str().unwrap().to_string();
    let prefixed = |t: Value, p: &str| -> Value {
        let s = t.to_string();
        let mut v: Value = serde_json::from_str(&s).unwrap();
        for l in v["lots"].as_array_mut().unwrap() {
            let code = format!("{p}{}", l["lot"].as_str().unwrap());
            l["lot"] = code.into();
        }
        v
    };
    let t_a = trace(&office, &format!("A-{lot_a}"), "--forward");
    assert_eq!(
        t_a["lots"],
        prefixed(trace(&a, &lot_a, "--forward"), "A-")["lots"]
    );
    let t_b = trace(&office, &format!("B-{lot_b}"), "--forward");
    assert_eq!(
        t_b["lots"],
        prefixed(trace(&b, &lot_b, "--forward"), "B-")["lots"]
    );
    assert!(office.ok(&["check"]).contains("all consistent"));
}

#[test]
fn filters_choose_the_events_and_an_empty_choice_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let plant = Db::at(dir.path(), "plant.redb");
    demo_copy(&plant.path);
    let count = |args: &[&str]| -> usize {
        let mut a = vec!["epcis", "export"];
        a.extend_from_slice(args);
        let v: Value = serde_json::from_str(&plant.ok(&a)).unwrap();
        v["epcisBody"]["eventList"].as_array().unwrap().len()
    };
    let all = count(&["--all"]);
    let ftl = count(&[]);
    assert!(ftl > 0 && ftl < all, "{ftl} of {all}");
    let eggs = count(&["--all", "--item", "EGGS"]);
    assert!(eggs > 0 && eggs < all);
    // By food the export starts from the food's lots: exactly the events of the whole
    // export that name an EGGS lot, within the dates.
    let ids_of = |v: &Value| -> std::collections::BTreeSet<String> {
        v["epcisBody"]["eventList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["eventID"].as_str().unwrap().to_string())
            .collect()
    };
    let egg_lots: Vec<String> = plant
        .json(&["lots", "--json", "--item", "EGGS"])
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lot"].as_str().unwrap().to_string())
        .collect();
    let names_an_egg_lot = |e: &Value| {
        let text = e.to_string();
        egg_lots.iter().any(|code| {
            text.match_indices(code.as_str()).any(|(at, _)| {
                !text[at + code.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric())
            })
        })
    };
    // The demo's history ends on the day it was built, so a fixed window would empty
    // out as the calendar moves on: take the 16 days after its first one.
    let first = plant
        .json(&["lots", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["date"]
                .as_str()
                .unwrap()
                .parse::<chrono::NaiveDate>()
                .unwrap()
        })
        .min()
        .unwrap();
    let from = (first + chrono::Days::new(1)).to_string();
    let to = (first + chrono::Days::new(16)).to_string();
    for dates in [vec![], vec!["--from", from.as_str(), "--to", to.as_str()]] {
        let mut a = vec!["epcis", "export", "--all"];
        a.extend_from_slice(&dates);
        let whole: Value = serde_json::from_str(&plant.ok(&a)).unwrap();
        let want: std::collections::BTreeSet<String> = whole["epcisBody"]["eventList"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| names_an_egg_lot(e))
            .map(|e| e["eventID"].as_str().unwrap().to_string())
            .collect();
        a.extend_from_slice(&["--item", "EGGS"]);
        let by_food: Value = serde_json::from_str(&plant.ok(&a)).unwrap();
        assert!(!want.is_empty(), "{dates:?}");
        assert_eq!(ids_of(&by_food), want, "{dates:?}");
    }
    // A lot's trace: exactly its trace's lots' receipts and batches, and its shipments.
    let lot = plant
        .json(&["lots", "--json", "--item", "DANISH-CC"])
        .as_array()
        .unwrap()[0]["lot"]
        .as_str()
        .unwrap()
        .to_string();
    let t = plant.json(&["trace", &lot, "--json"]);
    let traced = count(&["--all", "--lot", &lot]);
    let shipments = t["shipments"].as_array().unwrap().len();
    let lots = t["lots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["status"] != "voided")
        .count();
    assert!(
        traced >= shipments + lots,
        "{traced} < {shipments} + {lots}"
    );
    assert!(traced < all);

    // Refusals: reversed dates, nothing matched, an existing file; no file written.
    let out = dir.path().join("x.jsonld");
    let o = out.to_str().unwrap();
    let r = plant.run(&[
        "epcis",
        "export",
        "--from",
        "2026-12-01",
        "--to",
        "2026-01-01",
        "--out",
        o,
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("from: 2026-12-01 is after --to"),
        "{}",
        r.stderr
    );
    let r = plant.run(&[
        "epcis",
        "export",
        "--from",
        "2001-01-01",
        "--to",
        "2001-12-31",
        "--out",
        o,
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("nothing was written"), "{}", r.stderr);
    assert!(!out.exists());
    std::fs::write(&out, "keep me").unwrap();
    let r = plant.run(&["epcis", "export", "--all", "--out", o]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("out: "), "{}", r.stderr);
    assert!(r.stderr.contains("never overwrites"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");
    let r = plant.run(&["epcis", "export", "--item", "NOPE"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("item: no item NOPE"), "{}", r.stderr);
}

#[test]
fn the_standards_examples_map_or_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let import = |name: &str, extra: &[&str]| -> (Db, Run) {
        let db = Db::at(dir.path(), &format!("{name}.redb"));
        let f = data(name);
        let mut args = vec!["epcis", "import", f.to_str().unwrap()];
        args.extend_from_slice(extra);
        let r = db.run(&args);
        (db, r)
    };
    // A receiving event of an LGTIN class from an SGLN: a receipt of lot 998877 from the
    // party with that GLN, 200 kg.
    let (db, r) = import("Example_9.6.2-ObjectEvent.jsonld", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lots = db.json(&["lots", "--json"]);
    let lot = &lots[0];
    assert_eq!(lot["lot"], "998877");
    assert_eq!(lot["quantity"], 200);
    assert_eq!(lot["unit"], "kg");
    assert_eq!(lot["supplier"], "GLN-4012345000016");
    assert_eq!(lot["date"], "2013-06-08");

    // Instance-level events (serial numbers) are reported by eventID; the document is
    // refused unless --skip-unmappable.
    for name in [
        "Example_9.6.1-ObjectEvent.jsonld",
        "Example_9.6.1-ObjectEventWithDigitalLink.jsonld",
        "Example_9.6.4-TransformationEvent.jsonld",
        "Example_9.6.4-TransformationEventWithDigitalLink.jsonld",
    ] {
        let (db, r) = import(name, &[]);
        assert_eq!(r.code, 2, "{name}: {}", r.stdout);
        assert!(
            r.stdout.contains("cannot map: event 0 ni:///sha-256;"),
            "{name}: {}",
            r.stdout
        );
        assert!(r.stdout.contains("serial numbers"), "{name}: {}", r.stdout);
        assert!(r.stderr.contains("nothing was stored"), "{}", r.stderr);
        assert!(
            db.json(&["lots", "--json"]).as_array().unwrap().is_empty(),
            "{name}"
        );
        let (_, r) = import(name, &["--skip-unmappable"]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        assert!(
            r.stdout.contains("skipped: event 0"),
            "{name}: {}",
            r.stdout
        );
    }

    // An event declared in error is not imported; its corrective event is considered in
    // its place (and reported here: it names serial numbers).
    let (_, r) = import(
        "ErrorDeclarationAndCorrectiveEvent.jsonld",
        &["--skip-unmappable"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("not imported: event 0 urn:uuid:374d95fc"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("declared in error"), "{}", r.stdout);
    assert!(
        r.stdout.contains("skipped: event 1 urn:uuid:404d95fc"),
        "{}",
        r.stdout
    );
    for name in [
        "object_event_all_possible_fields.jsonld",
        "transformation_event_all_possible_fields.jsonld",
    ] {
        let (_, r) = import(name, &[]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        assert!(
            r.stdout.contains("1 declared in error"),
            "{name}: {}",
            r.stdout
        );
    }
    // A draft of EPCIS 2.0 from before the standard: refused as a whole, saying so.
    let (_, r) = import("Example_9.6.3-AggregationEvent.jsonld", &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("'isA'"), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was stored"), "{}", r.stderr);
}

#[test]
fn bad_files_are_refused_with_where_and_nothing_stored() {
    let dir = tempfile::tempdir().unwrap();
    let plant = Db::at(dir.path(), "plant.redb");
    demo_copy(&plant.path);
    let doc = dir.path().join("plant.jsonld");
    plant.ok(&["epcis", "export", "--all", "--out", doc.to_str().unwrap()]);
    let full = std::fs::read_to_string(&doc).unwrap();
    let office = Db::at(dir.path(), "office.redb");
    // A first import so there is something to leave alone.
    let small = dir.path().join("small.jsonld");
    std::fs::copy(data("Example_9.6.2-ObjectEvent.jsonld"), &small).unwrap();
    office.ok(&["epcis", "import", small.to_str().unwrap()]);
    let before = office.snapshot();

    let refuse = |name: &str, content: Option<&[u8]>, words: &[&str]| {
        let path = dir.path().join(name);
        if let Some(c) = content {
            std::fs::write(&path, c).unwrap();
        }
        let r = office.run(&["epcis", "import", path.to_str().unwrap()]);
        assert_eq!(r.code, 2, "{name}: {}", r.stdout);
        assert!(
            r.stderr.starts_with("lotline: file: "),
            "{name}: {}",
            r.stderr
        );
        for w in words {
            assert!(
                r.stderr.contains(w),
                "{name} should say {w:?}: {}",
                r.stderr
            );
        }
        assert_eq!(office.snapshot(), before, "{name} stored something");
    };
    refuse(
        "text.jsonld",
        Some(b"lot,qty\nA,1\n"),
        &["not valid JSON at line 1, column 1"],
    );
    refuse(
        "array.jsonld",
        Some(b"[{\"type\": \"ObjectEvent\"}]"),
        &["EPCIS document"],
    );
    refuse(
        "other.jsonld",
        Some(br#"{"type": "Invoice", "schemaVersion": "2.0", "epcisBody": {"eventList": []}}"#),
        &["its type is 'Invoice'"],
    );
    let v1 = full.replacen("\"schemaVersion\":\"2.0\"", "\"schemaVersion\":\"1.2\"", 1);
    refuse(
        "v1.jsonld",
        Some(v1.as_bytes()),
        &["schemaVersion \"1.2\" is not supported"],
    );
    let cut = &full.as_bytes()[..full.len() * 2 / 3];
    refuse("cut.jsonld", Some(cut), &["truncated", "line "]);
    // One gigantic event: its start is named, and it is not read into memory.
    let giant = full.replacen(
        "\"action\":\"OBSERVE\"",
        &format!("\"action\":\"OBSERVE\",\"x\":\"{}\"", "y".repeat(2 << 20)),
        1,
    );
    refuse(
        "giant.jsonld",
        Some(giant.as_bytes()),
        &["is larger than 1 MiB", "(starting at byte"],
    );
    // A 2 GB file (sparse: no disk used) is refused before it is read.
    let huge = dir.path().join("huge.jsonld");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    refuse(
        "huge.jsonld",
        None,
        &["more than one import takes (1024 MiB)"],
    );
    refuse("missing.jsonld", None, &["cannot open"]);
    assert_eq!(office.snapshot(), before);
    // A document that maps but names lots this database lacks is not refused: those lots
    // are kept as known only by the partner's identifier (docs/epcis.md).
    let ships_only: Value = {
        let mut v = read_json(&doc);
        let list = v["epcisBody"]["eventList"].as_array_mut().unwrap();
        list.retain(|e| e["bizStep"] == "shipping");
        list.truncate(3);
        v
    };
    let path = dir.path().join("ships.jsonld");
    std::fs::write(&path, ships_only.to_string()).unwrap();
    let r = office.run(&["epcis", "import", path.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("imported 3 events"), "{}", r.stdout);
    assert!(
        r.stdout.contains("known only by the partner's identifier"),
        "{}",
        r.stdout
    );
    assert!(office.ok(&["check"]).contains("all consistent"));
}

#[test]
fn a_receipt_in_pounds_travels_as_received_with_its_kdes() {
    let dir = tempfile::tempdir().unwrap();
    let plant = Db::at(dir.path(), "plant.redb");
    // A new plant's database is made explicitly (`--create`).
    plant.ok(&[
        "--create",
        "item",
        "add",
        "LETTUCE",
        "--name",
        "Romaine hearts",
        "--unit",
        "kg",
        "--ftl",
    ]);
    plant.ok(&[
        "party",
        "add",
        "DIST",
        "--name",
        "Valley Distributors",
        "--role",
        "supplier",
        "--gln",
        "0614141000012",
    ]);
    plant.ok(&[
        "receive",
        "--item",
        "LETTUCE",
        "--supplier",
        "DIST",
        "--supplier-lot",
        "vl-2291",
        "--qty",
        "50",
        "--unit",
        "lb",
        "--ref",
        "BOL:4471",
        "--tlc-source-ref",
        "GLN 0614141000029",
        "--temp",
        "2.5",
        "--inspection",
        "pass",
        "--expiry",
        "2099-01-01",
    ]);
    let doc: Value = serde_json::from_str(&plant.ok(&["epcis", "export"])).unwrap();
    assert_valid(&validator(), &doc, "a one-receipt export");
    let e = &doc["epcisBody"]["eventList"][0];
    assert_eq!(e["bizStep"], "receiving");
    // The FSMA quantity as received: 50 lb, not the 22.68 kg the lot is kept in.
    assert_eq!(e["quantityList"][0]["quantity"], 50);
    assert_eq!(e["quantityList"][0]["uom"], "LBR");
    assert_eq!(e["lotline:tlc"], "vl-2291");
    assert_eq!(e["lotline:tlcSourceReference"], "GLN 0614141000029");
    assert_eq!(e["lotline:temperatureC"], "2.5");
    assert_eq!(
        e["sourceList"][0]["source"],
        "https://id.gs1.org/417/0614141000012"
    );
    assert_eq!(
        e["sourceList"][1]["source"],
        "https://id.gs1.org/414/0614141000012"
    );
    assert_eq!(e["bizTransactionList"][0]["type"], "bol");
    let ctx = &doc["@context"][1]["lotline"];
    assert_eq!(ctx, "https://lotline.example/epcis/ns#");

    let path = dir.path().join("r.jsonld");
    std::fs::write(&path, doc.to_string()).unwrap();
    let office = Db::at(dir.path(), "office.redb");
    office.ok(&["epcis", "import", path.to_str().unwrap()]);
    let lot = standing_lots(&plant)[0]["lot"]
        .as_str()
        .unwrap()
        .to_string();
    // The lot with every KDE of its receipt, as received; only when it was recorded here
    // (the import's own stamp) differs.
    let without_time = |db: &Db| {
        let mut v = db.json(&["lot", &lot, "--json"]);
        for e in v["events"].as_array_mut().unwrap() {
            e.as_object_mut().unwrap().remove("recorded_at");
        }
        v
    };
    let got = without_time(&office);
    assert_eq!(got, without_time(&plant));
    assert_eq!(got["received_quantity"], 50);
    assert_eq!(got["received_unit"], "lb");
    let party = &office.json(&["party", "show", "DIST", "--json"]);
    assert_eq!(party["gln"], "0614141000012");
    assert_eq!(party["name"], "Valley Distributors");
}

/// Each event's reference documents and the reason it has none, by what it is and the
/// lots it names: what a partner is told of its paperwork.
fn paperwork(doc: &Value) -> Vec<(String, Value, Value, Value)> {
    let mut out: Vec<_> = doc["epcisBody"]["eventList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["bizStep"].as_str().unwrap().to_string(),
                e["lotline:lots"].clone(),
                e["bizTransactionList"].clone(),
                e["lotline:noReferenceReason"].clone(),
            )
        })
        .collect();
    out.sort_by_key(|(step, lots, ..)| format!("{step} {lots}"));
    out
}

#[test]
fn every_reference_document_travels_and_an_import_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let plant = Db::at(dir.path(), "plant.redb");
    for args in [
        "--create item add EGGS --name Eggs --unit dozen --ftl",
        "item add CUSTARD --name Custard --unit case --kind finished --ftl",
        "party add FARM --name Farm --role supplier",
        "party add SHOP --name Shop --role customer",
    ] {
        plant.ok(&args.split(' ').collect::<Vec<_>>());
    }
    let eggs = |lot: &str, qty: &str, docs: &[&str]| {
        let mut a = vec![
            "receive",
            "--item",
            "EGGS",
            "--supplier",
            "FARM",
            "--supplier-lot",
            lot,
            "--qty",
            qty,
        ];
        a.extend_from_slice(docs);
        plant.ok(&a).trim().to_string()
    };
    let both = eggs("SU-1", "30", &["--ref", "BOL:4471", "--ref", "PO:88123"]);
    let none = eggs(
        "SU-2",
        "10",
        &["--no-ref-reason", "driver brought no paperwork"],
    );
    let custard = plant
        .ok(&[
            "produce",
            "--item",
            "CUSTARD",
            "--qty",
            "12",
            "--input",
            &format!("{both}=20"),
            "--input",
            &format!("{none}=5"),
            "--ref",
            "WO:2211",
            "--ref",
            "QA:7",
        ])
        .trim()
        .to_string();
    plant.ok(&[
        "ship",
        "--customer",
        "SHOP",
        "--lot",
        &format!("{custard}=10"),
        "--ref",
        "INV:5521",
        "--ref",
        "BOL:5522",
    ]);

    let doc: Value = serde_json::from_str(&plant.ok(&["epcis", "export"])).unwrap();
    assert_valid(&validator(), &doc, "an export with two documents an event");
    // The plant was given neither name nor GLN: its identifiers are under its default name.
    let bt = |ty: &str, doc: &str| {
        serde_json::json!({
            "type": ty,
            "bizTransaction": format!("https://lotline.example/id/unnamed-plant/doc/{doc}"),
        })
    };
    let lots = |codes: &[&str]| serde_json::json!(codes);
    // Each event's own document first, then its second; types as for the first.
    assert_eq!(
        paperwork(&doc),
        vec![
            (
                "creating_class_instance".to_string(),
                lots(&[&both, &none, &custard]),
                serde_json::json!([
                    bt("prodorder", "WO/2211"),
                    bt("https://lotline.example/epcis/ns#document", "QA/7")
                ]),
                Value::Null,
            ),
            (
                "receiving".to_string(),
                lots(&[&both]),
                serde_json::json!([bt("bol", "BOL/4471"), bt("po", "PO/88123")]),
                Value::Null,
            ),
            (
                "receiving".to_string(),
                lots(&[&none]),
                Value::Null,
                serde_json::json!("driver brought no paperwork"),
            ),
            (
                "shipping".to_string(),
                lots(&[&custard]),
                serde_json::json!([bt("inv", "INV/5521"), bt("bol", "BOL/5522")]),
                Value::Null,
            ),
        ]
    );
    // The event hash sorts the list: the same documents the other way round are the same
    // event, with the eventID the export gave it.
    let ship = doc["epcisBody"]["eventList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["bizStep"] == "shipping")
        .unwrap();
    let mut turned = ship.clone();
    turned["bizTransactionList"]
        .as_array_mut()
        .unwrap()
        .reverse();
    assert_ne!(&turned, ship);
    let prefixes = [("lotline", lotline_export::epcis::NS)];
    assert_eq!(
        lotline_export::epcis::hash::event_hash(&turned, &prefixes),
        ship["eventID"].as_str().unwrap()
    );

    // Imported into an empty database, every document and the reason are kept: the
    // office's export tells a partner what the plant's did.
    let path = dir.path().join("plant.jsonld");
    std::fs::write(&path, doc.to_string()).unwrap();
    let office = Db::at(dir.path(), "office.redb");
    let out = office.ok(&["epcis", "import", path.to_str().unwrap()]);
    assert!(out.contains("imported 4 events"), "{out}");
    let again: Value = serde_json::from_str(&office.ok(&["epcis", "export"])).unwrap();
    assert_eq!(paperwork(&again), paperwork(&doc));
    assert!(office.ok(&["check"]).contains("all consistent"));
}

/// The receiving event of `doc` whose supplier lot is `tlc`.
fn receiving<'d>(doc: &'d Value, tlc: &str) -> &'d Value {
    doc["epcisBody"]["eventList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["lotline:tlc"] == tlc && e["bizStep"] == "receiving")
        .unwrap_or_else(|| panic!("no receiving event of {tlc}: {doc:#}"))
}

/// The line of `lotline lot` that shows a lot's kept label, up to the receipt it names
/// (whose id is the database's own).
fn label_line(shown: &str) -> &str {
    let line = shown
        .lines()
        .find(|l| l.contains("label (7007)"))
        .unwrap_or_else(|| panic!("no label in {shown}"));
    &line[line.find("label (").unwrap()..line.find(" (kept from").unwrap()]
}

/// A receipt from a scanned label, exported and imported into an empty database, keeps
/// its label: the lot's history shows the same elements, the office's export gives the
/// same `lotline:gs1Label`, and a second import adds nothing. A document whose label a
/// scan would refuse is refused with the event named, and nothing is written.
#[test]
fn a_receipts_scanned_label_travels_and_a_bad_one_is_refused() {
    let (plant, code) = crate::label_data::plant_with_a_scanned_receipt();
    let path = plant.path("plant.jsonld");
    plant.ok(&[
        "--no-server",
        "epcis",
        "export",
        "--all",
        "--out",
        path.to_str().unwrap(),
    ]);
    let doc = read_json(&path);
    let sent = receiving(&doc, "F-9");
    let label = serde_json::json!({"7007": "250601250605", "422": "840", "91": "ROW-7"});
    assert_eq!(sent["lotline:gs1Label"], label);

    let office = Db::at(plant.dir.path(), "office.redb");
    let out = office.ok(&["epcis", "import", path.to_str().unwrap()]);
    assert!(out.contains("imported 1 events as 1 records"), "{out}");
    let here = plant.ok(&["--no-server", "lot", &code]);
    let there = office.ok(&["lot", &code]);
    assert_eq!(label_line(&there), label_line(&here));
    assert_eq!(
        label_line(&there),
        "label (7007) harvest date 250601250605, (422) country of origin 840, (91) INTERNAL ROW-7"
    );
    let again: Value = serde_json::from_str(&office.ok(&["epcis", "export", "--all"])).unwrap();
    let back = receiving(&again, "F-9");
    for field in [
        "lotline:gs1Label",
        "lotline:harvestStartDate",
        "lotline:harvestEndDate",
        "lotline:countryOfOrigin",
    ] {
        assert_eq!(back[field], sent[field], "{field}");
    }
    assert!(office.ok(&["check"]).contains("all consistent"));
    // The same document again: nothing new, the label not kept twice.
    let out = office.ok(&["epcis", "import", path.to_str().unwrap()]);
    assert!(
        out.contains("imported 0 events") && out.contains("1 already imported"),
        "{out}"
    );
    let there = office.ok(&["lot", &code]);
    assert_eq!(there.matches("label (7007)").count(), 1, "{there}");

    // A label no scan would give: an AI that does not exist, a GLN with a wrong check
    // digit, an AI twice (only the document's text can say so: JSON keeps the last).
    let event_id = sent["eventID"].as_str().unwrap().to_string();
    let text = doc.to_string();
    let kept = r#""lotline:gs1Label":{"7007":"250601250605","422":"840","91":"ROW-7"}"#;
    assert!(text.contains(kept), "{text}");
    for (i, (bad, why)) in [
        (
            r#""lotline:gs1Label":{"7007":"250601250605","999":"1"}"#,
            "AI ('999') is not a GS1 Application Identifier",
        ),
        (
            r#""lotline:gs1Label":{"414":"0614141000013"}"#,
            "check digit",
        ),
        (
            r#""lotline:gs1Label":{"422":"840","91":"ROW-7","422":"276"}"#,
            "AI ('422') appears twice",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let bad_doc = plant.path(&format!("bad-{i}.jsonld"));
        std::fs::write(&bad_doc, text.replace(kept, bad)).unwrap();
        let db = Db::at(plant.dir.path(), &format!("refused-{i}.redb"));
        db.ok(&["--create", "plant", "show"]);
        let before = db.snapshot();
        let r = db.run(&["epcis", "import", bad_doc.to_str().unwrap()]);
        assert_eq!(r.code, 2, "{bad}: {}", r.stdout);
        let said = format!("cannot map: event 0 {event_id}: lotline:gs1Label");
        assert!(
            r.stdout.contains(&said) && r.stdout.contains(why),
            "{bad}: {}",
            r.stdout
        );
        assert!(r.stderr.contains("nothing was stored"), "{}", r.stderr);
        assert_eq!(db.snapshot(), before, "{bad}");
        // Recording the rest skips the receipt whole: never a lot without its label.
        let out = db.ok(&[
            "epcis",
            "import",
            bad_doc.to_str().unwrap(),
            "--skip-unmappable",
        ]);
        assert!(
            out.contains(&format!("skipped: event 0 {event_id}")),
            "{out}"
        );
        assert!(db.json(&["lots", "--json"]).as_array().unwrap().is_empty());
    }
}
