//! The mock recall record of the root: starting or continuing it, counting what was
//! found line by line, and completing it.

use super::*;

/// What was found for one line: a lot counted here, or a customer's answer.
fn count_form() -> Form {
    let mut form = Form::new(vec![
        Field::new("lot", "Lot").placeholder("lot code"),
        Field::new("customer", "Customer").placeholder("blank: counted here"),
        Field::new("on_hand", "On hand").placeholder("counted here"),
        Field::new("retrieved", "Retrieved").placeholder("customer sent back"),
        Field::new("consumed", "Consumed").placeholder("customer used"),
        Field::new("destroyed", "Destroyed").placeholder("customer destroyed"),
    ]);
    form.order = (0..6).map(Slot::Field).collect();
    form
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
                self.prompt = Some(Prompt {
                    kind: PromptKind::Count,
                    form: count_form(),
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
                Outcome::changed().status(Status::ok(format!(
                    "Count saved (event {event}): {}",
                    self.mock
                        .as_ref()
                        .map(report::mock_totals)
                        .unwrap_or_default()
                )))
            }
            Err(e) => {
                let p = self.prompt.as_mut().expect("prompt");
                refuse_all(&mut p.form, e.map(|e| rename(e, "on-hand", "on_hand")))
            }
        }
    }

    pub(super) fn finish_mock(&mut self, station: &dyn Station) -> Outcome {
        if !self.qa {
            return self.not_qa("complete mock recall");
        }
        let Some(id) = self
            .mock
            .as_ref()
            .filter(|m| m.finished.is_none())
            .map(|m| m.id)
        else {
            return Outcome::none();
        };
        let done = station
            .today()
            .and_then(|d| station.finish_mock_recall(id, String::new(), d))
            .and_then(|_| self.show_mock(id, station));
        match done {
            Ok(()) => {
                let m = self.mock.as_ref().expect("loaded");
                Outcome::changed().status(Status::ok(format!(
                    "Mock recall {id} completed after {}: {}",
                    lotline_domain::elapsed_text(m.elapsed_secs(self.now())),
                    report::mock_totals(m)
                )))
            }
            Err(e) => Outcome::error(&e),
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
