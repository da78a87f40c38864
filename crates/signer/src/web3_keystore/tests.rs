//! Tests of web3 secret-storage keystores, with real files from Layr-Labs' SDKs.

use std::path::PathBuf;

use super::*;

/// eigensdk-go `crypto/utils/test_data/bls_keys/keys/1.bls.key.json` at commit 3d840790 (as
/// written by eigensdk-go's `KeyPair.SaveToFile`: standard scrypt, n = 2^18). Its password is
/// line 1 of `password.txt` and its secret line 1 of `private_key_hex.txt` (decimal, despite
/// the name), both in the same directory at the same commit; `TestReadBatchKeys` pairs them.
const EIGENSDK_GO_KEYSTORE: &str = r#"{"pubKey":"E([20770760626397288647989719952430268435412940027317835986854114355284449304367,14860742301798284656486681596150725088757741265286915113692865360170725264111])","crypto":{"cipher":"aes-128-ctr","ciphertext":"0fb5c298c1783ac3ed388f513c4cf7e5cc9b6f12df4d931949801b02012c9bdc","cipherparams":{"iv":"ebe125ef3babb65e5cc6651decae2f88"},"kdf":"scrypt","kdfparams":{"dklen":32,"n":262144,"p":1,"r":8,"salt":"e14f75b96c13aa124f063eb48c4ce4abb2d8560d44dc40da01d9c8afc048325f"},"mac":"7efcdf55ff520c228f34b4a5e9e3a0417defc831ea441b925045d3a0f89aaaff"}}"#;
const EIGENSDK_GO_PASSWORD: &str = "f3?T0pFhPFKG=SJ^No0<";
const EIGENSDK_GO_SECRET: &str =
    "2695733600625131346122864983303466385927445828993184612262398097053003827945";

/// eigensdk-rs `crates/crypto/bls/mockdata/test.bls.key.json` at commit 4d89ac19, with
/// `password.txt` and `private_key_hex.txt` beside it: no `pubKey`, and `id`/`version` fields
/// that eigensdk-go does not write.
const EIGENSDK_RS_KEYSTORE: &str = r#"{
  "crypto": {
    "cipher": "aes-128-ctr",
    "cipherparams": {
      "iv": "4b85c724c00c8b9f8726b71294f6bd15"
    },
    "ciphertext": "0254c9e4e1843b38808c043a46a0710293bdc060f69eecba2265fb7b10db002d",
    "kdf": "scrypt",
    "kdfparams": {
      "dklen": 32,
      "n": 8192,
      "p": 1,
      "r": 8,
      "salt": "ca57ae5dab38ae35a4ef85c509702b9d3a8995ffc6f1a565b1cfd7197fcbf19b"
    },
    "mac": "59238117ecce29daeb2e7a9277f96a5218d97d4b30e6d8ef4047ca14b96ed570"
  },
  "id": "991fb275-fe82-4f09-a40f-d55819dfd443",
  "version": 3
}
"#;
const EIGENSDK_RS_PASSWORD: &str = "zbEykAPaTQ5Ww3dQqXCp";
const EIGENSDK_RS_SECRET: &str = "036aab3e53981c1466f02c30d600589382d4c596c6a76434090c680bafc23a19";

fn write(dir: &tempfile::TempDir, name: &str, contents: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn assert_names(error: &impl fmt::Display, path: &Path) {
    let message = error.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "error does not name {}: {message}",
        path.display()
    );
}

#[test]
fn decrypts_an_eigensdk_go_bls_keystore() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "1.bls.key.json", EIGENSDK_GO_KEYSTORE);
    let keystore = Bn254Keystore::from_file(&file).unwrap();
    assert_eq!(keystore.file(), Some(file.as_path()));
    let secret = keystore.decrypt(EIGENSDK_GO_PASSWORD).unwrap();
    let expected = U256::from_str_radix(EIGENSDK_GO_SECRET, 10).unwrap();
    assert_eq!(secret.expose(), &expected.to_be_bytes::<32>());
    // The declared key is the secret's.
    let public = bn254::SecretKey::from_secret(&secret)
        .unwrap()
        .public_keys()
        .g1;
    assert_eq!(keystore.declared_public_key(), Some(&public));
}

#[test]
fn decrypts_an_eigensdk_rs_keystore_without_a_pubkey() {
    let keystore = Bn254Keystore::from_json(EIGENSDK_RS_KEYSTORE).unwrap();
    assert_eq!(keystore.declared_public_key(), None);
    let secret = keystore.decrypt(EIGENSDK_RS_PASSWORD).unwrap();
    assert_eq!(hex::encode(secret.expose()), EIGENSDK_RS_SECRET);
}

#[test]
fn a_wrong_password_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "key.json", EIGENSDK_RS_KEYSTORE);
    let error = Bn254Keystore::from_file(&file)
        .unwrap()
        .decrypt("not the password")
        .unwrap_err();
    assert!(
        matches!(&error, Web3KeystoreError::WrongPassword { path: Some(p) } if p == &file),
        "{error:?}"
    );
    assert_names(&error, &file);
    assert!(error.to_string().contains("wrong password"), "{error}");
}

#[test]
fn encrypts_in_eigensdk_go_shape_and_decrypts_again() {
    let secret = SecretBytes::new(U256::from(123_456_789u64).to_be_bytes::<32>());
    for kdf in [Kdf::InsecureFastScrypt, Kdf::Pbkdf2] {
        let keystore = Bn254Keystore::encrypt(&secret, "pässword", kdf).unwrap();
        let json: Value = serde_json::from_str(&keystore.to_json()).unwrap();
        let mut fields: Vec<&String> = json.as_object().unwrap().keys().collect();
        fields.sort();
        assert_eq!(fields, ["crypto", "pubKey"], "{json}");
        let pub_key = json["pubKey"].as_str().unwrap();
        assert!(
            pub_key.starts_with("E([") && pub_key.ends_with("])"),
            "{pub_key}"
        );
        for field in [
            "cipher",
            "ciphertext",
            "cipherparams",
            "kdf",
            "kdfparams",
            "mac",
        ] {
            assert!(json["crypto"].get(field).is_some(), "no crypto.{field}");
        }
        let parsed = Bn254Keystore::from_json(&keystore.to_json()).unwrap();
        assert_eq!(parsed.declared_public_key(), keystore.declared_public_key());
        assert_eq!(parsed.decrypt("pässword").unwrap(), secret);
        // Passwords are bytes, not normalised: a decomposed "ä" is another password.
        assert!(matches!(
            parsed.decrypt("pa\u{308}ssword"),
            Err(Web3KeystoreError::WrongPassword { .. })
        ));
    }
}

#[test]
fn refuses_to_encrypt_an_invalid_secret() {
    assert!(matches!(
        Bn254Keystore::encrypt(&SecretBytes::new([0; 32]), "pw", Kdf::InsecureFastScrypt),
        Err(Web3KeystoreError::InvalidSecret {
            scheme: "bn254",
            ..
        })
    ));
}

/// `EIGENSDK_RS_KEYSTORE` with one JSON pointer's value replaced.
fn edited(pointer: &str, value: Value) -> String {
    let mut json: Value = serde_json::from_str(EIGENSDK_RS_KEYSTORE).unwrap();
    *json.pointer_mut(pointer).unwrap() = value;
    json.to_string()
}

#[test]
fn malformed_keystores_are_refused_naming_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, String, &str); 8] = [
        ("not-json", "{".to_owned(), "not a web3 secret-storage"),
        (
            "cipher",
            edited("/crypto/cipher", "aes-256-gcm".into()),
            "aes-256-gcm",
        ),
        ("kdf", edited("/crypto/kdf", "argon2".into()), "argon2"),
        (
            "iv",
            edited("/crypto/cipherparams/iv", "abcd".into()),
            "crypto.cipherparams.iv",
        ),
        ("mac", edited("/crypto/mac", "zz".into()), "crypto.mac"),
        (
            "dklen",
            edited("/crypto/kdfparams/dklen", 16.into()),
            "crypto.kdfparams.dklen",
        ),
        (
            "n",
            edited("/crypto/kdfparams/n", 1000.into()),
            "crypto.kdfparams.n",
        ),
        (
            "pubkey",
            {
                let mut json: Value = serde_json::from_str(EIGENSDK_RS_KEYSTORE).unwrap();
                json["pubKey"] = "0x1234".into();
                json.to_string()
            },
            "E([x,y])",
        ),
    ];
    for (name, text, expected) in cases {
        let file = write(&dir, &format!("{name}.json"), &text);
        let error = Bn254Keystore::from_file(&file).unwrap_err();
        assert_names(&error, &file);
        assert!(error.to_string().contains(expected), "{name}: {error}");
    }
}

#[test]
fn costly_kdf_parameters_are_refused_before_any_work() {
    for (pointer, value) in [
        ("/crypto/kdfparams/n", Value::from(1u64 << 30)),
        ("/crypto/kdfparams/r", Value::from(1024)),
    ] {
        let error = Bn254Keystore::from_json(&edited(pointer, value)).unwrap_err();
        assert!(
            matches!(error, Web3KeystoreError::KdfTooExpensive { .. }),
            "{error:?}"
        );
    }
    let pbkdf2 = {
        let mut json: Value = serde_json::from_str(EIGENSDK_RS_KEYSTORE).unwrap();
        json["crypto"]["kdf"] = "pbkdf2".into();
        json["crypto"]["kdfparams"] = serde_json::json!({
            "c": 1u64 << 40, "dklen": 32, "prf": "hmac-sha256", "salt": "00",
        });
        json.to_string()
    };
    assert!(matches!(
        Bn254Keystore::from_json(&pbkdf2),
        Err(Web3KeystoreError::KdfTooExpensive { .. })
    ));
}

#[test]
fn a_missing_file_and_a_huge_file_are_refused_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let error = Bn254Keystore::from_file(&missing).unwrap_err();
    assert!(matches!(error, Web3KeystoreError::Io { .. }), "{error:?}");
    assert_names(&error, &missing);
    let huge = write(&dir, "huge.json", &" ".repeat(MAX_FILE_BYTES as usize + 1));
    let error = Bn254Keystore::from_file(&huge).unwrap_err();
    assert!(
        matches!(error, Web3KeystoreError::FileTooLarge { .. }),
        "{error:?}"
    );
    assert_names(&error, &huge);
}

#[test]
fn gnark_notation_round_trips() {
    let key = bn254::SecretKey::from_secret(&SecretBytes::new(
        U256::from_str_radix(EIGENSDK_GO_SECRET, 10)
            .unwrap()
            .to_be_bytes::<32>(),
    ))
    .unwrap()
    .public_keys()
    .g1;
    let text = gnark_g1_string(&key);
    assert_eq!(
        text,
        "E([20770760626397288647989719952430268435412940027317835986854114355284449304367,\
         14860742301798284656486681596150725088757741265286915113692865360170725264111])"
    );
    assert_eq!(parse_gnark_g1(&text).unwrap(), key);
    assert!(
        parse_gnark_g1("E([1,3])")
            .unwrap_err()
            .contains("not on the curve")
    );
    assert!(parse_gnark_g1("E([1])").is_err());
}

#[test]
fn ecdsa_header_checks_version_id_address_and_ciphertext() {
    let dir = tempfile::tempdir().unwrap();
    let mut json: Value = serde_json::from_str(EIGENSDK_RS_KEYSTORE).unwrap();
    json["address"] = "36cacfc85697f462fd755995d2b689f458a0db64".into();
    let file = write(&dir, "ok.json", &json.to_string());
    let header = check_ecdsa_keystore(&file).unwrap();
    assert_eq!(
        header.address.map(hex::encode).as_deref(),
        Some("36cacfc85697f462fd755995d2b689f458a0db64")
    );

    let mut version_4 = json.clone();
    version_4["version"] = 4.into();
    let file = write(&dir, "v4.json", &version_4.to_string());
    assert!(matches!(
        check_ecdsa_keystore(&file),
        Err(Web3KeystoreError::UnsupportedVersion { .. })
    ));

    let mut no_id = json.clone();
    no_id.as_object_mut().unwrap().remove("id");
    let file = write(&dir, "no-id.json", &no_id.to_string());
    let error = check_ecdsa_keystore(&file).unwrap_err();
    assert_names(&error, &file);
    assert!(error.to_string().contains("id"), "{error}");

    let mut short = json;
    short["crypto"]["ciphertext"] = "abcd".into();
    let file = write(&dir, "short.json", &short.to_string());
    assert!(
        check_ecdsa_keystore(&file)
            .unwrap_err()
            .to_string()
            .contains("crypto.ciphertext")
    );
}
