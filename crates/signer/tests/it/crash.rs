//! Crash safety: a child process signs under load and is killed with SIGKILL at arbitrary
//! points; after every kill, each signature it released must be recorded, and no conflict key
//! may ever have had two different messages released.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
    thread,
    time::Duration,
};

use nix::{
    sys::signal::{Signal, kill},
    unistd::Pid,
};
use rusqlite::Connection;
use sha2::{Digest, Sha256};

use crate::child::{CHILD_ENV, CONFLICT_KEYS_ENV, run_child};

#[test]
#[ignore = "not a test on its own: the child process that crash::every_released_signature_is_recorded_across_sigkills and exhaustion::a_full_disk_stops_signing_with_a_clear_reason (run by .ci/run) spawn as `it --exact crash::child_entry --ignored` with RESTAKED_SIGNER_CHILD=<db>; they run it, so it passes in .ci/run through them"]
fn child_entry() {
    let db = std::env::var(CHILD_ENV).expect("child mode needs the db path");
    let conflict_keys = std::env::var(CONFLICT_KEYS_ENV)
        .map_or(64, |n| n.parse().expect("a number of conflict keys"));
    run_child(Path::new(&db), 2, std::process::id() as u64, conflict_keys);
}

/// Spawns the child on `db`, returning it with its stdout. With `file_size_kib`, the child runs
/// under `ulimit -f` with SIGXFSZ ignored (both inherited through exec), so writing past the
/// limit fails with EFBIG like a full disk instead of killing the process.
pub fn spawn_child(db: &Path, file_size_kib: Option<u64>) -> std::process::Child {
    let exe = std::env::current_exe().unwrap();
    let args = [
        "--exact",
        "crash::child_entry",
        "--ignored",
        "--nocapture",
        "--test-threads",
        "1",
    ];
    let mut command = match file_size_kib {
        None => Command::new(&exe),
        Some(kib) => {
            let mut sh = Command::new("bash");
            sh.args([
                "-c",
                &format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\""),
            ])
            .arg(&exe);
            sh
        }
    };
    if file_size_kib.is_some() {
        // Every request a new record, so the store grows until it hits the limit.
        command.env(CONFLICT_KEYS_ENV, u64::MAX.to_string());
    }
    command
        .args(args)
        .env(CHILD_ENV, db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command.spawn().unwrap()
}

/// Released signatures, from the child's complete output lines: (conflict, message, signature).
pub fn released_lines(output: impl std::io::Read) -> Vec<(String, String, String)> {
    BufReader::new(output)
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| {
            let mut parts = line.split(' ');
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(c), Some(m), Some(s), None) if c != "ERROR" && s.len() == 192 => {
                    Some((c.to_owned(), m.to_owned(), s.to_owned()))
                }
                _ => None,
            }
        })
        .collect()
}

#[test]
fn every_released_signature_is_recorded_across_sigkills() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("restaked.db");
    let mut ever_released: HashMap<String, String> = HashMap::new();
    let mut total = 0usize;
    for iteration in 0..25u64 {
        let mut child = spawn_child(&db, None);
        let stdout = child.stdout.take().unwrap();
        let reader = thread::spawn(move || released_lines(stdout));
        // Kill at a different point each time: 30..250 ms into the run.
        thread::sleep(Duration::from_millis(30 + (iteration * 97) % 220));
        kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
        child.wait().unwrap();
        let released = reader.join().unwrap();
        total += released.len();

        let conn = Connection::open(&db).unwrap();
        let integrity: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(integrity, "ok", "iteration {iteration}");
        for (conflict, message, signature) in &released {
            let (hash, recorded_signature): (Vec<u8>, Vec<u8>) = conn
                .query_row(
                    "SELECT message_hash, signature FROM protection_messages WHERE domain = 'crash' AND conflict_key = ?1",
                    [hex::decode(conflict).unwrap()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap_or_else(|e| panic!("iteration {iteration}: released {conflict}/{message} is not recorded: {e}"));
            assert_eq!(
                hash,
                Sha256::digest(hex::decode(message).unwrap()).to_vec(),
                "iteration {iteration}"
            );
            assert_eq!(
                hex::encode(recorded_signature),
                *signature,
                "iteration {iteration}"
            );
            let first = ever_released
                .entry(conflict.clone())
                .or_insert_with(|| message.clone());
            assert_eq!(
                first, message,
                "two messages released for conflict key {conflict}"
            );
        }
    }
    assert!(
        total > 0,
        "the child never released a signature: the test would prove nothing"
    );
}
