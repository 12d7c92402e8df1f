//! `lotline receive`: a supplier's case becomes one of our lots, its fields given as flags
//! or read from the case label a scanner typed (`--scan`).
//!
//! A scan is read as the app's Receive form reads it (`station::case_label`): the item by
//! the GTIN, the supplier by the (412) GLN, the supplier lot, the expiry, the quantity and
//! the TLC source from the label, and the label's other elements kept with the receipt
//! (`Command::ReceiveScanned`). Flags the label also answers must agree with it: a label is
//! a record of the case, so `--item FLOUR` against a GTIN of EGGS is refused naming both
//! rather than one of them being believed. The quantity is the exception, as in the app:
//! the clerk counts what arrived (a short or damaged case), so `--qty` replaces the label's.

use super::args::{Cli, ReceiptText, ReceiveArgs};
use super::{Failure, Res};
use chrono::NaiveDate;
use lotline_domain::scan::{Scan, ScanError};
use lotline_domain::text::excerpt;
use lotline_domain::{
    Item, ItemCode, LabelElement, PartyId, ScannedReceipt, SupplierLot, Unit, describe_label,
    parse_date, parse_tlc_source_ref,
};
use lotline_station::case_label::{self, CaseLabel};
use lotline_station::{Station, StationExt};
use std::io::Write;
use std::path::Path;

pub fn receive(cli: &Cli, out: &mut impl Write, db: &Path, r: &ReceiveArgs) -> Res {
    if r.scan.is_none() && r.scanner.given() {
        return Err(Failure::invalid(
            if r.scanner.separator.is_some() {
                "separator"
            } else {
                "prefix"
            },
            "--separator and --prefix say how the scanner sent a scan; give them with --scan, or leave them out",
        ));
    }
    let cfg = r.scanner.config()?;
    let st = super::open(cli, db, cli.create)?;
    // A wrong printer is found before anything is stored.
    let printer = r.label.then(|| r.printer.printer()).transpose()?;
    let today = st.today()?;
    let (text, scanned) = match &r.scan {
        None => (r.typed(), None),
        Some(raw) => {
            // The station's date decides a two-digit year's century, as it decides the
            // receipt's dates.
            let scan = lotline_domain::scan::parse_at(raw, &cfg, today).map_err(bad_scan)?;
            let (text, scanned) = from_scan(r, &scan, st.as_ref(), today)?;
            (text, Some(scanned))
        }
    };
    let receipt = r.to_new(&text, today)?;
    let created = match &scanned {
        Some(s) if !s.kept.is_empty() => st.receive_scanned(ScannedReceipt {
            receipt,
            label: s.kept.clone(),
        }),
        _ => st.receive(receipt),
    }
    .map_err(super::command_line_words)?;
    writeln!(out, "{}", created.code)?;
    if let Some(s) = &scanned {
        // What the label gave, beside the lot code scripts read from stdout: the app's
        // Receive form says the same on its status line.
        eprintln!("{}", s.summary());
    }
    super::say_held(&created);
    super::print_new_label(&st, printer, &created.code, "received")
}

/// What the scan put into the receipt, for the person or the log.
struct Scanned {
    filled: Vec<String>,
    kept: Vec<LabelElement>,
}

impl Scanned {
    fn summary(&self) -> String {
        let mut s = format!("Scanned {}", self.filled.join(", "));
        if !self.kept.is_empty() {
            s.push_str(&format!(
                "; kept with the receipt: {}",
                describe_label(&self.kept)
            ));
        }
        s
    }
}

fn bad_scan(e: ScanError) -> Failure {
    Failure::invalid(
        "scan",
        format!(
            "{e}; nothing was received. Scan the case label again (`lotline barcode TEXT` shows what was read)"
        ),
    )
}

/// The receipt's fields from the label and the flags: what the label says, checked
/// against what the flags say; what it does not say, from the flags.
fn from_scan(
    r: &ReceiveArgs,
    scan: &Scan,
    st: &dyn Station,
    today: NaiveDate,
) -> Res<(ReceiptText, Scanned)> {
    if let Scan::Plain { text, .. } = scan {
        return Err(Failure::invalid(
            "scan",
            format!(
                "{} reads as plain text, not a GS1 case label; give the scan as the scanner typed it (with its ]C1 or ]d2, and GS for FNC1), or give the fields as flags without --scan",
                excerpt(text)
            ),
        ));
    }
    let items = st.items()?;
    let parties = st.parties()?;
    let label = CaseLabel::read(scan, &items, &parties);
    if label.is_empty() {
        return Err(Failure::invalid(
            "scan",
            case_label::nothing_for_a_receipt(scan),
        ));
    }
    let mut filled = Vec::new();
    let item = scanned_item(r, &label)?;
    if label.item.is_some() {
        filled.push(format!("item {item}"));
    }
    let supplier = scanned_supplier(r, &label, &parties)?;
    if label.supplier.is_some() {
        filled.push(format!("supplier {supplier}"));
    }
    let supplier_lot = match (&label.supplier_lot, &r.supplier_lot) {
        (Some(l), typed) => {
            if let Some(t) = typed {
                let (said, read) = (
                    SupplierLot::parse(t, "supplier-lot")?,
                    SupplierLot::parse(l, "supplier-lot")?,
                );
                if said != read {
                    return Err(Failure::invalid(
                        "supplier-lot",
                        format!(
                            "--supplier-lot {said} is not the lot on the label, (10) {read}; leave --supplier-lot out to take the label's, or scan this lot's case label"
                        ),
                    ));
                }
            }
            filled.push(format!("supplier lot {l}"));
            l.clone()
        }
        (None, Some(t)) => t.clone(),
        (None, None) => {
            return Err(Failure::invalid(
                "supplier-lot",
                "the label has no lot (10); give --supplier-lot as printed on the case",
            ));
        }
    };
    let expiry = match (label.expiry, &r.expiry) {
        (Some(d), typed) => {
            if let Some(t) = typed {
                let said = parse_date(t, "expiry", today)?;
                if said != d {
                    return Err(Failure::invalid(
                        "expiry",
                        format!(
                            "--expiry {said} is not the label's, {d} ({}); leave --expiry out to take the label's",
                            if scan.get("17").is_some() {
                                "(17) expiry"
                            } else {
                                "(15) best before"
                            }
                        ),
                    ));
                }
            }
            filled.push(format!("expiry {d}"));
            Some(d.to_string())
        }
        (None, typed) => typed.clone(),
    };
    let tlc_source_ref = match (label.tlc_source(), &r.tlc_source_ref) {
        (Some(source), typed) => {
            if let Some(t) = typed {
                let said = parse_tlc_source_ref(t, "tlc-source-ref")?;
                if said != parse_tlc_source_ref(&source, "tlc-source-ref")? {
                    return Err(Failure::invalid(
                        "tlc-source-ref",
                        format!(
                            "--tlc-source-ref {} is not the label's, (416) {source}; leave --tlc-source-ref out to take the label's",
                            excerpt(t)
                        ),
                    ));
                }
            }
            filled.push(format!("TLC source {source}"));
            Some(source)
        }
        (None, typed) => typed.clone(),
    };
    let (qty, unit) = match &r.qty {
        // Counted at the dock: the typed quantity stands, in --unit or the item's unit.
        Some(q) => (q.clone(), r.unit.clone()),
        None => {
            let it = items.iter().find(|i| i.code == item);
            let (q, u) = scanned_quantity(r, scan, it)?;
            filled.push(match u.or(it.map(|i| i.unit)) {
                Some(u) => format!("quantity {q} {u}"),
                None => format!("quantity {q}"),
            });
            (q, u.map(|u| u.as_str().to_string()))
        }
    };
    let text = ReceiptText {
        item: item.to_string(),
        supplier: supplier.to_string(),
        supplier_lot,
        qty,
        unit,
        expiry,
        tlc_source_ref,
    };
    Ok((
        text,
        Scanned {
            filled,
            kept: label.kept,
        },
    ))
}

/// The item by the label's GTIN; `--item` must name the same one. Without a GTIN on the
/// label, `--item` says it.
fn scanned_item(r: &ReceiveArgs, label: &CaseLabel) -> Res<ItemCode> {
    let typed = r
        .item
        .as_deref()
        .map(|i| ItemCode::parse(i, "item"))
        .transpose()?;
    match (&label.gtin, &label.item, typed) {
        (Some(g), Some(code), Some(t)) if t != *code => Err(Failure::invalid(
            "item",
            format!(
                "--item {t} is not the item on the label: its GTIN {g} is item {code}; leave --item out to take the label's, or scan {t}'s case label"
            ),
        )),
        (Some(_), Some(code), _) => Ok(code.clone()),
        (Some(g), None, typed) => Err(Failure::invalid(
            "item",
            match typed {
                Some(t) => format!(
                    "the scanned GTIN {g} is not on any item; if this case is {t}, give it the GTIN with `lotline item edit {t} --gtin {g}` (a new item: `lotline item add CODE ... --gtin {g}`), then receive the scan again"
                ),
                None => format!(
                    "the scanned GTIN {g} is not on any item; give the item its GTIN with `lotline item edit CODE --gtin {g}` (`lotline item list` shows the codes; a new item: `lotline item add CODE ... --gtin {g}`), then receive the scan again"
                ),
            },
        )),
        (None, _, Some(t)) => Ok(t),
        (None, _, None) => Err(Failure::invalid(
            "item",
            "the label has no GTIN (01) or (02) to find the item by; give --item",
        )),
    }
}

/// The supplier by the label's (412) GLN; `--supplier` must name the same one. Otherwise
/// `--supplier` says it, as the clerk picks it in the app.
fn scanned_supplier(
    r: &ReceiveArgs,
    label: &CaseLabel,
    parties: &[lotline_domain::Party],
) -> Res<PartyId> {
    let typed = r
        .supplier
        .as_deref()
        .map(|s| PartyId::parse(s, "supplier"))
        .transpose()?;
    let Some(g) = &label.supplier_gln else {
        return typed.ok_or_else(|| {
            Failure::invalid(
                "supplier",
                "the label does not name the supplier ((412) GLN); give --supplier",
            )
        });
    };
    let theirs = label
        .gln_suppliers
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>();
    match typed {
        // Typed and one of the suppliers with the label's GLN: that one.
        Some(t) if label.gln_suppliers.contains(&t) => Ok(t),
        Some(t) if !theirs.is_empty() => Err(Failure::invalid(
            "supplier",
            format!(
                "--supplier {t} is not the supplier on the label: its (412) GLN {g} is supplier {}; leave --supplier out to take the label's",
                theirs.join(" or ")
            ),
        )),
        // No supplier of ours has the GLN: the one typed, unless it has a GLN of its own
        // that is not the label's.
        Some(t) => match parties
            .iter()
            .find(|p| p.id == t)
            .and_then(|p| p.gln.as_ref())
        {
            Some(own) if own.as_str() != g => Err(Failure::invalid(
                "supplier",
                format!(
                    "--supplier {t} has GLN {own}, not the label's (412) GLN {g}; check the case, or correct the supplier's GLN with `lotline party edit {t} --gln …`"
                ),
            )),
            _ => Ok(t),
        },
        None => match label.supplier.clone() {
            Some(id) => Ok(id),
            None if theirs.len() > 1 => Err(Failure::invalid(
                "supplier",
                format!(
                    "the label's (412) GLN {g} is that of suppliers {}; give --supplier to say which",
                    theirs.join(" and ")
                ),
            )),
            None => Err(Failure::invalid(
                "supplier",
                format!(
                    "the label's (412) GLN {g} is no supplier of ours; give --supplier (and the supplier its GLN with `lotline party edit ID --gln {g}`, for the next scan)"
                ),
            )),
        },
    }
}

/// The label's quantity for the item, as text the receipt parses, and its unit when not
/// the item's own. `--unit` alone must agree with it.
fn scanned_quantity(
    r: &ReceiveArgs,
    scan: &Scan,
    item: Option<&Item>,
) -> Res<(String, Option<Unit>)> {
    let (q, u) = match case_label::quantity(scan, item) {
        Ok(Some(found)) => found,
        Ok(None) => {
            return Err(Failure::invalid(
                "qty",
                "the label has no quantity ((37) count or (310n)/(320n) net weight); give --qty",
            ));
        }
        Err(e) => {
            return Err(Failure::invalid(
                e.field,
                format!("{}; give the quantity with --qty (and --unit)", e.problem),
            ));
        }
    };
    if let Some(typed) = &r.unit {
        let said: Unit = typed
            .parse()
            .map_err(|e: String| Failure::invalid("unit", e))?;
        // The label's unit: the one it gave, else the item's own.
        if let Some(read) = u.or(item.map(|i| i.unit))
            && said != read
        {
            return Err(Failure::invalid(
                "unit",
                format!(
                    "--unit {said} is not the label's: it says {q} {read}; give --qty with --unit for a quantity counted in {said}, or leave --unit out"
                ),
            ));
        }
        return Ok((q.to_string(), u.or(Some(said))));
    }
    Ok((q.to_string(), u))
}
