//! Damaged files through the real binary: truncated, zeroed pages, bytes flipped at many
//! offsets, empty, foreign, a folder, a FIFO. Every command ends with a clear message and
//! an ordinary exit code (never a panic or an abort), `check` reports, and a command that
//! is refused leaves the file's bytes exactly as they were.
//!
//! `LOTLINE_DAMAGE_FILES=N` flips bytes in N files instead of 24.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn lotline(args: &[&str]) -> Run {
    let out = Command::cargo_bin("lotline")
        .unwrap()
        .env("LOTLINE_CONFIG", "none")
        .args(args)
        .env_remove("LOTLINE_DB")
        .env_remove("LOTLINE_PRINTER")
        .env("LOTLINE_STATION", "test-station")
        .env("RUST_BACKTRACE", "0")
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(db: &Path, args: &[&str]) -> String {
    let mut all = vec!["--db", db.to_str().unwrap()];
    all.extend_from_slice(args);
    let r = lotline(&all);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    r.stdout.trim().to_string()
}

/// A small plant with receipts, batches and shipments; its lot codes.
fn plant(db: &Path) -> Vec<String> {
    ok(
        db,
        &[
            "--create", "item", "add", "FLOUR", "--name", "Flour", "--unit", "kg",
        ],
    );
    ok(
        db,
        &[
            "item", "add", "BREAD", "--name", "Bread", "--unit", "kg", "--kind", "finished",
        ],
    );
    ok(
        db,
        &[
            "party", "add", "MILL", "--name", "Mill", "--role", "supplier",
        ],
    );
    ok(
        db,
        &[
            "party", "add", "SHOP", "--name", "Shop", "--role", "customer",
        ],
    );
    let mut lots = Vec::new();
    for i in 0..6 {
        let sl = format!("M-{i}");
        lots.push(ok(
            db,
            &[
                "receive",
                "--item",
                "FLOUR",
                "--supplier",
                "MILL",
                "--supplier-lot",
                &sl,
                "--qty",
                "100",
            ],
        ));
    }
    for i in 0..3 {
        let input = format!("{}=50", lots[i]);
        let b = ok(
            db,
            &[
                "produce", "--item", "BREAD", "--qty", "40", "--input", &input,
            ],
        );
        let line = format!("{b}=10");
        ok(db, &["ship", "--customer", "SHOP", "--lot", &line]);
        lots.push(b);
    }
    lots
}

/// A tiny deterministic generator, so a failure names a file that can be made again.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn damaged_files(good: &[u8], dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut put = |name: String, bytes: Vec<u8>| {
        let p = dir.join(format!("{name}.redb"));
        std::fs::write(&p, bytes).unwrap();
        out.push((name, p));
    };
    for (n, len) in [
        ("truncated-half", good.len() / 2),
        ("truncated-quarter", good.len() / 4),
        ("truncated-1000", 1000),
    ] {
        put(n.into(), good[..len].to_vec());
    }
    let pages = good.len() / 4096;
    for k in 0..8 {
        let page = k * pages / 8;
        let mut b = good.to_vec();
        for x in &mut b[page * 4096..(page + 1) * 4096] {
            *x = 0;
        }
        put(format!("zeroed-page-{page}"), b);
    }
    let flips: usize = std::env::var("LOTLINE_DAMAGE_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let mut rng = Lcg(11);
    for i in 0..flips {
        let mut b = good.to_vec();
        let at = (rng.next() as usize) % good.len();
        b[at] ^= 1 << (rng.next() % 8);
        let at2 = (at + 1 + (rng.next() as usize) % 64) % good.len();
        b[at2] ^= 0xff;
        put(format!("flip-{i}-at-{at}"), b);
    }
    put("empty".into(), Vec::new());
    put(
        "foreign".into(),
        b"SQLite format 3\0 this is somebody else's file".to_vec(),
    );
    out
}

fn special_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let folder = dir.join("folder.redb");
    std::fs::create_dir(&folder).unwrap();
    let fifo = dir.join("fifo.redb");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads the NUL-terminated path only.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    vec![("folder".into(), folder), ("fifo".into(), fifo)]
}

fn bytes(p: &Path) -> Option<Vec<u8>> {
    if p.is_file() {
        std::fs::read(p).ok()
    } else {
        None
    }
}

#[test]
fn every_command_on_a_damaged_file_ends_cleanly_and_leaves_it_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.redb");
    let lots = plant(&good);
    let good_bytes = std::fs::read(&good).unwrap();
    let mut files = damaged_files(&good_bytes, dir.path());
    files.extend(special_files(dir.path()));
    let (lot, batch) = (lots[0].clone(), lots[6].clone());
    let mut failures = Vec::new();
    let (mut runs, mut check_reported) = (0, 0);
    for (n, (name, path)) in files.iter().enumerate() {
        let p = path.to_str().unwrap();
        let backup = dir.path().join(format!("backup-{n}.redb"));
        let salvaged = dir.path().join(format!("salvaged-{n}.redb"));
        let commands: Vec<Vec<&str>> = vec![
            vec!["check", p],
            vec!["--db", p, "check", "--json"],
            vec!["--db", p, "lots", "--json"],
            vec!["--db", p, "lot", &lot],
            vec!["--db", p, "trace", &batch],
            vec!["--db", p, "item", "list"],
            vec![
                "--db",
                p,
                "receive",
                "--item",
                "FLOUR",
                "--supplier",
                "MILL",
                "--supplier-lot",
                "NEW",
                "--qty",
                "5",
            ],
            vec!["--db", p, "hold", &lot, "--reason", "damaged file test"],
            vec!["--db", p, "backup", backup.to_str().unwrap()],
            vec!["salvage", p, salvaged.to_str().unwrap()],
        ];
        for args in &commands {
            let before = bytes(path);
            let r = lotline(args);
            runs += 1;
            let what = format!("{name}: {:?}", &args[..args.len().min(4)]);
            if !(0..=2).contains(&r.code) {
                failures.push(format!("{what}: exit {} {}", r.code, r.stderr));
            }
            if r.stderr.contains("panicked") || r.stderr.contains("RUST_BACKTRACE") {
                failures.push(format!("{what}: a panic reached the user: {}", r.stderr));
            }
            if r.code != 0 && r.stderr.trim().is_empty() {
                failures.push(format!("{what}: failed with no message"));
            }
            let is_check = args.contains(&"check");
            if (r.code != 0 || is_check) && bytes(path) != before {
                failures.push(format!("{what}: exit {} but the file changed", r.code));
            }
            if is_check && args[0] == "check" && r.code == 1 {
                check_reported += 1;
            }
            let _ = r.stdout;
        }
    }
    eprintln!(
        "{} damaged files, {runs} commands run, check reported problems in {check_reported}",
        files.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every file that cannot be a database is reported by check.
    for name in ["empty", "foreign", "truncated-1000", "folder", "fifo"] {
        let (_, p) = files.iter().find(|f| f.0 == name).unwrap();
        let r = lotline(&["check", p.to_str().unwrap()]);
        assert_ne!(r.code, 0, "{name}");
    }
    // The good file is still good.
    assert_eq!(lotline(&["check", good.to_str().unwrap()]).code, 0);
}
