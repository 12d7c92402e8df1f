//! The walls between the layers, as the workspace's manifests state them: each crate may
//! use only the lotline crates before it (docs/architecture.md), redb only in the store,
//! ratatui only in the app, clap only in the command line. The compiler holds these walls
//! once the manifests are right; this test holds the manifests.

use std::collections::BTreeMap;
use std::process::Command;

/// Each package's lotline dependencies, and the third-party crates it must not name.
const LAYERS: &[(&str, &[&str])] = &[
    ("lotline-files", &[]),
    ("lotline-domain", &[]),
    ("lotline-store", &["lotline-domain", "lotline-files"]),
    (
        "lotline-station",
        &["lotline-domain", "lotline-files", "lotline-store"],
    ),
    (
        "lotline-export",
        &["lotline-domain", "lotline-files", "lotline-station"],
    ),
    (
        "lotline-tui",
        &[
            "lotline-domain",
            "lotline-export",
            "lotline-files",
            "lotline-station",
        ],
    ),
    (
        "lotline",
        &[
            "lotline-domain",
            "lotline-export",
            "lotline-files",
            "lotline-station",
            "lotline-tui",
        ],
    ),
];

/// Third-party crates that belong to one layer only (normal dependencies).
const ONLY_IN: &[(&str, &str)] = &[
    ("redb", "lotline-store"),
    ("ratatui", "lotline-tui"),
    ("tui-input", "lotline-tui"),
    ("clap", "lotline"),
];

/// Front ends: not even their tests may name the store.
const FRONT_ENDS: &[&str] = &["lotline-export", "lotline-tui"];

#[test]
fn each_crate_uses_only_the_layers_before_it() {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--offline",
            "--no-deps",
            "--format-version",
            "1",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let allowed: BTreeMap<&str, &[&str]> = LAYERS.iter().copied().collect();
    let mut seen = Vec::new();
    for p in meta["packages"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        let Some(ok) = allowed.get(name) else {
            panic!("{name} is a workspace crate with no place in LAYERS: give it one");
        };
        seen.push(name);
        for d in p["dependencies"].as_array().unwrap() {
            let dep = d["name"].as_str().unwrap();
            let dev = d["kind"].as_str() == Some("dev");
            if dep.starts_with("lotline") && !dev {
                assert!(ok.contains(&dep), "{name} must not depend on {dep}");
            }
            if dep == "lotline-store" && FRONT_ENDS.contains(&name) {
                panic!("{name} is a front end: not even its tests may use lotline-store");
            }
            for (krate, home) in ONLY_IN {
                if dep == *krate && !dev {
                    assert_eq!(name, *home, "{krate} belongs to {home} only");
                }
            }
        }
    }
    for (name, _) in LAYERS {
        let is_member = seen.contains(name);
        // lotline-files is optional until some crate needs it.
        assert!(
            is_member || *name == "lotline-files",
            "{name} is missing from the workspace"
        );
    }
}

/// The design as built is told by the repository's own pages: every file or folder they
/// name exists, and none points outside the repository.
#[test]
fn the_docs_name_only_files_the_repository_has() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![
        root.join("README.md"),
        root.join("RELIABILITY.md"),
        root.join("BENCHMARKS.md"),
    ];
    for dir in ["docs", "crates"] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() && !p.ends_with("target") {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "md") {
                    pages.push(p);
                }
            }
        }
    }
    // The names of the files outside, spelt in pieces so that this test does not itself
    // read as a page citing them.
    let outside = [["DES", "IGN"].concat(), ["..", "/shared"].concat()];
    let mut wrong = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        let here = page.strip_prefix(root).unwrap().display().to_string();
        for (n, line) in text.lines().enumerate() {
            if outside.iter().any(|o| line.contains(o.as_str())) {
                wrong.push(format!(
                    "{here}:{}: cites a file outside the repository",
                    n + 1
                ));
            }
            for word in line.split(|c: char| !(c.is_alphanumeric() || "_./-".contains(c))) {
                let named = [
                    "crates/",
                    "src/",
                    "tests/",
                    "benches/",
                    "packaging/",
                    "keymaps/",
                ]
                .iter()
                .any(|top| word.starts_with(top));
                let path = word.trim_end_matches(['.', '/']);
                if named && !path.contains("...") && !root.join(path).exists() {
                    wrong.push(format!("{here}:{}: {path} does not exist", n + 1));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
