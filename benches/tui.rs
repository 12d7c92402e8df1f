//! The terminal app's figures for issue 6: time to open a large database and draw the
//! first frame, and bytes written to the terminal per keystroke while moving through the
//! trace tree of the plant's largest fan-out lot.
//!
//! The app draws through its painter (`crates/tui/src/paint.rs`) into a byte counter, as it
//! draws on a terminal, so the
//! bytes are exactly what an SSH session would carry. Environment, as `benches/trace.rs`:
//! `LOTLINE_BENCH_LOTS` (default 100,000), `LOTLINE_BENCH_SEED` (1), `LOTLINE_BENCH_DIR`.
//! It reuses the database and roots file `cargo bench --bench trace` leaves there, and
//! generates the plant itself when they are missing.

#[path = "common/screen.rs"]
mod screen;

use lotline_station::Local;
use lotline_store::Store;
use lotline_tui::input::Input;
use lotline_tui::theme::Theme;
use lotline_tui::{App, Keymap};
use ratatui::crossterm::event::KeyCode;
use screen::{Screen, Wire, bench_dir, env_u64, mean, pct, plant};
use serde_json::json;
use std::io::Write;
use std::time::{Duration, Instant};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let lots = env_u64("LOTLINE_BENCH_LOTS", 100_000);
    let seed = env_u64("LOTLINE_BENCH_SEED", 1);
    let dir = bench_dir();
    let (db, fanout) = plant(&dir, lots, seed);
    let now = chrono::Local::now().fixed_offset();

    // 1. Open the database and draw the first frame, as `lotline` does at start.
    let mut first = Vec::new();
    let mut first_bytes = 0;
    for _ in 0..7 {
        let bytes = Wire::default();
        let mut term = Screen::new(&bytes, 80, 24);
        let t = Instant::now();
        let station = Local::new(Store::open(&db, false).expect("open"), "bench", "bench");
        let app = App::new(
            Keymap::default_map(),
            Theme::new(false, false),
            now,
            &station,
        );
        term.draw(&app);
        first.push(ms(t.elapsed()));
        first_bytes = bytes.len();
    }
    let first_cold = first[0];

    // 2. Open the fan-out lot's trace and browse it: every key is one update and one draw.
    let bytes = Wire::default();
    let mut term = Screen::new(&bytes, 80, 24);
    let station = Local::new(Store::open(&db, false).expect("open"), "bench", "bench");
    let mut app = App::new(
        Keymap::default_map(),
        Theme::new(false, false),
        now,
        &station,
    );
    // As the app does on a terminal with scroll regions (its painter uses them).
    app.scroll_by_row = true;
    term.draw(&app);
    let mut press = |app: &mut App, input: Input| -> (f64, usize) {
        let before = bytes.len();
        let t = Instant::now();
        if app.handle(input, &station) {
            term.draw(app);
        }
        (ms(t.elapsed()), bytes.len() - before)
    };
    press(&mut app, Input::code(KeyCode::F(5)));
    for i in Input::typed(fanout.as_str()) {
        press(&mut app, i);
    }
    let (open_ms, open_bytes) = press(&mut app, Input::code(KeyCode::Enter));
    let mut key_ms = Vec::new();
    let mut key_bytes = Vec::new();
    let script: Vec<KeyCode> = std::iter::repeat_n(KeyCode::Down, 300)
        .chain(std::iter::repeat_n(KeyCode::PageDown, 30))
        .chain(std::iter::repeat_n(KeyCode::Up, 100))
        .chain(std::iter::repeat_n(KeyCode::PageUp, 10))
        .chain([KeyCode::Home, KeyCode::End, KeyCode::Home])
        .collect();
    for k in &script {
        let (t, b) = press(&mut app, Input::code(*k));
        key_ms.push(t);
        key_bytes.push(b as f64);
    }
    let (expand_ms, expand_bytes) = press(&mut app, Input::code(KeyCode::Char('e')));
    let mut expanded_ms = Vec::new();
    let mut expanded_bytes = Vec::new();
    for _ in 0..200 {
        let (t, b) = press(&mut app, Input::code(KeyCode::Down));
        expanded_ms.push(t);
        expanded_bytes.push(b as f64);
    }
    if std::env::var_os("LOTLINE_BENCH_KEYS").is_some() {
        eprintln!("bytes per key: {:?}", &key_bytes[..40]);
    }
    let report = json!({
        "lots": lots,
        "db_bytes": std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0),
        "fanout_lot": fanout.as_str(),
        "first_frame_ms": { "first": first_cold, "p50": pct(&mut first.clone(), 0.5), "max": pct(&mut first.clone(), 1.0) },
        "first_frame_bytes": first_bytes,
        "open_fanout_trace": { "ms": open_ms, "bytes": open_bytes },
        "browse_keys": script.len(),
        "bytes_per_key": { "mean": mean(&key_bytes), "p99": pct(&mut key_bytes.clone(), 0.99), "max": pct(&mut key_bytes.clone(), 1.0) },
        "ms_per_key": { "p50": pct(&mut key_ms.clone(), 0.5), "p99": pct(&mut key_ms.clone(), 0.99) },
        "expand_all": { "ms": expand_ms, "bytes": expand_bytes },
        "expanded_bytes_per_key": { "mean": mean(&expanded_bytes), "p99": pct(&mut expanded_bytes.clone(), 0.99) },
        "expanded_ms_per_key": { "p50": pct(&mut expanded_ms.clone(), 0.5), "p99": pct(&mut expanded_ms.clone(), 0.99) },
    });
    println!("lotline TUI at {lots} lots (fan-out lot {fanout}), 80x24");
    println!(
        "  open database + first frame   {:>8.1} ms first, {:.1} ms p50 ({} bytes)",
        first_cold,
        report["first_frame_ms"]["p50"].as_f64().unwrap_or(0.0),
        first_bytes
    );
    println!(
        "  open the fan-out lot's trace  {:>8.1} ms ({open_bytes} bytes)",
        open_ms
    );
    println!(
        "  browse, {} keys               {:>8.0} bytes/key mean, {:.0} p99; {:.2} ms/key p99",
        script.len(),
        mean(&key_bytes),
        report["bytes_per_key"]["p99"].as_f64().unwrap_or(0.0),
        report["ms_per_key"]["p99"].as_f64().unwrap_or(0.0)
    );
    println!(
        "  expand all                    {:>8.1} ms ({expand_bytes} bytes)",
        expand_ms
    );
    println!(
        "  browse expanded, 200 keys     {:>8.0} bytes/key mean, {:.0} p99; {:.2} ms/key p99",
        mean(&expanded_bytes),
        report["expanded_bytes_per_key"]["p99"]
            .as_f64()
            .unwrap_or(0.0),
        report["expanded_ms_per_key"]["p99"].as_f64().unwrap_or(0.0)
    );
    println!("BENCH_TUI_JSON {report}");
    std::io::stdout().flush().ok();
}
