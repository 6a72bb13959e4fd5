//! The Kinesis client subset the publisher needs — PutRecords and DescribeStreamSummary —
//! over hyper + rustls, JSON 1.1 (`X-Amz-Target: Kinesis_20131202.<Op>`), signed with
//! SigV4 for service `kinesis` (`upstream::signing`, shared with the remote upstream).
//! Streams are named by `StreamName` (what kinesalite and AWS both accept).

use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http::{header, HeaderValue, Uri};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use super::config::KinesisConfig;
use crate::upstream::signing::{self, CredentialSource};

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The stream does not exist (ResourceNotFoundException): the destination fails.
    NotFound(String),
    /// ProvisionedThroughputExceededException / LimitExceededException: back off.
    Throttled(String),
    /// Anything else (unreachable, timeout, 5xx, an unexpected answer): retry.
    Other(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::NotFound(m) => write!(f, "stream not found: {m}"),
            CallError::Throttled(m) => write!(f, "throttled: {m}"),
            CallError::Other(m) => f.write_str(m),
        }
    }
}

/// One entry of a PutRecords call.
#[derive(Debug, Clone)]
pub struct Entry {
    pub data: String,
    pub partition_key: String,
}

/// The outcome of PutRecords: per entry, `None` when Kinesis stored it, else its
/// ErrorCode.
pub type EntryResults = Vec<Option<String>>;

/// A Kinesis endpoint. Cheap to clone.
#[derive(Clone)]
pub struct Kinesis {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    uri: Uri,
    uri_text: String,
    host: HeaderValue,
    config: KinesisConfig,
    credentials: CredentialSource,
}

impl Kinesis {
    pub async fn connect(config: KinesisConfig) -> Result<Kinesis, String> {
        let credentials = CredentialSource::for_endpoint(&config.endpoint, &config.region).await;
        let uri = config.endpoint.clone();
        let host = uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
            .ok_or_else(|| format!("kinesis: {uri} has no valid host"))?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(Arc::new(rustls::crypto::ring::default_provider()))
            .map_err(|e| format!("kinesis: cannot load TLS root certificates: {e}"))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(https);
        let mut uri_text = uri.to_string();
        if uri.path() == "/" && !uri_text.ends_with('/') {
            uri_text.push('/');
        }
        Ok(Kinesis {
            inner: Arc::new(Inner {
                client,
                uri,
                uri_text,
                host,
                config,
                credentials,
            }),
        })
    }

    /// One signed call; the answer's JSON on a 200.
    async fn call(&self, op: &str, body: Vec<u8>) -> Result<Value, CallError> {
        let inner = &self.inner;
        let body = Bytes::from(body);
        let mut req = http::Request::post(inner.uri.clone())
            .header(header::HOST, inner.host.clone())
            .header(header::CONTENT_TYPE, "application/x-amz-json-1.1")
            .header("x-amz-target", format!("Kinesis_20131202.{op}"))
            .body(Full::new(body.clone()))
            .map_err(|e| CallError::Other(e.to_string()))?;
        let credentials = inner.credentials.get().await;
        let region = &inner.config.region;
        signing::sign(
            &mut req,
            credentials,
            region,
            "kinesis",
            &inner.uri_text,
            &body,
        )
        .map_err(CallError::Other)?;
        let sent = tokio::time::timeout(inner.config.timeout, async {
            let resp = inner
                .client
                .request(req)
                .await
                .map_err(|e| CallError::Other(format!("kinesis unreachable: {e}")))?;
            let status = resp.status().as_u16();
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| CallError::Other(format!("kinesis connection lost: {e}")))?
                .to_bytes();
            Ok::<_, CallError>((status, bytes))
        })
        .await
        .map_err(|_| CallError::Other("kinesis did not answer in time".into()))??;
        let (status, bytes) = sent;
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status == 200 {
            return Ok(value);
        }
        Err(classify(status, &value))
    }

    /// DescribeStreamSummary: the stream's status (ACTIVE, CREATING, ...).
    pub async fn stream_status(&self, stream: &str) -> Result<String, CallError> {
        let body = serde_json::to_vec(&json!({ "StreamName": stream }))
            .map_err(|e| CallError::Other(e.to_string()))?;
        let v = self.call("DescribeStreamSummary", body).await?;
        Ok(v["StreamDescriptionSummary"]["StreamStatus"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// PutRecords of `entries` (≤ 500) to `stream`.
    pub async fn put_records(
        &self,
        stream: &str,
        entries: &[Entry],
    ) -> Result<EntryResults, CallError> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let records: Vec<Value> = entries
            .iter()
            .map(|e| json!({ "Data": b64.encode(e.data.as_bytes()), "PartitionKey": e.partition_key }))
            .collect();
        let body = serde_json::to_vec(&json!({ "StreamName": stream, "Records": records }))
            .map_err(|e| CallError::Other(e.to_string()))?;
        let v = self.call("PutRecords", body).await?;
        let Some(list) = v["Records"].as_array().filter(|l| l.len() == entries.len()) else {
            return Err(CallError::Other(format!(
                "PutRecords answered without one result per record: {v}"
            )));
        };
        Ok(list
            .iter()
            .map(|r| r["ErrorCode"].as_str().map(str::to_string))
            .collect())
    }
}

/// Sorts an error answer by its `__type` (with or without a namespace before `#`).
pub fn classify(status: u16, body: &Value) -> CallError {
    let kind = body["__type"].as_str().unwrap_or_default();
    let kind = kind.rsplit('#').next().unwrap_or(kind);
    let message = body["message"]
        .as_str()
        .or_else(|| body["Message"].as_str())
        .unwrap_or_default();
    let text = format!("{status} {kind}: {message}");
    match kind {
        "ResourceNotFoundException" => CallError::NotFound(message.to_string()),
        "ProvisionedThroughputExceededException" | "LimitExceededException" => {
            CallError::Throttled(text)
        }
        _ => CallError::Other(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_sorted_by_type() {
        let nf = json!({"__type": "ResourceNotFoundException", "message": "Stream s under account 000000000000 not found."});
        assert_eq!(
            classify(400, &nf),
            CallError::NotFound("Stream s under account 000000000000 not found.".into())
        );
        let t = json!({"__type": "com.amazonaws.kinesis#ProvisionedThroughputExceededException"});
        assert!(matches!(classify(400, &t), CallError::Throttled(_)));
        assert!(matches!(classify(500, &Value::Null), CallError::Other(_)));
    }
}
