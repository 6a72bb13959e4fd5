//! When the remote upstream retries, and how long it waits: only what the AWS SDKs retry
//! (throttling on reads — it was not applied, but a throttled write is passed through at
//! once so the client's own retries and UnprocessedItems handling see it; 5xx and lost
//! replies only for idempotent calls, since a 5xx on a write means "may or may not have
//! been applied"), with full
//! jitter backoff and a token-bucket retry budget so an outage does not multiply load.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use daxlite_engine::wire::{OpKind, Operation};

/// Retry settings of one remote upstream.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: never retry).
    pub max_retries: u32,
    /// The first backoff cap; doubles with every retry.
    pub base: Duration,
    /// The largest backoff.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base: Duration::from_millis(25),
            max_backoff: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// Full jitter: a uniformly random wait in `[0, min(max, base * 2^retry)]`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let cap = self
            .base
            .saturating_mul(1u32 << retry.min(16))
            .min(self.max_backoff);
        let r = uuid::Uuid::new_v4().as_u128() as u64;
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(if nanos == 0 { 0 } else { r % (nanos + 1) })
    }
}

/// What went wrong with one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The upstream refused the work (throttling): never applied; retried for reads only.
    Throttled,
    /// A 5xx, a timeout or a connection lost after the request was sent: outcome unknown.
    Unknown,
    /// The connection was never established: nothing was sent.
    NotSent,
}

/// The SDKs' retry quota: retries spend tokens, successes earn a few back.
#[derive(Debug)]
pub struct RetryBudget {
    tokens: AtomicU32,
    max: u32,
}

const RETRY_COST: u32 = 5;
const TIMEOUT_COST: u32 = 10;

impl RetryBudget {
    pub fn new(max: u32) -> Self {
        RetryBudget {
            tokens: AtomicU32::new(max),
            max,
        }
    }

    /// Takes the tokens for one retry; false when the budget is spent.
    pub fn try_spend(&self, failure: Failure) -> bool {
        let cost = match failure {
            Failure::Unknown => TIMEOUT_COST,
            _ => RETRY_COST,
        };
        self.tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                t.checked_sub(cost)
            })
            .is_ok()
    }

    /// A successful call puts one token back.
    pub fn earn(&self) {
        let _ = self
            .tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                (t < self.max).then_some(t + 1)
            });
    }

    pub fn available(&self) -> u32 {
        self.tokens.load(Ordering::Relaxed)
    }
}

/// Whether repeating the call cannot apply anything twice. `None`: a target daxlite does
/// not know (never idempotent). TransactWriteItems is idempotent only with a
/// ClientRequestToken.
pub fn idempotent(op: Option<Operation>, body: &[u8]) -> bool {
    let Some(op) = op else { return false };
    match op {
        Operation::ExecuteStatement
        | Operation::BatchExecuteStatement
        | Operation::ExecuteTransaction => false,
        Operation::TransactWriteItems => has_client_token(body),
        Operation::TransactGetItems => true,
        _ => match op.kind() {
            OpKind::Read | OpKind::Stream => true,
            OpKind::Write | OpKind::Transaction => false,
            OpKind::Control | OpKind::Autoscaling => {
                let name = op.name();
                name.starts_with("Describe") || name.starts_with("List") || name.starts_with("Get")
            }
        },
    }
}

fn has_client_token(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Token {
        #[serde(rename = "ClientRequestToken")]
        token: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Token>(body).is_ok_and(|t| t.token.is_some())
}

/// Whether an error answer is throttling (400s the SDKs retry; never applied).
pub fn is_throttling(status: u16, body: &[u8]) -> bool {
    if status != 400 || body.len() > 4096 {
        return false;
    }
    #[derive(serde::Deserialize)]
    struct Type {
        #[serde(rename = "__type")]
        ty: Option<String>,
    }
    let Ok(Type { ty: Some(ty) }) = serde_json::from_slice::<Type>(body) else {
        return false;
    };
    let name = ty.rsplit('#').next().unwrap_or("");
    matches!(
        name,
        "ThrottlingException"
            | "ProvisionedThroughputExceededException"
            | "RequestLimitExceeded"
            | "LimitExceededException"
            | "TransactionInProgressException"
    )
}

/// Whether `op` may change items (PartiQL statements count as writes: they may be).
pub fn is_write(op: Option<Operation>) -> bool {
    match op {
        None => true,
        Some(Operation::TransactGetItems) => false,
        Some(
            Operation::ExecuteStatement
            | Operation::BatchExecuteStatement
            | Operation::ExecuteTransaction,
        ) => true,
        Some(op) => matches!(op.kind(), OpKind::Write | OpKind::Transaction),
    }
}

/// Whether to retry after `failure` of a call that is (or is not) `idempotent` and
/// (or is not) a `write`. A throttled write is never retried: the throttle goes back to
/// the client unchanged.
pub fn should_retry(failure: Failure, idempotent: bool, write: bool) -> bool {
    match failure {
        Failure::NotSent => true,
        Failure::Throttled => !write,
        Failure::Unknown => idempotent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_not_retried_after_an_unknown_outcome() {
        let put = idempotent(Some(Operation::PutItem), b"{}");
        assert!(!put);
        assert!(!should_retry(Failure::Unknown, put, true));
        assert!(!should_retry(Failure::Throttled, put, true));
        assert!(should_retry(Failure::Throttled, true, false));
        assert!(should_retry(Failure::NotSent, put, true));
        assert!(is_write(Some(Operation::PutItem)));
        assert!(is_write(Some(Operation::TransactWriteItems)));
        assert!(is_write(Some(Operation::ExecuteStatement)));
        assert!(!is_write(Some(Operation::GetItem)));
        assert!(!is_write(Some(Operation::TransactGetItems)));
        assert!(idempotent(Some(Operation::GetItem), b"{}"));
        assert!(idempotent(Some(Operation::DescribeTable), b"{}"));
        assert!(!idempotent(Some(Operation::CreateTable), b"{}"));
        assert!(!idempotent(Some(Operation::TransactWriteItems), b"{}"));
        assert!(idempotent(
            Some(Operation::TransactWriteItems),
            br#"{"ClientRequestToken":"x"}"#
        ));
        assert!(!idempotent(None, b"{}"));
    }

    #[test]
    fn throttling_is_recognised_by_type() {
        let body =
            br#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"x"}"#;
        assert!(is_throttling(400, body));
        assert!(!is_throttling(500, body));
        let body =
            br#"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"}"#;
        assert!(!is_throttling(400, body));
    }

    #[test]
    fn budget_runs_out_and_backoff_is_bounded() {
        let b = RetryBudget::new(12);
        assert!(b.try_spend(Failure::Throttled));
        assert!(b.try_spend(Failure::Throttled));
        assert!(!b.try_spend(Failure::Throttled));
        b.earn();
        assert_eq!(b.available(), 3);
        let p = RetryPolicy::default();
        for r in 0..40 {
            assert!(p.backoff(r) <= p.max_backoff);
        }
    }
}
