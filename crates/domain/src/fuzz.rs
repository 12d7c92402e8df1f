//! How many cases the property tests ("fuzz targets") run. cargo-fuzz cannot run in CI
//! here, so every target is a proptest over the same entry point a fuzzer would drive.
//!
//! Two tiers, like the rest of the suite: a target with many cases runs a few of them in
//! `cargo test` and all of them in an ignored twin that `cargo test -- --ignored` runs
//! (`fuzz_tiers!`). Nothing is read from the environment: a test's count is in its source.
//! RELIABILITY.md lists the targets and their counts.

use proptest::prelude::ProptestConfig;

/// Re-exported for `fuzz_tiers!`, so a crate using it needs no name of its own for it.
pub use proptest;

/// The proptest settings for a target that runs `cases` cases.
pub fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// A `proptest!` block in two tiers: its tests run `fast` cases under their own names, and
/// again `full` cases as `#[ignore]`d twins in the module `$slow` (the slow tier,
/// `cargo test -- --ignored`).
///
/// ```text
/// lotline_domain::fuzz_tiers! {
///     fast = 200, full = 2000, slow = full_count;
///     #[test]
///     fn never_panics(s in any::<String>()) { let _ = parse(&s); }
/// }
/// ```
#[macro_export]
macro_rules! fuzz_tiers {
    (
        fast = $fast:expr, full = $full:expr, slow = $slow:ident;
        $( $(#[$meta:meta])* fn $name:ident ($($args:tt)*) $body:block )*
    ) => {
        $crate::fuzz::proptest::proptest! {
            #![proptest_config($crate::fuzz::config($fast))]
            $( $(#[$meta])* fn $name($($args)*) $body )*
        }

        /// The same properties at their full count: the slow tier.
        mod $slow {
            #[allow(unused_imports)]
            use super::*;
            $crate::fuzz::proptest::proptest! {
                #![proptest_config($crate::fuzz::config($full))]
                $(
                    #[ignore = "slow tier: cargo test -- --ignored"]
                    $(#[$meta])* fn $name($($args)*) $body
                )*
            }
        }
    };
}
