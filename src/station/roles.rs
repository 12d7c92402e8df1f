//! Roles: who may do what. A plant's roles file maps Unix users and groups to roles; the
//! side that owns the database (the server, or an embedded station) enforces them.
//!
//! ```toml
//! # /etc/lotline/roles.toml
//! admin = ["maria"]              # master data, plant settings, roles (and all of QA's)
//! qa = ["quinn", "@qa"]          # hold, release, recall, adjust, void, mock recall
//! operator = ["@lotline"]        # receive, produce, ship, read
//! default = "operator"           # anyone else who can reach the socket: operator | none
//! ```
//!
//! With no roles file, the plant's own QA list (`lotline plant set --qa-users`) decides:
//! listed users are admins, others operators; an empty list makes everyone admin, which
//! suits a one-person plant until QA users are named.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// A role; each includes everything the ones below it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    Operator,
    Qa,
    Admin,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Qa => "QA",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A roles file as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RolesFile {
    #[serde(default)]
    admin: Vec<String>,
    #[serde(default)]
    qa: Vec<String>,
    #[serde(default)]
    operator: Vec<String>,
    default: Option<String>,
}

/// The parsed rules: a user's role is the highest that names them or one of their groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleMap {
    admin: Vec<String>,
    qa: Vec<String>,
    operator: Vec<String>,
    /// The role of users named nowhere; `None` refuses them.
    default: Option<Role>,
}

impl RoleMap {
    pub fn parse(text: &str, file: &Path) -> Result<RoleMap, String> {
        let bad = |what: String| format!("{}: {what}", file.display());
        let f: RolesFile =
            toml::from_str(text).map_err(|e| super::site::toml_mistake(file, text, &e))?;
        for (key, list) in [
            ("admin", &f.admin),
            ("qa", &f.qa),
            ("operator", &f.operator),
        ] {
            for who in list {
                let name = who.strip_prefix('@').unwrap_or(who);
                if name.is_empty()
                    || name.len() > 64
                    || name.chars().any(|c| c.is_control() || c.is_whitespace())
                {
                    return Err(bad(format!(
                        "{key}: '{}' is not a user or @group name",
                        who.escape_debug()
                    )));
                }
            }
        }
        let default = match f.default.as_deref() {
            None | Some("operator") => Some(Role::Operator),
            Some("none") => None,
            Some(other) => {
                return Err(bad(format!(
                    "default: '{}' should be \"operator\" or \"none\"",
                    other.escape_debug()
                )));
            }
        };
        Ok(RoleMap {
            admin: f.admin,
            qa: f.qa,
            operator: f.operator,
            default,
        })
    }

    /// The role of `user` in `groups`, or `None` when the plant refuses them.
    pub fn role(&self, user: &str, groups: &[String]) -> Option<Role> {
        let names = |list: &[String]| {
            list.iter().any(|w| match w.strip_prefix('@') {
                Some(g) => groups.iter().any(|x| x == g),
                None => w == user,
            })
        };
        if names(&self.admin) {
            Some(Role::Admin)
        } else if names(&self.qa) {
            Some(Role::Qa)
        } else if names(&self.operator) {
            Some(Role::Operator)
        } else {
            self.default
        }
    }
}

/// Where roles come from, re-read when the file changes so a plant need not restart the
/// server to give someone QA.
#[derive(Debug)]
pub struct Roles {
    file: Option<PathBuf>,
    cache: Mutex<Option<(SystemTime, RoleMap)>>,
}

/// The roles file used when none is named: `LOTLINE_ROLES`, else `/etc/lotline/roles.toml`
/// when it exists.
pub fn default_roles_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LOTLINE_ROLES").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let etc = PathBuf::from("/etc/lotline/roles.toml");
    etc.exists().then_some(etc)
}

impl Roles {
    /// Roles from the plant's QA list only.
    pub fn from_plant() -> Roles {
        Roles {
            file: None,
            cache: Mutex::new(None),
        }
    }

    /// Roles from this file, checked now so a bad file is refused at start.
    pub fn from_file(path: &Path) -> Result<Roles, String> {
        let roles = Roles {
            file: Some(path.to_path_buf()),
            cache: Mutex::new(None),
        };
        roles.map()?;
        Ok(roles)
    }

    /// The roles file named, else the default one, else the plant's QA list.
    pub fn discover(named: Option<&Path>) -> Result<Roles, String> {
        match named.map(Path::to_path_buf).or_else(default_roles_file) {
            Some(p) => Roles::from_file(&p),
            None => Ok(Roles::from_plant()),
        }
    }

    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The file's rules, read again if it changed; `None` when roles come from the plant.
    fn map(&self) -> Result<Option<RoleMap>, String> {
        let Some(path) = &self.file else {
            return Ok(None);
        };
        let meta =
            std::fs::metadata(path).map_err(|e| format!("roles file {}: {e}", path.display()))?;
        if !meta.is_file() || meta.len() > 1 << 20 {
            return Err(format!(
                "roles file {}: not a regular file under 1 MiB",
                path.display()
            ));
        }
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, map)) = cache.as_ref()
            && *at == modified
        {
            return Ok(Some(map.clone()));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("roles file {}: {e}", path.display()))?;
        let map = RoleMap::parse(&text, path)?;
        *cache = Some((modified, map.clone()));
        Ok(Some(map))
    }

    /// The role of `user` (in `groups`), given the plant's QA list; `Err` says why a user
    /// may not use this plant at all.
    pub fn role(&self, user: &str, groups: &[String], qa_users: &[String]) -> Result<Role, String> {
        match self.map()? {
            Some(map) => map.role(user, groups).ok_or_else(|| {
                format!(
                    "{user} is not named in the roles file{}; ask the plant's admin to add them",
                    self.file
                        .as_ref()
                        .map(|p| format!(" {}", p.display()))
                        .unwrap_or_default()
                )
            }),
            None if qa_users.is_empty() || qa_users.iter().any(|u| u == user) => Ok(Role::Admin),
            None => Ok(Role::Operator),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> Result<RoleMap, String> {
        RoleMap::parse(text, Path::new("roles.toml"))
    }

    #[test]
    fn the_highest_role_naming_a_user_or_group_wins() {
        let m = map(
            "admin = [\"maria\"]\nqa = [\"quinn\", \"@qa\"]\noperator = [\"@lotline\"]\ndefault = \"none\"\n",
        )
        .unwrap();
        let g = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(m.role("maria", &g(&["qa"])), Some(Role::Admin));
        assert_eq!(m.role("quinn", &[]), Some(Role::Qa));
        assert_eq!(m.role("pat", &g(&["qa", "lotline"])), Some(Role::Qa));
        assert_eq!(m.role("cory", &g(&["lotline"])), Some(Role::Operator));
        assert_eq!(m.role("eve", &g(&["users"])), None);
        let open = map("qa = [\"quinn\"]\n").unwrap();
        assert_eq!(open.role("eve", &[]), Some(Role::Operator));
    }

    #[test]
    fn bad_roles_files_name_the_key() {
        let e = map("admins = [\"x\"]").unwrap_err();
        assert!(e.starts_with("roles.toml: "), "{e}");
        assert!(e.contains("admins"), "{e}");
        let e = map("qa = [\"bad name\"]").unwrap_err();
        assert!(e.contains("qa: 'bad name'"), "{e}");
        let e = map("default = \"qa\"").unwrap_err();
        assert!(e.contains("default"), "{e}");
        let e = map("qa = [\"\\u001b[31m\"]").unwrap_err();
        assert!(!e.contains('\u{1b}'), "{e}");
    }

    #[test]
    fn without_a_file_the_plants_qa_list_decides() {
        let r = Roles::from_plant();
        assert_eq!(r.role("anyone", &[], &[]).unwrap(), Role::Admin);
        let qa = vec!["quinn".to_string()];
        assert_eq!(r.role("quinn", &[], &qa).unwrap(), Role::Admin);
        assert_eq!(r.role("cory", &[], &qa).unwrap(), Role::Operator);
    }

    #[test]
    fn a_changed_file_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("roles.toml");
        std::fs::write(&p, "qa = [\"quinn\"]\n").unwrap();
        let r = Roles::from_file(&p).unwrap();
        assert_eq!(r.role("cory", &[], &[]).unwrap(), Role::Operator);
        std::fs::write(&p, "qa = [\"quinn\", \"cory\"]\n# longer\n").unwrap();
        // Make sure the modification time differs on coarse-grained file systems.
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        let f = std::fs::File::options().write(true).open(&p).unwrap();
        f.set_modified(later).unwrap();
        assert_eq!(r.role("cory", &[], &[]).unwrap(), Role::Qa);
    }
}
