//! What a pod looks like on the execution chain at one block.

use restake_beacon::Root;
use restake_types::{BlsPublicKey, ExecutionAddress, Gwei, ValidatorIndex};
use serde::{Deserialize, Serialize};

use crate::bindings::ValidatorPubkeyHash;

/// A validator's status in a pod (EigenLayer's `VALIDATOR_STATUS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PodValidatorStatus {
    /// Unknown to the pod: its withdrawal credentials were never verified.
    Inactive,
    /// Credentials verified: the validator counts as restaked and every checkpoint proves it.
    Active,
    /// A checkpoint proved it at zero balance.
    Withdrawn,
}

/// What a pod records for one validator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodValidator {
    /// The public key asked about.
    pub pubkey: BlsPublicKey,
    /// The pod's key for it (see [`crate::bindings::validator_pubkey_hash`]).
    pub pubkey_hash: ValidatorPubkeyHash,
    /// The beacon-chain index the pod recorded (0 when inactive).
    pub index: ValidatorIndex,
    /// The restaked balance as of its last checkpoint.
    pub restaked_balance: Gwei,
    /// Timestamp of its last checkpoint (0 if never).
    pub last_checkpointed_at: u64,
    /// Its status in the pod.
    pub status: PodValidatorStatus,
}

/// A checkpoint that has been started and not yet finalized.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointInProgress {
    /// Its timestamp (`currentCheckpointTimestamp`).
    pub timestamp: u64,
    /// The beacon block root it proves against.
    pub beacon_block_root: Root,
    /// Validators still to be proven.
    pub proofs_remaining: u32,
    /// ETH in the pod it will credit when finalized.
    pub pod_balance: Gwei,
    /// Sum of the balance changes proven so far, in gwei.
    pub balance_deltas_gwei: i64,
    /// Restaked beacon balance before it.
    pub prev_beacon_balance: Gwei,
}

/// What the pod manager says about the pod's owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagerView {
    /// The manager's address.
    pub manager: ExecutionAddress,
    /// `hasPod(owner)`.
    pub has_pod: bool,
    /// `getPod(owner)`: the owner's pod, deployed or not.
    pub pod_for_owner: ExecutionAddress,
}

/// A pod as read at one block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodSnapshot {
    /// The pod's address.
    pub pod: ExecutionAddress,
    /// The block every value was read at.
    pub block_number: u64,
    /// `podOwner()`.
    pub owner: ExecutionAddress,
    /// The manager's view of the owner, when a manager is configured.
    pub manager: Option<ManagerView>,
    /// `activeValidatorCount()`, saturated at `u64::MAX`.
    pub active_validator_count: u64,
    /// `lastCheckpointTimestamp()` (0 if never).
    pub last_checkpoint_timestamp: u64,
    /// The checkpoint in progress, if `currentCheckpointTimestamp()` is not 0.
    pub current_checkpoint: Option<CheckpointInProgress>,
    /// `withdrawableRestakedExecutionLayerGwei()`: ETH in the pod already credited.
    pub withdrawable_restaked: Gwei,
    /// The pod's ETH balance in whole gwei (wei below a gwei dropped).
    pub balance: Gwei,
    /// The pod's record of each validator asked about, in the order asked.
    pub validators: Vec<PodValidator>,
}

impl PodSnapshot {
    /// ETH in the pod not credited as restaked and not in a checkpoint in progress:
    /// balance − `withdrawableRestakedExecutionLayerGwei` − the in-progress checkpoint's
    /// `podBalanceGwei`, never below zero.
    pub fn unrestaked(&self) -> Gwei {
        let in_checkpoint = self
            .current_checkpoint
            .as_ref()
            .map_or(0, |c| c.pod_balance.get());
        Gwei(
            self.balance
                .get()
                .saturating_sub(self.withdrawable_restaked.get())
                .saturating_sub(in_checkpoint),
        )
    }
}
