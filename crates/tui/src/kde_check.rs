//! The FDA export form's KDE check: before anything is sent, what the spreadsheet would
//! have blank for the foods on the Food Traceability List in scope (`fsma::missing`), each
//! with the screen that fills it, in the app's words.
//!
//! On a large plant the check reads every event of the listed foods, which takes seconds:
//! it runs on a worker thread (`CheckWork::run`, spawned by the app loop as the exports
//! are), and the form shows "checking…" until its result comes back through a channel.

use lotline_export::fsma::{self, Fill, Gap, Gaps};
use lotline_station::{ErrorKind, Reply, Request, Station, StationError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

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
    /// The check could not be done (the database could not be read): `lines` say why.
    pub failed: bool,
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
        // About what was asked (no food on the list, no such lot): its own words.
        Err(e) if e.kind == ErrorKind::Invalid => KdeCheck {
            lines: vec![format!("KDE check: {}", e.message)],
            short: "KDE check: not run".into(),
            complete: false,
            failed: false,
        },
        Err(e) => not_run(&e.message),
    }
}

/// The panel when the check could not be done (the database could not be read, the
/// server went away): why, and that the export does not depend on it.
fn not_run(why: &str) -> KdeCheck {
    KdeCheck {
        lines: vec![
            format!("KDE check could not run: {why}"),
            "The export can still be written; close and open the form to check again.".into(),
        ],
        short: "KDE check: could not run".into(),
        complete: false,
        failed: true,
    }
}

/// The scope a check is for: the Lot field's text as the export reads it (trimmed), or
/// `None` for every food on the list.
pub fn scope_of(lot_field: &str) -> Option<String> {
    let t = lot_field.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// The FDA form's panel: the scope it is for, and what the check found there once the
/// worker has said (`None` while it checks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Panel {
    pub scope: Option<String>,
    pub found: Option<KdeCheck>,
}

/// A finished check, with the scope it was for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub scope: Option<String>,
    pub check: KdeCheck,
}

/// What the app tells the panel when the worker ended without a word (it panicked).
pub fn lost() -> KdeCheck {
    not_run("the check stopped unexpectedly")
}

/// A check for one scope and the channel back to the app: what the app loop hands a
/// worker thread.
pub struct CheckWork {
    pub scope: Option<String>,
    tx: mpsc::Sender<Checked>,
    /// Set when the check is no longer wanted (the form closed, the export started, the
    /// lot changed, the app is closing).
    stop: Arc<AtomicBool>,
}

impl CheckWork {
    /// The work for `scope`, the app's end of its channel, and the flag that drops it.
    pub fn new(scope: Option<String>) -> (CheckWork, mpsc::Receiver<Checked>, Arc<AtomicBool>) {
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let work = CheckWork {
            scope,
            tx,
            stop: stop.clone(),
        };
        (work, rx, stop)
    }

    /// Run the check against `st` and send what it found, unless it was dropped meanwhile.
    pub fn run(self, st: &dyn Station) {
        let guarded = UntilStopped {
            st,
            stop: &self.stop,
        };
        let check = check(&guarded, self.scope.as_deref());
        if self.stop.load(Ordering::Relaxed) {
            return;
        }
        // The app may have closed the form or quit meanwhile; then nobody is listening.
        let _ = self.tx.send(Checked {
            scope: self.scope,
            check,
        });
    }
}

/// The station as a check sees it: once the check is dropped every further call fails
/// at once, so a check nobody waits for ends at its next call instead of reading on (and
/// the app, which waits for its threads when it quits, is not held up by it).
struct UntilStopped<'a> {
    st: &'a dyn Station,
    stop: &'a AtomicBool,
}

impl Station for UntilStopped<'_> {
    fn call(&self, request: Request) -> Result<Reply, StationError> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(StationError {
                kind: ErrorKind::Unavailable,
                field: None,
                message: "the KDE check is no longer wanted".into(),
            });
        }
        self.st.call(request)
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
            failed: false,
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
        failed: false,
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
