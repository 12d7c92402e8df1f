//! Every integration test in one binary: one build and one link for all of them, and one
//! kit (`support`) for running the real `lotline` the same hermetic way everywhere. A
//! module per area; `cargo test --test it cli::` runs one area's tests.
//!
//! Two tiers: `cargo test` runs the fast one; the long rounds (killed writers, damaged
//! files, pseudo-terminal sessions, demo builds from scratch, the deployment) are
//! `#[ignore]`d into the slow tier that `cargo test -- --ignored` runs, most with a short
//! version in the fast tier. `hermetic` shows that a machine's deployment and the shell's
//! LOTLINE_* do not reach the tests.

mod support;

mod attack_bounds;
mod attack_paths;
mod attack_requests;
mod cli;
mod cli_init;
mod cli_recall;
mod cli_recipes;
mod damaged;
mod deploy;
mod drafts;
mod epcis;
mod epcis_partner;
mod faults;
mod floor;
mod fsma;
mod gs1_diff;
mod heartbeat;
mod hermetic;
mod hostile;
mod kill;
mod label_data;
mod server;
mod tui;
