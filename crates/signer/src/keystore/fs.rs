//! File reading shared by keystores and password files: bounded size, and a permission check.

use std::fmt;
use std::fs::{File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::KeystoreError;

/// Largest keystore or password file we read. Real keystores are about 1 KiB; the cap stops a
/// stray multi-gigabyte file in the keystore directory from being read into memory.
pub(crate) const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Why a bounded read failed, before a keystore format turns it into its own error.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The file could not be opened or read.
    Io(std::io::Error),
    /// The file is larger than [`MAX_FILE_BYTES`] (its size, or what was read of it).
    TooLarge(u64),
}

/// Reads a whole file of at most [`MAX_FILE_BYTES`], into a buffer zeroized on drop (it may
/// hold a password or a key), and returns its metadata for the permission check.
pub(crate) fn read_bounded(path: &Path) -> Result<(Zeroizing<Vec<u8>>, Metadata), ReadError> {
    let file = File::open(path).map_err(ReadError::Io)?;
    let metadata = file.metadata().map_err(ReadError::Io)?;
    if metadata.len() > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge(metadata.len()));
    }
    // Sized up front (plus one byte to see EOF) so the buffer never reallocates and leaves a
    // stray copy of a password behind.
    let capacity = usize::try_from(metadata.len())
        .unwrap_or(0)
        .saturating_add(1);
    let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
    // `take` also bounds files whose size changed after `metadata`, or that lie about it.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge(bytes.len() as u64));
    }
    Ok((bytes, metadata))
}

/// [`read_bounded`] with EIP-2335 keystore errors.
pub(crate) fn read_capped(path: &Path) -> Result<(Zeroizing<Vec<u8>>, Metadata), KeystoreError> {
    read_bounded(path).map_err(|e| match e {
        ReadError::Io(e) => KeystoreError::io(path, e),
        ReadError::TooLarge(size) => KeystoreError::FileTooLarge {
            path: path.to_path_buf(),
            size,
            limit: MAX_FILE_BYTES,
        },
    })
}

/// What a file with loose permissions holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    /// An encrypted keystore.
    Keystore,
    /// A password file.
    Password,
}

/// A keystore or password file that users other than its owner can read or write
/// (unix `mode & 0o077 != 0`). The key still loads: refusing would take validators offline,
/// but the operator should tighten the permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionWarning {
    /// The file.
    pub path: PathBuf,
    /// What it holds.
    pub role: FileRole,
    /// Its permission bits (`mode & 0o7777`).
    pub mode: u32,
}

impl fmt::Display for PermissionWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.role {
            FileRole::Keystore => "keystore",
            FileRole::Password => "password file",
        };
        write!(
            f,
            "{what} {} is accessible to group or others (mode {:04o}); run `chmod 600 {}`",
            self.path.display(),
            self.mode,
            self.path.display()
        )
    }
}

/// Logs and returns a warning if `metadata` gives group or others any access.
#[cfg(unix)]
pub(crate) fn check_permissions(
    path: &Path,
    metadata: &Metadata,
    role: FileRole,
) -> Option<PermissionWarning> {
    use std::os::unix::fs::PermissionsExt;

    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o077 == 0 {
        return None;
    }
    let warning = PermissionWarning {
        path: path.to_path_buf(),
        role,
        mode,
    };
    tracing::warn!(path = %path.display(), mode = format_args!("{mode:04o}"), "{warning}");
    Some(warning)
}

/// Unix permission bits do not exist here; nothing to check.
#[cfg(not(unix))]
pub(crate) fn check_permissions(
    _path: &Path,
    _metadata: &Metadata,
    _role: FileRole,
) -> Option<PermissionWarning> {
    None
}
