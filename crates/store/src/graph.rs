//! The link graph in memory (docs/server.md, "Inside the server"): every link both ways as compact
//! integer adjacency, for a long-lived process (the server) to walk traces without a
//! B-tree descent per lot reached. redb stays the record of truth: lot records, voids and
//! shipment lines are still read from the snapshot a trace runs in.
//!
//! # Layout
//!
//! Compressed sparse rows: for each direction, `start[lot]..start[lot + 1]` indexes the
//! lot's edges in one array; an edge is the other lot's id (u32) and the quantity of the
//! input used, in thousandths, as an i32. Quantities that do not fit (above 2,147,483
//! units, or negative) are kept exactly in `wide`, the edge holding `WIDE_BASE + index`.
//! 8 bytes an edge, 16 a link both ways: a 1M-lot plant's 6M links take about 100 MB.
//! Within a lot, edges are in the order the redb tables give them — by (other lot,
//! quantity) — so a walk over this graph lists links in the same order as one over redb.
//!
//! # Keeping it current: the contract
//!
//! Links are written only in the transaction that creates their output lot (a batch and
//! its inputs; an import uses the same command), and never change or go away afterwards —
//! a voided batch keeps its links as history, and traces leave the voided lot out because
//! its record says so. So the graph is append-only and "what is new" is "the links of lots
//! with ids the graph has not seen":
//!
//! - [`LinkGraph::build`] reads every link in one snapshot and covers the lot ids below
//!   that snapshot's next id.
//! - [`LinkGraph::refresh`] after a commit reads the links of the lots created since
//!   (one range read of the reverse-link table, a few entries per batch) and covers up to
//!   the newest snapshot. Call it after each commit, with the graph locked for writing;
//!   a refresh that finds nothing new costs one read transaction.
//! - A trace through the graph ([`Store::trace_in_graph`]) is exact even when the graph
//!   and the trace's snapshot differ: links to lots newer than the snapshot are ignored,
//!   and links of lots in the snapshot but not yet in the graph are read from the
//!   snapshot. Readers never wait for a refresh to be correct.
//!
//! Additions land in a small overflow map per direction and are merged into the arrays
//! when they pass an eighth of them, so a refresh stays cheap and the arrays compact.

use super::tables::*;
use super::trace::{LinkSource, trace_in};
use super::{Store, StoreError};
use lotline_domain::LotCode;
use lotline_domain::{Direction, RecallScope, Trace};
use redb::{ReadTransaction, ReadableMultimapTable, ReadableTable, ReadableTableMetadata};
use std::collections::HashMap;

/// One end of a link, seen from the other: the lot, and the quantity (see module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Edge {
    lot: u32,
    qty: i32,
}

/// Edge quantities at or below this are indexes into `wide` (counted up from it).
const WIDE_BASE: i32 = i32::MIN;

/// One direction: each lot's edges, in arrays, plus additions not merged yet.
#[derive(Debug, Default)]
struct Adjacency {
    /// `start[i]..start[i + 1]` are lot i's edges in `edges`; `len() == lots + 1`.
    start: Vec<u32>,
    edges: Vec<Edge>,
    /// Edges added since the arrays were built, by lot, each list in edge order.
    extra: HashMap<u32, Vec<Edge>>,
    extra_edges: usize,
}

impl Adjacency {
    fn base(&self, lot: u32) -> &[Edge] {
        let i = lot as usize;
        if i + 1 >= self.start.len() {
            return &[];
        }
        &self.edges[self.start[i] as usize..self.start[i + 1] as usize]
    }

    /// Merge `extra` into the arrays: one pass over every edge.
    fn compact(&mut self, lots: usize) {
        if self.extra.is_empty() && self.start.len() == lots + 1 {
            return;
        }
        let mut start = Vec::with_capacity(lots + 1);
        let mut edges = Vec::with_capacity(self.edges.len() + self.extra_edges);
        start.push(0u32);
        for lot in 0..lots as u32 {
            edges.extend_from_slice(self.base(lot));
            if let Some(more) = self.extra.get(&lot) {
                edges.extend_from_slice(more);
            }
            start.push(edges.len() as u32);
        }
        self.start = start;
        self.edges = edges;
        self.extra = HashMap::new();
        self.extra_edges = 0;
    }
}

/// Every link of the plant, both ways, in memory. See the module documentation for what
/// keeps it current.
#[derive(Debug, Default)]
pub struct LinkGraph {
    fwd: Adjacency,
    rev: Adjacency,
    /// Quantities that do not fit an edge's i32.
    wide: Vec<i64>,
    /// Lot ids below this are covered: their links are all here.
    covered: u32,
    links: usize,
}

/// The next lot id in snapshot `r`: every lot it holds has a smaller id.
fn lots_end(r: &ReadTransaction) -> Result<u32, StoreError> {
    Ok(match r.open_table(LOTS)?.last()? {
        Some((k, _)) => k.value().saturating_add(1),
        None => 0,
    })
}

impl LinkGraph {
    /// Read every link of `store`'s current snapshot.
    pub fn build(store: &Store) -> Result<LinkGraph, StoreError> {
        let r = store.read()?;
        let covered = lots_end(&r)?;
        let n = covered as usize;
        let mut g = LinkGraph {
            covered,
            ..LinkGraph::default()
        };
        // Forward rows straight from `links_fwd`, which is ordered by input lot and then
        // by (output, quantity): the order a redb walk lists them in.
        let fwd_t = r.open_multimap_table(LINKS_FWD)?;
        let total = fwd_t.len()? as usize;
        let mut start = vec![0u32; n + 1];
        let mut edges = Vec::with_capacity(total);
        let mut inputs = Vec::with_capacity(total);
        for e in fwd_t.iter()? {
            let (k, vals) = e?;
            let input = k.value();
            if input >= covered {
                return Err(StoreError::Damaged {
                    detail: format!("links from lot id {input}, which does not exist"),
                });
            }
            for v in vals {
                let (output, milli) = v?.value();
                if output >= covered {
                    return Err(StoreError::Damaged {
                        detail: format!("link to lot id {output}, which does not exist"),
                    });
                }
                edges.push(Edge {
                    lot: output,
                    qty: g.pack(milli),
                });
                inputs.push(input);
                start[input as usize + 1] += 1;
            }
        }
        if edges.len() > u32::MAX as usize {
            return Err(StoreError::Damaged {
                detail: "more than 4 billion links".into(),
            });
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        // Reverse rows by a counting sort of the forward ones. Inputs come in increasing
        // order, and one input's edges to the same output by quantity, so each row ends
        // up ordered by (input, quantity), as `link_inputs` packs them. `links_fwd` and
        // `link_inputs` mirror each other (`lotline check` proves it), so one table is
        // read, not two.
        let mut rstart = vec![0u32; n + 1];
        for e in &edges {
            rstart[e.lot as usize + 1] += 1;
        }
        for i in 0..n {
            rstart[i + 1] += rstart[i];
        }
        let mut fill = rstart.clone();
        let mut redges = vec![Edge { lot: 0, qty: 0 }; edges.len()];
        for (e, &input) in edges.iter().zip(&inputs) {
            let at = &mut fill[e.lot as usize];
            redges[*at as usize] = Edge {
                lot: input,
                qty: e.qty,
            };
            *at += 1;
        }
        drop(inputs);
        g.links = edges.len();
        g.fwd = Adjacency {
            start,
            edges,
            ..Adjacency::default()
        };
        g.rev = Adjacency {
            start: rstart,
            edges: redges,
            ..Adjacency::default()
        };
        Ok(g)
    }

    /// Take in the links of lots created since the graph last looked, from `store`'s
    /// current snapshot. Returns how many links were added. Call after each commit.
    pub fn refresh(&mut self, store: &Store) -> Result<usize, StoreError> {
        let r = store.read()?;
        let end = lots_end(&r)?;
        if end <= self.covered {
            return Ok(0);
        }
        let new = read_new_links(&r, self.covered, end)?;
        for &(output, input, milli) in &new {
            self.add(input, output, milli);
        }
        self.covered = end;
        let lots = end as usize;
        for adj in [&mut self.fwd, &mut self.rev] {
            if adj.extra_edges > 4096.max(adj.edges.len() / 8) {
                adj.compact(lots);
            }
        }
        Ok(new.len())
    }

    /// Lot ids below this have all their links in the graph.
    pub fn lots_covered(&self) -> u32 {
        self.covered
    }

    /// Links held (each once, though it is kept both ways).
    pub fn links(&self) -> usize {
        self.links
    }

    /// Bytes of memory the graph holds, for start-up reports.
    pub fn heap_bytes(&self) -> usize {
        let adj = |a: &Adjacency| {
            a.start.capacity() * 4
                + a.edges.capacity() * std::mem::size_of::<Edge>()
                + a.extra_edges * std::mem::size_of::<Edge>()
                + a.extra.capacity() * (std::mem::size_of::<(u32, Vec<Edge>)>() + 1)
        };
        adj(&self.fwd) + adj(&self.rev) + self.wide.capacity() * 8
    }

    fn pack(&mut self, milli: i64) -> i32 {
        match i32::try_from(milli) {
            Ok(q) if q >= 0 => q,
            _ => {
                // Past i32::MAX indexes, `WIDE_BASE + i` would wrap onto real quantities;
                // a plant with two billion outsized links is not a plant.
                let i = self.wide.len();
                self.wide.push(milli);
                WIDE_BASE.wrapping_add(i as i32)
            }
        }
    }

    fn unpack(&self, q: i32) -> i64 {
        if q >= 0 {
            i64::from(q)
        } else {
            self.wide[q.wrapping_sub(WIDE_BASE) as usize]
        }
    }

    /// One new link, kept in edge order in both directions.
    fn add(&mut self, input: u32, output: u32, milli: i64) {
        let qty = self.pack(milli);
        let key = |g: &LinkGraph, e: &Edge| (e.lot, g.unpack(e.qty));
        for (adj, from, to) in [(0, input, output), (1, output, input)] {
            let list = if adj == 0 {
                self.fwd.extra.entry(from).or_default()
            } else {
                self.rev.extra.entry(from).or_default()
            };
            let mut v = std::mem::take(list);
            let at = v.partition_point(|e| key(self, e) <= (to, milli));
            v.insert(at, Edge { lot: to, qty });
            let a = if adj == 0 {
                &mut self.fwd
            } else {
                &mut self.rev
            };
            a.extra.insert(from, v);
            a.extra_edges += 1;
        }
        self.links += 1;
    }

    /// `lot`'s neighbours in one direction, ids below `end` only, into `out`.
    fn neighbours(&self, forward: bool, lot: u32, end: u32, out: &mut Vec<(u32, i64)>) {
        let adj = if forward { &self.fwd } else { &self.rev };
        let all = adj
            .base(lot)
            .iter()
            .chain(adj.extra.get(&lot).into_iter().flatten());
        out.extend(
            all.filter(|e| e.lot < end)
                .map(|e| (e.lot, self.unpack(e.qty))),
        );
    }
}

/// (output, input, quantity) of every link whose output lot id is in `from..to`.
fn read_new_links(
    r: &ReadTransaction,
    from: u32,
    to: u32,
) -> Result<Vec<(u32, u32, i64)>, StoreError> {
    let mut out = Vec::new();
    for e in r.open_table(LINKS_REV)?.range(from..to)? {
        let (k, v) = e?;
        let output = k.value();
        let inputs = unpack_inputs(v.value()).ok_or_else(|| StoreError::Damaged {
            detail: format!("the inputs of lot id {output} are unreadable"),
        })?;
        out.extend(inputs.map(|(input, milli)| (output, input, milli)));
    }
    Ok(out)
}

/// The graph as one snapshot sees it: its lots only, plus the links of lots the snapshot
/// holds and the graph does not cover yet.
struct GraphLinks<'g> {
    g: &'g LinkGraph,
    end: u32,
    /// Links of lots `g.covered..end`, by output and by input, each in edge order.
    late_inputs: HashMap<u32, Vec<(u32, i64)>>,
    late_outputs: HashMap<u32, Vec<(u32, i64)>>,
}

impl<'g> GraphLinks<'g> {
    fn new(g: &'g LinkGraph, r: &ReadTransaction) -> Result<GraphLinks<'g>, StoreError> {
        let end = lots_end(r)?;
        let mut late_inputs: HashMap<u32, Vec<(u32, i64)>> = HashMap::new();
        let mut late_outputs: HashMap<u32, Vec<(u32, i64)>> = HashMap::new();
        if end > g.covered {
            for (output, input, milli) in read_new_links(r, g.covered, end)? {
                late_inputs.entry(output).or_default().push((input, milli));
                late_outputs.entry(input).or_default().push((output, milli));
            }
            for v in late_outputs.values_mut() {
                v.sort_unstable();
            }
        }
        Ok(GraphLinks {
            g,
            end,
            late_inputs,
            late_outputs,
        })
    }

    fn late(map: &HashMap<u32, Vec<(u32, i64)>>, id: u32, out: &mut Vec<(u32, i64)>, had: usize) {
        if let Some(more) = map.get(&id) {
            out.extend_from_slice(more);
            // Late links name newer lots than the graph's, so they sort after; sorting
            // keeps the order exact whatever the ids.
            out[had..].sort_unstable();
        }
    }
}

impl LinkSource for GraphLinks<'_> {
    fn inputs(&mut self, id: u32, out: &mut Vec<(u32, i64)>) -> Result<(), StoreError> {
        let had = out.len();
        self.g.neighbours(false, id, self.end, out);
        Self::late(&self.late_inputs, id, out, had);
        Ok(())
    }

    fn outputs(&mut self, id: u32, out: &mut Vec<(u32, i64)>) -> Result<(), StoreError> {
        let had = out.len();
        self.g.neighbours(true, id, self.end, out);
        Self::late(&self.late_outputs, id, out, had);
        Ok(())
    }
}

impl Store {
    /// The same trace as [`Store::trace`], its links found in `graph` instead of the link
    /// tables; lot records and shipment lines still come from one snapshot of the file.
    pub fn trace_in_graph(
        &self,
        graph: &LinkGraph,
        code: &LotCode,
        direction: Direction,
    ) -> Result<Trace, StoreError> {
        let r = self.read()?;
        let mut links = GraphLinks::new(graph, &r)?;
        trace_in(&r, code, direction, &mut links)
    }

    /// The same scope as [`Store::recall_scope`], walked in `graph`. (A lot's mass
    /// balance reads that lot's own events, not links, so it has no graph form.)
    pub fn recall_scope_in_graph(
        &self,
        graph: &LinkGraph,
        code: &LotCode,
    ) -> Result<RecallScope, StoreError> {
        self.scope_of(self.trace_in_graph(graph, code, Direction::Forward)?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use lotline_domain::*;

    fn all_directions() -> [Direction; 3] {
        [Direction::Backward, Direction::Forward, Direction::Both]
    }

    fn same_traces(s: &Store, g: &LinkGraph, codes: &[LotCode]) {
        for code in codes {
            for d in all_directions() {
                assert_eq!(
                    s.trace_in_graph(g, code, d).unwrap(),
                    s.trace(code, d).unwrap(),
                    "{code} {d}"
                );
            }
        }
    }

    #[test]
    fn the_graph_gives_the_trace_redb_gives_and_follows_new_batches() {
        let (_d, s, [flour, eggs, dough, cookies]) = bakery();
        let mut g = LinkGraph::build(&s).unwrap();
        assert_eq!(g.links(), 3);
        same_traces(
            &s,
            &g,
            &[flour.clone(), eggs.clone(), dough.clone(), cookies.clone()],
        );
        // A batch committed after the build: the graph's snapshot is older than the
        // trace's, and the trace is still exact.
        let more = produce(&s, "COOKIE", 10, vec![line(&flour, 50), line(&eggs, 2)]).unwrap();
        same_traces(&s, &g, &[flour.clone(), eggs.clone(), more.clone()]);
        assert_eq!(g.refresh(&s).unwrap(), 2);
        assert_eq!(g.refresh(&s).unwrap(), 0, "nothing new the second time");
        assert_eq!(g.links(), 5);
        same_traces(
            &s,
            &g,
            &[flour.clone(), eggs.clone(), dough, cookies, more.clone()],
        );
        // Merged into the arrays, the same again.
        let end = g.covered as usize;
        g.fwd.compact(end);
        g.rev.compact(end);
        assert!(g.fwd.extra.is_empty() && g.rev.extra.is_empty());
        same_traces(&s, &g, &[flour, eggs, more]);
    }

    #[test]
    fn a_graph_newer_than_the_snapshot_ignores_lots_the_snapshot_lacks() {
        let (_d, s, [flour, ..]) = bakery();
        let mut g = LinkGraph::build(&s).unwrap();
        let r = s.read().unwrap();
        let before = trace_in(
            &r,
            &flour,
            Direction::Forward,
            &mut GraphLinks::new(&g, &r).unwrap(),
        )
        .unwrap();
        produce(&s, "DOUGH", 10, vec![line(&flour, 10)]).unwrap();
        g.refresh(&s).unwrap();
        // The old snapshot through the newer graph: as it was.
        let again = trace_in(
            &r,
            &flour,
            Direction::Forward,
            &mut GraphLinks::new(&g, &r).unwrap(),
        )
        .unwrap();
        assert_eq!(again, before);
        drop(r);
        assert_eq!(
            s.trace_in_graph(&g, &flour, Direction::Forward)
                .unwrap()
                .lots
                .len(),
            before.lots.len() + 1
        );
    }

    #[test]
    fn outsized_quantities_are_kept_exactly() {
        let mut g = LinkGraph {
            covered: 10,
            ..LinkGraph::default()
        };
        g.add(1, 5, 3_000_000_000_000);
        g.add(1, 4, 7);
        g.add(2, 5, -4);
        let mut out = Vec::new();
        g.neighbours(true, 1, 10, &mut out);
        assert_eq!(out, vec![(4, 7), (5, 3_000_000_000_000)]);
        out.clear();
        g.neighbours(false, 5, 10, &mut out);
        assert_eq!(out, vec![(1, 3_000_000_000_000), (2, -4)]);
        g.fwd.compact(10);
        g.rev.compact(10);
        out.clear();
        g.neighbours(false, 5, 10, &mut out);
        assert_eq!(out, vec![(1, 3_000_000_000_000), (2, -4)]);
    }

    #[test]
    fn a_recall_scope_in_the_graph_is_the_one_from_redb() {
        let (_d, s, [flour, eggs, ..]) = bakery();
        let g = LinkGraph::build(&s).unwrap();
        for code in [&flour, &eggs] {
            assert_eq!(
                s.recall_scope_in_graph(&g, code).unwrap(),
                s.recall_scope(code).unwrap()
            );
        }
    }

    #[test]
    fn the_graph_gives_redbs_traces_on_a_generated_plant() {
        let (_d, s) = temp_store();
        let spec = crate::plantgen::Spec {
            seed: 7,
            lots_per_day: 150,
            ..crate::plantgen::Spec::new(2_500)
        };
        crate::plantgen::generate(&s, &spec, &mut |_| {}).unwrap();
        // The bulk load stored every balance it deferred: check recomputes them all.
        assert_eq!(s.check().unwrap().problems, vec![]);
        let g = LinkGraph::build(&s).unwrap();
        assert!(g.links() > 5_000, "{} links", g.links());
        let mut codes = Vec::new();
        s.for_each_lot(|l| {
            codes.push(l.code);
            Ok(())
        })
        .unwrap();
        // Several hundred lots spread over the whole plant (xorshift: repeatable).
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let picked: Vec<LotCode> = (0..300)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                codes[(x % codes.len() as u64) as usize].clone()
            })
            .collect();
        same_traces(&s, &g, &picked);
        let forward: usize = picked
            .iter()
            .map(|c| {
                s.trace_in_graph(&g, c, Direction::Forward)
                    .unwrap()
                    .lots
                    .len()
            })
            .sum();
        assert!(forward > picked.len(), "the traces went somewhere");
    }

    mod props {
        use super::super::super::codec::encode;
        use super::*;
        use proptest::prelude::*;

        /// A file holding lots `L1..=Ln` (some voided) and exactly `edges` as links —
        /// written straight into the tables, so cycles and self-links, which no command
        /// makes but a damaged or hand-edited file may hold, are in it too.
        fn raw_plant(
            n: u32,
            edges: &[(u32, u32, i64)],
            voided: &[bool],
        ) -> (tempfile::TempDir, Store) {
            let (d, s) = temp_store();
            let w = s.db.begin_write().unwrap();
            {
                let mut lots = w.open_table(LOTS).unwrap();
                let mut codes = w.open_table(LOT_CODES).unwrap();
                for i in 1..=n {
                    let code = format!("L{i}");
                    let lot = Lot {
                        id: LotId(i),
                        code: LotCode::parse(&code, "lot").unwrap(),
                        item: ItemCode::parse("X", "item").unwrap(),
                        origin: Origin::Produced { line: None },
                        event: u64::from(i),
                        quantity: Qty::from_units(10),
                        unit: Unit::Kg,
                        date: today(),
                        expiry: None,
                        status: if voided[i as usize % voided.len()] {
                            LotStatus::Voided
                        } else {
                            LotStatus::Released
                        },
                        balance: Qty::ZERO,
                    };
                    lots.insert(i, encode(&lot).as_slice()).unwrap();
                    codes.insert(code.as_str(), i).unwrap();
                }
                let mut fwd = w.open_multimap_table(LINKS_FWD).unwrap();
                let mut by_output: std::collections::BTreeMap<u32, Vec<(u32, i64)>> =
                    Default::default();
                for &(i, o, q) in edges {
                    fwd.insert(i, (o, q)).unwrap();
                    by_output.entry(o).or_default().push((i, q));
                }
                let mut rev = w.open_table(LINKS_REV).unwrap();
                for (o, mut inputs) in by_output {
                    rev.insert(o, pack_inputs(&mut inputs).as_slice()).unwrap();
                }
            }
            w.commit().unwrap();
            (d, s)
        }

        proptest! {
            #![proptest_config(lotline_domain::fuzz::config(24))]

            /// On any graph — DAGs, cycles, self-links, outsized quantities, voided lots —
            /// the walk ends, lists each lot once, and the in-memory graph gives exactly
            /// the redb walk's trace, before and after links arrive by refresh.
            #[test]
            fn graph_and_redb_walks_agree_and_end(
                n in 2u32..24,
                raw in prop::collection::btree_set(
                    (1u32..24, 1u32..24, prop_oneof![1i64..5_000, Just(5_000_000_000_000i64)]),
                    0..60,
                ),
                voided in prop::collection::vec(prop::bool::weighted(0.1), 1..8),
                split in 0usize..60,
            ) {
                let edges: Vec<(u32, u32, i64)> =
                    raw.into_iter().filter(|(i, o, _)| *i <= n && *o <= n).collect();
                let (_d, s) = raw_plant(n, &edges, &voided);
                // Half the graph from a build over an older file, the rest by refresh:
                // a file holding only the links into the first `cut` lots.
                let cut = (split as u32 % n) + 1;
                let older: Vec<_> = edges.iter().copied().filter(|e| e.1 < cut).collect();
                let (_d2, s2) = raw_plant(n, &older, &voided);
                let built = LinkGraph::build(&s).unwrap();
                let mut partial = LinkGraph::build(&s2).unwrap();
                partial.covered = cut;
                partial.refresh(&s).unwrap();
                prop_assert_eq!(partial.links(), built.links());
                for i in 1..=n {
                    let code = LotCode::parse(&format!("L{i}"), "lot").unwrap();
                    for d in all_directions() {
                        let want = s.trace(&code, d).unwrap();
                        let mut seen = std::collections::HashSet::new();
                        prop_assert!(want.lots.iter().all(|l| seen.insert(l.id)));
                        prop_assert_eq!(&s.trace_in_graph(&built, &code, d).unwrap(), &want);
                        prop_assert_eq!(&s.trace_in_graph(&partial, &code, d).unwrap(), &want);
                    }
                }
            }
        }
    }
}
