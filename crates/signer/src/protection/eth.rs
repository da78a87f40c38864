//! Ethereum's slashing rules for validator keys (blocks and attestations), as in EIP-3076.
//!
//! Strategy: full history is kept (imports add to it, nothing is pruned) and a new message must
//! come after everything signed: a block's slot above every signed slot, an attestation's source
//! at or above every signed source and its target above every signed target, no double vote and
//! no surround either way. Re-signing a recorded identical message is allowed (it cannot be
//! slashed). This is EIP-3076's minimal strategy plus idempotent re-signing.

use rusqlite::{OptionalExtension, Transaction, params};

use super::{
    Classifier, ProtectionError, key_id,
    outcome::{Outcome, Refusal, from_sql, to_sql},
};

/// Scheme name under which validator keys are recorded.
pub const VALIDATOR_SCHEME: &str = "bls12-381";

/// Checks a block proposal and records it if safe.
pub(crate) fn check_and_record_block(
    tx: &Transaction<'_>,
    c: &Classifier,
    pubkey: &[u8; 48],
    slot: u64,
    signing_root: &[u8; 32],
) -> Result<Outcome, ProtectionError> {
    let key = key_id(tx, c, VALIDATOR_SCHEME, pubkey)?;
    let slot_sql = match to_sql("slot", slot) {
        Ok(v) => v,
        Err(refusal) => return Ok(Outcome::Refused(refusal)),
    };
    let roots: Vec<Option<Vec<u8>>> = tx
        .prepare_cached(
            "SELECT signing_root FROM protection_blocks WHERE key_id = ?1 AND slot = ?2",
        )
        .and_then(|mut stmt| {
            stmt.query_map(params![key, slot_sql], |r| r.get(0))?
                .collect()
        })
        .map_err(c.err("read blocks at slot"))?;
    if !roots.is_empty() {
        return Ok(
            if roots
                .iter()
                .all(|r| r.as_deref() == Some(signing_root.as_slice()))
            {
                Outcome::SameData {
                    signature: Vec::new(),
                }
            } else {
                Outcome::Refused(Refusal::DoubleProposal { slot })
            },
        );
    }
    let latest: Option<i64> = tx
        .query_row(
            "SELECT MAX(slot) FROM protection_blocks WHERE key_id = ?1",
            [key],
            |r| r.get(0),
        )
        .map_err(c.err("read latest block"))?;
    if let Some(latest) = latest
        && latest >= slot_sql
    {
        return Ok(Outcome::Refused(Refusal::ProposalNotAfterLatest {
            slot,
            latest: from_sql(latest),
        }));
    }
    insert_block(tx, c, key, slot_sql, Some(signing_root))?;
    Ok(Outcome::Recorded)
}

/// Checks an attestation and records it if safe.
pub(crate) fn check_and_record_attestation(
    tx: &Transaction<'_>,
    c: &Classifier,
    pubkey: &[u8; 48],
    source_epoch: u64,
    target_epoch: u64,
    signing_root: &[u8; 32],
) -> Result<Outcome, ProtectionError> {
    if source_epoch > target_epoch {
        return Ok(Outcome::Refused(Refusal::SourceAfterTarget {
            source_epoch,
            target_epoch,
        }));
    }
    let key = key_id(tx, c, VALIDATOR_SCHEME, pubkey)?;
    let (source, target) = match (
        to_sql("source epoch", source_epoch),
        to_sql("target epoch", target_epoch),
    ) {
        (Ok(s), Ok(t)) => (s, t),
        (Err(refusal), _) | (_, Err(refusal)) => return Ok(Outcome::Refused(refusal)),
    };
    let same_target: Vec<(i64, Option<Vec<u8>>)> = tx
        .prepare_cached("SELECT source_epoch, signing_root FROM protection_attestations WHERE key_id = ?1 AND target_epoch = ?2")
        .and_then(|mut stmt| stmt.query_map(params![key, target], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .map_err(c.err("read attestations for target"))?;
    if !same_target.is_empty() {
        let identical = same_target
            .iter()
            .all(|(s, r)| *s == source && r.as_deref() == Some(signing_root.as_slice()));
        return Ok(if identical {
            Outcome::SameData {
                signature: Vec::new(),
            }
        } else {
            Outcome::Refused(Refusal::DoubleVote { target_epoch })
        });
    }
    let surrounding: Option<(i64, i64)> = tx
        .query_row(
            "SELECT source_epoch, target_epoch FROM protection_attestations
             WHERE key_id = ?1 AND source_epoch < ?2 AND target_epoch > ?3 LIMIT 1",
            params![key, source, target],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(c.err("check surrounding attestations"))?;
    if let Some((prior_source, prior_target)) = surrounding {
        return Ok(Outcome::Refused(Refusal::SurroundedByExisting {
            source_epoch,
            target_epoch,
            prior_source: from_sql(prior_source),
            prior_target: from_sql(prior_target),
        }));
    }
    let surrounded: Option<(i64, i64)> = tx
        .query_row(
            "SELECT source_epoch, target_epoch FROM protection_attestations
             WHERE key_id = ?1 AND source_epoch > ?2 AND target_epoch < ?3 LIMIT 1",
            params![key, source, target],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(c.err("check surrounded attestations"))?;
    if let Some((prior_source, prior_target)) = surrounded {
        return Ok(Outcome::Refused(Refusal::SurroundsExisting {
            source_epoch,
            target_epoch,
            prior_source: from_sql(prior_source),
            prior_target: from_sql(prior_target),
        }));
    }
    let (max_source, max_target): (Option<i64>, Option<i64>) = tx
        .query_row(
            "SELECT MAX(source_epoch), MAX(target_epoch) FROM protection_attestations WHERE key_id = ?1",
            [key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(c.err("read latest attestation"))?;
    if let (Some(max_source), Some(max_target)) = (max_source, max_target)
        && (source < max_source || target <= max_target)
    {
        return Ok(Outcome::Refused(Refusal::AttestationNotAfterLatest {
            source_epoch,
            target_epoch,
            max_source: from_sql(max_source),
            max_target: from_sql(max_target),
        }));
    }
    insert_attestation(tx, c, key, source, target, Some(signing_root))?;
    Ok(Outcome::Recorded)
}

/// Adds a block record unless an identical one exists (imports repeat records).
pub(crate) fn insert_block(
    tx: &Transaction<'_>,
    c: &Classifier,
    key: i64,
    slot: i64,
    signing_root: Option<&[u8; 32]>,
) -> Result<(), ProtectionError> {
    let root = signing_root.map(|r| r.as_slice());
    tx.execute(
        "INSERT INTO protection_blocks (key_id, slot, signing_root)
         SELECT ?1, ?2, ?3 WHERE NOT EXISTS (
             SELECT 1 FROM protection_blocks WHERE key_id = ?1 AND slot = ?2 AND signing_root IS ?3)",
        params![key, slot, root],
    )
    .map_err(c.err("record block"))?;
    Ok(())
}

/// Adds an attestation record unless an identical one exists.
pub(crate) fn insert_attestation(
    tx: &Transaction<'_>,
    c: &Classifier,
    key: i64,
    source: i64,
    target: i64,
    signing_root: Option<&[u8; 32]>,
) -> Result<(), ProtectionError> {
    let root = signing_root.map(|r| r.as_slice());
    tx.execute(
        "INSERT INTO protection_attestations (key_id, source_epoch, target_epoch, signing_root)
         SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (
             SELECT 1 FROM protection_attestations
             WHERE key_id = ?1 AND source_epoch = ?2 AND target_epoch = ?3 AND signing_root IS ?4)",
        params![key, source, target, root],
    )
    .map_err(c.err("record attestation"))?;
    Ok(())
}
