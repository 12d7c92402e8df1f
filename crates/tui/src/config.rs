//! What the app starts with: the keymap, colour and borders, the scanner and the label
//! printer, from the command line, the config file (`$XDG_CONFIG_HOME/lotline/config.toml`,
//! else `~/.config/lotline/`) and the environment (`NO_COLOR`, the locale,
//! `LOTLINE_PRINTER`).

use super::input::{GS, ScanTiming};
use super::keymap::{Keymap, KeymapError};
use super::settings::{MAX_SETTINGS_FILE, read_settings_file};
use lotline_domain::scan::ScanConfig;
use lotline_export::label::Printer;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The app's start-up choices.
#[derive(Debug, Clone)]
pub struct Options {
    pub keymap: Keymap,
    /// Bold and reverse only, never a colour.
    pub mono: bool,
    /// ASCII borders and marks only.
    pub ascii: bool,
    /// How scans are told from typing, and read.
    pub scanner: ScannerSettings,
    /// Where our lot labels go; None when no printer is set.
    pub printer: Option<PrinterSetting>,
    /// How long a printer gets to take a label.
    pub print_timeout: std::time::Duration,
}

/// What the app's options take from the process's environment, read by the program's
/// entry point (`Environment::of_process`) so that nothing below it, and no test, reads
/// the environment itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    /// `NO_COLOR` is set: colour off.
    pub no_color: bool,
    /// The locale is not UTF-8: ASCII drawing.
    pub not_utf8: bool,
    /// `LOTLINE_PRINTER`.
    pub printer: Option<String>,
    /// `LOTLINE_PRINT_TIMEOUT`.
    pub print_timeout: Option<String>,
}

impl Environment {
    /// This process's, given whether its locale is UTF-8.
    pub fn of_process(utf8: bool) -> Environment {
        Environment {
            no_color: no_color(),
            not_utf8: !utf8,
            printer: std::env::var(PRINTER_ENV).ok(),
            print_timeout: std::env::var("LOTLINE_PRINT_TIMEOUT").ok(),
        }
    }
}

/// The config file's settings. Keys: `keymap = "path"` (relative to the config file's
/// folder; `default` and `vim` name the built-in maps), `mono = true`, `ascii = true`;
/// the `[scanner]` table (see `ScannerSettings`) and `[label] printer = "..."`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub keymap: Option<PathBuf>,
    pub mono: bool,
    pub ascii: bool,
    pub scanner: ScannerSettings,
    /// `[label] printer`, as written and as understood.
    pub printer: Option<PrinterSetting>,
}

/// The `[scanner]` table: how the app tells a barcode scanner's burst of keys from a
/// person typing (docs/tui.md, "Scanning"), and how it reads what the scanner sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannerSettings {
    /// `prefix`: what the scanner is set to send before each scan, if anything. It frames
    /// a scan, as an AIM symbology identifier does, and is stripped before parsing.
    pub prefix: Option<String>,
    /// `separator`: the character the scanner sends for FNC1 (GS, ASCII 29, unless set
    /// to another such as `~`). GS itself is always accepted as well.
    pub separator: char,
    /// `max_key_gap_ms`: without framing, every key of a scan within this many
    /// milliseconds of the one before.
    pub max_key_gap_ms: u64,
    /// `framed_key_gap_ms`: with framing, the looser gap allowed (SSH blurs timing).
    pub framed_key_gap_ms: u64,
    /// `min_burst_len`: without framing, at least this many characters before the Enter.
    pub min_burst_len: usize,
}

impl Default for ScannerSettings {
    fn default() -> Self {
        let t = ScanTiming::default();
        ScannerSettings {
            prefix: None,
            separator: GS,
            max_key_gap_ms: t.max_key_gap.as_millis() as u64,
            framed_key_gap_ms: t.framed_key_gap.as_millis() as u64,
            min_burst_len: t.min_burst_len,
        }
    }
}

impl ScannerSettings {
    /// What the GS1 parser needs.
    pub fn scan_config(&self) -> ScanConfig {
        ScanConfig {
            separator: self.separator,
            prefix: self.prefix.clone(),
        }
    }

    /// What the input decoder needs.
    pub fn timing(&self) -> ScanTiming {
        ScanTiming {
            prefix: self.prefix.clone(),
            max_key_gap: Duration::from_millis(self.max_key_gap_ms),
            framed_key_gap: Duration::from_millis(self.framed_key_gap_ms),
            min_burst_len: self.min_burst_len,
        }
    }

    /// The settings as Help shows them: (key, value as written).
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "prefix",
                match &self.prefix {
                    Some(p) => format!("{:?}", visible(p)),
                    None => "none (AIM identifiers or timing tell a scan)".into(),
                },
            ),
            (
                "separator",
                if self.separator == GS {
                    "GS (ASCII 29)".into()
                } else {
                    format!("{:?} (and GS)", self.separator)
                },
            ),
            ("max_key_gap_ms", self.max_key_gap_ms.to_string()),
            ("framed_key_gap_ms", self.framed_key_gap_ms.to_string()),
            ("min_burst_len", self.min_burst_len.to_string()),
        ]
    }
}

/// Control characters written so a person can read them: GS as `<GS>`, STX as `<02>`.
pub fn visible(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            GS => out.push_str("<GS>"),
            c if c.is_control() => out.push_str(&format!("<{:02X}>", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The label printer, and where it was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterSetting {
    pub printer: Printer,
    /// As written: `tcp:10.0.0.50:9100`.
    pub text: String,
    /// `LOTLINE_PRINTER` or the config file's path.
    pub from: String,
}

/// The environment variable that names the label printer; it wins over the config file.
pub const PRINTER_ENV: &str = "LOTLINE_PRINTER";

/// Where the config file lives.
pub fn config_path() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(x).join("lotline/config.toml"));
    }
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(|h| PathBuf::from(h).join(".config/lotline/config.toml"))
}

impl Config {
    /// Read the config file if there is one. Errors name the file, the key and the reason.
    pub fn load(path: &Path) -> Result<Config, KeymapError> {
        let file = path.display().to_string();
        let err = |key: &str, reason: String| KeymapError {
            file: file.clone(),
            key: key.to_string(),
            reason,
        };
        let text = match read_settings_file(path, MAX_SETTINGS_FILE) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => return Err(err("(file)", format!("cannot be read: {e}"))),
        };
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            err(
                "(syntax)",
                format!("is not valid TOML: {}", e.message().trim()),
            )
        })?;
        let mut c = Config::default();
        for (k, v) in &table {
            match (k.as_str(), v) {
                ("keymap", toml::Value::String(s)) => {
                    let p = PathBuf::from(s);
                    c.keymap = Some(if p.is_relative() && s != "default" && s != "vim" {
                        path.parent().unwrap_or(Path::new(".")).join(p)
                    } else {
                        p
                    });
                }
                ("mono", toml::Value::Boolean(b)) => c.mono = *b,
                ("ascii", toml::Value::Boolean(b)) => c.ascii = *b,
                ("scanner", toml::Value::Table(t)) => c.scanner = scanner(t, &err)?,
                ("label", toml::Value::Table(t)) => c.printer = label(t, &file, &err)?,
                ("keymap", _) => {
                    return Err(err(k, "must be a string: the path of a keymap file".into()));
                }
                ("mono" | "ascii", _) => return Err(err(k, "must be true or false".into())),
                ("scanner" | "label", _) => {
                    return Err(err(
                        k,
                        format!("must be a table: [{k}] on a line of its own, its settings below"),
                    ));
                }
                _ => {
                    return Err(err(
                        k,
                        "is not a setting; known: keymap, mono, ascii, [scanner], [label]".into(),
                    ));
                }
            }
        }
        Ok(c)
    }

    /// The label printer: `LOTLINE_PRINTER` (given here as `env`) wins over `[label]
    /// printer` in the config file.
    pub fn printer_from(&self, env: Option<&str>) -> Result<Option<PrinterSetting>, KeymapError> {
        match env.map(str::trim).filter(|v| !v.is_empty()) {
            Some(text) => Printer::parse(text, PRINTER_ENV)
                .map(|printer| {
                    Some(PrinterSetting {
                        printer,
                        text: text.to_string(),
                        from: PRINTER_ENV.into(),
                    })
                })
                .map_err(|e| KeymapError {
                    file: "environment".into(),
                    key: PRINTER_ENV.into(),
                    reason: e.problem,
                }),
            None => Ok(self.printer.clone()),
        }
    }

    /// The options to start with: the command line wins over the config file, and
    /// `NO_COLOR` and a non-UTF-8 locale switch colour and line drawing off.
    pub fn options(
        &self,
        keymap: Option<&Path>,
        mono: bool,
        ascii: bool,
        env: &Environment,
    ) -> Result<Options, KeymapError> {
        let keymap = match keymap.or(self.keymap.as_deref()) {
            Some(p) => Keymap::load(p)?,
            None => Keymap::default_map(),
        };
        Ok(Options {
            keymap,
            mono: mono || self.mono || env.no_color,
            ascii: ascii || self.ascii || env.not_utf8,
            scanner: self.scanner.clone(),
            printer: self.printer_from(env.printer.as_deref())?,
            print_timeout: lotline_export::label::send_timeout_from(env.print_timeout.as_deref()),
        })
    }
}

/// Characters a scanner cannot use to frame or separate: they arrive as keys that are not
/// text (Enter, Tab, Esc) or end a scan.
fn is_key_char(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\t' | '\u{1b}' | '\0' | '\u{7f}')
}

/// Read the `[scanner]` table; errors name `scanner.KEY`.
fn scanner(
    t: &toml::Table,
    err: &impl Fn(&str, String) -> KeymapError,
) -> Result<ScannerSettings, KeymapError> {
    let mut s = ScannerSettings::default();
    let ms = |k: &str, v: &toml::Value, max: i64| -> Result<u64, KeymapError> {
        match v.as_integer() {
            Some(n) if (1..=max).contains(&n) => Ok(n as u64),
            Some(n) => Err(err(
                &format!("scanner.{k}"),
                format!("{n} is out of range; give milliseconds from 1 to {max}"),
            )),
            None => Err(err(
                &format!("scanner.{k}"),
                "must be a whole number of milliseconds, such as 30".into(),
            )),
        }
    };
    for (k, v) in t {
        let key = format!("scanner.{k}");
        match k.as_str() {
            "prefix" => {
                let Some(p) = v.as_str() else {
                    return Err(err(
                        &key,
                        "must be a string: what the scanner sends before each scan, such as \"@@\""
                            .into(),
                    ));
                };
                if p.chars().count() > 20 {
                    return Err(err(&key, "is longer than 20 characters".into()));
                }
                if let Some(c) = p.chars().find(|c| is_key_char(*c)) {
                    return Err(err(
                        &key,
                        format!(
                            "contains {c:?}, which arrives as a key (Enter, Tab, Esc), not as text"
                        ),
                    ));
                }
                s.prefix = Some(p.to_string()).filter(|p| !p.is_empty());
            }
            "separator" => {
                let Some(text) = v.as_str() else {
                    return Err(err(
                        &key,
                        "must be a string of one character, such as \"~\" (or \"GS\")".into(),
                    ));
                };
                let mut cs = text.chars();
                let c = match (text, cs.next(), cs.next()) {
                    ("GS" | "gs", _, _) => GS,
                    (_, Some(c), None) => c,
                    _ => {
                        return Err(err(
                            &key,
                            format!(
                                "{} should be one character, such as ~ or |, or GS",
                                lotline_domain::text::excerpt(text)
                            ),
                        ));
                    }
                };
                if c.is_alphanumeric() {
                    return Err(err(
                        &key,
                        format!(
                            "{} is a letter or digit, which are data in a scan; use a sign such as ~ or |",
                            lotline_domain::text::excerpt(c)
                        ),
                    ));
                }
                if (c.is_control() && c != GS) || c == ' ' {
                    return Err(err(
                        &key,
                        format!(
                            "{c:?} cannot separate GS1 data (a control character other than GS arrives as a Ctrl key); use GS or a sign such as ~ or |"
                        ),
                    ));
                }
                s.separator = c;
            }
            "max_key_gap_ms" => s.max_key_gap_ms = ms(k, v, 1000)?,
            "framed_key_gap_ms" => s.framed_key_gap_ms = ms(k, v, 5000)?,
            "min_burst_len" => match v.as_integer() {
                Some(n) if (2..=100).contains(&n) => s.min_burst_len = n as usize,
                Some(n) => {
                    return Err(err(
                        &key,
                        format!("{n} is out of range; give a number of characters from 2 to 100"),
                    ));
                }
                None => {
                    return Err(err(
                        &key,
                        "must be a whole number of characters, such as 6".into(),
                    ));
                }
            },
            _ => {
                return Err(err(
                    &key,
                    "is not a scanner setting; known: prefix, separator, max_key_gap_ms, framed_key_gap_ms, min_burst_len".into(),
                ));
            }
        }
    }
    if s.framed_key_gap_ms < s.max_key_gap_ms {
        return Err(err(
            "scanner.framed_key_gap_ms",
            format!(
                "{} is less than max_key_gap_ms ({}); framing allows a scan more time, never less",
                s.framed_key_gap_ms, s.max_key_gap_ms
            ),
        ));
    }
    Ok(s)
}

/// Read the `[label]` table; errors name `label.KEY`.
fn label(
    t: &toml::Table,
    file: &str,
    err: &impl Fn(&str, String) -> KeymapError,
) -> Result<Option<PrinterSetting>, KeymapError> {
    let mut printer = None;
    for (k, v) in t {
        let key = format!("label.{k}");
        match (k.as_str(), v) {
            ("printer", toml::Value::String(text)) => {
                let p = Printer::parse(text, "printer").map_err(|e| err(&key, e.problem))?;
                printer = Some(PrinterSetting {
                    printer: p,
                    text: text.trim().to_string(),
                    from: file.to_string(),
                });
            }
            ("printer", _) => {
                return Err(err(
                    &key,
                    "must be a string such as \"tcp:10.0.0.50:9100\", \"cmd:lp -d zebra -o raw\" or \"file:PATH\"".into(),
                ));
            }
            _ => {
                return Err(err(&key, "is not a label setting; known: printer".into()));
            }
        }
    }
    Ok(printer)
}

/// Whether `NO_COLOR` asks for no colour (set and not empty, per no-color.org).
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file_chooses_the_keymap() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        std::fs::write(&cfg, "keymap = \"vim\"\nmono = true\n").unwrap();
        let c = Config::load(&cfg).unwrap();
        let o = c
            .options(None, false, false, &Environment::default())
            .unwrap();
        assert_eq!(o.keymap.source, "built-in vim");
        assert!(o.mono && !o.ascii);
        // the command line wins
        let o = c
            .options(
                Some(Path::new("default")),
                false,
                false,
                &Environment {
                    not_utf8: true,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(o.keymap.source, "built-in default");
        assert!(o.ascii, "a non-UTF-8 locale draws ASCII");
        // a relative keymap path is the config folder's
        std::fs::write(
            dir.path().join("mine.toml"),
            super::super::keymap::DEFAULT_KEYMAP,
        )
        .unwrap();
        std::fs::write(&cfg, "keymap = \"mine.toml\"\n").unwrap();
        let o = Config::load(&cfg)
            .unwrap()
            .options(
                None,
                false,
                false,
                &Environment {
                    no_color: true,
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(o.keymap.source.ends_with("mine.toml"));
        assert!(o.mono, "NO_COLOR means mono");
        // no file: defaults
        assert_eq!(
            Config::load(&dir.path().join("none.toml")).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn the_environment_is_given_not_read() {
        let env = Environment {
            printer: Some("file:/tmp/labels.zpl".into()),
            print_timeout: Some("7".into()),
            ..Default::default()
        };
        let o = Config::default().options(None, false, false, &env).unwrap();
        assert_eq!(o.print_timeout, std::time::Duration::from_secs(7));
        assert_eq!(o.printer.unwrap().from, PRINTER_ENV);
        // Nothing given: the defaults, whatever this process's environment holds.
        let o = Config::default()
            .options(None, false, false, &Environment::default())
            .unwrap();
        assert_eq!(o.print_timeout, lotline_export::label::SEND_TIMEOUT);
        assert!(o.printer.is_none());
        for bad in ["0", "601", "soon"] {
            let env = Environment {
                print_timeout: Some(bad.into()),
                ..Default::default()
            };
            let o = Config::default().options(None, false, false, &env).unwrap();
            assert_eq!(
                o.print_timeout,
                lotline_export::label::SEND_TIMEOUT,
                "{bad}"
            );
        }
    }

    #[test]
    fn bad_config_names_file_key_and_reason() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        std::fs::write(&cfg, "keymap = 3\n").unwrap();
        let e = Config::load(&cfg).unwrap_err();
        assert_eq!(e.key, "keymap");
        assert!(e.file.ends_with("config.toml"));
        std::fs::write(&cfg, "colour = true\n").unwrap();
        assert_eq!(Config::load(&cfg).unwrap_err().key, "colour");
        std::fs::write(&cfg, "keymap = \"broken.toml\"\n").unwrap();
        std::fs::write(
            dir.path().join("broken.toml"),
            "[global]\nkeymap = [ { on = \"<F99>\", run = \"quit\", desc = \"q\" } ]\n",
        )
        .unwrap();
        let e = Config::load(&cfg)
            .unwrap()
            .options(None, false, false, &Environment::default())
            .unwrap_err();
        assert!(e.file.ends_with("broken.toml"), "{e}");
        assert_eq!(e.key, "global.keymap[0].on");
        assert!(e.reason.contains("F99"), "{e}");
    }

    #[test]
    fn scanner_and_label_settings() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        // None given: the defaults, and no printer.
        std::fs::write(&cfg, "mono = true\n").unwrap();
        let c = Config::load(&cfg).unwrap();
        assert_eq!(c.scanner, ScannerSettings::default());
        assert_eq!(c.scanner.separator, GS);
        assert_eq!(c.printer, None);
        std::fs::write(
            &cfg,
            r#"
[scanner]
prefix = "@@"
separator = "~"
max_key_gap_ms = 40
framed_key_gap_ms = 250
min_burst_len = 8

[label]
printer = "tcp:10.0.0.50:9100"
"#,
        )
        .unwrap();
        let c = Config::load(&cfg).unwrap();
        assert_eq!(
            c.scanner,
            ScannerSettings {
                prefix: Some("@@".into()),
                separator: '~',
                max_key_gap_ms: 40,
                framed_key_gap_ms: 250,
                min_burst_len: 8,
            }
        );
        let t = c.scanner.timing();
        assert_eq!(t.max_key_gap, Duration::from_millis(40));
        assert_eq!(t.framed_key_gap, Duration::from_millis(250));
        assert_eq!(t.prefix.as_deref(), Some("@@"));
        let sc = c.scanner.scan_config();
        assert_eq!((sc.separator, sc.prefix.as_deref()), ('~', Some("@@")));
        let p = c.printer.clone().unwrap();
        assert_eq!(p.printer, Printer::Tcp("10.0.0.50:9100".into()));
        assert_eq!(p.text, "tcp:10.0.0.50:9100");
        assert!(p.from.ends_with("config.toml"));
        // LOTLINE_PRINTER wins over the file; empty means unset.
        let env = c
            .printer_from(Some("file:/tmp/labels.zpl"))
            .unwrap()
            .unwrap();
        assert_eq!(env.printer, Printer::File("/tmp/labels.zpl".into()));
        assert_eq!(env.from, "LOTLINE_PRINTER");
        assert_eq!(c.printer_from(Some("  ")).unwrap(), c.printer);
        assert_eq!(c.printer_from(None).unwrap(), c.printer);
        let e = c.printer_from(Some("zebra")).unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.key.as_str()),
            ("environment", "LOTLINE_PRINTER")
        );
        assert!(e.reason.contains("is not a printer"), "{e}");
        // GS by name, an empty prefix is none, and a control character prefix is fine.
        std::fs::write(
            &cfg,
            "[scanner]\nseparator = \"GS\"\nprefix = \"\"\n[label]\nprinter = \"cmd:lp -d zebra -o raw\"\n",
        )
        .unwrap();
        let c = Config::load(&cfg).unwrap();
        assert_eq!((c.scanner.separator, c.scanner.prefix.clone()), (GS, None));
        assert_eq!(
            c.printer.unwrap().printer,
            Printer::Command("lp -d zebra -o raw".into())
        );
        std::fs::write(&cfg, "[scanner]\nprefix = \"\\u0002\"\n").unwrap();
        assert_eq!(
            Config::load(&cfg).unwrap().scanner.prefix.as_deref(),
            Some("\u{2}")
        );
    }

    #[test]
    fn bad_scanner_and_label_settings_name_file_key_and_reason() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        let refused = |text: &str| {
            std::fs::write(&cfg, text).unwrap();
            let e = Config::load(&cfg).unwrap_err();
            assert!(e.file.ends_with("config.toml"), "{e}");
            e
        };
        for (text, key, why) in [
            ("scanner = 3\n", "scanner", "must be a table"),
            ("label = \"tcp:x:1\"\n", "label", "must be a table"),
            (
                "[scanner]\nprefix = 7\n",
                "scanner.prefix",
                "must be a string",
            ),
            (
                "[scanner]\nprefix = \"a\\rb\"\n",
                "scanner.prefix",
                "arrives as a key",
            ),
            (
                "[scanner]\nseparator = \"~|\"\n",
                "scanner.separator",
                "one character",
            ),
            (
                "[scanner]\nseparator = \"x\"\n",
                "scanner.separator",
                "letter or digit",
            ),
            (
                "[scanner]\nseparator = \" \"\n",
                "scanner.separator",
                "cannot separate",
            ),
            (
                "[scanner]\nseparator = \"\\u001e\"\n",
                "scanner.separator",
                "Ctrl key",
            ),
            (
                "[scanner]\nprefix = \"\\u007f\"\n",
                "scanner.prefix",
                "arrives as a key",
            ),
            (
                "[scanner]\nmax_key_gap_ms = 0\n",
                "scanner.max_key_gap_ms",
                "out of range",
            ),
            (
                "[scanner]\nmax_key_gap_ms = \"30\"\n",
                "scanner.max_key_gap_ms",
                "whole number",
            ),
            (
                "[scanner]\nmax_key_gap_ms = 12.5\n",
                "scanner.max_key_gap_ms",
                "whole number",
            ),
            (
                "[scanner]\nframed_key_gap_ms = 9000\n",
                "scanner.framed_key_gap_ms",
                "out of range",
            ),
            (
                "[scanner]\nmax_key_gap_ms = 80\nframed_key_gap_ms = 50\n",
                "scanner.framed_key_gap_ms",
                "less than max_key_gap_ms",
            ),
            (
                "[scanner]\nmin_burst_len = 1\n",
                "scanner.min_burst_len",
                "out of range",
            ),
            (
                "[scanner]\nmin_burst_len = true\n",
                "scanner.min_burst_len",
                "whole number",
            ),
            (
                "[scanner]\ngap = 30\n",
                "scanner.gap",
                "not a scanner setting",
            ),
            (
                "[label]\nprinter = \"zebra\"\n",
                "label.printer",
                "is not a printer",
            ),
            (
                "[label]\nprinter = \"tcp:10.0.0.50\"\n",
                "label.printer",
                "HOST:PORT",
            ),
            (
                "[label]\nprinter = 9100\n",
                "label.printer",
                "must be a string",
            ),
            (
                "[label]\ncopies = 2\n",
                "label.copies",
                "not a label setting",
            ),
        ] {
            let e = refused(text);
            assert_eq!(e.key, key, "{text}: {e}");
            assert!(e.reason.contains(why), "{text}: {e}");
        }
        // The message as printed at start.
        let e = refused("[scanner]\nmin_burst_len = 1\n");
        assert!(
            e.to_string().ends_with(
                "config.toml: scanner.min_burst_len: 1 is out of range; give a number of characters from 2 to 100"
            ),
            "{e}"
        );
    }

    #[test]
    fn devices_pipes_and_huge_files_are_refused_without_reading_them() {
        let e = Keymap::load(Path::new("/dev/zero")).unwrap_err();
        assert!(e.reason.contains("not a regular file"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("keys.fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo reads the NUL-terminated path only.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = Keymap::load(&fifo).unwrap_err();
        assert!(e.reason.contains("not a regular file"), "{e}");
        let e = Config::load(&fifo).unwrap_err();
        assert!(e.reason.contains("not a regular file"), "{e}");
        let big = dir.path().join("big.toml");
        std::fs::write(&big, "#".repeat(300 * 1024)).unwrap();
        let e = Keymap::load(&big).unwrap_err();
        assert!(e.reason.contains("larger than"), "{e}");
        let e = Keymap::load(dir.path()).unwrap_err();
        assert!(e.reason.contains("not a regular file"), "{e}");
    }
}
