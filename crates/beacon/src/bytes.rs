//! Byte strings of the Beacon API that `restake-types` does not carry: roots, signatures,
//! KZG commitments and proofs, fork versions and blobs, all written as `0x`-prefixed hex.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

restake_types::fixed_bytes!(
    /// A 32-byte SSZ hash tree root: of a block, a state, a body.
    Root,
    32
);
restake_types::fixed_bytes!(
    /// A compressed BLS12-381 signature (96 bytes).
    BlsSignature,
    96
);
restake_types::fixed_bytes!(
    /// A KZG commitment to a blob (48 bytes).
    KzgCommitment,
    48
);
restake_types::fixed_bytes!(
    /// A KZG proof for a blob (48 bytes).
    KzgProof,
    48
);
restake_types::fixed_bytes!(
    /// A 4-byte fork version (`GENESIS_FORK_VERSION`, `ELECTRA_FORK_VERSION`, ...).
    ForkVersion,
    4
);

/// A blob's bytes (131,072 on every current network).
///
/// The length is not checked here: it is a preset constant, checked where blobs are verified.
#[derive(Clone, PartialEq, Eq)]
pub struct Blob(Vec<u8>);

impl Blob {
    /// Wraps raw bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The raw bytes, by value.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("0x{}", hex::encode(&self.0)))
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        restake_types::parse_hex(&s)
            .map(Self)
            .map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn root_round_trips_through_json() {
        let hex = format!("\"0x{}\"", "5a".repeat(32));
        let root: Root = serde_json::from_str(&hex).unwrap();
        assert_eq!(serde_json::to_string(&root).unwrap(), hex);
    }

    #[test]
    fn wrong_lengths_and_missing_prefix_are_refused() {
        assert!(serde_json::from_str::<Root>("\"0xabcd\"").is_err());
        assert!(serde_json::from_str::<ForkVersion>("\"00000000\"").is_err());
        assert!(serde_json::from_str::<Blob>("\"0xabc\"").is_err());
    }

    #[test]
    fn blob_debug_does_not_dump_the_bytes() {
        assert_eq!(
            format!("{:?}", Blob::new(vec![0; 131_072])),
            "Blob(131072 bytes)"
        );
    }

    proptest! {
        #[test]
        fn blob_hex_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let blob = Blob::new(bytes);
            let json = serde_json::to_string(&blob).unwrap();
            prop_assert_eq!(serde_json::from_str::<Blob>(&json).unwrap(), blob);
        }
    }
}
