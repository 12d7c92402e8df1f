//! How many cases the property tests ("fuzz targets") run: a bounded number in `cargo
//! test`, more on request. cargo-fuzz cannot run in CI here, so every target is a proptest
//! over the same entry point a fuzzer would drive.
//!
//! `PROPTEST_CASES=N` runs N cases of every target instead of its default (e.g. 20000
//! before a release); RELIABILITY.md lists the targets and their default counts.

use proptest::prelude::ProptestConfig;

/// The proptest settings for a target that runs `default` cases unless `PROPTEST_CASES`
/// says otherwise.
pub fn config(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
        ..ProptestConfig::default()
    }
}
