//! The EIP-2335 JSON model, and its translation to and from a validated [`Keystore`].
//!
//! Parsing is two steps: serde checks the shape (its errors carry line and column), then every
//! value is checked by hand so an error can name the exact field (`crypto.cipher.params.iv`).

use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::kdf::{DKLEN, KdfField, KdfParams, KdfProblem};
use super::{Keystore, KeystoreError};

/// The only keystore version we read and write.
const VERSION: u64 = 4;

/// A keystore as it appears in JSON, before validation. Unknown fields are ignored because some
/// tools add their own (`name`, for example).
#[derive(Deserialize)]
struct RawKeystore {
    crypto: RawCrypto,
    #[serde(default)]
    description: Option<String>,
    // `pubkey` and `path` may legitimately be empty; some tools omit them entirely.
    #[serde(default)]
    pubkey: String,
    #[serde(default)]
    path: String,
    uuid: String,
    version: u64,
}

/// The `crypto` object.
#[derive(Deserialize)]
struct RawCrypto {
    kdf: RawModule,
    checksum: RawModule,
    cipher: RawModule,
}

/// One of the `crypto.kdf`, `crypto.checksum` and `crypto.cipher` modules. `params` and
/// `message` default to empty so that a missing one is reported by field name.
#[derive(Deserialize)]
struct RawModule {
    function: String,
    #[serde(default)]
    params: Map<String, Value>,
    #[serde(default)]
    message: String,
}

/// `crypto.kdf.params` for scrypt.
#[derive(Deserialize)]
struct RawScryptParams {
    dklen: u64,
    n: u64,
    r: u64,
    p: u64,
    salt: String,
}

/// `crypto.kdf.params` for PBKDF2.
#[derive(Deserialize)]
struct RawPbkdf2Params {
    dklen: u64,
    c: u64,
    prf: String,
    salt: String,
}

/// Just the version, to explain why a keystore of another version did not parse.
#[derive(Deserialize)]
struct VersionProbe {
    version: Option<Value>,
}

/// Parses and validates keystore JSON; `file` is named in every error.
pub(crate) fn parse(text: &[u8], file: Option<&Path>) -> Result<Keystore, KeystoreError> {
    let owned_file = || file.map(Path::to_path_buf);
    let invalid = |field: &'static str, reason: String| KeystoreError::InvalidField {
        path: owned_file(),
        field,
        reason,
    };

    let raw: RawKeystore = match serde_json::from_slice(text) {
        Ok(raw) => raw,
        Err(error) => {
            // A different version (say, a version-3 Ethereum account keystore) fails the
            // shape check; saying "version 3" helps more than "missing field `checksum`".
            if let Ok(VersionProbe {
                version: Some(version),
            }) = serde_json::from_slice(text)
                && version != VERSION
            {
                return Err(KeystoreError::UnsupportedVersion {
                    path: owned_file(),
                    version: version.to_string(),
                });
            }
            return Err(KeystoreError::Json {
                path: owned_file(),
                detail: error.to_string(),
            });
        }
    };
    if raw.version != VERSION {
        return Err(KeystoreError::UnsupportedVersion {
            path: owned_file(),
            version: raw.version.to_string(),
        });
    }

    let crypto = raw.crypto;
    if crypto.cipher.function != "aes-128-ctr" {
        return Err(KeystoreError::UnsupportedCipher {
            path: owned_file(),
            function: crypto.cipher.function,
        });
    }
    if crypto.checksum.function != "sha256" {
        return Err(KeystoreError::UnsupportedChecksum {
            path: owned_file(),
            function: crypto.checksum.function,
        });
    }
    let kdf = parse_kdf(crypto.kdf, file)?;

    let checksum = hex_array::<32>(&crypto.checksum.message, "crypto.checksum.message", file)?;
    let iv = match crypto.cipher.params.get("iv") {
        Some(Value::String(iv)) => hex_array::<16>(iv, "crypto.cipher.params.iv", file)?,
        Some(other) => {
            return Err(invalid(
                "crypto.cipher.params.iv",
                format!("expected a hex string, found {}", json_kind(other)),
            ));
        }
        None => return Err(invalid("crypto.cipher.params.iv", "missing".to_owned())),
    };
    let ciphertext = hex_bytes(&crypto.cipher.message, "crypto.cipher.message", file)?;
    let ciphertext: [u8; 32] = ciphertext.as_slice().try_into().map_err(|_| {
        invalid(
            "crypto.cipher.message",
            format!(
                "the encrypted secret must be 32 bytes (a BLS12-381 secret key), found {}",
                ciphertext.len()
            ),
        )
    })?;

    let pubkey = if raw.pubkey.is_empty() {
        None
    } else {
        Some(hex_array::<48>(&raw.pubkey, "pubkey", file)?)
    };
    let uuid = Uuid::parse_str(&raw.uuid)
        .map_err(|e| invalid("uuid", format!("{:?} is not a UUID: {e}", raw.uuid)))?;

    Ok(Keystore {
        kdf,
        checksum,
        iv,
        ciphertext,
        description: raw.description,
        pubkey,
        path: raw.path,
        uuid,
        file: owned_file(),
    })
}

/// Validates `crypto.kdf`.
fn parse_kdf(kdf: RawModule, file: Option<&Path>) -> Result<KdfParams, KeystoreError> {
    let invalid = |field: &'static str, reason: String| KeystoreError::InvalidField {
        path: file.map(Path::to_path_buf),
        field,
        reason,
    };
    let params = Value::Object(kdf.params);
    let check_dklen = |dklen: u64| {
        if dklen == DKLEN {
            Ok(())
        } else {
            Err(invalid(
                "crypto.kdf.params.dklen",
                format!("must be {DKLEN}, found {dklen}"),
            ))
        }
    };
    match kdf.function.as_str() {
        "scrypt" => {
            let raw = RawScryptParams::deserialize(&params)
                .map_err(|e| invalid("crypto.kdf.params", format!("bad scrypt parameters: {e}")))?;
            check_dklen(raw.dklen)?;
            let salt = hex_bytes(&raw.salt, "crypto.kdf.params.salt", file)?;
            KdfParams::scrypt(raw.n, raw.r, raw.p, salt).map_err(|problem| kdf_error(problem, file))
        }
        "pbkdf2" => {
            let raw = RawPbkdf2Params::deserialize(&params)
                .map_err(|e| invalid("crypto.kdf.params", format!("bad pbkdf2 parameters: {e}")))?;
            check_dklen(raw.dklen)?;
            if raw.prf != "hmac-sha256" {
                return Err(invalid(
                    "crypto.kdf.params.prf",
                    format!(
                        "{:?} is not supported; EIP-2335 defines only \"hmac-sha256\"",
                        raw.prf
                    ),
                ));
            }
            let salt = hex_bytes(&raw.salt, "crypto.kdf.params.salt", file)?;
            KdfParams::pbkdf2(raw.c, salt).map_err(|problem| kdf_error(problem, file))
        }
        _ => Err(KeystoreError::UnsupportedKdf {
            path: file.map(Path::to_path_buf),
            function: kdf.function,
        }),
    }
}

/// Decodes hex, tolerating a `0x` prefix: EIP-2335 and web3 keystores write none, but
/// hand-edited and some tool-written files have one.
pub(crate) fn decode_hex(text: &str) -> Result<Vec<u8>, String> {
    hex::decode(text.strip_prefix("0x").unwrap_or(text)).map_err(|e| format!("not valid hex: {e}"))
}

/// Decodes hex of exactly `N` bytes.
pub(crate) fn decode_hex_array<const N: usize>(text: &str) -> Result<[u8; N], String> {
    let bytes = decode_hex(text)?;
    bytes.as_slice().try_into().map_err(|_| {
        format!(
            "must be {N} bytes ({} hex digits), found {} bytes",
            N * 2,
            bytes.len()
        )
    })
}

fn hex_bytes(
    text: &str,
    field: &'static str,
    file: Option<&Path>,
) -> Result<Vec<u8>, KeystoreError> {
    decode_hex(text).map_err(|reason| KeystoreError::InvalidField {
        path: file.map(Path::to_path_buf),
        field,
        reason,
    })
}

fn hex_array<const N: usize>(
    text: &str,
    field: &'static str,
    file: Option<&Path>,
) -> Result<[u8; N], KeystoreError> {
    decode_hex_array(text).map_err(|reason| KeystoreError::InvalidField {
        path: file.map(Path::to_path_buf),
        field,
        reason,
    })
}

/// "a number", "an object", ...: for messages about a value of the wrong type.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The keystore as EIP-2335 JSON, pretty-printed.
pub(crate) fn to_json_pretty(keystore: &Keystore) -> String {
    let mut object = serde_json::json!({
        "crypto": {
            "kdf": keystore.kdf.to_json(),
            "checksum": {
                "function": "sha256",
                "params": {},
                "message": hex::encode(keystore.checksum),
            },
            "cipher": {
                "function": "aes-128-ctr",
                "params": { "iv": hex::encode(keystore.iv) },
                "message": hex::encode(keystore.ciphertext),
            },
        },
        "pubkey": keystore.pubkey.map(hex::encode).unwrap_or_default(),
        "path": keystore.path,
        "uuid": keystore.uuid.to_string(),
        "version": VERSION,
    });
    if let (Some(description), Value::Object(map)) = (&keystore.description, &mut object) {
        map.insert("description".to_owned(), Value::from(description.as_str()));
    }
    // `{:#}` is `Value`'s infallible pretty printer (to_string_pretty returns a Result).
    format!("{object:#}")
}

/// A KDF problem as an EIP-2335 keystore error, with the field named as EIP-2335 spells it.
pub(super) fn kdf_error(problem: KdfProblem, file: Option<&Path>) -> KeystoreError {
    let path = file.map(Path::to_path_buf);
    match problem {
        KdfProblem::Invalid(field, reason) => KeystoreError::InvalidField {
            path,
            field: match field {
                KdfField::Params => "crypto.kdf.params",
                KdfField::N => "crypto.kdf.params.n",
                KdfField::R => "crypto.kdf.params.r",
                KdfField::P => "crypto.kdf.params.p",
                KdfField::C => "crypto.kdf.params.c",
            },
            reason,
        },
        KdfProblem::TooExpensive(reason) => KeystoreError::KdfTooExpensive { path, reason },
    }
}
