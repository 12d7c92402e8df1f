//! How a scan or a typed code names our lots: one rule for every front end (the app's
//! scans and Trace screen, `lotline barcode`, `lotline trace`). A code of ours is that
//! lot; else the lots we received under that supplier lot code, of the scanned GTIN's item
//! when the scan carries one.

use super::{Station, StationError, StationExt};
use lotline_domain::LotFilter;
use lotline_domain::scan::Scan;
use lotline_domain::{Invalid, Item, Lot, LotCode};

fn invalid(field: &str, problem: impl Into<String>) -> StationError {
    Invalid::new(field, problem).into()
}

/// The text a scan names a lot by: a plain scan's text, or a GS1 scan's (10).
pub fn scanned_text(scan: &Scan) -> Option<&str> {
    match scan {
        Scan::Plain { text, .. } => Some(text),
        Scan::Gs1 { .. } => scan.lot(),
    }
}

/// The item a scanned GTIN is, among `items`.
pub fn item_by_gtin<'a>(items: &'a [Item], gtin: &str) -> Option<&'a Item> {
    items
        .iter()
        .find(|i| i.gtin.as_ref().is_some_and(|g| g.as_str() == gtin))
}

/// Every lot of ours a scan names: our lot code (a plain scan, or a GS1 scan's (10)) is
/// that one lot; else the lots we received under the supplier's lot code (10), of the
/// scanned GTIN's item when there is one, oldest first. One supplier lot may have become
/// several of our lots (two deliveries, one of them used up or shipped): all are returned,
/// for a trace or a search to show them all. Errors name `field`.
pub fn scanned_lots(
    scan: &Scan,
    items: &[Item],
    field: &str,
    station: &dyn Station,
) -> Result<Vec<Lot>, StationError> {
    let Some(text) = scanned_text(scan) else {
        let ais: Vec<String> = scan
            .elements()
            .iter()
            .map(|e| format!("({})", e.ai))
            .collect();
        return Err(invalid(
            field,
            format!(
                "the scanned label has no lot (10), only {}; scan the lot label",
                ais.join(" ")
            ),
        ));
    };
    if let Ok(code) = LotCode::parse(text, field)
        && let Some(lot) = station.find_lot(code)?
    {
        return Ok(vec![lot]);
    }
    // No supplier's lot code is longer than a code may be (the receipt refused it), so a
    // longer scan names none: nothing to ask the station for.
    if text.trim().chars().count() > lotline_domain::MAX_CODE_LEN {
        return Ok(Vec::new());
    }
    let mut lots = station.lots(LotFilter {
        supplier_lot: Some(text.to_string()),
        ..Default::default()
    })?;
    if let Some(item) = scan.gtin().and_then(|g| item_by_gtin(items, g)) {
        lots.retain(|l| l.item == item.code);
    }
    Ok(lots)
}
