//! `lotline label`: our lot label to a printer or to stdout, or shown as text first
//! (`--preview`). A label is what puts a case
//! back into circulation, so a recalled or voided lot's label is printed only when someone
//! says so: at a terminal by answering the question, in a script with `--force`.

use super::args::LabelArgs;
use super::{Failure, Res, label_zpl};
use lotline_domain::{LotCode, LotStatus};
use lotline_station::{Station, StationExt};
use std::io::{BufRead, IsTerminal, Write};

pub fn label(st: &dyn Station, out: &mut impl Write, l: &LabelArgs) -> Res {
    let code = LotCode::parse(&l.lot, "lot")?;
    let lot = st.lot(code.clone())?;
    if l.preview {
        // A look, not a label: nothing is printed, so nothing to confirm; the status is
        // said all the same.
        out.write_all(
            lotline_export::label::lot_layout(st, &code)?
                .preview()
                .as_bytes(),
        )?;
        if matches!(lot.status, LotStatus::Recalled | LotStatus::Voided) {
            writeln!(
                out,
                "Note: lot {code} is {}; printing its label asks first (a script gives --force)",
                lot.status
            )?;
        }
        return Ok(());
    }
    if matches!(lot.status, LotStatus::Recalled | LotStatus::Voided) && !l.force {
        let status = lot.status.as_str().to_uppercase();
        let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        if !terminal {
            return Err(Failure::invalid(
                "force",
                format!(
                    "lot {code} is {}; a label would put it back in circulation. Give --force to print it anyway",
                    lot.status
                ),
            ));
        }
        eprint!("Lot {code} is {status}. Print its label anyway? [y/N] ");
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            return Err(Failure::invalid(
                "force",
                format!("no label printed for {} lot {code}", lot.status),
            ));
        }
    }
    let zpl = label_zpl(st, &code)?.repeat(usize::from(l.copies));
    if l.zpl {
        out.write_all(zpl.as_bytes())?;
        return Ok(());
    }
    let printer = l.printer.printer()?;
    printer
        .send(&zpl)
        .map_err(|m| Failure::data(format!("printer: {m}")))
}
