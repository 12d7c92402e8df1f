//! Several stations on one database: a real `lotline serve` on a Unix socket in a temp
//! folder, real `lotline` client processes writing and reading at the same time, clients
//! and the server killed mid-write, garbage on the socket, and a second Unix user refused
//! by role. Nothing here asserts a time.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Plant, Served, bin, lotline, me};

/// A new plant with its server running, and the master data the tests use.
fn plant() -> Served {
    let mut p = Served::new(Plant::empty());
    p.serve(&["--create"]);
    p.ok(&["item", "add", "FLOUR", "--name", "Flour", "--unit", "kg"]);
    p.ok(&[
        "item",
        "add",
        "DOUGH",
        "--name",
        "Dough",
        "--unit",
        "kg",
        "--kind",
        "intermediate",
    ]);
    p.ok(&[
        "party", "add", "MILL", "--name", "Mill Co", "--role", "supplier",
    ]);
    p.ok(&[
        "party", "add", "SHOP", "--name", "Shop", "--role", "customer",
    ]);
    p
}

impl Served {
    fn check_clean(&self) {
        let r = self.run(&["check"]);
        assert_eq!(r.code, 0, "check found problems: {}", r.text());
    }
}

#[test]
fn eight_clients_write_at_once_and_every_acknowledged_lot_is_there() {
    let p = plant();
    let writers: Vec<_> = (0..8)
        .map(|w| {
            // Each client process receives several lots in a row, as a dock would.
            let script = (0..6)
                .map(|i| {
                    format!(
                        "{bin} --db {db} --station dock-{w} receive --item FLOUR --supplier MILL --supplier-lot M{w}-{i} --qty 10 || exit 1",
                        bin = bin().display(),
                        db = p.db.display()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            crate::support::shell(&script)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    // Readers at the same time: traces and listings never fail while stations write.
    let reader = {
        let script = (0..10)
            .map(|_| {
                format!(
                    "{bin} --db {db} lots --json > /dev/null || exit 1",
                    bin = bin().display(),
                    db = p.db.display()
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        crate::support::shell(&script)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut acknowledged = Vec::new();
    for w in writers {
        let o = w.wait_with_output().unwrap();
        assert!(
            o.status.success(),
            "a writer failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        acknowledged.extend(
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_string),
        );
    }
    let r = reader.wait_with_output().unwrap();
    assert!(
        r.status.success(),
        "a reader failed: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert_eq!(acknowledged.len(), 48);
    let lots = p.json(&["lots", "--json"]);
    let lots = lots.as_array().unwrap();
    assert_eq!(lots.len(), 48);
    for code in &acknowledged {
        let h = p.json(&["lot", code, "--json"]);
        let text = h.to_string();
        assert!(text.contains(&format!("\"{}\"", me())), "{code}: {text}");
        assert!(text.contains("dock-"), "{code}: {text}");
    }
    // The audit trail names each station that wrote, and narrows to one lot.
    let audit = p.json(&["audit", "--operator", &me(), "--limit", "1000", "--json"]);
    let audit = audit.as_array().unwrap();
    for w in 0..8 {
        let n = audit
            .iter()
            .filter(|e| e["station"] == format!("dock-{w}").as_str())
            .count();
        assert_eq!(n, 6, "dock-{w} in {audit:?}");
    }
    let one = p.json(&["audit", "--lot", &acknowledged[0], "--json"]);
    assert_eq!(one.as_array().unwrap().len(), 1, "{one}");
    assert!(one[0]["what"].as_str().unwrap().contains("eceive"), "{one}");
    // Every lot code is distinct: no two transactions handed out the same one.
    let mut codes = acknowledged.clone();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), 48);
    p.check_clean();
}

#[test]
fn a_killed_client_or_server_loses_nothing_acknowledged() {
    let mut p = plant();
    // Clients killed at random points of a write: whatever they got an answer for stays.
    for round in 0..6u64 {
        let mut c = p
            .cmd(&[
                "receive",
                "--item",
                "FLOUR",
                "--supplier",
                "MILL",
                "--supplier-lot",
                &format!("K{round}"),
                "--qty",
                "5",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(3 * round));
        let _ = c.kill();
        let _ = c.wait();
    }
    p.check_clean();
    // The server killed -9 during a burst of writes from three clients.
    let burst: Vec<Child> = (0..3)
        .map(|w| {
            let script = (0..40)
                .map(|i| {
                    format!(
                        "{bin} --db {db} receive --item FLOUR --supplier MILL --supplier-lot B{w}-{i} --qty 1 || true",
                        bin = bin().display(),
                        db = p.db.display()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            crate::support::shell(&script)
                .env("LOTLINE_STATION", format!("line-{w}"))
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    std::thread::sleep(Duration::from_millis(400));
    p.kill9();
    let mut acknowledged = Vec::new();
    for b in burst {
        let o = b.wait_with_output().unwrap();
        acknowledged.extend(
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_string),
        );
    }
    // Clients after the kill started a server of their own; stop it, and check the file
    // as the writer opens it again.
    if let Some(pid) = lotline_station::server::served_by(&p.socket) {
        unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while p.socket.exists() {
            assert!(
                Instant::now() < deadline,
                "the restarted server did not stop"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    p.serve(&[]);
    p.check_clean();
    for code in &acknowledged {
        p.ok(&["lot", code]);
    }
    assert!(!acknowledged.is_empty(), "no write was acknowledged at all");
}

#[test]
fn garbage_oversized_and_foreign_frames_are_refused_and_the_server_carries_on() {
    let p = plant();
    let read_all = |mut s: UnixStream| {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        buf
    };
    // Not a handshake at all.
    let mut s = UnixStream::connect(&p.socket).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let reply = read_all(s);
    assert!(String::from_utf8_lossy(&reply).contains("not a lotline handshake"));
    // A frame announcing 4 GiB.
    let mut s = UnixStream::connect(&p.socket).unwrap();
    s.write_all(&u32::MAX.to_le_bytes()).unwrap();
    let reply = read_all(s);
    assert!(String::from_utf8_lossy(&reply).contains("larger than"));
    // Another protocol version.
    let mut s = UnixStream::connect(&p.socket).unwrap();
    let hello = lotline_station::wire::Hello {
        magic: *b"lotline",
        protocol: 999,
        station: "x".into(),
    };
    lotline_station::wire::write_frame(&mut s, &hello).unwrap();
    let reply = read_all(s);
    assert!(String::from_utf8_lossy(&reply).contains(&format!(
        "protocol {} and the client 999",
        lotline_station::wire::PROTOCOL
    )));
    // A good handshake, then garbage: an error frame and the connection closed.
    let mut s = UnixStream::connect(&p.socket).unwrap();
    lotline_station::wire::write_frame(&mut s, &lotline_station::wire::Hello::new("x")).unwrap();
    let _: lotline_station::wire::Welcome =
        lotline_station::wire::read_frame(&mut s).unwrap().unwrap();
    s.write_all(&[3, 0, 0, 0, 0xff, 0xff, 0xff]).unwrap();
    let reply = read_all(s);
    assert!(String::from_utf8_lossy(&reply).contains("could not be decoded"));
    // A client that dies half-way through a frame.
    let mut s = UnixStream::connect(&p.socket).unwrap();
    s.write_all(&[100, 0, 0, 0, 1, 2]).unwrap();
    drop(s);
    // The server still serves.
    p.ok(&[
        "receive",
        "--item",
        "FLOUR",
        "--supplier",
        "MILL",
        "--supplier-lot",
        "AFTER",
        "--qty",
        "1",
    ]);
    p.check_clean();
}

#[test]
fn one_server_per_database_and_sigterm_closes_cleanly() {
    let mut p = plant();
    let pid = lotline_station::server::served_by(&p.socket).unwrap();
    let second = p.serve_cmd(&[]).output().unwrap();
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains(&format!("already served by lotline serve (pid {pid})")),
        "{err}"
    );
    // The file opened directly while the server has it: who holds it, and what to do.
    let o = p.output(&[
        "--no-server",
        "receive",
        "--item",
        "FLOUR",
        "--supplier",
        "MILL",
        "--supplier-lot",
        "X",
        "--qty",
        "1",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("lotline serve (pid {pid})")), "{err}");
    assert!(err.contains("without --no-server"), "{err}");
    let (status, _) = p.stop();
    assert!(status.success(), "{status}");
    assert!(!p.socket.exists());
    // Closed cleanly: a read-only open needs no recovery.
    lotline_store::Store::open_read_only(&p.db).unwrap();
    // A server started by a client leaves once its clients have been gone a while.
    let mut idle = p.serve_cmd(&["--idle-exit", "1"]).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(s) = idle.try_wait().unwrap() {
            assert!(s.success());
            break;
        }
        assert!(Instant::now() < deadline, "the idle server did not leave");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_operator_is_who_connected_and_roles_refuse_what_they_do_not_allow() {
    let user = "lotline-test-op";
    let (uid, gid) = match crate::support::test_user(user)
        .and_then(|ids| crate::support::reachable_by_others(&bin()).map(|()| ids))
    {
        Ok(ids) => ids,
        Err(why) => {
            eprintln!("SKIPPED: the role test: {why}");
            return;
        }
    };
    let mut p = plant();
    // A plant whose folder others may enter, with a roles file: root is admin, anyone
    // else who can reach the socket an operator.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let roles = p.dir.path().join("roles.toml");
    std::fs::write(
        &roles,
        format!("admin = [\"{}\"]\ndefault = \"operator\"\n", me()),
    )
    .unwrap();
    p.stop();
    p.serve(&["--roles", roles.to_str().unwrap(), "--socket-mode", "666"]);
    let lot = p.ok(&[
        "receive",
        "--item",
        "FLOUR",
        "--supplier",
        "MILL",
        "--supplier-lot",
        "R1",
        "--qty",
        "10",
    ]);
    let as_other = |args: &[&str]| {
        p.cmd(args)
            .env("LOTLINE_STATION", "handheld-7")
            .env("HOME", "/")
            .uid(uid)
            .gid(gid)
            .output()
            .unwrap()
    };
    // The operator may receive; the record names them, not whoever they claim to be.
    let o = as_other(&[
        "receive",
        "--item",
        "FLOUR",
        "--supplier",
        "MILL",
        "--supplier-lot",
        "R2",
        "--qty",
        "4",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let theirs = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let h = p.json(&["lot", &theirs, "--json"]).to_string();
    assert!(h.contains(&format!("\"{user}\"")), "{h}");
    assert!(h.contains("handheld-7"), "{h}");
    // Holding is QA's: refused, with who may, and nothing stored.
    let o = as_other(&["hold", &lot, "--reason", "looks wet"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("{user} is an operator here and this needs QA")),
        "{err}"
    );
    let status = p.json(&["lot", &lot, "--json"]).to_string();
    assert!(!status.contains("looks wet"), "{status}");
    // The admin may.
    p.ok(&["hold", &lot, "--reason", "looks wet"]);
    // The audit trail: what the other user did, from where; the refusal left no event,
    // only its own audit line.
    let theirs = p.json(&["audit", "--operator", user, "--json"]);
    let theirs = theirs.as_array().unwrap();
    let events: Vec<_> = theirs.iter().filter(|r| r["kind"] == "event").collect();
    assert_eq!(events.len(), 1, "{theirs:?}");
    assert_eq!(events[0]["station"], "handheld-7");
    let refused: Vec<_> = theirs.iter().filter(|r| r["kind"] == "refused").collect();
    assert_eq!(refused.len(), 1, "{theirs:?}");
    assert_eq!(refused[0]["lot"], lot.as_str());
    // A check of the whole plant through the server holds every lot in memory: QA's, not
    // the operator's, who cannot read the file (0600, root's) to check it alone either.
    let o = as_other(&["check"]);
    assert_eq!(
        o.status.code(),
        Some(77),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("needs QA"), "{err}");
    assert!(!err.contains("problem"), "a refusal is not damage: {err}");
    p.check_clean();
}

/// `serve --backup-dir`: today's verified copy is taken at start while stations write,
/// it is a whole plant `check` passes, and a restore is a copy of it.
#[test]
fn the_server_keeps_a_daily_backup_that_checks_clean_and_restores() {
    let mut p = plant();
    let flour = p.ok(&[
        "receive",
        "--item",
        "FLOUR",
        "--supplier",
        "MILL",
        "--supplier-lot",
        "B-1",
        "--qty",
        "25",
    ]);
    p.stop();
    let dir = p.dir.path().join("backups");
    // A folder that cannot take backups is refused before the server serves.
    let bad = p
        .serve_cmd(&["--backup-dir", p.db.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("--backup-dir"), "{err}");
    p.serve(&["--backup-dir", dir.to_str().unwrap(), "--keep", "3"]);
    // The copy is named for the server's local day. The server's zone is the machine's,
    // not the TZ of the shell that runs the tests, so the test does not work the day out
    // itself: any plant-YYYY-MM-DD.redb will do.
    let deadline = Instant::now() + Duration::from_secs(30);
    let backup = loop {
        let named_for_a_day = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|f| {
                let name = f.file_name().unwrap().to_string_lossy();
                name.strip_prefix("plant-")
                    .and_then(|n| n.strip_suffix(".redb"))
                    .is_some_and(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok())
            });
        if let Some(b) = named_for_a_day {
            break b;
        }
        assert!(Instant::now() < deadline, "no backup appeared in {dir:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    // Stations keep working meanwhile.
    p.ok(&[
        "receive",
        "--item",
        "FLOUR",
        "--supplier",
        "MILL",
        "--supplier-lot",
        "B-2",
        "--qty",
        "5",
    ]);
    p.stop();
    let o = p.output(&["check", backup.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Restore: the copy put in place of the plant's file, and the lot is there.
    let restored = p.dir.path().join("restored.redb");
    std::fs::copy(&backup, &restored).unwrap();
    let o = lotline()
        .args(["--no-server", "--db"])
        .arg(&restored)
        .args(["lot", &flour])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("B-1"));
}

/// The server walks traces in its in-memory link graph; `--no-server` and read-only opens
/// walk redb. On a generated plant both give the same trace, every way, for every lot —
/// and still after new batches are committed through the server.
#[test]
fn traces_through_the_server_graph_match_the_redb_walk() {
    use lotline_domain::Direction;
    use lotline_domain::LotFilter;
    use lotline_station::StationExt;
    use lotline_store::Store;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gen.redb");
    let o = lotline()
        .args(["--no-server", "--db"])
        .arg(&db)
        .args(["generate", "--lots", "1500", "--seed", "7"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let socket = lotline_station::remote::socket_path(&db);
    let log = dir.path().join("serve.log");
    // A page cache too small to work with is refused before anything opens.
    let o = lotline()
        .args(["serve", "--cache-mb", "1", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--cache-mb"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The smallest cache allowed: traces come from the graph and lot pages from the
    // operating system, and must still be the redb walk's, before and after writes.
    let mut server = lotline()
        .args(["serve", "--cache-mb", "4", "--db"])
        .arg(&db)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let remote = loop {
        if let Ok(r) = lotline_station::remote::Remote::connect(&socket, "graph-test") {
            break r;
        }
        assert!(Instant::now() < deadline, "the server did not come up");
        std::thread::sleep(Duration::from_millis(50));
    };
    let compare = |remote: &lotline_station::remote::Remote| {
        let local = Store::open_read_only(&db).unwrap();
        let lots = local.find_lots(&LotFilter::default()).unwrap();
        assert!(lots.len() >= 1500, "{}", lots.len());
        for lot in lots.iter().step_by(7) {
            for d in [Direction::Backward, Direction::Forward, Direction::Both] {
                let walked = local.trace(&lot.code, d).unwrap();
                let served = remote.trace(lot.code.clone(), d).unwrap();
                assert_eq!(served, walked, "{} {d:?}", lot.code);
            }
            let walked = local.recall_scope(&lot.code).unwrap();
            assert_eq!(remote.recall_scope(lot.code.clone()).unwrap(), walked);
        }
    };
    // The server did build its graph (and says how big it is).
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(said.contains("link graph: "), "{said}");
    compare(&remote);
    drop(remote);
    // Refreshed after commits: a new batch from two lots, through the server.
    let p = |args: &[&str]| {
        let o = lotline()
            .arg("--db")
            .arg(&db)
            .args(args)
            .env("LOTLINE_STATION", "graph-test")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let local = Store::open_read_only(&db).unwrap();
    let items = local.items().unwrap();
    let output = items
        .iter()
        .find(|i| i.kind == lotline_domain::ItemKind::Finished)
        .expect("a finished item");
    let inputs: Vec<String> = local
        .find_lots(&LotFilter::default())
        .unwrap()
        .into_iter()
        .filter(|l| {
            l.status == lotline_domain::LotStatus::Released
                && l.balance.milli() >= 2_000
                && l.item != output.code
        })
        .take(2)
        .map(|l| format!("{}=1", l.code))
        .collect();
    assert_eq!(inputs.len(), 2);
    drop(local);
    let mut args = vec!["produce", "--item", output.code.as_str(), "--qty", "3"];
    for i in &inputs {
        args.extend(["--input", i.as_str()]);
    }
    // Two lots of whatever is on hand: off the product's recipe, so let in with QA's
    // reason, as a trial batch would be.
    args.extend([
        "--allow-expired",
        "--ref",
        "WO:9001",
        "--override-reason",
        "trial batch for the graph test",
    ]);
    let batch = p(&args);
    let remote = lotline_station::remote::Remote::connect(&socket, "graph-test").unwrap();
    compare(&remote);
    let code = lotline_domain::LotCode::parse(&batch, "lot").unwrap();
    let t = remote.trace(code, Direction::Backward).unwrap();
    assert!(
        t.links.len() >= 2,
        "the new batch's links are in the graph: {t:?}"
    );
    drop(remote);
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    server.wait().unwrap();
}
