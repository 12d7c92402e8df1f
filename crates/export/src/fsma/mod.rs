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
    Event, EventKind, Gln, Invalid, Item, ItemCode, KdeQuery, KdeRecords, Location, Lot, LotId,
    Origin, Party, PartyId, Plant, Reference,
};
use lotline_station::{ErrorKind, Station, StationError, StationExt};
use std::collections::{HashMap, HashSet};

mod write;
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
            // Known only from a partner's document: its code as the partner gave it;
            // where it was assigned is not known here, so the reference is the
            // identifier the document named it by (docs/epcis.md).
            Origin::Partner { identifier, .. } => {
                (lot.code.to_string(), Default::default(), identifier.clone())
            }
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
