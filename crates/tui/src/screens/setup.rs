//! The guided start: what the app shows on a machine with no plant yet. The same steps
//! as `lotline init` — the plant's identity, its QA users, first items, first parties —
//! then a review; nothing is written until the review is confirmed, and then by the
//! caller, one transaction per record (`station::setup::apply`). This screen never
//! touches a station: before the confirmation there may be no database at all.

use super::*;
use crate::keymap::{Action, Layer};
use lotline_domain::{ItemCode, NewItem, NewParty, PartyId};
use lotline_station::setup::{self, PlantSetup};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Plant,
    Qa,
    Items,
    Parties,
    Review,
}

impl Step {
    pub const ALL: [Step; 5] = [
        Step::Plant,
        Step::Qa,
        Step::Items,
        Step::Parties,
        Step::Review,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Step::Plant => "Plant",
            Step::Qa => "QA users",
            Step::Items => "Items",
            Step::Parties => "Parties",
            Step::Review => "Review",
        }
    }

    fn number(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).unwrap_or(0) + 1
    }
}

pub struct Setup {
    pub step: Step,
    pub plant: Form,
    pub qa: Form,
    pub item: Form,
    pub party: Form,
    /// Items and parties entered so far, in order.
    pub items: Vec<NewItem>,
    pub parties: Vec<NewParty>,
    /// Where the plant will be written, for the review.
    pub db: String,
    /// The person setting up: the default QA user.
    pub user: String,
    /// The setup the review confirmed, for the caller to write.
    pub confirmed: Option<PlantSetup>,
}

fn plant_form() -> Form {
    let mut f = Form::new(vec![
        Field::new("name", "Name")
            .placeholder("business name, as on FSMA records")
            .required(),
        Field::new("phone", "Phone"),
        Field::new("street", "Street"),
        Field::new("city", "City"),
        Field::new("state", "State"),
        Field::new("zip", "ZIP"),
        Field::new("country", "Country"),
        Field::new("gln", "GLN").placeholder("13 digits, optional"),
        Field::new("label-size", "Label size").placeholder(
            lotline_domain::LabelSize::ALL
                .map(lotline_domain::LabelSize::as_str)
                .join(", "),
        ),
    ]);
    f.get_mut("country").reset_to("US");
    f.get_mut("label-size")
        .reset_to(lotline_domain::LabelSize::default().as_str());
    f
}

fn qa_form(user: &str) -> Form {
    let mut f = Form::new(vec![
        Field::new("qa-users", "QA users").placeholder("user names, comma-separated"),
    ]);
    f.get_mut("qa-users").reset_to(user);
    f
}

fn item_form() -> Form {
    let mut f = super::master::item_form(None);
    // The first items: what identifies them and what FDA's records need of a food (on
    // the Food Traceability List, packaging, GTIN, shelf life, receiving temperatures),
    // asked now rather than found missing at a records request; brand, commodity and
    // variety are added later on the Items/Parties screen.
    let keep = [
        "code",
        "name",
        "unit",
        "kind",
        "ftl",
        "pack-size",
        "pack-style",
        "gtin",
        "shelf-life",
        "temp-min",
        "temp-max",
    ];
    f.fields.retain(|x| keep.contains(&x.name));
    let mut f = Form::new(f.fields);
    f.get_mut("unit").reset_to("kg");
    f.get_mut("kind").reset_to("ingredient");
    f.get_mut("ftl").reset_to("no");
    f
}

fn party_form() -> Form {
    let p = super::master::party_form(None);
    let keep = [
        "id",
        "name",
        "role",
        "phone",
        "street",
        "city",
        "state",
        "zip",
        "country",
        "gln",
        "contact-name",
        "contact-phone",
        "contact-email",
    ];
    let fields = p
        .fields
        .into_iter()
        .filter(|x| keep.contains(&x.name))
        .collect();
    let mut f = Form::new(fields);
    f.get_mut("role").reset_to("supplier");
    f
}

fn values(form: &Form) -> impl Fn(&str) -> String + '_ {
    move |name: &str| {
        form.index(name)
            .map(|i| form.fields[i].value().to_string())
            .unwrap_or_default()
    }
}

/// A record read from a step's form, refused also when its code or id is taken (`taken`
/// is that check, made on the code as typed so it counts even when other fields are
/// wrong).
fn with_taken<T>(
    read: Result<T, Refused<Invalid>>,
    taken: Result<(), Invalid>,
) -> Result<T, Refused<StationError>> {
    match (read, taken) {
        (Ok(v), Ok(())) => Ok(v),
        (Ok(_), Err(e)) => Err(Refused::from(StationError::from(e))),
        (Err(r), Ok(())) => Err(r.map(StationError::from)),
        (Err(mut r), Err(e)) => {
            r.rest.push(e);
            Err(r.map(StationError::from))
        }
    }
}

impl Setup {
    pub fn new(db: &str, user: &str) -> Setup {
        Setup {
            step: Step::Plant,
            plant: plant_form(),
            qa: qa_form(user),
            item: item_form(),
            party: party_form(),
            items: Vec::new(),
            parties: Vec::new(),
            db: db.to_string(),
            user: user.to_string(),
            confirmed: None,
        }
    }

    /// The form of the step in front (the review has none).
    pub fn form(&self) -> Option<&Form> {
        match self.step {
            Step::Plant => Some(&self.plant),
            Step::Qa => Some(&self.qa),
            Step::Items => Some(&self.item),
            Step::Parties => Some(&self.party),
            Step::Review => None,
        }
    }

    fn form_mut(&mut self) -> Option<&mut Form> {
        match self.step {
            Step::Plant => Some(&mut self.plant),
            Step::Qa => Some(&mut self.qa),
            Step::Items => Some(&mut self.item),
            Step::Parties => Some(&mut self.party),
            Step::Review => None,
        }
    }

    /// Anything typed that would be lost on quitting.
    pub fn is_dirty(&self) -> bool {
        self.plant.is_dirty() || !self.items.is_empty() || !self.parties.is_empty()
    }

    /// The whole setup as entered, checked again as one.
    pub fn plan(&self) -> Result<PlantSetup, Refused<StationError>> {
        let plant = setup::plant_checked(|k| match k {
            "qa-users" => self.qa.value("qa-users").to_string(),
            k => values(&self.plant)(k),
        })
        .map_err(|r| r.map(StationError::from))?;
        Ok(PlantSetup {
            plant,
            items: self.items.clone(),
            parties: self.parties.clone(),
        })
    }

    fn go(&mut self, step: Step) -> Outcome {
        self.step = step;
        if let Some(f) = self.form_mut() {
            f.focus = 0;
        }
        Outcome::changed()
    }

    pub fn update(&mut self, a: FormAction) -> Outcome {
        if self.step == Step::Review {
            return match a {
                FormAction::Confirm | FormAction::Save => match self.plan() {
                    Ok(p) => {
                        self.confirmed = Some(p);
                        Outcome::changed().status(Status::info("Writing the plant…"))
                    }
                    Err(e) => {
                        // Only the plant's own fields can be wrong as a whole.
                        self.step = Step::Plant;
                        refuse_all(&mut self.plant, e)
                    }
                },
                FormAction::Cancel => self.go(Step::Parties),
                _ => Outcome::none(),
            };
        }
        let step = self.step;
        let Some(form) = self.form_mut() else {
            return Outcome::none();
        };
        match a {
            FormAction::Save => self.advance(),
            FormAction::Confirm => {
                if accept_pick(form) {
                    return Outcome::changed();
                }
                // Enter on an empty first field of a list step: that list is done.
                let first_empty = form.focus == 0
                    && form.fields.first().is_some_and(|f| f.opt().is_none())
                    && matches!(step, Step::Items | Step::Parties);
                if first_empty || form.slot() == Slot::Button {
                    return self.advance();
                }
                form.next(|_| false);
                Outcome::changed()
            }
            FormAction::Next => {
                form.next(|_| false);
                Outcome::changed()
            }
            FormAction::RemoveLine => self.skip(),
            FormAction::Cancel => {
                if let Some(f) = form.focused_mut()
                    && f.pick_open()
                {
                    f.pick_closed = true;
                    f.browse = false;
                    return Outcome::changed();
                }
                match step {
                    Step::Plant => Outcome::changed().status(Status::info(
                        "This is the first step; nothing is written until you confirm the review",
                    )),
                    Step::Qa => self.go(Step::Plant),
                    Step::Items => self.go(Step::Qa),
                    Step::Parties => self.go(Step::Items),
                    Step::Review => self.go(Step::Parties),
                }
            }
            FormAction::Clear => Outcome::none(),
            other => common(form, &other, |_| false).unwrap_or_default(),
        }
    }

    /// Skip an optional step: the QA users keep their default, a half-typed item or
    /// party is dropped.
    fn skip(&mut self) -> Outcome {
        match self.step {
            Step::Plant => Outcome::changed().status(Status::warn(
                "The plant's name is needed: the other steps may be skipped, this one not",
            )),
            Step::Qa => {
                self.qa = qa_form(&self.user);
                self.go(Step::Items)
            }
            Step::Items => {
                self.item = item_form();
                self.go(Step::Parties)
            }
            Step::Parties => {
                self.party = party_form();
                self.go(Step::Review)
            }
            Step::Review => Outcome::none(),
        }
    }

    /// Check the step in front and go on to the next.
    fn advance(&mut self) -> Outcome {
        match self.step {
            Step::Plant => {
                match setup::plant_checked(|k| match k {
                    "qa-users" => String::new(),
                    k => values(&self.plant)(k),
                }) {
                    Ok(_) => self.go(Step::Qa),
                    Err(e) => refuse_all(&mut self.plant, e.map(StationError::from)),
                }
            }
            Step::Qa => match setup::qa_users(self.qa.value("qa-users")) {
                Ok(_) => self.go(Step::Items),
                Err(mut e) => {
                    e.field = "qa-users".into();
                    refuse(&mut self.qa, &e.into())
                }
            },
            Step::Items => {
                if self.item.value("code").trim().is_empty()
                    && self.item.value("name").trim().is_empty()
                {
                    return self.go(Step::Parties);
                }
                // A code already in this setup is one more problem of the code field.
                let taken = ItemCode::parse(self.item.value("code").trim(), "code")
                    .and_then(|c| self.plan_so_far().check_item_code(&c));
                let checked = with_taken(setup::item_checked(values(&self.item)), taken);
                match checked {
                    Ok(i) => {
                        let msg = format!(
                            "Item {} will be added; type the next, or Enter on an empty code to go on",
                            i.code
                        );
                        self.items.push(i);
                        self.item = item_form();
                        Outcome::changed().status(Status::ok(msg))
                    }
                    Err(e) => refuse_all(&mut self.item, e),
                }
            }
            Step::Parties => {
                if self.party.value("id").trim().is_empty()
                    && self.party.value("name").trim().is_empty()
                {
                    return self.go(Step::Review);
                }
                let taken = PartyId::parse(self.party.value("id").trim(), "id")
                    .and_then(|id| self.plan_so_far().check_party_id(&id));
                let checked = with_taken(setup::party_checked(values(&self.party)), taken);
                match checked {
                    Ok(p) => {
                        let msg = format!(
                            "Party {} will be added; type the next, or Enter on an empty id to go on",
                            p.id
                        );
                        self.parties.push(p);
                        self.party = party_form();
                        Outcome::changed().status(Status::ok(msg))
                    }
                    Err(e) => refuse_all(&mut self.party, e),
                }
            }
            Step::Review => Outcome::none(),
        }
    }

    fn plan_so_far(&self) -> PlantSetup {
        PlantSetup {
            plant: Default::default(),
            items: self.items.clone(),
            parties: self.parties.clone(),
        }
    }

    // ---- drawing ----

    pub fn render(&self, buf: &mut Buffer, area: Rect, ui: &Ui) -> Option<Position> {
        if area.is_empty() {
            return None;
        }
        let key = |a: Action| {
            ui.keymap
                .key_for(&[Layer::Form], a)
                .map(|k| k.label())
                .unwrap_or_default()
        };
        let n = self.step.number();
        let title = match self.step {
            Step::Plant => format!("{n}/5 The plant: its FSMA location"),
            Step::Qa => format!("{n}/5 QA users"),
            Step::Items => format!("{n}/5 First items ({} so far)", self.items.len()),
            Step::Parties => format!(
                "{n}/5 First suppliers and customers ({} so far)",
                self.parties.len()
            ),
            Step::Review => format!("{n}/5 Review: nothing is written until you confirm"),
        };
        let notes: Vec<String> = match self.step {
            Step::Plant => vec![
                "Your plant as receipts, batches and shipments name it.".into(),
                format!(
                    "{}: next step.  C-c: quit, nothing written.",
                    key(Action::Save)
                ),
            ],
            Step::Qa => vec![
                "They hold, release and recall; without a roles file".into(),
                "they are also the admins who change items and parties.".into(),
                format!(
                    "{}: keep the default ({}).",
                    key(Action::RemoveLine),
                    self.user
                ),
            ],
            Step::Items => vec![
                format!(
                    "{}: add this item. Enter on an empty code: next step.",
                    key(Action::Save)
                ),
                format!(
                    "{}: skip. More later on F7 Items/Parties.",
                    key(Action::RemoveLine)
                ),
            ],
            Step::Parties => vec![
                format!(
                    "{}: add this party. Enter on an empty id: next step.",
                    key(Action::Save)
                ),
                format!(
                    "{}: skip. More later on F7 Items/Parties.",
                    key(Action::RemoveLine)
                ),
            ],
            Step::Review => Vec::new(),
        };
        let inner = draw::boxed(buf, area, &title, ui.theme);
        if inner.is_empty() {
            return None;
        }
        if self.step == Step::Review {
            self.render_review(buf, inner, ui, &key);
            return None;
        }
        let added: Vec<String> = match self.step {
            Step::Items => self
                .items
                .iter()
                .map(|i| format!("{} {} ({})", i.code, i.description.name, i.unit))
                .collect(),
            Step::Parties => self
                .parties
                .iter()
                .map(|p| format!("{} {} ({})", p.id, p.location.business_name, p.role))
                .collect(),
            _ => Vec::new(),
        };
        let form = self.form()?;
        let form_h = form
            .order
            .iter()
            .map(|s| match s {
                Slot::Field(_) if ui.compact => 2,
                _ => 1,
            })
            .sum::<u16>();
        // The form first (it scrolls when it does not fit); the notes and what was added
        // go under it where there is room. The footer and the status line say the rest.
        let form_rows = form_h.min(inner.height);
        let form_area = Rect::new(inner.x, inner.y, inner.width, form_rows);
        let below = notes.iter().chain(added.iter().rev().take(4));
        for (y, t) in (form_area.bottom() + 1..inner.bottom()).zip(below) {
            note_line(buf, inner, y, t, ui);
        }
        let button = match self.step {
            Step::Items => "Add item",
            Step::Parties => "Add party",
            _ => "Next",
        };
        render_plain_form(buf, form_area, form, Vec::new(), button, ui)
    }

    fn render_review(
        &self,
        buf: &mut Buffer,
        inner: Rect,
        ui: &Ui,
        key: &dyn Fn(Action) -> String,
    ) {
        let mut lines: Vec<(String, ratatui::style::Style)> = Vec::new();
        match self.plan() {
            Ok(p) => {
                for l in p.summary() {
                    lines.push((l, ui.theme.label));
                }
            }
            Err(e) => lines.push((e.first.to_string(), ui.theme.warn)),
        }
        lines.push((String::new(), ui.theme.label));
        lines.push((format!("into {}", self.db), ui.theme.dim));
        lines.push((
            format!(
                "{}: write it, one record at a time.  {}: back.",
                key(Action::Confirm),
                key(Action::Cancel)
            ),
            ui.theme.strong,
        ));
        let h = inner.height as usize;
        // The last lines (where it goes, how to confirm) always show; the summary is cut.
        let keep_tail = 3.min(h);
        let head = h - keep_tail;
        let n = lines.len();
        // Where the summary is cut, its last row says how much is not shown, rather
        // than the plan seeming shorter than it is.
        let cut = if n > h && head > 0 {
            Some((
                format!(
                    "{} {} more; a taller terminal shows all",
                    ui.theme.ellipsis(),
                    n - h + 1
                ),
                ui.theme.dim,
            ))
        } else {
            None
        };
        let shown: Vec<&(String, ratatui::style::Style)> = if n <= h {
            lines.iter().collect()
        } else {
            let keep = if cut.is_some() { head - 1 } else { head };
            lines[..keep]
                .iter()
                .chain(cut.iter())
                .chain(lines[n - keep_tail..].iter())
                .collect()
        };
        for (i, (t, s)) in shown.iter().enumerate() {
            put(
                buf,
                inner,
                inner.x,
                inner.y + i as u16,
                &draw::fit(t, inner.width as usize, ui.theme.ellipsis()),
                *s,
            );
        }
    }
}
