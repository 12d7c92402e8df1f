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
//! The file is the plant's, never the caller's: named by the server's own `--roles` (and
//! recorded in the plant), by the system's config, or at [`SYSTEM_ROLES_FILE`]; see
//! [`Roles::discover`]. `lotline roles check FILE` checks one before it goes live.
//!
//! With no roles file, the plant's own QA list (`lotline plant set --qa-users`) decides:
//! listed users are admins, others operators; an empty list makes everyone admin, which
//! suits a one-person plant until QA users are named.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

pub use lotline_domain::api::Role;

/// Where a plant's roles file is looked for when nothing names one.
pub const SYSTEM_ROLES_FILE: &str = "/etc/lotline/roles.toml";

/// The largest roles file read: a list of names, never megabytes.
const MAX_FILE: u64 = 1 << 20;

/// A roles file as written; each name keeps where it was, for messages.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RolesFile {
    #[serde(default)]
    admin: Vec<toml::Spanned<String>>,
    #[serde(default)]
    qa: Vec<toml::Spanned<String>>,
    #[serde(default)]
    operator: Vec<toml::Spanned<String>>,
    default: Option<toml::Spanned<String>>,
}

/// A mistake in a roles file, where it is, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolesError {
    pub file: PathBuf,
    /// Line and column, from 1, when the mistake is at a place in the file.
    pub at: Option<(usize, usize)>,
    /// What was wrong, for the admin: the file's own words may be quoted, escaped.
    pub problem: String,
}

impl RolesError {
    fn new(file: &Path, text: Option<&str>, offset: Option<usize>, problem: String) -> RolesError {
        RolesError {
            file: file.to_path_buf(),
            at: text.zip(offset).map(|(t, o)| line_and_column(t, o)),
            problem: lotline_domain::text::escape_lines(&problem)
                .replace('\n', " ")
                .trim()
                .to_string(),
        }
    }

    /// For someone who cannot fix it (a clerk refused a write): where the mistake is and
    /// who can, never the parser's words.
    pub fn for_users(&self) -> String {
        match self.at {
            Some(_) => format!(
                "the plant's roles file {} has a mistake{}; ask the plant's admin to correct it (`lotline roles check {}` shows it)",
                self.file.display(),
                self.place(),
                self.file.display()
            ),
            None => format!(
                "the plant's roles file {} cannot be read, so nothing is written; ask the plant's admin (`lotline roles check {}` says why)",
                self.file.display(),
                self.file.display()
            ),
        }
    }

    fn place(&self) -> String {
        match self.at {
            Some((l, c)) => format!(" at line {l}, column {c}"),
            None => String::new(),
        }
    }
}

impl std::fmt::Display for RolesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "roles file {}{}: {}",
            self.file.display(),
            self.place(),
            self.problem
        )
    }
}

impl std::error::Error for RolesError {}

/// Line and column (from 1, in characters) of a byte offset into `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
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
    pub fn parse(text: &str, file: &Path) -> Result<RoleMap, RolesError> {
        let f: RolesFile = toml::from_str(text).map_err(|e| {
            RolesError::new(
                file,
                Some(text),
                e.span().map(|s| s.start),
                e.message().to_string(),
            )
        })?;
        let mut lists = Vec::new();
        for (key, list) in [("admin", f.admin), ("qa", f.qa), ("operator", f.operator)] {
            let mut names = Vec::new();
            for who in list {
                let at = who.span().start;
                let who = who.into_inner();
                let name = who.strip_prefix('@').unwrap_or(&who);
                if name.is_empty()
                    || name.len() > 64
                    || name
                        .chars()
                        .any(|c| lotline_domain::text::is_unsafe(c) || c.is_whitespace())
                {
                    return Err(RolesError::new(
                        file,
                        Some(text),
                        Some(at),
                        format!(
                            "{key}: {} is not a user name or an @group",
                            lotline_domain::text::excerpt(&who)
                        ),
                    ));
                }
                names.push(who);
            }
            lists.push(names);
        }
        let default = match f.default {
            None => Some(Role::Operator),
            Some(d) => match d.get_ref().as_str() {
                "operator" => Some(Role::Operator),
                "none" => None,
                other => {
                    return Err(RolesError::new(
                        file,
                        Some(text),
                        Some(d.span().start),
                        format!(
                            "default: {} should be \"operator\" or \"none\"",
                            lotline_domain::text::excerpt(other)
                        ),
                    ));
                }
            },
        };
        let operator = lists.pop().unwrap_or_default();
        let qa = lists.pop().unwrap_or_default();
        let admin = lists.pop().unwrap_or_default();
        Ok(RoleMap {
            admin,
            qa,
            operator,
            default,
        })
    }

    /// Read and parse a roles file: a regular file of at most 1 MiB.
    pub fn read(path: &Path) -> Result<RoleMap, RolesError> {
        let bad = |problem: String| RolesError::new(path, None, None, problem);
        let meta = std::fs::metadata(path).map_err(|e| bad(format!("cannot be read ({e})")))?;
        if !meta.is_file() || meta.len() > MAX_FILE {
            return Err(bad("is not a regular file under 1 MiB".into()));
        }
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(format!("cannot be read ({e})")))?;
        RoleMap::parse(&text, path)
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

    /// Every user and `@group` the file names, as written.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.admin
            .iter()
            .chain(&self.qa)
            .chain(&self.operator)
            .map(String::as_str)
    }

    /// Who gets which role, one line per role, for `lotline roles check`: users by name,
    /// groups as "members of group G".
    pub fn describe(&self) -> Vec<String> {
        let who = |list: &[String]| -> String {
            if list.is_empty() {
                return "nobody named".into();
            }
            list.iter()
                .map(|w| match w.strip_prefix('@') {
                    Some(g) => format!("members of group {g}"),
                    None => w.clone(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        vec![
            format!("admin:    {}", who(&self.admin)),
            format!("QA:       {}", who(&self.qa)),
            format!("operator: {}", who(&self.operator)),
            format!(
                "anyone else who can reach the plant: {}",
                match self.default {
                    Some(r) => r.name(),
                    None => "refused",
                }
            ),
        ]
    }
}

/// Told of a roles file that changed into one with a mistake (the last good rules stay).
pub type RolesLog = Box<dyn Fn(&RolesError) + Send + Sync>;

/// The rules read last, and the mistake seen last, by the file's modification stamp.
#[derive(Debug, Default)]
struct Cache {
    good: Option<(FileStamp, RoleMap)>,
    /// The version of the file last reported as having a mistake (`Some(None)`: gone).
    reported: Option<Option<FileStamp>>,
}

/// What tells one version of a file from the next.
type FileStamp = (SystemTime, u64);

/// Where roles come from, re-read when the file changes so a plant need not restart the
/// server to give someone QA. A change with a mistake in it (a typo, a half-saved file, a
/// file moved away) keeps the rules read last and is reported to the log: a typo must not
/// lock the whole floor out.
pub struct Roles {
    file: Option<PathBuf>,
    cache: Mutex<Cache>,
    log: Option<RolesLog>,
}

impl std::fmt::Debug for Roles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Roles").field("file", &self.file).finish()
    }
}

impl Roles {
    /// Roles from the plant's QA list only.
    pub fn from_plant() -> Roles {
        Roles {
            file: None,
            cache: Mutex::new(Cache::default()),
            log: None,
        }
    }

    /// Roles from this file, read now: a file with a mistake is refused at start, naming
    /// its line and column.
    pub fn from_file(path: &Path) -> Result<Roles, RolesError> {
        let roles = Roles {
            file: Some(path.to_path_buf()),
            cache: Mutex::new(Cache::default()),
            log: None,
        };
        let stamp = stamp(path).map_err(|e| RolesError::new(path, None, None, e))?;
        let map = RoleMap::read(path)?;
        roles.lock().good = Some((stamp, map));
        Ok(roles)
    }

    /// The roles a plant's writes are checked against, from the side that owns the file
    /// (never from the caller's environment): the file `named` by `lotline serve --roles`,
    /// else the one `configured` for the system, else the one the plant recorded when it
    /// was last served with `--roles`, else `system_file` if there is one, else the plant's
    /// QA list. The server and a command run with `--no-server` find the same file.
    pub fn discover(
        named: Option<&Path>,
        configured: Option<&Path>,
        recorded: Option<&Path>,
        system_file: Option<&Path>,
    ) -> Result<Roles, RolesError> {
        if let Some(p) = named.or(configured).or(recorded) {
            return Roles::from_file(p);
        }
        let Some(system_file) = system_file else {
            return Ok(Roles::from_plant());
        };
        match std::fs::symlink_metadata(system_file) {
            Ok(_) => Roles::from_file(system_file),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Roles::from_plant()),
            Err(e) => Err(RolesError::new(
                system_file,
                None,
                None,
                format!("cannot be read ({e})"),
            )),
        }
    }

    /// Report a changed file with a mistake here (the server's log) rather than nowhere.
    pub fn with_log(mut self, log: RolesLog) -> Roles {
        self.log = Some(log);
        self
    }

    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The file's rules, read again if it changed; `None` when roles come from the plant.
    fn map(&self) -> Result<Option<RoleMap>, RolesError> {
        let Some(path) = &self.file else {
            return Ok(None);
        };
        let mut cache = self.lock();
        let now = stamp(path);
        if let (Ok(now), Some((at, map))) = (&now, &cache.good)
            && now == at
        {
            return Ok(Some(map.clone()));
        }
        let read = now
            .map_err(|e| RolesError::new(path, None, None, e))
            .and_then(|now| RoleMap::read(path).map(|m| (now, m)));
        match read {
            Ok((now, map)) => {
                cache.good = Some((now, map.clone()));
                cache.reported = None;
                Ok(Some(map))
            }
            Err(e) => {
                // Once per version of the file, not once per request.
                let seen = Some(stamp(path).ok());
                if cache.reported != seen
                    && let Some(log) = &self.log
                {
                    log(&e);
                }
                cache.reported = seen;
                match &cache.good {
                    Some((_, map)) => Ok(Some(map.clone())),
                    None => Err(e),
                }
            }
        }
    }

    /// The role of `user` (in `groups`), given the plant's QA list; `Err` says why a user
    /// may not use this plant at all, in words for that user.
    pub fn role(&self, user: &str, groups: &[String], qa_users: &[String]) -> Result<Role, String> {
        match self.map().map_err(|e| e.for_users())? {
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

/// A file's modification time and length, or why it cannot be looked at.
fn stamp(path: &Path) -> Result<FileStamp, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot be read ({e})"))?;
    Ok((
        meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        meta.len(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> Result<RoleMap, String> {
        RoleMap::parse(text, Path::new("roles.toml")).map_err(|e| e.to_string())
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
        assert_eq!(
            m.describe(),
            [
                "admin:    maria",
                "QA:       quinn, members of group qa",
                "operator: members of group lotline",
                "anyone else who can reach the plant: refused",
            ]
        );
    }

    #[test]
    fn bad_roles_files_name_the_line_and_column() {
        let e = map("admins = [\"x\"]").unwrap_err();
        assert!(
            e.starts_with("roles file roles.toml at line 1, column 1: "),
            "{e}"
        );
        assert!(e.contains("admins"), "{e}");
        let e = map("# roles\nqa = [\"quinn\", \"bad name\"]").unwrap_err();
        assert!(e.contains("line 2, column 16"), "{e}");
        assert!(e.contains("qa: 'bad name'"), "{e}");
        let e = map("admin = [\"maria\"]\ndefault = \"qa\"").unwrap_err();
        assert!(e.contains("line 2, column 11"), "{e}");
        assert!(e.contains("default"), "{e}");
        // A typo: the missing quote.
        let e = map("admin = [\"maria\"]\nqa = [\"quinn]\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        let e = map("qa = [\"\\u001b[31m\"]").unwrap_err();
        assert!(!lotline_domain::text::has_unsafe(&e), "{e}");
        let e = map("qa = [\"a\\u202eb\"]").unwrap_err();
        assert!(!lotline_domain::text::has_unsafe(&e), "{e}");
        assert_eq!(line_and_column("ab\ncdé\nx", 7), (2, 4));
        assert_eq!(line_and_column("", 5), (1, 1));
    }

    #[test]
    fn without_a_file_the_plants_qa_list_decides() {
        let r = Roles::from_plant();
        assert_eq!(r.role("anyone", &[], &[]).unwrap(), Role::Admin);
        let qa = vec!["quinn".to_string()];
        assert_eq!(r.role("quinn", &[], &qa).unwrap(), Role::Admin);
        assert_eq!(r.role("cory", &[], &qa).unwrap(), Role::Operator);
    }

    /// Move the file's modification time on, for file systems with coarse timestamps.
    fn touch_later(p: &Path, secs: u64) {
        let later = SystemTime::now() + std::time::Duration::from_secs(secs);
        let f = std::fs::File::options().write(true).open(p).unwrap();
        f.set_modified(later).unwrap();
    }

    #[test]
    fn a_changed_file_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("roles.toml");
        std::fs::write(&p, "qa = [\"quinn\"]\n").unwrap();
        let r = Roles::from_file(&p).unwrap();
        assert_eq!(r.role("cory", &[], &[]).unwrap(), Role::Operator);
        std::fs::write(&p, "qa = [\"quinn\", \"cory\"]\n# longer\n").unwrap();
        touch_later(&p, 5);
        assert_eq!(r.role("cory", &[], &[]).unwrap(), Role::Qa);
    }

    #[test]
    fn a_typo_after_a_change_keeps_the_last_good_roles_and_is_logged_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("roles.toml");
        std::fs::write(
            &p,
            "admin = [\"maria\"]\nqa = [\"quinn\"]\ndefault = \"none\"\n",
        )
        .unwrap();
        let logged = std::sync::Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = logged.clone();
        let r = Roles::from_file(&p)
            .unwrap()
            .with_log(Box::new(move |e| sink.lock().unwrap().push(e.to_string())));
        // The admin saves a typo: everyone keeps the role they had.
        std::fs::write(
            &p,
            "admin = [\"maria\"]\nqa = [\"quinn\" \"cory\"]\ndefault = \"none\"\n",
        )
        .unwrap();
        touch_later(&p, 5);
        for _ in 0..3 {
            assert_eq!(r.role("quinn", &[], &[]).unwrap(), Role::Qa);
            assert_eq!(r.role("maria", &[], &[]).unwrap(), Role::Admin);
            let e = r.role("eve", &[], &[]).unwrap_err();
            assert!(e.contains("not named"), "{e}");
        }
        let lines = logged.lock().unwrap().clone();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("line 2, column"), "{}", lines[0]);
        // The file moved away: still the last good rules, logged once more.
        std::fs::remove_file(&p).unwrap();
        assert_eq!(r.role("quinn", &[], &[]).unwrap(), Role::Qa);
        assert_eq!(r.role("quinn", &[], &[]).unwrap(), Role::Qa);
        assert_eq!(logged.lock().unwrap().len(), 2);
        // Fixed: read again.
        std::fs::write(&p, "admin = [\"maria\"]\nqa = [\"quinn\", \"cory\"]\n").unwrap();
        touch_later(&p, 10);
        assert_eq!(r.role("cory", &[], &[]).unwrap(), Role::Qa);
        assert_eq!(r.role("eve", &[], &[]).unwrap(), Role::Operator);
    }

    #[test]
    fn a_clerk_is_told_where_the_mistake_is_never_the_parsers_words() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("roles.toml");
        std::fs::write(&p, "qa = [\"quinn\"\n").unwrap();
        let e = Roles::from_file(&p).unwrap_err();
        let said = e.for_users();
        assert!(said.contains("line 1, column"), "{said}");
        assert!(said.contains("lotline roles check"), "{said}");
        assert!(!said.contains(&e.problem), "{said}");
    }

    #[test]
    fn discovery_takes_only_what_the_plant_names_never_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let named = file("named.toml", "admin = [\"named\"]\n");
        let configured = file("configured.toml", "admin = [\"configured\"]\n");
        let recorded = file("recorded.toml", "admin = [\"recorded\"]\n");
        let system = file("system.toml", "admin = [\"system\"]\n");
        let absent = dir.path().join("absent.toml");
        let who = |r: Roles| r.file().unwrap().to_path_buf();
        let d = |n: Option<&Path>, c: Option<&Path>, r: Option<&Path>, s: &Path| {
            Roles::discover(n, c, r, Some(s))
        };
        assert_eq!(
            who(d(Some(&named), Some(&configured), Some(&recorded), &system).unwrap()),
            named
        );
        assert_eq!(
            who(d(None, Some(&configured), Some(&recorded), &system).unwrap()),
            configured
        );
        assert_eq!(
            who(d(None, None, Some(&recorded), &system).unwrap()),
            recorded
        );
        assert_eq!(who(d(None, None, None, &system).unwrap()), system);
        assert!(d(None, None, None, &absent).unwrap().file().is_none());
        // A named file that is missing is an error, never a fallback to everyone-admin.
        assert!(d(None, None, Some(&absent), &system).is_err());
    }
}
