//! Who is at the other end, from the operating system: the Unix user of this process, or
//! of a socket's peer (`SO_PEERCRED`), and their groups. Never from `$USER` or anything a
//! client says, which anyone can set.

use std::ffi::CStr;

/// A Unix user as the system's user database (files, LDAP, SSSD) knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    /// The login name, or `uid:N` when the uid has none.
    pub user: String,
    /// Names of the user's groups, primary first.
    pub groups: Vec<String>,
}

impl Identity {
    /// The user running this process.
    pub fn current() -> Identity {
        // SAFETY: getuid and getgid cannot fail.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        Identity::of(uid, gid)
    }

    /// The user with this uid, whose primary group is `gid`.
    pub fn of(uid: u32, gid: u32) -> Identity {
        let user = user_name(uid);
        let mut groups = Vec::new();
        if let Some(g) = group_name(gid) {
            groups.push(g);
        }
        if !user.starts_with("uid:") {
            for g in group_ids(&user, gid) {
                if let Some(n) = group_name(g)
                    && !groups.contains(&n)
                {
                    groups.push(n);
                }
            }
        }
        Identity { uid, user, groups }
    }

    /// The peer of a connected Unix socket, as the kernel recorded it at connect time.
    pub fn of_peer(stream: &std::os::unix::net::UnixStream) -> std::io::Result<Identity> {
        let cred = PeerCred::of(stream)?;
        Ok(Identity::of(cred.uid, cred.gid))
    }
}

/// The process at the other end of a Unix socket, as the kernel recorded it (`SO_PEERCRED`):
/// for a client, the server's process as it was when it began to listen. Nothing the peer
/// says can change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerCred {
    /// 0 when the peer's process is not visible from this process's pid namespace.
    pub pid: u32,
    pub uid: u32,
    pub gid: u32,
}

impl PeerCred {
    pub fn of(stream: &std::os::unix::net::UnixStream) -> std::io::Result<PeerCred> {
        use std::os::fd::AsRawFd;
        let mut cred = libc::ucred {
            pid: 0,
            uid: 0,
            gid: 0,
        };
        let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
        // SAFETY: `cred` and `len` are valid for writes of the sizes given.
        let rc = unsafe {
            libc::getsockopt(
                stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_PEERCRED,
                (&raw mut cred).cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(PeerCred {
            pid: u32::try_from(cred.pid).unwrap_or(0),
            uid: cred.uid,
            gid: cred.gid,
        })
    }
}

/// Room for getpw*/getgr* records; enlarged on ERANGE up to a bound.
fn with_buffer<T>(mut f: impl FnMut(&mut [libc::c_char]) -> Result<Option<T>, i32>) -> Option<T> {
    let mut size = 16 * 1024;
    while size <= 1 << 20 {
        let mut buf = vec![0 as libc::c_char; size];
        match f(&mut buf) {
            Ok(v) => return v,
            Err(libc::ERANGE) => size *= 4,
            Err(_) => return None,
        }
    }
    None
}

/// The login name of `uid`, or `uid:N` when it has none.
pub fn user_name(uid: u32) -> String {
    let name = with_buffer(|buf| {
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: getpwuid_r writes only into `pwd` and `buf`, which outlive the call.
        let rc =
            unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut found) };
        if rc != 0 {
            return Err(rc);
        }
        if found.is_null() || pwd.pw_name.is_null() {
            return Ok(None);
        }
        // SAFETY: a successful getpwuid_r leaves a NUL-terminated name in `buf`.
        let n = unsafe { CStr::from_ptr(pwd.pw_name) };
        Ok(n.to_str()
            .ok()
            .filter(|s| !s.is_empty())
            .map(str::to_string))
    });
    name.unwrap_or_else(|| format!("uid:{uid}"))
}

/// Whether the system's user database (files, LDAP, SSSD) knows a user of this name.
pub fn user_exists(name: &str) -> bool {
    let Ok(c) = std::ffi::CString::new(name) else {
        return false;
    };
    with_buffer(|buf| {
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: getpwnam_r writes only into `pwd` and `buf`, which outlive the call.
        let rc = unsafe {
            libc::getpwnam_r(
                c.as_ptr(),
                &mut pwd,
                buf.as_mut_ptr(),
                buf.len(),
                &mut found,
            )
        };
        if rc != 0 {
            return Err(rc);
        }
        Ok(Some(!found.is_null()))
    })
    .unwrap_or(false)
}

/// The id of the group of this name, from the system's group database.
pub fn group_id(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    with_buffer(|buf| {
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
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
        if rc != 0 {
            return Err(rc);
        }
        Ok((!found.is_null()).then_some(grp.gr_gid))
    })
}

/// Whether the system's group database knows a group of this name.
pub fn group_exists(name: &str) -> bool {
    group_id(name).is_some()
}

/// The name of group `gid`, if the group database has one.
pub fn group_name(gid: u32) -> Option<String> {
    with_buffer(|buf| {
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::group = std::ptr::null_mut();
        // SAFETY: getgrgid_r writes only into `grp` and `buf`, which outlive the call.
        let rc =
            unsafe { libc::getgrgid_r(gid, &mut grp, buf.as_mut_ptr(), buf.len(), &mut found) };
        if rc != 0 {
            return Err(rc);
        }
        if found.is_null() || grp.gr_name.is_null() {
            return Ok(None);
        }
        // SAFETY: a successful getgrgid_r leaves a NUL-terminated name in `buf`.
        let n = unsafe { CStr::from_ptr(grp.gr_name) };
        Ok(n.to_str()
            .ok()
            .filter(|s| !s.is_empty())
            .map(str::to_string))
    })
}

/// Every group the user belongs to, from the group database.
fn group_ids(user: &str, gid: u32) -> Vec<u32> {
    let Ok(name) = std::ffi::CString::new(user) else {
        return Vec::new();
    };
    let mut n: libc::c_int = 64;
    loop {
        let mut groups = vec![0 as libc::gid_t; n as usize];
        let want = n;
        // SAFETY: `groups` has room for `n` entries; getgrouplist writes at most that many
        // and sets `n` to how many there are.
        let rc = unsafe { libc::getgrouplist(name.as_ptr(), gid, groups.as_mut_ptr(), &mut n) };
        if rc >= 0 {
            groups.truncate(n.max(0) as usize);
            return groups;
        }
        if n <= want || n > 65_536 {
            return Vec::new();
        }
    }
}

/// The name this client gives its station when none is set: the host, the terminal, and
/// for an SSH session the client's address (`SSH_CONNECTION`): `dock1:pts/3@10.1.2.3`.
pub fn default_station_name(hostname: &str) -> String {
    let ssh = ssh_client_address();
    let tty = tty_name();
    let mut name = hostname.to_string();
    if let Some(t) = tty {
        name.push(':');
        name.push_str(t.trim_start_matches("/dev/"));
    }
    if let Some(a) = ssh {
        name.push('@');
        name.push_str(&a);
    }
    name
}

/// A station name and the SSH client address a session reported, as one station string
/// (`handheld-3@10.1.2.3`): what the client sends the server, so records keep both. The
/// address comes from `SSH_CONNECTION` (`ssh`), which the client's environment sets: a
/// claim, shown as one. A name that already ends in that address is left as it is (the
/// default name has it), and the name is cut so the whole stays a valid station name.
pub fn with_ssh_address(name: &str, ssh: Option<&str>) -> String {
    let Some(addr) = ssh
        .and_then(|v| v.split_whitespace().next())
        .filter(|a| a.parse::<std::net::IpAddr>().is_ok())
    else {
        return name.to_string();
    };
    if ssh_claim(name).1 == Some(addr) {
        return name.to_string();
    }
    let room = lotline_domain::text::MAX_STATION_CHARS.saturating_sub(addr.chars().count() + 1);
    let short: String = name.chars().take(room).collect();
    format!("{short}@{addr}")
}

/// A station string split into its name and the SSH client address it carries, if its
/// last `@` is followed by an IP address (see [`with_ssh_address`]).
pub fn ssh_claim(station: &str) -> (&str, Option<&str>) {
    match station.rsplit_once('@') {
        Some((name, addr)) if !name.is_empty() && addr.parse::<std::net::IpAddr>().is_ok() => {
            (name, Some(addr))
        }
        _ => (station, None),
    }
}

/// The SSH client's address, from `SSH_CONNECTION` (sshd sets it; it names a station,
/// never a user).
pub fn ssh_client_address() -> Option<String> {
    std::env::var("SSH_CONNECTION")
        .ok()
        .and_then(|v| v.split_whitespace().next().map(str::to_string))
}

/// This process's terminal (`/dev/pts/3`), if its standard input is one.
pub fn tty_name() -> Option<String> {
    // SAFETY: ttyname_r writes a NUL-terminated name into `buf` on success.
    let mut buf = [0 as libc::c_char; 256];
    let rc = unsafe { libc::ttyname_r(0, buf.as_mut_ptr(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let n = unsafe { CStr::from_ptr(buf.as_ptr()) };
    n.to_str().ok().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_user_and_groups() {
        let me = Identity::current();
        assert!(!me.user.is_empty());
        assert!(!me.groups.is_empty(), "{me:?}");
        // The same uid looked up again gives the same name.
        let again = Identity::of(me.uid, unsafe { libc::getgid() });
        assert_eq!(again.user, me.user);
    }

    #[test]
    fn a_socket_peer_is_who_connected() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        assert_eq!(Identity::of_peer(&a).unwrap().uid, Identity::current().uid);
        assert_eq!(PeerCred::of(&a).unwrap().pid, std::process::id());
    }

    #[test]
    fn a_named_station_keeps_the_ssh_address_it_was_reached_from() {
        let conn = Some("10.1.2.3 52144 10.1.2.1 22");
        assert_eq!(with_ssh_address("handheld-3", conn), "handheld-3@10.1.2.3");
        assert_eq!(
            ssh_claim("handheld-3@10.1.2.3"),
            ("handheld-3", Some("10.1.2.3"))
        );
        // The default name carries it already; a local session has none.
        assert_eq!(
            with_ssh_address("vm:pts/8@10.1.2.3", conn),
            "vm:pts/8@10.1.2.3"
        );
        assert_eq!(with_ssh_address("dock-1", None), "dock-1");
        // Not an address: left alone, and a name with an @ of its own is not split.
        assert_eq!(with_ssh_address("dock-1", Some("; rm -rf")), "dock-1");
        assert_eq!(ssh_claim("qa@office"), ("qa@office", None));
        let v6 = Some("2001:db8::7 52144 2001:db8::1 22");
        let long = "a".repeat(64);
        let both = with_ssh_address(&long, v6);
        assert!(
            both.ends_with("@2001:db8::7") && both.chars().count() <= 64,
            "{both}"
        );
        assert!(lotline_domain::text::station_name(&both, "station").is_ok());
    }

    #[test]
    fn unknown_uids_are_named_by_number() {
        assert_eq!(
            Identity::of(4_000_000_000, 4_000_000_000).user,
            "uid:4000000000"
        );
    }
}
