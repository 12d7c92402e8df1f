//! Finding the lot to trace from the start form: our lot code, a supplier's lot code, a
//! GS1 scan, or a complaint (customer + product + dates).

use super::*;
use chrono::NaiveDate;
use lotline_domain::LotFilter;
use lotline_domain::scan::{Scan, ScanConfig};

pub(super) fn start_form() -> Form {
    Form::new(vec![
        Field::new("code", "Lot or scan").placeholder("lot code, supplier lot or scan"),
        Field::new("customer", "Customer").placeholder("complaint: who called"),
        Field::new("item", "Product").placeholder("item they bought (optional)"),
        Field::new("from", "Shipped from").placeholder("YYYY-MM-DD (optional)"),
        Field::new("to", "Shipped to").placeholder("YYYY-MM-DD (optional)"),
    ])
}

impl Trace {
    pub(super) fn start_action(&mut self, a: FormAction, station: &dyn Station) -> Outcome {
        if self.stage != Stage::Start || !self.editing {
            return Outcome::none();
        }
        let field = self.start.focused().map(|f| f.name).unwrap_or("");
        match a {
            FormAction::Confirm => {
                if accept_pick(&mut self.start) {
                    self.start.next(|_| false);
                    return Outcome::changed();
                }
                match field {
                    "code" if self.start.get("code").opt().is_some() => self.start_code(station),
                    "customer" | "item" => {
                        let what = if field == "customer" {
                            "customer"
                        } else {
                            "item"
                        };
                        let f = self.start.get_mut(field);
                        if let Err(e) = check_choice(f, what, true) {
                            return refuse(&mut self.start, &e);
                        }
                        self.start.next(|_| false);
                        Outcome::changed()
                    }
                    "to" | "" => self.start_any(station),
                    _ => {
                        self.start.next(|_| false);
                        Outcome::changed()
                    }
                }
            }
            FormAction::Save => self.start_any(station),
            FormAction::Next => Outcome {
                changed: self.start.next(|_| false),
                events: Vec::new(),
            },
            FormAction::Clear => {
                self.start = {
                    let mut f = start_form();
                    for n in ["customer", "item"] {
                        f.get_mut(n).candidates = self.start.get(n).candidates.clone();
                    }
                    f
                };
                Outcome::changed()
            }
            FormAction::Cancel => {
                if let Some(f) = self.start.focused_mut()
                    && f.pick_open()
                {
                    f.pick_closed = true;
                    f.browse = false;
                    return Outcome::changed();
                }
                // Leave the fields: back to a trace or list there is, else the menu keys.
                self.editing = false;
                if self.loaded.is_some() {
                    self.stage = Stage::Tree;
                } else if self.pick.is_some() {
                    self.stage = Stage::Pick;
                }
                Outcome::changed()
            }
            other => common(&mut self.start, &other, |_| false).unwrap_or_default(),
        }
    }

    /// Start from whatever was filled in: a code wins, else a complaint.
    fn start_any(&mut self, station: &dyn Station) -> Outcome {
        if self.start.get("code").opt().is_some() {
            return self.start_code(station);
        }
        if self.start.get("customer").opt().is_some() {
            return self.complaint(station);
        }
        let e = invalid(
            "code",
            "type or scan a lot code, or give a customer for a complaint",
        );
        refuse(&mut self.start, &e)
    }

    /// Our lot code, a supplier's lot code, or a GS1 scan with a GTIN and a lot.
    fn start_code(&mut self, station: &dyn Station) -> Outcome {
        let text = self.start.get("code").value().trim().to_string();
        let scan = match lotline_domain::scan::parse(&text, &ScanConfig::default()) {
            Ok(s) => s,
            Err(e) => return refuse(&mut self.start, &invalid("code", e.to_string())),
        };
        let (lot_text, item) = match &scan {
            Scan::Plain { text, .. } => (text.clone(), None),
            Scan::Gs1 { .. } => {
                let Some(lot) = scan.lot() else {
                    return refuse(
                        &mut self.start,
                        &invalid(
                            "code",
                            "the scan has no lot (10); scan the label's barcode that carries the lot",
                        ),
                    );
                };
                let item = scan.gtin().and_then(|g| {
                    let g = lotline_domain::Gtin::parse(g, "gtin").ok()?;
                    self.items
                        .values()
                        .find(|i| i.gtin.as_ref() == Some(&g))
                        .map(|i| i.code.clone())
                });
                if scan.gtin().is_some() && item.is_none() {
                    return refuse(
                        &mut self.start,
                        &invalid(
                            "code",
                            format!(
                                "no item has GTIN {}; give the item its GTIN (lotline item set) or type the lot",
                                scan.gtin().unwrap_or("")
                            ),
                        ),
                    );
                }
                (lot.to_string(), item)
            }
        };
        self.begin();
        self.pick = None;
        // Ours?
        if let Ok(code) = LotCode::parse(&lot_text, "code") {
            match station.find_lot(code) {
                Ok(Some(l)) if item.as_ref().is_none_or(|i| &l.item == i) => {
                    return self.open(l.code, Direction::Both, station);
                }
                Ok(_) => {}
                Err(e) => return Outcome::error(&e),
            }
        }
        // A supplier's lot: which of ours carry it?
        let lots = match station.lots(LotFilter {
            supplier_lot: Some(lot_text.clone()),
            ..Default::default()
        }) {
            Ok(v) => v,
            Err(e) => return Outcome::error(&e),
        };
        let lots: Vec<Lot> = lots
            .into_iter()
            .filter(|l| item.as_ref().is_none_or(|i| &l.item == i))
            .collect();
        let for_item = item
            .as_ref()
            .map(|i| format!(" of {i}"))
            .unwrap_or_default();
        match lots.len() {
            0 => refuse(
                &mut self.start,
                &invalid(
                    "code",
                    format!(
                        "no lot of ours and no supplier lot{for_item} is {}",
                        lotline_domain::text::excerpt(lot_text)
                    ),
                ),
            ),
            1 => {
                let l = lots.into_iter().next().expect("one lot");
                let out = self.open(l.code.clone(), Direction::Forward, station);
                out.status(Status::info(format!(
                    "Supplier lot {lot_text}{for_item} is our lot {}; {}",
                    l.code,
                    self.summary()
                )))
            }
            _ => self.offer(&lot_text, item, lots),
        }
    }

    /// Several of our lots carry supplier lot `lot_text` (of `item`): a list to pick the
    /// one to trace forward, newest first. None is chosen for the user: in a recall the
    /// lot that matters is often the one used up or shipped.
    pub(super) fn offer(
        &mut self,
        lot_text: &str,
        item: Option<ItemCode>,
        lots: Vec<Lot>,
    ) -> Outcome {
        let n = lots.len();
        let for_item = item.map(|i| format!(" of {i}")).unwrap_or_default();
        let entries = lots
            .into_iter()
            .rev()
            .map(|l| PickEntry {
                note: match &l.origin {
                    lotline_domain::Origin::Received { supplier, .. } => format!(
                        "from {supplier}, received {}, {} {} on hand",
                        l.date, l.balance, l.unit
                    ),
                    lotline_domain::Origin::Produced { .. } => format!("made {}", l.date),
                    lotline_domain::Origin::Returned { customer, .. } => {
                        format!("returned by {customer} {}", l.date)
                    }
                    lotline_domain::Origin::Partner { source, .. } => {
                        format!("known only from {source}")
                    }
                },
                lot: l,
            })
            .collect();
        let title = format!("Our lots carrying supplier lot {lot_text}{for_item} ({n})");
        self.show_pick(
            title,
            entries,
            Direction::Forward,
            format!("{n} of our lots carry supplier lot {lot_text}; pick one to trace forward"),
        )
    }

    /// Customer + product + dates → the lots shipped to them → pick one.
    fn complaint(&mut self, station: &dyn Station) -> Outcome {
        let mut c = Checks::new();
        for (name, what) in [("customer", "customer"), ("item", "item")] {
            c.take(check_choice(self.start.get_mut(name), what, true));
        }
        let customer = c.take(PartyId::parse(self.start.value("customer"), "customer"));
        let item = c.take(
            self.start
                .get("item")
                .opt()
                .map(|t| ItemCode::parse(t, "item"))
                .transpose(),
        );
        // An empty date is no limit; a wrong one is a problem (and no limit meanwhile).
        let mut date = |name: &str| {
            let t = self.start.get(name).opt()?.to_string();
            c.take(match NaiveDate::parse_from_str(&t, "%Y-%m-%d") {
                Ok(d) if lotline_domain::check_year(d, name).is_ok() => Ok(d),
                _ => Err(invalid(
                    name,
                    format!(
                        "{} is not a date; use YYYY-MM-DD",
                        lotline_domain::text::excerpt(t)
                    ),
                )),
            })
        };
        let (from, to) = (date("from"), date("to"));
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            c.push(invalid(
                "to",
                format!("{t} is before {f}; give the earlier day first"),
            ));
        }
        let (customer, item) = match c.finish(|| Some((customer?, item?))) {
            Ok(v) => v,
            Err(e) => return refuse_all(&mut self.start, e),
        };
        self.begin();
        let found = match station.deliveries(customer.clone(), item.clone(), from, to) {
            Ok(d) => d,
            Err(e) => return refuse(&mut self.start, &e),
        };
        let what = item.as_ref().map(|i| format!(" {i}")).unwrap_or_default();
        let when = match (from, to) {
            (Some(f), Some(t)) => format!(" from {f} to {t}"),
            (Some(f), None) => format!(" since {f}"),
            (None, Some(t)) => format!(" until {t}"),
            (None, None) => String::new(),
        };
        if found.is_empty() {
            return Outcome::changed().status(Status::warn(format!(
                "{customer} received no{what} lots{when}"
            )));
        }
        // One entry per shipment line: a lot shipped twice is listed twice, so the
        // message counts both shipments and lots.
        let n = found.len();
        let lots = found
            .iter()
            .map(|d| d.lot.id)
            .collect::<std::collections::HashSet<_>>()
            .len();
        let shipments = found
            .iter()
            .map(|d| d.event)
            .collect::<std::collections::HashSet<_>>()
            .len();
        let entries = found
            .into_iter()
            .map(|d| PickEntry {
                note: format!(
                    "shipped {} {} {}{}",
                    d.date,
                    d.qty,
                    d.lot.unit,
                    d.reference.map(|r| format!(" {r}")).unwrap_or_default()
                ),
                lot: d.lot,
            })
            .collect();
        self.show_pick(
            format!("Shipped to {customer}{what}{when} ({n})"),
            entries,
            Direction::Backward,
            format!(
                "{} of {} shipped to {customer}, newest first; pick the one complained about",
                lotline_domain::words::plural(shipments, "shipment", "shipments"),
                lotline_domain::words::plural(lots, "lot", "lots"),
            ),
        )
    }

    /// Show `entries` to pick the lot to trace in `direction`, saying `msg`.
    fn show_pick(
        &mut self,
        title: String,
        entries: Vec<PickEntry>,
        direction: Direction,
        msg: String,
    ) -> Outcome {
        self.pick = Some(Pick {
            title,
            entries,
            selected: 0,
            direction,
        });
        self.stage = Stage::Pick;
        self.editing = false;
        Outcome::changed().status(Status::info(msg))
    }
}
