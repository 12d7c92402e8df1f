//! Nothing typed is lost (docs/server.md, "Drafts"): the real app in a pseudo-terminal at
//! 40x16, through a real `lotline serve`, types half a form; its terminal is hung up (or
//! the app killed) as a handheld's SSH session dies with the Wi-Fi; the same user starts
//! the app again at the same station and gets the form back. Drafts are never records:
//! `lots`, traces, the FDA spreadsheet, EPCIS and `check` say the same with one as
//! without.

use crate::support::pty::{ENTER, Term};
use crate::support::{Plant, Served, me};
use lotline_domain::DraftForm;

const CTRL_S: &str = "\x13";
const TAB: &str = "\t";
const F3: &str = "\x1bOR";
const F4: &str = "\x1bOS";
const STATION: &str = "hh-3";

/// A plant with its master data and a lot of flour and sugar, served.
fn served() -> Served {
    let p = Plant::empty().station(STATION);
    std::fs::create_dir_all(p.home().join("config")).unwrap();
    p.ok(&["--create", "plant", "show"]);
    for (code, unit, kind) in [
        ("FLOUR", "kg", "ingredient"),
        ("SUGAR", "kg", "ingredient"),
        ("DOUGH", "kg", "intermediate"),
    ] {
        p.ok(&[
            "item", "add", code, "--name", code, "--unit", unit, "--kind", kind,
        ]);
    }
    p.ok(&[
        "party",
        "add",
        "MILL",
        "--name",
        "Prairie Mill",
        "--role",
        "supplier",
    ]);
    p.ok(&[
        "party",
        "add",
        "SHOP",
        "--name",
        "Corner Market",
        "--role",
        "customer",
    ]);
    let mut s = Served::new(p);
    s.serve(&[]);
    s
}

fn receive(p: &Plant, item: &str, lot: &str, qty: &str) -> String {
    p.ok(&[
        "receive",
        "--item",
        item,
        "--supplier",
        "MILL",
        "--supplier-lot",
        lot,
        "--qty",
        qty,
    ])
}

/// The draft the server keeps for this user at this station, read from the file as it is
/// (read-only, beside the server).
fn kept(p: &Plant, form: DraftForm) -> Option<Vec<u8>> {
    let s = lotline_store::Store::open_read_only(&p.db).unwrap();
    s.draft(&me(), STATION, form).unwrap().map(|d| d.bytes)
}

/// Wait until the server keeps a draft of `form` (the app sends it once typing stops).
fn wait_kept(p: &Plant, form: DraftForm, t: &Term) -> Vec<u8> {
    let start = std::time::Instant::now();
    loop {
        if let Some(b) = kept(p, form) {
            return b;
        }
        if start.elapsed() > crate::support::pty::PATIENCE {
            panic!(
                "the server never kept a draft of {form:?}; the app shows:\n{}",
                t.screen()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn app(p: &Plant) -> Term {
    let t = Term::start(p, &[], &[], 40, 16);
    t.wait("the app to start", |s| {
        s.contains("Receive") || s.contains("Unsaved form")
    });
    t
}

/// Item, supplier, supplier lot and quantity typed; not saved.
fn half_a_receipt(t: &mut Term) {
    t.field("flour");
    t.field("mill");
    t.field("DROP-77");
    t.type_text("12");
}

/// The lots whose supplier lot is DROP-77.
fn drop77(p: &Plant) -> usize {
    p.ok(&["lots", "--supplier-lot", "DROP-77"])
        .lines()
        .filter(|l| l.contains("FLOUR"))
        .count()
}

/// Back as the same user at the same station: the prompt names what was typed; Enter
/// puts it back and C-s saves exactly one lot, and the draft is gone.
fn resume_and_save_the_receipt(p: &Plant) {
    let mut t = app(p);
    let s = t.wait_for("Unsaved form");
    assert!(s.contains("You were receiving"), "{s}");
    assert!(s.contains("FLOUR from MILL"), "{s}");
    assert!(s.contains("DROP-77, 12"), "{s}");
    t.send(ENTER);
    t.wait("the fields back", |s| {
        !s.contains("Unsaved form") && s.contains("DROP-77") && s.contains("12")
    });
    t.send(CTRL_S);
    t.wait("the receipt saved", |s| s.contains("Received"));
    assert_eq!(
        drop77(p),
        1,
        "{}",
        p.ok(&["lots", "--supplier-lot", "DROP-77"])
    );
    assert_eq!(kept(p, DraftForm::Receive), None, "saving ends the draft");
    t.send("\x03");
    assert_eq!(t.exit(), 0);
}

#[test]
#[ignore = "slow tier: cargo test -- --ignored"]
fn a_hung_up_handheld_comes_back_to_its_half_typed_receipt() {
    let p = served();
    let mut t = app(&p);
    half_a_receipt(&mut t);
    // The Wi-Fi gone: the terminal hangs up under the app, which sends its draft and
    // leaves.
    t.hang_up();
    t.exit();
    assert!(kept(&p, DraftForm::Receive).is_some());
    assert_eq!(drop77(&p), 0);
    resume_and_save_the_receipt(&p);
}

/// SIGKILLs the app when dropped, if it is still there: the process with that pid
/// whose command line names this plant's database (a pid can be reused once it ended).
struct KillOnDrop(u32, std::path::PathBuf);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let Ok(cmdline) = std::fs::read(format!("/proc/{}/cmdline", self.0)) else {
            return;
        };
        let db = self.1.as_os_str().as_encoded_bytes();
        if cmdline.split(|&b| b == 0).any(|arg| arg == db) {
            // SAFETY: plain kill(2) of the app this test started.
            unsafe { libc::kill(self.0 as i32, libc::SIGKILL) };
        }
    }
}

/// The Wi-Fi gone for real: the terminal itself hangs up under the app (every copy of
/// its far end closed), whether the app leads the terminal's session and so gets the
/// kernel's SIGHUP, or runs under a shell that gets it instead (`sh -c`, tmux, screen, a
/// login script), when no signal reaches the app at all. Either way it sees the terminal
/// is gone, sends its draft and leaves: it neither keeps reading a dead terminal nor
/// stays behind.
#[test]
#[ignore = "slow tier: cargo test -- --ignored"]
fn a_terminal_that_hangs_up_under_the_app_sends_its_draft_and_the_app_leaves() {
    for under_a_shell in [false, true] {
        let p = served();
        let mut t = if under_a_shell {
            Term::start_under_a_shell(&p, &[], 40, 16)
        } else {
            Term::start(&p, &[], &[], 40, 16)
        };
        t.wait("the app to start", |s| s.contains("Receive"));
        let app = if under_a_shell {
            let c = t.children();
            assert_eq!(c.len(), 1, "the shell runs the app: {c:?}");
            c[0]
        } else {
            t.pid()
        };
        // Should the app stay behind, the test does not leave it running.
        let _reaper = KillOnDrop(app, p.db.clone());
        half_a_receipt(&mut t);
        t.hang_up_terminal();
        t.wait_ended(app);
        assert!(
            kept(&p, DraftForm::Receive).is_some(),
            "under a shell: {under_a_shell}"
        );
        assert_eq!(drop77(&p), 0);
        resume_and_save_the_receipt(&p);
    }
}

#[test]
#[ignore = "slow tier: cargo test -- --ignored"]
fn a_killed_app_comes_back_to_its_last_sent_draft_even_after_a_server_restart() {
    let mut p = served();
    let mut t = app(&p);
    half_a_receipt(&mut t);
    wait_kept(&p, DraftForm::Receive, &t);
    t.kill9();
    t.exit();
    // The draft is in the file, not only the server's memory.
    p.stop();
    p.serve(&[]);
    resume_and_save_the_receipt(&p);
}

#[test]
#[ignore = "slow tier: cargo test -- --ignored"]
fn a_batch_with_two_inputs_and_an_order_come_back_with_their_lines() {
    let p = served();
    let flour = receive(&p, "FLOUR", "F-1", "100");
    let sugar = receive(&p, "SUGAR", "S-1", "50");
    let mut t = app(&p);
    t.press(F3, "Output item");
    t.field("dough");
    // No reference, second document or reason for none; no line; today.
    for _ in 0..5 {
        t.field("");
    }
    t.field(&flour);
    t.field("10");
    t.field(&sugar);
    t.field("5");
    t.wait("two input lines", |s| {
        s.contains(&flour) && s.contains(&sugar)
    });
    t.press(F4, "Customer");
    t.field("shop");
    t.field("BOL:77");
    // No second document, no reason for none, today, no item hint.
    for _ in 0..4 {
        t.field("");
    }
    t.field(&sugar);
    t.field("5");
    t.wait_for("On this order: 1 lot");
    wait_kept(&p, DraftForm::Produce, &t);
    wait_kept(&p, DraftForm::Ship, &t);
    t.hang_up();
    t.exit();
    // Back: the order (newest) first, then the batch; both taken.
    let mut t = app(&p);
    t.wait_for("You were shipping");
    t.send(ENTER);
    t.wait_for("You were making");
    t.send(ENTER);
    t.wait("the batch back with its lines", |s| {
        !s.contains("Unsaved form") && s.contains(&flour) && s.contains(&sugar)
    });
    // The cursor is on the next input lot, where it was: on to the output quantity.
    t.send(TAB);
    t.send(TAB);
    t.type_text("15");
    t.send(CTRL_S);
    t.wait("the batch closed", |s| s.contains("Batch closed"));
    assert_eq!(kept(&p, DraftForm::Produce), None);
    let batches = p.ok(&["lots", "--item", "DOUGH"]);
    assert_eq!(
        batches.lines().filter(|l| l.contains("DOUGH")).count(),
        1,
        "{batches}"
    );
    // The order, back with its line: saved once.
    // At 40x16 the form keeps its cursor's end in view: the order's line, not its
    // reference.
    t.press(F4, "On this order: 1 lot");
    t.send(CTRL_S);
    t.wait("the order shipped", |s| s.contains("Shipped 1 lot"));
    assert_eq!(kept(&p, DraftForm::Ship), None);
    let lots = p.json(&["lots", "--json"]);
    let balance = lots
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lot"] == sugar.as_str())
        .map(|l| l["balance"].clone());
    // 50 received, 5 into the batch, 5 shipped: each once.
    assert_eq!(balance, Some(serde_json::json!(40)), "{lots}");
    t.send("\x03");
    t.exit();
}

#[test]
#[ignore = "slow tier: cargo test -- --ignored"]
fn a_second_live_session_of_the_same_user_does_not_take_the_first_ones_draft() {
    let p = served();
    let mut first = app(&p);
    half_a_receipt(&mut first);
    let before = wait_kept(&p, DraftForm::Receive, &first);
    // The same user at the same station, while the first is still open: asked, not
    // handed the draft.
    let mut second = app(&p);
    let s = second.wait_for("Open elsewhere");
    assert!(s.contains("Your other lotline at hh-3"), "{s}");
    assert!(s.contains("keeps it"), "{s}");
    second.send(ENTER);
    second.wait("an empty form", |s| !s.contains("Open elsewhere"));
    second.type_text("sugar");
    second.wait("the second session told its typing is not kept", |s| {
        s.contains("keeps this form's draft")
    });
    assert_eq!(kept(&p, DraftForm::Receive), Some(before));
    second.send("\x03");
    second.send("\x03");
    second.exit();
    first.send("\x03");
    first.send("\x03");
    first.exit();
}

/// A draft kept is in none of the plant's records: every read says the same with it as
/// without it.
#[test]
#[ignore = "slow tier: cargo test -- --ignored"]
fn a_draft_is_in_no_list_trace_export_or_check() {
    let p = served();
    let flour = receive(&p, "FLOUR", "F-1", "100");
    let reads = |p: &Plant| -> Vec<String> {
        let fda = p.path("fda");
        let epcis = p.path("epcis.json");
        let _ = std::fs::remove_dir_all(&fda);
        let _ = std::fs::remove_file(&epcis);
        p.ok(&["fsma", "--all", "--csv", fda.to_str().unwrap()]);
        p.ok(&["epcis", "export", "--all", "--out", epcis.to_str().unwrap()]);
        // The sheets, not the page saying when they were made.
        let mut sheets: Vec<String> = std::fs::read_dir(&fda)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|f| f.extension().is_some_and(|x| x == "csv"))
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect();
        sheets.sort();
        assert!(!sheets.is_empty());
        // The document's events, not when it was made.
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&epcis).unwrap()).unwrap();
        let mut out = vec![
            p.ok(&["lots", "--json"]),
            p.ok(&["trace", &flour, "--json"]),
            p.ok(&["check"]),
            doc["epcisBody"].to_string(),
        ];
        out.extend(sheets);
        out
    };
    let without = reads(&p);
    let mut t = app(&p);
    half_a_receipt(&mut t);
    wait_kept(&p, DraftForm::Receive, &t);
    assert_eq!(reads(&p), without);
    t.send("\x03");
    t.send("\x03");
    t.exit();
}

#[test]
fn a_draft_sent_through_the_server_is_kept_in_the_file() {
    use lotline_station::{Command, Request, Station};
    let p = served();
    let r = lotline_station::remote::Remote::connect(&p.socket, STATION).unwrap();
    let sent = r.call(Request::Command(Command::SaveDraft(
        lotline_domain::DraftSave {
            form: DraftForm::Receive,
            bytes: vec![1, 2, 3],
            session: 0,
        },
    )));
    assert!(sent.is_ok(), "{sent:?}");
    assert_eq!(kept(&p, DraftForm::Receive), Some(vec![1, 2, 3]));
}

/// The attacker: a floor user who connects under a new station name for every draft
/// (the name is the client's to give). The server keeps their newest drafts up to the
/// plant's bound and no more.
#[test]
fn a_user_inventing_station_names_cannot_make_the_server_keep_drafts_without_end() {
    use lotline_station::{Command, Request, Station};
    let p = served();
    let names = lotline_domain::MAX_DRAFTS_PER_USER + 9;
    for i in 0..names {
        let r = lotline_station::remote::Remote::connect(&p.socket, &format!("made-up-{i:02}"))
            .unwrap();
        let sent = r.call(Request::Command(Command::SaveDraft(
            lotline_domain::DraftSave {
                form: DraftForm::Ship,
                bytes: vec![7; 1024],
                session: 0,
            },
        )));
        assert!(sent.is_ok(), "{sent:?}");
    }
    let s = lotline_store::Store::open_read_only(&p.db).unwrap();
    let now = chrono::Utc::now();
    let kept = s.drafts_of(&me(), now, 744).unwrap();
    assert_eq!(kept.len(), lotline_domain::MAX_DRAFTS_PER_USER);
    // The newest is among them; the first names' are gone.
    let last = format!("made-up-{:02}", names - 1);
    assert!(kept.iter().any(|d| d.stamp.station == last));
    assert!(
        s.draft(&me(), "made-up-00", DraftForm::Ship)
            .unwrap()
            .is_none()
    );
}

/// The plant's draft hours: shown, changed within bounds, kept for the audit.
#[test]
fn the_plant_says_how_long_drafts_are_kept() {
    let p = Plant::empty();
    p.ok(&["--create", "plant", "show"]);
    assert_eq!(p.json(&["plant", "show", "--json"])["draft_hours"], 12);
    assert!(
        p.ok(&["plant", "show"])
            .contains("drafts kept      12 hours")
    );
    p.ok(&["plant", "set", "--draft-hours", "24"]);
    assert_eq!(p.json(&["plant", "show", "--json"])["draft_hours"], 24);
    for bad in ["0", "745"] {
        p.refused(
            &["plant", "set", "--draft-hours", bad],
            "draft-hours",
            "give 1 to 744",
        );
    }
    assert!(p.ok(&["audit"]).contains("draft hours: 12 → 24"));
}
