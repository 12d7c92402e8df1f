//! A full disk, played through the station: the file stays consistent, nothing
//! acknowledged is lost, the failure says what to do, and the next write after space
//! returns succeeds in the same process. The disk is `lotline_store::full_disk`.
//! A few rounds in the fast tier, 60 in the slow one (`cargo test -- --ignored`).

use crate::local::Clock;
use crate::{ErrorKind, Local, StationExt};
use lotline_domain::*;
use lotline_store::full_disk::{self, Disk};
use lotline_store::{Store, backup, test_util};
use std::path::Path;

struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_new_plant_on_a_full_disk_is_made_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Disk::new();
    let (mut refused, mut made) = (0, 0);
    for (n, budget) in [0u64, 1, 4096, 20_000, 300_000, 1 << 20, 1 << 22]
        .into_iter()
        .enumerate()
    {
        let path = dir.path().join(format!("plant-{n}.redb"));
        disk.fill_up_after(budget);
        match full_disk::open(&path, true, &disk) {
            Err(e) => {
                refused += 1;
                let text = e.to_string();
                assert!(text.contains("No space left"), "{budget}: {text}");
                assert!(text.contains("nothing was written"), "{budget}: {text}");
                // No half-made file that every later command would call "not a lotline
                // database", and nothing left beside it.
                assert!(!path.exists(), "{budget}: a file was left at {path:?}");
                assert!(
                    names_in(dir.path()).iter().all(|f| !f.starts_with('.')),
                    "{budget}: {:?}",
                    names_in(dir.path())
                );
                // With space back, the same command makes the plant.
                disk.free_space();
                full_disk::open(&path, true, &disk)
                    .unwrap()
                    .close()
                    .unwrap();
            }
            Ok(s) => {
                made += 1;
                s.close().unwrap();
            }
        }
        disk.free_space();
        let s = Store::open(&path, false).unwrap();
        assert!(s.check().unwrap().problems.is_empty());
        s.close().unwrap();
        assert_eq!(backup::redb_integrity(&path), None);
    }
    assert!(refused >= 3 && made >= 1, "refused {refused}, made {made}");
}

fn receipt(n: u64) -> NewReceipt {
    NewReceipt {
        item: ItemCode::parse("FLOUR", "item").unwrap(),
        supplier: PartyId::parse("MILL", "supplier").unwrap(),
        supplier_lot: SupplierLot::parse(&format!("M-{n}"), "supplier-lot").unwrap(),
        qty: Qty::from_units(100),
        unit: None,
        date: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
        expiry: None,
        reference: None,
        documents: Default::default(),
        quality: Quality::default(),
        // Notes make records of many sizes, so commits need more or fewer pages.
        tlc_source_ref: None,
    }
}

use chrono::NaiveDate;

fn lot_codes(st: &Local) -> Result<BTreeSet<String>, crate::StationError> {
    Ok(st
        .lots(LotFilter::default())?
        .into_iter()
        .map(|l| l.code.to_string())
        .collect())
}

use std::collections::BTreeSet;

#[test]
fn a_full_disk_loses_nothing_and_the_next_write_after_space_returns_succeeds() {
    full_disk_rounds(10);
}

#[test]
#[ignore = "slow tier: cargo test -- --ignored"]
fn a_full_disk_loses_nothing_in_60_rounds() {
    full_disk_rounds(60);
}

fn full_disk_rounds(rounds: u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plant.redb");
    let disk = Disk::new();
    let st = Local::new(
        full_disk::open(&path, true, &disk).unwrap(),
        "ana",
        "dock-1",
    )
    .with_clock(Clock::Fixed("2026-11-21T09:00:00Z".parse().unwrap()));
    test_util::add_item(st.store(), "FLOUR", Unit::Kg, ItemKind::Ingredient);
    test_util::add_party(st.store(), "MILL", Role::Supplier);
    let mut acked: BTreeSet<String> = BTreeSet::new();
    let mut rng = Lcg(20261201);
    let (mut failed, mut full_reads) = (0u64, 0u64);
    for round in 0..rounds {
        // Sometimes plenty of room (the plant grows), mostly a disk that fills up at some
        // point of the commit: before it, in its pages, in its header.
        let budget = match rng.below(4) {
            0 => rng.below(64),
            1 => rng.below(8192),
            2 => rng.below(200_000),
            _ => u64::MAX,
        };
        disk.fill_up_after(budget);
        let before = disk.refused();
        match st.receive(receipt(round)) {
            Ok(c) => {
                acked.insert(c.code.to_string());
            }
            Err(e) => {
                failed += 1;
                assert!(
                    disk.refused() > before,
                    "round {round}: failed with the disk not full: {e}"
                );
                assert_eq!(e.kind, ErrorKind::Database, "round {round}: {e}");
                assert!(
                    e.message.contains("the disk is full")
                        || e.message.contains("could not be opened again"),
                    "round {round}: {e}"
                );
                assert!(e.message.contains("free space"), "round {round}: {e}");
                // A full disk is not damage: the file is not given up on.
                assert!(!st.store().is_damaged(), "round {round}: marked damaged");
                // While the disk is still full a read may fail (redb must recover the
                // file first, which writes); if it answers, it answers right.
                if let Ok(now) = lot_codes(&st) {
                    full_reads += 1;
                    assert!(now.is_superset(&acked), "round {round}");
                }
            }
        }
        // Space comes back: the same station reads everything and writes again, no
        // restart. What failed was not saved; what was acknowledged is all there.
        disk.free_space();
        let now = lot_codes(&st).unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(now, acked, "round {round} (budget {budget})");
        if round % 10 == 9 {
            let report = st.check().unwrap();
            assert!(report.problems.is_empty(), "round {round}: {report:?}");
        }
    }
    // And a receipt after the last round goes through at once.
    acked.insert(st.receive(receipt(rounds)).unwrap().code.to_string());
    assert!(
        failed >= rounds / 4,
        "only {failed} of {rounds} writes met a full disk"
    );
    st.close().unwrap();
    // The file, opened afresh: redb's integrity check and lotline's both clean.
    assert_eq!(backup::redb_integrity(&path), None);
    let s = Store::open(&path, false).unwrap();
    assert!(s.check().unwrap().problems.is_empty());
    let codes: BTreeSet<String> = s
        .find_lots(&LotFilter::default())
        .unwrap()
        .into_iter()
        .map(|l| l.code.to_string())
        .collect();
    assert_eq!(codes, acked);
    s.close().unwrap();
    eprintln!(
        "full disk: {rounds} rounds, {failed} writes refused for want of space ({} refused I/O calls), {full_reads} reads answered while full, {} lots acknowledged, all present, check clean",
        disk.refused(),
        acked.len()
    );
}
