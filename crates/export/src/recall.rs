//! Recall paperwork: the recall scope as CSV, the customer notification list (CSV and
//! XLSX), and the writers of a mock recall's workbook (its sheets are `mock::tables`).
//! Built from what the station answers (`recall_report`), so the command line and the app
//! write the same files. Never over an existing file.

use super::file::{io_error, refuse_existing};
use super::sheet::{self, Book, Cell};
use lotline_domain::{Contact, Party, RecallReport};
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
