//! The FSMA 204 electronic sortable spreadsheet (21 CFR 1.1455(c)(3)): one sheet per
//! Critical Tracking Event the plant performs — Receiving, Transformation, Shipping —
//! laid out as FDA's own template is (docs/architecture.md, "The law behind it"), every
//! composite KDE split into its columns, and a "Read me" sheet saying what was asked, by
//! whom, and what each column means. Written as XLSX and/or one CSV per sheet; never over
//! an existing file.
//!
//! The rows are built here (the FDA row model) from what the station answers
//! (`StationExt::kde_records`), so the same export runs against a local file or a server;
//! `write` lays them out as files.

use chrono::{DateTime, NaiveDate, Utc};
use lotline_domain::{
    Documents, Event, EventKind, Gln, Invalid, Item, ItemCode, KdeQuery, KdeRecords, Location, Lot,
    LotId, Origin, Party, PartyId, Plant, Reference,
};
use lotline_station::{ErrorKind, Station, StationError, StationExt};
use std::collections::{HashMap, HashSet};

mod layout;
mod missing;
mod write;
pub use missing::{Fill, Gap, Gaps, missing};
pub use write::{
    XLSX_MAX_ROWS, XlsxStep, readme_text, sheet_csv, write_csv, write_xlsx, write_xlsx_with,
};

pub use crate::sheet::Cell;
// The app's exports write a shipment's CSV by this name.
pub use crate::file::write_new_file;

#[cfg(test)]
mod tests;

/// What the user asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub lot: Option<String>,
    pub items: Vec<ItemCode>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Only foods on the Food Traceability List (the default when FDA asks).
    pub ftl_only: bool,
    /// The person FDA should call about these records, for the Read me sheet.
    pub contact: Option<String>,
}

/// One sheet: its name, columns (title and meaning) and rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub name: &'static str,
    /// The file name of its CSV.
    pub file: &'static str,
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Vec<Cell>>,
}

/// Everything written: the three CTE sheets and the Read me lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub sheets: [Sheet; 3],
    /// (label, value) lines of the Read me sheet, before the column definitions.
    pub readme: Vec<(String, String)>,
    /// What the user should hear before sending it (blank packaging styles); each is
    /// also a Read me line.
    pub warnings: Vec<String>,
}

impl Export {
    pub fn rows(&self) -> usize {
        self.sheets.iter().map(|s| s.rows.len()).sum()
    }
}

/// Who ran the export and when, for the Read me sheet.
#[derive(Debug, Clone)]
pub struct RunBy {
    pub operator: String,
    pub station: String,
    pub at: DateTime<Utc>,
}

fn invalid(field: &str, msg: impl Into<String>) -> StationError {
    Invalid::new(field, msg).into()
}

/// Who FDA should call, as typed (`lotline fsma --contact`, the app's Contact field):
/// plain text of up to 200 characters, refused as `contact`; empty is none given.
pub fn clean_contact(text: &str) -> Result<Option<String>, Invalid> {
    lotline_domain::clean_text(text, "contact", 200).map(|t| Some(t).filter(|t| !t.is_empty()))
}

/// The Read me's point of contact when none is given: the plant's phone, if it has one.
pub fn plant_contact(plant: &Plant) -> Option<String> {
    let phone = plant.location.phone.trim();
    (!phone.is_empty()).then(|| format!("the plant, {phone}"))
}

/// Ask the station for the events `req` covers and lay them out as FDA's sheets.
/// Refuses items off the Food Traceability List unless `ftl_only` is off, and a request
/// that matches nothing (so no empty file is ever handed over).
pub fn gather(
    st: &dyn Station,
    req: &Request,
    run: &RunBy,
    progress: &mut dyn FnMut(&str),
) -> Result<Export, StationError> {
    let g = Gathered::new(st, req, progress)?;
    let book = g.book();
    let mut sheets = book.sheets(progress);
    for s in &mut sheets {
        s.rows.shrink_to_fit();
    }
    let warnings = warnings(&book);
    let mut readme = readme(&g.plant, req, run, &g.records, &sheets);
    readme.extend(warnings.iter().map(|w| ("Warning".to_string(), w.clone())));
    let export = Export {
        readme,
        warnings,
        sheets,
    };
    if export.rows() == 0 {
        return Err(invalid(
            "filters",
            format!(
                "no receiving, transformation or shipping records match {}; nothing was written",
                describe_filters(req)
            ),
        ));
    }
    Ok(export)
}

/// The records `q` asks for; when the server says one answer would not fit in a reply (a
/// whole plant's history from the app), asked for again in halves of the dates until
/// each fits, and put together as one answer would have been: events in (date, id)
/// order, every lot once.
fn kde_in_parts(
    st: &dyn Station,
    q: KdeQuery,
    progress: &mut dyn FnMut(&str),
) -> Result<KdeRecords, StationError> {
    let too_large = match st.kde_records(q.clone()) {
        Err(e) if e.kind == ErrorKind::TooLarge && q.lot.is_none() && q.shipment.is_none() => e,
        other => return other,
    };
    // The dates to halve: those asked for, else from the first event to today.
    let from = match q.from {
        Some(f) => f,
        None => match st
            .event_page(NaiveDate::MIN, NaiveDate::MAX, None, None, 1)?
            .events
            .first()
        {
            Some(e) => e.date,
            None => return Err(too_large),
        },
    };
    let to = match q.to {
        Some(t) => t,
        None => st.today()?,
    };
    if from >= to {
        return Err(too_large);
    }
    let mid = from + chrono::Duration::days((to - from).num_days() / 2);
    progress(&format!(
        "gathering events in parts ({from} to {mid}, then on)"
    ));
    let first = kde_in_parts(
        st,
        KdeQuery {
            from: Some(from),
            to: Some(mid),
            ..q.clone()
        },
        progress,
    )?;
    // The second part keeps an open end when none was given: events dated after today
    // (a clock set back) are not lost.
    let second = kde_in_parts(
        st,
        KdeQuery {
            from: mid.succ_opt(),
            ..q
        },
        progress,
    )?;
    let mut lots: std::collections::BTreeMap<LotId, Lot> =
        first.lots.into_iter().map(|l| (l.id, l)).collect();
    lots.extend(second.lots.into_iter().map(|l| (l.id, l)));
    let mut refs: std::collections::BTreeMap<LotId, String> =
        first.tlc_source_refs.into_iter().collect();
    refs.extend(second.tlc_source_refs);
    let mut shipment_refs: std::collections::BTreeMap<u64, Reference> =
        first.shipment_refs.into_iter().collect();
    shipment_refs.extend(second.shipment_refs);
    let mut events = first.events;
    events.extend(second.events);
    let mut documents = first.documents;
    documents.extend(second.documents);
    Ok(KdeRecords {
        events,
        lots: lots.into_values().collect(),
        roots: first.roots,
        voided: first.voided + second.voided,
        tlc_source_refs: refs.into_iter().collect(),
        shipment_refs: shipment_refs.into_iter().collect(),
        documents,
    })
}

/// What a request's sheets are built from: the plant, its items and parties, and the
/// records in scope, with the foods asked about.
struct Gathered {
    plant: Plant,
    items: HashMap<ItemCode, Item>,
    parties: HashMap<PartyId, Party>,
    records: KdeRecords,
    wanted: Option<HashSet<ItemCode>>,
}

impl Gathered {
    /// Ask the station for the events `req` covers. Refuses items off the Food
    /// Traceability List unless `ftl_only` is off.
    fn new(
        st: &dyn Station,
        req: &Request,
        progress: &mut dyn FnMut(&str),
    ) -> Result<Gathered, StationError> {
        if let (Some(f), Some(t)) = (req.from, req.to)
            && f > t
        {
            return Err(invalid(
                "from",
                format!("{f} is after --to {t}; give the earlier date first"),
            ));
        }
        let plant = st.plant()?;
        let items: HashMap<ItemCode, Item> = st
            .items()?
            .into_iter()
            .map(|i| (i.code.clone(), i))
            .collect();
        for code in &req.items {
            let Some(i) = items.get(code) else {
                return Err(invalid(
                    "item",
                    format!("no item {code}; see `lotline item list`"),
                ));
            };
            if req.ftl_only && !i.ftl {
                return Err(invalid(
                    "item",
                    format!(
                        "item {code} is not on the Food Traceability List; add --all to include it"
                    ),
                ));
            }
        }
        // The foods asked about: those named, else (FTL only) every FTL item, else all.
        let wanted: Option<HashSet<ItemCode>> = if !req.items.is_empty() {
            Some(req.items.iter().cloned().collect())
        } else if req.ftl_only {
            let ftl: HashSet<ItemCode> = items
                .values()
                .filter(|i| i.ftl)
                .map(|i| i.code.clone())
                .collect();
            if ftl.is_empty() {
                return Err(invalid(
                    "ftl-only",
                    "no item is marked as on the Food Traceability List (`item add … --ftl`); give --all for every item",
                ));
            }
            Some(ftl)
        } else {
            None
        };
        progress("gathering events");
        let mut query_items: Vec<ItemCode> = wanted.iter().flatten().cloned().collect();
        query_items.sort();
        let records = kde_in_parts(
            st,
            KdeQuery {
                lot: req.lot.clone(),
                from: req.from,
                to: req.to,
                items: query_items,
                shipment: None,
            },
            progress,
        )?;
        let parties: HashMap<PartyId, Party> = st
            .parties()?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        Ok(Gathered {
            plant,
            items,
            parties,
            records,
            wanted,
        })
    }

    fn book(&self) -> Book<'_> {
        Book::new(
            &self.plant,
            &self.items,
            &self.parties,
            &self.records,
            self.wanted.as_ref(),
        )
    }
}

/// Things a reviewer would stop at that are not errors: foods whose packaging style is
/// blank (part of the product description FDA asks for).
fn warnings(book: &Book) -> Vec<String> {
    let mut no_style: Vec<&str> = book
        .records
        .lots
        .iter()
        .filter(|l| book.wants(&l.item))
        .filter_map(|l| book.items.get(&l.item))
        .filter(|i| i.description.pack_style.trim().is_empty())
        .map(|i| i.code.as_str())
        .collect();
    no_style.sort_unstable();
    no_style.dedup();
    if no_style.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "packaging style is blank for {}: the product description columns have it empty; set it on the item (pack style: case, bag, tray…)",
        no_style.join(", ")
    )]
}

/// The shipping KDEs of one shipment, for the customer (§1.1340(b)): the Shipping sheet's
/// columns, its lines only.
pub fn shipment(st: &dyn Station, event: u64) -> Result<Sheet, StationError> {
    let plant = st.plant()?;
    let items: HashMap<ItemCode, Item> = st
        .items()?
        .into_iter()
        .map(|i| (i.code.clone(), i))
        .collect();
    let records = st.kde_records(KdeQuery {
        shipment: Some(event),
        ..Default::default()
    })?;
    if records.events.is_empty() {
        return Err(invalid(
            "shipment",
            format!("shipment {event} was voided; it has no shipping KDEs to send"),
        ));
    }
    let parties: HashMap<PartyId, Party> = st
        .parties()?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();
    let book = Book::new(&plant, &items, &parties, &records, None);
    let [_, _, shipping] = book.sheets(&mut |_| {});
    Ok(shipping)
}

pub fn describe_filters(req: &Request) -> String {
    let mut parts = Vec::new();
    if let Some(l) = &req.lot {
        parts.push(format!("lot {l} (its whole trace, both ways)"));
    }
    if !req.items.is_empty() {
        let codes: Vec<&str> = req.items.iter().map(|i| i.as_str()).collect();
        parts.push(format!("items {}", codes.join(", ")));
    }
    match (req.from, req.to) {
        (Some(f), Some(t)) => parts.push(format!("dates {f} to {t}")),
        (Some(f), None) => parts.push(format!("dates from {f}")),
        (None, Some(t)) => parts.push(format!("dates up to {t}")),
        (None, None) => parts.push("all dates".into()),
    }
    parts.push(if req.ftl_only {
        "foods on the Food Traceability List only".into()
    } else {
        "every item".into()
    });
    parts.join("; ")
}

/// What the rows are built from, indexed.
struct Book<'a> {
    plant: &'a Plant,
    items: &'a HashMap<ItemCode, Item>,
    parties: &'a HashMap<PartyId, Party>,
    records: &'a KdeRecords,
    lots: HashMap<LotId, &'a Lot>,
    refs: HashMap<LotId, &'a str>,
    shipment_refs: HashMap<u64, &'a Reference>,
    documents: HashMap<u64, &'a Documents>,
    wanted: Option<&'a HashSet<ItemCode>>,
}

/// A row being laid out: the template's cells, then lotline's own, each in its sheet's
/// column order (`layout`).
#[derive(Default)]
struct Row {
    template: Vec<Cell>,
    ours: Vec<Cell>,
}

impl Row {
    fn t(&mut self, cells: impl IntoIterator<Item = Cell>) -> &mut Self {
        self.template.extend(cells);
        self
    }
    fn o(&mut self, cells: impl IntoIterator<Item = Cell>) -> &mut Self {
        self.ours.extend(cells);
        self
    }
    fn done(&mut self) -> Vec<Cell> {
        let mut row = std::mem::take(&mut self.template);
        row.append(&mut self.ours);
        row
    }
}

/// A location's description cells, and its GLN apart (one of lotline's columns).
fn location_cells(l: Option<&Location>, gln: Option<&Gln>) -> ([Cell; 7], Cell) {
    let l = l.cloned().unwrap_or_default();
    (
        [
            l.business_name.into(),
            l.phone.into(),
            l.street.into(),
            l.city.into(),
            l.state.into(),
            l.zip.into(),
            l.country.into(),
        ],
        gln.map(|g| g.to_string()).unwrap_or_default().into(),
    )
}

/// One cell, its text.
fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

/// What one Receiving row says: a receipt's or a customer return's.
struct Received<'r> {
    tlc: TlcSource,
    item: &'r ItemCode,
    /// As counted at the dock.
    counted: (lotline_domain::Qty, lotline_domain::Unit),
    /// In the unit the item is kept in.
    stocked: (lotline_domain::Qty, lotline_domain::Unit),
    /// The immediate previous source.
    from: &'r PartyId,
    lot: &'r Lot,
    docs: [Cell; 4],
    kind: &'static str,
    shipment: Cell,
    reason: Cell,
    why: Cell,
}

/// What a food's TLC source is, as the sheets give it.
struct TlcSource {
    tlc: String,
    location: [Cell; 7],
    gln: Cell,
    reference: String,
}

impl<'a> Book<'a> {
    fn new(
        plant: &'a Plant,
        items: &'a HashMap<ItemCode, Item>,
        parties: &'a HashMap<PartyId, Party>,
        records: &'a KdeRecords,
        wanted: Option<&'a HashSet<ItemCode>>,
    ) -> Book<'a> {
        Book {
            plant,
            items,
            parties,
            records,
            lots: records.lots.iter().map(|l| (l.id, l)).collect(),
            refs: records
                .tlc_source_refs
                .iter()
                .map(|(id, t)| (*id, t.as_str()))
                .collect(),
            shipment_refs: records
                .shipment_refs
                .iter()
                .map(|(id, r)| (*id, r))
                .collect(),
            documents: records.documents.iter().map(|(id, d)| (*id, d)).collect(),
            wanted,
        }
    }

    fn wants(&self, item: &ItemCode) -> bool {
        self.wanted.is_none_or(|w| w.contains(item))
    }

    /// A food's product description cells, and its item code and GTIN apart.
    fn product(&self, code: &ItemCode) -> ([Cell; 6], [Cell; 2]) {
        match self.items.get(code) {
            Some(i) => {
                let d = &i.description;
                (
                    [
                        text(&d.name),
                        text(&d.brand),
                        text(&d.commodity),
                        text(&d.variety),
                        text(&d.pack_size),
                        text(&d.pack_style),
                    ],
                    [
                        text(code.as_str()),
                        text(i.gtin.as_ref().map(|g| g.to_string()).unwrap_or_default()),
                    ],
                )
            }
            None => (Default::default(), [text(code.as_str()), Cell::default()]),
        }
    }

    fn party(&self, id: &PartyId) -> ([Cell; 7], Cell) {
        match self.parties.get(id) {
            Some(p) => location_cells(Some(&p.location), p.gln.as_ref()),
            None => {
                let mut c: [Cell; 7] = Default::default();
                c[0] = id.as_str().into();
                (c, Cell::default())
            }
        }
    }

    fn plant_location(&self) -> ([Cell; 7], Cell) {
        location_cells(Some(&self.plant.location), self.plant.gln.as_ref())
    }

    /// The event's reference documents as the template's four cells (type and number of
    /// each), `first` standing for the event's own; and the reason it has none, if given.
    fn references(&self, e: &Event, first: Option<&Reference>) -> ([Cell; 4], Cell) {
        let docs = self.documents.get(&e.id).copied();
        let second = docs.and_then(|d| d.second.as_ref());
        let mut cells: [Cell; 4] = Default::default();
        for (n, r) in first.into_iter().chain(second).take(2).enumerate() {
            cells[2 * n] = text(&r.kind);
            cells[2 * n + 1] = text(&r.number);
        }
        let why = docs
            .and_then(|d| d.none_because.clone())
            .unwrap_or_default();
        (cells, text(why))
    }

    /// A lot's traceability lot code and TLC source: a received lot keeps its supplier's
    /// code and source (we did not transform it); a lot we made has our code, and our
    /// plant is its source.
    fn tlc(&self, lot: &Lot) -> TlcSource {
        match &lot.origin {
            Origin::Received {
                supplier,
                supplier_lot,
            } => match self.refs.get(&lot.id) {
                // The packer behind a distributor: the reference stands for the location.
                Some(r) => TlcSource {
                    tlc: supplier_lot.to_string(),
                    location: Default::default(),
                    gln: Cell::default(),
                    reference: r.to_string(),
                },
                None => {
                    let (location, gln) = self.party(supplier);
                    TlcSource {
                        tlc: supplier_lot.to_string(),
                        location,
                        gln,
                        reference: String::new(),
                    }
                }
            },
            Origin::Produced { .. } => self.ours(lot),
            // Product back from a customer keeps the TLC it went out under: only a
            // transformation assigns a new one (§1.1320), and the return lot is the same
            // food under a lot code of ours for keeping it apart.
            Origin::Returned { from, .. } => match self.lots.get(from) {
                Some(shipped) if shipped.id != lot.id => self.tlc(shipped),
                _ => self.ours(lot),
            },
            // Known only from a partner's document: its code as the partner gave it;
            // where it was assigned is not known here, so the reference is the
            // identifier the document named it by (docs/epcis.md).
            Origin::Partner { identifier, .. } => TlcSource {
                tlc: lot.code.to_string(),
                location: Default::default(),
                gln: Cell::default(),
                reference: identifier.clone(),
            },
        }
    }

    /// A lot whose TLC we assigned: our plant is its source.
    fn ours(&self, lot: &Lot) -> TlcSource {
        let (location, gln) = self.plant_location();
        TlcSource {
            tlc: lot.code.to_string(),
            location,
            gln,
            reference: String::new(),
        }
    }

    fn sheets(&self, progress: &mut dyn FnMut(&str)) -> [Sheet; 3] {
        let mut receiving = layout::receiving_sheet();
        let mut transformation = layout::transformation_sheet();
        let mut shipping = layout::shipping_sheet();
        let total = self.records.events.len();
        for (n, e) in self.records.events.iter().enumerate() {
            if n > 0 && n % 100_000 == 0 {
                progress(&format!("{n} of {total} events laid out"));
            }
            match &e.kind {
                EventKind::Receive(_) => self.receipt(e, &mut receiving.rows),
                EventKind::Return(_) => self.customer_return(e, &mut receiving.rows),
                EventKind::Produce(_) => self.batch(e, &mut transformation.rows),
                EventKind::Ship(_) => self.shipment(e, &mut shipping.rows),
                _ => {}
            }
        }
        [receiving, transformation, shipping]
    }

    fn receipt(&self, e: &Event, rows: &mut Vec<Vec<Cell>>) {
        let EventKind::Receive(r) = &e.kind else {
            return;
        };
        let Some(lot) = self.lots.get(&r.lot) else {
            return;
        };
        if !self.wants(&r.item) {
            return;
        }
        let (qty, unit) = match r.as_received {
            Some(c) => (c.qty, c.unit),
            None => (r.qty, r.unit),
        };
        let (docs, why) = self.references(e, e.reference.as_ref());
        rows.push(self.receiving_row(
            e,
            Received {
                // The supplier's lot code, as on its label.
                tlc: self.tlc(lot),
                item: &r.item,
                counted: (qty, unit),
                stocked: (r.qty, r.unit),
                from: &r.supplier,
                lot,
                docs,
                kind: layout::RECEIPT_FROM_SUPPLIER,
                shipment: Cell::default(),
                reason: Cell::default(),
                why,
            },
        ));
    }

    /// A customer return as FSMA sees it: a receipt of our food back from the customer,
    /// who is the immediate previous source; the TLC is the one the food was shipped
    /// under; the return lot is ours.
    fn customer_return(&self, e: &Event, rows: &mut Vec<Vec<Cell>>) {
        let EventKind::Return(r) = &e.kind else {
            return;
        };
        let (Some(lot), Some(shipped)) = (self.lots.get(&r.lot), self.lots.get(&r.from)) else {
            return;
        };
        if !self.wants(&r.item) {
            return;
        }
        // The customer's own return document when one was recorded, else the document
        // the food went out under.
        let doc = e
            .reference
            .as_ref()
            .or_else(|| self.shipment_refs.get(&r.shipment).copied());
        let (docs, why) = self.references(e, doc);
        rows.push(self.receiving_row(
            e,
            Received {
                tlc: self.tlc(shipped),
                item: &r.item,
                // Returns are counted in the shipped lot's unit: as received and as
                // stocked alike.
                counted: (r.qty, r.unit),
                stocked: (r.qty, r.unit),
                from: &r.customer,
                lot,
                docs,
                kind: layout::RECEIPT_CUSTOMER_RETURN,
                shipment: Cell::Id(r.shipment),
                reason: text(&r.reason),
                why,
            },
        ));
    }

    /// One Receiving row, laid out in one place for receipts and customer returns.
    fn receiving_row(&self, e: &Event, r: Received) -> Vec<Cell> {
        let (product, ids) = self.product(r.item);
        let (source, source_gln) = self.party(r.from);
        let (plant, plant_gln) = self.plant_location();
        Row::default()
            .t([text(r.tlc.tlc)])
            .t(product)
            .t([Cell::Qty(r.counted.0), text(r.counted.1.as_str())])
            .t(source)
            .t(plant)
            .t([Cell::Date(e.date)])
            .t(r.tlc.location)
            .t([text(r.tlc.reference)])
            .t(r.docs)
            .o([
                text(r.lot.code.as_str()),
                Cell::Qty(r.stocked.0),
                text(r.stocked.1.as_str()),
            ])
            .o(ids)
            .o([source_gln, plant_gln, r.tlc.gln])
            .o([Cell::Id(e.id), r.kind.into(), r.shipment, r.reason, r.why])
            .done()
    }

    fn batch(&self, e: &Event, rows: &mut Vec<Vec<Cell>>) {
        let EventKind::Produce(b) = &e.kind else {
            return;
        };
        let Some(out) = self.lots.get(&b.output) else {
            return;
        };
        let out_wanted = self.wants(&b.item);
        let (product, ids) = self.product(&b.item);
        let (plant, plant_gln) = self.plant_location();
        let (docs, why) = self.references(e, e.reference.as_ref());
        for u in &b.inputs {
            let Some(input) = self.lots.get(&u.lot) else {
                continue;
            };
            if !out_wanted && !self.wants(&input.item) {
                continue;
            }
            let (in_product, in_ids) = self.product(&input.item);
            let row = Row::default()
                .t([text(out.code.as_str())])
                .t(product.clone())
                .t([Cell::Qty(b.qty), text(b.unit.as_str())])
                .t(plant.clone())
                .t([Cell::Date(e.date)])
                // Our plant is the new lot's TLC source; its GLN is how FDA finds it.
                .t([plant_gln.clone()])
                .t([text(self.tlc(input).tlc)])
                .t(in_product)
                .t([Cell::Qty(u.qty), text(input.unit.as_str())])
                .t(docs.clone())
                .o([text(out.code.as_str())])
                .o(ids.clone())
                .o([text(input.code.as_str())])
                .o(in_ids)
                .o([plant_gln.clone(), Cell::Id(e.id)])
                .o([text(b.line.clone().unwrap_or_default()), why.clone()])
                .done();
            rows.push(row);
        }
    }

    fn shipment(&self, e: &Event, rows: &mut Vec<Vec<Cell>>) {
        let EventKind::Ship(s) = &e.kind else {
            return;
        };
        let (to, to_gln) = self.party(&s.customer);
        let (plant, plant_gln) = self.plant_location();
        let (docs, why) = self.references(e, e.reference.as_ref());
        for u in &s.lines {
            let Some(lot) = self.lots.get(&u.lot) else {
                continue;
            };
            if !self.wants(&lot.item) {
                continue;
            }
            let tlc = self.tlc(lot);
            let (product, ids) = self.product(&lot.item);
            let row = Row::default()
                .t([text(tlc.tlc)])
                .t([Cell::Qty(u.qty), text(lot.unit.as_str())])
                .t(product)
                .t(to.clone())
                .t(plant.clone())
                .t([Cell::Date(e.date)])
                .t(tlc.location)
                .t([text(tlc.reference)])
                .t(docs.clone())
                .o([text(lot.code.as_str())])
                .o(ids)
                .o([to_gln.clone(), plant_gln.clone(), tlc.gln])
                .o([Cell::Id(e.id), why.clone()])
                .done();
            rows.push(row);
        }
    }
}

fn readme(
    plant: &Plant,
    req: &Request,
    run: &RunBy,
    records: &KdeRecords,
    sheets: &[Sheet; 3],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut line = |a: &str, b: String| out.push((a.to_string(), b));
    line(
        "What this is",
        "FSMA 204 traceability records (21 CFR Part 1 Subpart S) as an electronic sortable spreadsheet (§1.1455(c)(3)): one sheet per Critical Tracking Event this plant performs.".into(),
    );
    line("Plant", plant.location.one_line());
    line(
        "Plant GLN",
        plant
            .gln
            .as_ref()
            .map(|g| g.to_string())
            .unwrap_or_else(|| "none recorded".into()),
    );
    line(
        "Point of contact",
        req.contact
            .clone()
            .or_else(|| plant_contact(plant))
            .unwrap_or_else(|| "not given (run with --contact \"Name, phone, email\")".into()),
    );
    line(
        "Produced by",
        format!(
            "{} at station {}, {} UTC, with lotline {}",
            run.operator,
            run.station,
            run.at.format("%Y-%m-%d %H:%M:%S"),
            env!("CARGO_PKG_VERSION")
        ),
    );
    line("Records asked for", describe_filters(req));
    if !records.roots.is_empty() {
        let codes: Vec<&str> = records.roots.iter().map(|c| c.as_str()).collect();
        line("Lots of ours traced", codes.join(", "));
    }
    for s in sheets {
        line(&format!("{} rows", s.name), s.rows.len().to_string());
    }
    line(
        "Voided records",
        format!(
            "{} voided event(s) in scope left out: a void records that the event never happened (entered in error), with the reason, in lotline's history",
            records.voided
        ),
    );
    line(
        "Traceability lot codes",
        "A lot we receive keeps the supplier's lot code as its TLC, with the supplier (or the TLC source reference) as TLC source; we assign a new TLC only when we transform food, and our plant is then its TLC source. The internal lot code beside each TLC is the code on our own labels and records.".into(),
    );
    line(
        "Customer returns",
        "Food a customer sent back is received into a lot of its own, on hold until QA decides; it is a row on the Receiving sheet with Receipt type \"customer return\": the customer is the immediate previous source, the TLC and TLC source are those the food was shipped under (its row on the Shipping sheet, by the Event id in Return of shipment), and the internal lot code is the return lot's.".into(),
    );
    line(
        "Quantities",
        "Numbers with up to three decimals, in the unit of the column beside them. Receiving gives the quantity as counted at the dock and the same converted to the unit we stock the item in; a receipt recorded before lotline kept the counted quantity shows the stocked one in both.".into(),
    );
    line(
        "Transformation rows",
        "One row per input lot per output lot; the Event id ties the rows of one batch together."
            .into(),
    );
    line(
        "Dates",
        "Business days, as date cells shown YYYY-MM-DD (ISO 8601) in the workbook, so they sort and filter as dates; as YYYY-MM-DD text in CSV.".into(),
    );
    line(
        "Column order",
        "Each sheet's first columns are FDA's template's, in its order; lotline's own (internal lot codes, stock quantities, item codes, GTINs, GLNs, event ids) follow them.".into(),
    );
    line(
        "Reference documents",
        "Up to two per event (such as a bill of lading and a purchase order), each as type and number. An event of a food on the Food Traceability List recorded without any gives the reason recorded with it in \"No reference document because\".".into(),
    );
    line(
        "Units",
        "kg, g, lb, oz, l, ml, gal (US), ea (each), case, dozen.".into(),
    );
    out
}
