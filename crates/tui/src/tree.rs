//! The trace as a tree on screen: a pure model over a `store::Trace` and its `TraceIndex`
//! (the same index the command line's text tree is built on, so both show the same
//! children in the same order).
//!
//! A lot reached twice is shown in full once, at its first place in a depth-first walk
//! (as `lotline trace` prints it), and everywhere else as a reference to it. That place is
//! worked out once per trace, so it never moves as nodes are expanded and collapsed, and
//! the full nodes form a tree: flattening it ends, even when bad data has a cycle.
//!
//! Flattening builds only the rows that are visible: a collapsed node with 800 children
//! costs one row. Counts for collapsed nodes are asked for by the view, for the rows on
//! screen only.

use lotline_domain::{Child, Direction, Reach, Trace, TraceIndex};
use lotline_domain::{LotId, Qty};
use std::collections::{HashMap, HashSet};

/// Where a node is in the tree; stable across expanding and collapsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKey {
    /// The trace's root lot.
    Root,
    /// "Backward" or "Forward" under the root, when both directions are shown.
    Section { fwd: bool },
    /// A lot shown in full (each lot once per direction).
    Lot { fwd: bool, id: LotId },
    /// A lot shown in full elsewhere: child `index` of lot `parent`.
    Ref {
        fwd: bool,
        parent: LotId,
        index: usize,
    },
    /// A shipment, by its index in `Trace::shipments`.
    Ship(usize),
}

/// What a row shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Root,
    Section {
        fwd: bool,
    },
    /// A lot under `parent`; `qty` is the quantity on the link (of the input lot).
    Lot {
        fwd: bool,
        id: LotId,
        parent: LotId,
        qty: Qty,
    },
    /// A lot shown in full elsewhere.
    Ref {
        fwd: bool,
        id: LotId,
        parent: LotId,
        qty: Qty,
    },
    Ship(usize),
}

impl NodeKind {
    /// The lot this node stands for: a shipment stands for the lot shipped.
    pub fn lot(&self, t: &Trace) -> Option<LotId> {
        match *self {
            NodeKind::Root | NodeKind::Section { .. } => Some(t.root),
            NodeKind::Lot { id, .. } | NodeKind::Ref { id, .. } => Some(id),
            NodeKind::Ship(i) => t.shipments.get(i).map(|s| s.lot),
        }
    }
}

/// One visible row of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub key: NodeKey,
    pub kind: NodeKind,
    pub depth: usize,
    /// The row of the parent node.
    pub parent: Option<usize>,
    /// The last child of its parent (draws `└─`).
    pub last: bool,
    /// Has children to show (references never do: they point to the full node).
    pub has_children: bool,
    pub expanded: bool,
}

/// Tree lines and node marks, Unicode or ASCII.
#[derive(Debug, Clone, Copy)]
pub struct Glyphs {
    pub tee: &'static str,
    pub last: &'static str,
    pub pipe: &'static str,
    pub space: &'static str,
    pub open: &'static str,
    pub closed: &'static str,
    pub leaf: &'static str,
    pub reference: &'static str,
    pub ship: &'static str,
}

pub const UNICODE: Glyphs = Glyphs {
    tee: "├─",
    last: "└─",
    pipe: "│ ",
    space: "  ",
    open: "▾ ",
    closed: "▸ ",
    leaf: "─ ",
    reference: "↑ ",
    ship: "→ ",
};

pub const ASCII: Glyphs = Glyphs {
    tee: "+-",
    last: "`-",
    pipe: "| ",
    space: "  ",
    open: "v ",
    closed: "> ",
    leaf: "- ",
    reference: "^ ",
    ship: "- ",
};

impl Glyphs {
    pub fn new(ascii: bool) -> &'static Glyphs {
        if ascii { &ASCII } else { &UNICODE }
    }
}

/// Index of a direction in per-direction arrays.
fn d(fwd: bool) -> usize {
    usize::from(fwd)
}

/// A trace shaped for browsing as a tree. Built once per trace.
#[derive(Debug, Clone)]
pub struct TreeModel {
    pub index: TraceIndex,
    pub root: LotId,
    pub direction: Direction,
    /// Children of every lot shown in full, per direction (backward, forward).
    kids: [HashMap<LotId, Vec<Child>>; 2],
    /// Where each lot is shown in full: its parent lot and its place among the children.
    home: [HashMap<LotId, (LotId, usize)>; 2],
}

impl TreeModel {
    pub fn new(t: &Trace) -> TreeModel {
        let index = TraceIndex::new(t);
        let mut m = TreeModel {
            index,
            root: t.root,
            direction: t.direction,
            kids: [HashMap::new(), HashMap::new()],
            home: [HashMap::new(), HashMap::new()],
        };
        for &fwd in m.dirs() {
            m.place(fwd);
        }
        m
    }

    /// The directions shown: backward, forward, or both (backward first).
    pub fn dirs(&self) -> &'static [bool] {
        match self.direction {
            Direction::Backward => &[false],
            Direction::Forward => &[true],
            Direction::Both => &[false, true],
        }
    }

    /// Depth-first from the root, children in index order: the first time a lot is met is
    /// where it is shown in full. An explicit stack, so a long chain cannot overflow.
    fn place(&mut self, fwd: bool) {
        let mut shown: HashSet<LotId> = HashSet::from([self.root]);
        let root_kids = self.index.children(self.root, fwd);
        let mut stack: Vec<(LotId, usize)> = vec![(self.root, 0)];
        self.kids[d(fwd)].insert(self.root, root_kids);
        while let Some(top) = stack.last_mut() {
            let (node, i) = *top;
            let next = self.kids[d(fwd)].get(&node).and_then(|k| k.get(i)).copied();
            let Some(child) = next else {
                stack.pop();
                continue;
            };
            top.1 += 1;
            if let Child::Lot { id, .. } = child
                && shown.insert(id)
            {
                self.home[d(fwd)].insert(id, (node, i));
                let k = self.index.children(id, fwd);
                self.kids[d(fwd)].insert(id, k);
                stack.push((id, 0));
            }
        }
    }

    /// Children of a lot shown in full (none for others).
    pub fn children(&self, id: LotId, fwd: bool) -> &[Child] {
        self.kids[d(fwd)].get(&id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Is child `index` of `parent` the place where `id` is shown in full?
    fn is_home(&self, fwd: bool, parent: LotId, index: usize, id: LotId) -> bool {
        self.home[d(fwd)].get(&id) == Some(&(parent, index))
    }

    /// Lots and shipments under a node, for its count when collapsed.
    pub fn reach(&self, key: NodeKey) -> Reach {
        let r = |id, fwd| self.index.reach(id, fwd);
        match key {
            NodeKey::Root => self.dirs().iter().fold(Reach::default(), |a, &f| {
                let b = r(self.root, f);
                Reach {
                    lots: a.lots + b.lots,
                    shipments: a.shipments + b.shipments,
                }
            }),
            NodeKey::Section { fwd } => r(self.root, fwd),
            NodeKey::Lot { fwd, id } => r(id, fwd),
            NodeKey::Ref { .. } | NodeKey::Ship(_) => Reach::default(),
        }
    }

    fn lot_node(
        &self,
        fwd: bool,
        parent: LotId,
        index: usize,
        child: Child,
    ) -> (NodeKey, NodeKind) {
        match child {
            Child::Shipment(i) => (NodeKey::Ship(i), NodeKind::Ship(i)),
            Child::Lot { id, qty } if self.is_home(fwd, parent, index, id) => (
                NodeKey::Lot { fwd, id },
                NodeKind::Lot {
                    fwd,
                    id,
                    parent,
                    qty,
                },
            ),
            Child::Lot { id, qty } => (
                NodeKey::Ref { fwd, parent, index },
                NodeKind::Ref {
                    fwd,
                    id,
                    parent,
                    qty,
                },
            ),
        }
    }

    /// The visible rows, top to bottom, for the nodes `expanded` says are open.
    pub fn flatten(&self, expanded: impl Fn(&NodeKey) -> bool) -> Vec<Row> {
        let mut rows = Vec::new();
        let both = self.direction == Direction::Both;
        let root_open = expanded(&NodeKey::Root);
        let root_has = if both {
            true
        } else {
            self.dirs()
                .iter()
                .any(|&f| !self.children(self.root, f).is_empty())
        };
        rows.push(Row {
            key: NodeKey::Root,
            kind: NodeKind::Root,
            depth: 0,
            parent: None,
            last: true,
            has_children: root_has,
            expanded: root_open && root_has,
        });
        if !(root_open && root_has) {
            return rows;
        }
        if both {
            for (n, &fwd) in self.dirs().iter().enumerate() {
                let key = NodeKey::Section { fwd };
                let has = !self.children(self.root, fwd).is_empty();
                let open = has && expanded(&key);
                rows.push(Row {
                    key,
                    kind: NodeKind::Section { fwd },
                    depth: 1,
                    parent: Some(0),
                    last: n + 1 == self.dirs().len(),
                    has_children: has,
                    expanded: open,
                });
                if open {
                    let at = rows.len() - 1;
                    self.walk(&mut rows, at, self.root, fwd, &expanded);
                }
            }
        } else {
            let fwd = self.dirs()[0];
            self.walk(&mut rows, 0, self.root, fwd, &expanded);
        }
        rows
    }

    /// Rows for the children of `id` (shown at row `at`) and, depth first, of every open
    /// full lot below it. Only full nodes are entered, so this ends on any data.
    fn walk(
        &self,
        rows: &mut Vec<Row>,
        at: usize,
        id: LotId,
        fwd: bool,
        expanded: &impl Fn(&NodeKey) -> bool,
    ) {
        // (row of the parent, parent lot, next child index)
        let mut stack: Vec<(usize, LotId, usize)> = vec![(at, id, 0)];
        while let Some(top) = stack.last_mut() {
            let (prow, parent, i) = *top;
            let kids = self.children(parent, fwd);
            let Some(&child) = kids.get(i) else {
                stack.pop();
                continue;
            };
            top.2 += 1;
            let (key, kind) = self.lot_node(fwd, parent, i, child);
            let has = match kind {
                NodeKind::Lot { id, .. } => !self.children(id, fwd).is_empty(),
                _ => false,
            };
            let open = has && expanded(&key);
            rows.push(Row {
                key,
                kind,
                depth: rows[prow].depth + 1,
                parent: Some(prow),
                last: i + 1 == kids.len(),
                has_children: has,
                expanded: open,
            });
            if open && let NodeKind::Lot { id, .. } = kind {
                stack.push((rows.len() - 1, id, 0));
            }
        }
    }

    /// Every node that can be opened: what "expand all" opens.
    pub fn all_openable(&self) -> HashSet<NodeKey> {
        self.flatten(|_| true)
            .into_iter()
            .filter(|r| r.has_children)
            .map(|r| r.key)
            .collect()
    }

    /// The full node a reference points to.
    pub fn target(&self, key: NodeKey, kind: NodeKind) -> Option<NodeKey> {
        match (key, kind) {
            (NodeKey::Ref { .. }, NodeKind::Ref { id, .. }) if id == self.root => {
                Some(NodeKey::Root)
            }
            (NodeKey::Ref { fwd, .. }, NodeKind::Ref { id, .. }) => {
                Some(NodeKey::Lot { fwd, id }).filter(|_| self.home[d(fwd)].contains_key(&id))
            }
            _ => None,
        }
    }

    /// The nodes to open so that `key` is visible, root first. A shipment's own lot is
    /// where it shows; a reference's place is under its parent.
    pub fn ancestors(&self, key: NodeKey, t: &Trace) -> Vec<NodeKey> {
        let (fwd, mut lot) = match key {
            NodeKey::Root => return Vec::new(),
            NodeKey::Section { .. } => return vec![NodeKey::Root],
            NodeKey::Lot { fwd, id } => match self.home[d(fwd)].get(&id) {
                Some(&(p, _)) => (fwd, p),
                None => return vec![NodeKey::Root],
            },
            NodeKey::Ref { fwd, parent, .. } => (fwd, parent),
            NodeKey::Ship(i) => match t.shipments.get(i) {
                Some(s) => (true, s.lot),
                None => return vec![NodeKey::Root],
            },
        };
        let mut up = Vec::new();
        let mut guard = 0;
        while lot != self.root && guard <= self.home[d(fwd)].len() {
            up.push(NodeKey::Lot { fwd, id: lot });
            match self.home[d(fwd)].get(&lot) {
                Some(&(p, _)) => lot = p,
                None => break,
            }
            guard += 1;
        }
        if self.direction == Direction::Both {
            up.push(NodeKey::Section { fwd });
        }
        up.push(NodeKey::Root);
        up.reverse();
        up
    }
}

/// The tree lines before row `i`'s mark: one column pair per level above it.
pub fn prefix(rows: &[Row], i: usize, g: &Glyphs) -> String {
    let Some(row) = rows.get(i) else {
        return String::new();
    };
    if row.depth == 0 {
        return String::new();
    }
    // Walk up: each ancestor below the root adds a pipe if it has siblings after it.
    let mut parts: Vec<&str> = vec![if row.last { g.last } else { g.tee }];
    let mut p = row.parent;
    while let Some(pi) = p {
        let pr = &rows[pi];
        if pr.depth == 0 {
            break;
        }
        parts.push(if pr.last { g.space } else { g.pipe });
        p = pr.parent;
    }
    parts.reverse();
    parts.concat()
}

/// The mark of a row: open, closed, leaf, reference or shipment.
pub fn mark(row: &Row, g: &Glyphs) -> &'static str {
    match row.kind {
        NodeKind::Ref { .. } => g.reference,
        NodeKind::Ship(_) => g.ship,
        _ if row.expanded => g.open,
        _ if row.has_children => g.closed,
        _ => g.leaf,
    }
}

/// "812 lots, 9,604 shipments": a collapsed node's count.
pub fn count_text(r: Reach) -> String {
    use lotline_domain::words::plural;
    match (r.lots, r.shipments) {
        (0, 0) => String::new(),
        (l, 0) => plural(l, "lot", "lots"),
        (0, s) => plural(s, "shipment", "shipments"),
        (l, s) => format!(
            "{}, {}",
            plural(l, "lot", "lots"),
            plural(s, "shipment", "shipments")
        ),
    }
}

/// 9604 → "9,604".
pub fn thousands(n: usize) -> String {
    lotline_domain::words::thousands(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use lotline_domain::{ItemCode, Lot, LotCode, LotStatus, Origin, PartyId, Unit};
    use lotline_domain::{TraceLink, TraceShipment};

    fn lot(n: u32) -> Lot {
        Lot {
            id: LotId(n),
            code: LotCode::parse(&format!("L{n}"), "lot").unwrap(),
            item: ItemCode::parse("X", "item").unwrap(),
            origin: Origin::Produced { line: None },
            event: u64::from(n),
            quantity: Qty::from_units(10),
            unit: Unit::Kg,
            date: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            expiry: None,
            status: LotStatus::Released,
            balance: Qty::from_units(1),
        }
    }

    /// A trace from `links` (input, output) and shipments of lots, rooted at lot 1.
    fn trace(direction: Direction, links: &[(u32, u32)], ships: &[u32]) -> Trace {
        let mut ids: Vec<u32> = vec![1];
        for &(a, b) in links {
            for x in [a, b] {
                if !ids.contains(&x) {
                    ids.push(x);
                }
            }
        }
        Trace {
            root: LotId(1),
            direction,
            lots: ids.into_iter().map(lot).collect(),
            links: links
                .iter()
                .map(|&(a, b)| TraceLink {
                    input: LotId(a),
                    output: LotId(b),
                    qty: Qty::from_units(1),
                })
                .collect(),
            shipments: ships
                .iter()
                .enumerate()
                .map(|(i, &l)| TraceShipment {
                    event: 100 + i as u64,
                    lot: LotId(l),
                    customer: PartyId::parse("SHOP", "c").unwrap(),
                    date: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
                    qty: Qty::from_units(1),
                    unit: Unit::Kg,
                    reference: None,
                })
                .collect(),
        }
    }

    fn all(_: &NodeKey) -> bool {
        true
    }

    /// Rows as "depth mark code" lines, ASCII.
    fn show(t: &Trace, rows: &[Row]) -> Vec<String> {
        let g = &ASCII;
        rows.iter()
            .enumerate()
            .map(|(i, r)| {
                let name = match r.kind {
                    NodeKind::Section { fwd } => {
                        if fwd { "FORWARD" } else { "BACKWARD" }.to_string()
                    }
                    NodeKind::Ship(s) => format!("ship{s}"),
                    k => t.lot(k.lot(t).unwrap()).unwrap().code.to_string(),
                };
                format!("{}{}{name}", prefix(rows, i, g), mark(r, g))
                    .trim_end()
                    .to_string()
            })
            .collect()
    }

    /// Backward diamond: 1 ← 2, 1 ← 3; 2 ← 4, 3 ← 4; 4 ← 5.
    fn diamond() -> Trace {
        trace(
            Direction::Backward,
            &[(2, 1), (3, 1), (4, 2), (4, 3), (5, 4)],
            &[],
        )
    }

    #[test]
    fn collapsed_shows_the_root_and_its_children_with_counts() {
        let t = diamond();
        let m = TreeModel::new(&t);
        let rows = m.flatten(|k| *k == NodeKey::Root);
        assert_eq!(show(&t, &rows), vec!["v L1", "+-> L2", "`-> L3"]);
        // L3's only input (L4) is shown in full under L2: L3 still has a child to show,
        // the reference.
        assert!(rows[2].has_children);
        assert_eq!(
            count_text(m.reach(rows[1].key)),
            "2 lots",
            "under L2: L4 and L5"
        );
        assert_eq!(count_text(m.reach(NodeKey::Root)), "4 lots");
        let closed = m.flatten(|_| false);
        assert_eq!(show(&t, &closed), vec!["> L1"]);
    }

    #[test]
    fn expanded_shows_each_lot_once_in_full_and_references_elsewhere() {
        let t = diamond();
        let m = TreeModel::new(&t);
        let rows = m.flatten(all);
        assert_eq!(
            show(&t, &rows),
            vec![
                "v L1",
                "+-v L2",
                "| `-v L4",
                "|   `-- L5",
                "`-v L3",
                "  `-^ L4",
            ]
        );
        let r = &rows[5];
        assert!(matches!(r.kind, NodeKind::Ref { id: LotId(4), .. }));
        assert!(!r.has_children, "a reference is not expanded again");
        assert_eq!(
            m.target(r.key, r.kind),
            Some(NodeKey::Lot {
                fwd: false,
                id: LotId(4)
            })
        );
        // Jumping there opens the path down to it.
        assert_eq!(
            m.ancestors(
                NodeKey::Lot {
                    fwd: false,
                    id: LotId(4)
                },
                &t
            ),
            vec![
                NodeKey::Root,
                NodeKey::Lot {
                    fwd: false,
                    id: LotId(2)
                }
            ]
        );
        // The same place whatever is open: a reference never becomes the full node.
        let only_l3 = m.flatten(|k| matches!(k, NodeKey::Root | NodeKey::Lot { id: LotId(3), .. }));
        assert_eq!(
            show(&t, &only_l3),
            vec!["v L1", "+-> L2", "`-v L3", "  `-^ L4"]
        );
        assert_eq!(m.all_openable().len(), 4, "L1, L2, L3, L4");
    }

    #[test]
    fn forward_lists_output_lots_then_shipments_with_counts() {
        // 1 → 2 → 4 and 1 → 3; shipments of 4 (two) and 3 (one) and of the root itself.
        let t = trace(Direction::Forward, &[(1, 2), (1, 3), (2, 4)], &[4, 4, 3, 1]);
        let m = TreeModel::new(&t);
        let rows = m.flatten(|k| *k == NodeKey::Root);
        assert_eq!(
            show(&t, &rows),
            vec!["v L1", "+-> L2", "+-> L3", "`-- ship3"]
        );
        assert_eq!(count_text(m.reach(rows[1].key)), "1 lot, 2 shipments");
        assert_eq!(count_text(m.reach(rows[2].key)), "1 shipment");
        assert_eq!(count_text(m.reach(NodeKey::Root)), "3 lots, 4 shipments");
        let rows = m.flatten(all);
        assert_eq!(
            show(&t, &rows),
            vec![
                "v L1",
                "+-v L2",
                "| `-v L4",
                "|   +-- ship0",
                "|   `-- ship1",
                "+-v L3",
                "| `-- ship2",
                "`-- ship3",
            ]
        );
        assert_eq!(
            m.ancestors(NodeKey::Ship(1), &t),
            vec![
                NodeKey::Root,
                NodeKey::Lot {
                    fwd: true,
                    id: LotId(2)
                },
                NodeKey::Lot {
                    fwd: true,
                    id: LotId(4)
                }
            ]
        );
    }

    #[test]
    fn both_directions_show_two_sections() {
        // 2 → 1 → 3
        let t = trace(Direction::Both, &[(2, 1), (1, 3)], &[3]);
        let m = TreeModel::new(&t);
        let rows = m.flatten(|k| matches!(k, NodeKey::Root | NodeKey::Section { .. }));
        assert_eq!(
            show(&t, &rows),
            vec![
                "v L1",
                "+-v BACKWARD",
                "| `-- L2",
                "`-v FORWARD",
                "  `-> L3"
            ]
        );
        assert_eq!(
            count_text(m.reach(NodeKey::Section { fwd: true })),
            "1 lot, 1 shipment"
        );
        assert_eq!(
            m.ancestors(
                NodeKey::Lot {
                    fwd: true,
                    id: LotId(3)
                },
                &t
            ),
            vec![NodeKey::Root, NodeKey::Section { fwd: true }]
        );
        // A section with nothing in it cannot open.
        let t = trace(Direction::Both, &[(1, 3)], &[]);
        let m = TreeModel::new(&t);
        let rows = m.flatten(all);
        assert_eq!(
            show(&t, &rows),
            vec!["v L1", "+-- BACKWARD", "`-v FORWARD", "  `-- L3"]
        );
    }

    #[test]
    fn a_cycle_in_bad_data_ends_in_a_reference() {
        // 1 → 2 → 3 → 1 forward, and 3 → 2 as well.
        let t = trace(Direction::Forward, &[(1, 2), (2, 3), (3, 1), (3, 2)], &[]);
        let m = TreeModel::new(&t);
        let rows = m.flatten(all);
        assert_eq!(
            show(&t, &rows),
            vec!["v L1", "`-v L2", "  `-v L3", "    +-^ L1", "    `-^ L2"]
        );
        assert_eq!(m.target(rows[3].key, rows[3].kind), Some(NodeKey::Root));
        assert_eq!(m.reach(NodeKey::Root).lots, 2);
    }

    #[test]
    fn a_lot_with_no_links_is_a_leaf() {
        let t = trace(Direction::Backward, &[], &[]);
        let m = TreeModel::new(&t);
        let rows = m.flatten(all);
        assert_eq!(rows.len(), 1);
        assert!(!rows[0].has_children && !rows[0].expanded);
        assert_eq!(mark(&rows[0], &UNICODE), "─ ");
    }

    #[test]
    fn a_wide_fan_out_builds_only_visible_rows() {
        // One lot into 5,000 batches, each shipped twice.
        let links: Vec<(u32, u32)> = (2..5002).map(|b| (1, b)).collect();
        let ships: Vec<u32> = (2..5002).flat_map(|b| [b, b]).collect();
        let t = trace(Direction::Forward, &links, &ships);
        let m = TreeModel::new(&t);
        assert_eq!(m.flatten(|_| false).len(), 1);
        assert_eq!(m.flatten(|k| *k == NodeKey::Root).len(), 5001);
        assert_eq!(m.flatten(all).len(), 1 + 5000 * 3);
        assert_eq!(
            count_text(m.reach(NodeKey::Root)),
            "5,000 lots, 10,000 shipments"
        );
    }

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(9604), "9,604");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(count_text(Reach::default()), "");
    }
}
