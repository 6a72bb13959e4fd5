//! `daxlite mcp` as an AI coding tool drives it: a real `daxlite` server on a free port,
//! `daxlite mcp --endpoint ...` spawned with piped stdio, and newline-delimited JSON-RPC
//! 2.0 written and read as an MCP client does (initialize, notifications/initialized,
//! tools/list, tools/call), with and without `--allow-writes`.

#![allow(clippy::unwrap_used)] // test helpers: a failed call is a failed test

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{json, Value};

/// A daxlite server (in memory, a free port) killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn server() -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_daxlite"))
        .args(["--in-memory", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn daxlite");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("banner");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in the banner {line:?}"))
        .to_string();
    Server { child, url }
}

/// An Authorization header of SigV4's shape (the server checks shape, not signatures).
const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000";

/// One DynamoDB JSON call over a plain HTTP/1.1 connection.
fn dynamodb(url: &str, op: &str, body: &Value) -> Value {
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let body = body.to_string();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.{op}\r\nAuthorization: {AUTH}\r\nX-Amz-Date: 20240101T000000Z\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{op}: {answer}");
    serde_json::from_str(body).unwrap()
}

/// A running `daxlite mcp` and its pipes.
struct Mcp {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
}

impl Drop for Mcp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Mcp {
    fn start(endpoint: &str, extra: &[&str]) -> Mcp {
        let mut child = Command::new(env!("CARGO_BIN_EXE_daxlite"))
            .args(["mcp", "--endpoint", endpoint])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn daxlite mcp");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut mcp = Mcp {
            child,
            stdin,
            stdout,
            next_id: 0,
        };
        let init = mcp.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "test", "version": "1"}}),
        );
        assert_eq!(init["result"]["protocolVersion"], "2025-06-18", "{init}");
        assert_eq!(init["result"]["serverInfo"]["name"], "daxlite");
        assert!(
            init["result"]["capabilities"]["tools"].is_object(),
            "{init}"
        );
        mcp.send_line(
            &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string(),
        );
        mcp
    }

    fn send_line(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn read(&mut self) -> Value {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("read a line");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"))
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send_line(
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string(),
        );
        let answer = self.read();
        assert_eq!(answer["id"], id, "{answer}");
        assert_eq!(answer["jsonrpc"], "2.0");
        answer
    }

    /// A tools/call: (isError, the text content parsed as JSON when it is JSON).
    fn call(&mut self, tool: &str, arguments: Value) -> (bool, Value) {
        let a = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        let result = &a["result"];
        assert!(result.is_object(), "{tool}: {a}");
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        let value = serde_json::from_str(text).unwrap_or_else(|_| json!(text));
        (result["isError"] == json!(true), value)
    }
}

fn names(list: &Value) -> Vec<String> {
    list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

fn seed(url: &str) {
    dynamodb(
        url,
        "CreateTable",
        &json!({
        "TableName": "orders",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "sk", "AttributeType": "N"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                      {"AttributeName": "sk", "KeyType": "RANGE"}],
        "BillingMode": "PAY_PER_REQUEST"}),
    );
    for i in 0..120 {
        dynamodb(
            url,
            "PutItem",
            &json!({"TableName": "orders",
            "Item": {"pk": {"S": "a"}, "sk": {"N": i.to_string()}}}),
        );
    }
}

#[test]
fn mcp_reads_and_with_allow_writes_writes() {
    let server = server();
    seed(&server.url);
    let mut mcp = Mcp::start(&server.url, &["--allow-writes"]);
    let tools = names(&mcp.request("tools/list", json!({})));
    for t in [
        "list_tables",
        "describe_table",
        "get_item",
        "query",
        "scan",
        "execute_partiql",
        "put_item",
        "delete_item",
        "cache_stats",
    ] {
        assert!(tools.contains(&t.to_string()), "{t} missing from {tools:?}");
    }
    let (err, tables) = mcp.call("list_tables", json!({}));
    assert!(!err);
    assert_eq!(tables["TableNames"], json!(["orders"]));
    let (err, d) = mcp.call("describe_table", json!({"TableName": "orders"}));
    assert!(!err);
    assert_eq!(d["Table"]["KeySchema"][0]["AttributeName"], "pk");

    let (err, put) = mcp.call(
        "put_item",
        json!({"TableName": "orders",
        "Item": {"pk": {"S": "b"}, "sk": {"N": "1"}, "note": {"S": "from mcp"}}}),
    );
    assert!(!err, "{put}");
    let (err, got) = mcp.call(
        "get_item",
        json!({"TableName": "orders",
        "Key": {"pk": {"S": "b"}, "sk": {"N": "1"}}}),
    );
    assert!(!err);
    assert_eq!(got["Item"]["note"], json!({"S": "from mcp"}));

    // Limit is bounded: asking for 1000 reads 100, with a LastEvaluatedKey to go on.
    let (err, q) = mcp.call(
        "query",
        json!({"TableName": "orders",
        "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "a"}},
        "Limit": 1000}),
    );
    assert!(!err);
    assert_eq!(q["Count"], 100);
    assert!(
        q["LastEvaluatedKey"].is_object(),
        "{}",
        q["LastEvaluatedKey"]
    );
    let (err, s) = mcp.call("scan", json!({"TableName": "orders"}));
    assert!(!err);
    assert_eq!(s["Count"], 25, "the default page");

    let (err, p) = mcp.call(
        "execute_partiql",
        json!({"Statement": "SELECT * FROM \"orders\" WHERE pk = ? AND sk = ?",
               "Parameters": [{"S": "b"}, {"N": "1"}]}),
    );
    assert!(!err, "{p}");
    assert_eq!(p["Items"][0]["note"], json!({"S": "from mcp"}));

    let (err, gone) = mcp.call(
        "delete_item",
        json!({"TableName": "orders",
        "Key": {"pk": {"S": "b"}, "sk": {"N": "1"}}, "ReturnValues": "ALL_OLD"}),
    );
    assert!(!err);
    assert_eq!(gone["Attributes"]["note"], json!({"S": "from mcp"}));

    // DynamoDB's own error, as the endpoint sent it.
    let (err, missing) = mcp.call(
        "get_item",
        json!({"TableName": "nope", "Key": {"pk": {"S": "a"}}}),
    );
    assert!(err);
    assert_eq!(
        missing["__type"], "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
        "{missing}"
    );
    let (err, why) = mcp.call("get_item", json!({"TableName": "orders"}));
    assert!(err);
    assert!(why.as_str().unwrap().contains("Key"), "{why}");

    let (err, stats) = mcp.call("cache_stats", json!({}));
    assert!(!err, "{stats}");
    let metrics = stats["metrics"].as_array().unwrap();
    assert!(
        metrics
            .iter()
            .any(|m| m.as_str().unwrap().starts_with("daxlite_")),
        "{stats}"
    );

    // Protocol errors.
    let a = mcp.request(
        "tools/call",
        json!({"name": "drop_everything", "arguments": {}}),
    );
    assert_eq!(a["error"]["code"], -32602, "{a}");
    let a = mcp.request("resources/list", json!({}));
    assert_eq!(a["error"]["code"], -32601, "{a}");
    mcp.send_line("{not json");
    assert_eq!(mcp.read()["error"]["code"], -32700);
    assert_eq!(mcp.request("ping", json!({}))["result"], json!({}));
}

#[test]
fn mcp_without_allow_writes_only_reads() {
    let server = server();
    seed(&server.url);
    let mut mcp = Mcp::start(&server.url, &[]);
    let tools = names(&mcp.request("tools/list", json!({})));
    assert!(!tools.contains(&"put_item".to_string()), "{tools:?}");
    assert!(!tools.contains(&"delete_item".to_string()), "{tools:?}");
    let a = mcp.request(
        "tools/call",
        json!({"name": "put_item",
        "arguments": {"TableName": "orders", "Item": {"pk": {"S": "x"}, "sk": {"N": "1"}}}}),
    );
    assert!(
        a["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--allow-writes"),
        "{a}"
    );
    let (err, why) = mcp.call(
        "execute_partiql",
        json!({"Statement": "DELETE FROM \"orders\" WHERE pk = 'a' AND sk = 1"}),
    );
    assert!(err);
    assert!(why.as_str().unwrap().contains("SELECT"), "{why}");
    let count = dynamodb(
        &server.url,
        "Scan",
        &json!({"TableName": "orders", "Select": "COUNT"}),
    );
    assert_eq!(count["Count"], 120, "nothing was written or deleted");
}
