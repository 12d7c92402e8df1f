//! Moving about a trace: loading a root, the pick list, the tree (open, close, jump,
//! turn, re-root, search) and Back through the roots visited.

use super::*;
use crate::tree::NodeKind;
use std::collections::HashSet;

impl Trace {
    /// Load `code` again in `dir`, keeping the open nodes and the selection where they
    /// still exist.
    pub(super) fn reload(
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
    pub(super) fn begin(&mut self) {
        self.started = Some(Instant::now());
        self.history.clear();
        self.search = None;
    }

    /// Open `code` as the start of a new investigation.
    pub(super) fn open_new(&mut self, code: LotCode, station: &dyn Station) -> Outcome {
        self.begin();
        self.pick = None;
        self.start.get_mut("code").set(code.as_str());
        self.open(code, Direction::Both, station)
    }

    /// Load and show the trace of `code`.
    pub(super) fn open(&mut self, code: LotCode, dir: Direction, station: &dyn Station) -> Outcome {
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
    pub(super) fn summary(&self) -> String {
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
    pub(super) fn load_detail(&mut self, station: &dyn Station) {
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
        let code = lot.code.clone();
        if !self.events.contains_key(&ev)
            && let Ok(e) = station.event(ev)
        {
            self.events.insert(ev, e);
        }
        if !self.allergens.contains_key(&id)
            && let Ok(a) = station.lot_allergens(code)
        {
            self.allergens.insert(id, a);
        }
    }

    pub(super) fn pick_action(&mut self, a: TraceAction, station: &dyn Station) -> Outcome {
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

    pub(super) fn back(&mut self, station: &dyn Station) -> Outcome {
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

    pub(super) fn tree_move(&mut self, a: TraceAction, station: &dyn Station) -> Outcome {
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
            TraceAction::Activate | TraceAction::Expand
                if matches!(row.kind, NodeKind::Ref { .. }) =>
            {
                self.jump()
            }
            TraceAction::Activate | TraceAction::Expand if !row.has_children => Outcome::none(),
            // Enter closes an open node; Expand goes to its first child.
            TraceAction::Activate if row.expanded => {
                l.expanded.remove(&row.key);
                l.reflatten();
                Outcome::changed()
            }
            TraceAction::Expand if row.expanded => changed(l.select(l.selected + 1)),
            TraceAction::Activate | TraceAction::Expand => {
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
    pub(super) fn turn(&mut self, station: &dyn Station) -> Outcome {
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
    pub(super) fn find(&mut self, q: &str) -> Outcome {
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
}
