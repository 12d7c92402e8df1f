//! The full-screen terminal app (DESIGN.md §4.3).

pub mod keymap;

pub use keymap::{Keymap, KeymapError};
