//! `lotline serve`: the one writer of a plant's database, serving every station over a
//! Unix socket beside it (docs/server.md).
//!
//! - One [`Core`] (store, clock, roles) is shared by every connection; each connection is a
//!   session whose caller comes from the socket's peer credentials, never from the client.
//! - Queries run on the connection's own thread against redb's MVCC snapshots, so readers
//!   never wait for writers.
//! - Commands go to one writer thread, which gathers those that arrive while a commit is in
//!   flight into the next transaction (group commit) and acknowledges each only after its
//!   commit returned.
//! - After each commit, subscribed clients are told what changed.
//! - No client can make the server hold more than its share (`limits`, `session`):
//!   connections are capped in all and per Unix user, frames and handshakes have
//!   deadlines, replies wait as counted bytes and a client that does not take them is
//!   dropped, and the log lines a client causes are rate-limited (`logs`).
//! - SIGTERM or SIGINT: stop taking requests, finish the commit in flight, answer it, close
//!   the database cleanly, remove the socket.

mod backups;
mod limits;
mod logs;
mod session;
mod socket;

pub use backups::BackupPolicy;
pub use limits::Limits;
use socket::bind;
pub use socket::{served_by, stop_if_idle};

use crate::wire::{self, Welcome};
use crate::{
    Caller, Command, Core, ErrorKind, Notice, Reply, Request, Roles, StationError, StationInfo,
};
use chrono::{DateTime, Utc};
use limits::{Pool, UserMeter};
use lotline_store::{Store, StoreError};
use session::Conn;
use std::collections::{HashMap, VecDeque};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How `serve` runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub db: PathBuf,
    pub socket: PathBuf,
    /// Create the database when it does not exist.
    pub create: bool,
    /// Leave after this long with no client connected (servers started by a client).
    pub idle_exit: Option<Duration>,
    /// Roles file (`--roles`); `None` takes the config's, else the one the plant was last
    /// served with, else `system_roles` if it exists, else the plant's QA list.
    pub roles: Option<PathBuf>,
    /// The roles file the system config names (`roles = …`).
    pub configured_roles: Option<PathBuf>,
    /// `roles.toml` beside the system config, used when it exists (none when no config is
    /// read, as in tests: `LOTLINE_CONFIG=none`).
    pub system_roles: Option<PathBuf>,
    /// Mode of the socket file: who may connect (default 0660: the owner and the group).
    pub socket_mode: u32,
    /// Group that owns the socket (the plant's group), if not the server's own.
    pub group: Option<String>,
    /// Rolling daily backups, if asked for.
    pub backups: Option<BackupPolicy>,
    /// redb's page cache, in bytes.
    pub cache_bytes: usize,
    /// What clients may make the server hold (docs/server.md, "Bounds").
    pub limits: Limits,
}

/// Most write requests gathered into one transaction.
const MAX_GROUP: usize = 512;

/// Log lines one Unix user's connections may cause a minute (connections, refusals);
/// more are counted, not written.
const LOG_LINES_PER_USER: usize = 60;

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn install_signal_handlers() {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        crate::signals::catch(&[libc::SIGTERM, libc::SIGINT], on_signal);
        // A client that disconnects mid-reply must not kill the server.
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// One line to the log (stderr; journald under systemd), stamped in UTC.
pub fn log(msg: impl std::fmt::Display) {
    use std::io::Write;
    // Never `eprintln!`: it panics when stderr cannot be written (a full disk under the
    // autostart log, a closed pipe), and a panic in a session or the writer would leave
    // connections hanging. A line that cannot be written is lost; the server goes on.
    let _ = writeln!(
        std::io::stderr().lock(),
        "{} lotline serve: {msg}",
        Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
    );
}

/// Why `serve` could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{db} is already served by lotline serve (pid {pid}) on {socket}")]
    AlreadyServed {
        db: String,
        pid: u32,
        socket: String,
    },
    #[error("{0}")]
    Setup(String),
}

impl ServeError {
    /// How a caller should take it: no plant there is a mistake in what was asked
    /// (`Invalid`); a plant held by another server is `Busy` (try again); the rest is the
    /// file or the machine (`Database`).
    pub fn kind(&self) -> crate::ErrorKind {
        match self {
            ServeError::Store(StoreError::Missing { .. }) => crate::ErrorKind::Invalid,
            ServeError::Store(StoreError::InUse { .. }) | ServeError::AlreadyServed { .. } => {
                crate::ErrorKind::Busy
            }
            _ => crate::ErrorKind::Database,
        }
    }
}

/// What the writer thread does with a command's result: queue its answer to the client.
type Answer = Box<dyn FnOnce(&Shared, Result<Reply, StationError>) + Send>;

/// A job for the writer thread.
struct WriteJob {
    caller: Caller,
    command: Command,
    at: DateTime<Utc>,
    reply: Answer,
}

/// A connected client, as the server keeps it.
struct Client {
    info: StationInfo,
    conn: Arc<Conn>,
    caller: Caller,
    subscribed: bool,
}

struct Shared {
    core: Core,
    clients: Mutex<HashMap<u64, Client>>,
    /// Commands for the writer thread: a bounded queue, so a flood waits at its sender.
    writes: Mutex<Option<SyncSender<WriteJob>>>,
    /// Connections open, from accept to the last byte sent.
    connected: AtomicUsize,
    next_client: AtomicU64,
    limits: Limits,
    /// Each Unix user's share of the server, by uid, while they hold any.
    users: Mutex<HashMap<u32, Arc<UserMeter>>>,
    /// Request bytes held for everyone (large frames).
    requests: Arc<Pool>,
    logs: logs::Limiter,
    /// The roles file, watched for changes (a revoked user's connections are closed).
    roles_file: Option<PathBuf>,
    /// Set when the accept loop has ended: a handshake finishing now is not let in.
    stopping: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn stations(&self, me: u64) -> Vec<StationInfo> {
        let clients = lock(&self.clients);
        let mut list: Vec<StationInfo> = clients
            .iter()
            .map(|(id, c)| StationInfo {
                me: *id == me,
                ..c.info.clone()
            })
            .collect();
        list.sort_by_key(|s| s.since);
        list
    }

    /// Tell every subscriber: the notice is encoded once and its bytes shared.
    fn notify(&self, n: Notice) {
        let Ok(frame) = wire::encode_frame(&wire::ServerMsg::Notice(n)) else {
            return;
        };
        let frame: Arc<[u8]> = frame.into();
        for c in lock(&self.clients).values().filter(|c| c.subscribed) {
            c.conn.push_notice(&frame, self.limits.notices);
        }
    }
}

/// Run the server until SIGTERM, SIGINT, or (when asked) a quiet spell with no clients.
pub fn serve(opts: &ServeOptions) -> Result<(), ServeError> {
    install_signal_handlers();
    // A server that is just stopping still holds the file for a moment: wait for it.
    let mut tries = 0;
    let opened = loop {
        match Store::open_cached(&opts.db, opts.create, opts.cache_bytes) {
            Err(StoreError::InUse { .. }) if tries < 50 && served_by(&opts.socket).is_none() => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            other => break other,
        }
    };
    let store = match opened {
        Ok(s) => s,
        Err(StoreError::InUse { .. }) => {
            return Err(match served_by(&opts.socket) {
                Some(pid) => ServeError::AlreadyServed {
                    db: opts.db.display().to_string(),
                    pid,
                    socket: opts.socket.display().to_string(),
                },
                None => ServeError::Setup(format!(
                    "{} is open for writing by another lotline process (one run with --no-server); let it finish, then start the server",
                    opts.db.display()
                )),
            });
        }
        // A file that fails its check is never written (see `store::integrity`): served
        // read-only, so stations can still trace and export, and every write is refused
        // with what to do.
        Err(StoreError::FailedCheck { path, why }) => {
            log(format_args!(
                "{} fails its check ({}): serving it read-only, every write refused; restore the last good backup, or copy what is readable with `lotline salvage`",
                lotline_domain::text::escape(&path.display().to_string()),
                lotline_domain::text::escape(&why)
            ));
            // One that cannot even be read as it is (it needs recovery, which writes) is
            // not served at all.
            let store = Store::open_read_only(&opts.db).map_err(|_| StoreError::FailedCheck {
                path,
                why: why.clone(),
            })?;
            store.mark_failed_check(why);
            store
        }
        Err(e) => return Err(e.into()),
    };
    let roles = match server_roles(opts, &store) {
        Ok(r) => r,
        Err(e) => {
            let _ = store.close();
            return Err(e);
        }
    };
    if let Some(b) = &opts.backups {
        b.prepare().map_err(ServeError::Setup)?;
    }
    let listener = bind(opts)?;
    let socket_id = std::fs::metadata(&opts.socket).map(|m| m.ino()).ok();
    log(format_args!(
        "serving {} on {} (pid {}{})",
        opts.db.display(),
        opts.socket.display(),
        std::process::id(),
        match roles.file() {
            Some(f) => format!(", roles from {}", f.display()),
            None => ", roles from the plant's QA list".into(),
        }
    ));
    // The link graph in memory: traces and recall scopes walk it instead of redb's link
    // tables (docs/server.md). Built once here; its time and size go in the log.
    // A graph that cannot be built (a damaged link table) leaves traces to redb's walk,
    // which reports the damage where it is met.
    let started = Instant::now();
    let roles_file = roles.file().map(Path::to_path_buf);
    // redb may panic on a damaged page (a file served read-only): no graph, then.
    let graph = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        lotline_store::LinkGraph::build(&store)
    }))
    .unwrap_or_else(|_| {
        Err(StoreError::Damaged {
            detail: "redb stopped on a damaged page".into(),
        })
    });
    let core = match graph {
        Ok(g) => {
            log(format_args!(
                "link graph: {} links, {:.1} MB, built in {} ms",
                g.links(),
                g.heap_bytes() as f64 / 1_048_576.0,
                started.elapsed().as_millis()
            ));
            Core::new(store, roles).shared().with_graph(g)
        }
        Err(e) => {
            log(format_args!("link graph not built ({e}); traces read redb"));
            Core::new(store, roles).shared()
        }
    };
    limits::return_large_allocations();
    let mut limits = opts.limits.clone();
    let files = limits.fit_open_files();
    log(format_args!(
        "taking up to {} connections ({} per user; {files} open files)",
        limits.connections, limits.per_user
    ));
    let shared = Arc::new(Shared {
        core,
        clients: Mutex::new(HashMap::new()),
        writes: Mutex::new(None),
        connected: AtomicUsize::new(0),
        next_client: AtomicU64::new(1),
        requests: Arc::new(Pool::new(limits.total_requests)),
        limits,
        users: Mutex::new(HashMap::new()),
        logs: logs::Limiter::new(LOG_LINES_PER_USER, Duration::from_secs(60)),
        roles_file,
        stopping: AtomicBool::new(false),
    });
    let (wtx, wrx) = mpsc::sync_channel::<WriteJob>(2 * MAX_GROUP);
    *lock(&shared.writes) = Some(wtx);
    let writer = {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("lotline-writer".into())
            .spawn(move || write_loop(&shared, wrx))
            .map_err(|e| ServeError::Setup(e.to_string()))?
    };
    let backups_stop = Arc::new(AtomicBool::new(false));
    let backups = match &opts.backups {
        Some(policy) => {
            log(format_args!(
                "keeping {} daily backups in {}",
                policy.keep,
                policy.dir.display()
            ));
            let (shared, policy, stop) = (shared.clone(), policy.clone(), backups_stop.clone());
            Some(
                std::thread::Builder::new()
                    .name("lotline-backups".into())
                    .spawn(move || backups::keep_backing_up(shared.core.store(), &policy, &stop))
                    .map_err(|e| ServeError::Setup(e.to_string()))?,
            )
        }
        None => None,
    };
    let why = accept_loop(&shared, &listener, opts, socket_id);
    shared.stopping.store(true, Ordering::SeqCst);
    log(format_args!("stopping: {why}"));
    // A backup under way is finished (it is a read snapshot: writes were not held up).
    backups_stop.store(true, Ordering::SeqCst);
    if let Some(b) = backups {
        let _ = b.join();
    }
    // No new writes; the writer finishes what it has, answers it, and ends.
    lock(&shared.writes).take();
    let _ = writer.join();
    shared.notify(Notice::Stopping);
    // Every session stops reading; its writer sends what is queued (the notice above),
    // for a moment; then every connection is closed so their threads let go of the core.
    let conns: Vec<Arc<Conn>> = lock(&shared.clients)
        .values()
        .map(|c| c.conn.clone())
        .collect();
    for c in &conns {
        c.stop_reading();
    }
    let flushed = Instant::now() + Duration::from_secs(2);
    while shared.connected.load(Ordering::SeqCst) > 0 && Instant::now() < flushed {
        std::thread::sleep(Duration::from_millis(20));
    }
    for c in &conns {
        c.close("the server is stopping".into());
    }
    drop(conns);
    drop(listener);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut shared = shared;
    let core = loop {
        match Arc::try_unwrap(shared) {
            Ok(s) => break Some(s.core),
            Err(s) if Instant::now() < deadline => {
                shared = s;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(_) => break None,
        }
    };
    let closed = core.map(|core| core.into_store().close());
    // The socket goes last: once it is gone, the file is free for the next server.
    if socket_id.is_some() && std::fs::metadata(&opts.socket).map(|m| m.ino()).ok() == socket_id {
        let _ = std::fs::remove_file(&opts.socket);
    }
    match closed {
        Some(closed) => match closed {
            Ok(()) => {
                log("stopped; the database is closed");
                Ok(())
            }
            Err(e) => {
                log(format_args!("closing the database: {e}"));
                Err(e.into())
            }
        },
        None => {
            // Every acknowledged commit is durable already; the file is recovered on
            // its next open.
            log("stopped; a request was still running, so the database was not closed cleanly");
            Ok(())
        }
    }
}

/// The server's roles: from its own `--roles`, else the system's config, else the file
/// the plant recorded when it was last served with `--roles`, else the system's file, else
/// the plant's QA list — never from the environment of whoever started it (a client's
/// autostart passes its own). A file with a mistake refuses the start, naming where; one
/// that changes into a mistake later keeps the roles read before and says so in the log.
/// A `--roles` file is recorded in the plant, so a server started later without the flag,
/// and a command run with `--no-server`, check writes against the same file.
fn server_roles(opts: &ServeOptions, store: &Store) -> Result<Roles, ServeError> {
    let recorded = store.roles_file().unwrap_or(None);
    let roles = Roles::discover(
        opts.roles.as_deref(),
        opts.configured_roles.as_deref(),
        recorded.as_deref(),
        opts.system_roles.as_deref(),
    )
    .map_err(|e| {
        let how = match (&opts.roles, &recorded) {
            (None, Some(r)) if e.at.is_none() => format!(
                "this plant was last served with `--roles {}`: put the file back, or start the server with --roles naming the plant's roles file now",
                r.display()
            ),
            _ => format!(
                "correct it (`lotline roles check {}` shows it) and start again",
                e.file.display()
            ),
        };
        ServeError::Setup(format!("{e}; {how}"))
    })?;
    if let Some(named) = &opts.roles
        && !store.is_damaged()
    {
        let named = std::fs::canonicalize(named).unwrap_or_else(|_| named.clone());
        if let Err(e) = store.record_roles_file(&named) {
            log(format_args!(
                "could not record {} as the plant's roles file: {e}",
                named.display()
            ));
        }
    }
    Ok(roles.with_log(Box::new(|e| {
        log(format_args!(
            "{e}; keeping the roles read before the change until it is corrected (`lotline roles check {}`)",
            e.file.display()
        ))
    })))
}

/// Accept connections until told to stop; returns why it stopped. Between accepts, every
/// half second at most: the idle and socket checks, the roles file (a revoked user's
/// connections are closed), heartbeats, refused connections let go, log counts reported.
fn accept_loop(
    shared: &Arc<Shared>,
    listener: &UnixListener,
    opts: &ServeOptions,
    socket_id: Option<u64>,
) -> String {
    use std::os::fd::AsRawFd;
    let mut idle_since = Instant::now();
    let mut roles_seen = roles_stamp(shared.roles_file.as_deref());
    let mut refused = Refused::default();
    let mut out_of_files: Option<Backoff> = None;
    loop {
        if STOP.load(Ordering::SeqCst) {
            return "asked to stop".into();
        }
        if shared.connected.load(Ordering::SeqCst) > 0 {
            idle_since = Instant::now();
        } else if let Some(idle) = opts.idle_exit
            && idle_since.elapsed() >= idle
        {
            return format!("no client for {} s", idle.as_secs());
        }
        // The socket removed or replaced, or the database gone (a test's folder cleaned
        // up, a plant moved): nobody can reach this server any more.
        if std::fs::metadata(&opts.socket).map(|m| m.ino()).ok() != socket_id {
            return format!("{} was removed", opts.socket.display());
        }
        if !opts.db.exists() {
            return format!("{} was removed", opts.db.display());
        }
        let roles_now = roles_stamp(shared.roles_file.as_deref());
        if roles_now != roles_seen {
            roles_seen = roles_now;
            recheck_roles(shared);
        }
        heartbeats(shared);
        shared.logs.flush();
        lock(&shared.users).retain(|_, u| Arc::strong_count(u) > 1);
        refused.let_go();
        let mut pfd = libc::pollfd {
            fd: listener.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let wait = if refused.is_empty() { 500 } else { 100 };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, wait) };
        // Bounded, so a flood of connections cannot keep the checks above from running.
        for _ in 0..256 {
            match listener.accept() {
                Ok((stream, _)) => {
                    if let Some(b) = out_of_files.take() {
                        log(format_args!(
                            "accepting connections again after {} s ({} attempts failed)",
                            b.since.elapsed().as_secs(),
                            b.failures
                        ));
                    }
                    admit(shared, stream, &mut refused);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
                    ) =>
                {
                    // The connection stays in the listen queue and poll reports it at
                    // once: without a pause this loop would spin and log without end.
                    let b = out_of_files.get_or_insert_with(|| {
                        log(format_args!(
                            "cannot accept connections: {e} ({} open); waiting for some to close, trying again at most once a second",
                            shared.connected.load(Ordering::SeqCst)
                        ));
                        Backoff {
                            since: Instant::now(),
                            wait: Duration::from_millis(10),
                            failures: 0,
                        }
                    });
                    b.failures += 1;
                    std::thread::sleep(b.wait);
                    b.wait = (b.wait * 2).min(Duration::from_secs(1));
                    break;
                }
                Err(e) => {
                    shared.logs.log(None, format_args!("accept: {e}"));
                    break;
                }
            }
        }
    }
}

/// Ping every connection that has been quiet for `Limits::ping`, and drop those that
/// answered nothing for `Limits::silence` while the server waited for them (a terminal
/// frozen or stopped, a link gone half-open): each is told why, if its socket takes the
/// word at once, and leaves the stations list now (docs/server.md, "Heartbeats").
fn heartbeats(shared: &Shared) {
    let limits = &shared.limits;
    let conns: Vec<Arc<Conn>> = lock(&shared.clients)
        .values()
        .map(|c| c.conn.clone())
        .collect();
    for conn in conns {
        match conn.beat(limits.ping, limits.silence) {
            session::Beat::Fine => {}
            session::Beat::Ping => {
                if let Ok(f) = wire::encode_frame(&wire::ServerMsg::Ping) {
                    conn.push_reply(f);
                }
            }
            session::Beat::Drop => {
                let secs = limits.silence.as_secs();
                let last = wire::encode_frame(&wire::ServerMsg::Notice(Notice::Dropped {
                    silent_secs: secs,
                }))
                .unwrap_or_default();
                conn.hang_up(
                    &last,
                    format!(
                        "it answered nothing, not even a ping, for {secs} s (a terminal frozen or stopped, or a link that went down); dropped"
                    ),
                );
                lock(&shared.clients).remove(&conn.id);
            }
        }
    }
}

/// An episode of `accept` failing for want of file descriptors or memory.
struct Backoff {
    since: Instant,
    wait: Duration,
    failures: u64,
}

/// Take a new connection: refused at once (with the reason, for the client to show) when
/// the server or its user holds as many as they may, else given a session thread.
fn admit(shared: &Arc<Shared>, stream: UnixStream, refused: &mut Refused) {
    let accepted = Instant::now();
    let _ = stream.set_nonblocking(false);
    let (uid, gid) = match crate::identity::PeerCred::of(&stream) {
        Ok(c) => (c.uid, c.gid),
        Err(e) => {
            shared.logs.log(
                None,
                format_args!("a connection without peer credentials ({e}); closed"),
            );
            return;
        }
    };
    let limits = &shared.limits;
    let open = shared.connected.load(Ordering::SeqCst);
    if open >= limits.connections {
        shared.logs.log(
            Some(uid),
            format_args!(
                "refused a connection from uid {uid}: {open} are open, the most this server takes"
            ),
        );
        refused.refuse(
            stream,
            format!(
                "the lotline server has {open} connections open, the most it takes; try again when some stations have closed, or ask the plant's IT to raise --max-connections"
            ),
        );
        return;
    }
    let meter = lock(&shared.users)
        .entry(uid)
        .or_insert_with(|| Arc::new(UserMeter::new(uid, limits)))
        .clone();
    if let Err(held) = meter.connect(limits.per_user) {
        shared.logs.log(
            Some(uid),
            format_args!(
                "refused a connection from uid {uid}: it holds {held}, the most one user may"
            ),
        );
        refused.refuse(
            stream,
            format!(
                "this user (uid {uid}) already has {held} connections to the lotline server, the most one user may; close other terminals or stuck commands and try again"
            ),
        );
        return;
    }
    shared.connected.fetch_add(1, Ordering::SeqCst);
    let spawned = {
        let (shared, meter) = (shared.clone(), meter.clone());
        std::thread::Builder::new()
            .name("lotline-session".into())
            .spawn(move || {
                session::run(&shared, stream, meter.clone(), gid, accepted);
                meter.disconnect();
                shared.connected.fetch_sub(1, Ordering::SeqCst);
            })
    };
    if let Err(e) = spawned {
        meter.disconnect();
        shared.connected.fetch_sub(1, Ordering::SeqCst);
        shared
            .logs
            .log(Some(uid), format_args!("cannot start a session: {e}"));
    }
}

/// Connections refused at accept: the refusal is written at once, and the connection kept
/// open a moment (at most a second, at most [`Refused::MOST`] of them) so the client can
/// send its handshake and read why, instead of meeting a closed socket.
#[derive(Default)]
struct Refused(VecDeque<(UnixStream, Instant)>);

impl Refused {
    const MOST: usize = 16;

    fn refuse(&mut self, stream: UnixStream, message: String) {
        let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
        let _ = wire::write_frame(&mut &stream, &Welcome::Busy { message });
        let _ = stream.shutdown(std::net::Shutdown::Write);
        if stream.set_nonblocking(true).is_err() {
            return;
        }
        if self.0.len() >= Self::MOST {
            self.0.pop_front();
        }
        self.0.push_back((stream, Instant::now()));
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Let go of those whose client has hung up or had its second.
    fn let_go(&mut self) {
        use std::io::Read;
        let mut scratch = [0u8; 4096];
        self.0.retain(|(stream, since)| {
            if since.elapsed() >= Duration::from_secs(1) {
                return false;
            }
            // Take in (and drop) what the client sent; an end means it is gone.
            for _ in 0..4 {
                match (&mut &*stream).read(&mut scratch) {
                    Ok(0) => return false,
                    Ok(_) => {}
                    Err(e) => return e.kind() == std::io::ErrorKind::WouldBlock,
                }
            }
            true
        });
    }
}

/// What identifies a version of the roles file: a change means roles may have changed.
fn roles_stamp(file: Option<&Path>) -> Option<(i64, i64, u64, u64)> {
    let m = std::fs::metadata(file?).ok()?;
    Some((m.mtime(), m.mtime_nsec(), m.ino(), m.len()))
}

/// The roles file changed: look again at every connected caller, close the connections
/// of those the plant now refuses, and show the others' new roles in the stations list.
fn recheck_roles(shared: &Shared) {
    let callers: Vec<(Caller, Arc<Conn>)> = lock(&shared.clients)
        .values()
        .map(|c| (c.caller.clone(), c.conn.clone()))
        .collect();
    let mut closed = 0;
    for (caller, conn) in &callers {
        match shared.core.actor(caller) {
            Ok(actor) => {
                if let Some(c) = lock(&shared.clients).get_mut(&conn.id) {
                    c.info.role = actor.role;
                }
            }
            Err(e) if e.kind == ErrorKind::Forbidden => {
                let why = format!(
                    "{} may no longer use this plant (the roles file changed)",
                    caller.user
                );
                if conn.close(why) {
                    closed += 1;
                }
            }
            // The plant could not be read: nothing is known to have changed.
            Err(_) => {}
        }
    }
    log(format_args!(
        "the roles file changed: {} connections checked, {closed} closed",
        callers.len()
    ));
}

fn stopping() -> StationError {
    StationError {
        kind: ErrorKind::Unavailable,
        field: None,
        message: "the lotline server is stopping; nothing was saved — try again in a moment".into(),
    }
}

/// The writer: take the first job, then everything that arrived meanwhile, and commit
/// them together. Ends when the channel closes (the server is stopping), after answering
/// all it took.
fn write_loop(shared: &Shared, rx: Receiver<WriteJob>) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let (group, alone): (Vec<WriteJob>, Vec<WriteJob>) =
            jobs.into_iter().partition(|j| j.command.groupable());
        let mut events = Vec::new();
        let mut stations = Vec::new();
        if !group.is_empty() {
            let batch: Vec<(Caller, Command, DateTime<Utc>)> = group
                .iter()
                .map(|j| (j.caller.clone(), j.command.clone(), j.at))
                .collect();
            let results = crate::core::guard(shared.core.store().path(), || {
                Ok(shared.core.commit_group(&batch))
            })
            .unwrap_or_else(|e| vec![Err(e); batch.len()]);
            for (job, result) in group.into_iter().zip(results) {
                if let Ok(r) = &result {
                    events.extend(reply_events(r));
                    stations.push(job.caller.station.clone());
                }
                (job.reply)(shared, result);
            }
        }
        for job in alone {
            // A draft is nobody else's business: no notice for it.
            let draft = job.command.is_draft();
            let result = shared
                .core
                .call(&job.caller, Request::Command(job.command), Vec::new);
            if let Ok(r) = &result
                && !draft
            {
                events.extend(reply_events(r));
                stations.push(job.caller.station.clone());
            }
            (job.reply)(shared, result);
        }
        if !stations.is_empty() {
            stations.dedup();
            shared.notify(Notice::Changed {
                station: stations.join(", "),
                events,
            });
        }
    }
}

fn reply_events(r: &Reply) -> Vec<u64> {
    match r {
        Reply::Created(c) => vec![c.event],
        Reply::Event(e) => vec![*e],
        Reply::EventIds(v) => v.clone(),
        _ => Vec::new(),
    }
}
