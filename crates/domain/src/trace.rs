//! A trace as every front end sees it: the lots a walk reached from a root, the links
//! between them and the shipments out, and an index for drawing it as a tree. The store
//! walks (docs/store.md); screens, the command line and exports shape the result.

use crate::*;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    /// What went into this lot, down to supplier receipts.
    Backward,
    /// Where this lot went: batches that used it, their lots, shipments.
    Forward,
    Both,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Backward => "backward",
            Direction::Forward => "forward",
            Direction::Both => "both",
        }
    }
    pub fn backward(self) -> bool {
        matches!(self, Direction::Backward | Direction::Both)
    }
    pub fn forward(self) -> bool {
        matches!(self, Direction::Forward | Direction::Both)
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Direction {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s.trim().to_ascii_lowercase().as_str() {
            "backward" | "back" | "b" => Ok(Direction::Backward),
            "forward" | "fwd" | "f" => Ok(Direction::Forward),
            "both" => Ok(Direction::Both),
            _ => Err(Invalid::new(
                "direction",
                format!(
                    "{} is not a direction; accepted: backward, forward, both",
                    crate::text::excerpt(s)
                ),
            )),
        }
    }
}

/// `qty` of `input` went into `output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceLink {
    pub input: LotId,
    pub output: LotId,
    pub qty: Qty,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceShipment {
    pub event: u64,
    pub lot: LotId,
    pub customer: PartyId,
    pub date: NaiveDate,
    pub qty: Qty,
    pub unit: Unit,
    pub reference: Option<Reference>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub root: LotId,
    pub direction: Direction,
    /// Every lot reached, root first, then in the order the walk reached them.
    pub lots: Vec<Lot>,
    pub links: Vec<TraceLink>,
    /// Shipments of the root and of every lot reached forward; voided ones left out.
    pub shipments: Vec<TraceShipment>,
}

impl Trace {
    pub fn lot(&self, id: LotId) -> Option<&Lot> {
        self.lots.iter().find(|l| l.id == id)
    }

    /// Lots by id, for callers that look many up.
    pub fn lot_index(&self) -> HashMap<LotId, &Lot> {
        self.lots.iter().map(|l| (l.id, l)).collect()
    }

    pub fn contains(&self, id: LotId) -> bool {
        self.lots.iter().any(|l| l.id == id)
    }
}

/// A child of a lot in a trace tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Child {
    /// A lot, and the quantity on the link (used from it, or taken into it).
    Lot { id: LotId, qty: Qty },
    /// A shipment, by its index in `Trace::shipments`.
    Shipment(usize),
}

/// What lies under a node: distinct lots and shipments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reach {
    pub lots: usize,
    pub shipments: usize,
}

/// A trace indexed for walking as a tree: children of each lot in either direction, in
/// the order the links were found. Built once per trace; every screen and export that
/// draws a tree uses it, so they agree on what is under what.
#[derive(Debug, Clone, Default)]
pub struct TraceIndex {
    inputs: HashMap<LotId, Vec<(LotId, Qty)>>,
    outputs: HashMap<LotId, Vec<(LotId, Qty)>>,
    shipments: HashMap<LotId, Vec<usize>>,
}

impl TraceIndex {
    pub fn new(t: &Trace) -> TraceIndex {
        let mut ix = TraceIndex::default();
        for l in &t.links {
            ix.inputs
                .entry(l.output)
                .or_default()
                .push((l.input, l.qty));
            ix.outputs
                .entry(l.input)
                .or_default()
                .push((l.output, l.qty));
        }
        for (i, s) in t.shipments.iter().enumerate() {
            ix.shipments.entry(s.lot).or_default().push(i);
        }
        ix
    }

    /// Children of `id`: its inputs going backward; its outputs, then its shipments,
    /// going forward.
    pub fn children(&self, id: LotId, forward: bool) -> Vec<Child> {
        let links = if forward {
            self.outputs.get(&id)
        } else {
            self.inputs.get(&id)
        };
        let mut v: Vec<Child> = links
            .into_iter()
            .flatten()
            .map(|&(id, qty)| Child::Lot { id, qty })
            .collect();
        if forward {
            v.extend(
                self.shipments
                    .get(&id)
                    .into_iter()
                    .flatten()
                    .map(|&i| Child::Shipment(i)),
            );
        }
        v
    }

    /// Distinct lots and shipments below `id` in one direction (not counting `id`).
    pub fn reach(&self, id: LotId, forward: bool) -> Reach {
        let mut seen: HashSet<LotId> = HashSet::from([id]);
        let mut stack = vec![id];
        let mut r = Reach::default();
        while let Some(n) = stack.pop() {
            for c in self.children(n, forward) {
                match c {
                    Child::Lot { id, .. } => {
                        if seen.insert(id) {
                            r.lots += 1;
                            stack.push(id);
                        }
                    }
                    Child::Shipment(_) => r.shipments += 1,
                }
            }
        }
        r
    }
}
