use chrono::NaiveDate;

use super::{Boundary, Element, PairingRule, ScanError, gs1_check_digit};

use super::dictionary::{self, Cset, Lint};
pub(super) use super::dictionary::{AiDef, lookup};
use super::lint;

/// An identification key: its value ends in a verified mod-10 check digit.
pub(super) fn is_key(def: &AiDef) -> bool {
    def.is_key()
}

pub(super) fn is_known_prefix(digits: &str) -> bool {
    dictionary::is_known_prefix(digits)
}

/// GS1 General Specifications figure 7.8.5-2 ("predefined length"): total
/// length, AI included, for AIs by their first two digits. Only these may be
/// followed directly by the next AI without a separator. The list is fixed by
/// GS1 forever so that old scanners keep working, which is why it includes
/// prefixes (03, 04, 14, 18, 19, 33–36) lotline has no AIs for.
#[cfg(test)]
pub(super) fn predefined_total_length(ai: &str) -> Option<usize> {
    Some(match ai.get(..2)? {
        "00" => 20,
        "01" | "02" | "03" => 16,
        "04" => 18,
        "11" | "12" | "13" | "14" | "15" | "16" | "17" | "18" | "19" => 8,
        "20" => 4,
        "31" | "32" | "33" | "34" | "35" | "36" => 10,
        "41" => 16,
        _ => return None,
    })
}

/// GS1 AI encodable character set 82.
pub(super) fn is_cset82(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '!' | '"'
                | '%'
                | '&'
                | '\''
                | '('
                | ')'
                | '*'
                | '+'
                | ','
                | '-'
                | '.'
                | '/'
                | ':'
                | ';'
                | '<'
                | '='
                | '>'
                | '?'
                | '_'
        )
}

/// Which form the data came in; it changes which hints make sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    ElementString,
    HumanReadable,
    DigitalLink,
}

pub(super) fn check_length(
    def: &AiDef,
    found: usize,
    before: Boundary,
    source: Source,
) -> Result<(), ScanError> {
    let numeric = def.parts.iter().all(|p| p.cset == Cset::Numeric);
    let (min, max) = (def.min_len(), def.max_len());
    let exact = min == max;
    if found < min {
        return Err(ScanError::TooShort {
            ai: def.ai.to_owned(),
            min,
            exact,
            numeric,
            found,
            before,
        });
    }
    if found > max {
        return Err(ScanError::TooLong {
            ai: def.ai.to_owned(),
            found,
            max,
            fixed: exact,
            numeric,
            separator_hint: source == Source::ElementString,
        });
    }
    Ok(())
}

/// Punctuation and control characters outside CSET 82 are what scanners use as
/// FNC1 substitutes, so finding one inside a value usually means the scanner's
/// separator does not match the configured one.
fn maybe_separator(c: char, source: Source) -> bool {
    source == Source::ElementString && (c.is_ascii_punctuation() || c.is_ascii_control())
}

/// GS1 AI encodable character set 39.
fn is_cset39(c: char) -> bool {
    c.is_ascii_digit() || c.is_ascii_uppercase() || matches!(c, '#' | '-' | '/')
}

fn is_base64url(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '=')
}

/// The value cut into the dictionary's components: fixed ones take their length, the last
/// may be shorter, and optional ones may be missing once the data is used up.
fn components(def: &AiDef, value: &str) -> Result<Vec<String>, ScanError> {
    let chars: Vec<char> = value.chars().collect();
    let mut out = Vec::new();
    let mut at = 0;
    for (k, part) in def.parts.iter().enumerate() {
        let left = chars.len() - at;
        if left == 0 && part.optional {
            break;
        }
        let take = left.min(part.max);
        if take < part.min {
            return Err(ScanError::Invalid {
                ai: def.ai.to_owned(),
                value: value.to_owned(),
                reason: format!(
                    "part {} needs {} characters, found {take}",
                    k + 1,
                    if part.min == part.max {
                        part.min.to_string()
                    } else {
                        format!("at least {}", part.min)
                    }
                ),
            });
        }
        out.push(
            chars
                .get(at..at + take)
                .unwrap_or_default()
                .iter()
                .collect(),
        );
        at += take;
    }
    Ok(out)
}

/// Validates characters and meaning of a value whose length has been checked: every
/// component's characters and the dictionary's checks on it.
pub(super) fn make_element(
    def: &AiDef,
    value: String,
    source: Source,
    today: NaiveDate,
) -> Result<Element, ScanError> {
    let ai = || def.ai.to_owned();
    let parts = components(def, &value)?;
    let mut date = None;
    for (part, text) in def.parts.iter().zip(&parts) {
        let bad_char = |allowed: fn(char) -> bool| text.chars().find(|&c| !allowed(c));
        match part.cset {
            Cset::Numeric => {
                if let Some(found) = bad_char(|c| c.is_ascii_digit()) {
                    return Err(ScanError::NotNumeric {
                        ai: ai(),
                        found,
                        separator_hint: maybe_separator(found, source),
                    });
                }
            }
            Cset::Cset82 | Cset::Cset39 | Cset::Base64Url => {
                let allowed: fn(char) -> bool = match part.cset {
                    Cset::Cset39 => is_cset39,
                    Cset::Base64Url => is_base64url,
                    _ => is_cset82,
                };
                if let Some(found) = bad_char(allowed) {
                    return Err(ScanError::InvalidCharacter {
                        ai: ai(),
                        found,
                        separator_hint: maybe_separator(found, source),
                    });
                }
            }
        }
        for &l in part.lints {
            let found = match l {
                Lint::Csum => {
                    check_key(def.ai, key_name(def), text)?;
                    None
                }
                Lint::Yymmd0 => Some(parse_date(def.ai, text, true, today)?),
                Lint::Yymmdd => Some(parse_date(def.ai, text, false, today)?),
                Lint::Yyyymmdd => Some(parse_long_date(def.ai, text)?),
                _ => {
                    lint::check(l, text).map_err(|reason| ScanError::Invalid {
                        ai: ai(),
                        value: value.clone(),
                        reason,
                    })?;
                    None
                }
            };
            date = date.or(found);
        }
    }
    Ok(Element {
        ai: ai(),
        decimal: decimal_places(def.ai)
            .and_then(|places| parts.last().map(|amount| decimal_text(amount, places))),
        value,
        date,
    })
}

/// The AIs whose last digit says how many of the (last component's) digits are decimals:
/// measures (31nn–36nn) and amounts, prices and percentages (39nn).
fn decimal_places(ai: &str) -> Option<usize> {
    let b = ai.as_bytes();
    match b {
        [b'3', b'1'..=b'6' | b'9', _, d] if d.is_ascii_digit() => Some(usize::from(d - b'0')),
        _ => None,
    }
}

/// What the floor user knows a key as, for check digit errors.
fn key_name(def: &AiDef) -> &'static str {
    match def.ai {
        "01" | "02" | "03" => "GTIN",
        "00" => "SSCC",
        a if a.starts_with("41") => "GLN",
        _ => def.title,
    }
}

fn check_key(ai: &str, key: &'static str, value: &str) -> Result<(), ScanError> {
    let body = value.get(..value.len().saturating_sub(1)).unwrap_or("");
    let found = value.chars().last().and_then(|c| c.to_digit(10));
    let expected = gs1_check_digit(body);
    match (found, expected) {
        (Some(f), Some(e)) if f == u32::from(e) => Ok(()),
        (Some(f), Some(e)) => Err(ScanError::CheckDigit {
            ai: ai.to_owned(),
            key,
            value: value.to_owned(),
            expected: e,
            found: u8::try_from(f).unwrap_or(u8::MAX),
        }),
        // Unreachable after the numeric and length checks; refuse rather than
        // accept an unverifiable key.
        _ => Err(ScanError::NotNumeric {
            ai: ai.to_owned(),
            found: value.chars().next().unwrap_or(' '),
            separator_hint: false,
        }),
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// GS1 General Specifications 7.12: a two-digit year is resolved relative to
/// the current year so that a label's dates stay within about half a century
/// either side of today.
pub(super) fn resolve_year(yy: i32, today: NaiveDate) -> i32 {
    use chrono::Datelike;
    let current = today.year();
    let cy = current.rem_euclid(100);
    let century = current - cy;
    match yy - cy {
        51..=99 => century - 100 + yy,
        -99..=-50 => century + 100 + yy,
        _ => century + yy,
    }
}

fn last_day_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let (y, m) = if month == 12 {
        (year.checked_add(1)?, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)?.pred_opt()
}

fn parse_date(
    ai: &str,
    value: &str,
    day_zero: bool,
    today: NaiveDate,
) -> Result<NaiveDate, ScanError> {
    let bad = |reason: String| ScanError::InvalidDate {
        ai: ai.to_owned(),
        value: value.to_owned(),
        reason,
    };
    let d: Vec<u32> = value.chars().filter_map(|c| c.to_digit(10)).collect();
    let &[y1, y2, m1, m2, d1, d2] = d.as_slice() else {
        return Err(bad("it must be 6 digits YYMMDD".to_owned()));
    };
    let yy = i32::try_from(y1 * 10 + y2).unwrap_or(0);
    let month = m1 * 10 + m2;
    let day = d1 * 10 + d2;
    let year = resolve_year(yy, today);
    if !(1..=12).contains(&month) {
        return Err(bad(format!("month {month:02}")));
    }
    let last = last_day_of_month(year, month).ok_or_else(|| bad(format!("year {year}")))?;
    if day == 0 {
        // GS1: DD=00 on labels that only state a month means the end of it.
        return if day_zero {
            Ok(last)
        } else {
            Err(bad("day 00 is not allowed for this AI".to_owned()))
        };
    }
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| {
        use chrono::Datelike;
        let name = MONTHS
            .get(usize::try_from(month - 1).unwrap_or(0))
            .copied()
            .unwrap_or("that month");
        bad(format!("{name} {year} has only {} days", last.day()))
    })
}

/// YYYYMMDD, where no century needs resolving and no day may be 00.
fn parse_long_date(ai: &str, value: &str) -> Result<NaiveDate, ScanError> {
    let year = value.get(..4).and_then(|y| y.parse::<i32>().ok());
    let rest = value.get(4..).unwrap_or("");
    match year {
        Some(year) if rest.len() == 4 => {
            // The same checks and words as YYMMDD, with the year given whole.
            let yy = year.rem_euclid(100);
            let today =
                NaiveDate::from_ymd_opt(year, 6, 30).ok_or_else(|| ScanError::InvalidDate {
                    ai: ai.to_owned(),
                    value: value.to_owned(),
                    reason: format!("year {year}"),
                })?;
            parse_date(ai, &format!("{yy:02}{rest}"), false, today).map_err(|e| match e {
                ScanError::InvalidDate { reason, .. } => ScanError::InvalidDate {
                    ai: ai.to_owned(),
                    value: value.to_owned(),
                    reason,
                },
                other => other,
            })
        }
        _ => Err(ScanError::InvalidDate {
            ai: ai.to_owned(),
            value: value.to_owned(),
            reason: "it must be 8 digits YYYYMMDD".to_owned(),
        }),
    }
}

/// Exact decimal text, so weights never pass through a float.
/// A value with fewer digits than decimal places has leading zeros left out
/// (an amount 304 with 6 places is 0.000304).
fn decimal_text(value: &str, places: usize) -> String {
    let value = format!("{value:0>places$}");
    let value = value.as_str();
    let split = value.len().saturating_sub(places);
    let (int, frac) = match (value.get(..split), value.get(split..)) {
        (Some(i), Some(f)) => (i, f),
        _ => (value, ""),
    };
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    if frac.is_empty() {
        int.to_owned()
    } else {
        format!("{int}.{frac}")
    }
}

/// Adds an element unless the same AI is already there. An identical repeat is
/// harmless (some labels print a key twice), a conflicting one is not.
pub(super) fn push_unique(elements: &mut Vec<Element>, el: Element) -> Result<(), ScanError> {
    match elements.iter().find(|e| e.ai == el.ai) {
        Some(e) if e.value == el.value => Ok(()),
        Some(e) => Err(ScanError::DuplicateAi {
            ai: el.ai,
            first: e.value.clone(),
            second: el.value,
        }),
        None => {
            elements.push(el);
            Ok(())
        }
    }
}

/// GS1's pairing rules, in three steps. lotline's own rules about (01), (02) and (37)
/// come first, in the words the floor knows them by. Then every `ex=` of the dictionary:
/// AIs that cannot be together in one scan. Then `req=`: GS1 evaluates those over all the
/// barcodes on an item, and a label often carries several (the SSCC alone at the bottom,
/// a batch on a separate symbol), so a scan is refused for a missing requisite only when
/// it could not be on another barcode: the scan carries an identification key and the
/// requisite is not the SSCC (00) (docs/scanning.md).
pub(super) fn check_pairs(elements: &[Element]) -> Result<(), ScanError> {
    let has = |ai: &str| elements.iter().any(|e| e.ai == ai);
    let rule = if has("01") && has("02") {
        Some(PairingRule::GtinAndContent)
    } else if has("01") && has("37") {
        Some(PairingRule::CountWithGtin)
    } else if has("02") && !has("37") {
        Some(PairingRule::ContentWithoutCount)
    } else if has("37") && !has("02") && !has("8026") {
        Some(PairingRule::CountWithoutContent)
    } else {
        None
    };
    if let Some(r) = rule {
        return Err(ScanError::Pairing(r));
    }
    let present = |pattern: &str| elements.iter().any(|e| dictionary::matches(pattern, &e.ai));
    let defs: Vec<&AiDef> = elements.iter().filter_map(|e| lookup(&e.ai)).collect();
    for def in &defs {
        let clash = def.ex.iter().find_map(|pattern| {
            elements
                .iter()
                .find(|e| e.ai != def.ai && dictionary::matches(pattern, &e.ai))
        });
        if let Some(other) = clash {
            return Err(ScanError::Excluded {
                ai: def.ai.to_owned(),
                other: other.ai.clone(),
            });
        }
    }
    if !defs.iter().any(|d| d.is_key()) {
        return Ok(());
    }
    for def in &defs {
        for alternatives in def.req {
            let met = alternatives
                .iter()
                .any(|all| all.iter().all(|p| *p == "00" || present(p)));
            if !met {
                let needs: Vec<String> = alternatives
                    .iter()
                    .map(|all| {
                        all.iter()
                            .map(|p| format!("({p})"))
                            .collect::<Vec<_>>()
                            .join(" with ")
                    })
                    .collect();
                return Err(ScanError::Requires {
                    ai: def.ai.to_owned(),
                    needs: needs.join(" or "),
                });
            }
        }
    }
    Ok(())
}
