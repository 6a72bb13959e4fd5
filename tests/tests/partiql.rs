//! PartiQL through aws-sdk-dynamodb: ExecuteStatement, BatchExecuteStatement and
//! ExecuteTransaction as the SDK sends and parses them — every numbered case of
//! `docs/spec/PARTIQL.md` §6, the error rows as the SDK reports them, paging with
//! NextToken, and PartiQL writes seen by GetItem through the cache.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::execute_statement::{
    ExecuteStatementError, ExecuteStatementOutput,
};
use aws_sdk_dynamodb::operation::execute_transaction::ExecuteTransactionError;
use aws_sdk_dynamodb::types::{
    AttributeValue, BatchStatementErrorCodeEnum, BatchStatementRequest, BillingMode, KeyType,
    ParameterizedStatement, ReturnConsumedCapacity, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use daxlite_tests::{
    attr, create_pk_table, ddb_test, error_parts, key, unique_name, Mode, TestServer,
};

type Item = HashMap<String, AttributeValue>;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

async fn n_table(client: &Client) -> String {
    let name = unique_name("pql-n");
    client
        .create_table()
        .table_name(&name)
        .attribute_definitions(attr("pk", ScalarAttributeType::N))
        .key_schema(key("pk", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create: {e:?}"));
    name
}

async fn exec(
    client: &Client,
    stmt: &str,
    params: Vec<AttributeValue>,
) -> Result<ExecuteStatementOutput, SdkError<ExecuteStatementError>> {
    let mut req = client.execute_statement().statement(stmt);
    if !params.is_empty() {
        req = req.set_parameters(Some(params));
    }
    req.send().await
}

async fn ok(client: &Client, stmt: &str) -> Vec<Item> {
    exec(client, stmt, vec![])
        .await
        .unwrap_or_else(|e| panic!("{stmt}: {e:?}"))
        .items
        .unwrap_or_default()
}

async fn err(client: &Client, stmt: &str, params: Vec<AttributeValue>) -> (String, String) {
    match exec(client, stmt, params).await {
        Ok(out) => panic!("{stmt} answered {out:?}"),
        Err(e) => error_parts(&e),
    }
}

async fn get(client: &Client, table: &str, pk: AttributeValue) -> Option<Item> {
    client
        .get_item()
        .table_name(table)
        .key("pk", pk)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get: {e:?}"))
        .item
}

fn wf(detail: &str) -> String {
    format!("Statement wasn't well formed, can't be processed: {detail}")
}

ddb_test!(
    insert_select_update_delete_cases_1_to_9,
    |mode| async move {
        let server = TestServer::start(mode).await;
        let c = server.client();
        let h = create_pk_table(&c, "pql-h", None).await;
        // 1, 2: INSERT, then the same key again.
        let items = ok(
            &c,
            &format!(r#"INSERT INTO "{h}" VALUE {{'pk':'a','data':'x'}}"#),
        )
        .await;
        assert!(items.is_empty());
        assert_eq!(
            get(&c, &h, s("a"))
                .await
                .and_then(|i| i.get("data").cloned()),
            Some(s("x"))
        );
        let (code, msg) = err(
            &c,
            &format!(r#"INSERT INTO "{h}" VALUE {{'pk':'a','data':'y'}}"#),
            vec![],
        )
        .await;
        assert_eq!(
            (code.as_str(), msg.as_str()),
            (
                "DuplicateItemException",
                "Duplicate primary key exists in table"
            )
        );
        // 3
        assert!(ok(&c, &format!(r#"SELECT * FROM "{h}" WHERE pk = 'nope'"#))
            .await
            .is_empty());
        // 4
        c.put_item()
            .table_name(&h)
            .item("pk", s("m"))
            .item(
                "mymap",
                AttributeValue::M(HashMap::from([("nested".to_string(), s("deep"))])),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        let out = exec(
            &c,
            &format!(r#"SELECT mymap.nested FROM "{h}" WHERE pk=?"#),
            vec![s("m")],
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            out.items,
            Some(vec![HashMap::from([("nested".to_string(), s("deep"))])])
        );
        // 5: a Scan; items without `u` come back as {}.
        let items = ok(&c, &format!(r#"SELECT u FROM "{h}""#)).await;
        assert_eq!(items.len(), 2);
        assert!(items.iter().all(|i| i.is_empty()));
        // 6: UPDATE never upserts.
        let (code, msg) = err(
            &c,
            &format!(r#"UPDATE "{h}" SET a = 1 WHERE pk = 'nope'"#),
            vec![],
        )
        .await;
        assert_eq!(
            (code.as_str(), msg.as_str()),
            (
                "ConditionalCheckFailedException",
                "The conditional request failed"
            )
        );
        assert_eq!(get(&c, &h, s("nope")).await, None);
        // 7
        let (code, _) = err(
            &c,
            &format!(r#"UPDATE "{h}" SET z = 2 WHERE pk = 'a' AND attribute_exists(nope)"#),
            vec![],
        )
        .await;
        assert_eq!(code, "ConditionalCheckFailedException");
        assert_eq!(
            get(&c, &h, s("a")).await.map(|i| i.contains_key("z")),
            Some(false)
        );
        // 8
        assert!(ok(&c, &format!(r#"DELETE FROM "{h}" WHERE pk = 'never'"#))
            .await
            .is_empty());
        // 9
        let (_, msg) = err(
            &c,
            &format!(r#"DELETE FROM "{h}" WHERE pk='x' RETURNING ALL NEW *"#),
            vec![],
        )
        .await;
        assert_eq!(msg, "Invalid returning clause: RETURNING ALL NEW *. Only RETURNING ALL OLD * is allowed in DELETE statements.");
        // A write is visible to GetItem through the cache at once.
        assert_eq!(
            get(&c, &h, s("a"))
                .await
                .and_then(|i| i.get("data").cloned()),
            Some(s("x"))
        );
        ok(
            &c,
            &format!(r#"UPDATE "{h}" SET data = 'y' WHERE pk = 'a'"#),
        )
        .await;
        assert_eq!(
            get(&c, &h, s("a"))
                .await
                .and_then(|i| i.get("data").cloned()),
            Some(s("y"))
        );
        ok(&c, &format!(r#"DELETE FROM "{h}" WHERE pk = 'a'"#)).await;
        assert_eq!(get(&c, &h, s("a")).await, None);
    }
);

ddb_test!(batches_cases_10_and_14_to_17, |mode| async move {
    let server = TestServer::start(mode).await;
    let c = server.client();
    let h = create_pk_table(&c, "pql-b", None).await;
    ok(
        &c,
        &format!(r#"INSERT INTO "{h}" VALUE {{'pk':'a','data':'old','x':1}}"#),
    )
    .await;
    ok(
        &c,
        &format!(r#"INSERT INTO "{h}" VALUE {{'pk':'b','v':9}}"#),
    )
    .await;
    ok(
        &c,
        &format!(r#"INSERT INTO "{h}" VALUE {{'pk':'k','ss':<<'q'>>}}"#),
    )
    .await;
    let batch = |stmts: Vec<String>| {
        let c = c.clone();
        async move {
            let reqs: Vec<BatchStatementRequest> = stmts
                .iter()
                .map(|st| {
                    BatchStatementRequest::builder()
                        .statement(st)
                        .build()
                        .unwrap_or_else(|e| panic!("{e}"))
                })
                .collect();
            c.batch_execute_statement()
                .set_statements(Some(reqs))
                .send()
                .await
        }
    };
    // 10
    let out = batch(vec![format!(
        r#"UPDATE "{h}" SET data='new' WHERE pk='a' RETURNING MODIFIED NEW *"#
    )])
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));
    let r = &out.responses.unwrap_or_default()[0];
    assert_eq!(
        r.item,
        Some(HashMap::from([("data".to_string(), s("new"))]))
    );
    // 14: a parse error is per member.
    let out = batch(vec![
        format!(r#"SLECT * FROM "{h}" WHERE pk='k'"#),
        format!(r#"SELECT * FROM "{h}" WHERE pk='k'"#),
    ])
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));
    let rs = out.responses.unwrap_or_default();
    let e0 = rs[0]
        .error
        .as_ref()
        .unwrap_or_else(|| panic!("no error: {rs:?}"));
    assert_eq!(e0.code, Some(BatchStatementErrorCodeEnum::ValidationError));
    assert_eq!(
        e0.message.as_deref(),
        Some(wf("Expected data manipulation").as_str())
    );
    assert_eq!(rs[1].item.as_ref().and_then(|i| i.get("pk")), Some(&s("k")));
    assert_eq!(rs[1].table_name.as_deref(), Some(h.as_str()));
    // 15
    let e = batch(vec![
        format!(r#"SELECT * FROM "{h}" WHERE pk='a'"#),
        format!(r#"INSERT INTO "{h}" VALUE {{'pk':'z'}}"#),
    ])
    .await
    .err()
    .unwrap_or_else(|| panic!("mixed batch accepted"));
    assert_eq!(
        error_parts(&e),
        (
            "ValidationException".to_string(),
            "Read and write requests together in the same batch is not supported.".to_string()
        )
    );
    // 16
    let out = batch(vec![format!(
        r#"SELECT * FROM "{h}" WHERE pk='a' AND attribute_exists(ss)"#
    )])
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));
    let rs = out.responses.unwrap_or_default();
    assert_eq!(
        rs[0].error.as_ref().and_then(|e| e.message.as_deref()),
        Some("Select statements within BatchExecuteStatement must specify the primary key in the where clause.")
    );
    // 17, with a failing member next to it.
    let out = batch(vec![
        format!(r#"DELETE FROM "{h}" WHERE pk='b' RETURNING ALL OLD *"#),
        format!(r#"INSERT INTO "{h}" VALUE {{'pk':'k'}}"#),
    ])
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));
    let rs = out.responses.unwrap_or_default();
    assert_eq!(rs[0].item.as_ref().and_then(|i| i.get("v")), Some(&n("9")));
    assert_eq!(
        rs[1].error.as_ref().and_then(|e| e.code.clone()),
        Some(BatchStatementErrorCodeEnum::DuplicateItem)
    );
    assert_eq!(get(&c, &h, s("b")).await, None);
});

ddb_test!(
    transactions_cases_11_to_13_and_idempotency,
    |mode| async move {
        let server = TestServer::start(mode).await;
        let c = server.client();
        let h = create_pk_table(&c, "pql-t", None).await;
        ok(&c, &format!(r#"INSERT INTO "{h}" VALUE {{'pk':'a'}}"#)).await;
        ok(&c, &format!(r#"INSERT INTO "{h}" VALUE {{'pk':'b'}}"#)).await;
        let st = |text: String, params: Vec<AttributeValue>| {
            let mut b = ParameterizedStatement::builder().statement(text);
            if !params.is_empty() {
                b = b.set_parameters(Some(params));
            }
            b.build().unwrap_or_else(|e| panic!("{e}"))
        };
        // 11
        let out = c
            .execute_transaction()
            .transact_statements(st(
                format!(r#"UPDATE "{h}" SET x = 1 WHERE pk = 'a'"#),
                vec![],
            ))
            .transact_statements(st(
                format!(r#"UPDATE "{h}" SET x = 2 WHERE pk = ?"#),
                vec![s("b")],
            ))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(out.responses, Some(vec![]));
        assert_eq!(out.consumed_capacity.map(|v| v.len()), Some(1));
        assert_eq!(
            get(&c, &h, s("b")).await.and_then(|i| i.get("x").cloned()),
            Some(n("2"))
        );
        // 12
        let e = c
            .execute_transaction()
            .transact_statements(st(
                format!(r#"INSERT INTO "{h}" VALUE {{'pk':'a'}}"#),
                vec![],
            ))
            .transact_statements(st(
                format!(r#"INSERT INTO "{h}" VALUE {{'pk':'new'}}"#),
                vec![],
            ))
            .send()
            .await
            .err()
            .unwrap_or_else(|| panic!("duplicate insert committed"));
        match e.as_service_error() {
            Some(ExecuteTransactionError::TransactionCanceledException(t)) => {
                let codes: Vec<Option<&str>> =
                    t.cancellation_reasons().iter().map(|r| r.code()).collect();
                assert_eq!(codes, [Some("DuplicateItem"), Some("None")]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(get(&c, &h, s("new")).await, None);
        // 13
        let e = c
            .execute_transaction()
            .transact_statements(st(
                format!(r#"UPDATE "{h}" SET x = 1 WHERE pk = 'a' RETURNING ALL NEW *"#),
                vec![],
            ))
            .send()
            .await
            .err()
            .unwrap_or_else(|| panic!("RETURNING accepted"));
        assert_eq!(
        error_parts(&e).1,
        "Validation failed in TransactStatements[0]: RETURNING clause is not supported in ExecuteTransaction."
    );
        // Idempotency: the same token and statements succeed without running again.
        let run = |token: &str, pk: &str| {
            c.execute_transaction()
                .client_request_token(token)
                .transact_statements(st(
                    format!(r#"INSERT INTO "{h}" VALUE {{'pk':'{pk}'}}"#),
                    vec![],
                ))
                .send()
        };
        run("token-1", "once")
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        run("token-1", "once")
            .await
            .unwrap_or_else(|e| panic!("replay: {e:?}"));
        let e = run("token-1", "other")
            .await
            .err()
            .unwrap_or_else(|| panic!("mismatch accepted"));
        assert_eq!(error_parts(&e).0, "IdempotentParameterMismatchException");
        // Reads: one entry per statement.
        let out = c
            .execute_transaction()
            .transact_statements(st(format!(r#"SELECT x FROM "{h}" WHERE pk = 'a'"#), vec![]))
            .transact_statements(st(
                format!(r#"SELECT * FROM "{h}" WHERE pk = 'missing'"#),
                vec![],
            ))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        let rs = out.responses.unwrap_or_default();
        assert_eq!(rs[0].item, Some(HashMap::from([("x".to_string(), n("1"))])));
        assert_eq!(rs[1].item, None);
    }
);

ddb_test!(errors_and_ordering_cases_18_to_25, |mode| async move {
    let server = TestServer::start(mode).await;
    let c = server.client();
    let h = create_pk_table(&c, "pql-e", None).await;
    let cc = create_pk_table(&c, "pql-c", Some(ScalarAttributeType::S)).await;
    let nn = n_table(&c).await;
    let cases: Vec<(String, Vec<AttributeValue>, String)> = vec![
        (format!(r#"SELECT * FROM "{nn}" WHERE pk = 1 foo"#), vec![], wf("Unexpected token after expression")),
        (format!(r#"SELECT * FROM "{h}" t WHERE pk = 'x'"#), vec![], "Aliasing is not supported".into()),
        (
            format!(r#"INSERT INTO "{nn}" VALUE {{'pk': 1, 'l': [1, 1e126]}}"#),
            vec![],
            "Number overflow. Attempting to store a number with magnitude larger than supported range under root[1]".into(),
        ),
        (
            format!(r#"SELECT pk FROM "{h}" WHERE pk = ? AND val < ?"#),
            vec![s("x"), AttributeValue::Bool(true)],
            "Incorrect operand type for operator or function; operator or function: <, operand type: BOOL".into(),
        ),
        (
            format!(r#"SELECT * FROM "{cc}" WHERE pk='a' AND x='1' OR pk='a' AND sk='2'"#),
            vec![],
            "Overlapping conditions with range keys are not supported in where clause".into(),
        ),
        (
            format!(r#"UPDATE "{h}" SET ss = set_add(ss, <<'x','x'>>) WHERE pk='a'"#),
            vec![],
            "One or more parameter values were invalid: Input collection [x, x] contains duplicates.".into(),
        ),
        (format!(r#"SELECT * FROM "{h}"."no-such-index" WHERE pk='p'"#), vec![], "The table does not have the specified index".into()),
        (format!(r#"SELECT * FROM "{h}" WHERE pk = ?"#), vec![], "Number of parameters in request and statement don't match.".into()),
        (format!(r#"UPDATE "{h}" SET a = 1 WHERE a = 2"#), vec![], "Where clause does not contain a mandatory equality on all key attributes".into()),
    ];
    for (stmt, params, want) in cases {
        let (code, msg) = err(&c, &stmt, params).await;
        assert_eq!(
            (code.as_str(), msg.as_str()),
            ("ValidationException", want.as_str()),
            "{stmt}"
        );
    }
    let (code, msg) = err(&c, r#"SELECT * FROM "no-such-table""#, vec![]).await;
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("ResourceNotFoundException", "Requested resource not found")
    );
    // 23
    for sk in ["1", "2", "3"] {
        ok(
            &c,
            &format!(r#"INSERT INTO "{cc}" VALUE {{'pk':'p','sk':'{sk}'}}"#),
        )
        .await;
    }
    let items = ok(
        &c,
        &format!(r#"SELECT sk FROM "{cc}" WHERE pk='p' ORDER BY sk DESC"#),
    )
    .await;
    let sks: Vec<&AttributeValue> = items.iter().filter_map(|i| i.get("sk")).collect();
    assert_eq!(sks, [&s("3"), &s("2"), &s("1")]);
    ok(&c, &format!(r#"INSERT INTO "{nn}" VALUE {{'pk': 7.3}}"#)).await;
    assert_eq!(
        ok(&c, &format!(r#"SELECT * FROM "{nn}" WHERE pk = .73e1"#))
            .await
            .len(),
        1
    );
});

ddb_test!(paging_with_limit_and_next_token, |mode| async move {
    let server = TestServer::start(mode).await;
    let c = server.client();
    let t = create_pk_table(&c, "pql-p", Some(ScalarAttributeType::N)).await;
    for i in 0..7 {
        ok(
            &c,
            &format!(r#"INSERT INTO "{t}" VALUE {{'pk':'p','sk':{i}}}"#),
        )
        .await;
    }
    let stmt = format!(r#"SELECT sk FROM "{t}" WHERE pk = 'p'"#);
    let mut token = None;
    let mut got = Vec::new();
    loop {
        let out = c
            .execute_statement()
            .statement(&stmt)
            .limit(3)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        got.extend(out.items.unwrap_or_default());
        token = out.next_token;
        if token.is_none() {
            break;
        }
    }
    let sks: Vec<AttributeValue> = got.into_iter().filter_map(|mut i| i.remove("sk")).collect();
    assert_eq!(sks, (0..7).map(|i| n(&i.to_string())).collect::<Vec<_>>());
});

/// A cached daxlite in front of an uncached one reached over HTTP, so a test can change
/// items behind the front's cache (through the backend) and see what the cache serves.
async fn front_and_backend() -> (daxlite::RunningServer, TestServer) {
    let backend = TestServer::start(Mode::Engine).await;
    let url = format!("http://{}", backend.addr)
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut rc = daxlite::upstream::RemoteConfig::new(url, "us-east-1");
    rc.timeout = std::time::Duration::from_secs(5);
    let creds = aws_credential_types::Credentials::new("AKIDTEST", "secret", None, None, "t");
    let remote = daxlite::upstream::Remote::with_static_credentials(rc, creds)
        .unwrap_or_else(|e| panic!("{e}"));
    let front = daxlite::start_with_remote(&daxlite::Config::ephemeral(), remote)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (front, backend)
}

async fn v_of(c: &Client, table: &str, pk: &str) -> Option<AttributeValue> {
    get(c, table, s(pk)).await.and_then(|mut i| i.remove("v"))
}

#[tokio::test]
async fn key_selects_use_the_item_cache_and_writes_update_it_by_key() {
    let (front, backend) = front_and_backend().await;
    let f = daxlite_tests::client_for(&format!("http://{}", front.addr));
    let b = backend.client();
    let t = create_pk_table(&f, "pql-cache", None).await;
    for pk in ["a", "b"] {
        ok(
            &f,
            &format!(r#"INSERT INTO "{t}" VALUE {{'pk':'{pk}','v':1,'w':'x'}}"#),
        )
        .await;
    }
    // Fill the item cache with GetItem, then change both items behind the front's back.
    assert_eq!(v_of(&f, &t, "a").await, Some(n("1")));
    assert_eq!(v_of(&f, &t, "b").await, Some(n("1")));
    for pk in ["a", "b"] {
        ok(&b, &format!(r#"UPDATE "{t}" SET v = 2 WHERE pk = '{pk}'"#)).await;
    }
    // An eventually consistent key SELECT answers from the same entry GetItem uses.
    let items = ok(&f, &format!(r#"SELECT v FROM "{t}" WHERE pk = 'a'"#)).await;
    assert_eq!(items, vec![HashMap::from([("v".to_string(), n("1"))])]);
    let all = ok(&f, &format!(r#"SELECT * FROM "{t}" WHERE pk = 'a'"#)).await;
    assert_eq!(
        all,
        vec![HashMap::from([
            ("pk".to_string(), s("a")),
            ("v".to_string(), n("1")),
            ("w".to_string(), s("x"))
        ])]
    );
    assert!(ok(&f, &format!(r#"SELECT * FROM "{t}" WHERE pk = 'zz'"#))
        .await
        .is_empty());
    let out = exec(
        &f,
        &format!(r#"SELECT v FROM "{t}" WHERE pk = ?"#),
        vec![s("a")],
    )
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        out.items,
        Some(vec![HashMap::from([("v".to_string(), n("1"))])])
    );
    // A strongly consistent one, or one with another condition, reads upstream.
    let fresh = f
        .execute_statement()
        .statement(format!(r#"SELECT v FROM "{t}" WHERE pk = 'a'"#))
        .consistent_read(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        fresh.items,
        Some(vec![HashMap::from([("v".to_string(), n("2"))])])
    );
    let filtered = ok(
        &f,
        &format!(r#"SELECT v FROM "{t}" WHERE pk = 'a' AND w = 'x'"#),
    )
    .await;
    assert_eq!(filtered, vec![HashMap::from([("v".to_string(), n("2"))])]);
    // A PartiQL write through the front invalidates its own key only.
    ok(&f, &format!(r#"UPDATE "{t}" SET v = 3 WHERE pk = 'a'"#)).await;
    assert_eq!(v_of(&f, &t, "a").await, Some(n("3")));
    assert_eq!(
        v_of(&f, &t, "b").await,
        Some(n("1")),
        "other keys stay cached"
    );
    // A lone INSERT that succeeded is written through: the cache holds its item.
    ok(
        &f,
        &format!(r#"INSERT INTO "{t}" VALUE {{'pk':'c','v':1}}"#),
    )
    .await;
    ok(&b, &format!(r#"UPDATE "{t}" SET v = 9 WHERE pk = 'c'"#)).await;
    assert_eq!(v_of(&f, &t, "c").await, Some(n("1")));
    // A DELETE through the front leaves the key absent at once; batches invalidate.
    ok(&f, &format!(r#"DELETE FROM "{t}" WHERE pk = 'c'"#)).await;
    assert_eq!(v_of(&f, &t, "c").await, None);
    let stmt = BatchStatementRequest::builder()
        .statement(format!(r#"UPDATE "{t}" SET v = 4 WHERE pk = 'b'"#))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    f.batch_execute_statement()
        .statements(stmt)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(v_of(&f, &t, "b").await, Some(n("4")));
    front.shutdown().await;
    backend.stop().await;
}

fn in_values(count: usize) -> String {
    (0..count)
        .map(|i| format!("'v{i}'"))
        .collect::<Vec<_>>()
        .join(",")
}

// IN holds at most 100 values; a keyed SELECT decomposes into at most 50 key reads
// (partition values × sort-key IN values); a SELECT that scans is not limited.
ddb_test!(in_operand_and_decomposed_read_limits, |mode| async move {
    let server = TestServer::start(mode).await;
    let c = server.client();
    let t = create_pk_table(&c, "pql-in", Some(ScalarAttributeType::S)).await;
    ok(
        &c,
        &format!(r#"INSERT INTO "{t}" VALUE {{'pk':'v3','sk':'1','flag':'v7'}}"#),
    )
    .await;
    let select = format!(r#"SELECT sk FROM "{t}" WHERE "#);
    let too_many_reads = "Too many decomposed read operations for a given query.";
    for cond in [
        format!("pk IN [{}]", in_values(51)),
        format!("pk = 'v3' AND sk IN [{}]", in_values(51)),
        format!("pk IN [{}] AND sk IN ['1','2']", in_values(26)),
    ] {
        let (code, msg) = err(&c, &format!("{select}{cond}"), vec![]).await;
        assert_eq!(
            (code.as_str(), msg.as_str()),
            ("ValidationException", too_many_reads),
            "{cond}"
        );
    }
    for cond in [
        format!("pk IN [{}] AND flag IN [{}]", in_values(50), in_values(100)),
        format!("pk IN [{}] OR flag = 'v7'", in_values(51)),
    ] {
        let items = ok(&c, &format!("{select}{cond}")).await;
        assert_eq!(items.len(), 1, "{cond}");
    }
    let too_many = "The IN operator is provided with too many operands; number of operands: 101";
    for stmt in [
        format!("{select}pk = 'v3' AND flag IN [{}]", in_values(101)),
        format!(
            r#"UPDATE "{t}" SET x = 1 WHERE pk = 'v3' AND sk = '1' AND flag IN [{}]"#,
            in_values(101)
        ),
    ] {
        assert_eq!(err(&c, &stmt, vec![]).await.1, too_many, "{stmt}");
    }
    // A syntax error anywhere in the statement is reported before the count.
    let (_, msg) = err(
        &c,
        &format!("{select}flag IN [{}] foo", in_values(101)),
        vec![],
    )
    .await;
    assert!(msg.starts_with("Statement wasn't well formed"), "{msg}");
    let e = c
        .execute_transaction()
        .transact_statements(
            ParameterizedStatement::builder()
                .statement(format!(
                    r#"SELECT * FROM "{t}" WHERE pk IN [{}] AND sk = '1'"#,
                    in_values(101)
                ))
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .send()
        .await
        .err()
        .unwrap_or_else(|| panic!("101 operands accepted"));
    assert_eq!(
        error_parts(&e).1,
        format!("Validation failed in TransactStatements[0]: {too_many}")
    );
    let out = c
        .batch_execute_statement()
        .statements(
            BatchStatementRequest::builder()
                .statement(format!(
                    r#"SELECT * FROM "{t}" WHERE pk IN [{}] AND sk = '1'"#,
                    in_values(51)
                ))
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("batch: {e:?}"));
    let r = &out.responses()[0];
    let e = r
        .error()
        .unwrap_or_else(|| panic!("no member error: {r:?}"));
    assert_eq!(e.message(), Some(too_many_reads));
    assert!(c
        .get_item()
        .table_name(&t)
        .key("pk", s("v3"))
        .key("sk", s("1"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .item()
        .is_some_and(|i| !i.contains_key("x")));
});
