//! The app on a live plant: keys a role may not use, a hold arriving from another station
//! while a batch is open, the header on a handheld with an SSH station name, and a server
//! of another version answering the reconnect.

use super::*;
use crate::keymap::ScreenId;
use crate::queue::Level;
use lotline_station::wire::{self, ClientMsg, Hello, PROTOCOL, ServerMsg, Welcome};
use lotline_station::{Actor, Link, Notice, Reply, Request, Station, StationError};
use ratatui::crossterm::event::KeyCode;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn status(app: &App) -> (Level, String) {
    let s = app.status.clone().expect("a status line");
    (s.level, s.text)
}

#[test]
fn a_greyed_key_opens_nothing_and_says_who_may() {
    let p = plant();
    let held = p.held_sugar.clone();
    let (_dir, clerk) = clerk_on(p);
    let mut a = app_on(&clerk);
    a.handle(Input::code(KeyCode::F(6)), &clerk);
    for i in Input::typed(held.as_str()) {
        a.handle(i, &clerk);
    }
    a.handle(Input::code(KeyCode::Enter), &clerk);
    a.handle(Input::code(KeyCode::Enter), &clerk);
    assert!(a.lots.history.is_some(), "the held lot is open");
    // u releases: greyed for an operator.
    let footer = screen(&a, 80, 24);
    assert!(footer.contains("u release"), "{footer}");
    a.handle(Input::code(KeyCode::Char('u')), &clerk);
    assert!(
        a.lots.prompt.is_none(),
        "no reason is asked for what will be refused"
    );
    assert!(!a.wants_text(), "the keys do not go to a hidden field");
    let (level, text) = status(&a);
    assert_eq!(level, Level::Error);
    assert!(
        text.starts_with("u (release) needs the QA role: cory is an operator here"),
        "{text}"
    );
    // Typing on carries no reason anywhere; the lot stays held.
    for i in Input::typed("ok now") {
        a.handle(i, &clerk);
    }
    assert!(a.lots.prompt.is_none());
    assert_eq!(clerk.lot(held.clone()).unwrap().status, LotStatus::Hold);
    // Made QA while the app is open: the same key now opens the release, no restart.
    let mut plant = clerk.plant().unwrap();
    plant.qa_users.push("cory".into());
    let (stamp, today) = (
        lotline_station::testing::stamp(),
        lotline_station::testing::today(),
    );
    clerk
        .store()
        .apply(lotline_station::Command::SetPlant(plant), &stamp, today)
        .unwrap();
    a.handle(Input::code(KeyCode::Char('u')), &clerk);
    assert!(a.lots.prompt.is_some(), "{:?}", a.status);
    assert_eq!(a.role, lotline_station::Role::Admin);
}

#[test]
fn a_hold_on_a_lot_in_the_open_batch_shows_on_its_line_at_once() {
    let p = plant();
    let mut a = app(&p);
    keys(&mut a, &p, [Input::code(KeyCode::F(3))]);
    for t in ["dough", "", "", "", "", "", p.sugar.as_str(), "20"] {
        typed(&mut a, &p, t);
        keys(&mut a, &p, [Input::code(KeyCode::Enter)]);
    }
    assert_eq!(a.produce.entry.lines.len(), 1, "{:?}", a.status);
    let before = screen(&a, 80, 24);
    assert!(!before.contains("HOLD"), "{before}");
    // QA holds the sugar at another station; the server's notice reaches this app.
    let ev =
        p.st.set_status(StatusChange {
            lot: p.sugar.clone(),
            to: LotStatus::Hold,
            date: today(),
            reason: "metal detector".into(),
        })
        .unwrap();
    a.notice(
        Notice::Changed {
            station: "qa-office".into(),
            events: vec![ev],
        },
        &p.st,
    );
    let full = screen(&a, 80, 24);
    let line = full
        .lines()
        .find(|l| l.contains(p.sugar.as_str()) && l.contains("20 kg"))
        .unwrap_or_else(|| panic!("{full}"));
    assert!(line.contains("HOLD"), "{line}");
    let (level, text) = status(&a);
    assert_eq!(level, Level::Warn);
    assert!(
        text.contains(&format!("line 1: lot {} is on hold", p.sugar))
            && text.contains("remove that line"),
        "{text}"
    );
    let compact = screen(&a, 40, 16);
    assert!(compact.contains("HOLD"), "{compact}");
    // The same notice with nothing new about the batch says nothing more.
    a.status = None;
    a.notice(
        Notice::Changed {
            station: "dock-2".into(),
            events: vec![],
        },
        &p.st,
    );
    assert!(a.status.is_none(), "{:?}", a.status);
}

/// A station that says it reaches the database as `link` (the app asks only that of it
/// for the header) and otherwise is the plant's own.
struct Linked<'a> {
    st: &'a Local,
    link: Link,
}

impl Station for Linked<'_> {
    fn call(&self, request: Request) -> Result<Reply, StationError> {
        self.st.call(request)
    }
    fn link(&self) -> Link {
        self.link.clone()
    }
}

#[test]
fn the_handheld_header_keeps_the_user_and_the_link_before_the_station() {
    let p = plant();
    let Plant { dir, st, .. } = p;
    drop(st);
    let ssh = Local::open(
        &dir.path().join("plant.redb"),
        false,
        "ana",
        "vm:pts/8@127.0.0.1",
    )
    .unwrap()
    .with_clock(lotline_station::Clock::Fixed(
        "2026-11-21T09:00:00Z".parse().unwrap(),
    ));
    for (link, word) in [
        (Link::Server { pid: 7 }, "server"),
        (Link::Lost, "offline"),
        (Link::Refused, "refused"),
    ] {
        let st = Linked {
            st: &ssh,
            link: link.clone(),
        };
        let a = App::new(Keymap::default_map(), Theme::new(false, false), now(), &st);
        let text = screen(&a, 40, 16);
        let header = text.lines().next().unwrap();
        assert!(
            header.contains(&format!("ana · {word} · 09:00")),
            "{header}"
        );
        if link == (Link::Server { pid: 7 }) {
            snap("header_ssh_station", &a, (40, 16));
            // Wide enough, the station is named too.
            let wide = screen(&a, 80, 24);
            assert!(
                wide.lines()
                    .next()
                    .unwrap()
                    .contains("ana@vm:pts/8@127.0.0.1 · server · 2026-11-21 09:00"),
                "{wide}"
            );
        }
    }
    // A user name too long for the handheld is cut, never dropped.
    ssh.close().unwrap();
    let long = Local::open(
        &dir.path().join("plant.redb"),
        false,
        "maria-de-los-angeles-fernandez",
        "dock-1",
    )
    .unwrap()
    .with_clock(lotline_station::Clock::Fixed(
        "2026-11-21T09:00:00Z".parse().unwrap(),
    ));
    let st = Linked {
        st: &long,
        link: Link::Lost,
    };
    let a = App::new(Keymap::default_map(), Theme::new(false, false), now(), &st);
    let text = screen(&a, 40, 16);
    let header = text.lines().next().unwrap();
    assert!(header.contains("maria-de"), "{header}");
    assert!(header.contains("· offline · 09:00"), "{header}");
}

/// A lotline server as far as the wire goes: the first connection is accepted and its
/// calls answered by `st`; it is then closed, and every later connection is refused with
/// protocol `refuse_as` — `PROTOCOL + 1` as a server upgraded and restarted under the app
/// would, `PROTOCOL` as one whose roles no longer name the user. Counts the connections
/// it was offered.
fn refusing_server(
    socket: std::path::PathBuf,
    st: Local,
    hang_up: Arc<Mutex<Option<UnixStream>>>,
    refuse_as: u32,
) -> Arc<AtomicUsize> {
    let listener = UnixListener::bind(&socket).unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    std::thread::spawn(move || {
        let st = Arc::new(Mutex::new(st));
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let n = count.fetch_add(1, Ordering::SeqCst);
            let Ok(Some(_hello)) = wire::read_frame::<Hello>(&mut conn) else {
                continue;
            };
            if n > 0 {
                let _ = wire::write_frame(
                    &mut conn,
                    &Welcome::Refused {
                        protocol: refuse_as,
                        message: if refuse_as == PROTOCOL {
                            "ana has no role here; ask the plant's admin".into()
                        } else {
                            format!("this server speaks protocol {refuse_as}")
                        },
                    },
                );
                continue;
            }
            let _ = wire::write_frame(
                &mut conn,
                &Welcome::Accepted {
                    actor: Actor {
                        operator: "ana".into(),
                        station: "dock-1".into(),
                        role: lotline_station::Role::Admin,
                    },
                    server_pid: std::process::id(),
                },
            );
            *hang_up.lock().unwrap() = conn.try_clone().ok();
            let st = st.clone();
            std::thread::spawn(move || {
                while let Ok(Some(msg)) = wire::read_frame::<ClientMsg>(&mut conn) {
                    if let ClientMsg::Call { id, request } = msg {
                        let result = st.lock().unwrap().call(request);
                        if wire::write_frame(&mut conn, &ServerMsg::Reply { id, result }).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    seen
}

#[test]
fn a_server_of_another_version_stops_the_reconnecting_and_says_what_to_do() {
    let p = plant();
    let Plant { dir, st, .. } = p;
    let socket = dir.path().join("plant.redb.sock");
    let hang_up = Arc::new(Mutex::new(None));
    let seen = refusing_server(socket.clone(), st, hang_up.clone(), PROTOCOL + 1);
    let remote = lotline_station::remote::Remote::connect(&socket, "dock-1").unwrap();
    let notices = remote.notices().expect("a remote has notices");
    let mut a = App::new(
        Keymap::default_map(),
        Theme::new(false, false),
        now(),
        &remote,
    );
    assert_eq!(
        a.link,
        Link::Server {
            pid: std::process::id()
        }
    );
    // Something typed on Receive, to be kept.
    typed_on(&mut a, &remote, "flour");
    // The server goes away (stopped for the upgrade) ...
    let conn = hang_up.lock().unwrap().take().expect("connected");
    conn.shutdown(std::net::Shutdown::Both).unwrap();
    // ... and the app hears of it, then of the refusal of the new one.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut refused = None;
    while refused.is_none() && Instant::now() < deadline {
        if let Ok(n) = notices.recv_timeout(Duration::from_millis(100)) {
            if let Notice::Refused { retrying, .. } = &n {
                refused = Some(*retrying);
            }
            a.notice(n, &remote);
        }
    }
    assert_eq!(
        refused,
        Some(false),
        "the app is told it will not reconnect"
    );
    let (level, text) = status(&a);
    assert_eq!(level, Level::Error);
    assert!(
        text.contains(&format!(
            "the plant's server speaks protocol {} and this lotline",
            PROTOCOL + 1
        )) && text.contains(&format!("protocol {PROTOCOL}"))
            && text.contains("Quit and start lotline again")
            && text.contains("Not reconnecting"),
        "{text}"
    );
    assert_eq!(a.link, Link::Refused);
    let header = screen(&a, 80, 24);
    assert!(
        header.lines().next().unwrap().contains("refused"),
        "{header}"
    );
    assert!(!header.contains("reconnecting"), "{header}");
    assert_eq!(
        a.receive.form.value("item"),
        "flour",
        "the typed form is kept"
    );
    // A call now fails with the same advice, at once, not "try again in a moment".
    let e = remote
        .call(Request::Query(lotline_station::Query::Today))
        .unwrap_err();
    assert_eq!(e.kind, lotline_station::ErrorKind::Version);
    assert!(e.message.contains("Quit and start lotline again"), "{e}");
    // No more attempts: the old loop tried again every 0.2 to 2 s for ever. Two seconds
    // more would have seen at least one.
    let after = seen.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        seen.load(Ordering::SeqCst),
        after,
        "it stopped reconnecting"
    );
    assert_eq!(after, 2, "one refused reconnect was enough");
}

fn typed_on(a: &mut App, st: &dyn Station, text: &str) {
    assert_eq!(a.screen, ScreenId::Receive);
    for i in Input::typed(text) {
        a.handle(i, st);
    }
}

#[test]
fn a_reconnect_refused_for_the_user_says_why_and_keeps_trying() {
    let p = plant();
    let Plant { dir, st, .. } = p;
    let socket = dir.path().join("plant.redb.sock");
    let hang_up = Arc::new(Mutex::new(None));
    let seen = refusing_server(socket.clone(), st, hang_up.clone(), PROTOCOL);
    let remote = lotline_station::remote::Remote::connect(&socket, "dock-1").unwrap();
    let notices = remote.notices().expect("a remote has notices");
    let mut a = App::new(
        Keymap::default_map(),
        Theme::new(false, false),
        now(),
        &remote,
    );
    let conn = hang_up.lock().unwrap().take().expect("connected");
    conn.shutdown(std::net::Shutdown::Both).unwrap();
    // The refusal's words reach the screen once, and the client goes on trying: the
    // admin may give the role back without anyone restarting anything.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut told = 0;
    while Instant::now() < deadline && (told == 0 || seen.load(Ordering::SeqCst) < 4) {
        if let Ok(n) = notices.recv_timeout(Duration::from_millis(100)) {
            if let Notice::Refused { retrying, .. } = &n {
                assert!(*retrying);
                told += 1;
            }
            a.notice(n, &remote);
        }
    }
    assert_eq!(told, 1, "said once, not at every attempt");
    assert!(seen.load(Ordering::SeqCst) >= 4, "it keeps trying");
    let (level, text) = status(&a);
    assert_eq!(level, Level::Error);
    assert!(
        text.contains("ana has no role here; ask the plant's admin")
            && text.contains("Still trying"),
        "{text}"
    );
    assert_eq!(a.link, Link::Lost);
}

/// A terminal that was frozen long enough for the server to drop it takes the server's word
/// and the reconnect on waking, perhaps at once: what it typed stays, the status says it
/// was dropped and after how long, and the reconnect says it again so it is not missed.
#[test]
fn a_station_dropped_for_silence_says_so_and_again_when_back() {
    let p = plant();
    let mut a = App::new(
        Keymap::default_map(),
        Theme::new(false, false),
        now(),
        &p.st,
    );
    typed_on(&mut a, &p.st, "FLO");
    a.notice(Notice::Dropped { silent_secs: 30 }, &p.st);
    let (level, text) = status(&a);
    assert_eq!(level, Level::Warn);
    assert!(
        text.contains("dropped this station after 30 s without an answer; reconnecting"),
        "{text}"
    );
    a.notice(Notice::Back, &p.st);
    let (level, text) = status(&a);
    assert_eq!(level, Level::Ok);
    assert!(
        text.starts_with("Reconnected; the server had dropped this station after 30 s"),
        "{text}"
    );
    assert!(screen(&a, 80, 24).contains("FLO"), "the typed text stays");
    // Said once: a later reconnect is an ordinary one.
    a.notice(Notice::Lost, &p.st);
    a.notice(Notice::Back, &p.st);
    assert_eq!(status(&a).1, "Reconnected to the server.");
}
