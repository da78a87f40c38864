//! Validator keys from a seed: EIP-2333 derivation, EIP-2334 paths and BIP-39 mnemonics.
//!
//! The derivation itself is `blst`'s implementation of EIP-2333 (HKDF_mod_r and the Lamport
//! tree); this module adds path handling, mnemonic parsing with errors that never echo the
//! phrase, and the public development keys behind `--dev`.

use std::{fmt, str::FromStr};

use bip39::{Language, Mnemonic};
use blst::min_pk;
use zeroize::Zeroizing;

use crate::SecretBytes;

/// The EIP-2334 purpose: the first index of every path.
pub const PURPOSE: u32 = 12381;

/// The EIP-2334 coin type of Ethereum.
pub const ETHEREUM_COIN_TYPE: u32 = 3600;

/// EIP-2333 needs at least this much seed material.
pub const MIN_SEED_LEN: usize = 32;

/// The well-known BIP-39 test mnemonic, used for `--dev` validator keys.
///
/// **PUBLIC, NOT A SECRET.** Every key derived from it is known to the whole world (it is
/// the first BIP-39 test vector, printed in countless tutorials). Anything signed with these
/// keys on a real network can be forged and slashed by anyone. Use only on devnets.
pub const DEV_MNEMONIC: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

/// Errors from key derivation, key paths and mnemonics.
///
/// None of them carries secret material: mnemonic errors name the word position, never the
/// words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeriveError {
    /// The seed is shorter than EIP-2333 allows.
    #[error("an EIP-2333 seed must be at least {MIN_SEED_LEN} bytes, got {actual}")]
    SeedTooShort {
        /// The length given.
        actual: usize,
    },
    /// A parent key that is not a BLS secret key (zero, or not below the group order r).
    #[error("the parent secret key must be nonzero and below the group order r")]
    InvalidParentKey,
    /// A key path that is not an EIP-2334 path.
    #[error("invalid key path {path:?}: {problem}")]
    InvalidKeyPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        problem: KeyPathProblem,
    },
    /// A mnemonic that is not a valid English BIP-39 phrase.
    #[error("invalid mnemonic: {0}")]
    InvalidMnemonic(MnemonicProblem),
    /// The operating system could not provide randomness for a new mnemonic.
    #[error("the operating system's random number generator failed: {0}")]
    Randomness(getrandom::Error),
}

/// What is wrong with a key path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyPathProblem {
    /// The path does not start with `m`.
    #[error("a key path starts with `m`, e.g. m/12381/3600/0/0/0")]
    MissingRoot,
    /// Only `m`: EIP-2334 needs at least the purpose.
    #[error("a key path needs at least the purpose after `m`, e.g. m/12381/3600/0/0/0")]
    MissingPurpose,
    /// The first index is not 12381.
    #[error("the purpose (first index) must be {PURPOSE} (EIP-2334), got {found}")]
    WrongPurpose {
        /// The purpose found.
        found: u32,
    },
    /// Two slashes in a row, or a trailing slash.
    #[error("index {position} is empty")]
    EmptyIndex {
        /// 1-based position after `m`.
        position: usize,
    },
    /// An index with a hardened marker (`'` or `h`), which EIP-2334 does not use.
    #[error(
        "index {position} has a hardened marker; EIP-2333 derivation is always hardened, so \
         write the plain number"
    )]
    HardenedMarker {
        /// 1-based position after `m`.
        position: usize,
    },
    /// An index that is not a plain decimal number.
    #[error("index {position} is not an unsigned decimal number")]
    NotDecimal {
        /// 1-based position after `m`.
        position: usize,
    },
    /// An index above 2^32 - 1.
    #[error("index {position} does not fit in 32 bits (at most 4294967295)")]
    IndexTooLarge {
        /// 1-based position after `m`.
        position: usize,
    },
}

/// What is wrong with a mnemonic. Positions are 1-based; the words themselves are never
/// repeated, since even one of them is part of a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MnemonicProblem {
    /// Not 12, 15, 18, 21 or 24 words.
    #[error("a mnemonic has 12, 15, 18, 21 or 24 words, this one has {found}")]
    WordCount {
        /// The number of words found.
        found: usize,
    },
    /// A word missing from the BIP-39 English word list.
    #[error("word {position} is not in the BIP-39 English word list (check its spelling)")]
    UnknownWord {
        /// 1-based position of the word.
        position: usize,
    },
    /// Every word is known, but the checksum does not match.
    #[error("the checksum does not match: a word is wrong or the words are out of order")]
    BadChecksum,
    /// Any other BIP-39 failure.
    #[error("not a valid BIP-39 mnemonic")]
    Malformed,
}

impl From<bip39::Error> for MnemonicProblem {
    fn from(error: bip39::Error) -> Self {
        match error {
            bip39::Error::BadWordCount(found) => Self::WordCount { found },
            bip39::Error::UnknownWord(index) => Self::UnknownWord {
                position: index + 1,
            },
            bip39::Error::InvalidChecksum => Self::BadChecksum,
            // Entropy length and language detection do not apply to parsing English.
            bip39::Error::BadEntropyBitCount(_) | bip39::Error::AmbiguousLanguages(_) => {
                Self::Malformed
            }
        }
    }
}

/// An EIP-2334 key path: `m`, the purpose 12381, then any number of indices.
///
/// Validator keys use `m/12381/3600/{account}/0/0` for signing and
/// `m/12381/3600/{account}/0` for withdrawals.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyPath {
    // Everything after `m`; the first element is always PURPOSE.
    indices: Vec<u32>,
}

impl KeyPath {
    /// The signing key of validator `account`: `m/12381/3600/{account}/0/0`.
    pub fn validator_signing(account: u32) -> Self {
        Self {
            indices: vec![PURPOSE, ETHEREUM_COIN_TYPE, account, 0, 0],
        }
    }

    /// The withdrawal key of validator `account`: `m/12381/3600/{account}/0`.
    pub fn validator_withdrawal(account: u32) -> Self {
        Self {
            indices: vec![PURPOSE, ETHEREUM_COIN_TYPE, account, 0],
        }
    }

    /// The indices after `m`, starting with the purpose.
    pub fn indices(&self) -> &[u32] {
        &self.indices
    }
}

impl FromStr for KeyPath {
    type Err = DeriveError;

    fn from_str(path: &str) -> Result<Self, Self::Err> {
        let invalid = |problem| DeriveError::InvalidKeyPath {
            path: path.to_owned(),
            problem,
        };
        let mut parts = path.split('/');
        if parts.next() != Some("m") {
            return Err(invalid(KeyPathProblem::MissingRoot));
        }
        let indices = parts
            .enumerate()
            .map(|(i, part)| parse_index(part, i + 1).map_err(invalid))
            .collect::<Result<Vec<u32>, _>>()?;
        match indices.first() {
            None => Err(invalid(KeyPathProblem::MissingPurpose)),
            Some(&PURPOSE) => Ok(Self { indices }),
            Some(&found) => Err(invalid(KeyPathProblem::WrongPurpose { found })),
        }
    }
}

/// One path index: plain ASCII digits only (`u32::from_str` would also take a `+`).
fn parse_index(part: &str, position: usize) -> Result<u32, KeyPathProblem> {
    if part.is_empty() {
        return Err(KeyPathProblem::EmptyIndex { position });
    }
    let digits = part.trim_end_matches(['\'', 'h', 'H']);
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if digits.len() != part.len() && all_digits(digits) {
        return Err(KeyPathProblem::HardenedMarker { position });
    }
    if !all_digits(part) {
        return Err(KeyPathProblem::NotDecimal { position });
    }
    part.parse()
        .map_err(|_| KeyPathProblem::IndexTooLarge { position })
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("m")?;
        for index in &self.indices {
            write!(f, "/{index}")?;
        }
        Ok(())
    }
}

/// EIP-2333 `derive_master_SK`: the root secret key of a seed of at least 32 bytes.
pub fn derive_master_sk(seed: &[u8]) -> Result<SecretBytes, DeriveError> {
    master_key(seed).map(|key| SecretBytes::new(key.to_bytes()))
}

/// EIP-2333 `derive_child_SK`: the child at `index` of `parent`.
///
/// Fails only if `parent` is not a BLS secret key (zero or not below r), which a key from
/// [`derive_master_sk`] or this function never is.
pub fn derive_child_sk(parent: &SecretBytes, index: u32) -> Result<SecretBytes, DeriveError> {
    let parent = min_pk::SecretKey::from_bytes(parent.expose())
        .map_err(|_| DeriveError::InvalidParentKey)?;
    Ok(SecretBytes::new(
        parent.derive_child_eip2333(index).to_bytes(),
    ))
}

/// The secret key at `path` under `seed` (EIP-2333 master key, then one child per index).
pub fn derive_path(seed: &[u8], path: &KeyPath) -> Result<SecretBytes, DeriveError> {
    // Stay in blst's key type between levels: it zeroizes each intermediate key on drop.
    let key = path.indices.iter().fold(master_key(seed)?, |key, &index| {
        key.derive_child_eip2333(index)
    });
    Ok(SecretBytes::new(key.to_bytes()))
}

fn master_key(seed: &[u8]) -> Result<min_pk::SecretKey, DeriveError> {
    let too_short = || DeriveError::SeedTooShort { actual: seed.len() };
    if seed.len() < MIN_SEED_LEN {
        return Err(too_short());
    }
    min_pk::SecretKey::derive_master_eip2333(seed).map_err(|_| too_short())
}

/// The BIP-39 seed of an English mnemonic and passphrase (both NFKD-normalised, as BIP-39
/// requires), after checking every word and the checksum.
pub fn mnemonic_to_seed(
    phrase: &str,
    passphrase: &str,
) -> Result<Zeroizing<[u8; 64]>, DeriveError> {
    let mnemonic = Mnemonic::parse_in(Language::English, phrase)
        .map_err(|error| DeriveError::InvalidMnemonic(error.into()))?;
    Ok(Zeroizing::new(mnemonic.to_seed(passphrase)))
}

/// A fresh 24-word English mnemonic (256 bits of OS randomness).
pub fn generate_mnemonic() -> Result<Zeroizing<String>, DeriveError> {
    let mut entropy = Zeroizing::new([0u8; 32]);
    getrandom::fill(entropy.as_mut()).map_err(DeriveError::Randomness)?;
    let mnemonic = Mnemonic::from_entropy_in(Language::English, entropy.as_ref())
        .map_err(|error| DeriveError::InvalidMnemonic(error.into()))?;
    // Sized up front (24 words of at most 8 letters, plus spaces) so the buffer never
    // reallocates and leaves an unzeroized copy behind.
    let mut phrase = Zeroizing::new(String::with_capacity(24 * 9));
    for (i, word) in mnemonic.words().enumerate() {
        if i > 0 {
            phrase.push(' ');
        }
        phrase.push_str(word);
    }
    Ok(phrase)
}

/// The signing key of dev validator `index`: [`DEV_MNEMONIC`], empty passphrase, path
/// `m/12381/3600/{index}/0/0`.
///
/// **PUBLICLY KNOWN KEYS, FOR `--dev` ONLY.** Anyone can derive them; never use them
/// where a signature has value.
#[allow(
    clippy::expect_used,
    reason = "fixed inputs: a valid phrase (checked by a test) gives a 64-byte seed"
)]
pub fn dev_validator_secret(index: u32) -> SecretBytes {
    let seed = mnemonic_to_seed(DEV_MNEMONIC, "").expect("DEV_MNEMONIC is a valid BIP-39 phrase");
    derive_path(seed.as_ref(), &KeyPath::validator_signing(index))
        .expect("a 64-byte seed is long enough for EIP-2333")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn parse_problem(path: &str) -> KeyPathProblem {
        match path.parse::<KeyPath>() {
            Err(DeriveError::InvalidKeyPath { problem, .. }) => problem,
            other => panic!("{path}: expected a path error, got {other:?}"),
        }
    }

    #[test]
    fn validator_paths_follow_eip_2334() {
        assert_eq!(
            KeyPath::validator_signing(7).to_string(),
            "m/12381/3600/7/0/0"
        );
        assert_eq!(
            KeyPath::validator_withdrawal(7).to_string(),
            "m/12381/3600/7/0"
        );
        assert_eq!(
            "m/12381/3600/7/0/0".parse::<KeyPath>().unwrap(),
            KeyPath::validator_signing(7)
        );
        assert_eq!("m/12381".parse::<KeyPath>().unwrap().indices(), [12381]);
        assert_eq!(
            "m/12381/3600/4294967295/0/0".parse::<KeyPath>().unwrap(),
            KeyPath::validator_signing(u32::MAX)
        );
    }

    #[test]
    fn path_errors_say_what_is_wrong() {
        assert_eq!(parse_problem(""), KeyPathProblem::MissingRoot);
        assert_eq!(parse_problem("12381/3600"), KeyPathProblem::MissingRoot);
        assert_eq!(parse_problem("M/12381"), KeyPathProblem::MissingRoot);
        assert_eq!(parse_problem("m"), KeyPathProblem::MissingPurpose);
        assert_eq!(
            parse_problem("m/44/60/0"),
            KeyPathProblem::WrongPurpose { found: 44 }
        );
        assert_eq!(
            parse_problem("m/12381//0"),
            KeyPathProblem::EmptyIndex { position: 2 }
        );
        assert_eq!(
            parse_problem("m/12381/3600/"),
            KeyPathProblem::EmptyIndex { position: 3 }
        );
        assert_eq!(
            parse_problem("m/12381'/3600'"),
            KeyPathProblem::HardenedMarker { position: 1 }
        );
        assert_eq!(
            parse_problem("m/12381/3600h"),
            KeyPathProblem::HardenedMarker { position: 2 }
        );
        assert_eq!(
            parse_problem("m/12381/+1"),
            KeyPathProblem::NotDecimal { position: 2 }
        );
        assert_eq!(
            parse_problem("m/12381/-1"),
            KeyPathProblem::NotDecimal { position: 2 }
        );
        assert_eq!(
            parse_problem("m/12381/ 1"),
            KeyPathProblem::NotDecimal { position: 2 }
        );
        assert_eq!(
            parse_problem("m/12381/0x10"),
            KeyPathProblem::NotDecimal { position: 2 }
        );
        assert_eq!(
            parse_problem("m/12381/'"),
            KeyPathProblem::NotDecimal { position: 2 }
        );
        assert_eq!(
            parse_problem("m/12381/4294967296"),
            KeyPathProblem::IndexTooLarge { position: 2 }
        );
        let message = "m/44/60".parse::<KeyPath>().unwrap_err().to_string();
        assert!(
            message.contains("m/44/60") && message.contains("12381"),
            "{message}"
        );
    }

    #[test]
    fn derive_path_is_master_then_each_child() {
        let seed = [42u8; 32];
        let path = KeyPath::validator_signing(3);
        let mut key = derive_master_sk(&seed).unwrap();
        for &index in path.indices() {
            key = derive_child_sk(&key, index).unwrap();
        }
        assert_eq!(derive_path(&seed, &path).unwrap(), key);
    }

    #[test]
    fn seeds_shorter_than_32_bytes_are_refused() {
        assert_eq!(
            derive_master_sk(&[1; 31]).unwrap_err(),
            DeriveError::SeedTooShort { actual: 31 }
        );
        assert_eq!(
            derive_path(&[], &KeyPath::validator_signing(0)).unwrap_err(),
            DeriveError::SeedTooShort { actual: 0 }
        );
        assert!(derive_master_sk(&[1; 32]).is_ok());
    }

    #[test]
    fn child_of_an_invalid_parent_is_refused() {
        assert_eq!(
            derive_child_sk(&SecretBytes::new([0; 32]), 0).unwrap_err(),
            DeriveError::InvalidParentKey
        );
        assert_eq!(
            derive_child_sk(&SecretBytes::new([0xff; 32]), 0).unwrap_err(),
            DeriveError::InvalidParentKey
        );
    }

    #[test]
    fn dev_mnemonic_gives_the_well_known_seed_and_distinct_public_keys() {
        // The BIP-39 seed of the "abandon ... about" phrase with an empty passphrase.
        let seed = mnemonic_to_seed(DEV_MNEMONIC, "").unwrap();
        assert_eq!(
            hex::encode(seed.as_ref()),
            "5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc1\
             9a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4"
        );
        let first = dev_validator_secret(0);
        assert_eq!(
            first,
            derive_path(seed.as_ref(), &KeyPath::validator_signing(0)).unwrap()
        );
        assert_ne!(first, dev_validator_secret(1));
        let key = crate::bls::PublicKey::from_secret(&first).unwrap();
        assert_ne!(
            key,
            crate::bls::PublicKey::from_secret(&dev_validator_secret(1)).unwrap()
        );
    }

    #[test]
    fn mnemonic_errors_name_the_problem_without_the_words() {
        let unknown = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                       zzzsecretzzz about";
        let error = mnemonic_to_seed(unknown, "").unwrap_err();
        assert_eq!(
            error,
            DeriveError::InvalidMnemonic(MnemonicProblem::UnknownWord { position: 11 })
        );
        let message = error.to_string();
        assert!(
            message.contains("word 11") && !message.contains("zzzsecretzzz"),
            "{message}"
        );
        assert!(!message.contains("abandon"), "{message}");

        let swapped = "about abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                       abandon abandon";
        assert_eq!(
            mnemonic_to_seed(swapped, "").unwrap_err(),
            DeriveError::InvalidMnemonic(MnemonicProblem::BadChecksum)
        );
        assert_eq!(
            mnemonic_to_seed("abandon abandon about", "").unwrap_err(),
            DeriveError::InvalidMnemonic(MnemonicProblem::WordCount { found: 3 })
        );
        assert!(!format!("{:?}", mnemonic_to_seed(swapped, "")).contains("abandon"));
    }

    #[test]
    fn mnemonic_whitespace_does_not_change_the_seed() {
        let spaced = format!("  {}  ", DEV_MNEMONIC.replace(' ', "\n\t "));
        assert_eq!(
            mnemonic_to_seed(&spaced, "pw").unwrap(),
            mnemonic_to_seed(DEV_MNEMONIC, "pw").unwrap()
        );
    }

    #[test]
    fn generated_mnemonics_have_24_valid_words_and_differ() {
        let first = generate_mnemonic().unwrap();
        assert_eq!(first.split(' ').count(), 24);
        assert!(mnemonic_to_seed(&first, "").is_ok());
        assert_ne!(first, generate_mnemonic().unwrap());
    }

    proptest! {
        #[test]
        fn key_path_display_and_parse_round_trip(rest in proptest::collection::vec(any::<u32>(), 0..8)) {
            let mut indices = vec![PURPOSE];
            indices.extend(rest);
            let path = KeyPath { indices };
            prop_assert_eq!(path.to_string().parse::<KeyPath>().unwrap(), path);
        }

        #[test]
        fn key_path_parser_never_panics(text in "\\PC*") {
            let _ = text.parse::<KeyPath>();
        }

        #[test]
        fn key_path_parser_never_panics_on_path_like_text(text in "m(/[0-9'h+ -]{0,12}){0,6}") {
            if let Ok(path) = text.parse::<KeyPath>() {
                prop_assert_eq!(path.indices()[0], PURPOSE);
            }
        }
    }
}
