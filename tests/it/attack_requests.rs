//! A hostile client against a real `lotline serve`: frames built by hand with
//! `lotline_station::wire`, skipping every check a lotline client makes, and roles
//! pointed at files the client chose. What the server must do: check every request from
//! its bytes and refuse what the command line would (a reply naming the field, the
//! connection going on), keep FDA exports working, read old records that hold what is now
//! refused and export them escaped, and take its roles from the plant, never from whoever
//! started it. Nothing here asserts a time.

use lotline_domain::*;
use lotline_station::wire::{self, ClientMsg, Hello, ServerMsg, Welcome};
use lotline_station::{ErrorKind, Query, Reply, Request, StationError};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::support::{Plant, Served, lotline};

/// Text no terminal, spreadsheet or FDA file may receive raw: a clipboard write (OSC 52),
/// a bell, a right-to-left override.
const ESC: &str = "44\u{1b}]52;c;aGk=\u{7}71";
const BEL: &str = "44\u{7}71";
const RLO: &str = "44\u{202e}17";

/// A character that must not reach a reader raw, other than the line breaks and tabs a
/// file's own layout uses.
fn unsafe_char(c: char) -> bool {
    lotline_domain::text::is_unsafe(c) && !matches!(c, '\n' | '\r' | '\t')
}

fn raw_unsafe(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes).chars().any(unsafe_char)
}

/// A plant with an item and two parties, no server running.
fn plant() -> Served {
    let p = Served::new(Plant::empty());
    p.ok_local(&[
        "--create", "item", "add", "FLOUR", "--name", "Flour", "--unit", "kg",
    ]);
    p.ok_local(&[
        "party", "add", "MILL", "--name", "Mill Co", "--role", "supplier",
    ]);
    p
}

impl Served {
    /// In this process's own file, no server: for setting a plant up.
    fn ok_local(&self, args: &[&str]) -> String {
        let mut a = vec!["--no-server"];
        a.extend_from_slice(args);
        self.ok(&a)
    }

    /// Stop whatever server a client started for this plant, and wait until it is gone.
    fn stop_autostarted(&self) {
        let _ = lotline_station::server::stop_if_idle(&self.db, &self.socket);
    }

    /// A hand-made connection: the handshake, then frames as the test writes them.
    fn raw(&self) -> Raw {
        let mut s = UnixStream::connect(&self.socket).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        wire::write_frame(&mut s, &Hello::new("attacker")).unwrap();
        match wire::read_frame::<Welcome>(&mut s).unwrap() {
            Some(Welcome::Accepted { .. }) => {}
            other => panic!("not accepted: {other:?}"),
        }
        Raw { s, next: 1 }
    }
}

struct Raw {
    s: UnixStream,
    next: u64,
}

impl Raw {
    fn call(&mut self, request: Request) -> Result<Reply, StationError> {
        let id = self.next;
        self.next += 1;
        wire::write_frame(&mut self.s, &ClientMsg::Call { id, request }).unwrap();
        loop {
            match wire::read_frame::<ServerMsg>(&mut self.s).unwrap() {
                Some(ServerMsg::Reply { id: got, result }) if got == id => return result,
                Some(ServerMsg::Notice(_)) => continue,
                other => panic!("the server answered {other:?}"),
            }
        }
    }

    fn today(&mut self) -> chrono::NaiveDate {
        match self.call(Request::Query(Query::Today)).unwrap() {
            Reply::Today(d) => d,
            other => panic!("{other:?}"),
        }
    }
}

/// A receipt as a hostile client builds it: whatever `reference` it likes.
fn receipt(date: chrono::NaiveDate, supplier_lot: &str, reference: Reference) -> Request {
    Request::Command(lotline_station::Command::Receive(NewReceipt {
        item: ItemCode::parse("FLOUR", "item").unwrap(),
        supplier: PartyId::parse("MILL", "supplier").unwrap(),
        supplier_lot: SupplierLot::parse(supplier_lot, "supplier-lot").unwrap(),
        qty: Qty::from_units(25),
        unit: None,
        date,
        expiry: None,
        reference: Some(reference),
        documents: Default::default(),
        quality: Quality::default(),
        tlc_source_ref: None,
    }))
}

fn refused_as(result: Result<Reply, StationError>, field: &str) -> StationError {
    let e = match result {
        Err(e) => e,
        Ok(r) => panic!("accepted: {r:?}"),
    };
    assert_eq!(e.kind, ErrorKind::Invalid, "{e}");
    assert_eq!(e.field.as_deref(), Some(field), "{e}");
    assert!(!lotline_domain::text::has_unsafe(&e.message), "{e:?}");
    e
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    out.sort();
    out
}

#[test]
fn escape_bel_and_bidi_in_a_reference_are_refused_and_the_connection_goes_on() {
    let mut p = plant();
    p.serve(&[]);
    let mut c = p.raw();
    let today = c.today();
    for (i, number) in [ESC, BEL, RLO].into_iter().enumerate() {
        let r = Reference {
            kind: "BOL".into(),
            number: number.into(),
        };
        refused_as(c.call(receipt(today, &format!("EVIL-{i}"), r)), "ref");
    }
    // In the document type too.
    let r = Reference {
        kind: "B\u{1b}[2JOL".into(),
        number: "1".into(),
    };
    refused_as(c.call(receipt(today, "EVIL-K", r)), "ref");
    // The same connection goes on: a good receipt is saved.
    let good = Reference::parse("BOL:4471", "ref").unwrap();
    match c.call(receipt(today, "GOOD-1", good)) {
        Ok(Reply::Created(_)) => {}
        other => panic!("{other:?}"),
    }
    drop(c);
    // Nothing hostile was stored: FDA's receiving sheet holds the good receipt only.
    p.ok(&["fsma", "--all", "--csv", "fda"]);
    let csv = std::fs::read(p.dir.path().join("fda").join("receiving.csv")).unwrap();
    assert!(!raw_unsafe(&csv), "{}", String::from_utf8_lossy(&csv));
    let text = String::from_utf8_lossy(&csv);
    assert!(text.contains("GOOD-1"), "{text}");
    assert!(!text.contains("EVIL"), "{text}");
    p.ok(&["check"]);
}

#[test]
fn a_30_mb_reference_is_refused_and_the_fda_export_of_that_day_still_works() {
    let mut p = plant();
    p.serve(&[]);
    let before = std::fs::metadata(&p.db).unwrap().len();
    let mut c = p.raw();
    let today = c.today();
    let huge = Reference {
        kind: "BOL".into(),
        number: "9".repeat(30 << 20),
    };
    // Larger than any request may be: answered in its place, before it is decoded.
    let e = c.call(receipt(today, "HUGE-1", huge)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::TooLarge, "{e}");
    assert!(e.message.contains("more than the 1024 KB"), "{e}");
    assert!(e.message.len() < 300, "the refusal is one short line: {e}");
    // A reference and free text past their bounds but within a request's size: refused by
    // the checks, naming the field, on the same connection.
    let long = Reference {
        kind: "BOL".into(),
        number: "9".repeat(50_000),
    };
    refused_as(c.call(receipt(today, "LONG-REF", long)), "ref");
    let mut r = receipt(today, "LONG-NOTE", Reference::parse("BOL:1", "r").unwrap());
    if let Request::Command(lotline_station::Command::Receive(n)) = &mut r {
        n.quality.note = "x".repeat(600_000);
    }
    refused_as(c.call(r), "note");
    match c.call(receipt(
        today,
        "DAY-1",
        Reference::parse("BOL:77", "r").unwrap(),
    )) {
        Ok(Reply::Created(_)) => {}
        other => panic!("{other:?}"),
    }
    drop(c);
    let after = std::fs::metadata(&p.db).unwrap().len();
    assert!(
        after < before + (4 << 20),
        "nothing megabytes long was stored: {before} -> {after} bytes"
    );
    // FDA's export of that day, through the server, as a station asks for it.
    let remote = lotline_station::remote::Remote::connect(&p.socket, "fda-export").unwrap();
    let request = lotline_export::fsma::Request {
        from: Some(today),
        to: Some(today),
        ftl_only: false,
        ..Default::default()
    };
    let run = lotline_export::fsma::RunBy {
        operator: "qa".into(),
        station: "office".into(),
        at: chrono::Utc::now(),
    };
    let export = lotline_export::fsma::gather(&remote, &request, &run, &mut |_| {})
        .unwrap_or_else(|e| panic!("the FDA export of {today} failed: {e}"));
    assert_eq!(export.sheets[0].rows.len(), 1, "the day's one receipt");
    drop(remote);
    let d = today.to_string();
    p.ok(&["fsma", "--all", "--from", &d, "--to", &d, "--csv", "day"]);
}

/// A plant file an older lotline wrote, holding what the server now refuses: the same
/// record types, written by the store itself without any request check, as an older
/// server would have stored a crafted frame.
fn old_plant_with_hostile_text(db: &Path) -> String {
    use lotline_domain::api::Command as Cmd;
    use lotline_store::Store;
    let store = Store::open(db, true).unwrap();
    let stamp = Stamp {
        operator: "old".into(),
        station: "old-station".into(),
        at: chrono::Utc::now(),
    };
    let today = chrono::Local::now().date_naive();
    store
        .apply(
            Cmd::AddItem(NewItem {
                code: ItemCode::parse("FLOUR", "item").unwrap(),
                description: ProductDescription {
                    name: "Flour".into(),
                    brand: format!("Mill{ESC}"),
                    ..Default::default()
                },
                unit: Unit::Kg,
                kind: ItemKind::Ingredient,
                gtin: None,
                shelf_life_days: None,
                ftl: true,
                receiving_temp: TempRange::default(),
            }),
            &stamp,
            today,
        )
        .unwrap();
    store
        .apply(
            Cmd::AddParty(NewParty {
                id: PartyId::parse("MILL", "p").unwrap(),
                role: Role::Supplier,
                location: Location {
                    business_name: format!("Mill{RLO}Co"),
                    ..Default::default()
                },
                gln: None,
                recall_contact: Contact::default(),
            }),
            &stamp,
            today,
        )
        .unwrap();
    let created = store
        .apply(
            Cmd::Receive(NewReceipt {
                item: ItemCode::parse("FLOUR", "item").unwrap(),
                supplier: PartyId::parse("MILL", "s").unwrap(),
                supplier_lot: SupplierLot::parse("OLD-1", "s").unwrap(),
                qty: Qty::from_units(5),
                unit: None,
                date: today,
                expiry: None,
                reference: Some(Reference {
                    kind: "BOL".into(),
                    number: format!("{ESC}{BEL}{RLO}"),
                }),
                documents: Default::default(),
                quality: Quality::default(),
                tlc_source_ref: None,
            }),
            &stamp,
            today,
        )
        .unwrap()
        .created()
        .unwrap();
    store.close().unwrap();
    created.code.to_string()
}

#[test]
fn old_records_holding_refused_text_still_read_and_every_export_escapes_them() {
    let mut p = plant();
    std::fs::remove_file(&p.db).unwrap();
    let lot = old_plant_with_hostile_text(&p.db);
    // It opens and reads, as text and JSON, escaped.
    for args in [
        vec!["lot", lot.as_str()],
        vec!["lot", lot.as_str(), "--json"],
        vec!["lots", "--json"],
        vec!["item", "list"],
        vec!["party", "list"],
    ] {
        let o = p.output(&args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!raw_unsafe(&o.stdout), "{args:?}: {:?}", o.stdout);
    }
    p.ok(&["check"]);
    // FDA's spreadsheet, CSV and XLSX, and EPCIS: no raw control or bidi character.
    p.ok(&["fsma", "--all", "--csv", "fda", "--xlsx", "fda.xlsx"]);
    for f in files_in(&p.dir.path().join("fda")) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !raw_unsafe(&bytes),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&bytes)
        );
    }
    let receiving = std::fs::read_to_string(p.dir.path().join("fda/receiving.csv")).unwrap();
    assert!(receiving.contains("\\e]52"), "shown escaped: {receiving}");
    let mut xlsx: calamine::Xlsx<_> =
        calamine::open_workbook(p.dir.path().join("fda.xlsx")).unwrap();
    use calamine::Reader;
    for name in xlsx.sheet_names() {
        let range = xlsx.worksheet_range(&name).unwrap();
        for cell in range.used_cells() {
            let text = cell.2.to_string();
            assert!(!text.chars().any(unsafe_char), "{name}: {text:?}");
        }
    }
    p.ok(&["epcis", "export", "--all", "--out", "all.jsonld"]);
    let doc = std::fs::read(p.dir.path().join("all.jsonld")).unwrap();
    assert!(!raw_unsafe(&doc));
    // And the plant goes on: a new receipt through its server.
    p.serve(&[]);
    p.ok(&[
        "receive",
        "--item",
        "FLOUR",
        "--supplier",
        "MILL",
        "--supplier-lot",
        "NEW-1",
        "--qty",
        "3",
        "--ref",
        "BOL:5",
    ]);
    p.stop();
}

// Roles: the plant's, never the caller's.

fn me() -> String {
    lotline_station::identity::Identity::current().user
}

fn write_roles(p: &Plant, name: &str, text: &str) -> PathBuf {
    let f = p.dir.path().join(name);
    std::fs::write(&f, text).unwrap();
    f
}

/// Move a file's modification time on, so a re-read sees it changed on any file system.
fn touch_later(p: &Path, secs: u64) {
    let later = std::time::SystemTime::now() + Duration::from_secs(secs);
    std::fs::File::options()
        .write(true)
        .open(p)
        .unwrap()
        .set_modified(later)
        .unwrap();
}

fn receive_args(supplier_lot: &str) -> Vec<&str> {
    crate::support::small::receipt(supplier_lot, "5").to_vec()
}

#[test]
fn a_clients_lotline_roles_changes_nothing_for_the_server_it_starts() {
    let mut p = plant();
    // The plant's roles: this user is an operator here.
    let roles = write_roles(
        &p,
        "roles.toml",
        &format!(
            "operator = [\"{}\"]\nqa = [\"quinn\"]\nadmin = [\"maria\"]\n",
            me()
        ),
    );
    p.serve(&["--roles", roles.to_str().unwrap()]);
    p.stop();
    // The operator names a roles file of their own making him admin, and writes: the
    // server his command starts must not take it.
    let evil = write_roles(&p, "mine.toml", &format!("admin = [\"{}\"]\n", me()));
    let o = p
        .cmd(&["item", "add", "SUGAR", "--name", "Sugar", "--unit", "kg"])
        .env("LOTLINE_ROLES", &evil)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(77),
        "an operator's own roles file made him admin: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("is an operator here"), "{err}");
    // A receipt, which is an operator's, goes through the same autostarted server.
    let o = p
        .cmd(&receive_args("AUTO-1"))
        .env("LOTLINE_ROLES", &evil)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    p.stop_autostarted();
}

#[test]
fn no_server_writes_are_checked_against_the_plants_roles() {
    let mut p = plant();
    let lot = p.ok_local(&receive_args("NS-1"));
    let roles = write_roles(
        &p,
        "roles.toml",
        &format!("operator = [\"{}\"]\nqa = [\"quinn\"]\n", me()),
    );
    p.serve(&["--roles", roles.to_str().unwrap()]);
    p.stop();
    // Straight into the file, as the server would refuse it: holding is QA's.
    for args in [
        vec![
            "--no-server",
            "recall",
            lot.as_str(),
            "--reason",
            "listeria positive",
        ],
        vec!["--no-server", "hold", lot.as_str(), "--reason", "wet"],
        vec![
            "--no-server",
            "item",
            "add",
            "SALT",
            "--name",
            "Salt",
            "--unit",
            "kg",
        ],
    ] {
        let o = p.output(&args);
        assert_eq!(
            o.status.code(),
            Some(77),
            "{args:?} went through: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let o = p.output(&["--no-server", "lot", &lot, "--json"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"released\""));
    // What an operator may do, they may.
    p.ok(&{
        let mut a = vec!["--no-server"];
        a.extend(receive_args("NS-2"));
        a
    });
}

#[test]
fn a_roles_typo_keeps_the_last_good_roles_and_clerks_never_see_toml() {
    let mut p = plant();
    let roles = write_roles(
        &p,
        "roles.toml",
        &format!(
            "admin = [\"{}\"]\nqa = [\"quinn\"]\ndefault = \"none\"\n",
            me()
        ),
    );
    p.serve(&["--roles", roles.to_str().unwrap()]);
    p.ok(&["item", "add", "SALT", "--name", "Salt", "--unit", "kg"]);
    // The admin saves a typo (a missing comma on line 2).
    std::fs::write(
        &roles,
        format!(
            "admin = [\"{}\"]\nqa = [\"quinn\" \"cory\"]\ndefault = \"none\"\n",
            me()
        ),
    )
    .unwrap();
    touch_later(&roles, 5);
    // The floor goes on under the roles read before the change.
    p.ok(&["item", "add", "SUGAR", "--name", "Sugar", "--unit", "kg"]);
    let o = p.output(&receive_args("TYPO-1"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("expected"));
    let (_, log) = p.stop();
    assert!(
        log.contains("line 2, column") && log.contains("keeping the roles read before"),
        "the log names the mistake: {log}"
    );
    assert_eq!(
        log.matches("line 2, column").count(),
        1,
        "logged once, not once per request: {log}"
    );
}

#[test]
fn a_roles_file_with_a_mistake_refuses_the_start_and_roles_check_finds_it_first() {
    let p = plant();
    let bad = write_roles(&p, "bad.toml", "admin = [\"maria\"]\nqa = [\"quinn\",\n");
    let o = lotline()
        .args(["serve", "--db"])
        .arg(&p.db)
        .arg("--roles")
        .arg(&bad)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("line 2, column 15"), "{err}");
    assert!(lotline_station::server::served_by(&p.socket).is_none());
    // `roles check` finds it before it goes live, and reads no database.
    let o = lotline()
        .args(["roles", "check"])
        .arg(&bad)
        .env("LOTLINE_DB", "/nonexistent/never.redb")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("line 2, column 15"), "{err}");
    let good = write_roles(
        &p,
        "good.toml",
        "admin = [\"maria\"]\nqa = [\"quinn\", \"@qa\"]\noperator = [\"@floor\"]\ndefault = \"none\"\n",
    );
    let o = lotline()
        .args(["roles", "check"])
        .arg(&good)
        .env("LOTLINE_DB", "/nonexistent/never.redb")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    for line in [
        "is good",
        "admin:    maria",
        "QA:       quinn, members of group qa",
        "operator: members of group floor",
        "anyone else who can reach the plant: refused",
    ] {
        assert!(out.contains(line), "{line}: {out}");
    }
}

/// A request of millions of one-letter codes decodes to many times its bytes (the server
/// once went from 19 MB to 1.9 GB on one such frame): anything but the admin's import is
/// held to a small size and answered unread, and the connection goes on.
#[test]
fn a_request_that_would_decode_to_gigabytes_is_answered_unread() {
    let mut p = plant();
    p.serve(&[]);
    let mut c = p.raw();
    let items: Vec<ItemCode> = (0..3_000_000)
        .map(|_| ItemCode::parse("A", "item").unwrap())
        .collect();
    let e = c
        .call(Request::Query(Query::ItemEventIds {
            items,
            from: None,
            to: None,
        }))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::TooLarge, "{e}");
    assert!(e.message.contains("only the admin's EPCIS import"), "{e}");
    // The same connection is served as before.
    let _ = c.today();
}
