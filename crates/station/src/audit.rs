//! Refused attempts, as the audit keeps them: what was tried in a few words (never the
//! whole request: a reason typed into a refused dialog is not the plant's record), the lot
//! it was about, and why the roles refused it. `Core` records one row per refusal, on the
//! side that owns the database.

use super::{Caller, Command, Core, ErrorKind, Query, StationError};
use lotline_domain::Refusal;
use lotline_domain::{LotCode, LotStatus, Stamp};

/// What a command tried, in a few words, and the lot it named, if one.
pub fn tried(c: &Command) -> (String, Option<LotCode>) {
    let lot = |l: &LotCode| Some(l.clone());
    match c {
        Command::SetPlant(_) => ("change the plant's settings".into(), None),
        Command::AddItem(i) => (format!("add item {}", i.code), None),
        Command::AddParty(p) => (format!("add party {}", p.id), None),
        Command::Receive(r)
        | Command::ReceiveScanned(lotline_domain::ScannedReceipt { receipt: r, .. }) => (
            format!("receive {} {} from {}", r.qty, r.item, r.supplier),
            None,
        ),
        Command::Produce(b) => (format!("produce {} {}", b.qty, b.item), None),
        Command::Ship(s) => (
            format!(
                "ship {} line{} to {}",
                s.lines.len(),
                if s.lines.len() == 1 { "" } else { "s" },
                s.customer
            ),
            None,
        ),
        Command::Adjust(a) => (format!("adjust lot {} by {}", a.lot, a.delta), lot(&a.lot)),
        Command::SetStatus(s) => {
            let verb = match s.to {
                LotStatus::Hold => "hold",
                LotStatus::Released => "release",
                LotStatus::Recalled => "recall",
                LotStatus::Voided => "void",
            };
            (format!("{verb} lot {}", s.lot), lot(&s.lot))
        }
        Command::Void(v) => (format!("void event {}", v.event), None),
        Command::HoldAll(h) => (
            format!("hold {} lots at once", h.lots.len()),
            h.lots.first().cloned(),
        ),
        Command::RecordMockRecall { .. } => ("record a mock recall".into(), None),
        Command::ImportEpcis(i) => (format!("import {} EPCIS events", i.events.len()), None),
        Command::EditItem(i) => (format!("edit item {}", i.code), None),
        Command::RetireItem { code, .. } => (format!("retire item {code}"), None),
        Command::EditParty(p) => (format!("edit party {}", p.id), None),
        Command::RetireParty { id, .. } => (format!("retire party {id}"), None),
        Command::Return(r) => (format!("record a return of lot {}", r.lot), lot(&r.lot)),
        Command::StartMockRecall(m) => (
            format!("start a mock recall from lot {}", m.lot),
            lot(&m.lot),
        ),
        Command::CountMockRecall { count, .. } => (
            format!("count mock recall {}", count.recall),
            count.lot.clone(),
        ),
        Command::FinishMockRecall { recall, .. } => (format!("finish mock recall {recall}"), None),
        Command::SetAllergens(_) => ("change the plant's allergen list".into(), None),
        Command::DeclareAllergens { item, .. } => {
            (format!("declare the allergens of item {item}"), None)
        }
        Command::AddRecipe(r) => (format!("change the recipe of item {}", r.item), None),
        Command::ProduceOverride { batch, reason } => (
            format!(
                "produce {} {} {}",
                batch.qty,
                batch.item,
                if reason.off_recipe {
                    "with inputs off its recipe"
                } else {
                    "off its recipe"
                }
            ),
            None,
        ),
        Command::Changeover(_) => ("record a line changeover".into(), None),
        Command::SaveDraft(d) => (format!("keep a draft of {}", d.form.name()), None),
        Command::DropDraft { form, .. } => (format!("discard a draft of {}", form.name()), None),
    }
}

/// What a refused query tried, when queries can be refused at all.
pub fn tried_query(q: &Query) -> String {
    match q {
        Query::BackupStart | Query::BackupPart { .. } | Query::BackupDone { .. } => {
            "take a backup through the server".into()
        }
        other => {
            let name = format!("{other:?}");
            format!(
                "read {}",
                name.split(['(', ' ', '{'])
                    .next()
                    .unwrap_or("")
                    .to_lowercase()
            )
        }
    }
}

/// Refusals of one user kept a minute. Each is a write with its own sync: without a bound,
/// anyone the roles refuse could keep the disk busy for every station and, past the table's
/// cap, push everyone else's refusals out of the audit. Those over it are counted and said
/// in one row when the next is kept.
const REFUSALS_KEPT_PER_MINUTE: u32 = 20;

/// Per user: when their minute began, how many refusals were kept and how many dropped.
#[derive(Debug, Default)]
pub(crate) struct RefusalBudget {
    users: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, u32, u32)>>,
}

impl RefusalBudget {
    /// Whether one more refusal of `user` is kept now, and how many of theirs were dropped
    /// since the last one kept (to say so in the audit).
    fn admit(&self, user: &str, now: std::time::Instant) -> (bool, u32) {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        let w = users.entry(user.to_string()).or_insert((now, 0, 0));
        if now.duration_since(w.0) >= std::time::Duration::from_secs(60) {
            w.0 = now;
            w.1 = 0;
        }
        if w.1 >= REFUSALS_KEPT_PER_MINUTE {
            w.2 += 1;
            return (false, 0);
        }
        w.1 += 1;
        (true, std::mem::take(&mut w.2))
    }
}

impl Core {
    /// Keep the refusals among `results` (the roles said no) for the audit. A file that
    /// cannot be written now (read-only here, damaged, full) keeps nothing: the caller's
    /// own error is what matters then, and the server's log still has the line.
    pub(crate) fn note_refusals<'a>(
        &self,
        refused: impl IntoIterator<Item = (&'a Caller, String, Option<LotCode>, &'a StationError)>,
    ) {
        let at = self.now();
        let now = std::time::Instant::now();
        let mut rows: Vec<Refusal> = Vec::new();
        for (caller, what, lot, e) in refused {
            if e.kind != ErrorKind::Forbidden {
                continue;
            }
            let (kept, dropped) = self.refusal_budget.admit(&caller.user, now);
            let stamp = Stamp {
                operator: caller.user.clone(),
                station: caller.station.clone(),
                at,
            };
            if dropped > 0 {
                rows.push(Refusal::new(
                    stamp.clone(),
                    "more attempts",
                    None,
                    &format!(
                        "{dropped} more refused attempts were not kept one by one (over {REFUSALS_KEPT_PER_MINUTE} a minute)"
                    ),
                ));
            }
            if kept {
                rows.push(Refusal::new(stamp, &what, lot, &e.message));
            }
        }
        if !rows.is_empty() && self.store().writable() {
            let _ = self.store().record_refusals(&rows);
        }
    }

    /// Keep one refused attempt (what was tried, in words) for the audit: for refusals
    /// made outside `Core`, such as a server refusing a user with no role at connect time.
    pub fn note_refusal(&self, caller: &Caller, what: &str, why: &StationError) {
        self.note_refusals([(caller, what.to_string(), None, why)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_refused_over_and_over_is_kept_a_bounded_number_of_times_a_minute() {
        let b = RefusalBudget::default();
        let t = std::time::Instant::now();
        for _ in 0..REFUSALS_KEPT_PER_MINUTE {
            assert_eq!(b.admit("eve", t), (true, 0));
        }
        for _ in 0..500 {
            assert_eq!(b.admit("eve", t), (false, 0));
        }
        // Someone else is not held back by eve's flood.
        assert_eq!(b.admit("quinn", t), (true, 0));
        // A minute on, eve's next is kept, with word of the 500 that were not.
        let later = t + std::time::Duration::from_secs(61);
        assert_eq!(b.admit("eve", later), (true, 500));
        assert_eq!(b.admit("eve", later), (true, 0));
    }
    use lotline_domain::*;

    #[test]
    fn a_refused_release_names_the_lot() {
        let code = LotCode::parse("R1", "lot").unwrap();
        let (what, lot) = tried(&Command::SetStatus(StatusChange {
            lot: code.clone(),
            to: LotStatus::Released,
            date: chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
            reason: "a reason typed into the dialog".into(),
        }));
        assert_eq!(what, "release lot R1");
        assert_eq!(lot, Some(code));
        assert_eq!(
            tried_query(&Query::BackupStart),
            "take a backup through the server"
        );
    }
}
