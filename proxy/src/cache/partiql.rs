//! PartiQL in the cache. An eventually consistent `SELECT ... WHERE <equality on the
//! whole primary key>` (ExecuteStatement, no Limit / NextToken / capacity) is answered
//! through the item cache — the same entry, fill and coalescing GetItem uses — with the
//! PartiQL projection applied on the way out. Writes go upstream first; then each
//! statement's item (INSERT: from its item; UPDATE / DELETE: from the key equalities of
//! its WHERE) is stored (a plain INSERT or DELETE that succeeded) or invalidated, with
//! its partition's pages; a statement whose key cannot be known drops its table, and a
//! request that cannot be read at all falls back to dropping the whole cache.

use bytes::Bytes;
use daxlite_engine::catalog::KeySchema;
use daxlite_engine::model::value::{decode_value, Deferred};
use daxlite_engine::model::{AttributeValue, Item};
use std::sync::Arc;

use daxlite_engine::partiql;
use daxlite_engine::partiql::ast::{Expr, Parsed, Statement};
use daxlite_engine::partiql::bind::{conjuncts, key_equality, Binder};
use daxlite_engine::partiql::plan::exact_key;
use daxlite_engine::partiql::read::project;
use daxlite_engine::wire::Operation;
use serde_json::Value;

use super::counters::Count;
use super::keys::{decode_attrs, item_key};
use super::schema::TableSchema;
use super::store::Entry;
use super::write::Written;
use super::Cached;
use crate::upstream::{Outcome, Reply, Request, Upstream};

/// One statement of a request: text and decoded parameters.
struct Stmt {
    text: String,
    params: Vec<AttributeValue>,
}

fn decode_params(v: Option<&Value>) -> Option<Vec<AttributeValue>> {
    let Some(list) = v else {
        return Some(Vec::new());
    };
    let mut d = Deferred::new();
    let out = list
        .as_array()?
        .iter()
        .map(|p| decode_value(p, &mut d).ok())
        .collect::<Option<Vec<_>>>()?;
    d.into_result().ok()?;
    Some(out)
}

fn stmt_of(v: &Value) -> Option<Stmt> {
    Some(Stmt {
        text: v.get("Statement")?.as_str()?.to_string(),
        params: decode_params(v.get("Parameters"))?,
    })
}

/// Every statement of an ExecuteStatement / BatchExecuteStatement / ExecuteTransaction.
fn statements(v: &Value) -> Option<Vec<Stmt>> {
    if v.get("Statement").is_some() {
        return Some(vec![stmt_of(v)?]);
    }
    let list = v
        .get("Statements")
        .or_else(|| v.get("TransactStatements"))?
        .as_array()?;
    list.iter().map(stmt_of).collect()
}

fn key_schema(s: &TableSchema) -> KeySchema {
    KeySchema {
        hash: s.hash.name.clone(),
        range: s.range.as_ref().map(|r| r.name.clone()),
    }
}

/// The key attributes a write statement's WHERE fixes (all of them, or `None`).
fn where_key(b: &Binder<'_>, keys: &KeySchema, filter: &Expr) -> Option<Item> {
    let mut key = Item::new();
    for t in conjuncts(filter) {
        if let Some((name, v)) = key_equality(t) {
            if keys.names().any(|k| k == name) && !key.contains_key(name) {
                key.insert(name.to_string(), b.value(v, "root").ok()?);
            }
        }
    }
    (key.len() == keys.names().count()).then_some(key)
}

/// What one write statement leaves behind, when the statement alone tells.
enum After {
    Put(Item),
    Delete,
    Unknown,
}

/// A write statement's table, key attributes (if known) and resulting state.
struct NamedWrite {
    table: String,
    attrs: Option<Item>,
    after: After,
}

/// `SELECT *` from the cache: a GetItem answer (`{"Item":…}` or `{}`) as PartiQL's
/// `{"Items":[…]}`, the entry's bytes as they are.
fn items_of_entry(body: &[u8]) -> Option<Bytes> {
    if body == b"{}" {
        return Some(Bytes::from_static(br#"{"Items":[]}"#));
    }
    let item = body.strip_prefix(b"{\"Item\":")?.strip_suffix(b"}")?;
    let mut out = Vec::with_capacity(item.len() + 12);
    out.extend_from_slice(b"{\"Items\":[");
    out.extend_from_slice(item);
    out.extend_from_slice(b"]}");
    Some(Bytes::from(out))
}

/// Only members the cache understands may be served from it.
const READ_MEMBERS: [&str; 3] = ["Statement", "Parameters", "ConsistentRead"];

impl<U: Upstream> Cached<U> {
    /// PartiQL through the cache (see the module doc).
    pub(super) async fn partiql_keyed(&self, req: Request) -> Reply {
        let Ok(v) = serde_json::from_slice::<Value>(&req.body) else {
            return self.partiql(req).await;
        };
        let Some(stmts) = statements(&v) else {
            return self.partiql(req).await;
        };
        let parsed: Vec<Option<Arc<Parsed>>> = stmts
            .iter()
            .map(|s| {
                partiql::parse_cached(&s.text)
                    .ok()
                    .filter(|p| p.params <= s.params.len())
            })
            .collect();
        let all_reads = parsed.iter().flatten().all(|p| p.stmt.is_read());
        if all_reads {
            if req.op == Operation::ExecuteStatement {
                if let (Some(Statement::Select(sel)), Some(st)) = (
                    parsed.first().and_then(Option::as_deref).map(|p| &p.stmt),
                    stmts.first(),
                ) {
                    if let Some(reply) = self.keyed_select(&v, sel, st).await {
                        return reply;
                    }
                }
            }
            return self.inner.call(req).await;
        }
        // Writes: name every written item before the call, so tickets precede it.
        let replayable = v.get("ClientRequestToken").is_some();
        let mut named = Vec::new();
        for (st, p) in stmts.iter().zip(&parsed) {
            let Some(p) = p else { continue };
            if let Some(n) = self.named_write(st, &p.stmt, replayable).await {
                named.push(n);
            }
        }
        let single = req.op == Operation::ExecuteStatement;
        let mut targets = Vec::new();
        for n in named {
            let schema = self.schemas.get(&self.inner, &n.table).await;
            let written = match (&schema, &n.attrs) {
                (Some(s), Some(a)) => Written::of(&n.table, s, a, false),
                _ => None,
            };
            let ticket = written.as_ref().map(|w| self.coherence.ticket(&w.key));
            let epoch = self.coherence.epoch(n.table.as_bytes());
            targets.push((n, written, ticket, epoch));
        }
        let reply = self.inner.call(req).await;
        if !reply.is_success() && !reply.is_fault() {
            return reply.outcome(Outcome::Write);
        }
        let cause = if reply.is_fault() {
            "unknown_outcome"
        } else {
            "partiql"
        };
        for (n, written, ticket, epoch) in targets {
            match written {
                None => self.forget_table(&n.table, "unknown_key"),
                Some(w) => {
                    // Only a lone statement that succeeded tells the item's new state.
                    let state: Option<Entry> = match n.after {
                        _ if !single || !reply.is_success() => None,
                        After::Put(item) => Some(Entry::present(&item, epoch)),
                        After::Delete => Some(Entry::absent(epoch)),
                        After::Unknown => None,
                    };
                    self.apply_write(&n.table, &w, ticket, state, cause);
                }
            }
        }
        reply.outcome(Outcome::Write)
    }

    /// The item a write statement touches; `None` for statements that write nothing.
    async fn named_write(&self, st: &Stmt, p: &Statement, replayable: bool) -> Option<NamedWrite> {
        let b = Binder::new(&st.text, &st.params);
        let table = p.table().table.clone();
        let keys = self
            .schemas
            .get(&self.inner, &table)
            .await
            .map(|s| key_schema(&s));
        let (attrs, after) = match p {
            Statement::Select(_) | Statement::Exists(_) => return None,
            Statement::Insert { item, .. } => {
                let item = match b.value(item, "root").ok() {
                    Some(AttributeValue::M(m)) => Some(m),
                    _ => match item {
                        Expr::Map(entries) => entries
                            .iter()
                            .map(|(k, e)| Some((k.clone(), b.value(e, "root").ok()?)))
                            .collect::<Option<Item>>(),
                        _ => None,
                    },
                };
                let after = item.clone().map(After::Put).unwrap_or(After::Unknown);
                (item, after)
            }
            Statement::Update { filter, .. } => {
                (keys.and_then(|k| where_key(&b, &k, filter)), After::Unknown)
            }
            // Alone, a DELETE that succeeded leaves no item (its extra conditions held).
            Statement::Delete { filter, .. } => {
                (keys.and_then(|k| where_key(&b, &k, filter)), After::Delete)
            }
        };
        let after = if replayable { After::Unknown } else { after };
        Some(NamedWrite {
            table,
            attrs,
            after,
        })
    }

    /// An eventually consistent SELECT by full key, answered through the item cache;
    /// `None` when the cache cannot prove the upstream would answer it the same way.
    async fn keyed_select(
        &self,
        v: &Value,
        sel: &daxlite_engine::partiql::ast::Select,
        st: &Stmt,
    ) -> Option<Reply> {
        let obj = v.as_object()?;
        if obj.keys().any(|k| !READ_MEMBERS.contains(&k.as_str())) {
            return None;
        }
        if obj.get("ConsistentRead").and_then(Value::as_bool) == Some(true)
            || sel.from.index.is_some()
            || !sel.order.is_empty()
        {
            return None;
        }
        let table = sel.from.table.clone();
        let schema = self.schemas.get(&self.inner, &table).await?;
        let b = Binder::new(&st.text, &st.params);
        let key = exact_key(&b, &key_schema(&schema), sel.filter.as_ref()).ok()??;
        let cache_key = item_key(&table, &schema, &key, true)?;
        if sel.projection.is_none() {
            if let Some(entry) = self.item_hit(&table, cache_key) {
                if let Some(out) = items_of_entry(&entry.body) {
                    self.counters.add(&table, Count::GetHit, 1);
                    return Some(Reply::ok(out).outcome(Outcome::Hit));
                }
            }
        }
        let key_json = serde_json::to_value(&key).ok()?;
        let body = serde_json::json!({"TableName": table, "Key": key_json});
        let get = Request {
            op: Operation::GetItem,
            body: Bytes::from(serde_json::to_vec(&body).ok()?),
        };
        let reply = self.get_item(get).await;
        if !reply.is_success() {
            return None;
        }
        let outcome = reply.outcome;
        if sel.projection.is_none() && outcome == Outcome::Hit {
            if let Some(out) = items_of_entry(&reply.body) {
                return Some(Reply::ok(out).outcome(outcome));
            }
        }
        let answer: Value = serde_json::from_slice(&reply.body).ok()?;
        let items: Vec<Item> = match answer.get("Item") {
            None => vec![],
            Some(item) => vec![project(decode_attrs(item)?, sel.projection.as_deref())],
        };
        let out = serde_json::to_vec(&serde_json::json!({ "Items": items })).ok()?;
        Some(Reply::ok(out).outcome(outcome))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use daxlite_engine::partiql::parser;
    use serde_json::json;

    #[test]
    fn statements_and_where_keys() {
        let v = json!({"Statements": [{"Statement": "UPDATE t SET a = 1 WHERE pk = ? AND sk = 2",
            "Parameters": [{"S": "x"}]}]});
        let stmts = statements(&v).unwrap_or_default();
        assert_eq!(stmts.len(), 1);
        let Some(Statement::Update { filter, .. }) =
            parser::parse(&stmts[0].text).ok().map(|p| p.stmt)
        else {
            panic!("not an update");
        };
        let b = Binder::new(&stmts[0].text, &stmts[0].params);
        let keys = KeySchema {
            hash: "pk".into(),
            range: Some("sk".into()),
        };
        let key = where_key(&b, &keys, &filter).unwrap_or_default();
        assert_eq!(key.get("pk"), Some(&AttributeValue::S("x".into())));
        assert_eq!(key.len(), 2);
        let only_pk = KeySchema {
            hash: "pk".into(),
            range: Some("other".into()),
        };
        assert!(where_key(&b, &only_pk, &filter).is_none());
    }
}
