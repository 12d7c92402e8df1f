//! A generated plant of any size, for benchmarks and load tests: a bakery with silo and
//! bagged flour, dairy, eggs, fruit and packaging from a dozen suppliers; sponges,
//! fillings, doughs and laminated dough made in house (finished lots are 3 to 5 lots
//! deep); breads, cookies, danishes, pies and rolls shipped to hundreds of customers.
//!
//! The same seed gives the same plant. The plant makes about `lots_per_day` lots a day,
//! so `lots` sets how much history there is: 100,000 lots is about four months, 1,000,000
//! about three years. Data goes in through [`Store::bulk`]: the same commands, with the
//! same checks, that the app runs one at a time, many to a transaction.
//!
//! Stock is picked first-in first-out, the way the floor uses it, so a batch takes from
//! one or two lots of each of its 5–9 recipe items and ends up with 5 to 12 inputs (6.4
//! on average at 100,000 lots). Bread flour comes into a
//! silo in lots sized for at least `fanout` batches: those few lots have the very large
//! forward traces a recall of a flour lot would have.

use crate::{Applied, Bulk, Store, StoreError};
use chrono::{Days, NaiveDate, NaiveTime};
use lotline_domain::api::{Command, Created};
use lotline_domain::*;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// What to generate. [`Spec::new`] gives the defaults the benchmark uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// Lots to create (receipts and batches); the generator stops at the end of the
    /// production run that reaches it, so a few more may be made.
    pub lots: u64,
    pub seed: u64,
    /// Batches each silo flour lot feeds at least.
    pub fanout: u32,
    /// Lots made a day; with `lots` it sets how many days of history there are.
    pub lots_per_day: u32,
    /// The last business day of the history; every event is on or before it.
    pub end: NaiveDate,
    /// Events per bulk transaction.
    pub events_per_commit: u64,
}

impl Spec {
    pub fn new(lots: u64) -> Spec {
        Spec {
            lots,
            seed: 1,
            fanout: 1_400,
            lots_per_day: 900,
            end: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap_or_default(),
            events_per_commit: 20_000,
        }
    }

    /// How many days of history this spec makes.
    pub fn days(&self) -> u64 {
        self.lots
            .div_ceil(u64::from(self.lots_per_day.max(1)))
            .max(1)
    }
}

/// What was generated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub days: u64,
    pub lots: u64,
    pub events: u64,
    pub receipts: u64,
    pub batches: u64,
    pub shipments: u64,
    /// Lot lines over all shipments.
    pub shipment_lines: u64,
    /// Expired intermediates written off.
    pub adjustments: u64,
    /// Holds and releases.
    pub status_changes: u64,
    /// Clean-downs recorded on a line before a product that does not declare what the
    /// line last ran.
    pub changeovers: u64,
    /// Input → output links, one per batch input.
    pub links: u64,
    pub commits: u64,
    /// The silo flour lot used by the most batches, and how many.
    pub fanout_lot: Option<LotCode>,
    pub fanout_batches: u64,
    /// Longest chain of lots from a receipt to a finished lot, both counted.
    pub max_depth: u32,
}

/// Where the generator has got to; given to the progress callback after each commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub day: u64,
    pub days: u64,
    pub lots: u64,
    pub events: u64,
}

/// splitmix64: tiny, deterministic, and plenty for picking quantities and customers.
/// splitmix64: tiny, deterministic from its seed, good enough to vary quantities. The
/// demo plant uses it too, so both are reproducible the same way.
pub struct Rng(pub u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// `base` varied by ±`pct` percent.
    pub fn wobble(&mut self, base: i64, pct: u64) -> i64 {
        let w = 100 - pct as i64 + self.below(2 * pct + 1) as i64;
        base * w / 100
    }
}

/// How an ingredient or packaging item is supplied.
#[derive(Clone, Copy)]
enum Supply {
    /// Received in lots of about this many units.
    Lots(i64),
    /// Received into a silo in lots sized for `Spec::fanout` batches.
    Silo,
    /// Made here from a recipe.
    Made,
}

struct ItemDef {
    code: &'static str,
    name: &'static str,
    unit: Unit,
    kind: ItemKind,
    supplier: &'static str,
    supply: Supply,
    shelf_days: u32,
    ftl: bool,
}

const fn bought(
    code: &'static str,
    name: &'static str,
    unit: Unit,
    supplier: &'static str,
    lot: i64,
    shelf_days: u32,
) -> ItemDef {
    ItemDef {
        code,
        name,
        unit,
        kind: ItemKind::Ingredient,
        supplier,
        supply: Supply::Lots(lot),
        shelf_days,
        ftl: false,
    }
}

const fn pack(code: &'static str, name: &'static str, supplier: &'static str, lot: i64) -> ItemDef {
    ItemDef {
        code,
        name,
        unit: Unit::Ea,
        kind: ItemKind::Packaging,
        supplier,
        supply: Supply::Lots(lot),
        shelf_days: 0,
        ftl: false,
    }
}

const fn made(code: &'static str, name: &'static str, kind: ItemKind, shelf_days: u32) -> ItemDef {
    ItemDef {
        code,
        name,
        unit: if matches!(kind, ItemKind::Finished) {
            Unit::Case
        } else {
            Unit::Kg
        },
        kind,
        supplier: "",
        supply: Supply::Made,
        shelf_days,
        ftl: false,
    }
}

const fn ftl(mut d: ItemDef) -> ItemDef {
    d.ftl = true;
    d
}

use ItemKind::{Finished as Fin, Intermediate as Mid};
use Unit::{Dozen, Kg, L};

#[rustfmt::skip]
const ITEMS: &[ItemDef] = &[
    ItemDef { code: "FLOUR-SILO", name: "Bread flour, bulk (silo 1)", unit: Kg, kind: ItemKind::Ingredient, supplier: "MILLCO", supply: Supply::Silo, shelf_days: 180, ftl: false },
    bought("FLOUR-AP", "All-purpose flour, 25 kg bag", Kg, "MILLCO", 2_000, 240),
    bought("FLOUR-WW", "Whole wheat flour, 25 kg bag", Kg, "PALOUSE", 1_500, 180),
    bought("SUGAR", "Granulated sugar", Kg, "SWEETCO", 2_000, 720),
    bought("BROWN-SUGAR", "Light brown sugar", Kg, "SWEETCO", 900, 360),
    bought("BUTTER", "Unsalted butter, 25 kg block", Kg, "VALLEYDAIRY", 1_200, 90),
    bought("MILK", "Whole milk, 20 l bag-in-box", L, "VALLEYDAIRY", 900, 12),
    bought("CREAM", "Heavy cream", L, "VALLEYDAIRY", 300, 14),
    ftl(bought("EGGS", "Shell eggs, large, 30 dozen case", Dozen, "SUNNYRIDGE", 240, 30)),
    ftl(bought("EGGS-LIQ", "Liquid whole egg", Kg, "HILLTOP", 400, 21)),
    ftl(bought("CREAM-CHEESE", "Cream cheese, 10 kg tub", Kg, "VALLEYDAIRY", 400, 45)),
    bought("CHOC-CHIPS", "Semi-sweet chocolate chips", Kg, "COCOACO", 700, 365),
    bought("OATS", "Rolled oats", Kg, "PALOUSE", 900, 300),
    bought("RAISINS", "Thompson raisins", Kg, "NUTHOUSE", 500, 365),
    bought("HONEY", "Clover honey", Kg, "NUTHOUSE", 300, 720),
    bought("APPLES", "Apples, sliced, frozen", Kg, "ORCHARD", 1_500, 180),
    bought("CINNAMON", "Ground cinnamon", Kg, "SPICECO", 60, 720),
    bought("NUTMEG", "Ground nutmeg", Kg, "SPICECO", 10, 720),
    bought("GINGER", "Ground ginger", Kg, "SPICECO", 10, 720),
    bought("STARCH", "Modified corn starch", Kg, "PANTRY", 300, 720),
    bought("SALT", "Fine sea salt", Kg, "PANTRY", 500, 1_800),
    bought("BAKING-SODA", "Baking soda", Kg, "PANTRY", 250, 720),
    bought("YEAST", "Instant dry yeast", Kg, "PANTRY", 200, 365),
    bought("VANILLA", "Pure vanilla extract", L, "PANTRY", 40, 720),
    pack("BOX-COOKIE", "Cookie tray box 200 g", "PACKCO", 24_000),
    pack("BAG-BREAD", "Bread bag, printed", "PACKCO", 24_000),
    pack("TWIST-TIE", "Bag closure", "PACKCO", 60_000),
    pack("CLAMSHELL", "Pastry clamshell", "PACKCO", 12_000),
    pack("PIE-TIN", "Foil pie tin 9 in", "PACKCO", 9_000),
    pack("CARTON", "Shipping carton", "PACKCO", 4_000),
    pack("FILM", "Shrink film, metre", "PACKCO", 20_000),
    pack("LABEL", "Case label", "LABELCO", 40_000),
    made("SPONGE", "Sponge (pre-ferment)", Mid, 2),
    made("CARAMEL", "Caramel", Mid, 14),
    made("SPICE-MIX", "Cinnamon spice mix", Mid, 60),
    made("FILLING-CC", "Cream cheese filling", Mid, 4),
    made("FILLING-APPLE", "Apple filling", Mid, 5),
    made("DOUGH-BREAD", "White bread dough", Mid, 2),
    made("DOUGH-WW", "Whole wheat bread dough", Mid, 2),
    made("DOUGH-CC", "Chocolate chip cookie dough", Mid, 5),
    made("DOUGH-OAT", "Oatmeal raisin cookie dough", Mid, 5),
    made("DOUGH-DANISH", "Danish dough", Mid, 2),
    made("DOUGH-LAM", "Laminated danish dough", Mid, 2),
    made("DOUGH-PIE", "Pie crust dough", Mid, 4),
    made("BREAD-WHITE", "White sandwich loaf 12 x 680 g", Fin, 7),
    made("BREAD-WW", "Whole wheat loaf 12 x 680 g", Fin, 7),
    made("COOKIE-CC", "Chocolate chip cookies 12 x 200 g", Fin, 90),
    made("COOKIE-OAT", "Oatmeal raisin cookies 12 x 200 g", Fin, 90),
    made("DANISH-CC", "Cheese danish 12 x 110 g", Fin, 5),
    made("DANISH-APPLE", "Apple danish 12 x 110 g", Fin, 5),
    made("PIE-APPLE", "Apple pie 6 x 900 g", Fin, 10),
    made("ROLL-CINN", "Cinnamon rolls 12 x 120 g", Fin, 5),
];

/// What the bought items declare, from the US nine (the plant's default list); made
/// items declare what their recipe carries, so no generated batch is held.
const DECLARED: &[(&str, &[&str])] = &[
    ("FLOUR-SILO", &["wheat"]),
    ("FLOUR-AP", &["wheat"]),
    ("FLOUR-WW", &["wheat"]),
    ("BUTTER", &["milk"]),
    ("MILK", &["milk"]),
    ("CREAM", &["milk"]),
    ("CREAM-CHEESE", &["milk"]),
    ("EGGS", &["egg"]),
    ("EGGS-LIQ", &["egg"]),
    ("CHOC-CHIPS", &["milk", "soybeans"]),
];

/// How far an input's quantity may stray before a batch needs a reason; the generator
/// always uses the exact quantity, so every batch is on its recipe.
const RECIPE_TOLERANCE_PCT: u32 = 5;

/// Output item, output quantity (units of the item), inputs (item, quantity).
type Recipe = (&'static str, i64, &'static [(&'static str, i64)]);

/// Quantities in whole units; vanilla and the like are in litres, so whole numbers do.
#[rustfmt::skip]
const RECIPES: &[Recipe] = &[
    ("SPONGE", 190, &[("FLOUR-SILO", 120), ("MILK", 60), ("YEAST", 2), ("SUGAR", 4), ("SALT", 1)]),
    ("CARAMEL", 80, &[("SUGAR", 40), ("BUTTER", 15), ("CREAM", 20), ("SALT", 1), ("VANILLA", 1)]),
    ("SPICE-MIX", 35, &[("CINNAMON", 8), ("NUTMEG", 1), ("GINGER", 1), ("SUGAR", 24), ("SALT", 1)]),
    ("FILLING-CC", 56, &[("CREAM-CHEESE", 40), ("SUGAR", 8), ("EGGS", 3), ("VANILLA", 1), ("STARCH", 2)]),
    ("FILLING-APPLE", 125, &[("APPLES", 95), ("CARAMEL", 20), ("SPICE-MIX", 3), ("STARCH", 5), ("BROWN-SUGAR", 4)]),
    ("DOUGH-BREAD", 260, &[("SPONGE", 150), ("FLOUR-SILO", 90), ("SALT", 4), ("SUGAR", 10), ("BUTTER", 8), ("YEAST", 2)]),
    ("DOUGH-WW", 240, &[("SPONGE", 60), ("FLOUR-WW", 120), ("HONEY", 10), ("SALT", 3), ("YEAST", 3), ("MILK", 40)]),
    ("DOUGH-CC", 210, &[("FLOUR-SILO", 80), ("BUTTER", 40), ("SUGAR", 25), ("BROWN-SUGAR", 25), ("EGGS", 8), ("CHOC-CHIPS", 30), ("VANILLA", 1), ("SALT", 1), ("BAKING-SODA", 1)]),
    ("DOUGH-OAT", 205, &[("FLOUR-AP", 60), ("OATS", 50), ("BUTTER", 35), ("BROWN-SUGAR", 30), ("EGGS-LIQ", 6), ("RAISINS", 25), ("SPICE-MIX", 2), ("SALT", 1), ("BAKING-SODA", 1)]),
    ("DOUGH-DANISH", 150, &[("SPONGE", 40), ("FLOUR-SILO", 60), ("BUTTER", 10), ("MILK", 20), ("EGGS", 4), ("SUGAR", 8), ("SALT", 1)]),
    ("DOUGH-LAM", 165, &[("DOUGH-DANISH", 120), ("BUTTER", 40), ("FLOUR-AP", 3), ("EGGS-LIQ", 2), ("SALT", 1)]),
    ("DOUGH-PIE", 92, &[("FLOUR-AP", 50), ("BUTTER", 35), ("SALT", 1), ("SUGAR", 3), ("MILK", 5)]),
    ("BREAD-WHITE", 16, &[("DOUGH-BREAD", 120), ("BAG-BREAD", 192), ("TWIST-TIE", 192), ("CARTON", 16), ("LABEL", 16), ("FILM", 20)]),
    ("BREAD-WW", 16, &[("DOUGH-WW", 115), ("BAG-BREAD", 192), ("TWIST-TIE", 192), ("CARTON", 16), ("LABEL", 16), ("FILM", 20)]),
    ("COOKIE-CC", 40, &[("DOUGH-CC", 100), ("BOX-COOKIE", 480), ("CARTON", 40), ("LABEL", 40), ("FILM", 30)]),
    ("COOKIE-OAT", 40, &[("DOUGH-OAT", 100), ("BOX-COOKIE", 480), ("CARTON", 40), ("LABEL", 40), ("FILM", 30)]),
    ("DANISH-CC", 25, &[("DOUGH-LAM", 75), ("FILLING-CC", 25), ("CLAMSHELL", 300), ("CARTON", 25), ("LABEL", 25), ("FILM", 15)]),
    ("DANISH-APPLE", 25, &[("DOUGH-LAM", 75), ("FILLING-APPLE", 30), ("CLAMSHELL", 300), ("CARTON", 25), ("LABEL", 25), ("FILM", 15)]),
    ("PIE-APPLE", 10, &[("DOUGH-PIE", 40), ("FILLING-APPLE", 55), ("PIE-TIN", 60), ("CARTON", 10), ("LABEL", 10), ("FILM", 10)]),
    ("ROLL-CINN", 20, &[("DOUGH-LAM", 70), ("SPICE-MIX", 4), ("BROWN-SUGAR", 10), ("CARAMEL", 8), ("CLAMSHELL", 240), ("CARTON", 20), ("LABEL", 20)]),
];

/// Finished products and how often each is made (relative weights).
const PRODUCT_MIX: &[(&str, u64)] = &[
    ("BREAD-WHITE", 26),
    ("BREAD-WW", 12),
    ("COOKIE-CC", 16),
    ("COOKIE-OAT", 9),
    ("DANISH-CC", 9),
    ("DANISH-APPLE", 7),
    ("PIE-APPLE", 8),
    ("ROLL-CINN", 13),
];

/// (id, business name, city, state, recall contact)
#[rustfmt::skip]
const SUPPLIERS: &[(&str, &str, &str, &str, &str)] = &[
    ("MILLCO", "Prairie Mill Co.", "Salina", "KS", "Dana Reyes"),
    ("PALOUSE", "Palouse Grain Co.", "Pullman", "WA", "Ben Holt"),
    ("SWEETCO", "Sweetwater Sugar", "Crockett", "CA", "Lee Park"),
    ("VALLEYDAIRY", "Valley Dairy Cooperative", "Tillamook", "OR", "Sam Okafor"),
    ("SUNNYRIDGE", "Sunny Ridge Farms", "Albany", "OR", "Maria Lind"),
    ("HILLTOP", "Hilltop Egg Ranch", "Yakima", "WA", "Tom Reed"),
    ("COCOACO", "Cascade Cocoa Works", "Portland", "OR", "Ivy Chen"),
    ("NUTHOUSE", "Willamette Nut & Fruit", "Dundee", "OR", "Ana Sousa"),
    ("ORCHARD", "Hood River Orchards", "Hood River", "OR", "Joe Marsh"),
    ("SPICECO", "Pacific Spice Traders", "Seattle", "WA", "Ravi Iyer"),
    ("PANTRY", "Baker's Pantry Supply", "Tualatin", "OR", "Rick Vo"),
    ("PACKCO", "Northwest Packaging", "Kent", "WA", "Gail Fox"),
    ("LABELCO", "Columbia Label & Print", "Vancouver", "WA", "Nora Kim"),
];

const CUSTOMER_KINDS: &[&str] = &[
    "Market",
    "Grocers",
    "Cafe",
    "Deli",
    "Foods DC",
    "School District",
    "Hospital",
    "Co-op",
];
const TOWNS: &[(&str, &str)] = &[
    ("Portland", "OR"),
    ("Salem", "OR"),
    ("Eugene", "OR"),
    ("Bend", "OR"),
    ("Corvallis", "OR"),
    ("Medford", "OR"),
    ("Seattle", "WA"),
    ("Tacoma", "WA"),
    ("Spokane", "WA"),
    ("Boise", "ID"),
];
const CUSTOMERS: u64 = 300;
/// Lines on one shipping document before a second one is started.
const LINES_PER_SHIPMENT: usize = 6;

fn item_index(code: &str) -> usize {
    ITEMS
        .iter()
        .position(|d| d.code == code)
        .unwrap_or_else(|| panic!("plantgen: recipe names unknown item {code}"))
}

fn parse<T>(f: fn(&str, &str) -> Result<T, Invalid>, s: &str) -> Result<T, StoreError> {
    f(s, "plantgen").map_err(StoreError::from)
}

/// The lot a receipt or batch made (every one makes one).
fn new_lot(a: Applied) -> Created {
    a.created().expect("a receipt or batch makes a lot")
}

/// A lot on the shelf, as the generator keeps count of it.
struct StockLot {
    code: LotCode,
    id: LotId,
    left: Qty,
    expiry: Option<NaiveDate>,
}

/// A recipe with its items resolved to indices.
struct Resolved {
    qty: i64,
    inputs: Vec<(usize, i64)>,
}

struct Gen<'s> {
    spec: &'s Spec,
    rng: Rng,
    item_codes: Vec<ItemCode>,
    customers: Vec<PartyId>,
    suppliers: HashMap<&'static str, PartyId>,
    recipes: Vec<Option<Resolved>>,
    mix: Vec<(usize, u64)>,
    silo_lot_qty: Qty,
    stock: Vec<VecDeque<StockLot>>,
    /// Finished lots made today, shipped tomorrow.
    to_ship: Vec<(LotCode, Qty)>,
    /// Depth of each lot by id (ids are dense from 1): 1 for a receipt.
    depth: Vec<u8>,
    /// Batches each silo lot went into.
    silo_uses: HashMap<LotId, u64>,
    sum: Summary,
    date: NaiveDate,
    today: NaiveDate,
    stamps: [Stamp; 4],
    doc: u64,
    /// What each item's lots carry, by item index: the declaration, which for a made
    /// item is the union of its recipe's inputs.
    carries: Vec<AllergenSet>,
    /// What the last batch on each line carried, so a clean-down comes before a product
    /// that does not declare it, as the floor does it.
    line_carried: HashMap<String, AllergenSet>,
    allergens: AllergenList,
}

const DOCK: usize = 0;
const MIXING: usize = 1;
const LINE: usize = 2;
const SHIPPING: usize = 3;

impl Gen<'_> {
    fn stamps_for(date: NaiveDate) -> [Stamp; 4] {
        let at = |h: u32, who: &str, station: &str| Stamp {
            operator: who.into(),
            station: station.into(),
            at: date
                .and_time(NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default())
                .and_utc(),
        };
        [
            at(6, "rosa", "dock-1"),
            at(7, "ivan", "mixing"),
            at(9, "mei", "line-1"),
            at(14, "tom", "dock-2"),
        ]
    }

    fn next_doc(&mut self) -> String {
        self.doc += 1;
        format!("{}", 100_000 + self.doc)
    }

    fn depth_of(&self, id: LotId) -> u8 {
        self.depth.get(id.0 as usize).copied().unwrap_or(1)
    }

    fn set_depth(&mut self, id: LotId, d: u8) {
        let i = id.0 as usize;
        if self.depth.len() <= i {
            self.depth.resize(i + 1, 1);
        }
        self.depth[i] = d;
        self.sum.max_depth = self.sum.max_depth.max(u32::from(d));
    }

    fn receive(&mut self, b: &mut Bulk<'_, '_>, item: usize, need: Qty) -> Result<(), StoreError> {
        let def = &ITEMS[item];
        let qty = match def.supply {
            Supply::Silo => self.silo_lot_qty,
            Supply::Lots(n) => Qty::from_units(self.rng.wobble(n, 10)),
            Supply::Made => unreachable!("made items are produced, not received"),
        }
        .max(need);
        let supplier = self.suppliers[def.supplier].clone();
        let slot = format!(
            "{}{}-{:04}",
            &def.supplier[..2],
            self.date.format("%y%j"),
            self.rng.below(10_000)
        );
        let expiry = (def.shelf_days > 0)
            .then(|| {
                self.date
                    .checked_add_days(Days::new(u64::from(def.shelf_days)))
            })
            .flatten();
        let chilled = matches!(
            def.code,
            "MILK" | "CREAM" | "EGGS" | "EGGS-LIQ" | "CREAM-CHEESE" | "BUTTER"
        );
        let created = new_lot(b.apply(
            Command::Receive(NewReceipt {
                item: self.item_codes[item].clone(),
                supplier,
                supplier_lot: parse(SupplierLot::parse, &slot)?,
                qty,
                unit: None,
                date: self.date,
                expiry,
                reference: Some(Reference {
                    kind: "BOL".into(),
                    number: self.next_doc(),
                }),
                documents: Default::default(),
                quality: Quality {
                    temperature_dc: chilled.then(|| 20 + self.rng.below(25) as i32),
                    inspection: Some(Inspection::Pass),
                    note: String::new(),
                },
                tlc_source_ref: None,
            }),
            &self.stamps[DOCK],
            self.today,
        )?);
        self.sum.receipts += 1;
        self.sum.lots += 1;
        self.sum.events += 1;
        self.set_depth(created.lot, 1);
        self.stock[item].push_back(StockLot {
            code: created.code,
            id: created.lot,
            left: qty,
            expiry,
        });
        Ok(())
    }

    /// Oldest-first lots of `item` covering `need`, receiving or making more as needed.
    fn pick(
        &mut self,
        b: &mut Bulk<'_, '_>,
        item: usize,
        need: Qty,
    ) -> Result<Vec<(LotCode, LotId, Qty)>, StoreError> {
        let mut out = Vec::new();
        let mut left = need;
        while left.is_positive() {
            // An expired lot at the front is written off, as QA would at a stock count.
            if let Some(front) = self.stock[item].front()
                && front.expiry.is_some_and(|e| e < self.date)
            {
                let lot = self.stock[item].pop_front().expect("front exists");
                if lot.left.is_positive() {
                    b.apply(
                        Command::Adjust(Adjustment {
                            lot: lot.code,
                            delta: -lot.left,
                            date: self.date,
                            reason: "expired; discarded".into(),
                        }),
                        &self.stamps[MIXING],
                        self.today,
                    )?;
                    self.sum.adjustments += 1;
                    self.sum.events += 1;
                }
                continue;
            }
            let Some(front) = self.stock[item].front_mut() else {
                match ITEMS[item].supply {
                    Supply::Made => {
                        self.produce(b, item)?;
                    }
                    _ => self.receive(b, item, left)?,
                }
                continue;
            };
            let take = left.min(front.left);
            front.left = front.left - take;
            left = left - take;
            out.push((front.code.clone(), front.id, take));
            if !front.left.is_positive() {
                self.stock[item].pop_front();
            }
        }
        Ok(out)
    }

    /// One batch of `item` from its recipe. Returns the new lot.
    fn produce(&mut self, b: &mut Bulk<'_, '_>, item: usize) -> Result<(LotCode, Qty), StoreError> {
        let (out_qty, inputs) = {
            let r = self.recipes[item]
                .as_ref()
                .unwrap_or_else(|| panic!("plantgen: no recipe for {}", ITEMS[item].code));
            (r.qty, r.inputs.clone())
        };
        let mut lines = Vec::with_capacity(inputs.len() + 4);
        let mut depth = 0u8;
        for (input, q) in inputs {
            for (code, id, qty) in self.pick(b, input, Qty::from_units(q))? {
                depth = depth.max(self.depth_of(id));
                if matches!(ITEMS[input].supply, Supply::Silo) {
                    *self.silo_uses.entry(id).or_default() += 1;
                }
                lines.push(LotLine { lot: code, qty });
            }
        }
        let finished = ITEMS[item].kind == ItemKind::Finished;
        let n_inputs = lines.len() as u64;
        let line = if finished {
            format!("Line {}", 1 + self.rng.below(4))
        } else {
            "Mixing".into()
        };
        let station = if finished { LINE } else { MIXING };
        self.clean_down(b, &line, item, station)?;
        // Every batch on its recipe: the allergen carried and the yield (always 100 %) are
        // recorded beside it, as they are for a batch made on the floor.
        self.sum.events += 1;
        let created = new_lot(b.apply(
            Command::Produce(NewBatch {
                allow_expired: false,
                item: self.item_codes[item].clone(),
                qty: Qty::from_units(out_qty),
                unit: None,
                date: self.date,
                line: Some(line),
                reference: Some(Reference {
                    kind: "WO".into(),
                    number: self.next_doc(),
                }),
                documents: Default::default(),
                expiry: None,
                inputs: lines,
            }),
            &self.stamps[station],
            self.today,
        )?);
        self.sum.batches += 1;
        self.sum.lots += 1;
        self.sum.events += 1;
        self.sum.links += n_inputs;
        self.set_depth(created.lot, depth.saturating_add(1));
        let qty = Qty::from_units(out_qty);
        if !finished {
            let expiry = self
                .date
                .checked_add_days(Days::new(u64::from(ITEMS[item].shelf_days)));
            self.stock[item].push_back(StockLot {
                code: created.code.clone(),
                id: created.lot,
                left: qty,
                expiry,
            });
        }
        Ok((created.code, qty))
    }

    /// A clean-down of `line` before a batch of `item` if the line last ran something
    /// carrying an allergen `item` does not declare (else the batch is held for possible
    /// cross-contact, as a real one would be).
    fn clean_down(
        &mut self,
        b: &mut Bulk<'_, '_>,
        line: &str,
        item: usize,
        station: usize,
    ) -> Result<(), StoreError> {
        let declared = self.carries[item];
        let last = self
            .line_carried
            .insert(line.to_string(), declared)
            .unwrap_or(AllergenSet::EMPTY);
        let left = last.minus(declared);
        if left.is_empty() {
            return Ok(());
        }
        b.apply(
            Command::Changeover(NewChangeover {
                line: line.to_string(),
                date: self.date,
                cleared: self.allergens.names_of(left),
                note: format!("wash-down before {}", ITEMS[item].code),
            }),
            &self.stamps[station],
            self.today,
        )?;
        self.sum.changeovers += 1;
        self.sum.events += 1;
        Ok(())
    }

    /// One finished batch of a product drawn from the mix.
    fn run(&mut self, b: &mut Bulk<'_, '_>) -> Result<(), StoreError> {
        let total: u64 = self.mix.iter().map(|m| m.1).sum();
        let mut r = self.rng.below(total);
        let mut product = self.mix[0].0;
        for &(i, w) in &self.mix {
            if r < w {
                product = i;
                break;
            }
            r -= w;
        }
        let (code, qty) = self.produce(b, product)?;
        // Now and then a case fails the metal detector: held, re-inspected, released.
        if self.rng.below(200) == 0 {
            for (to, reason) in [
                (
                    LotStatus::Hold,
                    "metal detector reject; holding for re-inspection",
                ),
                (LotStatus::Released, "re-inspected; passed"),
            ] {
                b.apply(
                    Command::SetStatus(StatusChange {
                        lot: code.clone(),
                        to,
                        date: self.date,
                        reason: reason.into(),
                    }),
                    &self.stamps[LINE],
                    self.today,
                )?;
                self.sum.status_changes += 1;
                self.sum.events += 1;
            }
        }
        self.to_ship.push((code, qty));
        Ok(())
    }

    /// Yesterday's finished lots leave: each to 3–8 customers, grouped by customer into
    /// shipping documents of up to six lines. One case of each lot stays as a retain.
    fn ship(&mut self, b: &mut Bulk<'_, '_>) -> Result<(), StoreError> {
        let lots = std::mem::take(&mut self.to_ship);
        let mut orders: BTreeMap<usize, Vec<LotLine>> = BTreeMap::new();
        for (code, qty) in lots {
            let cases = qty.milli() / 1000 - 1;
            let k = (3 + self.rng.below(6) as i64).min(cases);
            let mut chosen: Vec<usize> = Vec::with_capacity(k as usize);
            while (chosen.len() as i64) < k {
                // Squaring skews orders towards the big accounts at the front of the list.
                let u = self.rng.below(1 << 16);
                let c = ((u * u * CUSTOMERS) >> 32) as usize;
                if !chosen.contains(&c) {
                    chosen.push(c);
                }
            }
            let mut left = cases;
            for (i, c) in chosen.iter().enumerate() {
                let rest = k - i as i64;
                let share = if rest == 1 {
                    left
                } else {
                    (left / rest).max(1).min(left - (rest - 1))
                };
                left -= share;
                orders.entry(*c).or_default().push(LotLine {
                    lot: code.clone(),
                    qty: Qty::from_units(share),
                });
            }
        }
        for (c, lines) in orders {
            for chunk in lines.chunks(LINES_PER_SHIPMENT) {
                b.apply(
                    Command::Ship(NewShipment {
                        allow_expired: false,
                        customer: self.customers[c].clone(),
                        date: self.date,
                        reference: Some(Reference {
                            kind: "BOL".into(),
                            number: self.next_doc(),
                        }),
                        documents: Default::default(),
                        lines: chunk.to_vec(),
                    }),
                    &self.stamps[SHIPPING],
                    self.today,
                )?;
                self.sum.shipments += 1;
                self.sum.shipment_lines += chunk.len() as u64;
                self.sum.events += 1;
            }
        }
        Ok(())
    }
}

/// Item codes in `ITEMS` order, suppliers by id, customers in order.
type MasterData = (Vec<ItemCode>, HashMap<&'static str, PartyId>, Vec<PartyId>);

/// The generated plant's settings.
fn plant(spec: &Spec) -> Plant {
    Plant {
        location: Location {
            business_name: format!("Generated bakery (seed {})", spec.seed),
            phone: "503-555-0100".into(),
            street: "1 Oven Way".into(),
            city: "Salem".into(),
            state: "OR".into(),
            zip: "97301".into(),
            country: "US".into(),
        },
        ..Plant::default()
    }
}

fn master_data(b: &mut Bulk<'_, '_>, spec: &Spec, stamp: &Stamp) -> Result<MasterData, StoreError> {
    let mut suppliers = HashMap::new();
    for (i, (key, name, city, state, contact)) in SUPPLIERS.iter().enumerate() {
        let id = parse(PartyId::parse, key)?;
        b.apply(
            Command::AddParty(NewParty {
                id: id.clone(),
                role: Role::Supplier,
                location: Location {
                    business_name: (*name).into(),
                    street: format!("{} Industrial Way", 100 + i * 17),
                    city: (*city).into(),
                    state: (*state).into(),
                    zip: format!("9{:04}", 7000 + i),
                    phone: format!("503-555-{:04}", 1000 + i),
                    country: "US".into(),
                },
                gln: None,
                recall_contact: Contact {
                    name: (*contact).into(),
                    phone: format!("503-555-{:04}", 1000 + i),
                    email: format!("recalls@{}.example.com", key.to_ascii_lowercase()),
                },
            }),
            stamp,
            spec.end,
        )?;
        suppliers.insert(*key, id);
    }
    let mut customers = Vec::new();
    for i in 0..CUSTOMERS {
        let (town, state) = TOWNS[(i % TOWNS.len() as u64) as usize];
        let kind = CUSTOMER_KINDS[((i / 3) % CUSTOMER_KINDS.len() as u64) as usize];
        let id = parse(PartyId::parse, &format!("CUST{:04}", i + 1))?;
        b.apply(
            Command::AddParty(NewParty {
                id: id.clone(),
                role: Role::Customer,
                location: Location {
                    business_name: format!("{town} {kind} #{}", i + 1),
                    street: format!("{} Main St", 10 + i * 7),
                    city: town.into(),
                    state: state.into(),
                    zip: format!("9{:04}", 8000 + i),
                    phone: format!("541-555-{:04}", 2000 + i),
                    country: "US".into(),
                },
                gln: None,
                recall_contact: Contact {
                    name: format!("Buyer {}", i + 1),
                    phone: format!("541-555-{:04}", 2000 + i),
                    email: format!("buyer{}@example.com", i + 1),
                },
            }),
            stamp,
            spec.end,
        )?;
        customers.push(id);
    }
    let mut codes = Vec::new();
    for d in ITEMS {
        let code = parse(ItemCode::parse, d.code)?;
        b.apply(
            Command::AddItem(NewItem {
                code: code.clone(),
                description: ProductDescription {
                    name: d.name.into(),
                    brand: if d.supplier.is_empty() {
                        "Oven Way".into()
                    } else {
                        String::new()
                    },
                    ..Default::default()
                },
                unit: d.unit,
                kind: d.kind,
                gtin: None,
                shelf_life_days: (d.shelf_days > 0).then_some(d.shelf_days),
                ftl: d.ftl,
                receiving_temp: TempRange::default(),
            }),
            stamp,
            spec.end,
        )?;
        codes.push(code);
    }
    Ok((codes, suppliers, customers))
}

/// Each item's allergen declaration and each made item's recipe, in effect from the
/// first day: bought items declare what [`DECLARED`] says, made items what their inputs
/// carry. Returns what each item's lots carry, by item index, and the events written.
fn recipes_and_allergens(
    b: &mut Bulk<'_, '_>,
    spec: &Spec,
    start: NaiveDate,
    codes: &[ItemCode],
    list: &AllergenList,
) -> Result<(Vec<AllergenSet>, u64), StoreError> {
    let mut events = 0;
    let stamp = Stamp {
        operator: "qa".into(),
        station: "office".into(),
        at: start.and_time(NaiveTime::MIN).and_utc(),
    };
    let mut carries = vec![AllergenSet::EMPTY; ITEMS.len()];
    for (code, names) in DECLARED {
        carries[item_index(code)] = list.parse_set(names, "plantgen")?;
    }
    // RECIPES lists each made item after the made items it uses.
    for (out, _, inputs) in RECIPES {
        let set = inputs
            .iter()
            .fold(AllergenSet::EMPTY, |s, (i, _)| s | carries[item_index(i)]);
        carries[item_index(out)] = set;
    }
    for (i, set) in carries.iter().enumerate() {
        if set.is_empty() {
            continue;
        }
        b.apply(
            Command::DeclareAllergens {
                item: codes[i].clone(),
                allergens: list.names_of(*set),
                reason: "spec sheet".into(),
            },
            &stamp,
            spec.end,
        )?;
        events += 1;
    }
    for (out, qty, inputs) in RECIPES {
        b.apply(
            Command::AddRecipe(NewRecipe {
                item: codes[item_index(out)].clone(),
                effective: start,
                per: Qty::from_units(*qty),
                yield_tolerance_pct: RECIPE_TOLERANCE_PCT,
                lines: inputs
                    .iter()
                    .map(|(i, q)| RecipeLine {
                        item: codes[item_index(i)].clone(),
                        qty: Qty::from_units(*q),
                        tolerance_pct: RECIPE_TOLERANCE_PCT,
                        substitutes: Vec::new(),
                    })
                    .collect(),
                reason: "house recipe".into(),
            }),
            &stamp,
            spec.end,
        )?;
        events += 1;
    }
    Ok((carries, events))
}

/// Build the plant `spec` describes into `store`, which must hold no items yet.
/// `progress` hears after every commit.
pub fn generate(
    store: &Store,
    spec: &Spec,
    progress: &mut dyn FnMut(Progress),
) -> Result<Summary, StoreError> {
    if store.stats()?.items > 0 {
        return Err(StoreError::invalid(
            "db",
            format!(
                "{} already holds a plant; generate into a new file",
                store.path().display()
            ),
        ));
    }
    let days = spec.days();
    let start = spec
        .end
        .checked_sub_days(Days::new(days - 1))
        .ok_or_else(|| StoreError::invalid("lots", "too many days of history"))?;
    let stamps = Gen::stamps_for(start);
    // Written as it is, with no audit line: a generated plant's settings were not changed
    // by anyone.
    store.write(|tx| tx.put_plant(&plant(spec)))?;
    let (item_codes, suppliers, customers) = store.bulk(|b| master_data(b, spec, &stamps[DOCK]))?;
    let recipes = ITEMS
        .iter()
        .map(|d| {
            RECIPES.iter().find(|r| r.0 == d.code).map(|r| Resolved {
                qty: r.1,
                inputs: r.2.iter().map(|(i, q)| (item_index(i), *q)).collect(),
            })
        })
        .collect::<Vec<_>>();
    let allergens = AllergenList::default();
    let (carries, master_events) =
        store.bulk(|b| recipes_and_allergens(b, spec, start, &item_codes, &allergens))?;
    let silo_use = RECIPES
        .iter()
        .flat_map(|r| r.2.iter())
        .filter(|(i, _)| *i == "FLOUR-SILO")
        .map(|(_, q)| *q)
        .max()
        .unwrap_or(1);
    let mut g = Gen {
        spec,
        rng: Rng(spec.seed),
        item_codes,
        customers,
        suppliers,
        recipes,
        mix: PRODUCT_MIX
            .iter()
            .map(|(c, w)| (item_index(c), *w))
            .collect(),
        // Every batch takes at most `silo_use`, so a lot this size feeds at least `fanout`.
        silo_lot_qty: Qty::from_units(silo_use * i64::from(spec.fanout.max(1))),
        stock: ITEMS.iter().map(|_| VecDeque::new()).collect(),
        to_ship: Vec::new(),
        depth: Vec::new(),
        silo_uses: HashMap::new(),
        sum: Summary {
            days,
            events: master_events,
            ..Default::default()
        },
        date: start,
        today: spec.end,
        stamps,
        doc: 0,
        carries,
        line_carried: HashMap::new(),
        allergens,
    };
    let mut day = 0u64;
    while g.sum.lots < spec.lots {
        let events_before = g.sum.events;
        store.bulk(|b| {
            while g.sum.lots < spec.lots && g.sum.events - events_before < spec.events_per_commit {
                g.date = start
                    .checked_add_days(Days::new(day))
                    .filter(|d| *d <= spec.end)
                    .unwrap_or(spec.end);
                g.stamps = Gen::stamps_for(g.date);
                g.ship(b)?;
                let last_day = g.date == spec.end;
                let target = if last_day {
                    spec.lots
                } else {
                    (g.sum.lots + u64::from(g.spec.lots_per_day)).min(spec.lots)
                };
                while g.sum.lots < target {
                    g.run(b)?;
                }
                day += 1;
            }
            Ok(())
        })?;
        g.sum.commits += 1;
        progress(Progress {
            day: day.min(days),
            days,
            lots: g.sum.lots,
            events: g.sum.events,
        });
    }
    if let Some((id, uses)) = g
        .silo_uses
        .iter()
        .max_by_key(|(id, n)| (**n, std::cmp::Reverse(id.0)))
    {
        g.sum.fanout_lot = Some(store.lot(*id)?.code);
        g.sum.fanout_batches = *uses;
    }
    g.sum.days = day.min(days);
    Ok(g.sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lotline_domain::Direction;

    fn small() -> Spec {
        Spec {
            lots: 2_500,
            fanout: 120,
            lots_per_day: 250,
            events_per_commit: 1_000,
            ..Spec::new(0)
        }
    }

    #[test]
    fn a_small_plant_is_consistent_deep_and_has_its_big_lot() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("gen.redb"), true).unwrap();
        let spec = small();
        let mut commits = 0;
        let sum = generate(&store, &spec, &mut |_| commits += 1).unwrap();
        assert_eq!(commits, sum.commits);
        assert!(
            sum.commits > 1,
            "the load spans several transactions: {sum:?}"
        );
        let stats = store.stats().unwrap();
        assert_eq!(stats.lots, sum.lots);
        assert_eq!(stats.events, sum.events);
        assert_eq!(stats.links, sum.links);
        assert!(
            sum.lots >= spec.lots && sum.lots < spec.lots + 50,
            "{sum:?}"
        );
        assert!(
            sum.shipments > 0 && sum.adjustments + sum.status_changes > 0,
            "{sum:?}"
        );
        assert!((3..=5).contains(&sum.max_depth), "{sum:?}");
        // Every batch is on its recipe and every product change is cleaned down, so
        // nothing is held for an allergen; lines do change over.
        assert!(sum.changeovers > 0, "{sum:?}");
        let held = store
            .find_lots(&lotline_domain::LotFilter {
                status: Some(LotStatus::Hold),
                ..Default::default()
            })
            .unwrap();
        assert!(held.is_empty(), "{held:?}");

        let report = store.check().unwrap();
        assert!(
            report.problems.is_empty(),
            "{:?}",
            &report.problems[..report.problems.len().min(5)]
        );

        // The big lot really is used by that many batches, and its trace reaches them.
        let big = sum.fanout_lot.clone().expect("a silo lot was received");
        assert!(sum.fanout_batches >= u64::from(spec.fanout), "{sum:?}");
        let t = store.trace(&big, Direction::Forward).unwrap();
        let root = t.root;
        let direct = t.links.iter().filter(|l| l.input == root).count() as u64;
        assert_eq!(direct, sum.fanout_batches);
        assert!(!t.shipments.is_empty());

        // Some finished lot is 3 or more lots deep, counting itself and the receipt.
        let finished = store
            .find_lots(&lotline_domain::LotFilter {
                item: Some(ItemCode::parse("DANISH-CC", "item").unwrap()),
                ..Default::default()
            })
            .unwrap();
        let deepest = finished
            .iter()
            .map(|l| depth(&store.trace(&l.code, Direction::Backward).unwrap()))
            .max()
            .unwrap();
        assert!(deepest >= 3, "{deepest}");
    }

    /// Lots on the longest backward path from the root, the root included.
    fn depth(t: &lotline_domain::Trace) -> u32 {
        fn go(t: &lotline_domain::Trace, id: LotId, memo: &mut HashMap<LotId, u32>) -> u32 {
            if let Some(d) = memo.get(&id) {
                return *d;
            }
            let d = 1 + t
                .links
                .iter()
                .filter(|l| l.output == id)
                .map(|l| go(t, l.input, memo))
                .max()
                .unwrap_or(0);
            memo.insert(id, d);
            d
        }
        go(t, t.root, &mut HashMap::new())
    }

    #[test]
    fn the_same_seed_makes_the_same_plant() {
        let spec = Spec {
            lots: 400,
            ..small()
        };
        let build = |seed| {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(&dir.path().join("gen.redb"), true).unwrap();
            let sum = generate(
                &store,
                &Spec {
                    seed,
                    ..spec.clone()
                },
                &mut |_| {},
            )
            .unwrap();
            let last = store
                .events_between(spec.end - Days::new(30), spec.end)
                .unwrap();
            (sum, last)
        };
        let (a, b, c) = (build(7), build(7), build(8));
        assert_eq!(a, b);
        assert_ne!(a.1, c.1);
    }

    #[test]
    fn refuses_a_database_that_holds_a_plant() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("gen.redb"), true).unwrap();
        generate(
            &store,
            &Spec {
                lots: 50,
                ..small()
            },
            &mut |_| {},
        )
        .unwrap();
        let e = generate(&store, &small(), &mut |_| {}).unwrap_err();
        assert!(e.to_string().starts_with("db: "), "{e}");
    }
}
