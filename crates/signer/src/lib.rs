//! Keystores, signing schemes and the protection store: the only path to a signature.
//!
//! Raw signing functions stay private to this crate; the node and the duty modules reach a
//! secret key only through `ProtectedSigner`, which checks and durably records every request
//! before it signs (see `ARCHITECTURE.md`, "The signing path").
//!
//! Three schemes: BLS12-381 for validator keys ([`bls`], EIP-2335 [`keystore`]s), BLS on BN254
//! for EigenLayer AVS keys ([`bn254`], eigensdk-go keystores in [`web3_keystore`]), and ECDSA
//! on secp256k1 for execution-chain keys ([`ecdsa`], web3 secret-storage keystores).

pub mod bls;
pub mod bn254;
pub mod derive;
pub mod ecdsa;
pub mod keystore;
mod protected;
pub mod protection;
mod secret;
#[cfg(test)]
mod vectors_bls;
#[cfg(test)]
mod vectors_derive;
pub mod web3_keystore;

pub use protected::{
    KeyId, KeyInfo, Keyring, KeyringError, ProtectedSigner, Scheme, SignError, SignedMessage,
    SignerHealth, SigningRequest, StartError, ValidatorDuty,
};
pub use secret::SecretBytes;
