//! A child process that signs under load: the test binary re-executes itself with
//! `RESTAKED_SIGNER_CHILD` set, and this code runs instead of the tests.

use std::{io::Write, path::Path, time::Duration};

use restake_signer::{
    Keyring, ProtectedSigner, SecretBytes, SigningRequest, protection::ProtectionDb,
};

pub const CHILD_ENV: &str = "RESTAKED_SIGNER_CHILD";
/// Set (to a number) to draw conflict keys from that many values instead of 64.
pub const CONFLICT_KEYS_ENV: &str = "RESTAKED_SIGNER_CHILD_CONFLICT_KEYS";

pub fn test_secret() -> SecretBytes {
    let mut bytes = [0x42; 32];
    bytes[0] = 0x01;
    SecretBytes::new(bytes)
}

/// Signs forever (or until the store fails), from `threads` threads, printing one line per
/// released signature: `<conflict key hex> <message hex> <signature hex>`. Conflict keys are
/// drawn from `conflict_keys` values: a small set makes most requests collide with history, a
/// large one makes nearly every request a new record.
pub fn run_child(db_path: &Path, threads: usize, seed: u64, conflict_keys: u64) -> ! {
    let db = ProtectionDb::open(db_path, Duration::from_secs(5)).expect("open protection db");
    let mut keyring = Keyring::default();
    let key = keyring
        .add_bls(&test_secret(), None, "crash test")
        .expect("key");
    let signer =
        ProtectedSigner::start(db, keyring, &prometheus::Registry::new()).expect("start signer");
    let out = std::sync::Mutex::new(std::io::stdout());
    std::thread::scope(|s| {
        for t in 0..threads {
            let signer = signer.clone();
            let key = key.clone();
            let out = &out;
            s.spawn(move || {
                let mut state = seed ^ (t as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                loop {
                    // xorshift: a different message stream per thread and run.
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let conflict = (state % conflict_keys).to_be_bytes();
                    let message = state.to_be_bytes();
                    let request = SigningRequest {
                        key: key.clone(),
                        domain: "crash".to_owned(),
                        conflict_key: conflict.to_vec(),
                        ordering: None,
                        message: message.to_vec(),
                    };
                    match signer.sign_blocking(request) {
                        Ok(signed) => {
                            let mut out = out.lock().unwrap_or_else(|p| p.into_inner());
                            let _ = writeln!(
                                out,
                                "{} {} {}",
                                hex::encode(conflict),
                                hex::encode(message),
                                hex::encode(&signed.signature)
                            );
                            let _ = out.flush();
                        }
                        Err(e) if e.reason() == "conflicting_message" => {}
                        Err(e) => {
                            let mut out = out.lock().unwrap_or_else(|p| p.into_inner());
                            let _ = writeln!(out, "ERROR {} {e}", e.reason());
                            let _ = out.flush();
                            std::process::exit(3);
                        }
                    }
                }
            });
        }
    });
    std::process::exit(0)
}
