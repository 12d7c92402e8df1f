//! The store's own tests: opening, migrating and guarding the file.

use super::test_util::*;
use super::*;
use lotline_domain::api::Command;
use lotline_domain::{Direction, LotFilter};

/// Re-encode every event as schemas 1 to 5 stored it.
fn events_to_v5(w: &redb::WriteTransaction) {
    let mut t = w.open_table(EVENTS).unwrap();
    let all: Vec<(u64, lotline_domain::Event)> = t
        .iter()
        .unwrap()
        .map(|e| {
            let (k, v) = e.unwrap();
            (k.value(), codec::decode(v.value(), "events", &0).unwrap())
        })
        .collect();
    for (k, e) in all {
        let old: old::EventV5 = e.into();
        t.insert(k, codec::encode(&old).as_slice()).unwrap();
    }
}

/// Re-encode the plant's settings as schemas 1 to 9 had them: no draft hours.
pub(crate) fn plant_to_v9(w: &redb::WriteTransaction) {
    let mut meta = w.open_table(META).unwrap();
    let p: lotline_domain::Plant = match meta.get("plant").unwrap() {
        Some(v) => codec::decode(v.value(), "meta", &"plant").unwrap(),
        None => return,
    };
    let old = old::PlantV9 {
        location: p.location,
        gln: p.gln,
        receipt_pattern: p.receipt_pattern,
        batch_pattern: p.batch_pattern,
        qa_users: p.qa_users,
    };
    meta.insert("plant", codec::encode(&old).as_slice())
        .unwrap();
}

/// Re-encode the plant's settings as schema 10 had them: no label size.
fn plant_to_v10(w: &redb::WriteTransaction) {
    let mut meta = w.open_table(META).unwrap();
    let p: lotline_domain::Plant =
        codec::decode(meta.get("plant").unwrap().unwrap().value(), "meta", &"").unwrap();
    let old = old::PlantV10 {
        location: p.location,
        gln: p.gln,
        receipt_pattern: p.receipt_pattern,
        batch_pattern: p.batch_pattern,
        qa_users: p.qa_users,
        draft_hours: p.draft_hours,
    };
    meta.insert("plant", codec::encode(&old).as_slice())
        .unwrap();
}

#[test]
fn a_schema_10_plant_gets_the_label_size_its_labels_had() {
    let (dir, s, _) = bakery();
    let mut plant = s.plant().unwrap();
    plant.location.business_name = "Boulangerie Étoile".into();
    plant.qa_users = vec!["quinn".into()];
    plant.label_size = lotline_domain::LabelSize::In4x6Dpi300;
    let w = s.db.begin_write().unwrap();
    {
        let mut meta = w.open_table(META).unwrap();
        meta.insert("plant", codec::encode(&plant).as_slice())
            .unwrap();
    }
    plant_to_v10(&w);
    w.open_table(META)
        .unwrap()
        .insert("schema_version", 10u32.to_le_bytes().as_slice())
        .unwrap();
    w.commit().unwrap();
    let path = s.path().to_path_buf();
    drop(s);
    let s = Store::open(&path, false).unwrap();
    // Everything as it was, and the 4x2-inch, 203-dpi stock every label had before.
    plant.label_size = lotline_domain::LabelSize::In4x2Dpi203;
    assert_eq!(s.plant().unwrap(), plant);
    assert!(s.check().unwrap().problems.is_empty());
    assert!(path.with_extension("schema10.bak").exists());
    drop(dir);
}

/// Rewrite `s`'s file as schema 5 had it: receipts without the quantity as received
/// or a TLC source reference.
fn downgrade_to_v5(s: &Store) {
    let w = s.db.begin_write().unwrap();
    events_to_v5(&w);
    plant_to_v9(&w);
    w.open_table(META)
        .unwrap()
        .insert("schema_version", 5u32.to_le_bytes().as_slice())
        .unwrap();
    w.commit().unwrap();
}

/// Re-encode items and parties as schemas 1 to 4 had them, and drop the item history.
fn downgrade_records_to_v4(w: &redb::WriteTransaction) {
    {
        let mut items = w.open_table(ITEMS).unwrap();
        let all: Vec<lotline_domain::Item> = items
            .iter()
            .unwrap()
            .map(|e| codec::decode(e.unwrap().1.value(), "items", &"").unwrap())
            .collect();
        for i in all {
            let old = old::ItemV4 {
                code: i.code.clone(),
                description: i.description,
                unit: i.unit,
                kind: i.kind,
                gtin: i.gtin,
                shelf_life_days: i.shelf_life_days,
                ftl: i.ftl,
                created: i.created,
            };
            items
                .insert(i.code.as_str(), codec::encode(&old).as_slice())
                .unwrap();
        }
        let mut parties = w.open_table(PARTIES).unwrap();
        let all: Vec<lotline_domain::Party> = parties
            .iter()
            .unwrap()
            .map(|e| codec::decode(e.unwrap().1.value(), "parties", &"").unwrap())
            .collect();
        for p in all {
            let old = old::PartyV4 {
                id: p.id.clone(),
                role: p.role,
                location: p.location,
                gln: p.gln,
                recall_contact: p.recall_contact,
                created: p.created,
            };
            parties
                .insert(p.id.as_str(), codec::encode(&old).as_slice())
                .unwrap();
        }
    }
    w.delete_table(ITEM_EVENTS).unwrap();
}

#[test]
fn a_schema_4_file_is_migrated_on_open() {
    let (dir, s, [_, eggs, ..]) = bakery();
    let items = s.items().unwrap();
    let parties = s.parties().unwrap();
    let mut history = s.lot_history(&eggs).unwrap();
    // Schema 4 kept no quantity as received either (schema 6 added it).
    for e in &mut history.events {
        if let lotline_domain::EventKind::Receive(r) = &mut e.event.kind {
            r.as_received = None;
        }
    }
    let w = s.db.begin_write().unwrap();
    downgrade_records_to_v4(&w);
    events_to_v5(&w);
    plant_to_v9(&w);
    w.open_table(META)
        .unwrap()
        .insert("schema_version", 4u32.to_le_bytes().as_slice())
        .unwrap();
    w.commit().unwrap();
    let path = s.path().to_path_buf();
    drop(s);
    let s = Store::open(&path, false).unwrap();
    assert_eq!(s.items().unwrap(), items);
    assert_eq!(s.parties().unwrap(), parties);
    assert!(
        items
            .iter()
            .all(|i| i.retired.is_none() && i.receiving_temp.is_open())
    );
    assert_eq!(s.lot_history(&eggs).unwrap(), history);
    assert!(s.check().unwrap().problems.is_empty());
    assert!(path.with_extension("schema4.bak").exists());
    drop(dir);
}

/// Rewrite `s`'s file as schema 1 had it: multimap indexes, and a shipment index of
/// event ids only.
fn downgrade_to_v1(s: &Store) {
    let w = s.db.begin_write().unwrap();
    events_to_v5(&w);
    downgrade_records_to_v4(&w);
    {
        let mut lines = Vec::new();
        let table = w.open_multimap_table(LOT_SHIPMENTS).unwrap();
        for e in table.iter().unwrap() {
            let (k, vals) = e.unwrap();
            for v in vals {
                lines.push((k.value(), v.unwrap().value().0));
            }
        }
        drop(table);
        w.delete_multimap_table(LOT_SHIPMENTS).unwrap();
        let mut t = w.open_multimap_table(old::LOT_SHIPMENTS_V1).unwrap();
        for (lot, event) in lines {
            t.insert(lot, event).unwrap();
        }
        let mut t = w.open_multimap_table(old::LINKS_REV).unwrap();
        for e in w.open_table(LINKS_REV).unwrap().iter().unwrap() {
            let (k, v) = e.unwrap();
            for input in unpack_inputs(v.value()).unwrap() {
                t.insert(k.value(), input).unwrap();
            }
        }
        let mut t = w.open_multimap_table(old::LOT_EVENTS).unwrap();
        for e in w.open_table(LOT_EVENTS).unwrap().iter().unwrap() {
            let (l, ev) = e.unwrap().0.value();
            t.insert(l, ev).unwrap();
        }
        let mut t = w.open_multimap_table(old::SUPPLIER_LOTS).unwrap();
        for e in w.open_table(SUPPLIER_LOTS).unwrap().iter().unwrap() {
            let e = e.unwrap();
            let (k, l) = e.0.value();
            t.insert(k, l).unwrap();
        }
        let mut t = w.open_multimap_table(old::ITEM_LOTS).unwrap();
        for e in w.open_table(ITEM_LOTS).unwrap().iter().unwrap() {
            let e = e.unwrap();
            let (k, l) = e.0.value();
            t.insert(k, l).unwrap();
        }
        let mut t = w.open_multimap_table(old::PARTY_EVENTS).unwrap();
        for e in w.open_table(PARTY_EVENTS).unwrap().iter().unwrap() {
            let e = e.unwrap();
            let (k, ev) = e.0.value();
            t.insert(k, ev).unwrap();
        }
        w.open_table(META)
            .unwrap()
            .insert("schema_version", 1u32.to_le_bytes().as_slice())
            .unwrap();
    }
    plant_to_v9(&w);
    w.delete_table(LINKS_REV).unwrap();
    w.delete_table(LOT_EVENTS).unwrap();
    w.delete_table(SUPPLIER_LOTS).unwrap();
    w.delete_table(ITEM_LOTS).unwrap();
    w.delete_table(PARTY_EVENTS).unwrap();
    w.commit().unwrap();
}

#[test]
fn a_schema_1_file_is_migrated_on_open() {
    let (dir, s, [flour, eggs, dough, cookies]) = bakery();
    let traces =
        |s: &Store| [&flour, &eggs, &dough, &cookies].map(|l| s.trace(l, Direction::Both).unwrap());
    let histories =
        |s: &Store| [&flour, &eggs, &dough, &cookies].map(|l| s.lot_history(l).unwrap());
    let by_supplier_lot = |s: &Store| {
        s.find_lots(&LotFilter {
            supplier_lot: Some("f-1121".into()),
            ..Default::default()
        })
        .unwrap()
    };
    let shop = lotline_domain::PartyId::parse("SHOP", "party").unwrap();
    // Schema 1 kept no quantity as received: after the migration it is `None`.
    let mut old_histories = histories(&s);
    for h in &mut old_histories {
        for e in &mut h.events {
            if let lotline_domain::EventKind::Receive(r) = &mut e.event.kind {
                r.as_received = None;
            }
        }
    }
    let before = (
        traces(&s),
        old_histories,
        by_supplier_lot(&s),
        s.party_events(&shop).unwrap(),
        s.stats().unwrap(),
    );
    assert_eq!(before.0[1].shipments.len(), 2);
    assert_eq!(before.2.len(), 1);
    downgrade_to_v1(&s);
    let path = s.path().to_path_buf();
    drop(s);
    let s = Store::open(&path, false).unwrap();
    {
        // The file as it was is kept beside it, still a schema-1 database.
        let bak = redb::Database::open(path.with_extension("schema1.bak")).unwrap();
        let r = bak.begin_read().unwrap();
        let meta = r.open_table(META).unwrap();
        let v = meta.get("schema_version").unwrap().unwrap();
        assert_eq!(v.value(), 1u32.to_le_bytes().as_slice());
    }
    let after = (
        traces(&s),
        histories(&s),
        by_supplier_lot(&s),
        s.party_events(&shop).unwrap(),
        s.stats().unwrap(),
    );
    assert_eq!(after, before);
    assert!(s.check().unwrap().problems.is_empty());
    // The old tables are gone.
    let r = s.db.begin_read().unwrap();
    let mut multimaps: Vec<String> = r
        .list_multimap_tables()
        .unwrap()
        .map(|t| redb::MultimapTableHandle::name(&t).to_string())
        .collect();
    multimaps.sort();
    assert_eq!(multimaps, ["links_fwd", "lot_shipments"]);
    drop(r);
    let r = s.db.begin_read().unwrap();
    let v = r.open_table(META).unwrap().get("schema_version").unwrap();
    assert_eq!(v.unwrap().value(), SCHEMA_VERSION.to_le_bytes());
    drop(dir);
}

#[test]
fn a_schema_5_file_keeps_its_receipts_without_an_as_received_quantity() {
    let (_dir, s, [flour, eggs, dough, cookies]) = bakery();
    let lots = [&flour, &eggs, &dough, &cookies];
    let traces = |s: &Store| lots.map(|l| s.trace(l, Direction::Both).unwrap());
    let before_traces = traces(&s);
    let before: Vec<lotline_domain::Event> = lots
        .iter()
        .flat_map(|l| s.lot_history(l).unwrap().events)
        .map(|h| h.event)
        .collect();
    downgrade_to_v5(&s);
    let path = s.path().to_path_buf();
    drop(s);
    let s = Store::open(&path, false).unwrap();
    assert!(path.with_extension("schema5.bak").exists());
    assert_eq!(traces(&s), before_traces);
    let after: Vec<lotline_domain::Event> = lots
        .iter()
        .flat_map(|l| s.lot_history(l).unwrap().events)
        .map(|h| h.event)
        .collect();
    assert_eq!(after.len(), before.len());
    let mut receipts = 0;
    for (a, b) in after.iter().zip(&before) {
        match (&a.kind, &b.kind) {
            (lotline_domain::EventKind::Receive(ra), lotline_domain::EventKind::Receive(rb)) => {
                receipts += 1;
                // What schema 5 never kept is not made up; the rest is as it was.
                assert_eq!(ra.as_received, None);
                assert!(rb.as_received.is_some());
                let mut rb = rb.clone();
                rb.as_received = None;
                assert_eq!(ra, &rb);
            }
            _ => assert_eq!(a, b),
        }
    }
    assert_eq!(receipts, 2);
    assert!(s.check().unwrap().problems.is_empty());
    // New receipts on the migrated file keep what was counted.
    let lot = receive(&s, "FLOUR", "MILL", "M-89", 3);
    let h = s.lot_history(&lot).unwrap();
    let lotline_domain::EventKind::Receive(r) = &h.events[0].event.kind else {
        panic!("not a receipt");
    };
    assert!(r.as_received.is_some());
}

#[test]
fn readers_open_beside_the_writer_and_never_write() {
    let (dir, s, _) = bakery();
    let path = s.path().to_path_buf();
    // Beside the open writer, a read-only handle sees what it committed.
    let r = Store::open_read_only(&path).unwrap();
    assert!(!r.writable());
    assert_eq!(r.stats().unwrap(), s.stats().unwrap());
    let e = r
        .apply(
            Command::SetPlant(lotline_domain::Plant::default()),
            &stamp(),
            today(),
        )
        .unwrap_err();
    assert!(matches!(e, StoreError::ReadOnly { .. }), "{e}");
    // A reader follows the writer's later commits.
    let before = r.stats().unwrap().items;
    test_util::add_item(
        &s,
        "SALT",
        lotline_domain::Unit::Kg,
        lotline_domain::ItemKind::Ingredient,
    );
    assert_eq!(r.stats().unwrap().items, before + 1);
    r.close().unwrap();
    s.close().unwrap();
    // Reads leave the file's bytes as they were, also with no writer open.
    let bytes = std::fs::read(&path).unwrap();
    let r = Store::open_read_only(&path).unwrap();
    r.stats().unwrap();
    r.check().unwrap();
    r.close().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    // A read-only file can be traced.
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&path, perms).unwrap();
    let r = Store::open_read_only(&path).unwrap();
    assert!(r.stats().unwrap().lots > 0);
    drop(dir);
}

#[test]
fn read_only_opens_refuse_what_is_not_a_plant() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.redb");
    assert!(matches!(
        Store::open_read_only(&missing),
        Err(StoreError::Missing { .. })
    ));
    assert!(!missing.exists());
    let empty = dir.path().join("empty.redb");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        Store::open_read_only(&empty),
        Err(StoreError::NotLotline { .. })
    ));
    assert_eq!(std::fs::read(&empty).unwrap(), b"");
    assert!(matches!(
        Store::open_read_only(dir.path()),
        Err(StoreError::NotLotline { .. })
    ));
    let foreign = dir.path().join("foreign.redb");
    std::fs::write(&foreign, b"hello, not a database").unwrap();
    assert!(matches!(
        Store::open_read_only(&foreign),
        Err(StoreError::NotLotline { .. })
    ));
}

#[test]
fn migration_backups_are_whole_and_never_migrated_themselves() {
    let (dir, s, _) = bakery();
    downgrade_to_v5(&s);
    let path = s.path().to_path_buf();
    drop(s);
    let v5 = std::fs::read(&path).unwrap();
    // A backup cut short by a full disk, left by an earlier attempt: kept, not trusted.
    let cut = path.with_extension("schema5.bak");
    std::fs::write(&cut, &v5[..v5.len() / 3]).unwrap();
    let s = Store::open(&path, false).unwrap();
    drop(s);
    assert!(std::fs::read(&cut).unwrap() == v5[..v5.len() / 3]);
    let whole = path.with_extension("schema5.2.bak");
    // The new backup is a whole schema-5 database (read from a copy: it stays as taken).
    let probe = dir.path().join("probe.redb");
    std::fs::copy(&whole, &probe).unwrap();
    {
        let db = redb::Database::open(&probe).unwrap();
        let r = db.begin_read().unwrap();
        let meta = r.open_table(META).unwrap();
        let v = meta.get("schema_version").unwrap().unwrap();
        assert!(v.value() == 5u32.to_le_bytes().as_slice());
        assert!(r.open_table(ITEMS).unwrap().len().unwrap() == 4);
    }
    std::fs::remove_file(&probe).unwrap();
    let taken = std::fs::read(&whole).unwrap();
    // No temporary copies are left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    // Opening the backup never upgrades it.
    let e = Store::open(&whole, false).unwrap_err();
    assert!(e.to_string().contains("is a backup"), "{e}");
    assert!(
        std::fs::read(&whole).unwrap() == taken,
        "the backup was changed"
    );
}

#[test]
fn empty_foreign_and_special_files_are_never_made_into_a_plant() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.redb");
    std::fs::write(&empty, b"").unwrap();
    let e = Store::open(&empty, true).unwrap_err();
    assert!(matches!(e, StoreError::NotLotline { .. }), "{e}");
    assert_eq!(std::fs::read(&empty).unwrap(), b"");
    let foreign = dir.path().join("notes.txt");
    std::fs::write(&foreign, b"shopping list: flour, eggs").unwrap();
    let e = Store::open(&foreign, true).unwrap_err();
    assert!(matches!(e, StoreError::NotLotline { .. }), "{e}");
    assert_eq!(
        std::fs::read(&foreign).unwrap(),
        b"shopping list: flour, eggs"
    );
    let fifo = dir.path().join("pipe.redb");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads the NUL-terminated path only.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let e = Store::open(&fifo, true).unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
    // A new file appears whole, with nothing left beside it.
    let new = dir.path().join("new.redb");
    Store::open(&new, true).unwrap().close().unwrap();
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    assert!(Store::open_read_only(&new).is_ok());
}

#[test]
fn a_damaged_store_is_never_written_again() {
    let (_dir, s, _) = bakery();
    s.mark_damaged();
    let e = s
        .apply(
            Command::SetPlant(lotline_domain::Plant::default()),
            &stamp(),
            today(),
        )
        .unwrap_err();
    assert!(e.to_string().contains("salvage"), "{e}");
    // Closing a damaged store writes nothing either.
    let path = s.path().to_path_buf();
    let before = std::fs::read(&path).unwrap();
    s.close().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_newer_schema_is_refused() {
    let (_dir, s, _) = bakery();
    let w = s.db.begin_write().unwrap();
    w.open_table(META)
        .unwrap()
        .insert("schema_version", 99u32.to_le_bytes().as_slice())
        .unwrap();
    w.commit().unwrap();
    let path = s.path().to_path_buf();
    drop(s);
    let e = Store::open(&path, false).unwrap_err();
    assert!(
        matches!(e, StoreError::NewerSchema { found: 99, .. }),
        "{e}"
    );
}

#[test]
fn a_schema_9_file_gets_the_default_draft_hours() {
    let (_dir, s, _) = bakery();
    let mut p = s.plant().unwrap();
    p.qa_users = vec!["quinn".into()];
    s.apply(Command::SetPlant(p.clone()), &stamp(), today())
        .unwrap();
    {
        let w = s.db.begin_write().unwrap();
        plant_to_v9(&w);
        w.open_table(META)
            .unwrap()
            .insert("schema_version", 9u32.to_le_bytes().as_slice())
            .unwrap();
        w.commit().unwrap();
    }
    let path = s.path().to_path_buf();
    drop(s);
    let s = Store::open(&path, false).unwrap();
    let back = s.plant().unwrap();
    assert_eq!(back.draft_hours, lotline_domain::DEFAULT_DRAFT_HOURS);
    assert_eq!(back.qa_users, p.qa_users);
    assert_eq!(back.location, p.location);
    assert!(s.check().unwrap().problems.is_empty());
}
