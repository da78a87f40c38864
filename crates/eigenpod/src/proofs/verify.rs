//! Offline verification, check for check as the pod contract does it: the exact proof lengths
//! and generalized indices of `BeaconChainProofs.sol` (`verifyStateRoot`,
//! `verifyValidatorFields`, `verifyBalanceContainer`, `verifyValidatorBalance`), walked as its
//! `Merkle.verifyInclusionSha256` walks them.
//!
//! A bundle that passes here can still be refused by the pod for reasons outside the proofs:
//! the block root must be the one EIP-4788 returns for the bundle's timestamp (or the
//! checkpoint's), the version the one [`ProofVersion::chosen_by_pod`] gives, the credentials
//! must point at the pod, and so on.

use restake_beacon::Root;

use super::{
    BALANCE_CONTAINER_INDEX, BALANCE_TREE_HEIGHT, BLOCK_HEADER_TREE_HEIGHT, MAX_VALIDATOR_INDEX,
    STATE_ROOT_INDEX, VALIDATOR_CONTAINER_INDEX, VALIDATOR_TREE_HEIGHT,
    error::{ProofError, ProofKind},
    merkle::{Node, root_from_branch},
    types::{
        BalanceContainerProof, BalanceProof, CheckpointProofs, CredentialProofs, MerkleProof,
        ProofVersion, StaleBalanceProof, StateRootProof, ValidatorFieldsProof,
    },
};

/// Verifies every proof of `proofs` against `block_root`, as `verifyWithdrawalCredentials`
/// would: the state root under the block root, then each validator's fields under the state
/// root. The first failure is returned, naming the proof and the validator.
pub fn verify_credential_proofs(
    proofs: &CredentialProofs,
    block_root: Root,
) -> Result<(), ProofError> {
    check_block_root(proofs.block_root, block_root)?;
    verify_state_root(&proofs.state_root_proof, block_root)?;
    for validator in &proofs.validators {
        verify_validator_fields(
            validator,
            proofs.state_root_proof.beacon_state_root,
            proofs.version,
        )?;
    }
    Ok(())
}

/// Verifies every proof of `proofs` against `block_root` (the checkpoint's), as
/// `verifyCheckpointProofs` would: the `balances` root under the block root, then each balance
/// chunk under the `balances` root, at the position of the validator's index.
pub fn verify_checkpoint_proofs(
    proofs: &CheckpointProofs,
    block_root: Root,
) -> Result<(), ProofError> {
    check_block_root(proofs.block_root, block_root)?;
    verify_balance_container(&proofs.balance_container, block_root, proofs.version)?;
    for balance in &proofs.balances {
        verify_balance(balance, proofs.balance_container.root)?;
    }
    Ok(())
}

/// Verifies `proof` against `block_root` as `verifyStaleBalance` would: the state root under the
/// block root, the validator's fields under the state root, and the validator slashed.
pub fn verify_stale_balance_proof(
    proof: &StaleBalanceProof,
    block_root: Root,
) -> Result<(), ProofError> {
    check_block_root(proof.block_root, block_root)?;
    verify_state_root(&proof.state_root_proof, block_root)?;
    verify_validator_fields(
        &proof.validator,
        proof.state_root_proof.beacon_state_root,
        proof.version,
    )?;
    if !proof.validator.is_slashed() {
        return Err(ProofError::NotSlashed {
            index: proof.validator.index,
        });
    }
    Ok(())
}

/// The bundle must be for the root it is checked against.
fn check_block_root(claimed: Root, expected: Root) -> Result<(), ProofError> {
    if claimed == expected {
        Ok(())
    } else {
        Err(ProofError::BlockRootMismatch { expected, claimed })
    }
}

/// `BeaconChainProofs.verifyStateRoot`: 3 nodes, index `STATE_ROOT_INDEX`.
fn verify_state_root(proof: &StateRootProof, block_root: Root) -> Result<(), ProofError> {
    check_inclusion(
        ProofKind::StateRoot,
        &proof.proof,
        BLOCK_HEADER_TREE_HEIGHT,
        proof.beacon_state_root.as_bytes(),
        STATE_ROOT_INDEX,
        block_root,
    )
}

/// `BeaconChainProofs.verifyValidatorFields`: the 8 fields merkleized, `41 + h` nodes, index
/// `(VALIDATOR_CONTAINER_INDEX << (VALIDATOR_TREE_HEIGHT + 1)) | validatorIndex`.
fn verify_validator_fields(
    proof: &ValidatorFieldsProof,
    state_root: Root,
    version: ProofVersion,
) -> Result<(), ProofError> {
    let index = checked_index(proof.index)?;
    check_inclusion(
        ProofKind::ValidatorFields(proof.index),
        &proof.proof,
        VALIDATOR_TREE_HEIGHT + 1 + version.state_tree_height(),
        &proof.fields_root(),
        (VALIDATOR_CONTAINER_INDEX << (VALIDATOR_TREE_HEIGHT + 1)) | index,
        state_root,
    )
}

/// `BeaconChainProofs.verifyBalanceContainer`: `3 + h` nodes, index
/// `(STATE_ROOT_INDEX << h) | BALANCE_CONTAINER_INDEX`.
fn verify_balance_container(
    proof: &BalanceContainerProof,
    block_root: Root,
    version: ProofVersion,
) -> Result<(), ProofError> {
    let height = version.state_tree_height();
    check_inclusion(
        ProofKind::BalanceContainer,
        &proof.proof,
        BLOCK_HEADER_TREE_HEIGHT + height,
        proof.root.as_bytes(),
        (STATE_ROOT_INDEX << height) | BALANCE_CONTAINER_INDEX,
        block_root,
    )
}

/// `BeaconChainProofs.verifyValidatorBalance`: 39 nodes, index `validatorIndex / 4`.
fn verify_balance(proof: &BalanceProof, container_root: Root) -> Result<(), ProofError> {
    let index = checked_index(proof.index)?;
    check_inclusion(
        ProofKind::Balance(proof.index),
        &proof.proof,
        BALANCE_TREE_HEIGHT + 1,
        proof.balance_root.as_bytes(),
        index / 4,
        container_root,
    )
}

/// The index as the contract's `uint40` holds it.
fn checked_index(index: restake_types::ValidatorIndex) -> Result<u64, ProofError> {
    if index.get() <= MAX_VALIDATOR_INDEX {
        Ok(index.get())
    } else {
        Err(ProofError::IndexTooLarge { index })
    }
}

/// The proof has exactly `depth` nodes and walks `leaf` at `index` up to `root`.
fn check_inclusion(
    kind: ProofKind,
    proof: &MerkleProof,
    depth: usize,
    leaf: &Node,
    index: u64,
    root: Root,
) -> Result<(), ProofError> {
    let expected = depth * 32;
    if proof.len() != expected {
        return Err(ProofError::WrongLength {
            proof: kind,
            expected,
            actual: proof.len(),
        });
    }
    if root_from_branch(leaf, &proof.nodes(), index) == *root.as_bytes() {
        Ok(())
    } else {
        Err(ProofError::RootMismatch {
            proof: kind,
            index,
            depth,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use restake_types::ValidatorIndex;

    use super::*;
    use crate::proofs::{
        merkle::{branch, merkleize},
        types::VALIDATOR_FIELD_COUNT,
    };

    /// A distinct synthetic node: `tag` in the first byte, `n` in the next eight.
    fn node(tag: u8, n: u64) -> Node {
        let mut node = [tag; 32];
        node[1..9].copy_from_slice(&n.to_le_bytes());
        node
    }

    /// The root reached from `leaf` at `index` through synthetic siblings, and the siblings.
    fn synthetic_path(tag: u8, leaf: &Node, index: u64, depth: usize) -> (Vec<Node>, Node) {
        let siblings: Vec<Node> = (0..depth as u64).map(|level| node(tag, level)).collect();
        let root = root_from_branch(leaf, &siblings, index);
        (siblings, root)
    }

    /// Distinct synthetic validator fields (`slashed` among them non-zero).
    fn synthetic_fields() -> [Root; VALIDATOR_FIELD_COUNT] {
        std::array::from_fn(|i| Root::new(node(0xf0, i as u64)))
    }

    /// A credential bundle for `index` that verifies against the returned block root: the
    /// header tree is real (8 leaves, state root at 3), the state side synthetic.
    fn credential_bundle(index: u64, version: ProofVersion) -> (CredentialProofs, Root) {
        credential_bundle_with(index, version, synthetic_fields())
    }

    /// [`credential_bundle`] with the given validator fields.
    fn credential_bundle_with(
        index: u64,
        version: ProofVersion,
        fields: [Root; VALIDATOR_FIELD_COUNT],
    ) -> (CredentialProofs, Root) {
        let fields_leaves: Vec<Node> = fields.iter().map(|f| *f.as_bytes()).collect();
        let validator_depth = VALIDATOR_TREE_HEIGHT + 1 + version.state_tree_height();
        let (validator_siblings, state_root) = synthetic_path(
            0xa0,
            &merkleize(&fields_leaves),
            (VALIDATOR_CONTAINER_INDEX << (VALIDATOR_TREE_HEIGHT + 1)) | index,
            validator_depth,
        );
        let mut header: Vec<Node> = (0..8).map(|i| node(0xb0, i)).collect();
        header[3] = state_root;
        let block_root = Root::new(merkleize(&header));
        let proofs = CredentialProofs {
            beacon_timestamp: 1_700_000_012,
            block_root,
            version,
            state_root_proof: StateRootProof {
                beacon_state_root: Root::new(state_root),
                proof: MerkleProof::from_nodes(&branch(&header, 3)),
            },
            validators: vec![ValidatorFieldsProof {
                index: ValidatorIndex(index),
                fields,
                proof: MerkleProof::from_nodes(&validator_siblings),
            }],
        };
        (proofs, block_root)
    }

    /// A checkpoint bundle for `index` that verifies against the returned block root.
    fn checkpoint_bundle(index: u64, version: ProofVersion) -> (CheckpointProofs, Root) {
        let balance_root = node(0xc0, index);
        let (balance_siblings, container_root) =
            synthetic_path(0xc1, &balance_root, index / 4, BALANCE_TREE_HEIGHT + 1);
        let height = version.state_tree_height();
        let (container_siblings, block_root) = synthetic_path(
            0xc2,
            &container_root,
            (STATE_ROOT_INDEX << height) | BALANCE_CONTAINER_INDEX,
            BLOCK_HEADER_TREE_HEIGHT + height,
        );
        let proofs = CheckpointProofs {
            block_root: Root::new(block_root),
            version,
            balance_container: BalanceContainerProof {
                root: Root::new(container_root),
                proof: MerkleProof::from_nodes(&container_siblings),
            },
            balances: vec![BalanceProof {
                index: ValidatorIndex(index),
                pubkey_hash: crate::bindings::ValidatorPubkeyHash::new(node(0xc3, index)),
                balance_root: Root::new(balance_root),
                proof: MerkleProof::from_nodes(&balance_siblings),
            }],
        };
        (proofs, Root::new(block_root))
    }

    fn flip(bytes: &mut [u8], bit: usize) {
        bytes[bit / 8] ^= 1 << (bit % 8);
    }

    fn flip_root(root: &mut Root, bit: usize) {
        let mut bytes = *root.as_bytes();
        flip(&mut bytes, bit);
        *root = Root::new(bytes);
    }

    fn flip_proof(proof: &mut MerkleProof, bit: usize) {
        let mut bytes = proof.as_bytes().to_vec();
        let bit = bit % (bytes.len() * 8);
        flip(&mut bytes, bit);
        *proof = MerkleProof::new(bytes);
    }

    #[test]
    fn well_formed_bundles_verify_for_both_versions() {
        for version in [ProofVersion::Deneb, ProofVersion::Pectra] {
            let (credentials, root) = credential_bundle(1_234_567, version);
            assert_eq!(verify_credential_proofs(&credentials, root), Ok(()));
            let (checkpoint, root) = checkpoint_bundle(1_234_567, version);
            assert_eq!(verify_checkpoint_proofs(&checkpoint, root), Ok(()));
        }
    }

    #[test]
    fn a_proof_of_the_other_version_has_the_wrong_length() {
        let (mut credentials, root) = credential_bundle(9, ProofVersion::Deneb);
        credentials.version = ProofVersion::Pectra;
        assert_eq!(
            verify_credential_proofs(&credentials, root),
            Err(ProofError::WrongLength {
                proof: ProofKind::ValidatorFields(ValidatorIndex(9)),
                expected: 47 * 32,
                actual: 46 * 32,
            })
        );
    }

    #[test]
    fn errors_name_the_validator_whose_proof_fails() {
        let (mut credentials, root) = credential_bundle(9, ProofVersion::Pectra);
        let mut other = credentials.validators[0].clone();
        other.index = ValidatorIndex(10);
        credentials.validators.push(other);
        let err = verify_credential_proofs(&credentials, root).unwrap_err();
        assert!(
            matches!(
                err,
                ProofError::RootMismatch {
                    proof: ProofKind::ValidatorFields(ValidatorIndex(10)),
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with("validator 10 fields proof"),
            "{err}"
        );
    }

    #[test]
    fn a_bundle_for_another_block_is_refused_before_any_walk() {
        let (credentials, root) = credential_bundle(9, ProofVersion::Pectra);
        let other = Root::new([7; 32]);
        assert_eq!(
            verify_credential_proofs(&credentials, other),
            Err(ProofError::BlockRootMismatch {
                expected: other,
                claimed: root,
            })
        );
    }

    #[test]
    fn indices_past_uint40_are_refused() {
        let (mut checkpoint, root) = checkpoint_bundle(0, ProofVersion::Pectra);
        checkpoint.balances[0].index = ValidatorIndex(1 << 40);
        assert_eq!(
            verify_checkpoint_proofs(&checkpoint, root),
            Err(ProofError::IndexTooLarge {
                index: ValidatorIndex(1 << 40)
            })
        );
    }

    /// The stale-balance bundle of the (single) validator of `credentials`.
    fn stale_of(credentials: CredentialProofs) -> StaleBalanceProof {
        StaleBalanceProof {
            beacon_timestamp: credentials.beacon_timestamp,
            block_root: credentials.block_root,
            version: credentials.version,
            state_root_proof: credentials.state_root_proof,
            validator: credentials.validators[0].clone(),
        }
    }

    #[test]
    fn stale_balance_requires_the_validator_slashed() {
        let (credentials, root) = credential_bundle(3, ProofVersion::Pectra);
        assert_eq!(
            verify_stale_balance_proof(&stale_of(credentials), root),
            Ok(())
        );

        let mut fields = synthetic_fields();
        fields[3] = Root::new([0; 32]);
        let (credentials, root) = credential_bundle_with(3, ProofVersion::Pectra, fields);
        assert_eq!(
            verify_stale_balance_proof(&stale_of(credentials), root),
            Err(ProofError::NotSlashed {
                index: ValidatorIndex(3)
            })
        );
    }

    proptest! {
        #[test]
        fn any_flipped_bit_in_a_credential_bundle_fails(
            index in 0u64..(1 << 40),
            target in 0usize..5,
            bit in 0usize..(1 << 16),
        ) {
            let (mut proofs, mut root) = credential_bundle(index, ProofVersion::Pectra);
            match target {
                0 => flip_proof(&mut proofs.validators[0].proof, bit),
                1 => flip_proof(&mut proofs.state_root_proof.proof, bit),
                2 => flip_root(&mut proofs.validators[0].fields[bit % 8], bit % 256),
                3 => {
                    let index = &mut proofs.validators[0].index;
                    *index = ValidatorIndex(index.get() ^ (1 << (bit % 40)));
                }
                _ => {
                    flip_root(&mut root, bit % 256);
                    proofs.block_root = root;
                }
            }
            prop_assert!(verify_credential_proofs(&proofs, root).is_err());
        }

        #[test]
        fn any_flipped_bit_in_a_checkpoint_bundle_fails(
            index in 0u64..(1 << 40),
            target in 0usize..5,
            bit in 0usize..(1 << 16),
        ) {
            let (mut proofs, mut root) = checkpoint_bundle(index, ProofVersion::Deneb);
            match target {
                0 => flip_proof(&mut proofs.balances[0].proof, bit),
                1 => flip_proof(&mut proofs.balance_container.proof, bit),
                2 => flip_root(&mut proofs.balances[0].balance_root, bit % 256),
                3 => {
                    // Indices sharing a chunk share a proof: flip a bit above the lowest two.
                    let index = &mut proofs.balances[0].index;
                    *index = ValidatorIndex(index.get() ^ (1 << (2 + bit % 38)));
                }
                _ => {
                    flip_root(&mut root, bit % 256);
                    proofs.block_root = root;
                }
            }
            prop_assert!(verify_checkpoint_proofs(&proofs, root).is_err());
        }

        #[test]
        fn any_flipped_bit_in_the_container_root_fails(bit in 0usize..256) {
            let (mut proofs, root) = checkpoint_bundle(77, ProofVersion::Pectra);
            flip_root(&mut proofs.balance_container.root, bit);
            prop_assert!(verify_checkpoint_proofs(&proofs, root).is_err());
        }
    }
}
