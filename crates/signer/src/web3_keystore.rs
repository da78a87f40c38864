//! Web3 secret-storage keystores (version 3, go-ethereum's format), as EigenLayer uses them:
//! eigensdk-go's BN254 key files (`*.bls.key.json`) and ECDSA operator keystores.
//!
//! Both hold go-ethereum's `crypto` section: a key derived from the password with scrypt or
//! PBKDF2-HMAC-SHA256, AES-128-CTR with the first 16 bytes of it, and a MAC
//! `keccak256(derivedKey[16..32] ‖ ciphertext)` that tells a wrong password. The password is
//! used as its UTF-8 bytes, without the normalisation EIP-2335 asks for: go-ethereum does not
//! normalise, so normalising would lock out a password that Go tools accept.
//!
//! eigensdk-go's BN254 file (`crypto/bls/attestation.go`, `encryptedBLSKeyJSONV3`) is
//! `{"pubKey": "E([x,y])", "crypto": {...}}`: the G1 public key in gnark's decimal notation
//! beside the secret-storage `crypto` section, and no `id`, `version` or `address`.
//!
//! Parsing checks everything that can be checked without the password, including caps on the
//! KDF cost (the limits of [`crate::keystore`]), so a hostile file is refused before any memory
//! is spent on it. Every error names the file.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aes::cipher::{KeyIvInit, StreamCipher};
use alloy_primitives::{U256, keccak256};
use serde::Deserialize;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::{
    SecretBytes, bn254,
    keystore::{
        Kdf,
        fs::{MAX_FILE_BYTES, ReadError, read_bounded},
        json::{decode_hex, decode_hex_array},
        kdf::{DKLEN, KdfField, KdfParams, KdfProblem},
    },
};

/// AES-128 in counter mode with a 128-bit big-endian counter, as go-ethereum uses it.
type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

/// Why a web3 secret-storage keystore could not be used. `path: None` means the keystore was
/// given as JSON text rather than read from a file.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Web3KeystoreError {
    /// The file could not be read.
    #[error(
        "cannot read keystore {}: {source}; check that it exists and that the node's user may \
         read it",
        path.display()
    )]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: Arc<io::Error>,
    },
    /// The file is far larger than any keystore; it is not read.
    #[error("{} is {size} bytes, larger than the {limit}-byte limit for keystores; it is not a keystore", path.display())]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// Not JSON, or not shaped like a secret-storage keystore.
    #[error(
        "keystore {} is not a web3 secret-storage (version 3) JSON keystore ({detail}); restore \
         it from your backup or re-export it from the tool that created it",
        shown(path)
    )]
    Json {
        /// The keystore file, if it came from one.
        path: Option<PathBuf>,
        /// What the JSON parser reported, with line and column.
        detail: String,
    },
    /// `version` is present and not 3.
    #[error(
        "keystore {} has version {version}; only version 3 secret-storage keystores are supported",
        shown(path)
    )]
    UnsupportedVersion {
        /// The keystore file, if it came from one.
        path: Option<PathBuf>,
        /// The version as written.
        version: String,
    },
    /// `crypto.kdf` is neither `scrypt` nor `pbkdf2`.
    #[error(
        "keystore {} uses key-derivation function {function:?}; only \"scrypt\" and \"pbkdf2\" \
         are defined: re-export the key with a standard tool",
        shown(path)
    )]
    UnsupportedKdf {
        /// The keystore file, if it came from one.
        path: Option<PathBuf>,
        /// The function named in the file.
        function: String,
    },
    /// `crypto.cipher` is not `aes-128-ctr`.
    #[error(
        "keystore {} uses cipher {function:?}; only \"aes-128-ctr\" is supported: re-export \
         the key with a standard tool",
        shown(path)
    )]
    UnsupportedCipher {
        /// The keystore file, if it came from one.
        path: Option<PathBuf>,
        /// The cipher named in the file.
        function: String,
    },
    /// A field is present but malformed or out of range.
    #[error(
        "keystore {}: field {field} is invalid: {reason}; the file is corrupt or was not \
         written by a standard tool: restore it from your backup",
        shown(path)
    )]
    InvalidField {
        /// The keystore file, if it came from one.
        path: Option<PathBuf>,
        /// The JSON path of the field, such as `crypto.cipherparams.iv`.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The KDF parameters cost more than any standard keystore; refused before any work.
    #[error(
        "keystore {}: refusing to derive its key: {reason}; standard keystores use scrypt \
         n=262144 r=8 p=1: regenerate this keystore, and check that nobody tampered with it",
        shown(path)
    )]
    KdfTooExpensive {
        /// The keystore file, if it came from one.
        path: Option<PathBuf>,
        /// Which parameter is over which limit.
        reason: String,
    },
    /// The MAC does not match: the password is wrong (or the ciphertext was altered).
    #[error(
        "wrong password for keystore {}: the MAC does not match; check that the password \
         belongs to this keystore and that the file is not corrupt",
        shown(path)
    )]
    WrongPassword {
        /// The keystore file, if it came from one.
        path: Option<PathBuf>,
    },
    /// The decrypted secret is not a valid key of the keystore's scheme.
    #[error(
        "keystore {} decrypts to an invalid {scheme} secret key: {reason}",
        shown(path)
    )]
    InvalidSecret {
        /// The keystore file, if it came from one.
        path: Option<PathBuf>,
        /// The scheme, such as `bn254`.
        scheme: &'static str,
        /// Why the secret is not a key (never the secret itself).
        reason: String,
    },
    /// The keystore declares a public key (or address) that is not its secret's.
    #[error(
        "keystore {} declares {scheme} key {declared} but its secret key is for {actual}; the \
         file was edited or assembled from two keys: restore it from your backup",
        shown(path)
    )]
    DeclaredKeyMismatch {
        /// The keystore file, if it came from one.
        path: Option<PathBuf>,
        /// The scheme, such as `secp256k1`.
        scheme: &'static str,
        /// What the keystore declares.
        declared: String,
        /// What the secret's key is.
        actual: String,
    },
    /// Decryption failed for another reason (reported by the ECDSA keystore library).
    #[error("cannot decrypt keystore {}: {reason}", shown(path))]
    Decrypt {
        /// The keystore file, if it came from one.
        path: Option<PathBuf>,
        /// The library's error.
        reason: String,
    },
    /// The OS random number generator failed while creating a keystore.
    #[error("cannot create a keystore: the OS random number generator failed: {reason}")]
    Random {
        /// The error from the generator.
        reason: String,
    },
}

/// A parsed and validated BN254 keystore in eigensdk-go's format: an encrypted BN254 secret
/// and, usually, the G1 public key it declares.
#[derive(Debug, Clone)]
pub struct Bn254Keystore {
    crypto: Crypto,
    declared: Option<bn254::PublicKey>,
    file: Option<PathBuf>,
}

impl Bn254Keystore {
    /// Reads and parses a keystore file (at most 1 MiB). Every error names `file`.
    pub fn from_file(file: &Path) -> Result<Self, Web3KeystoreError> {
        let bytes = read_capped(file)?;
        Self::parse(&bytes, Some(file))
    }

    /// Parses keystore JSON held in memory; prefer [`Bn254Keystore::from_file`] so errors name
    /// the file.
    pub fn from_json(json: &str) -> Result<Self, Web3KeystoreError> {
        Self::parse(json.as_bytes(), None)
    }

    fn parse(text: &[u8], file: Option<&Path>) -> Result<Self, Web3KeystoreError> {
        #[derive(Deserialize)]
        struct Raw {
            // go-ethereum matches field names case-insensitively; these are the spellings
            // its tools have written.
            #[serde(alias = "Crypto")]
            crypto: RawCrypto,
            #[serde(default, rename = "pubKey", alias = "pubkey")]
            pub_key: String,
        }
        let raw: Raw = serde_json::from_slice(text).map_err(|e| Web3KeystoreError::Json {
            path: file.map(Path::to_path_buf),
            detail: e.to_string(),
        })?;
        let crypto = Crypto::validate(raw.crypto, file)?;
        let declared =
            match raw.pub_key.trim() {
                "" => None,
                text => Some(parse_gnark_g1(text).map_err(|reason| {
                    Web3KeystoreError::InvalidField {
                        path: file.map(Path::to_path_buf),
                        field: "pubKey",
                        reason,
                    }
                })?),
            };
        Ok(Self {
            crypto,
            declared,
            file: file.map(Path::to_path_buf),
        })
    }

    /// Decrypts the 32-byte secret scalar (big-endian). Slow by design (about a second for a
    /// standard scrypt keystore, with 256 MiB of memory): call it off the async runtime.
    ///
    /// A wrong password gives [`Web3KeystoreError::WrongPassword`]. The secret is not yet
    /// checked to be a valid key, nor against the declared public key: loading it into a
    /// [`crate::Keyring`] does both.
    pub fn decrypt(&self, password: &str) -> Result<SecretBytes, Web3KeystoreError> {
        let secret = self
            .crypto
            .decrypt(password.as_bytes(), self.file.as_deref())?;
        SecretBytes::from_slice(&secret).ok_or_else(|| Web3KeystoreError::InvalidField {
            path: self.file.clone(),
            field: "crypto.ciphertext",
            reason: format!(
                "a BN254 secret is 32 bytes, the ciphertext is {} bytes",
                secret.len()
            ),
        })
    }

    /// Encrypts `secret` into a new keystore (fresh salt and IV) declaring its G1 public key,
    /// as eigensdk-go's `SaveToFile` does. Use [`Kdf::Scrypt`] (go-ethereum's standard
    /// n=262144, r=8, p=1) unless there is a reason not to.
    pub fn encrypt(
        secret: &SecretBytes,
        password: &str,
        kdf: Kdf,
    ) -> Result<Self, Web3KeystoreError> {
        let invalid = |e: bn254::Bn254Error| Web3KeystoreError::InvalidSecret {
            path: None,
            scheme: "bn254",
            reason: e.to_string(),
        };
        let public = bn254::SecretKey::from_secret(secret)
            .map_err(invalid)?
            .public_keys()
            .g1;
        Ok(Self {
            crypto: Crypto::encrypt(secret.expose(), password.as_bytes(), kdf)?,
            declared: Some(public),
            file: None,
        })
    }

    /// The keystore as JSON in eigensdk-go's shape (`pubKey` and `crypto`), ready to write.
    pub fn to_json(&self) -> String {
        let object = serde_json::json!({
            "pubKey": self.declared.as_ref().map(gnark_g1_string).unwrap_or_default(),
            "crypto": self.crypto.to_json(),
        });
        object.to_string()
    }

    /// The G1 public key the `pubKey` field declares, if any. Not verified against the secret.
    pub fn declared_public_key(&self) -> Option<&bn254::PublicKey> {
        self.declared.as_ref()
    }

    /// The file this keystore was read from, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }
}

/// What an ECDSA keystore declares, from the checks made before it is handed to alloy.
#[derive(Debug)]
pub(crate) struct EcdsaKeystoreHeader {
    /// The `address` field (20 bytes), if present.
    pub(crate) address: Option<[u8; 20]>,
}

/// Reads and validates an ECDSA secret-storage keystore without decrypting it: the file size,
/// the `crypto` section (including the KDF cost caps) and the `id`, `version` and `address`
/// fields that go-ethereum writes.
pub(crate) fn check_ecdsa_keystore(file: &Path) -> Result<EcdsaKeystoreHeader, Web3KeystoreError> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(alias = "Crypto")]
        crypto: RawCrypto,
        #[serde(default)]
        address: Option<String>,
        id: String,
        version: Value,
    }
    let path = || Some(file.to_path_buf());
    let text = read_capped(file)?;
    let raw: Raw = serde_json::from_slice(&text).map_err(|e| Web3KeystoreError::Json {
        path: path(),
        detail: e.to_string(),
    })?;
    if raw.version != 3 {
        return Err(Web3KeystoreError::UnsupportedVersion {
            path: path(),
            version: raw.version.to_string(),
        });
    }
    if uuid::Uuid::parse_str(&raw.id).is_err() {
        return Err(Web3KeystoreError::InvalidField {
            path: path(),
            field: "id",
            reason: format!("{:?} is not a UUID", raw.id),
        });
    }
    let crypto = Crypto::validate(raw.crypto, Some(file))?;
    if crypto.ciphertext.len() != 32 {
        return Err(Web3KeystoreError::InvalidField {
            path: path(),
            field: "crypto.ciphertext",
            reason: format!(
                "a secp256k1 secret is 32 bytes, the ciphertext is {} bytes",
                crypto.ciphertext.len()
            ),
        });
    }
    let address = match raw.address.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(hex_array::<20>(text, "address", Some(file))?),
    };
    Ok(EcdsaKeystoreHeader { address })
}

/// go-ethereum's `crypto` object, as written.
#[derive(Deserialize)]
struct RawCrypto {
    cipher: String,
    ciphertext: String,
    cipherparams: RawCipherParams,
    kdf: String,
    #[serde(default)]
    kdfparams: Map<String, Value>,
    mac: String,
}

#[derive(Deserialize)]
struct RawCipherParams {
    iv: String,
}

#[derive(Deserialize)]
struct RawScryptParams {
    dklen: u64,
    n: u64,
    r: u64,
    p: u64,
    salt: String,
}

#[derive(Deserialize)]
struct RawPbkdf2Params {
    dklen: u64,
    c: u64,
    prf: String,
    salt: String,
}

/// A validated `crypto` section.
#[derive(Debug, Clone)]
struct Crypto {
    kdf: KdfParams,
    iv: [u8; 16],
    ciphertext: Vec<u8>,
    mac: [u8; 32],
}

impl Crypto {
    fn validate(raw: RawCrypto, file: Option<&Path>) -> Result<Self, Web3KeystoreError> {
        if raw.cipher != "aes-128-ctr" {
            return Err(Web3KeystoreError::UnsupportedCipher {
                path: file.map(Path::to_path_buf),
                function: raw.cipher,
            });
        }
        let kdf = validate_kdf(&raw.kdf, raw.kdfparams, file)?;
        let iv = hex_array::<16>(&raw.cipherparams.iv, "crypto.cipherparams.iv", file)?;
        let mac = hex_array::<32>(&raw.mac, "crypto.mac", file)?;
        let ciphertext = hex_bytes(&raw.ciphertext, "crypto.ciphertext", file)?;
        Ok(Self {
            kdf,
            iv,
            ciphertext,
            mac,
        })
    }

    fn decrypt(
        &self,
        password: &[u8],
        file: Option<&Path>,
    ) -> Result<Zeroizing<Vec<u8>>, Web3KeystoreError> {
        let key = self
            .kdf
            .derive_key(password)
            .map_err(|p| kdf_error(p, file))?;
        if !constant_time_eq(&mac(&key, &self.ciphertext), &self.mac) {
            return Err(Web3KeystoreError::WrongPassword {
                path: file.map(Path::to_path_buf),
            });
        }
        let mut plain = Zeroizing::new(self.ciphertext.clone());
        apply_cipher(&key, &self.iv, &mut plain);
        Ok(plain)
    }

    fn encrypt(secret: &[u8; 32], password: &[u8], kdf: Kdf) -> Result<Self, Web3KeystoreError> {
        let mut salt = vec![0u8; 32];
        let mut iv = [0u8; 16];
        let random_failed = |e: getrandom::Error| Web3KeystoreError::Random {
            reason: e.to_string(),
        };
        getrandom::fill(&mut salt).map_err(random_failed)?;
        getrandom::fill(&mut iv).map_err(random_failed)?;
        // The same parameter sets as EIP-2335's, which are go-ethereum's standard ones.
        let kdf = KdfParams::for_new_keystore(kdf, salt);
        let key = kdf.derive_key(password).map_err(|p| kdf_error(p, None))?;
        let mut ciphertext = secret.to_vec();
        apply_cipher(&key, &iv, &mut ciphertext);
        Ok(Self {
            mac: mac(&key, &ciphertext),
            kdf,
            iv,
            ciphertext,
        })
    }

    fn to_json(&self) -> Value {
        let (kdf, kdfparams) = match &self.kdf {
            KdfParams::Scrypt { log_n, r, p, salt } => (
                "scrypt",
                serde_json::json!({
                    "dklen": DKLEN, "n": 1u64 << log_n, "p": p, "r": r, "salt": hex::encode(salt),
                }),
            ),
            KdfParams::Pbkdf2 { c, salt } => (
                "pbkdf2",
                serde_json::json!({
                    "c": c, "dklen": DKLEN, "prf": "hmac-sha256", "salt": hex::encode(salt),
                }),
            ),
        };
        serde_json::json!({
            "cipher": "aes-128-ctr",
            "ciphertext": hex::encode(&self.ciphertext),
            "cipherparams": { "iv": hex::encode(self.iv) },
            "kdf": kdf,
            "kdfparams": kdfparams,
            "mac": hex::encode(self.mac),
        })
    }
}

/// Validates the `kdf`/`kdfparams` of a web3 keystore into the shared KDF parameters.
fn validate_kdf(
    function: &str,
    params: Map<String, Value>,
    file: Option<&Path>,
) -> Result<KdfParams, Web3KeystoreError> {
    let invalid = |field: &'static str, reason: String| Web3KeystoreError::InvalidField {
        path: file.map(Path::to_path_buf),
        field,
        reason,
    };
    let check_dklen = |dklen: u64| {
        if dklen == DKLEN {
            Ok(())
        } else {
            Err(invalid(
                "crypto.kdfparams.dklen",
                format!("must be {DKLEN}, found {dklen}"),
            ))
        }
    };
    let params = Value::Object(params);
    match function {
        "scrypt" => {
            let raw = RawScryptParams::deserialize(&params)
                .map_err(|e| invalid("crypto.kdfparams", format!("bad scrypt parameters: {e}")))?;
            check_dklen(raw.dklen)?;
            // Limits first: nothing (not even the salt) is decoded for a hostile file.
            let checked = KdfParams::scrypt(raw.n, raw.r, raw.p, Vec::new())
                .map_err(|p| kdf_error(p, file))?;
            let salt = hex_bytes(&raw.salt, "crypto.kdfparams.salt", file)?;
            Ok(checked.with_salt(salt))
        }
        "pbkdf2" => {
            let raw = RawPbkdf2Params::deserialize(&params)
                .map_err(|e| invalid("crypto.kdfparams", format!("bad pbkdf2 parameters: {e}")))?;
            check_dklen(raw.dklen)?;
            if raw.prf != "hmac-sha256" {
                return Err(invalid(
                    "crypto.kdfparams.prf",
                    format!("{:?} is not supported; only \"hmac-sha256\" is", raw.prf),
                ));
            }
            let checked = KdfParams::pbkdf2(raw.c, Vec::new()).map_err(|p| kdf_error(p, file))?;
            let salt = hex_bytes(&raw.salt, "crypto.kdfparams.salt", file)?;
            Ok(checked.with_salt(salt))
        }
        _ => Err(Web3KeystoreError::UnsupportedKdf {
            path: file.map(Path::to_path_buf),
            function: function.to_owned(),
        }),
    }
}

/// A KDF problem as a web3 keystore error, with the field named as web3 keystores spell it.
fn kdf_error(problem: KdfProblem, file: Option<&Path>) -> Web3KeystoreError {
    let path = file.map(Path::to_path_buf);
    match problem {
        KdfProblem::Invalid(field, reason) => Web3KeystoreError::InvalidField {
            path,
            field: match field {
                KdfField::Params => "crypto.kdfparams",
                KdfField::N => "crypto.kdfparams.n",
                KdfField::R => "crypto.kdfparams.r",
                KdfField::P => "crypto.kdfparams.p",
                KdfField::C => "crypto.kdfparams.c",
            },
            reason,
        },
        KdfProblem::TooExpensive(reason) => Web3KeystoreError::KdfTooExpensive { path, reason },
    }
}

/// go-ethereum's MAC: keccak256(DK[16..32] ‖ ciphertext).
fn mac(key: &[u8; 32], ciphertext: &[u8]) -> [u8; 32] {
    let mut input = Zeroizing::new(Vec::with_capacity(16 + ciphertext.len()));
    input.extend_from_slice(&key[16..]);
    input.extend_from_slice(ciphertext);
    keccak256(&input[..]).0
}

/// AES-128-CTR with key DK[0..16]; encrypts and decrypts alike.
fn apply_cipher(key: &[u8; 32], iv: &[u8; 16], data: &mut [u8]) {
    // `from_slice` cannot panic: `key[..16]` of a 32-byte array is 16 bytes.
    let aes_key = aes::cipher::Key::<aes::Aes128>::from_slice(&key[..16]);
    Aes128Ctr::new(aes_key, iv.into()).apply_keystream(data);
}

/// Compares without an early exit, so timing does not reveal how much of a MAC matched.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

/// Reads a whole file of at most [`MAX_FILE_BYTES`] into a buffer zeroized on drop, warning
/// when others may read it.
fn read_capped(path: &Path) -> Result<Zeroizing<Vec<u8>>, Web3KeystoreError> {
    let (bytes, metadata) = read_bounded(path).map_err(|e| match e {
        ReadError::Io(e) => Web3KeystoreError::Io {
            path: path.to_path_buf(),
            source: Arc::new(e),
        },
        ReadError::TooLarge(size) => Web3KeystoreError::FileTooLarge {
            path: path.to_path_buf(),
            size,
            limit: MAX_FILE_BYTES,
        },
    })?;
    warn_if_exposed(path, &metadata);
    Ok(bytes)
}

/// Logs a warning when group or others have any access to a keystore: it still loads (refusing
/// would take the operator offline), but the permissions should be tightened.
#[cfg(unix)]
fn warn_if_exposed(path: &Path, metadata: &std::fs::Metadata) {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        tracing::warn!(
            path = %path.display(),
            mode = format_args!("{mode:04o}"),
            "keystore {} is accessible to group or others; run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
}

#[cfg(not(unix))]
fn warn_if_exposed(_path: &Path, _metadata: &std::fs::Metadata) {}

fn hex_bytes(
    text: &str,
    field: &'static str,
    file: Option<&Path>,
) -> Result<Vec<u8>, Web3KeystoreError> {
    decode_hex(text).map_err(|reason| Web3KeystoreError::InvalidField {
        path: file.map(Path::to_path_buf),
        field,
        reason,
    })
}

fn hex_array<const N: usize>(
    text: &str,
    field: &'static str,
    file: Option<&Path>,
) -> Result<[u8; N], Web3KeystoreError> {
    decode_hex_array(text).map_err(|reason| Web3KeystoreError::InvalidField {
        path: file.map(Path::to_path_buf),
        field,
        reason,
    })
}

/// Parses gnark's `G1Affine.String()`: `E([x,y])` with decimal coordinates.
fn parse_gnark_g1(text: &str) -> Result<bn254::PublicKey, String> {
    let inner = text
        .strip_prefix("E([")
        .and_then(|rest| rest.strip_suffix("])"))
        .ok_or_else(|| format!("expected gnark's \"E([x,y])\" notation, found {text:?}"))?;
    let (x, y) = inner
        .split_once(',')
        .ok_or_else(|| format!("expected two coordinates in {text:?}"))?;
    let mut bytes = [0u8; bn254::PUBLIC_KEY_LEN];
    for (coordinate, out) in [x, y].into_iter().zip(bytes.chunks_exact_mut(32)) {
        let value = U256::from_str_radix(coordinate.trim(), 10)
            .map_err(|e| format!("coordinate {coordinate:?} is not a decimal number: {e}"))?;
        out.copy_from_slice(&value.to_be_bytes::<32>());
    }
    bn254::PublicKey::from_bytes(&bytes).map_err(|e| e.to_string())
}

/// gnark's `E([x,y])` notation of a G1 key, as eigensdk-go writes `pubKey`.
fn gnark_g1_string(key: &bn254::PublicKey) -> String {
    let bytes = key.to_bytes();
    let coordinate = |word: &[u8]| U256::from_be_slice(word).to_string();
    format!(
        "E([{},{}])",
        coordinate(&bytes[..32]),
        coordinate(&bytes[32..])
    )
}

/// Names a keystore in a message: its file, or a note that it was given as JSON text.
fn shown(path: &Option<PathBuf>) -> impl fmt::Display + '_ {
    struct Shown<'a>(&'a Option<PathBuf>);
    impl fmt::Display for Shown<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self.0 {
                Some(path) => write!(f, "{}", path.display()),
                None => f.write_str("<given as JSON text, not a file>"),
            }
        }
    }
    Shown(path)
}

#[cfg(test)]
mod tests;
