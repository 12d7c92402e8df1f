//! Our lot labels from the app: after a Receive save or a closed batch, the print-label key
//! (`C-p` in the default map) sends the new lot's label (ZPL, see `export::label`) to the
//! printer set in the config file (`[label] printer`) or in `LOTLINE_PRINTER`; on the
//! Lots screen it prints the selected lot's. The result, or why not, goes to the status
//! line. Sending waits for the printer (a TCP printer gets 5 seconds to answer).

use super::App;
use super::keymap::ScreenId;
use super::queue::{Outcome, Status};
use crate::domain::LotCode;
use crate::station::{Station, StationError, StationExt};

/// The lot the print-label key prints here, if any.
pub fn lot_to_print(app: &App) -> Option<LotCode> {
    match app.screen {
        ScreenId::Receive => app.receive.last.as_ref().map(|s| s.code.clone()),
        ScreenId::Produce => app.produce.last.as_ref().map(|(c, _)| c.clone()),
        ScreenId::Lots => app.lots.label_lot().map(|l| l.code.clone()),
        _ => None,
    }
}

/// Print the label of the lot `lot_to_print` names.
pub fn print(app: &mut App, station: &dyn Station) -> Outcome {
    let Some(code) = lot_to_print(app) else {
        let why = match app.screen {
            ScreenId::Receive => {
                "label: nothing received yet; the label is for the lot a save creates"
            }
            ScreenId::Produce => "label: no batch closed yet; the label is for the lot it makes",
            ScreenId::Lots => "label: find and select a lot first",
            _ => "label: labels print after a receipt or batch, or from the Lots list",
        };
        return Outcome::changed().status(Status::warn(why));
    };
    let Some(p) = &app.printer else {
        return Outcome::changed().status(Status::warn(format!(
            "label: no printer set for lot {code}; add [label] printer to config.toml or set LOTLINE_PRINTER"
        )));
    };
    let zpl = (|| -> Result<String, StationError> {
        let lot = station.lot(code.clone())?;
        let item = station.item(lot.item.clone())?;
        Ok(crate::export::label::zpl(&station.plant()?, &item, &lot))
    })();
    match zpl {
        Err(e) => Outcome::error(&e),
        Ok(z) => match p.printer.send(&z) {
            Ok(()) => Outcome::changed().status(Status::ok(format!(
                "Label for lot {code} sent to {}",
                p.text
            ))),
            Err(m) => Outcome::changed().status(Status::error(format!(
                "label: lot {code} did not print: {m}"
            ))),
        },
    }
}
