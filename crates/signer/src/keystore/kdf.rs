//! Key derivation: the parameter sets we write, the limits we accept, and the derivation.

use sha2::Sha256;
use zeroize::Zeroizing;

/// Length of the derived key: 16 bytes of AES key, 16 bytes of checksum key.
pub(crate) const DKLEN: u64 = 32;

/// Largest scrypt `n` accepted (2^20, four times the standard 2^18).
pub(crate) const MAX_SCRYPT_LOG_N: u32 = 20;
/// Largest scrypt working memory (`128 * r * n` bytes) accepted: 1 GiB, four times a standard
/// keystore. Each decrypting thread needs this much, so the cap is what keeps a hostile file
/// from exhausting the node.
pub(crate) const MAX_SCRYPT_MEMORY_BYTES: u64 = 1 << 30;
/// Largest scrypt `r * p` accepted: time grows with `n * r * p`, standard is `8 * 1`.
pub(crate) const MAX_SCRYPT_R_TIMES_P: u64 = 64;
/// Largest PBKDF2 iteration count accepted (16 times the standard 262144).
pub(crate) const MAX_PBKDF2_C: u64 = 1 << 22;

/// The key-derivation function (and its cost) used when creating a keystore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kdf {
    /// scrypt with n=262144, r=8, p=1 (EIP-2335's example; about 256 MiB and a second per
    /// decryption). The default choice.
    Scrypt,
    /// PBKDF2-HMAC-SHA256 with c=262144 (EIP-2335's example; little memory).
    Pbkdf2,
    /// scrypt with n=16, r=8, p=1: decrypts in microseconds and offers no protection against
    /// password guessing. Only for tests and throwaway fixtures, never for a real key.
    InsecureFastScrypt,
}

/// Which KDF parameter a [`KdfProblem`] is about; each keystore format names it its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KdfField {
    /// The parameter object as a whole.
    Params,
    /// scrypt's `n`.
    N,
    /// scrypt's `r`.
    R,
    /// scrypt's `p`.
    P,
    /// PBKDF2's iteration count `c`.
    C,
}

/// Why KDF parameters were refused, before the keystore format adds its file and field names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KdfProblem {
    /// Not valid parameters.
    Invalid(KdfField, String),
    /// Valid, but beyond the cost limits (a hostile file must not exhaust the node).
    TooExpensive(String),
}

/// Validated KDF parameters of a keystore (EIP-2335 or web3 secret storage: the same two KDFs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KdfParams {
    /// scrypt; `n = 2^log_n`.
    Scrypt {
        log_n: u8,
        r: u32,
        p: u32,
        salt: Vec<u8>,
    },
    /// PBKDF2 with HMAC-SHA256.
    Pbkdf2 { c: u32, salt: Vec<u8> },
}

impl KdfParams {
    /// Fresh parameters for `kdf` with the given salt.
    pub(crate) fn for_new_keystore(kdf: Kdf, salt: Vec<u8>) -> Self {
        match kdf {
            Kdf::Scrypt => Self::Scrypt {
                log_n: 18,
                r: 8,
                p: 1,
                salt,
            },
            Kdf::Pbkdf2 => Self::Pbkdf2 { c: 262_144, salt },
            Kdf::InsecureFastScrypt => Self::Scrypt {
                log_n: 4,
                r: 8,
                p: 1,
                salt,
            },
        }
    }

    /// Checks scrypt parameters as written in a keystore: valid for scrypt and within our
    /// cost limits. Nothing is allocated before this passes.
    pub(crate) fn scrypt(n: u64, r: u64, p: u64, salt: Vec<u8>) -> Result<Self, KdfProblem> {
        let too_expensive = KdfProblem::TooExpensive;
        if n < 2 || !n.is_power_of_two() {
            return Err(KdfProblem::Invalid(
                KdfField::N,
                format!("scrypt n must be a power of two greater than 1, got {n}"),
            ));
        }
        let log_n = n.trailing_zeros();
        if log_n > MAX_SCRYPT_LOG_N {
            return Err(too_expensive(format!(
                "scrypt n={n} is above the limit of 2^{MAX_SCRYPT_LOG_N}"
            )));
        }
        if r == 0 || p == 0 {
            return Err(KdfProblem::Invalid(
                if r == 0 { KdfField::R } else { KdfField::P },
                format!("scrypt r and p must be at least 1, got r={r} p={p}"),
            ));
        }
        // Compare in u128 so hostile values cannot overflow the check itself.
        let r_times_p = u128::from(r) * u128::from(p);
        if r_times_p > u128::from(MAX_SCRYPT_R_TIMES_P) {
            return Err(too_expensive(format!(
                "scrypt r*p={r_times_p} (r={r}, p={p}) is above the limit of {MAX_SCRYPT_R_TIMES_P}"
            )));
        }
        let memory = 128 * u128::from(r) * u128::from(n);
        if memory > u128::from(MAX_SCRYPT_MEMORY_BYTES) {
            return Err(too_expensive(format!(
                "scrypt n={n} r={r} needs {} MiB, above the limit of {} MiB",
                memory >> 20,
                MAX_SCRYPT_MEMORY_BYTES >> 20
            )));
        }
        // In range now: r, p <= 64 and log_n <= 20.
        let (Ok(log_n), Ok(r), Ok(p)) = (u8::try_from(log_n), u32::try_from(r), u32::try_from(p))
        else {
            return Err(too_expensive(format!(
                "scrypt n={n} r={r} p={p} out of range"
            )));
        };
        // scrypt's own constraints (for example n < 2^(16 r)).
        scrypt::Params::new(log_n, r, p, DKLEN as usize).map_err(|e| {
            KdfProblem::Invalid(
                KdfField::Params,
                format!("scrypt rejects n={n} r={r} p={p}: {e}"),
            )
        })?;
        Ok(Self::Scrypt { log_n, r, p, salt })
    }

    /// The same parameters with `salt`.
    pub(crate) fn with_salt(self, salt: Vec<u8>) -> Self {
        match self {
            Self::Scrypt { log_n, r, p, .. } => Self::Scrypt { log_n, r, p, salt },
            Self::Pbkdf2 { c, .. } => Self::Pbkdf2 { c, salt },
        }
    }

    /// Checks PBKDF2 parameters as written in a keystore.
    pub(crate) fn pbkdf2(c: u64, salt: Vec<u8>) -> Result<Self, KdfProblem> {
        if c == 0 {
            return Err(KdfProblem::Invalid(
                KdfField::C,
                "the PBKDF2 iteration count must be at least 1".to_owned(),
            ));
        }
        match u32::try_from(c) {
            Ok(c) if u64::from(c) <= MAX_PBKDF2_C => Ok(Self::Pbkdf2 { c, salt }),
            _ => Err(KdfProblem::TooExpensive(format!(
                "pbkdf2 c={c} is above the limit of {MAX_PBKDF2_C}"
            ))),
        }
    }

    /// Derives the 32-byte decryption key from password bytes. The parameters were validated
    /// when parsed; scrypt's own check is repeated rather than unwrapped.
    pub(crate) fn derive_key(&self, password: &[u8]) -> Result<Zeroizing<[u8; 32]>, KdfProblem> {
        let mut key = Zeroizing::new([0u8; 32]);
        match self {
            Self::Scrypt { log_n, r, p, salt } => {
                let rejected = |reason: String| KdfProblem::Invalid(KdfField::Params, reason);
                let params = scrypt::Params::new(*log_n, *r, *p, key.len())
                    .map_err(|e| rejected(format!("scrypt rejects the parameters: {e}")))?;
                scrypt::scrypt(password, salt, &params, &mut *key)
                    .map_err(|e| rejected(format!("scrypt failed: {e}")))?;
            }
            Self::Pbkdf2 { c, salt } => {
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, *c, &mut *key);
            }
        }
        Ok(key)
    }

    /// The JSON `crypto.kdf` object.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Scrypt { log_n, r, p, salt } => serde_json::json!({
                "function": "scrypt",
                "params": {
                    "dklen": DKLEN,
                    "n": 1u64 << log_n,
                    "r": r,
                    "p": p,
                    "salt": hex::encode(salt),
                },
                "message": "",
            }),
            Self::Pbkdf2 { c, salt } => serde_json::json!({
                "function": "pbkdf2",
                "params": {
                    "dklen": DKLEN,
                    "c": c,
                    "prf": "hmac-sha256",
                    "salt": hex::encode(salt),
                },
                "message": "",
            }),
        }
    }
}
