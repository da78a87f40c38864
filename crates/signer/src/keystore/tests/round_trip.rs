//! Creating keystores: encrypt, write, read back, decrypt.

use serde_json::{Value, json};

use super::cheap_keystore;
use crate::SecretBytes;
use crate::keystore::{Kdf, Keystore, KeystoreError};

/// The parameters each `Kdf` is documented to write.
fn expected_kdf_json(kdf: Kdf) -> serde_json::Value {
    match kdf {
        Kdf::Scrypt => json!({ "dklen": 32, "n": 262_144, "r": 8, "p": 1 }),
        Kdf::Pbkdf2 => json!({ "dklen": 32, "c": 262_144, "prf": "hmac-sha256" }),
        Kdf::InsecureFastScrypt => json!({ "dklen": 32, "n": 16, "r": 8, "p": 1 }),
    }
}

// The standard KDFs take about a second each in a dev build, so one test covers both the
// written parameters and the round trip.
#[test]
fn encrypted_keystore_round_trips_through_json_with_documented_parameters() {
    let secret = SecretBytes::new(core::array::from_fn(|i| i as u8));
    let pubkey = [0xA5; 48];
    let password = "correct horse battery staple 🔑";
    for kdf in [Kdf::Scrypt, Kdf::Pbkdf2, Kdf::InsecureFastScrypt] {
        let created =
            Keystore::encrypt(&secret, password, &pubkey, "m/12381/3600/7/0/0", kdf).unwrap();
        let text = created.to_json_pretty();

        let mut written: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(written["version"], 4);
        assert_eq!(written["crypto"]["checksum"]["function"], "sha256");
        assert_eq!(written["crypto"]["cipher"]["function"], "aes-128-ctr");
        let iv = written["crypto"]["cipher"]["params"]["iv"]
            .as_str()
            .unwrap();
        assert_eq!(iv.len(), 32, "{kdf:?}: iv is not 16 bytes");
        let params = written["crypto"]["kdf"]["params"].as_object_mut().unwrap();
        let salt = params.remove("salt").unwrap();
        assert_eq!(
            salt.as_str().unwrap().len(),
            64,
            "{kdf:?}: salt is not 32 bytes"
        );
        assert_eq!(
            Value::Object(params.clone()),
            expected_kdf_json(kdf),
            "{kdf:?}"
        );

        let parsed = Keystore::from_json(&text).unwrap();
        assert_eq!(parsed.decrypt(password).unwrap(), secret, "{kdf:?}");
        assert_eq!(parsed.pubkey(), Some(&pubkey));
        assert_eq!(parsed.path(), "m/12381/3600/7/0/0");
        assert_eq!(parsed.uuid(), created.uuid());
        assert_eq!(parsed.uuid().get_version_num(), 4);
        assert_eq!(
            parsed.to_json_pretty(),
            text,
            "{kdf:?}: re-serialising changed the JSON"
        );
    }
}

#[test]
fn each_encryption_uses_fresh_salt_iv_and_uuid() {
    let first: serde_json::Value =
        serde_json::from_str(&cheap_keystore(9, "pw").to_json_pretty()).unwrap();
    let second: serde_json::Value =
        serde_json::from_str(&cheap_keystore(9, "pw").to_json_pretty()).unwrap();
    for pointer in [
        "/crypto/kdf/params/salt",
        "/crypto/cipher/params/iv",
        "/uuid",
        "/crypto/cipher/message",
    ] {
        assert_ne!(
            first.pointer(pointer),
            second.pointer(pointer),
            "{pointer} repeated"
        );
    }
}

#[test]
fn created_keystore_rejects_a_wrong_password() {
    let keystore = cheap_keystore(4, "right");
    let error = keystore.decrypt("Right").unwrap_err();
    assert!(
        matches!(error, KeystoreError::WrongPassword { path: None, .. }),
        "{error:?}"
    );
}

#[test]
fn password_is_normalised_on_encrypt_as_on_decrypt() {
    // Precomposed and decomposed "é" are the same password after NFKD.
    let keystore = cheap_keystore(5, "caf\u{e9}");
    assert_eq!(
        keystore.decrypt("cafe\u{301}").unwrap(),
        SecretBytes::new([5; 32])
    );
}
