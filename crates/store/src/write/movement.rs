//! What moves stock: receiving, production, shipping and counted adjustments (the FSMA
//! critical tracking events and the corrections between them).

use super::*;

impl Tx<'_> {
    /// A receipt from a scanned label: the receipt, then the label's other elements as a
    /// record of their own naming it, in the same transaction.
    pub(crate) fn receive_scanned(
        &mut self,
        s: lotline_domain::ScannedReceipt,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<Created, StoreError> {
        let date = s.receipt.date;
        let created = self.receive(s.receipt, stamp, today)?;
        if !s.label.is_empty() {
            self.append(
                stamp,
                date,
                None,
                EventKind::LabelData {
                    receipt: created.event,
                    lot: created.lot,
                    elements: s.label,
                },
            )?;
        }
        Ok(created)
    }

    /// Receiving (FSMA §1.1345): a new lot of our own code carrying the supplier's lot code.
    pub(crate) fn receive(
        &mut self,
        r: NewReceipt,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<Created, StoreError> {
        check_not_future(r.date, "date", today)?;
        clean_text(&r.quality.note, "note", 500)?;
        if !r.qty.is_positive() {
            return Err(StoreError::invalid(
                "qty",
                format!("must be greater than zero (got {})", r.qty),
            ));
        }
        if let Some(exp) = r.expiry {
            lotline_domain::check_year(exp, "expiry")?;
        }
        if let Some(exp) = r.expiry
            && exp < r.date
        {
            return Err(StoreError::invalid(
                "expiry",
                format!("{exp} is before the date received ({})", r.date),
            ));
        }
        let item = self.item(&r.item, "item")?;
        check_item_active(&item, "item")?;
        self.require_document(
            &r.reference,
            &r.documents,
            item.ftl.then_some(&item.code),
            "receipt",
        )?;
        let supplier = self.party(&r.supplier, "supplier")?;
        check_party_active(&supplier, "supplier")?;
        if !supplier.role.supplies() {
            return Err(StoreError::invalid(
                "supplier",
                format!("{} is a customer, not a supplier", supplier.id),
            ));
        }
        let qty = convert_qty(r.qty, r.unit, &item, "unit")?;
        if !qty.is_positive() {
            return Err(StoreError::invalid(
                "qty",
                format!(
                    "{} {} is less than 0.001 {}",
                    r.qty,
                    r.unit.unwrap_or(item.unit),
                    item.unit
                ),
            ));
        }
        let tlc_source_ref = match &r.tlc_source_ref {
            Some(t) => parse_tlc_source_ref(t, "tlc-source-ref")?,
            None => None,
        };
        let hold = receiving_hold(&r.quality, &item);
        // Without a date from the label, the item's shelf life counts from the day it
        // came in, as a batch's does from the day it was made.
        let expiry = r.expiry.or_else(|| {
            item.shelf_life_days
                .and_then(|d| r.date.checked_add_days(Days::new(d as u64)))
        });
        // A lot known only from a partner's document, which this receipt fills in.
        let filling = self.filling.take();
        let (code, id, balance, status) = match &filling {
            Some(p) => (
                p.code.clone(),
                p.id,
                self.fill_in_balance(p, &item.code, qty)?,
                p.status,
            ),
            None => {
                let plant = self.plant()?;
                let code = self.next_lot_code(&plant.receipt_pattern, r.date)?;
                (code, self.next_lot_id()?, qty, LotStatus::Released)
            }
        };
        let event_id = self.next_event_id()?;
        let lot = Lot {
            id,
            code: code.clone(),
            item: item.code.clone(),
            origin: Origin::Received {
                supplier: supplier.id.clone(),
                supplier_lot: r.supplier_lot.clone(),
            },
            event: event_id,
            quantity: qty,
            unit: item.unit,
            date: r.date,
            expiry,
            status,
            balance,
        };
        match &filling {
            Some(_) => self.fill_in(&lot)?,
            None => self.new_lot(&lot)?,
        }
        self.put_lot_allergens(&lot, AllergenSet::EMPTY)?;
        self.put_event(&Event {
            id: event_id,
            stamp: stamp.clone(),
            date: r.date,
            reference: r.reference.clone(),
            kind: EventKind::Receive(Receipt {
                lot: id,
                item: item.code,
                supplier: supplier.id,
                supplier_lot: r.supplier_lot.clone(),
                qty,
                unit: item.unit,
                expiry,
                quality: r.quality.clone(),
                as_received: Some(Counted {
                    qty: r.qty,
                    unit: r.unit.unwrap_or(item.unit),
                }),
                tlc_source_ref,
            }),
        })?;
        self.put_documents(event_id, &r.documents)?;
        if let Some(p) = &filling {
            self.append(
                stamp,
                r.date,
                None,
                EventKind::PartnerLotFilled {
                    lot: id,
                    by: event_id,
                    named: p.quantity,
                },
            )?;
        }
        // A failed check holds the lot before anyone can use it: the hold is its own
        // status event, stamped like the receipt, so releasing it later is ordinary QA work.
        // (A lot a partner's document named may already be held or recalled: it stays so.)
        if let Some(reason) = &hold
            && status == LotStatus::Released
        {
            let mut held = self.lot(id)?;
            held.status = LotStatus::Hold;
            self.put_lot(&held)?;
            self.append(
                stamp,
                r.date,
                None,
                EventKind::Status {
                    lot: id,
                    from: LotStatus::Released,
                    to: LotStatus::Hold,
                    reason: reason.clone(),
                },
            )?;
        }
        Ok(Created {
            code,
            lot: id,
            event: event_id,
            hold,
        })
    }

    /// Transformation (FSMA §1.1350): inputs consumed, one new output lot, links both ways.
    /// Checked against the output item's recipe; held for an undeclared allergen or
    /// possible cross-contact (`recipe`).
    pub(crate) fn produce(
        &mut self,
        b: NewBatch,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<Created, StoreError> {
        self.produce_with(b, None, stamp, today)
    }

    /// [`Tx::produce`], with the reason a batch may leave its recipe.
    pub(crate) fn produce_with(
        &mut self,
        b: NewBatch,
        over: Option<Override>,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<Created, StoreError> {
        check_not_future(b.date, "date", today)?;
        if !b.qty.is_positive() {
            return Err(StoreError::invalid(
                "qty",
                format!("must be greater than zero (got {})", b.qty),
            ));
        }
        if let Some(exp) = b.expiry {
            lotline_domain::check_year(exp, "expiry")?;
        }
        if let Some(exp) = b.expiry
            && exp < b.date
        {
            return Err(StoreError::invalid(
                "expiry",
                format!("{exp} is before the batch date ({})", b.date),
            ));
        }
        if let Some(line) = &b.line {
            required_text(line, "line", 40)?;
        }
        let item = self.item(&b.item, "item")?;
        check_item_active(&item, "item")?;
        let qty = convert_qty(b.qty, b.unit, &item, "unit")?;
        if !qty.is_positive() {
            return Err(StoreError::invalid(
                "qty",
                format!(
                    "{} {} is less than 0.001 {}",
                    b.qty,
                    b.unit.unwrap_or(item.unit),
                    item.unit
                ),
            ));
        }
        let mut inputs = self.take(&b.inputs, "input", b.date, b.allow_expired)?;
        // A transformation is FSMA's when a food on the list goes in or comes out.
        let ftl_input = match item.ftl {
            true => None,
            false => self.first_ftl(inputs.iter().map(|(l, _)| &l.item))?,
        };
        self.require_document(
            &b.reference,
            &b.documents,
            if item.ftl {
                Some(&item.code)
            } else {
                ftl_input.as_ref()
            },
            "batch",
        )?;
        let checked = self.check_recipe(&item.code, b.date, &inputs, qty, over)?;
        let mut carried = AllergenSet::EMPTY;
        for (l, _) in &inputs {
            carried = carried | self.lot_carries(l.id)?;
        }
        let plant = self.plant()?;
        let code = self.next_lot_code(&plant.batch_pattern, b.date)?;
        self.record_partner_lots(&mut inputs, b.date, stamp)?;
        let id = self.next_lot_id()?;
        let event_id = self.next_event_id()?;
        let expiry = b.expiry.or_else(|| {
            item.shelf_life_days
                .and_then(|d| b.date.checked_add_days(Days::new(d as u64)))
        });
        let mut reverse = Vec::with_capacity(inputs.len());
        for (mut lot, used) in inputs.iter().cloned() {
            lot.balance = lot.balance - used;
            self.put_lot(&lot)?;
            self.fwd.insert(lot.id.0, (id.0, used.milli()))?;
            reverse.push((lot.id.0, used.milli()));
        }
        self.rev
            .insert(id.0, pack_inputs(&mut reverse).as_slice())?;
        let lot = Lot {
            id,
            code: code.clone(),
            item: item.code.clone(),
            origin: Origin::Produced {
                line: b.line.clone(),
            },
            event: event_id,
            quantity: qty,
            unit: item.unit,
            date: b.date,
            expiry,
            status: LotStatus::Released,
            balance: qty,
        };
        self.new_lot(&lot)?;
        let set = self.put_lot_allergens(&lot, carried)?;
        self.put_event(&Event {
            id: event_id,
            stamp: stamp.clone(),
            date: b.date,
            reference: b.reference.clone(),
            kind: EventKind::Produce(Batch {
                output: id,
                item: item.code,
                qty,
                unit: item.unit,
                line: b.line.clone(),
                inputs: inputs
                    .iter()
                    .map(|(l, q)| Use { lot: l.id, qty: *q })
                    .collect(),
            }),
        })?;
        self.put_documents(event_id, &b.documents)?;
        self.record_expiry_override(event_id, &inputs, b.date, stamp)?;
        let hold = self.after_batch(
            event_id,
            &lot,
            set,
            &inputs,
            checked,
            b.line.as_deref(),
            stamp,
        )?;
        Ok(Created {
            code,
            lot: id,
            event: event_id,
            hold,
        })
    }

    /// Shipping (FSMA §1.1340): lots leave for a customer. Returns the event id.
    pub(crate) fn ship(
        &mut self,
        s: NewShipment,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        check_not_future(s.date, "date", today)?;
        let customer = self.party(&s.customer, "customer")?;
        check_party_active(&customer, "customer")?;
        if !customer.role.buys() {
            return Err(StoreError::invalid(
                "customer",
                format!("{} is a supplier, not a customer", customer.id),
            ));
        }
        let mut taken = self.take(&s.lines, "lot", s.date, s.allow_expired)?;
        self.record_partner_lots(&mut taken, s.date, stamp)?;
        let ftl = self.first_ftl(taken.iter().map(|(l, _)| &l.item))?;
        self.require_document(&s.reference, &s.documents, ftl.as_ref(), "shipment")?;
        for (mut lot, q) in taken.iter().cloned() {
            lot.balance = lot.balance - q;
            self.put_lot(&lot)?;
        }
        let lines = taken
            .iter()
            .map(|(l, q)| Use { lot: l.id, qty: *q })
            .collect();
        let id = self.append(
            stamp,
            s.date,
            s.reference.clone(),
            EventKind::Ship(Shipment {
                customer: customer.id,
                lines,
            }),
        )?;
        self.put_documents(id, &s.documents)?;
        self.record_expiry_override(id, &taken, s.date, stamp)?;
        Ok(id)
    }

    /// The first of `items` on the Food Traceability List, if any.
    fn first_ftl<'i>(
        &self,
        items: impl Iterator<Item = &'i ItemCode>,
    ) -> Result<Option<ItemCode>, StoreError> {
        let mut seen = std::collections::HashSet::new();
        for code in items {
            if seen.insert(code) && self.item(code, "item")?.ftl {
                return Ok(Some(code.clone()));
            }
        }
        Ok(None)
    }

    /// When `event` used lots past their expiry (the user overrode the refusal), say so in
    /// an event of its own, in each of those lots' histories.
    fn record_expiry_override(
        &mut self,
        event: u64,
        taken: &[(Lot, Qty)],
        date: NaiveDate,
        stamp: &Stamp,
    ) -> Result<(), StoreError> {
        let lots: Vec<LotId> = taken
            .iter()
            .filter(|(l, _)| l.is_expired(date))
            .map(|(l, _)| l.id)
            .collect();
        if !lots.is_empty() {
            self.append(stamp, date, None, EventKind::ExpiryOverride { event, lots })?;
        }
        Ok(())
    }

    /// A counted correction of a lot's balance, with a reason. Returns the event id.
    pub(crate) fn adjust(
        &mut self,
        a: Adjustment,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        check_not_future(a.date, "date", today)?;
        let reason = required_text(&a.reason, "reason", 200)?;
        if a.delta == Qty::ZERO {
            return Err(StoreError::invalid(
                "qty",
                "an adjustment of 0 changes nothing; give +N or -N",
            ));
        }
        let mut lot = self.lot_by_code(&a.lot, "lot")?;
        lot.check_date(a.date, "date")?;
        if lot.status == LotStatus::Voided {
            return Err(StoreError::invalid(
                "lot",
                format!("lot {} was voided; it cannot be adjusted", lot.code),
            ));
        }
        let new_balance = lot
            .balance
            .checked_add(a.delta)
            .filter(|b| b.milli() >= 0)
            .ok_or_else(|| {
                StoreError::invalid(
                    "qty",
                    format!(
                        "{} would leave lot {} below zero (on hand {} {})",
                        a.delta, lot.code, lot.balance, lot.unit
                    ),
                )
            })?;
        lot.balance = new_balance;
        self.put_lot(&lot)?;
        self.append(
            stamp,
            a.date,
            None,
            EventKind::Adjust {
                lot: lot.id,
                delta: a.delta,
                reason: reason.clone(),
            },
        )
    }
}

/// Why a receipt's dock checks hold the new lot: a failed inspection, a temperature outside
/// the item's range, or both; `None` when it may be used at once.
fn receiving_hold(q: &Quality, item: &Item) -> Option<String> {
    let mut why = Vec::new();
    if q.inspection == Some(Inspection::Fail) {
        why.push("receiving inspection failed".to_string());
    }
    if let Some(dc) = q.temperature_dc
        && let Some(out) = item.receiving_temp.outside(dc)
    {
        why.push(out);
    }
    if why.is_empty() {
        return None;
    }
    let mut reason = why.join("; ");
    if !q.note.trim().is_empty() {
        reason.push_str(&format!(" (note: {})", q.note.trim()));
    }
    Some(reason)
}
