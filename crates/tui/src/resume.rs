//! The app's side of drafts (docs/tui.md, "Drafts"): what of its forms it keeps at the
//! station, the prompt that offers a draft back on return, and "Last saved".

use super::app::App;
use super::drafts::{FormState, Offer, last_saved_line};
use super::draw::{self, put};
use super::input::Input;
use super::keymap::ScreenId;
use super::queue::Status;
use super::screens::produce::InputLine;
use super::screens::ship::ShipLine;
use lotline_domain::{DraftForm, Qty};
use lotline_station::{Command, Query, Reply, Request, Station, StationExt};
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::KeyCode;
use ratatui::layout::Rect;
use std::time::Instant;

impl App {
    /// Each form's state as a draft, or none when it holds nothing unsaved.
    pub fn form_drafts(&self) -> Vec<(DraftForm, Option<Vec<u8>>)> {
        let lines = |v: Vec<(String, String)>| v;
        let receive = self
            .receive
            .is_dirty()
            .then(|| FormState::of(&self.receive.form, Vec::new()).encode());
        let produce = self.produce.is_dirty().then(|| {
            let l = self.produce.entry.lines.iter();
            FormState::of(
                &self.produce.entry.form,
                lines(
                    l.map(|l| (l.lot.code.to_string(), l.qty.to_string()))
                        .collect(),
                ),
            )
            .encode()
        });
        let ship = self.ship.is_dirty().then(|| {
            let l = self.ship.entry.lines.iter();
            FormState::of(
                &self.ship.entry.form,
                l.map(|l| (l.lot.code.to_string(), l.qty.to_string()))
                    .collect(),
            )
            .encode()
        });
        vec![
            (DraftForm::Receive, receive),
            (DraftForm::Produce, produce),
            (DraftForm::Ship, ship),
            (DraftForm::Trace, self.trace.draft()),
        ]
    }

    /// On start: the caller's drafts to offer, and the last thing they saved here.
    pub(crate) fn take_resume(&mut self, station: &dyn Station) {
        self.drafts.station = self.station_name.clone();
        let Ok(Reply::Resume(r)) = station.call(Request::Query(Query::Resume)) else {
            return;
        };
        self.drafts.offers = r.drafts.iter().filter_map(Offer::from).collect();
        if let Some(l) = &r.last_saved {
            self.status = Some(Status::info(last_saved_line(l, self.drafts.tz)));
            self.receive.last_from(l, station);
        }
    }

    /// Keep the forms' drafts at the station: note what changed, and send it once the
    /// typing stopped (`force`: now, on the way out).
    pub fn keep_drafts(&mut self, now: Instant, force: bool, station: &dyn Station) -> bool {
        let forms = self.form_drafts();
        self.drafts.note(now, &forms);
        match self.drafts.flush(now, force, forms, station) {
            Some(news) => {
                self.status = Some(Status::warn(news));
                true
            }
            None => false,
        }
    }

    /// A key while a draft is offered: Enter takes it, Esc lets it go. `None` when no
    /// draft is offered (the key is the screen's).
    pub(crate) fn offer_key(&mut self, input: &Input, station: &dyn Station) -> Option<bool> {
        if self.drafts.offers.is_empty() {
            return None;
        }
        let Input::Key { event, .. } = input else {
            // A scan or paste meanwhile is not replayed into a form behind the prompt.
            return Some(false);
        };
        let offer = self.drafts.offers[0].clone();
        match event.code {
            KeyCode::Enter => {
                self.drafts.offers.remove(0);
                if offer.held_since.is_none() {
                    self.resume(offer, station);
                }
                Some(true)
            }
            KeyCode::Esc => {
                self.drafts.offers.remove(0);
                if offer.held_since.is_some() {
                    self.quit = true;
                    return Some(true);
                }
                let dropped = station.call(Request::Command(Command::DropDraft {
                    station: offer.station.clone(),
                    form: offer.form,
                }));
                self.status = Some(match dropped {
                    Ok(_) => Status::info(format!("Discarded: {}", offer.what)),
                    Err(e) => (&e).into(),
                });
                Some(true)
            }
            _ => Some(false),
        }
    }

    /// Put a draft back in its form, bring that form up, and take the draft over here.
    fn resume(&mut self, offer: Offer, station: &dyn Station) {
        let s = &offer.state;
        let mut missing: Vec<String> = Vec::new();
        let screen = match offer.form {
            DraftForm::Receive => {
                s.restore(&mut self.receive.form);
                self.receive.sync();
                ScreenId::Receive
            }
            DraftForm::Produce => {
                s.restore(&mut self.produce.entry.form);
                let today = station.today().ok();
                self.produce.entry.lines = lines_of(s, station, &mut missing)
                    .into_iter()
                    .map(|(lot, qty)| InputLine {
                        expired: today.is_some_and(|t| lot.is_expired(t)),
                        lot,
                        qty,
                    })
                    .collect();
                ScreenId::Produce
            }
            DraftForm::Ship => {
                s.restore(&mut self.ship.entry.form);
                self.ship.entry.lines = lines_of(s, station, &mut missing)
                    .into_iter()
                    .map(|(lot, qty)| ShipLine { lot, qty })
                    .collect();
                ScreenId::Ship
            }
            DraftForm::Trace => {
                let out = self.trace.resume_draft(&offer.bytes, station);
                self.process(out, station);
                ScreenId::Trace
            }
        };
        self.screen = screen;
        self.menu = false;
        // Kept from here on by this session, at this station: the same bytes, so what
        // the station holds is what the form shows; where it was typed, it goes.
        let bytes = match offer.form {
            DraftForm::Trace => offer.bytes.clone(),
            _ => s.encode(),
        };
        let kept = station.call(Request::Command(Command::SaveDraft(
            lotline_domain::DraftSave {
                form: offer.form,
                bytes: bytes.clone(),
                session: 0,
            },
        )));
        if kept.is_ok() {
            self.drafts.sent(offer.form, Some(bytes));
            if offer.station != self.station_name {
                let _ = station.call(Request::Command(Command::DropDraft {
                    station: offer.station.clone(),
                    form: offer.form,
                }));
            }
        }
        self.status = Some(if missing.is_empty() {
            Status::ok(format!("Resumed: {}", offer.what))
        } else {
            Status::warn(format!(
                "Resumed: {}; not found, so left out: lot {}",
                offer.what,
                missing.join(", lot ")
            ))
        });
    }

    /// The offered draft's prompt, over the body.
    pub(crate) fn draw_offer(&self, buf: &mut Buffer, body: Rect) {
        let Some(o) = self.drafts.offers.first() else {
            return;
        };
        let w = body.width.saturating_sub(2).min(72);
        let text = draw::wrap(&o.prompt(self.drafts.tz), w.saturating_sub(2) as usize);
        let h = (text.len() as u16 + 2).min(body.height);
        let area = Rect::new(
            body.x + (body.width - w) / 2,
            body.y + (body.height - h) / 2,
            w,
            h,
        );
        let title = match o.held_since {
            None => "Unsaved form",
            Some(_) => "Open elsewhere",
        };
        let inner = draw::boxed(buf, area, title, &self.theme);
        for (i, line) in text.iter().enumerate() {
            put(
                buf,
                inner,
                inner.x,
                inner.y + i as u16,
                line,
                self.theme.strong,
            );
        }
    }
}

/// A draft's lines as lots, each looked up again; a lot no longer found is named in
/// `missing` and left out.
fn lines_of(
    s: &FormState,
    station: &dyn Station,
    missing: &mut Vec<String>,
) -> Vec<(lotline_domain::Lot, Qty)> {
    let mut out = Vec::new();
    for (code, qty) in &s.lines {
        let lot = lotline_domain::LotCode::parse(code, "lot")
            .ok()
            .and_then(|c| station.lot(c).ok());
        match (lot, qty.parse::<Qty>()) {
            (Some(lot), Ok(q)) => out.push((lot, q)),
            _ => missing.push(code.clone()),
        }
    }
    out
}
