//! Resource exhaustion: a store that cannot grow must stop the signer, never let it sign
//! without a record.

use std::{io::Read, time::Duration};

use rusqlite::Connection;

use crate::crash::{released_lines, spawn_child};

#[test]
fn a_full_disk_stops_signing_with_a_clear_reason() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("restaked.db");
    // 512 KiB: room for the schema and a few thousand records, then every write fails.
    let mut child = spawn_child(&db, Some(512));
    let mut output = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        output.read_to_string(&mut text).unwrap();
        text
    });
    let status = wait_with_timeout(&mut child, Duration::from_secs(120));
    let text = reader.join().unwrap();
    let tail = &text[text.len().saturating_sub(2000)..];
    assert_eq!(
        status.code(),
        Some(3),
        "the child must stop on the store error:\n{tail}"
    );
    let error = text
        .lines()
        .find(|l| l.starts_with("ERROR"))
        .expect("an ERROR line");
    assert!(
        error.starts_with("ERROR store_unavailable refused, the protection store is unavailable"),
        "{error}"
    );
    let released = released_lines(text.as_bytes());
    assert!(
        !released.is_empty(),
        "the child signed nothing before the limit: {tail}"
    );
    // Every signature that left the signer is in the store that hit the limit.
    let conn = Connection::open(&db).unwrap();
    for (conflict, _, signature) in &released {
        let recorded: Vec<u8> = conn
            .query_row(
                "SELECT signature FROM protection_messages WHERE domain = 'crash' AND conflict_key = ?1",
                [hex::decode(conflict).unwrap()],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("released signature for {conflict} not recorded: {e}"));
        assert_eq!(hex::encode(recorded), *signature);
    }
}

fn wait_with_timeout(
    child: &mut std::process::Child,
    timeout: Duration,
) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("child did not stop within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
