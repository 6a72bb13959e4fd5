//! Resource-based policies through aws-sdk-dynamodb: the Put/Get/DeleteResourcePolicy
//! lifecycle with DynamoDB's revision rules and messages, CreateTable's
//! `ResourcePolicy`, the policies kept in the data file across a restart, and their
//! evaluation together with identity policies (an allow from either, an explicit deny
//! from either wins, an account principal only delegates); and the `aws:SourceIp` /
//! `aws:CurrentTime` / `aws:EpochTime` condition keys every request carries.

use aws_sdk_dynamodb::types::{AttributeValue, BillingMode, KeyType, ScalarAttributeType};
use aws_sdk_dynamodb::Client;
use daxlite_tests::identities::{client_with, server_with_identities};
use daxlite_tests::{attr, client_for, ddb_test, error_parts, key, unique_name, Mode, TestServer};

const ACCOUNT: &str = "123456789012";
const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
const BOB: &str = "arn:aws:iam::123456789012:user/bob";

fn table_arn(t: &str) -> String {
    format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{t}")
}

async fn server(mode: Mode, identities: &[(&str, &str, Vec<String>)]) -> TestServer {
    server_with_identities(mode, identities, Some(ACCOUNT)).await
}

fn policy(statements: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

async fn create_named(client: &Client, t: &str, resource_policy: Option<&str>) {
    client
        .create_table()
        .table_name(t)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
        .set_resource_policy(resource_policy.map(str::to_string))
        .send()
        .await
        .expect("create table");
}

fn denied_by(principal: &str, action: &str, arn: &str, why: &str) -> String {
    format!("User: {principal} is not authorized to perform: {action} on resource: {arn} {why}")
}

const IMPLICIT: &str = "because no identity-based policy allows the";
const RBP_DENY: &str = "with an explicit deny in a resource-based policy";

ddb_test!(resource_policy_lifecycle, |mode| async move {
    let t = unique_name("rbp-life");
    let srv = server(mode, &[]).await;
    let admin = client_for(&srv.url);
    create_named(&admin, &t, None).await;
    let arn = table_arn(&t);
    let err = admin
        .get_resource_policy()
        .resource_arn(&arn)
        .send()
        .await
        .expect_err("no policy yet");
    assert_eq!(
        error_parts(&err),
        (
            "PolicyNotFoundException".into(),
            format!("Resource-based policy not found for the provided ResourceArn: {arn}")
        )
    );
    let p1 = policy(&format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"{ACCOUNT}"}},"Action":"dynamodb:*","Resource":"*"}}"#
    ));
    let put = |doc: String, expected: Option<String>| {
        admin
            .put_resource_policy()
            .resource_arn(&arn)
            .policy(doc)
            .set_expected_revision_id(expected)
            .send()
    };
    let r1 = put(p1.clone(), None)
        .await
        .expect("put")
        .revision_id()
        .map(str::to_string)
        .expect("revision");
    let again = put(p1.clone(), None).await.expect("same put");
    assert_eq!(
        again.revision_id(),
        Some(r1.as_str()),
        "same document, same revision"
    );
    let p2 = p1.replace("dynamodb:*", "dynamodb:GetItem");
    let r2 = put(p2.clone(), Some(r1.clone()))
        .await
        .expect("put against the current revision")
        .revision_id()
        .map(str::to_string)
        .expect("revision");
    let (n1, n2): (u64, u64) = (r1.parse().expect("number"), r2.parse().expect("number"));
    assert!(n2 > n1, "revisions increase: {r1} then {r2}");
    let err = put(p1.clone(), Some(r1.clone())).await.expect_err("stale");
    assert_eq!(
        error_parts(&err),
        ("PolicyNotFoundException".into(), format!("Resource-based policy not found for the provided ResourceArn: Requested update for policy with revision id {r1}, but the policy associated to target table {t} has revision id {r2}."))
    );
    let err = put(p1.clone(), Some("NO_POLICY".into()))
        .await
        .expect_err("one exists");
    assert_eq!(
        error_parts(&err),
        ("PolicyNotFoundException".into(), format!("Resource-based policy not found for the provided ResourceArn: Requested policy update expecting none to be present for table {t}, but a policy exists with revision id {r2}."))
    );
    let got = admin
        .get_resource_policy()
        .resource_arn(&arn)
        .send()
        .await
        .expect("get");
    assert_eq!(got.policy(), Some(p2.as_str()));
    assert_eq!(got.revision_id(), Some(r2.as_str()));
    // Too large (20 KB, whitespace counted) and not a policy.
    let big = format!("{}{}", p1, " ".repeat(20 * 1024));
    let (code, _) = error_parts(&put(big, None).await.expect_err("too large"));
    assert_eq!(code, "ValidationException");
    let (code, _) = error_parts(&put("[1]".into(), None).await.expect_err("not a policy"));
    assert_eq!(code, "ValidationException");
    // Unknown table.
    let err = admin
        .get_resource_policy()
        .resource_arn(format!("{arn}_"))
        .send()
        .await
        .expect_err("no table");
    assert_eq!(
        error_parts(&err),
        (
            "ResourceNotFoundException".into(),
            format!("Requested resource not found: Table: {t}_ not found")
        )
    );
    // Delete: a stale expectation refused, then deleted, then deleting again is fine.
    let err = admin
        .delete_resource_policy()
        .resource_arn(&arn)
        .expected_revision_id(&r1)
        .send()
        .await
        .expect_err("stale");
    assert_eq!(error_parts(&err).0, "PolicyNotFoundException");
    let del = admin
        .delete_resource_policy()
        .resource_arn(&arn)
        .expected_revision_id(&r2)
        .send()
        .await
        .expect("delete");
    assert_eq!(del.revision_id(), Some(r2.as_str()));
    let del = admin
        .delete_resource_policy()
        .resource_arn(&arn)
        .send()
        .await
        .expect("delete again");
    assert_eq!(del.revision_id(), None);
    let err = admin
        .get_resource_policy()
        .resource_arn(&arn)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(error_parts(&err).0, "PolicyNotFoundException");
    // NO_POLICY creates only when there is none.
    put(p1.clone(), Some("NO_POLICY".into()))
        .await
        .expect("create-only put");
    srv.stop().await;
});

ddb_test!(resource_policies_allow_and_deny, |mode| async move {
    let t = unique_name("rbp-eval");
    let arn = table_arn(&t);
    let bob_all = policy(r#"{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}"#);
    let srv = server(
        mode,
        &[("ALICE", ALICE, Vec::new()), ("BOB", BOB, vec![bob_all])],
    )
    .await;
    let rbp = policy(&format!(
        r#"{{"Sid":"alice-reads","Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":["dynamodb:GetItem","dynamodb:Query"],"Resource":["{arn}","{arn}/index/*"]}},
           {{"Sid":"account-scans","Effect":"Allow","Principal":{{"AWS":"{ACCOUNT}"}},"Action":"dynamodb:Scan","Resource":"{arn}"}},
           {{"Sid":"no-deletes","Effect":"Deny","Principal":"*","Action":"dynamodb:DeleteItem","Resource":"{arn}"}}"#
    ));
    let admin = client_for(&srv.url);
    create_named(&admin, &t, Some(&rbp)).await;
    admin
        .put_item()
        .table_name(&t)
        .item("pk", s("a"))
        .send()
        .await
        .expect("admin writes");
    let alice = client_with(&srv.url, "ALICE");
    let bob = client_with(&srv.url, "BOB");
    // No identity policy: the resource policy alone allows alice's reads.
    let got = alice
        .get_item()
        .table_name(&t)
        .key("pk", s("a"))
        .send()
        .await
        .expect("allowed by the resource policy");
    assert!(got.item().is_some());
    let err = alice
        .put_item()
        .table_name(&t)
        .item("pk", s("b"))
        .send()
        .await
        .expect_err("nothing allows it");
    assert_eq!(
        error_parts(&err),
        (
            "AccessDeniedException".into(),
            denied_by(
                ALICE,
                "dynamodb:PutItem",
                &arn,
                &format!("{IMPLICIT} dynamodb:PutItem action")
            )
        )
    );
    // An account principal only delegates to identity policies: no grant by itself.
    let err = alice
        .scan()
        .table_name(&t)
        .send()
        .await
        .expect_err("delegation only");
    assert_eq!(
        error_parts(&err).1,
        denied_by(
            ALICE,
            "dynamodb:Scan",
            &arn,
            &format!("{IMPLICIT} dynamodb:Scan action")
        )
    );
    // Bob's identity policy allows everything; the resource policy's Deny still wins.
    bob.put_item()
        .table_name(&t)
        .item("pk", s("c"))
        .send()
        .await
        .expect("identity allow");
    bob.scan()
        .table_name(&t)
        .send()
        .await
        .expect("identity allow");
    let err = bob
        .delete_item()
        .table_name(&t)
        .key("pk", s("a"))
        .send()
        .await
        .expect_err("resource deny");
    assert_eq!(
        error_parts(&err),
        (
            "AccessDeniedException".into(),
            denied_by(BOB, "dynamodb:DeleteItem", &arn, RBP_DENY)
        )
    );
    // Removing the policy takes effect at once (through the cache too).
    admin
        .delete_resource_policy()
        .resource_arn(&arn)
        .send()
        .await
        .expect("delete policy");
    bob.delete_item()
        .table_name(&t)
        .key("pk", s("a"))
        .send()
        .await
        .expect("no deny any more");
    let err = alice
        .get_item()
        .table_name(&t)
        .key("pk", s("c"))
        .send()
        .await
        .expect_err("no allow any more");
    assert_eq!(error_parts(&err).0, "AccessDeniedException");
    srv.stop().await;
});

ddb_test!(
    create_table_with_a_policy_needs_put_resource_policy,
    |mode| async move {
        let t = unique_name("rbp-create");
        let arn = table_arn(&t);
        let create_only =
            policy(r#"{"Effect":"Allow","Action":"dynamodb:CreateTable","Resource":"*"}"#);
        let srv = server(mode, &[("ALICE", ALICE, vec![create_only])]).await;
        let rbp = policy(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{ALICE}"}},"Action":"dynamodb:DescribeTable","Resource":"{arn}"}}"#
        ));
        let alice = client_with(&srv.url, "ALICE");
        let err = alice
            .create_table()
            .table_name(&t)
            .attribute_definitions(attr("pk", ScalarAttributeType::S))
            .key_schema(key("pk", KeyType::Hash))
            .billing_mode(BillingMode::PayPerRequest)
            .resource_policy(&rbp)
            .send()
            .await
            .expect_err("needs PutResourcePolicy");
        assert_eq!(
            error_parts(&err).1,
            denied_by(
                ALICE,
                "dynamodb:PutResourcePolicy",
                &arn,
                &format!("{IMPLICIT} dynamodb:PutResourcePolicy action")
            )
        );
        let admin = client_for(&srv.url);
        create_named(&admin, &t, Some(&rbp)).await;
        let got = admin
            .get_resource_policy()
            .resource_arn(&arn)
            .send()
            .await
            .expect("attached at creation");
        assert_eq!(got.policy(), Some(rbp.as_str()));
        alice
            .describe_table()
            .table_name(&t)
            .send()
            .await
            .expect("allowed by the policy given at creation");
        srv.stop().await;
    }
);

ddb_test!(resource_policies_survive_a_restart, |mode| async move {
    let dir = tempfile::tempdir().expect("temp dir");
    let t = unique_name("rbp-disk");
    let doc =
        policy(r#"{"Effect":"Deny","Principal":"*","Action":"dynamodb:PutItem","Resource":"*"}"#);
    let srv = TestServer::start_on_disk(mode, dir.path()).await;
    let admin = client_for(&srv.url);
    create_named(&admin, &t, None).await;
    let arn = format!("arn:aws:dynamodb:us-east-1:000000000000:table/{t}");
    let rev = admin
        .put_resource_policy()
        .resource_arn(&arn)
        .policy(&doc)
        .send()
        .await
        .expect("put")
        .revision_id()
        .map(str::to_string);
    srv.stop().await;
    let srv = TestServer::start_on_disk(mode, dir.path()).await;
    let got = client_for(&srv.url)
        .get_resource_policy()
        .resource_arn(&arn)
        .send()
        .await
        .expect("still there");
    assert_eq!(got.policy(), Some(doc.as_str()));
    assert_eq!(got.revision_id().map(str::to_string), rev);
    srv.stop().await;
});

ddb_test!(source_ip_and_current_time_conditions, |mode| async move {
    let t = unique_name("iam-ip");
    let arn = table_arn(&t);
    // Reads only from loopback and before 2100; writes only from 10/8 (never here).
    let p = policy(&format!(
        r#"{{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"{arn}","Condition":{{"IpAddress":{{"aws:SourceIp":["127.0.0.0/8","::1/128"]}},"DateLessThan":{{"aws:CurrentTime":"2100-01-01T00:00:00Z"}}}}}},
           {{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"{arn}","Condition":{{"IpAddress":{{"aws:SourceIp":"10.0.0.0/8"}}}}}},
           {{"Effect":"Deny","Action":"dynamodb:GetItem","Resource":"{arn}","Condition":{{"DateGreaterThan":{{"aws:EpochTime":"4102444800"}}}}}}"#
    ));
    let srv = server(mode, &[("ALICE", ALICE, vec![p])]).await;
    create_named(&client_for(&srv.url), &t, None).await;
    let alice = client_with(&srv.url, "ALICE");
    alice
        .get_item()
        .table_name(&t)
        .key("pk", s("a"))
        .send()
        .await
        .expect("loopback reads allowed");
    let err = alice
        .put_item()
        .table_name(&t)
        .item("pk", s("a"))
        .send()
        .await
        .expect_err("not from 10/8");
    assert_eq!(
        error_parts(&err).1,
        denied_by(
            ALICE,
            "dynamodb:PutItem",
            &arn,
            &format!("{IMPLICIT} dynamodb:PutItem action")
        )
    );
    srv.stop().await;
});

ddb_test!(locking_yourself_out_needs_confirmation, |mode| async move {
    let t = unique_name("rbp-self");
    let arn = table_arn(&t);
    let bob_all = policy(r#"{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}"#);
    let srv = server(mode, &[("BOB", BOB, vec![bob_all])]).await;
    let bob = client_with(&srv.url, "BOB");
    create_named(&bob, &t, None).await;
    let lockout = policy(&format!(
        r#"{{"Effect":"Deny","Principal":{{"AWS":"{BOB}"}},"Action":"dynamodb:PutResourcePolicy","Resource":"{arn}"}}"#
    ));
    let err = bob
        .put_resource_policy()
        .resource_arn(&arn)
        .policy(&lockout)
        .send()
        .await
        .expect_err("needs confirmation");
    assert_eq!(error_parts(&err).0, "ValidationException");
    // A statement without a Principal is not a resource-based policy.
    let err = bob
        .put_resource_policy()
        .resource_arn(&arn)
        .policy(policy(
            r#"{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}"#,
        ))
        .send()
        .await
        .expect_err("no principal");
    let (code, msg) = error_parts(&err);
    assert_eq!(code, "ValidationException");
    assert!(
        msg.starts_with("One or more parameter values were invalid: Invalid policy document: "),
        "{msg}"
    );
    bob.put_resource_policy()
        .resource_arn(&arn)
        .policy(&lockout)
        .confirm_remove_self_resource_access(true)
        .send()
        .await
        .expect("confirmed");
    let err = bob
        .put_resource_policy()
        .resource_arn(&arn)
        .policy(policy(&format!(
            r#"{{"Effect":"Allow","Principal":"*","Action":"dynamodb:GetItem","Resource":"{arn}"}}"#
        )))
        .confirm_remove_self_resource_access(true)
        .send()
        .await
        .expect_err("locked out");
    assert_eq!(
        error_parts(&err).1,
        denied_by(BOB, "dynamodb:PutResourcePolicy", &arn, RBP_DENY)
    );
    srv.stop().await;
});

// The decisions daxlite remembers for repeated requests (a cache's hits) never outlive a
// change of the resource-based policy: the same GetItem, byte for byte, is allowed,
// denied once a policy denies it, and allowed again once the policy is gone.
ddb_test!(
    remembered_decisions_follow_policy_changes,
    |mode| async move {
        let t = unique_name("rbp-remember");
        let arn = table_arn(&t);
        let bob_all = policy(r#"{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}"#);
        let srv = server(mode, &[("BOB", BOB, vec![bob_all])]).await;
        let admin = client_for(&srv.url);
        create_named(&admin, &t, None).await;
        admin
            .put_item()
            .table_name(&t)
            .item("pk", s("a"))
            .send()
            .await
            .expect("admin writes");
        let bob = client_with(&srv.url, "BOB");
        let get = || bob.get_item().table_name(&t).key("pk", s("a")).send();
        for _ in 0..3 {
            assert!(get().await.expect("allowed").item().is_some());
        }
        let deny = policy(&format!(
            r#"{{"Effect":"Deny","Principal":{{"AWS":"{BOB}"}},"Action":"dynamodb:GetItem","Resource":"{arn}"}}"#
        ));
        admin
            .put_resource_policy()
            .resource_arn(&arn)
            .policy(deny)
            .send()
            .await
            .expect("put policy");
        for _ in 0..2 {
            let err = get().await.expect_err("denied now");
            assert_eq!(
                error_parts(&err),
                (
                    "AccessDeniedException".into(),
                    denied_by(BOB, "dynamodb:GetItem", &arn, RBP_DENY)
                )
            );
        }
        admin
            .delete_resource_policy()
            .resource_arn(&arn)
            .send()
            .await
            .expect("delete policy");
        assert!(get().await.expect("allowed again").item().is_some());
        srv.stop().await;
    }
);
