//! The kit every integration test uses: the real `lotline` run hermetically (`lotline`,
//! `Run`), a plant in a temp folder (`Plant`, with the bakery of README's quick start), a
//! server started and stopped (`serve`, `stop_server`), the app in a pseudo-terminal
//! (`pty::Term`), golden files (`snapshot`), and a second Unix user (`users`).
//!
//! Hermetic: a child starts from an empty environment plus PATH, a private HOME, a UTF-8
//! locale and `LOTLINE_CONFIG=none` (ignore /etc/lotline/lotline.toml). Nothing from the
//! machine's deployment or the developer's shell reaches a test; what a test needs it sets.
#![allow(dead_code)]

pub mod pty;
mod served;
pub mod small;
pub mod snapshot;
mod users;

pub use served::Served;
pub use users::{reachable_by_others, test_user};

use serde_json::Value;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The `lotline` binary cargo built for these tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_lotline"))
}

/// This test process's scratch folder under cargo's scratch folder for tests
/// (target/tmp/it-PID), made once; folders of earlier runs whose process is gone are
/// removed first.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
        for e in std::fs::read_dir(root).into_iter().flatten().flatten() {
            let name = e.file_name();
            let pid = name.to_str().and_then(|n| n.strip_prefix("it-"));
            if pid.is_some_and(|p| !Path::new("/proc").join(p).exists()) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        let dir = root.join(format!("it-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("home")).unwrap();
        dir
    })
}

/// A HOME for children no test gave one: empty, private to this test process.
fn private_home() -> PathBuf {
    scratch().join("home")
}

/// The demo plant copied to `to`: built once per test process with `lotline demo` (the
/// slowest setup there is, a few seconds of commits) and copied for each test that starts
/// from it.
pub fn demo_copy(to: &Path) {
    static DEMO: OnceLock<PathBuf> = OnceLock::new();
    let built = DEMO.get_or_init(|| {
        let db = scratch().join("demo.redb");
        let mut c = lotline();
        c.env("LOTLINE_NO_SERVER", "1")
            .env("LOTLINE_STATION", "head-office")
            .arg("--db")
            .arg(&db)
            .arg("demo");
        Run::of(&mut c, None).ok("demo");
        db
    });
    std::fs::copy(built, to).unwrap();
}

/// The whole environment a child starts from: PATH, a private HOME, a UTF-8 locale, and no
/// system config. Shared by `lotline()` and the pseudo-terminal harness.
pub fn hermetic_env(home: Option<&Path>) -> Vec<(&'static str, OsString)> {
    vec![
        ("PATH", std::env::var_os("PATH").unwrap_or_default()),
        (
            "HOME",
            home.map_or_else(private_home, Path::to_path_buf).into(),
        ),
        ("LANG", "C.UTF-8".into()),
        ("LC_ALL", "C.UTF-8".into()),
        ("LOTLINE_CONFIG", "none".into()),
    ]
}

/// `lotline` with the hermetic environment (see the module's doc) and stdin from
/// /dev/null; the test adds arguments and any variable it means to set.
pub fn lotline() -> Command {
    let mut c = Command::new(bin());
    c.env_clear().envs(hermetic_env(None)).stdin(Stdio::null());
    c
}

/// `sh -c SCRIPT` (a script of `lotline` commands) with the same hermetic environment.
pub fn shell(script: &str) -> Command {
    let mut c = Command::new("sh");
    c.env_clear()
        .envs(hermetic_env(None))
        .stdin(Stdio::null())
        .arg("-c")
        .arg(script);
    c
}

/// What one run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Run `cmd` to its end, `stdin` written to it (none: /dev/null).
    pub fn of(cmd: &mut Command, stdin: Option<&str>) -> Run {
        let Some(text) = stdin else {
            return cmd.output().unwrap().into();
        };
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        let text = text.to_string();
        // A writer of its own: a child that stops reading early must not block the test.
        let writer = std::thread::spawn(move || {
            let _ = input.write_all(text.as_bytes());
        });
        let out = child.wait_with_output().unwrap();
        let _ = writer.join();
        out.into()
    }

    /// Run `cmd` to its end, failing the test if it takes longer than `limit` (killed
    /// then): a hang is a failure, never a stuck suite.
    pub fn within(cmd: &mut Command, limit: Duration) -> Run {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let drain = |mut from: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut all = Vec::new();
                let _ = from.read_to_end(&mut all);
                String::from_utf8_lossy(&all).into_owned()
            })
        };
        let stdout = drain(Box::new(child.stdout.take().unwrap()));
        let stderr = drain(Box::new(child.stderr.take().unwrap()));
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{cmd:?} ran past {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        Run {
            code: status.code().unwrap_or(-1),
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
        }
    }

    /// Everything it printed, stdout then stderr: for a failure's message.
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Exit 0, or fail showing stderr; stdout trimmed.
    pub fn ok(self, what: &str) -> String {
        assert_eq!(self.code, 0, "lotline {what} failed: {}", self.stderr);
        self.stdout.trim().to_string()
    }
}

/// A plant in a temp folder: its database file, and the folder as the home and current
/// folder of every command run on it (files a command writes land there, never in the
/// repository).
pub struct Plant {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    station: &'static str,
    /// Whether a refusal is checked to leave items and parties alone too.
    master_data: bool,
}

impl Plant {
    /// A plant whose database exists (created with `--create`, as `lotline init` would):
    /// commands never create a database.
    pub fn new() -> Plant {
        let p = Plant::empty();
        p.ok(&["--create", "plant", "show"]);
        p
    }

    /// A folder with no database in it yet.
    pub fn empty() -> Plant {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("plant.redb");
        Plant {
            dir,
            db,
            station: "test-station",
            master_data: false,
        }
    }

    /// The station name commands on this plant give (LOTLINE_STATION).
    pub fn station(mut self, name: &'static str) -> Plant {
        self.station = name;
        self
    }

    /// Refusals leave items and parties alone too (two more commands per snapshot: only
    /// where master data is what is refused).
    pub fn watching_master_data(mut self) -> Plant {
        self.master_data = true;
        self
    }

    /// The plant's folder: the home of its commands.
    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `lotline --db PLANT ARGS` with the hermetic environment, run in the plant's folder.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = lotline();
        c.env("HOME", self.home())
            .env("LOTLINE_STATION", self.station)
            .current_dir(self.home())
            .arg("--db")
            .arg(&self.db)
            .args(args);
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::of(&mut self.cmd(args), None)
    }

    /// Run, the output as it came.
    pub fn output(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Run with extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = self.cmd(args);
        c.envs(env.iter().copied());
        Run::of(&mut c, None)
    }

    /// Run with `stdin` written to the command.
    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        Run::of(&mut self.cmd(args), Some(stdin))
    }

    /// Run and expect success; stdout trimmed.
    pub fn ok(&self, args: &[&str]) -> String {
        self.run(args).ok(&format!("{args:?}"))
    }

    pub fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// Run and expect a refusal: non-zero, one line on stderr naming `field` and saying
    /// `words`, nothing on stdout, nothing stored.
    pub fn refused(&self, args: &[&str], field: &str, words: &str) -> Run {
        let before = self.snapshot();
        let r = self.run(args);
        assert_ne!(
            r.code, 0,
            "lotline {args:?} should fail; stdout: {}",
            r.stdout
        );
        assert_eq!(
            r.stderr.lines().count(),
            1,
            "one line of error, got: {}",
            r.stderr
        );
        let line = r.stderr.trim();
        assert!(
            line.starts_with(&format!("lotline: {field}: ")),
            "names field {field}: {line}"
        );
        assert!(line.contains(words), "{line} should say '{words}'");
        assert!(r.stdout.is_empty(), "nothing on stdout: {}", r.stdout);
        assert_eq!(self.snapshot(), before, "nothing stored by {args:?}");
        r
    }

    /// Lots with balances and statuses, and check's counts of lots, events and links and
    /// its verdict (and items and parties when watched): what a refused command must leave
    /// alone. (Compared as records, not the file's bytes: a read-write open may rewrite
    /// redb's header even when nothing is stored.)
    pub fn snapshot(&self) -> String {
        if !self.db.exists() {
            return String::new();
        }
        let mut what = vec![&["lots", "--json"][..], &["check", "--json"]];
        if self.master_data {
            what.extend([
                &["item", "list", "--json"][..],
                &["party", "list", "--json"],
            ]);
        }
        what.iter()
            .map(|args| self.ok(args))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Flour and eggs → dough → cookies, shipped to two customers: the chain of README's
    /// quick start. The lot codes of flour, eggs, dough and cookies.
    pub fn bakery(&self) -> (String, String, String, String) {
        for item in [
            &["FLOUR", "--name", "All-purpose flour", "--unit", "kg"][..],
            &[
                "EGGS",
                "--name",
                "Shell eggs",
                "--unit",
                "dozen",
                "--ftl",
                "--gtin",
                "00614141000036",
            ],
            &[
                "DOUGH",
                "--name",
                "Cookie dough",
                "--unit",
                "kg",
                "--kind",
                "intermediate",
                "--shelf-life",
                "5",
            ],
            &[
                "COOKIE",
                "--name",
                "Cookies 12x200g",
                "--unit",
                "case",
                "--kind",
                "finished",
            ],
        ] {
            self.ok(&[&["item", "add"][..], item].concat());
        }
        for party in [
            &[
                "MILL",
                "--name",
                "Prairie Mill",
                "--role",
                "supplier",
                "--city",
                "Salina",
                "--state",
                "KS",
            ][..],
            &[
                "FARM",
                "--name",
                "Sunny Ridge Farms",
                "--role",
                "supplier",
                "--gln",
                "0614141000012",
            ],
            &[
                "SHOP",
                "--name",
                "Corner Market",
                "--role",
                "customer",
                "--contact-name",
                "Priya",
                "--contact-phone",
                "503-555-0101",
            ],
            &["CAFE", "--name", "Cafe Rosa", "--role", "customer"],
        ] {
            self.ok(&[&["party", "add"][..], party].concat());
        }
        let flour = self.ok(&[
            "receive",
            "--item",
            "FLOUR",
            "--supplier",
            "MILL",
            "--supplier-lot",
            "M-88",
            "--qty",
            "1000",
            "--date",
            "2026-11-01",
            "--ref",
            "BOL:4471",
        ]);
        let eggs = self.ok(&[
            "receive",
            "--item",
            "EGGS",
            "--supplier",
            "FARM",
            "--supplier-lot",
            "srf-1121",
            "--qty",
            "50",
            "--date",
            "2026-11-01",
            "--expiry",
            "2026-11-30",
            "--temp",
            "4.5",
            "--inspection",
            "pass",
            // Eggs are on the Food Traceability List: no document, so the reason.
            "--no-ref-reason",
            "farm delivery, no paperwork",
        ]);
        let dough = self.ok(&[
            "produce",
            "--item",
            "DOUGH",
            "--qty",
            "120",
            "--input",
            &format!("{flour}=100"),
            "--input",
            &format!("{eggs}=10"),
            "--date",
            "2026-11-02",
            "--line",
            "Mixer 1",
            "--ref",
            "WO:77",
        ]);
        let cookies = self.ok(&[
            "produce",
            "--item",
            "COOKIE",
            "--qty",
            "40",
            "--input",
            &format!("{dough}=120"),
            "--date",
            "2026-11-02",
        ]);
        self.ok(&[
            "ship",
            "--customer",
            "SHOP",
            "--lot",
            &format!("{cookies}=15"),
            "--date",
            "2026-11-03",
            "--ref",
            "BOL:5521",
        ]);
        self.ok(&[
            "ship",
            "--customer",
            "CAFE",
            "--lot",
            &format!("{cookies}=5"),
            "--date",
            "2026-11-04",
        ]);
        (flour, eggs, dough, cookies)
    }
}

impl Drop for Plant {
    /// A server a command started for this plant goes with it.
    fn drop(&mut self) {
        stop_server(&lotline_station::remote::socket_path(&self.db));
    }
}

/// `lotline serve` started by `cmd` (its stderr piped), once it answers on `socket`; fails
/// with what it said if it exits first.
pub fn serve(cmd: &mut Command, socket: &Path) -> Child {
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while lotline_station::server::served_by(socket).is_none() {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!("the server exited with {status}: {err}");
        }
        assert!(Instant::now() < deadline, "the server did not come up");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// Stop the server answering on `socket`, if any (SIGTERM, as systemd would), and wait
/// until it has let go of its socket.
pub fn stop_server(socket: &Path) {
    let Some(pid) = lotline_station::server::served_by(socket) else {
        return;
    };
    // SAFETY: plain kill(2) on a pid the server reported.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    for _ in 0..1500 {
        if lotline_station::server::served_by(socket).is_none()
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the server (pid {pid}) did not stop");
}

/// SIGTERM a server this test started, and wait for it.
pub fn terminate(child: &mut Child) -> std::process::ExitStatus {
    // SAFETY: plain kill(2) of our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    child.wait().unwrap()
}

/// The user running the tests, as the plant names them.
pub fn me() -> String {
    lotline_station::identity::Identity::current().user
}

/// A small seeded generator: the same rounds on every run, so a failure replays.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}
