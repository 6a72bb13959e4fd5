//! `Number`: DynamoDB's exact decimal type — at most 38 significant digits, magnitude
//! 1E-130 ..= 9.99…E+125 or zero — with parsing, canonical text, total order by value
//! and exact addition/subtraction, all with DynamoDB's error texts.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::wire::ApiError;

/// Most significant digits a Number may carry.
pub const MAX_DIGITS: usize = 38;
/// Largest allowed scientific exponent (9.99…E+125).
pub const MAX_EXPONENT: i64 = 125;
/// Smallest allowed scientific exponent (1E-130).
pub const MIN_EXPONENT: i64 = -130;

/// A DynamoDB number: `mantissa × 10^exponent`, always normalised (no trailing zeros in
/// the mantissa; zero is `0 × 10^0`), so the derived `Eq`/`Hash` compare by value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Number {
    mantissa: i128,
    exponent: i16,
}

/// Why a string or an arithmetic result is not a DynamoDB number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NumberError {
    /// More than 38 significant digits in the input.
    TooManyDigits,
    /// Magnitude above 9.99…E+125.
    Overflow,
    /// Non-zero magnitude below 1E-130.
    Underflow,
    /// An addition or subtraction whose exact result needs more than 38 digits.
    /// DynamoDB reports it with the *overflow* text: ScyllaDB Alternator's
    /// `test/alternator/test_number.py::test_update_expression_plus_imprecise` notes
    /// "Strangely, DynamoDB says that the error is: Number overflow. Attempting to store a
    /// number with magnitude larger than supported range" for `1e50 + 1`.
    Imprecise,
    /// Not a number at all; carries the input text.
    Unparseable(String),
}

const OVERFLOW: &str =
    "Number overflow. Attempting to store a number with magnitude larger than supported range";
const UNDERFLOW: &str =
    "Number underflow. Attempting to store a number with magnitude smaller than supported range";

impl NumberError {
    /// The exact ValidationException message DynamoDB answers with.
    pub fn message(&self) -> String {
        match self {
            NumberError::TooManyDigits => {
                "Attempting to store more than 38 significant digits in a Number".to_string()
            }
            NumberError::Overflow | NumberError::Imprecise => OVERFLOW.to_string(),
            NumberError::Underflow => UNDERFLOW.to_string(),
            // dynalite `validations/index.js` `checkNum`: an empty value gets the bare text.
            NumberError::Unparseable(s) if s.is_empty() => {
                "The parameter cannot be converted to a numeric value".to_string()
            }
            NumberError::Unparseable(s) => {
                format!("The parameter cannot be converted to a numeric value: {s}")
            }
        }
    }

    /// The error as DynamoDB answers it: a ValidationException.
    pub fn into_api_error(self) -> ApiError {
        ApiError::validation(self.message())
    }
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for NumberError {}

impl From<NumberError> for ApiError {
    fn from(e: NumberError) -> Self {
        e.into_api_error()
    }
}

impl Number {
    pub const ZERO: Number = Number {
        mantissa: 0,
        exponent: 0,
    };

    /// Parses DynamoDB's number syntax (what Java's `BigDecimal(String)` accepts, minus
    /// NaN/Infinity): `[+-]digits[.digits][(e|E)[+-]digits]`, also `.5` and `1.`.
    pub fn parse(input: &str) -> Result<Number, NumberError> {
        let bad = || NumberError::Unparseable(input.to_string());
        let bytes = input.as_bytes();
        let mut i = 0;
        let mut negative = false;
        if let Some(&c) = bytes.first() {
            if c == b'+' || c == b'-' {
                negative = c == b'-';
                i = 1;
            }
        }
        let mut digits: Vec<u8> = Vec::new();
        let mut frac_len: i64 = 0;
        let mut seen_digit = false;
        let mut seen_point = false;
        while i < bytes.len() {
            match bytes[i] {
                c @ b'0'..=b'9' => {
                    seen_digit = true;
                    // Leading zeros carry no information.
                    if !(digits.is_empty() && c == b'0') {
                        digits.push(c - b'0');
                    }
                    if seen_point {
                        frac_len = frac_len.saturating_add(1);
                    }
                }
                b'.' if !seen_point => seen_point = true,
                b'e' | b'E' => break,
                _ => return Err(bad()),
            }
            i += 1;
        }
        if !seen_digit {
            return Err(bad());
        }
        let mut exp: i64 = 0;
        if i < bytes.len() {
            // bytes[i] is 'e' or 'E'.
            i += 1;
            let mut exp_negative = false;
            if let Some(&c) = bytes.get(i) {
                if c == b'+' || c == b'-' {
                    exp_negative = c == b'-';
                    i += 1;
                }
            }
            if i >= bytes.len() {
                return Err(bad());
            }
            while i < bytes.len() {
                match bytes[i] {
                    c @ b'0'..=b'9' => {
                        // Saturate far outside the range: the result is then only ever
                        // an overflow or underflow, never a wrong value.
                        exp = exp.saturating_mul(10).saturating_add(i64::from(c - b'0'));
                        exp = exp.min(1_000_000_000_000_000);
                    }
                    _ => return Err(bad()),
                }
                i += 1;
            }
            if exp_negative {
                exp = -exp;
            }
        }
        from_digits(negative, &digits, exp.saturating_sub(frac_len), false)
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// True for values below zero.
    pub fn is_negative(&self) -> bool {
        self.mantissa < 0
    }

    /// The value with its sign flipped (always representable).
    pub fn negate(&self) -> Number {
        Number {
            mantissa: -self.mantissa,
            exponent: self.exponent,
        }
    }

    /// The normalised mantissa (no trailing zeros) and exponent.
    pub fn parts(&self) -> (i128, i16) {
        (self.mantissa, self.exponent)
    }

    /// Significant digits of the magnitude, most significant first (`[0]` for zero).
    pub fn digits(&self) -> Vec<u8> {
        self.mantissa
            .unsigned_abs()
            .to_string()
            .bytes()
            .map(|b| b - b'0')
            .collect()
    }

    /// The exponent of the leading digit (`d.ddd × 10^e`); 0 for zero.
    pub fn scientific_exponent(&self) -> i64 {
        if self.is_zero() {
            return 0;
        }
        i64::from(self.exponent) + digit_count(self.mantissa.unsigned_abs()) as i64 - 1
    }

    /// Exact `self + other`, or the error DynamoDB gives when the result does not fit.
    pub fn checked_add(&self, other: &Number) -> Result<Number, NumberError> {
        if self.is_zero() {
            return Ok(*other);
        }
        if other.is_zero() {
            return Ok(*self);
        }
        let (hi, lo) = if self.exponent >= other.exponent {
            (self, other)
        } else {
            (other, self)
        };
        let shift = i64::from(hi.exponent) - i64::from(lo.exponent);
        // |hi| × 10^shift with shift > 40 dwarfs |lo| < 10^38: the exact sum then spans
        // more than 38 digits (its lowest non-zero digit is lo's), so it cannot be stored.
        if shift > 40 {
            let sci = hi.scientific_exponent();
            return Err(if sci > MAX_EXPONENT {
                NumberError::Overflow
            } else {
                NumberError::Imprecise
            });
        }
        let hi_digits = shifted_digits(hi.mantissa.unsigned_abs(), shift as usize);
        let lo_digits = shifted_digits(lo.mantissa.unsigned_abs(), 0);
        let (negative, magnitude) = if hi.is_negative() == lo.is_negative() {
            (hi.is_negative(), add_le(&hi_digits, &lo_digits))
        } else {
            match cmp_le(&hi_digits, &lo_digits) {
                Ordering::Equal => return Ok(Number::ZERO),
                Ordering::Greater => (hi.is_negative(), sub_le(&hi_digits, &lo_digits)),
                Ordering::Less => (lo.is_negative(), sub_le(&lo_digits, &hi_digits)),
            }
        };
        let mut be: Vec<u8> = magnitude.into_iter().rev().collect();
        while be.first() == Some(&0) {
            be.remove(0);
        }
        from_digits(negative, &be, i64::from(lo.exponent), true)
    }

    /// Exact `self - other`, with the same errors as [`Number::checked_add`].
    pub fn checked_sub(&self, other: &Number) -> Result<Number, NumberError> {
        self.checked_add(&other.negate())
    }

    /// The value as an `i64` when it is an integer in range.
    pub fn to_i64(&self) -> Option<i64> {
        if self.exponent < 0 {
            return None;
        }
        let mut v = self.mantissa;
        for _ in 0..self.exponent {
            v = v.checked_mul(10)?;
        }
        i64::try_from(v).ok()
    }

    /// The nearest `f64` — for approximate uses only (metrics, capacity estimates).
    pub fn to_f64(&self) -> f64 {
        format!("{}e{}", self.mantissa, self.exponent)
            .parse()
            .unwrap_or(f64::NAN)
    }
}

/// Builds a number from big-endian magnitude digits (no leading zeros) × 10^exp,
/// stripping trailing zeros and checking DynamoDB's range and precision.
/// `arith` marks an arithmetic result, whose excess digits are `Imprecise`.
fn from_digits(
    negative: bool,
    digits: &[u8],
    exp: i64,
    arith: bool,
) -> Result<Number, NumberError> {
    let mut len = digits.len();
    while len > 0 && digits[len - 1] == 0 {
        len -= 1;
    }
    if len == 0 {
        return Ok(Number::ZERO);
    }
    let exp = exp.saturating_add((digits.len() - len) as i64);
    let sci = exp.saturating_add(len as i64 - 1);
    // dynalite `checkNum` order: overflow, underflow, then digit count.
    if sci > MAX_EXPONENT {
        return Err(NumberError::Overflow);
    }
    if sci < MIN_EXPONENT {
        return Err(NumberError::Underflow);
    }
    if len > MAX_DIGITS {
        return Err(if arith {
            NumberError::Imprecise
        } else {
            NumberError::TooManyDigits
        });
    }
    let mut m: i128 = 0;
    for &d in &digits[..len] {
        m = m * 10 + i128::from(d);
    }
    // In range: -167 <= exp <= 125, so it fits an i16.
    let exponent = i16::try_from(exp).map_err(|_| NumberError::Overflow)?;
    Ok(Number {
        mantissa: if negative { -m } else { m },
        exponent,
    })
}

fn digit_count(mut v: u128) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

/// Little-endian decimal digits of `v × 10^shift`.
fn shifted_digits(mut v: u128, shift: usize) -> Vec<u8> {
    let mut out = vec![0u8; shift];
    while v > 0 {
        out.push((v % 10) as u8);
        v /= 10;
    }
    out
}

fn cmp_le(a: &[u8], b: &[u8]) -> Ordering {
    let trim = |x: &[u8]| x.iter().rposition(|&d| d != 0).map_or(0, |p| p + 1);
    let (la, lb) = (trim(a), trim(b));
    la.cmp(&lb)
        .then_with(|| a[..la].iter().rev().cmp(b[..lb].iter().rev()))
}

fn add_le(a: &[u8], b: &[u8]) -> Vec<u8> {
    let n = a.len().max(b.len());
    let mut out = Vec::with_capacity(n + 1);
    let mut carry = 0u8;
    for i in 0..n {
        let s = a.get(i).copied().unwrap_or(0) + b.get(i).copied().unwrap_or(0) + carry;
        out.push(s % 10);
        carry = s / 10;
    }
    if carry > 0 {
        out.push(carry);
    }
    out
}

/// `a - b` for `a >= b`.
fn sub_le(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let mut borrow = 0i8;
    for (i, &da) in a.iter().enumerate() {
        let mut d = da as i8 - b.get(i).copied().unwrap_or(0) as i8 - borrow;
        borrow = 0;
        if d < 0 {
            d += 10;
            borrow = 1;
        }
        out.push(d as u8);
    }
    out
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        let sign = |n: &Number| n.mantissa.signum();
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal => {}
            o => return o,
        }
        if self.is_zero() {
            return Ordering::Equal;
        }
        let (a, b) = (self.mantissa.unsigned_abs(), other.mantissa.unsigned_abs());
        let magnitude = self
            .scientific_exponent()
            .cmp(&other.scientific_exponent())
            .then_with(|| {
                // Same leading exponent: align both to the same digit count (<= 38 digits).
                let (da, db) = (digit_count(a), digit_count(b));
                let (mut x, mut y) = (a, b);
                for _ in da..db {
                    x *= 10;
                }
                for _ in db..da {
                    y *= 10;
                }
                x.cmp(&y)
            });
        if self.is_negative() {
            magnitude.reverse()
        } else {
            magnitude
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl FromStr for Number {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Number::parse(s)
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Self {
        let (mut m, mut e) = (i128::from(v), 0i16);
        while m != 0 && m % 10 == 0 {
            m /= 10;
            e += 1;
        }
        Number {
            mantissa: m,
            exponent: e,
        }
    }
}

/// DynamoDB's canonical text: plain decimal, no exponent, no trailing fractional zeros,
/// no `+`, and `0` for zero (dynalite stores `Big(n).toFixed()`).
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_negative() {
            f.write_str("-")?;
        }
        let digits = self.mantissa.unsigned_abs().to_string();
        let e = i64::from(self.exponent);
        if e >= 0 {
            f.write_str(&digits)?;
            for _ in 0..e {
                f.write_str("0")?;
            }
            return Ok(());
        }
        let frac = (-e) as usize;
        if digits.len() > frac {
            let (int, fr) = digits.split_at(digits.len() - frac);
            write!(f, "{int}.{fr}")
        } else {
            f.write_str("0.")?;
            for _ in 0..frac - digits.len() {
                f.write_str("0")?;
            }
            f.write_str(&digits)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use bigdecimal::BigDecimal;
    use proptest::prelude::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn canonical_text() {
        assert_eq!(n("1.50").to_string(), "1.5");
        assert_eq!(n("1e3").to_string(), "1000");
        assert_eq!(n("-0.00100").to_string(), "-0.001");
        assert_eq!(n("-0").to_string(), "0");
        assert_eq!(n("+0.000e5").to_string(), "0");
        assert_eq!(n("0e99999999999999999999").to_string(), "0");
        assert_eq!(n(".5").to_string(), "0.5");
        assert_eq!(n("1.").to_string(), "1");
        assert_eq!(n("0001.23").to_string(), "1.23");
        assert_eq!(n("-17.4E37").to_string(), format!("-174{}", "0".repeat(36)));
        assert_eq!(n("1E-130").to_string(), format!("0.{}1", "0".repeat(129)));
        let big = n("9.99E+125").to_string();
        assert_eq!(big.len(), 126);
        assert!(big.starts_with("999") && big[3..].bytes().all(|b| b == b'0'));
    }

    #[test]
    fn equal_by_value() {
        assert_eq!(n("1000"), n("1e3"));
        assert_eq!(n("1000"), n("1.0E3"));
        assert_eq!(n("10.00"), n("1e1"));
        assert_eq!(n("-0"), n("0"));
        assert!(n("-1") < n("-0.5"));
        assert!(n("1e-130") < n("1e-129"));
        assert!(n("99") < n("100"));
        assert!(n("-100") < n("-99"));
    }

    #[test]
    fn rejects_bad_syntax() {
        for s in [
            "",
            "NaN",
            "Infinity",
            "-Infinity",
            "dog",
            " 1",
            "1 ",
            "0x10",
            "1e",
            "1e+",
            ".",
            "-",
            "+",
            "1..2",
            "1.2.3",
            "e5",
            "--1",
            "1e5.5",
            "١",
        ] {
            let e = Number::parse(s).unwrap_err();
            assert!(matches!(e, NumberError::Unparseable(_)), "{s:?}");
        }
        assert_eq!(
            Number::parse("dog").unwrap_err().message(),
            "The parameter cannot be converted to a numeric value: dog"
        );
        assert_eq!(
            Number::parse("").unwrap_err().message(),
            "The parameter cannot be converted to a numeric value"
        );
    }

    #[test]
    fn range_and_precision() {
        assert_eq!(Number::parse("1e126").unwrap_err(), NumberError::Overflow);
        assert_eq!(Number::parse("11e125").unwrap_err(), NumberError::Overflow);
        assert_eq!(
            Number::parse("-1e999999999999").unwrap_err(),
            NumberError::Overflow
        );
        assert_eq!(Number::parse("1e-131").unwrap_err(), NumberError::Underflow);
        assert_eq!(
            Number::parse("0.9e-130").unwrap_err(),
            NumberError::Underflow
        );
        assert_eq!(
            Number::parse("1e-999999999999999999999999").unwrap_err(),
            NumberError::Underflow
        );
        assert!(Number::parse("9.9999999999999999999999999999999999999E+125").is_ok());
        assert!(Number::parse("-1e-130").is_ok());
        assert!(Number::parse("3.1415926535897932384626433832795028841").is_ok());
        assert!(Number::parse("31415926535897932384626433832795028841e30").is_ok());
        assert!(Number::parse("1000000000000000000000000000000000000000000000").is_ok());
        let e = Number::parse("3.14159265358979323846264338327950288419").unwrap_err();
        assert_eq!(e, NumberError::TooManyDigits);
        assert_eq!(
            e.message(),
            "Attempting to store more than 38 significant digits in a Number"
        );
        let api = ApiError::from(e);
        assert_eq!(
            api.type_name(),
            "com.amazon.coral.validate#ValidationException"
        );
        assert_eq!(
            NumberError::Overflow.message(),
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        );
        assert_eq!(
            NumberError::Underflow.message(),
            "Number underflow. Attempting to store a number with magnitude smaller than supported range"
        );
    }

    #[test]
    fn arithmetic() {
        assert_eq!(
            n("1").checked_add(&n("10000000000000000000000")).unwrap(),
            n("10000000000000000000001")
        );
        assert_eq!(
            n("10000000000000000000000").checked_sub(&n("1")).unwrap(),
            n("9999999999999999999999")
        );
        assert_eq!(
            n("9e125").checked_add(&n("9e125")).unwrap_err(),
            NumberError::Overflow
        );
        assert_eq!(
            n("9e125").checked_sub(&n("-9e125")).unwrap_err(),
            NumberError::Overflow
        );
        assert_eq!(
            n("1e50").checked_add(&n("1")).unwrap_err(),
            NumberError::Imprecise
        );
        assert_eq!(
            n("1e50").checked_sub(&n("1")).unwrap_err().message(),
            NumberError::Overflow.message()
        );
        assert_eq!(n("0.1").checked_add(&n("0.2")).unwrap(), n("0.3"));
        assert_eq!(n("5").checked_sub(&n("5")).unwrap(), Number::ZERO);
        assert_eq!(
            n("1.0000000000000000000000000000000000001e-130")
                .checked_sub(&n("1e-130"))
                .unwrap_err(),
            NumberError::Underflow
        );
        assert_eq!(n("-3").negate(), n("3"));
        assert_eq!(n("12e3").to_i64(), Some(12000));
        assert_eq!(n("1.5").to_i64(), None);
        assert!((n("1.5").to_f64() - 1.5).abs() < 1e-12);
    }

    fn number_text() -> impl Strategy<Value = String> {
        (any::<bool>(), "[0-9]{1,38}", 0usize..40, -150i32..130).prop_map(
            |(neg, digits, point, exp)| {
                let point = point.min(digits.len());
                let (a, b) = digits.split_at(point);
                format!("{}{}.{}e{}", if neg { "-" } else { "" }, a, b, exp)
            },
        )
    }

    /// Like [`number_text`], also with more than 38 digits (and leading zeros).
    fn wide_number_text() -> impl Strategy<Value = String> {
        (any::<bool>(), "0{0,3}[0-9]{1,45}", 0usize..50, -170i32..170).prop_map(
            |(neg, digits, point, exp)| {
                let point = point.min(digits.len());
                let (a, b) = digits.split_at(point);
                format!("{}{}.{}e{}", if neg { "-" } else { "" }, a, b, exp)
            },
        )
    }

    fn valid_number() -> impl Strategy<Value = Number> {
        number_text().prop_filter_map("out of range", |s| Number::parse(&s).ok())
    }

    fn big(x: &Number) -> BigDecimal {
        BigDecimal::from_str(&x.to_string()).unwrap()
    }

    fn big_plain(b: &BigDecimal) -> String {
        let b = b.normalized();
        let (int, scale) = b.as_bigint_and_exponent();
        if int.sign() == bigdecimal::num_bigint::Sign::NoSign {
            return "0".to_string();
        }
        let neg = int.sign() == bigdecimal::num_bigint::Sign::Minus;
        let digits = int.magnitude().to_string();
        let body = if scale <= 0 {
            format!("{digits}{}", "0".repeat((-scale) as usize))
        } else if digits.len() as i64 > scale {
            let (a, b) = digits.split_at(digits.len() - scale as usize);
            format!("{a}.{b}")
        } else {
            format!("0.{}{digits}", "0".repeat(scale as usize - digits.len()))
        };
        format!("{}{body}", if neg { "-" } else { "" })
    }

    /// The independent oracle: what DynamoDB stores for the exact value `b` — its plain
    /// text, or the error (dynalite `checkNum` order: overflow, underflow, then more than
    /// 38 significant digits, which an arithmetic result reports as `Imprecise`).
    fn oracle(b: &BigDecimal, arith: bool) -> Result<String, NumberError> {
        let b = b.normalized();
        let (int, scale) = b.as_bigint_and_exponent();
        if int.sign() == bigdecimal::num_bigint::Sign::NoSign {
            return Ok("0".to_string());
        }
        let digits = int.magnitude().to_string().len() as i64;
        let sci = digits - 1 - scale;
        if sci > MAX_EXPONENT {
            return Err(NumberError::Overflow);
        }
        if sci < MIN_EXPONENT {
            return Err(NumberError::Underflow);
        }
        if digits > MAX_DIGITS as i64 {
            return Err(if arith {
                NumberError::Imprecise
            } else {
                NumberError::TooManyDigits
            });
        }
        Ok(big_plain(&b))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        #[test]
        fn display_parse_round_trip(x in valid_number()) {
            prop_assert_eq!(Number::parse(&x.to_string()).unwrap(), x);
        }

        /// Every generated text, in range or not: accepted with bigdecimal's value, or
        /// refused with the error the oracle names.
        #[test]
        fn parse_and_display_match_bigdecimal(s in wide_number_text()) {
            let b = BigDecimal::from_str(&s).unwrap();
            prop_assert_eq!(Number::parse(&s).map(|x| x.to_string()), oracle(&b, false), "{}", s);
        }

        #[test]
        fn order_matches_bigdecimal(a in valid_number(), b in valid_number()) {
            prop_assert_eq!(a.cmp(&b), big(&a).cmp(&big(&b)));
            prop_assert_eq!(a == b, big(&a) == big(&b));
        }

        #[test]
        fn add_sub_match_bigdecimal(a in valid_number(), b in valid_number()) {
            let sum = big(&a) + big(&b);
            prop_assert_eq!(a.checked_add(&b).map(|x| x.to_string()), oracle(&sum, true), "{} + {}", a, b);
            let diff = big(&a) - big(&b);
            prop_assert_eq!(a.checked_sub(&b).map(|x| x.to_string()), oracle(&diff, true), "{} - {}", a, b);
        }

        #[test]
        fn spellings_are_equal(x in valid_number(), pad in 0usize..5, shift in -5i64..5) {
            // Same value, different text: trailing zeros, leading zeros, moved exponent.
            let text = x.to_string();
            let (neg, body) = text.strip_prefix('-').map_or((false, text.as_str()), |b| (true, b));
            let (mantissa, exp) = (i128::abs(x.parts().0), i64::from(x.parts().1));
            let shifted = format!("{}{}{}e{}", if neg { "-" } else { "+" }, "0".repeat(pad), mantissa, exp);
            prop_assert_eq!(Number::parse(&shifted).unwrap(), x);
            let zeros = format!("{}{}{}{}", if neg { "-" } else { "" }, "0".repeat(pad), body, if body.contains('.') { "0".repeat(pad) } else { String::new() });
            prop_assert_eq!(Number::parse(&zeros).unwrap(), x);
            let moved = format!("{}{}e{}", if neg { "-" } else { "" }, body, shift);
            if let Ok(m) = Number::parse(&moved) {
                let back = format!("{}e{}", m, -shift);
                prop_assert_eq!(Number::parse(&back).unwrap(), x);
            }
        }
    }
}
