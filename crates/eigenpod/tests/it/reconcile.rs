use std::time::Duration;

use alloy_primitives::{Address, FixedBytes};
use alloy_provider::ProviderBuilder;
use restake_beacon::{
    Root, Validator, ValidatorData, ValidatorStatus,
    tracker::{FAR_FUTURE_EPOCH, Severity, TrackedBecause, TrackedValidator},
};
use restake_eigenpod::{
    bindings::{IEigenPod, validator_pubkey_hash},
    dev::{
        DEV_POD, DEV_POD_MANAGER, DEV_POD_OWNER, DevPodSetup, DevValidator, contracts,
        deploy_dev_pods,
    },
    reconcile::{
        FindingKind, OperatorAction, PodReader, PodValidatorStatus, ReconcilePolicy, reconcile,
    },
};
use restake_types::{
    BlsPublicKey, Epoch, ExecutionAddress, Gwei, Slot, ValidatorIndex, WithdrawalCredentials,
};

use crate::start_anvil;

const ETH: u64 = Gwei::PER_ETH;
const GENESIS: u64 = 1_700_000_000;
const ELSEWHERE: ExecutionAddress = ExecutionAddress::new([0xbb; 20]);
const TIMEOUT: Duration = Duration::from_secs(10);

fn slot_time(slot: Slot) -> Option<u64> {
    Some(GENESIS + 12 * slot.get())
}

fn pubkey(i: u64) -> BlsPublicKey {
    let mut bytes = [0x80u8; 48];
    bytes[40..].copy_from_slice(&i.to_be_bytes());
    BlsPublicKey::new(bytes)
}

fn tracked(i: u64, points_at: ExecutionAddress, status: ValidatorStatus) -> TrackedValidator {
    TrackedValidator {
        data: ValidatorData {
            index: ValidatorIndex(i),
            balance: Gwei(32 * ETH),
            status,
            validator: Validator {
                pubkey: pubkey(i),
                withdrawal_credentials: WithdrawalCredentials::to_address(0x02, points_at),
                effective_balance: Gwei(32 * ETH),
                slashed: false,
                activation_eligibility_epoch: Epoch(0),
                activation_epoch: Epoch(1),
                exit_epoch: FAR_FUTURE_EPOCH,
                withdrawable_epoch: FAR_FUTURE_EPOCH,
            },
        },
        pod: (points_at == DEV_POD).then_some(DEV_POD),
        because: TrackedBecause::Pod,
        updated_slot: Slot(2000),
        slashed_seen_slot: None,
    }
}

fn in_pod(i: u64, status: PodValidatorStatus, last_checkpointed_at: u64) -> DevValidator {
    DevValidator {
        pubkey: pubkey(i),
        index: ValidatorIndex(i),
        status,
        restaked_balance: Gwei(32 * ETH),
        last_checkpointed_at,
    }
}

/// Validators 1–6: (a) 1 points at the pod but is INACTIVE in it; (b) 2 was slashed after the
/// last checkpoint; (d) 3 points elsewhere, 4 is unknown to the tracker, 5 is withdrawn; 6 is in
/// order. (c) 3 ETH sit in the pod, 1 ETH of it credited.
fn scenario() -> (DevPodSetup, Vec<TrackedValidator>) {
    let setup = DevPodSetup {
        validators: vec![
            in_pod(1, PodValidatorStatus::Inactive, 0),
            in_pod(2, PodValidatorStatus::Active, GENESIS),
            in_pod(3, PodValidatorStatus::Active, GENESIS),
            in_pod(4, PodValidatorStatus::Active, GENESIS),
            in_pod(5, PodValidatorStatus::Active, GENESIS),
            in_pod(6, PodValidatorStatus::Active, GENESIS),
        ],
        last_checkpoint_timestamp: GENESIS,
        withdrawable_restaked: Gwei(ETH),
        eth_to_pod: Gwei(3 * ETH),
    };
    let mut slashed = tracked(2, DEV_POD, ValidatorStatus::ActiveSlashed);
    slashed.data.validator.slashed = true;
    slashed.data.validator.exit_epoch = Epoch(300);
    slashed.slashed_seen_slot = Some(Slot(1000));
    let validators = vec![
        tracked(1, DEV_POD, ValidatorStatus::ActiveOngoing),
        slashed,
        tracked(3, ELSEWHERE, ValidatorStatus::ActiveOngoing),
        tracked(5, DEV_POD, ValidatorStatus::WithdrawalDone),
        tracked(6, DEV_POD, ValidatorStatus::ActiveOngoing),
    ];
    (setup, validators)
}

fn indices(finding: &restake_eigenpod::reconcile::Finding) -> Vec<u64> {
    finding
        .validators
        .iter()
        .filter_map(|v| v.index.map(ValidatorIndex::get))
        .collect()
}

#[tokio::test]
async fn reconciles_a_dev_pod_on_anvil_into_every_finding() {
    let anvil = start_anvil().await;
    let (setup, validators) = scenario();
    let pods = deploy_dev_pods(anvil.endpoint(), &setup).await.unwrap();
    assert_eq!(
        (pods.manager, pods.pod, pods.owner),
        (DEV_POD_MANAGER, DEV_POD, DEV_POD_OWNER)
    );

    let reader = PodReader::new(anvil.endpoint(), Some(DEV_POD_MANAGER), TIMEOUT).unwrap();
    let pubkeys: Vec<_> = (1..=6).map(pubkey).collect();
    let snapshot = reader.read(DEV_POD, &pubkeys).await.unwrap();

    assert_eq!(snapshot.pod, DEV_POD);
    assert_eq!(snapshot.owner, DEV_POD_OWNER);
    let manager = snapshot.manager.as_ref().unwrap();
    assert!(manager.has_pod);
    assert_eq!(manager.pod_for_owner, DEV_POD);
    assert_eq!(snapshot.active_validator_count, 5);
    assert_eq!(snapshot.last_checkpoint_timestamp, GENESIS);
    assert_eq!(snapshot.current_checkpoint, None);
    assert_eq!(snapshot.withdrawable_restaked, Gwei(ETH));
    assert_eq!(snapshot.balance, Gwei(3 * ETH));
    assert_eq!(snapshot.validators.len(), 6);
    assert_eq!(snapshot.validators[0].status, PodValidatorStatus::Inactive);
    assert_eq!(snapshot.validators[1].index, ValidatorIndex(2));
    assert_eq!(snapshot.validators[1].restaked_balance, Gwei(32 * ETH));
    assert_eq!(snapshot.validators[1].last_checkpointed_at, GENESIS);
    assert_eq!(snapshot.validators[1].status, PodValidatorStatus::Active);

    let report = reconcile(
        &snapshot,
        &validators,
        slot_time,
        &ReconcilePolicy::default(),
    );

    let kinds: Vec<_> = report
        .findings
        .iter()
        .map(|f| (f.kind, indices(f)))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (FindingKind::StaleAfterSlashing, vec![2]),
            (FindingKind::ActiveInPodNotOnBeacon, vec![3]),
            (FindingKind::CredentialsNotVerified, vec![1]),
            (FindingKind::ActiveInPodNotOnBeacon, vec![4]),
            (FindingKind::ActiveInPodNotOnBeacon, vec![5]),
            (FindingKind::UnrestakedPodBalance, vec![]),
        ],
        "{:#?}",
        report.findings
    );
    let actions: Vec<_> = report
        .findings
        .iter()
        .map(|f| (f.severity, f.action))
        .collect();
    assert_eq!(
        actions,
        vec![
            (Severity::Critical, OperatorAction::ProveStaleBalance),
            (Severity::Critical, OperatorAction::Investigate),
            (
                Severity::Warning,
                OperatorAction::VerifyWithdrawalCredentials
            ),
            (Severity::Warning, OperatorAction::Investigate),
            (Severity::Warning, OperatorAction::StartCheckpoint),
            (Severity::Warning, OperatorAction::StartCheckpoint),
        ]
    );

    let summary = &report.summary;
    assert_eq!(summary.owner, DEV_POD_OWNER);
    assert_eq!(summary.active_in_pod, 5);
    assert_eq!(summary.pointing_on_beacon, 4);
    assert_eq!(summary.pointing_and_active_in_pod, 3);
    assert_eq!(summary.unrestaked, Gwei(2 * ETH));
    assert_eq!(summary.block_number, snapshot.block_number);
}

#[tokio::test]
async fn the_pods_sha256_key_matches_validator_pubkey_hash() {
    let anvil = start_anvil().await;
    let setup = DevPodSetup {
        validators: vec![in_pod(7, PodValidatorStatus::Withdrawn, GENESIS + 7)],
        ..DevPodSetup::default()
    };
    deploy_dev_pods(anvil.endpoint(), &setup).await.unwrap();

    // The test pod hashes the raw key itself, with Solidity's sha256, like EigenPod does.
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint().parse().unwrap());
    let pod = contracts::TestEigenPod::new(Address::from(*DEV_POD.as_bytes()), &provider);
    let by_key = pod
        .validatorPubkeyToInfo(pubkey(7).as_bytes().to_vec().into())
        .call()
        .await
        .unwrap();
    assert_eq!(by_key.validatorIndex, 7);
    assert_eq!(by_key.lastCheckpointedAt, GENESIS + 7);
    assert_eq!(by_key.status, 2);

    let read = IEigenPod::new(Address::from(*DEV_POD.as_bytes()), &provider);
    let hash = FixedBytes::from(*validator_pubkey_hash(&pubkey(7)).as_bytes());
    let by_hash = read.validatorPubkeyHashToInfo(hash).call().await.unwrap();
    assert_eq!(by_hash.validatorIndex, 7);
    assert_eq!(by_hash.status, IEigenPod::VALIDATOR_STATUS::WITHDRAWN);
    let status = read.validatorStatus(hash).call().await.unwrap();
    assert_eq!(status, IEigenPod::VALIDATOR_STATUS::WITHDRAWN);
}

#[tokio::test]
async fn reads_a_checkpoint_in_progress_and_a_manager_that_maps_the_owner_elsewhere() {
    let anvil = start_anvil().await;
    let setup = DevPodSetup {
        eth_to_pod: Gwei(5 * ETH),
        ..DevPodSetup::default()
    };
    deploy_dev_pods(anvil.endpoint(), &setup).await.unwrap();

    // Anvil's accounts are unlocked: the admin (account 0) sends without a local signer.
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint().parse().unwrap());
    let admin = Address::from(*DEV_POD_OWNER.as_bytes());
    let pod = contracts::TestEigenPod::new(Address::from(*DEV_POD.as_bytes()), &provider);
    let in_progress = contracts::TestEigenPod::Checkpoint {
        beaconBlockRoot: FixedBytes::from([9u8; 32]),
        proofsRemaining: alloy_primitives::Uint::from(3u32),
        podBalanceGwei: 4 * ETH,
        balanceDeltasGwei: -5,
        prevBeaconBalanceGwei: 64 * ETH,
    };
    pod.setCurrentCheckpoint(GENESIS + 99, in_progress)
        .from(admin)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let manager =
        contracts::TestEigenPodManager::new(Address::from(*DEV_POD_MANAGER.as_bytes()), &provider);
    manager
        .registerPod(admin, Address::from(*ELSEWHERE.as_bytes()))
        .from(admin)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();

    let reader = PodReader::new(anvil.endpoint(), Some(DEV_POD_MANAGER), TIMEOUT).unwrap();
    let snapshot = reader.read(DEV_POD, &[]).await.unwrap();
    let checkpoint = snapshot.current_checkpoint.as_ref().unwrap();
    assert_eq!(checkpoint.timestamp, GENESIS + 99);
    assert_eq!(checkpoint.beacon_block_root, Root::new([9; 32]));
    assert_eq!(checkpoint.proofs_remaining, 3);
    assert_eq!(checkpoint.pod_balance, Gwei(4 * ETH));
    assert_eq!(checkpoint.balance_deltas_gwei, -5);
    assert_eq!(checkpoint.prev_beacon_balance, Gwei(64 * ETH));

    let report = reconcile(&snapshot, &[], slot_time, &ReconcilePolicy::default());
    let kinds: Vec<_> = report.findings.iter().map(|f| (f.kind, f.action)).collect();
    assert_eq!(
        kinds,
        vec![
            (FindingKind::OwnerPodMismatch, OperatorAction::Investigate),
            (
                FindingKind::UnrestakedPodBalance,
                OperatorAction::CompleteCheckpoint
            ),
        ]
    );
    assert_eq!(report.summary.unrestaked, Gwei(ETH));
    assert_eq!(
        report.summary.current_checkpoint_timestamp,
        Some(GENESIS + 99)
    );
}
