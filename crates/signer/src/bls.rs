//! BLS12-381 signatures in Ethereum's ciphersuite, on top of `blst`.
//!
//! The ciphersuite is `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`: public keys are
//! 48-byte compressed G1 points, signatures 96-byte compressed G2 points ("min-pk"), and the
//! proof-of-possession scheme, so aggregate verification needs no distinct messages.
//!
//! The types here carry their own validity: a [`PublicKey`] has passed Ethereum's
//! `KeyValidate` (on the curve, in the subgroup, not the point at infinity) and a
//! [`Signature`] is on the curve and in the subgroup. That is why the verification functions
//! below tell `blst` to skip the group checks: they were done once, at parsing.
//!
//! Signing is deliberately not public: `SecretKey` is `pub(crate)` so that the only path
//! to a signature stays the crate's protected signer.

use std::{
    fmt,
    hash::{Hash, Hasher},
};

use blst::{BLST_ERROR, blst_scalar, min_pk};
use restake_types::BlsPublicKey;

use crate::SecretBytes;

/// The domain separation tag of Ethereum's BLS signatures (proof-of-possession scheme).
pub const DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// Length of a compressed public key (a G1 point).
pub const PUBLIC_KEY_LEN: usize = 48;

/// Length of a compressed signature (a G2 point).
pub const SIGNATURE_LEN: usize = 96;

/// The compressed G2 point at infinity: the compression and infinity flags, then zeros.
const INFINITY_SIGNATURE: [u8; SIGNATURE_LEN] = {
    let mut bytes = [0; SIGNATURE_LEN];
    bytes[0] = 0xc0;
    bytes
};

/// Why some bytes are not an acceptable curve point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PointError {
    /// Not a canonical compressed encoding (flag bits, or a coordinate not below the modulus).
    #[error("not a canonical compressed point encoding")]
    BadEncoding,
    /// The x coordinate has no matching y on the curve.
    #[error("not on the curve")]
    NotOnCurve,
    /// On the curve but outside the prime-order subgroup.
    #[error("not in the prime-order subgroup")]
    NotInSubgroup,
    /// The point at infinity, which is never a valid public key.
    #[error("the point at infinity")]
    Infinity,
}

impl From<BLST_ERROR> for PointError {
    fn from(error: BLST_ERROR) -> Self {
        match error {
            BLST_ERROR::BLST_POINT_NOT_ON_CURVE => Self::NotOnCurve,
            BLST_ERROR::BLST_POINT_NOT_IN_GROUP => Self::NotInSubgroup,
            BLST_ERROR::BLST_PK_IS_INFINITY => Self::Infinity,
            // Decoding and group checks only report the errors above or a bad encoding.
            _ => Self::BadEncoding,
        }
    }
}

/// Errors from parsing BLS keys and signatures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlsError {
    /// A public key was not 48 bytes long.
    #[error("a BLS public key is {PUBLIC_KEY_LEN} bytes (compressed G1), got {actual}")]
    PublicKeyLength {
        /// The length found.
        actual: usize,
    },
    /// 48 bytes that are not a valid public key.
    #[error("invalid BLS public key {key}: {reason}")]
    InvalidPublicKey {
        /// The offending bytes, so the operator can tell which key it is.
        key: BlsPublicKey,
        /// What is wrong with it.
        reason: PointError,
    },
    /// A signature was not 96 bytes long.
    #[error("a BLS signature is {SIGNATURE_LEN} bytes (compressed G2), got {actual}")]
    SignatureLength {
        /// The length found.
        actual: usize,
    },
    /// 96 bytes that are not a valid signature.
    #[error("invalid BLS signature: {reason}")]
    InvalidSignature {
        /// What is wrong with it.
        reason: PointError,
    },
    /// A secret key that is zero or not below the group order r. The value is never shown.
    #[error("invalid BLS secret key: it must be nonzero and below the group order r")]
    InvalidSecretKey,
}

/// A validated BLS public key: a compressed G1 point that passed Ethereum's `KeyValidate`.
#[derive(Clone, Copy)]
pub struct PublicKey {
    point: min_pk::PublicKey,
    // The canonical compressed encoding, kept for cheap equality, hashing and display.
    bytes: [u8; PUBLIC_KEY_LEN],
}

impl PublicKey {
    /// Parses a compressed public key and runs `KeyValidate`: the point must be on the
    /// curve, in the prime-order subgroup, and not the point at infinity.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        let key: [u8; PUBLIC_KEY_LEN] =
            bytes.try_into().map_err(|_| BlsError::PublicKeyLength {
                actual: bytes.len(),
            })?;
        let invalid = |error: BLST_ERROR| BlsError::InvalidPublicKey {
            key: BlsPublicKey::new(key),
            reason: error.into(),
        };
        // `uncompress` accepts only the 48-byte compressed form and checks the curve
        // equation; `validate` adds the infinity and subgroup checks.
        let point = min_pk::PublicKey::uncompress(&key).map_err(invalid)?;
        point.validate().map_err(invalid)?;
        Ok(Self::from_validated(point))
    }

    /// The public key of a secret key, for checking that a keystore holds the key it claims.
    pub fn from_secret(secret: &SecretBytes) -> Result<Self, BlsError> {
        SecretKey::from_secret(secret).map(|secret| secret.public_key())
    }

    /// The 48-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.bytes
    }

    /// The same key as the domain type used across the node.
    pub fn to_types(&self) -> BlsPublicKey {
        BlsPublicKey::new(self.bytes)
    }

    /// Wraps a point the caller has already validated (or derived from valid points).
    fn from_validated(point: min_pk::PublicKey) -> Self {
        Self {
            bytes: point.compress(),
            point,
        }
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        // Compressed encodings of valid points are canonical, so bytes decide equality.
        self.bytes == other.bytes
    }
}

impl Eq for PublicKey {}

impl Hash for PublicKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.bytes))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl From<PublicKey> for BlsPublicKey {
    fn from(key: PublicKey) -> Self {
        key.to_types()
    }
}

impl TryFrom<&BlsPublicKey> for PublicKey {
    type Error = BlsError;

    fn try_from(key: &BlsPublicKey) -> Result<Self, Self::Error> {
        Self::from_bytes(key.as_bytes())
    }
}

/// A BLS signature: a compressed G2 point on the curve and in the prime-order subgroup.
///
/// The point at infinity parses, because it is a legitimate aggregate of nothing (see
/// [`eth_fast_aggregate_verify`]), but it never verifies against a valid public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    point: min_pk::Signature,
}

impl Signature {
    /// Parses a compressed signature, checking the curve equation and subgroup membership.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        if bytes.len() != SIGNATURE_LEN {
            return Err(BlsError::SignatureLength {
                actual: bytes.len(),
            });
        }
        let invalid = |error: BLST_ERROR| BlsError::InvalidSignature {
            reason: error.into(),
        };
        let point = min_pk::Signature::uncompress(bytes).map_err(invalid)?;
        // `false`: infinity is allowed here; verification rejects it through the pairing.
        point.validate(false).map_err(invalid)?;
        Ok(Self { point })
    }

    /// The 96-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_LEN] {
        self.point.compress()
    }

    /// Whether this is the point at infinity (the aggregate of no signatures).
    pub fn is_infinity(&self) -> bool {
        self.to_bytes() == INFINITY_SIGNATURE
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.to_bytes()))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

/// A BLS secret key that can sign. Crate-private on purpose: see the module docs.
///
/// `blst`'s secret key zeroizes itself on drop; this wrapper adds no copies of its own and
/// is not `Clone`, so each key lives in one place. (Moves may still leave stack copies
/// behind; safe Rust cannot rule that out.)
pub(crate) struct SecretKey(min_pk::SecretKey);

impl SecretKey {
    /// Takes a big-endian scalar; rejects zero and values not below the group order r.
    pub(crate) fn from_secret(secret: &SecretBytes) -> Result<Self, BlsError> {
        min_pk::SecretKey::from_bytes(secret.expose())
            .map(Self)
            .map_err(|_| BlsError::InvalidSecretKey)
    }

    /// The matching public key. A valid scalar times the generator is always a valid key.
    pub(crate) fn public_key(&self) -> PublicKey {
        PublicKey::from_validated(self.0.sk_to_pk())
    }

    /// Signs `msg` under Ethereum's proof-of-possession DST.
    pub(crate) fn sign(&self, msg: &[u8]) -> Signature {
        Signature {
            point: self.0.sign(msg, DST, &[]),
        }
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // blst's own Debug would print the scalar.
        f.write_str("SecretKey(<redacted>)")
    }
}

/// Whether `signature` is `public_key`'s signature of `msg`.
pub fn verify(public_key: &PublicKey, msg: &[u8], signature: &Signature) -> bool {
    // Group checks off: both types were validated when they were built.
    signature
        .point
        .verify(false, msg, DST, &[], &public_key.point, false)
        == BLST_ERROR::BLST_SUCCESS
}

/// Adds signatures together; `None` for an empty list.
pub fn aggregate(signatures: &[Signature]) -> Option<Signature> {
    let (first, rest) = signatures.split_first()?;
    let mut sum = min_pk::AggregateSignature::from_signature(&first.point);
    for signature in rest {
        // With the group check off this cannot fail; `ok()?` keeps it panic-free anyway.
        sum.add_signature(&signature.point, false).ok()?;
    }
    // A sum of subgroup points stays in the subgroup, so the invariant holds.
    Some(Signature {
        point: sum.to_signature(),
    })
}

/// Whether `signature` is the aggregate of every key's signature of the same `msg`.
///
/// `false` for an empty key list (the IETF `FastAggregateVerify`).
pub fn fast_aggregate_verify(public_keys: &[PublicKey], msg: &[u8], signature: &Signature) -> bool {
    if public_keys.is_empty() {
        return false;
    }
    let keys: Vec<&min_pk::PublicKey> = public_keys.iter().map(|key| &key.point).collect();
    signature
        .point
        .fast_aggregate_verify(false, msg, DST, &keys)
        == BLST_ERROR::BLST_SUCCESS
}

/// Whether `signature` is the aggregate of `public_keys[i]`'s signature of `messages[i]`.
///
/// `false` for empty lists or lists of different lengths. Messages need not be distinct:
/// proof of possession already rules out rogue-key attacks.
pub fn aggregate_verify(
    public_keys: &[PublicKey],
    messages: &[&[u8]],
    signature: &Signature,
) -> bool {
    if public_keys.is_empty() || public_keys.len() != messages.len() {
        return false;
    }
    let keys: Vec<&min_pk::PublicKey> = public_keys.iter().map(|key| &key.point).collect();
    signature
        .point
        .aggregate_verify(false, messages, DST, &keys, false)
        == BLST_ERROR::BLST_SUCCESS
}

/// One signature to check in a [`batch_verify`] call.
#[derive(Debug, Clone, Copy)]
pub struct SignatureSet<'a> {
    /// The key that should have signed.
    pub public_key: &'a PublicKey,
    /// The signed message.
    pub message: &'a [u8],
    /// The signature to check.
    pub signature: &'a Signature,
}

/// Whether every set verifies; `false` for an empty batch.
///
/// Checks all sets with one multi-pairing, each weighted by a fresh random 64-bit scalar so
/// that invalid signatures cannot cancel each other out. If the OS has no randomness to
/// give, falls back to verifying the sets one by one (same answer, slower).
pub fn batch_verify(sets: &[SignatureSet<'_>]) -> bool {
    if sets.is_empty() {
        return false;
    }
    let mut random = vec![0u8; 8 * sets.len()];
    if getrandom::fill(&mut random).is_err() {
        return sets
            .iter()
            .all(|set| verify(set.public_key, set.message, set.signature));
    }
    let scalars: Vec<blst_scalar> = random
        .chunks_exact(8)
        .map(|chunk| {
            let mut scalar = blst_scalar::default();
            scalar.b[..8].copy_from_slice(chunk);
            // A zero weight would drop its set from the check.
            if scalar.b == [0; 32] {
                scalar.b[0] = 1;
            }
            scalar
        })
        .collect();
    let messages: Vec<&[u8]> = sets.iter().map(|set| set.message).collect();
    let keys: Vec<&min_pk::PublicKey> = sets.iter().map(|set| &set.public_key.point).collect();
    let signatures: Vec<&min_pk::Signature> = sets.iter().map(|set| &set.signature.point).collect();
    min_pk::Signature::verify_multiple_aggregate_signatures(
        &messages,
        DST,
        &keys,
        false,
        &signatures,
        false,
        &scalars,
        64,
    ) == BLST_ERROR::BLST_SUCCESS
}

/// Adds public keys together, as the consensus specs' `eth_aggregate_pubkeys` (altair).
///
/// `None` for an empty list, and when the sum is the point at infinity (which would not
/// pass `KeyValidate`), e.g. a key plus its negation.
pub fn eth_aggregate_pubkeys(public_keys: &[PublicKey]) -> Option<PublicKey> {
    let (first, rest) = public_keys.split_first()?;
    let mut sum = min_pk::AggregatePublicKey::from_public_key(&first.point);
    for key in rest {
        sum.add_public_key(&key.point, false).ok()?;
    }
    let point = sum.to_public_key();
    point.validate().ok()?;
    Some(PublicKey::from_validated(point))
}

/// The consensus specs' `eth_fast_aggregate_verify` (altair): like
/// [`fast_aggregate_verify`], except that no keys with the infinity signature is valid, as
/// a sync committee aggregate with no participants is.
pub fn eth_fast_aggregate_verify(
    public_keys: &[PublicKey],
    msg: &[u8],
    signature: &Signature,
) -> bool {
    if public_keys.is_empty() && signature.is_infinity() {
        return true;
    }
    fast_aggregate_verify(public_keys, msg, signature)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn secret_key(byte: u8) -> SecretKey {
        let mut bytes = [byte; 32];
        // Keep it below r, whose top byte is 0x73.
        bytes[0] = 0x01;
        SecretKey::from_secret(&SecretBytes::new(bytes)).unwrap()
    }

    /// Reduces arbitrary bytes to a valid secret: below r (top byte cleared to < 0x73) and nonzero.
    fn valid_secret(mut bytes: [u8; 32]) -> SecretBytes {
        bytes[0] &= 0x3f;
        bytes[31] |= 1;
        SecretBytes::new(bytes)
    }

    #[test]
    fn secret_key_debug_is_redacted() {
        let key = secret_key(0xab);
        let printed = format!("{key:?}");
        assert_eq!(printed, "SecretKey(<redacted>)");
    }

    #[test]
    fn rejects_zero_secret_and_secrets_not_below_r() {
        assert_eq!(
            SecretKey::from_secret(&SecretBytes::new([0; 32])).unwrap_err(),
            BlsError::InvalidSecretKey
        );
        assert!(SecretKey::from_secret(&SecretBytes::new([0xff; 32])).is_err());
        // r itself.
        let r = hex::decode("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001")
            .unwrap();
        assert!(SecretKey::from_secret(&SecretBytes::from_slice(&r).unwrap()).is_err());
        let mut r_minus_one = r.clone();
        r_minus_one[31] = 0;
        assert!(SecretKey::from_secret(&SecretBytes::from_slice(&r_minus_one).unwrap()).is_ok());
    }

    #[test]
    fn public_key_from_secret_matches_the_signing_key() {
        let secret = valid_secret([7; 32]);
        let key = SecretKey::from_secret(&secret).unwrap();
        assert_eq!(PublicKey::from_secret(&secret).unwrap(), key.public_key());
    }

    #[test]
    fn public_key_parsing_names_length_and_reason() {
        assert_eq!(
            PublicKey::from_bytes(&[0xc0; 47]).unwrap_err(),
            BlsError::PublicKeyLength { actual: 47 }
        );
        let mut infinity = [0u8; 48];
        infinity[0] = 0xc0;
        let error = PublicKey::from_bytes(&infinity).unwrap_err();
        assert_eq!(
            error,
            BlsError::InvalidPublicKey {
                key: BlsPublicKey::new(infinity),
                reason: PointError::Infinity
            }
        );
        assert!(error.to_string().contains("0xc000"), "{error}");
        assert!(error.to_string().contains("infinity"), "{error}");
    }

    #[test]
    fn public_key_round_trips_through_bytes_display_and_types() {
        let key = secret_key(3).public_key();
        assert_eq!(PublicKey::from_bytes(&key.to_bytes()).unwrap(), key);
        let typed = key.to_types();
        assert_eq!(typed.to_string(), key.to_string());
        assert_eq!(PublicKey::try_from(&typed).unwrap(), key);
        assert!(format!("{key:?}").starts_with("PublicKey(0x"));
    }

    #[test]
    fn signature_round_trips_and_rejects_wrong_length() {
        let signature = secret_key(4).sign(b"hello");
        assert_eq!(
            Signature::from_bytes(&signature.to_bytes()).unwrap(),
            signature
        );
        assert_eq!(
            signature.to_string(),
            format!("0x{}", hex::encode(signature.to_bytes()))
        );
        assert_eq!(
            Signature::from_bytes(&[0; 8]).unwrap_err(),
            BlsError::SignatureLength { actual: 8 }
        );
    }

    #[test]
    fn infinity_signature_parses_but_never_verifies() {
        let infinity = Signature::from_bytes(&INFINITY_SIGNATURE).unwrap();
        assert!(infinity.is_infinity());
        let key = secret_key(5).public_key();
        assert!(!verify(&key, b"msg", &infinity));
        assert!(!fast_aggregate_verify(&[key], b"msg", &infinity));
        assert!(!eth_fast_aggregate_verify(&[key], b"msg", &infinity));
        assert!(!fast_aggregate_verify(&[], b"msg", &infinity));
        assert!(eth_fast_aggregate_verify(&[], b"msg", &infinity));
    }

    #[test]
    fn batch_verify_accepts_valid_sets_and_rejects_one_bad_signature() {
        let keys: Vec<SecretKey> = (1..=3).map(secret_key).collect();
        let publics: Vec<PublicKey> = keys.iter().map(SecretKey::public_key).collect();
        let messages: [&[u8]; 3] = [b"a", b"b", b"c"];
        let mut signatures: Vec<Signature> = keys
            .iter()
            .zip(messages)
            .map(|(key, msg)| key.sign(msg))
            .collect();
        let sets = |signatures: &[Signature]| -> bool {
            let sets: Vec<SignatureSet<'_>> = (0..3)
                .map(|i| SignatureSet {
                    public_key: &publics[i],
                    message: messages[i],
                    signature: &signatures[i],
                })
                .collect();
            batch_verify(&sets)
        };
        assert!(sets(&signatures));
        signatures.swap(0, 1);
        assert!(!sets(&signatures));
        assert!(!batch_verify(&[]));
    }

    #[test]
    fn aggregate_of_a_key_and_its_negation_is_rejected() {
        let key = secret_key(9).public_key();
        // Negating a compressed point flips its sign bit.
        let mut negated = key.to_bytes();
        negated[0] ^= 0x20;
        let negated = PublicKey::from_bytes(&negated).unwrap();
        assert_ne!(negated, key);
        assert_eq!(eth_aggregate_pubkeys(&[key, negated]), None);
        assert_eq!(eth_aggregate_pubkeys(&[]), None);
        assert_eq!(eth_aggregate_pubkeys(&[key]), Some(key));
    }

    #[test]
    fn aggregate_verify_rejects_mismatched_lengths() {
        let key = secret_key(2);
        let signature = key.sign(b"m");
        assert!(aggregate_verify(&[key.public_key()], &[b"m"], &signature));
        assert!(!aggregate_verify(
            &[key.public_key()],
            &[b"m", b"n"],
            &signature
        ));
        assert!(!aggregate_verify(&[], &[], &signature));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn sign_then_verify_round_trips(secret in any::<[u8; 32]>(), msg in proptest::collection::vec(any::<u8>(), 0..256)) {
            let key = SecretKey::from_secret(&valid_secret(secret)).unwrap();
            let signature = key.sign(&msg);
            prop_assert!(verify(&key.public_key(), &msg, &signature));
            let parsed = Signature::from_bytes(&signature.to_bytes()).unwrap();
            prop_assert!(verify(&key.public_key(), &msg, &parsed));
        }

        #[test]
        fn flipping_a_message_bit_fails_verification(
            secret in any::<[u8; 32]>(),
            msg in proptest::collection::vec(any::<u8>(), 1..64),
            bit in any::<usize>(),
        ) {
            let key = SecretKey::from_secret(&valid_secret(secret)).unwrap();
            let signature = key.sign(&msg);
            let mut tampered = msg.clone();
            let bit = bit % (tampered.len() * 8);
            tampered[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(!verify(&key.public_key(), &tampered, &signature));
        }

        #[test]
        fn flipping_a_signature_bit_fails_parsing_or_verification(
            secret in any::<[u8; 32]>(),
            msg in proptest::collection::vec(any::<u8>(), 0..64),
            bit in 0..SIGNATURE_LEN * 8,
        ) {
            let key = SecretKey::from_secret(&valid_secret(secret)).unwrap();
            let mut bytes = key.sign(&msg).to_bytes();
            bytes[bit / 8] ^= 1 << (bit % 8);
            if let Ok(tampered) = Signature::from_bytes(&bytes) {
                prop_assert!(!verify(&key.public_key(), &msg, &tampered));
            }
        }

        #[test]
        fn public_key_parsing_never_panics(bytes in any::<[u8; 48]>()) {
            if let Ok(key) = PublicKey::from_bytes(&bytes) {
                prop_assert_eq!(key.to_bytes(), bytes);
            }
        }

        #[test]
        fn signature_parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(signature) = Signature::from_bytes(&bytes) {
                prop_assert_eq!(&signature.to_bytes()[..], &bytes[..]);
            }
        }
    }
}
