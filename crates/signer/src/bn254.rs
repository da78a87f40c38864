//! BLS signatures on BN254 (alt_bn128), exactly as EigenLayer's contracts verify them.
//!
//! EigenLayer AVSs sign a 32-byte message hash (`bytes32`) with a secret scalar in Fr. The
//! message is mapped to G1 with the contracts' try-and-increment `hashToG1`, the signature is
//! `sk · hashToG1(msgHash)` in G1, and it verifies against the G2 public key:
//! `e(sig, G2gen) == e(hashToG1(msgHash), pkG2)`. Operators register both `sk · G1gen` (the
//! key the registries aggregate) and `sk · G2gen` (the key the pairing needs).
//!
//! Sources checked (Layr-Labs on GitHub):
//! - eigenlayer-middleware `src/libraries/BN254.sol` (commit 029cb827): `hashToG1`,
//!   `findYFromX`, `generatorG2` and the `G2Point` field order;
//! - eigenlayer-middleware `src/BLSSignatureChecker.sol` (commit 848032a7):
//!   `trySignatureAndApkVerification`, mirrored by [`verify_aggregate_with_apk`];
//! - eigensdk-go `crypto/bn254/utils.go` (`MapToCurve`, `VerifySig`,
//!   `CheckG1AndG2DiscreteLogEquality`) and `crypto/bls/attestation.go` (`SignMessage`);
//! - eigensdk-rs `crates/crypto/bls/src/lib.rs` (`convert_to_g2_point`, `sign_message`).
//!
//! Encodings are the contracts' ABI words, big-endian:
//! - G1 (public keys, signatures): 64 bytes, `X ‖ Y` (`struct G1Point { uint256 X; uint256 Y; }`);
//!   the point at infinity is 64 zero bytes, as the precompiles encode it.
//! - G2 (public keys): 128 bytes, `X[0] ‖ X[1] ‖ Y[0] ‖ Y[1]` of `struct G2Point { uint256[2] X;
//!   uint256[2] Y; }`, where `X[0]` is the coefficient of `i` (`x = X[1] + X[0]·i`). This is the
//!   order of `BN254.generatorG2()` (`[G2x1, G2x0]`), of EIP-197's precompile input and of
//!   eigensdk-rs `convert_to_g2_point` (`X: [c1, c0]`). eigensdk-go's `SerializeG2` writes the
//!   other order (`A0` first); that is its own storage format, not what the contracts take.
//!
//! `hashToG1` maps `x` and `x + 1` to the same point whenever `x` is not on the curve, so the
//! message must be a hash (as `bytes32` says), never structured data a caller could nudge.
//!
//! Signing uses arkworks' scalar multiplication, which is not constant-time: its timing depends
//! on the secret, which matters to an attacker who can time many signatures closely (from the
//! same host, say).
//!
//! As in [`crate::bls`], signing is crate-private: the only path to a signature is the
//! protected signer. Rogue-key attacks on aggregates are EigenLayer's registration's concern
//! (a proof of possession when a key is registered), not this module's.

use std::fmt;

use alloy_primitives::keccak256;
use ark_bn254::{Bn254, Fq, Fq2, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{AffineRepr, CurveGroup, pairing::Pairing};
use ark_ff::{BigInt, BigInteger, Field, One, PrimeField, Zero};
use zeroize::Zeroize;

use crate::SecretBytes;

/// Length of an encoded G1 public key: `X ‖ Y`.
pub const PUBLIC_KEY_LEN: usize = 64;

/// Length of an encoded G2 public key: `X[0] ‖ X[1] ‖ Y[0] ‖ Y[1]`.
pub const G2_PUBLIC_KEY_LEN: usize = 128;

/// Length of an encoded signature (a G1 point): `X ‖ Y`.
pub const SIGNATURE_LEN: usize = 64;

/// Length of a signed message: EigenLayer operators sign a `bytes32` hash.
pub const MESSAGE_LEN: usize = 32;

/// `(p + 1) / 4` for the base field modulus p, little-endian limbs: `findYFromX`'s exponent
/// `0x0c19139cb84c680a6e14116da060561765e05aa45a1c72a34f082305b61f3f52`. Since p ≡ 3 (mod 4),
/// `beta^((p+1)/4)` is a square root of `beta` whenever one exists; it picks the same root as
/// the contract, which a generic `sqrt` need not do.
const SQRT_EXPONENT: [u64; 4] = [
    0x4f08_2305_b61f_3f52,
    0x65e0_5aa4_5a1c_72a3,
    0x6e14_116d_a060_5617,
    0x0c19_139c_b84c_680a,
];

/// Why some bytes are not an acceptable curve point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PointError {
    /// A coordinate is not below the base field modulus p.
    #[error("a coordinate is not below the field modulus")]
    NotCanonical,
    /// The coordinates do not satisfy the curve equation.
    #[error("not on the curve")]
    NotOnCurve,
    /// On the G2 curve but outside the prime-order subgroup.
    #[error("not in the prime-order subgroup")]
    NotInSubgroup,
    /// The point at infinity, which is never a valid public key.
    #[error("the point at infinity")]
    Infinity,
}

/// Errors from parsing BN254 keys and signatures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Bn254Error {
    /// Bytes of the wrong length for what they should encode.
    #[error("a BN254 {what} is {expected} bytes, got {actual}")]
    Length {
        /// What was being parsed.
        what: &'static str,
        /// The length it must have.
        expected: usize,
        /// The length found.
        actual: usize,
    },
    /// Bytes of the right length that are not an acceptable point.
    #[error("invalid BN254 {what}: {reason}")]
    InvalidPoint {
        /// What was being parsed.
        what: &'static str,
        /// What is wrong with it.
        reason: PointError,
    },
    /// A secret key that is zero or not below the group order r. The value is never shown.
    #[error("invalid BN254 secret key: it must be nonzero and below the group order r")]
    InvalidSecretKey,
    /// A G1 and a G2 public key that do not belong to the same secret key.
    #[error("the G1 public key {g1} and the G2 public key {g2} are not of the same secret key")]
    KeyPairMismatch {
        /// The G1 key (boxed, like the G2 key, to keep the error small).
        g1: Box<PublicKey>,
        /// The G2 key.
        g2: Box<G2PublicKey>,
    },
}

/// A BN254 public key in G1: on the curve and not the point at infinity (G1 has cofactor 1,
/// so every curve point is in the group). The key EigenLayer's registries store and aggregate.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey {
    point: G1Affine,
}

impl PublicKey {
    /// Parses the 64-byte `X ‖ Y` encoding: coordinates below p, on the curve, not infinity.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Bn254Error> {
        const WHAT: &str = "G1 public key";
        let bytes: &[u8; PUBLIC_KEY_LEN] = bytes.try_into().map_err(|_| Bn254Error::Length {
            what: WHAT,
            expected: PUBLIC_KEY_LEN,
            actual: bytes.len(),
        })?;
        let point =
            decode_g1(bytes).map_err(|reason| Bn254Error::InvalidPoint { what: WHAT, reason })?;
        if point.is_zero() {
            return Err(Bn254Error::InvalidPoint {
                what: WHAT,
                reason: PointError::Infinity,
            });
        }
        Ok(Self { point })
    }

    /// The 64-byte `X ‖ Y` encoding.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        encode_g1(&self.point)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.to_bytes()))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bn254::PublicKey({self})")
    }
}

/// A BN254 public key in G2: on the twist, in the prime-order subgroup, not infinity. The key
/// signatures verify against, and that AVS registration asks for besides the G1 key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct G2PublicKey {
    point: G2Affine,
}

impl G2PublicKey {
    /// Parses the 128-byte `X[0] ‖ X[1] ‖ Y[0] ‖ Y[1]` encoding (imaginary coefficient first,
    /// see the module docs), checking the curve equation and subgroup membership.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Bn254Error> {
        const WHAT: &str = "G2 public key";
        let bytes: &[u8; G2_PUBLIC_KEY_LEN] = bytes.try_into().map_err(|_| Bn254Error::Length {
            what: WHAT,
            expected: G2_PUBLIC_KEY_LEN,
            actual: bytes.len(),
        })?;
        let invalid = |reason| Bn254Error::InvalidPoint { what: WHAT, reason };
        let [x1, x0, y1, y0] = [0, 1, 2, 3].map(|i| word(bytes, i));
        let x = Fq2::new(fq(&x0).map_err(invalid)?, fq(&x1).map_err(invalid)?);
        let y = Fq2::new(fq(&y0).map_err(invalid)?, fq(&y1).map_err(invalid)?);
        if x.is_zero() && y.is_zero() {
            return Err(invalid(PointError::Infinity));
        }
        let point = G2Affine::new_unchecked(x, y);
        if !point.is_on_curve() {
            return Err(invalid(PointError::NotOnCurve));
        }
        if !point.is_in_correct_subgroup_assuming_on_curve() {
            return Err(invalid(PointError::NotInSubgroup));
        }
        Ok(Self { point })
    }

    /// The 128-byte `X[0] ‖ X[1] ‖ Y[0] ‖ Y[1]` encoding.
    pub fn to_bytes(&self) -> [u8; G2_PUBLIC_KEY_LEN] {
        encode_g2(&self.point)
    }
}

impl fmt::Display for G2PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.to_bytes()))
    }
}

impl fmt::Debug for G2PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bn254::G2PublicKey({self})")
    }
}

/// Both public keys of one BN254 secret key, as AVS registration needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKeys {
    /// `sk · G1gen`: the key in the registries and in [`crate::KeyId`].
    pub g1: PublicKey,
    /// `sk · G2gen`: the key signatures verify against.
    pub g2: G2PublicKey,
}

impl PublicKeys {
    /// Pairs a G1 and a G2 key after checking they share one secret key, as eigensdk-go's
    /// `CheckG1AndG2DiscreteLogEquality`: `e(g1, G2gen) == e(G1gen, g2)`.
    pub fn new(g1: PublicKey, g2: G2PublicKey) -> Result<Self, Bn254Error> {
        let keys = Self { g1, g2 };
        if keys.are_consistent() {
            Ok(keys)
        } else {
            Err(Bn254Error::KeyPairMismatch {
                g1: Box::new(g1),
                g2: Box::new(g2),
            })
        }
    }

    fn are_consistent(&self) -> bool {
        pairing_product_is_one(
            [self.g1.point, -G1Affine::generator()],
            [G2Affine::generator(), self.g2.point],
        )
    }
}

/// A BN254 signature: a point of G1 (the point at infinity parses, as an aggregate of nothing,
/// but never verifies against a valid key).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature {
    point: G1Affine,
}

impl Signature {
    /// Parses the 64-byte `X ‖ Y` encoding; 64 zero bytes are the point at infinity.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Bn254Error> {
        const WHAT: &str = "signature";
        let bytes: &[u8; SIGNATURE_LEN] = bytes.try_into().map_err(|_| Bn254Error::Length {
            what: WHAT,
            expected: SIGNATURE_LEN,
            actual: bytes.len(),
        })?;
        let point =
            decode_g1(bytes).map_err(|reason| Bn254Error::InvalidPoint { what: WHAT, reason })?;
        Ok(Self { point })
    }

    /// The 64-byte `X ‖ Y` encoding, as `BLSSignatureChecker` takes `sigma`.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_LEN] {
        encode_g1(&self.point)
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.to_bytes()))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bn254::Signature({self})")
    }
}

/// A BN254 secret key that can sign. Crate-private on purpose (see the module docs); not
/// `Clone`, and its scalar is zeroized on drop.
pub(crate) struct SecretKey {
    scalar: Fr,
}

impl SecretKey {
    /// Takes a big-endian scalar; rejects zero and values not below the group order r.
    ///
    /// eigensdk-go and eigensdk-rs reduce out-of-range bytes mod r instead; no tool writes
    /// such a keystore, so one is more likely corrupt than meant, and is refused.
    pub(crate) fn from_secret(secret: &SecretBytes) -> Result<Self, Bn254Error> {
        let mut limbs = be_limbs(secret.expose());
        let scalar = Fr::from_bigint(BigInt::new(limbs));
        limbs.zeroize();
        match scalar {
            Some(scalar) if !scalar.is_zero() => Ok(Self { scalar }),
            Some(mut zero) => {
                zero.zeroize();
                Err(Bn254Error::InvalidSecretKey)
            }
            None => Err(Bn254Error::InvalidSecretKey),
        }
    }

    /// Both public keys: `sk · G1gen` and `sk · G2gen`.
    pub(crate) fn public_keys(&self) -> PublicKeys {
        // A nonzero scalar below r times a generator is never infinity and stays in the group.
        PublicKeys {
            g1: PublicKey {
                point: (G1Projective::from(G1Affine::generator()) * self.scalar).into_affine(),
            },
            g2: G2PublicKey {
                point: (G2Projective::from(G2Affine::generator()) * self.scalar).into_affine(),
            },
        }
    }

    /// Signs a 32-byte message hash: `sk · hashToG1(message)`.
    pub(crate) fn sign(&self, message: &[u8; MESSAGE_LEN]) -> Signature {
        Signature {
            point: (G1Projective::from(map_to_g1(message)) * self.scalar).into_affine(),
        }
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.scalar.zeroize();
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bn254::SecretKey(<redacted>)")
    }
}

/// The contracts' `BN254.hashToG1(msgHash)` as the 64-byte `X ‖ Y` encoding: what a signature
/// signs, exposed to compare with other implementations.
pub fn hash_to_g1(message: &[u8; MESSAGE_LEN]) -> [u8; 64] {
    encode_g1(&map_to_g1(message))
}

/// Whether `signature` is `public_key`'s signature of `message`:
/// `e(sig, G2gen) == e(hashToG1(message), pkG2)`, as eigensdk-go's `VerifySig`.
pub fn verify(
    public_key: &G2PublicKey,
    message: &[u8; MESSAGE_LEN],
    signature: &Signature,
) -> bool {
    pairing_product_is_one(
        [signature.point, -map_to_g1(message)],
        [G2Affine::generator(), public_key.point],
    )
}

/// Adds signatures together; `None` for an empty list.
pub fn aggregate_signatures(signatures: &[Signature]) -> Option<Signature> {
    if signatures.is_empty() {
        return None;
    }
    let sum: G1Projective = signatures.iter().map(|s| s.point).sum();
    Some(Signature {
        point: sum.into_affine(),
    })
}

/// Adds G1 public keys together (an aggregate public key, `apk`, as the registries keep it);
/// `None` for an empty list or when the sum is the point at infinity.
pub fn aggregate_public_keys(public_keys: &[PublicKey]) -> Option<PublicKey> {
    let sum: G1Projective = public_keys.iter().map(|k| k.point).sum();
    let point = sum.into_affine();
    (!public_keys.is_empty() && !point.is_zero()).then_some(PublicKey { point })
}

/// Adds G2 public keys together (`apkG2`); `None` for an empty list or when the sum is the
/// point at infinity.
pub fn aggregate_g2_public_keys(public_keys: &[G2PublicKey]) -> Option<G2PublicKey> {
    let sum: G2Projective = public_keys.iter().map(|k| k.point).sum();
    let point = sum.into_affine();
    (!public_keys.is_empty() && !point.is_zero()).then_some(G2PublicKey { point })
}

/// Whether `signature` is the aggregate of every key's signature of the same `message`;
/// `false` for an empty key list.
pub fn fast_aggregate_verify(
    public_keys: &[G2PublicKey],
    message: &[u8; MESSAGE_LEN],
    signature: &Signature,
) -> bool {
    aggregate_g2_public_keys(public_keys).is_some_and(|apk| verify(&apk, message, signature))
}

/// `BLSSignatureChecker.trySignatureAndApkVerification`: checks in one pairing that `sigma`
/// signs `message` under `apk_g2` *and* that `apk_g2` has the same secret as the G1 `apk`.
///
/// With `gamma = keccak256(msgHash ‖ apk ‖ apkG2 ‖ sigma) mod r` (ABI words, in the encodings
/// of this module), it accepts iff `e(sigma + gamma·apk, -G2gen) · e(H(m) + gamma·G1gen, apkG2)
/// == 1`.
pub fn verify_aggregate_with_apk(
    apk: &PublicKey,
    apk_g2: &G2PublicKey,
    message: &[u8; MESSAGE_LEN],
    sigma: &Signature,
) -> bool {
    let mut packed = Vec::with_capacity(MESSAGE_LEN + 64 + 128 + 64);
    packed.extend_from_slice(message);
    packed.extend_from_slice(&apk.to_bytes());
    packed.extend_from_slice(&apk_g2.to_bytes());
    packed.extend_from_slice(&sigma.to_bytes());
    let gamma = Fr::from_be_bytes_mod_order(keccak256(&packed).as_slice());
    let left = G1Projective::from(sigma.point) + G1Projective::from(apk.point) * gamma;
    let right =
        G1Projective::from(map_to_g1(message)) + G1Projective::from(G1Affine::generator()) * gamma;
    pairing_product_is_one(
        [left.into_affine(), right.into_affine()],
        [-G2Affine::generator(), apk_g2.point],
    )
}

/// `BN254.hashToG1`: x = message mod p; while x³ + 3 has no square root, x += 1; y is
/// `(x³ + 3)^((p+1)/4)`. Terminates after two tries on average (half of all x qualify).
fn map_to_g1(message: &[u8; MESSAGE_LEN]) -> G1Affine {
    let three = Fq::from(3u64);
    let mut x = Fq::from_be_bytes_mod_order(message);
    loop {
        let beta = x.square() * x + three;
        let y = beta.pow(SQRT_EXPONENT);
        if y.square() == beta {
            // On the curve by construction, and G1's cofactor is 1.
            return G1Affine::new_unchecked(x, y);
        }
        x += Fq::one();
    }
}

/// Whether `∏ e(g1[i], g2[i])` is the identity.
fn pairing_product_is_one(g1: [G1Affine; 2], g2: [G2Affine; 2]) -> bool {
    Bn254::multi_pairing(g1, g2).is_zero()
}

/// The `i`-th 32-byte word of `bytes`.
fn word<const N: usize>(bytes: &[u8; N], i: usize) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&bytes[32 * i..32 * (i + 1)]);
    out
}

/// Little-endian limbs of a big-endian 256-bit integer.
fn be_limbs(bytes: &[u8; 32]) -> [u64; 4] {
    let mut limbs = [0u64; 4];
    for (i, limb) in limbs.iter_mut().enumerate() {
        let start = 32 - 8 * (i + 1);
        let mut chunk = [0u8; 8];
        chunk.copy_from_slice(&bytes[start..start + 8]);
        *limb = u64::from_be_bytes(chunk);
    }
    limbs
}

/// A base-field element from a big-endian word, refusing values not below p.
fn fq(word: &[u8; 32]) -> Result<Fq, PointError> {
    Fq::from_bigint(BigInt::new(be_limbs(word))).ok_or(PointError::NotCanonical)
}

/// The big-endian word of a base-field element.
fn fq_bytes(element: Fq) -> [u8; 32] {
    let mut out = [0u8; 32];
    // A 4-limb integer is always 32 bytes big-endian.
    out.copy_from_slice(&element.into_bigint().to_bytes_be());
    out
}

/// Decodes `X ‖ Y`; (0, 0) is the point at infinity (the precompiles' convention).
fn decode_g1(bytes: &[u8; 64]) -> Result<G1Affine, PointError> {
    let x = fq(&word(bytes, 0))?;
    let y = fq(&word(bytes, 1))?;
    if x.is_zero() && y.is_zero() {
        return Ok(G1Affine::identity());
    }
    let point = G1Affine::new_unchecked(x, y);
    if point.is_on_curve() {
        Ok(point)
    } else {
        Err(PointError::NotOnCurve)
    }
}

/// Encodes `X ‖ Y`; infinity as 64 zero bytes.
fn encode_g1(point: &G1Affine) -> [u8; 64] {
    let mut out = [0u8; 64];
    if let Some((x, y)) = point.xy() {
        out[..32].copy_from_slice(&fq_bytes(x));
        out[32..].copy_from_slice(&fq_bytes(y));
    }
    out
}

/// Encodes `X[0] ‖ X[1] ‖ Y[0] ‖ Y[1]` (imaginary coefficients first); infinity as zeros.
fn encode_g2(point: &G2Affine) -> [u8; 128] {
    let mut out = [0u8; 128];
    if let Some((x, y)) = point.xy() {
        for (i, coefficient) in [x.c1, x.c0, y.c1, y.c0].into_iter().enumerate() {
            out[32 * i..32 * (i + 1)].copy_from_slice(&fq_bytes(coefficient));
        }
    }
    out
}

#[cfg(test)]
mod tests;
