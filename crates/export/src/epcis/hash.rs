//! The EPCIS event hash (CBV 2.0, "event hash ID"): one event gets the same eventID in
//! every document and from every system that writes it, so a partner who receives it
//! twice can tell. The id is `ni:///sha-256;{hex}?ver=CBV2.0`, the SHA-256 of a
//! "pre-hash string": the standard's fields in the standard's order, each `name=value`,
//! times in UTC to the millisecond, numbers without trailing zeros, CBV words as web URIs,
//! GS1 identifiers as canonical GS1 Digital Link; then every other field (lotline's own,
//! `ilmd`, the source, destination and business-transaction lists), sorted.
//!
//! Partners check these ids with GS1's reference implementation of the algorithm (the
//! Python `epcis-event-hash-generator`), so this follows it step for step, including how
//! it flattens JSON into named nodes and how it treats the lists it has no order for.
//! `tests/it/epcis_hash/` holds hashes that implementation gave for lotline's events,
//! and the script that produces them again; docs/epcis.md says where the two can differ.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The eventID of `event` (an EPCIS 2.0 JSON event, its own `eventID` and `recordTime`
/// are not part of it). `prefixes` are the document's `@context` prefixes and the IRIs
/// they stand for (`lotline` → [`super::NS`]): extension fields are hashed by full IRI.
pub fn event_hash(event: &Value, prefixes: &[(&str, &str)]) -> String {
    let digest = Sha256::digest(pre_hash(event, prefixes).as_bytes());
    let mut hex = String::with_capacity(64);
    for b in digest.iter() {
        use std::fmt::Write;
        let _ = write!(hex, "{b:02x}");
    }
    format!("ni:///sha-256;{hex}?ver=CBV2.0")
}

/// One JSON value flattened as the reference implementation does: a named node with a
/// text value and children (a list's elements become children of the same name), or,
/// in source, destination and business-transaction lists, the pair of an element's
/// first two fields.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Py {
    Node(String, String, Vec<Py>),
    Pair(Box<Py>, Box<Py>),
}

impl Py {
    fn name(&self) -> Option<&str> {
        match self {
            Py::Node(n, _, _) => Some(n),
            Py::Pair(..) => None,
        }
    }
}

/// The standard's order of fields, and of each field's parts. `None` names stand for
/// the reference implementation's entries for the three pair lists, which match no field
/// (so those lists are hashed with the fields outside the order).
struct Order {
    name: Option<&'static str>,
    sub: &'static [Order],
}

const fn leaf(name: &'static str) -> Order {
    Order {
        name: Some(name),
        sub: &[],
    }
}

const fn with(name: &'static str, sub: &'static [Order]) -> Order {
    Order {
        name: Some(name),
        sub,
    }
}

const EPC: &[Order] = &[leaf("epc")];
const QTY: &[Order] = &[with(
    "quantityElement",
    &[leaf("epcClass"), leaf("quantity"), leaf("uom")],
)];
const NEVER: &[Order] = &[Order {
    name: None,
    sub: &[],
}];
const SENSOR: &[Order] = &[with(
    "sensorElement",
    &[
        with(
            "sensorMetadata",
            &[
                leaf("time"),
                leaf("startTime"),
                leaf("endTime"),
                leaf("deviceID"),
                leaf("deviceMetadata"),
                leaf("rawData"),
                leaf("dataProcessingMethod"),
                leaf("bizRules"),
            ],
        ),
        with(
            "sensorReport",
            &[
                leaf("type"),
                leaf("exception"),
                leaf("deviceID"),
                leaf("deviceMetadata"),
                leaf("rawData"),
                leaf("dataProcessingMethod"),
                leaf("time"),
                leaf("microorganism"),
                leaf("chemicalSubstance"),
                leaf("value"),
                leaf("component"),
                leaf("stringValue"),
                leaf("booleanValue"),
                leaf("hexBinaryValue"),
                leaf("uriValue"),
                leaf("minValue"),
                leaf("maxValue"),
                leaf("meanValue"),
                leaf("sDev"),
                leaf("percRank"),
                leaf("percValue"),
                leaf("uom"),
                leaf("coordinateReferenceSystem"),
            ],
        ),
    ],
)];

const ORDER: &[Order] = &[
    leaf("eventTime"),
    leaf("eventTimeZoneOffset"),
    leaf("certificationInfo"),
    leaf("parentID"),
    with("epcList", EPC),
    with("inputEPCList", EPC),
    with("childEPCs", EPC),
    with("quantityList", QTY),
    with("childQuantityList", QTY),
    with("inputQuantityList", QTY),
    with("outputEPCList", EPC),
    with("outputQuantityList", QTY),
    leaf("action"),
    leaf("transformationID"),
    leaf("bizStep"),
    leaf("disposition"),
    with("persistentDisposition", &[leaf("set"), leaf("unset")]),
    with("readPoint", &[leaf("id")]),
    with("bizLocation", &[leaf("id")]),
    with("bizTransactionList", NEVER),
    with("sourceList", NEVER),
    with("destinationList", NEVER),
    with("sensorElementList", SENSOR),
];

const PAIR_LISTS: [&str; 3] = ["sourceList", "destinationList", "bizTransactionList"];

/// The pre-hash string of one event.
fn pre_hash(event: &Value, prefixes: &[(&str, &str)]) -> String {
    let mut event = event.clone();
    expand_cbv(&mut event);
    let Py::Node(ty, _, mut children) = deep_correct(to_py(&event, prefixes)) else {
        return String::new();
    };
    let ordered = in_order(&mut children, ORDER);
    children.retain(|c| {
        !matches!(
            c.name(),
            Some("recordTime" | "eventID" | "type" | "errorDeclaration")
        )
    });
    format!("eventType={ty}{ordered}{}", generic(&children))
}

/// CBV words written bare (`receiving`) as the web URIs JSON-LD expands them to
/// (`https://ref.gs1.org/cbv/BizStep-receiving`), in the fields whose values are CBV
/// words.
fn expand_cbv(event: &mut Value) {
    fn web(v: &mut Value, vocab: &str) {
        if let Value::String(s) = v
            && !s.contains(':')
        {
            *s = format!("https://ref.gs1.org/cbv/{vocab}-{s}");
        }
    }
    let Value::Object(o) = event else { return };
    if let Some(v) = o.get_mut("bizStep") {
        web(v, "BizStep");
    }
    if let Some(v) = o.get_mut("disposition") {
        web(v, "Disp");
    }
    if let Some(Value::Object(p)) = o.get_mut("persistentDisposition") {
        for k in ["set", "unset"] {
            if let Some(Value::Array(a)) = p.get_mut(k) {
                a.iter_mut().for_each(|v| web(v, "Disp"));
            }
        }
    }
    for (list, vocab) in [
        ("sourceList", "SDT"),
        ("destinationList", "SDT"),
        ("bizTransactionList", "BTT"),
    ] {
        if let Some(Value::Array(a)) = o.get_mut(list) {
            for e in a {
                if let Some(t) = e.get_mut("type") {
                    web(t, vocab);
                }
            }
        }
    }
}

/// `prefix:name` keys as `{IRI}name`, and `prefix:rest` values as `IRIrest`.
fn with_prefix(text: &str, prefixes: &[(&str, &str)], value: bool) -> String {
    if let Some((p, rest)) = text.split_once(':')
        && let Some((_, iri)) = prefixes.iter().find(|(k, _)| *k == p)
    {
        return if value {
            format!("{iri}{rest}")
        } else {
            format!("{{{iri}}}{rest}")
        };
    }
    text.to_string()
}

fn to_py(v: &Value, prefixes: &[(&str, &str)]) -> Py {
    match v {
        Value::Array(a) => Py::Node(
            String::new(),
            String::new(),
            a.iter().map(|x| to_py(x, prefixes)).collect(),
        ),
        Value::Object(o) => object_to_py(o, prefixes),
        Value::String(s) => Py::Node(String::new(), with_prefix(s, prefixes, true), Vec::new()),
        Value::Number(n) => Py::Node(String::new(), py_number(n), Vec::new()),
        Value::Bool(b) => Py::Node(
            String::new(),
            if *b { "True" } else { "False" }.into(),
            Vec::new(),
        ),
        Value::Null => Py::Node(String::new(), "None".into(), Vec::new()),
    }
}

fn object_to_py(o: &Map<String, Value>, prefixes: &[(&str, &str)]) -> Py {
    let name = match o.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(other) => scalar_text(other),
        None => String::new(),
    };
    let mut children = Vec::new();
    for (key, val) in o {
        if matches!(key.as_str(), "#text" | "rdfs:comment" | "comment") || key.starts_with("@xmlns")
        {
            continue;
        }
        let Py::Node(_, value, grand) = to_py(val, prefixes) else {
            continue;
        };
        let key = with_prefix(key, prefixes, false);
        if val.is_array() {
            for el in grand {
                if let Py::Node(_, v, c) = el {
                    children.push(Py::Node(key.clone(), v, c));
                }
            }
        } else {
            children.push(Py::Node(key, value, grand));
        }
    }
    // Elements of the pair lists keep their fields' order: that is the pair.
    if !["bizTransaction", "source", "destination"]
        .iter()
        .any(|k| o.contains_key(*k))
    {
        children.sort();
    }
    Py::Node(name, String::new(), children)
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => py_number(n),
        other => other.to_string(),
    }
}

/// A JSON number as Python prints what `json.loads` made of it.
fn py_number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    n.as_f64().map(py_repr).unwrap_or_else(|| n.to_string())
}

/// The XML shape the reference implementation hashes: `…List` fields become a list node
/// whose elements are named without `List`, the pair lists become pairs, quantity
/// elements are `quantityElement`.
fn deep_correct(p: Py) -> Py {
    let Py::Node(name, value, children) = p else {
        return p;
    };
    let mut rest = Vec::new();
    let mut lists: Vec<(String, Vec<Py>)> = Vec::new();
    for e in children {
        match e {
            Py::Node(n, v, c) if n.ends_with("List") => {
                let el = Py::Node(n[..n.len() - 4].to_string(), v, c);
                match lists.iter_mut().find(|(l, _)| *l == n) {
                    Some((_, els)) => els.push(el),
                    None => lists.push((n, vec![el])),
                }
            }
            other => rest.push(other),
        }
    }
    for (list, els) in lists {
        if PAIR_LISTS.contains(&list.as_str()) {
            let pairs = els
                .into_iter()
                .map(|e| {
                    let Py::Node(_, _, c) = e else { return e };
                    let mut it = c.into_iter();
                    let empty = || Py::Node(String::new(), String::new(), Vec::new());
                    let a = it.next().unwrap_or_else(empty);
                    let b = it.next().unwrap_or_else(empty);
                    Py::Pair(Box::new(a), Box::new(b))
                })
                .collect();
            rest.push(Py::Node(list, String::new(), pairs));
        } else {
            rest.push(Py::Node(list, String::new(), els));
        }
    }
    let mut epcs = Vec::new();
    rest.retain(|e| match e {
        Py::Node(n, v, _) if n == "childEPCs" => {
            epcs.push(Py::Node("epc".into(), v.clone(), Vec::new()));
            false
        }
        _ => true,
    });
    if !epcs.is_empty() {
        rest.push(Py::Node("childEPCs".into(), String::new(), epcs));
    }
    let corrected = rest
        .into_iter()
        .map(|e| match e.name() {
            Some(n) if PAIR_LISTS.contains(&n) => e,
            _ => deep_correct(e),
        })
        .collect::<Vec<_>>();
    let name = match name.as_str() {
        "inputEPC" | "outputEPC" => "epc".to_string(),
        "inputQuantity" | "outputQuantity" | "childQuantity" => "quantityElement".to_string(),
        "quantity" if !corrected.is_empty() => "quantityElement".to_string(),
        _ => name,
    };
    Py::Node(name, value, corrected)
}

/// The fields `order` names, in that order, each field's values sorted; what it used is
/// taken out of `list` (what remains is hashed by [`generic`]).
fn in_order(list: &mut Vec<Py>, order: &[Order]) -> String {
    let extensions = user_extensions(list);
    let mut pre = String::new();
    for o in order {
        let mut values = Vec::new();
        let mut used = Vec::new();
        for (i, child) in list.iter_mut().enumerate() {
            if o.name.is_none() || child.name() != o.name {
                continue;
            }
            let s = child_pre_hash(child, o.sub);
            if !s.is_empty() {
                values.push(s);
            }
            if matches!(child, Py::Node(_, _, c) if c.is_empty()) {
                used.push(i);
            }
        }
        for i in used.into_iter().rev() {
            list.remove(i);
        }
        values.sort();
        pre.push_str(&values.concat());
    }
    if !extensions.is_empty() {
        pre.push_str(&generic(&extensions));
    }
    pre
}

/// Fields of a nested element in a namespace ending in `/`: hashed after the element's
/// ordered parts. Never at the top of an event.
fn user_extensions(list: &mut Vec<Py>) -> Vec<Py> {
    let is_ext = |c: &Py| {
        c.name()
            .is_some_and(|n| n.contains('{') && n.contains("/}"))
    };
    // Most elements have none: nothing to split off, and no list rebuilt to find that out.
    if list.len() <= 1
        || !list.iter().any(is_ext)
        || list.iter().any(|c| {
            c.name()
                .is_some_and(|n| n.contains("eventTime") || n.contains("action"))
        })
    {
        return Vec::new();
    }
    let (ext, rest): (Vec<Py>, Vec<Py>) = std::mem::take(list).into_iter().partition(is_ext);
    *list = rest;
    ext
}

fn child_pre_hash(child: &mut Py, sub: &[Order]) -> String {
    let Py::Node(name, value, children) = child else {
        return String::new();
    };
    let grand = if sub.is_empty() {
        String::new()
    } else {
        in_order(children, sub)
    };
    let mut text = String::new();
    if !value.is_empty() {
        let t = py_strip(value);
        let t = if has_word(name, "time") && !has_word(name, "offset") {
            utc_millis(t)
        } else {
            canonical(t)
        };
        if !t.is_empty() {
            text = format!("={t}");
        }
    }
    if text.is_empty() && grand.is_empty() {
        return String::new();
    }
    format!("{name}{text}{grand}")
}

/// Fields outside the order: `name=value` and their parts, sorted (but a pair keeps
/// its order).
fn generic(children: &[Py]) -> String {
    let mut values: Vec<String> = children
        .iter()
        .map(|c| match c {
            Py::Pair(a, b) => generic(&[(**a).clone(), (**b).clone()]),
            Py::Node(n, v, c) => {
                let t = py_strip(v);
                let text = if t.is_empty() {
                    String::new()
                } else {
                    format!("={}", canonical(t))
                };
                format!("{n}{text}{}", generic(c))
            }
        })
        .collect();
    let pair = children
        .iter()
        .any(|c| matches!(c.name(), Some("bizTransaction" | "source" | "destination")));
    if values.len() > 1 && !pair {
        values.sort();
    }
    values.concat()
}

/// Does `name` hold `word` in any case (the reference lowers the name and looks)?
fn has_word(name: &str, word: &str) -> bool {
    name.as_bytes()
        .windows(word.len())
        .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
}

fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c))
}

/// A time as UTC to the millisecond (`2026-11-21T06:00:00.000Z`); text that is not a
/// time stays as it is.
fn utc_millis(t: &str) -> String {
    let Ok(at) = chrono::DateTime::parse_from_rfc3339(t) else {
        return t.to_string();
    };
    let at = at.with_timezone(&chrono::Utc);
    let micros = at.timestamp_subsec_micros() as i64;
    let (mut ms, rem) = (micros / 1000, micros % 1000);
    // Python's round to thousands of microseconds: half to even.
    if rem > 500 || (rem == 500 && ms % 2 == 1) {
        ms += 1;
    }
    let whole = at.format("%Y-%m-%dT%H:%M:%S");
    if ms >= 1000 {
        return t.to_string();
    }
    format!("{whole}.{ms:03}Z")
}

/// A value as the hash takes it: old CBV URNs as web URIs, numbers without trailing
/// zeros, GS1 identifiers as canonical Digital Link.
fn canonical(t: &str) -> String {
    // Old CBV URNs anywhere in the text, as the reference replaces them.
    let t = if t.contains("urn:epcglobal:cbv:") {
        t.replace(
            "urn:epcglobal:cbv:bizstep:",
            "https://ref.gs1.org/cbv/BizStep-",
        )
        .replace("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-")
        .replace("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-")
        .replace("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-")
        .replace("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-")
    } else {
        t.to_string()
    };
    let t = numeric(&t).unwrap_or(t);
    super::hash_dl::normalise(&t).unwrap_or(t)
}

/// Text Python reads as a number, written as Python writes it back: `50` for `50.000`,
/// `22.68`, `123` for `0123`. `None` for other text (and for infinities, on which the
/// reference implementation gives no hash at all).
fn numeric(t: &str) -> Option<String> {
    let x = py_float(t)?;
    if x.is_nan() || x.is_infinite() {
        return None;
    }
    Some(if x.fract() == 0.0 {
        int_text(x)
    } else {
        py_repr(x)
    })
}

/// Python's `float(text)` for ASCII text: sign, digits with single underscores between
/// them, a point, an exponent; `inf`, `infinity`, `nan` in any case.
fn py_float(t: &str) -> Option<f64> {
    let s = py_strip(t);
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if ["inf", "infinity", "nan"]
        .iter()
        .any(|w| body.eq_ignore_ascii_case(w))
    {
        return s.to_ascii_lowercase().parse().ok();
    }
    let b = body.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| -> usize {
        let start = *i;
        while *i < b.len() {
            // A digit, or one underscore between two digits.
            let underscore = b[*i] == b'_'
                && *i > start
                && b[*i - 1].is_ascii_digit()
                && b.get(*i + 1).is_some_and(u8::is_ascii_digit);
            if b[*i].is_ascii_digit() || underscore {
                *i += 1;
            } else {
                break;
            }
        }
        *i - start
    };
    let whole = digits(&mut i);
    let mut frac = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac = digits(&mut i);
    }
    if whole + frac == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    s.replace('_', "").parse().ok()
}

/// An integral float as Python's `str(int(x))`: every digit of its exact value.
fn int_text(x: f64) -> String {
    if x.abs() < 1e18 {
        return format!("{}", x as i64);
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1075;
    let mant = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
    // mant · 2^exp with exp > 0 here; decimal limbs of 10^9, least significant first.
    let mut limbs: Vec<u64> = vec![mant % 1_000_000_000, mant / 1_000_000_000];
    for _ in 0..exp {
        let mut carry = 0;
        for l in limbs.iter_mut() {
            let v = *l * 2 + carry;
            *l = v % 1_000_000_000;
            carry = v / 1_000_000_000;
        }
        if carry > 0 {
            limbs.push(carry);
        }
    }
    while limbs.len() > 1 && limbs.last() == Some(&0) {
        limbs.pop();
    }
    let mut out = String::from(if x < 0.0 { "-" } else { "" });
    out.push_str(&limbs.last().copied().unwrap_or(0).to_string());
    for l in limbs.iter().rev().skip(1) {
        out.push_str(&format!("{l:09}"));
    }
    out
}

/// Python's `repr` of a finite float: the shortest digits that read back the same, in
/// positional notation from 1e-4 to below 1e16, else as `1.5e+16`.
fn py_repr(x: f64) -> String {
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let e = format!("{x:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let point = exp + 1;
    let n = digits.len() as i32;
    let body = if -4 < point && point <= 16 {
        if point <= 0 {
            format!("0.{}{digits}", "0".repeat((-point) as usize))
        } else if point >= n {
            format!("{digits}{}.0", "0".repeat((point - n) as usize))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        }
    } else {
        let rest = if n > 1 {
            format!(".{}", &digits[1..])
        } else {
            String::new()
        };
        format!(
            "{}{rest}e{}{:02}",
            &digits[..1],
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    };
    format!("{sign}{body}")
}

#[cfg(test)]
#[path = "hash_tests.rs"]
mod tests;
