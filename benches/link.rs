//! Bytes to the terminal per key while a person browses a large trace at 80x24: what a
//! handheld pays on a slow link (SSH over a plant's weak Wi-Fi) for each key. The app draws
//! into a byte buffer exactly as it draws on a real terminal (through its painter,
//! `crates/tui/src/paint.rs`), and, for comparison, as ratatui's own flush through the
//! crossterm backend would, and as the painter does on a terminal without the VT220
//! controls. Every byte is also played into a terminal emulator (vt100), whose screen must
//! match what the app drew after every key, so bytes saved are never a screen left wrong.
//!
//! The trace is the forward trace of a generated plant's fan-out silo lot (the flour lot
//! that feeds about 1,400 batches). Environment, as `benches/trace.rs`:
//! `LOTLINE_BENCH_LINK_LOTS` (default 10,000), `LOTLINE_BENCH_SEED` (1), `LOTLINE_BENCH_DIR`.
//! Prints one `BENCH_LINK_JSON {...}` line.

#[path = "common/screen.rs"]
mod screen;

use lotline_station::{Local, StationExt};
use lotline_store::Store;
use lotline_tui::input::Input;
use lotline_tui::paint::Painter;
use lotline_tui::theme::Theme;
use lotline_tui::{App, Keymap};
use ratatui::crossterm::event::KeyCode;
use screen::{Screen, Wire, bench_dir, env_u64, mean, pct, plant, terminal};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;

/// A person reviewing a trace: walking down the batches, opening one to see where it went,
/// reading its details, closing it, paging on, going back up. Hundreds of keys.
fn script() -> Vec<(&'static str, KeyCode)> {
    use KeyCode::*;
    let mut keys = Vec::new();
    let mut add = |name: &'static str, k: KeyCode, n: usize| {
        keys.extend(std::iter::repeat_n((name, k), n));
    };
    for round in 0..14 {
        add("down", Down, 5);
        add("open (Right)", Right, 1);
        add("down", Down, 3);
        add("open/close (Enter)", Enter, 1);
        add("down", Down, 2);
        add("up", Up, 2);
        add("close (Left)", Left, 1);
        add("down", Down, 4);
        add("page down", PageDown, 1);
        add("up", Up, 3);
        if round % 3 == 2 {
            add("page up", PageUp, 1);
        }
        if round % 5 == 4 {
            add("home", Home, 1);
        }
        if round == 7 {
            add("end", End, 1);
            add("up", Up, 2);
        }
    }
    keys
}

/// The screen as the app drew it: each row's text, without trailing blanks.
fn rows_of(buf: &ratatui::buffer::Buffer) -> Vec<String> {
    let a = buf.area;
    (a.top()..a.bottom())
        .map(|y| {
            let mut row = String::new();
            let mut x = a.left();
            while x < a.right() {
                let cell = &buf[(x, y)];
                row.push_str(cell.symbol());
                // A wide character (a CJK name) takes two columns; the next cell is its shadow.
                x += u16::try_from(unicode_width::UnicodeWidthStr::width(cell.symbol()))
                    .unwrap_or(1)
                    .max(1);
            }
            row.trim_end().to_string()
        })
        .collect()
}

fn emulated(parser: &vt100::Parser) -> Vec<String> {
    let (_, cols) = parser.screen().size();
    parser
        .screen()
        .rows(0, cols.get())
        .map(|r| r.trim_end().to_string())
        .collect()
}

const PAGE_KEYS: [&str; 4] = ["page down", "page up", "home", "end"];

/// How the frames reach the terminal.
#[derive(Clone, Copy)]
enum Way {
    /// ratatui's own `Terminal::draw` (what the app did before the painter).
    Ratatui,
    /// The app's painter, on a terminal that does or does not do the VT220 controls.
    Painter { vt220: bool },
}

impl Way {
    fn name(self) -> &'static str {
        match self {
            Way::Ratatui => "ratatui's flush",
            Way::Painter { vt220: false } => "painter, VT100",
            Way::Painter { vt220: true } => "painter, VT220 (the app)",
        }
    }
}

/// Open the trace of `fanout` and browse it by `script`, drawing the way said: the bytes of
/// opening it, and of each key.
fn browse(
    station: &Local,
    fanout: &lotline_domain::LotCode,
    script: &[(&'static str, KeyCode)],
    way: Way,
    size: (u16, u16),
) -> (usize, Vec<f64>) {
    let (w, h) = size;
    let wire = Wire::default();
    let mut term = terminal(&wire, w, h);
    let mut screen = Screen::new(&wire, w, h);
    if let Way::Painter { vt220 } = way {
        screen.painter = Painter::new(vt220);
    }
    let nz = |n: u16| std::num::NonZeroU16::new(n).expect("a terminal has rows and columns");
    let mut parser = vt100::Parser::new(nz(h), nz(w), 0);
    let now = chrono::Local::now().fixed_offset();
    let mut app = App::new(
        Keymap::default_map(),
        Theme::new(false, false),
        now,
        station,
    );
    // As the app does on a terminal with scroll regions.
    app.scroll_by_row = matches!(way, Way::Painter { vt220: true });
    let mut played = 0;
    // One key: the app's update and, when it says the screen changed, one draw. The bytes
    // it wrote, after checking the emulator's screen against the app's.
    let mut press = |app: &mut App, input: Input, name: &str| -> usize {
        let before = wire.len();
        if app.handle(input, station) {
            let drawn = match way {
                Way::Ratatui => rows_of(term.draw(|f| app.render(f)).expect("draw").buffer),
                Way::Painter { .. } => rows_of(&screen.draw(app)),
            };
            let bytes = wire.0.borrow();
            parser.process(&bytes[played..]);
            played = bytes.len();
            let shown = emulated(&parser);
            if shown != drawn {
                let first = (0..drawn.len()).find(|&i| shown.get(i) != drawn.get(i));
                panic!(
                    "{}: after {name}, the terminal shows something else than the app drew (row {first:?}):\nterminal:\n{}\napp:\n{}",
                    way.name(),
                    shown.join("\n"),
                    drawn.join("\n")
                );
            }
        }
        if std::env::var_os("LOTLINE_BENCH_SHOW").is_some() {
            // What one key wrote, escapes shown: for finding what costs.
            let bytes = wire.0.borrow();
            eprintln!("{name}: {:?}", String::from_utf8_lossy(&bytes[before..]));
        }
        wire.len() - before
    };
    press(&mut app, Input::code(KeyCode::F(5)), "F5");
    for i in Input::typed(fanout.as_str()) {
        press(&mut app, i, "typing");
    }
    let open = press(&mut app, Input::code(KeyCode::Enter), "Enter");
    let keys = script
        .iter()
        .map(|(name, k)| press(&mut app, Input::code(*k), name) as f64)
        .collect();
    (open, keys)
}

fn summary(v: &[f64]) -> serde_json::Value {
    json!({
        "mean": mean(v),
        "p50": pct(&mut v.to_vec(), 0.5),
        "p99": pct(&mut v.to_vec(), 0.99),
        "max": pct(&mut v.to_vec(), 1.0),
    })
}

fn main() {
    let lots = env_u64("LOTLINE_BENCH_LINK_LOTS", 10_000);
    let seed = env_u64("LOTLINE_BENCH_SEED", 1);
    let (db, fanout) = plant(&bench_dir(), lots, seed);
    let (w, h) = (80u16, 24u16);
    let station = Local::new(Store::open(&db, false).expect("open"), "bench", "bench");
    let trace_lots = station
        .trace(fanout.clone(), lotline_domain::Direction::Forward)
        .map(|t| t.lots.len())
        .unwrap_or(0);
    let script = script();
    println!(
        "lotline over a slow link: the forward trace of {fanout} ({trace_lots} lots) at {w}x{h}, {} keys",
        script.len()
    );
    let mut ways = serde_json::Map::new();
    for way in [
        Way::Ratatui,
        Way::Painter { vt220: false },
        Way::Painter { vt220: true },
    ] {
        let (open, all) = browse(&station, &fanout, &script, way, (w, h));
        let mut by_key: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for ((name, _), b) in script.iter().zip(&all) {
            by_key.entry(name).or_default().push(*b);
        }
        // The keys that move by a row or open and close (all but the page and end keys,
        // which bring a whole pane of new rows).
        let rows: Vec<f64> = script
            .iter()
            .zip(&all)
            .filter(|((name, _), _)| !PAGE_KEYS.contains(name))
            .map(|(_, b)| *b)
            .collect();
        println!("  {}", way.name());
        println!("    open the trace        {open:>6} bytes");
        println!(
            "    bytes per key         {:>6.0} mean, {:.0} p50, {:.0} p99, {:.0} max",
            mean(&all),
            pct(&mut all.clone(), 0.5),
            pct(&mut all.clone(), 0.99),
            pct(&mut all.clone(), 1.0)
        );
        println!(
            "    but page/home/end     {:>6.0} mean, {:.0} p50, {:.0} p99, {:.0} max ({} keys)",
            mean(&rows),
            pct(&mut rows.clone(), 0.5),
            pct(&mut rows.clone(), 0.99),
            pct(&mut rows.clone(), 1.0),
            rows.len()
        );
        for (k, v) in &by_key {
            println!(
                "      {k:<22} {:>4} keys {:>6.0} mean {:>6.0} max",
                v.len(),
                mean(v),
                pct(&mut v.clone(), 1.0)
            );
        }
        let kinds: serde_json::Map<String, serde_json::Value> = by_key
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    json!({ "keys": v.len(), "mean": mean(v), "max": pct(&mut v.clone(), 1.0) }),
                )
            })
            .collect();
        ways.insert(
            way.name().into(),
            json!({
                "open_trace_bytes": open,
                "bytes_per_key": summary(&all),
                "bytes_per_row_key": summary(&rows),
                "by_key": kinds,
            }),
        );
    }
    let report = json!({
        "lots": lots,
        "fanout_lot": fanout.as_str(),
        "trace_lots": trace_lots,
        "size": format!("{w}x{h}"),
        "keys": script.len(),
        "ways": ways,
    });
    println!("BENCH_LINK_JSON {report}");
    std::io::stdout().flush().ok();
}
