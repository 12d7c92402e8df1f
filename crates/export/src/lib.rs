//! What leaves lotline for other systems: printer labels now; the FSMA 204 spreadsheet and
//! EPCIS documents as they land.

pub mod epcis;
pub mod file;
pub mod fsma;
pub mod label;
pub mod recall;
