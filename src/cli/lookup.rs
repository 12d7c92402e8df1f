//! Which of our lots a code given on the command line names: read as the app reads a scan
//! or a code typed on its Trace screen (`station::lookup`), so `lotline trace SR-1121`
//! finds the lot we received under the supplier's lot SR-1121, as the app does.

use super::{Failure, Res};
use lotline_domain::scan::{Scan, ScanConfig};
use lotline_domain::text::excerpt;
use lotline_domain::words::plural;
use lotline_domain::{Lot, Origin};
use lotline_station::{Station, StationExt, lookup};

/// How a lot was found from the text.
pub enum Found {
    /// The text is our lot code.
    Ours(Lot),
    /// The text is a supplier's lot code (or a scan carrying one) that became this lot.
    Supplier { text: String, lot: Lot },
}

impl Found {
    pub fn lot(&self) -> &Lot {
        match self {
            Found::Ours(l) | Found::Supplier { lot: l, .. } => l,
        }
    }
}

/// "R26305-002 (EGGS from FARM, received 2026-11-01, 40 dozen on hand)".
pub fn describe(l: &Lot) -> String {
    let from = match &l.origin {
        Origin::Received { supplier, .. } => format!(" from {supplier}, received"),
        Origin::Produced { .. } => ", made".into(),
        Origin::Returned { customer, .. } => format!(", returned by {customer}"),
        Origin::Partner { source, .. } => format!(", known only from {source}, named"),
    };
    format!(
        "{} ({}{from} {}, {} {} on hand, {})",
        l.code, l.item, l.date, l.balance, l.unit, l.status
    )
}

/// Every lot of ours `scan` names (see `station::lookup::scanned_lots`).
pub fn lots_of_scan(st: &dyn Station, scan: &Scan, field: &str) -> Res<Vec<Lot>> {
    let items = st.items()?;
    Ok(lookup::scanned_lots(scan, &items, field, st)?)
}

/// The one lot `text` names: our lot code, a supplier's lot code we received once, or a
/// scan of either. Several lots under one supplier lot are listed for the user to pick.
pub fn one_lot(st: &dyn Station, text: &str, field: &str) -> Res<Found> {
    let scan = lotline_domain::scan::parse(text, &ScanConfig::default())
        .map_err(|e| Failure::invalid(field, e.to_string()))?;
    let said = lookup::scanned_text(&scan).unwrap_or(text).to_string();
    let mut lots = lots_of_scan(st, &scan, field)?;
    match lots.len() {
        0 => Err(Failure::invalid(
            field,
            format!(
                "{} is not one of our lots, nor a supplier lot we received; `lotline lots` lists them",
                excerpt(&said)
            ),
        )),
        1 => {
            let lot = lots.pop().expect("one lot");
            Ok(if lot.code.as_str() == said {
                Found::Ours(lot)
            } else {
                Found::Supplier { text: said, lot }
            })
        }
        n => {
            // Newest first, as the app lists them; none is chosen for the user, since in
            // a recall the lot that matters may be the one used up or shipped.
            lots.reverse();
            Err(Failure::invalid(
                field,
                format!(
                    "supplier lot {} is on {} of ours; give one of them: {}",
                    excerpt(&said),
                    plural(n, "lot", "lots"),
                    lots.iter().map(describe).collect::<Vec<_>>().join("; ")
                ),
            ))
        }
    }
}
