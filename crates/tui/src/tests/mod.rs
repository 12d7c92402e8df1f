//! Tests of the app: screen updates against a real `Local` station over a temporary
//! database with a fixed clock, stories through the whole app, and snapshots.

mod app;
mod drafts;
mod exports;
mod field_order;
mod full_disk;
mod fuzz;
mod kde_check;
mod labels;
mod live;
mod master;
mod mock;
mod paint;
mod panes;
mod recipe_edit;
mod recipes;
mod scanning;
mod screens;
mod snapshots;
mod trace;

use super::App;
use super::input::Input;
use super::keymap::Keymap;
use super::screens::FormAction;
use super::theme::Theme;
use chrono::NaiveDate;
use lotline_domain::*;
use lotline_station::Clock;
use lotline_station::{Local, StationExt};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_input::InputRequest;

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

/// The app's clock in tests: 09:00 on the plant's day, on UTC's clock whatever zone the
/// machine is in (a plant's machine has its own), so every time on screen is the same.
pub fn now() -> chrono::DateTime<chrono::FixedOffset> {
    today()
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_utc()
        .fixed_offset()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A small bakery with lots in every state the screens care about.
pub struct Plant {
    pub dir: tempfile::TempDir,
    pub st: Local,
    pub flour: LotCode,
    /// Expired on 2026-11-10.
    pub old_eggs: LotCode,
    pub eggs: LotCode,
    pub sugar: LotCode,
    /// On hold.
    pub held_sugar: LotCode,
    /// Cookies made 2026-11-10 (expire first) and 2026-11-15.
    pub cookies_a: LotCode,
    pub cookies_b: LotCode,
}

pub fn station(dir: &tempfile::TempDir, user: &str) -> Local {
    Local::open(&dir.path().join("plant.redb"), true, user, "dock-1")
        .unwrap()
        .with_clock(Clock::Fixed("2026-11-21T09:00:00Z".parse().unwrap()))
}

fn item(st: &Local, code: &str, name: &str, unit: Unit, kind: ItemKind, shelf: u32) {
    st.add_item(NewItem {
        code: ItemCode::parse(code, "code").unwrap(),
        description: ProductDescription {
            name: name.into(),
            ..Default::default()
        },
        unit,
        kind,
        gtin: None,
        shelf_life_days: Some(shelf),
        ftl: code == "EGGS",
        receiving_temp: TempRange::default(),
    })
    .unwrap();
}

fn party(st: &Local, id: &str, name: &str, role: Role) {
    st.add_party(NewParty {
        id: PartyId::parse(id, "id").unwrap(),
        role,
        location: Location {
            business_name: name.into(),
            ..Default::default()
        },
        gln: None,
        recall_contact: Contact::default(),
    })
    .unwrap();
}

fn receive(
    st: &Local,
    item: &str,
    sup: &str,
    slot: &str,
    qty: i64,
    date: &str,
    exp: &str,
) -> LotCode {
    st.receive(NewReceipt {
        item: ItemCode::parse(item, "item").unwrap(),
        supplier: PartyId::parse(sup, "supplier").unwrap(),
        supplier_lot: SupplierLot::parse(slot, "supplier-lot").unwrap(),
        qty: Qty::from_units(qty),
        unit: None,
        date: day(date),
        expiry: Some(day(exp)),
        reference: Some(Reference::parse("BOL:100", "ref").unwrap()),
        documents: Default::default(),
        quality: Quality::default(),
        tlc_source_ref: None,
    })
    .unwrap()
    .code
}

fn produce(st: &Local, item: &str, qty: i64, date: &str, inputs: &[(&LotCode, i64)]) -> LotCode {
    st.produce(NewBatch {
        // The bakery's short-lived dough is batched past its expiry on purpose, so the
        // screens have expired stock to show; the override is recorded like any other.
        allow_expired: true,
        item: ItemCode::parse(item, "item").unwrap(),
        qty: Qty::from_units(qty),
        unit: None,
        date: day(date),
        line: Some("L1".into()),
        // No work orders at this bakery: the reason stands in for one, as it must for
        // a batch with eggs (on the Food Traceability List).
        reference: None,
        documents: Documents {
            second: None,
            none_because: Some("no work orders at this bakery".into()),
        },
        expiry: None,
        inputs: inputs
            .iter()
            .map(|(l, q)| LotLine {
                lot: (*l).clone(),
                qty: Qty::from_units(*q),
            })
            .collect(),
    })
    .unwrap()
    .code
}

pub fn plant() -> Plant {
    let dir = tempfile::tempdir().unwrap();
    let st = station(&dir, "ana");
    let mut p = st.plant().unwrap();
    p.location.business_name = "Test Bakery".into();
    st.set_plant(p).unwrap();
    item(
        &st,
        "FLOUR",
        "All-purpose flour",
        Unit::Kg,
        ItemKind::Ingredient,
        240,
    );
    item(
        &st,
        "EGGS",
        "Shell eggs, large",
        Unit::Dozen,
        ItemKind::Ingredient,
        30,
    );
    item(
        &st,
        "SUGAR",
        "Granulated sugar",
        Unit::Kg,
        ItemKind::Ingredient,
        720,
    );
    item(
        &st,
        "DOUGH",
        "Cookie dough",
        Unit::Kg,
        ItemKind::Intermediate,
        5,
    );
    item(
        &st,
        "COOKIE",
        "Cookies 12 x 200 g",
        Unit::Case,
        ItemKind::Finished,
        90,
    );
    party(&st, "MILL", "Prairie Mill Co.", Role::Supplier);
    party(&st, "FARM", "Sunny Ridge Farm", Role::Supplier);
    party(&st, "SHOP", "Corner Market", Role::Customer);
    party(&st, "CAFE", "Main St Cafe", Role::Customer);
    let flour = receive(
        &st,
        "FLOUR",
        "MILL",
        "M-88",
        1000,
        "2026-11-01",
        "2027-07-01",
    );
    let old_eggs = receive(
        &st,
        "EGGS",
        "FARM",
        "f-1021",
        20,
        "2026-10-11",
        "2026-11-10",
    );
    let eggs = receive(
        &st,
        "EGGS",
        "FARM",
        "f-1121",
        50,
        "2026-11-05",
        "2026-12-05",
    );
    let sugar = receive(&st, "SUGAR", "MILL", "S-7", 200, "2026-11-02", "2028-11-01");
    let held_sugar = receive(&st, "SUGAR", "MILL", "S-8", 200, "2026-11-03", "2028-11-02");
    st.set_status(StatusChange {
        lot: held_sugar.clone(),
        to: LotStatus::Hold,
        date: today(),
        reason: "torn bags".into(),
    })
    .unwrap();
    let dough = produce(
        &st,
        "DOUGH",
        200,
        "2026-11-10",
        &[(&flour, 150), (&eggs, 10)],
    );
    let cookies_a = produce(&st, "COOKIE", 40, "2026-11-10", &[(&dough, 100)]);
    let cookies_b = produce(&st, "COOKIE", 30, "2026-11-15", &[(&dough, 80)]);
    Plant {
        dir,
        st,
        flour,
        old_eggs,
        eggs,
        sugar,
        held_sugar,
        cookies_a,
        cookies_b,
    }
}

/// GS1 trade items with GTINs: oats in kg, butter by the case, cream in litres.
pub const OATS: &str = "09501101530003";
pub const BUTTER: &str = "09501101530010";
pub const CREAM: &str = "09501101530027";
/// A GTIN no item has.
pub const STRANGER: &str = "09501101530096";
pub const GS: char = '\u{1d}';

pub fn with_gtins(p: &Plant) {
    for (code, name, unit, gtin) in [
        ("OATS", "Rolled oats", Unit::Kg, OATS),
        ("BUTTER", "Butter 20 x 1 lb", Unit::Case, BUTTER),
        ("CREAM", "Heavy cream", Unit::L, CREAM),
    ] {
        p.st.add_item(NewItem {
            code: ItemCode::parse(code, "code").unwrap(),
            description: ProductDescription {
                name: name.into(),
                ..Default::default()
            },
            unit,
            kind: ItemKind::Ingredient,
            gtin: Some(Gtin::parse(gtin, "gtin").unwrap()),
            shelf_life_days: Some(90),
            ftl: false,
            receiving_temp: TempRange::default(),
        })
        .unwrap();
    }
    p.st.add_party(NewParty {
        id: PartyId::parse("DAIRY", "id").unwrap(),
        role: Role::Supplier,
        location: Location {
            business_name: "Valley Dairy".into(),
            ..Default::default()
        },
        gln: Some(Gln::parse("0950110153007", "gln").unwrap()),
        recall_contact: Contact::default(),
    })
    .unwrap();
}

/// Typing `text` into the focused field, one key at a time.
pub fn chars(text: &str) -> Vec<FormAction> {
    text.chars()
        .map(|c| FormAction::Edit(InputRequest::InsertChar(c)))
        .collect()
}

/// The app on the plant with the default keymap and colour theme.
pub fn app(p: &Plant) -> App {
    app_on(&p.st)
}

/// The app on `st`, with the default keys and colours.
pub fn app_on(st: &Local) -> App {
    App::new(Keymap::default_map(), Theme::new(false, false), now(), st)
}

/// The bakery with quinn as its only QA user, opened by the clerk cory instead.
pub fn clerk_on(p: Plant) -> (tempfile::TempDir, Local) {
    let mut plant = p.st.plant().unwrap();
    plant.qa_users = vec!["quinn".into()];
    p.st.set_plant(plant).unwrap();
    let Plant { dir, st, .. } = p;
    // One station per database file: the clerk's replaces the bakery's.
    drop(st);
    let clerk = station(&dir, "cory");
    (dir, clerk)
}

/// Feed inputs to the app.
pub fn keys(app: &mut App, p: &Plant, inputs: impl IntoIterator<Item = Input>) {
    for i in inputs {
        app.handle(i, &p.st);
    }
}

/// Type text into the app, then press each named key.
pub fn typed(app: &mut App, p: &Plant, text: &str) {
    keys(app, p, Input::typed(text));
}

/// Snapshot `a` at `w`x`h` as `name_WxH` (every screen is kept at 80x24 and 40x16).
pub fn snap(name: &str, a: &App, (w, h): (u16, u16)) {
    insta::with_settings!({prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen(a, w, h));
    });
}

/// The screen as text, one quoted line per row (ratatui's TestBackend view).
pub fn screen(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| app.render(f)).unwrap();
    if w == 0 {
        // TestBackend cannot show a buffer without columns.
        return String::new();
    }
    t.backend().to_string()
}

/// The screen's buffer, styles and all.
pub fn buffer(app: &App, w: u16, h: u16) -> ratatui::buffer::Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| app.render(f)).unwrap();
    t.backend().buffer().clone()
}
