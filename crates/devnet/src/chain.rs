//! The simulated chain: genesis, one block per slot, and the state transition the devnet
//! applies, a subset of the consensus spec's.
//!
//! Kept as in the spec (`process_slot`, `process_block_header`): `slot`, `latest_block_header`,
//! `block_roots`, `state_roots`, and each block's `state_root` is the real `hash_tree_root` of
//! its post-state (whose `latest_block_header.state_root` is zero, as the spec leaves it), so a
//! header's `state_root` matches the served state and a block root is the `hash_tree_root` of
//! the block message. The execution payload header follows the block's payload.
//!
//! What is simplified is listed in the crate documentation.

use std::sync::Arc;

use restake_beacon::{
    ValidatorStatus,
    containers::{
        block::{
            BeaconBlockBodyElectra, BeaconBlockElectra, BlsToExecutionChange, ExecutionPayload,
            ExecutionRequests, ProposerSlashing, SignedBeaconBlockElectra, SignedBeaconBlockHeader,
            SignedBlsToExecutionChange, SignedVoluntaryExit, SyncAggregate, VoluntaryExit,
        },
        spec::{
            BeaconBlockHeader, BeaconStateElectra, Checkpoint, Eth1Data, ExecutionPayloadHeader,
            Fork, SyncCommittee, Validator, ValidatorRegistryLimit,
        },
    },
};
use restake_types::{ValidatorIndex, WithdrawalCredentials};
use sha2::{Digest, Sha256};
use ssz_types::{BitVector, FixedVector, VariableList};
use tree_hash::TreeHash;

use crate::{
    blobs::{self, BlobCommitment},
    error::DevnetError,
    merkle::{self, ConstantRoots, Node},
    scenario::Scenario,
};

/// `SLOTS_PER_EPOCH` (mainnet preset).
pub(crate) const SLOTS_PER_EPOCH: u64 = 32;
/// `SLOTS_PER_HISTORICAL_ROOT` (mainnet preset).
pub(crate) const SLOTS_PER_HISTORICAL_ROOT: u64 = 8192;
/// `FAR_FUTURE_EPOCH`.
pub(crate) const FAR_FUTURE_EPOCH: u64 = u64::MAX;
/// One ether in Gwei (`EFFECTIVE_BALANCE_INCREMENT`).
pub(crate) const ETH: u64 = 1_000_000_000;
/// `MIN_ACTIVATION_BALANCE`: also the effective-balance cap of `0x00`/`0x01` credentials.
pub(crate) const MIN_ACTIVATION_BALANCE: u64 = 32 * ETH;
/// `MAX_EFFECTIVE_BALANCE_ELECTRA`: the cap of compounding (`0x02`) credentials.
pub(crate) const MAX_EFFECTIVE_BALANCE: u64 = 2048 * ETH;
/// `EPOCHS_PER_SLASHINGS_VECTOR`.
pub(crate) const EPOCHS_PER_SLASHINGS_VECTOR: u64 = 8192;
/// `MAX_SEED_LOOKAHEAD`.
pub(crate) const MAX_SEED_LOOKAHEAD: u64 = 4;
/// `MIN_VALIDATOR_WITHDRAWABILITY_DELAY`.
pub(crate) const MIN_VALIDATOR_WITHDRAWABILITY_DELAY: u64 = 256;
/// `MIN_PER_EPOCH_CHURN_LIMIT_ELECTRA`.
const MIN_PER_EPOCH_CHURN_LIMIT: u64 = 128 * ETH;
/// `MAX_PER_EPOCH_ACTIVATION_EXIT_CHURN_LIMIT`.
const MAX_PER_EPOCH_ACTIVATION_EXIT_CHURN_LIMIT: u64 = 256 * ETH;
/// `CHURN_LIMIT_QUOTIENT`.
const CHURN_LIMIT_QUOTIENT: u64 = 65_536;
/// What the devnet's slashing takes from the balance at once.
pub(crate) const SLASHING_PENALTY: u64 = ETH;
/// What an active slashed validator loses each epoch.
const SLASHED_EPOCH_PENALTY: u64 = 5_000;
/// The gas limit of every execution payload.
const GAS_LIMIT: u64 = 30_000_000;
/// `GAS_PER_BLOB`.
const GAS_PER_BLOB: u64 = 131_072;

/// `GENESIS_FORK_VERSION` of the devnet; later forks count up the first byte.
pub(crate) const GENESIS_FORK_VERSION: [u8; 4] = [0x00, 0x00, 0x00, 0x64];
/// `ELECTRA_FORK_VERSION` of the devnet: the fork of every state and block it serves.
pub(crate) const ELECTRA_FORK_VERSION: [u8; 4] = [0x05, 0x00, 0x00, 0x64];

/// What stays fixed for the life of the chain.
#[derive(Debug)]
pub(crate) struct ChainParams {
    /// Seconds since the Unix epoch.
    pub(crate) genesis_time: u64,
    /// `SECONDS_PER_SLOT`.
    pub(crate) seconds_per_slot: u64,
    /// `hash_tree_root` of the genesis registry.
    pub(crate) genesis_validators_root: Node,
    /// Who plays which part.
    pub(crate) scenario: Scenario,
    sync_committee: SyncCommittee,
    constant_roots: ConstantRoots,
}

impl ChainParams {
    /// The parameters for `scenario`; the genesis registry is hashed here.
    pub(crate) fn new(
        scenario: Scenario,
        genesis_time: u64,
        seconds_per_slot: u64,
    ) -> Result<(Self, Vec<Validator>, Vec<u64>), DevnetError> {
        let (validators, balances): (Vec<Validator>, Vec<u64>) =
            scenario.genesis_registry().into_iter().unzip();
        let registry: VariableList<Validator, ValidatorRegistryLimit> =
            list(validators.clone(), "validators", 0)?;
        let genesis_validators_root = registry.tree_hash_root().0;
        let count = scenario.validator_count;
        let pubkeys = (0..512u64)
            .map(|i| *Scenario::pubkey(ValidatorIndex(i % count)).as_bytes())
            .collect::<Vec<_>>();
        let mut aggregate_pubkey = *Scenario::pubkey(ValidatorIndex(u64::MAX)).as_bytes();
        aggregate_pubkey[47] ^= 0xa5;
        let sync_committee = SyncCommittee {
            pubkeys: FixedVector::new(pubkeys)
                .map_err(|e| container_error("sync committee", 0, e))?,
            aggregate_pubkey,
        };
        let params = Self {
            genesis_time,
            seconds_per_slot,
            genesis_validators_root,
            scenario,
            constant_roots: ConstantRoots::new(&sync_committee),
            sync_committee,
        };
        Ok((params, validators, balances))
    }

    /// `hash_tree_root` of the state of `snapshot`.
    fn state_root(&self, snapshot: &Snapshot, window: &RootWindow) -> Result<Node, DevnetError> {
        Ok(merkle::state_root(
            &beacon_state(self, snapshot, window)?,
            &self.constant_roots,
        ))
    }

    fn timestamp(&self, slot: u64) -> u64 {
        self.genesis_time
            .saturating_add(slot.saturating_mul(self.seconds_per_slot))
    }
}

/// What a state holds beyond the chain's constants, per slot: cheap to keep for many slots
/// (the registry and balances are shared between slots until they change).
#[derive(Clone, Debug)]
pub(crate) struct Snapshot {
    /// The state's slot.
    pub(crate) slot: u64,
    /// As the spec leaves it after the block: `state_root` zero.
    pub(crate) latest_block_header: BeaconBlockHeader,
    /// The registry.
    pub(crate) validators: Arc<Vec<Validator>>,
    /// The actual balances.
    pub(crate) balances: Arc<Vec<u64>>,
    pub(crate) previous_justified: Checkpoint,
    pub(crate) current_justified: Checkpoint,
    pub(crate) finalized: Checkpoint,
    justification_bits: [bool; 4],
    /// Non-zero entries of `slashings`, by vector position.
    slashings: Vec<(u64, u64)>,
    latest_execution_payload_header: ExecutionPayloadHeader,
    earliest_exit_epoch: u64,
    exit_balance_to_consume: u64,
}

impl Snapshot {
    /// The state's epoch.
    pub(crate) fn epoch(&self) -> u64 {
        self.slot / SLOTS_PER_EPOCH
    }
}

/// Block and state roots of the slots before a state's (at most `SLOTS_PER_HISTORICAL_ROOT`),
/// oldest first: what its `block_roots` and `state_roots` vectors hold.
#[derive(Clone, Debug, Default)]
pub(crate) struct RootWindow {
    /// The slot of `roots[0]`.
    pub(crate) first_slot: u64,
    /// `(block root, state root)` of consecutive slots.
    pub(crate) roots: Vec<(Node, Node)>,
}

impl RootWindow {
    fn block_root(&self, slot: u64) -> Option<Node> {
        let offset = usize::try_from(slot.checked_sub(self.first_slot)?).ok()?;
        self.roots.get(offset).map(|(block, _)| *block)
    }
}

/// One slot of the chain: the post-state (as a snapshot), its block and roots, and the KZG
/// commitments of the block's blobs.
#[derive(Debug)]
pub(crate) struct SlotRecord {
    pub(crate) snapshot: Snapshot,
    pub(crate) block: SignedBeaconBlockElectra,
    /// `hash_tree_root(block.message)`.
    pub(crate) block_root: Node,
    /// `hash_tree_root(post-state)` = `block.message.state_root`.
    pub(crate) state_root: Node,
    pub(crate) blobs: Vec<BlobCommitment>,
}

impl SlotRecord {
    /// The slot.
    pub(crate) fn slot(&self) -> u64 {
        self.snapshot.slot
    }
}

/// The genesis slot: the registry, an empty genesis block, and their roots.
pub(crate) fn genesis(
    params: &ChainParams,
    validators: Vec<Validator>,
    balances: Vec<u64>,
) -> Result<SlotRecord, DevnetError> {
    let body = empty_body();
    let earliest_exit_epoch = validators
        .iter()
        .map(|v| v.exit_epoch)
        .filter(|e| *e != FAR_FUTURE_EPOCH)
        .max()
        .map_or(0, |e| e + 1);
    let snapshot = Snapshot {
        slot: 0,
        latest_block_header: BeaconBlockHeader {
            body_root: body.tree_hash_root().0,
            ..BeaconBlockHeader::default()
        },
        validators: Arc::new(validators),
        balances: Arc::new(balances),
        previous_justified: Checkpoint::default(),
        current_justified: Checkpoint::default(),
        finalized: Checkpoint::default(),
        justification_bits: [false; 4],
        slashings: Vec::new(),
        latest_execution_payload_header: ExecutionPayloadHeader {
            block_hash: execution_block_hash(0),
            timestamp: params.genesis_time,
            gas_limit: GAS_LIMIT,
            ..empty_payload_header()
        },
        earliest_exit_epoch,
        exit_balance_to_consume: 0,
    };
    let state_root = params.state_root(&snapshot, &RootWindow::default())?;
    let message = BeaconBlockElectra {
        slot: 0,
        proposer_index: 0,
        parent_root: [0; 32],
        state_root,
        body,
    };
    Ok(SlotRecord {
        block_root: message.tree_hash_root().0,
        block: SignedBeaconBlockElectra {
            message,
            signature: [0; 96],
        },
        snapshot,
        state_root,
        blobs: Vec::new(),
    })
}

/// The next slot after `parent`: `window` holds the roots of the slots before it (up to and
/// including `parent`'s). CPU-heavy (hashes the whole state): run it off the async runtime.
pub(crate) fn produce(
    params: &ChainParams,
    parent: &SlotRecord,
    window: &RootWindow,
) -> Result<SlotRecord, DevnetError> {
    let slot = parent.slot() + 1;
    let mut state = parent.snapshot.clone();
    if slot.is_multiple_of(SLOTS_PER_EPOCH) {
        process_epoch(params, &mut state, window, slot / SLOTS_PER_EPOCH);
    }
    state.slot = slot;
    let scenario = &params.scenario;
    let epoch = state.epoch();
    let mut body = empty_body();
    body.graffiti[..14].copy_from_slice(b"restake-devnet");

    if slot == scenario.slashing.slot.get() {
        let index = scenario.slashing.index.get();
        let header = |body_root: u8| SignedBeaconBlockHeader {
            message: BeaconBlockHeader {
                slot,
                proposer_index: index,
                parent_root: parent.block_root,
                state_root: [0; 32],
                body_root: [body_root; 32],
            },
            signature: [0; 96],
        };
        body.proposer_slashings = list(
            vec![ProposerSlashing {
                signed_header_1: header(1),
                signed_header_2: header(2),
            }],
            "proposer_slashings",
            slot,
        )?;
        slash_validator(&mut state, index, epoch);
    }
    if slot == scenario.exit.slot.get() {
        let index = scenario.exit.index.get();
        body.voluntary_exits = list(
            vec![SignedVoluntaryExit {
                message: VoluntaryExit {
                    epoch,
                    validator_index: index,
                },
                signature: [0; 96],
            }],
            "voluntary_exits",
            slot,
        )?;
        initiate_validator_exit(&mut state, index, epoch);
    }
    if slot == scenario.bls_change.slot.get() {
        let index = scenario.bls_change.index;
        body.bls_to_execution_changes = list(
            vec![SignedBlsToExecutionChange {
                message: BlsToExecutionChange {
                    validator_index: index.get(),
                    from_bls_pubkey: *Scenario::withdrawal_pubkey(index).as_bytes(),
                    to_execution_address: *scenario.pod.as_bytes(),
                },
                signature: [0; 96],
            }],
            "bls_to_execution_changes",
            slot,
        )?;
        if let Some(validator) = validator_mut(&mut state, index.get()) {
            validator.withdrawal_credentials =
                *WithdrawalCredentials::to_address(0x01, scenario.pod).as_bytes();
        }
    }

    let blobs = (0..blobs::blob_count(slot))
        .map(|index| blobs::commit(slot, index))
        .collect::<Result<Vec<_>, _>>()?;
    body.blob_kzg_commitments = list(
        blobs.iter().map(|b| b.commitment).collect(),
        "blob_kzg_commitments",
        slot,
    )?;
    body.execution_payload = ExecutionPayload {
        parent_hash: state.latest_execution_payload_header.block_hash,
        block_number: slot,
        gas_limit: GAS_LIMIT,
        timestamp: params.timestamp(slot),
        base_fee_per_gas: base_fee(),
        block_hash: execution_block_hash(slot),
        blob_gas_used: GAS_PER_BLOB * blobs.len() as u64,
        ..empty_payload()
    };
    state.latest_execution_payload_header = payload_header(&body.execution_payload);

    let proposer_index = slot % params.scenario.validator_count;
    state.latest_block_header = BeaconBlockHeader {
        slot,
        proposer_index,
        parent_root: parent.block_root,
        state_root: [0; 32],
        body_root: body.tree_hash_root().0,
    };
    let state_root = params.state_root(&state, window)?;
    let message = BeaconBlockElectra {
        slot,
        proposer_index,
        parent_root: parent.block_root,
        state_root,
        body,
    };
    Ok(SlotRecord {
        block_root: message.tree_hash_root().0,
        block: SignedBeaconBlockElectra {
            message,
            signature: [0; 96],
        },
        snapshot: state,
        state_root,
        blobs,
    })
}

/// The whole Electra state of `snapshot`; `window` holds the roots of the slots before it.
pub(crate) fn beacon_state(
    params: &ChainParams,
    snapshot: &Snapshot,
    window: &RootWindow,
) -> Result<BeaconStateElectra, DevnetError> {
    let slot = snapshot.slot;
    let ring = SLOTS_PER_HISTORICAL_ROOT as usize;
    let mut block_roots = vec![[0u8; 32]; ring];
    let mut state_roots = vec![[0u8; 32]; ring];
    for (offset, (block_root, state_root)) in window.roots.iter().enumerate() {
        let root_slot = window.first_slot + offset as u64;
        if root_slot < slot && root_slot + SLOTS_PER_HISTORICAL_ROOT >= slot {
            // Below SLOTS_PER_HISTORICAL_ROOT: fits any usize.
            let position = (root_slot % SLOTS_PER_HISTORICAL_ROOT) as usize;
            block_roots[position] = *block_root;
            state_roots[position] = *state_root;
        }
    }
    let mut slashings = vec![0u64; EPOCHS_PER_SLASHINGS_VECTOR as usize];
    for (position, amount) in &snapshot.slashings {
        if let Some(entry) = usize::try_from(*position)
            .ok()
            .and_then(|p| slashings.get_mut(p))
        {
            *entry = *amount;
        }
    }
    let count = snapshot.validators.len();
    let mut justification_bits = BitVector::new();
    for (i, bit) in snapshot.justification_bits.iter().enumerate() {
        justification_bits
            .set(i, *bit)
            .map_err(|e| container_error("justification_bits", slot, e))?;
    }
    let n = params.scenario.validator_count;
    Ok(BeaconStateElectra {
        genesis_time: params.genesis_time,
        genesis_validators_root: params.genesis_validators_root,
        slot,
        fork: Fork {
            previous_version: ELECTRA_FORK_VERSION,
            current_version: ELECTRA_FORK_VERSION,
            epoch: 0,
        },
        latest_block_header: snapshot.latest_block_header,
        block_roots: fixed(block_roots, "block_roots", slot)?,
        state_roots: fixed(state_roots, "state_roots", slot)?,
        historical_roots: VariableList::empty(),
        eth1_data: Eth1Data {
            deposit_root: [0; 32],
            deposit_count: n,
            block_hash: [0; 32],
        },
        eth1_data_votes: VariableList::empty(),
        eth1_deposit_index: n,
        validators: list(snapshot.validators.to_vec(), "validators", slot)?,
        balances: list(snapshot.balances.to_vec(), "balances", slot)?,
        randao_mixes: FixedVector::from_elem([0; 32]),
        slashings: fixed(slashings, "slashings", slot)?,
        previous_epoch_participation: list(vec![0; count], "previous_epoch_participation", slot)?,
        current_epoch_participation: list(vec![0; count], "current_epoch_participation", slot)?,
        justification_bits,
        previous_justified_checkpoint: snapshot.previous_justified,
        current_justified_checkpoint: snapshot.current_justified,
        finalized_checkpoint: snapshot.finalized,
        inactivity_scores: list(vec![0; count], "inactivity_scores", slot)?,
        current_sync_committee: params.sync_committee.clone(),
        next_sync_committee: params.sync_committee.clone(),
        latest_execution_payload_header: snapshot.latest_execution_payload_header.clone(),
        next_withdrawal_index: 0,
        next_withdrawal_validator_index: 0,
        historical_summaries: VariableList::empty(),
        // `UNSET_DEPOSIT_REQUESTS_START_INDEX`: no deposit requests yet.
        deposit_requests_start_index: u64::MAX,
        deposit_balance_to_consume: 0,
        exit_balance_to_consume: snapshot.exit_balance_to_consume,
        earliest_exit_epoch: snapshot.earliest_exit_epoch,
        consolidation_balance_to_consume: 0,
        earliest_consolidation_epoch: 0,
        pending_deposits: VariableList::empty(),
        pending_partial_withdrawals: VariableList::empty(),
        pending_consolidations: VariableList::empty(),
    })
}

/// The Beacon API status of `validator` with `balance` at `epoch` (the API's "validator status
/// specification").
pub(crate) fn validator_status(validator: &Validator, balance: u64, epoch: u64) -> ValidatorStatus {
    if validator.activation_epoch > epoch {
        if validator.activation_eligibility_epoch == FAR_FUTURE_EPOCH {
            ValidatorStatus::PendingInitialized
        } else {
            ValidatorStatus::PendingQueued
        }
    } else if epoch < validator.exit_epoch {
        if validator.slashed {
            ValidatorStatus::ActiveSlashed
        } else if validator.exit_epoch != FAR_FUTURE_EPOCH {
            ValidatorStatus::ActiveExiting
        } else {
            ValidatorStatus::ActiveOngoing
        }
    } else if epoch < validator.withdrawable_epoch {
        if validator.slashed {
            ValidatorStatus::ExitedSlashed
        } else {
            ValidatorStatus::ExitedUnslashed
        }
    } else if balance == 0 {
        ValidatorStatus::WithdrawalDone
    } else {
        ValidatorStatus::WithdrawalPossible
    }
}

/// The spec's empty `BeaconBlockBody` (Electra), as in the genesis block.
pub(crate) fn empty_body() -> BeaconBlockBodyElectra {
    let mut infinity = [0u8; 96];
    infinity[0] = 0xc0;
    BeaconBlockBodyElectra {
        randao_reveal: [0; 96],
        eth1_data: Eth1Data::default(),
        graffiti: [0; 32],
        proposer_slashings: VariableList::empty(),
        attester_slashings: VariableList::empty(),
        attestations: VariableList::empty(),
        deposits: VariableList::empty(),
        voluntary_exits: VariableList::empty(),
        sync_aggregate: SyncAggregate {
            sync_committee_bits: BitVector::new(),
            sync_committee_signature: infinity,
        },
        execution_payload: empty_payload(),
        bls_to_execution_changes: VariableList::empty(),
        blob_kzg_commitments: VariableList::empty(),
        execution_requests: ExecutionRequests {
            deposits: VariableList::empty(),
            withdrawals: VariableList::empty(),
            consolidations: VariableList::empty(),
        },
    }
}

fn empty_payload() -> ExecutionPayload {
    ExecutionPayload {
        parent_hash: [0; 32],
        fee_recipient: [0; 20],
        state_root: [0; 32],
        receipts_root: [0; 32],
        logs_bloom: [0; 256],
        prev_randao: [0; 32],
        block_number: 0,
        gas_limit: 0,
        gas_used: 0,
        timestamp: 0,
        extra_data: VariableList::empty(),
        base_fee_per_gas: [0; 32],
        block_hash: [0; 32],
        transactions: VariableList::empty(),
        withdrawals: VariableList::empty(),
        blob_gas_used: 0,
        excess_blob_gas: 0,
    }
}

fn empty_payload_header() -> ExecutionPayloadHeader {
    payload_header(&empty_payload())
}

/// `process_execution_payload`'s header of `payload`.
fn payload_header(payload: &ExecutionPayload) -> ExecutionPayloadHeader {
    ExecutionPayloadHeader {
        parent_hash: payload.parent_hash,
        fee_recipient: payload.fee_recipient,
        state_root: payload.state_root,
        receipts_root: payload.receipts_root,
        logs_bloom: payload.logs_bloom,
        prev_randao: payload.prev_randao,
        block_number: payload.block_number,
        gas_limit: payload.gas_limit,
        gas_used: payload.gas_used,
        timestamp: payload.timestamp,
        extra_data: payload.extra_data.clone(),
        base_fee_per_gas: payload.base_fee_per_gas,
        block_hash: payload.block_hash,
        transactions_root: payload.transactions.tree_hash_root().0,
        withdrawals_root: payload.withdrawals.tree_hash_root().0,
        blob_gas_used: payload.blob_gas_used,
        excess_blob_gas: payload.excess_blob_gas,
    }
}

/// 7 wei, little-endian `uint256`.
fn base_fee() -> [u8; 32] {
    let mut fee = [0u8; 32];
    fee[0] = 7;
    fee
}

/// The (made-up) execution block hash at `slot`.
fn execution_block_hash(slot: u64) -> Node {
    Sha256::new()
        .chain_update(b"restake-devnet execution block")
        .chain_update(slot.to_le_bytes())
        .finalize()
        .into()
}

/// Epoch processing at the boundary into `next_epoch` (the state is still at the last slot of
/// the epoch before).
fn process_epoch(params: &ChainParams, state: &mut Snapshot, window: &RootWindow, next_epoch: u64) {
    let ending = next_epoch - 1;
    // Justification and finalization (simplified: see the module docs).
    let checkpoint = |epoch: u64| Checkpoint {
        epoch,
        root: window
            .block_root(epoch * SLOTS_PER_EPOCH)
            .unwrap_or_default(),
    };
    state.previous_justified = state.current_justified;
    state.current_justified = checkpoint(ending);
    if let Some(finalized) = ending.checked_sub(1) {
        state.finalized = checkpoint(finalized);
    }
    let bits = state.justification_bits;
    state.justification_bits = [true, true, bits[1], bits[2]];

    // Rewards and penalties.
    let balances = Arc::make_mut(&mut state.balances);
    for (index, (validator, balance)) in
        state.validators.iter().zip(balances.iter_mut()).enumerate()
    {
        if validator.activation_epoch <= ending && ending < validator.exit_epoch {
            if validator.slashed {
                *balance = balance.saturating_sub(SLASHED_EPOCH_PENALTY);
            } else {
                *balance += 1_000 + (index as u64 % 16) * 250;
            }
        }
    }

    // Registry updates: the scenario's pending validator.
    let pending = params.scenario.pending;
    if next_epoch + 1 == pending.activation_epoch.get()
        && let Some(validator) = validator_mut(state, pending.index.get())
    {
        validator.activation_eligibility_epoch = next_epoch;
        validator.activation_epoch = pending.activation_epoch.get();
    }

    // Effective balances, with the spec's hysteresis.
    let balances = Arc::clone(&state.balances);
    let validators = Arc::make_mut(&mut state.validators);
    for (validator, balance) in validators.iter_mut().zip(balances.iter()) {
        let cap = if validator.withdrawal_credentials[0] == 0x02 {
            MAX_EFFECTIVE_BALANCE
        } else {
            MIN_ACTIVATION_BALANCE
        };
        let downward = ETH / 4;
        let upward = ETH / 4 * 5;
        if balance + downward < validator.effective_balance
            || validator.effective_balance + upward < *balance
        {
            validator.effective_balance = (balance - balance % ETH).min(cap);
        }
    }

    // Slashings reset.
    let position = next_epoch % EPOCHS_PER_SLASHINGS_VECTOR;
    state.slashings.retain(|(p, _)| *p != position);
}

fn validator_mut(state: &mut Snapshot, index: u64) -> Option<&mut Validator> {
    let index = usize::try_from(index).ok()?;
    Arc::make_mut(&mut state.validators).get_mut(index)
}

/// The spec's `get_activation_exit_churn_limit` (Electra).
fn activation_exit_churn_limit(state: &Snapshot, epoch: u64) -> u64 {
    let total_active: u64 = state
        .validators
        .iter()
        .filter(|v| v.activation_epoch <= epoch && epoch < v.exit_epoch)
        .map(|v| v.effective_balance)
        .sum::<u64>()
        .max(ETH);
    let churn = MIN_PER_EPOCH_CHURN_LIMIT.max(total_active / CHURN_LIMIT_QUOTIENT);
    (churn - churn % ETH).min(MAX_PER_EPOCH_ACTIVATION_EXIT_CHURN_LIMIT)
}

/// The spec's `initiate_validator_exit` with `compute_exit_epoch_and_update_churn` (Electra).
fn initiate_validator_exit(state: &mut Snapshot, index: u64, epoch: u64) {
    let Some(exit_balance) = usize::try_from(index)
        .ok()
        .and_then(|i| state.validators.get(i))
        .filter(|v| v.exit_epoch == FAR_FUTURE_EPOCH)
        .map(|v| v.effective_balance)
    else {
        return;
    };
    let per_epoch_churn = activation_exit_churn_limit(state, epoch);
    let mut earliest = state
        .earliest_exit_epoch
        .max(epoch + 1 + MAX_SEED_LOOKAHEAD);
    let mut to_consume = if state.earliest_exit_epoch < earliest {
        per_epoch_churn
    } else {
        state.exit_balance_to_consume
    };
    if exit_balance > to_consume {
        let additional = (exit_balance - to_consume - 1) / per_epoch_churn + 1;
        earliest += additional;
        to_consume += additional * per_epoch_churn;
    }
    state.exit_balance_to_consume = to_consume - exit_balance;
    state.earliest_exit_epoch = earliest;
    if let Some(validator) = validator_mut(state, index) {
        validator.exit_epoch = earliest;
        validator.withdrawable_epoch = earliest + MIN_VALIDATOR_WITHDRAWABILITY_DELAY;
    }
}

/// The spec's `slash_validator`, with the devnet's flat penalty.
fn slash_validator(state: &mut Snapshot, index: u64, epoch: u64) {
    initiate_validator_exit(state, index, epoch);
    let Some(validator) = validator_mut(state, index) else {
        return;
    };
    validator.slashed = true;
    validator.withdrawable_epoch = validator
        .withdrawable_epoch
        .max(epoch + EPOCHS_PER_SLASHINGS_VECTOR);
    let effective_balance = validator.effective_balance;
    let position = epoch % EPOCHS_PER_SLASHINGS_VECTOR;
    match state.slashings.iter_mut().find(|(p, _)| *p == position) {
        Some((_, amount)) => *amount += effective_balance,
        None => state.slashings.push((position, effective_balance)),
    }
    if let Some(balance) = usize::try_from(index)
        .ok()
        .and_then(|i| Arc::make_mut(&mut state.balances).get_mut(i))
    {
        *balance = balance.saturating_sub(SLASHING_PENALTY);
    }
}

fn container_error(container: &'static str, slot: u64, error: impl std::fmt::Debug) -> DevnetError {
    DevnetError::Container {
        container,
        slot,
        reason: format!("{error:?}"),
    }
}

fn list<T, N: ssz_types::typenum::Unsigned>(
    items: Vec<T>,
    container: &'static str,
    slot: u64,
) -> Result<VariableList<T, N>, DevnetError> {
    VariableList::new(items).map_err(|e| container_error(container, slot, e))
}

fn fixed<T, N: ssz_types::typenum::Unsigned>(
    items: Vec<T>,
    container: &'static str,
    slot: u64,
) -> Result<FixedVector<T, N>, DevnetError> {
    FixedVector::new(items).map_err(|e| container_error(container, slot, e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use restake_types::Slot;

    use super::*;
    use crate::config::DevnetConfig;

    fn chain(config: &DevnetConfig) -> (ChainParams, SlotRecord) {
        let (params, validators, balances) =
            ChainParams::new(Scenario::new(config), 1_700_000_000, 1).unwrap();
        let genesis = genesis(&params, validators, balances).unwrap();
        (params, genesis)
    }

    /// Produces `slots` slots after genesis; the full `tree_hash_root` of the states at
    /// `check` must equal the cached computation's.
    fn run(config: &DevnetConfig, slots: u64, check: &[u64]) -> Vec<SlotRecord> {
        let (params, genesis) = chain(config);
        let full = |record: &SlotRecord, window: &RootWindow| {
            beacon_state(&params, &record.snapshot, window)
                .unwrap()
                .tree_hash_root()
                .0
        };
        assert_eq!(full(&genesis, &RootWindow::default()), genesis.state_root);
        let mut window = RootWindow::default();
        let mut records = vec![genesis];
        for _ in 0..slots {
            let parent = records.last().unwrap();
            window.roots.push((parent.block_root, parent.state_root));
            let next = produce(&params, parent, &window).unwrap();
            assert_eq!(next.block.message.parent_root, parent.block_root);
            if check.contains(&next.slot()) {
                assert_eq!(
                    full(&next, &window),
                    next.state_root,
                    "slot {}",
                    next.slot()
                );
            }
            records.push(next);
        }
        records
    }

    #[test]
    fn cached_state_roots_equal_full_hashing_across_epochs_and_operations() {
        let config = DevnetConfig {
            bls_change_slot: Slot(2),
            slash_slot: Slot(3),
            exit_slot: Slot(4),
            ..DevnetConfig::default()
        };
        let records = run(&config, 34, &[1, 2, 3, 4, 32, 33]);
        let head = records.last().unwrap();
        let state = &head.snapshot;
        assert_eq!(state.current_justified.epoch, 0);
        assert_eq!(state.current_justified.root, records[0].block_root);
        assert!(state.validators[3].slashed);
        assert_eq!(state.validators[4].exit_epoch, 5);
    }

    #[test]
    fn statuses_follow_the_api_rules() {
        let mut v = Scenario::new(&DevnetConfig::default()).genesis_registry()[0].0;
        assert_eq!(validator_status(&v, 1, 0), ValidatorStatus::ActiveOngoing);
        v.exit_epoch = 5;
        v.withdrawable_epoch = 10;
        assert_eq!(validator_status(&v, 1, 4), ValidatorStatus::ActiveExiting);
        assert_eq!(validator_status(&v, 1, 5), ValidatorStatus::ExitedUnslashed);
        assert_eq!(
            validator_status(&v, 1, 10),
            ValidatorStatus::WithdrawalPossible
        );
        assert_eq!(validator_status(&v, 0, 10), ValidatorStatus::WithdrawalDone);
        v.slashed = true;
        assert_eq!(validator_status(&v, 1, 4), ValidatorStatus::ActiveSlashed);
        assert_eq!(validator_status(&v, 1, 5), ValidatorStatus::ExitedSlashed);
        v.activation_epoch = FAR_FUTURE_EPOCH;
        v.activation_eligibility_epoch = FAR_FUTURE_EPOCH;
        assert_eq!(
            validator_status(&v, 1, 4),
            ValidatorStatus::PendingInitialized
        );
        v.activation_eligibility_epoch = 3;
        assert_eq!(validator_status(&v, 1, 4), ValidatorStatus::PendingQueued);
    }
}
