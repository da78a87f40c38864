//! EigenPod proofs generated from devnet states (Electra, and Deneb and Fulu states built from
//! the same fields), checked with the crate's verifier and, independently, with the consensus spec's
//! `is_valid_merkle_branch` against `tree_hash` roots; and a Go CLI JSON fixture, constructed
//! here from a devnet state in the shape of Layr-Labs' eigenpod-proofs-generation, read and
//! verified.

#![allow(clippy::unwrap_used)]

use restake_beacon::{
    Root,
    containers::{
        BeaconState, BeaconStateDeneb, BeaconStateElectra, BeaconStateFulu, SignedBeaconBlock,
        spec::BeaconBlockHeader,
    },
};
use restake_devnet::{Devnet, DevnetConfig, Drive};
use restake_eigenpod::{
    proofs::{
        self, MerkleProof, ProofError, ProofVersion, checkpoint_proofs,
        checkpoint_proofs_from_go_json, credential_proofs, credential_proofs_from_go_json,
        stale_balance_proof, verify_checkpoint_proofs, verify_credential_proofs,
        verify_stale_balance_proof,
    },
    tree::StateTree,
};
use restake_types::{Slot, ValidatorIndex};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use tree_hash::TreeHash;

const GENESIS_TIME: u64 = 1_700_000_000;
/// The slot proven: after the scheduled slashing.
const SLOT: u64 = 4;
const SLASH_SLOT: u64 = 3;

fn hash(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(a);
    hasher.update(b);
    hasher.finalize().into()
}

/// `is_valid_merkle_branch` of the consensus specification (phase 0), over a proof's bytes.
fn is_valid_merkle_branch(
    leaf: [u8; 32],
    proof: &MerkleProof,
    depth: usize,
    index: u64,
    root: Root,
) -> bool {
    let branch: Vec<[u8; 32]> = proof
        .as_bytes()
        .chunks(32)
        .map(|c| c.try_into().unwrap())
        .collect();
    if branch.len() != depth || !proof.len().is_multiple_of(32) {
        return false;
    }
    let mut value = leaf;
    for (i, sibling) in branch.iter().enumerate() {
        value = if (index >> i) % 2 == 1 {
            hash(sibling, &value)
        } else {
            hash(&value, sibling)
        };
    }
    value == *root.as_bytes()
}

/// A devnet at `SLOT` (validator 3 slashed at `SLASH_SLOT`, validator 2 before genesis).
async fn devnet() -> Devnet {
    let config = DevnetConfig {
        drive: Drive::Manual,
        genesis_time: Some(GENESIS_TIME),
        slash_slot: Slot(SLASH_SLOT),
        ..Default::default()
    };
    let devnet = Devnet::start(
        config,
        "127.0.0.1:0".parse().unwrap(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    devnet.advance_to(Slot(SLOT + 1)).await.unwrap();
    devnet
}

/// The state after `slot`, its block's header and root.
fn proven_block(devnet: &Devnet, slot: u64) -> (BeaconStateElectra, BeaconBlockHeader, Root) {
    let state = devnet.state_at(Slot(slot)).unwrap();
    let block = SignedBeaconBlock::Electra(Box::new(devnet.block_at(Slot(slot)).unwrap()));
    (state, block.header(), block.block_root())
}

/// The timestamp of the child of the block at `slot` (1-second slots, no skipped slot): the
/// one EIP-4788 answers this block's root for.
fn child_timestamp(slot: u64) -> u64 {
    GENESIS_TIME + slot + 1
}

/// Checks credential proofs with the spec's branch check against `tree_hash` roots.
fn check_credentials_with_the_spec(
    proofs: &proofs::CredentialProofs,
    validators: &[restake_beacon::containers::Validator],
    block_root: Root,
    height: usize,
) {
    let state_root = proofs.state_root_proof.beacon_state_root;
    assert!(is_valid_merkle_branch(
        *state_root.as_bytes(),
        &proofs.state_root_proof.proof,
        3,
        3,
        block_root
    ));
    for proof in &proofs.validators {
        let i = proof.index.get();
        let validator = &validators[i as usize];
        let leaf = validator.tree_hash_root().0;
        assert!(
            is_valid_merkle_branch(leaf, &proof.proof, 41 + height, (11 << 41) | i, state_root),
            "validator {i}"
        );
        assert_eq!(
            proof.fields[1].as_bytes(),
            &validator.withdrawal_credentials
        );
        assert_eq!(
            proof.pubkey_hash(),
            restake_eigenpod::bindings::validator_pubkey_hash(&validator.pubkey())
        );
    }
}

#[tokio::test]
async fn electra_credential_checkpoint_and_stale_balance_proofs_verify_two_ways() {
    let devnet = devnet().await;
    let scenario = devnet.scenario().clone();
    let (state, header, block_root) = proven_block(&devnet, SLOT);
    let validators = state.validators.to_vec();
    let balances = state.balances.to_vec();
    let balances_root = state.balances.tree_hash_root().0;
    let tree = StateTree::new(&BeaconState::Electra(Box::new(state)));
    assert_eq!(proofs::block_root(&header), block_root);

    let mut pod: Vec<ValidatorIndex> = scenario
        .eth1_pod
        .iter()
        .chain(&scenario.compounding_pod)
        .copied()
        .collect();
    pod.sort();
    pod.push(ValidatorIndex(scenario.validator_count - 1));

    let credentials = credential_proofs(&tree, &header, child_timestamp(SLOT), &pod).unwrap();
    assert_eq!(credentials.version, ProofVersion::Pectra);
    assert_eq!(credentials.block_root, block_root);
    assert_eq!(credentials.validators.len(), pod.len());
    assert!(
        credentials
            .validators
            .iter()
            .all(|v| v.proof.len() == 47 * 32)
    );
    verify_credential_proofs(&credentials, block_root).unwrap();
    check_credentials_with_the_spec(&credentials, &validators, block_root, 6);

    let checkpoint = checkpoint_proofs(&tree, &header, &pod).unwrap();
    verify_checkpoint_proofs(&checkpoint, block_root).unwrap();
    assert_eq!(checkpoint.balance_container.root.as_bytes(), &balances_root);
    assert!(is_valid_merkle_branch(
        balances_root,
        &checkpoint.balance_container.proof,
        9,
        (3 << 6) | 12,
        block_root
    ));
    for proof in &checkpoint.balances {
        let i = proof.index.get();
        assert_eq!(proof.balance().get(), balances[i as usize], "validator {i}");
        assert!(
            is_valid_merkle_branch(
                *proof.balance_root.as_bytes(),
                &proof.proof,
                39,
                i / 4,
                checkpoint.balance_container.root
            ),
            "validator {i}"
        );
    }

    for slashed in [scenario.slashed_at_genesis, scenario.slashing.index] {
        let stale = stale_balance_proof(&tree, &header, child_timestamp(SLOT), slashed).unwrap();
        verify_stale_balance_proof(&stale, block_root).unwrap();
        assert!(is_valid_merkle_branch(
            validators[slashed.get() as usize].tree_hash_root().0,
            &stale.validator.proof,
            47,
            (11 << 41) | slashed.get(),
            stale.state_root_proof.beacon_state_root
        ));
    }
    let healthy = scenario.eth1_pod[scenario.eth1_pod.len() - 1];
    assert_eq!(
        stale_balance_proof(&tree, &header, child_timestamp(SLOT), healthy).unwrap_err(),
        ProofError::NotSlashed { index: healthy }
    );

    // Before the slashing's block, validator 3 is not slashed.
    let (before, before_header, _) = proven_block(&devnet, SLASH_SLOT - 1);
    let before = StateTree::new(&BeaconState::Electra(Box::new(before)));
    assert_eq!(
        stale_balance_proof(
            &before,
            &before_header,
            child_timestamp(SLASH_SLOT - 1),
            scenario.slashing.index
        )
        .unwrap_err(),
        ProofError::NotSlashed {
            index: scenario.slashing.index
        }
    );
    devnet.stop().await;
}

#[tokio::test]
async fn generation_refuses_a_header_of_another_state_and_unknown_validators() {
    let devnet = devnet().await;
    let (state, _, _) = proven_block(&devnet, SLOT);
    let (_, other_header, _) = proven_block(&devnet, SLOT - 1);
    let (_, header, _) = proven_block(&devnet, SLOT);
    let tree = StateTree::new(&BeaconState::Electra(Box::new(state)));
    let err = credential_proofs(&tree, &other_header, 0, &[ValidatorIndex(7)]).unwrap_err();
    assert!(
        matches!(err, ProofError::HeaderStateMismatch { .. }),
        "{err:?}"
    );
    let count = devnet.scenario().validator_count;
    assert_eq!(
        checkpoint_proofs(&tree, &header, &[ValidatorIndex(count)]).unwrap_err(),
        ProofError::UnknownValidator {
            index: ValidatorIndex(count)
        }
    );
    devnet.stop().await;
}

/// The Deneb container of the Electra state's Deneb fields (a prefix of Electra's).
fn as_deneb(s: BeaconStateElectra) -> BeaconStateDeneb {
    BeaconStateDeneb {
        genesis_time: s.genesis_time,
        genesis_validators_root: s.genesis_validators_root,
        slot: s.slot,
        fork: s.fork,
        latest_block_header: s.latest_block_header,
        block_roots: s.block_roots,
        state_roots: s.state_roots,
        historical_roots: s.historical_roots,
        eth1_data: s.eth1_data,
        eth1_data_votes: s.eth1_data_votes,
        eth1_deposit_index: s.eth1_deposit_index,
        validators: s.validators,
        balances: s.balances,
        randao_mixes: s.randao_mixes,
        slashings: s.slashings,
        previous_epoch_participation: s.previous_epoch_participation,
        current_epoch_participation: s.current_epoch_participation,
        justification_bits: s.justification_bits,
        previous_justified_checkpoint: s.previous_justified_checkpoint,
        current_justified_checkpoint: s.current_justified_checkpoint,
        finalized_checkpoint: s.finalized_checkpoint,
        inactivity_scores: s.inactivity_scores,
        current_sync_committee: s.current_sync_committee,
        next_sync_committee: s.next_sync_committee,
        latest_execution_payload_header: s.latest_execution_payload_header,
        next_withdrawal_index: s.next_withdrawal_index,
        next_withdrawal_validator_index: s.next_withdrawal_validator_index,
        historical_summaries: s.historical_summaries,
    }
}

/// The Fulu container of the Electra state: its fields plus a `proposer_lookahead`.
fn as_fulu(s: BeaconStateElectra) -> BeaconStateFulu {
    let lookahead: Vec<u64> = (0..64).map(|i| (i * 7) % 256).collect();
    BeaconStateFulu {
        genesis_time: s.genesis_time,
        genesis_validators_root: s.genesis_validators_root,
        slot: s.slot,
        fork: s.fork,
        latest_block_header: s.latest_block_header,
        block_roots: s.block_roots,
        state_roots: s.state_roots,
        historical_roots: s.historical_roots,
        eth1_data: s.eth1_data,
        eth1_data_votes: s.eth1_data_votes,
        eth1_deposit_index: s.eth1_deposit_index,
        validators: s.validators,
        balances: s.balances,
        randao_mixes: s.randao_mixes,
        slashings: s.slashings,
        previous_epoch_participation: s.previous_epoch_participation,
        current_epoch_participation: s.current_epoch_participation,
        justification_bits: s.justification_bits,
        previous_justified_checkpoint: s.previous_justified_checkpoint,
        current_justified_checkpoint: s.current_justified_checkpoint,
        finalized_checkpoint: s.finalized_checkpoint,
        inactivity_scores: s.inactivity_scores,
        current_sync_committee: s.current_sync_committee,
        next_sync_committee: s.next_sync_committee,
        latest_execution_payload_header: s.latest_execution_payload_header,
        next_withdrawal_index: s.next_withdrawal_index,
        next_withdrawal_validator_index: s.next_withdrawal_validator_index,
        historical_summaries: s.historical_summaries,
        deposit_requests_start_index: s.deposit_requests_start_index,
        deposit_balance_to_consume: s.deposit_balance_to_consume,
        exit_balance_to_consume: s.exit_balance_to_consume,
        earliest_exit_epoch: s.earliest_exit_epoch,
        consolidation_balance_to_consume: s.consolidation_balance_to_consume,
        earliest_consolidation_epoch: s.earliest_consolidation_epoch,
        pending_deposits: s.pending_deposits,
        pending_partial_withdrawals: s.pending_partial_withdrawals,
        pending_consolidations: s.pending_consolidations,
        proposer_lookahead: lookahead.try_into().unwrap(),
    }
}

#[tokio::test]
async fn fulu_states_give_pectra_proofs() {
    let devnet = devnet().await;
    let (state, electra_header, _) = proven_block(&devnet, SLOT);
    let fulu = as_fulu(state);
    let validators = fulu.validators.to_vec();
    let state_root = fulu.tree_hash_root().0;
    let tree = StateTree::new(&BeaconState::Fulu(Box::new(fulu)));
    assert_eq!(tree.root().as_bytes(), &state_root);
    let header = BeaconBlockHeader {
        state_root,
        ..electra_header
    };
    let block_root = Root::new(header.tree_hash_root().0);
    let indices = [ValidatorIndex(3), ValidatorIndex(7), ValidatorIndex(8)];

    let credentials = credential_proofs(&tree, &header, child_timestamp(SLOT), &indices).unwrap();
    assert_eq!(credentials.version, ProofVersion::Pectra);
    assert!(
        credentials
            .validators
            .iter()
            .all(|v| v.proof.len() == 47 * 32)
    );
    verify_credential_proofs(&credentials, block_root).unwrap();
    check_credentials_with_the_spec(&credentials, &validators, block_root, 6);

    let checkpoint = checkpoint_proofs(&tree, &header, &indices).unwrap();
    assert_eq!(checkpoint.balance_container.proof.len(), 9 * 32);
    verify_checkpoint_proofs(&checkpoint, block_root).unwrap();
    devnet.stop().await;
}

#[tokio::test]
async fn deneb_states_give_deneb_proofs() {
    let devnet = devnet().await;
    let (state, electra_header, _) = proven_block(&devnet, SLOT);
    let deneb = as_deneb(state);
    let validators = deneb.validators.to_vec();
    let state_root = deneb.tree_hash_root().0;
    let tree = StateTree::new(&BeaconState::Deneb(Box::new(deneb)));
    assert_eq!(tree.root().as_bytes(), &state_root);
    let header = BeaconBlockHeader {
        state_root,
        ..electra_header
    };
    let block_root = Root::new(header.tree_hash_root().0);
    let indices = [ValidatorIndex(3), ValidatorIndex(7), ValidatorIndex(8)];

    let credentials = credential_proofs(&tree, &header, child_timestamp(SLOT), &indices).unwrap();
    assert_eq!(credentials.version, ProofVersion::Deneb);
    assert!(
        credentials
            .validators
            .iter()
            .all(|v| v.proof.len() == 46 * 32)
    );
    verify_credential_proofs(&credentials, block_root).unwrap();
    check_credentials_with_the_spec(&credentials, &validators, block_root, 5);

    let checkpoint = checkpoint_proofs(&tree, &header, &indices).unwrap();
    assert_eq!(checkpoint.balance_container.proof.len(), 8 * 32);
    verify_checkpoint_proofs(&checkpoint, block_root).unwrap();
    devnet.stop().await;
}

fn hex(bytes: &[u8]) -> String {
    format!("0x{}", alloy_primitives::hex::encode(bytes))
}

#[tokio::test]
async fn a_go_cli_fixture_constructed_from_a_devnet_state_verifies() {
    let devnet = devnet().await;
    let (state, header, block_root) = proven_block(&devnet, SLOT);
    let tree = StateTree::new(&BeaconState::Electra(Box::new(state)));
    let indices = [ValidatorIndex(4), ValidatorIndex(7), ValidatorIndex(10)];
    let ours = credential_proofs(&tree, &header, child_timestamp(SLOT), &indices).unwrap();
    let checkpoint = checkpoint_proofs(&tree, &header, &indices).unwrap();

    // Constructed here in the shape the Go CLI writes (it is not output of the Go CLI).
    let credentials_json = serde_json::json!({
        "ValidatorProofs": {
            "stateRootProof": {
                "beaconStateRoot": hex(ours.state_root_proof.beacon_state_root.as_bytes()),
                "proof": hex(ours.state_root_proof.proof.as_bytes()),
            },
            "validatorIndices": ours.validators.iter().map(|v| v.index.get()).collect::<Vec<_>>(),
            "validatorFieldsProofs": ours.validators.iter().map(|v| hex(v.proof.as_bytes())).collect::<Vec<_>>(),
            "validatorFields": ours.validators.iter()
                .map(|v| v.fields.iter().map(|f| hex(f.as_bytes())).collect::<Vec<_>>())
                .collect::<Vec<_>>(),
        },
        "OracleBeaconTimestamp": child_timestamp(SLOT),
    })
    .to_string();
    let read = credential_proofs_from_go_json(&credentials_json).unwrap();
    assert_eq!(read, ours);
    verify_credential_proofs(&read, block_root).unwrap();

    let checkpoint_json = serde_json::json!({
        "validatorBalancesRootProof": {
            "validatorBalanceRoot": hex(checkpoint.balance_container.root.as_bytes()),
            "proof": hex(checkpoint.balance_container.proof.as_bytes()),
        },
        "balanceProofs": checkpoint.balances.iter().map(|b| serde_json::json!({
            // Go's [32]byte: an array of numbers.
            "pubkeyHash": b.pubkey_hash.as_bytes().to_vec(),
            "balanceRoot": hex(b.balance_root.as_bytes()),
            "proof": hex(b.proof.as_bytes()),
        })).collect::<Vec<_>>(),
    })
    .to_string();
    let read = checkpoint_proofs_from_go_json(&checkpoint_json, &indices).unwrap();
    assert_eq!(read, checkpoint);
    verify_checkpoint_proofs(&read, block_root).unwrap();
    devnet.stop().await;
}
