//! The EIP-2335 test vectors.

use super::{expected, vector_path, vector_text};
use crate::keystore::{Keystore, KeystoreError, normalize_password};

#[test]
fn normalize_password_gives_the_eip_encoded_password() {
    let expected = expected();
    assert_eq!(
        expected.password.as_bytes(),
        expected.password_utf8,
        "expected.json is inconsistent"
    );
    assert_eq!(
        *normalize_password(&expected.password),
        expected.normalized_password
    );
}

#[test]
fn normalize_password_strips_control_characters_and_keeps_spaces() {
    let password = "\u{0}a b\u{1f}\u{7f}\u{80}c\u{9f}\td\u{a0}";
    // U+00A0 (no-break space) is not a control character; NFKD maps it to a plain space.
    assert_eq!(*normalize_password(password), b"a bcd ");
}

#[test]
fn normalize_password_decomposes_compatibility_characters() {
    // "é" precomposed becomes "e" + combining acute; the "ﬁ" ligature becomes "fi".
    assert_eq!(
        *normalize_password("\u{e9}\u{fb01}"),
        "e\u{301}fi".as_bytes()
    );
}

#[test]
fn scrypt_vector_decrypts_to_the_expected_secret() {
    let expected = expected();
    let keystore = Keystore::from_file(&vector_path("scrypt.json")).unwrap();
    let secret = keystore.decrypt(&expected.password).unwrap();
    assert_eq!(secret.expose(), &expected.secret);
    assert_eq!(keystore.pubkey(), Some(&expected.pubkey));
    assert_eq!(keystore.path(), "m/12381/60/3141592653/589793238");
    assert_eq!(
        keystore.uuid().to_string(),
        "1d85ae20-35c5-4611-98e8-aa14a633906f"
    );
}

#[test]
fn pbkdf2_vector_decrypts_to_the_expected_secret() {
    let expected = expected();
    let keystore = Keystore::from_file(&vector_path("pbkdf2.json")).unwrap();
    let secret = keystore.decrypt(&expected.password).unwrap();
    assert_eq!(secret.expose(), &expected.secret);
    assert_eq!(keystore.pubkey(), Some(&expected.pubkey));
    assert_eq!(keystore.path(), "m/12381/60/0/0");
    assert_eq!(
        keystore.uuid().to_string(),
        "64625def-3331-4eea-ab6f-782f3ed16a83"
    );
    assert_eq!(
        keystore.description(),
        Some("This is a test keystore that uses PBKDF2 to secure the secret.")
    );
}

#[test]
fn unnormalized_password_bytes_are_a_wrong_password() {
    let expected = expected();
    for name in ["scrypt.json", "pbkdf2.json"] {
        let path = vector_path(name);
        let keystore = Keystore::from_file(&path).unwrap();
        let error = keystore
            .decrypt_normalized(&expected.password_utf8, None)
            .unwrap_err();
        assert!(
            matches!(&error, KeystoreError::WrongPassword { path: Some(p), .. } if *p == path),
            "{name}: {error:?}"
        );
    }
}

#[test]
fn vector_survives_a_json_round_trip() {
    let expected = expected();
    let original = Keystore::from_json(&vector_text("pbkdf2.json")).unwrap();
    let rewritten = Keystore::from_json(&original.to_json_pretty()).unwrap();
    assert_eq!(rewritten.to_json_pretty(), original.to_json_pretty());
    assert_eq!(
        rewritten.decrypt(&expected.password).unwrap().expose(),
        &expected.secret
    );
}
