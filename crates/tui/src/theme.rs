//! Colours, or none: the colour theme, and the mono theme that never sets a colour.
//!
//! crossterm 0.29 honours `NO_COLOR` by writing a bare reset for every colour command,
//! which cancels bold and reverse set just before it. So under `NO_COLOR` (or `--mono`)
//! the app picks a theme whose styles are `Color::Reset` plus modifiers only: no colour
//! command is ever written, and bold and reverse survive (docs/tui.md).

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;
use std::borrow::Cow;

/// How the app draws: which styles, and which border glyphs.
#[derive(Debug, Clone)]
pub struct Theme {
    pub mono: bool,
    pub ascii: bool,
    /// Header line: plant, operator, clock.
    pub header: Style,
    pub tab: Style,
    pub tab_active: Style,
    pub tab_disabled: Style,
    pub title: Style,
    pub label: Style,
    pub label_focus: Style,
    pub field: Style,
    pub field_focus: Style,
    pub field_error: Style,
    pub placeholder: Style,
    pub selected: Style,
    pub dim: Style,
    pub strong: Style,
    pub key: Style,
    pub footer: Style,
    pub ok: Style,
    pub info: Style,
    pub warn: Style,
    pub error: Style,
    pub border: Style,
    pub borders: border::Set<'static>,
}

/// Borders for terminals that cannot show line drawing.
pub const ASCII_BORDER: border::Set<'static> = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

const R: Color = Color::Reset;

fn plain() -> Style {
    Style::new().fg(R).bg(R)
}

impl Theme {
    pub fn new(mono: bool, ascii: bool) -> Theme {
        let borders = if ascii { ASCII_BORDER } else { border::PLAIN };
        let b = Modifier::BOLD;
        let rev = Modifier::REVERSED;
        if mono {
            return Theme {
                mono,
                ascii,
                header: plain().add_modifier(b),
                tab: plain(),
                tab_active: plain().add_modifier(rev | b),
                tab_disabled: plain().add_modifier(Modifier::DIM),
                title: plain().add_modifier(b),
                label: plain(),
                label_focus: plain().add_modifier(b),
                field: plain().add_modifier(Modifier::UNDERLINED),
                field_focus: plain().add_modifier(rev),
                field_error: plain().add_modifier(rev | b),
                placeholder: plain().add_modifier(Modifier::DIM | Modifier::UNDERLINED),
                selected: plain().add_modifier(rev),
                dim: plain().add_modifier(Modifier::DIM),
                strong: plain().add_modifier(b),
                key: plain().add_modifier(b),
                footer: plain(),
                ok: plain().add_modifier(b),
                info: plain(),
                warn: plain().add_modifier(b),
                error: plain().add_modifier(rev | b),
                border: plain(),
                borders,
            };
        }
        Theme {
            mono,
            ascii,
            header: Style::new()
                .fg(Color::White)
                .bg(Color::Blue)
                .add_modifier(b),
            tab: Style::new().fg(Color::White).bg(Color::Blue),
            tab_active: Style::new()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(b),
            tab_disabled: Style::new()
                .fg(Color::Gray)
                .bg(Color::Blue)
                .add_modifier(Modifier::DIM),
            title: Style::new().fg(Color::Cyan).add_modifier(b),
            label: Style::new().fg(Color::Gray),
            label_focus: Style::new().fg(Color::Yellow).add_modifier(b),
            field: Style::new().fg(Color::White).bg(Color::DarkGray),
            field_focus: Style::new().fg(Color::Black).bg(Color::White),
            field_error: Style::new().fg(Color::White).bg(Color::Red).add_modifier(b),
            placeholder: Style::new().fg(Color::Gray).bg(Color::DarkGray),
            selected: Style::new().fg(Color::Black).bg(Color::Cyan),
            dim: Style::new().fg(Color::DarkGray),
            strong: Style::new().fg(Color::White).add_modifier(b),
            key: Style::new().fg(Color::Yellow).add_modifier(b),
            footer: Style::new().fg(Color::Gray),
            ok: Style::new().fg(Color::Green).add_modifier(b),
            info: Style::new().fg(Color::Cyan),
            warn: Style::new().fg(Color::Yellow).add_modifier(b),
            error: Style::new().fg(Color::White).bg(Color::Red).add_modifier(b),
            border: Style::new().fg(Color::DarkGray),
            borders,
        }
    }

    /// A separator between header items.
    pub fn dot(&self) -> &'static str {
        if self.ascii { " | " } else { " · " }
    }

    /// Marks the selected row of a list.
    pub fn marker(&self) -> &'static str {
        if self.ascii { ">" } else { "▶" }
    }

    pub fn ellipsis(&self) -> &'static str {
        if self.ascii { "~" } else { "…" }
    }

    /// Free text (messages, names) as this theme draws it: folded to ASCII in ASCII mode.
    pub fn text<'a>(&self, s: &'a str) -> Cow<'a, str> {
        if self.ascii && !s.is_ascii() {
            Cow::Owned(fold_ascii(s))
        } else {
            Cow::Borrowed(s)
        }
    }

    /// Every style the theme uses, for tests that check mono never sets a colour.
    pub fn all_styles(&self) -> Vec<Style> {
        vec![
            self.header,
            self.tab,
            self.tab_active,
            self.tab_disabled,
            self.title,
            self.label,
            self.label_focus,
            self.field,
            self.field_focus,
            self.field_error,
            self.placeholder,
            self.selected,
            self.dim,
            self.strong,
            self.key,
            self.footer,
            self.ok,
            self.info,
            self.warn,
            self.error,
            self.border,
        ]
    }
}

/// `s` in ASCII, for terminals that cannot show more: dashes become `-`, `…` `...`, `°`
/// `deg`, arrows and quotes their ASCII look-alikes, accented Latin letters their base
/// letter, anything else `?`.
pub fn fold_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        match c {
            '…' => out.push_str("..."),
            '°' => out.push_str("deg"),
            '→' => out.push_str("->"),
            '←' => out.push_str("<-"),
            '×' => out.push('x'),
            c => out.push(fold_char(c)),
        }
    }
    out
}

/// One character in ASCII, in one cell: for text that must keep its width.
pub fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c;
    }
    match c {
        '—' | '–' | '‐' | '‑' | '−' | '─' | '━' => '-',
        '…' => '~',
        '°' | 'º' => 'o',
        '·' | '•' => '.',
        '│' | '┃' | '├' | '┤' | '┬' | '┴' | '┼' => '|',
        '┌' | '┐' | '└' | '┘' => '+',
        '‘' | '’' | '′' | '´' | '`' => '\'',
        '“' | '”' | '″' | '«' | '»' => '"',
        '▶' | '▸' | '→' | '›' => '>',
        '◀' | '←' | '‹' => '<',
        '▾' | '↓' => 'v',
        '↑' | '▴' => '^',
        '×' => 'x',
        '\u{a0}' | '\u{2009}' | '\u{202f}' => ' ',
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'A',
        'ç' => 'c',
        'Ç' => 'C',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'È' | 'É' | 'Ê' | 'Ë' => 'E',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'Ì' | 'Í' | 'Î' | 'Ï' => 'I',
        'ñ' => 'n',
        'Ñ' => 'N',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => 'O',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'Ù' | 'Ú' | 'Û' | 'Ü' => 'U',
        'ý' | 'ÿ' => 'y',
        'Ý' => 'Y',
        'ß' => 's',
        _ => '?',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mono_never_sets_a_colour() {
        let t = Theme::new(true, false);
        for s in t.all_styles() {
            assert!(matches!(s.fg, None | Some(Color::Reset)), "{s:?}");
            assert!(matches!(s.bg, None | Some(Color::Reset)), "{s:?}");
        }
        assert!(t.tab_active.add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn ascii_borders_are_ascii() {
        let t = Theme::new(false, true);
        for s in [
            t.borders.top_left,
            t.borders.horizontal_top,
            t.borders.vertical_left,
        ] {
            assert!(s.is_ascii());
        }
        assert!(t.marker().is_ascii() && t.dot().is_ascii() && t.ellipsis().is_ascii());
    }

    #[test]
    fn text_folds_to_ascii_in_ascii_mode_only() {
        let t = Theme::new(false, true);
        assert_eq!(t.text("3.5 °C — Crème… 漢"), "3.5 degC - Creme... ?");
        assert_eq!(Theme::new(false, false).text("3.5 °C"), "3.5 °C");
        assert_eq!(fold_char('…'), '~');
        assert_eq!(fold_char('é'), 'e');
    }
}
