//! Trace: answer the customer's call. Start from our lot code, a supplier's lot code, a
//! GS1 scan of a case, or a complaint (customer + product + dates → the lots they got →
//! pick one); walk the tree backward to supplier receipts and forward to customers; see
//! every KDE of a node; look at the recall scope and hold everything still on hand; check
//! the mass balance, and save and export the mock recall (docs/tui.md, "Trace").

mod actions;
pub mod draft;
mod exports;
mod mock;
mod navigate;
mod report;
mod scope;
mod start;
mod state;
mod view;

pub use actions::TraceAction;
pub use mock::CountTarget;
pub use report::{Found, Line, Tone, elapsed_text};
pub use state::Loaded;

use super::*;
use crate::tree::NodeKey;
use lotline_domain::{Direction, Event, ItemCode, LotCode, PartyId};
use lotline_station::{Station, StationExt};
use report::Ctx;
use start::start_form;
use std::collections::HashMap;
use std::time::{Duration, Instant};

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
    pub(super) fn elapsed(self, since: Instant) -> Duration {
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
    /// Complete the mock recall: confirmed, with the corrective actions.
    Finish,
}

/// A one-field question over the screen.
pub struct Prompt {
    pub kind: PromptKind,
    pub form: Form,
}

/// Rows moved by PageUp and PageDown.
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
    /// Lots' allergens and where each came from, for the detail pane.
    allergens: HashMap<lotline_domain::LotId, lotline_domain::LotAllergens>,
    plant: String,
    operator: String,
    qa: bool,
    /// The mock recall record of the root lot, when one is open on screen.
    pub mock: Option<lotline_domain::MockRecallView>,
}

impl Default for Trace {
    fn default() -> Self {
        Trace::new()
    }
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
            allergens: HashMap::new(),
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
                PromptKind::Hold | PromptKind::Record | PromptKind::Count | PromptKind::Finish
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

    fn not_qa(&self, what: &str) -> Outcome {
        Outcome::changed().status(Status::error(format!(
            "{what}: {} is not a QA user; ask QA (named with `lotline plant set --qa-users`) to do this",
            self.operator.split('@').next().unwrap_or("")
        )))
    }
}

fn changed(yes: bool) -> Outcome {
    if yes {
        Outcome::changed()
    } else {
        Outcome::none()
    }
}
