//! The Tables page (a page of tables with status, item count, size, billing mode,
//! indexes, stream and TTL state; the create form below), a table's detail page with its
//! DescribeTable JSON, and deletion behind a typed confirmation.

use std::fmt::Write;

use daxlite_engine::wire::Operation;
use http::StatusCode;
use serde_json::{json, Value};

use super::ddb::{self, DdbError};
use super::page::{self, enc, esc, HttpResponse};
use super::Req;
use crate::upstream::Upstream;

/// Tables per page of the list (each costs a DescribeTable and a DescribeTimeToLive).
const PAGE: u64 = 25;

pub async fn list<U: Upstream>(up: &U, req: &Req) -> HttpResponse {
    let mut body = String::new();
    if let Some(t) = req.get("deleted") {
        body.push_str(&page::notice(&format!("Table {t} is being deleted.")));
    }
    let mut ask = json!({ "Limit": PAGE });
    if let Some(after) = req.get("after") {
        ask["ExclusiveStartTableName"] = json!(after);
    }
    match ddb::call(up, Operation::ListTables, &ask).await {
        Err(e) => body.push_str(&e.html()),
        Ok(listed) => {
            let names: Vec<&str> = listed
                .get("TableNames")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            body.push_str(
                "<table class=\"grid\" id=\"tables\"><thead><tr><th>Name</th><th>Status</th>\
<th class=\"num\">Items</th><th class=\"num\">Size</th><th>Billing</th><th>Indexes</th>\
<th>Stream</th><th>TTL</th><th>Actions</th></tr></thead><tbody>",
            );
            for name in &names {
                body.push_str(&row(up, name).await);
            }
            if names.is_empty() {
                body.push_str("<tr><td colspan=\"9\">No tables yet: create one below.</td></tr>");
            }
            body.push_str("</tbody></table>");
            if let Some(last) = listed.get("LastEvaluatedTableName").and_then(Value::as_str) {
                let _ = write!(
                    body,
                    "<p><a href=\"/console/tables?after={}\" rel=\"next\">Next tables →</a></p>",
                    enc(last)
                );
            }
        }
    }
    body.push_str(&super::create::form());
    page::html(
        StatusCode::OK,
        page::layout("Tables", "/console/tables", &body),
    )
}

/// One row of the list.
async fn row<U: Upstream>(up: &U, name: &str) -> String {
    let href = format!("/console/tables/{}", enc(name));
    let d = match ddb::describe(up, name).await {
        Ok(d) => d,
        Err(e) => {
            return format!(
                "<tr><td><a href=\"{href}\">{}</a></td><td colspan=\"8\">{}</td></tr>",
                esc(name),
                e.html()
            )
        }
    };
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let billing = d
        .pointer("/BillingModeSummary/BillingMode")
        .map(s)
        .unwrap_or_else(|| "PROVISIONED".into());
    let count = |k: &str| d.get(k).and_then(Value::as_array).map_or(0, Vec::len);
    let indexes = format!(
        "{} GSI · {} LSI",
        count("GlobalSecondaryIndexes"),
        count("LocalSecondaryIndexes")
    );
    let stream = if d.pointer("/StreamSpecification/StreamEnabled") == Some(&json!(true)) {
        d.pointer("/StreamSpecification/StreamViewType")
            .map(s)
            .unwrap_or_default()
    } else {
        "off".into()
    };
    let ttl = match ddb::call(
        up,
        Operation::DescribeTimeToLive,
        &json!({ "TableName": name }),
    )
    .await
    {
        Ok(t) => {
            let status = t
                .pointer("/TimeToLiveDescription/TimeToLiveStatus")
                .map(s)
                .unwrap_or_default();
            match t.pointer("/TimeToLiveDescription/AttributeName").map(s) {
                Some(a) if !a.is_empty() => format!("{status} ({a})"),
                _ => status,
            }
        }
        Err(e) => e.short().to_string(),
    };
    let num = |k: &str| d.get(k).and_then(Value::as_u64).unwrap_or(0);
    format!(
        "<tr data-table=\"{n}\"><td><a href=\"{href}\">{n}</a></td><td>{status}</td><td class=\"num\">{items}</td>\
<td class=\"num\">{size}</td><td>{billing}</td><td>{indexes}</td><td>{stream}</td><td>{ttl}</td>\
<td><a href=\"{href}/items\">Items</a> · <a href=\"{href}/items?mode=query\">Query</a> · <a href=\"{href}#delete\">Delete</a></td></tr>",
        n = esc(name),
        status = esc(&d.get("TableStatus").map(s).unwrap_or_default()),
        items = num("ItemCount"),
        size = bytes(num("TableSizeBytes")),
        billing = esc(&billing),
        stream = esc(&stream),
        ttl = esc(&ttl),
    )
}

/// Bytes for people.
pub fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

pub async fn detail<U: Upstream>(up: &U, table: &str) -> HttpResponse {
    let d = match ddb::describe(up, table).await {
        Ok(d) => d,
        Err(e) => return failed(table, &e),
    };
    let href = format!("/console/tables/{}", enc(table));
    let ttl = ddb::call(
        up,
        Operation::DescribeTimeToLive,
        &json!({ "TableName": table }),
    )
    .await
    .unwrap_or(Value::Null);
    let body = format!(
        "<p class=\"actions\"><a href=\"{href}/items\">Browse items</a> · <a href=\"{href}/items?mode=query\">Query</a> · \
<a href=\"{href}/items?mode=scan\">Scan</a> · <a href=\"{href}/item\">New item</a> · <a href=\"{href}/stream\">Stream</a> · \
<a href=\"/console/partiql?statement={stmt}\">PartiQL</a></p>\
<h2>DescribeTable</h2>{desc}<h2>DescribeTimeToLive</h2>{ttl}\
<h2 id=\"delete\">Delete</h2><form method=\"post\" action=\"{href}/delete\" data-confirm=\"Delete table {name} and all its items?\">\
<label>Type the table's name to confirm <input name=\"confirm\" autocomplete=\"off\" required></label> \
<button type=\"submit\" class=\"danger\">Delete table</button></form>",
        stmt = enc(&format!("SELECT * FROM \"{table}\"")),
        desc = page::pre_json(&d),
        ttl = page::pre_json(&ttl),
        name = esc(table),
    );
    page::html(
        StatusCode::OK,
        page::layout(table, "/console/tables", &body),
    )
}

pub async fn delete<U: Upstream>(up: &U, table: &str, req: &Req) -> HttpResponse {
    if req.get("confirm") != Some(table) {
        let body = format!(
            "{}<p><a href=\"/console/tables/{}#delete\">Back</a></p>",
            page::notice("Not deleted: the confirmation did not match the table's name."),
            enc(table)
        );
        return page::html(
            StatusCode::BAD_REQUEST,
            page::layout(table, "/console/tables", &body),
        );
    }
    match ddb::call(up, Operation::DeleteTable, &json!({ "TableName": table })).await {
        Ok(_) => page::redirect(&format!("/console/tables?deleted={}", enc(table))),
        Err(e) => failed(table, &e),
    }
}

/// A page that shows DynamoDB's error for `table`.
pub fn failed(table: &str, e: &DdbError) -> HttpResponse {
    let status = if e.short() == "ResourceNotFoundException" {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::BAD_REQUEST
    };
    let body = format!(
        "{}<p><a href=\"/console/tables\">All tables</a></p>",
        e.html()
    );
    page::html(status, page::layout(table, "/console/tables", &body))
}
