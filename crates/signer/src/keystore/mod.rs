//! EIP-2335 BLS12-381 keystores (version 4): parsing, decryption, creation, and loading a whole
//! keystore directory in parallel.
//!
//! The node's path is [`discover`] (find keystores and their passwords, read and validate
//! every file: cheap, and reports configuration mistakes in seconds) followed by
//! [`decrypt_all`] (the expensive KDFs, spread over threads). Single keystores go through
//! [`Keystore::from_file`] and [`Keystore::decrypt`].
//!
//! Parsing validates everything that can be checked without the password, including caps on
//! the KDF cost, so a hostile keystore is refused before any memory is allocated for it.
//!
//! The declared `pubkey` is returned as written; checking it against the decrypted secret
//! needs BLS and belongs to the caller.

mod discover;
mod error;
pub(crate) mod fs;
pub(crate) mod json;
pub(crate) mod kdf;
mod load;
mod password;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use aes::cipher::{KeyIvInit, StreamCipher};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zeroize::Zeroizing;

pub use discover::{KeystoreEntry, PasswordSource, discover};
pub use error::KeystoreError;
pub use fs::{FileRole, PermissionWarning};
pub use kdf::Kdf;
pub use load::{DecryptedKeystore, LoadedKeystore, decrypt_all};
pub use password::normalize_password;

use kdf::KdfParams;

/// AES-128 in counter mode with a 128-bit big-endian counter, as EIP-2335 specifies.
type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

/// A parsed and validated EIP-2335 version-4 keystore: an encrypted BLS12-381 secret key.
///
/// Every field has been checked (hex, lengths, supported functions, KDF cost limits);
/// only the password remains to be checked, by [`Keystore::decrypt`].
#[derive(Debug, Clone)]
pub struct Keystore {
    kdf: KdfParams,
    checksum: [u8; 32],
    iv: [u8; 16],
    ciphertext: [u8; 32],
    description: Option<String>,
    pubkey: Option<[u8; 48]>,
    path: String,
    uuid: Uuid,
    /// The file it was read from, named in every error.
    file: Option<PathBuf>,
}

impl Keystore {
    /// Parses keystore JSON held in memory. Errors say the keystore was "given as JSON text";
    /// prefer [`Keystore::from_file`] when there is a file, so errors name it.
    pub fn from_json(json: &str) -> Result<Self, KeystoreError> {
        json::parse(json.as_bytes(), None)
    }

    /// Reads and parses a keystore file (at most 1 MiB). Every error names `file`.
    pub fn from_file(file: &Path) -> Result<Self, KeystoreError> {
        let (bytes, _metadata) = fs::read_capped(file)?;
        json::parse(&bytes, Some(file))
    }

    /// Decrypts the secret key. The password is normalised first (see [`normalize_password`]).
    ///
    /// A wrong password gives [`KeystoreError::WrongPassword`]; the check is constant-time.
    /// This is deliberately slow (about a second for a standard scrypt keystore, with 256 MiB
    /// of memory): call it off the async runtime.
    pub fn decrypt(&self, password: &str) -> Result<crate::SecretBytes, KeystoreError> {
        self.decrypt_normalized(&normalize_password(password), None)
    }

    /// Decrypts with already-normalised password bytes; `password_file` is named if wrong.
    fn decrypt_normalized(
        &self,
        password: &[u8],
        password_file: Option<&Path>,
    ) -> Result<crate::SecretBytes, KeystoreError> {
        let key = self
            .kdf
            .derive_key(password)
            .map_err(|p| json::kdf_error(p, self.file.as_deref()))?;
        let expected = checksum(&key, &self.ciphertext);
        if !constant_time_eq(&expected, &self.checksum) {
            return Err(KeystoreError::WrongPassword {
                path: self.file.clone(),
                password_file: password_file.map(Path::to_path_buf),
            });
        }
        let mut secret = Zeroizing::new(self.ciphertext);
        apply_cipher(&key, &self.iv, &mut secret);
        Ok(crate::SecretBytes::new(*secret))
    }

    /// Encrypts `secret` into a new keystore with a fresh random salt, IV and UUID (v4).
    ///
    /// `pubkey` is recorded as given (it should be the secret's public key), `path` is the
    /// EIP-2334 derivation path or `""`. Use [`Kdf::Scrypt`] unless there is a reason not to.
    pub fn encrypt(
        secret: &crate::SecretBytes,
        password: &str,
        pubkey: &[u8; 48],
        path: &str,
        kdf: Kdf,
    ) -> Result<Self, KeystoreError> {
        let mut salt = vec![0u8; 32];
        let mut iv = [0u8; 16];
        let random_failed = |e: getrandom::Error| KeystoreError::Random {
            reason: e.to_string(),
        };
        getrandom::fill(&mut salt).map_err(random_failed)?;
        getrandom::fill(&mut iv).map_err(random_failed)?;
        let kdf = KdfParams::for_new_keystore(kdf, salt);

        let key = kdf
            .derive_key(&normalize_password(password))
            .map_err(|p| json::kdf_error(p, None))?;
        let mut ciphertext = *secret.expose();
        apply_cipher(&key, &iv, &mut ciphertext);
        Ok(Self {
            checksum: checksum(&key, &ciphertext),
            kdf,
            iv,
            ciphertext,
            description: None,
            pubkey: Some(*pubkey),
            path: path.to_owned(),
            uuid: Uuid::new_v4(),
            file: None,
        })
    }

    /// The keystore as pretty-printed EIP-2335 JSON, ready to write to a file.
    pub fn to_json_pretty(&self) -> String {
        json::to_json_pretty(self)
    }

    /// The declared BLS12-381 public key (compressed, 48 bytes); `None` when the `pubkey`
    /// field is empty. Not verified against the secret.
    pub fn pubkey(&self) -> Option<&[u8; 48]> {
        self.pubkey.as_ref()
    }

    /// The EIP-2334 derivation path, such as `m/12381/3600/0/0/0`; may be empty.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The keystore's UUID.
    pub fn uuid(&self) -> Uuid {
        self.uuid
    }

    /// The free-text description, if any.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The file this keystore was read from, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }
}

/// EIP-2335 checksum: SHA-256(DK[16..32] || ciphertext).
fn checksum(key: &[u8; 32], ciphertext: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update(&key[16..])
        .chain_update(ciphertext)
        .finalize()
        .into()
}

/// AES-128-CTR with key DK[0..16]; encrypts and decrypts alike.
fn apply_cipher(key: &[u8; 32], iv: &[u8; 16], data: &mut [u8; 32]) {
    // `from_slice` cannot panic here: `key[..16]` of a 32-byte array is always 16 bytes.
    let aes_key = aes::cipher::Key::<aes::Aes128>::from_slice(&key[..16]);
    let mut cipher = Aes128Ctr::new(aes_key, iv.into());
    cipher.apply_keystream(data);
}

/// Compares without an early exit, so timing does not reveal how much of a checksum matched.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // Keeps the optimiser from turning the fold back into an early-exit comparison.
    std::hint::black_box(difference) == 0
}
