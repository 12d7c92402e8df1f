//! Batch yields as a sheet (`lotline yields --csv/--xlsx`): one row per batch made against
//! a recipe, through the one sheet writer, like the recall lists.

use crate::recall::{self, Table};
use crate::sheet::Cell;
use lotline_domain::{YieldRow, format_permille};
use lotline_station::StationError;
use std::path::Path;

pub const HEADER: [&str; 12] = [
    "Lot",
    "Item",
    "Date",
    "Line",
    "Recipe version",
    "Expected",
    "Actual",
    "Unit",
    "Yield",
    "Tolerance",
    "Outside tolerance",
    "Override reason",
];

/// One batch's cells, in `HEADER`'s order.
pub fn cells(r: &YieldRow) -> Vec<Cell> {
    let rec = &r.record;
    let text = |s: String| Cell::Text(s);
    vec![
        text(r.lot.to_string()),
        text(rec.item.to_string()),
        text(r.date.to_string()),
        text(rec.line.clone().unwrap_or_default()),
        Cell::Id(u64::from(rec.version)),
        rec.expected.map_or(Cell::default(), Cell::Qty),
        Cell::Qty(rec.actual),
        text(rec.unit.to_string()),
        text(
            rec.yield_permille()
                .map(format_permille)
                .unwrap_or_default(),
        ),
        text(format!("±{} %", rec.yield_tolerance_pct)),
        text(if rec.yield_outside() { "yes" } else { "no" }.into()),
        text(rec.reason.clone().unwrap_or_default()),
    ]
}

pub fn table(rows: &[YieldRow]) -> Table {
    Table {
        name: "Yields",
        header: HEADER.to_vec(),
        rows: rows.iter().map(cells).collect(),
    }
}

/// Write the yields as a new CSV file at `path`; `flag` names the option for errors.
pub fn write_csv(path: &Path, flag: &str, rows: &[YieldRow]) -> Result<(), StationError> {
    recall::write_csv(path, flag, &table(rows))
}

/// Write the yields as a new one-sheet workbook at `path`.
pub fn write_xlsx(path: &Path, flag: &str, rows: &[YieldRow]) -> Result<(), StationError> {
    recall::write_xlsx(path, flag, &[table(rows)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use lotline_domain::*;

    #[test]
    fn a_row_reads_as_the_batch_did() {
        let row = YieldRow {
            lot: LotCode::parse("B26325-001", "lot").unwrap(),
            date: chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
            record: BatchRecipe {
                batch: 9,
                output: LotId(3),
                item: ItemCode::parse("COOKIE", "item").unwrap(),
                version: 2,
                line: Some("L1".into()),
                expected: Some(Qty::from_units(100)),
                actual: Qty::from_units(92),
                unit: Unit::Kg,
                yield_tolerance_pct: 5,
                deviations: vec![],
                reason: Some("=cmd".into()),
            },
        };
        let csv = recall::csv_text(&table(&[row])).unwrap();
        assert_eq!(
            csv.lines().nth(1).unwrap(),
            "B26325-001,COOKIE,2026-11-21,L1,2,100,92,kg,92.0 %,±5 %,yes,'=cmd"
        );
    }
}
