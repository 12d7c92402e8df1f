//! The mock recall record of the root: starting or continuing it, counting what was
//! found line by line (from the line selected), completing it with the corrective
//! actions once confirmed, and its view: each lot's and customer's reconciliation, the
//! over-counts apart, the totals and the actions.

use super::report::{Line, Tone};
use super::*;
use lotline_domain::words::plural;
use lotline_domain::{MockRecallView, percent_text};

/// The line of the record a count is about: a lot counted here, or a customer's part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountTarget {
    pub lot: LotCode,
    pub customer: Option<PartyId>,
}

/// Where the view's hint line goes (after the title), while the record is open.
pub(super) const HINT_AT: usize = 1;

/// What was found for one line: a lot counted here, or a customer's answer; filled in
/// from the line selected, with the cursor where the count goes.
fn count_form(from: Option<&CountTarget>) -> Form {
    let mut form = Form::new(vec![
        Field::new("lot", "Lot").placeholder("lot code"),
        Field::new("customer", "Customer").placeholder("blank: counted here"),
        Field::new("on_hand", "On hand").placeholder("counted here"),
        Field::new("retrieved", "Retrieved").placeholder("customer sent back"),
        Field::new("consumed", "Consumed").placeholder("customer used"),
        Field::new("destroyed", "Destroyed").placeholder("customer destroyed"),
    ]);
    form.order = (0..6).map(Slot::Field).collect();
    if let Some(t) = from {
        form.get_mut("lot").reset_to(t.lot.as_str());
        match &t.customer {
            Some(c) => {
                form.get_mut("customer").reset_to(c.as_str());
                form.focus_field("retrieved");
            }
            None => {
                form.focus_field("on_hand");
            }
        }
    }
    form
}

/// "gap 2 case (95.00 % found)", per unit.
pub fn mock_totals(m: &MockRecallView) -> String {
    m.result
        .totals()
        .iter()
        .map(lotline_domain::UnitTotal::gap_text)
        .collect::<Vec<_>>()
        .join(", ")
}

fn warn_if(gap: bool) -> Tone {
    if gap { Tone::Warn } else { Tone::Normal }
}

/// The mock recall view, line by line, each with the count it is about (for the count
/// form): the record's state, each lot's reconciliation, the totals, each customer's
/// answer, the over-counts and the corrective actions. A gap is drawn as a warning.
pub fn mock_rows(
    m: &MockRecallView,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<(Line, Option<CountTarget>)> {
    let r = &m.result;
    let mut v: Vec<(Line, Option<CountTarget>)> = Vec::new();
    let mut push = |t: String, tone: Tone, target: Option<CountTarget>| v.push(((t, tone), target));
    push(
        format!("Mock recall {} from {}", m.id, m.root.code),
        Tone::Title,
        None,
    );
    let elapsed = lotline_domain::elapsed_text(m.elapsed_secs(now));
    push(
        match &m.finished {
            Some(f) => format!(
                "Completed {} by {}, after {elapsed}",
                f.stamp.at.format("%Y-%m-%d %H:%M UTC"),
                f.stamp.operator
            ),
            None => format!(
                "In progress since {} ({elapsed})",
                m.started.at.format("%Y-%m-%d %H:%M UTC")
            ),
        },
        Tone::Normal,
        None,
    );
    if !m.note.is_empty() {
        push(format!("Note: {}", m.note), Tone::Dim, None);
    }
    if let Some(f) = &m.finished {
        let actions = if f.note.is_empty() {
            "none entered".to_string()
        } else {
            f.note.clone()
        };
        push(format!("Corrective actions: {actions}"), Tone::Strong, None);
    }
    for t in r.totals() {
        push(
            format!(
                "Overall {}: found {} of {}, gap {} ({})",
                t.unit,
                t.found,
                t.produced,
                t.gap(),
                percent_text(t.percent_bp())
            ),
            if t.gap() == Qty::ZERO {
                Tone::Strong
            } else {
                Tone::Warn
            },
            None,
        );
    }
    push(String::new(), Tone::Normal, None);
    push(
        format!(
            "{} {} {} {} {}",
            draw::pad("Lot", 14),
            draw::rpad("Made", 7),
            draw::rpad("Found", 7),
            draw::rpad("Gap", 7),
            draw::rpad("Found", 8)
        ),
        Tone::Strong,
        None,
    );
    for l in &r.lots {
        let counted = match l.counted {
            Some(q) if l.over().is_positive() => {
                format!(", counted {q}, over-count {}", l.over())
            }
            Some(q) => format!(", counted {q}"),
            None if l.room().is_positive() || l.on_hand.is_positive() => ", not counted".into(),
            None => ", nothing on hand".into(),
        };
        push(
            format!(
                "{} {} {} {} {} {}{counted}",
                draw::pad(l.code.as_str(), 14),
                draw::rpad(&l.produced.to_string(), 7),
                draw::rpad(&l.found().to_string(), 7),
                draw::rpad(&l.gap().to_string(), 7),
                draw::rpad(&percent_text(l.percent_bp()), 8),
                l.unit,
            ),
            warn_if(l.gap() != Qty::ZERO || l.over().is_positive()),
            Some(CountTarget {
                lot: l.code.clone(),
                customer: None,
            }),
        );
    }
    push(String::new(), Tone::Normal, None);
    push("Customers".into(), Tone::Title, None);
    if r.customers.is_empty() {
        push("none received any of it".into(), Tone::Dim, None);
    }
    for c in &r.customers {
        let answer = if c.counted() {
            format!(
                "back {}, used {}, destroyed {}",
                c.returned + c.retrieved.unwrap_or(Qty::ZERO),
                c.consumed.unwrap_or(Qty::ZERO),
                c.destroyed.unwrap_or(Qty::ZERO)
            )
        } else if c.returned.is_positive() {
            format!("returned {}, no answer yet", c.returned)
        } else {
            "no answer yet".into()
        };
        let over = if c.over().is_positive() {
            format!(", over-count {}", c.over())
        } else {
            String::new()
        };
        push(
            format!(
                "{} {} shipped {} {}: {answer}; gap {}{over}",
                c.party,
                c.code,
                c.shipped,
                c.unit,
                c.gap()
            ),
            warn_if(c.gap() != Qty::ZERO || c.over().is_positive()),
            Some(CountTarget {
                lot: c.code.clone(),
                customer: Some(c.party.clone()),
            }),
        );
    }
    let n = r.uncounted();
    if n > 0 {
        push(String::new(), Tone::Normal, None);
        push(
            format!("{} not counted yet", plural(n, "line", "lines")),
            Tone::Dim,
            None,
        );
    }
    v
}

impl Trace {
    /// Start the root's mock recall record (a note first), or continue the one left open.
    pub(super) fn ask_record(&mut self, station: &dyn Station) -> Outcome {
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

    /// The count the selected line of the mock recall view is about, if any.
    pub fn selected_count(&self) -> Option<CountTarget> {
        let m = self.mock.as_ref()?;
        let at = self.loaded.as_ref()?.scroll;
        // The view draws a hint line among the rows while the record is open.
        let at = match m.finished {
            None if at == HINT_AT => return None,
            None if at > HINT_AT => at - 1,
            _ => at,
        };
        mock_rows(m, self.now()).into_iter().nth(at)?.1
    }

    /// The mock recall record shown (open or completed): its id.
    pub fn mock_on_screen(&self) -> Option<u64> {
        (self.stage == Stage::Tree && self.view == View::Mock && self.prompt.is_none())
            .then_some(self.mock.as_ref()?.id)
    }

    /// The record on screen, while open: its id.
    fn open_mock(&self) -> Option<u64> {
        self.mock
            .as_ref()
            .filter(|m| m.finished.is_none())
            .map(|m| m.id)
    }

    pub(super) fn ask_count(&mut self) -> Outcome {
        if !self.qa {
            return self.not_qa("mock recall count");
        }
        match &self.mock {
            Some(m) if m.finished.is_some() => Outcome::changed().status(Status::warn(format!(
                "mock recall {} is completed; Ctrl-S on the mass balance starts a new one",
                m.id
            ))),
            Some(_) => {
                let from = self.selected_count();
                self.prompt = Some(Prompt {
                    kind: PromptKind::Count,
                    form: count_form(from.as_ref()),
                });
                Outcome::changed()
            }
            None => Outcome::none(),
        }
    }

    /// Save one count: the lot counted here, or a customer's answer for a lot.
    pub(super) fn count(&mut self, station: &dyn Station) -> Outcome {
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
                let m = self.mock.as_ref().expect("loaded");
                // An over-count is kept as entered, and said at once.
                let over: Vec<String> = m
                    .counts
                    .iter()
                    .filter(|c| c.event == event)
                    .flat_map(|c| m.result.over_counts_of(&c.line))
                    .map(|f| f.text())
                    .collect();
                let saved = format!("Count saved (event {event}): {}", mock_totals(m));
                match over.first() {
                    Some(o) => Outcome::changed().status(Status::warn(format!("{saved}; {o}"))),
                    None => Outcome::changed().status(Status::ok(saved)),
                }
            }
            Err(e) => {
                let p = self.prompt.as_mut().expect("prompt");
                refuse_all(&mut p.form, e.map(|e| rename(e, "on-hand", "on_hand")))
            }
        }
    }

    /// D: ask to confirm the completion, with the corrective actions.
    pub(super) fn ask_finish(&mut self) -> Outcome {
        if !self.qa {
            return self.not_qa("complete mock recall");
        }
        if self.open_mock().is_none() {
            return Outcome::none();
        }
        let mut form = Form::new(vec![
            Field::new("actions", "Actions")
                .placeholder("corrective actions: what is done about each gap"),
        ]);
        form.order = vec![Slot::Field(0)];
        self.prompt = Some(Prompt {
            kind: PromptKind::Finish,
            form,
        });
        Outcome::changed()
    }

    /// Complete the record with the corrective actions typed in the prompt.
    pub(super) fn finish_mock(&mut self, actions: String, station: &dyn Station) -> Outcome {
        let Some(id) = self.open_mock() else {
            return Outcome::none();
        };
        let done = station
            .today()
            .and_then(|d| station.finish_mock_recall(id, actions, d))
            .and_then(|_| self.show_mock(id, station));
        match done {
            Ok(()) => {
                self.prompt = None;
                let m = self.mock.as_ref().expect("loaded");
                Outcome::changed().status(Status::ok(format!(
                    "Mock recall {id} completed after {}: {}",
                    lotline_domain::elapsed_text(m.elapsed_secs(self.now())),
                    mock_totals(m)
                )))
            }
            Err(e) => match self.prompt.as_mut() {
                Some(p) => refuse(&mut p.form, &rename(e, "note", "actions")),
                None => Outcome::error(&e),
            },
        }
    }

    /// Now, for the time a mock recall has been open: the stopwatch's fixed figure after
    /// the record's start in tests, the clock otherwise.
    pub(super) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        match (self.stopwatch, &self.mock) {
            (Stopwatch::Fixed(d), Some(m)) => {
                m.started.at + chrono::Duration::from_std(d).unwrap_or_default()
            }
            _ => chrono::Utc::now(),
        }
    }

    /// Start the root's mock recall record (the app's face of `lotline mock-recall`).
    pub(super) fn record(&mut self, note: String, station: &dyn Station) -> Outcome {
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
}
