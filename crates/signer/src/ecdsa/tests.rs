//! Tests of secp256k1 keys: keystores made by alloy and by eigensdk-go, signing, recovery.

use std::path::PathBuf;

use alloy_primitives::U256;
use serde_json::Value;

use super::*;

/// eigensdk-go `crypto/utils/test_data/ecdsa_keys/keys/1.ecdsa.key.json` at commit 3d840790
/// (go-ethereum's standard scrypt, n = 2^18), with line 1 of `password.txt` and of
/// `private_key_hex.txt` from the same directory at the same commit.
const EIGENSDK_GO_KEYSTORE: &str = r#"{"address":"36cacfc85697f462fd755995d2b689f458a0db64","crypto":{"cipher":"aes-128-ctr","ciphertext":"b3ea1639651eb83e3383b3b642e660c65c54b512b1f08a03d0d1ffc040ed8adb","cipherparams":{"iv":"2c67bf1eaf194bcfa6abf4d2352bef39"},"kdf":"scrypt","kdfparams":{"dklen":32,"n":262144,"p":1,"r":8,"salt":"413ddd05d7668c9b2a818e8af894aaaea3ceeee5f0c632f004481141d77f1967"},"mac":"226de9d821e506d05979a469139439467982e384e5bb4e09e13230c90817f8c9"},"id":"6db0cfb6-6438-43c0-a2f8-5dace3ab2cd2","version":3}"#;
const EIGENSDK_GO_PASSWORD: &str = "TV/2%P?|_l[Dr*]Q8^d+";
const EIGENSDK_GO_ADDRESS: &str = "36cacfc85697f462fd755995d2b689f458a0db64";

/// Writes a keystore for `secret` with alloy's `encrypt_keystore` (eth-keystore's scrypt,
/// n = 2^13) and returns its path.
fn alloy_keystore(dir: &tempfile::TempDir, secret: [u8; 32], password: &str) -> PathBuf {
    let (_, uuid) = PrivateKeySigner::encrypt_keystore(
        dir.path(),
        &mut rand::thread_rng(),
        secret,
        password,
        None,
    )
    .unwrap();
    dir.path().join(uuid)
}

fn secret(byte: u8) -> SecretBytes {
    SecretBytes::new([byte; 32])
}

#[test]
fn decrypts_an_alloy_keystore_and_names_the_key_by_address() {
    let dir = tempfile::tempdir().unwrap();
    let file = alloy_keystore(&dir, [7; 32], "correct horse");
    let key = SigningKey::from_keystore(&file, "correct horse").unwrap();
    let expected = PrivateKeySigner::from_bytes(&B256::from([7; 32]))
        .unwrap()
        .address();
    assert_eq!(key.address(), expected.into_array());
    assert_eq!(
        key.address(),
        SigningKey::from_secret(&secret(7)).unwrap().address()
    );
}

#[test]
fn decrypts_an_eigensdk_go_ecdsa_keystore() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("1.ecdsa.key.json");
    std::fs::write(&file, EIGENSDK_GO_KEYSTORE).unwrap();
    let key = SigningKey::from_keystore(&file, EIGENSDK_GO_PASSWORD).unwrap();
    assert_eq!(hex::encode(key.address()), EIGENSDK_GO_ADDRESS);
    // And it is line 1 of private_key_hex.txt.
    let expected = SigningKey::from_secret(&SecretBytes::new(
        U256::from_str_radix(
            "64540125e6bf2ade614af37e7c644eb0c75ad1e64e54f84843bce49cd164dcbb",
            16,
        )
        .unwrap()
        .to_be_bytes::<32>(),
    ))
    .unwrap();
    assert_eq!(key.address(), expected.address());
}

#[test]
fn a_wrong_password_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = alloy_keystore(&dir, [7; 32], "correct horse");
    let error = SigningKey::from_keystore(&file, "wrong horse").unwrap_err();
    assert!(
        matches!(&error, Web3KeystoreError::WrongPassword { path: Some(p) } if p == &file),
        "{error:?}"
    );
    assert!(
        error.to_string().contains(&file.display().to_string()),
        "{error}"
    );
}

/// Rewrites the alloy keystore at `file` with `edit` applied.
fn edit(file: &Path, edit: impl FnOnce(&mut Value)) {
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    edit(&mut json);
    std::fs::write(file, json.to_string()).unwrap();
}

#[test]
fn a_declared_address_must_be_the_keys() {
    let dir = tempfile::tempdir().unwrap();
    let file = alloy_keystore(&dir, [7; 32], "pw");
    edit(&file, |json| json["address"] = "00".repeat(20).into());
    let error = SigningKey::from_keystore(&file, "pw").unwrap_err();
    assert!(
        matches!(error, Web3KeystoreError::DeclaredKeyMismatch { .. }),
        "{error:?}"
    );
    let address = SigningKey::from_secret(&secret(7)).unwrap().address();
    edit(&file, |json| json["address"] = hex::encode(address).into());
    assert_eq!(
        SigningKey::from_keystore(&file, "pw").unwrap().address(),
        address
    );
}

#[test]
fn hostile_files_are_refused_before_alloy_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    // eth-keystore would allocate 128 GiB for this, and panic on a short IV.
    let file = alloy_keystore(&dir, [7; 32], "pw");
    edit(&file, |json| {
        json["crypto"]["kdfparams"]["n"] = (1u64 << 30).into()
    });
    assert!(matches!(
        SigningKey::from_keystore(&file, "pw"),
        Err(Web3KeystoreError::KdfTooExpensive { .. })
    ));
    let file = alloy_keystore(&dir, [7; 32], "pw");
    edit(&file, |json| {
        json["crypto"]["cipherparams"]["iv"] = "00".into()
    });
    assert!(matches!(
        SigningKey::from_keystore(&file, "pw"),
        Err(Web3KeystoreError::InvalidField {
            field: "crypto.cipherparams.iv",
            ..
        })
    ));
}

#[test]
fn signs_digests_recoverably_deterministically_and_with_low_s() {
    let key = SigningKey::from_secret(&secret(3)).unwrap();
    let digest = [0x42; 32];
    let signature = key.sign_digest(&digest).unwrap();
    assert_eq!(signature.len(), SIGNATURE_LEN);
    assert!(matches!(signature[64], 27 | 28), "v = {}", signature[64]);
    assert_eq!(recover_address(&digest, &signature).unwrap(), key.address());
    assert!(verify(&key.address(), &digest, &signature));
    assert_eq!(key.sign_digest(&digest).unwrap(), signature);
    let parsed = alloy_primitives::Signature::from_raw(&signature).unwrap();
    assert_eq!(parsed.normalize_s(), None);

    let mut other = digest;
    other[0] ^= 1;
    assert!(!verify(&key.address(), &other, &signature));
    // The high-s twin recovers the same address, but is refused as OpenZeppelin refuses it.
    let twin = alloy_primitives::Signature::new(
        parsed.r(),
        alloy_primitives::U256::from_be_bytes(SECP256K1_N) - parsed.s(),
        !parsed.v(),
    );
    let twin = twin.as_bytes();
    assert_eq!(recover_address(&digest, &twin).unwrap(), key.address());
    assert!(!verify(&key.address(), &digest, &twin));
    assert!(matches!(
        recover_address(&digest, &signature[..64]),
        Err(EcdsaError::InvalidSignature(_))
    ));
}

/// The order n of secp256k1.
const SECP256K1_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

#[test]
fn secret_keys_must_be_nonzero_and_below_n() {
    assert_eq!(
        SigningKey::from_secret(&SecretBytes::new([0; 32])).unwrap_err(),
        EcdsaError::InvalidSecretKey
    );
    assert!(SigningKey::from_secret(&SecretBytes::new(SECP256K1_N)).is_err());
    let mut n_minus_one = SECP256K1_N;
    n_minus_one[31] -= 1;
    assert!(SigningKey::from_secret(&SecretBytes::new(n_minus_one)).is_ok());
}

#[test]
fn debug_shows_the_address_but_never_the_secret() {
    let key = SigningKey::from_secret(&secret(0xab)).unwrap();
    let printed = format!("{key:?}");
    assert!(printed.contains("<redacted>"), "{printed}");
    assert!(!printed.to_lowercase().contains("abababab"), "{printed}");
}
