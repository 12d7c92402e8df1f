pub mod cli;
pub mod demo;
pub mod domain;
pub mod export;
#[cfg(test)]
pub(crate) mod fuzz;
pub mod plantgen;
pub mod scan;
pub mod server;
pub mod station;
pub mod store;
pub mod tui;
