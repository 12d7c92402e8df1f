//! Golden files: insta snapshots kept in tests/snapshots/, named `AREA__NAME.snap` after
//! the module that checks them.

use std::path::Path;

/// Check `value` against tests/snapshots/`area`__`name`.snap (`cargo insta review` to
/// accept a reviewed change).
pub fn assert_golden(area: &str, name: &str, value: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(format!("{area}__{name}"), value));
}
