//! What the command line prints: aligned text for people, JSON for scripts. The JSON
//! shapes are documented in README.md; change them only together.

use super::Res;
use lotline_domain::text::excerpt;
use lotline_domain::words::plural;
use lotline_domain::*;
use lotline_domain::{CheckReport, LotHistory, Trace};
use lotline_station::{Station, StationExt};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;

/// An exact quantity as a JSON number. Thousandths below 2^53 print back exactly.
fn num(q: Qty) -> Value {
    if q.milli() % 1000 == 0 {
        json!(q.milli() / 1000)
    } else {
        json!(q.milli() as f64 / 1000.0)
    }
}

fn opt_date(d: Option<chrono::NaiveDate>) -> Value {
    d.map(|d| json!(d.to_string())).unwrap_or(Value::Null)
}

use super::master::text;

pub fn lot_json(l: &Lot) -> Value {
    // The same fields, in the same order, as the streamed form.
    serde_json::to_value(super::json::LotJson(l)).unwrap_or(Value::Null)
}

/// One JSON document, indented or compact as `--pretty` and the terminal decide, with
/// characters a terminal must not see raw written as `\uXXXX` (the same JSON).
pub(super) fn print_json(out: &mut impl Write, v: &impl serde::Serialize) -> Res {
    super::json::write(out, v)?;
    Ok(())
}

pub fn summary(out: &mut impl Write, st: &dyn Station, db: &Path) -> Res {
    let plant = st.plant()?;
    let s = st.stats()?;
    writeln!(out, "{} — {}", plant.location.business_name, db.display())?;
    writeln!(
        out,
        "{} items, {} parties, {} lots, {} events, {} links",
        s.items, s.parties, s.lots, s.events, s.links
    )?;
    writeln!(
        out,
        "Run lotline in a terminal for the full-screen app; `lotline --help` lists the commands."
    )?;
    Ok(())
}

/// The plant's settings, named as `plant set`'s flags are.
fn plant_json(p: &Plant) -> Value {
    let l = &p.location;
    json!({
        "name": l.business_name, "phone": text(&l.phone), "street": text(&l.street),
        "city": text(&l.city), "state": text(&l.state), "zip": text(&l.zip),
        "country": text(&l.country), "gln": p.gln.as_ref().map(|g| g.as_str()),
        "receipt_pattern": p.receipt_pattern.to_string(),
        "batch_pattern": p.batch_pattern.to_string(),
        "qa_users": p.qa_users,
        "draft_hours": p.draft_hours,
        "label_size": p.label_size.as_str(),
    })
}

pub fn plant(out: &mut impl Write, p: &Plant, json: bool) -> Res {
    if json {
        return print_json(out, &plant_json(p));
    }
    writeln!(out, "plant            {}", p.location.one_line())?;
    writeln!(out, "phone            {}", p.location.phone)?;
    writeln!(
        out,
        "GLN              {}",
        p.gln.as_ref().map(|g| g.as_str()).unwrap_or("-")
    )?;
    writeln!(out, "receipt pattern  {}", p.receipt_pattern)?;
    writeln!(out, "batch pattern    {}", p.batch_pattern)?;
    let qa = if p.qa_users.is_empty() {
        "(everyone)".to_string()
    } else {
        p.qa_users.join(", ")
    };
    writeln!(out, "QA users         {qa}")?;
    writeln!(out, "drafts kept      {} hours", p.draft_hours)?;
    writeln!(
        out,
        "label size       {} ({})",
        p.label_size.as_str(),
        p.label_size
    )?;
    Ok(())
}

/// `item show --json`: the one item as an object.
pub fn item(out: &mut impl Write, i: &Item) -> Res {
    print_json(out, &super::master::item_json(i))
}

pub fn items(out: &mut impl Write, items: &[Item], json: bool) -> Res {
    if json {
        let v: Vec<Value> = items.iter().map(super::master::item_json).collect();
        return print_json(out, &Value::Array(v));
    }
    writeln!(
        out,
        "{:<14} {:<12} {:<5} {:<3} {:<14} NAME",
        "CODE", "KIND", "UNIT", "FTL", "GTIN"
    )?;
    for i in items {
        writeln!(
            out,
            "{:<14} {:<12} {:<5} {:<3} {:<14} {}",
            i.code,
            i.kind,
            i.unit,
            if i.ftl { "yes" } else { "" },
            i.gtin.as_ref().map(|g| g.as_str()).unwrap_or(""),
            i.description.name
        )?;
    }
    Ok(())
}

/// `party show --json`: the one party as an object.
pub fn party(out: &mut impl Write, p: &Party) -> Res {
    print_json(out, &super::master::party_json(p))
}

pub fn parties(out: &mut impl Write, parties: &[Party], json: bool) -> Res {
    if json {
        let v: Vec<Value> = parties.iter().map(super::master::party_json).collect();
        return print_json(out, &Value::Array(v));
    }
    writeln!(out, "{:<12} {:<9} LOCATION", "ID", "ROLE")?;
    for p in parties {
        writeln!(out, "{:<12} {:<9} {}", p.id, p.role, p.location.one_line())?;
    }
    Ok(())
}

pub fn lots(out: &mut impl Write, lots: &[Lot], json: bool) -> Res {
    if json {
        return print_json(out, &super::json::LotsJson(lots));
    }
    writeln!(
        out,
        "{:<13} {:<14} {:<10} {:<10} {:>10} {:>10} {:<5} {:<9} SOURCE",
        "LOT", "ITEM", "DATE", "EXPIRY", "QTY", "ON HAND", "UNIT", "STATUS"
    )?;
    for l in lots {
        let source = match &l.origin {
            Origin::Received {
                supplier,
                supplier_lot,
            } => format!("{supplier} lot {supplier_lot}"),
            Origin::Produced { line } => match line {
                Some(line) => format!("batch, {line}"),
                None => "batch".into(),
            },
            Origin::Returned {
                customer, shipment, ..
            } => format!("return from {customer}, shipment {shipment}"),
            Origin::Partner { source, .. } => format!("known only from {source}"),
        };
        writeln!(
            out,
            "{:<13} {:<14} {:<10} {:<10} {:>10} {:>10} {:<5} {:<9} {}",
            l.code,
            l.item,
            l.date,
            l.expiry.map(|d| d.to_string()).unwrap_or("-".into()),
            l.quantity.to_string(),
            l.balance.to_string(),
            l.unit,
            l.status,
            source
        )?;
    }
    if lots.is_empty() {
        writeln!(out, "(no lots match)")?;
    }
    Ok(())
}

/// The code and unit of each lot an event may name, for describing it.
pub(super) type LotNames = HashMap<LotId, (String, Unit)>;

/// One line for an event, every quantity with its unit ("R26272-001 80 kg").
/// The one lot an event made (a receipt, a batch, a return) or changed (an adjustment, a
/// hold or release), for the audit's `lot` field; none for events of several lots.
pub(super) fn event_lot(e: &Event) -> Option<LotId> {
    match &e.kind {
        EventKind::Receive(r) => Some(r.lot),
        EventKind::Produce(b) => Some(b.output),
        EventKind::Return(r) => Some(r.lot),
        EventKind::Adjust { lot, .. } | EventKind::Status { lot, .. } => Some(*lot),
        _ => None,
    }
}

pub(super) fn describe_event(e: &Event, codes: &LotNames) -> String {
    let code = |id: &LotId| {
        codes
            .get(id)
            .map(|(c, _)| c.clone())
            .unwrap_or_else(|| format!("#{}", id.0))
    };
    let amount = |id: &LotId, qty: Qty| match codes.get(id) {
        Some((_, unit)) => format!("{qty} {unit}"),
        None => qty.to_string(),
    };
    let uses = |us: &[Use]| {
        us.iter()
            .map(|u| format!("{} {}", code(&u.lot), amount(&u.lot, u.qty)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match &e.kind {
        // The lot the receipt made comes first: it is what the audit is read for.
        EventKind::Receive(r) => format!(
            "received lot {}: {} {} {} from {} (supplier lot {}){}",
            code(&r.lot),
            r.qty,
            r.unit,
            r.item,
            r.supplier,
            r.supplier_lot,
            quality_text(&r.quality)
        ),
        EventKind::Produce(b) => format!(
            "batch made {} {} {} of {}",
            code(&b.output),
            b.qty,
            b.unit,
            uses(&b.inputs)
        ),
        EventKind::Ship(s) => format!("shipped to {}: {}", s.customer, uses(&s.lines)),
        EventKind::Adjust { lot, delta, reason } => {
            format!(
                "adjusted {} by {}: {reason}",
                code(lot),
                amount(lot, *delta)
            )
        }
        EventKind::Status {
            lot,
            from,
            to,
            reason,
        } => format!("{} {from} → {to}: {reason}", code(lot)),
        EventKind::Void { event, reason } => format!("voided event {event}: {reason}"),
        EventKind::ItemChanged { before, after } => format!(
            "item {} changed: {}",
            after.code,
            describe_changes(&after.changes_from(before))
        ),
        EventKind::PartyChanged { before, after } => format!(
            "party {} changed: {}",
            after.id,
            describe_changes(&after.changes_from(before))
        ),
        EventKind::LabelData {
            receipt, elements, ..
        } => format!(
            "{} (kept from the scan of receipt {receipt})",
            lotline_domain::describe_label(elements)
        ),
        EventKind::ExpiryOverride { event, lots } => format!(
            "expired lot{} {} used by event {event}: expiry override",
            if lots.len() == 1 { "" } else { "s" },
            lots.iter().map(code).collect::<Vec<_>>().join(", ")
        ),
        EventKind::MockRecall(m) => format!(
            "mock recall ({}): {} lots, {} shipments to {} customers, mass balance {}, {} ms{}",
            m.direction,
            m.lots,
            m.shipments,
            m.customers,
            MassBalance::from(m.balance).reconciliation_text(),
            m.elapsed_ms,
            if m.note.is_empty() {
                String::new()
            } else {
                format!(" — {}", m.note)
            }
        ),
        other => recipe_event_text(other, &|id| code(&id))
            .or_else(|| {
                recall_event_text(other, &|id| (code(&id), codes.get(&id).map(|(_, u)| *u)))
            })
            .unwrap_or_default(),
    }
}

/// The dock checks of a receipt, as "; 19.0 °C, inspection fail, note: shells cracked".
fn quality_text(q: &Quality) -> String {
    let mut parts = Vec::new();
    if let Some(dc) = q.temperature_dc {
        parts.push(format!("{} °C", format_temperature(dc)));
    }
    match q.inspection {
        Some(Inspection::Pass) => parts.push("inspection pass".into()),
        Some(Inspection::Fail) => parts.push("inspection FAIL".into()),
        None => {}
    }
    if !q.note.is_empty() {
        parts.push(format!("note: {}", q.note));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("; {}", parts.join(", "))
    }
}

/// A receipt's dock checks for JSON: temperature in °C as a number, inspection, note.
pub fn quality_json(q: &Quality) -> Value {
    json!({
        "temperature_c": q.temperature_dc.map(|dc| dc as f64 / 10.0),
        "inspection": q.inspection.map(|i| match i {
            Inspection::Pass => "pass",
            Inspection::Fail => "fail",
        }),
        "note": q.note,
    })
}

/// `lotline lot CODE`: the lot, its allergens (when the station told them) and its events.
pub fn history(
    out: &mut impl Write,
    h: &LotHistory,
    allergens: Option<&LotAllergens>,
    json: bool,
) -> Res {
    let mut codes: LotNames = HashMap::from([(h.lot.id, (h.lot.code.to_string(), h.lot.unit))]);
    codes.extend(
        h.related
            .iter()
            .map(|(id, c, u)| (*id, (c.to_string(), *u))),
    );
    // The receipt that made the lot, for what FSMA keeps of it beyond the lot record.
    let receipt = h.events.iter().find_map(|e| match &e.event.kind {
        EventKind::Receive(r) if e.event.id == h.lot.event => Some(r),
        _ => None,
    });
    if json {
        let mut v = lot_json(&h.lot);
        if let Some(r) = receipt {
            v["receiving"] = quality_json(&r.quality);
            if let Some(c) = r.as_received {
                v["received_quantity"] = num(c.qty);
                v["received_unit"] = json!(c.unit.as_str());
            }
            v["tlc_source_ref"] = json!(r.tlc_source_ref);
        }
        if let Some(a) = allergens {
            v["allergens"] = allergens_json(a);
        }
        v["events"] = Value::Array(
            h.events
                .iter()
                .map(|e| {
                    json!({
                        "event": e.event.id, "kind": e.event.kind.name(), "date": e.event.date.to_string(),
                        "reference": e.event.reference.as_ref().map(|r| r.to_string()),
                        "operator": e.event.stamp.operator, "station": e.event.stamp.station,
                        "recorded_at": e.event.stamp.at.to_rfc3339(),
                        "effect": num(e.event.kind.balance_effect(h.lot.id)),
                        "voided_by": e.voided_by,
                        "description": describe_event(&e.event, &codes),
                    })
                })
                .collect(),
        );
        return print_json(out, &v);
    }
    let l = &h.lot;
    writeln!(
        out,
        "lot      {}  ({} {})",
        l.code,
        l.item,
        l.origin.as_str()
    )?;
    if let Origin::Received {
        supplier,
        supplier_lot,
    } = &l.origin
    {
        writeln!(out, "supplier {supplier}, supplier lot {supplier_lot}")?;
    }
    if let Origin::Partner { identifier, source } = &l.origin {
        writeln!(out, "known only from {source}, as {identifier}")?;
    }
    if let Some(r) = receipt {
        if let Some(c) = r.as_received
            && (c.unit != l.unit || c.qty != l.quantity)
        {
            writeln!(out, "received {} {} as counted", c.qty, c.unit)?;
        }
        if let Some(t) = &r.tlc_source_ref {
            writeln!(out, "TLC source {t}")?;
        }
    }
    writeln!(
        out,
        "quantity {} {}, on hand {} {}, {}",
        l.quantity, l.unit, l.balance, l.unit, l.status
    )?;
    writeln!(
        out,
        "date     {}   expiry {}",
        l.date,
        l.expiry.map(|d| d.to_string()).unwrap_or("-".into())
    )?;
    if let Some(a) = allergens {
        allergens_text(out, a)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:>6} {:<10} {:>9} {:<12} WHAT",
        "EVENT", "DATE", "EFFECT", "BY"
    )?;
    for e in &h.events {
        let eff = e.event.kind.balance_effect(l.id);
        let eff = if eff == Qty::ZERO {
            String::new()
        } else if eff.milli() > 0 {
            format!("+{eff}")
        } else {
            eff.to_string()
        };
        let voided = e
            .voided_by
            .map(|v| format!("  [VOIDED by {v}]"))
            .unwrap_or_default();
        let r = e
            .event
            .reference
            .as_ref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        writeln!(
            out,
            "{:>6} {:<10} {:>9} {:<12} {}{r}{voided}",
            e.event.id,
            e.event.date,
            eff,
            format!("{}@{}", e.event.stamp.operator, e.event.stamp.station),
            describe_event(&e.event, &codes)
        )?;
    }
    Ok(())
}

/// Where each allergen came from, in words: its item's declaration, the input lots that
/// carried it in.
fn allergen_from(item: &ItemCode, s: &AllergenSource) -> String {
    let mut from: Vec<String> = Vec::new();
    if s.declared {
        from.push(format!("declared on {item}"));
    }
    from.extend(s.via.iter().map(|(lot, i)| format!("via {lot} {i}")));
    from.join(", ")
}

/// The lot's allergens as the Trace screen's details show them: the set as a label prints
/// it, then each allergen and where it came from; one its item does not declare says so.
fn allergens_text(out: &mut impl Write, a: &LotAllergens) -> Res {
    if a.sources.is_empty() {
        writeln!(out, "allergens none")?;
        return Ok(());
    }
    writeln!(out, "allergens {}", a.label)?;
    for s in &a.sources {
        let undeclared = if s.declared {
            String::new()
        } else {
            format!(" (NOT DECLARED on {})", a.item)
        };
        writeln!(
            out,
            "  {}{undeclared}: {}",
            s.allergen,
            allergen_from(&a.item, s)
        )?;
    }
    Ok(())
}

fn allergens_json(a: &LotAllergens) -> Value {
    json!({
        "label": a.label,
        "undeclared": a.undeclared,
        "sources": a.sources.iter().map(|s| json!({
            "allergen": s.allergen,
            "declared": s.declared,
            "via": s.via.iter().map(|(lot, item)| json!({
                "lot": lot.to_string(), "item": item.to_string(),
            })).collect::<Vec<_>>(),
            "from": allergen_from(&a.item, s),
        })).collect::<Vec<_>>(),
    })
}

/// The trace streamed into `out` as JSON, field by field (no `Value` tree in between).
pub fn trace_json(out: &mut impl Write, t: &Trace) -> Res {
    print_json(out, &super::json::TraceJson::new(t))
}

/// Tree glyphs and separators: Unicode where the locale allows, ASCII otherwise (every
/// character of an ASCII printout is ASCII: no `·`, no `—`).
struct Glyphs {
    tee: &'static str,
    last: &'static str,
    pipe: &'static str,
    space: &'static str,
    /// Between the parts of one line.
    dot: &'static str,
    /// Between a heading and what it says.
    dash: &'static str,
}

const UNICODE: Glyphs = Glyphs {
    tee: "├─ ",
    last: "└─ ",
    pipe: "│  ",
    space: "   ",
    dot: "  · ",
    dash: " — ",
};
const ASCII: Glyphs = Glyphs {
    tee: "+- ",
    last: "`- ",
    pipe: "|  ",
    space: "   ",
    dot: "  | ",
    dash: " - ",
};

struct TreeText<'a> {
    t: &'a Trace,
    ix: &'a lotline_domain::TraceIndex,
    lots: HashMap<LotId, &'a Lot>,
    names: HashMap<String, String>,
    forward: bool,
    shown: HashSet<LotId>,
    g: &'a Glyphs,
    lines: Vec<String>,
}

impl<'a> TreeText<'a> {
    /// A lot's line under `parent`. The link's quantity is of the input lot, so it is in
    /// the input lot's unit: the child's backward (10 dozen of eggs used), the parent's
    /// forward (10 dozen of these eggs went into the dough, whatever the dough is kept in).
    fn label(&self, id: LotId, parent: LotId, qty: Qty) -> String {
        let Some(l) = self.lots.get(&id) else {
            return format!("#{}", id.0);
        };
        let dot = self.g.dot;
        let name = self
            .names
            .get(l.item.as_str())
            .map(String::as_str)
            .unwrap_or("");
        let mut s = format!("{}  {} {}", l.code, l.item, name);
        let input = if self.forward { parent } else { id };
        let unit = self.lots.get(&input).map(|l| l.unit.as_str()).unwrap_or("");
        if self.forward {
            let from = self
                .lots
                .get(&parent)
                .map(|p| p.code.to_string())
                .unwrap_or_default();
            s.push_str(&format!("{dot}used {qty} {unit} of {from}"));
        } else {
            s.push_str(&format!("{dot}{qty} {unit} used"));
        }
        match &l.origin {
            Origin::Received {
                supplier,
                supplier_lot,
            } => s.push_str(&format!(
                "{dot}{supplier} lot {supplier_lot}, received {}",
                l.date
            )),
            Origin::Produced { .. } => s.push_str(&format!("{dot}made {}", l.date)),
            Origin::Returned { customer, .. } => {
                s.push_str(&format!("{dot}returned by {customer} {}", l.date))
            }
            Origin::Partner { source, .. } => s.push_str(&format!("{dot}known only from {source}")),
        }
        if l.status != LotStatus::Released {
            s.push_str(&format!("  [{}]", l.status.as_str().to_uppercase()));
        }
        s
    }

    fn walk(&mut self, id: LotId, prefix: &str) {
        use lotline_domain::Child;
        let kids = self.ix.children(id, self.forward);
        let n = kids.len();
        for (i, c) in kids.into_iter().enumerate() {
            let last = i + 1 == n;
            let branch = if last { self.g.last } else { self.g.tee };
            let next = format!("{prefix}{}", if last { self.g.space } else { self.g.pipe });
            match c {
                Child::Shipment(k) => {
                    let s = &self.t.shipments[k];
                    let r = s
                        .reference
                        .as_ref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default();
                    self.lines.push(format!(
                        "{prefix}{branch}shipped {} {} to {} on {}{r}",
                        s.qty, s.unit, s.customer, s.date
                    ));
                }
                Child::Lot { id: child, qty } => {
                    if self.shown.insert(child) {
                        self.lines
                            .push(format!("{prefix}{branch}{}", self.label(child, id, qty)));
                        self.walk(child, &next);
                    } else {
                        let code = self
                            .lots
                            .get(&child)
                            .map(|l| l.code.to_string())
                            .unwrap_or_default();
                        self.lines
                            .push(format!("{prefix}{branch}{code}  (shown above)"));
                    }
                }
            }
        }
    }
}

pub fn trace_text(out: &mut impl Write, st: &dyn Station, t: &Trace, ascii: bool) -> Res {
    let names: HashMap<String, String> = st
        .items()?
        .into_iter()
        .map(|i| (i.code.to_string(), i.description.name))
        .collect();
    let g = if ascii { &ASCII } else { &UNICODE };
    let root = t.lot(t.root).expect("a trace holds its root");
    writeln!(
        out,
        "Trace of {}  {} {}{}{} {} {} {}, on hand {} {}, {}",
        root.code,
        root.item,
        names
            .get(root.item.as_str())
            .map(String::as_str)
            .unwrap_or(""),
        g.dot,
        root.quantity,
        root.unit,
        if matches!(root.origin, Origin::Received { .. }) {
            "received"
        } else {
            "made"
        },
        root.date,
        root.balance,
        root.unit,
        root.status
    )?;
    let dirs: &[bool] = match t.direction {
        lotline_domain::Direction::Backward => &[false],
        lotline_domain::Direction::Forward => &[true],
        lotline_domain::Direction::Both => &[false, true],
    };
    let ix = lotline_domain::TraceIndex::new(t);
    for &forward in dirs {
        let mut tt = TreeText {
            t,
            ix: &ix,
            lots: t.lot_index(),
            names: names.clone(),
            forward,
            shown: HashSet::from([t.root]),
            g,
            lines: vec![],
        };
        tt.walk(t.root, "");
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            if forward {
                format!("Forward{}where it went:", g.dash)
            } else {
                format!("Backward{}what went into it:", g.dash)
            }
        )?;
        writeln!(out, "{}", root.code)?;
        if tt.lines.is_empty() {
            writeln!(out, "{}(nothing)", g.last)?;
        }
        for l in tt.lines {
            writeln!(out, "{l}")?;
        }
    }
    if matches!(
        t.direction,
        lotline_domain::Direction::Forward | lotline_domain::Direction::Both
    ) {
        let customers: HashSet<&str> = t.shipments.iter().map(|s| s.customer.as_str()).collect();
        writeln!(out)?;
        // Counted as the app counts them: every lot in the trace, the root too.
        let reached = t.lots.len();
        writeln!(
            out,
            "{}, {} to {}",
            plural(reached, "lot reached", "lots reached"),
            plural(t.shipments.len(), "shipment", "shipments"),
            plural(customers.len(), "customer", "customers")
        )?;
    }
    Ok(())
}

pub fn check(out: &mut impl Write, r: &CheckReport, json: bool) -> Res {
    if json {
        return print_json(
            out,
            &json!({
                "ok": r.problems.is_empty(), "lots": r.lots, "events": r.events, "links": r.links,
                "problems": r.problems.iter().map(|p| p.0.clone()).collect::<Vec<_>>(),
            }),
        );
    }
    for p in &r.problems {
        writeln!(out, "PROBLEM: {}", p.0)?;
    }
    writeln!(
        out,
        "checked {} lots, {} events, {} links: {}",
        r.lots,
        r.events,
        r.links,
        if r.problems.is_empty() {
            "all consistent".to_string()
        } else {
            lotline_domain::words::plural(r.problems.len(), "problem", "problems")
        }
    )?;
    Ok(())
}

pub fn demo_summary(out: &mut impl Write, st: &dyn Station, path: &Path) -> Res {
    let s = st.stats()?;
    let db = shell_quote(&path.display().to_string());
    writeln!(
        out,
        "Demo plant: {} — {}",
        st.plant()?.location.business_name,
        path.display()
    )?;
    writeln!(
        out,
        "{} items, {} parties, {} lots, {} events, {} links",
        s.items, s.parties, s.lots, s.events, s.links
    )?;
    writeln!(out)?;
    let Some(c) = lotline_station::demo::story(st)? else {
        writeln!(
            out,
            "The complaint story was not found in this database; rebuild it with `lotline demo --fresh`."
        )?;
        return Ok(());
    };
    let r = c.reference.map(|r| format!(" ({r})")).unwrap_or_default();
    writeln!(
        out,
        "The complaint: {} calls about chocolate chip cookies delivered {}{r}.",
        c.customer, c.delivered
    )?;
    writeln!(
        out,
        "Their case is lot {}. Trace it back to the batch and its egg lot:",
        c.cookie_lot
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "    lotline --db {db} trace {} --backward",
        c.cookie_lot
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "The eggs were lot {} (Sunny Ridge Farms lot {}). Who else got product made with them?",
        c.egg_lot, c.egg_supplier_lot
    )?;
    writeln!(out)?;
    writeln!(out, "    lotline --db {db} trace {} --forward", c.egg_lot)?;
    writeln!(out)?;
    writeln!(
        out,
        "That egg lot reached {} shipments to {} customers.",
        c.egg_shipments, c.egg_customers
    )?;
    Ok(())
}

/// Quote a path for copy-and-paste into a POSIX shell when it needs it.
fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// What a scan reads as; with a database (`ours` is then the lots it names, see
/// `cli::lookup`), what it is to this plant.
pub fn barcode(
    out: &mut impl Write,
    scan: &lotline_domain::scan::Scan,
    st: Option<&dyn Station>,
    ours: Option<&[Lot]>,
    json: bool,
) -> Res {
    use lotline_domain::scan::Scan;
    let symbology = scan.symbology().map(|s| s.aim_id());
    // What the plant knows about it, if a database is open.
    let item = scan.gtin().and_then(|g| {
        st.and_then(|st| {
            st.items()
                .ok()?
                .into_iter()
                .find(|i| i.gtin.as_ref().is_some_and(|x| x.as_str() == g))
        })
    });
    let named = lotline_station::lookup::scanned_text(scan);
    if json {
        let mut v = json!({
            "symbology": symbology,
            "elements": scan.elements().iter().map(|e| {
                json!({
                    "ai": e.ai,
                    "title": lotline_domain::scan::ai_title(&e.ai),
                    "value": e.value,
                    "date": opt_date(e.date),
                    "decimal": e.decimal,
                    // Whether the receive form takes it, or it is kept with the receipt.
                    "fills_receipt": lotline_domain::scan::fills_receipt(&e.ai),
                })
            }).collect::<Vec<_>>(),
        });
        // Every key always there, null when it does not apply.
        v["text"] = match scan {
            Scan::Plain { text, .. } => json!(text),
            Scan::Gs1 { .. } => Value::Null,
        };
        v["item"] = item
            .as_ref()
            .map(|i| json!(i.code.as_str()))
            .unwrap_or(Value::Null);
        v["lots"] = ours
            .map(|ls| Value::Array(ls.iter().map(lot_json).collect()))
            .unwrap_or(Value::Null);
        return print_json(out, &v);
    }
    let sym = scan
        .symbology()
        .map(|s| format!("{} {}", s.aim_id(), s.name()))
        .unwrap_or_else(|| "none (no AIM identifier)".into());
    writeln!(out, "symbology  {sym}")?;
    match scan {
        Scan::Gs1 { elements, .. } => {
            for e in elements {
                let mut extra = String::new();
                if let Some(d) = e.date {
                    extra = format!("  = {d}");
                }
                if let Some(d) = &e.decimal {
                    extra = format!("  = {d}");
                }
                writeln!(
                    out,
                    "{:<6} {:<30} {}{extra}",
                    format!("({})", e.ai),
                    lotline_domain::scan::ai_title(&e.ai),
                    e.value
                )?;
            }
            match (&item, scan.gtin(), st) {
                (Some(i), _, _) => {
                    writeln!(out, "GTIN is item {} — {}", i.code, i.description.name)?
                }
                (None, Some(g), Some(_)) => writeln!(
                    out,
                    "GTIN {g} is not on any item; add it with `lotline item add … --gtin {g}`"
                )?,
                _ => {}
            }
        }
        // Quoted and cut like every echo of input: a 5,000-character scan is not repeated.
        Scan::Plain { text, .. } => writeln!(out, "plain text {}", excerpt(text))?,
    }
    let (Some(ours), Some(named)) = (ours, named) else {
        return Ok(());
    };
    match ours {
        [] => writeln!(
            out,
            "{} is not one of our lots, nor a supplier lot we received",
            excerpt(named)
        )?,
        [l] if l.code.as_str() == named => writeln!(
            out,
            "our lot {} — {} {} on hand, {}",
            l.code, l.balance, l.unit, l.status
        )?,
        ls => {
            writeln!(
                out,
                "supplier lot {} is on {} of ours:",
                excerpt(named),
                plural(ls.len(), "lot", "lots")
            )?;
            for l in ls.iter().rev() {
                writeln!(out, "  {}", super::lookup::describe(l))?;
            }
        }
    }
    Ok(())
}

pub fn generated(out: &mut impl Write, s: &lotline_station::file::Generated, secs: f64) -> Res {
    writeln!(
        out,
        "{} days: {} lots ({} received, {} batches), {} links, {} events, {} shipments ({} lines)",
        s.days, s.lots, s.receipts, s.batches, s.links, s.events, s.shipments, s.shipment_lines
    )?;
    if let Some(lot) = &s.fanout_lot {
        writeln!(
            out,
            "largest fan-out: silo lot {lot}, used by {} batches; deepest chain {} lots",
            s.fanout_batches, s.max_depth
        )?;
    }
    writeln!(
        out,
        "every batch on its recipe; {} line clean-downs before a product without an allergen the line last ran",
        s.changeovers
    )?;
    writeln!(
        out,
        "loaded in {secs:.1} s ({:.0} events/s, {} transactions)",
        s.events as f64 / secs.max(1e-9),
        s.commits
    )?;
    Ok(())
}
