//! The state tree cache against `hash_tree_root` and the spec's branch check: generated states
//! of every fork, real devnet states, and random mutations moved to with `update`.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;

use proptest::prelude::*;
use restake_beacon::{
    ForkName, Root,
    containers::{
        BeaconState, BeaconStateDeneb, BeaconStateElectra, BeaconStateFulu, Validator,
        spec::{
            BeaconBlockHeader, Checkpoint, Eth1Data, ExecutionPayloadHeader, Fork,
            HistoricalSummary, PendingDeposit, PendingPartialWithdrawal, SyncCommittee,
        },
    },
};
use restake_devnet::{Devnet, DevnetConfig, Drive};
use restake_eigenpod::tree::StateTree;
use restake_types::{Slot, ValidatorIndex};
use sha2::{Digest, Sha256};
use ssz_types::{BitVector, FixedVector, VariableList};
use tokio_util::sync::CancellationToken;

/// The position of `validators` among the state's fields.
const VALIDATORS_FIELD: u64 = 11;
/// The position of `balances` among the state's fields.
const BALANCES_FIELD: u64 = 12;
/// The depth of the registry's data tree.
const VALIDATORS_DEPTH: usize = 40;
/// The depth of the balances' data tree.
const BALANCES_DEPTH: usize = 38;

fn hash(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(a);
    hasher.update(b);
    hasher.finalize().into()
}

/// `is_valid_merkle_branch` of the consensus specification (phase 0).
fn is_valid_merkle_branch(
    leaf: Root,
    branch: &[Root],
    depth: usize,
    index: u64,
    root: Root,
) -> bool {
    if branch.len() != depth {
        return false;
    }
    let mut value = *leaf.as_bytes();
    for (i, sibling) in branch.iter().enumerate() {
        value = if (index >> i) % 2 == 1 {
            hash(sibling.as_bytes(), &value)
        } else {
            hash(&value, sibling.as_bytes())
        };
    }
    value == *root.as_bytes()
}

fn validator(i: usize) -> Validator {
    let byte = i as u8;
    let mut withdrawal_credentials = [0; 32];
    withdrawal_credentials[0] = 0x01 + (byte % 2);
    withdrawal_credentials[12..].copy_from_slice(&[byte; 20]);
    Validator {
        pubkey: [byte.wrapping_mul(7); 48],
        withdrawal_credentials,
        effective_balance: 32_000_000_000 + (i as u64 % 3) * 1_000_000_000,
        slashed: i % 11 == 3,
        activation_eligibility_epoch: i as u64,
        activation_epoch: i as u64 + 4,
        exit_epoch: if i.is_multiple_of(5) {
            100 + i as u64
        } else {
            u64::MAX
        },
        withdrawable_epoch: u64::MAX,
    }
}

fn sync_committee(seed: u8) -> SyncCommittee {
    SyncCommittee {
        pubkeys: FixedVector::from_elem([seed; 48]),
        aggregate_pubkey: [seed.wrapping_add(1); 48],
    }
}

/// A Deneb state with `count` validators and something in every field.
fn deneb_state(count: usize) -> BeaconStateDeneb {
    BeaconStateDeneb {
        genesis_time: 1_700_000_000,
        genesis_validators_root: [1; 32],
        slot: 4242,
        fork: Fork {
            previous_version: [4, 0, 0, 0],
            current_version: [5, 0, 0, 0],
            epoch: 7,
        },
        latest_block_header: BeaconBlockHeader {
            slot: 4242,
            proposer_index: 3,
            parent_root: [2; 32],
            state_root: [0; 32],
            body_root: [3; 32],
        },
        block_roots: FixedVector::from_elem([2; 32]),
        state_roots: FixedVector::from_elem([3; 32]),
        historical_roots: VariableList::new(vec![[9; 32]; 3]).unwrap(),
        eth1_data: Eth1Data {
            deposit_root: [4; 32],
            deposit_count: count as u64,
            block_hash: [5; 32],
        },
        eth1_data_votes: VariableList::new(vec![Eth1Data::default(); 2]).unwrap(),
        eth1_deposit_index: count as u64,
        validators: VariableList::new((0..count).map(validator).collect()).unwrap(),
        balances: VariableList::new((0..count).map(|i| 32_000_000_000 + i as u64).collect())
            .unwrap(),
        randao_mixes: FixedVector::from_elem([5; 32]),
        slashings: FixedVector::from_elem(1),
        previous_epoch_participation: VariableList::new(vec![7; count]).unwrap(),
        current_epoch_participation: VariableList::new(vec![3; count]).unwrap(),
        justification_bits: BitVector::new(),
        previous_justified_checkpoint: Checkpoint::default(),
        current_justified_checkpoint: Checkpoint {
            epoch: 2,
            root: [6; 32],
        },
        finalized_checkpoint: Checkpoint {
            epoch: 1,
            root: [7; 32],
        },
        inactivity_scores: VariableList::new(vec![2; count]).unwrap(),
        current_sync_committee: sync_committee(8),
        next_sync_committee: sync_committee(9),
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
        historical_summaries: VariableList::new(vec![HistoricalSummary::default(); 2]).unwrap(),
    }
}

/// Declares the conversion of a Deneb state into a later fork's, the Deneb fields moved over and
/// the fork's own set by `$extra`.
macro_rules! later_fork {
    ($name:ident, $ty:ident { $($extra:ident: $value:expr,)* }) => {
        fn $name(count: usize) -> $ty {
            let d = deneb_state(count);
            $ty {
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
                $($extra: $value,)*
            }
        }
    };
}

later_fork!(
    electra_state,
    BeaconStateElectra {
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
            amount: 5,
            withdrawable_epoch: 9,
        }])
        .unwrap(),
        pending_consolidations: VariableList::default(),
    }
);

later_fork!(
    fulu_state,
    BeaconStateFulu {
        deposit_requests_start_index: u64::MAX,
        deposit_balance_to_consume: 1,
        exit_balance_to_consume: 2,
        earliest_exit_epoch: 3,
        consolidation_balance_to_consume: 4,
        earliest_consolidation_epoch: 5,
        pending_deposits: VariableList::default(),
        pending_partial_withdrawals: VariableList::default(),
        pending_consolidations: VariableList::default(),
        proposer_lookahead: FixedVector::from_elem(17),
    }
);

/// A state of `fork` with `count` validators.
fn state(fork: ForkName, count: usize) -> BeaconState {
    match fork {
        ForkName::Deneb => BeaconState::Deneb(Box::new(deneb_state(count))),
        ForkName::Electra => BeaconState::Electra(Box::new(electra_state(count))),
        _ => BeaconState::Fulu(Box::new(fulu_state(count))),
    }
}

const FORKS: [ForkName; 3] = [ForkName::Deneb, ForkName::Electra, ForkName::Fulu];

/// Checks every field's branch, and the validator and balance branches of `indices`, against
/// the tree's root, and that root against `state`'s `hash_tree_root`.
fn assert_branches_verify(tree: &StateTree, state: &BeaconState, indices: &[u64]) {
    let root = tree.root();
    assert_eq!(root, state.hash_tree_root());
    let height = tree.field_tree_height();
    let field_count = match tree.fork() {
        ForkName::Deneb => 28,
        ForkName::Electra => 37,
        _ => 38,
    };
    for field in 0..field_count {
        let leaf = tree.field_root(field).unwrap();
        let branch = tree.field_branch(field).unwrap();
        assert!(
            is_valid_merkle_branch(leaf, &branch, height, field as u64, root),
            "field {field}"
        );
    }
    assert_eq!(tree.field_root(field_count), None);
    assert_eq!(tree.field_branch(field_count), None);

    let validators_branch = tree.field_branch(VALIDATORS_FIELD as usize).unwrap();
    let balances_branch = tree.field_branch(BALANCES_FIELD as usize).unwrap();
    for &i in indices {
        let index = ValidatorIndex(i);
        // The validator, through the registry, then through the fields.
        let mut branch = tree.validator_branch(index).unwrap();
        assert_eq!(branch.len(), VALIDATORS_DEPTH + 1);
        let leaf = tree.validator_root(index).unwrap();
        assert!(is_valid_merkle_branch(
            leaf,
            &branch,
            VALIDATORS_DEPTH + 1,
            i,
            tree.field_root(VALIDATORS_FIELD as usize).unwrap()
        ));
        branch.extend_from_slice(&validators_branch);
        let gindex_bits = i | (VALIDATORS_FIELD << (VALIDATORS_DEPTH + 1));
        assert!(
            is_valid_merkle_branch(
                leaf,
                &branch,
                VALIDATORS_DEPTH + 1 + height,
                gindex_bits,
                root
            ),
            "validator {i}"
        );

        // A field of the validator (its withdrawal credentials), through the container first.
        let fields = tree.validator_fields(index).unwrap();
        let expected = state.validator(index).unwrap();
        assert_eq!(fields[1].as_bytes(), &expected.withdrawal_credentials);
        let pair = |a: usize, b: usize| Root::new(hash(fields[a].as_bytes(), fields[b].as_bytes()));
        let container = [
            fields[0],
            pair(2, 3),
            Root::new(hash(pair(4, 5).as_bytes(), pair(6, 7).as_bytes())),
        ];
        let mut full = container.to_vec();
        full.extend_from_slice(&branch);
        assert!(
            is_valid_merkle_branch(
                fields[1],
                &full,
                3 + branch.len(),
                (gindex_bits << 3) | 1,
                root
            ),
            "withdrawal credentials of {i}"
        );

        // The balance, through the balances, then through the fields.
        let chunk = tree.balance_chunk(index).unwrap();
        let at = (i % 4) as usize * 8;
        let balance = u64::from_le_bytes(chunk.as_bytes()[at..at + 8].try_into().unwrap());
        assert_eq!(Some(balance), state.balance(index).map(|b| b.0));
        let mut branch = tree.balance_branch(index).unwrap();
        assert_eq!(branch.len(), BALANCES_DEPTH + 1);
        branch.extend_from_slice(&balances_branch);
        assert!(
            is_valid_merkle_branch(
                chunk,
                &branch,
                BALANCES_DEPTH + 1 + height,
                (i / 4) | (BALANCES_FIELD << (BALANCES_DEPTH + 1)),
                root
            ),
            "balance {i}"
        );
    }
}

/// Every index of a registry of `count`, or a spread of them when it is long.
fn some_indices(count: u64) -> Vec<u64> {
    if count <= 64 {
        (0..count).collect()
    } else {
        let mut indices: Vec<u64> = (0..count).step_by((count / 32) as usize).collect();
        indices.push(count - 1);
        indices
    }
}

#[test]
fn root_is_the_hash_tree_root_for_every_fork() {
    for fork in FORKS {
        for count in [0, 1, 2, 3, 4, 5, 17, 1000, 2049] {
            let state = state(fork, count);
            let tree = StateTree::new(&state);
            assert_eq!(
                tree.root(),
                state.hash_tree_root(),
                "{fork}, {count} validators"
            );
            assert_eq!(tree.fork(), fork);
            assert_eq!(tree.slot(), Slot(4242));
            assert_eq!(tree.validator_count(), count as u64);
            assert_eq!(
                tree.field_tree_height(),
                if fork == ForkName::Deneb { 5 } else { 6 }
            );
        }
    }
}

#[test]
fn every_branch_verifies_against_the_state_root() {
    for fork in FORKS {
        for count in [1, 6, 300] {
            let state = state(fork, count);
            let tree = StateTree::new(&state);
            assert_branches_verify(&tree, &state, &some_indices(count as u64));
        }
    }
}

#[test]
fn indices_past_the_registry_have_no_branch() {
    let tree = StateTree::new(&state(ForkName::Electra, 6));
    for i in [6, 7, 8, u64::MAX] {
        let index = ValidatorIndex(i);
        assert_eq!(tree.validator_root(index), None);
        assert_eq!(tree.validator_fields(index), None);
        assert_eq!(tree.validator_branch(index), None);
        // Index 7 shares a chunk with validator 4 and 5 but has no balance.
        assert_eq!(tree.balance_chunk(index), None);
        assert_eq!(tree.balance_branch(index), None);
    }
    let empty = StateTree::new(&state(ForkName::Deneb, 0));
    assert_eq!(empty.validator_branch(ValidatorIndex(0)), None);
    assert_eq!(empty.balance_branch(ValidatorIndex(0)), None);
}

#[test]
fn another_fork_or_a_shorter_registry_is_hashed_anew() {
    let mut tree = StateTree::new(&state(ForkName::Electra, 20));
    for (fork, count) in [
        (ForkName::Fulu, 20),
        (ForkName::Fulu, 7),
        (ForkName::Deneb, 9),
    ] {
        let next = state(fork, count);
        tree.update(&next);
        assert_eq!(tree.fork(), fork);
        assert_eq!(tree.validator_count(), count as u64);
        assert_branches_verify(&tree, &next, &some_indices(count as u64));
    }
}

/// One change to a state.
#[derive(Clone, Debug)]
enum Mutation {
    Balance { index: usize, balance: u64 },
    EffectiveBalance { index: usize, gwei: u64 },
    Exit { index: usize, epoch: u64 },
    Credentials { index: usize, byte: u8 },
    Append { count: usize },
    Slot { slot: u64 },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<u64>()).prop_map(|(index, balance)| Mutation::Balance { index, balance }),
        1 => (any::<usize>(), any::<u64>()).prop_map(|(index, gwei)| Mutation::EffectiveBalance { index, gwei }),
        1 => (any::<usize>(), any::<u64>()).prop_map(|(index, epoch)| Mutation::Exit { index, epoch }),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(index, byte)| Mutation::Credentials { index, byte }),
        1 => (1usize..40).prop_map(|count| Mutation::Append { count }),
        1 => any::<u64>().prop_map(|slot| Mutation::Slot { slot }),
    ]
}

/// Applies `mutations` to `state` (indices taken modulo the registry's length).
fn mutate(state: &mut BeaconState, mutations: &[Mutation]) {
    macro_rules! apply {
        ($s:expr) => {{
            let s = $s;
            for m in mutations {
                let len = s.validators.len().max(1);
                match *m {
                    Mutation::Balance { index, balance } => {
                        if let Some(b) = s.balances.get_mut(index % len) {
                            *b = balance;
                        }
                    }
                    Mutation::EffectiveBalance { index, gwei } => {
                        if let Some(v) = s.validators.get_mut(index % len) {
                            v.effective_balance = gwei;
                        }
                    }
                    Mutation::Exit { index, epoch } => {
                        if let Some(v) = s.validators.get_mut(index % len) {
                            v.exit_epoch = epoch;
                            v.withdrawable_epoch = epoch.saturating_add(256);
                        }
                    }
                    Mutation::Credentials { index, byte } => {
                        if let Some(v) = s.validators.get_mut(index % len) {
                            v.withdrawal_credentials = [byte; 32];
                        }
                    }
                    Mutation::Append { count } => {
                        for k in 0..count {
                            let i = s.validators.len();
                            s.validators.push(validator(i + k)).unwrap();
                            s.balances.push(31_000_000_000 + k as u64).unwrap();
                            s.previous_epoch_participation.push(0).unwrap();
                            s.current_epoch_participation.push(0).unwrap();
                            s.inactivity_scores.push(0).unwrap();
                        }
                    }
                    Mutation::Slot { slot } => s.slot = slot,
                }
            }
        }};
    }
    match state {
        BeaconState::Deneb(s) => apply!(s),
        BeaconState::Electra(s) => apply!(s),
        BeaconState::Fulu(s) => apply!(s),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20))]

    #[test]
    fn update_gives_the_roots_and_branches_of_a_new_tree(
        fork in prop::sample::select(FORKS.to_vec()),
        count in 0usize..80,
        rounds in prop::collection::vec(prop::collection::vec(mutation(), 0..12), 1..4),
    ) {
        let mut state = state(fork, count);
        let mut tree = StateTree::new(&state);
        for mutations in rounds {
            mutate(&mut state, &mutations);
            tree.update(&state);
            let fresh = StateTree::new(&state);
            // `new` itself is checked against `hash_tree_root` above.
            prop_assert_eq!(tree.root(), fresh.root());
            prop_assert_eq!(tree.slot(), state.slot());
            prop_assert_eq!(tree.validator_count(), fresh.validator_count());
            for field in 0..40 {
                prop_assert_eq!(tree.field_branch(field), fresh.field_branch(field));
            }
            for i in 0..tree.validator_count() + 4 {
                let index = ValidatorIndex(i);
                prop_assert_eq!(tree.validator_fields(index), fresh.validator_fields(index));
                prop_assert_eq!(tree.validator_branch(index), fresh.validator_branch(index));
                prop_assert_eq!(tree.balance_chunk(index), fresh.balance_chunk(index));
                prop_assert_eq!(tree.balance_branch(index), fresh.balance_branch(index));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_matches_devnet_states_and_their_block_headers() {
    let config = DevnetConfig {
        drive: Drive::Manual,
        genesis_time: Some(1_700_000_000),
        ..DevnetConfig::default()
    };
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let devnet = Devnet::start(config, addr, CancellationToken::new())
        .await
        .unwrap();
    let mut updated: Option<StateTree> = None;
    // Across the scenario's events (a credential change, a slashing, an exit, an activation)
    // and two epoch boundaries.
    for slot in [1, 2, 5, 9, 31, 32, 33, 64, 70] {
        devnet.advance_to(Slot(slot)).await.unwrap();
        let state = BeaconState::Electra(Box::new(devnet.state_at(Slot(slot)).unwrap()));
        let header_state_root = Root::new(devnet.block_at(Slot(slot)).unwrap().message.state_root);
        let (fresh, updated_tree, state) = tokio::task::spawn_blocking(move || {
            let fresh = StateTree::new(&state);
            let mut tree = updated.unwrap_or_else(|| fresh.clone());
            tree.update(&state);
            (fresh, tree, state)
        })
        .await
        .unwrap();
        assert_eq!(fresh.root(), state.hash_tree_root(), "slot {slot}");
        assert_eq!(
            fresh.root(),
            header_state_root,
            "slot {slot}: the block's state_root"
        );
        assert_eq!(
            updated_tree.root(),
            header_state_root,
            "slot {slot}, updated"
        );
        assert_eq!(fresh.slot(), Slot(slot));
        assert_branches_verify(
            &updated_tree,
            &state,
            &some_indices(fresh.validator_count()),
        );
        updated = Some(updated_tree);
    }
    devnet.stop().await;
}
