//! Lots: what we hold, where it came from, what is left, and whether it may be used.

use super::{Invalid, ItemCode, LotCode, PartyId, Qty, SupplierLot, Unit};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Compact integer id given to a lot at creation; link tables hold these, never codes,
/// because traces walk millions of links (docs/store.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LotId(pub u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LotStatus {
    Released,
    Hold,
    Recalled,
    /// The event that created the lot was voided: it never existed.
    Voided,
}

impl LotStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LotStatus::Released => "released",
            LotStatus::Hold => "hold",
            LotStatus::Recalled => "recalled",
            LotStatus::Voided => "voided",
        }
    }

    /// The status in a sentence: "is now on hold", not "is now hold" (`as_str` is the
    /// column and JSON value).
    pub fn words(self) -> &'static str {
        match self {
            LotStatus::Hold => "on hold",
            other => other.as_str(),
        }
    }
}

impl std::str::FromStr for LotStatus {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<LotStatus, Invalid> {
        match s.trim().to_ascii_lowercase().as_str() {
            "released" => Ok(LotStatus::Released),
            "hold" | "held" | "on-hold" => Ok(LotStatus::Hold),
            "recalled" => Ok(LotStatus::Recalled),
            "voided" => Ok(LotStatus::Voided),
            _ => Err(Invalid::new(
                "status",
                format!(
                    "{} is not a status; accepted: released, hold, recalled, voided",
                    crate::text::excerpt(s)
                ),
            )),
        }
    }
}

impl fmt::Display for LotStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    Received {
        supplier: PartyId,
        supplier_lot: SupplierLot,
    },
    Produced {
        line: Option<String>,
    },
    /// Came back from a customer against a shipment of lot `from` (see `CustomerReturn`).
    Returned {
        customer: PartyId,
        shipment: u64,
        from: LotId,
    },
    /// Known only by a partner's identifier: an imported document named it (used in a
    /// transformation, shipped) and this plant has no record of where it came from. Its
    /// `quantity` is what the documents named of it; a later document's receipt fills it
    /// in (docs/epcis.md).
    Partner {
        /// The identifier as the document wrote it (its `epcClass`).
        identifier: String,
        /// The document that first named it (its id or file name).
        source: String,
    },
}

impl Origin {
    pub fn as_str(&self) -> &'static str {
        match self {
            Origin::Received { .. } => "received",
            Origin::Produced { .. } => "produced",
            Origin::Returned { .. } => "returned",
            Origin::Partner { .. } => "partner",
        }
    }

    /// How a trace or history line says where a lot known only by a partner's identifier
    /// came from: "known only from {document}"; `None` for every other lot.
    pub fn partner_note(&self) -> Option<String> {
        match self {
            Origin::Partner { source, .. } => Some(format!("known only from {source}")),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lot {
    pub id: LotId,
    pub code: LotCode,
    pub item: ItemCode,
    pub origin: Origin,
    /// The receipt or batch event that created this lot.
    pub event: u64,
    /// Received or produced quantity, in `unit`.
    pub quantity: Qty,
    pub unit: Unit,
    /// Date received or produced.
    #[serde(with = "super::isodate")]
    pub date: NaiveDate,
    #[serde(with = "super::isodate::opt")]
    pub expiry: Option<NaiveDate>,
    pub status: LotStatus,
    /// What is on hand: quantity − used − shipped ± adjustments. Kept up to date by every
    /// event in the same transaction; `lotline check` recomputes it from the events.
    pub balance: Qty,
}

impl Lot {
    /// May `qty` of this lot be used in a batch or shipped? `field` names the line.
    pub fn check_use(&self, qty: Qty, field: &str) -> Result<(), Invalid> {
        match self.status {
            LotStatus::Released => {}
            LotStatus::Hold => {
                return Err(Invalid::new(
                    field,
                    format!(
                        "lot {} is on hold; QA must release it before it is used or shipped",
                        self.code
                    ),
                ));
            }
            LotStatus::Recalled => {
                return Err(Invalid::new(
                    field,
                    format!(
                        "lot {} is recalled and may not be used or shipped",
                        self.code
                    ),
                ));
            }
            LotStatus::Voided => {
                return Err(Invalid::new(
                    field,
                    format!("lot {} was voided; it does not exist", self.code),
                ));
            }
        }
        if !qty.is_positive() {
            return Err(Invalid::new(
                field,
                format!("quantity must be greater than zero (got {qty})"),
            ));
        }
        if qty > self.balance {
            return Err(Invalid::new(
                field,
                format!(
                    "{qty} {} is more than lot {} has on hand ({} {})",
                    self.unit, self.code, self.balance, self.unit
                ),
            ));
        }
        Ok(())
    }

    /// An event about this lot cannot be dated before the lot existed: FSMA date-range
    /// answers would show product leaving before it arrived.
    pub fn check_date(&self, date: NaiveDate, field: &str) -> Result<(), Invalid> {
        if date < self.date {
            let how = match self.origin {
                Origin::Received { .. } => "received",
                Origin::Produced { .. } => "made",
                Origin::Returned { .. } => "returned",
                Origin::Partner { .. } => "first named by a partner's document",
            };
            return Err(Invalid::new(
                field,
                format!(
                    "{date} is before lot {} was {how} ({}); date the event on or after that",
                    self.code, self.date
                ),
            ));
        }
        Ok(())
    }

    pub fn is_expired(&self, on: NaiveDate) -> bool {
        self.expiry.is_some_and(|e| e < on)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lot(balance: &str, status: LotStatus) -> Lot {
        Lot {
            id: LotId(1),
            code: LotCode::parse("R26300-001", "lot").unwrap(),
            item: ItemCode::parse("FLOUR", "item").unwrap(),
            origin: Origin::Produced { line: None },
            event: 1,
            quantity: "100".parse().unwrap(),
            unit: Unit::Kg,
            date: NaiveDate::from_ymd_opt(2026, 10, 27).unwrap(),
            expiry: NaiveDate::from_ymd_opt(2026, 11, 30),
            status,
            balance: balance.parse().unwrap(),
        }
    }

    #[test]
    fn use_within_balance_of_a_released_lot() {
        let l = lot("40", LotStatus::Released);
        assert!(l.check_use("40".parse().unwrap(), "input").is_ok());
        let e = l.check_use("40.001".parse().unwrap(), "input").unwrap_err();
        assert_eq!(
            e.to_string(),
            "input: 40.001 kg is more than lot R26300-001 has on hand (40 kg)"
        );
        assert!(l.check_use(Qty::ZERO, "input").is_err());
    }

    #[test]
    fn held_recalled_and_voided_lots_cannot_be_used() {
        for (s, word) in [
            (LotStatus::Hold, "on hold"),
            (LotStatus::Recalled, "recalled"),
            (LotStatus::Voided, "voided"),
        ] {
            let e = lot("40", s)
                .check_use("1".parse().unwrap(), "lot")
                .unwrap_err();
            assert!(e.problem.contains(word), "{e}");
        }
    }

    #[test]
    fn expiry() {
        let l = lot("1", LotStatus::Released);
        assert!(!l.is_expired(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()));
        assert!(l.is_expired(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()));
    }
}
