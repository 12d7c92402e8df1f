//! EPCIS 2.0 JSON-LD out and in: the GS1 standard trading partners, head offices and
//! EPCIS repositories exchange traceability events in (docs/epcis.md).
//!
//! Identifiers (docs/epcis.md has the full table):
//! - a lot of an item with a GTIN is the GS1 Digital Link URI of GTIN + lot,
//!   `https://id.gs1.org/01/{gtin}/10/{lot}` (an LGTIN URN would need the GS1 company prefix
//!   length, which a GTIN alone does not tell); otherwise lotline's own
//!   `https://lotline.example/id/{plant}/item/{item}/lot/{lot}`;
//! - a party with a GLN is `https://id.gs1.org/417/{gln}` as owner and
//!   `https://id.gs1.org/414/{gln}` as location; otherwise `…/id/{plant}/party/{id}`;
//! - the plant is `https://id.gs1.org/414/{gln}` or `…/id/{plant}/plant`;
//! - `{plant}` is `gln-{GLN}` when the plant has a GLN, else its name in lower case with
//!   dashes: set the plant's GLN to keep identifiers stable when the name changes.
//!
//! `lotline.example` is a reserved name (RFC 2606) that resolves nowhere: lotline's
//! identifiers and its extension vocabulary are its own, not GS1's, and say so.

pub mod export;
pub mod hash;
mod hash_dl;
pub mod import;

use lotline_domain::{Gln, Gtin, Plant, Unit};

/// lotline's extension vocabulary, bound to the prefix `lotline` in every document's
/// `@context`: FSMA 204 KDEs and lotline records EPCIS has no field for.
pub const NS: &str = "https://lotline.example/epcis/ns#";
/// Where lotline's own identifiers live.
pub const ID_BASE: &str = "https://lotline.example/id/";
/// The standard EPCIS 2.0 JSON-LD context.
pub const EPCIS_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
/// GS1's Digital Link resolver, the canonical host for GS1 identifiers as URIs.
pub const GS1_DL: &str = "https://id.gs1.org/";
/// CBV master-data attribute for a lot's expiry, used in `ilmd`.
pub const EXPIRY_ATTR: &str = "cbvmda:itemExpirationDate";
pub const BEST_BEFORE_ATTR: &str = "cbvmda:bestBeforeDate";
/// Master-data vocabulary types.
pub const VTYPE_CLASS: &str = "urn:epcglobal:epcis:vtype:EPCClass";
pub const VTYPE_LOCATION: &str = "urn:epcglobal:epcis:vtype:Location";
/// The bizStep of a balance correction: lotline's own, since CBV has none for it.
pub const ADJUST_STEP: &str = "https://lotline.example/epcis/ns#adjusting";

/// UN/ECE Recommendation 20 code of each unit: what EPCIS `uom` holds.
pub fn unit_code(u: Unit) -> &'static str {
    match u {
        Unit::Kg => "KGM",
        Unit::G => "GRM",
        Unit::Lb => "LBR",
        Unit::Oz => "ONZ",
        Unit::L => "LTR",
        Unit::Ml => "MLT",
        // US liquid gallon, as `Unit::Gal` converts.
        Unit::Gal => "GLL",
        Unit::Ea => "EA",
        Unit::Case => "CS",
        Unit::Dozen => "DZN",
    }
}

/// The unit of a Rec 20 code; `None` for codes lotline keeps no unit for. A missing `uom`
/// means a count (EPCIS), so the caller passes `None` as `Ea`.
pub fn unit_of_code(code: &str) -> Option<Unit> {
    Some(match code {
        "KGM" => Unit::Kg,
        "GRM" => Unit::G,
        "LBR" => Unit::Lb,
        "ONZ" => Unit::Oz,
        "LTR" => Unit::L,
        "MLT" => Unit::Ml,
        "GLL" => Unit::Gal,
        // each, piece, one (unit)
        "EA" | "H87" | "C62" => Unit::Ea,
        "CS" => Unit::Case,
        "DZN" => Unit::Dozen,
        _ => return None,
    })
}

/// The `{plant}` path segment of lotline's identifiers.
pub fn plant_key(p: &Plant) -> String {
    if let Some(g) = &p.gln {
        return format!("gln-{g}");
    }
    let mut out = String::new();
    for c in p.location.business_name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() { "plant".into() } else { out }
}

/// RFC 3986 percent-encoding of everything but unreserved characters: a path segment.
pub fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-decoding; `None` for a broken escape or bytes that are not UTF-8.
pub fn unpct(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A lot as EPCIS names it, read back from a URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotUri {
    pub gtin: Option<Gtin>,
    /// lotline's item code, when the URI is lotline's own.
    pub item: Option<String>,
    /// The lot code exactly as in the URI (case kept).
    pub lot: String,
}

/// Read a class-level lot identifier: GS1 Digital Link with (01) and (10) on any host, an
/// LGTIN URN, or lotline's own lot URI. `Err` says what it is instead.
pub fn parse_lot_uri(uri: &str) -> Result<LotUri, String> {
    let not_lot = || {
        format!(
            "'{}' names no lot; lotline reads GS1 Digital Link URIs with (01) and (10), LGTIN class URNs and lotline lot URIs",
            short(uri)
        )
    };
    if let Some(rest) = uri.strip_prefix(ID_BASE) {
        // {plant}/item/{item}/lot/{lot}, or a supplier's lot of an item without a GTIN:
        // {plant}/party/{supplier}/item/{item}/lot/{supplier lot}
        let parts: Vec<&str> = rest.split('/').collect();
        if let [_plant, "item", item, "lot", lot] | [_plant, "party", _, "item", item, "lot", lot] =
            parts.as_slice()
        {
            return Ok(LotUri {
                gtin: None,
                item: Some(unpct(item).ok_or_else(not_lot)?),
                lot: unpct(lot).ok_or_else(not_lot)?,
            });
        }
        return Err(not_lot());
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:class:lgtin:") {
        let mut it = rest.splitn(3, '.');
        let (Some(cp), Some(ir), Some(lot)) = (it.next(), it.next(), it.next()) else {
            return Err(not_lot());
        };
        let gtin = lgtin_gtin(cp, ir).ok_or_else(not_lot)?;
        return Ok(LotUri {
            gtin: Some(gtin),
            item: None,
            lot: unpct(lot).ok_or_else(not_lot)?,
        });
    }
    if uri.starts_with("https://") || uri.starts_with("http://") {
        let path = uri.split(['?', '#']).next().unwrap_or("");
        let segs: Vec<&str> = path.split('/').collect();
        if let Some(i) = segs.iter().position(|s| *s == "01")
            && segs.get(i + 2) == Some(&"10")
            && let (Some(g), Some(lot)) = (segs.get(i + 1), segs.get(i + 3))
        {
            let gtin = Gtin::parse(g, "epcClass").map_err(|e| e.problem)?;
            return Ok(LotUri {
                gtin: Some(gtin),
                item: None,
                lot: unpct(lot).ok_or_else(not_lot)?,
            });
        }
    }
    Err(not_lot())
}

/// GTIN-14 of an EPC company prefix and indicator + item reference.
fn lgtin_gtin(cp: &str, ir: &str) -> Option<Gtin> {
    if ir.is_empty() || cp.len() + ir.len() != 13 {
        return None;
    }
    let body = format!("{}{}{}", &ir[..1], cp, &ir[1..]);
    let check = lotline_domain::gs1_check_digit(&body)?;
    Gtin::parse(&format!("{body}{check}"), "epcClass").ok()
}

/// A party or location read back from a URI: a GLN, lotline's party id, or neither.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartyUri {
    pub gln: Option<Gln>,
    pub id: Option<String>,
}

pub fn parse_party_uri(uri: &str) -> PartyUri {
    if let Some(rest) = uri.strip_prefix(ID_BASE) {
        let parts: Vec<&str> = rest.split('/').collect();
        if let [_plant, "party", id] = parts.as_slice() {
            return PartyUri {
                gln: None,
                id: unpct(id),
            };
        }
        return PartyUri::default();
    }
    for scheme in ["urn:epc:id:sgln:", "urn:epc:id:pgln:"] {
        if let Some(rest) = uri.strip_prefix(scheme) {
            let mut it = rest.split('.');
            let (Some(cp), Some(loc)) = (it.next(), it.next()) else {
                return PartyUri::default();
            };
            let body = format!("{cp}{loc}");
            let gln = lotline_domain::gs1_check_digit(&body)
                .filter(|_| body.len() == 12)
                .and_then(|c| Gln::parse(&format!("{body}{c}"), "gln").ok());
            return PartyUri { gln, id: None };
        }
    }
    if uri.starts_with("https://") || uri.starts_with("http://") {
        let path = uri.split(['?', '#']).next().unwrap_or("");
        let segs: Vec<&str> = path.split('/').collect();
        if let Some(i) = segs.iter().position(|s| *s == "414" || *s == "417")
            && let Some(g) = segs.get(i + 1)
        {
            return PartyUri {
                gln: Gln::parse(g, "gln").ok(),
                id: None,
            };
        }
    }
    PartyUri::default()
}

/// At most 80 characters of `s`, for messages.
pub fn short(s: &str) -> String {
    if s.chars().count() <= 80 {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(80).collect::<String>())
    }
}

/// Reference-document types and the CBV business-transaction types they are.
pub const BIZ_TYPES: [(&str, &str); 6] = [
    ("PO", "po"),
    ("BOL", "bol"),
    ("INV", "inv"),
    ("ASN", "desadv"),
    ("WO", "prodorder"),
    ("RMA", "rma"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_round_trip_through_rec20() {
        for u in Unit::ALL {
            assert_eq!(unit_of_code(unit_code(u)), Some(u), "{u}");
        }
        assert_eq!(unit_of_code("H87"), Some(Unit::Ea));
        assert_eq!(unit_of_code("MTR"), None);
    }

    #[test]
    fn lot_uris_of_every_kind() {
        let dl = parse_lot_uri("https://id.gs1.org/01/09501101530003/10/AB%2F12").unwrap();
        assert_eq!(dl.gtin.unwrap().as_str(), "09501101530003");
        assert_eq!(dl.lot, "AB/12");
        let lg = parse_lot_uri("urn:epc:class:lgtin:4012345.012345.998877").unwrap();
        // indicator 0 + 4012345 + 12345 + check digit
        assert_eq!(lg.gtin.unwrap().as_str(), "04012345123456");
        assert_eq!(lg.lot, "998877");
        let own = parse_lot_uri(&format!(
            "{ID_BASE}gln-0614141000012/item/FLOUR/lot/R26300-001"
        ))
        .unwrap();
        assert_eq!(own.item.as_deref(), Some("FLOUR"));
        assert_eq!(own.lot, "R26300-001");
        assert!(parse_lot_uri("urn:epc:id:sgtin:4012345.011122.25").is_err());
        assert!(parse_lot_uri("urn:epc:idpat:sgtin:4012345.066666.*").is_err());
        assert!(parse_lot_uri("https://id.gs1.org/01/04012345666663").is_err());
    }

    #[test]
    fn party_uris() {
        let p = parse_party_uri("urn:epc:id:sgln:0614141.00777.0");
        assert_eq!(p.gln.unwrap().as_str(), "0614141007776");
        let p = parse_party_uri("https://id.gs1.org/417/0614141000012");
        assert_eq!(p.gln.unwrap().as_str(), "0614141000012");
        let p = parse_party_uri(&format!("{ID_BASE}mill/party/MILL%2FCO"));
        assert_eq!(p.id.as_deref(), Some("MILL/CO"));
    }

    #[test]
    fn plant_keys_are_path_safe() {
        let mut p = Plant::default();
        p.location.business_name = "Rosie's Bakery, Ltd.".into();
        assert_eq!(plant_key(&p), "rosie-s-bakery-ltd");
        p.gln = Some(Gln::parse("0614141000012", "gln").unwrap());
        assert_eq!(plant_key(&p), "gln-0614141000012");
        assert_eq!(pct("A/B c"), "A%2FB%20c");
        assert_eq!(unpct("A%2FB%20c").unwrap(), "A/B c");
        assert!(unpct("%G1").is_none());
    }
}
