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

/// Every problem found in one pass over a record's fields. Checking goes on past the
/// first problem, so a form can name the first in the order it shows its fields (which
/// need not be the order they are read in) and count the rest; a command line names the
/// first found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems<E> {
    found: Vec<E>,
}

impl<E> Default for Problems<E> {
    fn default() -> Self {
        Problems { found: Vec::new() }
    }
}

impl<E> Problems<E> {
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of a check that passed; a failed one's problem is kept and `None`
    /// stands in for the value.
    pub fn take<T>(&mut self, checked: Result<T, impl Into<E>>) -> Option<T> {
        match checked {
            Ok(v) => Some(v),
            Err(e) => {
                self.found.push(e.into());
                None
            }
        }
    }

    pub fn push(&mut self, e: impl Into<E>) {
        self.found.push(e.into());
    }

    /// Keep the problems another pass found (a record read by a shared builder).
    pub fn extend(&mut self, r: Refused<E>) {
        self.found.extend(r.into_vec());
    }

    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// What `build` makes of the checked values when nothing was wrong, else every
    /// problem in the order found. `build` uses `?` on the values `take` gave, so it only
    /// comes out empty-handed when a check failed, and that problem is here.
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, Refused<E>>
    where
        E: From<Invalid>,
    {
        let mut found = self.found.into_iter();
        match found.next() {
            Some(first) => Err(Refused {
                first,
                rest: found.collect(),
            }),
            // Not reached: every `None` comes from a failed check. Said plainly if it is.
            None => build().ok_or_else(|| Refused {
                first: Invalid::new(
                    "form",
                    "a field could not be read; check each and save again",
                )
                .into(),
                rest: Vec::new(),
            }),
        }
    }
}

/// A record refused: the first problem found, and any others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused<E> {
    pub first: E,
    pub rest: Vec<E>,
}

impl<E> Refused<E> {
    /// The problems in `found`, if there are any.
    pub fn of(found: Vec<E>) -> Option<Refused<E>> {
        let mut found = found.into_iter();
        let first = found.next()?;
        Some(Refused {
            first,
            rest: found.collect(),
        })
    }

    pub fn into_vec(self) -> Vec<E> {
        let mut v = vec![self.first];
        v.extend(self.rest);
        v
    }

    /// The same problems as another error type.
    pub fn map<F>(self, f: impl Fn(E) -> F) -> Refused<F> {
        Refused {
            first: f(self.first),
            rest: self.rest.into_iter().map(f).collect(),
        }
    }
}

impl<E> From<E> for Refused<E> {
    fn from(first: E) -> Self {
        Refused {
            first,
            rest: Vec::new(),
        }
    }
}
