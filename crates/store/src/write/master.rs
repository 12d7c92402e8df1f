//! Plant settings and master data: items and parties added, edited and retired. An
//! edit or retirement is an event, so the old values stay in the item's or party's history.

use super::*;

impl Tx<'_> {
    /// Set the plant's settings, keeping who changed what for the audit in the same
    /// transaction: the settings never change without their audit line.
    pub(super) fn set_plant(&mut self, plant: &Plant, stamp: &Stamp) -> Result<(), StoreError> {
        plant.validate()?;
        let before = self.plant()?;
        self.write_plant(plant)?;
        crate::audit::settings_changed(self.w, stamp, &before, plant)
    }

    /// A generated plant's first settings, which nobody changed: no audit line.
    pub(crate) fn put_plant(&mut self, plant: &Plant) -> Result<(), StoreError> {
        plant.validate()?;
        self.write_plant(plant)
    }

    fn write_plant(&mut self, plant: &Plant) -> Result<(), StoreError> {
        self.meta.insert("plant", encode(plant).as_slice())?;
        *self.plant_cache.get_mut() = Some(plant.clone());
        Ok(())
    }

    pub(crate) fn add_item(&mut self, new: NewItem, stamp: &Stamp) -> Result<Item, StoreError> {
        let item = Item {
            code: new.code,
            description: new.description,
            unit: new.unit,
            kind: new.kind,
            gtin: new.gtin,
            shelf_life_days: new.shelf_life_days,
            ftl: new.ftl,
            created: stamp.clone(),
            receiving_temp: new.receiving_temp,
            retired: None,
        };
        item.validate()?;
        if self.items.get(item.code.as_str())?.is_some() {
            return Err(StoreError::invalid(
                "code",
                format!("item {} already exists; item codes are unique", item.code),
            ));
        }
        if let Some(g) = &item.gtin {
            for entry in self.items.iter()? {
                let (k, v) = entry?;
                let other: Item = decode(v.value(), "items", &k.value())?;
                if other.gtin.as_ref() == Some(g) {
                    return Err(StoreError::invalid(
                        "gtin",
                        format!("GTIN {g} already belongs to item {}", other.code),
                    ));
                }
            }
        }
        self.items
            .insert(item.code.as_str(), encode(&item).as_slice())?;
        Ok(item)
    }

    pub(crate) fn add_party(&mut self, new: NewParty, stamp: &Stamp) -> Result<Party, StoreError> {
        let party = Party {
            id: new.id,
            role: new.role,
            location: new.location,
            gln: new.gln,
            recall_contact: new.recall_contact,
            created: stamp.clone(),
            retired: None,
        };
        party.validate()?;
        if self.parties.get(party.id.as_str())?.is_some() {
            return Err(StoreError::invalid(
                "id",
                format!("party {} already exists; party ids are unique", party.id),
            ));
        }
        self.parties
            .insert(party.id.as_str(), encode(&party).as_slice())?;
        Ok(party)
    }

    fn check_gtin_free(&self, item: &Item) -> Result<(), StoreError> {
        if let Some(g) = &item.gtin {
            for entry in self.items.iter()? {
                let (k, v) = entry?;
                let other: Item = decode(v.value(), "items", &k.value())?;
                if other.code != item.code && other.gtin.as_ref() == Some(g) {
                    return Err(StoreError::invalid(
                        "gtin",
                        format!("GTIN {g} already belongs to item {}", other.code),
                    ));
                }
            }
        }
        Ok(())
    }

    fn item_has_lots(&self, code: &ItemCode) -> Result<bool, StoreError> {
        Ok(self
            .item_lots
            .range((code.as_str(), 0)..=(code.as_str(), u32::MAX))?
            .next()
            .is_some())
    }

    fn item_changed(
        &mut self,
        before: Item,
        after: Item,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        self.items
            .insert(after.code.as_str(), encode(&after).as_slice())?;
        self.append(
            stamp,
            today,
            None,
            EventKind::ItemChanged {
                before: Box::new(before),
                after: Box::new(after),
            },
        )
    }

    pub(super) fn edit_item(
        &mut self,
        new: NewItem,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        let before = self.item(&new.code, "code")?;
        // Every lot of an item is kept in its unit: changing it would change what every
        // recorded quantity means.
        if new.unit != before.unit && self.item_has_lots(&before.code)? {
            return Err(StoreError::invalid(
                "unit",
                format!(
                    "item {} has lots kept in {}; its unit cannot change (add a new item for the new unit and retire this one)",
                    before.code, before.unit
                ),
            ));
        }
        let after = Item {
            code: before.code.clone(),
            description: new.description,
            unit: new.unit,
            kind: new.kind,
            gtin: new.gtin,
            shelf_life_days: new.shelf_life_days,
            ftl: new.ftl,
            created: before.created.clone(),
            receiving_temp: new.receiving_temp,
            retired: before.retired.clone(),
        };
        after.validate()?;
        if after == before {
            return Err(StoreError::invalid(
                "item",
                format!(
                    "nothing to change: item {} already has these values",
                    before.code
                ),
            ));
        }
        self.check_gtin_free(&after)?;
        self.item_changed(before, after, stamp, today)
    }

    pub(super) fn retire_item(
        &mut self,
        code: &ItemCode,
        reason: &str,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        let reason = required_text(reason, "reason", 200)?;
        let before = self.item(code, "item")?;
        let retired = retirement("item", &before.code, before.retired.as_ref(), stamp, reason)?;
        let after = Item {
            retired: Some(retired),
            ..before.clone()
        };
        self.item_changed(before, after, stamp, today)
    }

    fn party_changed(
        &mut self,
        before: Party,
        after: Party,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        self.parties
            .insert(after.id.as_str(), encode(&after).as_slice())?;
        self.append(
            stamp,
            today,
            None,
            EventKind::PartyChanged {
                before: Box::new(before),
                after: Box::new(after),
            },
        )
    }

    pub(super) fn edit_party(
        &mut self,
        new: NewParty,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        let before = self.party(&new.id, "id")?;
        let after = Party {
            id: before.id.clone(),
            role: new.role,
            location: new.location,
            gln: new.gln,
            recall_contact: new.recall_contact,
            created: before.created.clone(),
            retired: before.retired.clone(),
        };
        after.validate()?;
        if after == before {
            return Err(StoreError::invalid(
                "party",
                format!(
                    "nothing to change: party {} already has these values",
                    before.id
                ),
            ));
        }
        self.party_changed(before, after, stamp, today)
    }

    pub(super) fn retire_party(
        &mut self,
        id: &PartyId,
        reason: &str,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        let reason = required_text(reason, "reason", 200)?;
        let before = self.party(id, "party")?;
        let retired = retirement("party", &before.id, before.retired.as_ref(), stamp, reason)?;
        let after = Party {
            retired: Some(retired),
            ..before.clone()
        };
        self.party_changed(before, after, stamp, today)
    }
}

/// The retirement of an item or party (`kind`, named `name`) by `stamp`, refused when it
/// was retired already: retiring is once, and its first record stands.
fn retirement(
    kind: &str,
    name: &dyn std::fmt::Display,
    already: Option<&Retired>,
    stamp: &Stamp,
    reason: String,
) -> Result<Retired, StoreError> {
    if let Some(r) = already {
        return Err(StoreError::invalid(
            kind,
            format!(
                "{kind} {name} was already retired on {} ({})",
                r.stamp.at.date_naive(),
                r.reason
            ),
        ));
    }
    Ok(Retired {
        stamp: stamp.clone(),
        reason,
    })
}
