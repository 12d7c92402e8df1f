//! Small drawing helpers that never index outside the buffer: every write is clipped to
//! an area and to the buffer, so any terminal size, down to 0x0, is safe.

use super::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::{Block, Borders, Widget};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Display width of `s` in terminal cells.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` cut to at most `max` cells, ending in `ell` when something was cut.
pub fn fit(s: &str, max: usize, ell: &str) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let ew = width(ell);
    if max <= ew {
        return take(s, max);
    }
    let mut out = take(s, max - ew);
    out.push_str(ell);
    out
}

/// The first `max` cells of `s`.
pub fn take(s: &str, max: usize) -> String {
    let mut w = 0;
    let mut out = String::new();
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw > max {
            break;
        }
        w += cw;
        out.push(c);
    }
    out
}

/// Word-wrap `s` into lines of at most `max` columns; a word longer than a line is cut
/// into pieces. Never returns an empty list.
pub fn wrap(s: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in s.split(' ') {
        let mut word = word.to_string();
        loop {
            let room = if cur.is_empty() {
                max
            } else {
                max.saturating_sub(width(&cur) + 1)
            };
            if width(&word) <= room {
                if !cur.is_empty() {
                    cur.push(' ');
                }
                cur.push_str(&word);
                break;
            }
            if cur.is_empty() {
                // A word wider than a whole line: as much as fits, the rest below.
                let head = take(&word, max);
                word = word[head.len()..].to_string();
                lines.push(head);
            } else {
                lines.push(std::mem::take(&mut cur));
            }
        }
    }
    lines.push(cur);
    lines
}

/// `s` padded with spaces (or cut) to exactly `n` cells.
pub fn pad(s: &str, n: usize) -> String {
    let mut t = take(s, n);
    let w = width(&t);
    t.extend(std::iter::repeat_n(' ', n.saturating_sub(w)));
    t
}

/// `s` right-aligned in `n` cells.
pub fn rpad(s: &str, n: usize) -> String {
    let t = take(s, n);
    let w = width(&t);
    format!("{}{t}", " ".repeat(n.saturating_sub(w)))
}

/// Write `s` at (x, y), clipped to `clip` and the buffer. Returns the x after the text.
pub fn put(buf: &mut Buffer, clip: Rect, x: u16, y: u16, s: &str, style: Style) -> u16 {
    let clip = clip.intersection(buf.area);
    if clip.is_empty()
        || y < clip.top()
        || y >= clip.bottom()
        || x >= clip.right()
        || x < clip.left()
    {
        return x;
    }
    let room = (clip.right() - x) as usize;
    let (nx, _) = buf.set_stringn(x, y, s, room, style);
    nx
}

/// Every cell of `area` that shows something not ASCII shows its one-cell ASCII look-alike
/// instead (a wide character's first cell; the cells after it are blank already).
pub fn ascii_cells(buf: &mut Buffer, area: Rect) {
    let area = area.intersection(buf.area);
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            if let Some(c) = buf.cell_mut((x, y))
                && !c.symbol().is_ascii()
            {
                let folded = c.symbol().chars().next().map(super::theme::fold_char);
                c.set_char(folded.unwrap_or('?'));
            }
        }
    }
}

/// Every cell of `area` holding a character that must not reach a terminal raw (the rule
/// of [`lotline_domain::text::is_unsafe`]: controls, bidi overrides, zero-width
/// characters, as old records or a scan may hold) shows `?` instead. Runs on the whole
/// frame, so no screen can forget it.
pub fn safe_cells(buf: &mut Buffer, area: Rect) {
    let area = area.intersection(buf.area);
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            if let Some(c) = buf.cell_mut((x, y))
                && lotline_domain::text::has_unsafe(c.symbol())
            {
                c.set_char('?');
            }
        }
    }
}

/// Set the style of every cell of `area` (clipped to the buffer).
pub fn fill(buf: &mut Buffer, area: Rect, style: Style) {
    let area = area.intersection(buf.area);
    if !area.is_empty() {
        buf.set_style(area, style);
    }
}

/// Clear `area` to blanks in `style`.
pub fn clear(buf: &mut Buffer, area: Rect, style: Style) {
    let area = area.intersection(buf.area);
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            if let Some(c) = buf.cell_mut((x, y)) {
                c.reset();
                c.set_style(style);
            }
        }
    }
}

/// A bordered box with a title; returns the inside.
pub fn boxed(buf: &mut Buffer, area: Rect, title: &str, theme: &Theme) -> Rect {
    let area = area.intersection(buf.area);
    if area.width < 2 || area.height < 2 {
        return Rect::new(area.x, area.y, 0, 0);
    }
    clear(buf, area, Style::new());
    let title = fit(
        title,
        area.width.saturating_sub(2) as usize,
        theme.ellipsis(),
    );
    let block = Block::new()
        .borders(Borders::ALL)
        .border_set(theme.borders)
        .border_style(theme.border)
        .title(title)
        .title_style(theme.title);
    let inner = block.inner(area);
    block.render(area, buf);
    inner
}

/// The first row to show of a list of `len` rows in a window `height` rows high, given the
/// previous first row and the selected row. While the selection stays in view nothing
/// moves; when it leaves, the window jumps to centre it — unless `by_row` (the terminal
/// scrolls regions: `paint.rs`) and it left by a row or two, when the window follows it by
/// as much. Without scroll regions, scrolling one row per key rewrites every row of the
/// window on every key, most of the bytes a keystroke costs over SSH; a jump costs that
/// once per half page. With them, a row scrolled costs one row, and a jump half a window
/// at once (`cargo bench --bench link`).
pub fn scroll(first: usize, selected: usize, height: usize, len: usize, by_row: bool) -> usize {
    if height == 0 {
        return 0;
    }
    let first = if by_row && selected < first && first - selected <= 2 {
        selected
    } else if by_row && selected >= first + height && selected - (first + height) < 2 {
        selected + 1 - height
    } else if selected < first || selected >= first + height {
        selected.saturating_sub(height / 2)
    } else {
        first
    };
    first.min(len.saturating_sub(height))
}

/// What a pane that shows rows `first..first + shown` of `len` says about the rest:
/// "↓ more" when rows are hidden below, "↑ more" above, "↑↓ more" both ways (ASCII "v",
/// "^", "^v" under `ascii`), after the position "3/12" when `at` (0-based) is given.
/// None when everything is in view and no position is asked for.
pub fn more_label(
    first: usize,
    shown: usize,
    len: usize,
    at: Option<usize>,
    ascii: bool,
) -> Option<String> {
    if len <= shown {
        return None;
    }
    let above = first > 0;
    let below = first.saturating_add(shown) < len;
    let arrows = match (above, below, ascii) {
        (true, true, false) => "↑↓ more",
        (true, true, true) => "^v more",
        (false, true, false) => "↓ more",
        (false, true, true) => "v more",
        (true, false, false) => "↑ more",
        (true, false, true) => "^ more",
        (false, false, _) => "",
    };
    let pos = at.map(|a| format!("{}/{len}", a.min(len.saturating_sub(1)) + 1));
    let text = [pos.as_deref().unwrap_or(""), arrows]
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!text.is_empty()).then_some(text)
}

/// The marker of a boxed pane that holds more than it shows, on its bottom border at the
/// right (see [`more_label`]), so no row of content is given up for it. `boxed` is the
/// box's outer rect. One helper for every pane, so every pane says it the same way.
pub fn more(
    buf: &mut Buffer,
    boxed: Rect,
    first: usize,
    shown: usize,
    len: usize,
    at: Option<usize>,
    theme: &Theme,
) {
    if boxed.height < 2 || boxed.width < 4 {
        return;
    }
    if let Some(t) = more_label(first, shown, len, at, theme.ascii) {
        let t = format!(" {t} ");
        let room = boxed.width.saturating_sub(2) as usize;
        if width(&t) > room {
            return;
        }
        let x = boxed.right().saturating_sub(width(&t) as u16 + 1);
        put(buf, boxed, x, boxed.bottom() - 1, &t, theme.dim);
    }
}

/// The same marker for a list without a box, at the right end of its header row `row`
/// (drawn over whatever the header has there).
pub fn more_in_row(
    buf: &mut Buffer,
    row: Rect,
    first: usize,
    shown: usize,
    len: usize,
    theme: &Theme,
) {
    if row.height == 0 {
        return;
    }
    if let Some(t) = more_label(first, shown, len, None, theme.ascii) {
        let t = format!(" {t}");
        let w = width(&t) as u16;
        if w > row.width {
            return;
        }
        put(buf, row, row.right() - w, row.y, &t, theme.dim);
    }
}

/// Where a pane of text that scrolls by keys is: its first line shown, and the most that
/// can be. Only the render knows the pane's height, so the render sets the most (through
/// a `Cell`, as the trace tree keeps its offset); a key then moves from what the user
/// saw and stops at the last line, never into empty space.
#[derive(Debug, Default, Clone)]
pub struct PaneScroll {
    first: std::cell::Cell<usize>,
    most: std::cell::Cell<usize>,
}

impl PaneScroll {
    /// Down `n` lines, up to the last; whether it moved.
    pub fn down(&self, n: usize) -> bool {
        let to = self.first.get().saturating_add(n).min(self.most.get());
        self.first.replace(to) != to
    }

    /// Up `n` lines, up to the first; whether it moved.
    pub fn up(&self, n: usize) -> bool {
        let to = self.first.get().saturating_sub(n);
        self.first.replace(to) != to
    }

    /// Whether there is anything to scroll to, as last drawn (for the footer's hints).
    pub fn can_scroll(&self) -> bool {
        self.most.get() > 0 || self.first.get() > 0
    }

    /// Back to the top (another record or node is shown).
    pub fn reset(&self) {
        self.first.set(0);
    }

    /// For the render: the first of `len` lines to show `height` at a time.
    pub fn first(&self, len: usize, height: usize) -> usize {
        let most = len.saturating_sub(height);
        self.most.set(most);
        let at = self.first.get().min(most);
        self.first.set(at);
        at
    }
}

/// One row of `area`, or an empty rect when `i` is past its bottom.
pub fn row(area: Rect, i: u16) -> Rect {
    if i >= area.height {
        return Rect::new(area.x, area.bottom(), area.width, 0);
    }
    Rect::new(area.x, area.y + i, area.width, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_word_within_the_width() {
        assert_eq!(wrap("", 10), vec![String::new()]);
        assert_eq!(wrap("one two three", 7), vec!["one two", "three"]);
        assert_eq!(wrap("abcdefghij xy", 4), vec!["abcd", "efgh", "ij", "xy"]);
        let text = "lot R26325-001: 300 kg of FLOUR is on hold (swab positive) and cannot ship";
        for w in 1..40 {
            let lines = wrap(text, w);
            assert!(lines.iter().all(|l| width(l) <= w), "{w}: {lines:?}");
            assert_eq!(lines.join("").replace(' ', ""), text.replace(' ', ""));
        }
    }

    #[test]
    fn fitting_text() {
        assert_eq!(fit("Receive", 10, "…"), "Receive");
        assert_eq!(fit("Receive", 5, "…"), "Rece…");
        assert_eq!(fit("Receive", 1, "…"), "R");
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(rpad("ab", 4), "  ab");
        assert_eq!(pad("abcdef", 3), "abc");
    }

    #[test]
    fn drawing_outside_the_buffer_is_harmless() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 3, 1));
        let all = Rect::new(0, 0, 100, 100);
        put(&mut buf, all, 1, 0, "hello", Style::new());
        put(&mut buf, all, 5, 5, "x", Style::new());
        put(&mut buf, all, 0, 1, "x", Style::new());
        fill(&mut buf, all, Style::new());
        clear(&mut buf, all, Style::new());
        let t = Theme::new(true, true);
        boxed(&mut buf, all, "title", &t);
        let mut empty = Buffer::empty(Rect::new(0, 0, 0, 0));
        put(&mut empty, all, 0, 0, "x", Style::new());
        boxed(&mut empty, all, "t", &t);
    }

    #[test]
    fn the_more_marker_says_which_way_the_rest_is() {
        assert_eq!(more_label(0, 10, 10, None, false), None, "all in view");
        assert_eq!(more_label(0, 10, 5, Some(2), false), None, "short list");
        assert_eq!(more_label(0, 5, 12, None, false).as_deref(), Some("↓ more"));
        assert_eq!(
            more_label(3, 5, 12, None, false).as_deref(),
            Some("↑↓ more")
        );
        assert_eq!(more_label(7, 5, 12, None, false).as_deref(), Some("↑ more"));
        assert_eq!(
            more_label(7, 5, 12, Some(11), false).as_deref(),
            Some("12/12 ↑ more")
        );
        assert_eq!(more_label(0, 5, 12, None, true).as_deref(), Some("v more"));
        assert_eq!(more_label(3, 5, 12, None, true).as_deref(), Some("^v more"));
        assert_eq!(more_label(7, 5, 12, None, true).as_deref(), Some("^ more"));
        // On the border, right-aligned; never on a box too small to hold it, never a panic.
        let t = Theme::new(false, false);
        let area = Rect::new(0, 0, 20, 4);
        let mut buf = Buffer::empty(area);
        more(&mut buf, area, 0, 2, 9, None, &t);
        let bottom: String = (0..20).map(|x| buf[(x, 3)].symbol().to_string()).collect();
        assert_eq!(
            bottom, "            ↓ more  ",
            "a space each side, the corner kept"
        );
        for w in 0..12 {
            for h in 0..4 {
                let r = Rect::new(0, 0, w, h);
                let mut buf = Buffer::empty(Rect::new(0, 0, 12, 4));
                more(&mut buf, r, 1, 1, 9, Some(4), &t);
                more_in_row(&mut buf, r, 1, 1, 9, &t);
            }
        }
    }

    #[test]
    fn a_pane_scrolls_to_its_last_line_and_no_further() {
        let s = PaneScroll::default();
        assert!(!s.down(1), "nothing drawn yet: nothing known to scroll to");
        assert_eq!(s.first(12, 5), 0);
        assert!(s.can_scroll());
        let mut moves = 0;
        while s.down(1) {
            moves += 1;
        }
        assert_eq!(moves, 7, "12 lines, 5 shown: 7 keys to the last");
        assert_eq!(s.first(12, 5), 7);
        assert!(s.up(3));
        assert_eq!(s.first(12, 5), 4);
        // A taller pane (a resize) shows more, from no further down than it must.
        assert_eq!(s.first(12, 10), 2);
        s.reset();
        assert_eq!(s.first(12, 10), 0);
        assert_eq!(s.first(3, 10), 0);
        assert!(!s.can_scroll());
    }

    #[test]
    fn scrolling_jumps_half_a_page_when_the_selection_leaves_the_window() {
        // 10 rows shown of 100
        assert_eq!(
            scroll(0, 9, 10, 100, false),
            0,
            "still in view: nothing moves"
        );
        assert_eq!(
            scroll(0, 10, 10, 100, false),
            5,
            "one past the bottom: centred"
        );
        assert_eq!(
            scroll(5, 14, 10, 100, false),
            5,
            "then half a page of moves without scrolling"
        );
        assert_eq!(scroll(5, 4, 10, 100, false), 0, "up past the top");
        assert_eq!(scroll(50, 99, 10, 100, false), 90, "never past the end");
        assert_eq!(
            scroll(7, 3, 10, 5, false),
            0,
            "a short list starts at the top"
        );
        assert_eq!(scroll(3, 3, 0, 5, false), 0);
    }

    #[test]
    fn with_scroll_regions_the_window_follows_a_row_at_a_time() {
        // 10 rows shown of 100
        assert_eq!(
            scroll(0, 9, 10, 100, true),
            0,
            "still in view: nothing moves"
        );
        assert_eq!(
            scroll(0, 10, 10, 100, true),
            1,
            "one past the bottom: one row"
        );
        assert_eq!(scroll(0, 11, 10, 100, true), 2, "two past: two rows");
        assert_eq!(
            scroll(0, 25, 10, 100, true),
            20,
            "a jump (a page, a search) centres"
        );
        assert_eq!(
            scroll(20, 19, 10, 100, true),
            19,
            "one above the top: one row"
        );
        assert_eq!(scroll(20, 5, 10, 100, true), 0, "far above: centred");
        assert_eq!(scroll(89, 99, 10, 100, true), 90, "never past the end");
    }
}

#[cfg(test)]
mod safe_cell_tests {
    use super::*;

    #[test]
    fn unsafe_characters_never_reach_the_frame() {
        let area = Rect::new(0, 0, 20, 1);
        let mut buf = Buffer::empty(area);
        buf.set_string(0, 0, "a\u{202e}b\u{200b}c\u{9b}d·é", Style::new());
        safe_cells(&mut buf, area);
        let shown: String = (0..20).map(|x| buf[(x, 0)].symbol().to_string()).collect();
        assert!(!lotline_domain::text::has_unsafe(&shown), "{shown:?}");
        assert!(shown.starts_with('a') && shown.contains("d·é"), "{shown:?}");
    }
}
