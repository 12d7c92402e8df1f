//! `lotline doctor`: checks a deployment from where it runs — the config, the database
//! and its folder, the socket and the server behind it, the roles file, the backup folder,
//! and who the caller is there — and prints each problem with the command that fixes it.
//! It reads and connects; it never writes anything.

use super::args::Cli;
use super::{Failure, Kind, Res};
use lotline_station::identity::Identity;
use lotline_station::site::Site;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

/// One thing looked at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// What was checked: config, database, folder, socket, server, roles, backups, you.
    pub what: &'static str,
    pub ok: bool,
    /// What was found, in a line.
    pub detail: String,
    /// The command (or step) that fixes a problem.
    pub fix: Option<String>,
}

fn ok(what: &'static str, detail: impl Into<String>) -> Finding {
    Finding {
        what,
        ok: true,
        detail: detail.into(),
        fix: None,
    }
}

fn problem(what: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Finding {
    Finding {
        what,
        ok: false,
        detail: detail.into(),
        fix: Some(fix.into()),
    }
}

#[derive(clap::Args, Debug)]
pub struct DoctorArgs {
    /// Print JSON for scripts (see README "JSON output").
    #[arg(long)]
    pub json: bool,
}

/// `doctor` when the config itself does not read: that first, then what can be checked
/// without it.
pub fn run_without_config(cli: &Cli, config_problem: &str) -> Res {
    let fix = if config_problem.contains("cannot be read") {
        "make it a readable regular file (`chmod 644` it; it holds no secrets), then run `lotline doctor` again"
    } else {
        "correct the file (the message names the line and column), then run `lotline doctor` again"
    };
    let mut findings = vec![problem("config", config_problem.to_string(), fix)];
    // Without the config, where the plant is stays unknown: checking this user's personal
    // plant instead would advise making one, the very thing the config is there to prevent.
    // Only a database named on the command line or in LOTLINE_DB is looked at.
    if let Some(db) = cli.db.clone().or_else(super::paths::env_db_path) {
        findings.extend(examine(cli, &db, None));
    }
    finish(cli, &mut std::io::stdout().lock(), &findings)
}

pub fn run(cli: &Cli, out: &mut impl Write, db: &Path) -> Res {
    let mut findings = vec![config_finding(&cli.site)];
    findings.extend(examine(cli, db, Some(&cli.site)));
    finish(cli, out, &findings)
}

fn json(cli: &Cli) -> bool {
    matches!(&cli.command, Some(super::args::Cmd::Doctor(a)) if a.json)
}

fn finish(cli: &Cli, out: &mut impl Write, findings: &[Finding]) -> Res {
    let problems = findings.iter().filter(|f| !f.ok).count();
    if json(cli) {
        let v = serde_json::json!({ "problems": problems, "findings": findings });
        super::json::write(out, &v)?;
    } else {
        let me = Identity::current();
        writeln!(
            out,
            "lotline doctor: the setup as {} (uid {}, groups {}) sees it",
            me.user,
            me.uid,
            me.groups.join(", ")
        )?;
        for f in findings {
            writeln!(
                out,
                "{:<8} {:<9} {}",
                if f.ok { "ok" } else { "PROBLEM" },
                f.what,
                f.detail
            )?;
            if let Some(fix) = &f.fix {
                writeln!(out, "{:<8} {:<9} {fix}", "", "fix:")?;
            }
        }
        match problems {
            0 => writeln!(out, "No problems found.")?,
            1 => writeln!(out, "1 problem found.")?,
            n => writeln!(out, "{n} problems found.")?,
        }
    }
    if problems > 0 {
        return Err(Failure::new(
            Kind::Problems,
            format!(
                "doctor found {problems} problem{} (listed above)",
                if problems == 1 { "" } else { "s" }
            ),
        ));
    }
    Ok(())
}

fn config_finding(site: &Site) -> Finding {
    match (&site.file, &site.db) {
        (Some(f), Some(db)) => ok(
            "config",
            format!("{} names the plant {}", f.display(), db.display()),
        ),
        (Some(f), None) => ok(
            "config",
            format!(
                "{} names no database: clients use --db, LOTLINE_DB or their personal plant",
                f.display()
            ),
        ),
        (None, _) => ok(
            "config",
            format!(
                "no system config ({} absent): a personal plant; a plant shared by stations has one",
                lotline_station::site::SYSTEM_CONFIG
            ),
        ),
    }
}

fn mode(m: u32) -> String {
    format!("{:04o}", m & 0o7777)
}

use lotline_station::identity::user_name;

fn group_name(gid: u32) -> String {
    lotline_station::identity::group_name(gid).unwrap_or_else(|| format!("gid:{gid}"))
}

fn examine(cli: &Cli, db: &Path, site: Option<&Site>) -> Vec<Finding> {
    let me = Identity::current();
    let mut v = Vec::new();
    let service = site.is_some_and(|s| s.is_plant(db) && s.service);
    // The database and its folder.
    let db_owner = match std::fs::metadata(db) {
        Ok(m) => {
            let others = m.mode() & 0o077;
            let who = user_name(m.uid());
            if !m.is_file() {
                v.push(problem(
                    "database",
                    format!("{} is not a regular file", db.display()),
                    "point the config's `db` (or --db) at the plant's .redb file",
                ));
            } else if others != 0 {
                v.push(problem(
                    "database",
                    format!(
                        "{} is {} (owner {who}): others can read the records without the server's roles",
                        db.display(),
                        mode(m.mode())
                    ),
                    format!("chmod 600 {}", db.display()),
                ));
            } else {
                v.push(ok(
                    "database",
                    format!("{} (owner {who}, {})", db.display(), mode(m.mode())),
                ));
            }
            Some(m.uid())
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            // A clerk cannot see into the service's private folder; that is as it should
            // be, and the server's answer below says the rest.
            v.push(ok(
                "database",
                format!(
                    "{} is in a folder {} may not enter (as it should be for a service plant)",
                    db.display(),
                    me.user
                ),
            ));
            None
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            v.push(problem(
                "database",
                format!("no database at {}", db.display()),
                if service {
                    "create the plant as the service user: `runuser -u lotline -- lotline init` (see README \"Several stations\")".to_string()
                } else {
                    "`lotline init` creates a plant there (or give --db the right file)".to_string()
                },
            ));
            None
        }
        Err(e) => {
            v.push(problem(
                "database",
                format!("{}: {e}", db.display()),
                "check the path and the disk",
            ));
            None
        }
    };
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(m) = std::fs::metadata(dir)
        && db_owner.is_some()
    {
        if m.mode() & 0o077 != 0 && service {
            v.push(problem(
                "folder",
                format!(
                    "{} is {}: the service's folder is its own (0700)",
                    dir.display(),
                    mode(m.mode())
                ),
                format!("chmod 700 {}", dir.display()),
            ));
        } else if m.mode() & 0o002 != 0 && m.mode() & 0o1000 == 0 {
            v.push(problem(
                "folder",
                format!(
                    "{} is writable by everyone: anyone could replace the plant's files",
                    dir.display()
                ),
                format!("chmod o-w {}", dir.display()),
            ));
        } else {
            v.push(ok(
                "folder",
                format!(
                    "{} (owner {}, {})",
                    dir.display(),
                    user_name(m.uid()),
                    mode(m.mode())
                ),
            ));
        }
    }
    // The socket and the server behind it.
    let socket = cli
        .socket
        .clone()
        .or_else(|| site.and_then(|s| s.socket_for(db)))
        .unwrap_or_else(|| lotline_station::remote::socket_path(db));
    let group = site.and_then(|s| s.group.clone().filter(|_| s.is_plant(db)));
    match std::fs::symlink_metadata(&socket) {
        Ok(m) if !m.file_type().is_socket() => v.push(problem(
            "socket",
            format!("{} is not a socket", socket.display()),
            format!(
                "remove it (`rm {}`) and restart the server",
                socket.display()
            ),
        )),
        Ok(m) => {
            let g = group_name(m.gid());
            let wrong_group = group.as_ref().is_some_and(|want| *want != g);
            if wrong_group {
                v.push(problem(
                    "socket",
                    format!(
                        "{} belongs to group {g}, not the plant's group {}",
                        socket.display(),
                        group.as_deref().unwrap_or_default()
                    ),
                    "restart the service (`systemctl restart lotline`): the server sets the socket's group at start",
                ));
            } else {
                v.push(ok(
                    "socket",
                    format!(
                        "{} (owner {}, group {g}, {})",
                        socket.display(),
                        user_name(m.uid()),
                        mode(m.mode())
                    ),
                ));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => v.push(problem(
            "socket",
            format!("{}: {e}", socket.display()),
            "check the folder's permissions",
        )),
    }
    let (server, answering) = server_finding(db, &socket, db_owner, service, &me, group.as_deref());
    v.push(server);
    // The config and the roles file decide who may do what: nobody but their owner may
    // change them (the server takes a config's roles only then).
    if let Some(s) = site
        && let Some(file) = &s.file
        && s.others_may_write
    {
        v.push(problem(
            "config",
            format!("{} may be changed by others than its owner", file.display()),
            format!("chmod go-w {}", file.display()),
        ));
    }
    let roles = site.filter(|s| s.is_plant(db)).and_then(Site::roles_file);
    if let Some(path) = &roles
        && std::fs::metadata(path).is_ok_and(|m| m.mode() & 0o022 != 0)
    {
        v.push(problem(
            "roles",
            format!(
                "{} may be changed by others than its owner: they could make themselves admin",
                path.display()
            ),
            format!("chmod go-w {}", path.display()),
        ));
    }
    match &roles {
        Some(path) => match lotline_station::Roles::from_file(path) {
            Ok(r) => {
                let who = match r.role(&me.user, &me.groups, &[]) {
                    Ok(role) => format!("{} is {} there", me.user, role.with_article()),
                    Err(why) => format!("{} has no role there ({why})", me.user),
                };
                v.push(ok("roles", format!("{} reads; {who}", path.display())));
            }
            Err(e) => v.push(problem(
                "roles",
                e.to_string(),
                if answering {
                    format!(
                        "correct it (`lotline roles check {}` names the line and column); the running server keeps its last good roles meanwhile",
                        path.display()
                    )
                } else {
                    format!(
                        "correct it (`lotline roles check {}` names the line and column): the server will not start until it reads",
                        path.display()
                    )
                },
            )),
        },
        None => v.push(ok(
            "roles",
            "no roles file: the plant's QA users are admins, everyone else an operator",
        )),
    }
    // Backups.
    if let Some(dir) = site.and_then(|s| s.backup_dir.clone().filter(|_| s.is_plant(db))) {
        match std::fs::metadata(&dir) {
            Ok(m) if !m.is_dir() => v.push(problem(
                "backups",
                format!("{} is not a folder", dir.display()),
                "point the config's backup_dir at a folder",
            )),
            Ok(m) => {
                let owner_ok = db_owner.is_none_or(|u| u == m.uid());
                if owner_ok && m.mode() & 0o200 != 0 {
                    v.push(ok(
                        "backups",
                        format!(
                            "{} (owner {}, {})",
                            dir.display(),
                            user_name(m.uid()),
                            mode(m.mode())
                        ),
                    ));
                } else {
                    let owner = db_owner.map(user_name).unwrap_or_else(|| "lotline".into());
                    v.push(problem(
                        "backups",
                        format!(
                            "{} is owned by {} ({}): the server, running as {owner}, cannot write there",
                            dir.display(),
                            user_name(m.uid()),
                            mode(m.mode())
                        ),
                        format!("chown {owner}: {} && chmod 700 {}", dir.display(), dir.display()),
                    ));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => v.push(problem(
                "backups",
                format!("{} does not exist", dir.display()),
                format!("install -d -o lotline -g lotline -m 0700 {}", dir.display()),
            )),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => v.push(ok(
                "backups",
                format!("{} (private to the service)", dir.display()),
            )),
            Err(e) => v.push(problem(
                "backups",
                format!("{}: {e}", dir.display()),
                "check the path and the disk",
            )),
        }
    }
    v
}

/// Reach the server as this user would, without starting one, and say who it says we are.
/// The server's finding, and whether a server answered at all.
fn server_finding(
    db: &Path,
    socket: &Path,
    db_owner: Option<u32>,
    service: bool,
    me: &Identity,
    group: Option<&str>,
) -> (Finding, bool) {
    use lotline_station::remote::{ConnectError, Remote};
    let answered = |f: Finding| (f, true);
    let silent = |f: Finding| (f, false);
    match Remote::connect_to(db, socket, "lotline-doctor") {
        Ok(remote) => {
            let actor = remote.actor();
            let pid = remote.server_pid();
            let runs_as = std::fs::metadata(format!("/proc/{pid}"))
                .map(|m| m.uid())
                .ok();
            answered(match (runs_as, db_owner) {
                (Some(s), Some(o)) if s != o => problem(
                    "server",
                    format!(
                        "pid {pid} runs as {}, but the database belongs to {}",
                        user_name(s),
                        user_name(o)
                    ),
                    format!(
                        "stop it (`kill {pid}`) and start the plant's own (`systemctl start lotline`)"
                    ),
                ),
                _ => ok(
                    "server",
                    format!(
                        "pid {pid}{} answers: you are {} ({}) at {}",
                        runs_as
                            .map(|u| format!(" (running as {})", user_name(u)))
                            .unwrap_or_default(),
                        actor.operator,
                        actor.role,
                        actor.station
                    ),
                ),
            })
        }
        Err(ConnectError::NoServer(_)) if service => silent(problem(
            "server",
            format!("nothing answers on {}", socket.display()),
            "systemctl start lotline (then `journalctl -u lotline` if it does not stay up)",
        )),
        Err(ConnectError::NoServer(_)) => silent(ok(
            "server",
            format!(
                "none running on {} (a personal plant's starts with the first command)",
                socket.display()
            ),
        )),
        Err(ConnectError::Refused(m)) if m.contains("permission denied") => answered(problem(
            "server",
            format!("{} may not connect to {}", me.user, socket.display()),
            format!(
                "usermod -aG {} {} (then log in again)",
                group.unwrap_or("lotline-floor"),
                me.user
            ),
        )),
        // Answered, but this user has no role on the plant: as it should be for root and
        // the service user on a plant whose roles name only people.
        Err(ConnectError::Refused(m)) if me.uid == 0 || db_owner == Some(me.uid) => answered(ok(
            "server",
            format!(
                "answers on {}; {} has no role there ({})",
                socket.display(),
                me.user,
                lotline_domain::text::escape(&m)
            ),
        )),
        Err(ConnectError::Refused(m)) => answered(problem(
            "server",
            format!(
                "answers on {}, but refuses {}: {}",
                socket.display(),
                me.user,
                lotline_domain::text::escape(&m)
            ),
            format!(
                "the plant's admin adds {} to the roles file (`operator = [\"{}\"]`, or their @group), then `lotline roles check` it",
                me.user, me.user
            ),
        )),
        Err(e) => silent(problem(
            "server",
            lotline_domain::text::escape(&e.to_string()).into_owned(),
            "see the message; `journalctl -u lotline` has the server's side",
        )),
    }
}
