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

/// Which postal code rules apply to a location's country: the United States' (also when
/// no country is given, as lotline's plants are FSMA's), Canada's, or none (any one line).
fn postal_rules(country: &str) -> Option<&'static str> {
    match country.trim().to_ascii_uppercase().as_str() {
        "" | "US" | "USA" | "U.S." | "U.S.A." | "UNITED STATES" | "UNITED STATES OF AMERICA" => {
            Some("US")
        }
        "CA" | "CAN" | "CANADA" => Some("CA"),
        _ => None,
    }
}

/// Check a ZIP or postal code against its country's shape: a US ZIP has 5 digits (or
/// ZIP+4, 97301-1234), a Canadian postal code is letter-digit-letter digit-letter-digit
/// (K1A 0B1). Blank is none given; other countries' codes are taken as written.
pub fn check_postal_code(zip: &str, country: &str, field: &str) -> Result<(), Invalid> {
    let z = zip.trim();
    if z.is_empty() {
        return Ok(());
    }
    let shown = crate::text::excerpt(z);
    match postal_rules(country) {
        Some("US") => {
            let (five, plus4) = match z.split_once('-') {
                Some((a, b)) => (a, Some(b)),
                None => (z, None),
            };
            let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
            if !digits(five) || !plus4.is_none_or(digits) {
                return Err(Invalid::new(
                    field,
                    format!(
                        "{shown} is not a US ZIP code: a ZIP code is digits only, 5 of them (or ZIP+4 such as 97301-1234); give the country if it is not in the US"
                    ),
                ));
            }
            if five.len() != 5 {
                return Err(Invalid::new(
                    field,
                    format!(
                        "{shown} is not a US ZIP code: a ZIP code has 5 digits, this has {}; give the country if it is not in the US",
                        five.len()
                    ),
                ));
            }
            if let Some(p) = plus4
                && p.len() != 4
            {
                return Err(Invalid::new(
                    field,
                    format!(
                        "{shown} is not a US ZIP+4 code: the part after the dash has 4 digits, this has {}",
                        p.len()
                    ),
                ));
            }
            Ok(())
        }
        Some(_) => {
            let compact: Vec<char> = z.chars().filter(|c| *c != ' ').collect();
            let shape_ok = compact.len() == 6
                && compact.iter().enumerate().all(|(i, c)| {
                    if i % 2 == 0 {
                        c.is_ascii_alphabetic()
                    } else {
                        c.is_ascii_digit()
                    }
                });
            if shape_ok {
                Ok(())
            } else {
                Err(Invalid::new(
                    field,
                    format!(
                        "{shown} is not a Canadian postal code: it is letter, digit, letter, digit, letter, digit, such as K1A 0B1"
                    ),
                ))
            }
        }
        None => Ok(()),
    }
}

/// Check an e-mail address's shape: one @ with a name before it and a domain with a dot
/// after it, no spaces. Blank is none given. (Whether it reaches anyone, only sending tells.)
pub fn check_email(email: &str, field: &str) -> Result<(), Invalid> {
    let e = email.trim();
    if e.is_empty() {
        return Ok(());
    }
    let shown = crate::text::excerpt(e);
    let fail = |why: &str| {
        Err(Invalid::new(
            field,
            format!("{shown} is not an e-mail address: {why}; give it as name@example.com"),
        ))
    };
    if e.chars().any(char::is_whitespace) {
        return fail("it has a space");
    }
    let Some((name, domain)) = e.split_once('@') else {
        return fail("it has no @");
    };
    if name.is_empty() {
        return fail("nothing comes before the @");
    }
    if domain.contains('@') {
        return fail("it has more than one @");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return fail("the part after the @ is not a domain such as example.com");
    }
    Ok(())
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
    fn postal_codes_by_country() {
        for ok in ["97301", "97301-1234", ""] {
            assert!(check_postal_code(ok, "US", "zip").is_ok(), "{ok}");
            assert!(check_postal_code(ok, "", "zip").is_ok(), "{ok}");
        }
        assert_eq!(
            check_postal_code("9730", "US", "zip").unwrap_err().problem,
            "'9730' is not a US ZIP code: a ZIP code has 5 digits, this has 4; give the country if it is not in the US"
        );
        assert!(check_postal_code("97301-12", "USA", "zip").is_err());
        assert!(check_postal_code("9730A", "", "zip").is_err());
        assert!(check_postal_code("K1A 0B1", "Canada", "zip").is_ok());
        assert!(
            check_postal_code("K1A 0B", "CA", "zip")
                .unwrap_err()
                .problem
                .contains("K1A 0B1")
        );
        // Another country's codes are its own business.
        assert!(check_postal_code("75008", "FR", "zip").is_ok());
        assert!(check_postal_code("SW1A 1AA", "GB", "zip").is_ok());
    }

    #[test]
    fn email_addresses() {
        assert!(check_email("pat@shop.example", "email").is_ok());
        assert!(check_email("", "email").is_ok());
        assert_eq!(
            check_email("FRESHMART", "email").unwrap_err().problem,
            "'FRESHMART' is not an e-mail address: it has no @; give it as name@example.com"
        );
        for bad in [
            "@shop.example",
            "pat@shop",
            "pat@@shop.example",
            "pat @x.com",
            "a@b.",
        ] {
            assert!(check_email(bad, "email").is_err(), "{bad}");
        }
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
