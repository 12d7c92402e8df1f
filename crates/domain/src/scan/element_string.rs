use chrono::NaiveDate;

use super::ai::{self, AiDef, Source};
use super::{Boundary, Element, GS, ScanError};

/// Parses a GS1 element string (what follows `]C1`, `]d2`, … ) into elements.
///
/// Works on a `Vec<char>` so that positions never fall inside a multi-byte
/// character, whatever the scanner sent.
pub(super) fn parse(
    data: &str,
    separator: char,
    today: NaiveDate,
) -> Result<Vec<Element>, ScanError> {
    // A real GS can never be data, so it separates even when the scanner is
    // configured for a substitute: mixed setups then still parse.
    let is_sep = |c: char| c == separator || c == GS;
    let chars: Vec<char> = data.chars().collect();
    let mut elements = Vec::new();
    let mut i = 0;
    loop {
        // Leading (FNC1-first) and doubled separators carry no meaning.
        while chars.get(i).is_some_and(|&c| is_sep(c)) {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let spec = read_ai(&chars, &mut i)?;
        let start = i;
        // Predefined-length AIs end by length alone; everything else runs to
        // the next separator, so that a fixed-length AI outside the predefined
        // table with extra characters is reported as too long rather than
        // silently split.
        let limit = (!spec.separator).then(|| spec.max_len());
        let mut j = start;
        while let Some(&c) = chars.get(j) {
            if is_sep(c) || limit.is_some_and(|l| j - start >= l) {
                break;
            }
            j += 1;
        }
        let before = if j < chars.len() {
            Boundary::Separator
        } else {
            Boundary::EndOfScan
        };
        ai::check_length(spec, j - start, before, Source::ElementString)?;
        let value: String = chars.get(start..j).unwrap_or_default().iter().collect();
        let el = ai::make_element(spec, value, Source::ElementString, today)?;
        ai::push_unique(&mut elements, el)?;
        i = j;
    }
    Ok(elements)
}

/// Reads the AI at `*pos`. The table is prefix-free, so the first match while
/// reading digits is the only possible one.
fn read_ai(chars: &[char], pos: &mut usize) -> Result<&'static AiDef, ScanError> {
    let start = *pos;
    let mut run = String::new();
    let mut i = start;
    while let Some(&c) = chars.get(i) {
        if run.len() >= 4 || !c.is_ascii_digit() {
            break;
        }
        run.push(c);
        i += 1;
        if run.len() >= 2
            && let Some(spec) = ai::lookup(&run)
        {
            *pos = i;
            return Ok(spec);
        }
    }
    if run.is_empty() {
        return Err(match chars.get(start) {
            Some(&found) => ScanError::ExpectedAi { found },
            None => ScanError::TruncatedAi { digits: run },
        });
    }
    if i >= chars.len() && ai::is_known_prefix(&run) {
        return Err(ScanError::TruncatedAi { digits: run });
    }
    // Name the AI as far as it is certainly unknown: "99", but "3109" rather
    // than "31", since 31xx AIs exist.
    let cut = (1..=run.len())
        .find(|&k| run.get(..k).is_some_and(|p| !ai::is_known_prefix(p)))
        .unwrap_or(run.len())
        .max(2)
        .min(run.len());
    Err(ScanError::UnknownAi {
        ai: run.get(..cut).unwrap_or(&run).to_owned(),
    })
}
