//! `decrypt_all`: many keystores on several threads.

use std::sync::Mutex;

use super::{cheap_keystore, write_private};
use crate::keystore::{KeystoreError, PasswordSource, decrypt_all, discover};

#[test]
fn decrypt_all_keeps_entry_order_and_isolates_a_bad_entry() {
    let root = tempfile::tempdir().unwrap();
    let passwords = root.path().join("passwords");
    const COUNT: u8 = 20;
    const BAD: usize = 7;
    for seed in 0..COUNT {
        let name = format!("key{seed:02}");
        write_private(
            &root.path().join(format!("keys/{name}.json")),
            cheap_keystore(seed, &name).to_json_pretty(),
        );
        let password = if usize::from(seed) == BAD {
            "not it".to_owned()
        } else {
            name
        };
        write_private(&passwords.join(format!("key{seed:02}.txt")), password);
    }
    let entries = discover(root.path(), PasswordSource::PasswordsDir(passwords)).unwrap();
    assert_eq!(entries.len(), usize::from(COUNT));

    let progress = Mutex::new(Vec::new());
    let loaded = decrypt_all(&entries, 4, &|done, total| {
        progress.lock().unwrap().push((done, total))
    });

    assert_eq!(loaded.len(), entries.len());
    for (index, (loaded, entry)) in loaded.iter().zip(&entries).enumerate() {
        assert_eq!(loaded.keystore_path, entry.keystore_path());
        if index == BAD {
            assert!(
                matches!(loaded.result, Err(KeystoreError::WrongPassword { .. })),
                "{:?}",
                loaded.result
            );
            continue;
        }
        let seed = u8::try_from(index).unwrap();
        let key = loaded.result.as_ref().unwrap();
        assert_eq!(key.secret.expose(), &[seed; 32]);
        assert_eq!(key.pubkey, Some([seed; 48]));
        assert_eq!(key.path, format!("m/12381/3600/{seed}/0/0"));
    }

    let mut progress = progress.into_inner().unwrap();
    progress.sort_unstable();
    let expected: Vec<_> = (1..=usize::from(COUNT))
        .map(|done| (done, usize::from(COUNT)))
        .collect();
    assert_eq!(progress, expected);
}

#[test]
fn decrypt_all_with_zero_threads_still_runs() {
    let root = tempfile::tempdir().unwrap();
    let shared = root.path().join("pw.txt");
    write_private(
        &root.path().join("keys/a.json"),
        cheap_keystore(1, "pw").to_json_pretty(),
    );
    write_private(&shared, "pw\n");
    let entries = discover(root.path(), PasswordSource::SharedFile(shared)).unwrap();
    let loaded = decrypt_all(&entries, 0, &|_, _| {});
    assert_eq!(loaded.len(), 1);
    assert!(loaded[0].result.is_ok());
}

#[test]
fn decrypt_all_of_nothing_is_empty() {
    let loaded = decrypt_all(&[], 8, &|_, _| panic!("no progress without entries"));
    assert!(loaded.is_empty());
}
