//! Ship: lots leave for a customer (FSMA shipping KDEs). Give the customer and reference,
//! then lots with quantities. Name an item to get the FEFO hint: its released lots with
//! stock, first to expire first. Held and recalled lots are refused; the running total
//! shows what is on the order.

use super::*;
use chrono::NaiveDate;
use lotline_domain::LotFilter;
use lotline_domain::scan::Scan;
use lotline_domain::{ItemCode, LotCode, NewReturn, NewShipment, PartyId, parse_past_date};
use lotline_station::{Station, StationExt};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShipAction {
    Form(FormAction),
    Refresh,
    /// Lots changed elsewhere: the FEFO hint is stale.
    LotsChanged,
    /// A lot label (ours, or a supplier's case) was scanned: add its line.
    Scan(Scan),
    /// Open the customer return form, or go back to the shipment.
    ToggleReturn,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipLine {
    pub lot: Lot,
    pub qty: Qty,
}

pub struct Ship {
    /// The form and its lines (the lot field "lot", the quantity "qty").
    pub entry: LineForm<ShipLine>,
    /// Released lots of the named item with stock, first to expire first.
    pub fefo: Vec<Lot>,
    /// The item the FEFO hint was loaded for.
    fefo_item: Option<ItemCode>,
    pub last: Option<String>,
    /// The event id of the shipment saved last, for its shipping KDEs.
    pub last_event: Option<u64>,
    /// The customer return form, when open instead of the shipment.
    pub returning: Option<Form>,
    /// The lot named on the return form, once found.
    return_lot: Option<Lot>,
}

/// Product back from a customer against a shipment: the shipment (its reference or
/// event id), the lot shipped, how much, and why.
fn return_form() -> Form {
    let mut form = Form::new(vec![
        Field::new("shipment", "Shipment")
            .placeholder("BOL:5521 or event id")
            .required(),
        Field::new("lot", "Lot")
            .placeholder("lot shipped")
            .required(),
        Field::new("qty", "Quantity").required(),
        Field::new("reason", "Reason").placeholder("why it came back"),
    ]);
    form.order = vec![
        Slot::Field(0),
        Slot::Field(1),
        Slot::Field(2),
        Slot::Field(3),
        Slot::Button,
    ];
    form
}

impl Default for Ship {
    fn default() -> Self {
        Ship::new()
    }
}

impl Ship {
    pub fn new() -> Ship {
        let [ref2, no_ref] = documents::more_fields("PO:7731");
        let mut form = Form::new(vec![
            Field::new("customer", "Customer")
                .placeholder("code or name")
                .required(),
            Field::new("ref", "Reference").placeholder("BOL:5521"),
            ref2,
            no_ref,
            Field::new("date", "Date").placeholder("YYYY-MM-DD"),
            Field::new("item", "Item").placeholder("for the FEFO hint"),
            Field::new("lot", "Lot").placeholder("type, scan or pick"),
            Field::new("qty", "Quantity"),
        ]);
        form.order = vec![
            Slot::Field(0),
            Slot::Field(1),
            Slot::Field(2),
            Slot::Field(3),
            Slot::Field(4),
            Slot::Lines,
            Slot::Field(5),
            Slot::Field(6),
            Slot::Field(7),
            Slot::Button,
        ];
        Ship {
            entry: LineForm::new(form, "lot", "qty"),
            fefo: Vec::new(),
            fefo_item: None,
            last: None,
            last_event: None,
            returning: None,
            return_lot: None,
        }
    }

    pub fn is_dirty(&self) -> bool {
        self.entry.form.is_dirty()
            || !self.entry.lines.is_empty()
            || self.returning.as_ref().is_some_and(|f| f.is_dirty())
    }

    pub fn update(&mut self, action: ShipAction, station: &dyn Station) -> Outcome {
        let out = match action {
            ShipAction::Refresh => self.refresh(station),
            ShipAction::LotsChanged => {
                self.fefo_item = None;
                Outcome::none()
            }
            ShipAction::ToggleReturn => self.toggle_return(),
            ShipAction::Form(a) if self.returning.is_some() => self.return_action(a, station),
            ShipAction::Scan(_) if self.returning.is_some() => Outcome::changed().status(
                Status::warn("lot: type the lot on the return form (scans add shipment lines)"),
            ),
            ShipAction::Form(a) => self.form_action(a, station),
            ShipAction::Scan(scan) => self.scan_line(&scan, station),
        };
        let hint = self.sync_fefo(station);
        match hint {
            Some(e) => Outcome {
                changed: true,
                events: out.events,
            }
            .status((&e).into()),
            None => out,
        }
    }

    fn toggle_return(&mut self) -> Outcome {
        if self.returning.take().is_some() {
            self.return_lot = None;
            return Outcome::changed().status(Status::info("Back to the shipment"));
        }
        self.returning = Some(return_form());
        Outcome::changed().status(Status::info(
            "Customer return: the shipment it came back from, the lot, the quantity; it comes in on hold",
        ))
    }

    fn return_action(&mut self, a: FormAction, station: &dyn Station) -> Outcome {
        let Some(form) = self.returning.as_mut() else {
            return Outcome::none();
        };
        match a {
            FormAction::Save => self.save_return(station),
            FormAction::Clear => {
                self.returning = Some(return_form());
                self.return_lot = None;
                Outcome::changed().status(Status::info("Return form cleared"))
            }
            FormAction::Confirm | FormAction::Next => {
                if form.slot() == Slot::Button {
                    return self.save_return(station);
                }
                if form.is_focused("lot") {
                    let found = LotCode::parse(form.value("lot"), "lot")
                        .map_err(StationError::from)
                        .and_then(|c| station.lot(c));
                    match found {
                        Ok(l) => {
                            form.get_mut("qty").placeholder = l.unit.to_string();
                            self.return_lot = Some(l);
                        }
                        Err(e) => {
                            self.return_lot = None;
                            return refuse(form, &e);
                        }
                    }
                }
                if let Some(f) = form.focused_mut() {
                    f.error = false;
                }
                form.next(|_| false);
                Outcome::changed()
            }
            other => common(form, &other, |_| false).unwrap_or_default(),
        }
    }

    fn save_return(&mut self, station: &dyn Station) -> Outcome {
        let Some(form) = self.returning.as_mut() else {
            return Outcome::none();
        };
        let today = match station.today() {
            Ok(t) => t,
            Err(e) => return Outcome::error(&e),
        };
        let mut c = Checks::new();
        if form.get("shipment").opt().is_none() {
            c.push(invalid(
                "shipment",
                "give the shipment's reference (BOL:5521) or event id",
            ));
        }
        let lot = c.take(LotCode::parse(form.value("lot"), "lot"));
        let qty = c.take(
            form.value("qty")
                .trim()
                .parse()
                .map_err(|e: lotline_domain::QtyParseError| invalid("qty", e.0)),
        );
        let request = c.finish(|| {
            Some(NewReturn {
                shipment: form.value("shipment").trim().to_string(),
                lot: lot?,
                qty: qty?,
                unit: None,
                date: today,
                reason: form.value("reason").trim().to_string(),
                reference: None,
            })
        });
        let r = match request {
            Ok(r) => r,
            Err(e) => return refuse_all(form, e),
        };
        match station.return_goods(r.clone()) {
            Ok(created) => {
                let unit = self
                    .return_lot
                    .as_ref()
                    .map(|l| l.unit.to_string())
                    .unwrap_or_default();
                let msg = format!(
                    "Returned {} {unit} of {} into lot {}, ON HOLD until QA releases it",
                    r.qty, r.lot, created.code
                );
                self.last = Some(format!("return {} → {}", r.lot, created.code));
                self.returning = None;
                self.return_lot = None;
                Outcome::changed()
                    .status(saved(msg))
                    .with(InternalEvent::LotsChanged)
            }
            Err(e) => refuse(form, &e),
        }
    }

    fn refresh(&mut self, station: &dyn Station) -> Outcome {
        let loaded = (|| -> Result<_, StationError> {
            Ok((station.items()?, station.parties()?, station.today()?))
        })();
        match loaded {
            Ok((items, parties, today)) => {
                self.entry.form.get_mut("customer").candidates =
                    party_candidates(&parties, Role::buys);
                let mut finished = items.clone();
                finished.sort_by_key(|i| (i.kind != lotline_domain::ItemKind::Finished) as u8);
                self.entry.form.get_mut("item").candidates = item_candidates(&finished);
                self.entry.refreshed(items, today);
                self.fefo_item = None;
                Outcome::changed()
            }
            Err(e) => Outcome::error(&e),
        }
    }

    /// Load the FEFO hint when the item field names a different item than last time.
    fn sync_fefo(&mut self, station: &dyn Station) -> Option<StationError> {
        let want = self.entry.item().map(|i| i.code.clone());
        if want == self.fefo_item {
            self.apply_fefo();
            return None;
        }
        self.fefo_item = want.clone();
        self.fefo.clear();
        let Some(item) = want else {
            self.apply_fefo();
            return None;
        };
        match station.lots(LotFilter {
            item: Some(item),
            status: Some(LotStatus::Released),
            on_hand: true,
            ..Default::default()
        }) {
            Ok(mut lots) => {
                lots.sort_by(|a, b| {
                    (a.expiry.is_none(), a.expiry, a.date, a.id).cmp(&(
                        b.expiry.is_none(),
                        b.expiry,
                        b.date,
                        b.id,
                    ))
                });
                self.fefo = lots;
                self.apply_fefo();
                None
            }
            Err(e) => Some(e),
        }
    }

    /// What is left of a lot after the lines already on this order.
    fn left(&self, lot: &Lot) -> Qty {
        let on_order: Qty = self
            .entry
            .lines
            .iter()
            .filter(|l| l.lot.id == lot.id)
            .map(|l| l.qty)
            .sum();
        lot.balance - on_order
    }

    /// The lot field's pick list is the FEFO hint, less what is already on the order.
    fn apply_fefo(&mut self) {
        let cands: Vec<Candidate> = self
            .fefo
            .iter()
            .filter(|l| self.left(l).is_positive())
            .map(|l| {
                let exp = l
                    .expiry
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "no expiry".into());
                Candidate::new(
                    l.code.as_str(),
                    format!("{exp} {} {}", self.left(l), l.unit),
                )
            })
            .collect();
        self.entry.form.get_mut("lot").candidates = cands;
    }

    /// The shipment the form describes, or every problem with it (see `refuse_all`).
    fn shipment(&mut self, today: NaiveDate) -> Result<NewShipment, Refused<StationError>> {
        let mut c = Checks::new();
        if let Some(t) = self.entry.form.get("lot").opt() {
            c.push(invalid(
                "lot",
                format!("press Enter to add lot {t} (or clear the field) before shipping"),
            ));
        }
        if self.entry.form.get("customer").opt().is_none() {
            c.push(invalid("customer", "customer is required"));
        }
        c.take(check_choice(
            self.entry.form.get_mut("customer"),
            "customer",
            true,
        ));
        if self.entry.lines.is_empty() {
            c.push(invalid("lot", "add at least one lot to ship"));
        }
        let f = &self.entry.form;
        let opt = |n: &str| f.get(n).opt().map(str::to_string);
        let customer = c.take(PartyId::parse(f.value("customer"), "customer"));
        let date = c.take(parse_past_date(
            opt("date").as_deref().unwrap_or("today"),
            "date",
            today,
        ));
        let (reference, docs) = documents::read(f, &mut c);
        c.finish(|| {
            Some(NewShipment {
                allow_expired: false,
                customer: customer?,
                date: date?,
                reference: reference?,
                documents: docs?,
                lines: self.entry.lot_lines(),
            })
        })
    }

    fn reset(&mut self) {
        for f in &mut self.entry.form.fields {
            if f.name == "date" {
                let v = f.initial.clone();
                f.reset_to(&v);
            } else {
                f.reset_to("");
            }
        }
        self.entry.clear_lines();
        self.entry.form.focus_field("customer");
    }

    fn notes(&self, ui: &Ui) -> Vec<(&'static str, String)> {
        let mut notes = Vec::new();
        if !ui.compact {
            if let Some(c) = self.entry.form.get("customer").exact() {
                notes.push(("customer", c.label.clone()));
            }
            if let Some(i) = self.entry.item() {
                notes.push(("item", i.description.name.clone()));
            }
        }
        if let Some(l) = &self.entry.preview {
            let exp = l
                .expiry
                .map(|d| format!("exp {d}"))
                .unwrap_or_else(|| "no expiry".into());
            let text = if ui.compact {
                format!("{} {}{}", l.item, self.left(l), l.unit)
            } else {
                format!(
                    "{}{}{} {}{}{exp}",
                    l.item,
                    ui.theme.dot(),
                    self.left(l),
                    l.unit,
                    ui.theme.dot()
                )
            };
            notes.push(("lot", text));
            notes.push(("qty", l.unit.to_string()));
        }
        notes
    }

    fn render_lines(&self, buf: &mut Buffer, area: Rect, ui: &Ui) {
        let n = self.entry.lines.len();
        let head = if n == 0 {
            "On this order: nothing yet".to_string()
        } else {
            format!(
                "On this order: {n} lot{}, total {}",
                if n == 1 { "" } else { "s" },
                self.entry.total()
            )
        };
        let text = |i: usize, l: &ShipLine, _: usize| {
            if ui.compact {
                return format!("{:>2} {} {} {}", i + 1, l.lot.code, l.qty, l.lot.unit);
            }
            let exp = expiry_text(&l.lot);
            format!(
                "{:>2} {} {} {} {exp}",
                i + 1,
                draw::pad(l.lot.code.as_str(), 11),
                draw::pad(l.lot.item.as_str(), 9),
                draw::rpad(&format!("{} {}", l.qty, l.lot.unit), 9),
            )
        };
        self.entry
            .render_lines(buf, area, ui, &head, text, |_| false);
    }

    /// The FEFO hint: lots of the item, first to expire first.
    fn render_fefo(&self, buf: &mut Buffer, area: Rect, ui: &Ui) {
        let f = self.entry.form.get("lot");
        let title = match &self.fefo_item {
            Some(i) => format!("FEFO {i}"),
            None => "FEFO hint".to_string(),
        };
        let inner = draw::boxed(buf, area, &title, ui.theme);
        if inner.is_empty() {
            return;
        }
        if self.fefo_item.is_none() {
            note_line(buf, inner, inner.y, "Name an item to see its", ui);
            note_line(buf, inner, inner.y + 1, "released lots, first to", ui);
            note_line(buf, inner, inner.y + 2, "expire first. Down on the", ui);
            note_line(buf, inner, inner.y + 3, "Lot field picks from them.", ui);
            return;
        }
        let m = f.matches();
        if m.is_empty() {
            note_line(buf, inner, inner.y, "No released lot with stock.", ui);
            return;
        }
        let picking = ui.editing && self.entry.form.is_focused("lot") && f.pick_open();
        let sel = f.pick.min(m.len() - 1);
        let h = inner.height as usize;
        let start = if picking {
            sel.saturating_sub(h.saturating_sub(1))
        } else {
            0
        };
        // More lots than fit: Down on the Lot field scrolls through them all.
        draw::more(buf, area, start, h, m.len(), None, ui.theme);
        for (row, (i, c)) in m.iter().enumerate().skip(start).take(h).enumerate() {
            let style = if picking && i == sel {
                ui.theme.selected
            } else {
                ui.theme.label
            };
            let t = draw::pad(&format!("{} {}", c.value, c.label), inner.width as usize);
            put(buf, inner, inner.x, inner.y + row as u16, &t, style);
        }
    }

    /// The return form: fields on the left, what it will do on the right.
    fn render_return(
        &self,
        form: &Form,
        buf: &mut Buffer,
        area: Rect,
        ui: &Ui,
    ) -> Option<Position> {
        let mut notes = Vec::new();
        if let Some(l) = &self.return_lot {
            notes.push(("lot", format!("{} {}", l.item, l.unit)));
            notes.push(("qty", l.unit.to_string()));
        }
        let view = FormView {
            form,
            notes,
            button: "Record return",
            box_w: 18,
        };
        if ui.compact {
            return render_compact_with_lines(form, 0, buf, area, &view, ui, |_, _| {});
        }
        let (left, right) = form_columns(area);
        let inner = draw::boxed(buf, left, "Customer return", ui.theme);
        let mut cursor = None;
        for (y, s) in [
            (0, Slot::Field(0)),
            (1, Slot::Field(1)),
            (2, Slot::Field(2)),
            (3, Slot::Field(3)),
            (5, Slot::Button),
        ] {
            let r = draw::row(inner, y);
            if r.height > 0
                && let Some(c) = view.draw_slot(buf, r, s, ui)
            {
                cursor = Some(c);
            }
        }
        if right.width >= 10 {
            let inner = draw::boxed(buf, right, "What happens", ui.theme);
            for (i, t) in [
                "The goods come into a new",
                "lot (the shipped lot's code",
                "plus -R1), ON HOLD, linked",
                "to the shipped lot: traces",
                "and recalls find it. Only",
                "what is left of that",
                "shipment can come back.",
            ]
            .iter()
            .enumerate()
            {
                if (i as u16) < inner.height {
                    note_line(buf, inner, inner.y + i as u16, t, ui);
                }
            }
        }
        cursor
    }

    pub fn render(&self, buf: &mut Buffer, area: Rect, ui: &Ui) -> Option<Position> {
        if area.is_empty() {
            return None;
        }
        if let Some(form) = &self.returning {
            return self.render_return(form, buf, area, ui);
        }
        let view = FormView {
            form: &self.entry.form,
            notes: self.notes(ui),
            button: "Ship",
            box_w: 18,
        };
        if ui.compact {
            let lines = |buf: &mut Buffer, r| self.render_lines(buf, r, ui);
            return self.entry.render_compact(buf, area, &view, ui, lines);
        }
        let (left, right) = form_columns(area);
        let title = match &self.last {
            Some(l) => format!("Shipment (last: {l})"),
            None => "Shipment".into(),
        };
        let inner = draw::boxed(buf, left, &title, ui.theme);
        // Customer, references and date above the lines; item, lot and quantity below.
        let cursor = super::lines::render_full_with_lines(buf, inner, &view, ui, 5, |buf, r| {
            self.render_lines(buf, r, ui)
        });
        if right.width >= 10 {
            let focused_pick = ui.editing
                && self
                    .entry
                    .form
                    .focused()
                    .is_some_and(|f| f.pick_open() && f.name != "lot");
            if focused_pick {
                draw_pick(buf, right, &self.entry.form, ui);
            } else {
                self.render_fefo(buf, right, ui);
            }
        }
        cursor
    }
}

impl EntryLine for ShipLine {
    fn lot_qty(&self) -> (&Lot, Qty) {
        (&self.lot, self.qty)
    }
}

impl LineEntry for Ship {
    type Line = ShipLine;
    const CHOICES: &'static [&'static str] = &["customer", "item"];
    const NO_LOT: &'static str = "type, scan or pick a lot to ship";
    const AFTER_LOTS: Slot = Slot::Button;

    fn entry(&mut self) -> &mut LineForm<ShipLine> {
        &mut self.entry
    }

    /// Find the lot typed in the lot field; show it, or say why it cannot be shipped.
    fn look_up(&mut self, station: &dyn Station) -> Outcome {
        let found = (|| -> Result<Lot, StationError> {
            let code = LotCode::parse(self.entry.form.value("lot"), "lot")?;
            let lot = station.lot(code)?;
            if let Some(e) = unusable(&lot, "lot") {
                return Err(e);
            }
            if !self.left(&lot).is_positive() {
                return Err(invalid(
                    "lot",
                    format!("all of lot {} is already on this order", lot.code),
                ));
            }
            Ok(lot)
        })();
        match found {
            Ok(lot) => {
                self.entry.today = station.today().ok().or(self.entry.today);
                let left = self.left(&lot);
                let mut status = Status::info(format!(
                    "Lot {}: {} with {} {} to ship; enter the quantity",
                    lot.code, lot.item, left, lot.unit
                ));
                // Not the first to expire? Say which is.
                if let Some(first) = self
                    .fefo
                    .iter()
                    .find(|l| self.left(l).is_positive())
                    .filter(|f| {
                        f.item == lot.item
                            && f.id != lot.id
                            && f.expiry < lot.expiry
                            && f.expiry.is_some()
                    })
                {
                    status = Status::warn(format!(
                        "lot: {} expires first ({}); FEFO would ship it before {}",
                        first.code,
                        first.expiry.map(|d| d.to_string()).unwrap_or_default(),
                        lot.code
                    ));
                }
                if self.entry.form.get("item").opt().is_none() {
                    self.entry.form.get_mut("item").set(lot.item.as_str());
                }
                let out = self.entry.found(lot, left, status);
                self.entry.form.get_mut("lot").pick_closed = true;
                out
            }
            Err(e) => self.entry.not_found(&e),
        }
    }

    fn add_line(&mut self, station: &dyn Station) -> Outcome {
        let lot = match self.lot_to_add(station, "type, scan or pick a lot first") {
            Ok(lot) => lot,
            Err(out) => return out,
        };
        let mut left = lot.clone();
        left.balance = self.left(&lot);
        let qty = match self.entry.qty_from(&left) {
            Ok(q) => q,
            Err(out) => return out,
        };
        let n = self.entry.lines.len() + 1;
        self.entry.push(ShipLine {
            lot: lot.clone(),
            qty,
        });
        self.apply_fefo();
        Outcome::changed().status(Status::ok(format!(
            "Line {n}: {} {} {} {}; total {}",
            lot.code,
            lot.item,
            qty,
            lot.unit,
            self.entry.total()
        )))
    }

    fn save(&mut self, station: &dyn Station) -> Outcome {
        let today = match station.today() {
            Ok(t) => t,
            Err(e) => return Outcome::error(&e),
        };
        let s = match self.shipment(today) {
            Ok(s) => s,
            Err(e) => return refuse_all(&mut self.entry.form, e),
        };
        let total = self.entry.total();
        match station.ship(s.clone()) {
            Ok(event) => {
                let n = s.lines.len();
                let msg = format!(
                    "Shipped {n} lot{} ({total}) to {}{}: event {event}",
                    if n == 1 { "" } else { "s" },
                    s.customer,
                    s.reference
                        .as_ref()
                        .map(|r| format!(" on {r}"))
                        .unwrap_or_default()
                );
                self.last = Some(format!("{} {total} (event {event})", s.customer));
                self.last_event = Some(event);
                self.reset();
                self.fefo_item = None;
                Outcome::changed()
                    .status(saved(msg))
                    .with(InternalEvent::LotsChanged)
            }
            Err(e) => self.entry.refuse_line(&e),
        }
    }

    fn clear(&mut self) -> Outcome {
        self.reset();
        Outcome::changed().status(Status::info("Shipment form cleared"))
    }

    fn remove_line(&mut self) -> Outcome {
        let out = self.entry.remove_line();
        self.apply_fefo();
        out
    }
}
