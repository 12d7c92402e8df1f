//! lotline's GS1 parser against biip, an independent one (docs/scanning.md, "Checked
//! against biip"). `gs1_diff/messages.jsonl` holds thousands of valid messages generated
//! over every AI of GS1's syntax dictionary, in every form a scanner sends — bare, `]C1`,
//! `]d2`, `]e0`, `]Q3` and Digital Link — each with the elements it was built from and
//! biip's reading of it. `gs1_diff/regen.sh` regenerates it (Python and PyPI); this test
//! needs neither.
//!
//! lotline must read every message, and read exactly the elements it was built from. Where
//! biip reads it too, the two must agree on every element, its value and any date or
//! decimal both give; where biip differs, the difference must be one of the classes in
//! `KNOWN`, each with the reason lotline is right.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use lotline_domain::scan::{ScanConfig, parse_at};
use serde_json::Value;

const MESSAGES: &str = include_str!("gs1_diff/messages.jsonl");

/// What biip does differently, and why lotline's reading stands.
const KNOWN: &[(&str, &str)] = &[
    (
        "biip refuses a harvest date range",
        "AI (7007) is a harvest date or a range of two (N6,yymmdd [N6],yymmdd in the dictionary); \
         biip reads 12 digits as one date and time and refuses the range",
    ),
    (
        "biip misplaces a short amount's decimal point",
        "an amount (39nn) with fewer digits than the AI's decimal places had its leading zeros \
         left out (304 with 6 places is 0.000304); biip moves the point instead",
    ),
];

/// Which known class a difference falls in, if any.
fn classify(sent: &[(String, String)], biip_error: Option<&str>) -> Option<&'static str> {
    let range = sent.iter().any(|(ai, v)| ai == "7007" && v.len() == 12);
    let biip_says_7007 =
        biip_error.is_some_and(|e| e.contains("7007") || e.starts_with("ParseError: Expected URI"));
    (range && biip_says_7007).then_some(KNOWN[0].0)
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e[0].as_str().unwrap_or_default().to_owned(),
                e[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn lotline_reads_every_message_as_biip_does() {
    // The messages' years lie within twenty of 2026, so the century rule reads them alike
    // with this "today" and biip's own.
    let today = NaiveDate::from_ymd_opt(2026, 12, 7).expect("a date");
    let cfg = ScanConfig::default();
    let mut agreed: BTreeMap<String, usize> = BTreeMap::new();
    let mut known: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut ais_seen = std::collections::BTreeSet::new();
    // Elements (not messages) in the second known class; their messages agree otherwise.
    let mut short_amounts = 0;
    for (n, line) in MESSAGES.lines().enumerate() {
        let row: Value = serde_json::from_str(line).expect("a JSON line");
        let form = row["form"].as_str().unwrap_or_default().to_owned();
        let input = row["input"].as_str().expect("an input");
        let sent = pairs(&row["sent"]);
        let scan = match parse_at(input, &cfg, today) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!(
                    "line {}: {input:?} ({form}): lotline refused it: {e}",
                    n + 1
                ));
                continue;
            }
        };
        let mut ours: Vec<(String, String)> = scan
            .elements()
            .iter()
            .map(|e| (e.ai.clone(), e.value.clone()))
            .collect();
        ours.sort();
        ais_seen.extend(ours.iter().map(|(ai, _)| ai.clone()));
        if ours != sent {
            failures.push(format!(
                "line {}: {input:?} ({form}): lotline read {ours:?}, sent {sent:?}",
                n + 1
            ));
            continue;
        }
        let biip = &row["biip"];
        let biip_error = biip["error"].as_str();
        if biip_error.is_none() && pairs(&biip["elements"]) == ours {
            // Dates and decimals too, where both give one.
            for b in biip["elements"].as_array().into_iter().flatten() {
                let ai = b[0].as_str().unwrap_or_default();
                let Some(el) = scan.get(ai) else { continue };
                if let (Some(d), Some(ours)) = (b[2].as_str(), el.date)
                    && d != ours.to_string()
                {
                    failures.push(format!(
                        "line {}: AI ({ai}) date: biip {d}, lotline {ours}",
                        n + 1
                    ));
                }
                if let (Some(d), Some(ours)) = (b[3].as_str(), el.decimal.as_deref()) {
                    let places = usize::from(ai.as_bytes().last().map_or(0, |d| d - b'0'));
                    let digits = if ai.starts_with("391") || ai.starts_with("393") {
                        el.value.len().saturating_sub(3)
                    } else {
                        el.value.len()
                    };
                    if d != ours && ai.starts_with("39") && digits < places {
                        short_amounts += 1;
                    } else if d != ours {
                        failures.push(format!(
                            "line {}: AI ({ai}) decimal: biip {d}, lotline {ours}",
                            n + 1
                        ));
                    }
                }
            }
            *agreed.entry(form).or_default() += 1;
            continue;
        }
        match classify(&sent, biip_error) {
            Some(class) => *known.entry(class).or_default() += 1,
            None => failures.push(format!(
                "line {}: {input:?} ({form}): biip read {biip}, lotline {ours:?}, and no known reason",
                n + 1
            )),
        }
    }
    let total: usize = agreed.values().sum::<usize>() + known.values().sum::<usize>();
    eprintln!(
        "gs1_diff: {total} messages; the same as biip {agreed:?}; known differences {known:?}; \
         amounts whose decimal point biip misplaces: {short_amounts}"
    );
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total >= 3000, "only {total} messages");
    for form in ["bare", "]C1", "]d2", "]e0", "]Q3", "dl"] {
        assert!(
            agreed.get(form).copied().unwrap_or(0) >= 400,
            "few {form} messages: {agreed:?}"
        );
    }
    // Every AI of the dictionary was read at least once.
    assert!(ais_seen.len() >= 500, "only {} AIs seen", ais_seen.len());
}
