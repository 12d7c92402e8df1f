//! What a user asks to record, as typed values. The station carries these to the store;
//! lots are named by their printed codes here because that is what people type and scan.

use super::{
    Contact, Gln, ItemCode, ItemKind, Location, LotCode, LotStatus, PartyId, ProductDescription,
    Qty, Quality, Reference, Role, SupplierLot, Unit,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewItem {
    pub code: ItemCode,
    pub description: ProductDescription,
    pub unit: Unit,
    pub kind: ItemKind,
    pub gtin: Option<super::Gtin>,
    pub shelf_life_days: Option<u32>,
    pub ftl: bool,
    pub receiving_temp: super::TempRange,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewParty {
    pub id: PartyId,
    pub role: Role,
    pub location: Location,
    pub gln: Option<Gln>,
    pub recall_contact: Contact,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReceipt {
    pub item: ItemCode,
    pub supplier: PartyId,
    pub supplier_lot: SupplierLot,
    pub qty: Qty,
    /// Unit the quantity was counted in; `None` means the item's own unit.
    pub unit: Option<Unit>,
    pub date: NaiveDate,
    pub expiry: Option<NaiveDate>,
    pub reference: Option<Reference>,
    /// A second reference document, and why there is none when there is none.
    pub documents: super::Documents,
    pub quality: Quality,
    /// Where the supplier's lot code was assigned when not at the supplier (the packer
    /// behind a distributor): a GLN, FDA registration number or web address.
    pub tlc_source_ref: Option<String>,
}

/// One lot named by code and the quantity taken from it, in the lot's unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotLine {
    pub lot: LotCode,
    pub qty: Qty,
}

impl LotLine {
    /// Parse `LOT=QTY` as typed on the command line.
    pub fn parse(text: &str, field: &str) -> Result<LotLine, super::Invalid> {
        let Some((lot, qty)) = text.split_once('=') else {
            return Err(super::Invalid::new(
                field,
                format!(
                    "{} should be LOT=QTY, such as R26320-004=12.5",
                    crate::text::excerpt(text)
                ),
            ));
        };
        Ok(LotLine {
            lot: LotCode::parse(lot, field)?,
            qty: Qty::parse_positive(qty, field)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewBatch {
    pub item: ItemCode,
    pub qty: Qty,
    pub unit: Option<Unit>,
    pub date: NaiveDate,
    pub line: Option<String>,
    pub reference: Option<Reference>,
    /// A second reference document, and why there is none when there is none.
    pub documents: super::Documents,
    /// Overrides the expiry computed from the item's shelf life.
    pub expiry: Option<NaiveDate>,
    pub inputs: Vec<LotLine>,
    /// Use inputs past their expiry: refused otherwise. The override is recorded.
    pub allow_expired: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewShipment {
    pub customer: PartyId,
    pub date: NaiveDate,
    pub reference: Option<Reference>,
    /// A second reference document, and why there is none when there is none.
    pub documents: super::Documents,
    pub lines: Vec<LotLine>,
    /// Ship lots past their expiry: refused otherwise. The override is recorded.
    pub allow_expired: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    pub lot: LotCode,
    /// Signed change to the balance, in the lot's unit.
    pub delta: Qty,
    pub date: NaiveDate,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub lot: LotCode,
    pub to: LotStatus,
    pub date: NaiveDate,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoidEvent {
    pub event: u64,
    pub date: NaiveDate,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lot_lines() {
        let l = LotLine::parse("r26320-004=12.5", "input").unwrap();
        assert_eq!(l.lot.as_str(), "R26320-004");
        assert_eq!(l.qty.to_string(), "12.5");
        assert!(
            LotLine::parse("R26320-004", "input")
                .unwrap_err()
                .problem
                .contains("LOT=QTY")
        );
        assert!(
            LotLine::parse("R26320-004=0", "input")
                .unwrap_err()
                .problem
                .contains("greater than zero")
        );
        assert!(LotLine::parse("=4", "input").is_err());
    }
}

/// Hold many lots at once: the stock in a recall scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldAll {
    pub lots: Vec<LotCode>,
    pub date: NaiveDate,
    pub reason: String,
}

/// Product coming back from a customer against one of its shipments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReturn {
    /// The shipment as the user names it: its event id, or its reference document
    /// (`BOL:4471`, or the number alone).
    pub shipment: String,
    /// The lot shipped, as on the label.
    pub lot: LotCode,
    pub qty: Qty,
    /// Must be the lot's unit when given: returns are not converted.
    pub unit: Option<Unit>,
    pub date: NaiveDate,
    pub reason: String,
    /// The customer's return document (RMA:…, CREDIT:…).
    pub reference: Option<Reference>,
}

/// Start a mock recall from one of our lots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartMockRecall {
    pub lot: LotCode,
    /// What the user typed or scanned, when it was a supplier's lot code.
    pub asked_as: String,
    pub note: String,
    pub date: NaiveDate,
}
