//! Order-preserving, self-delimiting byte encodings of key values: `memcmp` order of the
//! encodings equals DynamoDB's order (S by UTF-8 bytes, B by unsigned bytes, N by value),
//! so `enc(pk) ++ enc(sk)` sorts by (pk, sk). Also the stable hash that gives Scan order.
//!
//! Format (version 1, stored on disk — do not change without a format migration):
//! - **S, B**: the bytes with each `0x00` written as `0x00 0xFF`, then `0x00 0x00`.
//! - **N**: one sign byte — `0x01` negative, `0x02` zero, `0x03` positive. Zero ends
//!   there. Otherwise one exponent byte `e + 130` (the leading digit's exponent, in
//!   `0..=255`), then the significant digits two per byte as `pair + 1` (`1..=100`, an odd
//!   last digit padded with 0), then the terminator `0x00`. Negative numbers write every
//!   byte after the sign byte as `0xFF - b` (terminator `0xFF`), which reverses the order.

use sha2::{Digest, Sha256};

use super::number::{Number, MIN_EXPONENT};
use super::value::AttributeValue;

const NEG: u8 = 0x01;
const ZERO: u8 = 0x02;
const POS: u8 = 0x03;

/// Appends the encoding of a string key value.
pub fn encode_s(s: &str, out: &mut Vec<u8>) {
    encode_bytes(s.as_bytes(), out);
}

/// Appends the encoding of a binary key value.
pub fn encode_b(b: &[u8], out: &mut Vec<u8>) {
    encode_bytes(b, out);
}

fn encode_bytes(b: &[u8], out: &mut Vec<u8>) {
    out.reserve(b.len() + 2);
    for &x in b {
        out.push(x);
        if x == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

/// Appends the encoding of a number key value.
pub fn encode_n(n: &Number, out: &mut Vec<u8>) {
    if n.is_zero() {
        out.push(ZERO);
        return;
    }
    let neg = n.is_negative();
    let flip = |b: u8| if neg { 0xFF - b } else { b };
    out.push(if neg { NEG } else { POS });
    // In range -130..=125, so 0..=255.
    let e = (n.scientific_exponent() - MIN_EXPONENT).clamp(0, 255) as u8;
    out.push(flip(e));
    let digits = n.digits();
    for pair in digits.chunks(2) {
        let v = pair[0] * 10 + pair.get(1).copied().unwrap_or(0);
        out.push(flip(v + 1));
    }
    out.push(flip(0));
}

/// Appends the encoding of `v` if it is a key type (S, N, B); false otherwise.
pub fn encode_key_value(v: &AttributeValue, out: &mut Vec<u8>) -> bool {
    match v {
        AttributeValue::S(s) => encode_s(s, out),
        AttributeValue::N(n) => encode_n(n, out),
        AttributeValue::B(b) => encode_b(b, out),
        _ => return false,
    }
    true
}

fn decode_bytes(buf: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let x = *buf.get(i)?;
        if x == 0 {
            match *buf.get(i + 1)? {
                0 => return Some((out, i + 2)),
                0xFF => out.push(0),
                _ => return None,
            }
            i += 2;
        } else {
            out.push(x);
            i += 1;
        }
    }
}

/// Decodes a string encoding at the start of `buf`: the value and the bytes consumed.
pub fn decode_s(buf: &[u8]) -> Option<(String, usize)> {
    let (b, used) = decode_bytes(buf)?;
    Some((String::from_utf8(b).ok()?, used))
}

/// Decodes a binary encoding at the start of `buf`: the value and the bytes consumed.
pub fn decode_b(buf: &[u8]) -> Option<(Vec<u8>, usize)> {
    decode_bytes(buf)
}

/// Decodes a number encoding at the start of `buf`: the value and the bytes consumed.
pub fn decode_n(buf: &[u8]) -> Option<(Number, usize)> {
    let neg = match *buf.first()? {
        ZERO => return Some((Number::ZERO, 1)),
        NEG => true,
        POS => false,
        _ => return None,
    };
    let flip = |b: u8| if neg { 0xFF - b } else { b };
    let sci = i64::from(flip(*buf.get(1)?)) + MIN_EXPONENT;
    let mut text = String::with_capacity(48);
    if neg {
        text.push('-');
    }
    let mut i = 2;
    let mut ndigits: i64 = 0;
    loop {
        let b = flip(*buf.get(i)?);
        i += 1;
        if b == 0 {
            break;
        }
        let v = b.checked_sub(1).filter(|v| *v < 100)?;
        text.push(char::from(b'0' + v / 10));
        text.push(char::from(b'0' + v % 10));
        ndigits += 2;
    }
    if ndigits == 0 {
        return None;
    }
    // text holds d1 d2 ... as an integer; its value is 0.d1d2... × 10^(sci + 1).
    text.push_str(&format!("e{}", sci + 1 - ndigits));
    let n = Number::parse(&text).ok()?;
    Some((n, i))
}

/// A stable 64-bit hash of an encoded partition key: the first 8 bytes (big-endian) of
/// its SHA-256. Deterministic across runs, platforms and versions; Scan walks
/// partitions in this order, as DynamoDB walks them in hash order.
pub fn hash_prefix(encoded_partition_key: &[u8]) -> u64 {
    let digest = Sha256::digest(encoded_partition_key);
    let mut b = [0u8; 8];
    b.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(b)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use bigdecimal::BigDecimal;
    use proptest::prelude::*;
    use std::cmp::Ordering;
    use std::str::FromStr;

    /// The independent oracle for number order: bigdecimal's, from the canonical text.
    fn big(n: &Number) -> BigDecimal {
        BigDecimal::from_str(&n.to_string()).unwrap()
    }

    fn number() -> impl Strategy<Value = Number> {
        prop_oneof![
            (any::<bool>(), "[1-9][0-9]{0,37}", -167i32..100).prop_filter_map(
                "range",
                |(neg, d, e)| {
                    Number::parse(&format!("{}{}e{}", if neg { "-" } else { "" }, d, e)).ok()
                }
            ),
            // Small integers collide often, exercising equal and near-equal values.
            (-300i64..300).prop_map(Number::from),
        ]
    }

    fn enc_n(n: &Number) -> Vec<u8> {
        let mut v = Vec::new();
        encode_n(n, &mut v);
        v
    }
    fn enc_s(s: &str) -> Vec<u8> {
        let mut v = Vec::new();
        encode_s(s, &mut v);
        v
    }
    fn enc_b(b: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        encode_b(b, &mut v);
        v
    }

    fn small_bytes() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![Just(0u8), Just(1u8), Just(0xFFu8), any::<u8>()],
            0..8,
        )
    }

    #[test]
    fn examples() {
        let ns: Vec<Number> = [
            "-1e125", "-100", "-99", "-1.5", "-1", "-0.001", "0", "1e-130", "0.5", "1", "1.05",
            "1.5", "2", "10", "99", "100", "9.9e125",
        ]
        .iter()
        .map(|s| Number::parse(s).unwrap())
        .collect();
        for w in ns.windows(2) {
            assert!(enc_n(&w[0]) < enc_n(&w[1]), "{} < {}", w[0], w[1]);
        }
        assert_eq!(enc_s("a\0b"), vec![b'a', 0, 0xFF, b'b', 0, 0]);
        assert!(enc_s("a") < enc_s("a\0"));
        assert!(enc_s("Z") < enc_s("a"));
        assert_eq!(hash_prefix(b"abc"), 0xba78_16bf_8f01_cfea);
        let mut out = Vec::new();
        assert!(!encode_key_value(&AttributeValue::Bool(true), &mut out));
        assert!(out.is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        #[test]
        fn n_order_and_round_trip(a in number(), b in number()) {
            prop_assert_eq!(enc_n(&a).cmp(&enc_n(&b)), big(&a).cmp(&big(&b)));
            let e = enc_n(&a);
            prop_assert_eq!(decode_n(&e), Some((a, e.len())));
        }

        #[test]
        fn s_order_and_round_trip(a in "\\PC{0,6}|[\\x00-\\x02a]{0,6}", b in "\\PC{0,6}|[\\x00-\\x02a]{0,6}") {
            prop_assert_eq!(enc_s(&a).cmp(&enc_s(&b)), a.as_bytes().cmp(b.as_bytes()));
            let e = enc_s(&a);
            prop_assert_eq!(decode_s(&e), Some((a.clone(), e.len())));
        }

        #[test]
        fn b_order_and_round_trip(a in small_bytes(), b in small_bytes()) {
            prop_assert_eq!(enc_b(&a).cmp(&enc_b(&b)), a.cmp(&b));
            let e = enc_b(&a);
            prop_assert_eq!(decode_b(&e), Some((a.clone(), e.len())));
        }

        #[test]
        fn composite_order(p1 in small_bytes(), s1 in number(), p2 in small_bytes(), s2 in number()) {
            let mut k1 = enc_b(&p1);
            encode_n(&s1, &mut k1);
            let mut k2 = enc_b(&p2);
            encode_n(&s2, &mut k2);
            let expected: Ordering = p1.cmp(&p2).then(big(&s1).cmp(&big(&s2)));
            prop_assert_eq!(k1.cmp(&k2), expected);
            let (d1, used) = decode_b(&k1).unwrap();
            prop_assert_eq!(d1, p1);
            prop_assert_eq!(decode_n(&k1[used..]).map(|x| x.0), Some(s1));
        }

        #[test]
        fn composite_order_strings(p1 in "[a\\x00]{0,4}", s1 in "[a\\x00b]{0,4}", p2 in "[a\\x00]{0,4}", s2 in "[a\\x00b]{0,4}") {
            let mut k1 = enc_s(&p1);
            encode_s(&s1, &mut k1);
            let mut k2 = enc_s(&p2);
            encode_s(&s2, &mut k2);
            prop_assert_eq!(k1.cmp(&k2), p1.cmp(&p2).then(s1.cmp(&s2)));
        }
    }
}
