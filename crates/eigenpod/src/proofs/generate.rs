//! Generating proofs from a [`StateTree`] and the header of the block whose post-state it is.
//!
//! The bytes are those the contract checks (BeaconChainProofs.sol): the state-root proof is the
//! header tree's branch of leaf 3; a validator's proof is the tree's 41-node registry branch
//! (40 siblings, then the length chunk) followed by the state's field branch of `validators`
//! (11); the balance container proof is the field branch of `balances` (12) followed by the
//! header branch; a balance proof is the tree's 39-node branch of the chunk. Each bundle is
//! verified before it is returned, so a tree or header of an unexpected shape is an error here
//! rather than a revert on chain.

use restake_beacon::{Root, containers::spec::BeaconBlockHeader};
use restake_types::ValidatorIndex;

use super::{
    BALANCE_CONTAINER_INDEX, BALANCE_TREE_HEIGHT, MAX_VALIDATOR_INDEX, STATE_ROOT_INDEX,
    VALIDATOR_CONTAINER_INDEX, VALIDATOR_TREE_HEIGHT,
    error::ProofError,
    merkle::{Node, branch},
    types::{
        BalanceContainerProof, BalanceProof, CheckpointProofs, CredentialProofs, MerkleProof,
        ProofVersion, StaleBalanceProof, StateRootProof, ValidatorFieldsProof, block_root,
        header_leaves,
    },
    verify::{verify_checkpoint_proofs, verify_credential_proofs, verify_stale_balance_proof},
};
use crate::{bindings::ValidatorPubkeyHash, tree::StateTree};

/// Proofs of the withdrawal credentials of `indices` (in that order) at the block of `header`,
/// whose post-state `tree` hashes; `beacon_timestamp` is the timestamp of the block's child,
/// for which EIP-4788 returns the block's root.
pub fn credential_proofs(
    tree: &StateTree,
    header: &BeaconBlockHeader,
    beacon_timestamp: u64,
    indices: &[ValidatorIndex],
) -> Result<CredentialProofs, ProofError> {
    let at = ProvenBlock::new(tree, header)?;
    let validators = indices
        .iter()
        .map(|&index| at.validator(index))
        .collect::<Result<Vec<_>, _>>()?;
    let proofs = CredentialProofs {
        beacon_timestamp,
        block_root: at.block_root,
        version: at.version,
        state_root_proof: at.state_root_proof(),
        validators,
    };
    verify_credential_proofs(&proofs, at.block_root)?;
    Ok(proofs)
}

/// Proofs of the balances of `indices` (in that order) at the block of `header` (the
/// checkpoint's block), whose post-state `tree` hashes.
pub fn checkpoint_proofs(
    tree: &StateTree,
    header: &BeaconBlockHeader,
    indices: &[ValidatorIndex],
) -> Result<CheckpointProofs, ProofError> {
    let at = ProvenBlock::new(tree, header)?;
    let balance_container = at.balance_container()?;
    let balances = indices
        .iter()
        .map(|&index| at.balance(index))
        .collect::<Result<Vec<_>, _>>()?;
    let proofs = CheckpointProofs {
        block_root: at.block_root,
        version: at.version,
        balance_container,
        balances,
    };
    verify_checkpoint_proofs(&proofs, at.block_root)?;
    Ok(proofs)
}

/// The proof `verifyStaleBalance` takes for validator `index` at the block of `header`: refused
/// with [`ProofError::NotSlashed`] unless the validator is slashed in that state.
pub fn stale_balance_proof(
    tree: &StateTree,
    header: &BeaconBlockHeader,
    beacon_timestamp: u64,
    index: ValidatorIndex,
) -> Result<StaleBalanceProof, ProofError> {
    let at = ProvenBlock::new(tree, header)?;
    let validator = at.validator(index)?;
    if !validator.is_slashed() {
        return Err(ProofError::NotSlashed { index });
    }
    let proof = StaleBalanceProof {
        beacon_timestamp,
        block_root: at.block_root,
        version: at.version,
        state_root_proof: at.state_root_proof(),
        validator,
    };
    verify_stale_balance_proof(&proof, at.block_root)?;
    Ok(proof)
}

/// A block and its post-state, checked to belong together.
struct ProvenBlock<'a> {
    tree: &'a StateTree,
    version: ProofVersion,
    header_leaves: [Node; 8],
    block_root: Root,
}

impl<'a> ProvenBlock<'a> {
    /// Checks that `header` commits to `tree`'s state and that the state's layout is the one
    /// its proof version assumes.
    fn new(tree: &'a StateTree, header: &BeaconBlockHeader) -> Result<Self, ProofError> {
        let version = ProofVersion::for_fork(tree.fork())?;
        let tree_root = tree.root();
        if header.state_root != *tree_root.as_bytes() {
            return Err(ProofError::HeaderStateMismatch {
                header_state_root: Root::new(header.state_root),
                tree_root,
            });
        }
        if tree.field_tree_height() != version.state_tree_height() {
            return Err(ProofError::TreeShape {
                what: format!(
                    "{} state has a field tree of height {}, proof version {version} needs {}",
                    tree.fork(),
                    tree.field_tree_height(),
                    version.state_tree_height()
                ),
            });
        }
        Ok(Self {
            tree,
            version,
            header_leaves: header_leaves(header),
            block_root: block_root(header),
        })
    }

    /// The state root under the block root.
    fn state_root_proof(&self) -> StateRootProof {
        // `STATE_ROOT_INDEX` is 3, a leaf of the 8-leaf header tree.
        let proof = branch(&self.header_leaves, STATE_ROOT_INDEX as usize);
        StateRootProof {
            beacon_state_root: self.tree.root(),
            proof: MerkleProof::from_nodes(&proof),
        }
    }

    /// The field branch of `field`, of the height of the state's field tree.
    fn field_branch(&self, field: u64) -> Result<Vec<Node>, ProofError> {
        let nodes = usize::try_from(field)
            .ok()
            .and_then(|field| self.tree.field_branch(field))
            .ok_or_else(|| ProofError::TreeShape {
                what: format!("no branch for state field {field}"),
            })?;
        expect_nodes(
            &format!("field {field} branch"),
            nodes,
            self.version.state_tree_height(),
        )
    }

    /// Validator `index`'s fields and their proof against the state root.
    fn validator(&self, index: ValidatorIndex) -> Result<ValidatorFieldsProof, ProofError> {
        if index.get() > MAX_VALIDATOR_INDEX {
            return Err(ProofError::IndexTooLarge { index });
        }
        let (Some(fields), Some(registry)) = (
            self.tree.validator_fields(index),
            self.tree.validator_branch(index),
        ) else {
            return Err(ProofError::UnknownValidator { index });
        };
        let mut nodes = expect_nodes(
            &format!("validator {index} branch"),
            registry,
            VALIDATOR_TREE_HEIGHT + 1,
        )?;
        nodes.extend(self.field_branch(VALIDATOR_CONTAINER_INDEX)?);
        Ok(ValidatorFieldsProof {
            index,
            fields,
            proof: MerkleProof::from_nodes(&nodes),
        })
    }

    /// The `balances` root and its proof against the block root.
    fn balance_container(&self) -> Result<BalanceContainerProof, ProofError> {
        let root = usize::try_from(BALANCE_CONTAINER_INDEX)
            .ok()
            .and_then(|field| self.tree.field_root(field))
            .ok_or_else(|| ProofError::TreeShape {
                what: format!("no root for state field {BALANCE_CONTAINER_INDEX}"),
            })?;
        let mut nodes = self.field_branch(BALANCE_CONTAINER_INDEX)?;
        // The 8-leaf header tree gives `BLOCK_HEADER_TREE_HEIGHT` (3) nodes.
        nodes.extend(branch(&self.header_leaves, STATE_ROOT_INDEX as usize));
        Ok(BalanceContainerProof {
            root,
            proof: MerkleProof::from_nodes(&nodes),
        })
    }

    /// Validator `index`'s balance chunk and its proof against the `balances` root.
    fn balance(&self, index: ValidatorIndex) -> Result<BalanceProof, ProofError> {
        if index.get() > MAX_VALIDATOR_INDEX {
            return Err(ProofError::IndexTooLarge { index });
        }
        let (Some(fields), Some(balance_root), Some(nodes)) = (
            self.tree.validator_fields(index),
            self.tree.balance_chunk(index),
            self.tree.balance_branch(index),
        ) else {
            return Err(ProofError::UnknownValidator { index });
        };
        let nodes = expect_nodes(
            &format!("balance {index} branch"),
            nodes,
            BALANCE_TREE_HEIGHT + 1,
        )?;
        Ok(BalanceProof {
            index,
            // The first field is the pubkey's root, sha256(pubkey || 16 zero bytes): the pod's key.
            pubkey_hash: ValidatorPubkeyHash::new(*fields[0].as_bytes()),
            balance_root,
            proof: MerkleProof::from_nodes(&nodes),
        })
    }
}

/// The nodes of a branch the tree gave, checked to be `expected` long.
fn expect_nodes(what: &str, branch: Vec<Root>, expected: usize) -> Result<Vec<Node>, ProofError> {
    if branch.len() != expected {
        return Err(ProofError::TreeShape {
            what: format!("{what} has {} nodes, expected {expected}", branch.len()),
        });
    }
    Ok(branch.iter().map(|node| *node.as_bytes()).collect())
}
