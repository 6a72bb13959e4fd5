//! The create-table form and what it sends: CreateTable (key schema, attribute
//! definitions, GSIs and LSIs, billing, streams), then UpdateTimeToLive when a TTL
//! attribute is named. The upstream validates; its errors are shown as it sent them.

use std::collections::BTreeMap;

use daxlite_engine::wire::Operation;
use http::StatusCode;
use serde_json::{json, Value};

use super::ddb;
use super::page::{self, enc, esc, HttpResponse};
use super::Req;
use crate::upstream::Upstream;

/// The form (on the Tables page).
pub fn form() -> String {
    let types = |name: &str| {
        format!(
            "<select name=\"{name}\"><option>S</option><option>N</option><option>B</option></select>"
        )
    };
    format!(
        "<h2 id=\"create\">Create a table</h2>\
<form method=\"post\" action=\"/console/tables\" class=\"stack\" id=\"create-table\">\
<label>Table name <input name=\"name\" required pattern=\"[a-zA-Z0-9_.\\-]{{3,255}}\"></label>\
<fieldset><legend>Key schema</legend>\
<label>Partition key <input name=\"pk\" required></label> {pkt}\
<label>Sort key <input name=\"sk\" placeholder=\"(none)\"></label> {skt}</fieldset>\
<fieldset><legend>Secondary indexes</legend>\
<label>Global (one a line: <code>name pk:S [sk:N] [ALL|KEYS_ONLY]</code>)<textarea name=\"gsi\" rows=\"2\"></textarea></label>\
<label>Local (one a line: <code>name sk:S [ALL|KEYS_ONLY]</code>)<textarea name=\"lsi\" rows=\"2\"></textarea></label></fieldset>\
<fieldset><legend>Capacity, stream, TTL</legend>\
<label>Billing <select name=\"billing\"><option value=\"PAY_PER_REQUEST\">On-demand</option><option value=\"PROVISIONED\">Provisioned</option></select></label>\
<label>RCU <input name=\"rcu\" type=\"number\" min=\"1\" value=\"5\"></label>\
<label>WCU <input name=\"wcu\" type=\"number\" min=\"1\" value=\"5\"></label>\
<label>Stream <select name=\"stream\"><option value=\"\">off</option><option>NEW_IMAGE</option><option>OLD_IMAGE</option>\
<option>NEW_AND_OLD_IMAGES</option><option>KEYS_ONLY</option></select></label>\
<label>TTL attribute <input name=\"ttl\" placeholder=\"(none)\"></label></fieldset>\
<button type=\"submit\">Create table</button></form>",
        pkt = types("pk_type"),
        skt = types("sk_type"),
    )
}

/// `name:T` → (name, T).
fn attr(spec: &str) -> Result<(String, String), String> {
    let (n, t) = spec
        .rsplit_once(':')
        .ok_or_else(|| format!("{spec:?}: write a key attribute as name:S, name:N or name:B"))?;
    Ok((n.to_string(), t.to_ascii_uppercase()))
}

/// One index line → its JSON, adding its key attributes to `defs`.
fn index(
    line: &str,
    local: bool,
    table_pk: &str,
    defs: &mut BTreeMap<String, String>,
) -> Result<Value, String> {
    let mut words: Vec<&str> = line.split_whitespace().collect();
    let projection = match words.last() {
        Some(&("ALL" | "KEYS_ONLY")) => words.pop().unwrap_or("ALL"),
        _ => "ALL",
    };
    let (name, keys) = words
        .split_first()
        .ok_or_else(|| "an index line needs a name".to_string())?;
    let mut schema = Vec::new();
    if local {
        schema.push(json!({ "AttributeName": table_pk, "KeyType": "HASH" }));
    }
    for (i, k) in keys.iter().enumerate() {
        let (n, t) = attr(k)?;
        let kind = if local || i == 1 { "RANGE" } else { "HASH" };
        schema.push(json!({ "AttributeName": n, "KeyType": kind }));
        defs.insert(n, t);
    }
    Ok(
        json!({ "IndexName": name, "KeySchema": schema, "Projection": { "ProjectionType": projection } }),
    )
}

/// The CreateTable request the form describes.
pub fn request(req: &Req) -> Result<Value, String> {
    let name = req.get("name").unwrap_or_default();
    let pk = req.get("pk").unwrap_or_default();
    let mut defs = BTreeMap::new();
    defs.insert(
        pk.to_string(),
        req.get("pk_type").unwrap_or("S").to_string(),
    );
    let mut schema = vec![json!({ "AttributeName": pk, "KeyType": "HASH" })];
    if let Some(sk) = req.get("sk") {
        defs.insert(
            sk.to_string(),
            req.get("sk_type").unwrap_or("S").to_string(),
        );
        schema.push(json!({ "AttributeName": sk, "KeyType": "RANGE" }));
    }
    let provisioned = req.get("billing") == Some("PROVISIONED");
    let throughput = || {
        let n = |k: &str| req.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(5);
        json!({ "ReadCapacityUnits": n("rcu"), "WriteCapacityUnits": n("wcu") })
    };
    let mut gsis = Vec::new();
    for line in req
        .get("gsi")
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let mut g = index(line, false, pk, &mut defs)?;
        if provisioned {
            g["ProvisionedThroughput"] = throughput();
        }
        gsis.push(g);
    }
    let mut lsis = Vec::new();
    for line in req
        .get("lsi")
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        lsis.push(index(line, true, pk, &mut defs)?);
    }
    let defs: Vec<Value> = defs
        .into_iter()
        .map(|(n, t)| json!({ "AttributeName": n, "AttributeType": t }))
        .collect();
    let mut body = json!({
        "TableName": name,
        "KeySchema": schema,
        "AttributeDefinitions": defs,
        "BillingMode": if provisioned { "PROVISIONED" } else { "PAY_PER_REQUEST" },
    });
    if provisioned {
        body["ProvisionedThroughput"] = throughput();
    }
    if !gsis.is_empty() {
        body["GlobalSecondaryIndexes"] = Value::Array(gsis);
    }
    if !lsis.is_empty() {
        body["LocalSecondaryIndexes"] = Value::Array(lsis);
    }
    if let Some(view) = req.get("stream") {
        body["StreamSpecification"] = json!({ "StreamEnabled": true, "StreamViewType": view });
    }
    Ok(body)
}

pub async fn create<U: Upstream>(up: &U, req: &Req) -> HttpResponse {
    let failed = |html: String| {
        let body = format!("{html}{}", form_again(req));
        page::html(
            StatusCode::BAD_REQUEST,
            page::layout("Create a table", "/console/tables", &body),
        )
    };
    let body = match request(req) {
        Ok(b) => b,
        Err(e) => return failed(page::notice(&e)),
    };
    let name = req.get("name").unwrap_or_default();
    if let Err(e) = ddb::call(up, Operation::CreateTable, &body).await {
        return failed(e.html());
    }
    if let Some(attr) = req.get("ttl") {
        let ttl = json!({ "TableName": name, "TimeToLiveSpecification": { "Enabled": true, "AttributeName": attr } });
        if let Err(e) = ddb::call(up, Operation::UpdateTimeToLive, &ttl).await {
            return failed(format!(
                "{}{}",
                page::notice("The table was created, but TTL was not enabled:"),
                e.html()
            ));
        }
    }
    page::redirect(&format!("/console/tables/{}", enc(name)))
}

/// The request as sent, to correct and send again.
fn form_again(req: &Req) -> String {
    let sent = request(req).unwrap_or(Value::Null);
    format!(
        "<h2>What was sent</h2>{}<p><a href=\"/console/tables#create\">Back to the form</a> (table {})</p>",
        page::pre_json(&sent),
        esc(req.get("name").unwrap_or_default())
    )
}
