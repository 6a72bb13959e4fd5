//! Who may use the console: with a token configured (`[admin] token`), every request
//! carries it (`Authorization: Bearer`, or the `daxlite_console` cookie `/console/login`
//! sets); and a form POST from another site's page (its `Origin` is not this host) is
//! refused, so a web page cannot drive a loopback console behind the user's back.

use http::{header, HeaderMap, Method};

/// The cookie that carries the token after `/console/login`.
pub const COOKIE: &str = "daxlite_console";

/// Constant-time equality.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether the request carries the token (always true when none is configured).
pub fn authorized(headers: &HeaderMap, token: Option<&str>) -> bool {
    let Some(token) = token else {
        return true;
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer.is_some_and(|b| same(b.as_bytes(), token.as_bytes())) {
        return true;
    }
    cookie(headers).is_some_and(|c| same(c.as_bytes(), token.as_bytes()))
}

/// The value of the console cookie, if sent.
fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
}

/// Whether a state-changing request comes from a page of this console: no `Origin`
/// (curl, the tests' plain HTTP), or an `Origin` whose host is the request's `Host`.
pub fn same_origin(method: &Method, headers: &HeaderMap) -> bool {
    if method == Method::GET || method == Method::HEAD {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or("");
    !host.is_empty() && origin_host == host
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn token_by_header_or_cookie_and_same_origin_posts() {
        let mut h = HeaderMap::new();
        assert!(authorized(&h, None));
        assert!(!authorized(&h, Some("s3cret")));
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; daxlite_console=s3cret"),
        );
        assert!(authorized(&h, Some("s3cret")));
        assert!(!authorized(&h, Some("other")));
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer s3cret"),
        );
        assert!(authorized(&h, Some("s3cret")));

        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8000"));
        assert!(same_origin(&Method::POST, &h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8000"),
        );
        assert!(same_origin(&Method::POST, &h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&Method::POST, &h));
        assert!(same_origin(&Method::GET, &h));
    }
}
