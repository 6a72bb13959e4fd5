//! Authentication checks on incoming requests, as pure functions: the presence and
//! completeness of the SigV4 `Authorization` header, with DynamoDB's exact messages.
//! Signature verification against configured keys (`[auth] verify`) is in [`sigv4`].

pub mod authorize;
pub mod decide;
pub mod decisions;
pub mod identity;
pub mod partiql_keys;
pub mod policy;
pub mod resource;
pub mod sigv4;
pub mod simulate;

use daxlite_engine::wire::{ApiError, ErrorCode};

/// The parts of a SigV4 Authorization header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthHeader<'a> {
    pub algorithm: &'a str,
    pub credential: &'a str,
    pub signed_headers: &'a str,
    pub signature: &'a str,
}

/// Checks the Authorization header (and the date headers) in DynamoDB's order:
/// present → complete → algorithm → credential shape → date format.
pub fn check<'a>(
    authorization: Option<&'a str>,
    amz_date: Option<&str>,
    date: Option<&str>,
) -> Result<AuthHeader<'a>, ApiError> {
    let Some(auth) = authorization.filter(|a| a.trim_start().starts_with("AWS4-")) else {
        return Err(ApiError::new(
            ErrorCode::MissingAuthenticationTokenException,
            "Request is missing Authentication Token",
        ));
    };
    let trimmed = auth.trim();
    let (algorithm, rest) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            continue;
        };
        match k.trim() {
            "Credential" if !v.is_empty() => credential = Some(v.trim()),
            "SignedHeaders" if !v.is_empty() => signed_headers = Some(v.trim()),
            "Signature" if !v.is_empty() => signature = Some(v.trim()),
            _ => {}
        }
    }
    let date_value = amz_date.or(date);
    let mut msg = String::new();
    if credential.is_none() {
        msg.push_str("Authorization header requires 'Credential' parameter. ");
    }
    if signature.is_none() {
        msg.push_str("Authorization header requires 'Signature' parameter. ");
    }
    if signed_headers.is_none() {
        msg.push_str("Authorization header requires 'SignedHeaders' parameter. ");
    }
    if date_value.is_none() {
        msg.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    if !msg.is_empty() {
        msg.push_str("Authorization=");
        msg.push_str(auth);
        return Err(ApiError::new(ErrorCode::IncompleteSignatureException, msg));
    }
    if let Some(d) = amz_date {
        if !is_iso8601_basic(d) {
            return Err(ApiError::new(
                ErrorCode::IncompleteSignatureException,
                format!("Date must be in ISO-8601 'basic format'. Got '{d}'. See http://en.wikipedia.org/wiki/ISO_8601"),
            ));
        }
    }
    if algorithm != "AWS4-HMAC-SHA256" {
        return Err(ApiError::new(
            ErrorCode::IncompleteSignatureException,
            format!("Unsupported AWS 'algorithm': '{algorithm}' (only AWS4-HMAC-SHA256 for now). "),
        ));
    }
    let credential = credential.unwrap_or_default();
    let trimmed_credential = credential.trim_end_matches('/');
    if trimmed_credential.split('/').count() != 5 {
        return Err(ApiError::new(
            ErrorCode::IncompleteSignatureException,
            format!(
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{trimmed_credential}'"
            ),
        ));
    }
    Ok(AuthHeader {
        algorithm,
        credential,
        signed_headers: signed_headers.unwrap_or_default(),
        signature: signature.unwrap_or_default(),
    })
}

/// `YYYYMMDD'T'HHMMSS'Z'`.
fn is_iso8601_basic(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 16
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'T'
        && b[9..15].iter().all(u8::is_ascii_digit)
        && b[15] == b'Z'
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";

    fn message(r: Result<AuthHeader<'_>, ApiError>) -> (ErrorCode, String) {
        let e = r.err().unwrap_or_else(|| ApiError::validation("no error"));
        (e.code(), e.message().unwrap_or_default().to_string())
    }

    #[test]
    fn missing_header_is_missing_token() {
        let (code, msg) = message(check(None, Some("20240101T000000Z"), None));
        assert_eq!(code, ErrorCode::MissingAuthenticationTokenException);
        assert_eq!(msg, "Request is missing Authentication Token");
        let (code, _) = message(check(Some("Basic abc"), None, None));
        assert_eq!(code, ErrorCode::MissingAuthenticationTokenException);
    }

    #[test]
    fn incomplete_header_lists_every_missing_part() {
        let (code, msg) = message(check(Some("AWS4-HMAC-SHA256 Signature=b"), None, None));
        assert_eq!(code, ErrorCode::IncompleteSignatureException);
        assert_eq!(
            msg,
            "Authorization header requires 'Credential' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Signature=b"
        );
    }

    #[test]
    fn algorithm_credential_and_date_are_checked() {
        let bad_alg = GOOD.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA25");
        let (_, msg) = message(check(Some(&bad_alg), Some("20240101T000000Z"), None));
        assert_eq!(
            msg,
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA25' (only AWS4-HMAC-SHA256 for now). "
        );
        let bad_cred = GOOD.replace("AKID/20240101/us-east-1/dynamodb/aws4_request", "a/b/c/d");
        let (_, msg) = message(check(Some(&bad_cred), Some("20240101T000000Z"), None));
        assert_eq!(msg, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c/d'");
        let (_, msg) = message(check(Some(GOOD), Some("201"), None));
        assert!(
            msg.starts_with("Date must be in ISO-8601 'basic format'. Got '201'."),
            "{msg}"
        );
        assert!(check(Some(GOOD), Some("20240101T000000Z"), None).is_ok());
    }
}

#[cfg(test)]
mod cost_tests;
#[cfg(test)]
mod mutation_tests;
