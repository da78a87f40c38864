//! What can go wrong generating, reading or verifying a proof.

use std::fmt;

use restake_beacon::{ForkName, Root};
use restake_types::ValidatorIndex;

/// Which proof of a bundle, with the levels of the beacon-chain trees it spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofKind {
    /// The state root under the block root (block header tree, 3 levels).
    StateRoot,
    /// A validator's fields under the state root.
    ValidatorFields(ValidatorIndex),
    /// The `balances` list root under the block root.
    BalanceContainer,
    /// A validator's balance chunk under the `balances` list root.
    Balance(ValidatorIndex),
}

impl fmt::Display for ProofKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::StateRoot => f.write_str("state root proof (block header tree, 3 levels)"),
            Self::ValidatorFields(index) => write!(
                f,
                "validator {index} fields proof (validator registry 40 levels, length mix-in 1, \
                 state fields 5|6)"
            ),
            Self::BalanceContainer => f.write_str(
                "balance container proof (state fields 5|6 levels, block header tree 3)",
            ),
            Self::Balance(index) => write!(
                f,
                "validator {index} balance proof (balance list 38 levels, length mix-in 1)"
            ),
        }
    }
}

/// A proof that could not be generated, read or verified.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The proof does not have the length the contract requires.
    #[error("{proof}: {actual} bytes, the contract expects {expected}")]
    WrongLength {
        /// The proof.
        proof: ProofKind,
        /// The contract's length in bytes.
        expected: usize,
        /// The proof's length in bytes.
        actual: usize,
    },
    /// Walking the proof from its leaf does not reach the root it is checked against.
    #[error("{proof}: does not reach the expected root (index {index}, depth {depth})")]
    RootMismatch {
        /// The proof.
        proof: ProofKind,
        /// The leaf's position at that depth, as the contract computes it.
        index: u64,
        /// The number of levels walked.
        depth: usize,
    },
    /// A validator index does not fit the contract's `uint40`.
    #[error("validator index {index} does not fit a uint40")]
    IndexTooLarge {
        /// The index.
        index: ValidatorIndex,
    },
    /// The bundle names another block root than the one it is checked against.
    #[error("proofs are for block root {claimed}, checked against {expected}")]
    BlockRootMismatch {
        /// The root checked against.
        expected: Root,
        /// The root the bundle names.
        claimed: Root,
    },
    /// No EigenPod proof version exists for states of this fork.
    #[error("no EigenPod proof version for {fork} states (Deneb, Electra and Fulu only)")]
    UnsupportedFork {
        /// The fork.
        fork: ForkName,
    },
    /// A stale-balance proof for a validator that is not slashed, which the contract refuses.
    #[error("validator {index} is not slashed: verifyStaleBalance would revert")]
    NotSlashed {
        /// The validator.
        index: ValidatorIndex,
    },
    /// The header's `state_root` is not the root of the state tree proven from.
    #[error("header commits to state {header_state_root}, the tree's root is {tree_root}")]
    HeaderStateMismatch {
        /// The header's `state_root`.
        header_state_root: Root,
        /// The tree's root.
        tree_root: Root,
    },
    /// The state has no validator at this index.
    #[error("the state has no validator {index}")]
    UnknownValidator {
        /// The index.
        index: ValidatorIndex,
    },
    /// The state tree gave a branch of an unexpected shape.
    #[error("state tree: {what}")]
    TreeShape {
        /// What was off.
        what: String,
    },
    /// JSON in the shape of Layr-Labs' `eigenpod-proofs-generation` could not be read.
    #[error("eigenpod-proofs-generation JSON: {reason}")]
    GoJson {
        /// Why.
        reason: String,
    },
}
