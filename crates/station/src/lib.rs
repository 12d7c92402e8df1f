//! The one API every front end calls (docs/architecture.md). Commands and queries are serde enums
//! that run in-process ([`Local`]) or cross a Unix socket to `lotline serve`
//! ([`remote::Remote`], framed by [`wire`]). Stamping (who, where, when) and permissions
//! happen in [`Core`], on the side that owns the database.

pub mod audit;
pub mod case_label;
#[cfg(test)]
mod check_props;
pub mod copies;
pub(crate) mod core;
pub mod demo;
pub mod drafts;
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
pub mod signals;
pub mod site;
pub mod wire;

pub use self::core::{Caller, Clock, Core};
pub use local::{Local, is_storage_panic, quiet_storage_panics};
pub use roles::{Role, Roles};

// The request and reply vocabulary is the domain's, so every layer speaks the same words;
// it is re-exported here, where front ends have always found it.
pub use lotline_domain::api::{
    Actor, AuditFilter, Command, Created, Query, Reply, Request, StationInfo,
};

use chrono::NaiveDate;
use lotline_domain::*;
use lotline_domain::{
    CheckReport, Delivery, Direction, LotFilter, LotHistory, RecallReport, RecallScope, Stats,
    Trace,
};
use lotline_store::StoreError;
use serde::{Deserialize, Serialize};
use std::fmt;

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
    /// The server dropped this connection: it had answered nothing, not even a ping, for
    /// `silent_secs` (a terminal frozen or stopped, a link that went down). Sent by the
    /// server as its last word; the client then reconnects, as after `Lost`.
    /// (Appended: the variants before it keep their bytes.)
    Dropped { silent_secs: u64 },
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
    /// A receipt from a scanned label, its other GS1 elements kept with it. Returns the new lot.
    fn receive_scanned(s: ScannedReceipt) -> Created = Cmd(C::ReceiveScanned(s)) => Reply::Created(c) => c;
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
    /// Returns the list change's event id.
    fn set_allergens(names: Vec<String>) -> u64 = Cmd(C::SetAllergens(names)) => Reply::Event(e) => e;
    fn declare_allergens(item: ItemCode, allergens: Vec<String>, reason: String) -> u64 = Cmd(C::DeclareAllergens { item, allergens, reason }) => Reply::Event(e) => e;
    /// Returns the new version's event id.
    fn add_recipe(r: lotline_domain::NewRecipe) -> u64 = Cmd(C::AddRecipe(r)) => Reply::Event(e) => e;
    /// A batch made off its recipe, with the reason; returns the new output lot.
    fn produce_override(batch: NewBatch, reason: lotline_domain::Override) -> Created = Cmd(C::ProduceOverride { batch, reason }) => Reply::Created(c) => c;
    fn changeover(c: lotline_domain::NewChangeover) -> u64 = Cmd(C::Changeover(c)) => Reply::Event(e) => e;
    fn recipes(item: Option<ItemCode>) -> Vec<lotline_domain::Recipe> = Qry(Q::Recipes(item)) => Reply::Recipes(r) => r;
    fn allergens() -> lotline_domain::AllergenInfo = Qry(Q::Allergens) => Reply::Allergens(a) => a;
    fn lot_allergens(lot: LotCode) -> lotline_domain::LotAllergens = Qry(Q::LotAllergens(lot)) => Reply::LotAllergens(a) => a;
    /// Every lot carrying the allergen, finished lots first.
    fn lots_containing(allergen: String) -> Vec<Lot> = Qry(Q::LotsContaining(allergen)) => Reply::Lots(l) => l;
    fn yields(f: lotline_domain::YieldFilter) -> Vec<lotline_domain::YieldRow> = Qry(Q::Yields(f)) => Reply::Yields(y) => y;
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
