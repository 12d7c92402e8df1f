//! Read queries. Each runs in one read transaction, a consistent snapshot.

use super::codec::decode;
use super::tables::*;
use super::{Store, StoreError};
use lotline_domain::*;
use redb::{ReadTransaction, ReadableMultimapTable, ReadableTable};
use std::collections::BTreeSet;

pub(super) fn read_lot(r: &ReadTransaction, id: LotId) -> Result<Lot, StoreError> {
    let t = r.open_table(LOTS)?;
    match t.get(id.0)? {
        Some(v) => decode(v.value(), "lots", &id.0),
        None => Err(StoreError::Damaged {
            detail: format!("lot id {} is referenced but missing", id.0),
        }),
    }
}

pub(super) fn read_lot_id(r: &ReadTransaction, code: &LotCode) -> Result<LotId, StoreError> {
    r.open_table(LOT_CODES)?
        .get(code.as_str())?
        .map(|v| LotId(v.value()))
        .ok_or_else(|| {
            StoreError::invalid("lot", format!("no lot {code}; check the code on the label"))
        })
}

/// Every record of a string-keyed master-data table, in key order.
fn read_all<T: serde::de::DeserializeOwned>(
    r: &ReadTransaction,
    table: redb::TableDefinition<&'static str, &'static [u8]>,
    name: &'static str,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    for e in r.open_table(table)?.iter()? {
        let (k, v) = e?;
        out.push(decode(v.value(), name, &k.value())?);
    }
    Ok(out)
}

pub(super) fn read_event(r: &ReadTransaction, id: u64) -> Result<Event, StoreError> {
    match r.open_table(EVENTS)?.get(id)? {
        Some(v) => decode(v.value(), "events", &id),
        None => Err(StoreError::invalid("event", format!("no event {id}"))),
    }
}

impl Store {
    pub(super) fn read(&self) -> Result<ReadTransaction, StoreError> {
        self.db.begin_read()
    }

    pub fn plant(&self) -> Result<Plant, StoreError> {
        let r = self.read()?;
        match r.open_table(META)?.get("plant")? {
            Some(v) => decode(v.value(), "meta", &"plant"),
            None => Ok(Plant::default()),
        }
    }

    pub fn item(&self, code: &ItemCode) -> Result<Item, StoreError> {
        let r = self.read()?;
        match r.open_table(ITEMS)?.get(code.as_str())? {
            Some(v) => decode(v.value(), "items", code),
            None => Err(StoreError::invalid("item", format!("no item {code}"))),
        }
    }

    pub fn items(&self) -> Result<Vec<Item>, StoreError> {
        read_all(&self.read()?, ITEMS, "items")
    }

    pub fn party(&self, id: &PartyId) -> Result<Party, StoreError> {
        let r = self.read()?;
        match r.open_table(PARTIES)?.get(id.as_str())? {
            Some(v) => decode(v.value(), "parties", id),
            None => Err(StoreError::invalid("party", format!("no party {id}"))),
        }
    }

    pub fn parties(&self) -> Result<Vec<Party>, StoreError> {
        read_all(&self.read()?, PARTIES, "parties")
    }

    pub fn lot_by_code(&self, code: &LotCode) -> Result<Lot, StoreError> {
        let r = self.read()?;
        let id = read_lot_id(&r, code)?;
        read_lot(&r, id)
    }

    pub fn lot(&self, id: LotId) -> Result<Lot, StoreError> {
        read_lot(&self.read()?, id)
    }

    pub fn event(&self, id: u64) -> Result<Event, StoreError> {
        read_event(&self.read()?, id)
    }

    /// Lots matching `f`, oldest first. Uses the supplier-lot or item index when given.
    pub fn find_lots(&self, f: &LotFilter) -> Result<Vec<Lot>, StoreError> {
        let r = self.read()?;
        let ids: Option<BTreeSet<u32>> = if let Some(sl) = &f.supplier_lot {
            let t = r.open_table(SUPPLIER_LOTS)?;
            let start = format!("{sl}\0");
            let end = format!("{sl}\u{1}");
            let mut set = BTreeSet::new();
            for e in t.range((start.as_str(), 0)..(end.as_str(), 0))? {
                set.insert(e?.0.value().1);
            }
            Some(set)
        } else if let Some(item) = &f.item {
            let t = r.open_table(ITEM_LOTS)?;
            let mut set = BTreeSet::new();
            for e in t.range((item.as_str(), 0)..=(item.as_str(), u32::MAX))? {
                set.insert(e?.0.value().1);
            }
            Some(set)
        } else {
            None
        };
        let lots = r.open_table(LOTS)?;
        let mut out = Vec::new();
        let mut consider = |lot: Lot| {
            if f.matches(&lot) {
                out.push(lot);
            }
        };
        match ids {
            Some(ids) => {
                for id in ids {
                    if let Some(v) = lots.get(id)? {
                        consider(decode(v.value(), "lots", &id)?);
                    }
                }
            }
            None => {
                for e in lots.iter()? {
                    let (k, v) = e?;
                    consider(decode(v.value(), "lots", &k.value())?);
                }
            }
        }
        Ok(out)
    }

    /// Every lot, in id order, without holding them all: for exports and benchmarks.
    pub fn for_each_lot(
        &self,
        mut f: impl FnMut(Lot) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let r = self.read()?;
        for e in r.open_table(LOTS)?.iter()? {
            let (k, v) = e?;
            f(decode(v.value(), "lots", &k.value())?)?;
        }
        Ok(())
    }

    /// Every event, oldest first, each with the event that voided it, if any.
    pub fn for_each_event(
        &self,
        mut f: impl FnMut(Event, Option<u64>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let r = self.read()?;
        let voids = r.open_table(EVENT_VOIDS)?;
        for e in r.open_table(EVENTS)?.iter()? {
            let (k, v) = e?;
            let voided_by = voids.get(k.value())?.map(|v| v.value());
            f(decode(v.value(), "events", &k.value())?, voided_by)?;
        }
        Ok(())
    }

    /// Every link as (input lot, output lot, quantity of the input used), by input lot.
    pub fn for_each_link(
        &self,
        mut f: impl FnMut(LotId, LotId, Qty) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let r = self.read()?;
        for e in r.open_multimap_table(LINKS_FWD)?.iter()? {
            let (k, vals) = e?;
            let input = LotId(k.value());
            for v in vals {
                let (output, milli) = v?.value();
                f(input, LotId(output), Qty(milli))?;
            }
        }
        Ok(())
    }

    /// A lot and every event that touched it, oldest first.
    pub fn lot_history(&self, code: &LotCode) -> Result<LotHistory, StoreError> {
        let r = self.read()?;
        let id = read_lot_id(&r, code)?;
        let lot = read_lot(&r, id)?;
        let voids = r.open_table(EVENT_VOIDS)?;
        let mut events = Vec::new();
        for e in r
            .open_table(LOT_EVENTS)?
            .range((id.0, 0)..=(id.0, u64::MAX))?
        {
            let eid = e?.0.value().1;
            events.push(HistoryEntry {
                event: read_event(&r, eid)?,
                voided_by: voids.get(eid)?.map(|v| v.value()),
            });
        }
        // The codes of the other lots its events name, so a history can be shown whole
        // without asking for each lot again.
        let mut related = std::collections::BTreeMap::new();
        for e in &events {
            for other in e.event.kind.lots() {
                if other != lot.id && !related.contains_key(&other) {
                    let l = read_lot(&r, other)?;
                    related.insert(other, (l.code, l.unit));
                }
            }
        }
        Ok(LotHistory {
            lot,
            events,
            related: related.into_iter().map(|(id, (c, u))| (id, c, u)).collect(),
        })
    }

    /// Who did what, when and where: events newest first, recorded (not business) time
    /// within `since..=until` (UTC), by one operator, touching one lot; at most `limit`.
    /// Event ids rise with recording time, so the walk goes from the newest id down and
    /// stops a day past `since`, allowing for a clock set back by up to a day.
    pub fn audit(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
        until: Option<chrono::DateTime<chrono::Utc>>,
        operator: Option<&str>,
        lot: Option<&LotCode>,
        limit: usize,
    ) -> Result<AuditTrail, StoreError> {
        let r = self.read()?;
        let voids = r.open_table(EVENT_VOIDS)?;
        let keep = |e: &Event| {
            since.is_none_or(|s| e.stamp.at >= s)
                && until.is_none_or(|u| e.stamp.at <= u)
                && operator.is_none_or(|o| e.stamp.operator == o)
        };
        let mut entries: Vec<HistoryEntry> = Vec::new();
        let push = |entries: &mut Vec<HistoryEntry>, e: Event| -> Result<(), StoreError> {
            let voided_by = voids.get(e.id)?.map(|v| v.value());
            entries.push(HistoryEntry {
                event: e,
                voided_by,
            });
            Ok(())
        };
        match lot {
            Some(code) => {
                let id = read_lot_id(&r, code)?;
                let ids: Vec<u64> = r
                    .open_table(LOT_EVENTS)?
                    .range((id.0, 0)..=(id.0, u64::MAX))?
                    .map(|e| e.map(|e| e.0.value().1))
                    .collect::<Result<_, _>>()?;
                for eid in ids.into_iter().rev() {
                    let e = read_event(&r, eid)?;
                    if keep(&e) {
                        push(&mut entries, e)?;
                        if entries.len() >= limit {
                            break;
                        }
                    }
                }
            }
            None => {
                let stop = since.map(|s| s - chrono::Duration::days(1));
                for row in r.open_table(EVENTS)?.iter()?.rev() {
                    let (k, v) = row?;
                    let e: Event = decode(v.value(), "events", &k.value())?;
                    if stop.is_some_and(|t| e.stamp.at < t) {
                        break;
                    }
                    if keep(&e) {
                        push(&mut entries, e)?;
                        if entries.len() >= limit {
                            break;
                        }
                    }
                }
            }
        }
        let mut related = std::collections::BTreeMap::new();
        for e in &entries {
            for other in e.event.kind.lots() {
                if let std::collections::btree_map::Entry::Vacant(v) = related.entry(other) {
                    let l = read_lot(&r, other)?;
                    v.insert((l.code, l.unit));
                }
            }
        }
        let notes = super::audit::notes(&r, since, until, operator, lot, limit)?;
        Ok(AuditTrail {
            entries,
            notes,
            codes: related.into_iter().map(|(id, (c, u))| (id, c, u)).collect(),
        })
    }

    /// Events whose business date lies in `from..=to`, oldest first.
    pub fn events_between(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<Event>, StoreError> {
        let r = self.read()?;
        let idx = r.open_table(EVENTS_BY_DATE)?;
        let lo = (day_number(from), 0u64);
        let hi = (day_number(to), u64::MAX);
        let mut out = Vec::new();
        for e in idx.range(lo..=hi)? {
            let (k, _) = e?;
            out.push(read_event(&r, k.value().1)?);
        }
        Ok(out)
    }

    /// Events naming a party (receipts from a supplier, shipments to a customer).
    pub fn party_events(&self, id: &PartyId) -> Result<Vec<Event>, StoreError> {
        let r = self.read()?;
        let mut out = Vec::new();
        for e in r
            .open_table(PARTY_EVENTS)?
            .range((id.as_str(), 0)..=(id.as_str(), u64::MAX))?
        {
            out.push(read_event(&r, e?.0.value().1)?);
        }
        Ok(out)
    }

    /// The events that changed party `id` (edits, retirement), oldest first.
    pub fn party_changes(&self, id: &PartyId) -> Result<Vec<Event>, StoreError> {
        self.party(id)?;
        Ok(self
            .party_events(id)?
            .into_iter()
            .filter(|e| matches!(e.kind, EventKind::PartyChanged { .. }))
            .collect())
    }

    /// The events that changed item `code`, oldest first.
    pub fn item_events(&self, code: &ItemCode) -> Result<Vec<Event>, StoreError> {
        self.item(code)?;
        let r = self.read()?;
        let mut out = Vec::new();
        for e in r
            .open_table(ITEM_EVENTS)?
            .range((code.as_str(), 0)..=(code.as_str(), u64::MAX))?
        {
            out.push(read_event(&r, e?.0.value().1)?);
        }
        Ok(out)
    }

    /// Whether `event` was voided, and by which event.
    pub fn voided_by(&self, event: u64) -> Result<Option<u64>, StoreError> {
        let r = self.read()?;
        Ok(r.open_table(EVENT_VOIDS)?.get(event)?.map(|v| v.value()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;

    #[test]
    fn find_by_supplier_lot_item_and_supplier() {
        let (_d, s, [flour, eggs, ..]) = bakery();
        let by_sl = s
            .find_lots(&LotFilter {
                supplier_lot: Some("f-1121".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            by_sl.iter().map(|l| &l.code).collect::<Vec<_>>(),
            vec![&eggs]
        );
        // supplier lot codes are the supplier's: exact, case and all
        assert!(
            s.find_lots(&LotFilter {
                supplier_lot: Some("F-1121".into()),
                ..Default::default()
            })
            .unwrap()
            .is_empty()
        );
        let by_item = s
            .find_lots(&LotFilter {
                item: Some(ItemCode::parse("flour", "i").unwrap()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(by_item.len(), 1);
        assert_eq!(by_item[0].code, flour);
        let by_sup = s
            .find_lots(&LotFilter {
                supplier: Some(PartyId::parse("MILL", "s").unwrap()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(by_sup.len(), 1);
        let on_hand = s
            .find_lots(&LotFilter {
                on_hand: true,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(on_hand.len(), 3, "dough is used up");
    }

    #[test]
    fn history_and_date_index() {
        let (_d, s, [flour, ..]) = bakery();
        let h = s.lot_history(&flour).unwrap();
        let kinds: Vec<_> = h.events.iter().map(|e| e.event.kind.name()).collect();
        assert_eq!(kinds, vec!["receive", "produce"]);
        assert_eq!(s.events_between(today(), today()).unwrap().len(), 6);
        assert!(
            s.events_between(today().succ_opt().unwrap(), today().succ_opt().unwrap())
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            s.party_events(&PartyId::parse("SHOP", "p").unwrap())
                .unwrap()
                .len(),
            1
        );
    }
}
