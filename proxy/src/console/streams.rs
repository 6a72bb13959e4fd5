//! A table's stream, tailed live: the page polls `/console/api/stream` once a second and
//! appends records as they arrive. The position (each shard's next iterator and last
//! sequence number) travels with the poll, so the server keeps no per-viewer state.
//! Below: the `[[trigger]]`s that follow this table and their saved positions.

use std::fmt::Write;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use http::StatusCode;
use serde_json::{json, Map, Value};

use super::page::{self, enc, esc, HttpResponse};
use super::{Console, Req};
use crate::stream_reader::{self as sr, From, ReadError};
use crate::upstream::Upstream;

/// Records read per shard per poll, and shards read per poll.
const RECORDS: usize = 100;
const SHARDS: usize = 16;

pub async fn page<U: Upstream>(console: &Console, up: &U, table: &str) -> HttpResponse {
    let stream = match sr::table_stream(up, table).await {
        Ok(s) => s,
        Err(e) => return unreadable(table, &e),
    };
    let mut body = format!(
        "<p class=\"actions\"><a href=\"/console/tables/{}\">Table</a></p>",
        enc(table)
    );
    match stream.arn.filter(|_| stream.enabled) {
        None => body.push_str(&page::notice(
            "This table has no stream enabled (UpdateTable StreamSpecification, or create it with one).",
        )),
        Some(arn) => {
            let _ = write!(
                body,
                "<p>Stream <code id=\"stream-arn\">{}</code></p>\
<p><label>Start from <select id=\"stream-from\"><option value=\"latest\">now (LATEST)</option>\
<option value=\"trim_horizon\">the oldest record (TRIM_HORIZON)</option></select></label> \
<button type=\"button\" id=\"stream-toggle\">Pause</button> <span id=\"stream-state\" role=\"status\"></span></p>\
<table class=\"grid\" id=\"stream\" data-table=\"{}\"><thead><tr><th>Time</th><th>Event</th><th>Keys</th><th>Sequence</th></tr></thead>\
<tbody></tbody></table>",
                esc(&arn),
                esc(table)
            );
        }
    }
    body.push_str(&console.trigger_status(table));
    page::html(
        StatusCode::OK,
        page::layout(&format!("{table}: stream"), "/console/tables", &body),
    )
}

fn unreadable(table: &str, e: &ReadError) -> HttpResponse {
    let status = if *e == ReadError::NotFound {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::BAD_GATEWAY
    };
    let body = page::notice(&format!("Cannot read the stream of {table}: {e}"));
    page::html(status, page::layout(table, "/console/tables", &body))
}

/// One poll: `table`, `from` (latest | trim_horizon) and `pos` (what the last poll
/// answered) → `{"records": [...], "pos": "..."}`.
pub async fn poll<U: Upstream>(up: &U, req: &Req) -> HttpResponse {
    let table = req.get("table").unwrap_or_default();
    let err = |status: StatusCode, m: String| page::json(status, &json!({ "error": m }));
    let arn = match sr::table_stream(up, table).await {
        Ok(s) => match s.arn.filter(|_| s.enabled) {
            Some(a) => a,
            None => {
                return err(
                    StatusCode::NOT_FOUND,
                    format!("{table} has no stream enabled"),
                )
            }
        },
        Err(e) => return err(StatusCode::BAD_GATEWAY, e.to_string()),
    };
    let start = if req.get("from") == Some("trim_horizon") {
        From::TrimHorizon
    } else {
        From::Latest
    };
    let mut pos: Map<String, Value> = req
        .get("pos")
        .and_then(|p| B64.decode(p).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .filter(|p| p.get("arn").and_then(Value::as_str) == Some(arn.as_str()))
        .and_then(|p| p.get("shards").and_then(Value::as_object).cloned())
        .unwrap_or_default();
    let shards = match sr::shards(up, &arn).await {
        Ok((s, _)) => s,
        Err(e) => return err(StatusCode::BAD_GATEWAY, e.to_string()),
    };
    let mut records = Vec::new();
    for shard in shards.iter().rev().take(SHARDS) {
        let known = pos.get(&shard.id).cloned().unwrap_or(Value::Null);
        let seq = known.get("seq").and_then(Value::as_str).map(str::to_string);
        let mut it = known.get("it").and_then(Value::as_str).map(str::to_string);
        if known.get("done") == Some(&json!(true)) {
            continue;
        }
        if it.is_none() {
            let from = seq
                .clone()
                .map(From::After)
                .unwrap_or_else(|| start.clone());
            it = sr::iterator(up, &arn, &shard.id, &from).await.ok();
        }
        let Some(iter) = it else { continue };
        let (got, next) = match sr::records(up, &iter, RECORDS).await {
            Ok(r) => r,
            Err(ReadError::Expired) => {
                // Read again from the last record seen, next poll.
                pos.insert(shard.id.clone(), json!({ "seq": seq }));
                continue;
            }
            Err(e) => return err(StatusCode::BAD_GATEWAY, e.to_string()),
        };
        let last = got
            .iter()
            .rev()
            .find_map(sr::sequence_number)
            .map(str::to_string)
            .or(seq);
        records.extend(got);
        pos.insert(
            shard.id.clone(),
            json!({ "it": next, "seq": last, "done": next.is_none() }),
        );
    }
    let pos =
        B64.encode(serde_json::to_vec(&json!({ "arn": arn, "shards": pos })).unwrap_or_default());
    page::json(StatusCode::OK, &json!({ "records": records, "pos": pos }))
}
