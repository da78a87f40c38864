//! Loading the node's keys at startup: keystores from the configured directory, decrypted in
//! parallel off the async runtime, or the public deterministic keys of `--dev`.

use std::{
    path::PathBuf,
    sync::atomic::{AtomicUsize, Ordering},
    time::Instant,
};

use prometheus::{IntCounter, IntGauge, Registry};
use restake_signer::{
    Keyring,
    derive::{self, KeyPath},
    keystore::{self, KeystoreError, PasswordSource},
};

use crate::config::{OnBadKeystore, PasswordSettings, SignerSettings};

/// Number of deterministic keys `--dev` loads.
pub const DEV_KEY_COUNT: u32 = 4;

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
    dev: bool,
    metrics: &KeyMetrics,
) -> Result<Keyring, KeyLoadError> {
    let mut keyring = Keyring::default();
    if dev {
        for index in 0..DEV_KEY_COUNT {
            let secret = derive::dev_validator_secret(index);
            let source = format!(
                "dev key {} of the public test mnemonic",
                KeyPath::validator_signing(index)
            );
            // Derived keys are valid scalars by construction; a failure here is a bug worth stopping for.
            keyring
                .add_bls(&secret, None, source)
                .map_err(|e| KeyLoadError::BadKeystores {
                    failed: 1,
                    total: 1,
                    details: format!("  dev key {index}: {e}"),
                })?;
        }
        tracing::warn!(
            keys = DEV_KEY_COUNT,
            "dev mode: loaded deterministic keys derived from a PUBLIC mnemonic; never use them for real stake"
        );
    }
    if let (Some(dir), Some(passwords)) = (&settings.keystores_dir, &settings.passwords) {
        load_keystores(&mut keyring, dir.clone(), passwords, settings, metrics)?;
    }
    metrics
        .loaded
        .set(i64::try_from(keyring.len()).unwrap_or(i64::MAX));
    Ok(keyring)
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
