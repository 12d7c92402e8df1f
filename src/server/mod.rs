//! `lotline serve`: the one writer of a plant's database, serving every station over a
//! Unix socket beside it (DESIGN.md §4.5, as built in docs/server.md).
//!
//! - One [`Core`] (store, clock, roles) is shared by every connection; each connection is a
//!   session whose caller comes from the socket's peer credentials, never from the client.
//! - Queries run on the connection's own thread against redb's MVCC snapshots, so readers
//!   never wait for writers.
//! - Commands go to one writer thread, which gathers those that arrive while a commit is in
//!   flight into the next transaction (group commit) and acknowledges each only after its
//!   commit returned.
//! - After each commit, subscribed clients are told what changed.
//! - SIGTERM or SIGINT: stop taking requests, finish the commit in flight, answer it, close
//!   the database cleanly, remove the socket.

mod backups;

pub use backups::BackupPolicy;

use crate::station::identity::Identity;
use crate::station::wire::{self, ClientMsg, FrameError, Hello, PROTOCOL, ServerMsg, Welcome};
use crate::station::{
    Caller, Command, Core, ErrorKind, Notice, Reply, Request, Roles, StationError, StationInfo,
};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
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
    /// Roles file (`--roles`); `None` takes the one the plant was last served with, else
    /// `system_roles` if it exists, else the plant's QA list.
    pub roles: Option<PathBuf>,
    /// Where the system's roles file is (`station::roles::SYSTEM_ROLES_FILE`; a test's own).
    pub system_roles: PathBuf,
    /// Mode of the socket file: who may connect (default 0660: the owner and the group).
    pub socket_mode: u32,
    /// Group that owns the socket (the plant's group), if not the server's own.
    pub group: Option<String>,
    /// Rolling daily backups, if asked for.
    pub backups: Option<BackupPolicy>,
    /// redb's page cache, in bytes.
    pub cache_bytes: usize,
}

/// Most write requests gathered into one transaction.
const MAX_GROUP: usize = 512;

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn install_signal_handlers() {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe. No
    // SA_RESTART, so a blocking poll returns EINTR and the loop sees the flag at once.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as *const () as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        sa.sa_flags = 0;
        libc::sigaction(libc::SIGTERM, &sa, std::ptr::null_mut());
        libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut());
        // A client that disconnects mid-reply must not kill the server.
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// One line to the log (stderr; journald under systemd), stamped in UTC.
pub fn log(msg: impl std::fmt::Display) {
    eprintln!(
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

/// A job for the writer thread.
struct WriteJob {
    caller: Caller,
    command: Command,
    at: DateTime<Utc>,
    reply: Box<dyn FnOnce(Result<Reply, StationError>) + Send>,
}

/// A connected client, as the server keeps it.
struct Client {
    info: StationInfo,
    out: Sender<ServerMsg>,
    subscribed: bool,
    stream: UnixStream,
}

struct Shared {
    core: Core,
    clients: Mutex<HashMap<u64, Client>>,
    writes: Mutex<Option<Sender<WriteJob>>>,
    connected: AtomicUsize,
    next_client: AtomicU64,
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

    fn notify(&self, n: Notice) {
        for c in lock(&self.clients).values().filter(|c| c.subscribed) {
            let _ = c.out.send(ServerMsg::Notice(n.clone()));
        }
    }
}

/// Which process holds the database, if a server answers on its socket.
pub fn served_by(socket: &Path) -> Option<u32> {
    crate::station::remote::Remote::connect(socket, "probe")
        .ok()
        .map(|r| r.server_pid())
}

/// Stop the server on `socket` if no station but the caller is connected to it (a server a
/// command started and left behind): SIGTERM, then wait for it to close the file. `Ok(true)`
/// when none runs any more; `Ok(false)` when stations are still connected.
pub fn stop_if_idle(socket: &Path) -> Result<bool, String> {
    use crate::station::StationExt;
    let Ok(remote) = crate::station::remote::Remote::connect(socket, "lotline-stop") else {
        return Ok(true);
    };
    let others = remote
        .stations()
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|s| !s.me)
        .count();
    if others > 0 {
        return Ok(false);
    }
    let pid = remote.server_pid();
    drop(remote);
    // SAFETY: plain kill(2); the server reported this pid itself.
    if unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) } != 0 {
        return Err(format!(
            "cannot stop lotline serve (pid {pid}): {}",
            std::io::Error::last_os_error()
        ));
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while socket.exists() {
        if Instant::now() > deadline {
            return Err(format!(
                "lotline serve (pid {pid}) did not stop within 15 s"
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(true)
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
                crate::domain::text::escape(&path.display().to_string()),
                crate::domain::text::escape(&why)
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
    // tables (DESIGN.md §4.5). Built once here; its time and size go in the log.
    // A graph that cannot be built (a damaged link table) leaves traces to redb's walk,
    // which reports the damage where it is met.
    let started = Instant::now();
    // redb may panic on a damaged page (a file served read-only): no graph, then.
    let graph = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        crate::store::LinkGraph::build(&store)
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
            Core::new(store, roles).with_graph(g)
        }
        Err(e) => {
            log(format_args!("link graph not built ({e}); traces read redb"));
            Core::new(store, roles)
        }
    };
    let shared = Arc::new(Shared {
        core,
        clients: Mutex::new(HashMap::new()),
        writes: Mutex::new(None),
        connected: AtomicUsize::new(0),
        next_client: AtomicU64::new(1),
    });
    let (wtx, wrx) = mpsc::channel::<WriteJob>();
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
    // Close every connection so their threads let go of the core.
    for c in lock(&shared.clients).values() {
        let _ = c.stream.shutdown(std::net::Shutdown::Both);
    }
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
        None,
        recorded.as_deref(),
        &opts.system_roles,
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

fn bind(opts: &ServeOptions) -> Result<UnixListener, ServeError> {
    let setup = |m: String| ServeError::Setup(m);
    if opts.socket.exists() {
        // We hold the writer lock, so whatever answers there is not a server of this
        // database: leave it alone. Nothing answering means a stale socket.
        if UnixStream::connect(&opts.socket).is_ok() {
            return Err(setup(format!(
                "something already listens on {}; choose another --socket",
                opts.socket.display()
            )));
        }
        std::fs::remove_file(&opts.socket).map_err(|e| {
            setup(format!(
                "cannot remove the stale socket {}: {e}",
                opts.socket.display()
            ))
        })?;
    }
    let listener = UnixListener::bind(&opts.socket)
        .map_err(|e| setup(format!("cannot listen on {}: {e}", opts.socket.display())))?;
    if let Some(group) = &opts.group {
        let gid = group_id(group).ok_or_else(|| setup(format!("no group named {group}")))?;
        let path = std::ffi::CString::new(opts.socket.as_os_str().as_encoded_bytes())
            .map_err(|_| setup("the socket path contains a NUL byte".into()))?;
        // SAFETY: `path` is a valid C string; -1 leaves the owner as it is.
        if unsafe { libc::chown(path.as_ptr(), u32::MAX, gid) } != 0 {
            return Err(setup(format!(
                "cannot give {} to group {group}: {}",
                opts.socket.display(),
                std::io::Error::last_os_error()
            )));
        }
    }
    std::fs::set_permissions(
        &opts.socket,
        std::fs::Permissions::from_mode(opts.socket_mode & 0o777),
    )
    .map_err(|e| {
        setup(format!(
            "cannot set the mode of {}: {e}",
            opts.socket.display()
        ))
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| setup(e.to_string()))?;
    Ok(listener)
}

fn group_id(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 64 * 1024];
    let mut found: *mut libc::group = std::ptr::null_mut();
    // SAFETY: getgrnam_r writes only into `grp` and `buf`, which outlive the call.
    let rc = unsafe {
        libc::getgrnam_r(
            c.as_ptr(),
            &mut grp,
            buf.as_mut_ptr(),
            buf.len(),
            &mut found,
        )
    };
    (rc == 0 && !found.is_null()).then_some(grp.gr_gid)
}

/// Accept connections until told to stop; returns why it stopped.
fn accept_loop(
    shared: &Arc<Shared>,
    listener: &UnixListener,
    opts: &ServeOptions,
    socket_id: Option<u64>,
) -> String {
    use std::os::fd::AsRawFd;
    let mut idle_since = Instant::now();
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
        let mut pfd = libc::pollfd {
            fd: listener.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, 500) };
        loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    let _ = stream.set_nonblocking(false);
                    let shared = shared.clone();
                    shared.connected.fetch_add(1, Ordering::SeqCst);
                    let spawned = std::thread::Builder::new()
                        .name("lotline-session".into())
                        .spawn(move || {
                            session(&shared, stream);
                            shared.connected.fetch_sub(1, Ordering::SeqCst);
                        });
                    if let Err(e) = spawned {
                        log(format_args!("cannot start a session: {e}"));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    log(format_args!("accept: {e}"));
                    break;
                }
            }
        }
    }
}

/// One client, from handshake to hang-up.
fn session(shared: &Arc<Shared>, mut stream: UnixStream) {
    let id = shared.next_client.fetch_add(1, Ordering::SeqCst);
    let who = match Identity::of_peer(&stream) {
        Ok(i) => i,
        Err(e) => {
            log(format_args!(
                "connection {id}: no peer credentials ({e}); closed"
            ));
            return;
        }
    };
    // A client that connects and says nothing must not hold a session for ever.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let refuse = |stream: &mut UnixStream, message: String| {
        log(format_args!(
            "connection {id} from {}: refused: {message}",
            who.user
        ));
        let _ = wire::write_frame(
            stream,
            &Welcome::Refused {
                protocol: PROTOCOL,
                message,
            },
        );
    };
    let hello: Hello = match wire::read_frame(&mut stream) {
        Ok(Some(h)) => h,
        Ok(None) => return,
        Err(e) => {
            refuse(
                &mut stream,
                format!("the first message was not a lotline handshake ({e})"),
            );
            return;
        }
    };
    if &hello.magic != b"lotline" {
        refuse(
            &mut stream,
            "the first message was not a lotline handshake".into(),
        );
        return;
    }
    if hello.protocol != PROTOCOL {
        refuse(
            &mut stream,
            format!(
                "this server speaks protocol {PROTOCOL} and the client {}: run the same lotline version on both sides",
                hello.protocol
            ),
        );
        return;
    }
    let station = match crate::domain::text::station_name(&hello.station, "station") {
        Ok(s) => s,
        Err(e) => {
            refuse(&mut stream, e.to_string());
            return;
        }
    };
    let caller = Caller {
        user: who.user.clone(),
        groups: who.groups.clone(),
        station,
    };
    let actor = match shared.core.actor(&caller) {
        Ok(a) => a,
        Err(e) => {
            refuse(&mut stream, e.message);
            return;
        }
    };
    if wire::write_frame(
        &mut stream,
        &Welcome::Accepted {
            actor: actor.clone(),
            server_pid: std::process::id(),
        },
    )
    .is_err()
    {
        return;
    }
    let _ = stream.set_read_timeout(None);
    log(format_args!(
        "connection {id}: {} ({}) at {}",
        actor.operator, actor.role, actor.station
    ));
    // One writer per client: replies and notices never interleave, and a slow client
    // never holds up the commit path.
    let (out, rx) = mpsc::channel::<ServerMsg>();
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let Ok(registered) = stream.try_clone() else {
        return;
    };
    let outbound = std::thread::Builder::new()
        .name("lotline-session-out".into())
        .spawn(move || outbound(write_half, rx));
    if outbound.is_err() {
        return;
    }
    lock(&shared.clients).insert(
        id,
        Client {
            info: StationInfo {
                operator: actor.operator.clone(),
                station: actor.station.clone(),
                role: actor.role,
                since: Utc::now(),
                me: false,
            },
            out: out.clone(),
            subscribed: false,
            stream: registered,
        },
    );
    let ended = loop {
        match wire::read_frame::<ClientMsg>(&mut stream) {
            Ok(Some(ClientMsg::Subscribe)) => {
                if let Some(c) = lock(&shared.clients).get_mut(&id) {
                    c.subscribed = true;
                }
            }
            Ok(Some(ClientMsg::Call { id: call, request })) => {
                handle(shared, id, &caller, call, request, &out);
            }
            Ok(None) => break "disconnected".to_string(),
            Err(FrameError::Io(e)) => break format!("disconnected ({e})"),
            Err(e) => {
                let message = format!("{e}; closing the connection");
                let _ = out.send(ServerMsg::Garbled {
                    message: message.clone(),
                });
                break format!("garbled frame: {message}");
            }
        }
    };
    lock(&shared.clients).remove(&id);
    drop(out);
    log(format_args!("connection {id}: {} {ended}", caller.user));
}

fn outbound(mut stream: UnixStream, rx: Receiver<ServerMsg>) {
    while let Ok(msg) = rx.recv() {
        let sent = match wire::write_frame(&mut stream, &msg) {
            // An answer too big for one frame: the client hears why, and the connection
            // stays (nothing of the frame was written).
            Err(FrameError::TooLarge(len)) => match &msg {
                ServerMsg::Reply { id, .. } => wire::write_frame(
                    &mut stream,
                    &ServerMsg::Reply {
                        id: *id,
                        result: Err(too_large(len)),
                    },
                ),
                _ => Err(FrameError::TooLarge(len)),
            },
            other => other,
        };
        if sent.is_err() {
            break;
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// The answer to a request whose reply would not fit in one frame.
fn too_large(len: u32) -> StationError {
    StationError {
        kind: ErrorKind::TooLarge,
        field: None,
        message: format!(
            "the answer is {} MB or more, more than one reply carries ({} MB); ask for less at a time (fewer dates, one item)",
            len >> 20,
            wire::MAX_FRAME >> 20
        ),
    }
}

fn handle(
    shared: &Arc<Shared>,
    client: u64,
    caller: &Caller,
    call: u64,
    request: Request,
    out: &Sender<ServerMsg>,
) {
    match request {
        Request::Query(q) => {
            let result = shared
                .core
                .call(caller, Request::Query(q), || shared.stations(client));
            if let Err(e) = &result {
                log_refusal(caller, e);
            }
            let _ = out.send(ServerMsg::Reply { id: call, result });
        }
        Request::Command(command) => {
            let Some(writes) = lock(&shared.writes).clone() else {
                let e = stopping();
                log_refusal(caller, &e);
                let _ = out.send(ServerMsg::Reply {
                    id: call,
                    result: Err(e),
                });
                return;
            };
            let out = out.clone();
            let who = caller.clone();
            let job = WriteJob {
                caller: caller.clone(),
                command,
                at: shared.core.now(),
                reply: Box::new(move |result| {
                    if let Err(e) = &result {
                        log_refusal(&who, e);
                    }
                    let _ = out.send(ServerMsg::Reply { id: call, result });
                }),
            };
            if let Err(mpsc::SendError(job)) = writes.send(job) {
                (job.reply)(Err(stopping()));
            }
        }
    }
}

fn stopping() -> StationError {
    StationError {
        kind: ErrorKind::Unavailable,
        field: None,
        message: "the lotline server is stopping; nothing was saved — try again in a moment".into(),
    }
}

fn log_refusal(caller: &Caller, e: &StationError) {
    let what = match e.kind {
        ErrorKind::Invalid => "refused",
        ErrorKind::Forbidden => "not allowed",
        _ => "error",
    };
    log(format_args!(
        "{what}: {}@{}: {}",
        caller.user,
        caller.station,
        crate::domain::text::escape(&e.to_string())
    ));
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
            let results = crate::station::core::guard(shared.core.store().path(), || {
                Ok(shared.core.commit_group(&batch))
            })
            .unwrap_or_else(|e| vec![Err(e); batch.len()]);
            for (job, result) in group.into_iter().zip(results) {
                if let Ok(r) = &result {
                    events.extend(reply_events(r));
                    stations.push(job.caller.station.clone());
                }
                (job.reply)(result);
            }
        }
        for job in alone {
            let result = shared
                .core
                .call(&job.caller, Request::Command(job.command), Vec::new);
            if let Ok(r) = &result {
                events.extend(reply_events(r));
                stations.push(job.caller.station.clone());
            }
            (job.reply)(result);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply too big for one frame reaches the client as an error saying so, and the
    /// connection goes on: the next reply arrives as usual.
    #[test]
    fn an_answer_too_big_for_a_frame_is_refused_in_its_place() {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let (tx, rx) = mpsc::channel();
        let writer = std::thread::spawn(move || outbound(ours, rx));
        // About 70 MB once encoded: ids of ten bytes each.
        let huge: Vec<u64> = (0..7_000_000u64).map(|i| u64::MAX - i).collect();
        let reader = std::thread::spawn(move || {
            let first = wire::read_frame::<ServerMsg>(&mut theirs).unwrap();
            let second = wire::read_frame::<ServerMsg>(&mut theirs).unwrap();
            (first, second)
        });
        tx.send(ServerMsg::Reply {
            id: 7,
            result: Ok(Reply::EventIds(huge)),
        })
        .unwrap();
        tx.send(ServerMsg::Reply {
            id: 8,
            result: Ok(Reply::Done),
        })
        .unwrap();
        drop(tx);
        let (first, second) = reader.join().unwrap();
        writer.join().unwrap();
        match first {
            Some(ServerMsg::Reply {
                id: 7,
                result: Err(e),
            }) => {
                assert_eq!(e.kind, ErrorKind::TooLarge);
                assert!(e.message.contains("ask for less at a time"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            second,
            Some(ServerMsg::Reply {
                id: 8,
                result: Ok(Reply::Done)
            })
        );
    }
}
