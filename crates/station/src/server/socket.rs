//! The server's socket: made safe before anyone can reach it, found by clients, and the
//! server behind it stopped only when it is verified (docs/server.md, "The socket").
//!
//! Binding never changes anything by path where another user could have put something:
//! the socket is bound inside a fresh folder only this process can write in (`mkdirat`
//! 0700, opened with `O_NOFOLLOW` and checked to be ours), its group and mode are set
//! there, and it is renamed into place whole. `chown`/`chmod` on the socket's final path
//! would follow a symbolic link raced over it, and on Linux `fchown`/`fchmod` on a socket's
//! descriptor change the socket, not the file it is bound to; a private folder is the one
//! way that is both race-free and portable across file systems.

use super::{ServeError, ServeOptions};
use crate::remote::{
    ConnectError, Remote, blocked, effective_uid, private_socket_dir_uid, uid_words,
};
use crate::{ErrorKind, StationError};
use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// Which process holds the database, if a server answers on its socket.
pub fn served_by(socket: &Path) -> Option<u32> {
    Remote::connect(socket, "probe")
        .ok()
        .map(|r| r.server_pid())
}

/// Stop the server of `db` on `socket` if no station but the caller is connected to it (a
/// server a command started and left behind): SIGTERM, then wait for it to close the file.
/// `Ok(true)` when none runs any more; `Ok(false)` when stations are still connected.
///
/// Only a server this user may trust (its owner's, see `Trust::for_db`) is asked, and the
/// signal goes to the process the kernel says listens on the socket, never to a pid the
/// program there names: a program that names another pid is not a lotline server, and
/// nothing is signalled.
pub fn stop_if_idle(db: &Path, socket: &Path) -> Result<bool, StationError> {
    use crate::StationExt;
    let remote = match Remote::connect_to(db, socket, "lotline-stop") {
        Ok(r) => r,
        Err(e @ (ConnectError::Untrusted(_) | ConnectError::Refused(_))) => return Err(e.into()),
        // Nothing there, or nothing a server could be: nothing to stop.
        Err(_) => return Ok(true),
    };
    let others = |r: &Remote| -> Result<usize, StationError> {
        Ok(r.stations()?.into_iter().filter(|s| !s.me).count())
    };
    if others(&remote)? > 0 {
        return Ok(false);
    }
    let busy = |message: String| StationError {
        kind: ErrorKind::Busy,
        field: None,
        message,
    };
    let pid = match remote.peer() {
        Some(peer) if peer.pid != 0 && peer.pid == remote.server_pid() => peer.pid,
        // Gone meanwhile.
        None => return Ok(true),
        Some(_) => {
            return Err(busy(format!(
                "the kernel does not say which process serves {} (it runs in another pid namespace), so lotline will not stop it: stop it where it runs",
                shown(socket)
            )));
        }
    };
    let pidfd = pidfd_open(pid);
    // An answer after the pidfd was taken shows the process still lived then, so the
    // pidfd is the server's, not a process that took its pid after it left.
    if others(&remote)? > 0 {
        return Ok(false);
    }
    drop(remote);
    let sent = match &pidfd {
        Some(fd) => pidfd_send_signal(fd, libc::SIGTERM),
        // SAFETY: plain kill(2) of the pid the kernel gave for the socket's listener (a
        // kernel without pidfds: before 5.3).
        None => match unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) } {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        },
    };
    match sent {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
        Err(e) => return Err(busy(format!("cannot stop lotline serve (pid {pid}): {e}"))),
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let gone = match &pidfd {
            // A pidfd reads as ready once its process has exited: the file is closed.
            Some(fd) => {
                let mut pfd = libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                unsafe { libc::poll(&mut pfd, 1, 20) > 0 }
            }
            None => {
                std::thread::sleep(Duration::from_millis(20));
                !socket.exists()
            }
        };
        if gone {
            return Ok(true);
        }
        if Instant::now() > deadline {
            return Err(busy(format!(
                "lotline serve (pid {pid}) did not stop within 15 s"
            )));
        }
    }
}

/// A descriptor for process `pid` that stays with that process even after it exits and
/// its pid is reused. `None` on kernels without pidfds, or when the process is gone.
fn pidfd_open(pid: u32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: the kernel just gave us this descriptor, owned by no one else.
    Some(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

fn pidfd_send_signal(fd: &OwnedFd, signal: libc::c_int) -> std::io::Result<()> {
    // SAFETY: a valid pidfd, a signal number, no siginfo, no flags.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn setup(m: String) -> ServeError {
    ServeError::Setup(m)
}

use crate::remote::path_words as shown;

fn cstring(p: &Path) -> Result<CString, ServeError> {
    CString::new(p.as_os_str().as_encoded_bytes())
        .map_err(|_| setup(format!("{} contains a NUL byte", shown(p))))
}

fn last_error() -> std::io::Error {
    std::io::Error::last_os_error()
}

/// `open(2)` of a folder; with `nofollow`, a symbolic link in its last part is refused.
fn open_dir(at: RawFd, name: &CStr, nofollow: bool) -> std::io::Result<OwnedFd> {
    let flags = libc::O_RDONLY
        | libc::O_DIRECTORY
        | libc::O_CLOEXEC
        | if nofollow { libc::O_NOFOLLOW } else { 0 };
    // SAFETY: a valid C string and flags; the result is a new descriptor or -1.
    let fd = unsafe { libc::openat(at, name.as_ptr(), flags) };
    if fd < 0 {
        return Err(last_error());
    }
    // SAFETY: a new descriptor owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn fstat(fd: RawFd) -> std::io::Result<libc::stat> {
    // SAFETY: `st` is valid for writes; fstat fills it or fails.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(last_error());
    }
    Ok(st)
}

/// `lstat` of `name` in the folder `dir`; `None` when nothing is there.
fn stat_at(dir: RawFd, name: &CStr) -> std::io::Result<Option<libc::stat>> {
    // SAFETY: `st` is valid for writes; a valid C string.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstatat(dir, name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) } != 0 {
        let e = last_error();
        return match e.raw_os_error() {
            Some(libc::ENOENT) => Ok(None),
            _ => Err(e),
        };
    }
    Ok(Some(st))
}

fn is_dir(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

fn is_socket(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFSOCK
}

/// Listen on `opts.socket`, its group and mode set before it appears there (see the
/// module's comment).
pub(super) fn bind(opts: &ServeOptions) -> Result<UnixListener, ServeError> {
    bind_at(&opts.socket, opts.socket_mode, opts.group.as_deref())
}

fn bind_at(path: &Path, mode: u32, group: Option<&str>) -> Result<UnixListener, ServeError> {
    let name = path
        .file_name()
        .ok_or_else(|| setup(format!("{} names no socket file", shown(path))))?;
    let name = CString::new(name.as_encoded_bytes())
        .map_err(|_| setup(format!("{} contains a NUL byte", shown(path))))?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // A mistyped group is refused before anything is made.
    let gid = match group {
        Some(group) => Some(
            crate::identity::group_id(group)
                .ok_or_else(|| setup(format!("no group named {group}")))?,
        ),
        None => None,
    };
    let mode = mode & 0o777;
    if let Some(uid) = private_socket_dir_uid(dir) {
        private_dir(dir, path, uid, mode)?;
    }
    let parent = open_dir(libc::AT_FDCWD, &cstring(dir)?, false).map_err(|e| {
        setup(format!(
            "cannot open the socket's folder {}: {e}",
            shown(dir)
        ))
    })?;
    match stat_at(parent.as_raw_fd(), &name) {
        Ok(None) => {}
        // We hold the writer lock, so whatever answers there is not a server of this
        // database: leave it alone. Nothing answering means a stale socket, which the
        // rename below replaces.
        Ok(Some(st)) if is_socket(&st) => {
            if UnixStream::connect(path).is_ok() {
                return Err(setup(format!(
                    "something already listens on {}; choose another --socket",
                    shown(path)
                )));
            }
        }
        Ok(Some(_)) => {
            return Err(setup(blocked(path).unwrap_or_else(|| {
                format!("{} is in the way of the socket; remove it", shown(path))
            })));
        }
        Err(e) => return Err(setup(format!("cannot look at {}: {e}", shown(path)))),
    }
    let stage = Stage::make(&parent, dir)?;
    let listener = stage.bind()?;
    let node = c"s";
    if let Some(gid) = gid {
        // SAFETY: a valid folder descriptor and C string; -1 leaves the owner as it is.
        // Nobody else can write in the stage, so `s` is the socket just bound.
        if unsafe {
            libc::fchownat(
                stage.fd.as_raw_fd(),
                node.as_ptr(),
                u32::MAX,
                gid,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        } != 0
        {
            return Err(setup(format!(
                "cannot give {} to group {}: {}",
                shown(path),
                group.unwrap_or_default(),
                last_error()
            )));
        }
    }
    // SAFETY: as above.
    if unsafe { libc::fchmodat(stage.fd.as_raw_fd(), node.as_ptr(), mode, 0) } != 0 {
        return Err(setup(format!(
            "cannot set the mode of {}: {}",
            shown(path),
            last_error()
        )));
    }
    // Into place whole: rename never follows a link, and replaces a stale socket or
    // whatever was raced onto the path meanwhile.
    // SAFETY: valid descriptors and C strings.
    if unsafe {
        libc::renameat(
            stage.fd.as_raw_fd(),
            node.as_ptr(),
            parent.as_raw_fd(),
            name.as_ptr(),
        )
    } != 0
    {
        let e = last_error();
        return Err(setup(match blocked(path) {
            Some(why) => why,
            None => format!("cannot put the socket at {}: {e}", shown(path)),
        }));
    }
    listener
        .set_nonblocking(true)
        .map_err(|e| setup(e.to_string()))?;
    Ok(listener)
}

/// A fresh folder beside the socket that only this process's user can write in, removed
/// when dropped.
struct Stage {
    parent: RawFd,
    name: CString,
    fd: OwnedFd,
    dir: std::path::PathBuf,
}

impl Stage {
    fn make(parent: &OwnedFd, dir: &Path) -> Result<Stage, ServeError> {
        let mut last = None;
        for _ in 0..8 {
            let name = CString::new(format!(".lotline-{:016x}", random())).expect("hex has no NUL");
            // SAFETY: a valid folder descriptor and C string.
            if unsafe { libc::mkdirat(parent.as_raw_fd(), name.as_ptr(), 0o700) } != 0 {
                let e = last_error();
                if e.raw_os_error() == Some(libc::EEXIST) {
                    last = Some(e);
                    continue;
                }
                return Err(setup(format!(
                    "cannot make the socket in {}: {e}",
                    shown(dir)
                )));
            }
            let stage_dir = dir.join(name.to_str().expect("hex is UTF-8"));
            let stage = Stage {
                parent: parent.as_raw_fd(),
                fd: open_dir(parent.as_raw_fd(), &name, true)
                    .map_err(|e| setup(format!("cannot open {}: {e}", shown(&stage_dir))))?,
                name,
                dir: stage_dir,
            };
            // What was opened is the folder just made, not one put in its place.
            let st = fstat(stage.fd.as_raw_fd())
                .map_err(|e| setup(format!("cannot look at {}: {e}", shown(&stage.dir))))?;
            if !is_dir(&st) || st.st_uid != effective_uid() || st.st_mode & 0o077 != 0 {
                return Err(setup(format!(
                    "{} was replaced while the socket was being made: someone else can write in {}; give --socket in a folder only the server's user can write",
                    shown(&stage.dir),
                    shown(dir)
                )));
            }
            return Ok(stage);
        }
        Err(setup(format!(
            "cannot make the socket in {}: {}",
            shown(dir),
            last.map(|e| e.to_string()).unwrap_or_default()
        )))
    }

    /// Bind the socket `s` in the stage, reached through the stage's descriptor so the
    /// path cannot be redirected (and stays short whatever the folder's length).
    fn bind(&self) -> Result<UnixListener, ServeError> {
        let through_fd = format!("/proc/self/fd/{}/s", self.fd.as_raw_fd());
        let bound = if Path::new("/proc/self/fd").is_dir() {
            UnixListener::bind(&through_fd)
        } else {
            // Without /proc: by path. Only this user can write in the stage; if it was
            // renamed away and another put in its place, the socket lands there, `s` is
            // not found in ours below, and nothing is changed.
            UnixListener::bind(self.dir.join("s"))
        };
        bound.map_err(|e| setup(format!("cannot listen in {}: {e}", shown(&self.dir))))
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        // SAFETY: valid descriptors and C strings. A socket left behind by a failed start
        // goes first; rmdir removes only an empty folder.
        unsafe {
            libc::unlinkat(self.fd.as_raw_fd(), c"s".as_ptr(), 0);
            libc::unlinkat(self.parent, self.name.as_ptr(), libc::AT_REMOVEDIR);
        }
    }
}

/// 64 random bits from the kernel, for a name nobody can guess ahead.
fn random() -> u64 {
    let mut b = [0u8; 8];
    // SAFETY: `b` is valid for 8 bytes of writes.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    if n == 8 {
        u64::from_ne_bytes(b)
    } else {
        // Names are also checked after mkdir; a guessable one only risks a retry.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        u64::from(std::process::id()) << 32 | u64::from(nanos)
    }
}

/// Make or check `dir`, the private socket folder of `uid` (`/tmp/lotline-UID`): a folder
/// (not a link) owned by `uid` that nobody else can write in. Those the socket's mode
/// admits may pass through it (`0711`), never list it or put anything in it.
fn private_dir(dir: &Path, socket: &Path, uid: u32, socket_mode: u32) -> Result<(), ServeError> {
    let me = effective_uid();
    if me != uid && me != 0 {
        return Err(setup(format!(
            "the socket would be in {}, the private folder of {} (the database's owner), but this server runs as {}: run it as the database's owner, or give --socket PATH",
            shown(dir),
            uid_words(uid),
            uid_words(me)
        )));
    }
    let c = cstring(dir)?;
    // SAFETY: a valid C string.
    let made = unsafe { libc::mkdir(c.as_ptr(), 0o700) } == 0;
    if !made && last_error().raw_os_error() != Some(libc::EEXIST) {
        return Err(setup(format!(
            "cannot make {}: {}",
            shown(dir),
            last_error()
        )));
    }
    let not_private = || {
        setup(blocked(socket).unwrap_or_else(|| {
            format!(
                "{} is not a private folder of {}; ask whoever looks after this computer to remove it, or give --socket PATH",
                shown(dir),
                uid_words(uid)
            )
        }))
    };
    let fd = open_dir(libc::AT_FDCWD, &c, true).map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP | libc::ENOTDIR) => not_private(),
        _ => setup(format!("cannot open {}: {e}", shown(dir))),
    })?;
    let mut st = fstat(fd.as_raw_fd()).map_err(|e| setup(format!("{}: {e}", shown(dir))))?;
    if made && st.st_uid != uid && st.st_uid == me {
        // Root made it for the database's owner.
        // SAFETY: a valid descriptor; -1 leaves the group as it is.
        if unsafe { libc::fchown(fd.as_raw_fd(), uid, u32::MAX) } != 0 {
            return Err(setup(format!(
                "cannot give {} to {}: {}",
                shown(dir),
                uid_words(uid),
                last_error()
            )));
        }
        st.st_uid = uid;
    }
    if !is_dir(&st) || st.st_uid != uid || st.st_mode & 0o022 != 0 {
        return Err(not_private());
    }
    let pass = if socket_mode & 0o066 != 0 { 0o011 } else { 0 };
    let current = st.st_mode & 0o7777;
    if current & pass != pass {
        // SAFETY: a valid descriptor.
        if unsafe { libc::fchmod(fd.as_raw_fd(), current | pass) } != 0 {
            return Err(setup(format!(
                "cannot let others through {}: {}",
                shown(dir),
                last_error()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn the_socket_appears_whole_with_its_mode_and_nothing_is_left_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plant.redb.sock");
        let listener = bind_at(&path, 0o640, None).unwrap();
        let m = std::fs::symlink_metadata(&path).unwrap();
        assert!(m.file_type().is_socket());
        assert_eq!(m.mode() & 0o777, 0o640);
        assert_eq!(m.uid(), effective_uid());
        assert_eq!(entries(dir.path()), ["plant.redb.sock"], "no stage left");
        UnixStream::connect(&path).unwrap();
        assert!(listener.accept().is_ok());
        // A stale socket (nobody listens) is replaced.
        drop(listener);
        let again = bind_at(&path, 0o600, None).unwrap();
        assert_eq!(
            std::fs::symlink_metadata(&path).unwrap().mode() & 0o777,
            0o600
        );
        UnixStream::connect(&path).unwrap();
        drop(again);
        // One that answers is left alone.
        let live = UnixListener::bind(dir.path().join("live.sock")).unwrap();
        let e = bind_at(&dir.path().join("live.sock"), 0o600, None).unwrap_err();
        assert!(e.to_string().contains("already listens"), "{e}");
        drop(live);
    }

    #[test]
    fn what_is_not_a_socket_at_the_path_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plant.redb.sock");
        std::fs::write(&path, "mine").unwrap();
        let e = bind_at(&path, 0o660, None).unwrap_err().to_string();
        assert!(e.contains("is a regular file owned by uid"), "{e}");
        assert!(e.contains("remove it"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), b"mine");
        // A link to a file is neither followed nor replaced.
        let target = dir.path().join("shadow");
        std::fs::write(&target, "secret").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&target, &path).unwrap();
        let e = bind_at(&path, 0o666, None).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        let m = std::fs::metadata(&target).unwrap();
        assert_eq!(m.mode() & 0o777, 0o600);
        assert_eq!(entries(dir.path()), ["plant.redb.sock", "shadow"]);
    }

    #[test]
    fn a_group_that_does_not_exist_makes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plant.redb.sock");
        let e = bind_at(&path, 0o660, Some("no-such-group-here"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no group named no-such-group-here"), "{e}");
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn the_private_folder_is_made_private_and_one_that_is_not_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let me = effective_uid();
        let private = dir.path().join("lotline-me");
        let socket = private.join("x.sock");
        private_dir(&private, &socket, me, 0o600).unwrap();
        let m = std::fs::symlink_metadata(&private).unwrap();
        assert!(m.is_dir());
        assert_eq!((m.uid(), m.mode() & 0o777), (me, 0o700));
        // Others the socket admits may pass through, never list or write.
        private_dir(&private, &socket, me, 0o660).unwrap();
        assert_eq!(
            std::fs::symlink_metadata(&private).unwrap().mode() & 0o777,
            0o711
        );
        // Writable by others: refused, left as it is.
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(private_dir(&private, &socket, me, 0o600).is_err());
        assert_eq!(
            std::fs::symlink_metadata(&private).unwrap().mode() & 0o777,
            0o777
        );
        // A link to a folder: refused.
        let link = dir.path().join("lotline-link");
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = private_dir(&link, &link.join("x.sock"), me, 0o600)
            .unwrap_err()
            .to_string();
        assert!(e.contains("symbolic link"), "{e}");
        // Another user's folder (root can make one for a uid nobody has).
        if me == 0 {
            let theirs = dir.path().join("lotline-theirs");
            std::fs::create_dir(&theirs).unwrap();
            std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o700)).unwrap();
            std::os::unix::fs::chown(&theirs, Some(4_000_123), None).unwrap();
            assert!(private_dir(&theirs, &theirs.join("x.sock"), 0, 0o600).is_err());
            // Made by root for the database's owner: theirs.
            let made = dir.path().join("lotline-made");
            private_dir(&made, &made.join("x.sock"), 4_000_123, 0o600).unwrap();
            assert_eq!(std::fs::metadata(&made).unwrap().uid(), 4_000_123);
        }
    }
}
