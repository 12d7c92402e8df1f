use lotline_domain::Invalid;
use std::path::PathBuf;

/// What can go wrong in the store, each saying what happened and what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A value the user gave breaks a rule or names something that does not exist.
    #[error("{0}")]
    Invalid(#[from] Invalid),
    #[error("{} is not a lotline database ({detail}); check --db or LOTLINE_DB", path.display())]
    NotLotline { path: PathBuf, detail: String },
    #[error("no lotline database at {}; check --db or LOTLINE_DB, or create a plant there with `lotline init` (or add --create)", path.display())]
    Missing { path: PathBuf },
    #[error("{} is in use by another lotline process; close it, or wait for it to finish", path.display())]
    InUse { path: PathBuf },
    #[error("{} was written by a newer lotline (schema {found}, this one reads up to {supported}); upgrade lotline", path.display())]
    NewerSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error(
        "the database is damaged: {detail}; restore it from a backup, or run `lotline check` for details"
    )]
    Damaged { detail: String },
    /// The file fails redb's integrity check, so nothing is written to it.
    #[error("{} fails its check: {why}. lotline will not write to it: read it as it is (lots, trace, `lotline check`), restore the last good backup, or copy what is readable with `lotline salvage {} NEW.redb`", path.display(), path.display())]
    FailedCheck { path: PathBuf, why: String },
    #[error("{} is open read-only here; this needs the writer (the lotline server, or a command without --read-only)", path.display())]
    ReadOnly { path: PathBuf },
    #[error("{} cannot be read without its writer: {why}; run a lotline command that writes, or `lotline serve`, to do that", path.display())]
    NeedsWriter { path: PathBuf, why: String },
    /// This user may not open the file (or enter its folder): a service plant's file is
    /// its service user's alone, reached through the server.
    #[error("{}: permission denied; this user may not open the database file (a plant's server reaches it for them)", path.display())]
    NoAccess { path: PathBuf },
    #[error("could not read or write the database: {0}")]
    Io(String),
}

impl StoreError {
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> StoreError {
        StoreError::Invalid(Invalid::new(field, problem))
    }
}

fn from_storage(e: redb::StorageError) -> StoreError {
    match e {
        redb::StorageError::Corrupted(detail) => StoreError::Damaged { detail },
        redb::StorageError::Io(io) => StoreError::Io(io_message(&io)),
        other => StoreError::Io(other.to_string()),
    }
}

/// An I/O error in words: a full disk says what to do, since it is the one a plant meets
/// most and its cause is not in the database.
fn io_message(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::StorageFull | K::QuotaExceeded | K::FileTooLarge => format!(
            "the disk is full ({e}), so this was not saved; free space on the disk that holds the database and try again (nothing saved before is lost)"
        ),
        _ => e.to_string(),
    }
}

impl From<redb::StorageError> for StoreError {
    fn from(e: redb::StorageError) -> Self {
        from_storage(e)
    }
}

impl From<redb::TableError> for StoreError {
    fn from(e: redb::TableError) -> Self {
        match e {
            redb::TableError::Storage(s) => from_storage(s),
            // Every table is created when the database is initialised, so a missing or
            // mistyped table means the file is not what it claims to be.
            other => StoreError::Damaged {
                detail: other.to_string(),
            },
        }
    }
}

impl From<redb::TransactionError> for StoreError {
    fn from(e: redb::TransactionError) -> Self {
        match e {
            redb::TransactionError::Storage(s) => from_storage(s),
            other => StoreError::Io(other.to_string()),
        }
    }
}

impl From<redb::CommitError> for StoreError {
    fn from(e: redb::CommitError) -> Self {
        match e {
            redb::CommitError::Storage(s) => from_storage(s),
            other => StoreError::Io(other.to_string()),
        }
    }
}
