//! The command line: the scriptable face of lotline. Parses arguments, turns text into
//! domain values (so errors name the flag), calls the station, prints results.

mod args;
mod audit;
mod contract;
mod doctor;
mod epcis;
mod expiry;
mod fsma;
#[cfg(test)]
mod fuzz;
mod init;
mod json;
mod labels;
mod lookup;
mod master;
mod output;
mod paths;
mod recall;
mod receive;
mod recipes;
mod reliability;
mod safe;
mod served;

pub use contract::{Failure, Kind};

pub use paths::{default_db_path, default_demo_path, utf8_locale};

use args::*;
use clap::Parser;
use lotline_domain::*;
use lotline_domain::{Direction, LotFilter};
use lotline_station::file::{self, PlantFile, Why};
use lotline_station::{Station, StationError, StationExt};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

type Res<T = ()> = Result<T, Failure>;

pub fn main() -> ExitCode {
    lotline_station::quiet_storage_panics();
    let mut cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind as E;
            // Help and version are answers, not errors; a script that asked for JSON
            // gets a refused command line as JSON too.
            let json = std::env::args_os().any(|a| a == "--json");
            if matches!(e.kind(), E::DisplayHelp | E::DisplayVersion) || !json {
                return clap_exit(e);
            }
            report(&contract::usage(&e), true);
            return ExitCode::from(contract::EXIT_INVALID);
        }
    };
    let json = cli.json();
    // Where the plant is, read once; a broken config stops every command but `doctor`,
    // which is there to say what is wrong with it.
    use lotline_station::site::{ConfigChoice, Site};
    let site = Site::load(&ConfigChoice::from_env());
    let result = match site {
        Ok(site) => {
            cli.site = site;
            run(cli)
        }
        Err(problem) if matches!(cli.command, Some(Cmd::Doctor(_))) => {
            doctor::run_without_config(&cli, &problem)
        }
        // What repairs or checks a named file needs no config: a broken one must not stand
        // in the way of the tools used to put things right.
        Err(_)
            if matches!(
                cli.command,
                Some(
                    Cmd::Roles(_)
                        | Cmd::Check { file: Some(_), .. }
                        | Cmd::Salvage { .. }
                        | Cmd::Barcode(_)
                )
            ) =>
        {
            run(cli)
        }
        Err(problem) => Err(Failure::new(
            Kind::Invalid,
            format!("{problem}; correct it (`lotline doctor` checks the whole setup)"),
        )),
    };
    // A store dropped on the way out closed itself; what closing found is reported here,
    // so a failed close is never silent.
    let closing = file::take_close_failures();
    let result = match (result, closing.is_empty()) {
        (Ok(()), false) => Err(Failure::data(closing.join("; "))),
        (r, _) => r,
    };
    match result {
        Ok(()) => ExitCode::from(contract::EXIT_OK),
        Err(f) => {
            report(&f, json);
            ExitCode::from(f.code())
        }
    }
}

/// A failure on stderr: one line for people, one JSON object for scripts.
fn report(f: &Failure, json: bool) {
    // A closed pipe (`lotline lots | head`) is not an error worth a message.
    if f.message.contains("Broken pipe") {
        return;
    }
    if json {
        eprintln!("{}", safe::json_escape_unsafe(&f.json().to_string()));
    } else {
        // Errors quote paths and input: escaped, like everything else printed.
        eprintln!("lotline: {}", lotline_domain::text::escape_lines(&f.text()));
    }
}

/// Help and version as clap prints them; an argument error with the text escaped, since
/// clap quotes the bad value as it was given (escapes included).
fn clap_exit(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind as K;
    if matches!(e.kind(), K::DisplayHelp | K::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    // clap quotes the whole bad value: each line is cut to a bounded length.
    let text = e.render().to_string();
    for line in lotline_domain::text::escape_lines(&text).lines() {
        let n = line.chars().count();
        if n > 100 {
            let head: String = line.chars().take(100).collect();
            eprintln!("{head}… ({n} characters)");
        } else {
            eprintln!("{line}");
        }
    }
    ExitCode::from(contract::EXIT_INVALID)
}

/// The Unix user running this process: the "who" stamped on records made here when the
/// file is opened directly. It comes from the kernel's uid through the system's user
/// database, never from `$USER`, which anyone can set.
fn caller(cli: &Cli) -> Res<lotline_station::Caller> {
    let me = lotline_station::identity::Identity::current();
    Ok(lotline_station::Caller::new(
        me.user,
        me.groups,
        station_name(cli)?,
    ))
}

fn station_name(cli: &Cli) -> Res<String> {
    use lotline_domain::text;
    use lotline_station::identity::{ssh_client_address, tty_name, with_ssh_address};
    let ssh = ssh_client_address();
    let configured = || cli.site.station_for(ssh.as_deref(), tty_name().as_deref());
    match cli.station.clone().or_else(configured) {
        // A named station (a handheld's name, from the flag or the config) keeps the SSH
        // address it was reached from, so the audit has both; the address is the
        // session's claim.
        Some(s) => Ok(text::station_name(
            &with_ssh_address(&text::station_name(&s, "station")?, ssh.as_deref()),
            "station",
        )?),
        // A host or terminal name that would not pass is not worth refusing a command
        // over, so it is shown escaped instead.
        None => {
            let name = lotline_station::identity::default_station_name(&paths::hostname());
            Ok(text::station_name(&name, "station").unwrap_or_else(|_| {
                text::escape(&name)
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .take(text::MAX_STATION_CHARS)
                    .collect()
            }))
        }
    }
}

/// The roles a plant's writes are checked against in this process (`--no-server`): found
/// as its server finds them (`Roles::discover`), from what the plant and the system config
/// name — never from this caller's environment or flags, which would let anyone name a
/// roles file of their own.
fn roles(cli: &Cli, db: &Path, store: Option<&PlantFile>) -> Res<lotline_station::Roles> {
    let recorded = match store {
        Some(s) => s.roles_file()?,
        None => None,
    };
    let (configured, beside) = cli.site.roles_for(db);
    lotline_station::Roles::discover(
        None,
        configured.as_deref(),
        recorded.as_deref(),
        beside.as_deref(),
    )
    .map_err(|e| Failure::new(Kind::Data, e.for_users()))
}

/// `lotline roles check FILE`: who gets which role, or where the mistake is.
fn roles_check(out: &mut impl Write, file: &Path) -> Res {
    let map = lotline_station::roles::RoleMap::read(file).map_err(|e| Failure {
        kind: Kind::Invalid,
        field: Some("file".into()),
        message: format!(
            "{e}; correct it before it goes live (a running server keeps the roles it read last while its file has a mistake)"
        ),
    })?;
    writeln!(out, "{} is good:", file.display())?;
    for line in map.describe() {
        writeln!(out, "  {line}")?;
    }
    // A misspelt name reads fine and gives nobody the role: the likeliest lock-out.
    use lotline_station::identity::{group_exists, user_exists};
    for name in map.names() {
        let known = match name.strip_prefix('@') {
            Some(g) => group_exists(g),
            None => user_exists(name),
        };
        if !known {
            writeln!(
                out,
                "  warning: this machine knows no {} named {} (misspelt?); it gives nobody a role",
                if name.starts_with('@') {
                    "group"
                } else {
                    "user"
                },
                lotline_domain::text::escape(name.trim_start_matches('@'))
            )?;
        }
    }
    Ok(())
}

/// A station handle the app can share with its export thread.
type Handle = Box<dyn Station + Send + Sync>;

/// A station on this file opened in this process (`--no-server`).
fn local(cli: &Cli, store: PlantFile) -> Res<Handle> {
    let roles = match roles(cli, store.path(), Some(&store)) {
        Ok(r) => r,
        // A read-only handle never writes, so roles decide nothing there: a roles file
        // with a mistake must not stop `lots`, `trace` or `check`.
        Err(_) if !store.writable() => lotline_station::Roles::from_plant(),
        Err(f) => return Err(f),
    };
    Ok(Box::new(store.into_local(caller(cli)?, roles)))
}

/// The file itself, opened for writing in this process (`--no-server`, and `init` of a new
/// plant): busy, with the server's pid, when a server holds it.
fn open_direct(cli: &Cli, path: &Path, create: bool) -> Res<Handle> {
    match PlantFile::open(path, create) {
        Ok(store) => local(cli, store),
        Err(e) if e.why == Why::InUse => {
            let socket = socket_of(cli, path);
            let who = match lotline_station::server::served_by(&socket) {
                Some(pid) => format!("lotline serve (pid {pid})"),
                None => "another lotline process".into(),
            };
            // Busy: the same command works once the writer is gone.
            Err(Failure::new(
                Kind::Busy,
                format!(
                    "{} is open for writing by {who}; run this without --no-server to go through the server",
                    path.display()
                ),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// The station for a command that writes: the plant's server (started when none runs,
/// as tmux does), or with `--no-server` the file itself.
fn open(cli: &Cli, path: &Path, create: bool) -> Res<Handle> {
    // Never a new database by accident: only `--create` (or `init`, the demo) makes one.
    let create = create || cli.create;
    if cli.no_server {
        return open_direct(cli, path, create);
    }
    // Only a file that is not there is missing: one in a folder this user may not enter
    // (the service's 0700 folder) is reached through its server.
    let missing =
        matches!(std::fs::metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound);
    if !create && missing {
        return Err(file::missing(path).into());
    }
    let socket = socket_of(cli, path);
    if cli.site.is_service(path, &socket) {
        // The service's server runs as the service user with the plant's group, roles and
        // backups; one started here would have none of them and would keep the service
        // from starting. So a stopped service is reported, never replaced.
        use lotline_station::remote::{ConnectError, Remote};
        return match Remote::connect_to(path, &socket, &station_name(cli)?) {
            Ok(remote) => Ok(Box::new(remote)),
            Err(ConnectError::NoServer(_)) => Err(Failure::new(
                Kind::Busy,
                format!(
                    "the plant's server is not running (nothing answers on {}); nothing was done. Ask IT to start it (`systemctl start lotline`), then try again",
                    socket.display()
                ),
            )),
            Err(e) => Err(StationError::from(e).into()),
        };
    }
    let exe = std::env::current_exe().map_err(|e| {
        Failure::data(format!(
            "cannot find the lotline program to start its server: {e}"
        ))
    })?;
    let autostart = lotline_station::remote::Autostart {
        exe,
        db: path.to_path_buf(),
        create,
        idle_exit: 60,
    };
    let remote =
        lotline_station::remote::Remote::connect_or_start(&socket, &station_name(cli)?, autostart)
            .map_err(StationError::from)?;
    Ok(Box::new(remote))
}

fn socket_of(cli: &Cli, db: &Path) -> PathBuf {
    cli.socket
        .clone()
        .or_else(|| cli.site.socket_for(db))
        .unwrap_or_else(|| lotline_station::remote::socket_path(db))
}

/// Open for a command that only reads: read-only, so it runs beside the writer, on a
/// read-only file or mount, and never changes the file. A file this user cannot read,
/// or one that needs its writer first (recovery after a crash, a schema upgrade), is
/// read through the server instead.
fn open_read(cli: &Cli, path: &Path) -> Res<Handle> {
    if cli.create && !path.exists() {
        return open(cli, path, true);
    }
    match PlantFile::open_read_only(path) {
        Ok(store) => local(cli, store),
        Err(e) if e.why == Why::NeedsWriter => open(cli, path, false),
        Err(e) if e.why == Why::NoAccess && !cli.no_server => open(cli, path, false),
        Err(e) => Err(StationError::from(e).into()),
    }
}

/// Run one command line. Everything it prints goes through one buffer, written out in
/// large blocks and flushed once at the end (also after a failure, so what was printed
/// before it is not lost): stdout's own line buffering made a 2.7 MB trace 60,000 writes.
pub fn run(cli: Cli) -> Res {
    use std::io::IsTerminal;
    let stdout = std::io::stdout();
    json::set_pretty(cli.pretty || stdout.is_terminal());
    // Buffered in front of the escaping, so it checks large blocks, not each field.
    let mut out =
        std::io::BufWriter::with_capacity(64 * 1024, safe::SafeWriter::new(stdout.lock()));
    let done = run_to(cli, &mut out);
    let flushed = out.flush();
    done?;
    Ok(flushed?)
}

fn run_to(cli: Cli, out: &mut impl Write) -> Res {
    let db = cli
        .db
        .clone()
        .or_else(paths::env_db_path)
        .or_else(|| cli.site.db.clone())
        .unwrap_or_else(default_db_path);
    if let Some(s) = &cli.station {
        lotline_domain::text::station_name(s, "station")?;
    }
    let cmd = match &cli.command {
        Some(c) => c,
        None => {
            if on_terminal() {
                // Refuse a bad keymap before anything else happens.
                let options = tui_options(&cli.tui)?;
                if needs_setup(&cli, &db) {
                    return first_run(&cli, &db, options);
                }
                let st = open(&cli, &db, false)?;
                return tui(&st, options);
            }
            let st = open_read(&cli, &db)?;
            return output::summary(out, &st, &db);
        }
    };
    match cmd {
        Cmd::Init(a) => init::init(&cli, out, &db, a),
        Cmd::Demo(d) => {
            let path = cli.db.clone().unwrap_or_else(default_demo_path);
            demo(&cli, out, &path, d)
        }
        Cmd::Plant(PlantCmd::Show { json }) => {
            let st = open_read(&cli, &db)?;
            output::plant(out, &st.plant()?, *json)
        }
        Cmd::Plant(PlantCmd::Set(p)) => {
            let st = open(&cli, &db, cli.create)?;
            let plant = p.apply(st.plant()?)?;
            st.set_plant(plant.clone())?;
            output::plant(out, &plant, false)
        }
        Cmd::Item(ItemCmd::Add(a)) => {
            let st = open(&cli, &db, cli.create)?;
            let item = a.to_new()?;
            let code = item.code.clone();
            st.add_item(item)?;
            writeln!(out, "{code}")?;
            Ok(())
        }
        Cmd::Item(ItemCmd::Edit(e)) => master::edit_item(&open(&cli, &db, false)?, out, e),
        Cmd::Item(ItemCmd::Retire { code, reason }) => {
            master::retire_item(&open(&cli, &db, false)?, out, code, reason)
        }
        Cmd::Party(PartyCmd::Edit(e)) => master::edit_party(&open(&cli, &db, false)?, out, e),
        Cmd::Party(PartyCmd::Retire { id, reason }) => {
            master::retire_party(&open(&cli, &db, false)?, out, id, reason)
        }
        Cmd::Item(ItemCmd::List { json }) => {
            let st = open_read(&cli, &db)?;
            output::items(out, &st.items()?, *json)
        }
        Cmd::Item(ItemCmd::Show { code, json }) => {
            let st = open_read(&cli, &db)?;
            let item = st.item(ItemCode::parse(code, "item")?)?;
            if *json {
                output::item(out, &item)
            } else {
                master::item_detail(out, &item)?;
                master::changes(out, &st.item_history(item.code.clone())?)
            }
        }
        Cmd::Party(PartyCmd::Add(a)) => {
            let st = open(&cli, &db, cli.create)?;
            let p = a.to_new()?;
            let id = p.id.clone();
            st.add_party(p)?;
            writeln!(out, "{id}")?;
            Ok(())
        }
        Cmd::Party(PartyCmd::List { role, json }) => {
            let st = open_read(&cli, &db)?;
            let role: Option<Role> = role.as_deref().map(str::parse).transpose()?;
            let list: Vec<Party> = st
                .parties()?
                .into_iter()
                .filter(|p| match role {
                    Some(Role::Supplier) => p.role.supplies(),
                    Some(Role::Customer) => p.role.buys(),
                    _ => true,
                })
                .collect();
            output::parties(out, &list, *json)
        }
        Cmd::Party(PartyCmd::Show { id, json }) => {
            let st = open_read(&cli, &db)?;
            let party = st.party(PartyId::parse(id, "party")?)?;
            if *json {
                output::party(out, &party)
            } else {
                master::party_detail(out, &party)?;
                master::changes(out, &st.party_history(party.id.clone())?)
            }
        }
        Cmd::Receive(r) => receive::receive(&cli, out, &db, r),
        Cmd::Produce(p) => {
            let st = open(&cli, &db, cli.create)?;
            let printer = p.label.then(|| p.printer.printer()).transpose()?;
            let batch = p.to_new(st.today()?)?;
            let created = match p.override_() {
                None => st.produce(batch),
                Some(o) => st.produce_override(batch, o),
            }
            .map_err(command_line_words)
            .map_err(recipes::recipe_hint)?;
            writeln!(out, "{}", created.code)?;
            say_held(&created);
            print_new_label(&st, printer, &created.code, "made")
        }
        Cmd::Label(l) => labels::label(open_read(&cli, &db)?.as_ref(), out, l),
        Cmd::Ship(s) => {
            let st = open(&cli, &db, cli.create)?;
            let event = st
                .ship(s.to_new(st.today()?)?)
                .map_err(command_line_words)?;
            writeln!(out, "{event}")?;
            Ok(())
        }
        Cmd::Trace(t) => {
            let st = open_read(&cli, &db)?;
            let found = lookup::one_lot(&st, &t.lot, "lot")?;
            let lot = found.lot().code.clone();
            if let (lookup::Found::Supplier { text, .. }, false) = (&found, t.json) {
                writeln!(out, "Supplier lot {text} is our lot {lot}.")?;
            }
            let dir = if t.backward {
                Direction::Backward
            } else if t.forward {
                Direction::Forward
            } else {
                Direction::Both
            };
            let trace = st.trace(lot, dir)?;
            if t.json {
                output::trace_json(out, &trace)
            } else {
                output::trace_text(out, &st, &trace, t.ascii || !utf8_locale())
            }
        }
        Cmd::Lots(l) => {
            let st = open_read(&cli, &db)?;
            let filter = LotFilter {
                item: l
                    .item
                    .as_deref()
                    .map(|i| ItemCode::parse(i, "item"))
                    .transpose()?,
                supplier: l
                    .supplier
                    .as_deref()
                    .map(|s| PartyId::parse(s, "supplier"))
                    .transpose()?,
                supplier_lot: l
                    .supplier_lot
                    .as_deref()
                    .map(|s| SupplierLot::parse(s, "supplier-lot").map(|s| s.as_str().to_string()))
                    .transpose()?,
                status: l
                    .status
                    .as_deref()
                    .map(str::parse::<LotStatus>)
                    .transpose()?,
                on_hand: l.on_hand,
            };
            // A filter naming nothing is a typo, not an empty answer.
            if let Some(item) = &filter.item {
                st.item(item.clone()).map_err(|e| {
                    Failure::from(e).in_field("item", "`lotline item list` shows the item codes")
                })?;
            }
            if let Some(sup) = &filter.supplier {
                st.party(sup.clone()).map_err(|e| {
                    Failure::from(e).in_field("supplier", "`lotline party list` shows the ids")
                })?;
            }
            let today = st.today()?;
            let found = match &l.contains {
                None => st.lots(filter)?,
                Some(a) => st
                    .lots_containing(a.clone())?
                    .into_iter()
                    .filter(|lot| filter.matches(lot))
                    .collect(),
            };
            let lots = crate::cli::expiry::filter(found, l, today)?;
            output::lots(out, &lots, l.json)
        }
        Cmd::Lot { code, json } => {
            let st = open_read(&cli, &db)?;
            let code = LotCode::parse(code, "lot")?;
            let h = st.lot_history(code.clone())?;
            let allergens = st.lot_allergens(code)?;
            output::history(out, &h, Some(&allergens), *json)
        }
        Cmd::Hold(s) => status(&cli, out, &db, s, LotStatus::Hold),
        Cmd::Release(s) => status(&cli, out, &db, s, LotStatus::Released),
        Cmd::Recall(s) => status(&cli, out, &db, s, LotStatus::Recalled),
        Cmd::Adjust(a) => {
            let st = open(&cli, &db, false)?;
            let today = st.today()?;
            let delta: Qty = a
                .qty
                .parse()
                .map_err(|e: QtyParseError| Invalid::new("qty", e.0))?;
            let event = st.adjust(Adjustment {
                lot: LotCode::parse(&a.lot, "lot")?,
                delta,
                date: opt_past_date(a.date.as_deref(), today)?,
                reason: a.reason.clone(),
            })?;
            writeln!(out, "{event}")?;
            Ok(())
        }
        Cmd::Void(v) => {
            let st = open(&cli, &db, false)?;
            let today = st.today()?;
            let event = st.void(VoidEvent {
                event: v.event,
                date: opt_past_date(v.date.as_deref(), today)?,
                reason: v.reason.clone(),
            })?;
            writeln!(out, "{event}")?;
            Ok(())
        }
        Cmd::Fsma(a) => fsma::fsma(&open_read(&cli, &db)?, out, a),
        Cmd::Kde(a) => fsma::kde(&open_read(&cli, &db)?, out, a),
        Cmd::Plan(a) => fsma::plan(&open_read(&cli, &db)?, out, a),
        Cmd::Barcode(b) => barcode(&cli, out, &db, b),
        Cmd::Serve(a) => serve(&cli, &db, a),
        Cmd::Doctor(_) => doctor::run(&cli, out, &db),
        Cmd::Audit(a) => {
            let st = open_read(&cli, &db)?;
            audit::run(out, st.as_ref(), a)
        }
        Cmd::Generate(g) => generate(&cli, out, g),
        Cmd::Epcis(e) => epcis::run(&cli, &db, out, e),
        Cmd::Check { file, json } => {
            let path = file.as_deref().unwrap_or(&db);
            // A file this user may not read is not damage: the plant's server checks it.
            match served::unreadable(path) {
                Some(why) => served::check(&cli, out, path, &db, *json, why),
                None => reliability::check(&cli, out, path, *json),
            }
        }
        Cmd::Backup { file } => match served::unreadable(&db) {
            Some(why) => served::backup(&cli, out, &db, file, why),
            None => reliability::backup(out, &db, file),
        },
        Cmd::Salvage { damaged, new } => reliability::salvage(out, damaged, new),
        Cmd::Roles(RolesCmd::Check { file }) => roles_check(out, file),
        Cmd::Scope(a) => recall::scope(open_read(&cli, &db)?.as_ref(), out, a),
        Cmd::HoldAll(a) => recall::hold_all(open(&cli, &db, false)?.as_ref(), out, a),
        Cmd::Return(a) => recall::return_goods(open(&cli, &db, false)?.as_ref(), out, a),
        Cmd::Recipe(c) => {
            let st = match c {
                recipes::RecipeCmd::Show { .. } | recipes::RecipeCmd::List { .. } => {
                    open_read(&cli, &db)?
                }
                _ => open(&cli, &db, false)?,
            };
            recipes::recipe(st.as_ref(), out, c)
        }
        Cmd::Allergens(c) => {
            let st = match c {
                recipes::AllergensCmd::Show { .. } => open_read(&cli, &db)?,
                _ => open(&cli, &db, false)?,
            };
            recipes::allergens(st.as_ref(), out, c)
        }
        Cmd::Changeover(a) => recipes::changeover(open(&cli, &db, false)?.as_ref(), out, a),
        Cmd::Yields(a) => recipes::yields(open_read(&cli, &db)?.as_ref(), out, a),
        Cmd::MockRecall(c) => {
            use recall::MockCmd as M;
            let st = match c {
                M::Show { .. } | M::Export { .. } | M::List { .. } => open_read(&cli, &db)?,
                M::Start { .. } | M::Count(_) | M::Finish { .. } => open(&cli, &db, false)?,
            };
            recall::mock(st.as_ref(), out, c)
        }
    }
}

/// A new lot held at once (a failed dock check, an undeclared allergen, possible
/// cross-contact): said on stderr, so scripts still read the code alone from stdout.
fn say_held(created: &lotline_domain::api::Created) {
    if let Some(why) = &created.hold {
        eprintln!(
            "lotline: lot {} is ON HOLD: {}; QA must release it (`lotline release {} --reason ...`) before it is used",
            created.code,
            lotline_domain::text::escape_lines(why),
            created.code
        );
    }
}

fn status(cli: &Cli, out: &mut impl Write, db: &Path, s: &StatusArgs, to: LotStatus) -> Res {
    let st = open(cli, db, false)?;
    let today = st.today()?;
    let lot = LotCode::parse(&s.lot, "lot")?;
    let event = st.set_status(StatusChange {
        lot: lot.clone(),
        to,
        date: opt_past_date(s.date.as_deref(), today)?,
        reason: s.reason.clone(),
    })?;
    writeln!(out, "lot {lot} is now {} (event {event})", to.words())?;
    Ok(())
}

fn demo(cli: &Cli, out: &mut impl Write, path: &PathBuf, d: &DemoArgs) -> Res {
    // `lotline --mono demo` and `lotline demo --mono` mean the same.
    let args = TuiArgs {
        keymap: d.tui.keymap.clone().or_else(|| cli.tui.keymap.clone()),
        mono: d.tui.mono || cli.tui.mono,
        ascii: d.tui.ascii || cli.tui.ascii,
    };
    let options = if on_terminal() {
        Some(tui_options(&args)?)
    } else {
        None
    };
    let served = || lotline_station::server::served_by(&socket_of(cli, path));
    if path.exists() {
        // Only a file the demo made may be replaced: on --fresh, or when its build was
        // interrupted (the finished demo's name is written last).
        let st = open_read(cli, path)?;
        let unfinished = lotline_station::demo::is_unfinished_demo(&st)?;
        if d.fresh || unfinished {
            if !(unfinished || lotline_station::demo::is_demo(&st)?) {
                return Err(Failure::invalid(
                    "db",
                    format!(
                        "{} is not a demo database; it was left alone",
                        path.display()
                    ),
                ));
            }
            drop(st);
            let idle = lotline_station::server::stop_if_idle(path, &socket_of(cli, path))?;
            if !idle && let Some(pid) = served() {
                return Err(Failure::new(
                    Kind::Busy,
                    format!(
                        "the demo plant is open in another terminal (lotline serve pid {pid}); close the demo there first"
                    ),
                ));
            }
            if unfinished {
                eprintln!(
                    "The demo in {} was interrupted while it was built; building it again.",
                    lotline_domain::text::escape(&path.display().to_string())
                );
            }
            std::fs::remove_file(path)
                .map_err(|e| Failure::data(format!("cannot remove {}: {e}", path.display())))?;
        }
    }
    // The demo is built in this process, straight into the file (thousands of records
    // without a round trip each), unless another terminal's server already has it.
    if served().is_none() {
        let store = PlantFile::open(path, true).map_err(StationError::from)?;
        let roles = roles(cli, path, Some(&store))?;
        let st = store.into_local(caller(cli)?, roles);
        if st.stats()?.items == 0 {
            eprintln!(
                "Building the demo plant in {} ...",
                lotline_domain::text::escape(&path.display().to_string())
            );
            lotline_station::demo::build(&st, &mut |msg| eprintln!("  {msg}"))
                .map_err(Failure::from)?;
        }
        st.close()?;
    }
    let st = match options {
        Some(_) => open(cli, path, false)?,
        None => open_read(cli, path)?,
    };
    if !lotline_station::demo::is_demo(&st)? {
        return Err(Failure::invalid(
            "db",
            format!(
                "{} already holds a plant that is not the demo; give the demo its own file with --db",
                path.display()
            ),
        ));
    }
    match options {
        Some(options) => tui(&st, options),
        None => output::demo_summary(out, &st, path),
    }
}

/// Both ends of the conversation are a person at a terminal (not a pipe or a test).
fn on_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// The app's options from the command line, the config file and the environment. A bad
/// keymap or config file is refused here, naming the file, the key and the reason.
fn tui_options(args: &TuiArgs) -> Res<lotline_tui::Options> {
    let bad = |e: lotline_tui::KeymapError| Failure::new(Kind::Invalid, e.to_string());
    let config = match lotline_tui::config::config_path() {
        Some(p) => lotline_tui::Config::load(&p).map_err(bad)?,
        None => lotline_tui::Config::default(),
    };
    config
        .options(
            args.keymap.as_deref(),
            args.mono,
            args.ascii,
            &lotline_tui::config::Environment::of_process(utf8_locale()),
        )
        .map_err(bad)
}

/// No plant at `db` yet: no file, or one made with --create and never given a plant.
fn needs_setup(cli: &Cli, db: &Path) -> bool {
    // The plant the system config names is set up by IT (`lotline init` as the service
    // user), never by whoever happens to open the app first.
    if cli.site.is_plant(db) {
        return false;
    }
    if !db.exists() {
        return true;
    }
    // A file that cannot be read here is for the normal path to explain.
    open_read(cli, db)
        .and_then(|st| Ok(lotline_station::setup::is_blank(st.as_ref())?))
        .unwrap_or(false)
}

/// The app's guided start: nothing is created until the person confirms; then the
/// database is made (through the server, as any first command with --create would) and
/// each record written, and the app opens on the new plant.
fn first_run(cli: &Cli, db: &Path, options: lotline_tui::Options) -> Res {
    use lotline_station::setup;
    let user = lotline_station::identity::Identity::current().user;
    let mut create = |plan: &setup::PlantSetup| -> Result<(Handle, String), String> {
        let st = open(cli, db, !db.exists()).map_err(|f| f.text())?;
        if !setup::is_blank(st.as_ref()).map_err(|e| e.to_string())? {
            return Err(format!(
                "{} was given a plant meanwhile (another terminal?); nothing was written. Quit and start lotline again",
                db.display()
            ));
        }
        setup::apply(st.as_ref(), plan).map_err(|s| s.to_string())?;
        let n =
            |k: usize, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
        let done = format!(
            "Plant {} set up: {}, {}. The Items/Parties screen adds more.",
            plan.plant.location.business_name,
            n(plan.items.len(), "item", "items"),
            n(plan.parties.len(), "party", "parties")
        );
        Ok((st, done))
    };
    lotline_tui::run_first(options, &db.display().to_string(), &user, &mut create)
        .map_err(|e| Failure::data(format!("the terminal could not be used: {e}")))
}

fn tui(st: &(dyn Station + Sync), options: lotline_tui::Options) -> Res {
    lotline_tui::run(st, options)
        .map_err(|e| Failure::data(format!("the terminal could not be used: {e}")))
}

/// Parse a scan and say what it means, and — when a database is there — what it means to
/// this plant: which item a GTIN is, whether plain text is one of our lots.
fn barcode(cli: &Cli, out: &mut impl Write, db: &Path, b: &BarcodeArgs) -> Res {
    let cfg = b.scanner.config()?;
    let scan = match lotline_domain::scan::parse(&b.text, &cfg) {
        Ok(s) => s,
        Err(e) => return Err(Failure::invalid("scan", e.to_string())),
    };
    // Optional context: never create a database just to explain a scan.
    let st = if db.exists() {
        open_read(cli, db).ok()
    } else {
        None
    };
    let ours = match &st {
        Some(st) if lotline_station::lookup::scanned_text(&scan).is_some() => {
            Some(lookup::lots_of_scan(st.as_ref(), &scan, "scan")?)
        }
        _ => None,
    };
    output::barcode(
        out,
        &scan,
        st.as_deref().map(|s| s as &dyn Station),
        ours.as_deref(),
        b.json,
    )
}

fn label_zpl(st: &dyn Station, code: &LotCode) -> Res<String> {
    Ok(lotline_export::label::lot_zpl(st, code)?)
}

/// After a receipt or batch is stored, print its label if asked. A printer failure does
/// not undo the record; it says so, so nobody records the case twice.
fn print_new_label(
    st: &dyn Station,
    printer: Option<lotline_export::label::Printer>,
    code: &LotCode,
    what: &str,
) -> Res {
    let Some(printer) = printer else {
        return Ok(());
    };
    let zpl = label_zpl(st, code)?;
    printer.send(&zpl).map_err(|m| {
        Failure::new(
            Kind::LabelNotPrinted,
            format!(
                "lot {code} was {what} and saved, but its label did not print: {m}; do not record it again: reprint with `lotline label {code}`"
            ),
        )
    })
}

fn generate(cli: &Cli, out: &mut impl Write, g: &GenerateArgs) -> Res {
    let spec = g.to_spec()?;
    // Never the default database: a generated plant must not land in a real one.
    let Some(path) = cli.db.clone() else {
        return Err(Invalid::new("db", "generate needs --db PATH naming a new file").into());
    };
    if path.exists() {
        return Err(Invalid::new(
            "db",
            format!(
                "{} already exists; generate builds a new database",
                path.display()
            ),
        )
        .into());
    }
    let store = PlantFile::open(&path, true).map_err(StationError::from)?;
    eprintln!(
        "Generating {} lots (seed {}) into {} ...",
        spec.lots,
        spec.seed,
        lotline_domain::text::escape(&path.display().to_string())
    );
    let started = std::time::Instant::now();
    let sum = store.generate(&spec, &mut |p| {
        eprint!(
            "\r  day {}/{}: {} lots, {} events   ",
            p.day, p.days, p.lots, p.events
        );
    })?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!();
    output::generated(out, &sum, secs)
}

/// A server runs as the owner of its database, or not at all: one started by root (or any
/// other user) for the service's file would make root-owned files beside it, run without
/// the service's group, roles and backups, and keep the real service from starting.
fn refuse_foreign_database(db: &Path, service: bool) -> Res {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(db) else {
        return Ok(());
    };
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() == me {
        return Ok(());
    }
    let owner = lotline_station::identity::Identity::of(meta.uid(), meta.gid()).user;
    // The plant's service sets up what its server needs (its socket folder, umask, group):
    // only the service manager starts that one.
    let how = if service {
        "`systemctl start lotline`".to_string()
    } else {
        format!("`runuser -u {owner} -- lotline serve`, or let {owner}'s first command start it")
    };
    Err(Failure::new(
        Kind::NotAllowed,
        format!(
            "{} belongs to {owner}: its server must run as {owner} ({how}); nothing was started",
            db.display()
        ),
    ))
}

fn serve(cli: &Cli, db: &Path, a: &ServeArgs) -> Res {
    let socket_mode = u32::from_str_radix(&a.socket_mode, 8)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| {
            Invalid::new(
                "socket-mode",
                "give an octal file mode such as 660 (owner and group) or 600 (owner only)",
            )
        })?;
    let site = &cli.site;
    refuse_foreign_database(db, site.is_service(db, &socket_of(cli, db)))?;
    let ours = site.is_plant(db);
    let backup_dir = a
        .backup_dir
        .clone()
        .or_else(|| site.backup_dir.clone().filter(|_| ours));
    if a.keep.is_some() && backup_dir.is_none() {
        return Err(Failure::invalid(
            "keep",
            "--keep counts backups in --backup-dir (or the config's backup_dir); give one",
        ));
    }
    let keep = a
        .keep
        .map(|k| k as usize)
        .or(site.backup_keep.filter(|_| ours))
        .unwrap_or(14);
    if a.drop_after_secs <= a.ping_secs {
        return Err(Failure::invalid(
            "drop-after-secs",
            format!(
                "--drop-after-secs ({}) must be more than --ping-secs ({}): a station is pinged before it is dropped; give a longer drop time (the defaults are 10 and 30)",
                a.drop_after_secs, a.ping_secs
            ),
        ));
    }
    let (configured_roles, system_roles) = site.roles_for(db);
    let opts = lotline_station::server::ServeOptions {
        db: db.to_path_buf(),
        socket: socket_of(cli, db),
        create: a.create,
        idle_exit: a.idle_exit.map(std::time::Duration::from_secs),
        roles: a.roles.clone(),
        configured_roles,
        system_roles,
        socket_mode,
        group: a
            .group
            .clone()
            .or_else(|| site.group.clone().filter(|_| ours)),
        backups: backup_dir.map(|dir| lotline_station::server::BackupPolicy { dir, keep }),
        cache_bytes: usize::try_from(a.cache_mb * 1024 * 1024).unwrap_or(usize::MAX),
        limits: lotline_station::server::Limits {
            connections: usize::try_from(a.max_connections).unwrap_or(usize::MAX),
            per_user: usize::try_from(a.max_connections_per_user).unwrap_or(usize::MAX),
            stall: std::time::Duration::from_secs(a.stall_secs),
            ping: std::time::Duration::from_secs(a.ping_secs),
            silence: std::time::Duration::from_secs(a.drop_after_secs),
            ..lotline_station::server::Limits::default()
        },
    };
    lotline_station::server::serve(&opts).map_err(|e| {
        // The log says it too, for a server started by a client.
        lotline_station::server::log(&e);
        // Held by another server (one starting or stopping) is Busy: try again, not damage.
        Failure::from(StationError {
            kind: e.kind(),
            field: None,
            message: e.to_string(),
        })
    })
}

/// The station says an expired lot needs QA's approved override, or that a food on the
/// Food Traceability List needs a reference document or the reason there is none; on the
/// command line each is a flag, which only the command line can name.
fn command_line_words(mut e: StationError) -> StationError {
    if e.kind == lotline_station::ErrorKind::Invalid {
        if e.message.contains("approved override") {
            e.message.push_str(" (--allow-expired)");
        } else if e.message.contains("the reason there is none") {
            e.message
                .push_str(" (--ref TYPE:NUMBER, or --no-ref-reason \"why\")");
        }
    }
    e
}
