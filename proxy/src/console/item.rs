//! One item: view and edit it as DynamoDB JSON or as plain JSON (types inferred), create
//! one, delete one (confirmed). Saving is a PutItem through the upstream, so the API's
//! validation applies and its errors are shown exactly as it returned them.

use daxlite_engine::wire::Operation;
use http::StatusCode;
use serde_json::{json, Map, Value};

use super::ddb::{self, DdbError};
use super::page::{self, enc, esc, HttpResponse};
use super::types;
use super::Req;
use crate::upstream::Upstream;

fn plain(req: &Req) -> bool {
    req.get("format") == Some("plain")
}

/// A new item's template: its key attributes, typed.
fn template(desc: &Value) -> Value {
    let (hash, range) = ddb::key_names(desc);
    let mut m = Map::new();
    for k in std::iter::once(hash).chain(range) {
        let t = ddb::attr_type(desc, &k).to_string();
        m.insert(k, json!({ t: "" }));
    }
    Value::Object(m)
}

pub async fn view<U: Upstream>(up: &U, table: &str, req: &Req) -> HttpResponse {
    let desc = match ddb::describe(up, table).await {
        Ok(d) => d,
        Err(e) => return super::tables::failed(table, &e),
    };
    let key = req
        .get("key")
        .and_then(|k| serde_json::from_str::<Value>(k).ok());
    let (item, title) = match &key {
        None => (template(&desc), format!("{table}: new item")),
        Some(k) => {
            let got = ddb::call(
                up,
                Operation::GetItem,
                &json!({ "TableName": table, "Key": k }),
            )
            .await;
            match got {
                Err(e) => return super::tables::failed(table, &e),
                Ok(r) => match r.get("Item") {
                    Some(i) => (i.clone(), format!("{table}: item")),
                    None => {
                        let body = format!(
                            "{}<p><a href=\"/console/tables/{}/items\">Items</a></p>",
                            page::notice("No item has this key."),
                            enc(table)
                        );
                        return page::html(
                            StatusCode::NOT_FOUND,
                            page::layout(table, "/console/tables", &body),
                        );
                    }
                },
            }
        }
    };
    let shown = if plain(req) {
        types::to_plain_item(&item)
    } else {
        item.clone()
    };
    let text = serde_json::to_string_pretty(&shown).unwrap_or_default();
    let note = if req.get("saved").is_some() {
        page::notice("Saved.")
    } else {
        String::new()
    };
    let body = format!("{note}{}", editor(table, req, &text, key.as_ref(), None));
    page::html(
        StatusCode::OK,
        page::layout(&title, "/console/tables", &body),
    )
}

/// The editor form (and the delete form for an existing item).
fn editor(
    table: &str,
    req: &Req,
    text: &str,
    key: Option<&Value>,
    error: Option<&DdbError>,
) -> String {
    let t = enc(table);
    let key_json = key.map(|k| serde_json::to_string(k).unwrap_or_default());
    let key_q = key_json
        .as_deref()
        .map(|k| format!("key={}&", enc(k)))
        .unwrap_or_default();
    let is_plain = plain(req);
    let other = if is_plain { "dynamo" } else { "plain" };
    let error = error.map(DdbError::html).unwrap_or_default();
    let delete = match &key_json {
        Some(k) => format!(
            "<form method=\"post\" action=\"/console/tables/{t}/item/delete\" data-confirm=\"Delete this item?\" class=\"inline\">\
<input type=\"hidden\" name=\"key\" value=\"{}\"><label><input type=\"checkbox\" name=\"confirm\" value=\"yes\" required> confirm</label> \
<button type=\"submit\" class=\"danger\">Delete item</button></form>",
            esc(k)
        ),
        None => String::new(),
    };
    format!(
        "{error}<p class=\"actions\"><a href=\"/console/tables/{t}/items\">Items</a> · \
<a href=\"/console/tables/{t}/item?{key_q}format={other}\">Show as {other_label}</a></p>\
<form method=\"post\" action=\"/console/tables/{t}/item\" id=\"item-form\">\
<input type=\"hidden\" name=\"format\" value=\"{fmt}\">\
<label for=\"item\">Item as {label}</label>\
<textarea id=\"item\" name=\"item\" rows=\"18\" spellcheck=\"false\">{text}</textarea>\
<p class=\"hint\">{hint}</p><button type=\"submit\" id=\"save\">Save (PutItem)</button></form>{delete}",
        other_label = if is_plain { "DynamoDB JSON" } else { "plain JSON" },
        fmt = if is_plain { "plain" } else { "dynamo" },
        label = if is_plain { "plain JSON (types inferred)" } else { "DynamoDB JSON" },
        text = esc(text),
        hint = if is_plain {
            "string → S, number → N, true/false → BOOL, null → NULL, array → L, object → M. Binary and sets have no plain form: edit those as DynamoDB JSON."
        } else {
            "Saving replaces the whole item. A changed key saves a new item (the old one stays)."
        },
    )
}

pub async fn save<U: Upstream>(up: &U, table: &str, req: &Req) -> HttpResponse {
    let text = req.form.get("item").cloned().unwrap_or_default();
    let parsed = serde_json::from_str::<Value>(&text).map_err(|e| format!("not JSON: {e}"));
    let item = parsed.and_then(|v| {
        if plain(req) {
            types::to_dynamo_item(&v)
        } else {
            Ok(v)
        }
    });
    let item = match item {
        Ok(i) => i,
        Err(m) => {
            let body = format!(
                "{}{}",
                page::notice(&m),
                editor(table, req, &text, None, None)
            );
            return page::html(
                StatusCode::BAD_REQUEST,
                page::layout(table, "/console/tables", &body),
            );
        }
    };
    let put = json!({ "TableName": table, "Item": item });
    match ddb::call(up, Operation::PutItem, &put).await {
        Ok(_) => {
            let desc = ddb::describe(up, table).await.unwrap_or(Value::Null);
            let key = serde_json::to_string(&ddb::key_of(&desc, &item)).unwrap_or_default();
            let fmt = if plain(req) { "&format=plain" } else { "" };
            page::redirect(&format!(
                "/console/tables/{}/item?key={}&saved=1{fmt}",
                enc(table),
                enc(&key)
            ))
        }
        Err(e) => {
            let body = editor(table, req, &text, None, Some(&e));
            page::html(
                StatusCode::BAD_REQUEST,
                page::layout(table, "/console/tables", &body),
            )
        }
    }
}

pub async fn delete<U: Upstream>(up: &U, table: &str, req: &Req) -> HttpResponse {
    let key = req
        .get("key")
        .and_then(|k| serde_json::from_str::<Value>(k).ok());
    let (Some(key), Some("yes")) = (key, req.get("confirm")) else {
        let body = page::notice("Not deleted: tick confirm to delete the item.");
        return page::html(
            StatusCode::BAD_REQUEST,
            page::layout(table, "/console/tables", &body),
        );
    };
    match ddb::call(
        up,
        Operation::DeleteItem,
        &json!({ "TableName": table, "Key": key }),
    )
    .await
    {
        Ok(_) => page::redirect(&format!("/console/tables/{}/items", enc(table))),
        Err(e) => super::tables::failed(table, &e),
    }
}
