//! The nouns and rules of lot traceability. Pure: no I/O, no clock, no terminal —
//! callers pass in "today" and the stamp.

pub mod api;
mod code;
mod error;
mod event;
pub mod isodate;
mod item;
mod kde;
mod label_data;
mod lot;
mod party;
mod pattern;
mod plant;
mod qty;

pub use code::*;
pub use error::{Invalid, Problems, Refused};
pub use event::*;
pub use item::*;
pub use kde::{KdeQuery, KdeRecords};
pub use label_data::{
    LabelElement, MAX_LABEL_ELEMENTS, ScannedReceipt, check_label, describe_label,
};
pub use lot::*;
pub use party::*;
pub use pattern::*;
pub use plant::{LabelSize, Plant, check_draft_hours};
pub use qty::*;
mod request;
pub mod text;
pub use request::*;
mod balance;
mod checks;
pub use balance::{MassBalance, RecordedBalance};
pub use checks::*;
mod mock;
pub use mock::*;
mod exchange;
pub use exchange::*;
#[cfg(any(test, feature = "fuzz"))]
pub mod fuzz;
pub mod scan;
mod trace;
pub mod words;
pub use trace::*;
mod views;
pub use views::*;
mod allergen;
pub use allergen::*;
mod recipe;
pub use recipe::*;
mod draft;
pub use draft::*;
