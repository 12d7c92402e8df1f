pub mod cli;
pub mod demo;
pub mod domain;
pub mod plantgen;
pub mod station;
pub mod store;
