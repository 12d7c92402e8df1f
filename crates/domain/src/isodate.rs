//! Dates in records as `YYYY-MM-DD` text: byte for byte what chrono's own serde writes and
//! reads (so files and JSON output are unchanged), without chrono's general-purpose
//! formatter and parser. Traces and bulk loads decode and encode lots by the thousand, and
//! chrono's text handling was about a tenth of a trace (BENCHMARKS.md).
//!
//! Use as `#[serde(with = "isodate")]`, or `isodate::opt` for `Option<NaiveDate>`.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use std::fmt;

pub fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    let y = d.year();
    if !(0..=9999).contains(&y) {
        // Chrono signs years outside four digits; leave those to it.
        return d.serialize(s);
    }
    let digit = |n: u32| b'0' + (n % 10) as u8;
    let (y, m, day) = (y as u32, d.month(), d.day());
    let b = [
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(day / 10),
        digit(day),
    ];
    // Ten ASCII digits and dashes are always UTF-8.
    s.serialize_str(std::str::from_utf8(&b).unwrap_or_default())
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    d.deserialize_str(DateVisitor)
}

/// `YYYY-MM-DD` read directly; anything else (signed far years) as chrono reads it.
pub fn parse(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let num = |r: std::ops::Range<usize>| {
            b[r].iter().try_fold(0u32, |acc, c| {
                c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
            })
        };
        return NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?);
    }
    s.parse().ok()
}

struct DateVisitor;

impl de::Visitor<'_> for DateVisitor {
    type Value = NaiveDate;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a date as YYYY-MM-DD")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<NaiveDate, E> {
        parse(v).ok_or_else(|| E::custom(format!("{} is not a date", crate::text::excerpt(v))))
    }
}

/// The same for `Option<NaiveDate>`.
pub mod opt {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Iso(#[serde(with = "super")] NaiveDate);

    pub fn serialize<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        d.map(Iso).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        Ok(Option::<Iso>::deserialize(d)?.map(|i| i.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Ours {
        #[serde(with = "super")]
        d: NaiveDate,
        #[serde(with = "opt")]
        e: Option<NaiveDate>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Chrono {
        d: NaiveDate,
        e: Option<NaiveDate>,
    }

    #[test]
    fn same_bytes_and_json_as_chrono() {
        let days = [
            NaiveDate::MIN,
            NaiveDate::from_ymd_opt(-1, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(0, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(999, 2, 3).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            NaiveDate::from_ymd_opt(9999, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(10000, 1, 1).unwrap(),
            NaiveDate::MAX,
        ];
        for d in days {
            for e in [None, Some(d)] {
                let ours = Ours { d, e };
                let theirs = Chrono { d, e };
                let bytes = postcard::to_stdvec(&ours).unwrap();
                assert_eq!(bytes, postcard::to_stdvec(&theirs).unwrap(), "{d}");
                assert_eq!(postcard::from_bytes::<Ours>(&bytes).unwrap(), ours);
                let json = serde_json::to_string(&ours).unwrap();
                assert_eq!(json, serde_json::to_string(&theirs).unwrap());
                assert_eq!(serde_json::from_str::<Ours>(&json).unwrap(), ours);
            }
        }
        for bad in ["2026-13-01", "2026-02-30", "20x6-01-01", ""] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
