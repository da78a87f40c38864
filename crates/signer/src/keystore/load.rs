//! Decrypting many keystores in parallel: how the node loads thousands of keys at start-up.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use uuid::Uuid;

use super::password::normalize_password;
use super::{KeystoreEntry, KeystoreError};
use crate::SecretBytes;

/// A decrypted keystore: the secret and what the keystore declares about it.
#[derive(Debug)]
pub struct DecryptedKeystore {
    /// The BLS12-381 secret key.
    pub secret: SecretBytes,
    /// The `pubkey` field as written (`None` if empty). Not yet checked against `secret`.
    pub pubkey: Option<[u8; 48]>,
    /// The EIP-2334 derivation path field; may be empty.
    pub path: String,
    /// The keystore's UUID.
    pub uuid: Uuid,
}

/// The outcome for one [`KeystoreEntry`].
#[derive(Debug)]
pub struct LoadedKeystore {
    /// The keystore file.
    pub keystore_path: PathBuf,
    /// The decrypted key, or why this keystore could not be loaded.
    pub result: Result<DecryptedKeystore, KeystoreError>,
}

/// Decrypts every entry on `threads` threads (the calling thread is one of them; clamped to at
/// least 1 and at most the number of entries).
///
/// Results are in the order of `entries`, one per entry; an entry's failure (including one
/// found by [`discover`](super::discover)) is its result and does not stop the others.
/// `on_progress(done, total)` is called from the worker threads after each entry; calls from
/// different threads may arrive slightly out of order.
///
/// Each thread decrypting a standard scrypt keystore needs 256 MiB (up to 1 GiB for the
/// largest parameters accepted), so choose `threads` with the machine's memory in mind.
pub fn decrypt_all(
    entries: &[KeystoreEntry],
    threads: usize,
    on_progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<LoadedKeystore> {
    let total = entries.len();
    let threads = threads.clamp(1, total.max(1));
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);

    // Each worker claims the next unclaimed index until none are left, so a slow keystore
    // holds up one thread, not a whole pre-assigned chunk.
    let work = || {
        let mut results = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(entry) = entries.get(index) else {
                break;
            };
            results.push((index, load(entry)));
            on_progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
        }
        results
    };

    let mut results = thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads)
            .filter_map(|i| {
                thread::Builder::new()
                    .name(format!("keystore-decrypt-{i}"))
                    .spawn_scoped(scope, work)
                    .inspect_err(|e| {
                        // Fewer threads is slower, not wrong: the others take up the work.
                        tracing::warn!("cannot start keystore decryption thread {i}: {e}");
                    })
                    .ok()
            })
            .collect();
        let mut results = work();
        for helper in helpers {
            match helper.join() {
                Ok(more) => results.extend(more),
                // A worker panic is a bug; re-raise it rather than return partial results.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    });
    // Every index was claimed exactly once, so sorting restores the entries' order.
    results.sort_unstable_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, loaded)| loaded).collect()
}

/// Decrypts one entry.
fn load(entry: &KeystoreEntry) -> LoadedKeystore {
    let result = match entry.state() {
        Err(error) => Err(error.clone()),
        Ok(ready) => {
            let password = normalize_password(ready.password.as_str());
            ready
                .keystore
                .decrypt_normalized(&password, Some(entry.password_path()))
                .map(|secret| DecryptedKeystore {
                    secret,
                    pubkey: ready.keystore.pubkey().copied(),
                    path: ready.keystore.path().to_owned(),
                    uuid: ready.keystore.uuid(),
                })
        }
    };
    if let Err(error) = &result {
        tracing::debug!(keystore = %entry.keystore_path().display(), "keystore not loaded: {error}");
    }
    LoadedKeystore {
        keystore_path: entry.keystore_path().to_path_buf(),
        result,
    }
}
