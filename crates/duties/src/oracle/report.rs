//! Reports, their digest (what is signed) and signed reports as JSON.

use alloy_primitives::{I256, U256, keccak256};
use alloy_sol_types::{SolType, sol_data};
use restake_signer::{Scheme, bls, bn254};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

/// `keccak256("restaked.oracle.report.v1")`: the first word of every digest, so a signature
/// over a report can never be taken for a signature over anything else.
pub const REPORT_TYPEHASH_PREIMAGE: &str = "restaked.oracle.report.v1";

/// One round's attested value of a feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The feed id.
    pub feed: String,
    /// The round: 1, 2, 3, ... strictly increasing per feed.
    pub round: u64,
    /// The value, scaled by `10^decimals` (a decimal string in JSON).
    #[serde(with = "i128_string")]
    pub value: i128,
    /// Decimals of `value`.
    pub decimals: u8,
    /// Unix seconds: the oldest observation time among the sources used, so a report never
    /// claims to be fresher than its stalest input.
    pub observed_at: u64,
    /// Ids of the sources whose answers were used, sorted.
    pub sources: Vec<String>,
}

impl Report {
    /// The value as exact decimal text with all the feed's decimals: `341255120000` at 8
    /// decimals is `"3412.55120000"`.
    pub fn value_text(&self) -> String {
        super::value::format_value(self.value, self.decimals)
    }

    /// The 32 bytes signed for this report:
    ///
    /// ```solidity
    /// keccak256(abi.encode(
    ///     keccak256("restaked.oracle.report.v1"), // bytes32
    ///     keccak256(bytes(feed)),                 // bytes32
    ///     round,                                  // uint64
    ///     value,                                  // int256
    ///     decimals,                               // uint8
    ///     observedAt,                             // uint64
    ///     keccak256(bytes(sourcesJoinedByComma))  // bytes32
    /// ))
    /// ```
    pub fn digest(&self) -> [u8; 32] {
        let encoded = ReportAbi::abi_encode_params(&(
            keccak256(REPORT_TYPEHASH_PREIMAGE),
            keccak256(self.feed.as_bytes()),
            self.round,
            I256::from_raw(U256::from_be_bytes(i128_word(self.value))),
            self.decimals,
            self.observed_at,
            keccak256(self.sources.join(",").as_bytes()),
        ));
        keccak256(encoded).0
    }
}

/// The Solidity types of the digest's `abi.encode` arguments.
type ReportAbi = (
    sol_data::FixedBytes<32>,
    sol_data::FixedBytes<32>,
    sol_data::Uint<64>,
    sol_data::Int<256>,
    sol_data::Uint<8>,
    sol_data::Uint<64>,
    sol_data::FixedBytes<32>,
);

/// `value` sign-extended to a big-endian 32-byte two's-complement word (`int256`).
fn i128_word(value: i128) -> [u8; 32] {
    let fill = if value < 0 { 0xff } else { 0x00 };
    let mut word = [fill; 32];
    word[16..].copy_from_slice(&value.to_be_bytes());
    word
}

/// A report with its signature: what is stored, streamed and POSTed to aggregators.
///
/// JSON: `{"report": {"feed", "round", "value" (decimal string), "decimals", "observed_at",
/// "sources"}, "scheme": "bls12-381" | "bn254", "public_key": "0x…", "public_key_g2": "0x…"
/// (BN254 only), "signature": "0x…"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedReport {
    /// The report.
    pub report: Report,
    /// The signing key's scheme.
    #[serde(with = "scheme_name")]
    pub scheme: Scheme,
    /// The signing key: the 48-byte compressed BLS12-381 G1 key, or the 64-byte BN254 G1 key
    /// (`X ‖ Y`), as in the key's id.
    #[serde(with = "hex_bytes")]
    pub public_key: Vec<u8>,
    /// For BN254 the key's 128-byte G2 public key, which the signature verifies against
    /// (`X[0] ‖ X[1] ‖ Y[0] ‖ Y[1]`, the contracts' `G2Point` order); `None` for BLS12-381.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "optional_hex_bytes"
    )]
    pub public_key_g2: Option<Vec<u8>>,
    /// The signature of [`Report::digest`]: BLS12-381 96 bytes (compressed G2, Ethereum's
    /// proof-of-possession ciphersuite over the 32 digest bytes), BN254 64 bytes (`X ‖ Y`, over
    /// the digest as the message hash, EigenLayer's `hashToG1`).
    #[serde(with = "hex_bytes")]
    pub signature: Vec<u8>,
}

impl SignedReport {
    /// Whether `signature` is the public key's signature of the report's digest (for BN254
    /// also that the G1 and G2 keys are of one secret key).
    pub fn verify(&self) -> bool {
        let digest = self.report.digest();
        match self.scheme {
            Scheme::Bls12381 => {
                let (Ok(key), Ok(signature)) = (
                    bls::PublicKey::from_bytes(&self.public_key),
                    bls::Signature::from_bytes(&self.signature),
                ) else {
                    return false;
                };
                bls::verify(&key, &digest, &signature)
            }
            Scheme::Bn254 => {
                let Some(g2) = &self.public_key_g2 else {
                    return false;
                };
                let (Ok(g1), Ok(g2), Ok(signature)) = (
                    bn254::PublicKey::from_bytes(&self.public_key),
                    bn254::G2PublicKey::from_bytes(g2),
                    bn254::Signature::from_bytes(&self.signature),
                ) else {
                    return false;
                };
                let Ok(keys) = bn254::PublicKeys::new(g1, g2) else {
                    return false;
                };
                bn254::verify(&keys.g2, &digest, &signature)
            }
            Scheme::Secp256k1 => false,
        }
    }

    /// The JSON as stored, streamed and POSTed.
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing plain strings, integers and vectors cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

mod i128_string {
    use super::*;

    pub(super) fn serialize<S: Serializer>(value: &i128, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i128, D::Error> {
        let text = String::deserialize(d)?;
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(text.strip_prefix('-').unwrap_or(&text)) {
            return Err(D::Error::custom(format!(
                "value {text:?} is not a decimal integer"
            )));
        }
        text.parse().map_err(D::Error::custom)
    }
}

mod scheme_name {
    use super::*;

    pub(super) fn serialize<S: Serializer>(scheme: &Scheme, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(scheme.as_str())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Scheme, D::Error> {
        let name = String::deserialize(d)?;
        Scheme::from_name(&name).ok_or_else(|| D::Error::custom(format!("unknown scheme {name:?}")))
    }
}

mod hex_bytes {
    use super::*;

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{}", hex::encode(bytes)))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        restake_types::parse_hex(&text).map_err(D::Error::custom)
    }
}

mod optional_hex_bytes {
    use super::*;

    // serde's `with` hands the field by reference.
    #[allow(clippy::ref_option)]
    pub(super) fn serialize<S: Serializer>(
        bytes: &Option<Vec<u8>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => super::hex_bytes::serialize(bytes, s),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| restake_types::parse_hex(&t).map_err(D::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use alloy_primitives::B256;

    use super::*;

    fn report() -> Report {
        Report {
            feed: "eth-usd".to_owned(),
            round: 7,
            value: -341_255_120_000,
            decimals: 8,
            observed_at: 1_700_000_000,
            sources: vec!["binance".to_owned(), "coinbase".to_owned()],
        }
    }

    #[test]
    fn the_digest_hashes_seven_abi_words() {
        let r = report();
        let mut expected = Vec::new();
        expected.extend_from_slice(keccak256(b"restaked.oracle.report.v1").as_slice());
        expected.extend_from_slice(keccak256(b"eth-usd").as_slice());
        let mut word = [0u8; 32];
        word[24..].copy_from_slice(&7u64.to_be_bytes());
        expected.extend_from_slice(&word);
        expected.extend_from_slice(&i128_word(-341_255_120_000));
        let mut word = [0u8; 32];
        word[31] = 8;
        expected.extend_from_slice(&word);
        let mut word = [0u8; 32];
        word[24..].copy_from_slice(&1_700_000_000u64.to_be_bytes());
        expected.extend_from_slice(&word);
        expected.extend_from_slice(keccak256(b"binance,coinbase").as_slice());
        assert_eq!(expected.len(), 7 * 32);
        assert_eq!(B256::from(r.digest()), keccak256(&expected));
        // Negative values are sign-extended two's complement.
        assert_eq!(&i128_word(-1), &[0xff; 32]);
    }

    #[test]
    fn every_field_changes_the_digest() {
        let base = report().digest();
        let mut r = report();
        r.feed = "eth-usdc".to_owned();
        assert_ne!(r.digest(), base);
        let mut r = report();
        r.round = 8;
        assert_ne!(r.digest(), base);
        let mut r = report();
        r.value += 1;
        assert_ne!(r.digest(), base);
        let mut r = report();
        r.decimals = 9;
        assert_ne!(r.digest(), base);
        let mut r = report();
        r.observed_at += 1;
        assert_ne!(r.digest(), base);
        let mut r = report();
        r.sources.pop();
        assert_ne!(r.digest(), base);
    }

    #[test]
    fn signed_reports_round_trip_through_json() {
        let signed = SignedReport {
            report: report(),
            scheme: Scheme::Bn254,
            public_key: vec![0xab; 64],
            public_key_g2: Some(vec![0xcd; 128]),
            signature: vec![0x01; 64],
        };
        let json: serde_json::Value = serde_json::from_slice(&signed.to_json()).unwrap();
        assert_eq!(json["report"]["value"], "-341255120000");
        assert_eq!(json["report"]["round"], 7);
        assert_eq!(json["report"]["observed_at"], 1_700_000_000u64);
        assert_eq!(json["scheme"], "bn254");
        assert_eq!(json["public_key"], format!("0x{}", "ab".repeat(64)));
        assert_eq!(json["public_key_g2"], format!("0x{}", "cd".repeat(128)));
        let back: SignedReport = serde_json::from_slice(&signed.to_json()).unwrap();
        assert_eq!(back, signed);

        let bls = SignedReport {
            scheme: Scheme::Bls12381,
            public_key_g2: None,
            ..signed
        };
        let json: serde_json::Value = serde_json::from_slice(&bls.to_json()).unwrap();
        assert!(json.get("public_key_g2").is_none());
        assert_eq!(json["scheme"], "bls12-381");
        let back: SignedReport = serde_json::from_slice(&bls.to_json()).unwrap();
        assert_eq!(back, bls);
    }

    #[test]
    fn malformed_json_is_refused() {
        let good = String::from_utf8(
            SignedReport {
                report: report(),
                scheme: Scheme::Bls12381,
                public_key: vec![1; 48],
                public_key_g2: None,
                signature: vec![2; 96],
            }
            .to_json(),
        )
        .unwrap();
        for bad in [
            good.replace("\"-341255120000\"", "-341255120000"),
            good.replace("\"-341255120000\"", "\"3.5\""),
            good.replace("bls12-381", "rsa"),
            good.replace("\"0x0101", "\"0101"),
        ] {
            assert!(serde_json::from_str::<SignedReport>(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn garbage_signatures_and_keys_do_not_verify() {
        let mut signed = SignedReport {
            report: report(),
            scheme: Scheme::Bls12381,
            public_key: vec![1; 48],
            public_key_g2: None,
            signature: vec![2; 96],
        };
        assert!(!signed.verify());
        signed.scheme = Scheme::Bn254;
        assert!(!signed.verify());
        signed.scheme = Scheme::Secp256k1;
        assert!(!signed.verify());
    }
}
