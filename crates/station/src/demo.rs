//! The demo plant: a cookie and bread bakery with two months of receipts, batches and
//! shipments, built through the station like any other front end. Deterministic for a
//! given "today" (dates are relative to it, so no event is ever in the future).

use crate::{StationError, StationExt};
use chrono::{Datelike, Days, NaiveDate};
use lotline_domain::*;
use lotline_domain::{Direction, LotFilter};

pub const DEMO_PLANT_NAME: &str = "Hearth & Harvest Bakery (demo)";
/// The plant's name while the demo is being built. The finished name is written by the
/// build's last transaction, so a build that was interrupted (killed, disk full) is
/// recognised as such and rebuilt, never taken as complete.
pub const DEMO_BUILDING_NAME: &str = "Hearth & Harvest Bakery (demo, being built)";
/// How many days of history the demo holds.
pub const DEMO_DAYS: u64 = 64;
/// The customer who calls about the cookies.
pub const COMPLAINT_CUSTOMER: &str = "CORNERMKT";
pub const COMPLAINT_ITEM: &str = "COOKIE-CC";

use lotline_store::plantgen::Rng;

struct ItemDef {
    code: &'static str,
    name: &'static str,
    unit: Unit,
    kind: ItemKind,
    supplier: &'static str,
    commodity: &'static str,
    pack: &'static str,
    shelf_days: u32,
    ftl: bool,
    gtin: &'static str,
    /// Scheduled receipt: every `every` days, `qty` units.
    every: u64,
    qty: i64,
}

macro_rules! item {
    ($code:literal, $name:literal, $unit:ident, $kind:ident, $sup:literal, $com:literal, $pack:literal, $shelf:literal, $ftl:literal, $gtin:literal, $every:literal, $qty:literal) => {
        ItemDef {
            code: $code,
            name: $name,
            unit: Unit::$unit,
            kind: ItemKind::$kind,
            supplier: $sup,
            commodity: $com,
            pack: $pack,
            shelf_days: $shelf,
            ftl: $ftl,
            gtin: $gtin,
            every: $every,
            qty: $qty,
        }
    };
}

#[rustfmt::skip]
const ITEMS: &[ItemDef] = &[
    item!("FLOUR-AP", "All-purpose flour", Kg, Ingredient, "MILLCO", "wheat flour", "25 kg bag", 240, false, "", 5, 2400),
    item!("FLOUR-WW", "Whole wheat flour", Kg, Ingredient, "MILLCO", "wheat flour", "25 kg bag", 180, false, "", 7, 700),
    item!("SUGAR", "Granulated sugar", Kg, Ingredient, "SWEETCO", "cane sugar", "25 kg bag", 720, false, "", 10, 500),
    item!("BROWN-SUGAR", "Light brown sugar", Kg, Ingredient, "SWEETCO", "cane sugar", "25 kg bag", 360, false, "", 10, 600),
    item!("BUTTER", "Unsalted butter", Kg, Ingredient, "VALLEYDAIRY", "butter", "25 kg block", 90, false, "", 4, 420),
    item!("MILK", "Whole milk", L, Ingredient, "VALLEYDAIRY", "milk", "20 l bag-in-box", 12, false, "", 2, 260),
    item!("EGGS", "Shell eggs, large", Dozen, Ingredient, "SUNNYRIDGE", "shell eggs", "30 dozen case", 30, true, "00614141000036", 4, 60),
    item!("EGGS-HT", "Shell eggs, large (Hilltop)", Dozen, Ingredient, "HILLTOP", "shell eggs", "30 dozen case", 30, true, "", 9, 60),
    item!("CREAM-CHEESE", "Cream cheese", Kg, Ingredient, "VALLEYDAIRY", "soft cheese", "10 kg tub", 45, true, "", 6, 140),
    item!("CHOC-CHIPS", "Semi-sweet chocolate chips", Kg, Ingredient, "COCOACO", "chocolate", "10 kg case", 365, false, "", 8, 480),
    item!("OATS", "Rolled oats", Kg, Ingredient, "GRAINCO", "oats", "20 kg bag", 300, false, "", 9, 500),
    item!("RAISINS", "Thompson raisins", Kg, Ingredient, "NUTHOUSE", "raisins", "12.5 kg case", 365, false, "", 12, 300),
    item!("WALNUTS", "Walnut pieces", Kg, Ingredient, "NUTHOUSE", "walnuts", "10 kg case", 180, false, "", 20, 100),
    item!("HONEY", "Clover honey", Kg, Ingredient, "NUTHOUSE", "honey", "20 kg pail", 720, false, "", 14, 160),
    item!("SALT", "Fine sea salt", Kg, Ingredient, "PANTRY", "salt", "25 kg bag", 1800, false, "", 20, 120),
    item!("BAKING-SODA", "Baking soda", Kg, Ingredient, "PANTRY", "sodium bicarbonate", "25 kg bag", 720, false, "", 30, 60),
    item!("YEAST", "Instant dry yeast", Kg, Ingredient, "PANTRY", "yeast", "10 kg case", 365, false, "", 10, 60),
    item!("VANILLA", "Pure vanilla extract", L, Ingredient, "PANTRY", "vanilla", "4 l jug", 720, false, "", 20, 20),
    item!("BOX-COOKIE", "Cookie tray box 200 g", Ea, Packaging, "PACKCO", "", "1000 per case", 0, false, "", 6, 6000),
    item!("BAG-BREAD", "Bread bag, printed", Ea, Packaging, "PACKCO", "", "2000 per case", 0, false, "", 8, 8000),
    item!("CARTON", "Shipping carton, 12-count", Ea, Packaging, "PACKCO", "", "bundle of 250", 0, false, "", 6, 1500),
    item!("DOUGH-CC", "Chocolate chip cookie dough", Kg, Intermediate, "", "", "60 kg tub", 5, false, "", 0, 0),
    item!("DOUGH-OAT", "Oatmeal raisin cookie dough", Kg, Intermediate, "", "", "60 kg tub", 5, false, "", 0, 0),
    item!("DOUGH-BREAD", "White bread dough", Kg, Intermediate, "", "", "60 kg tub", 2, false, "", 0, 0),
    item!("DOUGH-WW", "Whole wheat bread dough", Kg, Intermediate, "", "", "60 kg tub", 2, false, "", 0, 0),
    item!("FILLING-CC", "Cream cheese filling", Kg, Intermediate, "", "", "20 kg tub", 4, true, "", 0, 0),
    item!("COOKIE-CC", "Chocolate chip cookies 12 x 200 g", Case, Finished, "", "cookies", "12 x 200 g tray", 90, false, "10614141000125", 0, 0),
    item!("COOKIE-OAT", "Oatmeal raisin cookies 12 x 200 g", Case, Finished, "", "cookies", "12 x 200 g tray", 90, false, "10614141000132", 0, 0),
    item!("BREAD-WHITE", "White sandwich loaf 12 x 680 g", Case, Finished, "", "bread", "12 x 680 g bag", 7, false, "10614141000149", 0, 0),
    item!("BREAD-WW", "Whole wheat loaf 12 x 680 g", Case, Finished, "", "bread", "12 x 680 g bag", 7, false, "10614141000156", 0, 0),
    item!("DANISH-CC", "Cheese danish 12 x 110 g", Case, Finished, "", "pastry", "12 x 110 g clamshell", 5, true, "10614141000163", 0, 0),
];

/// The packaging style a pack size names ("25 kg bag" → "bag"): the product description
/// FDA asks for has both.
fn pack_style(pack: &str) -> &'static str {
    const STYLES: [&str; 10] = [
        "bag-in-box",
        "clamshell",
        "bundle",
        "block",
        "case",
        "tray",
        "pail",
        "tub",
        "jug",
        "bag",
    ];
    STYLES
        .into_iter()
        .find(|s| pack.contains(s))
        .unwrap_or_default()
}

/// (id, name, street, city, state, zip, phone, role, recall contact)
type PartyRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Role,
    &'static str,
);

#[rustfmt::skip]
const PARTIES: &[PartyRow] = &[
    ("MILLCO", "Prairie Mill Co.", "1200 Elevator Rd", "Salina", "KS", "67401", "785-555-0134", Role::Supplier, "Dana Reyes"),
    ("SWEETCO", "Sweetwater Sugar", "88 Refinery Way", "Crockett", "CA", "94525", "510-555-0177", Role::Supplier, "Lee Park"),
    ("VALLEYDAIRY", "Valley Dairy Cooperative", "4 Creamery Ln", "Tillamook", "OR", "97141", "503-555-0110", Role::Supplier, "Sam Okafor"),
    ("SUNNYRIDGE", "Sunny Ridge Farms", "2301 County Rd 9", "Albany", "OR", "97321", "541-555-0192", Role::Supplier, "Maria Lind"),
    ("HILLTOP", "Hilltop Egg Ranch", "77 Layer Ln", "Yakima", "WA", "98901", "509-555-0148", Role::Supplier, "Tom Reed"),
    ("COCOACO", "Cascade Cocoa Works", "15 Bean St", "Portland", "OR", "97217", "503-555-0166", Role::Supplier, "Ivy Chen"),
    ("GRAINCO", "Palouse Grain Co.", "900 Silo Ave", "Pullman", "WA", "99163", "509-555-0121", Role::Supplier, "Ben Holt"),
    ("NUTHOUSE", "Willamette Nut & Fruit", "310 Orchard Dr", "Dundee", "OR", "97115", "503-555-0187", Role::Supplier, "Ana Sousa"),
    ("PANTRY", "Baker's Pantry Supply", "51 Commerce Pkwy", "Tualatin", "OR", "97062", "503-555-0155", Role::Supplier, "Rick Vo"),
    ("PACKCO", "Northwest Packaging", "700 Box Factory Rd", "Kent", "WA", "98032", "253-555-0140", Role::Supplier, "Gail Fox"),
    ("CORNERMKT", "Corner Market #12", "1440 SE Hawthorne Blvd", "Portland", "OR", "97214", "503-555-0101", Role::Customer, "Priya Shah"),
    ("FRESHWAY", "FreshWay Grocers DC", "2500 Distribution Dr", "Wilsonville", "OR", "97070", "503-555-0102", Role::Customer, "Carl Engel"),
    ("GREENLEAF", "Green Leaf Co-op", "32 Main St", "Corvallis", "OR", "97330", "541-555-0103", Role::Customer, "Jo Bright"),
    ("CAFEROSA", "Cafe Rosa", "415 NW 23rd Ave", "Portland", "OR", "97210", "503-555-0104", Role::Customer, "Rosa Diaz"),
    ("BEANERY", "The Beanery", "9 Court St", "Salem", "OR", "97301", "503-555-0105", Role::Customer, "Hal Moss"),
    ("SCHOOLDIST", "Salem-Keizer Schools Nutrition", "2450 Lancaster Dr NE", "Salem", "OR", "97305", "503-555-0106", Role::Customer, "Nina Ortiz"),
    ("HOSPITAL", "St. Vincent Food Services", "9205 SW Barnes Rd", "Portland", "OR", "97225", "503-555-0107", Role::Customer, "Pat Klein"),
    ("QUICKSTOP", "QuickStop Markets", "600 Hwy 99", "Eugene", "OR", "97402", "541-555-0108", Role::Customer, "Vic Tran"),
    ("HARVESTMKT", "Harvest Market", "1200 Pearl St", "Eugene", "OR", "97401", "541-555-0109", Role::Customer, "Em Cole"),
    ("COASTDELI", "Coast Deli", "215 Beach Loop", "Newport", "OR", "97365", "541-555-0111", Role::Customer, "Ray Quinn"),
    ("UNIVDINING", "University Dining Services", "1585 E 13th Ave", "Eugene", "OR", "97403", "541-555-0112", Role::Customer, "Kim Lau"),
    ("MOUNTAINCO", "Mountain Foods Distribution", "77 Freight Way", "Bend", "OR", "97701", "541-555-0113", Role::Customer, "Al Pratt"),
    ("TRAILHEAD", "Trailhead Coffee", "50 Ski Rd", "Sisters", "OR", "97759", "541-555-0114", Role::Customer, "Bo Yates"),
    ("SUNSETINN", "Sunset Inn", "1 Ocean Ave", "Cannon Beach", "OR", "97110", "503-555-0115", Role::Customer, "Lu Park"),
    ("CITYMART", "CityMart Downtown", "800 SW Broadway", "Portland", "OR", "97205", "503-555-0116", Role::Customer, "Dee Hart"),
    ("RIVERCAFE", "River Cafe", "14 Water St", "Hood River", "OR", "97031", "541-555-0117", Role::Customer, "Ike Barr"),
    ("VALLEYFOODS", "Valley Foods Wholesale", "3300 Industrial Way", "Albany", "OR", "97322", "541-555-0118", Role::Customer, "Flo West"),
];

/// One batch: output item, output quantity, inputs (item, quantity).
type Recipe = (&'static str, i64, &'static [(&'static str, &'static str)]);

#[rustfmt::skip]
const RECIPES: &[Recipe] = &[
    ("DOUGH-CC", 210, &[("FLOUR-AP", "80"), ("BUTTER", "40"), ("SUGAR", "25"), ("BROWN-SUGAR", "25"), ("EGGS", "8"), ("CHOC-CHIPS", "30"), ("VANILLA", "0.5"), ("SALT", "1"), ("BAKING-SODA", "1")]),
    ("COOKIE-CC", 80, &[("DOUGH-CC", "200"), ("BOX-COOKIE", "960"), ("CARTON", "80")]),
    ("DOUGH-OAT", 205, &[("FLOUR-AP", "60"), ("OATS", "50"), ("BUTTER", "35"), ("BROWN-SUGAR", "30"), ("EGGS-HT", "6"), ("RAISINS", "25"), ("SALT", "1"), ("BAKING-SODA", "1")]),
    ("COOKIE-OAT", 80, &[("DOUGH-OAT", "200"), ("BOX-COOKIE", "960"), ("CARTON", "80")]),
    ("DOUGH-BREAD", 300, &[("FLOUR-AP", "190"), ("MILK", "80"), ("YEAST", "4"), ("SALT", "4"), ("SUGAR", "10"), ("BUTTER", "8")]),
    ("BREAD-WHITE", 34, &[("DOUGH-BREAD", "230"), ("BAG-BREAD", "408"), ("CARTON", "34")]),
    ("DOUGH-WW", 216, &[("FLOUR-WW", "120"), ("FLOUR-AP", "30"), ("MILK", "50"), ("YEAST", "3"), ("SALT", "3"), ("HONEY", "10")]),
    ("BREAD-WW", 30, &[("DOUGH-WW", "210"), ("BAG-BREAD", "360"), ("CARTON", "30")]),
    ("FILLING-CC", 52, &[("CREAM-CHEESE", "40"), ("SUGAR", "8"), ("EGGS", "3"), ("VANILLA", "0.3")]),
    ("DANISH-CC", 25, &[("DOUGH-BREAD", "60"), ("FILLING-CC", "50"), ("BOX-COOKIE", "300"), ("CARTON", "25")]),
];

/// What each item declares of the nine US major allergens: ingredients from their spec
/// sheets, made things the union of what goes into them.
#[rustfmt::skip]
const ALLERGENS: &[(&str, &str)] = &[
    ("FLOUR-AP", "wheat"), ("FLOUR-WW", "wheat"),
    ("BUTTER", "milk"), ("MILK", "milk"), ("CREAM-CHEESE", "milk"),
    ("EGGS", "egg"), ("EGGS-HT", "egg"),
    ("CHOC-CHIPS", "milk, soybeans"), ("WALNUTS", "tree nuts"),
    ("DOUGH-CC", "wheat, milk, egg, soybeans"), ("COOKIE-CC", "wheat, milk, egg, soybeans"),
    ("DOUGH-OAT", "wheat, milk, egg"), ("COOKIE-OAT", "wheat, milk, egg"),
    ("DOUGH-BREAD", "wheat, milk"), ("BREAD-WHITE", "wheat, milk"),
    ("DOUGH-WW", "wheat, milk"), ("BREAD-WW", "wheat, milk"),
    ("FILLING-CC", "milk, egg"), ("DANISH-CC", "wheat, milk, egg"),
];

/// The day from which the mixer's changeover log has its one gap: the first change of
/// product on it from then on was not cleaned, and the batch after was held.
const MISSED_CHANGEOVER_DAY: u64 = DEMO_DAYS / 2;

/// Which recipes run on day `n` of the demo (pairs: intermediate then finished).
fn schedule(n: u64) -> Vec<&'static str> {
    let mut v = vec!["DOUGH-BREAD", "BREAD-WHITE"];
    if n.is_multiple_of(2) {
        v.extend(["DOUGH-CC", "COOKIE-CC", "FILLING-CC", "DANISH-CC"]);
    } else {
        v.extend(["DOUGH-WW", "BREAD-WW"]);
    }
    if n % 3 == 1 {
        v.extend(["DOUGH-OAT", "COOKIE-OAT"]);
    }
    v
}

fn err(field: &str, msg: String) -> StationError {
    Invalid::new(field, msg).into()
}

fn code<T>(parse: fn(&str, &str) -> Result<T, Invalid>, s: &str) -> Result<T, StationError> {
    parse(s, "demo").map_err(Into::into)
}

/// Is this the demo's database? (Guards `demo --fresh` from deleting a real plant.)
pub fn is_demo<S: StationExt + ?Sized>(st: &S) -> Result<bool, StationError> {
    Ok(st.plant()?.location.business_name == DEMO_PLANT_NAME)
}

/// Whether the file holds a demo whose build never finished.
pub fn is_unfinished_demo<S: StationExt + ?Sized>(st: &S) -> Result<bool, StationError> {
    Ok(st.plant()?.location.business_name == DEMO_BUILDING_NAME)
}

struct Builder<'a, S: ?Sized> {
    st: &'a S,
    rng: Rng,
    bol: u32,
    progress: &'a mut dyn FnMut(&str),
    /// The product each line made last, for its changeover log.
    last_on_line: std::collections::HashMap<String, &'static str>,
    /// Whether the missed changeover has happened yet.
    missed: bool,
}

impl<S: StationExt + ?Sized> Builder<'_, S> {
    fn receive(
        &mut self,
        def: &ItemDef,
        date: NaiveDate,
        qty: Qty,
    ) -> Result<LotCode, StationError> {
        self.bol += 1;
        let (exp_days, temp) = match def.code {
            "MILK" | "BUTTER" | "CREAM-CHEESE" | "EGGS" | "EGGS-HT" => {
                (def.shelf_days as u64, Some(30 + self.rng.below(15) as i32))
            }
            _ => (def.shelf_days.max(30) as u64, None),
        };
        let prefix: String = def.supplier.chars().take(2).collect();
        let r = NewReceipt {
            item: code(ItemCode::parse, def.code)?,
            supplier: code(PartyId::parse, def.supplier)?,
            supplier_lot: code(
                SupplierLot::parse,
                &format!(
                    "{prefix}{:02}{:03}-{}",
                    date.year() % 100,
                    date.ordinal(),
                    1 + self.rng.below(9)
                ),
            )?,
            qty,
            unit: None,
            date,
            expiry: date.checked_add_days(Days::new(exp_days)),
            reference: Some(Reference {
                kind: "BOL".into(),
                number: format!("{}", 44000 + self.bol),
            }),
            documents: Default::default(),
            quality: Quality {
                temperature_dc: temp,
                inspection: Some(Inspection::Pass),
                note: String::new(),
            },
            tlc_source_ref: None,
        };
        Ok(self.st.receive(r)?.code)
    }

    /// Oldest-first lots of `item` covering `need`; receives more when stock runs short,
    /// as a plant would call in an emergency delivery.
    fn pick(
        &mut self,
        item: &str,
        need: Qty,
        date: NaiveDate,
    ) -> Result<Vec<LotLine>, StationError> {
        let filter = LotFilter {
            item: Some(code(ItemCode::parse, item)?),
            status: Some(LotStatus::Released),
            on_hand: true,
            ..Default::default()
        };
        let mut lots = self.st.lots(filter)?;
        lots.sort_by_key(|l| (l.expiry, l.date, l.id));
        let mut left = need;
        let mut out = Vec::new();
        for l in lots.iter().filter(|l| !l.is_expired(date)) {
            if !left.is_positive() {
                break;
            }
            let take = left.min(l.balance);
            out.push(LotLine {
                lot: l.code.clone(),
                qty: take,
            });
            left = left - take;
        }
        if left.is_positive() {
            let def = ITEMS
                .iter()
                .find(|d| d.code == item)
                .ok_or_else(|| err("demo", format!("no recipe source for {item}")))?;
            if def.supplier.is_empty() {
                return Err(err("demo", format!("not enough {item} on {date}")));
            }
            let qty = Qty::from_units(def.qty.max(1)).max(left);
            let lot = self.receive(def, date, qty)?;
            out.push(LotLine { lot, qty: left });
        }
        Ok(out)
    }

    fn batch(
        &mut self,
        output: &'static str,
        date: NaiveDate,
        day: u64,
    ) -> Result<LotCode, StationError> {
        let (_, out_qty, inputs) = RECIPES
            .iter()
            .find(|r| r.0 == output)
            .ok_or_else(|| err("demo", format!("no recipe for {output}")))?;
        let mut lines = Vec::new();
        for (item, q) in inputs.iter() {
            let q: Qty = q
                .parse()
                .map_err(|_| err("demo", format!("bad recipe quantity {q}")))?;
            lines.extend(self.pick(item, q, date)?);
        }
        let line = if output.starts_with("DOUGH") || output.starts_with("FILLING") {
            "Mixing".to_string()
        } else {
            format!("Line {}", 1 + day % 2)
        };
        // A change of product is cleaned first (the changeover log), but for once on
        // the mixer: that batch is held for possible cross-contact, swabbed, released.
        let changed = self
            .last_on_line
            .insert(line.clone(), output)
            .is_some_and(|last| last != output);
        let skip = changed && line == "Mixing" && !self.missed && day >= MISSED_CHANGEOVER_DAY;
        if changed && !skip {
            self.st.changeover(NewChangeover {
                line: line.clone(),
                date,
                cleared: vec![],
                note: "wash-down between products".into(),
            })?;
        }
        let created = self.st.produce(NewBatch {
            allow_expired: false,
            item: code(ItemCode::parse, output)?,
            qty: Qty::from_units(*out_qty),
            unit: None,
            date,
            line: Some(line),
            reference: Some(Reference {
                kind: "WO".into(),
                number: format!("{}", 7000 + day * 20 + lines.len() as u64),
            }),
            documents: Default::default(),
            expiry: None,
            inputs: lines,
        })?;
        if created.hold.is_some() {
            self.missed = true;
            self.st.set_status(StatusChange {
                lot: created.code.clone(),
                to: LotStatus::Released,
                date,
                reason: "mixer swabbed after the missed wash-down: negative; released by QA".into(),
            })?;
        }
        Ok(created.code)
    }

    fn ship_day(&mut self, date: NaiveDate, day: u64) -> Result<(), StationError> {
        let customers: Vec<&str> = PARTIES
            .iter()
            .filter(|p| p.7 == Role::Customer)
            .map(|p| p.0)
            .collect();
        for item in [
            "COOKIE-CC",
            "COOKIE-OAT",
            "BREAD-WHITE",
            "BREAD-WW",
            "DANISH-CC",
        ] {
            let filter = LotFilter {
                item: Some(code(ItemCode::parse, item)?),
                status: Some(LotStatus::Released),
                on_hand: true,
                ..Default::default()
            };
            let mut lots = self.st.lots(filter)?;
            lots.retain(|l| l.date < date && !l.is_expired(date));
            lots.sort_by_key(|l| (l.date, l.id));
            for lot in lots.into_iter().take(2) {
                let mut balance = lot.balance;
                // Three to five customers per lot; the complaint customer takes cookies often.
                let n = 3 + self.rng.below(3);
                let mut chosen: Vec<&str> = Vec::new();
                if item == COMPLAINT_ITEM && day % 2 == 1 {
                    chosen.push(COMPLAINT_CUSTOMER);
                }
                while chosen.len() < n as usize {
                    let c = customers[self.rng.below(customers.len() as u64) as usize];
                    if !chosen.contains(&c) {
                        chosen.push(c);
                    }
                }
                for c in chosen {
                    let take = Qty::from_units(2 + self.rng.below(8) as i64).min(balance);
                    if !take.is_positive() {
                        break;
                    }
                    balance = balance - take;
                    self.bol += 1;
                    self.st.ship(NewShipment {
                        allow_expired: false,
                        customer: code(PartyId::parse, c)?,
                        date,
                        reference: Some(Reference {
                            kind: "BOL".into(),
                            number: format!("{}", 55000 + self.bol),
                        }),
                        documents: Default::default(),
                        lines: vec![LotLine {
                            lot: lot.code.clone(),
                            qty: take,
                        }],
                    })?;
                }
            }
        }
        Ok(())
    }
}

/// Build the demo plant into an empty database.
pub fn build<S: StationExt + ?Sized>(
    st: &S,
    progress: &mut dyn FnMut(&str),
) -> Result<(), StationError> {
    let today = st.today()?;
    let mut plant = st.plant()?;
    plant.location = Location {
        business_name: DEMO_BUILDING_NAME.into(),
        phone: "503-555-0100".into(),
        street: "2200 Mill Race Rd".into(),
        city: "Salem".into(),
        state: "OR".into(),
        zip: "97302".into(),
        country: "US".into(),
    };
    plant.gln = Some(code(Gln::parse, "0614141000005")?);
    st.set_plant(plant.clone())?;
    for p in PARTIES {
        st.add_party(NewParty {
            id: code(PartyId::parse, p.0)?,
            role: p.7,
            location: Location {
                business_name: p.1.into(),
                street: p.2.into(),
                city: p.3.into(),
                state: p.4.into(),
                zip: p.5.into(),
                phone: p.6.into(),
                country: "US".into(),
            },
            gln: None,
            recall_contact: Contact {
                name: p.8.into(),
                phone: p.6.into(),
                email: format!("{}@example.com", p.0.to_ascii_lowercase()),
            },
        })?;
    }
    for d in ITEMS {
        st.add_item(NewItem {
            code: code(ItemCode::parse, d.code)?,
            description: ProductDescription {
                name: d.name.into(),
                brand: if d.supplier.is_empty() {
                    "Hearth & Harvest".into()
                } else {
                    String::new()
                },
                commodity: d.commodity.into(),
                variety: String::new(),
                pack_size: d.pack.into(),
                pack_style: pack_style(d.pack).into(),
            },
            unit: d.unit,
            kind: d.kind,
            gtin: if d.gtin.is_empty() {
                None
            } else {
                Some(code(Gtin::parse, d.gtin)?)
            },
            shelf_life_days: (d.shelf_days > 0).then_some(d.shelf_days),
            ftl: d.ftl,
            // Chilled goods are checked at the dock: eggs at 45 °F (7.2 °C) as FDA
            // requires, dairy at 5 °C.
            receiving_temp: TempRange {
                min_dc: None,
                max_dc: match d.code {
                    "EGGS" | "EGGS-HT" => Some(72),
                    "MILK" | "BUTTER" | "CREAM-CHEESE" => Some(50),
                    _ => None,
                },
            },
        })?;
    }
    for (item, names) in ALLERGENS {
        st.declare_allergens(
            code(ItemCode::parse, item)?,
            names.split(", ").map(str::to_string).collect(),
            "supplier spec sheet".into(),
        )?;
    }
    let start = today
        .checked_sub_days(Days::new(DEMO_DAYS))
        .unwrap_or(today);
    for (output, per, inputs) in RECIPES {
        let mut lines = Vec::with_capacity(inputs.len());
        for (item, q) in inputs.iter() {
            lines.push(RecipeLine {
                item: code(ItemCode::parse, item)?,
                qty: q
                    .parse()
                    .map_err(|_| err("demo", format!("bad recipe quantity {q}")))?,
                tolerance_pct: 10,
                substitutes: vec![],
            });
        }
        st.add_recipe(NewRecipe {
            item: code(ItemCode::parse, output)?,
            effective: start,
            per: Qty::from_units(*per),
            yield_tolerance_pct: 5,
            lines,
            reason: "house recipe".into(),
        })?;
    }
    let mut b = Builder {
        st,
        rng: Rng(20_261_121),
        bol: 0,
        progress,
        last_on_line: Default::default(),
        missed: false,
    };
    for day in 0..DEMO_DAYS {
        let date = start.checked_add_days(Days::new(day)).unwrap_or(today);
        for def in ITEMS.iter().filter(|d| d.every > 0 && day % d.every == 0) {
            let wobble = 90 + b.rng.below(21) as i64; // 90–110 %
            b.receive(def, date, Qty::from_units(def.qty * wobble / 100))?;
        }
        b.ship_day(date, day)?;
        for output in schedule(day) {
            b.batch(output, date, day)?;
        }
        if day % 8 == 0 {
            (b.progress)(&format!("day {} of {DEMO_DAYS}", day + 1));
        }
    }
    // A few things QA has done: a walnut lot on hold, a spill written off.
    let walnuts = st.lots(LotFilter {
        item: Some(code(ItemCode::parse, "WALNUTS")?),
        on_hand: true,
        ..Default::default()
    })?;
    if let Some(w) = walnuts.last() {
        st.set_status(StatusChange {
            lot: w.code.clone(),
            to: LotStatus::Hold,
            date: today,
            reason: "foreign material found at receiving inspection".into(),
        })?;
    }
    let sugar = st.lots(LotFilter {
        item: Some(code(ItemCode::parse, "SUGAR")?),
        on_hand: true,
        ..Default::default()
    })?;
    if let Some(s) = sugar.first() {
        st.adjust(Adjustment {
            lot: s.code.clone(),
            delta: -Qty::from_units(5).min(s.balance),
            date: today,
            reason: "torn bag, swept and discarded".into(),
        })?;
    }
    // Last: the finished name marks the demo complete.
    plant.location.business_name = DEMO_PLANT_NAME.into();
    st.set_plant(plant)?;
    Ok(())
}

/// The cookie complaint of README.md's quick start, as found in the demo data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Complaint {
    pub customer: String,
    pub delivered: NaiveDate,
    pub reference: Option<Reference>,
    /// The finished lot the customer holds.
    pub cookie_lot: LotCode,
    /// The egg lot that went into it, and the supplier's code for it.
    pub egg_lot: LotCode,
    pub egg_supplier_lot: String,
    /// Who else received product made with those eggs.
    pub egg_shipments: usize,
    pub egg_customers: usize,
}

/// Find the complaint in the data: the newest cookie delivery to Corner Market at least
/// five days old, its egg lot, and everyone else who got product from that egg lot.
pub fn story<S: StationExt + ?Sized>(st: &S) -> Result<Option<Complaint>, StationError> {
    let customer = code(PartyId::parse, COMPLAINT_CUSTOMER)?;
    let today = st.today()?;
    // The newest cookie delivery at least five days old (voided shipments are not
    // deliveries): the time a complaint takes.
    let item = code(ItemCode::parse, COMPLAINT_ITEM)?;
    let deliveries = st.deliveries(customer, Some(item), None, None)?;
    let Some(delivery) = deliveries.iter().find(|d| d.date + Days::new(5) <= today) else {
        return Ok(None);
    };
    let cookie = &delivery.lot;
    let back = st.trace(cookie.code.clone(), Direction::Backward)?;
    let Some(eggs) = back.lots.iter().find(|l| l.item.as_str() == "EGGS") else {
        return Ok(None);
    };
    let fwd = st.trace(eggs.code.clone(), Direction::Forward)?;
    let customers: std::collections::BTreeSet<&str> =
        fwd.shipments.iter().map(|s| s.customer.as_str()).collect();
    Ok(Some(Complaint {
        customer: "Corner Market #12".into(),
        delivered: delivery.date,
        reference: delivery.reference.clone(),
        cookie_lot: cookie.code.clone(),
        egg_lot: eggs.code.clone(),
        egg_supplier_lot: match &eggs.origin {
            Origin::Received { supplier_lot, .. } => supplier_lot.to_string(),
            Origin::Produced { .. } | Origin::Returned { .. } | Origin::Partner { .. } => {
                String::new()
            }
        },
        egg_shipments: fwd.shipments.len(),
        egg_customers: customers.len(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Local, local::Clock};
    use lotline_store::Store;

    #[test]
    fn the_demo_plant_is_consistent_and_tells_the_story() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("demo.redb"), true).unwrap();
        let st = Local::new(store, "demo", "demo")
            .with_clock(Clock::Fixed("2026-11-21T12:00:00Z".parse().unwrap()));
        build(&st, &mut |_| {}).unwrap();
        assert!(is_demo(&st).unwrap());
        let stats = st.stats().unwrap();
        assert_eq!(stats.items, ITEMS.len() as u64);
        assert!(stats.parties >= 27);
        assert!(stats.lots > 500, "{stats:?}");
        let report = st.check().unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        let c = story(&st).unwrap().expect("the demo holds the complaint");
        // The story is true of the data: the cookie lot went to Corner Market, the egg lot
        // is among its inputs, and the eggs reached other customers too.
        let back = st.trace(c.cookie_lot.clone(), Direction::Backward).unwrap();
        assert!(back.lots.iter().any(|l| l.code == c.egg_lot));
        let fwd = st.trace(c.egg_lot.clone(), Direction::Forward).unwrap();
        assert!(
            fwd.shipments
                .iter()
                .any(|s| s.customer.as_str() == COMPLAINT_CUSTOMER)
        );
        assert!(c.egg_customers > 1, "{c:?}");
        assert_eq!(fwd.shipments.len(), c.egg_shipments);
        // Recipes for every made thing; allergens on every lot made of them; one batch
        // held for cross-contact after the missed wash-down, and released by QA.
        assert_eq!(st.recipes(None).unwrap().len(), RECIPES.len());
        let soy = st.lots_containing("soy".into()).unwrap();
        assert!(soy.iter().any(|l| l.item.as_str() == "COOKIE-CC"));
        assert!(!soy.iter().any(|l| l.item.as_str().starts_with("BREAD")));
        let yields = st.yields(YieldFilter::default()).unwrap();
        assert!(yields.len() > 100, "{}", yields.len());
        let held: Vec<String> = st
            .events_between(NaiveDate::MIN, NaiveDate::MAX)
            .unwrap()
            .into_iter()
            .filter_map(|e| match e.kind {
                EventKind::AllergenHold(h) => Some(format!("{:?}", h.why)),
                _ => None,
            })
            .collect();
        assert_eq!(held.len(), 1, "{held:?}");
        assert!(held[0].starts_with("CrossContact"), "{held:?}");
    }

    /// A station whose writes stop working after `left` of them: a build killed halfway.
    struct Failing<'a> {
        inner: &'a Local,
        left: std::cell::Cell<u32>,
    }

    impl crate::Station for Failing<'_> {
        fn call(&self, r: crate::Request) -> Result<crate::Reply, StationError> {
            if matches!(r, crate::Request::Command(_)) {
                if self.left.get() == 0 {
                    return Err(StationError {
                        kind: crate::ErrorKind::Database,
                        field: None,
                        message: "killed".into(),
                    });
                }
                self.left.set(self.left.get() - 1);
            }
            self.inner.call(r)
        }
    }

    #[test]
    fn an_interrupted_build_is_never_taken_for_the_demo() {
        for after in [0, 1, 30, 400, 2000] {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(&dir.path().join("demo.redb"), true).unwrap();
            let st = Local::new(store, "demo", "demo")
                .with_clock(Clock::Fixed("2026-11-21T12:00:00Z".parse().unwrap()));
            let failing = Failing {
                inner: &st,
                left: std::cell::Cell::new(after),
            };
            assert!(
                build(&failing, &mut |_| {}).is_err(),
                "stopped after {after}"
            );
            assert!(!is_demo(&st).unwrap(), "stopped after {after}");
            // Once the plant is named, the file says it is a demo being built.
            assert_eq!(is_unfinished_demo(&st).unwrap(), after > 0, "{after}");
        }
    }
}
