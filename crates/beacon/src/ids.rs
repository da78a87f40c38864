//! What a request names: states, blocks, validators and validator statuses.

use std::fmt;

use restake_types::{BlsPublicKey, Slot, ValidatorIndex};
use serde::{Deserialize, Serialize};

use crate::bytes::Root;

/// Which beacon state a request is about (`{state_id}` in the Beacon API).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateId {
    /// The canonical head in the node's view.
    Head,
    /// The genesis state.
    Genesis,
    /// The latest finalized state.
    Finalized,
    /// The latest justified state.
    Justified,
    /// The state at a slot (after processing that slot, block or not).
    Slot(Slot),
    /// The state with this root.
    Root(Root),
}

impl fmt::Display for StateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Head => f.write_str("head"),
            Self::Genesis => f.write_str("genesis"),
            Self::Finalized => f.write_str("finalized"),
            Self::Justified => f.write_str("justified"),
            Self::Slot(slot) => write!(f, "{slot}"),
            Self::Root(root) => write!(f, "{root}"),
        }
    }
}

impl From<Slot> for StateId {
    fn from(slot: Slot) -> Self {
        Self::Slot(slot)
    }
}

/// Which block a request is about (`{block_id}` in the Beacon API).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockId {
    /// The canonical head in the node's view.
    Head,
    /// The genesis block.
    Genesis,
    /// The latest finalized block.
    Finalized,
    /// The canonical block at a slot; a skipped slot has none.
    Slot(Slot),
    /// The block with this root.
    Root(Root),
}

impl fmt::Display for BlockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Head => f.write_str("head"),
            Self::Genesis => f.write_str("genesis"),
            Self::Finalized => f.write_str("finalized"),
            Self::Slot(slot) => write!(f, "{slot}"),
            Self::Root(root) => write!(f, "{root}"),
        }
    }
}

impl From<Slot> for BlockId {
    fn from(slot: Slot) -> Self {
        Self::Slot(slot)
    }
}

/// A validator named by registry index or by public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValidatorId {
    /// The index in the validator registry.
    Index(ValidatorIndex),
    /// The BLS public key.
    PublicKey(BlsPublicKey),
}

impl fmt::Display for ValidatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Index(index) => write!(f, "{index}"),
            Self::PublicKey(key) => write!(f, "{key}"),
        }
    }
}

impl From<ValidatorIndex> for ValidatorId {
    fn from(index: ValidatorIndex) -> Self {
        Self::Index(index)
    }
}

impl From<BlsPublicKey> for ValidatorId {
    fn from(key: BlsPublicKey) -> Self {
        Self::PublicKey(key)
    }
}

/// A validator's status as the Beacon API reports it
/// (see the API's "validator status specification").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidatorStatus {
    /// Deposited, not yet eligible for activation.
    PendingInitialized,
    /// Eligible, waiting in the activation queue.
    PendingQueued,
    /// Active, no exit initiated.
    ActiveOngoing,
    /// Active, exit initiated voluntarily or by the balance dropping.
    ActiveExiting,
    /// Active, slashed and being exited.
    ActiveSlashed,
    /// Exited, not slashed, not yet withdrawable.
    ExitedUnslashed,
    /// Exited after a slashing, not yet withdrawable.
    ExitedSlashed,
    /// Withdrawable epoch reached; balance not yet swept.
    WithdrawalPossible,
    /// Withdrawable and the balance has been swept to zero.
    WithdrawalDone,
}

impl ValidatorStatus {
    /// The name the API uses.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PendingInitialized => "pending_initialized",
            Self::PendingQueued => "pending_queued",
            Self::ActiveOngoing => "active_ongoing",
            Self::ActiveExiting => "active_exiting",
            Self::ActiveSlashed => "active_slashed",
            Self::ExitedUnslashed => "exited_unslashed",
            Self::ExitedSlashed => "exited_slashed",
            Self::WithdrawalPossible => "withdrawal_possible",
            Self::WithdrawalDone => "withdrawal_done",
        }
    }
}

/// A status filter for the validators endpoint: an exact status or one of the API's groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatusFilter {
    /// Exactly this status.
    Exact(ValidatorStatus),
    /// Any `active_*` status.
    Active,
    /// Any `pending_*` status.
    Pending,
    /// Any `exited_*` status.
    Exited,
    /// Any `withdrawal_*` status.
    Withdrawal,
}

impl StatusFilter {
    /// The name the API uses.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Exact(status) => status.as_str(),
            Self::Active => "active",
            Self::Pending => "pending",
            Self::Exited => "exited",
            Self::Withdrawal => "withdrawal",
        }
    }
}

impl From<ValidatorStatus> for StatusFilter {
    fn from(status: ValidatorStatus) -> Self {
        Self::Exact(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_as_the_api_expects() {
        assert_eq!(StateId::Head.to_string(), "head");
        assert_eq!(StateId::Justified.to_string(), "justified");
        assert_eq!(StateId::Slot(Slot(12)).to_string(), "12");
        assert_eq!(BlockId::Finalized.to_string(), "finalized");
        let root = Root::new([0xab; 32]);
        assert_eq!(
            BlockId::Root(root).to_string(),
            format!("0x{}", "ab".repeat(32))
        );
        assert_eq!(ValidatorId::Index(ValidatorIndex(7)).to_string(), "7");
        let key = BlsPublicKey::new([0x11; 48]);
        assert_eq!(
            ValidatorId::from(key).to_string(),
            format!("0x{}", "11".repeat(48))
        );
    }

    #[test]
    fn statuses_use_api_names() {
        let json = serde_json::to_string(&ValidatorStatus::WithdrawalPossible).unwrap();
        assert_eq!(json, "\"withdrawal_possible\"");
        for status in [
            ValidatorStatus::PendingInitialized,
            ValidatorStatus::PendingQueued,
            ValidatorStatus::ActiveOngoing,
            ValidatorStatus::ActiveExiting,
            ValidatorStatus::ActiveSlashed,
            ValidatorStatus::ExitedUnslashed,
            ValidatorStatus::ExitedSlashed,
            ValidatorStatus::WithdrawalPossible,
            ValidatorStatus::WithdrawalDone,
        ] {
            let json = format!("\"{}\"", status.as_str());
            assert_eq!(
                serde_json::from_str::<ValidatorStatus>(&json).unwrap(),
                status
            );
        }
        assert_eq!(StatusFilter::Active.as_str(), "active");
        assert!(serde_json::from_str::<ValidatorStatus>("\"active\"").is_err());
    }
}
