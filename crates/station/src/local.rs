//! The station run in-process over an open store: what the command line and the app use
//! on the machine that holds the database.

use super::*;
use lotline_store::Store;

// Front ends and tests name the clock from here.
pub use super::core::Clock;

/// A station in this process over an open store, with one caller: the command line and
/// the app with `--no-server`, and tests.
pub struct Local {
    core: Core,
    caller: Caller,
}

impl Local {
    /// A station for `operator` at `station`, with roles from the plant's QA list.
    pub fn new(store: Store, operator: impl Into<String>, station: impl Into<String>) -> Local {
        let caller = Caller::new(operator, Vec::new(), station);
        let core = Core::new(store, Roles::from_plant());
        core.register(&caller);
        Local { core, caller }
    }

    /// Open the plant at `path` (with `create`, make it) for `operator` at `station`.
    pub fn open(
        path: &std::path::Path,
        create: bool,
        operator: impl Into<String>,
        station: impl Into<String>,
    ) -> Result<Local, StationError> {
        Ok(Local::new(Store::open(path, create)?, operator, station))
    }

    /// A station for a caller with groups, under these roles.
    pub fn with_roles(store: Store, caller: Caller, roles: Roles) -> Local {
        let core = Core::new(store, roles);
        core.register(&caller);
        Local { core, caller }
    }

    pub fn with_clock(mut self, clock: Clock) -> Local {
        self.core = self.core.with_clock(clock);
        self
    }

    pub fn store(&self) -> &Store {
        self.core.store()
    }

    /// Close the database and report what closing found.
    pub fn close(self) -> Result<(), StationError> {
        Ok(self.core.into_store().close()?)
    }
}

impl Station for Local {
    fn call(&self, request: Request) -> Result<Reply, StationError> {
        let me = || {
            self.core
                .actor(&self.caller)
                .map(|a| {
                    vec![StationInfo {
                        operator: a.operator,
                        station: a.station,
                        role: a.role,
                        since: self.core.now(),
                        me: true,
                    }]
                })
                .unwrap_or_default()
        };
        self.core.call(&self.caller, request, me)
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
    use crate::StationExt;

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
        assert!(qa.whoami().unwrap().qa());
        drop(qa);
        let clerk = station(&dir, "cory");
        assert!(!clerk.whoami().unwrap().qa());
        assert_eq!(clerk.whoami().unwrap().role, Role::Operator);
        let e = clerk
            .set_status(StatusChange {
                lot: LotCode::parse("X", "lot").unwrap(),
                to: LotStatus::Hold,
                date: clerk.today().unwrap(),
                reason: "r".into(),
            })
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Forbidden);
        assert!(
            e.message
                .contains("cory is an operator here and this needs QA"),
            "{e}"
        );
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
