//! `lotline audit`: who did what, when, from which station.

use super::Res;
use super::args::AuditArgs;
use super::output::{LotNames, describe_event, print_json};
use crate::domain::*;
use crate::station::{AuditFilter, Station, StationExt};
use chrono::{DateTime, Local, NaiveDate, TimeZone, Utc};
use std::io::Write;

/// The UTC instant a local calendar day starts (`end`: the last instant of it).
fn local_day(d: NaiveDate, end: bool) -> Option<DateTime<Utc>> {
    let t = if end {
        d.and_hms_milli_opt(23, 59, 59, 999)?
    } else {
        d.and_hms_opt(0, 0, 0)?
    };
    Local
        .from_local_datetime(&t)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

pub fn run(out: &mut impl Write, st: &dyn Station, a: &AuditArgs) -> Res {
    let today = st.today()?;
    let since = a
        .since
        .as_deref()
        .map(|d| parse_date(d, "since", today))
        .transpose()?;
    let until = a
        .until
        .as_deref()
        .map(|d| parse_date(d, "until", today))
        .transpose()?;
    if let (Some(s), Some(u)) = (since, until)
        && s > u
    {
        return Err(Invalid::new(
            "until",
            format!("{u} is before --since {s}; give the earlier day first"),
        )
        .into());
    }
    let lot = a
        .lot
        .as_deref()
        .map(|l| LotCode::parse(l, "lot"))
        .transpose()?;
    let trail = st.audit(AuditFilter {
        since: since.and_then(|d| local_day(d, false)),
        until: until.and_then(|d| local_day(d, true)),
        operator: a.operator.clone(),
        lot,
        limit: a.limit.max(1),
    })?;
    let codes: LotNames = trail
        .codes
        .iter()
        .map(|(id, c, u)| (*id, (c.to_string(), *u)))
        .collect();
    if a.json {
        let rows: Vec<serde_json::Value> = trail
            .entries
            .iter()
            .map(|h| {
                let e = &h.event;
                serde_json::json!({
                    "event": e.id,
                    "recorded_at": e.stamp.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "operator": e.stamp.operator,
                    "station": e.stamp.station,
                    "date": e.date.to_string(),
                    "what": describe_event(e, &codes),
                    "voided_by": h.voided_by,
                })
            })
            .collect();
        return print_json(out, &rows);
    }
    for h in &trail.entries {
        let e = &h.event;
        let local = e.stamp.at.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S");
        let void = h
            .voided_by
            .map(|v| format!("  (voided by event {v})"))
            .unwrap_or_default();
        writeln!(
            out,
            "{local}  {:<12} {:<16} #{:<7} {}{void}",
            e.stamp.operator,
            e.stamp.station,
            e.id,
            describe_event(e, &codes)
        )?;
    }
    if trail.entries.is_empty() {
        writeln!(out, "(no events match)")?;
    } else if trail.entries.len() >= a.limit as usize {
        writeln!(
            out,
            "(the newest {} shown; narrow with --since, --until, --operator or --lot, or raise --limit)",
            trail.entries.len()
        )?;
    }
    Ok(())
}
