//! Reading an EPCIS 2.0 JSON-LD document — lotline's own or another system's — into an
//! [`EpcisImport`] the station records in one transaction.
//!
//! The document is read as a stream: one event at a time is held as JSON, mapped to
//! lotline values and dropped, so a document of a million events needs memory for the
//! mapped events only. Every read is bounded: the file, the master data and each event
//! have a most size, so a 2 GB file or one gigantic event is refused with a message, never
//! read into memory.
//!
//! What maps (docs/epcis.md has the full table): receiving and shipping `ObjectEvent`s
//! naming lots in `quantityList`; `TransformationEvent`s with input lots and one output
//! lot; lotline's own balance corrections. Anything else — instance-level EPCs (serial
//! numbers), aggregation, association and transaction events, other business steps — is
//! reported with its eventID and why. Events declared in error (`errorDeclaration`) are not
//! imported: their corrective events are, as the standard intends.

use super::*;
use chrono::{DateTime, FixedOffset, NaiveDate};
use lotline_domain::*;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::rc::Rc;

/// Largest document read: a year of a large plant is well under it; split bigger exports
/// by date.
pub const MAX_FILE: u64 = 1 << 30;
/// Largest single event. lotline's own are under 2 KB; a partner's with sensor data a few
/// tens of KB.
pub const MAX_EVENT: u64 = 1 << 20;
/// Largest `@context` or `epcisHeader` (master data).
pub const MAX_HEADER: u64 = 64 << 20;

#[derive(Debug, Clone)]
pub struct Options {
    /// Prepended to every lot code: plants number lots alike, so a head office gives each
    /// plant its own prefix.
    pub lot_prefix: String,
    pub skip_unmappable: bool,
    /// Size limits in bytes: [`MAX_FILE`] and [`MAX_EVENT`] unless a test lowers them.
    pub max_file: u64,
    pub max_event: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            lot_prefix: String::new(),
            skip_unmappable: false,
            max_file: MAX_FILE,
            max_event: MAX_EVENT,
        }
    }
}

/// A document read and mapped.
#[derive(Debug)]
pub struct Parsed {
    pub import: EpcisImport,
    /// Events the document itself declares in error; not imported, listed for the user.
    pub declared_in_error: Vec<Unmapped>,
    /// Events in the document.
    pub events_read: u64,
}

/// Why a document could not be read at all; nothing of it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError(pub String);

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A reader that counts bytes and refuses to go past a limit the parser moves: the whole
/// file, or the current event.
struct Bounded<R> {
    inner: R,
    /// Its own buffer: serde_json reads a byte at a time, so one layer here instead of a
    /// `BufReader` under it is a measurable part of an import.
    buf: Box<[u8]>,
    at: usize,
    end: usize,
    state: Rc<Limits>,
}

struct Limits {
    max_file: u64,
    max_event: u64,
    pos: Cell<u64>,
    limit: Cell<u64>,
    /// What the current limit is for.
    what: Cell<Limit>,
    /// Which limit was hit, once one was.
    hit: Cell<Option<Limit>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Limit {
    File,
    Event { index: u32, start: u64 },
    Header,
}

impl Limits {
    /// From here on, at most `bytes` more, for `what` (never past the file's limit).
    fn set(&self, what: Limit, bytes: u64) {
        self.limit
            .set(self.pos.get().saturating_add(bytes).min(self.max_file));
        self.what.set(if self.limit.get() == self.max_file {
            Limit::File
        } else {
            what
        });
    }

    fn whole_file(&self) {
        self.limit.set(self.max_file);
        self.what.set(Limit::File);
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.at == self.end {
            self.at = 0;
            self.end = loop {
                match self.inner.read(&mut self.buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            };
            if self.end == 0 {
                return Ok(0);
            }
        }
        // There is more data: past the limit it is an oversize document or event.
        let pos = self.state.pos.get();
        let left = self.state.limit.get().saturating_sub(pos);
        if left == 0 {
            self.state.hit.set(Some(self.state.what.get()));
            return Err(std::io::Error::other("size limit"));
        }
        let n = out
            .len()
            .min(self.end - self.at)
            .min(usize::try_from(left).unwrap_or(usize::MAX));
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        self.state.pos.set(pos + n as u64);
        Ok(n)
    }
}

/// Read and map the document in `reader`; `source` names it in messages and records.
/// `progress` is told how many events have been read.
pub fn read(
    reader: impl Read,
    source: &str,
    opts: &Options,
    progress: &mut dyn FnMut(u64),
) -> Result<Parsed, ReadError> {
    let limits = Rc::new(Limits {
        max_file: opts.max_file,
        max_event: opts.max_event,
        pos: Cell::new(0),
        limit: Cell::new(opts.max_file),
        what: Cell::new(Limit::File),
        hit: Cell::new(None),
    });
    let bounded = Bounded {
        inner: reader,
        buf: vec![0u8; 1 << 16].into_boxed_slice(),
        at: 0,
        end: 0,
        state: limits.clone(),
    };
    let mut m = Mapper::new(opts, progress);
    let mut de = serde_json::Deserializer::from_reader(bounded);
    let seed = DocSeed {
        m: &mut m,
        limits: &limits,
    };
    let outcome = seed.deserialize(&mut de).and_then(|()| de.end());
    if let Err(e) = outcome {
        return Err(ReadError(describe(&e, &limits, &m)));
    }
    m.finish(source)
}

fn describe(e: &serde_json::Error, limits: &Limits, m: &Mapper) -> String {
    let at = format!("line {}, column {}", e.line(), e.column());
    match limits.hit.get() {
        Some(Limit::File) => format!(
            "the document is larger than {}; export it in date ranges (--from/--to) and import each",
            size(limits.max_file)
        ),
        Some(Limit::Event { index, start }) => format!(
            "event {index} (starting at byte {start}, {at}) is larger than {}; lotline refuses it rather than read it into memory",
            size(limits.max_event)
        ),
        Some(Limit::Header) => format!(
            "the document's @context or epcisHeader is larger than {} MiB",
            MAX_HEADER >> 20
        ),
        None => match e.classify() {
            serde_json::error::Category::Eof => format!(
                "the file ends in the middle of the document (at {at}, after {} events): it is truncated or still being written",
                m.read
            ),
            serde_json::error::Category::Syntax => {
                format!("not valid JSON at {at}: {e}", e = strip_position(e))
            }
            serde_json::error::Category::Data => format!("{} (at {at})", strip_position(e)),
            serde_json::error::Category::Io => format!("could not read the file: {e}"),
        },
    }
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// serde_json's message without its own " at line L column C".
fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The document object: `@context`, `type`, `schemaVersion`, `epcisHeader`, then the
/// events streamed out of `epcisBody.eventList`.
struct DocSeed<'a, 'p> {
    m: &'a mut Mapper<'p>,
    limits: &'a Rc<Limits>,
}

impl<'de> DeserializeSeed<'de> for DocSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DocSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an EPCIS document (a JSON object with type EPCISDocument)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut body = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "@context" | "type" | "schemaVersion" | "epcisHeader" => {
                    self.limits.set(Limit::Header, MAX_HEADER);
                    let v: Value = map.next_value()?;
                    self.limits.whole_file();
                    self.m.header(&key, v).map_err(de::Error::custom)?;
                }
                "isA" => {
                    return Err(de::Error::custom(
                        "this document uses 'isA', from a draft of EPCIS 2.0 before the published standard; lotline reads EPCIS 2.0 as published (with 'type')",
                    ));
                }
                "epcisBody" => {
                    body = true;
                    self.m.check_document().map_err(de::Error::custom)?;
                    map.next_value_seed(BodySeed {
                        m: &mut *self.m,
                        limits: self.limits,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !body {
            return Err(de::Error::custom(
                "not an EPCIS document: it has no epcisBody",
            ));
        }
        self.m.check_document().map_err(de::Error::custom)
    }
}

struct BodySeed<'a, 'p> {
    m: &'a mut Mapper<'p>,
    limits: &'a Rc<Limits>,
}

impl<'de> DeserializeSeed<'de> for BodySeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BodySeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("epcisBody as an object holding eventList")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut list = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "eventList" {
                list = true;
                map.next_value_seed(ListSeed {
                    m: &mut *self.m,
                    limits: self.limits,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if !list {
            return Err(de::Error::custom(
                "not an EPCIS document: epcisBody has no eventList",
            ));
        }
        Ok(())
    }
}

struct ListSeed<'a, 'p> {
    m: &'a mut Mapper<'p>,
    limits: &'a Rc<Limits>,
}

impl<'de> DeserializeSeed<'de> for ListSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("eventList as an array of events")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            let index = self.m.read as u32;
            if self.m.read as usize >= MAX_IMPORT_EVENTS {
                return Err(de::Error::custom(format!(
                    "the document has more than {MAX_IMPORT_EVENTS} events, more than one import takes; export it in date ranges (--from/--to) and import each"
                )));
            }
            self.limits.set(
                Limit::Event {
                    index,
                    start: self.limits.pos.get(),
                },
                self.limits.max_event,
            );
            let mut twice = Vec::new();
            let Some(v) = seq.next_element_seed(StrictValue {
                depth: 0,
                parent: "",
                twice: &mut twice,
            })?
            else {
                break;
            };
            self.limits.whole_file();
            self.m.event(index, v, &twice);
        }
        self.limits.whole_file();
        Ok(())
    }
}

/// One event as JSON, noting the keys an object at its top level or one level down gives
/// twice (as `key` or `parent/key`): serde_json keeps the last of them silently, and a
/// label naming an AI twice must be refused as a scanned one is, not read as its last
/// element. Deeper objects are read as serde_json reads them.
struct StrictValue<'a> {
    depth: u8,
    /// The key this value is under, at depth 1.
    parent: &'a str,
    twice: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // What serde_json's own `Value` makes of it (JSON has no NaN or infinity).
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<Value>()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let v = if self.depth == 0 {
                map.next_value_seed(StrictValue {
                    depth: 1,
                    parent: &key,
                    twice: &mut *self.twice,
                })?
            } else {
                map.next_value::<Value>()?
            };
            if out.contains_key(&key) {
                self.twice.push(if self.depth == 0 {
                    key.clone()
                } else {
                    format!("{}/{key}", self.parent)
                });
            }
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// An item the document names, gathered while reading; made an [`ItemRef`] at the end,
/// when all master data is known.
struct ItemDraft {
    gtin: Option<Gtin>,
    /// lotline's item code, when the lot URI was lotline's own.
    code: Option<String>,
    unit: Unit,
    kind: ItemKind,
}

struct PartyDraft {
    id: PartyId,
    gln: Option<Gln>,
    /// Master data found for it, by attribute id.
    master: Option<Map<String, Value>>,
    supplies: bool,
    buys: bool,
}

/// Maps events as they are read.
struct Mapper<'p> {
    opts: &'p Options,
    progress: &'p mut dyn FnMut(u64),
    /// The prefix the document binds to lotline's namespace (`lotline` in our own).
    prefix: Option<String>,
    doc_type: Option<Value>,
    version: Option<Value>,
    checked: bool,
    /// Master data by element id: attribute id → value.
    master: HashMap<String, Map<String, Value>>,
    items: Vec<ItemDraft>,
    item_keys: HashMap<String, u32>,
    parties: Vec<PartyDraft>,
    party_keys: HashMap<String, u32>,
    events: Vec<ImportEvent>,
    unmapped: Vec<Unmapped>,
    declared: Vec<Unmapped>,
    read: u64,
}

impl<'p> Mapper<'p> {
    fn new(opts: &'p Options, progress: &'p mut dyn FnMut(u64)) -> Self {
        Mapper {
            opts,
            progress,
            prefix: None,
            doc_type: None,
            version: None,
            checked: false,
            master: HashMap::new(),
            items: Vec::new(),
            item_keys: HashMap::new(),
            parties: Vec::new(),
            party_keys: HashMap::new(),
            events: Vec::new(),
            unmapped: Vec::new(),
            declared: Vec::new(),
            read: 0,
        }
    }

    fn header(&mut self, key: &str, v: Value) -> Result<(), String> {
        match key {
            "@context" => {
                let mut defs = Vec::new();
                match &v {
                    Value::Array(a) => defs.extend(a.iter()),
                    other => defs.push(other),
                }
                for d in defs {
                    if let Value::Object(o) = d {
                        for (k, val) in o {
                            if val.as_str() == Some(NS) {
                                self.prefix = Some(k.clone());
                            }
                        }
                    }
                }
            }
            "type" => self.doc_type = Some(v),
            "schemaVersion" => self.version = Some(v),
            "epcisHeader" => {
                let lists = v
                    .pointer("/epcisMasterData/vocabularyList")
                    .and_then(Value::as_array);
                for vocab in lists.into_iter().flatten() {
                    let elements = vocab.get("vocabularyElementList").and_then(Value::as_array);
                    for el in elements.into_iter().flatten() {
                        let Some(id) = el.get("id").and_then(Value::as_str) else {
                            continue;
                        };
                        let mut attrs = Map::new();
                        let list = el.get("attributes").and_then(Value::as_array);
                        for a in list.into_iter().flatten() {
                            if let (Some(aid), Some(val)) =
                                (a.get("id").and_then(Value::as_str), a.get("attribute"))
                            {
                                attrs.insert(aid.to_string(), val.clone());
                            }
                        }
                        self.master.insert(id.to_string(), attrs);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Type and version, once both are known (or the body starts without them).
    fn check_document(&mut self) -> Result<(), String> {
        if self.checked {
            return Ok(());
        }
        match self.doc_type.as_ref().and_then(Value::as_str) {
            Some("EPCISDocument") => {}
            Some(other) => {
                return Err(format!(
                    "not an EPCIS document: its type is '{}'; lotline imports EPCISDocument",
                    short(other)
                ));
            }
            None if self.doc_type.is_some() => {
                return Err("not an EPCIS document: its type is not a string".into());
            }
            // Only known after the body in an unusual key order: checked at the end.
            None => return Ok(()),
        }
        match self.version.as_ref() {
            Some(Value::String(v)) if v == "2.0" || v.starts_with("2.0.") => {}
            Some(other) => {
                return Err(format!(
                    "EPCIS schemaVersion {} is not supported; lotline reads EPCIS 2.0 JSON-LD",
                    short(&other.to_string())
                ));
            }
            None => return Ok(()),
        }
        self.checked = true;
        Ok(())
    }

    fn finish(mut self, source: &str) -> Result<Parsed, ReadError> {
        if self.doc_type.is_none() {
            return Err(ReadError(
                "not an EPCIS document: it has no type (EPCISDocument)".into(),
            ));
        }
        if self.version.is_none() {
            return Err(ReadError(
                "not an EPCIS document: it has no schemaVersion".into(),
            ));
        }
        self.check_document().map_err(ReadError)?;
        let items: Vec<ItemRef> = self.items.iter().map(|d| self.item_ref(d)).collect();
        let parties: Vec<PartyRef> = self.parties.iter().map(party_ref).collect();
        // The station checks every event it is sent (`domain::checks`); one it would refuse
        // is reported here as not mappable instead, so one odd field does not refuse the
        // whole document. Text from the document kept in a report is escaped and bounded.
        use lotline_domain::text::escaped_within;
        let mut events = Vec::with_capacity(self.events.len());
        let mut unmapped = self.unmapped;
        for e in self.events {
            match e.check(items.len(), parties.len()) {
                Ok(()) => events.push(e),
                Err(why) => unmapped.push(Unmapped {
                    index: e.index,
                    event_id: e.event_id,
                    reason: why.to_string(),
                }),
            }
        }
        unmapped.sort_by_key(|u| u.index);
        let tidy = |u: Unmapped| Unmapped {
            event_id: escaped_within(&u.event_id, EVENT_ID_MAX),
            reason: escaped_within(&u.reason, UNMAPPED_REASON_MAX),
            ..u
        };
        Ok(Parsed {
            import: EpcisImport {
                source: escaped_within(source, SOURCE_MAX),
                skip_unmappable: self.opts.skip_unmappable,
                items,
                parties,
                events,
                unmapped: unmapped.into_iter().map(tidy).collect(),
            },
            declared_in_error: self.declared.into_iter().map(tidy).collect(),
            events_read: self.read,
        })
    }

    fn item_ref(&self, d: &ItemDraft) -> ItemRef {
        let master_key = match (&d.gtin, &d.code) {
            (Some(g), _) => Some(format!("{GS1_DL}01/{g}")),
            (None, Some(_)) => None,
            _ => None,
        };
        // Our own item classes are `…/id/{plant}/item/{code}`: any plant's.
        let own = d.code.as_ref().and_then(|c| {
            self.master.iter().find_map(|(k, attrs)| {
                (k.starts_with(ID_BASE) && k.ends_with(&format!("/item/{}", pct(c))))
                    .then_some(attrs)
            })
        });
        let attrs = master_key.as_ref().and_then(|k| self.master.get(k)).or(own);
        let text = |name: &str| -> String {
            attrs
                .and_then(|a| a.get(&format!("{NS}{name}")))
                .and_then(Value::as_str)
                .map(|s| clean_text(s, name, 100).unwrap_or_default())
                .unwrap_or_default()
        };
        let code = [text("itemCode"), d.code.clone().unwrap_or_default()]
            .into_iter()
            .chain(d.gtin.as_ref().map(|g| format!("GTIN-{g}")))
            .find_map(|c| ItemCode::parse(&c, "item").ok())
            .unwrap_or_else(|| ItemCode::parse("IMPORTED", "item").expect("valid code"));
        let mut name = text("productName");
        if name.is_empty() {
            name = match &d.gtin {
                Some(g) => format!("GTIN {g}"),
                None => code.to_string(),
            };
        }
        let unit = unit_of_code(&text("unit")).unwrap_or(d.unit);
        let kind = text("itemKind").parse().unwrap_or(d.kind);
        let shelf = attrs
            .and_then(|a| a.get(&format!("{NS}shelfLifeDays")))
            .and_then(Value::as_u64)
            .filter(|d| (1..=3650).contains(d))
            .map(|d| d as u32);
        ItemRef {
            gtin: d.gtin.clone(),
            new: NewItem {
                code,
                description: ProductDescription {
                    name,
                    brand: text("brand"),
                    commodity: text("commodity"),
                    variety: text("variety"),
                    pack_size: text("packSize"),
                    pack_style: text("packStyle"),
                },
                unit,
                kind,
                gtin: d.gtin.clone(),
                shelf_life_days: shelf,
                ftl: text("ftl") == "true",
                receiving_temp: TempRange {
                    min_dc: parse_temperature(&text("receivingTempMinC"), "t").ok(),
                    max_dc: parse_temperature(&text("receivingTempMaxC"), "t").ok(),
                },
            },
        }
    }

    /// An extension field of ours, under the document's prefix or as a full IRI.
    fn ext<'v>(&self, o: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
        if let Some(p) = &self.prefix
            && let Some(v) = o.get(&format!("{p}:{name}"))
        {
            return Some(v);
        }
        o.get(&format!("{NS}{name}"))
    }

    fn ext_str(&self, o: &Map<String, Value>, name: &str) -> Option<String> {
        self.ext(o, name)
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// Maps event `index`; `twice` names the keys it gives twice ([`StrictValue`]).
    fn event(&mut self, index: u32, v: Value, twice: &[String]) {
        self.read += 1;
        if self.read.is_multiple_of(50_000) {
            (self.progress)(self.read);
        }
        let event_id = match v.get("eventID").and_then(Value::as_str) {
            // An id that could not be kept as it is (too long, or with characters no
            // record may hold) is replaced by the event's content, as a missing one is.
            Some(id)
                if !id.is_empty() && id.len() <= 500 && !lotline_domain::text::has_unsafe(id) =>
            {
                id.to_string()
            }
            _ => content_id(&v),
        };
        let out = match &v {
            Value::Object(o) => self.map(index, &event_id, o, twice),
            _ => Err("it is not a JSON object".into()),
        };
        match out {
            Ok(Mapped::Events(evs)) => self.events.extend(evs),
            Ok(Mapped::Declared(why)) => self.declared.push(Unmapped {
                index,
                event_id,
                reason: why,
            }),
            Err(reason) => self.unmapped.push(Unmapped {
                index,
                event_id,
                reason,
            }),
        }
    }

    fn map(
        &mut self,
        index: u32,
        event_id: &str,
        o: &Map<String, Value>,
        twice: &[String],
    ) -> Result<Mapped, String> {
        if let Some(decl) = o.get("errorDeclaration") {
            let when = decl
                .get("declarationTime")
                .and_then(Value::as_str)
                .unwrap_or("?");
            let fixes: Vec<&str> = decl
                .get("correctiveEventIDs")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            return Ok(Mapped::Declared(format!(
                "declared in error at {when}{}; not imported",
                if fixes.is_empty() {
                    String::new()
                } else {
                    format!(" (corrected by {})", fixes.join(", "))
                }
            )));
        }
        let ty = o.get("type").and_then(Value::as_str).unwrap_or("");
        let (date, event_time) = event_date(o)?;
        // Kept as data, as the source gave it: escaped, so an odd character in a place's
        // id does not cost the event.
        let location = ["bizLocation", "readPoint"]
            .iter()
            .find_map(|k| o.get(*k)?.get("id")?.as_str())
            .map(|l| lotline_domain::text::escaped_within(&short(l), EVENT_FIELD_MAX));
        let (reference, documents) = self.references(o)?;
        let base = |kind: ImportKind, n: usize| ImportEvent {
            event_id: if n == 0 {
                event_id.to_string()
            } else {
                format!("{event_id}#{}", n + 1)
            },
            index,
            date,
            event_time: event_time.clone(),
            location: location.clone(),
            reference: reference.clone(),
            // Only receipts, batches and shipments keep further documents here.
            documents: match kind {
                ImportKind::Receive { .. }
                | ImportKind::Produce { .. }
                | ImportKind::Ship { .. } => documents.clone(),
                ImportKind::Adjust { .. } | ImportKind::Return { .. } => Documents::default(),
            },
            kind,
        };
        // lotline's own lot codes, one per quantity element (inputs, then outputs).
        let own: Option<Vec<String>> = match self.ext(o, "lots") {
            None => None,
            Some(Value::Array(a)) => Some(
                a.iter()
                    .map(|c| c.as_str().map(str::to_string))
                    .collect::<Option<_>>()
                    .ok_or("lotline:lots holds something other than lot codes")?,
            ),
            Some(_) => return Err("lotline:lots is not a list of lot codes".into()),
        };
        let own_code = |i: usize| own.as_ref().and_then(|c| c.get(i)).map(String::as_str);
        let elements = ["quantityList", "inputQuantityList", "outputQuantityList"]
            .iter()
            .filter_map(|k| o.get(*k).and_then(Value::as_array))
            .map(Vec::len)
            .sum::<usize>();
        if let Some(c) = &own
            && c.len() != elements
        {
            return Err(format!(
                "lotline:lots names {} lots for {elements} quantity elements",
                c.len()
            ));
        }
        match ty {
            "ObjectEvent" => {
                // Serial numbers cannot be kept, and an event recorded without them
                // would say less than it did: refused whole, with the reason.
                if let Some(n) = o
                    .get("epcList")
                    .and_then(Value::as_array)
                    .map(Vec::len)
                    .filter(|n| *n > 0)
                {
                    return Err(format!(
                        "it names {n} serial-numbered {} (epcList); lotline keeps lots, not serial numbers, and records no event without part of it",
                        if n == 1 { "instance" } else { "instances" }
                    ));
                }
                let step = biz_step(o);
                let raw: Vec<&Value> = o
                    .get("quantityList")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().collect())
                    .unwrap_or_default();
                if raw.is_empty() {
                    return Err("its quantityList names no lots".into());
                }
                match step.as_str() {
                    "receiving" if disposition(o) == "returned" => {
                        let customer = self.party(o, "sourceList", "source", false)?;
                        if raw.len() != 1 {
                            return Err(format!(
                                "a return (receiving, disposition returned) of {} lots; lotline records a return of one shipped lot at a time",
                                raw.len()
                            ));
                        }
                        let (line, _, _) = self.line(raw[0], ItemKind::Finished, own_code(0))?;
                        let return_lot = self
                            .ext_str(o, "returnLot")
                            .map(|c| {
                                LotCode::parse(&format!("{}{c}", self.opts.lot_prefix), "lot")
                                    .map_err(|e| format!("lotline:returnLot {}: {}", short(&c), e.problem))
                            })
                            .transpose()?;
                        let shipment = self.ext_str(o, "returnOf");
                        let reason = self
                            .ext_str(o, "reason")
                            .map(|r| clean_text(&r, "lotline:reason", 200))
                            .transpose()
                            .map_err(|e| e.to_string())?
                            .unwrap_or_default();
                        Ok(Mapped::Events(vec![base(
                            ImportKind::Return {
                                customer,
                                line,
                                return_lot,
                                shipment,
                                reason,
                            },
                            0,
                        )]))
                    }
                    "receiving" => {
                        let supplier = self.party(o, "sourceList", "source", true)?;
                        let tlc = self.ext_str(o, "tlc");
                        let expiry = self
                            .ext_str(o, "expiryDate")
                            .map(|d| parse_day(&d, "lotline:expiryDate"))
                            .transpose()?
                            .or(ilmd_expiry(o)?);
                        let quality = self.quality(o)?;
                        let tlc_source_ref = self
                            .ext_str(o, "tlcSourceReference")
                            .map(|t| parse_tlc_source_ref(&t, "lotline:tlcSourceReference"))
                            .transpose()
                            .map_err(|e| e.to_string())?
                            .flatten();
                        let label = self.gs1_label(o, date, twice)?;
                        // A scanned label is one case's: its harvest dates, origin and the
                        // rest belong to one supplier lot. Kept with every receipt of an
                        // event of several lots, it would say of the others what nobody
                        // read from their cases, so such an event is not guessed at.
                        if !label.is_empty() && raw.len() > 1 {
                            return Err(format!(
                                "lotline:gs1Label: one scanned label on a receiving event of {} lots; which lot it was read from is not known (send one receiving event per lot, each with its own label)",
                                raw.len()
                            ));
                        }
                        let mut out = Vec::new();
                        for (n, q) in raw.iter().enumerate() {
                            let (line, item, lot_text) =
                                self.line(q, ItemKind::Ingredient, own_code(n))?;
                            let supplier_lot = match (&tlc, raw.len()) {
                                (Some(t), 1) => t.clone(),
                                _ => lot_text,
                            };
                            let supplier_lot = SupplierLot::parse(&supplier_lot, "lotline:tlc")
                                .map_err(|e| e.to_string())?;
                            out.push(base(
                                ImportKind::Receive {
                                    item,
                                    supplier,
                                    line,
                                    supplier_lot,
                                    expiry,
                                    quality: quality.clone(),
                                    tlc_source_ref: tlc_source_ref.clone(),
                                    // The event's label: its one receipt's.
                                    label: label.clone(),
                                },
                                n,
                            ));
                        }
                        Ok(Mapped::Events(out))
                    }
                    "shipping" => {
                        let customer = self.party(o, "destinationList", "destination", false)?;
                        let mut lines = Vec::new();
                        for (n, q) in raw.iter().enumerate() {
                            lines.push(self.named(q, ItemKind::Finished, own_code(n))?);
                        }
                        Ok(Mapped::Events(vec![base(
                            ImportKind::Ship { customer, lines },
                            0,
                        )]))
                    }
                    s if s == ADJUST_STEP => {
                        let delta: Qty = self
                            .ext_str(o, "adjustment")
                            .ok_or("a lotline adjustment without lotline:adjustment")?
                            .parse()
                            .map_err(|e: QtyParseError| format!("lotline:adjustment: {}", e.0))?;
                        let reason = self.ext_str(o, "reason").unwrap_or_default();
                        let (line, _, _) = self.line(raw[0], ItemKind::Ingredient, own_code(0))?;
                        Ok(Mapped::Events(vec![base(
                            ImportKind::Adjust {
                                lot: line.lot,
                                delta,
                                reason,
                            },
                            0,
                        )]))
                    }
                    "" => Err("an ObjectEvent with no bizStep; lotline records receiving and shipping".into()),
                    other => Err(format!(
                        "an ObjectEvent with bizStep {}; lotline records receiving and shipping",
                        short(other)
                    )),
                }
            }
            "TransformationEvent" => {
                for k in ["inputEPCList", "outputEPCList"] {
                    if o.get(k).and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
                        return Err(format!(
                            "its {k} names instances (serial numbers), not lots; lotline keeps lots"
                        ));
                    }
                }
                let list = |k: &str| -> Vec<Value> {
                    o.get(k)
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                };
                let (ins, outs) = (list("inputQuantityList"), list("outputQuantityList"));
                if ins.is_empty() {
                    return Err("it has no input lots; a lotline batch uses at least one".into());
                }
                if outs.len() != 1 {
                    return Err(format!(
                        "it has {} output lots; a lotline batch makes exactly one",
                        outs.len()
                    ));
                }
                let mut inputs = Vec::new();
                for (n, q) in ins.iter().enumerate() {
                    inputs.push(self.named(q, ItemKind::Ingredient, own_code(n))?);
                }
                let (output, item, _) =
                    self.line(&outs[0], ItemKind::Finished, own_code(ins.len()))?;
                let line = self
                    .ext_str(o, "productionLine")
                    .map(|l| required_text(&l, "lotline:productionLine", 40))
                    .transpose()
                    .map_err(|e| e.to_string())?;
                Ok(Mapped::Events(vec![base(
                    ImportKind::Produce {
                        item,
                        output,
                        expiry: ilmd_expiry(o)?,
                        line,
                        inputs,
                    },
                    0,
                )]))
            }
            "AggregationEvent" => Err("an AggregationEvent (packing into a pallet or case); lotline keeps lots, not packing hierarchies".into()),
            "AssociationEvent" => Err("an AssociationEvent; lotline keeps lots, not asset associations".into()),
            "TransactionEvent" => Err("a TransactionEvent; lotline records a document's lots when they are received or shipped".into()),
            "" => Err("it has no type".into()),
            other => Err(format!("an event of type {}, which lotline does not know", short(other))),
        }
    }

    /// `lotline:gs1Label`: the elements of the supplier's label lotline kept with a
    /// scanned receipt, as an object of AI → value in the order scanned. Checked as a
    /// scan's are (each a valid GS1 element string, each AI once, at most
    /// [`MAX_LABEL_ELEMENTS`]) against the receipt's date: a label that is not is the
    /// event's reason for not being imported, never a receipt without it. The CBV-named
    /// fields beside it (`lotline:harvestStartDate`…) are made from it on export and are
    /// not read back.
    fn gs1_label(
        &self,
        o: &Map<String, Value>,
        date: NaiveDate,
        twice: &[String],
    ) -> Result<Vec<LabelElement>, String> {
        const FIELD: &str = "lotline:gs1Label";
        let names = [
            self.prefix.as_ref().map(|p| format!("{p}:gs1Label")),
            Some(format!("{NS}gs1Label")),
        ];
        for name in names.iter().flatten() {
            let under = format!("{name}/");
            for t in twice {
                if t == name {
                    return Err(format!("{FIELD} is given twice"));
                }
                if let Some(ai) = t.strip_prefix(&under) {
                    return Err(format!(
                        "{FIELD}: AI ({}) appears twice",
                        lotline_domain::text::excerpt(ai)
                    ));
                }
            }
        }
        // Under both its prefixed name and its full one: two labels, and which was meant is
        // not known.
        if names
            .iter()
            .flatten()
            .filter(|n| o.contains_key(n.as_str()))
            .count()
            > 1
        {
            return Err(format!("{FIELD} is given twice"));
        }
        let Some(v) = self.ext(o, "gs1Label") else {
            return Ok(Vec::new());
        };
        let Value::Object(elements) = v else {
            return Err(format!(
                "{FIELD} is not an object of GS1 Application Identifiers and their values"
            ));
        };
        // Counted before anything is copied: a label has at most a few dozen.
        if elements.len() > MAX_LABEL_ELEMENTS {
            return Err(format!(
                "{FIELD}: {} label elements is more than a label carries (at most {MAX_LABEL_ELEMENTS})",
                elements.len()
            ));
        }
        let label = elements
            .iter()
            .map(|(ai, value)| match value {
                Value::String(value) => Ok(LabelElement {
                    ai: ai.clone(),
                    value: value.clone(),
                }),
                _ => Err(format!(
                    "{FIELD}: the value of AI ({}) is not a string",
                    lotline_domain::text::excerpt(ai)
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        check_label(&label, date, FIELD).map_err(|e| e.to_string())?;
        Ok(label)
    }

    /// The event's reference documents: the first two distinct business transactions lotline
    /// can read, in the document's order (a third and later are not kept: lotline keeps
    /// two an event, as FDA's template has room for), and lotline's own reason for naming
    /// none.
    fn references(&self, o: &Map<String, Value>) -> Result<(Option<Reference>, Documents), String> {
        let mut refs: Vec<Reference> = Vec::new();
        for r in o
            .get("bizTransactionList")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(reference_of)
        {
            if !refs.contains(&r) {
                refs.push(r);
            }
            if refs.len() == 2 {
                break;
            }
        }
        let mut refs = refs.into_iter();
        let first = refs.next();
        let none_because = self
            .ext_str(o, "noReferenceReason")
            .map(|r| required_text(&r, "lotline:noReferenceReason", REASON_MAX))
            .transpose()
            .map_err(|e| e.to_string())?;
        if let (Some(r), Some(_)) = (&first, &none_because) {
            return Err(format!(
                "it names reference document {r} and also gives lotline:noReferenceReason, the reason for having none; a document says one or the other"
            ));
        }
        Ok((
            first,
            Documents {
                second: refs.next(),
                none_because,
            },
        ))
    }

    /// One quantity element as a lot line: the line, its item's index, and the lot code as
    /// the identifier wrote it (the supplier's, for a lot we received). The lot is
    /// recorded under `own` (lotline's code beside the identifier) when the document
    /// gives it, else under the identifier's code; `--lot-prefix` before either.
    fn line(
        &mut self,
        q: &Value,
        kind: ItemKind,
        own: Option<&str>,
    ) -> Result<(ImportLine, u32, String), String> {
        let class = q
            .get("epcClass")
            .and_then(Value::as_str)
            .ok_or("a quantity element has no epcClass")?;
        let uri = parse_lot_uri(class)?;
        let unit = match q.get("uom") {
            None => Unit::Ea,
            Some(u) => {
                let code = u.as_str().unwrap_or("");
                unit_of_code(code).ok_or_else(|| {
                    format!(
                        "unit {} (of {}) is not one lotline keeps; it reads KGM, GRM, LBR, ONZ, LTR, MLT, GLL, EA, H87, C62, CS and DZN",
                        short(code),
                        short(class)
                    )
                })?
            }
        };
        let qty = q
            .get("quantity")
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("{} has no quantity", short(class)))?;
        let milli = (qty * 1000.0).round();
        if !milli.is_finite() || milli <= 0.0 || milli > 1e15 {
            return Err(format!(
                "{} has quantity {qty}, which lotline cannot record",
                short(class)
            ));
        }
        let here = own.unwrap_or(&uri.lot);
        let code = LotCode::parse(&format!("{}{here}", self.opts.lot_prefix), "lot")
            .map_err(|e| format!("lot {}: {}", short(here), e.problem))?;
        let key = match (&uri.gtin, &uri.item) {
            (Some(g), _) => format!("gtin:{g}"),
            (None, Some(i)) => format!("item:{i}"),
            (None, None) => return Err(format!("{} names no item", short(class))),
        };
        let item = match self.item_keys.get(&key) {
            Some(i) => *i,
            None => {
                let i = self.items.len() as u32;
                self.items.push(ItemDraft {
                    gtin: uri.gtin.clone(),
                    code: uri.item.clone(),
                    unit,
                    kind,
                });
                self.item_keys.insert(key, i);
                i
            }
        };
        Ok((
            ImportLine {
                lot: code,
                qty: Qty(milli as i64),
                unit,
                partner: None,
            },
            item,
            uri.lot,
        ))
    }

    /// A quantity element naming a lot to use or ship, as [`Mapper::line`] reads it, with
    /// how the document names it: the store keeps a lot the plant has never seen as known
    /// only by that identifier (docs/epcis.md). An identifier no record may hold (too
    /// long, odd characters) is left off, and such a lot is refused as before.
    fn named(
        &mut self,
        q: &Value,
        kind: ItemKind,
        own: Option<&str>,
    ) -> Result<ImportLine, String> {
        let (mut line, item, _) = self.line(q, kind, own)?;
        let class = q.get("epcClass").and_then(Value::as_str).unwrap_or("");
        if !class.is_empty()
            && class.chars().count() <= EVENT_ID_MAX
            && !lotline_domain::text::has_unsafe(class)
        {
            line.partner = Some(PartnerRef {
                item,
                identifier: class.to_string(),
            });
        }
        Ok(line)
    }

    /// The party a source or destination list names: its owner first, then who holds
    /// the goods, then the location.
    fn party(
        &mut self,
        o: &Map<String, Value>,
        list: &str,
        field: &str,
        supplies: bool,
    ) -> Result<u32, String> {
        let entries: Vec<(String, String)> = o
            .get(list)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|e| {
                        Some((
                            e.get("type")?.as_str()?.to_string(),
                            e.get(field)?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let rank = |t: &str| match t.rsplit([':', '-', '/']).next().unwrap_or(t) {
            "owning_party" => 0,
            "possessing_party" => 1,
            "location" => 2,
            _ => 3,
        };
        let mut uris: Vec<&(String, String)> =
            entries.iter().filter(|(t, _)| rank(t) < 3).collect();
        uris.sort_by_key(|(t, _)| rank(t));
        if uris.is_empty() {
            return Err(format!(
                "it names no {} ({list} with owning_party, possessing_party or location); lotline needs the {}",
                if supplies { "supplier" } else { "customer" },
                if supplies { "supplier" } else { "customer" },
            ));
        }
        let mut gln = None;
        let mut id = None;
        // The master data element, by id: copied once per party, not per event.
        let mut master: Option<&str> = None;
        for (_, uri) in &uris {
            if let Some(m) = self.master.get(uri.as_str()) {
                if id.is_none() {
                    id = m
                        .get(&format!("{NS}partyId"))
                        .and_then(Value::as_str)
                        .map(str::to_string);
                }
                master.get_or_insert(uri.as_str());
            }
            let p = parse_party_uri(uri);
            gln = gln.or(p.gln);
            if id.is_none() {
                id = p.id;
            }
        }
        let id = id
            .or_else(|| gln.as_ref().map(|g| format!("GLN-{g}")))
            .ok_or_else(|| {
                format!(
                    "its {list} names {}, which is neither a GLN nor a lotline party",
                    short(&uris[0].1)
                )
            })?;
        let id = PartyId::parse(&id, "party")
            .map_err(|e| format!("party {}: {}", short(&id), e.problem))?;
        let key = id.to_string();
        let i = match self.party_keys.get(&key) {
            Some(i) => *i,
            None => {
                let i = self.parties.len() as u32;
                self.parties.push(PartyDraft {
                    id,
                    gln: None,
                    master: None,
                    supplies: false,
                    buys: false,
                });
                self.party_keys.insert(key, i);
                i
            }
        };
        let master = match master {
            Some(uri) if self.parties[i as usize].master.is_none() => self.master.get(uri).cloned(),
            _ => None,
        };
        let d = &mut self.parties[i as usize];
        if d.gln.is_none() {
            d.gln = gln;
        }
        if d.master.is_none() {
            d.master = master;
        }
        if supplies {
            d.supplies = true;
        } else {
            d.buys = true;
        }
        Ok(i)
    }

    fn quality(&self, o: &Map<String, Value>) -> Result<Quality, String> {
        let temperature_dc = self
            .ext_str(o, "temperatureC")
            .map(|t| parse_temperature(&t, "lotline:temperatureC"))
            .transpose()
            .map_err(|e| e.to_string())?;
        let inspection = match self.ext_str(o, "inspection").as_deref() {
            None => None,
            Some("pass") => Some(Inspection::Pass),
            Some("fail") => Some(Inspection::Fail),
            Some(other) => {
                return Err(format!(
                    "lotline:inspection is '{}'; it is pass or fail",
                    short(other)
                ));
            }
        };
        let note = self
            .ext_str(o, "note")
            .map(|n| clean_text(&n, "lotline:note", 500))
            .transpose()
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        Ok(Quality {
            temperature_dc,
            inspection,
            note,
        })
    }
}

enum Mapped {
    Events(Vec<ImportEvent>),
    Declared(String),
}

fn party_ref(d: &PartyDraft) -> PartyRef {
    let text = |k: &str| -> String {
        d.master
            .as_ref()
            .and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .and_then(|s| clean_text(s, k, 100).ok())
            .unwrap_or_default()
    };
    let mut name = text("urn:epcglobal:cbv:mda#name");
    if name.is_empty() {
        name = match &d.gln {
            Some(g) => format!("GLN {g}"),
            None => d.id.to_string(),
        };
    }
    let role = match (d.supplies, d.buys) {
        (true, true) => Role::Both,
        (true, false) => Role::Supplier,
        _ => Role::Customer,
    };
    PartyRef {
        gln: d.gln.clone(),
        new: NewParty {
            id: d.id.clone(),
            role,
            location: Location {
                business_name: name,
                phone: text(&format!("{NS}phone")),
                street: text("urn:epcglobal:cbv:mda#streetAddressOne"),
                city: text("urn:epcglobal:cbv:mda#city"),
                state: text("urn:epcglobal:cbv:mda#state"),
                zip: text("urn:epcglobal:cbv:mda#postalCode"),
                country: text("urn:epcglobal:cbv:mda#countryCode"),
            },
            gln: d.gln.clone(),
            recall_contact: Contact::default(),
        },
    }
}

/// The bizStep without its CBV prefix: `receiving` for `urn:epcglobal:cbv:bizstep:receiving`
/// and `https://ref.gs1.org/cbv/BizStep-receiving` alike.
fn biz_step(o: &Map<String, Value>) -> String {
    let s = o.get("bizStep").and_then(Value::as_str).unwrap_or("");
    for p in [
        "urn:epcglobal:cbv:bizstep:",
        "https://ref.gs1.org/cbv/BizStep-",
        "https://gs1.org/voc/Bizstep-",
        "cbv:BizStep-",
    ] {
        if let Some(rest) = s.strip_prefix(p) {
            return rest.to_string();
        }
    }
    s.to_string()
}

/// The disposition without its CBV prefix, as [`biz_step`] does for the step: `returned`
/// for `urn:epcglobal:cbv:disp:returned` and `https://ref.gs1.org/cbv/Disp-returned`.
fn disposition(o: &Map<String, Value>) -> String {
    let s = o.get("disposition").and_then(Value::as_str).unwrap_or("");
    for p in [
        "urn:epcglobal:cbv:disp:",
        "https://ref.gs1.org/cbv/Disp-",
        "https://gs1.org/voc/Disp-",
        "cbv:Disp-",
    ] {
        if let Some(rest) = s.strip_prefix(p) {
            return rest.to_string();
        }
    }
    s.to_string()
}

/// The business date (eventTime in the event's own zone) and eventTime as given.
fn event_date(o: &Map<String, Value>) -> Result<(NaiveDate, String), String> {
    let t = o
        .get("eventTime")
        .and_then(Value::as_str)
        .ok_or("it has no eventTime")?;
    let at = DateTime::parse_from_rfc3339(t)
        .map_err(|_| format!("eventTime '{}' is not an ISO 8601 date-time", short(t)))?;
    let zone = match o.get("eventTimeZoneOffset").and_then(Value::as_str) {
        Some(z) => DateTime::parse_from_rfc3339(&format!("2000-01-01T00:00:00{z}"))
            .map(|d| *d.offset())
            .map_err(|_| format!("eventTimeZoneOffset '{}' is not ±hh:mm", short(z)))?,
        None => *at.offset(),
    };
    let local: DateTime<FixedOffset> = at.with_timezone(&zone);
    Ok((local.date_naive(), short(t)))
}

fn parse_day(s: &str, field: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d")
        .map_err(|_| format!("{field} '{}' is not a date (YYYY-MM-DD)", short(s)))
}

/// Expiry from `ilmd`: CBV's itemExpirationDate, else bestBeforeDate, under any prefix.
fn ilmd_expiry(o: &Map<String, Value>) -> Result<Option<NaiveDate>, String> {
    let Some(Value::Object(ilmd)) = o.get("ilmd") else {
        return Ok(None);
    };
    for name in ["itemExpirationDate", "bestBeforeDate"] {
        if let Some((k, v)) = ilmd
            .iter()
            .find(|(k, _)| k.rsplit([':', '#']).next() == Some(name))
            && let Some(s) = v.as_str()
        {
            return parse_day(s, k).map(Some);
        }
    }
    Ok(None)
}

/// A reference document from a bizTransaction: lotline's own URI gives type and number
/// back exactly; another system's gives the CBV type and the identifier's last part.
fn reference_of(bt: &Value) -> Option<Reference> {
    let uri = bt.get("bizTransaction")?.as_str()?;
    if let Some(rest) = uri.strip_prefix(ID_BASE) {
        let parts: Vec<&str> = rest.split('/').collect();
        if let [_plant, "doc", kind, number] = parts.as_slice() {
            let text = format!("{}:{}", unpct(kind)?, unpct(number)?);
            return Reference::parse(&text, "bizTransaction").ok();
        }
    }
    let ty = bt
        .get("type")
        .and_then(Value::as_str)
        .map(|t| t.rsplit([':', '-', '/']).next().unwrap_or(t))
        .unwrap_or("doc");
    let kind = BIZ_TYPES
        .iter()
        .find(|(_, t)| *t == ty)
        .map(|(k, _)| k.to_string())
        .unwrap_or_else(|| {
            ty.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .take(12)
                .collect::<String>()
                .to_ascii_uppercase()
        });
    let number = uri.rsplit([':', '/']).next().unwrap_or(uri);
    let number: String = unpct(number)
        .unwrap_or_else(|| number.to_string())
        .chars()
        .take(MAX_CODE_LEN)
        .collect();
    Reference::parse(&format!("{kind}:{number}"), "bizTransaction").ok()
}

/// The identity of an event that has no eventID: a SHA-256 of its content with object
/// keys sorted, so the same event written twice gets the same identity.
fn content_id(v: &Value) -> String {
    use sha2::{Digest, Sha256};
    fn canon(v: &Value, out: &mut String) {
        match v {
            Value::Object(o) => {
                let mut keys: Vec<&String> = o.keys().collect();
                keys.sort();
                out.push('{');
                for k in keys {
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    canon(&o[k], out);
                    out.push(',');
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for x in a {
                    canon(x, out);
                    out.push(',');
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut s = String::new();
    canon(v, &mut s);
    let digest = Sha256::digest(s.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("lotline-content-sha256:{hex}")
}

#[cfg(test)]
mod tests;
