//! What the keys do on the Trace screen: its actions, the footer's hints, and where each
//! action goes (the prompt, the start form, the pick list or the tree).

use super::*;
use crate::tree::NodeKind;

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

impl Trace {
    /// What a key does here, where the keymap's words would mislead (for the footer).
    pub fn hint_desc(&self, a: crate::keymap::Action) -> Option<&'static str> {
        use crate::keymap::Action as A;
        if let Some(p) = &self.prompt {
            return match a {
                A::Confirm | A::Save if p.kind == PromptKind::Finish => Some("complete"),
                A::Confirm | A::Save => Some("ok"),
                A::Cancel => Some("cancel"),
                _ => None,
            };
        }
        match (self.stage, a) {
            (Stage::Start, A::Save) => Some("trace"),
            (Stage::Start, A::Open) => Some("start"),
            (Stage::Pick, A::Open) => Some("trace it"),
            // Esc leaves a view for the tree it was opened from.
            (Stage::Tree, A::Back) if self.view != View::Tree => Some("tree"),
            (Stage::Tree, A::SaveRecord) if self.view == View::Mock => Some("count line"),
            (Stage::Tree, A::SaveRecord) => Some("mock recall"),
            (Stage::Tree, A::FinishRecord) => Some("complete"),
            (Stage::Tree, A::Export) if self.view == View::Mock => Some("workbook"),
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
            // The mock recall view keeps its footer for the record's own keys.
            A::Direction => tree && self.view != View::Mock,
            A::Export => tree,
            A::RecallScope => tree && !matches!(self.view, View::Scope | View::Mock),
            A::MassBalance => tree && !matches!(self.view, View::Balance | View::Mock),
            A::HoldAll => tree && self.view == View::Scope,
            A::SaveRecord => {
                tree && (self.view == View::Balance
                    || (self.view == View::Mock
                        && self.mock.as_ref().is_some_and(|m| m.finished.is_none())))
            }
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
            Some(PromptKind::Count) => "the count",
            Some(PromptKind::Finish) => "the corrective actions",
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

    fn tree_action(&mut self, a: TraceAction, station: &dyn Station) -> Outcome {
        match a {
            TraceAction::Direction => return self.turn(station),
            TraceAction::Scope => return self.show_view(View::Scope, station),
            TraceAction::Balance => return self.show_view(View::Balance, station),
            TraceAction::HoldAll => return self.ask_hold(station),
            TraceAction::SaveRecord if self.view == View::Mock => return self.ask_count(),
            TraceAction::SaveRecord => return self.ask_record(station),
            TraceAction::FinishRecord => return self.ask_finish(),
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
                    PromptKind::Finish => "The mock recall is still open; nothing was completed",
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
                    PromptKind::Finish => self.finish_mock(text, station),
                    PromptKind::Count => Outcome::none(),
                }
            }
            other => common(&mut p.form, &other, |_| false).unwrap_or_default(),
        }
    }
}
