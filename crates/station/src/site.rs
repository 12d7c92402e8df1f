//! Where the plant lives: the system config, `/etc/lotline/lotline.toml` (or the file
//! `LOTLINE_CONFIG` names), which every `lotline` reads when neither `--db` nor `LOTLINE_DB`
//! says otherwise. So a clerk who types `lotline` over SSH lands on the plant, named after
//! their handheld, with no shell setup (a profile script is not read by `ssh host lotline`).
//!
//! ```toml
//! # /etc/lotline/lotline.toml
//! db = "/var/lib/lotline/plant.redb"
//! socket = "/run/lotline/lotline.sock"
//! service = true                   # run by systemd: clients never start a server
//! group = "lotline-floor"          # who may connect to the socket
//! backup_dir = "/var/backups/lotline"
//! backup_keep = 14
//! # roles = "/etc/lotline/roles.toml"  (the default: roles.toml beside this file)
//!
//! [stations.by_address]            # SSH client address → station name
//! "10.1.2.31" = "hh-3"
//! [stations.by_terminal]           # terminal → station name
//! "tty1" = "dock-1"
//! ```
//!
//! docs/server.md "Where the plant is" describes how clients and the server use it.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The system config's usual place.
pub const SYSTEM_CONFIG: &str = "/etc/lotline/lotline.toml";

/// Where a service-managed plant's socket lives (systemd's `RuntimeDirectory=lotline`).
/// A socket here belongs to the service: clients never start a server for it.
pub const SERVICE_RUNTIME_DIR: &str = "/run/lotline";

/// Longest config file read: a few stations' names fit many times over.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The system config as read, paths made absolute against its folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Site {
    /// The file read, if any.
    pub file: Option<PathBuf>,
    /// The folder the config lives in (where `roles.toml` is looked for), even when the
    /// file itself does not exist: `/etc/lotline` by default.
    pub dir: Option<PathBuf>,
    pub db: Option<PathBuf>,
    pub socket: Option<PathBuf>,
    pub roles: Option<PathBuf>,
    /// Managed by a service manager: clients report a stopped server instead of starting one.
    pub service: bool,
    pub group: Option<String>,
    pub backup_dir: Option<PathBuf>,
    pub backup_keep: Option<usize>,
    pub stations_by_address: BTreeMap<String, String>,
    pub stations_by_terminal: BTreeMap<String, String>,
    /// Who owns the config file, and whether anyone else may change it: a config decides
    /// roles only when it is root's or the database owner's, and theirs alone.
    pub owner: Option<u32>,
    pub others_may_write: bool,
}

/// Which config to read, as `LOTLINE_CONFIG` says: unset or empty → the system one (absent
/// is fine), `none` → none at all, a path → that file (it must exist).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigChoice {
    System,
    NoConfig,
    File(PathBuf),
}

impl ConfigChoice {
    pub fn from_env_value(v: Option<&OsStr>) -> ConfigChoice {
        match v {
            None => ConfigChoice::System,
            Some(v) if v.is_empty() => ConfigChoice::System,
            Some(v) if v == "none" => ConfigChoice::NoConfig,
            Some(v) => ConfigChoice::File(PathBuf::from(v)),
        }
    }

    /// From this process's `LOTLINE_CONFIG`. Only the binary's entry point calls this;
    /// everything below takes the [`Site`] it produced.
    pub fn from_env() -> ConfigChoice {
        ConfigChoice::from_env_value(std::env::var_os("LOTLINE_CONFIG").as_deref())
    }
}

/// A message naming the file, line and column of a TOML mistake, in words (never the
/// parser's multi-line report with the text quoted raw).
pub fn toml_mistake(file: &Path, text: &str, e: &toml::de::Error) -> String {
    let place = e
        .span()
        .map(|s| {
            let before = &text[..s.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!(" line {line}, column {column}:")
        })
        .unwrap_or_default();
    format!(
        "{}:{place} {}",
        file.display(),
        lotline_domain::text::escape(e.message().trim())
    )
}

impl Site {
    /// Read the config `choice` names. A system config that does not exist is no config;
    /// one named by `LOTLINE_CONFIG` must exist.
    pub fn load(choice: &ConfigChoice) -> Result<Site, String> {
        let (path, required) = match choice {
            ConfigChoice::NoConfig => return Ok(Site::default()),
            ConfigChoice::System => (PathBuf::from(SYSTEM_CONFIG), false),
            ConfigChoice::File(p) => (p.clone(), true),
        };
        let dir = path.parent().map(Path::to_path_buf);
        let (text, meta) = match read_bounded(&path) {
            Ok(read) => read,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Site {
                    dir,
                    ..Site::default()
                });
            }
            Err(e) => {
                return Err(format!(
                    "the lotline config {} cannot be read: {e}",
                    path.display()
                ));
            }
        };
        use std::os::unix::fs::MetadataExt;
        let mut site = Site::parse(&text, &path)?;
        site.owner = Some(meta.uid());
        site.others_may_write = meta.mode() & 0o022 != 0;
        Ok(site)
    }

    /// Parse a config's text; `file` names it in errors and anchors relative paths.
    pub fn parse(text: &str, file: &Path) -> Result<Site, String> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            db: Option<PathBuf>,
            socket: Option<PathBuf>,
            roles: Option<PathBuf>,
            #[serde(default)]
            service: bool,
            group: Option<String>,
            backup_dir: Option<PathBuf>,
            backup_keep: Option<usize>,
            #[serde(default)]
            stations: Stations,
        }
        #[derive(serde::Deserialize, Default)]
        #[serde(deny_unknown_fields)]
        struct Stations {
            #[serde(default)]
            by_address: BTreeMap<String, String>,
            #[serde(default)]
            by_terminal: BTreeMap<String, String>,
        }
        let raw: Raw = toml::from_str(text).map_err(|e| toml_mistake(file, text, &e))?;
        let dir = file.parent().map(Path::to_path_buf);
        let bad = |what: String| format!("{}: {what}", file.display());
        let anchor = |p: Option<PathBuf>| -> Option<PathBuf> {
            p.map(|p| match &dir {
                Some(d) if p.is_relative() => d.join(p),
                _ => p,
            })
        };
        for (k, v) in raw
            .stations
            .by_address
            .iter()
            .chain(raw.stations.by_terminal.iter())
        {
            lotline_domain::text::station_name(v, "station").map_err(|e| {
                bad(format!(
                    "stations: the name for {} {}",
                    lotline_domain::text::escape(k),
                    e.problem
                ))
            })?;
        }
        if let Some(g) = &raw.group
            && (g.is_empty() || g.len() > 64 || g.chars().any(|c| c.is_control() || c == ' '))
        {
            return Err(bad(format!(
                "group: '{}' is not a group name",
                lotline_domain::text::escape(g)
            )));
        }
        if raw.backup_keep == Some(0) {
            return Err(bad(
                "backup_keep: keep at least 1 backup (or leave backup_dir out)".into(),
            ));
        }
        Ok(Site {
            file: Some(file.to_path_buf()),
            dir: dir.clone(),
            db: anchor(raw.db),
            socket: anchor(raw.socket),
            roles: anchor(raw.roles),
            service: raw.service,
            group: raw.group,
            backup_dir: anchor(raw.backup_dir),
            backup_keep: raw.backup_keep,
            stations_by_address: raw.stations.by_address,
            stations_by_terminal: raw.stations.by_terminal,
            // Known once the file is read (`load`); text alone is nobody's.
            owner: None,
            others_may_write: false,
        })
    }

    /// The roles file: the one the config names, else `roles.toml` beside the config
    /// (`/etc/lotline/roles.toml`) when it exists.
    pub fn roles_file(&self) -> Option<PathBuf> {
        if let Some(r) = &self.roles {
            return Some(r.clone());
        }
        self.default_roles_file().filter(|p| p.exists())
    }

    /// Where the plant's roles file is when the config names none: `roles.toml` beside the
    /// config (none when no config is read at all).
    pub fn default_roles_file(&self) -> Option<PathBuf> {
        Some(self.dir.as_ref()?.join("roles.toml"))
    }

    /// The roles files this config gives `db`: the one it names and the one beside it, for
    /// [`crate::Roles::discover`]. None unless `db` is the config's plant (a demo or
    /// personal plant on the same machine is its owner's), and none from a config someone
    /// other than root or the database's owner wrote or may change: otherwise anyone could
    /// name a roles file of their own through `LOTLINE_CONFIG`.
    pub fn roles_for(&self, db: &Path) -> (Option<PathBuf>, Option<PathBuf>) {
        use std::os::unix::fs::MetadataExt;
        if !self.is_plant(db) || self.others_may_write {
            return (None, None);
        }
        let db_owner = std::fs::metadata(db).ok().map(|m| m.uid());
        let trusted = match self.owner {
            None => false,
            Some(0) => true,
            Some(u) => db_owner == Some(u),
        };
        if !trusted {
            return (None, None);
        }
        (self.roles.clone(), self.default_roles_file())
    }

    /// Whether `db` is the plant this config describes.
    pub fn is_plant(&self, db: &Path) -> bool {
        self.db.as_deref().is_some_and(|d| same_path(d, db))
    }

    /// The socket for `db`: the config's when `db` is its plant.
    pub fn socket_for(&self, db: &Path) -> Option<PathBuf> {
        self.socket.clone().filter(|_| self.is_plant(db))
    }

    /// Whether the server on `socket` for `db` is run by a service manager, so a client
    /// must not start one of its own (it would run as the wrong user, without the
    /// service's group, roles and backups, and then keep the service from starting).
    pub fn is_service(&self, db: &Path, socket: &Path) -> bool {
        (self.service && self.is_plant(db)) || socket.starts_with(SERVICE_RUNTIME_DIR)
    }

    /// The station name the config gives a client at this SSH address or terminal.
    pub fn station_for(&self, ssh_address: Option<&str>, tty: Option<&str>) -> Option<String> {
        if let Some(a) = ssh_address
            && let Some(n) = self.stations_by_address.get(a)
        {
            return Some(n.clone());
        }
        let tty = tty?;
        let short = tty.trim_start_matches("/dev/");
        [tty, short]
            .iter()
            .find_map(|t| self.stations_by_terminal.get(*t).cloned())
    }
}

fn same_path(a: &Path, b: &Path) -> bool {
    a == b
        || match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
}

fn read_bounded(path: &Path) -> std::io::Result<(String, std::fs::Metadata)> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(std::io::Error::other("larger than 1 MiB"));
    }
    let mut text = String::new();
    f.take(MAX_CONFIG_BYTES).read_to_string(&mut text)?;
    Ok((text, meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_names_the_plant_and_its_stations() {
        let s = Site::parse(
            "db = \"/var/lib/lotline/plant.redb\"\nsocket = \"/run/lotline/lotline.sock\"\nservice = true\ngroup = \"lotline-floor\"\nbackup_dir = \"backups\"\nbackup_keep = 7\n[stations.by_address]\n\"10.1.2.31\" = \"hh-3\"\n[stations.by_terminal]\ntty1 = \"dock-1\"\n",
            Path::new("/etc/lotline/lotline.toml"),
        )
        .unwrap();
        assert_eq!(
            s.db.as_deref(),
            Some(Path::new("/var/lib/lotline/plant.redb"))
        );
        // Relative paths are the config folder's.
        assert_eq!(
            s.backup_dir.as_deref(),
            Some(Path::new("/etc/lotline/backups"))
        );
        assert_eq!(
            s.station_for(Some("10.1.2.31"), None).as_deref(),
            Some("hh-3")
        );
        assert_eq!(
            s.station_for(Some("10.9.9.9"), Some("/dev/tty1"))
                .as_deref(),
            Some("dock-1")
        );
        assert_eq!(s.station_for(Some("10.9.9.9"), Some("/dev/pts/2")), None);
        assert!(s.is_service(
            Path::new("/var/lib/lotline/plant.redb"),
            Path::new("/run/lotline/lotline.sock")
        ));
        // Another database is not the plant's, unless its socket is the service's.
        assert!(!s.is_service(
            Path::new("/home/a/x.redb"),
            Path::new("/home/a/x.redb.sock")
        ));
        assert_eq!(s.socket_for(Path::new("/home/a/x.redb")), None);
    }

    #[test]
    fn mistakes_name_the_line_and_column_without_raw_text() {
        let e = Site::parse("db = \"/x\"\nsocket = /run\n", Path::new("/etc/l.toml")).unwrap_err();
        assert!(e.starts_with("/etc/l.toml: line 2, column "), "{e}");
        let e = Site::parse("dbb = \"/x\"\n", Path::new("l.toml")).unwrap_err();
        assert!(e.contains("line 1") && e.contains("dbb"), "{e}");
        let e = Site::parse(
            "[stations.by_address]\n\"1.2.3.4\" = \"a\\u001b[31m\"\n",
            Path::new("l.toml"),
        )
        .unwrap_err();
        assert!(!e.contains('\u{1b}'), "{e}");
        assert!(e.contains("1.2.3.4"), "{e}");
        let e = Site::parse("backup_keep = 0\n", Path::new("l.toml")).unwrap_err();
        assert!(e.contains("backup_keep"), "{e}");
    }

    #[test]
    fn a_config_gives_roles_only_to_its_own_plant_and_only_when_no_one_else_may_change_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("plant.redb");
        std::fs::write(&db, b"x").unwrap();
        let config = dir.path().join("lotline.toml");
        std::fs::write(
            &config,
            format!("db = \"{}\"\nroles = \"named.toml\"\n", db.display()),
        )
        .unwrap();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
        let load = || Site::load(&ConfigChoice::File(config.clone())).unwrap();
        // Written by whoever owns the database (this test's user): its roles count.
        let (named, beside) = load().roles_for(&db);
        assert_eq!(named, Some(dir.path().join("named.toml")));
        assert_eq!(beside, Some(dir.path().join("roles.toml")));
        // Another database on the machine (a demo, a personal plant) is its owner's.
        assert_eq!(
            load().roles_for(&dir.path().join("demo.redb")),
            (None, None)
        );
        // A config others may change names no roles: anyone could have put theirs there.
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(load().roles_for(&db), (None, None));
        // Nor does text that was never read from a file someone owns.
        let unread = Site::parse(
            &format!("db = \"{}\"\nroles = \"r.toml\"\n", db.display()),
            &config,
        )
        .unwrap();
        assert_eq!(unread.roles_for(&db), (None, None));
    }

    #[test]
    fn which_config_is_read() {
        assert_eq!(ConfigChoice::from_env_value(None), ConfigChoice::System);
        assert_eq!(
            ConfigChoice::from_env_value(Some(OsStr::new("none"))),
            ConfigChoice::NoConfig
        );
        assert_eq!(
            Site::load(&ConfigChoice::NoConfig).unwrap(),
            Site::default()
        );
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("lotline.toml");
        // Named and missing is an error; the roles file beside it is looked for.
        assert!(Site::load(&ConfigChoice::File(missing.clone())).is_err());
        std::fs::write(&missing, "db = \"plant.redb\"\n").unwrap();
        let s = Site::load(&ConfigChoice::File(missing)).unwrap();
        assert_eq!(s.db, Some(dir.path().join("plant.redb")));
        assert_eq!(s.roles_file(), None);
        std::fs::write(dir.path().join("roles.toml"), "").unwrap();
        assert_eq!(s.roles_file(), Some(dir.path().join("roles.toml")));
    }
}
