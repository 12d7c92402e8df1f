//! Every request checked where the data lives, before anything else happens to it: each
//! command and query names its values' checks here (`crate::checks` holds them), so a
//! request the command line could not have built is refused with a reply naming its field,
//! whichever front end or socket it came from. The station's `Core` runs these for every
//! call.

use super::{AuditFilter, Command, Query, Request};
use crate::*;

impl Request {
    pub fn check(&self) -> Result<(), Invalid> {
        match self {
            Request::Command(c) => c.check(),
            Request::Query(q) => q.check(),
        }
    }
}

impl Command {
    /// The values of this command as a front end's parsers would have made them.
    pub fn check(&self) -> Result<(), Invalid> {
        match self {
            Command::SetPlant(p) => p.check(),
            Command::AddItem(i) | Command::EditItem(i) => i.check(),
            Command::AddParty(p) | Command::EditParty(p) => p.check(),
            Command::Receive(r) => r.check(),
            Command::Produce(b) => b.check(),
            Command::Ship(s) => s.check(),
            Command::Adjust(a) => a.check(),
            Command::SetStatus(s) => s.check(),
            Command::Void(v) => v.check(),
            Command::HoldAll(h) => h.check(),
            Command::RecordMockRecall { record, date } => {
                record.check()?;
                check_date(*date, "date")
            }
            Command::ImportEpcis(i) => i.check(),
            Command::RetireItem { reason, .. } | Command::RetireParty { reason, .. } => {
                check_required(reason, "reason", REASON_MAX)
            }
            Command::Return(r) => r.check(),
            Command::StartMockRecall(m) => m.check(),
            Command::CountMockRecall { count, date } => {
                count.check()?;
                check_date(*date, "date")
            }
            Command::FinishMockRecall { note, date, .. } => {
                check_text(note, "note", NOTE_MAX)?;
                check_date(*date, "date")
            }
            Command::ReceiveScanned(s) => {
                s.receipt.check()?;
                s.validate()
            }
            Command::SetAllergens(names) => {
                check_count(names.len(), "allergens", MAX_ALLERGENS, "allergens")?;
                for n in names {
                    check_allergen_name(n, "allergens")?;
                }
                AllergenList::parse(names, "allergens").map(drop)
            }
            Command::DeclareAllergens {
                allergens, reason, ..
            } => {
                check_count(allergens.len(), "allergen", MAX_ALLERGENS, "allergens")?;
                for a in allergens {
                    check_allergen_name(a, "allergen")?;
                }
                check_required(reason, "reason", REASON_MAX)
            }
            Command::AddRecipe(r) => r.check(),
            Command::ProduceOverride { batch, reason } => {
                batch.check()?;
                check_required(&reason.reason, "override-reason", REASON_MAX)
            }
            Command::Changeover(c) => c.check(),
            Command::SaveDraft(d) => d.check(),
            // A station name exactly as the handshake would have taken it: nothing
            // trimmed off its ends.
            Command::DropDraft { station, .. } => {
                if crate::text::station_name(station, "station")? == *station {
                    Ok(())
                } else {
                    Err(Invalid::new(
                        "station",
                        format!(
                            "{} has blanks or control characters at its ends",
                            crate::text::excerpt(station)
                        ),
                    ))
                }
            }
        }
    }
}

impl Query {
    /// A query's text and lists bounded. Its dates are ranges to search, not records, so
    /// any date is fine (exports ask from the first day there is to the last).
    pub fn check(&self) -> Result<(), Invalid> {
        match self {
            Query::Lots(f) => check_lot_filter(f),
            // The store answers at most MAX_PAGE events a page whatever the limit; the ids
            // asked for are bounded the same.
            Query::EventPage { ids, .. } => {
                let n = ids.as_ref().map_or(0, Vec::len);
                check_count(n, "ids", MAX_PAGE, "event ids")
            }
            Query::KdeRecords(q) => q.check(),
            Query::Audit(f) => check_audit_filter(f),
            Query::ItemEventIds { items, .. } => {
                check_count(items.len(), "item", MAX_ITEMS_ASKED, "items")
            }
            Query::LotsContaining(a) => check_text(a, "allergen", ALLERGEN_NAME_MAX),
            Query::Yields(f) => f.check(),
            Query::Plant
            | Query::Stats
            | Query::Item(_)
            | Query::Items
            | Query::Party(_)
            | Query::Parties
            | Query::Lot(_)
            | Query::LotHistory(_)
            | Query::Trace { .. }
            | Query::EventsBetween { .. }
            | Query::PartyEvents(_)
            | Query::RecallScope(_)
            | Query::MassBalance(_)
            | Query::Deliveries { .. }
            | Query::FindLot(_)
            | Query::Check
            | Query::Today
            | Query::WhoAmI
            | Query::Event(_)
            | Query::Stations
            | Query::ItemHistory(_)
            | Query::PartyHistory(_)
            | Query::RecallReport(_)
            | Query::MockRecall(_)
            | Query::MockRecalls
            // The copy is the server's; parts are asked by id and offset, and each answer
            // is at most a part (see `copies`).
            | Query::BackupStart
            | Query::BackupPart { .. }
            | Query::BackupDone { .. }
            | Query::Recipes(_)
            | Query::Allergens
            | Query::LotAllergens(_)
            | Query::Resume => Ok(()),
        }
    }
}

/// Text a lots search may carry: whatever was scanned or pasted (a runaway scan finds
/// nothing, it is not an error), bounded so no search is megabytes.
const SCAN_MAX: usize = 10_000;

fn check_lot_filter(f: &LotFilter) -> Result<(), Invalid> {
    match &f.supplier_lot {
        // Only ever compared and shown escaped: bounded, not checked character by character.
        Some(s) if s.len() > SCAN_MAX * 4 || s.chars().count() > SCAN_MAX => Err(Invalid::new(
            "supplier-lot",
            format!("is longer than {SCAN_MAX} characters"),
        )),
        _ => Ok(()),
    }
}

fn check_audit_filter(f: &AuditFilter) -> Result<(), Invalid> {
    match &f.operator {
        Some(op) => check_user(op, "operator"),
        None => Ok(()),
    }
}
