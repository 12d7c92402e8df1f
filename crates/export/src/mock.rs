//! A mock recall's packet, what an auditor reads (SQF, BRCGS): the scenario, the backward
//! trace of the lot it started from with its receiving records, the forward trace with
//! shipments and returns, the reconciliation (each total in one unit), the time taken in
//! hours and minutes, the gaps and over-counts, and the corrective actions entered on
//! completion. Gathered once from the station (`gather`), then written as the workbook
//! (`tables`), the one-page summary (`summary`) or shown by the command line and the app,
//! so every output holds the same record.

use super::recall::{Table, phone_of};
use super::sheet::Cell;
use chrono::{DateTime, NaiveDate, Utc};
use lotline_domain::{
    CountLine, CustomerRecon, Direction, FindingKind, ItemCode, LotCode, LotRecon, MockRecallView,
    Origin, PartyId, Qty, Unit, elapsed_text, percent_text, words::plural,
};
use lotline_station::{Station, StationError, StationExt};
use std::collections::HashMap;

/// How a lot of the backward trace came to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The receiving record: from whom, their lot code (the TLC), the document, who
    /// received it.
    Received {
        supplier: PartyId,
        supplier_name: String,
        supplier_lot: String,
        reference: Option<String>,
        by: String,
    },
    Made,
    Returned {
        customer: PartyId,
    },
    /// Known only from a partner's document (docs/epcis.md): the document, and the
    /// identifier it named the lot by.
    Partner {
        source: String,
        identifier: String,
    },
}

/// One lot of the backward trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackLot {
    pub lot: LotCode,
    pub item: ItemCode,
    pub name: String,
    pub qty: Qty,
    pub unit: Unit,
    pub date: NaiveDate,
    pub event: u64,
    pub source: Source,
    /// The lots of this trace made from it.
    pub used_in: Vec<LotCode>,
}

/// What a row of the forward trace is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FwdKind {
    Lot,
    Shipment,
    Return,
}

impl FwdKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FwdKind::Lot => "lot",
            FwdKind::Shipment => "shipment",
            FwdKind::Return => "return",
        }
    }
}

/// One row of the forward trace: a lot reached (made from `from`), a shipment of it to a
/// customer, or a return of it from one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FwdRow {
    pub kind: FwdKind,
    pub lot: LotCode,
    pub item: ItemCode,
    pub date: NaiveDate,
    pub qty: Qty,
    pub unit: Unit,
    /// A lot's inputs in the trace; a return's lot shipped.
    pub from: String,
    pub customer: Option<PartyId>,
    pub reference: Option<String>,
    pub event: u64,
}

/// Everything the auditor's packet holds.
#[derive(Debug, Clone)]
pub struct Packet {
    pub view: MockRecallView,
    pub plant: String,
    pub backward: Vec<BackLot>,
    pub forward: Vec<FwdRow>,
    /// When it was read: the time of a record still open runs to here.
    pub now: DateTime<Utc>,
}

/// Read mock recall `id` and the traces of its root from the station.
pub fn gather(st: &dyn Station, id: u64, now: DateTime<Utc>) -> Result<Packet, StationError> {
    let view = st.mock_recall(id)?;
    let plant = st.plant()?.location.business_name;
    let names: HashMap<ItemCode, String> = st
        .items()?
        .into_iter()
        .map(|i| (i.code, i.description.name))
        .collect();
    let parties: HashMap<PartyId, String> = st
        .parties()?
        .into_iter()
        .map(|p| (p.id, p.location.business_name))
        .collect();
    let back = st.trace(view.root.code.clone(), Direction::Backward)?;
    let code_of: HashMap<_, _> = back.lots.iter().map(|l| (l.id, l.code.clone())).collect();
    let mut backward = Vec::new();
    for l in &back.lots {
        let source = match &l.origin {
            Origin::Received {
                supplier,
                supplier_lot,
            } => {
                let ev = st.event(l.event)?;
                Source::Received {
                    supplier: supplier.clone(),
                    supplier_name: parties.get(supplier).cloned().unwrap_or_default(),
                    supplier_lot: supplier_lot.to_string(),
                    reference: ev.reference.map(|r| r.to_string()),
                    by: ev.stamp.text(),
                }
            }
            Origin::Produced { .. } => Source::Made,
            Origin::Returned { customer, .. } => Source::Returned {
                customer: customer.clone(),
            },
            Origin::Partner { identifier, source } => Source::Partner {
                source: source.clone(),
                identifier: identifier.clone(),
            },
        };
        backward.push(BackLot {
            lot: l.code.clone(),
            item: l.item.clone(),
            name: names.get(&l.item).cloned().unwrap_or_default(),
            qty: l.quantity,
            unit: l.unit,
            date: l.date,
            event: l.event,
            source,
            used_in: back
                .links
                .iter()
                .filter(|k| k.input == l.id)
                .filter_map(|k| code_of.get(&k.output).cloned())
                .collect(),
        });
    }
    let fwd = st.trace(view.root.code.clone(), Direction::Forward)?;
    let code_of: HashMap<_, _> = fwd.lots.iter().map(|l| (l.id, l.code.clone())).collect();
    let mut forward = Vec::new();
    for l in &fwd.lots {
        let inputs: Vec<String> = fwd
            .links
            .iter()
            .filter(|k| k.output == l.id)
            .filter_map(|k| code_of.get(&k.input).map(|c| c.to_string()))
            .collect();
        let (kind, from, customer, reference) = match &l.origin {
            Origin::Returned { customer, from, .. } => (
                FwdKind::Return,
                code_of.get(from).map(|c| c.to_string()).unwrap_or_default(),
                Some(customer.clone()),
                st.event(l.event)?.reference.map(|r| r.to_string()),
            ),
            _ => (FwdKind::Lot, inputs.join(" "), None, None),
        };
        forward.push(FwdRow {
            kind,
            lot: l.code.clone(),
            item: l.item.clone(),
            date: l.date,
            qty: l.quantity,
            unit: l.unit,
            from,
            customer,
            reference,
            event: l.event,
        });
        let mut ships: Vec<_> = fwd.shipments.iter().filter(|s| s.lot == l.id).collect();
        ships.sort_by_key(|s| (s.date, s.event));
        for s in ships {
            forward.push(FwdRow {
                kind: FwdKind::Shipment,
                lot: l.code.clone(),
                item: l.item.clone(),
                date: s.date,
                qty: s.qty,
                unit: s.unit,
                from: String::new(),
                customer: Some(s.customer.clone()),
                reference: s.reference.as_ref().map(|r| r.to_string()),
                event: s.event,
            });
        }
    }
    Ok(Packet {
        view,
        plant,
        backward,
        forward,
        now,
    })
}

impl Packet {
    /// "0 h 26 min", to completion or (open) to now.
    pub fn time_taken(&self) -> String {
        elapsed_text(self.view.elapsed_secs(self.now))
    }

    /// The corrective actions entered on completion, or what stands in for them.
    pub fn corrective_actions(&self) -> String {
        match &self.view.finished {
            Some(f) if !f.note.trim().is_empty() => f.note.clone(),
            Some(_) => "none entered on completion".into(),
            None => "not yet: entered when the mock recall is completed".into(),
        }
    }

    /// "R26301-003 EGGS Shell eggs, large (supplier lot SU-1) — Q4 drill".
    pub fn scenario(&self) -> String {
        let v = &self.view;
        let name = v.names.get(&v.root.item).cloned().unwrap_or_default();
        let mut s = format!("lot {} {} {}", v.root.code, v.root.item, name);
        if !v.asked_as.is_empty() {
            s.push_str(&format!(", named by supplier lot {}", v.asked_as));
        }
        s.push_str(", traced forward to every customer");
        if !v.note.is_empty() {
            s.push_str(&format!(" — {}", v.note));
        }
        s
    }

    /// The receiving records of the backward trace.
    pub fn receipts(&self) -> impl Iterator<Item = &BackLot> {
        self.backward
            .iter()
            .filter(|b| matches!(b.source, Source::Received { .. }))
    }

    pub fn returns(&self) -> impl Iterator<Item = &FwdRow> {
        self.forward.iter().filter(|r| r.kind == FwdKind::Return)
    }

    /// "12 lots, 3 receipts"; "7 lots, 55 shipments to 17 customers, 1 return".
    pub fn trace_counts(&self) -> (String, String) {
        let back = format!(
            "{}, {}",
            plural(self.backward.len(), "lot", "lots"),
            plural(
                self.receipts().count(),
                "receiving record",
                "receiving records"
            )
        );
        let ships: Vec<&FwdRow> = self
            .forward
            .iter()
            .filter(|r| r.kind == FwdKind::Shipment)
            .collect();
        let mut customers: Vec<&PartyId> =
            ships.iter().filter_map(|r| r.customer.as_ref()).collect();
        customers.sort();
        customers.dedup();
        let fwd = format!(
            "{}, {} to {}, {}",
            plural(
                self.forward
                    .iter()
                    .filter(|r| r.kind == FwdKind::Lot)
                    .count(),
                "lot",
                "lots"
            ),
            plural(ships.len(), "shipment", "shipments"),
            plural(customers.len(), "customer", "customers"),
            plural(self.returns().count(), "return", "returns")
        );
        (back, fwd)
    }

    /// "received 2026-10-28 from SUNNY Sunny Ridge Farms, their lot SU-1, BOL:1, recorded
    /// 2026-10-28 07:10 UTC by ana@dock-1".
    pub fn source_text(b: &BackLot) -> String {
        match &b.source {
            Source::Received {
                supplier,
                supplier_name,
                supplier_lot,
                reference,
                by,
            } => format!(
                "received {} from {supplier} {supplier_name}, their lot {supplier_lot}, {}, recorded {by}",
                b.date,
                reference.as_deref().unwrap_or("no reference document")
            ),
            Source::Made => format!("made {}", b.date),
            Source::Returned { customer } => format!("returned {} by {customer}", b.date),
            Source::Partner { source, identifier } => {
                format!("known only from {source}, as {identifier}")
            }
        }
    }

    /// "return B1-R1 2026-11-20: 3 case of lot B1 from SHOP, RMA:118".
    pub fn return_text(x: &FwdRow) -> String {
        format!(
            "return {} {}: {} {} of lot {} from {}, {}",
            x.lot,
            x.date,
            x.qty,
            x.unit,
            x.from,
            x.customer
                .as_ref()
                .map(|c| c.to_string())
                .unwrap_or_default(),
            x.reference.as_deref().unwrap_or("no reference document")
        )
    }

    /// The totals, one line per unit: "case: produced 315, found 312, gap 3 (99.05 % found)".
    pub fn totals_text(&self) -> Vec<String> {
        self.view
            .result
            .totals()
            .iter()
            .map(|t| {
                format!(
                    "{}: produced {}, found {}, gap {} ({} found)",
                    t.unit,
                    t.produced,
                    t.found,
                    t.gap(),
                    percent_text(t.percent_bp())
                )
            })
            .collect()
    }

    /// The findings as lines an auditor reads: gaps, then over-counts; "none" when every
    /// line is accounted for.
    pub fn findings_text(&self) -> Vec<String> {
        let mut f = self.view.result.findings();
        f.sort_by_key(|x| x.kind == FindingKind::Over);
        f.iter().map(|x| x.text()).collect()
    }
}

fn t(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn opt_q(q: Option<Qty>) -> Cell {
    q.map(Cell::Qty).unwrap_or_default()
}

/// What a count line says, for the Counts sheet.
fn count_cells(view: &MockRecallView, line: &CountLine) -> [Cell; 6] {
    let code = |id| {
        view.result
            .lots
            .iter()
            .find(|l| l.lot == id)
            .map(|l| l.code.to_string())
            .or_else(|| {
                view.result
                    .customers
                    .iter()
                    .find(|c| c.lot == id)
                    .map(|c| c.code.to_string())
            })
            .unwrap_or_else(|| format!("#{}", id.0))
    };
    match line {
        CountLine::OnHand { lot, qty } => {
            [t(code(*lot)), t(""), Cell::Qty(*qty), t(""), t(""), t("")]
        }
        CountLine::Customer {
            party,
            lot,
            retrieved,
            consumed,
            destroyed,
        } => [
            t(code(*lot)),
            t(party.to_string()),
            t(""),
            Cell::Qty(*retrieved),
            Cell::Qty(*consumed),
            Cell::Qty(*destroyed),
        ],
    }
}

/// The workbook's sheets: Summary, Backward, Forward, Lots, Customers, Counts.
pub fn tables(p: &Packet) -> Vec<Table> {
    let view = &p.view;
    let r = &view.result;
    let name = |c: &ItemCode| view.names.get(c).cloned().unwrap_or_default();
    let (back, fwd) = p.trace_counts();
    let mut summary = vec![
        vec![t("Plant"), t(p.plant.clone())],
        vec![t("Mock recall"), Cell::Id(view.id)],
        vec![t("Scenario"), t(p.scenario())],
        vec![t("Started"), t(view.started.text())],
        vec![
            t("Completed"),
            t(match &view.finished {
                Some(f) => f.stamp.text(),
                None => "not yet: in progress".into(),
            }),
        ],
        vec![t("Time from start to completion"), t(p.time_taken())],
        vec![t("Backward trace"), t(back)],
        vec![t("Forward trace"), t(fwd)],
        vec![t("Lines not counted"), Cell::Id(r.uncounted() as u64)],
    ];
    for (tot, text) in r.totals().iter().zip(p.totals_text()) {
        summary.push(vec![t(format!("Overall ({})", tot.unit)), t(text)]);
    }
    let findings = p.findings_text();
    if findings.is_empty() {
        summary.push(vec![t("Gaps"), t("none: every line accounted for")]);
    }
    for (i, f) in findings.into_iter().enumerate() {
        summary.push(vec![t(if i == 0 { "Gaps" } else { "" }), t(f)]);
    }
    summary.push(vec![t("Corrective actions"), t(p.corrective_actions())]);
    let backward = p
        .backward
        .iter()
        .map(|b| {
            let (how, supplier, supplier_name, supplier_lot, reference, by) = match &b.source {
                Source::Received {
                    supplier,
                    supplier_name,
                    supplier_lot,
                    reference,
                    by,
                } => (
                    "received",
                    supplier.to_string(),
                    supplier_name.clone(),
                    supplier_lot.clone(),
                    reference.clone().unwrap_or_default(),
                    by.clone(),
                ),
                Source::Made => (
                    "made",
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ),
                Source::Returned { customer } => (
                    "returned",
                    customer.to_string(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ),
                // The document and its identifier stand where a receipt's reference would.
                Source::Partner { source, identifier } => (
                    "known only from a partner's document",
                    String::new(),
                    String::new(),
                    String::new(),
                    format!("{source}: {identifier}"),
                    String::new(),
                ),
            };
            vec![
                t(b.lot.to_string()),
                t(b.item.to_string()),
                t(b.name.clone()),
                t(how),
                t(b.date.to_string()),
                Cell::Qty(b.qty),
                t(b.unit.to_string()),
                t(supplier),
                t(supplier_name),
                t(supplier_lot),
                t(reference),
                t(by),
                t(b.used_in
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")),
                Cell::Id(b.event),
            ]
        })
        .collect();
    let forward = p
        .forward
        .iter()
        .map(|f| {
            vec![
                t(f.kind.as_str()),
                t(f.lot.to_string()),
                t(f.item.to_string()),
                t(name(&f.item)),
                t(f.date.to_string()),
                Cell::Qty(f.qty),
                t(f.unit.to_string()),
                t(f.from.clone()),
                t(f.customer
                    .as_ref()
                    .map(|c| c.to_string())
                    .unwrap_or_default()),
                t(f.reference.clone().unwrap_or_default()),
                Cell::Id(f.event),
            ]
        })
        .collect();
    let lots = r
        .lots
        .iter()
        .map(|l| {
            vec![
                t(l.code.to_string()),
                t(l.item.to_string()),
                t(name(&l.item)),
                t(stage(l)),
                t(l.unit.to_string()),
                Cell::Qty(l.produced),
                Cell::Qty(l.consumed),
                Cell::Qty(l.shipped),
                Cell::Qty(l.on_hand),
                opt_q(l.counted),
                Cell::Qty(l.at_customers),
                Cell::Qty(l.found()),
                Cell::Qty(l.gap()),
                Cell::Qty(l.over()),
                t(percent_text(l.percent_bp())),
            ]
        })
        .collect();
    let customers = r
        .customers
        .iter()
        .map(|c| {
            vec![
                t(c.party.to_string()),
                t(c.name.clone()),
                t(c.contact.name.clone()),
                t(phone_of(&c.contact, &c.phone)),
                t(c.contact.email.clone()),
                t(c.code.to_string()),
                t(c.item.to_string()),
                t(c.unit.to_string()),
                Cell::Qty(c.shipped),
                t(c.shipments
                    .iter()
                    .map(|s| s.date.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")),
                t(c.shipments
                    .iter()
                    .filter_map(|s| s.reference.as_ref().map(|x| x.to_string()))
                    .collect::<Vec<_>>()
                    .join(" ")),
                Cell::Qty(c.returned),
                opt_q(c.retrieved),
                opt_q(c.consumed),
                opt_q(c.destroyed),
                Cell::Qty(c.gap()),
                Cell::Qty(c.over()),
            ]
        })
        .collect();
    let counts = view
        .counts
        .iter()
        .map(|c| {
            let mut row = vec![
                Cell::Id(c.event),
                t(c.stamp.at.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
                t(c.stamp.operator.clone()),
                t(c.stamp.station.clone()),
            ];
            row.extend(count_cells(view, &c.line));
            row.push(t(c.note.clone()));
            row.push(match c.superseded_by {
                Some(e) => t(format!("superseded by {e}")),
                None => t("current"),
            });
            row
        })
        .collect();
    vec![
        Table {
            name: "Summary",
            header: vec!["", ""],
            rows: summary,
        },
        Table {
            name: "Backward",
            header: vec![
                "lot",
                "item",
                "description",
                "how",
                "date",
                "quantity",
                "unit",
                "supplier",
                "supplier_name",
                "supplier_lot",
                "reference",
                "received_by",
                "used_in",
                "event",
            ],
            rows: backward,
        },
        Table {
            name: "Forward",
            header: vec![
                "row",
                "lot",
                "item",
                "description",
                "date",
                "quantity",
                "unit",
                "from",
                "customer",
                "reference",
                "event",
            ],
            rows: forward,
        },
        Table {
            name: "Lots",
            header: vec![
                "lot",
                "item",
                "description",
                "stage",
                "unit",
                "produced",
                "consumed",
                "shipped",
                "on_hand_system",
                "counted_on_hand",
                "at_customers",
                "found",
                "gap",
                "over_count",
                "found_percent",
            ],
            rows: lots,
        },
        Table {
            name: "Customers",
            header: vec![
                "customer",
                "customer_name",
                "contact_name",
                "phone",
                "email",
                "lot",
                "product",
                "unit",
                "shipped",
                "ship_dates",
                "references",
                "returned",
                "retrieved",
                "consumed",
                "destroyed",
                "gap",
                "over_count",
            ],
            rows: customers,
        },
        Table {
            name: "Counts",
            header: vec![
                "event",
                "entered_utc",
                "by",
                "station",
                "lot",
                "customer",
                "on_hand",
                "retrieved",
                "consumed",
                "destroyed",
                "note",
                "standing",
            ],
            rows: counts,
        },
    ]
}

/// Where a reconciled lot stands in the chain: the recall's root, finished goods, or
/// work in progress (an intermediate).
pub fn stage(l: &LotRecon) -> &'static str {
    if l.root {
        "root"
    } else if l.finished {
        "finished"
    } else {
        "work in progress"
    }
}

/// A Markdown table cell: one line, pipes escaped.
fn md(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Rows of each table on the printed page; the workbook has them all.
const PAGE_ROWS: usize = 12;

/// The one-page summary (Markdown, readable as plain text) with signature lines.
pub fn summary(p: &Packet) -> String {
    let view = &p.view;
    let r = &view.result;
    let mut o = String::new();
    let mut line = |s: String| {
        o.push_str(s.trim_end());
        o.push('\n');
    };
    let more = |n: usize, one: &str, many: &str, cols: usize| {
        format!(
            "| … and {} (see the workbook) |{}",
            plural(n - PAGE_ROWS, one, many),
            " |".repeat(cols - 1)
        )
    };
    line(format!("# Mock recall {} — {}", view.id, md(&p.plant)));
    line(String::new());
    line(format!("- Scenario: {}", md(&p.scenario())));
    line(format!("- Started: {}", md(&view.started.text())));
    line(match &view.finished {
        Some(f) => format!("- Completed: {}", md(&f.stamp.text())),
        None => "- Completed: NOT YET — in progress".into(),
    });
    line(format!(
        "- Time from start to completion: {}",
        p.time_taken()
    ));
    line(format!(
        "- Lots reconciled: {}; customer lines: {}; counts entered: {}; lines not counted: {}",
        r.lots.len(),
        r.customers.len(),
        view.counts.len(),
        r.uncounted()
    ));
    let (back, fwd) = p.trace_counts();
    line(String::new());
    line(format!("## Backward trace: {back}"));
    line(String::new());
    line("| Lot | Item | Quantity | Source |".into());
    line("|---|---|--:|---|".into());
    for b in p.backward.iter().take(PAGE_ROWS) {
        line(format!(
            "| {} | {} {} | {} {} | {} |",
            b.lot,
            b.item,
            md(&b.name),
            b.qty,
            b.unit,
            md(&Packet::source_text(b))
        ));
    }
    if p.backward.len() > PAGE_ROWS {
        line(more(p.backward.len(), "more lot", "more lots", 4));
    }
    line(String::new());
    line(format!("## Forward trace: {fwd}"));
    line(String::new());
    let returns: Vec<&FwdRow> = p.returns().collect();
    if returns.is_empty() {
        line("No returns.".into());
    }
    for x in returns {
        line(format!("- {}", md(&Packet::return_text(x))));
    }
    line(String::new());
    line("## Reconciliation".into());
    line(String::new());
    line("| Lot | Stage | Produced | Shipped | Counted on hand | At customers | Found | Gap | Found % |".into());
    line("|---|---|--:|--:|--:|--:|--:|--:|--:|".into());
    let lot_row = |l: &LotRecon| {
        format!(
            "| {} {} | {} | {} {u} | {} | {} | {} | {} | {} | {} |",
            l.code,
            l.item,
            stage(l),
            l.produced,
            l.shipped,
            l.counted
                .map(|q| q.to_string())
                .unwrap_or_else(|| "not counted".into()),
            l.at_customers,
            l.found(),
            l.gap(),
            percent_text(l.percent_bp()),
            u = l.unit
        )
    };
    for l in r.lots.iter().take(PAGE_ROWS) {
        line(lot_row(l));
    }
    if r.lots.len() > PAGE_ROWS {
        line(more(r.lots.len(), "more lot", "more lots", 9));
    }
    for tot in r.totals() {
        line(format!(
            "| **Overall** | | **{} {u}** | | | | **{}** | **{}** | **{}** |",
            tot.produced,
            tot.found,
            tot.gap(),
            percent_text(tot.percent_bp()),
            u = tot.unit
        ));
    }
    line(String::new());
    line("## Customers".into());
    line(String::new());
    line("| Customer | Contact | Lot | Shipped | Returned | Retrieved | Consumed | Destroyed | Gap |".into());
    line("|---|---|---|--:|--:|--:|--:|--:|--:|".into());
    let cust_row = |c: &CustomerRecon| {
        let q = |x: Option<Qty>| x.map(|q| q.to_string()).unwrap_or_else(|| "-".into());
        let contact = [c.contact.name.clone(), phone_of(&c.contact, &c.phone)]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "| {} {} | {} | {} | {} {} | {} | {} | {} | {} | {} |",
            c.party,
            md(&c.name),
            md(&contact),
            c.code,
            c.shipped,
            c.unit,
            c.returned,
            q(c.retrieved),
            q(c.consumed),
            q(c.destroyed),
            c.gap()
        )
    };
    for c in r.customers.iter().take(PAGE_ROWS) {
        line(cust_row(c));
    }
    if r.customers.len() > PAGE_ROWS {
        line(more(r.customers.len(), "more line", "more lines", 9));
    }
    line(String::new());
    line("## Gaps".into());
    line(String::new());
    let findings = p.view.result.findings();
    if findings.is_empty() {
        line("None: every line is accounted for.".into());
    }
    // Every over-count is on the page (each is a records discrepancy to explain); the
    // gaps up to a page's worth, the rest in the workbook.
    let (over, gaps): (Vec<_>, Vec<_>) = findings.iter().partition(|f| f.kind == FindingKind::Over);
    for f in gaps.iter().take(PAGE_ROWS) {
        line(format!("- {}", md(&f.text())));
    }
    if gaps.len() > PAGE_ROWS {
        line(format!(
            "- … and {} (see the workbook's Summary)",
            plural(gaps.len() - PAGE_ROWS, "more gap", "more gaps")
        ));
    }
    for f in over {
        line(format!("- {}", md(&f.text())));
    }
    line(String::new());
    line("## Corrective actions".into());
    line(String::new());
    line(md(&p.corrective_actions()));
    line(String::new());
    line("## Sign-off".into());
    line(String::new());
    line("QA manager: ______________________________   Signature: ______________   Date: ____________".into());
    line(String::new());
    line("Auditor:    ______________________________   Signature: ______________   Date: ____________".into());
    // Notes and names from the records (an older lotline may have stored control
    // characters in them) never reach the page raw; the page's own line breaks stay.
    lotline_domain::text::escape_lines(&o).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_stay_in_their_column() {
        assert_eq!(md("A|B\nC"), "A\\|B C");
    }
}
