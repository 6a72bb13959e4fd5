//! The policy simulator on the admin listener (`POST /simulate`, behind `[admin] token`):
//! identity-based allow / explicit deny / implicit deny with the statement that decided,
//! a condition answered from the given context, a resource-based policy read from the
//! table (as the request path reads it), and bad questions refused with 400.

use daxlite_tests::identities::{client_with, config_with_identities};
use daxlite_tests::{client_for, create_pk_table, raw_at, Mode, TestServer};
use serde_json::{json, Value};

const ALICE: &str = "arn:aws:iam::000000000000:user/alice";
const BOB: &str = "arn:aws:iam::000000000000:user/bob";
const TOKEN: &str = "sim-token";

fn arn(t: &str) -> String {
    format!("arn:aws:dynamodb:us-east-1:000000000000:table/{t}")
}

async fn put_policy(admin: &aws_sdk_dynamodb::Client, arn: &str, doc: &Value) {
    admin
        .put_resource_policy()
        .resource_arn(arn)
        .policy(doc.to_string())
        .send()
        .await
        .unwrap();
}

async fn simulate(srv: &TestServer, token: &str, q: Value) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let reply = raw_at(
        srv.admin.expect("admin listener"),
        "POST",
        "/simulate",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        q.to_string().into_bytes(),
    )
    .await;
    (reply.status, reply.json())
}

#[tokio::test]
async fn simulate_names_the_deciding_statement_with_identity_and_resource_policies() {
    let alice = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query"],"Resource":"*"},{"Sid":"NoDelete","Effect":"Deny","Action":"dynamodb:DeleteItem","Resource":"*"},{"Sid":"TlsPut","Effect":"Allow","Action":"dynamodb:PutItem","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#;
    let bob = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:ListTables","Resource":"*"}]}"#;
    let mut config = config_with_identities(
        Mode::Engine,
        &[
            ("ALICE", ALICE, vec![alice.into()]),
            ("BOB", BOB, vec![bob.into()]),
        ],
        None,
    );
    config.admin = Some("127.0.0.1:0".parse().unwrap());
    config.admin_token = Some(TOKEN.into());
    let srv = TestServer::start_with(config, None).await;
    let admin = client_for(&srv.url);
    let t = create_pk_table(&admin, "sim", None).await;
    let table = arn(&t);

    let q =
        |who: &str, action: &str| json!({"access_key": who, "action": action, "resource": table});
    let (status, v) = simulate(&srv, TOKEN, q("ALICE", "dynamodb:Query")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["decision"], "allowed");
    assert_eq!(v["reason"], "allow");
    assert_eq!(
        v["statement"],
        json!({"policy": "identity-based", "policy_index": 0, "statement_index": 0, "sid": "Read"})
    );
    assert_eq!(v["principal"], ALICE);

    let (_, v) = simulate(&srv, TOKEN, q("ALICE", "dynamodb:DeleteItem")).await;
    assert_eq!(
        (&v["decision"], &v["reason"]),
        (&json!("denied"), &json!("explicit deny"))
    );
    assert_eq!(v["statement"]["sid"], "NoDelete");
    assert_eq!(v["statement"]["statement_index"], 1);

    let (_, v) = simulate(&srv, TOKEN, q("ALICE", "dynamodb:PutItem")).await;
    assert_eq!(v["reason"], "implicit deny");
    assert_eq!(v["statement"], Value::Null);
    assert_eq!(v["message"], format!("User: {ALICE} is not authorized to perform: dynamodb:PutItem on resource: {table} because no identity-based policy allows the dynamodb:PutItem action"));
    let mut tls_put = q("ALICE", "dynamodb:PutItem");
    tls_put["context"] = json!({"aws:SecureTransport": "true"});
    let (_, v) = simulate(&srv, TOKEN, tls_put).await;
    assert_eq!(v["statement"]["sid"], "TlsPut");

    // The simulator agrees with a real request.
    let err = client_with(&srv.url, "BOB")
        .describe_table()
        .table_name(&t)
        .send()
        .await
        .unwrap_err();
    assert_eq!(daxlite_tests::error_parts(&err).0, "AccessDeniedException");
    let (_, v) = simulate(&srv, TOKEN, q("BOB", "dynamodb:DescribeTable")).await;
    assert_eq!(v["reason"], "implicit deny");

    // A resource-based policy on the table: an allow for bob, a deny for alice's Query.
    let rbp = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "BobDescribes", "Effect": "Allow", "Principal": {"AWS": BOB}, "Action": "dynamodb:DescribeTable", "Resource": table},
        {"Sid": "NoAliceQuery", "Effect": "Deny", "Principal": {"AWS": ALICE}, "Action": "dynamodb:Query", "Resource": table}
    ]});
    put_policy(&admin, &table, &rbp).await;
    client_with(&srv.url, "BOB")
        .describe_table()
        .table_name(&t)
        .send()
        .await
        .expect("allowed by the resource-based policy");
    let (_, v) = simulate(
        &srv,
        TOKEN,
        json!({"principal": BOB, "action": "dynamodb:DescribeTable", "resource": table}),
    )
    .await;
    assert_eq!(v["decision"], "allowed", "{v}");
    assert_eq!(
        v["statement"],
        json!({"policy": "resource-based", "policy_index": 0, "statement_index": 0, "sid": "BobDescribes"})
    );
    let (_, v) = simulate(&srv, TOKEN, q("ALICE", "dynamodb:Query")).await;
    assert_eq!(v["reason"], "explicit deny");
    assert_eq!(v["statement"]["policy"], "resource-based");
    assert_eq!(v["statement"]["sid"], "NoAliceQuery");
    assert!(v["message"]
        .as_str()
        .unwrap()
        .ends_with("with an explicit deny in a resource-based policy"));

    // The key without policies, and refusals.
    let (_, v) = simulate(&srv, TOKEN, q("AKIDTEST", "dynamodb:DeleteTable")).await;
    assert_eq!(v["decision"], "allowed");
    assert!(v["note"].as_str().unwrap().contains("full access"));
    let (status, v) = simulate(&srv, TOKEN, q("NOBODY", "dynamodb:Query")).await;
    assert_eq!(status, 400, "{v}");
    let (status, _) = simulate(
        &srv,
        TOKEN,
        json!({"access_key": "ALICE", "resource": table}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = simulate(&srv, "wrong", q("ALICE", "dynamodb:Query")).await;
    assert_eq!(status, 401);
}

/// `daxlite policy-check` with a config file: the exit status and the JSON answer.
fn policy_check(config: &std::path::Path, args: &[&str]) -> (Option<i32>, Value, String) {
    let out = std::process::Command::new(daxlite_tests::tools::binary("daxlite"))
        .arg("policy-check")
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("run daxlite policy-check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        out.status.code(),
        v,
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// The CLI reads the resource-based policy from the data directory, as `/simulate`
/// reads it from the running server; a running server's lock is an error (exit 2) that
/// says so; `--identity-only` skips the data file.
#[tokio::test]
async fn policy_check_reads_resource_policies_from_the_data_dir() {
    let alice = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Q","Effect":"Allow","Action":"dynamodb:Query","Resource":"*"}]}"#;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut config =
        config_with_identities(Mode::Engine, &[("ALICE", ALICE, vec![alice.into()])], None);
    config.engine.backend = daxlite_engine::Backend::Dir(data.clone());
    let srv = TestServer::start_with(config, None).await;
    let admin = client_for(&srv.url);
    let t = create_pk_table(&admin, "simcli", None).await;
    let table = arn(&t);
    let rbp = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "AliceGets", "Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "dynamodb:GetItem", "Resource": table},
        {"Sid": "NoDeletes", "Effect": "Deny", "Principal": "*", "Action": "dynamodb:DeleteItem", "Resource": table}
    ]});
    put_policy(&admin, &table, &rbp).await;
    let file = dir.path().join("daxlite.toml");
    let toml = format!(
        "[storage]\ndata_dir = {data:?}\n\n[auth]\nverify = true\ncredentials = [{{ access_key = \"ALICE\", secret_key = \"secret\", principal = \"{ALICE}\", policies = [{alice:?}] }}]\n",
        data = data.display().to_string(),
        alice = alice,
    );
    std::fs::write(&file, toml).unwrap();
    let ask = |action: &'static str| ["--key", "ALICE", "--action", action, "--resource"];

    // While the server holds the data file: a clear error.
    let mut args = ask("dynamodb:GetItem").to_vec();
    args.push(&table);
    let (code, _, stderr) = policy_check(&file, &args);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("/admin/simulate"), "{stderr}");
    srv.stop().await;

    let (code, v, stderr) = policy_check(&file, &args);
    assert_eq!(code, Some(0), "{v} {stderr}");
    assert_eq!(
        v["statement"],
        json!({"policy": "resource-based", "policy_index": 0, "statement_index": 0, "sid": "AliceGets"})
    );
    let mut del = ask("dynamodb:DeleteItem").to_vec();
    del.push(&table);
    let (code, v, _) = policy_check(&file, &del);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["reason"], "explicit deny");
    assert_eq!(v["message"], format!("User: {ALICE} is not authorized to perform: dynamodb:DeleteItem on resource: {table} with an explicit deny in a resource-based policy"));
    // The index is governed by the table's policy; the identity policy allows Query.
    let index = format!("{table}/index/ByX");
    let mut query = ask("dynamodb:Query").to_vec();
    query.push(&index);
    let (code, v, _) = policy_check(&file, &query);
    assert_eq!(
        (code, &v["statement"]["sid"]),
        (Some(0), &json!("Q")),
        "{v}"
    );
    // Identity policies only: nothing allows GetItem.
    args.push("--identity-only");
    let (code, v, _) = policy_check(&file, &args);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["reason"], "implicit deny");
    assert!(v["note"]
        .as_str()
        .unwrap_or_default()
        .contains("--identity-only"));
}
