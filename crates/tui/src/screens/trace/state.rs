//! A loaded trace and how it is being looked at: which nodes are open, the rows they
//! make, the selection.

use super::*;
use crate::tree::{Row, TreeModel};
use lotline_domain::{LotId, MassBalance, RecallScope, Trace as Graph};
use std::cell::Cell;
use std::collections::HashSet;

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
    pub(super) fn new(graph: Graph) -> Loaded {
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
    pub(super) fn reflatten(&mut self) {
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
    pub(super) fn reveal(&mut self, key: NodeKey) -> bool {
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

    pub(super) fn select(&mut self, i: usize) -> bool {
        let i = i.min(self.rows.len().saturating_sub(1));
        let moved = i != self.selected;
        self.selected = i;
        moved
    }
}
