//! The Produce screen against its output item's recipe: the version in effect, the
//! recipe's inputs ticked as lines are added, a lot off the recipe refused at the scan,
//! and what closing a batch that leaves the recipe needs. The rules are the domain's
//! (`Recipe::assess`), so the screen says before closing what the store would refuse.

use super::invalid;
use super::produce::InputLine;
use lotline_domain::{Assessment, Deviation, Item, ItemCode, Lot, Qty, Recipe};
use lotline_station::{Station, StationError, StationExt};

/// The version of `item`'s recipe in effect today, if it has one.
pub fn in_effect(station: &dyn Station, item: ItemCode) -> Option<Recipe> {
    let today = station.today().ok()?;
    station
        .recipes(Some(item))
        .ok()?
        .into_iter()
        .rev()
        .find(|r| r.recipe.effective <= today)
}

/// Why `lot` may not go into a batch of `r`'s item: its item is neither on the recipe
/// nor an allowed substitute (rework, the product itself, is always accepted).
pub fn off_recipe(r: &Recipe, lot: &Lot) -> Option<StationError> {
    let n = &r.recipe;
    if lot.item == n.item || n.lines.iter().any(|l| l.accepts(&lot.item)) {
        return None;
    }
    Some(invalid(
        "input",
        format!(
            "{} is not in {}'s recipe (version {}); QA may let lot {} in: give the reason below first, then scan it again",
            lot.item, n.item, r.version, lot.code
        ),
    ))
}

pub fn assess(r: &Recipe, lines: &[InputLine], output: Qty) -> Assessment {
    let used: Vec<_> = lines
        .iter()
        .map(|l| (l.lot.id, l.lot.item.clone(), l.qty))
        .collect();
    r.assess(&used, output)
}

/// The refusal of a batch leaving its recipe with no reason given.
pub fn needs_reason(
    item: &ItemCode,
    deviations: &[Deviation],
    lines: &[InputLine],
) -> StationError {
    let code = |id| {
        lines
            .iter()
            .find(|l| l.lot.id == id)
            .map(|l| l.lot.code.to_string())
            .unwrap_or_default()
    };
    let what: Vec<String> = deviations.iter().map(|d| d.words(item, code)).collect();
    invalid(
        "reason",
        format!(
            "{}; give the reason to close the batch anyway (it is recorded on the batch)",
            what.join("; ")
        ),
    )
}

/// One recipe input as the screen ticks it: its item, what the lines use of it (with its
/// unit), what is expected, its tolerance, and whether it is ticked (used, within
/// tolerance).
struct Tick {
    item: String,
    used: String,
    expected: String,
    tolerance_pct: u32,
    ok: bool,
}

impl Tick {
    /// "[x] FLOUR 80 kg of 80 kg ±15 %", the item and the quantity used padded to line
    /// up in a column (0: not padded).
    fn text(&self, item_w: usize, used_w: usize) -> String {
        format!(
            "{} {:<item_w$} {:>used_w$} {} ±{} %",
            if self.ok { "[x]" } else { "[ ]" },
            self.item,
            self.used,
            self.expected,
            self.tolerance_pct
        )
    }
}

/// The recipe's title ("Recipe DOUGH v1 (per 100 kg):") and its inputs, ticked.
fn ticks(
    r: &Recipe,
    lines: &[InputLine],
    output: Option<Qty>,
    items: &[Item],
) -> (String, Vec<Tick>) {
    let n = &r.recipe;
    let unit = |i: &ItemCode| {
        items
            .iter()
            .find(|it| &it.code == i)
            .map_or(String::new(), |it| it.unit.to_string())
    };
    let title = format!(
        "Recipe {} v{} (per {} {}):",
        n.item,
        r.version,
        n.per,
        unit(&n.item)
    );
    let a = output.map(|o| assess(r, lines, o));
    let ticks = n
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let used: Qty = lines
                .iter()
                .filter(|x| l.accepts(&x.lot.item))
                .map(|x| x.qty)
                .sum();
            let expected = match &a {
                Some(a) => format!("of {} {}", a.lines[i].0, unit(&l.item)),
                None => format!("({} per {})", l.qty, n.per),
            };
            let ok = used.is_positive()
                && a.as_ref().is_none_or(|a| {
                    !a.deviations.iter().any(
                    |d| matches!(d, Deviation::OutsideTolerance { item, .. } if item == &l.item),
                )
                });
            Tick {
                item: l.item.to_string(),
                used: format!("{used} {}", unit(&l.item)),
                expected,
                tolerance_pct: l.tolerance_pct,
                ok,
            }
        })
        .collect();
    (title, ticks)
}

/// The recipe's inputs as the screen lists them under the lines: a title, then per input
/// whether it is ticked (used, within tolerance), what was used and what is expected.
pub fn rows(
    r: &Recipe,
    lines: &[InputLine],
    output: Option<Qty>,
    items: &[Item],
) -> Vec<(String, bool)> {
    let (title, ticks) = ticks(r, lines, output, items);
    let mut out = vec![(title, true)];
    out.extend(ticks.iter().map(|t| (format!("  {}", t.text(14, 9)), t.ok)));
    out
}

/// The same, for fewer rows than inputs: the title, then each input in a short cell
/// ("[x] FLOUR 80 kg of 80 kg ±15 %") to be set side by side, so a form with two
/// references and several lines still shows every tick on an 80x24 terminal.
pub fn cells(
    r: &Recipe,
    lines: &[InputLine],
    output: Option<Qty>,
    items: &[Item],
) -> (String, Vec<(String, bool)>) {
    let (title, ticks) = ticks(r, lines, output, items);
    let cells = ticks.iter().map(|t| (t.text(0, 0), t.ok)).collect();
    (title, cells)
}

/// The lines' header on a handheld: how many of the recipe's inputs are ticked.
pub fn compact_header(r: &Recipe, lines: &[InputLine], output: Option<Qty>) -> String {
    let rows = rows(r, lines, output, &[]);
    let done = rows.iter().skip(1).filter(|(_, ok)| *ok).count();
    format!(
        "{} v{}: {done}/{} inputs ticked",
        r.recipe.item,
        r.version,
        rows.len() - 1
    )
}

/// A recipe version in a few lines, for the Items screen's details.
pub fn recipe_lines(r: &Recipe) -> Vec<String> {
    let n = &r.recipe;
    let mut v = vec![format!(
        "Recipe v{} from {} (per {}, yield ±{} %):",
        r.version, n.effective, n.per, n.yield_tolerance_pct
    )];
    for l in &n.lines {
        let subs = if l.substitutes.is_empty() {
            String::new()
        } else {
            let s: Vec<&str> = l.substitutes.iter().map(|s| s.as_str()).collect();
            format!(" or {}", s.join(", "))
        };
        v.push(format!(
            "  {} {} ±{} %{subs}",
            l.item, l.qty, l.tolerance_pct
        ));
    }
    v
}
