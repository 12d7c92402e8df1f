//! Text that fits the label: a line is set smaller (down to a least size its caller
//! gives) or wrapped onto its second line before anything is cut, and a cut is always
//! marked "…".
//!
//! The printer measures its own font; we cannot ask it. Widths here are estimates of the
//! Zebra scalable font (`^A0`, a condensed sans serif) that err wide, so what we say fits
//! does fit: a word may wrap a little early, but nothing runs off the label unmarked.

use unicode_width::UnicodeWidthChar;

/// The mark that says text was cut.
pub const CUT: char = '…';

/// Estimated advance of `c` at font height `h`, in dots.
fn advance(c: char, h: u32) -> u32 {
    let h = h as f32;
    let w = match c {
        ' ' | '.' | ',' | ':' | ';' | '\'' | '!' | '|' | 'i' | 'I' | 'l' | 'j' | '1' | '('
        | ')' | '[' | ']' | '/' | '-' => 0.35,
        'M' | 'W' | 'm' | 'w' | '@' | '%' | '&' => 0.85,
        c if c.width() == Some(2) => 1.0,
        c if c.is_lowercase() => 0.55,
        _ => 0.62,
    };
    (w * h).ceil() as u32
}

/// Estimated width of `text` at font height `h`, in dots.
pub fn width(text: &str, h: u32) -> u32 {
    text.chars().map(|c| advance(c, h)).sum()
}

/// Text set to fit: its lines, their font height, and whether it had to be cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fitted {
    pub lines: Vec<String>,
    pub height: u32,
    pub cut: bool,
}

/// Set `text` in at most `max_lines` lines of `room` dots, at font height `h` or smaller
/// (not below `min`): one line at full size, else one line smaller, else wrapped, else
/// wrapped smaller; only then cut, with [`CUT`] at the end.
pub fn fit(text: &str, room: u32, h: u32, min: u32, max_lines: usize) -> Fitted {
    let min = min.clamp(1, h);
    let sizes = || (min..=h).rev();
    let text = text.trim();
    if let Some(s) = sizes().find(|&s| width(text, s) <= room) {
        return Fitted {
            lines: vec![text.to_string()],
            height: s,
            cut: false,
        };
    }
    for s in sizes() {
        let lines = wrap(text, room, s);
        if lines.len() <= max_lines {
            return Fitted {
                lines,
                height: s,
                cut: false,
            };
        }
    }
    let mut lines = wrap(text, room, min);
    lines.truncate(max_lines.max(1));
    if let Some(last) = lines.last_mut() {
        let mut cut = last.clone();
        while !cut.is_empty() && width(&format!("{cut}{CUT}"), min) > room {
            cut.pop();
        }
        *last = format!("{}{CUT}", cut.trim_end());
    }
    Fitted {
        lines,
        height: min,
        cut: true,
    }
}

/// Greedy word wrap to `room` dots at height `h`; a word wider than a line is broken.
fn wrap(text: &str, room: u32, h: u32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if width(&candidate, h) <= room {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            if !line.is_empty() && width(&line, h) + advance(c, h) > room {
                lines.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_stays_whole_at_full_size() {
        let f = fit("EGGS  Shell eggs", 772, 34, 28, 2);
        assert_eq!(f.lines, ["EGGS  Shell eggs"]);
        assert_eq!((f.height, f.cut), (34, false));
    }

    #[test]
    fn a_little_too_long_is_set_smaller_before_it_wraps() {
        let text = "COOKIE-CC  Chocolate chip cookies";
        let room = width(text, 30);
        let f = fit(text, room, 34, 28, 2);
        assert_eq!(f.lines.len(), 1);
        assert!(f.height < 34 && f.height >= 28 && !f.cut, "{f:?}");
    }

    #[test]
    fn longer_text_wraps_onto_two_lines_and_loses_nothing() {
        let text = "COOKIE-CC  Chocolate chip cookies 12 x 200 g";
        let f = fit(text, 600, 34, 28, 2);
        assert_eq!(f.lines.len(), 2, "{f:?}");
        assert!(!f.cut);
        assert_eq!(
            f.lines.join(" "),
            "COOKIE-CC Chocolate chip cookies 12 x 200 g"
        );
        assert!(f.lines.iter().all(|l| width(l, f.height) <= 600));
    }

    #[test]
    fn what_cannot_fit_on_two_lines_is_cut_with_a_mark() {
        let text =
            "Organic stone-ground whole wheat flour from the north field, unbleached, 25 kg sack";
        let f = fit(text, 300, 34, 28, 2);
        assert!(f.cut);
        assert_eq!(f.lines.len(), 2);
        assert!(f.lines[1].ends_with(CUT), "{f:?}");
        assert!(f.lines.iter().all(|l| width(l, f.height) <= 300));
    }

    #[test]
    fn a_word_wider_than_the_label_is_broken_and_wide_characters_count_double() {
        let f = fit(&"X".repeat(60), 400, 30, 24, 2);
        assert!(f.lines.iter().all(|l| width(l, f.height) <= 400), "{f:?}");
        assert_eq!(width("豆腐", 30), 2 * 30);
        assert!(fit(&"豆腐".repeat(12), 200, 30, 24, 2).cut);
    }
}
