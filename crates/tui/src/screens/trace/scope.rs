//! The recall scope and the mass balance of the root: their lines as drawn, moving
//! through them, and holding every lot of the scope in one go.

use super::*;
use lotline_domain::HoldAll;

impl Trace {
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
                .map(|m| {
                    mock::mock_rows(m, self.now())
                        .into_iter()
                        .map(|(line, _)| line)
                        .collect()
                })
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
                    mock::HINT_AT,
                    (
                        format!(
                            "{}: count the selected line; {}: complete; {}: workbook, summary",
                            key(Action::SaveRecord),
                            key(Action::FinishRecord),
                            key(Action::Export)
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
    pub(super) fn scroll_view(&mut self, a: TraceAction) -> Outcome {
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

    /// Load the root's recall scope (`View::Scope`) or mass balance and show it from its
    /// first line.
    pub(super) fn show_view(&mut self, view: View, station: &dyn Station) -> Outcome {
        let loaded = if view == View::Scope {
            self.load_scope(station)
        } else {
            self.load_balance(station)
        };
        match loaded {
            Ok(()) => {
                self.view = view;
                if let Some(l) = self.loaded.as_mut() {
                    l.scroll = 0;
                }
                Outcome::changed()
            }
            Err(e) => Outcome::error(&e),
        }
    }

    pub(super) fn load_scope(&mut self, station: &dyn Station) -> Result<(), StationError> {
        let Some(l) = self.loaded.as_mut() else {
            return Ok(());
        };
        let scope = station.recall_scope(l.root().code.clone())?;
        l.scope = Some(scope);
        // The scope's lots may not all be in a backward trace: name them too.
        Ok(())
    }

    pub(super) fn load_balance(&mut self, station: &dyn Station) -> Result<(), StationError> {
        if self.loaded.as_ref().is_some_and(|l| l.scope.is_none()) {
            self.load_scope(station)?;
        }
        let Some(l) = self.loaded.as_mut() else {
            return Ok(());
        };
        l.balance = Some(station.mass_balance(l.root().code.clone())?);
        Ok(())
    }

    pub(super) fn ask_hold(&mut self, station: &dyn Station) -> Outcome {
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

    /// Hold every released lot with stock in the recall scope as it is now — fetched again
    /// when the reason is given, so a lot made since the prompt opened is held too — and
    /// say how many status events were made and how many lots were already held.
    pub(super) fn hold_all(&mut self, reason: String, station: &dyn Station) -> Outcome {
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
}
