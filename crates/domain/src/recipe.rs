//! Recipes (formulas), what a batch was checked against, its yield, changeovers and
//! allergen holds: the rules that need no database. The store applies them in the batch's
//! own transaction (docs/store.md, "Recipes and allergens").
//!
//! A recipe belongs to its output item and is versioned by the date it takes effect: a
//! change is a new version with who and why, and a batch records the version it was made
//! against. Quantities are per `per` units of the output, each in its input item's unit.

use super::{AllergenSet, Invalid, ItemCode, LotCode, LotId, Qty, Stamp, Unit};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Input lines of one recipe.
pub const MAX_RECIPE_LINES: usize = 200;
/// Substitutes allowed for one line.
pub const MAX_SUBSTITUTES: usize = 20;
/// A tolerance, in whole percent.
pub const MAX_TOLERANCE_PCT: u32 = 100;

/// One input of a recipe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipeLine {
    pub item: ItemCode,
    /// Per `per` units of output, in the item's unit.
    pub qty: Qty,
    /// How far the quantity used may stray from the expected one, in percent, before
    /// closing the batch asks for a reason.
    pub tolerance_pct: u32,
    /// Items that may stand in for this one (counted in the same unit).
    pub substitutes: Vec<ItemCode>,
}

impl RecipeLine {
    pub fn accepts(&self, item: &ItemCode) -> bool {
        &self.item == item || self.substitutes.contains(item)
    }
}

/// A recipe as an admin gives it: a new version of the output item's recipe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRecipe {
    pub item: ItemCode,
    #[serde(with = "super::isodate")]
    pub effective: NaiveDate,
    /// The batch size the quantities are given for, in the output item's unit.
    pub per: Qty,
    /// How far a batch's yield may stray from 100 %, in percent, before `yields` lists it.
    pub yield_tolerance_pct: u32,
    pub lines: Vec<RecipeLine>,
    /// Why this version (the first: "new product").
    pub reason: String,
}

impl NewRecipe {
    pub fn check(&self) -> Result<(), Invalid> {
        super::check_date(self.effective, "effective")?;
        super::check_positive(self.per, "per")?;
        check_pct(self.yield_tolerance_pct, "yield-tolerance")?;
        super::check_required(&self.reason, "reason", super::REASON_MAX)?;
        if self.lines.is_empty() {
            return Err(Invalid::new("input", "a recipe needs at least one input"));
        }
        super::check_count(self.lines.len(), "input", MAX_RECIPE_LINES, "inputs")?;
        let mut seen: Vec<&ItemCode> = Vec::new();
        for (n, l) in self.lines.iter().enumerate() {
            let field = format!("input {}", n + 1);
            super::check_positive(l.qty, &field)?;
            check_pct(l.tolerance_pct, &field)?;
            super::check_count(l.substitutes.len(), &field, MAX_SUBSTITUTES, "substitutes")?;
            for i in std::iter::once(&l.item).chain(&l.substitutes) {
                if i == &self.item {
                    return Err(Invalid::new(
                        &field,
                        format!(
                            "{i} cannot be an input of its own recipe; rework (a lot of {i} fed back in) is always accepted"
                        ),
                    ));
                }
                if seen.contains(&i) {
                    return Err(Invalid::new(
                        &field,
                        format!("{i} is named twice in the recipe; give each input once"),
                    ));
                }
                seen.push(i);
            }
        }
        Ok(())
    }
}

fn check_pct(p: u32, field: &str) -> Result<(), Invalid> {
    if p > MAX_TOLERANCE_PCT {
        return Err(Invalid::new(
            field,
            format!("a tolerance of {p} % is more than {MAX_TOLERANCE_PCT} %"),
        ));
    }
    Ok(())
}

/// One stored version of a recipe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipe {
    /// 1 for the first, then one more for each change.
    pub version: u32,
    pub recipe: NewRecipe,
    pub stamp: Stamp,
}

impl Recipe {
    /// "COOKIE-CC's recipe (version 2, from 2026-01-05)".
    pub fn title(&self) -> String {
        format!(
            "{}'s recipe (version {}, from {})",
            self.recipe.item, self.version, self.recipe.effective
        )
    }

    /// The quantity of `line` expected for `output` units of output.
    pub fn expected_input(&self, line: &RecipeLine, output: Qty) -> Qty {
        scale(line.qty, output, self.recipe.per)
    }

    /// What a batch of `output` made from `inputs` (each input lot's item and the quantity
    /// used) did against this recipe: its lines, anything off the recipe, and its yield.
    pub fn assess(&self, inputs: &[(LotId, ItemCode, Qty)], output: Qty) -> Assessment {
        let r = &self.recipe;
        let mut used = vec![Qty::ZERO; r.lines.len()];
        let mut deviations = Vec::new();
        for (lot, item, q) in inputs {
            // Rework: the product's own lots fed back in belong to no line and are
            // always accepted (their allergens still travel with them).
            if item == &r.item {
                continue;
            }
            match r.lines.iter().position(|l| l.accepts(item)) {
                Some(i) => used[i] = used[i] + *q,
                None => deviations.push(Deviation::NotInRecipe {
                    lot: *lot,
                    item: item.clone(),
                }),
            }
        }
        let mut lines = Vec::with_capacity(r.lines.len());
        for (l, u) in r.lines.iter().zip(&used) {
            let expected = self.expected_input(l, output);
            if !u.is_positive() {
                deviations.push(Deviation::Missing {
                    item: l.item.clone(),
                    expected,
                });
            } else if outside(*u, expected, l.tolerance_pct) {
                deviations.push(Deviation::OutsideTolerance {
                    item: l.item.clone(),
                    used: *u,
                    expected,
                    tolerance_pct: l.tolerance_pct,
                });
            }
            lines.push((expected, *u));
        }
        // The output the inputs allow: the recipe's batch size scaled by the input that
        // runs out first (the limiting ingredient). Lines not used at all are already a
        // deviation of their own; counting them would make every such yield infinite.
        let expected = r
            .lines
            .iter()
            .zip(&used)
            .filter(|(_, u)| u.is_positive())
            .map(|(l, u)| scale(r.per, *u, l.qty))
            .min();
        Assessment {
            lines,
            deviations,
            expected,
        }
    }
}

/// `q × num / den`, rounded down to the thousandth; saturating.
fn scale(q: Qty, num: Qty, den: Qty) -> Qty {
    if den.milli() <= 0 {
        return Qty::ZERO;
    }
    let v = i128::from(q.milli()) * i128::from(num.milli()) / i128::from(den.milli());
    Qty(v.clamp(i128::from(i64::MIN + 1), i128::from(i64::MAX)) as i64)
}

fn outside(used: Qty, expected: Qty, tolerance_pct: u32) -> bool {
    let diff = (i128::from(used.milli()) - i128::from(expected.milli())).abs();
    diff * 100 > i128::from(expected.milli()) * i128::from(tolerance_pct)
}

/// The yield in tenths of a percent: 1000 is 100.0 %.
pub fn yield_permille(expected: Qty, actual: Qty) -> Option<i64> {
    (expected.milli() > 0).then(|| {
        let v = i128::from(actual.milli()) * 1000 / i128::from(expected.milli());
        v.clamp(0, i128::from(i64::MAX)) as i64
    })
}

/// "97.5 %".
pub fn format_permille(p: i64) -> String {
    format!("{}.{} %", p / 10, p % 10)
}

/// Whether a yield strays from 100 % by more than `tolerance_pct`.
pub fn yield_outside(permille: i64, tolerance_pct: u32) -> bool {
    (permille - 1000).abs() > i64::from(tolerance_pct) * 10
}

/// A batch against its recipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// Per recipe line: (expected, used).
    pub lines: Vec<(Qty, Qty)>,
    pub deviations: Vec<Deviation>,
    /// The output the inputs allow; `None` when no recipe input was used.
    pub expected: Option<Qty>,
}

/// Where a batch left its recipe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Deviation {
    /// A lot of an item neither on the recipe nor an allowed substitute: QA's override.
    NotInRecipe { lot: LotId, item: ItemCode },
    /// A recipe input not used at all: a reason.
    Missing { item: ItemCode, expected: Qty },
    /// An input used outside its tolerance: a reason.
    OutsideTolerance {
        item: ItemCode,
        used: Qty,
        expected: Qty,
        tolerance_pct: u32,
    },
}

impl Deviation {
    /// Only QA may let an input off the recipe into a batch.
    pub fn needs_qa(&self) -> bool {
        matches!(self, Deviation::NotInRecipe { .. })
    }

    /// The deviation in a sentence; `code` names a lot by its code.
    pub fn words(&self, recipe_item: &ItemCode, code: impl Fn(LotId) -> String) -> String {
        match self {
            Deviation::NotInRecipe { lot, item } => format!(
                "{item} (lot {}) is not in {recipe_item}'s recipe",
                code(*lot)
            ),
            Deviation::Missing { item, expected } => {
                format!("{item} is missing ({expected} expected)")
            }
            Deviation::OutsideTolerance {
                item,
                used,
                expected,
                tolerance_pct,
            } => format!("{item}: {used} used, {expected} expected (±{tolerance_pct} %)"),
        }
    }
}

/// What a batch was made against: recorded with the batch, in its transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRecipe {
    /// The batch's event.
    pub batch: u64,
    pub output: LotId,
    pub item: ItemCode,
    pub version: u32,
    pub line: Option<String>,
    /// The output the inputs allowed (see [`Recipe::assess`]).
    pub expected: Option<Qty>,
    pub actual: Qty,
    pub unit: Unit,
    pub yield_tolerance_pct: u32,
    pub deviations: Vec<Deviation>,
    /// Why the batch was made off its recipe, as given at close.
    pub reason: Option<String>,
}

impl BatchRecipe {
    pub fn yield_permille(&self) -> Option<i64> {
        self.expected.and_then(|e| yield_permille(e, self.actual))
    }

    pub fn yield_outside(&self) -> bool {
        self.yield_permille()
            .is_some_and(|p| yield_outside(p, self.yield_tolerance_pct))
    }
}

/// A batch made with a reason for leaving its recipe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    pub reason: String,
    /// Inputs not on the recipe are let in (QA only); otherwise only missing inputs and
    /// quantities outside tolerance are.
    pub off_recipe: bool,
}

/// A line cleaned or changed over: the allergens it cleared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changeover {
    pub line: String,
    pub cleared: AllergenSet,
    pub note: String,
}

/// A changeover as a front end gives it: the allergens by name ("all" or none named: the
/// whole list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewChangeover {
    pub line: String,
    #[serde(with = "super::isodate")]
    pub date: NaiveDate,
    pub cleared: Vec<String>,
    pub note: String,
}

impl NewChangeover {
    pub fn check(&self) -> Result<(), Invalid> {
        super::check_required(&self.line, "line", super::LINE_MAX)?;
        super::check_date(self.date, "date")?;
        super::check_count(
            self.cleared.len(),
            "allergen",
            super::MAX_ALLERGENS,
            "allergens",
        )?;
        for c in &self.cleared {
            super::check_allergen_name(c, "allergen")?;
        }
        super::check_text(&self.note, "note", super::NOTE_MAX)
    }
}

/// Why a new lot was held for an allergen: recorded beside its hold, so `check` can prove
/// the reason still stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllergenHold {
    pub lot: LotId,
    /// The batch that made it.
    pub batch: u64,
    /// The status event that held it.
    pub hold: u64,
    pub why: HoldWhy,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HoldWhy {
    /// Inputs carry allergens the output item does not declare: each such input lot and
    /// what of it was undeclared.
    Undeclared {
        allergens: AllergenSet,
        via: Vec<(LotId, AllergenSet)>,
    },
    /// The line's previous batch carried allergens this item does not declare, with no
    /// changeover clearing them since.
    CrossContact {
        line: String,
        previous: u64,
        previous_lot: LotId,
        allergens: AllergenSet,
    },
}

/// Where one of a lot's allergens came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllergenSource {
    pub allergen: String,
    /// The lot's own item declares it.
    pub declared: bool,
    /// The input lots that carried it in: (lot, item).
    pub via: Vec<(LotCode, ItemCode)>,
}

/// A lot's allergens and where each came from (the Trace screen's details).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotAllergens {
    pub lot: LotCode,
    pub item: ItemCode,
    pub set: AllergenSet,
    /// "Milk, Egg, Wheat", as a label prints it.
    pub label: String,
    /// Allergens the lot carries that its item does not declare.
    pub undeclared: Vec<String>,
    pub sources: Vec<AllergenSource>,
}

/// The plant's allergen list and every item's declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllergenInfo {
    pub list: super::AllergenList,
    pub items: Vec<(ItemCode, AllergenSet)>,
}

/// Which batches `yields` lists; every given field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct YieldFilter {
    pub item: Option<ItemCode>,
    pub line: Option<String>,
    #[serde(with = "super::isodate::opt")]
    pub from: Option<NaiveDate>,
    #[serde(with = "super::isodate::opt")]
    pub to: Option<NaiveDate>,
    /// Only batches whose yield is outside their recipe's tolerance.
    pub outside_only: bool,
}

impl YieldFilter {
    pub fn check(&self) -> Result<(), Invalid> {
        if let Some(l) = &self.line {
            super::check_text(l, "line", super::LINE_MAX)?;
        }
        Ok(())
    }
}

/// One batch made against a recipe, for `yields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YieldRow {
    pub lot: LotCode,
    #[serde(with = "super::isodate")]
    pub date: NaiveDate,
    pub record: BatchRecipe,
}

/// One line for a recipe, allergen or changeover event in a history or audit; `code`
/// names a lot. `None` for other kinds.
pub fn recipe_event_text(k: &super::EventKind, code: &dyn Fn(LotId) -> String) -> Option<String> {
    use super::EventKind as K;
    Some(match k {
        K::RecipeChanged(r) => format!(
            "recipe of {} version {} in effect from {}: {}",
            r.recipe.item, r.version, r.recipe.effective, r.recipe.reason
        ),
        K::AllergensDeclared { item, reason, .. } => {
            format!("allergens declared on {item}: {reason}")
        }
        K::AllergenListChanged { after, .. } => {
            format!("allergen list set: {}", after.join(", "))
        }
        K::Changeover(c) => {
            let note = if c.note.is_empty() {
                String::new()
            } else {
                format!(": {}", c.note)
            };
            format!("changeover on line {}{note}", c.line)
        }
        K::BatchRecipe(b) => {
            let mut t = format!(
                "made against {}'s recipe version {}: {} {} made",
                b.item, b.version, b.actual, b.unit
            );
            if let (Some(e), Some(y)) = (b.expected, b.yield_permille()) {
                t.push_str(&format!(
                    " of {e} {} expected, yield {}{}",
                    b.unit,
                    format_permille(y),
                    if b.yield_outside() {
                        format!(" (outside ±{} %)", b.yield_tolerance_pct)
                    } else {
                        String::new()
                    }
                ));
            }
            if let Some(r) = &b.reason {
                t.push_str(&format!("; off the recipe: {r}"));
            }
            t
        }
        K::AllergenHold(h) => match &h.why {
            HoldWhy::Undeclared { via, .. } => format!(
                "held for an undeclared allergen, carried in by {}",
                via.iter()
                    .map(|(l, _)| code(*l))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            HoldWhy::CrossContact {
                line, previous_lot, ..
            } => format!(
                "held for possible cross-contact on line {line} after lot {}",
                code(*previous_lot)
            ),
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> ItemCode {
        ItemCode::parse(s, "item").unwrap()
    }

    fn q(s: &str) -> Qty {
        s.parse().unwrap()
    }

    fn cookie() -> Recipe {
        Recipe {
            version: 1,
            stamp: Stamp {
                operator: "ada".into(),
                station: "office".into(),
                at: chrono::DateTime::UNIX_EPOCH,
            },
            recipe: NewRecipe {
                item: code("COOKIE"),
                effective: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                per: q("100"),
                yield_tolerance_pct: 5,
                lines: vec![
                    RecipeLine {
                        item: code("DOUGH"),
                        qty: q("50"),
                        tolerance_pct: 2,
                        substitutes: vec![code("DOUGH-B")],
                    },
                    RecipeLine {
                        item: code("CHIPS"),
                        qty: q("10"),
                        tolerance_pct: 10,
                        substitutes: vec![],
                    },
                ],
                reason: "new product".into(),
            },
        }
    }

    #[test]
    fn a_batch_on_its_recipe_has_no_deviation_and_its_yield() {
        let r = cookie();
        let a = r.assess(
            &[
                (LotId(1), code("DOUGH-B"), q("100")),
                (LotId(2), code("CHIPS"), q("20.5")),
            ],
            q("190"),
        );
        assert_eq!(a.lines, vec![(q("95"), q("100")), (q("19"), q("20.5"))]);
        // 2 % of 95 is 1.9: 100 is 5 over, outside; chips 20.5 against 19 is within 10 %.
        assert_eq!(
            a.deviations,
            vec![Deviation::OutsideTolerance {
                item: code("DOUGH"),
                used: q("100"),
                expected: q("95"),
                tolerance_pct: 2
            }]
        );
        // Dough allows 200, chips 205: dough runs out first.
        assert_eq!(a.expected, Some(q("200")));
        assert_eq!(yield_permille(q("200"), q("190")), Some(950));
        assert_eq!(format_permille(950), "95.0 %");
        assert!(!yield_outside(950, 5));
        assert!(yield_outside(949, 5));
    }

    #[test]
    fn an_input_off_the_recipe_and_a_missing_one_are_named() {
        let r = cookie();
        let a = r.assess(&[(LotId(7), code("WALNUTS"), q("3"))], q("100"));
        assert_eq!(
            a.deviations,
            vec![
                Deviation::NotInRecipe {
                    lot: LotId(7),
                    item: code("WALNUTS")
                },
                Deviation::Missing {
                    item: code("DOUGH"),
                    expected: q("50")
                },
                Deviation::Missing {
                    item: code("CHIPS"),
                    expected: q("10")
                },
            ]
        );
        assert_eq!(a.expected, None);
        assert!(a.deviations[0].needs_qa() && !a.deviations[1].needs_qa());
        assert_eq!(
            a.deviations[0].words(&code("COOKIE"), |_| "R1".into()),
            "WALNUTS (lot R1) is not in COOKIE's recipe"
        );
    }

    #[test]
    fn recipes_are_checked() {
        let mut r = cookie().recipe;
        assert!(r.check().is_ok());
        r.lines[1].substitutes.push(code("DOUGH"));
        assert!(r.check().unwrap_err().problem.contains("named twice"));
        let mut r = cookie().recipe;
        r.lines[0].item = code("COOKIE");
        assert!(r.check().unwrap_err().problem.contains("its own recipe"));
        let mut r = cookie().recipe;
        r.lines[0].tolerance_pct = 101;
        assert!(r.check().is_err());
        let mut r = cookie().recipe;
        r.lines.clear();
        assert!(r.check().is_err());
    }
}
