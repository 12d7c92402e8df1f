//! Exact quantities and units of measure.
//!
//! Quantities are fixed-point thousandths in an `i64`, never floats: mass balance sums
//! thousands of lines and auditors compare the result to the gram.

use super::Invalid;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Thousandths per unit: three decimals cover grams in a kilogram and millilitres in a litre.
pub const SCALE: i64 = 1000;

/// A signed exact quantity in thousandths of its unit.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Qty(pub i64);

impl Qty {
    pub const ZERO: Qty = Qty(0);

    pub fn from_units(units: i64) -> Qty {
        Qty(units.saturating_mul(SCALE))
    }

    pub fn milli(self) -> i64 {
        self.0
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub fn checked_add(self, other: Qty) -> Option<Qty> {
        self.0.checked_add(other.0).map(Qty)
    }

    pub fn checked_sub(self, other: Qty) -> Option<Qty> {
        self.0.checked_sub(other.0).map(Qty)
    }

    /// Parse a quantity the user typed for `field`, which must be greater than zero.
    pub fn parse_positive(text: &str, field: &str) -> Result<Qty, Invalid> {
        let q: Qty = text
            .parse()
            .map_err(|e: QtyParseError| Invalid::new(field, e.0))?;
        if !q.is_positive() {
            return Err(Invalid::new(
                field,
                format!("must be greater than zero (got {q})"),
            ));
        }
        Ok(q)
    }
}

impl std::ops::Add for Qty {
    type Output = Qty;
    fn add(self, o: Qty) -> Qty {
        Qty(self.0.saturating_add(o.0))
    }
}

impl std::ops::Sub for Qty {
    type Output = Qty;
    fn sub(self, o: Qty) -> Qty {
        Qty(self.0.saturating_sub(o.0))
    }
}

impl std::ops::Neg for Qty {
    type Output = Qty;
    fn neg(self) -> Qty {
        Qty(self.0.saturating_neg())
    }
}

impl std::iter::Sum for Qty {
    fn sum<I: Iterator<Item = Qty>>(iter: I) -> Qty {
        iter.fold(Qty::ZERO, |a, b| a + b)
    }
}

impl fmt::Display for Qty {
    /// Shortest exact decimal: `12`, `12.5`, `0.125`, `-3.2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = abs / SCALE as u64;
        let frac = abs % SCALE as u64;
        let text = if frac == 0 {
            format!("{sign}{whole}")
        } else {
            let digits = format!("{frac:03}");
            format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
        };
        f.pad(&text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QtyParseError(pub String);

impl FromStr for Qty {
    type Err = QtyParseError;

    fn from_str(s: &str) -> Result<Qty, QtyParseError> {
        let t = s.trim();
        let bad = || {
            QtyParseError(format!(
                "{} is not a quantity; use a number with at most 3 decimals, such as 25 or 12.5",
                crate::text::excerpt(s)
            ))
        };
        let (neg, body) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (whole, frac) = match body.split_once('.') {
            Some((w, f)) => (w, f),
            None => (body, ""),
        };
        if (whole.is_empty() && frac.is_empty())
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        if frac.len() > 3 {
            return Err(QtyParseError(format!(
                "{} has more than 3 decimals; lotline keeps quantities to the thousandth",
                crate::text::excerpt(s)
            )));
        }
        let too_big = || QtyParseError(format!("{} is too large", crate::text::excerpt(s)));
        let w: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| too_big())?
        };
        let f: i64 = format!("{frac:0<3}").parse().unwrap_or(0);
        let milli = w
            .checked_mul(SCALE)
            .and_then(|v| v.checked_add(f))
            .ok_or_else(too_big)?;
        Ok(Qty(if neg { -milli } else { milli }))
    }
}

/// What a unit measures; only units of one dimension convert into each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Mass,
    Volume,
    Count,
}

/// Units of measure a food plant uses on its lots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Unit {
    Kg,
    G,
    Lb,
    Oz,
    L,
    Ml,
    Gal,
    Ea,
    Case,
    Dozen,
}

impl Unit {
    pub const ALL: [Unit; 10] = [
        Unit::Kg,
        Unit::G,
        Unit::Lb,
        Unit::Oz,
        Unit::L,
        Unit::Ml,
        Unit::Gal,
        Unit::Ea,
        Unit::Case,
        Unit::Dozen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Kg => "kg",
            Unit::G => "g",
            Unit::Lb => "lb",
            Unit::Oz => "oz",
            Unit::L => "l",
            Unit::Ml => "ml",
            Unit::Gal => "gal",
            Unit::Ea => "ea",
            Unit::Case => "case",
            Unit::Dozen => "dozen",
        }
    }

    pub fn dimension(self) -> Dimension {
        match self {
            Unit::Kg | Unit::G | Unit::Lb | Unit::Oz => Dimension::Mass,
            Unit::L | Unit::Ml | Unit::Gal => Dimension::Volume,
            Unit::Ea | Unit::Case | Unit::Dozen => Dimension::Count,
        }
    }

    /// Size of one of this unit in millionths of the dimension's base unit (kg, l).
    /// `None` for count units: a case holds what the item says, not a fixed number.
    fn micro_base(self) -> Option<i128> {
        Some(match self {
            Unit::Kg | Unit::L => 1_000_000,
            Unit::G | Unit::Ml => 1_000,
            Unit::Lb => 453_592,    // 0.45359237 kg, to the milligram
            Unit::Oz => 28_350,     // 28.349523 g
            Unit::Gal => 3_785_412, // US gallon, 3.785411784 l
            Unit::Ea | Unit::Case | Unit::Dozen => return None,
        })
    }

    /// Convert `q` of this unit into `to`, rounding to the thousandth.
    ///
    /// Returns an explanation when the units measure different things.
    pub fn convert(self, q: Qty, to: Unit) -> Result<Qty, String> {
        if self == to {
            return Ok(q);
        }
        match (self.micro_base(), to.micro_base()) {
            (Some(a), Some(b)) if self.dimension() == to.dimension() => {
                let num = q.0 as i128 * a;
                // round half away from zero
                let v = (num * 2 + num.signum() * b) / (2 * b);
                i64::try_from(v)
                    .map(Qty)
                    .map_err(|_| "quantity is too large".to_string())
            }
            _ => Err(format!(
                "{} cannot be converted to {}",
                self.as_str(),
                to.as_str()
            )),
        }
    }

    /// Units a lot measured in `self` may be entered in.
    pub fn compatible(self) -> Vec<Unit> {
        Unit::ALL
            .into_iter()
            .filter(|u| {
                *u == self
                    || (u.dimension() == self.dimension()
                        && u.micro_base().is_some()
                        && self.micro_base().is_some())
            })
            .collect()
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Unit {
    type Err = String;
    fn from_str(s: &str) -> Result<Unit, String> {
        let t = s.trim().to_ascii_lowercase();
        Ok(match t.as_str() {
            "kg" | "kgs" => Unit::Kg,
            "g" | "gram" | "grams" => Unit::G,
            "lb" | "lbs" => Unit::Lb,
            "oz" => Unit::Oz,
            "l" | "lt" | "liter" | "litre" => Unit::L,
            "ml" => Unit::Ml,
            "gal" => Unit::Gal,
            "ea" | "each" | "pc" | "pcs" => Unit::Ea,
            "case" | "cs" => Unit::Case,
            "dozen" | "dz" => Unit::Dozen,
            _ => {
                let all: Vec<&str> = Unit::ALL.iter().map(|u| u.as_str()).collect();
                return Err(format!(
                    "{} is not a unit; accepted: {}",
                    crate::text::excerpt(s),
                    all.join(", ")
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_exactly() {
        for (text, milli, shown) in [
            ("25", 25_000, "25"),
            ("12.5", 12_500, "12.5"),
            ("0.125", 125, "0.125"),
            (".5", 500, "0.5"),
            ("7.", 7_000, "7"),
            ("-3.2", -3_200, "-3.2"),
            (" 40 ", 40_000, "40"),
        ] {
            let q: Qty = text.parse().unwrap();
            assert_eq!(q.milli(), milli, "{text}");
            assert_eq!(q.to_string(), shown, "{text}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_quantity() {
        for bad in [
            "",
            "abc",
            "1.2.3",
            "1,5",
            "1.2345",
            "--1",
            ".",
            "1e3",
            "99999999999999999",
        ] {
            assert!(bad.parse::<Qty>().is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn positive_names_the_field() {
        let e = Qty::parse_positive("0", "qty").unwrap_err();
        assert_eq!(e.field, "qty");
        assert!(e.problem.contains("greater than zero"), "{e}");
        let e = Qty::parse_positive("-2", "qty").unwrap_err();
        assert!(e.problem.contains("greater than zero"), "{e}");
        let e = Qty::parse_positive("many", "qty").unwrap_err();
        assert!(e.problem.contains("not a quantity"), "{e}");
    }

    #[test]
    fn sums_have_no_drift() {
        // 0.1 added ten thousand times is exactly 1000: no floating point anywhere.
        let tenth: Qty = "0.1".parse().unwrap();
        let total: Qty = std::iter::repeat_n(tenth, 10_000).sum();
        assert_eq!(total, Qty::from_units(1000));
    }

    #[test]
    fn converts_within_a_dimension_only() {
        let g: Qty = "2500".parse().unwrap();
        assert_eq!(Unit::G.convert(g, Unit::Kg).unwrap().to_string(), "2.5");
        let lb: Qty = "50".parse().unwrap();
        assert_eq!(Unit::Lb.convert(lb, Unit::Kg).unwrap().to_string(), "22.68");
        assert!(Unit::Kg.convert(lb, Unit::L).is_err());
        assert!(Unit::Case.convert(lb, Unit::Ea).is_err());
        assert_eq!(Unit::Case.convert(lb, Unit::Case).unwrap(), lb);
        assert_eq!(
            Unit::Kg.compatible(),
            vec![Unit::Kg, Unit::G, Unit::Lb, Unit::Oz]
        );
        assert_eq!(Unit::Ea.compatible(), vec![Unit::Ea]);
    }

    #[test]
    fn units_parse_with_aliases_and_list_the_accepted_ones() {
        assert_eq!("KG".parse::<Unit>().unwrap(), Unit::Kg);
        assert_eq!("cs".parse::<Unit>().unwrap(), Unit::Case);
        let e = "bushel".parse::<Unit>().unwrap_err();
        assert!(e.contains("accepted: kg, g"), "{e}");
    }
}
