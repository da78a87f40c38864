//! `Keystore::from_json` must return an error, never panic, whatever it is given.

use proptest::prelude::*;
use serde_json::Value;

use super::vector_text;
use crate::keystore::Keystore;

/// Places in a keystore where a wrong value is interesting.
const POINTERS: &[&str] = &[
    "/crypto/kdf/function",
    "/crypto/kdf/params",
    "/crypto/kdf/params/n",
    "/crypto/kdf/params/r",
    "/crypto/kdf/params/p",
    "/crypto/kdf/params/dklen",
    "/crypto/kdf/params/salt",
    "/crypto/checksum/message",
    "/crypto/cipher/params/iv",
    "/crypto/cipher/message",
    "/crypto/cipher",
    "/pubkey",
    "/uuid",
    "/version",
    "/crypto",
];

/// Small JSON values of every type, including extreme numbers.
fn json_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        (0u32..64).prop_map(|shift| Value::from(1u64 << shift)),
        "[0-9a-fA-Fx]{0,100}".prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
        Just(serde_json::json!({})),
        Just(serde_json::json!([])),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn from_json_never_panics_on_arbitrary_text(text in ".{0,400}") {
        let _ = Keystore::from_json(&text);
    }

    #[test]
    fn from_json_never_panics_on_byte_mutations(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut bytes = vector_text("scrypt.json").into_bytes();
        for (index, byte, kind) in edits {
            let at = index.index(bytes.len().max(1));
            match kind {
                0 if at < bytes.len() => bytes[at] = byte,
                1 if at < bytes.len() => { bytes.remove(at); }
                _ => bytes.insert(at.min(bytes.len()), byte),
            }
        }
        let _ = Keystore::from_json(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn from_json_never_panics_on_wrong_values(
        edits in prop::collection::vec((prop::sample::select(POINTERS), json_value()), 1..4),
    ) {
        let mut json: Value = serde_json::from_str(&vector_text("scrypt.json")).unwrap();
        for (pointer, value) in edits {
            if let Some(slot) = json.pointer_mut(pointer) {
                *slot = value;
            }
        }
        let _ = Keystore::from_json(&json.to_string());
    }
}
