//! Every redb table, defined once. Link tables hold compact lot ids, never codes: they are
//! the hot path of every trace (docs/store.md).

use redb::{MultimapTableDefinition, TableDefinition};

/// Bumped when a table's layout or a record's meaning changes; `Store::open` migrates
/// older files and refuses newer ones.
///
/// 2: `lot_shipments` carries each shipment line's quantity, date, customer and reference
///    (it held only event ids), so forward traces no longer decode shipment events.
/// 3: the indexes written with every event but read one lot, item or party at a time
///    (`lot_history`, `party_history`, `item_lot_index`, `supplier_lot_index`) are plain
///    tables keyed by (key, value) instead of redb multimaps: a multimap insert rebuilds
///    the key's value list and cost three to ten times a plain insert — 58 % of a bulk
///    load's instructions went to multimap inserts (BENCHMARKS.md). Forward links and
///    shipment lines stay multimaps: they grow for years, and a trace reads them once per
///    lot reached, where a multimap get was cheaper than a range over a plain table (+25 %
///    per trace).
/// 4: reverse links are one packed value per batch (`link_inputs`), not a multimap value
///    per input: written once, with the batch, in one insert.
/// 5: items carry a receiving temperature range and a retirement, parties a retirement
///    (records re-encoded); `item_history` indexes the events that changed an item.
/// 6: a receipt keeps the quantity and unit as counted at the dock beside the converted
///    one, and an optional TLC source reference (FSMA §1.1345): receive events are
///    re-encoded, with no quantity as received (it was never kept) and no reference.
/// 7: customer returns (a lot origin and an event kind) and mock recall records (three
///    event kinds, indexed by `mock_recall_events`). Nothing stored changes; the version
///    keeps an older lotline from reading events it does not know as damage.
/// 8: a scanned supplier label's GS1 elements kept with its receipt (an event kind,
///    `LabelData`). Nothing stored changes; as for 7.
/// 9: recipes, allergens, changeovers and yields: six event kinds and their tables
///    (`recipes`, `item_allergens`, `lot_allergens`, `allergen_lot_index`,
///    `batch_recipes`, `line_log`, `allergen_holds`). Nothing stored changes: a lot with no entry carries
///    no allergen and an item with no recipe is made as before.
/// 10: the plant's settings say how many hours a clerk's draft is kept (`draft_hours`);
///    the plant record is re-encoded with the default. Drafts have a table of their own
///    (`DRAFTS`), created by the first draft.
/// 11: the plant's settings carry the label size its printers hold (the record
///    re-encoded, with the 4x2-inch, 203-dpi stock every label was laid out for before).
pub const SCHEMA_VERSION: u32 = 11;

/// name → bytes: `schema_version` (u32 LE), `plant` (record), `seq:<prefix>` (u32 LE).
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// item code → Item
pub const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("items");
/// party id → Party
pub const PARTIES: TableDefinition<&str, &[u8]> = TableDefinition::new("parties");
/// lot id → Lot
pub const LOTS: TableDefinition<u32, &[u8]> = TableDefinition::new("lots");
/// printed lot code → lot id
pub const LOT_CODES: TableDefinition<&str, u32> = TableDefinition::new("lot_codes");
/// event id → Event; ids increase with time of recording.
pub const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");
/// voided event id → the void event's id. Events themselves never change.
pub const EVENT_VOIDS: TableDefinition<u64, u64> = TableDefinition::new("event_voids");
/// input lot → (output lot, quantity used in thousandths). Mirror of `LINKS_REV`.
pub const LINKS_FWD: MultimapTableDefinition<u32, (u32, i64)> =
    MultimapTableDefinition::new("links_fwd");
/// output lot → its inputs packed in one value: (input lot u32, quantity used in
/// thousandths i64), little-endian, 12 bytes each, by input lot. Mirror of `LINKS_FWD`. A
/// batch's inputs are all known when it is recorded and never change, so one value per
/// batch costs one insert where a multimap took one per input (BENCHMARKS.md).
pub const LINKS_REV: TableDefinition<u32, &[u8]> = TableDefinition::new("link_inputs");

/// `LINKS_REV`'s value for these inputs.
pub fn pack_inputs(inputs: &mut [(u32, i64)]) -> Vec<u8> {
    inputs.sort_unstable();
    let mut out = Vec::with_capacity(inputs.len() * 12);
    for (lot, milli) in inputs.iter() {
        out.extend_from_slice(&lot.to_le_bytes());
        out.extend_from_slice(&milli.to_le_bytes());
    }
    out
}

/// The inputs in a `LINKS_REV` value; `None` if it is not whole 12-byte entries.
pub fn unpack_inputs(bytes: &[u8]) -> Option<impl Iterator<Item = (u32, i64)> + '_> {
    bytes.len().is_multiple_of(12).then(|| {
        bytes.chunks_exact(12).map(|c| {
            let (lot, milli) = c.split_at(4);
            (
                u32::from_le_bytes(lot.try_into().unwrap_or_default()),
                i64::from_le_bytes(milli.try_into().unwrap_or_default()),
            )
        })
    })
}
/// (lot, event id) → (): every event that touched the lot, its history.
pub const LOT_EVENTS: TableDefinition<(u32, u64), ()> = TableDefinition::new("lot_history");
/// lot → its shipment lines: (event id, quantity in thousandths, business day as in
/// `EVENTS_BY_DATE`, customer, reference type, reference number; both "" when there is
/// none). Kept apart from `LOT_EVENTS` so a forward trace through a flour lot used in 1,400
/// batches does not decode 1,400 batch events to find no shipment, and carrying what a
/// trace shows of a shipment so it decodes no shipment event either: a recall reaching
/// 10,000 shipment lines spent a third of its time decoding events (BENCHMARKS.md).
/// Voided shipments stay listed, as everywhere; readers check `EVENT_VOIDS`.
pub const LOT_SHIPMENTS: MultimapTableDefinition<u32, ShipLine> =
    MultimapTableDefinition::new("lot_shipments");
pub type ShipLine = ShipLineOf<'static>;
pub type ShipLineOf<'a> = (u64, i64, i32, &'a str, &'a str, &'a str);
/// ("supplier lot code \0 supplier id", lot) → (). Supplier lot first so that "which of
/// our lots carry supplier lot X" is one prefix range even when the supplier is not known.
pub const SUPPLIER_LOTS: TableDefinition<(&str, u32), ()> =
    TableDefinition::new("supplier_lot_index");
/// (item code, lot) → (): an item's lots.
pub const ITEM_LOTS: TableDefinition<(&str, u32), ()> = TableDefinition::new("item_lot_index");
/// (business date as days since 0001-01-01, event id) → (): FSMA date-range requests.
pub const EVENTS_BY_DATE: TableDefinition<(i32, u64), ()> = TableDefinition::new("events_by_date");
/// (party, event id) → (): events naming a party — "what did this customer receive?"
pub const PARTY_EVENTS: TableDefinition<(&str, u64), ()> = TableDefinition::new("party_history");

/// EPCIS event id → ImportedEvent (record): every event an EPCIS import recorded, so the
/// same document imported twice adds nothing. Created by the first write on files older
/// than the import (redb creates a table when a write transaction opens it).
pub const EPCIS_EVENTS: TableDefinition<&str, &[u8]> = TableDefinition::new("epcis_events");
/// (item code, event id) → (): the events that added, changed or retired an item.
pub const ITEM_EVENTS: TableDefinition<(&str, u64), ()> = TableDefinition::new("item_history");

/// (mock recall id, event id) → (): every event of a mock recall record, its start event
/// (whose id is the record's) first, keyed (id, id).
pub const MOCK_RECALLS: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("mock_recall_events");

/// note id → SettingsChange (record): who changed the plant's settings (its QA users
/// among them), when, and what, for the audit. Not events: no trace or export reads them.
/// Created by the first change on files older than it, like `EPCIS_EVENTS`.
pub const SETTINGS_CHANGES: TableDefinition<u64, &[u8]> = TableDefinition::new("settings_changes");
/// refusal id → Refusal (record): attempts the plant's roles refused, for the audit;
/// capped, oldest dropped first (`store::audit`). Created by the first refusal on files
/// older than it.
pub const REFUSALS: TableDefinition<u64, &[u8]> = TableDefinition::new("refusals");

/// (output item code, version) → Recipe (record): every version of every recipe.
pub const RECIPES: TableDefinition<(&str, u32), &[u8]> = TableDefinition::new("recipes");
/// item code → the allergens it declares (an `AllergenSet`'s bits); items declaring none
/// have no entry.
pub const ITEM_ALLERGENS: TableDefinition<&str, u64> = TableDefinition::new("item_allergens");
/// lot id → the allergens it carries, computed once when the lot is made (its item's
/// declaration and the union of its inputs'); lots carrying none have no entry.
pub const LOT_ALLERGENS: TableDefinition<u32, u64> = TableDefinition::new("lot_allergens");
/// (allergen's place in the plant's list, lot id) → (): "every lot that carries peanut"
/// is one range. Mirror of `LOT_ALLERGENS`.
pub const ALLERGEN_LOTS: TableDefinition<(u8, u32), ()> =
    TableDefinition::new("allergen_lot_index");
/// batch event id → the `BatchRecipe` event recorded with it: yields without reading
/// every batch.
pub const BATCH_RECIPES: TableDefinition<u64, u64> = TableDefinition::new("batch_recipes");
/// (line, event id) → (kind, allergen bits): each line's batches (kind `LINE_BATCH`, the
/// output lot's allergens) and changeovers (kind `LINE_CHANGEOVER`, what it cleared), so
/// the cross-contact check reads a line's last entries only.
pub const LINE_LOG: TableDefinition<(&str, u64), (u8, u64)> = TableDefinition::new("line_log");
/// allergen hold event id → the held lot: `check` proves each hold's reason without
/// reading every event.
pub const ALLERGEN_HOLDS: TableDefinition<u64, u32> = TableDefinition::new("allergen_holds");
pub const LINE_BATCH: u8 = 0;
pub const LINE_CHANGEOVER: u8 = 1;
/// (user, station, form number) → Draft (record): what a clerk typed and has not saved,
/// one per user, station and form (`lotline_domain::Draft`). Never a record of the plant:
/// no event, trace, export or `check` reads it; saving the form removes it, and drafts
/// older than the plant's draft hours are removed by the next draft written. Created by
/// the first draft on files older than it, like `EPCIS_EVENTS`.
pub const DRAFTS: TableDefinition<(&str, &str, u8), &[u8]> = TableDefinition::new("drafts");

/// Tables of older schemas, only for migrating files written by them.
pub mod old {
    use redb::MultimapTableDefinition;

    /// Schemas 1 to 3: output lot → (input lot, quantity), one multimap value per input.
    pub const LINKS_REV: MultimapTableDefinition<u32, (u32, i64)> =
        MultimapTableDefinition::new("links_rev");

    /// Schema 1: lot → shipment event ids, under the name `LOT_SHIPMENTS` now has.
    pub const LOT_SHIPMENTS_V1: MultimapTableDefinition<u32, u64> =
        MultimapTableDefinition::new("lot_shipments");
    /// Schemas 1 and 2: the multimaps that schema 3 made plain tables.
    pub const LOT_EVENTS: MultimapTableDefinition<u32, u64> =
        MultimapTableDefinition::new("lot_events");
    pub const SUPPLIER_LOTS: MultimapTableDefinition<&str, u32> =
        MultimapTableDefinition::new("supplier_lots");
    pub const ITEM_LOTS: MultimapTableDefinition<&str, u32> =
        MultimapTableDefinition::new("item_lots");
    pub const PARTY_EVENTS: MultimapTableDefinition<&str, u64> =
        MultimapTableDefinition::new("party_events");

    use chrono::NaiveDate;
    use lotline_domain::*;
    use serde::{Deserialize, Serialize};

    /// Schemas 1 to 9: the plant's settings before drafts' hours.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct PlantV9 {
        pub location: Location,
        pub gln: Option<Gln>,
        pub receipt_pattern: LotPattern,
        pub batch_pattern: LotPattern,
        pub qa_users: Vec<String>,
    }

    impl PlantV9 {
        pub fn upgrade(self) -> PlantV10 {
            PlantV10 {
                location: self.location,
                gln: self.gln,
                receipt_pattern: self.receipt_pattern,
                batch_pattern: self.batch_pattern,
                qa_users: self.qa_users,
                draft_hours: DEFAULT_DRAFT_HOURS,
            }
        }
    }

    /// Schema 10: the plant's settings before the label size.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct PlantV10 {
        pub location: Location,
        pub gln: Option<Gln>,
        pub receipt_pattern: LotPattern,
        pub batch_pattern: LotPattern,
        pub qa_users: Vec<String>,
        pub draft_hours: u16,
    }

    impl PlantV10 {
        pub fn upgrade(self) -> Plant {
            Plant {
                location: self.location,
                gln: self.gln,
                receipt_pattern: self.receipt_pattern,
                batch_pattern: self.batch_pattern,
                qa_users: self.qa_users,
                draft_hours: self.draft_hours,
                label_size: LabelSize::default(),
            }
        }
    }

    /// Schemas 1 to 4: an item before receiving temperatures and retirement.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct ItemV4 {
        pub code: ItemCode,
        pub description: ProductDescription,
        pub unit: Unit,
        pub kind: ItemKind,
        pub gtin: Option<Gtin>,
        pub shelf_life_days: Option<u32>,
        pub ftl: bool,
        pub created: Stamp,
    }

    impl ItemV4 {
        pub fn upgrade(self) -> Item {
            Item {
                code: self.code,
                description: self.description,
                unit: self.unit,
                kind: self.kind,
                gtin: self.gtin,
                shelf_life_days: self.shelf_life_days,
                ftl: self.ftl,
                created: self.created,
                receiving_temp: TempRange::default(),
                retired: None,
            }
        }
    }

    /// Schemas 1 to 5: an event as stored before receipts kept the quantity as received
    /// and the TLC source reference. Field for field the shape postcard wrote then.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct EventV5 {
        pub id: u64,
        pub stamp: Stamp,
        #[serde(with = "lotline_domain::isodate")]
        pub date: NaiveDate,
        pub reference: Option<Reference>,
        pub kind: EventKindV5,
    }

    /// Schemas 1 to 5: `EventKind`, variant for variant (postcard numbers them by place).
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub enum EventKindV5 {
        Receive(ReceiptV5),
        Produce(Batch),
        Ship(Shipment),
        Adjust {
            lot: LotId,
            delta: Qty,
            reason: String,
        },
        Status {
            lot: LotId,
            from: LotStatus,
            to: LotStatus,
            reason: String,
        },
        Void {
            event: u64,
            reason: String,
        },
        MockRecall(MockRecall),
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ReceiptV5 {
        pub lot: LotId,
        pub item: ItemCode,
        pub supplier: PartyId,
        pub supplier_lot: SupplierLot,
        pub qty: Qty,
        pub unit: Unit,
        #[serde(with = "lotline_domain::isodate::opt")]
        pub expiry: Option<NaiveDate>,
        pub quality: Quality,
    }

    impl From<EventV5> for Event {
        fn from(e: EventV5) -> Event {
            let kind = match e.kind {
                EventKindV5::Receive(r) => EventKind::Receive(Receipt {
                    lot: r.lot,
                    item: r.item,
                    supplier: r.supplier,
                    supplier_lot: r.supplier_lot,
                    qty: r.qty,
                    unit: r.unit,
                    expiry: r.expiry,
                    quality: r.quality,
                    // Never kept before schema 6: the converted quantity is all there is,
                    // and saying "as received" of it would be a guess.
                    as_received: None,
                    tlc_source_ref: None,
                }),
                EventKindV5::Produce(b) => EventKind::Produce(b),
                EventKindV5::Ship(s) => EventKind::Ship(s),
                EventKindV5::Adjust { lot, delta, reason } => {
                    EventKind::Adjust { lot, delta, reason }
                }
                EventKindV5::Status {
                    lot,
                    from,
                    to,
                    reason,
                } => EventKind::Status {
                    lot,
                    from,
                    to,
                    reason,
                },
                EventKindV5::Void { event, reason } => EventKind::Void { event, reason },
                EventKindV5::MockRecall(m) => EventKind::MockRecall(m),
            };
            Event {
                id: e.id,
                stamp: e.stamp,
                date: e.date,
                reference: e.reference,
                kind,
            }
        }
    }

    /// Schemas 1 to 4: a party before retirement.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct PartyV4 {
        pub id: PartyId,
        pub role: Role,
        pub location: Location,
        pub gln: Option<Gln>,
        pub recall_contact: Contact,
        pub created: Stamp,
    }

    impl PartyV4 {
        pub fn upgrade(self) -> Party {
            Party {
                id: self.id,
                role: self.role,
                location: self.location,
                gln: self.gln,
                recall_contact: self.recall_contact,
                created: self.created,
                retired: None,
            }
        }
    }

    /// The other way, for tests that write an older file: what schemas 1 to 5 stored.
    #[cfg(test)]
    impl From<Event> for EventV5 {
        fn from(e: Event) -> EventV5 {
            let kind = match e.kind {
                EventKind::Receive(r) => EventKindV5::Receive(ReceiptV5 {
                    lot: r.lot,
                    item: r.item,
                    supplier: r.supplier,
                    supplier_lot: r.supplier_lot,
                    qty: r.qty,
                    unit: r.unit,
                    expiry: r.expiry,
                    quality: r.quality,
                }),
                EventKind::Produce(b) => EventKindV5::Produce(b),
                EventKind::Ship(s) => EventKindV5::Ship(s),
                EventKind::Adjust { lot, delta, reason } => {
                    EventKindV5::Adjust { lot, delta, reason }
                }
                EventKind::Status {
                    lot,
                    from,
                    to,
                    reason,
                } => EventKindV5::Status {
                    lot,
                    from,
                    to,
                    reason,
                },
                EventKind::Void { event, reason } => EventKindV5::Void { event, reason },
                EventKind::MockRecall(m) => EventKindV5::MockRecall(m),
                // Kinds added with schema 6 have no older form; test plants never hold them
                // when they are written back as an older file.
                other => panic!("{} events did not exist before schema 6", other.name()),
            };
            EventV5 {
                id: e.id,
                stamp: e.stamp,
                date: e.date,
                reference: e.reference,
                kind,
            }
        }
    }
}

pub fn supplier_lot_key(supplier_lot: &str, supplier: &str) -> String {
    format!("{supplier_lot}\0{supplier}")
}

/// The `LOT_SHIPMENTS` entries of event `e` (none unless it is a shipment), in line order.
pub fn shipment_lines(e: &lotline_domain::Event) -> Vec<(u32, ShipLineOf<'_>)> {
    let lotline_domain::EventKind::Ship(s) = &e.kind else {
        return Vec::new();
    };
    let (kind, number) = e
        .reference
        .as_ref()
        .map(|r| (r.kind.as_str(), r.number.as_str()))
        .unwrap_or(("", ""));
    let day = day_number(e.date);
    s.lines
        .iter()
        .map(|l| {
            (
                l.lot.0,
                (e.id, l.qty.milli(), day, s.customer.as_str(), kind, number),
            )
        })
        .collect()
}

/// A business date as `EVENTS_BY_DATE` and `LOT_SHIPMENTS` key it: days since 0001-01-01.
pub fn day_number(d: chrono::NaiveDate) -> i32 {
    use chrono::Datelike;
    d.num_days_from_ce()
}
