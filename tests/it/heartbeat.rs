//! Dead sessions noticed: a real `lotline serve` pings quiet stations and drops one that
//! answers nothing (the app frozen with SIGSTOP, its socket still open), which leaves the
//! stations list Help shows; an idle app that answers stays; the frozen app, woken, says
//! what happened and reconnects. The server runs with short heartbeat times
//! (`--ping-secs 1 --drop-after-secs 3`); waits are generous polls, never durations.

use crate::support::pty::Term;
use crate::support::{Plant, Served};
use lotline_station::StationExt;
use lotline_station::remote::Remote;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(90);

fn stations(watcher: &Remote) -> Vec<String> {
    watcher
        .stations()
        .expect("the stations list")
        .into_iter()
        .map(|s| s.station)
        .collect()
}

/// Poll the stations list until `ok`; fail showing the list if it never is.
fn wait_until(watcher: &Remote, what: &str, ok: impl Fn(&[String]) -> bool) -> Vec<String> {
    let start = Instant::now();
    loop {
        let now = stations(watcher);
        if ok(&now) {
            return now;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "waited {PATIENCE:?} for {what}; the stations list is {now:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) of the app this test started.
    let r = unsafe { libc::kill(pid as libc::pid_t, sig) };
    assert_eq!(r, 0, "signal {sig} to the app (pid {pid})");
}

#[test]
fn a_frozen_app_is_dropped_and_leaves_the_stations_list_and_an_idle_one_stays() {
    let mut p = Served::new(Plant::empty());
    std::fs::create_dir_all(p.home().join("config")).unwrap();
    p.serve(&["--create", "--ping-secs", "1", "--drop-after-secs", "3"]);
    // Master data, so the app opens on Receive rather than the guided start.
    p.ok(&["item", "add", "FLOUR", "--name", "Flour", "--unit", "kg"]);
    p.ok(&[
        "party", "add", "MILL", "--name", "Mill Co", "--role", "supplier",
    ]);
    // An idle station: connected, answering pings, sending nothing of its own.
    let idle = Remote::connect_to(&p.db, &p.socket, "idle-office").expect("connect");
    let mut app = Term::start(&p, &[], &[("LOTLINE_STATION", "hh-3")], 80, 24);
    app.wait_for("Receive a case");
    let watcher = Remote::connect_to(&p.db, &p.socket, "watcher").expect("connect");
    wait_until(&watcher, "the app in the list", |s| {
        s.iter().any(|n| n == "hh-3")
    });
    // Frozen: the process stopped, its connection open and unread.
    signal(app.pid(), libc::SIGSTOP);
    let left = wait_until(&watcher, "the frozen app to be dropped", |s| {
        !s.iter().any(|n| n == "hh-3")
    });
    // The idle station answered its pings all along and is still there, and served.
    assert!(left.iter().any(|n| n == "idle-office"), "{left:?}");
    assert!(
        stations(&idle).iter().any(|n| n == "idle-office"),
        "the idle station could not ask"
    );
    // Woken, the app says the server dropped it, reconnects, and is listed again.
    signal(app.pid(), libc::SIGCONT);
    let screen = app.wait("the app back on the server", |s| s.contains("Reconnected"));
    let said = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        said.contains("dropped this station after 3 s without an answer"),
        "{screen}"
    );
    wait_until(&watcher, "the app listed again", |s| {
        s.iter().any(|n| n == "hh-3")
    });
    app.send("\x03");
    assert_eq!(app.exit(), 0);
    // Quitting leaves the shell its cursor (the app's painter hid it while it drew).
    let start = Instant::now();
    loop {
        let raw = String::from_utf8_lossy(&app.raw_output()).into_owned();
        let (shown, out) = (raw.rfind("\x1b[?25h"), raw.rfind("\x1b[?1049l"));
        if out.is_some() {
            // Shown on the way out: after bracketed paste is turned off, before the screen.
            let paste_off = raw.rfind("\x1b[?2004l");
            assert!(
                shown > paste_off && shown < out,
                "cursor not shown on the way out: {raw:?}"
            );
            break;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "the app never left the screen: {raw:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop((idle, watcher));
    let (_, log) = p.stop();
    assert!(
        log.contains("answered nothing, not even a ping, for 3 s"),
        "the server's log does not say why it dropped the app:\n{log}"
    );
}

/// The two times are checked together: a drop time no longer than the ping time would drop
/// stations before asking them.
#[test]
fn a_drop_time_not_longer_than_the_ping_time_is_refused() {
    let p = Plant::empty();
    let r = p.run(&[
        "serve",
        "--create",
        "--ping-secs",
        "10",
        "--drop-after-secs",
        "10",
    ]);
    assert_ne!(r.code, 0);
    assert!(!p.db.exists(), "the refused server made the database");
    assert!(
        r.text().contains("must be more than --ping-secs"),
        "{}",
        r.text()
    );
}
