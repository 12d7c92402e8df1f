//! A lot's status (hold, release, recall), a recall's hold of many lots at once, and
//! voids: an event entered in error taken back, its record kept.

use super::*;

impl Tx<'_> {
    /// Hold, release or recall a lot, with a reason. Returns the event id.
    pub(super) fn set_status(
        &mut self,
        c: StatusChange,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        check_not_future(c.date, "date", today)?;
        let reason = required_text(&c.reason, "reason", 200)?;
        if c.to == LotStatus::Voided {
            return Err(StoreError::invalid(
                "status",
                "a lot is voided by voiding the event that created it (`lotline void`)",
            ));
        }
        let mut lot = self.lot_by_code(&c.lot, "lot")?;
        lot.check_date(c.date, "date")?;
        let from = lot.status;
        if from == LotStatus::Voided {
            return Err(StoreError::invalid(
                "lot",
                format!("lot {} was voided; its status cannot change", lot.code),
            ));
        }
        if from == c.to {
            return Err(StoreError::invalid(
                "lot",
                format!("lot {} is already {}", lot.code, from),
            ));
        }
        lot.status = c.to;
        self.put_lot(&lot)?;
        self.append(
            stamp,
            c.date,
            None,
            EventKind::Status {
                lot: lot.id,
                from,
                to: c.to,
                reason: reason.clone(),
            },
        )
    }

    /// Hold every released lot in `h.lots` (a recall scope's stock) with one reason. Lots
    /// already held, recalled or voided are left as they are. Returns the status events.
    pub(super) fn hold_all(
        &mut self,
        h: HoldAll,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<Vec<u64>, StoreError> {
        let reason = required_text(&h.reason, "reason", 200)?;
        if h.lots.is_empty() {
            return Err(StoreError::invalid("lots", "no lots to hold"));
        }
        let mut events = Vec::new();
        for code in &h.lots {
            if self.lot_by_code(code, "lots")?.status != LotStatus::Released {
                continue;
            }
            let change = StatusChange {
                lot: code.clone(),
                to: LotStatus::Hold,
                date: h.date,
                reason: reason.clone(),
            };
            events.push(self.set_status(change, stamp, today)?);
        }
        Ok(events)
    }

    /// Take back an event entered in error. Its record stays; a void event names it and
    /// the reason, and its effect on balances and statuses is reversed. A receipt or batch
    /// can only be voided while nothing has used its lot, so no history downstream is
    /// left pointing at a lot that never was.
    pub(super) fn void(
        &mut self,
        v: VoidEvent,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        check_not_future(v.date, "date", today)?;
        let reason = required_text(&v.reason, "reason", 200)?;
        let target = self.event(v.event, "event")?;
        if v.date < target.date {
            return Err(StoreError::invalid(
                "date",
                format!(
                    "{} is before event {} ({}); date the void on or after it",
                    v.date, target.id, target.date
                ),
            ));
        }
        if let Some(by) = self.voids.get(v.event)? {
            return Err(StoreError::invalid(
                "event",
                format!(
                    "event {} was already voided by event {}",
                    v.event,
                    by.value()
                ),
            ));
        }
        let id = self.next_event_id()?;
        match &target.kind {
            // A record only: nothing to reverse. A voided changeover no longer clears its
            // line (the cross-contact check skips it).
            EventKind::MockRecall(_)
            | EventKind::ExpiryOverride { .. }
            | EventKind::LabelData { .. }
            | EventKind::Changeover(_) => {}
            // Recipes, declarations and the allergen list are corrected by another version,
            // which keeps this one in history.
            EventKind::RecipeChanged(_)
            | EventKind::AllergensDeclared { .. }
            | EventKind::AllergenListChanged { .. } => {
                return Err(StoreError::invalid(
                    "event",
                    format!(
                        "event {} changed a recipe or the allergens; correct it with another version, which keeps this one",
                        v.event
                    ),
                ));
            }
            EventKind::BatchRecipe(_) | EventKind::AllergenHold(_) => {
                return Err(StoreError::invalid(
                    "event",
                    format!(
                        "event {} is part of a batch's record; void the batch, or release the lot with a reason",
                        v.event
                    ),
                ));
            }
            // Master data is corrected by another edit, which keeps this one in history.
            EventKind::ItemChanged { .. } | EventKind::PartyChanged { .. } => {
                return Err(StoreError::invalid(
                    "event",
                    format!(
                        "event {} changed master data; correct it with another edit (`lotline item edit` / `party edit`)",
                        v.event
                    ),
                ));
            }
            // What a partner's document said stands as imported; a receipt that filled
            // such a lot in cannot be voided either (its lot was named before it).
            EventKind::PartnerLot(PartnerLot { lot, .. })
            | EventKind::PartnerLotFilled { lot, .. } => {
                return Err(StoreError::invalid(
                    "event",
                    format!(
                        "event {} records what a partner's document said of lot {}; it stands as imported",
                        v.event,
                        self.lot(*lot)?.code
                    ),
                ));
            }
            EventKind::Void { .. } => {
                return Err(StoreError::invalid(
                    "event",
                    format!(
                        "event {} is itself a void; record the event again instead",
                        v.event
                    ),
                ));
            }
            // A mock recall is corrected by counting the line again: the record keeps both.
            EventKind::MockRecallStarted(_)
            | EventKind::MockRecallCount(_)
            | EventKind::MockRecallFinished(_) => {
                return Err(StoreError::invalid(
                    "event",
                    format!(
                        "event {} is part of a mock recall record; correct a count by counting the line again (`lotline mock-recall count`), which keeps both",
                        v.event
                    ),
                ));
            }
            EventKind::Receive(Receipt { lot, .. })
            | EventKind::Produce(Batch { output: lot, .. })
            | EventKind::Return(CustomerReturn { lot, .. }) => {
                let mut out = self.lot(*lot)?;
                if self.named_by_partner(*lot)? {
                    return Err(StoreError::invalid(
                        "event",
                        format!(
                            "lot {} was named by a partner's document before this event filled it in; both stand as imported (correct its balance with `lotline adjust`)",
                            out.code
                        ),
                    ));
                }
                if self.lot_was_used(*lot, target.id)? {
                    return Err(StoreError::invalid(
                        "event",
                        format!(
                            "lot {} has been used, shipped or adjusted since; void those events first",
                            out.code
                        ),
                    ));
                }
                out.status = LotStatus::Voided;
                out.balance = Qty::ZERO;
                self.put_lot(&out)?;
                if let EventKind::Produce(b) = &target.kind {
                    for u in &b.inputs {
                        let mut l = self.lot(u.lot)?;
                        l.balance = l.balance + u.qty;
                        self.put_lot(&l)?;
                    }
                }
            }
            EventKind::Ship(s) => {
                for u in &s.lines {
                    // Returns name the shipment; they go first.
                    if self.returned_from(u.lot, target.id)?.is_positive() {
                        return Err(StoreError::invalid(
                            "event",
                            format!(
                                "goods of shipment {} were returned (see `lotline lot {}`); void the returns first",
                                target.id,
                                self.lot(u.lot)?.code
                            ),
                        ));
                    }
                    let mut l = self.lot(u.lot)?;
                    l.balance = l.balance + u.qty;
                    self.put_lot(&l)?;
                }
            }
            EventKind::Adjust { lot, delta, .. } => {
                let mut l = self.lot(*lot)?;
                l.balance = l
                    .balance
                    .checked_sub(*delta)
                    .filter(|b| b.milli() >= 0)
                    .ok_or_else(|| {
                        StoreError::invalid(
                            "event",
                            format!("voiding it would leave lot {} below zero", l.code),
                        )
                    })?;
                self.put_lot(&l)?;
            }
            EventKind::Status { lot, from, .. } => {
                let mut l = self.lot(*lot)?;
                // Only the lot's latest standing status change can be taken back; undoing an
                // older one would contradict the changes made after it.
                if let Some(later) = self.later_status_change(*lot, target.id)? {
                    return Err(StoreError::invalid(
                        "event",
                        format!(
                            "lot {} has changed status since (event {later}, now {}); record a new status change instead",
                            l.code, l.status
                        ),
                    ));
                }
                if l.status == LotStatus::Voided {
                    return Err(StoreError::invalid(
                        "event",
                        format!(
                            "lot {} was voided; its status changes stand as recorded",
                            l.code
                        ),
                    ));
                }
                l.status = *from;
                self.put_lot(&l)?;
            }
        }
        self.voids.insert(v.event, id)?;
        self.put_event(&Event {
            id,
            stamp: stamp.clone(),
            date: v.date,
            reference: None,
            kind: EventKind::Void {
                event: v.event,
                reason,
            },
        })?;
        // The void belongs in the history of every lot the voided event touched.
        for lot in target.kind.lots() {
            self.lot_events.insert((lot.0, id), ())?;
        }
        Ok(id)
    }
}
