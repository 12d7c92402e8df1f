//! `lotline audit`: who did what, when, from which station: every event, the master data
//! as it was added, changes to the plant's settings and QA users, and attempts the roles
//! refused.

use super::Res;
use super::args::AuditArgs;
use super::output::{LotNames, describe_event, event_lot, print_json};
use chrono::{DateTime, Local, NaiveDate, TimeZone, Utc};
use lotline_domain::AuditTrail;
use lotline_domain::*;
use lotline_station::identity::ssh_claim;
use lotline_station::{AuditFilter, Station, StationExt};
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
    let rows = lines(&trail, &codes, a.limit.max(1) as usize);
    if a.json {
        let rows: Vec<serde_json::Value> = rows.iter().map(Line::json).collect();
        return print_json(out, &rows);
    }
    for l in &rows {
        let local = l.at.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S");
        let id = l
            .event
            .map(|e| format!("#{e}"))
            .unwrap_or_else(|| "-".into());
        let void = l
            .voided_by
            .map(|v| format!("  (voided by event {v})"))
            .unwrap_or_default();
        writeln!(
            out,
            "{local}  {:<12} {:<16} {id:<8} {}{void}",
            text::escape(&l.operator),
            text::escape(&l.station),
            text::escape(&l.what)
        )?;
    }
    if rows.is_empty() {
        writeln!(out, "(no events match)")?;
    } else if rows.len() >= a.limit as usize {
        writeln!(
            out,
            "(the newest {} shown; narrow with --since, --until, --operator or --lot, or raise --limit)",
            rows.len()
        )?;
    }
    if rows.iter().any(|l| ssh_claim(&l.station).1.is_some()) {
        writeln!(
            out,
            "(NAME@ADDRESS: the station's name and the SSH client address its session reported: a claim, not checked)"
        )?;
    }
    Ok(())
}

/// One audit line: an event, or what is not one (master data added, a settings change,
/// a refused attempt).
struct Line {
    at: DateTime<Utc>,
    event: Option<u64>,
    kind: &'static str,
    operator: String,
    station: String,
    date: Option<NaiveDate>,
    what: String,
    lot: Option<String>,
    voided_by: Option<u64>,
}

impl Line {
    fn json(&self) -> serde_json::Value {
        let (station, ssh) = ssh_claim(&self.station);
        serde_json::json!({
            "event": self.event,
            "kind": self.kind,
            "recorded_at": self.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "operator": self.operator,
            "station": station,
            "ssh_client_claimed": ssh,
            "date": self.date.map(|d| d.to_string()),
            "what": self.what,
            "lot": self.lot,
            "voided_by": self.voided_by,
        })
    }
}

/// Events and other lines together, newest first, at most `limit`.
fn lines(trail: &AuditTrail, codes: &LotNames, limit: usize) -> Vec<Line> {
    let mut rows: Vec<Line> = trail
        .entries
        .iter()
        .map(|h| {
            let e = &h.event;
            Line {
                at: e.stamp.at,
                event: Some(e.id),
                kind: "event",
                operator: e.stamp.operator.clone(),
                station: e.stamp.station.clone(),
                date: Some(e.date),
                what: describe_event(e, codes),
                lot: event_lot(e).map(|id| {
                    codes
                        .get(&id)
                        .map(|(c, _)| c.clone())
                        .unwrap_or_else(|| format!("#{}", id.0))
                }),
                voided_by: h.voided_by,
            }
        })
        .chain(trail.notes.iter().map(|n| Line {
            at: n.stamp.at,
            event: None,
            kind: n.what.kind(),
            operator: n.stamp.operator.clone(),
            station: n.stamp.station.clone(),
            date: None,
            what: n.what.describe(),
            lot: n.what.lot().map(|l| l.to_string()),
            voided_by: None,
        }))
        .collect();
    // Stable: events recorded in the same instant keep their newest-first order.
    rows.sort_by_key(|l| std::cmp::Reverse(l.at));
    rows.truncate(limit);
    rows
}
