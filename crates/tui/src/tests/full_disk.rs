//! The app on a disk that fills up (issue 11, finding 6): a save that fails says the disk
//! is full and keeps the form; a search that cannot run says so instead of "No lots
//! found"; once space is back the same app saves again, without a restart.

use super::*;
use lotline_domain::LotFilter;
use lotline_station::testing::{Disk, full_disk};
use ratatui::crossterm::event::KeyCode;

fn status(a: &App) -> String {
    a.status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default()
}

fn run(a: &mut App, st: &Local, inputs: impl IntoIterator<Item = Input>) {
    for i in inputs {
        a.handle(i, st);
    }
}

/// Type into the Receive form field by field; an empty entry keeps what the field holds.
fn fill_receipt(a: &mut App, st: &Local, entries: [&str; 4]) {
    for t in entries {
        run(a, st, Input::typed(t));
        run(a, st, [Input::code(KeyCode::Enter)]);
    }
}

#[test]
fn the_app_recovers_from_a_full_disk_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Disk::new();
    let store = full_disk::open(&dir.path().join("plant.redb"), true, &disk).unwrap();
    let st = Local::new(store, "ana", "dock-1")
        .with_clock(Clock::Fixed("2026-11-21T09:00:00Z".parse().unwrap()));
    item(&st, "FLOUR", "Flour", Unit::Kg, ItemKind::Ingredient, 240);
    party(&st, "MILL", "Prairie Mill Co.", Role::Supplier);
    let mut a = App::new(Keymap::default_map(), Theme::new(false, false), now(), &st);
    fill_receipt(&mut a, &st, ["flour", "mill", "M-1", "25"]);
    run(&mut a, &st, [Input::ctrl('s')]);
    let first = a.receive.last.as_ref().expect("saved").code.clone();

    // The disk fills up: the save fails, says why and what to do, and the form is kept.
    disk.fill_up_after(0);
    // (The supplier is kept after a save: one truck, many cases.)
    fill_receipt(&mut a, &st, ["flour", "", "M-2", "25"]);
    run(&mut a, &st, [Input::ctrl('s')]);
    assert!(status(&a).contains("the disk is full"), "{}", status(&a));
    assert!(status(&a).contains("free space"), "{}", status(&a));
    assert_eq!(a.receive.last.as_ref().unwrap().code, first);
    assert_eq!(a.receive.form.value("supplier-lot"), "M-2");

    // Lots, while the disk is still full: the search cannot run, and says so.
    run(&mut a, &st, [Input::code(KeyCode::F(6))]);
    run(&mut a, &st, [Input::code(KeyCode::Enter)]);
    let shown = screen(&a, 80, 24);
    assert!(!shown.contains("No lots found"), "{shown}");
    assert!(shown.contains("could not be run"), "{shown}");

    // Space is back: the same app finds the lot and saves the receipt that failed.
    disk.free_space();
    run(&mut a, &st, [Input::code(KeyCode::Enter)]);
    assert!(screen(&a, 80, 24).contains(first.as_str()));
    run(&mut a, &st, [Input::code(KeyCode::F(2)), Input::ctrl('s')]);
    let second = a.receive.last.as_ref().expect("saved").code.clone();
    assert_ne!(second, first, "{}", status(&a));
    assert_eq!(st.lots(LotFilter::default()).unwrap().len(), 2);
    assert!(!st.store().is_damaged());
}
