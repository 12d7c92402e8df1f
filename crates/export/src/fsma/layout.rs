//! The columns of FDA's three sheets: first the template's, in the template's order (each
//! composite KDE split into its parts), then lotline's own (internal lot codes, stock
//! quantities, item codes, GTINs, GLNs, event ids), so every template column sits where
//! a reviewer sorting or pasting by position expects it.
//!
//! The template, sheet by sheet:
//! - Receiving: traceability lot code, product description, quantity and unit, the
//!   immediate previous source (shipped-from location), the receiving location, the date
//!   received, the TLC source (its location description, or the TLC source reference),
//!   and the reference documents (type and number).
//! - Transformation: the new traceability lot code, its product description, quantity and
//!   unit, the transformation location, the date completed, the TLC source reference, then
//!   for each food used its traceability lot code, product description, quantity and unit;
//!   and the reference documents.
//! - Shipping: traceability lot code, quantity and unit, product description, the
//!   immediate subsequent recipient (ship-to), the ship-from location, the date shipped,
//!   the TLC source (location description or reference), and the reference documents.
//!
//! Each row builder in `super` pushes its cells in exactly this order (`Row`), so a
//! column added here without its cell fails the row-length tests.

use super::Sheet;

/// A location description's parts as FSMA defines it (§1.1310: business name, phone
/// number, physical address); the GLN, which is not one of them, is among lotline's columns.
pub(super) const LOCATION: [&str; 7] = [
    "business name",
    "phone",
    "street address",
    "city",
    "state",
    "ZIP",
    "country",
];

/// A product description's parts as FSMA defines it (§1.1310).
pub(super) const PRODUCT: [(&str, &str); 6] = [
    ("product name", "the food's name as we describe it"),
    ("brand", "brand name, when it has one"),
    ("commodity", "the commodity, e.g. shell eggs, soft cheese"),
    ("variety", "variety, e.g. Romaine"),
    ("packaging size", "pack size, e.g. 12 x 200 g"),
    ("packaging style", "pack style, e.g. carton, bag, case"),
];

pub(super) const TLC_SOURCE: &str =
    "TLC source location (where the traceability lot code was assigned)";

/// How many reference documents a row has room for: FDA's template has two (a bill of
/// lading and a purchase order, say).
pub(super) const REFERENCES: usize = 2;

/// A sheet's columns as they are laid down.
struct Columns(Vec<(String, String)>);

impl Columns {
    fn col(&mut self, title: &str, meaning: &str) -> &mut Self {
        self.0.push((title.to_string(), meaning.to_string()));
        self
    }

    fn location(&mut self, prefix: &str, meaning: &str) -> &mut Self {
        for f in LOCATION {
            self.col(&format!("{prefix} {f}"), &format!("{meaning}: {f}"));
        }
        self
    }

    fn product(&mut self, prefix: &str) -> &mut Self {
        for (f, m) in PRODUCT {
            let title = if prefix.is_empty() {
                capitalised(f)
            } else {
                format!("{prefix} {f}")
            };
            self.col(&title, m);
        }
        self
    }

    fn references(&mut self, documents: &str) -> &mut Self {
        for n in 1..=REFERENCES {
            let which = if n == 1 { "first" } else { "second" };
            self.col(
                &format!("Reference document {n} type"),
                &format!("the {which} document {documents}"),
            );
            self.col(
                &format!("Reference document {n} number"),
                &format!("the {which} document's number"),
            );
        }
        self
    }

    fn item_ids(&mut self, prefix: &str) -> &mut Self {
        let (code, gtin) = if prefix.is_empty() {
            ("Item code".to_string(), "GTIN".to_string())
        } else {
            (format!("{prefix} item code"), format!("{prefix} GTIN"))
        };
        self.col(&code, "our item code for the food");
        self.col(&gtin, "the GS1 trade item number, when the item has one")
    }

    fn gln(&mut self, prefix: &str, of: &str) -> &mut Self {
        self.col(
            &format!("{prefix} GLN"),
            &format!("the GS1 Global Location Number of {of}, when recorded"),
        )
    }

    fn no_document(&mut self) -> &mut Self {
        self.col(
            "No reference document because",
            "when the event was recorded without any reference document: the reason given then",
        )
    }

    fn sheet(&mut self, name: &'static str, file: &'static str) -> Sheet {
        Sheet {
            name,
            file,
            columns: std::mem::take(&mut self.0),
            rows: Vec::new(),
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

pub(super) const RECEIPT_FROM_SUPPLIER: &str = "from supplier";
pub(super) const RECEIPT_CUSTOMER_RETURN: &str = "customer return";

pub(super) fn receiving_sheet() -> Sheet {
    Columns(Vec::new())
        .col(
            "Traceability lot code",
            "the TLC the supplier assigned, exactly as on its label (§1.1345(a)(1)); for a customer return, the TLC the food was shipped under",
        )
        .product("")
        .col(
            "Quantity received",
            "the quantity as counted at the dock, in the unit it was received in",
        )
        .col(
            "Unit of measure",
            "the unit it was received in (kg, lb, case, …)",
        )
        .location(
            "Immediate previous source",
            "the location description of who we received it from (the customer, for a return)",
        )
        .location(
            "Receiving location",
            "the location description of where we received it (our plant)",
        )
        .col(
            "Date received",
            "the business day it was received (a date cell, shown YYYY-MM-DD)",
        )
        .location("TLC source", TLC_SOURCE)
        .col(
            "TLC source reference",
            "instead of the TLC source location: how FDA can find it (a GLN, FDA registration number or web address), for lots bought through a distributor",
        )
        .references(
            "the receipt was recorded against: BOL (bill of lading), PO (purchase order), INV (invoice), ASN (advance ship notice), …; for a customer return its return document (RMA, credit note) when one was recorded, else the document of the shipment it came back from",
        )
        // lotline's own columns.
        .col(
            "Internal lot code",
            "the lot code we gave the received lot (what our labels and records use); for a customer return, its return lot",
        )
        .col(
            "Quantity stocked",
            "the same quantity in the unit we keep the item in",
        )
        .col("Stock unit", "the unit we keep the item in")
        .item_ids("")
        .gln("Immediate previous source", "who we received it from")
        .gln("Receiving location", "our plant")
        .gln("TLC source", "the TLC source")
        .col("Event id", "lotline's record number of the receipt")
        .col(
            "Receipt type",
            "\"from supplier\" for food bought in; \"customer return\" for our food a customer sent back, received into a lot of its own (on hold until QA decides): the customer is then the immediate previous source and the TLC the one it was shipped under",
        )
        .col(
            "Return of shipment",
            "for a customer return: the Event id of the shipment it came back from (its row on the Shipping sheet); blank otherwise",
        )
        .col(
            "Return reason",
            "for a customer return: the reason recorded, when one was given",
        )
        .no_document()
        .sheet("Receiving", "receiving.csv")
}

pub(super) fn transformation_sheet() -> Sheet {
    Columns(Vec::new())
        .col(
            "New traceability lot code",
            "the TLC we assigned to the batch's output (§1.1350); every row of one batch has the same",
        )
        .product("New")
        .col("New quantity", "how much the batch made")
        .col("New unit of measure", "the output's unit")
        .location(
            "Transformation location",
            "where the batch was made (our plant), also the new lot's TLC source",
        )
        .col(
            "Date completed",
            "the business day the batch was made (a date cell, shown YYYY-MM-DD)",
        )
        .col(
            "TLC source reference",
            "how FDA can find the new lot's TLC source, our plant: its GLN, when the plant has one",
        )
        .col(
            "Input traceability lot code",
            "the TLC of a food used: the supplier's for a received lot, ours for one we made",
        )
        .product("Input")
        .col(
            "Input quantity used",
            "how much of the input lot went into the batch",
        )
        .col("Input unit of measure", "the input lot's unit")
        .references("the batch was recorded against: WO (work order), BATCH, …")
        // lotline's own columns.
        .col(
            "New internal lot code",
            "our lot code of the output (the same as its TLC: we assign both)",
        )
        .item_ids("New")
        .col("Input internal lot code", "our lot code of the lot used")
        .item_ids("Input")
        .gln("Transformation location", "our plant")
        .col(
            "Event id",
            "lotline's record number of the batch: every row of one batch has the same",
        )
        .col(
            "Production line",
            "the line it was made on, when recorded",
        )
        .no_document()
        .sheet("Transformation", "transformation.csv")
}

pub(super) fn shipping_sheet() -> Sheet {
    Columns(Vec::new())
        .col(
            "Traceability lot code",
            "the TLC of the lot shipped: ours for a lot we made, the supplier's for one we ship as received (§1.1340(a)(1))",
        )
        .col("Quantity", "the quantity shipped")
        .col("Unit of measure", "its unit")
        .product("")
        .location(
            "Immediate subsequent recipient",
            "the location description of who we shipped it to",
        )
        .location(
            "Ship-from location",
            "the location description of where it was shipped from (our plant)",
        )
        .col(
            "Date shipped",
            "the business day it was shipped (a date cell, shown YYYY-MM-DD)",
        )
        .location("TLC source", TLC_SOURCE)
        .col(
            "TLC source reference",
            "instead of the TLC source location, for a received lot whose lot code was assigned by the packer behind a distributor",
        )
        .references("the shipment was recorded against: BOL, INV, ASN, …")
        // lotline's own columns.
        .col("Internal lot code", "our lot code of the lot shipped")
        .item_ids("")
        .gln("Immediate subsequent recipient", "who we shipped it to")
        .gln("Ship-from location", "our plant")
        .gln("TLC source", "the TLC source")
        .col(
            "Event id",
            "lotline's record number of the shipment: every line of one shipment has the same",
        )
        .no_document()
        .sheet("Shipping", "shipping.csv")
}
