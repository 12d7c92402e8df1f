//! Recall work from the shell: the recall scope (and the customer notification list),
//! holding everything on hand in it, customer returns, and mock recall records the way an
//! auditor runs them. Every figure comes from the station (`recall_report`,
//! `mock_recall`), the same the app shows.

use super::args::opt_past_date;
use super::{Failure, Res, lookup};
use clap::{Args, Subcommand};
use lotline_domain::RecallReport;
use lotline_domain::text::excerpt;
use lotline_domain::words::plural;
use lotline_domain::*;
use lotline_export::recall as paper;

mod mock;
use lotline_station::{Station, StationExt};
pub use mock::mock;
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(
    after_help = "Prints every finished lot the lot reached (produced, shipped, returned, on hand), every customer who received any of it (contact, quantities, dates, reference documents) and the stock on hand to hold. The lot may be ours or a supplier's lot code we received.\n\nExamples:\n  lotline scope SR-1121\n  lotline scope R26305-002 --notify-csv call-list.csv --notify-xlsx call-list.xlsx\n  lotline scope R26305-002 --json"
)]
pub struct ScopeArgs {
    /// Our lot code, a supplier's lot code we received, or a scan of either.
    pub lot: String,
    /// Print JSON for scripts (see README "JSON output").
    #[arg(long)]
    pub json: bool,
    /// Also write the scope as CSV to FILE (refused if it exists).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Also write the customer notification list as CSV to FILE (refused if it exists).
    #[arg(long, value_name = "FILE")]
    pub notify_csv: Option<PathBuf>,
    /// Also write the customer notification list as an XLSX workbook to FILE.
    #[arg(long, value_name = "FILE")]
    pub notify_xlsx: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HoldAllArgs {
    /// Our lot code or a supplier's lot code we received: everything on hand in its recall
    /// scope is held.
    pub lot: String,
    /// Why, for each lot's history.
    #[arg(long)]
    pub reason: String,
    /// Date of the holds: YYYY-MM-DD, today or yesterday (default today).
    #[arg(long)]
    pub date: Option<String>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "The goods come into a new lot of their own (the shipped lot's code plus -R1, -R2 …), on hold, linked to the shipped lot so traces and recalls find them. Prints the new lot's code.\n\nExample:\n  lotline return --shipment BOL:4471 --lot B26330-001 --qty 5 --reason \"dented cases\""
)]
pub struct ReturnArgs {
    /// The shipment it came back from: its event id (`lotline lot LOT` lists them) or its
    /// reference document, e.g. BOL:4471.
    #[arg(long)]
    pub shipment: String,
    /// The lot shipped, as on the label.
    #[arg(long)]
    pub lot: String,
    /// Quantity returned, in the lot's unit.
    #[arg(long, allow_hyphen_values = true)]
    pub qty: String,
    /// The unit counted in; must be the lot's (returns are not converted).
    #[arg(long)]
    pub unit: Option<String>,
    /// Why it came back.
    #[arg(long)]
    pub reason: Option<String>,
    /// The customer's return document TYPE:NUMBER, e.g. RMA:118.
    #[arg(long = "ref")]
    pub reference: Option<String>,
    /// Date received back: YYYY-MM-DD, today or yesterday (default today).
    #[arg(long)]
    pub date: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum MockCmd {
    /// Start a mock recall from a lot (ours, or a supplier's lot code we received);
    /// prints its id.
    Start {
        /// Our lot code, a supplier's lot code we received, or a scan of either.
        lot: String,
        /// A note for the record, e.g. "Q4 SQF mock recall".
        #[arg(long)]
        note: Option<String>,
    },
    /// Enter what was physically found for one line: on hand per lot, or what one customer
    /// retrieved, consumed or destroyed. A later count of the same line supersedes it.
    Count(CountArgs),
    /// The record: the scenario, the traces backward (receipts) and forward (returns),
    /// lots, customers, counts, the gaps in units and percent, the corrective actions.
    Show {
        /// The mock recall's id (`lotline mock-recall list`).
        id: u64,
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Complete the record: its reconciliation is kept as it stands, with the corrective
    /// actions (needed while any line has a gap or an over-count).
    Finish {
        /// The mock recall's id.
        id: u64,
        /// The corrective actions: what will be done about the gaps found, e.g. who was
        /// not reached and how the records get put right.
        #[arg(long, visible_alias = "actions")]
        note: Option<String>,
    },
    /// Write the workbook (Summary, Backward, Forward, Lots, Customers, Counts) and/or
    /// the one-page summary with signature lines (Markdown). Neither file may exist.
    Export {
        /// The mock recall's id.
        id: u64,
        /// The workbook (.xlsx): Summary, Backward, Forward, Lots, Customers, Counts.
        #[arg(long, value_name = "FILE")]
        xlsx: Option<PathBuf>,
        /// The one-page summary with signature lines (Markdown, prints as plain text).
        #[arg(long, value_name = "FILE")]
        summary: Option<PathBuf>,
    },
    /// Every mock recall, newest first.
    List {
        /// Print JSON for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  lotline mock-recall count 57 --lot B26330-001 --on-hand 18\n  lotline mock-recall count 57 --customer SHOP --retrieved 10 --consumed 2 --destroyed 1\n  lotline mock-recall count 57 --customer SHOP --lot B26330-001 --retrieved 12"
)]
pub struct CountArgs {
    /// The mock recall's id (`lotline mock-recall list`).
    pub id: u64,
    /// The lot counted, or the lot the customer's answer is about (needed when the
    /// customer received several).
    #[arg(long)]
    pub lot: Option<String>,
    /// Counted on hand here, in the lot's unit.
    #[arg(long, allow_hyphen_values = true, value_name = "QTY")]
    pub on_hand: Option<String>,
    /// The customer who answered.
    #[arg(long)]
    pub customer: Option<String>,
    /// What the customer sent back or set aside for collection.
    #[arg(long, allow_hyphen_values = true, value_name = "QTY")]
    pub retrieved: Option<String>,
    /// What the customer confirmed was used or sold on.
    #[arg(long, allow_hyphen_values = true, value_name = "QTY")]
    pub consumed: Option<String>,
    /// What the customer confirmed was destroyed.
    #[arg(long, allow_hyphen_values = true, value_name = "QTY")]
    pub destroyed: Option<String>,
    /// The unit counted in; must be the lot's (counts are not converted).
    #[arg(long)]
    pub unit: Option<String>,
    /// A note for this count, e.g. where it was found.
    #[arg(long)]
    pub note: Option<String>,
}

fn qty(text: &Option<String>, field: &str) -> Result<Option<Qty>, Invalid> {
    text.as_deref()
        .map(|t| {
            t.parse::<Qty>()
                .map_err(|e: QtyParseError| Invalid::new(field, format!("{}: {}", excerpt(t), e.0)))
        })
        .transpose()
}

fn unit(text: &Option<String>) -> Result<Option<Unit>, Invalid> {
    text.as_deref()
        .map(|u| u.parse().map_err(|e: String| Invalid::new("unit", e)))
        .transpose()
}

fn text(t: &Option<String>, field: &str, max: usize) -> Result<String, Invalid> {
    clean_text(t.as_deref().unwrap_or(""), field, max)
}

fn num(q: Qty) -> Value {
    let m = q.milli();
    if m % 1000 == 0 {
        json!(m / 1000)
    } else {
        json!(m as f64 / 1000.0)
    }
}

fn opt_num(q: Option<Qty>) -> Value {
    q.map(num).unwrap_or(Value::Null)
}

/// `lotline scope`.
pub fn scope(st: &dyn Station, out: &mut impl Write, a: &ScopeArgs) -> Res {
    let found = lookup::one_lot(st, &a.lot, "lot")?;
    let report = st.recall_report(found.lot().code.clone())?;
    // Files first, each refused if it exists, so a refusal prints nothing half done.
    for p in [&a.csv, &a.notify_csv, &a.notify_xlsx]
        .into_iter()
        .flatten()
    {
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
    if let Some(p) = &a.csv {
        paper::write_csv(p, "csv", &paper::scope_table(&report))?;
    }
    if let Some(p) = &a.notify_csv {
        paper::write_csv(p, "notify-csv", &paper::notify_table(&report))?;
    }
    if let Some(p) = &a.notify_xlsx {
        paper::write_xlsx(p, "notify-xlsx", &[paper::notify_table(&report)])?;
    }
    if a.json {
        return Ok(super::json::write(out, &scope_json(&report))?);
    }
    if let lookup::Found::Supplier { text, lot } = &found {
        writeln!(out, "Supplier lot {text} is our lot {}.", lot.code)?;
    }
    scope_text(out, st, &report)?;
    let missing = paper::without_contact(&report);
    if !missing.is_empty() {
        writeln!(
            out,
            "\nNo recall contact on file for {}: add one with `lotline party edit ID --contact-name … --contact-phone …`.",
            missing.join(", ")
        )?;
    }
    for (p, what) in [
        (&a.csv, "scope"),
        (&a.notify_csv, "notification list"),
        (&a.notify_xlsx, "notification list"),
    ] {
        if let Some(p) = p {
            writeln!(out, "Wrote the {what} to {}.", p.display())?;
        }
    }
    Ok(())
}

fn scope_text(out: &mut impl Write, st: &dyn Station, r: &RecallReport) -> Res {
    let t = &r.scope.trace;
    let root = t
        .lot(t.root)
        .ok_or_else(|| Failure::data("the scope has no root lot"))?;
    let name = |c: &ItemCode| r.names.get(c).cloned().unwrap_or_default();
    writeln!(
        out,
        "Recall scope of {} ({} {}), forward",
        root.code,
        root.item,
        name(&root.item)
    )?;
    let customers: std::collections::BTreeSet<&PartyId> =
        r.base.customers.iter().map(|c| &c.party).collect();
    writeln!(
        out,
        "{}, {} finished; {} to {}; {} with stock ({} to hold, {} already held)",
        plural(t.lots.len(), "lot reached", "lots reached"),
        r.scope.finished.len(),
        plural(t.shipments.len(), "shipment", "shipments"),
        plural(customers.len(), "customer", "customers"),
        plural(
            r.scope.to_hold.len() + r.scope.already_held.len(),
            "lot",
            "lots"
        ),
        r.scope.to_hold.len(),
        r.scope.already_held.len()
    )?;
    writeln!(out)?;
    writeln!(out, "Lots")?;
    writeln!(
        out,
        "  {:<16} {:<12} {:>10} {:>10} {:>10} {:>10}  {:<6} STATUS",
        "LOT", "ITEM", "PRODUCED", "SHIPPED", "RETURNED", "ON HAND", "UNIT"
    )?;
    for l in &r.base.lots {
        let returned: Qty = r
            .base
            .customers
            .iter()
            .filter(|c| c.lot == l.lot)
            .map(|c| c.returned)
            .sum();
        let status = t.lot(l.lot).map(|x| x.status.as_str()).unwrap_or("");
        writeln!(
            out,
            "  {:<16} {:<12} {:>10} {:>10} {:>10} {:>10}  {:<6} {}{}",
            l.code.as_str(),
            l.item.as_str(),
            l.produced.to_string(),
            l.shipped.to_string(),
            returned.to_string(),
            l.on_hand.to_string(),
            l.unit.as_str(),
            status,
            // Not "(root)", which beside a status reads as who set it.
            if l.root {
                "; the lot the recall starts from"
            } else {
                ""
            }
        )?;
    }
    writeln!(out)?;
    if r.base.customers.is_empty() {
        writeln!(out, "Customers: none; nothing in the scope was shipped.")?;
    } else {
        writeln!(out, "Customers")?;
        let mut last: Option<&PartyId> = None;
        for c in &r.base.customers {
            if last != Some(&c.party) {
                let contact = match st.party(c.party.clone()) {
                    Ok(p) => paper::contact_text(&p),
                    Err(_) => String::new(),
                };
                writeln!(
                    out,
                    "  {} {} — {}",
                    c.party,
                    c.name,
                    if contact.is_empty() {
                        "NO RECALL CONTACT ON FILE".to_string()
                    } else {
                        contact
                    }
                )?;
                last = Some(&c.party);
            }
            for s in &c.shipments {
                writeln!(
                    out,
                    "    {} {:<16} {} {} {}{} (shipment {})",
                    s.date,
                    c.code.as_str(),
                    c.item,
                    s.qty,
                    c.unit,
                    s.reference
                        .as_ref()
                        .map(|x| format!(" {x}"))
                        .unwrap_or_default(),
                    s.event
                )?;
            }
            if c.returned.is_positive() {
                writeln!(
                    out,
                    "    returned {} {} of lot {}",
                    c.returned, c.unit, c.code
                )?;
            }
        }
    }
    writeln!(out)?;
    let stock: Vec<(&Lot, &str)> = r
        .scope
        .to_hold
        .iter()
        .map(|id| (id, "to hold"))
        .chain(r.scope.already_held.iter().map(|id| (id, "held")))
        .filter_map(|(id, w)| t.lot(*id).map(|l| (l, w)))
        .collect();
    if stock.is_empty() {
        writeln!(out, "Stock on hand: none.")?;
    } else {
        writeln!(out, "Stock on hand")?;
        for (l, what) in stock {
            writeln!(
                out,
                "  {:<16} {:<12} {:>10} {:<6} {:<9} {}",
                l.code.as_str(),
                l.item.as_str(),
                l.balance.to_string(),
                l.unit.as_str(),
                l.status.as_str(),
                what
            )?;
        }
        if !r.scope.to_hold.is_empty() {
            writeln!(
                out,
                "Hold it all in one go: lotline hold-all {} --reason \"...\"",
                root.code
            )?;
        }
    }
    Ok(())
}

fn scope_json(r: &RecallReport) -> Value {
    let t = &r.scope.trace;
    let lot_json = |l: &lotline_domain::LotRecon| {
        json!({
            "lot": l.code.as_str(),
            "item": l.item.as_str(),
            "description": r.names.get(&l.item).cloned().unwrap_or_default(),
            "unit": l.unit.as_str(),
            "root": l.root,
            "finished": l.finished,
            "produced": num(l.produced),
            "consumed": num(l.consumed),
            "shipped": num(l.shipped),
            "returned": num(r.base.customers.iter().filter(|c| c.lot == l.lot).map(|c| c.returned).sum()),
            "on_hand": num(l.on_hand),
            "status": t.lot(l.lot).map(|x| x.status.as_str()),
        })
    };
    let stock = |ids: &[LotId]| -> Vec<Value> {
        ids.iter()
            .filter_map(|id| t.lot(*id))
            .map(|l| {
                json!({
                    "lot": l.code.as_str(),
                    "item": l.item.as_str(),
                    "on_hand": num(l.balance),
                    "unit": l.unit.as_str(),
                    "status": l.status.as_str(),
                })
            })
            .collect()
    };
    json!({
        "root": t.lot(t.root).map(|l| l.code.as_str()),
        "lots_reached": t.lots.len(),
        "lots": r.base.lots.iter().map(lot_json).collect::<Vec<_>>(),
        "customers": r.base.customers.iter().map(|c| json!({
            "customer": c.party.as_str(),
            "name": c.name,
            "contact_name": c.contact.name,
            "phone": paper::phone_of(&c.contact, &c.phone),
            "email": c.contact.email,
            "lot": c.code.as_str(),
            "item": c.item.as_str(),
            "unit": c.unit.as_str(),
            "shipped": num(c.shipped),
            "returned": num(c.returned),
            "shipments": c.shipments.iter().map(|s| json!({
                "event": s.event,
                "date": s.date.to_string(),
                "reference": s.reference.as_ref().map(|x| x.to_string()),
                "qty": num(s.qty),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "to_hold": stock(&r.scope.to_hold),
        "already_held": stock(&r.scope.already_held),
    })
}

/// `lotline hold-all`: everything released with stock in the scope, one transaction.
pub fn hold_all(st: &dyn Station, out: &mut impl Write, a: &HoldAllArgs) -> Res {
    let today = st.today()?;
    let date = opt_past_date(a.date.as_deref(), today)?;
    let reason = required_text(&a.reason, "reason", 200)?;
    let found = lookup::one_lot(st, &a.lot, "lot")?;
    let scope = st.recall_scope(found.lot().code.clone())?;
    let lots: Vec<LotCode> = scope
        .to_hold
        .iter()
        .filter_map(|id| scope.trace.lot(*id).map(|l| l.code.clone()))
        .collect();
    if lots.is_empty() {
        writeln!(
            out,
            "Nothing to hold: no released lot in the scope of {} has stock ({} already held).",
            found.lot().code,
            scope.already_held.len()
        )?;
        return Ok(());
    }
    let asked = lots.clone();
    let events = st.hold_all(HoldAll { lots, date, reason })?;
    let skipped = asked.len() - events.len();
    writeln!(
        out,
        "Held {} in one transaction: {}{}",
        plural(events.len(), "lot", "lots"),
        asked
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        if scope.already_held.len() + skipped > 0 {
            format!("; {} already held", scope.already_held.len() + skipped)
        } else {
            String::new()
        }
    )?;
    Ok(())
}

/// `lotline return`.
pub fn return_goods(st: &dyn Station, out: &mut impl Write, a: &ReturnArgs) -> Res {
    let today = st.today()?;
    let q = qty(&Some(a.qty.clone()), "qty")?.unwrap_or(Qty::ZERO);
    let created = st.return_goods(NewReturn {
        shipment: a.shipment.clone(),
        lot: LotCode::parse(&a.lot, "lot")?,
        qty: q,
        unit: unit(&a.unit)?,
        date: opt_past_date(a.date.as_deref(), today)?,
        reason: text(&a.reason, "reason", 200)?,
        reference: a
            .reference
            .as_deref()
            .map(|r| Reference::parse(r, "ref"))
            .transpose()?,
    })?;
    writeln!(out, "{}", created.code)?;
    if let Some(why) = &created.hold {
        eprintln!(
            "lotline: lot {} is ON HOLD: {}; QA releases it (`lotline release {} --reason ...`) or writes it off",
            created.code,
            lotline_domain::text::escape_lines(why),
            created.code
        );
    }
    Ok(())
}
