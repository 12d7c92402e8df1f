//! The dictionary's content checks ("linters") for one component of an AI's data. Each
//! returns why the component is wrong, in words for the floor terminal; the caller names
//! the AI. Check digits and dates are done by the caller, whose errors carry more.

use super::dictionary::{self, Lint};

/// GS1 AI encodable character set 82, in GS1's order (its index is the value that
/// `csumalpha` weighs).
const CSET82: &str =
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
/// The 32 characters a GS1 check character pair is drawn from.
const CSET32: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Checks `value` (one component) by `lint`. Check digits and dates are not done here.
pub(super) fn check(lint: Lint, value: &str) -> Result<(), String> {
    let digits = || value.bytes().all(|b| b.is_ascii_digit());
    let number = || value.parse::<u64>().ok();
    match lint {
        Lint::Csum | Lint::Yymmd0 | Lint::Yymmdd | Lint::Yyyymmdd => Ok(()),
        Lint::Csumalpha => csumalpha(value),
        Lint::Gcppos1 => company_prefix(value),
        Lint::Gcppos2 => company_prefix(value.get(1..).unwrap_or("")),
        Lint::Hhmi => {
            let (h, m) = (value.get(..2), value.get(2..4));
            two_digits(h, 23, "hour")?;
            two_digits(m, 59, "minute")
        }
        Lint::Hh => two_digits(Some(value), 23, "hour"),
        Lint::Mi => two_digits(Some(value), 59, "minute"),
        Lint::Ss => two_digits(Some(value), 59, "second"),
        Lint::Iso3166 => known(
            dictionary::is_country(value),
            value,
            "an ISO 3166 country code",
        ),
        Lint::Iso3166999 => known(
            value == "999" || dictionary::is_country(value),
            value,
            "an ISO 3166 country code (nor 999)",
        ),
        Lint::Iso3166alpha2 => known(
            dictionary::is_country_alpha2(value),
            value,
            "an ISO 3166 two-letter country code",
        ),
        Lint::Iso4217 => known(
            dictionary::is_currency(value),
            value,
            "an ISO 4217 currency code",
        ),
        Lint::Iso5218 => one_of(value, &["0", "1", "2", "9"], "a sex code (0, 1, 2 or 9)"),
        Lint::Yesno => one_of(value, &["0", "1"], "0 (no) or 1 (yes)"),
        Lint::Hyphen => one_of(value, &["-"], "a minus sign (-)"),
        Lint::Zero => one_of(value, &["0"], "0"),
        Lint::Winding => one_of(value, &["0", "1", "9"], "a winding direction (0, 1 or 9)"),
        Lint::Nonzero => match number() {
            Some(0) => Err(format!("{value} must not be zero")),
            _ => Ok(()),
        },
        Lint::Pieceoftotal => {
            let (piece, total) = (value.get(..2), value.get(2..));
            match (
                piece.and_then(|p| p.parse::<u32>().ok()),
                total.and_then(|t| t.parse::<u32>().ok()),
            ) {
                (Some(p), Some(t)) if p >= 1 && t >= 1 && p <= t => Ok(()),
                _ => Err(format!(
                    "{value} is not a piece number and a total (piece 01 to total)"
                )),
            }
        }
        Lint::Iban => iban(value),
        Lint::Latitude => range(
            value,
            1_800_000_000,
            "a latitude (0000000000 to 1800000000)",
        ),
        Lint::Longitude => range(
            value,
            3_600_000_000,
            "a longitude (0000000000 to 3600000000)",
        ),
        Lint::Importeridx => {
            let ok = value.len() == 1
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "{value} is not an importer index (one of 0-9, A-Z, a-z, - or _)"
                ))
            }
        }
        // UN/ECE Recommendation 21 codes are capitals and digits; the list itself changes
        // often and is not shipped, so only the form is checked (docs/scanning.md).
        Lint::Packagetype => {
            let ok = value
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "{value} is not a package type code (capitals and digits)"
                ))
            }
        }
        Lint::Mediatype => match number() {
            Some(1..=10 | 80..=99) if value.len() == 2 => Ok(()),
            _ => Err(format!(
                "{value} is not an AIDC media type (01 to 10, or 80 to 99)"
            )),
        },
        Lint::Posinseqslash => {
            let b = value.as_bytes();
            let ok = matches!(b, [p, b'/', t] if (b'1'..=b'9').contains(p) && (b'1'..=b'9').contains(t) && p <= t);
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "{value} is not a position in a sequence such as 1/2"
                ))
            }
        }
        Lint::Nozeroprefix => {
            if value.len() > 1 && value.starts_with('0') {
                Err(format!("{value} must not start with 0"))
            } else {
                Ok(())
            }
        }
        Lint::Hasnondigit => {
            if digits() {
                Err(format!(
                    "{value} must contain a character that is not a digit"
                ))
            } else {
                Ok(())
            }
        }
        // Coupon codes are digits throughout; their inner fields (funder, offer, value…)
        // are the retailer's business and are not checked (docs/scanning.md).
        Lint::Couponcode | Lint::Couponposoffer => {
            if digits() {
                Ok(())
            } else {
                Err(format!("{value} is not a coupon code (digits only)"))
            }
        }
        Lint::Pcenc => pcenc(value),
    }
}

fn known(ok: bool, value: &str, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("{value} is not {what}"))
    }
}

fn one_of(value: &str, allowed: &[&str], what: &str) -> Result<(), String> {
    known(allowed.contains(&value), value, what)
}

fn two_digits(text: Option<&str>, max: u32, what: &str) -> Result<(), String> {
    match text.and_then(|t| t.parse::<u32>().ok()) {
        Some(n) if n <= max => Ok(()),
        _ => Err(format!(
            "{} is not a valid {what} (00 to {max:02})",
            text.unwrap_or("")
        )),
    }
}

fn range(value: &str, max: u64, what: &str) -> Result<(), String> {
    match value.parse::<u64>() {
        Ok(n) if n <= max => Ok(()),
        _ => Err(format!("{value} is not {what}")),
    }
}

/// A GS1 Company Prefix starts the key: at least its first four characters are digits.
fn company_prefix(value: &str) -> Result<(), String> {
    let head = value.get(..4).unwrap_or(value);
    if head.len() == 4 && head.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "{value} does not start with a GS1 Company Prefix (digits)"
        ))
    }
}

/// `%` must start a two-hex-digit escape.
fn pcenc(value: &str) -> Result<(), String> {
    let b = value.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let ok = b
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
            if !ok {
                return Err(format!(
                    "{value} has a % that is not followed by two hex digits"
                ));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// GS1 check character pair (GS1 General Specifications 7.9.5): the characters' CSET 82
/// values weighted by primes from the right, modulo 1021, as two CSET 32 characters.
fn csumalpha(value: &str) -> Result<(), String> {
    const PRIMES: [u32; 23] = [
        2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83,
    ];
    let bytes = value.as_bytes();
    let n = bytes.len();
    let bad = || Err(format!("{value} does not end in its two check characters"));
    if !(3..=PRIMES.len() + 2).contains(&n) {
        return bad();
    }
    let mut sum = 0u32;
    for (i, &c) in bytes.iter().take(n - 2).enumerate() {
        let Some(v) = CSET82.bytes().position(|x| x == c) else {
            return bad();
        };
        let Some(&w) = PRIMES.get(n - 3 - i) else {
            return bad();
        };
        sum += u32::try_from(v).unwrap_or(0) * w;
    }
    sum %= 1021;
    let expected = [
        CSET32.get(usize::try_from(sum >> 5).unwrap_or(0)),
        CSET32.get(usize::try_from(sum & 31).unwrap_or(0)),
    ];
    let found = [bytes.get(n - 2), bytes.get(n - 1)];
    if expected == found {
        Ok(())
    } else {
        let e: String = expected.iter().flatten().map(|&&b| char::from(b)).collect();
        Err(format!("{value} should end in the check characters {e}"))
    }
}

/// ISO 13616: country code, two check digits, then letters and digits, mod 97 = 1.
fn iban(value: &str) -> Result<(), String> {
    let b = value.as_bytes();
    let bad = || Err(format!("{value} is not a valid IBAN"));
    let (Some(country), Some(check), Some(rest)) = (value.get(..2), b.get(2..4), b.get(4..)) else {
        return bad();
    };
    if !dictionary::is_country_alpha2(country)
        || !check.iter().all(u8::is_ascii_digit)
        || !rest
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        || rest.is_empty()
    {
        return bad();
    }
    let mut rem = 0u32;
    for &c in rest.iter().chain(b.get(..4).unwrap_or_default()) {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    if rem == 1 { Ok(()) } else { bad() }
}
