//! No path an attacker can plant (issue 18, findings 3, 4, 7, 10, 11a and `demo --fresh`):
//! each test plays the attacker against the real binary and a real server — a symbolic link
//! raced over the socket while servers start, a program of another user on every socket
//! path a client computes, FIFOs at `check`'s old temporary names, junk named like backups,
//! a link as the autostart log, a fake server that names another process's pid. Tests that
//! need a second Unix user create it (root only) and print "SKIPPED: …" otherwise. Child
//! processes get an explicit environment. Nothing here asserts a time; every loop is
//! bounded.

use crate::support::{reachable_by_others, test_user};

use std::io::{BufRead, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::bin;

/// The hermetic binary (only this test's plant, never /etc/lotline's) on `db`.
fn lotline(db: &Path) -> Command {
    let mut c = crate::support::lotline();
    c.env("LOTLINE_STATION", "attack-test")
        .arg("--db")
        .arg(db)
        .stdin(Stdio::null());
    c
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A new plant at `db` made directly in the file (no server left running).
fn new_plant(db: &Path) {
    lotline_store::Store::open(db, true)
        .unwrap()
        .close()
        .unwrap();
}

/// Stop the server of the socket (SIGTERM) and wait until it is gone.
fn stop_server(socket: &Path) {
    let Some(pid) = lotline_station::server::served_by(socket) else {
        return;
    };
    // SAFETY: plain kill(2) of a server this test started.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    for _ in 0..1500 {
        if lotline_station::server::served_by(socket).is_none() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the server (pid {pid}) did not stop");
}

fn kill(child: &mut Child) {
    // SAFETY: plain kill(2) of our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn chown(p: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(p, Some(uid), Some(gid)).unwrap();
}

// ---------------------------------------------------------------------------------------
// The fake server: this test binary run again as a child (as another user when asked),
// listening where it is told, answering like a lotline server, and printing how many
// bytes each connection sent it.

const FAKE: &str = "ATTACK_PATHS_FAKE_SERVER";
const FAKE_PID: &str = "ATTACK_PATHS_FAKE_PID";

/// Counts the bytes read through it.
struct Counting<'a> {
    inner: &'a mut UnixStream,
    n: u64,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

/// Not a test: the fake server's body, run only in a child this file starts.
#[test]
fn fake_server_child() {
    use lotline_station::wire::{self, ClientMsg, Hello, ServerMsg, Welcome};
    use lotline_station::{Actor, Query, Reply, Request, Role};
    let Some(path) = std::env::var_os(FAKE) else {
        return;
    };
    let path = PathBuf::from(path);
    let claimed: u32 = std::env::var(FAKE_PID)
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(std::process::id);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    chmod(&path, 0o777);
    println!("listening");
    std::io::stdout().flush().unwrap();
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut out = stream.try_clone().unwrap();
        let mut counted = Counting {
            inner: &mut stream,
            n: 0,
        };
        if let Ok(Some(_)) = wire::read_frame::<Hello>(&mut counted) {
            let _ = wire::write_frame(
                &mut out,
                &Welcome::Accepted {
                    actor: Actor {
                        operator: "qa".into(),
                        station: "fake".into(),
                        role: Role::Admin,
                    },
                    server_pid: claimed,
                },
            );
            while let Ok(Some(ClientMsg::Call { id, request })) =
                wire::read_frame::<ClientMsg>(&mut counted)
            {
                let reply = match request {
                    Request::Query(Query::Stations) => Reply::Stations(Vec::new()),
                    Request::Query(Query::Today) => Reply::Today(chrono::Local::now().date_naive()),
                    _ => Reply::Event(4242),
                };
                let _ = wire::write_frame(
                    &mut out,
                    &ServerMsg::Reply {
                        id,
                        result: Ok(reply),
                    },
                );
            }
        }
        println!("connection sent {} bytes", counted.n);
        std::io::stdout().flush().unwrap();
    }
}

/// A fake server running (as `user` when given), and the lines it prints.
struct Fake {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Fake {
    fn start(socket: &Path, user: Option<(u32, u32)>, claimed_pid: Option<u32>) -> Fake {
        let mut c = Command::new(std::env::current_exe().unwrap());
        c.args([
            "--exact",
            "attack_paths::fake_server_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_clear()
        .env(FAKE, socket)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        if let Some(pid) = claimed_pid {
            c.env(FAKE_PID, pid.to_string());
        }
        if let Some((uid, gid)) = user {
            c.uid(uid).gid(gid);
        }
        let mut child = c.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    // The test harness starts the line with the test's name.
                    if line.ends_with("listening") {
                        let _ = tx.send(());
                    }
                    lines.lock().unwrap().push(line);
                }
            });
        }
        rx.recv_timeout(Duration::from_secs(30))
            .expect("the fake server did not start");
        Fake { child, lines }
    }

    /// Stop it; the bytes each connection sent it.
    fn stop(mut self) -> Vec<u64> {
        // A connection's line comes when it ends: give the last one a moment.
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline
            && !self
                .lines
                .lock()
                .unwrap()
                .iter()
                .any(|l| l.contains("connection sent "))
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(100));
        kill(&mut self.child);
        // Its stdout closes with it; let the reader take the last lines.
        std::thread::sleep(Duration::from_millis(100));
        let lines = self.lines.lock().unwrap();
        lines
            .iter()
            .filter_map(|l| l.split_once("connection sent ").map(|(_, n)| n))
            .filter_map(|l| l.strip_suffix(" bytes"))
            .map(|n| n.parse().unwrap())
            .collect()
    }
}

// ---------------------------------------------------------------------------------------

/// Finding 3: `chown` and `chmod` of the socket by path followed a symbolic link raced over
/// it while the server started with `--group`, turning a root-owned 0600 file into 0660 of
/// the floor group. Now the socket's group and mode are set inside a private folder before
/// it is renamed into place: whatever is raced onto the path, the target never changes.
#[test]
fn a_symlink_raced_over_the_socket_never_changes_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("plant.redb");
    new_plant(&db);
    let socket = lotline_station::remote::socket_path(&db);
    // The file the attacker wants: 0600, like /etc/shadow.
    let target = dir.path().join("shadow");
    std::fs::write(&target, "root:secret\n").unwrap();
    chmod(&target, 0o600);
    let before = std::fs::metadata(&target).unwrap();
    // A group the socket is given that the target does not have.
    let me_root = unsafe { libc::geteuid() } == 0;
    let group = ["daemon", "nogroup", "users", "bin", "sys"]
        .into_iter()
        .find(|g| {
            let c = std::ffi::CString::new(*g).unwrap();
            // SAFETY: a valid C string; the result is only tested for null.
            me_root && !unsafe { libc::getgrnam(c.as_ptr()) }.is_null()
        })
        .map(str::to_string)
        .unwrap_or_else(|| {
            // Not root: the server may only give its own groups.
            let gid = unsafe { libc::getegid() };
            // SAFETY: getgrgid returns a static record or null.
            let g = unsafe { libc::getgrgid(gid) };
            assert!(!g.is_null(), "no name for gid {gid}");
            unsafe { std::ffi::CStr::from_ptr((*g).gr_name) }
                .to_string_lossy()
                .into_owned()
        });
    // The attacker: as soon as a socket appears at the path, a link to the target takes
    // its place.
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let racer = {
        let (stop, swaps, socket, target) =
            (stop.clone(), swaps.clone(), socket.clone(), target.clone());
        let side = dir.path().join("link");
        std::thread::spawn(move || {
            use std::os::unix::fs::FileTypeExt;
            while !stop.load(Ordering::Relaxed) {
                let is_socket = std::fs::symlink_metadata(&socket)
                    .map(|m| m.file_type().is_socket())
                    .unwrap_or(false);
                if is_socket {
                    let _ = std::fs::remove_file(&side);
                    if std::os::unix::fs::symlink(&target, &side).is_ok()
                        && std::fs::rename(&side, &socket).is_ok()
                    {
                        swaps.fetch_add(1, Ordering::SeqCst);
                    }
                } else {
                    std::hint::spin_loop();
                }
            }
        })
    };
    let attempts = 40;
    let mut started = 0;
    let mut changed = None;
    for attempt in 0..attempts {
        let _ = std::fs::remove_file(&socket);
        let seen = swaps.load(Ordering::SeqCst);
        let mut server = lotline(&db)
            .args(["serve", "--group", &group, "--socket-mode", "660"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Until the attacker has swapped the socket for the link, or the server ended.
        let deadline = Instant::now() + Duration::from_secs(20);
        while swaps.load(Ordering::SeqCst) == seen
            && server.try_wait().unwrap().is_none()
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        if swaps.load(Ordering::SeqCst) > seen {
            started += 1;
        }
        // Let a chown/chmod that follows the link land before looking.
        std::thread::sleep(Duration::from_millis(50));
        kill(&mut server);
        let now = std::fs::metadata(&target).unwrap();
        if (now.mode(), now.uid(), now.gid()) != (before.mode(), before.uid(), before.gid()) {
            changed = Some((attempt, now));
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    racer.join().unwrap();
    if let Some((attempt, now)) = changed {
        panic!(
            "attempt {attempt}: the target went from mode {:o} {}:{} to mode {:o} {}:{}",
            before.mode() & 0o7777,
            before.uid(),
            before.gid(),
            now.mode() & 0o7777,
            now.uid(),
            now.gid()
        );
    }
    assert_eq!(std::fs::read(&target).unwrap(), b"root:secret\n");
    // The race was really run: the attacker replaced the socket in most attempts.
    assert!(
        started >= attempts / 2,
        "the socket was swapped in only {started} of {attempts} attempts"
    );
    eprintln!("{started} of {attempts} server starts had their socket replaced by a link");
}

/// Finding 4: a program another user runs on the socket path a client computes — beside
/// the database in a folder others can write, or where a long path's socket goes — was
/// trusted with the client's requests ("lot … is now recalled (event 4242)", exit 0, nothing
/// recorded). Now the client checks the kernel's peer credentials before it sends anything
/// and says whose program it found. And a plain file another user put there gives a message
/// naming its owner and what to do, not a server's failure to start.
#[test]
fn a_program_or_file_of_another_user_on_the_socket_path_gets_nothing() {
    let users = test_user("lotline-test-op").and_then(|op| Ok((op, test_user("lotline-test-qa")?)));
    let ((op_uid, op_gid), (qa_uid, qa_gid)) = match users {
        Ok(u) => u,
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    let test_exe = std::env::current_exe().unwrap();
    if let Err(why) = reachable_by_others(&bin()).and(reachable_by_others(&test_exe)) {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let base = tempfile::tempdir().unwrap();
    chmod(base.path(), 0o755);
    // Beside the database, in a folder anyone may write (like /tmp).
    let shared = base.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    chmod(&shared, 0o1777);
    let short_db = shared.join("plant.redb");
    // A path too long for a socket beside it: the socket goes elsewhere.
    let mut long = base.path().join("plants");
    std::fs::create_dir(&long).unwrap();
    chown(&long, qa_uid, qa_gid);
    long = long.join("a-folder-name-long-enough-that-a-socket-beside-the-plant-does-not-fit");
    std::fs::create_dir(&long).unwrap();
    chown(&long, qa_uid, qa_gid);
    let long_db = long.join("plant-with-a-long-name.redb");
    for db in [&short_db, &long_db] {
        new_plant(db);
        chown(db, qa_uid, qa_gid);
    }
    let long_socket = lotline_station::remote::socket_path(&long_db);
    assert!(
        !long_socket.starts_with(&long),
        "the long path's socket is elsewhere: {long_socket:?}"
    );
    // QA's own folder for long paths, if a run before this one left it.
    let private = lotline_station::remote::private_socket_dir(qa_uid);
    let clean = || {
        if let Ok(m) = std::fs::symlink_metadata(&private) {
            if m.is_dir() {
                std::fs::remove_dir_all(&private).unwrap();
            } else {
                std::fs::remove_file(&private).unwrap();
            }
        }
        let _ = std::fs::remove_file(&long_socket);
    };
    let as_qa = |db: &Path, args: &[&str]| {
        lotline(db)
            .args(args)
            .uid(qa_uid)
            .gid(qa_gid)
            .output()
            .unwrap()
    };
    let recall = ["recall", "R26277-005", "--reason", "listeria positive"];
    for db in [&short_db, &long_db] {
        clean();
        let socket = lotline_station::remote::socket_path(db);
        let fake = Fake::start(&socket, Some((op_uid, op_gid)), None);
        let o = as_qa(db, &recall);
        let sent = fake.stop();
        let out = text(&o);
        assert!(
            !sent.is_empty(),
            "the client never reached {socket:?}: {out}"
        );
        assert!(
            sent.iter().all(|n| *n == 0),
            "the fake server at {socket:?} was sent {sent:?} bytes: {out}"
        );
        assert!(!o.status.success(), "{out}");
        assert!(!out.contains("now recalled"), "{out}");
        let err = String::from_utf8_lossy(&o.stderr);
        eprintln!("a program of another user on {}: {err}", socket.display());
        assert!(err.contains("lotline sent it nothing"), "{out}");
        assert!(
            err.contains(&format!("uid {op_uid} (lotline-test-op)")),
            "{out}"
        );
        assert!(
            err.contains(&format!("uid {qa_uid} (lotline-test-qa)")),
            "{out}"
        );
        // Nothing was recorded either way: the plant has no events.
        let st = lotline_store::Store::open_read_only(db).unwrap();
        assert_eq!(st.stats().unwrap().events, 0);
        drop(st);
        let _ = std::fs::remove_file(&socket);

        // A plain file of the other user at the same path.
        clean();
        let planted = Command::new("sh")
            .env_clear()
            .arg("-c")
            .arg(r#"mkdir -p "$(dirname "$1")" && : > "$1""#)
            .arg("sh")
            .arg(&socket)
            .uid(op_uid)
            .gid(op_gid)
            .status()
            .unwrap();
        assert!(planted.success());
        let o = as_qa(db, &recall);
        let out = text(&o);
        assert!(!o.status.success(), "{out}");
        let err = String::from_utf8_lossy(&o.stderr);
        eprintln!("a file of another user at {}: {err}", socket.display());
        assert!(err.contains("uid"), "{out}");
        assert!(
            err.contains("(lotline-test-op)"),
            "the owner is named: {out}"
        );
        assert!(err.contains("remove it"), "what to do: {out}");
        let _ = std::fs::remove_file(&socket);
    }
    clean();
}

/// Finding 7: `check` copied the plant to predictable names in the temporary folder,
/// deleting and re-creating them with a copy that followed FIFOs: a user who cannot read
/// the plant received all of it. Here FIFOs are planted and re-planted at those names
/// (`.lotline-check-PID.redb`, `.lotline-check-copy-PID.redb`, `.lotline-scan-PID.redb`)
/// for the very pid of each `check`, and drained; nothing may arrive, and `check` works.
#[test]
fn fifos_at_checks_temporary_names_receive_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    chmod(&tmp, 0o1777);
    let db = dir.path().join("plant.redb");
    new_plant(&db);
    let mut received = 0u64;
    let runs = 20;
    for _ in 0..runs {
        // The shell prints its pid and waits; `exec` keeps that pid for lotline.
        let mut check = Command::new("sh")
            .env_clear()
            .env("LOTLINE_CONFIG", "none")
            .env("TMPDIR", &tmp)
            .arg("-c")
            .arg(r#"echo $$; read go; exec "$0" "$@""#)
            .arg(bin())
            .arg("--db")
            .arg(&db)
            .arg("check")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(check.stdout.take().unwrap());
        let mut pid = String::new();
        out.read_line(&mut pid).unwrap();
        let pid: u32 = pid.trim().parse().unwrap();
        let names: Vec<PathBuf> = [
            format!(".lotline-check-{pid}.redb"),
            format!(".lotline-check-copy-{pid}.redb"),
            format!(".lotline-scan-{pid}.redb"),
        ]
        .into_iter()
        .map(|n| tmp.join(n))
        .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let attacker = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut readers: Vec<std::fs::File> = Vec::new();
                let mut got = 0u64;
                let mut buf = vec![0u8; 1 << 16];
                let mut first = true;
                while !stop.load(Ordering::Relaxed) {
                    for n in &names {
                        let c = std::ffi::CString::new(n.as_os_str().as_encoded_bytes()).unwrap();
                        // SAFETY: a valid C string.
                        if unsafe { libc::mkfifo(c.as_ptr(), 0o666) } == 0 {
                            use std::os::unix::fs::OpenOptionsExt;
                            if let Ok(f) = std::fs::OpenOptions::new()
                                .read(true)
                                .custom_flags(libc::O_NONBLOCK)
                                .open(n)
                            {
                                readers.push(f);
                            }
                        }
                    }
                    if first {
                        first = false;
                        let _ = ready_tx.send(());
                    }
                    for r in &mut readers {
                        while let Ok(k) = r.read(&mut buf) {
                            if k == 0 {
                                break;
                            }
                            got += k as u64;
                        }
                    }
                }
                got
            })
        };
        ready_rx.recv().unwrap();
        let mut go = check.stdin.take().unwrap();
        writeln!(go, "go").unwrap();
        drop(go);
        // A copy into a FIFO can hang the old code: a generous deadline, then stop it.
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = check.try_wait().unwrap() {
                break Some(s);
            }
            if Instant::now() > deadline {
                kill(&mut check);
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        stop.store(true, Ordering::Relaxed);
        received += attacker.join().unwrap();
        let mut rest = String::new();
        let _ = out.read_to_string(&mut rest);
        let mut err = String::new();
        let _ = check.stderr.take().unwrap().read_to_string(&mut err);
        assert_eq!(
            received, 0,
            "the attacker's FIFOs received {received} bytes of the plant"
        );
        assert!(
            status.is_some_and(|s| s.success()),
            "check failed ({status:?}): {rest}{err}"
        );
        for e in std::fs::read_dir(&tmp).unwrap() {
            let p = e.unwrap().path();
            if std::fs::symlink_metadata(&p).unwrap().is_dir() {
                panic!("check left {p:?} behind");
            }
            std::fs::remove_file(p).unwrap();
        }
    }
}

/// Finding 10: three junk files `plant-2099-01-0{1,2,3}.redb` made the server delete the
/// backup it had just written. Now pruning removes only backups the server recorded, never
/// the newest: today's verified backup is taken and kept, and the junk is left as it was.
#[test]
fn junk_named_like_future_backups_never_costs_todays_backup() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("plant.redb");
    new_plant(&db);
    let backups = dir.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    for d in 1..=3 {
        std::fs::write(backups.join(format!("plant-2099-01-0{d}.redb")), "junk").unwrap();
    }
    let mut server = lotline(&db)
        .args(["serve", "--backup-dir"])
        .arg(&backups)
        .args(["--keep", "3"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let today = chrono::Local::now().date_naive().format("%Y-%m-%d");
    let todays = backups.join(format!("plant-{today}.redb"));
    // The log says when today's backup is written and verified.
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = server.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut log = String::new();
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if line.contains("backup: ") && line.contains("verified") {
                let _ = tx.send(());
            }
            log.push_str(&line);
            log.push('\n');
        }
        log
    });
    let written = rx.recv_timeout(Duration::from_secs(60));
    // SIGTERM waits for the backup round under way, pruning included.
    kill(&mut server);
    let log = reader.join().unwrap();
    assert!(written.is_ok(), "no backup was written: {log}");
    assert!(todays.exists(), "today's backup was removed: {log}");
    assert!(log.contains("the server never removes them"), "{log}");
    for d in 1..=3 {
        let junk = backups.join(format!("plant-2099-01-0{d}.redb"));
        assert_eq!(std::fs::read(&junk).unwrap(), b"junk", "{log}");
    }
    let o = lotline(&todays).arg("check").output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
}

/// Finding 11a: the autostart log was opened through links: a link to another user's
/// `~/.bashrc` got log lines, with the station name a client chose, appended. Now a log
/// path that is a symbolic link, or a hard link, is not used: the server still starts,
/// logs nowhere, and the target is unchanged.
#[test]
fn a_link_as_the_autostart_log_is_never_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("plant.redb");
    new_plant(&db);
    let socket = lotline_station::remote::socket_path(&db);
    let log = dir.path().join("plant.redb.serve.log");
    let bashrc = dir.path().join("bashrc");
    let original = "alias ls='ls --color'\n";
    for hard in [false, true] {
        std::fs::write(&bashrc, original).unwrap();
        let _ = std::fs::remove_file(&log);
        if hard {
            std::fs::hard_link(&bashrc, &log).unwrap();
        } else {
            std::os::unix::fs::symlink(&bashrc, &log).unwrap();
        }
        let o = lotline(&db)
            .env("LOTLINE_STATION", "echo-pwned")
            .args(["item", "add", if hard { "SUGAR" } else { "FLOUR" }])
            .args(["--name", "Something", "--unit", "kg"])
            .output()
            .unwrap();
        assert!(o.status.success(), "the server still starts: {}", text(&o));
        assert!(lotline_station::server::served_by(&socket).is_some());
        stop_server(&socket);
        assert_eq!(
            std::fs::read_to_string(&bashrc).unwrap(),
            original,
            "written through the {} link",
            if hard { "hard" } else { "symbolic" }
        );
    }
}

/// `demo --fresh` sent SIGTERM to whatever pid the program on the socket named. Here a
/// program of this same user answers like a server and names another process; nothing may
/// be signalled, and the command says why.
#[test]
fn demo_fresh_never_signals_a_pid_a_server_names() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.redb");
    let o = lotline(&db)
        .args(["init", "--name"])
        .arg(lotline_station::demo::DEMO_PLANT_NAME)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let socket = lotline_station::remote::socket_path(&db);
    stop_server(&socket);
    // The process the fake server will name.
    let mut bystander = Command::new("sleep")
        .arg("600")
        .env_clear()
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let fake = Fake::start(&socket, None, Some(bystander.id()));
    let o = lotline(&db).args(["demo", "--fresh"]).output().unwrap();
    let sent = fake.stop();
    let out = text(&o);
    let alive = bystander.try_wait().unwrap().is_none();
    kill(&mut bystander);
    assert!(
        alive,
        "demo --fresh signalled the pid the fake server named: {out}"
    );
    assert!(
        !sent.is_empty(),
        "demo --fresh never asked the socket: {out}"
    );
    assert!(!o.status.success(), "{out}");
    assert!(out.contains("kernel says pid"), "{out}");
    assert!(db.exists(), "the demo file was left as it was");
}
