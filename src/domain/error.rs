//! The one error type of the domain: which field was wrong and what would be accepted.

use std::fmt;

/// A rule of the domain was broken by a value the user gave.
///
/// `field` is the name the user typed it under (the command-line flag or form label
/// without dashes), so the message can point at it; `problem` says what was wrong and
/// what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Invalid {
    pub field: String,
    pub problem: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// The same problem reported under another field name, e.g. `qty` → `input 2 qty`.
    pub fn in_field(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

impl std::error::Error for Invalid {}
