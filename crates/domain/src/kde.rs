//! What an FSMA 204 records request asks the store for, and what it answers: the
//! receiving, transformation and shipping events in scope with the lots they name. Plain
//! data, so the same question crosses to a server; the rows FDA reads are built from it
//! by `export::fsma`.

use super::{Event, ItemCode, Lot, LotCode};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Which Critical Tracking Events to gather. Every given field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdeQuery {
    /// One lot's whole trace, both ways: our lot code, or a supplier's TLC (every lot of
    /// ours that carries it).
    pub lot: Option<String>,
    /// First business day, inclusive.
    pub from: Option<NaiveDate>,
    /// Last business day, inclusive.
    pub to: Option<NaiveDate>,
    /// Only events touching a lot of one of these items (empty: any item).
    pub items: Vec<ItemCode>,
    /// One shipment by event id (the shipping KDEs a customer gets).
    pub shipment: Option<u64>,
}

/// The events in scope, oldest first, and every lot they name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdeRecords {
    /// Receive, produce, ship and customer return events; voided ones are left out (a
    /// void says the event never happened, and FDA asks for what did).
    pub events: Vec<Event>,
    /// Every lot the events name, inputs of a batch included, by id; and for a return
    /// lot, the lots it came back from (whose TLC it keeps).
    pub lots: Vec<Lot>,
    /// For a lot request: the lots of ours it named (one, or several carrying one TLC).
    pub roots: Vec<LotCode>,
    /// How many voided events in scope were left out.
    pub voided: u64,
    /// The TLC source reference of every received lot in `lots` whose receipt has one,
    /// also when the receipt itself is outside the request (a lot received last year and
    /// shipped in the range asked for).
    pub tlc_source_refs: Vec<(super::LotId, String)>,
    /// The reference document of every shipment a return in `events` came back from, by
    /// shipment event id (shipments without one are not listed).
    pub shipment_refs: Vec<(u64, super::Reference)>,
    /// By event id, the second reference document of events in `events`, or why one has
    /// none (events with neither are not listed).
    pub documents: Vec<(u64, super::Documents)>,
}
