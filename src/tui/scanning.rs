//! What a scan does where it lands (DESIGN.md §4.4). The decoder (`input`) turns a
//! scanner's burst into one `Input::Scan`; this module decides what it means on the screen
//! in front.

use super::App;
use super::input::Input;
use super::queue::Outcome;
use crate::station::Station;
use ratatui::crossterm::event::KeyCode;

/// Act on one scan.
pub fn route(app: &mut App, text: &str, station: &dyn Station) -> Outcome {
    as_keys(app, text, station)
}

/// A scan that means nothing special where it lands does what the scanner's keys would
/// have done: its text typed, then Enter.
fn as_keys(app: &mut App, text: &str, station: &dyn Station) -> Outcome {
    let mut changed = false;
    for c in text.chars().filter(|c| !c.is_control()) {
        changed |= app.handle(Input::code(KeyCode::Char(c)), station);
    }
    changed |= app.handle(Input::code(KeyCode::Enter), station);
    Outcome {
        changed,
        events: Vec::new(),
    }
}
