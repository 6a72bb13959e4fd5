//! Items: browse a table a page at a time (forward, and back by a stack of
//! ExclusiveStartKeys carried in the links), the Query builder (index, key condition,
//! sort direction, filter), Scan with segments, and export of the page shown as JSON or
//! CSV. Every request is Limit'ed: the console never scans a table whole on its own.

use std::fmt::Write;
use std::time::Instant;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use daxlite_engine::wire::Operation;
use http::StatusCode;
use serde_json::{json, Map, Value};

use super::ddb::{self, DdbError};
use super::page::{self, enc, HttpResponse};
use super::types;
use super::Req;
use crate::upstream::Upstream;

/// Items per page unless `limit` says otherwise, and the most a page may ask for.
const DEFAULT_LIMIT: u64 = 25;
const MAX_LIMIT: u64 = 100;
/// Result columns shown (the key first); the rest are in each item's view.
const MAX_COLUMNS: usize = 10;

/// The parameters that describe the result (everything but the page position).
const KEEP: &[&str] = &[
    "mode", "limit", "index", "pk", "sk_op", "sk", "sk2", "order", "filter", "values", "names",
    "segment", "segments",
];

fn decode_key(s: &str) -> Option<Value> {
    B64.decode(s)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
}

fn encode(v: &Value) -> String {
    B64.encode(serde_json::to_vec(v).unwrap_or_default())
}

/// A JSON object parameter (`values`, `names`), or a message saying why not.
fn object(req: &Req, k: &str) -> Result<Map<String, Value>, String> {
    match req.get(k) {
        None => Ok(Map::new()),
        Some(t) => match serde_json::from_str::<Value>(t) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(format!("{k} must be a JSON object")),
        },
    }
}

/// The Query or Scan request the parameters describe.
pub fn request(desc: &Value, table: &str, req: &Req) -> Result<(Operation, Value), String> {
    let limit = req
        .get("limit")
        .and_then(|l| l.parse::<u64>().ok())
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(1, MAX_LIMIT);
    let mut body = json!({ "TableName": table, "Limit": limit, "ReturnConsumedCapacity": "TOTAL" });
    if let Some(start) = req.get("start") {
        body["ExclusiveStartKey"] = decode_key(start).ok_or("start is not a page position")?;
    }
    let mut names = object(req, "names")?;
    let mut values = object(req, "values")?;
    if let Some(f) = req.get("filter") {
        body["FilterExpression"] = json!(f);
    }
    let op = if req.get("mode") == Some("query") {
        let index = req.get("index");
        if let Some(i) = index {
            body["IndexName"] = json!(i);
        }
        let (hash, range) = index_keys(desc, index);
        let typed = |name: &str, v: &str| json!({ ddb::attr_type(desc, name): v });
        let pk = req
            .get("pk")
            .ok_or("a Query needs the partition key's value")?;
        names.insert("#pk".into(), json!(hash));
        values.insert(":pk".into(), typed(&hash, pk));
        let mut cond = "#pk = :pk".to_string();
        if let (Some(sk), Some(v)) = (range, req.get("sk")) {
            names.insert("#sk".into(), json!(sk));
            values.insert(":sk".into(), typed(&sk, v));
            match req.get("sk_op").unwrap_or("=") {
                "begins_with" => cond.push_str(" AND begins_with(#sk, :sk)"),
                "between" => {
                    let hi = req.get("sk2").ok_or("between needs a second value")?;
                    values.insert(":sk2".into(), typed(&sk, hi));
                    cond.push_str(" AND #sk BETWEEN :sk AND :sk2");
                }
                op @ ("=" | "<" | "<=" | ">" | ">=") => {
                    let _ = write!(cond, " AND #sk {op} :sk");
                }
                other => return Err(format!("{other:?} is not a key condition operator")),
            }
        }
        body["KeyConditionExpression"] = json!(cond);
        body["ScanIndexForward"] = json!(req.get("order") != Some("desc"));
        Operation::Query
    } else {
        if let (Some(seg), Some(total)) = (req.get("segment"), req.get("segments")) {
            body["Segment"] = json!(seg.parse::<u64>().map_err(|_| "segment is a number")?);
            body["TotalSegments"] =
                json!(total.parse::<u64>().map_err(|_| "segments is a number")?);
        }
        if let Some(i) = req.get("index") {
            body["IndexName"] = json!(i);
        }
        Operation::Scan
    };
    if !names.is_empty() {
        body["ExpressionAttributeNames"] = Value::Object(names);
    }
    if !values.is_empty() {
        body["ExpressionAttributeValues"] = Value::Object(values);
    }
    Ok((op, body))
}

/// The (partition, sort) key names of the table or of one of its indexes.
fn index_keys(desc: &Value, index: Option<&str>) -> (String, Option<String>) {
    let Some(index) = index else {
        return ddb::key_names(desc);
    };
    ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"]
        .iter()
        .filter_map(|k| desc.get(*k).and_then(Value::as_array))
        .flatten()
        .find(|i| i.get("IndexName").and_then(Value::as_str) == Some(index))
        .map(|i| ddb::key_names_of(i.get("KeySchema")))
        .unwrap_or_else(|| ddb::key_names(desc))
}

enum Failure {
    Ddb(DdbError),
    Form(String),
}

async fn run<U: Upstream>(
    up: &U,
    table: &str,
    req: &Req,
) -> Result<(Value, Value, Value), Failure> {
    let desc = ddb::describe(up, table).await.map_err(Failure::Ddb)?;
    let (op, body) = request(&desc, table, req).map_err(Failure::Form)?;
    let reply = ddb::call(up, op, &body).await.map_err(Failure::Ddb)?;
    Ok((desc, body, reply))
}

/// The link to this result at another position.
fn link(table: &str, req: &Req, start: Option<&Value>, prev: &[Value]) -> String {
    let mut q: Vec<String> = KEEP
        .iter()
        .filter_map(|k| req.get(k).map(|v| format!("{k}={}", enc(v))))
        .collect();
    if let Some(s) = start.filter(|s| !s.is_null()) {
        q.push(format!("start={}", encode(s)));
    }
    if !prev.is_empty() {
        q.push(format!("prev={}", encode(&Value::Array(prev.to_vec()))));
    }
    format!("/console/tables/{}/items?{}", enc(table), q.join("&"))
}

pub async fn browse<U: Upstream>(up: &U, table: &str, req: &Req) -> HttpResponse {
    let started = Instant::now();
    let outcome = run(up, table, req).await;
    let desc = match &outcome {
        Ok((d, _, _)) => d.clone(),
        Err(Failure::Ddb(e)) => return super::tables::failed(table, e),
        Err(Failure::Form(_)) => ddb::describe(up, table).await.unwrap_or(Value::Null),
    };
    let mut body = super::forms::builder(table, &desc, req);
    match outcome {
        Err(Failure::Form(m)) => body.push_str(&page::notice(&m)),
        Err(Failure::Ddb(e)) => body.push_str(&e.html()),
        Ok((_, sent, reply)) => results(&mut body, table, &desc, req, &sent, &reply),
    }
    let _ = write!(
        body,
        "<p class=\"timing\">Rendered in <span id=\"server-ms\">{:.1}</span> ms.</p>",
        started.elapsed().as_secs_f64() * 1000.0
    );
    page::html(
        StatusCode::OK,
        page::layout(&format!("{table}: items"), "/console/tables", &body),
    )
}

fn results(body: &mut String, table: &str, desc: &Value, req: &Req, sent: &Value, reply: &Value) {
    let items = types::items_of(reply);
    let (hash, range) = ddb::key_names(desc);
    let key_cols = std::iter::once(hash).chain(range).collect();
    let cols = types::columns(key_cols, items.iter().copied(), MAX_COLUMNS);
    let n = |k: &str| reply.get(k).and_then(Value::as_u64).unwrap_or(0);
    let consumed = reply
        .pointer("/ConsumedCapacity/CapacityUnits")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let _ = write!(
        body,
        "<p class=\"summary\">Count <strong id=\"count\">{}</strong> · scanned {} · {consumed} capacity units</p>{}",
        n("Count"),
        n("ScannedCount"),
        types::table_head("items", &cols, "<th>Item</th>")
    );
    for it in &items {
        let _ = write!(body, "<tr>{}", types::row_cells(it, &cols));
        let key = serde_json::to_string(&ddb::key_of(desc, it)).unwrap_or_default();
        let _ = write!(
            body,
            "<td><a href=\"/console/tables/{}/item?key={}\">Edit</a></td></tr>",
            enc(table),
            enc(&key)
        );
    }
    body.push_str("</tbody></table><nav class=\"pager\" aria-label=\"Pages\">");
    let mut prev: Vec<Value> = req
        .get("prev")
        .and_then(decode_key)
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    let here = sent
        .get("ExclusiveStartKey")
        .cloned()
        .unwrap_or(Value::Null);
    if !here.is_null() {
        let _ = write!(
            body,
            "<a href=\"{}\">⇤ First</a> ",
            link(table, req, None, &[])
        );
        let back = prev.pop().unwrap_or(Value::Null);
        let _ = write!(
            body,
            "<a href=\"{}\" rel=\"prev\" id=\"prev\">← Previous</a> ",
            link(table, req, Some(&back), &prev)
        );
        prev.push(back);
    }
    if let Some(last) = reply.get("LastEvaluatedKey") {
        prev.push(here);
        let _ = write!(
            body,
            "<a href=\"{}\" rel=\"next\" id=\"next\">Next →</a>",
            link(table, req, Some(last), &prev)
        );
    }
    let export =
        link(table, req, sent.get("ExclusiveStartKey"), &[]).replacen("/items?", "/export?", 1);
    let _ = write!(
        body,
        "</nav><p class=\"actions\">Export this page: <a href=\"{export}&format=json\">JSON</a> · \
<a href=\"{export}&format=plain\">plain JSON</a> · <a href=\"{export}&format=csv\">CSV</a> · \
<a href=\"/console/tables/{}/item\">New item</a></p><details><summary>Request sent</summary>{}</details>",
        enc(table),
        page::pre_json(sent)
    );
}

pub async fn export<U: Upstream>(up: &U, table: &str, req: &Req) -> HttpResponse {
    let (desc, reply) = match run(up, table, req).await {
        Ok((d, _, r)) => (d, r),
        Err(Failure::Ddb(e)) => return super::tables::failed(table, &e),
        Err(Failure::Form(m)) => {
            return page::html(
                StatusCode::BAD_REQUEST,
                page::layout(table, "", &page::notice(&m)),
            )
        }
    };
    let items: Vec<Value> = reply
        .get("Items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match req.get("format").unwrap_or("json") {
        "csv" => page::download(
            "text/csv; charset=utf-8",
            &format!("{table}.csv"),
            csv(&desc, &items).into_bytes(),
        ),
        "plain" => {
            let plain: Vec<Value> = items.iter().map(types::to_plain_item).collect();
            page::download(
                "application/json",
                &format!("{table}.json"),
                serde_json::to_vec_pretty(&plain).unwrap_or_default(),
            )
        }
        _ => page::download(
            "application/json",
            &format!("{table}.json"),
            serde_json::to_vec_pretty(&items).unwrap_or_default(),
        ),
    }
}

/// Items as CSV: the key columns first, then every other attribute name in first-seen
/// order; scalars as their text, documents and sets as plain JSON.
pub fn csv(desc: &Value, items: &[Value]) -> String {
    let (hash, range) = ddb::key_names(desc);
    let cols = types::columns(
        std::iter::once(hash).chain(range).collect(),
        items,
        usize::MAX,
    );
    let quote = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(",");
    out.push('\n');
    for it in items {
        let row: Vec<String> = cols
            .iter()
            .map(|c| quote(&it.get(c).map(types::cell).unwrap_or_default()))
            .collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}
