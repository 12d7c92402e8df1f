//! `cargo bench --bench server`: `lotline serve` on a big plant, as the stations feel it —
//! its resident memory with the link graph, traces through the socket, and receipts from
//! stations that stay connected (as the app does) — for each page-cache size asked for.
//!
//! Environment:
//! - `LOTLINE_BENCH_DB` a generated plant (`lotline generate --lots N --db PATH`); default
//!   `LOTLINE_BENCH_DIR/plant-{LOTLINE_BENCH_LOTS}-{LOTLINE_BENCH_SEED}.redb`, as
//!   `benches/trace.rs` leaves it. It is never written to: each run serves a copy beside
//!   it, removed afterwards (receipts are added to the copy).
//! - `LOTLINE_BENCH_CACHE_MB` the `serve --cache-mb` values to compare, comma-separated
//!   (default `16,1024`: lotline's default against redb's own).
//! - `LOTLINE_BENCH_BIN` another `lotline` binary to serve with.
//!
//! For each size: the server's resident memory once its graph is built, after 800 traces
//! (200 lots of four items sampled with a fixed seed, backward and forward, four rounds
//! after one untimed) and after 1,200 receipts from 8 connected stations and 200 from one;
//! trace latency p50/p90/p99 and receipts a second with p50/p99 latency. Prints a table,
//! then one line `BENCH_SERVER_JSON {...}` for scripts.

#[path = "common/stations.rs"]
mod stations;

use lotline_domain::*;
use lotline_domain::{Direction, LotFilter};
use lotline_station::StationExt;
use lotline_station::remote::Remote;
use lotline_store::Store;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Resident and peak resident memory of a process, in MB.
fn memory_mb(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(f64::NAN)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn percentiles(mut v: Vec<f64>) -> Value {
    v.sort_by(f64::total_cmp);
    let p = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    json!({ "p50": p(0.5), "p90": p(0.9), "p99": p(0.99), "max": p(1.0) })
}

/// Lots to trace: 50 of each of four items, picked with a fixed seed.
fn sample(db: &Path) -> Vec<LotCode> {
    let store = Store::open_read_only(db).expect("open the plant");
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut picked = Vec::new();
    for item in ["EGGS", "FLOUR-AP", "COOKIE-CC", "DOUGH-CC"] {
        let lots = store
            .find_lots(&LotFilter {
                item: Some(ItemCode::parse(item, "item").expect("item")),
                ..Default::default()
            })
            .expect("lots");
        for _ in 0..50.min(lots.len()) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            picked.push(lots[(x % lots.len() as u64) as usize].code.clone());
        }
    }
    picked
}

struct Served {
    child: Child,
    copy: PathBuf,
    socket: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        // SIGTERM, as systemd stops it; then the copy goes.
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.copy);
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// Serve a copy of `db` with `cache_mb`; returns once its link graph is built (the log
/// line says so).
fn serve(bin: &Path, db: &Path, cache_mb: u64) -> Served {
    let copy = db.with_extension(format!("bench-serve-{cache_mb}.redb"));
    std::fs::copy(db, &copy).expect("copy the plant");
    let log = copy.with_extension("log");
    let child = Command::new(bin)
        .args(["serve", "--cache-mb", &cache_mb.to_string(), "--db"])
        .arg(&copy)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("serve");
    let socket = lotline_station::remote::socket_path(&copy);
    let served = Served {
        child,
        copy,
        socket,
    };
    let t = Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("link graph")
    {
        assert!(
            t.elapsed() < Duration::from_secs(300),
            "no link graph log line"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_file(&log);
    served
}

fn traces(socket: &Path, lots: &[LotCode]) -> Value {
    let st = Remote::connect(socket, "bench-trace").expect("connect");
    let mut lat = Vec::new();
    for round in 0..5 {
        for code in lots {
            for dir in [Direction::Backward, Direction::Forward] {
                let t = Instant::now();
                std::hint::black_box(st.trace(code.clone(), dir).expect("trace"));
                if round > 0 {
                    lat.push(t.elapsed().as_secs_f64() * 1e3);
                }
            }
        }
    }
    json!({ "traces": lat.len(), "ms": percentiles(lat) })
}

fn receipts(socket: &Path, stations: usize, each: usize) -> Value {
    let make = |c: usize, n: usize, today| {
        stations::receipt(
            "EGGS",
            "SUNNYRIDGE",
            &format!("BENCH-{stations}-{c}-{n}"),
            10,
            today,
        )
    };
    let (lat, secs) = stations::receipts_from_stations(socket, stations, each, &make);
    json!({ "stations": stations, "receipts": lat.len(), "per_s": lat.len() as f64 / secs, "ms": percentiles(lat) })
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let lots = env_u64("LOTLINE_BENCH_LOTS", 1_000_000);
    let seed = env_u64("LOTLINE_BENCH_SEED", 1);
    let db = match std::env::var_os("LOTLINE_BENCH_DB") {
        Some(p) => PathBuf::from(p),
        None => {
            let dir = std::env::var_os("LOTLINE_BENCH_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
            dir.join(format!("plant-{lots}-{seed}.redb"))
        }
    };
    if !db.exists() {
        eprintln!(
            "no plant at {}: build one with `lotline generate --lots {lots} --db {}` (or `cargo bench --bench trace`), or set LOTLINE_BENCH_DB",
            db.display(),
            db.display()
        );
        return;
    }
    let bin = std::env::var_os("LOTLINE_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_lotline")));
    let sizes: Vec<u64> = std::env::var("LOTLINE_BENCH_CACHE_MB")
        .unwrap_or_else(|_| "16,1024".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let picked = sample(&db);
    let mut runs = Vec::new();
    for mb in sizes {
        eprintln!("server with a {mb} MB page cache ...");
        let s = serve(&bin, &db, mb);
        let pid = s.child.id();
        let built = memory_mb(pid);
        let tr = traces(&s.socket, &picked);
        let after_traces = memory_mb(pid);
        let eight = receipts(&s.socket, 8, 150);
        let one = receipts(&s.socket, 1, 200);
        let after_writes = memory_mb(pid);
        runs.push(json!({
            "cache_mb": mb,
            "rss_mb_built": built.0,
            "rss_mb_after_traces": after_traces.0,
            "rss_mb_after_receipts": after_writes.0,
            "peak_rss_mb": after_writes.1,
            "traces": tr,
            "receipts_8": eight,
            "receipts_1": one,
        }));
    }
    println!(
        "| cache | RSS built / traces / receipts (peak), MB | trace ms p50 / p90 / p99 | 8 stations: receipts/s, ms p50 / p99 | 1 station: receipts/s, ms p50 / p99 |"
    );
    println!("|---|---|---|---|---|");
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    for r in &runs {
        println!(
            "| {} MB | {:.0} / {:.0} / {:.0} ({:.0}) | {:.2} / {:.2} / {:.2} | {:.0}, {:.1} / {:.1} | {:.0}, {:.1} / {:.1} |",
            r["cache_mb"],
            f(&r["rss_mb_built"]),
            f(&r["rss_mb_after_traces"]),
            f(&r["rss_mb_after_receipts"]),
            f(&r["peak_rss_mb"]),
            f(&r["traces"]["ms"]["p50"]),
            f(&r["traces"]["ms"]["p90"]),
            f(&r["traces"]["ms"]["p99"]),
            f(&r["receipts_8"]["per_s"]),
            f(&r["receipts_8"]["ms"]["p50"]),
            f(&r["receipts_8"]["ms"]["p99"]),
            f(&r["receipts_1"]["per_s"]),
            f(&r["receipts_1"]["ms"]["p50"]),
            f(&r["receipts_1"]["ms"]["p99"]),
        );
    }
    println!(
        "BENCH_SERVER_JSON {}",
        json!({ "plant": db.display().to_string(), "runs": runs })
    );
}
