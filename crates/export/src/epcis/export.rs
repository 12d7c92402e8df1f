//! Writing an EPCIS 2.0 JSON-LD document of a plant's events, streamed: one small JSON
//! value per event through the caller's buffered writer, never the whole document in
//! memory. Two passes over the station: the first chooses the events and the items and
//! parties they name (master data goes in the header, before the events), the second
//! writes exactly the events the first chose.

use super::*;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Offset, SecondsFormat, TimeZone, Utc};
use lotline_domain::*;
use lotline_station::{Station, StationError, StationExt};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;

/// Which events to export; every given filter must match.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// That lot's whole trace, both ways: the receipts and batches that made its lots,
    /// their shipments and balance corrections.
    pub lot: Option<LotCode>,
    /// Events naming a lot of one of these items (any item when empty).
    pub items: Vec<ItemCode>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Only events naming a lot of an item on the Food Traceability List.
    pub ftl_only: bool,
    /// Only these events (one shipment's KDEs for its customer); voided ones are left out.
    pub events: Option<Vec<u64>>,
}

#[derive(Debug)]
pub enum ExportError {
    Station(StationError),
    Io(std::io::Error),
    /// The filters match no event; nothing should be written.
    Empty(String),
}

impl From<StationError> for ExportError {
    fn from(e: StationError) -> Self {
        ExportError::Station(e)
    }
}

impl From<std::io::Error> for ExportError {
    fn from(e: std::io::Error) -> Self {
        ExportError::Io(e)
    }
}

/// Events per station call while exporting.
const PAGE: u32 = 5_000;

/// The plant's time zone, for `eventTime`: lotline keeps instants in UTC and business
/// dates in the plant's own calendar (the station's local one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Zone {
    /// The zone of the machine exporting, as the station dates the plant's days.
    #[default]
    Local,
    Fixed(FixedOffset),
}

impl Zone {
    fn offset_at(self, at: DateTime<Utc>) -> FixedOffset {
        match self {
            Zone::Local => chrono::Local
                .offset_from_utc_datetime(&at.naive_utc())
                .fix(),
            Zone::Fixed(o) => o,
        }
    }

    /// The offset at the start of `date` (the earlier one when clocks go back then).
    fn offset_on(self, date: NaiveDate) -> FixedOffset {
        match self {
            Zone::Local => {
                let start = date.and_time(NaiveTime::MIN);
                chrono::Local
                    .offset_from_local_datetime(&start)
                    .earliest()
                    .map(|o| o.fix())
                    .unwrap_or_else(|| self.offset_at(start.and_utc()))
            }
            Zone::Fixed(o) => o,
        }
    }
}

/// What the first pass chose.
#[derive(Debug)]
pub struct Plan {
    /// The zone `eventTime` is written in: [`Zone::Local`] unless the caller says.
    pub zone: Zone,
    plant: Plant,
    key: String,
    items: HashMap<ItemCode, Item>,
    parties: Vec<Party>,
    used_items: BTreeSet<ItemCode>,
    events: Vec<u64>,
    /// A scanned supplier label's kept GS1 elements, by the receipt event they belong to.
    labels: HashMap<u64, Vec<lotline_domain::LabelElement>>,
    pub counts: Counts,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub receipts: u64,
    pub batches: u64,
    pub shipments: u64,
    /// Customer returns (receiving events with disposition `returned`).
    pub returns: u64,
    pub adjustments: u64,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.receipts + self.batches + self.shipments + self.returns + self.adjustments
    }
}

/// The lots an exported event names, or `None` for events EPCIS does not carry (status
/// changes, mock recalls, voids).
fn named_lots(kind: &EventKind) -> Option<Vec<LotId>> {
    match kind {
        EventKind::Receive(_)
        | EventKind::Produce(_)
        | EventKind::Ship(_)
        | EventKind::Return(_)
        | EventKind::Adjust { .. } => Some(kind.lots()),
        _ => None,
    }
}

/// Pass one: choose the events.
pub fn plan(
    st: &dyn Station,
    sel: &Selection,
    progress: &mut dyn FnMut(u64),
) -> Result<Plan, ExportError> {
    if let (Some(f), Some(t)) = (sel.from, sel.to)
        && f > t
    {
        return Err(ExportError::Station(
            Invalid::new(
                "from",
                format!("{f} is after --to {t}; give the earlier date first"),
            )
            .into(),
        ));
    }
    for i in &sel.items {
        st.item(i.clone()).map_err(|e| {
            ExportError::Station(lotline_station::StationError {
                field: Some("item".into()),
                ..e
            })
        })?;
    }
    let plant = st.plant()?;
    let items: HashMap<ItemCode, Item> = st
        .items()?
        .into_iter()
        .map(|i| (i.code.clone(), i))
        .collect();
    let wanted: HashSet<&ItemCode> = items
        .values()
        .filter(|i| sel.items.is_empty() || sel.items.contains(&i.code))
        .filter(|i| !sel.ftl_only || i.ftl)
        .map(|i| &i.code)
        .collect();
    let from = sel.from.unwrap_or(NaiveDate::MIN);
    let to = sel.to.unwrap_or(NaiveDate::MAX);
    let mut chosen = Vec::new();
    let mut used_items = BTreeSet::new();
    let mut used_parties = BTreeSet::new();
    let mut counts = Counts::default();
    let mut labels = HashMap::new();
    let mut take = |page: EventPageRows| {
        let lots: HashMap<LotId, &Lot> = page.lots.iter().map(|l| (l.id, l)).collect();
        for ev in &page.events {
            if let EventKind::LabelData {
                receipt, elements, ..
            } = &ev.kind
            {
                labels.insert(*receipt, elements.clone());
            }
            let Some(named) = named_lots(&ev.kind) else {
                continue;
            };
            if ev.date < from || ev.date > to {
                continue;
            }
            let codes: Vec<&ItemCode> = named
                .iter()
                .filter_map(|id| lots.get(id).map(|l| &l.item))
                .collect();
            if !codes.iter().any(|c| wanted.contains(c)) {
                continue;
            }
            used_items.extend(codes.into_iter().cloned());
            used_parties.extend(ev.kind.parties().into_iter().cloned());
            match ev.kind {
                EventKind::Receive(_) => counts.receipts += 1,
                EventKind::Produce(_) => counts.batches += 1,
                EventKind::Ship(_) => counts.shipments += 1,
                EventKind::Return(_) => counts.returns += 1,
                _ => counts.adjustments += 1,
            }
            chosen.push(ev.id);
        }
    };
    // By food: the items' own lots and their events when the store finds those fewer
    // than the dates' (a product's whole history, say), not every event of the dates.
    let by_food = match (&sel.events, &sel.lot, sel.items.is_empty()) {
        (None, None, false) => st.item_event_ids(sel.items.clone(), sel.from, sel.to)?,
        _ => None,
    };
    match (&sel.events.as_ref().or(by_food.as_ref()), &sel.lot) {
        (Some(ids), _) => {
            let mut seen = 0u64;
            for chunk in ids.chunks(PAGE as usize) {
                take(st.event_page(from, to, None, Some(chunk.to_vec()), PAGE)?);
                seen += chunk.len() as u64;
                progress(seen);
            }
        }
        (None, Some(code)) => {
            let trace = st.trace(code.clone(), lotline_domain::Direction::Both)?;
            let mut ids: BTreeSet<u64> = trace.lots.iter().map(|l| l.event).collect();
            ids.extend(trace.shipments.iter().map(|s| s.event));
            // A return lot reached came back from a shipment, which its return event
            // names: the shipment comes along, also when the trace reached the return lot
            // backward, so an importer can record the return against it.
            for l in &trace.lots {
                if let Origin::Returned { shipment, .. } = l.origin {
                    ids.insert(shipment);
                }
            }
            for l in &trace.lots {
                for h in st.lot_history(l.code.clone())?.events {
                    if matches!(
                        h.event.kind,
                        EventKind::Adjust { .. } | EventKind::LabelData { .. }
                    ) {
                        ids.insert(h.event.id);
                    }
                }
            }
            let ids: Vec<u64> = ids.into_iter().collect();
            let mut seen = 0u64;
            for chunk in ids.chunks(PAGE as usize) {
                take(st.event_page(from, to, None, Some(chunk.to_vec()), PAGE)?);
                seen += chunk.len() as u64;
                progress(seen);
            }
        }
        (None, None) => {
            let mut after = None;
            let mut seen = 0u64;
            loop {
                let page = st.event_page(from, to, after, None, PAGE)?;
                let next = page.next;
                seen += page.events.len() as u64;
                take(page);
                progress(seen);
                match next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
        }
    }
    if chosen.is_empty() {
        return Err(ExportError::Empty(describe_empty(sel)));
    }
    // A trace's and a food's events come in id order, the others in business-date order: either
    // respects every dependency (a lot is recorded before anything uses it), which is
    // what an importer needs.
    let parties = st
        .parties()?
        .into_iter()
        .filter(|p| used_parties.contains(&p.id))
        .collect();
    Ok(Plan {
        zone: Zone::Local,
        key: plant_key(&plant),
        plant,
        items,
        parties,
        used_items,
        events: chosen,
        labels,
        counts,
    })
}

/// A scanned label's kept elements on its receiving event: those CBV has a master-data
/// attribute for (harvest dates, first freeze date, country of origin) under CBV's names,
/// and every one as scanned, AI by AI, in `lotline:gs1Label` (docs/epcis.md). They are
/// lotline extension fields, not `ilmd`: EPCIS 2.0 allows `ilmd` only on events that
/// create the lot (action ADD), and a receipt observes a lot the supplier made.
fn label_fields(m: &mut Map<String, Value>, label: &[lotline_domain::LabelElement], on: NaiveDate) {
    use lotline_domain::scan;
    let date = |ai: &str, value: &str| {
        scan::check_element(ai, value, on)
            .ok()
            .and_then(|e| e.date)
            .map(|d| d.to_string())
    };
    for e in label {
        match e.ai.as_str() {
            "7007" => {
                let (start, end) = e.value.split_at(e.value.len().min(6));
                if let Some(d) = date("7007", start) {
                    m.insert("lotline:harvestStartDate".to_owned(), json!(d));
                }
                if let Some(d) = date("7007", end).filter(|_| !end.is_empty()) {
                    m.insert("lotline:harvestEndDate".to_owned(), json!(d));
                }
            }
            "7006" => {
                if let Some(d) = date("7006", &e.value) {
                    m.insert("lotline:firstFreezeDate".to_owned(), json!(d));
                }
            }
            "422" => {
                if let Some(c) = scan::country_alpha2(&e.value) {
                    m.insert("lotline:countryOfOrigin".to_owned(), json!(c));
                }
            }
            _ => {}
        }
    }
    let all: Map<String, Value> = label
        .iter()
        .map(|e| (e.ai.clone(), json!(e.value)))
        .collect();
    m.insert("lotline:gs1Label".into(), Value::Object(all));
}

fn describe_empty(sel: &Selection) -> String {
    let mut what = Vec::new();
    if let Some(ids) = &sel.events {
        let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        what.push(format!("event {}", ids.join(", ")));
    }
    if let Some(l) = &sel.lot {
        what.push(format!("the trace of lot {l}"));
    }
    if !sel.items.is_empty() {
        let codes: Vec<&str> = sel.items.iter().map(|i| i.as_str()).collect();
        what.push(format!("items {}", codes.join(", ")));
    }
    if sel.from.is_some() || sel.to.is_some() {
        what.push(format!(
            "dates {} to {}",
            sel.from
                .map(|d| d.to_string())
                .unwrap_or("the start".into()),
            sel.to.map(|d| d.to_string()).unwrap_or("today".into())
        ));
    }
    if sel.ftl_only {
        what.push("items on the Food Traceability List (--all for every item)".into());
    }
    format!(
        "no receipts, batches or shipments match {}; nothing was written",
        if what.is_empty() {
            "this database".into()
        } else {
            what.join(" and ")
        }
    )
}

/// URIs of this plant's things.
struct Ids<'a> {
    key: &'a str,
    plant: &'a Plant,
}

impl Ids<'_> {
    fn own(&self, rest: &str) -> String {
        format!("{ID_BASE}{}/{rest}", self.key)
    }
    fn item_class(&self, item: &Item) -> String {
        match &item.gtin {
            Some(g) => format!("{GS1_DL}01/{g}"),
            None => self.own(&format!("item/{}", pct(item.code.as_str()))),
        }
    }
    /// A lot as partners name it. A received lot is the supplier's: their GTIN and
    /// lot code, what the label carries and their own events name (without a GTIN, a lot
    /// identifier of that supplier's); a lot we made is our GTIN and lot code. Our own
    /// code travels beside it (`lotline:lots`). A lot known only from a partner's document
    /// is named as that document named it.
    fn lot(&self, lot: &Lot, item: Option<&Item>) -> String {
        let gtin = item.and_then(|i| i.gtin.as_ref());
        // AI (10) holds at most 20 characters.
        let fits = |code: &str| code.len() <= 20;
        match (&lot.origin, gtin) {
            (Origin::Partner { identifier, .. }, _) => identifier.clone(),
            (Origin::Received { supplier_lot, .. }, Some(g)) if fits(supplier_lot.as_str()) => {
                format!("{GS1_DL}01/{g}/10/{}", pct(supplier_lot.as_str()))
            }
            (
                Origin::Received {
                    supplier,
                    supplier_lot,
                },
                _,
            ) => self.own(&format!(
                "party/{}/item/{}/lot/{}",
                pct(supplier.as_str()),
                pct(lot.item.as_str()),
                pct(supplier_lot.as_str())
            )),
            (_, Some(g)) if fits(lot.code.as_str()) => {
                format!("{GS1_DL}01/{g}/10/{}", pct(lot.code.as_str()))
            }
            _ => self.own(&format!(
                "item/{}/lot/{}",
                pct(lot.item.as_str()),
                pct(lot.code.as_str())
            )),
        }
    }
    fn plant_location(&self) -> String {
        match &self.plant.gln {
            Some(g) => format!("{GS1_DL}414/{g}"),
            None => self.own("plant"),
        }
    }
    fn plant_owner(&self) -> String {
        match &self.plant.gln {
            Some(g) => format!("{GS1_DL}417/{g}"),
            None => self.own("plant"),
        }
    }
    fn party_location(&self, p: Option<&Party>, id: &PartyId) -> String {
        match p.and_then(|p| p.gln.as_ref()) {
            Some(g) => format!("{GS1_DL}414/{g}"),
            None => self.own(&format!("party/{}", pct(id.as_str()))),
        }
    }
    fn party_owner(&self, p: Option<&Party>, id: &PartyId) -> String {
        match p.and_then(|p| p.gln.as_ref()) {
            Some(g) => format!("{GS1_DL}417/{g}"),
            None => self.own(&format!("party/{}", pct(id.as_str()))),
        }
    }
    fn reference(&self, r: &Reference) -> Value {
        let uri = self.own(&format!("doc/{}/{}", pct(&r.kind), pct(&r.number)));
        // Every business transaction has a type: GS1's reference event hash cannot
        // hash a document whose transactions lack one.
        let t = match BIZ_TYPES.iter().find(|(k, _)| *k == r.kind) {
            Some((_, t)) => t.to_string(),
            None => format!("{NS}document"),
        };
        json!({"type": t, "bizTransaction": uri})
    }
}

fn qty_json(q: Qty) -> Value {
    let milli = q.milli();
    if milli % 1000 == 0 {
        json!(milli / 1000)
    } else {
        serde_json::Number::from_f64(milli as f64 / 1000.0)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

fn attr(id: &str, v: impl Into<Value>) -> Value {
    json!({"id": id, "attribute": v.into()})
}

/// Pass two: write the document. Returns how many events were written.
pub fn write(
    st: &dyn Station,
    plan: &Plan,
    created: DateTime<Utc>,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, ExportError> {
    let ids = Ids {
        key: &plan.key,
        plant: &plan.plant,
    };
    let parties: HashMap<&PartyId, &Party> = plan.parties.iter().map(|p| (&p.id, p)).collect();
    let head = json!({
        "@context": [EPCIS_CONTEXT, {"lotline": NS}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": created.to_rfc3339_opts(SecondsFormat::Millis, true),
        "epcisHeader": {"epcisMasterData": {"vocabularyList": [
            {"type": VTYPE_CLASS, "vocabularyElementList": plan.used_items.iter()
                .filter_map(|c| plan.items.get(c)).map(|i| item_master(&ids, i)).collect::<Vec<_>>()},
            {"type": VTYPE_LOCATION, "vocabularyElementList": std::iter::once(plant_master(&ids))
                .chain(plan.parties.iter().map(|p| party_master(&ids, p))).collect::<Vec<_>>()},
        ]}},
    });
    // The head without its closing brace, then the body streamed after it.
    let mut bytes = Vec::new();
    write_json(&mut bytes, &head)?;
    out.write_all(&bytes[..bytes.len() - 1])?;
    out.write_all(b",\"epcisBody\":{\"eventList\":[\n")?;
    let mut written = 0u64;
    let cores = cores();
    for chunk in plan.events.chunks(PAGE as usize) {
        let page = st.event_page(
            NaiveDate::MIN,
            NaiveDate::MAX,
            None,
            Some(chunk.to_vec()),
            PAGE,
        )?;
        let lots: HashMap<LotId, &Lot> = page.lots.iter().map(|l| (l.id, l)).collect();
        let docs: HashMap<u64, &Documents> = page.documents.iter().map(|(e, d)| (*e, d)).collect();
        // The shipments returns point to are looked up first, one at a time (they ask
        // the station); then the events are made and hashed on every core, in slices
        // written in order as they come.
        let return_of = page
            .events
            .iter()
            .map(|ev| match &ev.kind {
                EventKind::Return(r) => shipment_event_id(st, &ids, plan, &parties, r.shipment),
                _ => Ok(None),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let one = |i: usize| -> std::io::Result<Option<Vec<u8>>> {
            let ev = &page.events[i];
            let docs = docs.get(&ev.id).copied();
            let Some(v) = event_json(&ids, plan, &parties, &lots, ev, docs, return_of[i].clone())
            else {
                return Ok(None);
            };
            let mut bytes = Vec::with_capacity(2048);
            write_json(&mut bytes, &v)?;
            Ok(Some(bytes))
        };
        for start in (0..page.events.len()).step_by(SLICE) {
            let end = (start + SLICE).min(page.events.len());
            for bytes in on_every_core(start..end, cores, &one)? {
                let Some(bytes) = bytes else { continue };
                if written > 0 {
                    out.write_all(b",\n")?;
                }
                out.write_all(&bytes)?;
                written += 1;
            }
        }
        progress(written);
    }
    out.write_all(b"\n]}}\n")?;
    Ok(written)
}

/// Pass two into a new file at `path` (`lotline_files`): whole or absent, never written
/// over. Returns how many events were written.
pub fn write_file(
    st: &dyn Station,
    plan: &Plan,
    created: DateTime<Utc>,
    path: &std::path::Path,
    progress: &mut dyn FnMut(u64),
) -> Result<u64, ExportError> {
    let exists = || {
        std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!(
                "{} already exists; lotline never overwrites a file: give a new name",
                path.display()
            ),
        )
    };
    lotline_files::write_new_with(path, |w| write(st, plan, created, w, progress)).map_err(|e| {
        match e {
            lotline_files::Error::Exists | lotline_files::Error::Appeared => exists().into(),
            lotline_files::Error::Io(e) | lotline_files::Error::Place(e) => e.into(),
            lotline_files::Error::Writer(e) => e,
        }
    })
}

/// Events made and hashed at once before they are written: enough to keep every core
/// busy, few enough that a slice's JSON stays a few megabytes.
const SLICE: usize = 512;

/// The threads an export makes and hashes its events on: the machine's cores, at most
/// four.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// `f` of every index in `range`, in order, the range split over `cores` threads: an
/// event's hash costs several times its JSON, and a plant-year is hundreds of thousands
/// of them.
fn on_every_core<T: Send>(
    range: std::ops::Range<usize>,
    cores: usize,
    f: &(dyn Fn(usize) -> std::io::Result<T> + Sync),
) -> std::io::Result<Vec<T>> {
    let cores = cores.max(1);
    let per = range.len().div_ceil(cores).max(1);
    if cores == 1 || range.len() <= per {
        return range.map(f).collect();
    }
    let starts: Vec<usize> = range.clone().step_by(per).collect();
    std::thread::scope(|s| {
        let parts: Vec<_> = starts
            .iter()
            .map(|&from| {
                let to = (from + per).min(range.end);
                s.spawn(move || (from..to).map(f).collect::<std::io::Result<Vec<T>>>())
            })
            .collect();
        let mut all = Vec::with_capacity(range.len());
        for part in parts {
            // A panic on a worker is one here too, as it would have been done in line.
            let part = part
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e))?;
            all.extend(part);
        }
        Ok(all)
    })
}

/// Compact JSON in which characters a terminal must not see raw
/// (`domain::text::is_unsafe`: DEL, C1 controls, bidi and zero-width characters, which
/// serde_json passes through) are `\uXXXX` escapes: the document means the same, and it
/// is safe to print or view.
fn write_json(out: &mut dyn Write, v: &Value) -> std::io::Result<()> {
    use serde::Serialize;
    let mut s = serde_json::Serializer::with_formatter(out, SafeJson);
    v.serialize(&mut s).map_err(std::io::Error::other)
}

struct SafeJson;

impl serde_json::ser::Formatter for SafeJson {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        if fragment.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return w.write_all(fragment.as_bytes());
        }
        let mut from = 0;
        for (i, c) in fragment.char_indices() {
            if lotline_domain::text::is_unsafe(c) {
                w.write_all(&fragment.as_bytes()[from..i])?;
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{u:04x}")?;
                }
                from = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[from..])
    }
}

fn item_master(ids: &Ids, i: &Item) -> Value {
    let d = &i.description;
    let mut attrs = vec![
        attr(&format!("{NS}itemCode"), i.code.as_str()),
        attr(&format!("{NS}unit"), unit_code(i.unit)),
        attr(&format!("{NS}itemKind"), i.kind.as_str()),
        attr(&format!("{NS}ftl"), if i.ftl { "true" } else { "false" }),
    ];
    for (k, v) in [
        ("productName", &d.name),
        ("brand", &d.brand),
        ("commodity", &d.commodity),
        ("variety", &d.variety),
        ("packSize", &d.pack_size),
        ("packStyle", &d.pack_style),
    ] {
        if !v.is_empty() {
            attrs.push(attr(&format!("{NS}{k}"), v.as_str()));
        }
    }
    if let Some(days) = i.shelf_life_days {
        attrs.push(attr(&format!("{NS}shelfLifeDays"), days));
    }
    for (k, v) in [
        ("receivingTempMinC", i.receiving_temp.min_dc),
        ("receivingTempMaxC", i.receiving_temp.max_dc),
    ] {
        if let Some(dc) = v {
            attrs.push(attr(&format!("{NS}{k}"), format_temperature(dc)));
        }
    }
    json!({"id": ids.item_class(i), "attributes": attrs})
}

fn location_attrs(l: &Location) -> Vec<Value> {
    let mut attrs = Vec::new();
    for (k, v) in [
        ("urn:epcglobal:cbv:mda#name", &l.business_name),
        ("urn:epcglobal:cbv:mda#streetAddressOne", &l.street),
        ("urn:epcglobal:cbv:mda#city", &l.city),
        ("urn:epcglobal:cbv:mda#state", &l.state),
        ("urn:epcglobal:cbv:mda#postalCode", &l.zip),
        ("urn:epcglobal:cbv:mda#countryCode", &l.country),
    ] {
        if !v.is_empty() {
            attrs.push(attr(k, v.as_str()));
        }
    }
    if !l.phone.is_empty() {
        attrs.push(attr(&format!("{NS}phone"), l.phone.as_str()));
    }
    attrs
}

fn plant_master(ids: &Ids) -> Value {
    let mut attrs = location_attrs(&ids.plant.location);
    attrs.push(attr(&format!("{NS}role"), "plant"));
    json!({"id": ids.plant_location(), "attributes": attrs})
}

fn party_master(ids: &Ids, p: &Party) -> Value {
    let mut attrs = location_attrs(&p.location);
    attrs.push(attr(&format!("{NS}partyId"), p.id.as_str()));
    attrs.push(attr(&format!("{NS}role"), p.role.as_str()));
    json!({"id": ids.party_location(Some(p), &p.id), "attributes": attrs})
}

/// `eventTime` and `eventTimeZoneOffset`: when the event was recorded, in the plant's
/// zone, when that was on its business date; else (an event entered afterwards) the
/// start of the business date there.
fn event_time(ev: &Event, zone: Zone) -> (String, String) {
    let offset = zone.offset_at(ev.stamp.at);
    let local = ev.stamp.at.with_timezone(&offset);
    if local.date_naive() == ev.date {
        (
            local.to_rfc3339_opts(SecondsFormat::Millis, false),
            offset.to_string(),
        )
    } else {
        let offset = zone.offset_on(ev.date);
        (
            format!("{}T00:00:00.000{offset}", ev.date),
            offset.to_string(),
        )
    }
}

/// The eventID the export gives shipment `id`, for a return that names it; `None` when
/// it no longer stands.
fn shipment_event_id(
    st: &dyn Station,
    ids: &Ids,
    plan: &Plan,
    parties: &HashMap<&PartyId, &Party>,
    id: u64,
) -> Result<Option<String>, ExportError> {
    let page = st.event_page(NaiveDate::MIN, NaiveDate::MAX, None, Some(vec![id]), 1)?;
    let lots: HashMap<LotId, &Lot> = page.lots.iter().map(|l| (l.id, l)).collect();
    let docs = page
        .documents
        .iter()
        .find(|(e, _)| *e == id)
        .map(|(_, d)| d);
    Ok(page
        .events
        .iter()
        .find(|e| e.id == id && matches!(e.kind, EventKind::Ship(_)))
        .and_then(|ev| event_json(ids, plan, parties, &lots, ev, docs, None))
        .and_then(|v| v.get("eventID").and_then(Value::as_str).map(str::to_string)))
}

/// The prefixes of lotline's documents, for the event hash.
const PREFIXES: &[(&str, &str)] = &[("lotline", NS)];

fn event_json(
    ids: &Ids,
    plan: &Plan,
    parties: &HashMap<&PartyId, &Party>,
    lots: &HashMap<LotId, &Lot>,
    ev: &Event,
    docs: Option<&Documents>,
    return_of: Option<String>,
) -> Option<Value> {
    // Our lot codes, one per quantity element in the order written (inputs, then the
    // output): what a partner's identifier for a received lot does not say.
    let codes = std::cell::RefCell::new(Vec::<String>::new());
    let element = |lot: &Lot, qty: Qty, unit: Unit| -> Value {
        codes.borrow_mut().push(lot.code.to_string());
        json!({
            "epcClass": ids.lot(lot, plan.items.get(&lot.item)),
            "quantity": qty_json(qty),
            "uom": unit_code(unit),
        })
    };
    let quantity = |u: &Use| -> Option<Value> {
        let lot = lots.get(&u.lot)?;
        Some(element(lot, u.qty, lot.unit))
    };
    let mut m = Map::new();
    let kind_type = if matches!(ev.kind, EventKind::Produce(_)) {
        "TransformationEvent"
    } else {
        "ObjectEvent"
    };
    m.insert("type".into(), json!(kind_type));
    // Set below, once the event is whole: its hash.
    m.insert("eventID".into(), Value::Null);
    let (time, offset) = event_time(ev, plan.zone);
    m.insert("eventTime".into(), json!(time));
    m.insert("eventTimeZoneOffset".into(), json!(offset));
    m.insert(
        "recordTime".into(),
        json!(ev.stamp.at.to_rfc3339_opts(SecondsFormat::Millis, true)),
    );
    let here = json!({"id": ids.plant_location()});
    let plant_src = |dir: &str| {
        json!([
            {"type": "owning_party", dir: ids.plant_owner()},
            {"type": "location", dir: ids.plant_location()},
        ])
    };
    match &ev.kind {
        EventKind::Receive(r) => {
            let lot = lots.get(&r.lot)?;
            let supplier = parties.get(&r.supplier).copied();
            m.insert("action".into(), json!("OBSERVE"));
            m.insert("bizStep".into(), json!("receiving"));
            m.insert("readPoint".into(), here.clone());
            m.insert("bizLocation".into(), here);
            // FSMA asks for the quantity and unit as received (50 lb, not the 22.68 kg
            // the lot is kept in); receipts older than lotline keeping it have only the
            // kept quantity.
            let (qty, unit) = r
                .as_received
                .map(|c| (c.qty, c.unit))
                .unwrap_or((r.qty, r.unit));
            m.insert("quantityList".into(), json!([element(lot, qty, unit)]));
            m.insert(
                "sourceList".into(),
                json!([
                    {"type": "owning_party", "source": ids.party_owner(supplier, &r.supplier)},
                    {"type": "location", "source": ids.party_location(supplier, &r.supplier)},
                ]),
            );
            m.insert("destinationList".into(), plant_src("destination"));
            m.insert("lotline:tlc".into(), json!(r.supplier_lot.as_str()));
            m.insert(
                "lotline:tlcSource".into(),
                json!(ids.party_location(supplier, &r.supplier)),
            );
            if let Some(t) = &r.tlc_source_ref {
                m.insert("lotline:tlcSourceReference".into(), json!(t));
            }
            if let Some(e) = r.expiry {
                m.insert("lotline:expiryDate".into(), json!(e.to_string()));
            }
            if let Some(t) = r.quality.temperature_dc {
                m.insert("lotline:temperatureC".into(), json!(format_temperature(t)));
            }
            if let Some(i) = r.quality.inspection {
                let v = match i {
                    Inspection::Pass => "pass",
                    Inspection::Fail => "fail",
                };
                m.insert("lotline:inspection".into(), json!(v));
            }
            if !r.quality.note.is_empty() {
                m.insert("lotline:note".into(), json!(r.quality.note));
            }
            if let Some(label) = plan.labels.get(&ev.id) {
                label_fields(&mut m, label, ev.date);
            }
        }
        EventKind::Produce(b) => {
            let out = lots.get(&b.output)?;
            let inputs: Vec<Value> = b.inputs.iter().filter_map(quantity).collect();
            m.insert("inputQuantityList".into(), json!(inputs));
            m.insert(
                "outputQuantityList".into(),
                json!([element(out, b.qty, b.unit)]),
            );
            m.insert("bizStep".into(), json!("creating_class_instance"));
            m.insert("readPoint".into(), here.clone());
            m.insert("bizLocation".into(), here);
            if let Some(e) = out.expiry {
                m.insert("ilmd".into(), json!({ EXPIRY_ATTR: e.to_string() }));
            }
            if let Some(line) = &b.line {
                m.insert("lotline:productionLine".into(), json!(line));
            }
            m.insert("lotline:tlcSource".into(), json!(ids.plant_location()));
        }
        EventKind::Ship(s) => {
            let customer = parties.get(&s.customer).copied();
            let lines: Vec<Value> = s.lines.iter().filter_map(quantity).collect();
            m.insert("action".into(), json!("OBSERVE"));
            m.insert("bizStep".into(), json!("shipping"));
            m.insert("readPoint".into(), here.clone());
            m.insert("bizLocation".into(), here);
            m.insert("quantityList".into(), json!(lines));
            m.insert("sourceList".into(), plant_src("source"));
            m.insert(
                "destinationList".into(),
                json!([
                    {"type": "owning_party", "destination": ids.party_owner(customer, &s.customer)},
                    {"type": "location", "destination": ids.party_location(customer, &s.customer)},
                ]),
            );
        }
        // Our food received back from a customer: a receiving event of the lot that was
        // shipped (what the returned cases carry), disposition `returned` (CBV: sent back
        // by a previous owner), the customer the source. The lot it is kept under here
        // and the shipment it came back from travel as lotline's own fields.
        EventKind::Return(r) => {
            let shipped = lots.get(&r.from)?;
            let back = lots.get(&r.lot)?;
            let customer = parties.get(&r.customer).copied();
            m.insert("action".into(), json!("OBSERVE"));
            m.insert("bizStep".into(), json!("receiving"));
            m.insert("disposition".into(), json!("returned"));
            m.insert("readPoint".into(), here.clone());
            m.insert("bizLocation".into(), here);
            m.insert(
                "quantityList".into(),
                json!([element(shipped, r.qty, r.unit)]),
            );
            m.insert(
                "sourceList".into(),
                json!([
                    {"type": "owning_party", "source": ids.party_owner(customer, &r.customer)},
                    {"type": "location", "source": ids.party_location(customer, &r.customer)},
                ]),
            );
            m.insert("destinationList".into(), plant_src("destination"));
            m.insert("lotline:returnLot".into(), json!(back.code.as_str()));
            if let Some(id) = return_of {
                m.insert("lotline:returnOf".into(), json!(id));
            }
            // The TLC the food went out under: ours for a lot we made, the supplier's for
            // one shipped as received.
            if let Origin::Received { supplier_lot, .. } = &shipped.origin {
                m.insert("lotline:tlc".into(), json!(supplier_lot.as_str()));
            }
            if !r.reason.is_empty() {
                m.insert("lotline:reason".into(), json!(r.reason));
            }
        }
        EventKind::Adjust { lot, delta, reason } => {
            let q = quantity(&Use {
                lot: *lot,
                qty: Qty(delta.milli().abs()),
            })?;
            m.insert("action".into(), json!("OBSERVE"));
            m.insert("bizStep".into(), json!(ADJUST_STEP));
            m.insert("readPoint".into(), here.clone());
            m.insert("bizLocation".into(), here);
            m.insert("quantityList".into(), json!([q]));
            m.insert("lotline:adjustment".into(), json!(delta.to_string()));
            m.insert("lotline:reason".into(), json!(reason));
        }
        _ => return None,
    }
    // Every reference document of the event, its own first: a partner gets the PO beside
    // the bill of lading, as the FDA sheet shows both. The hash sorts the list, so the
    // order written changes no eventID.
    let refs = match docs {
        Some(d) => d.all(ev.reference.as_ref()),
        None => ev.reference.iter().collect(),
    };
    if !refs.is_empty() {
        let list: Vec<Value> = refs.into_iter().map(|r| ids.reference(r)).collect();
        m.insert("bizTransactionList".into(), Value::Array(list));
    }
    // A food on the Food Traceability List recorded without any document keeps why; the
    // partner's records need it as much as ours (EPCIS has no field for it).
    if let Some(why) = docs.and_then(|d| d.none_because.as_ref()) {
        m.insert("lotline:noReferenceReason".into(), json!(why));
    }
    m.insert("lotline:lots".into(), json!(codes.into_inner()));
    let mut v = Value::Object(m);
    v["eventID"] = json!(super::hash::event_hash(&v, PREFIXES));
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_split_over_the_cores_comes_back_in_order_and_stops_at_an_error() {
        let square = |i: usize| -> std::io::Result<usize> { Ok(i * i) };
        // Four threads whatever machine runs the test, and one.
        for cores in [1, 4] {
            for n in [0, 1, 3, 511, 512, 1000] {
                let got = on_every_core(7..7 + n, cores, &square).unwrap();
                let want: Vec<usize> = (7..7 + n).map(|i| i * i).collect();
                assert_eq!(got, want, "{cores} {n}");
            }
        }
        let failing = |i: usize| -> std::io::Result<usize> {
            if i == 300 {
                Err(std::io::Error::other("disk full"))
            } else {
                Ok(i)
            }
        };
        let e = on_every_core(0..512, 4, &failing).unwrap_err();
        assert_eq!(e.to_string(), "disk full");
    }

    #[test]
    fn unsafe_characters_are_escaped_and_mean_the_same() {
        let v = json!({"note": "ok \u{202e}evil\u{7f} é"});
        let mut out = Vec::new();
        write_json(&mut out, &v).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\\u202e"), "{text}");
        assert!(text.contains("\\u007f"), "{text}");
        assert!(text.contains('é'), "{text}");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
    }

    #[test]
    fn event_times_are_in_the_plants_zone_and_late_entries_start_their_day() {
        let at: DateTime<Utc> = "2026-11-21T23:30:00.125Z".parse().unwrap();
        let ev = |date: &str| Event {
            id: 1,
            stamp: Stamp {
                operator: "ana".into(),
                station: "dock".into(),
                at,
            },
            date: date.parse().unwrap(),
            reference: None,
            kind: EventKind::Void {
                event: 0,
                reason: String::new(),
            },
        };
        let east = Zone::Fixed(FixedOffset::east_opt(2 * 3600).unwrap());
        // 23:30 UTC is already the 22nd at +02:00: recorded on its business date there.
        assert_eq!(
            event_time(&ev("2026-11-22"), east),
            ("2026-11-22T01:30:00.125+02:00".into(), "+02:00".into())
        );
        // Entered on a later day than it happened: the start of its business date.
        assert_eq!(
            event_time(&ev("2026-11-20"), east),
            ("2026-11-20T00:00:00.000+02:00".into(), "+02:00".into())
        );
        let west = Zone::Fixed(FixedOffset::west_opt(5 * 3600).unwrap());
        assert_eq!(
            event_time(&ev("2026-11-21"), west).0,
            "2026-11-21T18:30:00.125-05:00"
        );
    }

    #[test]
    fn quantities_are_exact_numbers() {
        assert_eq!(qty_json(Qty(22_680)).to_string(), "22.68");
        assert_eq!(qty_json(Qty(50_000)).to_string(), "50");
        assert_eq!(qty_json(Qty(1)).to_string(), "0.001");
    }
}
