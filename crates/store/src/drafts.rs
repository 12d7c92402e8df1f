//! Reading drafts back (`tables::DRAFTS`, written by `write::drafts`), and the caller's
//! last saved event at a station: what the app shows a clerk coming back.

use super::codec::decode;
use super::query::read_lot;
use super::tables::{DRAFTS, EVENTS};
use super::{Store, StoreError};
use lotline_domain::*;
use redb::{ReadableTable, TableError};

/// How far back "Last saved" looks for the caller's last event at their station: a busy
/// plant records a few thousand events a day, and a clerk coming back looks for what they
/// did in the last minutes, not last month.
pub const LAST_SAVED_LOOKBACK: usize = 20_000;

impl Store {
    /// `user`'s drafts, at every station, newest first; none older than `hours` at `now`.
    pub fn drafts_of(
        &self,
        user: &str,
        now: chrono::DateTime<chrono::Utc>,
        hours: u16,
    ) -> Result<Vec<Draft>, StoreError> {
        let r = self.read()?;
        let t = match r.open_table(DRAFTS) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out: Vec<Draft> = Vec::new();
        for e in t.range((user, "", 0)..)? {
            let (k, v) = e?;
            let (u, _, _) = k.value();
            if u != user {
                break;
            }
            // A draft an older or newer lotline wrote that this one cannot read is
            // passed over, never an error: it is not a record.
            if let Ok(d) = decode::<Draft>(v.value(), "drafts", &u)
                && !draft_expired(d.stamp.at, now, hours)
            {
                out.push(d);
            }
        }
        out.sort_by_key(|d| std::cmp::Reverse(d.stamp.at));
        Ok(out)
    }

    /// `user`'s draft of `form` at `station`, whatever its age.
    pub fn draft(
        &self,
        user: &str,
        station: &str,
        form: DraftForm,
    ) -> Result<Option<Draft>, StoreError> {
        let r = self.read()?;
        let t = match r.open_table(DRAFTS) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(match t.get((user, station, form.number()))? {
            Some(v) => decode::<Draft>(v.value(), "drafts", &user).ok(),
            None => None,
        })
    }

    /// The last event `user` recorded at `station`, among the newest
    /// `LAST_SAVED_LOOKBACK`, with the lots it names.
    pub fn last_saved(&self, user: &str, station: &str) -> Result<Option<LastSaved>, StoreError> {
        let r = self.read()?;
        let t = r.open_table(EVENTS)?;
        for e in t.iter()?.rev().take(LAST_SAVED_LOOKBACK) {
            let (k, v) = e?;
            let id = k.value();
            let ev: Event = decode(v.value(), "events", &id)?;
            if ev.stamp.operator != user || ev.stamp.station != station {
                continue;
            }
            let lots = ev
                .kind
                .lots()
                .into_iter()
                .map(|l| read_lot(&r, l))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Some(LastSaved { event: ev, lots }));
        }
        Ok(None)
    }
}
