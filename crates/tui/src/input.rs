//! Between the terminal and the keymap: crossterm events become `Input`s.
//!
//! This is the one place raw events are looked at. It filters to key presses, keeps resizes
//! and pastes, and recognises a barcode scanner's burst of keys as one `Input::Scan`
//! (docs/tui.md, "Scanning"), so the screens never see a scan as keys.
//!
//! A keyboard-wedge scanner types a whole barcode in a few milliseconds and ends it with
//! Enter. A scan is recognised by its framing first — an AIM symbology identifier (`]`, a
//! letter and a digit: `]C1`, `]d2`, `]Q3`, `]e0`, `]C0`…), the prefix the scanner is set to
//! send, or a leading GS (FNC1) — and by timing as a second signal: without framing, at
//! least `min_burst_len` characters each within `max_key_gap` of the last, then Enter.
//! Framed bursts are allowed the looser `framed_key_gap`, because over SSH timing blurs.
//!
//! To tell, printable keys are held back while they could still be part of a burst: a few
//! milliseconds for a person's key, until the Enter for a scanner's. When a burst goes
//! quiet (`deadline`) or a key that cannot be in a scan arrives, the held keys are let go
//! as the ordinary keys they were, in order: a person typing `]` in a field sees it a
//! moment later, never loses it. Time is passed in (`at`), so tests never sleep.
//!
//! GS arrives as Ctrl+5 (crossterm's name for byte 29), as Ctrl+] (with keyboard
//! enhancement) or as the character itself; all three become '\u{1d}' in the scan text. A
//! CR LF suffix arrives as Enter then Ctrl+J; the Ctrl+J is swallowed.

use super::keymap::Key;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use std::time::{Duration, Instant};

/// ASCII 29, the group separator scanners send for FNC1.
pub const GS: char = '\u{1d}';

/// What the app reacts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A key press (or repeat). `key` is what the keymap matches; `event` is kept for
    /// text editing.
    Key { key: Key, event: KeyEvent },
    /// Text pasted in one go (bracketed paste), typed into the focused field.
    Paste(String),
    /// A barcode scan: the text the scanner typed, framing (AIM identifier, prefix) kept
    /// for the parser, GS as '\u{1d}', without the Enter that ended it.
    Scan(String),
    /// The terminal changed size; the next draw uses the new size.
    Resize,
}

impl Input {
    pub fn key(event: KeyEvent) -> Input {
        Input::Key {
            key: Key::from_event(&event),
            event,
        }
    }

    /// A plain key for tests and scripted input.
    pub fn code(code: KeyCode) -> Input {
        Input::key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    pub fn ctrl(c: char) -> Input {
        Input::key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
    }

    /// Each character of `text` as a key press, as a person types it.
    pub fn typed(text: &str) -> Vec<Input> {
        text.chars()
            .map(|c| Input::code(KeyCode::Char(c)))
            .collect()
    }
}

/// How a scanner is told from a person: the `[scanner]` settings of the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanTiming {
    /// A prefix the scanner is set to send before each scan: framing, like an AIM id.
    pub prefix: Option<String>,
    /// Unframed bursts: each key at most this long after the one before.
    pub max_key_gap: Duration,
    /// Framed bursts: the looser gap allowed once framing says "scanner".
    pub framed_key_gap: Duration,
    /// Unframed bursts: at least this many characters before the Enter.
    pub min_burst_len: usize,
}

impl Default for ScanTiming {
    fn default() -> Self {
        ScanTiming {
            prefix: None,
            max_key_gap: Duration::from_millis(30),
            framed_key_gap: Duration::from_millis(150),
            min_burst_len: 6,
        }
    }
}

/// How far the held text is framed as a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// Cannot be framed: only timing can make it a scan.
    None,
    /// The start of a framing (`]`, `]C`, part of the prefix).
    Partial,
    /// Framed; the framing is this many characters.
    Framed(usize),
}

/// Turns a stream of terminal events into inputs, recognising scanner bursts.
#[derive(Debug, Default)]
pub struct Decoder {
    timing: ScanTiming,
    /// Keys held back while they may be a burst, and the scan text they make.
    held: Vec<KeyEvent>,
    text: String,
    /// When the last held key came, and the widest gap between held keys.
    held_at: Option<Instant>,
    widest_gap: Duration,
    /// After a scan's Enter: a Ctrl+J (the LF of CR LF) until then is swallowed.
    lf_until: Option<Instant>,
    last_key_at: Option<Instant>,
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::default()
    }

    pub fn with_timing(timing: ScanTiming) -> Decoder {
        Decoder {
            timing,
            ..Decoder::default()
        }
    }

    pub fn timing(&self) -> &ScanTiming {
        &self.timing
    }

    /// The inputs one event stands for (none for key releases, focus and mouse events, and
    /// none yet for keys held back as a possible scan).
    pub fn feed(&mut self, event: Event, at: Instant) -> Vec<Input> {
        match event {
            Event::Key(k) if k.is_press() || k.is_repeat() => {
                self.last_key_at = Some(at);
                self.key(k, at)
            }
            Event::Paste(text) => {
                let mut out = self.release();
                out.push(Input::Paste(text));
                out
            }
            // A resize does not end a burst: it only asks for a redraw.
            Event::Resize(..) => vec![Input::Resize],
            _ => Vec::new(),
        }
    }

    /// When the held keys must be let go if no other key comes first; None when nothing
    /// is held. The event loop waits no longer than this, then calls `flush`.
    pub fn deadline(&self) -> Option<Instant> {
        if self.held.is_empty() {
            return None;
        }
        self.held_at.map(|t| t + self.allowed(&self.text))
    }

    /// Let held keys go as ordinary keys if their burst went quiet by `at`.
    pub fn flush(&mut self, at: Instant) -> Vec<Input> {
        match self.deadline() {
            Some(d) if at >= d => self.release(),
            _ => Vec::new(),
        }
    }

    /// Whether keys are held back now (a burst may be under way).
    pub fn holding(&self) -> bool {
        !self.held.is_empty()
    }

    /// When the last key arrived.
    pub fn last_key_at(&self) -> Option<Instant> {
        self.last_key_at
    }

    fn key(&mut self, k: KeyEvent, at: Instant) -> Vec<Input> {
        let mut out = Vec::new();
        // CR LF: the LF right after a scan's Enter belongs to the scan.
        if let Some(until) = self.lf_until.take()
            && is_ctrl_j(&k)
            && at <= until
        {
            return out;
        }
        // A burst that went quiet before this key: its keys were a person's.
        if self.deadline().is_some_and(|d| at > d) {
            out.extend(self.release());
        }
        let gap = self
            .held_at
            .map(|t| at.saturating_duration_since(t))
            .unwrap_or_default();
        if let Some(c) = self.scan_char(&k) {
            let mut text = self.text.clone();
            text.push(c);
            let widest = if self.held.is_empty() {
                Duration::ZERO
            } else {
                self.widest_gap.max(gap)
            };
            if !self.held.is_empty() && widest > self.allowed(&text) {
                // Too slow to be one burst with what is held: let that go, start again.
                out.extend(self.release());
                text = c.to_string();
                self.widest_gap = Duration::ZERO;
            } else {
                self.widest_gap = widest;
            }
            self.held.push(k);
            self.text = text;
            self.held_at = Some(at);
            return out;
        }
        if is_end(&k) && !self.held.is_empty() && self.is_scan(self.widest_gap.max(gap)) {
            let text = std::mem::take(&mut self.text);
            self.held.clear();
            self.held_at = None;
            self.widest_gap = Duration::ZERO;
            if k.code == KeyCode::Enter {
                self.lf_until = Some(at + self.allowed_framed());
            }
            out.push(Input::Scan(text));
            return out;
        }
        out.extend(self.release());
        out.push(Input::key(k));
        out
    }

    /// The held keys as ordinary keys, in order.
    fn release(&mut self) -> Vec<Input> {
        self.text.clear();
        self.held_at = None;
        self.widest_gap = Duration::ZERO;
        self.held.drain(..).map(Input::key).collect()
    }

    /// The character a key adds to a scan, if it can be part of one.
    fn scan_char(&self, k: &KeyEvent) -> Option<char> {
        let m = k.modifiers;
        let ctrl_only = m == KeyModifiers::CONTROL;
        match k.code {
            KeyCode::Char(GS) => Some(GS),
            // Byte 29 as crossterm reports it, and as enhanced keyboards do.
            KeyCode::Char('5' | ']') if ctrl_only => Some(GS),
            KeyCode::Char(c) if (m - KeyModifiers::SHIFT).is_empty() && !c.is_control() => Some(c),
            // A control character in the configured prefix (such as STX, Ctrl+B).
            KeyCode::Char(c) if ctrl_only => {
                let cc = control_char(c)?;
                let prefix = self.timing.prefix.as_deref().unwrap_or("");
                let mut t = self.text.clone();
                t.push(cc);
                (!prefix.is_empty() && prefix.starts_with(&t)).then_some(cc)
            }
            _ => None,
        }
    }

    fn frame(&self, text: &str) -> Frame {
        frame(text, self.timing.prefix.as_deref())
    }

    fn allowed_framed(&self) -> Duration {
        self.timing.framed_key_gap.max(self.timing.max_key_gap)
    }

    /// The widest gap allowed between the keys of a burst holding `text`.
    fn allowed(&self, text: &str) -> Duration {
        match self.frame(text) {
            Frame::None => self.timing.max_key_gap,
            Frame::Partial | Frame::Framed(_) => self.allowed_framed(),
        }
    }

    /// Is the held text, ended now with the widest gap `widest`, a scan?
    fn is_scan(&self, widest: Duration) -> bool {
        let n = self.text.chars().count();
        match self.frame(&self.text) {
            Frame::Framed(f) => n > f && widest <= self.allowed_framed(),
            Frame::None | Frame::Partial => {
                n >= self.timing.min_burst_len.max(1) && widest <= self.timing.max_key_gap
            }
        }
    }
}

/// How far `text` is framed as a scan: an AIM identifier, the configured prefix, or a GS
/// first.
fn frame(text: &str, prefix: Option<&str>) -> Frame {
    if let Some(p) = prefix.filter(|p| !p.is_empty()) {
        if text.starts_with(p) {
            return Frame::Framed(p.chars().count());
        }
        if p.starts_with(text) {
            return Frame::Partial;
        }
    }
    let mut cs = text.chars();
    match (cs.next(), cs.next(), cs.next()) {
        (Some(GS), _, _) => Frame::Framed(1),
        (Some(']'), Some(l), Some(d)) if l.is_ascii_alphabetic() && d.is_ascii_digit() => {
            Frame::Framed(3)
        }
        (Some(']'), None, _) => Frame::Partial,
        (Some(']'), Some(l), None) if l.is_ascii_alphabetic() => Frame::Partial,
        _ => Frame::None,
    }
}

/// Whether a scan's text is framed — it starts with an AIM identifier (`]C1`), the
/// configured `prefix`, or a GS — so a scanner sent it for sure. An unframed scan was
/// told from typing by its speed alone, and may be a person typing fast.
pub fn is_framed(text: &str, prefix: Option<&str>) -> bool {
    matches!(frame(text, prefix), Frame::Framed(_))
}

/// The control character crossterm reports as Ctrl and `c`: bytes 1–26 as Ctrl+a..z,
/// 28–31 as Ctrl+4..7.
fn control_char(c: char) -> Option<char> {
    match c {
        'a'..='z' => Some(char::from(c as u8 - b'a' + 1)),
        '4'..='7' => Some(char::from(c as u8 - b'4' + 0x1c)),
        _ => None,
    }
}

fn is_ctrl_j(k: &KeyEvent) -> bool {
    k.code == KeyCode::Char('j') && k.modifiers == KeyModifiers::CONTROL
}

/// Keys that end a burst: Enter, or a lone LF (Ctrl+J) from a scanner set to send LF.
fn is_end(k: &KeyEvent) -> bool {
    k.code == KeyCode::Enter || is_ctrl_j(k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyEventKind, MouseEvent, MouseEventKind};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// The key events a terminal reports for `text` typed by a wedge: upper case with
    /// Shift, '\r' as Enter, '\n' as Ctrl+J, byte 29 as Ctrl+5 (crossterm in raw mode).
    fn keys_of(text: &str) -> Vec<KeyEvent> {
        text.chars()
            .map(|c| match c {
                '\r' => KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE),
                '\n' => KeyEvent::new(KeyCode::Char('j'), KeyModifiers::CONTROL),
                GS => KeyEvent::new(KeyCode::Char('5'), KeyModifiers::CONTROL),
                c if c.is_ascii_uppercase() => KeyEvent::new(KeyCode::Char(c), KeyModifiers::SHIFT),
                c => KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
            })
            .collect()
    }

    /// Feed `keys` starting at `t0`, `gap` apart; everything that came out, and the time
    /// of the last key.
    fn burst(
        d: &mut Decoder,
        keys: &[KeyEvent],
        t0: Instant,
        gap: Duration,
    ) -> (Vec<Input>, Instant) {
        let mut out = Vec::new();
        let mut t = t0;
        for (i, k) in keys.iter().enumerate() {
            if i > 0 {
                t += gap;
            }
            out.extend(d.feed(Event::Key(*k), t));
        }
        (out, t)
    }

    /// What a person typing `text` at `gap` per key ends up with: every held key let go.
    fn typed_slowly(d: &mut Decoder, text: &str, t0: Instant, gap: Duration) -> Vec<Input> {
        let (mut out, t) = burst(d, &keys_of(text), t0, gap);
        out.extend(d.flush(t + Duration::from_secs(1)));
        out
    }

    fn as_keys(text: &str) -> Vec<Input> {
        keys_of(text).into_iter().map(Input::key).collect()
    }

    const CASE: &str = "]C1010950110153000310M-88\u{1d}17261231";

    #[test]
    fn only_presses_resizes_and_pastes_get_through() {
        let mut d = Decoder::new();
        let now = Instant::now();
        let press = KeyEvent::new(KeyCode::F(2), KeyModifiers::NONE);
        let mut release = press;
        release.kind = KeyEventKind::Release;
        assert_eq!(d.feed(Event::Key(press), now), vec![Input::key(press)]);
        assert!(d.feed(Event::Key(release), now).is_empty());
        assert_eq!(d.feed(Event::Resize(40, 16), now), vec![Input::Resize]);
        assert_eq!(
            d.feed(Event::Paste("R26325-001".into()), now),
            vec![Input::Paste("R26325-001".into())]
        );
        let mouse = MouseEvent {
            kind: MouseEventKind::Moved,
            column: 0,
            row: 0,
            modifiers: KeyModifiers::NONE,
        };
        assert!(d.feed(Event::Mouse(mouse), now).is_empty());
        assert!(d.feed(Event::FocusGained, now).is_empty());
        assert_eq!(d.last_key_at(), Some(now));
    }

    #[test]
    fn a_framed_burst_is_one_scan_and_its_cr_lf_is_swallowed() {
        let mut d = Decoder::new();
        let t0 = Instant::now();
        let (out, t) = burst(&mut d, &keys_of(&format!("{CASE}\r\n")), t0, ms(4));
        assert_eq!(out, vec![Input::Scan(CASE.into())]);
        assert!(!d.holding() && d.deadline().is_none());
        // The next key is a person's again, and Ctrl+J later than the scan is a key.
        let j = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::CONTROL);
        assert_eq!(d.feed(Event::Key(j), t + ms(900)), vec![Input::key(j)]);
    }

    #[test]
    fn a_scan_arriving_all_at_once_is_one_scan() {
        // A pty write or an SSH packet: every key at the same instant.
        let mut d = Decoder::new();
        let (out, _) = burst(
            &mut d,
            &keys_of(&format!("{CASE}\r\n")),
            Instant::now(),
            ms(0),
        );
        assert_eq!(out, vec![Input::Scan(CASE.into())]);
    }

    #[test]
    fn gs_arrives_as_ctrl_5_ctrl_bracket_or_the_character() {
        let t0 = Instant::now();
        let head = keys_of("]C11012");
        let tail = keys_of("17261231\r");
        for gs in [
            KeyEvent::new(KeyCode::Char('5'), KeyModifiers::CONTROL),
            KeyEvent::new(KeyCode::Char(']'), KeyModifiers::CONTROL),
            KeyEvent::new(KeyCode::Char(GS), KeyModifiers::NONE),
            KeyEvent::new(KeyCode::Char(GS), KeyModifiers::CONTROL),
        ] {
            let mut d = Decoder::new();
            let mut keys = head.clone();
            keys.push(gs);
            keys.extend(tail.iter().copied());
            let (out, _) = burst(&mut d, &keys, t0, ms(3));
            assert_eq!(
                out,
                vec![Input::Scan("]C11012\u{1d}17261231".into())],
                "{gs:?}"
            );
        }
        // A GS first is framing too (FNC1 first, AIM identifiers off).
        let mut d = Decoder::new();
        let (out, _) = burst(&mut d, &keys_of("\u{1d}0109501101530003\r"), t0, ms(3));
        assert_eq!(out, vec![Input::Scan("\u{1d}0109501101530003".into())]);
    }

    #[test]
    fn every_aim_identifier_frames_a_scan() {
        for id in ["]C1", "]d2", "]Q3", "]e0", "]C0", "]d1", "]Q1", "]E0"] {
            let mut d = Decoder::new();
            let text = format!("{id}R26325-001");
            // Slower than an unframed burst may be; framing is enough.
            let (out, _) = burst(
                &mut d,
                &keys_of(&format!("{text}\r")),
                Instant::now(),
                ms(80),
            );
            assert_eq!(out, vec![Input::Scan(text)], "{id}");
        }
    }

    #[test]
    fn a_configured_prefix_frames_a_scan_even_a_control_character() {
        let t0 = Instant::now();
        let mut d = Decoder::with_timing(ScanTiming {
            prefix: Some("@@".into()),
            ..ScanTiming::default()
        });
        let (out, _) = burst(&mut d, &keys_of("@@R1\r"), t0, ms(100));
        assert_eq!(out, vec![Input::Scan("@@R1".into())]);
        // STX as the prefix: Ctrl+B from the terminal.
        let mut d = Decoder::with_timing(ScanTiming {
            prefix: Some("\u{2}".into()),
            ..ScanTiming::default()
        });
        let mut keys = vec![KeyEvent::new(KeyCode::Char('b'), KeyModifiers::CONTROL)];
        keys.extend(keys_of("R26325-001\r"));
        let (out, _) = burst(&mut d, &keys, t0, ms(50));
        assert_eq!(out, vec![Input::Scan("\u{2}R26325-001".into())]);
        // Without that prefix, Ctrl+B is a key like any other, let go at once.
        let mut d = Decoder::new();
        let cb = KeyEvent::new(KeyCode::Char('b'), KeyModifiers::CONTROL);
        assert_eq!(d.feed(Event::Key(cb), t0), vec![Input::key(cb)]);
    }

    #[test]
    fn a_person_typing_a_bracket_gets_ordinary_keys_back() {
        let t0 = Instant::now();
        // `]C1...` typed by hand: too slow for a burst, so every key comes back, in order.
        let mut d = Decoder::new();
        let text = "]C1 lid\r";
        let out = typed_slowly(&mut d, text, t0, ms(180));
        assert_eq!(out, as_keys(text));
        // A lone `]` is held only briefly: let go once its burst has gone quiet.
        let mut d = Decoder::new();
        let b = keys_of("]")[0];
        assert!(
            d.feed(Event::Key(b), t0).is_empty(),
            "held: it may start a scan"
        );
        let due = d.deadline().expect("a deadline while holding");
        assert!(due <= t0 + ms(150));
        assert!(d.flush(due - ms(1)).is_empty(), "not before the deadline");
        assert_eq!(d.flush(due), vec![Input::key(b)]);
        assert!(!d.holding());
        // `]` then Esc: both, at once and in order.
        let mut d = Decoder::new();
        d.feed(Event::Key(b), t0);
        let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
        assert_eq!(
            d.feed(Event::Key(esc), t0 + ms(5)),
            vec![Input::key(b), Input::key(esc)]
        );
        // `]` and Enter fast: no data after the framing, so not a scan.
        let mut d = Decoder::new();
        let (out, _) = burst(&mut d, &keys_of("]C1\r"), t0, ms(5));
        assert_eq!(out, as_keys("]C1\r"));
    }

    #[test]
    fn a_framing_that_stalls_lets_its_keys_go() {
        let t0 = Instant::now();
        let mut d = Decoder::new();
        // Fast `]C1`, then a pause longer than the framed gap: the rest is a person's.
        let (mut out, t) = burst(&mut d, &keys_of("]C1"), t0, ms(5));
        assert!(out.is_empty());
        let later = keys_of("x")[0];
        out.extend(d.feed(Event::Key(later), t + ms(400)));
        assert_eq!(out, as_keys("]C1"), "the stalled framing is let go first");
        out.extend(d.flush(t + ms(1000)));
        assert_eq!(out, as_keys("]C1x"));
    }

    #[test]
    fn an_unframed_burst_is_a_scan_only_when_timing_says_so() {
        let t0 = Instant::now();
        // A scanner without AIM identifiers: fast and long enough.
        let mut d = Decoder::new();
        let (out, _) = burst(&mut d, &keys_of("R26325-001\r\n"), t0, ms(8));
        assert_eq!(out, vec![Input::Scan("R26325-001".into())]);
        // The same text typed by a person: keys.
        let mut d = Decoder::new();
        let out = typed_slowly(&mut d, "R26325-001\r", t0, ms(120));
        assert_eq!(out, as_keys("R26325-001\r"));
        // Fast but short: a person's quick word, not a scan.
        let mut d = Decoder::new();
        let (out, _) = burst(&mut d, &keys_of("25\r"), t0, ms(8));
        assert_eq!(out, as_keys("25\r"));
        // Fast, then a pause before Enter: the person pressed Enter.
        let mut d = Decoder::new();
        let (mut out, t) = burst(&mut d, &keys_of("R26325-001"), t0, ms(8));
        out.extend(d.feed(Event::Key(keys_of("\r")[0]), t + ms(200)));
        assert_eq!(out, as_keys("R26325-001\r"));
        // One slow key inside: no burst.
        let mut d = Decoder::new();
        let (mut out, t) = burst(&mut d, &keys_of("R2632"), t0, ms(8));
        let (more, _) = burst(&mut d, &keys_of("5-001\r"), t + ms(60), ms(8));
        out.extend(more);
        assert_eq!(out, as_keys("R26325-001\r"));
    }

    #[test]
    fn thresholds_come_from_the_settings() {
        let t0 = Instant::now();
        let timing = ScanTiming {
            prefix: None,
            max_key_gap: ms(60),
            framed_key_gap: ms(60),
            min_burst_len: 3,
        };
        let mut d = Decoder::with_timing(timing.clone());
        let (out, _) = burst(&mut d, &keys_of("A12\r"), t0, ms(50));
        assert_eq!(out, vec![Input::Scan("A12".into())]);
        let mut d = Decoder::with_timing(timing);
        let out = typed_slowly(&mut d, "]C1010950110153000\r", t0, ms(70));
        assert_eq!(out, as_keys("]C1010950110153000\r"));
    }

    #[test]
    fn keys_after_a_scan_behave_normally() {
        let t0 = Instant::now();
        let mut d = Decoder::new();
        let (out, t) = burst(&mut d, &keys_of("]C0R26325-001\r\n"), t0, ms(2));
        assert_eq!(out, vec![Input::Scan("]C0R26325-001".into())]);
        // F2, Ctrl+S, Tab: through at once. Typed text: a moment later.
        for k in [
            KeyEvent::new(KeyCode::F(2), KeyModifiers::NONE),
            KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL),
            KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE),
        ] {
            assert_eq!(d.feed(Event::Key(k), t + ms(500)), vec![Input::key(k)]);
        }
        let out = typed_slowly(&mut d, "25\r", t + ms(900), ms(150));
        assert_eq!(out, as_keys("25\r"));
        // A paste lets held keys go first.
        let a = keys_of("a")[0];
        d.feed(Event::Key(a), t + ms(2000));
        assert_eq!(
            d.feed(Event::Paste("x".into()), t + ms(2001)),
            vec![Input::key(a), Input::Paste("x".into())]
        );
        // A resize in the middle of a burst does not break it.
        let (mut out, t2) = burst(&mut d, &keys_of("]C0R26"), t + ms(3000), ms(2));
        out.extend(d.feed(Event::Resize(80, 24), t2));
        let (more, _) = burst(&mut d, &keys_of("325-001\r"), t2 + ms(2), ms(2));
        out.extend(more);
        assert_eq!(
            out,
            vec![Input::Resize, Input::Scan("]C0R26325-001".into())]
        );
    }

    mod never_loses_a_key {
        use super::*;
        use proptest::prelude::*;

        /// Keys a person or a scanner might send, and the gaps between them.
        fn key() -> impl Strategy<Value = KeyEvent> {
            prop_oneof![
                prop::sample::select(vec![']', 'C', 'd', '1', '0', 'a', 'R', '-', ' ', '@'])
                    .prop_map(|c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
                Just(KeyEvent::new(KeyCode::Char('5'), KeyModifiers::CONTROL)),
                Just(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::CONTROL)),
                Just(KeyEvent::new(KeyCode::Char('b'), KeyModifiers::CONTROL)),
                Just(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
                Just(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)),
                Just(KeyEvent::new(KeyCode::F(2), KeyModifiers::NONE)),
            ]
        }

        /// The text a key stands for, Enter and LF left out (a scan's end is not kept).
        fn text_of(k: &KeyEvent) -> String {
            match (k.code, k.modifiers) {
                (KeyCode::Char('5'), KeyModifiers::CONTROL) => GS.to_string(),
                (KeyCode::Char('b'), KeyModifiers::CONTROL) => "\u{2}".into(),
                (KeyCode::Char('j'), KeyModifiers::CONTROL) | (KeyCode::Enter, _) => String::new(),
                (KeyCode::Char(c), _) => c.to_string(),
                (KeyCode::Tab, _) => "<Tab>".into(),
                (code, _) => format!("<{code:?}>"),
            }
        }

        lotline_domain::fuzz_tiers! {
            fast = 50, full = 500, slow = full_count;

            /// Whatever arrives, at whatever pace: everything typed comes out once, in
            /// order, as keys or inside scans; only a scan's Enter and LF are not keys.
            #[test]
            fn whatever_the_timing(
                keys in prop::collection::vec((key(), 0u64..300), 0..40),
                prefix in prop::option::of(prop::sample::select(vec!["@@", "\u{2}"])),
            ) {
                let mut d = Decoder::with_timing(ScanTiming {
                    prefix: prefix.map(str::to_string),
                    ..ScanTiming::default()
                });
                let mut t = Instant::now();
                let mut out = Vec::new();
                let mut sent = String::new();
                for (k, gap) in &keys {
                    t += ms(*gap);
                    // The event loop's timer fires when a deadline passes between keys.
                    if d.deadline().is_some_and(|due| due < t) && gap % 2 == 0 {
                        out.extend(d.flush(t));
                    }
                    out.extend(d.feed(Event::Key(*k), t));
                    sent.push_str(&text_of(k));
                }
                out.extend(d.flush(t + Duration::from_secs(5)));
                prop_assert!(!d.holding());
                let got: String = out
                    .iter()
                    .map(|i| match i {
                        Input::Key { event, .. } => text_of(event),
                        Input::Scan(s) => s.clone(),
                        other => format!("{other:?}"),
                    })
                    .collect();
                prop_assert_eq!(got, sent);
            }
        }
    }

    #[test]
    fn a_lone_lf_ends_a_scan_too() {
        let mut d = Decoder::new();
        let (out, _) = burst(&mut d, &keys_of("]C0R26325-001\n"), Instant::now(), ms(2));
        assert_eq!(out, vec![Input::Scan("]C0R26325-001".into())]);
    }
}
