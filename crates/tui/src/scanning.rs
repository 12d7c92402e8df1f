//! What a scan does where it lands (docs/tui.md, "Scanning"). The decoder (`input`) turns a
//! scanner's burst into one `Input::Scan`; this module reads it with the GS1 parser and
//! hands it to the screen in front:
//!
//! - in the Receive form, a supplier's case label fills the form;
//! - in the Produce and Ship forms, a lot label adds the lot line;
//! - on the Lots screen, a scan searches (and opens our lot when it is one);
//! - on Help, a scan is only read back: the scan test;
//! - anywhere else — the Trace screen, or outside a form field (the menu) — a scan of our
//!   lot code opens its trace (`InternalEvent::OpenTrace`); a supplier lot that became
//!   several of our lots lists them all to pick from (`InternalEvent::PickTrace`).
//!
//! A scan that cannot be read shows the parser's own error on the status line.
//!
//! Unframed plain text (no AIM identifier, prefix or leading GS: told from typing by speed
//! alone) with the cursor in a text field or prompt is a person typing fast, and is typed.

use super::App;
use super::config::visible;
use super::input::is_framed;
use super::keymap::ScreenId;
use super::queue::{InternalEvent, Outcome, Status};
use super::screens::FormAction;
use super::screens::lots::LotsAction;
use super::screens::produce::ProduceAction;
use super::screens::receive::ReceiveAction;
use super::screens::ship::ShipAction;
use super::screens::{item_by_gtin, not_our_lot, scanned_lots, scanned_text};
use lotline_domain::LotCode;
use lotline_domain::scan::{Scan, ScanError};
use lotline_station::{Station, StationExt};

/// Act on one scan: the raw text the scanner typed.
pub fn route(app: &mut App, text: &str, station: &dyn Station) -> Outcome {
    let cfg = app.scanner.scan_config();
    let today = app.now.date();
    let framed = is_framed(text, cfg.prefix.as_deref());
    // The one parser the command line uses too: bare element strings with no identifier
    // are read as GS1 there (see `scan::parse`).
    let parsed = lotline_domain::scan::parse_at(text, &cfg, today);
    if app.screen == ScreenId::Help {
        app.help.scan_test(report(text, &parsed, station));
        return Outcome::changed().status(match &parsed {
            Ok(_) => {
                Status::info("Scan test: what was read is above; on Help nothing else happens")
            }
            Err(_) => Status::warn("Scan test: the scan could not be read; why is above"),
        });
    }
    // The export dialog has the keys: a scan is typed into its field, as keys would be.
    if app.exports.shown() {
        if app.wants_text() {
            return typed(app, text.to_string(), station);
        }
        return Outcome::changed().status(Status::warn(
            "scan: close the export first (Esc), then scan again",
        ));
    }
    let scan = match parsed {
        Ok(s) => s,
        Err(e) => return Outcome::changed().status(Status::error(format!("scan: {e}"))),
    };
    // Told from typing by speed alone, plain text where the cursor is in a text field or
    // a prompt: a person typing fast (one SSH packet, or keys piled up while the app was
    // busy). It is typed there, then Enter, as the keys would have acted.
    if !framed && matches!(scan, Scan::Plain { .. }) && app.wants_text() {
        return typed(app, text.to_string(), station);
    }
    let in_form = !app.menu;
    match app.screen {
        ScreenId::Receive if in_form => app.receive.update(ReceiveAction::Scan(scan), station),
        ScreenId::Produce if in_form => app.produce.update(ProduceAction::Scan(scan), station),
        ScreenId::Ship if in_form => app.ship.update(ShipAction::Scan(scan), station),
        ScreenId::Lots => lots(app, &scan, station),
        // Only the lot field looks a scan up. In the customer, product and date fields
        // even a framed scan is typed where the cursor is, as the keys would have been.
        ScreenId::Trace if app.trace.start_field().is_some_and(|f| f != "code") => {
            let typed_text = match &scan {
                Scan::Plain { text, .. } => text.clone(),
                Scan::Gs1 { .. } => text.to_string(),
            };
            typed(app, typed_text, station)
        }
        // A product's barcode scanned into the item form fills its GTIN; anything else is
        // typed where the cursor is.
        ScreenId::Master if app.master.wants_text() => {
            let gtin = scan.gtin().map(str::to_string);
            match gtin {
                Some(g) if app.master.editor.is_some() => app.master.scanned_gtin(&g),
                _ => {
                    let typed_text = match &scan {
                        Scan::Plain { text, .. } => text.clone(),
                        Scan::Gs1 { .. } => text.to_string(),
                    };
                    typed(app, typed_text, station)
                }
            }
        }
        ScreenId::Trace if app.trace.prompt.is_some() => Outcome::changed().status(Status::warn(
            "scan: finish the prompt first (Enter), or cancel it (Esc)",
        )),
        ScreenId::Receive if is_case_label(&scan) && !is_ours(&scan, station) => {
            // A supplier's case label is for the Receive form, even from the menu.
            app.menu = false;
            app.receive.update(ReceiveAction::Scan(scan), station)
        }
        _ => open_trace(&scan, station),
    }
}

/// `text` typed where the cursor is, then Enter.
fn typed(app: &mut App, text: String, station: &dyn Station) -> Outcome {
    let mut out = app.form(FormAction::Paste(text), station);
    let next = app.form(FormAction::Confirm, station);
    out.changed |= next.changed;
    out.events.extend(next.events);
    out
}

/// A GS1 label with a GTIN: a trade item's case, not a lot label of ours alone.
fn is_case_label(scan: &Scan) -> bool {
    scan.gtin().is_some()
}

fn is_ours(scan: &Scan, station: &dyn Station) -> bool {
    scanned_text(scan)
        .and_then(|t| LotCode::parse(t, "lot").ok())
        .is_some_and(|c| matches!(station.find_lot(c), Ok(Some(_))))
}

/// Outside a field: our lot's trace; when a supplier lot became several of our lots, all
/// of them to pick from (the used-up or shipped one matters most in a recall).
fn open_trace(scan: &Scan, station: &dyn Station) -> Outcome {
    let items = station.items().unwrap_or_default();
    match scanned_lots(scan, &items, "scan", station) {
        Ok(mut lots) if lots.len() == 1 => {
            let lot = lots.pop().expect("one lot");
            Outcome::changed().with(InternalEvent::OpenTrace(lot.code))
        }
        Ok(lots) if lots.is_empty() => Outcome::error(&not_our_lot(scan, "scan")),
        Ok(lots) => Outcome::changed().with(InternalEvent::PickTrace {
            supplier_lot: scanned_text(scan).unwrap_or_default().to_string(),
            item: scan
                .gtin()
                .and_then(|g| item_by_gtin(&items, g))
                .map(|i| i.code.clone()),
            lots,
        }),
        Err(e) => Outcome::error(&e),
    }
}

/// The Lots screen: our lot opens; a supplier lot that several of our lots carry lists
/// them all; anything else is searched for.
fn lots(app: &mut App, scan: &Scan, station: &dyn Station) -> Outcome {
    if app.lots.prompt.is_some() {
        return Outcome::changed().status(Status::warn(
            "scan: finish the reason first (Enter), or cancel it (Esc)",
        ));
    }
    let items = match station.items() {
        Ok(i) => i,
        Err(e) => return Outcome::error(&e),
    };
    match scanned_lots(scan, &items, "search", station) {
        Ok(mut lots) if lots.len() == 1 => {
            let lot = lots.pop().expect("one lot");
            app.lots.update(LotsAction::Show(lot.code), station)
        }
        Ok(lots) if lots.len() > 1 => {
            let text = scanned_text(scan).unwrap_or_default().to_string();
            app.lots.update(LotsAction::Find(text), station)
        }
        Err(e) if scanned_text(scan).is_some() => Outcome::error(&e),
        _ => {
            // No lot of ours: search for what the label does carry.
            let q = scanned_text(scan)
                .map(str::to_string)
                .or_else(|| {
                    scan.gtin()
                        .and_then(|g| item_by_gtin(&items, g))
                        .map(|i| i.code.to_string())
                })
                .or_else(|| scan.gtin().map(str::to_string));
            match q {
                Some(q) => app.lots.update(LotsAction::Find(q), station),
                None => Outcome::error(&not_our_lot(scan, "search")),
            }
        }
    }
}

/// What the scan test shows: like `lotline barcode`, and what the scan means here.
pub fn report(text: &str, parsed: &Result<Scan, ScanError>, station: &dyn Station) -> Vec<String> {
    let mut out = vec![format!("{:<11}{}", "read", visible(text))];
    let scan = match parsed {
        Ok(s) => s,
        Err(e) => {
            out.push(format!("{:<11}{e}", "error"));
            return out;
        }
    };
    out.push(format!(
        "{:<11}{}",
        "symbology",
        scan.symbology()
            .map(|s| format!("{} {}", s.aim_id(), s.name()))
            .unwrap_or_else(|| "none (no AIM identifier)".into())
    ));
    match scan {
        Scan::Gs1 { elements, .. } => {
            for e in elements {
                let extra = match (&e.date, &e.decimal) {
                    (Some(d), _) => format!(" = {d}"),
                    (None, Some(d)) => format!(" = {d}"),
                    _ => String::new(),
                };
                out.push(format!(
                    "{:<7}{:<24}{}{extra}",
                    format!("({})", e.ai),
                    lotline_domain::scan::ai_title(&e.ai),
                    e.value
                ));
            }
            if let Some(g) = scan.gtin() {
                let items = station.items().unwrap_or_default();
                out.push(match item_by_gtin(&items, g) {
                    Some(i) => format!("GTIN is item {}, {}", i.code, i.description.name),
                    None => format!("GTIN {g} is not on any item"),
                });
            }
        }
        Scan::Plain { text, .. } => out.push(format!("{:<11}{text:?}", "plain text")),
    }
    if let Some(t) = scanned_text(scan) {
        let items = station.items().unwrap_or_default();
        out.push(match scanned_lots(scan, &items, "lot", station) {
            Ok(lots) => match lots.as_slice() {
                [] => format!("{t} is not one of our lots, nor a supplier lot we received"),
                [l] => {
                    let ours = format!(
                        "our lot {}: {}, {} {} on hand, {}",
                        l.code, l.item, l.balance, l.unit, l.status
                    );
                    if LotCode::parse(t, "lot").is_ok_and(|c| c == l.code) {
                        ours
                    } else {
                        format!("supplier lot {t} is {ours}")
                    }
                }
                many => format!(
                    "supplier lot {t} is our lots {}",
                    many.iter()
                        .map(|l| format!("{} ({} {}, {})", l.code, l.balance, l.unit, l.status))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
            Err(e) => e.message,
        });
    }
    out
}
