//! Reading recipes, allergens and yields (written by `write/recipe.rs`).

use super::codec::decode;
use super::query::{read_event, read_lot, read_lot_id};
use super::tables::*;
use super::{Store, StoreError};
use lotline_domain::*;
use redb::{ReadTransaction, ReadableTable};

pub(super) fn read_allergen_list(r: &ReadTransaction) -> Result<AllergenList, StoreError> {
    match r.open_table(META)?.get("allergens")? {
        Some(v) => decode(v.value(), "meta", &"allergens"),
        None => Ok(AllergenList::default()),
    }
}

pub(super) fn read_lot_allergens(
    r: &ReadTransaction,
    lot: LotId,
) -> Result<AllergenSet, StoreError> {
    Ok(AllergenSet(
        r.open_table(LOT_ALLERGENS)?
            .get(lot.0)?
            .map_or(0, |v| v.value()),
    ))
}

impl Store {
    /// Every version of `item`'s recipe, oldest first; with no item, the newest version of
    /// every recipe, by item.
    pub fn recipes(&self, item: Option<&ItemCode>) -> Result<Vec<Recipe>, StoreError> {
        let r = self.read()?;
        let t = r.open_table(RECIPES)?;
        let mut out: Vec<Recipe> = Vec::new();
        let range = match item {
            Some(i) => {
                self.item(i)?;
                t.range((i.as_str(), 0)..=(i.as_str(), u32::MAX))?
            }
            None => t.range::<(&str, u32)>(..)?,
        };
        for e in range {
            let (k, v) = e?;
            let rec: Recipe = decode(v.value(), "recipes", &k.value().1)?;
            match out.last_mut() {
                Some(last) if item.is_none() && last.recipe.item == rec.recipe.item => *last = rec,
                _ => out.push(rec),
            }
        }
        Ok(out)
    }

    pub fn allergens(&self) -> Result<AllergenInfo, StoreError> {
        let r = self.read()?;
        let mut items = Vec::new();
        for e in r.open_table(ITEM_ALLERGENS)?.iter()? {
            let (k, v) = e?;
            items.push((
                ItemCode::parse(k.value(), "item").map_err(|e| StoreError::Damaged {
                    detail: format!("item_allergens holds a bad item code: {e}"),
                })?,
                AllergenSet(v.value()),
            ));
        }
        Ok(AllergenInfo {
            list: read_allergen_list(&r)?,
            items,
        })
    }

    /// A lot's allergens and where each came from: its item's declaration and the input
    /// lots that carried it in.
    pub fn lot_allergens(&self, code: &LotCode) -> Result<LotAllergens, StoreError> {
        let r = self.read()?;
        let id = read_lot_id(&r, code)?;
        let lot = read_lot(&r, id)?;
        let list = read_allergen_list(&r)?;
        let set = read_lot_allergens(&r, id)?;
        let declared = AllergenSet(
            r.open_table(ITEM_ALLERGENS)?
                .get(lot.item.as_str())?
                .map_or(0, |v| v.value()),
        );
        let mut inputs = Vec::new();
        if let Some(v) = r.open_table(LINKS_REV)?.get(id.0)? {
            for (input, _) in unpack_inputs(v.value()).into_iter().flatten() {
                let l = read_lot(&r, LotId(input))?;
                let s = read_lot_allergens(&r, l.id)?;
                inputs.push((l, s));
            }
        }
        let sources = set
            .indexes()
            .map(|i| AllergenSource {
                allergen: list.name(i),
                declared: declared.contains(i),
                via: inputs
                    .iter()
                    .filter(|(_, s)| s.contains(i))
                    .map(|(l, _)| (l.code.clone(), l.item.clone()))
                    .collect(),
            })
            .collect();
        Ok(LotAllergens {
            lot: lot.code,
            item: lot.item,
            set,
            label: list.label(set),
            undeclared: list.names_of(set.minus(declared)),
            sources,
        })
    }

    /// Every lot that carries `allergen` (as typed), finished lots first, then
    /// intermediates, then the rest; newest first within each.
    pub fn lots_containing(&self, allergen: &str) -> Result<Vec<Lot>, StoreError> {
        let r = self.read()?;
        let list = read_allergen_list(&r)?;
        let i = list.index(allergen, "contains")? as u8;
        let mut lots = Vec::new();
        for e in r.open_table(ALLERGEN_LOTS)?.range((i, 0)..=(i, u32::MAX))? {
            lots.push(read_lot(&r, LotId(e?.0.value().1))?);
        }
        let items = r.open_table(ITEMS)?;
        let mut keyed = Vec::with_capacity(lots.len());
        for l in lots {
            let kind = match items.get(l.item.as_str())? {
                Some(v) => decode::<Item>(v.value(), "items", &l.item)?.kind,
                None => ItemKind::Ingredient,
            };
            let rank = match kind {
                ItemKind::Finished => 0,
                ItemKind::Intermediate => 1,
                ItemKind::Ingredient => 2,
                ItemKind::Packaging => 3,
            };
            keyed.push((rank, std::cmp::Reverse(l.id), l));
        }
        keyed.sort_by_key(|k| (k.0, k.1));
        Ok(keyed.into_iter().map(|(_, _, l)| l).collect())
    }

    /// Batches made against a recipe that `f` selects, oldest first.
    pub fn yields(&self, f: &YieldFilter) -> Result<Vec<YieldRow>, StoreError> {
        let r = self.read()?;
        let voids = r.open_table(EVENT_VOIDS)?;
        let mut out = Vec::new();
        for e in r.open_table(BATCH_RECIPES)?.iter()? {
            let (k, v) = e?;
            let (batch, record) = (k.value(), v.value());
            if voids.get(batch)?.is_some() {
                continue;
            }
            let ev = read_event(&r, record)?;
            let EventKind::BatchRecipe(rec) = ev.kind else {
                return Err(StoreError::Damaged {
                    detail: format!(
                        "batch_recipes names event {record} for batch {batch}, which is a {} event",
                        ev.kind.name()
                    ),
                });
            };
            let keep = f.item.as_ref().is_none_or(|i| &rec.item == i)
                && f.line.as_ref().is_none_or(|l| rec.line.as_ref() == Some(l))
                && f.from.is_none_or(|d| ev.date >= d)
                && f.to.is_none_or(|d| ev.date <= d)
                && (!f.outside_only || rec.yield_outside());
            if keep {
                out.push(YieldRow {
                    lot: read_lot(&r, rec.output)?.code,
                    date: ev.date,
                    record: *rec,
                });
            }
        }
        Ok(out)
    }
}
