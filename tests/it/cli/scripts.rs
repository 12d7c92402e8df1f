//! What scripts rely on: exit codes, JSON errors and shapes, and a mistyped --db that
//! creates nothing.

use super::*;

/// The error a `--json` run printed on stderr.
fn json_error(r: &Run) -> Value {
    assert!(r.stdout.is_empty(), "nothing on stdout: {}", r.stdout);
    assert_eq!(r.stderr.lines().count(), 1, "one line: {}", r.stderr);
    let v: Value = serde_json::from_str(&r.stderr)
        .unwrap_or_else(|e| panic!("stderr is not JSON ({e}): {}", r.stderr));
    v["error"].clone()
}

#[test]
fn exit_codes_tell_scripts_what_to_do() {
    let p = Plant::new();
    let (_, eggs, _, _) = p.bakery();
    // 2: bad input.
    assert_eq!(p.run(&["lot", "NOPE-1"]).code, 2);
    assert_eq!(p.run(&["lots", "--bogus"]).code, 2);
    // 1: a problem with the data (here: no database at all).
    let none = Plant::empty();
    assert_eq!(none.run(&["lots"]).code, 1);
    // 75: busy. Someone else is the file's writer (the plant's server, still running
    // from the commands above, or else this test process); a command that must open the
    // file itself is told to try again, and nothing is stored.
    let held = lotline_store::Store::open(&p.db, false).ok();
    let salt = ["item", "add", "SALT", "--name", "Salt", "--unit", "kg"];
    let r = p.run(&[&["--no-server"][..], &salt].concat());
    assert_eq!(r.code, 75, "{}", r.stderr);
    assert!(r.stderr.contains("open for writing by"), "{}", r.stderr);
    drop(held);
    p.ok(&salt);
    // 77: not allowed for this user's role.
    p.ok(&["plant", "set", "--qa-users", "somebody-else"]);
    let r = p.run(&["hold", &eggs, "--reason", "check"]);
    assert_eq!(r.code, 77, "{}", r.stderr);
    let e = json_error(&p.run(&["hold", &eggs, "--reason", "check", "--json"]));
    assert_eq!(e["kind"], "usage", "hold takes no --json: {e}");
    // --help says all of it.
    let help = p.ok(&["--help"]);
    for code in ["0 ", "1 ", "2 ", "3 ", "75 ", "77 "] {
        assert!(help.contains(&format!("\n  {code}")), "{code}: {help}");
    }
    assert!(help.contains("--create"), "{help}");
    assert!(
        help.contains("./lotline.redb"),
        "the path with no HOME: {help}"
    );
}

#[test]
fn with_json_errors_are_json_on_stderr() {
    let p = Plant::new();
    p.bakery();
    let e = json_error(&p.run(&["lots", "--item", "NOPE", "--json"]));
    assert_eq!(e["kind"], "invalid");
    assert_eq!(e["field"], "item");
    assert!(
        e["message"].as_str().unwrap().contains("no item NOPE"),
        "{e}"
    );
    // The same mistake without --json: one line for people, exit 2, not an empty list.
    let r = p.run(&["lots", "--supplier", "NOBODY"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("lotline: supplier: no party NOBODY"),
        "{}",
        r.stderr
    );
    let e = json_error(&p.run(&["lot", "R99999-999", "--json"]));
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid"), Some("lot"))
    );
    // A command line clap refuses, with --json.
    let r = p.run(&["lots", "--json", "--status"]);
    assert_eq!(r.code, 2);
    let e = json_error(&r);
    assert_eq!(e["kind"], "usage");
    assert_eq!(e["field"], "status", "{e}");
    // No database.
    let e = json_error(&Plant::empty().run(&["item", "list", "--json"]));
    assert_eq!(e["kind"], "data");
    assert_eq!(e["field"], Value::Null);
}

#[test]
fn json_shapes_are_objects_with_null_for_what_is_not_given() {
    let p = Plant::new();
    let (flour, _, dough, _) = p.bakery();
    let item = p.json(&["item", "show", "FLOUR", "--json"]);
    assert!(item.is_object(), "{item}");
    assert_eq!(item["code"], "FLOUR");
    assert_eq!(item["brand"], Value::Null);
    assert_eq!(item["gtin"], Value::Null);
    assert_eq!(item["shelf_life"], Value::Null);
    let dough_item = p.json(&["item", "show", "DOUGH", "--json"]);
    assert_eq!(dough_item["shelf_life"], 5, "named as --shelf-life is");
    let party = p.json(&["party", "show", "SHOP", "--json"]);
    assert!(party.is_object(), "{party}");
    assert_eq!(party["contact_name"], "Priya", "named as --contact-name is");
    assert_eq!(party["contact_email"], Value::Null);
    assert_eq!(party["phone"], Value::Null);
    let list = p.json(&["party", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 4);
    let plant = p.json(&["plant", "show", "--json"]);
    assert_eq!(plant["receipt_pattern"], "R{YY}{JJJ}-{SEQ:3}");
    assert_eq!(plant["gln"], Value::Null);
    assert!(plant["qa_users"].is_array(), "{plant}");
    // Every lot has every key; what does not apply to its origin is null.
    let lots = p.json(&["lots", "--json"]);
    let f = lot(&lots, &flour);
    let d = lot(&lots, &dough);
    assert_eq!(f["line"], Value::Null);
    assert_eq!(f["supplier"], "MILL");
    assert_eq!(d["supplier"], Value::Null);
    assert_eq!(d["supplier_lot"], Value::Null);
    assert_eq!(d["line"], "Mixer 1");
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(keys(f), keys(d));
}

#[test]
fn a_mistyped_db_is_refused_on_writes_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("plnat").join("plant.redb");
    let run = |args: &[&str]| {
        lotline()
            .arg("--db")
            .arg(&typo)
            .args(args)
            .output()
            .unwrap()
    };
    for args in [
        &["item", "add", "SALT", "--name", "Salt", "--unit", "kg"][..],
        &[
            "party", "add", "MILL", "--name", "Mill", "--role", "supplier",
        ],
        &["plant", "set", "--name", "Bakery"],
        &[
            "receive",
            "--item",
            "SALT",
            "--supplier",
            "MILL",
            "--supplier-lot",
            "S1",
            "--qty",
            "5",
        ],
    ] {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("no lotline database at") && err.contains("lotline init"),
            "{err}"
        );
        assert!(err.contains("--create"), "{err}");
        assert!(
            !typo.parent().unwrap().exists(),
            "no folder made by {args:?}"
        );
    }
    // Asked for explicitly, it is made.
    let out = run(&[
        "--create", "item", "add", "SALT", "--name", "Salt", "--unit", "kg",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(typo.exists());
}
