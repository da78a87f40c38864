//! The whole protection history as one versioned JSON document, for `restakectl protection
//! export|import`: how an operator moves a node without losing what it signed.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{
    ProtectionDb, ProtectionError,
    interchange::{ExportFormat, Interchange, InterchangeError, Root},
    key_id,
};

/// Value of `format` in a history document.
pub const HISTORY_FORMAT: &str = "restaked-protection-history";
/// Version of the history document this build writes and reads.
pub const HISTORY_VERSION: u32 = 1;

/// The protection history of a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct History {
    /// Always [`HISTORY_FORMAT`].
    pub format: String,
    /// Always [`HISTORY_VERSION`] for this build.
    pub version: u32,
    /// Every generic (AVS duty) record.
    pub messages: Vec<MessageRecord>,
    /// The validator history in EIP-3076 form, when the store is bound to a chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ethereum: Option<Interchange>,
}

/// One generic record: a signature released for (key, domain, conflict key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageRecord {
    /// Signature scheme.
    pub scheme: String,
    /// Public key, 0x-hex.
    pub public_key: String,
    /// Duty domain.
    pub domain: String,
    /// Conflict key, 0x-hex.
    pub conflict_key: String,
    /// Ordering, when the domain is ordered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordering: Option<u64>,
    /// SHA-256 of the signed message, 0x-hex.
    pub message_hash: String,
    /// The signature, 0x-hex.
    pub signature: String,
    /// Unix seconds when it was signed.
    pub signed_at: i64,
}

/// Why a history document could not be imported. A failed import records nothing.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// Not a history document of a version this build reads.
    #[error(
        "not a restaked protection history (format {format:?}, version {version}); expected {HISTORY_FORMAT:?} version {HISTORY_VERSION}"
    )]
    Unsupported {
        /// The `format` found.
        format: String,
        /// The `version` found.
        version: u32,
    },
    /// Invalid JSON or hex.
    #[error("invalid protection history: {0}")]
    Invalid(String),
    /// The document contradicts this store: a different message for a recorded conflict key.
    /// Importing it would make one of the two histories a lie; resolve it by hand.
    #[error(
        "protection history conflicts with this store for {count} record(s), first: key {public_key}, domain {domain:?}, conflict key {conflict_key}"
    )]
    Conflict {
        /// How many records conflict.
        count: usize,
        /// The first conflicting key.
        public_key: String,
        /// Its domain.
        domain: String,
        /// Its conflict key.
        conflict_key: String,
    },
    /// The validator part failed.
    #[error(transparent)]
    Interchange(#[from] InterchangeError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] ProtectionError),
}

fn unhex(field: &str, text: &str) -> Result<Vec<u8>, HistoryError> {
    let digits = text
        .strip_prefix("0x")
        .ok_or_else(|| HistoryError::Invalid(format!("{field} {text:?} lacks 0x")))?;
    hex::decode(digits).map_err(|e| HistoryError::Invalid(format!("{field} {text:?}: {e}")))
}

impl ProtectionDb {
    /// Exports the whole history; the validator part needs the chain it belongs to.
    pub fn export_history(
        &mut self,
        genesis_validators_root: Option<&Root>,
    ) -> Result<History, HistoryError> {
        let c = self.classifier();
        let messages = self.transaction::<_, ProtectionError>(|tx| {
            tx.prepare(
                "SELECT k.scheme, k.public_key, m.domain, m.conflict_key, m.ordering, m.message_hash, m.signature, m.signed_at
                 FROM protection_messages m JOIN protection_keys k ON k.id = m.key_id
                 ORDER BY k.scheme, k.public_key, m.domain, m.conflict_key",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    let hex_of = |b: Vec<u8>| format!("0x{}", hex::encode(b));
                    Ok(MessageRecord {
                        scheme: r.get(0)?,
                        public_key: hex_of(r.get(1)?),
                        domain: r.get(2)?,
                        conflict_key: hex_of(r.get(3)?),
                        ordering: r.get::<_, Option<i64>>(4)?.and_then(|o| u64::try_from(o).ok()),
                        message_hash: hex_of(r.get(5)?),
                        signature: hex_of(r.get(6)?),
                        signed_at: r.get(7)?,
                    })
                })?
                .collect()
            })
            .map_err(c.err("export messages"))
        })?;
        let ethereum = genesis_validators_root
            .map(|root| self.export_interchange(root, ExportFormat::Complete))
            .transpose()?;
        Ok(History {
            format: HISTORY_FORMAT.to_owned(),
            version: HISTORY_VERSION,
            messages,
            ethereum,
        })
    }

    /// Imports a history. Generic records are added in one transaction (identical ones skipped;
    /// any conflicting one fails it and nothing is kept), then the validator part, for the chain
    /// given, in a second one. Adding history only ever makes the signer refuse more.
    pub fn import_history(
        &mut self,
        history: &History,
        genesis_validators_root: Option<&Root>,
    ) -> Result<(), HistoryError> {
        if history.format != HISTORY_FORMAT || history.version != HISTORY_VERSION {
            return Err(HistoryError::Unsupported {
                format: history.format.clone(),
                version: history.version,
            });
        }
        let mut decoded = Vec::with_capacity(history.messages.len());
        for m in &history.messages {
            let ordering = m
                .ordering
                .map(|o| {
                    i64::try_from(o)
                        .map_err(|_| HistoryError::Invalid(format!("ordering {o} is out of range")))
                })
                .transpose()?;
            let public_key = unhex("public_key", &m.public_key)?;
            let conflict_key = unhex("conflict_key", &m.conflict_key)?;
            let hash = unhex("message_hash", &m.message_hash)?;
            let signature = unhex("signature", &m.signature)?;
            decoded.push((m, public_key, conflict_key, ordering, hash, signature));
        }
        let c = self.classifier();
        self.transaction(|tx| {
            let mut conflicts = Vec::new();
            for (m, public_key, conflict_key, ordering, hash, signature) in &decoded {
                let key = key_id(tx, &c, &m.scheme, public_key)?;
                let inserted = tx
                    .execute(
                        "INSERT INTO protection_messages (key_id, domain, conflict_key, ordering, message_hash, signature, signed_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (key_id, domain, conflict_key) DO NOTHING",
                        params![key, m.domain, conflict_key, ordering, hash, signature, m.signed_at],
                    )
                    .map_err(c.err("import message"))?;
                if inserted == 0 {
                    let recorded: Vec<u8> = tx
                        .query_row(
                            "SELECT message_hash FROM protection_messages WHERE key_id = ?1 AND domain = ?2 AND conflict_key = ?3",
                            params![key, m.domain, conflict_key],
                            |r| r.get(0),
                        )
                        .map_err(c.err("compare message"))?;
                    if &recorded != hash {
                        conflicts.push(*m);
                    }
                }
            }
            match conflicts.first() {
                None => Ok(()),
                Some(first) => Err(HistoryError::Conflict {
                    count: conflicts.len(),
                    public_key: first.public_key.clone(),
                    domain: first.domain.clone(),
                    conflict_key: first.conflict_key.clone(),
                }),
            }
        })?;
        if let Some(interchange) = &history.ethereum {
            let root =
                genesis_validators_root.unwrap_or(&interchange.metadata.genesis_validators_root);
            self.import_interchange(interchange, root)?;
        }
        Ok(())
    }
}
