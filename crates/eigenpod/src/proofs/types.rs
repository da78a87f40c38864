//! The proof bundles, as restaked writes and reads them (JSON, see `docs/proofs.md`).
//!
//! Every byte string is `0x`-prefixed hex; integers (timestamps, validator indices) are JSON
//! numbers. A proof is the concatenation of its 32-byte sibling nodes, leaf to root: exactly the
//! `bytes` the contract takes.

use std::fmt;

use alloy_primitives::hex;
use restake_beacon::{ForkName, Root};
use restake_types::{Gwei, ValidatorIndex};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

use super::{
    error::ProofError,
    merkle::{Node, merkleize, uint64_chunk},
};
use crate::bindings::ValidatorPubkeyHash;

/// The number of fields of a `Validator` container, the leaves of its tree
/// (`VALIDATOR_FIELDS_LENGTH` of BeaconChainProofs.sol).
pub const VALIDATOR_FIELD_COUNT: usize = 8;

/// The index of `slashed` among a validator's fields (`VALIDATOR_SLASHED_INDEX` of
/// BeaconChainProofs.sol).
pub(crate) const VALIDATOR_SLASHED_INDEX: usize = 3;

/// The layout of `BeaconState` an EigenPod assumes, chosen by timestamp.
///
/// BeaconChainProofs.sol `ProofVersion { DENEB, PECTRA }`: the state tree has 5 levels of fields
/// up to Deneb (`DENEB_BEACON_STATE_TREE_HEIGHT`) and 6 from Electra on
/// (`PECTRA_BEACON_STATE_TREE_HEIGHT`, Electra's 37 fields no longer fit 32); Fulu's 38 fields
/// keep Electra's height.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProofVersion {
    /// Deneb states: 5 levels of fields.
    Deneb,
    /// Electra and later states: 6 levels of fields.
    Pectra,
}

impl ProofVersion {
    /// The version for states of `fork`; forks before Deneb have none.
    pub fn for_fork(fork: ForkName) -> Result<Self, ProofError> {
        match fork {
            ForkName::Deneb => Ok(Self::Deneb),
            ForkName::Electra | ForkName::Fulu => Ok(Self::Pectra),
            ForkName::Phase0 | ForkName::Altair | ForkName::Bellatrix | ForkName::Capella => {
                Err(ProofError::UnsupportedFork { fork })
            }
        }
    }

    /// The version an EigenPod verifies a proof for `proof_timestamp` with: EigenPod.sol
    /// `_getProofVersion` is `proofTimestamp <= pectraForkTimestamp ? DENEB : PECTRA`, where
    /// `proof_timestamp` is the beacon timestamp of a credential or stale-balance proof and the
    /// checkpoint's timestamp for checkpoint proofs.
    pub const fn chosen_by_pod(proof_timestamp: u64, pectra_fork_timestamp: u64) -> Self {
        if proof_timestamp <= pectra_fork_timestamp {
            Self::Deneb
        } else {
            Self::Pectra
        }
    }

    /// The height of the tree of `BeaconState` fields.
    pub const fn state_tree_height(self) -> usize {
        match self {
            Self::Deneb => 5,
            Self::Pectra => 6,
        }
    }

    /// The version whose state tree has `height` levels.
    pub(crate) const fn from_state_tree_height(height: usize) -> Option<Self> {
        match height {
            5 => Some(Self::Deneb),
            6 => Some(Self::Pectra),
            _ => None,
        }
    }
}

impl fmt::Display for ProofVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Deneb => "deneb",
            Self::Pectra => "pectra",
        })
    }
}

/// A Merkle proof: the sibling nodes from leaf to root, concatenated, as the contract's `bytes`.
///
/// Any length is representable so that a bundle read from elsewhere can be checked and refused
/// with the length the contract expects ([`ProofError::WrongLength`]).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct MerkleProof(Vec<u8>);

impl MerkleProof {
    /// Wraps the bytes of a proof.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The proof of the sibling `nodes`, leaf to root.
    pub(crate) fn from_nodes(nodes: &[Node]) -> Self {
        Self(nodes.concat())
    }

    /// The proof's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The proof's bytes, by value.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the proof has no node at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The 32-byte nodes, leaf to root (a trailing partial node is left out: callers check the
    /// length first).
    pub(crate) fn nodes(&self) -> Vec<Node> {
        self.0
            .chunks_exact(32)
            .filter_map(|chunk| Node::try_from(chunk).ok())
            .collect()
    }
}

impl fmt::Debug for MerkleProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MerkleProof({} nodes)", self.0.len() / 32)
    }
}

impl fmt::Display for MerkleProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(&self.0))
    }
}

impl Serialize for MerkleProof {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MerkleProof {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        restake_types::parse_hex(&s)
            .map(Self)
            .map_err(D::Error::custom)
    }
}

/// The state root and its proof against the block root (`BeaconChainProofs.StateRootProof`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateRootProof {
    /// The block's `state_root`.
    pub beacon_state_root: Root,
    /// 3 nodes: `state_root` is leaf 3 of the 8-leaf block header tree.
    pub proof: MerkleProof,
}

/// One validator's fields and their proof against the state root
/// (`BeaconChainProofs.ValidatorProof`, with the index the contract takes beside it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorFieldsProof {
    /// The validator's index in the registry.
    pub index: ValidatorIndex,
    /// The 8 leaves of the `Validator` container, in field order: pubkey root, withdrawal
    /// credentials, effective balance, slashed, activation eligibility, activation, exit and
    /// withdrawable epochs.
    pub fields: [Root; VALIDATOR_FIELD_COUNT],
    /// `41 + state tree height` nodes: 40 in the registry, the length mix-in, then the state's
    /// fields.
    pub proof: MerkleProof,
}

impl ValidatorFieldsProof {
    /// The pod's key for the validator: the first field, the root of its public key.
    pub fn pubkey_hash(&self) -> ValidatorPubkeyHash {
        ValidatorPubkeyHash::new(*self.fields[0].as_bytes())
    }

    /// Whether the `slashed` field is set (BeaconChainProofs.sol `isValidatorSlashed`: any
    /// non-zero chunk).
    pub fn is_slashed(&self) -> bool {
        self.fields[VALIDATOR_SLASHED_INDEX] != Root::new([0; 32])
    }

    /// The root of the validator's container: the fields merkleized.
    pub(crate) fn fields_root(&self) -> Node {
        let leaves: Vec<Node> = self.fields.iter().map(|f| *f.as_bytes()).collect();
        merkleize(&leaves)
    }
}

/// Everything `verifyWithdrawalCredentials` takes, for some validators at one block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialProofs {
    /// The timestamp of the block after the proven one: EIP-4788's `getParentBlockRoot` of it
    /// is [`block_root`](Self::block_root).
    pub beacon_timestamp: u64,
    /// The root of the proven block.
    pub block_root: Root,
    /// The state layout the proofs assume.
    pub version: ProofVersion,
    /// The state root under the block root.
    pub state_root_proof: StateRootProof,
    /// The validators, in the order they are submitted.
    pub validators: Vec<ValidatorFieldsProof>,
}

/// The `balances` list root and its proof against the block root
/// (`BeaconChainProofs.BalanceContainerProof`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceContainerProof {
    /// The `hash_tree_root` of the state's `balances`.
    pub root: Root,
    /// `state tree height + 3` nodes: the state's fields, then the block header tree.
    pub proof: MerkleProof,
}

/// One validator's balance chunk and its proof against the `balances` root
/// (`BeaconChainProofs.BalanceProof`, with the index the pod looks up by `pubkey_hash`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceProof {
    /// The validator's index in the registry.
    pub index: ValidatorIndex,
    /// The pod's key for the validator.
    pub pubkey_hash: ValidatorPubkeyHash,
    /// The 32-byte chunk holding the balances of validators `4k..4k+4`, `k = index / 4`.
    pub balance_root: Root,
    /// 39 nodes: 38 in the balances list, then the length mix-in.
    pub proof: MerkleProof,
}

impl BalanceProof {
    /// The validator's balance: the little-endian `uint64` at byte `(index % 4) * 8` of the
    /// chunk (BeaconChainProofs.sol `getBalanceAtIndex`).
    pub fn balance(&self) -> Gwei {
        balance_in_chunk(&self.balance_root, self.index)
    }
}

/// The balance of validator `index` in the chunk of four balances that holds it.
pub(crate) fn balance_in_chunk(chunk: &Root, index: ValidatorIndex) -> Gwei {
    // `index % 4 * 8` is at most 24, so the 8 bytes from there are inside the 32.
    let offset = (index.get() % 4) as usize * 8;
    let mut bytes = [0; 8];
    bytes.copy_from_slice(&chunk.as_bytes()[offset..offset + 8]);
    Gwei(u64::from_le_bytes(bytes))
}

/// Everything `verifyCheckpointProofs` takes, for some validators at the checkpoint's block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointProofs {
    /// The checkpoint's block root (the pod's `currentCheckpoint().beaconBlockRoot`).
    pub block_root: Root,
    /// The state layout the proofs assume.
    pub version: ProofVersion,
    /// The `balances` root under the block root.
    pub balance_container: BalanceContainerProof,
    /// The validators' balances, in the order they are submitted.
    pub balances: Vec<BalanceProof>,
}

/// Everything `verifyStaleBalance` takes: a slashed validator, proven at one block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleBalanceProof {
    /// The timestamp of the block after the proven one (see
    /// [`CredentialProofs::beacon_timestamp`]).
    pub beacon_timestamp: u64,
    /// The root of the proven block.
    pub block_root: Root,
    /// The state layout the proof assumes.
    pub version: ProofVersion,
    /// The state root under the block root.
    pub state_root_proof: StateRootProof,
    /// The slashed validator.
    pub validator: ValidatorFieldsProof,
}

/// The 8 leaves of a `BeaconBlockHeader`: `slot`, `proposer_index`, `parent_root`, `state_root`,
/// `body_root`, then three zero chunks.
pub(crate) fn header_leaves(
    header: &restake_beacon::containers::spec::BeaconBlockHeader,
) -> [Node; 8] {
    [
        uint64_chunk(header.slot),
        uint64_chunk(header.proposer_index),
        header.parent_root,
        header.state_root,
        header.body_root,
        [0; 32],
        [0; 32],
        [0; 32],
    ]
}

/// The block root of `header`: the root of its 8-leaf tree.
pub fn block_root(header: &restake_beacon::containers::spec::BeaconBlockHeader) -> Root {
    Root::new(merkleize(&header_leaves(header)))
}

#[cfg(test)]
mod tests {
    use restake_beacon::containers::spec::BeaconBlockHeader;
    use tree_hash::TreeHash;

    use super::*;

    #[test]
    fn versions_follow_the_forks_and_the_pods_timestamp_rule() {
        assert_eq!(
            ProofVersion::for_fork(ForkName::Deneb),
            Ok(ProofVersion::Deneb)
        );
        assert_eq!(
            ProofVersion::for_fork(ForkName::Electra),
            Ok(ProofVersion::Pectra)
        );
        assert_eq!(
            ProofVersion::for_fork(ForkName::Fulu),
            Ok(ProofVersion::Pectra)
        );
        assert_eq!(
            ProofVersion::for_fork(ForkName::Capella),
            Err(ProofError::UnsupportedFork {
                fork: ForkName::Capella
            })
        );
        assert_eq!(ProofVersion::chosen_by_pod(100, 100), ProofVersion::Deneb);
        assert_eq!(ProofVersion::chosen_by_pod(101, 100), ProofVersion::Pectra);
        assert_eq!(ProofVersion::Deneb.state_tree_height(), 5);
        assert_eq!(ProofVersion::Pectra.state_tree_height(), 6);
    }

    #[test]
    fn proof_bytes_are_hex_and_debug_counts_nodes() {
        let proof = MerkleProof::from_nodes(&[[0xab; 32], [0x01; 32]]);
        let json = serde_json::to_string(&proof).unwrap();
        assert_eq!(
            json,
            format!("\"0x{}{}\"", "ab".repeat(32), "01".repeat(32))
        );
        assert_eq!(serde_json::from_str::<MerkleProof>(&json).unwrap(), proof);
        assert_eq!(format!("{proof:?}"), "MerkleProof(2 nodes)");
        assert!(serde_json::from_str::<MerkleProof>("\"abcd\"").is_err());
    }

    #[test]
    fn balance_is_read_from_its_quarter_of_the_chunk() {
        let mut chunk = [0; 32];
        chunk[16..24].copy_from_slice(&32_000_000_001u64.to_le_bytes());
        let chunk = Root::new(chunk);
        assert_eq!(
            balance_in_chunk(&chunk, ValidatorIndex(6)),
            Gwei(32_000_000_001)
        );
        assert_eq!(balance_in_chunk(&chunk, ValidatorIndex(5)), Gwei(0));
    }

    #[test]
    fn block_root_is_the_headers_hash_tree_root() {
        let header = BeaconBlockHeader {
            slot: 12,
            proposer_index: 7,
            parent_root: [1; 32],
            state_root: [2; 32],
            body_root: [3; 32],
        };
        assert_eq!(block_root(&header).as_bytes(), &header.tree_hash_root().0);
    }

    #[test]
    fn slashed_is_any_nonzero_chunk() {
        let mut proof = ValidatorFieldsProof {
            index: ValidatorIndex(1),
            fields: [Root::new([0; 32]); VALIDATOR_FIELD_COUNT],
            proof: MerkleProof::default(),
        };
        assert!(!proof.is_slashed());
        proof.fields[VALIDATOR_SLASHED_INDEX] = Root::new(uint64_chunk(1));
        assert!(proof.is_slashed());
    }
}
