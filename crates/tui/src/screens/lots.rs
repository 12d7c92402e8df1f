//! Lots: find lots by our lot code, the supplier's lot code, item, supplier or allergen
//! (`contains peanut` lists only the lots carrying it); open a lot's history (its events,
//! balance, status, allergens and, for a batch made against a recipe, its yield); hold and
//! release it with a reason (QA).

use super::*;
use lotline_domain::{BatchRecipe, LotAllergens, LotFilter, LotHistory};
use lotline_domain::{Event, EventKind, ItemCode, LotCode, PartyId, StatusChange};
use lotline_station::{Station, StationExt};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LotsAction {
    /// Typing in the search field or the reason prompt.
    Form(FormAction),
    Up,
    Down,
    PageUp,
    PageDown,
    First,
    Last,
    Open,
    Back,
    Hold,
    Release,
    /// Go to the search field.
    Search,
    Refresh,
    LotsChanged,
    /// Find this lot and open its history.
    Show(LotCode),
    /// Open the trace of the selected or open lot.
    Trace,
    /// Search for this text (a scan that is no lot of ours).
    Find(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Search,
    List,
    History,
}

/// A lot found, and what it was found by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub lot: Lot,
    pub matched: &'static str,
}

/// Asking for the reason of a hold or release.
pub struct Prompt {
    pub lot: LotCode,
    pub to: LotStatus,
    pub form: Form,
}

const PAGE: usize = 10;

pub struct Lots {
    pub search: Form,
    pub results: Vec<Found>,
    pub selected: usize,
    pub focus: Focus,
    pub history: Option<LotHistory>,
    /// The open lot's allergens and where each came from, or why they could not be read
    /// (the history still shows, with that said where "Contains" would be).
    pub allergens: Option<Result<LotAllergens, String>>,
    /// First event shown in the history.
    pub scroll: usize,
    pub prompt: Option<Prompt>,
    items: Vec<Item>,
    parties: Vec<Party>,
    /// The query the results are for; None before the first search.
    pub query: Option<String>,
    /// The last search failed (the database could not be read): the list is empty because
    /// of that, not because nothing matched.
    pub failed: bool,
}

impl Default for Lots {
    fn default() -> Self {
        Lots::new()
    }
}

impl Lots {
    pub fn new() -> Lots {
        let mut search = Form::new(vec![
            Field::new("search", "Find").placeholder("lot, supplier lot, item or supplier"),
        ]);
        search.order = vec![Slot::Field(0)];
        Lots {
            search,
            results: Vec::new(),
            selected: 0,
            focus: Focus::Search,
            history: None,
            allergens: None,
            scroll: 0,
            prompt: None,
            items: Vec::new(),
            parties: Vec::new(),
            query: None,
            failed: false,
        }
    }

    /// Keys go to a text field (the search or the reason) rather than the list.
    pub fn wants_text(&self) -> bool {
        self.prompt.is_some() || self.focus == Focus::Search
    }

    pub fn is_dirty(&self) -> bool {
        self.prompt.as_ref().is_some_and(|p| p.form.is_dirty())
    }

    pub fn update(&mut self, action: LotsAction, station: &dyn Station) -> Outcome {
        if self.prompt.is_some() {
            return match action {
                LotsAction::Form(a) => self.prompt_action(a, station),
                LotsAction::Refresh | LotsAction::LotsChanged => self.reload(station),
                _ => Outcome::none(),
            };
        }
        match action {
            LotsAction::Refresh => {
                match station.items().and_then(|i| Ok((i, station.parties()?))) {
                    Ok((items, parties)) => {
                        self.items = items;
                        self.parties = parties;
                        self.reload(station)
                    }
                    Err(e) => Outcome::error(&e),
                }
            }
            LotsAction::LotsChanged => self.reload(station),
            LotsAction::Form(a) => self.search_action(a, station),
            LotsAction::Search => {
                self.focus = Focus::Search;
                Outcome::changed()
            }
            LotsAction::Show(code) => {
                self.search.fields[0].set(code.as_str());
                let out = self.run_search(station);
                if self.results.first().is_some_and(|f| f.lot.code == code) {
                    self.selected = 0;
                    return self.open(station);
                }
                out
            }
            LotsAction::Find(text) => {
                self.search.fields[0].set(&text);
                let out = self.run_search(station);
                self.focus = if self.results.is_empty() {
                    Focus::Search
                } else {
                    Focus::List
                };
                out
            }
            LotsAction::Up
            | LotsAction::Down
            | LotsAction::PageUp
            | LotsAction::PageDown
            | LotsAction::First
            | LotsAction::Last => {
                self.move_by(&action);
                Outcome::changed()
            }
            LotsAction::Open => match self.focus {
                Focus::List => self.open(station),
                _ => Outcome::none(),
            },
            LotsAction::Back => {
                self.focus = match self.focus {
                    Focus::History => {
                        self.history = None;
                        Focus::List
                    }
                    _ => Focus::Search,
                };
                Outcome::changed()
            }
            LotsAction::Trace => match self.current() {
                Some(l) => Outcome::changed().with(InternalEvent::OpenTrace(l.code.clone())),
                None => {
                    Outcome::changed().status(Status::warn("trace: find and select a lot first"))
                }
            },
            LotsAction::Hold => self.ask(LotStatus::Hold),
            LotsAction::Release => self.ask(LotStatus::Released),
        }
    }

    fn move_by(&mut self, a: &LotsAction) {
        let (pos, len) = match self.focus {
            Focus::History => (
                &mut self.scroll,
                self.history.as_ref().map(|h| h.events.len()).unwrap_or(0),
            ),
            _ => (&mut self.selected, self.results.len()),
        };
        let last = len.saturating_sub(1);
        *pos = match a {
            LotsAction::Up => pos.saturating_sub(1),
            LotsAction::Down => (*pos + 1).min(last),
            LotsAction::PageUp => pos.saturating_sub(PAGE),
            LotsAction::PageDown => (*pos + PAGE).min(last),
            LotsAction::First => 0,
            LotsAction::Last => last,
            _ => *pos,
        };
        if self.focus == Focus::Search {
            self.focus = Focus::List;
        }
    }

    fn search_action(&mut self, a: FormAction, station: &dyn Station) -> Outcome {
        match a {
            FormAction::Confirm | FormAction::Save => {
                let out = self.run_search(station);
                if !self.results.is_empty() {
                    self.focus = Focus::List;
                }
                // An exact lot code (typed or scanned) is the lot the user wants: its
                // history, not a one-row list to open.
                if self.results.len() == 1 && self.results[0].matched == "lot code" {
                    let opened = self.open(station);
                    return Outcome {
                        changed: true,
                        events: out.events.into_iter().chain(opened.events).collect(),
                    };
                }
                out
            }
            FormAction::Down | FormAction::Next | FormAction::Cancel => {
                self.focus = Focus::List;
                Outcome::changed()
            }
            FormAction::Clear => {
                self.search.fields[0].set("");
                Outcome::changed()
            }
            other => common(&mut self.search, &other, |_| false).unwrap_or_default(),
        }
    }

    /// Run the search again (after a change) and refresh an open history.
    fn reload(&mut self, station: &dyn Station) -> Outcome {
        let mut out = Outcome::changed();
        if let Some(q) = self.query.clone() {
            let keep = self.results.get(self.selected).map(|f| f.lot.id);
            if let Err(e) = self.find(&q, station) {
                out = Outcome::error(&e);
            }
            if let Some(id) = keep
                && let Some(i) = self.results.iter().position(|f| f.lot.id == id)
            {
                self.selected = i;
            }
        }
        if let Some(h) = &self.history {
            match read_lot(station, h.lot.code.clone()) {
                Ok((h, a)) => (self.history, self.allergens) = (Some(h), a),
                Err(e) => out = Outcome::error(&e),
            }
        }
        out
    }

    fn run_search(&mut self, station: &dyn Station) -> Outcome {
        let q = self.search.fields[0].value().trim().to_string();
        match self.find(&q, station) {
            Ok(how) => {
                self.selected = 0;
                self.history = None;
                let n = self.results.len();
                let text = if q.is_empty() {
                    format!("{n} lot{}, newest first", if n == 1 { "" } else { "s" })
                } else if let (0, Some(allergen)) = (n, contains_query(&q)) {
                    format!(
                        "search: no lot carries {}",
                        lotline_domain::text::excerpt(allergen)
                    )
                } else if n == 0 {
                    format!(
                        "search: no lot, supplier lot, item, supplier or allergen matches {}",
                        lotline_domain::text::excerpt(&q)
                    )
                } else {
                    format!(
                        "{n} lot{} for {}{how}",
                        if n == 1 { "" } else { "s" },
                        lotline_domain::text::excerpt(&q)
                    )
                };
                let status = if n == 0 && !q.is_empty() {
                    Status::warn(text)
                } else {
                    Status::info(text)
                };
                Outcome::changed().status(status)
            }
            Err(e) => Outcome::error(&e),
        }
    }

    /// Fill `results` for `q`; returns a note on what matched. A search that fails
    /// leaves no results from an earlier one under this query's title.
    fn find(&mut self, q: &str, station: &dyn Station) -> Result<String, StationError> {
        let found = self.find_all(q, station);
        self.failed = found.is_err();
        if self.failed {
            self.results.clear();
        }
        found
    }

    fn find_all(&mut self, q: &str, station: &dyn Station) -> Result<String, StationError> {
        self.query = Some(q.to_string());
        if let Some(allergen) = contains_query(q) {
            // The allergen filter: only lots carrying it, finished lots first (the store's
            // order), so QA sees what may have left the plant before what is in stock.
            let lots = station.lots_containing(allergen.to_string())?;
            self.results = lots
                .into_iter()
                .map(|lot| Found {
                    lot,
                    matched: "allergen",
                })
                .collect();
            return Ok(format!(" (carrying {allergen}, finished lots first)"));
        }
        let mut found: Vec<Found> = Vec::new();
        let add = |lots: Vec<Lot>, matched: &'static str, found: &mut Vec<Found>| {
            for lot in lots {
                if !found.iter().any(|f| f.lot.id == lot.id) {
                    found.push(Found { lot, matched });
                }
            }
        };
        if q.is_empty() {
            let mut all = station.lots(LotFilter::default())?;
            all.reverse();
            add(all, "", &mut found);
            self.results = found;
            return Ok(String::new());
        }
        let mut how = Vec::new();
        if let Ok(code) = LotCode::parse(q, "search") {
            match station.lot(code) {
                Ok(l) => {
                    add(vec![l], "lot code", &mut found);
                    how.push("lot code".to_string());
                }
                Err(e) if e.kind == lotline_station::ErrorKind::Invalid => {}
                Err(e) => return Err(e),
            }
        }
        let by_sl = station.lots(LotFilter {
            supplier_lot: Some(q.to_string()),
            ..Default::default()
        })?;
        if !by_sl.is_empty() {
            how.push("supplier lot".into());
        }
        add(newest_first(by_sl), "supplier lot", &mut found);
        let ql = q.to_lowercase();
        let items: Vec<ItemCode> = self
            .items
            .iter()
            .filter(|i| {
                i.code.as_str().to_lowercase().starts_with(&ql)
                    || i.description.name.to_lowercase().contains(&ql)
            })
            .map(|i| i.code.clone())
            .collect();
        for item in items.iter().take(10) {
            let lots = station.lots(LotFilter {
                item: Some(item.clone()),
                ..Default::default()
            })?;
            add(newest_first(lots), "item", &mut found);
        }
        if !items.is_empty() {
            how.push(format!(
                "item {}",
                join_some(items.iter().map(|i| i.to_string()), 3)
            ));
        }
        let sups: Vec<PartyId> = self
            .parties
            .iter()
            .filter(|p| p.role.supplies())
            .filter(|p| {
                p.id.as_str().to_lowercase().starts_with(&ql)
                    || p.location.business_name.to_lowercase().contains(&ql)
            })
            .map(|p| p.id.clone())
            .collect();
        for s in sups.iter().take(10) {
            let lots = station.lots(LotFilter {
                supplier: Some(s.clone()),
                ..Default::default()
            })?;
            add(newest_first(lots), "supplier", &mut found);
        }
        if !sups.is_empty() {
            how.push(format!(
                "supplier {}",
                join_some(sups.iter().map(|i| i.to_string()), 3)
            ));
        }
        // An allergen ("peanut"): every lot carrying it, finished lots first. Short
        // queries are codes being typed, not allergens.
        if q.chars().count() >= 3 {
            match station.lots_containing(q.to_string()) {
                Ok(lots) if !lots.is_empty() => {
                    how.push(format!("allergen {q}"));
                    add(lots, "allergen", &mut found);
                }
                Ok(_) => {}
                Err(e) if e.kind == lotline_station::ErrorKind::Invalid => {}
                Err(e) => return Err(e),
            }
        }
        self.results = found;
        Ok(if how.is_empty() {
            String::new()
        } else {
            format!(" (by {})", how.join(", "))
        })
    }

    fn open(&mut self, station: &dyn Station) -> Outcome {
        let Some(f) = self.results.get(self.selected) else {
            return Outcome::none();
        };
        match read_lot(station, f.lot.code.clone()) {
            Ok((h, allergens)) => {
                self.scroll = h.events.len().saturating_sub(1);
                self.allergens = allergens;
                self.history = Some(h);
                self.focus = Focus::History;
                Outcome::changed()
            }
            Err(e) => Outcome::error(&e),
        }
    }

    /// The lot a label prints for: the open one, or the selected one.
    pub fn label_lot(&self) -> Option<&Lot> {
        self.current()
    }

    /// The lot that hold and release act on: the open one, or the selected one.
    fn current(&self) -> Option<&Lot> {
        match self.focus {
            Focus::History => self.history.as_ref().map(|h| &h.lot),
            _ => self.results.get(self.selected).map(|f| &f.lot),
        }
    }

    fn ask(&mut self, to: LotStatus) -> Outcome {
        let Some(lot) = self.current() else {
            return Outcome::changed().status(Status::warn("lot: find and select a lot first"));
        };
        if lot.status == to {
            return Outcome::changed().status(Status::warn(format!(
                "lot: {} is already {}",
                lot.code,
                to.words()
            )));
        }
        self.prompt = Some(Prompt {
            lot: lot.code.clone(),
            to,
            form: one_field_form(Field::new("reason", "Reason").placeholder("why").required()),
        });
        Outcome::changed()
    }

    fn prompt_action(&mut self, a: FormAction, station: &dyn Station) -> Outcome {
        let Some(p) = self.prompt.as_mut() else {
            return Outcome::none();
        };
        let (lot, to) = (p.lot.clone(), p.to);
        let done = reason_prompt(&mut p.form, a, "say why, for the lot's history", |reason| {
            let event = station.today().and_then(|date| {
                station.set_status(StatusChange {
                    lot: lot.clone(),
                    to,
                    date,
                    reason,
                })
            })?;
            Ok(format!("Lot {lot} is now {} (event {event})", to.words()))
        });
        match done {
            Ok(done) => {
                self.prompt = None;
                reason_closed(done, || self.reload(station), InternalEvent::LotsChanged)
            }
            Err(out) => out,
        }
    }

    pub fn render(&self, buf: &mut Buffer, area: Rect, ui: &Ui) -> Option<Position> {
        if area.is_empty() {
            return None;
        }
        let editing_search = ui.editing && self.prompt.is_none() && self.focus == Focus::Search;
        let search_h = if ui.compact { 2 } else { 1 };
        let sr = Rect::new(area.x, area.y, area.width, search_h.min(area.height));
        let f = &self.search.fields[0];
        let mut cursor = if ui.compact {
            super::super::form::render_stacked(buf, sr, f, editing_search, "", ui.theme)
        } else {
            let box_w = area
                .width
                .saturating_sub(super::super::form::LABEL_W)
                .min(40);
            super::super::form::render_row(buf, sr, f, editing_search, box_w, "", ui.theme)
        };
        let rest = Rect::new(
            area.x,
            area.y + sr.height,
            area.width,
            area.height - sr.height,
        );
        match (&self.history, self.focus) {
            (Some(h), Focus::History) => self.render_history(buf, rest, h, ui),
            _ => self.render_list(buf, rest, ui),
        }
        if let Some(p) = &self.prompt {
            cursor = self.render_prompt(buf, area, p, ui);
        }
        cursor
    }

    fn render_list(&self, buf: &mut Buffer, area: Rect, ui: &Ui) {
        let title = match &self.query {
            None => "Lots: type and press Enter to search".to_string(),
            Some(q) if q.is_empty() => format!("All lots ({})", self.results.len()),
            Some(q) => format!(
                "Lots for {} ({})",
                lotline_domain::text::excerpt(q),
                self.results.len()
            ),
        };
        let inner = draw::boxed(buf, area, &title, ui.theme);
        if inner.is_empty() {
            return;
        }
        let w = inner.width as usize;
        if self.results.is_empty() {
            let t = if self.failed {
                "The search could not be run; see the message below."
            } else if self.query.is_some() {
                "No lots found."
            } else {
                "Enter with an empty field lists every lot. Type contains peanut (or another allergen) for every lot carrying it."
            };
            // Wrapped, not cut: the list is empty, so the rows are there to read it in.
            for (y, line) in (inner.y..inner.bottom()).zip(draw::wrap(t, w)) {
                note_line(buf, inner, y, &line, ui);
            }
            return;
        }
        let head = if ui.compact {
            format!(
                " {} {} {}",
                draw::pad("Lot", 11),
                draw::pad("Item", 10),
                "On hand"
            )
        } else {
            format!(
                " {} {} {} {} {} {}",
                draw::pad("Lot", 12),
                draw::pad("Item", 13),
                draw::rpad("On hand", 12),
                draw::pad("Status", 8),
                draw::pad("Expiry", 10),
                "Found by"
            )
        };
        let Some((rows, start)) = list_head(buf, inner, &head, self.selected, ui) else {
            return;
        };
        draw::more(buf, area, start, rows, self.results.len(), None, ui.theme);
        let list_focus = self.focus == Focus::List && self.prompt.is_none();
        for (n, (i, f)) in self
            .results
            .iter()
            .enumerate()
            .skip(start)
            .take(rows)
            .enumerate()
        {
            let l = &f.lot;
            let sel = i == self.selected;
            let mark = if sel { ui.theme.marker() } else { " " };
            let text = if ui.compact {
                format!(
                    "{mark}{} {} {} {}",
                    draw::pad(l.code.as_str(), 11),
                    draw::pad(l.item.as_str(), 10),
                    format_args!("{} {}", l.balance, l.unit),
                    short_status(l.status)
                )
            } else {
                format!(
                    "{mark}{} {} {} {} {} {}",
                    draw::pad(l.code.as_str(), 12),
                    draw::pad(l.item.as_str(), 13),
                    draw::rpad(&format!("{} {}", l.balance, l.unit), 12),
                    draw::pad(l.status.as_str(), 8),
                    draw::pad(
                        &l.expiry
                            .map(|d| d.to_string())
                            .unwrap_or_else(|| "-".into()),
                        10
                    ),
                    f.matched
                )
            };
            let style = if sel && list_focus {
                ui.theme.selected
            } else if l.status != LotStatus::Released {
                ui.theme.warn
            } else {
                ui.theme.label
            };
            put(
                buf,
                inner,
                inner.x,
                inner.y + 1 + n as u16,
                &draw::pad(&text, w),
                style,
            );
        }
    }

    fn render_history(&self, buf: &mut Buffer, area: Rect, h: &LotHistory, ui: &Ui) {
        // (The head's rows: item, origin, balance and status, then allergens, yield and
        // the dock's checks where the lot has them.)
        let l = &h.lot;
        let inner = draw::boxed(buf, area, &format!("Lot {}", l.code), ui.theme);
        if inner.is_empty() {
            return;
        }
        let w = inner.width as usize;
        let e = ui.theme.ellipsis();
        let name = self
            .items
            .iter()
            .find(|i| i.code == l.item)
            .map(|i| i.description.name.as_str())
            .unwrap_or("");
        let origin = match &l.origin {
            lotline_domain::Origin::Received {
                supplier,
                supplier_lot,
            } => {
                format!(
                    "received {} from {supplier}, their lot {supplier_lot}",
                    l.date
                )
            }
            lotline_domain::Origin::Produced { line } => match line {
                Some(line) => format!("made {} on line {line}", l.date),
                None => format!("made {}", l.date),
            },
            lotline_domain::Origin::Returned {
                customer, shipment, ..
            } => format!("returned {} by {customer}, shipment {shipment}", l.date),
            lotline_domain::Origin::Partner { source, .. } => {
                format!(
                    "named {} in a partner's document: known only from {source}",
                    l.date
                )
            }
        };
        let dot = ui.theme.dot();
        let head = [
            (format!("{} {name}", l.item), ui.theme.strong),
            (origin, ui.theme.label),
            (
                format!(
                    "{} {} of {}{dot}{}{dot}{}",
                    l.balance,
                    l.unit,
                    l.quantity,
                    l.status.as_str().to_uppercase(),
                    l.expiry
                        .map(|d| format!("expires {d}"))
                        .unwrap_or_else(|| "no expiry".into())
                ),
                if l.status == LotStatus::Released {
                    ui.theme.label
                } else {
                    ui.theme.warn
                },
            ),
        ];
        // A received lot shows what the dock found, when there is room for it.
        let dock = h
            .events
            .iter()
            .find_map(|entry| match &entry.event.kind {
                EventKind::Receive(r) if r.lot == l.id => Some(dock_checks(&r.quality)),
                _ => None,
            })
            .filter(|d| !d.is_empty());
        let mut head = head.to_vec();
        // Only a lot that carries an allergen spends a row on it: rows are few on a
        // handheld, and the events are what the history is for.
        match &self.allergens {
            Some(Ok(a)) if a.lot == l.code && !a.label.is_empty() => {
                head.push(allergen_line(a, ui));
            }
            Some(Err(why)) => head.push((
                format!(
                    "Allergens could not be read: {}",
                    lotline_domain::text::escape(why)
                ),
                ui.theme.warn,
            )),
            _ => {}
        }
        if let Some(b) = batch_recipe(h) {
            head.push(yield_line(b, ui));
        }
        if let Some(d) = dock {
            let failed = d.contains("FAIL");
            head.push((
                format!("at the dock: {d}"),
                if failed || l.status != LotStatus::Released {
                    ui.theme.warn
                } else {
                    ui.theme.label
                },
            ));
        }
        let sel = self.scroll.min(h.events.len().saturating_sub(1));
        let text = |entry: &lotline_domain::HistoryEntry| {
            let mut t = describe(&entry.event, l, ui.compact);
            if let Some(by) = entry.voided_by {
                t.push_str(&format!(" [voided by {by}]"));
            }
            t
        };
        // The selected event shows in full, wrapped onto the rows it needs (a receipt's
        // dock note, a long reason): the others keep one row each, cut to the width.
        let sel_rows: Vec<String> = h
            .events
            .get(sel)
            .map(|entry| {
                let t = text(entry);
                if draw::width(&t) <= w {
                    return vec![t];
                }
                // Wrapped under its first column (the event number's leading spaces
                // kept), so the rows read as one event.
                let lead = t.len() - t.trim_start().len();
                let pad = " ".repeat(lead.min(w / 2));
                draw::wrap(t.trim_start(), w.saturating_sub(pad.len()).max(1))
                    .into_iter()
                    .map(|r| format!("{pad}{r}"))
                    .collect()
            })
            .unwrap_or_default();
        let head_rows = if inner.height > 8 {
            head.len()
        } else if inner.height > 6 {
            3
        } else {
            1
        };
        // The head gives up rows (down to the lot's item line) for the selected event
        // to show in full: what the user moved to is what they want to read.
        let need = head_rows + 1 + sel_rows.len();
        let head_rows = head_rows
            .saturating_sub(need.saturating_sub(inner.height as usize))
            .max(1);
        for (n, (t, s)) in head.iter().take(head_rows).enumerate() {
            put(
                buf,
                inner,
                inner.x,
                inner.y + n as u16,
                &draw::fit(t, w, e),
                *s,
            );
        }
        let list = Rect::new(
            inner.x,
            inner.y + head_rows as u16,
            inner.width,
            inner.height.saturating_sub(head_rows as u16),
        );
        if list.height == 0 {
            return;
        }
        put(
            buf,
            list,
            list.x,
            list.y,
            &draw::take(&format!("Events ({}):", h.events.len()), w),
            ui.theme.title,
        );
        let rows = list.height.saturating_sub(1) as usize;
        if rows == 0 {
            return;
        }
        let sel_h = sel_rows.len().clamp(1, rows);
        let start = sel.saturating_sub(rows - sel_h);
        let shown = (sel - start + 1 + rows.saturating_sub(sel - start + sel_h))
            .min(h.events.len() - start);
        // More events than fit: where the selection is, on the bottom border ("3/12 ↓
        // more"), so nobody takes the rows in view for the whole history.
        draw::more(buf, area, start, shown, h.events.len(), Some(sel), ui.theme);
        let mut y = list.y + 1;
        for (i, entry) in h.events.iter().enumerate().skip(start) {
            if y >= list.bottom() {
                break;
            }
            let style = if i == sel {
                ui.theme.selected
            } else if entry.voided_by.is_some() {
                ui.theme.dim
            } else {
                ui.theme.label
            };
            let parts = if i == sel {
                let mut p = sel_rows.clone();
                if p.len() > sel_h {
                    // Still more than the pane holds: the last row says it is cut.
                    let rest = p[sel_h - 1..].join(" ");
                    p.truncate(sel_h - 1);
                    p.push(draw::fit(&rest, w, e));
                }
                p
            } else {
                vec![draw::fit(&text(entry), w, e)]
            };
            for part in parts.iter().take(sel_h) {
                if y >= list.bottom() {
                    break;
                }
                put(buf, list, list.x, y, &draw::pad(part, w), style);
                y += 1;
            }
        }
    }

    fn render_prompt(&self, buf: &mut Buffer, area: Rect, p: &Prompt, ui: &Ui) -> Option<Position> {
        let (title, verb) = if p.to == LotStatus::Hold {
            ("Hold", "hold")
        } else {
            ("Release", "release")
        };
        render_one_field_prompt(
            buf,
            area,
            60,
            &format!("{title} lot {}", p.lot),
            &p.form,
            &format!("{verb} it"),
            "leave it as it is",
            ui,
        )
    }
}

fn newest_first(mut lots: Vec<Lot>) -> Vec<Lot> {
    lots.reverse();
    lots
}

fn join_some(names: impl Iterator<Item = String>, max: usize) -> String {
    let all: Vec<String> = names.collect();
    if all.len() <= max {
        all.join(", ")
    } else {
        format!("{} and {} more", all[..max].join(", "), all.len() - max)
    }
}

/// A lot's status in a few capitals ("HOLD"), as lists show it.
pub(crate) fn short_status(s: LotStatus) -> &'static str {
    match s {
        LotStatus::Released => "ok",
        LotStatus::Hold => "HOLD",
        LotStatus::Recalled => "RECALL",
        LotStatus::Voided => "void",
    }
}

/// A receipt's dock checks in a few words: "19.0 °C, inspection FAIL, note: cracked".
pub fn dock_checks(q: &lotline_domain::Quality) -> String {
    let mut parts = Vec::new();
    if let Some(dc) = q.temperature_dc {
        parts.push(format!("{} °C", lotline_domain::format_temperature(dc)));
    }
    match q.inspection {
        Some(lotline_domain::Inspection::Pass) => parts.push("inspection pass".to_string()),
        Some(lotline_domain::Inspection::Fail) => parts.push("inspection FAIL".to_string()),
        None => {}
    }
    if !q.note.is_empty() {
        parts.push(format!("note: {}", q.note));
    }
    parts.join(", ")
}

/// One line for an event in a lot's history.
pub fn describe(e: &Event, lot: &Lot, compact: bool) -> String {
    let effect = e.kind.balance_effect(lot.id);
    let eff = if effect == Qty::ZERO {
        String::new()
    } else if effect.is_positive() {
        format!("+{effect} {}", lot.unit)
    } else {
        format!("{effect} {}", lot.unit)
    };
    let what = match &e.kind {
        EventKind::Receive(r) => {
            let q = dock_checks(&r.quality);
            format!(
                "received from {} lot {}{}",
                r.supplier,
                r.supplier_lot,
                if q.is_empty() { q } else { format!(", {q}") }
            )
        }
        EventKind::Produce(b) if b.output == lot.id => {
            format!(
                "made by batch from {} input{}",
                b.inputs.len(),
                if b.inputs.len() == 1 { "" } else { "s" }
            )
        }
        EventKind::Produce(b) => format!("used for {}", b.item),
        EventKind::Ship(s) => format!("shipped to {}", s.customer),
        EventKind::Adjust { reason, .. } => format!("adjusted: {reason}"),
        EventKind::Status {
            from, to, reason, ..
        } => format!("{from} -> {to}: {reason}"),
        EventKind::Void { event, reason } => format!("voided event {event}: {reason}"),
        EventKind::ItemChanged { before, after } => format!(
            "item {} changed: {}",
            after.code,
            lotline_domain::describe_changes(&after.changes_from(before))
        ),
        EventKind::PartyChanged { before, after } => format!(
            "party {} changed: {}",
            after.id,
            lotline_domain::describe_changes(&after.changes_from(before))
        ),
        EventKind::ExpiryOverride { event, .. } => {
            format!("used past expiry by event {event} (override)")
        }
        EventKind::LabelData { elements, .. } => lotline_domain::describe_label(elements),
        EventKind::MockRecall(m) => format!(
            "mock recall: {} shipments to {} customers, balance {}",
            m.shipments,
            m.customers,
            lotline_domain::MassBalance::from(m.balance).reconciliation_text()
        ),
        // The lot's own code; others by their ids (the history names them in full on
        // the command line and in the trace).
        other => {
            let code = |id: lotline_domain::LotId| {
                if id == lot.id {
                    lot.code.to_string()
                } else {
                    format!("#{}", id.0)
                }
            };
            lotline_domain::recipe_event_text(other, &code)
                .or_else(|| {
                    lotline_domain::recall_event_text(other, &|id| {
                        (code(id), (id == lot.id).then_some(lot.unit))
                    })
                })
                .unwrap_or_default()
        }
    };
    let reference = e
        .reference
        .as_ref()
        .map(|r| format!(" {r}"))
        .unwrap_or_default();
    if compact {
        return format!("{} {what} {eff}", e.date.format("%m-%d"));
    }
    format!(
        "{:>5} {} {} {what}{reference} ({}@{})",
        e.id,
        e.date,
        draw::rpad(&eff, 12),
        e.stamp.operator,
        e.stamp.station
    )
}

/// A lot's history and its allergens. The allergens are a second look-up: a lot whose
/// allergens could not be read still shows its history, and says so where "Contains"
/// would be (never as a lot without allergens).
type ReadLot = (LotHistory, Option<Result<LotAllergens, String>>);

fn read_lot(station: &dyn Station, code: LotCode) -> Result<ReadLot, StationError> {
    let h = station.lot_history(code.clone())?;
    Ok((h, Some(station.lot_allergens(code).map_err(|e| e.message))))
}

/// The allergen in a `contains ALLERGEN` (or `contains:ALLERGEN`) search, trimmed; `None`
/// for any other search.
pub(crate) fn contains_query(q: &str) -> Option<&str> {
    let head = q.get(..8)?;
    if !head.eq_ignore_ascii_case("contains") {
        return None;
    }
    let rest = &q[8..];
    let rest = rest
        .strip_prefix(':')
        .or_else(|| rest.strip_prefix(' '))?
        .trim();
    (!rest.is_empty()).then_some(rest)
}

/// "Contains Milk, Egg, Wheat", with any allergen the item does not declare named, in the
/// warning colour: the first thing QA looks for on a held batch.
fn allergen_line(a: &LotAllergens, ui: &Ui) -> (String, ratatui::style::Style) {
    if a.undeclared.is_empty() {
        return (format!("Contains {}", a.label), ui.theme.label);
    }
    (
        format!(
            "Contains {}; NOT DECLARED on {}: {}",
            a.label,
            a.item,
            a.undeclared.join(", ")
        ),
        ui.theme.warn,
    )
}

/// The batch-recipe record of the lot the history is for: what it was made against.
fn batch_recipe(h: &LotHistory) -> Option<&BatchRecipe> {
    h.events.iter().rev().find_map(|e| match &e.event.kind {
        EventKind::BatchRecipe(b) if b.output == h.lot.id && e.voided_by.is_none() => {
            Some(b.as_ref())
        }
        _ => None,
    })
}

/// "Yield 92.0 % of 100 kg expected (outside ±5 %), recipe v1", in the warning colour when
/// outside the recipe's tolerance.
fn yield_line(b: &BatchRecipe, ui: &Ui) -> (String, ratatui::style::Style) {
    let text = match (b.expected, b.yield_permille()) {
        (Some(e), Some(y)) => format!(
            "Yield {} of {e} {} expected{}, recipe v{}",
            lotline_domain::format_permille(y),
            b.unit,
            if b.yield_outside() {
                format!(" (outside ±{} %)", b.yield_tolerance_pct)
            } else {
                format!(" (within ±{} %)", b.yield_tolerance_pct)
            },
            b.version
        ),
        _ => format!("Made against recipe v{}; no yield expected", b.version),
    };
    let style = if b.yield_outside() || b.reason.is_some() {
        ui.theme.warn
    } else {
        ui.theme.label
    };
    (text, style)
}

#[cfg(test)]
mod tests {
    use super::contains_query;

    #[test]
    fn contains_takes_a_space_or_a_colon_and_any_case() {
        assert_eq!(contains_query("contains peanut"), Some("peanut"));
        assert_eq!(contains_query("Contains:  tree nuts "), Some("tree nuts"));
        assert_eq!(contains_query("CONTAINS:egg"), Some("egg"));
        assert_eq!(contains_query("contains"), None);
        assert_eq!(contains_query("contains "), None);
        assert_eq!(contains_query("containsegg"), None);
        assert_eq!(contains_query("egg"), None);
        // Not a character boundary at 8 bytes: an ordinary search, never a panic.
        assert_eq!(contains_query("contaiñs egg"), None);
    }
}
