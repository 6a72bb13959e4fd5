//! SigV4 signature verification of incoming requests, as pure functions (opt-in with
//! `[auth] verify = true`): the canonical request, the string to sign, the signing key
//! and a constant-time comparison, with DynamoDB's exact messages. The current time is a
//! parameter, so tests need no clock.

use std::collections::HashMap;
use std::fmt;

use daxlite_engine::wire::{ApiError, ErrorCode};
use hmac::{Hmac, KeyInit, Mac};
use http::HeaderMap;
use sha2_011::{Digest, Sha256};

use super::AuthHeader;

type HmacSha256 = Hmac<Sha256>;

/// How far a request's date may be from the server's clock (DynamoDB: 15 minutes).
pub const MAX_SKEW_SECS: i64 = 15 * 60;

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// The accepted access keys and their secrets. `Debug` never shows a secret.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Keys {
    secrets: HashMap<String, String>,
}

impl Keys {
    /// Keys from `(access_key, secret_key)` pairs (a later pair replaces an earlier one).
    pub fn new<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Keys {
        Keys {
            secrets: pairs.into_iter().collect(),
        }
    }

    /// The secret of `access_key`.
    pub fn secret(&self, access_key: &str) -> Option<&str> {
        self.secrets.get(access_key).map(String::as_str)
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// No keys at all.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.secrets.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("Keys")
            .field("access_keys", &names)
            .finish_non_exhaustive()
    }
}

/// The parts of an incoming request that the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    /// The URI's authority, standing in for a missing `host` header (HTTP/2 `:authority`).
    pub authority: Option<&'a str>,
    pub headers: &'a HeaderMap,
    /// The body as received (before any Content-Encoding is undone).
    pub body: &'a [u8],
}

/// Verifies the signature of a request whose header already passed [`super::check`]:
/// Host signed → clock skew → known key → signature.
pub fn verify(
    auth: &AuthHeader<'_>,
    amz_date: &str,
    req: &Signed<'_>,
    keys: &Keys,
    now_secs: i64,
) -> Result<(), ApiError> {
    let signed: Vec<&str> = auth.signed_headers.split(';').map(str::trim).collect();
    if !signed.iter().any(|h| h.eq_ignore_ascii_case("host")) {
        return Err(invalid(
            "'Host' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    check_skew(amz_date, now_secs)?;
    let (access_key, scope) = auth
        .credential
        .split_once('/')
        .unwrap_or((auth.credential, ""));
    let Some(secret) = keys.secret(access_key) else {
        return Err(ApiError::new(
            ErrorCode::UnrecognizedClientException,
            "The security token included in the request is invalid.",
        ));
    };
    let canonical = canonical_request(req, &signed)?;
    let to_sign = string_to_sign(amz_date, scope, &canonical);
    // Lower-case hex only, as SigV4 writes it: `ABC…` is not the signature `abc…`.
    let lower_hex = auth
        .signature
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let Some(provided) = hex::decode(auth.signature)
        .ok()
        .filter(|s| s.len() == 32 && lower_hex)
    else {
        return Err(mismatch(&canonical, &to_sign));
    };
    let mut mac = signing_mac(secret, scope)?;
    mac.update(to_sign.as_bytes());
    // `verify_slice` compares in constant time.
    mac.verify_slice(&provided)
        .map_err(|_| mismatch(&canonical, &to_sign))
}

/// The signature (lower-case hex) of `string_to_sign` for `secret` and the credential
/// scope `date/region/service/aws4_request`.
pub fn signature(secret: &str, scope: &str, string_to_sign: &str) -> Result<String, ApiError> {
    let mut mac = signing_mac(secret, scope)?;
    mac.update(string_to_sign.as_bytes());
    Ok(hex::encode(mac.finalize().into_bytes()))
}

/// An HMAC keyed with the signing key: HMAC chain over "AWS4"+secret, date, region,
/// service, terminator.
fn signing_mac(secret: &str, scope: &str) -> Result<HmacSha256, ApiError> {
    let mut key = format!("AWS4{secret}").into_bytes();
    for part in scope.split('/') {
        key = hmac(&key, part.as_bytes())?;
    }
    HmacSha256::new_from_slice(&key).map_err(|_| invalid(MISMATCH.into()))
}

fn hmac(key: &[u8], data: &[u8]) -> Result<Vec<u8>, ApiError> {
    let mut mac = HmacSha256::new_from_slice(key).map_err(|_| invalid(MISMATCH.into()))?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().to_vec())
}

/// `AWS4-HMAC-SHA256\n<amz-date>\n<scope>\n<hex sha256(canonical request)>`.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// The canonical request: method, path, canonical query, canonical headers (the signed
/// ones, lower-cased, values trimmed with inner runs of spaces collapsed, sorted), the
/// signed header list and the hex SHA-256 of the body.
pub fn canonical_request(req: &Signed<'_>, signed: &[&str]) -> Result<String, ApiError> {
    // The list as the client signed it (SigV4 clients send it lower-case and sorted):
    // any other spelling is another canonical request, so it cannot match.
    let names: Vec<&str> = signed.iter().copied().filter(|h| !h.is_empty()).collect();
    let mut out = String::with_capacity(256);
    out.push_str(req.method);
    out.push('\n');
    out.push_str(if req.path.is_empty() { "/" } else { req.path });
    out.push('\n');
    out.push_str(&canonical_query(req.query));
    out.push('\n');
    for name in &names {
        let mut values = Vec::new();
        for v in req.headers.get_all(name.to_ascii_lowercase().as_str()) {
            let v = v.to_str().map_err(|_| invalid(MISMATCH.into()))?;
            values.push(v.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        if values.is_empty() && *name == "host" {
            values.extend(req.authority.map(str::to_string));
        }
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&names.join(";"));
    out.push('\n');
    out.push_str(&hex::encode(Sha256::digest(req.body)));
    Ok(out)
}

/// Query parameters sorted by name, then value (they arrive already URI-encoded).
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    pairs.sort_unstable();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// DynamoDB refuses a request dated more than 15 minutes from its clock.
fn check_skew(amz_date: &str, now_secs: i64) -> Result<(), ApiError> {
    let Some(at) = parse_amz_date(amz_date) else {
        return Err(invalid(MISMATCH.into()));
    };
    if at < now_secs - MAX_SKEW_SECS {
        return Err(invalid(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
            format_amz_date(now_secs - MAX_SKEW_SECS),
            format_amz_date(now_secs)
        )));
    }
    if at > now_secs + MAX_SKEW_SECS {
        return Err(invalid(format!(
            "Signature not yet current: {amz_date} is still later than {} (current time + 15 min.)",
            format_amz_date(now_secs + MAX_SKEW_SECS)
        )));
    }
    Ok(())
}

fn invalid(msg: String) -> ApiError {
    ApiError::new(ErrorCode::InvalidSignatureException, msg)
}

fn mismatch(canonical: &str, to_sign: &str) -> ApiError {
    invalid(format!(
        "{MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'\n\nThe String-to-Sign should have been\n'{to_sign}'\n"
    ))
}

/// `YYYYMMDDTHHMMSSZ` → seconds since the Unix epoch.
pub fn parse_amz_date(d: &str) -> Option<i64> {
    let b = d.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| d.get(r)?.parse::<i64>().ok();
    let (y, mo, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, s) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&day) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, day) * 86_400 + h * 3_600 + mi * 60 + s)
}

/// Seconds since the Unix epoch → `YYYYMMDDTHHMMSSZ`.
pub fn format_amz_date(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::check;
    use http::HeaderValue;

    const DATE: &str = "20240101T120000Z";
    const BODY: &[u8] = br#"{"TableName":"t"}"#;
    // Computed with botocore's SigV4Auth (AKIDTEST / secret, us-east-1, dynamodb) for
    // POST / with the headers below and BODY.
    const SIG: &str = "9fa5533563108b997b1fad8881991e34163394a3531f0b9d20e9abfbba7dd0bd";

    fn headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("localhost:8000"));
        h.insert("x-amz-date", HeaderValue::from_static(DATE));
        h.insert(
            "content-type",
            HeaderValue::from_static("application/x-amz-json-1.0"),
        );
        h.insert(
            "x-amz-target",
            HeaderValue::from_static("DynamoDB_20120810.DescribeTable"),
        );
        h
    }

    fn keys() -> Keys {
        Keys::new([("AKIDTEST".to_string(), "secret".to_string())])
    }

    fn authorization(key: &str, signed: &str, sig: &str) -> String {
        format!("AWS4-HMAC-SHA256 Credential={key}/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders={signed}, Signature={sig}")
    }

    fn run(authz: &str, headers: &HeaderMap, body: &[u8], now: i64) -> Result<(), ApiError> {
        let h = check(Some(authz), Some(DATE), None)?;
        let req = Signed {
            method: "POST",
            path: "/",
            query: "",
            authority: None,
            headers,
            body,
        };
        verify(&h, DATE, &req, &keys(), now)
    }

    fn now() -> i64 {
        parse_amz_date(DATE).unwrap_or_default()
    }

    const SIGNED: &str = "content-type;host;x-amz-date;x-amz-target";

    /// DynamoDB's whole mismatch message for `headers()` (with `target`) and `body`, the
    /// canonical request and string to sign written out by hand.
    fn mismatch_message(target: &str, body: &[u8]) -> String {
        let canonical = format!(
            "POST\n/\n\ncontent-type:application/x-amz-json-1.0\nhost:localhost:8000\nx-amz-date:{DATE}\nx-amz-target:{target}\n\n{SIGNED}\n{}",
            hex::encode(Sha256::digest(body))
        );
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{DATE}\n20240101/us-east-1/dynamodb/aws4_request\n{}",
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        format!("{MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'\n\nThe String-to-Sign should have been\n'{to_sign}'\n")
    }

    fn err(r: Result<(), ApiError>) -> (ErrorCode, String) {
        let e = r.err().unwrap_or_else(|| ApiError::validation("no error"));
        (e.code(), e.message().unwrap_or_default().to_string())
    }

    #[test]
    fn a_known_vector_verifies() {
        assert_eq!(
            run(
                &authorization("AKIDTEST", SIGNED, SIG),
                &headers(),
                BODY,
                now()
            )
            .err(),
            None
        );
    }

    #[test]
    fn unknown_key_wrong_secret_and_tampering_are_refused() {
        let (code, msg) = err(run(
            &authorization("NOPE", SIGNED, SIG),
            &headers(),
            BODY,
            now(),
        ));
        assert_eq!(code, ErrorCode::UnrecognizedClientException);
        assert_eq!(
            msg,
            "The security token included in the request is invalid."
        );
        // A signature made with another secret.
        let scope = "20240101/us-east-1/dynamodb/aws4_request";
        let req = Signed {
            method: "POST",
            path: "/",
            query: "",
            authority: None,
            headers: &headers(),
            body: BODY,
        };
        let signed: Vec<&str> = SIGNED.split(';').collect();
        let canonical = canonical_request(&req, &signed).unwrap_or_default();
        let to_sign = string_to_sign(DATE, scope, &canonical);
        let good = signature("secret", scope, &to_sign).unwrap_or_default();
        assert_eq!(good, SIG, "the vector matches botocore");
        let other = signature("wrong", scope, &to_sign).unwrap_or_default();
        let (code, msg) = err(run(
            &authorization("AKIDTEST", SIGNED, &other),
            &headers(),
            BODY,
            now(),
        ));
        assert_eq!(code, ErrorCode::InvalidSignatureException);
        assert_eq!(
            msg,
            mismatch_message("DynamoDB_20120810.DescribeTable", BODY)
        );
        // A tampered body.
        let (code, msg) = err(run(
            &authorization("AKIDTEST", SIGNED, SIG),
            &headers(),
            br#"{"TableName":"u"}"#,
            now(),
        ));
        assert_eq!(code, ErrorCode::InvalidSignatureException);
        assert_eq!(
            msg,
            mismatch_message("DynamoDB_20120810.DescribeTable", br#"{"TableName":"u"}"#)
        );
        // A tampered signed header.
        let mut h = headers();
        h.insert(
            "x-amz-target",
            HeaderValue::from_static("DynamoDB_20120810.DeleteTable"),
        );
        let (code, msg) = err(run(
            &authorization("AKIDTEST", SIGNED, SIG),
            &h,
            BODY,
            now(),
        ));
        assert_eq!(code, ErrorCode::InvalidSignatureException);
        assert_eq!(msg, mismatch_message("DynamoDB_20120810.DeleteTable", BODY));
        // An unsigned header may change; a garbled signature is a mismatch too.
        let mut h = headers();
        h.insert("user-agent", HeaderValue::from_static("x"));
        assert!(run(&authorization("AKIDTEST", SIGNED, SIG), &h, BODY, now()).is_ok());
        let (code, msg) = err(run(
            &authorization("AKIDTEST", SIGNED, "zz"),
            &headers(),
            BODY,
            now(),
        ));
        assert_eq!(code, ErrorCode::InvalidSignatureException);
        assert_eq!(
            msg,
            mismatch_message("DynamoDB_20120810.DescribeTable", BODY)
        );
    }

    #[test]
    fn http2_authority_stands_in_for_host() {
        let mut h = headers();
        h.remove("host");
        let authz = authorization("AKIDTEST", SIGNED, SIG);
        let h2 = check(Some(&authz), Some(DATE), None).unwrap();
        let mut req = Signed {
            method: "POST",
            path: "/",
            query: "",
            authority: Some("localhost:8000"),
            headers: &h,
            body: BODY,
        };
        assert!(verify(&h2, DATE, &req, &keys(), now()).is_ok());
        req.authority = None;
        assert!(verify(&h2, DATE, &req, &keys(), now()).is_err());
    }

    #[test]
    fn host_must_be_signed() {
        let (code, msg) = err(run(
            &authorization("AKIDTEST", "content-type;x-amz-date", SIG),
            &headers(),
            BODY,
            now(),
        ));
        assert_eq!(code, ErrorCode::InvalidSignatureException);
        assert_eq!(
            msg,
            "'Host' must be a 'SignedHeader' in the AWS Authorization."
        );
    }

    #[test]
    fn clock_skew_of_15_minutes_is_allowed() {
        let a = authorization("AKIDTEST", SIGNED, SIG);
        let min = 60;
        assert!(run(&a, &headers(), BODY, now() + 14 * min + 59).is_ok());
        assert!(run(&a, &headers(), BODY, now() - 14 * min - 59).is_ok());
        assert!(run(&a, &headers(), BODY, now() + 15 * min).is_ok());
        let (code, msg) = err(run(&a, &headers(), BODY, now() + 15 * min + 1));
        assert_eq!(code, ErrorCode::InvalidSignatureException);
        assert_eq!(
            msg,
            "Signature expired: 20240101T120000Z is now earlier than 20240101T120001Z (20240101T121501Z - 15 min.)"
        );
        let (_, msg) = err(run(&a, &headers(), BODY, now() - 15 * min - 1));
        assert_eq!(
            msg,
            "Signature not yet current: 20240101T120000Z is still later than 20240101T115959Z (current time + 15 min.)"
        );
    }

    #[test]
    fn dates_round_trip_and_match_dynamodbs_example() {
        let now = parse_amz_date("20130609T100015Z").unwrap_or_default();
        assert_eq!(format_amz_date(now - MAX_SKEW_SECS), "20130609T094515Z");
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert_eq!(format_amz_date(951_782_400), "20000229T000000Z");
        assert_eq!(parse_amz_date("20001301T000000Z"), None);
        assert_eq!(
            err(check_skew("20130301T000000Z", now)).1,
            "Signature expired: 20130301T000000Z is now earlier than 20130609T094515Z (20130609T100015Z - 15 min.)"
        );
        assert_eq!(canonical_query("b=2&a=1&a=0"), "a=0&a=1&b=2");
        assert!(!format!("{:?}", keys()).contains("secret\""));
    }
}
