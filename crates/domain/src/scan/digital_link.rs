use chrono::NaiveDate;

use super::ai::{self, Source};
use super::dictionary::Cset;
use super::{Boundary, Element, ScanError};

pub(super) fn looks_like(text: &str) -> bool {
    ["http://", "https://"].iter().any(|scheme| {
        text.get(..scheme.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(scheme))
    })
}

/// Parses a GS1 Digital Link URI. `Ok(None)` means an ordinary URL with no
/// GS1 key in it, which the caller treats as plain text.
pub(super) fn parse(uri: &str, today: NaiveDate) -> Result<Option<Vec<Element>>, ScanError> {
    let after_scheme = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let no_fragment = after_scheme.split('#').next().unwrap_or_default();
    let (location, query) = no_fragment.split_once('?').unwrap_or((no_fragment, ""));
    // The host is skipped whatever it is: any domain may host a resolver.
    let path = location
        .find('/')
        .and_then(|ix| location.get(ix..))
        .unwrap_or("");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();

    let Some(start) = locate(&segments)? else {
        return Ok(None);
    };
    let mut elements = Vec::new();
    for pair in segments.get(start..).unwrap_or_default().chunks(2) {
        if let &[key, value] = pair {
            add(key, value, &mut elements, today)?;
        }
    }
    for param in query.split('&') {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        // Only numeric keys are data attributes; `linkType`, `lang`, … are
        // resolver instructions and none of our business.
        let is_ai_key = (2..=4).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_digit());
        if is_ai_key {
            // GS1 lets only some AIs be data attributes; keys and their qualifiers
            // belong in the path.
            if ai::lookup(key).is_some_and(|d| !d.dl_attribute) {
                return Err(ScanError::NotDataAttribute { ai: key.to_owned() });
            }
            add(key, value, &mut elements, today)?;
        }
    }
    Ok(Some(elements))
}

/// Finds where the primary key starts. Anything before it is the path prefix
/// a brand may put there, which may itself contain segments like "01"; hence
/// the key must be followed by a plausible all-digit value and the rest of the
/// path must be valid qualifiers, and the first position passing that wins.
fn locate(segments: &[&str]) -> Result<Option<usize>, ScanError> {
    let mut first_error = None;
    for (i, key) in segments.iter().enumerate() {
        let Some(def) = ai::lookup(key) else {
            continue;
        };
        let Some(qualifiers) = def.dl_primary else {
            continue;
        };
        let Some(value) = segments.get(i + 1) else {
            continue;
        };
        // A numeric key's value starts with at least 8 digits (a GTIN-8 is the shortest);
        // that tells it from a brand's own path segments.
        let digits = match def.parts.first() {
            Some(p) if p.cset == Cset::Numeric => p.min.min(8),
            _ => 1,
        };
        let head = value.get(..digits).unwrap_or("");
        if head.len() < digits
            || !value.bytes().take(digits).all(|b| b.is_ascii_digit()) && digits > 1
        {
            continue;
        }
        match check_qualifiers(key, qualifiers, segments.get(i + 2..).unwrap_or_default()) {
            Ok(()) => return Ok(Some(i)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(None), Err)
}

/// The path after the primary key: pairs of qualifier and value, the qualifiers in the
/// order of one of the key's sequences (`22, 10, 21` or `235` after a GTIN), each at most once.
fn check_qualifiers(primary: &str, sequences: &[&[&str]], rest: &[&str]) -> Result<(), ScanError> {
    let mut keys = Vec::new();
    for pair in rest.chunks(2) {
        match *pair {
            [key, _] => keys.push(key),
            _ => {
                let last = pair.first().copied().unwrap_or_default();
                return Err(ScanError::DigitalLink {
                    detail: format!(
                        "path segment {} after AI ({primary}) has no value",
                        crate::text::excerpt(last)
                    ),
                });
            }
        }
    }
    let in_order = |seq: &[&str]| {
        let mut at = 0;
        keys.iter().all(
            |k| match seq.get(at..).and_then(|s| s.iter().position(|q| q == k)) {
                Some(p) => {
                    at += p + 1;
                    true
                }
                None => false,
            },
        )
    };
    if sequences.iter().any(|seq| in_order(seq)) {
        return Ok(());
    }
    let allowed: Vec<String> = sequences
        .iter()
        .filter(|seq| !seq.is_empty())
        .map(|seq| seq.join(", "))
        .collect();
    let offending = keys
        .iter()
        .find(|k| !sequences.iter().any(|seq| seq.contains(k)))
        .or(keys.first())
        .copied()
        .unwrap_or_default();
    Err(ScanError::DigitalLink {
        detail: if allowed.is_empty() {
            format!(
                "path segment {} follows AI ({primary}), which takes no key qualifiers",
                crate::text::excerpt(offending)
            )
        } else {
            format!(
                "path segment {} is not a key qualifier allowed after AI ({primary}) (allowed, in this order: {})",
                crate::text::excerpt(offending),
                allowed.join(" or ")
            )
        },
    })
}

fn add(
    key: &str,
    raw: &str,
    elements: &mut Vec<Element>,
    today: NaiveDate,
) -> Result<(), ScanError> {
    let spec = ai::lookup(key).ok_or_else(|| ScanError::UnknownAi { ai: key.to_owned() })?;
    let mut value =
        percent_decode(raw).ok_or_else(|| ScanError::PercentEncoding { ai: key.to_owned() })?;
    // Digital Link allows the GTIN in its shorter native forms; everything
    // downstream expects GTIN-14.
    if key == "01" && value.bytes().all(|b| b.is_ascii_digit()) {
        match value.len() {
            8 | 12 | 13 => value = format!("{value:0>14}"),
            14 => {}
            found => return Err(ScanError::DigitalLinkGtinLength { found }),
        }
    }
    ai::check_length(
        spec,
        value.chars().count(),
        Boundary::DigitalLink,
        Source::DigitalLink,
    )?;
    let el = ai::make_element(spec, value, Source::DigitalLink, today)?;
    ai::push_unique(elements, el)
}

/// RFC 3986 percent-decoding. `+` stays `+`: it is not a space in URI paths
/// or in Digital Link query values, and it is a legal CSET 82 character.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hi = char::from(*hex.first()?).to_digit(16)?;
            let lo = char::from(*hex.get(1)?).to_digit(16)?;
            out.push(u8::try_from(hi * 16 + lo).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
