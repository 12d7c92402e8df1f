//! Recipes, allergens and changeovers: the plant's allergen list, items' declarations,
//! recipe versions, and what a batch is checked for in its own transaction — an input not
//! on its recipe refused, an undeclared allergen or possible cross-contact held
//! (docs/store.md, "Recipes and allergens").

use super::*;

/// What the batch being recorded was checked against, for [`Tx::after_batch`].
pub(super) struct Checked {
    pub recipe: Option<(Recipe, Assessment)>,
    pub over: Option<Override>,
}

impl Tx<'_> {
    /// The plant's allergen list: the US nine until the plant sets its own.
    pub(crate) fn allergen_list(&self) -> Result<AllergenList, StoreError> {
        match self.meta.get("allergens")? {
            Some(v) => decode(v.value(), "meta", &"allergens"),
            None => Ok(AllergenList::default()),
        }
    }

    /// Every allergen an item declares or a lot carries: those may not move in the list.
    fn allergens_in_use(&self) -> Result<AllergenSet, StoreError> {
        let mut used = AllergenSet::EMPTY;
        for e in self.item_allergens.iter()? {
            used = used | AllergenSet(e?.1.value());
        }
        for i in 0..MAX_ALLERGENS as u8 {
            if self
                .allergen_lots
                .range((i, 0)..=(i, u32::MAX))?
                .next()
                .is_some()
            {
                used = used | AllergenSet::one(usize::from(i));
            }
        }
        Ok(used)
    }

    pub(crate) fn set_allergens(
        &mut self,
        names: &[String],
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        let new = AllergenList::parse(names, "allergens")?;
        let old = self.allergen_list()?;
        old.check_replacement(&new, self.allergens_in_use()?, "allergens")?;
        self.meta.insert("allergens", encode(&new).as_slice())?;
        self.append(
            stamp,
            today,
            None,
            EventKind::AllergenListChanged {
                before: old.names,
                after: new.names,
            },
        )
    }

    pub(super) fn item_declares(&self, item: &ItemCode) -> Result<AllergenSet, StoreError> {
        Ok(AllergenSet(
            self.item_allergens
                .get(item.as_str())?
                .map_or(0, |v| v.value()),
        ))
    }

    pub(crate) fn declare_allergens(
        &mut self,
        code: &ItemCode,
        names: &[String],
        reason: &str,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        let reason = required_text(reason, "reason", REASON_MAX)?;
        let item = self.item(code, "item")?;
        let after = self.allergen_list()?.parse_set(names, "allergen")?;
        let before = self.item_declares(&item.code)?;
        if before == after {
            return Err(StoreError::invalid(
                "allergen",
                format!("item {} already declares exactly these", item.code),
            ));
        }
        if after.is_empty() {
            self.item_allergens.remove(item.code.as_str())?;
        } else {
            self.item_allergens.insert(item.code.as_str(), after.0)?;
        }
        self.append(
            stamp,
            today,
            None,
            EventKind::AllergensDeclared {
                item: item.code,
                before,
                after,
                reason,
            },
        )
    }

    pub(super) fn lot_carries(&self, lot: LotId) -> Result<AllergenSet, StoreError> {
        Ok(AllergenSet(
            self.lot_allergens.get(lot.0)?.map_or(0, |v| v.value()),
        ))
    }

    /// Store a new lot's allergens, computed once: its item's declaration and what its
    /// inputs carry (`carried`). Returns the set.
    pub(super) fn put_lot_allergens(
        &mut self,
        lot: &Lot,
        carried: AllergenSet,
    ) -> Result<AllergenSet, StoreError> {
        let set = self.item_declares(&lot.item)? | carried;
        if !set.is_empty() {
            self.lot_allergens.insert(lot.id.0, set.0)?;
            for i in set.indexes() {
                self.allergen_lots.insert((i as u8, lot.id.0), ())?;
            }
        }
        Ok(set)
    }

    pub(crate) fn add_recipe(
        &mut self,
        r: NewRecipe,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        r.check()?;
        let reason = required_text(&r.reason, "reason", REASON_MAX)?;
        let item = self.item(&r.item, "item")?;
        check_item_active(&item, "item")?;
        for (n, l) in r.lines.iter().enumerate() {
            let field = format!("input {}", n + 1);
            let main = self.item(&l.item, &field)?;
            for s in &l.substitutes {
                let sub = self.item(s, &field)?;
                if sub.unit != main.unit {
                    return Err(StoreError::invalid(
                        &field,
                        format!(
                            "substitute {} is kept in {} and {} in {}; a substitute counts in its line's unit",
                            sub.code, sub.unit, main.code, main.unit
                        ),
                    ));
                }
            }
        }
        let last = self.recipe_versions(&item.code)?.pop();
        if let Some(last) = &last
            && r.effective < last.recipe.effective
        {
            return Err(StoreError::invalid(
                "effective",
                format!(
                    "{} is before version {} takes effect ({}); a new version takes effect on or after the last",
                    r.effective, last.version, last.recipe.effective
                ),
            ));
        }
        let version = last.map_or(1, |l| l.version + 1);
        let recipe = Recipe {
            version,
            recipe: NewRecipe { reason, ..r },
            stamp: stamp.clone(),
        };
        self.recipes
            .insert((item.code.as_str(), version), encode(&recipe).as_slice())?;
        self.append(
            stamp,
            today,
            None,
            EventKind::RecipeChanged(Box::new(recipe)),
        )
    }

    fn recipe_versions(&self, item: &ItemCode) -> Result<Vec<Recipe>, StoreError> {
        let mut out = Vec::new();
        for e in self
            .recipes
            .range((item.as_str(), 0)..=(item.as_str(), u32::MAX))?
        {
            let (k, v) = e?;
            out.push(decode(v.value(), "recipes", &k.value().1)?);
        }
        Ok(out)
    }

    /// The version of `item`'s recipe in effect on `date`: the newest taking effect on or
    /// before it.
    pub(super) fn recipe_on(
        &self,
        item: &ItemCode,
        date: NaiveDate,
    ) -> Result<Option<Recipe>, StoreError> {
        for e in self
            .recipes
            .range((item.as_str(), 0)..=(item.as_str(), u32::MAX))?
            .rev()
        {
            let (k, v) = e?;
            let r: Recipe = decode(v.value(), "recipes", &k.value().1)?;
            if r.recipe.effective <= date {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// Check a batch's inputs against its recipe: anything off it is refused unless
    /// `over` gives the reason (and, for inputs not on the recipe, is QA's).
    pub(super) fn check_recipe(
        &self,
        item: &ItemCode,
        date: NaiveDate,
        inputs: &[(Lot, Qty)],
        output: Qty,
        over: Option<Override>,
    ) -> Result<Checked, StoreError> {
        let Some(recipe) = self.recipe_on(item, date)? else {
            return Ok(Checked { recipe: None, over });
        };
        let used: Vec<(LotId, ItemCode, Qty)> = inputs
            .iter()
            .map(|(l, q)| (l.id, l.item.clone(), *q))
            .collect();
        let a = recipe.assess(&used, output);
        let code = |id: LotId| {
            inputs
                .iter()
                .find(|(l, _)| l.id == id)
                .map(|(l, _)| l.code.to_string())
                .unwrap_or_default()
        };
        let field = |d: &Deviation| match d {
            Deviation::NotInRecipe { lot, .. } => inputs
                .iter()
                .position(|(l, _)| l.id == *lot)
                .map_or("input".to_string(), |i| {
                    if inputs.len() == 1 {
                        "input".to_string()
                    } else {
                        format!("input {}", i + 1)
                    }
                }),
            _ => "input".to_string(),
        };
        let allowed = |d: &Deviation| match &over {
            None => false,
            Some(o) => o.off_recipe || !d.needs_qa(),
        };
        let refused: Vec<&Deviation> = a.deviations.iter().filter(|d| !allowed(d)).collect();
        if let Some(d) = refused.first() {
            // Every deviation at once, so the clerk fixes the batch in one go.
            let what = refused
                .iter()
                .map(|d| d.words(item, code))
                .collect::<Vec<_>>()
                .join("; ");
            let how = if refused.iter().any(|d| d.needs_qa()) {
                "QA may let it in with a reason, which is recorded on the batch"
            } else {
                "give the reason to close the batch anyway; it is recorded on the batch"
            };
            return Err(StoreError::invalid(
                field(d),
                format!(
                    "{what} (version {}, in effect from {}); {how}",
                    recipe.version, recipe.recipe.effective
                ),
            ));
        }
        Ok(Checked {
            recipe: Some((recipe, a)),
            over,
        })
    }

    pub(crate) fn changeover(
        &mut self,
        c: NewChangeover,
        stamp: &Stamp,
        today: NaiveDate,
    ) -> Result<u64, StoreError> {
        c.check()?;
        check_not_future(c.date, "date", today)?;
        let line = required_text(&c.line, "line", LINE_MAX)?;
        let list = self.allergen_list()?;
        let all = c
            .cleared
            .iter()
            .any(|n| n.trim().eq_ignore_ascii_case("all"));
        let cleared = if all || c.cleared.iter().all(|n| n.trim().is_empty()) {
            list.all()
        } else {
            list.parse_set(&c.cleared, "allergen")?
        };
        let note = clean_text(&c.note, "note", NOTE_MAX)?;
        let id = self.append(
            stamp,
            c.date,
            None,
            EventKind::Changeover(Changeover {
                line: line.clone(),
                cleared,
                note,
            }),
        )?;
        self.line_log
            .insert((line.as_str(), id), (LINE_CHANGEOVER, cleared.0))?;
        Ok(id)
    }

    /// The line's last standing batch before now, if it carried allergens `declared` does
    /// not cover and no changeover since cleared: that batch's event and those allergens.
    fn cross_contact(
        &self,
        line: &str,
        declared: AllergenSet,
    ) -> Result<Option<(u64, AllergenSet)>, StoreError> {
        let mut cleared = AllergenSet::EMPTY;
        for e in self.line_log.range((line, 0)..=(line, u64::MAX))?.rev() {
            let (k, v) = e?;
            let (event, (kind, bits)) = (k.value().1, v.value());
            if self.is_voided(event)? {
                continue;
            }
            if kind == LINE_CHANGEOVER {
                cleared = cleared | AllergenSet(bits);
                continue;
            }
            let left = AllergenSet(bits).minus(cleared).minus(declared);
            return Ok((!left.is_empty()).then_some((event, left)));
        }
        Ok(None)
    }

    /// After a batch is recorded: what it was made against (its recipe version, yield and
    /// any override), the line's log, and a hold for an undeclared allergen or possible
    /// cross-contact — all in the batch's transaction. Returns why the lot was held.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn after_batch(
        &mut self,
        batch: u64,
        lot: &Lot,
        set: AllergenSet,
        inputs: &[(Lot, Qty)],
        checked: Checked,
        line: Option<&str>,
        stamp: &Stamp,
    ) -> Result<Option<String>, StoreError> {
        if let Some((recipe, a)) = checked.recipe {
            let record = BatchRecipe {
                batch,
                output: lot.id,
                item: lot.item.clone(),
                version: recipe.version,
                line: line.map(str::to_string),
                expected: a.expected,
                actual: lot.quantity,
                unit: lot.unit,
                yield_tolerance_pct: recipe.recipe.yield_tolerance_pct,
                reason: (!a.deviations.is_empty())
                    .then(|| checked.over.map(|o| o.reason))
                    .flatten(),
                deviations: a.deviations,
            };
            let id = self.append(
                stamp,
                lot.date,
                None,
                EventKind::BatchRecipe(Box::new(record)),
            )?;
            self.batch_recipes.insert(batch, id)?;
        }
        let declared = self.item_declares(&lot.item)?;
        let list = self.allergen_list()?;
        let mut whys = Vec::new();
        let mut words = Vec::new();
        let undeclared = set.minus(declared);
        if !undeclared.is_empty() {
            let mut via = Vec::new();
            let mut paths = Vec::new();
            for (input, _) in inputs {
                let has = self.lot_carries(input.id)?.intersect(undeclared);
                if !has.is_empty() {
                    via.push((input.id, has));
                    paths.push(format!("{} {}", input.code, input.item));
                }
            }
            words.push(format!(
                "contains {} via {}, not declared on {}",
                upper(&list, undeclared),
                paths.join(", "),
                lot.item
            ));
            whys.push(HoldWhy::Undeclared {
                allergens: undeclared,
                via,
            });
        }
        if let Some(line) = line {
            if let Some((previous, allergens)) = self.cross_contact(line, declared)? {
                let prev = match self.event(previous, "line")?.kind {
                    EventKind::Produce(b) => b.output,
                    _ => {
                        return Err(StoreError::Damaged {
                            detail: format!(
                                "line {line}'s log names event {previous}, which is not a batch"
                            ),
                        });
                    }
                };
                let prev_lot = self.lot(prev)?;
                words.push(format!(
                    "possible cross-contact: line {line}'s previous batch {} ({}) carried {} and no changeover has cleared it since",
                    prev_lot.code,
                    prev_lot.item,
                    upper(&list, allergens)
                ));
                whys.push(HoldWhy::CrossContact {
                    line: line.to_string(),
                    previous,
                    previous_lot: prev,
                    allergens,
                });
            }
            self.line_log.insert((line, batch), (LINE_BATCH, set.0))?;
        }
        if whys.is_empty() {
            return Ok(None);
        }
        let reason = words.join("; ");
        let mut held = self.lot(lot.id)?;
        held.status = LotStatus::Hold;
        self.put_lot(&held)?;
        let hold = self.append(
            stamp,
            lot.date,
            None,
            EventKind::Status {
                lot: lot.id,
                from: LotStatus::Released,
                to: LotStatus::Hold,
                reason: reason.clone(),
            },
        )?;
        for why in whys {
            let id = self.append(
                stamp,
                lot.date,
                None,
                EventKind::AllergenHold(Box::new(AllergenHold {
                    lot: lot.id,
                    batch,
                    hold,
                    why,
                })),
            )?;
            self.w.open_table(ALLERGEN_HOLDS)?.insert(id, lot.id.0)?;
        }
        Ok(Some(reason))
    }
}

/// Allergen names as a hold reason shouts them: "PEANUTS, SESAME".
fn upper(list: &AllergenList, set: AllergenSet) -> String {
    list.names_of(set)
        .iter()
        .map(|n| n.to_uppercase())
        .collect::<Vec<_>>()
        .join(", ")
}
