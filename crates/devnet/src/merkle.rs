//! Merkleization the devnet needs fast or partially: the state root with the chain's constant
//! fields cached, and the `kzg_commitment_inclusion_proof` of a blob sidecar from the block
//! body's field roots.

use std::sync::LazyLock;

use restake_beacon::containers::{
    block::BeaconBlockBodyElectra,
    spec::{BeaconStateElectra, Bytes32, EpochsPerHistoricalVector, SyncCommittee},
};
use sha2::{Digest, Sha256};
use ssz_types::FixedVector;
use tree_hash::TreeHash;

/// A 32-byte node of a Merkle tree.
pub(crate) type Node = [u8; 32];

/// `MAX_BLOB_COMMITMENTS_PER_BLOCK` is 2^12: the depth of the commitment list's tree.
const COMMITMENT_LIST_DEPTH: usize = 12;
/// The Electra body has 13 fields: 16 leaves, depth 4.
const BODY_DEPTH: usize = 4;
/// `blob_kzg_commitments` is the body's twelfth field.
const COMMITMENTS_FIELD: usize = 11;
/// `KZG_COMMITMENT_INCLUSION_PROOF_DEPTH`: list tree, length mix-in, body tree.
pub(crate) const INCLUSION_PROOF_DEPTH: usize = COMMITMENT_LIST_DEPTH + 1 + BODY_DEPTH;

/// `zero_hashes[i]`: the root of a depth-`i` tree of zero chunks.
static ZERO_HASHES: LazyLock<[Node; 64]> = LazyLock::new(|| {
    let mut hashes = [[0u8; 32]; 64];
    for i in 1..hashes.len() {
        hashes[i] = hash_pair(&hashes[i - 1], &hashes[i - 1]);
    }
    hashes
});

/// `sha256(left || right)`.
pub(crate) fn hash_pair(left: &Node, right: &Node) -> Node {
    Sha256::new()
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// `hash_tree_root` of `leaves` padded with zero chunks to `2^depth` leaves (`leaves` must not
/// be longer). Costs O(`leaves.len()` + `depth`).
fn merkleize(leaves: &[Node], depth: usize) -> Node {
    let mut layer = leaves.to_vec();
    for zero in ZERO_HASHES.iter().take(depth) {
        if layer.is_empty() {
            layer.push(*zero);
        }
        layer = layer
            .chunks(2)
            .map(|pair| hash_pair(&pair[0], pair.get(1).unwrap_or(zero)))
            .collect();
    }
    layer.first().copied().unwrap_or(ZERO_HASHES[0])
}

/// The spec's `mix_in_length`.
fn mix_in_length(root: &Node, length: usize) -> Node {
    let mut chunk = [0u8; 32];
    chunk[..8].copy_from_slice(&(length as u64).to_le_bytes());
    hash_pair(root, &chunk)
}

/// `uint64` values packed four to a chunk.
fn pack_u64(values: &[u64]) -> Vec<Node> {
    values
        .chunks(4)
        .map(|group| {
            let mut chunk = [0u8; 32];
            for (slot, value) in chunk.chunks_exact_mut(8).zip(group) {
                slot.copy_from_slice(&value.to_le_bytes());
            }
            chunk
        })
        .collect()
}

/// The roots of the state fields that never change on the devnet (the randao mixes stay zero,
/// the sync committee is fixed), computed once: they are most of the cost of a state root.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConstantRoots {
    randao_mixes: Node,
    sync_committee: Node,
}

impl ConstantRoots {
    /// The roots of the devnet's randao mixes (all zero) and of its sync committee.
    pub(crate) fn new(sync_committee: &SyncCommittee) -> Self {
        let randao_mixes: FixedVector<Bytes32, EpochsPerHistoricalVector> =
            FixedVector::from_elem([0; 32]);
        Self {
            randao_mixes: randao_mixes.tree_hash_root().0,
            sync_committee: sync_committee.tree_hash_root().0,
        }
    }
}

/// `VALIDATOR_REGISTRY_LIMIT` is 2^40.
const REGISTRY_DEPTH: usize = 40;

/// `hash_tree_root(state)` of a devnet state, whose randao mixes and sync committees are the
/// ones `constants` was computed from. The 8192-entry root vectors, the registry and the
/// balances are merkleized here rather than by `tree_hash`, which is several times slower in
/// unoptimized builds.
pub(crate) fn state_root(state: &BeaconStateElectra, constants: &ConstantRoots) -> Node {
    let roots_vector = |roots: &[Node]| merkleize(roots, 13);
    let validators: Vec<Node> = state
        .validators
        .iter()
        .map(|v| v.tree_hash_root().0)
        .collect();
    let fields: [Node; 37] = [
        state.genesis_time.tree_hash_root().0,
        state.genesis_validators_root.tree_hash_root().0,
        state.slot.tree_hash_root().0,
        state.fork.tree_hash_root().0,
        state.latest_block_header.tree_hash_root().0,
        roots_vector(&state.block_roots),
        roots_vector(&state.state_roots),
        state.historical_roots.tree_hash_root().0,
        state.eth1_data.tree_hash_root().0,
        state.eth1_data_votes.tree_hash_root().0,
        state.eth1_deposit_index.tree_hash_root().0,
        mix_in_length(
            &merkleize(&validators, REGISTRY_DEPTH),
            state.validators.len(),
        ),
        mix_in_length(
            &merkleize(&pack_u64(&state.balances), REGISTRY_DEPTH - 2),
            state.balances.len(),
        ),
        constants.randao_mixes,
        // 8192 `uint64`: 2048 chunks.
        merkleize(&pack_u64(&state.slashings), 11),
        state.previous_epoch_participation.tree_hash_root().0,
        state.current_epoch_participation.tree_hash_root().0,
        state.justification_bits.tree_hash_root().0,
        state.previous_justified_checkpoint.tree_hash_root().0,
        state.current_justified_checkpoint.tree_hash_root().0,
        state.finalized_checkpoint.tree_hash_root().0,
        state.inactivity_scores.tree_hash_root().0,
        constants.sync_committee,
        constants.sync_committee,
        state.latest_execution_payload_header.tree_hash_root().0,
        state.next_withdrawal_index.tree_hash_root().0,
        state.next_withdrawal_validator_index.tree_hash_root().0,
        state.historical_summaries.tree_hash_root().0,
        state.deposit_requests_start_index.tree_hash_root().0,
        state.deposit_balance_to_consume.tree_hash_root().0,
        state.exit_balance_to_consume.tree_hash_root().0,
        state.earliest_exit_epoch.tree_hash_root().0,
        state.consolidation_balance_to_consume.tree_hash_root().0,
        state.earliest_consolidation_epoch.tree_hash_root().0,
        state.pending_deposits.tree_hash_root().0,
        state.pending_partial_withdrawals.tree_hash_root().0,
        state.pending_consolidations.tree_hash_root().0,
    ];
    merkleize(&fields, 6)
}

/// The Merkle branch (siblings from the leaf up) of `leaves[index]` in a tree of depth
/// `depth`, the leaves padded with zero chunks to `2^depth`. Costs O(`leaves.len()`).
fn branch(leaves: &[Node], depth: usize, index: usize) -> Vec<Node> {
    let mut layer = leaves.to_vec();
    let mut position = index;
    let mut siblings = Vec::with_capacity(depth);
    for level in 0..depth {
        let zero = ZERO_HASHES[level];
        siblings.push(layer.get(position ^ 1).copied().unwrap_or(zero));
        layer = layer
            .chunks(2)
            .map(|pair| hash_pair(&pair[0], pair.get(1).unwrap_or(&zero)))
            .collect();
        position /= 2;
    }
    siblings
}

/// The roots of the Electra body's fields, in field order.
fn body_field_roots(body: &BeaconBlockBodyElectra) -> [Node; 13] {
    [
        body.randao_reveal.tree_hash_root().0,
        body.eth1_data.tree_hash_root().0,
        body.graffiti.tree_hash_root().0,
        body.proposer_slashings.tree_hash_root().0,
        body.attester_slashings.tree_hash_root().0,
        body.attestations.tree_hash_root().0,
        body.deposits.tree_hash_root().0,
        body.voluntary_exits.tree_hash_root().0,
        body.sync_aggregate.tree_hash_root().0,
        body.execution_payload.tree_hash_root().0,
        body.bls_to_execution_changes.tree_hash_root().0,
        body.blob_kzg_commitments.tree_hash_root().0,
        body.execution_requests.tree_hash_root().0,
    ]
}

/// The `kzg_commitment_inclusion_proof` of commitment `index` of `body`: the branch from
/// `hash_tree_root(commitment)` to the body root, `None` if there is no such commitment.
pub(crate) fn commitment_inclusion_proof(
    body: &BeaconBlockBodyElectra,
    index: usize,
) -> Option<Vec<Node>> {
    let commitments = &body.blob_kzg_commitments;
    if index >= commitments.len() {
        return None;
    }
    let leaves: Vec<Node> = commitments.iter().map(|c| c.tree_hash_root().0).collect();
    let mut proof = branch(&leaves, COMMITMENT_LIST_DEPTH, index);
    let mut length = [0u8; 32];
    length[..8].copy_from_slice(&(commitments.len() as u64).to_le_bytes());
    proof.push(length);
    proof.extend(branch(
        &body_field_roots(body),
        BODY_DEPTH,
        COMMITMENTS_FIELD,
    ));
    Some(proof)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;
    use ssz_types::VariableList;

    use super::*;
    use crate::chain::empty_body;

    /// The generalized-index position of commitment `index` in the body, as the spec's
    /// `is_valid_merkle_branch` takes it: commitments field, list data subtree, then the item.
    fn commitment_subtree_index(index: usize) -> u64 {
        let field = COMMITMENTS_FIELD as u64;
        // Going up: item within the list tree, the data side (0) of the length mix-in, the field.
        (((field << 1) << COMMITMENT_LIST_DEPTH) | index as u64)
            & ((1u64 << INCLUSION_PROOF_DEPTH) - 1)
    }

    /// The spec's `is_valid_merkle_branch`.
    fn is_valid_merkle_branch(leaf: Node, branch: &[Node], index: u64, root: Node) -> bool {
        let mut value = leaf;
        for (level, sibling) in branch.iter().enumerate() {
            value = if (index >> level) & 1 == 1 {
                hash_pair(sibling, &value)
            } else {
                hash_pair(&value, sibling)
            };
        }
        value == root
    }

    fn body_with(commitments: Vec<[u8; 48]>) -> BeaconBlockBodyElectra {
        let mut body = empty_body();
        body.blob_kzg_commitments = VariableList::new(commitments).unwrap();
        body
    }

    #[test]
    fn body_field_roots_merkleize_to_the_body_root() {
        let body = body_with(vec![[7; 48]]);
        assert_eq!(
            merkleize(&body_field_roots(&body), BODY_DEPTH),
            body.tree_hash_root().0
        );
    }

    #[test]
    fn a_commitment_past_the_end_has_no_proof() {
        assert!(commitment_inclusion_proof(&body_with(vec![[1; 48]]), 1).is_none());
    }

    proptest! {
        #[test]
        fn inclusion_proofs_verify_against_the_body_root(
            commitments in proptest::collection::vec(any::<[u8; 32]>(), 1..7),
            pick in any::<prop::sample::Index>(),
        ) {
            let commitments: Vec<[u8; 48]> = commitments
                .iter()
                .map(|c| {
                    let mut full = [0u8; 48];
                    full[..32].copy_from_slice(c);
                    full[40..].copy_from_slice(&c[..8]);
                    full
                })
                .collect();
            let index = pick.index(commitments.len());
            let body = body_with(commitments.clone());
            let proof = commitment_inclusion_proof(&body, index).unwrap();
            prop_assert_eq!(proof.len(), INCLUSION_PROOF_DEPTH);
            let leaf = commitments[index].tree_hash_root().0;
            let root = body.tree_hash_root().0;
            prop_assert!(is_valid_merkle_branch(leaf, &proof, commitment_subtree_index(index), root));
            // Any other index fails.
            let other = commitment_subtree_index(index) ^ 1;
            prop_assert!(!is_valid_merkle_branch(leaf, &proof, other, root));
        }
    }
}
