//! Secret key material: zeroized on drop, never printed.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// A 32-byte secret (a BLS12-381 or BN254 secret scalar, big-endian).
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes([u8; 32]);

impl SecretBytes {
    /// Takes ownership of `bytes`; the caller's copy should be zeroized by the caller.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Copies from a slice; `None` unless it is exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let array: [u8; 32] = bytes.try_into().ok()?;
        Some(Self(array))
    }

    /// The secret bytes, for the signing code that needs them.
    pub(crate) fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBytes(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_secret() {
        let secret = SecretBytes::new([0xAB; 32]);
        let printed = format!("{secret:?}");
        assert!(
            !printed.contains("ab") && !printed.contains("AB") && !printed.contains("171"),
            "{printed}"
        );
    }

    #[test]
    fn from_slice_requires_exactly_32_bytes() {
        assert!(SecretBytes::from_slice(&[1; 31]).is_none());
        assert!(SecretBytes::from_slice(&[1; 32]).is_some());
    }
}
