//! Receive: a supplier's case at the dock becomes one of our lots (FSMA receiving KDEs).
//! After a save the form keeps the supplier, reference and date: one truck, many cases.

use super::*;
use chrono::NaiveDate;
use lotline_domain::NewReceipt;
use lotline_domain::scan::Scan;
use lotline_domain::{
    Inspection, ItemCode, LotCode, PartyId, Quality, SupplierLot, clean_text, format_temperature,
    parse_date, parse_past_date, parse_temperature, parse_tlc_source_ref,
};
use lotline_station::case_label::{self, CaseLabel};
use lotline_station::{Station, StationExt};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiveAction {
    Form(FormAction),
    /// Load items, suppliers and today's date from the station.
    Refresh,
    /// A supplier's case label was scanned: fill the form from it.
    Scan(Scan),
}

/// The last case saved, shown until the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub code: LotCode,
    pub item: ItemCode,
    pub name: String,
    pub qty: Qty,
    pub unit: Unit,
    pub supplier: PartyId,
    pub supplier_lot: String,
    pub expiry: Option<NaiveDate>,
    pub temp: Option<i32>,
}

pub struct Receive {
    pub form: Form,
    items: Vec<Item>,
    parties: Vec<Party>,
    pub last: Option<Saved>,
    /// The scanned label's GS1 elements the form has no field for (harvest date, origin…):
    /// saved with the receipt, and dropped with the case (a new scan or a cleared form).
    pub label: Vec<lotline_domain::LabelElement>,
}

impl Default for Receive {
    fn default() -> Self {
        Receive::new()
    }
}

impl Receive {
    pub fn new() -> Receive {
        let mut inspection = Field::new("inspection", "Inspection").placeholder("pass / fail");
        inspection.candidates = vec![
            Candidate::new("pass", "accepted"),
            Candidate::new("fail", "rejected"),
        ];
        let [ref2, no_ref] = documents::more_fields("PO:88123");
        let form = Form::new(vec![
            Field::new("item", "Item")
                .placeholder("code or name")
                .required(),
            Field::new("supplier", "Supplier")
                .placeholder("code or name")
                .required(),
            Field::new("supplier-lot", "Supplier lot")
                .placeholder("as on the label")
                .required(),
            Field::new("qty", "Quantity")
                .placeholder("such as 25")
                .required(),
            Field::new("unit", "Unit"),
            Field::new("date", "Date").placeholder("YYYY-MM-DD"),
            Field::new("expiry", "Expiry").placeholder("YYYY-MM-DD"),
            Field::new("ref", "Reference").placeholder("BOL:4471"),
            ref2,
            no_ref,
            Field::new("temp", "Temp (C)").placeholder("such as 3.5"),
            inspection,
            Field::new("note", "Note"),
            // Last: most cases come straight from the packer and leave it empty.
            Field::new("tlc-source", "TLC source").placeholder("packer GLN/FEI"),
        ]);
        Receive {
            form,
            items: Vec::new(),
            parties: Vec::new(),
            last: None,
            label: Vec::new(),
        }
    }

    /// The item the item field names exactly, if any.
    fn item(&self) -> Option<&Item> {
        let v = self.form.value("item").trim();
        self.items
            .iter()
            .find(|i| i.code.as_str().eq_ignore_ascii_case(v))
    }

    /// Keep the unit field's choices in step with the chosen item.
    pub(crate) fn sync(&mut self) {
        let (cands, ph) = match self.item() {
            Some(i) => (
                i.unit
                    .compatible()
                    .into_iter()
                    .map(|u| {
                        let note = if u == i.unit {
                            "the item's unit"
                        } else {
                            "converted"
                        };
                        Candidate::new(u.as_str(), note)
                    })
                    .collect(),
                i.unit.as_str().to_string(),
            ),
            None => (Vec::new(), String::new()),
        };
        let unit = self.form.get_mut("unit");
        unit.candidates = cands;
        unit.placeholder = ph;
    }

    pub fn update(&mut self, action: ReceiveAction, station: &dyn Station) -> Outcome {
        let out = match action {
            ReceiveAction::Refresh => self.refresh(station),
            ReceiveAction::Form(a) => self.form_action(a, station),
            ReceiveAction::Scan(scan) => self.scan(&scan, station),
        };
        self.sync();
        out
    }

    /// A scan in the form. A supplier's GS1 case label fills item (by GTIN), supplier (by
    /// the (412) GLN, when there), TLC source (the (416) production-location GLN, when
    /// there), supplier lot (10), expiry (17, else 15) and quantity
    /// ((37), or the net weight in kg or lb for the unit field to convert) and leaves the
    /// cursor on the first empty required field, or on Save. Plain text does what the
    /// scanner's keys would have done: typed into the field, then Enter.
    fn scan(&mut self, scan: &Scan, station: &dyn Station) -> Outcome {
        if let Scan::Plain { text, .. } = scan {
            if self.form.focused().is_none() {
                return Outcome::changed().status(Status::warn(format!(
                    "scan: {} is not a GS1 case label; put the cursor in the field it belongs in",
                    lotline_domain::text::excerpt(text)
                )));
            }
            self.form_action(FormAction::Paste(text.clone()), station);
            return self.form_action(FormAction::Confirm, station);
        }
        // What the label gives a receipt: the same reading as `lotline receive --scan`.
        let label = CaseLabel::read(scan, &self.items, &self.parties);
        if label.is_empty() {
            return Outcome::changed().status(Status::warn(format!(
                "scan: {}",
                case_label::nothing_for_a_receipt(scan)
            )));
        }
        let mut problem: Option<StationError> = None;
        let mut filled: Vec<String> = Vec::new();
        if let Some(g) = &label.gtin {
            // A new case: nothing of the last one may stay behind.
            self.label.clear();
            for f in [
                "item",
                "supplier-lot",
                "qty",
                "unit",
                "expiry",
                "tlc-source",
            ] {
                self.form.get_mut(f).set("");
            }
            match &label.item {
                Some(code) => {
                    let f = self.form.get_mut("item");
                    f.set(code.as_str());
                    f.pick_closed = true;
                    filled.push(code.to_string());
                }
                None => {
                    problem = Some(invalid(
                        "item",
                        format!(
                            "the scanned GTIN {g} is not on any item; type the item, or add the GTIN with `lotline item add … --gtin {g}`"
                        ),
                    ));
                }
            }
        }
        if let Some(gln) = &label.supplier_gln {
            match &label.supplier {
                Some(id) => {
                    let f = self.form.get_mut("supplier");
                    f.set(id.as_str());
                    f.pick_closed = true;
                    filled.push(format!("from {id}"));
                }
                None if label.gln_suppliers.len() > 1 => filled.push(format!(
                    "(GLN {gln} is that of suppliers {}: pick one)",
                    label
                        .gln_suppliers
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                None => filled.push(format!("(GLN {gln} is no supplier of ours)")),
            }
        }
        if let (Some(g), Some(source)) = (&label.source_gln, label.tlc_source()) {
            self.form.get_mut("tlc-source").set(&source);
            filled.push(format!("packed at GLN {g}"));
        }
        if let Some(l) = &label.supplier_lot {
            self.form.get_mut("supplier-lot").set(l);
            filled.push(format!("lot {l}"));
        }
        if let Some(d) = label.expiry {
            self.form.get_mut("expiry").set(&d.to_string());
            filled.push(format!("expires {d}"));
        }
        // The quantity is read for the item in the form: the scanned one, or one typed
        // before a label with no GTIN was scanned.
        match case_label::quantity(scan, self.item()) {
            Ok(Some((qty, unit))) => {
                self.form.get_mut("qty").set(&qty.to_string());
                self.form
                    .get_mut("unit")
                    .set(unit.map(|u| u.as_str()).unwrap_or(""));
                let shown = match unit.or(self.item().map(|i| i.unit)) {
                    Some(u) => format!("{qty} {u}"),
                    None => qty.to_string(),
                };
                filled.push(shown);
            }
            Ok(None) => {}
            Err(e) => {
                problem.get_or_insert(invalid(
                    &e.field,
                    format!("{}; type the quantity", e.problem),
                ));
            }
        }
        if let Some(e) = problem {
            return refuse(&mut self.form, &e);
        }
        // The rest of the label is kept with the receipt; a second symbol of the same case
        // (the batch on its own barcode) adds to it.
        for e in label.kept {
            if let Some(old) = self.label.iter_mut().find(|k| k.ai == e.ai) {
                *old = e;
            } else {
                self.label.push(e);
            }
        }
        if !self.label.is_empty() {
            let ais: Vec<String> = self.label.iter().map(|e| format!("({})", e.ai)).collect();
            filled.push(format!("keeping {}", ais.join("")));
        }
        for f in &mut self.form.fields {
            f.error = false;
        }
        let next = match self.form.missing().map(|f| (f.name, f.label)) {
            Some((name, label)) => {
                self.form.focus_field(name);
                format!("{} next", label.to_lowercase())
            }
            None => {
                self.form.focus_slot(Slot::Button);
                "Enter saves".into()
            }
        };
        Outcome::changed().status(Status::ok(format!("Scanned {}; {next}", filled.join(", "))))
    }

    fn refresh(&mut self, station: &dyn Station) -> Outcome {
        let loaded = (|| -> Result<_, StationError> {
            Ok((station.items()?, station.parties()?, station.today()?))
        })();
        match loaded {
            Ok((items, parties, today)) => {
                self.form.get_mut("item").candidates = item_candidates(&items);
                self.form.get_mut("supplier").candidates =
                    party_candidates(&parties, Role::supplies);
                self.items = items;
                self.parties = parties;
                let date = self.form.get_mut("date");
                if !date.is_dirty() {
                    date.reset_to(&today.to_string());
                }
                Outcome::changed()
            }
            Err(e) => Outcome::error(&e),
        }
    }

    fn form_action(&mut self, a: FormAction, station: &dyn Station) -> Outcome {
        if let Some(out) = common(&mut self.form, &a, |_| false) {
            return out;
        }
        match a {
            FormAction::Next => {
                if self.form.focused().is_some_and(|f| f.opt().is_some()) {
                    accept_pick(&mut self.form);
                }
                self.form.next(|_| false);
                Outcome::changed()
            }
            FormAction::Confirm => self.confirm(station),
            FormAction::Save => self.save(station),
            FormAction::Clear => {
                self.clear(false);
                Outcome::changed().status(Status::info("Receive form cleared"))
            }
            _ => Outcome::none(),
        }
    }

    /// Enter: take the pick, check a code field, go on; on the button, save.
    fn confirm(&mut self, station: &dyn Station) -> Outcome {
        if self.form.slot() == Slot::Button {
            return self.save(station);
        }
        accept_pick(&mut self.form);
        if let Some(f) = self.form.focused_mut() {
            let what = match f.name {
                "item" => Some("item"),
                "supplier" => Some("supplier"),
                "unit" => Some("unit"),
                "inspection" => Some("result"),
                _ => None,
            };
            if let Some(what) = what
                && let Err(e) = check_choice(f, what, what != "unit")
            {
                return refuse(&mut self.form, &e);
            }
            f.error = false;
        }
        self.form.next(|_| false);
        Outcome::changed()
    }

    /// The receipt the form describes, or every problem with it (see `refuse_all`).
    fn receipt(&mut self, today: NaiveDate) -> Result<NewReceipt, Refused<StationError>> {
        let mut c = Checks::new();
        for f in self.form.missing_all() {
            c.push(invalid(
                f.name,
                format!("{} is required", f.label.to_lowercase()),
            ));
        }
        for (name, what) in [
            ("item", "item"),
            ("supplier", "supplier"),
            ("unit", "unit"),
            ("inspection", "result"),
        ] {
            c.take(check_choice(self.form.get_mut(name), what, what != "unit"));
        }
        let f = &self.form;
        let opt = |n: &str| f.get(n).opt().map(str::to_string);
        let inspection = c.take(match opt("inspection").map(|s| s.to_ascii_lowercase()) {
            None => Ok(None),
            Some(s) if s == "pass" => Ok(Some(Inspection::Pass)),
            Some(s) if s == "fail" => Ok(Some(Inspection::Fail)),
            Some(s) => Err(invalid(
                "inspection",
                format!(
                    "{} is not a result; accepted: pass, fail",
                    lotline_domain::text::excerpt(s)
                ),
            )),
        });
        let item = c.take(ItemCode::parse(f.value("item"), "item"));
        let supplier = c.take(PartyId::parse(f.value("supplier"), "supplier"));
        let supplier_lot = c.take(SupplierLot::parse(f.value("supplier-lot"), "supplier-lot"));
        let qty = c.take(Qty::parse_positive(f.value("qty"), "qty"));
        let unit = c.take(
            opt("unit")
                .map(|u| u.parse::<Unit>().map_err(|e| invalid("unit", e)))
                .transpose(),
        );
        let date = c.take(parse_past_date(
            opt("date").as_deref().unwrap_or("today"),
            "date",
            today,
        ));
        let expiry = c.take(
            opt("expiry")
                .map(|d| parse_date(&d, "expiry", today))
                .transpose(),
        );
        let (reference, docs) = documents::read(f, &mut c);
        let temperature_dc = c.take(
            opt("temp")
                .map(|t| parse_temperature(&t, "temp"))
                .transpose(),
        );
        let note = c.take(clean_text(f.value("note"), "note", 200));
        let tlc_source_ref = c.take(parse_tlc_source_ref(f.value("tlc-source"), "tlc-source"));
        c.finish(|| {
            Some(NewReceipt {
                item: item?,
                supplier: supplier?,
                supplier_lot: supplier_lot?,
                qty: qty?,
                unit: unit?,
                date: date?,
                expiry: expiry?,
                reference: reference?,
                documents: docs?,
                quality: Quality {
                    temperature_dc: temperature_dc?,
                    inspection: inspection?,
                    note: note?,
                },
                tlc_source_ref: tlc_source_ref?,
            })
        })
    }

    fn save(&mut self, station: &dyn Station) -> Outcome {
        let today = match station.today() {
            Ok(t) => t,
            Err(e) => return Outcome::error(&e),
        };
        let receipt = match self.receipt(today) {
            Ok(r) => r,
            Err(e) => return refuse_all(&mut self.form, e),
        };
        let name = self
            .item()
            .map(|i| i.description.name.clone())
            .unwrap_or_default();
        let item_unit = self.item().map(|i| i.unit);
        let done = if self.label.is_empty() {
            station.receive(receipt.clone())
        } else {
            station.receive_scanned(lotline_domain::ScannedReceipt {
                receipt: receipt.clone(),
                label: self.label.clone(),
            })
        };
        match done {
            Ok(created) => {
                let unit = item_unit.unwrap_or(Unit::Kg);
                let qty = match receipt.unit {
                    Some(u) => u.convert(receipt.qty, unit).unwrap_or(receipt.qty),
                    None => receipt.qty,
                };
                let saved = Saved {
                    code: created.code.clone(),
                    item: receipt.item.clone(),
                    name,
                    qty,
                    unit,
                    supplier: receipt.supplier.clone(),
                    supplier_lot: receipt.supplier_lot.to_string(),
                    expiry: receipt.expiry,
                    temp: receipt.quality.temperature_dc,
                };
                let msg = format!(
                    "Received {}: {} {} {} from {} lot {}",
                    saved.code,
                    saved.item,
                    saved.qty,
                    saved.unit,
                    saved.supplier,
                    saved.supplier_lot
                );
                self.last = Some(saved);
                // Keep the references as the station understood them: `bol:1` → `BOL:1`.
                if let Some(r) = &receipt.reference {
                    self.form.get_mut("ref").set(&r.to_string());
                }
                if let Some(r) = &receipt.documents.second {
                    self.form.get_mut("ref2").set(&r.to_string());
                }
                self.clear(true);
                // A failed dock check held the lot: say so, and why, where the clerk looks.
                let status = match &created.hold {
                    Some(why) => Status::warn(format!(
                        "Received {} ON HOLD: {why}; QA must release it",
                        created.code
                    )),
                    None => saved_status(msg),
                };
                Outcome::changed()
                    .status(status)
                    .with(InternalEvent::LotsChanged)
            }
            Err(e) => refuse(&mut self.form, &e),
        }
    }

    /// Empty the form for the next case; `keep_truck` keeps supplier, references and date.
    fn clear(&mut self, keep_truck: bool) {
        self.label.clear();
        let keep = ["supplier", "ref", "ref2", "no-ref", "date"];
        for f in &mut self.form.fields {
            if keep_truck && keep.contains(&f.name) {
                let v = f.value().to_string();
                f.reset_to(&v);
            } else if f.name == "date" {
                let v = f.initial.clone();
                f.reset_to(&v);
            } else {
                f.reset_to("");
            }
            f.error = false;
        }
        self.form.focus_field("item");
    }

    pub fn is_dirty(&self) -> bool {
        self.form.is_dirty()
    }

    /// "Last saved" from the station's records, on return: the clerk's last receipt here.
    pub fn last_from(&mut self, l: &lotline_domain::LastSaved, station: &dyn Station) {
        let (lotline_domain::EventKind::Receive(r), Some(lot)) = (&l.event.kind, l.lots.first())
        else {
            return;
        };
        let name = station
            .item(r.item.clone())
            .map(|i| i.description.name)
            .unwrap_or_default();
        let (qty, unit) = r.as_received.map_or((r.qty, r.unit), |c| (c.qty, c.unit));
        self.last = Some(Saved {
            code: lot.code.clone(),
            item: r.item.clone(),
            name,
            qty,
            unit,
            supplier: r.supplier.clone(),
            supplier_lot: r.supplier_lot.to_string(),
            expiry: r.expiry,
            temp: r.quality.temperature_dc,
        });
    }

    fn notes(&self, compact: bool) -> Vec<(&'static str, String)> {
        let mut notes = Vec::new();
        if let Some(i) = self.item() {
            notes.push((
                "item",
                if compact {
                    String::new()
                } else {
                    i.description.name.clone()
                },
            ));
            notes.push(("qty", i.unit.to_string()));
        }
        let sup = self.form.get("supplier");
        if !compact && let Some(c) = sup.exact() {
            notes.push(("supplier", c.label.clone()));
        }
        notes
    }

    pub fn render(&self, buf: &mut Buffer, area: Rect, ui: &Ui) -> Option<Position> {
        if area.is_empty() {
            return None;
        }
        let view = FormView {
            form: &self.form,
            notes: self.notes(ui.compact),
            button: "Save",
            box_w: 18,
        };
        if ui.compact {
            return self.render_compact(buf, area, &view, ui);
        }
        let (left, right) = form_columns(area);
        let inner = draw::boxed(buf, left, "Receive a case", ui.theme);
        let mut cursor = None;
        for (i, s) in self.form.order.iter().enumerate() {
            let y = if *s == Slot::Button {
                i as u16 + 1
            } else {
                i as u16
            };
            let r = draw::row(inner, y);
            if r.height == 0 {
                continue;
            }
            if let Some(c) = view.draw_slot(buf, r, *s, ui) {
                cursor = Some(c);
            }
        }
        if right.width >= 10 {
            let pick_h = right.height.saturating_sub(8).max(3);
            let top = Rect::new(right.x, right.y, right.width, pick_h.min(right.height));
            let bottom = Rect::new(
                right.x,
                right.y + top.height,
                right.width,
                right.height - top.height,
            );
            if ui.editing && self.form.focused().is_some_and(|f| f.pick_open()) {
                draw_pick(buf, top, &self.form, ui);
            } else {
                self.render_item(buf, top, ui);
            }
            self.render_last(buf, bottom, ui);
        }
        cursor
    }

    fn render_item(&self, buf: &mut Buffer, area: Rect, ui: &Ui) {
        let inner = draw::boxed(buf, area, "Item", ui.theme);
        let Some(i) = self.item() else {
            note_line(buf, inner, inner.y, "Type an item code or name;", ui);
            note_line(buf, inner, inner.y + 1, "matches are offered as", ui);
            note_line(buf, inner, inner.y + 2, "you type.", ui);
            return;
        };
        let lines = [
            (i.code.to_string(), ui.theme.strong),
            (i.description.name.clone(), ui.theme.label),
            (
                format!("kept in {} · {}", i.unit, i.kind).replace(" · ", ui.theme.dot()),
                ui.theme.label,
            ),
            (
                match i.shelf_life_days {
                    Some(d) => format!("shelf life {d} days"),
                    None => "no shelf life set".into(),
                },
                ui.theme.label,
            ),
            (
                if i.ftl {
                    "on the Food Traceability List".into()
                } else {
                    String::new()
                },
                ui.theme.warn,
            ),
        ];
        for (n, (t, s)) in lines.iter().enumerate() {
            put(
                buf,
                inner,
                inner.x,
                inner.y + n as u16,
                &draw::fit(t, inner.width as usize, ui.theme.ellipsis()),
                *s,
            );
        }
    }

    fn render_last(&self, buf: &mut Buffer, area: Rect, ui: &Ui) {
        let inner = draw::boxed(buf, area, "Last saved", ui.theme);
        let Some(s) = &self.last else {
            note_line(buf, inner, inner.y, "Nothing saved yet.", ui);
            return;
        };
        let w = inner.width as usize;
        let e = ui.theme.ellipsis();
        put(
            buf,
            inner,
            inner.x,
            inner.y,
            &draw::fit(&format!("Lot {}", s.code), w, e),
            ui.theme.ok,
        );
        let mut lines = vec![
            format!("{} {}", s.item, s.name),
            format!("{} {}", s.qty, s.unit),
            format!("{} lot {}", s.supplier, s.supplier_lot),
        ];
        if let Some(x) = s.expiry {
            lines.push(format!("expires {x}"));
        }
        if let Some(t) = s.temp {
            lines.push(format!("{} C on arrival", format_temperature(t)));
        }
        for (n, t) in lines.iter().enumerate() {
            put(
                buf,
                inner,
                inner.x,
                inner.y + 1 + n as u16,
                &draw::fit(t, w, e),
                ui.theme.label,
            );
        }
    }

    fn render_compact(
        &self,
        buf: &mut Buffer,
        area: Rect,
        view: &FormView,
        ui: &Ui,
    ) -> Option<Position> {
        let mut pieces = Vec::new();
        if self.last.is_some() {
            pieces.push(Piece {
                slot: None,
                height: 1,
            });
        }
        for s in &self.form.order {
            pieces.push(Piece {
                slot: Some(*s),
                height: view.height(*s, ui),
            });
        }
        let (ys, offset, shown) = stack_marked(buf, &pieces, self.form.slot(), area, ui);
        let mut cursor = None;
        for (p, y) in pieces.iter().zip(ys) {
            let Some(r) = piece_rect(shown, y, offset, p.height) else {
                continue;
            };
            match p.slot {
                None => {
                    if let Some(s) = &self.last {
                        put(
                            buf,
                            r,
                            r.x,
                            r.y,
                            &draw::fit(
                                &format!("Saved {} {} {}", s.code, s.qty, s.unit),
                                r.width as usize,
                                ui.theme.ellipsis(),
                            ),
                            ui.theme.ok,
                        );
                    }
                }
                Some(s) => {
                    if let Some(c) = view.draw_slot(buf, r, s, ui) {
                        cursor = Some(c);
                    }
                }
            }
        }
        draw_pick(
            buf,
            compact_pick_area(area, cursor, pick_rows(&self.form)),
            &self.form,
            ui,
        );
        cursor
    }
}

fn saved_status(msg: String) -> Status {
    saved(msg)
}
