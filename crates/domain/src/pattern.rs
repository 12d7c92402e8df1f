//! Lot-code patterns: how we name the lots we create.
//!
//! A pattern is text with tokens: `{YY}` `{YYYY}` year, `{JJJ}` day of year (Julian date,
//! as printed on most food labels), `{MM}` `{DD}`, and `{SEQ}` or `{SEQ:n}` a sequence
//! padded to n digits that restarts for each distinct rendered prefix — so
//! `R{YY}{JJJ}-{SEQ:3}` gives `R26325-001`, `R26325-002`, then `R26326-001` the next day.

use super::{Invalid, LotCode};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

pub const DEFAULT_RECEIPT_PATTERN: &str = "R{YY}{JJJ}-{SEQ:3}";
pub const DEFAULT_BATCH_PATTERN: &str = "B{YY}{JJJ}-{SEQ:3}";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LotPattern(String);

impl TryFrom<String> for LotPattern {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        LotPattern::parse(&s, "pattern")
    }
}

impl From<LotPattern> for String {
    fn from(p: LotPattern) -> String {
        p.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Lit(&'a str),
    Year2,
    Year4,
    Julian,
    Month,
    Day,
    Seq(usize),
}

fn pieces(p: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = p;
    while !rest.is_empty() {
        match rest.find('{') {
            Some(0) => {
                let end = rest.find('}').ok_or("a '{' has no closing '}'")?;
                let tok = &rest[1..end];
                out.push(match tok {
                    "YY" => Piece::Year2,
                    "YYYY" => Piece::Year4,
                    "JJJ" => Piece::Julian,
                    "MM" => Piece::Month,
                    "DD" => Piece::Day,
                    "SEQ" => Piece::Seq(1),
                    t if t.starts_with("SEQ:") => {
                        let n: usize = t[4..].parse().map_err(|_| format!("{{{t}}} needs a width 1-6, such as {{SEQ:3}}"))?;
                        if !(1..=6).contains(&n) {
                            return Err(format!("{{{t}}} needs a width 1-6"));
                        }
                        Piece::Seq(n)
                    }
                    t => return Err(format!("{{{t}}} is not a token; use {{YY}} {{YYYY}} {{JJJ}} {{MM}} {{DD}} {{SEQ:n}}")),
                });
                rest = &rest[end + 1..];
            }
            Some(i) => {
                out.push(Piece::Lit(&rest[..i]));
                rest = &rest[i..];
            }
            None => {
                out.push(Piece::Lit(rest));
                rest = "";
            }
        }
    }
    Ok(out)
}

impl LotPattern {
    pub fn parse(text: &str, field: &str) -> Result<LotPattern, Invalid> {
        let t = text.trim();
        // A pattern names every lot the plant makes, and lot codes end up in file names
        // (labels, exports) and on terminals: no path separators, no `..`, nothing
        // unprintable, and no longer than a code could be.
        if t.chars().count() > super::MAX_CODE_LEN {
            return Err(Invalid::new(
                field,
                format!(
                    "{} is longer than {} characters",
                    super::text::excerpt(t),
                    super::MAX_CODE_LEN
                ),
            ));
        }
        if let Some(c) = t.chars().find(|&c| super::text::is_unsafe(c)) {
            return Err(Invalid::new(
                field,
                format!("contains {}; type plain text", super::text::describe(c)),
            ));
        }
        if t.contains('/') || t.contains("..") {
            return Err(Invalid::new(
                field,
                format!(
                    "{} contains '/' or '..', which would make lot codes look like file paths; use - or _",
                    super::text::excerpt(t)
                ),
            ));
        }
        let ps = pieces(t).map_err(|e| Invalid::new(field, e))?;
        let seqs = ps.iter().filter(|p| matches!(p, Piece::Seq(_))).count();
        if seqs != 1 {
            return Err(Invalid::new(
                field,
                "needs exactly one {SEQ} or {SEQ:n} so that codes are unique",
            ));
        }
        if !matches!(ps.last(), Some(Piece::Seq(_))) {
            return Err(Invalid::new(
                field,
                "must end with {SEQ} or {SEQ:n}, so one day's codes sort in order",
            ));
        }
        // Render a sample to check the literal characters make a valid lot code.
        let sample = LotPattern(t.to_string()).render(
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default(),
            999_999,
        );
        LotCode::parse(&sample, field)?;
        Ok(LotPattern(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the sequence: the key of the sequence counter.
    pub fn prefix(&self, date: NaiveDate) -> String {
        self.render_with(date, None)
    }

    pub fn render(&self, date: NaiveDate, seq: u32) -> String {
        self.render_with(date, Some(seq))
    }

    fn render_with(&self, date: NaiveDate, seq: Option<u32>) -> String {
        let mut s = String::new();
        // A stored pattern was validated on the way in; an unreadable one renders as literal.
        let ps = pieces(&self.0).unwrap_or_else(|_| vec![Piece::Lit(&self.0), Piece::Seq(3)]);
        for p in ps {
            match p {
                Piece::Lit(l) => s.push_str(l),
                Piece::Year2 => s.push_str(&format!("{:02}", date.year().rem_euclid(100))),
                Piece::Year4 => s.push_str(&format!("{:04}", date.year())),
                Piece::Julian => s.push_str(&format!("{:03}", date.ordinal())),
                Piece::Month => s.push_str(&format!("{:02}", date.month())),
                Piece::Day => s.push_str(&format!("{:02}", date.day())),
                Piece::Seq(w) => {
                    if let Some(n) = seq {
                        s.push_str(&format!("{n:0w$}"))
                    }
                }
            }
        }
        s.to_ascii_uppercase()
    }
}

impl fmt::Display for LotPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn default_is_a_julian_code() {
        let p = LotPattern::parse(DEFAULT_RECEIPT_PATTERN, "pattern").unwrap();
        // 2025-11-20 is day 324 of 2025
        assert_eq!(p.render(d(2025, 11, 20), 7), "R25324-007");
        assert_eq!(p.prefix(d(2025, 11, 20)), "R25324-");
        assert_eq!(p.render(d(2026, 1, 1), 1234), "R26001-1234");
    }

    #[test]
    fn other_tokens() {
        let p = LotPattern::parse("L{YYYY}{MM}{DD}{SEQ:2}", "pattern").unwrap();
        assert_eq!(p.render(d(2026, 3, 9), 4), "L2026030904");
    }

    #[test]
    fn bad_patterns_say_why() {
        for (bad, why) in [
            ("R{YY}{JJJ}", "exactly one"),
            ("R{SEQ}{SEQ}", "exactly one"),
            ("{SEQ:3}-{YY}", "must end"),
            ("R{XX}{SEQ}", "not a token"),
            ("R{YY{SEQ}", "not a token"),
            ("R {SEQ}", "' '"),
            ("R{SEQ:9}", "width"),
            ("../{SEQ}", "'/' or '..'"),
            ("R/{SEQ}", "'/' or '..'"),
            ("R..{SEQ}", "'/' or '..'"),
            ("R\u{1b}[2J{SEQ}", "control"),
            ("R\u{202e}{SEQ}", "control"),
        ] {
            let e = LotPattern::parse(bad, "receipt-pattern").unwrap_err();
            assert!(e.problem.contains(why), "{bad}: {e}");
        }
    }
}
