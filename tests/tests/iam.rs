//! Authorization as IAM does it (`[auth] credentials` with `principal` and `policies`):
//! SDK clients of configured identities are allowed, implicitly denied or explicitly
//! denied with DynamoDB's AccessDeniedException messages; the admin key (no policies)
//! keeps full access. Through the cache too: a cached item never reaches a caller whose
//! policies do not allow the read.

use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, GlobalSecondaryIndex, KeyType, KeysAndAttributes, Projection,
    ProjectionType, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use daxlite_tests::identities::{client_with, server_with_identities};
use daxlite_tests::{attr, client_for, ddb_test, error_parts, key, unique_name, Mode, TestServer};

const ACCOUNT: &str = "123456789012";
const ALICE: &str = "arn:aws:iam::123456789012:user/alice";

fn table_arn(t: &str) -> String {
    format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{t}")
}

async fn server(mode: Mode, identities: &[(&str, &str, Vec<String>)]) -> TestServer {
    server_with_identities(mode, identities, None).await
}

fn policy(statements: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
}

fn denied<E, R>(err: &aws_sdk_dynamodb::error::SdkError<E, R>) -> String
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    let (code, msg) = error_parts(err);
    assert_eq!(code, "AccessDeniedException", "{msg}");
    msg
}

fn implicit(action: &str, arn: &str) -> String {
    format!("User: {ALICE} is not authorized to perform: {action} on resource: {arn} because no identity-based policy allows the {action} action")
}

fn explicit(action: &str, arn: &str) -> String {
    format!("User: {ALICE} is not authorized to perform: {action} on resource: {arn} with an explicit deny in an identity-based policy")
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

ddb_test!(allow_then_implicit_deny, |mode| async move {
    let t = unique_name("iam-music");
    let p = policy(&format!(
        r#"{{"Effect":"Allow","Action":"dynamodb:Get*","Resource":"{}"}}"#,
        table_arn(&t)
    ));
    let srv = server(mode, &[("ALICE", ALICE, vec![p])]).await;
    let admin = client_for(&srv.url);
    create_named(&admin, &t).await;
    admin
        .put_item()
        .table_name(&t)
        .item("pk", s("a"))
        .send()
        .await
        .expect("admin writes");
    let alice = client_with(&srv.url, "ALICE");
    let got = alice
        .get_item()
        .table_name(&t)
        .key("pk", s("a"))
        .send()
        .await
        .expect("allowed");
    assert!(got.item().is_some());
    let err = alice
        .put_item()
        .table_name(&t)
        .item("pk", s("b"))
        .send()
        .await
        .expect_err("denied");
    assert_eq!(denied(&err), implicit("dynamodb:PutItem", &table_arn(&t)));
    // A table the policy does not name; denied before the table is looked up.
    let err = alice
        .get_item()
        .table_name("nope")
        .key("pk", s("a"))
        .send()
        .await
        .expect_err("denied");
    assert_eq!(
        denied(&err),
        implicit("dynamodb:GetItem", &table_arn("nope"))
    );
    srv.stop().await;
});

ddb_test!(
    explicit_deny_beats_allow_and_actions_ignore_case,
    |mode| async move {
        let t = unique_name("iam-deny");
        let p = policy(&format!(
            r#"{{"Effect":"Allow","Action":"DynamoDB:*","Resource":"{}"}},{{"Effect":"Deny","Action":"dynamodb:deleteitem","Resource":"*"}}"#,
            table_arn(&t)
        ));
        let srv = server(mode, &[("ALICE", ALICE, vec![p])]).await;
        create_named(&client_for(&srv.url), &t).await;
        let alice = client_with(&srv.url, "ALICE");
        alice
            .put_item()
            .table_name(&t)
            .item("pk", s("a"))
            .send()
            .await
            .expect("allowed");
        let err = alice
            .delete_item()
            .table_name(&t)
            .key("pk", s("a"))
            .send()
            .await
            .expect_err("denied");
        assert_eq!(
            denied(&err),
            explicit("dynamodb:DeleteItem", &table_arn(&t))
        );
        // The batch form names its own action.
        let err = alice.list_tables().send().await.expect_err("denied");
        assert_eq!(
            denied(&err),
            implicit(
                "dynamodb:ListTables",
                &format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/*")
            )
        );
        srv.stop().await;
    }
);

ddb_test!(not_action_allows_everything_else, |mode| async move {
    let t = unique_name("iam-notaction");
    let p = policy(r#"{"Effect":"Allow","NotAction":"dynamodb:DeleteTable","Resource":"*"}"#);
    let srv = server(mode, &[("ALICE", ALICE, vec![p])]).await;
    let alice = client_with(&srv.url, "ALICE");
    create_named(&alice, &t).await;
    alice
        .describe_table()
        .table_name(&t)
        .send()
        .await
        .expect("allowed");
    let err = alice
        .delete_table()
        .table_name(&t)
        .send()
        .await
        .expect_err("denied");
    assert_eq!(
        denied(&err),
        implicit("dynamodb:DeleteTable", &table_arn(&t))
    );
    srv.stop().await;
});

ddb_test!(queries_on_an_index_need_the_index_arn, |mode| async move {
    let t = unique_name("iam-index");
    let only_table = policy(&format!(
        r#"{{"Effect":"Allow","Action":"dynamodb:Query","Resource":"{}"}}"#,
        table_arn(&t)
    ));
    let with_index = policy(&format!(
        r#"{{"Effect":"Allow","Action":"dynamodb:Query","Resource":["{0}","{0}/index/*"]}}"#,
        table_arn(&t)
    ));
    let srv = server(
        mode,
        &[
            ("ALICE", ALICE, vec![only_table]),
            ("ALICE2", ALICE, vec![with_index]),
        ],
    )
    .await;
    let admin = client_for(&srv.url);
    admin
        .create_table()
        .table_name(&t)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("g", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("ByG")
                .key_schema(key("g", KeyType::Hash))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("gsi"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create");
    let query = |c: Client, index: Option<&str>| {
        let (name, value) = if index.is_some() {
            ("g", "x")
        } else {
            ("pk", "a")
        };
        c.query()
            .table_name(&t)
            .set_index_name(index.map(str::to_string))
            .key_condition_expression("#k = :v")
            .expression_attribute_names("#k", name)
            .expression_attribute_values(":v", s(value))
            .send()
    };
    query(client_with(&srv.url, "ALICE"), None)
        .await
        .expect("table query allowed");
    let err = query(client_with(&srv.url, "ALICE"), Some("ByG"))
        .await
        .expect_err("denied");
    assert_eq!(
        denied(&err),
        implicit("dynamodb:Query", &format!("{}/index/ByG", table_arn(&t)))
    );
    query(client_with(&srv.url, "ALICE2"), Some("ByG"))
        .await
        .expect("index allowed");
    srv.stop().await;
});

ddb_test!(
    leading_keys_give_each_user_their_own_items,
    |mode| async move {
        let t = unique_name("iam-games");
        let p = policy(&format!(
            r#"{{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:BatchGetItem","dynamodb:Query","dynamodb:Scan","dynamodb:PutItem"],"Resource":"{}",
            "Condition":{{"ForAllValues:StringEquals":{{"dynamodb:LeadingKeys":["${{aws:username}}"]}}}}}}"#,
            table_arn(&t)
        ));
        let srv = server(mode, &[("ALICE", ALICE, vec![p])]).await;
        let admin = client_for(&srv.url);
        create_named(&admin, &t).await;
        for who in ["alice", "bob"] {
            admin
                .put_item()
                .table_name(&t)
                .item("pk", s(who))
                .item("n", s(who))
                .send()
                .await
                .expect("put");
            // Read once as admin: in cached mode bob's item is now in the cache.
            admin
                .get_item()
                .table_name(&t)
                .key("pk", s(who))
                .send()
                .await
                .expect("get");
        }
        let alice = client_with(&srv.url, "ALICE");
        alice
            .get_item()
            .table_name(&t)
            .key("pk", s("alice"))
            .send()
            .await
            .expect("own item");
        let err = alice
            .get_item()
            .table_name(&t)
            .key("pk", s("bob"))
            .send()
            .await
            .expect_err("bob's item");
        assert_eq!(denied(&err), implicit("dynamodb:GetItem", &table_arn(&t)));
        alice
            .put_item()
            .table_name(&t)
            .item("pk", s("alice"))
            .send()
            .await
            .expect("own write");
        let err = alice
            .put_item()
            .table_name(&t)
            .item("pk", s("bob"))
            .send()
            .await
            .expect_err("bob's write");
        assert_eq!(denied(&err), implicit("dynamodb:PutItem", &table_arn(&t)));
        let batch = |keys: &[&str]| {
            let mut k = KeysAndAttributes::builder();
            for who in keys {
                k = k.keys([("pk".to_string(), s(who))].into_iter().collect());
            }
            alice
                .batch_get_item()
                .request_items(&t, k.build().expect("keys"))
                .send()
        };
        batch(&["alice"]).await.expect("own batch");
        let err = batch(&["alice", "bob"]).await.expect_err("one foreign key");
        assert_eq!(
            denied(&err),
            implicit("dynamodb:BatchGetItem", &table_arn(&t))
        );
        let q = alice
            .query()
            .table_name(&t)
            .key_condition_expression("pk = :u")
            .expression_attribute_values(":u", s("alice"))
            .send()
            .await
            .expect("own partition");
        assert_eq!(q.count(), 1);
        let err = alice
            .query()
            .table_name(&t)
            .key_condition_expression("pk = :u")
            .expression_attribute_values(":u", s("bob"))
            .send()
            .await
            .expect_err("bob's partition");
        assert_eq!(denied(&err), implicit("dynamodb:Query", &table_arn(&t)));
        // AWS's pitfall: Scan carries no LeadingKeys, so ForAllValues passes vacuously.
        let scan = alice
            .scan()
            .table_name(&t)
            .send()
            .await
            .expect("scan passes");
        assert_eq!(scan.count(), 2);
        srv.stop().await;
    }
);

ddb_test!(attributes_restrict_the_projection, |mode| async move {
    let t = unique_name("iam-attrs");
    let p = policy(&format!(
        r#"{{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"{}",
            "Condition":{{"ForAllValues:StringEquals":{{"dynamodb:Attributes":["pk","TopScore"]}},
                          "StringEqualsIfExists":{{"dynamodb:Select":"SPECIFIC_ATTRIBUTES"}}}}}}"#,
        table_arn(&t)
    ));
    let srv = server(mode, &[("ALICE", ALICE, vec![p])]).await;
    let admin = client_for(&srv.url);
    create_named(&admin, &t).await;
    admin
        .put_item()
        .table_name(&t)
        .item("pk", s("a"))
        .item("TopScore", AttributeValue::N("7".into()))
        .item("Wins", AttributeValue::N("3".into()))
        .send()
        .await
        .expect("put");
    let alice = client_with(&srv.url, "ALICE");
    let err = alice
        .get_item()
        .table_name(&t)
        .key("pk", s("a"))
        .send()
        .await
        .expect_err("no projection");
    assert_eq!(denied(&err), implicit("dynamodb:GetItem", &table_arn(&t)));
    let got = alice
        .get_item()
        .table_name(&t)
        .key("pk", s("a"))
        .projection_expression("TopScore")
        .send()
        .await
        .expect("allowed attribute");
    assert_eq!(
        got.item().and_then(|i| i.get("TopScore")),
        Some(&AttributeValue::N("7".into()))
    );
    let err = alice
        .get_item()
        .table_name(&t)
        .key("pk", s("a"))
        .projection_expression("#w")
        .expression_attribute_names("#w", "Wins")
        .send()
        .await
        .expect_err("Wins is not allowed");
    assert_eq!(denied(&err), implicit("dynamodb:GetItem", &table_arn(&t)));
    srv.stop().await;
});

ddb_test!(
    partiql_and_transactions_name_their_item_actions,
    |mode| async move {
        let t = unique_name("iam-ql");
        let p = policy(&format!(
            r#"{{"Effect":"Allow","Action":["dynamodb:PartiQLSelect","dynamodb:PutItem"],"Resource":"{}"}}"#,
            table_arn(&t)
        ));
        let srv = server(mode, &[("ALICE", ALICE, vec![p])]).await;
        create_named(&client_for(&srv.url), &t).await;
        let alice = client_with(&srv.url, "ALICE");
        alice
            .execute_statement()
            .statement(format!(r#"SELECT * FROM "{t}" WHERE pk = 'a'"#))
            .send()
            .await
            .expect("select allowed");
        let err = alice
            .execute_statement()
            .statement(format!(r#"DELETE FROM "{t}" WHERE pk = 'a'"#))
            .send()
            .await
            .expect_err("delete denied");
        assert_eq!(
            denied(&err),
            implicit("dynamodb:PartiQLDelete", &table_arn(&t))
        );
        use aws_sdk_dynamodb::types::{ConditionCheck, Put, TransactWriteItem};
        let err = alice
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&t)
                            .item("pk", s("x"))
                            .build()
                            .expect("put"),
                    )
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .condition_check(
                        ConditionCheck::builder()
                            .table_name(&t)
                            .key("pk", s("y"))
                            .condition_expression("attribute_not_exists(pk)")
                            .build()
                            .expect("check"),
                    )
                    .build(),
            )
            .send()
            .await
            .expect_err("ConditionCheckItem denied");
        assert_eq!(
            denied(&err),
            implicit("dynamodb:ConditionCheckItem", &table_arn(&t))
        );
        let got = client_for(&srv.url)
            .get_item()
            .table_name(&t)
            .key("pk", s("x"))
            .send()
            .await
            .expect("get");
        assert!(got.item().is_none(), "nothing was written");
        srv.stop().await;
    }
);

async fn create_named(client: &Client, t: &str) {
    daxlite_tests::create_named_pk_table(client, t, None).await;
}

/// The bench's authorization modes (RELIABILITY.md's cache-hit authorization figure):
/// `daxlite-bench compare --spawn cached-verify,cached-iam --policy-statements 10` starts
/// daxlite with signature verification, and with a 10-statement policy on the bench's
/// key; every signed GetItem is allowed (0 errors) and both report server CPU per request.
#[test]
fn bench_policy_modes_run_clean() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(daxlite_tests::tools::binary("daxlite-bench"))
        .args(["compare", "--daxlite"])
        .arg(daxlite_tests::tools::binary("daxlite"))
        .args([
            "--spawn",
            "cached-verify,cached-iam",
            "--policy-statements",
            "10",
            "--workload",
            "get",
            "--keys",
            "50",
            "--ops",
            "400",
            "--rounds",
            "1",
            "--warmup",
            "0.1",
            "--connections",
            "2",
            "--out",
        ])
        .arg(out_dir.path())
        .output()
        .expect("run daxlite-bench");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.path().join("get.json")).unwrap()).unwrap();
    let targets = json["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    for t in targets {
        assert_eq!(t["errors"], 0, "{t}");
        assert_eq!(t["ops"], 400, "{t}");
        assert!(t["server_cpu_us_per_op"].as_f64().is_some(), "{t}");
    }
    assert!(targets[1]["origin"].as_str().unwrap().contains("--config"));
}
