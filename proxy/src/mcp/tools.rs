//! The MCP tools: each is one DynamoDB operation whose arguments are the operation's own
//! request fields in DynamoDB JSON (so the tool schema is the API reference's), answered
//! with the endpoint's JSON reply as text. A DynamoDB error (4xx/5xx) is a tool result
//! with `isError` and the `__type` and message as the endpoint sent them. `query` and
//! `scan` are bounded (`Limit` at most [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when absent);
//! writes (`put_item`, `delete_item`, PartiQL other than SELECT) only with
//! `--allow-writes`. `cache_stats` reads the `/metrics` cache series (and the admin
//! listener's `/stats` when `--admin` is given).

use serde_json::{json, Map, Value};

use super::Context;

/// The most items one query or scan call reads.
pub const MAX_LIMIT: u64 = 100;
/// The page size when the caller names none.
pub const DEFAULT_LIMIT: u64 = 25;

struct Tool {
    name: &'static str,
    operation: &'static str,
    description: &'static str,
    required: &'static [&'static str],
    write: bool,
}

const TOOLS: &[Tool] = &[
    Tool { name: "list_tables", operation: "ListTables", description: "ListTables: the table names (optional Limit, ExclusiveStartTableName).", required: &[], write: false },
    Tool { name: "describe_table", operation: "DescribeTable", description: "DescribeTable: key schema, indexes, item count, stream settings of TableName.", required: &["TableName"], write: false },
    Tool { name: "get_item", operation: "GetItem", description: "GetItem: one item by its Key (DynamoDB JSON, e.g. {\"pk\":{\"S\":\"a\"}}); optional ConsistentRead, ProjectionExpression, ExpressionAttributeNames.", required: &["TableName", "Key"], write: false },
    Tool { name: "query", operation: "Query", description: "Query: items of one partition by KeyConditionExpression with ExpressionAttributeValues (DynamoDB JSON); optional IndexName, FilterExpression, ScanIndexForward, ExclusiveStartKey. Limit is capped at 100 (25 when absent); follow LastEvaluatedKey for more.", required: &["TableName", "KeyConditionExpression"], write: false },
    Tool { name: "scan", operation: "Scan", description: "Scan: items of a table or index; optional FilterExpression, ExpressionAttributeValues, ExclusiveStartKey. Limit is capped at 100 (25 when absent); follow LastEvaluatedKey for more.", required: &["TableName"], write: false },
    Tool { name: "execute_partiql", operation: "ExecuteStatement", description: "ExecuteStatement: one PartiQL Statement with optional Parameters (DynamoDB JSON). Only SELECT unless the server runs with --allow-writes.", required: &["Statement"], write: false },
    Tool { name: "put_item", operation: "PutItem", description: "PutItem: writes Item (DynamoDB JSON) into TableName; optional ConditionExpression.", required: &["TableName", "Item"], write: true },
    Tool { name: "delete_item", operation: "DeleteItem", description: "DeleteItem: deletes the item at Key; optional ConditionExpression.", required: &["TableName", "Key"], write: true },
    Tool { name: "cache_stats", operation: "", description: "The cache's statistics: hits, misses, bytes, evictions and invalidations from /metrics (and the admin listener's /stats when daxlite mcp runs with --admin).", required: &[], write: false },
];

/// The `tools/list` entries (the write tools only with `allow_writes`).
pub fn list(allow_writes: bool) -> Vec<Value> {
    TOOLS
        .iter()
        .filter(|t| allow_writes || !t.write)
        .map(|t| {
            let properties: Map<String, Value> = t
                .required
                .iter()
                .map(|r| {
                    let ty = match *r {
                        "Key" | "Item" => "object",
                        _ => "string",
                    };
                    (r.to_string(), json!({ "type": ty }))
                })
                .collect();
            json!({
                "name": t.name,
                "description": t.description,
                "inputSchema": {
                    "type": "object",
                    "properties": properties,
                    "required": t.required,
                    "additionalProperties": true,
                },
            })
        })
        .collect()
}

/// Runs one tool: `Err` for an unknown tool or arguments that are not an object (a
/// JSON-RPC error), `Ok` with `isError` for everything the tool itself refuses or the
/// endpoint answers with an error.
pub async fn call(ctx: &Context, name: &str, arguments: Value) -> Result<Value, String> {
    let tool = TOOLS
        .iter()
        .find(|t| t.name == name && (ctx.allow_writes || !t.write))
        .ok_or_else(|| match TOOLS.iter().any(|t| t.name == name) {
            true => format!("tool {name} needs `daxlite mcp --allow-writes`"),
            false => format!("unknown tool: {name}"),
        })?;
    let Value::Object(mut args) = arguments else {
        return Err(format!("the arguments of {name} must be an object"));
    };
    if let Some(missing) = tool.required.iter().find(|r| !args.contains_key(**r)) {
        return Ok(refused(&format!("{name} needs the argument {missing}")));
    }
    if tool.name == "cache_stats" {
        return Ok(cache_stats(ctx).await);
    }
    if matches!(tool.name, "query" | "scan") {
        let limit = args
            .get("Limit")
            .and_then(Value::as_u64)
            .unwrap_or(DEFAULT_LIMIT);
        args.insert("Limit".into(), json!(limit.clamp(1, MAX_LIMIT)));
    }
    if tool.name == "execute_partiql" && !ctx.allow_writes {
        let statement = args
            .get("Statement")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !is_select(statement) {
            return Ok(refused(
                "only SELECT statements run without `daxlite mcp --allow-writes`",
            ));
        }
    }
    Ok(
        match ctx
            .endpoint
            .dynamodb(tool.operation, &Value::Object(args))
            .await
        {
            Ok(a) => text_result(&String::from_utf8_lossy(&a.body), a.status >= 400),
            Err(e) => refused(&e),
        },
    )
}

/// Whether a PartiQL statement reads only (its first word is SELECT).
fn is_select(statement: &str) -> bool {
    statement
        .trim_start()
        .split(|c: char| c.is_whitespace() || c == '*')
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("select"))
}

async fn cache_stats(ctx: &Context) -> Value {
    let metrics = match ctx.endpoint.get("/metrics").await {
        Ok(a) if a.status == 200 => a.body,
        Ok(a) => return refused(&format!("/metrics answered {}", a.status)),
        Err(e) => return refused(&e),
    };
    let cache: Vec<&str> = std::str::from_utf8(&metrics)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains("cache"))
        .collect();
    let mut out = json!({ "metrics": cache });
    if let Some(admin) = &ctx.admin {
        out["stats"] = match admin.get("/stats").await {
            Ok(a) => serde_json::from_slice(&a.body)
                .unwrap_or_else(|_| json!(String::from_utf8_lossy(&a.body))),
            Err(e) => json!({ "error": e }),
        };
    }
    text_result(&out.to_string(), false)
}

fn text_result(text: &str, is_error: bool) -> Value {
    json!({ "content": [{ "type": "text", "text": text }], "isError": is_error })
}

fn refused(message: &str) -> Value {
    text_result(message, true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn select_is_recognised() {
        assert!(super::is_select("  select * from t"));
        assert!(super::is_select("SELECT\n\"a\" FROM t"));
        assert!(super::is_select("select*from t"));
        assert!(!super::is_select("INSERT INTO t VALUE {'a':1}"));
        assert!(!super::is_select("selection"));
        assert!(!super::is_select(""));
    }

    #[test]
    fn write_tools_are_listed_only_when_allowed() {
        let names = |w| {
            super::list(w)
                .iter()
                .filter_map(|t| t["name"].as_str().map(String::from))
                .collect::<Vec<_>>()
        };
        assert!(!names(false).contains(&"put_item".to_string()));
        assert!(names(true).contains(&"delete_item".to_string()));
        assert_eq!(names(true).len(), super::TOOLS.len());
    }
}
