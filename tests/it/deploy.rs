//! README's "Setting it up as a service", word for word: the blocks README marks as tested
//! are run as root in a private mount namespace (so the machine's own /etc, /run and
//! /var/lib are untouched), with the shipped unit, sysusers, tmpfiles, config and roles
//! files; then a clerk, QA and an outsider use the plant with no --db and no environment of
//! their own. The steps and the checks are in tests/deploy/plant.sh.

use std::path::Path;
use std::process::Command;

/// A private mount namespace (the machine's /etc, /run, /var/lib stay as they are) and a
/// private process namespace (only this test's servers are seen, and none outlives it).
const NAMESPACES: [&str; 5] = ["--mount", "--propagation", "private", "--pid", "--fork"];

fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Slow tier: installs and starts a whole service, users and all.
#[test]
#[ignore = "slow tier: cargo test -- --ignored"]
fn readme_service_steps_bring_a_plant_up_for_every_clerk() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: the deployment test needs root (it creates users and mounts)");
        return;
    }
    for tool in [
        "unshare",
        "setpriv",
        "runuser",
        "useradd",
        "usermod",
        "systemd-sysusers",
        "systemd-tmpfiles",
        "pgrep",
    ] {
        if !have(tool) {
            eprintln!("SKIPPED: the deployment test needs {tool}, which this machine lacks");
            return;
        }
    }
    let probe = Command::new("unshare")
        .args(NAMESPACES)
        .arg("true")
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!(
            "SKIPPED: this machine does not allow a private mount and process namespace (unshare --mount --pid)"
        );
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("unshare")
        .args(NAMESPACES)
        .arg("bash")
        .arg(repo.join("tests/deploy/plant.sh"))
        .arg(env!("CARGO_BIN_EXE_lotline"))
        .arg(repo)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .unwrap();
    let r = crate::support::Run::from(out);
    let text = r.text();
    assert_eq!(r.code, 0, "the deployment failed:\n{text}");
    assert!(text.contains("DEPLOYMENT OK"), "{text}");
}
