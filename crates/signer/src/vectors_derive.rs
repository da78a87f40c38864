//! EIP-2333 test vectors (`shared/vectors/eip2333`): `cases.json` and `intermediate.json`.

use std::{fs, path::Path};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{
    SecretBytes,
    derive::{derive_child_sk, derive_master_sk, mnemonic_to_seed},
};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/eip2333"
);

fn load(file: &str) -> Value {
    let path = Path::new(VECTORS).join(file);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "EIP-2333 vectors missing: cannot read {} ({e}); the repo expects ../shared beside it",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {value}"))
}

/// Case-insensitive: case 2's seed is written in uppercase, as in the EIP.
fn hex_bytes(text: &str) -> Vec<u8> {
    hex::decode(text.strip_prefix("0x").unwrap()).unwrap()
}

/// A decimal integer below 2^256 as 32 big-endian bytes: multiply-add in base 256.
fn decimal_to_be32(decimal: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for digit in decimal.bytes() {
        assert!(digit.is_ascii_digit(), "not decimal: {decimal}");
        let mut carry = u32::from(digit - b'0');
        for byte in out.iter_mut().rev() {
            let value = u32::from(*byte) * 10 + carry;
            *byte = value as u8;
            carry = value >> 8;
        }
        assert_eq!(carry, 0, "{decimal} does not fit in 32 bytes");
    }
    out
}

fn secret(decimal: &str) -> SecretBytes {
    SecretBytes::new(decimal_to_be32(decimal))
}

#[test]
fn decimal_conversion_is_big_endian() {
    assert_eq!(decimal_to_be32("0"), [0; 32]);
    let mut expected = [0u8; 32];
    expected[30] = 0x01;
    expected[31] = 0x02;
    assert_eq!(decimal_to_be32("258"), expected);
    let max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
    assert_eq!(decimal_to_be32(max), [0xff; 32]);
}

#[test]
fn all_eip2333_cases_derive_master_and_child_keys() {
    let cases = load("cases.json");
    let cases = cases.as_array().unwrap();
    assert_eq!(
        cases.len(),
        4,
        "cases.json should hold EIP-2333 test cases 0-3"
    );
    for (i, case) in cases.iter().enumerate() {
        let seed = hex_bytes(text(case, "seed"));
        let index: u32 = text(case, "child_index").parse().unwrap();
        let master = derive_master_sk(&seed).unwrap();
        assert_eq!(
            master,
            secret(text(case, "master_sk")),
            "case {i}: master_sk"
        );
        let child = derive_child_sk(&master, index).unwrap();
        assert_eq!(child, secret(text(case, "child_sk")), "case {i}: child_sk");
    }
}

#[test]
fn case_zero_seed_is_the_bip39_seed_of_the_trezor_test_mnemonic() {
    let cases = load("cases.json");
    let seed = mnemonic_to_seed(crate::derive::DEV_MNEMONIC, "TREZOR").unwrap();
    assert_eq!(seed.to_vec(), hex_bytes(text(&cases[0], "seed")));
}

/// blst does the Lamport steps internally, so the arrays are checked for consistency with
/// the compressed Lamport public key, and our HKDF_mod_r against the last step
/// (child_sk = HKDF_mod_r(compressed_lamport_pk), the same function as derive_master_SK).
#[test]
fn intermediate_values_match_eip2333() {
    let vector = load("intermediate.json");
    let seed = hex_bytes(text(&vector, "seed"));
    let master = derive_master_sk(&seed).unwrap();
    assert_eq!(master, secret(text(&vector, "master_sk")));
    let index: u32 = text(&vector, "child_index").parse().unwrap();
    let child_sk = secret(text(&vector, "child_sk"));
    assert_eq!(derive_child_sk(&master, index).unwrap(), child_sk);

    let mut lamport_pk = Sha256::new();
    for key in ["lamport_0", "lamport_1"] {
        let chunks = vector[key].as_array().unwrap();
        assert_eq!(chunks.len(), 255, "{key}");
        for chunk in chunks {
            let chunk = hex_bytes(chunk.as_str().unwrap());
            assert_eq!(chunk.len(), 32);
            lamport_pk.update(Sha256::digest(&chunk));
        }
    }
    let compressed = hex_bytes(text(&vector, "compressed_lamport_pk"));
    assert_eq!(lamport_pk.finalize().to_vec(), compressed);
    assert_eq!(derive_master_sk(&compressed).unwrap(), child_sk);
}
