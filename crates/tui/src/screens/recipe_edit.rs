//! The Items screen's recipe editor (admin): a new version of the selected item's recipe,
//! opened on its newest version (or empty, for its first) and saved as one command
//! (`add_recipe`). The version's values sit above its input lines; a line is typed in the
//! fields below them and added with Enter, taken back into those fields with Enter on it,
//! and removed with the remove-line key. Everything typed is read by the rules the command
//! line reads its flags by (`setup::recipe`), so both accept and refuse the same recipes;
//! a refusal marks the field (or selects the line) it names and leaves everything as typed.

use super::lines::{render_full_with_lines, render_line_list};
use super::*;
use chrono::NaiveDate;
use lotline_domain::{ItemCode, MAX_RECIPE_LINES, Recipe, RecipeLine};
use lotline_station::StationExt;
use lotline_station::setup::recipe::{self as rules, LineFields, VersionText};

/// The fields an input line is typed in, by the names the rules' problems go under.
const LINE: LineFields<'static> = LineFields {
    item: "input",
    qty: "qty",
    tolerance: "tolerance",
    substitutes: "substitutes",
};

/// The line fields, in the order they are typed.
const LINE_FIELDS: [&str; 4] = ["input", "qty", "tolerance", "substitutes"];

/// The fields above the lines, in the full layout.
const TOP: u16 = 4;

/// What an action in the editor leaves the Items screen to do.
pub enum Step {
    /// The editor stays open.
    Stay(Outcome),
    /// Closed without saving.
    Close(Outcome),
    /// Saved: what the status line says.
    Saved(String),
}

pub struct RecipeEditor {
    /// The output item.
    pub item: Item,
    /// The version saving makes: 1 for the first.
    pub version: u32,
    /// When the newest version takes effect: a new one may not take effect before it.
    after: Option<NaiveDate>,
    pub form: Form,
    /// The input lines, in the recipe's order.
    pub lines: Vec<RecipeLine>,
    /// The selected line: the one Enter takes back into the fields and remove takes away.
    pub selected: usize,
    /// The lines the editor opened with (the newest version's), to tell unsaved changes.
    opened_with: Vec<RecipeLine>,
    /// The line taken back into the fields and where it was: Enter puts what the fields
    /// say in its place; fields left empty put it back as it was (C-d removes a line).
    taken: Option<(usize, RecipeLine)>,
    /// Every item: the inputs' units and names.
    items: Vec<Item>,
    today: NaiveDate,
    /// Esc was pressed once on an editor holding changes.
    discard_armed: bool,
}

impl RecipeEditor {
    /// The editor on `item`'s recipe, read from the station.
    pub fn open(item: Item, station: &dyn Station) -> Result<RecipeEditor, StationError> {
        let versions = station.recipes(Some(item.code.clone()))?;
        let items = station.items()?;
        let today = station.today()?;
        Ok(RecipeEditor::new(item, versions.last(), items, today))
    }

    /// The editor on `item`'s recipe whose newest version is `newest` (none: its first).
    pub fn new(
        item: Item,
        newest: Option<&Recipe>,
        items: Vec<Item>,
        today: NaiveDate,
    ) -> RecipeEditor {
        let mut reason = Field::new("reason", "Reason");
        reason = match newest {
            // A new version must say why; the first has a reason already written in.
            Some(_) => reason.placeholder("why this version").required(),
            None => reason.placeholder("why, for the history"),
        };
        // The inputs a line may name: active items, not the output itself.
        let inputs: Vec<Item> = items
            .iter()
            .filter(|i| i.retired.is_none() && i.code != item.code)
            .cloned()
            .collect();
        let mut input = Field::new("input", "Input item").placeholder("code or name");
        input.candidates = item_candidates(&inputs);
        let mut form = Form::new(vec![
            Field::new("per", "Batch size")
                .placeholder("output per batch")
                .required(),
            Field::new("yield-tolerance", "Yield tol. %")
                .placeholder(rules::DEFAULT_YIELD_TOLERANCE_PCT.to_string()),
            Field::new("effective", "Effective").placeholder("YYYY-MM-DD"),
            reason,
            input,
            Field::new("qty", "Qty per batch").placeholder("in its unit"),
            Field::new("tolerance", "Tolerance %")
                .placeholder(rules::DEFAULT_TOLERANCE_PCT.to_string()),
            Field::new("substitutes", "Substitutes").placeholder("codes, comma-separated"),
        ]);
        form.order = vec![
            Slot::Field(0),
            Slot::Field(1),
            Slot::Field(2),
            Slot::Field(3),
            Slot::Lines,
            Slot::Field(4),
            Slot::Field(5),
            Slot::Field(6),
            Slot::Field(7),
            Slot::Button,
        ];
        let (per, yield_tol, lines) = match newest {
            Some(r) => (
                r.recipe.per.to_string(),
                r.recipe.yield_tolerance_pct.to_string(),
                r.recipe.lines.clone(),
            ),
            // The command line's defaults: quantities per one unit of output.
            None => (
                "1".to_string(),
                rules::DEFAULT_YIELD_TOLERANCE_PCT.to_string(),
                Vec::new(),
            ),
        };
        form.get_mut("per").reset_to(&per);
        form.get_mut("yield-tolerance").reset_to(&yield_tol);
        form.get_mut("effective").reset_to(&today.to_string());
        if newest.is_none() {
            form.get_mut("reason").reset_to(rules::FIRST_REASON);
        }
        RecipeEditor {
            item,
            version: newest.map_or(1, |r| r.version + 1),
            after: newest.map(|r| r.recipe.effective),
            form,
            opened_with: lines.clone(),
            lines,
            selected: 0,
            taken: None,
            items,
            today,
            discard_armed: false,
        }
    }

    pub fn is_dirty(&self) -> bool {
        self.form.is_dirty() || self.lines != self.opened_with
    }

    /// "Recipe of DOUGH (new version 3)", "First recipe of DOUGH".
    pub fn title(&self) -> String {
        if self.version == 1 {
            format!("First recipe of {}", self.item.code)
        } else {
            format!(
                "Recipe of {} (new version {})",
                self.item.code, self.version
            )
        }
    }

    /// Which slots moving through the form skips: the lines, while there are none.
    fn skip(&self) -> impl Fn(Slot) -> bool + use<> {
        let empty = self.lines.is_empty();
        move |s| empty && s == Slot::Lines
    }

    /// Something is typed in the line fields.
    fn line_typed(&self) -> bool {
        LINE_FIELDS.iter().any(|n| self.form.get(n).opt().is_some())
    }

    fn unit_of(&self, code: &ItemCode) -> String {
        self.items
            .iter()
            .find(|i| &i.code == code)
            .map_or(String::new(), |i| i.unit.to_string())
    }

    /// The item the input field names exactly, if any.
    fn input_item(&self) -> Option<&Item> {
        let v = self.form.value("input").trim();
        self.items
            .iter()
            .find(|i| i.code.as_str().eq_ignore_ascii_case(v))
    }

    pub fn action(&mut self, a: FormAction, station: &dyn Station) -> Step {
        if a != FormAction::Cancel {
            self.discard_armed = false;
        }
        let out = match a {
            FormAction::Save => return self.save(station),
            FormAction::Cancel => return self.cancel(),
            FormAction::Confirm => return self.confirm(station),
            FormAction::RemoveLine => self.remove_line(),
            FormAction::Next => {
                if self.form.focused().is_some_and(|f| f.opt().is_some()) {
                    accept_pick(&mut self.form);
                }
                let skip = self.skip();
                self.form.next(skip);
                Outcome::changed()
            }
            FormAction::Up | FormAction::Down if self.form.slot() == Slot::Lines => {
                let last = self.lines.len().saturating_sub(1);
                self.selected = if a == FormAction::Up {
                    self.selected.saturating_sub(1)
                } else {
                    (self.selected + 1).min(last)
                };
                Outcome::changed()
            }
            FormAction::Clear => Outcome::none(),
            other => {
                let skip = self.skip();
                common(&mut self.form, &other, skip).unwrap_or_default()
            }
        };
        Step::Stay(out)
    }

    /// Esc: close the pick list; on an editor holding changes, ask once; else close.
    fn cancel(&mut self) -> Step {
        if let Some(f) = self.form.focused_mut()
            && f.pick_open()
        {
            f.pick_closed = true;
            f.browse = false;
            return Step::Stay(Outcome::changed());
        }
        if self.is_dirty() && !self.discard_armed {
            self.discard_armed = true;
            return Step::Stay(Outcome::changed().status(Status::warn(
                "Esc again closes the recipe without saving; save keeps your changes",
            )));
        }
        Step::Close(Outcome::changed().status(Status::info(format!(
            "Nothing saved: {}'s recipe is as it was",
            self.item.code
        ))))
    }

    /// Enter: on the button, save; on a line, take it back into the fields; on the input
    /// item, check it (or, empty, go on to the button); on the line's other fields, add
    /// the line; elsewhere, the next field.
    fn confirm(&mut self, station: &dyn Station) -> Step {
        if accept_pick(&mut self.form) {
            return Step::Stay(Outcome::changed());
        }
        let out = match self.form.slot() {
            Slot::Button => return self.save(station),
            Slot::Lines => self.take_back(),
            Slot::Field(_) => match self.form.focused().map(|f| f.name).unwrap_or("") {
                "input" => self.confirm_input(),
                "qty" | "tolerance" | "substitutes" => match self.add_line() {
                    Ok(()) => Outcome::changed(),
                    Err(out) => out,
                },
                _ => {
                    self.form.next(self.skip());
                    Outcome::changed()
                }
            },
        };
        Step::Stay(out)
    }

    fn confirm_input(&mut self) -> Outcome {
        if self.form.get("input").opt().is_none() {
            if self.lines.is_empty() {
                return refuse(
                    &mut self.form,
                    &invalid("input", "type the first input's item code or name"),
                );
            }
            self.form.focus_slot(Slot::Button);
            return Outcome::changed();
        }
        if let Err(e) = self.check_input() {
            return refuse(&mut self.form, &e);
        }
        self.form.next(self.skip());
        Outcome::changed()
    }

    /// The input field names an item a line may take: completed to its code when the text
    /// matches one. The output item itself is left for the recipe's rule to refuse in its
    /// own words, rather than as an unknown item.
    fn check_input(&mut self) -> Result<(), StationError> {
        let own = self
            .form
            .value("input")
            .trim()
            .eq_ignore_ascii_case(self.item.code.as_str());
        if own {
            return Ok(());
        }
        check_choice(self.form.get_mut("input"), "item", true)
    }

    /// Add the line typed in the line fields (back where it was, if it was taken back),
    /// selected, and empty the fields for the next. `Err`: why it was refused, its fields
    /// marked and left as typed.
    fn add_line(&mut self) -> Result<(), Outcome> {
        if let Err(e) = self.check_input() {
            return Err(refuse(&mut self.form, &e));
        }
        if self.taken.is_none() && self.lines.len() >= MAX_RECIPE_LINES {
            return Err(refuse(
                &mut self.form,
                &invalid(
                    "input",
                    format!(
                        "a recipe takes at most {MAX_RECIPE_LINES} inputs; remove one to add another"
                    ),
                ),
            ));
        }
        let f = &self.form;
        let line = rules::line_checked(
            f.value("input"),
            f.value("qty"),
            f.value("tolerance"),
            f.value("substitutes"),
            Some(&self.item.code),
            &LINE,
        )
        .map_err(|r| refuse_all(&mut self.form, r.map(StationError::from)))?;
        if let Some(s) = line
            .substitutes
            .iter()
            .find(|s| !self.items.iter().any(|i| &i.code == *s))
        {
            return Err(refuse(
                &mut self.form,
                &invalid(
                    "substitutes",
                    format!("there is no item {s}; give item codes as the Items list has them"),
                ),
            ));
        }
        let at = self
            .taken
            .take()
            .map_or(self.lines.len(), |(i, _)| i.min(self.lines.len()));
        self.lines.insert(at, line);
        self.selected = at;
        for n in LINE_FIELDS {
            self.form.get_mut(n).reset_to("");
        }
        self.form.focus_field("input");
        Ok(())
    }

    /// A line taken back whose fields were then emptied goes back as it was: clearing the
    /// fields is not removing the line (C-d is), and nothing typed before is lost.
    fn put_back_untouched(&mut self) {
        if self.line_typed() {
            return;
        }
        let Some((i, line)) = self.taken.take() else {
            return;
        };
        let at = i.min(self.lines.len());
        // The selection stays on the line it was on.
        if !self.lines.is_empty() && at <= self.selected {
            self.selected += 1;
        }
        self.lines.insert(at, line);
    }

    /// Enter on a line: it goes back into the line fields to be changed, and Enter there
    /// puts it back in its place.
    fn take_back(&mut self) -> Outcome {
        self.put_back_untouched();
        if self.lines.is_empty() {
            return Outcome::none();
        }
        if self.line_typed() {
            return refuse(
                &mut self.form,
                &invalid(
                    "input",
                    "add the line typed below (Enter) or clear it before taking another back",
                ),
            );
        }
        let i = self.selected.min(self.lines.len() - 1);
        let line = self.lines.remove(i);
        for (name, text) in LINE_FIELDS.iter().zip(rules::line_text(&line)) {
            self.form.get_mut(name).set(&text);
            self.form.get_mut(name).pick_closed = true;
        }
        self.taken = Some((i, line.clone()));
        self.selected = i.min(self.lines.len().saturating_sub(1));
        self.form.focus_field("qty");
        Outcome::changed().status(Status::info(format!(
            "Line {} ({}) is in the fields below: change it, then Enter puts it back",
            i + 1,
            line.item
        )))
    }

    /// Take the selected line away.
    fn remove_line(&mut self) -> Outcome {
        if self.lines.is_empty() {
            return Outcome::changed().status(Status::warn("input: there is no line to remove"));
        }
        let i = self.selected.min(self.lines.len() - 1);
        let gone = self.lines.remove(i);
        // The line taken back came from after this one: its place moves up with the rest.
        if let Some((t, _)) = self.taken.as_mut()
            && *t > i
        {
            *t -= 1;
        }
        self.selected = i.min(self.lines.len().saturating_sub(1));
        if self.lines.is_empty() && self.form.slot() == Slot::Lines {
            self.form.focus_field("input");
        }
        Outcome::changed().status(Status::info(format!(
            "Removed line {}: {} {} {}",
            i + 1,
            gone.item,
            gone.qty,
            self.unit_of(&gone.item)
        )))
    }

    /// Save: a line still in the fields is added first; then the version is read, checked
    /// and sent.
    fn save(&mut self, station: &dyn Station) -> Step {
        if self.line_typed()
            && let Err(out) = self.add_line()
        {
            return Step::Stay(out);
        }
        self.put_back_untouched();
        let f = &self.form;
        let version = VersionText {
            item: self.item.code.as_str(),
            per: f.value("per"),
            yield_tolerance: f.value("yield-tolerance"),
            effective: f.get("effective").opt(),
            reason: f.get("reason").opt(),
            reason_flag: "",
        };
        let new = match rules::recipe_checked(
            &version,
            self.lines.clone(),
            self.today,
            self.version == 1,
        ) {
            Ok(n) => n,
            Err(r) => return Step::Stay(self.refuse_all(r.map(StationError::from))),
        };
        let code = new.item.clone();
        if let Err(e) = station.add_recipe(new) {
            return Step::Stay(self.refuse(&e));
        }
        // Saved; the number is the store's (another admin may have saved one meanwhile).
        let version = station
            .recipes(Some(code.clone()))
            .ok()
            .and_then(|v| v.last().map(|r| r.version))
            .unwrap_or(self.version);
        Step::Saved(format!("{code} recipe version {version} saved"))
    }

    /// A refusal naming a line (`input 2: …`) selects that line, and says how to change
    /// it; any other marks its field.
    fn refuse(&mut self, e: &StationError) -> Outcome {
        if let Some(i) = super::lines::named_line(e, "input", self.lines.len()) {
            self.selected = i;
            self.form.mark_error(None);
            self.form.focus_slot(Slot::Lines);
            return noted(
                Outcome::error(e),
                Some("Enter on the line takes it back into the fields to change it".into()),
            );
        }
        refuse(&mut self.form, e)
    }

    fn refuse_all(&mut self, r: Refused<StationError>) -> Outcome {
        if r.rest.is_empty() {
            return self.refuse(&r.first);
        }
        refuse_all(&mut self.form, r)
    }

    // ---- drawing: a pure function of the state ----

    fn notes(&self, ui: &Ui) -> Vec<(&'static str, String)> {
        let mut notes = vec![("per", self.item.unit.to_string())];
        if let Some(d) = self.after {
            notes.push((
                "effective",
                format!("v{} from {d}", self.version.saturating_sub(1)),
            ));
        }
        if let Some(i) = self.input_item() {
            if !ui.compact {
                notes.push(("input", i.description.name.clone()));
            }
            notes.push(("qty", i.unit.to_string()));
        }
        notes
    }

    fn line_text(&self, i: usize, l: &RecipeLine, width: usize, compact: bool) -> String {
        let subs: Vec<&str> = l.substitutes.iter().map(|s| s.as_str()).collect();
        let unit = self.unit_of(&l.item);
        if compact {
            let or = if subs.is_empty() {
                String::new()
            } else {
                format!(" or {}", subs.join(","))
            };
            return format!(
                "{:>2} {} {} {unit} ±{}%{or}",
                i + 1,
                l.item,
                l.qty,
                l.tolerance_pct
            );
        }
        let t = format!(
            "{:>2} {} {} {} {}",
            i + 1,
            draw::pad(l.item.as_str(), 14),
            draw::rpad(&format!("{} {unit}", l.qty), 13),
            draw::rpad(&format!("±{} %", l.tolerance_pct), 6),
            subs.join(", ")
        );
        draw::take(&t, width)
    }

    fn lines_header(&self, compact: bool) -> String {
        if self.lines.is_empty() {
            return "Inputs: none yet; type them below".into();
        }
        // The quantities are for the batch size typed above.
        let per = format!("{} {}", self.form.value("per").trim(), self.item.unit);
        if compact {
            return format!("Inputs ({}) per {per}", self.lines.len());
        }
        format!(
            " {:>2} {} {} {} Substitutes",
            "#",
            draw::pad("Input", 14),
            draw::rpad(&format!("Per {per}"), 13),
            draw::rpad("Tol.", 6),
        )
    }

    fn render_lines(&self, buf: &mut Buffer, area: Rect, ui: &Ui) {
        let focused = ui.editing && self.form.slot() == Slot::Lines;
        render_line_list(
            buf,
            area,
            ui,
            &self.lines_header(ui.compact),
            (&self.lines, self.selected, focused),
            |i, l, w| self.line_text(i, l, w, ui.compact),
            |_| false,
        );
    }

    pub fn render(&self, buf: &mut Buffer, area: Rect, ui: &Ui) -> Option<Position> {
        let inner = draw::boxed(buf, area, &self.title(), ui.theme);
        if inner.is_empty() {
            return None;
        }
        let box_w = 22;
        let view = FormView {
            form: &self.form,
            notes: self.notes(ui),
            button: "Save version",
            box_w,
        };
        if ui.compact {
            return render_compact_with_lines(
                &self.form,
                self.lines.len(),
                buf,
                inner,
                &view,
                ui,
                |buf, r| self.render_lines(buf, r, ui),
            );
        }
        let cursor = render_full_with_lines(buf, inner, &view, ui, TOP, |buf, r| {
            self.render_lines(buf, r, ui)
        });
        // The pick list right of the boxes, clear of the labels.
        let x = crate::form::LABEL_W + box_w + 1;
        let pick = Rect::new(
            inner.x + x,
            inner.y + 1,
            inner.width.saturating_sub(x),
            inner.height.saturating_sub(2).min(10),
        );
        draw_pick(buf, pick, &self.form, ui);
        cursor
    }
}
