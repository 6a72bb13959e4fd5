//! The console's HTML frame and small helpers: the page layout (navigation, theme
//! toggle, embedded assets), HTML escaping, responses, and form / query decoding.

use std::collections::HashMap;
use std::fmt::Write;

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;

pub type HttpResponse = Response<Full<Bytes>>;

/// The stylesheet and script, embedded in the binary.
pub const CSS: &str = include_str!("assets/console.css");
pub const JS: &str = include_str!("assets/console.js");

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a value for a URL path segment or query value.
pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Decodes `a=1&b=2` (a query string or a form body); the last value of a name wins.
pub fn decode_form(s: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(s).into_owned().collect()
}

/// The navigation entries: (path, label).
const NAV: &[(&str, &str)] = &[
    ("/console/tables", "Tables"),
    ("/console/partiql", "PartiQL"),
    ("/console/cache", "Cache"),
    ("/console/metrics", "Metrics"),
];

/// A whole page: `title`, which navigation entry is current, and the body's HTML.
pub fn layout(title: &str, current: &str, body: &str) -> String {
    let mut nav = String::new();
    for (href, label) in NAV {
        let here = if *href == current {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(nav, "<a href=\"{href}\"{here}>{label}</a>");
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · daxlite console</title>\
<link rel=\"stylesheet\" href=\"/console/assets/console.css\">\
<script src=\"/console/assets/console.js\" defer></script></head>\
<body><header><a class=\"brand\" href=\"/console/tables\">daxlite</a><nav>{nav}</nav>\
<button type=\"button\" id=\"theme\" title=\"Switch dark / light theme\">◐ theme</button></header>\
<main id=\"main\"><h1>{title}</h1>{body}</main></body></html>\n",
        title = esc(title)
    )
}

/// An error box with DynamoDB's `__type` and message exactly as the upstream answered.
pub fn error_box(code: &str, message: &str) -> String {
    format!(
        "<div class=\"error\" role=\"alert\"><strong class=\"code\">{}</strong> <span class=\"message\">{}</span></div>",
        esc(code),
        esc(message)
    )
}

/// A notice (what was just done).
pub fn notice(text: &str) -> String {
    format!("<p class=\"notice\" role=\"status\">{}</p>", esc(text))
}

fn respond(status: StatusCode, content_type: &'static str, body: Bytes) -> HttpResponse {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    resp
}

pub fn html(status: StatusCode, page: String) -> HttpResponse {
    respond(status, "text/html; charset=utf-8", Bytes::from(page))
}

pub fn json(status: StatusCode, value: &serde_json::Value) -> HttpResponse {
    let body = serde_json::to_vec(value).unwrap_or_default();
    respond(status, "application/json", Bytes::from(body))
}

pub fn asset(content_type: &'static str, text: &'static str) -> HttpResponse {
    let mut resp = respond(
        StatusCode::OK,
        content_type,
        Bytes::from_static(text.as_bytes()),
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    resp
}

/// A download (export) with its file name.
pub fn download(content_type: &'static str, name: &str, body: Vec<u8>) -> HttpResponse {
    let mut resp = respond(StatusCode::OK, content_type, Bytes::from(body));
    let disposition = format!("attachment; filename=\"{}\"", name.replace('"', ""));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// `303 See Other` to `location` (after a form POST).
pub fn redirect(location: &str) -> HttpResponse {
    let mut resp = respond(StatusCode::SEE_OTHER, "text/plain", Bytes::new());
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

pub fn not_found(what: &str) -> HttpResponse {
    html(
        StatusCode::NOT_FOUND,
        layout("Not found", "", &format!("<p>{}</p>", esc(what))),
    )
}

/// Pretty JSON for a `<pre>`, escaped.
pub fn pre_json(v: &serde_json::Value) -> String {
    let text = serde_json::to_string_pretty(v).unwrap_or_default();
    format!("<pre class=\"json\">{}</pre>", esc(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_decodes() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let f = decode_form(b"a=1+2&b=%3Cx%3E&a=3");
        assert_eq!(f.get("a").map(String::as_str), Some("3"));
        assert_eq!(f.get("b").map(String::as_str), Some("<x>"));
        assert_eq!(enc("a b/c"), "a+b%2Fc");
    }
}
