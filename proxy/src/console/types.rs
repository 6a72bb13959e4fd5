//! Plain JSON ↔ DynamoDB JSON for the item editor. Plain JSON infers types: string → S,
//! number → N (its text kept), true/false → BOOL, null → NULL, array → L, object → M.
//! The way back is lossy for what plain JSON has no type for (B becomes its base64
//! string, sets become arrays); the editor says so and offers DynamoDB JSON for those.

use serde_json::{Map, Value};

/// A plain JSON object as a DynamoDB item (attribute map).
pub fn to_dynamo_item(plain: &Value) -> Result<Value, String> {
    match plain {
        Value::Object(m) => Ok(Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), to_dynamo(v)))
                .collect::<Map<_, _>>(),
        )),
        _ => Err("an item in plain JSON is an object: {\"name\": value, ...}".into()),
    }
}

/// One plain JSON value as a DynamoDB attribute value.
pub fn to_dynamo(v: &Value) -> Value {
    let one = |t: &str, v: Value| Value::Object(Map::from_iter([(t.to_string(), v)]));
    match v {
        Value::String(s) => one("S", Value::String(s.clone())),
        Value::Number(n) => one("N", Value::String(n.to_string())),
        Value::Bool(b) => one("BOOL", Value::Bool(*b)),
        Value::Null => one("NULL", Value::Bool(true)),
        Value::Array(a) => one("L", Value::Array(a.iter().map(to_dynamo).collect())),
        Value::Object(m) => one(
            "M",
            Value::Object(m.iter().map(|(k, v)| (k.clone(), to_dynamo(v))).collect()),
        ),
    }
}

/// A DynamoDB item as plain JSON.
pub fn to_plain_item(item: &Value) -> Value {
    match item {
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), to_plain(v))).collect())
        }
        other => other.clone(),
    }
}

/// One DynamoDB attribute value as plain JSON.
pub fn to_plain(v: &Value) -> Value {
    let Some((t, inner)) = v.as_object().and_then(|m| m.iter().next()) else {
        return v.clone();
    };
    match t.as_str() {
        "N" => number(inner),
        "NS" => Value::Array(inner.as_array().into_iter().flatten().map(number).collect()),
        "L" => Value::Array(
            inner
                .as_array()
                .into_iter()
                .flatten()
                .map(to_plain)
                .collect(),
        ),
        "M" => to_plain_item(inner),
        "NULL" => Value::Null,
        _ => inner.clone(),
    }
}

/// A number's text as a JSON number when serde_json keeps it exactly, else its text.
fn number(v: &Value) -> Value {
    let Some(text) = v.as_str() else {
        return v.clone();
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Number(n)) if n.to_string() == text => Value::Number(n),
        _ => Value::String(text.to_string()),
    }
}

/// A short one-line rendering of an attribute value for a results table.
pub fn cell(v: &Value) -> String {
    match v
        .as_object()
        .and_then(|m| m.iter().next())
        .map(|(t, inner)| (t.as_str(), inner))
    {
        Some(("S" | "N" | "B", inner)) => inner.as_str().unwrap_or_default().to_string(),
        Some(("BOOL", inner)) => inner.to_string(),
        Some(("NULL", _)) => "null".into(),
        _ => to_plain(v).to_string(),
    }
}

/// The `Items` of a Query, Scan or ExecuteStatement reply.
pub fn items_of(reply: &Value) -> Vec<&Value> {
    reply
        .get("Items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect()
}

/// Result columns: `first` (the key), then the items' other attribute names in
/// first-seen order, at most `max` in all.
pub fn columns<'a>(
    first: Vec<String>,
    items: impl IntoIterator<Item = &'a Value>,
    max: usize,
) -> Vec<String> {
    let mut cols = first;
    for it in items {
        for k in it.as_object().into_iter().flat_map(Map::keys) {
            if cols.len() < max && !cols.contains(k) {
                cols.push(k.clone());
            }
        }
    }
    cols
}

/// A results table's opening and header row.
pub fn table_head(id: &str, cols: &[String], extra: &str) -> String {
    let th: String = cols
        .iter()
        .map(|c| format!("<th>{}</th>", super::page::esc(c)))
        .collect();
    format!("<table class=\"grid\" id=\"{id}\"><thead><tr>{th}{extra}</tr></thead><tbody>")
}

/// One item's cells under `cols`.
pub fn row_cells(item: &Value, cols: &[String]) -> String {
    cols.iter()
        .map(|c| {
            format!(
                "<td>{}</td>",
                super::page::esc(&item.get(c).map(cell).unwrap_or_default())
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_round_trips_what_it_can_type() {
        let plain = json!({"pk":"a","n":12.5,"ok":true,"none":null,"l":[1,"x"],"m":{"k":false}});
        let dynamo = to_dynamo_item(&plain).unwrap();
        assert_eq!(dynamo["n"], json!({"N":"12.5"}));
        assert_eq!(dynamo["none"], json!({"NULL":true}));
        assert_eq!(dynamo["l"], json!({"L":[{"N":"1"},{"S":"x"}]}));
        assert_eq!(to_plain_item(&dynamo), plain);
        assert!(to_dynamo_item(&json!([1])).is_err());
        // A number serde_json cannot keep exactly stays text.
        assert_eq!(
            to_plain(&json!({"N":"1.00000000000000000000001"})),
            json!("1.00000000000000000000001")
        );
        assert_eq!(cell(&json!({"S":"x"})), "x");
        assert_eq!(cell(&json!({"SS":["a"]})), "[\"a\"]");
    }
}
