//! The item cache: eventually consistent GetItem answered from full items keyed by
//! (table, canonical key), with ProjectionExpression / AttributesToGet applied on the way
//! out by the engine's projection code; misses fetch the full item once however many
//! requests wait for it (coalescing); absent items are cached as `{}`.
//!
//! A request is served from the cache only when the cache can prove the upstream would
//! accept it (known members, valid key, valid projection and names); anything else is
//! forwarded as is so the upstream answers the exact error.

use std::borrow::Cow;
use std::collections::BTreeMap;

use bytes::Bytes;
use daxlite_engine::expr::ast::{Path, PathElem, Projection, Span};
use daxlite_engine::expr::eval::project;
use daxlite_engine::expr::Resolver;
use daxlite_engine::model::value::item_to_json_bytes;
use serde::Deserialize;
use serde_json::Value;

use super::counters::Count;
use super::keys::{key_param, CacheKey};
use super::raw_key::RawKey;
use super::store::{Entry, EntryKind};
use super::Cached;
use crate::upstream::{Outcome, Reply, Request, Upstream};

/// The members of a GetItem the cache understands; any other member means "forward".
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GetItem<'a> {
    #[serde(rename = "TableName", borrow)]
    table: Cow<'a, str>,
    #[serde(rename = "Key", borrow)]
    key: RawKey<'a>,
    #[serde(rename = "ConsistentRead")]
    consistent: Option<bool>,
    #[serde(rename = "ProjectionExpression", borrow)]
    projection: Option<Cow<'a, str>>,
    #[serde(rename = "ExpressionAttributeNames")]
    names: Option<BTreeMap<String, String>>,
    #[serde(rename = "AttributesToGet")]
    to_get: Option<Vec<String>>,
    #[serde(rename = "ReturnConsumedCapacity", borrow)]
    capacity: Option<Cow<'a, str>>,
}

/// ReturnConsumedCapacity on a hit: what to add (0 units: a hit costs the table nothing).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Capacity {
    None,
    Total,
    Indexes,
}

impl Capacity {
    pub fn parse(s: Option<&str>) -> Option<Capacity> {
        match s {
            None | Some("NONE") => Some(Capacity::None),
            Some("TOTAL") => Some(Capacity::Total),
            Some("INDEXES") => Some(Capacity::Indexes),
            Some(_) => None,
        }
    }

    /// The zero-unit ConsumedCapacity object, in the engine's key order.
    pub fn zero(self, table: &str) -> Option<Value> {
        match self {
            Capacity::None => None,
            Capacity::Total => Some(serde_json::json!({"TableName": table, "CapacityUnits": 0.0})),
            Capacity::Indexes => Some(serde_json::json!({
                "TableName": table, "CapacityUnits": 0.0, "Table": {"CapacityUnits": 0.0}
            })),
        }
    }
}

/// What a fill produced: the entry, or the upstream's error answer.
#[derive(Clone)]
pub enum Fill {
    Entry(Entry),
    Failed(Reply),
}

/// Builds the projection of a request, or `None` if the upstream would reject it.
fn projection(req: &GetItem<'_>) -> Option<Option<Projection>> {
    projection_of(
        req.names.as_ref(),
        req.projection.as_deref(),
        req.to_get.as_deref(),
    )
}

/// The projection named by ProjectionExpression + ExpressionAttributeNames or by
/// AttributesToGet; `None` when the upstream would reject the combination.
pub fn projection_of(
    names: Option<&BTreeMap<String, String>>,
    expression: Option<&str>,
    to_get: Option<&[String]>,
) -> Option<Option<Projection>> {
    if names.is_some_and(BTreeMap::is_empty) {
        return None;
    }
    // Names the upstream rejects (empty, over 65,535 bytes; placeholders over 255) are
    // its to answer.
    let bad_name = |n: &String| daxlite_engine::model::value::attribute_name_error(n).is_some();
    let long_placeholder = |m: &BTreeMap<String, String>| m.keys().any(|k| k.len() > 255);
    if names.is_some_and(|m| m.values().any(bad_name) || long_placeholder(m))
        || to_get.is_some_and(|l| l.iter().any(bad_name))
    {
        return None;
    }
    let pairs: Vec<(String, String)> = names
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let mut resolver = Resolver::new(pairs, std::iter::empty());
    let p = match (expression, to_get) {
        (Some(_), Some(_)) => return None,
        (Some(src), None) => Some(resolver.projection_expr(src).ok()?),
        (None, Some(list)) => {
            if list.is_empty() || list.len() > 255 || names.is_some() {
                return None;
            }
            for (i, n) in list.iter().enumerate() {
                if list.get(..i).is_some_and(|before| before.contains(n)) {
                    return None;
                }
            }
            Some(Projection {
                paths: list
                    .iter()
                    .map(|n| Path {
                        elems: vec![PathElem::Attr(n.clone())],
                        span: Span::default(),
                    })
                    .collect(),
            })
        }
        (None, None) => None,
    };
    resolver.finish().ok()?;
    Some(p)
}

/// The item JSON of a present entry, projected when asked; `None` for an absent entry.
pub fn item_json(entry: &Entry, projection: Option<&Projection>) -> Option<Vec<u8>> {
    match projection {
        None => Some(entry.item_json()?.to_vec()),
        Some(p) => Some(item_to_json_bytes(&project(&entry.item()?, &p.paths))),
    }
}

/// The answer to one request from an entry: the stored bytes when nothing is asked
/// beyond the item, else the projection and/or a zero ConsumedCapacity.
fn answer(
    entry: &Entry,
    projection: Option<&Projection>,
    capacity: Capacity,
    table: &str,
) -> Option<Bytes> {
    let zero = capacity.zero(table);
    if projection.is_none() && zero.is_none() {
        return Some(entry.body.clone());
    }
    answer_with(entry, projection, zero)
}

impl<U: Upstream> Cached<U> {
    /// The item cache's current entry for an item key (PartiQL's keyed SELECT answers
    /// from it without building a GetItem; the caller counts the hit it serves).
    pub(super) fn item_hit(&self, table: &str, key: Bytes) -> Option<Entry> {
        let epoch = self.coherence.epoch(table.as_bytes());
        self.store
            .get(&CacheKey::Item(key))
            .filter(|e| e.epoch == epoch)
    }

    pub(super) async fn get_item(&self, req: Request) -> Reply {
        let Ok(parsed) = serde_json::from_slice::<GetItem<'_>>(&req.body) else {
            return self.inner.call(req).await;
        };
        // Strongly consistent, or the table named by ARN (maybe another account's; its
        // writes forget the named table): forwarded, not cached.
        if parsed.consistent == Some(true) || super::by_arn(&parsed.table) {
            return self.inner.call(req).await;
        }
        let (Some(capacity), Some(proj)) = (
            Capacity::parse(parsed.capacity.as_deref()),
            projection(&parsed),
        ) else {
            return self.inner.call(req).await;
        };
        let table = parsed.table.to_string();
        let Some(schema) = self.schemas.get(&self.inner, &table).await else {
            return self.inner.call(req).await;
        };
        // The key as sent: borrowed and encoded directly; the general path for the rest
        // (B keys, unusual shapes), which also gives the fill its `Key` JSON.
        let general = || -> Option<Value> {
            serde_json::from_slice::<Value>(&req.body)
                .ok()?
                .get_mut("Key")
                .map(Value::take)
        };
        let Some(key) = parsed
            .key
            .item_key(&table, &schema)
            .or_else(|| key_param(&table, &schema, &general()?))
        else {
            return self.inner.call(req).await;
        };
        let epoch = self.coherence.epoch(table.as_bytes());
        let cache_key = CacheKey::Item(key.clone());
        if let Some(entry) = self.store.get(&cache_key).filter(|e| e.epoch == epoch) {
            if let Some(body) = answer(&entry, proj.as_ref(), capacity, &table) {
                self.counters.add(&table, Count::GetHit, 1);
                return Reply::ok(body).outcome(Outcome::Hit);
            }
        }
        self.counters.add(&table, Count::GetMiss, 1);

        // Miss: one fill per key however many requests wait for it. A plain request is
        // itself the fill (its answer goes back untouched); others fetch the full item.
        let plain = proj.is_none() && capacity == Capacity::None;
        let mut led = None;
        let fill = self
            .fills
            .inflight
            .get_or_fill(&key, || {
                let fill_body = if plain {
                    req.body.clone()
                } else {
                    fill_request(&table, &general().unwrap_or_default(), capacity)
                };
                self.fill_item(&key, &table, req.op, fill_body, epoch, &mut led)
            })
            .await;
        let Some(fill) = fill else {
            return self.inner.call(req).await;
        };
        let reply = match (led, fill) {
            // The leader of a plain request answers with the upstream's reply as is.
            (Some(reply), _) if plain => reply,
            (Some(reply), Fill::Entry(entry)) => {
                let upstream_capacity = capacity_of(&reply.body);
                match answer_with(&entry, proj.as_ref(), upstream_capacity) {
                    Some(body) => Reply::ok(body),
                    None => reply,
                }
            }
            (_, Fill::Failed(reply)) => reply,
            (None, Fill::Entry(entry)) => match answer(&entry, proj.as_ref(), capacity, &table) {
                Some(body) => Reply::ok(body),
                None => self.inner.call(req).await,
            },
        };
        if reply.is_fault() {
            if let Some(stale) =
                self.stale_answer(&cache_key, epoch, proj.as_ref(), capacity, &table)
            {
                return stale;
            }
        }
        reply.outcome(Outcome::Miss)
    }

    /// `serve_stale_on_error`: the answer from an expired entry still held for `key`, when
    /// the upstream failed (5xx, unreachable, timed out). None: off, or nothing held.
    fn stale_answer(
        &self,
        key: &CacheKey,
        epoch: u64,
        proj: Option<&Projection>,
        capacity: Capacity,
        table: &str,
    ) -> Option<Reply> {
        let entry = self.store.get_stale(key).filter(|e| e.epoch == epoch)?;
        let body = answer(&entry, proj, capacity, table)?;
        metrics::counter!(crate::metrics::STALE_SERVED).increment(1);
        Some(Reply::ok(body).outcome(Outcome::Hit))
    }
}

impl<U: Upstream> Cached<U> {
    /// One fill (run by the [`Coalescer`](super::coalesce::Coalescer) for the first miss
    /// on `key`): asks the upstream, caches the entry unless a write overtook the fill
    /// (`coherence.fill`), and leaves the upstream's reply in `led` for the leader.
    async fn fill_item(
        &self,
        key: &Bytes,
        table: &str,
        op: daxlite_engine::wire::Operation,
        body: Bytes,
        epoch: u64,
        led: &mut Option<Reply>,
    ) -> Fill {
        let ticket = self.coherence.ticket(key);
        let reply = self.inner.call(Request { op, body }).await;
        let fill = if reply.is_success() {
            match Entry::from_get_answer(&reply.body, epoch) {
                Some(entry) => {
                    if let Some(d) = self.fills.delay {
                        tokio::time::sleep(d).await;
                    }
                    let stored = entry.clone();
                    if self.keeps(&entry) {
                        self.coherence.fill(key, ticket, || {
                            self.store.insert(CacheKey::Item(key.clone()), stored)
                        });
                    }
                    Fill::Entry(entry)
                }
                None => Fill::Failed(reply.clone()),
            }
        } else {
            self.check_not_found(table, &reply);
            Fill::Failed(reply.clone())
        };
        *led = Some(reply);
        fill
    }
}

/// `{"TableName":...,"Key":...}`: the full item, eventually consistent.
fn fill_request(table: &str, key: &Value, capacity: Capacity) -> Bytes {
    let mut v = serde_json::json!({ "TableName": table, "Key": key });
    let asked = match capacity {
        Capacity::None => None,
        Capacity::Total => Some("TOTAL"),
        Capacity::Indexes => Some("INDEXES"),
    };
    if let (Some(a), Some(o)) = (asked, v.as_object_mut()) {
        o.insert("ReturnConsumedCapacity".into(), Value::from(a));
    }
    Bytes::from(serde_json::to_vec(&v).unwrap_or_default())
}

fn capacity_of(body: &[u8]) -> Option<Value> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v.get("ConsumedCapacity").cloned()
}

/// An answer rendered from a cached entry: the item (projected when asked) and the given
/// capacity. Also the leader's answer when it fetched the full item for a projected request: the
/// projection plus the capacity the upstream reported.
fn answer_with<C: serde::Serialize>(
    entry: &Entry,
    projection: Option<&Projection>,
    capacity: Option<C>,
) -> Option<Bytes> {
    let mut out: Vec<u8> = Vec::with_capacity(entry.body.len() + 64);
    out.push(b'{');
    if entry.kind == EntryKind::Present {
        out.extend_from_slice(b"\"Item\":");
        out.extend_from_slice(&item_json(entry, projection)?);
    }
    if let Some(c) = capacity {
        if entry.kind == EntryKind::Present {
            out.push(b',');
        }
        out.extend_from_slice(b"\"ConsumedCapacity\":");
        serde_json::to_writer(&mut out, &c).ok()?;
    }
    out.push(b'}');
    Some(Bytes::from(out))
}
