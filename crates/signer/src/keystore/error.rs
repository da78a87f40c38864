//! The one error type of the keystore module: every variant names the file it is about and
//! its message tells the operator what to do next.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a keystore (or its password, or a keystore directory) could not be used.
///
/// `path: None` means the keystore came from [`Keystore::from_json`](super::Keystore::from_json)
/// rather than from a file. The type is `Clone` (I/O errors are shared behind an `Arc`) so a
/// per-entry error found during discovery can be handed out again by
/// [`decrypt_all`](super::decrypt_all).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum KeystoreError {
    /// A file or directory could not be read.
    #[error(
        "cannot read {}: {source}; check that it exists and that the node's user may read it",
        path.display()
    )]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: Arc<io::Error>,
    },

    /// A keystore or password file is far larger than any real one; it is not read, so a stray
    /// large file cannot exhaust memory.
    #[error(
        "{} is {size} bytes, larger than the {limit}-byte limit for keystore and password \
         files; it is not a keystore or password: move it out of the keystore directory",
        path.display()
    )]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },

    /// The text is not JSON, or not shaped like an EIP-2335 keystore.
    #[error(
        "keystore {} is not a valid EIP-2335 JSON keystore ({detail}); restore it from your \
         backup or re-export it from the tool that created it",
        shown(path)
    )]
    Json {
        /// The keystore file, if it came from one.
        path: Option<PathBuf>,
        /// What the JSON parser reported, with line and column.
        detail: String,
    },

    /// The `version` field is not 4 (for example a version-3 Ethereum account keystore).
    #[error(
        "keystore {} has version {version}, but only EIP-2335 version 4 BLS keystores are \
         supported; re-export the validator key with a current tool",
        shown(path)
    )]
    UnsupportedVersion {
        /// The keystore file, if it came from one.
        path: Option<PathBuf>,
        /// The version as written in the file.
        version: String,
    },

    /// `crypto.kdf.function` is neither `scrypt` nor `pbkdf2`.
    #[error(
        "keystore {} uses key-derivation function {function:?}; EIP-2335 defines only \
         \"scrypt\" and \"pbkdf2\": re-export the key with a standard tool",
        shown(path)
    )]
    UnsupportedKdf {
        /// The keystore file, if it came from one.
        path: Option<PathBuf>,
        /// The function named in the file.
        function: String,
    },

    /// `crypto.cipher.function` is not `aes-128-ctr`.
    #[error(
        "keystore {} uses cipher {function:?}; EIP-2335 defines only \"aes-128-ctr\": \
         re-export the key with a standard tool",
        shown(path)
    )]
    UnsupportedCipher {
        /// The keystore file, if it came from one.
        path: Option<PathBuf>,
        /// The cipher named in the file.
        function: String,
    },

    /// `crypto.checksum.function` is not `sha256`.
    #[error(
        "keystore {} uses checksum {function:?}; EIP-2335 defines only \"sha256\": \
         re-export the key with a standard tool",
        shown(path)
    )]
    UnsupportedChecksum {
        /// The keystore file, if it came from one.
        path: Option<PathBuf>,
        /// The checksum function named in the file.
        function: String,
    },

    /// A field is present but its value is malformed or out of range (bad hex, wrong length,
    /// `dklen` other than 32, invalid scrypt parameters, ...).
    #[error(
        "keystore {}: field {field} is invalid: {reason}; the file is corrupt or was not \
         written by a standard tool: restore it from your backup",
        shown(path)
    )]
    InvalidField {
        /// The keystore file, if it came from one.
        path: Option<PathBuf>,
        /// The JSON path of the field, such as `crypto.cipher.params.iv`.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// The KDF parameters would cost more memory or time than any standard keystore; refused
    /// before any work is done so a hostile file cannot exhaust the node.
    #[error(
        "keystore {}: refusing to derive its key: {reason}; standard keystores use scrypt \
         n=262144 r=8 p=1 or pbkdf2 c=262144: regenerate this keystore, and check that \
         nobody tampered with it",
        shown(path)
    )]
    KdfTooExpensive {
        /// The keystore file, if it came from one.
        path: Option<PathBuf>,
        /// Which parameter is over which limit.
        reason: String,
    },

    /// The checksum does not match: the password is wrong (or the ciphertext was altered).
    #[error(
        "wrong password for keystore {}{}: the checksum does not match; check that the \
         password belongs to this keystore and that the file is not corrupt",
        shown(path),
        from_file(password_file.as_deref())
    )]
    WrongPassword {
        /// The keystore file, if it came from one.
        path: Option<PathBuf>,
        /// Where the password was read from, when it came from a file.
        password_file: Option<PathBuf>,
    },

    /// The password file that the layout assigns to this keystore does not exist.
    #[error(
        "keystore {} has no password file: expected {}; create it containing the keystore's \
         password (one trailing newline is ignored), or remove the keystore",
        keystore.display(),
        password_file.display()
    )]
    MissingPassword {
        /// The keystore file.
        keystore: PathBuf,
        /// The password file that was looked for.
        password_file: PathBuf,
    },

    /// A password file is not valid UTF-8 text.
    #[error(
        "password file {} is not valid UTF-8 text; rewrite it as UTF-8 (passwords are Unicode \
         strings in EIP-2335)",
        path.display()
    )]
    InvalidPasswordFile {
        /// The password file.
        path: PathBuf,
    },

    /// A keystore directory holds no keystore in any supported layout.
    #[error(
        "no keystores found in {}: expected validators/<0xpubkey>/voting-keystore.json \
         (Lighthouse), keys/*.json, or *.json; check the path (for Lighthouse give the \
         directory that contains validators/)",
        dir.display()
    )]
    NoKeystoresFound {
        /// The directory searched.
        dir: PathBuf,
    },

    /// The operating system's random number generator failed while creating a keystore.
    #[error("cannot create a keystore: the OS random number generator failed: {reason}")]
    Random {
        /// The error from the generator.
        reason: String,
    },
}

impl KeystoreError {
    /// Wraps an I/O error about `path`.
    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source: Arc::new(source),
        }
    }
}

/// Names a keystore in a message: its file, or a note that it was given as a string.
fn shown(path: &Option<PathBuf>) -> impl fmt::Display + '_ {
    struct Shown<'a>(&'a Option<PathBuf>);
    impl fmt::Display for Shown<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self.0 {
                Some(path) => write!(f, "{}", path.display()),
                None => f.write_str("<given as JSON text, not a file>"),
            }
        }
    }
    Shown(path)
}

/// " (password from <file>)", or nothing when the password did not come from a file.
fn from_file(password_file: Option<&Path>) -> String {
    password_file
        .map(|file| format!(" (password from {})", file.display()))
        .unwrap_or_default()
}
