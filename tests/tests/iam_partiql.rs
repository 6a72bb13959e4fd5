//! PartiQL under identity policies (IAM.md §6 case 10): `dynamodb:FullTableScan` is
//! "true" for a SELECT whose WHERE clause pins no partition key, so a Deny on it blocks
//! `SELECT * FROM "T"` but not `... WHERE pk = 'v'`; `dynamodb:LeadingKeys` carries the
//! pinned partition-key values (an INSERT's from its `VALUE` tuple; UPDATE's and
//! DELETE's from their WHERE clause), so `${aws:username}` rules hold for PartiQL too.

use aws_sdk_dynamodb::types::AttributeValue;
use daxlite_tests::identities::{client_with, server_with_identities};
use daxlite_tests::{client_for, ddb_test, error_parts};

const ALICE: &str = "arn:aws:iam::000000000000:user/alice";

fn arn(t: &str) -> String {
    format!("arn:aws:dynamodb:us-east-1:000000000000:table/{t}")
}

ddb_test!(
    full_table_scan_and_leading_keys_for_partiql,
    |mode| async move {
        let t = daxlite_tests::unique_name("iam-pql");
        let policy = format!(
            r#"{{"Version":"2012-10-17","Statement":[
        {{"Effect":"Allow","Action":["dynamodb:PartiQLSelect","dynamodb:PartiQLInsert","dynamodb:PartiQLUpdate","dynamodb:PartiQLDelete"],"Resource":"{a}","Condition":{{"ForAllValues:StringEquals":{{"dynamodb:LeadingKeys":["${{aws:username}}"]}}}}}},
        {{"Sid":"NoFullScan","Effect":"Deny","Action":"dynamodb:PartiQLSelect","Resource":"{a}","Condition":{{"Bool":{{"dynamodb:FullTableScan":"true"}}}}}}]}}"#,
            a = arn(&t)
        );
        let srv = server_with_identities(mode, &[("ALICE", ALICE, vec![policy])], None).await;
        let admin = client_for(&srv.url);
        admin
            .create_table()
            .table_name(&t)
            .attribute_definitions(daxlite_tests::attr(
                "pk",
                aws_sdk_dynamodb::types::ScalarAttributeType::S,
            ))
            .key_schema(daxlite_tests::key(
                "pk",
                aws_sdk_dynamodb::types::KeyType::Hash,
            ))
            .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
            .send()
            .await
            .unwrap();
        for who in ["alice", "bob"] {
            admin
                .put_item()
                .table_name(&t)
                .item("pk", AttributeValue::S(who.into()))
                .send()
                .await
                .unwrap();
        }
        let alice = client_with(&srv.url, "ALICE");
        let run = |stmt: String, params: Option<Vec<AttributeValue>>| {
            alice
                .execute_statement()
                .statement(stmt)
                .set_parameters(params)
                .send()
        };
        let mine = run(format!(r#"SELECT * FROM "{t}" WHERE pk = 'alice'"#), None)
            .await
            .expect("her own partition");
        assert_eq!(mine.items().len(), 1);
        run(
            format!(r#"SELECT * FROM "{t}" WHERE pk = ?"#),
            Some(vec![AttributeValue::S("alice".into())]),
        )
        .await
        .expect("her own partition, as a parameter");

        let err = run(format!(r#"SELECT * FROM "{t}""#), None)
            .await
            .unwrap_err();
        let (code, msg) = error_parts(&err);
        assert_eq!(code, "AccessDeniedException");
        assert_eq!(
        msg,
        format!("User: {ALICE} is not authorized to perform: dynamodb:PartiQLSelect on resource: {} with an explicit deny in an identity-based policy", arn(&t))
    );
        let err = run(format!(r#"SELECT * FROM "{t}" WHERE pk = 'bob'"#), None)
            .await
            .unwrap_err();
        let (code, msg) = error_parts(&err);
        assert_eq!(code, "AccessDeniedException");
        assert!(
            msg.ends_with(
                "because no identity-based policy allows the dynamodb:PartiQLSelect action"
            ),
            "{msg}"
        );
        // Writes: the INSERT's VALUE tuple, UPDATE's and DELETE's WHERE name the key.
        let denied = |action: &str, err: &aws_sdk_dynamodb::error::SdkError<_, _>| {
            let (code, msg) = error_parts(err);
            assert_eq!(code, "AccessDeniedException", "{msg}");
            assert_eq!(
                msg,
                format!("User: {ALICE} is not authorized to perform: dynamodb:{action} on resource: {} because no identity-based policy allows the dynamodb:{action} action", arn(&t))
            );
        };
        run(format!(r#"DELETE FROM "{t}" WHERE pk = 'alice'"#), None)
            .await
            .expect("delete her own item");
        run(
            format!(r#"INSERT INTO "{t}" VALUE {{'pk': 'alice', 'n': 1}}"#),
            None,
        )
        .await
        .expect("insert her own item");
        let err = run(
            format!(r#"INSERT INTO "{t}" VALUE {{'n': 1, 'pk': 'bob'}}"#),
            None,
        )
        .await
        .unwrap_err();
        denied("PartiQLInsert", &err);
        let err = run(
            format!(r#"INSERT INTO "{t}" VALUE {{'pk': ?}}"#),
            Some(vec![AttributeValue::S("mallory".into())]),
        )
        .await
        .unwrap_err();
        denied("PartiQLInsert", &err);
        run(
            format!(r#"UPDATE "{t}" SET n = 2 WHERE pk = 'alice'"#),
            None,
        )
        .await
        .expect("update her own item");
        let err = run(format!(r#"UPDATE "{t}" SET n = 2 WHERE pk = 'bob'"#), None)
            .await
            .unwrap_err();
        denied("PartiQLUpdate", &err);
        let err = run(format!(r#"DELETE FROM "{t}" WHERE pk = 'bob'"#), None)
            .await
            .unwrap_err();
        denied("PartiQLDelete", &err);
        let bob = admin
            .get_item()
            .table_name(&t)
            .key("pk", AttributeValue::S("bob".into()))
            .send()
            .await
            .unwrap();
        assert!(
            bob.item().is_some_and(|i| !i.contains_key("n")),
            "bob's item untouched"
        );
        let mallory = admin
            .get_item()
            .table_name(&t)
            .key("pk", AttributeValue::S("mallory".into()))
            .send()
            .await
            .unwrap();
        assert!(mallory.item().is_none(), "the denied insert wrote nothing");
        srv.stop().await;
    }
);
