//! Master data on the command line: items and parties shown in full, edited and retired.

use super::Res;
use super::args::{ItemEdit, PartyEdit};
use lotline_domain::*;
use lotline_station::{Station, StationExt};
use serde_json::{Value, json};
use std::io::Write;

fn or_dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

fn retired_json(r: &Option<Retired>) -> Value {
    match r {
        None => Value::Null,
        Some(r) => json!({
            "reason": r.reason, "operator": r.stamp.operator, "station": r.stamp.station,
            "at": r.stamp.at.to_rfc3339(),
        }),
    }
}

fn temp_c(dc: Option<i32>) -> Value {
    dc.map(|d| json!(d as f64 / 10.0)).unwrap_or(Value::Null)
}

/// An optional text field: `null` when empty (README "JSON output": never `""`).
pub(super) fn text(s: &str) -> Value {
    if s.is_empty() { Value::Null } else { json!(s) }
}

/// An item, named as `item add`'s flags are (`shelf_life` in days, `temp_min` and
/// `temp_max` in °C).
pub fn item_json(i: &Item) -> Value {
    let d = &i.description;
    json!({
        "code": i.code.as_str(), "name": d.name, "brand": text(&d.brand),
        "commodity": text(&d.commodity), "variety": text(&d.variety),
        "pack_size": text(&d.pack_size), "pack_style": text(&d.pack_style),
        "unit": i.unit.as_str(), "kind": i.kind.as_str(),
        "gtin": i.gtin.as_ref().map(|g| g.as_str()), "shelf_life": i.shelf_life_days, "ftl": i.ftl,
        "temp_min": temp_c(i.receiving_temp.min_dc),
        "temp_max": temp_c(i.receiving_temp.max_dc),
        "retired": retired_json(&i.retired),
        "created": { "operator": i.created.operator, "station": i.created.station, "at": i.created.at.to_rfc3339() },
    })
}

/// A party, named as `party add`'s flags are.
pub fn party_json(p: &Party) -> Value {
    let l = &p.location;
    let c = &p.recall_contact;
    json!({
        "id": p.id.as_str(), "role": p.role.as_str(), "name": l.business_name,
        "phone": text(&l.phone), "street": text(&l.street), "city": text(&l.city),
        "state": text(&l.state), "zip": text(&l.zip), "country": text(&l.country),
        "gln": p.gln.as_ref().map(|g| g.as_str()),
        "contact_name": text(&c.name), "contact_phone": text(&c.phone),
        "contact_email": text(&c.email),
        "retired": retired_json(&p.retired),
        "created": { "operator": p.created.operator, "station": p.created.station, "at": p.created.at.to_rfc3339() },
    })
}

/// Every field of an item, one per line.
pub fn item_detail(out: &mut impl Write, i: &Item) -> Res {
    let d = &i.description;
    let rows: Vec<(&str, String)> = vec![
        ("code", i.code.to_string()),
        ("name", d.name.clone()),
        ("brand", or_dash(&d.brand).into()),
        ("commodity", or_dash(&d.commodity).into()),
        ("variety", or_dash(&d.variety).into()),
        ("pack size", or_dash(&d.pack_size).into()),
        ("pack style", or_dash(&d.pack_style).into()),
        ("unit", i.unit.to_string()),
        ("kind", i.kind.to_string()),
        (
            "GTIN",
            i.gtin.as_ref().map(|g| g.to_string()).unwrap_or("-".into()),
        ),
        (
            "shelf life",
            i.shelf_life_days
                .map(|d| format!("{d} days"))
                .unwrap_or("-".into()),
        ),
        ("FTL", if i.ftl { "yes" } else { "no" }.into()),
        ("receiving temp", i.receiving_temp.to_string()),
        ("added", i.created.text()),
        (
            "status",
            match &i.retired {
                None => "active".into(),
                Some(r) => format!("RETIRED {}: {}", r.stamp.text(), r.reason),
            },
        ),
    ];
    for (k, v) in rows {
        writeln!(out, "{k:<15} {v}")?;
    }
    Ok(())
}

/// Every field of a party, one per line.
pub fn party_detail(out: &mut impl Write, p: &Party) -> Res {
    let l = &p.location;
    let c = &p.recall_contact;
    let rows: Vec<(&str, String)> = vec![
        ("id", p.id.to_string()),
        ("role", p.role.to_string()),
        ("name", l.business_name.clone()),
        ("phone", or_dash(&l.phone).into()),
        ("street", or_dash(&l.street).into()),
        ("city", or_dash(&l.city).into()),
        ("state", or_dash(&l.state).into()),
        ("ZIP", or_dash(&l.zip).into()),
        ("country", or_dash(&l.country).into()),
        (
            "GLN",
            p.gln.as_ref().map(|g| g.to_string()).unwrap_or("-".into()),
        ),
        ("recall contact", or_dash(&c.name).into()),
        ("contact phone", or_dash(&c.phone).into()),
        ("contact email", or_dash(&c.email).into()),
        ("added", p.created.text()),
        (
            "status",
            match &p.retired {
                None => "active".into(),
                Some(r) => format!("RETIRED {}: {}", r.stamp.text(), r.reason),
            },
        ),
    ];
    for (k, v) in rows {
        writeln!(out, "{k:<15} {v}")?;
    }
    Ok(())
}

/// The master-data changes in `events`, oldest first: when, who, every field old → new.
pub fn changes(out: &mut impl Write, events: &[Event]) -> Res {
    writeln!(out)?;
    if events.is_empty() {
        writeln!(out, "history         no changes since it was added")?;
        return Ok(());
    }
    writeln!(out, "history")?;
    for e in events {
        let what = match &e.kind {
            EventKind::ItemChanged { before, after } => {
                describe_changes(&after.changes_from(before))
            }
            EventKind::PartyChanged { before, after } => {
                describe_changes(&after.changes_from(before))
            }
            other => match recipe_event_text(other, &|id| format!("#{}", id.0)) {
                Some(t) => t,
                None => continue,
            },
        };
        writeln!(out, "  event {} {}: {what}", e.id, e.stamp.text())?;
    }
    Ok(())
}

pub fn edit_item(st: &dyn Station, out: &mut impl Write, e: &ItemEdit) -> Res {
    let current = st.item(ItemCode::parse(&e.code, "item")?)?;
    let event = st.edit_item(e.apply(&current)?)?;
    let after = st.item(current.code.clone())?;
    writeln!(
        out,
        "item {} changed (event {event}): {}",
        after.code,
        describe_changes(&after.changes_from(&current))
    )?;
    Ok(())
}

pub fn retire_item(st: &dyn Station, out: &mut impl Write, code: &str, reason: &str) -> Res {
    let code = ItemCode::parse(code, "item")?;
    let event = st.retire_item(code.clone(), reason.to_string())?;
    writeln!(
        out,
        "item {code} retired (event {event}); its lots and history stay"
    )?;
    Ok(())
}

pub fn edit_party(st: &dyn Station, out: &mut impl Write, e: &PartyEdit) -> Res {
    let current = st.party(PartyId::parse(&e.id, "party")?)?;
    let event = st.edit_party(e.apply(&current)?)?;
    let after = st.party(current.id.clone())?;
    writeln!(
        out,
        "party {} changed (event {event}): {}",
        after.id,
        describe_changes(&after.changes_from(&current))
    )?;
    Ok(())
}

pub fn retire_party(st: &dyn Station, out: &mut impl Write, id: &str, reason: &str) -> Res {
    let id = PartyId::parse(id, "party")?;
    let event = st.retire_party(id.clone(), reason.to_string())?;
    writeln!(
        out,
        "party {id} retired (event {event}); its history and traces stay"
    )?;
    Ok(())
}
