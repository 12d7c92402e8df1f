//! Customer returns: product back against a shipment, into a new lot on hold.

use super::*;

impl Tx<'_> {
    /// How much of `lot` standing returns have brought back from `shipment`.
    pub(super) fn returned_from(&self, lot: LotId, shipment: u64) -> Result<Qty, StoreError> {
        let mut sum = Qty::ZERO;
        for id in self.lot_event_ids(lot)? {
            if id <= shipment || self.is_voided(id)? {
                continue;
            }
            if let EventKind::Return(r) = self.event(id, "event")?.kind
                && r.shipment == shipment
                && r.from == lot
            {
                sum = sum + r.qty;
            }
        }
        Ok(sum)
    }

    /// For a return a document gives without naming its shipment: the latest standing
    /// shipment of `lot` to `customer` on or before `date` with at least `qty` not yet
    /// returned.
    pub(crate) fn shipment_for_return(
        &self,
        lot: &Lot,
        customer: &PartyId,
        date: NaiveDate,
        qty: Qty,
    ) -> Result<u64, StoreError> {
        let day = day_number(date);
        let mut shipped: Vec<(i32, u64, i64)> = Vec::new();
        for line in self.lot_ships.get(lot.id.0)? {
            let guard = line?;
            let (event, milli, d, to, _, _) = guard.value();
            if to == customer.as_str() && d <= day && !self.is_voided(event)? {
                match shipped.iter_mut().find(|(_, e, _)| *e == event) {
                    Some(s) => s.2 += milli,
                    None => shipped.push((d, event, milli)),
                }
            }
        }
        shipped.sort_unstable();
        for &(_, event, milli) in shipped.iter().rev() {
            if Qty(milli) - self.returned_from(lot.id, event)? >= qty {
                return Ok(event);
            }
        }
        Err(StoreError::invalid(
            "shipment",
            format!(
                "no shipment of lot {} to {customer} on or before {date} has {qty} {} left to come back",
                lot.code, lot.unit
            ),
        ))
    }

    /// The standing shipment of `lot` the user named: by event id, or by its reference
    /// document (`BOL:4471`, or the number alone when only one shipment of the lot has it).
    fn shipment_of(&self, lot: &Lot, named: &str) -> Result<Event, StoreError> {
        let named = named.trim();
        let field = "shipment";
        let mut found: Vec<u64> = Vec::new();
        for line in self.lot_ships.get(lot.id.0)? {
            let guard = line?;
            let (event, _, _, _, kind, number) = guard.value();
            let by_id = named.parse::<u64>().is_ok_and(|n| n == event);
            let by_ref = !number.is_empty()
                && (named.eq_ignore_ascii_case(&format!("{kind}:{number}"))
                    || named.eq_ignore_ascii_case(number));
            if (by_id || by_ref) && !found.contains(&event) && !self.is_voided(event)? {
                found.push(event);
            }
        }
        match found.as_slice() {
            [one] => self.event(*one, field),
            [] => {
                // Say why: no such shipment at all, or one that did not carry this lot.
                if let Ok(n) = named.parse::<u64>()
                    && let Ok(e) = self.event(n, field)
                {
                    let why = match &e.kind {
                        EventKind::Ship(_) if self.is_voided(n)? => "was voided",
                        EventKind::Ship(_) => "did not carry it",
                        _ => "is not a shipment",
                    };
                    return Err(StoreError::invalid(
                        field,
                        format!(
                            "event {n} {why}; `lotline lot {}` lists the lot's shipments",
                            lot.code
                        ),
                    ));
                }
                Err(StoreError::invalid(
                    field,
                    format!(
                        "no shipment of lot {} is {}; give the shipment's event id or reference (`lotline lot {}` lists them)",
                        lot.code,
                        lotline_domain::text::excerpt(named),
                        lot.code
                    ),
                ))
            }
            many => Err(StoreError::invalid(
                field,
                format!(
                    "{} names {} shipments of lot {} (events {}); give the event id",
                    lotline_domain::text::excerpt(named),
                    many.len(),
                    lot.code,
                    many.iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    /// The return lot's code: the shipped lot's with `-R1`, `-R2`…, so the label says which
    /// lot came back; the plant's batch pattern when that would not be a valid code.
    fn return_code(&mut self, from: &Lot, date: NaiveDate) -> Result<LotCode, StoreError> {
        if self.forced_code.is_some() {
            // An import keeps the code the source plant gave the return lot.
            let plant = self.plant()?;
            return self.next_lot_code(&plant.batch_pattern, date);
        }
        for n in 1..1000u32 {
            let Ok(code) = LotCode::parse(&format!("{}-R{n}", from.code), "lot") else {
                break;
            };
            if self.lot_codes.get(code.as_str())?.is_none() {
                return Ok(code);
            }
        }
        let plant = self.plant()?;
        self.next_lot_code(&plant.batch_pattern, date)
    }

    /// Product back from a customer against a shipment, into a new lot on hold (see
    /// `CustomerReturn` for why a new lot), linked from the shipped lot.
    pub(crate) fn return_goods(
        &mut self,
        r: NewReturn,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<Created, StoreError> {
        check_not_future(r.date, "date", today)?;
        let reason = clean_text(&r.reason, "reason", 200)?;
        if !r.qty.is_positive() {
            return Err(StoreError::invalid(
                "qty",
                format!("must be greater than zero (got {})", r.qty),
            ));
        }
        let from = self.lot_by_code(&r.lot, "lot")?;
        if let Some(u) = r.unit
            && u != from.unit
        {
            return Err(StoreError::invalid(
                "unit",
                format!(
                    "lot {} was shipped in {}; give the quantity in {} (returns are not converted)",
                    from.code, from.unit, from.unit
                ),
            ));
        }
        let shipment = self.shipment_of(&from, &r.shipment)?;
        let EventKind::Ship(s) = &shipment.kind else {
            return Err(StoreError::invalid(
                "shipment",
                format!("event {} is not a shipment", shipment.id),
            ));
        };
        if r.date < shipment.date {
            return Err(StoreError::invalid(
                "date",
                format!(
                    "{} is before shipment {} left ({}); date the return on or after it",
                    r.date, shipment.id, shipment.date
                ),
            ));
        }
        let shipped: Qty = s
            .lines
            .iter()
            .filter(|u| u.lot == from.id)
            .map(|u| u.qty)
            .sum();
        let returned = self.returned_from(from.id, shipment.id)?;
        let left = shipped - returned;
        if r.qty > left {
            return Err(StoreError::invalid(
                "qty",
                format!(
                    "{} {u} is more than can come back from shipment {} of lot {}: {shipped} {u} shipped to {}, {returned} {u} returned already",
                    r.qty,
                    shipment.id,
                    from.code,
                    s.customer,
                    u = from.unit
                ),
            ));
        }
        let customer = s.customer.clone();
        let code = self.return_code(&from, r.date)?;
        let id = self.next_lot_id()?;
        let event_id = self.next_event_id()?;
        let lot = Lot {
            id,
            code: code.clone(),
            item: from.item.clone(),
            origin: Origin::Returned {
                customer: customer.clone(),
                shipment: shipment.id,
                from: from.id,
            },
            event: event_id,
            quantity: r.qty,
            unit: from.unit,
            date: r.date,
            expiry: from.expiry,
            status: LotStatus::Released,
            balance: r.qty,
        };
        self.new_lot(&lot)?;
        let carried = self.lot_carries(from.id)?;
        self.put_lot_allergens(&lot, carried)?;
        // The shipped lot is the return lot's one input: traces pass through it both ways.
        self.fwd.insert(from.id.0, (id.0, r.qty.milli()))?;
        self.rev.insert(
            id.0,
            pack_inputs(&mut [(from.id.0, r.qty.milli())]).as_slice(),
        )?;
        self.put_event(&Event {
            id: event_id,
            stamp: stamp.clone(),
            date: r.date,
            reference: r.reference.clone(),
            kind: EventKind::Return(CustomerReturn {
                shipment: shipment.id,
                customer: customer.clone(),
                from: from.id,
                lot: id,
                item: from.item.clone(),
                qty: r.qty,
                unit: from.unit,
                reason: reason.clone(),
            }),
        })?;
        // Nothing that came back is used or shipped again before QA has looked at it: the
        // hold is its own status event, so releasing it is ordinary QA work.
        let why = if reason.is_empty() {
            format!("returned by {customer} (shipment {})", shipment.id)
        } else {
            format!(
                "returned by {customer} (shipment {}): {reason}",
                shipment.id
            )
        };
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
                reason: why.clone(),
            },
        )?;
        Ok(Created {
            code,
            lot: id,
            event: event_id,
            hold: Some(why),
        })
    }
}
