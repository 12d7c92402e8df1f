//! The reference document fields the receive, produce and ship forms share: the first
//! document, a second one (FDA's template has room for two, such as a bill of lading and a
//! purchase order), and, for a food on the Food Traceability List recorded without any,
//! why there is none (the station refuses it otherwise, naming the `ref` field).

use super::Checks;
use crate::form::{Field, Form};
use lotline_domain::{Documents, Reference, required_text};

/// The fields after the first reference (`ref`): `ref2` and `no-ref`.
pub fn more_fields(second_example: &str) -> [Field; 2] {
    [
        Field::new("ref2", "Reference 2").placeholder(second_example),
        Field::new("no-ref", "Why no ref").placeholder("if none at all"),
    ]
}

/// The first reference and the rest, as the form holds them (each problem kept in `c`).
pub fn read(form: &Form, c: &mut Checks) -> (Option<Option<Reference>>, Option<Documents>) {
    let opt = |n: &str| form.get(n).opt().map(str::to_string);
    let first = c.take(opt("ref").map(|r| Reference::parse(&r, "ref")).transpose());
    let second = c.take(
        opt("ref2")
            .map(|r| Reference::parse(&r, "ref2"))
            .transpose(),
    );
    let because = c.take(
        opt("no-ref")
            .map(|r| required_text(&r, "no-ref", lotline_domain::REASON_MAX))
            .transpose(),
    );
    let docs = match (second, because) {
        (Some(second), Some(none_because)) => Some(Documents {
            second,
            none_because,
        }),
        _ => None,
    };
    (first, docs)
}
