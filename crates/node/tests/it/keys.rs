//! Keys loaded at startup, as an operator configures them.

use std::{fs, path::Path, time::Duration};

use restake_signer::{
    SecretBytes,
    keystore::{Kdf, Keystore},
};
use restaked::probe;

use crate::process::NodeDir;

/// Writes `count` cheap keystores (flat layout) with one shared password; returns their pubkeys.
fn write_keystores(dir: &Path, count: u8, password: &str) -> Vec<String> {
    fs::create_dir_all(dir).unwrap();
    (1..=count)
        .map(|i| {
            let mut bytes = [i; 32];
            bytes[0] = 0x01;
            let secret = SecretBytes::new(bytes);
            let pubkey = restake_signer::bls::PublicKey::from_secret(&secret)
                .unwrap()
                .to_bytes();
            let keystore =
                Keystore::encrypt(&secret, password, &pubkey, "", Kdf::InsecureFastScrypt).unwrap();
            fs::write(
                dir.join(format!("keystore-{i}.json")),
                keystore.to_json_pretty(),
            )
            .unwrap();
            format!("0x{}", hex::encode(pubkey))
        })
        .collect()
}

fn keys_config(dir: &Path, extra: &str) -> String {
    format!(
        "signer.keystores_dir = {:?}\nsigner.password_file = {:?}\n{extra}",
        dir.join("keystores"),
        dir.join("password.txt")
    )
}

#[test]
fn loads_every_keystore_and_reports_them_ready() {
    let scratch = tempfile::tempdir().unwrap();
    write_keystores(&scratch.path().join("keystores"), 3, "correct horse");
    fs::write(scratch.path().join("password.txt"), "correct horse\n").unwrap();
    let dir = NodeDir::new(&keys_config(scratch.path(), ""));
    let (node, endpoints) = dir.start();
    let ready = probe::http_get(endpoints.http, "/readyz", Duration::from_secs(2)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&ready.body).unwrap();
    assert_eq!(
        json["components"]["keys"]["message"], "3 key(s) loaded",
        "{json}"
    );
    let metrics = probe::http_get(endpoints.http, "/metrics", Duration::from_secs(2))
        .unwrap()
        .body;
    assert!(
        metrics.contains("restaked_signer_keys_loaded 3"),
        "{metrics}"
    );
    assert!(node.logs().contains("keystores loaded"), "{}", node.logs());
}

#[test]
fn a_bad_keystore_stops_startup_naming_the_file_unless_told_to_skip() {
    let scratch = tempfile::tempdir().unwrap();
    let keystores = scratch.path().join("keystores");
    write_keystores(&keystores, 2, "right");
    fs::write(scratch.path().join("password.txt"), "right\n").unwrap();
    let truncated = fs::read_to_string(keystores.join("keystore-2.json")).unwrap();
    fs::write(
        keystores.join("keystore-2.json"),
        &truncated[..truncated.len() / 2],
    )
    .unwrap();

    let dir = NodeDir::new(&keys_config(scratch.path(), ""));
    let mut node = dir.spawn("restaked.log");
    assert_eq!(
        node.wait_exit(Duration::from_secs(20)).code(),
        Some(78),
        "{}",
        node.logs()
    );
    let logs = node.logs();
    assert!(
        logs.contains("1 of 2 keystore(s) could not be loaded"),
        "{logs}"
    );
    assert!(logs.contains("keystore-2.json"), "{logs}");

    let dir = NodeDir::new(&keys_config(
        scratch.path(),
        "signer.on_bad_keystore = \"skip\"",
    ));
    let (_node, endpoints) = dir.start();
    let metrics = probe::http_get(endpoints.http, "/metrics", Duration::from_secs(2))
        .unwrap()
        .body;
    assert!(
        metrics.contains("restaked_signer_keys_loaded 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("restaked_signer_keystore_errors_total 1"),
        "{metrics}"
    );
}

#[test]
fn a_wrong_password_names_the_keystore_and_the_password_file() {
    let scratch = tempfile::tempdir().unwrap();
    write_keystores(&scratch.path().join("keystores"), 1, "right");
    fs::write(scratch.path().join("password.txt"), "wrong\n").unwrap();
    let dir = NodeDir::new(&keys_config(scratch.path(), ""));
    let mut node = dir.spawn("restaked.log");
    assert_eq!(
        node.wait_exit(Duration::from_secs(20)).code(),
        Some(78),
        "{}",
        node.logs()
    );
    let logs = node.logs();
    assert!(logs.contains("keystore-1.json"), "{logs}");
    assert!(logs.contains("password.txt"), "{logs}");
}
