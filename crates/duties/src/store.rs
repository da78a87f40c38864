//! The namespaced key-value store of duty modules: one SQLite table, one namespace per module.

use std::{
    path::Path,
    sync::{Arc, Mutex, PoisonError},
};

use restake_types::ModuleId;
use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreError;

/// The module key-value database; [`scoped`](Self::scoped) gives a module its namespace.
///
/// Clones share one connection. Operations are single-row statements, short enough to run on
/// the async runtime.
#[derive(Clone, Debug)]
pub struct ModuleKv {
    conn: Arc<Mutex<Connection>>,
}

impl ModuleKv {
    /// Opens (or creates) the database at `path` and its `module_kv` table.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open_error = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open(path).map_err(open_error)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_error)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS module_kv (
                module TEXT NOT NULL,
                key TEXT NOT NULL,
                value BLOB NOT NULL,
                PRIMARY KEY (module, key)
            )",
        )
        .map_err(open_error)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// The namespace of `module`: it sees only its own keys.
    pub fn scoped(&self, module: ModuleId) -> ModuleStore {
        ModuleStore {
            conn: self.conn.clone(),
            module,
        }
    }
}

/// One module's namespace of the key-value store.
#[derive(Clone, Debug)]
pub struct ModuleStore {
    conn: Arc<Mutex<Connection>>,
    module: ModuleId,
}

impl ModuleStore {
    /// The value stored under `key`, if any.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.connection()
            .query_row(
                "SELECT value FROM module_kv WHERE module = ?1 AND key = ?2",
                params![self.module.as_str(), key],
                |row| row.get(0),
            )
            .optional()
            .map_err(|source| self.query_error(key, source))
    }

    /// Stores `value` under `key`, replacing any previous value.
    pub fn put(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.connection()
            .execute(
                "INSERT INTO module_kv (module, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (module, key) DO UPDATE SET value = excluded.value",
                params![self.module.as_str(), key, value],
            )
            .map(drop)
            .map_err(|source| self.query_error(key, source))
    }

    /// Deletes `key`; returns whether it was present.
    pub fn delete(&self, key: &str) -> Result<bool, StoreError> {
        self.connection()
            .execute(
                "DELETE FROM module_kv WHERE module = ?1 AND key = ?2",
                params![self.module.as_str(), key],
            )
            .map(|deleted| deleted > 0)
            .map_err(|source| self.query_error(key, source))
    }

    /// Up to `limit` entries whose key starts with `prefix`, in key order, or in reverse key
    /// order when `newest_first` (keys with zero-padded numbers sort by number).
    pub fn scan(
        &self,
        prefix: &str,
        limit: usize,
        newest_first: bool,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        // A range on the primary key, not LIKE: LIKE is case-insensitive and treats `_` and `%`.
        let end = format!("{prefix}\u{10FFFF}");
        let sql = if newest_first {
            "SELECT key, value FROM module_kv WHERE module = ?1 AND key >= ?2 AND key < ?3
             ORDER BY key DESC LIMIT ?4"
        } else {
            "SELECT key, value FROM module_kv WHERE module = ?1 AND key >= ?2 AND key < ?3
             ORDER BY key ASC LIMIT ?4"
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let conn = self.connection();
        let rows = conn
            .prepare_cached(sql)
            .and_then(|mut stmt| {
                stmt.query_map(params![self.module.as_str(), prefix, end, limit], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()
            })
            .map_err(|source| self.query_error(prefix, source))?;
        Ok(rows)
    }

    fn connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn query_error(&self, key: &str, source: rusqlite::Error) -> StoreError {
        StoreError::Query {
            module: self.module.clone(),
            key: key.to_owned(),
            source,
        }
    }
}
