//! Between the terminal and the keymap: crossterm events become `Input`s.
//!
//! This is the one place raw events are looked at, so that scanner-burst detection
//! (DESIGN.md §4.4: framing and key timing) can be added here later without touching the
//! screens. Today it filters to key presses, keeps resizes and pastes, and drops the rest.

use super::keymap::Key;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use std::time::Instant;

/// What the app reacts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A key press (or repeat). `key` is what the keymap matches; `event` is kept for
    /// text editing.
    Key { key: Key, event: KeyEvent },
    /// Text pasted in one go (bracketed paste), typed into the focused field.
    Paste(String),
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

/// Turns a stream of terminal events into inputs. Holds state across events so that a
/// later version can recognise a scanner's burst of keys as one scan.
#[derive(Debug, Default)]
pub struct Decoder {
    last_key_at: Option<Instant>,
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// The inputs one event stands for (none for key releases, focus and mouse events).
    pub fn feed(&mut self, event: Event, at: Instant) -> Vec<Input> {
        match event {
            Event::Key(k) if k.is_press() || k.is_repeat() => {
                self.last_key_at = Some(at);
                vec![Input::key(k)]
            }
            Event::Paste(text) => vec![Input::Paste(text)],
            Event::Resize(..) => vec![Input::Resize],
            _ => Vec::new(),
        }
    }

    /// When the last key arrived: the timing signal for scanner detection later.
    pub fn last_key_at(&self) -> Option<Instant> {
        self.last_key_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyEventKind, MouseEvent, MouseEventKind};

    #[test]
    fn only_presses_resizes_and_pastes_get_through() {
        let mut d = Decoder::new();
        let now = Instant::now();
        let press = KeyEvent::new(KeyCode::Char('a'), KeyModifiers::NONE);
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
}
