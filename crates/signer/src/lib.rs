//! Keystores, signing schemes and the protection store: the only path to a signature.
//!
//! Raw signing functions stay private to this crate; the node and the duty modules reach a
//! secret key only through `ProtectedSigner`, which checks and durably records every request
//! before it signs (see `ARCHITECTURE.md`, "The signing path").

pub mod bls;
pub mod derive;
pub mod keystore;
mod protected;
pub mod protection;
mod secret;
#[cfg(test)]
mod vectors_bls;
#[cfg(test)]
mod vectors_derive;

pub use protected::{
    KeyId, KeyInfo, Keyring, KeyringError, ProtectedSigner, Scheme, SignError, SignedMessage,
    SignerHealth, SigningRequest, StartError, ValidatorDuty,
};
pub use secret::SecretBytes;
