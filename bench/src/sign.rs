//! SigV4 for DynamoDB requests. The canonical request of a bench request is always the same
//! shape (POST /, four signed headers), so it is written directly and signed with
//! `aws-sigv4`'s primitives, with the day's signing key derived once; a test proves the result
//! equals `aws-sigv4`'s full signer. Identical bodies also reuse their signature for a few
//! minutes unless `--sign-every-request`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sigv4::sign::v4;
use bytes::Bytes;
use http::header::HeaderValue;
use sha2::{Digest, Sha256};

use crate::workload::{target_header, Req};

/// How long a cached signature is reused (AWS accepts 15 minutes of skew).
const SIGNATURE_REUSE: Duration = Duration::from_secs(240);
/// Bound on cached signatures per target.
const SIGNATURE_CACHE_MAX: usize = 200_000;
const SIGNED_HEADERS: &str = "content-type;host;x-amz-date;x-amz-target";

#[derive(Clone)]
struct Signed {
    at: Instant,
    date: HeaderValue,
    auth: HeaderValue,
}

/// Signs requests with SigV4 for service `dynamodb`.
pub struct Signer {
    access_key: String,
    secret_key: String,
    region: String,
    every_request: bool,
    /// (YYYYMMDD, signing key) of the last day signed for.
    key: Mutex<Option<(String, Vec<u8>)>>,
    cache: Mutex<HashMap<(&'static str, Bytes), Signed>>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("region", &self.region)
            .finish()
    }
}

/// `YYYYMMDDTHHMMSSZ` (UTC) of a time.
pub fn amz_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut s = String::with_capacity(64);
    for b in digest {
        let _ = write!(s, "{b:02x}");
    }
    s
}

impl Signer {
    pub fn new(access_key: &str, secret_key: &str, region: &str, every_request: bool) -> Self {
        Signer {
            access_key: access_key.to_string(),
            secret_key: secret_key.to_string(),
            region: region.to_string(),
            every_request,
            key: Mutex::new(None),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The `X-Amz-Date` and `Authorization` header values for `req` sent to `host`.
    pub fn sign(&self, host: &str, req: &Req) -> Result<(HeaderValue, HeaderValue), String> {
        if !self.every_request {
            let cache = self.cache.lock().map_err(|_| "signature cache poisoned")?;
            if let Some(s) = cache.get(&(req.op, req.body.clone())) {
                if s.at.elapsed() < SIGNATURE_REUSE {
                    return Ok((s.date.clone(), s.auth.clone()));
                }
            }
        }
        let (date, auth) = self.sign_at(host, req, SystemTime::now())?;
        let signed = Signed {
            at: Instant::now(),
            date: HeaderValue::from_str(&date).map_err(|e| format!("x-amz-date: {e}"))?,
            auth: HeaderValue::from_str(&auth).map_err(|e| format!("authorization: {e}"))?,
        };
        if !self.every_request {
            let mut cache = self.cache.lock().map_err(|_| "signature cache poisoned")?;
            if cache.len() >= SIGNATURE_CACHE_MAX {
                cache.clear();
            }
            cache.insert((req.op, req.body.clone()), signed.clone());
        }
        Ok((signed.date, signed.auth))
    }

    /// (x-amz-date, authorization) for a request signed at `time`.
    pub fn sign_at(
        &self,
        host: &str,
        req: &Req,
        time: SystemTime,
    ) -> Result<(String, String), String> {
        let date = amz_date(time);
        let day = &date[..8];
        let canonical = format!(
            "POST\n/\n\ncontent-type:application/x-amz-json-1.0\nhost:{host}\nx-amz-date:{date}\nx-amz-target:{}\n\n{SIGNED_HEADERS}\n{}",
            target_header(req.op),
            sha256_hex(&req.body)
        );
        let scope = format!("{day}/{}/dynamodb/aws4_request", self.region);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
            sha256_hex(canonical.as_bytes())
        );
        let signature = {
            let mut key = self.key.lock().map_err(|_| "signing key poisoned")?;
            if key.as_ref().map(|(d, _)| d.as_str()) != Some(day) {
                let k = v4::generate_signing_key(&self.secret_key, time, &self.region, "dynamodb");
                *key = Some((day.to_string(), k.as_ref().to_vec()));
            }
            match key.as_ref() {
                Some((_, k)) => v4::calculate_signature(k, to_sign.as_bytes()),
                None => return Err("no signing key".into()),
            }
        };
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={signature}",
            self.access_key
        );
        Ok((date, auth))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::Expect;
    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_smithy_runtime_api::client::identity::Identity;

    fn get() -> Req {
        Req {
            op: "GetItem",
            body: Bytes::from_static(br#"{"TableName":"t","Key":{"pk":{"S":"a"}}}"#),
            expect: Expect::Ok,
            then: None,
        }
    }

    /// What aws-sigv4's full signer produces for the same request.
    fn reference(host: &str, req: &Req, time: SystemTime) -> (String, String) {
        let identity: Identity = Credentials::new("AKID", "secret/key", None, None, "test").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-1")
            .name("dynamodb")
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let target = target_header(req.op);
        let headers = [
            ("host", host),
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", target.as_str()),
        ];
        let uri = format!("http://{host}/");
        let signable = SignableRequest::new(
            "POST",
            &uri,
            headers.into_iter(),
            SignableBody::Bytes(&req.body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let mut date = String::new();
        let mut auth = String::new();
        for (name, value) in instructions.headers() {
            match name {
                "x-amz-date" => date = value.to_string(),
                "authorization" => auth = value.to_string(),
                _ => {}
            }
        }
        (date, auth)
    }

    #[test]
    fn equals_aws_sigv4_full_signer() {
        let s = Signer::new("AKID", "secret/key", "eu-west-1", true);
        for secs in [
            0u64,
            951_782_400,
            1_700_000_000,
            1_767_225_599,
            4_102_444_800,
        ] {
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            for host in ["127.0.0.1:8000", "dynamodb.eu-west-1.amazonaws.com:80"] {
                let ours = s.sign_at(host, &get(), t).unwrap();
                assert_eq!(ours, reference(host, &get(), t), "at {secs} for {host}");
            }
        }
    }

    #[test]
    fn dates_are_utc_basic_format() {
        assert_eq!(amz_date(UNIX_EPOCH), "19700101T000000Z");
        assert_eq!(
            amz_date(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "20000229T000000Z"
        );
        assert_eq!(
            amz_date(UNIX_EPOCH + Duration::from_secs(1_767_225_599)),
            "20251231T235959Z"
        );
    }

    #[test]
    fn identical_bodies_reuse_their_signature() {
        let s = Signer::new("AKID", "secret", "us-east-1", false);
        let a = s.sign("127.0.0.1:8000", &get()).unwrap();
        let b = s.sign("127.0.0.1:8000", &get()).unwrap();
        assert_eq!(a, b);
        let auth = a.1.to_str().unwrap_or("");
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKID/"),
            "{auth}"
        );
        assert!(auth.contains("/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="));
    }
}
