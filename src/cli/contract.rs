//! What a script can rely on when a command fails: one exit code per kind of failure, and
//! (with `--json`) the error as one JSON object on stderr. README.md "Exit codes" and
//! `lotline --help` list the same codes; change them together.

use lotline_domain::Invalid;
use lotline_station::{ErrorKind, StationError};
use serde_json::json;

/// Done.
pub const EXIT_OK: u8 = 0;
/// A problem with the data: the database is missing, damaged or not lotline's, or `check`
/// found problems. Retrying the same command will not help.
pub const EXIT_DATA: u8 = 1;
/// Bad input: a value, a flag, or a code that names nothing. Correct it and run again.
pub const EXIT_INVALID: u8 = 2;
/// The record was saved, but its label did not print. Do not run the command again (that
/// would record it twice); reprint with `lotline label LOT`.
pub const EXIT_LABEL_NOT_PRINTED: u8 = 3;
/// Sent, but the server stopped before answering: it may or may not have been saved.
/// Look before repeating (a blind retry could record it twice); sysexits EX_IOERR.
pub const EXIT_UNANSWERED: u8 = 74;
/// Busy: the database is in use by another process, or the server is busy. Nothing was
/// done; try the same command again (sysexits EX_TEMPFAIL).
pub const EXIT_BUSY: u8 = 75;
/// This lotline and the plant's server are different versions (sysexits EX_PROTOCOL).
/// Retrying cannot help: restart the service after an upgrade, or install the same version
/// on both sides. Not 75 (a retry loop would spin for ever) nor 77 (nobody's role is wrong).
pub const EXIT_VERSION: u8 = 76;
/// Not allowed: this user's role may not do this (sysexits EX_NOPERM).
pub const EXIT_NOT_ALLOWED: u8 = 77;

/// What `lotline --help` says after the commands: the database path and the exit codes.
pub const AFTER_HELP: &str = "\
With no command, lotline opens the full-screen app on a terminal (and prints a summary otherwise).

Database: --db PATH, else $LOTLINE_DB, else $XDG_DATA_HOME/lotline/lotline.redb, else
~/.local/share/lotline/lotline.redb; with neither XDG_DATA_HOME nor HOME set,
./lotline.redb in the current directory. Commands never create a database: start a plant
with `lotline init`, or add --create to the first command.

Exit codes:
  0   done
  1   a problem with the data: database missing or damaged, or `check` found problems
  2   bad input: correct it and run again
  3   saved, but the label did not print: do not run again; reprint with `lotline label LOT`
  74  sent, but the server stopped before answering: it may or may not have been saved;
      look (`lotline lots`, `lotline audit`) before you run it again
  75  busy, nothing done: the database is in use or the server is busy; try again
  76  this lotline and the plant's server are different versions: restart the service
      after an upgrade, or install the same version on both sides; retrying cannot help
  77  not allowed for this user's role
With --json, errors are one JSON object on stderr: {\"error\": {\"kind\", \"field\", \"message\"}}.";

/// Why a command failed, as scripts see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The database could not be used, or output could not be written.
    Data,
    /// `check` found problems.
    Problems,
    /// A value the user gave was wrong.
    Invalid,
    /// The command line itself did not parse (unknown flag, missing value).
    Usage,
    /// Saved, label not printed.
    LabelNotPrinted,
    /// Busy, try again.
    Busy,
    /// The user's role may not do this.
    NotAllowed,
    /// Client and server speak different protocol versions.
    Version,
    /// Sent; the server stopped before answering: look before repeating.
    Unanswered,
}

impl Kind {
    pub fn code(self) -> u8 {
        match self {
            Kind::Data | Kind::Problems => EXIT_DATA,
            Kind::Invalid | Kind::Usage => EXIT_INVALID,
            Kind::LabelNotPrinted => EXIT_LABEL_NOT_PRINTED,
            Kind::Busy => EXIT_BUSY,
            Kind::NotAllowed => EXIT_NOT_ALLOWED,
            Kind::Version => EXIT_VERSION,
            Kind::Unanswered => EXIT_UNANSWERED,
        }
    }

    /// The `kind` of a JSON error.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Data => "data",
            Kind::Problems => "problems",
            Kind::Invalid => "invalid",
            Kind::Usage => "usage",
            Kind::LabelNotPrinted => "label_not_printed",
            Kind::Busy => "busy",
            Kind::NotAllowed => "not_allowed",
            Kind::Version => "version",
            Kind::Unanswered => "unanswered",
        }
    }
}

/// A failure to report: one line on stderr (or one JSON object), and an exit code.
#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    /// The flag or field it was about, without dashes, when there is one.
    pub field: Option<String>,
    /// What was wrong and what to do, without the field's name.
    pub message: String,
}

impl Failure {
    pub fn new(kind: Kind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            field: None,
            message: message.into(),
        }
    }

    /// A problem with the data or the database.
    pub fn data(message: impl Into<String>) -> Failure {
        Failure::new(Kind::Data, message)
    }

    /// Bad input, about `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Failure {
        Failure {
            kind: Kind::Invalid,
            field: Some(field.into()),
            message: message.into(),
        }
    }

    pub fn code(&self) -> u8 {
        self.kind.code()
    }

    /// A bad-input failure reported under the flag the user typed, with a hint added;
    /// other failures (database, busy) pass unchanged.
    pub fn in_field(mut self, field: &str, hint: &str) -> Failure {
        if self.kind == Kind::Invalid {
            self.field = Some(field.to_string());
            self.message = format!("{}; {hint}", self.message);
        }
        self
    }

    /// The one line for people: `field: message`.
    pub fn text(&self) -> String {
        match &self.field {
            Some(f) => format!("{f}: {}", self.message),
            None => self.message.clone(),
        }
    }

    /// `{"error": {"kind": …, "field": … or null, "message": …}}`.
    pub fn json(&self) -> serde_json::Value {
        json!({ "error": {
            "kind": self.kind.as_str(),
            "field": self.field,
            "message": self.message,
        }})
    }
}

impl From<StationError> for Failure {
    fn from(e: StationError) -> Self {
        let kind = match e.kind {
            ErrorKind::Invalid | ErrorKind::TooLarge => Kind::Invalid,
            ErrorKind::Forbidden => Kind::NotAllowed,
            ErrorKind::Busy | ErrorKind::Unavailable => Kind::Busy,
            ErrorKind::Database | ErrorKind::Protocol => Kind::Data,
            ErrorKind::Version => Kind::Version,
            ErrorKind::Unanswered => Kind::Unanswered,
        };
        Failure {
            kind,
            field: e.field,
            message: e.message,
        }
    }
}

impl From<Invalid> for Failure {
    fn from(e: Invalid) -> Self {
        Failure::invalid(e.field, e.problem)
    }
}

impl From<lotline_station::file::FileError> for Failure {
    fn from(e: lotline_station::file::FileError) -> Self {
        StationError::from(e).into()
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::data(format!("could not write output: {e}"))
    }
}

/// A command line clap refused, as a failure: the flag it was about, and its first line.
pub fn usage(e: &clap::Error) -> Failure {
    use clap::error::{ContextKind, ContextValue};
    let field = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        _ => None,
    }
    .map(|a| {
        // "--supplier-lot <TEXT>" → "supplier-lot"
        a.split_whitespace()
            .next()
            .unwrap_or("")
            .trim_start_matches('-')
            .to_string()
    })
    .filter(|a| !a.is_empty());
    let rendered = e.render().to_string();
    let message = rendered
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches("error: ")
        .to_string();
    Failure {
        kind: Kind::Usage,
        field,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_documented_code() {
        for (k, code, name) in [
            (Kind::Data, 1, "data"),
            (Kind::Problems, 1, "problems"),
            (Kind::Invalid, 2, "invalid"),
            (Kind::Usage, 2, "usage"),
            (Kind::LabelNotPrinted, 3, "label_not_printed"),
            (Kind::Busy, 75, "busy"),
            (Kind::NotAllowed, 77, "not_allowed"),
            (Kind::Version, 76, "version"),
            (Kind::Unanswered, 74, "unanswered"),
        ] {
            assert_eq!((k.code(), k.as_str()), (code, name));
            assert!(
                AFTER_HELP.contains(&format!("\n  {code} ")),
                "--help lists {code}"
            );
        }
    }

    #[test]
    fn station_errors_keep_their_field_and_kind() {
        let f: Failure = StationError {
            kind: ErrorKind::Forbidden,
            field: Some("lot".into()),
            message: "only QA may hold".into(),
        }
        .into();
        assert_eq!(f.code(), EXIT_NOT_ALLOWED);
        assert_eq!(f.text(), "lot: only QA may hold");
        assert_eq!(
            f.json(),
            json!({"error": {"kind": "not_allowed", "field": "lot", "message": "only QA may hold"}})
        );
        let busy: Failure = StationError {
            kind: ErrorKind::Busy,
            field: None,
            message: "/x.redb is in use by another lotline process".into(),
        }
        .into();
        assert_eq!(busy.code(), EXIT_BUSY);
        assert_eq!(busy.json()["error"]["field"], serde_json::Value::Null);
    }
}
