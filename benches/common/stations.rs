//! Stations that stay connected to `lotline serve` (as the app on each terminal does),
//! each sending receipts back to back over its own socket: the load `benches/whole.rs`
//! and `benches/server.rs` put on the server.
#![allow(dead_code)]

use lotline_domain::*;
use lotline_station::StationExt;
use lotline_station::remote::Remote;
use std::path::Path;
use std::time::Instant;

/// `stations` connections at once, each acknowledging `each` receipts made by
/// `receipt(station, n, today)`; every receipt's latency in ms, and the seconds it all took.
pub fn receipts_from_stations(
    socket: &Path,
    stations: usize,
    each: usize,
    receipt: &(dyn Fn(usize, usize, chrono::NaiveDate) -> NewReceipt + Sync),
) -> (Vec<f64>, f64) {
    let t0 = Instant::now();
    let lat: Vec<f64> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..stations)
            .map(|c| {
                sc.spawn(move || {
                    let st = Remote::connect(socket, &format!("bench-{c}")).expect("connect");
                    let today = st.today().expect("today");
                    (0..each)
                        .map(|n| {
                            let r = receipt(c, n, today);
                            let t = Instant::now();
                            st.receive(r).expect("receive");
                            t.elapsed().as_secs_f64() * 1e3
                        })
                        .collect::<Vec<f64>>()
                })
            })
            .collect();
        hs.into_iter()
            .flat_map(|h| h.join().expect("station"))
            .collect()
    });
    (lat, t0.elapsed().as_secs_f64())
}

/// A plain receipt of `qty` of `item` from `supplier` under `supplier_lot`.
pub fn receipt(
    item: &str,
    supplier: &str,
    supplier_lot: &str,
    qty: i64,
    today: chrono::NaiveDate,
) -> NewReceipt {
    NewReceipt {
        item: ItemCode::parse(item, "item").expect("item"),
        supplier: PartyId::parse(supplier, "supplier").expect("supplier"),
        supplier_lot: SupplierLot::parse(supplier_lot, "supplier-lot").expect("lot"),
        qty: Qty::from_units(qty),
        unit: None,
        date: today,
        expiry: None,
        reference: None,
        documents: Default::default(),
        quality: Quality::default(),
        tlc_source_ref: None,
    }
}
