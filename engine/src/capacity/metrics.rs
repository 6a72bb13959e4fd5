//! The throttling metrics of CAPACITY.md §5 as Prometheus series (through the `metrics`
//! facade; the proxy's recorder serves them on `GET /metrics`). Recorded only when a
//! request is throttled, so they cost nothing otherwise.

use super::throttle::{Axis, Limit, Throttle};

/// Requests with at least one throttled event, by `table` and `operation`
/// (CloudWatch ThrottledRequests).
pub const THROTTLED_REQUESTS: &str = "daxlite_dynamodb_throttled_requests";
/// Throttled read events, by `table` (and `index` for a GSI).
pub const READ_THROTTLE_EVENTS: &str = "daxlite_dynamodb_read_throttle_events";
/// Throttled write events, by `table` (and `index` for a GSI).
pub const WRITE_THROTTLE_EVENTS: &str = "daxlite_dynamodb_write_throttle_events";
pub const READ_PROVISIONED_THROTTLE_EVENTS: &str =
    "daxlite_dynamodb_read_provisioned_throughput_throttle_events";
pub const WRITE_PROVISIONED_THROTTLE_EVENTS: &str =
    "daxlite_dynamodb_write_provisioned_throughput_throttle_events";
pub const READ_MAX_ON_DEMAND_THROTTLE_EVENTS: &str =
    "daxlite_dynamodb_read_max_on_demand_throughput_throttle_events";
pub const WRITE_MAX_ON_DEMAND_THROTTLE_EVENTS: &str =
    "daxlite_dynamodb_write_max_on_demand_throughput_throttle_events";
pub const READ_ACCOUNT_LIMIT_THROTTLE_EVENTS: &str =
    "daxlite_dynamodb_read_account_limit_throttle_events";
pub const WRITE_ACCOUNT_LIMIT_THROTTLE_EVENTS: &str =
    "daxlite_dynamodb_write_account_limit_throttle_events";

pub const READ_KEY_RANGE_THROTTLE_EVENTS: &str =
    "daxlite_dynamodb_read_key_range_throughput_throttle_events";
pub const WRITE_KEY_RANGE_THROTTLE_EVENTS: &str =
    "daxlite_dynamodb_write_key_range_throughput_throttle_events";

/// Counts one throttled event of `table`; `first` also counts the request.
pub fn record(table: &str, operation: &'static str, t: &Throttle, first: bool) {
    if first {
        metrics::counter!(THROTTLED_REQUESTS, "table" => table.to_string(), "operation" => operation)
            .increment(1);
    }
    let events = match t.axis {
        Axis::Read => READ_THROTTLE_EVENTS,
        Axis::Write => WRITE_THROTTLE_EVENTS,
    };
    let by_reason = match (t.axis, t.limit) {
        (Axis::Read, Limit::Provisioned) => READ_PROVISIONED_THROTTLE_EVENTS,
        (Axis::Write, Limit::Provisioned) => WRITE_PROVISIONED_THROTTLE_EVENTS,
        (Axis::Read, Limit::OnDemandMax) => READ_MAX_ON_DEMAND_THROTTLE_EVENTS,
        (Axis::Write, Limit::OnDemandMax) => WRITE_MAX_ON_DEMAND_THROTTLE_EVENTS,
        (Axis::Read, Limit::Account) => READ_ACCOUNT_LIMIT_THROTTLE_EVENTS,
        (Axis::Write, Limit::Account) => WRITE_ACCOUNT_LIMIT_THROTTLE_EVENTS,
        (Axis::Read, Limit::KeyRange | Limit::OnDemandKeyRange) => READ_KEY_RANGE_THROTTLE_EVENTS,
        (Axis::Write, Limit::KeyRange | Limit::OnDemandKeyRange) => WRITE_KEY_RANGE_THROTTLE_EVENTS,
    };
    for name in [events, by_reason] {
        match &t.index {
            Some(i) => metrics::counter!(name, "table" => table.to_string(), "index" => i.clone())
                .increment(1),
            None => metrics::counter!(name, "table" => table.to_string()).increment(1),
        }
    }
}
