//! The one API every front end calls (docs/architecture.md). Commands and queries are serde enums
//! that run in-process ([`Local`]) or cross a Unix socket to `lotline serve`
//! ([`remote::Remote`], framed by [`wire`]). Stamping (who, where, when) and permissions
//! happen in [`Core`], on the side that owns the database.

pub mod audit;
#[cfg(test)]
mod check_props;
mod checks;
pub mod copies;
pub(crate) mod core;
pub mod demo;
pub mod file;
#[cfg(test)]
mod full_disk;
pub mod identity;
pub(crate) mod local;
pub mod lookup;
pub mod remote;
pub mod roles;
pub mod server;
pub mod setup;
pub mod site;
pub mod wire;

pub use self::core::{Caller, Clock, Core};
pub use local::{Local, is_storage_panic, quiet_storage_panics};
pub use roles::{Role, Roles};

use chrono::NaiveDate;
use lotline_domain::*;
use lotline_domain::{
    CheckReport, Delivery, Direction, LotFilter, LotHistory, RecallReport, RecallScope, Stats,
    Trace,
};
use lotline_store::{Created, StoreError};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Something to record. Each runs as one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    SetPlant(Plant),
    AddItem(NewItem),
    AddParty(NewParty),
    Receive(NewReceipt),
    Produce(NewBatch),
    Ship(NewShipment),
    Adjust(Adjustment),
    SetStatus(StatusChange),
    Void(VoidEvent),
    HoldAll(HoldAll),
    RecordMockRecall {
        record: MockRecall,
        date: NaiveDate,
    },
    /// An EPCIS document parsed and mapped by the client, recorded in one transaction.
    ImportEpcis(EpcisImport),
    /// Master data: an item's fields replaced (its code names it; the unit only while it
    /// has no lots). The old values stay in its history.
    EditItem(NewItem),
    /// Master data: no new receipts or batches of this item.
    RetireItem {
        code: ItemCode,
        reason: String,
    },
    /// Master data: a party's fields replaced; the old values stay in its history.
    EditParty(NewParty),
    /// Master data: no new receipts from or shipments to this party.
    RetireParty {
        id: PartyId,
        reason: String,
    },
    /// Product back from a customer against a shipment: a new lot, on hold.
    Return(NewReturn),
    /// Start a mock recall record (QA).
    StartMockRecall(StartMockRecall),
    /// What was found for one line of a mock recall (QA).
    CountMockRecall {
        count: NewMockCount,
        date: NaiveDate,
    },
    /// Complete a mock recall (QA).
    FinishMockRecall {
        recall: u64,
        note: String,
        date: NaiveDate,
    },
}

impl Command {
    /// The least role that may do this: plant settings and master data are the admin's;
    /// holding, releasing, recalling and correcting are QA's; the floor's work is anyone's.
    pub fn required_role(&self) -> Role {
        match self {
            Command::SetPlant(_) | Command::AddItem(_) | Command::AddParty(_) => Role::Admin,
            // Master data: the admin's, like adding it.
            Command::EditItem(_)
            | Command::RetireItem { .. }
            | Command::EditParty(_)
            | Command::RetireParty { .. } => Role::Admin,
            // An import creates items and parties (master data) and records events nobody
            // here saw: the head office's admin merges plants.
            Command::ImportEpcis(_) => Role::Admin,
            c if c.needs_qa() => Role::Qa,
            _ => Role::Operator,
        }
    }

    /// Whether several of these may share one transaction (group commit): the floor's
    /// everyday writes. Others run alone in theirs.
    pub fn groupable(&self) -> bool {
        matches!(
            self,
            Command::Receive(_)
                | Command::Produce(_)
                | Command::Ship(_)
                | Command::Adjust(_)
                | Command::SetStatus(_)
                | Command::Void(_)
        )
    }

    /// Holding, releasing, recalling, correcting and changing the plant are QA's.
    pub fn needs_qa(&self) -> bool {
        matches!(
            self,
            Command::SetPlant(_)
                | Command::Adjust(_)
                | Command::SetStatus(_)
                | Command::Void(_)
                | Command::HoldAll(_)
                | Command::RecordMockRecall { .. }
                // Mock recalls are QA's record for the auditor. (A return is the dock's:
                // it comes in on hold, and QA releases it.)
                | Command::StartMockRecall(_)
                | Command::CountMockRecall { .. }
                | Command::FinishMockRecall { .. }
                // Merging another plant's or a partner's records creates items and parties
                // (master data: the admin role will take it) and events nobody here saw.
                | Command::ImportEpcis(_)
                // Master data (the admin role takes it, above): QA where roles are only
                // "QA users".
                | Command::EditItem(_)
                | Command::RetireItem { .. }
                | Command::EditParty(_)
                | Command::RetireParty { .. }
        )
    }
}

/// Something to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Query {
    Plant,
    Stats,
    Item(ItemCode),
    Items,
    Party(PartyId),
    Parties,
    Lot(LotCode),
    Lots(LotFilter),
    LotHistory(LotCode),
    Trace {
        lot: LotCode,
        direction: Direction,
    },
    EventsBetween {
        from: NaiveDate,
        to: NaiveDate,
    },
    PartyEvents(PartyId),
    RecallScope(LotCode),
    MassBalance(LotCode),
    /// What a customer received: optionally one item, within dates.
    Deliveries {
        customer: PartyId,
        item: Option<ItemCode>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    },
    /// A lot by code, or nothing: for scans that may not be ours.
    FindLot(LotCode),
    Check,
    /// The station's idea of today, for defaults and date checks on the client.
    Today,
    /// Who the station says the caller is.
    WhoAmI,
    /// One event by id: the KDEs of the receipt or batch that made a lot.
    Event(u64),
    /// The stations connected to the server (only this one when embedded).
    Stations,
    /// A page of standing events and the lots they name, for exports: by business date
    /// from `after` (exclusive) within `from..=to`, or exactly `ids` when given.
    EventPage {
        from: NaiveDate,
        to: NaiveDate,
        after: Option<(NaiveDate, u64)>,
        ids: Option<Vec<u64>>,
        limit: u32,
    },
    /// The receiving, transformation and shipping events an FSMA 204 request covers,
    /// with the lots they name (the sortable spreadsheet, a customer's shipping KDEs).
    KdeRecords(KdeQuery),
    /// Who did what, when, from which station.
    Audit(AuditFilter),
    /// The events that changed an item (edits, retirement), oldest first.
    ItemHistory(ItemCode),
    /// The events that changed a party (edits, retirement), oldest first.
    PartyHistory(PartyId),
    /// The recall scope with each affected lot's and customer's figures.
    RecallReport(LotCode),
    /// One mock recall record.
    MockRecall(u64),
    /// Every mock recall record, newest first.
    MockRecalls,
    /// For an export by food: the ids of every event naming a lot of these items, oldest
    /// first, when reading those costs less than reading every event of the dates; else
    /// none (page through the dates).
    ItemEventIds {
        items: Vec<ItemCode>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    },
    /// QA's backup through the server, for users who may not read the file: the server
    /// takes a verified copy and holds it for `BackupPart` (see `copies`).
    BackupStart,
    /// Up to `copies::PART_BYTES` of the held copy from `offset`.
    BackupPart {
        id: u64,
        offset: u64,
    },
    /// The client has the whole copy: the server lets it go.
    BackupDone {
        id: u64,
    },
}

/// Which events an audit lists; every given field must match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Recorded at or after (UTC).
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Recorded at or before (UTC).
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    pub operator: Option<String>,
    pub lot: Option<LotCode>,
    /// At most this many, newest first.
    pub limit: u32,
}

// One request per call, moved once; see `Reply`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    Command(Command),
    Query(Query),
}

// One reply is built and moved per call; boxing variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    Done,
    Created(Created),
    Event(u64),
    Plant(Plant),
    Stats(Stats),
    Item(Item),
    Items(Vec<Item>),
    Party(Party),
    Parties(Vec<Party>),
    Lot(Lot),
    Lots(Vec<Lot>),
    History(LotHistory),
    Trace(Trace),
    Events(Vec<Event>),
    Check(CheckReport),
    EventIds(Vec<u64>),
    Scope(RecallScope),
    Balance(MassBalance),
    Deliveries(Vec<Delivery>),
    MaybeLot(Option<Lot>),
    Today(NaiveDate),
    Actor(Actor),
    Record(Event),
    Stations(Vec<StationInfo>),
    Imported(ImportReport),
    EventPage(EventPageRows),
    KdeRecords(KdeRecords),
    Audit(lotline_domain::AuditTrail),
    Report(RecallReport),
    MockRecall(lotline_domain::MockRecallView),
    MockRecalls(Vec<lotline_domain::MockRecallSummary>),
    MaybeEventIds(Option<Vec<u64>>),
    BackupOffer(copies::BackupOffer),
    Bytes(Vec<u8>),
}

/// Who is calling, as the station established it: the operator from the operating
/// system (socket peer credentials, or the process's own uid), never from the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub operator: String,
    pub station: String,
    pub role: Role,
}

impl Actor {
    /// May hold, release, recall and correct.
    pub fn qa(&self) -> bool {
        self.role >= Role::Qa
    }
}

/// One connected station, for the Help screen and `lotline serve` logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationInfo {
    pub operator: String,
    pub station: String,
    pub role: Role,
    /// When it connected (UTC).
    pub since: chrono::DateTime<chrono::Utc>,
    /// This is the caller's own connection.
    pub me: bool,
}

/// How a front end reaches the database, for the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// The file is opened in this process: one station, no live updates.
    Alone,
    /// Through `lotline serve` (its pid).
    Server { pid: u32 },
    /// The server went away; calls fail until it is back.
    Lost,
    /// The server refused this client for good (it speaks another protocol version): no
    /// reconnecting; calls fail with what to do (restart the service or this program).
    Refused,
}

/// What a server pushes to its clients between replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Notice {
    /// Another station (or this one) committed changes: lists, lots and traces may be stale.
    Changed { station: String, events: Vec<u64> },
    /// The server is stopping (SIGTERM).
    Stopping,
    /// Client side only: the connection was lost; the client is reconnecting.
    Lost,
    /// Client side only: connected again.
    Back,
    /// Client side only: the server answered the reconnect with a refusal. `retrying`:
    /// the client goes on trying (a role the admin may give back); otherwise it has
    /// stopped (another protocol version: only an upgrade or a restart helps).
    Refused { message: String, retrying: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// A value was wrong; `field` names it. The user can correct and retry.
    Invalid,
    /// The caller's role may not do this.
    Forbidden,
    /// The database could not be used (missing, in use, damaged, not lotline's).
    Database,
    /// The station answered with something the caller did not ask for.
    Protocol,
    /// The server could not be reached or stopped mid-request; nothing was lost that was
    /// acknowledged, and the request may be tried again once it is back.
    Unavailable,
    /// The database or the server is busy (another process has the file, the server is
    /// at its limit): nothing was done, and the same request may simply be tried again.
    Busy,
    /// The answer would not fit in one reply from the server: nothing is wrong with the
    /// request, but it must be asked for in parts (fewer dates at a time).
    TooLarge,
    /// The client and the server speak different protocol versions: retrying cannot help;
    /// the service must be restarted after an upgrade, or the same version installed on
    /// both sides.
    Version,
    /// The request was sent and the server stopped before answering: it may or may not
    /// have been done. Unlike `Unavailable`, repeating it blindly could record it twice;
    /// look first. (Appended: the kinds before it keep their bytes on the wire.)
    Unanswered,
}

/// An error as it crosses the station boundary: plain data, so it can travel on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationError {
    pub kind: ErrorKind,
    pub field: Option<String>,
    /// One line: what was wrong and what to do.
    pub message: String,
}

impl fmt::Display for StationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for StationError {}

impl From<StoreError> for StationError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(i) => i.into(),
            e @ StoreError::InUse { .. } => StationError {
                kind: ErrorKind::Busy,
                field: None,
                message: e.to_string(),
            },
            other => StationError {
                kind: ErrorKind::Database,
                field: None,
                message: other.to_string(),
            },
        }
    }
}

impl From<Invalid> for StationError {
    fn from(i: Invalid) -> Self {
        StationError {
            kind: ErrorKind::Invalid,
            field: Some(i.field),
            message: i.problem,
        }
    }
}

/// A handle on a station: in-process ([`Local`]) or a socket client ([`remote::Remote`]).
pub trait Station {
    fn call(&self, request: Request) -> Result<Reply, StationError>;

    /// How this handle reaches the database.
    fn link(&self) -> Link {
        Link::Alone
    }

    /// Changes pushed by a server, for screens to refresh; taken once. `None` when embedded.
    fn notices(&self) -> Option<std::sync::mpsc::Receiver<Notice>> {
        None
    }
}

impl<S: Station + ?Sized> Station for Box<S> {
    fn call(&self, request: Request) -> Result<Reply, StationError> {
        (**self).call(request)
    }
    fn link(&self) -> Link {
        (**self).link()
    }
    fn notices(&self) -> Option<std::sync::mpsc::Receiver<Notice>> {
        (**self).notices()
    }
}

fn unexpected(r: Reply) -> StationError {
    StationError {
        kind: ErrorKind::Protocol,
        field: None,
        message: format!("the station sent an unexpected reply: {r:?}"),
    }
}

macro_rules! typed {
    ($( $(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $req:expr => $pat:pat => $val:expr; )*) => {
        /// Typed calls on any station, so front ends never match on `Reply` themselves.
        pub trait StationExt: Station {
            $(
                $(#[$doc])*
                fn $name(&self, $($arg: $ty),*) -> Result<$out, StationError> {
                    match self.call($req)? {
                        $pat => Ok($val),
                        other => Err(unexpected(other)),
                    }
                }
            )*
        }
        impl<S: Station + ?Sized> StationExt for S {}
    };
}

use Command as C;
use Query as Q;
use Request::{Command as Cmd, Query as Qry};

typed! {
    fn set_plant(p: Plant) -> () = Cmd(C::SetPlant(p)) => Reply::Done => ();
    fn add_item(i: NewItem) -> () = Cmd(C::AddItem(i)) => Reply::Done => ();
    fn add_party(p: NewParty) -> () = Cmd(C::AddParty(p)) => Reply::Done => ();
    /// Returns the new lot.
    fn receive(r: NewReceipt) -> Created = Cmd(C::Receive(r)) => Reply::Created(c) => c;
    /// Returns the new output lot.
    fn produce(b: NewBatch) -> Created = Cmd(C::Produce(b)) => Reply::Created(c) => c;
    /// Returns the shipment's event id.
    fn ship(s: NewShipment) -> u64 = Cmd(C::Ship(s)) => Reply::Event(e) => e;
    fn adjust(a: Adjustment) -> u64 = Cmd(C::Adjust(a)) => Reply::Event(e) => e;
    fn set_status(c: StatusChange) -> u64 = Cmd(C::SetStatus(c)) => Reply::Event(e) => e;
    fn void(v: VoidEvent) -> u64 = Cmd(C::Void(v)) => Reply::Event(e) => e;
    /// Returns the status events made (lots already held are skipped).
    fn hold_all(h: HoldAll) -> Vec<u64> = Cmd(C::HoldAll(h)) => Reply::EventIds(e) => e;
    fn record_mock_recall(record: MockRecall, date: NaiveDate) -> u64 = Cmd(C::RecordMockRecall { record, date }) => Reply::Event(e) => e;
    fn recall_scope(lot: LotCode) -> RecallScope = Qry(Q::RecallScope(lot)) => Reply::Scope(s) => s;
    fn mass_balance(lot: LotCode) -> MassBalance = Qry(Q::MassBalance(lot)) => Reply::Balance(b) => b;
    fn deliveries(customer: PartyId, item: Option<ItemCode>, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Vec<Delivery> = Qry(Q::Deliveries { customer, item, from, to }) => Reply::Deliveries(d) => d;
    fn find_lot(lot: LotCode) -> Option<Lot> = Qry(Q::FindLot(lot)) => Reply::MaybeLot(l) => l;
    fn plant() -> Plant = Qry(Q::Plant) => Reply::Plant(p) => p;
    fn stats() -> Stats = Qry(Q::Stats) => Reply::Stats(s) => s;
    fn item(code: ItemCode) -> Item = Qry(Q::Item(code)) => Reply::Item(i) => i;
    fn items() -> Vec<Item> = Qry(Q::Items) => Reply::Items(i) => i;
    fn party(id: PartyId) -> Party = Qry(Q::Party(id)) => Reply::Party(p) => p;
    fn parties() -> Vec<Party> = Qry(Q::Parties) => Reply::Parties(p) => p;
    fn lot(code: LotCode) -> Lot = Qry(Q::Lot(code)) => Reply::Lot(l) => l;
    fn lots(f: LotFilter) -> Vec<Lot> = Qry(Q::Lots(f)) => Reply::Lots(l) => l;
    fn lot_history(code: LotCode) -> LotHistory = Qry(Q::LotHistory(code)) => Reply::History(h) => h;
    fn trace(lot: LotCode, direction: Direction) -> Trace = Qry(Q::Trace { lot, direction }) => Reply::Trace(t) => t;
    fn events_between(from: NaiveDate, to: NaiveDate) -> Vec<Event> = Qry(Q::EventsBetween { from, to }) => Reply::Events(e) => e;
    fn party_events(id: PartyId) -> Vec<Event> = Qry(Q::PartyEvents(id)) => Reply::Events(e) => e;
    fn check() -> CheckReport = Qry(Q::Check) => Reply::Check(c) => c;
    fn today() -> NaiveDate = Qry(Q::Today) => Reply::Today(d) => d;
    fn whoami() -> Actor = Qry(Q::WhoAmI) => Reply::Actor(a) => a;
    fn event(id: u64) -> Event = Qry(Q::Event(id)) => Reply::Record(e) => e;
    fn stations() -> Vec<StationInfo> = Qry(Q::Stations) => Reply::Stations(s) => s;
    /// Records an EPCIS import; the report says whether it was stored.
    fn import_epcis(i: EpcisImport) -> ImportReport = Cmd(C::ImportEpcis(i)) => Reply::Imported(r) => r;
    /// Returns the change's event id.
    fn edit_item(i: NewItem) -> u64 = Cmd(C::EditItem(i)) => Reply::Event(e) => e;
    fn retire_item(code: ItemCode, reason: String) -> u64 = Cmd(C::RetireItem { code, reason }) => Reply::Event(e) => e;
    fn edit_party(p: NewParty) -> u64 = Cmd(C::EditParty(p)) => Reply::Event(e) => e;
    fn retire_party(id: PartyId, reason: String) -> u64 = Cmd(C::RetireParty { id, reason }) => Reply::Event(e) => e;
    fn item_history(code: ItemCode) -> Vec<Event> = Qry(Q::ItemHistory(code)) => Reply::Events(e) => e;
    fn party_history(id: PartyId) -> Vec<Event> = Qry(Q::PartyHistory(id)) => Reply::Events(e) => e;
    fn event_page(from: NaiveDate, to: NaiveDate, after: Option<(NaiveDate, u64)>, ids: Option<Vec<u64>>, limit: u32) -> EventPageRows = Qry(Q::EventPage { from, to, after, ids, limit }) => Reply::EventPage(p) => p;
    fn kde_records(q: KdeQuery) -> KdeRecords = Qry(Q::KdeRecords(q)) => Reply::KdeRecords(r) => r;
    fn audit(f: AuditFilter) -> lotline_domain::AuditTrail = Qry(Q::Audit(f)) => Reply::Audit(a) => a;
    /// Returns the new return lot (on hold).
    fn return_goods(r: NewReturn) -> Created = Cmd(C::Return(r)) => Reply::Created(c) => c;
    /// Returns the record's id (its start event).
    fn start_mock_recall(m: StartMockRecall) -> u64 = Cmd(C::StartMockRecall(m)) => Reply::Event(e) => e;
    fn count_mock_recall(count: NewMockCount, date: NaiveDate) -> u64 = Cmd(C::CountMockRecall { count, date }) => Reply::Event(e) => e;
    fn finish_mock_recall(recall: u64, note: String, date: NaiveDate) -> u64 = Cmd(C::FinishMockRecall { recall, note, date }) => Reply::Event(e) => e;
    fn recall_report(lot: LotCode) -> RecallReport = Qry(Q::RecallReport(lot)) => Reply::Report(r) => r;
    fn mock_recall(id: u64) -> lotline_domain::MockRecallView = Qry(Q::MockRecall(id)) => Reply::MockRecall(m) => m;
    fn mock_recalls() -> Vec<lotline_domain::MockRecallSummary> = Qry(Q::MockRecalls) => Reply::MockRecalls(m) => m;
    fn item_event_ids(items: Vec<ItemCode>, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Option<Vec<u64>> = Qry(Q::ItemEventIds { items, from, to }) => Reply::MaybeEventIds(e) => e;
    /// A verified copy taken by the server, to fetch in parts.
    fn backup_start() -> copies::BackupOffer = Qry(Q::BackupStart) => Reply::BackupOffer(o) => o;
    fn backup_part(id: u64, offset: u64) -> Vec<u8> = Qry(Q::BackupPart { id, offset }) => Reply::Bytes(b) => b;
    fn backup_done(id: u64) -> () = Qry(Q::BackupDone { id }) => Reply::Done => ();
}

/// Test plants (a bakery, items, parties, receipts) and a disk that fills up on demand, for
/// this crate's tests and, with the `test-util` feature, the front ends': they build their
/// plants here and never name the store.
#[cfg(any(test, feature = "test-util"))]
pub mod testing {
    pub use lotline_store::full_disk::{self, Disk};
    pub use lotline_store::plantgen;
    pub use lotline_store::test_util::*;
}
