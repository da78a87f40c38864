//! Bad keystores: each is refused with a specific error that names the file.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{assert_names, cheap_keystore, vector_text, write_private};
use crate::keystore::fs::MAX_FILE_BYTES;
use crate::keystore::{Keystore, KeystoreError};

/// Writes the scrypt vector, edited by `edit`, to `dir/name` and parses it.
fn parse_edited(dir: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> (PathBuf, KeystoreError) {
    let mut json: Value = serde_json::from_str(&vector_text("scrypt.json")).unwrap();
    edit(&mut json);
    let path = dir.join(name);
    write_private(&path, json.to_string());
    let error = Keystore::from_file(&path).expect_err("the edited keystore must be refused");
    assert_names(&error, &path);
    (path, error)
}

/// Sets the value at a JSON pointer such as `/crypto/kdf/params/n`.
fn set(json: &mut Value, pointer: &str, value: Value) {
    *json
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}")) = value;
}

/// Asserts `error` is `InvalidField` about `expected_field`.
fn assert_invalid_field(error: &KeystoreError, expected_field: &str) {
    assert!(
        matches!(error, KeystoreError::InvalidField { field, .. } if *field == expected_field),
        "expected InvalidField {{ field: {expected_field} }}, got {error:?}"
    );
}

#[test]
fn truncated_json_is_a_json_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = vector_text("scrypt.json");
    let path = dir.path().join("truncated.json");
    write_private(&path, &text[..text.len() / 2]);
    let error = Keystore::from_file(&path).unwrap_err();
    assert!(
        matches!(&error, KeystoreError::Json { path: Some(p), .. } if *p == path),
        "{error:?}"
    );
    assert_names(&error, &path);
    assert!(
        error.to_string().contains("line"),
        "no position given: {error}"
    );
}

#[test]
fn garbled_json_is_a_json_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbled.json");
    write_private(&path, b"{\"crypto\": [}}\x01 not json");
    let error = Keystore::from_file(&path).unwrap_err();
    assert!(
        matches!(&error, KeystoreError::Json { path: Some(p), .. } if *p == path),
        "{error:?}"
    );
}

#[test]
fn non_utf8_keystore_is_a_json_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("binary.json");
    write_private(&path, [0xff, 0xfe, 0x00, 0x7b]);
    let error = Keystore::from_file(&path).unwrap_err();
    assert!(matches!(error, KeystoreError::Json { .. }), "{error:?}");
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.json");
    let error = Keystore::from_file(&path).unwrap_err();
    assert!(
        matches!(&error, KeystoreError::Io { path: p, .. } if *p == path),
        "{error:?}"
    );
    assert_names(&error, &path);
}

#[test]
fn oversized_file_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    write_private(
        &path,
        vec![b' '; usize::try_from(MAX_FILE_BYTES).unwrap() + 1],
    );
    let error = Keystore::from_file(&path).unwrap_err();
    assert!(
        matches!(error, KeystoreError::FileTooLarge { .. }),
        "{error:?}"
    );
    assert_names(&error, &path);
}

#[test]
fn wrong_password_is_reported_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keystore.json");
    write_private(&path, cheap_keystore(1, "right").to_json_pretty());
    let keystore = Keystore::from_file(&path).unwrap();
    let error = keystore.decrypt("wrong").unwrap_err();
    assert!(
        matches!(&error, KeystoreError::WrongPassword { path: Some(p), password_file: None } if *p == path),
        "{error:?}"
    );
    assert_names(&error, &path);
    assert!(keystore.decrypt("right").is_ok());
}

#[test]
fn flipped_ciphertext_byte_fails_the_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let mut json: Value = serde_json::from_str(&cheap_keystore(2, "pw").to_json_pretty()).unwrap();
    let message = json
        .pointer("/crypto/cipher/message")
        .and_then(Value::as_str)
        .unwrap();
    let mut ciphertext = hex::decode(message).unwrap();
    ciphertext[5] ^= 0x01;
    set(
        &mut json,
        "/crypto/cipher/message",
        json!(hex::encode(ciphertext)),
    );
    let path = dir.path().join("tampered.json");
    write_private(&path, json.to_string());

    let error = Keystore::from_file(&path)
        .unwrap()
        .decrypt("pw")
        .unwrap_err();
    assert!(
        matches!(&error, KeystoreError::WrongPassword { path: Some(p), .. } if *p == path),
        "{error:?}"
    );
    assert_names(&error, &path);
}

#[test]
fn unsupported_kdf_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (_, error) = parse_edited(dir.path(), "argon.json", |json| {
        set(json, "/crypto/kdf/function", json!("argon2id"));
    });
    assert!(
        matches!(&error, KeystoreError::UnsupportedKdf { function, .. } if function == "argon2id"),
        "{error:?}"
    );
}

#[test]
fn unsupported_cipher_and_checksum_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (_, error) = parse_edited(dir.path(), "cbc.json", |json| {
        set(json, "/crypto/cipher/function", json!("aes-128-cbc"));
    });
    assert!(
        matches!(error, KeystoreError::UnsupportedCipher { .. }),
        "{error:?}"
    );
    let (_, error) = parse_edited(dir.path(), "sha3.json", |json| {
        set(json, "/crypto/checksum/function", json!("sha3-256"));
    });
    assert!(
        matches!(error, KeystoreError::UnsupportedChecksum { .. }),
        "{error:?}"
    );
}

#[test]
fn other_versions_are_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let (_, error) = parse_edited(dir.path(), "v3.json", |json| {
        set(json, "/version", json!(3))
    });
    assert!(
        matches!(&error, KeystoreError::UnsupportedVersion { version, .. } if version == "3"),
        "{error:?}"
    );
    // An Ethereum account (version 3) keystore has a different shape entirely; the version,
    // not the first missing field, is what the operator needs to hear.
    let v3 = json!({
        "version": 3,
        "crypto": { "cipher": "aes-128-ctr", "kdfparams": {}, "mac": "00" },
        "address": "00",
    });
    let (_, error) = parse_edited(dir.path(), "account.json", |json| *json = v3);
    assert!(
        matches!(error, KeystoreError::UnsupportedVersion { .. }),
        "{error:?}"
    );
}

#[test]
fn hostile_scrypt_parameters_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = [
        ("n_2_40.json", "/crypto/kdf/params/n", json!(1u64 << 40)),
        ("n_2_21.json", "/crypto/kdf/params/n", json!(1u64 << 21)),
        ("n_max.json", "/crypto/kdf/params/n", json!(u64::MAX)),
        // n = 2^18 with r = 64 needs 2 GiB.
        ("r_64.json", "/crypto/kdf/params/r", json!(64)),
        ("p_huge.json", "/crypto/kdf/params/p", json!(u32::MAX)),
        ("r_max.json", "/crypto/kdf/params/r", json!(u64::MAX)),
    ];
    for (name, pointer, value) in hostile {
        let started = Instant::now();
        let (_, error) = parse_edited(dir.path(), name, |json| set(json, pointer, value));
        assert!(
            matches!(
                error,
                KeystoreError::KdfTooExpensive { .. } | KeystoreError::InvalidField { .. }
            ),
            "{name}: {error:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{name} took {:?}",
            started.elapsed()
        );
    }
    let (_, error) = parse_edited(dir.path(), "n_2_30.json", |json| {
        set(json, "/crypto/kdf/params/n", json!(1u64 << 30));
    });
    assert!(
        matches!(error, KeystoreError::KdfTooExpensive { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("n=1073741824"), "{error}");
}

#[test]
fn invalid_scrypt_parameters_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("/crypto/kdf/params/n", json!(1000), "crypto.kdf.params.n"),
        ("/crypto/kdf/params/n", json!(1), "crypto.kdf.params.n"),
        ("/crypto/kdf/params/r", json!(0), "crypto.kdf.params.r"),
        ("/crypto/kdf/params/p", json!(0), "crypto.kdf.params.p"),
        // n = 2^18 needs r >= 2 (scrypt requires n < 2^(16 r)).
        ("/crypto/kdf/params/r", json!(1), "crypto.kdf.params"),
        ("/crypto/kdf/params/n", json!(-4), "crypto.kdf.params"),
        ("/crypto/kdf/params/n", json!("262144"), "crypto.kdf.params"),
        (
            "/crypto/kdf/params/dklen",
            json!(64),
            "crypto.kdf.params.dklen",
        ),
        (
            "/crypto/kdf/params/salt",
            json!("not hex"),
            "crypto.kdf.params.salt",
        ),
    ];
    for (i, (pointer, value, field)) in cases.into_iter().enumerate() {
        let (_, error) = parse_edited(dir.path(), &format!("case{i}.json"), |json| {
            set(json, pointer, value);
        });
        assert_invalid_field(&error, field);
    }
}

#[test]
fn missing_scrypt_parameter_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_, error) = parse_edited(dir.path(), "no_salt.json", |json| {
        json.pointer_mut("/crypto/kdf/params")
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("salt");
    });
    assert_invalid_field(&error, "crypto.kdf.params");
    assert!(error.to_string().contains("salt"), "{error}");
}

#[test]
fn invalid_pbkdf2_parameters_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pbkdf2 = |c: Value, prf: &'static str| {
        move |json: &mut Value| {
            set(json, "/crypto/kdf/function", json!("pbkdf2"));
            set(
                json,
                "/crypto/kdf/params",
                json!({ "dklen": 32, "c": c, "prf": prf, "salt": "00112233" }),
            );
        }
    };
    let (_, error) = parse_edited(
        dir.path(),
        "sha512.json",
        pbkdf2(json!(262144), "hmac-sha512"),
    );
    assert_invalid_field(&error, "crypto.kdf.params.prf");
    let (_, error) = parse_edited(dir.path(), "c0.json", pbkdf2(json!(0), "hmac-sha256"));
    assert_invalid_field(&error, "crypto.kdf.params.c");
    let (_, error) = parse_edited(
        dir.path(),
        "chuge.json",
        pbkdf2(json!(1u64 << 40), "hmac-sha256"),
    );
    assert!(
        matches!(error, KeystoreError::KdfTooExpensive { .. }),
        "{error:?}"
    );
}

#[test]
fn wrong_iv_length_names_the_iv() {
    let dir = tempfile::tempdir().unwrap();
    let (_, error) = parse_edited(dir.path(), "iv15.json", |json| {
        set(
            json,
            "/crypto/cipher/params/iv",
            json!("264daa3f303d7259501c93d997d84f"),
        );
    });
    assert_invalid_field(&error, "crypto.cipher.params.iv");
    assert!(error.to_string().contains("16 bytes"), "{error}");
    let (_, error) = parse_edited(dir.path(), "iv_missing.json", |json| {
        set(json, "/crypto/cipher/params", json!({}));
    });
    assert_invalid_field(&error, "crypto.cipher.params.iv");
    let (_, error) = parse_edited(dir.path(), "iv_number.json", |json| {
        set(json, "/crypto/cipher/params/iv", json!(7));
    });
    assert_invalid_field(&error, "crypto.cipher.params.iv");
}

#[test]
fn bad_hex_and_lengths_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "/crypto/checksum/message",
            json!("zz"),
            "crypto.checksum.message",
        ),
        (
            "/crypto/checksum/message",
            json!("abcd"),
            "crypto.checksum.message",
        ),
        (
            "/crypto/cipher/message",
            json!("0g"),
            "crypto.cipher.message",
        ),
        // A 31-byte secret is not a BLS12-381 secret key.
        (
            "/crypto/cipher/message",
            json!("00".repeat(31)),
            "crypto.cipher.message",
        ),
        (
            "/crypto/cipher/params/iv",
            json!("xyz"),
            "crypto.cipher.params.iv",
        ),
        ("/pubkey", json!("1234"), "pubkey"),
        ("/pubkey", json!("q".repeat(96)), "pubkey"),
        ("/uuid", json!("not-a-uuid"), "uuid"),
    ];
    for (i, (pointer, value, field)) in cases.into_iter().enumerate() {
        let (_, error) = parse_edited(dir.path(), &format!("case{i}.json"), |json| {
            set(json, pointer, value);
        });
        assert_invalid_field(&error, field);
    }
}

#[test]
fn empty_pubkey_and_0x_prefixes_are_accepted() {
    let mut json: Value = serde_json::from_str(&vector_text("scrypt.json")).unwrap();
    set(&mut json, "/pubkey", json!(""));
    let iv = json
        .pointer("/crypto/cipher/params/iv")
        .and_then(Value::as_str)
        .unwrap()
        .to_owned();
    set(
        &mut json,
        "/crypto/cipher/params/iv",
        json!(format!("0x{iv}")),
    );
    let keystore = Keystore::from_json(&json.to_string()).unwrap();
    assert_eq!(keystore.pubkey(), None);
}

#[test]
fn errors_from_text_say_there_is_no_file() {
    let error = Keystore::from_json("{").unwrap_err();
    assert!(
        matches!(error, KeystoreError::Json { path: None, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("not a file"), "{error}");
}
