//! Items/Parties: the plant's master data. Two lists (items, parties; retired ones
//! marked), a record's every field and its change history, and — for the admin — adding,
//! editing and retiring (with a reason), and an item's recipe (`recipe_edit`: its first, or
//! a new version). Each save is one command to the station; a refusal names the field and
//! leaves the form as typed.

use super::recipe_edit::{RecipeEditor, Step};
use super::*;
use crate::keymap::{Action, Layer};
use lotline_domain::{Event, EventKind, ItemKind, describe_changes};
use lotline_station::setup;
use lotline_station::{Role as Access, StationExt};

/// Which list is in front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Items,
    Parties,
}

impl Tab {
    fn noun(self) -> &'static str {
        match self {
            Tab::Items => "item",
            Tab::Parties => "party",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterAction {
    /// Typing in the editor or the reason prompt.
    Form(FormAction),
    Up,
    Down,
    PageUp,
    PageDown,
    First,
    Last,
    /// Show the selected record's fields and history.
    Open,
    Back,
    Add,
    Change,
    Retire,
    OtherList,
    /// Open the recipe editor on the selected item.
    Recipe,
    /// Read the lists (and the caller's role) again.
    Refresh,
    /// Scroll the open record's details down (or up) a line.
    ScrollDown,
    ScrollUp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    List,
    Details,
}

/// The add or edit form of an item or a party.
pub struct Editor {
    pub tab: Tab,
    /// The code or id being edited; `None` when adding.
    pub editing: Option<String>,
    pub form: Form,
    /// Esc was pressed once on a form holding changes.
    discard_armed: bool,
}

/// Asking why a record is retired.
pub struct RetirePrompt {
    pub tab: Tab,
    pub key: String,
    pub form: Form,
}

const PAGE: usize = 10;

pub struct Master {
    pub tab: Tab,
    pub items: Vec<Item>,
    pub parties: Vec<Party>,
    pub item_sel: usize,
    pub party_sel: usize,
    pub focus: Focus,
    /// The open record's changes, oldest first.
    pub history: Vec<Event>,
    /// How far the open record's details are scrolled; back to the top for each record.
    pub details_scroll: draw::PaneScroll,
    pub editor: Option<Editor>,
    pub prompt: Option<RetirePrompt>,
    /// The selected item's recipe being edited.
    pub recipe: Option<RecipeEditor>,
    /// What the caller may do: adding, editing and retiring need `Action::Add`'s role.
    pub role: Access,
    pub operator: String,
}

impl Default for Master {
    fn default() -> Self {
        Master::new()
    }
}

fn unit_candidates() -> Vec<Candidate> {
    Unit::ALL
        .iter()
        .map(|u| {
            let what = match u.dimension() {
                Dimension::Mass => "weight",
                Dimension::Volume => "volume",
                Dimension::Count => "count",
            };
            Candidate::new(u.as_str(), what)
        })
        .collect()
}

/// The item form; `current` fills it for an edit (the code cannot change, so it is not
/// a field then).
pub fn item_form(current: Option<&Item>) -> Form {
    let mut fields = Vec::new();
    if current.is_none() {
        fields.push(
            Field::new("code", "Code")
                .placeholder("e.g. FLOUR-AP")
                .required(),
        );
    }
    let mut unit = Field::new("unit", "Unit")
        .placeholder("kg, case, dozen…")
        .required();
    unit.candidates = unit_candidates();
    let mut kind = Field::new("kind", "Kind").placeholder("ingredient");
    kind.candidates = ItemKind::ALL
        .iter()
        .map(|k| Candidate::new(k.as_str(), ""))
        .collect();
    let mut ftl = Field::new("ftl", "FTL").placeholder("no");
    ftl.candidates = vec![
        Candidate::new("yes", "on FDA's Food Traceability List"),
        Candidate::new("no", "not on the list"),
    ];
    fields.extend([
        Field::new("name", "Name")
            .placeholder("product name")
            .required(),
        unit,
        kind,
        Field::new("brand", "Brand"),
        Field::new("commodity", "Commodity"),
        Field::new("variety", "Variety"),
        Field::new("pack-size", "Pack size").placeholder("e.g. 12 x 200 g"),
        Field::new("pack-style", "Pack style").placeholder("e.g. carton"),
        Field::new("gtin", "GTIN").placeholder("8 to 14 digits"),
        Field::new("shelf-life", "Shelf life").placeholder("days"),
        ftl,
        Field::new("temp-min", "Temp min °C").placeholder("lowest at receiving"),
        Field::new("temp-max", "Temp max °C").placeholder("highest at receiving"),
    ]);
    let mut form = Form::new(fields);
    if let Some(i) = current {
        for (name, value) in setup::item_fields(i) {
            if let Some(ix) = form.index(name) {
                form.fields[ix].reset_to(&value);
            }
        }
    }
    form
}

/// The party form; `current` fills it for an edit.
pub fn party_form(current: Option<&Party>) -> Form {
    let mut fields = Vec::new();
    if current.is_none() {
        fields.push(Field::new("id", "Id").placeholder("e.g. MILLCO").required());
    }
    let mut role = Field::new("role", "Role")
        .placeholder("supplier, customer, both")
        .required();
    role.candidates = ["supplier", "customer", "both"]
        .into_iter()
        .map(|r| Candidate::new(r, ""))
        .collect();
    fields.extend([
        Field::new("name", "Name")
            .placeholder("business name")
            .required(),
        role,
        Field::new("phone", "Phone"),
        Field::new("street", "Street"),
        Field::new("city", "City"),
        Field::new("state", "State"),
        Field::new("zip", "ZIP"),
        Field::new("country", "Country"),
        Field::new("gln", "GLN").placeholder("13 digits"),
        Field::new("contact-name", "Recall contact").placeholder("name"),
        Field::new("contact-phone", "Contact phone"),
        Field::new("contact-email", "Contact email"),
    ]);
    let mut form = Form::new(fields);
    if let Some(p) = current {
        for (name, value) in setup::party_fields(p) {
            if let Some(ix) = form.index(name) {
                form.fields[ix].reset_to(&value);
            }
        }
    }
    form
}

/// The field values of `form`, with the code or id of the record being edited.
fn values(form: &Form, key: &Option<String>) -> impl Fn(&str) -> String {
    let mut map: Vec<(String, String)> = form
        .fields
        .iter()
        .map(|f| (f.name.to_string(), f.value().to_string()))
        .collect();
    if let Some(k) = key {
        map.push(("code".into(), k.clone()));
        map.push(("id".into(), k.clone()));
    }
    move |name: &str| {
        map.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

impl Master {
    pub fn new() -> Master {
        Master {
            tab: Tab::Items,
            items: Vec::new(),
            parties: Vec::new(),
            item_sel: 0,
            party_sel: 0,
            focus: Focus::List,
            history: Vec::new(),
            details_scroll: draw::PaneScroll::default(),
            editor: None,
            prompt: None,
            recipe: None,
            role: Access::Operator,
            operator: String::new(),
        }
    }

    /// Keys go to a text field (the editor or the reason).
    pub fn wants_text(&self) -> bool {
        self.editor.is_some() || self.prompt.is_some() || self.recipe.is_some()
    }

    pub fn is_dirty(&self) -> bool {
        self.editor.as_ref().is_some_and(|e| e.form.is_dirty())
            || self.prompt.as_ref().is_some_and(|p| p.form.is_dirty())
            || self.recipe.as_ref().is_some_and(RecipeEditor::is_dirty)
    }

    /// Whether this user may add, edit and retire.
    pub fn may_change(&self) -> bool {
        self.role >= Action::Add.required_role()
    }

    fn len(&self) -> usize {
        match self.tab {
            Tab::Items => self.items.len(),
            Tab::Parties => self.parties.len(),
        }
    }

    fn sel(&mut self) -> &mut usize {
        match self.tab {
            Tab::Items => &mut self.item_sel,
            Tab::Parties => &mut self.party_sel,
        }
    }

    pub fn selected(&self) -> usize {
        match self.tab {
            Tab::Items => self.item_sel,
            Tab::Parties => self.party_sel,
        }
    }

    /// The code or id of the selected record.
    pub fn selected_key(&self) -> Option<String> {
        match self.tab {
            Tab::Items => self.items.get(self.item_sel).map(|i| i.code.to_string()),
            Tab::Parties => self.parties.get(self.party_sel).map(|p| p.id.to_string()),
        }
    }

    pub fn update(&mut self, action: MasterAction, station: &dyn Station) -> Outcome {
        if self.prompt.is_some() {
            return match action {
                MasterAction::Form(a) => self.prompt_action(a, station),
                MasterAction::Refresh => self.reload(station),
                _ => Outcome::none(),
            };
        }
        if self.editor.is_some() {
            return match action {
                MasterAction::Form(a) => self.editor_action(a, station),
                MasterAction::Refresh => self.reload(station),
                _ => Outcome::none(),
            };
        }
        if self.recipe.is_some() {
            return match action {
                MasterAction::Form(a) => self.recipe_action(a, station),
                MasterAction::Refresh => self.reload(station),
                _ => Outcome::none(),
            };
        }
        match action {
            MasterAction::Refresh => self.reload(station),
            MasterAction::Form(_) => Outcome::none(),
            MasterAction::Up
            | MasterAction::Down
            | MasterAction::PageUp
            | MasterAction::PageDown
            | MasterAction::First
            | MasterAction::Last => {
                let last = self.len().saturating_sub(1);
                let s = self.sel();
                *s = match action {
                    MasterAction::Up => s.saturating_sub(1),
                    MasterAction::Down => (*s + 1).min(last),
                    MasterAction::PageUp => s.saturating_sub(PAGE),
                    MasterAction::PageDown => (*s + PAGE).min(last),
                    MasterAction::First => 0,
                    _ => last,
                };
                self.details_scroll.reset();
                if self.focus == Focus::Details {
                    return self.load_history(station);
                }
                Outcome::changed()
            }
            MasterAction::Open => {
                if self.len() == 0 {
                    return Outcome::none();
                }
                self.focus = Focus::Details;
                self.details_scroll.reset();
                self.load_history(station)
            }
            MasterAction::Back => {
                self.focus = Focus::List;
                self.history.clear();
                Outcome::changed()
            }
            MasterAction::ScrollDown | MasterAction::ScrollUp if self.focus == Focus::Details => {
                let moved = if action == MasterAction::ScrollDown {
                    self.details_scroll.down(1)
                } else {
                    self.details_scroll.up(1)
                };
                if moved {
                    Outcome::changed()
                } else {
                    Outcome::none()
                }
            }
            MasterAction::ScrollDown | MasterAction::ScrollUp => Outcome::none(),
            MasterAction::OtherList => {
                self.details_scroll.reset();
                self.tab = match self.tab {
                    Tab::Items => Tab::Parties,
                    Tab::Parties => Tab::Items,
                };
                if self.focus == Focus::Details {
                    if self.len() == 0 {
                        self.focus = Focus::List;
                        self.history.clear();
                        return Outcome::changed();
                    }
                    return self.load_history(station);
                }
                Outcome::changed()
            }
            MasterAction::Add => self.open_editor(false),
            MasterAction::Change => self.open_editor(true),
            MasterAction::Retire => self.ask_retire(),
            MasterAction::Recipe => self.open_recipe(station),
        }
    }

    /// Read the lists and the caller's role again, keeping the selection on its record.
    fn reload(&mut self, station: &dyn Station) -> Outcome {
        let keep = (
            self.items.get(self.item_sel).map(|i| i.code.clone()),
            self.parties.get(self.party_sel).map(|p| p.id.clone()),
        );
        let loaded = station
            .items()
            .and_then(|i| Ok((i, station.parties()?, station.whoami()?)));
        match loaded {
            Ok((items, parties, me)) => {
                self.items = items;
                self.parties = parties;
                self.role = me.role;
                self.operator = me.operator;
                if let Some(c) = keep.0 {
                    self.item_sel = self.items.iter().position(|i| i.code == c).unwrap_or(0);
                }
                if let Some(id) = keep.1 {
                    self.party_sel = self.parties.iter().position(|p| p.id == id).unwrap_or(0);
                }
                self.item_sel = self.item_sel.min(self.items.len().saturating_sub(1));
                self.party_sel = self.party_sel.min(self.parties.len().saturating_sub(1));
                if self.focus == Focus::Details {
                    return self.load_history(station);
                }
                Outcome::changed()
            }
            Err(e) => Outcome::error(&e),
        }
    }

    fn load_history(&mut self, station: &dyn Station) -> Outcome {
        let found = match self.tab {
            Tab::Items => match self.items.get(self.item_sel) {
                Some(i) => station.item_history(i.code.clone()),
                None => Ok(Vec::new()),
            },
            Tab::Parties => match self.parties.get(self.party_sel) {
                Some(p) => station.party_history(p.id.clone()),
                None => Ok(Vec::new()),
            },
        };
        match found {
            Ok(h) => {
                self.history = h;
                Outcome::changed()
            }
            Err(e) => Outcome::error(&e),
        }
    }

    /// Why this user may not change master data, on the status line.
    fn not_allowed(&self, what: &str) -> Outcome {
        Outcome::changed().status(Status::error(format!(
            "{what}: {} is {} here and changing items and parties needs the {} role; ask the plant's admin (the QA users of `lotline plant set --qa-users`, or the roles file)",
            self.operator,
            article(self.role),
            Action::Add.required_role()
        )))
    }

    fn open_editor(&mut self, edit: bool) -> Outcome {
        let noun = self.tab.noun();
        let verb = if edit { "edit" } else { "add" };
        if !self.may_change() {
            return self.not_allowed(&format!("{verb} {noun}"));
        }
        let (form, editing) = if edit {
            let found = match self.tab {
                Tab::Items => self
                    .items
                    .get(self.item_sel)
                    .map(|i| (item_form(Some(i)), i.code.to_string())),
                Tab::Parties => self
                    .parties
                    .get(self.party_sel)
                    .map(|p| (party_form(Some(p)), p.id.to_string())),
            };
            match found {
                Some((f, k)) => (f, Some(k)),
                None => {
                    return Outcome::changed().status(Status::warn(format!(
                        "edit: there is no {noun} to edit yet"
                    )));
                }
            }
        } else {
            let f = match self.tab {
                Tab::Items => item_form(None),
                Tab::Parties => party_form(None),
            };
            (f, None)
        };
        self.editor = Some(Editor {
            tab: self.tab,
            editing,
            form,
            discard_armed: false,
        });
        Outcome::changed()
    }

    fn editor_action(&mut self, a: FormAction, station: &dyn Station) -> Outcome {
        let Some(ed) = self.editor.as_mut() else {
            return Outcome::none();
        };
        if a != FormAction::Cancel {
            ed.discard_armed = false;
        }
        match a {
            FormAction::Save => self.save(station),
            FormAction::Confirm => {
                if accept_pick(&mut ed.form) {
                    return Outcome::changed();
                }
                if ed.form.slot() == Slot::Button {
                    return self.save(station);
                }
                ed.form.next(|_| false);
                Outcome::changed()
            }
            FormAction::Next => {
                ed.form.next(|_| false);
                Outcome::changed()
            }
            FormAction::Cancel => {
                if let Some(f) = ed.form.focused_mut()
                    && f.pick_open()
                {
                    f.pick_closed = true;
                    f.browse = false;
                    return Outcome::changed();
                }
                if ed.form.is_dirty() && !ed.discard_armed {
                    ed.discard_armed = true;
                    return Outcome::changed().status(Status::warn(
                        "Esc again closes the form without saving; save keeps your changes",
                    ));
                }
                let noun = ed.tab.noun();
                self.editor = None;
                Outcome::changed().status(Status::info(format!(
                    "Nothing saved: the {noun} is as it was"
                )))
            }
            FormAction::Clear | FormAction::RemoveLine => Outcome::none(),
            other => common(&mut ed.form, &other, |_| false).unwrap_or_default(),
        }
    }

    /// A product's barcode scanned while the item form is open: its GTIN goes into the
    /// GTIN field (the party form has none).
    pub fn scanned_gtin(&mut self, gtin: &str) -> Outcome {
        let Some(ed) = self.editor.as_mut() else {
            return Outcome::none();
        };
        if ed.form.index("gtin").is_none() {
            return Outcome::changed().status(Status::warn(
                "scan: a party has no GTIN; type into the field instead",
            ));
        }
        ed.form.get_mut("gtin").set(gtin);
        ed.form.focus_field("gtin");
        Outcome::changed().status(Status::info(format!("GTIN {gtin} from the scan")))
    }

    fn save(&mut self, station: &dyn Station) -> Outcome {
        let Some(ed) = self.editor.as_mut() else {
            return Outcome::none();
        };
        let get = values(&ed.form, &ed.editing);
        let (saved, key, text) = match ed.tab {
            Tab::Items => {
                let item = match setup::item_checked(get) {
                    Ok(i) => i,
                    Err(e) => return refuse_all(&mut ed.form, e.map(StationError::from)),
                };
                let code = item.code.clone();
                let before = self.items.iter().find(|i| i.code == code).cloned();
                let done = match &ed.editing {
                    None => station.add_item(item).map(|_| format!("Item {code} added")),
                    Some(_) => station.edit_item(item).and_then(|ev| {
                        let after = station.item(code.clone())?;
                        let what = before
                            .map(|b| describe_changes(&after.changes_from(&b)))
                            .unwrap_or_default();
                        Ok(format!("Item {code} changed (event {ev}): {what}"))
                    }),
                };
                (done, code.to_string(), Tab::Items)
            }
            Tab::Parties => {
                let party = match setup::party_checked(get) {
                    Ok(p) => p,
                    Err(e) => return refuse_all(&mut ed.form, e.map(StationError::from)),
                };
                let id = party.id.clone();
                let before = self.parties.iter().find(|p| p.id == id).cloned();
                let done = match &ed.editing {
                    None => station
                        .add_party(party)
                        .map(|_| format!("Party {id} added")),
                    Some(_) => station.edit_party(party).and_then(|ev| {
                        let after = station.party(id.clone())?;
                        let what = before
                            .map(|b| describe_changes(&after.changes_from(&b)))
                            .unwrap_or_default();
                        Ok(format!("Party {id} changed (event {ev}): {what}"))
                    }),
                };
                (done, id.to_string(), Tab::Parties)
            }
        };
        match saved {
            Ok(msg) => {
                self.editor = None;
                self.tab = text;
                let out = self.reload(station);
                self.select(&key);
                if self.focus == Focus::Details {
                    self.load_history(station);
                }
                Outcome {
                    changed: true,
                    events: out.events,
                }
                .status(Status::ok(msg))
                .with(InternalEvent::MasterChanged)
            }
            Err(e) => match self.editor.as_mut() {
                Some(ed) => refuse(&mut ed.form, &e),
                None => Outcome::error(&e),
            },
        }
    }

    /// The recipe editor on the selected item: its newest version to change, or empty for
    /// its first.
    fn open_recipe(&mut self, station: &dyn Station) -> Outcome {
        if !self.may_change() {
            return self.not_allowed("recipe");
        }
        if self.tab != Tab::Items {
            return Outcome::changed().status(Status::warn(
                "recipe: a recipe belongs to an item; switch to the items and select it",
            ));
        }
        let Some(item) = self.items.get(self.item_sel).cloned() else {
            return Outcome::changed()
                .status(Status::warn("recipe: there is no item yet; add one first"));
        };
        if let Some(r) = &item.retired {
            return Outcome::changed().status(Status::warn(format!(
                "recipe: item {} was retired on {} ({}); a retired item gets no new recipe",
                item.code,
                r.stamp.at.date_naive(),
                r.reason
            )));
        }
        match RecipeEditor::open(item, station) {
            Ok(ed) => {
                self.recipe = Some(ed);
                Outcome::changed()
            }
            Err(e) => Outcome::error(&e),
        }
    }

    fn recipe_action(&mut self, a: FormAction, station: &dyn Station) -> Outcome {
        let Some(ed) = self.recipe.as_mut() else {
            return Outcome::none();
        };
        match ed.action(a, station) {
            Step::Stay(out) => out,
            Step::Close(out) => {
                self.recipe = None;
                out
            }
            Step::Saved(msg) => {
                let code = ed.item.code.to_string();
                self.recipe = None;
                self.tab = Tab::Items;
                let out = self.reload(station);
                self.select(&code);
                // The details show the version just saved, in the recipe and the history.
                self.focus = Focus::Details;
                self.details_scroll.reset();
                let shown = self.load_history(station);
                Outcome {
                    changed: true,
                    events: out.events.into_iter().chain(shown.events).collect(),
                }
                .status(Status::ok(msg))
                .with(InternalEvent::MasterChanged)
            }
        }
    }

    fn select(&mut self, key: &str) {
        match self.tab {
            Tab::Items => {
                if let Some(i) = self.items.iter().position(|i| i.code.as_str() == key) {
                    self.item_sel = i;
                }
            }
            Tab::Parties => {
                if let Some(i) = self.parties.iter().position(|p| p.id.as_str() == key) {
                    self.party_sel = i;
                }
            }
        }
    }

    fn retired_now(&self) -> Option<&lotline_domain::Retired> {
        match self.tab {
            Tab::Items => self.items.get(self.item_sel)?.retired.as_ref(),
            Tab::Parties => self.parties.get(self.party_sel)?.retired.as_ref(),
        }
    }

    fn ask_retire(&mut self) -> Outcome {
        let noun = self.tab.noun();
        if !self.may_change() {
            return self.not_allowed(&format!("retire {noun}"));
        }
        let Some(key) = self.selected_key() else {
            return Outcome::changed().status(Status::warn(format!(
                "retire: there is no {noun} to retire"
            )));
        };
        if let Some(r) = self.retired_now() {
            return Outcome::changed().status(Status::warn(format!(
                "retire: {noun} {key} was already retired on {} ({})",
                r.stamp.at.date_naive(),
                r.reason
            )));
        }
        self.prompt = Some(RetirePrompt {
            tab: self.tab,
            key,
            form: one_field_form(
                Field::new("reason", "Reason")
                    .placeholder("why, for its history")
                    .required(),
            ),
        });
        Outcome::changed()
    }

    fn prompt_action(&mut self, a: FormAction, station: &dyn Station) -> Outcome {
        let Some(p) = self.prompt.as_mut() else {
            return Outcome::none();
        };
        let (tab, key) = (p.tab, p.key.clone());
        let why = "say why it is retired, for its history";
        let done = reason_prompt(&mut p.form, a, why, |reason| {
            let ev = match tab {
                Tab::Items => lotline_domain::ItemCode::parse(&key, "item")
                    .map_err(StationError::from)
                    .and_then(|c| station.retire_item(c, reason)),
                Tab::Parties => lotline_domain::PartyId::parse(&key, "party")
                    .map_err(StationError::from)
                    .and_then(|id| station.retire_party(id, reason)),
            }?;
            let noun = match tab {
                Tab::Items => "Item",
                Tab::Parties => "Party",
            };
            Ok(format!(
                "{noun} {key} retired (event {ev}); its lots and history stay"
            ))
        });
        match done {
            Ok(done) => {
                self.prompt = None;
                reason_closed(done, || self.reload(station), InternalEvent::MasterChanged)
            }
            Err(out) => out,
        }
    }

    // ---- drawing: a pure function of the state ----

    pub fn render(&self, buf: &mut Buffer, area: Rect, ui: &Ui) -> Option<Position> {
        if area.is_empty() {
            return None;
        }
        self.render_tabs(buf, draw::row(area, 0), ui);
        let rest = Rect::new(
            area.x,
            area.y + 1,
            area.width,
            area.height.saturating_sub(1),
        );
        if let Some(ed) = &self.editor {
            return self.render_editor(buf, rest, ed, ui);
        }
        if let Some(r) = &self.recipe {
            return r.render(buf, rest, ui);
        }
        match self.focus {
            Focus::List => self.render_list(buf, rest, ui),
            Focus::Details => self.render_details(buf, rest, ui),
        }
        if let Some(p) = &self.prompt {
            return self.render_prompt(buf, area, p, ui);
        }
        None
    }

    /// "Items (4) | Parties (3)" and, beside, the admin's keys or why they are grey.
    fn render_tabs(&self, buf: &mut Buffer, r: Rect, ui: &Ui) {
        let t = ui.theme;
        draw::clear(buf, r, t.label);
        let mut x = r.x;
        for (tab, name, n) in [
            (Tab::Items, "Items", self.items.len()),
            (Tab::Parties, "Parties", self.parties.len()),
        ] {
            let style = if tab == self.tab { t.tab_active } else { t.tab };
            x = put(buf, r, x, r.y, &format!(" {name} ({n}) "), style);
            x = put(buf, r, x, r.y, " ", t.label);
        }
        let key = |a: Action| {
            ui.keymap
                .key_for(&[Layer::Master], a)
                .map(|k| k.label())
                .unwrap_or_default()
        };
        let room = r.right().saturating_sub(x) as usize;
        let note = if self.may_change() {
            let short = format!("{} other list", key(Action::OtherList));
            // The recipe key too, on the items' list and details, where there is room: the
            // footer gives its room to the list's own keys.
            let recipe = ui.keymap.key_for(&[Layer::Master], Action::Recipe);
            match recipe {
                Some(k) if self.tab == Tab::Items && !self.wants_text() => {
                    let long = format!("{short}  {} recipe", k.label());
                    if draw::width(&long) <= room {
                        long
                    } else {
                        short
                    }
                }
                _ => short,
            }
        } else {
            "view only: changes need the admin role".to_string()
        };
        put(
            buf,
            r,
            x,
            r.y,
            &draw::fit(&note, room, t.ellipsis()),
            if self.may_change() { t.dim } else { t.warn },
        );
    }

    fn render_list(&self, buf: &mut Buffer, area: Rect, ui: &Ui) {
        let title = match self.tab {
            Tab::Items => "Items",
            Tab::Parties => "Suppliers and customers",
        };
        let inner = draw::boxed(buf, area, title, ui.theme);
        if inner.is_empty() {
            return;
        }
        let w = inner.width as usize;
        if self.len() == 0 {
            let add = ui
                .keymap
                .key_for(&[Layer::Master], Action::Add)
                .map(|k| k.label())
                .unwrap_or_default();
            let t = if self.may_change() {
                format!("None yet: {add} adds the first {}.", self.tab.noun())
            } else {
                format!("None yet. The admin adds {}s.", self.tab.noun())
            };
            note_line(buf, inner, inner.y, &t, ui);
            return;
        }
        let head = match (self.tab, ui.compact) {
            (Tab::Items, false) => format!(
                " {} {} {} {} {}",
                draw::pad("Code", 14),
                draw::pad("Name", 26),
                draw::pad("Unit", 5),
                draw::pad("Kind", 12),
                "Status"
            ),
            (Tab::Items, true) => format!(" {} {}", draw::pad("Code", 11), "Name"),
            (Tab::Parties, false) => format!(
                " {} {} {} {}",
                draw::pad("Id", 12),
                draw::pad("Name", 26),
                draw::pad("Role", 9),
                "Recall contact"
            ),
            (Tab::Parties, true) => format!(" {} {}", draw::pad("Id", 11), "Name"),
        };
        let sel = self.selected();
        let Some((rows, start)) = list_head(buf, inner, &head, sel, ui) else {
            return;
        };
        let lines: Vec<(String, bool)> = match self.tab {
            Tab::Items => self
                .items
                .iter()
                .map(|i| {
                    let retired = i.retired.is_some();
                    let text = if ui.compact {
                        format!(
                            "{} {}{}",
                            draw::pad(i.code.as_str(), 11),
                            if retired { "(retired) " } else { "" },
                            i.description.name
                        )
                    } else {
                        format!(
                            "{} {} {} {} {}",
                            draw::pad(i.code.as_str(), 14),
                            draw::pad(&i.description.name, 26),
                            draw::pad(i.unit.as_str(), 5),
                            draw::pad(i.kind.as_str(), 12),
                            if retired { "RETIRED" } else { "active" }
                        )
                    };
                    (text, retired)
                })
                .collect(),
            Tab::Parties => self
                .parties
                .iter()
                .map(|p| {
                    let retired = p.retired.is_some();
                    let c = &p.recall_contact;
                    let contact = [c.name.as_str(), c.phone.as_str()]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ");
                    let text = if ui.compact {
                        format!(
                            "{} {}{}",
                            draw::pad(p.id.as_str(), 11),
                            if retired { "(retired) " } else { "" },
                            p.location.business_name
                        )
                    } else {
                        format!(
                            "{} {} {} {}",
                            draw::pad(p.id.as_str(), 12),
                            draw::pad(&p.location.business_name, 26),
                            draw::pad(p.role.as_str(), 9),
                            if retired {
                                "RETIRED".to_string()
                            } else if contact.is_empty() {
                                "-".to_string()
                            } else {
                                contact
                            }
                        )
                    };
                    (text, retired)
                })
                .collect(),
        };
        draw::more(buf, area, start, rows, lines.len(), None, ui.theme);
        let focus = self.prompt.is_none();
        for (n, (i, (text, retired))) in lines.iter().enumerate().skip(start).take(rows).enumerate()
        {
            let is_sel = i == sel;
            let mark = if is_sel { ui.theme.marker() } else { " " };
            let style = if is_sel && focus {
                ui.theme.selected
            } else if *retired {
                ui.theme.dim
            } else {
                ui.theme.label
            };
            put(
                buf,
                inner,
                inner.x,
                inner.y + 1 + n as u16,
                &draw::pad(
                    &draw::fit(&format!("{mark}{text}"), w, ui.theme.ellipsis()),
                    w,
                ),
                style,
            );
        }
    }

    /// The selected record's fields, then its changes.
    fn render_details(&self, buf: &mut Buffer, area: Rect, ui: &Ui) {
        let (title, rows, retired) = match self.tab {
            Tab::Items => match self.items.get(self.item_sel) {
                Some(i) => (
                    format!("Item {}", i.code),
                    item_rows(i, ui.compact),
                    i.retired.clone(),
                ),
                None => return self.render_list(buf, area, ui),
            },
            Tab::Parties => match self.parties.get(self.party_sel) {
                Some(p) => (
                    format!("Party {}", p.id),
                    party_rows(p, ui.compact),
                    p.retired.clone(),
                ),
                None => return self.render_list(buf, area, ui),
            },
        };
        let inner = draw::boxed(buf, area, &title, ui.theme);
        if inner.is_empty() {
            return;
        }
        let w = inner.width as usize;
        let e = ui.theme.ellipsis();
        let mut lines: Vec<(String, ratatui::style::Style)> = Vec::new();
        if let Some(r) = &retired {
            lines.push((
                format!(
                    "RETIRED {} by {}: {}",
                    r.stamp.at.format("%Y-%m-%d"),
                    r.stamp.operator,
                    r.reason
                ),
                ui.theme.warn,
            ));
        }
        let label_w = if ui.compact { 10 } else { 15 };
        // Empty optional fields are left out in the compact layout, where rows are few.
        for (k, v) in rows {
            if ui.compact && v == "-" {
                continue;
            }
            lines.push((format!("{} {v}", draw::pad(k, label_w)), ui.theme.label));
        }
        // An item's recipe as it stands: its newest version, from the history.
        if let Some(r) = self.history.iter().rev().find_map(|e| match &e.kind {
            EventKind::RecipeChanged(r) => Some(r),
            _ => None,
        }) {
            lines.extend(
                super::recipe_check::recipe_lines(r)
                    .into_iter()
                    .map(|t| (t, ui.theme.label)),
            );
        }
        lines.push((format!("Changes ({}):", self.history.len()), ui.theme.title));
        if self.history.is_empty() {
            lines.push(("none since it was added".into(), ui.theme.dim));
        }
        // Newest first: the last change is what people look for. A change of several
        // fields wraps onto the next rows rather than being cut.
        for ev in self.history.iter().rev() {
            for (i, part) in wrap(&change_line(ev, ui.compact), w.max(10))
                .into_iter()
                .enumerate()
            {
                let part = if i == 0 { part } else { format!("  {part}") };
                lines.push((part, ui.theme.label));
            }
        }
        // More than fits (a long change history): the pane scrolls by keys, and says so.
        let h = inner.height as usize;
        let first = self.details_scroll.first(lines.len(), h);
        for (n, (t, s)) in lines.iter().skip(first).take(h).enumerate() {
            put(
                buf,
                inner,
                inner.x,
                inner.y + n as u16,
                &draw::fit(t, w, e),
                *s,
            );
        }
        draw::more(buf, area, first, h, lines.len(), None, ui.theme);
        if lines.len() > h {
            scroll_keys_hint(buf, area, Layer::Master, ui);
        }
    }

    fn render_editor(
        &self,
        buf: &mut Buffer,
        area: Rect,
        ed: &Editor,
        ui: &Ui,
    ) -> Option<Position> {
        let noun = ed.tab.noun();
        let title = match &ed.editing {
            None => format!("Add {noun}"),
            Some(k) => format!("Edit {noun} {k}"),
        };
        let inner = draw::boxed(buf, area, &title, ui.theme);
        if inner.is_empty() {
            return None;
        }
        let button = if ed.editing.is_some() {
            "Save changes"
        } else {
            "Add"
        };
        render_plain_form(buf, inner, &ed.form, Vec::new(), button, ui)
    }

    fn render_prompt(
        &self,
        buf: &mut Buffer,
        area: Rect,
        p: &RetirePrompt,
        ui: &Ui,
    ) -> Option<Position> {
        render_one_field_prompt(
            buf,
            area,
            60,
            &format!("Retire {} {}", p.tab.noun(), p.key),
            &p.form,
            "retire it",
            "leave it",
            ui,
        )
    }
}

/// `text` in lines of at most `width` cells, broken at spaces where it can be (the
/// continuation rows are indented by two, so they take two less).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        let room = if lines.is_empty() { width } else { width - 2 };
        if !cur.is_empty() && draw::width(&cur) + 1 + draw::width(word) > room {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

fn or_dash(s: &str) -> String {
    if s.is_empty() {
        "-".into()
    } else {
        s.to_string()
    }
}

fn item_rows(i: &Item, compact: bool) -> Vec<(&'static str, String)> {
    let d = &i.description;
    let mut v = vec![
        ("Name", d.name.clone()),
        ("Unit, kind", format!("{}, {}", i.unit, i.kind)),
        ("Brand", or_dash(&d.brand)),
        ("Commodity", or_dash(&d.commodity)),
        ("Variety", or_dash(&d.variety)),
        (
            "Pack",
            or_dash(
                &[d.pack_size.as_str(), d.pack_style.as_str()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ),
        (
            "GTIN",
            i.gtin.as_ref().map(|g| g.to_string()).unwrap_or("-".into()),
        ),
        (
            "Shelf life",
            i.shelf_life_days
                .map(|d| format!("{d} days"))
                .unwrap_or("-".into()),
        ),
        ("FTL", if i.ftl { "yes" } else { "no" }.into()),
        ("Receiving", i.receiving_temp.to_string()),
    ];
    if !compact {
        v.push(("Added", i.created.text()));
    }
    v
}

fn party_rows(p: &Party, compact: bool) -> Vec<(&'static str, String)> {
    let l = &p.location;
    let c = &p.recall_contact;
    let mut v = vec![
        ("Name", l.business_name.clone()),
        ("Role", p.role.to_string()),
        ("Phone", or_dash(&l.phone)),
        ("Address", {
            let mut a = l.clone();
            a.business_name.clear();
            or_dash(&a.one_line())
        }),
        (
            "GLN",
            p.gln.as_ref().map(|g| g.to_string()).unwrap_or("-".into()),
        ),
        (
            "Recall contact",
            or_dash(
                &[c.name.as_str(), c.phone.as_str(), c.email.as_str()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ),
    ];
    if !compact {
        v.push(("Added", p.created.text()));
    }
    v
}

/// One line for a change in a record's history: when, who, and each field old -> new.
pub fn change_line(e: &Event, compact: bool) -> String {
    let what = match &e.kind {
        EventKind::ItemChanged { before, after } => describe_changes(&after.changes_from(before)),
        EventKind::PartyChanged { before, after } => describe_changes(&after.changes_from(before)),
        other => lotline_domain::recipe_event_text(other, &|id| format!("#{}", id.0))
            .unwrap_or_else(|| other.name().to_string()),
    };
    if compact {
        return format!("{} {what}", e.stamp.at.format("%m-%d"));
    }
    format!(
        "{} {}: {what}",
        e.stamp.at.format("%Y-%m-%d %H:%M"),
        e.stamp.operator
    )
}

/// "an operator", "QA", "an admin": a role as the middle of a sentence.
pub(crate) fn article(r: Access) -> String {
    match r {
        Access::Operator => "an operator".into(),
        Access::Admin => "an admin".into(),
        Access::Qa => "QA".into(),
    }
}
