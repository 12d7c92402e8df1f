//! The Trace screen's draft (docs/tui.md, "Drafts"): the root, the direction, the nodes
//! that were open and the one selected, so a clerk who lost the connection mid-call comes
//! back to the tree as it was. Nodes are named by lot ids, which never change.

use super::*;
use lotline_domain::LotId;
use serde::{Deserialize, Serialize};

/// The first byte of a trace's draft: its layout.
const LAYOUT: u8 = 1;

/// A node of the tree, as a draft keeps it (`NodeKey` with plain numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Node {
    Root,
    Section { fwd: bool },
    Lot { fwd: bool, id: u32 },
    Ref { fwd: bool, parent: u32, index: u32 },
    Ship(u32),
}

impl Node {
    fn of(k: NodeKey) -> Node {
        match k {
            NodeKey::Root => Node::Root,
            NodeKey::Section { fwd } => Node::Section { fwd },
            NodeKey::Lot { fwd, id } => Node::Lot { fwd, id: id.0 },
            NodeKey::Ref { fwd, parent, index } => Node::Ref {
                fwd,
                parent: parent.0,
                index: index as u32,
            },
            NodeKey::Ship(i) => Node::Ship(i as u32),
        }
    }

    fn key(self) -> NodeKey {
        match self {
            Node::Root => NodeKey::Root,
            Node::Section { fwd } => NodeKey::Section { fwd },
            Node::Lot { fwd, id } => NodeKey::Lot { fwd, id: LotId(id) },
            Node::Ref { fwd, parent, index } => NodeKey::Ref {
                fwd,
                parent: LotId(parent),
                index: index as usize,
            },
            Node::Ship(i) => NodeKey::Ship(i as usize),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct TraceState {
    root: String,
    direction: Direction,
    open: Vec<Node>,
    selected: Option<Node>,
}

impl TraceState {
    fn decode(bytes: &[u8]) -> Option<TraceState> {
        match bytes.split_first() {
            Some((&LAYOUT, body)) => postcard::from_bytes(body).ok(),
            _ => None,
        }
    }
}

fn direction_words(d: Direction) -> &'static str {
    match d {
        Direction::Both => "both ways",
        Direction::Forward => "forward",
        Direction::Backward => "backward",
    }
}

/// "tracing R26341-001 both ways, 4 nodes open", or none for bytes of another layout.
pub fn describe(bytes: &[u8]) -> Option<String> {
    let s = TraceState::decode(bytes)?;
    Some(format!(
        "tracing {} {}, {} node{} open",
        s.root,
        direction_words(s.direction),
        s.open.len(),
        if s.open.len() == 1 { "" } else { "s" }
    ))
}

impl Trace {
    /// The tree as a draft, while one is shown; none on the start form or a pick list.
    pub fn draft(&self) -> Option<Vec<u8>> {
        let l = self.loaded.as_ref().filter(|_| self.stage == Stage::Tree)?;
        let mut open: Vec<Node> = l.expanded.iter().copied().map(Node::of).collect();
        // The same tree, the same bytes: a set's order is not the tree's.
        open.sort_by_key(|n| format!("{n:?}"));
        let s = TraceState {
            root: l.root().code.to_string(),
            direction: l.graph.direction,
            open,
            selected: l.row().map(|r| Node::of(r.key)),
        };
        let mut out = vec![LAYOUT];
        out.extend(postcard::to_stdvec(&s).ok()?);
        Some(out)
    }

    /// Trace the draft's root again and open the nodes that were open (those that still
    /// exist), the selection where it was.
    pub fn resume_draft(&mut self, bytes: &[u8], station: &dyn Station) -> Outcome {
        let Some(s) = TraceState::decode(bytes) else {
            return Outcome::none();
        };
        let Ok(code) = LotCode::parse(&s.root, "lot") else {
            return Outcome::none();
        };
        self.begin();
        self.start.get_mut("code").set(code.as_str());
        let out = self.open(code, s.direction, station);
        if let Some(l) = &mut self.loaded {
            l.expanded.extend(s.open.iter().map(|n| n.key()));
            l.reflatten();
            if let Some(k) = s.selected.map(Node::key)
                && let Some(i) = l.rows.iter().position(|r| r.key == k)
            {
                l.selected = i;
            }
        }
        self.load_detail(station);
        out
    }
}
