//! Identifiers: execution chains and duty modules.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// An EIP-155 execution-chain id (1 for Ethereum mainnet, 17000 for Holesky, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChainId(pub u64);

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The id of a duty module instance, as it appears in config, metrics labels and the API.
///
/// 1 to 64 characters of lowercase ASCII letters, digits, `-` and `_`, starting with a letter:
/// it is used as a metric label value and a store namespace, so it must stay small and plain.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ModuleId(String);

/// Why a string is not a valid [`ModuleId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid module id {id:?}: {reason}")]
pub struct InvalidModuleId {
    id: String,
    reason: &'static str,
}

impl ModuleId {
    /// Longest id accepted.
    pub const MAX_LEN: usize = 64;

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ModuleId {
    type Err = InvalidModuleId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |reason| InvalidModuleId {
            id: s.to_owned(),
            reason,
        };
        let mut chars = s.chars();
        match chars.next() {
            None => return Err(fail("must not be empty")),
            Some(c) if !c.is_ascii_lowercase() => {
                return Err(fail("must start with a lowercase letter"));
            }
            Some(_) => {}
        }
        if s.len() > Self::MAX_LEN {
            return Err(fail("must be at most 64 characters"));
        }
        if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') {
            return Err(fail("may hold only lowercase letters, digits, '-' and '_'"));
        }
        Ok(Self(s.to_owned()))
    }
}

impl TryFrom<String> for ModuleId {
    type Error = InvalidModuleId;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<ModuleId> for String {
    fn from(id: ModuleId) -> Self {
        id.0
    }
}

impl fmt::Display for ModuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn accepts_plain_ids() {
        assert_eq!(
            "oracle-eth_usd2".parse::<ModuleId>().unwrap().as_str(),
            "oracle-eth_usd2"
        );
    }

    #[test]
    fn rejects_empty_uppercase_leading_digit_and_long_ids() {
        assert!("".parse::<ModuleId>().is_err());
        assert!("Oracle".parse::<ModuleId>().is_err());
        assert!("1oracle".parse::<ModuleId>().is_err());
        assert!("a b".parse::<ModuleId>().is_err());
        assert!("a".repeat(65).parse::<ModuleId>().is_err());
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<ModuleId>("\"Bad Id\"").is_err());
    }

    proptest! {
        #[test]
        fn valid_ids_round_trip(s in "[a-z][a-z0-9_-]{0,63}") {
            let id: ModuleId = s.parse().unwrap();
            prop_assert_eq!(id.to_string(), s);
        }
    }
}
