//! The one rule for text and terminals: which characters may never reach a terminal raw,
//! how they are shown instead, and how much of a bad input an error may echo.
//!
//! A terminal obeys what it is sent. ESC starts a command (`ESC ] 52` writes the reader's
//! clipboard), C1 controls do the same on some terminals, bidi overrides and isolates make
//! `lot A` display as something else, and zero-width characters make two different codes
//! look alike. So text from the database or from input is checked against [`is_unsafe`]
//! when it is typed (free-text fields refuse such characters) and escaped with [`escape`]
//! whenever it is printed: the command line's output and errors, and every cell the app
//! draws.

use super::Invalid;
use std::borrow::Cow;

/// Longest excerpt of a bad input that an error message echoes, in characters.
pub const EXCERPT_CHARS: usize = 40;

/// Longest station name: a host name, a terminal, or an SSH client's address.
pub const MAX_STATION_CHARS: usize = 64;

/// A character that must never be written raw to a terminal: C0 and C1 controls, DEL,
/// bidi embeddings, overrides, isolates and marks, zero-width and invisible formatting
/// characters, line and paragraph separators, and the byte-order mark.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'               // soft hyphen: invisible unless a line breaks there
            | '\u{061C}'             // Arabic letter mark (bidi)
            | '\u{115F}' | '\u{1160}' // Hangul fillers: blank, zero-width in practice
            | '\u{180E}'             // Mongolian vowel separator (zero width)
            | '\u{200B}'..='\u{200F}' // zero-width space, (non-)joiner, LRM, RLM
            | '\u{2028}' | '\u{2029}' // line and paragraph separators
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{206A}'..='\u{206F}' // deprecated format characters
            | '\u{3164}'             // Hangul filler
            | '\u{FEFF}'             // byte-order mark, zero-width no-break space
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
            | '\u{E0000}'..='\u{E007F}' // tag characters (invisible)
        )
}

/// Whether `s` holds a character [`is_unsafe`] refuses.
pub fn has_unsafe(s: &str) -> bool {
    s.chars().any(is_unsafe)
}

/// How one unsafe character is shown: `\n`, `\t`, `\r`, `\e` for the common ones, `\u{…}`
/// for the rest (the Rust and JSON-like spelling people recognise).
fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\u{1b}' => out.push_str("\\e"),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// `s` safe for a terminal: every unsafe character escaped, the rest unchanged.
pub fn escape(s: &str) -> Cow<'_, str> {
    escape_keeping(s, |_| false)
}

/// Like [`escape`], but line breaks and tabs pass: for whole multi-line outputs whose
/// layout uses them. The lines' contents are still escaped.
pub fn escape_lines(s: &str) -> Cow<'_, str> {
    escape_keeping(s, |c| c == '\n' || c == '\t')
}

fn escape_keeping(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_unsafe(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) && !keep(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A bounded, escaped, quoted excerpt of a bad input for an error message: at most
/// [`EXCERPT_CHARS`] characters of it, then `…` and its length if it was longer.
pub fn excerpt(s: impl std::fmt::Display) -> String {
    let s = s.to_string();
    let s = s.as_str();
    let n = s.chars().count();
    let head: String = s.chars().take(EXCERPT_CHARS).collect();
    if n > EXCERPT_CHARS {
        format!("'{}…' ({n} characters)", escape(&head))
    } else {
        format!("'{}'", escape(&head))
    }
}

/// `s` escaped and cut to at most `max` characters (the last one `…` when cut): text from
/// outside (a file name, a document's field) made fit to keep with a record or report.
pub fn escaped_within(s: &str, max: usize) -> String {
    let e = escape(s);
    if e.chars().count() <= max {
        return e.into_owned();
    }
    let mut out: String = e.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Check a station name (`--station`, `LOTLINE_STATION`, a host name or an SSH client's
/// address): trimmed, 1–64 characters, none of them [`is_unsafe`] or a space.
pub fn station_name(text: &str, field: &str) -> Result<String, Invalid> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Invalid::new(
            field,
            "is empty; name the station, such as dock-1",
        ));
    }
    if t.chars().count() > MAX_STATION_CHARS {
        return Err(Invalid::new(
            field,
            format!(
                "{} is longer than {MAX_STATION_CHARS} characters; use a short name such as dock-1",
                excerpt(t)
            ),
        ));
    }
    if let Some(c) = t.chars().find(|&c| is_unsafe(c) || c.is_whitespace()) {
        return Err(Invalid::new(
            field,
            format!(
                "{} contains {}; use letters, digits and signs such as - . @ :",
                excerpt(t),
                describe(c)
            ),
        ));
    }
    Ok(t.to_string())
}

/// A character named for an error message, escaped when it is unsafe.
pub fn describe(c: char) -> String {
    if c == ' ' {
        "a space".into()
    } else if is_unsafe(c) {
        let mut s = String::from("the control or invisible character ");
        push_escaped(&mut s, c);
        s
    } else {
        format!("'{c}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_bidi_and_invisibles_are_unsafe() {
        for c in [
            '\u{0}',
            '\u{7}',
            '\u{1b}',
            '\n',
            '\u{7f}',
            '\u{85}',
            '\u{9b}',
            '\u{200b}',
            '\u{200d}',
            '\u{202e}',
            '\u{2066}',
            '\u{2069}',
            '\u{feff}',
            '\u{2028}',
            '\u{e0041}',
        ] {
            assert!(is_unsafe(c), "{:x}", c as u32);
        }
        for c in ['a', 'é', '°', '…', '·', '─', '中', '😀', ' '] {
            assert!(!is_unsafe(c), "{c}");
        }
    }

    #[test]
    fn escape_shows_every_unsafe_character() {
        let hostile = "a\u{1b}]52;c;aGk=\u{7}b\u{202e}c\u{9b}d";
        let e = escape(hostile);
        assert_eq!(e, "a\\e]52;c;aGk=\\u{7}b\\u{202e}c\\u{9b}d");
        assert!(!has_unsafe(&e));
        assert!(matches!(escape("plain · text"), Cow::Borrowed(_)));
        assert_eq!(escape_lines("a\nb\u{1b}\tc"), "a\nb\\e\tc");
    }

    #[test]
    fn excerpts_are_bounded_and_escaped() {
        assert_eq!(excerpt("abc"), "'abc'");
        let long = format!("\u{1b}{}", "x".repeat(5000));
        let e = excerpt(&long);
        assert!(e.chars().count() < 80, "{e}");
        assert!(e.contains("(5001 characters)"), "{e}");
        assert!(!has_unsafe(&e));
    }

    #[test]
    fn escaped_text_is_cut_to_its_bound() {
        assert_eq!(escaped_within("plain", 10), "plain");
        let e = escaped_within(&format!("a\u{1b}{}", "x".repeat(100)), 10);
        assert_eq!(e, "a\\exxxxxx…");
        assert_eq!(e.chars().count(), 10);
        assert!(!has_unsafe(&e));
    }

    #[test]
    fn station_names_are_checked() {
        assert_eq!(station_name(" dock-1 ", "station").unwrap(), "dock-1");
        assert_eq!(
            station_name("10.0.0.7:5022", "station").unwrap(),
            "10.0.0.7:5022"
        );
        for bad in [
            "",
            "dock 1",
            "\u{1b}]52;c;aGk=\u{7}",
            "dock\u{202e}1",
            "dock\u{200b}1",
        ] {
            let e = station_name(bad, "station").unwrap_err();
            assert!(!has_unsafe(&e.to_string()), "{e}");
        }
        assert!(station_name(&"x".repeat(65), "station").is_err());
    }
}
