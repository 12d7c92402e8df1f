//! What the app starts with: the keymap, colour and borders, from the command line, the
//! config file (`$XDG_CONFIG_HOME/lotline/config.toml`, else `~/.config/lotline/`) and
//! the environment (`NO_COLOR`, the locale).

use super::keymap::{Keymap, KeymapError};
use std::path::{Path, PathBuf};

/// The app's start-up choices.
#[derive(Debug, Clone)]
pub struct Options {
    pub keymap: Keymap,
    /// Bold and reverse only, never a colour.
    pub mono: bool,
    /// ASCII borders and marks only.
    pub ascii: bool,
}

/// The config file's settings. Keys: `keymap = "path"` (relative to the config file's
/// folder; `default` and `vim` name the built-in maps), `mono = true`, `ascii = true`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub keymap: Option<PathBuf>,
    pub mono: bool,
    pub ascii: bool,
}

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
        let text = match std::fs::read_to_string(path) {
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
                ("keymap", _) => {
                    return Err(err(k, "must be a string: the path of a keymap file".into()));
                }
                ("mono" | "ascii", _) => return Err(err(k, "must be true or false".into())),
                _ => {
                    return Err(err(
                        k,
                        "is not a setting; known: keymap, mono, ascii".into(),
                    ));
                }
            }
        }
        Ok(c)
    }

    /// The options to start with: the command line wins over the config file, and
    /// `NO_COLOR` and a non-UTF-8 locale switch colour and line drawing off.
    pub fn options(
        &self,
        keymap: Option<&Path>,
        mono: bool,
        ascii: bool,
        no_color: bool,
        utf8: bool,
    ) -> Result<Options, KeymapError> {
        let keymap = match keymap.or(self.keymap.as_deref()) {
            Some(p) => Keymap::load(p)?,
            None => Keymap::default_map(),
        };
        Ok(Options {
            keymap,
            mono: mono || self.mono || no_color,
            ascii: ascii || self.ascii || !utf8,
        })
    }
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
        let o = c.options(None, false, false, false, true).unwrap();
        assert_eq!(o.keymap.source, "built-in vim");
        assert!(o.mono && !o.ascii);
        // the command line wins
        let o = c
            .options(Some(Path::new("default")), false, false, false, false)
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
            .options(None, false, false, true, true)
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
            .options(None, false, false, false, true)
            .unwrap_err();
        assert!(e.file.ends_with("broken.toml"), "{e}");
        assert_eq!(e.key, "global.keymap[0].on");
        assert!(e.reason.contains("F99"), "{e}");
    }
}
