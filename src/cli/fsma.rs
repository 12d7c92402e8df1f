//! `lotline fsma` (the sortable spreadsheet FDA asks for), `lotline kde` (a shipment's
//! KDEs for the customer) and `lotline plan` (a draft traceability plan): FSMA 204 on the
//! command line, over any station.

use super::Res;
use clap::Args;
use lotline_domain::{Invalid, ItemCode, parse_date};
use lotline_export::fsma::{self, Request, RunBy};
use lotline_station::{Station, StationExt};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(
    after_help = "Writes one sheet per Critical Tracking Event (Receiving, Transformation, Shipping) and a \"Read me\" sheet, as FDA's sortable-spreadsheet template lays them out. Voided events are left out (the Read me counts them). An existing file is never written over. Filters that match nothing say so and write nothing.\n\nExamples:\n  lotline fsma --from 2026-01-01 --to 2026-12-31 --xlsx fda-2026.xlsx\n  lotline fsma --lot SR-1121 --csv fda-eggs/\n  lotline fsma --item EGGS --item MILK --all --xlsx eggs-milk.xlsx"
)]
pub struct FsmaArgs {
    /// One lot's whole trace, both ways: our lot code, or a supplier's lot code (TLC)
    /// exactly as printed (every lot of ours that carries it).
    #[arg(long, value_name = "TLC")]
    pub lot: Option<String>,
    /// Only records of this item (repeat for several).
    #[arg(long = "item", value_name = "CODE")]
    pub items: Vec<String>,
    /// First business day, YYYY-MM-DD (inclusive).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last business day, YYYY-MM-DD (inclusive).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Only foods on the Food Traceability List (the default).
    #[arg(long, conflicts_with = "all")]
    pub ftl_only: bool,
    /// Every item, on the Food Traceability List or not.
    #[arg(long)]
    pub all: bool,
    /// Write the workbook here (.xlsx); refused if the file exists.
    #[arg(long, value_name = "FILE")]
    pub xlsx: Option<PathBuf>,
    /// Write receiving.csv, transformation.csv, shipping.csv and read-me.txt into this
    /// folder (created if missing); refused if any of them exists.
    #[arg(long, value_name = "DIR")]
    pub csv: Option<PathBuf>,
    /// Who FDA should call about these records, for the Read me ("Name, phone, email").
    /// Default: the plant's phone.
    #[arg(long, value_name = "TEXT")]
    pub contact: Option<String>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "The customer keeps these as its receiving records (21 CFR 1.1340(b)). With neither --csv nor --epcis the CSV goes to standard output.\n\nWith --missing, lists every receiving, transformation and shipping event of a food on the Food Traceability List whose FDA spreadsheet row would have a Key Data Element blank: which one, and the command that fills it. Run it before `lotline fsma`.\n\nExamples:\n  lotline kde 4711 --csv bol-5521-kdes.csv\n  lotline kde 4711 --csv bol-5521-kdes.csv --epcis bol-5521.jsonld\n  lotline kde --missing\n  lotline kde --missing --from 2026-01-01 --item EGGS"
)]
pub struct KdeArgs {
    /// The shipment's event id (the number `lotline ship` printed).
    #[arg(
        value_name = "SHIPMENT_EVENT_ID",
        required_unless_present = "missing",
        conflicts_with = "missing"
    )]
    pub shipment: Option<String>,
    /// Instead of a shipment's KDEs: every event of a food on the Food Traceability List
    /// with a Key Data Element missing, and what fills it.
    #[arg(long)]
    pub missing: bool,
    /// With --missing: only this item (repeat for several).
    #[arg(long = "item", value_name = "CODE", requires = "missing")]
    pub items: Vec<String>,
    /// With --missing: first business day, YYYY-MM-DD (inclusive).
    #[arg(long, value_name = "DATE", requires = "missing")]
    pub from: Option<String>,
    /// With --missing: last business day, YYYY-MM-DD (inclusive).
    #[arg(long, value_name = "DATE", requires = "missing")]
    pub to: Option<String>,
    /// Write the CSV to this file (refused if it exists).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Also write the shipment as an EPCIS 2.0 JSON-LD document, for customers who take
    /// EPCIS (refused if the file exists).
    #[arg(long, value_name = "FILE")]
    pub epcis: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Write the plan to this file (refused if it exists); default: standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The plan's point of contact ("Name, phone, email"); default: left to fill in.
    #[arg(long, value_name = "TEXT")]
    pub contact: Option<String>,
    /// Plain text instead of Markdown.
    #[arg(long)]
    pub text: bool,
}

/// `--item`, `--from` and `--to` as a request's filters (the rest left empty).
fn filters(
    st: &dyn Station,
    items: &[String],
    from: &Option<String>,
    to: &Option<String>,
) -> Result<Request, lotline_station::StationError> {
    let today = st.today()?;
    let date = |d: &Option<String>, field| d.as_deref().map(|d| parse_date(d, field, today));
    Ok(Request {
        items: items
            .iter()
            .map(|i| ItemCode::parse(i, "item"))
            .collect::<Result<_, _>>()?,
        from: date(from, "from").transpose()?,
        to: date(to, "to").transpose()?,
        ..Default::default()
    })
}

fn clean_contact(c: &Option<String>) -> Result<Option<String>, Invalid> {
    Ok(c.as_deref().map(fsma::clean_contact).transpose()?.flatten())
}

/// `lotline fsma`.
pub fn fsma(st: &dyn Station, out: &mut impl Write, a: &FsmaArgs) -> Res {
    if a.xlsx.is_none() && a.csv.is_none() {
        return Err(
            Invalid::new("xlsx", "say where to write: --xlsx FILE and/or --csv DIR").into(),
        );
    }
    let req = Request {
        lot: a.lot.as_deref().map(str::trim).map(str::to_string),
        ftl_only: !a.all,
        contact: clean_contact(&a.contact)?,
        ..filters(st, &a.items, &a.from, &a.to)?
    };
    // Refuse an existing output before the work, not after it.
    if let Some(x) = &a.xlsx
        && x.exists()
    {
        return Err(Invalid::new(
            "xlsx",
            format!(
                "{} already exists; give a new name (nothing was written)",
                x.display()
            ),
        )
        .into());
    }
    let me = st.whoami()?;
    let run = RunBy {
        operator: me.operator,
        station: me.station,
        at: chrono::Utc::now(),
    };
    let started = std::time::Instant::now();
    let mut progress = |what: &str| {
        if started.elapsed().as_millis() > 500 {
            eprintln!("lotline fsma: {what}");
        }
    };
    let export = fsma::gather(st, &req, &run, &mut progress)?;
    progress("writing");
    let counts: Vec<String> = export
        .sheets
        .iter()
        .map(|s| format!("{} {}", s.rows.len(), s.name.to_lowercase()))
        .collect();
    if let Some(x) = &a.xlsx {
        fsma::write_xlsx(x, &export)?;
        writeln!(out, "{}", x.display())?;
    }
    if let Some(dir) = &a.csv {
        for p in fsma::write_csv(dir, &export)? {
            writeln!(out, "{}", p.display())?;
        }
    }
    eprintln!(
        "lotline fsma: {} rows ({})",
        export.rows(),
        counts.join(", ")
    );
    // After the files, so a refusal stays the one line it is.
    for w in &export.warnings {
        eprintln!("lotline fsma: warning: {}", lotline_domain::text::escape(w));
    }
    if !export.warnings.is_empty() {
        eprintln!(
            "lotline fsma: `lotline kde --missing` lists every KDE missing, and what fills it"
        );
    }
    Ok(())
}

/// `lotline kde SHIPMENT`, `lotline kde --missing`.
pub fn kde(st: &dyn Station, out: &mut impl Write, a: &KdeArgs) -> Res {
    let Some(shipment) = a.shipment.as_deref().filter(|_| !a.missing) else {
        return kde_missing(st, out, a);
    };
    let id: u64 = shipment.trim().parse().map_err(|_| {
        Invalid::new(
            "shipment",
            format!(
                "{} is not an event id; give the number `lotline ship` printed",
                lotline_domain::text::excerpt(shipment)
            ),
        )
    })?;
    // Both files are refused before either is written.
    for (path, flag) in [(&a.csv, "csv"), (&a.epcis, "epcis")] {
        if let Some(p) = path
            && p.exists()
        {
            return Err(Invalid::new(
                flag,
                format!(
                    "{} already exists; give a new name (nothing was written)",
                    p.display()
                ),
            )
            .into());
        }
    }
    let sheet = fsma::shipment(st, id)?;
    let text = fsma::sheet_csv(&sheet)?;
    match &a.csv {
        Some(path) => {
            lotline_export::file::write_new_file(path, &text, "csv")?;
            writeln!(out, "{}", path.display())?;
        }
        None if a.epcis.is_none() => out.write_all(text.as_bytes())?,
        None => {}
    }
    if let Some(path) = &a.epcis {
        let sel = lotline_export::epcis::export::Selection {
            events: Some(vec![id]),
            ..Default::default()
        };
        let plan = lotline_export::epcis::export::plan(st, &sel, &mut |_| {})
            .map_err(super::epcis::export_failure)?;
        lotline_export::epcis::export::write_file(st, &plan, chrono::Utc::now(), path, &mut |_| {})
            .map_err(super::epcis::export_failure)?;
        writeln!(out, "{}", path.display())?;
    }
    Ok(())
}

/// `lotline kde --missing`: one line per KDE missing from an event, then what was checked.
fn kde_missing(st: &dyn Station, out: &mut impl Write, a: &KdeArgs) -> Res {
    use lotline_domain::text::escape;
    let req = Request {
        ftl_only: true,
        ..filters(st, &a.items, &a.from, &a.to)?
    };
    let found = fsma::missing(st, &req)?;
    if !found.gaps.is_empty() {
        writeln!(
            out,
            "{:<10} {:>8}  {:<14} {:<16} {:<48} FILL IT WITH",
            "DATE", "EVENT", "CTE", "LOT", "MISSING"
        )?;
    }
    for g in &found.gaps {
        writeln!(
            out,
            "{:<10} {:>8}  {:<14} {:<16} {:<48} {}",
            g.date.to_string(),
            g.event,
            g.cte,
            escape(&g.lot),
            escape(&g.kde),
            escape(&fill_command(&g.fill))
        )?;
    }
    let events: std::collections::BTreeSet<u64> = found.gaps.iter().map(|g| g.event).collect();
    eprintln!(
        "lotline kde: {} missing in {} of {} checked ({}){}",
        lotline_domain::words::plural(found.gaps.len(), "KDE", "KDEs"),
        lotline_domain::words::plural(events.len(), "event", "events"),
        lotline_domain::words::plural(found.events, "event", "events"),
        fsma::describe_filters(&req),
        if found.gaps.is_empty() {
            "; the FDA spreadsheet will have every KDE"
        } else {
            ""
        }
    );
    Ok(())
}

/// The command that fills a missing KDE.
fn fill_command(f: &fsma::Fill) -> String {
    match f {
        fsma::Fill::Item { code, field } => format!("lotline item edit {code} --{field} …"),
        fsma::Fill::Party { id, field } => format!("lotline party edit {id} --{field} …"),
        fsma::Fill::Plant { field } => format!("lotline plant set --{field} …"),
        fsma::Fill::Reference { event } => format!(
            "lotline void {event} --reason \"no reference document\", then record it again with --ref TYPE:NUMBER"
        ),
    }
}

/// `lotline plan`: a draft §1.1315 traceability plan from what lotline knows.
pub fn plan(st: &dyn Station, out: &mut impl Write, a: &PlanArgs) -> Res {
    let contact = clean_contact(&a.contact)?;
    let text = plan_text(st, contact.as_deref(), !a.text)?;
    match &a.out {
        Some(path) => {
            lotline_export::file::write_new_file(path, &text, "out")?;
            writeln!(out, "{}", path.display())?;
        }
        None => out.write_all(text.as_bytes())?,
    }
    Ok(())
}

/// The plan as Markdown (or plain text): what FSMA §1.1315 asks a plan to say, filled in
/// from the plant, its items, suppliers, lot-code patterns and the records lotline keeps.
pub fn plan_text(
    st: &dyn Station,
    contact: Option<&str>,
    markdown: bool,
) -> Result<String, lotline_station::StationError> {
    let plant = st.plant()?;
    let items = st.items()?;
    let parties = st.parties()?;
    let stats = st.stats()?;
    let today = st.today()?;
    let h = |level: usize, t: &str| {
        if markdown {
            format!("{} {t}\n\n", "#".repeat(level))
        } else {
            format!(
                "{t}\n{}\n\n",
                if level == 1 { "=" } else { "-" }.repeat(t.chars().count())
            )
        }
    };
    let bullet = |t: &str| format!("- {t}\n");
    let mut s = String::new();
    s += &h(
        1,
        &format!("Traceability plan: {}", plant.location.business_name),
    );
    s += &format!(
        "Draft written by lotline on {today} from the records it keeps (21 CFR 1.1315). Review it, complete what is marked TO DO, sign and date it, and keep it for 2 years after it is replaced.\n\n"
    );
    s += &h(2, "1. Point of contact");
    s += &match contact {
        Some(c) => format!("{c}\n\n"),
        None => "TO DO: name, phone and email of the person responsible for this plan and for answering FDA records requests (`lotline plan --contact \"…\"`).\n\n".into(),
    };
    s += &format!(
        "Plant: {}{}\n\n",
        plant.location.one_line(),
        plant
            .gln
            .as_ref()
            .map(|g| format!(" (GLN {g})"))
            .unwrap_or_default()
    );

    s += &h(2, "2. Foods on the Food Traceability List we handle");
    let ftl: Vec<_> = items.iter().filter(|i| i.ftl).collect();
    if ftl.is_empty() {
        s += "No item is marked as on the Food Traceability List. TO DO: check each item against FDA's list and mark those on it (`lotline item add … --ftl`).\n\n";
    } else {
        for i in &ftl {
            let d = &i.description;
            let extra: Vec<&str> = [d.commodity.as_str(), d.variety.as_str(), d.brand.as_str()]
                .into_iter()
                .filter(|x| !x.is_empty())
                .collect();
            s += &bullet(&format!(
                "{} — {} ({}, kept in {}){}",
                i.code,
                d.name,
                i.kind,
                i.unit,
                if extra.is_empty() {
                    String::new()
                } else {
                    format!("; {}", extra.join(", "))
                }
            ));
        }
        s += "\n";
    }
    let suppliers: Vec<_> = parties.iter().filter(|p| p.role.supplies()).collect();
    s += &format!(
        "We receive from {} supplier(s) and ship to {} customer(s) on record.\n\n",
        suppliers.len(),
        parties.iter().filter(|p| p.role.buys()).count()
    );

    s += &h(2, "3. How we assign traceability lot codes");
    s += &format!(
        "A lot we receive keeps its supplier's lot code as its traceability lot code (TLC), with the supplier as TLC source, or the TLC source reference recorded at receiving when the lot came through a distributor. We also give it an internal lot code by the pattern `{}`.\n\n",
        plant.receipt_pattern
    );
    s += &format!(
        "We assign a new TLC only when we transform food (a production batch): the batch's output lot code, by the pattern `{}`, is its TLC, and this plant is its TLC source.\n\n",
        plant.batch_pattern
    );
    s += "Pattern parts: {YY} year, {YYYY} four-digit year, {JJJ} day of the year, {MM} month, {DD} day, {SEQ:n} a sequence number of n digits that starts again each day.\n\n";

    s += &h(2, "4. Where and how records are kept");
    s += &format!(
        "Every receipt, batch and shipment is recorded in lotline when it happens, with who recorded it, at which station and when. Records are never changed or deleted; a mistake is corrected by a new record with a reason. The database now holds {} lots and {} events. TO DO: say where the database file is, how it is backed up, and for how long backups are kept (at least 2 years).\n\n",
        stats.lots, stats.events
    );
    let recorded = suppliers
        .iter()
        .filter(|p| p.location.phone.is_empty() || p.location.street.is_empty())
        .count();
    if recorded > 0 {
        s += &format!(
            "TO DO: {recorded} supplier(s) lack a phone or street address, which the location description FDA asks for needs (`lotline party show ID`).\n\n"
        );
    }

    s += &h(2, "5. Producing the records FDA asks for within 24 hours");
    s += "1. Note what FDA asked for: the foods, the dates, or the lot codes.\n";
    s += "2. Run `lotline fsma` with those filters, for example `lotline fsma --from 2026-01-01 --to 2026-06-30 --xlsx fda-request.xlsx`, or `--lot CODE` for one lot's whole trace, or `--item CODE` for a food.\n";
    s += "3. Check the \"Read me\" sheet: plant, contact, filters and row counts.\n";
    s += "4. Send the file as FDA directs. Keep a copy with the request.\n\n";
    s += "Customers receive the shipping KDEs of each shipment with `lotline kde SHIPMENT --csv FILE`, and as EPCIS with `--epcis FILE` (or the Ship screen's KDE key after saving).\n\n";

    s += &h(2, "6. Farm maps");
    s += "Not applicable unless we grow or raise food on the Food Traceability List. TO DO: confirm.\n\n";
    s += &h(2, "Approval");
    s += "Name: ______________________  Signature: ______________________  Date: __________\n";
    Ok(s)
}
