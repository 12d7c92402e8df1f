//! The FDA sheets written out: as one XLSX workbook (a "Read me" sheet first) or as one
//! CSV per sheet with a `read-me.txt`, through the one sheet writer (`crate::sheet`).

use super::{Export, Sheet, invalid};
use crate::file::{io_error, refuse_existing, write_new_file};
use crate::sheet::{self, Book};
use lotline_station::StationError;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// A sheet's column titles, as the sheet writer takes them.
fn header(sheet: &Sheet) -> Vec<&str> {
    sheet.columns.iter().map(|(t, _)| t.as_str()).collect()
}

/// Write one CSV per sheet, and `read-me.txt`, into `dir` (created if missing). Refuses
/// before writing anything if any of the files is there already.
pub fn write_csv(dir: &Path, export: &Export) -> Result<Vec<PathBuf>, StationError> {
    let flag = "csv";
    if dir.exists() && !dir.is_dir() {
        return Err(invalid(
            flag,
            format!("{} is a file; --csv takes a folder", dir.display()),
        ));
    }
    let targets: Vec<PathBuf> = export
        .sheets
        .iter()
        .map(|s| dir.join(s.file))
        .chain(std::iter::once(dir.join("read-me.txt")))
        .collect();
    for t in &targets {
        refuse_existing(t, flag)?;
    }
    std::fs::create_dir_all(dir).map_err(|e| io_error(flag, dir, e))?;
    let mut written = Vec::new();
    for (s, path) in export.sheets.iter().zip(&targets) {
        sheet::write_csv_file(path, flag, &header(s), &s.rows)?;
        written.push(path.clone());
    }
    let readme_path = &targets[3];
    write_new_file(readme_path, &readme_text(export), flag)?;
    written.push(readme_path.clone());
    Ok(written)
}

/// The Read me as text, for the CSV folder.
pub fn readme_text(export: &Export) -> String {
    let mut out = String::new();
    for (k, v) in &export.readme {
        out.push_str(&format!("{k}: {}\n", lotline_domain::text::escape(v)));
    }
    for s in &export.sheets {
        out.push_str(&format!("\n{} ({}): columns\n", s.name, s.file));
        for (t, m) in &s.columns {
            out.push_str(&format!("  {t}: {m}\n"));
        }
    }
    out
}

/// How far `write_xlsx_with` is: cells of rows laid down, then the file being compressed
/// and saved (one step the writer cannot report inside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XlsxStep {
    Rows {
        done: u64,
        total: u64,
    },
    Saving,
    /// Written under the temporary name; linking it in at the path is next.
    Saved,
}

/// Write the workbook: "Read me", then Receiving, Transformation and Shipping, each
/// with a bold frozen header row, an autofilter and column widths. Refuses an existing
/// path.
pub fn write_xlsx(path: &Path, export: &Export) -> Result<(), StationError> {
    write_xlsx_with(path, export, &mut |_| ControlFlow::Continue(())).map(|_| ())
}

/// Rows of one XLSX sheet, its header row included (Excel's limit).
pub const XLSX_MAX_ROWS: usize = 1_048_576;

/// `write_xlsx`, telling `progress` how far it is (every 10,000 rows, then saving, then
/// saved under the temporary name). `progress` answering `Break` stops it there: the
/// temporary file, if made, is removed, nothing is at `path`, and `Break` is returned.
pub fn write_xlsx_with(
    path: &Path,
    export: &Export,
    progress: &mut dyn FnMut(XlsxStep) -> ControlFlow<()>,
) -> Result<ControlFlow<()>, StationError> {
    let total = export.rows() as u64;
    let mut done = 0u64;
    let flag = "xlsx";
    refuse_existing(path, flag)?;
    // A sheet holds 1,048,576 rows, the header one of them: say so before any work.
    if let Some(s) = export.sheets.iter().find(|s| s.rows.len() >= XLSX_MAX_ROWS) {
        return Err(invalid(
            flag,
            format!(
                "the {} sheet would have {} rows, more than a spreadsheet holds ({}); write CSV instead (--csv DIR), or ask for fewer dates or foods",
                s.name,
                lotline_domain::words::thousands(s.rows.len()),
                lotline_domain::words::thousands(XLSX_MAX_ROWS - 1)
            ),
        ));
    }
    let mut book = Book::new(path, flag);
    readme_sheet(&mut book, export)?;
    for s in &export.sheets {
        let mut each_row = || {
            done += 1;
            if done.is_multiple_of(10_000) {
                progress(XlsxStep::Rows { done, total })
            } else {
                ControlFlow::Continue(())
            }
        };
        if book
            .add(s.name, &header(s), &s.rows, &sheet::FDA, &mut each_row)?
            .is_break()
        {
            return Ok(ControlFlow::Break(()));
        }
    }
    if progress(XlsxStep::Rows { done, total }).is_break() || progress(XlsxStep::Saving).is_break()
    {
        return Ok(ControlFlow::Break(()));
    }
    book.save_new(&mut || progress(XlsxStep::Saved))
}

/// The "Read me" sheet: what was asked and by whom, then each sheet's columns and what
/// they mean.
fn readme_sheet(book: &mut Book, export: &Export) -> Result<(), StationError> {
    use rust_xlsxwriter::{Format, FormatAlign};
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let readme = book.worksheet("Read me")?;
    let mut lay = || -> Result<(), rust_xlsxwriter::XlsxError> {
        readme.set_column_width(0, 28)?;
        readme.set_column_width(1, 100)?;
        let mut r: u32 = 0;
        for (k, v) in &export.readme {
            readme.write_string_with_format(r, 0, k, &bold)?;
            readme.write_string_with_format(r, 1, sheet::xlsx_text(v), &wrap)?;
            r += 1;
        }
        for s in &export.sheets {
            r += 1;
            readme.write_string_with_format(r, 0, format!("{}: columns", s.name), &bold)?;
            r += 1;
            for (t, m) in &s.columns {
                readme.write_string(r, 0, t)?;
                readme.write_string_with_format(r, 1, m, &wrap)?;
                r += 1;
            }
        }
        Ok(())
    };
    lay().map_err(|e| book.error(e))
}

/// The shipping KDEs of one shipment as CSV text (header and rows), formula-safe.
pub fn sheet_csv(sheet: &Sheet) -> Result<String, StationError> {
    sheet::csv_text(&header(sheet), &sheet.rows).map_err(|e| invalid("csv", e.to_string()))
}
