//! Each screen's update logic against a real station: what a clerk does, what is stored,
//! and what the status line says.

use super::*;
use crate::form::Slot;
use crate::queue::{InternalEvent, Level, Outcome};
use crate::screens::lots::{Focus, Lots, LotsAction};
use crate::screens::produce::{Produce, ProduceAction};
use crate::screens::receive::{Receive, ReceiveAction};
use crate::screens::ship::{Ship, ShipAction};
use lotline_domain::LotFilter;
use lotline_station::Station;

fn lot_count(st: &dyn Station) -> usize {
    st.lots(LotFilter::default()).unwrap().len()
}

fn msg(o: &Outcome) -> String {
    o.message().map(|s| s.text.clone()).unwrap_or_default()
}

fn level(o: &Outcome) -> Option<Level> {
    o.message().map(|s| s.level)
}

struct R<'a> {
    s: Receive,
    st: &'a Local,
}

impl R<'_> {
    fn new(p: &Plant) -> R<'_> {
        let mut s = Receive::new();
        s.update(ReceiveAction::Refresh, &p.st);
        R { s, st: &p.st }
    }
    fn act(&mut self, a: FormAction) -> Outcome {
        self.s.update(ReceiveAction::Form(a), self.st)
    }
    fn typed(&mut self, t: &str) {
        for a in chars(t) {
            self.act(a);
        }
    }
    /// Type into the focused field and press Enter.
    fn enter(&mut self, t: &str) -> Outcome {
        self.typed(t);
        self.act(FormAction::Confirm)
    }
    fn value(&self, f: &str) -> String {
        self.s.form.value(f).to_string()
    }
    fn focused(&self) -> &'static str {
        self.s.form.focused().map(|f| f.name).unwrap_or("")
    }
}

#[test]
fn receive_a_case_then_the_next_from_the_same_truck() {
    let p = plant();
    let before = lot_count(&p.st);
    let mut r = R::new(&p);
    assert_eq!(r.value("date"), "2026-11-21", "the date defaults to today");
    // The pick list completes the item from a few letters of its name.
    r.typed("purpose");
    assert!(r.s.form.focused().unwrap().pick_open());
    r.act(FormAction::Confirm);
    assert_eq!(r.value("item"), "FLOUR");
    assert_eq!(r.focused(), "supplier");
    r.enter("mil");
    assert_eq!(
        r.value("supplier"),
        "MILL",
        "one supplier matches: completed"
    );
    r.enter("M-89");
    r.enter("25");
    assert_eq!(r.focused(), "unit");
    // Unit: the item's own, or one it converts from.
    let units: Vec<String> =
        r.s.form
            .get("unit")
            .candidates
            .iter()
            .map(|c| c.value.clone())
            .collect();
    assert_eq!(units, vec!["kg", "g", "lb", "oz"]);
    r.act(FormAction::Next);
    r.act(FormAction::Next);
    r.enter("2027-06-30");
    r.enter("bol:4471");
    r.enter("po:88123");
    r.enter("");
    r.enter("3.5");
    r.enter("pa");
    assert_eq!(r.value("inspection"), "pass");
    r.enter("clean truck");
    // Bought through a distributor: the packer's GLN is the TLC source.
    assert_eq!(r.focused(), "tlc-source");
    r.enter("GLN 0614141000012");
    assert_eq!(r.s.form.slot(), Slot::Button);
    let out = r.act(FormAction::Confirm);
    assert_eq!(level(&out), Some(Level::Ok), "{}", msg(&out));
    assert!(out.events.contains(&InternalEvent::LotsChanged));
    let saved = r.s.last.clone().expect("a confirmation");
    assert!(
        msg(&out).starts_with(&format!(
            "Received {}: FLOUR 25 kg from MILL lot M-89",
            saved.code
        )),
        "{}",
        msg(&out)
    );
    let lot = p.st.lot(saved.code.clone()).unwrap();
    assert_eq!(lot.balance, Qty::from_units(25));
    assert_eq!(lot.expiry, Some(day("2027-06-30")));
    let h = p.st.lot_history(saved.code.clone()).unwrap();
    let EventKind::Receive(rc) = &h.events[0].event.kind else {
        panic!("a receipt")
    };
    assert_eq!(rc.quality.temperature_dc, Some(35));
    assert_eq!(rc.quality.inspection, Some(Inspection::Pass));
    assert_eq!(rc.tlc_source_ref.as_deref(), Some("GLN 0614141000012"));
    assert_eq!(
        h.events[0].event.reference.as_ref().unwrap().to_string(),
        "BOL:4471"
    );
    // The second document is kept beside the receipt, as FDA's sheet gives it.
    let docs = p.st.kde_records(KdeQuery::default()).unwrap().documents;
    let second = docs
        .iter()
        .find(|(id, _)| *id == h.events[0].event.id)
        .and_then(|(_, d)| d.second.as_ref())
        .map(|r| r.to_string());
    assert_eq!(second.as_deref(), Some("PO:88123"));
    assert_eq!(r.value("ref2"), "PO:88123", "kept for the next case");
    // The form is ready for the next case: supplier, reference and date kept.
    assert_eq!(r.focused(), "item");
    assert_eq!(r.value("item"), "");
    assert_eq!(r.value("qty"), "");
    assert_eq!(r.value("supplier-lot"), "");
    assert_eq!(r.value("supplier"), "MILL");
    assert_eq!(r.value("ref"), "BOL:4471");
    assert!(!r.s.is_dirty(), "what was kept is not unsaved input");
    // Second case, counted in pounds: converted to the item's kilograms.
    r.enter("sugar");
    r.act(FormAction::Next);
    r.enter("S-9");
    r.enter("50");
    r.typed("lb");
    let out = r.act(FormAction::Save);
    assert_eq!(level(&out), Some(Level::Ok), "{}", msg(&out));
    let code = r.s.last.clone().unwrap().code;
    assert_eq!(p.st.lot(code.clone()).unwrap().balance.to_string(), "22.68");
    // The 50 lb as counted is kept beside it, and the TLC source was not carried over.
    let h = p.st.lot_history(code).unwrap();
    let EventKind::Receive(rc) = &h.events[0].event.kind else {
        panic!("a receipt")
    };
    assert_eq!(
        rc.as_received.map(|c| (c.qty.to_string(), c.unit)),
        Some(("50".to_string(), Unit::Lb))
    );
    assert_eq!(rc.tlc_source_ref, None);
    assert_eq!(lot_count(&p.st), before + 2);
}

#[test]
fn receive_errors_name_the_field_and_leave_the_form_as_it_was() {
    let p = plant();
    let before = lot_count(&p.st);
    let mut r = R::new(&p);
    // A code that matches nothing is refused at once.
    let out = r.enter("NOPE");
    assert_eq!(msg(&out), "item: no item matches 'NOPE'");
    assert_eq!(r.focused(), "item");
    assert!(r.s.form.get("item").error);
    r.act(FormAction::Edit(InputRequest::DeleteLine));
    r.enter("flour");
    // A customer is not offered as a supplier.
    let out = r.enter("SHOP");
    assert_eq!(msg(&out), "supplier: no supplier matches 'SHOP'");
    r.act(FormAction::Edit(InputRequest::DeleteLine));
    r.enter("MILL");
    r.enter("M-1");
    r.enter("0");
    let out = r.act(FormAction::Save);
    assert_eq!(level(&out), Some(Level::Error));
    assert_eq!(msg(&out), "qty: must be greater than zero (got 0)");
    assert_eq!(r.focused(), "qty", "the cursor goes to the field named");
    assert_eq!(r.value("item"), "FLOUR", "nothing typed is lost");
    assert_eq!(r.value("supplier-lot"), "M-1");
    assert_eq!(r.value("qty"), "0");
    r.act(FormAction::Edit(InputRequest::DeleteLine));
    r.typed("12");
    r.s.form.focus_field("date");
    r.act(FormAction::Edit(InputRequest::DeleteLine));
    r.typed("2026-11-30");
    let out = r.act(FormAction::Save);
    assert!(
        msg(&out).starts_with("date: 2026-11-30 is in the future"),
        "{}",
        msg(&out)
    );
    r.act(FormAction::Edit(InputRequest::DeleteLine));
    r.typed("21/11/2026");
    let out = r.act(FormAction::Save);
    assert!(
        msg(&out).starts_with("date: '21/11/2026' is not a date"),
        "{}",
        msg(&out)
    );
    r.act(FormAction::Edit(InputRequest::DeleteLine));
    r.typed("today");
    r.s.form.focus_field("expiry");
    r.typed("2026-01-01");
    let out = r.act(FormAction::Save);
    assert_eq!(
        msg(&out),
        "expiry: 2026-01-01 is before the date received (2026-11-21)"
    );
    assert_eq!(r.focused(), "expiry");
    r.act(FormAction::Edit(InputRequest::DeleteLine));
    r.s.form.focus_field("ref");
    r.typed("4471");
    let out = r.act(FormAction::Save);
    assert!(
        msg(&out).starts_with("ref: '4471' has no type"),
        "{}",
        msg(&out)
    );
    r.act(FormAction::Edit(InputRequest::DeleteLine));
    r.s.form.focus_field("temp");
    r.typed("warm");
    let out = r.act(FormAction::Save);
    assert!(
        msg(&out).starts_with("temp: 'warm' is not a temperature"),
        "{}",
        msg(&out)
    );
    r.act(FormAction::Edit(InputRequest::DeleteLine));
    r.s.form.focus_field("unit");
    r.typed("l");
    let out = r.act(FormAction::Save);
    assert_eq!(
        msg(&out),
        "unit: 'l' is not a unit accepted here; accepted: kg, g, lb, oz"
    );
    assert_eq!(lot_count(&p.st), before, "nothing was stored by any of it");
    // Required fields say so, the first one shown and the rest counted.
    let mut r = R::new(&p);
    let out = r.act(FormAction::Save);
    assert_eq!(msg(&out), "item: item is required (3 more fields to fix)");
}

struct P<'a> {
    s: Produce,
    st: &'a Local,
}

impl P<'_> {
    fn new(p: &Plant) -> P<'_> {
        let mut s = Produce::new();
        s.update(ProduceAction::Refresh, &p.st);
        P { s, st: &p.st }
    }
    fn act(&mut self, a: FormAction) -> Outcome {
        self.s.update(ProduceAction::Form(a), self.st)
    }
    fn enter(&mut self, t: &str) -> Outcome {
        for a in chars(t) {
            self.act(a);
        }
        self.act(FormAction::Confirm)
    }
    fn focused(&self) -> &'static str {
        self.s.entry.form.focused().map(|f| f.name).unwrap_or("")
    }
    /// Scan a lot and enter the quantity used.
    fn add(&mut self, lot: &LotCode, qty: &str) -> (Outcome, Outcome) {
        let a = self.enter(lot.as_str());
        let b = self.enter(qty);
        (a, b)
    }
}

#[test]
fn a_batch_with_three_inputs_one_of_them_removed_and_put_back() {
    let p = plant();
    let mut b = P::new(&p);
    b.enter("dough");
    b.enter("WO:2211");
    b.enter(""); // a second reference
    b.enter(""); // why there is none
    b.enter("L2");
    b.act(FormAction::Confirm); // the date, today
    assert_eq!(b.focused(), "input", "no lines yet: straight to the lot");
    let (look, _) = b.add(&p.flour, "100");
    assert!(
        msg(&look).contains("FLOUR with 850 kg on hand"),
        "{}",
        msg(&look)
    );
    // a wrong line, then removed
    let (_, added) = b.add(&p.sugar, "999");
    assert_eq!(
        msg(&added),
        format!(
            "used: 999 kg is more than lot {} has on hand (200 kg)",
            p.sugar
        )
    );
    assert_eq!(
        b.focused(),
        "used",
        "the form waits for a quantity that fits"
    );
    for _ in 0..3 {
        b.act(FormAction::Edit(InputRequest::DeletePrevChar));
    }
    b.enter("30");
    assert_eq!(b.s.entry.lines.len(), 2);
    let out = b.act(FormAction::RemoveLine);
    assert!(
        msg(&out).starts_with(&format!("Removed line 2: {}", p.sugar)),
        "{}",
        msg(&out)
    );
    assert_eq!(b.s.entry.lines.len(), 1);
    b.add(&p.sugar, "20");
    b.add(&p.eggs, "4");
    assert_eq!(b.s.entry.lines.len(), 3);
    // Enter on an empty lot field: done with inputs.
    b.act(FormAction::Confirm);
    assert_eq!(b.focused(), "qty");
    b.enter("120");
    // No recipe to leave: the reason stays empty, and Enter goes on to the button.
    assert_eq!(b.focused(), "reason");
    b.act(FormAction::Confirm);
    assert_eq!(b.s.entry.form.slot(), Slot::Button);
    let out = b.act(FormAction::Confirm);
    assert_eq!(level(&out), Some(Level::Ok), "{}", msg(&out));
    assert!(out.events.contains(&InternalEvent::LotsChanged));
    let (code, _) = b.s.last.clone().unwrap();
    assert!(msg(&out).starts_with(&format!(
        "Batch closed: lot {code} is DOUGH 120 kg, from 3 inputs"
    )));
    let t =
        p.st.trace(code.clone(), lotline_domain::Direction::Backward)
            .unwrap();
    let mut inputs: Vec<String> = t
        .links
        .iter()
        .filter(|l| t.lot(l.output).unwrap().code == code)
        .map(|l| format!("{}={}", t.lot(l.input).unwrap().code, l.qty))
        .collect();
    inputs.sort();
    let mut want = vec![
        format!("{}=100", p.flour),
        format!("{}=20", p.sugar),
        format!("{}=4", p.eggs),
    ];
    want.sort();
    assert_eq!(inputs, want);
    let made = p.st.lot(code).unwrap();
    assert_eq!(made.balance, Qty::from_units(120));
    assert_eq!(
        made.origin,
        Origin::Produced {
            line: Some("L2".into())
        }
    );
    // Ready for the next batch of the same item on the same line.
    assert!(b.s.entry.lines.is_empty());
    assert_eq!(b.s.entry.form.value("item"), "DOUGH");
    assert_eq!(b.s.entry.form.value("line"), "L2");
    assert_eq!(b.s.entry.form.value("ref"), "");
    assert_eq!(b.focused(), "ref");
}

#[test]
fn expired_inputs_are_warned_about_held_ones_refused() {
    let p = plant();
    let mut b = P::new(&p);
    b.enter("DOUGH");
    b.s.entry.form.focus_field("input");
    let out = b.enter(p.old_eggs.as_str());
    assert_eq!(level(&out), Some(Level::Warn));
    assert_eq!(
        msg(&out),
        format!(
            "input: lot {} expired on 2026-11-10; check with QA before using it",
            p.old_eggs
        )
    );
    let out = b.enter("2");
    assert_eq!(level(&out), Some(Level::Warn));
    assert!(msg(&out).contains("EXPIRED"));
    assert!(b.s.entry.lines[0].expired);
    let out = b.enter(p.held_sugar.as_str());
    assert_eq!(level(&out), Some(Level::Error));
    assert_eq!(
        msg(&out),
        format!(
            "input: lot {} is on hold; QA must release it before it is used or shipped",
            p.held_sugar
        )
    );
    assert!(b.s.entry.preview.is_none());
    assert_eq!(b.focused(), "input");
    assert_eq!(
        b.s.entry.form.value("input"),
        p.held_sugar.as_str(),
        "left for correction"
    );
    b.act(FormAction::Edit(InputRequest::DeleteLine));
    let out = b.enter("R00000-999");
    assert_eq!(
        msg(&out),
        "input: no lot R00000-999; check the code on the label"
    );
    b.act(FormAction::Edit(InputRequest::DeleteLine));
    let out = b.enter(p.old_eggs.as_str());
    assert_eq!(
        msg(&out),
        format!(
            "input: lot {} is already line 1; remove that line to change its quantity",
            p.old_eggs
        )
    );
    // Closing without the output quantity, or with a lot typed but not added.
    let out = b.act(FormAction::Save);
    assert!(
        msg(&out).starts_with("input: press Enter to add lot"),
        "{}",
        msg(&out)
    );
    b.act(FormAction::Edit(InputRequest::DeleteLine));
    let out = b.act(FormAction::Save);
    assert_eq!(msg(&out), "qty: output quantity is required");
    assert_eq!(b.focused(), "qty");
    let mut empty = P::new(&p);
    empty.enter("DOUGH");
    empty.s.entry.form.focus_field("qty");
    empty.enter("5");
    let out = empty.act(FormAction::Save);
    assert_eq!(msg(&out), "input: add at least one input lot");
}

struct S<'a> {
    s: Ship,
    st: &'a Local,
}

impl S<'_> {
    fn new(p: &Plant) -> S<'_> {
        let mut s = Ship::new();
        s.update(ShipAction::Refresh, &p.st);
        S { s, st: &p.st }
    }
    fn act(&mut self, a: FormAction) -> Outcome {
        self.s.update(ShipAction::Form(a), self.st)
    }
    fn enter(&mut self, t: &str) -> Outcome {
        for a in chars(t) {
            self.act(a);
        }
        self.act(FormAction::Confirm)
    }
    fn focused(&self) -> &'static str {
        self.s.entry.form.focused().map(|f| f.name).unwrap_or("")
    }
}

#[test]
fn ship_with_the_fefo_hint_and_a_running_total() {
    let p = plant();
    let mut s = S::new(&p);
    s.enter("corner"); // the customer, by name
    assert_eq!(s.s.entry.form.value("customer"), "SHOP");
    s.enter("BOL:5521");
    s.act(FormAction::Confirm); // a second reference
    s.act(FormAction::Confirm); // why there is none
    s.act(FormAction::Confirm); // date
    assert_eq!(s.focused(), "item");
    s.enter("cookie");
    // FEFO: the first to expire first.
    let fefo: Vec<&LotCode> = s.s.fefo.iter().map(|l| &l.code).collect();
    assert_eq!(fefo, vec![&p.cookies_a, &p.cookies_b]);
    assert_eq!(s.focused(), "lot");
    // Down on the empty lot field opens the hint; Enter takes the first.
    s.act(FormAction::Down);
    assert!(s.s.entry.form.focused().unwrap().pick_open());
    let out = s.act(FormAction::Confirm);
    assert_eq!(s.s.entry.form.value("lot"), p.cookies_a.as_str());
    assert!(msg(&out).contains("with 40 case to ship"), "{}", msg(&out));
    s.enter("35");
    let out = s.enter(p.cookies_a.as_str());
    assert!(
        msg(&out).contains("with 5 case to ship"),
        "what is on the order is taken off: {}",
        msg(&out)
    );
    let out = s.enter("6");
    assert_eq!(
        msg(&out),
        format!(
            "qty: 6 case is more than lot {} has on hand (5 case)",
            p.cookies_a
        )
    );
    s.act(FormAction::Edit(InputRequest::DeleteLine)); // the quantity
    s.s.entry.form.focus_field("lot");
    s.act(FormAction::Edit(InputRequest::DeleteLine));
    let out = s.enter(p.cookies_b.as_str());
    assert_eq!(level(&out), Some(Level::Warn), "not first to expire");
    assert!(
        msg(&out).contains(&format!("{} expires first", p.cookies_a)),
        "{}",
        msg(&out)
    );
    let out = s.enter("10");
    assert_eq!(
        msg(&out),
        format!("Line 2: {} COOKIE 10 case; total 45 case", p.cookies_b)
    );
    assert_eq!(s.s.entry.total(), "45 case");
    s.act(FormAction::Confirm); // empty lot: to the button
    assert_eq!(s.s.entry.form.slot(), Slot::Button);
    let out = s.act(FormAction::Confirm);
    assert_eq!(level(&out), Some(Level::Ok), "{}", msg(&out));
    assert!(msg(&out).starts_with("Shipped 2 lots (45 case) to SHOP on BOL:5521: event "));
    assert_eq!(
        p.st.lot(p.cookies_a.clone()).unwrap().balance,
        Qty::from_units(5)
    );
    assert_eq!(
        p.st.lot(p.cookies_b.clone()).unwrap().balance,
        Qty::from_units(20)
    );
    let events =
        p.st.party_events(PartyId::parse("SHOP", "c").unwrap())
            .unwrap();
    assert_eq!(events.len(), 1);
    assert!(s.s.entry.lines.is_empty() && s.s.entry.form.value("customer").is_empty());
}

#[test]
fn ship_refuses_held_and_recalled_lots() {
    let p = plant();
    p.st.set_status(StatusChange {
        lot: p.cookies_a.clone(),
        to: LotStatus::Recalled,
        date: today(),
        reason: "complaint".into(),
    })
    .unwrap();
    let mut s = S::new(&p);
    s.enter("CAFE");
    s.s.entry.form.focus_field("lot");
    let out = s.enter(p.cookies_a.as_str());
    assert_eq!(
        msg(&out),
        format!(
            "lot: lot {} is recalled and may not be used or shipped",
            p.cookies_a
        )
    );
    assert_eq!(s.focused(), "lot");
    s.act(FormAction::Edit(InputRequest::DeleteLine));
    let out = s.enter(p.held_sugar.as_str());
    assert!(msg(&out).contains("is on hold"), "{}", msg(&out));
    // The FEFO hint leaves out what may not ship.
    s.s.entry.form.focus_field("item");
    s.enter("COOKIE");
    let fefo: Vec<&LotCode> = s.s.fefo.iter().map(|l| &l.code).collect();
    assert_eq!(fefo, vec![&p.cookies_b]);
    // Nothing on the order: nothing to ship.
    s.act(FormAction::Edit(InputRequest::DeleteLine));
    let out = s.act(FormAction::Save);
    assert_eq!(msg(&out), "lot: add at least one lot to ship");
}

struct L<'a> {
    s: Lots,
    st: &'a Local,
}

impl L<'_> {
    fn new(st: &Local) -> L<'_> {
        let mut s = Lots::new();
        s.update(LotsAction::Refresh, st);
        L { s, st }
    }
    fn act(&mut self, a: LotsAction) -> Outcome {
        self.s.update(a, self.st)
    }
    fn search(&mut self, q: &str) -> Outcome {
        self.act(LotsAction::Search);
        self.act(LotsAction::Form(FormAction::Edit(InputRequest::DeleteLine)));
        for a in chars(q) {
            self.act(LotsAction::Form(a));
        }
        self.act(LotsAction::Form(FormAction::Confirm))
    }
    fn codes(&self) -> Vec<String> {
        self.s
            .results
            .iter()
            .map(|f| f.lot.code.to_string())
            .collect()
    }
}

#[test]
fn find_lots_by_code_supplier_lot_item_and_supplier() {
    let p = plant();
    let mut l = L::new(&p.st);
    l.search(p.flour.as_str());
    assert_eq!(l.codes(), vec![p.flour.to_string()]);
    assert_eq!(l.s.results[0].matched, "lot code");
    // An exact lot code opens that lot's history at once.
    assert_eq!(l.s.focus, Focus::History);
    assert_eq!(
        l.s.history.as_ref().map(|h| h.lot.code.to_string()),
        Some(p.flour.to_string())
    );
    // supplier lot codes are the supplier's, exactly
    l.search("f-1121");
    assert_eq!(l.codes(), vec![p.eggs.to_string()]);
    assert_eq!(l.s.results[0].matched, "supplier lot");
    let out = l.search("eggs");
    assert_eq!(
        l.codes(),
        vec![p.eggs.to_string(), p.old_eggs.to_string()],
        "newest first"
    );
    assert_eq!(msg(&out), "2 lots for 'eggs' (by item EGGS)");
    let out = l.search("sunny");
    assert_eq!(l.codes().len(), 2);
    assert!(msg(&out).contains("supplier FARM"), "{}", msg(&out));
    let out = l.search("zzz");
    assert!(l.codes().is_empty());
    assert_eq!(level(&out), Some(Level::Warn));
    assert_eq!(
        l.s.focus,
        Focus::Search,
        "nothing to choose: stay in the field"
    );
    let out = l.search("");
    assert!(
        msg(&out).starts_with("8 lots, newest first"),
        "{}",
        msg(&out)
    );
}

#[test]
fn a_lots_history_and_hold_and_release_with_a_reason() {
    let p = plant();
    let mut l = L::new(&p.st);
    l.search("FLOUR");
    l.act(LotsAction::Open);
    assert_eq!(l.s.focus, Focus::History);
    let h = l.s.history.as_ref().unwrap();
    let kinds: Vec<&str> = h.events.iter().map(|e| e.event.kind.name()).collect();
    assert_eq!(kinds, vec!["receive", "produce"]);
    assert_eq!(h.lot.balance, Qty::from_units(850));
    // Hold: a reason is asked for, and required.
    l.act(LotsAction::Hold);
    assert!(l.s.wants_text());
    let out = l.act(LotsAction::Form(FormAction::Confirm));
    assert_eq!(msg(&out), "reason: say why, for the lot's history");
    for a in chars("mould on two bags") {
        l.act(LotsAction::Form(a));
    }
    let out = l.act(LotsAction::Form(FormAction::Confirm));
    assert_eq!(level(&out), Some(Level::Ok), "{}", msg(&out));
    assert!(msg(&out).starts_with(&format!("Lot {} is now on hold (event ", p.flour)));
    assert!(out.events.contains(&InternalEvent::LotsChanged));
    assert_eq!(p.st.lot(p.flour.clone()).unwrap().status, LotStatus::Hold);
    let h = l.s.history.as_ref().unwrap();
    assert_eq!(
        h.lot.status,
        LotStatus::Hold,
        "the history shows it at once"
    );
    let EventKind::Status { reason, .. } = &h.events.last().unwrap().event.kind else {
        panic!("a status event")
    };
    assert_eq!(reason, "mould on two bags");
    // Holding again says so; Esc on the release prompt changes nothing.
    let out = l.act(LotsAction::Hold);
    assert!(msg(&out).contains("is already on hold"), "{}", msg(&out));
    l.act(LotsAction::Release);
    l.act(LotsAction::Form(FormAction::Cancel));
    assert!(l.s.prompt.is_none());
    assert_eq!(p.st.lot(p.flour.clone()).unwrap().status, LotStatus::Hold);
    l.act(LotsAction::Release);
    for a in chars("bags replaced") {
        l.act(LotsAction::Form(a));
    }
    l.act(LotsAction::Form(FormAction::Confirm));
    assert_eq!(
        p.st.lot(p.flour.clone()).unwrap().status,
        LotStatus::Released
    );
    l.act(LotsAction::Back);
    assert_eq!(l.s.focus, Focus::List);
}

#[test]
fn only_qa_may_hold_and_the_refusal_keeps_the_reason() {
    // Cory at another terminal: the first station lets go of the file for it.
    let (_dir, st) = clerk_on(plant());
    let mut lots = Lots::new();
    lots.update(LotsAction::Refresh, &st);
    for a in chars("FLOUR") {
        lots.update(LotsAction::Form(a), &st);
    }
    lots.update(LotsAction::Form(FormAction::Confirm), &st);
    lots.update(LotsAction::Hold, &st);
    for a in chars("looks wet") {
        lots.update(LotsAction::Form(a), &st);
    }
    let out = lots.update(LotsAction::Form(FormAction::Confirm), &st);
    assert_eq!(level(&out), Some(Level::Error));
    assert!(
        msg(&out).starts_with("cory is an operator here and this needs QA"),
        "{}",
        msg(&out)
    );
    let prompt = lots.prompt.as_ref().expect("the prompt stays");
    assert_eq!(prompt.form.fields[0].value(), "looks wet");
}

#[test]
fn a_failed_dock_check_holds_the_lot_and_the_clerk_sees_why() {
    let p = plant();
    let mut r = R::new(&p);
    r.enter("EGGS");
    r.enter("FARM");
    r.enter("F-77");
    r.enter("10");
    // Eggs are on the Food Traceability List: their receipt names its document.
    r.s.form.focus_field("ref");
    r.typed("BOL:77");
    r.s.form.focus_field("temp");
    r.typed("4");
    r.s.form.focus_field("inspection");
    r.typed("fail");
    r.s.form.focus_field("note");
    r.typed("shells cracked");
    let out = r.act(FormAction::Save);
    assert_eq!(level(&out), Some(Level::Warn), "{}", msg(&out));
    let code = r.s.last.clone().expect("saved").code;
    assert_eq!(
        msg(&out),
        format!(
            "Received {code} ON HOLD: receiving inspection failed (note: shells cracked); QA must release it"
        )
    );
    assert_eq!(p.st.lot(code.clone()).unwrap().status, LotStatus::Hold);
    // The Lots details pane shows what the dock found.
    let mut a = app(&p);
    keys(
        &mut a,
        &p,
        [Input::code(ratatui::crossterm::event::KeyCode::F(6))],
    );
    typed(&mut a, &p, code.as_str());
    keys(
        &mut a,
        &p,
        [
            Input::code(ratatui::crossterm::event::KeyCode::Enter),
            Input::code(ratatui::crossterm::event::KeyCode::Enter),
        ],
    );
    let s = screen(&a, 100, 24);
    assert!(
        s.contains("at the dock: 4.0 °C, inspection FAIL, note: shells cracked"),
        "{s}"
    );
    assert!(s.contains("receiving inspection failed"), "{s}");
}
