//! What the audit shows besides the traceability events: master data as it was added (from
//! each item's and party's own `created` stamp), changes to the plant's settings (the QA
//! users among them), and attempts the plant's roles refused. Settings changes and refusals
//! are kept in tables of their own, never as events: they name no lot movement, so no
//! trace, lot history or export ever carries them. Refusals are capped (the oldest go
//! first) and their text is short, so a user hammering a refused key cannot grow the file
//! without bound.

use super::codec::{decode, encode};
use super::tables::{ITEMS, PARTIES, REFUSALS, SETTINGS_CHANGES};
use super::{Store, StoreError};
use chrono::{DateTime, Utc};
use lotline_domain::*;
use redb::{ReadTransaction, ReadableTable, ReadableTableMetadata, WriteTransaction};

/// At most this many refusals are kept; the oldest are dropped to make room. A plant's
/// honest mistakes are a few a day; this holds years of them, or a few hours of a script
/// trying the same thing in a loop, in at most a few MB.
pub const MAX_REFUSALS: u64 = 20_000;

/// The next key of a table keyed by a rising number.
fn next_key(t: &redb::Table<'_, u64, &'static [u8]>) -> Result<u64, StoreError> {
    Ok(t.last()?.map(|(k, _)| k.value() + 1).unwrap_or(1))
}

/// Keep who changed the plant's settings from `before` to `after`, and what, if anything
/// changed: in the transaction that changes them.
pub(super) fn settings_changed(
    w: &WriteTransaction,
    stamp: &Stamp,
    before: &Plant,
    after: &Plant,
) -> Result<(), StoreError> {
    let changes = settings_changes(before, after);
    if !changes.is_empty() {
        let mut t = w.open_table(SETTINGS_CHANGES)?;
        let key = next_key(&t)?;
        let row = SettingsChange {
            stamp: stamp.clone(),
            changes,
        };
        t.insert(key, encode(&row).as_slice())?;
    }
    Ok(())
}

impl Store {
    /// Keep these refused attempts, in one transaction, dropping the oldest beyond
    /// [`MAX_REFUSALS`].
    pub fn record_refusals(&self, rows: &[Refusal]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let w = self.begin_write()?;
        let result = (|| -> Result<(), StoreError> {
            let mut t = w.open_table(REFUSALS)?;
            let first = next_key(&t)?;
            for (key, r) in (first..).zip(rows) {
                t.insert(key, encode(r).as_slice())?;
            }
            while t.len()? > MAX_REFUSALS {
                if t.pop_first()?.is_none() {
                    break;
                }
            }
            Ok(())
        })();
        match result {
            Ok(()) => Ok(w.commit()?),
            Err(e) => {
                let _ = w.abort();
                Err(e)
            }
        }
    }

    /// How many refusals are kept now.
    pub fn refusal_count(&self) -> Result<u64, StoreError> {
        let r = self.read()?;
        match r.open_table(REFUSALS) {
            Ok(t) => Ok(t.len()?),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }
}

/// The audit lines that are not events, newest first, within `since..=until` (UTC), by
/// `operator`, about `lot` (only refusals name one); at most `limit`.
pub(super) fn notes(
    r: &ReadTransaction,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    operator: Option<&str>,
    lot: Option<&LotCode>,
    limit: usize,
) -> Result<Vec<AuditNote>, StoreError> {
    let keep = |s: &Stamp| {
        since.is_none_or(|t| s.at >= t)
            && until.is_none_or(|t| s.at <= t)
            && operator.is_none_or(|o| s.operator == o)
    };
    let mut out = Vec::new();
    if lot.is_none() {
        for row in r.open_table(ITEMS)?.iter()? {
            let (k, v) = row?;
            let item: Item = decode(v.value(), "items", &k.value())?;
            if keep(&item.created) {
                out.push(AuditNote {
                    stamp: item.created.clone(),
                    what: NoteKind::ItemAdded {
                        code: item.code,
                        name: item.description.name,
                    },
                });
            }
        }
        for row in r.open_table(PARTIES)?.iter()? {
            let (k, v) = row?;
            let party: Party = decode(v.value(), "parties", &k.value())?;
            if keep(&party.created) {
                out.push(AuditNote {
                    stamp: party.created.clone(),
                    what: NoteKind::PartyAdded {
                        id: party.id,
                        name: party.location.business_name,
                    },
                });
            }
        }
        newest(
            r,
            SETTINGS_CHANGES,
            "settings_changes",
            limit,
            |c: SettingsChange| {
                keep(&c.stamp).then_some(AuditNote {
                    stamp: c.stamp,
                    what: NoteKind::Settings { changes: c.changes },
                })
            },
            &mut out,
        )?;
    }
    newest(
        r,
        REFUSALS,
        "refusals",
        limit,
        |f: Refusal| {
            (keep(&f.stamp) && lot.is_none_or(|l| f.lot.as_ref() == Some(l))).then(|| AuditNote {
                stamp: f.stamp.clone(),
                what: NoteKind::Refused(f),
            })
        },
        &mut out,
    )?;
    out.sort_by_key(|n| std::cmp::Reverse(n.stamp.at));
    out.truncate(limit);
    Ok(out)
}

/// Up to `limit` rows of a rising-keyed table, newest first, that `f` keeps. A file no
/// refusal or settings change was written to yet has no such table: nothing to add.
fn newest<T: serde::de::DeserializeOwned>(
    r: &ReadTransaction,
    table: redb::TableDefinition<u64, &'static [u8]>,
    name: &'static str,
    limit: usize,
    mut f: impl FnMut(T) -> Option<AuditNote>,
    out: &mut Vec<AuditNote>,
) -> Result<(), StoreError> {
    let t = match r.open_table(table) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let mut n = 0;
    for row in t.iter()?.rev() {
        let (k, v) = row?;
        if let Some(note) = f(decode(v.value(), name, &k.value())?) {
            out.push(note);
            n += 1;
            if n >= limit {
                break;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(op: &str, at: &str) -> Stamp {
        Stamp {
            operator: op.into(),
            station: "dock-1".into(),
            at: at.parse().unwrap(),
        }
    }

    #[test]
    fn refusals_are_capped_oldest_first_and_their_text_is_short() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("p.redb"), true).unwrap();
        let long = "x".repeat(10_000);
        let rows: Vec<Refusal> = (0..MAX_REFUSALS + 5)
            .map(|i| {
                Refusal::new(
                    stamp(&format!("u{i}"), "2026-11-21T09:00:00Z"),
                    &long,
                    None,
                    "no\u{1b}[31m",
                )
            })
            .collect();
        s.record_refusals(&rows).unwrap();
        assert_eq!(s.refusal_count().unwrap(), MAX_REFUSALS);
        let r = s.read().unwrap();
        let got = notes(&r, None, None, None, None, 10).unwrap();
        assert_eq!(got.len(), 10);
        let NoteKind::Refused(f) = &got[0].what else {
            panic!("{got:?}")
        };
        assert_eq!(f.tried.chars().count(), MAX_NOTE_CHARS);
        assert!(!f.why.contains('\u{1b}'), "{}", f.why);
        // The first five went to make room.
        let all = notes(&r, None, None, Some("u0"), None, 100).unwrap();
        assert!(all.is_empty(), "{all:?}");
        assert_eq!(
            notes(&r, None, None, Some("u5"), None, 100).unwrap().len(),
            1
        );
    }

    #[test]
    fn a_settings_change_names_what_changed_and_nothing_else() {
        let before = Plant::default();
        let mut after = before.clone();
        after.qa_users = vec!["quinn".into(), "ana".into()];
        after.location.business_name = "Test Bakery".into();
        assert_eq!(
            settings_changes(&before, &after),
            "name: Unnamed plant → Test Bakery; QA users: (none) → quinn, ana"
        );
        assert_eq!(settings_changes(&after, &after), "");
    }
}
