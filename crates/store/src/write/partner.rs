//! Lots known only by a partner's identifier (docs/epcis.md): an imported transformation
//! or shipment that names a lot this plant has never seen records that lot — its code,
//! item, the identifier and the document — instead of refusing the event, so the event
//! and its links stand; a later document's receipt of the same lot fills it in.
//!
//! Balances stay true without knowing how much the lot held: each use an import records
//! is preceded by a `PartnerLot` event adding exactly that quantity, so the lot stays at
//! zero on hand (it is not in this plant), and its `quantity` is what the documents named.
//! A receipt filling it in takes that named quantity back (`PartnerLotFilled`): the lot then
//! holds what was received less what the documents show used.

use super::*;

/// A lot the import about to be applied may name without the plant having seen it: what
/// to record if it does (see [`Tx::partners`]).
#[derive(Debug, Clone)]
pub(crate) struct PendingPartner {
    pub code: LotCode,
    pub item: ItemCode,
    pub unit: Unit,
    pub identifier: String,
    pub source: String,
    pub event_id: String,
}

impl Tx<'_> {
    /// The lot `code` as a use of `qty` on `date` sees it when the import named it as a
    /// partner's lot: a new lot (ids counted on from the next free one by `fresh`), or a
    /// lot already known only from a partner's document, with `qty` more named of it.
    /// `None`: not such a lot; it is looked up as usual.
    pub(super) fn partner_view(
        &self,
        code: &LotCode,
        qty: Qty,
        date: NaiveDate,
        fresh: &mut u32,
    ) -> Result<Option<Lot>, StoreError> {
        let Some(p) = self.partners.iter().find(|p| p.code == *code) else {
            return Ok(None);
        };
        if self.lot_codes.get(code.as_str())?.is_some() {
            let mut lot = self.lot_by_code(code, "lot")?;
            if !matches!(lot.origin, Origin::Partner { .. }) {
                return Ok(None);
            }
            lot.quantity = lot.quantity + qty;
            lot.balance = lot.balance + qty;
            return Ok(Some(lot));
        }
        let next = self.next_lot_id()?;
        let id = next.0.checked_add(*fresh).map(LotId).ok_or_else(|| {
            StoreError::invalid("lot", "this database holds the most lots it can")
        })?;
        *fresh += 1;
        Ok(Some(Lot {
            id,
            code: code.clone(),
            item: p.item.clone(),
            origin: Origin::Partner {
                identifier: p.identifier.clone(),
                source: p.source.clone(),
            },
            event: 0,
            quantity: qty,
            unit: p.unit,
            date,
            expiry: None,
            status: LotStatus::Released,
            balance: qty,
        }))
    }

    /// Before the event that uses `taken` is recorded: store each lot known only from a
    /// partner's document that `partner_view` made or added to, with the `PartnerLot`
    /// event saying what the document named of it. Clears the pending list.
    pub(super) fn record_partner_lots(
        &mut self,
        taken: &mut [(Lot, Qty)],
        date: NaiveDate,
        stamp: &Stamp,
    ) -> Result<(), StoreError> {
        let pending = std::mem::take(&mut self.partners);
        if pending.is_empty() {
            return Ok(());
        }
        for (lot, qty) in taken.iter_mut() {
            let Some(p) = pending.iter().find(|p| p.code == lot.code) else {
                continue;
            };
            if !matches!(lot.origin, Origin::Partner { .. }) {
                continue;
            }
            let event = self.next_event_id()?;
            if lot.event == 0 {
                if self.next_lot_id()? != lot.id {
                    return Err(StoreError::Damaged {
                        detail: format!(
                            "lot id {} was taken while lot {} was named",
                            lot.id.0, lot.code
                        ),
                    });
                }
                lot.event = event;
                self.new_lot(lot)?;
                // Its item's declared allergens, as every new lot's; what it was made
                // from is not known here.
                self.put_lot_allergens(lot, AllergenSet::EMPTY)?;
            } else {
                self.put_lot(lot)?;
            }
            self.append(
                stamp,
                date,
                None,
                EventKind::PartnerLot(PartnerLot {
                    lot: lot.id,
                    item: lot.item.clone(),
                    qty: *qty,
                    unit: lot.unit,
                    identifier: p.identifier.clone(),
                    source: p.source.clone(),
                    event_id: p.event_id.clone(),
                }),
            )?;
        }
        Ok(())
    }

    /// A receipt of `item` filling in `p`, a lot known only from a partner's document:
    /// the balance it will have (`qty` received less what the documents show used).
    pub(super) fn fill_in_balance(
        &self,
        p: &Lot,
        item: &ItemCode,
        qty: Qty,
    ) -> Result<Qty, StoreError> {
        if p.item != *item {
            return Err(StoreError::invalid(
                "item",
                format!(
                    "lot {} is known here from a partner's document as item {}, not {item}; import the document with a --lot-prefix if it is another lot",
                    p.code, p.item
                ),
            ));
        }
        let used = p.quantity - p.balance;
        let left = qty - used;
        if left.milli() < 0 {
            return Err(StoreError::invalid(
                "qty",
                format!(
                    "{qty} {} received is less than the {used} {} of lot {} the partner's documents already show used",
                    p.unit, p.unit, p.code
                ),
            ));
        }
        Ok(left)
    }

    /// Store `lot`, a lot known only from a partner's document now filled in by a receipt,
    /// and index it by its supplier lot as a receipt's new lot is.
    pub(super) fn fill_in(&mut self, lot: &Lot) -> Result<(), StoreError> {
        self.put_lot(lot)?;
        self.index_supplier_lot(lot)
    }

    /// Did a partner's document name `lot` before the plant knew it (a `PartnerLot` event
    /// in its history)? Its receipt, which filled it in, is not voided: the lot would be
    /// gone while the partner's events still name it.
    pub(super) fn named_by_partner(&self, lot: LotId) -> Result<bool, StoreError> {
        for id in self.lot_event_ids(lot)? {
            if matches!(self.event(id, "event")?.kind, EventKind::PartnerLot(_)) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
