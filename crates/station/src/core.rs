//! The side that owns the database: one store, one clock, the plant's roles. Every front
//! end's request ends here, embedded ([`super::Local`]) or through the server (one `Core`
//! shared by every connection, each with its own [`Caller`]). Stamping (who, where, when)
//! and permissions happen here, so no client can claim another user.

use super::*;
use chrono::{DateTime, Utc};
use lotline_store::{LinkGraph, Store};
use std::sync::RwLock;

/// Where "now" comes from: the system clock, or a fixed instant for tests and demos.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    Fixed(DateTime<Utc>),
}

impl Clock {
    pub fn now(self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(t) => t,
        }
    }
}

/// Who a request comes from: the Unix user (established by the operating system) and the
/// station the client named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: String,
    pub groups: Vec<String>,
    pub station: String,
    /// This connection's (or process's) session: drafts name the session that keeps them
    /// (`drafts::new_session`).
    pub session: u64,
}

impl Caller {
    /// `user` of `groups` at `station`, in a new session.
    pub fn new(user: impl Into<String>, groups: Vec<String>, station: impl Into<String>) -> Caller {
        Caller {
            user: user.into(),
            groups,
            station: station.into(),
            session: super::drafts::new_session(),
        }
    }
}

pub struct Core {
    store: Store,
    clock: Clock,
    roles: Roles,
    /// The link graph in memory, in a long-lived server (docs/server.md): traces and recall
    /// scopes walk it instead of redb's link tables. Refreshed after each commit; a trace
    /// is exact even when it lags (see `store::graph`).
    graph: Option<RwLock<LinkGraph>>,
    /// The backup being fetched through the server, if one (see `copies`).
    copies: super::copies::Copies,
    /// How many of each user's refusals the audit keeps a minute (see `audit`).
    pub(crate) refusal_budget: super::audit::RefusalBudget,
    /// Shared by every station of a server (not one process's own file): reads of the whole
    /// plant (`check`) are QA's, one at a time, since each holds every lot in memory.
    shared: bool,
    whole_reads: std::sync::Mutex<()>,
    /// The sessions connected now, for drafts (see `drafts`).
    pub(crate) sessions: super::drafts::Sessions,
}

impl Core {
    pub fn new(store: Store, roles: Roles) -> Core {
        Core {
            store,
            clock: Clock::System,
            roles,
            graph: None,
            copies: Default::default(),
            refusal_budget: Default::default(),
            shared: false,
            whole_reads: std::sync::Mutex::new(()),
            sessions: Default::default(),
        }
    }

    /// Keep this link graph (built from this core's store) in memory from now on.
    pub fn with_graph(mut self, graph: LinkGraph) -> Core {
        self.graph = Some(RwLock::new(graph));
        self
    }

    /// The graph for a read, if kept (a poisoned lock falls back to redb).
    fn graph(&self) -> Option<std::sync::RwLockReadGuard<'_, LinkGraph>> {
        self.graph.as_ref()?.read().ok()
    }

    /// Take in what the last commit linked. A failed refresh leaves the graph behind,
    /// which traces tolerate (links not in it are read from the snapshot) and the next
    /// refresh makes up (it reads from where the graph's coverage ends), so it is not an
    /// error to the committer, whose commit is durable already.
    fn refresh_graph(&self) {
        if let Some(g) = &self.graph
            && let Ok(mut g) = g.write()
        {
            let _ = g.refresh(&self.store);
        }
    }

    /// This core serves every station of a plant (`lotline serve`).
    pub fn shared(mut self) -> Core {
        self.shared = true;
        self
    }

    pub fn with_clock(mut self, clock: Clock) -> Core {
        self.clock = clock;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn into_store(self) -> Store {
        self.store
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The plant's business day. Plants record local dates, so "today" is the local
    /// calendar date of the station, not the UTC one.
    pub fn business_date(&self) -> NaiveDate {
        match self.clock {
            Clock::System => chrono::Local::now().date_naive(),
            Clock::Fixed(t) => t.date_naive(),
        }
    }

    /// The caller as the plant sees them: their role now (roles may change while they
    /// are connected), or a refusal naming why they may not use this plant.
    pub fn actor(&self, caller: &Caller) -> Result<Actor, StationError> {
        let plant = match self.store.plant() {
            Ok(p) => p,
            // A file that failed its check may not even give its settings: the caller is
            // told that, and what to do, not the I/O error it ends in.
            Err(e) => return Err(self.store.damage_refusal().unwrap_or(e).into()),
        };
        let role = self
            .roles
            .role(&caller.user, &caller.groups, &plant.qa_users)
            .map_err(|message| StationError {
                kind: ErrorKind::Forbidden,
                field: None,
                message,
            })?;
        Ok(Actor {
            operator: caller.user.clone(),
            station: caller.station.clone(),
            role,
        })
    }

    /// Refuse a command the caller's role may not do, saying who may.
    pub fn permit(&self, caller: &Caller, c: &Command) -> Result<Actor, StationError> {
        let actor = self.actor(caller)?;
        let needed = c.required_role();
        if actor.role < needed {
            let how = if self.roles.file().is_some() {
                "the plant's roles file".to_string()
            } else {
                "`lotline plant set --qa-users`".to_string()
            };
            return Err(StationError {
                kind: ErrorKind::Forbidden,
                field: None,
                message: format!(
                    "{} is {} here and this needs {}; ask someone with that role, or ask the plant's admin to change {how}",
                    actor.operator,
                    actor.role.with_article(),
                    needed.with_article(),
                ),
            });
        }
        Ok(actor)
    }

    fn stamp(&self, caller: &Caller, at: DateTime<Utc>) -> Stamp {
        Stamp {
            operator: caller.user.clone(),
            station: caller.station.clone(),
            at,
        }
    }

    /// Run one command in its own transaction, after checking the caller may.
    pub fn command(&self, caller: &Caller, c: Command) -> Result<Reply, StationError> {
        let reply = self.run_command(caller, c);
        if reply.is_ok() {
            self.refresh_graph();
        }
        reply
    }

    fn run_command(&self, caller: &Caller, mut c: Command) -> Result<Reply, StationError> {
        // What the command line would have refused is refused here too, from any client,
        // before anything is read or written (see `station::checks`).
        c.check()?;
        self.draft_command(caller, &mut c)?;
        if let Err(e) = self.permit(caller, &c) {
            let (what, lot) = super::audit::tried(&c);
            self.note_refusals([(caller, what, lot, &e)]);
            return Err(e);
        }
        // The store applies every command in one place; a plant's settings change is
        // kept for the audit with who and when (its QA list is a role change).
        let applied = self
            .store
            .apply(c, &self.stamp(caller, self.now()), self.business_date())?;
        Ok(applied.into())
    }

    /// Group commit (docs/server.md): apply many callers' commands in one transaction and
    /// one fsync, each checked on its own. A refused command does not sink the others:
    /// the transaction is begun again without it, so what is committed is exactly the
    /// accepted commands, each as if run alone in arrival order. Returns one result per
    /// job, in order; only after the commit returned is any of them `Ok`.
    pub fn commit_group(
        &self,
        jobs: &[(Caller, Command, DateTime<Utc>)],
    ) -> Vec<Result<Reply, StationError>> {
        let mut results: Vec<Option<Result<Reply, StationError>>> = vec![None; jobs.len()];
        // Values and permissions first: neither a malformed command nor a refused caller
        // enters the transaction.
        for (i, (caller, c, _)) in jobs.iter().enumerate() {
            if let Err(e) = c.check() {
                results[i] = Some(Err(e.into()));
            } else if let Err(e) = self.permit(caller, c) {
                let (what, lot) = super::audit::tried(c);
                self.note_refusals([(caller, what, lot, &e)]);
                results[i] = Some(Err(e));
            } else if !c.groupable() {
                results[i] = Some(Err(StationError {
                    kind: ErrorKind::Protocol,
                    field: None,
                    message: "this command is not one that may be grouped".into(),
                }));
            }
        }
        let today = self.business_date();
        loop {
            let mut failed: Option<(usize, StationError)> = None;
            let mut done: Vec<(usize, Reply)> = Vec::new();
            let outcome = self.store.bulk(|b| {
                for (i, (caller, c, at)) in jobs.iter().enumerate() {
                    if results[i].is_some() {
                        continue;
                    }
                    match b.apply(c.clone(), &self.stamp(caller, *at), today) {
                        Ok(r) => done.push((i, r.into())),
                        Err(e) => {
                            failed = Some((i, e.into()));
                            return Err(StoreError::invalid("group", "a command was refused"));
                        }
                    }
                }
                Ok(())
            });
            match (outcome, failed) {
                (Ok(()), _) => {
                    for (i, r) in done {
                        results[i] = Some(Ok(r));
                    }
                    break;
                }
                // The database failed under it, not the command: none can go on.
                (Err(_), Some((_, e))) if e.kind == ErrorKind::Database => {
                    for r in results.iter_mut().filter(|r| r.is_none()) {
                        *r = Some(Err(e.clone()));
                    }
                    break;
                }
                // That one is refused; the rest are tried again without it.
                (Err(_), Some((i, e))) => results[i] = Some(Err(e)),
                // The commit itself failed (disk full, damage): nothing was stored.
                (Err(e), None) => {
                    let e = StationError::from(e);
                    for r in results.iter_mut().filter(|r| r.is_none()) {
                        *r = Some(Err(e.clone()));
                    }
                    break;
                }
            }
        }
        if results.iter().any(|r| matches!(r, Some(Ok(_)))) {
            self.refresh_graph();
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| Err(StationError::from(StoreError::Io("no result".into()))))
            })
            .collect()
    }

    /// Answer a query. `stations` lists who is connected (the server knows; embedded, only
    /// the caller).
    pub fn query(
        &self,
        caller: &Caller,
        q: Query,
        stations: impl FnOnce() -> Vec<StationInfo>,
    ) -> Result<Reply, StationError> {
        q.check()?;
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
            Query::Trace { lot, direction } => Reply::Trace(match self.graph() {
                Some(g) => s.trace_in_graph(&g, &lot, direction)?,
                None => s.trace(&lot, direction)?,
            }),
            Query::EventsBetween { from, to } => Reply::Events(s.events_between(from, to)?),
            Query::PartyEvents(p) => Reply::Events(s.party_events(&p)?),
            Query::RecallScope(l) => Reply::Scope(match self.graph() {
                Some(g) => s.recall_scope_in_graph(&g, &l)?,
                None => s.recall_scope(&l)?,
            }),
            Query::MassBalance(l) => Reply::Balance(s.mass_balance(&l)?),
            Query::Deliveries {
                customer,
                item,
                from,
                to,
            } => Reply::Deliveries(s.deliveries(&customer, item.as_ref(), from, to)?),
            Query::FindLot(l) => Reply::MaybeLot(s.find_lot(&l)?),
            Query::Check if self.shared => {
                self.may_read_whole(
                    caller,
                    &super::audit::tried_query(&Query::Check),
                    "a check of the whole plant through the server",
                )?;
                let Ok(_one) = self.whole_reads.try_lock() else {
                    return Err(StationError {
                        kind: ErrorKind::Busy,
                        field: None,
                        message: "another check of the whole plant is running on the server; nothing was done, try again in a moment".into(),
                    });
                };
                Reply::Check(s.check()?)
            }
            Query::Check => Reply::Check(s.check()?),
            Query::Today => Reply::Today(self.business_date()),
            Query::WhoAmI => Reply::Actor(self.actor(caller)?),
            Query::Event(id) => Reply::Record(s.event(id)?),
            Query::Stations => Reply::Stations(stations()),
            Query::EventPage {
                from,
                to,
                after,
                ids,
                limit,
            } => Reply::EventPage(s.event_page(from, to, after, ids.as_deref(), limit as usize)?),
            Query::KdeRecords(q) => Reply::KdeRecords(s.kde_records(&q)?),
            Query::Audit(f) => Reply::Audit(s.audit(
                f.since,
                f.until,
                f.operator.as_deref(),
                f.lot.as_ref(),
                f.limit.clamp(1, 100_000) as usize,
            )?),
            Query::ItemHistory(code) => Reply::Events(s.item_events(&code)?),
            Query::PartyHistory(id) => Reply::Events(s.party_changes(&id)?),
            Query::RecallReport(l) => Reply::Report(s.recall_report(&l)?),
            Query::MockRecall(id) => Reply::MockRecall(s.mock_recall(id)?),
            Query::MockRecalls => Reply::MockRecalls(s.mock_recalls()?),
            Query::Recipes(item) => Reply::Recipes(s.recipes(item.as_ref())?),
            Query::Allergens => Reply::Allergens(s.allergens()?),
            Query::LotAllergens(l) => Reply::LotAllergens(s.lot_allergens(&l)?),
            Query::LotsContaining(a) => Reply::Lots(s.lots_containing(&a)?),
            Query::Yields(f) => Reply::Yields(s.yields(&f)?),
            Query::ItemEventIds { items, from, to } => {
                Reply::MaybeEventIds(s.item_events_if_fewer(&items, from, to)?)
            }
            Query::BackupStart => {
                self.may_read_whole(caller, &q_backup(), "a backup through the server")?;
                Reply::BackupOffer(self.copies.start(s, &caller.user)?)
            }
            Query::BackupPart { id, offset } => {
                Reply::Bytes(self.copies.part(id, offset, &caller.user)?)
            }
            Query::BackupDone { id } => {
                self.copies.done(id, &caller.user);
                Reply::Done
            }
            Query::Resume => Reply::Resume(self.resume(caller)?),
        })
    }

    /// A request, embedded: commands alone in their transaction.
    pub fn call(
        &self,
        caller: &Caller,
        request: Request,
        stations: impl FnOnce() -> Vec<StationInfo>,
    ) -> Result<Reply, StationError> {
        let result = guard(self.store.path(), || match request {
            Request::Command(c) => self.command(caller, c),
            Request::Query(q) => self.query(caller, q, stations),
        });
        // Once damage is seen, the file is not to be trusted with more writes: not even
        // redb's own bookkeeping when it is closed (docs/architecture.md, "Trust in the file").
        if let Err(e) = &result
            && e.kind == ErrorKind::Database
            && (e.message.starts_with("the database is damaged")
                || e.message.starts_with(DAMAGED_READ))
        {
            self.store.mark_damaged();
        }
        result
    }
}

fn q_backup() -> String {
    super::audit::tried_query(&Query::BackupStart)
}

impl Core {
    /// A backup or a check through the server reads the whole plant: QA's, like the
    /// plant's records it holds for the auditor. Refusals are kept for the audit.
    fn may_read_whole(
        &self,
        caller: &Caller,
        what: &str,
        purpose: &str,
    ) -> Result<(), StationError> {
        let actor = self.actor(caller)?;
        if actor.role >= Role::Qa {
            return Ok(());
        }
        let e = StationError {
            kind: ErrorKind::Forbidden,
            field: None,
            message: format!(
                "{} is {} here and {purpose} needs QA; ask QA or the plant's IT, who may read the file",
                actor.operator,
                actor.role.with_article()
            ),
        };
        self.note_refusal(caller, what, &e);
        Err(e)
    }
}

/// How a read that stopped on damage begins, so the station can tell it from other errors.
const DAMAGED_READ: &str = "lotline stopped reading the database at";

/// Run `f`, turning a panic inside redb (its assertions on some kinds of on-disk damage)
/// into a database error: a damaged file gives the user a message, never a crash. The
/// write transaction, if any, is dropped uncommitted on the way out, so nothing partial is
/// stored.
pub(crate) fn guard<T>(
    path: &std::path::Path,
    f: impl FnOnce() -> Result<T, StationError>,
) -> Result<T, StationError> {
    // The panic's own text ("entered unreachable code", "range end index … out of range")
    // is redb's, not words for the person at the terminal: it is left out.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(StationError {
            kind: ErrorKind::Database,
            field: None,
            message: format!(
                "{DAMAGED_READ} {}; it may be damaged, so lotline writes nothing more to it: run `lotline check {}`, then restore the last good backup or copy what is readable with `lotline salvage`",
                path.display(),
                path.display()
            ),
        })
    })
}
