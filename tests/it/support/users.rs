//! What the tests that play a second Unix user share: making the user, and checking they
//! can reach the binary.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

/// One test at a time may create users (useradd locks /etc/passwd).
static USERS: Mutex<()> = Mutex::new(());

/// A system user for the test, created when missing (root only): `(uid, gid)`, or why not,
/// for the test to print as `SKIPPED: …`.
pub fn test_user(name: &str) -> Result<(u32, u32), String> {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Err("it needs root to create a second Unix user".into());
    }
    let _one = USERS.lock().unwrap_or_else(|p| p.into_inner());
    let id = |flag: &str| -> Option<u32> {
        let o = Command::new("id").arg(flag).arg(name).output().ok()?;
        String::from_utf8(o.stdout).ok()?.trim().parse().ok()
    };
    if id("-u").is_none() {
        let made = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ])
            .status();
        if !made.map(|s| s.success()).unwrap_or(false) {
            return Err(format!("useradd could not create the test user {name}"));
        }
    }
    match (id("-u"), id("-g")) {
        (Some(u), Some(g)) => Ok((u, g)),
        _ => Err(format!("no uid for {name}")),
    }
}

/// Whether other users can reach `file` (every folder above it lets them through).
pub fn reachable_by_others(file: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let mut at = Some(file.to_path_buf());
    while let Some(d) = at {
        let mode = std::fs::metadata(&d).map_err(|e| e.to_string())?.mode();
        if mode & 0o001 == 0 {
            return Err(format!("{} is not reachable by other users", d.display()));
        }
        at = d
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty());
    }
    Ok(())
}
