//! Trace: answer the customer's call. Start from our lot code, a supplier's lot code, a
//! GS1 scan of a case, or a complaint (customer + product + dates → the lots they got →
//! pick one); walk the tree backward to supplier receipts and forward to customers; see
//! every KDE of a node; look at the recall scope and hold everything still on hand; check
//! the mass balance, and save and export the mock recall (docs/tui.md, "Trace").

mod report;
mod view;

pub use report::{Found, Line, Tone, elapsed_text};

use super::*;
use crate::tree::{NodeKey, NodeKind, Row, TreeModel};
use chrono::NaiveDate;
use lotline_domain::scan::{Scan, ScanConfig};
use lotline_domain::{Direction, LotFilter, RecallScope, Trace as Graph};
use lotline_domain::{Event, HoldAll, ItemCode, LotCode, LotId, MassBalance, PartyId};
use lotline_station::{Station, StationExt};
use report::Ctx;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceAction {
    /// Typing in the start form or a prompt.
    Form(FormAction),
    /// Open this lot's trace (a scan, the Lots screen, `OpenTrace`).
    Open(LotCode),
    /// A scanned supplier lot that several of our lots carry: list them to pick from
    /// (`PickTrace`).
    Pick {
        supplier_lot: String,
        item: Option<ItemCode>,
        lots: Vec<Lot>,
    },
    /// Go to the start form.
    Start,
    Up,
    Down,
    PageUp,
    PageDown,
    First,
    Last,
    /// Enter: open or close a node, go to a reference's full node, take a pick.
    Activate,
    Expand,
    Collapse,
    ExpandAll,
    CollapseAll,
    Parent,
    /// Backward → forward → both.
    Direction,
    Reroot,
    Search,
    NextMatch,
    Scope,
    Balance,
    HoldAll,
    SaveRecord,
    /// The mock recall view: complete the record.
    FinishRecord,
    Export,
    Details,
    /// Scroll the detail pane down (or up) a line.
    DetailsDown,
    DetailsUp,
    Back,
    Refresh,
    LotsChanged,
}

impl TraceAction {
    /// The screen's action for a key's action (outside text fields).
    pub fn from_key(a: crate::keymap::Action) -> Option<TraceAction> {
        use crate::keymap::Action as A;
        Some(match a {
            A::Up => TraceAction::Up,
            A::Down => TraceAction::Down,
            A::PageUp => TraceAction::PageUp,
            A::PageDown => TraceAction::PageDown,
            A::First => TraceAction::First,
            A::Last => TraceAction::Last,
            A::Open => TraceAction::Activate,
            A::Back => TraceAction::Back,
            A::Search => TraceAction::Search,
            A::Expand => TraceAction::Expand,
            A::Collapse => TraceAction::Collapse,
            A::ExpandAll => TraceAction::ExpandAll,
            A::CollapseAll => TraceAction::CollapseAll,
            A::Parent => TraceAction::Parent,
            A::Direction => TraceAction::Direction,
            A::Reroot => TraceAction::Reroot,
            A::NextMatch => TraceAction::NextMatch,
            A::RecallScope => TraceAction::Scope,
            A::MassBalance => TraceAction::Balance,
            A::HoldAll => TraceAction::HoldAll,
            A::SaveRecord => TraceAction::SaveRecord,
            A::FinishRecord => TraceAction::FinishRecord,
            A::Export => TraceAction::Export,
            A::Details => TraceAction::Details,
            A::ScrollDown => TraceAction::DetailsDown,
            A::ScrollUp => TraceAction::DetailsUp,
            _ => return None,
        })
    }
}

/// Where the screen is: the start form, a list to pick a lot from, or a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Start,
    Pick,
    Tree,
}

/// What a loaded trace shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Tree,
    Scope,
    Balance,
    /// The mock recall record of the root: counts and the gap.
    Mock,
}

/// Where the elapsed time of a trace comes from: the clock, or a fixed figure for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopwatch {
    System,
    Fixed(Duration),
}

impl Stopwatch {
    fn elapsed(self, since: Instant) -> Duration {
        match self {
            Stopwatch::System => since.elapsed(),
            Stopwatch::Fixed(d) => d,
        }
    }
}

/// Lots to choose from: those carrying a supplier lot, or those shipped to a customer.
pub struct Pick {
    pub title: String,
    pub entries: Vec<PickEntry>,
    pub selected: usize,
    /// The direction to trace the chosen lot in.
    pub direction: Direction,
}

pub struct PickEntry {
    pub lot: Lot,
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Search,
    Hold,
    /// Start a mock recall record: its note.
    Record,
    Export,
    /// What was found for one line of the mock recall.
    Count,
}

/// A one-field question over the screen.
pub struct Prompt {
    pub kind: PromptKind,
    pub form: Form,
}

/// A loaded trace and how it is being looked at.
pub struct Loaded {
    pub graph: Graph,
    pub model: TreeModel,
    /// Index of each lot in `graph.lots`.
    pub lots: HashMap<LotId, usize>,
    pub expanded: HashSet<NodeKey>,
    pub rows: Vec<Row>,
    pub selected: usize,
    /// First row drawn; kept by the view so scrolling is smooth.
    pub offset: Cell<usize>,
    pub scope: Option<RecallScope>,
    pub balance: Option<MassBalance>,
    /// The selected line of the scope, balance and mock recall views (shown in full
    /// below them when it is wider than the screen).
    pub scroll: usize,
    /// First line drawn in those views; kept by the view so moving is smooth.
    pub view_offset: Cell<usize>,
}

impl Loaded {
    fn new(graph: Graph) -> Loaded {
        let model = TreeModel::new(&graph);
        let lots = graph
            .lots
            .iter()
            .enumerate()
            .map(|(i, l)| (l.id, i))
            .collect();
        let expanded = HashSet::from([
            NodeKey::Root,
            NodeKey::Section { fwd: false },
            NodeKey::Section { fwd: true },
        ]);
        let mut l = Loaded {
            graph,
            model,
            lots,
            expanded,
            rows: Vec::new(),
            selected: 0,
            offset: Cell::new(0),
            scope: None,
            balance: None,
            scroll: 0,
            view_offset: Cell::new(0),
        };
        l.reflatten();
        l
    }

    pub fn root(&self) -> &Lot {
        &self.graph.lots[self.lots[&self.graph.root]]
    }

    pub fn row(&self) -> Option<&Row> {
        self.rows.get(self.selected)
    }

    /// Flatten again after `expanded` changed, keeping the selected node, or the nearest
    /// of its ancestors still visible.
    fn reflatten(&mut self) {
        let mut chain: Vec<NodeKey> = Vec::new();
        let mut at = Some(self.selected);
        while let Some(i) = at {
            let Some(r) = self.rows.get(i) else {
                break;
            };
            chain.push(r.key);
            at = r.parent;
        }
        let expanded = &self.expanded;
        self.rows = self.model.flatten(|k| expanded.contains(k));
        self.selected = chain
            .iter()
            .find_map(|k| self.rows.iter().position(|r| r.key == *k))
            .unwrap_or(0);
    }

    /// Select `key`, opening what is above it. False if it is not in the tree.
    fn reveal(&mut self, key: NodeKey) -> bool {
        for a in self.model.ancestors(key, &self.graph) {
            self.expanded.insert(a);
        }
        self.reflatten();
        match self.rows.iter().position(|r| r.key == key) {
            Some(i) => {
                self.selected = i;
                true
            }
            None => false,
        }
    }

    fn select(&mut self, i: usize) -> bool {
        let i = i.min(self.rows.len().saturating_sub(1));
        let moved = i != self.selected;
        self.selected = i;
        moved
    }
}

const PAGE: usize = 10;

pub struct Trace {
    pub stage: Stage,
    /// The start form has the cursor.
    pub editing: bool,
    pub start: Form,
    pub pick: Option<Pick>,
    pub loaded: Option<Loaded>,
    pub view: View,
    /// The detail pane was toggled: hidden at 80x24, shown (instead of the tree) smaller.
    pub details_toggled: bool,
    /// How far the detail pane is scrolled; back to the top for each node.
    pub details_scroll: draw::PaneScroll,
    pub prompt: Option<Prompt>,
    pub stopwatch: Stopwatch,
    started: Option<Instant>,
    /// Time since this investigation started, as of the last update.
    pub elapsed: Duration,
    /// Roots visited before a re-root, for Back.
    history: Vec<(LotCode, Direction, NodeKey)>,
    /// The last search, for the next match.
    pub search: Option<String>,
    items: HashMap<ItemCode, Item>,
    parties: HashMap<PartyId, Party>,
    /// Events that made lots, for their KDEs (reference document, who).
    events: HashMap<u64, Event>,
    plant: String,
    operator: String,
    qa: bool,
    /// The mock recall record of the root lot, when one is open on screen.
    pub mock: Option<lotline_domain::MockRecallView>,
}

/// What was found for one line: a lot counted here, or a customer's answer.
fn count_form() -> Form {
    let mut form = Form::new(vec![
        Field::new("lot", "Lot").placeholder("lot code"),
        Field::new("customer", "Customer").placeholder("blank: counted here"),
        Field::new("on_hand", "On hand").placeholder("counted here"),
        Field::new("retrieved", "Retrieved").placeholder("customer sent back"),
        Field::new("consumed", "Consumed").placeholder("customer used"),
        Field::new("destroyed", "Destroyed").placeholder("customer destroyed"),
    ]);
    form.order = (0..6).map(Slot::Field).collect();
    form
}

impl Default for Trace {
    fn default() -> Self {
        Trace::new()
    }
}

fn start_form() -> Form {
    Form::new(vec![
        Field::new("code", "Lot or scan").placeholder("lot code, supplier lot or scan"),
        Field::new("customer", "Customer").placeholder("complaint: who called"),
        Field::new("item", "Product").placeholder("item they bought (optional)"),
        Field::new("from", "Shipped from").placeholder("YYYY-MM-DD (optional)"),
        Field::new("to", "Shipped to").placeholder("YYYY-MM-DD (optional)"),
    ])
}

fn one_field(name: &'static str, label: &'static str, value: &str) -> Form {
    let mut f = Field::new(name, label);
    f.reset_to(value);
    one_field_form(f)
}

impl Trace {
    pub fn new() -> Trace {
        Trace {
            stage: Stage::Start,
            editing: true,
            start: start_form(),
            pick: None,
            loaded: None,
            view: View::Tree,
            details_toggled: false,
            details_scroll: draw::PaneScroll::default(),
            prompt: None,
            stopwatch: Stopwatch::System,
            started: None,
            elapsed: Duration::ZERO,
            history: Vec::new(),
            search: None,
            items: HashMap::new(),
            parties: HashMap::new(),
            events: HashMap::new(),
            plant: String::new(),
            operator: String::new(),
            qa: false,
            mock: None,
        }
    }

    /// The start form's field with the cursor, while the start form is being filled in.
    pub fn start_field(&self) -> Option<&'static str> {
        if self.prompt.is_none() && self.stage == Stage::Start && self.editing {
            self.start.focused().map(|f| f.name)
        } else {
            None
        }
    }

    /// Keys go to a text field: the start form or a prompt.
    pub fn wants_text(&self) -> bool {
        self.prompt.is_some() || (self.stage == Stage::Start && self.editing)
    }

    /// A reason or note typed and not yet used.
    pub fn is_dirty(&self) -> bool {
        self.prompt.as_ref().is_some_and(|p| {
            matches!(
                p.kind,
                PromptKind::Hold | PromptKind::Record | PromptKind::Count
            ) && p.form.is_dirty()
        })
    }

    fn ctx(&self) -> Option<Ctx<'_>> {
        self.loaded.as_ref().map(|l| Ctx {
            graph: &l.graph,
            lots: &l.lots,
            items: &self.items,
            parties: &self.parties,
            dot: " · ",
        })
    }

    /// What a key does here, where the keymap's words would mislead (for the footer).
    pub fn hint_desc(&self, a: crate::keymap::Action) -> Option<&'static str> {
        use crate::keymap::Action as A;
        if self.prompt.is_some() {
            return match a {
                A::Confirm | A::Save => Some("ok"),
                A::Cancel => Some("cancel"),
                _ => None,
            };
        }
        match (self.stage, a) {
            (Stage::Start, A::Save) => Some("trace"),
            (Stage::Start, A::Open) => Some("start"),
            (Stage::Pick, A::Open) => Some("trace it"),
            (Stage::Tree, A::Open)
                if self
                    .loaded
                    .as_ref()
                    .and_then(|l| l.row())
                    .is_some_and(|r| matches!(r.kind, NodeKind::Ref { .. })) =>
            {
                Some("go to it")
            }
            _ => None,
        }
    }

    /// Whether a key's action does anything now (for the footer).
    pub fn hint_applies(&self, a: crate::keymap::Action) -> bool {
        use crate::keymap::Action as A;
        let tree = self.stage == Stage::Tree;
        match a {
            A::Open => self.stage != Stage::Tree || self.view == View::Tree,
            A::Back => self.stage != Stage::Start,
            A::Expand
            | A::Collapse
            | A::ExpandAll
            | A::CollapseAll
            | A::Parent
            | A::Reroot
            | A::Search
            | A::Details => tree && self.view == View::Tree,
            // Only while the detail pane holds more than it shows (as last drawn).
            A::ScrollDown | A::ScrollUp => {
                tree && self.view == View::Tree && self.details_scroll.can_scroll()
            }
            A::NextMatch => tree && self.view == View::Tree && self.search.is_some(),
            A::Direction | A::Export => tree,
            A::RecallScope => tree && self.view != View::Scope,
            A::MassBalance => tree && self.view != View::Balance,
            A::HoldAll => tree && self.view == View::Scope,
            A::SaveRecord => tree && matches!(self.view, View::Balance | View::Mock),
            A::FinishRecord => {
                tree && self.view == View::Mock
                    && self.mock.as_ref().is_some_and(|m| m.finished.is_none())
            }
            A::Up | A::Down | A::PageUp | A::PageDown | A::First | A::Last => {
                self.stage != Stage::Start || self.wants_text()
            }
            _ => true,
        }
    }

    pub fn update(&mut self, action: TraceAction, station: &dyn Station) -> Outcome {
        let out = self.act(action, station);
        if let Some(t) = self.started {
            self.elapsed = self.stopwatch.elapsed(t);
        }
        out
    }

    fn act(&mut self, action: TraceAction, station: &dyn Station) -> Outcome {
        if self.prompt.is_some() {
            return match action {
                TraceAction::Form(a) => self.prompt_action(a, station),
                TraceAction::Refresh => self.refresh(station),
                TraceAction::LotsChanged => self.lots_changed(station),
                TraceAction::Open(_) | TraceAction::Pick { .. } if self.is_dirty() => {
                    self.keep_prompt(&action)
                }
                TraceAction::Open(_) | TraceAction::Pick { .. } => {
                    self.prompt = None;
                    self.act(action, station)
                }
                _ => Outcome::none(),
            };
        }
        match action {
            TraceAction::Refresh => self.refresh(station),
            TraceAction::LotsChanged => self.lots_changed(station),
            TraceAction::Open(code) => self.open_new(code, station),
            TraceAction::Pick {
                supplier_lot,
                item,
                lots,
            } => {
                self.begin();
                self.start.get_mut("code").set(&supplier_lot);
                self.offer(&supplier_lot, item, lots)
            }
            TraceAction::Form(a) => self.start_action(a, station),
            TraceAction::Start => {
                self.stage = Stage::Start;
                self.editing = true;
                self.start.focus_field("code");
                Outcome::changed()
            }
            TraceAction::Back => self.back(station),
            _ => match self.stage {
                Stage::Start => match action {
                    TraceAction::Activate => {
                        self.editing = true;
                        Outcome::changed()
                    }
                    _ => Outcome::none(),
                },
                Stage::Pick => self.pick_action(action, station),
                Stage::Tree => self.tree_action(action, station),
            },
        }
    }

    /// Another trace was asked for while a typed reason or note waits in the prompt: it
    /// is not thrown away; the user finishes or cancels it first.
    fn keep_prompt(&self, action: &TraceAction) -> Outcome {
        let what = match self.prompt.as_ref().map(|p| p.kind) {
            Some(PromptKind::Record) => "the mock recall note",
            _ => "the hold reason",
        };
        let other = match action {
            TraceAction::Open(code) => format!("the trace of {code}"),
            TraceAction::Pick { supplier_lot, .. } => format!("supplier lot {supplier_lot}"),
            _ => "another trace".into(),
        };
        Outcome::changed().status(Status::warn(format!(
            "trace: {what} you typed is not used yet; finish it (Enter) or cancel it (Esc) before opening {other}"
        )))
    }

    fn refresh(&mut self, station: &dyn Station) -> Outcome {
        let loaded = station
            .items()
            .and_then(|i| Ok((i, station.parties()?, station.whoami()?, station.plant()?)));
        match loaded {
            Ok((items, parties, me, plant)) => {
                let finished_first = {
                    let mut v: Vec<&Item> = items.iter().collect();
                    v.sort_by_key(|i| i.kind != lotline_domain::ItemKind::Finished);
                    item_candidates(&v.into_iter().cloned().collect::<Vec<_>>())
                };
                self.start.get_mut("item").candidates = finished_first;
                self.start.get_mut("customer").candidates =
                    party_candidates(&parties, |r| r.buys());
                self.items = items.into_iter().map(|i| (i.code.clone(), i)).collect();
                self.parties = parties.into_iter().map(|p| (p.id.clone(), p)).collect();
                self.operator = format!("{}@{}", me.operator, me.station);
                self.qa = me.qa();
                self.plant = plant.location.business_name;
                Outcome::changed()
            }
            Err(e) => Outcome::error(&e),
        }
    }

    /// Something changed lots (a hold, a batch): reload the trace, keeping what is open.
    fn lots_changed(&mut self, station: &dyn Station) -> Outcome {
        let Some(l) = self.loaded.as_ref() else {
            return Outcome::none();
        };
        let code = l.root().code.clone();
        let dir = l.graph.direction;
        let had_scope = l.scope.is_some();
        let had_balance = l.balance.is_some();
        match self.reload(code.clone(), dir, station) {
            Ok(()) => {}
            Err(e) => return Outcome::error(&e),
        }
        if had_scope && let Err(e) = self.load_scope(station) {
            return Outcome::error(&e);
        }
        if had_balance && let Err(e) = self.load_balance(station) {
            return Outcome::error(&e);
        }
        Outcome::changed()
    }

    /// Load `code` again in `dir`, keeping the open nodes and the selection where they
    /// still exist.
    fn reload(
        &mut self,
        code: LotCode,
        dir: Direction,
        station: &dyn Station,
    ) -> Result<(), StationError> {
        let graph = station.trace(code, dir)?;
        let mut fresh = Loaded::new(graph);
        if let Some(old) = self.loaded.take() {
            let key = old.row().map(|r| r.key);
            if old.graph.root == fresh.graph.root && old.graph.direction == dir {
                fresh.expanded = old.expanded;
            }
            fresh.reflatten();
            if let Some(k) = key
                && let Some(i) = fresh.rows.iter().position(|r| r.key == k)
            {
                fresh.selected = i;
            }
            fresh.offset.set(old.offset.get());
        }
        self.loaded = Some(fresh);
        self.load_detail(station);
        Ok(())
    }

    /// A new investigation: the stopwatch starts now.
    fn begin(&mut self) {
        self.started = Some(Instant::now());
        self.history.clear();
        self.search = None;
    }

    /// Open `code` as the start of a new investigation.
    fn open_new(&mut self, code: LotCode, station: &dyn Station) -> Outcome {
        self.begin();
        self.pick = None;
        self.start.get_mut("code").set(code.as_str());
        self.open(code, Direction::Both, station)
    }

    /// Load and show the trace of `code`.
    fn open(&mut self, code: LotCode, dir: Direction, station: &dyn Station) -> Outcome {
        match station.trace(code.clone(), dir) {
            Ok(graph) => {
                self.loaded = Some(Loaded::new(graph));
                self.stage = Stage::Tree;
                self.view = View::Tree;
                self.editing = false;
                self.load_detail(station);
                Outcome::changed().status(Status::info(self.summary()))
            }
            Err(e) => {
                self.stage = Stage::Start;
                self.editing = true;
                self.start.get_mut("code").set(code.as_str());
                refuse(&mut self.start, &rename(e, "lot", "code"))
            }
        }
    }

    /// "Trace of R26309-001 EGGS, forward: 14 lots, 31 shipments to 12 customers".
    fn summary(&self) -> String {
        let Some(l) = &self.loaded else {
            return String::new();
        };
        let g = &l.graph;
        let root = l.root();
        let customers: HashSet<&PartyId> = g.shipments.iter().map(|s| &s.customer).collect();
        let mut s = format!(
            "Trace of {} {}, {}: {} lot{}",
            root.code,
            root.item,
            g.direction,
            g.lots.len(),
            if g.lots.len() == 1 { "" } else { "s" }
        );
        if g.direction != Direction::Backward {
            s.push_str(&format!(
                ", {} shipment{} to {} customer{}",
                g.shipments.len(),
                if g.shipments.len() == 1 { "" } else { "s" },
                customers.len(),
                if customers.len() == 1 { "" } else { "s" }
            ));
        }
        s
    }

    /// Make sure the event that made the selected lot is at hand for the detail pane.
    fn load_detail(&mut self, station: &dyn Station) {
        self.details_scroll.reset();
        let Some(l) = &self.loaded else {
            return;
        };
        let Some(id) = l.row().and_then(|r| r.kind.lot(&l.graph)) else {
            return;
        };
        let Some(lot) = l.lots.get(&id).map(|&i| &l.graph.lots[i]) else {
            return;
        };
        let ev = lot.event;
        if !self.events.contains_key(&ev)
            && let Ok(e) = station.event(ev)
        {
            self.events.insert(ev, e);
        }
    }

    // ----- the start form -------------------------------------------------------------

    fn start_action(&mut self, a: FormAction, station: &dyn Station) -> Outcome {
        if self.stage != Stage::Start || !self.editing {
            return Outcome::none();
        }
        let field = self.start.focused().map(|f| f.name).unwrap_or("");
        match a {
            FormAction::Confirm => {
                if accept_pick(&mut self.start) {
                    self.start.next(|_| false);
                    return Outcome::changed();
                }
                match field {
                    "code" if self.start.get("code").opt().is_some() => self.start_code(station),
                    "customer" | "item" => {
                        let what = if field == "customer" {
                            "customer"
                        } else {
                            "item"
                        };
                        let f = self.start.get_mut(field);
                        if let Err(e) = check_choice(f, what, true) {
                            return refuse(&mut self.start, &e);
                        }
                        self.start.next(|_| false);
                        Outcome::changed()
                    }
                    "to" | "" => self.start_any(station),
                    _ => {
                        self.start.next(|_| false);
                        Outcome::changed()
                    }
                }
            }
            FormAction::Save => self.start_any(station),
            FormAction::Next => Outcome {
                changed: self.start.next(|_| false),
                events: Vec::new(),
            },
            FormAction::Clear => {
                self.start = {
                    let mut f = start_form();
                    for n in ["customer", "item"] {
                        f.get_mut(n).candidates = self.start.get(n).candidates.clone();
                    }
                    f
                };
                Outcome::changed()
            }
            FormAction::Cancel => {
                if let Some(f) = self.start.focused_mut()
                    && f.pick_open()
                {
                    f.pick_closed = true;
                    f.browse = false;
                    return Outcome::changed();
                }
                // Leave the fields: back to a trace or list there is, else the menu keys.
                self.editing = false;
                if self.loaded.is_some() {
                    self.stage = Stage::Tree;
                } else if self.pick.is_some() {
                    self.stage = Stage::Pick;
                }
                Outcome::changed()
            }
            other => common(&mut self.start, &other, |_| false).unwrap_or_default(),
        }
    }

    /// Start from whatever was filled in: a code wins, else a complaint.
    fn start_any(&mut self, station: &dyn Station) -> Outcome {
        if self.start.get("code").opt().is_some() {
            return self.start_code(station);
        }
        if self.start.get("customer").opt().is_some() {
            return self.complaint(station);
        }
        let e = invalid(
            "code",
            "type or scan a lot code, or give a customer for a complaint",
        );
        refuse(&mut self.start, &e)
    }

    /// Our lot code, a supplier's lot code, or a GS1 scan with a GTIN and a lot.
    fn start_code(&mut self, station: &dyn Station) -> Outcome {
        let text = self.start.get("code").value().trim().to_string();
        let scan = match lotline_domain::scan::parse(&text, &ScanConfig::default()) {
            Ok(s) => s,
            Err(e) => return refuse(&mut self.start, &invalid("code", e.to_string())),
        };
        let (lot_text, item) = match &scan {
            Scan::Plain { text, .. } => (text.clone(), None),
            Scan::Gs1 { .. } => {
                let Some(lot) = scan.lot() else {
                    return refuse(
                        &mut self.start,
                        &invalid(
                            "code",
                            "the scan has no lot (10); scan the label's barcode that carries the lot",
                        ),
                    );
                };
                let item = scan.gtin().and_then(|g| {
                    let g = lotline_domain::Gtin::parse(g, "gtin").ok()?;
                    self.items
                        .values()
                        .find(|i| i.gtin.as_ref() == Some(&g))
                        .map(|i| i.code.clone())
                });
                if scan.gtin().is_some() && item.is_none() {
                    return refuse(
                        &mut self.start,
                        &invalid(
                            "code",
                            format!(
                                "no item has GTIN {}; give the item its GTIN (lotline item set) or type the lot",
                                scan.gtin().unwrap_or("")
                            ),
                        ),
                    );
                }
                (lot.to_string(), item)
            }
        };
        self.begin();
        self.pick = None;
        // Ours?
        if let Ok(code) = LotCode::parse(&lot_text, "code") {
            match station.find_lot(code) {
                Ok(Some(l)) if item.as_ref().is_none_or(|i| &l.item == i) => {
                    return self.open(l.code, Direction::Both, station);
                }
                Ok(_) => {}
                Err(e) => return Outcome::error(&e),
            }
        }
        // A supplier's lot: which of ours carry it?
        let lots = match station.lots(LotFilter {
            supplier_lot: Some(lot_text.clone()),
            ..Default::default()
        }) {
            Ok(v) => v,
            Err(e) => return Outcome::error(&e),
        };
        let lots: Vec<Lot> = lots
            .into_iter()
            .filter(|l| item.as_ref().is_none_or(|i| &l.item == i))
            .collect();
        let for_item = item
            .as_ref()
            .map(|i| format!(" of {i}"))
            .unwrap_or_default();
        match lots.len() {
            0 => refuse(
                &mut self.start,
                &invalid(
                    "code",
                    format!(
                        "no lot of ours and no supplier lot{for_item} is {}",
                        lotline_domain::text::excerpt(lot_text)
                    ),
                ),
            ),
            1 => {
                let l = lots.into_iter().next().expect("one lot");
                let out = self.open(l.code.clone(), Direction::Forward, station);
                out.status(Status::info(format!(
                    "Supplier lot {lot_text}{for_item} is our lot {}; {}",
                    l.code,
                    self.summary()
                )))
            }
            _ => self.offer(&lot_text, item, lots),
        }
    }

    /// Several of our lots carry supplier lot `lot_text` (of `item`): a list to pick the
    /// one to trace forward, newest first. None is chosen for the user: in a recall the
    /// lot that matters is often the one used up or shipped.
    fn offer(&mut self, lot_text: &str, item: Option<ItemCode>, lots: Vec<Lot>) -> Outcome {
        let n = lots.len();
        let for_item = item.map(|i| format!(" of {i}")).unwrap_or_default();
        let entries = lots
            .into_iter()
            .rev()
            .map(|l| PickEntry {
                note: match &l.origin {
                    lotline_domain::Origin::Received { supplier, .. } => format!(
                        "from {supplier}, received {}, {} {} on hand",
                        l.date, l.balance, l.unit
                    ),
                    lotline_domain::Origin::Produced { .. } => format!("made {}", l.date),
                    lotline_domain::Origin::Returned { customer, .. } => {
                        format!("returned by {customer} {}", l.date)
                    }
                },
                lot: l,
            })
            .collect();
        self.pick = Some(Pick {
            title: format!("Our lots carrying supplier lot {lot_text}{for_item} ({n})"),
            entries,
            selected: 0,
            direction: Direction::Forward,
        });
        self.stage = Stage::Pick;
        self.editing = false;
        Outcome::changed().status(Status::info(format!(
            "{n} of our lots carry supplier lot {lot_text}; pick one to trace forward"
        )))
    }

    /// Customer + product + dates → the lots shipped to them → pick one.
    fn complaint(&mut self, station: &dyn Station) -> Outcome {
        let mut c = Checks::new();
        for (name, what) in [("customer", "customer"), ("item", "item")] {
            c.take(check_choice(self.start.get_mut(name), what, true));
        }
        let customer = c.take(PartyId::parse(self.start.value("customer"), "customer"));
        let item = c.take(
            self.start
                .get("item")
                .opt()
                .map(|t| ItemCode::parse(t, "item"))
                .transpose(),
        );
        // An empty date is no limit; a wrong one is a problem (and no limit meanwhile).
        let mut date = |name: &str| {
            let t = self.start.get(name).opt()?.to_string();
            c.take(match NaiveDate::parse_from_str(&t, "%Y-%m-%d") {
                Ok(d) if lotline_domain::check_year(d, name).is_ok() => Ok(d),
                _ => Err(invalid(
                    name,
                    format!(
                        "{} is not a date; use YYYY-MM-DD",
                        lotline_domain::text::excerpt(t)
                    ),
                )),
            })
        };
        let (from, to) = (date("from"), date("to"));
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            c.push(invalid(
                "to",
                format!("{t} is before {f}; give the earlier day first"),
            ));
        }
        let (customer, item) = match c.finish(|| Some((customer?, item?))) {
            Ok(v) => v,
            Err(e) => return refuse_all(&mut self.start, e),
        };
        self.begin();
        let found = match station.deliveries(customer.clone(), item.clone(), from, to) {
            Ok(d) => d,
            Err(e) => return refuse(&mut self.start, &e),
        };
        let what = item.as_ref().map(|i| format!(" {i}")).unwrap_or_default();
        let when = match (from, to) {
            (Some(f), Some(t)) => format!(" from {f} to {t}"),
            (Some(f), None) => format!(" since {f}"),
            (None, Some(t)) => format!(" until {t}"),
            (None, None) => String::new(),
        };
        if found.is_empty() {
            return Outcome::changed().status(Status::warn(format!(
                "{customer} received no{what} lots{when}"
            )));
        }
        // One entry per shipment line: a lot shipped twice is listed twice, so the
        // message counts both shipments and lots.
        let n = found.len();
        let lots = found
            .iter()
            .map(|d| d.lot.id)
            .collect::<std::collections::HashSet<_>>()
            .len();
        let shipments = found
            .iter()
            .map(|d| d.event)
            .collect::<std::collections::HashSet<_>>()
            .len();
        let entries = found
            .into_iter()
            .map(|d| PickEntry {
                note: format!(
                    "shipped {} {} {}{}",
                    d.date,
                    d.qty,
                    d.lot.unit,
                    d.reference.map(|r| format!(" {r}")).unwrap_or_default()
                ),
                lot: d.lot,
            })
            .collect();
        self.pick = Some(Pick {
            title: format!("Shipped to {customer}{what}{when} ({n})"),
            entries,
            selected: 0,
            direction: Direction::Backward,
        });
        self.stage = Stage::Pick;
        self.editing = false;
        Outcome::changed().status(Status::info(format!(
            "{} of {} shipped to {customer}, newest first; pick the one complained about",
            lotline_domain::words::plural(shipments, "shipment", "shipments"),
            lotline_domain::words::plural(lots, "lot", "lots"),
        )))
    }

    // ----- the pick list --------------------------------------------------------------

    fn pick_action(&mut self, a: TraceAction, station: &dyn Station) -> Outcome {
        let Some(p) = self.pick.as_mut() else {
            return Outcome::none();
        };
        let last = p.entries.len().saturating_sub(1);
        let to = match a {
            TraceAction::Up => p.selected.saturating_sub(1),
            TraceAction::Down => (p.selected + 1).min(last),
            TraceAction::PageUp => p.selected.saturating_sub(PAGE),
            TraceAction::PageDown => (p.selected + PAGE).min(last),
            TraceAction::First => 0,
            TraceAction::Last => last,
            TraceAction::Activate | TraceAction::Expand => {
                let Some(e) = p.entries.get(p.selected) else {
                    return Outcome::none();
                };
                let (code, dir) = (e.lot.code.clone(), p.direction);
                self.history.clear();
                return self.open(code, dir, station);
            }
            _ => return Outcome::none(),
        };
        changed(std::mem::replace(&mut p.selected, to) != to)
    }

    fn back(&mut self, station: &dyn Station) -> Outcome {
        match self.stage {
            Stage::Start => Outcome::none(),
            Stage::Pick => {
                self.stage = Stage::Start;
                self.editing = true;
                Outcome::changed()
            }
            Stage::Tree if self.view != View::Tree => {
                self.view = View::Tree;
                Outcome::changed()
            }
            Stage::Tree => {
                if let Some((code, dir, key)) = self.history.pop() {
                    return match self.reload_to(code, dir, key, station) {
                        Ok(()) => Outcome::changed().status(Status::info(self.summary())),
                        Err(e) => Outcome::error(&e),
                    };
                }
                if self.pick.is_some() {
                    self.stage = Stage::Pick;
                } else {
                    self.stage = Stage::Start;
                    self.editing = true;
                }
                Outcome::changed()
            }
        }
    }

    /// Load `code` fresh and select `key` in it.
    fn reload_to(
        &mut self,
        code: LotCode,
        dir: Direction,
        key: NodeKey,
        station: &dyn Station,
    ) -> Result<(), StationError> {
        let graph = station.trace(code, dir)?;
        let mut l = Loaded::new(graph);
        l.reveal(key);
        self.loaded = Some(l);
        self.view = View::Tree;
        self.load_detail(station);
        Ok(())
    }

    // ----- the tree and its views -----------------------------------------------------

    fn tree_action(&mut self, a: TraceAction, station: &dyn Station) -> Outcome {
        match a {
            TraceAction::Direction => return self.turn(station),
            TraceAction::Scope => {
                return match self.load_scope(station) {
                    Ok(()) => {
                        self.view = View::Scope;
                        if let Some(l) = self.loaded.as_mut() {
                            l.scroll = 0;
                        }
                        Outcome::changed()
                    }
                    Err(e) => Outcome::error(&e),
                };
            }
            TraceAction::Balance => {
                return match self.load_balance(station) {
                    Ok(()) => {
                        self.view = View::Balance;
                        if let Some(l) = self.loaded.as_mut() {
                            l.scroll = 0;
                        }
                        Outcome::changed()
                    }
                    Err(e) => Outcome::error(&e),
                };
            }
            TraceAction::HoldAll => return self.ask_hold(station),
            TraceAction::SaveRecord if self.view == View::Mock => return self.ask_count(),
            TraceAction::SaveRecord => return self.ask_record(station),
            TraceAction::FinishRecord => return self.finish_mock(station),
            TraceAction::Export => return self.ask_export(),
            _ => {}
        }
        if self.view != View::Tree {
            return self.scroll_view(a);
        }
        // Scrolling the detail pane keeps the node; anything else may show another.
        let same_node = matches!(a, TraceAction::DetailsDown | TraceAction::DetailsUp);
        let out = self.tree_move(a, station);
        if out.changed && !same_node {
            self.load_detail(station);
        }
        out
    }

    /// Lines of the scope or balance view, as drawn.
    pub fn view_lines(&self, dot: &str) -> Vec<Line> {
        let (Some(ctx), Some(l)) = (self.ctx(), self.loaded.as_ref()) else {
            return Vec::new();
        };
        let ctx = Ctx { dot, ..ctx };
        match self.view {
            View::Tree => Vec::new(),
            View::Scope => l
                .scope
                .as_ref()
                .map(|s| report::scope_lines(&ctx, s))
                .unwrap_or_default(),
            View::Balance => l
                .balance
                .as_ref()
                .map(|m| {
                    report::balance_lines(&ctx, m, l.scope.as_ref().map(Found::of), self.elapsed)
                })
                .unwrap_or_default(),
            View::Mock => self
                .mock
                .as_ref()
                .map(|m| report::mock_lines(m, self.now()))
                .unwrap_or_default(),
        }
    }

    /// Lines of the scope, balance or mock recall view with the hints the screen puts
    /// among them (`key` names an action's key): what is drawn and what is selected.
    pub fn drawn_lines(
        &self,
        dot: &str,
        key: &dyn Fn(crate::keymap::Action) -> String,
    ) -> Vec<Line> {
        use crate::keymap::Action;
        let mut v = self.view_lines(dot);
        let Some(l) = &self.loaded else {
            return v;
        };
        match self.view {
            View::Scope if l.scope.as_ref().is_some_and(|s| !s.to_hold.is_empty()) => {
                v.insert(
                    3,
                    (
                        format!(
                            "{} holds them all, in one go, with a reason",
                            key(Action::HoldAll)
                        ),
                        Tone::Dim,
                    ),
                );
            }
            View::Balance => {
                v.push((String::new(), Tone::Normal));
                v.push((
                    format!(
                        "{} starts (or continues) {}'s mock recall record",
                        key(Action::SaveRecord),
                        l.root().code,
                    ),
                    Tone::Dim,
                ));
            }
            View::Mock if self.mock.as_ref().is_some_and(|m| m.finished.is_none()) => {
                v.insert(
                    1,
                    (
                        format!(
                            "{} enters a count; {} completes it",
                            key(Action::SaveRecord),
                            key(Action::FinishRecord)
                        ),
                        Tone::Dim,
                    ),
                );
            }
            _ => {}
        }
        v
    }

    /// Move the selected line of a view; blank lines are stepped over.
    fn scroll_view(&mut self, a: TraceAction) -> Outcome {
        let v = self.drawn_lines(" · ", &|_| String::new());
        let Some(l) = self.loaded.as_mut() else {
            return Outcome::none();
        };
        let last = v.len().saturating_sub(1);
        let at = l.scroll.min(last);
        let blank = |i: usize| v.get(i).is_none_or(|(t, _)| t.trim().is_empty());
        // The nearest line with text from `i` the way asked, else `i` itself.
        let text_near = |i: usize, down: bool| -> usize {
            let found = if down {
                (i..=last).find(|&j| !blank(j))
            } else {
                (0..=i).rev().find(|&j| !blank(j))
            };
            found.unwrap_or(i)
        };
        let to = match a {
            TraceAction::Up => text_near(at.saturating_sub(1), false),
            TraceAction::Down => text_near((at + 1).min(last), true),
            TraceAction::PageUp => text_near(at.saturating_sub(PAGE), false),
            TraceAction::PageDown => text_near((at + PAGE).min(last), true),
            TraceAction::First => 0,
            TraceAction::Last => last,
            _ => return Outcome::none(),
        };
        changed(std::mem::replace(&mut l.scroll, to) != to)
    }

    fn tree_move(&mut self, a: TraceAction, station: &dyn Station) -> Outcome {
        let Some(l) = self.loaded.as_mut() else {
            return Outcome::none();
        };
        let Some(row) = l.row().cloned() else {
            return Outcome::none();
        };
        let last = l.rows.len().saturating_sub(1);
        match a {
            TraceAction::Up => changed(l.select(l.selected.saturating_sub(1))),
            TraceAction::Down => changed(l.select(l.selected + 1)),
            TraceAction::PageUp => changed(l.select(l.selected.saturating_sub(PAGE))),
            TraceAction::PageDown => changed(l.select((l.selected + PAGE).min(last))),
            TraceAction::First => changed(l.select(0)),
            TraceAction::Last => changed(l.select(last)),
            TraceAction::Activate => {
                if matches!(row.kind, NodeKind::Ref { .. }) {
                    return self.jump();
                }
                if !row.has_children {
                    return Outcome::none();
                }
                if row.expanded {
                    l.expanded.remove(&row.key);
                } else {
                    l.expanded.insert(row.key);
                }
                l.reflatten();
                Outcome::changed()
            }
            TraceAction::Expand => {
                if matches!(row.kind, NodeKind::Ref { .. }) {
                    return self.jump();
                }
                if !row.has_children {
                    return Outcome::none();
                }
                if row.expanded {
                    // Already open: go to the first child.
                    return changed(l.select(l.selected + 1));
                }
                l.expanded.insert(row.key);
                l.reflatten();
                Outcome::changed()
            }
            TraceAction::Collapse => {
                if row.expanded {
                    l.expanded.remove(&row.key);
                    l.reflatten();
                    return Outcome::changed();
                }
                match row.parent {
                    Some(p) => changed(l.select(p)),
                    None => Outcome::none(),
                }
            }
            TraceAction::Parent => match row.parent {
                Some(p) => changed(l.select(p)),
                None => Outcome::none(),
            },
            TraceAction::ExpandAll => {
                let all = l.model.all_openable();
                if all == l.expanded {
                    return Outcome::none();
                }
                l.expanded = all;
                l.reflatten();
                let n = l.rows.len();
                Outcome::changed().status(Status::info(format!(
                    "Expanded all: {} {}",
                    crate::tree::thousands(n),
                    if n == 1 { "row" } else { "rows" }
                )))
            }
            TraceAction::CollapseAll => {
                let first = HashSet::from([
                    NodeKey::Root,
                    NodeKey::Section { fwd: false },
                    NodeKey::Section { fwd: true },
                ]);
                if first == l.expanded {
                    return Outcome::none();
                }
                l.expanded = first;
                l.reflatten();
                Outcome::changed()
            }
            TraceAction::Reroot => self.reroot(station),
            TraceAction::Search => {
                let last = self.search.clone().unwrap_or_default();
                self.prompt = Some(Prompt {
                    kind: PromptKind::Search,
                    form: one_field("find", "Find", &last),
                });
                Outcome::changed()
            }
            TraceAction::NextMatch => match self.search.clone() {
                Some(q) => self.find(&q),
                None => {
                    Outcome::changed().status(Status::info("search first: / and a code or name"))
                }
            },
            TraceAction::Details => {
                self.details_toggled = !self.details_toggled;
                Outcome::changed()
            }
            TraceAction::DetailsDown => changed(self.details_scroll.down(1)),
            TraceAction::DetailsUp => changed(self.details_scroll.up(1)),
            _ => Outcome::none(),
        }
    }

    /// Go to the full node a reference stands for.
    fn jump(&mut self) -> Outcome {
        let Some(l) = self.loaded.as_mut() else {
            return Outcome::none();
        };
        let Some(row) = l.row().cloned() else {
            return Outcome::none();
        };
        match l.model.target(row.key, row.kind) {
            Some(t) => changed(l.reveal(t)),
            None => Outcome::none(),
        }
    }

    /// Backward → forward → both, on the same root.
    fn turn(&mut self, station: &dyn Station) -> Outcome {
        let Some(l) = &self.loaded else {
            return Outcome::none();
        };
        let next = match l.graph.direction {
            Direction::Backward => Direction::Forward,
            Direction::Forward => Direction::Both,
            Direction::Both => Direction::Backward,
        };
        let code = l.root().code.clone();
        match self.reload(code, next, station) {
            Ok(()) => {
                self.view = View::Tree;
                Outcome::changed().status(Status::info(self.summary()))
            }
            Err(e) => Outcome::error(&e),
        }
    }

    /// Make the selected lot (a shipment's lot) the root, in the same direction.
    fn reroot(&mut self, station: &dyn Station) -> Outcome {
        let Some(l) = &self.loaded else {
            return Outcome::none();
        };
        let Some(row) = l.row() else {
            return Outcome::none();
        };
        let Some(id) = row.kind.lot(&l.graph) else {
            return Outcome::none();
        };
        if id == l.graph.root {
            return Outcome::changed().status(Status::info("This lot is the root already"));
        }
        let Some(code) = l.lots.get(&id).map(|&i| l.graph.lots[i].code.clone()) else {
            return Outcome::none();
        };
        let back = (l.root().code.clone(), l.graph.direction, row.key);
        let dir = l.graph.direction;
        match station.trace(code, dir) {
            Ok(graph) => {
                self.history.push(back);
                self.loaded = Some(Loaded::new(graph));
                self.view = View::Tree;
                self.load_detail(station);
                Outcome::changed().status(Status::info(self.summary()))
            }
            Err(e) => Outcome::error(&e),
        }
    }

    /// Select the next node after the selection (wrapping) whose text contains `q`.
    fn find(&mut self, q: &str) -> Outcome {
        let needle = q.trim().to_lowercase();
        if needle.is_empty() {
            self.search = None;
            return Outcome::changed();
        }
        let Some(ctx) = self.ctx() else {
            return Outcome::none();
        };
        let Some(l) = self.loaded.as_ref() else {
            return Outcome::none();
        };
        let all = l.model.flatten(|_| true);
        let hits: Vec<usize> = all
            .iter()
            .enumerate()
            .filter(|(_, r)| ctx.search_text(r.kind).contains(&needle))
            .map(|(i, _)| i)
            .collect();
        let here = l
            .row()
            .and_then(|r| all.iter().position(|a| a.key == r.key))
            .unwrap_or(0);
        let key_at = |i: usize| all[i].key;
        let Some(n) =
            hits.iter()
                .position(|&i| i > here)
                .or(if hits.is_empty() { None } else { Some(0) })
        else {
            return Outcome::changed()
                .status(Status::warn(format!("No node matches '{}'", q.trim())));
        };
        let key = key_at(hits[n]);
        let total = hits.len();
        // Open the path to it, as the full tree has it.
        let mut path = Vec::new();
        let mut at = all[hits[n]].parent;
        while let Some(i) = at {
            path.push(all[i].key);
            at = all[i].parent;
        }
        let l = self.loaded.as_mut().expect("loaded");
        l.expanded.extend(path);
        l.reflatten();
        if let Some(i) = l.rows.iter().position(|r| r.key == key) {
            l.selected = i;
        }
        Outcome::changed().status(Status::info(format!(
            "Match {} of {total} for '{}'",
            n + 1,
            q.trim()
        )))
    }

    fn load_scope(&mut self, station: &dyn Station) -> Result<(), StationError> {
        let Some(l) = self.loaded.as_mut() else {
            return Ok(());
        };
        let scope = station.recall_scope(l.root().code.clone())?;
        l.scope = Some(scope);
        // The scope's lots may not all be in a backward trace: name them too.
        Ok(())
    }

    fn load_balance(&mut self, station: &dyn Station) -> Result<(), StationError> {
        if self.loaded.as_ref().is_some_and(|l| l.scope.is_none()) {
            self.load_scope(station)?;
        }
        let Some(l) = self.loaded.as_mut() else {
            return Ok(());
        };
        l.balance = Some(station.mass_balance(l.root().code.clone())?);
        Ok(())
    }

    fn not_qa(&self, what: &str) -> Outcome {
        Outcome::changed().status(Status::error(format!(
            "{what}: {} is not a QA user; ask QA (named with `lotline plant set --qa-users`) to do this",
            self.operator.split('@').next().unwrap_or("")
        )))
    }

    fn ask_hold(&mut self, station: &dyn Station) -> Outcome {
        if let Err(e) = self.load_scope(station) {
            return Outcome::error(&e);
        }
        self.view = View::Scope;
        let Some(scope) = self.loaded.as_ref().and_then(|l| l.scope.as_ref()) else {
            return Outcome::none();
        };
        if scope.to_hold.is_empty() {
            return Outcome::changed().status(Status::info(format!(
                "Nothing to hold: no released lot in the scope has stock ({} already held)",
                scope.already_held.len()
            )));
        }
        if !self.qa {
            return self.not_qa("hold all");
        }
        self.prompt = Some(Prompt {
            kind: PromptKind::Hold,
            form: one_field_form(
                Field::new("reason", "Reason")
                    .placeholder("why, for each lot's history")
                    .required(),
            ),
        });
        Outcome::changed()
    }

    /// Start the root's mock recall record (a note first), or continue the one left open.
    fn ask_record(&mut self, station: &dyn Station) -> Outcome {
        if let Err(e) = self.load_balance(station) {
            return Outcome::error(&e);
        }
        self.view = View::Balance;
        if !self.qa {
            return self.not_qa("mock recall");
        }
        let Some(root) = self.loaded.as_ref().map(|l| l.root().code.clone()) else {
            return Outcome::none();
        };
        let open = match station.mock_recalls() {
            Ok(list) => list
                .into_iter()
                .find(|m| m.root == root && m.finished.is_none()),
            Err(e) => return Outcome::error(&e),
        };
        if let Some(m) = open {
            return match self.show_mock(m.id, station) {
                Ok(()) => Outcome::changed().status(Status::info(format!(
                    "Continuing mock recall {} of {root}, started {} by {}",
                    m.id,
                    m.started.at.format("%Y-%m-%d %H:%M UTC"),
                    m.started.operator
                ))),
                Err(e) => Outcome::error(&e),
            };
        }
        // The note is the user's to write: empty, with a hint, never text typing would
        // append to.
        let mut form = Form::new(vec![
            Field::new("note", "Note").placeholder("for the record, e.g. Q4 SQF mock recall"),
        ]);
        form.order = vec![Slot::Field(0)];
        self.prompt = Some(Prompt {
            kind: PromptKind::Record,
            form,
        });
        Outcome::changed()
    }

    /// Load mock recall `id` and show it.
    fn show_mock(&mut self, id: u64, station: &dyn Station) -> Result<(), StationError> {
        self.mock = Some(station.mock_recall(id)?);
        self.view = View::Mock;
        if let Some(l) = self.loaded.as_mut() {
            l.scroll = 0;
        }
        Ok(())
    }

    fn ask_count(&mut self) -> Outcome {
        if !self.qa {
            return self.not_qa("mock recall count");
        }
        match &self.mock {
            Some(m) if m.finished.is_some() => Outcome::changed().status(Status::warn(format!(
                "mock recall {} is completed; Ctrl-S on the mass balance starts a new one",
                m.id
            ))),
            Some(_) => {
                self.prompt = Some(Prompt {
                    kind: PromptKind::Count,
                    form: count_form(),
                });
                Outcome::changed()
            }
            None => Outcome::none(),
        }
    }

    /// Save one count: the lot counted here, or a customer's answer for a lot.
    fn count(&mut self, station: &dyn Station) -> Outcome {
        let Some(id) = self.mock.as_ref().map(|m| m.id) else {
            return Outcome::none();
        };
        let Some(p) = self.prompt.as_mut() else {
            return Outcome::none();
        };
        let f = &p.form;
        let mut c = Checks::new();
        let opt = |n: &str| Some(f.value(n).trim()).filter(|t| !t.is_empty());
        let lot = c.take(opt("lot").map(|t| LotCode::parse(t, "lot")).transpose());
        let customer = c.take(
            opt("customer")
                .map(|t| PartyId::parse(t, "customer"))
                .transpose(),
        );
        let mut qty = |n: &'static str| {
            c.take(
                opt(n)
                    .map(|t| {
                        t.parse()
                            .map_err(|e: lotline_domain::QtyParseError| invalid(n, e.0))
                    })
                    .transpose(),
            )
        };
        let (on_hand, retrieved, consumed, destroyed) = (
            qty("on_hand"),
            qty("retrieved"),
            qty("consumed"),
            qty("destroyed"),
        );
        let request = c.finish(|| {
            Some(lotline_domain::NewMockCount {
                recall: id,
                lot: lot?,
                customer: customer?,
                on_hand: on_hand?,
                retrieved: retrieved?,
                consumed: consumed?,
                destroyed: destroyed?,
                unit: None,
                note: String::new(),
            })
        });
        let saved = request.and_then(|c| {
            let date = station.today()?;
            Ok(station.count_mock_recall(c, date)?)
        });
        match saved {
            Ok(event) => {
                self.prompt = None;
                if let Err(e) = self.show_mock(id, station) {
                    return Outcome::error(&e);
                }
                Outcome::changed().status(Status::ok(format!(
                    "Count saved (event {event}): {}",
                    self.mock
                        .as_ref()
                        .map(report::mock_totals)
                        .unwrap_or_default()
                )))
            }
            Err(e) => {
                let p = self.prompt.as_mut().expect("prompt");
                refuse_all(&mut p.form, e.map(|e| rename(e, "on-hand", "on_hand")))
            }
        }
    }

    fn finish_mock(&mut self, station: &dyn Station) -> Outcome {
        if !self.qa {
            return self.not_qa("complete mock recall");
        }
        let Some(id) = self
            .mock
            .as_ref()
            .filter(|m| m.finished.is_none())
            .map(|m| m.id)
        else {
            return Outcome::none();
        };
        let done = station
            .today()
            .and_then(|d| station.finish_mock_recall(id, String::new(), d))
            .and_then(|_| self.show_mock(id, station));
        match done {
            Ok(()) => {
                let m = self.mock.as_ref().expect("loaded");
                Outcome::changed().status(Status::ok(format!(
                    "Mock recall {id} completed after {}: {}",
                    lotline_export::recall::elapsed_text(m.elapsed_secs(self.now())),
                    report::mock_totals(m)
                )))
            }
            Err(e) => Outcome::error(&e),
        }
    }

    /// Now, for the time a mock recall has been open: the stopwatch's fixed figure after
    /// the record's start in tests, the clock otherwise.
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        match (self.stopwatch, &self.mock) {
            (Stopwatch::Fixed(d), Some(m)) => {
                m.started.at + chrono::Duration::from_std(d).unwrap_or_default()
            }
            _ => chrono::Utc::now(),
        }
    }

    fn ask_export(&mut self) -> Outcome {
        let Some(l) = &self.loaded else {
            return Outcome::none();
        };
        let name = format!("trace-{}-{}.txt", l.root().code, l.graph.direction);
        self.prompt = Some(Prompt {
            kind: PromptKind::Export,
            form: one_field("file", "File", &name),
        });
        Outcome::changed()
    }

    fn prompt_action(&mut self, a: FormAction, station: &dyn Station) -> Outcome {
        let Some(p) = self.prompt.as_mut() else {
            return Outcome::none();
        };
        match a {
            FormAction::Cancel => {
                let kind = p.kind;
                self.prompt = None;
                let msg = match kind {
                    PromptKind::Search => return Outcome::changed(),
                    PromptKind::Hold => "Nothing was held",
                    PromptKind::Record => "No mock recall was started",
                    PromptKind::Export => "Nothing was exported",
                    PromptKind::Count => "No count was saved",
                };
                Outcome::changed().status(Status::info(msg))
            }
            FormAction::Confirm | FormAction::Next
                if p.kind == PromptKind::Count
                    && p.form.slot() != Slot::Field(p.form.fields.len() - 1) =>
            {
                p.form.next(|_| false);
                Outcome::changed()
            }
            FormAction::Save | FormAction::Confirm if p.kind == PromptKind::Count => {
                self.count(station)
            }
            FormAction::Confirm | FormAction::Save => {
                let text = p.form.fields[0].value().trim().to_string();
                match p.kind {
                    PromptKind::Search => {
                        self.prompt = None;
                        self.search = Some(text.clone()).filter(|t| !t.is_empty());
                        self.find(&text)
                    }
                    PromptKind::Hold => self.hold_all(text, station),
                    PromptKind::Record => self.record(text, station),
                    PromptKind::Export => self.export(text, station),
                    PromptKind::Count => Outcome::none(),
                }
            }
            other => common(&mut p.form, &other, |_| false).unwrap_or_default(),
        }
    }

    /// Hold every released lot with stock in the recall scope as it is now — fetched again
    /// when the reason is given, so a lot made since the prompt opened is held too — and
    /// say how many status events were made and how many lots were already held.
    fn hold_all(&mut self, reason: String, station: &dyn Station) -> Outcome {
        let Some(p) = self.prompt.as_mut() else {
            return Outcome::none();
        };
        if reason.is_empty() {
            return refuse(
                &mut p.form,
                &invalid("reason", "say why, for each lot's history"),
            );
        }
        let Some(root) = self.loaded.as_ref().map(|l| l.root().code.clone()) else {
            return Outcome::none();
        };
        let scope = match station.recall_scope(root) {
            Ok(s) => s,
            Err(e) => {
                let p = self.prompt.as_mut().expect("prompt");
                return refuse(&mut p.form, &e);
            }
        };
        let lots: Vec<LotCode> = scope
            .to_hold
            .iter()
            .filter_map(|id| scope.trace.lot(*id).map(|l| l.code.clone()))
            .collect();
        let held_before = scope.already_held.len();
        if lots.is_empty() {
            self.prompt = None;
            if let Some(l) = self.loaded.as_mut() {
                l.scope = Some(scope);
            }
            return Outcome::changed().status(Status::info(format!(
                "Nothing to hold: no released lot in the scope has stock ({held_before} already held)"
            )));
        }
        let asked = lots.len();
        let done = station.today().and_then(|date| {
            station.hold_all(HoldAll {
                lots,
                date,
                reason: reason.clone(),
            })
        });
        match done {
            Ok(events) => {
                self.prompt = None;
                let n = events.len();
                // Held by someone else between the scope and the write: skipped too.
                let already = held_before + asked.saturating_sub(n);
                let plural = |k: usize| if k == 1 { "" } else { "s" };
                let already = if already > 0 {
                    format!(", {already} already held")
                } else {
                    String::new()
                };
                // The app reloads this trace (and the scope) once, on LotsChanged.
                Outcome::changed()
                    .status(Status::ok(format!(
                        "Held {n} lot{} in one go ({n} status event{}){already}: {reason}",
                        plural(n),
                        plural(n),
                    )))
                    .with(InternalEvent::LotsChanged)
            }
            Err(e) => {
                let p = self.prompt.as_mut().expect("prompt");
                refuse(&mut p.form, &e)
            }
        }
    }

    /// Start the root's mock recall record (the app's face of `lotline mock-recall`).
    fn record(&mut self, note: String, station: &dyn Station) -> Outcome {
        let Some(l) = self.loaded.as_ref() else {
            return Outcome::none();
        };
        let code = l.root().code.clone();
        let started = station.today().and_then(|date| {
            station.start_mock_recall(lotline_domain::StartMockRecall {
                lot: code.clone(),
                asked_as: String::new(),
                note,
                date,
            })
        });
        match started.and_then(|id| self.show_mock(id, station).map(|()| id)) {
            Ok(id) => {
                self.prompt = None;
                Outcome::changed().status(Status::ok(format!(
                    "Mock recall {id} of {code} started: enter what was found, line by line",
                )))
            }
            Err(e) => {
                let p = self.prompt.as_mut().expect("prompt");
                refuse(&mut p.form, &e)
            }
        }
    }

    /// Write the tree as text and its rows as CSV, beside each other.
    fn export(&mut self, file: String, station: &dyn Station) -> Outcome {
        if file.is_empty() {
            let p = self.prompt.as_mut().expect("prompt");
            return refuse(&mut p.form, &invalid("file", "name the file to write"));
        }
        let path = PathBuf::from(&file);
        let (text_path, csv_path) = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            (path.with_extension("txt"), path)
        } else {
            let csv = path.with_extension("csv");
            (path, csv)
        };
        // Never over another file: the name stays in the prompt to be changed.
        if let Some(there) = [&text_path, &csv_path].into_iter().find(|p| p.exists()) {
            let p = self.prompt.as_mut().expect("prompt");
            return refuse(
                &mut p.form,
                &invalid(
                    "file",
                    format!(
                        "{} already exists; give another name (nothing was written)",
                        there.display()
                    ),
                ),
            );
        }
        // Every lot's creating event, for its reference document.
        if let Some(l) = &self.loaded {
            let want: Vec<u64> = l
                .graph
                .lots
                .iter()
                .map(|x| x.event)
                .filter(|e| !self.events.contains_key(e))
                .collect();
            for e in want {
                match station.event(e) {
                    Ok(ev) => {
                        self.events.insert(e, ev);
                    }
                    Err(err) => return Outcome::error(&err),
                }
            }
        }
        let date = match station.today() {
            Ok(d) => d,
            Err(e) => return Outcome::error(&e),
        };
        let (Some(ctx), Some(l)) = (self.ctx(), self.loaded.as_ref()) else {
            return Outcome::none();
        };
        let rows = l.model.flatten(|_| true);
        let text = report::Report {
            ctx: &ctx,
            rows: &rows,
            plant: &self.plant,
            by: &self.operator,
            date,
            elapsed: self.elapsed,
            scope: l.scope.as_ref(),
            balance: l.balance.as_ref(),
        }
        .text();
        let (csv, n) = report::csv_rows(&ctx, &rows, &self.events);
        let written = write_new(&text_path, &text).and_then(|()| write_new(&csv_path, &csv));
        match written {
            Ok(()) => {
                self.prompt = None;
                Outcome::changed().status(Status::ok(format!(
                    "Exported the trace: {} (tree) and {} ({n} rows)",
                    text_path.display(),
                    csv_path.display()
                )))
            }
            Err(e) => {
                let p = self.prompt.as_mut().expect("prompt");
                refuse(
                    &mut p.form,
                    &invalid("file", format!("{file} could not be written: {e}")),
                )
            }
        }
    }
}

/// Write `text` as a new file, whole or not at all and never over one that appeared
/// since the check (`lotline_files`).
fn write_new(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    lotline_files::write_new(path, text).map_err(std::io::Error::from)
}

fn changed(yes: bool) -> Outcome {
    if yes {
        Outcome::changed()
    } else {
        Outcome::none()
    }
}
