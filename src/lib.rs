pub mod cli;
pub mod demo;
pub mod domain;
pub mod export;
pub mod scan;
pub mod station;
pub mod store;
pub mod tui;
