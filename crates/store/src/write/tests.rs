use super::super::test_util::*;
use lotline_domain::Direction;
use lotline_domain::api::Command;
use lotline_domain::*;

#[test]
fn receive_assigns_julian_codes_in_sequence() {
    let (_d, s) = temp_store();
    add_item(&s, "FLOUR", Unit::Kg, ItemKind::Ingredient);
    add_party(&s, "MILL", Role::Supplier);
    // 2026-11-21 is day 325
    assert_eq!(
        receive(&s, "FLOUR", "MILL", "A1", 10).as_str(),
        "R26325-001"
    );
    assert_eq!(
        receive(&s, "FLOUR", "MILL", "A2", 10).as_str(),
        "R26325-002"
    );
}

#[test]
fn produce_consumes_inputs_and_links_both_ways() {
    let (_d, s, [flour, eggs, dough, cookies]) = bakery();
    assert_eq!(s.lot_by_code(&flour).unwrap().balance, Qty::from_units(900));
    assert_eq!(s.lot_by_code(&eggs).unwrap().balance, Qty::from_units(40));
    assert_eq!(s.lot_by_code(&dough).unwrap().balance, Qty::ZERO);
    assert_eq!(
        s.lot_by_code(&cookies).unwrap().balance,
        Qty::from_units(20)
    );
    assert!(s.check().unwrap().problems.is_empty());
}

#[test]
fn over_use_and_unknown_lots_store_nothing() {
    let (_d, s, [flour, ..]) = bakery();
    let before = s.stats().unwrap();
    let e = produce(&s, "DOUGH", 1, vec![line(&flour, 901)]).unwrap_err();
    assert!(
        e.to_string().starts_with("input: 901 kg is more than lot"),
        "{e}"
    );
    let ghost = LotCode::parse("R00000-999", "lot").unwrap();
    let e = produce(&s, "DOUGH", 1, vec![line(&flour, 1), line(&ghost, 1)]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "input 2: no lot R00000-999; check the code on the label"
    );
    let e = produce(&s, "DOUGH", 1, vec![line(&flour, 1), line(&flour, 2)]).unwrap_err();
    assert!(e.to_string().contains("listed twice"), "{e}");
    assert_eq!(s.stats().unwrap(), before);
    assert_eq!(s.lot_by_code(&flour).unwrap().balance, Qty::from_units(900));
}

#[test]
fn held_lots_cannot_be_shipped_until_released() {
    let (_d, s, [.., cookies]) = bakery();
    let hold = |to| StatusChange {
        lot: cookies.clone(),
        to,
        date: today(),
        reason: "swab".into(),
    };
    s.apply(Command::SetStatus(hold(LotStatus::Hold)), &stamp(), today())
        .unwrap();
    let e = ship(&s, "SHOP", vec![line(&cookies, 1)]).unwrap_err();
    assert!(e.to_string().contains("on hold"), "{e}");
    let e = s
        .apply(Command::SetStatus(hold(LotStatus::Hold)), &stamp(), today())
        .unwrap_err();
    assert!(e.to_string().contains("already hold"), "{e}");
    s.apply(
        Command::SetStatus(hold(LotStatus::Released)),
        &stamp(),
        today(),
    )
    .unwrap();
    ship(&s, "SHOP", vec![line(&cookies, 1)]).unwrap();
}

#[test]
fn void_reverses_a_shipment_and_keeps_the_record() {
    let (_d, s, [.., cookies]) = bakery();
    let ev = ship(&s, "SHOP", vec![line(&cookies, 3)]).unwrap();
    assert_eq!(
        s.lot_by_code(&cookies).unwrap().balance,
        Qty::from_units(17)
    );
    let vid = s
        .apply(
            Command::Void(VoidEvent {
                event: ev,
                date: today(),
                reason: "wrong customer".into(),
            }),
            &stamp(),
            today(),
        )
        .unwrap()
        .event()
        .unwrap();
    assert_eq!(
        s.lot_by_code(&cookies).unwrap().balance,
        Qty::from_units(20)
    );
    let h = s.lot_history(&cookies).unwrap();
    assert!(
        h.events
            .iter()
            .any(|e| e.event.id == ev && e.voided_by == Some(vid))
    );
    let e = s
        .apply(
            Command::Void(VoidEvent {
                event: ev,
                date: today(),
                reason: "again".into(),
            }),
            &stamp(),
            today(),
        )
        .unwrap_err();
    assert!(e.to_string().contains("already voided"), "{e}");
    assert!(s.check().unwrap().problems.is_empty());
}

#[test]
fn a_used_lot_cannot_be_voided_but_an_unused_batch_can() {
    let (_d, s, [flour, _eggs, dough, _]) = bakery();
    let flour_lot = s.lot_by_code(&flour).unwrap();
    let e = s
        .apply(
            Command::Void(VoidEvent {
                event: flour_lot.event,
                date: today(),
                reason: "x".into(),
            }),
            &stamp(),
            today(),
        )
        .unwrap_err();
    assert!(e.to_string().contains("has been used"), "{e}");
    let extra = produce(&s, "DOUGH", 5, vec![line(&flour, 5)]).unwrap();
    let batch = s.lot_by_code(&extra).unwrap();
    s.apply(
        Command::Void(VoidEvent {
            event: batch.event,
            date: today(),
            reason: "typed twice".into(),
        }),
        &stamp(),
        today(),
    )
    .unwrap();
    assert_eq!(s.lot_by_code(&extra).unwrap().status, LotStatus::Voided);
    assert_eq!(s.lot_by_code(&flour).unwrap().balance, Qty::from_units(900));
    let _ = dough;
    assert!(
        s.check().unwrap().problems.is_empty(),
        "{:?}",
        s.check().unwrap().problems
    );
}

#[test]
fn adjustments_cannot_go_below_zero_and_need_a_reason() {
    let (_d, s, [flour, ..]) = bakery();
    let adj = |delta: i64, reason: &str| Adjustment {
        lot: flour.clone(),
        delta: Qty::from_units(delta),
        date: today(),
        reason: reason.into(),
    };
    s.apply(Command::Adjust(adj(-50, "spilled")), &stamp(), today())
        .unwrap();
    assert_eq!(s.lot_by_code(&flour).unwrap().balance, Qty::from_units(850));
    assert!(
        s.apply(Command::Adjust(adj(-851, "count")), &stamp(), today())
            .unwrap_err()
            .to_string()
            .contains("below zero")
    );
    assert!(
        s.apply(Command::Adjust(adj(-1, " ")), &stamp(), today())
            .unwrap_err()
            .to_string()
            .starts_with("reason:")
    );
    assert!(s.check().unwrap().problems.is_empty());
}

#[test]
fn units_convert_to_the_items_unit() {
    let (_d, s) = temp_store();
    add_item(&s, "SUGAR", Unit::Kg, ItemKind::Ingredient);
    add_party(&s, "SWEET", Role::Supplier);
    let mut r = NewReceipt {
        item: ItemCode::parse("SUGAR", "item").unwrap(),
        supplier: PartyId::parse("SWEET", "supplier").unwrap(),
        supplier_lot: SupplierLot::parse("S1", "supplier-lot").unwrap(),
        qty: Qty::from_units(50),
        unit: Some(Unit::Lb),
        date: today(),
        expiry: None,
        reference: None,
        documents: Default::default(),
        quality: Quality::default(),
        tlc_source_ref: None,
    };
    // Receive `r`: the new lot and its receipt as stored.
    let received = |r: &NewReceipt| {
        let c = s
            .apply(Command::Receive(r.clone()), &stamp(), today())
            .unwrap()
            .created()
            .unwrap();
        let h = s.lot_history(&c.code).unwrap();
        let EventKind::Receive(rec) = &h.events[0].event.kind else {
            panic!("not a receipt");
        };
        (c.code, rec.clone())
    };
    let (code, rec) = received(&r);
    assert_eq!(s.lot_by_code(&code).unwrap().quantity.to_string(), "22.68");
    // FSMA asks for the quantity as received: the 50 lb is kept beside the 22.68 kg.
    assert_eq!(
        rec.as_received,
        Some(Counted {
            qty: Qty::from_units(50),
            unit: Unit::Lb
        })
    );
    assert_eq!((rec.qty.to_string(), rec.unit), ("22.68".into(), Unit::Kg));
    assert_eq!(rec.tlc_source_ref, None);
    // A TLC source reference is kept trimmed; blank is none; control characters and
    // overlong text are refused naming the field.
    r.tlc_source_ref = Some("  GLN 0614141000012 ".into());
    let (_, rec) = received(&r);
    assert_eq!(rec.tlc_source_ref.as_deref(), Some("GLN 0614141000012"));
    r.tlc_source_ref = Some("a\u{7}b".into());
    let e = s
        .apply(Command::Receive(r.clone()), &stamp(), today())
        .unwrap_err();
    assert!(e.to_string().starts_with("tlc-source-ref:"), "{e}");
    r.tlc_source_ref = Some("x".repeat(101));
    assert!(
        s.apply(Command::Receive(r.clone()), &stamp(), today())
            .is_err()
    );
    r.tlc_source_ref = Some("   ".into());
    let (_, rec) = received(&r);
    assert_eq!(rec.tlc_source_ref, None);
    r.tlc_source_ref = None;
    r.unit = Some(Unit::L);
    let e = s.apply(Command::Receive(r), &stamp(), today()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unit: l cannot be converted to kg: item SUGAR is kept in kg; accepted units: kg, g, lb, oz"
    );
}

#[test]
fn duplicates_and_wrong_roles_are_refused() {
    let (_d, s, _) = bakery();
    let e = s
        .apply(
            Command::AddItem(NewItem {
                code: ItemCode::parse("flour", "code").unwrap(),
                description: ProductDescription {
                    name: "x".into(),
                    ..Default::default()
                },
                unit: Unit::Kg,
                kind: ItemKind::Ingredient,
                gtin: None,
                shelf_life_days: None,
                ftl: false,
                receiving_temp: TempRange::default(),
            }),
            &stamp(),
            today(),
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "code: item FLOUR already exists; item codes are unique"
    );
    let e = ship(&s, "MILL", vec![]).unwrap_err();
    assert!(e.to_string().contains("not a customer"), "{e}");
}

/// The bakery of `bakery()`, recorded in one bulk load instead of one commit each.
fn bulk_bakery(s: &super::Store) -> Result<[LotCode; 4], super::StoreError> {
    s.bulk(|b| {
        let (st, t) = (&stamp(), today());
        let receipt = |item: &str, sup: &str, slot: &str, qty: i64| NewReceipt {
            item: ItemCode::parse(item, "item").unwrap(),
            supplier: PartyId::parse(sup, "supplier").unwrap(),
            supplier_lot: SupplierLot::parse(slot, "supplier-lot").unwrap(),
            qty: Qty::from_units(qty),
            unit: None,
            date: t,
            expiry: None,
            reference: None,
            documents: Default::default(),
            quality: Quality::default(),
            tlc_source_ref: None,
        };
        let batch = |item: &str, qty: i64, inputs: Vec<LotLine>| NewBatch {
            allow_expired: false,
            item: ItemCode::parse(item, "item").unwrap(),
            qty: Qty::from_units(qty),
            unit: None,
            date: t,
            line: None,
            reference: None,
            documents: Default::default(),
            expiry: None,
            inputs,
        };
        let shipment = |to: &str, lines: Vec<LotLine>| NewShipment {
            allow_expired: false,
            customer: PartyId::parse(to, "customer").unwrap(),
            date: t,
            reference: None,
            documents: Default::default(),
            lines,
        };
        // The lot a receipt or batch made.
        let mut made = |c| -> Result<LotCode, super::StoreError> {
            Ok(b.apply(c, st, t)?.created().unwrap().code)
        };
        let flour = made(Command::Receive(receipt("FLOUR", "MILL", "M-88", 1000)))?;
        let eggs = made(Command::Receive(receipt("EGGS", "FARM", "f-1121", 50)))?;
        let dough = made(Command::Produce(batch(
            "DOUGH",
            120,
            vec![line(&flour, 100), line(&eggs, 10)],
        )))?;
        let cookies = made(Command::Produce(batch(
            "COOKIE",
            40,
            vec![line(&dough, 120)],
        )))?;
        for (to, qty) in [("SHOP", 15), ("CAFE", 5)] {
            b.apply(
                Command::Ship(shipment(to, vec![line(&cookies, qty)])),
                st,
                t,
            )?;
        }
        assert_eq!(b.len(), 6);
        Ok([flour, eggs, dough, cookies])
    })
}

fn bakery_master_data(s: &super::Store) {
    add_item(s, "FLOUR", Unit::Kg, ItemKind::Ingredient);
    add_item(s, "EGGS", Unit::Dozen, ItemKind::Ingredient);
    add_item(s, "DOUGH", Unit::Kg, ItemKind::Intermediate);
    add_item(s, "COOKIE", Unit::Case, ItemKind::Finished);
    add_party(s, "MILL", Role::Supplier);
    add_party(s, "FARM", Role::Supplier);
    add_party(s, "SHOP", Role::Customer);
    add_party(s, "CAFE", Role::Customer);
}

#[test]
fn a_bulk_load_stores_what_the_same_commands_store_one_by_one() {
    let (_d1, one, one_codes) = bakery();
    let (_d2, bulk) = temp_store();
    bakery_master_data(&bulk);
    let bulk_codes = bulk_bakery(&bulk).unwrap();
    assert_eq!(one_codes, bulk_codes);
    assert_eq!(one.stats().unwrap(), bulk.stats().unwrap());
    for code in &one_codes {
        assert_eq!(
            one.lot_history(code).unwrap(),
            bulk.lot_history(code).unwrap()
        );
        for dir in [Direction::Backward, Direction::Forward] {
            assert_eq!(
                one.trace(code, dir).unwrap(),
                bulk.trace(code, dir).unwrap()
            );
        }
    }
    assert!(bulk.check().unwrap().problems.is_empty());
}

#[test]
fn a_failing_command_mid_bulk_stores_nothing() {
    let (_d, s) = temp_store();
    bakery_master_data(&s);
    let before = s.stats().unwrap();
    let over = |b: &mut super::Bulk<'_, '_>| {
        let flour = receive_in(b, "FLOUR", 10)?;
        // More than the lot holds: the third command fails after two succeeded.
        b.apply(
            Command::Produce(NewBatch {
                allow_expired: false,
                item: ItemCode::parse("DOUGH", "item").unwrap(),
                qty: Qty::from_units(1),
                unit: None,
                date: today(),
                line: None,
                reference: None,
                documents: Default::default(),
                expiry: None,
                inputs: vec![line(&flour, 11)],
            }),
            &stamp(),
            today(),
        )
    };
    let e = s.bulk(|b| {
        receive_in(b, "EGGS", 5)?;
        over(b)
    });
    assert!(e.unwrap_err().to_string().contains("more than lot"));
    assert_eq!(s.stats().unwrap(), before);

    // A loader that ignores the error and carries on still gets nothing stored, and
    // is told which command failed.
    let e = s
        .bulk(|b| {
            receive_in(b, "EGGS", 5)?;
            let _ = over(b);
            let later = receive_in(b, "EGGS", 5).unwrap_err();
            assert!(later.to_string().contains("command 3 failed"), "{later}");
            Ok(())
        })
        .unwrap_err();
    assert_eq!(
        e.to_string().split(" (").next(),
        Some("bulk: command 3 failed")
    );
    assert_eq!(s.stats().unwrap(), before);
    assert!(s.check().unwrap().problems.is_empty());
    // The sequence counter went back too: the next receipt gets the first code.
    assert_eq!(receive(&s, "FLOUR", "MILL", "A1", 1).as_str(), "R26325-001");
}

fn receive_in(
    b: &mut super::Bulk<'_, '_>,
    item: &str,
    qty: i64,
) -> Result<LotCode, super::StoreError> {
    b.apply(
        Command::Receive(NewReceipt {
            item: ItemCode::parse(item, "item").unwrap(),
            supplier: PartyId::parse("MILL", "supplier").unwrap(),
            supplier_lot: SupplierLot::parse("X", "supplier-lot").unwrap(),
            qty: Qty::from_units(qty),
            unit: None,
            date: today(),
            expiry: None,
            reference: None,
            documents: Default::default(),
            quality: Quality::default(),
            tlc_source_ref: None,
        }),
        &stamp(),
        today(),
    )
    .map(|a| a.created().unwrap().code)
}

fn receive_checked(
    s: &super::Store,
    temp: Option<i32>,
    inspection: Option<Inspection>,
    note: &str,
) -> super::Created {
    s.apply(
        Command::Receive(NewReceipt {
            item: ItemCode::parse("MILK", "item").unwrap(),
            supplier: PartyId::parse("MILL", "supplier").unwrap(),
            supplier_lot: SupplierLot::parse("D-1", "supplier-lot").unwrap(),
            qty: Qty::from_units(20),
            unit: None,
            date: today(),
            expiry: None,
            reference: None,
            documents: Default::default(),
            quality: Quality {
                temperature_dc: temp,
                inspection,
                note: note.into(),
            },
            tlc_source_ref: None,
        }),
        &stamp(),
        today(),
    )
    .unwrap()
    .created()
    .unwrap()
}

#[test]
fn failed_dock_checks_hold_the_new_lot_in_the_same_transaction() {
    let (_d, s) = temp_store();
    add_party(&s, "MILL", Role::Supplier);
    s.apply(
        Command::AddItem(NewItem {
            code: ItemCode::parse("MILK", "code").unwrap(),
            description: ProductDescription {
                name: "Milk".into(),
                ..Default::default()
            },
            unit: Unit::L,
            kind: ItemKind::Ingredient,
            gtin: None,
            shelf_life_days: None,
            ftl: false,
            receiving_temp: TempRange {
                min_dc: Some(0),
                max_dc: Some(50),
            },
        }),
        &stamp(),
        today(),
    )
    .unwrap();
    // Within range and passed: released, no status event.
    let ok = receive_checked(&s, Some(50), Some(Inspection::Pass), "");
    assert_eq!(ok.hold, None);
    assert_eq!(s.lot_by_code(&ok.code).unwrap().status, LotStatus::Released);
    assert_eq!(s.lot_history(&ok.code).unwrap().events.len(), 1);

    let warm = receive_checked(&s, Some(51), Some(Inspection::Pass), "");
    let why = warm.hold.clone().unwrap();
    assert!(
        why.contains("5.1 °C is above the item's maximum 5.0 °C"),
        "{why}"
    );
    let lot = s.lot_by_code(&warm.code).unwrap();
    assert_eq!(lot.status, LotStatus::Hold);
    let h = s.lot_history(&warm.code).unwrap();
    assert_eq!(h.events.len(), 2);
    match &h.events[1].event.kind {
        EventKind::Status {
            from, to, reason, ..
        } => {
            assert_eq!((*from, *to), (LotStatus::Released, LotStatus::Hold));
            assert_eq!(reason, &why);
        }
        other => panic!("expected a hold, got {other:?}"),
    }
    assert_eq!(h.events[1].event.stamp, stamp());

    let frozen = receive_checked(&s, Some(-5), None, "");
    assert!(
        frozen
            .hold
            .unwrap()
            .contains("below the item's minimum 0.0 °C")
    );

    let cracked = receive_checked(&s, None, Some(Inspection::Fail), "shells cracked");
    assert_eq!(
        cracked.hold.as_deref(),
        Some("receiving inspection failed (note: shells cracked)")
    );
    let both = receive_checked(&s, Some(190), Some(Inspection::Fail), "");
    assert!(both.hold.unwrap().contains("failed; temperature 19.0"));

    // A held lot cannot be used until QA releases it, and the books stay consistent.
    add_party(&s, "SHOP", Role::Customer);
    let e = ship(&s, "SHOP", vec![line(&cracked.code, 1)]).unwrap_err();
    assert!(e.to_string().contains("on hold"), "{e}");
    assert!(s.check().unwrap().problems.is_empty());
    // The receipt of a held lot can still be voided: a hold used nothing.
    let receipt = s.lot_by_code(&cracked.code).unwrap().event;
    s.apply(
        Command::Void(VoidEvent {
            event: receipt,
            date: today(),
            reason: "entered twice".into(),
        }),
        &stamp(),
        today(),
    )
    .unwrap();
    assert!(s.check().unwrap().problems.is_empty());
}

#[test]
fn events_cannot_be_dated_before_the_lots_they_touch() {
    // Found in review: a lot received on the 21st could be shipped on the 1st.
    let (_d, s, [flour, _, _, cookies]) = bakery();
    let early = today().pred_opt().unwrap();
    let ship = Command::Ship(NewShipment {
        allow_expired: false,
        customer: PartyId::parse("SHOP", "c").unwrap(),
        date: early,
        reference: None,
        documents: Default::default(),
        lines: vec![line(&cookies, 1)],
    });
    let e = s.apply(ship, &stamp(), today()).unwrap_err();
    assert!(
        e.to_string().starts_with("date: ") && e.to_string().contains("before lot"),
        "{e}"
    );
    for c in [
        Command::Produce(NewBatch {
            allow_expired: false,
            item: ItemCode::parse("DOUGH", "i").unwrap(),
            qty: Qty::from_units(1),
            unit: None,
            date: early,
            line: None,
            reference: None,
            documents: Default::default(),
            expiry: None,
            inputs: vec![line(&flour, 1)],
        }),
        Command::Adjust(Adjustment {
            lot: flour.clone(),
            delta: Qty::from_units(-1),
            date: early,
            reason: "count".into(),
        }),
        Command::SetStatus(StatusChange {
            lot: flour.clone(),
            to: LotStatus::Hold,
            date: early,
            reason: "r".into(),
        }),
    ] {
        let e = s.apply(c, &stamp(), today()).unwrap_err();
        assert!(e.to_string().contains("before lot"), "{e}");
    }
}

#[test]
fn a_batch_checks_its_quantity_and_expiry_like_a_receipt() {
    let (_d, s, [flour, ..]) = bakery();
    let batch = |qty: &str, unit, expiry| NewBatch {
        allow_expired: false,
        item: ItemCode::parse("DOUGH", "i").unwrap(),
        qty: qty.parse().unwrap(),
        unit,
        date: today(),
        line: None,
        reference: None,
        documents: Default::default(),
        expiry,
        inputs: vec![line(&flour, 1)],
    };
    let e = s
        .apply(
            Command::Produce(batch("0.4", Some(Unit::G), None)),
            &stamp(),
            today(),
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("qty: 0.4 g is less than 0.001 kg"),
        "{e}"
    );
    let e = s
        .apply(
            Command::Produce(batch(
                "1",
                None,
                chrono::NaiveDate::from_ymd_opt(2000, 1, 1),
            )),
            &stamp(),
            today(),
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("expiry: 2000-01-01 is before the batch date"),
        "{e}"
    );
    assert_eq!(
        s.lot_by_code(&flour).unwrap().balance,
        Qty::from_units(900),
        "nothing consumed"
    );
}

/// A scanned receipt keeps the label's other elements as a record of its own beside the
/// receipt, in the lot's history; the record uses nothing, so the receipt can still be
/// voided, and `check` finds the file sound.
#[test]
fn a_scanned_receipt_keeps_its_label_data_beside_it() {
    let (_d, s) = temp_store();
    add_item(&s, "SUGAR", Unit::Kg, ItemKind::Ingredient);
    add_party(&s, "SWEET", Role::Supplier);
    let receipt = NewReceipt {
        item: ItemCode::parse("SUGAR", "item").unwrap(),
        supplier: PartyId::parse("SWEET", "supplier").unwrap(),
        supplier_lot: SupplierLot::parse("S9", "supplier-lot").unwrap(),
        qty: Qty::from_units(50),
        unit: None,
        date: today(),
        expiry: None,
        reference: None,
        documents: Default::default(),
        quality: Quality::default(),
        tlc_source_ref: None,
    };
    let label = vec![
        LabelElement {
            ai: "422".into(),
            value: "076".into(),
        },
        LabelElement {
            ai: "91".into(),
            value: "SILO-4".into(),
        },
    ];
    let c = s
        .apply(
            Command::ReceiveScanned(ScannedReceipt {
                receipt,
                label: label.clone(),
            }),
            &stamp(),
            today(),
        )
        .unwrap()
        .created()
        .unwrap();
    let h = s.lot_history(&c.code).unwrap();
    let kinds: Vec<&EventKind> = h.events.iter().map(|e| &e.event.kind).collect();
    assert!(matches!(kinds.first(), Some(EventKind::Receive(_))));
    assert_eq!(
        kinds.get(1),
        Some(&&EventKind::LabelData {
            receipt: c.event,
            lot: c.lot,
            elements: label,
        })
    );
    s.apply(
        Command::Void(VoidEvent {
            event: c.event,
            date: today(),
            reason: "wrong truck".into(),
        }),
        &stamp(),
        today(),
    )
    .unwrap();
    assert!(s.check().unwrap().problems.is_empty());
}

/// A food on the Food Traceability List, bought from MILL, as `add_item` makes one.
fn ftl_item(s: &super::Store, code: &str) {
    add_item(s, code, Unit::Dozen, ItemKind::Ingredient);
    let mut item = s.item(&ItemCode::parse(code, "item").unwrap()).unwrap();
    item.ftl = true;
    item.shelf_life_days = Some(30);
    s.apply(
        Command::EditItem(NewItem {
            code: item.code,
            description: item.description,
            unit: item.unit,
            kind: item.kind,
            gtin: item.gtin,
            shelf_life_days: item.shelf_life_days,
            ftl: item.ftl,
            receiving_temp: item.receiving_temp,
        }),
        &stamp(),
        today(),
    )
    .unwrap();
}

fn eggs_receipt(reference: Option<&str>, documents: Documents) -> NewReceipt {
    NewReceipt {
        item: ItemCode::parse("EGGS", "item").unwrap(),
        supplier: PartyId::parse("MILL", "supplier").unwrap(),
        supplier_lot: SupplierLot::parse("SR-1", "supplier-lot").unwrap(),
        qty: Qty::from_units(10),
        unit: None,
        date: today(),
        expiry: None,
        reference: reference.map(|r| Reference::parse(r, "ref").unwrap()),
        documents,
        quality: Quality::default(),
        tlc_source_ref: None,
    }
}

#[test]
fn a_listed_food_is_refused_without_a_document_unless_a_reason_is_kept() {
    let (_d, s) = temp_store();
    ftl_item(&s, "EGGS");
    add_party(&s, "MILL", Role::Supplier);
    let receive = |r: NewReceipt| s.apply(Command::Receive(r), &stamp(), today());
    let before = s.stats().unwrap();
    let field = |e: &super::StoreError| match e {
        super::StoreError::Invalid(i) => i.field.clone(),
        other => panic!("{other}"),
    };
    let e = receive(eggs_receipt(None, Documents::default())).unwrap_err();
    assert_eq!(field(&e), "ref", "{e}");
    assert!(e.to_string().contains("Food Traceability List"), "{e}");
    let second = |r: &str| Documents {
        second: Some(Reference::parse(r, "ref").unwrap()),
        none_because: None,
    };
    // A second document needs a first, and is another one.
    let e = receive(eggs_receipt(None, second("PO:1"))).unwrap_err();
    assert!(e.to_string().contains("no first was given"), "{e}");
    let e = receive(eggs_receipt(Some("PO:1"), second("PO:1"))).unwrap_err();
    assert!(e.to_string().contains("given twice"), "{e}");
    // A reason comes only without a document.
    let why = Documents {
        second: None,
        none_because: Some("farm delivery, no paperwork".into()),
    };
    let e = receive(eggs_receipt(Some("BOL:1"), why.clone())).unwrap_err();
    assert_eq!(field(&e), "no-ref-reason", "{e}");
    assert_eq!(s.stats().unwrap(), before, "nothing stored by a refusal");
    // Kept beside the events, and given back with the FDA records.
    receive(eggs_receipt(None, why.clone())).unwrap();
    receive(eggs_receipt(Some("BOL:2"), second("PO:2"))).unwrap();
    receive(eggs_receipt(Some("BOL:3"), Documents::default())).unwrap();
    let r = s.kde_records(&KdeQuery::default()).unwrap();
    let docs: Vec<&Documents> = r.documents.iter().map(|(_, d)| d).collect();
    assert_eq!(
        docs,
        [&why, &second("PO:2")],
        "events with neither are not listed"
    );
    assert!(s.check().unwrap().problems.is_empty());
}

#[test]
fn a_received_lot_expires_by_the_items_shelf_life_unless_its_label_says() {
    let (_d, s) = temp_store();
    ftl_item(&s, "EGGS");
    add_party(&s, "MILL", Role::Supplier);
    let receive = |expiry| {
        let r = NewReceipt {
            expiry,
            ..eggs_receipt(Some("BOL:1"), Documents::default())
        };
        let code = s
            .apply(Command::Receive(r), &stamp(), today())
            .unwrap()
            .created()
            .unwrap()
            .code;
        s.lot_by_code(&code).unwrap().expiry
    };
    assert_eq!(
        receive(None),
        today().checked_add_days(chrono::Days::new(30))
    );
    let label = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    assert_eq!(receive(Some(label)), Some(label));
}

#[test]
fn a_file_without_the_documents_table_reads_as_none_and_gets_it_on_its_first_write() {
    let (_d, s) = temp_store();
    ftl_item(&s, "EGGS");
    add_party(&s, "MILL", Role::Supplier);
    // As a file written before the table was: it is not there.
    let w = s.begin_write().unwrap();
    w.delete_table(super::super::tables::EVENT_DOCUMENTS)
        .unwrap();
    w.commit().unwrap();
    assert!(
        s.kde_records(&KdeQuery::default())
            .unwrap()
            .documents
            .is_empty()
    );
    let why = Documents {
        second: None,
        none_because: Some("no paperwork".into()),
    };
    s.apply(
        Command::Receive(eggs_receipt(None, why.clone())),
        &stamp(),
        today(),
    )
    .unwrap();
    let r = s.kde_records(&KdeQuery::default()).unwrap();
    assert_eq!(r.documents.len(), 1);
    assert_eq!(r.documents[0].1, why);
}

#[test]
fn check_finds_documents_kept_for_an_event_that_has_none() {
    let (_d, s, [flour, ..]) = bakery();
    s.apply(
        Command::Adjust(Adjustment {
            lot: flour,
            delta: Qty::from_units(-1),
            date: today(),
            reason: "spill".into(),
        }),
        &stamp(),
        today(),
    )
    .unwrap();
    let last = s.stats().unwrap().events;
    // Written below the station's checks, as damage would.
    let w = s.begin_write().unwrap();
    {
        let mut t = w.open_table(super::super::tables::EVENT_DOCUMENTS).unwrap();
        let docs = Documents {
            second: None,
            none_because: Some("x".into()),
        };
        t.insert(last, super::super::codec::encode(&docs).as_slice())
            .unwrap();
        t.insert(last + 50, super::super::codec::encode(&docs).as_slice())
            .unwrap();
    }
    w.commit().unwrap();
    let problems: Vec<String> = s
        .check()
        .unwrap()
        .problems
        .iter()
        .map(|p| p.0.clone())
        .collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].contains("event 7 (adjust), a kind that has none"),
        "{problems:?}"
    );
    assert!(problems[1].contains("which does not exist"), "{problems:?}");
}
