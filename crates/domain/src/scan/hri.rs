use chrono::NaiveDate;

use super::ai::{self, Source};
use super::{Boundary, Element, ScanError};

/// If an AI group `(dd)`–`(dddd)` starts at `at`, the index just after its `)`.
///
/// Requiring digits inside the parentheses is what lets values keep their own
/// `(` and `)`, which CSET 82 allows (a lot "A(2)" stays intact). A value that
/// itself contains a digits-only group is inherently ambiguous in this form.
fn group_end(chars: &[char], at: usize) -> Option<usize> {
    if chars.get(at) != Some(&'(') {
        return None;
    }
    let mut i = at + 1;
    while chars.get(i).is_some_and(char::is_ascii_digit) {
        i += 1;
    }
    let digits = i - at - 1;
    ((2..=4).contains(&digits) && chars.get(i) == Some(&')')).then_some(i + 1)
}

pub(super) fn looks_like(text: &str) -> bool {
    let head: Vec<char> = text.chars().take(6).collect();
    group_end(&head, 0).is_some()
}

/// Parses `(01)09501101530003(10)ABC123`, whitespace between groups allowed.
pub(super) fn parse(text: &str, today: NaiveDate) -> Result<Vec<Element>, ScanError> {
    let chars: Vec<char> = text.chars().collect();
    let mut elements = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        // Each value runs up to the next group, so after the first group we
        // are always at one; this only triggers on input that did not pass
        // `looks_like`.
        let Some(after) = group_end(&chars, i) else {
            return Err(ScanError::ExpectedAi { found: c });
        };
        let ai_text: String = chars
            .get(i + 1..after - 1)
            .unwrap_or_default()
            .iter()
            .collect();
        let spec = ai::lookup(&ai_text).ok_or(ScanError::UnknownAi { ai: ai_text })?;
        let end = (after..chars.len())
            .find(|&k| group_end(&chars, k).is_some())
            .unwrap_or(chars.len());
        let raw: String = chars.get(after..end).unwrap_or_default().iter().collect();
        // Whitespace is neither a digit nor in CSET 82, so trimming it cannot
        // change a valid value.
        let value = raw.trim().to_owned();
        let before = if end < chars.len() {
            Boundary::NextAi
        } else {
            Boundary::EndOfScan
        };
        ai::check_length(spec, value.chars().count(), before, Source::HumanReadable)?;
        let el = ai::make_element(spec, value, Source::HumanReadable, today)?;
        ai::push_unique(&mut elements, el)?;
        i = end;
    }
    Ok(elements)
}
