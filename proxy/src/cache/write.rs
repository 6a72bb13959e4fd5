//! Write-through: every write goes upstream first; the cache changes only after. A success
//! stores the new state when it is known (PutItem: the request's item, canonicalised;
//! DeleteItem: absent; UpdateItem: the ALL_NEW image, asked for on the caller's behalf)
//! and invalidates otherwise; a 5xx (outcome unknown) invalidates; any other error leaves
//! the cache as it was. The upstream's answer is returned untouched, except that an
//! UpdateItem whose caller asked for no ReturnValues gets its `Attributes` removed.

use bytes::Bytes;
use daxlite_engine::wire::Operation;
use serde::Deserialize;
use serde_json::Value;

use super::coherence::WriteOutcome;
use super::item::{entry_from_answer, present_entry};
use super::keys::{decode_attrs, item_key, key_param, CacheKey};
use super::store::{Entry, EntryKind};
use super::Cached;
use crate::metrics as m;
use crate::upstream::{Reply, Request, Upstream};

#[derive(Deserialize)]
struct ItemWrite {
    #[serde(rename = "TableName")]
    table: String,
    #[serde(rename = "Key")]
    key: Option<Value>,
    #[serde(rename = "Item")]
    item: Option<Value>,
    #[serde(rename = "ReturnValues")]
    return_values: Option<String>,
}

/// Inserts `"ReturnValues":"ALL_NEW"` into a JSON object that has no ReturnValues.
fn ask_all_new(body: &[u8]) -> Option<Bytes> {
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    if body.get(start) != Some(&b'{') {
        return None;
    }
    let rest = body.get(start + 1..)?;
    let next = rest.iter().find(|b| !b.is_ascii_whitespace())?;
    if *next == b'}' {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() + 26);
    out.extend_from_slice(b"{\"ReturnValues\":\"ALL_NEW\",");
    out.extend_from_slice(rest);
    Some(Bytes::from(out))
}

/// The answer without `Attributes` (the caller did not ask for them).
fn without_attributes(body: &[u8]) -> Option<Bytes> {
    let mut v: serde_json::Map<String, Value> = serde_json::from_slice(body).ok()?;
    v.remove("Attributes");
    serde_json::to_vec(&v).ok().map(Bytes::from)
}

impl<U: Upstream> Cached<U> {
    pub(super) async fn write_item(&self, req: Request) -> Reply {
        let Ok(parsed) = serde_json::from_slice::<ItemWrite>(&req.body) else {
            return self.inner.call(req).await;
        };
        let table = parsed.table.clone();
        let schema = self.schemas.get(&self.inner, &table).await;
        let key = schema.as_ref().and_then(|s| match req.op {
            Operation::PutItem => parsed
                .item
                .as_ref()
                .and_then(decode_attrs)
                .and_then(|i| item_key(&table, s, &i, false)),
            _ => parsed.key.as_ref().and_then(|k| key_param(&table, s, k)),
        });
        let Some(key) = key else {
            // The key cannot be known: forward, and on anything but a clean refusal
            // drop the whole table's entries.
            let reply = self.inner.call(req).await;
            if reply.is_success() || reply.is_fault() {
                self.forget_table(&table, "unknown_key");
            }
            return reply;
        };
        let rewrite = match (req.op, parsed.return_values.as_deref()) {
            (Operation::UpdateItem, None) => ask_all_new(&req.body),
            _ => None,
        };
        let keeps_new = req.op == Operation::UpdateItem
            && (rewrite.is_some() || parsed.return_values.as_deref() == Some("ALL_NEW"));
        let epoch = self.coherence.epoch(table.as_bytes());
        let ticket = self.coherence.ticket(&key);
        let sent = Request {
            op: req.op,
            body: rewrite.clone().unwrap_or_else(|| req.body.clone()),
        };
        let mut reply = self.inner.call(sent).await;
        if !reply.is_success() && !reply.is_fault() {
            self.check_not_found(&table, &reply);
            return reply;
        }
        // From here the upstream applied the write, or may have.
        self.coherence.bump_generation(table.as_bytes());
        let new_state: Option<Entry> = if reply.is_fault() {
            None
        } else {
            match req.op {
                Operation::PutItem => parsed
                    .item
                    .as_ref()
                    .and_then(decode_attrs)
                    .map(|i| present_entry(&i, epoch)),
                Operation::DeleteItem => Some(Entry {
                    body: Bytes::from_static(b"{}"),
                    kind: EntryKind::Absent,
                    epoch,
                    generation: 0,
                }),
                _ if keeps_new => attributes_entry(&reply.body, epoch),
                _ => None,
            }
        };
        let new_state = new_state
            .filter(|e| !(e.kind == EntryKind::Absent && self.config.negative_ttl.is_none()));
        let cause = if reply.is_fault() {
            "unknown_outcome"
        } else {
            "write"
        };
        let outcome = if new_state.is_some() {
            WriteOutcome::Store
        } else {
            WriteOutcome::Invalidate
        };
        let ck = CacheKey::Item(key.clone());
        self.coherence.write(
            &key,
            Some(ticket),
            outcome,
            || {
                if let Some(e) = new_state {
                    self.store.insert(ck.clone(), e);
                }
            },
            || {
                self.store.invalidate(&ck);
                metrics::counter!(m::INVALIDATIONS, "cause" => cause).increment(1);
            },
        );
        if rewrite.is_some() && reply.is_success() {
            if let Some(body) = without_attributes(&reply.body) {
                reply.body = body;
            }
        }
        reply
    }

    /// BatchWriteItem and TransactWriteItems: every key named is invalidated before the
    /// answer goes back (read-your-writes), unless the upstream refused the whole call.
    pub(super) async fn write_many(&self, req: Request) -> Reply {
        let targets = written_keys(req.op, &req.body);
        let reply = self.inner.call(req).await;
        if !reply.is_success() && !reply.is_fault() {
            return reply;
        }
        let cause = if reply.is_fault() {
            "unknown_outcome"
        } else {
            "write"
        };
        for (table, key) in targets {
            self.coherence.bump_generation(table.as_bytes());
            let schema = self.schemas.get(&self.inner, &table).await;
            let k = schema.and_then(|s| match &key {
                Written::Key(k) => key_param(&table, &s, k),
                Written::Item(i) => decode_attrs(i).and_then(|i| item_key(&table, &s, &i, false)),
            });
            match k {
                Some(k) => {
                    let ck = CacheKey::Item(k.clone());
                    self.coherence.write(
                        &k,
                        None,
                        WriteOutcome::Invalidate,
                        || {},
                        || {
                            self.store.invalidate(&ck);
                        },
                    );
                    metrics::counter!(m::INVALIDATIONS, "cause" => cause).increment(1);
                }
                None => self.forget_table(&table, "unknown_key"),
            }
        }
        reply
    }

    /// PartiQL: reads pass through; anything that may write drops the whole cache (the
    /// statement would have to be parsed to know which keys it touched).
    pub(super) async fn partiql(&self, req: Request) -> Reply {
        let reads_only = statements(&req.body)
            .is_some_and(|s| !s.is_empty() && s.iter().all(|st| is_select(st)));
        let reply = self.inner.call(req).await;
        if !reads_only && (reply.is_success() || reply.is_fault()) {
            self.flush();
        }
        reply
    }
}

fn attributes_entry(body: &[u8], epoch: u64) -> Option<Entry> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let attrs = v.get("Attributes")?;
    let wrapped = serde_json::to_vec(&serde_json::json!({ "Item": attrs })).ok()?;
    entry_from_answer(&wrapped, epoch)
}

enum Written {
    Key(Value),
    Item(Value),
}

/// (table, key or item) of every write in a BatchWriteItem / TransactWriteItems body.
fn written_keys(op: Operation, body: &[u8]) -> Vec<(String, Written)> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    match op {
        Operation::BatchWriteItem => {
            let Some(tables) = v.get("RequestItems").and_then(Value::as_object) else {
                return out;
            };
            for (table, reqs) in tables {
                for r in reqs.as_array().into_iter().flatten() {
                    if let Some(item) = r.pointer("/PutRequest/Item") {
                        out.push((table.clone(), Written::Item(item.clone())));
                    } else if let Some(key) = r.pointer("/DeleteRequest/Key") {
                        out.push((table.clone(), Written::Key(key.clone())));
                    }
                }
            }
        }
        _ => {
            for t in v
                .get("TransactItems")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for (kind, written) in [("Put", "Item"), ("Update", "Key"), ("Delete", "Key")] {
                    let Some(action) = t.get(kind) else { continue };
                    let Some(table) = action.get("TableName").and_then(Value::as_str) else {
                        continue;
                    };
                    if let Some(x) = action.get(written) {
                        let w = if written == "Item" {
                            Written::Item(x.clone())
                        } else {
                            Written::Key(x.clone())
                        };
                        out.push((table.to_string(), w));
                    }
                }
            }
        }
    }
    out
}

fn statements(body: &[u8]) -> Option<Vec<String>> {
    let v: Value = serde_json::from_slice(body).ok()?;
    if let Some(s) = v.get("Statement").and_then(Value::as_str) {
        return Some(vec![s.to_string()]);
    }
    let list = v
        .get("Statements")
        .or_else(|| v.get("TransactStatements"))?
        .as_array()?;
    list.iter()
        .map(|s| {
            s.get("Statement")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect()
}

fn is_select(statement: &str) -> bool {
    statement
        .trim_start()
        .get(..6)
        .is_some_and(|w| w.eq_ignore_ascii_case("select"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_new_is_asked_and_attributes_removed() {
        let b = ask_all_new(br#" {"TableName":"t"}"#).map(|b| b.to_vec());
        assert_eq!(
            b.as_deref(),
            Some(&br#"{"ReturnValues":"ALL_NEW","TableName":"t"}"#[..])
        );
        assert!(ask_all_new(b"{ }").is_none());
        let out = without_attributes(br#"{"Attributes":{"a":{"S":"x"}}}"#).map(|b| b.to_vec());
        assert_eq!(out.as_deref(), Some(&b"{}"[..]));
        assert!(is_select("  select * from t") && !is_select("UPDATE t"));
    }
}
