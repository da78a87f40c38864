//! Tests of the keystore module, with helpers shared by its test files.

mod discovery;
mod fuzz;
mod malformed;
mod parallel;
mod round_trip;
mod vectors;

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Kdf, Keystore};
use crate::SecretBytes;

/// The EIP-2335 test vectors, shared by the whole project (see their README.md).
const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/eip2335"
);

/// Path of a vector file; panics with instructions if the vectors are missing, so the vector
/// tests can never silently pass without running.
fn vector_path(name: &str) -> PathBuf {
    let path = Path::new(VECTORS).join(name);
    assert!(
        path.is_file(),
        "EIP-2335 test vector {} is missing: the keystore tests need /work/shared/vectors/eip2335",
        path.display()
    );
    path
}

/// Text of a vector file.
fn vector_text(name: &str) -> String {
    let path = vector_path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The values in `expected.json`.
struct Expected {
    password: String,
    password_utf8: Vec<u8>,
    normalized_password: Vec<u8>,
    secret: [u8; 32],
    pubkey: [u8; 48],
}

fn expected() -> Expected {
    let json: serde_json::Value = serde_json::from_str(&vector_text("expected.json")).unwrap();
    let hex_field = |name: &str| {
        let text = json[name]
            .as_str()
            .unwrap_or_else(|| panic!("expected.json lacks {name}"));
        hex::decode(text.trim_start_matches("0x")).unwrap()
    };
    Expected {
        password: json["password"].as_str().unwrap().to_owned(),
        password_utf8: hex_field("password_utf8_hex"),
        normalized_password: hex_field("password_nfkd_stripped_utf8_hex"),
        secret: hex_field("secret").try_into().unwrap(),
        pubkey: hex_field("pubkey").try_into().unwrap(),
    }
}

/// A fast keystore (insecure KDF) whose secret is `[seed; 32]` and pubkey `[seed; 48]`.
fn cheap_keystore(seed: u8, password: &str) -> Keystore {
    Keystore::encrypt(
        &SecretBytes::new([seed; 32]),
        password,
        &[seed; 48],
        &format!("m/12381/3600/{seed}/0/0"),
        Kdf::InsecureFastScrypt,
    )
    .unwrap()
}

/// Writes a file readable only by its owner, as keystores and passwords should be.
fn write_private(path: &Path, contents: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).unwrap();
    file.write_all(contents.as_ref()).unwrap();
}

/// Asserts that an error's message names `path`, which is what an operator needs first.
fn assert_names(error: &impl std::fmt::Display, path: &Path) {
    let message = error.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "error does not name {}: {message}",
        path.display()
    );
}
