//! Recall paperwork: the recall scope as CSV, the customer notification list (CSV and
//! XLSX), and a mock recall's workbook (Summary, Lots, Customers, Counts) and one-page
//! summary with the lines the QA manager and the auditor sign. Built from what the station
//! answers (`recall_report`, `mock_recall`), so the command line and the app write the
//! same files. Never over an existing file.

use super::file::{io_error, refuse_existing};
use super::sheet::{self, Book, Cell};
use chrono::{DateTime, Utc};
use lotline_domain::{
    Contact, CountLine, CustomerRecon, LotRecon, Party, Qty, percent_text, words::plural,
};
use lotline_domain::{MockRecallView, RecallReport};
use lotline_station::StationError;
use std::path::Path;

/// One sheet or CSV file: a name, column titles and rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

fn t(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn opt_q(q: Option<Qty>) -> Cell {
    q.map(Cell::Qty).unwrap_or_default()
}

/// The phone to call: the recall contact's, else the business's.
pub fn phone_of(contact: &Contact, business_phone: &str) -> String {
    if contact.phone.is_empty() {
        business_phone.to_string()
    } else {
        contact.phone.clone()
    }
}

/// The scope as rows: each reconciled lot, each shipment line, each lot with stock.
pub fn scope_table(r: &RecallReport) -> Table {
    let name = |c: &lotline_domain::ItemCode| r.names.get(c).cloned().unwrap_or_default();
    let mut rows = Vec::new();
    for l in &r.base.lots {
        let status = r
            .scope
            .trace
            .lot(l.lot)
            .map(|x| x.status.to_string())
            .unwrap_or_default();
        rows.push(vec![
            t(if l.root { "root lot" } else { "finished lot" }),
            t(l.code.to_string()),
            t(l.item.to_string()),
            t(name(&l.item)),
            t(l.unit.to_string()),
            Cell::Qty(l.produced),
            Cell::Qty(l.consumed),
            Cell::Qty(l.shipped),
            Cell::Qty(
                r.base
                    .customers
                    .iter()
                    .filter(|c| c.lot == l.lot)
                    .map(|c| c.returned)
                    .sum(),
            ),
            Cell::Qty(l.on_hand),
            t(status),
            t(""),
            t(""),
            t(""),
            t(""),
            t(""),
            t(""),
            t(""),
            t(""),
        ]);
    }
    for c in &r.base.customers {
        for s in &c.shipments {
            rows.push(vec![
                t("shipment"),
                t(c.code.to_string()),
                t(c.item.to_string()),
                t(name(&c.item)),
                t(c.unit.to_string()),
                t(""),
                t(""),
                Cell::Qty(s.qty),
                t(""),
                t(""),
                t(""),
                t(c.party.to_string()),
                t(c.name.clone()),
                t(c.contact.name.clone()),
                t(phone_of(&c.contact, &c.phone)),
                t(c.contact.email.clone()),
                t(s.date.to_string()),
                t(s.reference
                    .as_ref()
                    .map(|x| x.to_string())
                    .unwrap_or_default()),
                Cell::Id(s.event),
            ]);
        }
    }
    for (ids, what) in [
        (&r.scope.to_hold, "stock to hold"),
        (&r.scope.already_held, "stock held"),
    ] {
        for id in ids {
            let Some(l) = r.scope.trace.lot(*id) else {
                continue;
            };
            rows.push(vec![
                t(what),
                t(l.code.to_string()),
                t(l.item.to_string()),
                t(name(&l.item)),
                t(l.unit.to_string()),
                t(""),
                t(""),
                t(""),
                t(""),
                Cell::Qty(l.balance),
                t(l.status.to_string()),
                t(""),
                t(""),
                t(""),
                t(""),
                t(""),
                t(""),
                t(""),
                t(""),
            ]);
        }
    }
    Table {
        name: "Scope",
        header: vec![
            "section",
            "lot",
            "item",
            "description",
            "unit",
            "produced",
            "consumed",
            "shipped",
            "returned",
            "on_hand",
            "status",
            "customer",
            "customer_name",
            "contact",
            "phone",
            "email",
            "date",
            "reference",
            "event",
        ],
        rows,
    }
}

/// The customer notification list: one row per shipment line, with whom to call.
pub fn notify_table(r: &RecallReport) -> Table {
    let mut rows = Vec::new();
    for c in &r.base.customers {
        for s in &c.shipments {
            rows.push(vec![
                t(c.party.to_string()),
                t(c.name.clone()),
                t(c.contact.name.clone()),
                t(phone_of(&c.contact, &c.phone)),
                t(c.contact.email.clone()),
                t(c.item.to_string()),
                t(r.names.get(&c.item).cloned().unwrap_or_default()),
                t(c.code.to_string()),
                Cell::Qty(s.qty),
                t(c.unit.to_string()),
                t(s.date.to_string()),
                t(s.reference
                    .as_ref()
                    .map(|x| x.to_string())
                    .unwrap_or_default()),
                Cell::Id(s.event),
            ]);
        }
    }
    Table {
        name: "Notification list",
        header: vec![
            "customer",
            "customer_name",
            "contact_name",
            "phone",
            "email",
            "product",
            "description",
            "lot",
            "quantity",
            "unit",
            "ship_date",
            "reference",
            "shipment_event",
        ],
        rows,
    }
}

/// Customers with no recall contact on file: the list is only as good as its numbers.
pub fn without_contact(r: &RecallReport) -> Vec<String> {
    let mut out: Vec<String> = r
        .base
        .customers
        .iter()
        .filter(|c| c.contact.is_empty() && c.phone.is_empty())
        .map(|c| c.party.to_string())
        .collect();
    out.dedup();
    out
}

/// A party's contact line for text: "Ana Ruiz, 555-0101, ana@shop.example".
pub fn contact_text(p: &Party) -> String {
    let c = &p.recall_contact;
    let phone = phone_of(c, &p.location.phone);
    [c.name.as_str(), phone.as_str(), c.email.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

/// "0:41", "12:05", "1:02:05".
pub fn elapsed_text(secs: i64) -> String {
    let s = secs.max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
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

/// The mock recall workbook's sheets: Summary, Lots, Customers, Counts.
pub fn mock_tables(view: &MockRecallView, plant: &str, now: DateTime<Utc>) -> Vec<Table> {
    let r = &view.result;
    let name = |c: &lotline_domain::ItemCode| view.names.get(c).cloned().unwrap_or_default();
    let mut summary = vec![
        vec![t("Plant"), t(plant)],
        vec![t("Mock recall"), Cell::Id(view.id)],
        vec![
            t("Started from"),
            t(format!(
                "{} {} {}{}",
                view.root.code,
                view.root.item,
                name(&view.root.item),
                if view.asked_as.is_empty() {
                    String::new()
                } else {
                    format!(" (supplier lot {})", view.asked_as)
                }
            )),
        ],
        vec![t("Started"), t(view.started.text())],
        vec![
            t("Completed"),
            t(match &view.finished {
                Some(f) => f.stamp.text(),
                None => "not yet: in progress".into(),
            }),
        ],
        vec![
            t("Time from start to completion"),
            t(elapsed_text(view.elapsed_secs(now))),
        ],
        vec![t("Lines not counted"), Cell::Id(r.uncounted() as u64)],
    ];
    for tot in r.totals() {
        summary.push(vec![
            t(format!("Overall ({})", tot.unit)),
            t(format!(
                "produced {} · found {} · gap {} · {} found",
                tot.produced,
                tot.found,
                tot.gap(),
                percent_text(tot.percent_bp())
            )),
        ]);
    }
    if !view.note.is_empty() {
        summary.push(vec![t("Note"), t(view.note.clone())]);
    }
    let lots = r
        .lots
        .iter()
        .map(|l| {
            vec![
                t(l.code.to_string()),
                t(l.item.to_string()),
                t(name(&l.item)),
                t(l.unit.to_string()),
                Cell::Qty(l.produced),
                Cell::Qty(l.consumed),
                Cell::Qty(l.shipped),
                Cell::Qty(l.on_hand),
                opt_q(l.counted),
                Cell::Qty(l.at_customers),
                Cell::Qty(l.found()),
                Cell::Qty(l.gap()),
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
            name: "Lots",
            header: vec![
                "lot",
                "item",
                "description",
                "unit",
                "produced",
                "consumed",
                "shipped",
                "on_hand_system",
                "counted_on_hand",
                "at_customers",
                "found",
                "gap",
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

/// A Markdown table cell: one line, pipes escaped.
fn md(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Rows of lots and customers on the printed page; the workbook has them all.
const PAGE_ROWS: usize = 12;

/// The one-page summary (Markdown, readable as plain text) with signature lines.
pub fn mock_summary(view: &MockRecallView, plant: &str, now: DateTime<Utc>) -> String {
    let r = &view.result;
    let mut o = String::new();
    let mut line = |s: String| {
        o.push_str(s.trim_end());
        o.push('\n');
    };
    line(format!("# Mock recall {} — {}", view.id, md(plant)));
    line(String::new());
    let name = view.names.get(&view.root.item).cloned().unwrap_or_default();
    line(format!(
        "- Started from: lot {} ({} {}){}",
        view.root.code,
        view.root.item,
        md(&name),
        if view.asked_as.is_empty() {
            String::new()
        } else {
            format!(", named by supplier lot {}", md(&view.asked_as))
        }
    ));
    line(format!("- Started: {}", md(&view.started.text())));
    line(match &view.finished {
        Some(f) => format!("- Completed: {}", md(&f.stamp.text())),
        None => "- Completed: NOT YET — in progress".into(),
    });
    line(format!(
        "- Time from start to completion: {}",
        elapsed_text(view.elapsed_secs(now))
    ));
    line(format!(
        "- Lots reconciled: {}; customer lines: {}; counts entered: {}; lines not counted: {}",
        r.lots.len(),
        r.customers.len(),
        view.counts.len(),
        r.uncounted()
    ));
    line(String::new());
    line("## Reconciliation".into());
    line(String::new());
    line("| Lot | Item | Produced | Shipped | Counted on hand | At customers | Found | Gap | Found % |".into());
    line("|---|---|--:|--:|--:|--:|--:|--:|--:|".into());
    let lot_row = |l: &LotRecon| {
        format!(
            "| {} | {} | {} {u} | {} | {} | {} | {} | {} | {} |",
            l.code,
            l.item,
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
        line(format!(
            "| … and {} (see the workbook) | | | | | | | | |",
            plural(r.lots.len() - PAGE_ROWS, "more lot", "more lots")
        ));
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
        line(format!(
            "| … and {} (see the workbook) | | | | | | | | |",
            plural(r.customers.len() - PAGE_ROWS, "more line", "more lines")
        ));
    }
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

/// Text for a CSV file: a header and rows, formula-safe.
pub fn csv_text(table: &Table) -> Result<String, StationError> {
    sheet::csv_text(&table.header, &table.rows)
        .map_err(|e| io_error("csv", Path::new(table.name), e))
}

/// Write `table` as a new CSV file at `path`; `flag` names the option for errors.
pub fn write_csv(path: &Path, flag: &str, table: &Table) -> Result<(), StationError> {
    refuse_existing(path, flag)?;
    sheet::write_csv_file(path, flag, &table.header, &table.rows)
}

/// Write the tables as sheets of a new workbook at `path`: bold frozen headers,
/// quantities as numbers, column widths from the contents.
pub fn write_xlsx(path: &Path, flag: &str, tables: &[Table]) -> Result<(), StationError> {
    refuse_existing(path, flag)?;
    let mut book = Book::new(path, flag);
    // Nothing stops these part-way: every sheet is laid down and the workbook saved.
    let mut go_on = || std::ops::ControlFlow::Continue(());
    for table in tables {
        let _ = book.add(
            table.name,
            &table.header,
            &table.rows,
            &sheet::PLAIN,
            &mut go_on,
        )?;
    }
    book.save_new(&mut go_on).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_reads_as_a_stopwatch() {
        assert_eq!(elapsed_text(41), "0:41");
        assert_eq!(elapsed_text(725), "12:05");
        assert_eq!(elapsed_text(3725), "1:02:05");
    }

    #[test]
    fn markdown_cells_stay_in_their_column() {
        assert_eq!(md("A|B\nC"), "A\\|B C");
    }
}
