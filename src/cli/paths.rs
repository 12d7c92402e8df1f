//! Where files live and what the terminal can show.

use std::path::PathBuf;

fn data_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("lotline");
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(h) => PathBuf::from(h).join(".local/share/lotline"),
        None => PathBuf::from("."),
    }
}

/// `LOTLINE_DB`, when set.
pub fn env_db_path() -> Option<PathBuf> {
    std::env::var_os("LOTLINE_DB")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// A personal plant: `$XDG_DATA_HOME/lotline/lotline.redb` (`~/.local/share/...`). Used
/// when neither `--db`, `LOTLINE_DB` nor the system config names one.
pub fn default_db_path() -> PathBuf {
    data_dir().join("lotline.redb")
}

/// The demo never shares a file with a real plant, so it ignores `LOTLINE_DB`.
pub fn default_demo_path() -> PathBuf {
    data_dir().join("demo.redb")
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "local".into())
}

/// Whether the locale promises UTF-8; if not, draw with ASCII.
pub fn utf8_locale() -> bool {
    for var in ["LC_ALL", "LC_CTYPE", "LANG"] {
        if let Ok(v) = std::env::var(var)
            && !v.is_empty()
        {
            let v = v.to_ascii_lowercase();
            return v.contains("utf-8") || v.contains("utf8");
        }
    }
    false
}
