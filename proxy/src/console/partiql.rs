//! The PartiQL editor: one statement, sent as ExecuteStatement (with Limit and the
//! NextToken of the previous page), its items shown as a table and as JSON.

use std::fmt::Write;

use daxlite_engine::wire::Operation;
use http::StatusCode;
use serde_json::{json, Value};

use super::ddb;
use super::page::{self, esc, HttpResponse};
use super::types;
use super::Req;
use crate::upstream::Upstream;

/// The page size asked for SELECTs.
const LIMIT: u64 = 25;

fn form(statement: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/console/partiql\" id=\"partiql\">\
<label for=\"statement\">Statement</label>\
<textarea id=\"statement\" name=\"statement\" rows=\"5\" spellcheck=\"false\" placeholder='SELECT * FROM \"table\" WHERE pk = &#39;a&#39;'>{}</textarea>\
<p class=\"hint\">Ctrl+Enter runs it. Pages of {LIMIT} items.</p>\
<button type=\"submit\" id=\"execute\">Execute</button></form>",
        esc(statement)
    )
}

pub async fn page<U: Upstream>(_up: &U, req: &Req) -> HttpResponse {
    let body = form(req.get("statement").unwrap_or_default());
    page::html(
        StatusCode::OK,
        page::layout("PartiQL", "/console/partiql", &body),
    )
}

pub async fn run<U: Upstream>(up: &U, req: &Req) -> HttpResponse {
    let statement = req.get("statement").unwrap_or_default();
    let mut body = form(statement);
    let mut ask = json!({ "Statement": statement });
    if statement
        .trim_start()
        .to_ascii_uppercase()
        .starts_with("SELECT")
    {
        ask["Limit"] = json!(LIMIT);
    }
    if let Some(next) = req.get("next") {
        ask["NextToken"] = json!(next);
    }
    let status = match ddb::call(up, Operation::ExecuteStatement, &ask).await {
        Err(e) => {
            body.push_str(&e.html());
            StatusCode::BAD_REQUEST
        }
        Ok(reply) => {
            let items = types::items_of(&reply);
            let cols = types::columns(Vec::new(), items.iter().copied(), 10);
            let _ = write!(
                body,
                "<p class=\"summary\"><strong id=\"count\">{}</strong> items</p>{}",
                items.len(),
                types::table_head("results", &cols, "")
            );
            for it in &items {
                let _ = write!(body, "<tr>{}</tr>", types::row_cells(it, &cols));
            }
            body.push_str("</tbody></table>");
            if let Some(next) = reply.get("NextToken").and_then(Value::as_str) {
                let _ = write!(
                    body,
                    "<form method=\"post\" action=\"/console/partiql\"><input type=\"hidden\" name=\"statement\" value=\"{}\">\
<input type=\"hidden\" name=\"next\" value=\"{}\"><button type=\"submit\">Next page →</button></form>",
                    esc(statement),
                    esc(next)
                );
            }
            let _ = write!(
                body,
                "<details><summary>Reply JSON</summary>{}</details>",
                page::pre_json(&reply)
            );
            StatusCode::OK
        }
    };
    page::html(status, page::layout("PartiQL", "/console/partiql", &body))
}
