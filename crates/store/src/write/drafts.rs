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
    /// one there was; drafts of anyone's older than `hours` go.
    pub(super) fn save_draft(
        &mut self,
        d: DraftSave,
        st: &Stamp,
        hours: u16,
    ) -> Result<(), StoreError> {
        st.validate()?;
        let mut t = self.w.open_table(DRAFTS)?;
        let mut old: Vec<(String, String, u8)> = Vec::new();
        for e in t.iter()? {
            let (k, v) = e?;
            let (user, station, form) = k.value();
            let keep: Result<Draft, _> = decode(v.value(), "drafts", &user);
            // A draft this lotline cannot read is of no use to anyone: it goes too.
            if keep.is_ok_and(|k| !draft_expired(k.stamp.at, st.at, hours)) {
                continue;
            }
            old.push((user.to_string(), station.to_string(), form));
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
        t.insert(
            (st.operator.as_str(), st.station.as_str(), d.form.number()),
            encode(&draft).as_slice(),
        )?;
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
