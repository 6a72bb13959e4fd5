//! IAM.md §6 cases not covered by the other IAM suites (7 NotResource, 9
//! EnclosingOperation, 10 Query is not PartiQLSelect, 14 ReturnValues, 18
//! SecureTransport deny, 19 Null aws:username for an assumed role, 20 ListTables'
//! `table/*` resource), and cross-account
//! authorization as IAM does it: a caller of another account than the resource's (a
//! table ARN naming the other account, as cross-account DynamoDB calls must) needs an
//! allow in its identity policy AND in the table's resource-based policy; an explicit
//! deny in either wins; a resource policy naming the caller's account grants to that
//! account. The messages say which policy kind did not allow (`because no
//! resource-based policy allows the … action`). A plain table name is the caller's own
//! account's table.

use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, Tag, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use daxlite_tests::identities::{client_with, server_with_identities};
use daxlite_tests::{client_for, ddb_test, error_parts, unique_name};

/// The engine's (the tables') account.
const OWNER: &str = "123456789012";
const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
/// Callers of another account.
const OTHER: &str = "444455556666";
const BOB: &str = "arn:aws:iam::444455556666:user/bob";
const CAROL: &str = "arn:aws:iam::444455556666:user/carol";

fn arn_in(account: &str, t: &str) -> String {
    format!("arn:aws:dynamodb:us-east-1:{account}:table/{t}")
}

fn policy(statements: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
}

fn denied(who: &str, action: &str, arn: &str, why: &str) -> (String, String) {
    (
        "AccessDeniedException".into(),
        format!("User: {who} is not authorized to perform: {action} on resource: {arn} {why}"),
    )
}

fn no_rbp(action: &str) -> String {
    format!("because no resource-based policy allows the {action} action")
}

fn no_identity(action: &str) -> String {
    format!("because no identity-based policy allows the {action} action")
}

async fn create(client: &Client, t: &str) {
    daxlite_tests::create_named_pk_table(client, t, None).await;
}

async fn tags(client: &Client, arn: &str) -> Result<Vec<String>, (String, String)> {
    client
        .list_tags_of_resource()
        .resource_arn(arn)
        .send()
        .await
        .map(|o| o.tags().iter().map(|t| t.key().to_string()).collect())
        .map_err(|e| error_parts(&e))
}

ddb_test!(
    cross_account_needs_identity_and_resource_allow,
    |mode| async move {
        let t = unique_name("xacct");
        let arn = arn_in(OWNER, &t);
        let everything = policy(r#"{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}"#);
        let bob_on_owner = policy(&format!(
            r#"{{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:{OWNER}:table/*"}}"#
        ));
        let carol_limits =
            policy(r#"{"Effect":"Allow","Action":"dynamodb:DescribeLimits","Resource":"*"}"#);
        let srv = server_with_identities(
            mode,
            &[
                ("ALICE", ALICE, vec![everything]),
                ("BOB", BOB, vec![bob_on_owner]),
                ("CAROL", CAROL, vec![carol_limits]),
            ],
            Some(OWNER),
        )
        .await;
        let admin = client_for(&srv.url);
        create(&admin, &t).await;
        let alice = client_with(&srv.url, "ALICE");
        let bob = client_with(&srv.url, "BOB");
        let carol = client_with(&srv.url, "CAROL");

        // No resource policy: bob's identity allow is not enough across accounts.
        let list = "dynamodb:ListTagsOfResource";
        assert_eq!(
            tags(&bob, &arn).await,
            Err(denied(BOB, list, &arn, &no_rbp(list)))
        );
        let err = bob
            .get_item()
            .table_name(&arn)
            .key("pk", AttributeValue::S("a".into()))
            .send()
            .await
            .expect_err("no resource policy");
        assert_eq!(
            error_parts(&err),
            denied(BOB, "dynamodb:GetItem", &arn, &no_rbp("dynamodb:GetItem"))
        );
        // A plain table name is bob's own account's table, which his policy does not name.
        let err = bob
            .get_item()
            .table_name(&t)
            .key("pk", AttributeValue::S("a".into()))
            .send()
            .await
            .expect_err("own account");
        let own = arn_in(OTHER, &t);
        assert_eq!(
            error_parts(&err),
            denied(
                BOB,
                "dynamodb:GetItem",
                &own,
                &no_identity("dynamodb:GetItem")
            )
        );
        // The owner's own caller is unaffected; a table ARN of a third account is a
        // cross-account request for alice (nothing there allows her), denied before lookup.
        assert_eq!(tags(&alice, &arn).await, Ok(Vec::new()));
        let third = arn_in("999999999999", &t);
        assert_eq!(
            tags(&alice, &third).await,
            Err(denied(ALICE, list, &third, &no_rbp(list)))
        );

        let rbp = policy(&format!(
            r#"{{"Sid":"bob-reads","Effect":"Allow","Principal":{{"AWS":"{BOB}"}},"Action":["dynamodb:ListTagsOfResource","dynamodb:GetItem"],"Resource":"{arn}"}},
           {{"Sid":"account-tags","Effect":"Allow","Principal":{{"AWS":"{OTHER}"}},"Action":"dynamodb:TagResource","Resource":"{arn}"}},
           {{"Sid":"carol-reads","Effect":"Allow","Principal":{{"AWS":"{CAROL}"}},"Action":"dynamodb:ListTagsOfResource","Resource":"{arn}"}},
           {{"Sid":"no-untag","Effect":"Deny","Principal":{{"AWS":"{BOB}"}},"Action":"dynamodb:UntagResource","Resource":"{arn}"}}"#
        ));
        admin
            .put_resource_policy()
            .resource_arn(&arn)
            .policy(rbp)
            .send()
            .await
            .expect("attach policy");
        // Both allow: bob reads the tags; the account principal grants TagResource to
        // bob's account (his identity policy allows it too).
        assert_eq!(tags(&bob, &arn).await, Ok(Vec::new()));
        bob.tag_resource()
            .resource_arn(&arn)
            .tags(Tag::builder().key("team").value("b").build().expect("tag"))
            .send()
            .await
            .expect("account principal grants across accounts");
        assert_eq!(tags(&bob, &arn).await, Ok(vec!["team".to_string()]));
        // The resource policy's deny wins over bob's identity allow.
        let err = bob
            .untag_resource()
            .resource_arn(&arn)
            .tag_keys("team")
            .send()
            .await
            .expect_err("resource deny");
        assert_eq!(
            error_parts(&err),
            denied(
                BOB,
                "dynamodb:UntagResource",
                &arn,
                "with an explicit deny in a resource-based policy"
            )
        );
        // The resource policy allows carol, but her own account's policy does not.
        assert_eq!(
            tags(&carol, &arn).await,
            Err(denied(CAROL, list, &arn, &no_identity(list)))
        );
        srv.stop().await;
    }
);

ddb_test!(spec_cases_7_9_10_14_18_19_20, |mode| async move {
    let music = unique_name("cases-music");
    let games = unique_name("cases-games");
    let (m, g) = (arn_in(OWNER, &music), arn_in(OWNER, &games));
    let all = r#"{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}"#;
    let user = |name: &str| format!("arn:aws:iam::{OWNER}:user/{name}");
    let role = format!("arn:aws:sts::{OWNER}:assumed-role/app/session-1");
    let ids = [
        // 7: everything, but nothing outside Music.
        (
            "NR",
            user("nr"),
            policy(&format!(
                r#"{all},{{"Effect":"Deny","Action":"dynamodb:*","NotResource":"{m}"}}"#
            )),
        ),
        // 9: PutItem only inside TransactWriteItems.
        (
            "TX",
            user("tx"),
            policy(&format!(
                r#"{{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"{m}","Condition":{{"ForAnyValue:StringEquals":{{"dynamodb:EnclosingOperation":["TransactWriteItems"]}}}}}}"#
            )),
        ),
        // 14: UpdateItem with the harmless ReturnValues only.
        (
            "RV",
            user("rv"),
            policy(&format!(
                r#"{{"Effect":"Allow","Action":"dynamodb:UpdateItem","Resource":"{m}","Condition":{{"StringEqualsIfExists":{{"dynamodb:ReturnValues":["NONE","UPDATED_OLD","UPDATED_NEW"]}}}}}}"#
            )),
        ),
        // 18: nothing over plain HTTP.
        (
            "TLS",
            user("tls"),
            policy(&format!(
                r#"{all},{{"Effect":"Deny","Action":"dynamodb:*","Resource":"*","Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}"#
            )),
        ),
        // 19: IAM users only (an assumed role has no aws:username).
        (
            "ROLE",
            role.clone(),
            policy(&format!(
                r#"{all},{{"Effect":"Deny","Action":"dynamodb:*","Resource":"*","Condition":{{"Null":{{"aws:username":"true"}}}}}}"#
            )),
        ),
        (
            "USER",
            user("u"),
            policy(&format!(
                r#"{all},{{"Effect":"Deny","Action":"dynamodb:*","Resource":"*","Condition":{{"Null":{{"aws:username":"true"}}}}}}"#
            )),
        ),
        // 10: Query does not grant PartiQL's SELECT.
        (
            "Q",
            user("q"),
            policy(&format!(
                r#"{{"Effect":"Allow","Action":"dynamodb:Query","Resource":"{m}"}}"#
            )),
        ),
        // 20: ListTables on a name pattern never matches its `table/*` resource.
        (
            "LT",
            user("lt"),
            policy(&format!(
                r#"{{"Effect":"Allow","Action":"dynamodb:ListTables","Resource":"arn:aws:dynamodb:us-east-1:{OWNER}:table/abc-*"}}"#
            )),
        ),
    ];
    let identities: Vec<(&str, &str, Vec<String>)> = ids
        .iter()
        .map(|(k, p, pol)| (*k, p.as_str(), vec![pol.clone()]))
        .collect();
    let srv = server_with_identities(mode, &identities, Some(OWNER)).await;
    let admin = client_for(&srv.url);
    create(&admin, &music).await;
    create(&admin, &games).await;
    let c = |k: &str| client_with(&srv.url, k);
    let pk = |v: &str| AttributeValue::S(v.into());
    let explicit = "with an explicit deny in an identity-based policy";

    // 7
    c("NR")
        .get_item()
        .table_name(&music)
        .key("pk", pk("a"))
        .send()
        .await
        .expect("Music is not outside Music");
    let err = c("NR")
        .get_item()
        .table_name(&games)
        .key("pk", pk("a"))
        .send()
        .await
        .expect_err("NotResource deny");
    assert_eq!(
        error_parts(&err),
        denied(&user("nr"), "dynamodb:GetItem", &g, explicit)
    );

    // 9
    let err = c("TX")
        .put_item()
        .table_name(&music)
        .item("pk", pk("plain"))
        .send()
        .await
        .expect_err("outside a transaction");
    assert_eq!(
        error_parts(&err),
        denied(
            &user("tx"),
            "dynamodb:PutItem",
            &m,
            &no_identity("dynamodb:PutItem")
        )
    );
    c("TX")
        .transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&music)
                        .item("pk", pk("tx"))
                        .build()
                        .expect("put"),
                )
                .build(),
        )
        .send()
        .await
        .expect("inside TransactWriteItems");

    // 10
    let err = c("Q")
        .execute_statement()
        .statement(format!(r#"SELECT * FROM "{music}" WHERE pk = 'a'"#))
        .send()
        .await
        .expect_err("PartiQLSelect is its own action");
    assert_eq!(
        error_parts(&err),
        denied(
            &user("q"),
            "dynamodb:PartiQLSelect",
            &m,
            &no_identity("dynamodb:PartiQLSelect")
        )
    );

    // 14
    let update = |rv: Option<ReturnValue>| {
        c("RV")
            .update_item()
            .table_name(&music)
            .key("pk", pk("tx"))
            .update_expression("SET n = :n")
            .expression_attribute_values(":n", AttributeValue::N("1".into()))
            .set_return_values(rv)
            .send()
    };
    let err = update(Some(ReturnValue::AllNew))
        .await
        .expect_err("ALL_NEW is not in the list");
    assert_eq!(
        error_parts(&err),
        denied(
            &user("rv"),
            "dynamodb:UpdateItem",
            &m,
            &no_identity("dynamodb:UpdateItem")
        )
    );
    update(None).await.expect("omitted: NONE");
    update(Some(ReturnValue::UpdatedNew))
        .await
        .expect("UPDATED_NEW is in the list");

    // 18
    let tables = arn_in(OWNER, "*");
    let err = c("TLS").list_tables().send().await.expect_err("plain HTTP");
    assert_eq!(
        error_parts(&err),
        denied(&user("tls"), "dynamodb:ListTables", &tables, explicit)
    );

    // 19
    let err = c("ROLE")
        .describe_table()
        .table_name(&music)
        .send()
        .await
        .expect_err("an assumed role has no aws:username");
    assert_eq!(
        error_parts(&err),
        denied(&role, "dynamodb:DescribeTable", &m, explicit)
    );
    c("USER")
        .describe_table()
        .table_name(&music)
        .send()
        .await
        .expect("an IAM user has one");

    // 20
    let err = c("LT").list_tables().send().await.expect_err("table/abc-*");
    assert_eq!(
        error_parts(&err),
        denied(
            &user("lt"),
            "dynamodb:ListTables",
            &tables,
            &no_identity("dynamodb:ListTables")
        )
    );
    c("USER")
        .list_tables()
        .send()
        .await
        .expect("Resource * covers table/*");
    srv.stop().await;
});
