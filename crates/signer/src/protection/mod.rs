//! The protection store: every signature is checked against, and recorded in, a durable history
//! before it leaves the signer.
//!
//! Two rule sets share the store (tables of their own in the node's SQLite file):
//! - the generic rule for AVS duties ([`generic`]): one message per (key, domain, conflict key),
//!   and an ordering that must advance where the duty asks for it;
//! - Ethereum's rules for validator keys ([`eth`]): no double or earlier block proposal, no double
//!   or surrounding vote, as in EIP-3076, with [`interchange`] import and export.
//!
//! Checks and records run inside one `BEGIN IMMEDIATE` transaction on a connection with
//! `synchronous=FULL`: the history is on disk before the caller sees an answer.

pub mod eth;
pub mod generic;
pub mod history;
pub mod interchange;
mod outcome;
#[cfg(test)]
mod tests_interchange;

pub use outcome::{Outcome, Refusal};

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, TransactionBehavior,
};

/// Schema migrations of the protection tables; migration `i` moves from version `i` to `i + 1`.
/// The version lives in a table of its own so the node's `user_version` stays the node's.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE protection_meta (
        key TEXT PRIMARY KEY,
        value BLOB NOT NULL
    );
    CREATE TABLE protection_keys (
        id INTEGER PRIMARY KEY,
        scheme TEXT NOT NULL,
        public_key BLOB NOT NULL,
        UNIQUE (scheme, public_key)
    );
    CREATE TABLE protection_messages (
        key_id INTEGER NOT NULL REFERENCES protection_keys (id),
        domain TEXT NOT NULL,
        conflict_key BLOB NOT NULL,
        ordering INTEGER,
        message_hash BLOB NOT NULL,
        signature BLOB NOT NULL,
        signed_at INTEGER NOT NULL,
        PRIMARY KEY (key_id, domain, conflict_key)
    ) WITHOUT ROWID;
    CREATE INDEX protection_messages_ordering ON protection_messages (key_id, domain, ordering);
    CREATE TABLE protection_blocks (
        key_id INTEGER NOT NULL REFERENCES protection_keys (id),
        slot INTEGER NOT NULL,
        signing_root BLOB
    );
    CREATE INDEX protection_blocks_slot ON protection_blocks (key_id, slot);
    CREATE TABLE protection_attestations (
        key_id INTEGER NOT NULL REFERENCES protection_keys (id),
        source_epoch INTEGER NOT NULL,
        target_epoch INTEGER NOT NULL,
        signing_root BLOB
    );
    CREATE INDEX protection_attestations_target ON protection_attestations (key_id, target_epoch);
    CREATE INDEX protection_attestations_source ON protection_attestations (key_id, source_epoch);
"];

/// Schema version of the protection tables this build writes.
pub const PROTECTION_SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Why the protection store could not answer. Every one of these means "do not sign".
#[derive(Debug, thiserror::Error)]
pub enum ProtectionError {
    /// The store is locked by another writer past the busy timeout.
    #[error(
        "protection store {path} is locked by another writer (waited {waited:?}); refusing to sign"
    )]
    Locked {
        /// The store file.
        path: PathBuf,
        /// How long the store waited.
        waited: Duration,
    },
    /// The disk is full: nothing more can be recorded, so nothing more can be signed.
    #[error("protection store {path}: disk full, cannot record signatures; refusing to sign")]
    DiskFull {
        /// The store file.
        path: PathBuf,
    },
    /// The file is corrupt or not a database.
    #[error("protection store {path} is corrupt: {detail}; refusing to sign")]
    Corrupt {
        /// The store file.
        path: PathBuf,
        /// What SQLite reported.
        detail: String,
    },
    /// The protection tables are newer than this build understands.
    #[error(
        "protection store {path} has protection schema {found}, newer than the {supported} this restaked understands"
    )]
    NewerSchema {
        /// The store file.
        path: PathBuf,
        /// Version found.
        found: i64,
        /// Version this build writes.
        supported: i64,
    },
    /// Any other SQLite failure, with what the store was doing.
    #[error("protection store {path}: {action}: {source}")]
    Sqlite {
        /// The store file.
        path: PathBuf,
        /// What the store was doing.
        action: &'static str,
        /// The SQLite error.
        source: rusqlite::Error,
    },
}

impl ProtectionError {
    /// A short, fixed name for the metric label `reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Locked { .. } => "store_locked",
            Self::DiskFull { .. } => "disk_full",
            Self::Corrupt { .. } | Self::NewerSchema { .. } => "store_corrupt",
            Self::Sqlite { .. } => "store_unavailable",
        }
    }
}

/// Classifies an SQLite error from `action` on `path` into a [`ProtectionError`].
pub(crate) fn classify(
    path: &Path,
    busy_timeout: Duration,
    action: &'static str,
    error: rusqlite::Error,
) -> ProtectionError {
    let code = error.sqlite_error_code();
    match code {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => ProtectionError::Locked {
            path: path.to_owned(),
            waited: busy_timeout,
        },
        Some(ErrorCode::DiskFull) => ProtectionError::DiskFull {
            path: path.to_owned(),
        },
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => ProtectionError::Corrupt {
            path: path.to_owned(),
            detail: error.to_string(),
        },
        _ => ProtectionError::Sqlite {
            path: path.to_owned(),
            action,
            source: error,
        },
    }
}

/// A connection to the protection tables.
#[derive(Debug)]
pub struct ProtectionDb {
    path: PathBuf,
    busy_timeout: Duration,
    conn: Connection,
}

impl ProtectionDb {
    /// Opens the protection tables in the SQLite file at `path` (creating them if needed).
    ///
    /// The node opens the same file first and has already checked its integrity and owner.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<Self, ProtectionError> {
        let err = |action| move |e| classify(path, busy_timeout, action, e);
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err("open"))?;
        conn.busy_timeout(busy_timeout)
            .map_err(err("set busy timeout"))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err("enable WAL"))?;
        // FULL: a signature is released only after its record survives power loss.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err("set synchronous=FULL"))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err("enable foreign keys"))?;
        let mut db = Self {
            path: path.to_owned(),
            busy_timeout,
            conn,
        };
        db.migrate()?;
        Ok(db)
    }

    fn migrate(&mut self) -> Result<(), ProtectionError> {
        let c = self.classifier();
        let err = |action| c.err(action);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("begin migration"))?;
        tx.execute_batch("CREATE TABLE IF NOT EXISTS protection_schema (version INTEGER NOT NULL)")
            .map_err(err("create schema table"))?;
        let version: i64 = tx
            .query_row("SELECT version FROM protection_schema", [], |r| r.get(0))
            .optional()
            .map_err(err("read protection schema version"))?
            .unwrap_or(0);
        if version > PROTECTION_SCHEMA_VERSION {
            return Err(ProtectionError::NewerSchema {
                path: self.path.clone(),
                found: version,
                supported: PROTECTION_SCHEMA_VERSION,
            });
        }
        for migration in MIGRATIONS
            .iter()
            .skip(usize::try_from(version).unwrap_or(usize::MAX))
        {
            tx.execute_batch(migration)
                .map_err(err("migrate protection schema"))?;
        }
        tx.execute("DELETE FROM protection_schema", [])
            .map_err(err("record protection schema version"))?;
        tx.execute(
            "INSERT INTO protection_schema (version) VALUES (?1)",
            [PROTECTION_SCHEMA_VERSION],
        )
        .map_err(err("record protection schema version"))?;
        tx.commit().map_err(err("commit migration"))
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction and commits it; on any error nothing is
    /// recorded.
    pub fn transaction<T, E: From<ProtectionError>>(
        &mut self,
        work: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let c = self.classifier();
        let err = |action| c.err(action);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("begin transaction"))?;
        // Dropping `tx` on error rolls back: nothing of a failed unit of work is recorded.
        let value = work(&tx)?;
        tx.commit().map_err(err("commit"))?;
        Ok(value)
    }

    /// A classifier for errors inside a transaction on this store.
    pub(crate) fn classifier(&self) -> Classifier {
        Classifier {
            path: self.path.clone(),
            busy_timeout: self.busy_timeout,
        }
    }
}

/// Turns SQLite errors into [`ProtectionError`]s for one store.
#[derive(Debug, Clone)]
pub(crate) struct Classifier {
    path: PathBuf,
    busy_timeout: Duration,
}

impl Classifier {
    pub(crate) fn err(
        &self,
        action: &'static str,
    ) -> impl Fn(rusqlite::Error) -> ProtectionError + '_ {
        move |e| classify(&self.path, self.busy_timeout, action, e)
    }
}

/// The id of a key in the protection tables, creating the row on first use.
pub(crate) fn key_id(
    tx: &Transaction<'_>,
    c: &Classifier,
    scheme: &str,
    public_key: &[u8],
) -> Result<i64, ProtectionError> {
    let lookup = |tx: &Transaction<'_>| {
        tx.prepare_cached("SELECT id FROM protection_keys WHERE scheme = ?1 AND public_key = ?2")
            .and_then(|mut stmt| {
                stmt.query_row(rusqlite::params![scheme, public_key], |r| r.get(0))
                    .optional()
            })
            .map_err(c.err("look up key"))
    };
    if let Some(id) = lookup(tx)? {
        return Ok(id);
    }
    tx.prepare_cached("INSERT INTO protection_keys (scheme, public_key) VALUES (?1, ?2)")
        .and_then(|mut stmt| stmt.insert(rusqlite::params![scheme, public_key]))
        .map_err(c.err("register key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("restaked.db");
        drop(ProtectionDb::open(&path, Duration::from_secs(1)).unwrap());
        drop(ProtectionDb::open(&path, Duration::from_secs(1)).unwrap());
        Connection::open(&path)
            .unwrap()
            .execute("UPDATE protection_schema SET version = 99", [])
            .unwrap();
        let err = ProtectionDb::open(&path, Duration::from_secs(1)).unwrap_err();
        assert!(
            matches!(err, ProtectionError::NewerSchema { found: 99, .. }),
            "{err}"
        );
        assert_eq!(err.reason(), "store_corrupt");
    }

    #[test]
    fn a_garbage_file_is_corrupt_not_recreated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("restaked.db");
        std::fs::write(&path, vec![0x42; 8192]).unwrap();
        let err = ProtectionDb::open(&path, Duration::from_secs(1)).unwrap_err();
        assert!(matches!(err, ProtectionError::Corrupt { .. }), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), vec![0x42; 8192]);
    }
}
