use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Barrier},
    time::Duration,
};

use proptest::prelude::*;
use rusqlite::Connection;

use super::*;
use crate::bls::{PublicKey, Signature};

fn secret(seed: u8) -> SecretBytes {
    // Below the group order r (whose first byte is 0x73) for any seed.
    let mut bytes = [seed; 32];
    bytes[0] = 0x01;
    SecretBytes::new(bytes)
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    signer: ProtectedSigner,
    keys: Vec<KeyId>,
    registry: Registry,
}

fn fixture_at(dir: tempfile::TempDir, key_count: u8) -> Fixture {
    let path = dir.path().join("restaked.db");
    let db = ProtectionDb::open(&path, Duration::from_millis(200)).unwrap();
    let mut keyring = Keyring::default();
    let keys = (1..=key_count)
        .map(|i| {
            keyring
                .add_bls(&secret(i), None, format!("test key {i}"))
                .unwrap()
        })
        .collect();
    let registry = Registry::new();
    let signer = ProtectedSigner::start(db, keyring, &registry).unwrap();
    Fixture {
        _dir: dir,
        path,
        signer,
        keys,
        registry,
    }
}

fn fixture(key_count: u8) -> Fixture {
    fixture_at(tempfile::tempdir().unwrap(), key_count)
}

fn request(
    key: &KeyId,
    domain: &str,
    conflict_key: &[u8],
    ordering: Option<u64>,
    message: &[u8],
) -> SigningRequest {
    SigningRequest {
        key: key.clone(),
        domain: domain.to_owned(),
        conflict_key: conflict_key.to_vec(),
        ordering,
        message: message.to_vec(),
    }
}

fn refusals(registry: &Registry, reason: &str) -> u64 {
    registry
        .gather()
        .iter()
        .filter(|f| f.name() == "restaked_signer_refusals_total")
        .flat_map(|f| f.get_metric().iter())
        .filter(|m| m.get_label().iter().any(|l| l.value() == reason))
        .map(|m| m.get_counter().get_value() as u64)
        .sum()
}

#[test]
fn signs_verifiably_and_repeats_identical_requests() {
    let f = fixture(1);
    let first = f
        .signer
        .sign_blocking(request(
            &f.keys[0],
            "oracle/eth-usd",
            b"round-1",
            None,
            b"value=1",
        ))
        .unwrap();
    assert!(!first.repeated);
    let public_key = PublicKey::from_bytes(&f.keys[0].public_key).unwrap();
    let signature = Signature::from_bytes(&first.signature).unwrap();
    assert!(bls::verify(&public_key, b"value=1", &signature));
    let again = f
        .signer
        .sign_blocking(request(
            &f.keys[0],
            "oracle/eth-usd",
            b"round-1",
            None,
            b"value=1",
        ))
        .unwrap();
    assert!(again.repeated);
    assert_eq!(again.signature, first.signature);
}

#[test]
fn refuses_a_second_message_for_the_same_conflict_key() {
    let f = fixture(1);
    f.signer
        .sign_blocking(request(&f.keys[0], "bridge", b"index-7", None, b"root-a"))
        .unwrap();
    let err = f
        .signer
        .sign_blocking(request(&f.keys[0], "bridge", b"index-7", None, b"root-b"))
        .unwrap_err();
    let SignError::Refused(Refusal::ConflictingMessage {
        recorded_hash,
        requested_hash,
        ..
    }) = &err
    else {
        panic!("unexpected {err:?}");
    };
    assert_eq!(recorded_hash, &<[u8; 32]>::from(Sha256::digest(b"root-a")));
    assert_eq!(requested_hash, &<[u8; 32]>::from(Sha256::digest(b"root-b")));
    assert_eq!(refusals(&f.registry, "conflicting_message"), 1);
    // Other domains and conflict keys are independent.
    f.signer
        .sign_blocking(request(&f.keys[0], "bridge", b"index-8", None, b"root-b"))
        .unwrap();
    f.signer
        .sign_blocking(request(&f.keys[0], "other", b"index-7", None, b"root-b"))
        .unwrap();
}

#[test]
fn ordered_domains_must_advance_and_not_mix() {
    let f = fixture(1);
    let k = &f.keys[0];
    f.signer
        .sign_blocking(request(k, "oracle", b"r5", Some(5), b"a"))
        .unwrap();
    for (ordering, reason) in [(5, "ordering_not_advanced"), (4, "ordering_not_advanced")] {
        let err = f
            .signer
            .sign_blocking(request(
                k,
                "oracle",
                format!("r{ordering}x").as_bytes(),
                Some(ordering),
                b"b",
            ))
            .unwrap_err();
        assert_eq!(err.reason(), reason, "{err}");
    }
    let err = f
        .signer
        .sign_blocking(request(k, "oracle", b"plain", None, b"b"))
        .unwrap_err();
    assert_eq!(err.reason(), "ordering_mismatch");
    f.signer
        .sign_blocking(request(k, "oracle", b"r6", Some(6), b"c"))
        .unwrap();
    // An identical re-request of an old round is still answered with its recorded signature.
    assert!(
        f.signer
            .sign_blocking(request(k, "oracle", b"r5", Some(5), b"a"))
            .unwrap()
            .repeated
    );
}

#[test]
fn a_restricted_view_signs_only_with_its_keys() {
    let f = fixture(2);
    let view = f.signer.restricted([f.keys[0].clone()]);
    assert_eq!(view.keys().len(), 1);
    view.sign_blocking(request(&f.keys[0], "d", b"c", None, b"m"))
        .unwrap();
    let err = view
        .sign_blocking(request(&f.keys[1], "d", b"c", None, b"m"))
        .unwrap_err();
    assert!(matches!(err, SignError::KeyNotAllowed(_)), "{err}");
    let unknown = KeyId {
        scheme: Scheme::Bls12381,
        public_key: vec![0; 48],
    };
    assert!(matches!(
        f.signer
            .sign_blocking(request(&unknown, "d", b"c", None, b"m")),
        Err(SignError::UnknownKey(_))
    ));
}

#[test]
fn history_survives_a_restart() {
    let f = fixture(1);
    let key = f.keys[0].clone();
    f.signer
        .sign_blocking(request(&key, "bridge", b"1", Some(1), b"root-a"))
        .unwrap();
    let Fixture {
        _dir: dir, signer, ..
    } = f;
    drop(signer);
    let f = fixture_at(dir, 1);
    let err = f
        .signer
        .sign_blocking(request(&key, "bridge", b"1", Some(1), b"root-b"))
        .unwrap_err();
    assert_eq!(err.reason(), "conflicting_message");
    let err = f
        .signer
        .sign_blocking(request(&key, "bridge", b"0", Some(0), b"root-c"))
        .unwrap_err();
    assert_eq!(err.reason(), "ordering_not_advanced");
}

#[test]
fn a_locked_store_fails_closed_and_recovers() {
    let f = fixture(1);
    let mut health = f.signer.health();
    let blocker = Connection::open(&f.path).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let err = f
        .signer
        .sign_blocking(request(&f.keys[0], "d", b"1", None, b"m"))
        .unwrap_err();
    assert!(matches!(err, SignError::Store(_)), "{err}");
    assert_eq!(err.reason(), "store_unavailable");
    assert!(!health.borrow_and_update().healthy);
    assert_eq!(refusals(&f.registry, "store_unavailable"), 1);
    blocker.execute_batch("COMMIT").unwrap();
    // Nothing was recorded while locked, so the same request now succeeds as new.
    let signed = f
        .signer
        .sign_blocking(request(&f.keys[0], "d", b"1", None, b"m"))
        .unwrap();
    assert!(!signed.repeated);
    assert!(health.borrow_and_update().healthy);
}

#[test]
fn a_closed_signer_refuses() {
    let f = fixture(1);
    f.signer.close();
    assert!(matches!(
        f.signer
            .sign_blocking(request(&f.keys[0], "d", b"1", None, b"m")),
        Err(SignError::ShuttingDown)
    ));
}

#[test]
fn racing_conflicting_requests_yield_exactly_one_signature() {
    const THREADS: usize = 8;
    let f = fixture(1);
    for round in 0..40u32 {
        let barrier = Arc::new(Barrier::new(THREADS));
        let results: Vec<(usize, Result<SignedMessage, SignError>)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|t| {
                    let barrier = barrier.clone();
                    let signer = f.signer.clone();
                    let key = f.keys[0].clone();
                    s.spawn(move || {
                        barrier.wait();
                        let message = format!("round {round} from thread {t}");
                        (
                            t,
                            signer.sign_blocking(request(
                                &key,
                                "race",
                                &round.to_be_bytes(),
                                None,
                                message.as_bytes(),
                            )),
                        )
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<_> = results.iter().filter(|(_, r)| r.is_ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        for (_, result) in &results {
            if let Err(e) = result {
                assert_eq!(e.reason(), "conflicting_message", "round {round}: {e}");
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Op {
    key: usize,
    domain: u8,
    conflict: u8,
    message: u8,
    restart: bool,
}

fn op() -> impl Strategy<Value = Op> {
    (
        0..2usize,
        0..2u8,
        0..3u8,
        0..3u8,
        prop::bool::weighted(0.05),
    )
        .prop_map(|(key, domain, conflict, message, restart)| Op {
            key,
            domain,
            conflict,
            message,
            restart,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// For any sequence of requests, with restarts in between, no two different messages are
    /// ever signed for one (key, domain, conflict key), and the first message always is.
    #[test]
    fn never_signs_two_messages_for_one_conflict_key(ops in prop::collection::vec(op(), 1..60)) {
        let mut f = fixture(2);
        let mut first_signed: HashMap<(usize, u8, u8), u8> = HashMap::new();
        let mut released: BTreeMap<(usize, u8, u8), Vec<u8>> = BTreeMap::new();
        for op in ops {
            if op.restart {
                let Fixture { _dir: dir, signer, .. } = f;
                drop(signer);
                f = fixture_at(dir, 2);
            }
            let slot = (op.key, op.domain, op.conflict);
            let result = f.signer.sign_blocking(request(
                &f.keys[op.key],
                &format!("domain-{}", op.domain),
                &[op.conflict],
                None,
                &[op.message],
            ));
            match first_signed.get(&slot) {
                None => {
                    let signed = result.unwrap();
                    first_signed.insert(slot, op.message);
                    released.insert(slot, signed.signature);
                }
                Some(&message) if message == op.message => {
                    let signed = result.unwrap();
                    prop_assert!(signed.repeated);
                    prop_assert_eq!(&signed.signature, &released[&slot]);
                }
                Some(_) => prop_assert_eq!(result.unwrap_err().reason(), "conflicting_message"),
            }
        }
    }
}

#[test]
fn validator_duties_follow_ethereum_rules() {
    let f = fixture(1);
    let k = &f.keys[0];
    let block = |slot| ValidatorDuty::Block { slot };
    let att = |source_epoch, target_epoch| ValidatorDuty::Attestation {
        source_epoch,
        target_epoch,
    };
    let first = f
        .signer
        .sign_validator_blocking(k, block(10), [1; 32])
        .unwrap();
    let public_key = PublicKey::from_bytes(&k.public_key).unwrap();
    assert!(bls::verify(
        &public_key,
        &[1; 32],
        &Signature::from_bytes(&first.signature).unwrap()
    ));
    assert_eq!(
        f.signer
            .sign_validator_blocking(k, block(10), [1; 32])
            .unwrap()
            .signature,
        first.signature
    );
    assert_eq!(
        f.signer
            .sign_validator_blocking(k, block(10), [2; 32])
            .unwrap_err()
            .reason(),
        "double_proposal"
    );
    assert_eq!(
        f.signer
            .sign_validator_blocking(k, block(9), [3; 32])
            .unwrap_err()
            .reason(),
        "proposal_not_after_latest"
    );
    f.signer
        .sign_validator_blocking(k, att(2, 5), [4; 32])
        .unwrap();
    assert_eq!(
        f.signer
            .sign_validator_blocking(k, att(2, 5), [5; 32])
            .unwrap_err()
            .reason(),
        "double_vote"
    );
    assert_eq!(
        f.signer
            .sign_validator_blocking(k, att(1, 6), [6; 32])
            .unwrap_err()
            .reason(),
        "surrounds_existing"
    );
    assert_eq!(
        f.signer
            .sign_validator_blocking(k, att(3, 4), [7; 32])
            .unwrap_err()
            .reason(),
        "surrounded_by_existing"
    );
    assert_eq!(
        f.signer
            .sign_validator_blocking(k, att(6, 5), [8; 32])
            .unwrap_err()
            .reason(),
        "source_after_target"
    );
    f.signer
        .sign_validator_blocking(k, att(5, 6), [9; 32])
        .unwrap();
}

#[test]
fn keys_added_at_run_time_sign_and_keep_their_history() {
    let f = fixture(1);
    let mut keyring = Keyring::default();
    let new = keyring.add_bls(&secret(9), None, "imported").unwrap();
    keyring
        .add_bls(&secret(1), None, "a duplicate of a loaded key")
        .unwrap();
    assert!(matches!(
        f.signer.sign_blocking(request(&new, "d", b"1", None, b"m")),
        Err(SignError::UnknownKey(_))
    ));
    assert_eq!(f.signer.add_keys(keyring), vec![new.clone()]);
    assert_eq!(f.signer.keys().len(), 2);
    f.signer
        .sign_blocking(request(&new, "d", b"1", None, b"m"))
        .unwrap();
    assert_eq!(
        f.signer
            .sign_blocking(request(&new, "d", b"1", None, b"other"))
            .unwrap_err()
            .reason(),
        "conflicting_message"
    );
}
