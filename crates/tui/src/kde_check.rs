//! The FDA export form's KDE check: before anything is sent, what the spreadsheet would
//! have blank for the foods on the Food Traceability List in scope (`fsma::missing`), each
//! with the screen that fills it, in the app's words.

use lotline_export::fsma::{self, Fill, Gap, Gaps};
use lotline_station::Station;

/// How many gaps the panel names one by one; the rest are counted.
const SHOWN: usize = 2;

/// Where in the app a missing KDE is filled in.
fn fill_words(f: &Fill) -> String {
    match f {
        Fill::Item { code, field } => format!("Items/Parties: item {code}, {}", label(field)),
        Fill::Party { id, field } => format!("Items/Parties: party {id}, {}", label(field)),
        Fill::Plant { field } => format!("plant settings: {}", label(field)),
        Fill::Reference { event } => {
            format!("void event {event} and record it again with its reference")
        }
    }
}

/// A master data field's label as its form shows it.
fn label(field: &str) -> &str {
    match field {
        "pack-size" => "Pack size",
        "pack-style" => "Pack style",
        "phone" => "Phone",
        "street" => "Street",
        "city" => "City",
        "state" => "State",
        "zip" => "ZIP",
        other => other,
    }
}

fn gap_line(g: &Gap) -> String {
    format!(
        "{} {} lot {}: {} ({})",
        g.date,
        g.cte,
        g.lot,
        g.kde,
        fill_words(&g.fill)
    )
}

/// What the check found, as the form shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KdeCheck {
    /// The summary, then the first gaps and how many more (the full layout).
    pub lines: Vec<String>,
    /// One short line (a handheld's).
    pub short: String,
    /// Every KDE is there.
    pub complete: bool,
}

/// The check for the export form, for `lot` (its whole trace) or the whole plant.
pub fn check(station: &dyn Station, lot: Option<&str>) -> KdeCheck {
    let req = fsma::Request {
        lot: lot.map(str::to_string),
        ftl_only: true,
        ..Default::default()
    };
    match fsma::missing(station, &req) {
        Ok(found) => summary(&found),
        Err(e) => KdeCheck {
            lines: vec![format!("KDE check: {}", e.message)],
            short: "KDE check: not run".into(),
            complete: false,
        },
    }
}

fn summary(found: &Gaps) -> KdeCheck {
    use lotline_domain::words::plural;
    if found.gaps.is_empty() {
        return KdeCheck {
            lines: vec![format!(
                "KDE check: every KDE is there ({} of listed foods).",
                plural(found.events, "event", "events")
            )],
            short: "KDE check: every KDE is there".into(),
            complete: true,
        };
    }
    let events: std::collections::BTreeSet<u64> = found.gaps.iter().map(|g| g.event).collect();
    let mut lines = vec![format!(
        "KDE check: {} missing in {}; fill them before sending:",
        plural(found.gaps.len(), "KDE", "KDEs"),
        plural(events.len(), "event", "events")
    )];
    lines.extend(found.gaps.iter().take(SHOWN).map(gap_line));
    if found.gaps.len() > SHOWN {
        lines.push(format!("… and {} more", found.gaps.len() - SHOWN));
    }
    KdeCheck {
        lines,
        short: format!("KDEs missing: {}", found.gaps.len()),
        complete: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lotline_domain::{ItemCode, PartyId};

    fn gap(kde: &str, fill: Fill) -> Gap {
        Gap {
            date: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            event: 4,
            cte: "receiving",
            lot: "R26305-001".into(),
            kde: kde.into(),
            fill,
        }
    }

    #[test]
    fn the_panel_names_the_first_gaps_and_counts_the_rest() {
        let item = ItemCode::parse("EGGS", "item").unwrap();
        let found = Gaps {
            events: 9,
            gaps: vec![
                gap("reference document", Fill::Reference { event: 4 }),
                gap(
                    "EGGS packaging style",
                    Fill::Item {
                        code: item.clone(),
                        field: "pack-style",
                    },
                ),
                gap(
                    "immediate previous source ZIP (FARM)",
                    Fill::Party {
                        id: PartyId::parse("FARM", "party").unwrap(),
                        field: "zip",
                    },
                ),
                gap(
                    "receiving location street address",
                    Fill::Plant { field: "street" },
                ),
            ],
        };
        let c = summary(&found);
        assert!(!c.complete);
        assert_eq!(c.short, "KDEs missing: 4");
        assert_eq!(
            c.lines,
            [
                "KDE check: 4 KDEs missing in 1 event; fill them before sending:",
                "2026-11-01 receiving lot R26305-001: reference document (void event 4 and record it again with its reference)",
                "2026-11-01 receiving lot R26305-001: EGGS packaging style (Items/Parties: item EGGS, Pack style)",
                "… and 2 more",
            ]
        );
        let clean = summary(&Gaps {
            events: 2,
            gaps: Vec::new(),
        });
        assert!(clean.complete);
        assert_eq!(
            clean.lines,
            ["KDE check: every KDE is there (2 events of listed foods)."]
        );
    }
}
