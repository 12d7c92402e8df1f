//! The painter (`paint.rs`) leaves the terminal showing exactly the frames it was given:
//! its bytes are played into a terminal emulator (vt100) and compared with each frame,
//! cell by cell — text, colours, attributes — over frames made to exercise every way it
//! saves bytes (scrolled lists, text moved sideways, blanked line ends, styles changing,
//! small edits), with and
//! without the VT220 controls. And it does save them: a list scrolled by a row costs a row,
//! not the list.

use crate::paint::{Painter, vt220};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};

const W: u16 = 40;
const H: u16 = 12;

/// A small deterministic generator (xorshift), so failures replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const COLORS: [Color; 8] = [
    Color::Reset,
    Color::Cyan,
    Color::DarkGray,
    Color::White,
    Color::Gray,
    Color::Yellow,
    Color::Indexed(130),
    Color::Rgb(10, 200, 30),
];

fn style(r: &mut Rng) -> Style {
    let mut s = Style::default()
        .fg(COLORS[r.below(8) as usize])
        .bg(if r.below(5) == 0 {
            COLORS[r.below(8) as usize]
        } else {
            Color::Reset
        });
    for m in [
        Modifier::BOLD,
        Modifier::REVERSED,
        Modifier::UNDERLINED,
        Modifier::ITALIC,
    ] {
        if r.below(6) == 0 {
            s = s.add_modifier(m);
        }
    }
    s
}

/// A line of a list: words in a style or two, a box-drawing prefix, often blanks after.
fn line(r: &mut Rng, buf: &mut Buffer, y: u16) {
    let words = [
        "├─▸ B26170-0",
        "DOUGH",
        "(shown above)",
        "│ ",
        "shipped",
        "·",
        "12 lots",
    ];
    let mut x = r.below(4) as u16;
    while x < W - 2 && r.below(7) != 0 {
        let w = words[r.below(words.len() as u64) as usize];
        let (nx, _) = buf.set_stringn(x, y, w, usize::from(W - x), style(r));
        x = nx + r.below(3) as u16;
    }
}

fn frame(r: &mut Rng) -> Buffer {
    let mut b = Buffer::empty(Rect::new(0, 0, W, H));
    for y in 0..H {
        line(r, &mut b, y);
    }
    b
}

/// The next frame: a band of rows moved up or down (a list scrolled), a few rows changed,
/// some cells edited, a line end blanked.
fn next_frame(r: &mut Rng, prev: &Buffer) -> Buffer {
    let mut b = prev.clone();
    let w = usize::from(W);
    if r.below(2) == 0 {
        let top = r.below(u64::from(H) / 2) as u16;
        let bottom = (top + 2 + r.below(u64::from(H - top - 2)) as u16).min(H - 1);
        let by = 1 + r.below(u64::from((bottom - top).min(3))) as u16;
        let up = r.below(2) == 0;
        let rows: Vec<u16> = if up {
            (top..=bottom).collect()
        } else {
            (top..=bottom).rev().collect()
        };
        for y in rows {
            let from = if up { y + by } else { y.wrapping_sub(by) };
            let y = usize::from(y);
            if (usize::from(top)..=usize::from(bottom)).contains(&usize::from(from)) {
                let f = usize::from(from);
                let src = prev.content[f * w..(f + 1) * w].to_vec();
                b.content[y * w..(y + 1) * w].clone_from_slice(&src);
            } else {
                b.content[y * w..(y + 1) * w].fill(ratatui::buffer::Cell::EMPTY);
                line(r, &mut b, y as u16);
            }
        }
    }
    if r.below(2) == 0 {
        // A row whose text moved sideways from a column: a word grew or shrank.
        let y = usize::from(r.below(u64::from(H)) as u16);
        let at = r.below(u64::from(W) / 2) as usize;
        let by = 1 + r.below(6) as usize;
        let row = b.content[y * w..(y + 1) * w].to_vec();
        let mut moved = row[..at].to_vec();
        if r.below(2) == 0 {
            moved.extend(std::iter::repeat_n(ratatui::buffer::Cell::EMPTY, by));
            moved.extend_from_slice(&row[at..w - by]);
        } else {
            moved.extend_from_slice(&row[at + by..]);
            moved.extend(std::iter::repeat_n(ratatui::buffer::Cell::EMPTY, by));
        }
        b.content[y * w..(y + 1) * w].clone_from_slice(&moved);
        b.set_string(at as u16, y as u16, "go to", style(r));
    }
    for _ in 0..r.below(3) {
        let y = r.below(u64::from(H)) as u16;
        let i = usize::from(y) * w;
        b.content[i..i + w].fill(ratatui::buffer::Cell::EMPTY);
        line(r, &mut b, y);
    }
    for _ in 0..r.below(6) {
        let (x, y) = (r.below(u64::from(W)) as u16, r.below(u64::from(H)) as u16);
        b.set_string(x, y, "x", style(r));
    }
    if r.below(3) == 0 {
        let y = r.below(u64::from(H)) as u16;
        let x = r.below(u64::from(W)) as u16;
        for cx in x..W {
            b[(cx, y)] = ratatui::buffer::Cell::EMPTY;
        }
    }
    b
}

fn vt_color(c: Color) -> vt100::Color {
    match c {
        Color::Reset => vt100::Color::Default,
        Color::Black => vt100::Color::Idx(0),
        Color::Red => vt100::Color::Idx(1),
        Color::Green => vt100::Color::Idx(2),
        Color::Yellow => vt100::Color::Idx(3),
        Color::Blue => vt100::Color::Idx(4),
        Color::Magenta => vt100::Color::Idx(5),
        Color::Cyan => vt100::Color::Idx(6),
        Color::Gray => vt100::Color::Idx(7),
        Color::DarkGray => vt100::Color::Idx(8),
        Color::LightRed => vt100::Color::Idx(9),
        Color::LightGreen => vt100::Color::Idx(10),
        Color::LightYellow => vt100::Color::Idx(11),
        Color::LightBlue => vt100::Color::Idx(12),
        Color::LightMagenta => vt100::Color::Idx(13),
        Color::LightCyan => vt100::Color::Idx(14),
        Color::White => vt100::Color::Idx(15),
        Color::Indexed(n) => vt100::Color::Idx(n),
        Color::Rgb(r, g, b) => vt100::Color::Rgb(r, g, b),
    }
}

/// Every cell the emulator shows looks as the frame's: its text, background and the
/// attributes drawn across a cell; for a visible character its colour, bold and italic too.
fn assert_shows(parser: &vt100::Parser, frame: &Buffer, step: usize) {
    let screen = parser.screen();
    for y in 0..H {
        for x in 0..W {
            let want = &frame[(x, y)];
            let got = screen.cell(y, x).expect("a cell");
            let text = if got.has_contents() {
                got.contents()
            } else {
                " "
            };
            let at = format!("step {step}, row {y}, column {x}");
            assert_eq!(text, want.symbol(), "{at}: text");
            let reversed = want.modifier.contains(Modifier::REVERSED);
            assert_eq!(got.bgcolor(), vt_color(want.bg), "{at}: background");
            assert_eq!(got.inverse(), reversed, "{at}: reverse");
            assert_eq!(
                got.underline(),
                want.modifier.contains(Modifier::UNDERLINED),
                "{at}: underline"
            );
            if text != " " || reversed {
                assert_eq!(got.fgcolor(), vt_color(want.fg), "{at}: colour");
            }
            if text != " " {
                assert_eq!(
                    got.bold(),
                    want.modifier.contains(Modifier::BOLD),
                    "{at}: bold"
                );
                assert_eq!(
                    got.italic(),
                    want.modifier.contains(Modifier::ITALIC),
                    "{at}: italic"
                );
            }
        }
    }
}

/// Play 300 frames from `seed`; which of [`VT220_ONLY`] were sent.
fn play(vt220: bool, seed: u64) -> [bool; VT220_ONLY.len()] {
    let mut r = Rng(seed);
    let mut painter = Painter::new(vt220);
    let mut parser = vt100::Parser::new(
        std::num::NonZeroU16::new(H).unwrap(),
        std::num::NonZeroU16::new(W).unwrap(),
        0,
    );
    let mut f = frame(&mut r);
    let mut seen = [false; VT220_ONLY.len()];
    for step in 0..300 {
        let mut bytes = Vec::new();
        let cursor = (r.below(3) == 0).then(|| Position::new(r.below(u64::from(W)) as u16, 2));
        painter.paint(&mut bytes, &f, cursor).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for (i, vt220_only) in VT220_ONLY.iter().enumerate() {
            let sent = text.split('\x1b').any(|seq| {
                seq.starts_with('[')
                    && seq
                        .trim_start_matches(|c: char| c == '[' || c.is_ascii_digit() || c == ';')
                        .starts_with(vt220_only)
            });
            assert!(
                vt220 || !sent,
                "a VT220 control ({vt220_only}) went to a VT100: {text:?}"
            );
            seen[i] |= sent;
        }
        parser.process(&bytes);
        assert_shows(&parser, &f, step);
        assert_eq!(
            parser.screen().hide_cursor(),
            cursor.is_none(),
            "step {step}: cursor"
        );
        if let Some(p) = cursor {
            assert_eq!(
                parser.screen().cursor_position(),
                (p.y, p.x),
                "step {step}: cursor"
            );
        }
        if step % 97 == 96 {
            // A clear (a resize, the app's redraw key): drawn whole again.
            painter.forget();
            parser.process(b"\x1b[31mjunk\x1b[m");
        }
        f = next_frame(&mut r, &f);
    }
    seen
}

/// The VT220 controls the painter may send (ECH, DL, IL, DECSTBM, ICH, DCH), by their
/// final characters.
const VT220_ONLY: [&str; 6] = ["X", "M", "L", "r", "@", "P"];

#[test]
fn the_terminal_shows_every_frame_exactly_with_the_vt220_controls() {
    let mut seen = [false; VT220_ONLY.len()];
    for seed in 1..=6 {
        for (s, now) in seen.iter_mut().zip(play(true, seed * 7919)) {
            *s |= now;
        }
    }
    // Each way of saving bytes was taken, so each was checked.
    assert_eq!(seen, [true; VT220_ONLY.len()], "{VT220_ONLY:?}");
}

#[test]
fn the_terminal_shows_every_frame_exactly_with_plain_vt100() {
    for seed in 1..=6 {
        play(false, seed * 104_729);
    }
}

/// A list of 10 rows scrolled by one: the painter moves the rows with a scroll region and
/// writes the new one; without the VT220 controls (or before) every row is written again.
#[test]
fn a_list_scrolled_by_a_row_costs_a_row() {
    let list = |first: usize| {
        let mut b = Buffer::empty(Rect::new(0, 0, W, H));
        b.set_string(0, 0, "Trace of R26170-001 · forward", Style::default());
        for i in 0..10u16 {
            let k = first + usize::from(i);
            let names = [
                "DOUGH-DANISH (shown above)",
                "SPONGE · 12 lots",
                "COOKIE-CC",
            ];
            b.set_string(
                (k % 3) as u16 * 2,
                i + 1,
                format!("├─▸ B{:05} {}", k * 7919 % 100_000, names[k % 3]),
                Style::default().fg(Color::Gray),
            );
        }
        b.set_string(0, H - 1, "Enter open/close", Style::default());
        b
    };
    let cost = |vt220: bool| {
        let mut p = Painter::new(vt220);
        p.paint(&mut Vec::new(), &list(0), None).unwrap();
        p.paint(&mut Vec::new(), &list(1), None).unwrap()
    };
    let (scrolled, rewritten) = (cost(true), cost(false));
    assert!(scrolled < 110, "{scrolled} bytes to scroll a row");
    assert!(
        rewritten > 3 * scrolled,
        "{rewritten} bytes without scroll regions"
    );
}

#[test]
fn only_terminals_that_say_what_they_are_get_the_vt220_controls() {
    assert!(vt220(Some("xterm-256color")));
    assert!(vt220(Some("screen")));
    assert!(vt220(Some("linux")));
    for t in [None, Some(""), Some("dumb"), Some("vt100")] {
        assert!(!vt220(t), "{t:?}");
    }
}
