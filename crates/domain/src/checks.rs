//! What every request is checked for on the side that owns the database, from the bytes
//! it received: the rules and bounds the front ends' parsers apply to what people type,
//! applied again to values that arrive already built (a crafted frame on the server's
//! socket skips every parser a client has). Codes, GTINs, GLNs and patterns check
//! themselves when they are decoded (`#[serde(try_from)]`); the rest is checked here, one
//! `check` per request type, so that a record read back from the file — which an older
//! lotline may have written with values these rules now refuse — still decodes.
//!
//! Text is checked as it was sent, edges included: the parsers look at trimmed text, but
//! a value that arrives built is stored as it arrived.

use super::*;
use chrono::NaiveDate;

/// Names, descriptions, addresses, contacts: one line each (`--name`, `--brand`, `--city`…).
pub const NAME_MAX: usize = 100;
/// Why something was corrected, held, voided or retired (`--reason`).
pub const REASON_MAX: usize = 200;
/// A receiving note, a mock recall's note (`--note`).
pub const NOTE_MAX: usize = 500;
/// A note on one count of a mock recall (`mock-recall count --note`).
pub const COUNT_NOTE_MAX: usize = 200;
/// A production line (`produce --line`).
pub const LINE_MAX: usize = 40;
/// What a mock recall was started from, as typed or scanned.
pub const ASKED_AS_MAX: usize = 100;
/// Text a query searches for (a supplier's lot code as scanned, a TLC for an FDA request),
/// and a shipment named by its id or reference document.
pub const SEARCH_MAX: usize = 200;
/// A user name: what the kernel's user database holds (`--operator`, `--qa-users`).
pub const USER_MAX: usize = 64;
/// Input lots of one batch, lots of one shipment: a command line names each with a flag.
pub const MAX_LINES: usize = 1_000;
/// Lots held at once (`hold-all`): a recall scope's stock, which can be large.
pub const MAX_HOLD_LOTS: usize = 100_000;
/// QA users of a plant.
pub const MAX_QA_USERS: usize = 1_000;
/// Items one query names (`fsma --item`, `epcis export --item`).
pub const MAX_ITEMS_ASKED: usize = 10_000;
/// The EPCIS file or document an import came from, as kept with each imported event.
pub const SOURCE_MAX: usize = 200;
/// An EPCIS event's id (a URI, or `lotline-content-sha256:` and 64 hex digits), with the
/// `#N` a multi-lot event's later records carry.
pub const EVENT_ID_MAX: usize = 600;
/// An EPCIS event's time and place, kept as the document gave them (shortened).
pub const EVENT_FIELD_MAX: usize = 100;
/// Why the client could not map an EPCIS event, as reported back with the import.
pub const UNMAPPED_REASON_MAX: usize = 500;

/// Plain text of at most `max` characters with no control, bidi or invisible character
/// anywhere in it: what [`clean_text`] accepts, checked on the text as sent. Empty is fine.
pub fn check_text(text: &str, field: &str, max: usize) -> Result<(), Invalid> {
    // Bytes first: a megabyte of text is refused without counting its characters.
    if text.len() > max * 4 || text.chars().count() > max {
        return Err(Invalid::new(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    clean_text(text, field, max)?;
    if let Some(c) = text.chars().find(|&c| super::text::is_unsafe(c)) {
        return Err(Invalid::new(
            field,
            format!("contains {}; type plain text", super::text::describe(c)),
        ));
    }
    Ok(())
}

/// [`check_text`], and not blank: what [`required_text`] accepts.
pub fn check_required(text: &str, field: &str, max: usize) -> Result<(), Invalid> {
    check_text(text, field, max)?;
    required_text(text, field, max).map(drop)
}

/// A quantity the command line could have typed: every `Qty` but one (the most negative,
/// which has no decimal spelling).
pub fn check_qty(q: Qty, field: &str) -> Result<(), Invalid> {
    if q.to_string().parse::<Qty>() != Ok(q) {
        return Err(Invalid::new(
            field,
            format!(
                "{q} is not a quantity lotline can write; use a number with at most 3 decimals"
            ),
        ));
    }
    Ok(())
}

/// A quantity that must be more than zero, as [`Qty::parse_positive`] takes it.
pub fn check_positive(q: Qty, field: &str) -> Result<(), Invalid> {
    check_qty(q, field)?;
    if !q.is_positive() {
        return Err(Invalid::new(
            field,
            format!("must be greater than zero (got {q})"),
        ));
    }
    Ok(())
}

/// A recorded date: a year lotline keeps (0001–9999), as [`parse_date`] takes it.
pub fn check_date(d: NaiveDate, field: &str) -> Result<(), Invalid> {
    check_year(d, field)
}

fn check_opt_date(d: Option<NaiveDate>, field: &str) -> Result<(), Invalid> {
    d.map_or(Ok(()), |d| check_date(d, field))
}

/// No more than `max` entries, named as the command line would.
pub fn check_count(n: usize, field: &str, max: usize, what: &str) -> Result<(), Invalid> {
    if n > max {
        return Err(Invalid::new(
            field,
            format!(
                "{} {what} is more than one request takes ({}); split it",
                super::words::thousands(n),
                super::words::thousands(max)
            ),
        ));
    }
    Ok(())
}

/// A Unix user name as the system's user database holds it.
pub fn check_user(name: &str, field: &str) -> Result<(), Invalid> {
    if name.is_empty()
        || name.len() > USER_MAX
        || name
            .chars()
            .any(|c| super::text::is_unsafe(c) || c.is_whitespace() || c == ',')
    {
        return Err(Invalid::new(
            field,
            format!("{} is not a user name", super::text::excerpt(name)),
        ));
    }
    Ok(())
}

impl Reference {
    /// As [`Reference::parse`] would have made it from its own `TYPE:NUMBER`: a document
    /// type of up to 12 letters, digits, `-` or `_` in capitals, and a number of up to 40
    /// plain characters with no space at either end.
    pub fn check(&self, field: &str) -> Result<(), Invalid> {
        // Bounded before it is parsed: the parser's excerpt of a long value is bounded too,
        // but the text is built first.
        if self.kind.len() > 12 * 4 || self.number.len() > MAX_CODE_LEN * 4 {
            return Err(Invalid::new(
                field,
                format!(
                    "is not a document type and number ({} and {} bytes); use TYPE:NUMBER such as BOL:4471",
                    self.kind.len(),
                    self.number.len()
                ),
            ));
        }
        let parsed = Reference::parse(&format!("{}:{}", self.kind, self.number), field)?;
        if &parsed != self {
            return Err(Invalid::new(
                field,
                format!(
                    "{} is not written as lotline writes it ({}); send it as parsed",
                    super::text::excerpt(format!("{}:{}", self.kind, self.number)),
                    parsed
                ),
            ));
        }
        Ok(())
    }
}

fn check_ref(r: &Option<Reference>, field: &str) -> Result<(), Invalid> {
    r.as_ref().map_or(Ok(()), |r| r.check(field))
}

fn check_docs(first: &Option<Reference>, docs: &Documents) -> Result<(), Invalid> {
    check_ref(first, "ref")?;
    check_ref(&docs.second, "ref")?;
    docs.check_with(first.as_ref())
}

fn check_temperature(dc: i32, field: &str) -> Result<(), Invalid> {
    if parse_temperature(&format_temperature(dc), field) != Ok(dc) {
        return Err(Invalid::new(
            field,
            format!(
                "{} °C is not a plausible product temperature (-60 to 100)",
                format_temperature(dc)
            ),
        ));
    }
    Ok(())
}

impl Quality {
    pub fn check(&self) -> Result<(), Invalid> {
        if let Some(dc) = self.temperature_dc {
            check_temperature(dc, "temp")?;
        }
        check_text(&self.note, "note", NOTE_MAX)
    }
}

impl TempRange {
    /// Each end a temperature the command line takes, the lower not above the upper.
    pub fn check(&self) -> Result<(), Invalid> {
        if let Some(lo) = self.min_dc {
            check_temperature(lo, "temp-min")?;
        }
        if let Some(hi) = self.max_dc {
            check_temperature(hi, "temp-max")?;
        }
        self.validate()
    }
}

fn check_tlc_source_ref(r: &Option<String>, field: &str) -> Result<(), Invalid> {
    let Some(r) = r else { return Ok(()) };
    check_text(r, field, NAME_MAX)?;
    // Blank means none: sent as `None`, never as an empty reference.
    if parse_tlc_source_ref(r, field)?.is_none() {
        return Err(Invalid::new(field, "is blank; send none instead"));
    }
    Ok(())
}

impl ProductDescription {
    pub fn check(&self) -> Result<(), Invalid> {
        check_required(&self.name, "name", NAME_MAX)?;
        for (v, f) in [
            (&self.brand, "brand"),
            (&self.commodity, "commodity"),
            (&self.variety, "variety"),
            (&self.pack_size, "pack-size"),
            (&self.pack_style, "pack-style"),
        ] {
            check_text(v, f, NAME_MAX)?;
        }
        Ok(())
    }
}

impl NewItem {
    pub fn check(&self) -> Result<(), Invalid> {
        self.description.check()?;
        if let Some(days) = self.shelf_life_days
            && !(1..=3650).contains(&days)
        {
            return Err(Invalid::new(
                "shelf-life",
                format!("{days} days is not a shelf life; use 1 to 3650 days"),
            ));
        }
        self.receiving_temp.check()
    }
}

impl Location {
    /// The business name required, the rest optional; each one line of plain text.
    pub fn check(&self) -> Result<(), Invalid> {
        check_required(&self.business_name, "name", NAME_MAX)?;
        for (v, f) in [
            (&self.phone, "phone"),
            (&self.street, "street"),
            (&self.city, "city"),
            (&self.state, "state"),
            (&self.zip, "zip"),
            (&self.country, "country"),
        ] {
            check_text(v, f, NAME_MAX)?;
        }
        super::party::check_postal_code(&self.zip, &self.country, "zip")
    }
}

impl NewParty {
    pub fn check(&self) -> Result<(), Invalid> {
        self.location.check()?;
        let c = &self.recall_contact;
        check_text(&c.name, "contact-name", NAME_MAX)?;
        check_text(&c.phone, "contact-phone", NAME_MAX)?;
        check_text(&c.email, "contact-email", NAME_MAX)?;
        super::party::check_email(&c.email, "contact-email")
    }
}

impl Plant {
    /// [`Plant::validate`], on the text as sent, and a bounded QA list.
    pub fn check(&self) -> Result<(), Invalid> {
        self.location.check()?;
        check_count(self.qa_users.len(), "qa-users", MAX_QA_USERS, "QA users")?;
        for u in &self.qa_users {
            check_user(u, "qa-users")?;
        }
        self.validate()
    }
}

impl LotLine {
    fn check(&self, field: &str) -> Result<(), Invalid> {
        check_positive(self.qty, field)
    }
}

fn check_lines(lines: &[LotLine], field: &str, what: &str) -> Result<(), Invalid> {
    check_count(lines.len(), field, MAX_LINES, what)?;
    for (i, l) in lines.iter().enumerate() {
        let name = if lines.len() == 1 {
            field.to_string()
        } else {
            format!("{field} {}", i + 1)
        };
        l.check(&name)?;
    }
    Ok(())
}

impl NewReceipt {
    pub fn check(&self) -> Result<(), Invalid> {
        check_positive(self.qty, "qty")?;
        check_date(self.date, "date")?;
        check_opt_date(self.expiry, "expiry")?;
        check_docs(&self.reference, &self.documents)?;
        self.quality.check()?;
        check_tlc_source_ref(&self.tlc_source_ref, "tlc-source-ref")
    }
}

impl NewBatch {
    pub fn check(&self) -> Result<(), Invalid> {
        check_positive(self.qty, "qty")?;
        check_date(self.date, "date")?;
        if let Some(line) = &self.line {
            check_required(line, "line", LINE_MAX)?;
        }
        check_docs(&self.reference, &self.documents)?;
        check_opt_date(self.expiry, "expiry")?;
        check_lines(&self.inputs, "input", "input lots")
    }
}

impl NewShipment {
    pub fn check(&self) -> Result<(), Invalid> {
        check_date(self.date, "date")?;
        check_docs(&self.reference, &self.documents)?;
        check_lines(&self.lines, "lot", "lots")
    }
}

impl Adjustment {
    pub fn check(&self) -> Result<(), Invalid> {
        check_qty(self.delta, "qty")?;
        check_date(self.date, "date")?;
        check_required(&self.reason, "reason", REASON_MAX)
    }
}

impl StatusChange {
    pub fn check(&self) -> Result<(), Invalid> {
        check_date(self.date, "date")?;
        check_required(&self.reason, "reason", REASON_MAX)
    }
}

impl VoidEvent {
    pub fn check(&self) -> Result<(), Invalid> {
        check_date(self.date, "date")?;
        check_required(&self.reason, "reason", REASON_MAX)
    }
}

impl HoldAll {
    pub fn check(&self) -> Result<(), Invalid> {
        check_count(self.lots.len(), "lot", MAX_HOLD_LOTS, "lots")?;
        check_date(self.date, "date")?;
        check_required(&self.reason, "reason", REASON_MAX)
    }
}

impl NewReturn {
    pub fn check(&self) -> Result<(), Invalid> {
        check_text(&self.shipment, "shipment", SEARCH_MAX)?;
        check_positive(self.qty, "qty")?;
        check_date(self.date, "date")?;
        check_text(&self.reason, "reason", REASON_MAX)?;
        check_ref(&self.reference, "ref")
    }
}

impl StartMockRecall {
    pub fn check(&self) -> Result<(), Invalid> {
        check_text(&self.asked_as, "lot", ASKED_AS_MAX)?;
        check_text(&self.note, "note", NOTE_MAX)?;
        check_date(self.date, "date")
    }
}

impl NewMockCount {
    pub fn check(&self) -> Result<(), Invalid> {
        for (q, f) in [
            (self.on_hand, "on-hand"),
            (self.retrieved, "retrieved"),
            (self.consumed, "consumed"),
            (self.destroyed, "destroyed"),
        ] {
            if let Some(q) = q {
                check_qty(q, f)?;
            }
        }
        check_text(&self.note, "note", COUNT_NOTE_MAX)
    }
}

impl MockRecall {
    pub fn check(&self) -> Result<(), Invalid> {
        if !matches!(self.direction.as_str(), "forward" | "backward" | "both") {
            return Err(Invalid::new(
                "direction",
                format!(
                    "{} is not a direction; accepted: forward, backward, both",
                    super::text::excerpt(&self.direction)
                ),
            ));
        }
        let b = &self.balance;
        for (q, f) in [
            (b.start, "start"),
            (b.consumed, "consumed"),
            (b.shipped, "shipped"),
            (b.adjusted, "adjusted"),
            (b.on_hand, "on-hand"),
        ] {
            check_qty(q, f)?;
        }
        check_text(&self.note, "note", NOTE_MAX)
    }
}

impl ImportLine {
    fn check(&self, field: &str, items: usize) -> Result<(), Invalid> {
        check_qty(self.qty, field)?;
        if let Some(p) = &self.partner {
            if p.item as usize >= items {
                return Err(Invalid::new(
                    field,
                    format!("names item entry {} of a list of {items}", p.item),
                ));
            }
            check_required(&p.identifier, field, EVENT_ID_MAX)?;
        }
        Ok(())
    }
}

impl ImportEvent {
    /// One mapped event, against the import's lists of items and parties it indexes.
    pub fn check(&self, items: usize, parties: usize) -> Result<(), Invalid> {
        let index = |i: u32, n: usize, field: &str| -> Result<(), Invalid> {
            if i as usize >= n {
                return Err(Invalid::new(
                    field,
                    format!("names entry {i} of a list of {n}"),
                ));
            }
            Ok(())
        };
        if self.event_id.is_empty() {
            return Err(Invalid::new("eventID", "is empty"));
        }
        check_text(&self.event_id, "eventID", EVENT_ID_MAX)?;
        check_date(self.date, "eventTime")?;
        check_text(&self.event_time, "eventTime", EVENT_FIELD_MAX)?;
        if let Some(l) = &self.location {
            check_text(l, "bizLocation", EVENT_FIELD_MAX)?;
        }
        check_ref(&self.reference, "bizTransaction")?;
        check_ref(&self.documents.second, "bizTransaction")?;
        // The same rules as a form's, named as the document names the fields.
        self.documents
            .check_with(self.reference.as_ref())
            .map_err(|e| {
                let field = if e.field == "ref" {
                    "bizTransaction"
                } else {
                    "lotline:noReferenceReason"
                };
                Invalid::new(field, e.problem)
            })?;
        if matches!(
            self.kind,
            ImportKind::Adjust { .. } | ImportKind::Return { .. }
        ) && !self.documents.is_empty()
        {
            return Err(Invalid::new(
                "bizTransaction",
                "a correction or return keeps one reference document at most and no reason for none; send only its first",
            ));
        }
        match &self.kind {
            ImportKind::Receive {
                item,
                supplier,
                line,
                expiry,
                quality,
                tlc_source_ref,
                label,
                ..
            } => {
                index(*item, items, "item")?;
                index(*supplier, parties, "source")?;
                line.check("quantity", items)?;
                check_opt_date(*expiry, "itemExpirationDate")?;
                quality.check()?;
                check_tlc_source_ref(tlc_source_ref, "lotline:tlcSourceReference")?;
                // As a scanned receipt's label is checked: the server trusts no client.
                super::check_label(label, self.date, "lotline:gs1Label")
            }
            ImportKind::Produce {
                item,
                output,
                expiry,
                line,
                inputs,
            } => {
                index(*item, items, "item")?;
                output.check("outputQuantityList", items)?;
                check_opt_date(*expiry, "itemExpirationDate")?;
                if let Some(line) = line {
                    check_required(line, "lotline:productionLine", LINE_MAX)?;
                }
                check_count(inputs.len(), "inputQuantityList", MAX_LINES, "input lots")?;
                inputs
                    .iter()
                    .try_for_each(|l| l.check("inputQuantityList", items))
            }
            ImportKind::Ship { customer, lines } => {
                index(*customer, parties, "destination")?;
                check_count(lines.len(), "quantityList", MAX_LINES, "lots")?;
                lines
                    .iter()
                    .try_for_each(|l| l.check("quantityList", items))
            }
            ImportKind::Adjust { delta, reason, .. } => {
                check_qty(*delta, "lotline:adjustment")?;
                check_text(reason, "lotline:reason", REASON_MAX)
            }
            ImportKind::Return {
                customer,
                line,
                shipment,
                reason,
                ..
            } => {
                index(*customer, parties, "source")?;
                line.check("quantity", items)?;
                if let Some(s) = shipment {
                    check_text(s, "lotline:returnOf", EVENT_ID_MAX)?;
                }
                check_text(reason, "lotline:reason", REASON_MAX)
            }
        }
    }
}

impl Unmapped {
    pub fn check(&self) -> Result<(), Invalid> {
        check_text(&self.event_id, "eventID", EVENT_ID_MAX)?;
        check_text(&self.reason, "reason", UNMAPPED_REASON_MAX)
    }
}

impl EpcisImport {
    /// Every item, party and event as the client's mapper makes them; an event it could
    /// not map travels as [`Unmapped`], already shortened and escaped.
    pub fn check(&self) -> Result<(), Invalid> {
        check_text(&self.source, "file", SOURCE_MAX)?;
        let limit = MAX_IMPORT_EVENTS;
        check_count(self.events.len(), "file", limit, "events")?;
        check_count(self.unmapped.len(), "file", limit, "unmapped events")?;
        // Each event names at most a few items and parties.
        check_count(self.items.len(), "file", limit, "items")?;
        check_count(self.parties.len(), "file", limit, "parties")?;
        for i in &self.items {
            i.new.check()?;
        }
        for p in &self.parties {
            p.new.check()?;
        }
        let at = |e: &ImportEvent, why: Invalid| {
            Invalid::new(
                "file",
                format!(
                    "event {} ({}): {why}",
                    e.index,
                    super::text::excerpt(&e.event_id)
                ),
            )
        };
        for e in &self.events {
            e.check(self.items.len(), self.parties.len())
                .map_err(|why| at(e, why))?;
        }
        self.unmapped.iter().try_for_each(Unmapped::check)
    }
}

impl KdeQuery {
    pub fn check(&self) -> Result<(), Invalid> {
        if let Some(l) = &self.lot {
            check_text(l, "lot", SEARCH_MAX)?;
        }
        check_count(self.items.len(), "item", MAX_ITEMS_ASKED, "items")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_checked_as_sent_edges_included() {
        assert!(check_text("plain text", "note", 20).is_ok());
        assert!(check_text("", "note", 20).is_ok());
        // clean_text trims a line break away; what is stored is what was sent.
        assert!(clean_text("\nok\n", "note", 20).is_ok());
        let e = check_text("\nok\n", "note", 20).unwrap_err();
        assert_eq!(e.field, "note");
        assert!(!super::super::text::has_unsafe(&e.to_string()), "{e}");
        assert!(check_text("a\u{1b}b", "note", 20).is_err());
        assert!(check_text("a\u{202e}b", "note", 20).is_err());
        assert!(check_text(&"x".repeat(21), "note", 20).is_err());
        assert!(check_text(&"é".repeat(20), "note", 20).is_ok());
        assert!(check_required("  ", "reason", 20).is_err());
    }

    #[test]
    fn references_must_be_as_the_parser_writes_them() {
        let good = Reference::parse("bol:4471", "ref").unwrap();
        assert!(good.check("ref").is_ok());
        for (kind, number) in [
            ("BOL", "44\u{1b}[2J71"),
            ("BOL", "\u{7}"),
            ("BOL", "4471\u{202e}"),
            ("bol", "4471"),
            ("BOL", " 4471"),
            ("", "4471"),
            ("B:OL", "1"),
            ("BILL OF LADING", "1"),
        ] {
            let r = Reference {
                kind: kind.into(),
                number: number.into(),
            };
            let e = r.check("ref").unwrap_err();
            assert_eq!(e.field, "ref", "{kind}:{number}");
            assert!(!super::super::text::has_unsafe(&e.problem), "{e}");
        }
        let huge = Reference {
            kind: "BOL".into(),
            number: "x".repeat(30 << 20),
        };
        let e = huge.check("ref").unwrap_err();
        assert!(e.problem.len() < 200, "{e}");
    }

    /// An imported event's documents meet a form's rules, named as the document names
    /// them; only receipts, batches and shipments keep more than one.
    #[test]
    fn an_imported_events_documents_are_checked_as_a_forms() {
        let r = |t: &str| Some(Reference::parse(t, "ref").unwrap());
        let lot = LotCode::parse("R1", "lot").unwrap();
        let ship = ImportKind::Ship {
            customer: 0,
            lines: vec![ImportLine {
                lot: lot.clone(),
                qty: Qty::from_units(1),
                unit: crate::Unit::Kg,
                partner: None,
            }],
        };
        let ev = |reference, second, none_because: Option<&str>, kind| ImportEvent {
            event_id: "e1".into(),
            index: 0,
            date: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
            event_time: "2026-11-21T08:00:00Z".into(),
            location: None,
            reference,
            documents: Documents {
                second,
                none_because: none_because.map(str::to_string),
            },
            kind,
        };
        let field = |e: ImportEvent| e.check(1, 1).map_err(|e| e.field);
        assert_eq!(field(ev(r("BOL:1"), r("PO:2"), None, ship.clone())), Ok(()));
        assert_eq!(
            field(ev(None, None, Some("none came"), ship.clone())),
            Ok(())
        );
        for (bad, at) in [
            (ev(None, r("PO:2"), None, ship.clone()), "bizTransaction"),
            (
                ev(r("PO:2"), r("PO:2"), None, ship.clone()),
                "bizTransaction",
            ),
            (
                ev(r("BOL:1"), None, Some("none came"), ship.clone()),
                "lotline:noReferenceReason",
            ),
            (
                ev(None, None, Some(" none came"), ship.clone()),
                "lotline:noReferenceReason",
            ),
            (
                ev(None, None, Some("none\u{202e}came"), ship.clone()),
                "lotline:noReferenceReason",
            ),
            (
                ev(
                    r("BOL:1"),
                    r("PO:2"),
                    None,
                    ImportKind::Adjust {
                        lot,
                        delta: Qty::from_units(-1),
                        reason: "spilt".into(),
                    },
                ),
                "bizTransaction",
            ),
        ] {
            assert_eq!(field(bad.clone()), Err(at.to_string()), "{bad:?}");
        }
    }

    #[test]
    fn quantities_dates_and_temperatures_are_what_a_parser_can_give() {
        assert!(check_qty(Qty(i64::MIN), "qty").is_err());
        assert!(check_qty(Qty(i64::MAX), "qty").is_ok());
        assert!(check_positive(Qty::ZERO, "qty").is_err());
        let y0 = NaiveDate::from_ymd_opt(0, 1, 1).unwrap();
        assert!(check_date(y0, "date").is_err());
        assert!(check_date(NaiveDate::MAX, "date").is_err());
        assert!(check_temperature(1000, "temp").is_ok());
        assert!(check_temperature(1001, "temp").is_err());
        assert!(check_temperature(i32::MIN, "temp").is_err());
        assert_eq!(
            TempRange {
                min_dc: Some(5000),
                max_dc: None
            }
            .check()
            .unwrap_err()
            .field,
            "temp-min"
        );
    }

    /// An imported receipt's label is held to a scanned one's rules by the station too:
    /// a client that sends one its mapper would have refused is refused.
    #[test]
    fn an_imported_receipts_label_is_checked_as_a_scans() {
        let el = |ai: &str, value: &str| LabelElement {
            ai: ai.into(),
            value: value.into(),
        };
        let ev = |label: Vec<LabelElement>| ImportEvent {
            event_id: "e1".into(),
            index: 0,
            date: NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
            event_time: "2026-11-21T08:00:00Z".into(),
            location: None,
            reference: None,
            documents: Documents::default(),
            kind: ImportKind::Receive {
                item: 0,
                supplier: 0,
                line: ImportLine {
                    lot: LotCode::parse("R1", "lot").unwrap(),
                    qty: Qty::from_units(1),
                    unit: crate::Unit::Kg,
                    partner: None,
                },
                supplier_lot: SupplierLot::parse("S1", "supplier-lot").unwrap(),
                expiry: None,
                quality: Quality::default(),
                tlc_source_ref: None,
                label,
            },
        };
        assert_eq!(ev(vec![]).check(1, 1), Ok(()));
        assert_eq!(
            ev(vec![el("7007", "250601250605"), el("91", "ROW-7")]).check(1, 1),
            Ok(())
        );
        for bad in [
            vec![el("999", "1")],
            vec![el("422", "840"), el("422", "276")],
            vec![el("414", "0614141000013")],
            (0..65).map(|i| el(&(9000 + i).to_string(), "X")).collect(),
        ] {
            let e = ev(bad.clone()).check(1, 1).unwrap_err();
            assert_eq!(e.field, "lotline:gs1Label", "{bad:?}: {e}");
        }
    }
}
