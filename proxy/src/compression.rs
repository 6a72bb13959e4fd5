//! HTTP body codings at the front door, as DynamoDB has them.
//!
//! Responses: when the request's `Accept-Encoding` allows `gzip` or `deflate` (RFC 9110
//! weights, `*`, `identity`; of several header lines only the last counts, as on
//! DynamoDB), a JSON answer larger
//! than 4 KB is compressed; smaller ones are sent as they are. `x-amz-crc32` is then the
//! CRC32 of the compressed bytes, as DynamoDB computes it (the AWS SDKs check it before
//! decompressing). The negotiation follows what Alternator's
//! `test_compressed_response_accept_encodings` records of DynamoDB: names are matched
//! case-insensitively; `x-gzip`, quoted or malformed entries are ignored; a weight above 1
//! counts as 1, an unparseable one as 1, a negative one as 0, and the first `q=` of an
//! entry wins; among the acceptable codings the highest weight wins, an explicit name
//! before `*`, then the first listed; `*` alone means gzip.
//!
//! Requests: DynamoDB accepts `Content-Encoding: gzip` only. A body that is not gzip (or
//! any other coding) is answered HTTP 500 InternalServerError and nothing is applied;
//! concatenated gzip members are one body, and bytes after the last member that do not
//! start another member are ignored, as DynamoDB ignores them.
//!
//! A request without `Accept-Encoding` costs one header lookup.

use std::io::{Read, Write};

use bytes::Bytes;
use http::{header, HeaderMap};

/// Responses up to this many bytes are never compressed (DynamoDB's threshold).
pub const THRESHOLD_BYTES: usize = 4096;

/// A response coding the front door can apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Gzip,
    Deflate,
}

impl Coding {
    pub fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
        }
    }
}

/// The coding the request's `Accept-Encoding` asks for, if any.
pub fn negotiate(headers: &HeaderMap) -> Option<Coding> {
    let last = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .next_back()?;
    // (weight, explicit, position) of each coding; the best one wins.
    let mut gzip: Option<(u16, bool, usize)> = None;
    let mut deflate: Option<(u16, bool, usize)> = None;
    let mut star: Option<(u16, usize)> = None;
    let mut position = 0;
    {
        let text = last.to_str().ok()?;
        for entry in text.split(',') {
            position += 1;
            let mut parts = entry.split(';');
            let name = parts.next().unwrap_or("").trim();
            let weight = weight(parts);
            let slot = if name.eq_ignore_ascii_case("gzip") {
                &mut gzip
            } else if name.eq_ignore_ascii_case("deflate") {
                &mut deflate
            } else {
                if name == "*" && star.is_none() {
                    star = Some((weight, position));
                }
                continue;
            };
            // A later entry for the same coding overrides an earlier one only upward.
            if slot.is_none_or(|(w, _, _)| weight > w) {
                *slot = Some((weight, true, position));
            }
        }
    }
    if let Some((w, p)) = star {
        for slot in [&mut gzip, &mut deflate] {
            if slot.is_none() {
                *slot = Some((w, false, p));
            }
        }
    }
    let rank = |c: Option<(u16, bool, usize)>| c.filter(|(w, _, _)| *w > 0);
    match (rank(gzip), rank(deflate)) {
        (None, None) => None,
        (Some(_), None) => Some(Coding::Gzip),
        (None, Some(_)) => Some(Coding::Deflate),
        (Some(g), Some(d)) => {
            // Higher weight; then an explicit name over `*`; then the first listed
            // (`*` alone: gzip).
            let key = |(w, explicit, p): (u16, bool, usize)| (w, explicit, usize::MAX - p);
            if key(d) > key(g) {
                Some(Coding::Deflate)
            } else {
                Some(Coding::Gzip)
            }
        }
    }
}

/// The weight of one entry in thousandths: the first `q=` parameter; absent or
/// unparseable → 1000, above 1 → 1000, negative → 0.
fn weight<'a>(params: impl Iterator<Item = &'a str>) -> u16 {
    for p in params {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        if !k.trim().eq_ignore_ascii_case("q") {
            continue;
        }
        return match v.trim().parse::<f64>() {
            Ok(q) if q <= 0.0 => 0,
            Ok(q) if q >= 1.0 => 1000,
            Ok(q) => ((q * 1000.0).ceil() as u16).max(1),
            Err(_) => 1000,
        };
    }
    1000
}

/// `body` compressed with `coding` when it is larger than [`THRESHOLD_BYTES`]; `None`
/// when it is to be sent as it is.
pub fn compress(body: &[u8], coding: Coding) -> Option<Bytes> {
    if body.len() <= THRESHOLD_BYTES {
        return None;
    }
    let level = flate2::Compression::fast();
    let out = match coding {
        Coding::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), level);
            e.write_all(body).ok()?;
            e.finish().ok()?
        }
        Coding::Deflate => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::with_capacity(body.len() / 4), level);
            e.write_all(body).ok()?;
            e.finish().ok()?
        }
    };
    Some(Bytes::from(out))
}

/// Why a request body could not be decoded.
#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Not gzip, truncated, empty, or an unknown coding: DynamoDB answers 500.
    Undecodable,
    /// The decoded body is larger than the limit.
    TooLarge,
}

/// Undoes the request's `Content-Encoding` (only `gzip` and `identity` exist), reading
/// at most `limit` decoded bytes.
pub fn decode_request(
    headers: &HeaderMap,
    body: Bytes,
    limit: usize,
) -> Result<Bytes, DecodeError> {
    let encoding = match headers.get(header::CONTENT_ENCODING) {
        None => return Ok(body),
        Some(v) => v.to_str().map_err(|_| DecodeError::Undecodable)?.trim(),
    };
    if encoding.is_empty() || encoding.eq_ignore_ascii_case("identity") {
        return Ok(body);
    }
    if !encoding.eq_ignore_ascii_case("gzip") {
        return Err(DecodeError::Undecodable);
    }
    gunzip(&body, limit)
}

/// Every gzip member of `input`, concatenated; what follows the last member is ignored
/// unless it starts another member.
fn gunzip(input: &[u8], limit: usize) -> Result<Bytes, DecodeError> {
    const MAGIC: [u8; 2] = [0x1f, 0x8b];
    if !input.starts_with(&MAGIC) {
        return Err(DecodeError::Undecodable);
    }
    let mut out = Vec::new();
    let mut rest = input;
    while rest.starts_with(&MAGIC) {
        let mut d = flate2::bufread::GzDecoder::new(rest);
        let room = (limit + 1).saturating_sub(out.len()) as u64;
        (&mut d)
            .take(room)
            .read_to_end(&mut out)
            .map_err(|_| DecodeError::Undecodable)?;
        if out.len() > limit {
            return Err(DecodeError::TooLarge);
        }
        let remaining = d.into_inner();
        if remaining.len() == rest.len() {
            break;
        }
        rest = remaining;
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(values: &[&str]) -> Option<&'static str> {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::ACCEPT_ENCODING, v.parse().unwrap());
        }
        negotiate(&h).map(Coding::name)
    }

    /// Alternator's `test_compressed_response_accept_encodings`, checked on DynamoDB.
    #[test]
    fn negotiation_matches_dynamodb() {
        let cases: &[(&str, Option<&str>)] = &[
            ("identity", None),
            ("", None),
            ("br", None),
            ("zstd", None),
            ("compress", None),
            ("x-gzip", None),
            ("gzip, deflate", Some("gzip")),
            ("br, identity, deflate, gzip", Some("deflate")),
            ("GZIP, identity", Some("gzip")),
            ("dog, gzip ,, cat", Some("gzip")),
            ("gzip;q=0.8, deflate;q=0.5", Some("gzip")),
            (
                "br, gzip;q=0, deflate; q = 0.5 , identity;q=0",
                Some("deflate"),
            ),
            ("*", Some("gzip")),
            ("*, deflate;q=0.5", Some("gzip")),
            ("*, deflate", Some("deflate")),
            ("*, identity", Some("gzip")),
            ("*, gzip;q=0.5", Some("deflate")),
            ("gzip ;q=0", None),
            ("identity;q=0", None),
            ("*;q=0", None),
            ("*;q=0.5,identity", Some("gzip")),
            ("gzip;q=0.5,identity;q=0.8", Some("gzip")),
            ("br;q=0.8,identity;q=0.5,*;q=0", None),
            ("\"gzip\"", None),
            ("gzip br", None),
            ("gzip:q=1", None),
            ("deflate;q=0.5, gzip;q=31", Some("gzip")),
            ("gzip;q=31,deflate;q=51", Some("gzip")),
            ("deflate;q=0.5, gzip;q=0.2", Some("deflate")),
            ("deflate;q=0.5, gzip;q=1;q=0.2", Some("gzip")),
            ("deflate;q=0.5,gzip;q=0.", Some("deflate")),
            ("deflate;q=0.5,gzip;q=0.x", Some("gzip")),
            ("deflate;q=-0.5,gzip;q=0.2", Some("gzip")),
            ("gzip;nq=1;q=0 ", None),
            ("gzip;q=0, gzip;q=1, gzip;q=0", Some("gzip")),
            ("br,identity;q=0.5,gzip;q=0.0001", Some("gzip")),
        ];
        for (value, want) in cases {
            assert_eq!(pick(&[value]), *want, "Accept-Encoding: {value}");
        }
        assert_eq!(pick(&[]), None);
        // Of several header lines only the last counts (Alternator's notes on DynamoDB).
        assert_eq!(pick(&["identity", "gzip"]), Some("gzip"));
        assert_eq!(pick(&["gzip", "identity"]), None);
    }

    #[test]
    fn small_bodies_are_not_compressed_and_large_ones_round_trip() {
        assert_eq!(compress(&[b'x'; THRESHOLD_BYTES], Coding::Gzip), None);
        let body = vec![b'x'; THRESHOLD_BYTES + 1];
        let gz = compress(&body, Coding::Gzip).unwrap();
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());
        assert_eq!(decode_request(&h, gz, 1 << 20).unwrap().as_ref(), &body[..]);
        let z = compress(&body, Coding::Deflate).unwrap();
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(&z[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
    }

    #[test]
    fn request_bodies_decode_as_dynamodb_does() {
        let gz = |s: &[u8]| compress_any(s);
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());
        let two = [gz(b"{\"a\":"), gz(b"1}")].concat();
        assert_eq!(
            decode_request(&h, Bytes::from(two), 100).unwrap().as_ref(),
            b"{\"a\":1}"
        );
        let junk = [gz(b"{}"), b"junk".to_vec()].concat();
        assert_eq!(
            decode_request(&h, Bytes::from(junk), 100).unwrap().as_ref(),
            b"{}"
        );
        let mut cut = gz(b"{}");
        cut.pop();
        assert_eq!(
            decode_request(&h, Bytes::from(cut), 100),
            Err(DecodeError::Undecodable)
        );
        assert_eq!(
            decode_request(&h, Bytes::new(), 100),
            Err(DecodeError::Undecodable)
        );
        assert_eq!(
            decode_request(&h, Bytes::from_static(b"{}"), 100),
            Err(DecodeError::Undecodable)
        );
        assert_eq!(
            decode_request(&h, Bytes::from(gz(&[b' '; 200])), 100),
            Err(DecodeError::TooLarge)
        );
        h.insert(header::CONTENT_ENCODING, "deflate".parse().unwrap());
        assert_eq!(
            decode_request(&h, Bytes::from_static(b"{}"), 100),
            Err(DecodeError::Undecodable)
        );
    }

    fn compress_any(s: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(s).unwrap();
        e.finish().unwrap()
    }
}
