//! Master data as people type it, for every front end: an item, a party or the plant's
//! identity from text fields named as the command line's flags are (so an error names
//! the field to correct), and a new plant's setup — identity, QA users, first items and
//! parties — written through the station, one transaction per record.
//!
//! `lotline init` (prompts or flags), the app's guided start and its Items/Parties screen
//! all read text through here, so the same input is accepted or refused the same way; a
//! recipe version too (`recipe`: `lotline recipe add|edit` and the Items screen's recipe
//! editor).

use super::{Station, StationError, StationExt};
use lotline_domain::*;

pub mod recipe;

/// Longest free-text field, as `item add` and `party add` take it.
const TEXT_MAX: usize = 100;

fn opt_text(v: &str, field: &str) -> Result<String, Invalid> {
    clean_text(v, field, TEXT_MAX)
}

/// Shelf life in days, or none when empty.
pub fn shelf_life(t: &str) -> Result<Option<u32>, Invalid> {
    let t = t.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let days = t.parse::<u32>().map_err(|_| {
        Invalid::new(
            "shelf-life",
            format!(
                "{} is not a number of days; use 1 to 3650",
                lotline_domain::text::excerpt(t)
            ),
        )
    })?;
    if days == 0 || days > 3650 {
        return Err(Invalid::new(
            "shelf-life",
            format!("{days} days is not a shelf life; use 1 to 3650 days"),
        ));
    }
    Ok(Some(days))
}

/// yes / no (empty: no).
pub fn yes_no(t: &str, field: &str) -> Result<bool, Invalid> {
    match t.trim().to_ascii_lowercase().as_str() {
        "" | "no" | "n" | "false" => Ok(false),
        "yes" | "y" | "true" => Ok(true),
        _ => Err(Invalid::new(
            field,
            format!(
                "{} is not yes or no",
                lotline_domain::text::excerpt(t.trim())
            ),
        )),
    }
}

fn opt_parse<T>(
    t: &str,
    parse: impl FnOnce(&str) -> Result<T, Invalid>,
) -> Result<Option<T>, Invalid> {
    match t.trim() {
        "" => Ok(None),
        t => parse(t).map(Some),
    }
}

/// An item from text fields by name: `code`, `name`, `unit`, `kind` (empty: ingredient),
/// `brand`, `commodity`, `variety`, `pack-size`, `pack-style`, `gtin`, `shelf-life`, `ftl`
/// (yes/no), `temp-min`, `temp-max`. Empty optional fields are left unset.
pub fn item_from(f: impl Fn(&str) -> String) -> Result<NewItem, Invalid> {
    item_checked(f).map_err(|r| r.first)
}

/// As [`item_from`], with every problem found: in the order the item form shows its
/// fields (code, name, unit, kind, the description, then the rest).
pub fn item_checked(f: impl Fn(&str) -> String) -> Result<NewItem, Refused<Invalid>> {
    let mut p = Problems::new();
    let code = p.take(ItemCode::parse(f("code").trim(), "code"));
    let name = p.take(required_text(&f("name"), "name", TEXT_MAX));
    let unit = p.take({
        let u = f("unit");
        if u.trim().is_empty() {
            Err(Invalid::new(
                "unit",
                "is required; accepted: kg, g, lb, oz, l, ml, gal, ea, case, dozen",
            ))
        } else {
            u.trim()
                .parse::<Unit>()
                .map_err(|e: String| Invalid::new("unit", e))
        }
    });
    let kind = p.take({
        let kind = f("kind");
        if kind.trim().is_empty() {
            Ok(ItemKind::Ingredient)
        } else {
            kind.parse()
        }
    });
    let mut text = |name: &str| p.take(opt_text(&f(name), name));
    let (brand, commodity, variety, pack_size, pack_style) = (
        text("brand"),
        text("commodity"),
        text("variety"),
        text("pack-size"),
        text("pack-style"),
    );
    let gtin = p.take(opt_parse(&f("gtin"), |g| Gtin::parse(g, "gtin")));
    let shelf_life_days = p.take(shelf_life(&f("shelf-life")));
    let ftl = p.take(yes_no(&f("ftl"), "ftl"));
    let min_dc = p.take(opt_parse(&f("temp-min"), |t| {
        parse_temperature(t, "temp-min")
    }));
    let max_dc = p.take(opt_parse(&f("temp-max"), |t| {
        parse_temperature(t, "temp-max")
    }));
    let receiving_temp = p.take(match (min_dc, max_dc) {
        (Some(min_dc), Some(max_dc)) => {
            let r = TempRange { min_dc, max_dc };
            r.validate().map(|()| Some(r))
        }
        _ => Ok(None),
    });
    p.finish(|| {
        Some(NewItem {
            code: code?,
            description: ProductDescription {
                name: name?,
                brand: brand?,
                commodity: commodity?,
                variety: variety?,
                pack_size: pack_size?,
                pack_style: pack_style?,
            },
            unit: unit?,
            kind: kind?,
            gtin: gtin?,
            shelf_life_days: shelf_life_days?,
            ftl: ftl?,
            receiving_temp: receiving_temp??,
        })
    })
}

/// The text fields of an item, by the names [`item_from`] reads: what an edit form
/// starts with.
pub fn item_fields(i: &Item) -> Vec<(&'static str, String)> {
    let d = &i.description;
    let temp = |dc: Option<i32>| dc.map(format_temperature).unwrap_or_default();
    vec![
        ("code", i.code.to_string()),
        ("name", d.name.clone()),
        ("unit", i.unit.to_string()),
        ("kind", i.kind.to_string()),
        ("brand", d.brand.clone()),
        ("commodity", d.commodity.clone()),
        ("variety", d.variety.clone()),
        ("pack-size", d.pack_size.clone()),
        ("pack-style", d.pack_style.clone()),
        (
            "gtin",
            i.gtin.as_ref().map(|g| g.to_string()).unwrap_or_default(),
        ),
        (
            "shelf-life",
            i.shelf_life_days.map(|d| d.to_string()).unwrap_or_default(),
        ),
        ("ftl", if i.ftl { "yes" } else { "no" }.into()),
        ("temp-min", temp(i.receiving_temp.min_dc)),
        ("temp-max", temp(i.receiving_temp.max_dc)),
    ]
}

/// The location's fields but its name, in the order forms show them; a party form
/// shows its role between the name and these.
struct Address {
    phone: Option<String>,
    street: Option<String>,
    city: Option<String>,
    state: Option<String>,
    zip: Option<String>,
    country: Option<String>,
}

impl Address {
    fn read(f: &impl Fn(&str) -> String, p: &mut Problems<Invalid>) -> Address {
        let mut text = |name: &str| p.take(opt_text(&f(name), name));
        let a = Address {
            phone: text("phone"),
            street: text("street"),
            city: text("city"),
            state: text("state"),
            zip: text("zip"),
            country: text("country"),
        };
        // The ZIP or postal code by the country's rules, as the station checks it: said
        // at the field, not when the whole setup is written.
        if let (Some(zip), Some(country)) = (&a.zip, &a.country) {
            p.take(lotline_domain::check_postal_code(zip, country, "zip"));
        }
        a
    }

    fn location(self, name: Option<String>) -> Option<Location> {
        Some(Location {
            business_name: name?,
            phone: self.phone?,
            street: self.street?,
            city: self.city?,
            state: self.state?,
            zip: self.zip?,
            country: self.country?,
        })
    }
}

/// A party from text fields by name: `id`, `name`, `role`, `phone`, `street`, `city`,
/// `state`, `zip`, `country`, `gln`, `contact-name`, `contact-phone`, `contact-email`.
pub fn party_from(f: impl Fn(&str) -> String) -> Result<NewParty, Invalid> {
    party_checked(f).map_err(|r| r.first)
}

/// As [`party_from`], with every problem found, in the order the party form shows its
/// fields.
pub fn party_checked(f: impl Fn(&str) -> String) -> Result<NewParty, Refused<Invalid>> {
    let mut p = Problems::new();
    let id = p.take(PartyId::parse(f("id").trim(), "id"));
    let name = p.take(required_text(&f("name"), "name", TEXT_MAX));
    let role = p.take({
        let role = f("role");
        if role.trim().is_empty() {
            Err(Invalid::new(
                "role",
                "is required; accepted: supplier, customer, both",
            ))
        } else {
            role.parse::<Role>()
        }
    });
    let address = Address::read(&f, &mut p);
    let gln = p.take(opt_parse(&f("gln"), |g| Gln::parse(g, "gln")));
    let mut text = |name: &str| p.take(opt_text(&f(name), name));
    let (contact_name, contact_phone, contact_email) = (
        text("contact-name"),
        text("contact-phone"),
        text("contact-email"),
    );
    if let Some(email) = &contact_email {
        p.take(lotline_domain::check_email(email, "contact-email"));
    }
    p.finish(|| {
        Some(NewParty {
            id: id?,
            role: role?,
            location: address.location(name)?,
            gln: gln?,
            recall_contact: Contact {
                name: contact_name?,
                phone: contact_phone?,
                email: contact_email?,
            },
        })
    })
}

/// The text fields of a party, by the names [`party_from`] reads.
pub fn party_fields(p: &Party) -> Vec<(&'static str, String)> {
    let l = &p.location;
    let c = &p.recall_contact;
    vec![
        ("id", p.id.to_string()),
        ("name", l.business_name.clone()),
        ("role", p.role.to_string()),
        ("phone", l.phone.clone()),
        ("street", l.street.clone()),
        ("city", l.city.clone()),
        ("state", l.state.clone()),
        ("zip", l.zip.clone()),
        ("country", l.country.clone()),
        (
            "gln",
            p.gln.as_ref().map(|g| g.to_string()).unwrap_or_default(),
        ),
        ("contact-name", c.name.clone()),
        ("contact-phone", c.phone.clone()),
        ("contact-email", c.email.clone()),
    ]
}

/// QA users as typed: names separated by commas or spaces.
pub fn qa_users(t: &str) -> Result<Vec<String>, Invalid> {
    let users: Vec<String> = t
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let p = Plant {
        qa_users: users.clone(),
        ..Plant::default()
    };
    p.validate()?;
    Ok(users)
}

/// The plant's identity from text fields by name: `name`, `phone`, `street`, `city`,
/// `state`, `zip`, `country`, `gln`, `qa-users`, `label-size` (empty: 4x2-203); the lot-code
/// patterns stay the defaults.
pub fn plant_from(f: impl Fn(&str) -> String) -> Result<Plant, Invalid> {
    plant_checked(f).map_err(|r| r.first)
}

/// As [`plant_from`], with every problem found, in the order the plant form shows its
/// fields (the QA users last: they are a step of their own in the guided start).
pub fn plant_checked(f: impl Fn(&str) -> String) -> Result<Plant, Refused<Invalid>> {
    let mut p = Problems::new();
    let name = p.take(required_text(&f("name"), "name", TEXT_MAX));
    let address = Address::read(&f, &mut p);
    let gln = p.take(opt_parse(&f("gln"), |g| Gln::parse(g, "gln")));
    let qa_users = p.take(qa_users(&f("qa-users")));
    let label_size = p.take(opt_parse(&f("label-size"), |s| {
        lotline_domain::LabelSize::parse(s, "label-size")
    }));
    let plant = p.finish(|| {
        Some(Plant {
            location: address.location(name)?,
            gln: gln?,
            qa_users: qa_users?,
            label_size: label_size?.unwrap_or_default(),
            ..Plant::default()
        })
    })?;
    plant.validate()?;
    Ok(plant)
}

/// A new plant as set up by `lotline init` or the app's guided start: nothing is written
/// until it is complete and confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlantSetup {
    pub plant: Plant,
    pub items: Vec<NewItem>,
    pub parties: Vec<NewParty>,
}

impl PlantSetup {
    /// Refuse a second item or party with the same code before anything is written.
    pub fn check_new_item(&self, i: &NewItem) -> Result<(), Invalid> {
        self.check_item_code(&i.code)
    }

    /// A code no item of this setup has yet.
    pub fn check_item_code(&self, code: &ItemCode) -> Result<(), Invalid> {
        if self.items.iter().any(|x| &x.code == code) {
            return Err(Invalid::new(
                "code",
                format!("item {code} is already in this setup; give another code"),
            ));
        }
        Ok(())
    }

    pub fn check_new_party(&self, p: &NewParty) -> Result<(), Invalid> {
        self.check_party_id(&p.id)
    }

    /// An id no party of this setup has yet.
    pub fn check_party_id(&self, id: &PartyId) -> Result<(), Invalid> {
        if self.parties.iter().any(|x| &x.id == id) {
            return Err(Invalid::new(
                "id",
                format!("party {id} is already in this setup; give another id"),
            ));
        }
        Ok(())
    }

    /// What will be written, one line each, for the confirmation.
    pub fn summary(&self) -> Vec<String> {
        let p = &self.plant;
        let mut v = vec![format!("plant      {}", p.location.one_line())];
        if !p.location.phone.is_empty() {
            v.push(format!("phone      {}", p.location.phone));
        }
        if let Some(g) = &p.gln {
            v.push(format!("GLN        {g}"));
        }
        v.push(format!(
            "labels     {} ({})",
            p.label_size.as_str(),
            p.label_size
        ));
        v.push(format!(
            "QA users   {}",
            if p.qa_users.is_empty() {
                "none named: everyone may do everything".to_string()
            } else {
                p.qa_users.join(", ")
            }
        ));
        for i in &self.items {
            v.push(format!(
                "item       {} {} ({}, {})",
                i.code, i.description.name, i.unit, i.kind
            ));
        }
        for x in &self.parties {
            v.push(format!(
                "party      {} {} ({})",
                x.id, x.location.business_name, x.role
            ));
        }
        v
    }
}

/// A setup stopped part way: what was saved before the error, and the error.
#[derive(Debug)]
pub struct SetupStopped {
    pub saved: Vec<String>,
    pub error: StationError,
}

impl std::fmt::Display for SetupStopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.saved.is_empty() {
            write!(f, "{}; nothing was saved", self.error)
        } else {
            write!(
                f,
                "{}; saved before it: {} (add the rest with `lotline item add`, `lotline party add`, `lotline plant set`)",
                self.error,
                self.saved.join(", ")
            )
        }
    }
}

/// Whether the plant behind `st` is new: no items, parties or lots, and the identity
/// never set. Only such a plant is offered a setup.
pub fn is_blank(st: &dyn Station) -> Result<bool, StationError> {
    let s = st.stats()?;
    Ok(s.items == 0
        && s.parties == 0
        && s.lots == 0
        && s.events == 0
        && st.plant()? == Plant::default())
}

/// Write `setup`: each item, each party, then the plant's identity and QA users, each in
/// its own transaction. The identity goes last so that naming the QA users (who are the
/// admins when no roles file is used) cannot lock out the person setting up before the
/// first items and parties are in.
pub fn apply(st: &dyn Station, setup: &PlantSetup) -> Result<Vec<String>, SetupStopped> {
    let mut saved = Vec::new();
    let stop = |saved: &Vec<String>, error: StationError| SetupStopped {
        saved: saved.clone(),
        error,
    };
    for i in &setup.items {
        st.add_item(i.clone()).map_err(|e| stop(&saved, e))?;
        saved.push(format!("item {}", i.code));
    }
    for p in &setup.parties {
        st.add_party(p.clone()).map_err(|e| stop(&saved, e))?;
        saved.push(format!("party {}", p.id));
    }
    st.set_plant(setup.plant.clone())
        .map_err(|e| stop(&saved, e))?;
    saved.push(format!("plant {}", setup.plant.location.business_name));
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn fields(pairs: &[(&str, &str)]) -> impl Fn(&str) -> String {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| m.get(k).cloned().unwrap_or_default()
    }

    #[test]
    fn every_problem_is_found_in_the_order_the_forms_show_the_fields() {
        let names = |r: Refused<Invalid>| -> Vec<String> {
            r.into_vec().into_iter().map(|e| e.field).collect()
        };
        let long = "x".repeat(101);
        let item = item_checked(fields(&[
            ("code", "FLOUR"),
            ("brand", &long),
            ("unit", "furlong"),
            ("gtin", "12"),
            ("temp-min", "5"),
            ("temp-max", "2"),
        ]))
        .unwrap_err();
        assert_eq!(names(item), ["name", "unit", "brand", "gtin", "temp-min"]);
        let party = party_checked(fields(&[
            ("id", "MILL"),
            ("name", "Mill"),
            ("phone", &long),
            ("role", "friend"),
            ("gln", "12"),
        ]))
        .unwrap_err();
        assert_eq!(names(party), ["role", "phone", "gln"]);
        let plant = plant_checked(fields(&[("city", &long), ("qa-users", "a\u{7}b")]));
        assert_eq!(names(plant.unwrap_err()), ["name", "city", "qa-users"]);
        // The command line names the first found.
        let e = party_from(fields(&[("id", "MILL"), ("name", "x"), ("phone", &long)])).unwrap_err();
        assert_eq!(e.field, "role");
    }

    #[test]
    fn items_from_text_name_the_field_in_error() {
        let i = item_from(fields(&[
            ("code", "FLOUR"),
            ("name", "Flour"),
            ("unit", "kg"),
            ("temp-max", "5"),
            ("ftl", "yes"),
        ]))
        .unwrap();
        assert_eq!(i.kind, ItemKind::Ingredient);
        assert!(i.ftl);
        assert_eq!(i.receiving_temp.max_dc, Some(50));
        for (pairs, field) in [
            (vec![("code", "F L"), ("name", "x"), ("unit", "kg")], "code"),
            (vec![("code", "F"), ("unit", "kg")], "name"),
            (vec![("code", "F"), ("name", "x")], "unit"),
            (
                vec![("code", "F"), ("name", "x"), ("unit", "parsec")],
                "unit",
            ),
            (
                vec![
                    ("code", "F"),
                    ("name", "x"),
                    ("unit", "kg"),
                    ("kind", "toy"),
                ],
                "kind",
            ),
            (
                vec![
                    ("code", "F"),
                    ("name", "x"),
                    ("unit", "kg"),
                    ("gtin", "123"),
                ],
                "gtin",
            ),
            (
                vec![
                    ("code", "F"),
                    ("name", "x"),
                    ("unit", "kg"),
                    ("shelf-life", "0"),
                ],
                "shelf-life",
            ),
            (
                vec![
                    ("code", "F"),
                    ("name", "x"),
                    ("unit", "kg"),
                    ("temp-min", "9"),
                    ("temp-max", "2"),
                ],
                "temp-min",
            ),
        ] {
            let e = item_from(fields(&pairs)).unwrap_err();
            assert_eq!(e.field, field, "{pairs:?}: {e:?}");
        }
    }

    #[test]
    fn an_item_round_trips_through_its_fields() {
        let i = item_from(fields(&[
            ("code", "EGGS"),
            ("name", "Shell eggs"),
            ("unit", "dozen"),
            ("kind", "ingredient"),
            ("gtin", "00614141000012"),
            ("shelf-life", "28"),
            ("temp-min", "-1.5"),
            ("temp-max", "7"),
        ]))
        .unwrap();
        let item = Item {
            code: i.code.clone(),
            description: i.description.clone(),
            unit: i.unit,
            kind: i.kind,
            gtin: i.gtin.clone(),
            shelf_life_days: i.shelf_life_days,
            ftl: i.ftl,
            created: Stamp {
                operator: "a".into(),
                station: "b".into(),
                at: chrono::DateTime::UNIX_EPOCH,
            },
            receiving_temp: i.receiving_temp,
            retired: None,
        };
        let back: HashMap<&str, String> = item_fields(&item).into_iter().collect();
        let again = item_from(|k: &str| back.get(k).cloned().unwrap_or_default()).unwrap();
        assert_eq!(again, i);
    }

    #[test]
    fn parties_and_plants_from_text() {
        let p = party_from(fields(&[
            ("id", "MILL"),
            ("name", "Prairie Mill"),
            ("role", "supplier"),
            ("contact-phone", "555-0100"),
        ]))
        .unwrap();
        assert_eq!(p.recall_contact.phone, "555-0100");
        let e = party_from(fields(&[("id", "MILL"), ("name", "x")])).unwrap_err();
        assert_eq!(e.field, "role");
        let e =
            party_from(fields(&[("id", "MILL"), ("name", "x"), ("role", "friend")])).unwrap_err();
        assert_eq!(e.field, "role");
        let plant = plant_from(fields(&[("name", "Bakery"), ("qa-users", "ann, bob")])).unwrap();
        assert_eq!(plant.qa_users, vec!["ann", "bob"]);
        assert_eq!(
            plant_from(fields(&[("qa-users", "ann")]))
                .unwrap_err()
                .field,
            "name"
        );
        assert_eq!(
            plant_from(fields(&[("name", "B"), ("gln", "12")]))
                .unwrap_err()
                .field,
            "gln"
        );
        assert_eq!(
            plant_from(fields(&[("name", "B"), ("qa-users", "a\u{7}b")]))
                .unwrap_err()
                .field,
            "qa-users"
        );
        // The label size: the default when left empty, else one lotline lays out.
        assert_eq!(plant.label_size, lotline_domain::LabelSize::In4x2Dpi203);
        let plant = plant_from(fields(&[("name", "B"), ("label-size", "4x6@300")])).unwrap();
        assert_eq!(plant.label_size, lotline_domain::LabelSize::In4x6Dpi300);
        let e = plant_from(fields(&[("name", "B"), ("label-size", "A4")])).unwrap_err();
        assert_eq!(e.field, "label-size");
        assert!(e.problem.contains("4x2-203, 4x2-300"), "{e:?}");
    }
}
