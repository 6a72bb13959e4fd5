//! ListTables: table names in order, paged with Limit and ExclusiveStartTableName.

use serde_json::{json, Map, Value};

use crate::api::Ctx;
use crate::catalog;
use crate::wire::shape::{Obj, Violations};
use crate::wire::ApiResult;

const MAX_LIMIT: i64 = 100;

pub async fn list_tables(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let start = o.str("ExclusiveStartTableName")?;
    let limit = o.int("Limit")?;
    let mut v = Violations::new();
    if let Some(s) = start {
        v.name(s, "exclusiveStartTableName");
    }
    if let Some(l) = limit {
        v.min_value(l, "limit", 1);
        v.max_value(l, "limit", MAX_LIMIT);
    }
    v.finish()?;
    let limit = limit.unwrap_or(MAX_LIMIT) as usize;
    let txn = ctx.store.read()?;
    let now = ctx.now_ms();
    let delay = ctx.config.delete_delay_ms;
    let names: Vec<String> = catalog::list(&txn)?
        .into_iter()
        .filter(|t| !t.is_gone(now, delay))
        .map(|t| t.name)
        .filter(|n| start.is_none_or(|s| n.as_str() > s))
        .collect();
    let mut out = Map::new();
    let page: Vec<&String> = names.iter().take(limit).collect();
    if names.len() > limit {
        if let Some(last) = page.last() {
            out.insert("LastEvaluatedTableName".into(), json!(last));
        }
    }
    out.insert("TableNames".into(), json!(page));
    Ok(Value::Object(out))
}
