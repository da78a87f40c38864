//! ECDSA on secp256k1 for execution-chain keys and ECDSA bridge checkpoints, on top of alloy's
//! local signer.
//!
//! A key is named by its 20-byte Ethereum address. The signer signs a 32-byte digest as given
//! (`sign_hash_sync`: no EIP-191 prefix, no further hashing), so the caller decides what the
//! digest is (an EIP-712 hash, a checkpoint root). Signatures are 65 bytes `r ‖ s ‖ v` with
//! `v` 27 or 28 and a low `s`, the form `ecrecover` and OpenZeppelin's `ECDSA.recover` accept.
//! k256 signs with RFC 6979 nonces, so signing the same digest twice gives the same signature.
//!
//! As in [`crate::bls`], the signing key is crate-private: the only path to a signature is
//! the protected signer. The public functions here only verify.

use std::{fmt, path::Path};

use alloy_primitives::{Address, B256};
use alloy_signer::SignerSync;
use alloy_signer_local::{LocalSignerError, PrivateKeySigner};
use zeroize::Zeroize;

use crate::{
    SecretBytes,
    web3_keystore::{self, Web3KeystoreError},
};

/// Length of an address, the key's public name.
pub const ADDRESS_LEN: usize = 20;

/// Length of a signature: `r ‖ s ‖ v`.
pub const SIGNATURE_LEN: usize = 65;

/// Length of a signed digest.
pub const DIGEST_LEN: usize = 32;

/// Errors from ECDSA keys and signatures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EcdsaError {
    /// A secret that is zero or not below the curve order n. The value is never shown.
    #[error("invalid secp256k1 secret key: it must be nonzero and below the curve order n")]
    InvalidSecretKey,
    /// Bytes that are not a 65-byte `r ‖ s ‖ v` signature with a valid `v`.
    #[error("invalid secp256k1 signature: {0}")]
    InvalidSignature(String),
    /// A signature from which no public key can be recovered for the digest.
    #[error("cannot recover a secp256k1 public key from the signature: {0}")]
    Unrecoverable(String),
    /// The signing library failed.
    #[error("secp256k1 signing failed: {0}")]
    Signing(String),
}

/// A secp256k1 key that can sign. Crate-private on purpose (see the module docs); not `Clone`.
/// The k256 key inside zeroizes its scalar on drop.
pub(crate) struct SigningKey {
    signer: PrivateKeySigner,
}

impl SigningKey {
    /// Takes a big-endian scalar; rejects zero and values not below the curve order n.
    pub(crate) fn from_secret(secret: &SecretBytes) -> Result<Self, EcdsaError> {
        let mut bytes = B256::from(*secret.expose());
        let signer = PrivateKeySigner::from_bytes(&bytes);
        bytes.0.zeroize();
        signer
            .map(|signer| Self { signer })
            .map_err(|_| EcdsaError::InvalidSecretKey)
    }

    /// Decrypts a web3 secret-storage keystore with alloy (`PrivateKeySigner::decrypt_keystore`),
    /// after checking the file ourselves: size, shape and KDF cost, so that a hostile file is
    /// refused before the library spends memory on it, and errors name the file. A declared
    /// `address` must be the key's. Slow by design: call it off the async runtime.
    pub(crate) fn from_keystore(file: &Path, password: &str) -> Result<Self, Web3KeystoreError> {
        let header = web3_keystore::check_ecdsa_keystore(file)?;
        let path = || Some(file.to_path_buf());
        let signer = PrivateKeySigner::decrypt_keystore(file, password).map_err(|e| match e {
            LocalSignerError::EthKeystoreError(eth_keystore::KeystoreError::MacMismatch) => {
                Web3KeystoreError::WrongPassword { path: path() }
            }
            LocalSignerError::EcdsaError(e) => Web3KeystoreError::InvalidSecret {
                path: path(),
                scheme: "secp256k1",
                reason: e.to_string(),
            },
            other => Web3KeystoreError::Decrypt {
                path: path(),
                reason: other.to_string(),
            },
        })?;
        let actual = signer.address();
        if let Some(declared) = header.address
            && Address::from(declared) != actual
        {
            return Err(Web3KeystoreError::DeclaredKeyMismatch {
                path: path(),
                scheme: "secp256k1",
                declared: Address::from(declared).to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(Self { signer })
    }

    /// The key's Ethereum address.
    pub(crate) fn address(&self) -> [u8; ADDRESS_LEN] {
        self.signer.address().into_array()
    }

    /// Signs a 32-byte digest as is: `r ‖ s ‖ v`, `v` in {27, 28}.
    pub(crate) fn sign_digest(
        &self,
        digest: &[u8; DIGEST_LEN],
    ) -> Result<[u8; SIGNATURE_LEN], EcdsaError> {
        self.signer
            .sign_hash_sync(&B256::from(*digest))
            .map(|signature| signature.as_bytes())
            .map_err(|e| EcdsaError::Signing(e.to_string()))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The address is public; the scalar never leaves the signer.
        write!(
            f,
            "ecdsa::SigningKey({}, <redacted>)",
            self.signer.address()
        )
    }
}

/// The address that signed `digest`, recovered from a 65-byte `r ‖ s ‖ v` signature (`v` may
/// be 0/1 or 27/28).
pub fn recover_address(
    digest: &[u8; DIGEST_LEN],
    signature: &[u8],
) -> Result<[u8; ADDRESS_LEN], EcdsaError> {
    let signature = alloy_primitives::Signature::from_raw(signature)
        .map_err(|e| EcdsaError::InvalidSignature(e.to_string()))?;
    signature
        .recover_address_from_prehash(&B256::from(*digest))
        .map(Address::into_array)
        .map_err(|e| EcdsaError::Unrecoverable(e.to_string()))
}

/// Whether `signature` is `address`'s signature of `digest`. High-`s` signatures are refused,
/// as OpenZeppelin's `ECDSA.recover` refuses them (they are malleable copies of low-`s` ones).
pub fn verify(address: &[u8; ADDRESS_LEN], digest: &[u8; DIGEST_LEN], signature: &[u8]) -> bool {
    let low_s =
        alloy_primitives::Signature::from_raw(signature).is_ok_and(|s| s.normalize_s().is_none());
    low_s && recover_address(digest, signature).is_ok_and(|recovered| recovered == *address)
}

#[cfg(test)]
mod tests;
