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
    sync::{
        Arc, RwLock,
        atomic::{AtomicBool, Ordering},
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
    protection::{
        Outcome, ProtectionDb, ProtectionError, Refusal, eth,
        generic::{self, GenericRecord},
    },
};

/// Most requests recorded in one transaction; bounds the latency a batch adds.
const MAX_BATCH: usize = 512;

/// A signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scheme {
    /// BLS12-381, Ethereum's proof-of-possession ciphersuite (min-pk).
    Bls12381,
}

impl Scheme {
    /// The scheme's name in the store, metrics and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bls12381 => "bls12-381",
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
    /// The public key bytes (compressed).
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
}

enum SigningKey {
    Bls(bls::SecretKey),
}

impl SigningKey {
    fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Bls(key) => key.sign(message).to_bytes().to_vec(),
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
    /// The secret is not a valid key.
    #[error(transparent)]
    Invalid(#[from] BlsError),
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
        self.keys.entry(id.clone()).or_insert_with(|| {
            Arc::new(LoadedKey {
                key: SigningKey::Bls(key),
                source: source.into(),
            })
        });
        Ok(id)
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
        thread::Builder::new()
            .name("protection-writer".to_owned())
            .spawn(move || write_loop(db, &jobs, &health_tx, &writer_metrics))?;
        let inner = Inner {
            keys: RwLock::new(keys.keys),
            writer,
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

    /// Signs `request` unless it conflicts with history; async wrapper of [`Self::sign_blocking`].
    pub async fn sign(&self, request: SigningRequest) -> Result<SignedMessage, SignError> {
        let signer = self.clone();
        tokio::task::spawn_blocking(move || signer.sign_blocking(request))
            .await
            .unwrap_or_else(|e| Err(SignError::Store(format!("signing task failed: {e}"))))
    }

    /// Signs `request` unless it conflicts with history, blocking the calling thread until the
    /// record is committed. The signature is never returned unless recorded.
    pub fn sign_blocking(&self, request: SigningRequest) -> Result<SignedMessage, SignError> {
        let result = self.sign_inner(request);
        if let Err(error) = &result {
            self.inner
                .metrics
                .refusals
                .with_label_values(&[error.reason()])
                .inc();
        }
        result
    }

    fn sign_inner(&self, request: SigningRequest) -> Result<SignedMessage, SignError> {
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(SignError::ShuttingDown);
        }
        if let Some(allowed) = &self.allowed
            && !allowed.contains(&request.key)
        {
            return Err(SignError::KeyNotAllowed(request.key));
        }
        let Some(loaded) = self.loaded(&request.key) else {
            return Err(SignError::UnknownKey(request.key));
        };
        let key = &loaded.key;
        let message_hash: [u8; 32] = Sha256::digest(&request.message).into();
        // Signed in memory first so signing runs in parallel on the callers' threads; the
        // signature stays here until the writer has committed its record.
        let signature = key.sign(&request.message);
        let signed_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let (reply, answer) = oneshot::channel();
        let job = Job {
            record: Record::Generic(OwnedRecord {
                scheme: request.key.scheme,
                public_key: request.key.public_key.clone(),
                domain: request.domain.clone(),
                conflict_key: request.conflict_key,
                ordering: request.ordering,
                message_hash,
                signature: signature.clone(),
                signed_at,
            }),
            reply,
        };
        let outcome = self.submit(job, answer)?;
        match outcome {
            Outcome::Recorded => {
                self.count_signature(request.key.scheme);
                Ok(SignedMessage {
                    signature,
                    repeated: false,
                })
            }
            Outcome::SameData { signature } => {
                self.count_signature(request.key.scheme);
                Ok(SignedMessage {
                    signature,
                    repeated: true,
                })
            }
            Outcome::Refused(refusal) => {
                tracing::warn!(key = %request.key, domain = %request.domain, reason = refusal.reason(), "{refusal}");
                Err(SignError::Refused(refusal))
            }
        }
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
        let result = self.sign_validator_inner(key, duty, signing_root);
        if let Err(error) = &result {
            self.inner
                .metrics
                .refusals
                .with_label_values(&[error.reason()])
                .inc();
        }
        result
    }

    fn sign_validator_inner(
        &self,
        key: &KeyId,
        duty: ValidatorDuty,
        signing_root: [u8; 32],
    ) -> Result<SignedMessage, SignError> {
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(SignError::ShuttingDown);
        }
        if let Some(allowed) = &self.allowed
            && !allowed.contains(key)
        {
            return Err(SignError::KeyNotAllowed(key.clone()));
        }
        let (Some(loaded), Ok(public_key)) = (
            self.loaded(key),
            <[u8; 48]>::try_from(key.public_key.as_slice()),
        ) else {
            return Err(SignError::UnknownKey(key.clone()));
        };
        let signing_key = &loaded.key;
        let signature = signing_key.sign(&signing_root);
        let (reply, answer) = oneshot::channel();
        let job = Job {
            record: Record::Validator {
                public_key,
                duty,
                signing_root,
            },
            reply,
        };
        match self.submit(job, answer)? {
            // BLS signatures are deterministic: a repeat is the same signature as the first.
            Outcome::Recorded | Outcome::SameData { .. } => {
                self.count_signature(key.scheme);
                Ok(SignedMessage {
                    signature,
                    repeated: false,
                })
            }
            Outcome::Refused(refusal) => {
                tracing::warn!(key = %key, ?duty, reason = refusal.reason(), "{refusal}");
                Err(SignError::Refused(refusal))
            }
        }
    }

    fn submit(
        &self,
        job: Job,
        answer: oneshot::Receiver<Result<Outcome, String>>,
    ) -> Result<Outcome, SignError> {
        self.inner
            .writer
            .send(job)
            .map_err(|_| SignError::Store("the protection-store writer has stopped".to_owned()))?;
        answer
            .blocking_recv()
            .map_err(|_| {
                SignError::Store("the protection-store writer stopped before answering".to_owned())
            })?
            .map_err(SignError::Store)
    }

    fn count_signature(&self, scheme: Scheme) {
        self.inner
            .metrics
            .signatures
            .with_label_values(&[scheme.as_str()])
            .inc();
    }
}

fn write_loop(
    mut db: ProtectionDb,
    jobs: &mpsc::Receiver<Job>,
    health: &watch::Sender<SignerHealth>,
    metrics: &Metrics,
) {
    let classifier = db.classifier();
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let result = db.transaction::<_, ProtectionError>(|tx| {
            batch
                .iter()
                .map(|job| match &job.record {
                    Record::Generic(r) => generic::check_and_record(
                        tx,
                        &classifier,
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
        });
        metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        metrics.batch_size.observe(batch.len() as f64);
        match result {
            Ok(outcomes) => {
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
