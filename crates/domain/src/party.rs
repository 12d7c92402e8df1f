//! Suppliers and customers with the FSMA location description.

use super::{Gln, Invalid, PartyId, Stamp};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Supplier,
    Customer,
    Both,
}

impl Role {
    pub fn supplies(self) -> bool {
        matches!(self, Role::Supplier | Role::Both)
    }
    pub fn buys(self) -> bool {
        matches!(self, Role::Customer | Role::Both)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Supplier => "supplier",
            Role::Customer => "customer",
            Role::Both => "both",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Role, Invalid> {
        match s.trim().to_ascii_lowercase().as_str() {
            "supplier" => Ok(Role::Supplier),
            "customer" => Ok(Role::Customer),
            "both" => Ok(Role::Both),
            _ => Err(Invalid::new(
                "role",
                format!(
                    "{} is not a role; accepted: supplier, customer, both",
                    crate::text::excerpt(s)
                ),
            )),
        }
    }
}

/// FSMA location description: business name, phone, street address, city, state, ZIP, country.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub business_name: String,
    pub phone: String,
    pub street: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub country: String,
}

impl Location {
    /// One line for lists and exports: "Mill Co, 12 Grain Rd, Salina, KS 67401, US".
    pub fn one_line(&self) -> String {
        let city_line = [
            self.city.as_str(),
            format!("{} {}", self.state, self.zip).trim(),
        ]
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
        [
            self.business_name.as_str(),
            &self.street,
            &city_line,
            &self.country,
        ]
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// Who to call at this party when a recall touches them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub phone: String,
    pub email: String,
}

impl Contact {
    pub fn is_empty(&self) -> bool {
        self.name.is_empty() && self.phone.is_empty() && self.email.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub id: PartyId,
    pub role: Role,
    pub location: Location,
    pub gln: Option<Gln>,
    pub recall_contact: Contact,
    pub created: Stamp,
    /// Set when the party may no longer be named on new receipts or shipments; its
    /// history and traces keep it.
    pub retired: Option<super::Retired>,
}

impl Party {
    /// Every field that differs from `before`, for a change's history line.
    pub fn changes_from(&self, before: &Party) -> Vec<super::FieldChange> {
        let fields = |p: &Party| -> Vec<(&'static str, String)> {
            let l = &p.location;
            let c = &p.recall_contact;
            vec![
                ("role", p.role.to_string()),
                ("name", l.business_name.clone()),
                ("phone", l.phone.clone()),
                ("street", l.street.clone()),
                ("city", l.city.clone()),
                ("state", l.state.clone()),
                ("zip", l.zip.clone()),
                ("country", l.country.clone()),
                (
                    "GLN",
                    p.gln.as_ref().map(|g| g.to_string()).unwrap_or_default(),
                ),
                ("contact name", c.name.clone()),
                ("contact phone", c.phone.clone()),
                ("contact email", c.email.clone()),
                (
                    "retired",
                    p.retired
                        .as_ref()
                        .map(|r| format!("retired: {}", r.reason))
                        .unwrap_or_default(),
                ),
            ]
        };
        super::item::diff(fields(before), fields(self))
    }

    pub fn validate(&self) -> Result<(), Invalid> {
        if self.location.business_name.trim().is_empty() {
            return Err(Invalid::new(
                "name",
                "is required; give the business name, such as 'Mill Co'",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_skips_empty_parts() {
        let l = Location {
            business_name: "Mill Co".into(),
            street: "12 Grain Rd".into(),
            city: "Salina".into(),
            state: "KS".into(),
            zip: "67401".into(),
            country: "US".into(),
            ..Default::default()
        };
        assert_eq!(l.one_line(), "Mill Co, 12 Grain Rd, Salina, KS 67401, US");
        let bare = Location {
            business_name: "Bare".into(),
            ..Default::default()
        };
        assert_eq!(bare.one_line(), "Bare");
    }

    #[test]
    fn roles() {
        assert!("Both".parse::<Role>().unwrap().supplies());
        assert!(!Role::Customer.supplies());
        assert!(
            "vendor"
                .parse::<Role>()
                .unwrap_err()
                .problem
                .contains("accepted")
        );
    }
}
