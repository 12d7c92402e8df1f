//! The station run in-process over an open store: what the command line and the app use
//! on the machine that holds the database.

use super::*;
use crate::store::Store;
use chrono::{DateTime, Utc};

/// Where "now" comes from: the system clock, or a fixed instant for tests and demos.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    Fixed(DateTime<Utc>),
}

impl Clock {
    fn now(self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(t) => t,
        }
    }
}

pub struct Local {
    store: Store,
    operator: String,
    station: String,
    clock: Clock,
}

impl Local {
    pub fn new(store: Store, operator: impl Into<String>, station: impl Into<String>) -> Local {
        Local {
            store,
            operator: operator.into(),
            station: station.into(),
            clock: Clock::System,
        }
    }

    pub fn with_clock(mut self, clock: Clock) -> Local {
        self.clock = clock;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The plant's business day. Plants record local dates, so "today" is the local
    /// calendar date of the station, not the UTC one.
    fn business_date(&self) -> NaiveDate {
        match self.clock {
            Clock::System => chrono::Local::now().date_naive(),
            Clock::Fixed(t) => t.date_naive(),
        }
    }

    fn stamp(&self) -> Stamp {
        Stamp {
            operator: self.operator.clone(),
            station: self.station.clone(),
            at: self.clock.now(),
        }
    }

    fn actor(&self) -> Result<Actor, StationError> {
        let plant = self.store.plant()?;
        Ok(Actor {
            operator: self.operator.clone(),
            station: self.station.clone(),
            qa: plant.is_qa(&self.operator),
        })
    }

    fn command(&self, c: Command) -> Result<Reply, StationError> {
        if c.needs_qa() && !self.actor()?.qa {
            return Err(StationError {
                kind: ErrorKind::Forbidden,
                field: None,
                message: format!(
                    "{} is not a QA user; ask QA (named with `lotline plant set --qa-users`) to do this",
                    self.operator
                ),
            });
        }
        let (s, st, today) = (&self.store, &self.stamp(), self.business_date());
        Ok(match c {
            Command::SetPlant(p) => {
                s.set_plant(&p)?;
                Reply::Done
            }
            Command::AddItem(i) => {
                s.add_item(i, st)?;
                Reply::Done
            }
            Command::AddParty(p) => {
                s.add_party(p, st)?;
                Reply::Done
            }
            Command::Receive(r) => Reply::Created(s.receive(r, st, today)?),
            Command::Produce(b) => Reply::Created(s.produce(b, st, today)?),
            Command::Ship(x) => Reply::Event(s.ship(x, st, today)?),
            Command::Adjust(a) => Reply::Event(s.adjust(a, st, today)?),
            Command::SetStatus(c) => Reply::Event(s.set_status(c, st, today)?),
            Command::Void(v) => Reply::Event(s.void(v, st, today)?),
            Command::HoldAll(h) => Reply::EventIds(s.hold_all(h, st, today)?),
            Command::RecordMockRecall { record, date } => {
                Reply::Event(s.record_mock_recall(record, date, st, today)?)
            }
        })
    }

    fn query(&self, q: Query) -> Result<Reply, StationError> {
        let s = &self.store;
        Ok(match q {
            Query::Plant => Reply::Plant(s.plant()?),
            Query::Stats => Reply::Stats(s.stats()?),
            Query::Item(c) => Reply::Item(s.item(&c)?),
            Query::Items => Reply::Items(s.items()?),
            Query::Party(p) => Reply::Party(s.party(&p)?),
            Query::Parties => Reply::Parties(s.parties()?),
            Query::Lot(c) => Reply::Lot(s.lot_by_code(&c)?),
            Query::Lots(f) => Reply::Lots(s.find_lots(&f)?),
            Query::LotHistory(c) => Reply::History(s.lot_history(&c)?),
            Query::Trace { lot, direction } => Reply::Trace(s.trace(&lot, direction)?),
            Query::EventsBetween { from, to } => Reply::Events(s.events_between(from, to)?),
            Query::PartyEvents(p) => Reply::Events(s.party_events(&p)?),
            Query::RecallScope(l) => Reply::Scope(s.recall_scope(&l)?),
            Query::MassBalance(l) => Reply::Balance(s.mass_balance(&l)?),
            Query::Deliveries {
                customer,
                item,
                from,
                to,
            } => Reply::Deliveries(s.deliveries(&customer, item.as_ref(), from, to)?),
            Query::FindLot(l) => Reply::MaybeLot(s.find_lot(&l)?),
            Query::Check => Reply::Check(s.check()?),
            Query::Today => Reply::Today(self.business_date()),
            Query::WhoAmI => Reply::Actor(self.actor()?),
            Query::Event(id) => Reply::Record(s.event(id)?),
        })
    }
}

impl Station for Local {
    fn call(&self, request: Request) -> Result<Reply, StationError> {
        // redb asserts on some kinds of on-disk damage instead of returning an error. A
        // damaged file must give the user a message, never a crash, so a panic here is
        // turned into a database error. The write transaction, if any, is dropped
        // uncommitted on the way out, so nothing partial is stored.
        let run = std::panic::AssertUnwindSafe(|| match request {
            Request::Command(c) => self.command(c),
            Request::Query(q) => self.query(q),
        });
        let result = std::panic::catch_unwind(run).unwrap_or_else(|panic| {
            // Whatever redb asserted about, the file is not to be trusted with more writes.
            self.store.mark_damaged();
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown failure");
            Err(StationError {
                kind: ErrorKind::Database,
                field: None,
                message: format!(
                    "the database at {} could not be read ({what}); it may be damaged: run `lotline check`, and restore it from a backup if it fails",
                    self.store.path().display()
                ),
            })
        });
        if let Err(e) = &result
            && e.kind == ErrorKind::Database
            && e.message.starts_with("the database is damaged")
        {
            self.store.mark_damaged();
        }
        result
    }
}

/// Keep panics that the station turns into errors off the user's screen: redb's own
/// assertions on damaged files become one clear line instead of a backtrace. Any other
/// panic is a bug in lotline and is still reported in full.
pub fn quiet_storage_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !is_storage_panic(info) {
            default(info);
        }
    }));
}

/// A panic inside redb: the station catches it and reports an error, and the program goes
/// on (a panic hook must not act as if the program were ending).
pub fn is_storage_panic(info: &std::panic::PanicHookInfo<'_>) -> bool {
    info.location()
        .is_some_and(|l| l.file().contains("/redb-") || l.file().contains("\\redb-"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::station::StationExt;

    fn station(dir: &tempfile::TempDir, user: &str) -> Local {
        let store = Store::open(&dir.path().join("s.lotline"), true).unwrap();
        Local::new(store, user, "test")
            .with_clock(Clock::Fixed("2026-11-21T09:00:00Z".parse().unwrap()))
    }

    #[test]
    fn requests_and_replies_survive_the_wire_format() {
        // The same values will cross a socket as postcard; prove they round-trip now.
        let req = Request::Query(Query::Trace {
            lot: LotCode::parse("R26325-001", "lot").unwrap(),
            direction: Direction::Both,
        });
        let bytes = postcard::to_stdvec(&req).unwrap();
        assert_eq!(postcard::from_bytes::<Request>(&bytes).unwrap(), req);
        let err = StationError {
            kind: ErrorKind::Invalid,
            field: Some("qty".into()),
            message: "must be greater than zero".into(),
        };
        let bytes = postcard::to_stdvec(&err).unwrap();
        assert_eq!(postcard::from_bytes::<StationError>(&bytes).unwrap(), err);
    }

    #[test]
    fn only_qa_holds_once_qa_users_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let qa = station(&dir, "quinn");
        let mut plant = qa.plant().unwrap();
        plant.qa_users = vec!["quinn".into()];
        qa.set_plant(plant).unwrap();
        assert!(qa.whoami().unwrap().qa);
        drop(qa);
        let clerk = station(&dir, "cory");
        assert!(!clerk.whoami().unwrap().qa);
        let e = clerk
            .set_status(StatusChange {
                lot: LotCode::parse("X", "lot").unwrap(),
                to: LotStatus::Hold,
                date: clerk.today().unwrap(),
                reason: "r".into(),
            })
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Forbidden);
        assert!(e.message.contains("cory is not a QA user"), "{e}");
    }

    #[test]
    fn errors_name_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let s = station(&dir, "ana");
        let e = s
            .item(ItemCode::parse("NOPE", "item").unwrap())
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(e.to_string(), "item: no item NOPE");
    }
}
