//! Keymaps as data (docs/tui.md): TOML files with one table per layer, each binding an
//! `on` key, a `run` action and a `desc` that Help and the footer show. `default.toml` is
//! built into the binary; `--keymap FILE` or the config file choose another.
//!
//! Keys are compared on code and modifiers only (as gitui's `key_match` does): crossterm's
//! `KeyEvent` equality also compares `kind` and `state`, so a map keyed by raw events would
//! miss key repeats and caps-lock.

use super::settings::{MAX_SETTINGS_FILE, read_settings_file};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::fmt;
use std::path::Path;

/// The keymap built into the binary.
pub const DEFAULT_KEYMAP: &str = include_str!("../../../keymaps/default.toml");
/// The second built-in map, for vi users; `keymap = "vim"` in the config file selects it.
pub const VIM_KEYMAP: &str = include_str!("../../../keymaps/vim.toml");

/// A key as the app matches it: code and modifiers, nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub const fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        Key { code, mods }
    }

    pub const fn plain(code: KeyCode) -> Key {
        Key::new(code, KeyModifiers::NONE)
    }

    /// The key of a crossterm event. Shift is dropped where the code already carries it
    /// (`Char('H')`, `BackTab`), so `H` in a keymap matches however the terminal reports it.
    pub fn from_event(ev: &KeyEvent) -> Key {
        let mut mods =
            ev.modifiers & (KeyModifiers::SHIFT | KeyModifiers::CONTROL | KeyModifiers::ALT);
        if matches!(ev.code, KeyCode::Char(_) | KeyCode::BackTab) {
            mods.remove(KeyModifiers::SHIFT);
        }
        Key::new(ev.code, mods)
    }

    /// Does this event press this key? Code and modifiers only.
    pub fn matches(&self, ev: &KeyEvent) -> bool {
        Key::from_event(ev) == *self
    }

    /// Parse the keymap notation: `a`, `?`, `<F2>`, `<C-s>`, `<A-r>`, `<S-Tab>`, `<Enter>`.
    pub fn parse(text: &str) -> Result<Key, String> {
        let bad = |why: &str| {
            format!(
                "{} is not a key: {why}",
                lotline_domain::text::excerpt(text)
            )
        };
        if text.chars().count() == 1 {
            let c = text.chars().next().unwrap_or(' ');
            if c.is_control() {
                return Err(bad("control characters are written <C-x>"));
            }
            if c == ' ' {
                return Ok(Key::plain(KeyCode::Char(' ')));
            }
            return Ok(Key::plain(KeyCode::Char(c)));
        }
        let Some(inner) = text.strip_prefix('<').and_then(|t| t.strip_suffix('>')) else {
            return Err(bad(
                "write one character (such as r or ?) or a name in angle brackets (such as <F2>, <C-s>, <Enter>)",
            ));
        };
        let mut mods = KeyModifiers::NONE;
        let mut rest = inner;
        while let Some((m, after)) = rest.split_once('-') {
            if after.is_empty() {
                // `<C-->`: the key itself is '-'
                break;
            }
            let flag = match m {
                "C" | "c" => KeyModifiers::CONTROL,
                "A" | "a" | "M" | "m" => KeyModifiers::ALT,
                "S" | "s" => KeyModifiers::SHIFT,
                _ => {
                    return Err(bad(&format!(
                        "unknown modifier {}; use C- (Ctrl), A- (Alt) or S- (Shift)",
                        lotline_domain::text::excerpt(m)
                    )));
                }
            };
            mods |= flag;
            rest = after;
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "cr" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "backspace" | "bs" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "insert" | "ins" => KeyCode::Insert,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdn" => KeyCode::PageDown,
            "lt" => KeyCode::Char('<'),
            "gt" => KeyCode::Char('>'),
            f if f.len() > 1
                && f.starts_with('f')
                && f[1..].bytes().all(|b| b.is_ascii_digit()) =>
            {
                match f[1..].parse::<u8>() {
                    Ok(n @ 1..=12) => KeyCode::F(n),
                    _ => return Err(bad("function keys are <F1> to <F12>")),
                }
            }
            _ if rest.chars().count() == 1 => KeyCode::Char(rest.chars().next().unwrap_or(' ')),
            _ => {
                return Err(bad(&format!(
                    "unknown key name {}",
                    lotline_domain::text::excerpt(rest)
                )));
            }
        };
        // Shift+Tab is what terminals send as BackTab; Shift on a character is its case.
        let code = match (code, mods.contains(KeyModifiers::SHIFT)) {
            (KeyCode::Tab, true) => KeyCode::BackTab,
            (KeyCode::Char(c), true) if c.is_ascii_alphabetic() => {
                KeyCode::Char(c.to_ascii_uppercase())
            }
            (c, _) => c,
        };
        if matches!(code, KeyCode::Char(_) | KeyCode::BackTab) {
            mods.remove(KeyModifiers::SHIFT);
        }
        Ok(Key::new(code, mods))
    }

    /// Why this key may not be bound in `layer`, if it may not: a key no terminal sends
    /// (anywhere), or, where the keys go into text fields ([global] and [form]), a key
    /// that types or edits the text there.
    pub fn refused_in(&self, layer: Layer) -> Option<String> {
        let m = self.mods;
        let ctrl = m.contains(KeyModifiers::CONTROL);
        let alt = m.contains(KeyModifiers::ALT);
        match self.code {
            KeyCode::Char(c) if ctrl && c.is_ascii_uppercase() => {
                return Some(format!(
                    "never arrives: terminals send Ctrl with a letter as the small letter; write <C-{}>",
                    c.to_ascii_lowercase()
                ));
            }
            KeyCode::Enter | KeyCode::Esc | KeyCode::Tab | KeyCode::Backspace
                if m.intersects(KeyModifiers::CONTROL | KeyModifiers::SHIFT) =>
            {
                return Some(format!(
                    "never arrives: terminals send {} without Ctrl or Shift; bind <{}> or another key",
                    Key::plain(self.code).label(),
                    Key::plain(self.code).label()
                ));
            }
            _ => {}
        }
        if !matches!(layer, Layer::Global | Layer::Form) {
            return None;
        }
        let place = layer.name();
        let elsewhere = "bind it in [menu] or another layer, or use a function key, <C-x> or <A-x>";
        match self.code {
            // Ctrl+Alt+key is AltGr on many keyboards, which types characters such as @.
            KeyCode::Char(c) if !c.is_control() && (m.is_empty() || (ctrl && alt)) => {
                let how = if m.is_empty() {
                    ""
                } else {
                    " (AltGr types it)"
                };
                Some(format!(
                    "in [{place}] would stop you typing {} into fields{how}; {elsewhere}",
                    lotline_domain::text::excerpt(c)
                ))
            }
            KeyCode::Backspace | KeyCode::Delete if m.is_empty() => Some(format!(
                "in [{place}] would stop you deleting in fields; {elsewhere}"
            )),
            KeyCode::Left | KeyCode::Right | KeyCode::Home | KeyCode::End if m.is_empty() => Some(
                format!("in [{place}] would stop you moving the cursor in fields; {elsewhere}"),
            ),
            _ => None,
        }
    }

    /// How the key is written for people: `F2`, `C-s`, `Enter`, `S-Tab`, `r`.
    pub fn label(&self) -> String {
        let mut s = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            s.push_str("C-");
        }
        if self.mods.contains(KeyModifiers::ALT) {
            s.push_str("A-");
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            s.push_str("S-");
        }
        match self.code {
            KeyCode::Char(' ') => s.push_str("Space"),
            KeyCode::Char(c) => s.push(c),
            KeyCode::F(n) => s.push_str(&format!("F{n}")),
            KeyCode::Enter => s.push_str("Enter"),
            KeyCode::Esc => s.push_str("Esc"),
            KeyCode::Tab => s.push_str("Tab"),
            KeyCode::BackTab => s.push_str("S-Tab"),
            KeyCode::Backspace => s.push_str("Bksp"),
            KeyCode::Delete => s.push_str("Del"),
            KeyCode::Insert => s.push_str("Ins"),
            KeyCode::Up => s.push_str("Up"),
            KeyCode::Down => s.push_str("Down"),
            KeyCode::Left => s.push_str("Left"),
            KeyCode::Right => s.push_str("Right"),
            KeyCode::Home => s.push_str("Home"),
            KeyCode::End => s.push_str("End"),
            KeyCode::PageUp => s.push_str("PgUp"),
            KeyCode::PageDown => s.push_str("PgDn"),
            other => s.push_str(&format!("{other:?}")),
        }
        s
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.label())
    }
}

/// The screens, in header order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScreenId {
    Receive,
    Produce,
    Ship,
    Trace,
    Lots,
    /// Items and parties: the master data, listed, added, edited and retired.
    Master,
    Help,
}

impl ScreenId {
    pub const ALL: [ScreenId; 7] = [
        ScreenId::Receive,
        ScreenId::Produce,
        ScreenId::Ship,
        ScreenId::Trace,
        ScreenId::Lots,
        ScreenId::Master,
        ScreenId::Help,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ScreenId::Receive => "receive",
            ScreenId::Produce => "produce",
            ScreenId::Ship => "ship",
            ScreenId::Trace => "trace",
            ScreenId::Lots => "lots",
            ScreenId::Master => "master",
            ScreenId::Help => "help",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ScreenId::Receive => "Receive",
            ScreenId::Produce => "Produce",
            ScreenId::Ship => "Ship",
            ScreenId::Trace => "Trace",
            ScreenId::Lots => "Lots",
            ScreenId::Master => "Items/Parties",
            ScreenId::Help => "Help",
        }
    }
}

/// What a binding runs: the `run` names of the keymap file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Screen(ScreenId),
    Quit,
    Redraw,
    /// Leave the menu and go back to typing in the form.
    Edit,
    NextField,
    PrevField,
    Up,
    Down,
    PageUp,
    PageDown,
    First,
    Last,
    /// Enter: accept the pick, go on to the next field, add the line, or save at the end.
    Confirm,
    /// Esc: close the pick list or prompt, or leave the form for the menu.
    Cancel,
    Save,
    Clear,
    RemoveLine,
    Open,
    Back,
    Hold,
    Release,
    Search,
    /// Lots: open the selected lot's trace.
    Trace,
    /// Trace tree: open the selected node, or go to its first child.
    Expand,
    /// Trace tree: close the selected node, or go to its parent.
    Collapse,
    ExpandAll,
    CollapseAll,
    Parent,
    /// Trace: backward, forward, both.
    Direction,
    /// Trace: make the selected lot the root.
    Reroot,
    NextMatch,
    RecallScope,
    MassBalance,
    HoldAll,
    SaveRecord,
    /// Trace: complete the mock recall record on screen.
    FinishRecord,
    Export,
    /// Trace: show or hide the detail pane.
    Details,
    /// Print our label for the lot just created (after a Receive save or a closed batch),
    /// or for the lot selected on the Lots screen.
    PrintLabel,
    /// Items/Parties: add an item or a party (admin).
    Add,
    /// Items/Parties: edit the selected item or party (admin).
    Change,
    /// Items/Parties: retire the selected item or party, with a reason (admin).
    Retire,
    /// Items/Parties: switch between the items and the parties.
    OtherList,
    /// Items: open the recipe editor on the selected item, for its first recipe or a new
    /// version (admin).
    Recipe,
    /// The FDA sortable spreadsheet: for the Trace screen's root, or by dates and foods.
    FdaExport,
    /// The shipping KDEs of the shipment just saved on the Ship screen (CSV, EPCIS).
    ShippingKdes,
    /// Ship: open the customer return form (or go back to the shipment).
    RecordReturn,
    /// Trace, Items/Parties: scroll the details pane down a line, to what is below it.
    ScrollDown,
    /// Trace, Items/Parties: scroll the details pane back up.
    ScrollUp,
}

impl Action {
    /// The least role that may do what this key does; the footer greys keys above the
    /// user's role (the station refuses them either way, with the reason).
    pub fn required_role(self) -> lotline_station::Role {
        use lotline_station::Role;
        match self {
            // Master data is the admin's (`Command::required_role`).
            Action::Add | Action::Change | Action::Retire | Action::Recipe => Role::Admin,
            Action::Hold
            | Action::Release
            | Action::HoldAll
            | Action::SaveRecord
            | Action::FinishRecord => Role::Qa,
            _ => Role::Operator,
        }
    }
}

const SIMPLE_ACTIONS: &[(&str, Action)] = &[
    ("quit", Action::Quit),
    ("redraw", Action::Redraw),
    ("edit", Action::Edit),
    ("next_field", Action::NextField),
    ("prev_field", Action::PrevField),
    ("up", Action::Up),
    ("down", Action::Down),
    ("page_up", Action::PageUp),
    ("page_down", Action::PageDown),
    ("first", Action::First),
    ("last", Action::Last),
    ("confirm", Action::Confirm),
    ("cancel", Action::Cancel),
    ("save", Action::Save),
    ("clear", Action::Clear),
    ("remove_line", Action::RemoveLine),
    ("open", Action::Open),
    ("back", Action::Back),
    ("hold", Action::Hold),
    ("release", Action::Release),
    ("search", Action::Search),
    ("trace", Action::Trace),
    ("expand", Action::Expand),
    ("collapse", Action::Collapse),
    ("expand_all", Action::ExpandAll),
    ("collapse_all", Action::CollapseAll),
    ("parent", Action::Parent),
    ("direction", Action::Direction),
    ("reroot", Action::Reroot),
    ("next_match", Action::NextMatch),
    ("recall_scope", Action::RecallScope),
    ("mass_balance", Action::MassBalance),
    ("hold_all", Action::HoldAll),
    ("save_record", Action::SaveRecord),
    ("finish_record", Action::FinishRecord),
    ("export", Action::Export),
    ("details", Action::Details),
    ("print_label", Action::PrintLabel),
    ("add", Action::Add),
    ("change", Action::Change),
    ("retire", Action::Retire),
    ("other_list", Action::OtherList),
    ("recipe", Action::Recipe),
    ("fda_export", Action::FdaExport),
    ("shipping_kdes", Action::ShippingKdes),
    ("record_return", Action::RecordReturn),
    ("scroll_down", Action::ScrollDown),
    ("scroll_up", Action::ScrollUp),
];

impl Action {
    pub fn parse(run: &str) -> Result<Action, String> {
        let words: Vec<&str> = run.split_whitespace().collect();
        match words.as_slice() {
            ["screen", name] => ScreenId::ALL
                .into_iter()
                .find(|s| s.name() == *name)
                .map(Action::Screen)
                .ok_or_else(|| {
                    format!(
                        "{} names no screen; use screen receive, produce, ship, trace, lots, master or help", lotline_domain::text::excerpt(run)
                    )
                }),
            [one] => SIMPLE_ACTIONS
                .iter()
                .find(|(n, _)| n == one)
                .map(|(_, a)| *a)
                .ok_or_else(|| {
                    let names: Vec<&str> = SIMPLE_ACTIONS.iter().map(|(n, _)| *n).collect();
                    format!(
                        "{} is not an action; known: screen NAME, {}",
                        lotline_domain::text::excerpt(run),
                        names.join(", ")
                    )
                }),
            _ => Err(format!("{} is not an action; write one action name such as save", lotline_domain::text::excerpt(run))),
        }
    }

    pub fn name(&self) -> String {
        match self {
            Action::Screen(s) => format!("screen {}", s.name()),
            a => SIMPLE_ACTIONS
                .iter()
                .find(|(_, x)| x == a)
                .map(|(n, _)| n.to_string())
                .unwrap_or_default(),
        }
    }
}

/// A set of bindings active in some state of the app. Several are consulted at once,
/// most specific first (see `App::layers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    /// Always active: function keys, quit.
    Global,
    /// Active when not typing into a field: letter keys for screens.
    Menu,
    /// Active while typing into a form field.
    Form,
    /// The lot list and a lot's history.
    Lots,
    /// The trace tree and its views.
    Trace,
    /// The Items/Parties lists and a record's details.
    Master,
    Help,
}

impl Layer {
    pub const ALL: [Layer; 7] = [
        Layer::Global,
        Layer::Menu,
        Layer::Form,
        Layer::Lots,
        Layer::Trace,
        Layer::Master,
        Layer::Help,
    ];

    /// Layers added after keymap files were first written: a file without one takes the
    /// built-in default's bindings for it, so a plant's own keymap keeps loading.
    const ADDED: [Layer; 1] = [Layer::Master];

    pub fn name(self) -> &'static str {
        match self {
            Layer::Global => "global",
            Layer::Menu => "menu",
            Layer::Form => "form",
            Layer::Lots => "lots",
            Layer::Trace => "trace",
            Layer::Master => "master",
            Layer::Help => "help",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Layer::Global => "Everywhere",
            Layer::Menu => "Menu (after Esc)",
            Layer::Form => "Forms",
            Layer::Lots => "Lots list and history",
            Layer::Trace => "Trace",
            Layer::Master => "Items/Parties list and details",
            Layer::Help => "Help",
        }
    }

    /// Which actions make sense in this layer; others are refused when the map loads.
    fn allows(self, a: Action) -> bool {
        use Action::*;
        match a {
            Screen(_) | Quit | Redraw => true,
            Edit => matches!(self, Layer::Menu),
            NextField | PrevField | Confirm | Save | Clear | RemoveLine => self == Layer::Form,
            Cancel => self == Layer::Form,
            Up | Down => matches!(
                self,
                Layer::Form | Layer::Lots | Layer::Trace | Layer::Master | Layer::Help
            ),
            PageUp | PageDown | First | Last => {
                matches!(
                    self,
                    Layer::Lots | Layer::Trace | Layer::Master | Layer::Help
                )
            }
            Open => matches!(self, Layer::Lots | Layer::Trace | Layer::Master),
            Search => matches!(self, Layer::Lots | Layer::Trace),
            Hold | Release | Trace => self == Layer::Lots,
            Back => matches!(
                self,
                Layer::Lots | Layer::Trace | Layer::Master | Layer::Help
            ),
            Add | Change | Retire | OtherList | Recipe => self == Layer::Master,
            Expand | Collapse | ExpandAll | CollapseAll | Parent | Direction | Reroot
            | NextMatch | RecallScope | MassBalance | HoldAll | SaveRecord | FinishRecord
            | Export | Details => self == Layer::Trace,
            PrintLabel => matches!(self, Layer::Form | Layer::Menu | Layer::Lots),
            FdaExport => matches!(self, Layer::Menu | Layer::Trace | Layer::Lots),
            ShippingKdes => matches!(self, Layer::Form | Layer::Menu),
            RecordReturn => matches!(self, Layer::Form | Layer::Menu),
            ScrollDown | ScrollUp => matches!(self, Layer::Trace | Layer::Master),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub key: Key,
    pub action: Action,
    pub desc: String,
}

/// A keymap that loaded and passed its checks.
#[derive(Debug, Clone)]
pub struct Keymap {
    /// Where it came from, for Help: a path or "built-in default".
    pub source: String,
    layers: Vec<(Layer, Vec<Binding>)>,
}

/// Why a keymap file was refused: the file, the key in it, and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeymapError {
    pub file: String,
    pub key: String,
    pub reason: String,
}

impl fmt::Display for KeymapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "keymap {}: {}: {}", self.file, self.key, self.reason)
    }
}

impl std::error::Error for KeymapError {}

impl Keymap {
    /// The built-in default map.
    pub fn default_map() -> Keymap {
        Keymap::parse(DEFAULT_KEYMAP, "built-in default").expect("the built-in keymap is valid")
    }

    pub fn vim_map() -> Keymap {
        Keymap::parse(VIM_KEYMAP, "built-in vim").expect("the built-in vim keymap is valid")
    }

    /// Load a keymap file; `default` and `vim` name the built-in maps.
    pub fn load(path: &Path) -> Result<Keymap, KeymapError> {
        match path.to_str() {
            Some("default") => return Ok(Keymap::default_map()),
            Some("vim") => return Ok(Keymap::vim_map()),
            _ => {}
        }
        let file = path.display().to_string();
        let text = read_settings_file(path, MAX_SETTINGS_FILE).map_err(|e| KeymapError {
            file: file.clone(),
            key: "(file)".into(),
            reason: format!("cannot be read: {e}"),
        })?;
        Keymap::parse(&text, &file)
    }

    /// Parse and check a keymap; errors name `file`, the key and the reason.
    pub fn parse(text: &str, file: &str) -> Result<Keymap, KeymapError> {
        let err = |key: String, reason: String| KeymapError {
            file: file.to_string(),
            key,
            reason,
        };
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .map(|l| format!("line {l}"))
                .unwrap_or_else(|| "(syntax)".into());
            err(line, format!("is not valid TOML: {}", e.message().trim()))
        })?;
        for name in table.keys() {
            if !Layer::ALL.iter().any(|l| l.name() == name) {
                let names: Vec<&str> = Layer::ALL.iter().map(|l| l.name()).collect();
                return Err(err(
                    name.clone(),
                    format!("is not a layer; the layers are {}", names.join(", ")),
                ));
            }
        }
        let mut layers = Vec::new();
        for layer in Layer::ALL {
            let lname = layer.name();
            let Some(value) = table.get(lname) else {
                if Layer::ADDED.contains(&layer) && text != DEFAULT_KEYMAP {
                    layers.push((layer, Keymap::default_map().bindings(layer).to_vec()));
                    continue;
                }
                return Err(err(
                    lname.into(),
                    format!("the layer [{lname}] is missing; every layer must be given"),
                ));
            };
            let Some(lt) = value.as_table() else {
                return Err(err(lname.into(), "must be a table such as [global]".into()));
            };
            if let Some(other) = lt.keys().find(|k| *k != "keymap") {
                return Err(err(
                    format!("{lname}.{other}"),
                    "is not known; a layer holds only keymap = [ ... ]".into(),
                ));
            }
            let Some(list) = lt.get("keymap").and_then(|v| v.as_array()) else {
                return Err(err(
                    format!("{lname}.keymap"),
                    "is missing or not a list of bindings { on = ..., run = ..., desc = ... }"
                        .into(),
                ));
            };
            let mut bindings: Vec<Binding> = Vec::new();
            for (i, entry) in list.iter().enumerate() {
                let at = format!("{lname}.keymap[{i}]");
                let Some(b) = entry.as_table() else {
                    return Err(err(
                        at,
                        "must be a table { on = ..., run = ..., desc = ... }".into(),
                    ));
                };
                if let Some(other) = b
                    .keys()
                    .find(|k| !["on", "run", "desc"].contains(&k.as_str()))
                {
                    return Err(err(
                        format!("{at}.{other}"),
                        "is not known; a binding has on, run and desc".into(),
                    ));
                }
                let text_of = |field: &str| -> Result<String, KeymapError> {
                    match b.get(field) {
                        Some(toml::Value::String(s)) => Ok(s.clone()),
                        Some(_) => Err(err(format!("{at}.{field}"), "must be a string".into())),
                        None => Err(err(format!("{at}.{field}"), "is missing".into())),
                    }
                };
                let on = text_of("on")?;
                let run = text_of("run")?;
                let desc = text_of("desc")?;
                let key = Key::parse(&on).map_err(|r| err(format!("{at}.on"), r))?;
                if let Some(why) = key.refused_in(layer) {
                    return Err(err(
                        format!("{at}.on"),
                        format!("{} {why}", lotline_domain::text::excerpt(on)),
                    ));
                }
                let action = Action::parse(&run).map_err(|r| err(format!("{at}.run"), r))?;
                if !layer.allows(action) {
                    return Err(err(
                        format!("{at}.run"),
                        format!(
                            "{} cannot be used in the [{lname}] layer",
                            lotline_domain::text::excerpt(run)
                        ),
                    ));
                }
                if desc.trim().is_empty() {
                    return Err(err(
                        format!("{at}.desc"),
                        "is empty; say what the key does (Help shows it)".into(),
                    ));
                }
                if let Some(first) = bindings.iter().position(|x| x.key == key) {
                    return Err(err(
                        format!("{at}.on"),
                        format!(
                            "{} is already bound in [{lname}] by keymap[{first}] ({})",
                            key.label(),
                            bindings[first].action.name()
                        ),
                    ));
                }
                bindings.push(Binding {
                    key,
                    action,
                    desc: desc.trim().to_string(),
                });
            }
            layers.push((layer, bindings));
        }
        let mut map = Keymap {
            source: file.to_string(),
            layers,
        };
        if text != DEFAULT_KEYMAP {
            map.add_new_screens();
            map.add_new_actions();
        }
        map.check_complete().map_err(|(k, r)| err(k, r))?;
        Ok(map)
    }

    /// Refuse a map that would strand the user: no way to quit, save, or reach a screen.
    fn check_complete(&self) -> Result<(), (String, String)> {
        let has = |layers: &[Layer], a: Action| {
            layers
                .iter()
                .any(|l| self.bindings(*l).iter().any(|b| b.action == a))
        };
        let needs: Vec<(&[Layer], Action, &str)> = vec![
            (&[Layer::Global, Layer::Menu], Action::Quit, "global"),
            (&[Layer::Form], Action::Confirm, "form"),
            (&[Layer::Form], Action::Cancel, "form"),
            (&[Layer::Form], Action::Save, "form"),
            (&[Layer::Form], Action::NextField, "form"),
            (&[Layer::Menu], Action::Edit, "menu"),
            (&[Layer::Lots], Action::Open, "lots"),
            (&[Layer::Lots], Action::Back, "lots"),
            (&[Layer::Trace], Action::Open, "trace"),
            (&[Layer::Trace], Action::Back, "trace"),
        ];
        for (layers, action, name) in needs {
            if !has(layers, action) {
                return Err((
                    name.to_string(),
                    format!(
                        "no key runs '{}'; the app would be unusable without it",
                        action.name()
                    ),
                ));
            }
        }
        for s in ScreenId::ALL {
            if !has(&[Layer::Global, Layer::Menu], Action::Screen(s)) {
                return Err((
                    "global".into(),
                    format!("no key runs 'screen {}' in [global] or [menu]", s.name()),
                ));
            }
        }
        Ok(())
    }

    /// A file written before a screen existed has no key for it: it gets the built-in
    /// default's keys for that screen, in [global] and [menu], where they are still free.
    fn add_new_screens(&mut self) {
        const ADDED: [ScreenId; 1] = [ScreenId::Master];
        let default = Keymap::default_map();
        for s in ADDED {
            let a = Action::Screen(s);
            let has = [Layer::Global, Layer::Menu]
                .iter()
                .any(|l| self.bindings(*l).iter().any(|b| b.action == a));
            if has {
                continue;
            }
            for layer in [Layer::Global, Layer::Menu] {
                self.take_free_keys(&default, layer, a);
            }
        }
    }

    /// A file written before an action existed (the detail panes' scrolling, the recipe
    /// editor) has no key for it: each layer that has the action in the built-in default
    /// gets the default's keys for it, where they are free (the vim map has its own).
    fn add_new_actions(&mut self) {
        const ADDED: [Action; 3] = [Action::ScrollDown, Action::ScrollUp, Action::Recipe];
        let default = Keymap::default_map();
        for layer in Layer::ALL {
            for a in ADDED {
                if self.bindings(layer).iter().any(|b| b.action == a) {
                    continue;
                }
                self.take_free_keys(&default, layer, a);
            }
        }
    }

    /// Bind `a` in `layer` to the keys `default` has for it there that this map leaves
    /// free (a key the user bound to something else stays theirs).
    fn take_free_keys(&mut self, default: &Keymap, layer: Layer, a: Action) {
        let free: Vec<Binding> = default
            .bindings(layer)
            .iter()
            .filter(|b| b.action == a && self.lookup(&[layer], b.key).is_none())
            .cloned()
            .collect();
        if let Some((_, list)) = self.layers.iter_mut().find(|(l, _)| *l == layer) {
            list.extend(free);
        }
    }

    pub fn bindings(&self, layer: Layer) -> &[Binding] {
        self.layers
            .iter()
            .find(|(l, _)| *l == layer)
            .map(|(_, b)| b.as_slice())
            .unwrap_or(&[])
    }

    /// The action `key` runs in the first of `layers` that binds it.
    pub fn lookup(&self, layers: &[Layer], key: Key) -> Option<Action> {
        layers.iter().find_map(|l| {
            self.bindings(*l)
                .iter()
                .find(|b| b.key == key)
                .map(|b| b.action)
        })
    }

    /// The first key that runs `action` in any of `layers`, for hints such as "F1 help".
    pub fn key_for(&self, layers: &[Layer], action: Action) -> Option<Key> {
        layers.iter().find_map(|l| {
            self.bindings(*l)
                .iter()
                .find(|b| b.action == action)
                .map(|b| b.key)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_notation_round_trips() {
        for (text, label) in [
            ("r", "r"),
            ("?", "?"),
            ("<F2>", "F2"),
            ("<C-s>", "C-s"),
            ("<A-r>", "A-r"),
            ("<S-Tab>", "S-Tab"),
            ("<BackTab>", "S-Tab"),
            ("<Enter>", "Enter"),
            ("<Esc>", "Esc"),
            ("<PageDown>", "PgDn"),
            ("<Space>", "Space"),
            ("<C-->", "C--"),
            ("H", "H"),
            ("<S-h>", "H"),
        ] {
            let k = Key::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(k.label(), label, "{text}");
        }
        for bad in ["", "<F13>", "<Hyper-x>", "ab", "<Nope>", "\u{7}"] {
            assert!(Key::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn events_match_on_code_and_modifiers_only() {
        use ratatui::crossterm::event::{KeyEventKind, KeyEventState};
        let mut ev = KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL);
        let k = Key::parse("<C-s>").unwrap();
        assert!(k.matches(&ev));
        ev.kind = KeyEventKind::Repeat;
        ev.state = KeyEventState::CAPS_LOCK;
        assert!(k.matches(&ev), "repeat and caps-lock still match");
        // Shift arrives with upper-case letters on some terminals and not on others.
        let shifted = KeyEvent::new(KeyCode::Char('H'), KeyModifiers::SHIFT);
        assert!(Key::parse("H").unwrap().matches(&shifted));
        let backtab = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert!(Key::parse("<S-Tab>").unwrap().matches(&backtab));
    }

    #[test]
    fn built_in_maps_load() {
        let d = Keymap::default_map();
        let f2 = Key::plain(KeyCode::F(2));
        assert_eq!(
            d.lookup(&[Layer::Global], f2),
            Some(Action::Screen(ScreenId::Receive))
        );
        assert_eq!(
            d.lookup(&[Layer::Global], Key::plain(KeyCode::F(5))),
            Some(Action::Screen(ScreenId::Trace)),
            "F5 is kept for Trace"
        );
        assert_eq!(
            d.lookup(
                &[Layer::Menu, Layer::Global],
                Key::plain(KeyCode::Char('t'))
            ),
            Some(Action::Screen(ScreenId::Trace))
        );
        for n in 1..=6 {
            assert!(
                d.lookup(&[Layer::Global], Key::plain(KeyCode::F(n)))
                    .is_some(),
                "F{n}"
            );
        }
        let v = Keymap::vim_map();
        assert_eq!(
            v.lookup(&[Layer::Lots], Key::plain(KeyCode::Char('j'))),
            Some(Action::Down)
        );
        // the files on disk are the ones built in
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for f in ["default", "vim"] {
            let path = dir.join("keymaps").join(format!("{f}.toml"));
            Keymap::load(&path).unwrap();
        }
    }

    fn refused(text: &str) -> KeymapError {
        Keymap::parse(text, "my.toml").unwrap_err()
    }

    /// The default map with one line replaced, to break one thing at a time.
    fn with(from: &str, to: &str) -> String {
        assert!(DEFAULT_KEYMAP.contains(from), "{from}");
        DEFAULT_KEYMAP.replacen(from, to, 1)
    }

    #[test]
    fn bad_files_name_file_key_and_reason() {
        let e = refused("[global\nkeymap = []");
        assert_eq!(e.file, "my.toml");
        assert_eq!(e.key, "line 1");
        assert!(e.reason.contains("not valid TOML"), "{e}");

        let e = refused(&with("on = \"<F2>\"", "on = \"<F22>\""));
        assert_eq!(e.key, "global.keymap[1].on");
        assert!(e.reason.contains("<F22>"), "{e}");
        assert_eq!(
            e.to_string(),
            format!("keymap my.toml: global.keymap[1].on: {}", e.reason)
        );

        let e = refused(&with(
            "run = \"screen receive\"",
            "run = \"screen recieve\"",
        ));
        assert_eq!(e.key, "global.keymap[1].run");
        assert!(e.reason.contains("names no screen"), "{e}");

        let e = refused(&with("run = \"save\"", "run = \"sav\""));
        assert!(e.key.starts_with("form.keymap["), "{e}");
        assert!(e.reason.contains("not an action"), "{e}");

        let e = refused(&format!("{DEFAULT_KEYMAP}\n[extra]\nkeymap = []\n"));
        assert_eq!(e.key, "extra");

        let e = refused(&with("on = \"<F3>\"", "on = \"<F2>\""));
        assert_eq!(e.key, "global.keymap[2].on");
        assert!(e.reason.contains("already bound"), "{e}");

        let e = refused(&with(
            "run = \"screen receive\", desc = \"Receive\"",
            "run = \"hold\", desc = \"x\"",
        ));
        assert!(
            e.reason.contains("cannot be used in the [global] layer"),
            "{e}"
        );

        let e = refused("[global]\nkeymap = []\n");
        assert_eq!(e.key, "menu");
        assert!(e.reason.contains("missing"), "{e}");

        let e = refused(&DEFAULT_KEYMAP.replace("run = \"save\"", "run = \"clear\""));
        assert!(e.reason.contains("no key runs 'save'"), "{e}");

        let e = Keymap::load(Path::new("/no/such/keymap.toml")).unwrap_err();
        assert_eq!(e.file, "/no/such/keymap.toml");
        assert!(e.reason.contains("cannot be read"), "{e}");
    }

    #[test]
    fn keys_that_type_or_edit_are_refused_where_fields_take_keys() {
        // Found in review: `s` bound in [global] was accepted, and nobody could type an
        // 's' into a field again.
        let extra = |layer: &str, on: &str| {
            with(
                &format!("[{layer}]\nkeymap = [\n"),
                &format!(
                    "[{layer}]\nkeymap = [\n  {{ on = \"{on}\", run = \"redraw\", desc = \"x\" }},\n"
                ),
            )
        };
        let e = refused(&extra("global", "s"));
        assert_eq!(e.file, "my.toml");
        assert_eq!(e.key, "global.keymap[0].on");
        assert!(
            e.reason.contains("would stop you typing 's' into fields"),
            "{e}"
        );
        for (layer, on, why) in [
            ("global", "S", "typing 'S'"),
            ("global", "<S-x>", "typing 'X'"),
            ("global", "7", "typing '7'"),
            ("global", ".", "typing '.'"),
            ("global", "<Space>", "typing ' '"),
            ("global", "<C-A-q>", "typing 'q'"),
            ("global", "<Backspace>", "deleting"),
            ("global", "<Delete>", "deleting"),
            ("global", "<Left>", "moving the cursor"),
            ("global", "<Home>", "moving the cursor"),
        ] {
            let e = refused(&extra(layer, on));
            assert_eq!(e.key, format!("{layer}.keymap[0].on"), "{on}");
            assert!(e.reason.contains(why), "{on}: {e}");
        }
        // In [form] too (Enter, Tab, Up and Down are the form's own keys).
        let e = refused(&with(
            "{ on = \"<C-n>\", run = \"clear\"",
            "{ on = \"x\", run = \"clear\"",
        ));
        assert!(e.key.starts_with("form.keymap["), "{e}");
        assert!(e.reason.contains("typing 'x'"), "{e}");
        // Where no field takes keys, letters are what the layer is for.
        Keymap::parse(
            &with(
                "{ on = \"q\", run = \"quit\"",
                "{ on = \"Q\", run = \"quit\"",
            ),
            "ok.toml",
        )
        .unwrap();
        // A key no terminal sends: Ctrl with an upper-case letter arrives as C-s.
        for on in ["<C-S>", "<C-S-s>"] {
            let e = refused(&with("on = \"<C-s>\"", &format!("on = \"{on}\"")));
            assert!(e.key.starts_with("form.keymap["), "{on}: {e}");
            assert!(e.reason.contains("never"), "{on}: {e}");
            assert!(e.reason.contains("<C-s>"), "{on}: {e}");
        }
        for on in [
            "<S-Enter>",
            "<C-Enter>",
            "<S-Esc>",
            "<C-Tab>",
            "<S-Backspace>",
        ] {
            let e = refused(&extra("lots", on));
            assert!(e.reason.contains("never"), "{on}: {e}");
        }
        // The built-in maps still load.
        Keymap::parse(DEFAULT_KEYMAP, "default").unwrap();
        Keymap::parse(VIM_KEYMAP, "vim").unwrap();
    }

    #[test]
    fn a_keymap_file_from_before_items_and_parties_still_loads() {
        // The default map as it was: no [master] layer, no key for the screen.
        let start = DEFAULT_KEYMAP.find("\n[master]\n").unwrap();
        let end = DEFAULT_KEYMAP[start + 1..].find("\n[").unwrap() + start + 1;
        let old: String = format!("{}{}", &DEFAULT_KEYMAP[..start], &DEFAULT_KEYMAP[end..])
            .lines()
            .filter(|l| !l.contains("screen master"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!old.contains("\n[master]\n") && !old.contains("screen master"));
        let map = Keymap::parse(&old, "old.toml").unwrap();
        let d = Keymap::default_map();
        assert_eq!(map.bindings(Layer::Master), d.bindings(Layer::Master));
        assert_eq!(
            map.lookup(&[Layer::Global], Key::plain(KeyCode::F(7))),
            Some(Action::Screen(ScreenId::Master))
        );
        assert_eq!(
            map.lookup(&[Layer::Menu], Key::plain(KeyCode::Char('I'))),
            Some(Action::Screen(ScreenId::Master))
        );
        // A file that uses F7 for something else keeps it; the menu letter still reaches
        // the screen.
        let taken = old.replace(
            "{ on = \"<C-l>\", run = \"redraw\"",
            "{ on = \"<F7>\", run = \"redraw\"",
        );
        let map = Keymap::parse(&taken, "taken.toml").unwrap();
        assert_eq!(
            map.lookup(&[Layer::Global], Key::plain(KeyCode::F(7))),
            Some(Action::Redraw)
        );
        assert_eq!(
            map.key_for(
                &[Layer::Global, Layer::Menu],
                Action::Screen(ScreenId::Master)
            ),
            Some(Key::plain(KeyCode::Char('I')))
        );
    }

    #[test]
    fn a_keymap_file_from_before_the_panes_scrolled_gets_the_scroll_keys() {
        let old: String = DEFAULT_KEYMAP
            .lines()
            .filter(|l| !l.contains("scroll_"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!old.contains("scroll_"));
        let map = Keymap::parse(&old, "old.toml").unwrap();
        for layer in [Layer::Trace, Layer::Master] {
            assert_eq!(
                map.lookup(&[layer], Key::plain(KeyCode::Char(']'))),
                Some(Action::ScrollDown),
                "{layer:?}"
            );
            assert_eq!(
                map.lookup(&[layer], Key::plain(KeyCode::Char('['))),
                Some(Action::ScrollUp)
            );
        }
        // A file that uses ] for something else keeps it; Shift+Down still scrolls.
        let taken = old.replace(
            "{ on = \"F\", run = \"fda_export\"",
            "{ on = \"]\", run = \"fda_export\"",
        );
        let map = Keymap::parse(&taken, "taken.toml").unwrap();
        assert_eq!(
            map.lookup(&[Layer::Trace], Key::plain(KeyCode::Char(']'))),
            Some(Action::FdaExport)
        );
        assert_eq!(
            map.key_for(&[Layer::Trace], Action::ScrollDown),
            Some(Key::new(KeyCode::Down, KeyModifiers::SHIFT))
        );
        // The vim map has its own: C-e and C-y, nothing added.
        let v = Keymap::vim_map();
        assert_eq!(
            v.key_for(&[Layer::Master], Action::ScrollDown),
            Some(Key::new(KeyCode::Char('e'), KeyModifiers::CONTROL))
        );
        assert_eq!(
            v.lookup(&[Layer::Master], Key::plain(KeyCode::Char(']'))),
            None
        );
    }

    #[test]
    fn a_keymap_file_from_before_the_recipe_editor_gets_its_key() {
        let old: String = DEFAULT_KEYMAP
            .lines()
            .filter(|l| !l.contains("run = \"recipe\""))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!old.contains("run = \"recipe\""));
        let map = Keymap::parse(&old, "old.toml").unwrap();
        assert_eq!(
            map.lookup(&[Layer::Master], Key::plain(KeyCode::Char('r'))),
            Some(Action::Recipe)
        );
        // Only in the layer the default has it in, and it is the admin's.
        assert_eq!(
            map.lookup(&[Layer::Lots], Key::plain(KeyCode::Char('r'))),
            None
        );
        assert_eq!(Action::Recipe.required_role(), lotline_station::Role::Admin);
        // A file that uses r for something else in [master] keeps it.
        let taken = old.replace("{ on = \"n\", run = \"add\"", "{ on = \"r\", run = \"add\"");
        let map = Keymap::parse(&taken, "taken.toml").unwrap();
        assert_eq!(
            map.lookup(&[Layer::Master], Key::plain(KeyCode::Char('r'))),
            Some(Action::Add)
        );
        assert_eq!(map.key_for(&[Layer::Master], Action::Recipe), None);
        // Both built-in maps bind it.
        for m in [Keymap::default_map(), Keymap::vim_map()] {
            assert!(m.key_for(&[Layer::Master], Action::Recipe).is_some());
        }
    }

    #[test]
    fn actions_have_names_that_parse_back() {
        for (name, a) in SIMPLE_ACTIONS {
            assert_eq!(Action::parse(name).unwrap(), *a);
            assert_eq!(a.name(), *name);
        }
        for s in ScreenId::ALL {
            let a = Action::Screen(s);
            assert_eq!(Action::parse(&a.name()).unwrap(), a);
        }
    }
}
