//! Every metric name daxlite exports, and the one Prometheus recorder behind `GET /metrics`.

use std::sync::OnceLock;
use std::time::Instant;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Requests answered, by operation and HTTP status class.
pub const REQUESTS: &str = "daxlite_requests";
/// Requests answered with a 4xx.
pub const ERROR_REQUESTS: &str = "daxlite_error_requests";
/// Requests answered with a 5xx.
pub const FAULT_REQUESTS: &str = "daxlite_fault_requests";
/// Error answers by operation and error type (`__type` without its namespace, e.g.
/// `ConditionalCheckFailedException`); counted on the error path only.
pub const ERRORS_BY_TYPE: &str = "daxlite_errors";
/// Request duration in seconds, by operation and outcome.
pub const REQUEST_DURATION: &str = "daxlite_request_duration_seconds";
/// Open client connections.
pub const CLIENT_CONNECTIONS: &str = "daxlite_client_connections";
/// Throttling answers from the upstream, by operation.
pub const THROTTLED_REQUESTS: &str = "daxlite_throttled_requests";
/// Requests refused by an overload bound, by `reason` (in_flight, connection_in_flight,
/// upstream_queue).
pub const OVERLOAD_REFUSED: &str = "daxlite_overload_refused";
/// GetItem answers served from an expired cache entry because the upstream failed
/// (`[cache] serve_stale_on_error`).
pub const STALE_SERVED: &str = "daxlite_cache_stale_served";
/// Upstream call duration in seconds, by operation (remote upstreams; every attempt).
pub const UPSTREAM_DURATION: &str = "daxlite_upstream_duration_seconds";
/// GetItem / BatchGetItem keys answered from the item cache.
pub const ITEM_CACHE_HITS: &str = "daxlite_item_cache_hits";
/// GetItem / BatchGetItem keys fetched from the upstream.
pub const ITEM_CACHE_MISSES: &str = "daxlite_item_cache_misses";
/// Query pages answered from the query cache.
pub const QUERY_CACHE_HITS: &str = "daxlite_query_cache_hits";
pub const QUERY_CACHE_MISSES: &str = "daxlite_query_cache_misses";
/// Scan pages answered from the query cache.
pub const SCAN_CACHE_HITS: &str = "daxlite_scan_cache_hits";
pub const SCAN_CACHE_MISSES: &str = "daxlite_scan_cache_misses";
/// Bytes evicted from the cache by size or expiry (not by writes).
pub const EVICTED_BYTES: &str = "daxlite_evicted_bytes";
/// Cache entries invalidated, by cause (write, unknown_outcome, table, admin).
pub const INVALIDATIONS: &str = "daxlite_invalidations";
/// The cache's weighted size in bytes (DAX: EstimatedDbSize).
pub const CACHE_BYTES: &str = "daxlite_cache_bytes";
/// `cache_bytes` / `max_bytes`.
pub const CACHE_MEMORY_UTILIZATION: &str = "daxlite_cache_memory_utilization";
/// Change records a Kinesis destination delivered (Kinesis accepted them; label `table`).
pub const KINESIS_DELIVERED: &str = "daxlite_kinesis_delivered_records";
/// Change records Kinesis refused in an attempt (a PutRecords entry with an ErrorCode, or
/// every entry of a call that failed as a whole).
pub const KINESIS_FAILED: &str = "daxlite_kinesis_failed_records";
/// Change records sent again after a failed attempt.
pub const KINESIS_RETRIED: &str = "daxlite_kinesis_retried_records";
/// Delivery lag in seconds: the age of the oldest change still to deliver (0: none).
pub const KINESIS_LAG: &str = "daxlite_kinesis_lag_seconds";
/// Histogram (milliseconds, label `region`: the receiving region): from a change's
/// commit here to its acknowledgement by the replica (global tables' ReplicationLatency).
pub const GLOBAL_REPLICATION_LATENCY: &str = "daxlite_global_replication_latency_ms";
/// Counter (label `outcome`: applied | dropped): replicated changes received; dropped
/// ones lost to a newer version (last writer wins).
pub const GLOBAL_APPLIED: &str = "daxlite_global_replicated_changes";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide Prometheus recorder once and returns its handle.
pub fn prometheus() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| match PrometheusBuilder::new().install_recorder() {
            Ok(handle) => {
                start_upkeep(handle.clone());
                Some(handle)
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics recorder not installed");
                None
            }
        })
        .clone()
}

/// How often histogram samples are folded into their summaries.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// `install_recorder` leaves upkeep to the caller: histogram samples are buffered raw
/// until `run_upkeep` (or a scrape of /metrics) drains them, so without it memory grew by
/// ~16 bytes per request when nothing scraped. A small thread drains them on a timer.
fn start_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("daxlite-metrics".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_EVERY);
            handle.run_upkeep();
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "metrics upkeep thread not started");
    }
}

/// Counts one answered request (an error also by its type, when the answer names one)
/// and records its duration.
pub fn request_done(
    op: &'static str,
    status: u16,
    started: Instant,
    outcome: &'static str,
    error_type: Option<&str>,
) {
    metrics::counter!(REQUESTS, "operation" => op).increment(1);
    if (400..500).contains(&status) {
        metrics::counter!(ERROR_REQUESTS, "operation" => op).increment(1);
    } else if status >= 500 {
        metrics::counter!(FAULT_REQUESTS, "operation" => op).increment(1);
    }
    if let Some(t) = error_type.filter(|_| status >= 400) {
        metrics::counter!(ERRORS_BY_TYPE, "operation" => op, "type" => t.to_string()).increment(1);
    }
    metrics::histogram!(REQUEST_DURATION, "operation" => op, "outcome" => outcome)
        .record(started.elapsed().as_secs_f64());
}

/// The error type a DynamoDB JSON error body names: its `__type` without the namespace
/// (`com.amazonaws.dynamodb.v20120810#ResourceNotFoundException` → the part after `#`).
/// Looks at the first 512 bytes only (`__type` leads the engine's and DynamoDB's bodies).
pub fn error_type_of(body: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"\"__type\":";
    let head = &body[..body.len().min(512)];
    let at = head.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let rest = &head[at..];
    let open = rest.iter().position(|b| *b == b'"')? + 1;
    let len = rest[open..].iter().position(|b| *b == b'"')?;
    let full = std::str::from_utf8(&rest[open..open + len]).ok()?;
    Some(full.rsplit('#').next().unwrap_or(full))
}

#[cfg(test)]
mod tests {
    use super::error_type_of;

    #[test]
    fn the_error_type_is_the_part_after_the_namespace() {
        let body = br#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"x"}"#;
        assert_eq!(error_type_of(body), Some("ResourceNotFoundException"));
        let spaced =
            br#"{"message":"x", "__type": "com.amazon.coral.validate#ValidationException"}"#;
        assert_eq!(error_type_of(spaced), Some("ValidationException"));
        assert_eq!(error_type_of(br#"{"__type":"Bare"}"#), Some("Bare"));
        assert_eq!(error_type_of(br#"{"Item":{}}"#), None);
        assert_eq!(error_type_of(br#"{"__type":"unterminated"#), None);
    }
}
