//! The query cache: eventually consistent Query and Scan pages keyed by the canonicalised
//! whole request (members sorted, ReturnConsumedCapacity left out), each page its own
//! entry, empty pages included. In `coherent` mode every page remembers its scope (its
//! partition for base-table and LSI Queries, else the table; see `scope`) and that
//! scope's write generation when its fill started, and is dead once a write through this
//! daxlite moved it (O(1) per write, no scan of the cache); in `dax` mode pages live
//! until their TTL.
//! Pages never fill the item cache.

use bytes::Bytes;
use daxlite_engine::wire::Operation;
use serde_json::{Map, Value};

use super::coherence::Scope;
use super::counters::Count;
use super::item::Capacity;
use super::keys::CacheKey;
use super::scope::page_scope;
use super::store::Entry;
use super::{Cached, Consistency};
use crate::upstream::{Outcome, Reply, Request, Upstream};

/// The members that may appear in a cacheable Query or Scan.
const KNOWN: &[&str] = &[
    "TableName",
    "IndexName",
    "KeyConditionExpression",
    "KeyConditions",
    "FilterExpression",
    "QueryFilter",
    "ScanFilter",
    "ConditionalOperator",
    "ProjectionExpression",
    "AttributesToGet",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
    "Limit",
    "ExclusiveStartKey",
    "ScanIndexForward",
    "Select",
    "Segment",
    "TotalSegments",
    "ConsistentRead",
    "ReturnConsumedCapacity",
];

/// The canonical page key, the table, the capacity asked and the parsed request, or
/// `None` when the request must pass through.
fn page_key(
    op: Operation,
    body: &[u8],
) -> Option<(CacheKey, String, Capacity, Map<String, Value>)> {
    let mut v: Map<String, Value> = serde_json::from_slice(body).ok()?;
    if v.keys().any(|k| !KNOWN.contains(&k.as_str())) {
        return None;
    }
    if v.get("ConsistentRead").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let capacity = match v.remove("ReturnConsumedCapacity") {
        None => Capacity::None,
        Some(Value::String(s)) => Capacity::parse(Some(&s))?,
        Some(_) => return None,
    };
    v.remove("ConsistentRead");
    let table = v.get("TableName")?.as_str()?.to_string();
    if super::by_arn(&table) {
        return None;
    }
    let mut key = Vec::with_capacity(body.len() + 1);
    key.push(if op == Operation::Query { b'Q' } else { b'S' });
    serde_json::to_writer(&mut key, &v).ok()?;
    Some((CacheKey::Page(Bytes::from(key)), table, capacity, v))
}

/// The page with a zero ConsumedCapacity added, spliced in front of the stored members
/// (no parse of the page; "ConsumedCapacity" sorts before every member of a page, which
/// is where the engine's sorted objects put it).
fn with_capacity(body: &Bytes, capacity: Capacity, table: &str) -> Option<Bytes> {
    let Some(zero) = capacity.zero(table) else {
        return Some(body.clone());
    };
    let rest = body.strip_prefix(b"{")?;
    let mut out = Vec::with_capacity(body.len() + 96);
    out.extend_from_slice(b"{\"ConsumedCapacity\":");
    serde_json::to_writer(&mut out, &zero).ok()?;
    if rest.first() != Some(&b'}') {
        out.push(b',');
    }
    out.extend_from_slice(rest);
    Some(Bytes::from(out))
}

/// The page as stored: without ConsumedCapacity.
fn stored_page(body: &Bytes, capacity: Capacity) -> Option<Bytes> {
    if capacity == Capacity::None {
        return Some(body.clone());
    }
    let mut v: Map<String, Value> = serde_json::from_slice(body).ok()?;
    v.remove("ConsumedCapacity");
    serde_json::to_vec(&v).ok().map(Bytes::from)
}

impl<U: Upstream> Cached<U> {
    pub(super) async fn page(&self, req: Request) -> Reply {
        if self.config.query_ttl.is_zero() {
            return self.inner.call(req).await;
        }
        let Some((key, table, capacity, parsed)) = page_key(req.op, &req.body) else {
            return self.inner.call(req).await;
        };
        let (hits, misses) = if req.op == Operation::Query {
            (Count::QueryHit, Count::QueryMiss)
        } else {
            (Count::ScanHit, Count::ScanMiss)
        };
        let coherent = self.config.consistency == Consistency::Coherent;
        let t = table.as_bytes();
        let epoch = self.coherence.epoch(t);
        let live = self.store.get(&key).filter(|e| {
            e.epoch == epoch && (!coherent || e.generation == self.coherence.generation(t, e.scope))
        });
        if let Some(entry) = live {
            if let Some(body) = with_capacity(&entry.body, capacity, &table) {
                self.counters.add(&table, hits, 1);
                return Reply::ok(body).outcome(Outcome::Hit);
            }
        }
        // The scope (and its generation) is fixed before the upstream call, so a write
        // that lands while this page is read makes the page dead on arrival.
        let scope = if coherent {
            let schema = self.schemas.get(&self.inner, &table).await;
            page_scope(req.op, &parsed, &table, schema.as_deref())
        } else {
            Scope::Table
        };
        let generation = self.coherence.generation(t, scope);
        let reply = self.inner.call(req).await;
        if !reply.is_success() {
            self.check_not_found(&table, &reply);
            return reply;
        }
        // Counted after success so the table label only names tables that exist.
        self.counters.add(&table, misses, 1);
        if let Some(body) = stored_page(&reply.body, capacity) {
            self.store
                .insert(key, Entry::page(body, epoch, generation, scope));
        }
        reply.outcome(Outcome::Miss)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_order_and_capacity_do_not_change_the_key() {
        let a = page_key(
            Operation::Query,
            br#"{"TableName":"t","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"a"}}}"#,
        );
        let b = page_key(
            Operation::Query,
            br#"{"ExpressionAttributeValues":{":p":{"S":"a"}},"ReturnConsumedCapacity":"TOTAL","KeyConditionExpression":"pk = :p","TableName":"t"}"#,
        );
        assert!(a.is_some());
        assert_eq!(a.as_ref().map(|x| &x.0), b.as_ref().map(|x| &x.0));
        let scan = page_key(Operation::Scan, br#"{"TableName":"t"}"#);
        assert_ne!(scan.as_ref().map(|x| &x.0), a.as_ref().map(|x| &x.0));
        assert!(page_key(
            Operation::Scan,
            br#"{"TableName":"t","ConsistentRead":true}"#
        )
        .is_none());
        assert!(page_key(Operation::Scan, br#"{"TableName":"t","Bogus":1}"#).is_none());
    }

    #[test]
    fn zero_capacity_is_spliced_in_sorted_position() {
        let page = Bytes::from_static(br#"{"Count":0,"Items":[],"ScannedCount":0}"#);
        let out = with_capacity(&page, Capacity::Total, "t").map(|b| b.to_vec());
        let expected = br#"{"ConsumedCapacity":{"CapacityUnits":0.0,"TableName":"t"},"Count":0,"Items":[],"ScannedCount":0}"#;
        assert_eq!(out.as_deref(), Some(&expected[..]));
        let out = with_capacity(&Bytes::from_static(b"{}"), Capacity::Total, "t");
        assert_eq!(
            out.as_deref(),
            Some(&br#"{"ConsumedCapacity":{"CapacityUnits":0.0,"TableName":"t"}}"#[..])
        );
        let same = with_capacity(&page, Capacity::None, "t");
        assert_eq!(same.as_ref(), Some(&page));
    }
}
