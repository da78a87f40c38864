//! Passwords: EIP-2335 normalisation and password files.

use std::fmt;
use std::path::Path;

use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use super::KeystoreError;
use super::fs::read_capped;

/// Normalises a password as EIP-2335 requires before it reaches the KDF: NFKD, then the C0
/// (U+0000–U+001F), DEL (U+007F) and C1 (U+0080–U+009F) control characters are removed,
/// then the result is encoded as UTF-8. Spaces are kept.
///
/// Without this step a password typed differently (composed vs decomposed accents, or with a
/// stray control character) would derive a different key than the tool that wrote the
/// keystore.
pub fn normalize_password(password: &str) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(password.len()));
    let mut utf8 = Zeroizing::new([0u8; 4]);
    for c in password.nfkd() {
        if is_stripped_control(c) {
            continue;
        }
        push_zeroizing(&mut out, c.encode_utf8(&mut *utf8).as_bytes());
    }
    out
}

/// The control characters EIP-2335 strips: C0, DEL and C1.
fn is_stripped_control(c: char) -> bool {
    matches!(c, '\u{0000}'..='\u{001F}' | '\u{007F}' | '\u{0080}'..='\u{009F}')
}

/// Appends without letting `Vec` reallocate behind our back: a plain reallocation would free
/// the old buffer with password bytes still in it.
fn push_zeroizing(buf: &mut Zeroizing<Vec<u8>>, bytes: &[u8]) {
    let needed = buf.len() + bytes.len();
    if needed > buf.capacity() {
        let mut bigger = Zeroizing::new(Vec::with_capacity(needed.max(buf.capacity() * 2)));
        bigger.extend_from_slice(buf);
        // Dropping the old buffer zeroizes it.
        *buf = bigger;
    }
    buf.extend_from_slice(bytes);
}

/// A password read from a file: zeroized on drop, never printed.
pub(crate) struct Password(Zeroizing<String>);

impl Password {
    /// The password text, before normalisation.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Reads a password file: UTF-8 text with at most one trailing newline (`\n` or `\r\n`)
/// removed. Only one, because a password may itself end in whitespace; editors add exactly
/// one newline.
pub(crate) fn read_password_file(
    path: &Path,
) -> Result<(Password, std::fs::Metadata), KeystoreError> {
    let (bytes, metadata) = read_capped(path)?;
    let text = password_from_bytes(bytes).ok_or_else(|| KeystoreError::InvalidPasswordFile {
        path: path.to_path_buf(),
    })?;
    Ok((text, metadata))
}

/// Decodes a password file's bytes, trimming one trailing newline; `None` if not UTF-8.
pub(crate) fn password_from_bytes(mut bytes: Zeroizing<Vec<u8>>) -> Option<Password> {
    let trimmed_len = match bytes.as_slice() {
        [rest @ .., b'\r', b'\n'] | [rest @ .., b'\n'] => rest.len(),
        all => all.len(),
    };
    bytes.truncate(trimmed_len);
    // Checked first, and then converted in place, so no second copy of the password is made
    // and nothing unzeroized is dropped on failure.
    std::str::from_utf8(&bytes).ok()?;
    let text = String::from_utf8(std::mem::take(&mut *bytes)).ok()?;
    Some(Password(Zeroizing::new(text)))
}
