//! Everything the command line writes goes through here, so that no text from the
//! database or from input reaches a terminal raw, whichever command printed it.
//!
//! The rule is the domain's ([`lotline_domain::text`]); this applies it to a byte stream:
//! line breaks and tabs pass (the layout uses them), every other unsafe character is
//! escaped, and bytes that are not UTF-8 are shown as `\xNN`.

use lotline_domain::text;
use std::io::{self, Write};

/// A writer that escapes unsafe characters on their way to `inner`.
pub struct SafeWriter<W: Write> {
    inner: W,
    /// The start of a UTF-8 sequence split across two writes (at most 3 bytes).
    pending: Vec<u8>,
}

impl<W: Write> SafeWriter<W> {
    pub fn new(inner: W) -> Self {
        SafeWriter {
            inner,
            pending: Vec::new(),
        }
    }

    fn emit(&mut self, s: &str) -> io::Result<()> {
        self.inner.write_all(text::escape_lines(s).as_bytes())
    }
}

impl<W: Write> Write for SafeWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Text with nothing to escape — nearly all output — passes as it is. Checking
        // ASCII as bytes and only other characters in full is ten times faster than the
        // general path (which was a third of a large `trace --json`, BENCHMARKS.md).
        if self.pending.is_empty()
            && let Ok(s) = std::str::from_utf8(buf)
            && passes(s)
        {
            self.inner.write_all(buf)?;
            return Ok(buf.len());
        }
        let joined;
        let mut bytes: &[u8] = if self.pending.is_empty() {
            buf
        } else {
            let mut v = std::mem::take(&mut self.pending);
            v.extend_from_slice(buf);
            joined = v;
            &joined
        };
        loop {
            match std::str::from_utf8(bytes) {
                Ok(s) => {
                    self.emit(s)?;
                    break;
                }
                Err(e) => {
                    let (good, rest) = bytes.split_at(e.valid_up_to());
                    // SAFETY-free: `good` is valid UTF-8 by from_utf8's word.
                    self.emit(std::str::from_utf8(good).unwrap_or_default())?;
                    match e.error_len() {
                        // A sequence cut short by the end of this write: keep it for the next.
                        None => {
                            self.pending = rest.to_vec();
                            break;
                        }
                        Some(n) => {
                            for b in &rest[..n] {
                                write!(self.inner, "\\x{b:02x}")?;
                            }
                            bytes = &rest[n..];
                        }
                    }
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Drop for SafeWriter<W> {
    fn drop(&mut self) {
        // A sequence never completed is shown as the bytes it was.
        for b in std::mem::take(&mut self.pending) {
            let _ = write!(self.inner, "\\x{b:02x}");
        }
        let _ = self.inner.flush();
    }
}

/// Whether `s` may be written as it is: no character [`text::is_unsafe`] refuses but line
/// breaks and tabs.
fn passes(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            if !((0x20..0x7f).contains(&c) || c == b'\n' || c == b'\t') {
                return false;
            }
            i += 1;
        } else {
            // `i` is always on a character boundary: it moves by whole characters.
            let Some(ch) = s[i..].chars().next() else {
                return false;
            };
            if text::is_unsafe(ch) {
                return false;
            }
            i += ch.len_utf8();
        }
    }
    true
}

/// JSON for scripts, safe for a terminal too: serde_json escapes C0 controls but passes
/// DEL, C1 controls, bidi and zero-width characters raw inside strings. They can only
/// appear inside strings, so `\uXXXX` keeps the document's meaning exactly.
pub fn json_escape_unsafe(json: &str) -> std::borrow::Cow<'_, str> {
    if !json
        .chars()
        .any(|c| text::is_unsafe(c) && c != '\n' && c != '\t')
    {
        return std::borrow::Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if text::is_unsafe(c) && c != '\n' && c != '\t' {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(parts: &[&[u8]]) -> String {
        let mut out = Vec::new();
        {
            let mut w = SafeWriter::new(&mut out);
            for p in parts {
                w.write_all(p).unwrap();
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_controls_and_keeps_layout() {
        let s = through(&["lot A\u{1b}]52;c;aGk=\u{7}\tx\n├─ \u{202e}b\n".as_bytes()]);
        assert_eq!(s, "lot A\\e]52;c;aGk=\\u{7}\tx\n├─ \\u{202e}b\n");
    }

    #[test]
    fn a_character_split_across_writes_is_kept_whole() {
        let bytes = "é\u{202e}".as_bytes();
        let s = through(&[&bytes[..1], &bytes[1..3], &bytes[3..]]);
        assert_eq!(s, "é\\u{202e}");
        assert_eq!(through(&[b"a\xffb", b"\xc3"]), "a\\xffb\\xc3");
    }

    /// A record stored before text was checked (or written by another tool) still reaches
    /// the terminal escaped: the history of a lot whose stamp and reason carry escapes.
    #[test]
    fn a_stored_hostile_record_is_printed_escaped() {
        use lotline_station::testing::*;
        let (_d, s, [flour, ..]) = bakery();
        let mut h = s.lot_history(&flour).unwrap();
        for e in &mut h.events {
            e.event.stamp.station = "\u{1b}]52;c;aGk=\u{7}dock".into();
            e.event.stamp.operator = "ana\u{202e}".into();
        }
        h.lot.item = lotline_domain::ItemCode::parse("FLOUR", "item").unwrap();
        for json in [false, true] {
            let mut out = Vec::new();
            {
                let mut w = SafeWriter::new(&mut out);
                super::super::output::history(&mut w, &h, None, json).unwrap();
            }
            let text = String::from_utf8(out).unwrap();
            assert!(!text.contains('\u{1b}'), "{text}");
            assert!(!text.contains('\u{202e}'), "{text}");
            assert!(text.contains("dock"), "{text}");
        }
    }

    #[test]
    fn plain_text_and_box_drawing_pass_unchanged_and_the_rest_is_still_caught() {
        assert!(passes("lot A-1  ├─ é 漢字\tx\n"));
        for bad in [
            "a\u{7f}",
            "\u{9b}",
            "x\u{202e}",
            "\u{200b}",
            "\u{1b}[2J",
            "\r",
        ] {
            assert!(!passes(bad), "{bad:?}");
        }
        assert_eq!(through(&["├─ ok\n".as_bytes()]), "├─ ok\n");
    }

    #[test]
    fn json_stays_json() {
        let v = serde_json::json!({ "name": "a\u{202e}b\u{9b}\u{1b}\u{1f600}" });
        let raw = serde_json::to_string_pretty(&v).unwrap();
        let safe = json_escape_unsafe(&raw);
        assert!(!text::has_unsafe(&safe.replace('\n', "")));
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, v);
    }
}
