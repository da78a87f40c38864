//! Response shapes of the Beacon API endpoints the client calls.
//!
//! Field names and spellings follow the API exactly, so the same types serve the in-process
//! devnet; every 64-bit integer is a quoted decimal on the wire (see [`crate::quoted`]).

use std::{collections::BTreeMap, fmt, str::FromStr, time::Duration};

use restake_types::{BlsPublicKey, Epoch, Gwei, Slot, ValidatorIndex, WithdrawalCredentials};
use serde::{Deserialize, Serialize};

use crate::{
    bytes::{Blob, BlsSignature, ForkVersion, KzgCommitment, KzgProof, Root},
    ids::ValidatorStatus,
    quoted,
};

/// The common envelope of state- and block-scoped responses: `data` plus the node's view of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeaconResponse<T> {
    /// Whether the data rests on an execution payload the node has not yet verified.
    /// `None` when the node did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_optimistic: Option<bool>,
    /// Whether the data is from the finalized part of the chain. `None` when the node did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finalized: Option<bool>,
    /// The payload.
    pub data: T,
}

/// A response carrying only `data` (genesis, spec).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DataResponse<T> {
    pub(crate) data: T,
}

/// `GET /eth/v1/beacon/genesis`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// Genesis time in seconds since the Unix epoch.
    #[serde(with = "quoted")]
    pub genesis_time: u64,
    /// The root of the genesis validator registry, part of every signing domain.
    pub genesis_validators_root: Root,
    /// The fork version at genesis.
    pub genesis_fork_version: ForkVersion,
}

impl Genesis {
    /// Genesis time as a duration since the Unix epoch (what a `SlotClock` takes).
    pub const fn genesis_time_since_unix_epoch(&self) -> Duration {
        Duration::from_secs(self.genesis_time)
    }
}

/// A consensus fork, as named in `Eth-Consensus-Version` and the `version` fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ForkName {
    /// The launch fork.
    Phase0,
    /// Sync committees, participation flags.
    Altair,
    /// The merge.
    Bellatrix,
    /// Withdrawals.
    Capella,
    /// Blobs (EIP-4844).
    Deneb,
    /// Compounding credentials, consolidations, execution requests (Pectra).
    Electra,
    /// PeerDAS (Fusaka).
    Fulu,
}

impl ForkName {
    /// Every fork this client knows, oldest first.
    pub const ALL: [ForkName; 7] = [
        Self::Phase0,
        Self::Altair,
        Self::Bellatrix,
        Self::Capella,
        Self::Deneb,
        Self::Electra,
        Self::Fulu,
    ];

    /// The lowercase name used on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Phase0 => "phase0",
            Self::Altair => "altair",
            Self::Bellatrix => "bellatrix",
            Self::Capella => "capella",
            Self::Deneb => "deneb",
            Self::Electra => "electra",
            Self::Fulu => "fulu",
        }
    }

    /// The prefix of this fork's keys in the chain config (`ELECTRA_FORK_EPOCH`, ...);
    /// `None` for phase 0, whose version is `GENESIS_FORK_VERSION`.
    const fn config_prefix(self) -> Option<&'static str> {
        match self {
            Self::Phase0 => None,
            Self::Altair => Some("ALTAIR"),
            Self::Bellatrix => Some("BELLATRIX"),
            Self::Capella => Some("CAPELLA"),
            Self::Deneb => Some("DENEB"),
            Self::Electra => Some("ELECTRA"),
            Self::Fulu => Some("FULU"),
        }
    }
}

impl fmt::Display for ForkName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fork name this client does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown fork {0:?}")]
pub struct UnknownForkName(pub String);

impl FromStr for ForkName {
    type Err = UnknownForkName;

    /// Parses a fork name, ignoring ASCII case and surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        Self::ALL
            .into_iter()
            .find(|fork| fork.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownForkName(name.chars().take(40).collect()))
    }
}

/// `GET /eth/v1/config/spec`: the node's chain configuration and preset, key by key.
///
/// Values are kept as the node sent them (strings, and the odd structured value such as
/// `BLOB_SCHEDULE`); the accessors read the ones the node needs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChainSpec(pub BTreeMap<String, serde_json::Value>);

impl ChainSpec {
    /// A value as a string, if it is one.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(serde_json::Value::as_str)
    }

    /// A value as an unsigned integer (quoted decimal or plain number).
    pub fn get_u64(&self, key: &str) -> Option<u64> {
        match self.0.get(key)? {
            serde_json::Value::String(s) => quoted::parse_decimal(s).ok(),
            serde_json::Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// `SLOTS_PER_EPOCH` (32 on mainnet, 8 on the minimal preset).
    pub fn slots_per_epoch(&self) -> Option<u64> {
        self.get_u64("SLOTS_PER_EPOCH")
    }

    /// The slot duration: `SLOT_DURATION_MS` where the node has it, else `SECONDS_PER_SLOT`.
    pub fn slot_duration(&self) -> Option<Duration> {
        self.get_u64("SLOT_DURATION_MS")
            .map(Duration::from_millis)
            .or_else(|| self.get_u64("SECONDS_PER_SLOT").map(Duration::from_secs))
    }

    /// The epoch `fork` activates at (`FAR_FUTURE_EPOCH` if scheduled for never); phase 0 is
    /// epoch 0. `None` when the node does not report the fork.
    pub fn fork_epoch(&self, fork: ForkName) -> Option<Epoch> {
        match fork.config_prefix() {
            None => Some(Epoch(0)),
            Some(prefix) => self.get_u64(&format!("{prefix}_FORK_EPOCH")).map(Epoch),
        }
    }

    /// The fork version of `fork`.
    pub fn fork_version(&self, fork: ForkName) -> Option<ForkVersion> {
        let key = match fork.config_prefix() {
            None => "GENESIS_FORK_VERSION".to_owned(),
            Some(prefix) => format!("{prefix}_FORK_VERSION"),
        };
        self.get_str(&key)?.parse().ok()
    }

    /// The newest known fork active at `epoch` by this configuration.
    pub fn fork_at_epoch(&self, epoch: Epoch) -> ForkName {
        ForkName::ALL
            .into_iter()
            .rev()
            .find(|fork| self.fork_epoch(*fork).is_some_and(|at| at <= epoch))
            .unwrap_or(ForkName::Phase0)
    }
}

/// A beacon block header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeaconBlockHeader {
    /// The block's slot.
    #[serde(with = "quoted")]
    pub slot: Slot,
    /// The proposer's validator index.
    #[serde(with = "quoted")]
    pub proposer_index: ValidatorIndex,
    /// The parent block's root.
    pub parent_root: Root,
    /// The post-state root.
    pub state_root: Root,
    /// The block body's root.
    pub body_root: Root,
}

/// A block header with the proposer's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedBeaconBlockHeader {
    /// The header.
    pub message: BeaconBlockHeader,
    /// The proposer's signature over it.
    pub signature: BlsSignature,
}

/// `GET /eth/v1/beacon/headers/{block_id}`: a header with its block root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeaderData {
    /// The block root.
    pub root: Root,
    /// Whether the block is on the node's canonical chain.
    pub canonical: bool,
    /// The signed header.
    pub header: SignedBeaconBlockHeader,
}

/// An epoch and the root of its checkpoint block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The epoch.
    #[serde(with = "quoted")]
    pub epoch: Epoch,
    /// The checkpoint block root.
    pub root: Root,
}

/// `GET /eth/v1/beacon/states/{state_id}/finality_checkpoints`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalityCheckpoints {
    /// The justified checkpoint as of the previous epoch.
    pub previous_justified: Checkpoint,
    /// The current justified checkpoint.
    pub current_justified: Checkpoint,
    /// The finalized checkpoint.
    pub finalized: Checkpoint,
}

/// A validator record from the state's registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validator {
    /// The BLS public key.
    pub pubkey: BlsPublicKey,
    /// Where withdrawals go (`0x00` BLS, `0x01`/`0x02` execution address).
    pub withdrawal_credentials: WithdrawalCredentials,
    /// The balance that counts for rewards and penalties.
    #[serde(with = "quoted")]
    pub effective_balance: Gwei,
    /// Whether the validator has been slashed.
    pub slashed: bool,
    /// When the validator became eligible for activation (`FAR_FUTURE_EPOCH` if not yet).
    #[serde(with = "quoted")]
    pub activation_eligibility_epoch: Epoch,
    /// When the validator activated (`FAR_FUTURE_EPOCH` if not yet).
    #[serde(with = "quoted")]
    pub activation_epoch: Epoch,
    /// When the validator exits (`FAR_FUTURE_EPOCH` if no exit is initiated).
    #[serde(with = "quoted")]
    pub exit_epoch: Epoch,
    /// When the balance becomes withdrawable (`FAR_FUTURE_EPOCH` if not scheduled).
    #[serde(with = "quoted")]
    pub withdrawable_epoch: Epoch,
}

/// One entry of `GET/POST /eth/v1/beacon/states/{state_id}/validators`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorData {
    /// The registry index.
    #[serde(with = "quoted")]
    pub index: ValidatorIndex,
    /// The actual balance.
    #[serde(with = "quoted")]
    pub balance: Gwei,
    /// The status at this state.
    pub status: ValidatorStatus,
    /// The registry record.
    pub validator: Validator,
}

/// One entry of `GET/POST /eth/v1/beacon/states/{state_id}/validator_balances`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorBalance {
    /// The registry index.
    #[serde(with = "quoted")]
    pub index: ValidatorIndex,
    /// The actual balance.
    #[serde(with = "quoted")]
    pub balance: Gwei,
}

/// One entry of `GET /eth/v1/beacon/blob_sidecars/{block_id}` (the Deneb `BlobSidecar`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobSidecar {
    /// The blob's index within its block.
    #[serde(with = "quoted")]
    pub index: u64,
    /// The blob.
    pub blob: Blob,
    /// The blob's KZG commitment.
    pub kzg_commitment: KzgCommitment,
    /// The KZG proof of the blob against the commitment.
    pub kzg_proof: KzgProof,
    /// The header of the block carrying the blob.
    pub signed_block_header: SignedBeaconBlockHeader,
    /// The Merkle branch proving the commitment is in the block body.
    pub kzg_commitment_inclusion_proof: Vec<Root>,
}

/// An SSZ-encoded object as the node sent it, with the fork that says how to decode it.
#[derive(Clone, PartialEq, Eq)]
pub struct SszResponse {
    /// The fork of the object, from the `Eth-Consensus-Version` header.
    pub fork: ForkName,
    /// The SSZ bytes, undecoded.
    pub bytes: Vec<u8>,
    /// `Eth-Execution-Optimistic`, when the node sends it (not every client does).
    pub execution_optimistic: Option<bool>,
    /// `Eth-Consensus-Finalized`, when the node sends it (not every client does).
    pub finalized: Option<bool>,
}

impl fmt::Debug for SszResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SszResponse")
            .field("fork", &self.fork)
            .field("bytes", &format_args!("{} bytes", self.bytes.len()))
            .field("execution_optimistic", &self.execution_optimistic)
            .field("finalized", &self.finalized)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fork_names_parse_case_insensitively_and_refuse_unknown_ones() {
        assert_eq!("electra".parse::<ForkName>(), Ok(ForkName::Electra));
        assert_eq!("Deneb".parse::<ForkName>(), Ok(ForkName::Deneb));
        assert_eq!(" fulu ".parse::<ForkName>(), Ok(ForkName::Fulu));
        assert!("gloas".parse::<ForkName>().is_err());
        assert!("".parse::<ForkName>().is_err());
        assert!(ForkName::Deneb < ForkName::Electra);
        for fork in ForkName::ALL {
            assert_eq!(fork.as_str().parse::<ForkName>(), Ok(fork));
        }
    }

    #[test]
    fn chain_spec_reads_typed_values() {
        let spec: ChainSpec = serde_json::from_str(
            r#"{"SLOTS_PER_EPOCH":"32","SECONDS_PER_SLOT":"12",
                "GENESIS_FORK_VERSION":"0x00000000","ELECTRA_FORK_VERSION":"0x05000000",
                "DENEB_FORK_EPOCH":"269568","ELECTRA_FORK_EPOCH":"364032",
                "FULU_FORK_EPOCH":"18446744073709551615",
                "BLOB_SCHEDULE":[{"EPOCH":"364032","MAX_BLOBS_PER_BLOCK":"9"}]}"#,
        )
        .unwrap();
        assert_eq!(spec.slots_per_epoch(), Some(32));
        assert_eq!(spec.slot_duration(), Some(Duration::from_secs(12)));
        assert_eq!(spec.fork_epoch(ForkName::Electra), Some(Epoch(364_032)));
        assert_eq!(spec.fork_epoch(ForkName::Phase0), Some(Epoch(0)));
        assert_eq!(spec.fork_epoch(ForkName::Capella), None);
        assert_eq!(
            spec.fork_version(ForkName::Electra),
            Some(ForkVersion::new([5, 0, 0, 0]))
        );
        assert_eq!(
            spec.fork_version(ForkName::Phase0),
            Some(ForkVersion::new([0; 4]))
        );
        assert_eq!(spec.fork_at_epoch(Epoch(300_000)), ForkName::Deneb);
        assert_eq!(spec.fork_at_epoch(Epoch(400_000)), ForkName::Electra);
        assert_eq!(spec.get_u64("BLOB_SCHEDULE"), None);
    }

    #[test]
    fn slot_duration_prefers_milliseconds() {
        let spec: ChainSpec =
            serde_json::from_str(r#"{"SECONDS_PER_SLOT":"12","SLOT_DURATION_MS":"6000"}"#).unwrap();
        assert_eq!(spec.slot_duration(), Some(Duration::from_millis(6000)));
    }
}
