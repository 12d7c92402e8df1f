//! GS1 identifiers as the event hash takes them: any GS1 Digital Link URI as the
//! canonical one (`https://id.gs1.org/01/{GTIN-14}/10/{lot}`), with the finest level of
//! identification only and no query. Values that are not such a URI give `None` and are
//! hashed as they are.
//!
//! This is the reference implementation's normaliser step for step (its patterns are
//! spelled below with a small matcher instead of regular expressions). EPC URNs
//! (`urn:epc:id:…`) are not converted: lotline writes Digital Link URIs only, so a URN
//! could only be a whole free-text value; docs/epcis.md says so.

/// One step of a pattern, matched from the start of the text.
#[derive(Clone, Copy)]
enum Tok<'a> {
    Lit(&'a str),
    /// `.`: any character but a newline.
    Any,
    /// A class repeated `min..=max` times, greedily, giving back as needed.
    Set(fn(char) -> bool, usize, usize),
    /// `$`: the end, or a newline that ends the text.
    End,
}

use Tok::*;

const MANY: usize = usize::MAX;

fn digit(c: char) -> bool {
    c.is_ascii_digit()
}

/// The characters GS1 allows in AI values written in a URI path unescaped.
fn x(c: char) -> bool {
    matches!(c, '"' | '\'' | '-' | '.' | '0'..='9' | ';'..='?' | 'A'..='Z' | '_' | 'a'..='z')
}

fn x_or_slash(c: char) -> bool {
    c == '/' || x(c)
}

fn cpi(c: char) -> bool {
    matches!(c, '#' | '-' | '/' | '0'..='9' | 'A'..='Z')
}

fn not_slash(c: char) -> bool {
    c != '/'
}

fn matches(toks: &[Tok<'_>], s: &[char]) -> bool {
    at(toks, s, 0)
}

/// Does `toks` match `s` from character `i` on?
fn at(toks: &[Tok<'_>], s: &[char], i: usize) -> bool {
    {
        let Some((first, rest)) = toks.split_first() else {
            return true;
        };
        match *first {
            Lit(l) => {
                let mut j = i;
                for c in l.chars() {
                    if s.get(j) != Some(&c) {
                        return false;
                    }
                    j += 1;
                }
                at(rest, s, j)
            }
            Any => s.get(i).is_some_and(|c| *c != '\n') && at(rest, s, i + 1),
            Set(f, min, max) => {
                let mut n = 0;
                while n < max && s.get(i + n).is_some_and(|c| f(*c)) {
                    n += 1;
                }
                (min..=n).rev().any(|k| at(rest, s, i + k))
            }
            End => (i == s.len() || (i + 1 == s.len() && s[i] == '\n')) && at(rest, s, i),
        }
    }
}

/// `https://id.gs1.org/` as the reference writes it (its dots match any character),
/// then `rest`.
fn gs1(s: &[char], rest: &[Tok<'_>]) -> bool {
    const PREFIX: &[Tok<'static>] = &[Lit("https://id"), Any, Lit("gs1"), Any, Lit("org/")];
    matches(PREFIX, s) && at(rest, s, 19)
}

const KEYS_IN: [&str; 28] = [
    "01", "gtin", "8006", "itip", "8010", "cpid", "414", "gln", "417", "party", "8017", "gsrnp",
    "8018", "gsrn", "255", "gcn", "00", "sscc", "253", "gdti", "401", "ginc", "402", "gsin",
    "8003", "grai", "8004", "giai",
];

const KEYS_CANONICAL: [&str; 14] = [
    "01", "8006", "8010", "414", "417", "8017", "8018", "255", "00", "253", "401", "402", "8003",
    "8004",
];

/// The keys in the order the reference looks for them when moving a URI to id.gs1.org.
const KEYS_FIRST: [&str; 14] = [
    "00", "01", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006", "8010", "8017",
    "8018",
];

const SHORT_NAMES: [(&str, &str); 17] = [
    ("/gtin/", "/01/"),
    ("/itip/", "/8006/"),
    ("/cpid/", "/8010/"),
    ("/gln/", "/414/"),
    ("/party/", "/417/"),
    ("/gsrnp/", "/8017/"),
    ("/gsrn/", "/8018/"),
    ("/gcn/", "/255/"),
    ("/sscc/", "/00/"),
    ("/gdti/", "/253/"),
    ("/ginc/", "/401/"),
    ("/gsin/", "/402/"),
    ("/grai/", "/8003/"),
    ("/giai/", "/8004/"),
    ("/cpv/", "/22/"),
    ("/lot/", "/10/"),
    ("/ser/", "/21/"),
];

/// Python's `s[from..]` with its meaning of -1 (from the last character).
fn from_char(s: &str, from: Option<usize>) -> String {
    match from {
        Some(i) => s[i..].to_string(),
        None => s.chars().last().map(String::from).unwrap_or_default(),
    }
}

/// Whether some `/` is followed by four ASCII digits and then a character other than
/// `/`: what [`is_digital_link`] asks after a key, so text without it is no Digital Link
/// URI.
fn has_slash_four_digits(uri: &str) -> bool {
    let b = uri.as_bytes();
    b.iter().enumerate().any(|(j, &c)| {
        c == b'/'
            && b.len() > j + 5
            && b[j + 1..j + 5].iter().all(u8::is_ascii_digit)
            && b[j + 5] != b'/'
    })
}

/// The reference's first test: an http(s) URI with a `/{key}/` followed by four digits and
/// more, before any query or fragment. (Its pattern, read for what it accepts; a scan
/// here, since trying each key with a backtracking matcher costs a lot per value.)
fn is_digital_link(uri: &str) -> bool {
    let scheme = if uri.starts_with("https:") {
        6
    } else if uri.starts_with("http:") {
        5
    } else {
        return false;
    };
    let end = uri[scheme..]
        .find(['?', '#'])
        .map_or(uri.len(), |i| scheme + i);
    uri[scheme..end].match_indices('/').any(|(at, _)| {
        let after = &uri[scheme + at + 1..];
        KEYS_IN.iter().any(|k| {
            after
                .strip_prefix(k)
                .and_then(|a| a.strip_prefix('/'))
                .is_some_and(|v| {
                    let b = v.as_bytes();
                    b.len() > 4 && b[..4].iter().all(u8::is_ascii_digit) && b[4] != b'/'
                })
        })
    })
}

pub fn normalise(uri: &str) -> Option<String> {
    // Only http(s) URIs can be Digital Link ones, and only those with a `/` followed by
    // four digits and more (what follows a key): most values stop here, before the
    // key-by-key scan, which costs more than the rest of a value's hashing.
    if !uri.contains('.') || !uri.starts_with("http") || !has_slash_four_digits(uri) {
        return None;
    }
    if !is_digital_link(uri) {
        return None;
    }
    let mut uri = uri.split('?').next().unwrap_or(uri).to_string();
    for (short, ai) in SHORT_NAMES {
        if uri.contains(short) {
            uri = uri.replace(short, ai);
        }
    }
    let c = |u: &str| -> Vec<char> { u.chars().collect() };
    let chars = c(&uri);
    let canonical = KEYS_CANONICAL.iter().any(|k| {
        let key = format!("{k}/");
        gs1(
            &chars,
            &[Lit(&key), Set(digit, 4, 4), Set(not_slash, 1, MANY)],
        )
    });
    if !canonical && let Some(i) = KEYS_FIRST.iter().find_map(|k| uri.find(&format!("/{k}/"))) {
        uri = format!("https://id.gs1.org{}", &uri[i..]);
    }
    // GTINs of 8, 12 and 13 digits as GTIN-14.
    let chars = c(&uri);
    let gtin = |n: usize| gs1(&chars, &[Lit("01/"), Set(digit, n, n)]);
    if !gtin(14) {
        if gtin(13) {
            uri = uri.replace("/01/", "/01/0");
        } else if gtin(12) {
            uri = uri.replace("/01/", "/01/00");
        } else if gtin(8) {
            uri = uri.replace("/01/", "/01/000000");
        }
    }
    // A consumer product variant (22) is dropped.
    let cpv_at = uri.find("/22/");
    let after_cpv = uri
        .get(cpv_at.map_or(3, |i| i + 4)..)
        .unwrap_or("")
        .to_string();
    let cpv = |class: fn(char) -> bool, u: &str| {
        if !u.contains("/22/") {
            return false;
        }
        let chars = c(u);
        let tail = [Lit("/22/"), Set(class, 0, 20), End];
        gs1(
            &chars,
            &[&[Lit("8006/"), Set(digit, 18, 18)][..], &tail].concat(),
        ) || gs1(
            &chars,
            &[&[Lit("01/"), Set(digit, 14, 14)][..], &tail].concat(),
        )
    };
    if cpv(x, &uri)
        && let Some(at) = uri.find("/22/")
    {
        let tail = from_char(&after_cpv, after_cpv.find('/'));
        let mut tail: Vec<char> = tail.chars().collect();
        tail.pop();
        uri = format!("{}{}", &uri[..at], tail.into_iter().collect::<String>());
    }
    if cpv(x_or_slash, &uri)
        && let Some(at) = uri.find("/22/")
    {
        uri = format!(
            "{}{}",
            &uri[..at],
            from_char(&after_cpv, after_cpv.find('/'))
        );
    }
    // A serial number is finer than a lot: the lot goes.
    let chars = c(&uri);
    let lot_and_serial = |key: &'static str, n: usize| {
        gs1(
            &chars,
            &[
                Lit(key),
                Set(digit, n, n),
                Lit("/10/"),
                Set(x, 0, 20),
                Lit("/21/"),
                Set(x, 0, 20),
                End,
            ],
        )
    };
    if (lot_and_serial("8006/", 18) || lot_and_serial("01/", 14))
        && let Some(at) = uri.find("/10/")
    {
        let y = &uri[at + 4..];
        let tail = from_char(y, y.find('/'));
        uri = format!("{}{tail}", &uri[..at]);
    }
    let chars = c(&uri);
    let valid = VALID.iter().any(|p| gs1(&chars, p));
    valid.then_some(uri)
}

/// The canonical URIs the reference accepts as a result (after `https://id.gs1.org/`).
const VALID: &[&[Tok<'static>]] = &[
    &[Lit("00/"), Set(digit, 18, 18), End],
    &[
        Lit("01/"),
        Set(digit, 14, 14),
        Lit("/21/"),
        Set(x, 0, 20),
        End,
    ],
    &[
        Lit("01/"),
        Set(digit, 14, 14),
        Lit("/10/"),
        Set(x, 0, 20),
        End,
    ],
    &[Lit("01/"), Set(digit, 14, 14), End],
    &[
        Lit("01/"),
        Set(digit, 14, 14),
        Lit("/235/"),
        Set(x, 0, 28),
        End,
    ],
    &[Lit("253/"), Set(digit, 13, 13), Set(x, 0, 17), End],
    &[Lit("255/"), Set(digit, 13, 13), Set(digit, 0, 12), End],
    &[Lit("401/"), Set(x, 0, 30), End],
    &[Lit("402/"), Set(digit, 17, 17), End],
    &[Lit("414/"), Set(digit, 13, 13), End],
    &[
        Lit("414/"),
        Set(digit, 13, 13),
        Lit("/254/"),
        Set(x, 0, 20),
        End,
    ],
    &[Lit("417/"), Set(digit, 13, 13), End],
    &[Lit("8003/"), Set(digit, 14, 14), Set(x, 0, 16), End],
    &[Lit("8004/"), Set(x, 0, 30), End],
    &[
        Lit("8006/"),
        Set(digit, 18, 18),
        Lit("/21/"),
        Set(x, 0, 20),
        End,
    ],
    &[
        Lit("8006/"),
        Set(digit, 18, 18),
        Lit("/10/"),
        Set(x, 0, 20),
        End,
    ],
    &[Lit("8006/"), Set(digit, 18, 18), End],
    &[
        Lit("8010/"),
        Set(cpi, 0, 30),
        Lit("/8011/"),
        Set(digit, 0, 12),
        End,
    ],
    &[Lit("8010/"), Set(cpi, 0, 30), End],
    &[Lit("8017/"), Set(digit, 18, 18), End],
    &[Lit("8018/"), Set(digit, 18, 18), End],
];

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn digital_link_uris_become_canonical() {
        let n = |s: &str| normalise(s);
        assert_eq!(
            n("https://id.gs1.org/01/00614141000036/10/SU26301-2").as_deref(),
            Some("https://id.gs1.org/01/00614141000036/10/SU26301-2")
        );
        // Another host, a short name, a 13-digit GTIN, a query: all canonical.
        assert_eq!(
            n("https://example.com/gtin/4012345000016/lot/ABC?linkType=all").as_deref(),
            Some("https://id.gs1.org/01/04012345000016/10/ABC")
        );
        // Lot and serial: only the serial stays.
        assert_eq!(
            n("https://id.gs1.org/01/04012345000016/10/L1/21/S9").as_deref(),
            Some("https://id.gs1.org/01/04012345000016/21/S9")
        );
        assert_eq!(
            n("https://id.gs1.org/414/0614141000012").as_deref(),
            Some("https://id.gs1.org/414/0614141000012")
        );
        // lotline's own identifiers and escaped lot codes are left as they are.
        assert_eq!(
            n("https://lotline.example/id/gln-0614141000012/party/MILL"),
            None
        );
        assert_eq!(n("https://id.gs1.org/01/00614141000036/10/A%2FB"), None);
        // …unless they read as a GS1 key, as the reference reads them.
        assert_eq!(
            n("https://lotline.example/id/plant/party/0614141000012").as_deref(),
            Some("https://id.gs1.org/417/0614141000012")
        );
        assert_eq!(n("no dots here"), None);
        // The key must come before any query or fragment; its value may run into one.
        assert!(super::has_slash_four_digits("https://x.example/01/1234?q"));
        assert!(!super::has_slash_four_digits("https://x.example/01/1234"));
        assert!(!super::has_slash_four_digits("https://x.example/01/123/4"));
        assert!(!super::has_slash_four_digits("https://x.example/01/1234/5"));
        // Every URI the key-by-key test accepts passes the quick one first.
        for u in [
            "https://x.example/01/1234?q",
            "https://id.gs1.org/01/09506000134352/10/ABC",
            "http://a.b/gtin/12345678/10/x",
            "https://a.b/x/y/8006/123456789012345678",
        ] {
            assert!(super::is_digital_link(u), "{u}");
            assert!(super::has_slash_four_digits(u), "{u}");
        }
        assert!(super::is_digital_link("https://x.example/01/1234?q"));
        assert!(!super::is_digital_link("https://x.example/?/01/12345"));
        assert!(!super::is_digital_link("https://x.example/01/1234/5"));
        assert_eq!(n("urn:epc:class:lgtin:4012345.012345.998877"), None);
    }
}
