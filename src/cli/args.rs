//! Command-line arguments, and their conversion to domain values. Values are taken as
//! text and checked by the domain so that every error names its flag in one line.

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use lotline_domain::*;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "lotline",
    version,
    about = "Lot traceability for the food-plant floor: receive, produce, ship, trace."
)]
#[command(after_help = super::contract::AFTER_HELP)]
pub struct Cli {
    /// Database file (see below for the default). It must exist: see --create.
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Create the database file (and its folder) if it does not exist. Without it, a
    /// mistyped --db is refused instead of starting an empty plant.
    #[arg(long, global = true)]
    pub create: bool,
    /// Name of this station, stamped on every record (default: host name and terminal,
    /// plus the SSH client's address over SSH).
    #[arg(long, global = true, env = "LOTLINE_STATION", value_name = "NAME")]
    pub station: Option<String>,
    /// Open the database file directly instead of through `lotline serve`: one station at
    /// a time. Also set by LOTLINE_NO_SERVER=1.
    #[arg(long, global = true, env = "LOTLINE_NO_SERVER", value_parser = clap::builder::FalseyValueParser::new())]
    pub no_server: bool,
    /// The server's socket (default: the database path plus `.sock`).
    #[arg(long, global = true, env = "LOTLINE_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Indent `--json` output for reading (the default on a terminal; piped output is
    /// compact, one line per document).
    #[arg(long, global = true)]
    pub pretty: bool,
    #[command(flatten)]
    pub tui: TuiArgs,
    #[command(subcommand)]
    pub command: Option<Cmd>,
    /// The system config (`/etc/lotline/lotline.toml`, or `LOTLINE_CONFIG`): where the
    /// plant is when --db and LOTLINE_DB do not say. Read once by `main`.
    #[arg(skip)]
    pub site: lotline_station::site::Site,
}

/// How the full-screen app looks and which keys it takes.
#[derive(Debug, Args, Default, Clone)]
pub struct TuiArgs {
    /// Keymap file for the app (`default` and `vim` are built in). Default: the config
    /// file's `keymap`, else the built-in default.
    #[arg(long, value_name = "FILE")]
    pub keymap: Option<PathBuf>,
    /// Draw with bold and reverse only, never colour (also when NO_COLOR is set).
    #[arg(long)]
    pub mono: bool,
    /// Draw ASCII borders only (also when the locale is not UTF-8).
    #[arg(long)]
    pub ascii: bool,
}

// Parsed once per run, so variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Set up a new plant: create its database with its identity, QA users and first
    /// items and parties. Asks at a terminal; scripts give --name and the other flags.
    Init(InitArgs),
    /// Build (if absent) the demo bakery in its own database and show where to start.
    Demo(DemoArgs),
    /// Show or set the plant's identity, lot-code patterns and QA users.
    #[command(subcommand)]
    Plant(PlantCmd),
    /// Add, list or show items (the product master).
    #[command(subcommand)]
    Item(ItemCmd),
    /// Add, list or show suppliers and customers.
    #[command(subcommand)]
    Party(PartyCmd),
    /// Receive a supplier's lot; prints our new lot code.
    Receive(ReceiveArgs),
    /// Record a batch: inputs used, one output lot; prints the new lot code.
    Produce(ProduceArgs),
    /// Ship lots to a customer; prints the shipment's event id.
    Ship(ShipArgs),
    /// Trace a lot backward (what went in), forward (where it went) or both.
    Trace(TraceArgs),
    /// List lots, filtered by item, supplier, supplier lot or status.
    Lots(LotsArgs),
    /// Show one lot and its history.
    Lot {
        /// Our lot code.
        code: String,
        /// Print JSON for scripts (see README "JSON output").
        #[arg(long)]
        json: bool,
    },
    /// Put a lot on hold (QA).
    Hold(StatusArgs),
    /// Release a held or recalled lot (QA).
    Release(StatusArgs),
    /// Mark a lot recalled (QA).
    Recall(StatusArgs),
    /// Correct a lot's balance by a counted amount, with a reason (QA).
    Adjust(AdjustArgs),
    /// Void an event entered in error, with a reason (QA). The record stays.
    Void(VoidArgs),
    /// Print our lot label (ZPL) to the printer, or show its ZPL.
    Label(LabelArgs),
    /// Show what lotline reads from a barcode scan, for setting scanners up.
    Barcode(BarcodeArgs),
    /// Build a generated bakery of any size in a new database, for benchmarks and for
    /// trying lotline at scale (the same seed gives the same plant).
    Generate(GenerateArgs),
    /// Serve the database to every station over a Unix socket (runs in the foreground).
    Serve(ServeArgs),
    /// Who did what, when, from which station: the records' audit trail, newest first.
    Audit(AuditArgs),
    /// FDA asked for records: the FSMA 204 sortable spreadsheet (XLSX and/or CSV), one
    /// sheet per CTE, by lot, item and dates.
    Fsma(super::fsma::FsmaArgs),
    /// The shipping KDEs of one shipment as CSV, for the customer's records; or, with
    /// --missing, every event of a listed food with a Key Data Element missing.
    Kde(super::fsma::KdeArgs),
    /// A draft FSMA 204 traceability plan from what lotline knows (Markdown or text).
    Plan(super::fsma::PlanArgs),
    /// Verify the whole database: redb's page checksums and structure, then links,
    /// balances, references; every problem, table by table. Never writes to the file.
    /// Non-zero exit on problems.
    Check {
        /// The file to check (a backup, a copy); default the plant's database (--db).
        file: Option<PathBuf>,
        /// Print JSON for scripts (see README "JSON output").
        #[arg(long)]
        json: bool,
    },
    /// Exchange events as GS1 EPCIS 2.0 JSON-LD: export for partners, import another
    /// plant's or a partner's.
    #[command(subcommand)]
    Epcis(super::epcis::EpcisCmd),
    /// Check this machine's lotline setup as this user sees it: the config, the database
    /// and its folder, the socket and its server, the roles file, the backup folder. Each
    /// problem comes with the command that fixes it. Never writes. Non-zero exit on problems.
    Doctor(super::doctor::DoctorArgs),
    /// Write a consistent copy of the database to FILE while stations keep working
    /// (temporary name, fsync, rename; FILE must not exist). Check it with `lotline check FILE`.
    Backup {
        /// The new file.
        file: PathBuf,
    },
    /// Copy every record still readable from a damaged database into a new one, and list
    /// what could not be read. The damaged file is never changed.
    Salvage {
        /// The damaged database.
        damaged: PathBuf,
        /// The new file (must not exist).
        new: PathBuf,
    },
    /// The recall scope of a lot: finished lots, customers with contacts and quantities,
    /// stock on hand; and the customer notification list as CSV or XLSX.
    Scope(super::recall::ScopeArgs),
    /// Hold everything on hand in a lot's recall scope, in one transaction (QA).
    HoldAll(super::recall::HoldAllArgs),
    /// Record product coming back from a customer against its shipment: a new lot, on
    /// hold; prints its code.
    Return(super::recall::ReturnArgs),
    /// Mock recalls the way an auditor runs them: start from a lot, enter what was found,
    /// see the gap, complete, export the workbook and the page to sign (QA).
    #[command(subcommand)]
    MockRecall(super::recall::MockCmd),
    /// Roles files (who is operator, QA and admin): check one before it goes live.
    #[command(subcommand)]
    Roles(RolesCmd),
    /// Recipes (formulas): what each product is made of, versioned by the date each takes
    /// effect; `produce` is checked against them.
    #[command(subcommand)]
    Recipe(super::recipes::RecipeCmd),
    /// The plant's allergen list and what each item declares.
    #[command(subcommand)]
    Allergens(super::recipes::AllergensCmd),
    /// Record a line's cleaning or changeover: which allergens it cleared.
    Changeover(super::recipes::ChangeoverArgs),
    /// Batches made against a recipe: expected and actual output, the yield, overrides.
    Yields(super::recipes::YieldsArgs),
}

#[derive(Debug, Subcommand)]
pub enum RolesCmd {
    /// Check a roles file: prints who gets which role and exits 0 when it is good, or
    /// names the line and column of the mistake (exit 2). Reads no database.
    Check {
        /// The roles file, e.g. /etc/lotline/roles.toml.new before it replaces the old one.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The plant's business name. Given, init asks nothing and takes the flags (for
    /// scripts); without it, init asks at the terminal.
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub location: LocationArgs,
    /// Users who may hold, release, recall and correct, comma-separated; without a roles
    /// file they are also the admins (default: you; '' for everyone).
    #[arg(long)]
    pub qa_users: Option<String>,
    /// The label stock the printers hold: 4x2-203 (the default), 4x2-300, 4x6-203 or
    /// 4x6-300; `lotline plant set --label-size` changes it later.
    #[arg(long, value_name = "SIZE")]
    pub label_size: Option<String>,
    /// A first item, CODE,UNIT,KIND,NAME (the name may hold commas), e.g.
    /// 'FLOUR,kg,ingredient,All-purpose flour'. Repeat for more.
    #[arg(long, value_name = "CODE,UNIT,KIND,NAME")]
    pub item: Vec<String>,
    /// A first supplier or customer, ID,ROLE,NAME, e.g. 'MILL,supplier,Prairie Mill'.
    /// Repeat for more.
    #[arg(long, value_name = "ID,ROLE,NAME")]
    pub party: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Recorded on or after this day (YYYY-MM-DD, local time).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Recorded on or before this day (YYYY-MM-DD, local time).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Only what this Unix user did.
    #[arg(long, value_name = "USER")]
    pub operator: Option<String>,
    /// Only what touched this lot.
    #[arg(long, value_name = "LOT")]
    pub lot: Option<String>,
    /// At most this many events (newest first).
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub limit: u32,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Create the database if it does not exist yet.
    #[arg(long)]
    pub create: bool,
    /// Leave after this many seconds with no client connected (what a server started by
    /// a client does; a service under systemd runs until stopped).
    #[arg(long, value_name = "SECS")]
    pub idle_exit: Option<u64>,
    /// Roles file mapping users and @groups to operator, QA and admin, recorded in the
    /// plant for later servers and --no-server commands (default: the config's `roles`,
    /// else the one recorded, else roles.toml beside the config if present, else the
    /// plant's QA users). Never taken from a client's environment.
    #[arg(long, value_name = "FILE")]
    pub roles: Option<PathBuf>,
    /// Mode of the socket, in octal: who may connect (owner and group by default).
    #[arg(long, value_name = "OCTAL", default_value = "660")]
    pub socket_mode: String,
    /// Group to own the socket: the plant's operators' group (default: the config's
    /// `group`).
    #[arg(long, value_name = "NAME")]
    pub group: Option<String>,
    /// Keep a verified copy of the database here once a day (at start, then each new day),
    /// named PLANT-YYYY-MM-DD.redb, while stations keep working (default: the config's
    /// `backup_dir`).
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    /// How many daily backups are kept; the oldest beyond go (default: the config's
    /// backup_keep, else 14).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub keep: Option<u64>,
    /// Megabytes of database pages the server keeps in memory besides its link graph
    /// (traces use the graph; the operating system caches the rest of the file).
    #[arg(long, value_name = "MB", default_value_t = 16, value_parser = clap::value_parser!(u64).range(4..=65_536))]
    pub cache_mb: u64,
    /// Most connections at once, from every station together (fewer when the open-file
    /// limit allows fewer); more are refused with a message.
    #[arg(long, value_name = "N", default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_connections: u64,
    /// Most connections one Unix user may hold at once; raise it where many stations share
    /// one login.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_connections_per_user: u64,
    /// Seconds a client may take to send a frame it began or to take an answer before it
    /// is disconnected (shorter in tests).
    #[arg(long, value_name = "SECS", default_value_t = 20, hide = true, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub stall_secs: u64,
    /// Seconds a station's connection may be quiet before the server pings it; the app
    /// answers even when idle.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub ping_secs: u64,
    /// Seconds without any answer, not even to a ping, after which a station is dropped
    /// and leaves Help's station list (a frozen terminal, a link gone half-open); more
    /// than --ping-secs.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(2..=86_400))]
    pub drop_after_secs: u64,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Throw away the demo database and build it again.
    #[arg(long)]
    pub fresh: bool,
    #[command(flatten)]
    pub tui: TuiArgs,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// How many lots to make; the plant makes about 900 a day, so this sets the history.
    #[arg(long, value_name = "N")]
    pub lots: String,
    /// Seed for the generator.
    #[arg(long, value_name = "S")]
    pub seed: Option<String>,
    /// Batches each silo flour lot feeds at least (the largest forward traces).
    #[arg(long, value_name = "BATCHES")]
    pub fanout: Option<String>,
}

fn count<T: std::str::FromStr + PartialOrd + std::fmt::Display>(
    text: &str,
    field: &str,
    what: &str,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, Invalid> {
    let bad = || {
        Invalid::new(
            field,
            format!(
                "{} is not a number of {what}; use {} to {}",
                lotline_domain::text::excerpt(text.trim()),
                range.start(),
                range.end()
            ),
        )
    };
    let n: T = text.trim().replace('_', "").parse().map_err(|_| bad())?;
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(bad())
    }
}

impl GenerateArgs {
    pub fn to_spec(&self) -> Result<lotline_station::file::GenerateSpec, Invalid> {
        let mut spec = lotline_station::file::GenerateSpec::new(count(
            &self.lots,
            "lots",
            "lots",
            1..=50_000_000,
        )?);
        if let Some(s) = &self.seed {
            spec.seed = s.trim().parse().map_err(|_| {
                Invalid::new(
                    "seed",
                    format!(
                        "{} is not a number",
                        lotline_domain::text::excerpt(s.trim())
                    ),
                )
            })?;
        }
        if let Some(f) = &self.fanout {
            spec.fanout = count(f, "fanout", "batches", 1..=1_000_000)?;
        }
        Ok(spec)
    }
}

// Parsed once per run, so variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum PlantCmd {
    /// Show the plant's identity, lot-code patterns, QA users and label size.
    Show {
        /// Print JSON for scripts (see README "JSON output").
        #[arg(long)]
        json: bool,
    },
    /// Change the plant's identity, lot-code patterns, QA users or label size; only what is
    /// given.
    Set(PlantSet),
}

#[derive(Debug, Args)]
pub struct LocationArgs {
    /// Phone number.
    #[arg(long)]
    pub phone: Option<String>,
    /// Street address.
    #[arg(long)]
    pub street: Option<String>,
    /// City.
    #[arg(long)]
    pub city: Option<String>,
    /// State or province.
    #[arg(long)]
    pub state: Option<String>,
    /// ZIP or postal code.
    #[arg(long)]
    pub zip: Option<String>,
    /// Country, e.g. US.
    #[arg(long)]
    pub country: Option<String>,
    /// GS1 Global Location Number (13 digits).
    #[arg(long)]
    pub gln: Option<String>,
}

impl LocationArgs {
    fn apply(&self, l: &mut Location) -> Result<(), Invalid> {
        for (v, slot, field) in [
            (&self.phone, &mut l.phone, "phone"),
            (&self.street, &mut l.street, "street"),
            (&self.city, &mut l.city, "city"),
            (&self.state, &mut l.state, "state"),
            (&self.zip, &mut l.zip, "zip"),
            (&self.country, &mut l.country, "country"),
        ] {
            if let Some(v) = v {
                *slot = clean_text(v, field, 100)?;
            }
        }
        Ok(())
    }

    fn gln(&self) -> Result<Option<Gln>, Invalid> {
        self.gln
            .as_deref()
            .map(|g| Gln::parse(g, "gln"))
            .transpose()
    }
}

#[derive(Debug, Args)]
pub struct PlantSet {
    /// Business name of the plant.
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub location: LocationArgs,
    /// Pattern for received lots, e.g. 'R{YY}{JJJ}-{SEQ:3}'.
    #[arg(long)]
    pub receipt_pattern: Option<String>,
    /// Pattern for batch output lots, e.g. 'B{YY}{JJJ}-{SEQ:3}'.
    #[arg(long)]
    pub batch_pattern: Option<String>,
    /// Users who may hold, release, recall and correct, comma-separated ('' for everyone).
    #[arg(long)]
    pub qa_users: Option<String>,
    /// Hours a clerk's unsaved form (a draft) is kept for them to come back to: 1 to 744,
    /// 12 unless set.
    #[arg(long, value_name = "HOURS")]
    pub draft_hours: Option<u16>,
    /// The label stock the printers hold, which lot labels are laid out for: 4x2-203,
    /// 4x2-300, 4x6-203 or 4x6-300 (inches, printer dpi).
    #[arg(long, value_name = "SIZE")]
    pub label_size: Option<String>,
}

impl PlantSet {
    pub fn apply(&self, mut p: Plant) -> Result<Plant, Invalid> {
        if let Some(n) = &self.name {
            p.location.business_name = required_text(n, "name", 100)?;
        }
        self.location.apply(&mut p.location)?;
        if let Some(g) = self.location.gln()? {
            p.gln = Some(g);
        }
        if let Some(pat) = &self.receipt_pattern {
            p.receipt_pattern = LotPattern::parse(pat, "receipt-pattern")?;
        }
        if let Some(pat) = &self.batch_pattern {
            p.batch_pattern = LotPattern::parse(pat, "batch-pattern")?;
        }
        if let Some(q) = &self.qa_users {
            p.qa_users = q
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
        }
        if let Some(h) = self.draft_hours {
            lotline_domain::check_draft_hours(h)?;
            p.draft_hours = h;
        }
        if let Some(s) = &self.label_size {
            p.label_size = lotline_domain::LabelSize::parse(s, "label-size")?;
        }
        Ok(p)
    }
}

// Parsed once per run, so variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ItemCmd {
    /// Add an item to the product master; prints its code.
    Add(ItemAdd),
    /// Change an item's fields (admin; QA where only QA users are named). Give only the
    /// fields to change; '' clears an optional one. The old values stay in its history.
    Edit(ItemEdit),
    /// Stop an item being received or made; its lots and history stay.
    Retire {
        /// The item's code.
        code: String,
        /// Why, for the item's history.
        #[arg(long)]
        reason: String,
    },
    /// List every item.
    List {
        /// Print JSON for scripts (see README "JSON output").
        #[arg(long)]
        json: bool,
    },
    /// Show one item.
    Show {
        /// The item code.
        code: String,
        /// Print JSON for scripts (see README "JSON output").
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct ItemAdd {
    /// Our item code, e.g. FLOUR-AP.
    pub code: String,
    /// Product name.
    #[arg(long)]
    pub name: String,
    /// Unit every lot of it is kept in: kg, g, lb, oz, l, ml, gal, ea, case, dozen.
    #[arg(long)]
    pub unit: String,
    /// ingredient, packaging, intermediate or finished.
    #[arg(long, default_value = "ingredient")]
    pub kind: String,
    /// Brand name (FSMA product description).
    #[arg(long)]
    pub brand: Option<String>,
    /// Commodity, e.g. eggs, wheat flour (FSMA product description).
    #[arg(long)]
    pub commodity: Option<String>,
    /// Variety, e.g. large, soft white (FSMA product description).
    #[arg(long)]
    pub variety: Option<String>,
    /// Pack size, e.g. 12 x 200 g (FSMA product description).
    #[arg(long)]
    pub pack_size: Option<String>,
    /// Pack style, e.g. carton, bag (FSMA product description).
    #[arg(long)]
    pub pack_style: Option<String>,
    /// GTIN-8/12/13/14 with its check digit.
    #[arg(long)]
    pub gtin: Option<String>,
    /// Shelf life in days; a batch's expiry is its date plus this.
    #[arg(long, value_name = "DAYS")]
    pub shelf_life: Option<String>,
    /// On FDA's Food Traceability List.
    #[arg(long)]
    pub ftl: bool,
    /// Lowest product temperature accepted at receiving, °C (e.g. -25); a receipt below it
    /// puts the new lot on hold.
    #[arg(long, value_name = "CELSIUS", allow_hyphen_values = true)]
    pub temp_min: Option<String>,
    /// Highest product temperature accepted at receiving, °C (e.g. 5); a receipt above it
    /// puts the new lot on hold.
    #[arg(long, value_name = "CELSIUS", allow_hyphen_values = true)]
    pub temp_max: Option<String>,
}

/// A receiving temperature range from `--temp-min` / `--temp-max`.
pub fn temp_range(min: Option<&str>, max: Option<&str>) -> Result<TempRange, Invalid> {
    let range = TempRange {
        min_dc: min.map(|t| parse_temperature(t, "temp-min")).transpose()?,
        max_dc: max.map(|t| parse_temperature(t, "temp-max")).transpose()?,
    };
    range.validate()?;
    Ok(range)
}

fn opt_text(v: &Option<String>, field: &str) -> Result<String, Invalid> {
    v.as_deref()
        .map(|t| clean_text(t, field, 100))
        .transpose()
        .map(Option::unwrap_or_default)
}

impl ItemAdd {
    pub fn to_new(&self) -> Result<NewItem, Invalid> {
        let shelf_life_days = match &self.shelf_life {
            None => None,
            Some(t) => Some(t.trim().parse::<u32>().map_err(|_| {
                Invalid::new(
                    "shelf-life",
                    format!(
                        "{} is not a number of days; use 1 to 3650",
                        lotline_domain::text::excerpt(t)
                    ),
                )
            })?),
        };
        Ok(NewItem {
            code: ItemCode::parse(&self.code, "code")?,
            description: ProductDescription {
                name: required_text(&self.name, "name", 100)?,
                brand: opt_text(&self.brand, "brand")?,
                commodity: opt_text(&self.commodity, "commodity")?,
                variety: opt_text(&self.variety, "variety")?,
                pack_size: opt_text(&self.pack_size, "pack-size")?,
                pack_style: opt_text(&self.pack_style, "pack-style")?,
            },
            unit: self
                .unit
                .parse()
                .map_err(|e: String| Invalid::new("unit", e))?,
            kind: self.kind.parse()?,
            gtin: self
                .gtin
                .as_deref()
                .map(|g| Gtin::parse(g, "gtin"))
                .transpose()?,
            shelf_life_days,
            ftl: self.ftl,
            receiving_temp: temp_range(self.temp_min.as_deref(), self.temp_max.as_deref())?,
        })
    }
}

// Parsed once per run, so variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum PartyCmd {
    /// Add a supplier or customer; prints its id.
    Add(PartyAdd),
    /// Change a party's fields (admin; QA where only QA users are named). Give only the
    /// fields to change; '' clears an optional one. The old values stay in its history.
    Edit(PartyEdit),
    /// Stop a party being named on new receipts or shipments; its history stays.
    Retire {
        /// The party's id.
        id: String,
        /// Why, for the party's history.
        #[arg(long)]
        reason: String,
    },
    /// List parties.
    List {
        /// Only suppliers or only customers.
        #[arg(long)]
        role: Option<String>,
        /// Print JSON for scripts (see README "JSON output").
        #[arg(long)]
        json: bool,
    },
    /// Show one party.
    Show {
        /// The party's id.
        id: String,
        /// Print JSON for scripts (see README "JSON output").
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct PartyAdd {
    /// Our id for the party, e.g. MILLCO.
    pub id: String,
    /// Business name.
    #[arg(long)]
    pub name: String,
    /// supplier, customer or both.
    #[arg(long)]
    pub role: String,
    #[command(flatten)]
    pub location: LocationArgs,
    /// Recall contact: name.
    #[arg(long)]
    pub contact_name: Option<String>,
    /// Recall contact: phone.
    #[arg(long)]
    pub contact_phone: Option<String>,
    /// Recall contact: email.
    #[arg(long)]
    pub contact_email: Option<String>,
}

impl PartyAdd {
    pub fn to_new(&self) -> Result<NewParty, Invalid> {
        let mut location = Location {
            business_name: required_text(&self.name, "name", 100)?,
            ..Default::default()
        };
        self.location.apply(&mut location)?;
        Ok(NewParty {
            id: PartyId::parse(&self.id, "id")?,
            role: self.role.parse()?,
            location,
            gln: self.location.gln()?,
            recall_contact: Contact {
                name: opt_text(&self.contact_name, "contact-name")?,
                phone: opt_text(&self.contact_phone, "contact-phone")?,
                email: opt_text(&self.contact_email, "contact-email")?,
            },
        })
    }
}

/// `--ref` as given, each parsed; at most two (FDA's template has room for two).
fn refs(given: &[String]) -> Result<Vec<Reference>, Invalid> {
    if given.len() > 2 {
        return Err(Invalid::new(
            "ref",
            format!(
                "{} reference documents were given; lotline keeps two per record (such as a BOL and a PO)",
                given.len()
            ),
        ));
    }
    given.iter().map(|r| Reference::parse(r, "ref")).collect()
}

fn first_ref(given: &[String]) -> Result<Option<Reference>, Invalid> {
    Ok(refs(given)?.into_iter().next())
}

/// The second `--ref`, and `--no-ref-reason`.
fn documents(given: &[String], reason: &Option<String>) -> Result<Documents, Invalid> {
    Ok(Documents {
        second: refs(given)?.into_iter().nth(1),
        none_because: reason
            .as_deref()
            .map(|r| required_text(r, "no-ref-reason", REASON_MAX))
            .transpose()?,
    })
}

fn opt_unit(u: &Option<String>) -> Result<Option<Unit>, Invalid> {
    u.as_deref()
        .map(|u| u.parse().map_err(|e: String| Invalid::new("unit", e)))
        .transpose()
}

pub(crate) fn opt_date(
    d: &Option<String>,
    field: &str,
    today: NaiveDate,
) -> Result<Option<NaiveDate>, Invalid> {
    d.as_deref()
        .map(|d| parse_date(d, field, today))
        .transpose()
}

fn lines(v: &[String], field: &str) -> Result<Vec<LotLine>, Invalid> {
    v.iter()
        .enumerate()
        .map(|(i, t)| {
            LotLine::parse(
                t,
                &if v.len() == 1 {
                    field.to_string()
                } else {
                    format!("{field} {}", i + 1)
                },
            )
        })
        .collect()
}

#[derive(Debug, Args)]
pub struct ReceiveArgs {
    /// Our item code (with --scan, the item the label's GTIN is).
    #[arg(long, required_unless_present = "scan")]
    pub item: Option<String>,
    /// The supplier's party id (with --scan, the supplier whose GLN is the label's (412)).
    #[arg(long, required_unless_present = "scan")]
    pub supplier: Option<String>,
    /// The lot code on the supplier's label (the FSMA traceability lot code).
    #[arg(long, required_unless_present = "scan")]
    pub supplier_lot: Option<String>,
    /// Quantity received, in the item's unit (or --unit); with --scan, it replaces the
    /// label's count or net weight (a short or damaged case).
    #[arg(long, allow_hyphen_values = true, required_unless_present = "scan")]
    pub qty: Option<String>,
    /// Unit counted in, if not the item's own (converted: lb → kg and so on).
    #[arg(long)]
    pub unit: Option<String>,
    /// Date received: YYYY-MM-DD, today or yesterday (default today).
    #[arg(long)]
    pub date: Option<String>,
    /// Expiry or best-before date, YYYY-MM-DD.
    #[arg(long)]
    pub expiry: Option<String>,
    /// Reference document TYPE:NUMBER, e.g. BOL:4471; give it twice for two documents
    /// (`--ref BOL:4471 --ref PO:88123`). Required for foods on the Food Traceability List,
    /// unless --no-ref-reason says why there is none.
    #[arg(long = "ref", value_name = "TYPE:NUMBER")]
    pub references: Vec<String>,
    /// Why a food on the Food Traceability List has no reference document (kept with
    /// the record, and shown where the document would be).
    #[arg(long, value_name = "TEXT", conflicts_with = "references")]
    pub no_ref_reason: Option<String>,
    /// FSMA TLC source reference, when the supplier's lot code was assigned elsewhere
    /// (the packer behind a distributor): its GLN, FDA registration number or web address.
    #[arg(long)]
    pub tlc_source_ref: Option<String>,
    /// Product temperature on arrival, °C.
    #[arg(long)]
    pub temp: Option<String>,
    /// Inspection result: pass or fail.
    #[arg(long)]
    pub inspection: Option<String>,
    /// A receiving note, e.g. what the inspection found.
    #[arg(long)]
    pub note: Option<String>,
    /// Print the new lot's label (see `lotline label`).
    #[arg(long)]
    pub label: bool,
    #[command(flatten)]
    pub printer: PrinterArgs,
    /// A supplier's GS1 case label as the scanner typed it (with or without its ]C1 / ]d2
    /// identifier, GS for FNC1, the (01)…(10)… form or a Digital Link): it fills the item,
    /// supplier lot, expiry, quantity (and supplier, TLC source) as the app's Receive form
    /// does, and the label's other elements are kept with the receipt.
    #[arg(long, value_name = "TEXT")]
    pub scan: Option<String>,
    #[command(flatten)]
    pub scanner: ScannerArgs,
}

/// The receipt's fields a scan can fill, as text: what the flags say, or the label.
/// Both go through the same parsing ([`ReceiveArgs::to_new`]), as the app's form does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiptText {
    pub item: String,
    pub supplier: String,
    pub supplier_lot: String,
    pub qty: String,
    pub unit: Option<String>,
    pub expiry: Option<String>,
    pub tlc_source_ref: Option<String>,
}

impl ReceiveArgs {
    /// The fields as the flags give them (clap requires the four without --scan).
    pub fn typed(&self) -> ReceiptText {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        ReceiptText {
            item: text(&self.item),
            supplier: text(&self.supplier),
            supplier_lot: text(&self.supplier_lot),
            qty: text(&self.qty),
            unit: self.unit.clone(),
            expiry: self.expiry.clone(),
            tlc_source_ref: self.tlc_source_ref.clone(),
        }
    }

    pub fn to_new(&self, t: &ReceiptText, today: NaiveDate) -> Result<NewReceipt, Invalid> {
        let inspection = match self
            .inspection
            .as_deref()
            .map(|s| s.trim().to_ascii_lowercase())
        {
            None => None,
            Some(s) if s == "pass" => Some(Inspection::Pass),
            Some(s) if s == "fail" => Some(Inspection::Fail),
            Some(s) => {
                return Err(Invalid::new(
                    "inspection",
                    format!(
                        "{} is not a result; accepted: pass, fail",
                        lotline_domain::text::excerpt(s)
                    ),
                ));
            }
        };
        Ok(NewReceipt {
            item: ItemCode::parse(&t.item, "item")?,
            supplier: PartyId::parse(&t.supplier, "supplier")?,
            supplier_lot: SupplierLot::parse(&t.supplier_lot, "supplier-lot")?,
            qty: Qty::parse_positive(&t.qty, "qty")?,
            unit: opt_unit(&t.unit)?,
            date: opt_past_date(self.date.as_deref(), today)?,
            expiry: opt_date(&t.expiry, "expiry", today)?,
            reference: first_ref(&self.references)?,
            documents: documents(&self.references, &self.no_ref_reason)?,
            quality: Quality {
                temperature_dc: self
                    .temp
                    .as_deref()
                    .map(|t| parse_temperature(t, "temp"))
                    .transpose()?,
                inspection,
                // The same bound as the app's and an import's notes (`domain::checks`).
                note: clean_text(self.note.as_deref().unwrap_or(""), "note", NOTE_MAX)?,
            },
            tlc_source_ref: t
                .tlc_source_ref
                .as_deref()
                .map(|t| parse_tlc_source_ref(t, "tlc-source-ref"))
                .transpose()?
                .flatten(),
        })
    }
}

#[derive(Debug, Args)]
pub struct ProduceArgs {
    /// The output item.
    #[arg(long)]
    pub item: String,
    /// Output quantity.
    #[arg(long, allow_hyphen_values = true)]
    pub qty: String,
    /// Unit the output is counted in, if not the item's own (converted).
    #[arg(long)]
    pub unit: Option<String>,
    /// An input lot and the quantity used from it, LOT=QTY; repeat for each input.
    #[arg(long = "input", value_name = "LOT=QTY", required = true)]
    pub inputs: Vec<String>,
    /// Date completed (default today).
    #[arg(long)]
    pub date: Option<String>,
    /// Production line.
    #[arg(long)]
    pub line: Option<String>,
    /// Expiry, if not the item's shelf life from the date.
    #[arg(long)]
    pub expiry: Option<String>,
    /// Reference document TYPE:NUMBER, e.g. WO:2211; give it twice for two documents
    /// (`--ref WO:2211 --ref PO:88123`). Required for foods on the Food Traceability List,
    /// unless --no-ref-reason says why there is none.
    #[arg(long = "ref", value_name = "TYPE:NUMBER")]
    pub references: Vec<String>,
    /// Why a food on the Food Traceability List has no reference document (kept with
    /// the record, and shown where the document would be).
    #[arg(long, value_name = "TEXT", conflicts_with = "references")]
    pub no_ref_reason: Option<String>,
    /// Use input lots past their expiry (refused otherwise); the override is recorded in
    /// each lot's history.
    #[arg(long)]
    pub allow_expired: bool,
    /// Print the new lot's label (see `lotline label`).
    #[arg(long)]
    pub label: bool,
    #[command(flatten)]
    pub printer: PrinterArgs,
    /// Why the batch leaves its recipe (an input missing, a quantity outside tolerance);
    /// recorded on the batch.
    #[arg(long, conflicts_with = "override_reason")]
    pub reason: Option<String>,
    /// QA: let inputs that are not on the recipe into the batch, for this reason
    /// (recorded on the batch).
    #[arg(long)]
    pub override_reason: Option<String>,
}

impl ProduceArgs {
    /// The reason the batch may leave its recipe, if one was given.
    pub fn override_(&self) -> Option<Override> {
        match (&self.reason, &self.override_reason) {
            (_, Some(r)) => Some(Override {
                reason: r.clone(),
                off_recipe: true,
            }),
            (Some(r), None) => Some(Override {
                reason: r.clone(),
                off_recipe: false,
            }),
            (None, None) => None,
        }
    }

    pub fn to_new(&self, today: NaiveDate) -> Result<NewBatch, Invalid> {
        Ok(NewBatch {
            allow_expired: self.allow_expired,
            item: ItemCode::parse(&self.item, "item")?,
            qty: Qty::parse_positive(&self.qty, "qty")?,
            unit: opt_unit(&self.unit)?,
            date: opt_past_date(self.date.as_deref(), today)?,
            line: self
                .line
                .as_deref()
                .map(|l| required_text(l, "line", 40))
                .transpose()?,
            reference: first_ref(&self.references)?,
            documents: documents(&self.references, &self.no_ref_reason)?,
            expiry: opt_date(&self.expiry, "expiry", today)?,
            inputs: lines(&self.inputs, "input")?,
        })
    }
}

#[derive(Debug, Args)]
pub struct ShipArgs {
    /// The customer's party id.
    #[arg(long)]
    pub customer: String,
    /// A lot and the quantity shipped, LOT=QTY; repeat for each lot.
    #[arg(long = "lot", value_name = "LOT=QTY", required = true)]
    pub lots: Vec<String>,
    /// Date shipped (default today).
    #[arg(long)]
    pub date: Option<String>,
    /// Ship lots past their expiry (refused otherwise); the override is recorded in each
    /// lot's history.
    #[arg(long)]
    pub allow_expired: bool,
    /// Reference document TYPE:NUMBER, e.g. BOL:5521; give it twice for two documents
    /// (`--ref BOL:5521 --ref PO:7731`). Required for foods on the Food Traceability List,
    /// unless --no-ref-reason says why there is none.
    #[arg(long = "ref", value_name = "TYPE:NUMBER")]
    pub references: Vec<String>,
    /// Why a food on the Food Traceability List has no reference document (kept with
    /// the record, and shown where the document would be).
    #[arg(long, value_name = "TEXT", conflicts_with = "references")]
    pub no_ref_reason: Option<String>,
}

impl ShipArgs {
    pub fn to_new(&self, today: NaiveDate) -> Result<NewShipment, Invalid> {
        Ok(NewShipment {
            allow_expired: self.allow_expired,
            customer: PartyId::parse(&self.customer, "customer")?,
            date: opt_past_date(self.date.as_deref(), today)?,
            reference: first_ref(&self.references)?,
            documents: documents(&self.references, &self.no_ref_reason)?,
            lines: lines(&self.lots, "lot")?,
        })
    }
}

#[derive(Debug, Args)]
pub struct TraceArgs {
    /// Our lot code.
    pub lot: String,
    /// Only what went into the lot.
    #[arg(long, group = "dir")]
    pub backward: bool,
    /// Only where the lot went.
    #[arg(long, group = "dir")]
    pub forward: bool,
    /// Both directions (the default).
    #[arg(long, group = "dir")]
    pub both: bool,
    /// Print JSON for scripts (see README "JSON output").
    #[arg(long)]
    pub json: bool,
    /// Draw the tree with ASCII only.
    #[arg(long)]
    pub ascii: bool,
}

#[derive(Debug, Args)]
pub struct LotsArgs {
    /// Only lots of this item code.
    #[arg(long)]
    pub item: Option<String>,
    /// Only lots received from this supplier id.
    #[arg(long)]
    pub supplier: Option<String>,
    /// The supplier's lot code, exactly as printed.
    #[arg(long)]
    pub supplier_lot: Option<String>,
    /// released, hold, recalled or voided.
    #[arg(long)]
    pub status: Option<String>,
    /// Only lots with something on hand.
    #[arg(long)]
    pub on_hand: bool,
    /// Only lots that expire within DAYS days from today (not yet expired).
    #[arg(long, value_name = "DAYS")]
    pub expiring_within: Option<String>,
    /// Only lots past their expiry today.
    #[arg(long, conflicts_with = "expiring_within")]
    pub expired: bool,
    /// Only lots that carry this allergen (e.g. peanut), finished lots first.
    #[arg(long, value_name = "ALLERGEN")]
    pub contains: Option<String>,
    /// Print JSON for scripts (see README "JSON output").
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Our lot code.
    pub lot: String,
    /// Why, for the lot's history.
    #[arg(long)]
    pub reason: String,
    /// Date of the change: YYYY-MM-DD, today or yesterday (default today).
    #[arg(long)]
    pub date: Option<String>,
}

#[derive(Debug, Args)]
pub struct AdjustArgs {
    /// Our lot code.
    pub lot: String,
    /// Signed change to the balance: -2.5 for a spill, +3 for a recount.
    #[arg(long, allow_hyphen_values = true)]
    pub qty: String,
    /// Why, for the lot's history.
    #[arg(long)]
    pub reason: String,
    /// Date of the correction: YYYY-MM-DD, today or yesterday (default today).
    #[arg(long)]
    pub date: Option<String>,
}

#[derive(Debug, Args)]
pub struct VoidArgs {
    /// The event id (shown by `lotline lot CODE`).
    pub event: u64,
    /// Why it was entered in error, for the history.
    #[arg(long)]
    pub reason: String,
    /// Date of the void: YYYY-MM-DD, today or yesterday (default today).
    #[arg(long)]
    pub date: Option<String>,
}

#[derive(Debug, Args)]
pub struct BarcodeArgs {
    /// The scan as the scanner types it. In bash, $'...\x1d...' passes the GS separator.
    pub text: String,
    #[command(flatten)]
    pub scanner: ScannerArgs,
    /// Print JSON for scripts.
    #[arg(long)]
    pub json: bool,
}

/// How the scanner sends what it reads, for `barcode` and `receive --scan`.
#[derive(Debug, Args)]
pub struct ScannerArgs {
    /// The character the scanner sends for FNC1, if not GS (ASCII 29); `GS` names GS.
    #[arg(long)]
    pub separator: Option<String>,
    /// A prefix the scanner is set to send before each scan.
    #[arg(long)]
    pub prefix: Option<String>,
}

impl ScannerArgs {
    /// Whether either is given: they mean something only with a scan.
    pub fn given(&self) -> bool {
        self.separator.is_some() || self.prefix.is_some()
    }

    pub fn config(&self) -> Result<lotline_domain::scan::ScanConfig, Invalid> {
        let mut cfg = lotline_domain::scan::ScanConfig::default();
        // "GS" names ASCII 29 itself, as in the config file's `separator = "GS"`.
        if self
            .separator
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("gs"))
        {
            cfg.separator = lotline_domain::scan::GS;
        } else if let Some(sep) = &self.separator {
            let mut chars = sep.chars();
            match (chars.next(), chars.next()) {
                // A character GS1 data may contain would split values in the middle.
                (Some(c), None)
                    if c.is_ascii_alphanumeric() || "!\"%&'()*+,-./:;<=>?_".contains(c) =>
                {
                    return Err(Invalid::new(
                        "separator",
                        format!(
                            "{} can appear in GS1 data; use one it cannot, such as ~ | # or ^",
                            lotline_domain::text::excerpt(c)
                        ),
                    ));
                }
                (Some(c), None) => cfg.separator = c,
                _ => {
                    return Err(Invalid::new(
                        "separator",
                        format!(
                            "{} should be one character, such as ~ or |",
                            lotline_domain::text::excerpt(sep)
                        ),
                    ));
                }
            }
        }
        cfg.prefix = self.prefix.clone().filter(|p| !p.is_empty());
        Ok(cfg)
    }
}

/// Where labels go: `--to`, else $LOTLINE_PRINTER.
#[derive(Debug, Args)]
pub struct PrinterArgs {
    /// Label printer: file:PATH, cmd:COMMAND (e.g. 'cmd:lp -d zebra -o raw') or tcp:HOST:PORT.
    #[arg(long = "to", env = "LOTLINE_PRINTER", value_name = "PRINTER")]
    pub printer: Option<String>,
}

impl PrinterArgs {
    pub fn printer(&self) -> Result<lotline_export::label::Printer, Invalid> {
        match &self.printer {
            Some(p) => lotline_export::label::Printer::parse(p, "printer"),
            None => Err(Invalid::new(
                "printer",
                "no label printer set; give --to file:PATH, cmd:COMMAND or tcp:HOST:PORT, or set LOTLINE_PRINTER",
            )),
        }
    }
}

#[derive(Debug, Args)]
pub struct LabelArgs {
    /// Our lot code.
    pub lot: String,
    #[command(flatten)]
    pub printer: PrinterArgs,
    /// Number of labels, 1 to 500.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=500))]
    pub copies: u16,
    /// Write the ZPL to standard output instead of a printer.
    #[arg(long, conflicts_with = "preview")]
    pub zpl: bool,
    /// Show the label as text (its lines as printed, the barcode's text, what had to be
    /// cut) instead of printing it.
    #[arg(long)]
    pub preview: bool,
    /// Print the label of a recalled or voided lot without asking.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ItemEdit {
    /// The item's code (it does not change).
    pub code: String,
    /// Name as on the product description.
    #[arg(long)]
    pub name: Option<String>,
    /// Only while the item has no lots.
    #[arg(long)]
    pub unit: Option<String>,
    /// ingredient, packaging, intermediate or finished.
    #[arg(long)]
    pub kind: Option<String>,
    /// Brand name.
    #[arg(long)]
    pub brand: Option<String>,
    /// Commodity (FSMA product description).
    #[arg(long)]
    pub commodity: Option<String>,
    /// Variety (FSMA product description).
    #[arg(long)]
    pub variety: Option<String>,
    /// Pack size, e.g. "25 kg bag".
    #[arg(long)]
    pub pack_size: Option<String>,
    /// Pack style, e.g. "bag", "case of 12".
    #[arg(long)]
    pub pack_style: Option<String>,
    /// GTIN with its check digit; '' removes it.
    #[arg(long)]
    pub gtin: Option<String>,
    /// Shelf life in days; '' removes it.
    #[arg(long, value_name = "DAYS")]
    pub shelf_life: Option<String>,
    /// On FDA's Food Traceability List: yes or no.
    #[arg(long, value_name = "YES|NO")]
    pub ftl: Option<String>,
    /// Lowest receiving temperature, °C; '' leaves it open.
    #[arg(long, value_name = "CELSIUS", allow_hyphen_values = true)]
    pub temp_min: Option<String>,
    /// Highest receiving temperature, °C; '' leaves it open.
    #[arg(long, value_name = "CELSIUS", allow_hyphen_values = true)]
    pub temp_max: Option<String>,
}

fn set_text(slot: &mut String, v: &Option<String>, field: &str) -> Result<(), Invalid> {
    if let Some(v) = v {
        *slot = clean_text(v, field, 100)?;
    }
    Ok(())
}

/// `Some("")` clears, `Some(text)` parses, `None` keeps.
fn set_opt<T>(
    slot: &mut Option<T>,
    v: &Option<String>,
    parse: impl FnOnce(&str) -> Result<T, Invalid>,
) -> Result<(), Invalid> {
    match v.as_deref().map(str::trim) {
        None => {}
        Some("") => *slot = None,
        Some(t) => *slot = Some(parse(t)?),
    }
    Ok(())
}

impl ItemEdit {
    /// The item with these flags applied to `current`.
    pub fn apply(&self, current: &Item) -> Result<NewItem, Invalid> {
        let mut d = current.description.clone();
        if let Some(n) = &self.name {
            d.name = required_text(n, "name", 100)?;
        }
        set_text(&mut d.brand, &self.brand, "brand")?;
        set_text(&mut d.commodity, &self.commodity, "commodity")?;
        set_text(&mut d.variety, &self.variety, "variety")?;
        set_text(&mut d.pack_size, &self.pack_size, "pack-size")?;
        set_text(&mut d.pack_style, &self.pack_style, "pack-style")?;
        let mut gtin = current.gtin.clone();
        set_opt(&mut gtin, &self.gtin, |g| Gtin::parse(g, "gtin"))?;
        let mut shelf = current.shelf_life_days;
        set_opt(&mut shelf, &self.shelf_life, |t| {
            t.parse::<u32>().map_err(|_| {
                Invalid::new(
                    "shelf-life",
                    format!("'{t}' is not a number of days; use 1 to 3650"),
                )
            })
        })?;
        let mut temp = current.receiving_temp;
        set_opt(&mut temp.min_dc, &self.temp_min, |t| {
            parse_temperature(t, "temp-min")
        })?;
        set_opt(&mut temp.max_dc, &self.temp_max, |t| {
            parse_temperature(t, "temp-max")
        })?;
        temp.validate()?;
        let ftl = match self.ftl.as_deref().map(|f| f.trim().to_ascii_lowercase()) {
            None => current.ftl,
            Some(f) if matches!(f.as_str(), "yes" | "true" | "y") => true,
            Some(f) if matches!(f.as_str(), "no" | "false" | "n") => false,
            Some(f) => {
                return Err(Invalid::new("ftl", format!("'{f}' is not yes or no")));
            }
        };
        Ok(NewItem {
            code: current.code.clone(),
            description: d,
            unit: match &self.unit {
                None => current.unit,
                Some(u) => u.parse().map_err(|e: String| Invalid::new("unit", e))?,
            },
            kind: match &self.kind {
                None => current.kind,
                Some(k) => k.parse()?,
            },
            gtin,
            shelf_life_days: shelf,
            ftl,
            receiving_temp: temp,
        })
    }
}

#[derive(Debug, Args)]
pub struct PartyEdit {
    /// The party's id (it does not change).
    pub id: String,
    /// Business name.
    #[arg(long)]
    pub name: Option<String>,
    /// supplier, customer or both.
    #[arg(long)]
    pub role: Option<String>,
    #[command(flatten)]
    pub location: LocationArgs,
    /// Recall contact: name.
    #[arg(long)]
    pub contact_name: Option<String>,
    /// Recall contact: phone.
    #[arg(long)]
    pub contact_phone: Option<String>,
    /// Recall contact: email.
    #[arg(long)]
    pub contact_email: Option<String>,
}

impl PartyEdit {
    /// The party with these flags applied to `current`.
    pub fn apply(&self, current: &Party) -> Result<NewParty, Invalid> {
        let mut location = current.location.clone();
        if let Some(n) = &self.name {
            location.business_name = required_text(n, "name", 100)?;
        }
        self.location.apply(&mut location)?;
        let mut gln = current.gln.clone();
        set_opt(&mut gln, &self.location.gln, |g| Gln::parse(g, "gln"))?;
        let mut c = current.recall_contact.clone();
        set_text(&mut c.name, &self.contact_name, "contact-name")?;
        set_text(&mut c.phone, &self.contact_phone, "contact-phone")?;
        set_text(&mut c.email, &self.contact_email, "contact-email")?;
        Ok(NewParty {
            id: current.id.clone(),
            role: match &self.role {
                None => current.role,
                Some(r) => r.parse()?,
            },
            location,
            gln,
            recall_contact: c,
        })
    }
}

/// A date given as text, not in the future; today when none is given.
pub(crate) fn opt_past_date(
    text: Option<&str>,
    today: chrono::NaiveDate,
) -> Result<chrono::NaiveDate, Invalid> {
    match text {
        Some(t) => parse_past_date(t, "date", today),
        None => Ok(today),
    }
}

impl Cli {
    /// Whether the command asked for JSON: then its errors are JSON too.
    pub fn json(&self) -> bool {
        match &self.command {
            Some(Cmd::Plant(PlantCmd::Show { json }))
            | Some(Cmd::Item(ItemCmd::List { json }))
            | Some(Cmd::Item(ItemCmd::Show { json, .. }))
            | Some(Cmd::Party(PartyCmd::List { json, .. }))
            | Some(Cmd::Party(PartyCmd::Show { json, .. }))
            | Some(Cmd::Lot { json, .. })
            | Some(Cmd::Check { json, .. }) => *json,
            Some(Cmd::Trace(t)) => t.json,
            Some(Cmd::Lots(l)) => l.json,
            Some(Cmd::Barcode(b)) => b.json,
            // Commands added later that take --json: the flag on the command line says it.
            _ => std::env::args_os().any(|a| a == "--json"),
        }
    }
}

#[cfg(test)]
mod help_tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every subcommand and every flag says what it is for in `--help`.
    #[test]
    fn every_subcommand_and_flag_has_a_help_line() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", cmd.get_name());
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_name() == "help" {
                    continue;
                }
                if sub.get_about().is_none() && sub.get_long_about().is_none() {
                    missing.push(format!("{path} {} (the command)", sub.get_name()));
                }
                walk(sub, &path, missing);
            }
        }
        let mut missing = vec![];
        let mut cmd = Cli::command();
        cmd.build();
        walk(&cmd, "", &mut missing);
        assert!(missing.is_empty(), "no help line:\n{}", missing.join("\n"));
    }
}
