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
                    format!("{} is not an item kind; accepted: ingredient, packaging, intermediate, finished", crate::domain::text::excerpt(s)),
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
        Ok(())
    }
}
