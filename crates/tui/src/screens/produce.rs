//! Produce: a batch. Choose the output item, add input lots one by one (typed or scanned;
//! each line shows the lot's item, balance and expiry), remove a wrong line, and close the
//! batch with the output quantity (FSMA transformation KDEs). An expired input is warned
//! about; a held, recalled or empty one is refused.
//!
//! When the output item has a recipe, the screen follows it (`recipe_check`): its inputs
//! are listed with the quantity expected for the batch and ticked as lots are added; a lot
//! of an item not on it is refused at the scan unless a reason is given (QA's override,
//! recorded on the batch); closing with an input missing or outside tolerance asks for the
//! reason; the closed batch's yield is said.

use super::recipe_check;
use super::*;
use chrono::NaiveDate;
use lotline_domain::scan::Scan;
use lotline_domain::{
    Deviation, ItemCode, LotCode, NewBatch, Override, Recipe, format_permille, parse_past_date,
    required_text, yield_outside, yield_permille,
};
use lotline_station::{Station, StationExt};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProduceAction {
    Form(FormAction),
    Refresh,
    /// A lot label (ours, or a supplier's case) was scanned: add its line.
    Scan(Scan),
    /// Lots changed here or at another station: the input lines' lots are read again.
    LotsChanged,
}

/// An input lot on the batch and the quantity used from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputLine {
    pub lot: Lot,
    pub qty: Qty,
    pub expired: bool,
}

pub struct Produce {
    /// The form and its input lines (the lot field "input", the quantity "used").
    pub entry: LineForm<InputLine>,
    /// The last batch closed: its lot code and a description.
    pub last: Option<(LotCode, String)>,
    /// The output item's recipe in effect today, and the item it was read for.
    pub recipe: Option<Recipe>,
    recipe_for: Option<String>,
}

impl Default for Produce {
    fn default() -> Self {
        Produce::new()
    }
}

impl Produce {
    pub fn new() -> Produce {
        let [ref2, no_ref] = documents::more_fields("PO:88123");
        let mut form = Form::new(vec![
            Field::new("item", "Output item")
                .placeholder("code or name")
                .required(),
            Field::new("ref", "Reference").placeholder("WO:2211"),
            ref2,
            no_ref,
            Field::new("line", "Line").placeholder("such as L1"),
            Field::new("date", "Date").placeholder("YYYY-MM-DD"),
            Field::new("input", "Input lot").placeholder("type or scan"),
            Field::new("used", "Qty used"),
            Field::new("qty", "Output qty")
                .placeholder("made")
                .required(),
            Field::new("reason", "Reason").placeholder("if off recipe"),
        ]);
        // item, the references, line, date, the lines, input lot, qty used, output qty,
        // button
        form.order = vec![
            Slot::Field(0),
            Slot::Field(1),
            Slot::Field(2),
            Slot::Field(3),
            Slot::Field(4),
            Slot::Field(5),
            Slot::Lines,
            Slot::Field(6),
            Slot::Field(7),
            Slot::Field(8),
            Slot::Field(9),
            Slot::Button,
        ];
        Produce {
            entry: LineForm::new(form, "input", "used"),
            last: None,
            recipe: None,
            recipe_for: None,
        }
    }

    pub fn is_dirty(&self) -> bool {
        self.entry.form.is_dirty() || !self.entry.lines.is_empty()
    }

    pub fn update(&mut self, action: ProduceAction, station: &dyn Station) -> Outcome {
        let out = match action {
            ProduceAction::Refresh => self.refresh(station),
            ProduceAction::Form(a) => self.form_action(a, station),
            ProduceAction::Scan(scan) => self.scan_line(&scan, station),
            ProduceAction::LotsChanged => self.lots_changed(station),
        };
        self.follow_recipe(station);
        out
    }

    /// Read the output item's recipe when the item typed changes.
    fn follow_recipe(&mut self, station: &dyn Station) {
        let typed = self.entry.form.value("item").trim().to_uppercase();
        if self.recipe_for.as_deref() == Some(typed.as_str()) {
            return;
        }
        self.recipe = ItemCode::parse(&typed, "item")
            .ok()
            .and_then(|code| recipe_check::in_effect(station, code));
        self.recipe_for = Some(typed);
    }

    /// Read the open batch's lots again: a lot QA put on hold (here or at another station)
    /// shows so on its line at once, with what to do, rather than only when the batch is
    /// refused at closing. Balances and the looked-up lot follow too.
    fn lots_changed(&mut self, station: &dyn Station) -> Outcome {
        if self.entry.lines.is_empty() && self.entry.preview.is_none() {
            return Outcome::none();
        }
        let mut news = Vec::new();
        for (i, line) in self.entry.lines.iter_mut().enumerate() {
            match station.lot(line.lot.code.clone()) {
                Ok(lot) => {
                    let was = unusable(&line.lot, "input").is_some();
                    let now = unusable(&lot, "input");
                    line.lot = lot;
                    if let Some(e) = now.filter(|_| !was) {
                        news.push(format!("line {}: {}", i + 1, e.message));
                    }
                }
                // The lot could not be read now (the server away): the line stays as it
                // was; closing the batch checks every lot again anyway.
                Err(_) => continue,
            }
        }
        if let Some(p) = &self.entry.preview
            && let Ok(lot) = station.lot(p.code.clone())
        {
            if let Some(e) = unusable(&lot, "input") {
                news.push(format!("input: {}", e.message));
                self.entry.preview = None;
                self.entry.form.get_mut("used").placeholder.clear();
            } else {
                self.entry.form.get_mut("used").placeholder = format!("max {}", lot.balance);
                self.entry.preview = Some(lot);
            }
        }
        if news.is_empty() {
            return Outcome::changed();
        }
        let remove = self
            .entry
            .lines
            .iter()
            .any(|l| unusable(&l.lot, "input").is_some());
        Outcome::changed().status(Status::warn(format!(
            "Batch: {}{}",
            news.join("; "),
            if remove {
                " — remove that line before closing the batch"
            } else {
                ""
            }
        )))
    }

    fn refresh(&mut self, station: &dyn Station) -> Outcome {
        match station.items().and_then(|i| Ok((i, station.today()?))) {
            Ok((items, today)) => {
                // Outputs are usually made things; list those first.
                let mut made: Vec<Item> = items.clone();
                made.sort_by_key(|i| match i.kind {
                    lotline_domain::ItemKind::Finished | lotline_domain::ItemKind::Intermediate => {
                        0
                    }
                    _ => 1,
                });
                self.entry.form.get_mut("item").candidates = item_candidates(&made);
                self.entry.refreshed(items, today);
                // The output item's recipe may have changed too (the Items screen's recipe
                // editor): it is read again for the item typed.
                self.recipe_for = None;
                Outcome::changed()
            }
            Err(e) => Outcome::error(&e),
        }
    }

    fn today(&mut self, station: &dyn Station) -> Result<NaiveDate, StationError> {
        let t = station.today()?;
        self.entry.today = Some(t);
        Ok(t)
    }

    /// The batch the form describes, or every problem with it (see `refuse_all`).
    fn batch(&mut self, today: NaiveDate) -> Result<NewBatch, Refused<StationError>> {
        let mut c = Checks::new();
        if let Some(t) = self.entry.form.get("input").opt() {
            c.push(invalid(
                "input",
                format!("press Enter to add lot {t} (or clear the field) before closing the batch"),
            ));
        }
        if self.entry.form.get("item").opt().is_none() {
            c.push(invalid("item", "output item is required"));
        }
        c.take(check_choice(self.entry.form.get_mut("item"), "item", true));
        if self.entry.lines.is_empty() {
            c.push(invalid("input", "add at least one input lot"));
        }
        if self.entry.form.get("qty").opt().is_none() {
            c.push(invalid("qty", "output quantity is required"));
        }
        let f = &self.entry.form;
        let opt = |n: &str| f.get(n).opt().map(str::to_string);
        let item = c.take(ItemCode::parse(f.value("item"), "item"));
        let qty = c.take(Qty::parse_positive(f.value("qty"), "qty"));
        let date = c.take(parse_past_date(
            opt("date").as_deref().unwrap_or("today"),
            "date",
            today,
        ));
        let line = c.take(
            opt("line")
                .map(|l| required_text(&l, "line", 40))
                .transpose(),
        );
        let (reference, docs) = documents::read(f, &mut c);
        if let Some(r) = opt("reason") {
            c.take(required_text(&r, "reason", lotline_domain::REASON_MAX));
        }
        c.finish(|| {
            Some(NewBatch {
                // Each expired input was warned about, in words, as it was added and is
                // marked EXPIRED on its line: saving with it is the override, and it is
                // recorded.
                allow_expired: self.entry.lines.iter().any(|l| l.expired),
                item: item?,
                qty: qty?,
                unit: None,
                date: date?,
                line: line?,
                reference: reference?,
                documents: docs?,
                expiry: None,
                inputs: self.entry.lot_lines(),
            })
        })
    }

    /// Empty the form; `keep` keeps the output item and line for the next batch.
    fn reset(&mut self, keep: bool) {
        for f in &mut self.entry.form.fields {
            if keep && matches!(f.name, "item" | "line" | "date") || !keep && f.name == "date" {
                let v = if f.name == "date" && !keep {
                    f.initial.clone()
                } else {
                    f.value().to_string()
                };
                f.reset_to(&v);
            } else {
                f.reset_to("");
            }
        }
        self.entry.clear_lines();
        self.entry
            .form
            .focus_field(if keep { "ref" } else { "item" });
    }

    fn notes(&self, ui: &Ui) -> Vec<(&'static str, String)> {
        let mut notes = Vec::new();
        if let Some(i) = self.entry.item() {
            if !ui.compact {
                notes.push(("item", i.description.name.clone()));
            }
            notes.push(("qty", i.unit.to_string()));
        }
        if let Some(l) = &self.entry.preview {
            let exp = match (l.expiry, self.entry.today) {
                (Some(e), Some(t)) if e < t => format!("EXPIRED {e}"),
                (Some(e), _) => format!("exp {e}"),
                (None, _) => "no expiry".into(),
            };
            let text = if ui.compact {
                format!("{} {}{}", l.item, l.balance, l.unit)
            } else {
                format!(
                    "{}{}{} {}{}{exp}",
                    l.item,
                    ui.theme.dot(),
                    l.balance,
                    l.unit,
                    ui.theme.dot()
                )
            };
            notes.push(("input", text));
            notes.push(("used", l.unit.to_string()));
        }
        notes
    }

    fn line_text(&self, i: usize, l: &InputLine, width: usize, compact: bool) -> String {
        // A lot held or recalled since it was added says so first: it may not be used.
        let status = match l.lot.status {
            lotline_domain::LotStatus::Released => String::new(),
            s => format!(" {}", super::lots::short_status(s)),
        };
        let flag = format!("{status}{}", if l.expired { " EXPIRED" } else { "" });
        if compact {
            return format!("{:>2} {} {} {}{flag}", i + 1, l.lot.code, l.qty, l.lot.unit);
        }
        let exp = expiry_text(&l.lot);
        let t = format!(
            "{:>2} {} {} {} {} {}{flag}",
            i + 1,
            draw::pad(l.lot.code.as_str(), 12),
            draw::pad(l.lot.item.as_str(), 13),
            draw::rpad(&format!("{} {}", l.qty, l.lot.unit), 12),
            draw::rpad(&format!("{} {}", l.lot.balance, l.lot.unit), 12),
            exp,
        );
        draw::take(&t, width)
    }

    fn lines_header(&self, compact: bool) -> String {
        let total = self.entry.total();
        if compact && let Some(r) = &self.recipe {
            return recipe_check::compact_header(r, &self.entry.lines, self.output_qty());
        }
        if self.entry.lines.is_empty() {
            "Inputs: none yet; type or scan them below".into()
        } else if compact {
            format!("Inputs ({}): {total}", self.entry.lines.len())
        } else {
            format!(
                " {:>2} {} {} {} {} Expiry",
                "#",
                draw::pad("Input lot", 12),
                draw::pad("Item", 13),
                draw::rpad("Used", 12),
                draw::rpad("On hand", 12),
            )
        }
    }

    /// The list of input lines in `area`, scrolled to keep the selection in view; in the
    /// full layout a total follows the lines when there is room.
    fn render_lines(&self, buf: &mut Buffer, area: Rect, ui: &Ui) {
        let shown = self.entry.render_lines(
            buf,
            area,
            ui,
            &self.lines_header(ui.compact),
            |i, l, w| self.line_text(i, l, w, ui.compact),
            |l| l.expired || l.lot.status != lotline_domain::LotStatus::Released,
        );
        let (w, rows) = (area.width as usize, area.height.saturating_sub(1) as usize);
        let mut below = 1 + shown as u16;
        if !ui.compact && !self.entry.lines.is_empty() && shown < rows {
            let n = self.entry.lines.len();
            let total = self.entry.total();
            let t = format!(
                "    {n} input{}, {total} used",
                if n == 1 { "" } else { "s" }
            );
            put(
                buf,
                area,
                area.x,
                area.y + below,
                &draw::fit(&t, w, ui.theme.ellipsis()),
                ui.theme.strong,
            );
            below += 1;
        }
        // The recipe's inputs, ticked, under the lines: one to a row where there is room,
        // else side by side in as many columns as it takes (the title row first).
        if let (false, Some(r)) = (ui.compact, &self.recipe) {
            let (output, items) = (self.output_qty(), &self.entry.items);
            let room = area.height.saturating_sub(below) as usize;
            let put_cell = |buf: &mut Buffer, x: u16, y: u16, cw: usize, text: &str, done| {
                let style = if done { ui.theme.ok } else { ui.theme.warn };
                put(
                    buf,
                    area,
                    x,
                    area.y + y,
                    &draw::fit(text, cw, ui.theme.ellipsis()),
                    style,
                );
            };
            // The title, then a row an input.
            if r.recipe.lines.len() < room || room < 2 {
                let rows = recipe_check::rows(r, &self.entry.lines, output, items);
                for (i, (text, done)) in rows.iter().take(room).enumerate() {
                    put_cell(buf, area.x, below + i as u16, w, text, *done);
                }
            } else {
                let (title, cells) = recipe_check::cells(r, &self.entry.lines, output, items);
                put_cell(buf, area.x, below, w, &title, true);
                let per_col = room - 1;
                let cols = cells.len().div_ceil(per_col).max(1);
                let cw = (w + 1) / cols;
                for (i, (text, done)) in cells.iter().enumerate() {
                    let (col, row) = (i / per_col, i % per_col);
                    let x = area.x + (2 + col * cw) as u16;
                    put_cell(
                        buf,
                        x,
                        below + 1 + row as u16,
                        cw.saturating_sub(3).max(1),
                        text,
                        *done,
                    );
                }
            }
        }
    }

    /// The output quantity typed, if it reads as one.
    fn output_qty(&self) -> Option<Qty> {
        Qty::parse_positive(self.entry.form.value("qty").trim(), "qty").ok()
    }

    pub fn render(&self, buf: &mut Buffer, area: Rect, ui: &Ui) -> Option<Position> {
        if area.is_empty() {
            return None;
        }
        let view = FormView {
            form: &self.entry.form,
            notes: self.notes(ui),
            button: "Close batch",
            box_w: 18,
        };
        if ui.compact {
            return self.render_compact(buf, area, &view, ui);
        }
        let title = match &self.last {
            Some((code, desc)) => format!("Batch (last closed: {code} {desc})"),
            None => "Batch".to_string(),
        };
        let inner = draw::boxed(buf, area, &title, ui.theme);
        if inner.is_empty() {
            return None;
        }
        // Output item, references, line and date above the inputs; input lot, qty used
        // and output qty below them.
        let cursor = super::lines::render_full_with_lines(buf, inner, &view, ui, 6, |buf, r| {
            self.render_lines(buf, r, ui)
        });
        let pick = Rect::new(
            inner.x + 34,
            inner.y + 1,
            inner.width.saturating_sub(34),
            inner.height.saturating_sub(2).min(10),
        );
        draw_pick(buf, pick, &self.entry.form, ui);
        cursor
    }

    fn render_compact(
        &self,
        buf: &mut Buffer,
        area: Rect,
        view: &FormView,
        ui: &Ui,
    ) -> Option<Position> {
        // On a handheld the form scrolls to the cursor; once the output item has scrolled
        // out of view, a pinned line keeps it on screen: what the batch makes is what
        // every input line is read against.
        let pieces = compact_pieces(&self.entry.form, self.entry.lines.len(), view, ui);
        let (_, offset) = stack(&pieces, self.entry.form.slot(), area.height);
        let item = self.entry.form.value("item").trim();
        let area = if offset > 0 && !item.is_empty() && area.height > 4 {
            let name = self
                .entry
                .item()
                .map(|i| format!(" {}", i.description.name))
                .unwrap_or_default();
            put(
                buf,
                area,
                area.x,
                area.y,
                &draw::fit(
                    &format!("Making {item}{name}"),
                    area.width as usize,
                    ui.theme.ellipsis(),
                ),
                ui.theme.strong,
            );
            Rect::new(area.x, area.y + 1, area.width, area.height - 1)
        } else {
            area
        };
        self.entry
            .render_compact(buf, area, view, ui, |buf, r| self.render_lines(buf, r, ui))
    }
}

impl EntryLine for InputLine {
    fn lot_qty(&self) -> (&Lot, Qty) {
        (&self.lot, self.qty)
    }
}

impl LineEntry for Produce {
    type Line = InputLine;
    const CHOICES: &'static [&'static str] = &["item"];
    const NO_LOT: &'static str = "type or scan the first input lot";
    // Done adding inputs: on to the output quantity.
    const AFTER_LOTS: Slot = Slot::Field(8);

    fn entry(&mut self) -> &mut LineForm<InputLine> {
        &mut self.entry
    }

    /// Find the lot typed in the input field; show it, or say why it cannot be used.
    fn look_up(&mut self, station: &dyn Station) -> Outcome {
        let found = (|| -> Result<(Lot, NaiveDate), StationError> {
            let code = LotCode::parse(self.entry.form.value("input"), "input")?;
            let lot = station.lot(code).map_err(|e| rename(e, "lot", "input"))?;
            if let Some(e) = unusable(&lot, "input") {
                return Err(e);
            }
            if let Some(r) = &self.recipe
                && self.entry.form.get("reason").opt().is_none()
                && let Some(e) = recipe_check::off_recipe(r, &lot)
            {
                return Err(e);
            }
            if let Some(n) = self.entry.lines.iter().position(|l| l.lot.id == lot.id) {
                return Err(invalid(
                    "input",
                    format!(
                        "lot {} is already line {}; remove that line to change its quantity",
                        lot.code,
                        n + 1
                    ),
                ));
            }
            Ok((lot, self.today(station)?))
        })();
        match found {
            Ok((lot, today)) => {
                let status = if lot.is_expired(today) {
                    Status::warn(format!(
                        "input: lot {} expired on {}; check with QA before using it",
                        lot.code,
                        lot.expiry.map(|d| d.to_string()).unwrap_or_default()
                    ))
                } else {
                    Status::info(format!(
                        "Lot {}: {} with {} {} on hand; enter the quantity used",
                        lot.code, lot.item, lot.balance, lot.unit
                    ))
                };
                let max = lot.balance;
                self.entry.found(lot, max, status)
            }
            Err(e) => self.entry.not_found(&e),
        }
    }

    fn add_line(&mut self, station: &dyn Station) -> Outcome {
        let lot = match self.lot_to_add(station, "type or scan a lot first") {
            Ok(lot) => lot,
            Err(out) => return out,
        };
        let qty = match self.entry.qty_from(&lot) {
            Ok(q) => q,
            Err(out) => return out,
        };
        let expired = self.entry.today.is_some_and(|t| lot.is_expired(t));
        let n = self.entry.lines.len() + 1;
        let text = format!("Line {n}: {} {} {} {}", lot.code, lot.item, qty, lot.unit);
        let status = if expired {
            Status::warn(format!("{text}; EXPIRED lot, check with QA"))
        } else {
            Status::ok(text)
        };
        self.entry.push(InputLine { lot, qty, expired });
        Outcome::changed().status(status)
    }

    fn save(&mut self, station: &dyn Station) -> Outcome {
        let today = match self.today(station) {
            Ok(t) => t,
            Err(e) => return Outcome::error(&e),
        };
        let batch = match self.batch(today) {
            Ok(b) => b,
            Err(e) => return refuse_all(&mut self.entry.form, e),
        };
        let unit = self
            .entry
            .item()
            .map(|i| i.unit.to_string())
            .unwrap_or_default();
        let n = batch.inputs.len();
        let reason = self.entry.form.get("reason").opt().map(str::to_string);
        let assessed = self
            .recipe
            .as_ref()
            .map(|r| recipe_check::assess(r, &self.entry.lines, batch.qty));
        let deviations = assessed.as_ref().map_or(&[][..], |a| &a.deviations[..]);
        let made = match (deviations.is_empty(), reason) {
            (true, _) => station.produce(batch.clone()),
            (false, None) => {
                return refuse(
                    &mut self.entry.form,
                    &recipe_check::needs_reason(&batch.item, deviations, &self.entry.lines),
                );
            }
            (false, Some(reason)) => station.produce_override(
                batch.clone(),
                Override {
                    reason,
                    off_recipe: deviations.iter().any(Deviation::needs_qa),
                },
            ),
        };
        match made {
            Ok(created) => {
                let desc = format!("{} {} {unit}", batch.item, batch.qty);
                let mut msg = format!(
                    "Batch closed: lot {} is {desc}, from {n} input{}",
                    created.code,
                    if n == 1 { "" } else { "s" }
                );
                let mut warn = false;
                if let (Some(r), Some(a)) = (&self.recipe, &assessed)
                    && let Some(y) = a.expected.and_then(|e| yield_permille(e, batch.qty))
                {
                    msg.push_str(&format!("; yield {}", format_permille(y)));
                    if yield_outside(y, r.recipe.yield_tolerance_pct) {
                        msg.push_str(&format!(", OUTSIDE ±{} %", r.recipe.yield_tolerance_pct));
                        warn = true;
                    }
                }
                let status = match &created.hold {
                    Some(why) => Status::warn(format!(
                        "Lot {} is ON HOLD: {why}; QA must release it before it is used",
                        created.code
                    )),
                    None if warn => Status::warn(msg),
                    None => saved(msg),
                };
                self.last = Some((created.code, desc));
                self.reset(true);
                Outcome::changed()
                    .status(status)
                    .with(InternalEvent::LotsChanged)
            }
            Err(e) => self.entry.refuse_line(&e),
        }
    }

    fn clear(&mut self) -> Outcome {
        self.reset(false);
        Outcome::changed().status(Status::info("Batch form cleared"))
    }
}
