//! `daxlite mcp [--endpoint URL] [--allow-writes] [--admin URL]`: a Model Context Protocol
//! server on stdio, so AI coding tools can inspect a local database. MCP over stdio is
//! JSON-RPC 2.0, one message per line: this module answers `initialize`, `ping`,
//! `tools/list` and `tools/call` (and takes `notifications/*` silently); the tools are in
//! [`tools`]. It is a client of a running daxlite (or any DynamoDB-compatible endpoint
//! without SigV4) over plain HTTP DynamoDB JSON, through [`crate::local_http`].
//!
//! Hand-written on serde_json rather than the `rmcp` crate: the protocol needed here is
//! four methods, and `rmcp` brings its own schema, macro and transport stack into the
//! server binary for them.

mod tools;

use std::io::{BufRead, Write};
use std::time::Duration;

use clap::Args;
use serde_json::{json, Value};

use crate::local_http::LocalHttp;

/// The protocol revisions understood; a client asking for another gets the newest.
const PROTOCOL_VERSIONS: [&str; 3] = ["2025-06-18", "2025-03-26", "2024-11-05"];

/// JSON-RPC error codes.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;

#[derive(Debug, Args)]
pub struct McpArgs {
    /// The DynamoDB endpoint to inspect (plain http).
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    endpoint: String,
    /// Offer put_item and delete_item, and PartiQL statements other than SELECT.
    #[arg(long)]
    allow_writes: bool,
    /// The admin listener (`[admin] listen`), for cache_stats' `/stats`.
    #[arg(long)]
    admin: Option<String>,
}

/// What the tools reach.
pub struct Context {
    pub endpoint: LocalHttp,
    pub admin: Option<LocalHttp>,
    pub allow_writes: bool,
}

/// Serves MCP on stdin/stdout until stdin closes: one line read (blocking), answered on
/// `runtime`, written and flushed, then the next.
pub fn run(args: McpArgs, runtime: &tokio::runtime::Runtime) -> std::process::ExitCode {
    let timeout = Duration::from_secs(30);
    let admin = match args.admin.as_deref().map(|a| LocalHttp::new(a, timeout)) {
        Some(Err(e)) => return fail(&e),
        Some(Ok(a)) => Some(a),
        None => None,
    };
    let ctx = match LocalHttp::new(&args.endpoint, timeout) {
        Ok(endpoint) => Context {
            endpoint,
            admin,
            allow_writes: args.allow_writes,
        },
        Err(e) => return fail(&e),
    };
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
        let line = match line {
            Ok(l) => l,
            Err(e) => return fail(&format!("reading stdin: {e}")),
        };
        if line.trim().is_empty() {
            continue;
        }
        if let Some(answer) = runtime.block_on(handle_line(&ctx, &line)) {
            if writeln!(out, "{answer}").is_err() || out.flush().is_err() {
                return std::process::ExitCode::from(1);
            }
        }
    }
    std::process::ExitCode::SUCCESS
}

fn fail(message: &str) -> std::process::ExitCode {
    eprintln!("daxlite mcp: {message}");
    std::process::ExitCode::from(2)
}

/// The answer to one line (none for a notification or a batch of notifications).
pub async fn handle_line(ctx: &Context, line: &str) -> Option<Value> {
    let message: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => {
            return Some(error(
                Value::Null,
                PARSE_ERROR,
                &format!("parse error: {e}"),
            ))
        }
    };
    match message {
        Value::Array(batch) if !batch.is_empty() => {
            let mut answers = Vec::new();
            for m in batch {
                if let Some(a) = handle_message(ctx, m).await {
                    answers.push(a);
                }
            }
            (!answers.is_empty()).then_some(Value::Array(answers))
        }
        other => handle_message(ctx, other).await,
    }
}

async fn handle_message(ctx: &Context, message: Value) -> Option<Value> {
    let id = message.get("id").cloned();
    let method = message.get("method").and_then(Value::as_str);
    let (Some(method), true) = (method, message.get("jsonrpc") == Some(&json!("2.0"))) else {
        // an answer to a request of ours (we send none) or not JSON-RPC at all
        if message.get("result").is_some() || message.get("error").is_some() {
            return None;
        }
        return Some(error(
            id.unwrap_or(Value::Null),
            INVALID_REQUEST,
            "not a JSON-RPC 2.0 request",
        ));
    };
    let id = id?; // a notification: nothing to answer
    let params = message.get("params").cloned().unwrap_or(json!({}));
    let result = match method {
        "initialize" => Ok(initialize(&params)),
        "ping" => Ok(json!({})),
        "tools/list" => Ok(json!({ "tools": tools::list(ctx.allow_writes) })),
        "tools/call" => {
            let name = params.get("name").and_then(Value::as_str);
            let arguments = params.get("arguments").cloned().unwrap_or(json!({}));
            match name {
                Some(name) => tools::call(ctx, name, arguments)
                    .await
                    .map_err(|m| (INVALID_PARAMS, m)),
                None => Err((INVALID_PARAMS, "tools/call needs params.name".to_string())),
            }
        }
        other => Err((METHOD_NOT_FOUND, format!("method not found: {other}"))),
    };
    Some(match result {
        Ok(r) => json!({ "jsonrpc": "2.0", "id": id, "result": r }),
        Err((code, m)) => error(id, code, &m),
    })
}

fn initialize(params: &Value) -> Value {
    let asked = params.get("protocolVersion").and_then(Value::as_str);
    let version = asked
        .filter(|v| PROTOCOL_VERSIONS.contains(v))
        .unwrap_or(PROTOCOL_VERSIONS[0]);
    json!({
        "protocolVersion": version,
        "capabilities": { "tools": { "listChanged": false } },
        "serverInfo": { "name": "daxlite", "version": env!("CARGO_PKG_VERSION") },
        "instructions": "Tools over a DynamoDB endpoint (daxlite). Arguments are DynamoDB JSON request fields (Key and ExpressionAttributeValues as typed attribute values, e.g. {\"pk\":{\"S\":\"a\"}})."
    })
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}
