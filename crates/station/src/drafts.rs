//! Drafts at the station (docs/server.md, "Drafts"): which app sessions are connected, so
//! a draft kept by one live session is never written over by another of the same user,
//! and what a clerk coming back is offered ([`Resume`]).

use super::*;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// A fresh session number: unique in this process, and (seeded from the clock at first
/// use) unlike those of earlier processes, whose numbers stay on the drafts they kept.
pub fn new_session() -> u64 {
    static NEXT: std::sync::OnceLock<AtomicU64> = std::sync::OnceLock::new();
    let next = NEXT.get_or_init(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        AtomicU64::new(t ^ u64::from(std::process::id()) << 40)
    });
    next.fetch_add(1, Ordering::Relaxed)
}

/// One connected session: who, where, since when.
#[derive(Debug, Clone)]
struct LiveSession {
    user: String,
    station: String,
    since: DateTime<Utc>,
}

/// The sessions connected now, by session number.
#[derive(Debug, Default)]
pub(crate) struct Sessions(Mutex<HashMap<u64, LiveSession>>);

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, LiveSession>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A connected session, counted as live until dropped.
pub struct LiveGuard<'c> {
    core: &'c Core,
    session: u64,
}

impl Drop for LiveGuard<'_> {
    fn drop(&mut self) {
        self.core.sessions.lock().remove(&self.session);
    }
}

impl Core {
    /// Count `caller`'s session as connected until the guard is dropped.
    pub fn live(&self, caller: &Caller) -> LiveGuard<'_> {
        self.register(caller);
        LiveGuard {
            core: self,
            session: caller.session,
        }
    }

    /// Count `caller`'s session as connected for as long as this core lives (the one
    /// caller of a `Local`).
    pub(crate) fn register(&self, caller: &Caller) {
        self.sessions.lock().insert(
            caller.session,
            LiveSession {
                user: caller.user.clone(),
                station: caller.station.clone(),
                since: self.now(),
            },
        );
    }

    /// When `session`, not `mine`, is connected: since when.
    fn held_by_other(&self, session: u64, mine: u64) -> Option<DateTime<Utc>> {
        if session == mine {
            return None;
        }
        self.sessions.lock().get(&session).map(|s| s.since)
    }

    /// Before a draft is kept: the session is the caller's own (whatever the client
    /// sent), and a draft another live session of theirs keeps at this station is not
    /// written over.
    pub(crate) fn draft_command(
        &self,
        caller: &Caller,
        c: &mut Command,
    ) -> Result<(), StationError> {
        let Command::SaveDraft(d) = c else {
            return Ok(());
        };
        d.session = caller.session;
        if let Some(kept) = self.store().draft(&caller.user, &caller.station, d.form)?
            && let Some(since) = self.held_by_other(kept.session, caller.session)
        {
            return Err(StationError {
                kind: ErrorKind::Busy,
                field: Some("draft".into()),
                message: format!(
                    "your other lotline at {} (open since {} UTC) keeps this form's draft; this one's typing is not kept while that one is open",
                    caller.station,
                    since.format("%H:%M")
                ),
            });
        }
        Ok(())
    }

    /// What the caller is offered on return: their drafts (those of their station, and of
    /// stations nobody is connected at now), each saying whether another live session of
    /// theirs keeps it, and the last thing they saved at this station.
    pub(crate) fn resume(&self, caller: &Caller) -> Result<Resume, StationError> {
        let hours = self.store().plant()?.draft_hours;
        let drafts = self.store().drafts_of(&caller.user, self.now(), hours)?;
        let live = self.sessions.lock().clone();
        let offers = drafts
            .into_iter()
            .map(|d| {
                let station_connected = live
                    .iter()
                    .any(|(id, s)| *id != caller.session && s.station == d.stamp.station);
                DraftOffer {
                    held_since: self
                        .held_by_other(d.session, caller.session)
                        .filter(|_| live.get(&d.session).is_some_and(|s| s.user == caller.user)),
                    station_connected,
                    draft: d,
                }
            })
            .filter(|o| {
                o.draft.stamp.station == caller.station
                    || (o.held_since.is_none() && !o.station_connected)
            })
            .collect();
        Ok(Resume {
            drafts: offers,
            last_saved: self.store().last_saved(&caller.user, &caller.station)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lotline_store::test_util::*;

    fn core_at(store: lotline_store::Store, at: &str) -> Core {
        Core::new(store, Roles::from_plant()).with_clock(Clock::Fixed(at.parse().unwrap()))
    }

    fn save(
        core: &Core,
        who: &Caller,
        form: DraftForm,
        bytes: &[u8],
    ) -> Result<Reply, StationError> {
        core.call(
            who,
            Request::Command(Command::SaveDraft(DraftSave {
                form,
                bytes: bytes.to_vec(),
                session: 0,
            })),
            Vec::new,
        )
    }

    fn resume(core: &Core, who: &Caller) -> Resume {
        match core
            .call(who, Request::Query(Query::Resume), Vec::new)
            .unwrap()
        {
            Reply::Resume(r) => r,
            other => panic!("{other:?}"),
        }
    }

    fn plant() -> (tempfile::TempDir, lotline_store::Store) {
        let (dir, s) = temp_store();
        add_item(&s, "FLOUR", Unit::Kg, ItemKind::Ingredient);
        add_party(&s, "MILL", lotline_domain::Role::Supplier);
        (dir, s)
    }

    #[test]
    fn a_draft_comes_back_to_its_user_and_saving_the_form_ends_it() {
        let (_dir, s) = plant();
        let core = core_at(s, "2026-11-21T11:42:00Z");
        let ana = Caller::new("ana", vec![], "hh-3");
        let live = core.live(&ana);
        save(&core, &ana, DraftForm::Receive, b"FLOUR MILL DROP-77 12").unwrap();
        drop(live);
        // Back, in a new session: the draft, with who, where and when.
        let back = Caller::new("ana", vec![], "hh-3");
        let _live = core.live(&back);
        let r = resume(&core, &back);
        assert_eq!(r.drafts.len(), 1);
        let d = &r.drafts[0];
        assert_eq!(d.draft.bytes, b"FLOUR MILL DROP-77 12");
        assert_eq!(d.draft.stamp.station, "hh-3");
        assert_eq!(d.draft.stamp.at.to_rfc3339(), "2026-11-21T11:42:00+00:00");
        assert_eq!(d.held_since, None);
        // Someone else sees none of it.
        let cory = Caller::new("cory", vec![], "hh-3");
        assert!(resume(&core, &cory).drafts.is_empty());
        // Saving the receipt ends the draft, in the same transaction.
        core.call(
            &back,
            Request::Command(Command::Receive(new_receipt(
                "FLOUR", "MILL", "DROP-77", 12,
            ))),
            Vec::new,
        )
        .unwrap();
        let r = resume(&core, &back);
        assert!(r.drafts.is_empty(), "{r:?}");
        let last = r.last_saved.expect("the receipt is the last saved");
        assert!(matches!(last.event.kind, EventKind::Receive(_)));
        assert_eq!(last.lots.len(), 1);
        assert_eq!(last.lots[0].item.as_str(), "FLOUR");
        // At another station, nothing of ana's was saved.
        let elsewhere = Caller::new("ana", vec![], "hh-4");
        assert_eq!(resume(&core, &elsewhere).last_saved, None);
    }

    #[test]
    fn a_second_live_session_does_not_take_the_first_ones_draft() {
        let (_dir, s) = plant();
        let core = core_at(s, "2026-11-21T11:42:00Z");
        let first = Caller::new("ana", vec![], "hh-3");
        let first_live = core.live(&first);
        save(&core, &first, DraftForm::Receive, b"first").unwrap();
        let second = Caller::new("ana", vec![], "hh-3");
        let _second_live = core.live(&second);
        // Offered as held by the other session, never as its own.
        let r = resume(&core, &second);
        assert_eq!(r.drafts.len(), 1);
        assert!(r.drafts[0].held_since.is_some());
        let e = save(&core, &second, DraftForm::Receive, b"second").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Busy);
        assert!(e.message.contains("keeps this form's draft"), "{e}");
        let kept = core
            .store()
            .draft("ana", "hh-3", DraftForm::Receive)
            .unwrap()
            .unwrap();
        assert_eq!(kept.bytes, b"first");
        // Another form is free; and once the first session is gone, so is this one.
        save(&core, &second, DraftForm::Ship, b"ship").unwrap();
        drop(first_live);
        save(&core, &second, DraftForm::Receive, b"second").unwrap();
        let kept = core
            .store()
            .draft("ana", "hh-3", DraftForm::Receive)
            .unwrap()
            .unwrap();
        assert_eq!(kept.bytes, b"second");
        assert_eq!(kept.session, second.session);
    }

    #[test]
    fn a_draft_of_a_station_nobody_is_at_is_offered_anywhere() {
        let (_dir, s) = plant();
        let core = core_at(s, "2026-11-21T11:42:00Z");
        let hh3 = Caller::new("ana", vec![], "hh-3");
        {
            let _l = core.live(&hh3);
            save(&core, &hh3, DraftForm::Receive, b"x").unwrap();
        }
        let hh4 = Caller::new("ana", vec![], "hh-4");
        let _l4 = core.live(&hh4);
        assert_eq!(resume(&core, &hh4).drafts.len(), 1);
        // While someone is at hh-3 again, its drafts stay there.
        let bo = Caller::new("bo", vec![], "hh-3");
        let bo_live = core.live(&bo);
        assert!(resume(&core, &hh4).drafts.is_empty());
        drop(bo_live);
        // Taken over at hh-4: dropped where it was typed.
        core.call(
            &hh4,
            Request::Command(Command::DropDraft {
                station: "hh-3".into(),
                form: DraftForm::Receive,
            }),
            Vec::new,
        )
        .unwrap();
        assert!(resume(&core, &hh4).drafts.is_empty());
    }

    #[test]
    fn drafts_expire_after_the_plants_hours() {
        let (dir, s) = plant();
        let mut p = s.plant().unwrap();
        p.draft_hours = 2;
        s.apply(Command::SetPlant(p), &stamp(), today()).unwrap();
        let core = core_at(s, "2026-11-21T08:00:00Z");
        let ana = Caller::new("ana", vec![], "hh-3");
        save(&core, &ana, DraftForm::Trace, b"old").unwrap();
        let store = core.into_store();
        // Two hours on it is still there; past them it is not, and the next draft
        // written removes it for good.
        let core = core_at(store, "2026-11-21T10:00:00Z");
        assert_eq!(resume(&core, &ana).drafts.len(), 1);
        let core = core_at(core.into_store(), "2026-11-21T10:00:01Z");
        assert!(resume(&core, &ana).drafts.is_empty());
        let bo = Caller::new("bo", vec![], "hh-1");
        save(&core, &bo, DraftForm::Receive, b"new").unwrap();
        assert_eq!(
            core.store().draft("ana", "hh-3", DraftForm::Trace).unwrap(),
            None
        );
        // Not a record: the plant's check has nothing to say of drafts.
        let report = core.store().check().unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        drop(dir);
    }

    /// The attacker: one user connecting under a new station name for every draft. The
    /// plant keeps their newest sixteen and nobody else's go.
    #[test]
    fn one_user_under_many_station_names_keeps_only_their_newest_drafts() {
        let (_dir, s) = plant();
        let mut core = core_at(s, "2026-11-21T10:59:00Z");
        let bo = Caller::new("bo", vec![], "hh-1");
        save(&core, &bo, DraftForm::Receive, b"bo's").unwrap();
        for i in 0..40 {
            core = core_at(core.into_store(), &format!("2026-11-21T11:00:{i:02}Z"));
            let ana = Caller::new("ana", vec![], format!("name-{i:02}"));
            save(&core, &ana, DraftForm::Receive, format!("{i}").as_bytes()).unwrap();
        }
        let at = |i: usize| format!("name-{i:02}");
        let kept = core
            .store()
            .drafts_of("ana", core.now(), DEFAULT_DRAFT_HOURS)
            .unwrap();
        let stations: Vec<&str> = kept.iter().map(|d| d.stamp.station.as_str()).collect();
        let newest: Vec<String> = (40 - MAX_DRAFTS_PER_USER..40).rev().map(at).collect();
        assert_eq!(stations, newest);
        // Saving again over one kept draft lets none of the others go.
        let ana = Caller::new("ana", vec![], at(30));
        save(&core, &ana, DraftForm::Receive, b"again").unwrap();
        let kept = core
            .store()
            .drafts_of("ana", core.now(), DEFAULT_DRAFT_HOURS)
            .unwrap();
        assert_eq!(kept.len(), MAX_DRAFTS_PER_USER);
        // Another user's draft is untouched.
        assert!(
            core.store()
                .draft("bo", "hh-1", DraftForm::Receive)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn a_draft_names_no_lot_and_makes_no_event() {
        let (_dir, s) = plant();
        let core = core_at(s, "2026-11-21T11:42:00Z");
        let ana = Caller::new("ana", vec![], "hh-3");
        let before = core.store().stats().unwrap();
        save(&core, &ana, DraftForm::Receive, b"FLOUR").unwrap();
        assert_eq!(core.store().stats().unwrap(), before);
        assert!(core.store().last_saved("ana", "hh-3").unwrap().is_none());
        // Too large a draft is refused before anything is written.
        let e = save(&core, &ana, DraftForm::Ship, &vec![0; DRAFT_MAX + 1]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
    }
}
