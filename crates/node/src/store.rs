//! The node's SQLite store: one file in the data dir, WAL, versioned migrations, integrity check.
//!
//! A file that is not a restaked store, is corrupt, or was written by a newer restaked is a
//! startup error and is left exactly as found: the protection history it may hold is worth more
//! than a node that starts.

use std::{
    fs,
    io::Read,
    path::{Path, PathBuf},
    sync::{Mutex, MutexGuard},
    time::{SystemTime, UNIX_EPOCH},
};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::config::{IntegrityCheck, StoreSettings};

/// File name of the store inside the data dir.
pub const STORE_FILE: &str = "restaked.db";
/// `PRAGMA application_id` of a restaked store ("RSTK"), so other SQLite files are not mistaken for one.
const APPLICATION_ID: i32 = 0x5253_544b;
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Schema migrations; migration `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: node runs, to tell an operator when the node restarted and whether it stopped cleanly.
    "CREATE TABLE node_runs (
        id INTEGER PRIMARY KEY,
        version TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        stopped_at INTEGER
    );",
];

/// The schema version this build writes and understands.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Why the store could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file exists but is not an SQLite database.
    #[error(
        "{path} is not an SQLite database (bad header); it was left untouched. Restore it from a backup or move it away"
    )]
    NotADatabase {
        /// The store file.
        path: PathBuf,
    },
    /// An SQLite database that another application wrote.
    #[error(
        "{path} is an SQLite database of another application (application_id {application_id:#x}); it was left untouched"
    )]
    ForeignDatabase {
        /// The store file.
        path: PathBuf,
        /// The application id found.
        application_id: i32,
    },
    /// The integrity check failed.
    #[error(
        "{path} is corrupt; it was left untouched. Restore it from a backup. SQLite reported: {report}"
    )]
    Corrupt {
        /// The store file.
        path: PathBuf,
        /// What the integrity check (or the failed read) reported.
        report: String,
    },
    /// The schema is newer than this build understands.
    #[error(
        "{path} has schema version {found}, newer than the {supported} this restaked understands; \
         it was left untouched. Run a restaked at least as new as the one that wrote it"
    )]
    NewerSchema {
        /// The store file.
        path: PathBuf,
        /// Version found in the file.
        found: u32,
        /// Version this build writes.
        supported: u32,
    },
    /// An I/O error reading the file.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The store file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An SQLite error, with what the store was doing.
    #[error("store {path}: {action}: {source}")]
    Sqlite {
        /// The store file.
        path: PathBuf,
        /// What the store was doing.
        action: &'static str,
        /// The SQLite error.
        source: rusqlite::Error,
    },
}

impl StoreError {
    /// True when the file itself is the problem (as opposed to I/O or locking), so the operator
    /// must act on the file rather than retry.
    pub fn is_data_error(&self) -> bool {
        matches!(
            self,
            Self::NotADatabase { .. }
                | Self::ForeignDatabase { .. }
                | Self::Corrupt { .. }
                | Self::NewerSchema { .. }
        )
    }
}

/// What opening the store found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenReport {
    /// Schema version before migrations ran (0 for a new store).
    pub previous_version: u32,
    /// True when the previous run ended without a clean shutdown.
    pub previous_run_unclean: bool,
}

/// The open store.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
    run_id: i64,
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Store {
    /// Opens (or creates) the store at `path`: checks header, integrity, owner and schema
    /// version, then migrates and records the start of this run.
    pub fn open(path: &Path, settings: &StoreSettings) -> Result<(Self, OpenReport), StoreError> {
        let sql = |action| {
            move |source| StoreError::Sqlite {
                path: path.to_owned(),
                action,
                source,
            }
        };
        check_header(path)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql("open"))?;
        conn.busy_timeout(settings.busy_timeout)
            .map_err(sql("set busy timeout"))?;
        // Read-only checks first: nothing is written until the file is known to be ours and sound.
        integrity_check(&conn, path, settings.integrity_check)?;
        let application_id: i32 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(sql("read application_id"))?;
        let version: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql("read user_version"))?;
        let has_tables: bool = conn
            .query_row("SELECT EXISTS (SELECT 1 FROM sqlite_schema)", [], |r| {
                r.get(0)
            })
            .map_err(sql("read schema"))?;
        if application_id != APPLICATION_ID && (application_id != 0 || has_tables) {
            return Err(StoreError::ForeignDatabase {
                path: path.to_owned(),
                application_id,
            });
        }
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: path.to_owned(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql("enable WAL"))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql("set synchronous=FULL"))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(sql("enable foreign keys"))?;
        let mut conn = conn;
        migrate(&mut conn, path, version)?;
        let previous_run_unclean = conn
            .query_row(
                "SELECT stopped_at IS NULL FROM node_runs ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql("read last run"))?
            .unwrap_or(false);
        conn.execute(
            "INSERT INTO node_runs (version, started_at) VALUES (?1, ?2)",
            params![env!("CARGO_PKG_VERSION"), unix_now()],
        )
        .map_err(sql("record run start"))?;
        let run_id = conn.last_insert_rowid();
        let store = Self {
            path: path.to_owned(),
            conn: Mutex::new(conn),
            run_id,
        };
        Ok((
            store,
            OpenReport {
                previous_version: version,
                previous_run_unclean,
            },
        ))
    }

    /// Path of the store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (it has its own
        // transactions), so a poisoned lock is still safe to use.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs a read-only query to check the store still answers (used by readiness).
    pub fn ping(&self) -> Result<(), StoreError> {
        self.conn()
            .query_row("SELECT 1", [], |_| Ok(()))
            .map_err(|source| StoreError::Sqlite {
                path: self.path.clone(),
                action: "ping",
                source,
            })
    }

    /// Records a clean stop of this run and checkpoints the WAL into the main file, so the
    /// store is one self-contained file after shutdown.
    pub fn close(&self) -> Result<(), StoreError> {
        let sql = |action| {
            move |source| StoreError::Sqlite {
                path: self.path.clone(),
                action,
                source,
            }
        };
        let conn = self.conn();
        conn.execute(
            "UPDATE node_runs SET stopped_at = ?1 WHERE id = ?2",
            params![unix_now(), self.run_id],
        )
        .map_err(sql("record clean stop"))?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(sql("checkpoint WAL"))
    }
}

fn check_header(path: &Path) -> Result<(), StoreError> {
    let io = |source| StoreError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    let mut header = Vec::with_capacity(16);
    file.by_ref()
        .take(16)
        .read_to_end(&mut header)
        .map_err(io)?;
    // An empty file is what SQLite itself leaves after a failed first open: treat it as new.
    if header.is_empty() || header.as_slice() == SQLITE_HEADER {
        Ok(())
    } else {
        Err(StoreError::NotADatabase {
            path: path.to_owned(),
        })
    }
}

fn integrity_check(
    conn: &Connection,
    path: &Path,
    check: IntegrityCheck,
) -> Result<(), StoreError> {
    let pragma = match check {
        IntegrityCheck::Quick => "PRAGMA quick_check",
        IntegrityCheck::Full => "PRAGMA integrity_check",
    };
    let corrupt = |report: String| StoreError::Corrupt {
        path: path.to_owned(),
        report,
    };
    let rows: Vec<String> = conn
        .prepare(pragma)
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| corrupt(e.to_string()))?;
    if rows.len() == 1 && rows[0] == "ok" {
        Ok(())
    } else {
        Err(corrupt(rows.join("; ")))
    }
}

fn migrate(conn: &mut Connection, path: &Path, from: u32) -> Result<(), StoreError> {
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        let to = index + 1;
        let sql = |source| StoreError::Sqlite {
            path: path.to_owned(),
            action: "migrate schema",
            source,
        };
        let tx = conn.transaction().map_err(sql)?;
        tx.execute_batch(migration).map_err(sql)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(sql)?;
        tx.pragma_update(None, "user_version", to).map_err(sql)?;
        tx.commit().map_err(sql)?;
        tracing::info!(store = %path.display(), version = to, "store schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn settings() -> StoreSettings {
        StoreSettings {
            busy_timeout: Duration::from_secs(1),
            integrity_check: IntegrityCheck::Full,
        }
    }

    #[test]
    fn creates_a_new_store_and_reopens_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE);
        let (store, report) = Store::open(&path, &settings()).unwrap();
        assert_eq!(
            report,
            OpenReport {
                previous_version: 0,
                previous_run_unclean: false
            }
        );
        store.ping().unwrap();
        store.close().unwrap();
        let (store, report) = Store::open(&path, &settings()).unwrap();
        assert_eq!(
            report,
            OpenReport {
                previous_version: SCHEMA_VERSION,
                previous_run_unclean: false
            }
        );
        let mode: String = store
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn reports_a_run_that_did_not_close() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE);
        let (store, _) = Store::open(&path, &settings()).unwrap();
        drop(store);
        let (_, report) = Store::open(&path, &settings()).unwrap();
        assert!(report.previous_run_unclean);
    }

    #[test]
    fn refuses_a_file_that_is_not_sqlite_and_leaves_it_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE);
        let garbage = b"this is not a database, but it may be someone's only copy".repeat(100);
        fs::write(&path, &garbage).unwrap();
        let err = Store::open(&path, &settings()).unwrap_err();
        assert!(matches!(err, StoreError::NotADatabase { .. }), "{err}");
        assert!(err.is_data_error());
        assert_eq!(fs::read(&path).unwrap(), garbage);
        assert!(!dir.path().join("restaked.db-wal").exists());
    }

    #[test]
    fn refuses_a_corrupt_store_and_leaves_it_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE);
        let (store, _) = Store::open(&path, &settings()).unwrap();
        {
            let conn = store.conn();
            conn.execute_batch(
                "CREATE TABLE filler (x BLOB); CREATE INDEX filler_x ON filler (x);",
            )
            .unwrap();
            for i in 0..200 {
                conn.execute("INSERT INTO filler VALUES (?1)", [vec![i as u8; 500]])
                    .unwrap();
            }
        }
        store.close().unwrap();
        let mut bytes = fs::read(&path).unwrap();
        // Overwrite the middle of the file (table and index pages), keeping the header intact.
        let mid = bytes.len() / 2;
        bytes[mid..mid + 4096].fill(0xA5);
        fs::write(&path, &bytes).unwrap();
        let err = Store::open(&path, &settings()).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert_eq!(fs::read(&path).unwrap(), bytes);
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE);
        Store::open(&path, &settings()).unwrap().0.close().unwrap();
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let err = Store::open(&path, &settings()).unwrap_err();
        assert!(
            matches!(err, StoreError::NewerSchema { found, supported, .. } if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
            "{err}"
        );
    }

    #[test]
    fn refuses_another_applications_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE);
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (x INTEGER);")
            .unwrap();
        let err = Store::open(&path, &settings()).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::ForeignDatabase {
                    application_id: 0,
                    ..
                }
            ),
            "{err}"
        );
    }
}
