//! Round trips, malformed input and fork mismatches on small synthetic states.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use ssz_types::{BitList, BitVector, FixedVector, VariableList};

use super::{block::*, spec::*, *};

fn validator(i: u8) -> Validator {
    let mut withdrawal_credentials = [0; 32];
    withdrawal_credentials[0] = 0x01;
    withdrawal_credentials[12..].copy_from_slice(&[i; 20]);
    Validator {
        pubkey: [i; 48],
        withdrawal_credentials,
        effective_balance: 32_000_000_000,
        slashed: i == 2,
        activation_eligibility_epoch: 0,
        activation_epoch: 0,
        exit_epoch: u64::MAX,
        withdrawable_epoch: u64::MAX,
    }
}

fn sync_committee() -> SyncCommittee {
    SyncCommittee {
        pubkeys: FixedVector::from_elem([7; 48]),
        aggregate_pubkey: [8; 48],
    }
}

pub(super) fn deneb_state() -> BeaconStateDeneb {
    BeaconStateDeneb {
        genesis_time: 1_700_000_000,
        genesis_validators_root: [1; 32],
        slot: 42,
        fork: Fork {
            previous_version: [4, 0, 0, 0],
            current_version: [5, 0, 0, 0],
            epoch: 0,
        },
        latest_block_header: BeaconBlockHeader {
            slot: 42,
            proposer_index: 3,
            ..BeaconBlockHeader::default()
        },
        block_roots: FixedVector::from_elem([2; 32]),
        state_roots: FixedVector::from_elem([3; 32]),
        historical_roots: VariableList::new(vec![[9; 32]]).unwrap(),
        eth1_data: Eth1Data::default(),
        eth1_data_votes: VariableList::new(vec![Eth1Data::default()]).unwrap(),
        eth1_deposit_index: 4,
        validators: VariableList::new((0..4).map(validator).collect()).unwrap(),
        balances: VariableList::new(vec![32_000_000_001, 31_999_999_999, 1, 0]).unwrap(),
        randao_mixes: FixedVector::from_elem([5; 32]),
        slashings: FixedVector::from_elem(0),
        previous_epoch_participation: VariableList::new(vec![7; 4]).unwrap(),
        current_epoch_participation: VariableList::new(vec![3; 4]).unwrap(),
        justification_bits: BitVector::new(),
        previous_justified_checkpoint: Checkpoint::default(),
        current_justified_checkpoint: Checkpoint::default(),
        finalized_checkpoint: Checkpoint {
            epoch: 1,
            root: [6; 32],
        },
        inactivity_scores: VariableList::new(vec![0; 4]).unwrap(),
        current_sync_committee: sync_committee(),
        next_sync_committee: sync_committee(),
        latest_execution_payload_header: ExecutionPayloadHeader {
            parent_hash: [1; 32],
            fee_recipient: [2; 20],
            state_root: [3; 32],
            receipts_root: [4; 32],
            logs_bloom: [5; 256],
            prev_randao: [6; 32],
            block_number: 7,
            gas_limit: 30_000_000,
            gas_used: 21_000,
            timestamp: 1_700_000_084,
            extra_data: VariableList::new(b"restaked".to_vec()).unwrap(),
            base_fee_per_gas: [7; 32],
            block_hash: [8; 32],
            transactions_root: [9; 32],
            withdrawals_root: [10; 32],
            blob_gas_used: 131_072,
            excess_blob_gas: 0,
        },
        next_withdrawal_index: 5,
        next_withdrawal_validator_index: 1,
        historical_summaries: VariableList::new(vec![HistoricalSummary::default()]).unwrap(),
    }
}

pub(super) fn electra_state() -> BeaconStateElectra {
    let d = deneb_state();
    BeaconStateElectra {
        genesis_time: d.genesis_time,
        genesis_validators_root: d.genesis_validators_root,
        slot: d.slot,
        fork: d.fork,
        latest_block_header: d.latest_block_header,
        block_roots: d.block_roots,
        state_roots: d.state_roots,
        historical_roots: d.historical_roots,
        eth1_data: d.eth1_data,
        eth1_data_votes: d.eth1_data_votes,
        eth1_deposit_index: d.eth1_deposit_index,
        validators: d.validators,
        balances: d.balances,
        randao_mixes: d.randao_mixes,
        slashings: d.slashings,
        previous_epoch_participation: d.previous_epoch_participation,
        current_epoch_participation: d.current_epoch_participation,
        justification_bits: d.justification_bits,
        previous_justified_checkpoint: d.previous_justified_checkpoint,
        current_justified_checkpoint: d.current_justified_checkpoint,
        finalized_checkpoint: d.finalized_checkpoint,
        inactivity_scores: d.inactivity_scores,
        current_sync_committee: d.current_sync_committee,
        next_sync_committee: d.next_sync_committee,
        latest_execution_payload_header: d.latest_execution_payload_header,
        next_withdrawal_index: d.next_withdrawal_index,
        next_withdrawal_validator_index: d.next_withdrawal_validator_index,
        historical_summaries: d.historical_summaries,
        deposit_requests_start_index: u64::MAX,
        deposit_balance_to_consume: 1,
        exit_balance_to_consume: 2,
        earliest_exit_epoch: 3,
        consolidation_balance_to_consume: 4,
        earliest_consolidation_epoch: 5,
        pending_deposits: VariableList::new(vec![PendingDeposit {
            pubkey: [1; 48],
            withdrawal_credentials: [2; 32],
            amount: 32_000_000_000,
            signature: [3; 96],
            slot: 40,
        }])
        .unwrap(),
        pending_partial_withdrawals: VariableList::new(vec![PendingPartialWithdrawal {
            validator_index: 1,
            amount: 2,
            withdrawable_epoch: 3,
        }])
        .unwrap(),
        pending_consolidations: VariableList::new(vec![PendingConsolidation {
            source_index: 0,
            target_index: 1,
        }])
        .unwrap(),
    }
}

pub(super) fn fulu_state() -> BeaconStateFulu {
    let e = electra_state();
    BeaconStateFulu {
        genesis_time: e.genesis_time,
        genesis_validators_root: e.genesis_validators_root,
        slot: e.slot,
        fork: e.fork,
        latest_block_header: e.latest_block_header,
        block_roots: e.block_roots,
        state_roots: e.state_roots,
        historical_roots: e.historical_roots,
        eth1_data: e.eth1_data,
        eth1_data_votes: e.eth1_data_votes,
        eth1_deposit_index: e.eth1_deposit_index,
        validators: e.validators,
        balances: e.balances,
        randao_mixes: e.randao_mixes,
        slashings: e.slashings,
        previous_epoch_participation: e.previous_epoch_participation,
        current_epoch_participation: e.current_epoch_participation,
        justification_bits: e.justification_bits,
        previous_justified_checkpoint: e.previous_justified_checkpoint,
        current_justified_checkpoint: e.current_justified_checkpoint,
        finalized_checkpoint: e.finalized_checkpoint,
        inactivity_scores: e.inactivity_scores,
        current_sync_committee: e.current_sync_committee,
        next_sync_committee: e.next_sync_committee,
        latest_execution_payload_header: e.latest_execution_payload_header,
        next_withdrawal_index: e.next_withdrawal_index,
        next_withdrawal_validator_index: e.next_withdrawal_validator_index,
        historical_summaries: e.historical_summaries,
        deposit_requests_start_index: e.deposit_requests_start_index,
        deposit_balance_to_consume: e.deposit_balance_to_consume,
        exit_balance_to_consume: e.exit_balance_to_consume,
        earliest_exit_epoch: e.earliest_exit_epoch,
        consolidation_balance_to_consume: e.consolidation_balance_to_consume,
        earliest_consolidation_epoch: e.earliest_consolidation_epoch,
        pending_deposits: e.pending_deposits,
        pending_partial_withdrawals: e.pending_partial_withdrawals,
        pending_consolidations: e.pending_consolidations,
        proposer_lookahead: FixedVector::from_elem(3),
    }
}

pub(super) fn states() -> Vec<BeaconState> {
    vec![
        BeaconState::Deneb(Box::new(deneb_state())),
        BeaconState::Electra(Box::new(electra_state())),
        BeaconState::Fulu(Box::new(fulu_state())),
    ]
}

#[test]
fn every_fork_round_trips_through_ssz() {
    for state in states() {
        let bytes = state.as_ssz_bytes();
        let decoded = BeaconState::from_ssz_bytes(state.fork_name(), &bytes).unwrap();
        assert_eq!(decoded, state, "{}", state.fork_name());
        assert_eq!(decoded.hash_tree_root(), state.hash_tree_root());
    }
}

#[test]
fn accessors_convert_to_domain_types() {
    for state in states() {
        assert_eq!(state.slot(), Slot(42));
        assert_eq!(state.genesis_validators_root(), Root::new([1; 32]));
        assert_eq!(state.validators().len(), 4);
        let v2 = state.validator(ValidatorIndex(2)).unwrap();
        assert_eq!(v2.pubkey(), BlsPublicKey::new([2; 48]));
        assert_eq!(v2.withdrawal_credentials().as_bytes()[0], 0x01);
        assert_eq!(v2.withdrawal_credentials().as_bytes()[12..], [2; 20]);
        assert_eq!(v2.effective_balance(), Gwei(32_000_000_000));
        assert!(v2.slashed());
        assert_eq!(v2.activation_epoch(), Epoch(0));
        assert_eq!(v2.exit_epoch(), Epoch(u64::MAX));
        assert_eq!(state.balance(ValidatorIndex(1)), Some(Gwei(31_999_999_999)));
        assert_eq!(state.balance(ValidatorIndex(4)), None);
        assert!(state.validator(ValidatorIndex(u64::MAX)).is_none());
    }
}

#[test]
fn forks_hash_differently() {
    let roots: Vec<Root> = states().iter().map(BeaconState::hash_tree_root).collect();
    assert_ne!(roots[0], roots[1]);
    assert_ne!(roots[1], roots[2]);
}

#[test]
fn zero_header_hashes_to_the_depth_three_zero_hash() {
    // Five zero chunks padded to eight: the well-known zero hash of depth 3.
    let root = BeaconBlockHeader::default().hash_tree_root();
    assert_eq!(
        hex::encode(root.as_bytes()),
        "c78009fdf07fc56a11f122370658a353aaa542ed63e44c4bc15ff4cd105ab33c"
    );
}

#[test]
fn header_round_trips_and_matches_the_api_type() {
    let header = BeaconBlockHeader {
        slot: 9,
        proposer_index: 1,
        parent_root: [1; 32],
        state_root: [2; 32],
        body_root: [3; 32],
    };
    let bytes = ssz::Encode::as_ssz_bytes(&header);
    assert_eq!(bytes.len(), 112);
    assert_eq!(BeaconBlockHeader::decode(&bytes).unwrap(), header);
    assert!(BeaconBlockHeader::decode(&bytes[..111]).is_err());
    let api = crate::BeaconBlockHeader {
        slot: Slot(9),
        proposer_index: ValidatorIndex(1),
        parent_root: Root::new([1; 32]),
        state_root: Root::new([2; 32]),
        body_root: Root::new([3; 32]),
    };
    assert_eq!(api.hash_tree_root(), header.hash_tree_root());
}

#[test]
fn truncated_states_are_errors_naming_fork_and_length() {
    for state in states() {
        let bytes = state.as_ssz_bytes();
        for cut in [0, 1, 100, bytes.len() / 2, bytes.len() - 1] {
            let err = BeaconState::from_ssz_bytes(state.fork_name(), &bytes[..cut]).unwrap_err();
            let Error::SszDecode { fork, len, .. } = &err else {
                panic!("unexpected error {err}");
            };
            assert_eq!((*fork, *len), (state.fork_name(), cut));
            assert!(err.to_string().contains("BeaconState"), "{err}");
        }
    }
}

#[test]
fn a_state_of_another_fork_is_an_error() {
    for state in states() {
        let bytes = state.as_ssz_bytes();
        for fork in [ForkName::Deneb, ForkName::Electra, ForkName::Fulu] {
            if fork != state.fork_name() {
                let result = BeaconState::from_ssz_bytes(fork, &bytes);
                assert!(
                    matches!(result, Err(Error::SszDecode { .. })),
                    "{} bytes decoded as {fork}",
                    state.fork_name()
                );
            }
        }
    }
}

#[test]
fn forks_before_deneb_are_unsupported() {
    let bytes = states()[0].as_ssz_bytes();
    for fork in [
        ForkName::Phase0,
        ForkName::Altair,
        ForkName::Bellatrix,
        ForkName::Capella,
    ] {
        assert!(matches!(
            BeaconState::from_ssz_bytes(fork, &bytes),
            Err(Error::UnsupportedFork { .. })
        ));
    }
}

#[test]
fn garbage_with_a_wild_offset_is_an_error() {
    let mut bytes = states()[1].as_ssz_bytes();
    // The first variable-length field's offset (historical_roots) sits after the fixed fields
    // before it: 8 + 32 + 8 + 16 + 112 + 2 * 8192 * 32.
    let at = 8 + 32 + 8 + 16 + 112 + 2 * 8192 * 32;
    bytes[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(BeaconState::from_ssz_bytes(ForkName::Electra, &bytes).is_err());
}

fn attestation_data() -> AttestationData {
    AttestationData {
        slot: 41,
        index: 0,
        beacon_block_root: [1; 32],
        source: Checkpoint::default(),
        target: Checkpoint {
            epoch: 1,
            root: [2; 32],
        },
    }
}

fn execution_payload() -> ExecutionPayload {
    ExecutionPayload {
        parent_hash: [1; 32],
        fee_recipient: [2; 20],
        state_root: [3; 32],
        receipts_root: [4; 32],
        logs_bloom: [5; 256],
        prev_randao: [6; 32],
        block_number: 7,
        gas_limit: 30_000_000,
        gas_used: 21_000,
        timestamp: 1_700_000_084,
        extra_data: VariableList::new(b"restaked".to_vec()).unwrap(),
        base_fee_per_gas: [7; 32],
        block_hash: [8; 32],
        transactions: VariableList::new(vec![VariableList::new(vec![0xf8; 100]).unwrap()]).unwrap(),
        withdrawals: VariableList::new(vec![Withdrawal {
            index: 1,
            validator_index: 2,
            address: [3; 20],
            amount: 4,
        }])
        .unwrap(),
        blob_gas_used: 131_072,
        excess_blob_gas: 0,
    }
}

fn sync_aggregate() -> SyncAggregate {
    SyncAggregate {
        sync_committee_bits: BitVector::new(),
        sync_committee_signature: [9; 96],
    }
}

fn deneb_block() -> SignedBeaconBlockDeneb {
    SignedBeaconBlockDeneb {
        message: BeaconBlockDeneb {
            slot: 42,
            proposer_index: 3,
            parent_root: [1; 32],
            state_root: [2; 32],
            body: BeaconBlockBodyDeneb {
                randao_reveal: [3; 96],
                eth1_data: Eth1Data::default(),
                graffiti: [4; 32],
                proposer_slashings: VariableList::default(),
                attester_slashings: VariableList::default(),
                attestations: VariableList::new(vec![AttestationDeneb {
                    aggregation_bits: BitList::with_capacity(64).unwrap(),
                    data: attestation_data(),
                    signature: [5; 96],
                }])
                .unwrap(),
                deposits: VariableList::default(),
                voluntary_exits: VariableList::default(),
                sync_aggregate: sync_aggregate(),
                execution_payload: execution_payload(),
                bls_to_execution_changes: VariableList::default(),
                blob_kzg_commitments: VariableList::new(vec![[6; 48], [7; 48]]).unwrap(),
            },
        },
        signature: [8; 96],
    }
}

fn electra_block() -> SignedBeaconBlockElectra {
    SignedBeaconBlockElectra {
        message: BeaconBlockElectra {
            slot: 42,
            proposer_index: 3,
            parent_root: [1; 32],
            state_root: [2; 32],
            body: BeaconBlockBodyElectra {
                randao_reveal: [3; 96],
                eth1_data: Eth1Data::default(),
                graffiti: [4; 32],
                proposer_slashings: VariableList::default(),
                attester_slashings: VariableList::default(),
                attestations: VariableList::new(vec![AttestationElectra {
                    aggregation_bits: BitList::with_capacity(64).unwrap(),
                    data: attestation_data(),
                    signature: [5; 96],
                    committee_bits: BitVector::new(),
                }])
                .unwrap(),
                deposits: VariableList::default(),
                voluntary_exits: VariableList::default(),
                sync_aggregate: sync_aggregate(),
                execution_payload: execution_payload(),
                bls_to_execution_changes: VariableList::default(),
                blob_kzg_commitments: VariableList::new(vec![[6; 48]]).unwrap(),
                execution_requests: ExecutionRequests {
                    deposits: VariableList::default(),
                    withdrawals: VariableList::new(vec![WithdrawalRequest {
                        source_address: [1; 20],
                        validator_pubkey: [2; 48],
                        amount: 0,
                    }])
                    .unwrap(),
                    consolidations: VariableList::default(),
                },
            },
        },
        signature: [8; 96],
    }
}

fn blocks() -> Vec<SignedBeaconBlock> {
    vec![
        SignedBeaconBlock::Deneb(Box::new(deneb_block())),
        SignedBeaconBlock::Electra(Box::new(electra_block())),
        SignedBeaconBlock::Fulu(Box::new(electra_block())),
    ]
}

#[test]
fn blocks_round_trip_and_their_header_hashes_to_the_block_root() {
    for block in blocks() {
        let bytes = block.as_ssz_bytes();
        let decoded = SignedBeaconBlock::from_ssz_bytes(block.fork_name(), &bytes).unwrap();
        assert_eq!(decoded, block);
        assert_eq!(block.header().hash_tree_root(), block.block_root());
        assert_eq!(block.slot(), Slot(42));
        assert_eq!(block.proposer_index(), ValidatorIndex(3));
        assert_eq!(block.state_root(), Root::new([2; 32]));
        assert_eq!(block.parent_root(), Root::new([1; 32]));
    }
    assert_eq!(blocks()[0].blob_kzg_commitments().len(), 2);
}

#[test]
fn malformed_or_wrong_fork_blocks_are_errors() {
    let [deneb, electra] = [0, 1].map(|i| blocks()[i].as_ssz_bytes());
    assert!(SignedBeaconBlock::from_ssz_bytes(ForkName::Electra, &deneb).is_err());
    assert!(SignedBeaconBlock::from_ssz_bytes(ForkName::Deneb, &electra).is_err());
    for cut in [0, 99, electra.len() - 1] {
        let err = SignedBeaconBlock::from_ssz_bytes(ForkName::Electra, &electra[..cut]);
        assert!(matches!(
            err,
            Err(Error::SszDecode {
                container: "SignedBeaconBlock",
                ..
            })
        ));
    }
    assert!(matches!(
        SignedBeaconBlock::from_ssz_bytes(ForkName::Capella, &electra),
        Err(Error::UnsupportedFork { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn decoding_arbitrary_bytes_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        fork in proptest::sample::select(ForkName::ALL.to_vec()),
    ) {
        let _ = BeaconState::from_ssz_bytes(fork, &bytes);
        let _ = BeaconBlockHeader::decode(&bytes);
        let _ = SignedBeaconBlock::from_ssz_bytes(fork, &bytes);
    }

    #[test]
    fn corrupting_a_valid_state_never_panics(
        index in 0usize..1_000_000,
        value in any::<u8>(),
        which in 0usize..3,
    ) {
        let state = &states()[which];
        let mut bytes = state.as_ssz_bytes();
        let i = index % bytes.len();
        bytes[i] = value;
        if let Ok(decoded) = BeaconState::from_ssz_bytes(state.fork_name(), &bytes) {
            prop_assert_eq!(decoded.as_ssz_bytes(), bytes);
        }
        let block = &blocks()[which % 2];
        let mut bytes = block.as_ssz_bytes();
        let i = index % bytes.len();
        bytes[i] = value;
        let _ = SignedBeaconBlock::from_ssz_bytes(block.fork_name(), &bytes);
    }
}
