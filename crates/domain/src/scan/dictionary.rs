//! Every GS1 Application Identifier, generated at build time (`build.rs`) from GS1's
//! Barcode Syntax Dictionary in `gs1/` (Apache License 2.0; the notice is in
//! `gs1/LICENSE` and at the head of the dictionary, and ships with it): formats,
//! separator rules, checks, pairing rules and Digital Link roles (docs/scanning.md).

/// A component's character set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cset {
    /// Digits.
    Numeric,
    /// GS1 AI encodable character set 82.
    Cset82,
    /// GS1 AI encodable character set 39 (digits, capitals, `#`, `-`, `/`).
    Cset39,
    /// RFC 4648 base64url, for digital signatures.
    Base64Url,
}

/// The dictionary's "linters": checks of a component's content beyond its characters.
/// Named as the dictionary names them, so a new one fails the build until it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lint {
    Csum,
    Csumalpha,
    Gcppos1,
    Gcppos2,
    Yymmd0,
    Yymmdd,
    Yyyymmdd,
    Hhmi,
    Hh,
    Mi,
    Ss,
    Iso3166,
    Iso3166999,
    Iso3166alpha2,
    Iso4217,
    Iso5218,
    Pcenc,
    Yesno,
    Hyphen,
    Nonzero,
    Zero,
    Winding,
    Pieceoftotal,
    Iban,
    Latitude,
    Longitude,
    Importeridx,
    Packagetype,
    Mediatype,
    Posinseqslash,
    Nozeroprefix,
    Hasnondigit,
    Couponcode,
    Couponposoffer,
}

/// One component of an AI's data: characters, length and checks.
#[derive(Debug)]
pub(super) struct Part {
    pub(super) cset: Cset,
    pub(super) min: usize,
    pub(super) max: usize,
    /// `[…]` in the dictionary: may be left out once the data is used up.
    pub(super) optional: bool,
    pub(super) lints: &'static [Lint],
}

/// One Application Identifier.
#[derive(Debug)]
pub(super) struct AiDef {
    pub(super) ai: &'static str,
    /// Whether more data after it needs an FNC1 separator: all but GS1's predefined-length AIs.
    pub(super) separator: bool,
    /// May be a Digital Link data attribute (`?key=value`).
    pub(super) dl_attribute: bool,
    pub(super) parts: &'static [Part],
    /// Each `req=`: one of its alternatives (AIs or patterns such as `31nn`, all of one
    /// alternative together) must be present.
    pub(super) req: &'static [&'static [&'static [&'static str]]],
    /// AIs or patterns that must not be present with it.
    pub(super) ex: &'static [&'static str],
    /// A Digital Link primary key, with its alternative sequences of qualifiers.
    pub(super) dl_primary: Option<&'static [&'static [&'static str]]>,
    /// GS1's short title ("BATCH/LOT").
    pub(super) title: &'static str,
}

impl AiDef {
    /// Length of the data, all components included.
    pub(super) fn min_len(&self) -> usize {
        self.parts
            .iter()
            .filter(|p| !p.optional)
            .map(|p| p.min)
            .sum()
    }

    pub(super) fn max_len(&self) -> usize {
        self.parts.iter().map(|p| p.max).sum()
    }

    /// Whether the value ends in a mod-10 check digit: an identification key.
    pub(super) fn is_key(&self) -> bool {
        self.parts
            .first()
            .is_some_and(|p| p.lints.contains(&Lint::Csum))
    }
}

include!(concat!(env!("OUT_DIR"), "/gs1_table.rs"));

#[cfg(test)]
pub(super) fn all() -> &'static [AiDef] {
    TABLE
}

/// The dictionary keeps its entries in lexical order of their AI (a test holds it to
/// that), so an AI is found by binary search.
pub(super) fn lookup(ai: &str) -> Option<&'static AiDef> {
    TABLE
        .binary_search_by(|d| d.ai.cmp(ai))
        .ok()
        .and_then(|i| TABLE.get(i))
}

/// Whether some AI starts with `digits`: the first AI not before them in lexical order is
/// the only candidate.
pub(super) fn is_known_prefix(digits: &str) -> bool {
    let at = TABLE.partition_point(|d| d.ai < digits);
    TABLE.get(at).is_some_and(|d| d.ai.starts_with(digits))
}

/// Whether `ai` matches a dictionary pattern: an AI, or one with `n` for any digit (`31nn`).
pub(super) fn matches(pattern: &str, ai: &str) -> bool {
    pattern.len() == ai.len()
        && pattern
            .bytes()
            .zip(ai.bytes())
            .all(|(p, a)| p == a || (p == b'n' && a.is_ascii_digit()))
}

pub(super) fn is_country(numeric: &str) -> bool {
    COUNTRY_NUMERIC.binary_search(&numeric).is_ok()
}

pub(super) fn is_country_alpha2(code: &str) -> bool {
    COUNTRY_ALPHA2.binary_search(&code).is_ok()
}

pub(super) fn is_currency(numeric: &str) -> bool {
    CURRENCY_NUMERIC.binary_search(&numeric).is_ok()
}

/// The ISO 3166 two-letter code of a numeric country code (276 → DE).
pub(super) fn alpha2_of(numeric: &str) -> Option<&'static str> {
    COUNTRY_PAIRS
        .iter()
        .find(|(n, _)| *n == numeric)
        .map(|(_, a)| *a)
}
