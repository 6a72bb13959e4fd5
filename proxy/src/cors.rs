//! CORS at the front door, as DynamoDB answers browsers: a request carrying `Origin` gets
//! `Access-Control-Allow-Origin: *` and `Access-Control-Expose-Headers`; an `OPTIONS`
//! preflight with `Origin` is answered 200 with `Access-Control-Max-Age` and the requested
//! method and headers echoed as allowed (Alternator's `test_cors.py`, checked on
//! DynamoDB; the header values are those AWS JSON endpoints send). A request without
//! `Origin` gets no CORS header and costs one header lookup.

use http::{header, HeaderMap, HeaderValue};

const EXPOSE: &str = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date,x-amz-crc32";
const MAX_AGE: &str = "172800";

/// Whether the request is a CORS request (it names its `Origin`).
pub fn is_cors(headers: &HeaderMap) -> bool {
    headers.contains_key(header::ORIGIN)
}

/// The headers every answer to a CORS request carries.
pub fn add_simple(h: &mut HeaderMap) {
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE),
    );
}

/// The headers of a preflight answer: the simple ones, the max age, and the requested
/// method and headers allowed as asked.
pub fn add_preflight(request: &HeaderMap, h: &mut HeaderMap) {
    add_simple(h);
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE),
    );
    if let Some(m) = request.get(header::ACCESS_CONTROL_REQUEST_METHOD) {
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, m.clone());
    }
    if let Some(v) = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v.clone());
    }
}
