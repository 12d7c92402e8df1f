//! Drafts in the app (docs/tui.md, "Drafts"): the state of the Receive, Produce and Ship
//! forms, sent to the station a moment after the typing stops so a handheld that drops
//! off the Wi-Fi comes back to it, and the prompt that offers it back on return.
//!
//! A form's state is its fields' text, where the cursor was, and (Produce, Ship) its lines
//! as lot codes and quantities. Nothing the station checks comes from it: a resumed form
//! is saved like a typed one, through every check.

use super::form::Form;
use chrono::{DateTime, FixedOffset, Utc};
use lotline_domain::{DraftForm, DraftOffer, LastSaved};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// How long the typing must stop before the form's state is sent: a field's worth of keys
/// costs one write, not one per key.
pub const QUIET: Duration = Duration::from_millis(600);

/// The layout of `FormState` below, first byte of every draft this app sends: a draft of
/// another layout is not offered (it is not an error: drafts are not records).
const LAYOUT: u8 = 1;

/// One form's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormState {
    /// Every field by name, with its text.
    pub fields: Vec<(String, String)>,
    /// Where in the form's focus order the cursor was, and where in that field's text.
    pub focus: u32,
    pub cursor: u32,
    /// Lot lines: lot code and quantity, as the lines showed them.
    pub lines: Vec<(String, String)>,
}

impl FormState {
    pub fn of(form: &Form, lines: Vec<(String, String)>) -> FormState {
        FormState {
            fields: form
                .fields
                .iter()
                .map(|f| (f.name.to_string(), f.value().to_string()))
                .collect(),
            focus: form.focus as u32,
            cursor: form.focused().map_or(0, |f| f.input.cursor()) as u32,
            lines,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![LAYOUT];
        // A Vec writer and these plain fields cannot fail to encode.
        out.extend(postcard::to_stdvec(self).unwrap_or_default());
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<FormState> {
        match bytes.split_first() {
            Some((&LAYOUT, body)) => postcard::from_bytes(body).ok(),
            _ => None,
        }
    }

    /// The text of field `name`, or "" when the form had none.
    pub fn value(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// Put the fields' text back into `form` (fields it does not have are passed over),
    /// and the cursor where it was. The values stay unsaved input: the form is dirty
    /// until saved, as it was when the draft was sent.
    pub fn restore(&self, form: &mut Form) {
        for (name, value) in &self.fields {
            if let Some(i) = form.index(name) {
                form.fields[i].set(value);
                form.fields[i].pick_closed = true;
            }
        }
        let focus = (self.focus as usize).min(form.order.len().saturating_sub(1));
        form.focus = focus;
        if let Some(f) = form.focused_mut() {
            let at = (self.cursor as usize).min(f.value().chars().count());
            f.input = tui_input::Input::new(f.value().to_string()).with_cursor(at);
        }
    }
}

/// A draft offered on return, decoded, with what the prompt says of it.
#[derive(Debug, Clone)]
pub struct Offer {
    pub form: DraftForm,
    /// The station it was typed at.
    pub station: String,
    /// A form's state (Receive, Produce, Ship; empty for Trace).
    pub state: FormState,
    /// The draft as kept (what Trace reads its tree from).
    pub bytes: Vec<u8>,
    /// "receiving FLOUR from MILL, lot DROP-77, 12 kg"
    pub what: String,
    /// When it was last sent.
    pub at: DateTime<Utc>,
    /// Another live lotline of this user keeps it, connected since then.
    pub held_since: Option<DateTime<Utc>>,
}

impl Offer {
    pub fn from(o: &DraftOffer) -> Option<Offer> {
        let d = &o.draft;
        let (state, what) = match d.form {
            DraftForm::Trace => (
                FormState::default(),
                super::screens::trace::draft::describe(&d.bytes)?,
            ),
            form => {
                let state = FormState::decode(&d.bytes)?;
                let what = describe(form, &state)?;
                (state, what)
            }
        };
        Some(Offer {
            form: d.form,
            station: d.stamp.station.clone(),
            what,
            state,
            bytes: d.bytes.clone(),
            at: d.stamp.at,
            held_since: o.held_since,
        })
    }

    /// The prompt's sentence, its times on a clock `tz` from UTC (the plant's).
    pub fn prompt(&self, tz: FixedOffset) -> String {
        let at = hm(self.at, tz);
        match self.held_since {
            None => format!(
                "You were {}, on {} at {at} — Enter to resume, Esc to discard",
                self.what, self.station
            ),
            Some(since) => format!(
                "Your other lotline at {} (open since {}) is {}; that one keeps it — Enter to go on here with an empty form, Esc to quit",
                self.station,
                hm(since, tz),
                self.what
            ),
        }
    }
}

/// "HH:MM" on a clock `tz` from UTC.
pub fn hm(t: DateTime<Utc>, tz: FixedOffset) -> String {
    t.with_timezone(&tz).format("%H:%M").to_string()
}

/// What a form's state is, in a few words: "receiving FLOUR from MILL, lot DROP-77,
/// 12 kg". None for a form with nothing worth offering back.
fn describe(form: DraftForm, s: &FormState) -> Option<String> {
    let join = |parts: Vec<String>| {
        let parts: Vec<String> = parts.into_iter().filter(|p| !p.is_empty()).collect();
        parts.join(", ")
    };
    let n = s.lines.len();
    let lines = match n {
        0 => String::new(),
        1 => "1 line".to_string(),
        n => format!("{n} lines"),
    };
    Some(match form {
        DraftForm::Receive => {
            let mut head = format!("receiving {}", or_blank(s.value("item"), "an item"));
            if !s.value("supplier").is_empty() {
                head.push_str(&format!(" from {}", s.value("supplier")));
            }
            let lot = match s.value("supplier-lot") {
                "" => String::new(),
                l => format!("lot {l}"),
            };
            let qty = format!("{} {}", s.value("qty"), s.value("unit"))
                .trim()
                .to_string();
            join(vec![head, lot, qty])
        }
        DraftForm::Produce => {
            let head = format!(
                "making {}",
                format!(
                    "{} {}",
                    s.value("qty"),
                    or_blank(s.value("item"), "a batch")
                )
                .trim()
            );
            let inputs = match n {
                0 => String::new(),
                1 => "1 input line".into(),
                n => format!("{n} input lines"),
            };
            join(vec![head, inputs])
        }
        DraftForm::Ship => {
            let head = match s.value("customer") {
                "" => "shipping".to_string(),
                c => format!("shipping to {c}"),
            };
            join(vec![head, lines])
        }
        DraftForm::Trace => return None,
    })
}

fn or_blank<'a>(v: &'a str, blank: &'a str) -> &'a str {
    if v.is_empty() { blank } else { v }
}

/// "Last saved: R26341-003 FLOUR 25 kg at 11:41 on hh-3", from the station's records.
pub fn last_saved_line(l: &LastSaved, tz: FixedOffset) -> String {
    use lotline_domain::EventKind;
    let e = &l.event;
    let first = l.lots.first();
    let lot = |x: Option<&lotline_domain::Lot>| {
        x.map(|lot| format!("{} {}", lot.code, lot.item))
            .unwrap_or_default()
    };
    let what = match &e.kind {
        EventKind::Receive(r) => format!(
            "{} {} {}",
            lot(first),
            r.qty,
            first.map_or(String::new(), |l| l.unit.to_string())
        ),
        EventKind::Produce(b) => format!(
            "{} {} {}",
            lot(first),
            b.qty,
            first.map_or(String::new(), |l| l.unit.to_string())
        ),
        EventKind::Ship(s) => format!(
            "shipment to {}, {} line{}",
            s.customer,
            s.lines.len(),
            if s.lines.len() == 1 { "" } else { "s" }
        ),
        _ => format!("event {} {}", e.id, lot(first)),
    };
    format!(
        "Last saved: {} at {} on {}",
        what.trim(),
        hm(e.stamp.at, tz),
        e.stamp.station
    )
}

/// What the app has sent of its forms, and when they last changed.
#[derive(Debug)]
pub struct Keeper {
    /// What the station holds of each form, as far as this app knows.
    sent: HashMap<DraftForm, Vec<u8>>,
    /// The forms as last noted: a difference from these is typing, which restarts the
    /// quiet period.
    seen: Vec<(DraftForm, Option<Vec<u8>>)>,
    /// A form's state differs from what was sent since then.
    changed: Option<Instant>,
    /// Forms whose draft another live session of this user keeps: not sent from here.
    held: HashSet<DraftForm>,
    /// Drafts offered back on return, the one shown first.
    pub offers: Vec<Offer>,
    /// The station this app is at, for dropping its own drafts.
    pub station: String,
    /// The clock times are shown on: this computer's offset from UTC.
    pub tz: FixedOffset,
}

impl Default for Keeper {
    fn default() -> Keeper {
        Keeper {
            sent: HashMap::new(),
            seen: Vec::new(),
            changed: None,
            held: HashSet::new(),
            offers: Vec::new(),
            station: String::new(),
            // UTC until the app gives its clock (`on_clock`).
            tz: chrono::Offset::fix(&chrono::Utc),
        }
    }
}

impl Keeper {
    /// A keeper showing its times on a clock `tz` from UTC (the app's).
    pub fn on_clock(tz: FixedOffset) -> Keeper {
        Keeper {
            tz,
            ..Keeper::default()
        }
    }
}

impl Keeper {
    /// Note the forms as they are now: a change starts (or restarts) the quiet period.
    pub fn note(&mut self, now: Instant, forms: &[(DraftForm, Option<Vec<u8>>)]) {
        if self.seen.as_slice() == forms {
            return;
        }
        self.seen = forms.to_vec();
        if forms.iter().any(|(f, b)| !self.same(*f, b.as_deref())) {
            self.changed = Some(now);
        }
    }

    fn same(&self, form: DraftForm, bytes: Option<&[u8]>) -> bool {
        self.held.contains(&form) || self.sent.get(&form).map(Vec::as_slice) == bytes
    }

    /// When the forms are next due to be sent, if a change waits.
    pub fn due(&self) -> Option<Instant> {
        self.changed.map(|c| c + QUIET)
    }

    /// The station holds this form's state now (sent, or taken back on resume).
    pub fn sent(&mut self, form: DraftForm, bytes: Option<Vec<u8>>) {
        match bytes {
            Some(b) => self.sent.insert(form, b),
            None => self.sent.remove(&form),
        };
    }

    /// Send what changed (`force`: now, on the way out; else once the typing stopped).
    /// Returns a line for the status when a draft could not be kept here.
    pub fn flush(
        &mut self,
        now: Instant,
        force: bool,
        forms: Vec<(DraftForm, Option<Vec<u8>>)>,
        station: &dyn lotline_station::Station,
    ) -> Option<String> {
        use lotline_station::{Command, ErrorKind, Request};
        match self.changed {
            Some(c) if force || now >= c + QUIET => {}
            _ => return None,
        }
        self.changed = None;
        let mut news = None;
        for (form, bytes) in forms {
            if self.same(form, bytes.as_deref()) {
                continue;
            }
            let c = match &bytes {
                Some(b) => Command::SaveDraft(lotline_domain::DraftSave {
                    form,
                    bytes: b.clone(),
                    session: 0,
                }),
                None => Command::DropDraft {
                    station: self.station.clone(),
                    form,
                },
            };
            match station.call(Request::Command(c)) {
                Ok(_) => self.sent(form, bytes),
                Err(e) if e.kind == ErrorKind::Busy && e.field.as_deref() == Some("draft") => {
                    self.held.insert(form);
                    news = Some(e.message);
                }
                // The server away: tried again with the next change.
                Err(_) => {}
            }
        }
        news
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::Field;

    fn form() -> Form {
        Form::new(vec![
            Field::new("item", "Item"),
            Field::new("supplier", "Supplier"),
            Field::new("supplier-lot", "Supplier lot"),
            Field::new("qty", "Quantity"),
        ])
    }

    #[test]
    fn a_form_comes_back_as_it_was_with_the_cursor_where_it_was() {
        let mut f = form();
        f.get_mut("item").set("FLOUR");
        f.get_mut("supplier").set("MILL");
        f.get_mut("supplier-lot").set("DROP-77");
        f.focus_field("supplier-lot");
        f.focused_mut().unwrap().input = tui_input::Input::new("DROP-77".into()).with_cursor(4);
        let s = FormState::of(&f, vec![("R1".into(), "2".into())]);
        let back = FormState::decode(&s.encode()).unwrap();
        assert_eq!(back, s);
        let mut g = form();
        back.restore(&mut g);
        assert_eq!(g.value("item"), "FLOUR");
        assert_eq!(g.value("supplier-lot"), "DROP-77");
        assert!(g.is_focused("supplier-lot"));
        assert_eq!(g.focused().unwrap().input.cursor(), 4);
        assert!(g.is_dirty(), "resumed input is unsaved input");
    }

    #[test]
    fn a_draft_of_another_layout_or_garbage_is_not_offered() {
        assert_eq!(FormState::decode(&[]), None);
        assert_eq!(FormState::decode(&[9, 1, 2]), None);
        assert_eq!(FormState::decode(&[LAYOUT, 0xff, 0xff, 0xff]), None);
    }

    #[test]
    fn the_prompt_says_what_was_typed() {
        let mut f = form();
        f.get_mut("item").set("FLOUR");
        f.get_mut("supplier").set("MILL");
        f.get_mut("supplier-lot").set("DROP-77");
        f.get_mut("qty").set("12");
        let s = FormState::of(&f, Vec::new());
        assert_eq!(
            describe(DraftForm::Receive, &s).unwrap(),
            "receiving FLOUR from MILL, lot DROP-77, 12"
        );
        let mut lines = s.clone();
        lines.lines = vec![("R1".into(), "2".into()), ("R2".into(), "3".into())];
        assert_eq!(
            describe(DraftForm::Produce, &lines).unwrap(),
            "making 12 FLOUR, 2 input lines"
        );
    }

    #[test]
    fn the_quiet_period_holds_sends_until_the_typing_stops() {
        let mut k = Keeper::default();
        let t0 = Instant::now();
        let forms = vec![(DraftForm::Receive, Some(vec![1]))];
        k.note(t0, &forms);
        assert_eq!(k.due(), Some(t0 + QUIET));
        // The same forms again: no typing, so the quiet period runs on.
        k.note(t0 + QUIET / 2, &forms);
        assert_eq!(k.due(), Some(t0 + QUIET));
        let typed = vec![(DraftForm::Receive, Some(vec![1, 2]))];
        k.note(t0 + QUIET / 2, &typed);
        assert_eq!(k.due(), Some(t0 + QUIET / 2 + QUIET));
        k.sent(DraftForm::Receive, Some(vec![1]));
        k.changed = None;
        k.note(t0 + QUIET * 3, &forms);
        assert_eq!(k.due(), None, "what was sent: nothing to send");
    }
}
