//! The command line for recall work, run as the real binary against a real database file:
//! receiving checks, expiry, master data, mock recalls, recall scope and returns.

use crate::support::{Plant, Run};
use serde_json::{Value, json};

/// A plant whose refusals are checked to leave master data alone too.
fn plant() -> Plant {
    Plant::new().watching_master_data()
}

impl Plant {
    /// Eggs kept at 7.2 °C at most, from a farm; dough and cookies; a shop buys them.
    fn master(&self) {
        self.ok(&[
            "item",
            "add",
            "EGGS",
            "--name",
            "Shell eggs",
            "--unit",
            "dozen",
            "--temp-max",
            "7.2",
        ]);
        self.ok(&["item", "add", "FLOUR", "--name", "Flour", "--unit", "kg"]);
        self.ok(&[
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
        self.ok(&[
            "item", "add", "COOKIE", "--name", "Cookies", "--unit", "case", "--kind", "finished",
        ]);
        self.ok(&[
            "party", "add", "FARM", "--name", "Farm", "--role", "supplier",
        ]);
        self.ok(&[
            "party", "add", "MILL", "--name", "Mill", "--role", "supplier",
        ]);
        self.ok(&[
            "party",
            "add",
            "SHOP",
            "--name",
            "Corner Shop",
            "--role",
            "customer",
            "--phone",
            "555-0100",
            "--contact-name",
            "Pat Buyer",
            "--contact-phone",
            "555-0101",
        ]);
    }

    fn receive(&self, item: &str, supplier: &str, slot: &str, qty: &str, extra: &[&str]) -> Run {
        let mut args = vec![
            "receive",
            "--item",
            item,
            "--supplier",
            supplier,
            "--supplier-lot",
            slot,
            "--qty",
            qty,
            "--date",
            "2026-11-01",
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }
}

#[test]
fn a_failed_receiving_check_holds_the_lot_and_says_why() {
    let p = plant();
    p.master();
    let r = p.receive(
        "EGGS",
        "FARM",
        "F-1",
        "30",
        &[
            "--temp",
            "19",
            "--inspection",
            "fail",
            "--note",
            "shells cracked",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let code = r.stdout.trim().to_string();
    assert_eq!(code.lines().count(), 1, "stdout is the code alone: {code}");
    assert!(
        r.stderr.contains(&format!("lot {code} is ON HOLD")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("receiving inspection failed"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("19.0 °C is above the item's maximum 7.2 °C"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("shells cracked"), "{}", r.stderr);

    let v = p.json(&["lot", &code, "--json"]);
    assert_eq!(v["status"], "hold");
    assert_eq!(v["receiving"]["temperature_c"], 19.0);
    assert_eq!(v["receiving"]["inspection"], "fail");
    assert_eq!(v["receiving"]["note"], "shells cracked");
    let events = v["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["kind"], "status");
    assert!(
        events[1]["description"]
            .as_str()
            .unwrap()
            .contains("receiving inspection failed")
    );
    let text = p.ok(&["lot", &code]);
    assert!(
        text.contains("19.0 °C, inspection FAIL, note: shells cracked"),
        "{text}"
    );

    // A held lot cannot be used until QA releases it.
    p.refused(
        &[
            "produce",
            "--item",
            "DOUGH",
            "--qty",
            "5",
            "--date",
            "2026-11-02",
            "--input",
            &format!("{code}=1"),
        ],
        "input",
        "on hold",
    );
    p.ok(&["release", &code, "--reason", "re-candled, shells fine"]);

    // In range and passed: released at once, nothing on stderr.
    let r = p.receive(
        "EGGS",
        "FARM",
        "F-2",
        "30",
        &["--temp", "4", "--inspection", "pass"],
    );
    assert_eq!(r.code, 0);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    let v = p.json(&["lot", r.stdout.trim(), "--json"]);
    assert_eq!(v["status"], "released");
    assert_eq!(v["receiving"]["temperature_c"], 4.0);

    // An item without a range holds only on a failed inspection.
    let r = p.receive("FLOUR", "MILL", "M-1", "100", &["--temp", "30"]);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn temperature_ranges_are_checked_when_an_item_is_added() {
    let p = plant();
    p.ok(&["item", "add", "X", "--name", "x", "--unit", "kg"]);
    p.refused(
        &[
            "item",
            "add",
            "MILK",
            "--name",
            "Milk",
            "--unit",
            "l",
            "--temp-min",
            "6",
            "--temp-max",
            "4",
        ],
        "temp-min",
        "above the maximum",
    );
    p.refused(
        &[
            "item",
            "add",
            "MILK",
            "--name",
            "Milk",
            "--unit",
            "l",
            "--temp-max",
            "cold",
        ],
        "temp-max",
        "Celsius",
    );
    p.ok(&[
        "item",
        "add",
        "FISH",
        "--name",
        "Frozen fish",
        "--unit",
        "kg",
        "--temp-max",
        "-18",
    ]);
    let shown = p.ok(&["item", "show", "FISH"]);
    assert!(shown.contains("at most -18.0 °C"), "{shown}");
}

#[test]
fn expired_lots_are_refused_unless_overridden_and_the_override_is_recorded() {
    let p = plant();
    p.master();
    let old = p.receive("FLOUR", "MILL", "M-OLD", "100", &["--expiry", "2026-11-10"]);
    let old = old.stdout.trim().to_string();
    let fresh = p.receive("FLOUR", "MILL", "M-NEW", "100", &["--expiry", "2030-01-01"]);
    let fresh = fresh.stdout.trim().to_string();
    let soon_date = {
        // Expires five days from today, whatever today is.
        let today = chrono::Local::now().date_naive();
        (today + chrono::Days::new(5)).to_string()
    };
    let soon = p.receive("FLOUR", "MILL", "M-SOON", "100", &["--expiry", &soon_date]);
    let soon = soon.stdout.trim().to_string();

    // Used in a batch after its expiry: refused, naming the line and the way out.
    let produce = |extra: &[&str]| {
        let mut a = vec![
            "produce",
            "--item",
            "DOUGH",
            "--qty",
            "10",
            "--date",
            "2026-11-20",
            "--input",
        ];
        let input = format!("{old}=10");
        a.push(&input);
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let args = produce(&[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    p.refused(&args, "input", "expired on 2026-11-10");
    let r = p.run(&args);
    assert!(r.stderr.contains("--allow-expired"), "{}", r.stderr);
    // With the override it is stored, and the override is in the lot's history.
    let args = produce(&["--allow-expired"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let dough = p.ok(&args);
    let v = p.json(&["lot", &old, "--json"]);
    let kinds: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["receive", "produce", "expiry override"]);
    let last = &v["events"][2];
    assert!(
        last["description"]
            .as_str()
            .unwrap()
            .contains(&format!("expired lot {old} used by event")),
        "{last}"
    );
    assert!(last["operator"].as_str().is_some_and(|o| !o.is_empty()));
    // An input that has not expired needs no override and records none.
    p.ok(&[
        "produce",
        "--item",
        "DOUGH",
        "--qty",
        "5",
        "--date",
        "2026-11-20",
        "--input",
        &format!("{fresh}=5"),
    ]);
    assert_eq!(
        p.json(&["lot", &fresh, "--json"])["events"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Shipping an expired lot: the same rule.
    p.ok(&[
        "produce",
        "--item",
        "COOKIE",
        "--qty",
        "4",
        "--date",
        "2026-11-20",
        "--expiry",
        "2026-11-21",
        "--input",
        &format!("{dough}=10"),
    ]);
    let cookies = p.json(&["lots", "--item", "COOKIE", "--json"])[0]["lot"]
        .as_str()
        .unwrap()
        .to_string();
    p.refused(
        &[
            "ship",
            "--customer",
            "SHOP",
            "--lot",
            &format!("{cookies}=1"),
        ],
        "lot",
        "expired on 2026-11-21",
    );
    p.ok(&[
        "ship",
        "--customer",
        "SHOP",
        "--lot",
        &format!("{cookies}=1"),
        "--allow-expired",
    ]);
    let text = p.ok(&["lot", &cookies]);
    assert!(text.contains("expiry override"), "{text}");

    // `lots` shows expiry and filters on it.
    let table = p.ok(&["lots", "--item", "FLOUR"]);
    assert!(table.lines().next().unwrap().contains("EXPIRY"), "{table}");
    assert!(table.contains("2026-11-10"), "{table}");
    let codes = |args: &[&str]| -> Vec<String> {
        p.json(args)
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["lot"].as_str().unwrap().to_string())
            .collect()
    };
    let expired = codes(&["lots", "--item", "FLOUR", "--expired", "--json"]);
    assert_eq!(expired, [old]);
    let soon_list = codes(&["lots", "--expiring-within", "7", "--json"]);
    assert_eq!(soon_list, [soon]);
    assert!(codes(&["lots", "--expiring-within", "4", "--json"]).is_empty());
    p.refused(
        &["lots", "--expiring-within", "soon"],
        "expiring-within",
        "number of days",
    );
    let r = p.run(&["lots", "--expired", "--expiring-within", "3"]);
    assert_eq!(r.code, 2, "the two filters contradict: {}", r.stderr);
}

#[test]
fn master_data_is_edited_and_retired_with_its_history_kept() {
    let p = plant();
    p.master();
    let lot = p.receive("EGGS", "FARM", "F-1", "30", &[]);
    assert_eq!(lot.code, 0, "{}", lot.stderr);

    let out = p.ok(&[
        "item",
        "edit",
        "EGGS",
        "--name",
        "Shell eggs, large",
        "--brand",
        "Sunny",
        "--temp-max",
        "5",
        "--ftl",
        "yes",
    ]);
    assert!(
        out.contains("name 'Shell eggs' -> 'Shell eggs, large'"),
        "{out}"
    );
    assert!(out.contains("brand '' -> 'Sunny'"), "{out}");
    let shown = p.ok(&["item", "show", "EGGS"]);
    for want in [
        "brand           Sunny",
        "pack size       -",
        "shelf life      -",
        "FTL             yes",
        "receiving temp  at most 5.0 °C",
        "status          active",
        "receiving temp 'at most 7.2 °C' -> 'at most 5.0 °C'",
    ] {
        assert!(shown.contains(want), "{want} in {shown}");
    }
    // A clear error for each bad flag, and nothing stored.
    p.refused(
        &["item", "edit", "EGGS", "--unit", "kg"],
        "unit",
        "cannot change",
    );
    p.refused(
        &["item", "edit", "EGGS", "--ftl", "maybe"],
        "ftl",
        "yes or no",
    );
    p.refused(&["item", "edit", "EGGS", "--name", ""], "name", "required");
    p.refused(
        &["item", "edit", "NOPE", "--brand", "x"],
        "item",
        "no item NOPE",
    );
    p.refused(
        &["item", "edit", "EGGS", "--brand", "Sunny"],
        "item",
        "nothing to change",
    );
    // A new item's unit can still be put right before it has lots.
    p.ok(&["item", "add", "SALT", "--name", "Salt", "--unit", "g"]);
    p.ok(&["item", "edit", "SALT", "--unit", "kg"]);

    // Retired: refused for new receipts, kept in history and traces.
    p.refused(&["item", "retire", "EGGS", "--reason", ""], "reason", "");
    let out = p.ok(&["item", "retire", "EGGS", "--reason", "supplier changed"]);
    assert!(out.contains("item EGGS retired"), "{out}");
    p.refused(
        &["item", "retire", "EGGS", "--reason", "again"],
        "item",
        "already retired",
    );
    let r = p.receive("EGGS", "FARM", "F-2", "30", &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("item: item EGGS was retired"),
        "{}",
        r.stderr
    );
    let shown = p.ok(&["item", "show", "EGGS"]);
    assert!(shown.contains("status          RETIRED"), "{shown}");
    assert!(shown.contains("supplier changed"), "{shown}");
    let v = p.json(&["item", "show", "EGGS", "--json"]);
    assert_eq!(v["retired"]["reason"], "supplier changed");
    assert_eq!(v["temp_max"], 5.0);
    // Its lot is still there and traces.
    let code = lot.stdout.trim();
    assert!(p.ok(&["trace", code]).contains(code));

    // Parties: every field shown, edited, retired.
    let out = p.ok(&[
        "party",
        "edit",
        "SHOP",
        "--gln",
        "0614141000005",
        "--contact-email",
        "pat@shop.example",
        "--city",
        "Salem",
    ]);
    assert!(out.contains("GLN '' -> '0614141000005'"), "{out}");
    let shown = p.ok(&["party", "show", "SHOP"]);
    for want in [
        "phone           555-0100",
        "GLN             0614141000005",
        "recall contact  Pat Buyer",
        "contact phone   555-0101",
        "contact email   pat@shop.example",
        "city '' -> 'Salem'",
    ] {
        assert!(shown.contains(want), "{want} in {shown}");
    }
    p.refused(&["party", "edit", "SHOP", "--gln", "123"], "gln", "");
    p.refused(
        &["party", "edit", "SHOP", "--role", "vendor"],
        "role",
        "accepted",
    );
    p.ok(&["party", "retire", "SHOP", "--reason", "closed down"]);
    let r = p.run(&[
        "ship",
        "--customer",
        "SHOP",
        "--lot",
        &format!("{code}=1"),
        "--allow-expired",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("party SHOP was retired"), "{}", r.stderr);
    let shown = p.ok(&["party", "show", "SHOP"]);
    assert!(shown.contains("RETIRED"), "{shown}");
    assert!(
        shown.contains("retired '' -> 'retired: closed down'"),
        "{shown}"
    );
    p.ok(&["check"]);
}

impl Plant {
    /// Eggs (100 dozen, supplier lot F-1) → dough → 40 cases of cookies; 15 cases to the
    /// shop on BOL:7 and 5 to the cafe (no recall contact). Returns (eggs, dough, cookies).
    /// `mock-recall export ID --xlsx XLSX --summary PAGE`.
    fn export_mock(&self, id: &str, xlsx: &std::path::Path, page: &std::path::Path) {
        self.ok(&[
            "mock-recall",
            "export",
            id,
            "--xlsx",
            xlsx.to_str().unwrap(),
            "--summary",
            page.to_str().unwrap(),
        ]);
    }

    fn egg_bakery(&self) -> (String, String, String) {
        self.master();
        self.ok(&[
            "party", "add", "CAFE", "--name", "Cafe", "--role", "customer",
        ]);
        let eggs = {
            let r = self.receive("EGGS", "FARM", "F-1", "100", &[]);
            assert_eq!(r.code, 0, "{}", r.stderr);
            r.stdout.trim().to_string()
        };
        let dough = self.ok(&[
            "produce",
            "--item",
            "DOUGH",
            "--qty",
            "50",
            "--input",
            &format!("{eggs}=60"),
            "--date",
            "2026-11-02",
        ]);
        let cookies = self.ok(&[
            "produce",
            "--item",
            "COOKIE",
            "--qty",
            "40",
            "--input",
            &format!("{dough}=50"),
            "--date",
            "2026-11-03",
        ]);
        self.ok(&[
            "ship",
            "--customer",
            "SHOP",
            "--lot",
            &format!("{cookies}=15"),
            "--ref",
            "BOL:7",
            "--date",
            "2026-11-04",
        ]);
        self.ok(&[
            "ship",
            "--customer",
            "CAFE",
            "--lot",
            &format!("{cookies}=5"),
            "--date",
            "2026-11-05",
        ]);
        (eggs, dough, cookies)
    }
}

#[test]
fn the_recall_scope_lists_customers_with_contacts_writes_the_call_list_and_holds_it_all() {
    let p = plant();
    let (eggs, dough, cookies) = p.egg_bakery();
    // The supplier's lot code finds our lot.
    let text = p.ok(&["scope", "F-1"]);
    assert!(
        text.contains(&format!("Supplier lot F-1 is our lot {eggs}")),
        "{text}"
    );
    assert!(text.contains("2 to hold"), "{text}");
    // The lot asked about is named as the recall's start, not as "(root)" beside its
    // status (which read as released by root).
    let root = text
        .lines()
        .find(|l| l.trim_start().starts_with(eggs.as_str()))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        root.ends_with("released; the lot the recall starts from"),
        "{root}"
    );
    assert!(!text.contains("(root)"), "{text}");
    assert!(
        text.contains("SHOP Corner Shop — Pat Buyer, 555-0101"),
        "{text}"
    );
    assert!(
        text.contains("CAFE Cafe — NO RECALL CONTACT ON FILE"),
        "{text}"
    );
    assert!(text.contains("BOL:7"), "{text}");
    assert!(
        text.contains("No recall contact on file for CAFE"),
        "{text}"
    );

    let v = p.json(&["scope", &eggs, "--json"]);
    let lots = v["lots"].as_array().unwrap();
    assert_eq!(lots.len(), 2, "the root and the finished lot: {v}");
    assert_eq!(lots[0]["lot"], eggs.as_str());
    assert_eq!(lots[0]["consumed"], 60);
    assert_eq!(lots[1]["lot"], cookies.as_str());
    assert_eq!(
        (
            &lots[1]["produced"],
            &lots[1]["shipped"],
            &lots[1]["on_hand"]
        ),
        (&Value::from(40), &Value::from(20), &Value::from(20))
    );
    assert_eq!(v["customers"][1]["customer"], "SHOP");
    assert_eq!(v["customers"][1]["phone"], "555-0101");
    assert_eq!(v["customers"][1]["shipments"][0]["reference"], "BOL:7");
    let hold: Vec<&str> = v["to_hold"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lot"].as_str().unwrap())
        .collect();
    assert_eq!(hold, vec![eggs.as_str(), cookies.as_str()]);
    assert!(!hold.contains(&dough.as_str()), "used up");

    // The notification list, CSV and XLSX; never over an existing file.
    let csv = p.path("call.csv");
    let xlsx = p.path("call.xlsx");
    p.ok(&[
        "scope",
        &eggs,
        "--notify-csv",
        csv.to_str().unwrap(),
        "--notify-xlsx",
        xlsx.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "customer,customer_name,contact_name,phone,email,product,description,lot,quantity,unit,ship_date,reference,shipment_event"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter().any(|r| r.starts_with(&format!(
            "SHOP,Corner Shop,Pat Buyer,555-0101,,COOKIE,Cookies,{cookies},15,case,2026-11-04,BOL:7,"
        ))),
        "{text}"
    );
    {
        use calamine::{Reader, Xlsx, open_workbook};
        let mut wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
        let range = wb.worksheet_range("Notification list").unwrap();
        let rows: Vec<_> = range.rows().collect();
        assert_eq!(rows.len(), 3, "header and two shipment lines");
        assert!(
            rows.iter()
                .any(|r| r[0] == calamine::Data::String("SHOP".into())
                    && r[8] == calamine::Data::Float(15.0))
        );
    }
    let before = std::fs::read(&csv).unwrap();
    p.refused(
        &["scope", &eggs, "--notify-csv", csv.to_str().unwrap()],
        "file",
        "already exists",
    );
    assert_eq!(std::fs::read(&csv).unwrap(), before, "never written over");
    p.refused(
        &["scope", "NOPE-1"],
        "lot",
        "is not one of our lots, nor a supplier lot",
    );

    // Hold everything on hand in one transaction, by the supplier's lot code.
    let out = p.ok(&["hold-all", "F-1", "--reason", "supplier recall F-1"]);
    assert!(out.starts_with("Held 2 lots in one transaction"), "{out}");
    assert_eq!(p.json(&["lot", &eggs, "--json"])["status"], "hold");
    assert_eq!(p.json(&["lot", &cookies, "--json"])["status"], "hold");
    let again = p.ok(&["hold-all", &eggs, "--reason", "again"]);
    assert!(again.starts_with("Nothing to hold"), "{again}");
    p.refused(&["hold-all", &eggs, "--reason", " "], "reason", "");
    assert!(p.ok(&["check"]).contains("all consistent"));
}

#[test]
fn returns_come_back_on_hold_against_their_shipment_and_count_in_the_balance() {
    let p = plant();
    let (eggs, _, cookies) = p.egg_bakery();
    let r = p.run(&[
        "return",
        "--shipment",
        "BOL:7",
        "--lot",
        &cookies,
        "--qty",
        "4",
        "--reason",
        "dented cases",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ret = r.stdout.trim().to_string();
    assert_eq!(ret, format!("{cookies}-R1"));
    assert!(r.stderr.contains("is ON HOLD"), "{}", r.stderr);
    let v = p.json(&["lot", &ret, "--json"]);
    assert_eq!(v["status"], "hold");
    assert_eq!(v["origin"], "returned");
    assert_eq!(v["supplier"], "SHOP", "where it came in from");
    assert_eq!(v["balance"], 4);

    // Bad input is refused and stores nothing.
    let ship = |qty: &str| {
        vec![
            "return".to_string(),
            "--shipment".into(),
            "BOL:7".into(),
            "--lot".into(),
            cookies.clone(),
            "--qty".into(),
            qty.into(),
        ]
    };
    let args = |v: &[String]| v.to_vec();
    let refuse = |v: Vec<String>, field: &str, words: &str| {
        let a: Vec<&str> = v.iter().map(String::as_str).collect();
        p.refused(&a, field, words);
    };
    refuse(
        args(&ship("12")),
        "qty",
        "15 case shipped to SHOP, 4 case returned already",
    );
    refuse(args(&ship("0")), "qty", "greater than zero");
    refuse(args(&ship("-2")), "qty", "greater than zero");
    let mut kg = ship("1");
    kg.extend(["--unit".into(), "kg".into()]);
    refuse(kg, "unit", "was shipped in case");
    refuse(
        vec![
            "return".into(),
            "--shipment".into(),
            "BOL:7".into(),
            "--lot".into(),
            eggs.clone(),
            "--qty".into(),
            "1".into(),
        ],
        "shipment",
        &format!("no shipment of lot {eggs} is 'BOL:7'"),
    );
    refuse(
        vec![
            "return".into(),
            "--shipment".into(),
            "1".into(),
            "--lot".into(),
            cookies.clone(),
            "--qty".into(),
            "1".into(),
        ],
        "shipment",
        "is not a shipment",
    );

    // The rest of that shipment may still come back; the mass balance shows it.
    p.ok(&args(&ship("11"))
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    let v = p.json(&["scope", &cookies, "--json"]);
    let shop = v["customers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["customer"] == "SHOP")
        .unwrap();
    assert_eq!(shop["returned"], 15);
    assert_eq!(v["lots"][0]["returned"], 15);
    // The return lots are stock in the recall scope, already held.
    assert_eq!(v["already_held"].as_array().unwrap().len(), 2, "{v}");
    // Traces pass through the return: back from it to the eggs.
    let trace = p.ok(&["trace", &ret, "--backward"]);
    assert!(trace.contains(&eggs), "{trace}");
    // The shipment cannot be voided while its returns stand.
    let hist = p.json(&["lot", &cookies, "--json"]);
    let ship_event = hist["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "ship")
        .unwrap()["event"]
        .as_u64()
        .unwrap()
        .to_string();
    p.refused(
        &["void", &ship_event, "--reason", "typo"],
        "event",
        "void the returns first",
    );
    assert!(p.ok(&["check"]).contains("all consistent"));
}

#[test]
fn a_mock_recall_keeps_over_counts_apart_counts_work_in_progress_and_carries_its_actions_everywhere()
 {
    let p = plant();
    let (eggs, _, cookies) = p.egg_bakery();
    // Dough made from the eggs and not used yet: 20 kg of work in progress.
    let wip = p.ok(&[
        "produce",
        "--item",
        "DOUGH",
        "--qty",
        "20",
        "--input",
        &format!("{eggs}=10"),
        "--date",
        "2026-11-04",
    ]);
    let id = p.ok(&["mock-recall", "start", "F-1", "--note", "Q4 drill"]);
    let count = |extra: &[&str]| {
        let mut a = vec!["mock-recall", "count", &id];
        a.extend_from_slice(extra);
        p.ok(&a)
    };
    // Work in progress is one of the lines counted.
    count(&["--lot", &wip, "--on-hand", "20"]);
    count(&["--lot", &eggs, "--on-hand", "30"]);
    // CAFE got 5 cases and says 9 came back: kept as entered, said at once, and never
    // found product making up SHOP's silence.
    let out = count(&["--customer", "CAFE", "--retrieved", "9"]);
    assert!(
        out.contains(&format!(
            "over-count 4 case: lot {cookies} at CAFE (more than was shipped; not taken as found)"
        )),
        "{out}"
    );
    let v = p.json(&["mock-recall", "show", &id, "--json"]);
    let line = |kind: &str, key: &str, val: &str| -> Value {
        v[kind]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x[key] == val)
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} {key}={val}: {v}"))
    };
    let cafe = line("customers", "customer", "CAFE");
    assert_eq!((&cafe["gap"], &cafe["over_count"]), (&json!(0), &json!(4)));
    let c = line("lots", "lot", &cookies);
    // 40 made, 20 shipped, 20 on hand uncounted: found only CAFE's 5.
    assert_eq!((&c["found"], &c["gap"]), (&json!(5), &json!(35)));
    let w = line("lots", "lot", wip.trim());
    assert_eq!(
        (&w["stage"], &w["counted"], &w["gap"]),
        (&json!("work in progress"), &json!(20), &json!(0))
    );
    let total = |unit: &str| line("totals", "unit", unit);
    assert_eq!(
        (&total("case")["found"], &total("case")["gap"]),
        (&json!(5), &json!(35))
    );
    // 50 kg of dough used in the cookies and 20 kg counted: the kilograms reconcile.
    assert_eq!(
        (&total("kg")["produced"], &total("kg")["found"]),
        (&json!(70), &json!(70))
    );
    let kinds: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap(), f["text"].as_str().unwrap()))
        .collect();
    assert!(
        kinds.contains(&(
            "gap",
            &*format!("gap 15 case: lot {cookies} at SHOP (no answer)")
        )),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(
            "gap",
            &*format!("gap 20 case: lot {cookies} on hand (not counted)")
        )),
        "{kinds:?}"
    );
    assert!(kinds.iter().any(|(k, _)| *k == "over_count"), "{kinds:?}");
    assert_eq!(v["backward"][0]["supplier_lot"], "F-1");
    assert_eq!(v["corrective_actions"], Value::Null, "not completed yet");

    // Completed only with the corrective actions; then every output carries them.
    p.refused(
        &["mock-recall", "finish", &id],
        "note",
        "give the corrective actions",
    );
    let actions = "Call SHOP again; CAFE recount, it named another lot";
    p.ok(&["mock-recall", "finish", &id, "--actions", actions]);
    let history = p.ok(&["lot", &eggs]);
    assert!(
        history.contains(&format!("corrective actions: {actions}")),
        "{history}"
    );
    let v = p.json(&["mock-recall", "show", &id, "--json"]);
    assert_eq!(v["corrective_actions"], actions);
    let taken = v["time_taken"].as_str().unwrap();
    assert!(
        taken.ends_with(" min") && taken.contains(" h "),
        "hours and minutes: {taken}"
    );
    let text = p.ok(&["mock-recall", "show", &id]);
    for want in [
        &format!("Corrective actions: {actions}"),
        &format!("time taken {taken}"),
        "Backward trace: 1 lot, 1 receiving record",
        "their lot F-1",
        "Forward trace: 4 lots, 2 shipments to 2 customers, 0 returns",
        "over-count 4 case",
        "Q4 drill",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    let xlsx = p.path("drill.xlsx");
    let page = p.path("drill.md");
    p.export_mock(&id, &xlsx, &page);
    {
        use calamine::{Data, Reader, Xlsx, open_workbook};
        let mut wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
        let mut cell = |sheet: &str, key: &str| -> String {
            let r = wb.worksheet_range(sheet).unwrap();
            let row = r
                .rows()
                .find(|r| r[0] == Data::String(key.into()))
                .unwrap_or_else(|| panic!("{sheet} has no {key}"));
            row[1].to_string()
        };
        assert_eq!(cell("Summary", "Corrective actions"), actions);
        assert_eq!(cell("Summary", "Time from start to completion"), taken);
        assert!(cell("Summary", "Gaps").starts_with("gap "));
        let back = wb.worksheet_range("Backward").unwrap();
        assert!(back.rows().any(|r| r[0] == Data::String(eggs.clone())
            && r[3] == Data::String("received".into())
            && r[9] == Data::String("F-1".into())));
        let fwd = wb.worksheet_range("Forward").unwrap();
        assert!(fwd.rows().any(
            |r| r[0] == Data::String("shipment".into()) && r[8] == Data::String("CAFE".into())
        ));
    }
    let md = std::fs::read_to_string(&page).unwrap();
    for want in [
        "## Backward trace: 1 lot, 1 receiving record",
        "their lot F-1",
        "## Forward trace: 4 lots",
        "## Gaps",
        &format!("- gap 15 case: lot {cookies} at SHOP (no answer)"),
        &format!("- over-count 4 case: lot {cookies} at CAFE"),
        "## Corrective actions",
        actions,
        &format!("- Time from start to completion: {taken}"),
    ] {
        assert!(md.contains(want), "{want}: {md}");
    }
    assert!(p.ok(&["check"]).contains("all consistent"));
}

#[test]
fn a_mock_recall_records_what_was_found_shows_the_gap_and_exports_for_the_auditor() {
    let p = plant();
    let (eggs, _, cookies) = p.egg_bakery();
    // A return recorded before counts as retrieved from that customer.
    p.ok(&[
        "return",
        "--shipment",
        "BOL:7",
        "--lot",
        &cookies,
        "--qty",
        "3",
    ]);
    let id = p.ok(&[
        "mock-recall",
        "start",
        "F-1",
        "--note",
        "Q4 SQF mock recall",
    ]);
    let count = |extra: &[&str]| {
        let mut a = vec!["mock-recall", "count", &id];
        a.extend_from_slice(extra);
        p.ok(&a)
    };
    count(&["--lot", &eggs, "--on-hand", "40"]);
    count(&["--lot", &cookies, "--on-hand", "19"]);
    // A recount supersedes, keeping the first.
    count(&["--lot", &cookies, "--on-hand", "18"]);
    count(&[
        "--customer",
        "SHOP",
        "--retrieved",
        "8",
        "--consumed",
        "2",
        "--destroyed",
        "1",
    ]);
    let ret = format!("{cookies}-R1");
    count(&["--lot", &ret, "--on-hand", "3", "--unit", "case"]);

    // Bad counts: negative, outside the scope, wrong unit, a customer who got nothing.
    let id_s = id.as_str();
    p.refused(
        &[
            "mock-recall",
            "count",
            id_s,
            "--lot",
            &cookies,
            "--on-hand",
            "-1",
        ],
        "on-hand",
        "negative",
    );
    p.refused(
        &[
            "mock-recall",
            "count",
            id_s,
            "--customer",
            "SHOP",
            "--consumed",
            "-3",
        ],
        "consumed",
        "negative",
    );
    let flour = p.receive("FLOUR", "MILL", "M-1", "25", &[]).stdout;
    p.refused(
        &[
            "mock-recall",
            "count",
            id_s,
            "--lot",
            flour.trim(),
            "--on-hand",
            "1",
        ],
        "lot",
        "is not one this mock recall reconciles",
    );
    p.refused(
        &[
            "mock-recall",
            "count",
            id_s,
            "--lot",
            &cookies,
            "--on-hand",
            "18",
            "--unit",
            "kg",
        ],
        "unit",
        "counted in case",
    );
    p.refused(
        &[
            "mock-recall",
            "count",
            id_s,
            "--customer",
            "FARM",
            "--retrieved",
            "1",
        ],
        "customer",
        "received nothing in this recall",
    );

    let v = p.json(&["mock-recall", "show", &id, "--json"]);
    assert_eq!(v["asked_as"], "F-1");
    let lots = v["lots"].as_array().unwrap();
    let c = lots.iter().find(|l| l["lot"] == cookies.as_str()).unwrap();
    // 40 made: 18 counted + SHOP 3 returned, 8 retrieved, 2 consumed, 1 destroyed; CAFE
    // (5 shipped) has not answered: 8 cases are not accounted for.
    assert_eq!(c["counted"], 18);
    assert_eq!(c["at_customers"], 14);
    assert_eq!(c["gap"], 8);
    assert_eq!(c["found_percent"], "80.00 %");
    let case = v["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["unit"] == "case")
        .unwrap();
    assert_eq!(
        (&case["produced"], &case["gap"]),
        (&Value::from(43), &Value::from(8))
    );
    let counts = v["counts"].as_array().unwrap();
    assert_eq!(counts.len(), 5);
    assert_eq!(counts[1]["superseded_by"], counts[2]["event"]);
    assert_eq!(v["uncounted"], 1, "CAFE");
    let text = p.ok(&["mock-recall", "show", &id]);
    assert!(text.contains("in progress"), "{text}");
    assert!(text.contains("(superseded by"), "{text}");

    // A gap is signed with the corrective actions, never without.
    p.refused(
        &["mock-recall", "finish", &id],
        "note",
        "give the corrective actions",
    );
    let done = p.ok(&[
        "mock-recall",
        "finish",
        &id,
        "--note",
        "CAFE called again Monday; recount of B-lots at the dock",
    ]);
    assert!(done.contains("completed"), "{done}");
    assert!(
        done.contains("corrective actions: CAFE called again Monday"),
        "{done}"
    );
    p.refused(
        &[
            "mock-recall",
            "count",
            id_s,
            "--lot",
            &cookies,
            "--on-hand",
            "20",
        ],
        "recall",
        "was completed",
    );
    let list = p.json(&["mock-recall", "list", "--json"]);
    assert_eq!(list[0]["id"].as_u64().unwrap().to_string(), id);
    assert!(list[0]["finished"].is_string());

    let xlsx = p.path("mock.xlsx");
    let page = p.path("mock.md");
    p.export_mock(&id, &xlsx, &page);
    {
        use calamine::{Reader, Xlsx, open_workbook};
        let mut wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
        assert_eq!(
            wb.sheet_names(),
            vec![
                "Summary",
                "Backward",
                "Forward",
                "Lots",
                "Customers",
                "Counts"
            ]
        );
        assert_eq!(wb.worksheet_range("Counts").unwrap().rows().count(), 6);
        let lots = wb.worksheet_range("Lots").unwrap();
        assert!(
            lots.rows()
                .any(|r| r[0] == calamine::Data::String(cookies.clone())
                    && r[12] == calamine::Data::Float(8.0))
        );
    }
    let md = std::fs::read_to_string(&page).unwrap();
    assert!(md.contains("QA manager: ____"), "{md}");
    assert!(md.contains("Auditor:    ____"), "{md}");
    assert!(md.contains("| **8** | **81.40 %** |"), "{md}");
    p.refused(
        &[
            "mock-recall",
            "export",
            id_s,
            "--summary",
            page.to_str().unwrap(),
        ],
        "file",
        "already exists",
    );
    p.refused(
        &["mock-recall", "show", "999999"],
        "recall",
        "no mock recall 999999",
    );
    assert!(p.ok(&["check"]).contains("all consistent"));
}
