//! `ProtectedSigner`: the only way to a signature.
//!
//! Every request is signed in memory, then checked against and recorded in the protection store
//! by a single writer thread, and only released after the record is committed with
//! `synchronous=FULL`. Requests that arrive while a commit is under way are checked and recorded
//! together in the next transaction (group commit), so durability costs one fsync per batch,
//! not per signature. Within a batch, requests are checked in arrival order against the history
//! *and* each other: of two racing requests for one conflict key, exactly one is recorded.
//!
//! Anything that makes the store unable to answer (locked past its deadline, disk full, corrupt,
//! the writer gone) refuses the request and marks the signer unhealthy: fail closed.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    path::Path,
    sync::{
        Arc, RwLock,
        atomic::{AtomicBool, AtomicUsize, Ordering},
        mpsc,
    },
    thread,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use prometheus::{Histogram, HistogramOpts, IntCounterVec, Opts, Registry};
use sha2::{Digest, Sha256};
use tokio::sync::{oneshot, watch};

use crate::{
    SecretBytes,
    bls::{self, BlsError},
    bn254::{self, Bn254Error},
    ecdsa::{self, EcdsaError},
    protection::{
        Outcome, ProtectionDb, ProtectionError, Refusal, eth,
        generic::{self, GenericRecord},
    },
    web3_keystore::{Bn254Keystore, Web3KeystoreError},
};

/// How far the clock may read behind the latest recorded signature before the signer refuses:
/// enough for ordinary NTP slews and second-granularity records, not for a clock set back.
const CLOCK_TOLERANCE_SECS: i64 = 60;

/// Longest a batch waits for requests still being signed: a few BLS signatures, far below any
/// duty deadline, and it saves an fsync per request under load.
const MAX_GATHER: std::time::Duration = std::time::Duration::from_millis(2);

/// Most requests recorded in one transaction; bounds the latency a batch adds.
const MAX_BATCH: usize = 512;

/// A signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scheme {
    /// BLS12-381, Ethereum's proof-of-possession ciphersuite (min-pk).
    Bls12381,
    /// BLS on BN254 as EigenLayer's contracts verify it (see [`crate::bn254`]): AVS keys.
    Bn254,
    /// ECDSA on secp256k1 (see [`crate::ecdsa`]): execution-chain keys, ECDSA checkpoints.
    Secp256k1,
}

impl Scheme {
    /// Every scheme.
    pub const ALL: [Self; 3] = [Self::Bls12381, Self::Bn254, Self::Secp256k1];

    /// The scheme named `name` ([`as_str`](Self::as_str)'s names), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The length of a [`KeyId::public_key`] of this scheme.
    pub fn key_id_len(self) -> usize {
        match self {
            Self::Bls12381 => bls::PUBLIC_KEY_LEN,
            Self::Bn254 => bn254::PUBLIC_KEY_LEN,
            Self::Secp256k1 => ecdsa::ADDRESS_LEN,
        }
    }

    /// The scheme's name in the store, metrics and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bls12381 => "bls12-381",
            Self::Bn254 => "bn254",
            Self::Secp256k1 => "secp256k1",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identifies a key: its scheme and public key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId {
    /// The scheme.
    pub scheme: Scheme,
    /// The key's public name: for BLS12-381 the 48-byte compressed G1 key, for BN254 the
    /// 64-byte G1 key `X ‖ Y`, for secp256k1 the 20-byte address.
    pub public_key: Vec<u8>,
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:0x{}", self.scheme, hex::encode(&self.public_key))
    }
}

/// A key the signer holds, as listed to operators (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key's id.
    pub id: KeyId,
    /// Where it came from: a keystore path, a derivation path, ...
    pub source: String,
    /// For a BN254 key, both its public keys: AVS registration needs the G2 key besides the
    /// G1 key in `id`. `None` for other schemes.
    pub bn254: Option<bn254::PublicKeys>,
}

enum SigningKey {
    Bls(bls::SecretKey),
    Bn254 {
        key: bn254::SecretKey,
        public: bn254::PublicKeys,
    },
    Secp256k1(ecdsa::SigningKey),
}

impl SigningKey {
    fn scheme(&self) -> Scheme {
        match self {
            Self::Bls(_) => Scheme::Bls12381,
            Self::Bn254 { .. } => Scheme::Bn254,
            Self::Secp256k1(_) => Scheme::Secp256k1,
        }
    }

    /// Signs `message`, or refuses a message the scheme does not sign: BN254 and secp256k1
    /// sign a 32-byte hash, never arbitrary bytes.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        match self {
            Self::Bls(key) => Ok(key.sign(message).to_bytes().to_vec()),
            Self::Bn254 { key, .. } => {
                let hash = self.digest(message)?;
                Ok(key.sign(hash).to_bytes().to_vec())
            }
            Self::Secp256k1(key) => {
                let digest = self.digest(message)?;
                key.sign_digest(digest)
                    .map(|signature| signature.to_vec())
                    .map_err(|e| SignError::Signing(e.to_string()))
            }
        }
    }

    fn digest<'m>(&self, message: &'m [u8]) -> Result<&'m [u8; 32], SignError> {
        message.try_into().map_err(|_| SignError::InvalidMessage {
            scheme: self.scheme(),
            reason: format!(
                "{} signs a 32-byte hash, the message is {} bytes",
                self.scheme(),
                message.len()
            ),
        })
    }

    fn bn254_public_keys(&self) -> Option<bn254::PublicKeys> {
        match self {
            Self::Bn254 { public, .. } => Some(*public),
            Self::Bls(_) | Self::Secp256k1(_) => None,
        }
    }
}

/// A request to sign `message` with `key` for a duty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningRequest {
    /// The key to sign with.
    pub key: KeyId,
    /// The duty's domain, e.g. `oracle/eth-usd`: conflict keys are scoped to it.
    pub domain: String,
    /// What two messages must not differ on within the domain (a round, an index).
    pub conflict_key: Vec<u8>,
    /// `Some(n)` when the domain is ordered: `n` must exceed every ordering signed before.
    pub ordering: Option<u64>,
    /// The exact bytes to sign.
    pub message: Vec<u8>,
}

/// A released signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedMessage {
    /// The signature bytes.
    pub signature: Vec<u8>,
    /// True when this is the recorded signature of an identical earlier request.
    pub repeated: bool,
}

/// Why the signer refused. Every variant maps to a fixed metric `reason`.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The key is not loaded.
    #[error("no key {0} is loaded")]
    UnknownKey(KeyId),
    /// The caller's view of the signer does not include this key.
    #[error("key {0} is not among the keys this caller may use")]
    KeyNotAllowed(KeyId),
    /// Signing would conflict with history.
    #[error("refused: {0}")]
    Refused(Refusal),
    /// The protection store could not answer: nothing was signed.
    #[error("refused, the protection store is unavailable: {0}")]
    Store(String),
    /// The signer is shutting down.
    #[error("refused, the signer is shutting down")]
    ShuttingDown,
    /// The message is not one the key's scheme signs (BN254 and secp256k1 keys sign only a
    /// 32-byte hash; validator duties only BLS12-381 keys). Nothing was signed or recorded.
    #[error("refused, not a message a {scheme} key signs: {reason}")]
    InvalidMessage {
        /// The key's scheme.
        scheme: Scheme,
        /// What is wrong with the message.
        reason: String,
    },
    /// The signing library failed; nothing was recorded.
    #[error("refused, signing failed: {0}")]
    Signing(String),
}

impl SignError {
    /// A short, fixed name for the metric label `reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::UnknownKey(_) => "unknown_key",
            Self::KeyNotAllowed(_) => "key_not_allowed",
            Self::Refused(refusal) => refusal.reason(),
            Self::Store(_) => "store_unavailable",
            Self::ShuttingDown => "shutting_down",
            Self::InvalidMessage { .. } => "invalid_message",
            Self::Signing(_) => "signing_failed",
        }
    }
}

/// Whether the signer can sign: false once the store failed, until a commit succeeds again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerHealth {
    /// The store answered the last request.
    pub healthy: bool,
    /// Why not, when not.
    pub message: String,
}

/// Why a key could not be added.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// The secret is not a valid BLS12-381 key.
    #[error(transparent)]
    Invalid(#[from] BlsError),
    /// The secret is not a valid BN254 key.
    #[error(transparent)]
    InvalidBn254(#[from] Bn254Error),
    /// The secret is not a valid secp256k1 key.
    #[error(transparent)]
    InvalidEcdsa(#[from] EcdsaError),
    /// A BN254 or ECDSA keystore could not be read, decrypted or trusted; names the file.
    #[error(transparent)]
    Keystore(#[from] Web3KeystoreError),
    /// The declared public key is not the secret's.
    #[error(
        "declares pubkey 0x{} but its secret key is for 0x{}",
        hex::encode(declared),
        hex::encode(actual)
    )]
    PubkeyMismatch {
        /// The public key the keystore declares.
        declared: [u8; 48],
        /// The public key of the secret.
        actual: [u8; 48],
    },
}

/// The keys a signer holds, before it starts.
#[derive(Default)]
pub struct Keyring {
    keys: BTreeMap<KeyId, Arc<LoadedKey>>,
}

/// A key in the signer and where it came from.
struct LoadedKey {
    key: SigningKey,
    source: String,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Keyring {
    /// Adds a BLS12-381 key; `source` says where it came from. When the key's origin declares
    /// its public key (a keystore's `pubkey` field), it must match the secret, or nothing is
    /// added. Adding the same key twice keeps the first source.
    pub fn add_bls(
        &mut self,
        secret: &SecretBytes,
        declared: Option<&[u8; 48]>,
        source: impl Into<String>,
    ) -> Result<KeyId, KeyringError> {
        let key = bls::SecretKey::from_secret(secret)?;
        let public_key = key.public_key().to_bytes();
        if let Some(declared) = declared
            && *declared != public_key
        {
            return Err(KeyringError::PubkeyMismatch {
                declared: *declared,
                actual: public_key,
            });
        }
        let id = KeyId {
            scheme: Scheme::Bls12381,
            public_key: public_key.to_vec(),
        };
        Ok(self.insert(id, SigningKey::Bls(key), source.into()))
    }

    /// Adds a BN254 key (an EigenLayer AVS operator key) from its secret scalar (big-endian,
    /// nonzero, below r). Its id is the 64-byte G1 public key; both public keys are listed in
    /// [`KeyInfo::bn254`]. Adding the same key twice keeps the first source.
    pub fn add_bn254(
        &mut self,
        secret: &SecretBytes,
        source: impl Into<String>,
    ) -> Result<KeyId, KeyringError> {
        let key = bn254::SecretKey::from_secret(secret)?;
        Ok(self.insert_bn254(key, source.into()))
    }

    /// Adds a secp256k1 key from its secret scalar (big-endian, nonzero, below n). Its id is
    /// the 20-byte address. Adding the same key twice keeps the first source.
    pub fn add_ecdsa(
        &mut self,
        secret: &SecretBytes,
        source: impl Into<String>,
    ) -> Result<KeyId, KeyringError> {
        let key = ecdsa::SigningKey::from_secret(secret)?;
        Ok(self.insert_ecdsa(key, source.into()))
    }

    /// Decrypts an eigensdk-go BN254 keystore file (see [`Bn254Keystore`]) and adds its key,
    /// with the file as its source. A declared `pubKey` must be the secret's, or nothing is
    /// added. Slow by design (scrypt): call it off the async runtime.
    pub fn load_bn254_keystore(
        &mut self,
        file: &Path,
        password: &str,
    ) -> Result<KeyId, KeyringError> {
        let keystore = Bn254Keystore::from_file(file)?;
        let secret = keystore.decrypt(password)?;
        let key = bn254::SecretKey::from_secret(&secret).map_err(|e| {
            Web3KeystoreError::InvalidSecret {
                path: Some(file.to_path_buf()),
                scheme: Scheme::Bn254.as_str(),
                reason: e.to_string(),
            }
        })?;
        let actual = key.public_keys().g1;
        if let Some(declared) = keystore.declared_public_key()
            && *declared != actual
        {
            return Err(Web3KeystoreError::DeclaredKeyMismatch {
                path: Some(file.to_path_buf()),
                scheme: Scheme::Bn254.as_str(),
                declared: declared.to_string(),
                actual: actual.to_string(),
            }
            .into());
        }
        Ok(self.insert_bn254(key, file.display().to_string()))
    }

    /// Decrypts a web3 secret-storage (v3) ECDSA keystore file with alloy and adds its key, with
    /// the file as its source. A declared `address` must be the key's, or nothing is added.
    /// Slow by design (scrypt): call it off the async runtime.
    pub fn load_ecdsa_keystore(
        &mut self,
        file: &Path,
        password: &str,
    ) -> Result<KeyId, KeyringError> {
        let key = ecdsa::SigningKey::from_keystore(file, password)?;
        Ok(self.insert_ecdsa(key, file.display().to_string()))
    }

    fn insert_bn254(&mut self, key: bn254::SecretKey, source: String) -> KeyId {
        let public = key.public_keys();
        let id = KeyId {
            scheme: Scheme::Bn254,
            public_key: public.g1.to_bytes().to_vec(),
        };
        self.insert(id, SigningKey::Bn254 { key, public }, source)
    }

    fn insert_ecdsa(&mut self, key: ecdsa::SigningKey, source: String) -> KeyId {
        let id = KeyId {
            scheme: Scheme::Secp256k1,
            public_key: key.address().to_vec(),
        };
        self.insert(id, SigningKey::Secp256k1(key), source)
    }

    /// Adds `key` under `id` unless `id` is already there (the first source is kept).
    fn insert(&mut self, id: KeyId, key: SigningKey, source: String) -> KeyId {
        self.keys
            .entry(id.clone())
            .or_insert_with(|| Arc::new(LoadedKey { key, source }));
        id
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// A request signed in memory, waiting for the writer to commit its record.
struct Pending {
    answer: oneshot::Receiver<Result<Outcome, String>>,
    signature: Vec<u8>,
}

struct Job {
    record: Record,
    reply: oneshot::Sender<Result<Outcome, String>>,
}

/// What the writer checks and records for one request.
enum Record {
    Generic(OwnedRecord),
    Validator {
        public_key: [u8; 48],
        duty: ValidatorDuty,
        signing_root: [u8; 32],
    },
}

/// A validator duty, checked with Ethereum's slashing rules (see [`crate::protection::eth`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidatorDuty {
    /// A block proposal at `slot`.
    Block {
        /// The slot.
        slot: u64,
    },
    /// An attestation from `source_epoch` to `target_epoch`.
    Attestation {
        /// Source checkpoint epoch.
        source_epoch: u64,
        /// Target checkpoint epoch.
        target_epoch: u64,
    },
}

struct OwnedRecord {
    scheme: Scheme,
    public_key: Vec<u8>,
    domain: String,
    conflict_key: Vec<u8>,
    ordering: Option<u64>,
    message_hash: [u8; 32],
    signature: Vec<u8>,
    signed_at: i64,
}

#[derive(Clone)]
struct Metrics {
    refusals: IntCounterVec,
    signatures: IntCounterVec,
    batch_size: Histogram,
    commit_seconds: Histogram,
}

impl Metrics {
    fn new(registry: &Registry) -> prometheus::Result<Self> {
        let metrics = Self {
            refusals: IntCounterVec::new(
                Opts::new(
                    "restaked_signer_refusals_total",
                    "Signing requests refused, by reason.",
                ),
                &["reason"],
            )?,
            signatures: IntCounterVec::new(
                Opts::new(
                    "restaked_signer_signatures_total",
                    "Signatures released, by scheme (repeats included).",
                ),
                &["scheme"],
            )?,
            batch_size: Histogram::with_opts(
                HistogramOpts::new(
                    "restaked_signer_commit_batch_size",
                    "Requests recorded per protection-store commit.",
                )
                .buckets(vec![
                    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0,
                ]),
            )?,
            commit_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "restaked_signer_commit_duration_seconds",
                    "Time to check, record and durably commit one batch.",
                )
                .buckets(prometheus::exponential_buckets(0.0001, 2.0, 16)?),
            )?,
        };
        registry.register(Box::new(metrics.refusals.clone()))?;
        registry.register(Box::new(metrics.signatures.clone()))?;
        registry.register(Box::new(metrics.batch_size.clone()))?;
        registry.register(Box::new(metrics.commit_seconds.clone()))?;
        Ok(metrics)
    }
}

struct Inner {
    // Read on every request, written only when keys are imported at run time.
    keys: RwLock<BTreeMap<KeyId, Arc<LoadedKey>>>,
    writer: mpsc::Sender<Job>,
    signing: Arc<AtomicUsize>,
    closed: AtomicBool,
    health: watch::Receiver<SignerHealth>,
    metrics: Metrics,
}

/// The signer. Clones share keys, store and history; [`ProtectedSigner::restricted`] makes a
/// view limited to some keys, for a duty module.
#[derive(Clone)]
pub struct ProtectedSigner {
    inner: Arc<Inner>,
    allowed: Option<Arc<BTreeSet<KeyId>>>,
}

impl fmt::Debug for ProtectedSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtectedSigner")
            .field("keys", &self.keys().len())
            .field("allowed", &self.allowed)
            .finish()
    }
}

/// Why the signer could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Its metrics could not be registered.
    #[error("signer metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// The writer thread could not be started.
    #[error("cannot start the protection-store writer: {0}")]
    Thread(#[from] std::io::Error),
}

impl ProtectedSigner {
    /// Starts the signer over `db` with `keys`, registering its metrics in `registry`.
    pub fn start(db: ProtectionDb, keys: Keyring, registry: &Registry) -> Result<Self, StartError> {
        let metrics = Metrics::new(registry)?;
        let (writer, jobs) = mpsc::channel();
        let (health_tx, health) = watch::channel(SignerHealth {
            healthy: true,
            message: String::new(),
        });
        let writer_metrics = metrics.clone();
        let signing = Arc::new(AtomicUsize::new(0));
        let writer_signing = signing.clone();
        thread::Builder::new()
            .name("protection-writer".to_owned())
            .spawn(move || write_loop(db, &jobs, &writer_signing, &health_tx, &writer_metrics))?;
        let inner = Inner {
            keys: RwLock::new(keys.keys),
            writer,
            signing,
            closed: AtomicBool::new(false),
            health,
            metrics,
        };
        Ok(Self {
            inner: Arc::new(inner),
            allowed: None,
        })
    }

    /// A view of this signer that may only use `keys` (a duty module's own keys).
    pub fn restricted(&self, keys: impl IntoIterator<Item = KeyId>) -> Self {
        Self {
            inner: self.inner.clone(),
            allowed: Some(Arc::new(keys.into_iter().collect())),
        }
    }

    /// The keys this view may use, with where they came from.
    pub fn keys(&self) -> Vec<KeyInfo> {
        let keys = self
            .inner
            .keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.iter()
            .filter(|(id, _)| {
                self.allowed
                    .as_ref()
                    .is_none_or(|allowed| allowed.contains(*id))
            })
            .map(|(id, loaded)| KeyInfo {
                id: id.clone(),
                source: loaded.source.clone(),
                bn254: loaded.key.bn254_public_keys(),
            })
            .collect()
    }

    /// Adds the keys of `keyring` to the running signer (a keystore imported at run time);
    /// returns the ids that were not loaded before. Their history, if any, is already in the store.
    pub fn add_keys(&self, keyring: Keyring) -> Vec<KeyId> {
        let mut keys = self
            .inner
            .keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        keyring
            .keys
            .into_iter()
            .filter_map(|(id, loaded)| match keys.entry(id.clone()) {
                std::collections::btree_map::Entry::Occupied(_) => None,
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(loaded);
                    Some(id)
                }
            })
            .collect()
    }

    /// The loaded key `id`, if any.
    fn loaded(&self, id: &KeyId) -> Option<Arc<LoadedKey>> {
        self.inner
            .keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(id)
            .cloned()
    }

    /// Watches the signer's health (for readiness).
    pub fn health(&self) -> watch::Receiver<SignerHealth> {
        self.inner.health.clone()
    }

    /// Refuses every request from now on; requests already queued are still answered.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
    }

    /// Signs `request` unless it conflicts with history. The signing itself runs on the blocking
    /// pool; waiting for the record's commit holds no thread, so many requests can be in flight
    /// on a small runtime and the writer groups them into one commit.
    pub async fn sign(&self, request: SigningRequest) -> Result<SignedMessage, SignError> {
        let signer = self.clone();
        let result = match tokio::task::spawn_blocking(move || {
            let prepared = signer.prepare(&request);
            (request, prepared)
        })
        .await
        {
            Ok((request, Ok(pending))) => {
                let outcome = pending.answer.await;
                self.finish(&request.key, &request.domain, pending.signature, outcome)
            }
            Ok((_, Err(error))) => Err(error),
            Err(e) => Err(SignError::Store(format!("signing task failed: {e}"))),
        };
        self.count_refusal(&result);
        result
    }

    /// Signs `request` unless it conflicts with history, blocking the calling thread until the
    /// record is committed. The signature is never returned unless recorded.
    pub fn sign_blocking(&self, request: SigningRequest) -> Result<SignedMessage, SignError> {
        let result = self.prepare(&request).and_then(|pending| {
            let outcome = pending.answer.blocking_recv();
            self.finish(&request.key, &request.domain, pending.signature, outcome)
        });
        self.count_refusal(&result);
        result
    }

    /// Signs an Ethereum validator message (its `signing_root`) for `duty`, unless Ethereum's
    /// slashing rules refuse it: no second block at or below a signed slot, no double vote, no
    /// surround vote, nothing below the signed source/target (identical re-requests are allowed).
    pub fn sign_validator_blocking(
        &self,
        key: &KeyId,
        duty: ValidatorDuty,
        signing_root: [u8; 32],
    ) -> Result<SignedMessage, SignError> {
        let result = self
            .prepare_validator(key, duty, signing_root)
            .and_then(|pending| {
                let outcome = pending.answer.blocking_recv();
                // BLS signatures are deterministic: a repeat is the same signature as the first, and
                // validator records keep no signature to return.
                self.finish(key, "validator", pending.signature, outcome)
                    .map(|signed| SignedMessage {
                        repeated: false,
                        ..signed
                    })
            });
        self.count_refusal(&result);
        result
    }

    /// The key for a request, unless the signer is closed or the caller may not use it.
    fn admit(&self, key: &KeyId) -> Result<Arc<LoadedKey>, SignError> {
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(SignError::ShuttingDown);
        }
        if let Some(allowed) = &self.allowed
            && !allowed.contains(key)
        {
            return Err(SignError::KeyNotAllowed(key.clone()));
        }
        self.loaded(key)
            .ok_or_else(|| SignError::UnknownKey(key.clone()))
    }

    /// Signs in memory and hands the record to the writer. Signing runs on the caller's thread,
    /// so callers sign in parallel; the signature stays inside the signer until the writer has
    /// committed its record. A message the scheme refuses is refused here, before anything is
    /// recorded.
    fn prepare(&self, request: &SigningRequest) -> Result<Pending, SignError> {
        let loaded = self.admit(&request.key)?;
        let _signing = Signing::start(&self.inner.signing);
        let signature = loaded.key.sign(&request.message)?;
        let signed_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let record = Record::Generic(OwnedRecord {
            scheme: request.key.scheme,
            public_key: request.key.public_key.clone(),
            domain: request.domain.clone(),
            conflict_key: request.conflict_key.clone(),
            ordering: request.ordering,
            message_hash: Sha256::digest(&request.message).into(),
            signature: signature.clone(),
            signed_at,
        });
        self.submit(record, signature)
    }

    fn prepare_validator(
        &self,
        key: &KeyId,
        duty: ValidatorDuty,
        signing_root: [u8; 32],
    ) -> Result<Pending, SignError> {
        if key.scheme != Scheme::Bls12381 {
            return Err(SignError::InvalidMessage {
                scheme: key.scheme,
                reason: "Ethereum validator duties are signed with BLS12-381 keys only".to_owned(),
            });
        }
        let loaded = self.admit(key)?;
        let _signing = Signing::start(&self.inner.signing);
        let public_key = <[u8; 48]>::try_from(key.public_key.as_slice())
            .map_err(|_| SignError::UnknownKey(key.clone()))?;
        let signature = loaded.key.sign(&signing_root)?;
        self.submit(
            Record::Validator {
                public_key,
                duty,
                signing_root,
            },
            signature,
        )
    }

    fn submit(&self, record: Record, signature: Vec<u8>) -> Result<Pending, SignError> {
        let (reply, answer) = oneshot::channel();
        self.inner
            .writer
            .send(Job { record, reply })
            .map_err(|_| SignError::Store("the protection-store writer has stopped".to_owned()))?;
        Ok(Pending { answer, signature })
    }

    /// Turns the writer's answer into the caller's result.
    fn finish(
        &self,
        key: &KeyId,
        domain: &str,
        signature: Vec<u8>,
        answer: Result<Result<Outcome, String>, oneshot::error::RecvError>,
    ) -> Result<SignedMessage, SignError> {
        let outcome = answer
            .map_err(|_| {
                SignError::Store("the protection-store writer stopped before answering".to_owned())
            })?
            .map_err(SignError::Store)?;
        match outcome {
            Outcome::Recorded => {
                self.count_signature(key.scheme);
                Ok(SignedMessage {
                    signature,
                    repeated: false,
                })
            }
            Outcome::SameData {
                signature: recorded,
            } => {
                self.count_signature(key.scheme);
                // Validator records keep no signature; BLS is deterministic, so ours is the same.
                let signature = if recorded.is_empty() {
                    signature
                } else {
                    recorded
                };
                Ok(SignedMessage {
                    signature,
                    repeated: true,
                })
            }
            Outcome::Refused(refusal) => {
                tracing::warn!(key = %key, domain, reason = refusal.reason(), "{refusal}");
                Err(SignError::Refused(refusal))
            }
        }
    }

    fn count_refusal(&self, result: &Result<SignedMessage, SignError>) {
        if let Err(error) = result {
            self.inner
                .metrics
                .refusals
                .with_label_values(&[error.reason()])
                .inc();
        }
    }

    fn count_signature(&self, scheme: Scheme) {
        self.inner
            .metrics
            .signatures
            .with_label_values(&[scheme.as_str()])
            .inc();
    }
}

/// Counts a request between admission and its hand-over to the writer, so the writer knows more
/// requests are about to arrive.
struct Signing<'a>(&'a AtomicUsize);

impl<'a> Signing<'a> {
    fn start(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for Signing<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn write_loop(
    mut db: ProtectionDb,
    jobs: &mpsc::Receiver<Job>,
    signing: &AtomicUsize,
    health: &watch::Sender<SignerHealth>,
    metrics: &Metrics,
) {
    let classifier = db.classifier();
    // Read once it can be; afterwards the writer is the only one recording generic signatures,
    // so it tracks the value itself.
    let mut latest: Option<i64> = None;
    let mut key_ids = generic::KeyIds::default();
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        // Group commit: while other callers are still signing, wait (briefly) for their requests
        // so one fsync covers them all. A lone caller is never delayed.
        let gather_until = Instant::now() + MAX_GATHER;
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) if signing.load(Ordering::SeqCst) > 0 => {
                    let left = gather_until.saturating_duration_since(Instant::now());
                    match jobs.recv_timeout(left) {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let latest_signed_at = match latest {
            Some(value) => Ok(value),
            None => db.latest_signed_at(),
        };
        let result = latest_signed_at.and_then(|latest_signed_at| {
            latest = Some(latest_signed_at);
            db.transaction::<_, ProtectionError>(|tx| {
                batch
                    .iter()
                    .map(|job| match &job.record {
                        Record::Generic(r)
                            if r.signed_at.saturating_add(CLOCK_TOLERANCE_SECS)
                                < latest_signed_at =>
                        {
                            Ok(Outcome::Refused(Refusal::ClockWentBackwards {
                                now: r.signed_at,
                                latest: latest_signed_at,
                            }))
                        }
                        Record::Generic(r) => generic::check_and_record(
                            tx,
                            &classifier,
                            &mut key_ids,
                            &GenericRecord {
                                scheme: r.scheme.as_str(),
                                public_key: &r.public_key,
                                domain: &r.domain,
                                conflict_key: &r.conflict_key,
                                ordering: r.ordering,
                                message_hash: r.message_hash,
                                signature: &r.signature,
                                signed_at: r.signed_at,
                            },
                        ),
                        Record::Validator {
                            public_key,
                            duty: ValidatorDuty::Block { slot },
                            signing_root,
                        } => eth::check_and_record_block(
                            tx,
                            &classifier,
                            public_key,
                            *slot,
                            signing_root,
                        ),
                        Record::Validator {
                            public_key,
                            duty:
                                ValidatorDuty::Attestation {
                                    source_epoch,
                                    target_epoch,
                                },
                            signing_root,
                        } => eth::check_and_record_attestation(
                            tx,
                            &classifier,
                            public_key,
                            *source_epoch,
                            *target_epoch,
                            signing_root,
                        ),
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
        });
        metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        metrics.batch_size.observe(batch.len() as f64);
        match result {
            Ok(outcomes) => {
                let recorded = batch.iter().zip(&outcomes).filter_map(|(job, outcome)| {
                    match (&job.record, outcome) {
                        (Record::Generic(r), Outcome::Recorded) => Some(r.signed_at),
                        _ => None,
                    }
                });
                latest = latest.max(recorded.max());
                health.send_if_modified(|h| {
                    let changed = !h.healthy;
                    *h = SignerHealth {
                        healthy: true,
                        message: String::new(),
                    };
                    changed
                });
                for (job, outcome) in batch.into_iter().zip(outcomes) {
                    // A caller that gave up no longer waits; its record stands either way.
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(error) => {
                key_ids.forget();
                tracing::error!(error = %error, reason = error.reason(), batch = batch.len(), "protection store failed; refusing to sign");
                let message = error.to_string();
                health.send_replace(SignerHealth {
                    healthy: false,
                    message: message.clone(),
                });
                for job in batch {
                    let _ = job.reply.send(Err(message.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
