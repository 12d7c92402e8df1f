//! Drawing the Trace screen: a pure function of its state. Only the rows on screen are
//! labelled and counted, however big the tree.

use super::*;
use crate::keymap::{Action, Layer};
use crate::tree::{Glyphs, NodeKind, count_text, mark, prefix};
use ratatui::style::Style;

/// Width of the detail pane beside the tree in the full layout.
const DETAIL_W: u16 = 30;

fn tone(t: Tone, ui: &Ui) -> Style {
    match t {
        Tone::Title => ui.theme.title,
        Tone::Strong => ui.theme.strong,
        Tone::Normal => ui.theme.label,
        Tone::Dim => ui.theme.dim,
        Tone::Warn => ui.theme.warn,
    }
}

fn key(ui: &Ui, layer: Layer, a: Action) -> String {
    ui.keymap
        .key_for(&[layer], a)
        .map(|k| k.label())
        .unwrap_or_default()
}

/// Lines into `area`, from `first`, each cut to the width.
fn lines(buf: &mut Buffer, area: Rect, v: &[Line], first: usize, ui: &Ui) {
    let w = area.width as usize;
    for (n, (t, tn)) in v.iter().skip(first).take(area.height as usize).enumerate() {
        put(
            buf,
            area,
            area.x,
            area.y + n as u16,
            &draw::fit(t, w, ui.theme.ellipsis()),
            tone(*tn, ui),
        );
    }
}

/// Lines wrapped to `w` columns, a wrapped line's rest indented under it.
fn wrap_lines(v: &[Line], w: usize) -> Vec<Line> {
    let mut out = Vec::with_capacity(v.len());
    for (t, tone) in v {
        let mut parts = draw::wrap(t, w).into_iter();
        out.push((parts.next().unwrap_or_default(), *tone));
        let rest: Vec<String> = parts.collect();
        if !rest.is_empty() {
            for p in draw::wrap(&rest.join(" "), w.saturating_sub(2).max(1)) {
                out.push((format!("  {p}"), *tone));
            }
        }
    }
    out
}

/// "12/812" on a box's bottom border, with whether more is above or below, when there is
/// more than fits: `first` is the first row shown, `at` the row the position names.
fn position(
    buf: &mut Buffer,
    boxed: Rect,
    first: usize,
    at: usize,
    of: usize,
    shown: usize,
    ui: &Ui,
) {
    if boxed.width < 12 {
        return;
    }
    draw::more(buf, boxed, first, shown, of, Some(at), ui.theme);
}

impl Trace {
    pub fn render(&self, buf: &mut Buffer, area: Rect, ui: &Ui) -> Option<Position> {
        if area.is_empty() {
            return None;
        }
        let mut cursor = match self.stage {
            Stage::Start => self.render_start(buf, area, ui),
            Stage::Pick => {
                self.render_pick(buf, area, ui);
                None
            }
            Stage::Tree => {
                match self.view {
                    View::Tree => self.render_tree(buf, area, ui),
                    View::Scope | View::Balance | View::Mock => self.render_view(buf, area, ui),
                }
                None
            }
        };
        if let Some(p) = &self.prompt {
            cursor = self.render_prompt(buf, area, p, ui);
        }
        cursor
    }

    fn notes(&self) -> Vec<(&'static str, String)> {
        let name = |f: &str| -> String {
            let v = self.start.value(f).trim();
            match f {
                "customer" => self
                    .parties
                    .iter()
                    .find(|(id, _)| id.as_str().eq_ignore_ascii_case(v))
                    .map(|(_, p)| p.location.business_name.clone())
                    .unwrap_or_default(),
                _ => self
                    .items
                    .iter()
                    .find(|(c, _)| c.as_str().eq_ignore_ascii_case(v))
                    .map(|(_, i)| i.description.name.clone())
                    .unwrap_or_default(),
            }
        };
        vec![("customer", name("customer")), ("item", name("item"))]
    }

    fn render_start(&self, buf: &mut Buffer, area: Rect, ui: &Ui) -> Option<Position> {
        let view = FormView {
            form: &self.start,
            notes: self.notes(),
            button: "Trace",
            box_w: 30,
        };
        let ui = &Ui {
            theme: ui.theme,
            compact: ui.compact,
            editing: ui.editing && self.editing && self.prompt.is_none(),
            keymap: ui.keymap,
            by_row: ui.by_row,
        };
        if ui.compact {
            let mut pieces = Vec::new();
            for s in &self.start.order {
                pieces.push(Piece {
                    slot: Some(*s),
                    height: view.height(*s, ui),
                });
            }
            let (ys, offset, shown) = stack_marked(buf, &pieces, self.start.slot(), area, ui);
            let mut cursor = None;
            for (p, y) in pieces.iter().zip(ys) {
                let Some(r) = piece_rect(shown, y, offset, p.height) else {
                    continue;
                };
                if let Some(s) = p.slot
                    && let Some(c) = view.draw_slot(buf, r, s, ui)
                {
                    cursor = Some(c);
                }
            }
            draw_pick(
                buf,
                compact_pick_area(area, cursor, pick_rows(&self.start)),
                &self.start,
                ui,
            );
            return cursor;
        }
        let inner = draw::boxed(
            buf,
            area,
            "Trace: start from a lot, a scan or a complaint",
            ui.theme,
        );
        if inner.is_empty() {
            return None;
        }
        let mut cursor = None;
        let mut y = 0u16;
        let mut field_y = 0u16;
        for s in &self.start.order {
            match s {
                Slot::Field(1) => {
                    y += 1;
                    note_line(
                        buf,
                        inner,
                        inner.y + y,
                        "or a complaint: who called, what they bought, when it shipped",
                        ui,
                    );
                    y += 1;
                }
                Slot::Button => y += 1,
                _ => {}
            }
            let r = draw::row(inner, y);
            if self.start.slot() == *s {
                field_y = y;
            }
            if r.height > 0
                && let Some(c) = view.draw_slot(buf, r, *s, ui)
            {
                cursor = Some(c);
            }
            y += 1;
        }
        let help = [
            "A lot code traces that lot both ways. A supplier's lot code",
            "finds the lots of ours that carry it. A GS1 scan of a case",
            "finds the item by its GTIN and the lot by its (10).",
            "A complaint lists the lots shipped to that customer, newest",
            "first: pick one to trace it back to its batch and inputs.",
        ];
        for (n, t) in help.iter().enumerate() {
            note_line(buf, inner, inner.y + y + 1 + n as u16, t, ui);
        }
        // The pick list of the focused field, to the right of the boxes.
        let px = inner.x + crate::form::LABEL_W + view.box_w + 1;
        if px + 12 <= inner.right() {
            let top = inner.y + field_y;
            let h = pick_rows(&self.start).min(inner.bottom().saturating_sub(top));
            draw_pick(
                buf,
                Rect::new(px, top, inner.right() - px, h),
                &self.start,
                ui,
            );
        }
        cursor
    }

    fn render_pick(&self, buf: &mut Buffer, area: Rect, ui: &Ui) {
        let Some(p) = &self.pick else {
            return;
        };
        let inner = draw::boxed(buf, area, &p.title, ui.theme);
        if inner.is_empty() {
            return;
        }
        let w = inner.width as usize;
        let head = if ui.compact {
            format!(" {} {}", draw::pad("Lot", 11), "Item")
        } else {
            format!(
                " {} {} {}",
                draw::pad("Lot", 12),
                draw::pad("Item", 13),
                "Shipped / received"
            )
        };
        let Some((rows, start)) = list_head(buf, inner, &head, p.selected, ui) else {
            return;
        };
        for (n, (i, e)) in p
            .entries
            .iter()
            .enumerate()
            .skip(start)
            .take(rows)
            .enumerate()
        {
            let sel = i == p.selected;
            let mark = if sel { ui.theme.marker() } else { " " };
            let text = if ui.compact {
                format!(
                    "{mark}{} {} {}",
                    draw::pad(e.lot.code.as_str(), 11),
                    draw::pad(e.lot.item.as_str(), 10),
                    e.note.trim_start_matches("shipped ")
                )
            } else {
                format!(
                    "{mark}{} {} {}",
                    draw::pad(e.lot.code.as_str(), 12),
                    draw::pad(e.lot.item.as_str(), 13),
                    e.note
                )
            };
            let style = if sel && ui.editing {
                ui.theme.selected
            } else {
                ui.theme.label
            };
            put(
                buf,
                inner,
                inner.x,
                inner.y + 1 + n as u16,
                &draw::pad(&draw::fit(&text, w, ui.theme.ellipsis()), w),
                style,
            );
        }
        position(buf, area, start, p.selected, p.entries.len(), rows, ui);
    }

    fn render_tree(&self, buf: &mut Buffer, area: Rect, ui: &Ui) {
        let (Some(l), Some(ctx)) = (&self.loaded, self.ctx()) else {
            return;
        };
        let ctx = Ctx {
            dot: ui.theme.dot(),
            ..ctx
        };
        let side = !ui.compact && !self.details_toggled && area.width >= 2 * DETAIL_W;
        let only_details = ui.compact && self.details_toggled;
        let (tree_area, detail_area) = if side {
            (
                Rect::new(area.x, area.y, area.width - DETAIL_W, area.height),
                Some(Rect::new(
                    area.right() - DETAIL_W,
                    area.y,
                    DETAIL_W,
                    area.height,
                )),
            )
        } else if only_details {
            (Rect::default(), Some(area))
        } else {
            (area, None)
        };
        if let Some(d) = detail_area {
            let back = if only_details {
                format!(" ({}: tree)", key(ui, Layer::Trace, Action::Details))
            } else {
                String::new()
            };
            let inner = draw::boxed(buf, d, &format!("Details{back}"), ui.theme);
            if let Some(r) = l.row() {
                let made_by = r
                    .kind
                    .lot(&l.graph)
                    .and_then(|id| ctx.lot(id))
                    .and_then(|lot| self.events.get(&lot.event));
                let reach = if r.has_children {
                    count_text(l.model.reach(r.key))
                } else {
                    String::new()
                };
                // Long lines (an address, a note) wrap rather than being cut, and the
                // pane scrolls by keys, marked when more is below.
                let mut detail = ctx.detail(r.kind, made_by, reach);
                if let Some(a) = r.kind.lot(&l.graph).and_then(|id| self.allergens.get(&id)) {
                    detail.extend(super::report::allergen_detail(a));
                }
                let v = wrap_lines(&detail, inner.width as usize);
                let h = inner.height as usize;
                let first = self.details_scroll.first(v.len(), h);
                lines(buf, inner, &v, first, ui);
                draw::more(buf, d, first, h, v.len(), None, ui.theme);
                if v.len() > h {
                    scroll_keys_hint(buf, d, Layer::Trace, ui);
                }
            }
        } else {
            // No pane: nothing to scroll (the footer drops its keys).
            self.details_scroll.first(0, 0);
        }
        if tree_area.is_empty() {
            return;
        }
        let root = l.root();
        let title = format!(
            "Trace of {}{}{}",
            root.code,
            ui.theme.dot(),
            l.graph.direction
        );
        let inner = draw::boxed(buf, tree_area, &title, ui.theme);
        if inner.is_empty() {
            return;
        }
        let g = Glyphs::new(ui.theme.ascii);
        let h = inner.height as usize;
        let n = l.rows.len();
        let off = draw::scroll(l.offset.get(), l.selected, h, n, ui.by_row);
        l.offset.set(off);
        let w = inner.width as usize;
        let ell = ui.theme.ellipsis();
        for (y, i) in (off..n.min(off + h)).enumerate() {
            let r = &l.rows[i];
            let sel = i == l.selected;
            let head = format!(
                "{}{}{}",
                if sel { ui.theme.marker() } else { " " },
                prefix(&l.rows, i, g),
                mark(r, g)
            );
            let count = if r.has_children && !r.expanded {
                count_text(l.model.reach(r.key))
            } else {
                String::new()
            };
            let cw = if count.is_empty() {
                0
            } else {
                draw::width(&count) + 1
            };
            let room = w.saturating_sub(cw);
            let text = draw::fit(&format!("{head}{}", ctx.label(r.kind)), room, ell);
            let status_held = r
                .kind
                .lot(&l.graph)
                .and_then(|id| ctx.lot(id))
                .is_some_and(|x| x.status != lotline_domain::LotStatus::Released)
                && !matches!(r.kind, NodeKind::Ship(_));
            let style = if sel {
                ui.theme.selected
            } else {
                match r.kind {
                    NodeKind::Root => ui.theme.strong,
                    NodeKind::Section { .. } => ui.theme.title,
                    NodeKind::Ref { .. } => ui.theme.dim,
                    _ if status_held => ui.theme.warn,
                    _ => ui.theme.label,
                }
            };
            let ry = inner.y + y as u16;
            if sel {
                draw::fill(buf, Rect::new(inner.x, ry, inner.width, 1), style);
            }
            put(buf, inner, inner.x, ry, &text, style);
            if cw > 0 {
                let cx = inner.right().saturating_sub(draw::width(&count) as u16);
                put(
                    buf,
                    inner,
                    cx,
                    ry,
                    &count,
                    if sel { style } else { ui.theme.dim },
                );
            }
        }
        position(buf, tree_area, off, l.selected, n, h, ui);
        if ui.compact && tree_area.height >= 2 && tree_area.width >= 16 {
            let k = key(ui, Layer::Trace, Action::Details);
            if !k.is_empty() {
                put(
                    buf,
                    tree_area,
                    tree_area.x + 1,
                    tree_area.bottom() - 1,
                    &format!(" {k}: details "),
                    ui.theme.dim,
                );
            }
        }
    }

    fn render_view(&self, buf: &mut Buffer, area: Rect, ui: &Ui) {
        let Some(l) = &self.loaded else {
            return;
        };
        let title = match self.view {
            View::Scope => "Recall scope".to_string(),
            View::Mock => "Mock recall".to_string(),
            _ => "Mass balance and mock recall".to_string(),
        };
        let inner = draw::boxed(buf, area, &title, ui.theme);
        if inner.is_empty() {
            return;
        }
        let v = self.drawn_lines(ui.theme.dot(), &|a| key(ui, Layer::Trace, a));
        if v.is_empty() {
            return;
        }
        let sel = l.scroll.min(v.len() - 1);
        let w = inner.width as usize;
        // The selected line, when cut at this width, is there in full under the list
        // (wrapped, after a rule), so nothing of it is out of reach on a handheld; the
        // list keeps one row per line, so a table's columns stay in line.
        let (text, tn) = &v[sel];
        let full: Vec<String> = if draw::width(text) > w {
            draw::wrap(text.trim_start(), w)
        } else {
            Vec::new()
        };
        let below = if full.is_empty() {
            0
        } else {
            // At least two rows stay for the list.
            (full.len() + 1).min((inner.height as usize).saturating_sub(2))
        };
        let list_h = inner.height as usize - below;
        let first = draw::scroll(l.view_offset.get(), sel, list_h, v.len(), ui.by_row);
        l.view_offset.set(first);
        let list = Rect::new(inner.x, inner.y, inner.width, list_h as u16);
        lines(buf, list, &v, first, ui);
        if let Some(y) = sel.checked_sub(first).filter(|&y| y < list_h) {
            let row = Rect::new(inner.x, inner.y + y as u16, inner.width, 1);
            draw::fill(buf, row, ui.theme.selected);
            put(
                buf,
                row,
                row.x,
                row.y,
                &draw::fit(text, w, ui.theme.ellipsis()),
                ui.theme.selected,
            );
        }
        if below > 0 {
            let rule_y = inner.y + list_h as u16;
            let rule = if ui.theme.ascii { "-" } else { "─" };
            put(buf, inner, inner.x, rule_y, &rule.repeat(w), ui.theme.dim);
            for (n, t) in full.iter().take(below - 1).enumerate() {
                put(
                    buf,
                    inner,
                    inner.x,
                    rule_y + 1 + n as u16,
                    &draw::fit(t, w, ui.theme.ellipsis()),
                    tone(*tn, ui),
                );
            }
        }
        position(buf, area, first, sel, v.len(), list_h, ui);
    }

    /// The count form: one row per field, over the mock recall view.
    fn render_count(&self, buf: &mut Buffer, area: Rect, p: &Prompt, ui: &Ui) -> Option<Position> {
        let w = area.width.min(64);
        let h = (p.form.fields.len() as u16 + 3).min(area.height);
        let r = Rect::new(
            area.x + (area.width - w) / 2,
            area.y + area.height.saturating_sub(h) / 2,
            w,
            h,
        );
        let id = self.mock.as_ref().map(|m| m.id).unwrap_or_default();
        let inner = draw::boxed(buf, r, &format!("Count for mock recall {id}"), ui.theme);
        if inner.is_empty() {
            return None;
        }
        let mut cursor = None;
        for (i, f) in p.form.fields.iter().enumerate() {
            let y = i as u16;
            if y >= inner.height {
                break;
            }
            let focused = ui.editing && p.form.slot() == Slot::Field(i);
            if let Some(c) = crate::form::render_row(
                buf,
                draw::row(inner, y),
                f,
                focused,
                inner.width.saturating_sub(crate::form::LABEL_W),
                "",
                ui.theme,
            )
            .filter(|_| focused)
            {
                cursor = Some(c);
            }
        }
        let hint_y = inner.y + p.form.fields.len() as u16;
        if hint_y < inner.y + inner.height {
            note_line(
                buf,
                inner,
                hint_y,
                &format!(
                    "{}: next/save  {}: cancel",
                    key(ui, Layer::Form, Action::Confirm),
                    key(ui, Layer::Form, Action::Cancel)
                ),
                ui,
            );
        }
        cursor
    }

    fn render_prompt(&self, buf: &mut Buffer, area: Rect, p: &Prompt, ui: &Ui) -> Option<Position> {
        if p.kind == PromptKind::Count {
            return self.render_count(buf, area, p, ui);
        }
        let root = self
            .loaded
            .as_ref()
            .map(|l| l.root().code.to_string())
            .unwrap_or_default();
        let n = self
            .loaded
            .as_ref()
            .and_then(|l| l.scope.as_ref())
            .map(|s| s.to_hold.len())
            .unwrap_or(0);
        let (title, verb) = match p.kind {
            PromptKind::Search => ("Search the tree".to_string(), "find"),
            PromptKind::Hold => (
                format!("Hold all {n} lot{} on hand", if n == 1 { "" } else { "s" }),
                "hold them",
            ),
            PromptKind::Record => (format!("Start a mock recall of {root}"), "start it"),
            PromptKind::Export => ("Export the trace (text and CSV)".to_string(), "write"),
            PromptKind::Finish => (
                // Once complete, the record takes no more counts: asked, never done at once.
                format!(
                    "Complete mock recall {} for good?",
                    self.mock.as_ref().map(|m| m.id).unwrap_or_default(),
                ),
                "complete it",
            ),
            PromptKind::Count => (String::new(), ""),
        };
        render_one_field_prompt(buf, area, 64, &title, &p.form, verb, "cancel", ui)
    }
}
