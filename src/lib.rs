pub mod domain;
pub mod station;
pub mod store;
