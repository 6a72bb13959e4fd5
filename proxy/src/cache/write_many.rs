//! Writes of many keys: BatchWriteItem applies every request the upstream processed (a
//! Put caches the canonical item, a Delete caches absent) and leaves the ones listed in
//! `UnprocessedItems` alone; TransactWriteItems stores every Put and Delete and
//! invalidates every Update before answering (read-your-writes). A refusal leaves the
//! cache as it was; a 5xx (outcome unknown) invalidates every key named. PartiQL writes
//! drop the whole cache (the statements would have to be parsed to know their keys).

use std::collections::HashSet;

use bytes::Bytes;
use daxlite_engine::model::Item;
use daxlite_engine::wire::Operation;
use serde_json::Value;

use super::coherence::Ticket;
use super::keys::decode_attrs;
use super::store::Entry;
use super::write::Written;
use super::Cached;
use crate::upstream::{Outcome, Reply, Request, Upstream};

/// The state a write leaves its item in, when the request alone tells.
enum After {
    Put(Item),
    Delete,
    /// An Update: the new state is not known.
    Unknown,
}

/// One write of the request, as named in the body.
struct Named {
    table: String,
    /// The Put's item or the Delete's / Update's key.
    attrs: Item,
    exact: bool,
    after: After,
}

/// Every write named in a BatchWriteItem `RequestItems` / `UnprocessedItems` map.
fn batch_writes(items: Option<&Value>, out: &mut Vec<Named>) -> Option<()> {
    for (table, reqs) in items?.as_object()? {
        for r in reqs.as_array()? {
            let named = if let Some(item) = r.pointer("/PutRequest/Item") {
                let attrs = decode_attrs(item)?;
                Named {
                    table: table.clone(),
                    after: After::Put(attrs.clone()),
                    attrs,
                    exact: false,
                }
            } else {
                Named {
                    table: table.clone(),
                    attrs: decode_attrs(r.pointer("/DeleteRequest/Key")?)?,
                    exact: true,
                    after: After::Delete,
                }
            };
            out.push(named);
        }
    }
    Some(())
}

/// Every write of a TransactWriteItems (ConditionChecks write nothing). With a
/// ClientRequestToken every state is unknown: a replay inside the idempotency window
/// succeeds without applying anything again, so its items may be older than the table's.
fn transact_writes(body: &Value, out: &mut Vec<Named>) -> Option<()> {
    let replayable = body.get("ClientRequestToken").is_some();
    for t in body.get("TransactItems")?.as_array()? {
        let (action, member, after) = if let Some(a) = t.get("Put") {
            (a, "Item", None)
        } else if let Some(a) = t.get("Delete") {
            (a, "Key", Some(After::Delete))
        } else if let Some(a) = t.get("Update") {
            (a, "Key", Some(After::Unknown))
        } else {
            continue;
        };
        let attrs = decode_attrs(action.get(member)?)?;
        let exact = after.is_some();
        let after = match after {
            _ if replayable => After::Unknown,
            Some(a) => a,
            None => After::Put(attrs.clone()),
        };
        out.push(Named {
            table: action.get("TableName")?.as_str()?.to_string(),
            exact,
            after,
            attrs,
        });
    }
    Some(())
}

/// A named write with its key, ticket and epoch, or its table when the key is unknown.
enum Target {
    Known {
        table: String,
        written: Written,
        ticket: Ticket,
        epoch: u64,
        after: After,
    },
    UnknownKey(String),
}

impl<U: Upstream> Cached<U> {
    async fn targets(&self, named: Vec<Named>) -> Vec<Target> {
        let mut out = Vec::with_capacity(named.len());
        for n in named {
            if super::by_arn(&n.table) {
                // Named by ARN: the table of that name is forgotten after the write.
                let table = crate::auth::authorize::table_name(&n.table).to_string();
                out.push(Target::UnknownKey(table));
                continue;
            }
            let schema = self.schemas.get(&self.inner, &n.table).await;
            let written = schema.and_then(|s| Written::of(&n.table, &s, &n.attrs, n.exact));
            out.push(match written {
                Some(written) => Target::Known {
                    epoch: self.coherence.epoch(n.table.as_bytes()),
                    ticket: self.coherence.ticket(&written.key),
                    table: n.table,
                    written,
                    after: n.after,
                },
                None => Target::UnknownKey(n.table),
            });
        }
        out
    }

    /// The item keys listed in a BatchWriteItem answer's `UnprocessedItems` (none when
    /// the member is absent); `None` when the answer cannot be read.
    async fn unprocessed(&self, reply: &Reply) -> Option<HashSet<Bytes>> {
        let v: Value = serde_json::from_slice(&reply.body).ok()?;
        let mut named = Vec::new();
        if let Some(items) = v.get("UnprocessedItems") {
            batch_writes(Some(items), &mut named)?;
        }
        let mut keys = HashSet::new();
        for t in self.targets(named).await {
            match t {
                Target::Known { written, .. } => {
                    keys.insert(written.key);
                }
                Target::UnknownKey(_) => return None,
            }
        }
        Some(keys)
    }

    pub(super) async fn write_many(&self, req: Request) -> Reply {
        let mut named = Vec::new();
        let parsed = serde_json::from_slice::<Value>(&req.body)
            .ok()
            .and_then(|v| match req.op {
                Operation::BatchWriteItem => batch_writes(v.get("RequestItems"), &mut named),
                _ => transact_writes(&v, &mut named),
            });
        if parsed.is_none() {
            // Malformed: the upstream refuses it (or, if not, forget the tables named).
            named.clear();
        }
        let targets = self.targets(named).await;
        let req_op = req.op;
        let reply = self.inner.call(req).await;
        if !reply.is_success() && !reply.is_fault() {
            return reply.outcome(Outcome::Write);
        }
        let fault = reply.is_fault();
        let skipped = if fault || req_op != Operation::BatchWriteItem || reply.body.len() < 24 {
            Some(HashSet::new())
        } else {
            self.unprocessed(&reply).await
        };
        let cause = if fault { "unknown_outcome" } else { "write" };
        for target in targets {
            match target {
                Target::Known {
                    table,
                    written,
                    ticket,
                    epoch,
                    after,
                } => {
                    if skipped.as_ref().is_some_and(|s| s.contains(&written.key)) {
                        continue;
                    }
                    let new_state = match after {
                        _ if fault || skipped.is_none() => None,
                        After::Put(item) => Some(Entry::present(&item, epoch)),
                        After::Delete => Some(Entry::absent(epoch)),
                        After::Unknown => None,
                    };
                    self.apply_write(&table, &written, Some(ticket), new_state, cause);
                }
                Target::UnknownKey(table) => self.forget_table(&table, "unknown_key"),
            }
        }
        reply.outcome(Outcome::Write)
    }

    /// PartiQL: reads pass through; anything that may write drops the whole cache.
    pub(super) async fn partiql(&self, req: Request) -> Reply {
        let reads_only = statements(&req.body)
            .is_some_and(|s| !s.is_empty() && s.iter().all(|st| is_select(st)));
        let reply = self.inner.call(req).await;
        if reads_only {
            return reply;
        }
        if reply.is_success() || reply.is_fault() {
            self.flush_because("partiql");
        }
        reply.outcome(Outcome::Write)
    }
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
    use serde_json::json;

    #[test]
    fn named_writes_of_batches_and_transactions() {
        let mut out = Vec::new();
        let items = json!({"t": [{"PutRequest": {"Item": {"pk": {"S": "a"}, "v": {"N": "1.0"}}}},
            {"DeleteRequest": {"Key": {"pk": {"S": "b"}}}}]});
        assert!(batch_writes(Some(&items), &mut out).is_some());
        assert!(matches!(
            out.as_slice(),
            [
                Named {
                    after: After::Put(_),
                    exact: false,
                    ..
                },
                Named {
                    after: After::Delete,
                    exact: true,
                    ..
                }
            ]
        ));
        let mut out = Vec::new();
        let tx = json!({"TransactItems": [
            {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "c"}}}},
            {"Update": {"TableName": "t", "Key": {"pk": {"S": "u"}}}},
            {"Put": {"TableName": "u", "Item": {"pk": {"S": "p"}}}}]});
        assert!(transact_writes(&tx, &mut out).is_some());
        assert!(matches!(
            out.as_slice(),
            [
                Named {
                    after: After::Unknown,
                    ..
                },
                Named {
                    after: After::Put(_),
                    ..
                }
            ]
        ));
        let mut out = Vec::new();
        let replayable = json!({"ClientRequestToken": "x", "TransactItems": [
            {"Put": {"TableName": "u", "Item": {"pk": {"S": "p"}}}},
            {"Delete": {"TableName": "u", "Key": {"pk": {"S": "q"}}}}]});
        assert!(transact_writes(&replayable, &mut out).is_some());
        assert!(matches!(
            out.as_slice(),
            [
                Named {
                    after: After::Unknown,
                    exact: false,
                    ..
                },
                Named {
                    after: After::Unknown,
                    exact: true,
                    ..
                }
            ]
        ));
        assert!(is_select("  select * from t") && !is_select("UPDATE t"));
    }
}
