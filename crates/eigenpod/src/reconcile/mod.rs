//! Reconciliation of EigenPods against what the tracker knows of the beacon chain.
//!
//! [`PodReader`] reads a [`PodSnapshot`] of a pod at one execution block; [`reconcile`], a pure
//! function, compares it with the tracked validators and returns a [`PodReport`]: a summary and
//! [`Finding`]s, each naming the validators involved and the [`OperatorAction`] to take:
//!
//! | kind | when | action |
//! |---|---|---|
//! | [`CredentialsNotVerified`](FindingKind::CredentialsNotVerified) | credentials point at the pod, pod status INACTIVE | verify withdrawal credentials |
//! | [`StaleAfterSlashing`](FindingKind::StaleAfterSlashing) | slashed, ACTIVE in the pod, pod and validator last checkpointed before the slashing was seen | prove the stale balance (starts a checkpoint; anyone can) |
//! | [`UnrestakedPodBalance`](FindingKind::UnrestakedPodBalance) | pod balance − credited − in checkpoint ≥ threshold | start a checkpoint |
//! | [`ActiveInPodNotOnBeacon`](FindingKind::ActiveInPodNotOnBeacon) | ACTIVE in the pod but credentials point elsewhere, the validator is unknown, or withdrawn | investigate, or checkpoint |
//! | [`OwnerPodMismatch`](FindingKind::OwnerPodMismatch) | the manager maps the owner to another pod | investigate |
//!
//! Whenever a checkpoint is in progress, actions that would start one become
//! [`CompleteCheckpoint`](OperatorAction::CompleteCheckpoint): a pod runs one at a time.

mod reader;
mod report;
mod snapshot;

use std::collections::{HashMap, HashSet};

use restake_beacon::{
    ValidatorStatus,
    tracker::{FAR_FUTURE_EPOCH, Severity, TrackedValidator},
};
use restake_types::{BlsPublicKey, Gwei, Slot};
use serde::{Deserialize, Serialize};

pub use reader::PodReader;
pub use report::{Finding, FindingKind, FindingValidator, OperatorAction, PodReport, PodSummary};
pub use snapshot::{
    CheckpointInProgress, ManagerView, PodSnapshot, PodValidator, PodValidatorStatus,
};

/// Thresholds of [`reconcile`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcilePolicy {
    /// Unrestaked ETH in the pod at or above which a checkpoint is worth its gas.
    pub unrestaked_threshold: Gwei,
}

impl Default for ReconcilePolicy {
    /// 1 ETH.
    fn default() -> Self {
        Self {
            unrestaked_threshold: Gwei(Gwei::PER_ETH),
        }
    }
}

/// Compares `snapshot` with the tracked `validators` (any subset of the tracker's, any pods).
///
/// `slot_to_timestamp` maps a beacon slot to its Unix timestamp (the pod's checkpoint timestamps
/// are execution block timestamps), e.g. `|slot| clock.start_of(slot).map(|t| t.as_secs())`;
/// a slot it cannot map is not compared. Validators pointing at the pod whose record is not in
/// the snapshot are counted in the summary and not judged.
pub fn reconcile(
    snapshot: &PodSnapshot,
    validators: &[TrackedValidator],
    slot_to_timestamp: impl Fn(Slot) -> Option<u64>,
    policy: &ReconcilePolicy,
) -> PodReport {
    let in_pod: HashMap<BlsPublicKey, &PodValidator> = snapshot
        .validators
        .iter()
        .rev()
        .map(|v| (v.pubkey, v))
        .collect();
    let tracked: HashMap<BlsPublicKey, &TrackedValidator> =
        validators.iter().map(|v| (v.pubkey(), v)).collect();
    let points_here = |v: &TrackedValidator| v.withdrawal_address() == Some(snapshot.pod);

    let mut findings = Vec::new();
    if let Some(finding) = owner_pod_mismatch(snapshot) {
        findings.push(finding);
    }

    let mut pointing = 0;
    let mut pointing_active = 0;
    let mut pointing_not_read = 0;
    let mut stale = Vec::new();
    let mut stale_newest_slash = 0;
    let mut seen = HashSet::new();
    for validator in validators.iter().filter(|v| points_here(v)) {
        if !seen.insert(validator.pubkey()) {
            continue;
        }
        pointing += 1;
        let Some(record) = in_pod.get(&validator.pubkey()) else {
            pointing_not_read += 1;
            continue;
        };
        match record.status {
            PodValidatorStatus::Inactive => findings.push(not_verified(validator)),
            PodValidatorStatus::Active => {
                pointing_active += 1;
                if let Some(slashed_at) =
                    stale_slashing(snapshot, validator, record, &slot_to_timestamp)
                {
                    stale_newest_slash = stale_newest_slash.max(slashed_at);
                    stale.push(finding_validator(validator));
                }
            }
            PodValidatorStatus::Withdrawn => {}
        }
    }
    if !stale.is_empty() {
        findings.push(stale_finding(snapshot, stale, stale_newest_slash));
    }

    let mut judged = HashSet::new();
    for record in &snapshot.validators {
        if record.status != PodValidatorStatus::Active || !judged.insert(record.pubkey) {
            continue;
        }
        if let Some(finding) =
            active_mismatch(snapshot, record, tracked.get(&record.pubkey).copied())
        {
            findings.push(finding);
        }
    }

    let unrestaked = snapshot.unrestaked();
    if unrestaked.get() > 0 && unrestaked >= policy.unrestaked_threshold {
        findings.push(Finding {
            kind: FindingKind::UnrestakedPodBalance,
            severity: Severity::Warning,
            validators: Vec::new(),
            action: start_checkpoint(snapshot, OperatorAction::StartCheckpoint),
            detail: format!(
                "{unrestaked} gwei ({:.4} ETH) in the pod is not credited as restaked: balance \
                 {} gwei, credited {} gwei{}",
                unrestaked.as_eth(),
                snapshot.balance,
                snapshot.withdrawable_restaked,
                snapshot
                    .current_checkpoint
                    .as_ref()
                    .map_or(String::new(), |c| format!(
                        ", in the checkpoint in progress {} gwei",
                        c.pod_balance
                    )),
            ),
        });
    }

    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.kind.cmp(&b.kind)));
    PodReport {
        summary: PodSummary {
            pod: snapshot.pod,
            owner: snapshot.owner,
            block_number: snapshot.block_number,
            active_in_pod: snapshot.active_validator_count,
            pointing_on_beacon: pointing,
            pointing_and_active_in_pod: pointing_active,
            pointing_not_read,
            last_checkpoint_timestamp: snapshot.last_checkpoint_timestamp,
            current_checkpoint_timestamp: snapshot.current_checkpoint.as_ref().map(|c| c.timestamp),
            balance: snapshot.balance,
            withdrawable_restaked: snapshot.withdrawable_restaked,
            unrestaked,
        },
        findings,
    }
}

fn finding_validator(validator: &TrackedValidator) -> FindingValidator {
    FindingValidator {
        index: Some(validator.index()),
        pubkey: validator.pubkey(),
    }
}

/// `wanted` unless a checkpoint is in progress, which must be completed first.
fn start_checkpoint(snapshot: &PodSnapshot, wanted: OperatorAction) -> OperatorAction {
    if snapshot.current_checkpoint.is_some() {
        OperatorAction::CompleteCheckpoint
    } else {
        wanted
    }
}

fn owner_pod_mismatch(snapshot: &PodSnapshot) -> Option<Finding> {
    let view = snapshot.manager.as_ref()?;
    if view.has_pod && view.pod_for_owner == snapshot.pod {
        return None;
    }
    Some(Finding {
        kind: FindingKind::OwnerPodMismatch,
        severity: Severity::Critical,
        validators: Vec::new(),
        action: OperatorAction::Investigate,
        detail: format!(
            "manager {} maps owner {} to pod {} (hasPod: {}), not to {}: check the configured \
             pod and manager addresses",
            view.manager, snapshot.owner, view.pod_for_owner, view.has_pod, snapshot.pod
        ),
    })
}

/// Finding (a): the credentials point at the pod, which never verified them.
fn not_verified(validator: &TrackedValidator) -> Finding {
    let record = &validator.data.validator;
    let status = validator.status();
    let (severity, action, why) = if record.exit_epoch != FAR_FUTURE_EPOCH {
        (
            Severity::Warning,
            OperatorAction::StartCheckpoint,
            format!(
                "its exit is initiated (exit epoch {}), so EigenLayer no longer accepts a \
                 credential proof; once its balance is withdrawn into the pod a checkpoint \
                 credits it as restaked",
                record.exit_epoch
            ),
        )
    } else if matches!(
        status,
        ValidatorStatus::PendingInitialized | ValidatorStatus::PendingQueued
    ) {
        (
            Severity::Info,
            OperatorAction::VerifyWithdrawalCredentialsOnceActive,
            "it is not active on the beacon chain yet, and EigenLayer only verifies active \
             validators"
                .to_owned(),
        )
    } else {
        (
            Severity::Warning,
            OperatorAction::VerifyWithdrawalCredentials,
            format!(
                "its {} gwei of effective balance earns no restaked shares until verified",
                record.effective_balance
            ),
        )
    };
    Finding {
        kind: FindingKind::CredentialsNotVerified,
        severity,
        validators: vec![finding_validator(validator)],
        action,
        detail: format!(
            "validator {} ({}) points its withdrawal credentials at the pod but is INACTIVE in \
             it: {why}",
            validator.index(),
            status.as_str()
        ),
    }
}

/// The timestamp of the slashing if the validator is slashed, ACTIVE, and neither it nor the pod
/// has been checkpointed since.
fn stale_slashing(
    snapshot: &PodSnapshot,
    validator: &TrackedValidator,
    record: &PodValidator,
    slot_to_timestamp: &impl Fn(Slot) -> Option<u64>,
) -> Option<u64> {
    if !validator.data.validator.slashed {
        return None;
    }
    let slashed_at = slot_to_timestamp(validator.slashed_seen_slot?)?;
    (record.last_checkpointed_at < slashed_at && snapshot.last_checkpoint_timestamp < slashed_at)
        .then_some(slashed_at)
}

/// Finding (b), for every stale slashed validator at once: one checkpoint covers them all.
fn stale_finding(
    snapshot: &PodSnapshot,
    validators: Vec<FindingValidator>,
    newest_slash: u64,
) -> Finding {
    let indices = validators
        .iter()
        .filter_map(|v| v.index.map(|i| i.to_string()))
        .collect::<Vec<_>>()
        .join(", ");
    let base = format!(
        "slashed validator(s) {indices} are ACTIVE in the pod, whose last checkpoint ({}) \
         predates the slashing (seen at {newest_slash}): the owner's shares overstate the stake \
         until a checkpoint records the slashing",
        snapshot.last_checkpoint_timestamp
    );
    let (severity, detail) = match &snapshot.current_checkpoint {
        Some(c) if c.timestamp >= newest_slash => (
            Severity::Warning,
            format!(
                "{base}; the checkpoint in progress ({}) postdates it and records it once complete",
                c.timestamp
            ),
        ),
        Some(c) => (
            Severity::Critical,
            format!(
                "{base}; the checkpoint in progress ({}) predates it too: complete it, then \
                 prove the stale balance",
                c.timestamp
            ),
        ),
        None => (Severity::Critical, base),
    };
    Finding {
        kind: FindingKind::StaleAfterSlashing,
        severity,
        validators,
        action: start_checkpoint(snapshot, OperatorAction::ProveStaleBalance),
        detail,
    }
}

/// Finding (d): ACTIVE in the pod but the beacon chain (as tracked) disagrees.
fn active_mismatch(
    snapshot: &PodSnapshot,
    record: &PodValidator,
    tracked: Option<&TrackedValidator>,
) -> Option<Finding> {
    let (severity, action, detail, index) = match tracked {
        None => (
            Severity::Warning,
            OperatorAction::Investigate,
            format!(
                "validator {} is ACTIVE in the pod but unknown to the tracker: track its \
                 public key or check the beacon node",
                record.index
            ),
            record.index,
        ),
        Some(v) if v.withdrawal_address() != Some(snapshot.pod) => (
            Severity::Critical,
            OperatorAction::Investigate,
            format!(
                "validator {} is ACTIVE in the pod but its beacon credentials {} point {}",
                v.index(),
                v.credentials(),
                v.withdrawal_address().map_or_else(
                    || "at no execution address".to_owned(),
                    |a| format!("at {a}")
                ),
            ),
            v.index(),
        ),
        Some(v) if v.status() == ValidatorStatus::WithdrawalDone => (
            Severity::Warning,
            start_checkpoint(snapshot, OperatorAction::StartCheckpoint),
            format!(
                "validator {} is withdrawn on the beacon chain but still ACTIVE in the pod with \
                 {} gwei restaked: a checkpoint proves it at zero and marks it WITHDRAWN",
                v.index(),
                record.restaked_balance
            ),
            v.index(),
        ),
        Some(_) => return None,
    };
    Some(Finding {
        kind: FindingKind::ActiveInPodNotOnBeacon,
        severity,
        validators: vec![FindingValidator {
            index: Some(index),
            pubkey: record.pubkey,
        }],
        action,
        detail,
    })
}

#[cfg(test)]
mod tests;
