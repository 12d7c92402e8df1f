//! The station as a client of `lotline serve`: requests go over the Unix socket, replies
//! come back by call id, and notices the server pushes reach the app as events. When the
//! server goes away, calls fail with [`ErrorKind::Unavailable`] and a background thread
//! reconnects (starting a server again when this client may), so the app keeps its typed
//! forms and carries on when the server is back.

use super::wire::{self, ClientMsg, FrameError, Hello, ServerMsg, Welcome};
use super::*;
use std::collections::HashMap;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// The socket of the server for `db`: `PLANT.redb.sock` beside it, unless that path is too
/// long for a Unix socket (108 bytes on Linux); then one under /tmp named by a hash of the
/// database's full path, which every client and server of that file computes alike.
pub fn socket_path(db: &Path) -> PathBuf {
    let mut beside = db.as_os_str().to_owned();
    beside.push(".sock");
    let beside = PathBuf::from(beside);
    if beside.as_os_str().len() < 100 {
        return beside;
    }
    let full = std::fs::canonicalize(db).unwrap_or_else(|_| db.to_path_buf());
    // FNV-1a: stable across versions and platforms, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in full.as_os_str().as_encoded_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    PathBuf::from(format!("/tmp/lotline-{h:016x}.sock"))
}

/// How to start a server when none answers.
#[derive(Debug, Clone)]
pub struct Autostart {
    /// The lotline binary to run (`serve`).
    pub exe: PathBuf,
    pub db: PathBuf,
    /// Let the server create the database if it does not exist.
    pub create: bool,
    /// Seconds an autostarted server stays after its last client left.
    pub idle_exit: u64,
}

impl Autostart {
    /// Where an autostarted server writes its log: beside the database.
    pub fn log_path(&self) -> PathBuf {
        let mut p = self.db.as_os_str().to_owned();
        p.push(".serve.log");
        PathBuf::from(p)
    }

    /// Start `lotline serve` in its own session, detached from this terminal, so it
    /// outlives this process and is not stopped by this terminal's Ctrl-C or hang-up.
    fn spawn(&self, socket: &Path) -> std::io::Result<std::process::Child> {
        use std::os::unix::process::CommandExt;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map(std::process::Stdio::from)
            .unwrap_or_else(|_| std::process::Stdio::null());
        let mut cmd = std::process::Command::new(&self.exe);
        cmd.arg("serve")
            .arg("--db")
            .arg(&self.db)
            .arg("--socket")
            .arg(socket)
            .arg("--idle-exit")
            .arg(self.idle_exit.to_string());
        if self.create {
            cmd.arg("--create");
        }
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(log);
        // SAFETY: setsid is async-signal-safe and touches nothing of the parent's.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        cmd.spawn()
    }
}

/// Why no server could be reached.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Nothing listens on the socket.
    #[error("no lotline server answers on {0}")]
    NoServer(PathBuf),
    /// A server answered and refused us (no role, bad station).
    #[error("{0}")]
    Refused(String),
    /// The server speaks another protocol version: nothing this client sends would be
    /// understood, and trying again cannot help until one side is upgraded or restarted.
    #[error("{}", mismatch_message(*server, *client))]
    Mismatch { server: u32, client: u32 },
    #[error("the lotline server on {path} could not be used: {why}")]
    Broken { path: PathBuf, why: String },
    /// A server was started and did not come up; its log's last line says why.
    #[error("{0}")]
    StartFailed(String),
}

impl From<ConnectError> for StationError {
    fn from(e: ConnectError) -> Self {
        let kind = match e {
            ConnectError::Refused(_) => ErrorKind::Forbidden,
            ConnectError::Mismatch { .. } => ErrorKind::Version,
            ConnectError::StartFailed(_) => ErrorKind::Database,
            _ => ErrorKind::Unavailable,
        };
        StationError {
            kind,
            field: None,
            message: e.to_string(),
        }
    }
}

/// What to say when client and server speak different protocols: both versions, which
/// side is older, and what to run. The server's own refusal text is not used: a server of
/// an older version words it for its time, and only this side knows its own version.
pub fn mismatch_message(server: u32, client: u32) -> String {
    let me = env!("CARGO_PKG_VERSION");
    if server < client {
        format!(
            "the plant's server speaks protocol {server} and this lotline ({me}) protocol {client}: the server still runs an older lotline. After installing a new lotline, restart the server: `systemctl restart lotline` where it runs as a service (a server lotline started by itself leaves a minute after its last station); or install the same lotline version on both sides"
        )
    } else {
        format!(
            "the plant's server speaks protocol {server} and this lotline ({me}) protocol {client}: this program is older than the server. Quit and start lotline again to run the version now installed; if this comes back, install the same lotline version here as on the server"
        )
    }
}

type Pending = HashMap<u64, Sender<Result<Reply, StationError>>>;

struct Inner {
    socket: PathBuf,
    station: String,
    autostart: Option<Autostart>,
    /// The write half; `None` while reconnecting.
    writer: Mutex<Option<UnixStream>>,
    pending: Mutex<Pending>,
    next_id: AtomicU64,
    notices: Mutex<Option<Sender<Notice>>>,
    notice_rx: Mutex<Option<Receiver<Notice>>>,
    subscribed: AtomicBool,
    server_pid: AtomicU32,
    actor: Mutex<Actor>,
    /// Set when a reconnect met a server of another protocol: calls fail with this, and
    /// the reader has stopped trying.
    refused: Mutex<Option<StationError>>,
}

/// A station reached through `lotline serve`.
pub struct Remote {
    inner: Arc<Inner>,
}

fn unavailable(message: impl Into<String>) -> StationError {
    StationError {
        kind: ErrorKind::Unavailable,
        field: None,
        message: message.into(),
    }
}

/// Connect and shake hands: the stream, and who the server says we are.
fn handshake(socket: &Path, station: &str) -> Result<(UnixStream, Actor, u32), ConnectError> {
    let mut stream = UnixStream::connect(socket).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
            ConnectError::NoServer(socket.to_path_buf())
        }
        std::io::ErrorKind::PermissionDenied => ConnectError::Refused(format!(
            "permission denied on {}: this user is not in the plant's group; ask the plant's IT to add them",
            socket.display()
        )),
        _ => ConnectError::Broken {
            path: socket.to_path_buf(),
            why: e.to_string(),
        },
    })?;
    let broken = |why: String| ConnectError::Broken {
        path: socket.to_path_buf(),
        why,
    };
    // A server that accepts but never answers must not hang the client.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    wire::write_frame(&mut stream, &Hello::new(station)).map_err(|e| broken(e.to_string()))?;
    let welcome: Welcome = match wire::read_frame(&mut stream) {
        Ok(Some(w)) => w,
        Ok(None) => return Err(broken("it closed the connection".into())),
        Err(e) => return Err(broken(e.to_string())),
    };
    let _ = stream.set_read_timeout(None);
    match welcome {
        Welcome::Accepted { actor, server_pid } => Ok((stream, actor, server_pid)),
        Welcome::Refused { protocol, .. } if protocol != wire::PROTOCOL => {
            Err(ConnectError::Mismatch {
                server: protocol,
                client: wire::PROTOCOL,
            })
        }
        Welcome::Refused { message, .. } => Err(ConnectError::Refused(message)),
    }
}

impl Remote {
    /// Connect to the server on `socket`, naming this station.
    pub fn connect(socket: &Path, station: &str) -> Result<Remote, ConnectError> {
        Remote::open(socket, station, None)
    }

    /// Connect to the server for `autostart.db`, starting one when none answers, as tmux
    /// does: the first terminal starts it, the others find it.
    pub fn connect_or_start(
        socket: &Path,
        station: &str,
        autostart: Autostart,
    ) -> Result<Remote, ConnectError> {
        Remote::open(socket, station, Some(autostart))
    }

    fn open(
        socket: &Path,
        station: &str,
        autostart: Option<Autostart>,
    ) -> Result<Remote, ConnectError> {
        let (stream, actor, pid) = connect_maybe_start(socket, station, autostart.as_ref())?;
        let (tx, rx) = mpsc::channel();
        let inner = Arc::new(Inner {
            socket: socket.to_path_buf(),
            station: station.to_string(),
            autostart,
            writer: Mutex::new(Some(stream.try_clone().map_err(|e| {
                ConnectError::Broken {
                    path: socket.to_path_buf(),
                    why: e.to_string(),
                }
            })?)),
            pending: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            notices: Mutex::new(Some(tx)),
            notice_rx: Mutex::new(Some(rx)),
            subscribed: AtomicBool::new(false),
            server_pid: AtomicU32::new(pid),
            actor: Mutex::new(actor),
            refused: Mutex::new(None),
        });
        let weak = Arc::downgrade(&inner);
        std::thread::Builder::new()
            .name("lotline-client-reader".into())
            .spawn(move || reader(weak, stream))
            .map_err(|e| ConnectError::Broken {
                path: socket.to_path_buf(),
                why: e.to_string(),
            })?;
        Ok(Remote { inner })
    }

    /// Who the server said we are at connect time.
    pub fn actor(&self) -> Actor {
        lock(&self.inner.actor).clone()
    }

    pub fn server_pid(&self) -> u32 {
        self.inner.server_pid.load(Ordering::Relaxed)
    }

    fn send(&self, msg: &ClientMsg) -> Result<(), StationError> {
        if let Some(e) = lock(&self.inner.refused).as_ref() {
            return Err(e.clone());
        }
        let mut w = lock(&self.inner.writer);
        let Some(stream) = w.as_mut() else {
            return Err(unavailable(
                "the lotline server stopped; reconnecting — try again in a moment",
            ));
        };
        if let Err(e) = wire::write_frame(stream, msg) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
            *w = None;
            return Err(unavailable(format!(
                "the lotline server stopped ({e}); reconnecting — try again in a moment"
            )));
        }
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn connect_maybe_start(
    socket: &Path,
    station: &str,
    autostart: Option<&Autostart>,
) -> Result<(UnixStream, Actor, u32), ConnectError> {
    match handshake(socket, station) {
        Err(ConnectError::NoServer(_)) if autostart.is_some() => {}
        other => return other,
    }
    let a = autostart.expect("checked above");
    let mut child = a.spawn(socket).map_err(|e| {
        ConnectError::StartFailed(format!("could not start `{} serve`: {e}", a.exe.display()))
    })?;
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut wait = Duration::from_millis(2);
    loop {
        match handshake(socket, station) {
            Err(ConnectError::NoServer(_)) => {}
            other => {
                // Reap it later: the server runs on; a zombie is collected by init once
                // this process exits.
                return other;
            }
        }
        // The server we started gave up: another may have won the race, so try once
        // more, then report the server's own last words.
        if let Ok(Some(status)) = child.try_wait() {
            std::thread::sleep(Duration::from_millis(50));
            if let Ok(ok) = handshake(socket, station) {
                return Ok(ok);
            }
            let last = std::fs::read_to_string(a.log_path())
                .ok()
                .and_then(|l| {
                    l.lines()
                        .rev()
                        .find(|l| !l.trim().is_empty())
                        .map(str::to_string)
                })
                .map(|l| {
                    l.split_once("lotline serve: ")
                        .map(|(_, m)| m.to_string())
                        .unwrap_or(l)
                })
                .unwrap_or_else(|| format!("it exited with {status}"));
            return Err(ConnectError::StartFailed(last));
        }
        if Instant::now() > deadline {
            return Err(ConnectError::StartFailed(format!(
                "the lotline server did not come up on {} within 15 s; see {}",
                socket.display(),
                a.log_path().display()
            )));
        }
        std::thread::sleep(wait);
        wait = (wait * 2).min(Duration::from_millis(100));
    }
}

/// Read replies and notices until the connection ends; then fail what is waiting, tell
/// the app, and reconnect for as long as the `Remote` lives.
fn reader(inner: Weak<Inner>, mut stream: UnixStream) {
    loop {
        let ended = loop {
            match wire::read_frame::<ServerMsg>(&mut stream) {
                Ok(Some(ServerMsg::Reply { id, result })) => {
                    let Some(inner) = inner.upgrade() else { return };
                    if let Some(tx) = lock(&inner.pending).remove(&id) {
                        let _ = tx.send(result);
                    }
                }
                Ok(Some(ServerMsg::Notice(n))) => {
                    let Some(inner) = inner.upgrade() else { return };
                    if let Some(tx) = lock(&inner.notices).as_ref() {
                        let _ = tx.send(n);
                    }
                }
                Ok(Some(ServerMsg::Garbled { message })) => break message,
                Ok(None) => break "the connection closed".to_string(),
                Err(FrameError::Io(e)) => break e.to_string(),
                Err(e) => break e.to_string(),
            }
        };
        let Some(strong) = inner.upgrade() else {
            return;
        };
        *lock(&strong.writer) = None;
        for (_, tx) in lock(&strong.pending).drain() {
            let _ = tx.send(Err(unavailable(format!(
                "the lotline server stopped before answering ({ended}); what you sent may or may not have been saved — look before you repeat it"
            ))));
        }
        if let Some(tx) = lock(&strong.notices).as_ref() {
            let _ = tx.send(Notice::Lost);
        }
        drop(strong);
        // Reconnect, gently, while someone holds the Remote.
        let mut wait = Duration::from_millis(200);
        let mut told: Option<String> = None;
        stream = loop {
            std::thread::sleep(wait);
            let Some(strong) = inner.upgrade() else {
                return;
            };
            let attempt =
                connect_maybe_start(&strong.socket, &strong.station, strong.autostart.as_ref());
            let attempt = match attempt {
                // Another protocol: every further attempt would meet the same answer, so
                // stop, and say what to do instead of "reconnecting" for ever.
                Err(e @ ConnectError::Mismatch { .. }) => {
                    let e = StationError::from(e);
                    *lock(&strong.refused) = Some(e.clone());
                    if let Some(tx) = lock(&strong.notices).as_ref() {
                        let _ = tx.send(Notice::Refused {
                            message: e.message,
                            retrying: false,
                        });
                    }
                    return;
                }
                // Refused for who we are (a role taken away): the admin may give it back,
                // so keep trying, but say why once instead of only "reconnecting".
                Err(ConnectError::Refused(message)) => {
                    if told.as_ref() != Some(&message) {
                        if let Some(tx) = lock(&strong.notices).as_ref() {
                            let _ = tx.send(Notice::Refused {
                                message: message.clone(),
                                retrying: true,
                            });
                        }
                        told = Some(message);
                    }
                    wait = (wait * 2).min(Duration::from_secs(2));
                    continue;
                }
                other => other,
            };
            if let Ok((s, actor, pid)) = attempt
                && let Ok(w) = s.try_clone()
            {
                strong.server_pid.store(pid, Ordering::Relaxed);
                *lock(&strong.actor) = actor;
                let mut w = w;
                if strong.subscribed.load(Ordering::Relaxed) {
                    let _ = wire::write_frame(&mut w, &ClientMsg::Subscribe);
                }
                *lock(&strong.writer) = Some(w);
                if let Some(tx) = lock(&strong.notices).as_ref() {
                    let _ = tx.send(Notice::Back);
                }
                break s;
            }
            wait = (wait * 2).min(Duration::from_secs(2));
        };
    }
}

impl Station for Remote {
    fn call(&self, request: Request) -> Result<Reply, StationError> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel();
        lock(&self.inner.pending).insert(id, tx);
        if let Err(e) = self.send(&ClientMsg::Call { id, request }) {
            lock(&self.inner.pending).remove(&id);
            return Err(e);
        }
        rx.recv().unwrap_or_else(|_| {
            Err(unavailable(
                "the lotline server stopped before answering; reconnecting",
            ))
        })
    }

    fn link(&self) -> Link {
        if lock(&self.inner.writer).is_some() {
            Link::Server {
                pid: self.server_pid(),
            }
        } else if lock(&self.inner.refused).is_some() {
            Link::Refused
        } else {
            Link::Lost
        }
    }

    fn notices(&self) -> Option<Receiver<Notice>> {
        let rx = lock(&self.inner.notice_rx).take()?;
        self.inner.subscribed.store(true, Ordering::Relaxed);
        // A lost connection re-subscribes when it is back (see `reader`).
        let _ = self.send(&ClientMsg::Subscribe);
        Some(rx)
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        if let Some(s) = lock(&self.inner.writer).take() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}
