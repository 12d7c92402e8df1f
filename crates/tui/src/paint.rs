//! Frames to the terminal in as few bytes as it takes, for handhelds on slow links (SSH over
//! a plant's Wi-Fi): docs/tui.md, "Over slow links".
//!
//! ratatui's own flush already writes only the cells that changed, but pays for each one
//! more than it must: a cursor move to skip one unchanged cell, both colours in their
//! 256-colour form (`ESC[38;5;8;49m`) at every change of either, spaces to blank the end of
//! a line, and a list scrolled by one row rewritten whole. [`Painter`] keeps what the
//! terminal shows and writes the difference with:
//!
//! - the shortest way to each change: the cells in between written again when that is
//!   shorter than a cursor move, a move forward on the same row (`CUF`) otherwise;
//! - the least SGR: only what changed, in the 16-colour forms (`ESC[90m`) the theme's
//!   colours have;
//! - blanks erased rather than written: `EL` to the end of the line, `ECH` for a run;
//! - scroll regions: when rows moved up or down together (a list scrolled), the terminal
//!   moves them (a region set with `DECSTBM`, then `DL`/`IL` at its top: VT102's line
//!   deletion and insertion, which every VT220 has, where `SU`/`SD` came only with the
//!   VT420) and only what is new is written;
//! - text that moved sideways on its row (a key hint that grew by a word) is shifted by the
//!   terminal (`ICH`, `DCH`) when that is shorter than writing it again.
//!
//! Every frame is encoded with and without its best scroll and the shorter is sent, so a
//! scroll is used only where it saves bytes, and so is each row's shift. `ECH`, `ICH`,
//! `DCH`, `IL`/`DL` and `DECSTBM` are used only
//! when the terminal is known to have them ([`Painter::new`]); the rest is plain VT100.
//! Tests play the bytes into a terminal emulator and compare it with the frames, cell by
//! cell (`crates/tui/src/tests/paint.rs`); `cargo bench --bench link` measures the bytes
//! per key.

use ratatui::buffer::{Buffer, Cell, CellDiffOption};
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier};
use std::io::{self, Write};
use unicode_width::UnicodeWidthStr;

/// Whether a terminal named `term` (`$TERM`) does the VT220 controls the painter may use
/// (`DECSTBM`, `IL`/`DL`, `ECH`, `ICH`, `DCH`): every terminal and emulator in use does (xterm and its
/// kin, the Linux console, tmux, screen, PuTTY, RF terminal emulators), but a terminal
/// that did not say what it is, or says it is dumb, gets plain VT100 only.
pub fn vt220(term: Option<&str>) -> bool {
    match term {
        None => false,
        Some(t) => !matches!(
            t.trim(),
            "" | "dumb" | "unknown" | "vt100" | "vt102" | "ansi"
        ),
    }
}

/// The pen: the style the terminal writes with now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pen {
    fg: Color,
    bg: Color,
    mods: Modifier,
}

impl Pen {
    const PLAIN: Pen = Pen {
        fg: Color::Reset,
        bg: Color::Reset,
        mods: Modifier::empty(),
    };

    fn of(cell: &Cell) -> Pen {
        Pen {
            fg: cell.fg,
            bg: cell.bg,
            mods: cell.modifier,
        }
    }
}

/// What the terminal shows, as far as this painter knows, and how it draws the next frame.
#[derive(Debug, Clone)]
pub struct Painter {
    /// The last frame drawn; `None`: unknown (first frame, after a clear or a resize), so the
    /// next one clears the screen and is drawn whole.
    shown: Option<Buffer>,
    /// Whether the cursor shows; `None`: unknown.
    cursor_shown: Option<bool>,
    vt220: bool,
}

impl Painter {
    /// A painter for a terminal that does the VT220 controls or not ([`vt220`]).
    pub fn new(vt220: bool) -> Painter {
        Painter {
            shown: None,
            cursor_shown: None,
            vt220,
        }
    }

    /// What the terminal shows is no longer known (it was cleared, resized, or written to
    /// by someone else): the next frame clears it and is drawn whole.
    pub fn forget(&mut self) {
        self.shown = None;
        self.cursor_shown = None;
    }

    /// Bring the terminal from what it shows to `next`, the cursor at `cursor` (hidden when
    /// `None`), in one write to `out`. Returns the bytes written. `next` covers the
    /// terminal from its top left corner, as the app's frames do.
    pub fn paint(
        &mut self,
        out: &mut impl Write,
        next: &Buffer,
        cursor: Option<Position>,
    ) -> io::Result<usize> {
        let mut bytes = Vec::with_capacity(2048);
        let prev = match self.shown.take() {
            Some(b) if b.area == next.area => b,
            _ => {
                // Plain pen, home, erase the screen: what was there is gone.
                bytes.extend_from_slice(b"\x1b[m\x1b[H\x1b[2J");
                Buffer::empty(next.area)
            }
        };
        let plain = encode(&prev, next, None, self.vt220);
        let scrolled = if self.vt220 {
            best_scroll(&prev, next).map(|s| encode(&prev, next, Some(s), true))
        } else {
            None
        };
        match scrolled {
            Some(s) if s.len() < plain.len() => bytes.extend_from_slice(&s),
            _ => bytes.extend_from_slice(&plain),
        }
        match cursor {
            Some(p) => {
                cup(&mut bytes, p.x - next.area.x, p.y - next.area.y);
                if self.cursor_shown != Some(true) {
                    bytes.extend_from_slice(b"\x1b[?25h");
                }
            }
            None => {
                if self.cursor_shown != Some(false) {
                    bytes.extend_from_slice(b"\x1b[?25l");
                }
            }
        }
        self.cursor_shown = Some(cursor.is_some());
        out.write_all(&bytes)?;
        out.flush()?;
        self.shown = Some(next.clone());
        Ok(bytes.len())
    }
}

/// Rows that moved together: the terminal scrolls `top..=bottom` (frame rows) by `by`
/// rows, up when `up` (what was at row `r + by` comes to `r`), and the rows it uncovers
/// are blank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scroll {
    top: u16,
    bottom: u16,
    by: u16,
    up: bool,
}

impl Scroll {
    /// What the terminal shows after the scroll, from what it showed.
    fn apply(&self, prev: &Buffer) -> Buffer {
        let mut b = prev.clone();
        let a = prev.area;
        let w = usize::from(a.width);
        let row = |y: u16| usize::from(y) * w..usize::from(y + 1) * w;
        let rows: Vec<u16> = if self.up {
            (self.top..=self.bottom).collect()
        } else {
            (self.top..=self.bottom).rev().collect()
        };
        for y in rows {
            let from = if self.up {
                y.checked_add(self.by).filter(|f| *f <= self.bottom)
            } else {
                y.checked_sub(self.by).filter(|f| *f >= self.top)
            };
            match from {
                Some(f) => {
                    let src = prev.content[row(f)].to_vec();
                    b.content[row(y)].clone_from_slice(&src);
                }
                None => b.content[row(y)].fill(Cell::EMPTY),
            }
        }
        b
    }
}

/// Cells of row `y` of `a` and row `z` of `b` that are the same.
fn same_cells(a: &Buffer, y: u16, b: &Buffer, z: u16) -> i64 {
    let w = usize::from(a.area.width);
    let ra = &a.content[usize::from(y) * w..usize::from(y + 1) * w];
    let rb = &b.content[usize::from(z) * w..usize::from(z + 1) * w];
    ra.iter().zip(rb).filter(|(p, q)| p == q).count() as i64
}

/// The scroll that would leave the most cells already right, if any leaves more than a
/// few more than no scroll at all: for each distance and direction, the band of rows where
/// the moved rows match `next` better than the rows in place (the best run of gains), with
/// the rows it uncovers counted as blank.
fn best_scroll(prev: &Buffer, next: &Buffer) -> Option<Scroll> {
    let h = prev.area.height;
    if h < 3 {
        return None;
    }
    let blank = Buffer::empty(Rect::new(0, 0, prev.area.width, 1));
    let in_place: Vec<i64> = (0..h).map(|y| same_cells(next, y, prev, y)).collect();
    // What a row uncovered by the scroll (blank) gains over the row in place.
    let uncover: Vec<i64> = (0..h)
        .map(|y| same_cells(next, y, &blank, 0) - in_place[usize::from(y)])
        .collect();
    let mut best: Option<(i64, Scroll)> = None;
    for by in 1..h - 1 {
        for up in [true, false] {
            // Gains of rows `y` that would show old row `y ± by`.
            let gain = |y: u16| -> Option<i64> {
                let from = if up {
                    y.checked_add(by).filter(|f| *f < h)?
                } else {
                    y.checked_sub(by)?
                };
                Some(same_cells(next, y, prev, from) - in_place[usize::from(y)])
            };
            // The best run of moved rows (Kadane's), then the rows the scroll uncovers.
            let (mut run, mut start) = (0i64, None::<u16>);
            for y in 0..h {
                let Some(g) = gain(y) else {
                    run = 0;
                    start = None;
                    continue;
                };
                if start.is_none() || run <= 0 {
                    run = 0;
                    start = Some(y);
                }
                run += g;
                let first = start.unwrap_or(y);
                let s = if up {
                    Scroll {
                        top: first,
                        bottom: y + by,
                        by,
                        up,
                    }
                } else {
                    Scroll {
                        top: first - by,
                        bottom: y,
                        by,
                        up,
                    }
                };
                let uncovered: i64 = if up {
                    uncover[usize::from(y + 1)..=usize::from(y + by)]
                        .iter()
                        .sum()
                } else {
                    uncover[usize::from(first - by)..usize::from(first)]
                        .iter()
                        .sum()
                };
                let total = run + uncovered;
                if total > 8 && best.is_none_or(|(b, _)| total > b) {
                    best = Some((total, s));
                }
            }
        }
    }
    best.map(|(_, s)| s)
}

/// The bytes that bring a terminal showing `prev` (with a plain pen) to `next`, scrolling
/// first if told; the pen is plain again at the end.
fn encode(prev: &Buffer, next: &Buffer, scroll: Option<Scroll>, vt220: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    let moved;
    let prev = match scroll {
        Some(s) => {
            // The region; at its top, lines deleted (the rest move up, blanks come in at
            // the bottom) or inserted (down); the region back to the whole screen. The
            // cursor is left at home by DECSTBM: every change below begins with a move.
            let _ = write!(out, "\x1b[{};{}r", s.top + 1, s.bottom + 1);
            cup(&mut out, 0, s.top);
            let _ = write!(out, "\x1b[{}{}", s.by, if s.up { 'M' } else { 'L' });
            out.extend_from_slice(b"\x1b[r");
            moved = s.apply(prev);
            &moved
        }
        None => prev,
    };
    let mut w = Writer {
        out,
        pen: Pen::PLAIN,
        at: None,
        width: next.area.width,
        vt220,
    };
    let changes = prev.diff(next);
    let mut i = 0;
    while i < changes.len() {
        let y = changes[i].1;
        let mut j = i;
        while j < changes.len() && changes[j].1 == y {
            j += 1;
        }
        let simple = simple_row(prev, y) && simple_row(next, y);
        let mut best = w.fork();
        best.row(next, y, &changes[i..j], simple);
        // Text that moved sideways on its row (a word grew or shrank before it): the
        // terminal shifts it (DCH, ICH) and only the difference is written, when shorter.
        if vt220
            && simple
            && let Some(shift) = best_shift(prev, next, y)
        {
            let mut t = w.fork();
            let shifted = shift.apply(prev, y);
            let cell = |x: u16| &next[(next.area.x + x, next.area.y + y)];
            t.go(shift.at, y, cell, true);
            t.set_pen(Pen::PLAIN);
            let _ = write!(
                t.out,
                "\x1b[{}{}",
                shift.by,
                if shift.insert { '@' } else { 'P' }
            );
            let left: Vec<(u16, u16, &Cell)> = (0..next.area.width)
                .filter(|&x| shifted[usize::from(x)] != *cell(x))
                .map(|x| (next.area.x + x, y, cell(x)))
                .collect();
            t.row(next, y, &left, true);
            if t.out.len() < best.out.len() {
                best = t;
            }
        }
        w.join(best);
        i = j;
    }
    if w.pen != Pen::PLAIN {
        w.out.extend_from_slice(b"\x1b[m");
    }
    w.out
}

/// Text of a row moved sideways from column `at`: `by` columns right (`insert`: ICH puts
/// blanks at `at`) or left (DCH drops the cells at `at`, blanks come in at the right).
#[derive(Debug, Clone, Copy)]
struct Shift {
    at: u16,
    by: u16,
    insert: bool,
}

impl Shift {
    /// Row `y` of `prev` as the terminal shows it after the shift.
    fn apply(&self, prev: &Buffer, y: u16) -> Vec<Cell> {
        let w = usize::from(prev.area.width);
        let row = &prev.content[usize::from(y) * w..usize::from(y + 1) * w];
        let (at, by) = (usize::from(self.at), usize::from(self.by));
        let mut out = row[..at].to_vec();
        if self.insert {
            out.extend(std::iter::repeat_n(Cell::EMPTY, by));
            out.extend_from_slice(&row[at..w - by]);
        } else {
            out.extend_from_slice(&row[at + by..]);
            out.extend(std::iter::repeat_n(Cell::EMPTY, by));
        }
        out
    }
}

/// The sideways shift of row `y`, from its first changed column, by up to 8 columns, that
/// leaves the most cells right, if it leaves several more right than none.
fn best_shift(prev: &Buffer, next: &Buffer, y: u16) -> Option<Shift> {
    let w = usize::from(prev.area.width);
    let old = &prev.content[usize::from(y) * w..usize::from(y + 1) * w];
    let new = &next.content[usize::from(y) * w..usize::from(y + 1) * w];
    let at = old.iter().zip(new).position(|(a, b)| a != b)?;
    let same = |row: &[Cell]| row.iter().zip(new).filter(|(a, b)| a == b).count();
    let now = same(old);
    let mut best: Option<(usize, Shift)> = None;
    for by in 1..=8usize.min(w - at - 1) {
        for insert in [true, false] {
            let s = Shift {
                at: u16::try_from(at).ok()?,
                by: u16::try_from(by).ok()?,
                insert,
            };
            let n = same(&s.apply(prev, y));
            if n >= now + 6 && best.is_none_or(|(b, _)| n > b) {
                best = Some((n, s));
            }
        }
    }
    best.map(|(_, s)| s)
}

/// Whether a row of `b` is one cell a column: no wide characters, nothing skipped. Only in
/// such rows are cells written again to save a move, and blanks erased.
fn simple_row(b: &Buffer, y: u16) -> bool {
    let w = usize::from(b.area.width);
    b.content[usize::from(y) * w..usize::from(y + 1) * w]
        .iter()
        .all(|c| c.diff_option == CellDiffOption::None && c.symbol().width() <= 1)
}

fn is_blank(c: &Cell) -> bool {
    c.symbol() == " " && Pen::of(c) == Pen::PLAIN
}

struct Writer {
    out: Vec<u8>,
    pen: Pen,
    /// Where the cursor is (frame columns and rows), when known.
    at: Option<(u16, u16)>,
    width: u16,
    /// `ECH` may be used.
    vt220: bool,
}

impl Writer {
    /// A writer that goes on from where this one is, into its own bytes (to try a way).
    fn fork(&self) -> Writer {
        Writer {
            out: Vec::new(),
            pen: self.pen,
            at: self.at,
            width: self.width,
            vt220: self.vt220,
        }
    }

    /// Take what `other`, forked from this one, wrote, and its state.
    fn join(&mut self, other: Writer) {
        self.out.extend_from_slice(&other.out);
        self.pen = other.pen;
        self.at = other.at;
    }

    /// Write the changes of row `y` (from `prev.diff(next)`, left to right); `simple`: the
    /// row is one cell a column before and after ([`simple_row`]).
    fn row(&mut self, next: &Buffer, y: u16, changes: &[(u16, u16, &Cell)], simple: bool) {
        let cell = |x: u16| &next[(next.area.x + x, next.area.y + y)];
        let mut k = 0;
        while k < changes.len() {
            let (x, _, c) = changes[k];
            let x = x - next.area.x;
            if simple && is_blank(c) {
                // A run of blanks to come (changed or not): erased, not written.
                let mut end = x;
                while end < self.width && is_blank(cell(end)) {
                    end += 1;
                }
                let n = end - x;
                let to_eol = end == self.width;
                if to_eol || (self.vt220 && n >= 8) {
                    self.go(x, y, cell, simple);
                    self.set_pen(Pen::PLAIN);
                    if to_eol {
                        self.out.extend_from_slice(b"\x1b[K");
                    } else {
                        let _ = write!(self.out, "\x1b[{n}X");
                    }
                    // ECH and EL leave the cursor where it was.
                    while k < changes.len() && changes[k].0 - next.area.x < end {
                        k += 1;
                    }
                    continue;
                }
            }
            self.go(x, y, cell, simple);
            self.put(c);
            k += 1;
        }
    }

    /// Move to column `x` of row `y` the shortest way: writing the cells in between again
    /// (in a simple row) when that is shorter than a move.
    fn go<'a>(&mut self, x: u16, y: u16, cell: impl Fn(u16) -> &'a Cell, simple: bool) {
        if let Some((cx, cy)) = self.at {
            if cy == y && cx == x {
                return;
            }
            if cy == y && cx < x {
                let mut by_move = Vec::new();
                cuf(&mut by_move, x - cx);
                if simple {
                    let mut again = self.fork();
                    for gx in cx..x {
                        again.put(cell(gx));
                    }
                    if again.out.len() <= by_move.len() {
                        self.out.extend_from_slice(&again.out);
                        self.pen = again.pen;
                        self.at = Some((x, y));
                        return;
                    }
                }
                self.out.extend_from_slice(&by_move);
                self.at = Some((x, y));
                return;
            }
        }
        cup(&mut self.out, x, y);
        self.at = Some((x, y));
    }

    fn put(&mut self, c: &Cell) {
        // A space shows only its background (and the few attributes drawn across a cell):
        // one the pen already draws the same is written without changing the pen.
        if !(c.symbol() == " " && looks_blank_with(self.pen, Pen::of(c))) {
            self.set_pen(Pen::of(c));
        }
        self.out.extend_from_slice(c.symbol().as_bytes());
        let w = u16::try_from(c.symbol().width()).unwrap_or(1).max(1);
        self.at = self.at.map(|(x, y)| (x + w, y));
        if let Some((x, _)) = self.at
            && x >= self.width
        {
            // At the right margin terminals differ (pending wrap): place it anew.
            self.at = None;
        }
    }

    /// Change the pen with the least SGR: only what changed; all off and back on when an
    /// attribute goes.
    fn set_pen(&mut self, to: Pen) {
        if to == self.pen {
            return;
        }
        let mut params: Vec<String> = Vec::new();
        let from = if self.pen.mods.difference(to.mods).is_empty() {
            self.pen
        } else {
            params.push("0".into());
            Pen::PLAIN
        };
        for (m, code) in [
            (Modifier::BOLD, "1"),
            (Modifier::DIM, "2"),
            (Modifier::ITALIC, "3"),
            (Modifier::UNDERLINED, "4"),
            (Modifier::SLOW_BLINK, "5"),
            (Modifier::RAPID_BLINK, "6"),
            (Modifier::REVERSED, "7"),
            (Modifier::HIDDEN, "8"),
            (Modifier::CROSSED_OUT, "9"),
        ] {
            if to.mods.contains(m) && !from.mods.contains(m) {
                params.push(code.into());
            }
        }
        if to.fg != from.fg {
            params.push(color(to.fg, false));
        }
        if to.bg != from.bg {
            params.push(color(to.bg, true));
        }
        if params.len() == 1 && params[0] == "0" {
            self.out.extend_from_slice(b"\x1b[m");
        } else {
            let _ = write!(self.out, "\x1b[{}m", params.join(";"));
        }
        self.pen = to;
    }
}

/// Whether a space written with `pen` looks as one written with `want`: the same
/// background, the same attributes drawn across a cell, and, reversed, the same foreground
/// (which a reversed cell shows as its background).
fn looks_blank_with(pen: Pen, want: Pen) -> bool {
    let seen = Modifier::REVERSED | Modifier::UNDERLINED | Modifier::CROSSED_OUT;
    pen.bg == want.bg
        && pen.mods & seen == want.mods & seen
        && (!want.mods.contains(Modifier::REVERSED) || pen.fg == want.fg)
}

/// The SGR parameters of a colour: the 16 named ones in their short forms.
fn color(c: Color, bg: bool) -> String {
    let base = |n: u8| -> String {
        // 30–37 and 90–97 (foreground), 40–47 and 100–107 (background).
        let (lo, hi) = if bg { (40, 100) } else { (30, 90) };
        if n < 8 {
            (lo + u16::from(n)).to_string()
        } else {
            (hi + u16::from(n - 8)).to_string()
        }
    };
    let lead = if bg { 48 } else { 38 };
    match c {
        Color::Reset => (if bg { "49" } else { "39" }).into(),
        Color::Black => base(0),
        Color::Red => base(1),
        Color::Green => base(2),
        Color::Yellow => base(3),
        Color::Blue => base(4),
        Color::Magenta => base(5),
        Color::Cyan => base(6),
        Color::Gray => base(7),
        Color::DarkGray => base(8),
        Color::LightRed => base(9),
        Color::LightGreen => base(10),
        Color::LightYellow => base(11),
        Color::LightBlue => base(12),
        Color::LightMagenta => base(13),
        Color::LightCyan => base(14),
        Color::White => base(15),
        Color::Indexed(n) if n < 16 => base(n),
        Color::Indexed(n) => format!("{lead};5;{n}"),
        Color::Rgb(r, g, b) => format!("{lead};2;{r};{g};{b}"),
    }
}

/// Cursor to column `x`, row `y` (from 0).
fn cup(out: &mut Vec<u8>, x: u16, y: u16) {
    if x == 0 {
        let _ = write!(out, "\x1b[{}H", y + 1);
    } else {
        let _ = write!(out, "\x1b[{};{}H", y + 1, x + 1);
    }
}

/// Cursor forward `n` columns on its row.
fn cuf(out: &mut Vec<u8>, n: u16) {
    if n == 1 {
        out.extend_from_slice(b"\x1b[C");
    } else {
        let _ = write!(out, "\x1b[{n}C");
    }
}
