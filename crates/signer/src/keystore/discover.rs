//! Finding the keystores an operator already has, and the password for each.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::fs::{FileRole, PermissionWarning, check_permissions, read_capped};
use super::password::{Password, read_password_file};
use super::{Keystore, KeystoreError, json};

/// The keystore file inside each Lighthouse validator directory.
const LIGHTHOUSE_KEYSTORE: &str = "voting-keystore.json";
/// staking-deposit-cli writes `deposit_data-<timestamp>.json` next to its keystores; it is
/// not a keystore.
const DEPOSIT_DATA_PREFIX: &str = "deposit_data-";

/// Where the password of each keystore found by [`discover`] is read from.
///
/// Every keystore found has a *key name*: in the Lighthouse layout the name of its validator
/// directory (`0x<pubkey>`), in the flat layouts its file name without `.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// Lighthouse's secrets directory: the password is in `<dir>/<key name>` (no extension),
    /// for example `secrets/0xa1b2…`.
    SecretsDir(PathBuf),
    /// Teku/Web3Signer style: the password is in `<dir>/<key name>.txt`, for example
    /// `passwords/keystore-m_12381_3600_0_0_0.txt` for `keystore-m_12381_3600_0_0_0.json`.
    PasswordsDir(PathBuf),
    /// One password file shared by every keystore (what staking-deposit-cli produces).
    SharedFile(PathBuf),
}

/// A keystore found by [`discover`], read and validated, with its password; or the reason it
/// cannot be loaded. Decrypt entries with [`decrypt_all`](super::decrypt_all).
#[derive(Debug)]
pub struct KeystoreEntry {
    keystore_path: PathBuf,
    password_path: PathBuf,
    warnings: Vec<PermissionWarning>,
    state: Result<ReadyToDecrypt, KeystoreError>,
}

/// A validated keystore and its password.
#[derive(Debug)]
pub(crate) struct ReadyToDecrypt {
    pub(crate) keystore: Keystore,
    pub(crate) password: Arc<Password>,
}

impl KeystoreEntry {
    /// The keystore file.
    pub fn keystore_path(&self) -> &Path {
        &self.keystore_path
    }

    /// The password file assigned to it (which may not exist; see [`KeystoreEntry::error`]).
    pub fn password_path(&self) -> &Path {
        &self.password_path
    }

    /// Keystore or password files readable or writable by group or others. Already logged;
    /// returned so the node can count them. A shared password file appears in every entry.
    pub fn warnings(&self) -> &[PermissionWarning] {
        &self.warnings
    }

    /// The parsed keystore, unless reading it or its password failed.
    pub fn keystore(&self) -> Option<&Keystore> {
        self.state.as_ref().ok().map(|ready| &ready.keystore)
    }

    /// Why this entry cannot be decrypted (unreadable or invalid keystore, missing or
    /// unreadable password file), if so.
    pub fn error(&self) -> Option<&KeystoreError> {
        self.state.as_ref().err()
    }

    /// The keystore and password, or the error found during discovery.
    pub(crate) fn state(&self) -> Result<&ReadyToDecrypt, &KeystoreError> {
        self.state.as_ref()
    }
}

/// Finds every keystore under `dir`, reads and validates it, and reads its password. No key is
/// decrypted: that is [`decrypt_all`](super::decrypt_all)'s job.
///
/// The layout is chosen from what `dir` contains, first match wins:
///
/// 1. **Lighthouse**, if `dir/validators/` is a directory: each subdirectory of it that
///    contains `voting-keystore.json` is one keystore; its key name is the subdirectory's name
///    (`0x<pubkey>`). Other files there (`slashing_protection.sqlite`,
///    `validator_definitions.yml`, ...) and subdirectories without a keystore are ignored.
///    Give Lighthouse's data directory, not `validators/` itself.
/// 2. **Flat in `keys/`**, if `dir/keys/` is a directory: as rule 3, in `dir/keys/`.
/// 3. **Flat**, otherwise: every file directly in `dir` whose name ends in `.json` is one
///    keystore (not recursive); its key name is the file name without `.json`. Hidden files
///    (`.` prefix) and staking-deposit-cli's `deposit_data-*.json` are skipped.
///
/// The password file is then given by `passwords` and the key name (see [`PasswordSource`]).
/// Password files are UTF-8; one trailing `\n` or `\r\n` is removed, nothing else.
///
/// Entries are sorted by keystore path. A problem with one keystore (unreadable, invalid,
/// its password file missing or unreadable) is recorded in its entry, not returned, so one bad
/// file does not stop the others. An error is returned only when the whole configuration is
/// unusable: `dir` cannot be read, it holds no keystore in any layout, or the shared password
/// file cannot be read.
///
/// Files that group or others may access (unix `mode & 0o077 != 0`) are logged with
/// `tracing::warn!` and listed in [`KeystoreEntry::warnings`].
pub fn discover(
    dir: &Path,
    passwords: PasswordSource,
) -> Result<Vec<KeystoreEntry>, KeystoreError> {
    let (layout, found) = find_keystores(dir)?;
    if found.is_empty() {
        return Err(KeystoreError::NoKeystoresFound {
            dir: dir.to_path_buf(),
        });
    }
    tracing::info!(dir = %dir.display(), layout, keystores = found.len(), "found keystores");

    // Read once: a missing shared file is one configuration error, not one per keystore.
    let shared = match &passwords {
        PasswordSource::SharedFile(path) => {
            let (password, metadata) = read_password_file(path)?;
            let warning = check_permissions(path, &metadata, FileRole::Password);
            Some((Arc::new(password), warning))
        }
        PasswordSource::SecretsDir(_) | PasswordSource::PasswordsDir(_) => None,
    };

    Ok(found
        .into_iter()
        .map(|found| {
            let password_path = match &passwords {
                PasswordSource::SecretsDir(secrets) => secrets.join(&found.key_name),
                PasswordSource::PasswordsDir(passwords) => {
                    let mut file_name = found.key_name;
                    file_name.push(".txt");
                    passwords.join(file_name)
                }
                PasswordSource::SharedFile(path) => path.clone(),
            };
            let mut warnings = Vec::new();
            let keystore = read_keystore(&found.keystore, &mut warnings);
            let password = match &shared {
                Some((password, warning)) => {
                    warnings.extend(warning.clone());
                    Ok(Arc::clone(password))
                }
                None => read_password(&found.keystore, &password_path, &mut warnings),
            };
            let state = keystore.and_then(|keystore| {
                Ok(ReadyToDecrypt {
                    keystore,
                    password: password?,
                })
            });
            KeystoreEntry {
                keystore_path: found.keystore,
                password_path,
                warnings,
                state,
            }
        })
        .collect())
}

/// A keystore file and its key name.
struct Found {
    keystore: PathBuf,
    key_name: OsString,
}

/// Applies the layout rules of [`discover`]; returns the layout's name, for the log.
fn find_keystores(dir: &Path) -> Result<(&'static str, Vec<Found>), KeystoreError> {
    let validators = dir.join("validators");
    if validators.is_dir() {
        return Ok(("lighthouse", find_lighthouse(&validators)?));
    }
    let keys = dir.join("keys");
    if keys.is_dir() {
        return Ok(("flat keys/*.json", find_flat(&keys)?));
    }
    // Surface "no such directory" as an I/O error naming it, not as "no keystores".
    fs::metadata(dir).map_err(|e| KeystoreError::io(dir, e))?;
    Ok(("flat *.json", find_flat(dir)?))
}

/// Lighthouse: `validators/<name>/voting-keystore.json`.
fn find_lighthouse(validators: &Path) -> Result<Vec<Found>, KeystoreError> {
    let mut found = Vec::new();
    for path in sorted_children(validators)? {
        if !path.is_dir() {
            continue;
        }
        let keystore = path.join(LIGHTHOUSE_KEYSTORE);
        // Only absence means "not a validator directory"; any other error (permissions, say)
        // is reported as that entry's error when the file is read.
        if let Err(e) = fs::metadata(&keystore)
            && e.kind() == io::ErrorKind::NotFound
        {
            tracing::debug!(dir = %path.display(), "no {LIGHTHOUSE_KEYSTORE}; skipped");
            continue;
        }
        if let Some(key_name) = path.file_name() {
            found.push(Found {
                key_name: key_name.to_os_string(),
                keystore,
            });
        }
    }
    Ok(found)
}

/// Flat: `*.json` directly in `dir`.
fn find_flat(dir: &Path) -> Result<Vec<Found>, KeystoreError> {
    let mut found = Vec::new();
    for path in sorted_children(dir)? {
        let (Some(name), Some(stem)) = (path.file_name(), path.file_stem()) else {
            continue;
        };
        let name = name.to_string_lossy();
        if !name.ends_with(".json") || name.starts_with('.') || path.is_dir() {
            continue;
        }
        if name.starts_with(DEPOSIT_DATA_PREFIX) {
            tracing::debug!(file = %path.display(), "deposit data, not a keystore; skipped");
            continue;
        }
        found.push(Found {
            key_name: stem.to_os_string(),
            keystore: path,
        });
    }
    Ok(found)
}

/// The paths of a directory's entries, sorted so results do not depend on the file system.
fn sorted_children(dir: &Path) -> Result<Vec<PathBuf>, KeystoreError> {
    let mut paths = fs::read_dir(dir)
        .and_then(|entries| {
            entries
                .map(|entry| entry.map(|e| e.path()))
                .collect::<io::Result<Vec<_>>>()
        })
        .map_err(|e| KeystoreError::io(dir, e))?;
    paths.sort();
    Ok(paths)
}

/// Reads, permission-checks and parses one keystore file.
fn read_keystore(
    path: &Path,
    warnings: &mut Vec<PermissionWarning>,
) -> Result<Keystore, KeystoreError> {
    let (bytes, metadata) = read_capped(path)?;
    warnings.extend(check_permissions(path, &metadata, FileRole::Keystore));
    json::parse(&bytes, Some(path))
}

/// Reads and permission-checks the password file assigned to `keystore`.
fn read_password(
    keystore: &Path,
    password_file: &Path,
    warnings: &mut Vec<PermissionWarning>,
) -> Result<Arc<Password>, KeystoreError> {
    match read_password_file(password_file) {
        Ok((password, metadata)) => {
            warnings.extend(check_permissions(
                password_file,
                &metadata,
                FileRole::Password,
            ));
            Ok(Arc::new(password))
        }
        Err(KeystoreError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
            Err(KeystoreError::MissingPassword {
                keystore: keystore.to_path_buf(),
                password_file: password_file.to_path_buf(),
            })
        }
        Err(error) => Err(error),
    }
}
