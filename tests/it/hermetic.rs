//! The suite is hermetic: on a machine where lotline is deployed (/etc/lotline/lotline.toml
//! naming the plant, /etc/lotline/roles.toml making the person running the tests a mere
//! operator) and with LOTLINE_* set in the shell, the tests still see only what they set.
//!
//! Shown in a private mount namespace, so the machine's own /etc is untouched: a copy of
//! /etc with such a deployment in it is mounted over /etc (the machine may have no
//! /etc/lotline to mount over, and making one would change the machine). There, the
//! binary run plainly sees the deployment (the control: the proof can fail), and this
//! very test binary, run filtered to a few CLI tests that set up and change plants, passes.

use std::path::Path;
use std::process::Command;

/// The deployment's own command (the control below) through the harness, and CLI tests
/// that set a plant up (`init`, which needs an admin where roles apply), run
/// with no --db, and write to a plant.
const TESTS: [&str; 6] = [
    "hermetic::with_no_db_the_harness_sets_up_a_personal_plant",
    "cli_init::flags_set_up_a_plant_in_one_go",
    "cli_init::qa_users_default_to_the_person_setting_up",
    "cli::generate_builds_a_new_plant_that_checks_clean_and_refuses_bad_input",
    "cli::lotline_db_environment_variable_chooses_the_file",
    "cli::receive_and_produce_print_only_the_new_lot_code",
];

/// `sh -c` in a private mount namespace with `etc` mounted over /etc, then `args`.
fn in_deployment(etc: &Path, args: &[&std::ffi::OsStr]) -> Command {
    let mut c = Command::new("unshare");
    c.args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount --bind "$1" /etc && shift && exec "$@""#)
        .arg("sh")
        .arg(etc)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    c
}

#[test]
fn a_deployed_machine_and_the_shells_lotline_variables_do_not_reach_the_tests() {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "SKIPPED: the hermetic-suite test needs root to mount a deployment over /etc in a private namespace"
        );
        return;
    }
    let probe = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "true"])
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!(
            "SKIPPED: this machine does not allow a private mount namespace (unshare --mount), so no deployment can be planted"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc");
    let copied = Command::new("cp")
        .arg("-a")
        .arg("/etc/.")
        .arg(&etc)
        .status()
        .unwrap();
    assert!(copied.success(), "copying /etc");
    let deployed = etc.join("lotline");
    std::fs::create_dir_all(&deployed).unwrap();
    let plant = dir.path().join("plant").join("plant.redb");
    std::fs::write(
        deployed.join("lotline.toml"),
        format!("db = \"{}\"\n", plant.display()),
    )
    .unwrap();
    std::fs::write(
        deployed.join("roles.toml"),
        "admin = [\"someone-else\"]\ndefault = \"operator\"\n",
    )
    .unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();

    // The control: lotline run as a person would, with no harness, sees the deployment:
    // its roles make this user an operator, who may not set the plant up.
    let bin = crate::support::bin();
    let out = in_deployment(
        &etc,
        &[
            bin.as_os_str(),
            "init".as_ref(),
            "--name".as_ref(),
            "Prairie".as_ref(),
        ],
    )
    .env("HOME", &home)
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(77), "{err}");
    assert!(
        err.contains("has the role operator in /etc/lotline/roles.toml"),
        "the planted roles are read: {err}"
    );
    assert!(!plant.exists());

    // The suite, in the same deployment and with the shell's LOTLINE_* pointing at it.
    let me = std::env::current_exe().unwrap();
    let mut args = vec![me.as_os_str()];
    args.extend(TESTS.map(std::ffi::OsStr::new));
    args.extend(["--exact", "--test-threads=1"].map(std::ffi::OsStr::new));
    let out = in_deployment(&etc, &args)
        .env("HOME", &home)
        .env("LOTLINE_DB", &plant)
        .env("LOTLINE_STATION", "deployed-station")
        .env("LOTLINE_NO_SERVER", "1")
        .env("LOTLINE_PRINTER", "/dev/full")
        .output()
        .unwrap();
    let r = crate::support::Run::from(out);
    let text = r.text();
    assert_eq!(r.code, 0, "in the deployment:\n{text}");
    assert!(
        text.contains(&format!("test result: ok. {} passed", TESTS.len())),
        "every one of them ran and passed:\n{text}"
    );
    assert!(!plant.exists(), "no test touched the deployed plant");
}

/// What the control runs, through the harness: with no --db and no config, `init` sets up
/// a personal plant in the home the harness gave. Where the harness let a deployment
/// through, this is the test that fails (an operator may not set up the plant).
#[test]
fn with_no_db_the_harness_sets_up_a_personal_plant() {
    let home = tempfile::tempdir().unwrap();
    let mut init = crate::support::lotline();
    init.env("HOME", home.path())
        .args(["init", "--name", "Prairie"]);
    let r = crate::support::Run::of(&mut init, None);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        home.path()
            .join(".local/share/lotline/lotline.redb")
            .exists()
    );
}
