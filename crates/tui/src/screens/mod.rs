//! The screens. Each is a state struct, an action enum, an `update` that changes the
//! state (asking the station for data) and returns an `Outcome`, and a `render` that only
//! draws: a pure function of the state (docs/tui.md).

pub mod documents;
pub mod help;
pub mod lines;
pub mod lots;
pub mod master;
pub mod produce;
pub mod receive;
mod recipe_check;
pub mod recipe_edit;
pub mod setup;
pub mod ship;
pub mod trace;

use super::draw::{self, put};
use super::form::{Candidate, Field, Form, Slot};
use super::keymap::Keymap;
use super::queue::{InternalEvent, Level, Outcome, Status};
use super::theme::Theme;
use lines::{EntryLine, LineEntry, LineForm, expiry_text};
use lotline_domain::scan::Scan;
use lotline_domain::{
    Dimension, Invalid, Item, Lot, LotStatus, Party, Problems, Qty, Refused, Role, Unit,
};
use lotline_station::{Station, StationError};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use tui_input::InputRequest;

/// What a person does in a form; the keymap's actions and typed text become these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormAction {
    Next,
    Prev,
    Up,
    Down,
    /// Enter.
    Confirm,
    /// Esc.
    Cancel,
    Save,
    Clear,
    RemoveLine,
    /// Typing and editing keys, for the focused field.
    Edit(InputRequest),
    Paste(String),
}

impl FormAction {
    /// What a keymap action does in a form, if anything.
    pub fn from_action(a: super::keymap::Action) -> Option<FormAction> {
        use super::keymap::Action;
        Some(match a {
            Action::NextField => FormAction::Next,
            Action::PrevField => FormAction::Prev,
            Action::Up => FormAction::Up,
            Action::Down => FormAction::Down,
            Action::Confirm => FormAction::Confirm,
            Action::Cancel => FormAction::Cancel,
            Action::Save => FormAction::Save,
            Action::Clear => FormAction::Clear,
            Action::RemoveLine => FormAction::RemoveLine,
            _ => return None,
        })
    }
}

/// What a render needs besides the screen's own state.
pub struct Ui<'a> {
    pub theme: &'a Theme,
    /// Below 80x24: labels above fields, one column.
    pub compact: bool,
    /// The cursor is in the form (not in the menu): show focus and the cursor.
    pub editing: bool,
    pub keymap: &'a Keymap,
    /// The terminal scrolls regions (`paint.rs`): lists follow the selection a row at a
    /// time instead of jumping half a window ([`super::draw::scroll`]).
    pub by_row: bool,
}

/// A refusal: the error on the status line, the field it names marked and focused; the
/// form's values are left as they were for correction.
pub fn refuse(form: &mut Form, e: &StationError) -> Outcome {
    form.mark_error(e.field.as_deref());
    Outcome::error(e)
}

/// Every problem found reading a form: each field is checked, not only up to the first
/// wrong one, so the refusal can follow the form (see [`refuse_all`]).
pub type Checks = Problems<StationError>;

/// A form refused for one or more problems, reported in the order the form shows its
/// fields, so a clerk fixes them top to bottom: the first (by the field's place in
/// `form.order`, ties in the order found) goes on the status line and gets the cursor, as
/// [`refuse`] does; the other fields found wrong are marked too, and the status line says
/// how many more there are. One problem a field: the first found (an empty required
/// field is not also "not a number").
pub fn refuse_all(form: &mut Form, refused: Refused<StationError>) -> Outcome {
    let mut all = refused.into_vec();
    // A stable sort: problems of the same place keep the order they were found in.
    all.sort_by_key(|e| form.rank(e.field.as_deref()));
    let mut fields: Vec<Option<String>> = Vec::new();
    all.retain(|e| {
        let new = e.field.is_none() || !fields.contains(&e.field);
        fields.push(e.field.clone());
        new
    });
    let mut all = all.into_iter();
    let Some(first) = all.next() else {
        return Outcome::none();
    };
    let mut out = refuse(form, &first);
    let rest: Vec<StationError> = all.collect();
    for e in &rest {
        form.mark_also(e.field.as_deref());
    }
    if let (n @ 1.., Some(InternalEvent::Status(s))) = (rest.len(), out.events.last_mut()) {
        s.text = format!(
            "{} ({n} more field{} to fix)",
            s.text,
            if n == 1 { "" } else { "s" }
        );
    }
    out
}

pub fn invalid(field: &str, problem: impl Into<String>) -> StationError {
    Invalid::new(field, problem).into()
}

pub fn item_candidates(items: &[Item]) -> Vec<Candidate> {
    items
        .iter()
        .map(|i| Candidate::new(i.code.as_str(), &i.description.name))
        .collect()
}

pub fn party_candidates(parties: &[Party], want: impl Fn(Role) -> bool) -> Vec<Candidate> {
    parties
        .iter()
        .filter(|p| want(p.role))
        .map(|p| Candidate::new(p.id.as_str(), &p.location.business_name))
        .collect()
}

/// Editing that works the same in every form: typing, paste, pick-list moves, Tab, Esc.
/// Returns None for actions the screen must decide itself.
pub fn common(
    form: &mut Form,
    action: &FormAction,
    skip: impl Fn(Slot) -> bool,
) -> Option<Outcome> {
    match action {
        FormAction::Edit(req) => {
            let f = form.focused_mut()?;
            let before_cursor = f.input.cursor();
            let changed = f.edit(*req);
            Some(if changed || f.input.cursor() != before_cursor {
                Outcome::changed()
            } else {
                Outcome::none()
            })
        }
        FormAction::Paste(text) => {
            let f = form.focused_mut()?;
            for c in text
                .chars()
                .filter(|&c| !lotline_domain::text::is_unsafe(c))
            {
                f.edit(InputRequest::InsertChar(c));
            }
            Some(Outcome::changed())
        }
        FormAction::Up | FormAction::Down => {
            let down = *action == FormAction::Down;
            if let Some(f) = form.focused_mut() {
                if f.pick_open() {
                    if !down && f.pick == 0 && f.browse {
                        // Up past the top of a browsed list closes it.
                        f.browse = false;
                    } else {
                        f.pick_move(down);
                    }
                    return Some(Outcome::changed());
                }
                if down && f.open_browse() {
                    return Some(Outcome::changed());
                }
            }
            let moved = if down {
                form.next(skip)
            } else {
                form.prev(skip)
            };
            Some(if moved {
                Outcome::changed()
            } else {
                Outcome::none()
            })
        }
        FormAction::Prev => Some(if form.prev(skip) {
            Outcome::changed()
        } else {
            Outcome::none()
        }),
        FormAction::Cancel => {
            if let Some(f) = form.focused_mut()
                && f.pick_open()
            {
                f.pick_closed = true;
                f.browse = false;
                return Some(Outcome::changed());
            }
            Some(Outcome::changed().with(InternalEvent::Menu))
        }
        _ => None,
    }
}

/// If the focused field has its pick list open, take the selected entry. True if taken.
pub fn accept_pick(form: &mut Form) -> bool {
    match form.focused_mut() {
        Some(f) if f.pick_open() => f.pick_accept(),
        _ => false,
    }
}

/// A code field must name one of its candidates. Completes a case-insensitive exact match,
/// or (with `complete`) the one candidate the text matches; otherwise refuses, naming the
/// field.
pub fn check_choice(f: &mut Field, what: &str, complete: bool) -> Result<(), StationError> {
    if f.opt().is_none() || f.candidates.is_empty() {
        return Ok(());
    }
    let take = |f: &mut Field, v: String| {
        f.set(&v);
        f.pick_closed = true;
    };
    if let Some(c) = f.exact() {
        let v = c.value.clone();
        take(f, v);
        return Ok(());
    }
    let text = f.value().trim().to_string();
    if !complete {
        let all: Vec<&str> = f.candidates.iter().map(|c| c.value.as_str()).collect();
        return Err(invalid(
            f.name,
            format!(
                "{} is not a {what} accepted here; accepted: {}",
                lotline_domain::text::excerpt(text),
                all.join(", ")
            ),
        ));
    }
    let m = f.matches();
    if m.len() == 1 {
        let v = m[0].value.clone();
        take(f, v);
        return Ok(());
    }
    if m.is_empty() {
        Err(invalid(
            f.name,
            format!("no {what} matches {}", lotline_domain::text::excerpt(text)),
        ))
    } else {
        Err(invalid(
            f.name,
            format!(
                "{} matches {} {what}s; pick one with Up/Down",
                lotline_domain::text::excerpt(text),
                m.len()
            ),
        ))
    }
}

/// Why a lot cannot be used or shipped, if it cannot: held, recalled, voided, empty.
pub fn unusable(lot: &Lot, field: &str) -> Option<StationError> {
    let problem = match lot.status {
        LotStatus::Hold => format!(
            "lot {} is on hold; QA must release it before it is used or shipped",
            lot.code
        ),
        LotStatus::Recalled => format!(
            "lot {} is recalled and may not be used or shipped",
            lot.code
        ),
        LotStatus::Voided => format!("lot {} was voided; it does not exist", lot.code),
        LotStatus::Released if !lot.balance.is_positive() => format!(
            "lot {} has nothing left on hand ({} {})",
            lot.code, lot.balance, lot.unit
        ),
        LotStatus::Released => return None,
    };
    Some(invalid(field, problem))
}

/// A station error about `from` reported under the form's field name `to`.
pub fn rename(mut e: StationError, from: &str, to: &str) -> StationError {
    if e.field.as_deref() == Some(from) {
        e.field = Some(to.to_string());
    }
    e
}

/// Sum of quantities per unit: "45 case + 12.5 kg".
pub fn totals(lines: impl Iterator<Item = (Qty, Unit)>) -> String {
    let mut sums: Vec<(Unit, Qty)> = Vec::new();
    for (q, u) in lines {
        match sums.iter_mut().find(|(x, _)| *x == u) {
            Some((_, s)) => *s = *s + q,
            None => sums.push((u, q)),
        }
    }
    if sums.is_empty() {
        return "0".into();
    }
    sums.iter()
        .map(|(u, q)| format!("{q} {u}"))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// One piece of a vertically stacked layout and the slot it belongs to.
pub struct Piece {
    pub slot: Option<Slot>,
    pub height: u16,
}

/// Where each piece starts, scrolled so the focused piece is in view in `height` rows.
pub fn stack(pieces: &[Piece], focus: Slot, height: u16) -> (Vec<i32>, i32) {
    let mut ys = Vec::with_capacity(pieces.len());
    let mut y = 0i32;
    let mut focus_top = 0;
    let mut focus_bottom = 0;
    for p in pieces {
        ys.push(y);
        if p.slot == Some(focus) {
            focus_top = y;
            focus_bottom = y + p.height as i32;
        }
        y += p.height as i32;
    }
    let h = height as i32;
    let offset = if focus_bottom > h {
        (focus_bottom - h).min(focus_top)
    } else {
        0
    };
    (ys, offset)
}

/// `stack` in `area`, saying when pieces are hidden below the last row: that row then
/// shows the marker ("↓ more", or "↑↓ more" when some are above too) and the pieces get
/// the rows above it (the area returned). Tab reaches what is below; the marker is so
/// nobody takes the last field in view for the end of the form.
pub fn stack_marked(
    buf: &mut Buffer,
    pieces: &[Piece],
    focus: Slot,
    area: Rect,
    ui: &Ui,
) -> (Vec<i32>, i32, Rect) {
    let total: i32 = pieces.iter().map(|p| p.height as i32).sum();
    let (ys, offset) = stack(pieces, focus, area.height);
    if area.height < 4 || total <= offset + area.height as i32 {
        return (ys, offset, area);
    }
    let shorter = Rect::new(area.x, area.y, area.width, area.height - 1);
    let (ys, offset) = stack(pieces, focus, shorter.height);
    draw::more_in_row(
        buf,
        draw::row(area, area.height - 1),
        offset.max(0) as usize,
        shorter.height as usize,
        total.max(0) as usize,
        ui.theme,
    );
    (ys, offset, shorter)
}

/// The slots of a form with a list of lines, stacked one above the other as a handheld
/// shows them (the list a header row plus one row a line).
pub fn compact_pieces(form: &Form, lines: usize, view: &FormView, ui: &Ui) -> Vec<Piece> {
    form.order
        .iter()
        .map(|s| Piece {
            slot: Some(*s),
            height: match s {
                Slot::Lines => 1 + lines as u16,
                _ => view.height(*s, ui),
            },
        })
        .collect()
}

/// The full layout's two columns: the form's, at most 48 wide, and what is right of it.
pub fn form_columns(area: Rect) -> (Rect, Rect) {
    let left_w = area.width.min(48);
    let left = Rect::new(area.x, area.y, left_w, area.height);
    let right = Rect::new(area.x + left_w, area.y, area.width - left_w, area.height);
    (left, right)
}

/// The handheld layout of a form that has a list of lines (Produce, Ship): every slot
/// stacked in one column and scrolled to the cursor, the lines drawn by `render_lines`,
/// the pick list over the rest. Returns where the cursor goes.
pub fn render_compact_with_lines(
    form: &Form,
    lines: usize,
    buf: &mut Buffer,
    area: Rect,
    view: &FormView,
    ui: &Ui,
    render_lines: impl Fn(&mut Buffer, Rect),
) -> Option<Position> {
    let pieces = compact_pieces(form, lines, view, ui);
    let (ys, offset, shown) = stack_marked(buf, &pieces, form.slot(), area, ui);
    let mut cursor = None;
    for (p, y) in pieces.iter().zip(ys) {
        // A list taller than the rows above the cursor shows its part in view (its
        // header and the rows by its selection), rather than nothing.
        if p.slot == Some(Slot::Lines) {
            if let Some(r) = piece_clipped(shown, y, offset, p.height) {
                render_lines(buf, r);
            }
            continue;
        }
        let Some(r) = piece_rect(shown, y, offset, p.height) else {
            continue;
        };
        match p.slot {
            Some(Slot::Lines) => render_lines(buf, r),
            Some(s) => {
                if let Some(c) = view.draw_slot(buf, r, s, ui) {
                    cursor = Some(c);
                }
            }
            None => {}
        }
    }
    draw_pick(
        buf,
        compact_pick_area(area, cursor, pick_rows(form)),
        form,
        ui,
    );
    cursor
}

/// A form of fields and a button (no list of lines) in `area`: label beside box (full) or
/// above it (compact), scrolled to keep the focus in view, the focused field's pick list
/// under it. Returns where the cursor goes.
pub fn render_plain_form(
    buf: &mut Buffer,
    area: Rect,
    form: &Form,
    notes: Vec<(&'static str, String)>,
    button: &'static str,
    ui: &Ui,
) -> Option<Position> {
    use super::form::LABEL_W;
    let box_w = if ui.compact {
        area.width
    } else {
        area.width.saturating_sub(LABEL_W + 1).min(32)
    };
    let view = FormView {
        form,
        notes,
        button,
        box_w,
    };
    let pieces: Vec<Piece> = form
        .order
        .iter()
        .map(|s| Piece {
            slot: Some(*s),
            height: view.height(*s, ui),
        })
        .collect();
    let (ys, offset, shown) = stack_marked(buf, &pieces, form.slot(), area, ui);
    let mut cursor = None;
    for (p, y) in pieces.iter().zip(ys) {
        let (Some(r), Some(s)) = (piece_rect(shown, y, offset, p.height), p.slot) else {
            continue;
        };
        if let Some(c) = view.draw_slot(buf, r, s, ui) {
            cursor = Some(c);
        }
    }
    let mut pick = compact_pick_area(area, cursor, pick_rows(form));
    if !ui.compact && pick.width > LABEL_W {
        pick.x += LABEL_W;
        pick.width = (pick.width - LABEL_W).min(box_w.max(30));
    }
    draw_pick(buf, pick, form, ui);
    cursor
}

/// The rect of a piece starting at `y` (before scrolling by `offset`), or None if it
/// starts above the area or below it.
pub fn piece_rect(area: Rect, y: i32, offset: i32, height: u16) -> Option<Rect> {
    let top = y - offset;
    if top < 0 || top >= area.height as i32 {
        return None;
    }
    let h = (height as i32).min(area.height as i32 - top) as u16;
    Some(Rect::new(area.x, area.y + top as u16, area.width, h))
}

/// The part of a piece starting at `y` (before scrolling by `offset`) that is in `area`,
/// if any: a piece cut at the top keeps the rows below the cut.
pub fn piece_clipped(area: Rect, y: i32, offset: i32, height: u16) -> Option<Rect> {
    let top = (y - offset).max(0);
    let bottom = (y - offset + height as i32).min(area.height as i32);
    if top >= bottom {
        return None;
    }
    Some(Rect::new(
        area.x,
        area.y + top as u16,
        area.width,
        (bottom - top) as u16,
    ))
}

/// Draw a form's fields (and a button) in the layout the terminal allows. `notes` gives
/// the text shown beside (full) or after the label of (compact) each field; `extra`
/// pieces (such as a list of lines) are drawn by `draw_extra` at their slot.
pub struct FormView<'f> {
    pub form: &'f Form,
    pub notes: Vec<(&'static str, String)>,
    pub button: &'static str,
    pub box_w: u16,
}

impl FormView<'_> {
    fn note(&self, name: &str) -> &str {
        self.notes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.as_str())
            .unwrap_or("")
    }

    /// Draw the field at slot `s` into `r`; returns the cursor if focused.
    pub fn draw_slot(&self, buf: &mut Buffer, r: Rect, s: Slot, ui: &Ui) -> Option<Position> {
        let focused = ui.editing && self.form.slot() == s;
        match s {
            Slot::Field(i) => {
                let f = &self.form.fields[i];
                if ui.compact {
                    super::form::render_stacked(buf, r, f, focused, self.note(f.name), ui.theme)
                } else {
                    super::form::render_row(
                        buf,
                        r,
                        f,
                        focused,
                        self.box_w,
                        self.note(f.name),
                        ui.theme,
                    )
                }
            }
            Slot::Button => {
                let x = if ui.compact {
                    r.x
                } else {
                    r.x + super::form::LABEL_W
                };
                super::form::render_button(
                    buf,
                    Rect::new(x, r.y, r.width.saturating_sub(x - r.x), 1),
                    self.button,
                    focused,
                    ui.theme,
                );
                None
            }
            Slot::Lines => None,
        }
    }

    /// Height of a slot's piece in this layout.
    pub fn height(&self, s: Slot, ui: &Ui) -> u16 {
        match s {
            Slot::Field(_) if ui.compact => 2,
            _ => 1,
        }
    }
}

/// The pick list of the focused field, if open, as a box at `area`.
pub fn draw_pick(buf: &mut Buffer, area: Rect, form: &Form, ui: &Ui) {
    if !ui.editing {
        return;
    }
    if let Some(f) = form.focused()
        && f.pick_open()
    {
        super::form::render_picklist(buf, area, f, ui.theme);
    }
}

/// Rows a pick list box needs for the focused field: its matches and a border, at most 6.
pub fn pick_rows(form: &Form) -> u16 {
    let n = form.focused().map(|f| f.matches().len()).unwrap_or(0);
    (n.min(4) as u16) + 2
}

/// Where the pick list goes in the compact layout: under the focused field's box.
pub fn compact_pick_area(area: Rect, cursor: Option<Position>, rows: u16) -> Rect {
    let Some(c) = cursor else {
        return Rect::default();
    };
    let below = c.y.saturating_add(1);
    let room_below = area.bottom().saturating_sub(below);
    if room_below >= 3 {
        Rect::new(area.x, below, area.width, rows.min(room_below))
    } else {
        let h = rows.min(c.y.saturating_sub(area.y));
        Rect::new(area.x, c.y.saturating_sub(h), area.width, h)
    }
}

/// The keys that scroll a details pane, on its bottom border at the left (" ]/[ scroll "),
/// while it holds more than it shows: the footer has no room for them on a small screen.
/// Left out where the border cannot hold both them and the "more" marker.
pub fn scroll_keys_hint(buf: &mut Buffer, boxed: Rect, layer: super::keymap::Layer, ui: &Ui) {
    use super::keymap::Action;
    let key = |a| ui.keymap.key_for(&[layer], a).map(|k| k.label());
    let (Some(down), Some(up)) = (key(Action::ScrollDown), key(Action::ScrollUp)) else {
        return;
    };
    let t = format!(" {down}/{up} scroll ");
    // The widest marker (" 12/12 ↑↓ more ") and the corners stay clear.
    if boxed.height < 2 || draw::width(&t) + 11 + 2 > boxed.width as usize {
        return;
    }
    put(
        buf,
        boxed,
        boxed.x + 1,
        boxed.bottom() - 1,
        &t,
        ui.theme.dim,
    );
}

/// A line of text in the theme's dim style, clipped.
pub fn note_line(buf: &mut Buffer, area: Rect, y: u16, text: &str, ui: &Ui) {
    put(
        buf,
        area,
        area.x,
        y,
        &draw::fit(text, area.width as usize, ui.theme.ellipsis()),
        ui.theme.dim,
    );
}

/// A list's header row, `head`, at the top of `inner`. Returns how many rows fit under
/// it and the first to draw so that row `selected` is in view; `None` when none fits.
pub fn list_head(
    buf: &mut Buffer,
    inner: Rect,
    head: &str,
    selected: usize,
    ui: &Ui,
) -> Option<(usize, usize)> {
    let w = inner.width as usize;
    put(
        buf,
        inner,
        inner.x,
        inner.y,
        &draw::take(head, w),
        ui.theme.title,
    );
    let rows = inner.height.saturating_sub(1) as usize;
    if rows == 0 {
        return None;
    }
    Some((rows, selected.saturating_sub(rows - 1)))
}

/// The form of a prompt with one field (a reason, a note, a search, a file name).
pub fn one_field_form(field: Field) -> Form {
    let mut form = Form::new(vec![field]);
    form.order = vec![Slot::Field(0)];
    form
}

/// The reason typed in a one-field prompt, trimmed; refused when empty, `why` saying
/// what it is for ("say why, for the lot's history").
pub fn typed_reason(form: &Form, why: &str) -> Result<String, StationError> {
    let reason = form.fields[0].value().trim().to_string();
    if reason.is_empty() {
        return Err(invalid("reason", why));
    }
    Ok(reason)
}

/// A form action in a prompt that asks why (hold, release, retire). Esc closes it:
/// `Ok(None)`. Enter takes the reason typed (refused when empty, `why` saying what to
/// write) and runs `act` with it: `Ok(Some(msg))` once done, `msg` for the status line.
/// Anything else edits the field, and a refusal stays in the prompt: `Err(outcome)`.
pub fn reason_prompt(
    form: &mut Form,
    a: FormAction,
    why: &str,
    act: impl FnOnce(String) -> Result<String, StationError>,
) -> Result<Option<String>, Outcome> {
    match a {
        FormAction::Cancel => Ok(None),
        FormAction::Confirm | FormAction::Save => match typed_reason(form, why).and_then(act) {
            Ok(msg) => Ok(Some(msg)),
            Err(e) => Err(refuse(form, &e)),
        },
        other => Err(common(form, &other, |_| false).unwrap_or_default()),
    }
}

/// The outcome of a reason prompt once closed (see `reason_prompt`): after a change, the
/// screen `reload`s and `event` tells the rest of the app; after Esc, nothing changed.
pub fn reason_closed(
    done: Option<String>,
    reload: impl FnOnce() -> Outcome,
    event: InternalEvent,
) -> Outcome {
    match done {
        Some(msg) => Outcome {
            changed: true,
            events: reload().events,
        }
        .status(Status::ok(msg))
        .with(event),
        None => Outcome::changed().status(Status::info("Nothing changed")),
    }
}

/// A one-field prompt drawn in a box at most `max_w` wide in the middle of `area`,
/// titled `title`, the field on its first row (stacked on a handheld) and under it
/// "Enter: {yes}  Esc: {no}" with the keymap's keys. Returns the cursor.
#[allow(clippy::too_many_arguments)]
pub fn render_one_field_prompt(
    buf: &mut Buffer,
    area: Rect,
    max_w: u16,
    title: &str,
    form: &Form,
    yes: &str,
    no: &str,
    ui: &Ui,
) -> Option<Position> {
    use super::keymap::{Action, Layer};
    let w = area.width.min(max_w);
    let h = if ui.compact { 5 } else { 4 }.min(area.height);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + area.height.saturating_sub(h) / 2,
        w,
        h,
    );
    let inner = draw::boxed(buf, r, title, ui.theme);
    if inner.is_empty() {
        return None;
    }
    let f = &form.fields[0];
    let cursor = if ui.compact {
        super::form::render_stacked(buf, inner, f, ui.editing, "", ui.theme)
    } else {
        super::form::render_row(
            buf,
            draw::row(inner, 0),
            f,
            ui.editing,
            inner.width.saturating_sub(super::form::LABEL_W),
            "",
            ui.theme,
        )
    };
    let key = |a: Action| {
        ui.keymap
            .key_for(&[Layer::Form], a)
            .map(|k| k.label())
            .unwrap_or_default()
    };
    note_line(
        buf,
        inner,
        inner.y + if ui.compact { 2 } else { 1 },
        &format!(
            "{}: {yes}  {}: {no}",
            key(Action::Confirm),
            key(Action::Cancel)
        ),
        ui,
    );
    cursor
}

/// Today's status messages for saved work.
pub fn saved(text: String) -> Status {
    Status::ok(text)
}

// How a scan names our lots is one rule for the app and the command line.
pub use lotline_station::lookup::{item_by_gtin, scanned_lots, scanned_text};

/// The one lot of ours a scan puts on a Produce or Ship line: as `scanned_lots`, but when
/// one supplier lot became several of our lots, the one still usable is taken; several
/// usable ones are refused, naming them. `Ok(None)`: no lot of ours. Errors name `field`.
pub fn scanned_lot(
    scan: &Scan,
    items: &[Item],
    field: &str,
    station: &dyn Station,
) -> Result<Option<Lot>, StationError> {
    let mut lots = scanned_lots(scan, items, field, station)?;
    if lots.len() <= 1 {
        return Ok(lots.pop());
    }
    let text = scanned_text(scan).unwrap_or_default();
    let usable: Vec<&Lot> = lots
        .iter()
        .filter(|l| unusable(l, field).is_none())
        .collect();
    match usable.as_slice() {
        [] => Ok(lots.pop()),
        [one] => Ok(Some((*one).clone())),
        many => Err(invalid(
            field,
            format!(
                "supplier lot {text} was received as our lots {}; type or scan the one used",
                many.iter()
                    .map(|l| l.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// `note` added to what an outcome says on the status line; news that was only
/// information becomes a warning.
pub fn noted(mut out: Outcome, note: Option<String>) -> Outcome {
    let Some(note) = note else {
        return out;
    };
    let last = out.events.iter_mut().rev().find_map(|e| match e {
        InternalEvent::Status(s) => Some(s),
        _ => None,
    });
    match last {
        Some(s) => {
            s.text = format!("{}; {note}", s.text);
            if matches!(s.level, Level::Info | Level::Ok) {
                s.level = Level::Warn;
            }
            out
        }
        None => out.status(Status::warn(note)),
    }
}

/// Why a scan names no lot of ours, for the status line.
pub fn not_our_lot(scan: &Scan, field: &str) -> StationError {
    let text = scanned_text(scan).unwrap_or_default();
    invalid(
        field,
        format!(
            "the scanned {} is not one of our lots, nor a supplier lot we received",
            lotline_domain::text::excerpt(text)
        ),
    )
}

// A scanned net weight is read as a quantity the same way for a receipt and a line.
use lotline_station::case_label::decimal_qty;

/// The quantity a scan carries — a count (37) or a net weight (310n/320n) — in `unit`,
/// if it carries one that `unit` can take.
pub fn scanned_qty(scan: &Scan, unit: Unit) -> Option<Qty> {
    if unit.dimension() == Dimension::Count
        && let Some(n) = scan.count()
    {
        return i64::try_from(n).ok().map(Qty::from_units);
    }
    let (w, u) = scan.net_weight()?;
    let from: Unit = u.parse().ok()?;
    from.convert(decimal_qty(&w)?, unit).ok()
}
