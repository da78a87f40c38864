//! The reconciliation report: findings with the action each asks of the operator, and a summary.

use restake_beacon::tracker::Severity;
use restake_types::{BlsPublicKey, ExecutionAddress, Gwei, ValidatorIndex};
use serde::{Deserialize, Serialize};

/// What disagrees between the beacon chain and the pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The manager does not map the pod's owner to this pod.
    OwnerPodMismatch,
    /// Credentials point at the pod but the pod never verified them: the stake is not restaked.
    CredentialsNotVerified,
    /// A slashed validator is still ACTIVE in a pod whose last checkpoint predates the slashing.
    StaleAfterSlashing,
    /// ACTIVE in the pod, but the beacon chain disagrees: the credentials point elsewhere, the
    /// tracker does not know the validator, or it is withdrawn.
    ActiveInPodNotOnBeacon,
    /// ETH sits in the pod without being credited as restaked.
    UnrestakedPodBalance,
}

impl FindingKind {
    /// Every kind's name, as used in metrics labels and the API.
    pub const NAMES: [&'static str; 5] = [
        "owner_pod_mismatch",
        "credentials_not_verified",
        "stale_after_slashing",
        "active_in_pod_not_on_beacon",
        "unrestaked_pod_balance",
    ];

    /// This kind's name (one of [`FindingKind::NAMES`]).
    pub const fn name(self) -> &'static str {
        match self {
            Self::OwnerPodMismatch => "owner_pod_mismatch",
            Self::CredentialsNotVerified => "credentials_not_verified",
            Self::StaleAfterSlashing => "stale_after_slashing",
            Self::ActiveInPodNotOnBeacon => "active_in_pod_not_on_beacon",
            Self::UnrestakedPodBalance => "unrestaked_pod_balance",
        }
    }
}

/// What the operator should do about a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperatorAction {
    /// Prove the credentials with `verifyWithdrawalCredentials` (pod owner or proof submitter).
    VerifyWithdrawalCredentials,
    /// Wait until the validator is active on the beacon chain, then verify its credentials.
    VerifyWithdrawalCredentialsOnceActive,
    /// Start a checkpoint with `startCheckpoint` (pod owner or proof submitter), then prove it.
    StartCheckpoint,
    /// Prove the slashing with `verifyStaleBalance`, which starts a checkpoint; anyone may call it.
    ProveStaleBalance,
    /// Finish the checkpoint in progress with `verifyCheckpointProofs` (anyone may); a new one
    /// cannot start before.
    CompleteCheckpoint,
    /// Look into it: no transaction fixes this; the configuration or the data is wrong.
    Investigate,
}

impl OperatorAction {
    /// A one-line instruction for people, naming the `restakectl` command that produces the
    /// proof to submit (`<pod>` and `<index>` stand for the finding's pod and validator).
    pub const fn instruction(self) -> &'static str {
        match self {
            Self::VerifyWithdrawalCredentials => {
                "verify the withdrawal credentials (verifyWithdrawalCredentials) so the stake \
                 counts (`restakectl proofs credentials --pod <pod> --calldata`)"
            }
            Self::VerifyWithdrawalCredentialsOnceActive => {
                "verify the withdrawal credentials once the validator is active on the beacon \
                 chain (then `restakectl proofs credentials --pod <pod> --calldata`)"
            }
            Self::StartCheckpoint => {
                "start a checkpoint (startCheckpoint) and submit its proofs (`restakectl proofs \
                 checkpoint --pod <pod> --block-root <checkpoint block root> --calldata`)"
            }
            Self::ProveStaleBalance => {
                "start a checkpoint by proving the stale balance (verifyStaleBalance; anyone \
                 can) (`restakectl proofs stale-balance --pod <pod> --validators <index> \
                 --calldata`)"
            }
            Self::CompleteCheckpoint => {
                "complete the checkpoint in progress (verifyCheckpointProofs; anyone can) \
                 (`restakectl proofs checkpoint --pod <pod> --block-root <checkpoint block \
                 root> --calldata`)"
            }
            Self::Investigate => "investigate: the pod and the beacon chain disagree",
        }
    }
}

/// A validator a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingValidator {
    /// Its beacon-chain index, when the tracker or the pod knows it.
    pub index: Option<ValidatorIndex>,
    /// Its public key.
    pub pubkey: BlsPublicKey,
}

/// One disagreement and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What disagrees.
    pub kind: FindingKind,
    /// How urgent it is.
    pub severity: Severity,
    /// The validators involved (none for pod-wide findings).
    pub validators: Vec<FindingValidator>,
    /// What the operator should do.
    pub action: OperatorAction,
    /// The facts behind the finding, for people.
    pub detail: String,
}

/// The pod at a glance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodSummary {
    /// The pod.
    pub pod: ExecutionAddress,
    /// Its owner.
    pub owner: ExecutionAddress,
    /// The execution block the pod was read at.
    pub block_number: u64,
    /// The pod's `activeValidatorCount()`.
    pub active_in_pod: u64,
    /// Tracked validators whose beacon credentials point at the pod.
    pub pointing_on_beacon: usize,
    /// Of those, the ones ACTIVE in the pod.
    pub pointing_and_active_in_pod: usize,
    /// Of those, the ones whose pod record was not part of the snapshot (not judged).
    pub pointing_not_read: usize,
    /// The pod's last finalized checkpoint (0 if never).
    pub last_checkpoint_timestamp: u64,
    /// The checkpoint in progress, if any.
    pub current_checkpoint_timestamp: Option<u64>,
    /// The pod's ETH balance.
    pub balance: Gwei,
    /// ETH in the pod already credited as restaked.
    pub withdrawable_restaked: Gwei,
    /// ETH in the pod neither credited nor in the checkpoint in progress.
    pub unrestaked: Gwei,
}

/// The outcome of reconciling one pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodReport {
    /// The pod at a glance.
    pub summary: PodSummary,
    /// What disagrees, most severe first.
    pub findings: Vec<Finding>,
}

impl PodReport {
    /// The most severe finding's severity, or `None` when the pod is in order.
    pub fn worst_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// The findings of one kind.
    pub fn of_kind(&self, kind: FindingKind) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.kind == kind)
    }
}
