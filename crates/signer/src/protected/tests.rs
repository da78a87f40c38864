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

/// A signer over a fresh store with the keys of `keyring`.
fn start(keyring: Keyring) -> (tempfile::TempDir, ProtectedSigner, Registry) {
    let dir = tempfile::tempdir().unwrap();
    let db =
        ProtectionDb::open(&dir.path().join("restaked.db"), Duration::from_millis(200)).unwrap();
    let registry = Registry::new();
    let signer = ProtectedSigner::start(db, keyring, &registry).unwrap();
    (dir, signer, registry)
}

fn signatures(registry: &Registry, scheme: &str) -> u64 {
    registry
        .gather()
        .iter()
        .filter(|f| f.name() == "restaked_signer_signatures_total")
        .flat_map(|f| f.get_metric().iter())
        .filter(|m| m.get_label().iter().any(|l| l.value() == scheme))
        .map(|m| m.get_counter().get_value() as u64)
        .sum()
}

#[test]
fn bn254_keys_sign_verifiably_and_refuse_a_conflicting_hash() {
    let mut keyring = Keyring::default();
    let id = keyring.add_bn254(&secret(5), "avs key").unwrap();
    assert_eq!(id.scheme, Scheme::Bn254);
    assert_eq!(id.to_string().split(':').next(), Some("bn254"));
    let (_dir, signer, registry) = start(keyring);

    let info = signer.keys().pop().unwrap();
    let keys = info.bn254.unwrap();
    assert_eq!(info.id, id);
    assert_eq!(keys.g1.to_bytes().to_vec(), id.public_key);
    // The listed G2 key is the G1 key's partner, as AVS registration requires.
    assert_eq!(bn254::PublicKeys::new(keys.g1, keys.g2).unwrap(), keys);

    let hash = [0x11; 32];
    let signed = signer
        .sign_blocking(request(&id, "avs/task", b"task-1", None, &hash))
        .unwrap();
    let signature = bn254::Signature::from_bytes(&signed.signature).unwrap();
    assert!(bn254::verify(&keys.g2, &hash, &signature));
    assert!(
        signer
            .sign_blocking(request(&id, "avs/task", b"task-1", None, &hash))
            .unwrap()
            .repeated
    );
    let err = signer
        .sign_blocking(request(&id, "avs/task", b"task-1", None, &[0x22; 32]))
        .unwrap_err();
    assert_eq!(err.reason(), "conflicting_message");
    assert_eq!(signatures(&registry, "bn254"), 2);
}

#[test]
fn ecdsa_keystore_keys_sign_digests_that_recover_to_their_address() {
    let dir = tempfile::tempdir().unwrap();
    alloy_signer_local::PrivateKeySigner::encrypt_keystore(
        dir.path(),
        &mut rand::thread_rng(),
        [9u8; 32],
        "operator password",
        Some("operator.ecdsa.key.json"),
    )
    .unwrap();
    let file = dir.path().join("operator.ecdsa.key.json");
    let mut keyring = Keyring::default();
    let id = keyring
        .load_ecdsa_keystore(&file, "operator password")
        .unwrap();
    assert_eq!(id.scheme, Scheme::Secp256k1);
    assert_eq!(id.public_key.len(), ecdsa::ADDRESS_LEN);
    let (_store, signer, registry) = start(keyring);
    let info = signer.keys().pop().unwrap();
    assert_eq!(info.source, file.display().to_string());
    assert_eq!(info.bn254, None);

    let digest = [0x33; 32];
    let signed = signer
        .sign_blocking(request(&id, "bridge/checkpoint", b"7", Some(7), &digest))
        .unwrap();
    assert_eq!(signed.signature.len(), ecdsa::SIGNATURE_LEN);
    let recovered = alloy_primitives::Signature::from_raw(&signed.signature)
        .unwrap()
        .recover_address_from_prehash(&alloy_primitives::B256::from(digest))
        .unwrap();
    assert_eq!(recovered.as_slice(), id.public_key.as_slice());

    let err = signer
        .sign_blocking(request(
            &id,
            "bridge/checkpoint",
            b"7",
            Some(7),
            &[0x44; 32],
        ))
        .unwrap_err();
    assert_eq!(err.reason(), "conflicting_message");
    let err = signer
        .sign_blocking(request(
            &id,
            "bridge/checkpoint",
            b"6",
            Some(6),
            &[0x44; 32],
        ))
        .unwrap_err();
    assert_eq!(err.reason(), "ordering_not_advanced");
    assert_eq!(signatures(&registry, "secp256k1"), 1);
}

#[test]
fn hash_schemes_refuse_messages_that_are_not_32_bytes_and_record_nothing() {
    let mut keyring = Keyring::default();
    let bn254_key = keyring.add_bn254(&secret(5), "avs").unwrap();
    let ecdsa_key = keyring.add_ecdsa(&secret(6), "eth").unwrap();
    let (_dir, signer, registry) = start(keyring);
    for key in [&bn254_key, &ecdsa_key] {
        for message in [&b""[..], &[1; 31], &[1; 33], b"value=1"] {
            let err = signer
                .sign_blocking(request(key, "d", b"c", None, message))
                .unwrap_err();
            let SignError::InvalidMessage { scheme, reason } = &err else {
                panic!("unexpected {err:?}");
            };
            assert_eq!(*scheme, key.scheme);
            assert!(reason.contains("32-byte hash"), "{reason}");
            assert_eq!(err.reason(), "invalid_message");
        }
        // Nothing was recorded: the conflict key is still free.
        let signed = signer
            .sign_blocking(request(key, "d", b"c", None, &[2; 32]))
            .unwrap();
        assert!(!signed.repeated);
    }
    assert_eq!(refusals(&registry, "invalid_message"), 8);
}

#[test]
fn validator_duties_are_for_bls12_381_keys_only() {
    let mut keyring = Keyring::default();
    let bn254_key = keyring.add_bn254(&secret(5), "avs").unwrap();
    let ecdsa_key = keyring.add_ecdsa(&secret(6), "eth").unwrap();
    let (_dir, signer, _registry) = start(keyring);
    for key in [&bn254_key, &ecdsa_key] {
        let err = signer
            .sign_validator_blocking(key, ValidatorDuty::Block { slot: 1 }, [1; 32])
            .unwrap_err();
        assert_eq!(err.reason(), "invalid_message", "{err}");
    }
}

#[test]
fn one_secret_in_three_schemes_is_three_keys_with_separate_histories() {
    let mut keyring = Keyring::default();
    let ids = [
        keyring.add_bls(&secret(5), None, "bls").unwrap(),
        keyring.add_bn254(&secret(5), "bn254").unwrap(),
        keyring.add_ecdsa(&secret(5), "ecdsa").unwrap(),
    ];
    // Adding again keeps the first source.
    keyring.add_bn254(&secret(5), "again").unwrap();
    keyring.add_ecdsa(&secret(5), "again").unwrap();
    assert_eq!(keyring.len(), 3);
    let (_dir, signer, _registry) = start(keyring);
    assert!(signer.keys().iter().all(|k| k.source != "again"));
    for (id, message) in ids.iter().zip([[1u8; 32], [2; 32], [3; 32]]) {
        signer
            .sign_blocking(request(id, "shared", b"round", None, &message))
            .unwrap();
    }
    let mut names: Vec<&str> = ids.iter().map(|id| id.scheme.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["bls12-381", "bn254", "secp256k1"]);
}

#[test]
fn bn254_keystores_load_and_must_hold_the_key_they_declare() {
    use crate::{keystore::Kdf, web3_keystore::Bn254Keystore};

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("operator.bls.key.json");
    let keystore = Bn254Keystore::encrypt(&secret(5), "pw", Kdf::InsecureFastScrypt).unwrap();
    std::fs::write(&file, keystore.to_json()).unwrap();
    let mut keyring = Keyring::default();
    let id = keyring.load_bn254_keystore(&file, "pw").unwrap();
    assert_eq!(
        Some(id.public_key.as_slice()),
        keystore
            .declared_public_key()
            .map(|k| k.to_bytes().to_vec())
            .as_deref()
    );

    let err = keyring.load_bn254_keystore(&file, "not pw").unwrap_err();
    assert!(
        matches!(
            err,
            KeyringError::Keystore(Web3KeystoreError::WrongPassword { .. })
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&file.display().to_string()),
        "{err}"
    );

    // The pubKey of another key beside this secret's ciphertext.
    let other = Bn254Keystore::encrypt(&secret(6), "pw", Kdf::InsecureFastScrypt).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&keystore.to_json()).unwrap();
    let other_json: serde_json::Value = serde_json::from_str(&other.to_json()).unwrap();
    json["pubKey"] = other_json["pubKey"].clone();
    let forged = dir.path().join("forged.bls.key.json");
    std::fs::write(&forged, json.to_string()).unwrap();
    let mut keyring = Keyring::default();
    let err = keyring.load_bn254_keystore(&forged, "pw").unwrap_err();
    assert!(
        matches!(
            err,
            KeyringError::Keystore(Web3KeystoreError::DeclaredKeyMismatch { .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("forged.bls.key.json"), "{err}");
    assert!(keyring.is_empty());
}

#[test]
fn invalid_secrets_are_refused_per_scheme() {
    let mut keyring = Keyring::default();
    assert!(matches!(
        keyring.add_bn254(&SecretBytes::new([0xff; 32]), "x"),
        Err(KeyringError::InvalidBn254(_))
    ));
    assert!(matches!(
        keyring.add_ecdsa(&SecretBytes::new([0; 32]), "x"),
        Err(KeyringError::InvalidEcdsa(_))
    ));
    assert!(keyring.is_empty());
}

#[test]
fn a_clock_behind_the_recorded_history_refuses_to_sign() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("restaked.db");
    let mut db = ProtectionDb::open(&path, Duration::from_secs(1)).unwrap();
    let tomorrow = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + 86_400;
    let history = crate::protection::history::History {
        format: crate::protection::history::HISTORY_FORMAT.to_owned(),
        version: crate::protection::history::HISTORY_VERSION,
        messages: vec![crate::protection::history::MessageRecord {
            scheme: "bls12-381".to_owned(),
            public_key: format!("0x{}", "ab".repeat(48)),
            domain: "d".to_owned(),
            conflict_key: "0x01".to_owned(),
            ordering: None,
            message_hash: format!("0x{}", "11".repeat(32)),
            signature: format!("0x{}", "22".repeat(96)),
            signed_at: tomorrow,
        }],
        ethereum: None,
    };
    db.import_history(&history, None).unwrap();
    drop(db);
    let f = fixture_at(dir, 1);
    let err = f
        .signer
        .sign_blocking(request(&f.keys[0], "d", b"2", None, b"m"))
        .unwrap_err();
    assert_eq!(err.reason(), "clock_inconsistent", "{err}");
    assert_eq!(refusals(&f.registry, "clock_inconsistent"), 1);
}
