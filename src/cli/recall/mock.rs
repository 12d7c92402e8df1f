//! `lotline mock-recall …`: the record as an auditor reads it. `show`, `--json`, the
//! workbook and the one-page summary all come from one packet (`lotline_export::mock`),
//! so each holds the scenario, both traces, the reconciliation, the time taken, the gaps
//! and the corrective actions.

use super::{MockCmd, num, opt_num, qty, text, unit};
use crate::cli::{Failure, Res, lookup};
use lotline_domain::words::plural;
use lotline_domain::*;
use lotline_export::mock::{self as packet, Packet};
use lotline_station::{Station, StationExt};
use serde_json::{Value, json};
use std::io::Write;

/// `lotline mock-recall …`.
pub fn mock(st: &dyn Station, out: &mut impl Write, c: &MockCmd) -> Res {
    match c {
        MockCmd::Start { lot, note } => {
            let found = lookup::one_lot(st, lot, "lot")?;
            let asked_as = match &found {
                lookup::Found::Supplier { text, .. } => text.clone(),
                lookup::Found::Ours(_) => String::new(),
            };
            let id = st.start_mock_recall(StartMockRecall {
                lot: found.lot().code.clone(),
                asked_as,
                note: text(note, "note", 500)?,
                date: st.today()?,
            })?;
            writeln!(out, "{id}")?;
            Ok(())
        }
        MockCmd::Count(a) => {
            let count = NewMockCount {
                recall: a.id,
                lot: a
                    .lot
                    .as_deref()
                    .map(|l| LotCode::parse(l, "lot"))
                    .transpose()?,
                customer: a
                    .customer
                    .as_deref()
                    .map(|c| PartyId::parse(c, "customer"))
                    .transpose()?,
                on_hand: qty(&a.on_hand, "on-hand")?,
                retrieved: qty(&a.retrieved, "retrieved")?,
                consumed: qty(&a.consumed, "consumed")?,
                destroyed: qty(&a.destroyed, "destroyed")?,
                unit: unit(&a.unit)?,
                note: text(&a.note, "note", 200)?,
            };
            let event = st.count_mock_recall(count, st.today()?)?;
            let view = st.mock_recall(a.id)?;
            writeln!(out, "count saved (event {event})")?;
            // An over-count is kept as entered and said at once: it is not found product.
            if let Some(saved) = view.counts.iter().find(|c| c.event == event) {
                for f in view.result.over_counts_of(&saved.line) {
                    writeln!(out, "{}", f.text())?;
                }
            }
            totals_text(out, &view.result)?;
            Ok(())
        }
        MockCmd::Show { id, json } => {
            let p = packet::gather(st, *id, chrono::Utc::now())?;
            if *json {
                return Ok(crate::cli::json::write(out, &mock_json(&p))?);
            }
            show_text(out, &p)
        }
        MockCmd::Finish { id, note } => {
            let event = st.finish_mock_recall(*id, text(note, "note", 500)?, st.today()?)?;
            let p = packet::gather(st, *id, chrono::Utc::now())?;
            writeln!(
                out,
                "mock recall {id} completed (event {event}) after {}",
                p.time_taken()
            )?;
            totals_text(out, &p.view.result)?;
            let n = p.view.result.uncounted();
            if n > 0 {
                writeln!(
                    out,
                    "{} never counted: taken as nothing found",
                    plural(n, "line was", "lines were")
                )?;
            }
            writeln!(out, "corrective actions: {}", p.corrective_actions())?;
            Ok(())
        }
        MockCmd::Export { id, xlsx, summary } => {
            if xlsx.is_none() && summary.is_none() {
                return Err(Failure::invalid(
                    "xlsx",
                    "say what to write: --xlsx FILE and/or --summary FILE",
                ));
            }
            for p in [xlsx, summary].into_iter().flatten() {
                if p.exists() {
                    return Err(Failure::invalid(
                        "file",
                        format!(
                            "{} already exists; give a new name (nothing was written)",
                            p.display()
                        ),
                    ));
                }
            }
            let p = packet::gather(st, *id, chrono::Utc::now())?;
            if let Some(path) = xlsx {
                lotline_export::recall::write_xlsx(path, "xlsx", &packet::tables(&p))?;
                writeln!(out, "Wrote the workbook to {}.", path.display())?;
            }
            if let Some(path) = summary {
                lotline_export::file::write_new_file(path, &packet::summary(&p), "summary")?;
                writeln!(out, "Wrote the summary to {}.", path.display())?;
            }
            if p.view.finished.is_none() {
                writeln!(
                    out,
                    "Mock recall {id} is still in progress: complete it (`lotline mock-recall finish {id} --note ACTIONS`) before it is signed."
                )?;
            }
            Ok(())
        }
        MockCmd::List { json } => list(st, out, *json),
    }
}

fn list(st: &dyn Station, out: &mut impl Write, json: bool) -> Res {
    let list = st.mock_recalls()?;
    if json {
        let v: Vec<Value> = list
            .iter()
            .map(|m| {
                json!({
                    "id": m.id,
                    "root": m.root.as_str(),
                    "item": m.item.as_str(),
                    "asked_as": m.asked_as,
                    "started": m.started.at.to_rfc3339(),
                    "by": m.started.operator,
                    "counts": m.counts,
                    "finished": m.finished.as_ref().map(|f| f.at.to_rfc3339()),
                    "totals": m.totals.iter().map(total_json).collect::<Vec<_>>(),
                })
            })
            .collect();
        return Ok(crate::cli::json::write(out, &v)?);
    }
    if list.is_empty() {
        writeln!(
            out,
            "No mock recalls yet: start one with `lotline mock-recall start LOT`."
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{:>6} {:<16} {:<12} {:<17} {:<10} RESULT",
        "ID", "FROM", "ITEM", "STARTED (UTC)", "BY"
    )?;
    for m in list {
        let result = match &m.finished {
            Some(_) => m
                .totals
                .iter()
                .map(UnitTotal::gap_text)
                .collect::<Vec<_>>()
                .join(", "),
            None => format!("in progress, {}", plural(m.counts, "count", "counts")),
        };
        writeln!(
            out,
            "{:>6} {:<16} {:<12} {:<17} {:<10} {}",
            m.id,
            if m.asked_as.is_empty() {
                m.root.to_string()
            } else {
                m.asked_as.clone()
            },
            m.item.as_str(),
            m.started.at.format("%Y-%m-%d %H:%M").to_string(),
            m.started.operator,
            result
        )?;
    }
    Ok(())
}

fn total_json(t: &UnitTotal) -> Value {
    json!({
        "unit": t.unit.as_str(),
        "produced": num(t.produced),
        "found": num(t.found),
        "gap": num(t.gap()),
        "found_percent": percent_text(t.percent_bp()),
    })
}

fn totals_text(out: &mut impl Write, r: &Reconciliation) -> Res {
    for t in r.totals() {
        writeln!(
            out,
            "overall ({}): produced {}, found {}, gap {} ({} found)",
            t.unit,
            t.produced,
            t.found,
            t.gap(),
            percent_text(t.percent_bp())
        )?;
    }
    Ok(())
}

fn show_text(out: &mut impl Write, p: &Packet) -> Res {
    let v = &p.view;
    let r = &v.result;
    writeln!(out, "Mock recall {}: {}", v.id, p.scenario())?;
    match &v.finished {
        Some(f) => writeln!(
            out,
            "Started {}; completed {}; time taken {}",
            v.started.text(),
            f.stamp.text(),
            p.time_taken()
        )?,
        None => writeln!(
            out,
            "Started {}; in progress ({} so far)",
            v.started.text(),
            p.time_taken()
        )?,
    }
    let (back, fwd) = p.trace_counts();
    writeln!(out, "\nBackward trace: {back}")?;
    for b in &p.backward {
        writeln!(
            out,
            "  {:<16} {} {} {}: {}",
            b.lot.as_str(),
            b.qty,
            b.unit,
            b.item,
            Packet::source_text(b)
        )?;
    }
    writeln!(out, "\nForward trace: {fwd}")?;
    for x in p.returns() {
        writeln!(out, "  {}", Packet::return_text(x))?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "  {:<16} {:<6} {:<9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "LOT",
        "UNIT",
        "STAGE",
        "PRODUCED",
        "SHIPPED",
        "ON HAND",
        "COUNTED",
        "AT CUST",
        "FOUND",
        "GAP",
        "FOUND %"
    )?;
    for l in &r.lots {
        writeln!(
            out,
            "  {:<16} {:<6} {:<9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            l.code.as_str(),
            l.unit.as_str(),
            match packet::stage(l) {
                "work in progress" => "wip",
                s => s,
            },
            l.produced.to_string(),
            l.shipped.to_string(),
            l.on_hand.to_string(),
            l.counted
                .map(|q| q.to_string())
                .unwrap_or_else(|| "-".into()),
            l.at_customers.to_string(),
            l.found().to_string(),
            l.gap().to_string(),
            percent_text(l.percent_bp())
        )?;
    }
    totals_text(out, r)?;
    writeln!(out)?;
    if r.customers.is_empty() {
        writeln!(out, "Customers: none received any of it.")?;
    } else {
        writeln!(out, "Customers")?;
        for c in &r.customers {
            let q = |x: Option<Qty>| x.map(|q| q.to_string()).unwrap_or_else(|| "-".into());
            writeln!(
                out,
                "  {} {} lot {}: shipped {} {u}, returned {}, retrieved {}, consumed {}, destroyed {}, gap {}",
                c.party,
                c.name,
                c.code,
                c.shipped,
                c.returned,
                q(c.retrieved),
                q(c.consumed),
                q(c.destroyed),
                c.gap(),
                u = c.unit
            )?;
        }
    }
    let findings = p.findings_text();
    writeln!(out, "\nGaps")?;
    if findings.is_empty() {
        writeln!(out, "  none: every line is accounted for")?;
    }
    for f in &findings {
        writeln!(out, "  {f}")?;
    }
    writeln!(out, "\nCorrective actions: {}", p.corrective_actions())?;
    if !v.counts.is_empty() {
        writeln!(out, "\nCounts, oldest first")?;
        for c in &v.counts {
            let what = lotline_domain::recall_event_text(
                &EventKind::MockRecallCount(MockCount {
                    recall: v.id,
                    root: v.root.id,
                    line: c.line.clone(),
                    note: c.note.clone(),
                }),
                &|id| {
                    r.lots
                        .iter()
                        .find(|l| l.lot == id)
                        .map(|l| (l.code.to_string(), Some(l.unit)))
                        .or_else(|| {
                            r.customers
                                .iter()
                                .find(|x| x.lot == id)
                                .map(|x| (x.code.to_string(), Some(x.unit)))
                        })
                        .unwrap_or_else(|| (format!("#{}", id.0), None))
                },
            )
            .unwrap_or_default();
            writeln!(
                out,
                "  {:>6} {} {}: {}{}",
                c.event,
                c.stamp.at.format("%Y-%m-%d %H:%M"),
                c.stamp.operator,
                what,
                c.superseded_by
                    .map(|e| format!(" (superseded by {e})"))
                    .unwrap_or_default()
            )?;
        }
    }
    Ok(())
}

fn mock_json(p: &Packet) -> Value {
    let v = &p.view;
    let r = &v.result;
    let elapsed = v.elapsed_secs(p.now);
    json!({
        "id": v.id,
        "root": v.root.code.as_str(),
        "item": v.root.item.as_str(),
        "asked_as": v.asked_as,
        "note": v.note,
        "scenario": p.scenario(),
        "started": v.started.at.to_rfc3339(),
        "started_by": v.started.operator,
        "finished": v.finished.as_ref().map(|f| f.stamp.at.to_rfc3339()),
        "finished_by": v.finished.as_ref().map(|f| f.stamp.operator.clone()),
        "elapsed_seconds": elapsed,
        "time_taken": p.time_taken(),
        "corrective_actions": v.finished.as_ref().map(|f| f.note.clone()),
        "uncounted": r.uncounted(),
        "backward": p.backward.iter().map(|b| {
            let mut o = json!({
                "lot": b.lot.as_str(),
                "item": b.item.as_str(),
                "quantity": num(b.qty),
                "unit": b.unit.as_str(),
                "date": b.date.to_string(),
                "event": b.event,
                "used_in": b.used_in.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            });
            let how = match &b.source {
                packet::Source::Received { supplier, supplier_name, supplier_lot, reference, by } => {
                    o["supplier"] = json!(supplier.as_str());
                    o["supplier_name"] = json!(supplier_name);
                    o["supplier_lot"] = json!(supplier_lot);
                    o["reference"] = json!(reference);
                    o["received_by"] = json!(by);
                    "received"
                }
                packet::Source::Made => "made",
                packet::Source::Returned { customer } => {
                    o["customer"] = json!(customer.as_str());
                    "returned"
                }
                packet::Source::Partner { source, identifier } => {
                    o["known_from"] = json!(source);
                    o["identifier"] = json!(identifier);
                    "partner"
                }
            };
            o["how"] = json!(how);
            o
        }).collect::<Vec<_>>(),
        "forward": p.forward.iter().map(|f| json!({
            "row": f.kind.as_str(),
            "lot": f.lot.as_str(),
            "item": f.item.as_str(),
            "date": f.date.to_string(),
            "quantity": num(f.qty),
            "unit": f.unit.as_str(),
            "from": f.from,
            "customer": f.customer.as_ref().map(|c| c.as_str()),
            "reference": f.reference,
            "event": f.event,
        })).collect::<Vec<_>>(),
        "lots": r.lots.iter().map(|l| json!({
            "lot": l.code.as_str(),
            "item": l.item.as_str(),
            "unit": l.unit.as_str(),
            "root": l.root,
            "stage": packet::stage(l),
            "produced": num(l.produced),
            "consumed": num(l.consumed),
            "shipped": num(l.shipped),
            "on_hand": num(l.on_hand),
            "counted": opt_num(l.counted),
            "at_customers": num(l.at_customers),
            "found": num(l.found()),
            "gap": num(l.gap()),
            "over_count": num(l.over()),
            "found_percent": percent_text(l.percent_bp()),
        })).collect::<Vec<_>>(),
        "customers": r.customers.iter().map(|c| json!({
            "customer": c.party.as_str(),
            "name": c.name,
            "contact_name": c.contact.name,
            "phone": lotline_export::recall::phone_of(&c.contact, &c.phone),
            "email": c.contact.email,
            "lot": c.code.as_str(),
            "unit": c.unit.as_str(),
            "shipped": num(c.shipped),
            "returned": num(c.returned),
            "retrieved": opt_num(c.retrieved),
            "consumed": opt_num(c.consumed),
            "destroyed": opt_num(c.destroyed),
            "gap": num(c.gap()),
            "over_count": num(c.over()),
        })).collect::<Vec<_>>(),
        "totals": r.totals().iter().map(total_json).collect::<Vec<_>>(),
        "findings": r.findings().iter().map(|f| json!({
            "kind": match f.kind { FindingKind::Gap => "gap", FindingKind::Over => "over_count" },
            "lot": f.lot.as_str(),
            "customer": f.customer.as_ref().map(|c| c.as_str()),
            "quantity": num(f.qty),
            "unit": f.unit.as_str(),
            "counted": f.counted,
            "text": f.text(),
        })).collect::<Vec<_>>(),
        "counts": v.counts.iter().map(|c| {
            let (lot, customer, on_hand, retrieved, consumed, destroyed) = match &c.line {
                CountLine::OnHand { lot, qty } => (*lot, None, Some(*qty), None, None, None),
                CountLine::Customer { party, lot, retrieved, consumed, destroyed } => {
                    (*lot, Some(party.as_str()), None, Some(*retrieved), Some(*consumed), Some(*destroyed))
                }
            };
            json!({
                "event": c.event,
                "at": c.stamp.at.to_rfc3339(),
                "by": c.stamp.operator,
                "lot": r.lots.iter().find(|l| l.lot == lot).map(|l| l.code.as_str()),
                "customer": customer,
                "on_hand": opt_num(on_hand),
                "retrieved": opt_num(retrieved),
                "consumed": opt_num(consumed),
                "destroyed": opt_num(destroyed),
                "note": c.note,
                "superseded_by": c.superseded_by,
            })
        }).collect::<Vec<_>>(),
    })
}
