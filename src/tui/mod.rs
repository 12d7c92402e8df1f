//! The full-screen terminal app (DESIGN.md §4.3).

pub mod config;
pub mod draw;
pub mod form;
pub mod input;
pub mod keymap;
pub mod queue;
pub mod theme;

pub use config::{Config, Options};
pub use keymap::{Keymap, KeymapError};
