//! The plant read back from a lotline file as plain rows, and the same rows as a SQLite
//! database with the covering indexes a careful SQLite design would have: the yardstick
//! of `benches/trace.rs` (in-process) and `benches/whole.rs` (the `sqlite3` shell).
//! Each bench uses part of it.
#![allow(dead_code)]

use lotline_domain::Direction;
use lotline_domain::*;
use lotline_store::Store;
use rusqlite::{Connection, params};
use std::collections::HashSet;
use std::path::Path;
pub struct GLot {
    pub code: String,
    pub item: String,
    pub qty: i64,
    pub balance: i64,
    pub unit: &'static str,
    pub date: String,
    pub status: &'static str,
    pub received: bool,
}

pub struct GShip {
    pub event: u64,
    pub lot: u32,
    pub customer: String,
    pub date: String,
    pub qty: i64,
    pub reference: Option<String>,
}

pub struct Graph {
    /// By lot id; index 0 is unused.
    pub lots: Vec<Option<GLot>>,
    pub links: Vec<(u32, u32, i64)>,
    pub ships: Vec<GShip>,
    pub events: u64,
    pub finished_items: HashSet<String>,
}

impl Graph {
    pub fn read(store: &Store) -> Graph {
        let finished_items: HashSet<String> = store
            .items()
            .expect("items")
            .into_iter()
            .filter(|i| i.kind == ItemKind::Finished)
            .map(|i| i.code.to_string())
            .collect();
        let mut lots: Vec<Option<GLot>> = vec![None];
        store
            .for_each_lot(|l| {
                let i = l.id.0 as usize;
                if lots.len() <= i {
                    lots.resize_with(i + 1, || None);
                }
                lots[i] = Some(GLot {
                    code: l.code.to_string(),
                    item: l.item.to_string(),
                    qty: l.quantity.milli(),
                    balance: l.balance.milli(),
                    unit: l.unit.as_str(),
                    date: l.date.to_string(),
                    status: l.status.as_str(),
                    received: matches!(l.origin, Origin::Received { .. }),
                });
                Ok(())
            })
            .expect("lots");
        let mut links = Vec::new();
        store
            .for_each_link(|i, o, q| {
                links.push((i.0, o.0, q.milli()));
                Ok(())
            })
            .expect("links");
        let mut ships = Vec::new();
        let mut events = 0;
        store
            .for_each_event(|e, voided| {
                events += 1;
                if voided.is_none()
                    && let EventKind::Ship(s) = &e.kind
                {
                    for line in &s.lines {
                        ships.push(GShip {
                            event: e.id,
                            lot: line.lot.0,
                            customer: s.customer.to_string(),
                            date: e.date.to_string(),
                            qty: line.qty.milli(),
                            reference: e.reference.as_ref().map(|r| r.to_string()),
                        });
                    }
                }
                Ok(())
            })
            .expect("events");
        Graph {
            lots,
            links,
            ships,
            events,
            finished_items,
        }
    }

    pub fn to_sqlite(&self, path: &Path) -> Connection {
        let _ = std::fs::remove_file(path);
        let mut c = Connection::open(path).expect("sqlite open");
        c.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
             CREATE TABLE lots(id INTEGER PRIMARY KEY, code TEXT NOT NULL, item TEXT NOT NULL,
                 qty INTEGER NOT NULL, unit TEXT NOT NULL, date TEXT NOT NULL,
                 status TEXT NOT NULL, balance INTEGER NOT NULL);
             CREATE TABLE links(input INTEGER NOT NULL, output INTEGER NOT NULL,
                 qty INTEGER NOT NULL);
             CREATE TABLE shipments(event INTEGER NOT NULL, lot INTEGER NOT NULL,
                 customer TEXT NOT NULL, date TEXT NOT NULL, qty INTEGER NOT NULL,
                 reference TEXT);",
        )
        .expect("schema");
        let tx = c.transaction().expect("tx");
        {
            let mut ins = tx
                .prepare("INSERT INTO lots VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
                .expect("prep");
            for (id, l) in self.lots.iter().enumerate() {
                if let Some(l) = l {
                    ins.execute(params![
                        id as i64, l.code, l.item, l.qty, l.unit, l.date, l.status, l.balance
                    ])
                    .expect("insert lot");
                }
            }
            let mut ins = tx
                .prepare("INSERT INTO links VALUES (?1, ?2, ?3)")
                .expect("prep");
            for (i, o, q) in &self.links {
                ins.execute(params![i, o, q]).expect("insert link");
            }
            let mut ins = tx
                .prepare("INSERT INTO shipments VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .expect("prep");
            for s in &self.ships {
                ins.execute(params![
                    s.event as i64,
                    s.lot,
                    s.customer,
                    s.date,
                    s.qty,
                    s.reference
                ])
                .expect("insert shipment");
            }
        }
        tx.commit().expect("commit");
        // Covering indexes both ways, as a careful SQLite design would have them.
        c.execute_batch(
            "CREATE UNIQUE INDEX lots_code ON lots(code);
             CREATE INDEX links_fwd ON links(input, output, qty);
             CREATE INDEX links_rev ON links(output, input, qty);
             CREATE INDEX shipments_lot ON shipments(lot);
             CREATE INDEX lots_item ON lots(item);
             ANALYZE;
             PRAGMA cache_size = -65536;",
        )
        .expect("indexes");
        c
    }
}

pub fn sqlite_sql(dir: Direction) -> &'static str {
    // One statement: the reachable set once, then its lots, links and shipments. CROSS
    // JOIN is SQLite's way of fixing the join order: without it the planner guesses the
    // reachable set is large and scans every lot and link against a Bloom filter.
    const FORWARD: &str = "
        WITH RECURSIVE reach(id) AS (
            SELECT id FROM lots WHERE code = ?1
            UNION
            SELECT l.output FROM links l JOIN reach r ON l.input = r.id)
        SELECT 0, lots.id, lots.qty, lots.balance, lots.code, lots.item, lots.date
            FROM reach CROSS JOIN lots ON lots.id = reach.id
        UNION ALL
        SELECT 1, l.input, l.output, l.qty, NULL, NULL, NULL
            FROM reach CROSS JOIN links l ON l.input = reach.id
        UNION ALL
        SELECT 2, s.event, s.lot, s.qty, s.customer, s.date, s.reference
            FROM reach CROSS JOIN shipments s ON s.lot = reach.id";
    const BACKWARD: &str = "
        WITH RECURSIVE reach(id) AS (
            SELECT id FROM lots WHERE code = ?1
            UNION
            SELECT l.input FROM links l JOIN reach r ON l.output = r.id)
        SELECT 0, lots.id, lots.qty, lots.balance, lots.code, lots.item, lots.date
            FROM reach CROSS JOIN lots ON lots.id = reach.id
        UNION ALL
        SELECT 1, l.input, l.output, l.qty, NULL, NULL, NULL
            FROM reach CROSS JOIN links l ON l.output = reach.id";
    if dir == Direction::Backward {
        BACKWARD
    } else {
        FORWARD
    }
}
