use proptest::prelude::*;
use restake_beacon::{Validator, ValidatorData, tracker::TrackedBecause};
use restake_types::{Epoch, ExecutionAddress, ValidatorIndex, WithdrawalCredentials};

use super::*;
use crate::bindings::validator_pubkey_hash;

const POD: ExecutionAddress = ExecutionAddress::new([0xaa; 20]);
const ELSEWHERE: ExecutionAddress = ExecutionAddress::new([0xbb; 20]);
const OWNER: ExecutionAddress = ExecutionAddress::new([0x0e; 20]);
const GENESIS: u64 = 1_700_000_000;
const ETH: u64 = Gwei::PER_ETH;

fn slot_time(slot: Slot) -> Option<u64> {
    slot.get().checked_mul(12)?.checked_add(GENESIS)
}

fn pubkey(i: u64) -> BlsPublicKey {
    let mut bytes = [0u8; 48];
    bytes[..8].copy_from_slice(&i.to_le_bytes());
    BlsPublicKey::new(bytes)
}

fn tracked(i: u64, points_at: ExecutionAddress, status: ValidatorStatus) -> TrackedValidator {
    let exiting = !matches!(
        status,
        ValidatorStatus::PendingInitialized
            | ValidatorStatus::PendingQueued
            | ValidatorStatus::ActiveOngoing
    );
    TrackedValidator {
        data: ValidatorData {
            index: ValidatorIndex(i),
            balance: Gwei(32 * ETH),
            status,
            validator: Validator {
                pubkey: pubkey(i),
                withdrawal_credentials: WithdrawalCredentials::to_address(0x01, points_at),
                effective_balance: Gwei(32 * ETH),
                slashed: false,
                activation_eligibility_epoch: Epoch(0),
                activation_epoch: Epoch(1),
                exit_epoch: if exiting {
                    Epoch(100)
                } else {
                    FAR_FUTURE_EPOCH
                },
                withdrawable_epoch: if exiting {
                    Epoch(356)
                } else {
                    FAR_FUTURE_EPOCH
                },
            },
        },
        pod: (points_at == POD).then_some(POD),
        because: TrackedBecause::Pod,
        updated_slot: Slot(1000),
        slashed_seen_slot: None,
    }
}

fn slashed(mut v: TrackedValidator, seen: Slot) -> TrackedValidator {
    v.data.validator.slashed = true;
    v.data.status = ValidatorStatus::ActiveSlashed;
    v.data.validator.exit_epoch = Epoch(200);
    v.slashed_seen_slot = Some(seen);
    v
}

fn record(i: u64, status: PodValidatorStatus, last_checkpointed_at: u64) -> PodValidator {
    PodValidator {
        pubkey: pubkey(i),
        pubkey_hash: validator_pubkey_hash(&pubkey(i)),
        index: ValidatorIndex(i),
        restaked_balance: Gwei(32 * ETH),
        last_checkpointed_at,
        status,
    }
}

fn snapshot(validators: Vec<PodValidator>) -> PodSnapshot {
    let active = validators
        .iter()
        .filter(|v| v.status == PodValidatorStatus::Active)
        .count() as u64;
    PodSnapshot {
        pod: POD,
        block_number: 42,
        owner: OWNER,
        manager: None,
        active_validator_count: active,
        last_checkpoint_timestamp: GENESIS,
        current_checkpoint: None,
        withdrawable_restaked: Gwei(0),
        balance: Gwei(0),
        validators,
    }
}

fn checkpoint(timestamp: u64, pod_balance: Gwei) -> CheckpointInProgress {
    CheckpointInProgress {
        timestamp,
        beacon_block_root: restake_beacon::Root::new([1; 32]),
        proofs_remaining: 1,
        pod_balance,
        balance_deltas_gwei: 0,
        prev_beacon_balance: Gwei(32 * ETH),
    }
}

fn run(snapshot: &PodSnapshot, validators: &[TrackedValidator]) -> PodReport {
    reconcile(snapshot, validators, slot_time, &ReconcilePolicy::default())
}

fn only(report: &PodReport, kind: FindingKind) -> &Finding {
    let found: Vec<_> = report.of_kind(kind).collect();
    assert_eq!(found.len(), 1, "{:#?}", report.findings);
    found[0]
}

#[test]
fn a_pod_in_order_has_no_findings_and_a_summary() {
    let validators = [
        tracked(1, POD, ValidatorStatus::ActiveOngoing),
        tracked(2, POD, ValidatorStatus::ActiveOngoing),
        tracked(3, ELSEWHERE, ValidatorStatus::ActiveOngoing),
    ];
    let mut snap = snapshot(vec![
        record(1, PodValidatorStatus::Active, GENESIS),
        record(2, PodValidatorStatus::Active, GENESIS),
    ]);
    snap.balance = Gwei(ETH / 2);
    let report = run(&snap, &validators);
    assert_eq!(report.findings, vec![]);
    assert_eq!(report.worst_severity(), None);
    let s = &report.summary;
    assert_eq!((s.pod, s.owner, s.block_number), (POD, OWNER, 42));
    assert_eq!(s.active_in_pod, 2);
    assert_eq!(s.pointing_on_beacon, 2);
    assert_eq!(s.pointing_and_active_in_pod, 2);
    assert_eq!(s.pointing_not_read, 0);
    assert_eq!(s.unrestaked, Gwei(ETH / 2));
}

#[test]
fn pointing_but_inactive_asks_to_verify_credentials() {
    let validators = [tracked(7, POD, ValidatorStatus::ActiveOngoing)];
    let report = run(
        &snapshot(vec![record(7, PodValidatorStatus::Inactive, 0)]),
        &validators,
    );
    let finding = only(&report, FindingKind::CredentialsNotVerified);
    assert_eq!(finding.severity, Severity::Warning);
    assert_eq!(finding.action, OperatorAction::VerifyWithdrawalCredentials);
    assert_eq!(
        finding.validators,
        vec![FindingValidator {
            index: Some(ValidatorIndex(7)),
            pubkey: pubkey(7)
        }]
    );
    assert!(finding.detail.contains("validator 7"), "{}", finding.detail);
    assert_eq!(report.findings.len(), 1);
}

#[test]
fn pending_validators_are_verified_once_active_and_exiting_ones_are_checkpointed() {
    let validators = [
        tracked(1, POD, ValidatorStatus::PendingQueued),
        tracked(2, POD, ValidatorStatus::ExitedUnslashed),
    ];
    let report = run(
        &snapshot(vec![
            record(1, PodValidatorStatus::Inactive, 0),
            record(2, PodValidatorStatus::Inactive, 0),
        ]),
        &validators,
    );
    let found: Vec<_> = report
        .of_kind(FindingKind::CredentialsNotVerified)
        .collect();
    assert_eq!(found.len(), 2);
    let pending = found
        .iter()
        .find(|f| f.validators[0].pubkey == pubkey(1))
        .unwrap();
    assert_eq!(pending.severity, Severity::Info);
    assert_eq!(
        pending.action,
        OperatorAction::VerifyWithdrawalCredentialsOnceActive
    );
    let exited = found
        .iter()
        .find(|f| f.validators[0].pubkey == pubkey(2))
        .unwrap();
    assert_eq!(exited.severity, Severity::Warning);
    assert_eq!(exited.action, OperatorAction::StartCheckpoint);
}

#[test]
fn validators_pointing_at_the_pod_but_not_read_are_counted_not_judged() {
    let validators = [tracked(1, POD, ValidatorStatus::ActiveOngoing)];
    let report = run(&snapshot(vec![]), &validators);
    assert_eq!(report.findings, vec![]);
    assert_eq!(report.summary.pointing_on_beacon, 1);
    assert_eq!(report.summary.pointing_not_read, 1);
}

#[test]
fn slashing_after_the_last_checkpoint_asks_for_a_stale_balance_proof() {
    let seen = Slot(1000);
    let slashed_at = slot_time(seen).unwrap();
    let validators = [
        slashed(tracked(1, POD, ValidatorStatus::ActiveOngoing), seen),
        slashed(tracked(2, POD, ValidatorStatus::ActiveOngoing), Slot(990)),
        tracked(3, POD, ValidatorStatus::ActiveOngoing),
    ];
    let snap = snapshot(vec![
        record(1, PodValidatorStatus::Active, GENESIS),
        record(2, PodValidatorStatus::Active, GENESIS),
        record(3, PodValidatorStatus::Active, GENESIS),
    ]);
    let report = run(&snap, &validators);
    let finding = only(&report, FindingKind::StaleAfterSlashing);
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(finding.action, OperatorAction::ProveStaleBalance);
    let indices: Vec<_> = finding.validators.iter().map(|v| v.index).collect();
    assert_eq!(
        indices,
        vec![Some(ValidatorIndex(1)), Some(ValidatorIndex(2))]
    );
    assert!(
        finding.detail.contains(&slashed_at.to_string()),
        "{}",
        finding.detail
    );
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
}

#[test]
fn slashing_already_checkpointed_is_not_stale() {
    let seen = Slot(1000);
    let after = slot_time(seen).unwrap() + 1;
    let validators = [slashed(
        tracked(1, POD, ValidatorStatus::ActiveOngoing),
        seen,
    )];
    let mut snap = snapshot(vec![record(1, PodValidatorStatus::Active, after)]);
    snap.last_checkpoint_timestamp = after;
    assert_eq!(run(&snap, &validators).findings, vec![]);
}

#[test]
fn a_checkpoint_in_progress_turns_checkpoint_actions_into_completing_it() {
    let seen = Slot(1000);
    let slashed_at = slot_time(seen).unwrap();
    let validators = [slashed(
        tracked(1, POD, ValidatorStatus::ActiveOngoing),
        seen,
    )];
    let mut snap = snapshot(vec![record(1, PodValidatorStatus::Active, GENESIS)]);
    snap.current_checkpoint = Some(checkpoint(slashed_at + 12, Gwei(0)));
    let report = run(&snap, &validators);
    let finding = only(&report, FindingKind::StaleAfterSlashing);
    assert_eq!(finding.action, OperatorAction::CompleteCheckpoint);
    assert_eq!(finding.severity, Severity::Warning);

    snap.current_checkpoint = Some(checkpoint(slashed_at - 12, Gwei(0)));
    let report = run(&snap, &validators);
    let finding = only(&report, FindingKind::StaleAfterSlashing);
    assert_eq!(finding.action, OperatorAction::CompleteCheckpoint);
    assert_eq!(finding.severity, Severity::Critical);
}

#[test]
fn unrestaked_eth_above_the_threshold_asks_for_a_checkpoint() {
    let mut snap = snapshot(vec![]);
    snap.balance = Gwei(5 * ETH);
    snap.withdrawable_restaked = Gwei(ETH);
    let report = run(&snap, &[]);
    let finding = only(&report, FindingKind::UnrestakedPodBalance);
    assert_eq!(finding.severity, Severity::Warning);
    assert_eq!(finding.action, OperatorAction::StartCheckpoint);
    assert!(finding.validators.is_empty());
    assert_eq!(report.summary.unrestaked, Gwei(4 * ETH));

    // The part already in a checkpoint in progress is not counted again.
    snap.current_checkpoint = Some(checkpoint(GENESIS + 5, Gwei(3 * ETH + 1)));
    let report = run(&snap, &[]);
    assert_eq!(report.summary.unrestaked, Gwei(ETH - 1));
    assert_eq!(report.findings, vec![]);

    // Below the threshold: nothing to do yet.
    snap.current_checkpoint = None;
    let policy = ReconcilePolicy {
        unrestaked_threshold: Gwei(4 * ETH + 1),
    };
    assert_eq!(reconcile(&snap, &[], slot_time, &policy).findings, vec![]);
}

#[test]
fn active_in_pod_but_pointing_elsewhere_is_critical() {
    let validators = [tracked(4, ELSEWHERE, ValidatorStatus::ActiveOngoing)];
    let report = run(
        &snapshot(vec![record(4, PodValidatorStatus::Active, GENESIS)]),
        &validators,
    );
    let finding = only(&report, FindingKind::ActiveInPodNotOnBeacon);
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(finding.action, OperatorAction::Investigate);
    assert!(
        finding.detail.contains(&ELSEWHERE.to_string()),
        "{}",
        finding.detail
    );
    assert_eq!(report.summary.pointing_on_beacon, 0);
}

#[test]
fn active_in_pod_but_unknown_to_the_tracker_is_investigated() {
    let report = run(
        &snapshot(vec![record(9, PodValidatorStatus::Active, GENESIS)]),
        &[],
    );
    let finding = only(&report, FindingKind::ActiveInPodNotOnBeacon);
    assert_eq!(finding.severity, Severity::Warning);
    assert_eq!(finding.action, OperatorAction::Investigate);
    assert_eq!(finding.validators[0].index, Some(ValidatorIndex(9)));
}

#[test]
fn active_in_pod_but_withdrawn_on_the_beacon_chain_asks_for_a_checkpoint() {
    let validators = [tracked(5, POD, ValidatorStatus::WithdrawalDone)];
    let report = run(
        &snapshot(vec![record(5, PodValidatorStatus::Active, GENESIS)]),
        &validators,
    );
    let finding = only(&report, FindingKind::ActiveInPodNotOnBeacon);
    assert_eq!(finding.action, OperatorAction::StartCheckpoint);
    assert_eq!(finding.severity, Severity::Warning);
}

#[test]
fn withdrawn_in_pod_is_not_judged() {
    let validators = [tracked(5, POD, ValidatorStatus::WithdrawalDone)];
    let report = run(
        &snapshot(vec![record(5, PodValidatorStatus::Withdrawn, GENESIS)]),
        &validators,
    );
    assert_eq!(report.findings, vec![]);
}

#[test]
fn a_manager_mapping_the_owner_elsewhere_is_critical() {
    let mut snap = snapshot(vec![]);
    snap.manager = Some(ManagerView {
        manager: ExecutionAddress::new([0xcc; 20]),
        has_pod: true,
        pod_for_owner: ELSEWHERE,
    });
    let report = run(&snap, &[]);
    let finding = only(&report, FindingKind::OwnerPodMismatch);
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(finding.action, OperatorAction::Investigate);

    snap.manager = Some(ManagerView {
        manager: ExecutionAddress::new([0xcc; 20]),
        has_pod: true,
        pod_for_owner: POD,
    });
    assert_eq!(run(&snap, &[]).findings, vec![]);
}

#[test]
fn findings_are_ordered_most_severe_first_and_serialise() {
    let validators = [
        tracked(1, POD, ValidatorStatus::ActiveOngoing),
        tracked(2, ELSEWHERE, ValidatorStatus::ActiveOngoing),
    ];
    let mut snap = snapshot(vec![
        record(1, PodValidatorStatus::Inactive, 0),
        record(2, PodValidatorStatus::Active, GENESIS),
    ]);
    snap.balance = Gwei(2 * ETH);
    let report = run(&snap, &validators);
    let severities: Vec<_> = report.findings.iter().map(|f| f.severity).collect();
    assert_eq!(
        severities,
        vec![Severity::Critical, Severity::Warning, Severity::Warning]
    );
    assert_eq!(report.worst_severity(), Some(Severity::Critical));

    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["findings"][0]["kind"], "active_in_pod_not_on_beacon");
    assert_eq!(json["findings"][0]["action"], "investigate");
    assert_eq!(json["summary"]["pod"], POD.to_string());
    let back: PodReport = serde_json::from_value(json).unwrap();
    assert_eq!(back, report);
}

#[test]
fn kind_names_match_serde_names() {
    for kind in [
        FindingKind::OwnerPodMismatch,
        FindingKind::CredentialsNotVerified,
        FindingKind::StaleAfterSlashing,
        FindingKind::ActiveInPodNotOnBeacon,
        FindingKind::UnrestakedPodBalance,
    ] {
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.name());
        assert!(FindingKind::NAMES.contains(&kind.name()));
    }
}

fn any_beacon_status() -> impl Strategy<Value = ValidatorStatus> {
    prop_oneof![
        Just(ValidatorStatus::PendingInitialized),
        Just(ValidatorStatus::PendingQueued),
        Just(ValidatorStatus::ActiveOngoing),
        Just(ValidatorStatus::ActiveExiting),
        Just(ValidatorStatus::ActiveSlashed),
        Just(ValidatorStatus::ExitedUnslashed),
        Just(ValidatorStatus::ExitedSlashed),
        Just(ValidatorStatus::WithdrawalPossible),
        Just(ValidatorStatus::WithdrawalDone),
    ]
}

fn any_pod_status() -> impl Strategy<Value = Option<PodValidatorStatus>> {
    prop_oneof![
        Just(None),
        Just(Some(PodValidatorStatus::Inactive)),
        Just(Some(PodValidatorStatus::Active)),
        Just(Some(PodValidatorStatus::Withdrawn)),
    ]
}

/// One validator of a generated case: where its credentials point, its beacon status, whether
/// and when it was slashed, and its pod record (if read).
type Case = (
    bool,
    bool,
    ValidatorStatus,
    Option<u64>,
    Option<PodValidatorStatus>,
    u64,
);

fn any_case() -> impl Strategy<Value = Case> {
    (
        any::<bool>(),
        any::<bool>(),
        any_beacon_status(),
        proptest::option::of(any::<u64>()),
        any_pod_status(),
        any::<u64>(),
    )
}

proptest! {
    #[test]
    fn reconcile_never_panics_and_reports_each_unverified_validator_once(
        cases in proptest::collection::vec(any_case(), 0..24),
        balance in any::<u64>(),
        withdrawable in any::<u64>(),
        last_checkpoint in any::<u64>(),
        current in proptest::option::of((any::<u64>(), any::<u64>())),
        threshold in any::<u64>(),
        manager in proptest::option::of((any::<bool>(), any::<bool>())),
    ) {
        let mut validators = Vec::new();
        let mut records = Vec::new();
        for (i, (tracked_by_tracker, points, status, slashed_at, pod_status, checkpointed)) in
            cases.iter().enumerate()
        {
            let i = i as u64;
            if *tracked_by_tracker {
                let mut v = tracked(i, if *points { POD } else { ELSEWHERE }, *status);
                if let Some(seen) = slashed_at {
                    v = slashed(v, Slot(*seen));
                }
                validators.push(v);
            }
            if let Some(pod_status) = pod_status {
                records.push(record(i, *pod_status, *checkpointed));
            }
        }
        let mut snap = snapshot(records);
        snap.balance = Gwei(balance);
        snap.withdrawable_restaked = Gwei(withdrawable);
        snap.last_checkpoint_timestamp = last_checkpoint;
        snap.current_checkpoint = current.map(|(t, b)| checkpoint(t, Gwei(b)));
        snap.manager = manager.map(|(has_pod, same)| ManagerView {
            manager: ExecutionAddress::new([0xcc; 20]),
            has_pod,
            pod_for_owner: if same { POD } else { ELSEWHERE },
        });
        let policy = ReconcilePolicy { unrestaked_threshold: Gwei(threshold) };
        let report = reconcile(&snap, &validators, slot_time, &policy);

        for v in &validators {
            let inactive_here = v.withdrawal_address() == Some(POD)
                && snap
                    .validators
                    .iter()
                    .any(|r| r.pubkey == v.pubkey() && r.status == PodValidatorStatus::Inactive);
            let count = report
                .of_kind(FindingKind::CredentialsNotVerified)
                .filter(|f| f.validators.iter().any(|fv| fv.pubkey == v.pubkey()))
                .count();
            prop_assert_eq!(count, usize::from(inactive_here), "validator {}", v.index());
        }
        prop_assert!(report
            .findings
            .windows(2)
            .all(|w| w[0].severity >= w[1].severity));
        prop_assert!(report.summary.pointing_and_active_in_pod + report.summary.pointing_not_read
            <= report.summary.pointing_on_beacon);
    }
}
