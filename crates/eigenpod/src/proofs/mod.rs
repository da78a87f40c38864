//! EigenPod proofs: generating them from a [`StateTree`](crate::tree::StateTree), verifying them
//! offline exactly as the pod contract does, reading those of Layr-Labs' Go CLI, and encoding
//! them as calldata.
//!
//! The shapes are those of `BeaconChainProofs.sol` and `EigenPod.sol` in
//! Layr-Labs/eigenlayer-contracts:
//! - [`CredentialProofs`] for `verifyWithdrawalCredentials`: the state root under the block root
//!   (3 nodes, index 3), then each validator's 8 fields under the state root
//!   (`41 + h` nodes, index `(11 << 41) | validatorIndex`);
//! - [`CheckpointProofs`] for `verifyCheckpointProofs`: the `balances` root under the block root
//!   (`3 + h` nodes, index `(3 << h) | 12`), then each balance chunk under it (39 nodes, index
//!   `validatorIndex / 4`);
//! - [`StaleBalanceProof`] for `verifyStaleBalance`: a slashed validator's fields, as for
//!   credentials.
//!
//! `h` is the height of the state's field tree, 5 or 6 by [`ProofVersion`]. The block root is the
//! one EIP-4788's `getParentBlockRoot(beaconTimestamp)` returns to the pod: the proven block's
//! root, where `beaconTimestamp` is the timestamp of its child. The JSON format and how to submit
//! by hand are in `docs/proofs.md`.

mod calldata;
mod error;
mod generate;
mod go_json;
mod merkle;
mod types;
mod verify;

pub use calldata::{
    verify_checkpoint_proofs_calldata, verify_stale_balance_calldata,
    verify_withdrawal_credentials_calldata,
};
pub use error::{ProofError, ProofKind};
pub use generate::{checkpoint_proofs, credential_proofs, stale_balance_proof};
pub use go_json::{checkpoint_proofs_from_go_json, credential_proofs_from_go_json};
pub use types::{
    BalanceContainerProof, BalanceProof, CheckpointProofs, CredentialProofs, MerkleProof,
    ProofVersion, StaleBalanceProof, StateRootProof, VALIDATOR_FIELD_COUNT, ValidatorFieldsProof,
    block_root,
};
pub use verify::{verify_checkpoint_proofs, verify_credential_proofs, verify_stale_balance_proof};

/// The height of the block header tree (`BEACON_BLOCK_HEADER_TREE_HEIGHT`).
const BLOCK_HEADER_TREE_HEIGHT: usize = 3;
/// The position of `state_root` in the block header (`STATE_ROOT_INDEX`).
const STATE_ROOT_INDEX: u64 = 3;
/// The position of `validators` in the state (`VALIDATOR_CONTAINER_INDEX`).
const VALIDATOR_CONTAINER_INDEX: u64 = 11;
/// The position of `balances` in the state (`BALANCE_CONTAINER_INDEX`).
const BALANCE_CONTAINER_INDEX: u64 = 12;
/// The depth of the registry's data tree (`VALIDATOR_TREE_HEIGHT`; the limit is 2^40).
const VALIDATOR_TREE_HEIGHT: usize = 40;
/// The depth of the balances' data tree (`BALANCE_TREE_HEIGHT`: 2^40 balances, 4 a chunk).
const BALANCE_TREE_HEIGHT: usize = 38;
/// Indices the contract's `uint40` can carry.
const MAX_VALIDATOR_INDEX: u64 = (1 << 40) - 1;
