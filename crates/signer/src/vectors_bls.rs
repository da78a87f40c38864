//! Ethereum's BLS12-381 test vectors (`shared/vectors/bls12-381`): every handler, every file.
//!
//! Each handler test counts the files it ran, so a missing or emptied directory fails
//! loudly instead of passing with nothing checked.

use std::{collections::BTreeSet, fs, path::Path};

use serde_json::Value;

use crate::{
    SecretBytes,
    bls::{self, PointError, PublicKey, SecretKey, Signature, SignatureSet},
};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/bls12-381"
);

/// Every handler directory, with the number of files it must hold (from the README).
const HANDLERS: [(&str, usize); 11] = [
    ("aggregate", 6),
    ("aggregate_verify", 5),
    ("batch_verify", 4),
    ("deserialization_G1", 16),
    ("deserialization_G2", 18),
    ("eth_aggregate_pubkeys", 8),
    ("eth_fast_aggregate_verify", 12),
    ("fast_aggregate_verify", 12),
    ("hash_to_G2", 4),
    ("sign", 10),
    ("verify", 29),
];

/// One vector file.
struct Case {
    name: String,
    input: Value,
    output: Value,
}

/// Loads every `.json` file of `handler`, sorted, and checks the count against [`HANDLERS`].
fn cases(handler: &str) -> Vec<Case> {
    let expected = HANDLERS
        .iter()
        .find(|(name, _)| *name == handler)
        .map(|(_, count)| *count)
        .unwrap_or_else(|| panic!("{handler} is not a known handler"));
    let dir = Path::new(VECTORS).join(handler);
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "BLS vectors missing: cannot read {} ({e}); the repo expects ../shared beside it",
            dir.display()
        )
    });
    let mut paths: Vec<_> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    assert_eq!(
        paths.len(),
        expected,
        "{handler}: expected {expected} vector files in {}",
        dir.display()
    );
    paths
        .iter()
        .map(|path| {
            let text = fs::read_to_string(path).unwrap();
            let value: Value = serde_json::from_str(&text).unwrap();
            let object = value.as_object().unwrap();
            assert_eq!(
                object.len(),
                2,
                "{}: expected exactly `input` and `output`",
                path.display()
            );
            Case {
                name: path.file_name().unwrap().to_string_lossy().into_owned(),
                input: object["input"].clone(),
                output: object["output"].clone(),
            }
        })
        .collect()
}

/// Runs `check` on every case of `handler`; reports every failing file at once.
fn run(handler: &str, check: impl Fn(&Case) -> Result<(), String>) -> usize {
    let cases = cases(handler);
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| check(case).err().map(|why| format!("{}: {why}", case.name)))
        .collect();
    assert!(
        failures.is_empty(),
        "{handler} failures:\n{}",
        failures.join("\n")
    );
    cases.len()
}

fn hex_bytes(value: &Value) -> Vec<u8> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("expected a hex string, got {value}"));
    hex::decode(
        text.strip_prefix("0x")
            .unwrap_or_else(|| panic!("missing 0x: {text}")),
    )
    .unwrap()
}

fn hex_list(value: &Value) -> Vec<Vec<u8>> {
    value.as_array().unwrap().iter().map(hex_bytes).collect()
}

/// All keys parsed, or `None` if any fails `KeyValidate` (the vectors then expect failure).
fn public_keys(value: &Value) -> Option<Vec<PublicKey>> {
    hex_list(value)
        .iter()
        .map(|bytes| PublicKey::from_bytes(bytes).ok())
        .collect()
}

fn signature(value: &Value) -> Option<Signature> {
    Signature::from_bytes(&hex_bytes(value)).ok()
}

fn expect_bool(case: &Case, actual: bool) -> Result<(), String> {
    let expected = case.output.as_bool().unwrap();
    if actual == expected {
        Ok(())
    } else {
        Err(format!("expected {expected}, got {actual}"))
    }
}

/// `null` output means the operation must fail; otherwise the hex encoding must match.
fn expect_hex(case: &Case, actual: Option<String>) -> Result<(), String> {
    let expected = case.output.as_str().map(str::to_owned);
    if actual == expected {
        Ok(())
    } else {
        Err(format!("expected {expected:?}, got {actual:?}"))
    }
}

#[test]
fn every_handler_directory_is_covered() {
    let dir = fs::read_dir(VECTORS)
        .unwrap_or_else(|e| panic!("BLS vectors missing: cannot read {VECTORS} ({e})"));
    let found: BTreeSet<String> = dir
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    let covered: BTreeSet<String> = HANDLERS
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    assert_eq!(found, covered, "a handler directory was added or removed");
    assert_eq!(HANDLERS.iter().map(|(_, count)| count).sum::<usize>(), 124);
}

#[test]
fn sign_vectors() {
    let ran = run("sign", |case| {
        let privkey = hex_bytes(&case.input["privkey"]);
        let message = hex_bytes(&case.input["message"]);
        let secret = SecretBytes::from_slice(&privkey).unwrap();
        let signed = SecretKey::from_secret(&secret)
            .ok()
            .map(|key| key.sign(&message).to_string());
        expect_hex(case, signed)
    });
    assert_eq!(ran, 10);
}

#[test]
fn verify_vectors() {
    let ran = run("verify", |case| {
        let key = PublicKey::from_bytes(&hex_bytes(&case.input["pubkey"])).ok();
        let message = hex_bytes(&case.input["message"]);
        let sig = signature(&case.input["signature"]);
        let valid = match (key, sig) {
            (Some(key), Some(sig)) => bls::verify(&key, &message, &sig),
            _ => false,
        };
        expect_bool(case, valid)
    });
    assert_eq!(ran, 29);
}

#[test]
fn aggregate_vectors() {
    let ran = run("aggregate", |case| {
        let signatures: Option<Vec<Signature>> = hex_list(&case.input)
            .iter()
            .map(|bytes| Signature::from_bytes(bytes).ok())
            .collect();
        let aggregated = signatures
            .and_then(|signatures| bls::aggregate(&signatures))
            .map(|signature| signature.to_string());
        expect_hex(case, aggregated)
    });
    assert_eq!(ran, 6);
}

#[test]
fn fast_aggregate_verify_vectors() {
    let ran = run("fast_aggregate_verify", |case| {
        let message = hex_bytes(&case.input["message"]);
        let valid = match (
            public_keys(&case.input["pubkeys"]),
            signature(&case.input["signature"]),
        ) {
            (Some(keys), Some(sig)) => bls::fast_aggregate_verify(&keys, &message, &sig),
            _ => false,
        };
        expect_bool(case, valid)
    });
    assert_eq!(ran, 12);
}

#[test]
fn aggregate_verify_vectors() {
    let ran = run("aggregate_verify", |case| {
        let messages = hex_list(&case.input["messages"]);
        let messages: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        let valid = match (
            public_keys(&case.input["pubkeys"]),
            signature(&case.input["signature"]),
        ) {
            (Some(keys), Some(sig)) => bls::aggregate_verify(&keys, &messages, &sig),
            _ => false,
        };
        expect_bool(case, valid)
    });
    assert_eq!(ran, 5);
}

#[test]
fn batch_verify_vectors() {
    let ran = run("batch_verify", |case| {
        let messages = hex_list(&case.input["messages"]);
        let signatures: Option<Vec<Signature>> = hex_list(&case.input["signatures"])
            .iter()
            .map(|bytes| Signature::from_bytes(bytes).ok())
            .collect();
        let valid = match (public_keys(&case.input["pubkeys"]), signatures) {
            (Some(keys), Some(signatures)) => {
                assert!(keys.len() == messages.len() && keys.len() == signatures.len());
                let sets: Vec<SignatureSet<'_>> = (0..keys.len())
                    .map(|i| SignatureSet {
                        public_key: &keys[i],
                        message: &messages[i],
                        signature: &signatures[i],
                    })
                    .collect();
                bls::batch_verify(&sets)
            }
            _ => false,
        };
        expect_bool(case, valid)
    });
    assert_eq!(ran, 4);
}

/// `hash_to_G2` with the RFC 9380 test DST, through blst's safe API: signing with the
/// secret key 1 returns `1 * H(msg)`, the hashed point itself, so no `unsafe` FFI is needed.
#[test]
fn hash_to_g2_vectors() {
    const QUUX_DST: &[u8] = b"QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_";
    let mut one = [0u8; 32];
    one[31] = 1;
    let identity = blst::min_pk::SecretKey::from_bytes(&one).unwrap();
    let ran = run("hash_to_G2", |case| {
        let msg = case.input["msg"].as_str().unwrap();
        // Uncompressed G2 is x.c1 | x.c0 | y.c1 | y.c0, 48 bytes each, big-endian.
        let point = identity.sign(msg.as_bytes(), QUUX_DST, &[]).serialize();
        let fp2 = |c1: &[u8], c0: &[u8]| format!("0x{},0x{}", hex::encode(c0), hex::encode(c1));
        let x = fp2(&point[0..48], &point[48..96]);
        let y = fp2(&point[96..144], &point[144..192]);
        let (want_x, want_y) = (
            case.output["x"].as_str().unwrap(),
            case.output["y"].as_str().unwrap(),
        );
        if x == want_x && y == want_y {
            Ok(())
        } else {
            Err(format!("expected ({want_x}, {want_y}), got ({x}, {y})"))
        }
    });
    assert_eq!(ran, 4);
}

/// These vectors check decoding, curve and subgroup only: infinity decodes fine. Our
/// `PublicKey` also runs `KeyValidate`, so "decodes" means parsed, or refused only for
/// being infinity.
#[test]
fn deserialization_g1_vectors() {
    let ran = run("deserialization_G1", |case| {
        let decodes = match PublicKey::from_bytes(&hex_bytes(&case.input["pubkey"])) {
            Ok(_) => true,
            Err(bls::BlsError::InvalidPublicKey {
                reason: PointError::Infinity,
                ..
            }) => true,
            Err(_) => false,
        };
        expect_bool(case, decodes)
    });
    assert_eq!(ran, 16);
}

#[test]
fn deserialization_g2_vectors() {
    let ran = run("deserialization_G2", |case| {
        expect_bool(case, signature(&case.input["signature"]).is_some())
    });
    assert_eq!(ran, 18);
}

#[test]
fn eth_aggregate_pubkeys_vectors() {
    let ran = run("eth_aggregate_pubkeys", |case| {
        let aggregated = public_keys(&case.input)
            .and_then(|keys| bls::eth_aggregate_pubkeys(&keys))
            .map(|key| key.to_string());
        expect_hex(case, aggregated)
    });
    assert_eq!(ran, 8);
}

#[test]
fn eth_fast_aggregate_verify_vectors() {
    let ran = run("eth_fast_aggregate_verify", |case| {
        let message = hex_bytes(&case.input["message"]);
        let valid = match (
            public_keys(&case.input["pubkeys"]),
            signature(&case.input["signature"]),
        ) {
            (Some(keys), Some(sig)) => bls::eth_fast_aggregate_verify(&keys, &message, &sig),
            _ => false,
        };
        expect_bool(case, valid)
    });
    assert_eq!(ran, 12);
}
