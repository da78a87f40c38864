//! Domain types shared by every restaked crate.
//!
//! These are the nouns of the product: slots and epochs of the beacon chain, validator
//! indices and balances, BLS public keys, withdrawal credentials and the execution
//! address they point at, chain ids and duty-module ids. Each type validates what it
//! holds when parsed, so the rest of the node can rely on it.

mod bytes;
mod clock;
mod ids;
mod numbers;

pub use bytes::{
    BlsPublicKey, ExecutionAddress, ParseBytesError, WithdrawalCredentials, WithdrawalPrefix,
};
pub use clock::{ManualSlotClock, SlotClock, SystemSlotClock};
pub use ids::{ChainId, InvalidModuleId, ModuleId};
pub use numbers::{Epoch, Gwei, Slot, ValidatorIndex};
