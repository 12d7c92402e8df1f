//! Cross-screen work goes through a queue of internal events (as in gitui's queue.rs),
//! so screens never call each other: a screen's `update` returns an `Outcome` with the
//! events it raises, and the app routes them after the update.

use super::keymap::ScreenId;
use lotline_domain::{ItemCode, Lot, LotCode};
use lotline_station::StationError;
use std::collections::VecDeque;

/// How a message on the status line should look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Ok,
    Warn,
    Error,
}

/// One line for the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub level: Level,
    pub text: String,
}

impl Status {
    pub fn info(text: impl Into<String>) -> Status {
        Status {
            level: Level::Info,
            text: text.into(),
        }
    }
    pub fn ok(text: impl Into<String>) -> Status {
        Status {
            level: Level::Ok,
            text: text.into(),
        }
    }
    pub fn warn(text: impl Into<String>) -> Status {
        Status {
            level: Level::Warn,
            text: text.into(),
        }
    }
    pub fn error(text: impl Into<String>) -> Status {
        Status {
            level: Level::Error,
            text: text.into(),
        }
    }
}

impl From<&StationError> for Status {
    fn from(e: &StationError) -> Status {
        Status::error(e.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InternalEvent {
    /// Show a message on the status line.
    Status(Status),
    /// Lots were created or changed (a receipt, batch, shipment or status change): lists
    /// and hints built from lots are stale.
    LotsChanged,
    /// Show this lot on the Lots screen.
    OpenLot(LotCode),
    /// Open this lot's trace on the Trace screen: what a scan outside a form field asks
    /// for, and the Lots screen's trace key.
    OpenTrace(LotCode),
    /// A scanned supplier lot that became several of our lots: offer them all on the
    /// Trace screen, to pick the one to trace forward (a recall's is often the one used
    /// up or shipped, not the one still on the shelf).
    PickTrace {
        supplier_lot: String,
        item: Option<ItemCode>,
        lots: Vec<Lot>,
    },
    /// Go to a screen.
    Switch(ScreenId),
    /// Esc with nothing left to cancel: leave the fields for the menu.
    Menu,
    /// Items or parties were added, edited or retired: pick lists built from them are
    /// stale.
    MasterChanged,
}

/// What an update did: whether anything on screen changed, and events for the app.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub changed: bool,
    pub events: Vec<InternalEvent>,
}

impl Outcome {
    pub fn none() -> Outcome {
        Outcome::default()
    }

    pub fn changed() -> Outcome {
        Outcome {
            changed: true,
            events: Vec::new(),
        }
    }

    pub fn with(mut self, e: InternalEvent) -> Outcome {
        self.changed = true;
        self.events.push(e);
        self
    }

    pub fn status(self, s: Status) -> Outcome {
        self.with(InternalEvent::Status(s))
    }

    pub fn error(e: &StationError) -> Outcome {
        Outcome::changed().status(e.into())
    }

    /// The status message this outcome raises, if any (for tests and the app).
    pub fn message(&self) -> Option<&Status> {
        self.events.iter().rev().find_map(|e| match e {
            InternalEvent::Status(s) => Some(s),
            _ => None,
        })
    }
}

/// The app's queue of internal events, drained after every input.
#[derive(Debug, Default)]
pub struct Queue {
    events: VecDeque<InternalEvent>,
}

impl Queue {
    pub fn push(&mut self, e: InternalEvent) {
        self.events.push_back(e);
    }

    pub fn extend(&mut self, es: impl IntoIterator<Item = InternalEvent>) {
        self.events.extend(es);
    }

    pub fn pop(&mut self) -> Option<InternalEvent> {
        self.events.pop_front()
    }
}
