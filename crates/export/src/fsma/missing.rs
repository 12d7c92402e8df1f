//! The KDE completeness check (`lotline kde --missing`, the app's FDA export form): every
//! receiving, transformation and shipping event of a food on the Food Traceability List
//! whose spreadsheet row would have a Key Data Element blank, which one, and what fills it
//! — before anything is sent, because a blank found at a records request cannot be filled
//! in within FDA's 24 hours.
//!
//! A KDE counts as missing when the template asks for it and lotline holds nothing for
//! it: a reference document (none, and no reason recorded for having none); a location
//! description's phone, street, city, state or ZIP (of the supplier, the customer, our
//! plant, or the TLC source); a product description's packaging size or style. Brand,
//! commodity and variety are FDA's "if applicable", and a TLC source reference stands in
//! for a TLC source's location, so neither is counted.

use super::{Book, Request};
use lotline_domain::{Event, EventKind, ItemCode, Location, LotId, Origin, PartyId};
use lotline_station::{Station, StationError};
use std::collections::BTreeSet;

/// What fills a missing KDE: master data to complete, or an event to record again.
/// Front ends say it in their own words (a command, a screen).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fill {
    /// The item's description: `field` is `pack-size` or `pack-style`.
    Item { code: ItemCode, field: &'static str },
    /// The party's location: `field` is `phone`, `street`, `city`, `state` or `zip`.
    Party { id: PartyId, field: &'static str },
    /// The plant's own location.
    Plant { field: &'static str },
    /// The event's reference document: recorded events are never changed, so it is
    /// voided and recorded again with its documents.
    Reference { event: u64 },
}

/// One KDE missing from one event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Gap {
    pub date: chrono::NaiveDate,
    pub event: u64,
    /// "receiving", "transformation" or "shipping".
    pub cte: &'static str,
    /// The lot the row is about (our code).
    pub lot: String,
    /// The KDE, as the spreadsheet's column names it: "reference document",
    /// "immediate previous source street address", "packaging style".
    pub kde: String,
    pub fill: Fill,
}

/// What the check covered, and what it found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gaps {
    /// Events of foods on the Food Traceability List looked at.
    pub events: usize,
    pub gaps: Vec<Gap>,
}

const LOCATION_FIELDS: [(&str, &str); 5] = [
    ("phone", "phone"),
    ("street address", "street"),
    ("city", "city"),
    ("state", "state"),
    ("ZIP", "zip"),
];

fn blank_fields(l: &Location) -> Vec<(&'static str, &'static str)> {
    let value = |f: &str| match f {
        "phone" => &l.phone,
        "street" => &l.street,
        "city" => &l.city,
        "state" => &l.state,
        _ => &l.zip,
    };
    LOCATION_FIELDS
        .into_iter()
        .filter(|(_, f)| value(f).trim().is_empty())
        .collect()
}

/// Check the events `req` covers (its dates; foods on the Food Traceability List, or
/// the items it names).
pub fn missing(st: &dyn Station, req: &Request) -> Result<Gaps, StationError> {
    let req = Request {
        ftl_only: true,
        ..req.clone()
    };
    let g = super::Gathered::new(st, &req, &mut |_| {})?;
    let book = g.book();
    Ok(book.gaps())
}

/// Where an event's gaps are collected.
struct Found<'b> {
    event: &'b Event,
    cte: &'static str,
    gaps: BTreeSet<Gap>,
}

impl Found<'_> {
    fn add(&mut self, lot: &str, kde: String, fill: Fill) {
        self.gaps.insert(Gap {
            date: self.event.date,
            event: self.event.id,
            cte: self.cte,
            lot: lot.to_string(),
            kde,
            fill,
        });
    }
}

impl Book<'_> {
    fn gaps(&self) -> Gaps {
        let mut out = Gaps::default();
        for e in &self.records.events {
            let (cte, lots): (&'static str, Vec<LotId>) = match &e.kind {
                EventKind::Receive(r) if self.wants(&r.item) => ("receiving", vec![r.lot]),
                EventKind::Return(r) if self.wants(&r.item) => ("receiving", vec![r.lot]),
                EventKind::Produce(b) => {
                    let any = self.wants(&b.item)
                        || b.inputs
                            .iter()
                            .any(|u| self.lots.get(&u.lot).is_some_and(|l| self.wants(&l.item)));
                    if !any {
                        continue;
                    }
                    (
                        "transformation",
                        std::iter::once(b.output)
                            .chain(b.inputs.iter().map(|u| u.lot))
                            .collect(),
                    )
                }
                EventKind::Ship(s) => {
                    let ftl: Vec<LotId> = s
                        .lines
                        .iter()
                        .map(|u| u.lot)
                        .filter(|l| self.lots.get(l).is_some_and(|l| self.wants(&l.item)))
                        .collect();
                    if ftl.is_empty() {
                        continue;
                    }
                    ("shipping", ftl)
                }
                _ => continue,
            };
            out.events += 1;
            let mut found = Found {
                event: e,
                cte,
                gaps: BTreeSet::new(),
            };
            self.event_gaps(e, &lots, &mut found);
            out.gaps.extend(found.gaps);
        }
        out.gaps.sort();
        out
    }

    fn event_gaps(&self, e: &Event, lots: &[LotId], found: &mut Found) {
        let Some(first) = lots.first().and_then(|l| self.lots.get(l)) else {
            return;
        };
        let code = first.code.as_str();
        // The reference document: a return may stand on its shipment's.
        let has_document = e.reference.is_some()
            || match &e.kind {
                EventKind::Return(r) => self.shipment_refs.contains_key(&r.shipment),
                _ => false,
            }
            || self
                .documents
                .get(&e.id)
                .is_some_and(|d| d.none_because.is_some());
        if !has_document {
            found.add(
                code,
                "reference document".into(),
                Fill::Reference { event: e.id },
            );
        }
        // The other party of the event.
        let (other, role) = match &e.kind {
            EventKind::Receive(r) => (Some(&r.supplier), "immediate previous source"),
            EventKind::Return(r) => (Some(&r.customer), "immediate previous source"),
            EventKind::Ship(s) => (Some(&s.customer), "immediate subsequent recipient"),
            _ => (None, ""),
        };
        if let Some(id) = other {
            self.party_gaps(id, role, code, found);
        }
        let ours = match e.kind {
            EventKind::Produce(_) => "transformation location",
            EventKind::Ship(_) => "ship-from location",
            _ => "receiving location",
        };
        for (kde, field) in blank_fields(&self.plant.location) {
            found.add(code, format!("{ours} {kde}"), Fill::Plant { field });
        }
        for id in lots {
            let Some(lot) = self.lots.get(id) else {
                continue;
            };
            // Only the rows the spreadsheet has are this check's: the flour shipped beside
            // the eggs is not a KDE of the eggs; but every input of a batch that makes a
            // food on the list is a row of it.
            let row = match &e.kind {
                EventKind::Produce(b) => self.wants(&b.item) || self.wants(&lot.item),
                _ => self.wants(&lot.item),
            };
            if !row {
                continue;
            }
            if let Some(item) = self.items.get(&lot.item) {
                let d = &item.description;
                for (value, kde, field) in [
                    (&d.pack_size, "packaging size", "pack-size"),
                    (&d.pack_style, "packaging style", "pack-style"),
                ] {
                    if value.trim().is_empty() {
                        found.add(
                            lot.code.as_str(),
                            format!("{} {kde}", lot.item),
                            Fill::Item {
                                code: lot.item.clone(),
                                field,
                            },
                        );
                    }
                }
            }
            // A received lot shipped as it came keeps its supplier as TLC source, unless a
            // TLC source reference stands for it (a receipt's supplier was checked above;
            // the transformation sheet has no input TLC source).
            if let Origin::Received { supplier, .. } = &lot.origin
                && !self.refs.contains_key(&lot.id)
                && matches!(e.kind, EventKind::Ship(_))
            {
                self.party_gaps(supplier, "TLC source", lot.code.as_str(), found);
            }
        }
    }

    fn party_gaps(&self, id: &PartyId, role: &str, lot: &str, found: &mut Found) {
        let Some(p) = self.parties.get(id) else {
            return;
        };
        for (kde, field) in blank_fields(&p.location) {
            found.add(
                lot,
                format!("{role} {kde} ({id})"),
                Fill::Party {
                    id: id.clone(),
                    field,
                },
            );
        }
    }
}
