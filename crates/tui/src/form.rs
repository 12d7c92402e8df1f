//! Form fields on tui-input, pick lists that complete as you type, and the focus order of
//! a form. tui-input edits the text; Tab, Enter and Esc are the app's (docs/tui.md).

use super::draw::{self, put};
use super::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use tui_input::{Input, InputRequest};

/// A value a pick list offers: what goes into the field, and what the list shows beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub value: String,
    pub label: String,
}

impl Candidate {
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Candidate {
        Candidate {
            value: value.into(),
            label: label.into(),
        }
    }
}

/// Most entries a pick list shows.
pub const PICK_MAX: usize = 50;

/// One labelled text field.
#[derive(Debug, Clone)]
pub struct Field {
    /// The name errors use for this field (`item`, `supplier-lot`, `qty`…), so a station
    /// error can be pinned on it.
    pub name: &'static str,
    pub label: &'static str,
    pub input: Input,
    /// Shown dimmed while the field is empty: a format or the default.
    pub placeholder: String,
    pub candidates: Vec<Candidate>,
    /// Selected entry of the pick list, an index into `matches()`.
    pub pick: usize,
    /// The pick list was closed with Esc; it opens again when the text changes.
    pub pick_closed: bool,
    /// The pick list was opened on an empty field (Down), to browse every choice.
    pub browse: bool,
    /// The last error named this field.
    pub error: bool,
    /// The value the field starts with; a field holding anything else is unsaved input.
    pub initial: String,
    /// The field must be filled before saving.
    pub required: bool,
}

impl Field {
    pub fn new(name: &'static str, label: &'static str) -> Field {
        Field {
            name,
            label,
            input: Input::default(),
            placeholder: String::new(),
            candidates: Vec::new(),
            pick: 0,
            pick_closed: false,
            browse: false,
            error: false,
            initial: String::new(),
            required: false,
        }
    }

    pub fn placeholder(mut self, p: impl Into<String>) -> Field {
        self.placeholder = p.into();
        self
    }

    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }

    pub fn value(&self) -> &str {
        self.input.value()
    }

    /// The trimmed value, or None when empty.
    pub fn opt(&self) -> Option<&str> {
        Some(self.value().trim()).filter(|v| !v.is_empty())
    }

    pub fn set(&mut self, text: &str) {
        self.input = Input::new(text.to_string());
        self.pick = 0;
        self.browse = false;
        self.error = false;
    }

    /// Set the value and make it the field's starting value (not unsaved input).
    pub fn reset_to(&mut self, text: &str) {
        self.set(text);
        self.initial = text.to_string();
        self.pick_closed = false;
    }

    pub fn is_dirty(&self) -> bool {
        self.value() != self.initial
    }

    /// Apply an editing request; true when the value changed.
    pub fn edit(&mut self, req: InputRequest) -> bool {
        let before = self.value().to_string();
        self.input.handle(req);
        let changed = self.value() != before;
        if changed {
            self.pick = 0;
            self.pick_closed = false;
            self.error = false;
        }
        changed
    }

    /// Candidates matching the text: codes starting with it first, then codes and labels
    /// containing it, case-insensitively. Everything when the field is empty.
    pub fn matches(&self) -> Vec<&Candidate> {
        let q = self.value().trim().to_lowercase();
        if q.is_empty() {
            return self.candidates.iter().take(PICK_MAX).collect();
        }
        let mut first = Vec::new();
        let mut then = Vec::new();
        for c in &self.candidates {
            let v = c.value.to_lowercase();
            if v.starts_with(&q) {
                first.push(c);
            } else if v.contains(&q) || c.label.to_lowercase().contains(&q) {
                then.push(c);
            }
        }
        first.extend(then);
        first.truncate(PICK_MAX);
        first
    }

    /// The candidate whose value is exactly the text (ignoring case).
    pub fn exact(&self) -> Option<&Candidate> {
        let v = self.value().trim();
        self.candidates
            .iter()
            .find(|c| c.value.eq_ignore_ascii_case(v))
    }

    /// Is the pick list showing? Only with candidates and some text, not closed, and not
    /// when the text already is the one candidate left.
    pub fn pick_open(&self) -> bool {
        // Not on an empty field unless asked for (Down): Enter there must move on, never
        // take the first entry by accident.
        if self.candidates.is_empty()
            || self.pick_closed
            || (self.value().trim().is_empty() && !self.browse)
        {
            return false;
        }
        let m = self.matches();
        !(m.is_empty() || (m.len() == 1 && m[0].value.eq_ignore_ascii_case(self.value().trim())))
    }

    /// Open the pick list on an empty field to browse every choice. True if it opened.
    pub fn open_browse(&mut self) -> bool {
        if self.candidates.is_empty() || self.opt().is_some() || self.pick_open() {
            return false;
        }
        self.browse = true;
        self.pick_closed = false;
        self.pick = 0;
        true
    }

    pub fn pick_move(&mut self, down: bool) {
        let n = self.matches().len();
        if n == 0 {
            return;
        }
        self.pick = if down {
            (self.pick + 1).min(n - 1)
        } else {
            self.pick.saturating_sub(1)
        };
    }

    /// Put the selected candidate into the field. True when one was taken.
    pub fn pick_accept(&mut self) -> bool {
        let chosen = self
            .matches()
            .get(self.pick.min(self.matches().len().saturating_sub(1)))
            .map(|c| c.value.clone());
        match chosen {
            Some(v) => {
                self.set(&v);
                self.pick_closed = true;
                true
            }
            None => false,
        }
    }
}

/// A place the cursor can be in a form: a field, a list of lines, or the form's button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Field(usize),
    Lines,
    Button,
}

/// Fields in focus order plus the non-field slots.
#[derive(Debug, Clone)]
pub struct Form {
    pub fields: Vec<Field>,
    pub order: Vec<Slot>,
    pub focus: usize,
}

impl Form {
    /// A form whose focus order is its fields, then the button.
    pub fn new(fields: Vec<Field>) -> Form {
        let mut order: Vec<Slot> = (0..fields.len()).map(Slot::Field).collect();
        order.push(Slot::Button);
        Form {
            fields,
            order,
            focus: 0,
        }
    }

    pub fn slot(&self) -> Slot {
        self.order.get(self.focus).copied().unwrap_or(Slot::Button)
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    pub fn get(&self, name: &str) -> &Field {
        let i = self.index(name).unwrap_or(0);
        &self.fields[i]
    }

    pub fn get_mut(&mut self, name: &str) -> &mut Field {
        let i = self.index(name).unwrap_or(0);
        &mut self.fields[i]
    }

    pub fn value(&self, name: &str) -> &str {
        self.get(name).value()
    }

    pub fn focused(&self) -> Option<&Field> {
        match self.slot() {
            Slot::Field(i) => self.fields.get(i),
            _ => None,
        }
    }

    pub fn focused_mut(&mut self) -> Option<&mut Field> {
        match self.slot() {
            Slot::Field(i) => self.fields.get_mut(i),
            _ => None,
        }
    }

    pub fn is_focused(&self, name: &str) -> bool {
        self.focused().is_some_and(|f| f.name == name)
    }

    /// Move focus to the field called `name`.
    pub fn focus_field(&mut self, name: &str) -> bool {
        let Some(i) = self.index(name) else {
            return false;
        };
        match self.order.iter().position(|s| *s == Slot::Field(i)) {
            Some(p) => {
                self.focus = p;
                true
            }
            None => false,
        }
    }

    pub fn focus_slot(&mut self, slot: Slot) {
        if let Some(p) = self.order.iter().position(|s| *s == slot) {
            self.focus = p;
        }
    }

    /// Next slot, skipping those `skip` says are not there now. Stops at the last.
    pub fn next(&mut self, skip: impl Fn(Slot) -> bool) -> bool {
        let mut i = self.focus;
        while i + 1 < self.order.len() {
            i += 1;
            if !skip(self.order[i]) {
                self.focus = i;
                return true;
            }
        }
        false
    }

    pub fn prev(&mut self, skip: impl Fn(Slot) -> bool) -> bool {
        let mut i = self.focus;
        while i > 0 {
            i -= 1;
            if !skip(self.order[i]) {
                self.focus = i;
                return true;
            }
        }
        false
    }

    /// The field an error names: by its name, or (`input 2`, `lot 1 qty`: a line's
    /// error) by the first word of it.
    fn named(&self, field: Option<&str>) -> Option<usize> {
        let name = field?;
        let base = name.split_whitespace().next().unwrap_or(name);
        self.index(name).or_else(|| self.index(base))
    }

    /// Mark the field an error names, and move to it. Returns whether one matched.
    pub fn mark_error(&mut self, field: Option<&str>) -> bool {
        for f in &mut self.fields {
            f.error = false;
        }
        let Some(i) = self.named(field) else {
            return false;
        };
        self.fields[i].error = true;
        self.focus_field(self.fields[i].name);
        true
    }

    /// Mark the field an error names as wrong too, leaving the cursor where it is.
    pub fn mark_also(&mut self, field: Option<&str>) {
        if let Some(i) = self.named(field) {
            self.fields[i].error = true;
        }
    }

    /// Where the field an error names comes in the focus order: the order a person
    /// fixes a form's problems in. An error naming no field of the form comes last.
    pub fn rank(&self, field: Option<&str>) -> usize {
        self.named(field)
            .and_then(|i| self.order.iter().position(|s| *s == Slot::Field(i)))
            .unwrap_or(self.order.len())
    }

    pub fn is_dirty(&self) -> bool {
        self.fields.iter().any(Field::is_dirty)
    }

    /// Fields that must be filled and are empty, first one first.
    pub fn missing(&self) -> Option<&Field> {
        self.missing_all().next()
    }

    /// Every field that must be filled and is empty.
    pub fn missing_all(&self) -> impl Iterator<Item = &Field> {
        self.fields
            .iter()
            .filter(|f| f.required && f.opt().is_none())
    }
}

/// Width the labels of the full layout take.
pub const LABEL_W: u16 = 14;

/// Draw one field's input box on row `area` (one line). Returns the cursor position when
/// it has focus.
pub fn render_input(
    buf: &mut Buffer,
    area: Rect,
    field: &Field,
    focused: bool,
    theme: &Theme,
) -> Option<Position> {
    if area.width == 0 || area.height == 0 {
        return None;
    }
    let style = if field.error {
        theme.field_error
    } else if focused {
        theme.field_focus
    } else {
        theme.field
    };
    draw::clear(buf, area, style);
    let w = area.width as usize;
    let value = field.value();
    if value.is_empty() {
        if !field.placeholder.is_empty() {
            let ph = if focused || field.error {
                style
            } else {
                theme.placeholder
            };
            put(
                buf,
                area,
                area.x,
                area.y,
                &draw::fit(&field.placeholder, w, theme.ellipsis()),
                ph,
            );
        }
    } else {
        // Keep the cursor in view: tui-input says how far to scroll for this width.
        let scroll = field.input.visual_scroll(w.saturating_sub(1).max(1));
        let shown: String = skip_cells(value, scroll);
        put(buf, area, area.x, area.y, &draw::take(&shown, w), style);
    }
    if focused {
        let scroll = field.input.visual_scroll(w.saturating_sub(1).max(1));
        let cx = field.input.visual_cursor().saturating_sub(scroll);
        let cx = (cx as u16).min(area.width.saturating_sub(1));
        return Some(Position::new(area.x + cx, area.y));
    }
    None
}

/// `s` without its first `cells` display cells.
fn skip_cells(s: &str, cells: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut w = 0;
    let mut out = String::new();
    for c in s.chars() {
        if w >= cells {
            out.push(c);
        } else {
            w += c.width().unwrap_or(0);
        }
    }
    out
}

/// A field in the full layout: label, box, and a note after the box. One row.
pub fn render_row(
    buf: &mut Buffer,
    area: Rect,
    field: &Field,
    focused: bool,
    box_w: u16,
    note: &str,
    theme: &Theme,
) -> Option<Position> {
    if area.height == 0 {
        return None;
    }
    let label_style = if focused {
        theme.label_focus
    } else {
        theme.label
    };
    let mark = if field.required { "*" } else { " " };
    let label = format!("{}{mark}", field.label);
    put(
        buf,
        area,
        area.x,
        area.y,
        &draw::pad(&label, LABEL_W as usize),
        label_style,
    );
    let bx = area.x.saturating_add(LABEL_W);
    let bw = box_w.min(area.right().saturating_sub(bx));
    let cursor = render_input(buf, Rect::new(bx, area.y, bw, 1), field, focused, theme);
    if !note.is_empty() {
        let nx = bx.saturating_add(bw).saturating_add(1);
        put(buf, area, nx, area.y, note, theme.dim);
    }
    cursor
}

/// A field in the compact layout: label on one row, box on the next. Two rows.
pub fn render_stacked(
    buf: &mut Buffer,
    area: Rect,
    field: &Field,
    focused: bool,
    note: &str,
    theme: &Theme,
) -> Option<Position> {
    if area.height == 0 {
        return None;
    }
    let label_style = if focused {
        theme.label_focus
    } else {
        theme.label
    };
    let mark = if field.required { "*" } else { "" };
    let x = put(
        buf,
        area,
        area.x,
        area.y,
        &format!("{}{mark}", field.label),
        label_style,
    );
    if !note.is_empty() {
        put(buf, area, x + 1, area.y, note, theme.dim);
    }
    if area.height < 2 {
        return None;
    }
    render_input(
        buf,
        Rect::new(area.x, area.y + 1, area.width, 1),
        field,
        focused,
        theme,
    )
}

/// The pick list of `field` in a box at `area`.
pub fn render_picklist(buf: &mut Buffer, area: Rect, field: &Field, theme: &Theme) {
    let inner = draw::boxed(
        buf,
        area,
        &format!("{} ({})", field.label, field.matches().len()),
        theme,
    );
    if inner.is_empty() {
        return;
    }
    let m = field.matches();
    let h = inner.height as usize;
    let sel = field.pick.min(m.len().saturating_sub(1));
    let start = sel.saturating_sub(h.saturating_sub(1));
    draw::more(buf, area, start, h, m.len(), None, theme);
    for (row, (i, c)) in m.iter().enumerate().skip(start).take(h).enumerate() {
        let y = inner.y + row as u16;
        let style = if i == sel {
            theme.selected
        } else {
            theme.label
        };
        let line = draw::pad(&format!("{} {}", c.value, c.label), inner.width as usize);
        put(
            buf,
            inner,
            inner.x,
            y,
            &draw::fit(&line, inner.width as usize, theme.ellipsis()),
            style,
        );
        if i == sel {
            draw::fill(buf, Rect::new(inner.x, y, inner.width, 1), theme.selected);
        }
    }
}

/// The action button at the end of a form: `[ Save ]`.
pub fn render_button(buf: &mut Buffer, area: Rect, text: &str, focused: bool, theme: &Theme) {
    let style = if focused {
        theme.selected
    } else {
        theme.strong
    };
    put(buf, area, area.x, area.y, &format!("[ {text} ]"), style);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item_field() -> Field {
        let mut f = Field::new("item", "Item");
        f.candidates = vec![
            Candidate::new("FLOUR-AP", "All-purpose flour"),
            Candidate::new("FLOUR-WW", "Whole wheat flour"),
            Candidate::new("SUGAR", "Granulated sugar"),
            Candidate::new("BROWN-SUGAR", "Light brown sugar"),
        ];
        f
    }

    fn typed(f: &mut Field, s: &str) {
        for c in s.chars() {
            f.edit(InputRequest::InsertChar(c));
        }
    }

    #[test]
    fn pick_list_completes_as_you_type() {
        let mut f = item_field();
        assert_eq!(f.matches().len(), 4, "an empty field offers everything");
        typed(&mut f, "sug");
        let m: Vec<&str> = f.matches().iter().map(|c| c.value.as_str()).collect();
        assert_eq!(m, vec!["SUGAR", "BROWN-SUGAR"], "prefix matches first");
        f.pick_move(true);
        assert!(f.pick_accept());
        assert_eq!(f.value(), "BROWN-SUGAR");
        assert!(!f.pick_open(), "closed once a value is taken");
        f.edit(InputRequest::DeletePrevChar);
        assert!(f.pick_open(), "opens again when the text changes");
        let mut g = item_field();
        typed(&mut g, "wheat");
        assert_eq!(g.matches()[0].value, "FLOUR-WW", "names match too");
        let mut h = item_field();
        typed(&mut h, "sugar");
        assert_eq!(h.exact().unwrap().value, "SUGAR");
    }

    #[test]
    fn focus_moves_and_skips() {
        let mut form = Form::new(vec![Field::new("a", "A"), Field::new("b", "B")]);
        form.order.insert(1, Slot::Lines);
        assert!(form.next(|s| s == Slot::Lines));
        assert_eq!(form.slot(), Slot::Field(1));
        assert!(form.next(|_| false));
        assert_eq!(form.slot(), Slot::Button);
        assert!(!form.next(|_| false), "stays on the last slot");
        assert!(form.prev(|s| s == Slot::Lines));
        assert!(form.prev(|s| s == Slot::Lines));
        assert_eq!(form.slot(), Slot::Field(0));
        assert!(form.mark_error(Some("b")));
        assert!(form.get("b").error);
        assert_eq!(form.slot(), Slot::Field(1));
    }

    #[test]
    fn errors_rank_by_where_their_field_is_shown() {
        // Fields listed a, b, c but shown c, a, b, as Produce shows its output last.
        let mut form = Form::new(vec![
            Field::new("a", "A"),
            Field::new("b", "B"),
            Field::new("c", "C"),
        ]);
        form.order = vec![Slot::Field(2), Slot::Lines, Slot::Field(0), Slot::Field(1)];
        assert_eq!(form.rank(Some("c")), 0);
        assert_eq!(form.rank(Some("a")), 2);
        assert_eq!(form.rank(Some("b 2")), 3, "a line's error by its field");
        assert_eq!(form.rank(Some("zzz")), 4, "no such field: last");
        assert_eq!(form.rank(None), 4);
        form.focus_field("c");
        form.mark_also(Some("b"));
        assert!(form.get("b").error);
        assert!(form.is_focused("c"), "marking another leaves the cursor");
    }

    #[test]
    fn long_values_scroll_to_keep_the_cursor_in_view() {
        let mut f = Field::new("note", "Note");
        typed(&mut f, "abcdefghijklmnopqrstuvwxyz");
        let t = Theme::new(true, true);
        let mut buf = Buffer::empty(Rect::new(0, 0, 10, 1));
        let pos = render_input(&mut buf, Rect::new(0, 0, 10, 1), &f, true, &t).unwrap();
        assert_eq!(pos, Position::new(9, 0));
        let shown: String = (0..10).map(|x| buf[(x, 0)].symbol().to_string()).collect();
        assert_eq!(shown, "rstuvwxyz ");
    }
}
