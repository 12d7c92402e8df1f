//! What leaves lotline for other systems: printer labels, the FSMA 204 spreadsheet, EPCIS
//! documents, recall paperwork. Sheets go through one writer (`sheet`), files through
//! one way of making a new file (`file`).

pub mod epcis;
pub mod file;
pub mod fsma;
pub mod label;
pub mod mock;
pub mod recall;
pub mod sheet;
pub mod yields;
