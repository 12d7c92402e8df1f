//! Events exchanged with other systems (EPCIS 2.0 documents), as lotline values: what an
//! import asks the station to record once the document has been parsed and mapped on the
//! client. Items and parties are listed once and named by index, so a document of a
//! million events does not carry a million copies of its master data across the station.

use super::{
    Documents, Gln, Gtin, ItemCode, LabelElement, LotCode, NewItem, NewParty, PartyId, Qty,
    Quality, Reference, SupplierLot, Unit,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Most events one import may carry: the station takes the whole document as one request
/// and applies it in one transaction, so it is held in memory on both sides (about 150
/// bytes an event). Larger exports are split by date (`epcis export --from --to`).
pub const MAX_IMPORT_EVENTS: usize = 2_000_000;

/// An item a document names: found here by GTIN, then by code; created from `new` when
/// neither is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemRef {
    pub gtin: Option<Gtin>,
    pub new: NewItem,
}

/// A party a document names: found here by GLN, then by id; created from `new` otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyRef {
    pub gln: Option<Gln>,
    pub new: NewParty,
}

/// One lot line of an imported event: a lot by code, a quantity, and the unit the
/// document gave it in (converted to the lot's unit when recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportLine {
    pub lot: LotCode,
    pub qty: Qty,
    pub unit: Unit,
    /// On a line that names a lot to use or ship: what to record if the plant has never
    /// seen the lot (a lot known only by the partner's identifier, docs/epcis.md).
    pub partner: Option<PartnerRef>,
}

/// How a document names a lot: enough to keep a lot the plant has never seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerRef {
    /// Index into [`EpcisImport::items`]: the item its identifier names.
    pub item: u32,
    /// The identifier as the document wrote it (its `epcClass`).
    pub identifier: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportKind {
    Receive {
        /// Index into [`EpcisImport::items`].
        item: u32,
        /// Index into [`EpcisImport::parties`].
        supplier: u32,
        /// The lot as it is recorded here.
        line: ImportLine,
        supplier_lot: SupplierLot,
        expiry: Option<NaiveDate>,
        quality: Quality,
        /// FSMA TLC source reference, when the lot code was not assigned by the supplier.
        tlc_source_ref: Option<String>,
        /// The supplier label's elements lotline kept with the receipt when it was scanned
        /// (`lotline:gs1Label`), recorded with it as a scanned receipt's are; empty when
        /// the document carries none.
        label: Vec<LabelElement>,
    },
    Produce {
        item: u32,
        output: ImportLine,
        expiry: Option<NaiveDate>,
        line: Option<String>,
        inputs: Vec<ImportLine>,
    },
    Ship {
        customer: u32,
        lines: Vec<ImportLine>,
    },
    Adjust {
        lot: LotCode,
        delta: Qty,
        reason: String,
    },
    /// Our food received back from a customer (a receiving event with disposition
    /// `returned`): recorded as a customer return of the shipped lot, into a new lot.
    Return {
        /// Index into [`EpcisImport::parties`]: the customer it came back from.
        customer: u32,
        /// The lot that was shipped, as it is recorded here, and the quantity back.
        line: ImportLine,
        /// The code of the lot it is kept under (`lotline:returnLot`); `None`: the
        /// usual `{lot}-R{n}`.
        return_lot: Option<LotCode>,
        /// The eventID of the shipment it came back from (`lotline:returnOf`), when the
        /// document says; otherwise the latest shipment of the lot to that customer.
        shipment: Option<String>,
        reason: String,
    },
}

/// One EPCIS event mapped to what lotline records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportEvent {
    /// The event's `eventID`, or `lotline-content-sha256:<hex>` of its content when it
    /// has none: what makes a second import of the same document add nothing.
    pub event_id: String,
    /// Position in the document's event list, from 0, for messages.
    pub index: u32,
    /// The business date: `eventTime` in the event's own time zone.
    pub date: NaiveDate,
    /// `eventTime` as the document gave it, kept as data beside the importer's stamp.
    pub event_time: String,
    /// Where the source says it happened (`bizLocation`, else `readPoint`), as data.
    pub location: Option<String>,
    /// The first business transaction the document names.
    pub reference: Option<Reference>,
    /// The second (another system's document may name more; lotline keeps two, as FDA's
    /// template has room for), or the reason lotline's own document gave for naming none
    /// (`lotline:noReferenceReason`). Kept for receipts, batches and shipments.
    pub documents: Documents,
    pub kind: ImportKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpcisImport {
    /// The document's `id` or file name, kept with each imported event.
    pub source: String,
    /// Import what maps and report the rest, instead of refusing the whole document.
    pub skip_unmappable: bool,
    pub items: Vec<ItemRef>,
    pub parties: Vec<PartyRef>,
    pub events: Vec<ImportEvent>,
    /// Events the client already could not map; reported with those the store refuses.
    pub unmapped: Vec<Unmapped>,
}

/// An event that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmapped {
    pub index: u32,
    pub event_id: String,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Events of the document recorded now.
    pub imported: u64,
    /// lotline events they made (a receiving event of three lots makes three receipts).
    pub records: u64,
    /// Events recorded by an earlier import of the same event id: skipped.
    pub already: u64,
    pub items_created: u64,
    pub parties_created: u64,
    pub lots_created: u64,
    /// Lots the document names that the plant had never seen, recorded as known only by
    /// the partner's identifier.
    pub partner_lots: u64,
    /// Receipts that filled in such a lot an earlier document had named.
    pub filled_in: u64,
    pub unmapped: Vec<Unmapped>,
    /// False when the import was refused because some events could not be mapped (and
    /// `skip_unmappable` was not asked for): nothing was stored.
    pub stored: bool,
}

/// What is kept of each imported event, by event id: the importer's stamp is on the
/// lotline events themselves; this keeps the source's own time and place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedEvent {
    pub source: String,
    pub event_time: String,
    pub location: Option<String>,
    /// The lotline events it became.
    pub events: Vec<u64>,
}

/// A page of standing (not voided) events and every lot they name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPageRows {
    pub events: Vec<super::Event>,
    pub lots: Vec<super::Lot>,
    /// Where the next page starts (business date, event id), or `None` at the end.
    pub next: Option<(NaiveDate, u64)>,
    /// By event id, the second reference document of events in `events`, or why one has
    /// none (events with neither are not listed).
    pub documents: Vec<(u64, Documents)>,
}

/// Plain-data helper: item and party references used by the mapper.
impl ItemRef {
    pub fn code(&self) -> &ItemCode {
        &self.new.code
    }
}

impl PartyRef {
    pub fn id(&self) -> &PartyId {
        &self.new.id
    }
}
