//! Fixed-size byte strings written as `0x`-prefixed hex.

use serde::{Deserialize, Serialize};

/// Why a hex string could not be read as a fixed-size byte string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseBytesError {
    /// The string did not start with `0x`.
    #[error("expected a 0x-prefixed hex string")]
    MissingPrefix,
    /// The string held a character that is not a hex digit, or an odd number of digits.
    #[error("not valid hex: {0}")]
    InvalidHex(String),
    /// The decoded bytes had the wrong length.
    #[error("expected {expected} bytes, got {actual}")]
    WrongLength {
        /// The length the type requires.
        expected: usize,
        /// The length found.
        actual: usize,
    },
}

/// Parses `0x`-prefixed hex of any length.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, ParseBytesError> {
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .ok_or(ParseBytesError::MissingPrefix)?;
    hex::decode(digits).map_err(|e| ParseBytesError::InvalidHex(e.to_string()))
}

/// Parses `0x`-prefixed hex of exactly `N` bytes (what [`fixed_bytes!`](crate::fixed_bytes)
/// types use for `FromStr`).
pub fn parse_fixed_hex<const N: usize>(s: &str) -> Result<[u8; N], ParseBytesError> {
    let bytes = parse_hex(s)?;
    let actual = bytes.len();
    bytes.try_into().map_err(|_| ParseBytesError::WrongLength {
        expected: N,
        actual,
    })
}

/// Defines a fixed-size byte string written as `0x`-prefixed hex: `new`, `as_bytes`, `LEN`,
/// `FromStr`, `Display`, `Debug` and serde as a hex string. Other crates use it for the byte
/// strings that are theirs (roots, signatures, KZG commitments).
#[macro_export]
macro_rules! fixed_bytes {
    ($(#[$doc:meta])* $name:ident, $len:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name([u8; $len]);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;

            /// Wraps raw bytes.
            pub const fn new(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// The raw bytes.
            pub const fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::ParseBytesError;

            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                $crate::parse_fixed_hex::<$len>(s).map(Self)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "0x{}", $crate::__private::hex::encode(self.0))
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as $crate::__private::serde::Deserialize>::deserialize(deserializer)?;
                s.parse().map_err(<D::Error as $crate::__private::serde::de::Error>::custom)
            }
        }
    };
}

fixed_bytes!(
    /// A compressed BLS12-381 public key (48 bytes), as the beacon chain identifies validators.
    ///
    /// Parsing checks the length only; curve membership is the signer's business.
    BlsPublicKey,
    48
);
fixed_bytes!(
    /// A validator's 32-byte withdrawal credentials.
    WithdrawalCredentials,
    32
);
fixed_bytes!(
    /// A 20-byte execution-layer address (an EigenPod, an EOA, a contract).
    ExecutionAddress,
    20
);

/// The kind of withdrawal credentials, from their first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawalPrefix {
    /// `0x00`: a BLS withdrawal key; not yet pointing at any execution address.
    Bls,
    /// `0x01`: an execution address, balance capped at 32 ETH.
    Eth1,
    /// `0x02`: an execution address with compounding balance (EIP-7251, Electra).
    Compounding,
    /// Any other first byte: not defined by the consensus spec.
    Unknown(u8),
}

impl WithdrawalCredentials {
    /// The credential kind, from the prefix byte.
    pub const fn prefix(&self) -> WithdrawalPrefix {
        match self.0[0] {
            0x00 => WithdrawalPrefix::Bls,
            0x01 => WithdrawalPrefix::Eth1,
            0x02 => WithdrawalPrefix::Compounding,
            other => WithdrawalPrefix::Unknown(other),
        }
    }

    /// The execution address these credentials withdraw to, for `0x01` and `0x02` credentials.
    ///
    /// The consensus spec puts the address in the last 20 bytes after 11 zero bytes; credentials
    /// whose padding is not zero are not valid execution credentials and yield `None`.
    pub fn execution_address(&self) -> Option<ExecutionAddress> {
        match self.prefix() {
            WithdrawalPrefix::Eth1 | WithdrawalPrefix::Compounding => {
                if self.0[1..12].iter().any(|b| *b != 0) {
                    return None;
                }
                let mut address = [0u8; 20];
                address.copy_from_slice(&self.0[12..]);
                Some(ExecutionAddress(address))
            }
            WithdrawalPrefix::Bls | WithdrawalPrefix::Unknown(_) => None,
        }
    }

    /// Execution credentials of the given kind pointing at `address`.
    pub fn to_address(prefix: u8, address: ExecutionAddress) -> Self {
        let mut bytes = [0u8; 32];
        bytes[0] = prefix;
        bytes[12..].copy_from_slice(&address.0);
        Self(bytes)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn parses_and_prints_pubkey_hex() {
        let hex = format!("0x{}", "ab".repeat(48));
        let key: BlsPublicKey = hex.parse().unwrap();
        assert_eq!(key.to_string(), hex);
        assert_eq!(serde_json::to_string(&key).unwrap(), format!("\"{hex}\""));
    }

    #[test]
    fn rejects_wrong_length_missing_prefix_and_bad_digits() {
        assert_eq!(
            "0xabcd".parse::<BlsPublicKey>(),
            Err(ParseBytesError::WrongLength {
                expected: 48,
                actual: 2
            })
        );
        assert_eq!(
            "abcd".parse::<ExecutionAddress>(),
            Err(ParseBytesError::MissingPrefix)
        );
        assert!(matches!(
            "0xzz".parse::<ExecutionAddress>(),
            Err(ParseBytesError::InvalidHex(_))
        ));
    }

    #[test]
    fn credentials_expose_prefix_and_address() {
        let pod: ExecutionAddress = "0x00000000000000000000000000000000000000aa"
            .parse()
            .unwrap();
        let eth1 = WithdrawalCredentials::to_address(0x01, pod);
        assert_eq!(eth1.prefix(), WithdrawalPrefix::Eth1);
        assert_eq!(eth1.execution_address(), Some(pod));
        let compounding = WithdrawalCredentials::to_address(0x02, pod);
        assert_eq!(compounding.prefix(), WithdrawalPrefix::Compounding);
        let bls = WithdrawalCredentials::new([0u8; 32]);
        assert_eq!(bls.prefix(), WithdrawalPrefix::Bls);
        assert_eq!(bls.execution_address(), None);
    }

    #[test]
    fn credentials_with_nonzero_padding_have_no_address() {
        let mut bytes = [0u8; 32];
        bytes[0] = 0x01;
        bytes[5] = 1;
        assert_eq!(WithdrawalCredentials::new(bytes).execution_address(), None);
    }

    proptest! {
        #[test]
        fn hex_round_trips(bytes in proptest::array::uniform32(any::<u8>())) {
            let creds = WithdrawalCredentials::new(bytes);
            prop_assert_eq!(creds.to_string().parse::<WithdrawalCredentials>(), Ok(creds));
        }

        #[test]
        fn parser_never_panics(s in ".{0,120}") {
            let _ = s.parse::<BlsPublicKey>();
        }
    }
}
