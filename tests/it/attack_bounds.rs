//! The server's bounds under a hostile client (issue 18: findings 1, 5, 6, 11b, 11c): a real
//! `lotline serve` on a temp database, attacked by raw clients that speak the wire with
//! lotline's own types and then misbehave — never reading, stalling frames, trickling
//! bytes, holding connections past the open-file limit, staying connected after their
//! access is withdrawn. Memory figures are the server's own (/proc/PID/status: VmRSS now,
//! VmHWM its peak) and each test prints them. Deadlines only keep a failing test from
//! hanging; nothing asserts how long anything took.

use lotline_domain::*;
use lotline_station::remote::Remote;
use lotline_station::wire::{self, ClientMsg, Hello, MAX_FRAME, ServerMsg, Welcome};
use lotline_station::{Query, Request, Station, StationExt};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A `lotline` command on `db`, with nothing from the caller's environment.
fn lotline(db: &Path, args: &[&str]) {
    let out = crate::support::lotline()
        .env("LOTLINE_STATION", "test")
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "lotline {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const MB: u64 = 1024;

struct Server {
    dir: tempfile::TempDir,
    db: PathBuf,
    socket: PathBuf,
    log: PathBuf,
    child: Child,
}

impl Server {
    /// A plant whose database `prepare` makes (or none: the server creates it), served
    /// with `args`, under an open-file limit when given.
    fn start(prepare: impl FnOnce(&Path), args: &[&str], open_files: Option<u64>) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("plant.redb");
        prepare(&db);
        let socket = lotline_station::remote::socket_path(&db);
        let log = dir.path().join("serve.log");
        let mut cmd = crate::support::lotline();
        cmd.arg("serve")
            .arg("--db")
            .arg(&db)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        if !db.exists() {
            cmd.arg("--create");
        }
        if let Some(n) = open_files {
            // SAFETY: setrlimit is async-signal-safe and touches only the child.
            unsafe {
                cmd.pre_exec(move || {
                    let l = libc::rlimit {
                        rlim_cur: n,
                        rlim_max: n,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &l) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let child = cmd.spawn().unwrap();
        let mut s = Server {
            dir,
            db,
            socket,
            log,
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while lotline_station::server::served_by(&s.socket).is_none() {
            if let Some(status) = s.child.try_wait().unwrap() {
                panic!("the server exited with {status}: {}", s.log_text());
            }
            assert!(Instant::now() < deadline, "the server did not come up");
            std::thread::sleep(Duration::from_millis(20));
        }
        s
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// A figure from /proc/PID/status, in kB.
    fn status_kb(&self, key: &str) -> u64 {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in /proc status"))
    }

    fn rss(&self) -> u64 {
        self.status_kb("VmRSS")
    }

    /// The peak since `reset_peak` (or the start).
    fn peak(&self) -> u64 {
        self.status_kb("VmHWM")
    }

    /// Start measuring the peak from now: the set-up's own (a plant generated, a large
    /// receipt written) is not the attack's.
    fn reset_peak(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").unwrap();
    }

    /// User and system CPU time, in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = after.split_whitespace().collect();
        f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
    }

    fn open_files(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .unwrap()
            .count()
    }

    /// The server's open files once it has closed what its clients closed: the count
    /// unchanged over half a second (it sees a close when it next reads that connection).
    fn settled_open_files(&self) -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        let (mut last, mut same) = (self.open_files(), 0);
        while same < 10 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            let now = self.open_files();
            same = if now == last { same + 1 } else { 0 };
            last = now;
        }
        last
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the log says `text` within a few seconds (a session writes its last line
    /// just after its connection is closed).
    fn log_says(&self, text: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.log_text().contains(text) {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        true
    }

    fn log_lines(&self) -> usize {
        self.log_text().lines().count()
    }

    /// A station connected the usual way answers a query.
    fn serves_a_station(&self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(r) = Remote::connect(&self.socket, "clerk")
                && r.call(Request::Query(Query::Stats)).is_ok()
            {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = &self.dir;
    }
}

/// Connect and send a handshake; the server's answer, or why there was none.
fn handshake(socket: &Path, station: &str) -> Result<(UnixStream, Welcome), String> {
    let mut s = UnixStream::connect(socket).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    wire::write_frame(&mut s, &Hello::new(station)).map_err(|e| e.to_string())?;
    match wire::read_frame::<Welcome>(&mut s) {
        Ok(Some(w)) => Ok((s, w)),
        Ok(None) => Err("closed without a word".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// A connection the server took.
fn accepted(socket: &Path, station: &str) -> UnixStream {
    match handshake(socket, station) {
        Ok((s, Welcome::Accepted { .. })) => s,
        other => panic!("not accepted: {other:?}"),
    }
}

fn call(id: u64, q: Query) -> ClientMsg {
    ClientMsg::Call {
        id,
        request: Request::Query(q),
    }
}

/// Whether the server has hung up on `s` within `within`, looked at without reading (what
/// it sent stays unread).
fn hung_up(s: &UnixStream, within: Duration) -> bool {
    let until = Instant::now() + within;
    loop {
        let mut p = libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLRDHUP,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut p, 1, 100) };
        if p.revents & (libc::POLLHUP | libc::POLLRDHUP | libc::POLLERR) != 0 {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
    }
}

/// Write `bytes` as a hostile client would, giving up at the first error or after
/// `patience` without progress; how much went out.
fn push(s: &UnixStream, bytes: &[u8], patience: Duration) -> usize {
    let _ = s.set_write_timeout(Some(patience));
    let mut done = 0;
    while done < bytes.len() {
        match (&mut &*s).write(&bytes[done..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => done += n,
        }
    }
    done
}

fn receipt(n: usize, today: chrono::NaiveDate) -> NewReceipt {
    NewReceipt {
        item: ItemCode::parse("FLOUR", "item").unwrap(),
        supplier: PartyId::parse("MILL", "supplier").unwrap(),
        supplier_lot: SupplierLot::parse(&format!("S{n}"), "supplier-lot").unwrap(),
        qty: Qty::from_units(1),
        unit: None,
        date: today,
        expiry: None,
        reference: None,
        documents: Default::default(),
        quality: Quality::default(),
        tlc_source_ref: None,
    }
}

fn master_data(s: &Server) {
    lotline(
        &s.db,
        &["item", "add", "FLOUR", "--name", "Flour", "--unit", "kg"],
    );
    lotline(
        &s.db,
        &[
            "party", "add", "MILL", "--name", "Mill Co", "--role", "supplier",
        ],
    );
}

/// Finding 1: an operator sends 2,000 requests for every event and never reads. The
/// server stops reading them once a few MB of answers wait, closes the connection when
/// they do not drain, and stays small; another station is served meanwhile.
#[test]
fn a_client_that_never_reads_its_replies_is_closed_and_the_server_stays_small() {
    let s = Server::start(
        |db| {
            lotline(
                db,
                &["--no-server", "generate", "--lots", "2000", "--seed", "7"],
            )
        },
        &["--stall-secs", "3"],
        None,
    );
    let (from, to) = (
        chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        chrono::NaiveDate::from_ymd_opt(2099, 12, 31).unwrap(),
    );
    // What one answer weighs, read the normal way.
    let mut probe = accepted(&s.socket, "probe");
    wire::write_frame(&mut probe, &call(1, Query::EventsBetween { from, to })).unwrap();
    let answer = wire::encode_frame(&wire::read_frame::<ServerMsg>(&mut probe).unwrap().unwrap())
        .unwrap()
        .len();
    drop(probe);
    assert!(answer > 256 << 10, "each answer should be large: {answer}");
    s.reset_peak();
    let base = s.rss();
    let attacker = accepted(&s.socket, "attacker");
    let mut requests = Vec::new();
    for id in 0..2000 {
        requests.extend(wire::encode_frame(&call(id, Query::EventsBetween { from, to })).unwrap());
    }
    let sender = {
        let a = attacker.try_clone().unwrap();
        std::thread::spawn(move || push(&a, &requests, Duration::from_secs(30)))
    };
    // Another station is served while the attacker's answers wait.
    assert!(s.serves_a_station(), "{}", s.log_text());
    let closed = hung_up(&attacker, Duration::from_secs(60));
    let sent = sender.join().unwrap();
    let peak = s.peak();
    eprintln!(
        "non-reading client: answers {} kB each, {sent} request bytes sent; server RSS {} MB before, peak {} MB",
        answer >> 10,
        base / MB,
        peak / MB
    );
    assert!(
        peak < base + 64 * MB,
        "the server grew from {} to {} MB",
        base / MB,
        peak / MB
    );
    assert!(closed, "the non-reading client was not disconnected");
    assert!(
        s.log_says("did not read"),
        "the log should say why: {}",
        s.log_text()
    );
    assert!(s.serves_a_station());
}

/// Finding 11c: a subscriber that never reads its notices while receipts are recorded is
/// closed (its app would reconnect and refresh) instead of growing the server.
#[test]
fn a_subscriber_that_never_reads_its_notices_is_closed() {
    let s = Server::start(|_| {}, &["--stall-secs", "2"], None);
    master_data(&s);
    let mut subscriber = accepted(&s.socket, "subscriber");
    wire::write_frame(&mut subscriber, &ClientMsg::Subscribe).unwrap();
    s.reset_peak();
    let base = s.rss();
    let dock = Remote::connect(&s.socket, "dock").unwrap();
    let today = dock.today().unwrap();
    let mut receipts = 0;
    while receipts < 5000 {
        dock.receive(receipt(receipts, today)).unwrap();
        receipts += 1;
        if receipts % 25 == 0 && hung_up(&subscriber, Duration::ZERO) {
            break;
        }
    }
    let closed = hung_up(&subscriber, Duration::from_secs(20));
    let peak = s.peak();
    eprintln!(
        "non-reading subscriber: {receipts} receipts; server RSS {} MB before, peak {} MB",
        base / MB,
        peak / MB
    );
    assert!(closed, "the subscriber that never reads was kept");
    assert!(
        s.log_says("did not read"),
        "the log should say why: {}",
        s.log_text()
    );
    assert!(peak < base + 32 * MB, "{} → {} MB", base / MB, peak / MB);
    // The station that did read was not disturbed.
    assert!(dock.stats().is_ok());
}

/// Finding 5: at a low open-file limit, connections past what it allows are refused with
/// a message, not left hanging while `accept` fails in a loop; the log stays small and,
/// once they close, a new station is served. Then, with the limit lowered under the
/// running server (file descriptors gone elsewhere), `accept` fails: the server backs off
/// instead of spinning.
#[test]
fn connections_past_the_open_file_limit_are_refused_and_the_server_never_spins() {
    let s = Server::start(|_| {}, &[], Some(96));
    let socket = s.socket.clone();
    let attempts: Vec<_> = (0..100)
        .map(|i| {
            let socket = socket.clone();
            std::thread::spawn(move || handshake(&socket, &format!("idle-{i}")))
        })
        .map(|t| t.join().unwrap())
        .collect();
    let mut held = Vec::new();
    let mut refused = 0;
    for a in attempts {
        match a {
            Ok((stream, Welcome::Accepted { .. })) => held.push(stream),
            Ok((_, Welcome::Busy { message })) => {
                assert!(message.contains("connections open"), "{message}");
                refused += 1;
            }
            Ok((_, w @ Welcome::Refused { .. })) => panic!("refused, not busy: {w:?}"),
            Err(e) => panic!("a connection got no answer: {e}"),
        }
    }
    let (ticks, lines) = (s.cpu_ticks(), s.log_lines());
    std::thread::sleep(Duration::from_secs(2));
    let (ticks, lines) = (s.cpu_ticks() - ticks, s.log_lines().max(lines));
    eprintln!(
        "open-file limit 96: {} held, {refused} refused, {lines} log lines, {ticks} CPU ticks while held",
        held.len()
    );
    assert!(refused > 0 && !held.is_empty());
    assert!(lines < 150, "{lines} log lines:\n{}", s.log_text());
    drop(held);
    assert!(s.serves_a_station(), "{}", s.log_text());

    // The limit lowered under it: accept fails with EMFILE. Counted once the dropped
    // connections are closed, or the limit would leave room for a dozen more.
    let files = s.settled_open_files() as u64;
    let low = libc::rlimit {
        rlim_cur: files + 2,
        rlim_max: 96,
    };
    // SAFETY: prlimit on our own child, with valid pointers.
    assert_eq!(
        unsafe { libc::prlimit(s.pid(), libc::RLIMIT_NOFILE, &low, std::ptr::null_mut()) },
        0
    );
    let waiting: Vec<UnixStream> = (0..12)
        .map(|_| UnixStream::connect(&socket).unwrap())
        .collect();
    let (ticks, lines) = (s.cpu_ticks(), s.log_lines());
    std::thread::sleep(Duration::from_secs(2));
    let (ticks, new_lines) = (s.cpu_ticks() - ticks, s.log_lines() - lines);
    eprintln!("EMFILE: {new_lines} log lines and {ticks} CPU ticks in 2 s");
    assert!(
        new_lines < 20,
        "{new_lines} log lines while out of files:\n{}",
        s.log_text()
    );
    // Half a CPU-second in two seconds: a spinning accept loop takes all of both.
    assert!(ticks < 50, "{ticks} CPU ticks while out of files");
    let back = libc::rlimit {
        rlim_cur: 96,
        rlim_max: 96,
    };
    // SAFETY: as above.
    assert_eq!(
        unsafe { libc::prlimit(s.pid(), libc::RLIMIT_NOFILE, &back, std::ptr::null_mut()) },
        0
    );
    drop(waiting);
    assert!(s.serves_a_station(), "{}", s.log_text());
    assert!(
        s.log_says("accepting connections again"),
        "{}",
        s.log_text()
    );
}

/// Finding 5, per user: one user cannot take every connection.
#[test]
fn one_user_cannot_hold_more_connections_than_their_share() {
    let s = Server::start(|_| {}, &["--max-connections-per-user", "4"], None);
    // The server counts a connection until it has seen it close: the start-up probe's may
    // still count for a moment.
    let mut held: Vec<UnixStream> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while held.len() < 4 {
        match handshake(&s.socket, "t") {
            Ok((c, Welcome::Accepted { .. })) => held.push(c),
            other => assert!(Instant::now() < deadline, "{other:?}"),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    match handshake(&s.socket, "t5") {
        Ok((_, Welcome::Busy { message })) => {
            assert!(message.contains("already has 4 connections"), "{message}")
        }
        other => panic!("the fifth connection was not refused: {other:?}"),
    }
    held.pop();
    assert!(s.serves_a_station(), "{}", s.log_text());
}

/// One hostile frame per connection: its length, then all of its body but the last byte,
/// then nothing. Returns the connection, kept open.
fn stall_a_frame(socket: &Path, i: usize) -> std::thread::JoinHandle<UnixStream> {
    let socket = socket.to_path_buf();
    std::thread::spawn(move || {
        let s = accepted(&socket, &format!("stall-{i}"));
        let len = MAX_FRAME - 1;
        let mut frame = len.to_le_bytes().to_vec();
        frame.resize(4 + len as usize - 1, 0);
        push(&s, &frame, Duration::from_secs(30));
        s
    })
}

/// Finding 6: six connections each send all but the last byte of a 64 MiB − 1 frame and
/// stop. The server reads one such frame of a user at a time, drops each when its deadline
/// passes, and stays within one frame of its size.
#[test]
fn stalled_frames_are_dropped_and_hold_at_most_one_frame() {
    let s = Server::start(|_| {}, &["--stall-secs", "2"], None);
    s.reset_peak();
    let base = s.rss();
    let stallers: Vec<_> = (0..6).map(|i| stall_a_frame(&s.socket, i)).collect();
    let conns: Vec<UnixStream> = stallers.into_iter().map(|t| t.join().unwrap()).collect();
    let all_closed = conns.iter().all(|c| hung_up(c, Duration::from_secs(60)));
    let peak = s.peak();
    eprintln!(
        "six stalled 64 MiB frames: server RSS {} MB before, peak {} MB",
        base / MB,
        peak / MB
    );
    assert!(
        peak < base + 160 * MB,
        "the server grew from {} to {} MB",
        base / MB,
        peak / MB
    );
    assert!(all_closed, "a stalled frame's connection was kept");
    assert!(s.log_says("did not arrive within"), "{}", s.log_text());
    assert!(s.serves_a_station());
}

/// Finding 6, the trickle: a byte now and then must not keep a frame alive, before the
/// handshake (a user the roles would refuse: the handshake is small and due at once) or
/// after it.
#[test]
fn trickled_frames_are_dropped_before_and_after_the_handshake() {
    let s = Server::start(|_| {}, &["--stall-secs", "2"], None);
    s.reset_peak();
    let base = s.rss();
    let trickle = |s: UnixStream, head: Vec<u8>| {
        std::thread::spawn(move || {
            push(&s, &head, Duration::from_secs(10));
            for _ in 0..40 {
                if push(&s, &[0], Duration::from_secs(1)) == 0 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        })
    };
    let mut watch = Vec::new();
    let mut threads = Vec::new();
    // Before the handshake: a "Hello" of 64 MiB − 1, 8 MiB of it at once.
    for _ in 0..3 {
        let c = UnixStream::connect(&s.socket).unwrap();
        let mut head = (MAX_FRAME - 1).to_le_bytes().to_vec();
        head.resize(4 + (8 << 20), 7);
        watch.push(c.try_clone().unwrap());
        threads.push(trickle(c, head));
    }
    // After it: a request of 1 MiB, one byte at a time.
    let c = accepted(&s.socket, "trickler");
    watch.push(c.try_clone().unwrap());
    threads.push(trickle(c, (1u32 << 20).to_le_bytes().to_vec()));
    let closed: Vec<bool> = watch
        .iter()
        .map(|c| hung_up(c, Duration::from_secs(15)))
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let peak = s.peak();
    eprintln!(
        "trickled frames: server RSS {} MB before, peak {} MB",
        base / MB,
        peak / MB
    );
    assert_eq!(closed, vec![true; 4], "a trickling connection was kept");
    assert!(peak < base + 32 * MB, "{} → {} MB", base / MB, peak / MB);
}

/// Finding 11b: a user removed from the roles file loses the connection they hold, and is
/// refused when they come back.
#[test]
fn a_user_removed_from_the_roles_file_loses_their_open_connection() {
    let me = lotline_station::identity::Identity::current().user;
    let dir = tempfile::tempdir().unwrap();
    let roles = dir.path().join("roles.toml");
    std::fs::write(&roles, format!("admin = [\"{me}\"]\ndefault = \"none\"\n")).unwrap();
    let s = Server::start(|_| {}, &["--roles", roles.to_str().unwrap()], None);
    let mut c = accepted(&s.socket, "desk");
    wire::write_frame(&mut c, &call(1, Query::Stats)).unwrap();
    assert!(matches!(
        wire::read_frame::<ServerMsg>(&mut c).unwrap(),
        Some(ServerMsg::Reply { result: Ok(_), .. })
    ));
    std::fs::write(&roles, "admin = [\"lotline-nobody\"]\ndefault = \"none\"\n").unwrap();
    // A modification time surely different, on file systems with coarse ones.
    let later = std::time::SystemTime::now() + Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&roles)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert!(
        hung_up(&c, Duration::from_secs(15)),
        "the revoked user kept their connection"
    );
    assert!(
        s.log_says("may no longer use this plant"),
        "{}",
        s.log_text()
    );
    match handshake(&s.socket, "desk") {
        Ok((_, Welcome::Refused { message, .. })) => {
            assert!(message.contains("not named in the roles file"), "{message}")
        }
        other => panic!("the revoked user was let back in: {other:?}"),
    }
}
