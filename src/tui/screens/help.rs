//! Help: the live bindings of the keymap in use, layer by layer, and how the app works.

use super::*;
use crate::tui::keymap::{Action, Layer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpAction {
    Up,
    Down,
    PageUp,
    PageDown,
    First,
    Last,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    Title(String),
    Key(String, String),
    Text(String),
    Blank,
}

pub struct Help {
    pub scroll: usize,
    lines: Vec<Line>,
}

const PAGE: usize = 10;

impl Help {
    /// Help for `keymap`: what Help shows is what the keys do.
    pub fn new(keymap: &Keymap) -> Help {
        let mut lines = vec![
            Line::Text(format!("Keymap: {}", keymap.source)),
            Line::Text("Fields marked * are required. Errors show on the bottom line,".into()),
            Line::Text("name the field, and leave your input for correction.".into()),
            Line::Text("Switching screens keeps what you typed.".into()),
        ];
        for layer in Layer::ALL {
            lines.push(Line::Blank);
            lines.push(Line::Title(layer.title().to_string()));
            // One line per action, with every key that runs it.
            let mut seen: Vec<(Action, Vec<String>, String)> = Vec::new();
            for b in keymap.bindings(layer) {
                match seen.iter_mut().find(|(a, _, _)| *a == b.action) {
                    Some((_, keys, _)) => keys.push(b.key.label()),
                    None => seen.push((b.action, vec![b.key.label()], b.desc.clone())),
                }
            }
            for (_, keys, desc) in seen {
                lines.push(Line::Key(keys.join(", "), desc));
            }
            if layer == Layer::Form {
                lines.push(Line::Key(
                    "typing".into(),
                    "into the field; Left/Right, Home/End, Bksp/Del, C-u, C-w, C-k edit it".into(),
                ));
            }
        }
        Help { scroll: 0, lines }
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn update(&mut self, action: HelpAction) -> Outcome {
        let last = self.lines.len().saturating_sub(1);
        let before = self.scroll;
        self.scroll = match action {
            HelpAction::Up => self.scroll.saturating_sub(1),
            HelpAction::Down => (self.scroll + 1).min(last),
            HelpAction::PageUp => self.scroll.saturating_sub(PAGE),
            HelpAction::PageDown => (self.scroll + PAGE).min(last),
            HelpAction::First => 0,
            HelpAction::Last => last,
        };
        if self.scroll == before {
            Outcome::none()
        } else {
            Outcome::changed()
        }
    }

    pub fn render(&self, buf: &mut Buffer, area: Rect, ui: &Ui) -> Option<Position> {
        let inner = draw::boxed(buf, area, "Help", ui.theme);
        if inner.is_empty() {
            return None;
        }
        let h = inner.height as usize;
        let start = self.scroll.min(self.lines.len().saturating_sub(h));
        let w = inner.width as usize;
        let key_w = if ui.compact { 10 } else { 16 };
        let e = ui.theme.ellipsis();
        for (n, line) in self.lines.iter().skip(start).take(h).enumerate() {
            let y = inner.y + n as u16;
            match line {
                Line::Title(t) => {
                    put(buf, inner, inner.x, y, &draw::fit(t, w, e), ui.theme.title);
                }
                Line::Text(t) => {
                    put(buf, inner, inner.x, y, &draw::fit(t, w, e), ui.theme.label);
                }
                Line::Key(k, d) => {
                    let x = put(
                        buf,
                        inner,
                        inner.x + 1,
                        y,
                        &draw::pad(&draw::fit(k, key_w - 1, e), key_w),
                        ui.theme.key,
                    );
                    let room = w.saturating_sub(key_w + 1);
                    put(buf, inner, x, y, &draw::fit(d, room, e), ui.theme.label);
                }
                Line::Blank => {}
            }
        }
        if start + h < self.lines.len() {
            let more = if ui.theme.ascii { "v more" } else { "↓ more" };
            put(
                buf,
                inner,
                inner.right().saturating_sub(7),
                inner.bottom().saturating_sub(1),
                more,
                ui.theme.dim,
            );
        }
        None
    }
}
