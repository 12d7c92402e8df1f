//! Fuzz targets for the app, as proptests (see `lotline_domain::fuzz` for case counts):
//!
//! - random key streams — keys, chords, pastes, scans, typed words and lot codes, resizes
//!   and clock ticks — against the whole app over a real station, drawn with ratatui's
//!   TestBackend after every step at random sizes (20x5 and 40x16 among them): nothing
//!   panics, nothing unsafe reaches a cell, the cursor stays on the screen, and the
//!   database is consistent afterwards with nothing lost;
//! - keymap and config files: random and near-valid text is either loaded or refused with
//!   a reason naming the file, never a panic.

use super::*;
use crate::config::Config;
use proptest::prelude::*;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone)]
enum Step {
    Inputs(Vec<Input>),
    Resize(u16, u16),
    /// The clock moves on by this many minutes (a new day now and then).
    Tick(u32),
}

/// Words that reach deep into the forms: item and party codes, quantities good and bad,
/// dates real and not, and text with characters that must never be drawn raw.
const WORDS: &[&str] = &[
    "flour",
    "FLOUR",
    "eggs",
    "sugar",
    "dough",
    "cookie",
    "mill",
    "farm",
    "shop",
    "cafe",
    "M-1",
    "25",
    "0.5",
    "-3",
    "0",
    "1e9",
    "99999999999999",
    "2026-11-21",
    "0000-01-01",
    "2026-02-30",
    "BOL:7",
    "torn bags",
    "\u{1b}]52;c;aGk=\u{7}",
    "a\u{202e}b",
    "zero\u{200b}width",
    "日本語のテキスト",
    "(01)09501101530003(10)L1",
];

fn special() -> impl Strategy<Value = KeyCode> {
    prop::sample::select(vec![
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Tab,
        KeyCode::BackTab,
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::PageUp,
        KeyCode::PageDown,
        KeyCode::Home,
        KeyCode::End,
        KeyCode::Backspace,
        KeyCode::Delete,
        KeyCode::Insert,
    ])
}

fn key_input() -> impl Strategy<Value = Input> {
    let mods = prop::sample::select(vec![
        KeyModifiers::NONE,
        KeyModifiers::NONE,
        KeyModifiers::CONTROL,
        KeyModifiers::ALT,
        KeyModifiers::SHIFT,
        KeyModifiers::CONTROL | KeyModifiers::SHIFT,
    ]);
    let code = prop_oneof![
        4 => special(),
        3 => (1u8..=12).prop_map(KeyCode::F),
        4 => prop::char::range(' ', '~').prop_map(KeyCode::Char),
        1 => any::<char>().prop_map(KeyCode::Char),
    ];
    (code, mods).prop_map(|(c, m)| Input::key(KeyEvent::new(c, m)))
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(WORDS).prop_map(str::to_string),
        "[ -~]{0,30}",
        any::<String>().prop_map(|s| s.chars().take(40).collect()),
    ]
}

fn size() -> impl Strategy<Value = (u16, u16)> {
    prop_oneof![
        prop::sample::select(vec![(20u16, 5u16), (40, 16), (80, 24), (132, 43), (1, 1)]),
        (1u16..=200, 1u16..=60),
    ]
}

/// Some steps name the plant's own lot codes (`lot` picks one), so histories, traces,
/// holds and shipments of real lots are reached, not only refusals.
fn step() -> impl Strategy<Value = (Step, Option<usize>)> {
    prop_oneof![
        12 => prop::collection::vec(key_input(), 1..6).prop_map(|k| (Step::Inputs(k), None)),
        4 => text().prop_map(|t| (Step::Inputs(Input::typed(&t)), None)),
        2 => (0usize..7).prop_map(|i| (Step::Inputs(Vec::new()), Some(i))),
        1 => text().prop_map(|t| (Step::Inputs(vec![Input::Paste(t)]), None)),
        1 => text().prop_map(|t| (Step::Inputs(vec![Input::Scan(t)]), None)),
        1 => size().prop_map(|(w, h)| (Step::Resize(w, h), None)),
        1 => (1u32..3000).prop_map(|m| (Step::Tick(m), None)),
    ]
}

/// Draw and check what a terminal would be sent.
fn draw_checked(a: &App, w: u16, h: u16) -> Result<(), TestCaseError> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut cursor = None;
    t.draw(|f| {
        let area = f.area();
        cursor = a.draw(f.buffer_mut(), area);
    })
    .unwrap();
    if let Some(p) = cursor {
        prop_assert!(p.x < w && p.y < h, "cursor {p:?} outside {w}x{h}");
    }
    for cell in t.backend().buffer().content() {
        prop_assert!(
            !lotline_domain::text::has_unsafe(cell.symbol()),
            "a raw {:?} was drawn at {w}x{h}",
            cell.symbol()
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(lotline_domain::fuzz::config(12))]

    #[test]
    fn random_keys_at_random_sizes_never_panic_and_lose_nothing(
        steps in prop::collection::vec(step(), 1..120),
        (w0, h0) in size(),
    ) {
        let p = plant();
        let mut a = app(&p);
        let lots = [
            &p.flour, &p.old_eggs, &p.eggs, &p.sugar, &p.held_sugar, &p.cookies_a, &p.cookies_b,
        ];
        let before = p.st.stats().unwrap();
        let (mut w, mut h) = (w0, h0);
        let mut clock = now().naive_local();
        draw_checked(&a, w, h)?;
        for (s, lot) in steps {
            match (s, lot) {
                (_, Some(i)) => {
                    for k in Input::typed(lots[i].as_str()) {
                        a.handle(k, &p.st);
                    }
                }
                (Step::Inputs(keys), None) => {
                    for k in keys {
                        a.handle(k, &p.st);
                    }
                }
                (Step::Resize(nw, nh), None) => {
                    (w, h) = (nw, nh);
                    a.handle(Input::Resize, &p.st);
                }
                (Step::Tick(m), None) => {
                    clock += chrono::Duration::minutes(i64::from(m));
                    a.tick(clock, &p.st);
                }
            }
            a.poll_background();
            draw_checked(&a, w, h)?;
        }
        // Whatever the keys saved, the database is consistent and nothing was removed:
        // every change is a new record.
        let after = p.st.stats().unwrap();
        prop_assert!(after.lots >= before.lots && after.events >= before.events);
        for l in lots {
            prop_assert!(p.st.lot(l.clone()).is_ok(), "lot {l} is gone");
        }
        let report = p.st.check().unwrap();
        prop_assert!(report.problems.is_empty(), "{:?}", report.problems);
    }
}

/// Lines a keymap file is made of: real ones, near misses and junk.
fn keymap_line() -> impl Strategy<Value = String> {
    let layer = prop::sample::select(vec![
        "global", "form", "receive", "produce", "ship", "trace", "lots", "help", "menu", "nope",
    ]);
    let key = prop_oneof![
        prop::sample::select(vec![
            "<F1>",
            "<F12>",
            "<Enter>",
            "<Esc>",
            "<C-s>",
            "<C-S-x>",
            "<A-q>",
            "q",
            "?",
            "<F99>",
            "<>",
            "<C->",
            "",
            "ab",
            "<Tab>",
            "<S-Tab>",
            "<PageDown>",
            "<Space>",
        ])
        .prop_map(str::to_string),
        "[ -~]{0,8}",
    ];
    let run = prop_oneof![
        prop::sample::select(vec![
            "screen help",
            "screen receive",
            "screen lots",
            "quit",
            "save",
            "print",
            "next",
            "prev",
            "menu",
            "screen",
            "screen nope",
            "",
            "hold",
            "release",
            "trace both",
        ])
        .prop_map(str::to_string),
        "[ -~]{0,16}",
    ];
    prop_oneof![
        3 => (layer.clone()).prop_map(|l| format!("[{l}]")),
        2 => Just("keymap = [".to_string()),
        1 => Just("]".to_string()),
        6 => (key, run).prop_map(|(k, r)| format!("  {{ on = {k:?}, run = {r:?}, desc = \"d\" }},")),
        1 => prop::sample::select(vec!["keymap = 5", "version = 1", "[[global]]", "on = 5", "\"\\u0000\""]).prop_map(str::to_string),
        1 => any::<String>().prop_map(|s| s.chars().take(30).collect()),
    ]
}

/// A real keymap with a byte changed or a piece cut out.
fn mutated_keymap() -> impl Strategy<Value = Vec<u8>> {
    let base = include_str!("../../../../keymaps/default.toml")
        .as_bytes()
        .to_vec();
    let n = base.len();
    (0..n, any::<u8>(), 0..n, 0usize..200).prop_map(move |(at, b, cut, len)| {
        let mut v = base.clone();
        v[at] = b;
        v.drain(cut..(cut + len).min(n));
        v
    })
}

lotline_domain::fuzz_tiers! {
    fast = 40, full = 400, slow = full_count;

    #[test]
    fn keymaps_load_or_are_refused_with_a_reason(lines in prop::collection::vec(keymap_line(), 0..30)) {
        let text = lines.join("\n");
        if let Err(e) = Keymap::parse(&text, "k.toml") {
            let msg = e.to_string();
            prop_assert!(msg.contains("k.toml"), "{msg}");
        }
    }

    #[test]
    fn damaged_keymap_files_never_panic(bytes in mutated_keymap()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keymap.toml");
        std::fs::write(&path, &bytes).unwrap();
        if let Err(e) = Keymap::load(&path) {
            prop_assert!(e.to_string().contains("keymap.toml"));
        }
    }

    #[test]
    fn key_and_action_names_never_panic(s in any::<String>(), t in "[<>A-Za-z0-9 -]{0,12}") {
        use crate::keymap::{Action, Key};
        let _ = Key::parse(&s);
        let _ = Key::parse(&t);
        let _ = Action::parse(&s);
        let _ = Action::parse(&t);
    }

    #[test]
    fn config_files_load_or_are_refused_with_a_reason(
        lines in prop::collection::vec(prop_oneof![
            prop::sample::select(vec![
                "keymap = \"vim\"", "keymap = 5", "mono = true", "mono = \"yes\"", "ascii = false",
                "[scanner]", "prefix = \"]C1\"", "suffix = \"\\r\"", "separator = \"\\u001d\"",
                "gap_ms = 30", "gap_ms = -1", "gap_ms = 99999999999", "min_chars = 0",
                "[label]", "printer = \"file:/tmp/x\"", "printer = \"tcp:nowhere\"",
                "printer = \"cmd:\"", "timeout = 0", "[other]", "x = 1", "= =", "[",
            ]).prop_map(str::to_string),
            "[ -~]{0,24}",
        ], 0..16)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, lines.join("\n")).unwrap();
        match Config::load(&path) {
            Ok(c) => {
                let _ = c.scanner.scan_config();
                let _ = c.scanner.timing();
                let _ = c.scanner.describe();
                let _ = c.printer_from(None);
            }
            Err(e) => prop_assert!(e.to_string().contains("config.toml")),
        }
    }
}
