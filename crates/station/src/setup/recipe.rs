//! A recipe version as people type it, for `lotline recipe add|edit` and the app's recipe
//! editor: each input line from its text, then the version's own values and the rule of
//! its reason (a first version defaults it, a later one must say why). Both front ends
//! read through here, so the same text is accepted or refused the same way; each names
//! the fields in its own words (the command line a line as `input 2`, the editor the
//! field typed in).

use chrono::NaiveDate;
use lotline_domain::*;

/// An input's tolerance when none is given, in percent (`--tolerance`'s default).
pub const DEFAULT_TOLERANCE_PCT: u32 = 5;
/// How far a batch's yield may stray when none is given (`--yield-tolerance`'s default).
pub const DEFAULT_YIELD_TOLERANCE_PCT: u32 = 5;
/// The reason of a first version given none.
pub const FIRST_REASON: &str = "first version";

/// A whole percent: `5`, `5%` or `5 %`.
pub fn percent(t: &str, field: &str) -> Result<u32, Invalid> {
    t.trim().trim_end_matches('%').trim().parse().map_err(|_| {
        Invalid::new(
            field,
            format!("{} is not a whole percent", text::excerpt(t.trim())),
        )
    })
}

/// The names the problems of one input line go under.
#[derive(Debug, Clone, Copy)]
pub struct LineFields<'a> {
    pub item: &'a str,
    pub qty: &'a str,
    pub tolerance: &'a str,
    pub substitutes: &'a str,
}

/// One input line from its text: the input item's code, its quantity per batch size (in
/// its own unit), its tolerance in whole percent (empty: [`DEFAULT_TOLERANCE_PCT`]) and
/// its substitutes, item codes separated by commas. Every problem is found, in that
/// order. With `output`, naming the output item itself (as input or substitute) is refused
/// here rather than only when the whole recipe is checked, so a form can refuse the line
/// as it is added; the words are the recipe's.
pub fn line_checked(
    item: &str,
    qty: &str,
    tolerance: &str,
    substitutes: &str,
    output: Option<&ItemCode>,
    f: &LineFields,
) -> Result<RecipeLine, Refused<Invalid>> {
    let mut p = Problems::new();
    let code = p.take(ItemCode::parse(item.trim(), f.item));
    let qty = p.take(Qty::parse_positive(qty.trim(), f.qty));
    let tolerance_pct = p.take(if tolerance.trim().is_empty() {
        Ok(DEFAULT_TOLERANCE_PCT)
    } else {
        percent(tolerance, f.tolerance).and_then(|pct| check_tolerance(pct, f.tolerance))
    });
    let mut subs = Some(Vec::new());
    for s in substitutes
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match (p.take(ItemCode::parse(s, f.substitutes)), subs.as_mut()) {
            (Some(c), Some(v)) => v.push(c),
            _ => subs = None,
        }
    }
    if let Some(out) = output {
        if code.as_ref() == Some(out) {
            p.push(own_input(out, f.item));
        }
        if subs.as_ref().is_some_and(|v| v.contains(out)) {
            p.push(own_input(out, f.substitutes));
        }
    }
    p.finish(|| {
        Some(RecipeLine {
            item: code?,
            qty: qty?,
            tolerance_pct: tolerance_pct?,
            substitutes: subs?,
        })
    })
}

/// The recipe's own words for an input that is its output (`NewRecipe::check`).
fn own_input(i: &ItemCode, field: &str) -> Invalid {
    Invalid::new(
        field,
        format!(
            "{i} cannot be an input of its own recipe; rework (a lot of {i} fed back in) is always accepted"
        ),
    )
}

/// The recipe's own limit on a tolerance (`NewRecipe::check`), under the field typed in.
fn check_tolerance(pct: u32, field: &str) -> Result<u32, Invalid> {
    if pct > MAX_TOLERANCE_PCT {
        return Err(Invalid::new(
            field,
            format!("a tolerance of {pct} % is more than {MAX_TOLERANCE_PCT} %"),
        ));
    }
    Ok(pct)
}

/// A version's own values as typed.
#[derive(Debug, Clone, Copy)]
pub struct VersionText<'a> {
    /// The output item's code.
    pub item: &'a str,
    /// The batch size the quantities are for, in the output item's unit.
    pub per: &'a str,
    /// How far a batch's yield may stray, in whole percent; empty:
    /// [`DEFAULT_YIELD_TOLERANCE_PCT`].
    pub yield_tolerance: &'a str,
    /// When it takes effect; `None`: today.
    pub effective: Option<&'a str>,
    /// Why this version; `None`: [`FIRST_REASON`] for a first version, refused for a
    /// later one.
    pub reason: Option<&'a str>,
    /// How this front end takes the reason, said when it is missing (`--reason`); empty
    /// where the refusal marks the field instead.
    pub reason_flag: &'a str,
}

/// A new version from `v` and its `lines`, checked as the store will check it (every
/// problem of the version's own values, in the order the editor shows them, then the
/// recipe's rules). `first`: the item has no recipe yet.
pub fn recipe_checked(
    v: &VersionText,
    lines: Vec<RecipeLine>,
    today: NaiveDate,
    first: bool,
) -> Result<NewRecipe, Refused<Invalid>> {
    let mut p = Problems::new();
    let reason = p.take(match (v.reason, first) {
        (Some(r), _) => Ok(r.to_string()),
        (None, true) => Ok(FIRST_REASON.to_string()),
        (None, false) => {
            let flag = if v.reason_flag.is_empty() {
                String::new()
            } else {
                format!(" ({})", v.reason_flag)
            };
            Err(Invalid::new(
                "reason",
                format!("say why the recipe changes{flag}; it is kept with the version"),
            ))
        }
    });
    let item = p.take(ItemCode::parse(v.item.trim(), "item"));
    let effective = p.take(match v.effective {
        Some(d) => parse_date(d, "effective", today),
        None => Ok(today),
    });
    let per = p.take(Qty::parse_positive(v.per.trim(), "per"));
    let yield_tolerance_pct = p.take(if v.yield_tolerance.trim().is_empty() {
        Ok(DEFAULT_YIELD_TOLERANCE_PCT)
    } else {
        percent(v.yield_tolerance, "yield-tolerance")
    });
    let r = p.finish(|| {
        Some(NewRecipe {
            item: item?,
            effective: effective?,
            per: per?,
            yield_tolerance_pct: yield_tolerance_pct?,
            lines,
            reason: reason?,
        })
    })?;
    r.check().map_err(|e| Refused {
        first: e,
        rest: Vec::new(),
    })?;
    Ok(r)
}

/// The text a version's lines are typed as, for an editor opened on it: the input's code,
/// quantity, tolerance and substitutes (comma-separated), as [`line_checked`] reads them.
pub fn line_text(l: &RecipeLine) -> [String; 4] {
    [
        l.item.to_string(),
        l.qty.to_string(),
        l.tolerance_pct.to_string(),
        l.substitutes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: LineFields = LineFields {
        item: "input",
        qty: "qty",
        tolerance: "tolerance",
        substitutes: "substitutes",
    };

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn code(s: &str) -> ItemCode {
        ItemCode::parse(s, "item").unwrap()
    }

    fn fields(r: Refused<Invalid>) -> Vec<(String, String)> {
        r.into_vec()
            .into_iter()
            .map(|e| (e.field, e.problem))
            .collect()
    }

    fn version<'a>(reason: Option<&'a str>) -> VersionText<'a> {
        VersionText {
            item: "DOUGH",
            per: "100",
            yield_tolerance: "",
            effective: None,
            reason,
            reason_flag: "--reason",
        }
    }

    #[test]
    fn a_line_reads_its_defaults_and_its_substitutes_separated_by_commas() {
        let l = line_checked("flour", "80", "", "FLOUR-WW, spelt,", None, &FORM).unwrap();
        assert_eq!(l.item, code("FLOUR"));
        assert_eq!(l.qty, Qty::from_units(80));
        assert_eq!(l.tolerance_pct, DEFAULT_TOLERANCE_PCT);
        assert_eq!(l.substitutes, vec![code("FLOUR-WW"), code("SPELT")]);
        for t in ["15", "15%", " 15 % "] {
            let l = line_checked("EGGS", "2.5", t, "", None, &FORM).unwrap();
            assert_eq!(l.tolerance_pct, 15, "{t}");
            assert_eq!(l.qty.to_string(), "2.5");
        }
        // And back: the text an editor shows reads as the same line.
        let [i, q, t, s] = line_text(&l);
        assert_eq!(line_checked(&i, &q, &t, &s, None, &FORM).unwrap(), l);
        let l = line_checked("FLOUR", "80", "", "FLOUR-WW, SPELT", None, &FORM).unwrap();
        let [i, q, t, s] = line_text(&l);
        assert_eq!(s, "FLOUR-WW, SPELT");
        assert_eq!(line_checked(&i, &q, &t, &s, None, &FORM).unwrap(), l);
    }

    #[test]
    fn every_problem_of_a_line_names_its_field() {
        let r = line_checked("", "0", "lots", "OK, no good", None, &FORM).unwrap_err();
        let names: Vec<String> = fields(r).into_iter().map(|(f, _)| f).collect();
        assert_eq!(names, ["input", "qty", "tolerance", "substitutes"]);
        let r = line_checked("EGGS", "2", "150", "", None, &FORM).unwrap_err();
        assert_eq!(
            fields(r),
            [(
                "tolerance".to_string(),
                "a tolerance of 150 % is more than 100 %".to_string()
            )]
        );
        let r = line_checked("EGGS", "-1", "x", "", None, &FORM).unwrap_err();
        assert_eq!(
            fields(r)[1],
            (
                "tolerance".to_string(),
                "'x' is not a whole percent".to_string()
            )
        );
        // The output item, as input or substitute, in the recipe's own words.
        let dough = code("DOUGH");
        let r = line_checked("dough", "1", "", "", Some(&dough), &FORM).unwrap_err();
        assert_eq!(r.first.field, "input");
        assert_eq!(
            r.first.problem,
            "DOUGH cannot be an input of its own recipe; rework (a lot of DOUGH fed back in) is always accepted"
        );
        let r = line_checked("FLOUR", "1", "", "DOUGH", Some(&dough), &FORM).unwrap_err();
        assert_eq!(r.first.field, "substitutes");
        // Without an output (the command line) it is the whole recipe's check that says so.
        assert!(line_checked("DOUGH", "1", "", "", None, &FORM).is_ok());
    }

    #[test]
    fn a_first_version_defaults_its_reason_and_a_later_one_must_say_why() {
        let today = day("2026-11-21");
        let line = line_checked("FLOUR", "80", "", "", None, &FORM).unwrap();
        let r = recipe_checked(&version(None), vec![line.clone()], today, true).unwrap();
        assert_eq!(r.reason, FIRST_REASON);
        assert_eq!(r.effective, today);
        assert_eq!(r.per, Qty::from_units(100));
        assert_eq!(r.yield_tolerance_pct, DEFAULT_YIELD_TOLERANCE_PCT);
        let e = recipe_checked(&version(None), vec![line.clone()], today, false).unwrap_err();
        assert_eq!(e.first.field, "reason");
        // The command line's words, flag and all; the editor marks the field instead.
        assert_eq!(
            e.first.problem,
            "say why the recipe changes (--reason); it is kept with the version"
        );
        let app = VersionText {
            reason_flag: "",
            ..version(None)
        };
        let e = recipe_checked(&app, vec![line.clone()], today, false).unwrap_err();
        assert_eq!(
            e.first.problem,
            "say why the recipe changes; it is kept with the version"
        );
        let r = recipe_checked(&version(Some("less salt")), vec![line], today, false).unwrap();
        assert_eq!(r.reason, "less salt");
    }

    #[test]
    fn a_versions_values_are_refused_in_the_order_the_editor_shows_them_then_the_recipes_rules() {
        let today = day("2026-11-21");
        let line = line_checked("FLOUR", "80", "", "", None, &FORM).unwrap();
        let v = VersionText {
            per: "0",
            yield_tolerance: "many",
            effective: Some("soon"),
            ..version(None)
        };
        let names: Vec<String> =
            fields(recipe_checked(&v, vec![line.clone()], today, false).unwrap_err())
                .into_iter()
                .map(|(f, _)| f)
                .collect();
        assert_eq!(names, ["reason", "effective", "per", "yield-tolerance"]);
        let v = VersionText {
            effective: Some("2026-12-01"),
            yield_tolerance: "3 %",
            ..version(None)
        };
        let r = recipe_checked(&v, vec![line.clone()], today, true).unwrap();
        assert_eq!((r.effective, r.yield_tolerance_pct), (day("2026-12-01"), 3));
        // The recipe's rules: at least one input, each once, not the output itself.
        let e = recipe_checked(&version(None), vec![], today, true).unwrap_err();
        assert_eq!(
            (e.first.field.as_str(), e.first.problem.as_str()),
            ("input", "a recipe needs at least one input")
        );
        let e = recipe_checked(
            &version(None),
            vec![line.clone(), line.clone()],
            today,
            true,
        )
        .unwrap_err();
        assert_eq!(e.first.field, "input 2");
        assert!(e.first.problem.contains("named twice"), "{e:?}");
        let own = line_checked("DOUGH", "1", "", "", None, &FORM).unwrap();
        let e = recipe_checked(&version(None), vec![line, own], today, true).unwrap_err();
        assert_eq!(e.first.field, "input 2");
        assert!(
            e.first
                .problem
                .contains("cannot be an input of its own recipe")
        );
    }
}
