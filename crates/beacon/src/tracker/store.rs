//! The tracker's tables in the node's SQLite file: tracked validators, pubkeys waiting for an
//! index, scanned pods, the cursor, and the event log.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    time::Duration,
};

use restake_types::{BlsPublicKey, Epoch, ExecutionAddress, Gwei, Slot, ValidatorIndex};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use super::{
    TrackerError,
    model::{EventKind, TrackedBecause, TrackedValidator, TrackerEvent},
};
use crate::bytes::Root;

/// The tracker schema this build writes; a newer one in the file is refused.
const SCHEMA_VERSION: i64 = 2;

/// Migrations, applied in order; entry `n` brings the schema from version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE tracker_validators (
        idx INTEGER PRIMARY KEY,
        pubkey BLOB NOT NULL UNIQUE,
        record TEXT NOT NULL
    );
    CREATE TABLE tracker_pending (
        pubkey BLOB PRIMARY KEY,
        because TEXT NOT NULL
    );
    CREATE TABLE tracker_pods (
        address BLOB PRIMARY KEY,
        scanned_slot INTEGER NOT NULL
    );
    CREATE TABLE tracker_cursor (
        id INTEGER PRIMARY KEY CHECK (id = 0),
        genesis_validators_root BLOB NOT NULL,
        updated_slot INTEGER,
        block_slot INTEGER,
        finalized_epoch INTEGER
    );
    CREATE TABLE tracker_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        slot INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        pubkey BLOB NOT NULL,
        kind TEXT NOT NULL,
        event TEXT NOT NULL
    );
    CREATE INDEX tracker_events_idx ON tracker_events (idx, seq);
",
    "
    CREATE TABLE tracker_balances (
        id INTEGER PRIMARY KEY CHECK (id = 0),
        slot INTEGER NOT NULL,
        balances BLOB NOT NULL
    );
",
];

/// Bytes per entry of the `tracker_balances` blob: index and balance, little-endian `u64`s.
const BALANCE_ENTRY: usize = 16;

/// Where the tracker stopped: what a restart resumes from instead of rescanning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// The slot of the last state the tracked set was updated from.
    pub(crate) updated_slot: Option<Slot>,
    /// The last block searched for deposits and credential changes towards the pods.
    pub(crate) block_slot: Option<Slot>,
    /// The last finalized epoch seen.
    pub(crate) finalized_epoch: Option<Epoch>,
}

/// One update's worth of writes, committed together.
#[derive(Debug, Default)]
pub(crate) struct Update {
    /// New validators, and those that changed in more than their balance.
    pub(crate) validators: Vec<TrackedValidator>,
    /// The slot of `balances`, when the update read the tracked set.
    pub(crate) balances_slot: Option<Slot>,
    /// Every tracked validator's balance at `balances_slot` (one row, rewritten at each update:
    /// balances change every epoch for everyone, records rarely).
    pub(crate) balances: Vec<(ValidatorIndex, Gwei)>,
    /// Pubkeys that now have an index (removed from the pending list).
    pub(crate) resolved: Vec<BlsPublicKey>,
    /// Pubkeys to wait for (deposits towards a pod not yet in the registry).
    pub(crate) pending: Vec<(BlsPublicKey, TrackedBecause)>,
    /// Pods whose validators were all found by a scan at this slot.
    pub(crate) scanned_pods: Vec<(ExecutionAddress, Slot)>,
    /// Events, without their sequence numbers (assigned by the store).
    pub(crate) events: Vec<(Slot, ValidatorIndex, BlsPublicKey, EventKind)>,
    /// The new cursor.
    pub(crate) cursor: Cursor,
}

/// The tracker's persisted state, loaded at start.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub(crate) validators: BTreeMap<ValidatorIndex, TrackedValidator>,
    pub(crate) pending: BTreeMap<BlsPublicKey, TrackedBecause>,
    pub(crate) scanned_pods: BTreeSet<ExecutionAddress>,
    pub(crate) cursor: Cursor,
}

/// The tracker's connection to the store.
#[derive(Debug)]
pub(crate) struct TrackerStore {
    path: PathBuf,
    conn: Connection,
}

fn u64_sql(v: u64) -> i64 {
    // SQLite integers are signed; slots and indices round-trip through the bit pattern.
    i64::from_ne_bytes(v.to_ne_bytes())
}

fn sql_u64(v: i64) -> u64 {
    u64::from_ne_bytes(v.to_ne_bytes())
}

fn because_str(b: TrackedBecause) -> &'static str {
    match b {
        TrackedBecause::Pubkey => "pubkey",
        TrackedBecause::Index => "index",
        TrackedBecause::Pod => "pod",
    }
}

fn parse_because(s: &str) -> Option<TrackedBecause> {
    match s {
        "pubkey" => Some(TrackedBecause::Pubkey),
        "index" => Some(TrackedBecause::Index),
        "pod" => Some(TrackedBecause::Pod),
        _ => None,
    }
}

impl TrackerStore {
    /// Opens the tracker tables in the SQLite file at `path`, creating or migrating them, and
    /// checks that the file tracks the chain whose genesis validators root is given.
    pub(crate) fn open(
        path: &Path,
        busy_timeout: Duration,
        genesis_validators_root: Root,
    ) -> Result<Self, TrackerError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| TrackerError::store(path, "open", e))?;
        let mut store = Self {
            path: path.to_owned(),
            conn,
        };
        store
            .conn
            .busy_timeout(busy_timeout)
            .map_err(|e| store.err("set busy timeout", e))?;
        store
            .conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| TrackerError::store(path, "enable WAL", e))?;
        store.migrate()?;
        store.check_chain(genesis_validators_root)?;
        Ok(store)
    }

    fn err(&self, action: &'static str, e: rusqlite::Error) -> TrackerError {
        TrackerError::store(&self.path, action, e)
    }

    fn migrate(&mut self) -> Result<(), TrackerError> {
        let path = self.path.clone();
        let err = |action| {
            let path = &path;
            move |e| TrackerError::store(path, action, e)
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("begin migration"))?;
        tx.execute_batch("CREATE TABLE IF NOT EXISTS tracker_schema (version INTEGER NOT NULL)")
            .map_err(err("create schema table"))?;
        let version: i64 = tx
            .query_row("SELECT version FROM tracker_schema", [], |r| r.get(0))
            .optional()
            .map_err(err("read tracker schema version"))?
            .unwrap_or(0);
        if version > SCHEMA_VERSION {
            return Err(TrackerError::NewerSchema {
                path: self.path.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        for migration in MIGRATIONS
            .iter()
            .skip(usize::try_from(version).unwrap_or(usize::MAX))
        {
            tx.execute_batch(migration)
                .map_err(err("migrate tracker schema"))?;
        }
        tx.execute("DELETE FROM tracker_schema", [])
            .map_err(err("record tracker schema version"))?;
        tx.execute(
            "INSERT INTO tracker_schema (version) VALUES (?1)",
            [SCHEMA_VERSION],
        )
        .map_err(err("record tracker schema version"))?;
        tx.commit().map_err(err("commit migration"))
    }

    fn check_chain(&mut self, root: Root) -> Result<(), TrackerError> {
        let stored: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT genesis_validators_root FROM tracker_cursor WHERE id = 0",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err("read cursor", e))?;
        match stored {
            None => {
                self.conn
                    .execute(
                        "INSERT INTO tracker_cursor (id, genesis_validators_root) VALUES (0, ?1)",
                        [root.as_bytes().as_slice()],
                    )
                    .map_err(|e| self.err("write cursor", e))?;
                Ok(())
            }
            Some(bytes) if bytes.as_slice() == root.as_bytes().as_slice() => Ok(()),
            Some(bytes) => Err(TrackerError::OtherChain {
                path: self.path.clone(),
                stored: format!("0x{}", hex::encode(bytes)),
                beacon: root.to_string(),
            }),
        }
    }

    /// Loads everything the tracker persisted.
    pub(crate) fn load(&self) -> Result<Loaded, TrackerError> {
        let mut loaded = Loaded::default();
        let mut stmt = self
            .conn
            .prepare("SELECT idx, record FROM tracker_validators")
            .map_err(|e| self.err("read validators", e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err("read validators", e))?;
        for row in rows {
            let (idx, record) = row.map_err(|e| self.err("read validators", e))?;
            let validator: TrackedValidator =
                serde_json::from_str(&record).map_err(|e| TrackerError::CorruptRecord {
                    path: self.path.clone(),
                    what: format!("validator {}", sql_u64(idx)),
                    reason: e.to_string(),
                })?;
            loaded.validators.insert(validator.index(), validator);
        }
        let balances: Option<(i64, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT slot, balances FROM tracker_balances WHERE id = 0",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err("read balances", e))?;
        if let Some((slot, blob)) = balances {
            if blob.len() % BALANCE_ENTRY != 0 {
                return Err(TrackerError::CorruptRecord {
                    path: self.path.clone(),
                    what: "balances".to_owned(),
                    reason: format!("{} bytes is not a whole number of entries", blob.len()),
                });
            }
            let slot = Slot(sql_u64(slot));
            for entry in blob.chunks_exact(BALANCE_ENTRY) {
                let (index, balance) = entry.split_at(8);
                let index =
                    ValidatorIndex(u64::from_le_bytes(index.try_into().unwrap_or_default()));
                let balance = Gwei(u64::from_le_bytes(balance.try_into().unwrap_or_default()));
                if let Some(v) = loaded.validators.get_mut(&index)
                    && v.updated_slot <= slot
                {
                    v.data.balance = balance;
                    v.updated_slot = slot;
                }
            }
        }
        let mut stmt = self
            .conn
            .prepare("SELECT pubkey, because FROM tracker_pending")
            .map_err(|e| self.err("read pending pubkeys", e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(|e| self.err("read pending pubkeys", e))?;
        for row in rows {
            let (pubkey, because) = row.map_err(|e| self.err("read pending pubkeys", e))?;
            let corrupt = || TrackerError::CorruptRecord {
                path: self.path.clone(),
                what: "pending pubkey".to_owned(),
                reason: format!("pubkey of {} bytes, reason {because:?}", pubkey.len()),
            };
            let key = <[u8; 48]>::try_from(pubkey.as_slice()).map_err(|_| corrupt())?;
            let because = parse_because(&because).ok_or_else(corrupt)?;
            loaded.pending.insert(BlsPublicKey::new(key), because);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT address FROM tracker_pods")
            .map_err(|e| self.err("read scanned pods", e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0))
            .map_err(|e| self.err("read scanned pods", e))?;
        for row in rows {
            let address = row.map_err(|e| self.err("read scanned pods", e))?;
            let address = <[u8; 20]>::try_from(address.as_slice()).map_err(|_| {
                TrackerError::CorruptRecord {
                    path: self.path.clone(),
                    what: "scanned pod".to_owned(),
                    reason: format!("address of {} bytes", address.len()),
                }
            })?;
            loaded.scanned_pods.insert(ExecutionAddress::new(address));
        }
        loaded.cursor = self
            .conn
            .query_row(
                "SELECT updated_slot, block_slot, finalized_epoch FROM tracker_cursor WHERE id = 0",
                [],
                |r| {
                    Ok(Cursor {
                        updated_slot: r.get::<_, Option<i64>>(0)?.map(|s| Slot(sql_u64(s))),
                        block_slot: r.get::<_, Option<i64>>(1)?.map(|s| Slot(sql_u64(s))),
                        finalized_epoch: r.get::<_, Option<i64>>(2)?.map(|e| Epoch(sql_u64(e))),
                    })
                },
            )
            .map_err(|e| self.err("read cursor", e))?;
        Ok(loaded)
    }

    /// Commits one update in a single transaction and returns its events with their sequence
    /// numbers; on error nothing of it is recorded.
    pub(crate) fn commit(&mut self, update: Update) -> Result<Vec<TrackerEvent>, TrackerError> {
        let path = self.path.clone();
        let err = |action| {
            let path = &path;
            move |e| TrackerError::store(path, action, e)
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("begin update"))?;
        {
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO tracker_validators (idx, pubkey, record) VALUES (?1, ?2, ?3)
                     ON CONFLICT (idx) DO UPDATE SET pubkey = excluded.pubkey, record = excluded.record",
                )
                .map_err(err("write validators"))?;
            for v in &update.validators {
                let record = serde_json::to_string(v).map_err(|e| TrackerError::CorruptRecord {
                    path: self.path.clone(),
                    what: format!("validator {}", v.index()),
                    reason: e.to_string(),
                })?;
                upsert
                    .execute(params![
                        u64_sql(v.index().0),
                        v.pubkey().as_bytes().as_slice(),
                        record
                    ])
                    .map_err(err("write validators"))?;
            }
            let mut resolve = tx
                .prepare_cached("DELETE FROM tracker_pending WHERE pubkey = ?1")
                .map_err(err("resolve pending pubkeys"))?;
            for key in &update.resolved {
                resolve
                    .execute([key.as_bytes().as_slice()])
                    .map_err(err("resolve pending pubkeys"))?;
            }
            let mut pending = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO tracker_pending (pubkey, because) VALUES (?1, ?2)",
                )
                .map_err(err("write pending pubkeys"))?;
            for (key, because) in &update.pending {
                pending
                    .execute(params![key.as_bytes().as_slice(), because_str(*because)])
                    .map_err(err("write pending pubkeys"))?;
            }
            let mut pods = tx
                .prepare_cached(
                    "INSERT INTO tracker_pods (address, scanned_slot) VALUES (?1, ?2)
                     ON CONFLICT (address) DO UPDATE SET scanned_slot = excluded.scanned_slot",
                )
                .map_err(err("write scanned pods"))?;
            for (pod, slot) in &update.scanned_pods {
                pods.execute(params![pod.as_bytes().as_slice(), u64_sql(slot.0)])
                    .map_err(err("write scanned pods"))?;
            }
        }
        if let Some(slot) = update.balances_slot {
            let mut blob = Vec::with_capacity(update.balances.len() * BALANCE_ENTRY);
            for (index, balance) in &update.balances {
                blob.extend_from_slice(&index.0.to_le_bytes());
                blob.extend_from_slice(&balance.0.to_le_bytes());
            }
            tx.execute(
                "INSERT INTO tracker_balances (id, slot, balances) VALUES (0, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET slot = excluded.slot, balances = excluded.balances",
                params![u64_sql(slot.0), blob],
            )
            .map_err(err("write balances"))?;
        }
        let mut events = Vec::with_capacity(update.events.len());
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO tracker_events (slot, idx, pubkey, kind, event) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(err("write events"))?;
            for (slot, index, pubkey, kind) in update.events {
                let json =
                    serde_json::to_string(&kind).map_err(|e| TrackerError::CorruptRecord {
                        path: self.path.clone(),
                        what: "event".to_owned(),
                        reason: e.to_string(),
                    })?;
                insert
                    .execute(params![
                        u64_sql(slot.0),
                        u64_sql(index.0),
                        pubkey.as_bytes().as_slice(),
                        kind.name(),
                        json
                    ])
                    .map_err(err("write events"))?;
                events.push(TrackerEvent {
                    seq: sql_u64(tx.last_insert_rowid()),
                    slot,
                    index,
                    pubkey,
                    kind,
                });
            }
        }
        let c = update.cursor;
        tx.execute(
            "UPDATE tracker_cursor SET updated_slot = ?1, block_slot = ?2, finalized_epoch = ?3 WHERE id = 0",
            params![
                c.updated_slot.map(|s| u64_sql(s.0)),
                c.block_slot.map(|s| u64_sql(s.0)),
                c.finalized_epoch.map(|e| u64_sql(e.0)),
            ],
        )
        .map_err(err("write cursor"))?;
        tx.commit().map_err(err("commit update"))?;
        Ok(events)
    }

    /// Stored events after `after` (exclusive), oldest first, at most `limit`, optionally only
    /// those of one validator.
    pub(crate) fn events(
        &self,
        after: u64,
        limit: usize,
        index: Option<ValidatorIndex>,
    ) -> Result<Vec<TrackerEvent>, TrackerError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, slot, idx, pubkey, event FROM tracker_events
                 WHERE seq > ?1 AND (?2 IS NULL OR idx = ?2) ORDER BY seq LIMIT ?3",
            )
            .map_err(|e| self.err("read events", e))?;
        let rows = stmt
            .query_map(
                params![
                    u64_sql(after),
                    index.map(|i| u64_sql(i.0)),
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Vec<u8>>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .map_err(|e| self.err("read events", e))?;
        let mut events = Vec::new();
        for row in rows {
            let (seq, slot, idx, pubkey, json) = row.map_err(|e| self.err("read events", e))?;
            let corrupt = |reason: String| TrackerError::CorruptRecord {
                path: self.path.clone(),
                what: format!("event {}", sql_u64(seq)),
                reason,
            };
            let key = <[u8; 48]>::try_from(pubkey.as_slice())
                .map_err(|_| corrupt(format!("pubkey of {} bytes", pubkey.len())))?;
            let kind = serde_json::from_str(&json).map_err(|e| corrupt(e.to_string()))?;
            events.push(TrackerEvent {
                seq: sql_u64(seq),
                slot: Slot(sql_u64(slot)),
                index: ValidatorIndex(sql_u64(idx)),
                pubkey: BlsPublicKey::new(key),
                kind,
            });
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use restake_types::{Gwei, WithdrawalCredentials};

    use super::*;
    use crate::{Validator, ValidatorData, ValidatorStatus, tracker::FAR_FUTURE_EPOCH};

    const GENESIS: Root = Root::new([7; 32]);

    fn open(dir: &tempfile::TempDir) -> TrackerStore {
        TrackerStore::open(
            &dir.path().join("restaked.db"),
            Duration::from_secs(1),
            GENESIS,
        )
        .unwrap()
    }

    fn tracked(index: u64) -> TrackedValidator {
        TrackedValidator {
            data: ValidatorData {
                index: ValidatorIndex(index),
                balance: Gwei(32_000_000_000),
                status: ValidatorStatus::ActiveOngoing,
                validator: Validator {
                    pubkey: BlsPublicKey::new([index as u8; 48]),
                    withdrawal_credentials: WithdrawalCredentials::new([0; 32]),
                    effective_balance: Gwei(32_000_000_000),
                    slashed: false,
                    activation_eligibility_epoch: Epoch(0),
                    activation_epoch: Epoch(0),
                    exit_epoch: FAR_FUTURE_EPOCH,
                    withdrawable_epoch: FAR_FUTURE_EPOCH,
                },
            },
            pod: None,
            because: TrackedBecause::Index,
            updated_slot: Slot(32),
            slashed_seen_slot: None,
        }
    }

    #[test]
    fn an_update_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        let pod = ExecutionAddress::new([9; 20]);
        let events = store
            .commit(Update {
                validators: vec![tracked(1), tracked(2)],
                pending: vec![(BlsPublicKey::new([0xee; 48]), TrackedBecause::Pod)],
                scanned_pods: vec![(pod, Slot(30))],
                events: vec![
                    (
                        Slot(32),
                        ValidatorIndex(1),
                        BlsPublicKey::new([1; 48]),
                        EventKind::UnconvertedCredentials,
                    ),
                    (
                        Slot(32),
                        ValidatorIndex(2),
                        BlsPublicKey::new([2; 48]),
                        EventKind::Slashed,
                    ),
                ],
                cursor: Cursor {
                    updated_slot: Some(Slot(32)),
                    block_slot: Some(Slot(32)),
                    finalized_epoch: Some(Epoch(0)),
                },
                ..Update::default()
            })
            .unwrap();
        assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
        drop(store);

        let store = open(&dir);
        let loaded = store.load().unwrap();
        assert_eq!(loaded.validators.len(), 2);
        assert_eq!(loaded.validators[&ValidatorIndex(2)], tracked(2));
        assert_eq!(
            loaded.pending.get(&BlsPublicKey::new([0xee; 48])),
            Some(&TrackedBecause::Pod)
        );
        assert!(loaded.scanned_pods.contains(&pod));
        assert_eq!(loaded.cursor.updated_slot, Some(Slot(32)));
        assert_eq!(store.events(0, 10, None).unwrap(), events);
        assert_eq!(store.events(1, 10, None).unwrap(), events[1..]);
        assert_eq!(
            store.events(0, 10, Some(ValidatorIndex(1))).unwrap(),
            events[..1]
        );
        assert_eq!(store.events(0, 1, None).unwrap(), events[..1]);
    }

    #[test]
    fn balances_are_kept_apart_from_the_records() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        store
            .commit(Update {
                validators: vec![tracked(1), tracked(2)],
                ..Update::default()
            })
            .unwrap();
        store
            .commit(Update {
                balances_slot: Some(Slot(64)),
                balances: vec![
                    (ValidatorIndex(1), Gwei(31_000_000_000)),
                    (ValidatorIndex(9), Gwei(1)),
                ],
                ..Update::default()
            })
            .unwrap();
        let loaded = open(&dir).load().unwrap();
        let one = &loaded.validators[&ValidatorIndex(1)];
        assert_eq!(
            (one.data.balance, one.updated_slot),
            (Gwei(31_000_000_000), Slot(64))
        );
        assert_eq!(
            loaded.validators[&ValidatorIndex(2)],
            tracked(2),
            "not in the balances row"
        );
        assert_eq!(loaded.validators.len(), 2, "a balance alone tracks nothing");

        store
            .conn
            .execute("UPDATE tracker_balances SET balances = x'0102'", [])
            .unwrap();
        let err = store.load().unwrap_err();
        assert!(err.to_string().contains("balances is corrupt"), "{err}");
    }

    #[test]
    fn a_resolved_pubkey_leaves_the_pending_list() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        let key = BlsPublicKey::new([0xee; 48]);
        store
            .commit(Update {
                pending: vec![(key, TrackedBecause::Pubkey)],
                ..Update::default()
            })
            .unwrap();
        store
            .commit(Update {
                resolved: vec![key],
                ..Update::default()
            })
            .unwrap();
        assert!(store.load().unwrap().pending.is_empty());
    }

    #[test]
    fn a_store_of_another_chain_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir);
        store
            .commit(Update {
                validators: vec![tracked(1)],
                ..Update::default()
            })
            .unwrap();
        drop(store);
        let path = dir.path().join("restaked.db");
        let err =
            TrackerStore::open(&path, Duration::from_secs(1), Root::new([8; 32])).unwrap_err();
        assert!(matches!(err, TrackerError::OtherChain { .. }), "{err}");
        assert!(err.to_string().contains("genesis validators root"), "{err}");
        assert_eq!(open(&dir).load().unwrap().validators.len(), 1);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        store
            .conn
            .execute("UPDATE tracker_schema SET version = 99", [])
            .unwrap();
        drop(store);
        let err = TrackerStore::open(
            &dir.path().join("restaked.db"),
            Duration::from_secs(1),
            GENESIS,
        )
        .unwrap_err();
        assert!(
            matches!(err, TrackerError::NewerSchema { found: 99, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_corrupt_record_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        store
            .conn
            .execute(
                "INSERT INTO tracker_validators (idx, pubkey, record) VALUES (5, x'00', 'not json')",
                [],
            )
            .unwrap();
        let err = store.load().unwrap_err();
        assert!(err.to_string().contains("validator 5 is corrupt"), "{err}");
    }
}
