//! What a supplier's GS1 case label gives a receipt: one reading for the app's Receive form
//! and `lotline receive --scan`, so a case scanned at the dock and a scan passed by a
//! script make the same receipt. Pure: a parsed scan read against the plant's items and
//! parties, with no station call, so each front end decides only how to show the result.
//!
//! The label fills the item (by the GTIN (01), else (02)), the supplier (by the (412)
//! "purchased from" GLN, when a supplier of ours has it), the TLC source (the (416)
//! production-location GLN), the supplier lot (10), the expiry (17, else best-before 15)
//! and the quantity ((37), or a net weight (310n) in kg or (320n) in lb); every other
//! element is kept with the receipt (`scan::fills_receipt`, `Scan::kept`).

use chrono::NaiveDate;
use lotline_domain::scan::Scan;
use lotline_domain::{Dimension, Invalid, Item, ItemCode, LabelElement, Party, PartyId, Qty, Unit};

/// The receipt's fields a case label gives, as read against the plant's items and parties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseLabel {
    /// The trade item's GTIN: (01), else the contained items' (02).
    pub gtin: Option<String>,
    /// The item with that GTIN; `None` when the label has no GTIN or no item has it.
    pub item: Option<ItemCode>,
    /// (412) "purchased from": the GLN of the party the case was bought from.
    pub supplier_gln: Option<String>,
    /// The supplier of ours with that GLN, when exactly one active supplier has it.
    pub supplier: Option<PartyId>,
    /// Every active supplier of ours with that GLN (several when a GLN was given to more
    /// than one party): a supplier typed beside the scan must be one of them.
    pub gln_suppliers: Vec<PartyId>,
    /// (416): the GLN of the production location, where the lot code was assigned.
    pub source_gln: Option<String>,
    /// (10): the supplier's lot code.
    pub supplier_lot: Option<String>,
    /// (17) expiry, else (15) best before.
    pub expiry: Option<NaiveDate>,
    /// Whether the label carries a quantity: a count (37) or a net weight (310n, 320n);
    /// what it is in the item's terms is [`quantity`]'s to say.
    pub has_qty: bool,
    /// The elements no field takes, to keep with the receipt.
    pub kept: Vec<LabelElement>,
}

impl CaseLabel {
    pub fn read(scan: &Scan, items: &[Item], parties: &[Party]) -> CaseLabel {
        let gtin = scan.gtin().map(str::to_string);
        let item = gtin
            .as_deref()
            .and_then(|g| crate::lookup::item_by_gtin(items, g))
            .map(|i| i.code.clone());
        let supplier_gln = scan.get("412").map(|e| e.value.clone());
        // Every active supplier with the label's GLN: GLNs are not unique among parties
        // (a supplier retired and added again under a new id keeps its GLN).
        let gln_suppliers: Vec<PartyId> = supplier_gln
            .as_deref()
            .map(|gln| {
                parties
                    .iter()
                    .filter(|p| {
                        p.role.supplies()
                            && p.retired.is_none()
                            && p.gln.as_ref().is_some_and(|g| g.as_str() == gln)
                    })
                    .map(|p| p.id.clone())
                    .collect()
            })
            .unwrap_or_default();
        // The label names one supplier only when one has that GLN.
        let supplier = match gln_suppliers.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        };
        CaseLabel {
            gtin,
            item,
            supplier_gln,
            supplier,
            gln_suppliers,
            // (416) is where the lot code was assigned: the FSMA TLC source. (412) names
            // the immediate supplier instead, which is the receipt's supplier, not this.
            source_gln: scan.get("416").map(|e| e.value.clone()),
            supplier_lot: scan.lot().map(str::to_string),
            expiry: scan.expiry(),
            has_qty: scan.count().is_some() || scan.net_weight().is_some(),
            kept: scan.kept(),
        }
    }

    /// The TLC source as the receipt's field takes it (`parse_tlc_source_ref`).
    pub fn tlc_source(&self) -> Option<String> {
        self.source_gln.as_ref().map(|g| format!("GLN {g}"))
    }

    /// Whether nothing on the label is for a receipt (neither a field nor an element to
    /// keep): the scan was of something else.
    pub fn is_empty(&self) -> bool {
        self.gtin.is_none()
            && self.kept.is_empty()
            && self.supplier_lot.is_none()
            && self.expiry.is_none()
            && !self.has_qty
            && self.supplier_gln.is_none()
            && self.source_gln.is_none()
    }
}

/// Why a scan with nothing for a receipt was not taken, and what to scan instead.
pub fn nothing_for_a_receipt(scan: &Scan) -> String {
    let ais: Vec<String> = scan
        .elements()
        .iter()
        .map(|e| format!("({})", e.ai))
        .collect();
    format!(
        "nothing on this label for a receipt (only {}); scan the case label with (01) GTIN and (10) lot",
        ais.join(" ")
    )
}

/// The label's quantity for a receipt of `item`: the number, and the unit it is in when
/// that is not the item's own (a weight in lb for an item kept in kg, which the receipt
/// converts). `item` is `None` when it is not known yet: the label's quantity is taken as
/// it is, and saving checks it. `Ok(None)`: the label has no quantity. Errors (field
/// `qty`) say what does not fit; each front end adds how to give the quantity instead.
pub fn quantity(scan: &Scan, item: Option<&Item>) -> Result<Option<(Qty, Option<Unit>)>, Invalid> {
    let invalid = |problem: String| Invalid::new("qty", problem);
    let count = scan.count();
    let weight = match scan.net_weight() {
        Some((w, u)) => {
            let unit: Unit = u.parse().map_err(invalid)?;
            let q = decimal_qty(&w).ok_or_else(|| {
                invalid(format!("the scanned net weight {w} {u} is not a quantity"))
            })?;
            Some((q, unit, w))
        }
        None => None,
    };
    // (37) is a count of trade items: at most 8 digits, never past i64.
    let count_qty = |n: u64| {
        i64::try_from(n)
            .map(Qty::from_units)
            .map_err(|_| invalid(format!("the scanned count (37) {n} is too large")))
    };
    match item {
        Some(i) if i.unit.dimension() == Dimension::Count => match (count, weight) {
            (Some(n), _) => Ok(Some((count_qty(n)?, None))),
            (None, Some((_, u, w))) => Err(invalid(format!(
                "item {} is kept in {}; the scanned net weight {w} {u} cannot be converted to it",
                i.code, i.unit
            ))),
            (None, None) => Ok(None),
        },
        Some(i) => match (weight, count) {
            (Some((q, u, w)), _) => {
                u.convert(q, i.unit).map_err(|why| {
                    invalid(format!(
                        "item {} is kept in {}; the scanned net weight {w} {u} cannot be converted to it ({why})",
                        i.code, i.unit
                    ))
                })?;
                Ok(Some((q, (u != i.unit).then_some(u))))
            }
            (None, Some(n)) => Err(invalid(format!(
                "item {} is kept in {}; the scanned count (37) {n} is not a quantity in {}",
                i.code, i.unit, i.unit
            ))),
            (None, None) => Ok(None),
        },
        None => match (weight, count) {
            (Some((q, u, _)), _) => Ok(Some((q, Some(u)))),
            (None, Some(n)) => Ok(Some((count_qty(n)?, None))),
            (None, None) => Ok(None),
        },
    }
}

/// A scanned decimal (a GS1 net weight: up to 6 decimals) as a quantity, rounded to the
/// thousandth.
pub fn decimal_qty(text: &str) -> Option<Qty> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !(whole.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut f = frac.to_string();
    let up = f.len() > 3 && f.as_bytes()[3] >= b'5';
    f.truncate(3);
    while f.len() < 3 {
        f.push('0');
    }
    let milli = whole
        .parse::<i64>()
        .ok()?
        .checked_mul(1000)?
        .checked_add(f.parse::<i64>().ok()?)?
        .checked_add(up as i64)?;
    Some(Qty(milli))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lotline_domain::scan::{ScanConfig, parse_at};

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn scan(text: &str) -> Scan {
        parse_at(text, &ScanConfig::default(), day("2026-11-01")).unwrap()
    }

    fn item(code: &str, unit: Unit, gtin: Option<&str>) -> Item {
        Item {
            code: ItemCode::parse(code, "code").unwrap(),
            description: Default::default(),
            unit,
            kind: lotline_domain::ItemKind::Ingredient,
            gtin: gtin.map(|g| lotline_domain::Gtin::parse(g, "gtin").unwrap()),
            shelf_life_days: None,
            ftl: false,
            created: lotline_domain::Stamp {
                operator: "a".into(),
                station: "b".into(),
                at: chrono::DateTime::UNIX_EPOCH,
            },
            receiving_temp: Default::default(),
            retired: None,
        }
    }

    #[test]
    fn a_case_label_gives_each_field_and_keeps_the_rest() {
        let eggs = item("EGGS", Unit::Dozen, Some("00614141000036"));
        let label = CaseLabel::read(
            &scan(
                "]C10100614141000036\
                 10F-9\u{1d}17270105310200030041206141410000124160950110153007\
                 11261030400PO-7",
            ),
            std::slice::from_ref(&eggs),
            &[],
        );
        assert_eq!(label.gtin.as_deref(), Some("00614141000036"));
        assert_eq!(label.item.as_ref().map(|c| c.as_str()), Some("EGGS"));
        assert_eq!(label.supplier_lot.as_deref(), Some("F-9"));
        assert_eq!(label.expiry, Some(day("2027-01-05")));
        assert_eq!(label.supplier_gln.as_deref(), Some("0614141000012"));
        assert_eq!(label.supplier, None, "no supplier of ours has the GLN");
        assert_eq!(label.tlc_source().as_deref(), Some("GLN 0950110153007"));
        assert!(label.has_qty);
        let kept: Vec<&str> = label.kept.iter().map(|e| e.ai.as_str()).collect();
        assert_eq!(kept, ["11", "400"]);
        assert!(!label.is_empty());
    }

    #[test]
    fn a_quantity_is_taken_in_the_items_terms_or_refused_saying_why() {
        let oats = item("OATS", Unit::Kg, None);
        let cream = item("CREAM", Unit::L, None);
        let eggs = item("EGGS", Unit::Dozen, None);
        let kg = scan("]C101095011015300033102002500");
        let lb = scan("]C101095011015300033202005512");
        assert_eq!(
            quantity(&kg, Some(&oats)).unwrap(),
            Some((Qty::from_units(25), None))
        );
        assert_eq!(
            quantity(&lb, Some(&oats)).unwrap(),
            Some((Qty(55_120), Some(Unit::Lb))),
            "kept in lb: the receipt converts it"
        );
        assert_eq!(
            quantity(&kg, None).unwrap(),
            Some((Qty::from_units(25), Some(Unit::Kg))),
            "no item yet: as the label says"
        );
        let e = quantity(&kg, Some(&cream)).unwrap_err();
        assert_eq!(e.field, "qty");
        assert!(
            e.problem.starts_with(
                "item CREAM is kept in l; the scanned net weight 25.00 kg cannot be converted to it"
            ),
            "{e}"
        );
        let e = quantity(&kg, Some(&eggs)).unwrap_err();
        assert!(e.problem.contains("cannot be converted"), "{e}");
        let count = scan("]C102095011015300033740");
        assert_eq!(
            quantity(&count, Some(&eggs)).unwrap(),
            Some((Qty::from_units(40), None))
        );
        let e = quantity(&count, Some(&oats)).unwrap_err();
        assert_eq!(
            e.problem,
            "item OATS is kept in kg; the scanned count (37) 40 is not a quantity in kg"
        );
        let none = scan("]C1010950110153000310X");
        assert_eq!(quantity(&none, Some(&oats)).unwrap(), None);
    }

    #[test]
    fn a_scanned_decimal_is_rounded_to_the_thousandth() {
        assert_eq!(decimal_qty("12.3456"), Some(Qty(12_346)));
        assert_eq!(decimal_qty("0.0004"), Some(Qty(0)));
        assert_eq!(decimal_qty("25"), Some(Qty(25_000)));
        for bad in ["", ".5", "1.2.3", "x", "99999999999999999999"] {
            assert_eq!(decimal_qty(bad), None, "{bad}");
        }
    }
}
