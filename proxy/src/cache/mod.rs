//! The DAX-style cache (semantics in docs/CACHE.md): `Cached<U>` is itself an
//! [`Upstream`], a decorator around the embedded engine or a remote endpoint, so all
//! read-through and write-through logic lives here. Eventually consistent GetItem is
//! served from the item cache (`item`), Query and Scan pages from the page cache
//! (`query`); writes go upstream first and update or invalidate the cache only after
//! (`write`); everything else passes through untouched.

mod admin;
mod batch;
mod coalesce;
mod coherence;
mod counters;
mod entry;
pub mod follow;
pub mod follow_streams;
mod item;
mod keys;
#[cfg(test)]
mod page_race;
mod partiql;
mod query;
mod raw_key;
mod schema;
mod scope;
mod store;
mod write;
mod write_many;

use std::time::Duration;

use bytes::Bytes;
use daxlite_engine::wire::Operation;

use crate::upstream::{Reply, Request, Upstream};
use coherence::Coherence;
use counters::Counters;
use schema::Schemas;
use store::Store;

pub use coherence::{Ticket, WriteOutcome};

/// `coherent` (default) or `dax`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consistency {
    /// Writes through this daxlite also invalidate cached Query and Scan pages.
    #[default]
    Coherent,
    /// DAX's documented behaviour: pages stay stale until their TTL.
    Dax,
}

/// Validated cache settings (`[cache]`; the defaults live in `config/cache.rs`).
#[derive(Debug, Clone)]
pub struct CacheConfig {
    pub enabled: bool,
    /// 0: no time expiry.
    pub item_ttl: Duration,
    /// 0: query caching off.
    pub query_ttl: Duration,
    /// `None`: negative entries off; `Some(0)`: no time expiry.
    pub negative_ttl: Option<Duration>,
    pub max_bytes: u64,
    pub consistency: Consistency,
    /// `[cache] serve_stale_on_error`: how long past `item_ttl` an item entry is kept to
    /// answer GetItem when the upstream fails (None: off, as DAX).
    pub stale_for: Option<Duration>,
}

/// The cache in front of `U`.
pub struct Cached<U> {
    inner: U,
    config: CacheConfig,
    store: Store,
    schemas: Schemas,
    coherence: Coherence,
    counters: Counters,
    /// Item fills: those in flight, one per key, and the tests' delay hook.
    fills: Fills,
    /// Global tables' replication controls, when the upstream has them (admin commands
    /// the cache passes on).
    control: Option<crate::global::Control>,
}

/// The item-fill concern of [`Cached`].
#[derive(Default)]
struct Fills {
    /// Item fills in flight, one per key (miss coalescing).
    inflight: coalesce::Coalescer<item::Fill>,
    /// Test hook: runs between a fill's upstream answer and its insert.
    delay: Option<Duration>,
}

impl<U: Upstream> Cached<U> {
    pub fn new(inner: U, config: CacheConfig) -> Self {
        Cached {
            store: Store::new(&config),
            inner,
            config,
            schemas: Schemas::default(),
            coherence: Coherence::default(),
            counters: Counters::default(),
            fills: Fills::default(),
            control: None,
        }
    }

    /// Passes the admin listener's replication commands on to `control`.
    pub fn with_control(mut self, control: Option<crate::global::Control>) -> Self {
        self.control = control;
        self
    }

    /// Delays every item fill between the upstream's answer and the cache insert, so
    /// tests can make a write overtake a fill.
    pub fn with_fill_delay(mut self, delay: Duration) -> Self {
        self.fills.delay = Some(delay);
        self
    }

    pub fn inner(&self) -> &U {
        &self.inner
    }

    /// The cache's weighted size in bytes.
    pub fn weighted_size(&self) -> u64 {
        self.store.weighted_size()
    }

    pub fn entry_count(&self) -> u64 {
        self.store.entry_count()
    }

    /// Whether an item entry is kept: absent items only while negative caching is on.
    fn keeps(&self, entry: &store::Entry) -> bool {
        entry.kind != store::EntryKind::Absent || self.config.negative_ttl.is_some()
    }

    /// Drops every entry (admin flush).
    pub fn flush(&self) {
        self.flush_because("admin");
    }

    fn flush_because(&self, cause: &'static str) {
        self.coherence.bump_all();
        self.store.clear();
        self.schemas.clear();
        metrics::counter!(crate::metrics::INVALIDATIONS, "cause" => cause).increment(1);
    }

    /// Control-plane calls that change a table make its entries and schema stale. A
    /// restore or an import creates a table under a name that may have been cached
    /// before a DeleteTable: that name is the one forgotten.
    async fn control(&self, req: Request) -> Reply {
        let table = match req.op {
            Operation::RestoreTableFromBackup | Operation::RestoreTableToPointInTime => {
                target_table_name(&req.body)
            }
            Operation::ImportTable => imported_table_name(&req.body),
            _ => table_name(&req.body),
        };
        let reply = self.inner.call(req).await;
        if let Some(t) = table {
            self.forget_table(&t, "table");
        }
        reply
    }

    fn forget_table(&self, table: &str, cause: &'static str) {
        self.schemas.forget(table);
        self.coherence.bump_epoch(table.as_bytes());
        self.coherence.bump_generation(table.as_bytes(), None);
        metrics::counter!(crate::metrics::INVALIDATIONS, "cause" => cause).increment(1);
    }

    /// Forgets the table when the upstream says it does not exist.
    fn check_not_found(&self, table: &str, reply: &Reply) {
        if reply.status == 400
            && reply.body.len() < 1024
            && memchr_str(&reply.body, "ResourceNotFoundException")
        {
            self.forget_table(table, "table");
        }
    }
}

fn memchr_str(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Whether a request names its table by ARN (DynamoDB accepts a table ARN wherever it
/// takes a TableName). Such reads are forwarded uncached and such writes forget the
/// table of that name: the ARN may name another account's table, whose key schema and
/// items are not this name's.
fn by_arn(table: &str) -> bool {
    table.starts_with("arn:")
}

/// The `TableName` of a request body, if it has one.
fn table_name(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct T {
        #[serde(rename = "TableName")]
        table: Option<String>,
    }
    serde_json::from_slice::<T>(body).ok()?.table
}

/// The `TargetTableName` of a restore request.
fn target_table_name(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct T {
        #[serde(rename = "TargetTableName")]
        table: Option<String>,
    }
    serde_json::from_slice::<T>(body).ok()?.table
}

/// The `TableCreationParameters.TableName` of an ImportTable request.
fn imported_table_name(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct P {
        #[serde(rename = "TableCreationParameters")]
        params: Option<T>,
    }
    #[derive(serde::Deserialize)]
    struct T {
        #[serde(rename = "TableName")]
        table: Option<String>,
    }
    serde_json::from_slice::<P>(body).ok()?.params?.table
}

impl<U: Upstream> crate::admin::Administer for Cached<U> {
    async fn admin(&self, cmd: crate::admin::Command) -> Option<crate::admin::Answer> {
        match cmd {
            // Not the cache's: global tables' replication, behind it.
            crate::admin::Command::Replication { region, paused } => {
                self.control.as_ref().map(|c| c.pause(&region, paused))
            }
            cmd => Some(self.administer(cmd).await),
        }
    }
}

impl<U: Upstream> Upstream for Cached<U> {
    async fn call(&self, req: Request) -> Reply {
        match req.op {
            Operation::GetItem => self.get_item(req).await,
            Operation::BatchGetItem => self.batch_get(req).await,
            Operation::Query | Operation::Scan => self.page(req).await,
            Operation::PutItem | Operation::DeleteItem | Operation::UpdateItem => {
                self.write_item(req).await
            }
            Operation::BatchWriteItem | Operation::TransactWriteItems => self.write_many(req).await,
            Operation::ExecuteStatement
            | Operation::BatchExecuteStatement
            | Operation::ExecuteTransaction => self.partiql_keyed(req).await,
            Operation::DeleteTable
            | Operation::CreateTable
            | Operation::UpdateTable
            | Operation::RestoreTableFromBackup
            | Operation::RestoreTableToPointInTime
            | Operation::ImportTable
            | Operation::UpdateTimeToLive => self.control(req).await,
            _ => self.inner.call(req).await,
        }
    }

    fn supports(&self, op: Operation) -> bool {
        self.inner.supports(op)
    }

    fn forwards_unknown(&self) -> bool {
        self.inner.forwards_unknown()
    }

    async fn call_unknown(&self, target: String, body: Bytes) -> Reply {
        // Another region's UpdateTable of a global table (`global::inbound`): the table's
        // indexes or settings change here too, so what is cached of it goes.
        let table = matches!(
            target.strip_prefix(crate::global::TARGET_PREFIX),
            Some("UpdateTable" | "UpdateReplicaTable")
        )
        .then(|| table_name(&body))
        .flatten();
        let reply = self.inner.call_unknown(target, body).await;
        if let Some(t) = table {
            self.forget_table(&t, "table");
        }
        reply
    }

    fn refresh_gauges(&self) {
        self.store.publish_gauges();
    }

    fn capacity_series(&self) -> Option<serde_json::Value> {
        self.inner.capacity_series()
    }

    fn close(&self) {
        self.inner.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers DescribeTable and any GetItem with a 1 KB item.
    struct Big;

    impl Upstream for Big {
        async fn call(&self, req: Request) -> Reply {
            match req.op {
                Operation::DescribeTable => Reply::ok(
                    r#"{"Table":{"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}}"#,
                ),
                _ => {
                    let v: serde_json::Value =
                        serde_json::from_slice(&req.body).unwrap_or_default();
                    let pk = v["Key"]["pk"]["S"].as_str().unwrap_or("?").to_string();
                    let big = "x".repeat(1024);
                    Reply::ok(format!(
                        r#"{{"Item":{{"pk":{{"S":"{pk}"}},"v":{{"S":"{big}"}}}}}}"#
                    ))
                }
            }
        }

        fn supports(&self, _: Operation) -> bool {
            true
        }
    }

    #[tokio::test]
    async fn unique_keys_keep_the_cache_within_its_budget() {
        let max = 64 * 1024;
        let cache = Cached::new(
            Big,
            CacheConfig {
                max_bytes: max,
                ..CacheConfig::default()
            },
        );
        let mut peak = 0;
        for i in 0..3000 {
            let body = format!(r#"{{"TableName":"t","Key":{{"pk":{{"S":"k{i}"}}}}}}"#);
            let reply = cache
                .call(Request {
                    op: Operation::GetItem,
                    body: Bytes::from(body),
                })
                .await;
            assert_eq!(reply.status, 200);
            if i % 100 == 0 {
                peak = peak.max(cache.weighted_size());
            }
        }
        peak = peak.max(cache.weighted_size());
        assert!(peak <= max, "peak {peak} > budget {max}");
        assert!(cache.entry_count() > 0);
    }
}
