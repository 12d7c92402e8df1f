//! `lotline init` through the real binary: flags for scripts, answers piped to its
//! questions, and a person at a pseudo-terminal; an existing plant is never touched.

use crate::support::{Run, lotline};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn run(db: &Path, args: &[&str], stdin: &str) -> Run {
    let mut c = lotline();
    c.arg("--db")
        .arg(db)
        .args(args)
        .env("LOTLINE_NO_SERVER", "1")
        .env("LOTLINE_STATION", "test-station");
    Run::of(&mut c, Some(stdin))
}

fn ok(db: &Path, args: &[&str]) -> String {
    let r = run(db, args, "");
    assert_eq!(r.code, 0, "lotline {args:?}: {}", r.stderr);
    r.stdout
}

fn json(db: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&ok(db, args)).unwrap()
}

use crate::support::me;

fn db_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("new").join("plant.redb")
}

#[test]
fn flags_set_up_a_plant_in_one_go() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    // The missing-database error points at init: init makes that true.
    let r = run(&db, &["plant", "show"], "");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("lotline init"), "{}", r.stderr);
    let out = ok(
        &db,
        &[
            "init",
            "--name",
            "Sunny Bakery",
            "--city",
            "Salina",
            "--phone",
            "555-0100",
            "--gln",
            "0950110153007",
            "--qa-users",
            "quinn,maria",
            "--label-size",
            "4x6-203",
            "--item",
            "FLOUR,kg,ingredient,All-purpose flour, unbleached",
            "--item",
            "COOKIE,case,finished,Choc chip cookies",
            "--party",
            "MILL,supplier,Prairie Mill",
            "--party",
            "SHOP,customer,Corner Market",
        ],
    );
    assert!(
        out.contains("Plant Sunny Bakery set up") && out.contains("2 items, 2 parties"),
        "{out}"
    );
    let plant = json(&db, &["plant", "show", "--json"]);
    assert_eq!(plant["name"], "Sunny Bakery", "{plant}");
    assert_eq!(plant["gln"], "0950110153007");
    assert_eq!(plant["qa_users"], serde_json::json!(["quinn", "maria"]));
    assert_eq!(plant["label_size"], "4x6-203");
    let items = json(&db, &["item", "list", "--json"]);
    let names: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"All-purpose flour, unbleached"),
        "{names:?}"
    );
    let shop = json(&db, &["party", "show", "SHOP", "--json"]);
    assert_eq!(shop["role"], "customer");
    // Each record is its own event in the audit trail, stamped with who did it.
    let audit = ok(&db, &["audit"]);
    assert!(!audit.trim().is_empty());
}

#[test]
fn qa_users_default_to_the_person_setting_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    ok(&db, &["init", "--name", "Solo"]);
    let plant = json(&db, &["plant", "show", "--json"]);
    assert_eq!(plant["qa_users"], serde_json::json!([me()]));
}

#[test]
fn bad_flags_are_refused_naming_them_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    for (args, field, words) in [
        (vec!["--name", " "], "name", "is required"),
        (vec!["--name", "B", "--gln", "123"], "gln", "GLN"),
        (
            vec!["--name", "B", "--item", "FLOUR,parsec,ingredient,Flour"],
            "item",
            "unit: 'parsec' is not a unit",
        ),
        (
            vec!["--name", "B", "--item", "FLOUR,kg"],
            "item",
            "CODE,UNIT,KIND,NAME",
        ),
        (
            vec![
                "--name",
                "B",
                "--item",
                "F,kg,ingredient,a",
                "--item",
                "F,kg,ingredient,b",
            ],
            "item",
            "already in this setup",
        ),
        (
            vec!["--name", "B", "--party", "MILL,friend,Mill"],
            "party",
            "not a role",
        ),
        (
            vec!["--name", "B", "--qa-users", "a\u{7}b"],
            "qa-users",
            "not a user name",
        ),
    ] {
        let mut all = vec!["init"];
        all.extend(args.iter().copied());
        let r = run(&db, &all, "");
        assert_eq!(r.code, 2, "{all:?}: {}", r.stderr);
        let line = r.stderr.trim();
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(line.starts_with(&format!("lotline: {field}: ")), "{line}");
        assert!(line.contains(words), "{line} should say {words}");
        assert!(!db.exists(), "{all:?} created the database");
    }
}

#[test]
fn an_existing_plant_is_refused_with_what_to_run_instead() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    ok(
        &db,
        &["init", "--name", "First", "--item", "A,kg,ingredient,A"],
    );
    let before = ok(&db, &["item", "list", "--json"]);
    for stdin in ["", "Second\n"] {
        let args: &[&str] = if stdin.is_empty() {
            &["init", "--name", "Second"]
        } else {
            &["init"]
        };
        let r = run(&db, args, stdin);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr.contains("already holds the plant 'First'"),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("lotline plant set"), "{}", r.stderr);
        assert!(r.stdout.is_empty(), "asked nothing: {}", r.stdout);
    }
    assert_eq!(ok(&db, &["item", "list", "--json"]), before);
    assert_eq!(json(&db, &["plant", "show", "--json"])["name"], "First");
    // A database made empty with --create is not a plant yet: init sets it up.
    let blank = dir.path().join("blank.redb");
    ok(&blank, &["--create", "plant", "show"]);
    ok(&blank, &["init", "--name", "Blank no more"]);
    assert_eq!(
        json(&blank, &["plant", "show", "--json"])["name"],
        "Blank no more"
    );
}

/// Answers piped to the questions: wrong ones are explained and asked again, Enter takes
/// the default, an empty code ends a list, and only "y" writes.
#[test]
fn questions_answered_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let answers = [
        "Valley Bakery", // name
        "555-0199",      // phone
        "1 Mill Rd",     // street
        "Salina",        // city
        "KS",            // state
        "",              // country: default US
        "6740",          // zip: wrong, asked again
        "67401",         // zip
        "12",            // GLN: wrong, asked again
        "0950110153007", // GLN
        "A4",            // label size: not one lotline lays out, asked again
        "4x6@300",       // label size, as `plant set --label-size` takes it
        "quinn, maria",  // QA users
        "FLOUR",         // item code
        "Flour",         // name
        "parsec",        // unit: wrong
        "",              // unit: default kg
        "",              // kind: default ingredient
        "",              // FTL: default no
        "25 kg",         // packaging size
        "bag",           // packaging style
        "",              // GTIN
        "240",           // shelf life
        "",              // temperatures
        "",
        "FLOUR", // the same code again: refused
        "EGGS",
        "Shell eggs",
        "dozen",
        "ingredient",
        "yes", // on the Food Traceability List
        "30 dozen case",
        "case",
        "00614141000037", // GTIN: wrong check digit, asked again
        "00614141000036",
        "30",
        "0",
        "7",
        "",     // no more items
        "MILL", // party id
        "Prairie Mill",
        "friend", // role: wrong
        "supplier",
        "",            // phone
        "12 Grain Rd", // street
        "Salina",
        "KS",
        "", // country: default US
        "67401",
        "",
        "Pat Miller",
        "555-0111",
        "FRESHMART", // e-mail: wrong, asked again
        "pat@mill.example",
        "", // no more parties
        "y",
    ];
    let r = run(&db, &["init"], &(answers.join("\n") + "\n"));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let o = &r.stdout;
    assert!(o.contains("gln: '12' is not a GLN"), "{o}");
    assert!(
        o.contains("Label size (4x2-203, 4x2-300, 4x6-203, 4x6-300) [4x2-203]: "),
        "the guided start's choices and default: {o}"
    );
    assert!(
        o.contains("label-size: 'A4' is not a label size lotline lays out; use one of 4x2-203, 4x2-300, 4x6-203, 4x6-300; try again"),
        "{o}"
    );
    assert!(o.contains("zip: '6740' is not a US ZIP code"), "{o}");
    assert!(
        o.contains("gtin: GTIN check digit: the 14th digit is 7"),
        "{o}"
    );
    assert!(
        o.contains("contact-email: 'FRESHMART' is not an e-mail address"),
        "{o}"
    );
    assert!(o.contains("unit: 'parsec' is not a unit"), "{o}");
    assert!(o.contains("item FLOUR is already in this setup"), "{o}");
    assert!(o.contains("role: 'friend' is not a role"), "{o}");
    assert!(o.contains("This will be written:"), "{o}");
    assert!(o.contains("Plant Valley Bakery set up"), "{o}");
    let plant = json(&db, &["plant", "show", "--json"]);
    assert_eq!(plant["country"], "US", "{plant}");
    assert_eq!(plant["label_size"], "4x6-300", "{plant}");
    assert_eq!(plant["qa_users"], serde_json::json!(["quinn", "maria"]));
    let flour = json(&db, &["item", "show", "FLOUR", "--json"]);
    assert_eq!(flour["unit"], "kg");
    assert_eq!(flour["kind"], "ingredient");
    let eggs = json(&db, &["item", "show", "EGGS", "--json"]);
    assert_eq!(eggs["ftl"], true, "{eggs}");
    assert_eq!(eggs["pack_style"], "case", "{eggs}");
    assert_eq!(eggs["shelf_life"], 30, "{eggs}");
    let mill = json(&db, &["party", "show", "MILL", "--json"]);
    assert_eq!(mill["contact_name"], "Pat Miller", "{mill}");
    assert_eq!(mill["zip"], "67401", "{mill}");
    assert_eq!(mill["contact_email"], "pat@mill.example", "{mill}");
}

#[test]
fn declining_or_stopping_early_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    // Ctrl-D after the name: the rest takes its defaults; then "no" at the end.
    let r = run(&db, &["init"], "Maybe Bakery\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("plant      Maybe Bakery, US"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Nothing was written."), "{}", r.stdout);
    assert!(!db.exists());
    let r = run(&db, &["init"], "Maybe Bakery\n\n\n\n\n\n\n\n\n\n\nn\n");
    assert!(r.stdout.contains("Nothing was written."), "{}", r.stdout);
    assert!(!db.exists());
    // No name at all: refused, naming the flag for scripts.
    let r = run(&db, &["init"], "");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("lotline: name: "), "{}", r.stderr);
    assert!(r.stderr.contains("--name"), "{}", r.stderr);
    assert!(!db.exists());
}

/// `lotline` with a system config and nothing else: no --db, no LOTLINE_DB.
fn with_config(config: &Path, args: &[&str]) -> Run {
    let mut c = lotline();
    c.env("LOTLINE_CONFIG", config)
        .env("LOTLINE_STATION", "test-station")
        .args(args);
    Run::of(&mut c, None)
}

#[test]
fn init_makes_a_private_file_and_leaves_no_server_and_the_config_names_the_plant() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("plant").join("plant.redb");
    let config = dir.path().join("lotline.toml");
    std::fs::write(
        &config,
        format!(
            "db = \"{}\"\nservice = true\nsocket = \"{}\"\n",
            db.display(),
            dir.path().join("plant.sock").display()
        ),
    )
    .unwrap();
    // Through the config alone, with the most permissive umask a shell can have.
    let mut init = lotline();
    init.env("LOTLINE_CONFIG", &config)
        .args(["init", "--name", "Prairie Bakery"]);
    // SAFETY: umask(2) only, in the child before exec.
    unsafe {
        use std::os::unix::process::CommandExt;
        init.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    let out = init.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&db), 0o600, "the database file");
    assert_eq!(mode(db.parent().unwrap()), 0o700, "the folder init made");
    // init wrote the file itself: no socket, so no server, was left behind.
    assert!(!dir.path().join("plant.sock").exists());
    assert!(!dir.path().join("plant").join("plant.redb.sock").exists());
    // The plant the config names is read with no --db...
    let r = with_config(&config, &["plant", "show", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Prairie Bakery"), "{}", r.stdout);
    // ...and, run by a service, never started by a client: a write says so and does nothing.
    let r = with_config(
        &config,
        &["item", "add", "FLOUR", "--name", "Flour", "--unit", "kg"],
    );
    assert_eq!(r.code, 75, "{}", r.stderr);
    assert!(r.stderr.contains("server is not running"), "{}", r.stderr);
    assert!(r.stderr.contains("systemctl start lotline"), "{}", r.stderr);
    assert!(
        !dir.path().join("plant.sock").exists(),
        "a server was started"
    );
    // A broken config stops everything but doctor, with the line and column.
    std::fs::write(&config, "db = \n").unwrap();
    let r = with_config(&config, &["lots"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("line 1, column"), "{}", r.stderr);
    let r = with_config(&config, &["doctor"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("PROBLEM  config"), "{}", r.stdout);
}

#[test]
fn init_by_someone_the_roles_file_does_not_make_admin_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("plant.redb");
    let config = dir.path().join("lotline.toml");
    std::fs::write(&config, format!("db = \"{}\"\n", db.display())).unwrap();
    // roles.toml beside the config is the plant's.
    std::fs::write(
        dir.path().join("roles.toml"),
        "admin = [\"someone-else\"]\ndefault = \"operator\"\n",
    )
    .unwrap();
    let r = with_config(&config, &["init", "--name", "Prairie Bakery"]);
    assert_eq!(r.code, 77, "{}", r.stderr);
    assert!(r.stderr.contains("needs an admin"), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was created"), "{}", r.stderr);
    assert!(!db.exists(), "init left a file behind");
    assert!(
        !dir.path().join("plant.redb.sock").exists(),
        "init left a server behind"
    );
}

#[test]
fn roles_check_warns_of_names_the_machine_does_not_know() {
    let dir = tempfile::tempdir().unwrap();
    let roles = dir.path().join("roles.toml");
    std::fs::write(
        &roles,
        "admin = [\"root\", \"no-such-user-x7\"]\noperator = [\"@root\", \"@no-such-group-x7\"]\n",
    )
    .unwrap();
    let r = with_config(
        Path::new("none"),
        &["roles", "check", roles.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("is good"), "{}", r.stdout);
    assert!(
        r.stdout.contains("knows no user named no-such-user-x7"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("knows no group named no-such-group-x7"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains("named root"),
        "root is known: {}",
        r.stdout
    );
    // A broken system config does not stand in the way of checking a roles file.
    let config = dir.path().join("lotline.toml");
    std::fs::write(&config, "db = \n").unwrap();
    let r = with_config(&config, &["roles", "check", roles.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = with_config(&config, &["lots"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}
