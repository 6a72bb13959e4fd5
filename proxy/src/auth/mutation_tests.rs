//! Tamper resistance of signature verification: 100,000 random single-byte mutations of
//! a correctly signed request — of its method, path, signed header values, body, and the
//! Credential, SignedHeaders and Signature values of its Authorization header — are all
//! refused by the pure [`super::check`] + [`super::sigv4::verify`] pair.

use http::{HeaderMap, HeaderValue};

use super::check;
use super::sigv4::{parse_amz_date, verify, Keys, Signed};

const DATE: &str = "20240101T120000Z";
const BODY: &[u8] = br#"{"TableName":"t"}"#;
// botocore's SigV4Auth for AKIDTEST / secret, us-east-1, dynamodb (as in sigv4's tests).
const SIG: &str = "9fa5533563108b997b1fad8881991e34163394a3531f0b9d20e9abfbba7dd0bd";
const CREDENTIAL: &str = "AKIDTEST/20240101/us-east-1/dynamodb/aws4_request";
const SIGNED: &str = "content-type;host;x-amz-date;x-amz-target";

/// One request as bytes, every part mutable.
#[derive(Clone)]
struct Request {
    method: Vec<u8>,
    path: Vec<u8>,
    /// Signed headers in order: content-type, host, x-amz-date, x-amz-target.
    values: Vec<Vec<u8>>,
    body: Vec<u8>,
    credential: Vec<u8>,
    signed: Vec<u8>,
    signature: Vec<u8>,
}

const NAMES: [&str; 4] = ["content-type", "host", "x-amz-date", "x-amz-target"];

fn original() -> Request {
    Request {
        method: b"POST".to_vec(),
        path: b"/".to_vec(),
        values: vec![
            b"application/x-amz-json-1.0".to_vec(),
            b"localhost:8000".to_vec(),
            DATE.as_bytes().to_vec(),
            b"DynamoDB_20120810.DescribeTable".to_vec(),
        ],
        body: BODY.to_vec(),
        credential: CREDENTIAL.as_bytes().to_vec(),
        signed: SIGNED.as_bytes().to_vec(),
        signature: SIG.as_bytes().to_vec(),
    }
}

/// Whether the request passes; None when it could not even be sent (a header value
/// HTTP forbids), which counts as refused.
fn accepted(r: &Request, keys: &Keys, now: i64) -> Option<bool> {
    let mut headers = HeaderMap::new();
    for (name, v) in NAMES.iter().zip(&r.values) {
        headers.insert(*name, HeaderValue::from_bytes(v).ok()?);
    }
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).ok();
    let (credential, signed, signature) =
        (text(&r.credential)?, text(&r.signed)?, text(&r.signature)?);
    let method = text(&r.method)?;
    let path = text(&r.path)?;
    let authz = format!(
        "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed}, Signature={signature}"
    );
    let date = headers.get("x-amz-date").and_then(|v| v.to_str().ok());
    let Ok(h) = check(Some(&authz), date, None) else {
        return Some(false);
    };
    let req = Signed {
        method: &method,
        path: &path,
        query: "",
        authority: None,
        headers: &headers,
        body: &r.body,
    };
    Some(verify(&h, date.unwrap_or_default(), &req, keys, now).is_ok())
}

/// xorshift64*: a fixed, dependency-free sequence, so a failure replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn every_single_byte_mutation_of_a_signed_request_is_refused() {
    let keys = Keys::new([("AKIDTEST".to_string(), "secret".to_string())]);
    let now = parse_amz_date(DATE).unwrap_or_default();
    let base = original();
    assert_eq!(
        accepted(&base, &keys, now),
        Some(true),
        "the original verifies"
    );
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut by_part = [0usize; 7];
    for case in 0..100_000 {
        let mut r = base.clone();
        let part = rng.below(7);
        let field: &mut Vec<u8> = match part {
            0 => &mut r.method,
            1 => &mut r.path,
            2 => {
                let i = rng.below(r.values.len());
                &mut r.values[i]
            }
            3 => &mut r.body,
            4 => &mut r.credential,
            5 => &mut r.signed,
            _ => &mut r.signature,
        };
        let at = rng.below(field.len());
        // Any other byte (printable ASCII in text fields, anything in the body).
        let old = field[at];
        let new = loop {
            let b = if part == 3 {
                rng.below(256) as u8
            } else {
                0x20 + rng.below(0x5f) as u8
            };
            if b != old {
                break b;
            }
        };
        field[at] = new;
        by_part[part] += 1;
        assert_ne!(
            accepted(&r, &keys, now),
            Some(true),
            "case {case}: byte {at} of part {part} changed {:?} → {:?} and was accepted",
            old as char,
            new as char
        );
    }
    assert!(by_part.iter().all(|n| *n > 10_000), "{by_part:?}");
}
