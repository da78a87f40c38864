//! Tests of the BN254 scheme against EigenLayer's published values.
//!
//! Vector sources:
//! - eigensdk-rs `crates/crypto/bls/src/lib.rs` as published in the crate eigen-crypto-bls 2.0.0
//!   (eigensdk-rs commit f066fa91): `test_bls_key_pair`, `test_map_to_curve`,
//!   `test_sign_message` and `test_bls_signature` (whose comment says the values come from
//!   eigensdk-go);
//! - eigenlayer-middleware `src/libraries/BN254.sol` (commit 029cb827): the G2 generator and
//!   `findYFromX`'s exponent;
//! - `CROSS_CHECK`: produced once with eigen-crypto-bls 2.0.0 (`BlsKeyPair::sign_message`,
//!   `public_key_g2`, `convert_to_g2_point`, `eigen_crypto_bn254::utils::verify_message`) for
//!   three secrets and three messages, including one above the field modulus, and an
//!   aggregate. The other direction was checked the same way: eigen-crypto-bls verified 22
//!   signatures made here (20 random keys and messages, aggregates of 2 and 5 signers) and
//!   derived the same G1 and G2 keys. It is not a dev-dependency: it builds alloy's full
//!   feature set with the AWS SDK (about 360 crates, over 7 minutes on this machine), and its
//!   licence is BUSL-1.1 (MIT from its change date, 2026-03-31).

use alloy_primitives::U256;
use ark_ff::{BigInteger, PrimeField};
use proptest::prelude::*;

use super::*;

/// A 32-byte big-endian word from a decimal string.
fn decimal(text: &str) -> [u8; 32] {
    U256::from_str_radix(text, 10).unwrap().to_be_bytes::<32>()
}

/// `X ‖ Y` from two decimal coordinates.
fn g1_decimal(x: &str, y: &str) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&decimal(x));
    out[32..].copy_from_slice(&decimal(y));
    out
}

fn secret_key(decimal_scalar: &str) -> SecretKey {
    SecretKey::from_secret(&SecretBytes::new(decimal(decimal_scalar))).unwrap()
}

fn hex32(text: &str) -> [u8; 32] {
    hex::decode(text).unwrap().try_into().unwrap()
}

/// eigensdk's test key.
const EIGENSDK_SECRET: &str =
    "12248929636257230549931416853095037629726205319386239410403476017439825112537";

/// The message of eigensdk's tests: bytes 1, 2, ..., 32.
fn counting_message() -> [u8; 32] {
    std::array::from_fn(|i| i as u8 + 1)
}

#[test]
fn sqrt_exponent_is_p_plus_one_over_four() {
    let mut expected = Fq::MODULUS;
    expected.add_with_carry(&BigInt::from(1u64));
    expected.div2();
    expected.div2();
    assert_eq!(BigInt::new(SQRT_EXPONENT), expected);
    assert_eq!(
        hex::encode(BigInt::new(SQRT_EXPONENT).to_bytes_be()),
        "0c19139cb84c680a6e14116da060561765e05aa45a1c72a34f082305b61f3f52"
    );
}

#[test]
fn generators_encode_as_the_contracts_write_them() {
    assert_eq!(encode_g1(&G1Affine::generator()), {
        let mut g = [0u8; 64];
        g[31] = 1;
        g[63] = 2;
        g
    });
    // BN254.generatorG2() = G2Point([G2x1, G2x0], [G2y1, G2y0]).
    let words = [
        "11559732032986387107991004021392285783925812861821192530917403151452391805634",
        "10857046999023057135944570762232829481370756359578518086990519993285655852781",
        "4082367875863433681332203403145435568316851327593401208105741076214120093531",
        "8495653923123431417604973247489272438418190587263600148770280649306958101930",
    ];
    let expected: Vec<u8> = words.iter().flat_map(|w| decimal(w)).collect();
    assert_eq!(encode_g2(&G2Affine::generator()).to_vec(), expected);
    let parsed = G2PublicKey::from_bytes(&expected).unwrap();
    assert_eq!(parsed.point, G2Affine::generator());
}

#[test]
fn public_key_matches_eigensdk() {
    let keys = secret_key(EIGENSDK_SECRET).public_keys();
    assert_eq!(
        keys.g1.to_bytes(),
        g1_decimal(
            "277950648056014144722774518899051149098728246263316284984520891067822832300",
            "16927236637669640540790285431111034664564710839671197540688155537113438534238",
        )
    );
}

#[test]
fn hash_to_g1_matches_eigensdk() {
    assert_eq!(
        hash_to_g1(&counting_message()),
        g1_decimal(
            "455867356320691211509944977504407603390036387149619137164185182714736811811",
            "9802125641729881429496664198939823213610051907104384160271670136040620850981",
        )
    );
}

#[test]
fn signatures_match_eigensdk_rs_and_go() {
    let key = secret_key(EIGENSDK_SECRET);
    assert_eq!(
        key.sign(&counting_message()).to_bytes(),
        g1_decimal(
            "6125087140203962697351933212367898471377426213402772883153680722977416765651",
            "19120302240465611628345095276448175199636936878728446037184749040811421969742",
        )
    );
    // "assert x and y with the values obtained in Go SDK".
    assert_eq!(
        key.sign(b"Hello, world!Hello, world!123456").to_bytes(),
        g1_decimal(
            "15790168376429033610067099039091292283117017641532256477437243974517959682102",
            "4960450323239587206117776989095741074887370703941588742100855592356200866613",
        )
    );
}

/// One secret's outputs from eigen-crypto-bls 2.0.0: G1 key, G2 key (contract order), and
/// signatures of [`cross_check_messages`].
struct CrossCheck {
    secret: &'static str,
    g1: &'static str,
    g2: &'static str,
    signatures: [&'static str; 3],
}

/// The counting message, keccak256("restaked bn254 cross-check"), and 32 bytes of 0xff (above
/// the field modulus, so hashToG1 reduces it first).
fn cross_check_messages() -> [[u8; 32]; 3] {
    [
        counting_message(),
        hex32("442678ff82ba15ddc90210868a9199a3b35e46b48893a4bd4ca256b7e32175c9"),
        [0xff; 32],
    ]
}

const CROSS_CHECK: [CrossCheck; 3] = [
    CrossCheck {
        secret: EIGENSDK_SECRET,
        g1: "009d50828897fe208275d989abddcad762bf1bb1a089d5ad40ca5dc78e20faac256c79f6817fd79f3a4898e41b5212ccae66d5e9441c9c76f239a2966f24ba5e",
        g2: "225554388e71f9eb5b46bd3813aabe8f3e2de4b965ff3727ada663f39b01f6e70f1c11ddf2169ba7b050f0cdc44223363a8912f0f3a9362d1d7ce0aa78fe864a2bb844ee415b8941017bd0f88d1f4e98a33ffaf917fdce5430ba36dbc5dfc1fe10d6ada6d8aa5fa3a4309df678bf6f370301f78e514b842ae50fea2afc54585c",
        signatures: [
            "0d8aad2cf07d26e033a5748f847cef35f918e1a6cdbb0f98dc5957a7fc0360d32a45b522bbbe7bd8cd29c07d34807d3fba7aeec7065ffaba96dd5dc97a13ad4e",
            "105e8f7c684d441c610d4b61d116c4ce8ceab8857d6dffc23f43c2c241b0f4c50e38e655bc98908aab6ad45605dd4c371d423c862635710a73de8ce69a607e20",
            "267e02c38bdc807a4a7f8f5976970e33a73be6e9e6410071ebc61a172b826ecb12c4a1c0092fdc2d5995a1ebe7c9a8d189fc82e505fa119dcbbd7948d4fc7849",
        ],
    },
    CrossCheck {
        secret: "2695733600625131346122864983303466385927445828993184612262398097053003827945",
        g1: "2debd57ab2ea6a7fcda2ffedfef120c57913ea95c70968430fbd0d1e82a21f2f20dae1cf7f01077f9d1b0331717ff269a410c642777c4aff8a0e01952cc9caef",
        g2: "1a90ca906966af1bbefc5690767b007d21fca6225575182d3fd9afc3b8f910582d3feb4c93c934b90a25de6dde82d78275ef4aa6569a2142a87313554daab1e22a924cc7f26bc49d712a22a4e27e78039bc3f5cdc9795c4c64fb6e16220a9f1929020393981954df49a8a13749b33c2ec67fe1346b1a126a10ed1b1f0b82922e",
        signatures: [
            "1b2b50e45f62ed12b7b8ce87848916a40001afec1693bc1b6fc24d9bb716c2952a2226b30f7f5f895fb29c5a73ab0a786fabf7d4f518815a2e6545df185c7020",
            "29fe05ba0714ca72ef9745b4e05c9d1cba9af758d8c937564049eee5ae9887652f108a8630180b056166f0653aa6d86b21a5973532d6f7cf3601cb1f09ef239b",
            "0b7b1dd6eaafe1d01b5d3fed78567136cd29689aab46adc2deb868e4448cfb252e3dc200a433cea2534fe81c60fcf50c95521e2be9fd0aee42f927daa3157c41",
        ],
    },
    CrossCheck {
        secret: "1545406213561796957802883602781483305661775327601706000973371046245037128217",
        g1: "08bf5172b5f40f0f30ef09a96e22774f2e88db3b5f2472b5a340a1de6961fe0111bbfcb40f47beec90a8314a046e140619381ce6a7e0a7602d4df225cfdb40f2",
        g2: "2f34112812fd11f34bedeebadf1aa3414aa23558890d7ac47430e435cdf9eda90403c2ca27565beabf831840c5d7c8437dacb6302b9d0c752566f5268c2c677507e6be1fcbfce5670d36d294d6286809e46a19546d5f5f97b101fa1292e6441c252199be36947ec391f835d7334971e50f736fe1e614091e4c073fb0ad1ef8b9",
        signatures: [
            "08ea7edc09793a949f7b64cf520a7e796bef3c3df89ecb15895372a73755b02f1419a4c35b7a6d7e579c6b743061e39b298a5fff2d55a390094c85faabd41711",
            "2e6889c9d481bffb4d4c27b8cf39afb1275d39720ff4b341497657b146e8694a21f67c382b4c7b2d2dc5353527fb236c4bfcefdbc92b2223d2406de6b12b364f",
            "111664d14aa722d65c8ea4f05a3f99c7418a579d4b5d8643f13d115e789ee0bb11884028453e0c6c9db6d99a0f5844775814e655f78027e13170ee316aef0c73",
        ],
    },
];

/// eigen-crypto-bls's aggregate of the three signatures of the second message, and the sums
/// of the three G1 and G2 keys.
const CROSS_CHECK_AGGREGATE: &str = "29dca89c901a1fd4188a2c73d62f902e7e45a5f5e15187ce923a424cc6bffa1110d1ad65ce9729f5919c6dd9f7e54bae9a6f82494a4147271cc1c128e0f3e3d6";
const CROSS_CHECK_APK: &str = "10258045b8add6c9ba22580f9562252003aa19222404a5dc0094224a26cbb47f1c55cd5d675179494d32b8563a7d2ff22aac95cced3c4c0a1c7330d64e01008d";
const CROSS_CHECK_APK_G2: &str = "1ed9da33be8c876e36a101f0ee44230d70e0ae1d123a8beb6ec72ad0ee4fcd9a15d939f14a8ab4e17ea7ccc83e805819d851f69db33c23e2906f03416ff8decb26a201a78b974cc89e19f09b599e9186b824ca8d82274bae99a9ec856f219cd5270ab2f418e6785ced1c65aebaed7faca610096505d10f4b142b613ce61fb00a";

#[test]
fn keys_and_signatures_match_eigen_crypto_bls_and_verify_both_ways() {
    for case in &CROSS_CHECK {
        let key = secret_key(case.secret);
        let keys = key.public_keys();
        assert_eq!(hex::encode(keys.g1.to_bytes()), case.g1, "{}", case.secret);
        assert_eq!(hex::encode(keys.g2.to_bytes()), case.g2, "{}", case.secret);
        let g2 = G2PublicKey::from_bytes(&hex::decode(case.g2).unwrap()).unwrap();
        assert!(PublicKeys::new(keys.g1, g2).is_ok());
        for (message, expected) in cross_check_messages().iter().zip(case.signatures) {
            // Ours equals theirs byte for byte, and theirs verifies under our verifier.
            assert_eq!(hex::encode(key.sign(message).to_bytes()), expected);
            let theirs = Signature::from_bytes(&hex::decode(expected).unwrap()).unwrap();
            assert!(verify(&g2, message, &theirs));
        }
    }
}

#[test]
fn aggregates_match_eigen_crypto_bls_and_verify_as_the_contract_does() {
    let message = cross_check_messages()[1];
    let keys: Vec<PublicKeys> = CROSS_CHECK
        .iter()
        .map(|c| secret_key(c.secret).public_keys())
        .collect();
    let signatures: Vec<Signature> = CROSS_CHECK
        .iter()
        .map(|c| secret_key(c.secret).sign(&message))
        .collect();
    let aggregate = aggregate_signatures(&signatures).unwrap();
    let g1s: Vec<PublicKey> = keys.iter().map(|k| k.g1).collect();
    let g2s: Vec<G2PublicKey> = keys.iter().map(|k| k.g2).collect();
    let apk = aggregate_public_keys(&g1s).unwrap();
    let apk_g2 = aggregate_g2_public_keys(&g2s).unwrap();
    assert_eq!(hex::encode(aggregate.to_bytes()), CROSS_CHECK_AGGREGATE);
    assert_eq!(hex::encode(apk.to_bytes()), CROSS_CHECK_APK);
    assert_eq!(hex::encode(apk_g2.to_bytes()), CROSS_CHECK_APK_G2);

    assert!(fast_aggregate_verify(&g2s, &message, &aggregate));
    assert!(verify(&apk_g2, &message, &aggregate));
    assert!(verify_aggregate_with_apk(
        &apk, &apk_g2, &message, &aggregate
    ));

    // A signer missing from the signature, or from the G1 apk, fails.
    let partial = aggregate_signatures(&signatures[..2]).unwrap();
    assert!(!fast_aggregate_verify(&g2s, &message, &partial));
    assert!(!verify_aggregate_with_apk(
        &apk, &apk_g2, &message, &partial
    ));
    let short_apk = aggregate_public_keys(&g1s[..2]).unwrap();
    assert!(!verify_aggregate_with_apk(
        &short_apk, &apk_g2, &message, &aggregate
    ));
    let mut other = message;
    other[0] ^= 1;
    assert!(!verify_aggregate_with_apk(
        &apk, &apk_g2, &other, &aggregate
    ));
}

#[test]
fn adjacent_inputs_can_map_to_one_point_which_is_why_only_hashes_are_signed() {
    // Try-and-increment maps x and x + 1 to the same point whenever x is not on the curve, so
    // a signature of one is a signature of the other. Harmless for keccak256 outputs (finding
    // such a pair means breaking keccak), fatal for structured messages: hence `bytes32`.
    let message = cross_check_messages()[1];
    let mut previous = message;
    previous[31] -= 1;
    assert_eq!(hash_to_g1(&previous), hash_to_g1(&message));
    let key = secret_key(EIGENSDK_SECRET);
    assert!(verify(
        &key.public_keys().g2,
        &previous,
        &key.sign(&message)
    ));
}

#[test]
fn aggregation_of_nothing_is_none_and_verifies_nothing() {
    assert_eq!(aggregate_signatures(&[]), None);
    assert_eq!(aggregate_public_keys(&[]), None);
    assert_eq!(aggregate_g2_public_keys(&[]), None);
    let signature = secret_key(EIGENSDK_SECRET).sign(&[7; 32]);
    assert!(!fast_aggregate_verify(&[], &[7; 32], &signature));
    // A key plus its negation sums to infinity, which is no key.
    let g1 = secret_key(EIGENSDK_SECRET).public_keys().g1;
    let negated = PublicKey { point: -g1.point };
    assert_eq!(aggregate_public_keys(&[g1, negated]), None);
}

#[test]
fn verification_rejects_wrong_message_key_and_infinity() {
    let key = secret_key(EIGENSDK_SECRET);
    let other = secret_key(CROSS_CHECK[1].secret);
    let message = [9u8; 32];
    let signature = key.sign(&message);
    assert!(verify(&key.public_keys().g2, &message, &signature));
    assert!(!verify(&other.public_keys().g2, &message, &signature));
    assert!(!verify(&key.public_keys().g2, &[8; 32], &signature));
    let infinity = Signature::from_bytes(&[0; 64]).unwrap();
    assert_eq!(infinity.to_bytes(), [0; 64]);
    assert!(!verify(&key.public_keys().g2, &message, &infinity));
}

#[test]
fn public_keys_of_different_secrets_do_not_pair() {
    let a = secret_key(CROSS_CHECK[0].secret).public_keys();
    let b = secret_key(CROSS_CHECK[1].secret).public_keys();
    let error = PublicKeys::new(a.g1, b.g2).unwrap_err();
    assert!(matches!(error, Bn254Error::KeyPairMismatch { .. }));
    assert!(error.to_string().contains(&a.g1.to_string()), "{error}");
    assert_eq!(PublicKeys::new(a.g1, a.g2).unwrap(), a);
}

#[test]
fn secret_keys_must_be_nonzero_and_below_r() {
    let r = Fr::MODULUS.to_bytes_be();
    let mut r_minus_one = r.clone();
    r_minus_one[31] -= 1;
    for (bytes, ok) in [
        (vec![0u8; 32], false),
        (r, false),
        (vec![0xff; 32], false),
        (r_minus_one, true),
    ] {
        let secret = SecretBytes::from_slice(&bytes).unwrap();
        assert_eq!(
            SecretKey::from_secret(&secret).is_ok(),
            ok,
            "{}",
            hex::encode(&bytes)
        );
    }
    assert_eq!(
        SecretKey::from_secret(&SecretBytes::new([0; 32])).unwrap_err(),
        Bn254Error::InvalidSecretKey
    );
}

#[test]
fn secret_key_debug_is_redacted() {
    let printed = format!("{:?}", secret_key(EIGENSDK_SECRET));
    assert_eq!(printed, "bn254::SecretKey(<redacted>)");
}

#[test]
fn g1_parsing_names_length_and_reason() {
    assert_eq!(
        PublicKey::from_bytes(&[1; 63]).unwrap_err(),
        Bn254Error::Length {
            what: "G1 public key",
            expected: 64,
            actual: 63
        }
    );
    let invalid = |bytes: &[u8]| match PublicKey::from_bytes(bytes) {
        Err(Bn254Error::InvalidPoint { reason, .. }) => reason,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(invalid(&[0; 64]), PointError::Infinity);
    let mut off_curve = [0u8; 64];
    off_curve[31] = 1;
    off_curve[63] = 3;
    assert_eq!(invalid(&off_curve), PointError::NotOnCurve);
    // The generator with p added to Y: the same point mod p, but not canonical.
    let mut not_canonical = [0u8; 64];
    not_canonical[31] = 1;
    let p_plus_two = U256::from_be_slice(&Fq::MODULUS.to_bytes_be()) + U256::from(2);
    not_canonical[32..].copy_from_slice(&p_plus_two.to_be_bytes::<32>());
    assert_eq!(invalid(&not_canonical), PointError::NotCanonical);
    assert!(
        Signature::from_bytes(&off_curve)
            .unwrap_err()
            .to_string()
            .contains("signature")
    );
}

#[test]
fn g2_parsing_rejects_points_outside_the_subgroup() {
    // Points on the twist are almost never in the order-r subgroup (the cofactor is ~2^254):
    // walk x until x³ + b' has a square root, and that point is a counterexample.
    let b = <ark_bn254::g2::Config as ark_ec::short_weierstrass::SWCurveConfig>::COEFF_B;
    let mut x = Fq2::new(Fq::from(1u64), Fq::from(1u64));
    let point = loop {
        if let Some(y) = (x.square() * x + b).sqrt() {
            let point = G2Affine::new_unchecked(x, y);
            if !point.is_in_correct_subgroup_assuming_on_curve() {
                break point;
            }
        }
        x += Fq2::one();
    };
    let error = G2PublicKey::from_bytes(&encode_g2(&point)).unwrap_err();
    assert_eq!(
        error,
        Bn254Error::InvalidPoint {
            what: "G2 public key",
            reason: PointError::NotInSubgroup
        }
    );
    let mut off_curve = encode_g2(&G2Affine::generator());
    off_curve[127] ^= 1;
    assert!(matches!(
        G2PublicKey::from_bytes(&off_curve),
        Err(Bn254Error::InvalidPoint {
            reason: PointError::NotOnCurve,
            ..
        })
    ));
    assert!(matches!(
        G2PublicKey::from_bytes(&[0; 128]),
        Err(Bn254Error::InvalidPoint {
            reason: PointError::Infinity,
            ..
        })
    ));
    assert!(matches!(
        G2PublicKey::from_bytes(&[0; 64]),
        Err(Bn254Error::Length { actual: 64, .. })
    ));
}

#[test]
fn encodings_round_trip_and_display_as_hex() {
    let keys = secret_key(EIGENSDK_SECRET).public_keys();
    assert_eq!(PublicKey::from_bytes(&keys.g1.to_bytes()).unwrap(), keys.g1);
    assert_eq!(
        G2PublicKey::from_bytes(&keys.g2.to_bytes()).unwrap(),
        keys.g2
    );
    assert_eq!(
        keys.g1.to_string(),
        format!("0x{}", hex::encode(keys.g1.to_bytes()))
    );
    assert!(format!("{:?}", keys.g2).starts_with("bn254::G2PublicKey(0x"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn sign_then_verify_round_trips(seed in any::<[u8; 32]>(), message in any::<[u8; 32]>()) {
        let mut bytes = seed;
        // Below r (whose top byte is 0x30) and nonzero.
        bytes[0] &= 0x1f;
        bytes[31] |= 1;
        let key = SecretKey::from_secret(&SecretBytes::new(bytes)).unwrap();
        let keys = key.public_keys();
        let signature = key.sign(&message);
        prop_assert!(verify(&keys.g2, &message, &signature));
        let parsed = Signature::from_bytes(&signature.to_bytes()).unwrap();
        prop_assert_eq!(parsed, signature);
        prop_assert!(verify_aggregate_with_apk(&keys.g1, &keys.g2, &message, &signature));
    }

    #[test]
    fn g1_parsing_never_panics(bytes in any::<[u8; 64]>()) {
        if let Ok(key) = PublicKey::from_bytes(&bytes) {
            prop_assert_eq!(key.to_bytes(), bytes);
        }
    }
}
