//! Serde adapter for the Beacon API's quoted integers.
//!
//! The Beacon API writes every 64-bit integer as a decimal string (`"slot": "10"`), because
//! JSON numbers lose precision past 2^53 in many parsers. Use it on a field with
//! `#[serde(with = "restake_beacon::quoted")]`; it works for `u64` and for the integer
//! newtypes of `restake-types` ([`Slot`], [`Epoch`], [`ValidatorIndex`], [`Gwei`]).
//!
//! Serializing always writes a string. Deserializing accepts a string of ASCII decimal digits
//! (no sign, no whitespace, no exponent) that fits in a `u64`, and also a plain non-negative JSON
//! integer, which some servers write for small values.

use std::fmt;

use restake_types::{Epoch, Gwei, Slot, ValidatorIndex};
use serde::{Deserializer, Serializer, de};

/// A type carried on the wire as a quoted `u64`.
pub trait QuotedU64: Copy {
    /// The integer to write.
    fn to_u64(self) -> u64;
    /// The value for an integer read.
    fn from_u64(value: u64) -> Self;
}

impl QuotedU64 for u64 {
    fn to_u64(self) -> u64 {
        self
    }
    fn from_u64(value: u64) -> Self {
        value
    }
}

macro_rules! quoted_newtype {
    ($($name:ident),*) => {$(
        impl QuotedU64 for $name {
            fn to_u64(self) -> u64 {
                self.get()
            }
            fn from_u64(value: u64) -> Self {
                $name(value)
            }
        }
    )*};
}

quoted_newtype!(Slot, Epoch, ValidatorIndex, Gwei);

/// Why a string is not a quoted `u64`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseQuotedError {
    /// The string was empty.
    #[error("empty string where a decimal integer was expected")]
    Empty,
    /// The string held something other than ASCII decimal digits.
    #[error("{0:?} is not a decimal integer")]
    NotDecimal(String),
    /// The number does not fit in 64 bits.
    #[error("{0} does not fit in a 64-bit unsigned integer")]
    Overflow(String),
}

/// Parses a decimal `u64` strictly: digits only, at most `u64::MAX`.
///
/// Unlike `str::parse::<u64>`, a leading `+` is refused: the Beacon API never writes one, and
/// accepting it would let two spellings stand for one value.
pub fn parse_decimal(s: &str) -> Result<u64, ParseQuotedError> {
    if s.is_empty() {
        return Err(ParseQuotedError::Empty);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseQuotedError::NotDecimal(excerpt(s)));
    }
    s.parse::<u64>()
        .map_err(|_| ParseQuotedError::Overflow(excerpt(s)))
}

fn excerpt(s: &str) -> String {
    const MAX: usize = 40;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &s[..cut]),
        None => s.to_owned(),
    }
}

/// Writes `value` as a decimal string.
pub fn serialize<T: QuotedU64, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&value.to_u64())
}

/// Reads a decimal string (or a plain non-negative integer).
pub fn deserialize<'de, T: QuotedU64, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    deserializer.deserialize_any(QuotedVisitor).map(T::from_u64)
}

struct QuotedVisitor;

impl de::Visitor<'_> for QuotedVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal integer string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        parse_decimal(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom(format!("negative integer {v}")))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        #[serde(with = "super")]
        slot: Slot,
        #[serde(with = "super")]
        raw: u64,
    }

    #[test]
    fn writes_strings_and_reads_them_back() {
        let sample = Sample {
            slot: Slot(10),
            raw: u64::MAX,
        };
        let json = serde_json::to_string(&sample).unwrap();
        assert_eq!(json, r#"{"slot":"10","raw":"18446744073709551615"}"#);
        assert_eq!(serde_json::from_str::<Sample>(&json).unwrap(), sample);
    }

    #[test]
    fn accepts_plain_integers_too() {
        let sample: Sample = serde_json::from_str(r#"{"slot":7,"raw":"8"}"#).unwrap();
        assert_eq!(sample.slot, Slot(7));
    }

    #[test]
    fn refuses_signs_spaces_fractions_overflow_and_negatives() {
        for bad in [
            r#""+1""#,
            r#""-1""#,
            r#"" 1""#,
            r#""1 ""#,
            r#""1.0""#,
            r#""1e3""#,
            r#""0x10""#,
            r#""""#,
            r#""18446744073709551616""#,
            "-1",
            "1.5",
            "true",
            "null",
        ] {
            let json = format!(r#"{{"slot":{bad},"raw":"1"}}"#);
            assert!(
                serde_json::from_str::<Sample>(&json).is_err(),
                "{bad} was accepted"
            );
        }
    }

    #[test]
    fn parse_errors_name_the_problem() {
        assert_eq!(parse_decimal(""), Err(ParseQuotedError::Empty));
        assert!(matches!(
            parse_decimal("12a"),
            Err(ParseQuotedError::NotDecimal(_))
        ));
        assert!(matches!(
            parse_decimal("99999999999999999999"),
            Err(ParseQuotedError::Overflow(_))
        ));
    }

    proptest! {
        #[test]
        fn round_trips_every_u64(value in any::<u64>()) {
            let sample = Sample { slot: Slot(value), raw: value };
            let json = serde_json::to_string(&sample).unwrap();
            prop_assert_eq!(serde_json::from_str::<Sample>(&json).unwrap(), sample);
            prop_assert_eq!(parse_decimal(&value.to_string()), Ok(value));
        }

        #[test]
        fn leading_zeros_parse_to_the_same_value(value in any::<u32>(), zeros in 0usize..5) {
            let s = format!("{}{value}", "0".repeat(zeros));
            prop_assert_eq!(parse_decimal(&s), Ok(u64::from(value)));
        }

        #[test]
        fn never_panics_and_agrees_with_a_reference(s in "\\PC{0,30}|[+0-9]{0,25}") {
            let ours = parse_decimal(&s);
            let digits_only = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            match ours {
                Ok(v) => {
                    prop_assert!(digits_only);
                    prop_assert_eq!(s.parse::<u64>().ok(), Some(v));
                }
                Err(_) => prop_assert!(!digits_only || s.parse::<u64>().is_err()),
            }
            let json = serde_json::to_string(&s).unwrap();
            let _ = serde_json::from_str::<Sample>(&format!(r#"{{"slot":{json},"raw":"0"}}"#));
        }
    }
}
