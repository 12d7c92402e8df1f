//! `cargo bench --bench whole`: commands timed from outside, as a user or a script runs
//! them — process start, opening the file, the work, and writing the output to a pipe —
//! side by side with the `sqlite3` shell running the same query on a SQLite copy of the
//! same plant, where one exists.
//!
//! Environment:
//! - `LOTLINE_BENCH_DB` a generated plant (`lotline generate --lots N --db PATH`); default
//!   `LOTLINE_BENCH_DIR/plant-{LOTLINE_BENCH_LOTS}-{LOTLINE_BENCH_SEED}.redb`, as
//!   `benches/trace.rs` leaves it, generated here when missing;
//! - `LOTLINE_BENCH_RUNS` timed runs of each command (default 15, after 2 untimed);
//! - `LOTLINE_BENCH_BIN` another `lotline` binary to time instead of this build's (a
//!   before/after comparison with the same harness);
//! - the SQLite copy is `PATH.sqlite` beside the plant, built when missing; the SQL each
//!   shell run executes is written beside it as `PATH.<name>.sql`, so it can be re-run
//!   by hand (`sqlite3 -json PATH.sqlite < PATH.trace-forward.sql`).
//!
//! - `LOTLINE_BENCH_SERVER=1` adds the server figures: acknowledged durable receipts a
//!   second and their latency from 1, 8 and 32 client processes through `lotline serve`,
//!   against one process committing alone (`--no-server`); the same from 1, 8 and 32
//!   stations that stay connected (as the app does) sending receipts back to back; and a
//!   read-only trace's
//!   latency while 8 writers run against idle — on a small plant of its own beside the
//!   database, removed afterwards.
//!
//! Each figure is the median of the runs, with the fastest and slowest; CPU is user +
//! system time of the process; RSS its peak resident memory (`wait4`). Prints a table,
//! then one line `BENCH_WHOLE_JSON {...}` for scripts. Without a `sqlite3` on the PATH the
//! SQLite side is skipped, saying so.

#[path = "common/plant.rs"]
mod plant;
#[path = "common/stations.rs"]
mod stations;

use lotline_domain::Direction;
use lotline_store::Store;
use plant::{Graph, sqlite_sql};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// One run of a process: wall time, CPU, peak RSS, bytes it wrote to stdout.
struct Sample {
    wall_ms: f64,
    cpu_ms: f64,
    rss_kb: i64,
    bytes: usize,
}

/// Run `cmd` once with stdout into a pipe this process drains (as `| jq` would).
// The child is reaped by `wait4`, which gives its own CPU time and peak RSS; std's
// `wait` would not.
#[allow(clippy::zombie_processes)]
fn run_once(cmd: &mut Command) -> Sample {
    let t = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = Vec::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_end(&mut out)
        .expect("read");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read");
    let mut status = 0;
    // SAFETY: `rusage` is plain data filled by the kernel; the pid is our own child, not
    // yet reaped (std's `Child` is never waited on).
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    let wall_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(rc, pid, "wait4");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed: {err}"
    );
    let tv = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    Sample {
        wall_ms,
        cpu_ms: tv(ru.ru_utime) + tv(ru.ru_stime),
        rss_kb: ru.ru_maxrss,
        bytes: out.len(),
    }
}

/// Two untimed runs, then `runs` timed: median, fastest and slowest of each figure.
fn measure(runs: usize, mut make: impl FnMut() -> Command) -> Value {
    for _ in 0..2 {
        run_once(&mut make());
    }
    let samples: Vec<Sample> = (0..runs).map(|_| run_once(&mut make())).collect();
    let stat = |f: &dyn Fn(&Sample) -> f64| {
        let mut v: Vec<f64> = samples.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        json!({ "median": v[v.len() / 2], "min": v[0], "max": v[v.len() - 1] })
    };
    json!({
        "runs": runs,
        "wall_ms": stat(&|s| s.wall_ms),
        "cpu_ms": stat(&|s| s.cpu_ms),
        "rss_mb": stat(&|s| s.rss_kb as f64 / 1024.0),
        "bytes": samples[0].bytes,
    })
}

fn sqlite3_available() -> bool {
    Command::new("sqlite3")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The SQL text for the `sqlite3` shell: the bench's statement with the code inlined.
fn inline(sql: &str, code: &str) -> String {
    format!(
        "{};\n",
        sql.replace("?1", &format!("'{}'", code.replace('\'', "''")))
    )
}

/// Set (to the plan's path) in the process that runs and times the commands.
const MEASURE_ENV: &str = "LOTLINE_BENCH_WHOLE_PLAN";

/// Run every command of the plan `runs` times; print the report as JSON.
fn measure_plan(plan: &Path) {
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(plan).expect("plan")).expect("plan json");
    let bin = plan["bin"].as_str().expect("bin").to_string();
    let db = plan["db"].as_str().expect("db").to_string();
    let sqlite = plan["sqlite"].as_str().map(str::to_string);
    let runs = plan["runs"].as_u64().unwrap_or(15) as usize;
    let mut report = json!({
        "bin": bin,
        "db": db,
        "db_bytes": std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0),
        "runs": runs,
        "load_avg": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
        "harness_rss_mb": rss_now_mb(),
    });
    // What starting a process costs at all, for both sides.
    eprintln!("process start ...");
    report["start"] = json!({
        "lotline_version": measure(runs, || {
            let mut c = Command::new(&bin);
            c.arg("--version");
            c
        }),
        "sqlite3_select_1": match &sqlite {
            Some(q) => measure(runs, || {
                let mut c = Command::new("sqlite3");
                c.arg(q).arg("SELECT 1;");
                c
            }),
            None => Value::Null,
        },
    });
    let mut results = serde_json::Map::new();
    for case in plan["cases"].as_array().expect("cases") {
        let what = case["what"].as_str().unwrap_or("?");
        eprintln!("{what} ...");
        let args: Vec<String> = case["lotline"]
            .as_array()
            .expect("args")
            .iter()
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect();
        let l = measure(runs, || {
            let mut c = Command::new(&bin);
            c.arg("--db").arg(&db).args(&args);
            c
        });
        let q = match (&sqlite, case["sql"].as_str()) {
            (Some(q), Some(sql)) => measure(runs, || {
                let mut c = Command::new("sqlite3");
                c.arg("-json")
                    .arg(q)
                    .stdin(std::fs::File::open(sql).expect("sql"));
                c
            }),
            _ => Value::Null,
        };
        results.insert(
            case["name"].as_str().unwrap_or("?").into(),
            json!({ "what": what, "lotline": l, "sqlite3": q }),
        );
    }
    report["commands"] = Value::Object(results);
    if std::env::var("LOTLINE_BENCH_SERVER").is_ok_and(|v| v == "1") {
        report["server"] = measure_server(
            Path::new(&bin),
            &Path::new(&db).with_extension("serve-bench.redb"),
        );
    }
    report["load_avg_after"] = json!(
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    println!("{report}");
}

/// Milliseconds, sorted: median, p99, fastest, slowest.
fn spread(mut v: Vec<f64>) -> Value {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    json!({ "n": v.len(), "p50": at(0.5), "p99": at(0.99), "min": v[0], "max": v[v.len() - 1] })
}

/// One command's wall time in ms; panics with its stderr if it fails.
fn timed(c: &mut Command) -> f64 {
    let t = Instant::now();
    let o = c.stdin(Stdio::null()).output().expect("spawn");
    let ms = t.elapsed().as_secs_f64() * 1e3;
    assert!(
        o.status.success(),
        "{c:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    ms
}

/// The server figures (see the module docs), on a fresh plant at `db`.
fn measure_server(bin: &Path, db: &Path) -> Value {
    let _ = std::fs::remove_file(db);
    let cmd = |args: &[&str]| {
        let mut c = Command::new(bin);
        c.arg("--db")
            .arg(db)
            .args(args)
            .env_remove("LOTLINE_NO_SERVER")
            .env("LOTLINE_STATION", "bench");
        c
    };
    let mut server = Command::new(bin)
        .args(["serve", "--create", "--db"])
        .arg(db)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let socket = lotline_station::remote::socket_path(db);
    let t = Instant::now();
    while lotline_station::server::served_by(&socket).is_none() {
        assert!(t.elapsed().as_secs() < 30, "the server did not come up");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    timed(&mut cmd(&[
        "item", "add", "FLOUR", "--name", "Flour", "--unit", "kg",
    ]));
    timed(&mut cmd(&[
        "item",
        "add",
        "DOUGH",
        "--name",
        "Dough",
        "--unit",
        "kg",
        "--kind",
        "intermediate",
    ]));
    timed(&mut cmd(&[
        "party", "add", "MILL", "--name", "Mill", "--role", "supplier",
    ]));
    let receive = |n: usize, extra: &[&str]| {
        let mut c = cmd(&[
            "receive",
            "--item",
            "FLOUR",
            "--supplier",
            "MILL",
            "--qty",
            "100",
        ]);
        c.args(["--supplier-lot", &format!("M-{n}")]).args(extra);
        c
    };
    // A batch to trace: two receipts into one dough lot.
    let a = String::from_utf8(receive(0, &[]).output().expect("receive").stdout).expect("utf8");
    let b = String::from_utf8(receive(1, &[]).output().expect("receive").stdout).expect("utf8");
    let dough = String::from_utf8(
        cmd(&[
            "produce",
            "--item",
            "DOUGH",
            "--qty",
            "20",
            "--input",
            &format!("{}=10", a.trim()),
            "--input",
            &format!("{}=10", b.trim()),
        ])
        .output()
        .expect("produce")
        .stdout,
    )
    .expect("utf8")
    .trim()
    .to_string();
    let counter = std::sync::atomic::AtomicUsize::new(10);
    let next = || counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // `clients` processes at once, each receiving `each` cases one after another.
    let load = |clients: usize, each: usize, extra: &[&str]| -> Value {
        let t = Instant::now();
        let lat: Vec<f64> = std::thread::scope(|sc| {
            let hs: Vec<_> = (0..clients)
                .map(|_| {
                    sc.spawn(|| {
                        (0..each)
                            .map(|_| timed(&mut receive(next(), extra)))
                            .collect::<Vec<f64>>()
                    })
                })
                .collect();
            hs.into_iter()
                .flat_map(|h| h.join().expect("client"))
                .collect()
        });
        let secs = t.elapsed().as_secs_f64();
        json!({ "clients": clients, "receipts": lat.len(), "per_s": lat.len() as f64 / secs, "latency_ms": spread(lat) })
    };
    let trace = || timed(&mut cmd(&["trace", &dough, "--backward", "--json"]));
    let idle: Vec<f64> = (0..40).map(|_| trace()).collect();
    let mut through = Vec::new();
    for (clients, each) in [(1, 64), (8, 12), (32, 4)] {
        eprintln!("server: {clients} client processes ...");
        through.push(load(clients, each, &[]));
    }
    // Stations that stay connected (the app on each terminal): 1, 8 and 32 connections,
    // each sending receipts one after another over its own socket; what the server and
    // its group commit do, without a process start per receipt.
    let held = |clients: usize, each: usize| -> Value {
        let make = |_: usize, _: usize, today| {
            stations::receipt("FLOUR", "MILL", &format!("M-{}", next()), 100, today)
        };
        let (lat, secs) = stations::receipts_from_stations(&socket, clients, each, &make);
        json!({ "connections": clients, "receipts": lat.len(), "per_s": lat.len() as f64 / secs, "latency_ms": spread(lat) })
    };
    let mut connected = Vec::new();
    for (clients, each) in [(1, 400), (8, 250), (32, 100)] {
        eprintln!("server: {clients} connected stations ...");
        connected.push(held(clients, each));
    }
    // A read-only trace while 8 writers receive.
    let busy: Vec<f64> = std::thread::scope(|sc| {
        let writers = sc.spawn(|| load(8, 12, &[]));
        std::thread::sleep(std::time::Duration::from_millis(200));
        let v: Vec<f64> = (0..40).map(|_| trace()).collect();
        writers.join().expect("writers");
        v
    });
    let _ = server.kill();
    let _ = server.wait();
    eprintln!("server: one process committing alone ...");
    let alone = load(1, 64, &["--no-server"]);
    let _ = std::fs::remove_file(db);
    let _ = std::fs::remove_file(&socket);
    json!({
        "through_server": through,
        "connected_stations": connected,
        "alone_no_server": alone,
        "trace_idle_ms": spread(idle),
        "trace_beside_8_writers_ms": spread(busy),
    })
}

/// This process's resident memory now, in MB: the floor under its children's peak RSS.
fn rss_now_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn main() {
    if let Some(plan) = std::env::var_os(MEASURE_ENV) {
        measure_plan(Path::new(&plan));
        return;
    }
    let lots = env_u64("LOTLINE_BENCH_LOTS", 100_000);
    let seed = env_u64("LOTLINE_BENCH_SEED", 1);
    let runs = env_u64("LOTLINE_BENCH_RUNS", 15).max(1) as usize;
    let bin = std::env::var_os("LOTLINE_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_lotline")));
    let db = match std::env::var_os("LOTLINE_BENCH_DB") {
        Some(p) => PathBuf::from(p),
        None => {
            let dir = std::env::var_os("LOTLINE_BENCH_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("lotline-bench"));
            std::fs::create_dir_all(&dir).expect("bench dir");
            dir.join(format!("plant-{lots}-{seed}.redb"))
        }
    };
    if !db.exists() {
        eprintln!("generating {lots} lots into {} ...", db.display());
        let st = Command::new(&bin)
            .arg("--db")
            .arg(&db)
            .args([
                "generate",
                "--lots",
                &lots.to_string(),
                "--seed",
                &seed.to_string(),
            ])
            .status()
            .expect("generate");
        assert!(st.success(), "generate failed");
    }

    // The plant as rows: what to ask for, and the SQLite copy.
    eprintln!("reading {} ...", db.display());
    let store = Store::open(&db, false).expect("open");
    let g = Graph::read(&store);
    drop(store);
    let mut out_degree: HashMap<u32, u32> = HashMap::new();
    for (i, _, _) in &g.links {
        *out_degree.entry(*i).or_default() += 1;
    }
    let fanout_id = out_degree
        .iter()
        .max_by_key(|(id, n)| (**n, std::cmp::Reverse(**id)))
        .map(|(id, _)| *id)
        .expect("links");
    let code_of = |id: u32| g.lots[id as usize].as_ref().expect("lot").code.clone();
    let fanout = code_of(fanout_id);
    // A finished lot from the middle of the history: made, used by nobody, shipped.
    let finished: Vec<u32> = (1..g.lots.len() as u32)
        .filter(|&i| {
            g.lots[i as usize]
                .as_ref()
                .is_some_and(|l| g.finished_items.contains(&l.item))
        })
        .collect();
    let finished_lot = code_of(finished[finished.len() / 2]);
    // A received ingredient whose lot count is the median among them: a typical listing.
    let mut per_item: HashMap<&str, usize> = HashMap::new();
    for l in g.lots.iter().flatten() {
        if l.received && l.item != "FLOUR-SILO" {
            *per_item.entry(l.item.as_str()).or_default() += 1;
        }
    }
    let mut items: Vec<(&str, usize)> = per_item.into_iter().collect();
    items.sort_by_key(|(i, n)| (*n, *i));
    let (list_item, list_count) = items[items.len() / 2];
    let list_item = list_item.to_string();

    let sqlite = db.with_extension("sqlite");
    let have_sqlite3 = sqlite3_available();
    if !have_sqlite3 {
        eprintln!("no `sqlite3` on the PATH: the SQLite side is skipped");
    } else if !sqlite.exists() {
        eprintln!("building the SQLite copy {} ...", sqlite.display());
        let c = g.to_sqlite(&sqlite);
        drop(c);
    }
    let sql_file = |name: &str, text: String| -> PathBuf {
        let p = db.with_extension(format!("{name}.sql"));
        std::fs::write(&p, text).expect("write sql");
        p
    };
    let sqls = [
        (
            "trace-forward",
            inline(sqlite_sql(Direction::Forward), &fanout),
        ),
        (
            "trace-backward",
            inline(sqlite_sql(Direction::Backward), &finished_lot),
        ),
        (
            "lot",
            inline("SELECT * FROM lots WHERE code = ?1", &finished_lot),
        ),
        (
            "lots-item",
            inline("SELECT * FROM lots WHERE item = ?1 ORDER BY id", &list_item),
        ),
    ];
    let sql_paths: HashMap<&str, PathBuf> =
        sqls.into_iter().map(|(n, t)| (n, sql_file(n, t))).collect();
    drop(g);

    struct Case {
        name: &'static str,
        what: String,
        lotline: Vec<String>,
        sqlite: Option<&'static str>,
    }
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cases = [
        Case {
            name: "trace_forward_json",
            what: format!("trace {fanout} --forward --json (largest fan-out)"),
            lotline: s(&["trace", &fanout, "--forward", "--json"]),
            sqlite: Some("trace-forward"),
        },
        Case {
            name: "trace_forward_text",
            what: format!("trace {fanout} --forward (text tree)"),
            lotline: s(&["trace", &fanout, "--forward"]),
            sqlite: None,
        },
        Case {
            name: "trace_backward_json",
            what: format!("trace {finished_lot} --backward --json (finished lot)"),
            lotline: s(&["trace", &finished_lot, "--backward", "--json"]),
            sqlite: Some("trace-backward"),
        },
        Case {
            name: "trace_backward_text",
            what: format!("trace {finished_lot} --backward"),
            lotline: s(&["trace", &finished_lot, "--backward"]),
            sqlite: None,
        },
        Case {
            name: "lot",
            what: format!("lot {finished_lot}"),
            lotline: s(&["lot", &finished_lot]),
            sqlite: Some("lot"),
        },
        Case {
            name: "lots_item",
            what: format!("lots --item {list_item} ({list_count} lots)"),
            lotline: s(&["lots", "--item", &list_item]),
            sqlite: Some("lots-item"),
        },
        Case {
            name: "lots_item_json",
            what: format!("lots --item {list_item} --json"),
            lotline: s(&["lots", "--item", &list_item, "--json"]),
            sqlite: None,
        },
    ];
    // The measuring is done by a fresh process of this bench that holds none of the
    // plant read above: a child's peak RSS counts what its parent had resident when it
    // was spawned, so a parent holding the plant would show as every command's memory.
    let plan = json!({
        "bin": bin.display().to_string(),
        "db": db.display().to_string(),
        "sqlite": if have_sqlite3 { json!(sqlite.display().to_string()) } else { Value::Null },
        "runs": runs,
        "cases": cases.iter().map(|c| json!({
            "name": c.name,
            "what": c.what,
            "lotline": c.lotline,
            "sql": c.sqlite.map(|n| sql_paths[n].display().to_string()),
        })).collect::<Vec<_>>(),
    });
    let plan_path = db.with_extension("whole-plan.json");
    std::fs::write(&plan_path, plan.to_string()).expect("write plan");
    let out = Command::new(std::env::current_exe().expect("exe"))
        .env(MEASURE_ENV, &plan_path)
        .stderr(Stdio::inherit())
        .output()
        .expect("run the measuring process");
    assert!(out.status.success(), "the measuring process failed");
    let report: Value = serde_json::from_slice(&out.stdout).expect("report");
    print_table(&report);
    println!(
        "BENCH_WHOLE_JSON {}",
        serde_json::to_string(&report).expect("json")
    );
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn print_table(r: &Value) {
    println!();
    println!(
        "whole commands on {} ({:.0} MB), {} runs each; load average {} before, {} after",
        r["db"].as_str().unwrap_or("?"),
        f(&r["db_bytes"]) / 1e6,
        r["runs"],
        r["load_avg"].as_str().unwrap_or("?"),
        r["load_avg_after"].as_str().unwrap_or("?")
    );
    println!(
        "(peak RSS is at least the timing process's own {:.1} MB, which a spawned process starts with)",
        f(&r["harness_rss_mb"])
    );
    println!(
        "{:<58} {:>22} {:>8} {:>7} {:>10} | {:>22} {:>10} {:>7}",
        "command (ms: median [min-max])",
        "lotline wall",
        "cpu",
        "RSS MB",
        "bytes",
        "sqlite3 -json wall",
        "bytes",
        "l/s"
    );
    let wall = |m: &Value| {
        format!(
            "{:.1} [{:.1}-{:.1}]",
            f(&m["wall_ms"]["median"]),
            f(&m["wall_ms"]["min"]),
            f(&m["wall_ms"]["max"])
        )
    };
    let row = |what: &str, l: &Value, q: &Value| {
        let (qs, qb, ratio) = if q.is_object() {
            (
                wall(q),
                q["bytes"].to_string(),
                format!(
                    "{:.2}",
                    f(&l["wall_ms"]["median"]) / f(&q["wall_ms"]["median"])
                ),
            )
        } else {
            ("-".into(), "-".into(), "-".into())
        };
        println!(
            "{:<58} {:>22} {:>8.1} {:>7.1} {:>10} | {:>22} {:>10} {:>7}",
            what,
            wall(l),
            f(&l["cpu_ms"]["median"]),
            f(&l["rss_mb"]["max"]),
            l["bytes"],
            qs,
            qb,
            ratio
        );
    };
    row(
        "process start (lotline --version | sqlite3 SELECT 1)",
        &r["start"]["lotline_version"],
        &r["start"]["sqlite3_select_1"],
    );
    if let Some(cmds) = r["commands"].as_object() {
        for c in cmds.values() {
            row(
                c["what"].as_str().unwrap_or("?"),
                &c["lotline"],
                &c["sqlite3"],
            );
        }
    }
}
