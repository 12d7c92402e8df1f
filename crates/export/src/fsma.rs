//! The FSMA 204 electronic sortable spreadsheet (21 CFR 1.1455(c)(3)): one sheet per
//! Critical Tracking Event the plant performs — Receiving, Transformation, Shipping —
//! laid out as FDA's own template is (docs/architecture.md, "The law behind it"), every composite KDE split into its
//! columns, and a "Read me" sheet saying what was asked, by whom, and what each column
//! means. Written as XLSX and/or one CSV per sheet; never over an existing file.
//!
//! The rows are built here from what the station answers (`StationExt::kde_records`),
//! so the same export runs against a local file or a server.

use crate::file::{io_error, not_written, refuse_existing};
use chrono::{DateTime, NaiveDate, Utc};
use lotline_domain::{
    Event, EventKind, Gln, Invalid, Item, ItemCode, KdeQuery, KdeRecords, Location, Lot, LotId,
    Origin, Party, PartyId, Plant, Qty, Reference,
};
use lotline_station::{ErrorKind, Station, StationError, StationExt};
use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

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

/// One cell: text, a quantity (a number in XLSX, so it sorts as one) or an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Qty(Qty),
    Id(u64),
}

impl Default for Cell {
    fn default() -> Cell {
        Cell::Text(String::new())
    }
}

impl Cell {
    pub fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Qty(q) => q.to_string(),
            Cell::Id(n) => n.to_string(),
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
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
    let book = Book::new(&plant, &items, &parties, &records, wanted.as_ref());
    let mut sheets = book.sheets(progress);
    for s in &mut sheets {
        s.rows.shrink_to_fit();
    }
    let export = Export {
        readme: readme(&plant, req, run, &records, &sheets),
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
    Ok(KdeRecords {
        events,
        lots: lots.into_values().collect(),
        roots: first.roots,
        voided: first.voided + second.voided,
        tlc_source_refs: refs.into_iter().collect(),
        shipment_refs: shipment_refs.into_iter().collect(),
    })
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
    wanted: Option<&'a HashSet<ItemCode>>,
}

const LOCATION: [&str; 8] = [
    "business name",
    "phone",
    "street address",
    "city",
    "state",
    "ZIP",
    "country",
    "GLN",
];
const PRODUCT: [(&str, &str); 8] = [
    ("product name", "the food's name as we describe it"),
    ("brand", "brand name, when it has one"),
    ("commodity", "the commodity, e.g. shell eggs, soft cheese"),
    ("variety", "variety, e.g. Romaine"),
    ("packaging size", "pack size, e.g. 12 x 200 g"),
    ("packaging style", "pack style, e.g. carton, bag, case"),
    ("item code", "our item code for the food"),
    ("GTIN", "the GS1 trade item number, when the item has one"),
];

fn push_location(cols: &mut Vec<(String, String)>, prefix: &str, meaning: &str) {
    for f in LOCATION {
        cols.push((format!("{prefix} {f}"), format!("{meaning}: {f}")));
    }
}

fn push_product(cols: &mut Vec<(String, String)>, prefix: &str) {
    for (f, m) in PRODUCT {
        let title = if prefix.is_empty() {
            let mut c = f.chars();
            match c.next() {
                Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        } else {
            format!("{prefix} {f}")
        };
        cols.push((title, m.to_string()));
    }
}

fn reference_cells(r: Option<&Reference>) -> [Cell; 2] {
    match r {
        Some(r) => [r.kind.as_str().into(), r.number.as_str().into()],
        None => ["".into(), "".into()],
    }
}

fn location_cells(l: Option<&Location>, gln: Option<&Gln>) -> [Cell; 8] {
    let l = l.cloned().unwrap_or_default();
    [
        l.business_name.into(),
        l.phone.into(),
        l.street.into(),
        l.city.into(),
        l.state.into(),
        l.zip.into(),
        l.country.into(),
        gln.map(|g| g.to_string()).unwrap_or_default().into(),
    ]
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
            wanted,
        }
    }

    fn wants(&self, item: &ItemCode) -> bool {
        self.wanted.is_none_or(|w| w.contains(item))
    }

    fn product(&self, code: &ItemCode) -> [Cell; 8] {
        match self.items.get(code) {
            Some(i) => {
                let d = &i.description;
                [
                    d.name.as_str().into(),
                    d.brand.as_str().into(),
                    d.commodity.as_str().into(),
                    d.variety.as_str().into(),
                    d.pack_size.as_str().into(),
                    d.pack_style.as_str().into(),
                    code.as_str().into(),
                    i.gtin
                        .as_ref()
                        .map(|g| g.to_string())
                        .unwrap_or_default()
                        .into(),
                ]
            }
            None => {
                let mut c: [Cell; 8] = Default::default();
                c[6] = code.as_str().into();
                c
            }
        }
    }

    fn party(&self, id: &PartyId) -> [Cell; 8] {
        match self.parties.get(id) {
            Some(p) => location_cells(Some(&p.location), p.gln.as_ref()),
            None => {
                let mut c: [Cell; 8] = Default::default();
                c[0] = id.as_str().into();
                c
            }
        }
    }

    fn plant_location(&self) -> [Cell; 8] {
        location_cells(Some(&self.plant.location), self.plant.gln.as_ref())
    }

    /// A lot's traceability lot code, its TLC source location and TLC source reference:
    /// a received lot keeps its supplier's code and source (we did not transform it); a
    /// lot we made has our code, and our plant is its source.
    fn tlc(&self, lot: &Lot) -> (String, [Cell; 8], String) {
        match &lot.origin {
            Origin::Received {
                supplier,
                supplier_lot,
            } => match self.refs.get(&lot.id) {
                // The packer behind a distributor: the reference stands for the location.
                Some(r) => (supplier_lot.to_string(), Default::default(), r.to_string()),
                None => (
                    supplier_lot.to_string(),
                    self.party(supplier),
                    String::new(),
                ),
            },
            Origin::Produced { .. } => (lot.code.to_string(), self.plant_location(), String::new()),
            // Product back from a customer keeps the TLC it went out under: only a
            // transformation assigns a new one (§1.1320), and the return lot is the same
            // food under a lot code of ours for keeping it apart.
            Origin::Returned { from, .. } => match self.lots.get(from) {
                Some(shipped) if shipped.id != lot.id => self.tlc(shipped),
                _ => (lot.code.to_string(), self.plant_location(), String::new()),
            },
        }
    }

    fn sheets(&self, progress: &mut dyn FnMut(&str)) -> [Sheet; 3] {
        let mut receiving = receiving_sheet();
        let mut transformation = transformation_sheet();
        let mut shipping = shipping_sheet();
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
        let mut row: Vec<Cell> = Vec::with_capacity(48);
        row.push(r.supplier_lot.as_str().into());
        row.push(lot.code.as_str().into());
        row.push(Cell::Qty(qty));
        row.push(unit.as_str().into());
        row.push(Cell::Qty(r.qty));
        row.push(r.unit.as_str().into());
        row.extend(self.product(&r.item));
        row.extend(self.party(&r.supplier));
        row.extend(self.plant_location());
        row.push(e.date.to_string().into());
        let (_, source, reference) = self.tlc(lot);
        row.extend(source);
        row.push(reference.into());
        row.extend(reference_cells(e.reference.as_ref()));
        row.push(Cell::Id(e.id));
        row.push(RECEIPT_FROM_SUPPLIER.into());
        row.push(Cell::default());
        row.push(Cell::default());
        rows.push(row);
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
        let (tlc, source, reference) = self.tlc(shipped);
        let mut row: Vec<Cell> = Vec::with_capacity(48);
        row.push(tlc.into());
        row.push(lot.code.as_str().into());
        // Returns are counted in the shipped lot's unit: as received and as stocked alike.
        row.push(Cell::Qty(r.qty));
        row.push(r.unit.as_str().into());
        row.push(Cell::Qty(r.qty));
        row.push(r.unit.as_str().into());
        row.extend(self.product(&r.item));
        row.extend(self.party(&r.customer));
        row.extend(self.plant_location());
        row.push(e.date.to_string().into());
        row.extend(source);
        row.push(reference.into());
        // The customer's own return document when one was recorded, else the document
        // the food went out under.
        let doc = e
            .reference
            .as_ref()
            .or_else(|| self.shipment_refs.get(&r.shipment).copied());
        row.extend(reference_cells(doc));
        row.push(Cell::Id(e.id));
        row.push(RECEIPT_CUSTOMER_RETURN.into());
        row.push(Cell::Id(r.shipment));
        row.push(r.reason.as_str().into());
        rows.push(row);
    }

    fn batch(&self, e: &Event, rows: &mut Vec<Vec<Cell>>) {
        let EventKind::Produce(b) = &e.kind else {
            return;
        };
        let Some(out) = self.lots.get(&b.output) else {
            return;
        };
        let out_wanted = self.wants(&b.item);
        for u in &b.inputs {
            let Some(input) = self.lots.get(&u.lot) else {
                continue;
            };
            if !out_wanted && !self.wants(&input.item) {
                continue;
            }
            let (in_tlc, _, _) = self.tlc(input);
            let mut row: Vec<Cell> = Vec::with_capacity(48);
            row.push(Cell::Id(e.id));
            row.push(in_tlc.into());
            row.push(input.code.as_str().into());
            row.extend(self.product(&input.item));
            row.push(Cell::Qty(u.qty));
            row.push(input.unit.as_str().into());
            row.push(out.code.as_str().into());
            row.push(out.code.as_str().into());
            row.extend(self.plant_location());
            row.push(e.date.to_string().into());
            row.extend(self.product(&b.item));
            row.push(Cell::Qty(b.qty));
            row.push(b.unit.as_str().into());
            row.extend(reference_cells(e.reference.as_ref()));
            row.push(b.line.clone().unwrap_or_default().into());
            rows.push(row);
        }
    }

    fn shipment(&self, e: &Event, rows: &mut Vec<Vec<Cell>>) {
        let EventKind::Ship(s) = &e.kind else {
            return;
        };
        for u in &s.lines {
            let Some(lot) = self.lots.get(&u.lot) else {
                continue;
            };
            if !self.wants(&lot.item) {
                continue;
            }
            let (tlc, source, reference) = self.tlc(lot);
            let mut row: Vec<Cell> = Vec::with_capacity(48);
            row.push(tlc.into());
            row.push(lot.code.as_str().into());
            row.push(Cell::Qty(u.qty));
            row.push(lot.unit.as_str().into());
            row.extend(self.product(&lot.item));
            row.extend(self.party(&s.customer));
            row.extend(self.plant_location());
            row.push(e.date.to_string().into());
            row.extend(source);
            row.push(reference.into());
            row.extend(reference_cells(e.reference.as_ref()));
            row.push(Cell::Id(e.id));
            rows.push(row);
        }
    }
}

fn col(cols: &mut Vec<(String, String)>, title: &str, meaning: &str) {
    cols.push((title.to_string(), meaning.to_string()));
}

const RECEIPT_FROM_SUPPLIER: &str = "from supplier";
const RECEIPT_CUSTOMER_RETURN: &str = "customer return";

const TLC_SOURCE: &str = "TLC source location (where the traceability lot code was assigned)";

fn receiving_sheet() -> Sheet {
    let mut c = Vec::new();
    col(
        &mut c,
        "Traceability lot code",
        "the TLC the supplier assigned, exactly as on its label (§1.1345(a)(1)); for a customer return, the TLC the food was shipped under",
    );
    col(
        &mut c,
        "Internal lot code",
        "the lot code we gave the received lot (what our labels and records use); for a customer return, its return lot",
    );
    col(
        &mut c,
        "Quantity received",
        "the quantity as counted at the dock, in the unit it was received in",
    );
    col(
        &mut c,
        "Unit of measure",
        "the unit it was received in (kg, lb, case, …)",
    );
    col(
        &mut c,
        "Quantity stocked",
        "the same quantity in the unit we keep the item in",
    );
    col(&mut c, "Stock unit", "the unit we keep the item in");
    push_product(&mut c, "");
    push_location(
        &mut c,
        "Immediate previous source",
        "the location description of who we received it from (the customer, for a return)",
    );
    push_location(
        &mut c,
        "Receiving location",
        "the location description of where we received it (our plant)",
    );
    col(
        &mut c,
        "Date received",
        "the business day it was received, YYYY-MM-DD",
    );
    push_location(&mut c, "TLC source", TLC_SOURCE);
    col(
        &mut c,
        "TLC source reference",
        "instead of the TLC source location: how FDA can find it (a GLN, FDA registration number or web address), for lots bought through a distributor",
    );
    col(
        &mut c,
        "Reference document type",
        "the document the receipt was recorded against: BOL (bill of lading), PO (purchase order), INV (invoice), ASN (advance ship notice), …; for a customer return its return document (RMA, credit note) when one was recorded, else the document of the shipment it came back from",
    );
    col(&mut c, "Reference document number", "its number");
    col(&mut c, "Event id", "lotline's record number of the receipt");
    col(
        &mut c,
        "Receipt type",
        "\"from supplier\" for food bought in; \"customer return\" for our food a customer sent back, received into a lot of its own (on hold until QA decides): the customer is then the immediate previous source and the TLC the one it was shipped under",
    );
    col(
        &mut c,
        "Return of shipment",
        "for a customer return: the Event id of the shipment it came back from (its row on the Shipping sheet); blank otherwise",
    );
    col(
        &mut c,
        "Return reason",
        "for a customer return: the reason recorded, when one was given",
    );
    Sheet {
        name: "Receiving",
        file: "receiving.csv",
        columns: c,
        rows: Vec::new(),
    }
}

fn transformation_sheet() -> Sheet {
    let mut c = Vec::new();
    col(
        &mut c,
        "Event id",
        "lotline's record number of the batch: every row of one batch has the same",
    );
    col(
        &mut c,
        "Input traceability lot code",
        "the TLC of a lot used: the supplier's for a received lot, ours for one we made",
    );
    col(
        &mut c,
        "Input internal lot code",
        "our lot code of the lot used",
    );
    push_product(&mut c, "Input");
    col(
        &mut c,
        "Input quantity used",
        "how much of the input lot went into the batch",
    );
    col(&mut c, "Input unit of measure", "the input lot's unit");
    col(
        &mut c,
        "New traceability lot code",
        "the TLC we assigned to the batch's output (§1.1350)",
    );
    col(
        &mut c,
        "New internal lot code",
        "our lot code of the output (the same as its TLC: we assign both)",
    );
    push_location(
        &mut c,
        "Transformation location",
        "where the batch was made (our plant), also the new lot's TLC source",
    );
    col(
        &mut c,
        "Date completed",
        "the business day the batch was made, YYYY-MM-DD",
    );
    push_product(&mut c, "Output");
    col(&mut c, "Output quantity", "how much the batch made");
    col(&mut c, "Output unit of measure", "the output's unit");
    col(
        &mut c,
        "Reference document type",
        "the document the batch was recorded against: WO (work order), BATCH, …",
    );
    col(&mut c, "Reference document number", "its number");
    col(
        &mut c,
        "Production line",
        "the line it was made on, when recorded",
    );
    Sheet {
        name: "Transformation",
        file: "transformation.csv",
        columns: c,
        rows: Vec::new(),
    }
}

fn shipping_sheet() -> Sheet {
    let mut c = Vec::new();
    col(
        &mut c,
        "Traceability lot code",
        "the TLC of the lot shipped: ours for a lot we made, the supplier's for one we ship as received (§1.1340(a)(1))",
    );
    col(
        &mut c,
        "Internal lot code",
        "our lot code of the lot shipped",
    );
    col(&mut c, "Quantity", "the quantity shipped");
    col(&mut c, "Unit of measure", "its unit");
    push_product(&mut c, "");
    push_location(
        &mut c,
        "Immediate subsequent recipient",
        "the location description of who we shipped it to",
    );
    push_location(
        &mut c,
        "Ship-from location",
        "the location description of where it was shipped from (our plant)",
    );
    col(
        &mut c,
        "Date shipped",
        "the business day it was shipped, YYYY-MM-DD",
    );
    push_location(&mut c, "TLC source", TLC_SOURCE);
    col(
        &mut c,
        "TLC source reference",
        "instead of the TLC source location, for a received lot whose lot code was assigned by the packer behind a distributor",
    );
    col(
        &mut c,
        "Reference document type",
        "the document the shipment was recorded against: BOL, INV, ASN, …",
    );
    col(&mut c, "Reference document number", "its number");
    col(
        &mut c,
        "Event id",
        "lotline's record number of the shipment: every line of one shipment has the same",
    );
    Sheet {
        name: "Shipping",
        file: "shipping.csv",
        columns: c,
        rows: Vec::new(),
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
    line("Dates", "Business days, YYYY-MM-DD (ISO 8601).".into());
    line(
        "Units",
        "kg, g, lb, oz, l, ml, gal (US), ea (each), case, dozen.".into(),
    );
    out
}

/// Text as a CSV cell holds it: control, bidi and invisible characters escaped (a record
/// an older lotline stored may hold them, and a file handed to FDA or a customer must not
/// carry them raw), then the ' a spreadsheet needs before text it would otherwise run as a
/// formula (a name or reference typed by anyone): the same rule as the Trace screen's CSV.
pub(crate) fn formula_safe(s: &str) -> std::borrow::Cow<'_, str> {
    let s = lotline_domain::text::escape(s);
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}").into()
    } else {
        s
    }
}

/// Text as an XLSX cell holds it: escaped as for CSV (the workbook's XML would carry a
/// control character as `_x001B_`, which a spreadsheet turns back into the raw one). No
/// formula guard: a string cell is never run.
pub(crate) fn xlsx_text(s: &str) -> std::borrow::Cow<'_, str> {
    lotline_domain::text::escape(s)
}

/// Write one CSV per sheet, and `read-me.txt`, into `dir` (created if missing). Refuses
/// before writing anything if any of the files is there already.
pub fn write_csv(dir: &Path, export: &Export) -> Result<Vec<PathBuf>, StationError> {
    let flag = "csv";
    if dir.exists() && !dir.is_dir() {
        return Err(invalid(
            flag,
            format!("{} is a file; --csv takes a folder", dir.display()),
        ));
    }
    let targets: Vec<PathBuf> = export
        .sheets
        .iter()
        .map(|s| dir.join(s.file))
        .chain(std::iter::once(dir.join("read-me.txt")))
        .collect();
    for t in &targets {
        refuse_existing(t, flag)?;
    }
    std::fs::create_dir_all(dir).map_err(|e| io_error(flag, dir, e))?;
    let mut written = Vec::new();
    for (sheet, path) in export.sheets.iter().zip(&targets) {
        lotline_files::write_new_with(path, |file| {
            let mut w = csv::Writer::from_writer(file);
            w.write_record(sheet.columns.iter().map(|(t, _)| t.as_str()))?;
            let mut rec: Vec<String> = Vec::new();
            for row in &sheet.rows {
                rec.clear();
                rec.extend(row.iter().map(|c| match c {
                    Cell::Text(t) => formula_safe(t).into_owned(),
                    other => other.text(),
                }));
                w.write_record(&rec)?;
            }
            w.flush()
        })
        .map_err(|e| not_written(flag, path, e))?;
        written.push(path.clone());
    }
    let readme_path = &targets[3];
    write_new_file(readme_path, &readme_text(export), flag)?;
    written.push(readme_path.clone());
    Ok(written)
}

/// The Read me as text, for the CSV folder.
pub fn readme_text(export: &Export) -> String {
    let mut out = String::new();
    for (k, v) in &export.readme {
        out.push_str(&format!("{k}: {}\n", lotline_domain::text::escape(v)));
    }
    for s in &export.sheets {
        out.push_str(&format!("\n{} ({}): columns\n", s.name, s.file));
        for (t, m) in &s.columns {
            out.push_str(&format!("  {t}: {m}\n"));
        }
    }
    out
}

/// How far `write_xlsx_with` is: cells of rows laid down, then the file being compressed
/// and saved (one step the writer cannot report inside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XlsxStep {
    Rows {
        done: u64,
        total: u64,
    },
    Saving,
    /// Written under the temporary name; linking it in at the path is next.
    Saved,
}

/// Write the workbook: "Read me", then Receiving, Transformation and Shipping, each
/// with a bold frozen header row, an autofilter and column widths. Refuses an existing
/// path.
pub fn write_xlsx(path: &Path, export: &Export) -> Result<(), StationError> {
    write_xlsx_with(path, export, &mut |_| ControlFlow::Continue(())).map(|_| ())
}

/// Rows of one XLSX sheet, its header row included (Excel's limit).
pub const XLSX_MAX_ROWS: usize = 1_048_576;

/// `write_xlsx`, telling `progress` how far it is (every 10,000 rows, then saving, then
/// saved under the temporary name). `progress` answering `Break` stops it there: the
/// temporary file, if made, is removed, nothing is at `path`, and `Break` is returned.
pub fn write_xlsx_with(
    path: &Path,
    export: &Export,
    progress: &mut dyn FnMut(XlsxStep) -> ControlFlow<()>,
) -> Result<ControlFlow<()>, StationError> {
    let total = export.rows() as u64;
    let mut done = 0u64;
    use rust_xlsxwriter::{Format, FormatAlign, Workbook};
    let flag = "xlsx";
    refuse_existing(path, flag)?;
    // A sheet holds 1,048,576 rows, the header one of them: say so before any work.
    if let Some(s) = export.sheets.iter().find(|s| s.rows.len() >= XLSX_MAX_ROWS) {
        return Err(invalid(
            flag,
            format!(
                "the {} sheet would have {} rows, more than a spreadsheet holds ({}); write CSV instead (--csv DIR), or ask for fewer dates or foods",
                s.name,
                lotline_domain::words::thousands(s.rows.len()),
                lotline_domain::words::thousands(XLSX_MAX_ROWS - 1)
            ),
        ));
    }
    let xl = |e: rust_xlsxwriter::XlsxError| io_error(flag, path, e);
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let head = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_background_color(rust_xlsxwriter::Color::RGB(0xDDEBF7));
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let number = Format::new().set_num_format("0.###");

    let readme = wb.add_worksheet();
    readme.set_name("Read me").map_err(xl)?;
    readme.set_column_width(0, 28).map_err(xl)?;
    readme.set_column_width(1, 100).map_err(xl)?;
    let mut r: u32 = 0;
    for (k, v) in &export.readme {
        readme
            .write_string_with_format(r, 0, k, &bold)
            .map_err(xl)?;
        readme
            .write_string_with_format(r, 1, xlsx_text(v), &wrap)
            .map_err(xl)?;
        r += 1;
    }
    for s in &export.sheets {
        r += 1;
        readme
            .write_string_with_format(r, 0, format!("{}: columns", s.name), &bold)
            .map_err(xl)?;
        r += 1;
        for (t, m) in &s.columns {
            readme.write_string(r, 0, t).map_err(xl)?;
            readme
                .write_string_with_format(r, 1, m, &wrap)
                .map_err(xl)?;
            r += 1;
        }
    }

    for s in &export.sheets {
        let ws = wb.add_worksheet();
        ws.set_name(s.name).map_err(xl)?;
        let mut widths: Vec<usize> = s.columns.iter().map(|(t, _)| t.len().min(24)).collect();
        for (c, (t, _)) in s.columns.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, t, &head)
                .map_err(xl)?;
        }
        for (i, row) in s.rows.iter().enumerate() {
            done += 1;
            if done.is_multiple_of(10_000) && progress(XlsxStep::Rows { done, total }).is_break() {
                return Ok(ControlFlow::Break(()));
            }
            let r = i as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c16 = c as u16;
                match cell {
                    Cell::Text(t) if t.is_empty() => {}
                    Cell::Text(t) => {
                        ws.write_string(r, c16, xlsx_text(t)).map_err(xl)?;
                        if i < 1000 {
                            widths[c] = widths[c].max(t.chars().count().min(40));
                        }
                    }
                    Cell::Qty(q) => {
                        ws.write_number_with_format(r, c16, q.milli() as f64 / 1000.0, &number)
                            .map_err(xl)?;
                    }
                    Cell::Id(n) => {
                        ws.write_number(r, c16, *n as f64).map_err(xl)?;
                    }
                }
            }
        }
        for (c, w) in widths.iter().enumerate() {
            ws.set_column_width(c as u16, (*w as f64 + 2.0).max(8.0))
                .map_err(xl)?;
        }
        ws.set_row_height(0, 45).map_err(xl)?;
        ws.set_freeze_panes(1, 0).map_err(xl)?;
        let last_col = s.columns.len().saturating_sub(1) as u16;
        ws.autofilter(0, 0, s.rows.len() as u32, last_col)
            .map_err(xl)?;
    }
    if progress(XlsxStep::Rows { done, total }).is_break() || progress(XlsxStep::Saving).is_break()
    {
        return Ok(ControlFlow::Break(()));
    }
    let saved = lotline_files::write_new_with(path, |file| {
        wb.save_to_writer(file).map_err(Halt::Failed)?;
        // Compressing takes a while: a stop asked for meanwhile still leaves nothing behind.
        match progress(XlsxStep::Saved) {
            ControlFlow::Break(()) => Err(Halt::Stop),
            ControlFlow::Continue(()) => Ok(()),
        }
    });
    match saved {
        Ok(()) => Ok(ControlFlow::Continue(())),
        Err(lotline_files::Error::Writer(Halt::Stop)) => Ok(ControlFlow::Break(())),
        Err(e) => Err(not_written(flag, path, e)),
    }
}

/// Why a workbook was not saved: asked to stop, or the writer failed.
enum Halt {
    Stop,
    Failed(rust_xlsxwriter::XlsxError),
}

impl std::fmt::Display for Halt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Halt::Stop => f.write_str("stopped"),
            Halt::Failed(e) => e.fmt(f),
        }
    }
}

/// The shipping KDEs of one shipment as CSV text (header and rows), formula-safe.
pub fn sheet_csv(sheet: &Sheet) -> Result<String, StationError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| invalid("csv", e.to_string());
    w.write_record(sheet.columns.iter().map(|(t, _)| t.as_str()))
        .map_err(err)?;
    for row in &sheet.rows {
        w.write_record(row.iter().map(|c| match c {
            Cell::Text(t) => formula_safe(t).into_owned(),
            other => other.text(),
        }))
        .map_err(err)?;
    }
    let bytes = w.into_inner().map_err(|e| invalid("csv", e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| invalid("csv", e.to_string()))
}

pub use crate::file::write_new_file;

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Reader, Xlsx, open_workbook};
    use lotline_domain::{NewReceipt, Quality, SupplierLot, Unit};
    use lotline_station::Local;
    use lotline_station::testing::*;

    fn run() -> RunBy {
        RunBy {
            operator: "ana".into(),
            station: "dock-1".into(),
            at: chrono::DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    /// The test bakery, with a sugar receipt counted in pounds through a distributor.
    fn plant() -> (tempfile::TempDir, Local) {
        let (d, s, _) = bakery();
        add_item(&s, "SUGAR", Unit::Kg, lotline_domain::ItemKind::Ingredient);
        s.receive(
            NewReceipt {
                item: ItemCode::parse("SUGAR", "item").unwrap(),
                supplier: PartyId::parse("MILL", "supplier").unwrap(),
                supplier_lot: SupplierLot::parse("SW-50", "supplier-lot").unwrap(),
                qty: Qty::from_units(50),
                unit: Some(Unit::Lb),
                date: today(),
                expiry: None,
                reference: Some(Reference::parse("BOL:9", "ref").unwrap()),
                quality: Quality::default(),
                tlc_source_ref: Some("GLN 0614141000012".into()),
            },
            &stamp(),
            today(),
        )
        .unwrap();
        (d, Local::new(s, "ana", "dock-1"))
    }

    fn all() -> Request {
        Request {
            ftl_only: false,
            ..Default::default()
        }
    }

    fn column(sheet: &Sheet, title: &str) -> usize {
        sheet
            .columns
            .iter()
            .position(|(t, _)| t == title)
            .unwrap_or_else(|| panic!("no column {title}"))
    }

    /// A station whose answers of more than 700 events "would not fit": what the server
    /// says of a whole plant's history, on a plant small enough for a test.
    struct SmallReplies(Local);

    impl Station for SmallReplies {
        fn call(
            &self,
            request: lotline_station::Request,
        ) -> Result<lotline_station::Reply, StationError> {
            let reply = self.0.call(request)?;
            match &reply {
                lotline_station::Reply::KdeRecords(r) if r.events.len() > 700 => {
                    Err(StationError {
                        kind: ErrorKind::TooLarge,
                        field: None,
                        message: "the answer is 70 MB or more".into(),
                    })
                }
                _ => Ok(reply),
            }
        }
    }

    #[test]
    fn an_answer_too_big_for_one_reply_is_asked_for_in_parts() {
        let (_d, s) = temp_store();
        let spec = lotline_station::testing::plantgen::Spec {
            seed: 5,
            lots_per_day: 150,
            ..lotline_station::testing::plantgen::Spec::new(1_500)
        };
        lotline_station::testing::plantgen::generate(&s, &spec, &mut |_| {}).unwrap();
        let whole = Local::new(s, "ana", "dock-1");
        let mut parts = 0;
        let want = gather(&whole, &all(), &run(), &mut |_| {}).unwrap();
        let small = SmallReplies(whole);
        let got = gather(&small, &all(), &run(), &mut |m| {
            parts += usize::from(m.starts_with("gathering events in parts"));
        })
        .unwrap();
        assert!(parts >= 3, "asked in {parts} splits");
        assert!(want.rows() > 1_000, "{} rows", want.rows());
        assert_eq!(got.sheets, want.sheets, "the same sheets, row for row");
        // Dates asked for are halved the same way.
        let mut dated = all();
        dated.from = Some(spec.end - chrono::Duration::days(8));
        dated.to = Some(spec.end - chrono::Duration::days(1));
        let want = gather(&small.0, &dated, &run(), &mut |_| {}).unwrap();
        let got = gather(&small, &dated, &run(), &mut |_| {}).unwrap();
        assert_eq!(got.sheets, want.sheets);
    }

    #[test]
    fn a_sheet_beyond_what_a_spreadsheet_holds_is_refused_before_any_work() {
        let (_d, st) = plant();
        let mut ex = gather(&st, &all(), &run(), &mut |_| {}).unwrap();
        ex.sheets[1].rows = vec![Vec::new(); XLSX_MAX_ROWS];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.xlsx");
        let e = write_xlsx(&path, &ex).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("xlsx"));
        assert!(
            e.message
                .contains("1,048,576 rows, more than a spreadsheet holds (1,048,575)")
                && e.message.contains("--csv"),
            "{e}"
        );
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn sheets_follow_the_template_and_keep_the_pounds() {
        let (_d, st) = plant();
        let ex = gather(&st, &all(), &run(), &mut |_| {}).unwrap();
        let [rec, tra, shi] = &ex.sheets;
        assert_eq!((rec.rows.len(), tra.rows.len(), shi.rows.len()), (3, 3, 2));
        for s in &ex.sheets {
            assert!(
                s.rows.iter().all(|r| r.len() == s.columns.len()),
                "{}",
                s.name
            );
        }
        let sugar = rec
            .rows
            .iter()
            .find(|r| r[0] == Cell::from("SW-50"))
            .expect("the sugar receipt");
        assert_eq!(
            sugar[column(rec, "Quantity received")],
            Cell::Qty(Qty::from_units(50))
        );
        assert_eq!(sugar[column(rec, "Unit of measure")], Cell::from("lb"));
        assert_eq!(sugar[column(rec, "Quantity stocked")].text(), "22.68");
        assert_eq!(sugar[column(rec, "Stock unit")], Cell::from("kg"));
        // Bought through a distributor: the reference stands for the TLC source.
        assert_eq!(
            sugar[column(rec, "TLC source reference")],
            Cell::from("GLN 0614141000012")
        );
        assert_eq!(
            sugar[column(rec, "TLC source business name")],
            Cell::from("")
        );
        assert_eq!(
            sugar[column(rec, "Reference document type")],
            Cell::from("BOL")
        );
        assert_eq!(
            sugar[column(rec, "Reference document number")],
            Cell::from("9")
        );
        let flour = &rec.rows[0];
        assert_eq!(flour[0], Cell::from("M-88"));
        assert_eq!(
            flour[column(rec, "TLC source business name")],
            Cell::from("MILL Inc")
        );
        // The dough batch: one row per input, tied by the event id.
        let dough: Vec<_> = tra.rows.iter().filter(|r| r[0] == tra.rows[0][0]).collect();
        assert_eq!(dough.len(), 2);
        assert_eq!(
            dough[0][column(tra, "Input traceability lot code")],
            Cell::from("M-88")
        );
        assert_eq!(
            dough[1][column(tra, "Input traceability lot code")],
            Cell::from("f-1121")
        );
        assert_eq!(
            dough[0][column(tra, "Transformation location business name")],
            Cell::from("Unnamed plant")
        );
        // Shipping carries our TLC, our plant as its source.
        let ship = &shi.rows[0];
        assert_eq!(ship[0], ship[1]);
        assert_eq!(
            ship[column(shi, "TLC source business name")],
            Cell::from("Unnamed plant")
        );
        assert_eq!(
            ship[column(shi, "Immediate subsequent recipient business name")],
            Cell::from("SHOP Inc")
        );
        assert!(ex.readme.iter().any(|(k, v)| k == "Produced by"
            && v.starts_with("ana at station dock-1, 2026-11-21 10:00:00 UTC")));
    }

    #[test]
    fn a_customer_return_is_a_receipt_from_the_customer_under_the_shipped_tlc() {
        let (_d, st) = plant();
        let ship = 5;
        let cookies = st
            .kde_records(KdeQuery::default())
            .unwrap()
            .lots
            .into_iter()
            .find(|l| l.item.as_str() == "COOKIE")
            .unwrap();
        let back = st
            .return_goods(lotline_domain::NewReturn {
                shipment: ship.to_string(),
                lot: cookies.code.clone(),
                qty: Qty::from_units(3),
                unit: None,
                date: today(),
                reason: "crushed cases".into(),
                reference: None,
            })
            .unwrap()
            .code;
        let ex = gather(&st, &all(), &run(), &mut |_| {}).unwrap();
        let [rec, _, shi] = &ex.sheets;
        assert!(rec.rows.iter().all(|r| r.len() == rec.columns.len()));
        let row = rec
            .rows
            .iter()
            .find(|r| r[column(rec, "Receipt type")] == Cell::from("customer return"))
            .expect("the return on the Receiving sheet");
        let shipped = shi
            .rows
            .iter()
            .find(|r| r[column(shi, "Event id")] == Cell::Id(ship))
            .unwrap();
        let cell = |name: &str| row[column(rec, name)].clone();
        // The TLC and its source are the shipped lot's, as on its Shipping row.
        assert_eq!(cell("Traceability lot code"), shipped[0]);
        assert_eq!(
            cell("TLC source business name"),
            shipped[column(shi, "TLC source business name")]
        );
        assert_eq!(cell("Internal lot code"), Cell::from(back.as_str()));
        assert_eq!(cell("Quantity received"), Cell::Qty(Qty::from_units(3)));
        assert_eq!(cell("Unit of measure"), Cell::from("case"));
        assert_eq!(cell("Stock unit"), Cell::from("case"));
        assert_eq!(
            cell("Immediate previous source business name"),
            Cell::from("SHOP Inc")
        );
        assert_eq!(
            cell("Receiving location business name"),
            Cell::from("Unnamed plant")
        );
        assert_eq!(cell("Date received"), Cell::from(today().to_string()));
        assert_eq!(cell("Return of shipment"), Cell::Id(ship));
        assert_eq!(cell("Return reason"), Cell::from("crushed cases"));
        // Supplier receipts say so, and leave the return columns blank.
        let flour = &rec.rows[0];
        assert_eq!(
            flour[column(rec, "Receipt type")],
            Cell::from("from supplier")
        );
        assert_eq!(flour[column(rec, "Return of shipment")], Cell::from(""));
        assert!(ex.readme.iter().any(|(k, _)| k == "Customer returns"));
        // By the food: the return comes with it; another food's request leaves it out.
        let cookie = |items: &str| Request {
            items: vec![ItemCode::parse(items, "item").unwrap()],
            ..all()
        };
        let ex = gather(&st, &cookie("COOKIE"), &run(), &mut |_| {}).unwrap();
        assert_eq!(ex.sheets[0].rows.len(), 1);
        let ex = gather(&st, &cookie("EGGS"), &run(), &mut |_| {}).unwrap();
        assert!(
            ex.sheets[0]
                .rows
                .iter()
                .all(|r| r[column(rec, "Receipt type")] == Cell::from("from supplier"))
        );
    }

    #[test]
    fn filters_refuse_what_cannot_be_answered() {
        let (_d, st) = plant();
        // The bakery has no FTL item: the default refuses and says what to do.
        let ftl = Request {
            ftl_only: true,
            ..Default::default()
        };
        let e = gather(&st, &ftl, &run(), &mut |_| {}).unwrap_err();
        assert!(e.to_string().contains("--all"), "{e}");
        let e = gather(
            &st,
            &Request {
                items: vec![ItemCode::parse("EGGS", "item").unwrap()],
                ftl_only: true,
                ..Default::default()
            },
            &run(),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("item: item EGGS is not on the Food Traceability List"),
            "{e}"
        );
        let e = gather(
            &st,
            &Request {
                items: vec![ItemCode::parse("NOPE", "item").unwrap()],
                ..all()
            },
            &run(),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("item: no item NOPE"), "{e}");
        let day = today();
        let e = gather(
            &st,
            &Request {
                from: day.succ_opt(),
                to: Some(day),
                ..all()
            },
            &run(),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("from:"), "{e}");
        let e = gather(
            &st,
            &Request {
                from: day.succ_opt(),
                ..all()
            },
            &run(),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(e.to_string().contains("nothing was written"), "{e}");
        // By item: eggs' receipt and the batch row that used them.
        let ex = gather(
            &st,
            &Request {
                items: vec![ItemCode::parse("EGGS", "item").unwrap()],
                ..all()
            },
            &run(),
            &mut |_| {},
        )
        .unwrap();
        let n: Vec<usize> = ex.sheets.iter().map(|s| s.rows.len()).collect();
        assert_eq!(n, [1, 1, 0]);
    }

    #[test]
    fn xlsx_reads_back_with_its_sheets_headers_and_rows() {
        let (d, st) = plant();
        let ex = gather(&st, &all(), &run(), &mut |_| {}).unwrap();
        let path = d.path().join("fda.xlsx");
        write_xlsx(&path, &ex).unwrap();
        let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
        assert_eq!(
            wb.sheet_names(),
            ["Read me", "Receiving", "Transformation", "Shipping"]
        );
        for s in &ex.sheets {
            let range = wb.worksheet_range(s.name).unwrap();
            assert_eq!(range.height(), s.rows.len() + 1, "{}", s.name);
            let header: Vec<String> = range
                .rows()
                .next()
                .unwrap()
                .iter()
                .map(|c| c.to_string())
                .collect();
            let want: Vec<String> = s.columns.iter().map(|(t, _)| t.clone()).collect();
            assert_eq!(header, want);
        }
        let rec = wb.worksheet_range("Receiving").unwrap();
        let sugar = rec.rows().find(|r| r[0] == "SW-50").unwrap();
        assert_eq!(sugar[2], calamine::Data::Float(50.0));
        assert_eq!(sugar[3].to_string(), "lb");
        assert_eq!(sugar[4], calamine::Data::Float(22.68));
        let readme = wb.worksheet_range("Read me").unwrap();
        assert!(readme.rows().any(|r| r[0] == "Point of contact"));
        // Never over a file: the second write is refused and the first left as it was.
        let before = std::fs::read(&path).unwrap();
        let e = write_xlsx(&path, &ex).unwrap_err();
        assert!(e.to_string().contains("already exists"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
        let leftovers: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn csv_is_formula_safe_and_never_written_over() {
        let (d, st) = plant();
        let ex = gather(&st, &all(), &run(), &mut |_| {}).unwrap();
        let dir = d.path().join("fda");
        let files = write_csv(&dir, &ex).unwrap();
        assert_eq!(files.len(), 4);
        let rec = std::fs::read_to_string(dir.join("receiving.csv")).unwrap();
        assert!(rec.starts_with(
            "Traceability lot code,Internal lot code,Quantity received,Unit of measure,"
        ));
        assert!(rec.contains("SW-50,"), "{rec}");
        let e = write_csv(&dir, &ex).unwrap_err();
        assert!(e.to_string().contains("already exists"), "{e}");
        let mut sheet = ex.sheets[2].clone();
        sheet.rows[0][0] = Cell::from("=HYPERLINK(\"x\")");
        let text = sheet_csv(&sheet).unwrap();
        assert!(text.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{text}");
    }

    #[test]
    fn one_shipment_for_the_customer() {
        let (_d, st) = plant();
        let ships: Vec<u64> = st
            .kde_records(KdeQuery::default())
            .unwrap()
            .events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Ship(_)))
            .map(|e| e.id)
            .collect();
        let sheet = shipment(&st, ships[1]).unwrap();
        assert_eq!(sheet.rows.len(), 1);
        assert_eq!(
            sheet.rows[0][column(&sheet, "Immediate subsequent recipient business name")],
            Cell::from("CAFE Inc")
        );
        assert!(
            shipment(&st, 1)
                .unwrap_err()
                .to_string()
                .contains("not a shipment")
        );
    }
}
