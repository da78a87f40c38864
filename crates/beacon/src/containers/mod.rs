//! Fork-aware SSZ containers of the beacon chain (mainnet preset): `BeaconState` for Deneb,
//! Electra and Fulu, `SignedBeaconBlock` for Deneb, Electra and Fulu, and `BeaconBlockHeader`, with
//! SSZ decoding/encoding and `hash_tree_root`.
//!
//! [`BeaconState::from_ssz_bytes`] takes the fork the node named (`Eth-Consensus-Version`, see
//! [`crate::SszResponse`]) and the raw bytes; truncated, garbage or wrong-fork bytes are
//! [`Error::SszDecode`] (never a panic), forks before Deneb [`Error::UnsupportedFork`].
//!
//! Decoding and hashing a mainnet state takes seconds of CPU: callers on an async runtime must
//! run [`BeaconState::from_ssz_bytes`] and [`BeaconState::hash_tree_root`] in
//! `tokio::task::spawn_blocking` (or another thread), never on the runtime itself.
//!
//! To read only the validator registry and balances (what the tracker scans), use
//! [`RegistryView`]: it validates the state's bytes and reads the records in place, without
//! decoding the rest or copying anything.

pub mod block;
pub mod registry;
pub mod spec;

use restake_types::{
    BlsPublicKey, Epoch, ExecutionAddress, Gwei, Slot, ValidatorIndex, WithdrawalCredentials,
};
use ssz::{Decode, Encode};
use tree_hash::TreeHash;

use crate::{Error, ForkName, bytes::Root};

pub use block::{SignedBeaconBlockDeneb, SignedBeaconBlockElectra};
pub use registry::{RegistryEntry, RegistryView, ValidatorRecord};
pub use spec::{BeaconStateDeneb, BeaconStateElectra, BeaconStateFulu, Validator};

/// A whole beacon state of one of the forks this crate decodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BeaconState {
    /// A Deneb state.
    Deneb(Box<BeaconStateDeneb>),
    /// An Electra state.
    Electra(Box<BeaconStateElectra>),
    /// A Fulu state.
    Fulu(Box<BeaconStateFulu>),
}

/// Applies `$f` to the fork's container, whichever it is.
macro_rules! each_fork {
    ($state:expr, $s:ident => $f:expr) => {
        match $state {
            BeaconState::Deneb($s) => $f,
            BeaconState::Electra($s) => $f,
            BeaconState::Fulu($s) => $f,
        }
    };
}

impl BeaconState {
    /// Decodes a state from its SSZ bytes, as the container of `fork`.
    ///
    /// CPU-heavy for a mainnet state (hundreds of MB): run it off the async runtime.
    pub fn from_ssz_bytes(fork: ForkName, bytes: &[u8]) -> Result<Self, Error> {
        let error = |e: ssz::DecodeError| Error::SszDecode {
            fork,
            container: "BeaconState",
            len: bytes.len(),
            reason: format!("{e:?}"),
        };
        Ok(match fork {
            ForkName::Deneb => Self::Deneb(Box::new(
                BeaconStateDeneb::from_ssz_bytes(bytes).map_err(error)?,
            )),
            ForkName::Electra => Self::Electra(Box::new(
                BeaconStateElectra::from_ssz_bytes(bytes).map_err(error)?,
            )),
            ForkName::Fulu => Self::Fulu(Box::new(
                BeaconStateFulu::from_ssz_bytes(bytes).map_err(error)?,
            )),
            ForkName::Phase0 | ForkName::Altair | ForkName::Bellatrix | ForkName::Capella => {
                return Err(Error::UnsupportedFork {
                    fork,
                    container: "BeaconState",
                });
            }
        })
    }

    /// The state's SSZ encoding.
    pub fn as_ssz_bytes(&self) -> Vec<u8> {
        each_fork!(self, s => s.as_ssz_bytes())
    }

    /// The fork of this state's container.
    pub const fn fork_name(&self) -> ForkName {
        match self {
            Self::Deneb(_) => ForkName::Deneb,
            Self::Electra(_) => ForkName::Electra,
            Self::Fulu(_) => ForkName::Fulu,
        }
    }

    /// The state's slot.
    pub fn slot(&self) -> Slot {
        Slot(each_fork!(self, s => s.slot))
    }

    /// The root of the genesis validator registry.
    pub fn genesis_validators_root(&self) -> Root {
        Root::new(each_fork!(self, s => s.genesis_validators_root))
    }

    /// The `fork` field: previous and current fork versions and the epoch of the last fork.
    pub fn fork(&self) -> spec::Fork {
        each_fork!(self, s => s.fork)
    }

    /// The header of the latest block applied to this state.
    pub fn latest_block_header(&self) -> spec::BeaconBlockHeader {
        each_fork!(self, s => s.latest_block_header)
    }

    /// The validator registry, indexed by validator index.
    pub fn validators(&self) -> &[Validator] {
        each_fork!(self, s => &s.validators[..])
    }

    /// The validator at `index`, if the registry is that long.
    pub fn validator(&self, index: ValidatorIndex) -> Option<&Validator> {
        usize::try_from(index.get())
            .ok()
            .and_then(|i| self.validators().get(i))
    }

    /// The actual balances in Gwei, indexed by validator index.
    pub fn balances(&self) -> &[u64] {
        each_fork!(self, s => &s.balances[..])
    }

    /// The actual balance of the validator at `index`, if the registry is that long.
    pub fn balance(&self, index: ValidatorIndex) -> Option<Gwei> {
        usize::try_from(index.get())
            .ok()
            .and_then(|i| self.balances().get(i))
            .map(|b| Gwei(*b))
    }

    /// The state's `hash_tree_root`: what a block header's `state_root` commits to.
    ///
    /// Merkleizes the whole state (seconds of CPU on mainnet): run it off the async runtime.
    pub fn hash_tree_root(&self) -> Root {
        Root::new(each_fork!(self, s => s.tree_hash_root().0))
    }
}

/// A signed block of one of the forks this crate decodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignedBeaconBlock {
    /// A Deneb block.
    Deneb(Box<SignedBeaconBlockDeneb>),
    /// An Electra block.
    Electra(Box<SignedBeaconBlockElectra>),
    /// A Fulu block: Fulu left the block body as Electra had it (its changes are in the state
    /// and in data-column sidecars), so the container is Electra's.
    Fulu(Box<SignedBeaconBlockElectra>),
}

/// Applies `$f` to the block's fork container, whichever it is.
macro_rules! each_block_fork {
    ($block:expr, $b:ident => $f:expr) => {
        match $block {
            SignedBeaconBlock::Deneb($b) => $f,
            SignedBeaconBlock::Electra($b) | SignedBeaconBlock::Fulu($b) => $f,
        }
    };
}

impl SignedBeaconBlock {
    /// Decodes a signed block from its SSZ bytes, as the container of `fork`.
    pub fn from_ssz_bytes(fork: ForkName, bytes: &[u8]) -> Result<Self, Error> {
        let error = |e: ssz::DecodeError| Error::SszDecode {
            fork,
            container: "SignedBeaconBlock",
            len: bytes.len(),
            reason: format!("{e:?}"),
        };
        Ok(match fork {
            ForkName::Deneb => Self::Deneb(Box::new(
                SignedBeaconBlockDeneb::from_ssz_bytes(bytes).map_err(error)?,
            )),
            ForkName::Electra => Self::Electra(Box::new(
                SignedBeaconBlockElectra::from_ssz_bytes(bytes).map_err(error)?,
            )),
            ForkName::Fulu => Self::Fulu(Box::new(
                SignedBeaconBlockElectra::from_ssz_bytes(bytes).map_err(error)?,
            )),
            ForkName::Phase0 | ForkName::Altair | ForkName::Bellatrix | ForkName::Capella => {
                return Err(Error::UnsupportedFork {
                    fork,
                    container: "SignedBeaconBlock",
                });
            }
        })
    }

    /// The block's SSZ encoding.
    pub fn as_ssz_bytes(&self) -> Vec<u8> {
        each_block_fork!(self, b => b.as_ssz_bytes())
    }

    /// The fork of this block's container.
    pub const fn fork_name(&self) -> ForkName {
        match self {
            Self::Deneb(_) => ForkName::Deneb,
            Self::Electra(_) => ForkName::Electra,
            Self::Fulu(_) => ForkName::Fulu,
        }
    }

    /// The block's slot.
    pub fn slot(&self) -> Slot {
        Slot(each_block_fork!(self, b => b.message.slot))
    }

    /// The proposer's validator index.
    pub fn proposer_index(&self) -> ValidatorIndex {
        ValidatorIndex(each_block_fork!(self, b => b.message.proposer_index))
    }

    /// The parent block's root.
    pub fn parent_root(&self) -> Root {
        Root::new(each_block_fork!(self, b => b.message.parent_root))
    }

    /// The post-state root.
    pub fn state_root(&self) -> Root {
        Root::new(each_block_fork!(self, b => b.message.state_root))
    }

    /// The KZG commitments of the block's blobs, in blob order.
    pub fn blob_kzg_commitments(&self) -> &[[u8; 48]] {
        each_block_fork!(self, b => &b.message.body.blob_kzg_commitments[..])
    }

    /// The new validators' deposits in the block, as (pubkey, withdrawal credentials): the
    /// body's `deposits` and, from Electra, the execution layer's deposit requests.
    pub fn deposits(&self) -> Vec<(BlsPublicKey, WithdrawalCredentials)> {
        let body_deposits = each_block_fork!(self, b => b
            .message
            .body
            .deposits
            .iter()
            .map(|d| (BlsPublicKey::new(d.data.pubkey), WithdrawalCredentials::new(d.data.withdrawal_credentials)))
            .collect::<Vec<_>>());
        let requests = match self {
            Self::Deneb(_) => Vec::new(),
            Self::Electra(b) | Self::Fulu(b) => b
                .message
                .body
                .execution_requests
                .deposits
                .iter()
                .map(|d| {
                    (
                        BlsPublicKey::new(d.pubkey),
                        WithdrawalCredentials::new(d.withdrawal_credentials),
                    )
                })
                .collect(),
        };
        body_deposits.into_iter().chain(requests).collect()
    }

    /// The block's BLS-to-execution changes, as (validator index, new withdrawal address).
    pub fn credential_changes(&self) -> Vec<(ValidatorIndex, ExecutionAddress)> {
        each_block_fork!(self, b => b
            .message
            .body
            .bls_to_execution_changes
            .iter()
            .map(|c| (ValidatorIndex(c.message.validator_index), ExecutionAddress::new(c.message.to_execution_address)))
            .collect())
    }

    /// The block root: `hash_tree_root` of the (unsigned) block.
    pub fn block_root(&self) -> Root {
        Root::new(each_block_fork!(self, b => b.message.tree_hash_root().0))
    }

    /// The block's header: what `GET /eth/v1/beacon/headers` returns for it.
    pub fn header(&self) -> spec::BeaconBlockHeader {
        each_block_fork!(self, b => spec::BeaconBlockHeader {
            slot: b.message.slot,
            proposer_index: b.message.proposer_index,
            parent_root: b.message.parent_root,
            state_root: b.message.state_root,
            body_root: b.message.body.tree_hash_root().0,
        })
    }
}

impl Validator {
    /// The validator's BLS public key.
    pub const fn pubkey(&self) -> BlsPublicKey {
        BlsPublicKey::new(self.pubkey)
    }

    /// The validator's withdrawal credentials.
    pub const fn withdrawal_credentials(&self) -> WithdrawalCredentials {
        WithdrawalCredentials::new(self.withdrawal_credentials)
    }

    /// The effective balance (a multiple of 1 ETH, capped by the credential type).
    pub const fn effective_balance(&self) -> Gwei {
        Gwei(self.effective_balance)
    }

    /// Whether the validator has been slashed.
    pub const fn slashed(&self) -> bool {
        self.slashed
    }

    /// When the validator became eligible for the activation queue (`FAR_FUTURE_EPOCH` if not yet).
    pub const fn activation_eligibility_epoch(&self) -> Epoch {
        Epoch(self.activation_eligibility_epoch)
    }

    /// When the validator is or was activated (`FAR_FUTURE_EPOCH` if not yet scheduled).
    pub const fn activation_epoch(&self) -> Epoch {
        Epoch(self.activation_epoch)
    }

    /// When the validator exits or exited (`FAR_FUTURE_EPOCH` if no exit was initiated).
    pub const fn exit_epoch(&self) -> Epoch {
        Epoch(self.exit_epoch)
    }

    /// When the validator's balance becomes withdrawable (`FAR_FUTURE_EPOCH` if not scheduled).
    pub const fn withdrawable_epoch(&self) -> Epoch {
        Epoch(self.withdrawable_epoch)
    }
}

impl spec::BeaconBlockHeader {
    /// Decodes a header from its SSZ bytes (112 bytes; a header is the same in every fork).
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        Self::from_ssz_bytes(bytes).map_err(|e| Error::SszDecode {
            fork: ForkName::Deneb,
            container: "BeaconBlockHeader",
            len: bytes.len(),
            reason: format!("{e:?}"),
        })
    }

    /// The header's `hash_tree_root`: the block root.
    pub fn hash_tree_root(&self) -> Root {
        Root::new(self.tree_hash_root().0)
    }
}

impl From<&crate::BeaconBlockHeader> for spec::BeaconBlockHeader {
    fn from(header: &crate::BeaconBlockHeader) -> Self {
        Self {
            slot: header.slot.get(),
            proposer_index: header.proposer_index.get(),
            parent_root: *header.parent_root.as_bytes(),
            state_root: *header.state_root.as_bytes(),
            body_root: *header.body_root.as_bytes(),
        }
    }
}

impl crate::BeaconBlockHeader {
    /// The header's `hash_tree_root`: the root of the block it heads.
    pub fn hash_tree_root(&self) -> Root {
        spec::BeaconBlockHeader::from(self).hash_tree_root()
    }
}

#[cfg(test)]
mod tests;
