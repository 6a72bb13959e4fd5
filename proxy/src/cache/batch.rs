//! BatchGetItem through the item cache: the request is split per key; hits are answered
//! from the cache (projected per table), misses go upstream in one BatchGetItem for the
//! full items, which fill the cache (keys not returned and not unprocessed are cached as
//! absent). `UnprocessedKeys` go back with the caller's projection so a retry asks the same
//! thing, and are never cached.

use std::collections::{BTreeMap, HashSet};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::coherence::Ticket;
use super::counters::Count;
use super::item::{item_json, projection_of, Capacity};
use super::keys::{decode_attrs, item_key, key_param, CacheKey};
use super::store::{Entry, EntryKind};
use super::Cached;
use crate::upstream::{Outcome, Reply, Request, Upstream};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Batch {
    #[serde(rename = "RequestItems")]
    items: BTreeMap<String, TableKeys>,
    #[serde(rename = "ReturnConsumedCapacity")]
    capacity: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableKeys {
    #[serde(rename = "Keys")]
    keys: Vec<Value>,
    #[serde(rename = "ConsistentRead")]
    consistent: Option<bool>,
    #[serde(rename = "ProjectionExpression")]
    projection: Option<String>,
    #[serde(rename = "ExpressionAttributeNames")]
    names: Option<BTreeMap<String, String>>,
    #[serde(rename = "AttributesToGet")]
    to_get: Option<Vec<String>>,
}

/// One table of the request, checked and keyed.
struct Plan {
    table: String,
    spec: TableKeys,
    projection: Option<daxlite_engine::expr::Projection>,
    keys: Vec<(Bytes, Value)>,
}

/// One missed key: its table's index in the plan, key bytes, raw key, ticket.
struct Miss {
    plan: usize,
    key: Bytes,
    raw: Value,
    ticket: Ticket,
}

/// The per-table members a retry of unprocessed keys must carry.
fn table_members(spec: &TableKeys, keys: Vec<Value>) -> Value {
    let mut o = Map::new();
    o.insert("Keys".into(), Value::Array(keys));
    if let Some(p) = &spec.projection {
        o.insert("ProjectionExpression".into(), Value::from(p.clone()));
    }
    if let Some(n) = &spec.names {
        let names: Map<String, Value> = n
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.clone())))
            .collect();
        o.insert("ExpressionAttributeNames".into(), Value::Object(names));
    }
    if let Some(a) = &spec.to_get {
        o.insert("AttributesToGet".into(), Value::from(a.clone()));
    }
    Value::Object(o)
}

impl<U: Upstream> Cached<U> {
    /// Checks the whole request; `None` means "forward it as is".
    async fn plan(&self, body: &[u8]) -> Option<(Vec<Plan>, Capacity)> {
        let batch: Batch = serde_json::from_slice(body).ok()?;
        let capacity = Capacity::parse(batch.capacity.as_deref())?;
        let total: usize = batch.items.values().map(|t| t.keys.len()).sum();
        if batch.items.is_empty() || total == 0 || total > 100 {
            return None;
        }
        let mut plans = Vec::new();
        for (table, spec) in batch.items {
            if spec.consistent == Some(true) || spec.keys.is_empty() || super::by_arn(&table) {
                return None;
            }
            let projection = projection_of(
                spec.names.as_ref(),
                spec.projection.as_deref(),
                spec.to_get.as_deref(),
            )?;
            let schema = self.schemas.get(&self.inner, &table).await?;
            let mut seen = HashSet::new();
            let mut keys = Vec::with_capacity(spec.keys.len());
            for raw in &spec.keys {
                let k = key_param(&table, &schema, raw)?;
                if !seen.insert(k.clone()) {
                    return None;
                }
                keys.push((k, raw.clone()));
            }
            plans.push(Plan {
                table,
                spec,
                projection,
                keys,
            });
        }
        Some((plans, capacity))
    }

    pub(super) async fn batch_get(&self, req: Request) -> Reply {
        let Some((plans, capacity)) = self.plan(&req.body).await else {
            return self.inner.call(req).await;
        };
        let mut responses: Vec<Vec<Value>> = vec![Vec::new(); plans.len()];
        let mut misses = Vec::new();
        for (i, plan) in plans.iter().enumerate() {
            let epoch = self.coherence.epoch(plan.table.as_bytes());
            for (key, raw) in &plan.keys {
                let hit = self
                    .store
                    .get(&CacheKey::Item(key.clone()))
                    .filter(|e| e.epoch == epoch);
                match hit {
                    Some(entry) => {
                        self.counters.add(&plan.table, Count::BatchHit, 1);
                        if entry.kind == EntryKind::Present {
                            let Some(item) = item_json(&entry, plan.projection.as_ref())
                                .and_then(|j| serde_json::from_slice::<Value>(&j).ok())
                            else {
                                return self.inner.call(req).await;
                            };
                            if let Some(r) = responses.get_mut(i) {
                                r.push(item);
                            }
                        }
                    }
                    None => {
                        self.counters.add(&plan.table, Count::BatchMiss, 1);
                        misses.push(Miss {
                            plan: i,
                            key: key.clone(),
                            raw: raw.clone(),
                            ticket: self.coherence.ticket(key),
                        });
                    }
                }
            }
        }
        let mut unprocessed = Map::new();
        let mut upstream_capacity: Option<Value> = None;
        if !misses.is_empty() {
            match self.fetch_misses(&plans, &misses, capacity).await {
                Ok((found, pending, cap)) => {
                    for (i, item) in found {
                        if let Some(r) = responses.get_mut(i) {
                            r.push(item);
                        }
                    }
                    unprocessed = pending;
                    upstream_capacity = cap;
                }
                Err(reply) => return reply,
            }
        }
        let mut out = Map::new();
        let mut by_table = Map::new();
        for (plan, items) in plans.iter().zip(responses) {
            by_table.insert(plan.table.clone(), Value::Array(items));
        }
        out.insert("Responses".into(), Value::Object(by_table));
        out.insert("UnprocessedKeys".into(), Value::Object(unprocessed));
        if capacity != Capacity::None {
            let mut list: Vec<Value> = upstream_capacity
                .and_then(|c| c.as_array().cloned())
                .unwrap_or_default();
            for plan in &plans {
                let listed = list
                    .iter()
                    .any(|c| c.get("TableName").and_then(Value::as_str) == Some(&plan.table));
                if !listed {
                    if let Some(z) = capacity.zero(&plan.table) {
                        list.push(z);
                    }
                }
            }
            out.insert("ConsumedCapacity".into(), Value::Array(list));
        }
        match serde_json::to_vec(&out) {
            Ok(body) => Reply::ok(body).outcome(if misses.is_empty() {
                Outcome::Hit
            } else {
                Outcome::Miss
            }),
            Err(_) => self.inner.call(req).await,
        }
    }

    /// One upstream BatchGetItem for the full items of every miss; fills the cache and
    /// returns (table index, projected item) pairs, the unprocessed keys (with the
    /// caller's projection) and the upstream's ConsumedCapacity.
    #[allow(clippy::type_complexity)]
    async fn fetch_misses(
        &self,
        plans: &[Plan],
        misses: &[Miss],
        capacity: Capacity,
    ) -> Result<(Vec<(usize, Value)>, Map<String, Value>, Option<Value>), Reply> {
        let mut request_items = Map::new();
        for (i, plan) in plans.iter().enumerate() {
            let keys: Vec<Value> = misses
                .iter()
                .filter(|m| m.plan == i)
                .map(|m| m.raw.clone())
                .collect();
            if !keys.is_empty() {
                request_items.insert(plan.table.clone(), serde_json::json!({ "Keys": keys }));
            }
        }
        let mut body = Map::new();
        body.insert("RequestItems".into(), Value::Object(request_items));
        match capacity {
            Capacity::None => {}
            Capacity::Total => {
                body.insert("ReturnConsumedCapacity".into(), Value::from("TOTAL"));
            }
            Capacity::Indexes => {
                body.insert("ReturnConsumedCapacity".into(), Value::from("INDEXES"));
            }
        }
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let reply = self
            .inner
            .call(Request {
                op: daxlite_engine::wire::Operation::BatchGetItem,
                body: Bytes::from(body),
            })
            .await;
        if !reply.is_success() {
            return Err(reply);
        }
        let Ok(answer) = serde_json::from_slice::<Value>(&reply.body) else {
            return Err(reply);
        };
        // Keys the upstream did not get to: never cached, handed back for a retry.
        let mut pending_keys: HashSet<Bytes> = HashSet::new();
        let mut unprocessed = Map::new();
        for plan in plans.iter() {
            let Some(keys) = answer
                .pointer(&format!("/UnprocessedKeys/{}/Keys", escape(&plan.table)))
                .and_then(Value::as_array)
            else {
                continue;
            };
            let Some(schema) = self.schemas.get(&self.inner, &plan.table).await else {
                continue;
            };
            for k in keys {
                if let Some(kb) = key_param(&plan.table, &schema, k) {
                    pending_keys.insert(kb);
                }
            }
            unprocessed.insert(plan.table.clone(), table_members(&plan.spec, keys.clone()));
        }
        let mut found = Vec::new();
        let mut returned: HashSet<Bytes> = HashSet::new();
        for (i, plan) in plans.iter().enumerate() {
            let epoch = self.coherence.epoch(plan.table.as_bytes());
            let Some(schema) = self.schemas.get(&self.inner, &plan.table).await else {
                continue;
            };
            let items = answer
                .pointer(&format!("/Responses/{}", escape(&plan.table)))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for raw in items {
                let Some(item) = decode_attrs(&raw) else {
                    continue;
                };
                let Some(key) = item_key(&plan.table, &schema, &item, false) else {
                    continue;
                };
                let entry = Entry::present(&item, epoch);
                if let Some(projected) = item_json(&entry, plan.projection.as_ref())
                    .and_then(|j| serde_json::from_slice::<Value>(&j).ok())
                {
                    found.push((i, projected));
                }
                self.fill_missed(misses, &key, entry);
                returned.insert(key);
            }
            if self.config.negative_ttl.is_some() {
                for miss in misses.iter().filter(|m| m.plan == i) {
                    if !returned.contains(&miss.key) && !pending_keys.contains(&miss.key) {
                        let absent = Entry::absent(epoch);
                        self.fill_missed(misses, &miss.key, absent);
                    }
                }
            }
        }
        Ok((found, unprocessed, answer.get("ConsumedCapacity").cloned()))
    }

    fn fill_missed(&self, misses: &[Miss], key: &Bytes, entry: Entry) {
        if let Some(miss) = misses.iter().find(|m| m.key == *key) {
            self.coherence.fill(key, miss.ticket, || {
                self.store.insert(CacheKey::Item(key.clone()), entry)
            });
        }
    }
}

/// A JSON pointer token for a table name.
fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}
