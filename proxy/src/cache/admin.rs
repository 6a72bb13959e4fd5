//! The cache's side of the admin listener: invalidate one item (and the pages of its
//! partition), invalidate a table, flush everything, and statistics as JSON.

use serde_json::{json, Value};

use super::coherence::WriteOutcome;
use super::keys::{decode_attrs, CacheKey};
use super::write::Written;
use super::{Cached, Consistency};
use crate::admin::{Answer, Command};
use crate::upstream::Upstream;

impl<U: Upstream> Cached<U> {
    pub(super) async fn administer(&self, cmd: Command) -> Answer {
        match cmd {
            Command::InvalidateItem { table, key } => {
                self.admin_invalidate_item(&table, &key).await
            }
            Command::InvalidateTable { table } => {
                self.forget_table(&table, "admin");
                Answer::ok(json!({ "invalidated": "table", "TableName": table }))
            }
            Command::Flush => {
                self.flush();
                Answer::ok(json!({ "invalidated": "all" }))
            }
            Command::Stats => Answer::ok(self.stats()),
            Command::Replication { .. } => Answer::bad(404, "no [[global.peer]] here".into()),
            // Answered by the service before it reaches the cache.
            Command::CapacitySeries => Answer::bad(404, "no capacity series here".into()),
            Command::Simulate(_) => Answer::bad(404, "the simulator is the service's".into()),
        }
    }

    async fn admin_invalidate_item(&self, table: &str, key: &Value) -> Answer {
        let Some(schema) = self.schemas.get(&self.inner, table).await else {
            return Answer::bad(404, format!("table {table:?} cannot be described upstream"));
        };
        let written = decode_attrs(key).and_then(|k| Written::of(table, &schema, &k, true));
        let Some(written) = written else {
            return Answer::bad(400, "Key does not match the table's key schema".into());
        };
        self.coherence
            .bump_generation(table.as_bytes(), Some(&written.partition));
        let ck = CacheKey::Item(written.key.clone());
        self.coherence.write(
            &written.key,
            None,
            WriteOutcome::Invalidate,
            || {},
            || self.store.invalidate(&ck),
        );
        metrics::counter!(crate::metrics::INVALIDATIONS, "cause" => "admin").increment(1);
        Answer::ok(json!({ "invalidated": "item", "TableName": table }))
    }

    /// The statistics the admin listener answers `GET /stats` with.
    pub fn stats(&self) -> Value {
        let bytes = self.store.publish_gauges();
        let max = self.store.max_bytes();
        json!({
            "entries": self.store.entry_count(),
            "cache_bytes": bytes,
            "max_bytes": max,
            "cache_memory_utilization": bytes as f64 / max.max(1) as f64,
            "consistency": match self.config.consistency {
                Consistency::Coherent => "coherent",
                Consistency::Dax => "dax",
            },
            "item_ttl_ms": self.config.item_ttl.as_millis() as u64,
            "query_ttl_ms": self.config.query_ttl.as_millis() as u64,
            "negative_ttl_ms": self.config.negative_ttl.map(|d| d.as_millis() as u64),
        })
    }
}
