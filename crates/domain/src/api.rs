//! The vocabulary that crosses the station boundary: what a front end asks ([`Request`]:
//! a [`Command`] to record or a [`Query`] to read) and what it gets back ([`Reply`]). Every
//! front end speaks it, in-process or over the server's socket, where these enums are
//! encoded with postcard: a variant's place in its enum is its number on the wire, so the
//! order of variants and fields is the protocol's (docs/server.md, "The wire").
//!
//! Not glob-exported at the crate root: its [`Role`] (who may do what at the station) is
//! not the party [`crate::Role`] (supplier or customer).

mod checks;

use crate::{
    Adjustment, AuditTrail, CheckReport, Delivery, Direction, DraftForm, DraftSave, EpcisImport,
    Event, EventPageRows, HoldAll, ImportReport, Item, ItemCode, KdeQuery, KdeRecords, Lot,
    LotCode, LotFilter, LotHistory, LotId, MassBalance, MockRecall, MockRecallSummary,
    MockRecallView, NewBatch, NewItem, NewMockCount, NewParty, NewReceipt, NewReturn, NewShipment,
    Party, PartyId, Plant, RecallReport, RecallScope, Resume, StartMockRecall, Stats, StatusChange,
    Trace, VoidEvent,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

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
    /// A receipt from a scanned supplier label, with the label's other GS1 elements kept
    /// beside it (`EventKind::LabelData`) in the same transaction.
    ReceiveScanned(crate::ScannedReceipt),
    /// Plant settings: the allergen list (names only added once sets use them).
    SetAllergens(Vec<String>),
    /// Master data: the allergens an item declares, by name, replacing its declaration.
    DeclareAllergens {
        item: ItemCode,
        allergens: Vec<String>,
        reason: String,
    },
    /// Master data: a new version of an item's recipe.
    AddRecipe(crate::NewRecipe),
    /// A batch made off its recipe, with the reason (QA's when inputs off the recipe are
    /// let in).
    ProduceOverride {
        batch: NewBatch,
        reason: crate::Override,
    },
    /// A line cleaned or changed over.
    Changeover(crate::NewChangeover),
    /// Keep this form's unsaved state for the caller at their station (not a record:
    /// docs/server.md, "Drafts").
    SaveDraft(DraftSave),
    /// Forget the caller's draft of `form` at `station` (their own station, or the one a
    /// draft they took over was typed at).
    DropDraft {
        station: String,
        form: DraftForm,
    },
}

impl Command {
    /// The least role that may do this: plant settings and master data are the admin's;
    /// holding, releasing, recalling and correcting are QA's; the floor's work is anyone's.
    pub fn required_role(&self) -> Role {
        match self {
            Command::SetPlant(_) | Command::AddItem(_) | Command::AddParty(_) => Role::Admin,
            Command::SetAllergens(_) | Command::DeclareAllergens { .. } | Command::AddRecipe(_) => {
                Role::Admin
            }
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

    /// A draft's keeping or forgetting: no record, no event, nothing another station shows.
    pub fn is_draft(&self) -> bool {
        matches!(self, Command::SaveDraft(_) | Command::DropDraft { .. })
    }

    /// Whether several of these may share one transaction (group commit): the floor's
    /// everyday writes. Others run alone in theirs.
    pub fn groupable(&self) -> bool {
        matches!(
            self,
            Command::Receive(_)
                | Command::ReceiveScanned(_)
                | Command::Produce(_)
                | Command::Ship(_)
                | Command::Adjust(_)
                | Command::SetStatus(_)
                | Command::Void(_)
                | Command::ProduceOverride { .. }
                | Command::Changeover(_)
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
                // Letting an input off the recipe into a batch is QA's call.
                | Command::ProduceOverride {
                    reason: crate::Override { off_recipe: true, .. },
                    ..
                }
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
    /// takes a verified copy and holds it for `BackupPart` (the station's `copies`).
    BackupStart,
    /// Up to one part (the station's `copies::PART_BYTES`) of the held copy from `offset`.
    BackupPart {
        id: u64,
        offset: u64,
    },
    /// The client has the whole copy: the server lets it go.
    BackupDone {
        id: u64,
    },
    /// Every version of one item's recipe, oldest first; or the newest version of every
    /// recipe, by item.
    Recipes(Option<ItemCode>),
    /// The plant's allergen list and every item's declaration.
    Allergens,
    /// A lot's allergens and where each came from.
    LotAllergens(LotCode),
    /// Every lot that carries an allergen (named as typed), finished lots first.
    LotsContaining(String),
    /// Batches made against a recipe, with their yields.
    Yields(crate::YieldFilter),
    /// The caller's drafts and the last thing they saved at this station: what the app
    /// offers on return.
    Resume,
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
    Audit(AuditTrail),
    Report(RecallReport),
    MockRecall(MockRecallView),
    MockRecalls(Vec<MockRecallSummary>),
    MaybeEventIds(Option<Vec<u64>>),
    BackupOffer(BackupOffer),
    Bytes(Vec<u8>),
    Recipes(Vec<crate::Recipe>),
    Allergens(crate::AllergenInfo),
    LotAllergens(crate::LotAllergens),
    Yields(Vec<crate::YieldRow>),
    Resume(Resume),
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

/// What a receipt or batch created: the new lot's code (what scripts capture) and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    pub code: LotCode,
    pub lot: LotId,
    pub event: u64,
    /// Why the new lot was put on hold at once (a failed receiving check), if it was.
    pub hold: Option<String>,
}

/// What the server took: the client fetches `bytes` in parts and checks `sha256`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupOffer {
    pub id: u64,
    pub bytes: u64,
    /// Records copied, over every table.
    pub records: u64,
    pub sha256: [u8; 32],
}

/// A role at the station (who may do what; not a party's [`crate::Role`]); each includes
/// everything the ones below it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    Operator,
    Qa,
    Admin,
}

impl Role {
    /// The role as a sentence says it: "cory is an operator here", "quinn is QA".
    pub fn with_article(self) -> &'static str {
        match self {
            Role::Operator => "an operator",
            Role::Qa => "QA",
            Role::Admin => "an admin",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Qa => "QA",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
