//! The request counters of CAPACITY.md §5 beyond throttling, as Prometheus series (the
//! `metrics` facade; the proxy serves them on `GET /metrics`):
//! `daxlite_dynamodb_returned_item_count{table,operation}` (CloudWatch ReturnedItemCount:
//! the items a Query or Scan page answered, after its filter),
//! `daxlite_dynamodb_conditional_check_failed_requests{table}` (ConditionalCheckFailedRequests:
//! PutItem / UpdateItem / DeleteItem / PartiQL writes whose condition failed; counted on
//! the error path only) and `daxlite_dynamodb_time_to_live_deleted_item_count{table}`
//! (TimeToLiveDeletedItemCount, counted by the sweeper after its commit).

pub const RETURNED_ITEM_COUNT: &str = "daxlite_dynamodb_returned_item_count";
pub const CONDITIONAL_CHECK_FAILED_REQUESTS: &str =
    "daxlite_dynamodb_conditional_check_failed_requests";
pub const TIME_TO_LIVE_DELETED_ITEM_COUNT: &str =
    "daxlite_dynamodb_time_to_live_deleted_item_count";

/// A Query or Scan page answered `count` items.
pub fn returned(table: &str, operation: &'static str, count: usize) {
    metrics::counter!(RETURNED_ITEM_COUNT, "table" => table.to_string(), "operation" => operation)
        .increment(count as u64);
}

/// A conditional write of `table` failed its condition.
pub fn condition_failed(table: String) {
    metrics::counter!(CONDITIONAL_CHECK_FAILED_REQUESTS, "table" => table).increment(1);
}

/// The TTL sweeper deleted `n` items of `table`.
pub fn ttl_deleted(table: String, n: u64) {
    metrics::counter!(TIME_TO_LIVE_DELETED_ITEM_COUNT, "table" => table).increment(n);
}
