//! The station as a client of `lotline serve`: requests go over the Unix socket, replies
//! come back by call id, and notices the server pushes reach the app as events. When the
//! server goes away, waiting calls fail with [`ErrorKind::Unanswered`] (they may or may not
//! have been done) and later ones with [`ErrorKind::Unavailable`], and a background thread
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
/// long for a Unix socket (108 bytes on Linux); then `/tmp/lotline-UID/HASH.sock`, in the
/// private folder of the database's owner (see [`private_socket_dir`]), named by a hash of
/// the database's full path. Every client and server of the file computes the same one: the
/// owner comes from the file, not from whoever asks (this user when the file cannot be seen,
/// as when it does not exist yet).
pub fn socket_path(db: &Path) -> PathBuf {
    use std::os::unix::fs::MetadataExt;
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
    let owner = std::fs::metadata(db)
        .map(|m| m.uid())
        .unwrap_or_else(|_| effective_uid());
    private_socket_dir(owner).join(format!("{h:016x}.sock"))
}

/// The folder for the sockets of `uid`'s plants whose own socket path would be too long:
/// `/tmp/lotline-UID`, as tmux keeps `/tmp/tmux-UID`. The server makes it, owned by `uid`,
/// with no write permission for anyone else, and refuses to use one that is not so, so no
/// other user can put a socket or anything else in it. Always `/tmp`, never `$TMPDIR`: every
/// user's client must find the same path.
pub fn private_socket_dir(uid: u32) -> PathBuf {
    PathBuf::from(format!("/tmp/lotline-{uid}"))
}

/// Whose private socket folder `dir` is, if it is one (see [`private_socket_dir`]).
pub fn private_socket_dir_uid(dir: &Path) -> Option<u32> {
    let uid: u32 = dir.to_str()?.strip_prefix("/tmp/lotline-")?.parse().ok()?;
    (private_socket_dir(uid) == dir).then_some(uid)
}

/// The effective uid of this process: the owner of what it creates, and the uid a server
/// shows in its peer credentials.
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() }
}

/// A path for a message, escaped: a file name can hold anything.
pub fn path_words(p: &Path) -> String {
    lotline_domain::text::escape(&p.display().to_string()).into_owned()
}

/// `uid 1000 (alice)`, for messages.
pub fn uid_words(uid: u32) -> String {
    format!(
        "uid {uid} ({})",
        lotline_domain::text::escape(&super::identity::user_name(uid))
    )
}

/// What kind of thing a file is, for messages.
pub fn kind_words(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_symlink() {
        "symbolic link"
    } else if t.is_dir() {
        "folder"
    } else if t.is_file() {
        "regular file"
    } else if t.is_socket() {
        "socket"
    } else if t.is_fifo() {
        "FIFO"
    } else {
        "device"
    }
}

/// Who a client accepts as the server of a plant. The socket's peer credentials
/// (`SO_PEERCRED`, which the kernel records and the peer cannot forge) are checked against
/// it before the client sends anything, so a program another user runs on the socket's
/// path hears nothing, not even the handshake. Accepted: the database's owner (who can
/// write the file anyway), root (who can do anything anyway), and this user (whose own
/// programs deceive nobody but this user).
#[derive(Debug, Clone)]
pub struct Trust {
    /// The uid the plant's server should run as, when it can be told.
    owner: Option<u32>,
    /// Who that is, for messages: "the owner of /srv/plant.redb".
    whose: String,
}

impl Trust {
    /// The server of `db` on `socket`: its owner's. When this user cannot see the file (a
    /// folder only the server's user may enter, such as /var/lib/lotline), the owner of the
    /// socket's folder when only that owner can write in it (such as /run/lotline).
    pub fn for_db(db: &Path, socket: &Path) -> Trust {
        use std::os::unix::fs::MetadataExt;
        let shown = path_words(db);
        match std::fs::metadata(db) {
            Ok(m) => Trust {
                owner: Some(m.uid()),
                whose: format!("the owner of {shown}"),
            },
            // Not there yet: this user's command will make it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Trust {
                owner: Some(effective_uid()),
                whose: format!("this user, who would make {shown}"),
            },
            Err(e) => match Trust::private_folder(socket) {
                Some((uid, dir)) => Trust {
                    owner: Some(uid),
                    whose: format!(
                        "the owner of {dir}, the socket's folder ({shown} cannot be seen: {e})"
                    ),
                },
                None => Trust {
                    owner: None,
                    whose: format!(
                        "this user or root: {shown} cannot be seen ({e}), so its owner is unknown, and others can write in the socket's folder"
                    ),
                },
            },
        }
    }

    /// A server on `socket` when no database is named: the owner of the socket's folder
    /// when only that owner can write in it, else this user or root.
    pub fn for_socket(socket: &Path) -> Trust {
        match Trust::private_folder(socket) {
            Some((uid, dir)) => Trust {
                owner: Some(uid),
                whose: format!("the owner of {dir}, the socket's folder"),
            },
            None => Trust {
                owner: None,
                whose: "this user or root".into(),
            },
        }
    }

    /// The owner of the socket's folder, when nobody else can write in it (so only that
    /// owner, or root, can have put the socket there).
    fn private_folder(socket: &Path) -> Option<(u32, String)> {
        use std::os::unix::fs::MetadataExt;
        let dir = socket.parent().filter(|d| !d.as_os_str().is_empty())?;
        let m = std::fs::symlink_metadata(dir).ok()?;
        (m.is_dir() && m.mode() & 0o022 == 0).then(|| (m.uid(), path_words(dir)))
    }

    /// Whether a server whose process runs as `uid` may be spoken to.
    pub fn accepts(&self, uid: u32) -> bool {
        uid == 0 || uid == effective_uid() || Some(uid) == self.owner
    }

    fn check(&self, socket: &Path, peer: super::identity::PeerCred) -> Result<(), ConnectError> {
        if self.accepts(peer.uid) {
            return Ok(());
        }
        let expected = match self.owner {
            Some(uid) => format!("{} ({})", self.whose, uid_words(uid)),
            None => self.whose.clone(),
        };
        let who = uid_words(peer.uid);
        Err(ConnectError::Untrusted(format!(
            "the program listening on {} runs as {who}, not as {expected}: lotline sent it nothing. A plant's server runs as the database's owner: if {who} started it by mistake, stop it; otherwise someone may be posing as the plant's server — tell whoever looks after this computer",
            path_words(socket),
        )))
    }
}

/// Why nothing can listen on `socket`, when something that is not a socket stands on its
/// path or its folder is not what it must be: what is there, whose it is, what to do. `None`
/// when the way is clear (nothing there, or a socket nobody listens on, which a server
/// replaces).
pub fn blocked(socket: &Path) -> Option<String> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let shown = path_words;
    let dir = socket.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        match std::fs::symlink_metadata(dir) {
            Ok(m) if !m.is_dir() => {
                return Some(format!(
                    "{} is a {} owned by {}, not a folder, so the plant's server cannot listen on {}: remove it if you know what it is (ask whoever looks after this computer if it is not yours), or give the plant's server another --socket",
                    shown(dir),
                    kind_words(m.file_type()),
                    uid_words(m.uid()),
                    shown(socket)
                ));
            }
            Ok(m) => {
                if let Some(uid) = private_socket_dir_uid(dir)
                    && (m.uid() != uid || m.mode() & 0o022 != 0)
                {
                    return Some(format!(
                        "{} should be a private folder of {} that nobody else can write in, but it is owned by {} with mode {:o}: someone else may have made it to pose as the plant's server. Ask whoever looks after this computer to remove it, or give the plant's server another --socket",
                        shown(dir),
                        uid_words(uid),
                        uid_words(m.uid()),
                        m.mode() & 0o7777
                    ));
                }
            }
            Err(_) => {}
        }
    }
    match std::fs::symlink_metadata(socket) {
        Ok(m) if !m.file_type().is_socket() => Some(format!(
            "{} is a {} owned by {}, not a lotline server's socket, so no server can listen there: remove it if you know what it is (ask whoever looks after this computer if it is not yours), or give the plant's server another --socket",
            shown(socket),
            kind_words(m.file_type()),
            uid_words(m.uid())
        )),
        _ => None,
    }
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

    /// Open the log for appending, never through a link: `O_NOFOLLOW` refuses a symbolic
    /// link, and a file that is not a regular file of this user with one name (a hard link
    /// to someone's `~/.bashrc`, a FIFO, a device) is refused too, so nobody can have the
    /// server's lines, which carry text a client chose, appended to a file of their choice.
    /// Opened for reading as well, so the client reads the server's last words back through
    /// this same open file, not by its name again.
    fn open_log(&self) -> Result<std::fs::File, String> {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        let path = self.log_path();
        let shown = path_words(&path);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            // O_NONBLOCK: opening a FIFO must not wait for a reader.
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(&path)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) => format!("{shown} is a symbolic link"),
                _ => format!("{shown} cannot be opened: {e}"),
            })?;
        let m = file
            .metadata()
            .map_err(|e| format!("{shown} cannot be read: {e}"))?;
        if !m.is_file() {
            return Err(format!("{shown} is a {}", kind_words(m.file_type())));
        }
        if m.uid() != effective_uid() {
            return Err(format!("{shown} belongs to {}", uid_words(m.uid())));
        }
        if m.nlink() != 1 {
            return Err(format!("{shown} has {} names (hard links)", m.nlink()));
        }
        Ok(file)
    }

    /// How long the log is before a start, so only what that start writes is read back.
    fn log_len(&self) -> u64 {
        std::fs::symlink_metadata(self.log_path()).map_or(0, |m| m.len())
    }

    /// Start `lotline serve` in its own session, detached from this terminal, so it
    /// outlives this process and is not stopped by this terminal's Ctrl-C or hang-up. Its
    /// log, when it could be opened safely; else why it logs nowhere.
    fn spawn(
        &self,
        socket: &Path,
    ) -> std::io::Result<(std::process::Child, Result<std::fs::File, String>)> {
        use std::os::unix::process::CommandExt;
        let log = self.open_log();
        let stderr = match log.as_ref().map(std::fs::File::try_clone) {
            Ok(Ok(f)) => std::process::Stdio::from(f),
            _ => std::process::Stdio::null(),
        };
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
            .stderr(stderr);
        // SAFETY: setsid is async-signal-safe and touches nothing of the parent's.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        Ok((cmd.spawn()?, log))
    }
}

/// The last line a server wrote to its log, read through the log's open file.
/// `serve`'s exit status when the database is held by another server, as the command line
/// reports "busy, try again" (sysexits EX_TEMPFAIL).
const EXIT_TRY_AGAIN: u8 = 75;

fn last_words(log: &mut std::fs::File, since: u64) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let len = log.metadata().ok()?.len();
    // Only what this start wrote: an older server's last line ("stopped; the database is
    // closed") is not why this one gave up.
    log.seek(SeekFrom::Start(len.saturating_sub(64 * 1024).max(since)))
        .ok()?;
    let mut tail = Vec::new();
    log.read_to_end(&mut tail).ok()?;
    let tail = String::from_utf8_lossy(&tail);
    let line = tail.lines().rev().find(|l| !l.trim().is_empty())?;
    Some(
        line.split_once("lotline serve: ")
            .map(|(_, m)| m.to_string())
            .unwrap_or_else(|| line.to_string()),
    )
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
    /// A server answered that it holds as many connections as it takes, for everyone or
    /// for this user: try again once some close.
    #[error("{0}")]
    Busy(String),
    /// The server speaks another protocol version: nothing this client sends would be
    /// understood, and trying again cannot help until one side is upgraded or restarted.
    #[error("{}", mismatch_message(*server, *client))]
    Mismatch { server: u32, client: u32 },
    #[error("the lotline server on {path} could not be used: {why}")]
    Broken { path: PathBuf, why: String },
    /// The program on the socket is not one this client may trust with its requests
    /// (another user's, or one that lies about its pid); nothing was sent to it.
    #[error("{0}")]
    Untrusted(String),
    /// Something that is not a server's socket stands on the socket's path or its folder.
    #[error("{0}")]
    Blocked(String),
    /// A server was started and did not come up; its log's last line says why.
    #[error("{0}")]
    StartFailed(String),
    /// A server was started and left because another holds the file (one starting or
    /// stopping at the same moment): the same command works again in a moment.
    #[error("{0}; nothing was done, try again in a moment")]
    StartRaced(String),
}

impl From<ConnectError> for StationError {
    fn from(e: ConnectError) -> Self {
        let kind = match e {
            ConnectError::Refused(_) => ErrorKind::Forbidden,
            ConnectError::Busy(_) => ErrorKind::Busy,
            ConnectError::Mismatch { .. } => ErrorKind::Version,
            ConnectError::StartFailed(_)
            | ConnectError::Untrusted(_)
            | ConnectError::Blocked(_) => ErrorKind::Database,
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
    trust: Trust,
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

/// Connect and shake hands: the stream, who the server says we are, and its pid (the
/// kernel's word for it). The server's peer credentials are checked before anything is
/// sent; a server that names a pid other than the one the kernel knows it by is refused.
fn handshake(
    socket: &Path,
    station: &str,
    trust: &Trust,
) -> Result<(UnixStream, Actor, u32), ConnectError> {
    let mut stream = UnixStream::connect(socket).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound
        | std::io::ErrorKind::ConnectionRefused
        | std::io::ErrorKind::NotADirectory => match blocked(socket) {
            Some(why) => ConnectError::Blocked(why),
            None => ConnectError::NoServer(socket.to_path_buf()),
        },
        // A file another user put there, not writable by this one, says "permission
        // denied" too: say what is there rather than blame the group.
        std::io::ErrorKind::PermissionDenied => match blocked(socket) {
            Some(why) => ConnectError::Blocked(why),
            None => ConnectError::Refused(format!(
                "permission denied on {}: this user is not in the plant's group; ask the plant's IT to add them",
                socket.display()
            )),
        },
        _ => ConnectError::Broken {
            path: socket.to_path_buf(),
            why: e.to_string(),
        },
    })?;
    let broken = |why: String| ConnectError::Broken {
        path: socket.to_path_buf(),
        why,
    };
    let peer = super::identity::PeerCred::of(&stream)
        .map_err(|e| broken(format!("the kernel cannot say who listens there ({e})")))?;
    trust.check(socket, peer)?;
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
        // pid 0: the server is in another pid namespace, where the kernel cannot name it
        // to us; its uid was checked all the same.
        Welcome::Accepted { server_pid, .. } if peer.pid != 0 && server_pid != peer.pid => {
            Err(ConnectError::Untrusted(format!(
                "the program listening on {} says it is lotline serve with pid {server_pid}, but the kernel says pid {} listens there: it is not a lotline server, and nothing more was sent to it; tell whoever looks after this computer",
                path_words(socket),
                peer.pid
            )))
        }
        Welcome::Accepted { actor, server_pid } => Ok((stream, actor, server_pid)),
        Welcome::Refused { protocol, .. } if protocol != wire::PROTOCOL => {
            Err(ConnectError::Mismatch {
                server: protocol,
                client: wire::PROTOCOL,
            })
        }
        Welcome::Refused { message, .. } => Err(ConnectError::Refused(message)),
        Welcome::Busy { message } => Err(ConnectError::Busy(message)),
    }
}

impl Remote {
    /// Connect to the server on `socket`, naming this station. The server must run as
    /// this user, as root, or as the owner of the socket's folder when only that owner can
    /// write in it ([`Trust::for_socket`]); [`Remote::connect_to`] names the database.
    pub fn connect(socket: &Path, station: &str) -> Result<Remote, ConnectError> {
        Remote::open(socket, station, None, Trust::for_socket(socket))
    }

    /// Connect to the server of `db` on `socket`: one run by the database's owner
    /// ([`Trust::for_db`]).
    pub fn connect_to(db: &Path, socket: &Path, station: &str) -> Result<Remote, ConnectError> {
        Remote::open(socket, station, None, Trust::for_db(db, socket))
    }

    /// Connect to the server for `autostart.db`, starting one when none answers, as tmux
    /// does: the first terminal starts it, the others find it.
    pub fn connect_or_start(
        socket: &Path,
        station: &str,
        autostart: Autostart,
    ) -> Result<Remote, ConnectError> {
        let trust = Trust::for_db(&autostart.db, socket);
        Remote::open(socket, station, Some(autostart), trust)
    }

    fn open(
        socket: &Path,
        station: &str,
        autostart: Option<Autostart>,
        trust: Trust,
    ) -> Result<Remote, ConnectError> {
        let (stream, actor, pid) =
            connect_maybe_start(socket, station, autostart.as_ref(), &trust)?;
        let (tx, rx) = mpsc::channel();
        let inner = Arc::new(Inner {
            socket: socket.to_path_buf(),
            station: station.to_string(),
            autostart,
            trust,
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

    /// The server's process as the kernel knows it (`SO_PEERCRED` of the connection), not
    /// as the server says: what a signal may be sent to. `None` while reconnecting.
    pub fn peer(&self) -> Option<super::identity::PeerCred> {
        lock(&self.inner.writer)
            .as_ref()
            .and_then(|s| super::identity::PeerCred::of(s).ok())
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
    trust: &Trust,
) -> Result<(UnixStream, Actor, u32), ConnectError> {
    match handshake(socket, station, trust) {
        Err(ConnectError::NoServer(_)) if autostart.is_some() => {}
        other => return other,
    }
    let a = autostart.expect("checked above");
    let since = a.log_len();
    let (mut child, log) = a.spawn(socket).map_err(|e| {
        ConnectError::StartFailed(format!("could not start `{} serve`: {e}", a.exe.display()))
    })?;
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut wait = Duration::from_millis(2);
    loop {
        match handshake(socket, station, trust) {
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
            if let Ok(ok) = handshake(socket, station, trust) {
                return Ok(ok);
            }
            let last = match log {
                Ok(mut f) => {
                    last_words(&mut f, since).unwrap_or_else(|| format!("it exited with {status}"))
                }
                Err(why) => format!("it exited with {status}; it had no log because {why}"),
            };
            // `serve` exits 75 when the file is held by another server (one that is just
            // starting or stopping): a retry, not a damaged plant.
            if status.code() == Some(i32::from(EXIT_TRY_AGAIN)) {
                return Err(ConnectError::StartRaced(last));
            }
            return Err(ConnectError::StartFailed(last));
        }
        if Instant::now() > deadline {
            return Err(ConnectError::StartFailed(format!(
                "the lotline server did not come up on {} within 15 s; see {}",
                socket.display(),
                match &log {
                    Ok(_) => a.log_path().display().to_string(),
                    Err(why) => format!("its log: none was kept, because {why}"),
                }
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
        // Set when the server said it dropped this connection for silence.
        let mut dropped = None;
        let ended = loop {
            match wire::read_frame::<ServerMsg>(&mut stream) {
                Ok(Some(ServerMsg::Ping)) => {
                    let Some(inner) = inner.upgrade() else { return };
                    pong(&inner);
                }
                Ok(Some(ServerMsg::Notice(Notice::Dropped { silent_secs }))) => {
                    dropped = Some(silent_secs);
                    break format!(
                        "it dropped this station after {silent_secs} s without an answer"
                    );
                }
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
            let _ = tx.send(Err(StationError {
                kind: ErrorKind::Unanswered,
                field: None,
                message: format!(
                    "the lotline server stopped before answering ({ended}); what you sent may or may not have been saved — look (`lotline lots`, `lotline audit`) before you repeat it"
                ),
            }));
        }
        if let Some(tx) = lock(&strong.notices).as_ref() {
            let _ = tx.send(match dropped {
                Some(silent_secs) => Notice::Dropped { silent_secs },
                None => Notice::Lost,
            });
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
            let attempt = connect_maybe_start(
                &strong.socket,
                &strong.station,
                strong.autostart.as_ref(),
                &strong.trust,
            );
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

/// Answer the server's ping. Never waits: the reader must go on reading replies (the
/// server may be waiting for this client to take them before it reads more). When a call
/// is being sent the ping is not answered, and need not be: a frame arriving is a sign of
/// life too, and the server does not count silence while it reads or serves one.
fn pong(inner: &Inner) {
    use std::os::fd::AsRawFd;
    let Ok(mut w) = inner.writer.try_lock() else {
        return;
    };
    let Some(stream) = w.as_mut() else { return };
    let Ok(frame) = wire::encode_frame(&ClientMsg::Pong) else {
        return;
    };
    // SAFETY: send(2) on the stream's own descriptor, from a buffer that outlives the call.
    let sent = unsafe {
        libc::send(
            stream.as_raw_fd(),
            frame.as_ptr().cast(),
            frame.len(),
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
    };
    // A socket too full to take five bytes at once: a few may have gone, and the frame must
    // then be finished, or the stream would be out of step. Nothing sent: skipped.
    if let Ok(n) = usize::try_from(sent)
        && n > 0
        && n < frame.len()
    {
        use std::io::Write;
        let _ = stream.write_all(&frame[n..]);
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::net::UnixListener;

    fn long_db(dir: &Path) -> PathBuf {
        let sub = dir.join("x".repeat(90));
        std::fs::create_dir(&sub).unwrap();
        sub.join("plant.redb")
    }

    /// A call sent to a server that stops before answering may or may not have been done:
    /// it fails as `Unanswered` (look before repeating), never as "try again".
    #[test]
    fn a_call_the_server_never_answered_is_unanswered_not_busy() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("plant.redb.sock");
        let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let server = std::thread::spawn(move || {
            let (mut c, _) = listener.accept().unwrap();
            let _: Option<Hello> = wire::read_frame(&mut c).unwrap();
            wire::write_frame(
                &mut c,
                &Welcome::Accepted {
                    actor: Actor {
                        operator: "ana".into(),
                        station: "dock-1".into(),
                        role: Role::Operator,
                    },
                    server_pid: std::process::id(),
                },
            )
            .unwrap();
            // The call arrives; the server goes away without a word.
            let _: Option<ClientMsg> = wire::read_frame(&mut c).unwrap();
        });
        let remote = Remote::connect(&socket, "dock-1").unwrap();
        let e = remote.call(Request::Query(Query::Today)).unwrap_err();
        server.join().unwrap();
        assert_eq!(e.kind, ErrorKind::Unanswered, "{e}");
        assert!(e.message.contains("look"), "{e}");
    }

    #[test]
    fn a_long_paths_socket_is_in_its_owners_private_folder() {
        let dir = tempfile::tempdir().unwrap();
        let short = dir.path().join("plant.redb");
        assert_eq!(socket_path(&short), dir.path().join("plant.redb.sock"));
        let db = long_db(dir.path());
        // Not there yet: this user will make it.
        let s = socket_path(&db);
        assert_eq!(
            s.parent(),
            Some(private_socket_dir(effective_uid()).as_path())
        );
        std::fs::write(&db, "").unwrap();
        assert_eq!(socket_path(&db), s, "the same for every client of the file");
        if effective_uid() == 0 {
            std::os::unix::fs::chown(&db, Some(4_000_321), None).unwrap();
            let theirs = socket_path(&db);
            assert_eq!(theirs.parent(), Some(Path::new("/tmp/lotline-4000321")));
            assert_eq!(theirs.file_name(), s.file_name());
        }
        assert_eq!(
            private_socket_dir_uid(Path::new("/tmp/lotline-1000")),
            Some(1000)
        );
        for not in [
            "/tmp/lotline-01000",
            "/tmp/lotline-x",
            "/tmp/lotline-1000/a",
            "/tmp/x-1",
        ] {
            assert_eq!(private_socket_dir_uid(Path::new(not)), None, "{not}");
        }
    }

    #[test]
    fn a_client_trusts_the_databases_owner_root_and_itself_only() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("plant.redb");
        std::fs::write(&db, "").unwrap();
        let socket = dir.path().join("plant.redb.sock");
        let me = effective_uid();
        let t = Trust::for_db(&db, &socket);
        assert!(t.accepts(me) && t.accepts(0));
        assert!(!t.accepts(4_000_777));
        if me == 0 {
            std::os::unix::fs::chown(&db, Some(4_000_777), None).unwrap();
            let t = Trust::for_db(&db, &socket);
            assert!(t.accepts(4_000_777));
            assert!(!t.accepts(4_000_778));
            let e = t
                .check(
                    &socket,
                    crate::identity::PeerCred {
                        pid: 1,
                        uid: 4_000_778,
                        gid: 0,
                    },
                )
                .unwrap_err()
                .to_string();
            assert!(e.contains("runs as uid 4000778"), "{e}");
            assert!(e.contains("uid 4000777"), "{e}");
            assert!(e.contains("lotline sent it nothing"), "{e}");
        }
        // Without a database: the owner of a folder only its owner writes, else no one
        // but this user and root.
        let t = Trust::for_socket(&socket);
        assert!(t.accepts(me) && t.accepts(0));
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o1777))
            .unwrap();
        if me == 0 {
            std::os::unix::fs::chown(&open, Some(4_000_777), None).unwrap();
            assert!(!Trust::for_socket(&open.join("s.sock")).accepts(4_000_777));
            std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
            assert!(Trust::for_socket(&open.join("s.sock")).accepts(4_000_777));
        }
    }

    /// A program on the socket that answers like a server but names a pid the kernel does
    /// not give for it is refused.
    #[test]
    fn a_server_naming_another_pid_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("s.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        let answer = |claimed: u32| {
            let (mut s, _) = listener.accept().unwrap();
            let _: Option<Hello> = wire::read_frame(&mut s).unwrap();
            wire::write_frame(
                &mut s,
                &Welcome::Accepted {
                    actor: Actor {
                        operator: "x".into(),
                        station: "y".into(),
                        role: Role::Operator,
                    },
                    server_pid: claimed,
                },
            )
            .unwrap();
        };
        let trust = Trust::for_socket(&socket);
        std::thread::scope(|scope| {
            scope.spawn(|| answer(1));
            let e = handshake(&socket, "t", &trust).unwrap_err().to_string();
            assert!(e.contains("kernel says pid"), "{e}");
        });
        std::thread::scope(|scope| {
            scope.spawn(|| answer(std::process::id()));
            let (_, _, pid) = handshake(&socket, "t", &trust).unwrap();
            assert_eq!(pid, std::process::id());
        });
    }

    #[test]
    fn blocked_says_what_stands_on_the_socket_path_and_whose_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plant.redb.sock");
        assert_eq!(blocked(&path), None, "nothing there");
        let stale = UnixListener::bind(&path).unwrap();
        drop(stale);
        assert_eq!(blocked(&path), None, "a socket a server replaces");
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, "").unwrap();
        let why = blocked(&path).unwrap();
        assert!(why.contains("is a regular file owned by uid"), "{why}");
        assert!(why.contains("remove it"), "{why}");
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", &path).unwrap();
        assert!(blocked(&path).unwrap().contains("symbolic link"));
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let why = blocked(&file.join("x.sock")).unwrap();
        assert!(why.contains("not a folder"), "{why}");
    }

    #[test]
    fn the_autostart_log_is_never_opened_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let a = Autostart {
            exe: PathBuf::from("/nonexistent"),
            db: dir.path().join("plant.redb"),
            create: false,
            idle_exit: 1,
        };
        let log = a.log_path();
        let other = dir.path().join("bashrc");
        std::fs::write(&other, "mine\n").unwrap();
        std::os::unix::fs::symlink(&other, &log).unwrap();
        assert!(a.open_log().unwrap_err().contains("symbolic link"));
        std::fs::remove_file(&log).unwrap();
        std::fs::hard_link(&other, &log).unwrap();
        assert!(a.open_log().unwrap_err().contains("hard links"));
        std::fs::remove_file(&log).unwrap();
        let c = std::ffi::CString::new(log.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(
            a.open_log().unwrap_err().contains("FIFO"),
            "without waiting"
        );
        std::fs::remove_file(&log).unwrap();
        assert_eq!(std::fs::read(&other).unwrap(), b"mine\n");
        // A log of its own: the last words come back through the same open file.
        let mut f = a.open_log().unwrap();
        {
            use std::io::Write;
            writeln!(f, "2026-01-01T00:00:00Z lotline serve: first").unwrap();
            writeln!(f, "2026-01-01T00:00:01Z lotline serve: the last words").unwrap();
        }
        assert_eq!(last_words(&mut f, 0).as_deref(), Some("the last words"));
        // An earlier server's last words are not this start's: only what came after.
        let since = a.log_len();
        assert_eq!(last_words(&mut f, since), None);
        {
            use std::io::Write;
            writeln!(f, "2026-01-01T00:00:02Z lotline serve: this start's").unwrap();
        }
        assert_eq!(last_words(&mut f, since).as_deref(), Some("this start's"));
        assert_eq!(std::fs::metadata(&log).unwrap().uid(), effective_uid());
    }
}
