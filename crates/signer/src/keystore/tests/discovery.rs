//! Finding keystores and passwords in the layouts operators already have.

use std::path::Path;

use zeroize::Zeroizing;

use super::{assert_names, cheap_keystore, write_private};
use crate::keystore::password::password_from_bytes;
use crate::keystore::{FileRole, KeystoreError, PasswordSource, discover};

/// Writes a cheap keystore for `seed` with `password` to `path`.
fn write_keystore(path: &Path, seed: u8, password: &str) {
    write_private(path, cheap_keystore(seed, password).to_json_pretty());
}

/// The file names of the entries' keystores, in order.
fn keystore_names(entries: &[crate::keystore::KeystoreEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|entry| entry.keystore_path().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn lighthouse_layout_pairs_validator_directories_with_secrets() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("lighthouse");
    let secrets = root.path().join("secrets");
    for (seed, name) in [(2u8, "0xbbbb"), (1, "0xaaaa")] {
        write_keystore(
            &data
                .join("validators")
                .join(name)
                .join("voting-keystore.json"),
            seed,
            name,
        );
        write_private(&secrets.join(name), name);
    }
    // What else Lighthouse keeps in validators/ is not a keystore.
    write_private(
        &data.join("validators/slashing_protection.sqlite"),
        "sqlite",
    );
    write_private(&data.join("validators/validator_definitions.yml"), "---");
    std::fs::create_dir_all(data.join("validators/0xcccc")).unwrap();

    let entries = discover(&data, PasswordSource::SecretsDir(secrets.clone())).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[0].keystore_path(),
        data.join("validators/0xaaaa/voting-keystore.json")
    );
    assert_eq!(entries[0].password_path(), secrets.join("0xaaaa"));
    assert_eq!(entries[1].password_path(), secrets.join("0xbbbb"));
    for (entry, seed) in entries.iter().zip([1u8, 2]) {
        assert!(entry.error().is_none(), "{:?}", entry.error());
        assert!(entry.warnings().is_empty(), "{:?}", entry.warnings());
        assert_eq!(entry.keystore().unwrap().pubkey(), Some(&[seed; 48]));
    }
    let loaded = crate::keystore::decrypt_all(&entries, 2, &|_, _| {});
    assert_eq!(loaded[1].result.as_ref().unwrap().secret.expose(), &[2; 32]);
}

#[test]
fn keys_directory_uses_txt_passwords_with_the_same_stem() {
    let root = tempfile::tempdir().unwrap();
    let passwords = root.path().join("passwords");
    for (seed, stem) in [
        (1u8, "keystore-m_12381_3600_0_0_0"),
        (2, "keystore-m_12381_3600_1_0_0"),
    ] {
        write_keystore(
            &root.path().join("keys").join(format!("{stem}.json")),
            seed,
            stem,
        );
        write_private(&passwords.join(format!("{stem}.txt")), format!("{stem}\n"));
    }
    // keys/ takes precedence over top-level JSON files.
    write_private(&root.path().join("stray.json"), "{}");

    let entries = discover(root.path(), PasswordSource::PasswordsDir(passwords.clone())).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[0].password_path(),
        passwords.join("keystore-m_12381_3600_0_0_0.txt")
    );
    let loaded = crate::keystore::decrypt_all(&entries, 2, &|_, _| {});
    for (loaded, seed) in loaded.iter().zip([1u8, 2]) {
        assert_eq!(loaded.result.as_ref().unwrap().secret.expose(), &[seed; 32]);
    }
}

#[test]
fn flat_layout_reads_json_files_and_skips_deposit_data_and_hidden_files() {
    let root = tempfile::tempdir().unwrap();
    let passwords = root.path().join("passwords");
    let keystores = root.path().join("web3signer");
    write_keystore(&keystores.join("b.json"), 2, "b");
    write_keystore(&keystores.join("a.json"), 1, "a");
    write_private(&keystores.join("deposit_data-1690000000.json"), "[]");
    write_private(&keystores.join(".a.json.swp"), "x");
    write_private(&keystores.join(".hidden.json"), "x");
    write_private(&keystores.join("notes.txt"), "x");
    std::fs::create_dir_all(keystores.join("dir.json")).unwrap();
    write_private(&passwords.join("a.txt"), "a");
    write_private(&passwords.join("b.txt"), "b");

    let entries = discover(&keystores, PasswordSource::PasswordsDir(passwords)).unwrap();
    let names = keystore_names(&entries);
    assert_eq!(
        names,
        [keystores.join("a.json"), keystores.join("b.json")]
            .map(|p| p.to_string_lossy().into_owned())
    );
    assert!(entries.iter().all(|entry| entry.error().is_none()));
}

#[test]
fn shared_password_file_serves_every_keystore() {
    let root = tempfile::tempdir().unwrap();
    let keys = root.path().join("validator_keys");
    let shared = root.path().join("password.txt");
    for seed in 1..=3u8 {
        write_keystore(
            &keys.join(format!("keystore-{seed}.json")),
            seed,
            "one password",
        );
    }
    // Windows editors end the line with \r\n; exactly one line ending is removed.
    write_private(&shared, "one password\r\n");

    let entries = discover(&keys, PasswordSource::SharedFile(shared.clone())).unwrap();
    assert_eq!(entries.len(), 3);
    assert!(entries.iter().all(|entry| entry.password_path() == shared));
    let loaded = crate::keystore::decrypt_all(&entries, 3, &|_, _| {});
    assert!(
        loaded.iter().all(|loaded| loaded.result.is_ok()),
        "{loaded:?}"
    );
}

#[test]
fn missing_shared_password_file_fails_discovery_naming_it() {
    let root = tempfile::tempdir().unwrap();
    write_keystore(&root.path().join("k.json"), 1, "pw");
    let shared = root.path().join("absent.txt");
    let error = discover(root.path(), PasswordSource::SharedFile(shared.clone())).unwrap_err();
    assert!(
        matches!(&error, KeystoreError::Io { path, .. } if *path == shared),
        "{error:?}"
    );
}

#[test]
fn missing_password_file_is_an_entry_error_naming_both_files() {
    let root = tempfile::tempdir().unwrap();
    let passwords = root.path().join("passwords");
    let keys = root.path().join("keys");
    write_keystore(&keys.join("has.json"), 1, "pw");
    write_keystore(&keys.join("lacks.json"), 2, "pw");
    write_private(&passwords.join("has.txt"), "pw");

    let entries = discover(root.path(), PasswordSource::PasswordsDir(passwords.clone())).unwrap();
    assert!(entries[0].error().is_none());
    let error = entries[1].error().unwrap();
    assert!(
        matches!(error, KeystoreError::MissingPassword { keystore, password_file }
            if *keystore == keys.join("lacks.json") && *password_file == passwords.join("lacks.txt")),
        "{error:?}"
    );
    assert_names(error, &keys.join("lacks.json"));
    assert_names(error, &passwords.join("lacks.txt"));

    // The entry error comes back from decrypt_all, and the good entry still loads.
    let loaded = crate::keystore::decrypt_all(&entries, 2, &|_, _| {});
    assert!(loaded[0].result.is_ok());
    assert!(matches!(
        loaded[1].result,
        Err(KeystoreError::MissingPassword { .. })
    ));
}

#[test]
fn invalid_keystore_is_an_entry_error_not_a_discovery_failure() {
    let root = tempfile::tempdir().unwrap();
    let shared = root.path().join("pw.txt");
    write_private(&root.path().join("keys/broken.json"), "{\"crypto\":");
    write_keystore(&root.path().join("keys/good.json"), 1, "pw");
    write_private(&shared, "pw");
    let entries = discover(root.path(), PasswordSource::SharedFile(shared)).unwrap();
    assert!(matches!(
        entries[0].error(),
        Some(KeystoreError::Json { .. })
    ));
    assert!(entries[1].error().is_none());
}

#[test]
fn non_utf8_password_file_is_an_entry_error() {
    let root = tempfile::tempdir().unwrap();
    let passwords = root.path().join("passwords");
    write_keystore(&root.path().join("keys/k.json"), 1, "pw");
    write_private(&passwords.join("k.txt"), [0xff, 0xfe]);
    let entries = discover(root.path(), PasswordSource::PasswordsDir(passwords.clone())).unwrap();
    let error = entries[0].error().unwrap();
    assert!(
        matches!(error, KeystoreError::InvalidPasswordFile { path } if *path == passwords.join("k.txt")),
        "{error:?}"
    );
}

#[test]
fn wrong_password_from_a_file_names_the_password_file() {
    let root = tempfile::tempdir().unwrap();
    let passwords = root.path().join("passwords");
    write_keystore(&root.path().join("keys/k.json"), 1, "right");
    write_private(&passwords.join("k.txt"), "wrong\n");
    let entries = discover(root.path(), PasswordSource::PasswordsDir(passwords.clone())).unwrap();
    let loaded = crate::keystore::decrypt_all(&entries, 1, &|_, _| {});
    let error = loaded[0].result.as_ref().unwrap_err();
    assert!(
        matches!(error, KeystoreError::WrongPassword { .. }),
        "{error:?}"
    );
    assert_names(error, &root.path().join("keys/k.json"));
    assert_names(error, &passwords.join("k.txt"));
}

#[cfg(unix)]
#[test]
fn loose_permissions_are_warned_and_returned() {
    use std::os::unix::fs::PermissionsExt;

    let root = tempfile::tempdir().unwrap();
    let passwords = root.path().join("passwords");
    let keys = root.path().join("keys");
    write_keystore(&keys.join("open.json"), 1, "pw");
    write_keystore(&keys.join("tight.json"), 2, "pw");
    write_private(&passwords.join("open.txt"), "pw");
    write_private(&passwords.join("tight.txt"), "pw");
    let chmod = |path: &Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    chmod(&keys.join("open.json"), 0o644);
    chmod(&passwords.join("open.txt"), 0o620);

    let entries = discover(root.path(), PasswordSource::PasswordsDir(passwords.clone())).unwrap();
    let warnings = entries[0].warnings();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert_eq!(warnings[0].role, FileRole::Keystore);
    assert_eq!(warnings[0].path, keys.join("open.json"));
    assert_eq!(warnings[0].mode, 0o644);
    assert_eq!(warnings[1].role, FileRole::Password);
    assert_eq!(warnings[1].mode, 0o620);
    assert!(
        warnings[1].to_string().contains("chmod 600"),
        "{}",
        warnings[1]
    );
    assert!(
        entries[1].warnings().is_empty(),
        "{:?}",
        entries[1].warnings()
    );
    // A warning, not a refusal: the key still loads.
    assert!(entries[0].error().is_none());
}

#[cfg(unix)]
#[test]
fn loose_shared_password_file_is_warned_in_every_entry() {
    use std::os::unix::fs::PermissionsExt;

    let root = tempfile::tempdir().unwrap();
    let shared = root.path().join("pw.txt");
    write_keystore(&root.path().join("keys/a.json"), 1, "pw");
    write_keystore(&root.path().join("keys/b.json"), 2, "pw");
    write_private(&shared, "pw");
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o604)).unwrap();
    let entries = discover(root.path(), PasswordSource::SharedFile(shared.clone())).unwrap();
    for entry in &entries {
        assert_eq!(entry.warnings().len(), 1);
        assert_eq!(entry.warnings()[0].path, shared);
    }
}

#[test]
fn directory_without_keystores_is_an_error_explaining_the_layouts() {
    let root = tempfile::tempdir().unwrap();
    write_private(&root.path().join("readme.txt"), "x");
    let error = discover(
        root.path(),
        PasswordSource::SharedFile(root.path().join("pw")),
    )
    .unwrap_err();
    assert!(
        matches!(error, KeystoreError::NoKeystoresFound { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("voting-keystore.json"),
        "{error}"
    );
}

#[test]
fn missing_directory_is_an_io_error_naming_it() {
    let root = tempfile::tempdir().unwrap();
    let absent = root.path().join("absent");
    let error = discover(&absent, PasswordSource::SharedFile(root.path().join("pw"))).unwrap_err();
    assert!(
        matches!(&error, KeystoreError::Io { path, .. } if *path == absent),
        "{error:?}"
    );
}

#[test]
fn password_files_lose_exactly_one_trailing_newline() {
    let read = |bytes: &[u8]| {
        password_from_bytes(Zeroizing::new(bytes.to_vec()))
            .map(|password| password.as_str().to_owned())
    };
    assert_eq!(read(b"pw").as_deref(), Some("pw"));
    assert_eq!(read(b"pw\n").as_deref(), Some("pw"));
    assert_eq!(read(b"pw\r\n").as_deref(), Some("pw"));
    assert_eq!(read(b"pw\n\n").as_deref(), Some("pw\n"));
    assert_eq!(read(b"pw \n").as_deref(), Some("pw "));
    assert_eq!(read(b" pw\r").as_deref(), Some(" pw\r"));
    assert_eq!(read(b"\n").as_deref(), Some(""));
    assert_eq!(read(b"").as_deref(), Some(""));
    assert_eq!(read(&[0xff]), None);
}
