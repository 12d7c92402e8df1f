//! `check`'s rules for recipes and allergens (written by `write/recipe.rs`): recipes name
//! items that exist and number their versions in order; every allergen set is on the
//! plant's list and mirrored by the index; every lot carries what its inputs carry; every
//! batch's recipe record matches its batch; and every allergen hold's reason still stands
//! in the records (docs/store.md, "Recipes and allergens").

use super::StoreError;
use super::codec::decode;
use super::recipe::read_allergen_list;
use super::tables::*;
use lotline_domain::*;
use redb::{ReadTransaction, ReadableTable};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The problems these rules find, in the order found; `code` names a lot for the report.
pub(super) fn recipes_and_allergens(
    r: &ReadTransaction,
    items: &HashSet<ItemCode>,
    lots: &HashMap<LotId, Lot>,
    code: &dyn Fn(LotId) -> String,
) -> Result<Vec<String>, StoreError> {
    let mut found = Vec::new();
    recipes(r, items, &mut found)?;
    let sets = allergen_sets(r, items, lots, code, &mut found)?;
    propagation(r, &sets, code, &mut found)?;
    batch_records(r, code, &mut found)?;
    holds(r, &sets, code, &mut found)?;
    Ok(found)
}

/// Every version of a recipe is stored under its item and number, numbered 1, 2, … in
/// order of the dates they take effect, and names items that exist.
fn recipes(
    r: &ReadTransaction,
    items: &HashSet<ItemCode>,
    found: &mut Vec<String>,
) -> Result<(), StoreError> {
    let mut last: Option<(String, u32, chrono::NaiveDate)> = None;
    for e in r.open_table(RECIPES)?.iter()? {
        let (k, v) = e?;
        let (item, version) = k.value();
        let rec: Recipe = match decode(v.value(), "recipes", &version) {
            Ok(rec) => rec,
            Err(e) => {
                found.push(e.to_string());
                continue;
            }
        };
        if rec.recipe.item.as_str() != item || rec.version != version {
            found.push(format!(
                "recipe entry ({item}, {version}) holds {} version {}",
                rec.recipe.item, rec.version
            ));
        }
        let expected = match &last {
            Some((i, v, effective)) if i == item => {
                if rec.recipe.effective < *effective {
                    found.push(format!(
                        "{item}'s recipe version {version} takes effect ({}) before version {v} ({effective})",
                        rec.recipe.effective
                    ));
                }
                v + 1
            }
            _ => 1,
        };
        if version != expected {
            found.push(format!(
                "{item}'s recipe versions skip from {} to {version}",
                expected - 1
            ));
        }
        for named in std::iter::once(&rec.recipe.item).chain(
            rec.recipe
                .lines
                .iter()
                .flat_map(|l| std::iter::once(&l.item).chain(&l.substitutes)),
        ) {
            if !items.contains(named) {
                found.push(format!(
                    "{item}'s recipe version {version} names item {named}, which does not exist"
                ));
            }
        }
        last = Some((item.to_string(), version, rec.recipe.effective));
    }
    Ok(())
}

/// Declarations name items that exist; sets name lots that exist and only allergens on
/// the list; the by-allergen index mirrors the lots' sets. Returns every lot's set.
fn allergen_sets(
    r: &ReadTransaction,
    items: &HashSet<ItemCode>,
    lots: &HashMap<LotId, Lot>,
    code: &dyn Fn(LotId) -> String,
    found: &mut Vec<String>,
) -> Result<HashMap<LotId, AllergenSet>, StoreError> {
    let list = read_allergen_list(r)?;
    let all = list.all();
    for e in r.open_table(ITEM_ALLERGENS)?.iter()? {
        let (k, v) = e?;
        let set = AllergenSet(v.value());
        if !items.iter().any(|i| i.as_str() == k.value()) {
            found.push(format!(
                "item {} declares allergens but does not exist",
                text::escape(k.value())
            ));
        }
        if !set.minus(all).is_empty() || set.is_empty() {
            found.push(format!(
                "item {}'s declaration names allergens not on the plant's list",
                text::escape(k.value())
            ));
        }
    }
    let mut sets = HashMap::new();
    let mut expected = BTreeSet::new();
    for e in r.open_table(LOT_ALLERGENS)?.iter()? {
        let (k, v) = e?;
        let (lot, set) = (LotId(k.value()), AllergenSet(v.value()));
        if !lots.contains_key(&lot) {
            found.push(format!("lot #{} has allergens but does not exist", lot.0));
        }
        if !set.minus(all).is_empty() || set.is_empty() {
            found.push(format!(
                "lot {}'s allergens are not on the plant's list",
                code(lot)
            ));
        }
        for i in set.indexes() {
            expected.insert((i as u8, lot.0));
        }
        sets.insert(lot, set);
    }
    let mut indexed = BTreeSet::new();
    for e in r.open_table(ALLERGEN_LOTS)?.iter()? {
        indexed.insert(e?.0.value());
    }
    for (what, diff) in [
        (
            "missing from",
            expected.difference(&indexed).collect::<Vec<_>>(),
        ),
        ("extra in", indexed.difference(&expected).collect()),
    ] {
        for (i, lot) in diff.iter().take(20) {
            found.push(format!(
                "{} of lot {} is {what} the allergen index",
                list.name(usize::from(*i)),
                code(LotId(*lot))
            ));
        }
    }
    Ok(sets)
}

/// A lot carries at least what every lot it was made from carries.
fn propagation(
    r: &ReadTransaction,
    sets: &HashMap<LotId, AllergenSet>,
    code: &dyn Fn(LotId) -> String,
    found: &mut Vec<String>,
) -> Result<(), StoreError> {
    let of = |l: LotId| sets.get(&l).copied().unwrap_or_default();
    let mut bad = 0usize;
    for e in r.open_table(LINKS_REV)?.iter()? {
        let (k, v) = e?;
        let out = LotId(k.value());
        let mut carried = AllergenSet::EMPTY;
        for (input, _) in unpack_inputs(v.value()).into_iter().flatten() {
            carried = carried | of(LotId(input));
        }
        if !carried.minus(of(out)).is_empty() {
            bad += 1;
            if bad <= 20 {
                found.push(format!(
                    "lot {} does not carry every allergen its inputs carry",
                    code(out)
                ));
            }
        }
    }
    if bad > 20 {
        found.push(format!(
            "… and {} more lots missing their inputs' allergens",
            bad - 20
        ));
    }
    Ok(())
}

fn event(r: &ReadTransaction, id: u64) -> Result<Option<Event>, StoreError> {
    match r.open_table(EVENTS)?.get(id)? {
        Some(v) => Ok(decode(v.value(), "events", &id).ok()),
        None => Ok(None),
    }
}

fn batch_of(r: &ReadTransaction, id: u64) -> Result<Option<Batch>, StoreError> {
    Ok(match event(r, id)?.map(|e| e.kind) {
        Some(EventKind::Produce(b)) => Some(b),
        _ => None,
    })
}

/// Each batch's recipe record is the record of that batch, against a version that exists.
fn batch_records(
    r: &ReadTransaction,
    code: &dyn Fn(LotId) -> String,
    found: &mut Vec<String>,
) -> Result<(), StoreError> {
    let recipes = r.open_table(RECIPES)?;
    for e in r.open_table(BATCH_RECIPES)?.iter()? {
        let (k, v) = e?;
        let (batch, id) = (k.value(), v.value());
        let Some(EventKind::BatchRecipe(rec)) = event(r, id)?.map(|e| e.kind) else {
            found.push(format!(
                "batch {batch}'s recipe record (event {id}) is missing or not a recipe record"
            ));
            continue;
        };
        match batch_of(r, batch)? {
            Some(b) if b.output == rec.output && rec.batch == batch && b.item == rec.item => {}
            _ => found.push(format!(
                "recipe record {id} names batch {batch} of lot {}, which did not make it",
                code(rec.output)
            )),
        }
        if recipes.get((rec.item.as_str(), rec.version))?.is_none() {
            found.push(format!(
                "batch {batch} was made against {}'s recipe version {}, which does not exist",
                rec.item, rec.version
            ));
        }
    }
    Ok(())
}

/// Every allergen hold's reason still stands: the hold is that lot's; an undeclared
/// allergen is carried by the lot and came in by the inputs named; a cross-contact names
/// the line's earlier batch that carried it, with no changeover clearing it between.
fn holds(
    r: &ReadTransaction,
    sets: &HashMap<LotId, AllergenSet>,
    code: &dyn Fn(LotId) -> String,
    found: &mut Vec<String>,
) -> Result<(), StoreError> {
    let of = |l: LotId| sets.get(&l).copied().unwrap_or_default();
    let log = r.open_table(LINE_LOG)?;
    let voids = r.open_table(EVENT_VOIDS)?;
    for e in r.open_table(ALLERGEN_HOLDS)?.iter()? {
        let (k, v) = e?;
        let (id, lot) = (k.value(), LotId(v.value()));
        let Some(EventKind::AllergenHold(h)) = event(r, id)?.map(|e| e.kind) else {
            found.push(format!(
                "allergen hold {id} of lot {} is missing or not an allergen hold",
                code(lot)
            ));
            continue;
        };
        let mut bad =
            |why: String| found.push(format!("allergen hold {id} of lot {}: {why}", code(h.lot)));
        if h.lot != lot {
            bad(format!("the index names lot {}", code(lot)));
        }
        match event(r, h.hold)?.map(|e| e.kind) {
            Some(EventKind::Status {
                lot: l,
                to: LotStatus::Hold,
                ..
            }) if l == h.lot => {}
            _ => bad(format!("event {} is not the hold of this lot", h.hold)),
        }
        let Some(batch) = batch_of(r, h.batch)?.filter(|b| b.output == h.lot) else {
            bad(format!("event {} is not the batch that made it", h.batch));
            continue;
        };
        match &h.why {
            HoldWhy::Undeclared { allergens, via } => {
                if !allergens.minus(of(h.lot)).is_empty() {
                    bad("the lot does not carry the allergens the hold names".into());
                }
                let mut came = AllergenSet::EMPTY;
                for (input, set) in via {
                    if !batch.inputs.iter().any(|u| u.lot == *input) {
                        bad(format!("lot {} is not an input of its batch", code(*input)));
                    }
                    if !set.minus(of(*input)).is_empty() {
                        bad(format!(
                            "input lot {} does not carry what the hold says it brought",
                            code(*input)
                        ));
                    }
                    came = came | *set;
                }
                if came != *allergens {
                    bad("its inputs named do not account for its allergens".into());
                }
            }
            HoldWhy::CrossContact {
                line,
                previous,
                previous_lot,
                allergens,
            } => {
                match batch_of(r, *previous)? {
                    Some(p)
                        if p.output == *previous_lot
                            && p.line.as_deref() == Some(line.as_str())
                            && *previous < h.batch => {}
                    _ => bad(format!(
                        "event {previous} is not an earlier batch of lot {} on line {line}",
                        code(*previous_lot)
                    )),
                }
                if batch.line.as_deref() != Some(line.as_str()) {
                    bad(format!("its batch was not made on line {line}"));
                }
                if !allergens.minus(of(*previous_lot)).is_empty() {
                    bad(format!(
                        "lot {} does not carry the allergens the hold names",
                        code(*previous_lot)
                    ));
                }
                let mut cleared = AllergenSet::EMPTY;
                for e in log.range((line.as_str(), previous + 1)..(line.as_str(), h.batch))? {
                    let (k, v) = e?;
                    let (kind, bits) = v.value();
                    if kind == LINE_CHANGEOVER && voids.get(k.value().1)?.is_none() {
                        cleared = cleared | AllergenSet(bits);
                    }
                }
                if !cleared.intersect(*allergens).is_empty() {
                    bad(format!(
                        "a changeover on line {line} cleared them before its batch"
                    ));
                }
            }
        }
    }
    Ok(())
}
