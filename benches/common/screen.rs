//! What the terminal benches share: a generated plant and its largest fan-out lot, and a
//! terminal of a fixed size whose every byte is kept, drawn by ratatui's real crossterm
//! backend, so the bytes are exactly what an SSH session would carry.
#![allow(dead_code)]

use lotline_domain::LotCode;
use lotline_store::Store;
use lotline_store::plantgen::{self, Spec};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Keeps what the app writes to the terminal.
#[derive(Clone, Default)]
pub struct Wire(pub Rc<RefCell<Vec<u8>>>);

impl Wire {
    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }
}

impl Write for Wire {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The benches' folder: `LOTLINE_BENCH_DIR`, else one under cargo's target.
pub fn bench_dir() -> PathBuf {
    let dir = std::env::var_os("LOTLINE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("lotline-bench"));
    std::fs::create_dir_all(&dir).expect("bench dir");
    dir
}

/// The database of `lots` lots and its largest fan-out lot: one `cargo bench --bench trace`
/// left in `dir`, or a new one.
pub fn plant(dir: &Path, lots: u64, seed: u64) -> (PathBuf, LotCode) {
    let db = dir.join(format!("plant-{lots}-{seed}.redb"));
    let roots = dir.join(format!("roots-{lots}-{seed}.txt"));
    if db.exists()
        && let Ok(text) = std::fs::read_to_string(&roots)
        && let Some(code) = text.lines().find_map(|l| l.strip_prefix("fanout "))
    {
        return (
            db,
            LotCode::parse(code, "fanout").expect("roots file lot code"),
        );
    }
    let _ = std::fs::remove_file(&db);
    eprintln!("generating {lots} lots into {} ...", db.display());
    let store = Store::open(&db, true).expect("create db");
    let sum = plantgen::generate(
        &store,
        &Spec {
            seed,
            ..Spec::new(lots)
        },
        &mut |_| {},
    )
    .expect("generate");
    let fanout = sum
        .fanout_lot
        .expect("the generated plant has a fan-out lot");
    std::fs::write(&roots, format!("fanout {fanout}\n")).expect("write roots");
    (db, fanout)
}

/// A terminal of `w` x `h` the app draws on as it does on a real one: through its painter.
pub struct Screen {
    wire: Wire,
    pub painter: lotline_tui::paint::Painter,
    area: Rect,
}

impl Screen {
    pub fn new(wire: &Wire, w: u16, h: u16) -> Screen {
        Screen {
            wire: wire.clone(),
            painter: lotline_tui::paint::Painter::new(true),
            area: Rect::new(0, 0, w, h),
        }
    }

    /// Draw the app's frame; the frame.
    pub fn draw(&mut self, app: &lotline_tui::App) -> ratatui::buffer::Buffer {
        let mut frame = ratatui::buffer::Buffer::empty(self.area);
        let cursor = app.draw(&mut frame, self.area);
        self.painter
            .paint(&mut self.wire, &frame, cursor)
            .expect("paint");
        frame
    }
}

/// A terminal drawn by ratatui's own `Terminal::draw` (what the app did before its painter).
pub fn terminal(wire: &Wire, w: u16, h: u16) -> Terminal<CrosstermBackend<Wire>> {
    Terminal::with_options(
        CrosstermBackend::new(wire.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
        },
    )
    .expect("terminal")
}

/// The `p` quantile of `v` (sorted in place).
pub fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}
