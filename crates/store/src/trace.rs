//! Trace: a breadth-first walk over the link tables (docs/store.md).
//!
//! Each lot is expanded once however many paths reach it, so a cycle from bad data ends
//! the walk instead of hanging it. The result is a graph; screens and exports shape it.

use super::codec::decode;
use super::query::read_lot_id;
use super::tables::*;
use super::{Store, StoreError};
use chrono::NaiveDate;
use lotline_domain::*;
use redb::{ReadOnlyMultimapTable, ReadOnlyTable, ReadTransaction, ReadableTable};
use std::collections::{HashMap, HashSet, VecDeque};

struct Walk<'a> {
    lots_t: ReadOnlyTable<u32, &'static [u8]>,
    /// Each lot reached, with its place in `lots`.
    seen: HashMap<LotId, usize>,
    /// Lots met but left out because their creation was voided.
    voided: HashSet<LotId>,
    lots: Vec<Lot>,
    links: Vec<TraceLink>,
    _p: std::marker::PhantomData<&'a ()>,
}

impl Walk<'_> {
    /// Take `id` into the trace; false if it is left out. A lot whose receipt or batch was
    /// voided never existed: its links stay in the store as history, but a trace does not
    /// follow them (only a voided root is shown, because it was asked for).
    fn add_lot(&mut self, id: LotId) -> Result<bool, StoreError> {
        if self.seen.contains_key(&id) {
            return Ok(true);
        }
        if self.voided.contains(&id) {
            return Ok(false);
        }
        let lot: Lot = match self.lots_t.get(id.0)? {
            Some(v) => decode(v.value(), "lots", &id.0)?,
            None => {
                return Err(StoreError::Damaged {
                    detail: format!("link to lot id {} which does not exist", id.0),
                });
            }
        };
        if lot.status == LotStatus::Voided && !self.lots.is_empty() {
            self.voided.insert(id);
            return Ok(false);
        }
        self.seen.insert(id, self.lots.len());
        self.lots.push(lot);
        Ok(true)
    }

    /// Breadth-first from `root`; `links` lists a lot's neighbours in this direction into
    /// the buffer it is given, and `forward` says which end of a link is which. Returns
    /// the lots this direction reached, root included, in visiting order.
    fn run(
        &mut self,
        root: LotId,
        mut links: impl FnMut(u32, &mut Vec<(u32, i64)>) -> Result<(), StoreError>,
        forward: bool,
    ) -> Result<Vec<LotId>, StoreError> {
        let mut expanded: HashSet<LotId> = HashSet::with_capacity(64);
        let mut order = Vec::with_capacity(64);
        let mut queue = VecDeque::from([root]);
        let mut next = Vec::new();
        while let Some(id) = queue.pop_front() {
            if !expanded.insert(id) {
                continue;
            }
            order.push(id);
            next.clear();
            links(id.0, &mut next)?;
            for &(other, milli) in &next {
                let other = LotId(other);
                if !self.add_lot(other)? {
                    continue;
                }
                let qty = Qty(milli);
                self.links.push(if forward {
                    TraceLink {
                        input: id,
                        output: other,
                        qty,
                    }
                } else {
                    TraceLink {
                        input: other,
                        output: id,
                        qty,
                    }
                });
                if !expanded.contains(&other) {
                    queue.push_back(other);
                }
            }
        }
        Ok(order)
    }
}

/// Where a walk finds a lot's neighbours: the redb link tables, or the in-memory graph
/// (`graph.rs`). Both list them in the same order — by (other lot, quantity) — so both
/// give the same trace.
pub(super) trait LinkSource {
    /// The inputs of `id` (lot, quantity used in thousandths), into `out`.
    fn inputs(&mut self, id: u32, out: &mut Vec<(u32, i64)>) -> Result<(), StoreError>;
    /// The outputs of `id` (lot, quantity of `id` used in thousandths), into `out`.
    fn outputs(&mut self, id: u32, out: &mut Vec<(u32, i64)>) -> Result<(), StoreError>;
}

/// The link tables of one read transaction.
struct RedbLinks<'r> {
    r: &'r ReadTransaction,
    rev: Option<ReadOnlyTable<u32, &'static [u8]>>,
    fwd: Option<ReadOnlyMultimapTable<u32, (u32, i64)>>,
}

impl LinkSource for RedbLinks<'_> {
    fn inputs(&mut self, id: u32, out: &mut Vec<(u32, i64)>) -> Result<(), StoreError> {
        if self.rev.is_none() {
            self.rev = Some(self.r.open_table(LINKS_REV)?);
        }
        if let Some(rev) = &self.rev
            && let Some(v) = rev.get(id)?
        {
            out.extend(unpack_inputs(v.value()).ok_or_else(|| StoreError::Damaged {
                detail: format!("the inputs of lot id {id} are unreadable"),
            })?);
        }
        Ok(())
    }

    fn outputs(&mut self, id: u32, out: &mut Vec<(u32, i64)>) -> Result<(), StoreError> {
        if self.fwd.is_none() {
            self.fwd = Some(self.r.open_multimap_table(LINKS_FWD)?);
        }
        if let Some(fwd) = &self.fwd {
            for v in fwd.get(id)? {
                out.push(v?.value());
            }
        }
        Ok(())
    }
}

impl Store {
    /// Everything linked to the lot `code` in `direction`, walked over the link tables.
    pub fn trace(&self, code: &LotCode, direction: Direction) -> Result<Trace, StoreError> {
        let r = self.read()?;
        let mut links = RedbLinks {
            r: &r,
            rev: None,
            fwd: None,
        };
        trace_in(&r, code, direction, &mut links)
    }
}

/// The walk itself, in the snapshot `r`, finding neighbours in `links`: lot records,
/// voided lots and shipment lines always come from `r`.
pub(super) fn trace_in(
    r: &ReadTransaction,
    code: &LotCode,
    direction: Direction,
    links: &mut dyn LinkSource,
) -> Result<Trace, StoreError> {
    let root = read_lot_id(r, code)?;
    // Most traces are small: a little room up front saves the first few regrowths,
    // which showed in profiles of 20-lot backward traces.
    let mut w = Walk {
        lots_t: r.open_table(LOTS)?,
        seen: HashMap::with_capacity(64),
        voided: HashSet::new(),
        lots: Vec::with_capacity(64),
        links: Vec::with_capacity(64),
        _p: std::marker::PhantomData,
    };
    w.add_lot(root)?;
    if direction.backward() {
        w.run(root, |id, out| links.inputs(id, out), false)?;
    }
    let mut shipments = Vec::new();
    if direction.forward() {
        let reached = w.run(root, |id, out| links.outputs(id, out), true)?;
        let ships = r.open_multimap_table(LOT_SHIPMENTS)?;
        let voids = r.open_table(EVENT_VOIDS)?;
        // Voids are rare; most databases have none and need not look each line up.
        let any_voids = voids.first()?.is_some();
        // A plant has hundreds of customers and a recall thousands of lines: check each
        // customer id once.
        let mut customers: HashMap<String, PartyId> = HashMap::new();
        for lot in reached {
            // Looked up once per lot: searching the trace's lots for every shipment
            // line made a large recall quadratic (BENCHMARKS.md).
            let unit = w
                .seen
                .get(&lot)
                .map(|&i| w.lots[i].unit)
                .unwrap_or(Unit::Ea);
            for e in ships.get(lot.0)? {
                let e = e?;
                let (event, milli, day, customer, ref_kind, ref_number) = e.value();
                if any_voids && voids.get(event)?.is_some() {
                    continue;
                }
                let damaged = |what: &str| StoreError::Damaged {
                    detail: format!("shipment {event} of lot id {}: {what}", lot.0),
                };
                shipments.push(TraceShipment {
                    event,
                    lot,
                    customer: match customers.get(customer) {
                        Some(c) => c.clone(),
                        None => {
                            let c = PartyId::parse(customer, "customer")
                                .map_err(|_| damaged("unreadable customer"))?;
                            customers.insert(customer.to_string(), c.clone());
                            c
                        }
                    },
                    date: NaiveDate::from_num_days_from_ce_opt(day)
                        .ok_or_else(|| damaged("impossible date"))?,
                    qty: Qty(milli),
                    unit,
                    reference: (!ref_kind.is_empty()).then(|| Reference {
                        kind: ref_kind.to_string(),
                        number: ref_number.to_string(),
                    }),
                });
            }
        }
    }
    Ok(Trace {
        root,
        direction,
        lots: w.lots,
        links: w.links,
        shipments,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use lotline_domain::api::Command;

    fn codes(t: &Trace) -> Vec<String> {
        t.lots.iter().map(|l| l.code.to_string()).collect()
    }

    #[test]
    fn backward_from_cookies_reaches_supplier_lots() {
        let (_d, s, [flour, eggs, dough, cookies]) = bakery();
        let t = s.trace(&cookies, Direction::Backward).unwrap();
        assert_eq!(
            codes(&t),
            vec![
                cookies.to_string(),
                dough.to_string(),
                flour.to_string(),
                eggs.to_string()
            ]
        );
        assert_eq!(t.links.len(), 3);
        assert!(t.shipments.is_empty(), "backward traces carry no shipments");
        let egg_lot = t.lots.iter().find(|l| l.code == eggs).unwrap();
        assert!(
            matches!(&egg_lot.origin, Origin::Received { supplier_lot, .. } if supplier_lot.as_str() == "f-1121")
        );
    }

    #[test]
    fn forward_from_eggs_reaches_every_customer() {
        let (_d, s, [_, eggs, dough, cookies]) = bakery();
        let t = s.trace(&eggs, Direction::Forward).unwrap();
        assert_eq!(
            codes(&t),
            vec![eggs.to_string(), dough.to_string(), cookies.to_string()]
        );
        let mut customers: Vec<_> = t.shipments.iter().map(|s| s.customer.to_string()).collect();
        customers.sort();
        assert_eq!(customers, vec!["CAFE", "SHOP"]);
        assert_eq!(
            t.shipments.iter().map(|s| s.qty).sum::<Qty>(),
            Qty::from_units(20)
        );
    }

    #[test]
    fn a_lot_reached_twice_is_expanded_once() {
        let (_d, s, [flour, eggs, ..]) = bakery();
        // flour goes into dough2 directly and via dough3 (made from dough2): a diamond.
        let d2 = produce(&s, "DOUGH", 10, vec![line(&flour, 10)]).unwrap();
        let d3 = produce(&s, "DOUGH", 5, vec![line(&d2, 5)]).unwrap();
        let c = produce(
            &s,
            "COOKIE",
            3,
            vec![line(&d2, 5), line(&d3, 5), line(&eggs, 1)],
        )
        .unwrap();
        let t = s.trace(&c, Direction::Backward).unwrap();
        let mut seen = HashSet::new();
        assert!(
            t.lots.iter().all(|l| seen.insert(l.id)),
            "each lot listed once: {:?}",
            codes(&t)
        );
        // c←d2, c←d3, c←eggs, d3←d2, d2←flour: five links, each once
        assert_eq!(t.links.len(), 5);
    }

    #[test]
    fn voided_shipments_are_not_in_the_recall_scope() {
        let (_d, s, [_, eggs, _, cookies]) = bakery();
        let ev = ship(&s, "SHOP", vec![line(&cookies, 2)]).unwrap();
        s.apply(
            Command::Void(VoidEvent {
                event: ev,
                date: today(),
                reason: "typo".into(),
            }),
            &stamp(),
            today(),
        )
        .unwrap();
        let t = s.trace(&eggs, Direction::Forward).unwrap();
        assert!(t.shipments.iter().all(|sh| sh.event != ev));
        assert_eq!(t.shipments.len(), 2);
    }

    #[test]
    fn both_directions_and_unknown_lots() {
        let (_d, s, [flour, eggs, dough, cookies]) = bakery();
        let t = s.trace(&dough, Direction::Both).unwrap();
        assert_eq!(t.lots.len(), 4);
        assert!(
            t.contains(s.lot_by_code(&flour).unwrap().id)
                && t.contains(s.lot_by_code(&cookies).unwrap().id)
        );
        assert_eq!(t.shipments.len(), 2);
        let _ = eggs;
        let e = s
            .trace(&LotCode::parse("NOPE", "lot").unwrap(), Direction::Both)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "lot: no lot NOPE; check the code on the label"
        );
    }

    #[test]
    fn the_index_gives_children_and_reach() {
        let (_d, s, [flour, eggs, dough, cookies]) = bakery();
        let t = s.trace(&dough, Direction::Both).unwrap();
        let ix = TraceIndex::new(&t);
        let id = |c: &LotCode| t.lots.iter().find(|l| &l.code == c).unwrap().id;
        let back = ix.children(id(&dough), false);
        assert_eq!(
            back,
            vec![
                Child::Lot {
                    id: id(&flour),
                    qty: Qty::from_units(100)
                },
                Child::Lot {
                    id: id(&eggs),
                    qty: Qty::from_units(10)
                }
            ]
        );
        let fwd = ix.children(id(&cookies), true);
        assert_eq!(fwd.len(), 2);
        assert!(fwd.iter().all(|c| matches!(c, Child::Shipment(_))));
        assert_eq!(
            ix.reach(id(&dough), true),
            Reach {
                lots: 1,
                shipments: 2
            }
        );
        assert_eq!(
            ix.reach(id(&dough), false),
            Reach {
                lots: 2,
                shipments: 0
            }
        );
        assert_eq!(ix.reach(id(&flour), false), Reach::default());
    }

    #[test]
    fn a_voided_batch_is_not_in_any_trace() {
        // Found in review: a voided batch's lot still showed in the flour's recall.
        let (_d, s, [flour, ..]) = bakery();
        let extra = produce(&s, "DOUGH", 5, vec![line(&flour, 5)]).unwrap();
        let event = s.lot_by_code(&extra).unwrap().event;
        assert!(
            s.trace(&flour, Direction::Forward)
                .unwrap()
                .lots
                .iter()
                .any(|l| l.code == extra)
        );
        s.apply(
            Command::Void(VoidEvent {
                event,
                date: today(),
                reason: "typed twice".into(),
            }),
            &stamp(),
            today(),
        )
        .unwrap();
        let t = s.trace(&flour, Direction::Forward).unwrap();
        assert!(
            !t.lots.iter().any(|l| l.code == extra),
            "{:?}",
            t.lots.iter().map(|l| &l.code).collect::<Vec<_>>()
        );
        assert!(t.links.iter().all(|l| t.contains(l.output)));
        // Asked for by code, the voided lot itself is shown, marked voided.
        let own = s.trace(&extra, Direction::Backward).unwrap();
        assert_eq!(own.lots[0].status, LotStatus::Voided);
        assert!(own.lots.len() == 2, "its inputs are still shown from it");
    }
}
