//! Drafts (`tables::DRAFTS`): a form's unsaved state, kept per user, station and form.
//! Not records: they make no event and nothing reads them but the app that typed them
//! (docs/server.md, "Drafts"). Whether another live session holds a draft is the
//! station's to decide before it gets here; the store keeps what it is given.

use super::Tx;
use crate::StoreError;
use crate::codec::{decode, encode};
use crate::tables::DRAFTS;
use lotline_domain::*;
use redb::ReadableTable;

impl Tx<'_> {
    /// Keep `d` as the stamp's user's draft of its form at the stamp's station, over the
    /// one there was; drafts of anyone's older than `hours` go, and so do the user's
    /// oldest past [`MAX_DRAFTS_PER_USER`].
    pub(super) fn save_draft(
        &mut self,
        d: DraftSave,
        st: &Stamp,
        hours: u16,
    ) -> Result<(), StoreError> {
        st.validate()?;
        let mut t = self.w.open_table(DRAFTS)?;
        let key = (st.operator.as_str(), st.station.as_str(), d.form.number());
        let mut old: Vec<(String, String, u8)> = Vec::new();
        // The user's other drafts that stay, with when each was last sent.
        let mut theirs: Vec<(chrono::DateTime<chrono::Utc>, (String, String, u8))> = Vec::new();
        for e in t.iter()? {
            let (k, v) = e?;
            let (user, station, form) = k.value();
            let keep: Result<Draft, _> = decode(v.value(), "drafts", &user);
            // A draft this lotline cannot read is of no use to anyone: it goes too.
            match keep {
                Ok(k) if !draft_expired(k.stamp.at, st.at, hours) => {
                    if user == key.0 && (station, form) != (key.1, key.2) {
                        theirs.push((k.stamp.at, (user.to_string(), station.to_string(), form)));
                    }
                }
                _ => old.push((user.to_string(), station.to_string(), form)),
            }
        }
        // Room for this one among the user's newest.
        if theirs.len() >= MAX_DRAFTS_PER_USER {
            theirs.sort();
            let over = theirs.len() + 1 - MAX_DRAFTS_PER_USER;
            old.extend(theirs.into_iter().take(over).map(|(_, k)| k));
        }
        for (u, s, f) in &old {
            t.remove((u.as_str(), s.as_str(), *f))?;
        }
        let draft = Draft {
            form: d.form,
            stamp: st.clone(),
            session: d.session,
            bytes: d.bytes,
        };
        t.insert(key, encode(&draft).as_slice())?;
        Ok(())
    }

    /// Forget `user`'s draft of `form` at `station`, if there is one.
    pub(super) fn drop_draft(
        &mut self,
        user: &str,
        station: &str,
        form: DraftForm,
    ) -> Result<(), StoreError> {
        let mut t = self.w.open_table(DRAFTS)?;
        t.remove((user, station, form.number()))?;
        Ok(())
    }
}
