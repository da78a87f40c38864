//! Block containers of Deneb and Electra, field for field as in ethereum/consensus-specs
//! (mainnet preset): `SignedBeaconBlock`, `BeaconBlock`, `BeaconBlockBody` and what they hold.

// Every field is the specification's field of the same name; the containers say where to read
// them.
#![allow(missing_docs)]

use ssz_derive::{Decode, Encode};
use ssz_types::{
    BitList, BitVector, FixedVector, VariableList,
    typenum::{
        U1, U2, U8, U16, U32, U33, U64, U128, U512, U2048, U4096, U8192, U131072, U1048576,
        U1073741824,
    },
};
use tree_hash_derive::TreeHash;

use super::spec::{BeaconBlockHeader, BlsPubkey, BlsSignatureBytes, Bytes32, Checkpoint, Eth1Data};

/// `SignedBeaconBlockHeader` (phase 0).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct SignedBeaconBlockHeader {
    pub message: BeaconBlockHeader,
    pub signature: BlsSignatureBytes,
}

/// `ProposerSlashing` (phase 0).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct ProposerSlashing {
    pub signed_header_1: SignedBeaconBlockHeader,
    pub signed_header_2: SignedBeaconBlockHeader,
}

/// `AttestationData` (phase 0).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct AttestationData {
    pub slot: u64,
    pub index: u64,
    pub beacon_block_root: Bytes32,
    pub source: Checkpoint,
    pub target: Checkpoint,
}

/// `IndexedAttestation` (Deneb: at most `MAX_VALIDATORS_PER_COMMITTEE` indices).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct IndexedAttestationDeneb {
    pub attesting_indices: VariableList<u64, U2048>,
    pub data: AttestationData,
    pub signature: BlsSignatureBytes,
}

/// `IndexedAttestation` (Electra: `MAX_VALIDATORS_PER_COMMITTEE * MAX_COMMITTEES_PER_SLOT`).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct IndexedAttestationElectra {
    pub attesting_indices: VariableList<u64, U131072>,
    pub data: AttestationData,
    pub signature: BlsSignatureBytes,
}

/// `AttesterSlashing` (Deneb).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct AttesterSlashingDeneb {
    pub attestation_1: IndexedAttestationDeneb,
    pub attestation_2: IndexedAttestationDeneb,
}

/// `AttesterSlashing` (Electra).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct AttesterSlashingElectra {
    pub attestation_1: IndexedAttestationElectra,
    pub attestation_2: IndexedAttestationElectra,
}

/// `Attestation` (Deneb).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct AttestationDeneb {
    pub aggregation_bits: BitList<U2048>,
    pub data: AttestationData,
    pub signature: BlsSignatureBytes,
}

/// `Attestation` (Electra: aggregation bits over every committee, plus `committee_bits`).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct AttestationElectra {
    pub aggregation_bits: BitList<U131072>,
    pub data: AttestationData,
    pub signature: BlsSignatureBytes,
    pub committee_bits: BitVector<U64>,
}

/// `DepositData` (phase 0).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct DepositData {
    pub pubkey: BlsPubkey,
    pub withdrawal_credentials: Bytes32,
    pub amount: u64,
    pub signature: BlsSignatureBytes,
}

/// `Deposit` (phase 0; the proof is `DEPOSIT_CONTRACT_TREE_DEPTH + 1` long).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct Deposit {
    pub proof: FixedVector<Bytes32, U33>,
    pub data: DepositData,
}

/// `VoluntaryExit` (phase 0).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct VoluntaryExit {
    pub epoch: u64,
    pub validator_index: u64,
}

/// `SignedVoluntaryExit` (phase 0).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct SignedVoluntaryExit {
    pub message: VoluntaryExit,
    pub signature: BlsSignatureBytes,
}

/// `SyncAggregate` (Altair).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct SyncAggregate {
    pub sync_committee_bits: BitVector<U512>,
    pub sync_committee_signature: BlsSignatureBytes,
}

/// `Withdrawal` (Capella).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct Withdrawal {
    pub index: u64,
    pub validator_index: u64,
    pub address: [u8; 20],
    pub amount: u64,
}

/// `ExecutionPayload` (Deneb; Electra uses it unchanged).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct ExecutionPayload {
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
    pub extra_data: VariableList<u8, U32>,
    /// `uint256`, little-endian.
    pub base_fee_per_gas: Bytes32,
    pub block_hash: Bytes32,
    pub transactions: VariableList<VariableList<u8, U1073741824>, U1048576>,
    pub withdrawals: VariableList<Withdrawal, U16>,
    pub blob_gas_used: u64,
    pub excess_blob_gas: u64,
}

/// `BLSToExecutionChange` (Capella).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct BlsToExecutionChange {
    pub validator_index: u64,
    pub from_bls_pubkey: BlsPubkey,
    pub to_execution_address: [u8; 20],
}

/// `SignedBLSToExecutionChange` (Capella).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct SignedBlsToExecutionChange {
    pub message: BlsToExecutionChange,
    pub signature: BlsSignatureBytes,
}

/// `DepositRequest` (Electra).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct DepositRequest {
    pub pubkey: BlsPubkey,
    pub withdrawal_credentials: Bytes32,
    pub amount: u64,
    pub signature: BlsSignatureBytes,
    pub index: u64,
}

/// `WithdrawalRequest` (Electra).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct WithdrawalRequest {
    pub source_address: [u8; 20],
    pub validator_pubkey: BlsPubkey,
    pub amount: u64,
}

/// `ConsolidationRequest` (Electra).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct ConsolidationRequest {
    pub source_address: [u8; 20],
    pub source_pubkey: BlsPubkey,
    pub target_pubkey: BlsPubkey,
}

/// `ExecutionRequests` (Electra).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct ExecutionRequests {
    pub deposits: VariableList<DepositRequest, U8192>,
    pub withdrawals: VariableList<WithdrawalRequest, U16>,
    pub consolidations: VariableList<ConsolidationRequest, U2>,
}

/// `BeaconBlockBody` (Deneb).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct BeaconBlockBodyDeneb {
    pub randao_reveal: BlsSignatureBytes,
    pub eth1_data: Eth1Data,
    pub graffiti: Bytes32,
    pub proposer_slashings: VariableList<ProposerSlashing, U16>,
    pub attester_slashings: VariableList<AttesterSlashingDeneb, U2>,
    pub attestations: VariableList<AttestationDeneb, U128>,
    pub deposits: VariableList<Deposit, U16>,
    pub voluntary_exits: VariableList<SignedVoluntaryExit, U16>,
    pub sync_aggregate: SyncAggregate,
    pub execution_payload: ExecutionPayload,
    pub bls_to_execution_changes: VariableList<SignedBlsToExecutionChange, U16>,
    pub blob_kzg_commitments: VariableList<BlsPubkey, U4096>,
}

/// `BeaconBlockBody` (Electra).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct BeaconBlockBodyElectra {
    pub randao_reveal: BlsSignatureBytes,
    pub eth1_data: Eth1Data,
    pub graffiti: Bytes32,
    pub proposer_slashings: VariableList<ProposerSlashing, U16>,
    pub attester_slashings: VariableList<AttesterSlashingElectra, U1>,
    pub attestations: VariableList<AttestationElectra, U8>,
    pub deposits: VariableList<Deposit, U16>,
    pub voluntary_exits: VariableList<SignedVoluntaryExit, U16>,
    pub sync_aggregate: SyncAggregate,
    pub execution_payload: ExecutionPayload,
    pub bls_to_execution_changes: VariableList<SignedBlsToExecutionChange, U16>,
    pub blob_kzg_commitments: VariableList<BlsPubkey, U4096>,
    pub execution_requests: ExecutionRequests,
}

/// `BeaconBlock` (Deneb).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct BeaconBlockDeneb {
    pub slot: u64,
    pub proposer_index: u64,
    pub parent_root: Bytes32,
    pub state_root: Bytes32,
    pub body: BeaconBlockBodyDeneb,
}

/// `BeaconBlock` (Electra).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct BeaconBlockElectra {
    pub slot: u64,
    pub proposer_index: u64,
    pub parent_root: Bytes32,
    pub state_root: Bytes32,
    pub body: BeaconBlockBodyElectra,
}

/// `SignedBeaconBlock` (Deneb).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct SignedBeaconBlockDeneb {
    pub message: BeaconBlockDeneb,
    pub signature: BlsSignatureBytes,
}

/// `SignedBeaconBlock` (Electra).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct SignedBeaconBlockElectra {
    pub message: BeaconBlockElectra,
    pub signature: BlsSignatureBytes,
}
