//! Fuzz targets for the command line, as proptests (see `lotline_domain::fuzz` for case counts).
//! The command lines are built from clap's own description of every subcommand and flag,
//! so they reach every parser, not only the first one: real subcommands, real flags in
//! any number and order, values good, bad and hostile, stray tokens.
//!
//! - parsing: any command line parses or is refused with a message, never a panic;
//! - running: those that parse are run in-process against a small plant (commands that
//!   only read or record; none that writes files, serves or prints), and nothing panics,
//!   and the plant checks clean afterwards.

use super::args::Cli;
use super::run_to;
use clap::{CommandFactory, Parser};
use proptest::prelude::*;
use std::sync::OnceLock;

/// One flag or positional argument of a subcommand, as clap describes it.
#[derive(Debug, Clone)]
struct ArgSpec {
    long: Option<String>,
    required: bool,
    takes_value: bool,
    values: Vec<String>,
}

/// Every subcommand (its path of names) and its arguments.
fn commands() -> &'static [(Vec<String>, Vec<ArgSpec>)] {
    static ALL: OnceLock<Vec<(Vec<String>, Vec<ArgSpec>)>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut out = Vec::new();
        walk(&Cli::command(), &mut Vec::new(), &mut out);
        out
    })
}

fn walk(cmd: &clap::Command, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, Vec<ArgSpec>)>) {
    let args = cmd
        .get_arguments()
        .map(|a| ArgSpec {
            long: a.get_long().map(|l| format!("--{l}")),
            required: a.is_required_set(),
            takes_value: a.get_action().takes_values(),
            values: a
                .get_possible_values()
                .iter()
                .map(|v| v.get_name().to_string())
                .collect(),
        })
        .collect();
    out.push((path.clone(), args));
    for sub in cmd.get_subcommands() {
        path.push(sub.get_name().to_string());
        walk(sub, path, out);
        path.pop();
    }
}

/// Values that reach deep (the test plant's codes) and values that must be refused.
const VALUES: &[&str] = &[
    "FLOUR",
    "EGGS",
    "COOKIE",
    "MILL",
    "SHOP",
    "CAFE",
    "1",
    "0",
    "-1",
    "0.001",
    "1e9",
    "99999999999999999999",
    "NaN",
    "10kg",
    "2026-11-21",
    "0000-01-01",
    "-0001-06-01",
    "2026-13-01",
    "both",
    "kg",
    "case",
    "supplier",
    "customer",
    "finished",
    "BOL:1",
    "=",
    "x=1",
    "=1",
    "--",
    "-",
    "",
    " ",
    "\u{1b}]52;c;aGk=\u{7}",
    "a\u{202e}b",
    "\u{200b}",
    "日本",
    "../x",
    "{SEQ}",
    "R{YY}{DOY}-{SEQ}",
    "(01)09501101530003(10)L1",
    "--help",
    "--json",
];

fn value(lots: &'static [String]) -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(VALUES).prop_map(str::to_string),
        3 => prop::sample::select(lots.to_vec()),
        2 => (prop::sample::select(lots.to_vec()), prop::sample::select(vec!["=1", "=0.5", "=-2", "=x", "=", "=1e30"]))
            .prop_map(|(l, q)| format!("{l}{q}")),
        2 => "[ -~]{0,20}",
        1 => any::<String>().prop_map(|s| s.chars().take(30).collect()),
    ]
}

/// A command line: a subcommand's path, some of its arguments with values, stray tokens.
/// `only` limits it to those subcommands, which then get each flag once and no stray
/// tokens, so that most lines get past clap and run.
fn command_line(
    lots: &'static [String],
    only: Option<&'static [&'static str]>,
) -> impl Strategy<Value = Vec<String>> {
    let allowed: Vec<usize> = (0..commands().len())
        .filter(|c| {
            only.is_none_or(|names| {
                commands()[*c]
                    .0
                    .first()
                    .is_some_and(|p| names.contains(&p.as_str()))
            })
        })
        .collect();
    (
        prop::sample::select(allowed),
        prop::collection::vec(value(lots), 8),
        any::<bool>(),
        prop::collection::vec(
            (any::<prop::sample::Index>(), value(lots), any::<bool>()),
            0..8,
        ),
        prop::collection::vec(value(lots), 0..if only.is_some() { 1 } else { 3 }),
    )
        .prop_map(move |(c, required, all_required, picks, stray)| {
            let (path, args) = &commands()[c];
            let mut line = path.clone();
            // Mostly with what the subcommand requires, so most lines get past clap to
            // lotline's own checks; now and then without, for clap's refusals.
            let needed = args
                .iter()
                .filter(|a| a.required && all_required)
                .zip(required.iter().cycle())
                .map(|(a, v)| (a, v.clone()));
            let picked =
                picks
                    .into_iter()
                    .filter(|_| !args.is_empty())
                    .map(|(i, v, pick_possible)| {
                        let a = &args[i.index(args.len())];
                        let v = if pick_possible && !a.values.is_empty() {
                            a.values[i.index(a.values.len())].clone()
                        } else {
                            v
                        };
                        (a, v)
                    });
            let mut seen: Vec<*const ArgSpec> = Vec::new();
            for (a, v) in needed.chain(picked) {
                if only.is_some() && a.long.is_some() {
                    if seen.contains(&(a as *const ArgSpec)) {
                        continue;
                    }
                    seen.push(a);
                }
                match &a.long {
                    Some(l) => {
                        line.push(l.clone());
                        if a.takes_value {
                            line.push(v);
                        }
                    }
                    None => line.push(v),
                }
            }
            line.extend(stray);
            line
        })
}

/// A small plant for the commands to work on, made once; its path and lot codes.
fn plant() -> &'static (tempfile::TempDir, std::path::PathBuf, Vec<String>) {
    static PLANT: OnceLock<(tempfile::TempDir, std::path::PathBuf, Vec<String>)> = OnceLock::new();
    PLANT.get_or_init(|| {
        let (dir, store, lots) = lotline_station::testing::bakery();
        let path = store.path().to_path_buf();
        store.close().unwrap();
        (dir, path, lots.iter().map(|l| l.to_string()).collect())
    })
}

fn lots() -> &'static [String] {
    &plant().2
}

/// Commands that only read the plant or record in it: none writes a file elsewhere,
/// serves, builds a demo, or sends a label anywhere.
const RUNNABLE: &[&str] = &[
    "plant", "item", "party", "receive", "produce", "ship", "trace", "lots", "lot", "hold",
    "release", "recall", "adjust", "void", "barcode", "audit",
];

lotline_domain::fuzz_tiers! {
    fast = 200, full = 2000, slow = full_count;

    #[test]
    fn any_command_line_parses_or_is_refused_never_a_panic(line in command_line(lots(), None)) {
        match Cli::try_parse_from(std::iter::once("lotline".to_string()).chain(line)) {
            Ok(_) => {}
            Err(e) => {
                let _ = e.render().to_string();
            }
        }
    }
}

lotline_domain::fuzz_tiers! {
    fast = 30, full = 300, slow = full_count_flags;

    #[test]
    fn command_lines_that_parse_run_without_a_panic(line in command_line(lots(), Some(RUNNABLE))) {
        // (Serialised: the commands share one plant, and a writer holds the file.)
        static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Ok(mut cli) = Cli::try_parse_from(std::iter::once("lotline".to_string()).chain(line.clone())) else {
            return Ok(());
        };
        // Always this plant, straight to the file, never a new one.
        cli.db = Some(plant().1.clone());
        cli.no_server = true;
        cli.socket = None;
        cli.create = false;
        let mut out = Vec::new();
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_to(cli, &mut out)));
        prop_assert!(ran.is_ok(), "{line:?} panicked");
        if let Ok(Err(f)) = ran {
            prop_assert!(!f.text().trim().is_empty(), "{line:?} failed with no message");
        }
        prop_assert!(lotline_station::file::take_close_failures().is_empty());
        let file = lotline_station::file::PlantFile::open_read_only(&plant().1).unwrap();
        let caller = lotline_station::Caller::new("quinn", Vec::new(), "check");
        let st = file.into_local(caller, lotline_station::Roles::from_plant());
        let report = lotline_station::StationExt::check(&st).unwrap();
        prop_assert!(report.problems.is_empty(), "after {line:?}: {:?}", report.problems);
    }
}

#[test]
fn the_command_line_definition_is_consistent() {
    Cli::command().debug_assert();
    // Every subcommand is reached by the targets above.
    assert!(commands().len() > 30, "{}", commands().len());
}
