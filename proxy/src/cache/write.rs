//! Write-through: every write goes upstream first; the cache changes only after. A success
//! stores the new state when it is known (PutItem: the request's item, canonicalised;
//! DeleteItem: absent; UpdateItem: the ALL_NEW image, asked for on the caller's behalf)
//! and invalidates otherwise; a 5xx (outcome unknown) invalidates; any other error leaves
//! the cache as it was. The upstream's answer is returned untouched, except that an
//! UpdateItem whose caller asked for no ReturnValues (or NONE) gets its `Attributes`
//! removed. Every write kills the coherent-mode pages that depend on it (`apply_write`).

use bytes::Bytes;
use daxlite_engine::wire::Operation;
use serde::Deserialize;
use serde_json::Value;

use daxlite_engine::model::Item;

use super::coherence::{Ticket, WriteOutcome};
use super::keys::{decode_attrs, item_key, partition_key, CacheKey};
use super::schema::TableSchema;
use super::store::Entry;
use super::Cached;
use crate::metrics as m;
use crate::upstream::{Outcome, Reply, Request, Upstream};

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

/// An UpdateItem answer read once: the entry its ALL_NEW `Attributes` make (when
/// `keeps_new`) and, when `strip` (the caller did not ask for them), the answer without
/// `Attributes`.
#[derive(Default)]
struct UpdateAnswer {
    entry: Option<Entry>,
    stripped: Option<Bytes>,
}

fn read_update_answer(body: &[u8], epoch: u64, keeps_new: bool, strip: bool) -> UpdateAnswer {
    if !keeps_new && !strip {
        return UpdateAnswer::default();
    }
    let Ok(mut answer) = serde_json::from_slice::<serde_json::Map<String, Value>>(body) else {
        return UpdateAnswer::default();
    };
    let attributes = answer.remove("Attributes");
    let entry = match &attributes {
        Some(attrs) if keeps_new => decode_attrs(attrs).map(|item| Entry::present(&item, epoch)),
        _ => None,
    };
    let stripped = strip
        .then(|| serde_json::to_vec(&answer).ok().map(Bytes::from))
        .flatten();
    UpdateAnswer { entry, stripped }
}

/// The key of one written item: its item key and its partition.
pub(super) struct Written {
    pub key: Bytes,
    pub partition: Bytes,
}

impl Written {
    pub fn of(table: &str, schema: &TableSchema, attrs: &Item, exact: bool) -> Option<Written> {
        Some(Written {
            key: item_key(table, schema, attrs, exact)?,
            partition: partition_key(table, schema, attrs)?,
        })
    }
}

/// What UpdateItem sends upstream for a caller's ReturnValues, and whether its answer
/// then carries the ALL_NEW image. ALL_OLD and UPDATED_OLD cannot be derived from ALL_NEW
/// and UPDATED_NEW only with the update expression's paths, so those three are forwarded
/// as asked and the key is invalidated instead of refreshed.
fn update_plan(body: &Bytes, return_values: Option<&str>) -> (Option<Bytes>, bool) {
    match return_values {
        None => {
            let rewrite = ask_all_new(body);
            let known = rewrite.is_some();
            (rewrite, known)
        }
        Some("NONE") => {
            let rewrite = replace_return_values(body);
            let known = rewrite.is_some();
            (rewrite, known)
        }
        Some("ALL_NEW") => (None, true),
        Some(_) => (None, false),
    }
}

/// The body with `"ReturnValues":"NONE"` replaced by ALL_NEW (a write: re-serialising
/// the request is fine here).
fn replace_return_values(body: &[u8]) -> Option<Bytes> {
    let mut v: serde_json::Map<String, Value> = serde_json::from_slice(body).ok()?;
    v.insert("ReturnValues".into(), Value::from("ALL_NEW"));
    serde_json::to_vec(&v).ok().map(Bytes::from)
}

impl<U: Upstream> Cached<U> {
    pub(super) async fn write_item(&self, req: Request) -> Reply {
        let Ok(parsed) = serde_json::from_slice::<ItemWrite>(&req.body) else {
            return self.inner.call(req).await;
        };
        if super::by_arn(&parsed.table) {
            // The table named by ARN (its reads are not cached): forget what is cached of
            // the table of that name, whatever the outcome but a clean refusal.
            let table = crate::auth::authorize::table_name(&parsed.table).to_string();
            let reply = self.inner.call(req).await;
            if reply.is_success() || reply.is_fault() {
                self.forget_table(&table, "write_by_arn");
            }
            return reply.outcome(Outcome::Write);
        }
        let table = parsed.table.clone();
        let schema = self.schemas.get(&self.inner, &table).await;
        // PutItem's item, decoded once: it gives the key and, after the write, the entry.
        let put_item = match req.op {
            Operation::PutItem => parsed.item.as_ref().and_then(decode_attrs),
            _ => None,
        };
        let written = schema.as_ref().and_then(|s| match req.op {
            Operation::PutItem => Written::of(&table, s, put_item.as_ref()?, false),
            _ => Written::of(&table, s, &decode_attrs(parsed.key.as_ref()?)?, true),
        });
        let Some(written) = written else {
            // The key cannot be known: forward, and on anything but a clean refusal
            // drop the whole table's entries.
            let reply = self.inner.call(req).await;
            if reply.is_success() || reply.is_fault() {
                self.forget_table(&table, "unknown_key");
            }
            return reply.outcome(Outcome::Write);
        };
        let (rewrite, keeps_new) = match req.op {
            Operation::UpdateItem => update_plan(&req.body, parsed.return_values.as_deref()),
            _ => (None, false),
        };
        let epoch = self.coherence.epoch(table.as_bytes());
        let ticket = self.coherence.ticket(&written.key);
        let sent = Request {
            op: req.op,
            body: rewrite.clone().unwrap_or_else(|| req.body.clone()),
        };
        let mut reply = self.inner.call(sent).await;
        if !reply.is_success() && !reply.is_fault() {
            self.check_not_found(&table, &reply);
            return reply.outcome(Outcome::Write);
        }
        // From here the upstream applied the write, or may have.
        let update = match req.op {
            Operation::UpdateItem if reply.is_success() => {
                read_update_answer(&reply.body, epoch, keeps_new, rewrite.is_some())
            }
            _ => UpdateAnswer::default(),
        };
        let new_state: Option<Entry> = if reply.is_fault() {
            None
        } else {
            match req.op {
                Operation::PutItem => put_item.as_ref().map(|i| Entry::present(i, epoch)),
                Operation::DeleteItem => Some(Entry::absent(epoch)),
                _ => update.entry,
            }
        };
        let cause = if reply.is_fault() {
            "unknown_outcome"
        } else {
            "write"
        };
        self.apply_write(&table, &written, Some(ticket), new_state, cause);
        if let Some(body) = update.stripped {
            reply.body = body;
        }
        reply.outcome(Outcome::Write)
    }

    /// After an upstream write to `written` succeeded (or may have): kills the pages that
    /// depend on it (coherent mode), then stores `new_state` if this write was alone on
    /// the key since `ticket`, else invalidates the key.
    pub(super) fn apply_write(
        &self,
        table: &str,
        written: &Written,
        ticket: Option<Ticket>,
        new_state: Option<Entry>,
        cause: &'static str,
    ) {
        self.coherence
            .bump_generation(table.as_bytes(), Some(&written.partition));
        let new_state = new_state.filter(|e| self.keeps(e));
        let outcome = if new_state.is_some() {
            WriteOutcome::Store
        } else {
            WriteOutcome::Invalidate
        };
        let ck = CacheKey::Item(written.key.clone());
        self.coherence.write(
            &written.key,
            ticket,
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
    }
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
        let body = Bytes::from_static(br#"{"TableName":"t","ReturnValues":"NONE"}"#);
        let (sent, known) = update_plan(&body, Some("NONE"));
        let sent: Option<Value> = sent.and_then(|b| serde_json::from_slice(&b).ok());
        assert_eq!(
            sent,
            Some(serde_json::json!({"TableName":"t","ReturnValues":"ALL_NEW"}))
        );
        assert!(known);
        for rv in ["ALL_OLD", "UPDATED_OLD", "UPDATED_NEW"] {
            assert_eq!(update_plan(&body, Some(rv)), (None, false), "{rv}");
        }
        assert_eq!(update_plan(&body, Some("ALL_NEW")), (None, true));
        let answer = br#"{"Attributes":{"a":{"S":"x"},"n":{"N":"1.50"}},"ConsumedCapacity":{"TableName":"t","CapacityUnits":1.0}}"#;
        let read = read_update_answer(answer, 7, true, true);
        let out = read.stripped.map(|b| b.to_vec());
        assert_eq!(
            out.as_deref(),
            Some(&br#"{"ConsumedCapacity":{"CapacityUnits":1.0,"TableName":"t"}}"#[..])
        );
        let entry = read.entry.map(|e| (e.epoch, e.body));
        let expected = Entry::from_get_answer(br#"{"Item":{"a":{"S":"x"},"n":{"N":"1.5"}}}"#, 7)
            .map(|e| (e.epoch, e.body));
        assert!(expected.is_some());
        assert_eq!(
            entry, expected,
            "the entry a GetItem answer of the item makes"
        );
        let asked = read_update_answer(answer, 7, true, false);
        assert!(asked.entry.is_some() && asked.stripped.is_none());
        let unknown = read_update_answer(answer, 7, false, false);
        assert!(unknown.entry.is_none() && unknown.stripped.is_none());
    }
}
