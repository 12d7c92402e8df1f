//! `lotline init`: a new plant's database, identity, QA users and first items and parties.
//! At a terminal (no `--name`) it asks, one field at a time, with defaults in brackets;
//! a wrong value is explained and asked again; Ctrl-D (end of input) skips an optional
//! step. Nothing is written until the summary is confirmed; then each record is one
//! transaction through the station. Scripts give everything as flags instead.

use super::args::{Cli, InitArgs};
use super::{Failure, Res};
use lotline_domain::{Invalid, LabelSize};
use lotline_station::StationExt;
use lotline_station::setup::{self, PlantSetup};
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;

/// Text typed so far for one record, by field name.
type Typed = HashMap<&'static str, String>;

fn getter(t: &Typed) -> impl Fn(&str) -> String + '_ {
    move |k: &str| t.get(k).cloned().unwrap_or_default()
}

/// The current Unix user: the QA user (admin) a new plant names by default, so that the
/// person setting it up can go on managing it.
fn me() -> String {
    lotline_station::identity::Identity::current().user
}

/// Refuse a database that already holds a plant, saying what to run instead.
fn refuse_existing(cli: &Cli, db: &Path) -> Res<bool> {
    if !db.exists() {
        return Ok(false);
    }
    let st = super::open_read(cli, db)?;
    if setup::is_blank(st.as_ref())? {
        return Ok(true);
    }
    let s = st.stats()?;
    let plant = st.plant()?;
    Err(Failure::invalid(
        "db",
        format!(
            "{} already holds the plant {} ({}, {}, {}); init only sets up a new one: change this one with `lotline plant set`, `lotline item add` and `lotline party add`, or give init a new file with --db",
            db.display(),
            lotline_domain::text::excerpt(&plant.location.business_name),
            count(s.items, "item", "items"),
            count(s.parties, "party", "parties"),
            count(s.lots, "lot", "lots"),
        ),
    ))
}

fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Only an admin sets a plant up (its items, parties and identity are master data): say
/// so before anything is asked or created, not after the last question.
fn refuse_non_admin(cli: &Cli, db: &Path) -> Res {
    use lotline_station::Role;
    let me = lotline_station::identity::Identity::current();
    let roles = super::roles(cli, db, None)?;
    // A new plant names no QA users yet: only a roles file can make someone less than admin.
    let role = roles
        .role(&me.user, &me.groups, &[])
        .map_err(|why| Failure::new(super::Kind::NotAllowed, why))?;
    if role < Role::Admin {
        return Err(Failure::new(
            super::Kind::NotAllowed,
            format!(
                "{} has the role {} in {} and setting up a plant needs an admin; nothing was created. Run init as an admin, such as the service user: `runuser -u lotline -- lotline init`",
                me.user,
                role,
                roles
                    .file()
                    .map(|f| f.display().to_string())
                    .unwrap_or_else(|| "the roles file".into())
            ),
        ));
    }
    Ok(())
}

pub fn init(cli: &Cli, out: &mut impl Write, db: &Path, a: &InitArgs) -> Res {
    refuse_non_admin(cli, db)?;
    let exists = refuse_existing(cli, db)?;
    let setup = if a.name.is_some() {
        from_flags(a)?
    } else {
        let stdin = std::io::stdin();
        let mut p = Prompter {
            input: stdin.lock(),
            out: &mut *out,
        };
        match ask_all(&mut p, db)? {
            Some(s) => s,
            None => {
                writeln!(out, "Nothing was written.")?;
                return Ok(());
            }
        }
    };
    // A new file is made here, in this process: init never leaves a server behind to hold
    // the file (the service's own start would then fail). A blank plant that exists already
    // may be served: go through its server then.
    let st = if exists {
        super::open(cli, db, false)?
    } else {
        super::open_direct(cli, db, true)?
    };
    // A server may have been started by someone else meanwhile: check again on the
    // station that will write.
    if !setup::is_blank(st.as_ref())? {
        return Err(Failure::invalid(
            "db",
            format!(
                "{} was given a plant while init ran; nothing was written",
                db.display()
            ),
        ));
    }
    let saved = setup::apply(st.as_ref(), &setup).map_err(|stopped| {
        Failure::from(stopped.error.clone()).with_message(stopped.to_string())
    })?;
    writeln!(
        out,
        "Plant {} set up in {}: {}, {}.",
        setup.plant.location.business_name,
        db.display(),
        count(setup.items.len() as u64, "item", "items"),
        count(setup.parties.len() as u64, "party", "parties"),
    )?;
    debug_assert!(!saved.is_empty());
    let me = me();
    if !setup.plant.qa_users.is_empty() && !setup.plant.qa_users.contains(&me) {
        writeln!(
            out,
            "Note: you ({me}) are not a QA user: without a roles file you are an operator here now."
        )?;
    }
    writeln!(
        out,
        "Next: `lotline` opens the app (F7 Items/Parties for the rest of your items and suppliers); `lotline item add` and `lotline party add` add more from scripts."
    )?;
    Ok(())
}

/// `--item CODE,UNIT,KIND,NAME`: the name is the rest, so it may hold commas.
fn item_flag(text: &str, n: usize) -> Res<lotline_domain::NewItem> {
    let parts: Vec<&str> = text.splitn(4, ',').collect();
    let at = |e: Invalid| {
        Failure::invalid(
            "item",
            format!(
                "{n} ({}): {e}; write --item CODE,UNIT,KIND,NAME such as --item 'FLOUR,kg,ingredient,All-purpose flour'",
                lotline_domain::text::excerpt(text)
            ),
        )
    };
    if parts.len() < 4 {
        return Err(at(Invalid::new("item", "needs four parts")));
    }
    let mut t = Typed::new();
    for (k, v) in ["code", "unit", "kind", "name"].into_iter().zip(&parts) {
        t.insert(k, v.to_string());
    }
    setup::item_from(getter(&t)).map_err(at)
}

/// `--party ID,ROLE,NAME`: the name is the rest.
fn party_flag(text: &str, n: usize) -> Res<lotline_domain::NewParty> {
    let parts: Vec<&str> = text.splitn(3, ',').collect();
    let at = |e: Invalid| {
        Failure::invalid(
            "party",
            format!(
                "{n} ({}): {e}; write --party ID,ROLE,NAME such as --party 'MILL,supplier,Prairie Mill'",
                lotline_domain::text::excerpt(text)
            ),
        )
    };
    if parts.len() < 3 {
        return Err(at(Invalid::new("party", "needs three parts")));
    }
    let mut t = Typed::new();
    for (k, v) in ["id", "role", "name"].into_iter().zip(&parts) {
        t.insert(k, v.to_string());
    }
    setup::party_from(getter(&t)).map_err(at)
}

fn from_flags(a: &InitArgs) -> Res<PlantSetup> {
    let l = &a.location;
    let mut t = Typed::new();
    for (k, v) in [
        ("name", &a.name),
        ("phone", &l.phone),
        ("street", &l.street),
        ("city", &l.city),
        ("state", &l.state),
        ("zip", &l.zip),
        ("country", &l.country),
        ("gln", &l.gln),
    ] {
        t.insert(k, v.clone().unwrap_or_default());
    }
    t.insert("qa-users", a.qa_users.clone().unwrap_or_else(me));
    t.insert("label-size", a.label_size.clone().unwrap_or_default());
    let plant = setup::plant_from(getter(&t))?;
    let mut s = PlantSetup {
        plant,
        items: Vec::new(),
        parties: Vec::new(),
    };
    for (n, text) in a.item.iter().enumerate() {
        let i = item_flag(text, n + 1)?;
        s.check_new_item(&i)
            .map_err(|e| Failure::invalid("item", format!("{}: {}", n + 1, e.problem)))?;
        s.items.push(i);
    }
    for (n, text) in a.party.iter().enumerate() {
        let p = party_flag(text, n + 1)?;
        s.check_new_party(&p)
            .map_err(|e| Failure::invalid("party", format!("{}: {}", n + 1, e.problem)))?;
        s.parties.push(p);
    }
    Ok(s)
}

/// Questions and answers on a terminal, or on a pipe for tests and scripted installs.
struct Prompter<R: BufRead, W: Write> {
    input: R,
    out: W,
}

/// One question: the field's name (as errors name it), its label, its default.
struct Ask {
    field: &'static str,
    label: String,
    default: String,
}

fn ask(field: &'static str, label: impl Into<String>, default: &str) -> Ask {
    Ask {
        field,
        label: label.into(),
        default: default.to_string(),
    }
}

impl<R: BufRead, W: Write> Prompter<R, W> {
    /// A line typed, `None` at end of input (Ctrl-D).
    fn line(&mut self, prompt: &str) -> Res<Option<String>> {
        write!(self.out, "{prompt}")?;
        self.out.flush()?;
        let mut s = String::new();
        if self.input.read_line(&mut s)? == 0 {
            // The terminal shows no newline after Ctrl-D.
            writeln!(self.out)?;
            return Ok(None);
        }
        Ok(Some(s.trim_end_matches(['\n', '\r']).to_string()))
    }

    /// Ask the fields of one record in turn. Each answer is checked by `check` (the
    /// record's own parser over what was typed so far) and asked again when the error
    /// names this field. `None`: input ended (Ctrl-D) before the record was complete.
    fn record<T>(
        &mut self,
        fields: &[Ask],
        check: impl Fn(&Typed) -> Result<T, Invalid>,
    ) -> Res<Option<T>> {
        let mut typed = Typed::new();
        for f in fields {
            loop {
                let prompt = if f.default.is_empty() {
                    format!("  {}: ", f.label)
                } else {
                    format!("  {} [{}]: ", f.label, f.default)
                };
                let Some(v) = self.line(&prompt)? else {
                    // Ctrl-D: the rest of this record takes its defaults, if what was
                    // typed so far makes a whole record.
                    for rest in fields.iter().skip_while(|x| x.field != f.field) {
                        typed.insert(rest.field, rest.default.clone());
                    }
                    return Ok(check(&typed).ok());
                };
                let v = if v.trim().is_empty() {
                    f.default.clone()
                } else {
                    v
                };
                typed.insert(f.field, v);
                match check(&typed) {
                    Err(e) if e.field == f.field => {
                        writeln!(self.out, "  {}: {}; try again", e.field, e.problem)?;
                    }
                    _ => break,
                }
            }
        }
        // Every field answered: the record as a whole (a range, say) must pass too.
        match check(&typed) {
            Ok(t) => Ok(Some(t)),
            Err(e) => {
                writeln!(
                    self.out,
                    "  {}: {}; this one was not kept, enter it again",
                    e.field, e.problem
                )?;
                self.record(fields, check)
            }
        }
    }

    fn yes(&mut self, prompt: &str) -> Res<bool> {
        loop {
            match self.line(prompt)?.as_deref().map(str::trim) {
                None => return Ok(false),
                Some(a) if a.eq_ignore_ascii_case("y") || a.eq_ignore_ascii_case("yes") => {
                    return Ok(true);
                }
                Some(a)
                    if a.is_empty()
                        || a.eq_ignore_ascii_case("n")
                        || a.eq_ignore_ascii_case("no") =>
                {
                    return Ok(false);
                }
                Some(_) => writeln!(self.out, "  answer y or n")?,
            }
        }
    }
}

/// The whole conversation; `None` when the person declined at the end.
fn ask_all<R: BufRead, W: Write>(p: &mut Prompter<R, W>, db: &Path) -> Res<Option<PlantSetup>> {
    writeln!(
        p.out,
        "Setting up a new plant in {}.\nEnter takes the [default]; Ctrl-D skips an optional step. Nothing is written until you confirm.\n",
        db.display()
    )?;
    writeln!(
        p.out,
        "1/4 The plant: its FSMA location (name, address, phone, GLN) and label size"
    )?;
    let plant_fields = [
        ask("name", "Business name", ""),
        ask("phone", "Phone", ""),
        ask("street", "Street", ""),
        ask("city", "City", ""),
        ask("state", "State", ""),
        // The country before the ZIP: it says which rules the ZIP or postal code follows.
        ask("country", "Country", "US"),
        ask("zip", "ZIP or postal code", ""),
        ask("gln", "GLN (13 digits, optional)", ""),
        // The lot labels' size, as the guided start asks it: its choices, its default.
        ask(
            "label-size",
            format!(
                "Label size ({})",
                LabelSize::ALL.map(LabelSize::as_str).join(", ")
            ),
            LabelSize::default().as_str(),
        ),
    ];
    let Some(location) = p.record(&plant_fields, |t| setup::plant_from(getter(t)))? else {
        return Err(Failure::invalid(
            "name",
            "input ended before the plant's name was given; nothing was written. Run `lotline init` again, or give --name (and the other flags) in a script",
        ));
    };
    writeln!(
        p.out,
        "\n2/4 QA users: hold, release, recall, correct; without a roles file they are also the admins who change master data"
    )?;
    let me = me();
    let qa = p.record(&[ask("qa-users", "QA users (comma-separated)", &me)], |t| {
        setup::qa_users(&t["qa-users"]).map_err(|mut e| {
            e.field = "qa-users".into();
            e
        })
    })?;
    let mut s = PlantSetup {
        plant: lotline_domain::Plant {
            qa_users: qa.unwrap_or_else(|| vec![me.clone()]),
            ..location
        },
        items: Vec::new(),
        parties: Vec::new(),
    };
    writeln!(
        p.out,
        "\n3/4 First items (more later with F7 in the app or `lotline item add`); an empty code ends the list"
    )?;
    loop {
        let fields = [
            ask("code", "Item code (empty: done)", ""),
            ask("name", "Name", ""),
            ask(
                "unit",
                "Unit (kg, g, lb, oz, l, ml, gal, ea, case, dozen)",
                "kg",
            ),
            ask(
                "kind",
                "Kind (ingredient, packaging, intermediate, finished)",
                "ingredient",
            ),
            // What FDA's records need of a food, asked now rather than found missing at
            // a records request (`lotline kde --missing`).
            ask("ftl", "On FDA's Food Traceability List? (yes, no)", "no"),
            ask("pack-size", "Packaging size (such as 12 x 200 g)", ""),
            ask(
                "pack-style",
                "Packaging style (such as case, bag, tray)",
                "",
            ),
            ask("gtin", "GTIN (8 to 14 digits, optional)", ""),
            ask("shelf-life", "Shelf life in days (optional)", ""),
            ask("temp-min", "Lowest receiving temperature °C (optional)", ""),
            ask(
                "temp-max",
                "Highest receiving temperature °C (optional)",
                "",
            ),
        ];
        let Some(code) = p.line(&format!("  {}: ", fields[0].label))? else {
            break;
        };
        if code.trim().is_empty() {
            break;
        }
        // The code is checked on its own first, so a bad one is asked again at once.
        let taken = lotline_domain::ItemCode::parse(code.trim(), "code").and_then(|c| {
            match s.items.iter().any(|i| i.code == c) {
                true => Err(Invalid::new(
                    "code",
                    format!("item {c} is already in this setup; give another code"),
                )),
                false => Ok(()),
            }
        });
        if let Err(e) = taken {
            writeln!(p.out, "  code: {}; try again", e.problem)?;
            continue;
        }
        let check = |t: &Typed| {
            let mut t = t.clone();
            t.insert("code", code.clone());
            setup::item_from(getter(&t))
        };
        match p.record(&fields[1..], check)? {
            Some(i) => s.items.push(i),
            None => break,
        }
    }
    writeln!(
        p.out,
        "\n4/4 First suppliers and customers; an empty id ends the list"
    )?;
    loop {
        let fields = [
            ask("id", "Party id (empty: done)", ""),
            ask("name", "Business name", ""),
            ask("role", "Role (supplier, customer, both)", "supplier"),
            ask("phone", "Phone", ""),
            // The location description FDA's records give for every supplier and customer.
            ask("street", "Street", ""),
            ask("city", "City", ""),
            ask("state", "State", ""),
            ask("country", "Country", "US"),
            ask("zip", "ZIP or postal code", ""),
            ask("gln", "GLN (13 digits, optional)", ""),
            ask("contact-name", "Recall contact name", ""),
            ask("contact-phone", "Recall contact phone", ""),
            ask("contact-email", "Recall contact email", ""),
        ];
        let Some(id) = p.line(&format!("  {}: ", fields[0].label))? else {
            break;
        };
        if id.trim().is_empty() {
            break;
        }
        let taken = lotline_domain::PartyId::parse(id.trim(), "id").and_then(|x| {
            match s.parties.iter().any(|p| p.id == x) {
                true => Err(Invalid::new(
                    "id",
                    format!("party {x} is already in this setup; give another id"),
                )),
                false => Ok(()),
            }
        });
        if let Err(e) = taken {
            writeln!(p.out, "  id: {}; try again", e.problem)?;
            continue;
        }
        let check = |t: &Typed| {
            let mut t = t.clone();
            t.insert("id", id.clone());
            setup::party_from(getter(&t))
        };
        match p.record(&fields[1..], check)? {
            Some(x) => s.parties.push(x),
            None => break,
        }
    }
    writeln!(p.out, "\nThis will be written:")?;
    for line in s.summary() {
        writeln!(p.out, "  {line}")?;
    }
    if p.yes(&format!("Write this plant to {}? [y/N]: ", db.display()))? {
        Ok(Some(s))
    } else {
        Ok(None)
    }
}

impl Failure {
    /// The same failure (kind, exit code) with a fuller message.
    fn with_message(mut self, message: String) -> Failure {
        self.field = None;
        self.message = message;
        self
    }
}
