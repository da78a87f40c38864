//! Exact fixed-point values: parsing decimal text, rescaling between decimals, formatting.
//!
//! A feed's value is an `i128` scaled by `10^decimals` (decimals at most
//! [`MAX_DECIMALS`](super::config::MAX_DECIMALS)). Nothing on the way to a signed value goes
//! through floating point. When a value has more digits than the feed keeps, it is rounded to
//! the nearest value, ties to even (banker's rounding: unbiased over many values).

use alloy_primitives::{I256, U256};

/// Why a text or number is not a value of the feed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ValueError {
    /// Not a decimal number (`-?digits(.digits)?([eE][+-]?digits)?`).
    #[error("not a decimal number: {0:?}")]
    Syntax(String),
    /// The number does not fit the feed's fixed-point range.
    #[error("{0} is out of range at {1} decimals")]
    OutOfRange(String, u8),
}

/// Longest text parsed (a JSON body is bounded anyway; this bounds the digit work).
const MAX_TEXT: usize = 512;

/// Largest exponent magnitude accepted in `1e<exp>` notation.
const MAX_EXPONENT: i64 = 1000;

/// Parses decimal `text` exactly and scales it to `decimals`, rounding half to even.
///
/// Accepts the JSON number grammar (leading zeros too): an optional `-`, digits, an optional
/// fraction and an optional exponent. `"3412.5512"` at 8 decimals is `341255120000`.
pub(crate) fn parse_decimal(text: &str, decimals: u8) -> Result<i128, ValueError> {
    let syntax = || ValueError::Syntax(shorten(text));
    if text.len() > MAX_TEXT {
        return Err(syntax());
    }
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (mantissa, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) || frac_part.is_some_and(|f| !all_digits(f)) {
        return Err(syntax());
    }
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if !all_digits(digits) || digits.len() > 6 {
                return Err(syntax());
            }
            let magnitude: i64 = digits.parse().map_err(|_| syntax())?;
            if magnitude > MAX_EXPONENT {
                return Err(ValueError::OutOfRange(shorten(text), decimals));
            }
            if e.starts_with('-') {
                -magnitude
            } else {
                magnitude
            }
        }
    };
    let frac_part = frac_part.unwrap_or("");
    // value = digits × 10^(exponent - frac_len); scaled = digits × 10^shift.
    let digits: String = [int_part, frac_part].concat();
    let digits = digits.trim_start_matches('0');
    let frac_len = i64::try_from(frac_part.len()).map_err(|_| syntax())?;
    let shift = i64::from(decimals) + exponent - frac_len;
    let out_of_range = || ValueError::OutOfRange(shorten(text), decimals);
    let magnitude = scale_digits(digits, shift).ok_or_else(out_of_range)?;
    apply_sign(magnitude, negative).ok_or_else(out_of_range)
}

/// `digits × 10^shift` (digits without leading zeros), rounding half to even when `shift` drops
/// digits; `None` when it does not fit a `u128`.
fn scale_digits(digits: &str, shift: i64) -> Option<u128> {
    if digits.is_empty() {
        return Some(0);
    }
    if shift >= 0 {
        let base: u128 = digits.parse().ok()?;
        let factor = 10u128.checked_pow(u32::try_from(shift).ok()?)?;
        return base.checked_mul(factor);
    }
    let dropped = usize::try_from(shift.unsigned_abs()).ok()?;
    if dropped > digits.len() {
        // Everything is below half a unit: the dropped part starts with a zero.
        return Some(0);
    }
    let (kept, rest) = digits.split_at(digits.len() - dropped);
    let kept: u128 = if kept.is_empty() {
        0
    } else {
        kept.parse().ok()?
    };
    let round_up = match rest.as_bytes().first() {
        Some(b'6'..=b'9') => true,
        Some(b'5') if rest.bytes().skip(1).any(|b| b != b'0') => true,
        // An exact half: to even.
        Some(b'5') => kept % 2 == 1,
        _ => false,
    };
    if round_up {
        kept.checked_add(1)
    } else {
        Some(kept)
    }
}

fn apply_sign(magnitude: u128, negative: bool) -> Option<i128> {
    if negative {
        0i128.checked_sub_unsigned(magnitude)
    } else {
        i128::try_from(magnitude).ok()
    }
}

/// Rescales `value`, scaled by `10^from`, to `10^to`, rounding half to even; `None` when the
/// result does not fit an `i128` (or `from`/`to` are beyond 76, where `10^n` leaves `int256`).
pub(crate) fn rescale(value: I256, from: u8, to: u8) -> Option<i128> {
    let ten = U256::from(10u8);
    let magnitude = value.unsigned_abs();
    let scaled = if to >= from {
        let factor = ten.checked_pow(U256::from(to - from))?;
        magnitude.checked_mul(factor)?
    } else {
        let factor = ten.checked_pow(U256::from(from - to))?;
        let (quotient, remainder) = magnitude.div_rem(factor);
        // Compare 2·remainder with the factor without overflowing: remainder < factor ≤ 10^76.
        let twice = remainder.checked_mul(U256::from(2u8))?;
        let round_up = twice > factor || (twice == factor && quotient.bit(0));
        if round_up {
            quotient.checked_add(U256::from(1u8))?
        } else {
            quotient
        }
    };
    let magnitude = u128::try_from(scaled).ok()?;
    apply_sign(magnitude, value.is_negative())
}

/// `value` (scaled by `10^decimals`) as exact decimal text with all its decimals:
/// `341255120000` at 8 decimals is `"3412.55120000"`.
pub(crate) fn format_value(value: i128, decimals: u8) -> String {
    let digits = value.unsigned_abs().to_string();
    let sign = if value < 0 { "-" } else { "" };
    let decimals = usize::from(decimals);
    if decimals == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = decimals + 1);
    let (int, frac) = padded.split_at(padded.len() - decimals);
    format!("{sign}{int}.{frac}")
}

/// `value` as a float, for gauges only (never for what is signed).
pub(crate) fn as_f64(value: i128, decimals: u8) -> f64 {
    // Lossy by nature: a gauge shows a rounded figure.
    format_value(value, decimals).parse().unwrap_or(f64::NAN)
}

/// The median of `values` (sorted here): the middle value, or for an even count the mean of
/// the two middle values rounded down (towards negative infinity). `None` when empty.
pub(crate) fn median(values: &mut [i128]) -> Option<i128> {
    values.sort_unstable();
    let n = values.len();
    if n == 0 {
        return None;
    }
    if n % 2 == 1 {
        return Some(values[n / 2]);
    }
    let (a, b) = (values[n / 2 - 1], values[n / 2]);
    // floor((a + b) / 2) without overflow: arithmetic shifts floor.
    Some((a >> 1) + (b >> 1) + (a & b & 1))
}

/// Whether `value` is further than `bps` basis points of `|reference|` from `reference`:
/// `|value − reference| · 10000 > bps · |reference|`, computed exactly.
pub(crate) fn beyond_bps(value: i128, reference: i128, bps: u32) -> bool {
    let diff = abs_diff(value, reference);
    let lhs = U256::from(diff) * U256::from(10_000u32);
    let rhs = U256::from(bps) * U256::from(reference.unsigned_abs());
    lhs > rhs
}

/// Whether `value` moved at least `bps` basis points of `|last|` away from `last` (and moved at
/// all): `value ≠ last ∧ |value − last| · 10000 ≥ bps · |last|`.
pub(crate) fn deviates(value: i128, last: i128, bps: u32) -> bool {
    if value == last {
        return false;
    }
    let diff = abs_diff(value, last);
    let lhs = U256::from(diff) * U256::from(10_000u32);
    let rhs = U256::from(bps) * U256::from(last.unsigned_abs());
    lhs >= rhs
}

fn abs_diff(a: i128, b: i128) -> u128 {
    a.abs_diff(b)
}

fn shorten(text: &str) -> String {
    const SHOWN: usize = 40;
    if text.len() <= SHOWN {
        return text.to_owned();
    }
    let mut end = SHOWN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn parses_decimal_text_exactly() {
        assert_eq!(parse_decimal("3412.5512", 8), Ok(341_255_120_000));
        assert_eq!(parse_decimal("3412.5512", 4), Ok(34_125_512));
        assert_eq!(parse_decimal("-0.5", 2), Ok(-50));
        assert_eq!(parse_decimal("0", 18), Ok(0));
        assert_eq!(parse_decimal("-0", 0), Ok(0));
        assert_eq!(parse_decimal("007.10", 2), Ok(710));
        assert_eq!(parse_decimal("3.4125512e3", 4), Ok(34_125_512));
        assert_eq!(parse_decimal("34125512E-4", 4), Ok(34_125_512));
        assert_eq!(parse_decimal("1e+2", 0), Ok(100));
        // 0.1 has no exact binary form: an f64 path would give 0.1000000000000000055...
        assert_eq!(parse_decimal("0.1", 18), Ok(100_000_000_000_000_000));
        assert_eq!(
            parse_decimal("123456789012345678901.123456789012345678", 18),
            Ok(123_456_789_012_345_678_901_123_456_789_012_345_678)
        );
    }

    #[test]
    fn rounds_dropped_digits_half_to_even() {
        assert_eq!(parse_decimal("1.25", 1), Ok(12));
        assert_eq!(parse_decimal("1.35", 1), Ok(14));
        assert_eq!(parse_decimal("1.250001", 1), Ok(13));
        assert_eq!(parse_decimal("1.24999", 1), Ok(12));
        assert_eq!(parse_decimal("-1.25", 1), Ok(-12));
        assert_eq!(parse_decimal("-1.35", 1), Ok(-14));
        assert_eq!(parse_decimal("0.5", 0), Ok(0));
        assert_eq!(parse_decimal("1.5", 0), Ok(2));
        assert_eq!(parse_decimal("0.0004", 2), Ok(0));
        assert_eq!(parse_decimal("0.006", 2), Ok(1));
        assert_eq!(parse_decimal("5e-1", 0), Ok(0));
        assert_eq!(parse_decimal("5e-5", 0), Ok(0));
    }

    #[test]
    fn refuses_what_is_not_a_decimal_number() {
        for text in [
            "", "-", ".5", "5.", "1.2.3", "1e", "1e+", "abc", "0x10", " 1", "1 ", "+1", "1,5",
            "NaN", "inf", "1_000", "--1", "1e5.5",
        ] {
            assert!(
                matches!(parse_decimal(text, 2), Err(ValueError::Syntax(_))),
                "{text:?}"
            );
        }
        assert!(matches!(
            parse_decimal("1e1000000", 2),
            Err(ValueError::Syntax(_))
        ));
        assert!(matches!(
            parse_decimal("1e999", 2),
            Err(ValueError::OutOfRange(..))
        ));
        assert!(matches!(
            parse_decimal("200000000000000000000", 18),
            Err(ValueError::OutOfRange(..))
        ));
        assert_eq!(parse_decimal("0e999", 18), Ok(0));
        assert!(parse_decimal(&"9".repeat(600), 0).is_err());
    }

    #[test]
    fn the_extremes_of_i128_parse() {
        assert_eq!(parse_decimal(&i128::MAX.to_string(), 0), Ok(i128::MAX));
        assert_eq!(parse_decimal(&i128::MIN.to_string(), 0), Ok(i128::MIN));
        assert!(parse_decimal("170141183460469231731687303715884105728", 0).is_err());
    }

    #[test]
    fn rescales_contract_answers() {
        let v = I256::try_from(341_255_120_000i128).unwrap();
        assert_eq!(rescale(v, 8, 4), Some(34_125_512));
        assert_eq!(rescale(v, 8, 18), Some(3_412_551_200_000_000_000_000));
        assert_eq!(rescale(I256::try_from(25).unwrap(), 1, 0), Some(2));
        assert_eq!(rescale(I256::try_from(35).unwrap(), 1, 0), Some(4));
        assert_eq!(rescale(I256::try_from(-35).unwrap(), 1, 0), Some(-4));
        assert_eq!(rescale(I256::try_from(26).unwrap(), 1, 0), Some(3));
        assert_eq!(rescale(I256::MAX, 0, 0), None);
        assert_eq!(rescale(I256::MAX, 76, 0), Some(6));
        assert_eq!(rescale(I256::ONE, 0, 77), None);
        // Gwei to ETH at 18 and at 4 decimals.
        assert_eq!(
            rescale(I256::try_from(32_000_001_234u64).unwrap(), 9, 18),
            Some(32_000_001_234_000_000_000)
        );
        assert_eq!(
            rescale(I256::try_from(32_000_051_234u64).unwrap(), 9, 4),
            Some(320_001)
        );
    }

    #[test]
    fn formats_with_every_decimal() {
        assert_eq!(format_value(341_255_120_000, 8), "3412.55120000");
        assert_eq!(format_value(-5, 3), "-0.005");
        assert_eq!(format_value(0, 2), "0.00");
        assert_eq!(format_value(42, 0), "42");
        assert_eq!(
            format_value(i128::MIN, 18),
            format!("-{}", "170141183460469231731.687303715884105728")
        );
        assert_eq!(as_f64(341_255_120_000, 8), 3412.5512);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [7]), Some(7));
        assert_eq!(median(&mut [9, 1, 5]), Some(5));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2));
        assert_eq!(median(&mut [3, 4]), Some(3));
        assert_eq!(median(&mut [-3, -4]), Some(-4));
        assert_eq!(median(&mut [i128::MAX, i128::MAX]), Some(i128::MAX));
        assert_eq!(median(&mut [i128::MIN, i128::MAX]), Some(-1));
    }

    #[test]
    fn basis_points_compare_exactly() {
        // 1% of 10000 is 100.
        assert!(!beyond_bps(10_100, 10_000, 100));
        assert!(beyond_bps(10_101, 10_000, 100));
        assert!(beyond_bps(9_899, 10_000, 100));
        assert!(deviates(10_100, 10_000, 100));
        assert!(!deviates(10_099, 10_000, 100));
        assert!(!deviates(10_000, 10_000, 1));
        assert!(deviates(1, 0, 10_000));
        assert!(beyond_bps(1, 0, 10_000));
        assert!(beyond_bps(i128::MAX, i128::MIN, 10_000));
    }

    /// Half-to-even rounding of `n / 10^k`, computed on integers as a reference.
    fn reference_round(n: i128, k: u32) -> i128 {
        let factor = 10i128.pow(k);
        let q = n / factor;
        let r = (n % factor).abs();
        let twice = r * 2;
        let up = twice > factor || (twice == factor && q % 2 != 0);
        if up { q + n.signum() } else { q }
    }

    proptest! {
        #[test]
        fn format_then_parse_is_the_identity(value in any::<i128>(), decimals in 0u8..=18) {
            prop_assert_eq!(parse_decimal(&format_value(value, decimals), decimals), Ok(value));
        }

        #[test]
        fn dropping_digits_rounds_half_to_even(
            value in -(10i128.pow(30))..10i128.pow(30),
            decimals in 0u8..=18,
            extra in 1u32..=8,
        ) {
            let text = format_value(value, decimals + u8::try_from(extra).unwrap());
            prop_assert_eq!(parse_decimal(&text, decimals), Ok(reference_round(value, extra)));
            let wide = I256::try_from(value).unwrap();
            prop_assert_eq!(
                rescale(wide, decimals + u8::try_from(extra).unwrap(), decimals),
                Some(reference_round(value, extra))
            );
        }

        #[test]
        fn exponent_notation_equals_the_plain_text(
            value in -(10i128.pow(20))..10i128.pow(20),
            exp in -10i32..=10,
        ) {
            // value × 10^exp written two ways.
            let plain = if exp >= 0 {
                format!("{value}{}", "0".repeat(exp.unsigned_abs() as usize))
            } else {
                format_value(value, u8::try_from(exp.unsigned_abs()).unwrap())
            };
            let scientific = format!("{value}e{exp}");
            prop_assert_eq!(parse_decimal(&scientific, 12).ok(), parse_decimal(&plain, 12).ok());
        }

        #[test]
        fn rescaling_up_and_down_round_trips(value in -(10i128.pow(18))..10i128.pow(18), from in 0u8..=18, up in 0u8..=18) {
            let wide = I256::try_from(value).unwrap();
            let scaled = rescale(wide, from, from + up).unwrap();
            prop_assert_eq!(rescale(I256::try_from(scaled).unwrap(), from + up, from), Some(value));
        }

        #[test]
        fn the_median_lies_within_the_values_and_ignores_order(
            mut values in proptest::collection::vec(any::<i128>(), 1..16),
        ) {
            let min = *values.iter().min().unwrap();
            let max = *values.iter().max().unwrap();
            let m = median(&mut values.clone()).unwrap();
            prop_assert!(min <= m && m <= max);
            values.reverse();
            prop_assert_eq!(median(&mut values), Some(m));
        }
    }
}
