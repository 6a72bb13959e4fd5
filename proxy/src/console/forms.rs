//! The Query / Scan builder form above an items page: a plain GET form (so every result
//! is a link), pre-filled with the request's own parameters.

use std::fmt::Write;

use serde_json::Value;

use super::ddb;
use super::page::{enc, esc};
use super::Req;

pub fn builder(table: &str, desc: &Value, req: &Req) -> String {
    let v = |k: &str| esc(req.get(k).unwrap_or_default());
    let query = req.get("mode") == Some("query");
    let (hash, range) = ddb::key_names(desc);
    let mut indexes = String::from("<option value=\"\">(table)</option>");
    for kind in ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"] {
        for i in desc
            .get(kind)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = i
                .get("IndexName")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let sel = if req.get("index") == Some(name) {
                " selected"
            } else {
                ""
            };
            let _ = write!(indexes, "<option{sel}>{}</option>", esc(name));
        }
    }
    let ops = ["=", "<", "<=", ">", ">=", "between", "begins_with"]
        .iter()
        .map(|o| {
            let sel = if req.get("sk_op").unwrap_or("=") == *o {
                " selected"
            } else {
                ""
            };
            format!("<option{sel}>{}</option>", esc(o))
        })
        .collect::<String>();
    let checked = |on: bool| if on { " checked" } else { "" };
    let desc_sel = if req.get("order") == Some("desc") {
        " selected"
    } else {
        ""
    };
    format!(
        "<p class=\"actions\"><a href=\"/console/tables/{t}\">Table</a> · <a href=\"/console/tables/{t}/items\">First page</a> · \
<a href=\"/console/tables/{t}/item\">New item</a></p>\
<form method=\"get\" action=\"/console/tables/{t}/items\" class=\"builder\" id=\"builder\">\
<fieldset><legend>Operation</legend>\
<label><input type=\"radio\" name=\"mode\" value=\"scan\"{scan}> Scan</label> \
<label><input type=\"radio\" name=\"mode\" value=\"query\"{query}> Query</label> \
<label>Index <select name=\"index\">{indexes}</select></label> \
<label>Page size <input name=\"limit\" type=\"number\" min=\"1\" max=\"100\" value=\"{limit}\"></label></fieldset>\
<fieldset><legend>Key condition (Query)</legend>\
<label>{hash} = <input name=\"pk\" value=\"{pk}\"></label> \
<label>{range} <select name=\"sk_op\">{ops}</select></label> <input name=\"sk\" aria-label=\"sort key value\" value=\"{sk}\"> \
<input name=\"sk2\" aria-label=\"second value (between)\" placeholder=\"and (between)\" value=\"{sk2}\"> \
<label>Order <select name=\"order\"><option value=\"asc\">ascending</option><option value=\"desc\"{desc_sel}>descending</option></select></label></fieldset>\
<fieldset><legend>Filter and segments</legend>\
<label>Filter expression <input name=\"filter\" size=\"40\" value=\"{filter}\" placeholder=\"#s = :s\"></label> \
<label>Names <input name=\"names\" size=\"24\" value=\"{names}\" placeholder='{{\"#s\":\"status\"}}'></label> \
<label>Values <input name=\"values\" size=\"30\" value=\"{values}\" placeholder='{{\":s\":{{\"S\":\"open\"}}}}'></label> \
<label>Segment <input name=\"segment\" type=\"number\" min=\"0\" value=\"{segment}\"></label> \
<label>of <input name=\"segments\" type=\"number\" min=\"1\" value=\"{segments}\"></label></fieldset>\
<button type=\"submit\" id=\"run\">Run</button></form>",
        t = enc(table),
        scan = checked(!query),
        query = checked(query),
        limit = esc(req.get("limit").unwrap_or("25")),
        hash = esc(&hash),
        range = esc(range.as_deref().unwrap_or("(no sort key)")),
        pk = v("pk"),
        sk = v("sk"),
        sk2 = v("sk2"),
        filter = v("filter"),
        names = v("names"),
        values = v("values"),
        segment = v("segment"),
        segments = v("segments"),
    )
}
