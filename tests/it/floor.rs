//! A plant going live, as the floor meets it: a client and a server of different versions
//! (a distinct exit code and what to run), the audit an auditor reads (master data added,
//! plant settings and QA users changed, attempts the roles refused, each with who and
//! where, and the lot a receipt made), and QA checking and backing up a plant whose file
//! only the service may read. Real `lotline` processes with explicit environments; nothing
//! here reads /etc/lotline, the user's HOME or LOTLINE_* from the ambient environment.

use lotline_station::wire::{self, Hello, PROTOCOL, Welcome};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// The hermetic `lotline` with a home of the test's and a station name; no SSH session
/// unless the test gives one.
fn lotline(home: &Path) -> Command {
    let mut c = crate::support::lotline();
    c.env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("LOTLINE_STATION", "test-station");
    c
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A socket that answers every handshake with a refusal from a server of `protocol`.
fn server_of_protocol(socket: &Path, protocol: u32) {
    let listener = UnixListener::bind(socket).unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let Ok(Some(_)) = wire::read_frame::<Hello>(&mut conn) else {
                continue;
            };
            let _ = wire::write_frame(
                &mut conn,
                &Welcome::Refused {
                    protocol,
                    message: format!("this server speaks protocol {protocol}"),
                },
            );
        }
    });
}

#[test]
fn a_client_and_server_of_different_versions_name_both_and_exit_76() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("plant.redb");
    lotline_store::Store::open(&db, true)
        .unwrap()
        .close()
        .unwrap();
    for (server, says) in [
        (
            PROTOCOL - 1,
            "the server still runs an older lotline. After installing a new lotline, restart the server: `systemctl restart lotline`",
        ),
        (
            PROTOCOL + 1,
            "this program is older than the server. Quit and start lotline again",
        ),
    ] {
        let socket = dir.path().join(format!("p{server}.sock"));
        server_of_protocol(&socket, server);
        let run = || {
            let mut c = lotline(dir.path());
            c.arg("--db").arg(&db).arg("--socket").arg(&socket).args([
                "receive",
                "--item",
                "FLOUR",
                "--supplier",
                "MILL",
                "--supplier-lot",
                "V-1",
                "--qty",
                "1",
            ]);
            c.output().unwrap()
        };
        let o = run();
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(76), "{err}");
        assert!(
            err.contains(&format!(
                "the plant's server speaks protocol {server} and this lotline ({}) protocol {PROTOCOL}",
                env!("CARGO_PKG_VERSION")
            )) && err.contains(says),
            "{err}"
        );
    }
}

/// A server on a temp plant with a roles file, for one user who is first its admin.
struct Served {
    dir: tempfile::TempDir,
    db: PathBuf,
    socket: PathBuf,
    roles: PathBuf,
    server: Child,
}

impl Served {
    fn new(roles: &str) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("plant.redb");
        let socket = dir.path().join("plant.sock");
        let roles_file = dir.path().join("roles.toml");
        std::fs::write(&roles_file, roles).unwrap();
        let server = Self::spawn(&dir, &db, &socket, &roles_file, &[]);
        Served {
            dir,
            db,
            socket,
            roles: roles_file,
            server,
        }
    }

    fn spawn(
        dir: &tempfile::TempDir,
        db: &Path,
        socket: &Path,
        roles: &Path,
        extra: &[&str],
    ) -> Child {
        let mut serve = lotline(dir.path());
        serve
            .arg("serve")
            .arg("--db")
            .arg(db)
            .arg("--socket")
            .arg(socket)
            .arg("--roles")
            .arg(roles)
            .arg("--create")
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        crate::support::serve(&mut serve, socket)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = lotline(self.dir.path());
        c.arg("--db")
            .arg(&self.db)
            .arg("--socket")
            .arg(&self.socket)
            .args(args);
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.cmd(args).output().unwrap();
        let (out, err) = text(&o);
        assert!(o.status.success(), "lotline {args:?}: {err}");
        out.trim().to_string()
    }

    /// Replace the roles; the server reads them again when the file's time changes.
    fn set_roles(&self, roles: &str) {
        std::fs::write(&self.roles, roles).unwrap();
        let later = std::time::SystemTime::now() + Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&self.roles)
            .unwrap()
            .set_modified(later)
            .unwrap();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        unsafe { libc::kill(self.server.id() as i32, libc::SIGTERM) };
        let _ = self.server.wait();
    }
}

use crate::support::{bin, me};

#[test]
fn the_audit_names_additions_settings_and_refusals_with_who_and_where() {
    let p = Served::new(&format!("admin = [\"{}\"]\n", me()));
    // Master data and the plant's settings, by the admin.
    p.ok(&["item", "add", "FLOUR", "--name", "Flour", "--unit", "kg"]);
    p.ok(&[
        "party", "add", "MILL", "--name", "Mill Co", "--role", "supplier",
    ]);
    p.ok(&[
        "plant",
        "set",
        "--name",
        "Test Bakery",
        "--qa-users",
        "quinn",
    ]);
    // A receipt from a handheld reached over SSH.
    let o = p
        .cmd(&[
            "receive",
            "--item",
            "FLOUR",
            "--supplier",
            "MILL",
            "--supplier-lot",
            "SSH-1",
            "--qty",
            "25",
        ])
        .env("LOTLINE_STATION", "handheld-3")
        .env("SSH_CONNECTION", "10.9.8.7 52144 10.0.0.1 22")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o).1);
    let lot = text(&o).0.trim().to_string();
    // Now an operator: a hold is refused, and kept for the audit.
    p.set_roles("default = \"operator\"\n");
    let o = p
        .cmd(&["hold", &lot, "--reason", "looks wet"])
        .env("LOTLINE_STATION", "dock-2")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(77), "{}", text(&o).1);
    let audit: serde_json::Value = serde_json::from_str(&p.ok(&["audit", "--json"])).unwrap();
    let rows = audit.as_array().unwrap();
    let find = |kind: &str, what: &str| {
        rows.iter()
            .find(|r| r["kind"] == kind && r["what"].as_str().unwrap().contains(what))
            .unwrap_or_else(|| panic!("no {kind} row with {what:?} in {rows:#?}"))
    };
    let item = find("item_added", "item FLOUR added: Flour");
    assert_eq!(item["operator"], me().as_str());
    assert_eq!(item["station"], "test-station");
    find("party_added", "party MILL added: Mill Co");
    let settings = find("settings", "QA users: (none) → quinn");
    assert!(
        settings["what"]
            .as_str()
            .unwrap()
            .contains("name: Unnamed plant → Test Bakery"),
        "{settings}"
    );
    assert_eq!(settings["operator"], me().as_str());
    // The receipt names the lot it made, in words and in its own field, and keeps both
    // the station's name and the SSH address it claimed.
    let receipt = find(
        "event",
        &format!("received lot {lot}: 25 kg FLOUR from MILL (supplier lot SSH-1)"),
    );
    assert_eq!(receipt["lot"], lot.as_str());
    assert_eq!(receipt["station"], "handheld-3");
    assert_eq!(receipt["ssh_client_claimed"], "10.9.8.7");
    // The refusal: who, from where, what, why; no event was made.
    let refused = find("refused", &format!("REFUSED hold lot {lot}"));
    assert_eq!(refused["operator"], me().as_str());
    assert_eq!(refused["station"], "dock-2");
    assert_eq!(refused["lot"], lot.as_str());
    assert_eq!(refused["event"], serde_json::Value::Null);
    assert!(
        refused["what"]
            .as_str()
            .unwrap()
            .contains(&format!("{} is an operator here and this needs QA", me())),
        "{refused}"
    );
    assert!(
        !rows
            .iter()
            .any(|r| r["kind"] == "event" && r["what"].as_str().unwrap().contains("looks wet")),
        "{rows:#?}"
    );
    // The words say the same, with the SSH address marked as the claim it is.
    let words = p.ok(&["audit"]);
    assert!(
        words.contains("handheld-3@10.9.8.7") && words.contains("a claim, not checked"),
        "{words}"
    );
    assert!(
        words.contains(&format!("REFUSED hold lot {lot}")),
        "{words}"
    );
    // `--lot` finds the refusal with the lot's events; the lot's own history does not
    // carry it (it is no traceability record).
    let by_lot = p.ok(&["audit", "--lot", &lot]);
    assert!(by_lot.contains("REFUSED hold"), "{by_lot}");
    assert!(!p.ok(&["lot", &lot]).contains("REFUSED"));
}

/// A second Unix user for the QA tests who can reach the binary, or `None` after saying
/// why the test is skipped.
fn test_user(name: &str) -> Option<(u32, u32)> {
    match crate::support::test_user(name)
        .and_then(|ids| crate::support::reachable_by_others(&bin()).map(|()| ids))
    {
        Ok(ids) => Some(ids),
        Err(why) => {
            eprintln!("SKIPPED: QA through the server: {why}");
            None
        }
    }
}

#[test]
fn qa_checks_and_backs_up_through_the_server_a_file_they_cannot_read() {
    let user = "lotline-test-qa";
    let Some((uid, gid)) = test_user(user) else {
        return;
    };
    // The service layout in small: the database in a folder only its owner enters, the
    // socket in a folder others reach.
    let top = tempfile::tempdir().unwrap();
    std::fs::set_permissions(top.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let private = top.path().join("lib");
    std::fs::create_dir(&private).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    let run = top.path().join("run");
    std::fs::create_dir(&run).unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = top.path().join("qa-home");
    std::fs::create_dir(&out).unwrap();
    std::os::unix::fs::chown(&out, Some(uid), Some(gid)).unwrap();
    let db = private.join("plant.redb");
    let socket = run.join("plant.sock");
    let roles = top.path().join("roles.toml");
    std::fs::write(
        &roles,
        format!("admin = [\"{}\"]\nqa = [\"{user}\"]\n", me()),
    )
    .unwrap();
    let mut server = Served::spawn(&top, &db, &socket, &roles, &["--socket-mode", "666"]);
    let admin = |args: &[&str]| {
        let o = lotline(top.path())
            .arg("--db")
            .arg(&db)
            .arg("--socket")
            .arg(&socket)
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{args:?}: {}", text(&o).1);
        text(&o).0.trim().to_string()
    };
    admin(&["item", "add", "FLOUR", "--name", "Flour", "--unit", "kg"]);
    admin(&[
        "party", "add", "MILL", "--name", "Mill Co", "--role", "supplier",
    ]);
    let lot = admin(&[
        "receive",
        "--item",
        "FLOUR",
        "--supplier",
        "MILL",
        "--supplier-lot",
        "QA-1",
        "--qty",
        "25",
    ]);
    let as_qa = |args: &[&str]| {
        lotline(&out)
            .arg("--db")
            .arg(&db)
            .arg("--socket")
            .arg(&socket)
            .args(args)
            .uid(uid)
            .gid(gid)
            .output()
            .unwrap()
    };
    // QA cannot read the file: check says so, asks the server, and finds nothing wrong.
    let o = as_qa(&["check"]);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("{user} cannot read {}", db.display()))
            && stdout.contains("running the check through the plant's server")
            && stdout.contains("all consistent")
            && !stdout.contains("PROBLEM"),
        "{stdout}"
    );
    let o = as_qa(&["check", "--json"]);
    let j: serde_json::Value = serde_json::from_str(&text(&o).0).unwrap();
    assert_eq!(j["ok"], true, "{j}");
    // Another file QA cannot read is not reported as problems either.
    let o = as_qa(&["check", private.join("other.redb").to_str().unwrap()]);
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr.contains("that says nothing about the file itself") && !stderr.contains("problem"),
        "{stderr}"
    );
    // QA's backup: the server's verified copy, written by QA into QA's own folder.
    let copy = out.join("plant-copy.redb");
    let o = as_qa(&["backup", copy.to_str().unwrap()]);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("SHA-256 matches"), "{stdout}");
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(&copy).unwrap();
    assert_eq!(meta.uid(), uid, "the copy is QA's own file");
    assert_eq!(meta.mode() & 0o777, 0o600);
    // It is the plant: it checks clean and holds the lot.
    let o = lotline(top.path())
        .arg("--db")
        .arg(&copy)
        .args(["lot", &lot])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o).1);
    // No copy is left on the server's side.
    let left: Vec<_> = std::fs::read_dir(&private)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("copy"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // An existing file is never overwritten.
    let o = as_qa(&["backup", copy.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o).1);
    // As an operator, the same user may not take the whole plant away.
    std::fs::write(
        &roles,
        format!("admin = [\"{}\"]\ndefault = \"operator\"\n", me()),
    )
    .unwrap();
    std::fs::File::options()
        .write(true)
        .open(&roles)
        .unwrap()
        .set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    let o = as_qa(&["backup", out.join("second.redb").to_str().unwrap()]);
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(77), "{stderr}");
    assert!(
        stderr.contains("a backup through the server needs QA"),
        "{stderr}"
    );
    assert!(!out.join("second.redb").exists());
    let audit = admin(&["audit", "--operator", user]);
    assert!(
        audit.contains("REFUSED take a backup through the server"),
        "{audit}"
    );
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    let _ = server.wait();
}
