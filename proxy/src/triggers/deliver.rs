//! Delivery of one batch: the Lambda DynamoDB event JSON (`{"Records": [...]}`) POSTed to
//! the trigger's URL, retried with exponential backoff (`crate::backoff`: doubling from
//! `backoff` up to `max_backoff`) on a non-2xx answer, a timeout or a connection error.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use super::config::TriggerConfig;

/// Counter: batches a trigger delivered (label `trigger`).
pub const DELIVERED_BATCHES: &str = "daxlite_trigger_delivered_batches";
/// Counter: records a trigger delivered.
pub const DELIVERED_RECORDS: &str = "daxlite_trigger_delivered_records";
/// Counter: failed delivery attempts.
pub const FAILED_ATTEMPTS: &str = "daxlite_trigger_failed_attempts";
/// Counter: batches given up after `max_retries`.
pub const DROPPED_BATCHES: &str = "daxlite_trigger_dropped_batches";

pub type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client for http:// and https:// receivers.
pub fn client() -> Result<HttpClient, String> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .map_err(|e| format!("triggers: cannot load TLS root certificates: {e}"))?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

/// A stream record as Lambda shows it: with `eventSourceARN`, and `userIdentity` in
/// Lambda's casing (`{"type", "principalId"}`, where the Streams API says
/// `{"Type", "PrincipalId"}`).
pub fn lambda_record(record: &Value, stream_arn: &str) -> Value {
    let mut r = record.clone();
    if let Some(obj) = r.as_object_mut() {
        obj.insert("eventSourceARN".into(), json!(stream_arn));
        if let Some(who) = obj.get("userIdentity").cloned() {
            let kind = who.get("Type").or_else(|| who.get("type")).cloned();
            let principal = who
                .get("PrincipalId")
                .or_else(|| who.get("principalId"))
                .cloned();
            obj.insert(
                "userIdentity".into(),
                json!({ "type": kind, "principalId": principal }),
            );
        }
    }
    r
}

/// The event body for a batch.
pub fn event(records: &[Value], stream_arn: &str) -> Value {
    let list: Vec<Value> = records
        .iter()
        .map(|r| lambda_record(r, stream_arn))
        .collect();
    json!({ "Records": list })
}

/// One attempt: `Ok` on a 2xx answer.
async fn attempt(client: &HttpClient, t: &TriggerConfig, body: &Bytes) -> Result<(), String> {
    let req = http::Request::post(t.url.clone())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header("user-agent", "daxlite-trigger")
        .body(Full::new(body.clone()))
        .map_err(|e| e.to_string())?;
    let sent = tokio::time::timeout(t.timeout, async {
        let resp = client.request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status();
        // Read the answer so the connection can be reused.
        let _ = resp.into_body().collect().await;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("receiver answered {status}"))
        }
    })
    .await;
    sent.unwrap_or_else(|_| Err(format!("no answer within {:?}", t.timeout)))
}

/// Delivers `body` until it is acknowledged, or until `max_retries` retries failed
/// (answers `false`: the batch is given up).
pub async fn deliver(client: &HttpClient, t: &TriggerConfig, body: Bytes) -> bool {
    let mut backoff = crate::backoff::Backoff::new(t.backoff, t.max_backoff);
    let mut retries: u32 = 0;
    loop {
        match attempt(client, t, &body).await {
            Ok(()) => return true,
            Err(e) => {
                metrics::counter!(FAILED_ATTEMPTS, "trigger" => t.name.clone()).increment(1);
                if t.max_retries.is_some_and(|max| retries >= max) {
                    tracing::error!(trigger = %t.name, error = %e, retries, "trigger: batch given up");
                    metrics::counter!(DROPPED_BATCHES, "trigger" => t.name.clone()).increment(1);
                    return false;
                }
                let wait = backoff.step();
                tracing::warn!(trigger = %t.name, error = %e, retry_in = ?wait, "trigger: delivery failed");
                tokio::time::sleep(wait).await;
                retries = retries.saturating_add(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_casing_and_source_arn() {
        let r = json!({"eventName": "REMOVE", "userIdentity": {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}});
        let e = event(&[r], "arn:s");
        assert_eq!(e["Records"][0]["eventSourceARN"], "arn:s");
        assert_eq!(
            e["Records"][0]["userIdentity"],
            json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"})
        );
        let plain = lambda_record(&json!({"eventName": "INSERT"}), "a");
        assert!(plain.get("userIdentity").is_none());
    }
}
