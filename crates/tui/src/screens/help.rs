//! Help: the live bindings of the keymap in use, layer by layer, and how the app works;
//! the scanner and label printer settings; and the scan test: while Help is open a scan is
//! only read back (symbology, each AI with its title and value, or the parser's error),
//! like `lotline barcode`, so a scanner can be set up at the terminal it serves.

use super::*;
use crate::config::{PRINTER_ENV, PrinterSetting, ScannerSettings};
use crate::keymap::{Action, Layer};
use lotline_domain::text;
use lotline_station::{Link, Role, StationError, StationInfo};

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
    /// The keys, then the scanner and printer settings, then the scan test.
    lines: Vec<Line>,
    /// Who works on this database now (from the server), refreshed as Help opens; first,
    /// since it is what changes.
    stations: Vec<Line>,
    devices: Vec<Line>,
    test: Vec<Line>,
    /// The last message of the screen Help was opened from, in full: the status line cuts
    /// a long one at three lines, and here it is whole, wrapped to the width drawn.
    message: Option<(String, String)>,
    /// The width the message was last wrapped to, for scrolling (set as Help draws).
    wrap_w: std::cell::Cell<usize>,
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
        let mut help = Help {
            scroll: 0,
            lines,
            stations: Vec::new(),
            devices: Vec::new(),
            test: Vec::new(),
            message: None,
            wrap_w: std::cell::Cell::new(38),
        };
        help.devices(&ScannerSettings::default(), None);
        help
    }

    /// Show these scanner and printer settings.
    pub fn devices(&mut self, scanner: &ScannerSettings, printer: Option<&PrinterSetting>) {
        let mut d = vec![
            Line::Blank,
            Line::Title("Scanner ([scanner] in the config file)".into()),
        ];
        for (k, v) in scanner.describe() {
            d.push(Line::Text(format!(" {k:<18}{v}")));
        }
        d.push(Line::Blank);
        d.push(Line::Title(format!(
            "Label printer ([label] printer, or {PRINTER_ENV})"
        )));
        d.push(Line::Text(match printer {
            Some(p) => format!(" {} (from {})", p.text, p.from),
            None => " none set; labels cannot print from the app".into(),
        }));
        d.push(Line::Blank);
        d.push(Line::Title("Scan test".into()));
        d.push(Line::Text(
            " Scan a barcode while Help is open: what lotline reads".into(),
        ));
        d.push(Line::Text(" shows here, and nothing else happens.".into()));
        self.devices = d;
    }

    /// Show how this app reaches the database, and the stations connected to it, their
    /// times on the app's clock (`tz` from UTC).
    pub fn stations(
        &mut self,
        link: &Link,
        role: Role,
        list: Result<Vec<StationInfo>, StationError>,
        tz: chrono::FixedOffset,
    ) {
        let mut d = vec![Line::Title("Stations on this database".into())];
        d.push(Line::Text(match link {
            Link::Alone => " alone: the file is open here only".into(),
            Link::Server { pid } => format!(" through lotline serve (pid {pid})"),
            Link::Lost => " the server stopped; reconnecting".into(),
            Link::Refused => {
                " the server runs another lotline version; not reconnecting (see the message above)"
                    .into()
            }
        }));
        d.push(Line::Text(format!(" your role here: {}", role.name())));
        match list {
            // Alone, the list would only name this app.
            Ok(list) if !list.is_empty() && *link != Link::Alone => {
                for st in list {
                    let since = crate::drafts::hm(st.since, tz);
                    d.push(Line::Text(format!(
                        " {}{}@{} ({}, since {since})",
                        if st.me { "* " } else { "  " },
                        text::escape(&st.operator),
                        text::escape(&st.station),
                        st.role.name(),
                    )));
                }
                d.push(Line::Text(" (* this app)".into()));
            }
            Ok(_) => {}
            Err(e) => d.push(Line::Text(format!(
                " stations unknown: {}",
                text::escape(&e.to_string())
            ))),
        }
        d.push(Line::Blank);
        self.stations = d;
    }

    /// Show the last message of screen `from` in full, first; none hides the section.
    pub fn message(&mut self, from: &str, text: Option<&str>) {
        self.message = text.map(|t| (from.to_string(), t.to_string()));
        self.scroll = 0;
    }

    /// The message section as drawn at width `w`: a title, the text wrapped, a blank.
    fn message_lines(&self, w: usize) -> Vec<Line> {
        let Some((from, text)) = &self.message else {
            return Vec::new();
        };
        let mut lines = vec![Line::Title(format!("Last message on {from}"))];
        lines.extend(
            draw::wrap(text, w.saturating_sub(1))
                .into_iter()
                .map(|l| Line::Text(format!(" {l}"))),
        );
        lines.push(Line::Blank);
        lines
    }

    /// Show what the last test scan read, and scroll to it.
    pub fn scan_test(&mut self, report: Vec<String>) {
        self.test = report
            .into_iter()
            .map(|l| Line::Text(format!(" {l}")))
            .collect();
        // The "Scan test" title: the last title of the devices section.
        let title = self
            .devices
            .iter()
            .rposition(|l| matches!(l, Line::Title(_)))
            .unwrap_or(0);
        self.scroll = self.message_lines(self.wrap_w.get()).len()
            + self.stations.len()
            + self.lines.len()
            + title;
    }

    /// What the last test scan read, as shown.
    pub fn test_lines(&self) -> Vec<String> {
        self.test
            .iter()
            .map(|l| match l {
                Line::Text(t) | Line::Title(t) => t.trim().to_string(),
                Line::Key(k, d) => format!("{k} {d}"),
                Line::Blank => String::new(),
            })
            .collect()
    }

    /// Every line, the message wrapped at width `w`.
    fn all(&self, w: usize) -> impl Iterator<Item = Line> + '_ {
        self.message_lines(w).into_iter().chain(
            self.stations
                .iter()
                .chain(&self.lines)
                .chain(&self.devices)
                .chain(&self.test)
                .cloned(),
        )
    }

    pub fn len(&self) -> usize {
        self.message_lines(self.wrap_w.get()).len()
            + self.stations.len()
            + self.lines.len()
            + self.devices.len()
            + self.test.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn update(&mut self, action: HelpAction) -> Outcome {
        let last = self.len().saturating_sub(1);
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
        let w = inner.width as usize;
        self.wrap_w.set(w);
        let len = self.len();
        let start = self.scroll.min(len.saturating_sub(h));
        let key_w = if ui.compact { 10 } else { 16 };
        let e = ui.theme.ellipsis();
        for (n, line) in self.all(w).skip(start).take(h).enumerate() {
            let y = inner.y + n as u16;
            match line {
                Line::Title(t) => {
                    put(buf, inner, inner.x, y, &draw::fit(&t, w, e), ui.theme.title);
                }
                Line::Text(t) => {
                    put(buf, inner, inner.x, y, &draw::fit(&t, w, e), ui.theme.label);
                }
                Line::Key(k, d) => {
                    let x = put(
                        buf,
                        inner,
                        inner.x + 1,
                        y,
                        &draw::pad(&draw::fit(&k, key_w - 1, e), key_w),
                        ui.theme.key,
                    );
                    let room = w.saturating_sub(key_w + 1);
                    put(buf, inner, x, y, &draw::fit(&d, room, e), ui.theme.label);
                }
                Line::Blank => {}
            }
        }
        draw::more(buf, area, start, h, len, None, ui.theme);
        None
    }
}
