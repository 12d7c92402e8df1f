//! The one sheet writer: a header and rows, as CSV (the csv crate's RFC 4180 quoting, text
//! made formula-safe) or as a sheet of an XLSX workbook (rust_xlsxwriter: a bold frozen
//! header, quantities as numbers, widths from the contents). The FDA spreadsheet, the
//! recall lists and the mock-recall workbook all write through it, so a cell reads the
//! same in each of them.

use crate::file::{io_error, not_written};
use lotline_domain::Qty;
use lotline_station::StationError;
use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet, XlsxError};
use std::borrow::Cow;
use std::ops::ControlFlow;
use std::path::Path;

/// One cell: text, a quantity (a number in XLSX, so it sorts as one), an id, or a date
/// (a date cell in XLSX, shown YYYY-MM-DD, so it sorts and filters as a date; the same
/// text in CSV).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Qty(Qty),
    Id(u64),
    Date(chrono::NaiveDate),
}

impl Default for Cell {
    fn default() -> Cell {
        Cell::Text(String::new())
    }
}

impl Cell {
    pub fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Qty(q) => q.to_string(),
            Cell::Id(n) => n.to_string(),
            Cell::Date(d) => d.to_string(),
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

/// Text as a CSV cell holds it: control, bidi and invisible characters escaped (a record
/// an older lotline stored may hold them, and a file handed to FDA or a customer must not
/// carry them raw), then the ' a spreadsheet needs before text it would otherwise run as a
/// formula (a name or reference typed by anyone): the same rule as the Trace screen's CSV.
pub(crate) fn formula_safe(s: &str) -> Cow<'_, str> {
    let s = lotline_domain::text::escape(s);
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}").into()
    } else {
        s
    }
}

/// Text as an XLSX cell holds it: escaped as for CSV (the workbook's XML would carry a
/// control character as `_x001B_`, which a spreadsheet turns back into the raw one). No
/// formula guard: a string cell is never run.
pub(crate) fn xlsx_text(s: &str) -> Cow<'_, str> {
    lotline_domain::text::escape(s)
}

/// Write `header` and `rows` as CSV to `out`, flushed.
pub fn csv_to(
    out: impl std::io::Write,
    header: &[&str],
    rows: &[Vec<Cell>],
) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(header)?;
    let mut rec: Vec<Cow<'_, str>> = Vec::new();
    for row in rows {
        rec.clear();
        rec.extend(row.iter().map(|c| match c {
            Cell::Text(t) => formula_safe(t),
            other => Cow::Owned(other.text()),
        }));
        w.write_record(rec.iter().map(|c| c.as_bytes()))?;
    }
    w.flush()?;
    Ok(())
}

/// `header` and `rows` as CSV text.
pub fn csv_text(header: &[&str], rows: &[Vec<Cell>]) -> Result<String, csv::Error> {
    let mut bytes = Vec::new();
    csv_to(&mut bytes, header, rows)?;
    // Every field was a `str`, so the CSV is UTF-8.
    Ok(String::from_utf8(bytes).expect("CSV of text is text"))
}

/// Write `header` and `rows` as a new CSV file at `path`; `flag` names the option for
/// errors.
pub fn write_csv_file(
    path: &Path,
    flag: &str,
    header: &[&str],
    rows: &[Vec<Cell>],
) -> Result<(), StationError> {
    lotline_files::write_new_with(path, |file| csv_to(file, header, rows))
        .map_err(|e| not_written(flag, path, e))
}

/// How a workbook's sheets look, beyond what they all share (a bold shaded header row,
/// frozen; numbers as numbers; each column as wide as its contents, within limits).
#[derive(Debug, Clone, Copy)]
pub struct Look {
    /// Header titles wrapped, top-aligned, in a row tall enough for long titles.
    pub tall_header: bool,
    /// A filter on every column of the header row.
    pub autofilter: bool,
    /// A column widens for its cells up to this many characters...
    pub widest: usize,
    /// ...judged from this many rows (a million rows would take long to measure).
    pub measured_rows: usize,
}

/// The FDA sheets: long titles, sortable and filtered as FDA sorts them.
pub const FDA: Look = Look {
    tall_header: true,
    autofilter: true,
    widest: 40,
    measured_rows: 1000,
};

/// Recall lists and reports: short titles, every row measured.
pub const PLAIN: Look = Look {
    tall_header: false,
    autofilter: false,
    widest: 60,
    measured_rows: usize::MAX,
};

/// A workbook being built for a new file at `path`: sheets added in order, then saved
/// (`save_new`). Errors are `flag`'s.
pub struct Book<'a> {
    wb: Workbook,
    path: &'a Path,
    flag: &'a str,
    head: Format,
    tall_head: Format,
    number: Format,
    date: Format,
}

/// `d` as a spreadsheet's date, when it is one a spreadsheet holds (years 1900 to 9999).
fn excel_date(d: chrono::NaiveDate) -> Option<rust_xlsxwriter::ExcelDateTime> {
    use chrono::Datelike;
    let year = u16::try_from(d.year()).ok()?;
    rust_xlsxwriter::ExcelDateTime::from_ymd(year, d.month() as u8, d.day() as u8).ok()
}

impl<'a> Book<'a> {
    pub fn new(path: &'a Path, flag: &'a str) -> Self {
        let shade = rust_xlsxwriter::Color::RGB(0xDDEBF7);
        Book {
            wb: Workbook::new(),
            path,
            flag,
            head: Format::new().set_bold().set_background_color(shade),
            tall_head: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_background_color(shade),
            number: Format::new().set_num_format("0.###"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
        }
    }

    /// `flag`'s error for what the writer said.
    pub fn error(&self, e: XlsxError) -> StationError {
        io_error(self.flag, self.path, e)
    }

    /// A new sheet named `name` for a caller that lays it out itself.
    pub fn worksheet(&mut self, name: &str) -> Result<&mut Worksheet, StationError> {
        let ws = self.wb.add_worksheet();
        match ws.set_name(name) {
            Ok(ws) => Ok(ws),
            Err(e) => Err(io_error(self.flag, self.path, e)),
        }
    }

    /// Add a sheet of `header` and `rows` (a header of empty titles: label/value pairs
    /// with no header row). `each_row` is told of every row laid down; `Break` stops
    /// there and is returned.
    pub fn add(
        &mut self,
        name: &str,
        header: &[&str],
        rows: &[Vec<Cell>],
        look: &Look,
        each_row: &mut dyn FnMut() -> ControlFlow<()>,
    ) -> Result<ControlFlow<()>, StationError> {
        let (path, flag) = (self.path, self.flag);
        let xl = |e: XlsxError| io_error(flag, path, e);
        let head = if look.tall_header {
            &self.tall_head
        } else {
            &self.head
        };
        let number = &self.number;
        let date = &self.date;
        let ws = self.wb.add_worksheet();
        ws.set_name(name).map_err(xl)?;
        let has_header = header.iter().any(|h| !h.is_empty());
        let first: u32 = if has_header { 1 } else { 0 };
        let mut widths: Vec<usize> = header.iter().map(|h| h.len().clamp(6, 24)).collect();
        if has_header {
            for (c, h) in header.iter().enumerate() {
                ws.write_string_with_format(0, c as u16, *h, head)
                    .map_err(xl)?;
            }
        }
        for (i, row) in rows.iter().enumerate() {
            if each_row().is_break() {
                return Ok(ControlFlow::Break(()));
            }
            let r = first + i as u32;
            for (c, cell) in row.iter().enumerate() {
                let c16 = c as u16;
                if c >= widths.len() {
                    widths.resize(c + 1, 6);
                }
                match cell {
                    Cell::Text(t) if t.is_empty() => {}
                    Cell::Text(t) => {
                        ws.write_string(r, c16, xlsx_text(t)).map_err(xl)?;
                        if i < look.measured_rows {
                            widths[c] = widths[c].max(t.chars().count().min(look.widest));
                        }
                    }
                    Cell::Qty(q) => {
                        ws.write_number_with_format(r, c16, q.milli() as f64 / 1000.0, number)
                            .map_err(xl)?;
                    }
                    Cell::Id(n) => {
                        ws.write_number(r, c16, *n as f64).map_err(xl)?;
                    }
                    Cell::Date(d) => {
                        match excel_date(*d) {
                            Some(x) => ws.write_date_with_format(r, c16, &x, date),
                            // Outside what a spreadsheet's dates hold: the date as text.
                            None => ws.write_string(r, c16, d.to_string()),
                        }
                        .map_err(xl)?;
                        widths[c] = widths[c].max(10);
                    }
                }
            }
        }
        for (c, w) in widths.iter().enumerate() {
            ws.set_column_width(c as u16, (*w as f64 + 2.0).max(8.0))
                .map_err(xl)?;
        }
        if has_header {
            if look.tall_header {
                ws.set_row_height(0, 45).map_err(xl)?;
            }
            ws.set_freeze_panes(1, 0).map_err(xl)?;
        }
        if look.autofilter {
            let last_col = header.len().saturating_sub(1) as u16;
            ws.autofilter(0, 0, rows.len() as u32, last_col)
                .map_err(xl)?;
        }
        Ok(ControlFlow::Continue(()))
    }

    /// Save the workbook as a new file at `path` (`lotline_files`). `saved` is asked once
    /// it is compressed and written under the temporary name: `Break` drops it, leaving
    /// nothing at `path`, and is returned.
    pub fn save_new(
        mut self,
        saved: &mut dyn FnMut() -> ControlFlow<()>,
    ) -> Result<ControlFlow<()>, StationError> {
        let written = lotline_files::write_new_with(self.path, |file| {
            self.wb.save_to_writer(file).map_err(Halt::Failed)?;
            match saved() {
                ControlFlow::Break(()) => Err(Halt::Stop),
                ControlFlow::Continue(()) => Ok(()),
            }
        });
        match written {
            Ok(()) => Ok(ControlFlow::Continue(())),
            Err(lotline_files::Error::Writer(Halt::Stop)) => Ok(ControlFlow::Break(())),
            Err(e) => Err(not_written(self.flag, self.path, e)),
        }
    }
}

/// Why a workbook was not saved: asked to stop, or the writer failed.
enum Halt {
    Stop,
    Failed(XlsxError),
}

impl std::fmt::Display for Halt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Halt::Stop => f.write_str("stopped"),
            Halt::Failed(e) => e.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_once_and_keeps_formulas_as_text() {
        let rows = vec![vec![
            Cell::from("=SUM(A1)"),
            Cell::from("Eggs, \"large\""),
            Cell::Id(7),
        ]];
        let text = csv_text(&["a", "b", "c"], &rows).unwrap();
        assert_eq!(text, "a,b,c\n'=SUM(A1),\"Eggs, \"\"large\"\"\",7\n");
    }
}
