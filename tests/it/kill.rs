//! Killed writers lose nothing acknowledged. Real `lotline` processes record receipts,
//! batches and shipments straight into the file (`--no-server`), and are killed with
//! SIGKILL at random moments, mid-commit included. After every round `check` is clean and
//! every lot whose code a command printed (its acknowledgement) is in the file.
//!
//! The same through `lotline serve`, the server killed mid-write. A few rounds of each in
//! the fast tier; the slow tier (`cargo test -- --ignored`) runs 50 and 6.

use crate::support::small;
use crate::support::{Lcg, lotline};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn command(db: &Path, args: &[&str]) -> Command {
    let mut c = lotline();
    c.arg("--db")
        .arg(db)
        .args(args)
        .env("LOTLINE_NO_SERVER", "1")
        .env("LOTLINE_STATION", "kill-test")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn ok(db: &Path, args: &[&str]) -> String {
    let out = command(db, args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Run a command and kill it after `after` unless it finished first. Its output if it
/// finished on its own with success: the acknowledgement.
fn run_maybe_killed(db: &Path, args: &[&str], after: Duration) -> Option<String> {
    let mut child = command(db, args).spawn().unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let err = String::from_utf8_lossy(&out.stderr);
            // A refusal is fine (a lot used up, the file busy); a crash is not.
            assert!(
                status
                    .code()
                    .is_some_and(|c| (0..=2).contains(&c) || c == 74 || c == 75),
                "{args:?} ended {status}: {err}"
            );
            assert!(!err.contains("panicked"), "{args:?}: {err}");
            return (status.success() && !text.is_empty()).then_some(text);
        }
        if start.elapsed() >= after {
            // SIGKILL, by the pid of the process this test started.
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_micros(300));
    }
}

#[test]
fn killed_writers_lose_nothing_acknowledged() {
    killed_writers(5);
}

#[test]
#[ignore = "slow tier: cargo test -- --ignored"]
fn killed_writers_lose_nothing_acknowledged_in_50_rounds() {
    killed_writers(50);
}

fn killed_writers(rounds: u64) {
    let seed: u64 = 20261201;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("plant.redb");
    for args in [small::FLOUR, small::BREAD, small::MILL, small::SHOP] {
        ok(&db, args);
    }
    let mut rng = Lcg(seed);
    let mut acked: BTreeSet<String> = BTreeSet::new();
    let mut flour: Vec<String> = Vec::new();
    let mut bread: Vec<String> = Vec::new();
    let (mut killed, mut shipments) = (0u64, 0u64);
    for round in 0..rounds {
        // One operation killed at a random moment (0–60 ms covers start-up, the commit
        // and exit), then one left to finish so the plant keeps growing.
        for attempt in 0..2 {
            let kill_after = if attempt == 0 {
                Duration::from_micros(rng.below(60_000))
            } else {
                Duration::from_secs(60)
            };
            let kind = rng.below(3);
            let supplier_lot = format!("S-{round}-{attempt}");
            let input;
            let line;
            let args: Vec<&str> = match (kind, flour.last(), bread.last()) {
                (1, Some(f), _) => {
                    input = format!("{f}=1");
                    vec![
                        "produce", "--item", "BREAD", "--qty", "1", "--input", &input,
                    ]
                }
                (2, _, Some(b)) => {
                    line = format!("{b}=0.1");
                    vec!["ship", "--customer", "SHOP", "--lot", &line]
                }
                _ => vec![
                    "receive",
                    "--item",
                    "FLOUR",
                    "--supplier",
                    "MILL",
                    "--supplier-lot",
                    &supplier_lot,
                    "--qty",
                    "50",
                ],
            };
            match run_maybe_killed(&db, &args, kill_after) {
                Some(out) => match args[0] {
                    "receive" => {
                        acked.insert(out.clone());
                        flour.push(out);
                    }
                    "produce" => {
                        acked.insert(out.clone());
                        bread.push(out);
                    }
                    _ => shipments += 1,
                },
                None => killed += u64::from(attempt == 0),
            }
        }
        sound_with_every_acknowledged_lot(&db, &acked, &format!("round {round} (seed {seed})"));
    }
    eprintln!(
        "{rounds} rounds (seed {seed}): {killed} processes killed, {} lots and {shipments} shipments acknowledged, all present, check clean",
        acked.len()
    );
}

/// The same through the server: clients record receipts through `lotline serve`, and the
/// server is killed with SIGKILL at a random moment of their writes (mid-commit
/// included). A client that got its lot code back was acknowledged by a commit, so after
/// every round `check` is clean and every acknowledged lot is in the file.
///
/// Each round starts a server: 2 in the fast tier, 6 in the slow one.
#[test]
fn a_killed_server_loses_nothing_acknowledged() {
    killed_servers(2);
}

#[test]
#[ignore = "slow tier: cargo test -- --ignored"]
fn a_killed_server_loses_nothing_acknowledged_in_6_rounds() {
    killed_servers(6);
}

fn killed_servers(rounds: u64) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("plant.redb");
    let socket = lotline_station::remote::socket_path(&db);
    for args in [small::FLOUR, small::MILL] {
        ok(&db, args);
    }
    let client = |args: &[&str]| {
        let mut c = command(&db, args);
        // Through the server, never straight to the file.
        c.env_remove("LOTLINE_NO_SERVER");
        c
    };
    let mut rng = Lcg(20261202);
    let mut acked: BTreeSet<String> = BTreeSet::new();
    let mut killed_during = 0u64;
    for round in 0..rounds {
        let mut server = lotline()
            .arg("serve")
            .arg("--db")
            .arg(&db)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while lotline_station::server::served_by(&socket).is_none() {
            assert!(
                server.try_wait().unwrap().is_none(),
                "round {round}: the server exited"
            );
            assert!(Instant::now() < deadline, "round {round}: no server");
            std::thread::sleep(Duration::from_millis(10));
        }
        // Three clients, each a few receipts in a row, and the server killed among them.
        let clients: Vec<std::process::Child> = (0..3)
            .map(|c| {
                let sl = format!("S-{round}-{c}");
                client(&small::receipt(&sl, "5")).spawn().unwrap()
            })
            .collect();
        std::thread::sleep(Duration::from_micros(rng.below(80_000)));
        // SIGKILL, by the pid of the server this test started.
        let _ = server.kill();
        let _ = server.wait();
        for c in clients {
            let out = c.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                !err.contains("panicked"),
                "round {round}: a client panicked: {err}"
            );
            let code = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if out.status.success() && !code.is_empty() {
                acked.insert(code);
            } else {
                killed_during += 1;
            }
        }
        // A client left without its server may have started one of its own: stop it, then
        // read the file directly.
        crate::support::stop_server(&socket);
        sound_with_every_acknowledged_lot(&db, &acked, &format!("round {round}"));
    }
    eprintln!(
        "{rounds} server kills: {} lots acknowledged through the server, all present, check clean; {killed_during} writes not acknowledged",
        acked.len()
    );
}

/// The file passes `check` and holds every lot whose code was acknowledged.
fn sound_with_every_acknowledged_lot(db: &Path, acked: &BTreeSet<String>, round: &str) {
    let out = command(db, &["check"]).output().unwrap();
    assert!(
        out.status.success(),
        "{round}: check failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lots: serde_json::Value = serde_json::from_str(&ok(db, &["lots", "--json"])).unwrap();
    let present: BTreeSet<String> = lots
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lot"].as_str().unwrap().to_string())
        .collect();
    let missing: Vec<&String> = acked.difference(&present).collect();
    assert!(
        missing.is_empty(),
        "{round}: acknowledged lots missing: {missing:?}"
    );
}
