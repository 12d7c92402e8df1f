//! Recipes, allergens, changeovers and yields on the command line: `recipe`, `allergens`,
//! `changeover`, `yields`, and the words `produce` adds to a recipe refusal.

use super::Res;
use super::args::{opt_date, opt_past_date};
use super::output::print_json;
use clap::{Args, Subcommand};
use lotline_domain::*;
use lotline_station::setup::recipe as recipe_rules;
use lotline_station::{Station, StationError, StationExt};
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum RecipeCmd {
    /// Give an item its first recipe (admin): its inputs per batch size, tolerances and
    /// substitutes.
    Add(RecipeArgs),
    /// A new version of an item's recipe (admin), taking effect on --effective; batches
    /// made before keep the version they used.
    Edit(RecipeArgs),
    /// Every version of an item's recipe, oldest first.
    Show {
        /// The output item.
        item: String,
        /// Print JSON for scripts (see README "JSON output").
        #[arg(long)]
        json: bool,
    },
    /// Every item's recipe as it stands (its newest version).
    List {
        /// Print JSON for scripts (see README "JSON output").
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct RecipeArgs {
    /// The output item the recipe makes.
    pub item: String,
    /// An input and its quantity per batch size (--per), in the input item's unit,
    /// ITEM=QTY; repeat for each input.
    #[arg(long = "input", value_name = "ITEM=QTY", required = true)]
    pub inputs: Vec<String>,
    /// The batch size the quantities are for, in the output item's unit.
    #[arg(long, default_value = "1")]
    pub per: String,
    /// How far each input's quantity may stray, in percent, before closing a batch asks
    /// for a reason.
    #[arg(long, default_value = "5", value_name = "PCT")]
    pub tolerance: u32,
    /// One input's own tolerance, ITEM=PCT; repeat for each.
    #[arg(long = "input-tolerance", value_name = "ITEM=PCT")]
    pub input_tolerances: Vec<String>,
    /// An allowed substitute, ITEM=SUBSTITUTE (same unit); repeat for each.
    #[arg(long = "substitute", value_name = "ITEM=SUBSTITUTE")]
    pub substitutes: Vec<String>,
    /// How far a batch's yield may stray from 100 %, in percent, before `yields --outside`
    /// lists it.
    #[arg(long, default_value = "5", value_name = "PCT")]
    pub yield_tolerance: u32,
    /// The date this version takes effect (default today).
    #[arg(long)]
    pub effective: Option<String>,
    /// Why this version (the first defaults to "first version").
    #[arg(long)]
    pub reason: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AllergensCmd {
    /// The plant's allergen list and what each item declares.
    Show {
        /// Print JSON for scripts (see README "JSON output").
        #[arg(long)]
        json: bool,
    },
    /// Set the plant's allergen list (admin): names, comma-separated or one per
    /// argument; `us` for the nine US major allergens, `eu` for the EU's fourteen. Once
    /// used, names may only be added at the end.
    Set {
        /// The allergen names, in order.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Say which allergens an item contains (admin), replacing what it declared; `none`
    /// for none. Lots made from now on carry the new declaration.
    Declare {
        /// The item code.
        item: String,
        /// The allergens it contains, by name as the plant's list has them.
        #[arg(required = true)]
        allergens: Vec<String>,
        /// Why (the spec sheet, a reformulation).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Args)]
pub struct ChangeoverArgs {
    /// The production line cleaned, as batches name it (`produce --line`).
    pub line: String,
    /// The allergens it cleared, comma-separated (default: all of them).
    #[arg(long, value_name = "ALLERGENS")]
    pub cleared: Option<String>,
    /// What was done (wash-down, swab result).
    #[arg(long, default_value = "")]
    pub note: String,
    /// Date (default today).
    #[arg(long)]
    pub date: Option<String>,
}

#[derive(Debug, Args)]
pub struct YieldsArgs {
    /// Only batches of this item.
    #[arg(long)]
    pub item: Option<String>,
    /// Only batches made on this line.
    #[arg(long)]
    pub line: Option<String>,
    /// First business day, YYYY-MM-DD (inclusive).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last business day, YYYY-MM-DD (inclusive).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Only batches whose yield is outside their recipe's tolerance.
    #[arg(long)]
    pub outside: bool,
    /// Print JSON for scripts (see README "JSON output").
    #[arg(long)]
    pub json: bool,
    /// Write the rows as a new CSV file.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Write the rows as a new XLSX workbook.
    #[arg(long, value_name = "FILE")]
    pub xlsx: Option<PathBuf>,
}

/// `KEY=VALUE`, both trimmed and neither empty.
fn pair<'a>(text: &'a str, field: &str, shape: &str) -> Result<(&'a str, &'a str), Invalid> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => Ok((k.trim(), v.trim())),
        _ => Err(Invalid::new(
            field,
            format!("{} is not {shape}", text::excerpt(text)),
        )),
    }
}

impl RecipeArgs {
    /// The version these flags give, read by the rules the app's recipe editor reads its
    /// fields by (`setup::recipe`); only the flags' own shapes (ITEM=QTY, ITEM=PCT,
    /// ITEM=SUBSTITUTE) are read here.
    pub fn to_new(&self, today: chrono::NaiveDate, first: bool) -> Result<NewRecipe, Invalid> {
        let tolerance = self.tolerance.to_string();
        let mut lines = Vec::with_capacity(self.inputs.len());
        for (n, t) in self.inputs.iter().enumerate() {
            let field = if self.inputs.len() == 1 {
                "input".to_string()
            } else {
                format!("input {}", n + 1)
            };
            let (item, qty) = pair(t, &field, "ITEM=QTY")?;
            let names = recipe_rules::LineFields {
                item: &field,
                qty: &field,
                tolerance: &field,
                substitutes: "substitute",
            };
            lines.push(
                recipe_rules::line_checked(item, qty, &tolerance, "", None, &names)
                    .map_err(|r| r.first)?,
            );
        }
        let line_of =
            |lines: &mut [RecipeLine], item: &str, field: &str| -> Result<usize, Invalid> {
                let code = ItemCode::parse(item, field)?;
                lines.iter().position(|l| l.item == code).ok_or_else(|| {
                    Invalid::new(
                        field,
                        format!("{code} is not one of the recipe's --input items"),
                    )
                })
            };
        for t in &self.input_tolerances {
            let (item, pct) = pair(t, "input-tolerance", "ITEM=PCT")?;
            let i = line_of(&mut lines, item, "input-tolerance")?;
            lines[i].tolerance_pct = recipe_rules::percent(pct, "input-tolerance")?;
        }
        for t in &self.substitutes {
            let (item, sub) = pair(t, "substitute", "ITEM=SUBSTITUTE")?;
            let i = line_of(&mut lines, item, "substitute")?;
            lines[i]
                .substitutes
                .push(ItemCode::parse(sub, "substitute")?);
        }
        let version = recipe_rules::VersionText {
            item: &self.item,
            per: &self.per,
            yield_tolerance: &self.yield_tolerance.to_string(),
            effective: self.effective.as_deref(),
            reason: self.reason.as_deref(),
            reason_flag: "--reason",
        };
        recipe_rules::recipe_checked(&version, lines, today, first).map_err(|r| r.first)
    }
}

pub fn recipe(st: &dyn Station, out: &mut impl Write, cmd: &RecipeCmd) -> Res {
    match cmd {
        RecipeCmd::Add(a) | RecipeCmd::Edit(a) => {
            let first = matches!(cmd, RecipeCmd::Add(_));
            let new = a.to_new(st.today()?, first)?;
            let had = !st.recipes(Some(new.item.clone()))?.is_empty();
            if first && had {
                return Err(Invalid::new(
                    "item",
                    format!(
                        "{} has a recipe; change it with `lotline recipe edit`",
                        new.item
                    ),
                )
                .into());
            }
            if !first && !had {
                return Err(Invalid::new(
                    "item",
                    format!(
                        "{} has no recipe yet; give it one with `lotline recipe add`",
                        new.item
                    ),
                )
                .into());
            }
            let item = new.item.clone();
            st.add_recipe(new)?;
            let v = st.recipes(Some(item.clone()))?;
            let version = v.last().map_or(0, |r| r.version);
            writeln!(out, "{item} recipe version {version}")?;
            Ok(())
        }
        RecipeCmd::Show { item, json } => {
            let code = ItemCode::parse(item, "item")?;
            let versions = st.recipes(Some(code.clone()))?;
            if *json {
                return print_json(out, &versions.iter().map(recipe_json).collect::<Vec<_>>());
            }
            if versions.is_empty() {
                writeln!(
                    out,
                    "{code} has no recipe (`lotline recipe add {code}` gives it one)"
                )?;
            }
            let units = units(st)?;
            for r in &versions {
                show(out, r, &units)?;
            }
            Ok(())
        }
        RecipeCmd::List { json } => {
            let all = st.recipes(None)?;
            if *json {
                return print_json(out, &all.iter().map(recipe_json).collect::<Vec<_>>());
            }
            writeln!(
                out,
                "{:<14} {:>7} {:<10} {:>10}  INPUTS",
                "ITEM", "VERSION", "EFFECTIVE", "PER"
            )?;
            for r in &all {
                let inputs: Vec<String> =
                    r.recipe.lines.iter().map(|l| l.item.to_string()).collect();
                writeln!(
                    out,
                    "{:<14} {:>7} {:<10} {:>10}  {}",
                    r.recipe.item,
                    r.version,
                    r.recipe.effective,
                    r.recipe.per.to_string(),
                    inputs.join(", ")
                )?;
            }
            if all.is_empty() {
                writeln!(
                    out,
                    "(no recipes; `lotline recipe add ITEM --input ITEM=QTY` gives one)"
                )?;
            }
            Ok(())
        }
    }
}

fn units(st: &dyn Station) -> Res<std::collections::HashMap<ItemCode, Unit>> {
    Ok(st.items()?.into_iter().map(|i| (i.code, i.unit)).collect())
}

fn show(
    out: &mut impl Write,
    r: &Recipe,
    units: &std::collections::HashMap<ItemCode, Unit>,
) -> Res {
    let n = &r.recipe;
    let unit = |i: &ItemCode| units.get(i).map_or(String::new(), |u| u.to_string());
    writeln!(
        out,
        "{} recipe version {}, in effect from {} ({}; {})",
        n.item,
        r.version,
        n.effective,
        r.stamp.text(),
        n.reason
    )?;
    writeln!(
        out,
        "  per {} {}; yield within ±{} %",
        n.per,
        unit(&n.item),
        n.yield_tolerance_pct
    )?;
    for l in &n.lines {
        let subs = if l.substitutes.is_empty() {
            String::new()
        } else {
            let s: Vec<String> = l.substitutes.iter().map(|s| s.to_string()).collect();
            format!("  or {}", s.join(", "))
        };
        writeln!(
            out,
            "  {:<14} {:>10} {:<5} ±{} %{subs}",
            l.item,
            l.qty.to_string(),
            unit(&l.item),
            l.tolerance_pct
        )?;
    }
    Ok(())
}

fn recipe_json(r: &Recipe) -> Value {
    let n = &r.recipe;
    json!({
        "item": n.item.as_str(), "version": r.version, "effective": n.effective.to_string(),
        "per": n.per.to_string(), "yield_tolerance": n.yield_tolerance_pct,
        "reason": n.reason,
        "inputs": n.lines.iter().map(|l| json!({
            "item": l.item.as_str(), "qty": l.qty.to_string(), "tolerance": l.tolerance_pct,
            "substitutes": l.substitutes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "operator": r.stamp.operator, "station": r.stamp.station, "at": r.stamp.at.to_rfc3339(),
    })
}

pub fn allergens(st: &dyn Station, out: &mut impl Write, cmd: &AllergensCmd) -> Res {
    match cmd {
        AllergensCmd::Show { json } => {
            let info = st.allergens()?;
            if *json {
                return print_json(
                    out,
                    &json!({
                        "list": info.list.names,
                        "items": info.items.iter().map(|(i, s)| json!({
                            "item": i.as_str(), "allergens": info.list.names_of(*s),
                        })).collect::<Vec<_>>(),
                    }),
                );
            }
            writeln!(out, "Allergen list: {}", info.list.names.join(", "))?;
            for (i, s) in &info.items {
                writeln!(out, "  {:<14} {}", i, info.list.label(*s))?;
            }
            if info.items.is_empty() {
                writeln!(
                    out,
                    "  (no item declares any; `lotline allergens declare ITEM NAMES --reason …`)"
                )?;
            }
            Ok(())
        }
        AllergensCmd::Set { names } => {
            let list: Vec<String> = match names
                .iter()
                .map(|n| n.trim().to_lowercase())
                .collect::<Vec<_>>()[..]
            {
                [ref one] if one == "us" => US_NINE.iter().map(|n| n.to_string()).collect(),
                [ref one] if one == "eu" => EU_FOURTEEN.iter().map(|n| n.to_string()).collect(),
                _ => names
                    .iter()
                    .flat_map(|n| n.split(','))
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .collect(),
            };
            let event = st.set_allergens(list)?;
            writeln!(out, "{event}")?;
            Ok(())
        }
        AllergensCmd::Declare {
            item,
            allergens,
            reason,
        } => {
            let names: Vec<String> = allergens
                .iter()
                .flat_map(|n| n.split(','))
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case("none"))
                .collect();
            let event =
                st.declare_allergens(ItemCode::parse(item, "item")?, names, reason.clone())?;
            writeln!(out, "{event}")?;
            Ok(())
        }
    }
}

pub fn changeover(st: &dyn Station, out: &mut impl Write, a: &ChangeoverArgs) -> Res {
    let today = st.today()?;
    let cleared: Vec<String> = a
        .cleared
        .as_deref()
        .unwrap_or("all")
        .split(',')
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    let event = st.changeover(NewChangeover {
        line: required_text(&a.line, "line", LINE_MAX)?,
        date: opt_past_date(a.date.as_deref(), today)?,
        cleared,
        note: clean_text(&a.note, "note", NOTE_MAX)?,
    })?;
    writeln!(out, "{event}")?;
    Ok(())
}

pub fn yields(st: &dyn Station, out: &mut impl Write, a: &YieldsArgs) -> Res {
    let today = st.today()?;
    let f = YieldFilter {
        item: a
            .item
            .as_deref()
            .map(|i| ItemCode::parse(i, "item"))
            .transpose()?,
        line: a
            .line
            .as_deref()
            .map(|l| required_text(l, "line", LINE_MAX))
            .transpose()?,
        from: opt_date(&a.from, "from", today)?,
        to: opt_date(&a.to, "to", today)?,
        outside_only: a.outside,
    };
    let rows = st.yields(f)?;
    if let Some(p) = &a.csv {
        lotline_export::yields::write_csv(p, "csv", &rows)?;
    }
    if let Some(p) = &a.xlsx {
        lotline_export::yields::write_xlsx(p, "xlsx", &rows)?;
    }
    if a.json {
        return print_json(out, &rows.iter().map(yield_json).collect::<Vec<_>>());
    }
    if a.csv.is_some() || a.xlsx.is_some() {
        writeln!(out, "{} batches written", rows.len())?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<13} {:<14} {:<10} {:<8} {:>3} {:>10} {:>10} {:<5} {:>8}  NOTE",
        "LOT", "ITEM", "DATE", "LINE", "V", "EXPECTED", "ACTUAL", "UNIT", "YIELD"
    )?;
    for r in &rows {
        let rec = &r.record;
        let mut note = Vec::new();
        if rec.yield_outside() {
            note.push(format!("outside ±{} %", rec.yield_tolerance_pct));
        }
        if let Some(why) = &rec.reason {
            note.push(format!("override: {why}"));
        }
        writeln!(
            out,
            "{:<13} {:<14} {:<10} {:<8} {:>3} {:>10} {:>10} {:<5} {:>8}  {}",
            r.lot,
            rec.item,
            r.date,
            rec.line.as_deref().unwrap_or("-"),
            rec.version,
            rec.expected.map_or("-".into(), |q| q.to_string()),
            rec.actual.to_string(),
            rec.unit,
            rec.yield_permille().map_or("-".into(), format_permille),
            note.join("; ")
        )?;
    }
    if rows.is_empty() {
        writeln!(out, "(no batches made against a recipe match)")?;
    }
    Ok(())
}

fn yield_json(r: &YieldRow) -> Value {
    let rec = &r.record;
    json!({
        "lot": r.lot.as_str(), "item": rec.item.as_str(), "date": r.date.to_string(),
        "line": rec.line, "version": rec.version,
        "expected": rec.expected.map(|q| q.to_string()), "actual": rec.actual.to_string(),
        "unit": rec.unit.as_str(),
        "yield_pct": rec.yield_permille().map(|p| p as f64 / 10.0),
        "tolerance": rec.yield_tolerance_pct, "outside": rec.yield_outside(),
        "override_reason": rec.reason,
        "deviations": rec.deviations.len(),
    })
}

/// What the command line adds to a recipe refusal: the flag that gives the reason.
pub fn recipe_hint(mut e: StationError) -> StationError {
    if e.kind == lotline_station::ErrorKind::Invalid {
        if e.message.contains("QA may let it in") {
            e.message.push_str(" (--override-reason, QA)");
        } else if e.message.contains("give the reason to close the batch") {
            e.message.push_str(" (--reason)");
        }
    }
    e
}
