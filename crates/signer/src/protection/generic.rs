//! The generic rule for AVS duties: one message per (key, domain, conflict key), and an
//! ordering that must advance where the duty asks for it.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Transaction, params};

use super::{
    Classifier, ProtectionError, key_id,
    outcome::{Outcome, Refusal, from_sql, to_sql},
};

/// A generic signing record as the store sees it: the message itself is reduced to its hash.
#[derive(Debug, Clone, Copy)]
pub struct GenericRecord<'a> {
    /// Signature scheme name (`bls12-381`, `bn254`, `secp256k1`).
    pub scheme: &'a str,
    /// The key's public key bytes.
    pub public_key: &'a [u8],
    /// The duty's domain, e.g. `oracle/eth-usd`.
    pub domain: &'a str,
    /// What two messages must not differ on, e.g. a round number or a bridge index.
    pub conflict_key: &'a [u8],
    /// `Some(n)`: `n` must be above every ordering signed in this domain with this key.
    pub ordering: Option<u64>,
    /// SHA-256 of the message.
    pub message_hash: [u8; 32],
    /// The signature to record (and to return for identical re-requests).
    pub signature: &'a [u8],
    /// Unix seconds, for the operator's history.
    pub signed_at: i64,
}

impl super::ProtectionDb {
    /// The latest time a generic signature was recorded (Unix seconds), or `i64::MIN` for none.
    /// Reads every record once; the signer's writer calls it at start and then keeps count.
    pub fn latest_signed_at(&mut self) -> Result<i64, ProtectionError> {
        let c = self.classifier();
        self.transaction::<_, ProtectionError>(|tx| {
            tx.query_row("SELECT MAX(signed_at) FROM protection_messages", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .map(|latest| latest.unwrap_or(i64::MIN))
            .map_err(c.err("read latest signing time"))
        })
    }
}

/// Key ids of the protection tables, remembered across requests so the hot path skips a lookup.
/// An id learnt inside a transaction that then rolls back may not exist: [`KeyIds::forget`]
/// after any failed transaction.
#[derive(Debug, Default)]
pub(crate) struct KeyIds {
    ids: HashMap<(String, Vec<u8>), i64>,
}

impl KeyIds {
    fn get(
        &mut self,
        tx: &Transaction<'_>,
        c: &Classifier,
        scheme: &str,
        public_key: &[u8],
    ) -> Result<i64, ProtectionError> {
        if let Some(id) = self.ids.get(&(scheme.to_owned(), public_key.to_vec())) {
            return Ok(*id);
        }
        let id = key_id(tx, c, scheme, public_key)?;
        self.ids
            .insert((scheme.to_owned(), public_key.to_vec()), id);
        Ok(id)
    }

    /// Drops every remembered id (after a rollback).
    pub(crate) fn forget(&mut self) {
        self.ids.clear();
    }
}

/// Checks `record` against history and, if safe, inserts it; all within `tx`.
pub(crate) fn check_and_record(
    tx: &Transaction<'_>,
    c: &Classifier,
    keys: &mut KeyIds,
    record: &GenericRecord<'_>,
) -> Result<Outcome, ProtectionError> {
    let key = keys.get(tx, c, record.scheme, record.public_key)?;
    let prior: Option<(Vec<u8>, Vec<u8>)> = tx
        .prepare_cached(
            "SELECT message_hash, signature FROM protection_messages
             WHERE key_id = ?1 AND domain = ?2 AND conflict_key = ?3",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![key, record.domain, record.conflict_key], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
        })
        .map_err(c.err("look up conflict key"))?;
    if let Some((hash, signature)) = prior {
        if hash.as_slice() == record.message_hash {
            return Ok(Outcome::SameData { signature });
        }
        let mut recorded_hash = [0u8; 32];
        if hash.len() == 32 {
            recorded_hash.copy_from_slice(&hash);
        }
        return Ok(Outcome::Refused(Refusal::ConflictingMessage {
            domain: record.domain.to_owned(),
            recorded_hash,
            requested_hash: record.message_hash,
        }));
    }
    // Both answered from the (key_id, domain, ordering) index in O(log n): NULL orderings sort
    // first, MAX reads the last entry. A scan here would make every signature slower than the last.
    let (latest, unordered): (Option<i64>, bool) = tx
        .prepare_cached(
            "SELECT (SELECT MAX(ordering) FROM protection_messages WHERE key_id = ?1 AND domain = ?2),
                    EXISTS (SELECT 1 FROM protection_messages WHERE key_id = ?1 AND domain = ?2 AND ordering IS NULL)",
        )
        .and_then(|mut stmt| stmt.query_row(params![key, record.domain], |r| Ok((r.get(0)?, r.get(1)?))))
        .map_err(c.err("read domain ordering"))?;
    let ordering = match record.ordering {
        Some(requested) => {
            if unordered {
                return Ok(Outcome::Refused(Refusal::OrderingMismatch {
                    domain: record.domain.to_owned(),
                }));
            }
            let requested_sql = match to_sql("ordering", requested) {
                Ok(v) => v,
                Err(refusal) => return Ok(Outcome::Refused(refusal)),
            };
            if let Some(latest) = latest
                && latest >= requested_sql
            {
                return Ok(Outcome::Refused(Refusal::OrderingNotAdvanced {
                    domain: record.domain.to_owned(),
                    latest: from_sql(latest),
                    requested,
                }));
            }
            Some(requested_sql)
        }
        None if latest.is_some() => {
            return Ok(Outcome::Refused(Refusal::OrderingMismatch {
                domain: record.domain.to_owned(),
            }));
        }
        None => None,
    };
    tx.prepare_cached(
        "INSERT INTO protection_messages (key_id, domain, conflict_key, ordering, message_hash, signature, signed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            key,
            record.domain,
            record.conflict_key,
            ordering,
            record.message_hash.as_slice(),
            record.signature,
            record.signed_at
        ])
    })
    .map_err(c.err("record signature"))?;
    Ok(Outcome::Recorded)
}
