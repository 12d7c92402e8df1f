//! JSON written straight from the records, without building a `serde_json::Value` first.
//!
//! A forward trace of a large recall is thousands of lots and shipment lines; building a
//! `Value` tree for it (a map and a string per field) cost more than the trace itself and
//! held the whole document in memory twice (BENCHMARKS.md, whole-process figures). These
//! views borrow the records and serialise field by field into the output writer. The
//! shapes are those README.md documents; `output::lot_json` turns the same view into a
//! `Value` where a caller still edits one.

use lotline_domain::*;
use lotline_domain::{Trace, TraceLink, TraceShipment};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Pretty (indented) JSON or compact: decided once per process from `--pretty` and
/// whether stdout is a terminal, before anything is printed.
static PRETTY: AtomicBool = AtomicBool::new(false);

/// Indent JSON output from now on (a person reading it), or write it compact (a script).
pub fn set_pretty(pretty: bool) {
    PRETTY.store(pretty, Ordering::Relaxed);
}

/// `v` and a newline, indented or compact as set by `set_pretty`, terminal-safe.
pub fn write(out: &mut impl Write, v: &impl Serialize) -> std::io::Result<()> {
    use serde_json::ser::{CompactFormatter, PrettyFormatter};
    if PRETTY.load(Ordering::Relaxed) {
        let mut s = serde_json::Serializer::with_formatter(
            &mut *out,
            Safe(PrettyFormatter::with_indent(b"  ")),
        );
        v.serialize(&mut s)?;
    } else {
        let mut s = serde_json::Serializer::with_formatter(&mut *out, Safe(CompactFormatter));
        v.serialize(&mut s)?;
    }
    out.write_all(b"\n")
}

/// A JSON formatter that writes characters a terminal must not see raw
/// (`domain::text::is_unsafe`: DEL, C1 controls, bidi and zero-width characters, which
/// serde_json passes through inside strings) as `\uXXXX` escapes. They can only be
/// inside strings, so the document means exactly the same; and the output's own
/// escaping (`safe::SafeWriter`) then finds nothing to change in it.
struct Safe<F>(F);

macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $name<W: ?Sized + Write>(&mut self, w: &mut W $(, $arg: $ty)*) -> std::io::Result<()> {
                self.0.$name(w $(, $arg)*)
            }
        )*
    };
}

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for Safe<F> {
    delegate! {
        begin_array();
        end_array();
        begin_array_value(first: bool);
        end_array_value();
        begin_object();
        end_object();
        begin_object_key(first: bool);
        end_object_key();
        begin_object_value();
        end_object_value();
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        // Printable ASCII, nearly every fragment, needs no look at its characters.
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

/// An exact quantity as a JSON number: whole units as integers, thousandths as decimals
/// (below 2^53 they print back exactly).
#[derive(Clone, Copy)]
pub struct Num(pub Qty);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.0.milli();
        if m % 1000 == 0 {
            s.serialize_i64(m / 1000)
        } else {
            s.serialize_f64(m as f64 / 1000.0)
        }
    }
}

/// A date as `YYYY-MM-DD`, by the records' own fast writer (chrono's formatter was a
/// tenth of a large trace's output).
struct Date<'a>(&'a chrono::NaiveDate);

impl Serialize for Date<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        lotline_domain::isodate::serialize(self.0, s)
    }
}

/// `Some(x)` as a string, `None` as null.
struct OptText<'a, T: std::fmt::Display>(Option<&'a T>);

impl<T: std::fmt::Display> Serialize for OptText<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }
}

/// A lot as `lots --json`, `lot --json` and traces show it.
pub struct LotJson<'a>(pub &'a Lot);

impl Serialize for LotJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let l = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("lot", l.code.as_str())?;
        m.serialize_entry("item", l.item.as_str())?;
        m.serialize_entry("origin", l.origin.as_str())?;
        m.serialize_entry("quantity", &Num(l.quantity))?;
        m.serialize_entry("unit", l.unit.as_str())?;
        m.serialize_entry("date", &Date(&l.date))?;
        m.serialize_entry("expiry", &l.expiry.as_ref().map(Date))?;
        m.serialize_entry("status", l.status.as_str())?;
        m.serialize_entry("balance", &Num(l.balance))?;
        // Every lot has every key: what does not apply to its origin is null.
        match &l.origin {
            Origin::Received {
                supplier,
                supplier_lot,
            } => {
                m.serialize_entry("supplier", supplier.as_str())?;
                m.serialize_entry("supplier_lot", supplier_lot.as_str())?;
                m.serialize_entry("line", &None::<&str>)?;
            }
            Origin::Produced { line } => {
                m.serialize_entry("supplier", &None::<&str>)?;
                m.serialize_entry("supplier_lot", &None::<&str>)?;
                m.serialize_entry("line", &line.as_deref().filter(|l| !l.is_empty()))?;
            }
            // A return names its customer in the same key a receipt names its supplier:
            // where the lot came in from.
            Origin::Returned { customer, .. } => {
                m.serialize_entry("supplier", customer.as_str())?;
                m.serialize_entry("supplier_lot", &None::<&str>)?;
                m.serialize_entry("line", &None::<&str>)?;
            }
            // Known only from a partner's document (origin "partner"): `lot CODE`
            // shows the identifier and the document.
            Origin::Partner { .. } => {
                m.serialize_entry("supplier", &None::<&str>)?;
                m.serialize_entry("supplier_lot", &None::<&str>)?;
                m.serialize_entry("line", &None::<&str>)?;
            }
        }
        m.end()
    }
}

/// A list of lots, one after another.
pub struct LotsJson<'a>(pub &'a [Lot]);

impl Serialize for LotsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(LotJson))
    }
}

/// A trace as `trace --json` prints it: lots by code, links with the quantity of the
/// input used and its unit, shipment lines.
pub struct TraceJson<'a> {
    t: &'a Trace,
    /// Lot id → the lot, for codes and units of link ends.
    lots: HashMap<LotId, &'a Lot>,
}

impl<'a> TraceJson<'a> {
    pub fn new(t: &'a Trace) -> TraceJson<'a> {
        TraceJson {
            t,
            lots: t.lot_index(),
        }
    }
}

/// A lot's code, or `#id` for an id the trace does not hold (never in a whole trace).
struct CodeOf<'a>(&'a HashMap<LotId, &'a Lot>, LotId);

impl Serialize for CodeOf<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.get(&self.1) {
            Some(l) => s.serialize_str(l.code.as_str()),
            None => s.collect_str(&format_args!("#{}", self.1.0)),
        }
    }
}

struct LinkJson<'a>(&'a HashMap<LotId, &'a Lot>, &'a TraceLink);

impl Serialize for LinkJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (lots, l) = (self.0, self.1);
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("input", &CodeOf(lots, l.input))?;
        m.serialize_entry("output", &CodeOf(lots, l.output))?;
        m.serialize_entry("quantity", &Num(l.qty))?;
        // The quantity is of the input lot used, so it is in the input's unit.
        m.serialize_entry("unit", &lots.get(&l.input).map(|i| i.unit.as_str()))?;
        m.end()
    }
}

struct ShipJson<'a>(&'a HashMap<LotId, &'a Lot>, &'a TraceShipment);

impl Serialize for ShipJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (lots, sh) = (self.0, self.1);
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("lot", &CodeOf(lots, sh.lot))?;
        m.serialize_entry("customer", sh.customer.as_str())?;
        m.serialize_entry("date", &Date(&sh.date))?;
        m.serialize_entry("quantity", &Num(sh.qty))?;
        m.serialize_entry("unit", sh.unit.as_str())?;
        m.serialize_entry("reference", &OptText(sh.reference.as_ref()))?;
        m.serialize_entry("event", &sh.event)?;
        m.end()
    }
}

/// A sequence drawn from an iterator when serialised; the iterator is made afresh each
/// time, so the view stays `&self`.
struct Seq<F>(F);

impl<F, I> Serialize for Seq<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
    }
}

impl Serialize for TraceJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (t, lots) = (self.t, &self.lots);
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("root", &CodeOf(lots, t.root))?;
        m.serialize_entry("direction", t.direction.as_str())?;
        m.serialize_entry("lots", &LotsJson(&t.lots))?;
        m.serialize_entry("links", &Seq(|| t.links.iter().map(|l| LinkJson(lots, l))))?;
        m.serialize_entry(
            "shipments",
            &Seq(|| t.shipments.iter().map(|sh| ShipJson(lots, sh))),
        )?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use lotline_domain::Direction;
    use serde_json::{Value, json};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn lot(id: u32, code: &str, unit: Unit, origin: Origin) -> Lot {
        Lot {
            id: LotId(id),
            code: LotCode::parse(code, "lot").unwrap(),
            item: ItemCode::parse("FLOUR", "item").unwrap(),
            origin,
            event: u64::from(id),
            quantity: Qty(1_500),
            unit,
            date: d("2026-11-03"),
            expiry: None,
            status: LotStatus::Hold,
            balance: Qty(250_000),
        }
    }

    fn trace() -> Trace {
        let flour = lot(
            1,
            "R1",
            Unit::Kg,
            Origin::Received {
                supplier: PartyId::parse("MILL", "s").unwrap(),
                supplier_lot: SupplierLot::parse("m-88", "s").unwrap(),
            },
        );
        let mut bread = lot(2, "B2", Unit::Case, Origin::Produced { line: None });
        bread.expiry = Some(d("2026-12-01"));
        Trace {
            root: LotId(1),
            direction: Direction::Forward,
            lots: vec![flour, bread],
            links: vec![TraceLink {
                input: LotId(1),
                output: LotId(2),
                qty: Qty(12_250),
            }],
            shipments: vec![TraceShipment {
                event: 9,
                lot: LotId(2),
                customer: PartyId::parse("SHOP", "c").unwrap(),
                date: d("2026-11-04"),
                qty: Qty(3_000),
                unit: Unit::Case,
                reference: Some(Reference {
                    kind: "BOL".into(),
                    number: "5521".into(),
                }),
            }],
        }
    }

    #[test]
    fn a_trace_is_written_field_by_field_in_the_documented_shape() {
        let mut out = Vec::new();
        serde_json::to_writer(&mut out, &TraceJson::new(&trace())).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            json!({
                "root": "R1",
                "direction": "forward",
                "lots": [
                    {"lot": "R1", "item": "FLOUR", "origin": "received", "quantity": 1.5,
                     "unit": "kg", "date": "2026-11-03", "expiry": null, "status": "hold",
                     "balance": 250, "supplier": "MILL", "supplier_lot": "m-88", "line": null},
                    {"lot": "B2", "item": "FLOUR", "origin": "produced", "quantity": 1.5,
                     "unit": "case", "date": "2026-11-03", "expiry": "2026-12-01",
                     "status": "hold", "balance": 250, "supplier": null, "supplier_lot": null,
                     "line": null},
                ],
                "links": [{"input": "R1", "output": "B2", "quantity": 12.25, "unit": "kg"}],
                "shipments": [{"lot": "B2", "customer": "SHOP", "date": "2026-11-04",
                    "quantity": 3, "unit": "case", "reference": "BOL:5521", "event": 9}],
            })
        );
        // Fields keep their documented order in the text, not only in the parsed value.
        let text = String::from_utf8(out).unwrap();
        let at = |k: &str| text.find(k).unwrap();
        assert!(at("\"root\"") < at("\"direction\"") && at("\"direction\"") < at("\"lots\""));
        assert!(at("\"links\"") < at("\"shipments\""));
    }

    #[test]
    fn characters_a_terminal_must_not_see_are_escaped_and_the_json_means_the_same() {
        let v = json!({ "name": "a\u{202e}b\u{9b}\u{7f}\u{1b}\u{1f600}\u{200b}é", "n": [1, 2] });
        for pretty in [false, true] {
            set_pretty(pretty);
            let mut out = Vec::new();
            write(&mut out, &v).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(
                !text
                    .chars()
                    .any(|c| lotline_domain::text::is_unsafe(c) && c != '\n'),
                "{text}"
            );
            assert!(text.contains("\\u202e") && text.contains('é') && text.contains('\u{1f600}'));
            assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
        }
        set_pretty(false);
    }

    #[test]
    fn pretty_and_compact_are_the_same_document() {
        let t = trace();
        let mut pretty = Vec::new();
        serde_json::to_writer_pretty(&mut pretty, &TraceJson::new(&t)).unwrap();
        let mut compact = Vec::new();
        serde_json::to_writer(&mut compact, &TraceJson::new(&t)).unwrap();
        assert!(pretty.len() > compact.len());
        assert!(!compact.contains(&b'\n'));
        assert_eq!(
            serde_json::from_slice::<Value>(&pretty).unwrap(),
            serde_json::from_slice::<Value>(&compact).unwrap()
        );
    }
}
