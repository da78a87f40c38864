//! Keys loaded at startup, as an operator configures them.

use std::{fs, path::Path, time::Duration};

use restake_signer::{
    SecretBytes,
    keystore::{Kdf, Keystore},
};
use restaked::probe;

use crate::process::{NodeDir, restakectl};

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

#[test]
fn keys_list_shows_every_loaded_key_with_its_source() {
    let scratch = tempfile::tempdir().unwrap();
    let pubkeys = write_keystores(&scratch.path().join("keystores"), 2, "pw");
    fs::write(scratch.path().join("password.txt"), "pw").unwrap();
    let dir = NodeDir::new(&keys_config(scratch.path(), ""));
    let (_node, endpoints) = dir.start();
    let output = restakectl(endpoints.grpc, &["keys", "list", "--json"]);
    assert!(output.status.success(), "{output:?}");
    let keys: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let listed: Vec<&str> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["public_key"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = pubkeys.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(listed, expected);
    assert_eq!(keys[0]["scheme"], "bls12-381");
    assert_eq!(keys[0]["status"], "active");
    assert!(
        keys[0]["source"].as_str().unwrap().ends_with(".json"),
        "{keys}"
    );
    let table = String::from_utf8(restakectl(endpoints.grpc, &["keys", "list"]).stdout).unwrap();
    assert!(table.starts_with("SCHEME     PUBLIC KEY"), "{table}");
}

#[test]
fn an_imported_keystore_is_listed_at_once_and_loaded_again_after_a_restart() {
    let scratch = tempfile::tempdir().unwrap();
    let pubkeys = write_keystores(scratch.path(), 1, "import me");
    fs::write(scratch.path().join("pw.txt"), "import me\n").unwrap();
    fs::write(scratch.path().join("wrong.txt"), "not it\n").unwrap();
    let keystore = scratch.path().join("keystore-1.json");
    let dir = NodeDir::new("");
    let (mut node, endpoints) = dir.start();

    let args = |pw: &str| {
        vec![
            "keys".to_owned(),
            "import".to_owned(),
            keystore.display().to_string(),
            "--password-file".to_owned(),
            scratch.path().join(pw).display().to_string(),
        ]
    };
    let wrong: Vec<String> = args("wrong.txt");
    let output = restakectl(
        endpoints.grpc,
        &wrong.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("password"),
        "{output:?}"
    );

    let right: Vec<String> = args("pw.txt");
    let output = restakectl(
        endpoints.grpc,
        &right.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!("imported {}\n", pubkeys[0])
    );
    let output = restakectl(
        endpoints.grpc,
        &right.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .contains("already loaded")
    );

    let saved = dir
        .data_dir()
        .join("imported-keystores/passwords")
        .join(format!("{}.txt", pubkeys[0]));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(&saved).unwrap().permissions().mode() & 0o777,
        0o600
    );

    node.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(node.wait_exit(Duration::from_secs(5)).code(), Some(0));
    let (_node, endpoints) = dir.start();
    let keys: serde_json::Value =
        serde_json::from_slice(&restakectl(endpoints.grpc, &["keys", "list", "--json"]).stdout)
            .unwrap();
    assert_eq!(keys[0]["public_key"], pubkeys[0].as_str(), "{keys}");
}

#[test]
fn dev_keys_are_refused_outside_dev_mode_and_added_in_it() {
    let dir = NodeDir::new("");
    let (_node, endpoints) = dir.start();
    let output = restakectl(endpoints.grpc, &["keys", "add-dev", "--count", "2"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--dev"),
        "{output:?}"
    );

    let dev = NodeDir::new("");
    let node = dev.spawn_with("dev.log", &["--dev"]);
    let endpoints = node.wait_ready(&dev.data_dir());
    let before: serde_json::Value =
        serde_json::from_slice(&restakectl(endpoints.grpc, &["keys", "list", "--json"]).stdout)
            .unwrap();
    let before = before.as_array().unwrap();
    let bls = before.iter().filter(|k| k["scheme"] == "bls12-381").count();
    let ecdsa: Vec<_> = before
        .iter()
        .filter(|k| k["scheme"] == "secp256k1")
        .collect();
    assert_eq!(
        (before.len(), bls),
        (6, 4),
        "--dev loads four BLS keys, one ECDSA key and one BN254 key"
    );
    assert_eq!(
        ecdsa[0]["public_key"].as_str().unwrap().to_lowercase(),
        "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
        "the ECDSA dev key is anvil's account 0, the dev pod's owner"
    );
    let output = restakectl(
        endpoints.grpc,
        &[
            "keys",
            "add-dev",
            "--count",
            "2",
            "--first-index",
            "10",
            "--json",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let added: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        added[0]["source"]
            .as_str()
            .unwrap()
            .contains("m/12381/3600/10/0/0"),
        "{added}"
    );
    let after: serde_json::Value =
        serde_json::from_slice(&restakectl(endpoints.grpc, &["keys", "list", "--json"]).stdout)
            .unwrap();
    assert_eq!(after.as_array().unwrap().len(), 8);
}

#[test]
fn keys_generate_derives_keystores_offline_that_the_node_loads() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("new-keys");
    fs::write(
        scratch.path().join("mnemonic.txt"),
        format!("{}\n", restake_signer::derive::DEV_MNEMONIC),
    )
    .unwrap();
    let output = std::process::Command::new(crate::process::restakectl_bin())
        .args([
            "keys",
            "generate",
            "--count",
            "2",
            "--first-index",
            "1",
            "--json",
            "--out",
        ])
        .arg(&out)
        .arg("--mnemonic-file")
        .arg(scratch.path().join("mnemonic.txt"))
        .env_clear()
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("NEW MNEMONIC"),
        "a recovered mnemonic is not shown"
    );
    let generated: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let expected: Vec<String> = (1..=2)
        .map(|i| {
            let secret = restake_signer::derive::dev_validator_secret(i);
            format!(
                "0x{}",
                hex::encode(
                    restake_signer::bls::PublicKey::from_secret(&secret)
                        .unwrap()
                        .to_bytes()
                )
            )
        })
        .collect();
    assert_eq!(generated["keys"][0]["path"], "m/12381/3600/1/0/0");
    assert_eq!(generated["keys"][0]["public_key"], expected[0].as_str());
    assert_eq!(generated["keys"][1]["public_key"], expected[1].as_str());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(out.join("password.txt"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );

    let config = format!(
        "signer.keystores_dir = {:?}\nsigner.password_file = {:?}\n",
        out,
        out.join("password.txt")
    );
    let dir = NodeDir::new(&config);
    let (_node, endpoints) = dir.start();
    let keys: serde_json::Value =
        serde_json::from_slice(&restakectl(endpoints.grpc, &["keys", "list", "--json"]).stdout)
            .unwrap();
    let mut listed: Vec<String> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["public_key"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    let mut expected = expected;
    expected.sort();
    assert_eq!(listed, expected);
}

#[test]
fn keys_generate_shows_a_new_mnemonic_once_and_refuses_to_overwrite() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("k");
    let run = || {
        std::process::Command::new(crate::process::restakectl_bin())
            .args(["keys", "generate", "--kdf", "pbkdf2", "--out"])
            .arg(&out)
            .env_clear()
            .output()
            .unwrap()
    };
    let output = run();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    let words = stderr
        .lines()
        .find(|l| l.split(' ').count() == 24)
        .expect("24 words on stderr");
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains(words),
        "the mnemonic never goes to stdout"
    );
    let keystore = restake_signer::keystore::Keystore::from_file(
        &out.join("keystore-m_12381_3600_0_0_0.json"),
    )
    .unwrap();
    let password = fs::read_to_string(out.join("password.txt")).unwrap();
    let secret = keystore.decrypt(&password).unwrap();
    let seed = restake_signer::derive::mnemonic_to_seed(words, "").unwrap();
    let derived =
        restake_signer::derive::derive_path(seed.as_ref(), &"m/12381/3600/0/0/0".parse().unwrap())
            .unwrap();
    assert!(secret == derived, "the keystore holds the mnemonic's key");
    let again = run();
    assert_eq!(
        again.status.code(),
        Some(66),
        "existing keystores are never overwritten: {again:?}"
    );
}

/// eigensdk-go `crypto/utils/test_data/ecdsa_keys/keys/1.ecdsa.key.json` at commit 3d840790 and
/// its password (public test data of EigenLayer's Go SDK).
const EIGENSDK_ECDSA_KEYSTORE: &str = r#"{"address":"36cacfc85697f462fd755995d2b689f458a0db64","crypto":{"cipher":"aes-128-ctr","ciphertext":"b3ea1639651eb83e3383b3b642e660c65c54b512b1f08a03d0d1ffc040ed8adb","cipherparams":{"iv":"2c67bf1eaf194bcfa6abf4d2352bef39"},"kdf":"scrypt","kdfparams":{"dklen":32,"n":262144,"p":1,"r":8,"salt":"413ddd05d7668c9b2a818e8af894aaaea3ceeee5f0c632f004481141d77f1967"},"mac":"226de9d821e506d05979a469139439467982e384e5bb4e09e13230c90817f8c9"},"id":"6db0cfb6-6438-43c0-a2f8-5dace3ab2cd2","version":3}"#;
const EIGENSDK_ECDSA_PASSWORD: &str = "TV/2%P?|_l[Dr*]Q8^d+";

#[test]
fn bn254_and_ecdsa_keystores_load_from_config() {
    let scratch = tempfile::tempdir().unwrap();
    let bn254_secret = SecretBytes::new([0x05; 32]);
    let bn254 = restake_signer::web3_keystore::Bn254Keystore::encrypt(
        &bn254_secret,
        "avs pw",
        Kdf::InsecureFastScrypt,
    )
    .unwrap();
    fs::write(
        scratch.path().join("operator.bls.key.json"),
        bn254.to_json(),
    )
    .unwrap();
    fs::write(scratch.path().join("bls.pw"), "avs pw\n").unwrap();
    fs::write(
        scratch.path().join("operator.ecdsa.key.json"),
        EIGENSDK_ECDSA_KEYSTORE,
    )
    .unwrap();
    fs::write(
        scratch.path().join("ecdsa.pw"),
        format!("{EIGENSDK_ECDSA_PASSWORD}\n"),
    )
    .unwrap();
    let config = format!(
        "signer.bn254.keystore = {:?}\nsigner.bn254.password_file = {:?}\nsigner.ecdsa.keystore = {:?}\nsigner.ecdsa.password_file = {:?}\n",
        scratch.path().join("operator.bls.key.json"),
        scratch.path().join("bls.pw"),
        scratch.path().join("operator.ecdsa.key.json"),
        scratch.path().join("ecdsa.pw"),
    );
    let dir = NodeDir::new(&config);
    let (_node, endpoints) = dir.start();
    let keys: serde_json::Value =
        serde_json::from_slice(&restakectl(endpoints.grpc, &["keys", "list", "--json"]).stdout)
            .unwrap();
    let schemes: Vec<(&str, &str)> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["scheme"].as_str().unwrap(),
                k["public_key"].as_str().unwrap(),
            )
        })
        .collect();
    let g1 = *bn254.declared_public_key().unwrap();
    assert!(
        schemes.contains(&(
            "bn254",
            format!("0x{}", hex::encode(g1.to_bytes())).as_str()
        )),
        "{keys}"
    );
    assert!(
        schemes.contains(&("secp256k1", "0x36cacfc85697f462fd755995d2b689f458a0db64")),
        "{keys}"
    );
}

#[test]
fn a_bn254_keystore_with_the_wrong_password_stops_startup() {
    let scratch = tempfile::tempdir().unwrap();
    let bn254 = restake_signer::web3_keystore::Bn254Keystore::encrypt(
        &SecretBytes::new([0x05; 32]),
        "right",
        Kdf::InsecureFastScrypt,
    )
    .unwrap();
    fs::write(scratch.path().join("op.bls.key.json"), bn254.to_json()).unwrap();
    fs::write(scratch.path().join("bls.pw"), "wrong").unwrap();
    let config = format!(
        "signer.bn254.keystore = {:?}\nsigner.bn254.password_file = {:?}\n",
        scratch.path().join("op.bls.key.json"),
        scratch.path().join("bls.pw"),
    );
    let dir = NodeDir::new(&config);
    let mut node = dir.spawn("restaked.log");
    assert_eq!(
        node.wait_exit(Duration::from_secs(20)).code(),
        Some(78),
        "{}",
        node.logs()
    );
    assert!(node.logs().contains("op.bls.key.json"), "{}", node.logs());
}
