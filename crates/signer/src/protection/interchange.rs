//! EIP-3076 slashing-protection interchange (format version 5): import and export of the
//! validator history, so a validator can move between clients without being slashed.

use std::collections::BTreeMap;

use restake_types::BlsPublicKey;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

use super::{
    ProtectionDb, ProtectionError,
    eth::{VALIDATOR_SCHEME, insert_attestation, insert_block},
    key_id,
    outcome::{from_sql, to_sql},
};

/// The interchange format version this module reads and writes.
pub const FORMAT_VERSION: &str = "5";
const GENESIS_KEY: &str = "genesis_validators_root";

/// A 32-byte root written as 0x-hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Root(pub [u8; 32]);

impl Serialize for Root {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("0x{}", hex::encode(self.0)))
    }
}

impl<'de> Deserialize<'de> for Root {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let digits = text
            .strip_prefix("0x")
            .ok_or_else(|| D::Error::custom(format!("root {text:?} lacks 0x")))?;
        let bytes =
            hex::decode(digits).map_err(|e| D::Error::custom(format!("root {text:?}: {e}")))?;
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| D::Error::custom(format!("root {text:?} is not 32 bytes")))?;
        Ok(Self(array))
    }
}

/// Decimal-string integers, as the interchange writes slots and epochs.
mod quoted {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(super) fn serialize<S: Serializer>(value: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse()
            .map_err(|e| D::Error::custom(format!("{text:?} is not a decimal u64: {e}")))
    }
}

/// An EIP-3076 interchange document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interchange {
    /// Format version and chain.
    pub metadata: Metadata,
    /// One entry per validator.
    pub data: Vec<ValidatorHistory>,
}

/// `metadata` of an interchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Must be `"5"`.
    pub interchange_format_version: String,
    /// The chain the history belongs to.
    pub genesis_validators_root: Root,
}

/// The history of one validator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorHistory {
    /// The validator's public key.
    pub pubkey: BlsPublicKey,
    /// Blocks it signed.
    pub signed_blocks: Vec<SignedBlock>,
    /// Attestations it signed.
    pub signed_attestations: Vec<SignedAttestation>,
}

/// A signed block record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedBlock {
    /// The slot.
    #[serde(with = "quoted")]
    pub slot: u64,
    /// The signing root, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_root: Option<Root>,
}

/// A signed attestation record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedAttestation {
    /// Source epoch.
    #[serde(with = "quoted")]
    pub source_epoch: u64,
    /// Target epoch.
    #[serde(with = "quoted")]
    pub target_epoch: u64,
    /// The signing root, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_root: Option<Root>,
}

/// Which history an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Every record.
    Complete,
    /// Per validator, the latest block and one attestation at the highest source and target:
    /// enough for the importer to refuse anything slashable.
    Minimal,
}

/// Why an import or export failed. A failed import records nothing.
#[derive(Debug, thiserror::Error)]
pub enum InterchangeError {
    /// The document is not valid interchange JSON.
    #[error("not a valid EIP-3076 interchange: {0}")]
    Json(String),
    /// A version other than 5.
    #[error("interchange format version {0:?} is not supported (only \"5\")")]
    UnsupportedVersion(String),
    /// The history belongs to another chain.
    #[error(
        "genesis_validators_root mismatch: this node's chain is 0x{}, the {what} is for 0x{}",
        hex::encode(expected.0),
        hex::encode(found.0)
    )]
    GenesisMismatch {
        /// What disagreed: "interchange" or "store".
        what: &'static str,
        /// This node's chain.
        expected: Root,
        /// The other side's.
        found: Root,
    },
    /// A slot or epoch beyond the store's range.
    #[error("{0}")]
    OutOfRange(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] ProtectionError),
}

/// What an import added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Validators in the document.
    pub validators: usize,
    /// Block records in the document.
    pub blocks: usize,
    /// Attestation records in the document.
    pub attestations: usize,
}

impl Interchange {
    /// Parses an interchange document.
    pub fn from_json(text: &str) -> Result<Self, InterchangeError> {
        serde_json::from_str(text).map_err(|e| InterchangeError::Json(e.to_string()))
    }
}

impl ProtectionDb {
    /// The chain the store's validator history belongs to, once one was recorded.
    pub fn recorded_chain(&mut self) -> Result<Option<Root>, ProtectionError> {
        let c = self.classifier();
        let stored: Option<Vec<u8>> = self.transaction::<_, ProtectionError>(|tx| {
            tx.query_row(
                "SELECT value FROM protection_meta WHERE key = ?1",
                [GENESIS_KEY],
                |r| r.get(0),
            )
            .optional()
            .map_err(c.err("read chain"))
        })?;
        Ok(stored
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .map(Root))
    }

    /// Checks `genesis_validators_root` against the chain recorded in the store, recording it on
    /// first use: one store holds the history of one chain.
    pub fn bind_chain(&mut self, genesis_validators_root: &Root) -> Result<(), InterchangeError> {
        let c = self.classifier();
        self.transaction::<_, ProtectionError>(|tx| {
            let stored: Option<Vec<u8>> = tx
                .query_row(
                    "SELECT value FROM protection_meta WHERE key = ?1",
                    [GENESIS_KEY],
                    |r| r.get(0),
                )
                .optional()
                .map_err(c.err("read chain"))?;
            match stored {
                Some(bytes) => Ok(Some(bytes)),
                None => {
                    tx.execute(
                        "INSERT INTO protection_meta (key, value) VALUES (?1, ?2)",
                        params![GENESIS_KEY, genesis_validators_root.0.as_slice()],
                    )
                    .map_err(c.err("record chain"))?;
                    Ok(None)
                }
            }
        })?
        .map_or(Ok(()), |bytes| {
            let mut found = [0u8; 32];
            if bytes.len() == 32 {
                found.copy_from_slice(&bytes);
            }
            if found == genesis_validators_root.0 {
                Ok(())
            } else {
                Err(InterchangeError::GenesisMismatch {
                    what: "store",
                    expected: *genesis_validators_root,
                    found: Root(found),
                })
            }
        })
    }

    /// Imports every record of `interchange` (in one transaction) for the chain
    /// `genesis_validators_root`. Records are added to the history, never replace it.
    pub fn import_interchange(
        &mut self,
        interchange: &Interchange,
        genesis_validators_root: &Root,
    ) -> Result<ImportSummary, InterchangeError> {
        if interchange.metadata.interchange_format_version != FORMAT_VERSION {
            return Err(InterchangeError::UnsupportedVersion(
                interchange.metadata.interchange_format_version.clone(),
            ));
        }
        if interchange.metadata.genesis_validators_root != *genesis_validators_root {
            return Err(InterchangeError::GenesisMismatch {
                what: "interchange",
                expected: *genesis_validators_root,
                found: interchange.metadata.genesis_validators_root,
            });
        }
        // Every value is converted before the transaction starts, so a bad one records nothing.
        let mut records = Vec::with_capacity(interchange.data.len());
        let mut summary = ImportSummary {
            validators: interchange.data.len(),
            ..ImportSummary::default()
        };
        for validator in &interchange.data {
            let range = |what: &str, value: u64| {
                to_sql("value", value).map_err(|_| {
                    InterchangeError::OutOfRange(format!(
                        "{what} {value} of {} is out of range",
                        validator.pubkey
                    ))
                })
            };
            let mut blocks = Vec::with_capacity(validator.signed_blocks.len());
            for block in &validator.signed_blocks {
                blocks.push((range("slot", block.slot)?, block.signing_root));
            }
            let mut attestations = Vec::with_capacity(validator.signed_attestations.len());
            for a in &validator.signed_attestations {
                attestations.push((
                    range("source epoch", a.source_epoch)?,
                    range("target epoch", a.target_epoch)?,
                    a.signing_root,
                ));
            }
            summary.blocks += blocks.len();
            summary.attestations += attestations.len();
            records.push((validator.pubkey, blocks, attestations));
        }
        self.bind_chain(genesis_validators_root)?;
        let c = self.classifier();
        self.transaction::<_, ProtectionError>(|tx| {
            for (pubkey, blocks, attestations) in &records {
                let key = key_id(tx, &c, VALIDATOR_SCHEME, pubkey.as_bytes())?;
                for (slot, root) in blocks {
                    insert_block(tx, &c, key, *slot, root.as_ref().map(|r| &r.0))?;
                }
                for (source, target, root) in attestations {
                    insert_attestation(tx, &c, key, *source, *target, root.as_ref().map(|r| &r.0))?;
                }
            }
            Ok(())
        })?;
        Ok(summary)
    }

    /// Exports the validator history in `format`, for the chain `genesis_validators_root`.
    pub fn export_interchange(
        &mut self,
        genesis_validators_root: &Root,
        format: ExportFormat,
    ) -> Result<Interchange, InterchangeError> {
        self.bind_chain(genesis_validators_root)?;
        let c = self.classifier();
        let data = self.transaction::<_, ProtectionError>(|tx| {
            let mut histories: BTreeMap<Vec<u8>, (Vec<SignedBlock>, Vec<SignedAttestation>)> = BTreeMap::new();
            let keys: Vec<(i64, Vec<u8>)> = tx
                .prepare("SELECT id, public_key FROM protection_keys WHERE scheme = ?1 ORDER BY public_key")
                .and_then(|mut s| s.query_map([VALIDATOR_SCHEME], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
                .map_err(c.err("list validators"))?;
            for (key, pubkey) in keys {
                let root = |bytes: Option<Vec<u8>>| bytes.and_then(|b| <[u8; 32]>::try_from(b).ok()).map(Root);
                let blocks: Vec<SignedBlock> = tx
                    .prepare("SELECT slot, signing_root FROM protection_blocks WHERE key_id = ?1 ORDER BY slot")
                    .and_then(|mut s| {
                        s.query_map([key], |r| Ok(SignedBlock { slot: from_sql(r.get(0)?), signing_root: root(r.get(1)?) }))?
                            .collect()
                    })
                    .map_err(c.err("export blocks"))?;
                let attestations: Vec<SignedAttestation> = tx
                    .prepare(
                        "SELECT source_epoch, target_epoch, signing_root FROM protection_attestations
                         WHERE key_id = ?1 ORDER BY target_epoch, source_epoch",
                    )
                    .and_then(|mut s| {
                        s.query_map([key], |r| {
                            Ok(SignedAttestation {
                                source_epoch: from_sql(r.get(0)?),
                                target_epoch: from_sql(r.get(1)?),
                                signing_root: root(r.get(2)?),
                            })
                        })?
                        .collect()
                    })
                    .map_err(c.err("export attestations"))?;
                // Keys used only for AVS duties share the scheme but have no validator history.
                if !blocks.is_empty() || !attestations.is_empty() {
                    histories.insert(pubkey, (blocks, attestations));
                }
            }
            Ok(histories)
        })?;
        let data = data
            .into_iter()
            .filter_map(|(pubkey, (blocks, attestations))| {
                let pubkey = BlsPublicKey::new(<[u8; 48]>::try_from(pubkey).ok()?);
                let (signed_blocks, signed_attestations) = match format {
                    ExportFormat::Complete => (blocks, attestations),
                    ExportFormat::Minimal => minimal(blocks, attestations),
                };
                Some(ValidatorHistory {
                    pubkey,
                    signed_blocks,
                    signed_attestations,
                })
            })
            .collect();
        Ok(Interchange {
            metadata: Metadata {
                interchange_format_version: FORMAT_VERSION.to_owned(),
                genesis_validators_root: *genesis_validators_root,
            },
            data,
        })
    }
}

fn minimal(
    blocks: Vec<SignedBlock>,
    attestations: Vec<SignedAttestation>,
) -> (Vec<SignedBlock>, Vec<SignedAttestation>) {
    let block = blocks
        .into_iter()
        .max_by_key(|b| b.slot)
        .map(|b| SignedBlock {
            slot: b.slot,
            signing_root: None,
        });
    let max_source = attestations.iter().map(|a| a.source_epoch).max();
    let max_target = attestations.iter().map(|a| a.target_epoch).max();
    let attestation = max_source
        .zip(max_target)
        .map(|(source_epoch, target_epoch)| SignedAttestation {
            source_epoch,
            target_epoch,
            signing_root: None,
        });
    (
        block.into_iter().collect(),
        attestation.into_iter().collect(),
    )
}
