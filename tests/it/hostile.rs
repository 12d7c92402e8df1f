//! Hostile text through the real binary: nothing from input or the database reaches the
//! terminal raw, and every refusal echoes at most a bounded, escaped excerpt.

use crate::support::small;
use crate::support::{Plant, Run};
use lotline_domain::text::has_unsafe;

/// An OSC 52 clipboard write, a CSI screen clear, a bidi override, a zero-width space and
/// a C1 CSI, then enough text that echoing it whole would flood the screen.
fn hostile() -> String {
    format!(
        "\u{1b}]52;c;aGVsbG8=\u{7}\u{1b}[2J\u{202e}ab\u{200b}c\u{9b}31m{}",
        "x".repeat(400)
    )
}

impl Plant {
    /// A station name as given, hostile or not.
    fn run_station(&self, args: &[&str], station: Option<&str>) -> Run {
        self.run_env(
            args,
            &[("LOTLINE_STATION", station.unwrap_or("test-station"))],
        )
    }

    fn small(&self) -> String {
        self.ok(&["item", "add", "FLOUR", "--name", "Flour", "--unit", "kg"]);
        self.ok(small::MILL);
        self.ok(small::SHOP);
        self.ok(&small::receipt("M-1", "100"))
    }
}

#[test]
fn a_station_name_that_writes_the_clipboard_is_refused() {
    let p = Plant::new();
    let lot = p.small();
    let osc52 = "\u{1b}]52;c;aGVsbG8=\u{7}";
    let before = p.snapshot();
    for (how, env) in [("flag", None), ("env", Some(osc52))] {
        let mut args = vec!["hold", lot.as_str(), "--reason", "smell"];
        if how == "flag" {
            args.splice(0..0, ["--station", osc52]);
        }
        let r = p.run_station(&args, env);
        assert_eq!(r.code, 2, "{how}: {}", r.stderr);
        assert!(r.stderr.contains("station: "), "{how}: {}", r.stderr);
        assert!(r.stderr.contains("\\e]52"), "shown escaped: {}", r.stderr);
        assert!(
            !has_unsafe(&r.stderr.replace('\n', "")),
            "{how}: {:?}",
            r.stderr
        );
    }
    // Too long, a space, a bidi override: refused too.
    for bad in ["x".repeat(65), "dock 1".into(), "dock\u{202e}1".into()] {
        let r = p.run(&["--station", &bad, "hold", &lot, "--reason", "smell"]);
        assert_eq!(r.code, 2, "{bad:?}: {}", r.stderr);
    }
    assert_eq!(p.snapshot(), before, "nothing was stored");
    // A good one is stamped and shown.
    p.ok(&["--station", "dock-7", "hold", &lot, "--reason", "smell"]);
    assert!(p.ok(&["lot", &lot]).contains("@dock-7"));
}

#[test]
fn a_lot_history_never_carries_escapes_to_the_terminal() {
    let p = Plant::new();
    let lot = p.small();
    let h = hostile();
    // Every free-text way in refuses the hostile text.
    for args in [
        vec!["hold", lot.as_str(), "--reason", h.as_str()],
        vec![
            "adjust",
            lot.as_str(),
            "--qty",
            "-1",
            "--reason",
            h.as_str(),
        ],
        vec![
            "adjust",
            lot.as_str(),
            "--qty",
            "-1",
            "--reason",
            "a\u{202e}b",
        ],
        vec![
            "adjust",
            lot.as_str(),
            "--qty",
            "-1",
            "--reason",
            "a\u{200b}b",
        ],
    ] {
        let r = p.run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    }
    p.ok(&["hold", &lot, "--reason", "smell · 3 °C"]);
    for args in [
        vec!["lot", lot.as_str()],
        vec!["lot", lot.as_str(), "--json"],
        vec!["trace", lot.as_str()],
        vec!["lots"],
    ] {
        let r = p.run(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert!(!r.stdout.contains('\u{1b}'), "{args:?}");
        assert!(!has_unsafe(&r.stdout.replace('\n', "")), "{args:?}");
    }
}

/// Every flag that takes text, given hostile text: a refusal (never a panic), one bounded
/// line on stderr, nothing raw.
#[test]
fn validation_errors_never_echo_raw_controls() {
    let p = Plant::new();
    let lot = p.small();
    let h = hostile();
    let h = h.as_str();
    let lot_eq = format!("{lot}={h}");
    let eq_lot = format!("{h}=1");
    let ref_num = format!("BOL:{h}");
    let lot_1 = format!("{lot}=1");
    let l = lot.as_str();
    let table: Vec<Vec<&str>> = vec![
        vec!["--station", h, "lots"],
        vec!["produce", "--item", h, "--qty", "1", "--input", &lot_1],
        vec!["produce", "--item", "FLOUR", "--qty", "1", "--input", h],
        vec![
            "produce", "--item", "FLOUR", "--qty", "1", "--input", &lot_eq,
        ],
        vec![
            "produce", "--item", "FLOUR", "--qty", "1", "--input", &eq_lot,
        ],
        vec![
            "produce", "--item", "FLOUR", "--qty", "1", "--input", &lot_1, "--line", h,
        ],
        vec!["ship", "--customer", h, "--lot", &lot_1],
        vec!["ship", "--customer", "SHOP", "--lot", &lot_eq],
        vec!["adjust", l, "--qty", h, "--reason", "r"],
        vec!["adjust", h, "--qty", "1", "--reason", "r"],
        vec!["adjust", l, "--qty", "1", "--reason", h],
        vec!["hold", h, "--reason", "r"],
        vec!["hold", l, "--reason", "r", "--date", h],
        vec!["void", "1", "--reason", h],
        vec!["void", h, "--reason", "r"],
        vec!["trace", h],
        vec!["lots", "--item", h],
        vec!["lots", "--supplier", h],
        vec!["lots", "--supplier-lot", h],
        vec!["lots", "--status", h],
        vec!["lot", h],
        vec!["label", h, "--zpl"],
        vec!["label", l, "--to", h],
        vec!["item", "add", h, "--name", "n", "--unit", "kg"],
        vec!["item", "add", "X", "--name", h, "--unit", "kg"],
        vec!["item", "add", "X", "--name", "n", "--unit", h],
        vec![
            "item", "add", "X", "--name", "n", "--unit", "kg", "--kind", h,
        ],
        vec![
            "item", "add", "X", "--name", "n", "--unit", "kg", "--gtin", h,
        ],
        vec![
            "item",
            "add",
            "X",
            "--name",
            "n",
            "--unit",
            "kg",
            "--shelf-life",
            h,
        ],
        vec!["item", "show", h],
        vec!["party", "add", h, "--name", "n", "--role", "supplier"],
        vec!["party", "add", "P", "--name", "n", "--role", h],
        vec![
            "party", "add", "P", "--name", "n", "--role", "supplier", "--gln", h,
        ],
        vec![
            "party", "add", "P", "--name", "n", "--role", "supplier", "--city", h,
        ],
        vec!["party", "show", h],
        vec!["plant", "set", "--name", h],
        vec!["plant", "set", "--receipt-pattern", h],
        vec!["plant", "set", "--qa-users", h],
        vec!["barcode", h, "--separator", h],
        vec!["barcode", h, "--prefix", h],
        vec!["generate", "--lots", h],
        vec![h],
    ];
    // A good receipt with each of its values in turn replaced by the hostile text, then
    // with each optional flag given it.
    let receipt = [
        "receive",
        "--item",
        "FLOUR",
        "--supplier",
        "MILL",
        "--supplier-lot",
        "S",
        "--qty",
        "1",
    ];
    let mut table = table;
    for value in [2, 4, 6, 8] {
        let mut args = receipt.to_vec();
        args[value] = h;
        table.push(args);
    }
    for extra in [
        &["--unit", h][..],
        &["--date", h],
        &["--expiry", h],
        &["--ref", h],
        &["--ref", &ref_num],
        &["--temp", h],
        &["--inspection", h],
        &["--note", h],
        &["--label", "--to", h],
    ] {
        table.push([&receipt[..], extra].concat());
    }
    let before = p.snapshot();
    let mut failures = Vec::new();
    for args in &table {
        let r = p.run(args);
        let shown: Vec<String> = args.iter().map(|a| a.chars().take(12).collect()).collect();
        if !(r.code == 1 || r.code == 2) {
            failures.push(format!("{shown:?}: exit {} {}", r.code, r.stderr));
        }
        for (what, text) in [("stderr", &r.stderr), ("stdout", &r.stdout)] {
            if has_unsafe(&text.replace('\n', "")) {
                failures.push(format!("{shown:?}: raw text on {what}: {text:?}"));
            }
        }
        // Bounded: an excerpt of the 420-character input, not all of it. (clap's own
        // errors add a usage line and a hint.)
        if r.stderr.len() > 700 || r.stderr.contains(&"x".repeat(100)) {
            failures.push(format!("{shown:?}: {} bytes: {}", r.stderr.len(), r.stderr));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(p.snapshot(), before, "refusals stored nothing");
    eprintln!("{} hostile inputs refused cleanly", table.len());
}
