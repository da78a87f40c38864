//! Loading the node's keys at startup: keystores from the configured directory, decrypted in
//! parallel off the async runtime, or the public deterministic keys of `--dev`.

use std::{
    fs,
    io::Write,
    os::unix::fs::{DirBuilderExt, OpenOptionsExt},
    path::{Path, PathBuf},
    sync::atomic::{AtomicUsize, Ordering},
    time::Instant,
};

use prometheus::{IntCounter, IntGauge, Registry};
use restake_signer::{
    KeyId, Keyring, ProtectedSigner, SecretBytes,
    derive::{self, KeyPath},
    keystore::{self, Keystore, KeystoreError, PasswordSource},
};

use zeroize::Zeroizing;

use crate::config::{KeyFile, OnBadKeystore, PasswordSettings, SignerSettings};

/// The secret of anvil's account 0 (well known, worthless off a local chain): `--dev`'s
/// execution key, owner of the dev pod.
const DEV_ECDSA_SECRET: [u8; 32] = [
    0xac, 0x09, 0x74, 0xbe, 0xc3, 0x9a, 0x17, 0xe3, 0x6b, 0xa4, 0xa6, 0xb4, 0xd2, 0x38, 0xff, 0x94,
    0x4b, 0xac, 0xb4, 0x78, 0xcb, 0xed, 0x5e, 0xfc, 0xae, 0x78, 0x4d, 0x7b, 0xf4, 0xf2, 0xff, 0x80,
];

/// The secret of `--dev`'s BN254 (EigenLayer AVS) key, which signs the dev oracle's reports:
/// public, chosen only to be a valid scalar below the BN254 group order.
const DEV_BN254_SECRET: [u8; 32] = [0x11; 32];

/// Number of deterministic keys `--dev` loads.
pub const DEV_KEY_COUNT: u32 = 4;
/// Directory in the data dir where keystores imported over the admin API are kept (flat
/// layout, passwords in its `passwords/` subdirectory), so they load again after a restart.
pub const IMPORTED_DIR: &str = "imported-keystores";

/// Why keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyLoadError {
    /// The keystore directory or shared password file is unusable.
    #[error("cannot load keystores: {0}")]
    Discover(#[from] KeystoreError),
    /// Some keystores failed and `signer.on_bad_keystore = "fail"`.
    #[error(
        "{failed} of {total} keystore(s) could not be loaded (signer.on_bad_keystore = \"fail\"):\n{details}"
    )]
    BadKeystores {
        /// How many failed.
        failed: usize,
        /// How many were found.
        total: usize,
        /// One line per failure.
        details: String,
    },
}

/// Metrics of key loading.
pub struct KeyMetrics {
    loaded: IntGauge,
    progress: IntGauge,
    errors: IntCounter,
    permission_warnings: IntCounter,
}

impl KeyMetrics {
    /// Registers the key-loading metrics.
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let metrics = Self {
            loaded: IntGauge::new(
                "restaked_signer_keys_loaded",
                "Keys loaded into the signer.",
            )?,
            progress: IntGauge::new(
                "restaked_signer_keystores_decrypted",
                "Keystores decrypted so far during startup (progress of loading).",
            )?,
            errors: IntCounter::new(
                "restaked_signer_keystore_errors_total",
                "Keystores that could not be loaded.",
            )?,
            permission_warnings: IntCounter::new(
                "restaked_signer_keystore_permission_warnings_total",
                "Keystore or password files readable or writable by group or others.",
            )?,
        };
        registry.register(Box::new(metrics.loaded.clone()))?;
        registry.register(Box::new(metrics.progress.clone()))?;
        registry.register(Box::new(metrics.errors.clone()))?;
        registry.register(Box::new(metrics.permission_warnings.clone()))?;
        Ok(metrics)
    }
}

/// Loads the configured keystores (blocking: run it on a blocking thread), plus the dev keys
/// when `dev` is set.
pub fn load(
    settings: &SignerSettings,
    data_dir: &Path,
    dev: bool,
    metrics: &KeyMetrics,
) -> Result<Keyring, KeyLoadError> {
    let mut keyring = Keyring::default();
    if dev {
        // Derived keys are valid scalars by construction; a failure here is a bug worth stopping for.
        add_dev_keys(&mut keyring, 0, DEV_KEY_COUNT).map_err(|details| {
            KeyLoadError::BadKeystores {
                failed: 1,
                total: 1,
                details,
            }
        })?;
        tracing::warn!(
            keys = DEV_KEY_COUNT,
            "dev mode: loaded deterministic keys derived from a PUBLIC mnemonic; never use them for real stake"
        );
        if settings.ecdsa.is_none() {
            // The dev pod's owner on the dev anvil chain, so `restakectl proofs ... --submit`
            // works in --dev; its secret is public (anvil's account 0).
            keyring
                .add_ecdsa(
                    &SecretBytes::new(DEV_ECDSA_SECRET),
                    "anvil's account 0 (a PUBLIC dev key, the dev pod's owner)",
                )
                .map_err(|e| KeyLoadError::BadKeystores {
                    failed: 1,
                    total: 1,
                    details: format!("  the dev ECDSA key: {e}"),
                })?;
        }
        if settings.bn254.is_none() {
            keyring
                .add_bn254(
                    &SecretBytes::new(DEV_BN254_SECRET),
                    "a PUBLIC dev BN254 key (signs the dev oracle's reports)",
                )
                .map_err(|e| KeyLoadError::BadKeystores {
                    failed: 1,
                    total: 1,
                    details: format!("  the dev BN254 key: {e}"),
                })?;
        }
    }
    if let (Some(dir), Some(passwords)) = (&settings.keystores_dir, &settings.passwords) {
        load_keystores(&mut keyring, dir.clone(), passwords, settings, metrics)?;
    }
    for (scheme, file) in [("bn254", &settings.bn254), ("ecdsa", &settings.ecdsa)] {
        if let Some(file) = file {
            load_key_file(&mut keyring, scheme, file, metrics)?;
        }
    }
    let imported = data_dir.join(IMPORTED_DIR);
    if has_keystores(&imported) {
        let passwords = PasswordSettings::PasswordsDir(imported.join("passwords"));
        load_keystores(&mut keyring, imported, &passwords, settings, metrics)?;
    }
    metrics
        .loaded
        .set(i64::try_from(keyring.len()).unwrap_or(i64::MAX));
    Ok(keyring)
}

/// Adds the dev keys `first..first + count` of the public test mnemonic to `keyring`.
pub fn add_dev_keys(keyring: &mut Keyring, first: u32, count: u32) -> Result<Vec<KeyId>, String> {
    (first..first.saturating_add(count))
        .map(|index| {
            let secret = derive::dev_validator_secret(index);
            let source = format!(
                "dev key {} of the public test mnemonic",
                KeyPath::validator_signing(index)
            );
            keyring
                .add_bls(&secret, None, source)
                .map_err(|e| format!("  dev key {index}: {e}"))
        })
        .collect()
}

/// Loads the single configured BN254 or ECDSA keystore; any failure stops startup.
fn load_key_file(
    keyring: &mut Keyring,
    scheme: &str,
    file: &KeyFile,
    metrics: &KeyMetrics,
) -> Result<(), KeyLoadError> {
    let fail = |reason: String| {
        metrics.errors.inc();
        KeyLoadError::BadKeystores {
            failed: 1,
            total: 1,
            details: format!("  signer.{scheme}: {reason}"),
        }
    };
    let mut password = Zeroizing::new(fs::read_to_string(&file.password_file).map_err(|e| {
        fail(format!(
            "cannot read password file {}: {e}",
            file.password_file.display()
        ))
    })?);
    // Password files conventionally end with one newline that is not part of the password.
    if password.ends_with('\n') {
        password.pop();
        if password.ends_with('\r') {
            password.pop();
        }
    }
    let loaded = match scheme {
        "bn254" => keyring.load_bn254_keystore(&file.keystore, &password),
        _ => keyring.load_ecdsa_keystore(&file.keystore, &password),
    };
    let id = loaded.map_err(|e| fail(e.to_string()))?;
    tracing::info!(key = %id, keystore = %file.keystore.display(), "{scheme} key loaded");
    Ok(())
}

fn has_keystores(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|mut entries| {
        entries.any(|e| e.is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json")))
    })
}

/// Why a keystore could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Not a valid keystore, wrong password, or a pubkey that does not match.
    #[error("{0}")]
    Invalid(String),
    /// It could not be saved in the data dir.
    #[error("cannot save the imported keystore in {dir}: {source}")]
    Save {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Decrypts `json` with `password` and, unless `signer` already holds the key, saves keystore
/// and password (mode 0600) under the data dir and adds the key to `signer`. Blocking.
pub fn import_keystore(
    signer: &ProtectedSigner,
    data_dir: &Path,
    json: &str,
    password: &str,
) -> Result<(KeyId, bool), ImportError> {
    let keystore = Keystore::from_json(json).map_err(|e| ImportError::Invalid(e.to_string()))?;
    let secret = keystore
        .decrypt(password)
        .map_err(|e| ImportError::Invalid(e.to_string()))?;
    let dir = data_dir.join(IMPORTED_DIR);
    let mut keyring = Keyring::default();
    let probe = keyring
        .add_bls(&secret, keystore.pubkey(), "import")
        .map_err(|e| ImportError::Invalid(format!("keystore {}: {e}", keystore.uuid())))?;
    if signer.keys().iter().any(|k| k.id == probe) {
        return Ok((probe, true));
    }
    let name = format!("0x{}", hex::encode(&probe.public_key));
    let keystore_path = dir.join(format!("{name}.json"));
    let save = |source| ImportError::Save {
        dir: dir.clone(),
        source,
    };
    write_private(
        &dir.join("passwords").join(format!("{name}.txt")),
        password.as_bytes(),
    )
    .map_err(save)?;
    write_private(&keystore_path, json.as_bytes()).map_err(save)?;
    let mut keyring = Keyring::default();
    let id = keyring
        .add_bls(
            &secret,
            keystore.pubkey(),
            keystore_path.display().to_string(),
        )
        .map_err(|e| ImportError::Invalid(e.to_string()))?;
    signer.add_keys(keyring);
    tracing::info!(key = %id, keystore = %keystore_path.display(), "keystore imported");
    Ok((id, false))
}

/// Writes `bytes` to `path` with mode 0600 (directories 0700), atomically.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let tmp = path.with_extension("tmp");
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}

fn load_keystores(
    keyring: &mut Keyring,
    dir: PathBuf,
    passwords: &PasswordSettings,
    settings: &SignerSettings,
    metrics: &KeyMetrics,
) -> Result<(), KeyLoadError> {
    let source = match passwords {
        PasswordSettings::SecretsDir(p) => PasswordSource::SecretsDir(p.clone()),
        PasswordSettings::PasswordsDir(p) => PasswordSource::PasswordsDir(p.clone()),
        PasswordSettings::PasswordFile(p) => PasswordSource::SharedFile(p.clone()),
    };
    let entries = keystore::discover(&dir, source)?;
    let warnings: usize = entries.iter().map(|e| e.warnings().len()).sum();
    metrics.permission_warnings.inc_by(warnings as u64);
    let threads = if settings.decrypt_threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        settings.decrypt_threads
    };
    let started = Instant::now();
    let total = entries.len();
    let reported = AtomicUsize::new(0);
    tracing::info!(dir = %dir.display(), keystores = total, threads, "decrypting keystores");
    let progress = |done: usize, total: usize| {
        metrics
            .progress
            .set(i64::try_from(done).unwrap_or(i64::MAX));
        // Log at every tenth, once each, whichever thread gets there first.
        let tenth = done * 10 / total.max(1);
        if reported.fetch_max(tenth, Ordering::Relaxed) < tenth {
            tracing::info!(done, total, "decrypting keystores: {}%", tenth * 10);
        }
    };
    let loaded = keystore::decrypt_all(&entries, threads, &progress);
    let mut failures = Vec::new();
    for item in loaded {
        let path = item.keystore_path.display().to_string();
        let added = item.result.map_err(|e| e.to_string()).and_then(|key| {
            keyring
                .add_bls(&key.secret, key.pubkey.as_ref(), path.clone())
                .map(|_| ())
                .map_err(|e| format!("{path}: {e}"))
        });
        if let Err(reason) = added {
            metrics.errors.inc();
            tracing::error!(keystore = %path, "{reason}");
            failures.push(reason);
        }
    }
    tracing::info!(
        loaded = total - failures.len(),
        failed = failures.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "keystores loaded"
    );
    if !failures.is_empty() && settings.on_bad_keystore == OnBadKeystore::Fail {
        return Err(KeyLoadError::BadKeystores {
            failed: failures.len(),
            total,
            details: failures
                .iter()
                .map(|f| format!("  {f}"))
                .collect::<Vec<_>>()
                .join("\n"),
        });
    }
    Ok(())
}
