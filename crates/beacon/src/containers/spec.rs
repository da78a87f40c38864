//! The SSZ containers themselves, field for field as in ethereum/consensus-specs (mainnet preset).
//!
//! Field names, order and list limits are the specification's: see `specs/deneb/beacon-chain.md`,
//! `specs/electra/beacon-chain.md`, `specs/fulu/beacon-chain.md` and `presets/mainnet/*.yaml`.
//! Integers are plain `u64` and byte strings plain arrays so the sigp SSZ and tree-hash
//! implementations apply directly; the accessors in the parent module convert to the
//! `restake-types` newtypes.

// Every field is the specification's field of the same name; documenting each again here would
// only copy the spec. The containers are documented, with where to read them.
#![allow(missing_docs)]

use ssz_derive::{Decode, Encode};
use ssz_types::{
    BitVector, FixedVector, VariableList,
    typenum::{
        U4, U32, U64, U512, U2048, U8192, U65536, U262144, U16777216, U134217728, U1099511627776,
    },
};
use tree_hash_derive::TreeHash;

use super::registry::StateField;

/// `Bytes32` / `Root` / `Hash32`.
pub type Bytes32 = [u8; 32];
/// `BLSPubkey`.
pub type BlsPubkey = [u8; 48];
/// `BLSSignature`.
pub type BlsSignatureBytes = [u8; 96];

/// `SLOTS_PER_HISTORICAL_ROOT`.
pub type SlotsPerHistoricalRoot = U8192;
/// `HISTORICAL_ROOTS_LIMIT`.
pub type HistoricalRootsLimit = U16777216;
/// `EPOCHS_PER_ETH1_VOTING_PERIOD * SLOTS_PER_EPOCH` (64 * 32).
pub type Eth1DataVotesLimit = U2048;
/// `VALIDATOR_REGISTRY_LIMIT` (2^40).
pub type ValidatorRegistryLimit = U1099511627776;
/// `EPOCHS_PER_HISTORICAL_VECTOR`.
pub type EpochsPerHistoricalVector = U65536;
/// `EPOCHS_PER_SLASHINGS_VECTOR`.
pub type EpochsPerSlashingsVector = U8192;
/// `JUSTIFICATION_BITS_LENGTH`.
pub type JustificationBitsLength = U4;
/// `SYNC_COMMITTEE_SIZE`.
pub type SyncCommitteeSize = U512;
/// `MAX_EXTRA_DATA_BYTES`.
pub type MaxExtraDataBytes = U32;
/// `PENDING_DEPOSITS_LIMIT` (2^27).
pub type PendingDepositsLimit = U134217728;
/// `PENDING_PARTIAL_WITHDRAWALS_LIMIT` (2^27).
pub type PendingPartialWithdrawalsLimit = U134217728;
/// `PENDING_CONSOLIDATIONS_LIMIT` (2^18).
pub type PendingConsolidationsLimit = U262144;
/// `(MIN_SEED_LOOKAHEAD + 1) * SLOTS_PER_EPOCH` (Fulu's proposer lookahead).
pub type ProposerLookaheadLength = U64;

/// `Fork` (phase 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct Fork {
    pub previous_version: [u8; 4],
    pub current_version: [u8; 4],
    pub epoch: u64,
}

/// `BeaconBlockHeader` (phase 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct BeaconBlockHeader {
    pub slot: u64,
    pub proposer_index: u64,
    pub parent_root: Bytes32,
    pub state_root: Bytes32,
    pub body_root: Bytes32,
}

/// `Eth1Data` (phase 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct Eth1Data {
    pub deposit_root: Bytes32,
    pub deposit_count: u64,
    pub block_hash: Bytes32,
}

/// `Validator` (phase 0; unchanged through Fulu).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct Validator {
    pub pubkey: BlsPubkey,
    pub withdrawal_credentials: Bytes32,
    pub effective_balance: u64,
    pub slashed: bool,
    pub activation_eligibility_epoch: u64,
    pub activation_epoch: u64,
    pub exit_epoch: u64,
    pub withdrawable_epoch: u64,
}

/// `Checkpoint` (phase 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct Checkpoint {
    pub epoch: u64,
    pub root: Bytes32,
}

/// `SyncCommittee` (Altair).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct SyncCommittee {
    pub pubkeys: FixedVector<BlsPubkey, SyncCommitteeSize>,
    pub aggregate_pubkey: BlsPubkey,
}

/// `ExecutionPayloadHeader` (Deneb; Electra and Fulu use it unchanged).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct ExecutionPayloadHeader {
    pub parent_hash: Bytes32,
    pub fee_recipient: [u8; 20],
    pub state_root: Bytes32,
    pub receipts_root: Bytes32,
    pub logs_bloom: [u8; 256],
    pub prev_randao: Bytes32,
    pub block_number: u64,
    pub gas_limit: u64,
    pub gas_used: u64,
    pub timestamp: u64,
    pub extra_data: VariableList<u8, MaxExtraDataBytes>,
    /// `uint256`, little-endian (its SSZ encoding and its tree-hash chunk are these 32 bytes).
    pub base_fee_per_gas: Bytes32,
    pub block_hash: Bytes32,
    pub transactions_root: Bytes32,
    pub withdrawals_root: Bytes32,
    pub blob_gas_used: u64,
    pub excess_blob_gas: u64,
}

/// `HistoricalSummary` (Capella).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct HistoricalSummary {
    pub block_summary_root: Bytes32,
    pub state_summary_root: Bytes32,
}

/// `PendingDeposit` (Electra).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct PendingDeposit {
    pub pubkey: BlsPubkey,
    pub withdrawal_credentials: Bytes32,
    pub amount: u64,
    pub signature: BlsSignatureBytes,
    pub slot: u64,
}

/// `PendingPartialWithdrawal` (Electra).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct PendingPartialWithdrawal {
    pub validator_index: u64,
    pub amount: u64,
    pub withdrawable_epoch: u64,
}

/// `PendingConsolidation` (Electra).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct PendingConsolidation {
    pub source_index: u64,
    pub target_index: u64,
}

/// Declares a `BeaconState` variant: the Deneb fields, then the fork's own. Besides the struct,
/// it writes the container's SSZ layout (`ssz_fields`), field for field from the same list, so
/// the zero-copy [`RegistryView`](super::registry::RegistryView) cannot drift from the struct.
macro_rules! beacon_state {
    ($(#[$meta:meta])* $name:ident { $($extra:ident: $ty:ty,)* }) => {
        beacon_state!(@container $(#[$meta])* $name {
            genesis_time: u64,
            genesis_validators_root: Bytes32,
            slot: u64,
            fork: Fork,
            latest_block_header: BeaconBlockHeader,
            block_roots: FixedVector<Bytes32, SlotsPerHistoricalRoot>,
            state_roots: FixedVector<Bytes32, SlotsPerHistoricalRoot>,
            historical_roots: VariableList<Bytes32, HistoricalRootsLimit>,
            eth1_data: Eth1Data,
            eth1_data_votes: VariableList<Eth1Data, Eth1DataVotesLimit>,
            eth1_deposit_index: u64,
            validators: VariableList<Validator, ValidatorRegistryLimit>,
            balances: VariableList<u64, ValidatorRegistryLimit>,
            randao_mixes: FixedVector<Bytes32, EpochsPerHistoricalVector>,
            slashings: FixedVector<u64, EpochsPerSlashingsVector>,
            previous_epoch_participation: VariableList<u8, ValidatorRegistryLimit>,
            current_epoch_participation: VariableList<u8, ValidatorRegistryLimit>,
            justification_bits: BitVector<JustificationBitsLength>,
            previous_justified_checkpoint: Checkpoint,
            current_justified_checkpoint: Checkpoint,
            finalized_checkpoint: Checkpoint,
            inactivity_scores: VariableList<u64, ValidatorRegistryLimit>,
            current_sync_committee: SyncCommittee,
            next_sync_committee: SyncCommittee,
            latest_execution_payload_header: ExecutionPayloadHeader,
            next_withdrawal_index: u64,
            next_withdrawal_validator_index: u64,
            historical_summaries: VariableList<HistoricalSummary, HistoricalRootsLimit>,
            $($extra: $ty,)*
        });
    };
    (@container $(#[$meta:meta])* $name:ident { $($field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
        pub struct $name {
            $(pub $field: $ty,)*
        }

        impl $name {
            /// The container's fields in SSZ order, with their sizes in the fixed part.
            pub(crate) fn ssz_fields() -> Vec<StateField> {
                vec![$(StateField::of::<$ty>(stringify!($field)),)*]
            }
        }
    };
}

beacon_state!(
    /// `BeaconState` as of Deneb.
    BeaconStateDeneb {}
);

beacon_state!(
    /// `BeaconState` as of Electra: Deneb's fields plus the EIP-6110/7002/7251 queues.
    BeaconStateElectra {
        deposit_requests_start_index: u64,
        deposit_balance_to_consume: u64,
        exit_balance_to_consume: u64,
        earliest_exit_epoch: u64,
        consolidation_balance_to_consume: u64,
        earliest_consolidation_epoch: u64,
        pending_deposits: VariableList<PendingDeposit, PendingDepositsLimit>,
        pending_partial_withdrawals: VariableList<PendingPartialWithdrawal, PendingPartialWithdrawalsLimit>,
        pending_consolidations: VariableList<PendingConsolidation, PendingConsolidationsLimit>,
    }
);

beacon_state!(
    /// `BeaconState` as of Fulu: Electra's fields plus `proposer_lookahead` (EIP-7917).
    BeaconStateFulu {
        deposit_requests_start_index: u64,
        deposit_balance_to_consume: u64,
        exit_balance_to_consume: u64,
        earliest_exit_epoch: u64,
        consolidation_balance_to_consume: u64,
        earliest_consolidation_epoch: u64,
        pending_deposits: VariableList<PendingDeposit, PendingDepositsLimit>,
        pending_partial_withdrawals: VariableList<PendingPartialWithdrawal, PendingPartialWithdrawalsLimit>,
        pending_consolidations: VariableList<PendingConsolidation, PendingConsolidationsLimit>,
        proposer_lookahead: FixedVector<u64, ProposerLookaheadLength>,
    }
);
