use chrono::NaiveDate;

use super::{Boundary, Element, PairingRule, ScanError, gs1_check_digit};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Charset {
    Numeric,
    /// GS1 AI encodable character set 82.
    Cset82,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Length {
    Fixed(usize),
    Variable(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Meaning {
    Text,
    /// Identification key with a mod-10 check digit; the name is what the
    /// floor user knows it as.
    Key(&'static str),
    /// YYMMDD. `day_zero`: whether DD=00 ("end of month") is allowed.
    Date {
        day_zero: bool,
    },
    /// The last digit of the AI says how many of the digits are decimals.
    Decimal {
        places: usize,
    },
}

#[derive(Debug)]
pub(super) struct AiSpec {
    pub(super) ai: &'static str,
    pub(super) charset: Charset,
    pub(super) length: Length,
    pub(super) meaning: Meaning,
}

const fn spec(ai: &'static str, charset: Charset, length: Length, meaning: Meaning) -> AiSpec {
    AiSpec {
        ai,
        charset,
        length,
        meaning,
    }
}

const N: Charset = Charset::Numeric;
const X: Charset = Charset::Cset82;
const DATE: Meaning = Meaning::Date { day_zero: true };
const fn fixed(n: usize) -> Length {
    Length::Fixed(n)
}
const fn var(n: usize) -> Length {
    Length::Variable(n)
}
const fn dec(places: usize) -> Meaning {
    Meaning::Decimal { places }
}

/// The AIs lotline accepts. Deliberately a closed list: for an AI we do not
/// know we cannot know its length, and guessing would silently swallow the
/// following AIs into its value.
///
/// The table must stay prefix-free (no AI is the start of another), which is
/// what lets an element string be split without lookahead; a test checks it.
static TABLE: &[AiSpec] = &[
    spec("00", N, fixed(18), Meaning::Key("SSCC")),
    spec("01", N, fixed(14), Meaning::Key("GTIN")),
    spec("02", N, fixed(14), Meaning::Key("GTIN")),
    spec("10", X, var(20), Meaning::Text),
    spec("11", N, fixed(6), DATE),
    spec("12", N, fixed(6), DATE),
    spec("13", N, fixed(6), DATE),
    spec("15", N, fixed(6), DATE),
    spec("16", N, fixed(6), DATE),
    spec("17", N, fixed(6), DATE),
    spec("20", N, fixed(2), Meaning::Text),
    spec("21", X, var(20), Meaning::Text),
    spec("22", X, var(20), Meaning::Text),
    spec("240", X, var(30), Meaning::Text),
    spec("241", X, var(30), Meaning::Text),
    spec("254", X, var(20), Meaning::Text),
    spec("30", N, var(8), Meaning::Text),
    spec("3100", N, fixed(6), dec(0)),
    spec("3101", N, fixed(6), dec(1)),
    spec("3102", N, fixed(6), dec(2)),
    spec("3103", N, fixed(6), dec(3)),
    spec("3104", N, fixed(6), dec(4)),
    spec("3105", N, fixed(6), dec(5)),
    spec("3200", N, fixed(6), dec(0)),
    spec("3201", N, fixed(6), dec(1)),
    spec("3202", N, fixed(6), dec(2)),
    spec("3203", N, fixed(6), dec(3)),
    spec("3204", N, fixed(6), dec(4)),
    spec("3205", N, fixed(6), dec(5)),
    spec("37", N, var(8), Meaning::Text),
    spec("400", X, var(30), Meaning::Text),
    spec("410", N, fixed(13), Meaning::Key("GLN")),
    spec("411", N, fixed(13), Meaning::Key("GLN")),
    spec("412", N, fixed(13), Meaning::Key("GLN")),
    spec("413", N, fixed(13), Meaning::Key("GLN")),
    spec("414", N, fixed(13), Meaning::Key("GLN")),
    spec("415", N, fixed(13), Meaning::Key("GLN")),
    spec("416", N, fixed(13), Meaning::Key("GLN")),
    spec("417", N, fixed(13), Meaning::Key("GLN")),
    // Fixed length but outside the predefined-length table, so GS1 still
    // requires a separator after them when more data follows.
    spec("422", N, fixed(3), Meaning::Text),
    spec("426", N, fixed(3), Meaning::Text),
    spec("7006", N, fixed(6), Meaning::Date { day_zero: false }),
];

#[cfg(test)]
pub(super) fn all() -> &'static [AiSpec] {
    TABLE
}

pub(super) fn lookup(ai: &str) -> Option<&'static AiSpec> {
    TABLE.iter().find(|s| s.ai == ai)
}

/// An identification key: its value ends in a verified mod-10 check digit.
pub(super) fn is_key(spec: &AiSpec) -> bool {
    matches!(spec.meaning, Meaning::Key(_))
}

pub(super) fn is_known_prefix(digits: &str) -> bool {
    TABLE.iter().any(|s| s.ai.starts_with(digits))
}

/// GS1 General Specifications figure 7.8.5-2 ("predefined length"): total
/// length, AI included, for AIs by their first two digits. Only these may be
/// followed directly by the next AI without a separator. The list is fixed by
/// GS1 forever so that old scanners keep working, which is why it includes
/// prefixes (03, 04, 14, 18, 19, 33–36) lotline has no AIs for.
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
    spec: &AiSpec,
    found: usize,
    before: Boundary,
    source: Source,
) -> Result<(), ScanError> {
    let numeric = spec.charset == Charset::Numeric;
    let (min, max, exact) = match spec.length {
        Length::Fixed(n) => (n, n, true),
        Length::Variable(n) => (1, n, false),
    };
    if found < min {
        return Err(ScanError::TooShort {
            ai: spec.ai.to_owned(),
            min,
            exact,
            numeric,
            found,
            before,
        });
    }
    if found > max {
        return Err(ScanError::TooLong {
            ai: spec.ai.to_owned(),
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

/// Validates characters and meaning of a value whose length has been checked.
pub(super) fn make_element(
    spec: &AiSpec,
    value: String,
    source: Source,
    today: NaiveDate,
) -> Result<Element, ScanError> {
    let ai = || spec.ai.to_owned();
    match spec.charset {
        Charset::Numeric => {
            if let Some(found) = value.chars().find(|c| !c.is_ascii_digit()) {
                return Err(ScanError::NotNumeric {
                    ai: ai(),
                    found,
                    separator_hint: maybe_separator(found, source),
                });
            }
        }
        Charset::Cset82 => {
            if let Some(found) = value.chars().find(|&c| !is_cset82(c)) {
                return Err(ScanError::InvalidCharacter {
                    ai: ai(),
                    found,
                    separator_hint: maybe_separator(found, source),
                });
            }
        }
    }
    let mut date = None;
    let mut decimal = None;
    match spec.meaning {
        Meaning::Text => {}
        Meaning::Key(key) => check_key(spec.ai, key, &value)?,
        Meaning::Date { day_zero } => date = Some(parse_date(spec.ai, &value, day_zero, today)?),
        Meaning::Decimal { places } => decimal = Some(decimal_text(&value, places)),
    }
    Ok(Element {
        ai: ai(),
        value,
        date,
        decimal,
    })
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

/// Exact decimal text, so weights never pass through a float.
fn decimal_text(value: &str, places: usize) -> String {
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

pub(super) fn check_pairs(elements: &[Element]) -> Result<(), ScanError> {
    let has = |ai: &str| elements.iter().any(|e| e.ai == ai);
    let rule = if has("01") && has("02") {
        Some(PairingRule::GtinAndContent)
    } else if has("01") && has("37") {
        Some(PairingRule::CountWithGtin)
    } else if has("02") && !has("37") {
        Some(PairingRule::ContentWithoutCount)
    } else if has("37") && !has("02") {
        Some(PairingRule::CountWithoutContent)
    } else {
        None
    };
    rule.map_or(Ok(()), |r| Err(ScanError::Pairing(r)))
}
