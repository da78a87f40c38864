//! Deterministic blobs with real KZG commitments and proofs (c-kzg with the Ethereum trusted
//! setup it embeds).
//!
//! A blob's bytes are a function of its index and of its slot modulo [`BLOB_PERIOD`], so the
//! same few dozen blobs come round again: their commitments and proofs are computed once per
//! process and cached, and the 128 KiB of bytes are regenerated when a sidecar is served.

use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex, PoisonError},
};

use c_kzg::{BYTES_PER_BLOB, BYTES_PER_FIELD_ELEMENT, Blob, KzgSettings};
use sha2::{Digest, Sha256};

use crate::error::DevnetError;

/// The most blobs a devnet block carries.
pub(crate) const MAX_BLOBS_PER_BLOCK: u64 = 2;

/// How many blobs the block at `slot` carries: 0, 1 or 2 in turn; none at genesis.
pub(crate) fn blob_count(slot: u64) -> usize {
    if slot == 0 {
        0
    } else {
        // At most MAX_BLOBS_PER_BLOCK (2): fits any usize.
        (slot % (MAX_BLOBS_PER_BLOCK + 1)) as usize
    }
}

/// Blob contents repeat with this period in slots.
const BLOB_PERIOD: u64 = 64;

/// The bytes of blob `index` of the block at `slot`: 4096 field elements, each 31 bytes of
/// SHA-256 output behind a zero byte (so it is below the BLS12-381 modulus).
pub(crate) fn blob_bytes(slot: u64, index: usize) -> Vec<u8> {
    let slot = slot % BLOB_PERIOD;
    let mut bytes = vec![0u8; BYTES_PER_BLOB];
    for (element, chunk) in bytes.chunks_exact_mut(BYTES_PER_FIELD_ELEMENT).enumerate() {
        let digest = Sha256::new()
            .chain_update(b"restake-devnet blob")
            .chain_update(slot.to_le_bytes())
            .chain_update((index as u64).to_le_bytes())
            .chain_update((element as u64).to_le_bytes())
            .finalize();
        chunk[1..].copy_from_slice(&digest[..BYTES_PER_FIELD_ELEMENT - 1]);
    }
    bytes
}

/// A blob's KZG commitment and proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlobCommitment {
    /// The commitment (`blob_to_kzg_commitment`).
    pub(crate) commitment: [u8; 48],
    /// The proof (`compute_blob_kzg_proof`).
    pub(crate) proof: [u8; 48],
}

fn settings() -> &'static KzgSettings {
    // No precomputation: proofs for a couple of blobs per slot need no speed-up.
    c_kzg::ethereum_kzg_settings(0)
}

/// Commitments and proofs computed so far, by slot modulo [`BLOB_PERIOD`] and index.
static COMMITMENTS: LazyLock<Mutex<HashMap<(u64, usize), BlobCommitment>>> =
    LazyLock::new(Mutex::default);

/// The commitment and proof of blob `index` at `slot` (about 0.1 s of CPU the first time each
/// blob is seen in the process, cached after).
pub(crate) fn commit(slot: u64, index: usize) -> Result<BlobCommitment, DevnetError> {
    // Plain data inserted in one statement: a poisoned lock still holds good entries.
    let cache = || COMMITMENTS.lock().unwrap_or_else(PoisonError::into_inner);
    let key = (slot % BLOB_PERIOD, index);
    if let Some(found) = cache().get(&key) {
        return Ok(*found);
    }
    let computed = compute(slot, index)?;
    cache().insert(key, computed);
    Ok(computed)
}

fn compute(slot: u64, index: usize) -> Result<BlobCommitment, DevnetError> {
    let error = |e: c_kzg::Error| DevnetError::Kzg {
        slot,
        index,
        reason: format!("{e:?}"),
    };
    let blob = Box::new(Blob::from_bytes(&blob_bytes(slot, index)).map_err(error)?);
    let commitment = settings().blob_to_kzg_commitment(&blob).map_err(error)?;
    let commitment = commitment.to_bytes();
    let proof = settings()
        .compute_blob_kzg_proof(&blob, &commitment)
        .map_err(error)?;
    Ok(BlobCommitment {
        commitment: commitment.into_inner(),
        proof: proof.to_bytes().into_inner(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use c_kzg::Bytes48;

    use super::*;

    #[test]
    fn blob_counts_cycle_through_zero_to_two() {
        assert_eq!(blob_count(0), 0);
        let counts: Vec<usize> = (1..=6).map(blob_count).collect();
        assert_eq!(counts, vec![1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn commitments_are_deterministic_and_verify() {
        let first = commit(5, 1).unwrap();
        assert_eq!(commit(5, 1).unwrap(), first);
        assert_eq!(compute(5 + BLOB_PERIOD, 1).unwrap(), first);
        assert_ne!(commit(5, 0).unwrap(), first);
        let blob = Box::new(Blob::from_bytes(&blob_bytes(5, 1)).unwrap());
        let ok = settings()
            .verify_blob_kzg_proof(
                &blob,
                &Bytes48::new(first.commitment),
                &Bytes48::new(first.proof),
            )
            .unwrap();
        assert!(ok);
    }
}
