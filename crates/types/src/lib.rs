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
    parse_fixed_hex, parse_hex,
};
pub use clock::{ManualSlotClock, SlotClock, SystemSlotClock};
pub use ids::{ChainId, InvalidModuleId, ModuleId};
pub use numbers::{Epoch, Gwei, Slot, ValidatorIndex};

/// What [`fixed_bytes!`] needs from this crate's dependencies, so callers need not depend on them.
#[doc(hidden)]
pub mod __private {
    pub use hex;
    pub use serde;
}
