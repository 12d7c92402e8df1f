//! The lot-line form Produce and Ship share: a form with a lot field, a quantity field,
//! and lines added one lot at a time, typed or scanned. `LineForm` holds the form and its
//! lines; `LineEntry` is the flow around them, written once here, with each screen's own
//! look-up and line rules left to the screen.

use super::*;
use chrono::NaiveDate;
use lotline_domain::LotLine;
use ratatui::style::Style;

/// One line of a lot-line form, whatever else the screen keeps on it.
pub trait EntryLine {
    /// The line's lot and the quantity taken from it.
    fn lot_qty(&self) -> (&Lot, Qty);
}

/// A line's expiry column: the date, or "-" for a lot that has none.
pub(super) fn expiry_text(lot: &Lot) -> String {
    lot.expiry
        .map(|d| d.to_string())
        .unwrap_or_else(|| "-".into())
}

/// A form that takes lot lines, with the lines, the one selected and the lot last looked
/// up for the next line.
pub struct LineForm<L> {
    pub form: Form,
    pub lines: Vec<L>,
    /// The selected line: the one `remove_line` takes away.
    pub selected: usize,
    /// The lot the lot field named, once looked up (and only if it may be used).
    pub preview: Option<Lot>,
    pub(super) items: Vec<Item>,
    pub(super) today: Option<NaiveDate>,
    /// The field the lot code is typed or scanned into.
    lot: &'static str,
    /// The field for the quantity taken from that lot.
    qty: &'static str,
}

impl<L: EntryLine> LineForm<L> {
    pub(super) fn new(form: Form, lot: &'static str, qty: &'static str) -> LineForm<L> {
        LineForm {
            form,
            lines: Vec::new(),
            selected: 0,
            preview: None,
            items: Vec::new(),
            today: None,
            lot,
            qty,
        }
    }

    /// The item the item field names exactly, if any.
    pub(super) fn item(&self) -> Option<&Item> {
        let v = self.form.value("item").trim();
        self.items
            .iter()
            .find(|i| i.code.as_str().eq_ignore_ascii_case(v))
    }

    /// Which slots moving through the form skips: the lines, while there are none.
    pub(super) fn no_lines(&self) -> impl Fn(Slot) -> bool + use<L> {
        let empty = self.lines.is_empty();
        move |s| empty && s == Slot::Lines
    }

    /// The items and today's date, fresh from the station; the date field shows today
    /// unless a date was typed.
    pub(super) fn refreshed(&mut self, items: Vec<Item>, today: NaiveDate) {
        self.items = items;
        self.today = Some(today);
        let date = self.form.get_mut("date");
        if !date.is_dirty() {
            date.reset_to(&today.to_string());
        }
    }

    /// The lines as the station takes them: lot codes and quantities.
    pub(super) fn lot_lines(&self) -> Vec<LotLine> {
        self.lines
            .iter()
            .map(|l| {
                let (lot, qty) = l.lot_qty();
                LotLine {
                    lot: lot.code.clone(),
                    qty,
                }
            })
            .collect()
    }

    /// "45 case + 12.5 kg": what the lines add up to.
    pub fn total(&self) -> String {
        totals(self.lines.iter().map(|l| {
            let (lot, qty) = l.lot_qty();
            (qty, lot.unit)
        }))
    }

    /// The form actions both screens handle alike: moving through the lines (Enter there
    /// goes back to the lot field), and the editing common to all forms, after which a
    /// changed lot field means the lot shown is no longer the one typed. `None`: the
    /// screen handles the action itself.
    fn line_action(&mut self, a: &FormAction) -> Option<Outcome> {
        if self.form.slot() == Slot::Lines {
            match a {
                FormAction::Up => {
                    self.selected = self.selected.saturating_sub(1);
                    return Some(Outcome::changed());
                }
                FormAction::Down => {
                    let last = self.lines.len().saturating_sub(1);
                    self.selected = (self.selected + 1).min(last);
                    return Some(Outcome::changed());
                }
                FormAction::Confirm => {
                    self.form.focus_field(self.lot);
                    return Some(Outcome::changed());
                }
                _ => {}
            }
        }
        let before = self.form.get(self.lot).value().to_string();
        let skip = self.no_lines();
        let out = common(&mut self.form, a, skip)?;
        if self.form.get(self.lot).value() != before {
            self.preview = None;
        }
        Some(out)
    }

    /// Take the selected line away.
    pub(super) fn remove_line(&mut self) -> Outcome {
        if self.lines.is_empty() {
            return Outcome::changed().status(Status::warn(format!(
                "{}: there is no line to remove",
                self.lot
            )));
        }
        let i = self.selected.min(self.lines.len() - 1);
        let gone = self.lines.remove(i);
        self.selected = i.min(self.lines.len().saturating_sub(1));
        if self.lines.is_empty() && self.form.slot() == Slot::Lines {
            self.form.focus_field(self.lot);
        }
        let (lot, qty) = gone.lot_qty();
        Outcome::changed().status(Status::info(format!(
            "Removed line {}: {} {qty} {}",
            i + 1,
            lot.code,
            lot.unit
        )))
    }

    /// A refusal that names a line (`input 2: …`) selects that line; any other marks its
    /// field.
    pub(super) fn refuse_line(&mut self, e: &StationError) -> Outcome {
        if let Some(i) = named_line(e, self.lot, self.lines.len()) {
            self.selected = i;
            self.form.mark_error(None);
            self.form.focus_slot(Slot::Lines);
            return Outcome::error(e);
        }
        refuse(&mut self.form, e)
    }

    /// Show the lot just looked up, in the lot field, and ask for the quantity (at most
    /// `max`), saying `status`.
    pub(super) fn found(&mut self, lot: Lot, max: Qty, status: Status) -> Outcome {
        self.form.get_mut(self.lot).set(lot.code.as_str());
        self.form.get_mut(self.qty).placeholder = format!("max {max}");
        self.preview = Some(lot);
        self.form.focus_field(self.qty);
        Outcome::changed().status(status)
    }

    /// The lot looked up cannot be used: say why, and show none.
    pub(super) fn not_found(&mut self, e: &StationError) -> Outcome {
        self.preview = None;
        refuse(&mut self.form, e)
    }

    /// The quantity field's quantity, if `lot` has that much; else the field is marked.
    pub(super) fn qty_from(&mut self, lot: &Lot) -> Result<Qty, Outcome> {
        Qty::parse_positive(self.form.value(self.qty), self.qty)
            .and_then(|q| lot.check_use(q, self.qty).map(|_| q))
            .map_err(|e| refuse(&mut self.form, &e.into()))
    }

    /// Add `line`, selected, and empty the lot and quantity fields for the next one.
    pub(super) fn push(&mut self, line: L) {
        self.lines.push(line);
        self.selected = self.lines.len() - 1;
        self.preview = None;
        self.form.get_mut(self.lot).set("");
        let q = self.form.get_mut(self.qty);
        q.set("");
        q.placeholder.clear();
        self.form.focus_field(self.lot);
    }

    /// Forget the lines and the lot looked up (the fields are the screen's to reset).
    pub(super) fn clear_lines(&mut self) {
        self.form.get_mut(self.qty).placeholder.clear();
        self.lines.clear();
        self.selected = 0;
        self.preview = None;
    }

    /// The list of lines in `area` under the header `head` (see [`render_line_list`]).
    pub(super) fn render_lines(
        &self,
        buf: &mut Buffer,
        area: Rect,
        ui: &Ui,
        head: &str,
        text: impl Fn(usize, &L, usize) -> String,
        warn: impl Fn(&L) -> bool,
    ) -> usize {
        let focused = ui.editing && self.form.slot() == Slot::Lines;
        render_line_list(
            buf,
            area,
            ui,
            head,
            (&self.lines, self.selected, focused),
            text,
            warn,
        )
    }

    /// The handheld layout: every slot in one column, the lines drawn by `draw_lines`.
    pub(super) fn render_compact(
        &self,
        buf: &mut Buffer,
        area: Rect,
        view: &FormView,
        ui: &Ui,
        draw_lines: impl Fn(&mut Buffer, Rect),
    ) -> Option<Position> {
        let n = self.lines.len();
        render_compact_with_lines(&self.form, n, buf, area, view, ui, draw_lines)
    }
}

/// A form's list of lines in `area` under the header `head`, scrolled to keep the selected
/// one in view; `list` is the lines, the selected one and whether the list has the focus.
/// `text` gives line `i` for the columns after the selection mark, and `warn` says
/// whether it is drawn as a warning. Returns how many lines were drawn.
pub(super) fn render_line_list<L>(
    buf: &mut Buffer,
    area: Rect,
    ui: &Ui,
    head: &str,
    (lines, selected, focused): (&[L], usize, bool),
    text: impl Fn(usize, &L, usize) -> String,
    warn: impl Fn(&L) -> bool,
) -> usize {
    if area.height == 0 {
        return 0;
    }
    let head_style = if focused {
        ui.theme.label_focus
    } else {
        ui.theme.title
    };
    let w = area.width as usize;
    put(
        buf,
        area,
        area.x,
        area.y,
        &draw::fit(head, w, ui.theme.ellipsis()),
        head_style,
    );
    let rows = area.height.saturating_sub(1) as usize;
    if rows == 0 {
        return 0;
    }
    let start = selected.saturating_sub(rows - 1);
    draw::more_in_row(buf, draw::row(area, 0), start, rows, lines.len(), ui.theme);
    let mut shown = 0;
    for (n, (i, l)) in lines.iter().enumerate().skip(start).take(rows).enumerate() {
        let sel = i == selected;
        let mark = if sel { ui.theme.marker() } else { " " };
        let text = format!("{mark}{}", text(i, l, w.saturating_sub(1)));
        let style: Style = if sel && focused {
            ui.theme.selected
        } else if warn(l) {
            ui.theme.warn
        } else {
            ui.theme.label
        };
        put(
            buf,
            area,
            area.x,
            area.y + 1 + n as u16,
            &draw::pad(&text, w),
            style,
        );
        shown = n + 1;
    }
    shown
}

/// The line a refusal names by its field (`{name} 2`: the second), as an index into
/// `len` lines; `None` when it names none of them.
pub(super) fn named_line(e: &StationError, name: &str, len: usize) -> Option<usize> {
    let n: usize = e
        .field
        .as_deref()?
        .strip_prefix(name)?
        .strip_prefix(' ')?
        .parse()
        .ok()?;
    (1..=len).contains(&n).then(|| n - 1)
}

/// The full layout of a form with a list of lines, in `inner`: the first `top` fields, the
/// lines drawn by `draw_lines` under them, and at the bottom the fields after the lines, a
/// gap and the button. Returns where the cursor goes.
pub(super) fn render_full_with_lines(
    buf: &mut Buffer,
    inner: Rect,
    view: &FormView,
    ui: &Ui,
    top: u16,
    draw_lines: impl Fn(&mut Buffer, Rect),
) -> Option<Position> {
    let h = inner.height;
    let mut cursor = None;
    let mut at = |buf: &mut Buffer, y: u16, s: Slot| {
        let r = draw::row(inner, y);
        if r.height > 0
            && let Some(c) = view.draw_slot(buf, r, s, ui)
        {
            cursor = Some(c);
        }
    };
    for i in 0..top {
        at(buf, i, Slot::Field(i as usize));
    }
    // Every field after the lines, a blank row, then the button.
    let below = (view.form.fields.len() as u16).saturating_sub(top);
    let bottom = h.saturating_sub(below + 2).max(top + 1);
    for k in 0..below {
        at(buf, bottom + k, Slot::Field((top + k) as usize));
    }
    at(buf, bottom + below + 1, Slot::Button);
    let table = Rect::new(
        inner.x,
        inner.y + top,
        inner.width,
        bottom.saturating_sub(top).min(h.saturating_sub(top)),
    );
    draw_lines(buf, table);
    cursor
}

/// A screen built on a `LineForm`: it looks lots up, adds lines and saves in its own way;
/// the rest of the flow (form actions, scans, a lot looked up again) is written here.
pub(super) trait LineEntry {
    type Line: EntryLine;
    /// The fields that take one of their pick list's choices, checked on Enter.
    const CHOICES: &'static [&'static str];
    /// Why Enter on the empty lot field goes nowhere while there is no line yet.
    const NO_LOT: &'static str;
    /// Where Enter on the empty lot field goes once there are lines.
    const AFTER_LOTS: Slot;

    fn entry(&mut self) -> &mut LineForm<Self::Line>;
    /// Find the lot in the lot field; show it, or say why it cannot be used.
    fn look_up(&mut self, station: &dyn Station) -> Outcome;
    fn add_line(&mut self, station: &dyn Station) -> Outcome;
    fn save(&mut self, station: &dyn Station) -> Outcome;
    /// Empty the form, and say so.
    fn clear(&mut self) -> Outcome;

    fn remove_line(&mut self) -> Outcome {
        self.entry().remove_line()
    }

    fn form_action(&mut self, a: FormAction, station: &dyn Station) -> Outcome {
        if let Some(out) = self.entry().line_action(&a) {
            return out;
        }
        match a {
            FormAction::Next => {
                let e = self.entry();
                if e.form.focused().is_some_and(|f| f.opt().is_some()) {
                    accept_pick(&mut e.form);
                }
                e.form.next(e.no_lines());
                Outcome::changed()
            }
            FormAction::Confirm => self.confirm(station),
            FormAction::Save => self.save(station),
            FormAction::RemoveLine => self.remove_line(),
            FormAction::Clear => self.clear(),
            _ => Outcome::none(),
        }
    }

    /// Enter: on the button, save; on the lot field, look the lot up (or, empty, go on
    /// from the lines); on the quantity, add the line; on a choice, check it.
    fn confirm(&mut self, station: &dyn Station) -> Outcome {
        let e = self.entry();
        match e.form.slot() {
            Slot::Button => return self.save(station),
            Slot::Lines => return Outcome::none(),
            Slot::Field(_) => {}
        }
        accept_pick(&mut e.form);
        let name = e.form.focused().map(|f| f.name).unwrap_or("");
        if name == e.lot {
            if e.form.get(name).opt().is_some() {
                let (out, note) = self.look_up_new(station);
                return noted(out, note);
            }
            if e.lines.is_empty() {
                return refuse(&mut e.form, &invalid(name, Self::NO_LOT));
            }
            e.form.focus_slot(Self::AFTER_LOTS);
            return Outcome::changed();
        }
        if name == e.qty {
            return self.add_line(station);
        }
        if Self::CHOICES.contains(&name)
            && let Err(err) = check_choice(e.form.get_mut(name), name, true)
        {
            return refuse(&mut e.form, &err);
        }
        if let Some(f) = e.form.focused_mut() {
            f.error = false;
        }
        e.form.next(e.no_lines());
        Outcome::changed()
    }

    /// The lot for the line being added: the one looked up, or the lot field's, looked up
    /// now. `Err`: why there is none (`missing` when the lot field is empty).
    fn lot_to_add(&mut self, station: &dyn Station, missing: &str) -> Result<Lot, Outcome> {
        let e = self.entry();
        if e.preview.is_none() {
            if e.form.get(e.lot).opt().is_some() {
                let out = self.look_up(station);
                if self.entry().preview.is_none() {
                    return Err(out);
                }
            } else {
                let lot = e.lot;
                return Err(refuse(&mut e.form, &invalid(lot, missing)));
            }
        }
        self.entry().preview.clone().ok_or_else(Outcome::none)
    }

    /// A scan in the form adds a lot line: our lot code (plain, or a GS1 (10)), else a
    /// supplier lot we received. The lot is looked up as if typed; when the label carries
    /// a quantity the lot's unit takes (a supplier case: its count or net weight), the line
    /// is added at once, else the cursor waits on the quantity. Plain text that is no lot
    /// of ours, scanned into another field, does what the scanner's keys would have done.
    fn scan_line(&mut self, scan: &Scan, station: &dyn Station) -> Outcome {
        let e = self.entry();
        let (lot_field, qty_field) = (e.lot, e.qty);
        let lot = match scanned_lot(scan, &e.items, lot_field, station) {
            Ok(Some(lot)) => lot,
            Ok(None) => {
                if let Scan::Plain { text, .. } = scan
                    && e.form.focused().is_some_and(|f| f.name != lot_field)
                {
                    self.form_action(FormAction::Paste(text.clone()), station);
                    return self.form_action(FormAction::Confirm, station);
                }
                e.form.focus_field(lot_field);
                return refuse(&mut e.form, &not_our_lot(scan, lot_field));
            }
            Err(err) => {
                e.form.focus_field(lot_field);
                return refuse(&mut e.form, &err);
            }
        };
        e.form.get_mut(lot_field).set(lot.code.as_str());
        e.form.focus_field(lot_field);
        let (out, note) = self.look_up_new(station);
        if self.entry().preview.is_none() {
            return noted(out, note);
        }
        match scanned_qty(scan, lot.unit) {
            Some(q) => {
                self.entry().form.get_mut(qty_field).set(&q.to_string());
                let added = self.add_line(station);
                noted(added, note)
            }
            None => noted(out, note),
        }
    }

    /// Look up the lot in the lot field for a new line (Enter there, or a scan). A
    /// quantity typed for another lot is cleared, never added under this one; if it
    /// leaves a line half done, the note for the status line says so.
    fn look_up_new(&mut self, station: &dyn Station) -> (Outcome, Option<String>) {
        let e = self.entry();
        let qty_field = e.qty;
        let pending = e.form.get(qty_field).opt().map(str::to_string);
        let before = e.preview.clone();
        let out = self.look_up(station);
        let Some(qty) = pending else {
            return (out, None);
        };
        if let (Some(b), Some(now)) = (&before, &self.entry().preview)
            && b.id == now.id
        {
            return (out, None);
        }
        self.entry().form.get_mut(qty_field).set("");
        let note = match before {
            Some(b) => format!("not added: {} {qty} {}", b.code, b.unit),
            None => format!("not added: the quantity {qty} typed before"),
        };
        (out, Some(note))
    }
}
