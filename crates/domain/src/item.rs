//! The product master: what an item is, as FSMA's product description needs it.

use super::{Gtin, Invalid, ItemCode, Stamp, Unit};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// FSMA 204 product description: name, brand, commodity, variety, pack size, pack style.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductDescription {
    pub name: String,
    pub brand: String,
    pub commodity: String,
    pub variety: String,
    pub pack_size: String,
    pub pack_style: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ItemKind {
    Ingredient,
    Packaging,
    Intermediate,
    Finished,
}

impl ItemKind {
    pub const ALL: [ItemKind; 4] = [
        ItemKind::Ingredient,
        ItemKind::Packaging,
        ItemKind::Intermediate,
        ItemKind::Finished,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Ingredient => "ingredient",
            ItemKind::Packaging => "packaging",
            ItemKind::Intermediate => "intermediate",
            ItemKind::Finished => "finished",
        }
    }
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for ItemKind {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        ItemKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                Invalid::new(
                    "kind",
                    format!("{} is not an item kind; accepted: ingredient, packaging, intermediate, finished", crate::text::excerpt(s)),
                )
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub code: ItemCode,
    pub description: ProductDescription,
    /// The unit every lot of this item is kept in.
    pub unit: Unit,
    pub kind: ItemKind,
    pub gtin: Option<Gtin>,
    pub shelf_life_days: Option<u32>,
    /// On FDA's Food Traceability List: FSMA 204 KDEs are required for its lots.
    pub ftl: bool,
    pub created: Stamp,
    /// Product temperature accepted at receiving; a reading outside it holds the new lot.
    pub receiving_temp: TempRange,
    /// Set when the item may no longer be received, made or shipped; its lots and history
    /// stay as they are.
    pub retired: Option<Retired>,
}

/// Why and by whom a record was retired from use in new receipts, batches and shipments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retired {
    pub stamp: Stamp,
    pub reason: String,
}

/// The product temperatures accepted at the dock, °C in tenths like [`super::Quality`];
/// either end may be open (frozen goods have only a maximum).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TempRange {
    pub min_dc: Option<i32>,
    pub max_dc: Option<i32>,
}

impl TempRange {
    pub fn is_open(&self) -> bool {
        self.min_dc.is_none() && self.max_dc.is_none()
    }

    pub fn validate(&self) -> Result<(), Invalid> {
        if let (Some(lo), Some(hi)) = (self.min_dc, self.max_dc)
            && lo > hi
        {
            return Err(Invalid::new(
                "temp-min",
                format!(
                    "{} °C is above the maximum {} °C; give the lowest accepted temperature",
                    super::format_temperature(lo),
                    super::format_temperature(hi)
                ),
            ));
        }
        Ok(())
    }

    /// Why a reading of `dc` is outside the range, or `None` when it is accepted.
    pub fn outside(&self, dc: i32) -> Option<String> {
        let t = super::format_temperature;
        match (self.min_dc, self.max_dc) {
            (_, Some(hi)) if dc > hi => Some(format!(
                "temperature {} °C is above the item's maximum {} °C",
                t(dc),
                t(hi)
            )),
            (Some(lo), _) if dc < lo => Some(format!(
                "temperature {} °C is below the item's minimum {} °C",
                t(dc),
                t(lo)
            )),
            _ => None,
        }
    }
}

impl fmt::Display for TempRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = super::format_temperature;
        match (self.min_dc, self.max_dc) {
            (None, None) => f.write_str("any"),
            (Some(lo), None) => write!(f, "at least {} °C", t(lo)),
            (None, Some(hi)) => write!(f, "at most {} °C", t(hi)),
            (Some(lo), Some(hi)) => write!(f, "{} to {} °C", t(lo), t(hi)),
        }
    }
}

impl Item {
    /// Check what a user entered for a new item.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.description.name.trim().is_empty() {
            return Err(Invalid::new(
                "name",
                "is required; give the product name, such as 'All-purpose flour'",
            ));
        }
        if let Some(days) = self.shelf_life_days
            && (days == 0 || days > 3650)
        {
            return Err(Invalid::new(
                "shelf-life",
                format!("{days} days is not a shelf life; use 1 to 3650 days"),
            ));
        }
        self.receiving_temp.validate()
    }
}

/// One field that differs between two versions of a master record: name, old, new.
pub type FieldChange = (&'static str, String, String);

fn opt<T: fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map(|v| v.to_string()).unwrap_or_default()
}

impl Item {
    /// Every field that differs from `before`, for a change's history line.
    pub fn changes_from(&self, before: &Item) -> Vec<FieldChange> {
        let fields = |i: &Item| -> Vec<(&'static str, String)> {
            let d = &i.description;
            vec![
                ("name", d.name.clone()),
                ("brand", d.brand.clone()),
                ("commodity", d.commodity.clone()),
                ("variety", d.variety.clone()),
                ("pack size", d.pack_size.clone()),
                ("pack style", d.pack_style.clone()),
                ("unit", i.unit.to_string()),
                ("kind", i.kind.to_string()),
                ("GTIN", opt(&i.gtin)),
                ("shelf life days", opt(&i.shelf_life_days)),
                ("FTL", if i.ftl { "yes" } else { "no" }.into()),
                ("receiving temp", i.receiving_temp.to_string()),
                (
                    "retired",
                    i.retired
                        .as_ref()
                        .map(|r| format!("retired: {}", r.reason))
                        .unwrap_or_default(),
                ),
            ]
        };
        diff(fields(before), fields(self))
    }
}

pub(super) fn diff(
    before: Vec<(&'static str, String)>,
    after: Vec<(&'static str, String)>,
) -> Vec<FieldChange> {
    before
        .into_iter()
        .zip(after)
        .filter(|(b, a)| b.1 != a.1)
        .map(|(b, a)| (b.0, b.1, a.1))
        .collect()
}

/// "name 'Eggs' → 'Shell eggs'; brand '' → 'Sunny'": a change in one line.
pub fn describe_changes(changes: &[FieldChange]) -> String {
    if changes.is_empty() {
        return "no field changed".into();
    }
    changes
        .iter()
        .map(|(f, old, new)| format!("{f} '{old}' -> '{new}'"))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_ranges() {
        let r = TempRange {
            min_dc: Some(-10),
            max_dc: Some(50),
        };
        assert_eq!(r.outside(50), None);
        assert_eq!(r.outside(-10), None);
        assert_eq!(
            r.outside(51).unwrap(),
            "temperature 5.1 °C is above the item's maximum 5.0 °C"
        );
        assert!(
            r.outside(-11)
                .unwrap()
                .contains("below the item's minimum -1.0")
        );
        assert_eq!(r.to_string(), "-1.0 to 5.0 °C");
        assert_eq!(TempRange::default().outside(900), None);
        assert_eq!(TempRange::default().to_string(), "any");
        let upside_down = TempRange {
            min_dc: Some(60),
            max_dc: Some(50),
        };
        assert_eq!(upside_down.validate().unwrap_err().field, "temp-min");
    }
}
