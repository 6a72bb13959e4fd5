//! Engine-level tests of PartiQL: every numbered case of `docs/spec/PARTIQL.md` §6 on
//! tables `H` (pk S), `C` (pk S, sk S) and `N` (pk N), the error rows of §4, paging, and
//! a property test that a SELECT answers exactly what the equivalent Query or Scan does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::api::testkit::{call, fail, ok, VE};
use crate::wire::Operation::{
    BatchExecuteStatement as Batch, CreateTable, ExecuteStatement as Exec,
    ExecuteTransaction as Tx, GetItem, PutItem, Query, Scan,
};
use crate::Engine;

const DUP: &str = "com.amazonaws.dynamodb.v20120810#DuplicateItemException";
const CCF: &str = "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException";
const TCE: &str = "com.amazonaws.dynamodb.v20120810#TransactionCanceledException";
const IPM: &str = "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException";
const RNF: &str = "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException";

async fn table(e: &Engine, name: &str, pk: &str, sk: Option<&str>) {
    let mut attrs = vec![json!({"AttributeName": "pk", "AttributeType": pk})];
    let mut keys = vec![json!({"AttributeName": "pk", "KeyType": "HASH"})];
    if let Some(t) = sk {
        attrs.push(json!({"AttributeName": "sk", "AttributeType": t}));
        keys.push(json!({"AttributeName": "sk", "KeyType": "RANGE"}));
    }
    ok(
        e,
        CreateTable,
        json!({"TableName": name, "AttributeDefinitions": attrs, "KeySchema": keys,
            "BillingMode": "PAY_PER_REQUEST"}),
    )
    .await;
}

async fn engine() -> Engine {
    let e = Engine::open(crate::EngineConfig::default()).unwrap();
    table(&e, "HHH", "S", None).await;
    table(&e, "CCC", "S", Some("S")).await;
    table(&e, "NNN", "N", None).await;
    e
}

async fn exec(e: &Engine, stmt: &str) -> Value {
    ok(e, Exec, json!({"Statement": stmt})).await
}

async fn exec_p(e: &Engine, stmt: &str, params: Value) -> Value {
    ok(e, Exec, json!({"Statement": stmt, "Parameters": params})).await
}

/// The message of a ValidationException from ExecuteStatement.
async fn invalid(e: &Engine, stmt: &str) -> String {
    let (t, m, _) = fail(e, Exec, json!({"Statement": stmt})).await;
    assert_eq!(t, VE, "{stmt}: {m}");
    m
}

fn parse_err(detail: &str) -> String {
    format!("Statement wasn't well formed, can't be processed: {detail}")
}

async fn get(e: &Engine, table: &str, key: Value) -> Value {
    ok(
        e,
        GetItem,
        json!({"TableName": table, "Key": key, "ConsistentRead": true}),
    )
    .await
}

async fn put(e: &Engine, table: &str, item: Value) {
    ok(e, PutItem, json!({"TableName": table, "Item": item})).await;
}

#[tokio::test]
async fn case_1_2_insert_then_duplicate() {
    let e = engine().await;
    let out = exec(&e, r#"INSERT INTO "HHH" VALUE {'pk':'a','data':'x'}"#).await;
    assert_eq!(out, json!({"Items": []}));
    assert_eq!(
        get(&e, "HHH", json!({"pk": {"S": "a"}})).await["Item"],
        json!({"pk": {"S": "a"}, "data": {"S": "x"}})
    );
    let (t, m, _) = fail(
        &e,
        Exec,
        json!({"Statement": r#"INSERT INTO "HHH" VALUE {'pk':'a','data':'y'}"#}),
    )
    .await;
    assert_eq!(
        (t.as_str(), m.as_str()),
        (DUP, "Duplicate primary key exists in table")
    );
    assert_eq!(
        get(&e, "HHH", json!({"pk": {"S": "a"}})).await["Item"]["data"],
        json!({"S": "x"}),
        "INSERT is never an upsert"
    );
}

#[tokio::test]
async fn case_3_4_5_select_shapes() {
    let e = engine().await;
    assert_eq!(
        exec(&e, r#"SELECT * FROM "HHH" WHERE pk = 'nope'"#).await,
        json!({"Items": []})
    );
    put(
        &e,
        "HHH",
        json!({"pk": {"S": "m"}, "mymap": {"M": {"nested": {"S": "deep"}}}}),
    )
    .await;
    let out = exec_p(
        &e,
        r#"SELECT mymap.nested FROM "HHH" WHERE pk=?"#,
        json!([{"S": "m"}]),
    )
    .await;
    assert_eq!(out["Items"], json!([{"nested": {"S": "deep"}}]));
    put(&e, "HHH", json!({"pk": {"S": "u"}, "u": {"N": "1"}})).await;
    let out = exec(&e, r#"SELECT u FROM "HHH""#).await;
    let items = out["Items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.contains(&json!({})));
    assert!(items.contains(&json!({"u": {"N": "1"}})));
}

#[tokio::test]
async fn case_6_7_8_9_update_and_delete_rules() {
    let e = engine().await;
    let (t, m, _) = fail(
        &e,
        Exec,
        json!({"Statement": r#"UPDATE "HHH" SET a = 1 WHERE pk = 'nope'"#}),
    )
    .await;
    assert_eq!(
        (t.as_str(), m.as_str()),
        (CCF, "The conditional request failed")
    );
    assert_eq!(
        get(&e, "HHH", json!({"pk": {"S": "nope"}})).await,
        json!({})
    );
    put(&e, "HHH", json!({"pk": {"S": "a"}, "v": {"N": "1"}})).await;
    let (t, _, _) = fail(
        &e,
        Exec,
        json!({"Statement": r#"UPDATE "HHH" SET z = 2 WHERE pk = 'a' AND attribute_exists(nope)"#}),
    )
    .await;
    assert_eq!(t, CCF);
    assert_eq!(
        get(&e, "HHH", json!({"pk": {"S": "a"}})).await["Item"],
        json!({"pk": {"S": "a"}, "v": {"N": "1"}})
    );
    assert_eq!(
        exec(&e, r#"DELETE FROM "HHH" WHERE pk = 'never'"#).await,
        json!({"Items": []})
    );
    assert_eq!(
        invalid(&e, r#"DELETE FROM "HHH" WHERE pk='x' RETURNING ALL NEW *"#).await,
        "Invalid returning clause: RETURNING ALL NEW *. Only RETURNING ALL OLD * is allowed in DELETE statements."
    );
    // A false extra condition on DELETE fails; a true one deletes.
    let (t, _, _) = fail(
        &e,
        Exec,
        json!({"Statement": r#"DELETE FROM "HHH" WHERE pk = 'a' AND v = 2"#}),
    )
    .await;
    assert_eq!(t, CCF);
    let out = exec(
        &e,
        r#"DELETE FROM "HHH" WHERE pk = 'a' AND v = 1 RETURNING ALL OLD *"#,
    )
    .await;
    assert_eq!(out["Items"], json!([{"pk": {"S": "a"}, "v": {"N": "1"}}]));
    assert_eq!(get(&e, "HHH", json!({"pk": {"S": "a"}})).await, json!({}));
}

#[tokio::test]
async fn update_set_remove_arithmetic_lists_sets_and_returning() {
    let e = engine().await;
    put(
        &e,
        "HHH",
        json!({"pk": {"S": "a"}, "n": {"N": "5"}, "l": {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}]},
        "gone": {"S": "x"}, "m": {"M": {}}}),
    )
    .await;
    let out = exec(
        &e,
        r#"update "HHH" set n = n + 2 SET l = list_append(l, [4]) remove gone set m.deep = 'v', ss = set_add(ss, <<'a','b'>>) REMOVE l[0] where pk = 'a' returning all new *"#,
    )
    .await;
    assert_eq!(
        out["Items"],
        json!([{"pk": {"S": "a"}, "n": {"N": "7"}, "l": {"L": [{"N": "2"}, {"N": "3"}, {"N": "4"}]},
            "m": {"M": {"deep": {"S": "v"}}}, "ss": {"SS": ["a", "b"]}}])
    );
    // set_delete of every member removes the attribute; MODIFIED OLD shows what changed.
    let out = exec(
        &e,
        r#"UPDATE "HHH" SET ss = set_delete(ss, <<'a','b'>>) SET n = n - 10 WHERE pk = 'a' RETURNING MODIFIED OLD *"#,
    )
    .await;
    assert_eq!(
        out["Items"],
        json!([{"n": {"N": "7"}, "ss": {"SS": ["a", "b"]}}])
    );
    let item = get(&e, "HHH", json!({"pk": {"S": "a"}})).await["Item"].clone();
    assert_eq!(item["n"], json!({"N": "-3"}));
    assert!(item.get("ss").is_none());
    // The FROM-first form.
    exec(&e, r#"FROM "HHH" WHERE pk = 'a' SET fromfirst = true"#).await;
    assert_eq!(
        get(&e, "HHH", json!({"pk": {"S": "a"}})).await["Item"]["fromfirst"],
        json!({"BOOL": true})
    );
    // Type clash in set_add.
    let m = invalid(
        &e,
        r#"UPDATE "HHH" SET n = set_add(n, <<'x'>>) WHERE pk = 'a'"#,
    )
    .await;
    assert_eq!(
        m,
        "An operand in the update expression has an incorrect data type"
    );
    let m = invalid(
        &e,
        r#"UPDATE "HHH" SET n = set_add(q, <<'x'>>) WHERE pk = 'a'"#,
    )
    .await;
    assert_eq!(
        m,
        "The first argument to SET_ADD must equal the assignment value at 1:22:7"
    );
    let m = invalid(&e, r#"UPDATE "HHH" SET n = set_add(n, 'x') WHERE pk = 'a'"#).await;
    assert_eq!(
        m,
        "The second argument to SET_ADD must be a value with type SET at 1:22:7"
    );
    let m = invalid(&e, r#"UPDATE "HHH" SET n = 1 WHERE n = 1"#).await;
    assert_eq!(
        m,
        "Where clause does not contain a mandatory equality on all key attributes"
    );
    let m = invalid(&e, r#"UPDATE "HHH" SET a = 1 WHERE pk = 1"#).await;
    assert_eq!(
        m,
        "Key attribute's data type should match its data type in table's schema: Key pk"
    );
}

#[tokio::test]
async fn case_10_batch_returning_modified_new() {
    let e = engine().await;
    put(
        &e,
        "HHH",
        json!({"pk": {"S": "a"}, "data": {"S": "old"}, "other": {"N": "1"}}),
    )
    .await;
    let out = ok(
        &e,
        Batch,
        json!({"Statements": [{"Statement": r#"UPDATE "HHH" SET data='new' WHERE pk='a' RETURNING MODIFIED NEW *"#}]}),
    )
    .await;
    assert_eq!(
        out["Responses"],
        json!([{"TableName": "HHH", "Item": {"data": {"S": "new"}}}])
    );
    let out = exec(
        &e,
        r#"UPDATE "HHH" SET data='newer' WHERE pk='a' RETURNING MODIFIED NEW *"#,
    )
    .await;
    assert_eq!(out["Items"], json!([{"data": {"S": "newer"}}]));
}

#[tokio::test]
async fn case_11_12_13_transactions() {
    let e = engine().await;
    put(&e, "HHH", json!({"pk": {"S": "a"}})).await;
    put(&e, "HHH", json!({"pk": {"S": "b"}})).await;
    let out = ok(
        &e,
        Tx,
        json!({"TransactStatements": [
            {"Statement": r#"UPDATE "HHH" SET x = 1 WHERE pk = 'a'"#},
            {"Statement": r#"UPDATE "HHH" SET x = 2 WHERE pk = ?"#, "Parameters": [{"S": "b"}]}]}),
    )
    .await;
    assert_eq!(out, json!({"Responses": []}));
    assert_eq!(
        get(&e, "HHH", json!({"pk": {"S": "b"}})).await["Item"]["x"],
        json!({"N": "2"})
    );

    let (t, m, body) = fail(
        &e,
        Tx,
        json!({"TransactStatements": [
            {"Statement": r#"INSERT INTO "HHH" VALUE {'pk': 'a'}"#},
            {"Statement": r#"INSERT INTO "HHH" VALUE {'pk': 'new'}"#}]}),
    )
    .await;
    assert_eq!(t, TCE);
    assert_eq!(
        m,
        "Transaction cancelled, please refer cancellation reasons for specific reasons [DuplicateItem, None]"
    );
    assert_eq!(body["CancellationReasons"][1], json!({"Code": "None"}));
    assert_eq!(get(&e, "HHH", json!({"pk": {"S": "new"}})).await, json!({}));

    let (_, m, _) = fail(
        &e,
        Tx,
        json!({"TransactStatements": [{"Statement": r#"UPDATE "HHH" SET x = 1 WHERE pk = 'a' RETURNING ALL NEW *"#}]}),
    )
    .await;
    assert_eq!(
        m,
        "Validation failed in TransactStatements[0]: RETURNING clause is not supported in ExecuteTransaction."
    );
    // UPDATE of a missing item cancels with ConditionalCheckFailed.
    let (t, _, body) = fail(
        &e,
        Tx,
        json!({"TransactStatements": [{"Statement": r#"UPDATE "HHH" SET x = 1 WHERE pk = 'missing'"#},
            {"Statement": r#"UPDATE "HHH" SET x = 1 WHERE pk = 'a'"#}]}),
    )
    .await;
    assert_eq!(t, TCE);
    assert_eq!(
        body["CancellationReasons"],
        json!([{"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}, {"Code": "None"}])
    );
}

#[tokio::test]
async fn transaction_reads_exists_mixing_and_idempotency() {
    let e = engine().await;
    put(&e, "HHH", json!({"pk": {"S": "a"}, "v": {"N": "1"}})).await;
    put(&e, "HHH", json!({"pk": {"S": "b"}})).await;
    let out = ok(
        &e,
        Tx,
        json!({"TransactStatements": [
            {"Statement": r#"SELECT * FROM "HHH" WHERE pk = 'a'"#},
            {"Statement": r#"SELECT nothing FROM "HHH" WHERE pk = 'b'"#},
            {"Statement": r#"SELECT * FROM "HHH" WHERE pk = 'zz'"#}]}),
    )
    .await;
    assert_eq!(
        out["Responses"],
        json!([{"Item": {"pk": {"S": "a"}, "v": {"N": "1"}}}, {"Item": {}}, {}])
    );
    let (_, m, _) = fail(
        &e,
        Tx,
        json!({"TransactStatements": [{"Statement": r#"SELECT * FROM "HHH" WHERE pk = 'a'"#},
            {"Statement": r#"UPDATE "HHH" SET x = 1 WHERE pk = 'b'"#}]}),
    )
    .await;
    assert_eq!(m, "ExecuteTransaction API does not support both read and write operations in the same request.");
    let (_, m, _) = fail(
        &e,
        Tx,
        json!({"TransactStatements": [{"Statement": r#"SELECT * FROM "HHH" WHERE v = 1"#}]}),
    )
    .await;
    assert_eq!(m, "Validation failed in TransactStatements[0]: Select statements within ExecuteTransaction must specify the primary key in the where clause.");
    let (_, m, _) = fail(
        &e,
        Tx,
        json!({"TransactStatements": [{"Statement": r#"EXISTS(SELECT * FROM "HHH" WHERE pk = 'a')"#}]}),
    )
    .await;
    assert_eq!(m, "Validation failed in TransactStatements[0]: EXISTS() must contain a single item read with additional condition");
    // EXISTS as a condition check: false cancels, true lets the write through.
    let stmts = |v: i64| {
        json!([{"Statement": format!(r#"EXISTS(SELECT * FROM "HHH" WHERE pk = 'a' AND v = {v})"#)},
            {"Statement": r#"INSERT INTO "HHH" VALUE {'pk': 'c'}"#}])
    };
    let (t, _, _) = fail(&e, Tx, json!({"TransactStatements": stmts(2)})).await;
    assert_eq!(t, TCE);
    assert_eq!(get(&e, "HHH", json!({"pk": {"S": "c"}})).await, json!({}));
    ok(
        &e,
        Tx,
        json!({"TransactStatements": stmts(1), "ClientRequestToken": "tok-1"}),
    )
    .await;
    assert_eq!(
        get(&e, "HHH", json!({"pk": {"S": "c"}})).await["Item"],
        json!({"pk": {"S": "c"}})
    );
    // The same token and statements: success, not run again (the INSERT would fail).
    ok(
        &e,
        Tx,
        json!({"TransactStatements": stmts(1), "ClientRequestToken": "tok-1"}),
    )
    .await;
    let (t, _, _) = fail(
        &e,
        Tx,
        json!({"TransactStatements": stmts(3), "ClientRequestToken": "tok-1"}),
    )
    .await;
    assert_eq!(t, IPM);
    let (_, m, _) = fail(
        &e,
        Tx,
        json!({"TransactStatements": [{"Statement": r#"UPDATE "HHH" SET x = 1 WHERE pk = 'a'"#},
            {"Statement": r#"DELETE FROM "HHH" WHERE pk = 'a'"#}]}),
    )
    .await;
    assert_eq!(
        m,
        "Transaction request cannot include multiple operations on one item"
    );
}

#[tokio::test]
async fn case_14_15_16_17_batches() {
    let e = engine().await;
    put(&e, "HHH", json!({"pk": {"S": "k"}, "ss": {"SS": ["x"]}})).await;
    put(&e, "HHH", json!({"pk": {"S": "b"}, "v": {"N": "9"}})).await;
    let out = ok(
        &e,
        Batch,
        json!({"Statements": [{"Statement": r#"SLECT * FROM "HHH" WHERE pk='k'"#},
            {"Statement": r#"SELECT * FROM "HHH" WHERE pk='k'"#},
            {"Statement": r#"SELECT * FROM "HHH" WHERE pk='none'"#},
            {"Statement": r#"SELECT * FROM "Nope" WHERE pk='k'"#}]}),
    )
    .await;
    assert_eq!(
        out["Responses"],
        json!([
            {"Error": {"Code": "ValidationError", "Message": parse_err("Expected data manipulation")}},
            {"TableName": "HHH", "Item": {"pk": {"S": "k"}, "ss": {"SS": ["x"]}}},
            {"TableName": "HHH"},
            {"Error": {"Code": "ResourceNotFound", "Message": "Requested resource not found"}}
        ])
    );
    let (_, m, _) = fail(
        &e,
        Batch,
        json!({"Statements": [{"Statement": r#"SELECT * FROM "HHH" WHERE pk='a'"#},
            {"Statement": r#"INSERT INTO "HHH" VALUE {'pk': 'z'}"#}]}),
    )
    .await;
    assert_eq!(
        m,
        "Read and write requests together in the same batch is not supported."
    );
    let out = ok(
        &e,
        Batch,
        json!({"Statements": [{"Statement": r#"SELECT * FROM "HHH" WHERE pk='a' AND attribute_exists(ss)"#}]}),
    )
    .await;
    assert_eq!(
        out["Responses"],
        json!([{"Error": {"Code": "ValidationError", "Message":
            "Select statements within BatchExecuteStatement must specify the primary key in the where clause."}}])
    );
    let out = ok(
        &e,
        Batch,
        json!({"Statements": [{"Statement": r#"DELETE FROM "HHH" WHERE pk='b' RETURNING ALL OLD *"#},
            {"Statement": r#"INSERT INTO "HHH" VALUE {'pk': 'k'}"#},
            {"Statement": r#"UPDATE "HHH" SET q = 1 WHERE pk = 'zz' AND q = 5"#}]}),
    )
    .await;
    assert_eq!(
        out["Responses"],
        json!([{"TableName": "HHH", "Item": {"pk": {"S": "b"}, "v": {"N": "9"}}},
            {"TableName": "HHH", "Error": {"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}},
            {"TableName": "HHH", "Error": {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}}])
    );
    let (_, m, _) = fail(
        &e,
        Batch,
        json!({"Statements": [{"Statement": r#"SELECT * FROM "HHH" WHERE pk='k'"#},
            {"Statement": r#"SELECT v FROM "HHH" WHERE pk='k'"#}]}),
    )
    .await;
    assert_eq!(m, "Provided list of item keys contains duplicates");
    let (_, m, _) = fail(&e, Batch, json!({"Statements": []})).await;
    assert_eq!(m, "1 validation error detected: Value '[]' at 'statements' failed to satisfy constraint: Member must have length greater than or equal to 1");
}

#[tokio::test]
async fn cases_18_to_25_errors_and_numbers() {
    let e = engine().await;
    assert_eq!(
        invalid(&e, r#"SELECT * FROM "NNN" WHERE pk = 1 foo"#).await,
        parse_err("Unexpected token after expression")
    );
    assert_eq!(
        invalid(&e, r#"SELECT * FROM "HHH" t WHERE pk = 'x'"#).await,
        "Aliasing is not supported"
    );
    assert_eq!(
        invalid(&e, r#"SELECT * FROM "HHH" AS t WHERE pk = 'x'"#).await,
        "Aliasing is not supported"
    );
    assert_eq!(
        invalid(&e, r#"INSERT INTO "NNN" VALUE {'pk': 1, 'l': [1, 1e126]}"#).await,
        "Number overflow. Attempting to store a number with magnitude larger than supported range under root[1]"
    );
    let (_, m, _) = fail(
        &e,
        Exec,
        json!({"Statement": r#"SELECT pk FROM "HHH" WHERE pk = ? AND val < ?"#,
            "Parameters": [{"S": "x"}, {"BOOL": true}]}),
    )
    .await;
    assert_eq!(m, "Incorrect operand type for operator or function; operator or function: <, operand type: BOOL");
    assert_eq!(
        invalid(
            &e,
            r#"SELECT * FROM "CCC" WHERE pk='a' AND x='1' OR pk='a' AND sk='2'"#
        )
        .await,
        "Overlapping conditions with range keys are not supported in where clause"
    );
    for sk in ["1", "2", "3"] {
        put(&e, "CCC", json!({"pk": {"S": "p"}, "sk": {"S": sk}})).await;
    }
    let out = exec(&e, r#"SELECT sk FROM "CCC" WHERE pk='p' ORDER BY sk DESC"#).await;
    assert_eq!(
        out["Items"],
        json!([{"sk": {"S": "3"}}, {"sk": {"S": "2"}}, {"sk": {"S": "1"}}])
    );
    let out = exec(&e, r#"SELECT sk FROM "CCC" WHERE pk='p' AND sk > '1'"#).await;
    assert_eq!(
        out["Items"],
        json!([{"sk": {"S": "2"}}, {"sk": {"S": "3"}}])
    );
    put(&e, "NNN", json!({"pk": {"N": "7.3"}})).await;
    assert_eq!(
        exec(&e, r#"SELECT * FROM "NNN" WHERE pk = .73e1"#).await["Items"],
        json!([{"pk": {"N": "7.3"}}])
    );
    assert_eq!(
        invalid(
            &e,
            r#"UPDATE "HHH" SET ss = set_add(ss, <<'x','x'>>) WHERE pk='a'"#
        )
        .await,
        "One or more parameter values were invalid: Input collection [x, x] contains duplicates."
    );
    assert_eq!(
        invalid(&e, r#"SELECT * FROM "HHH"."no-such-index" WHERE pk='p'"#).await,
        "The table does not have the specified index"
    );
}

#[tokio::test]
async fn grammar_errors_have_dynamodbs_details() {
    let e = engine().await;
    let cases = [
        (r#"SLECT * FROM "HHH""#, parse_err("Expected data manipulation")),
        (r#"SELECT * FROM "HHH" WHERE"#, parse_err("Unexpected term")),
        (r#"SELECT * FROM"#, parse_err("Expected identifier for simple path")),
        (r#"SELECT * FROM "HHH" WHERE pk = 'a' AND"#, parse_err("Missing right-hand side expression of infix operator")),
        (r#"SELECT * FROM "HHH" WHERE ORDER BY pk"#, parse_err("Unexpected keyword")),
        (r#"SELECT * FROM "HHH" WHERE IS NULL"#, parse_err("Unexpected operator")),
        (r#"SELECT * FROM "HHH" WHERE pk = LIKE"#, parse_err("Unexpected operator")),
        (r#"SELECT * FROM "HHH" WHERE x IS FOO"#, parse_err("Expected type name")),
        (r#"DELETE FROM"#, parse_err("Expected identifier for simple path")),
        (r#"SELECT * FROM "HHH" WHERE pk = 'a')"#, parse_err("Unexpected token after expression")),
        (r#"SELECT * FROM "HHH" # c"#, parse_err("")),
        (r#"SELECT * FROM "HHH" /* open"#, parse_err("")),
        (r#"SELECT * FROM "NNN" WHERE pk = 1e99999999999"#, parse_err("")),
        (r#"SELECT * FROM "HHH" WHERE pad = 1"#, parse_err("Unexpected keyword")),
        (r#"SELECT * FROM "HHH"; SELECT * FROM "HHH""#, parse_err("Unexpected token after expression")),
        ("x IS MISSING", "Unsupported operation: IsType".to_string()),
        (r#"SELECT count(*) FROM "HHH""#, "Unexpected path component at 1:8:5".to_string()),
        (r#"SELECT * FROM "HHH" WHERE exists(a)"#, "Unrecognized function: exists at 1:27:6".to_string()),
        (r#"SELECT * FROM "HHH" WHERE attribute_exists('x')"#,
            "Operator or function requires a document path; operator or function: attribute_exists".to_string()),
        (r#"SELECT * FROM "HHH" WHERE attribute_exists()"#,
            "Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 0".to_string()),
        (r#"SELECT * FROM "HHH" WHERE x = MISSING"#, "MISSING must be compared using IS operator".to_string()),
        (r#"SELECT a, a FROM "HHH""#, "Duplicate identifiers in select clause: a".to_string()),
        (r#"SELECT *, a FROM "HHH""#, "Other attributes should not be present in the projection when '*' is used.".to_string()),
        (r#"INSERT INTO "HHH"."i" VALUE {'pk': 'a'}"#,
            "FROM clause may only contain a single table name in data manipulation statements at 1:13:9".to_string()),
        (r#"INSERT INTO "HHH" VALUE {'pk': set_add(a, <<'x'>>)}"#, "Unsupported data type: set_add under key root at 1:32:7".to_string()),
        (r#"INSERT INTO "HHH" VALUE {'x': 'a'}"#, "Key attribute should be present in the item: Key pk".to_string()),
        (r#"SELECT * FROM "HHH"."a"."b""#, "A path may contain at most 2 components in the FROM clause".to_string()),
        (r#"SELECT * FROM "HHH" WHERE pk = <<>>"#, "Empty bags are not supported".to_string()),
        (r#"UPDATE "HHH"."i" SET a = 1 WHERE pk = 'a'"#, "This operation is not supported on an index".to_string()),
        (r#"SELECT * FROM "HHH" WHERE pk = ?"#, "Number of parameters in request and statement don't match.".to_string()),
    ];
    for (stmt, want) in cases {
        assert_eq!(invalid(&e, stmt).await, want, "{stmt}");
    }
    // Deep nesting is a parse error, never a stack overflow.
    let deep = format!(r#"SELECT * FROM "HHH" WHERE {}"#, "(".repeat(8192 - 26));
    assert_eq!(invalid(&e, &deep).await, parse_err(""));
    assert_eq!(
        invalid(&e, &"(".repeat(8192)).await,
        parse_err("Expected data manipulation")
    );
    let (_, m, _) = fail(&e, Exec, json!({"Statement": "x".repeat(8193)})).await;
    assert!(m.ends_with("at 'statement' failed to satisfy constraint: Member must have length less than or equal to 8192"), "{m}");
    let (_, m, _) = fail(
        &e,
        Exec,
        json!({"Statement": r#"SELECT * FROM "HHH""#, "Limit": 0}),
    )
    .await;
    assert_eq!(m, "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1");
    let (_, m, _) = fail(
        &e,
        Exec,
        json!({"Statement": r#"SELECT * FROM "HHH""#, "ReturnConsumedCapacity": "BOGUS"}),
    )
    .await;
    assert_eq!(m, "1 validation error detected: Value 'BOGUS' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]");
    let (t, m, _) = fail(&e, Exec, json!({"Statement": r#"SELECT * FROM "Nope""#})).await;
    assert_eq!(
        (t.as_str(), m.as_str()),
        (RNF, "Requested resource not found")
    );
}

#[tokio::test]
async fn where_functions_comments_case_and_literals() {
    let e = engine().await;
    put(&e, "HHH", json!({"pk": {"S": "a"}, "s": {"S": "hello"}, "n": {"N": "5"}, "ss": {"SS": ["x", "y"]},
        "l": {"L": [{"N": "1"}]}, "nul": {"NULL": true}, "m": {"M": {"k": {"L": [{"S": "z0"}, {"S": "z1"}]}}}})).await;
    put(&e, "HHH", json!({"pk": {"S": "b"}, "n": {"N": "50"}})).await;
    let count = |v: Value| v["Items"].as_array().unwrap().len();
    let q = |w: &str| format!(r#"SELECT pk FROM "HHH" WHERE {w}"#);
    for (w, n) in [
        ("begins_with(s, 'he')", 1),
        ("CONTAINS(ss, 'x')", 1),
        ("contains(s, 'ell') AND attribute_exists(l)", 1),
        ("attribute_not_exists(s)", 1),
        ("attribute_type(ss, 'SS')", 1),
        ("size(ss) = 2", 1),
        ("attribute_exists(s) = true", 1),
        ("size(s) > 3", 1),
        ("n BETWEEN 1 AND 10", 1),
        ("n NOT BETWEEN 1 AND 10", 1),
        ("n IN [5, 50]", 2),
        ("n IN (5)", 1),
        ("s IS MISSING", 1),
        ("s IS NOT MISSING", 1),
        ("nul IS NULL", 1),
        ("s IS STRING", 1),
        ("NOT (n = 5) -- trailing comment", 1),
        ("/* c */ n > 5 OR n < 5", 1),
        ("n <> 5", 1),
        ("ss = <<'y', 'x'>>", 1),
        ("l = [1]", 1),
        ("m.k[1] = 'z1'", 1),
        ("\"n\" >= 5", 2),
        ("begins_with(s, 'he') = false", 1),
    ] {
        assert_eq!(count(exec(&e, &q(w)).await), n, "{w}");
    }
    let out = exec(&e, r#"select m.k[1], l[0] from "HHH" where pk = 'a';"#).await;
    assert_eq!(
        out["Items"],
        json!([{"k[1]": {"S": "z1"}, "l[0]": {"N": "1"}}])
    );
    exec(&e, r#"INSERT INTO "NNN" VALUE {'pk': 7.31E6, 'a': -1.50, 'b': 1e0, 't': TRUE, 'z': null, 'm': {'q': [<<1, 4.5>>]}}"#).await;
    let item = get(&e, "NNN", json!({"pk": {"N": "7310000"}})).await["Item"].clone();
    assert_eq!(item["a"], json!({"N": "-1.5"}));
    assert_eq!(item["b"], json!({"N": "1"}));
    assert_eq!(item["t"], json!({"BOOL": true}));
    assert_eq!(item["z"], json!({"NULL": true}));
    assert_eq!(
        item["m"],
        json!({"M": {"q": {"L": [{"NS": ["1", "4.5"]}]}}})
    );
    exec_p(
        &e,
        r#"INSERT INTO "HHH" VALUE ?"#,
        json!([{"M": {"pk": {"S": "p"}, "b": {"B": "AQI="}}}]),
    )
    .await;
    let out = exec_p(
        &e,
        r#"SELECT b FROM "HHH" WHERE pk = ? AND b = ?"#,
        json!([{"S": "p"}, {"B": "AQI="}]),
    )
    .await;
    assert_eq!(out["Items"], json!([{"b": {"B": "AQI="}}]));
}

#[tokio::test]
async fn paging_limit_next_token_and_capacity() {
    let e = engine().await;
    for i in 0..10 {
        put(
            &e,
            "CCC",
            json!({"pk": {"S": "p"}, "sk": {"S": format!("{i:02}")}, "odd": {"BOOL": i % 2 == 1}}),
        )
        .await;
    }
    let stmt = r#"SELECT sk FROM "CCC" WHERE pk = 'p' AND odd = true"#;
    let mut token: Option<String> = None;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let mut body = json!({"Statement": stmt, "Limit": 3});
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let out = ok(&e, Exec, body).await;
        pages += 1;
        for it in out["Items"].as_array().unwrap() {
            seen.push(it["sk"]["S"].as_str().unwrap().to_string());
        }
        match out["NextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ["01", "03", "05", "07", "09"]);
    assert_eq!(pages, 4, "Limit counts items evaluated, not returned");
    let first = ok(&e, Exec, json!({"Statement": stmt, "Limit": 1})).await;
    let t = first["NextToken"].as_str().unwrap();
    let (_, m, _) = fail(
        &e,
        Exec,
        json!({"Statement": r#"SELECT * FROM "CCC""#, "NextToken": t}),
    )
    .await;
    assert_eq!(m, "NextToken does not match request");
    let (_, m, _) = fail(
        &e,
        Exec,
        json!({"Statement": stmt, "NextToken": "garbage!"}),
    )
    .await;
    assert_eq!(m, "Invalid NextToken");
    let out = ok(
        &e,
        Exec,
        json!({"Statement": r#"SELECT * FROM "CCC" WHERE pk = 'p' AND sk = '01'"#,
        "ReturnConsumedCapacity": "TOTAL", "ConsistentRead": true}),
    )
    .await;
    assert_eq!(
        out["ConsumedCapacity"],
        json!({"TableName": "CCC", "CapacityUnits": 1.0})
    );
    let out = ok(
        &e,
        Exec,
        json!({"Statement": r#"INSERT INTO "CCC" VALUE {'pk': 'q', 'sk': 'x'}"#,
        "ReturnConsumedCapacity": "TOTAL"}),
    )
    .await;
    assert_eq!(
        out,
        json!({"Items": [], "ConsumedCapacity": {"TableName": "CCC", "CapacityUnits": 1.0}})
    );
}

#[tokio::test]
async fn one_megabyte_pages() {
    let e = engine().await;
    let blob = "x".repeat(4000);
    for i in 0..300 {
        put(
            &e,
            "HHH",
            json!({"pk": {"S": format!("k{i:03}")}, "b": {"S": blob}}),
        )
        .await;
    }
    let out = exec(&e, r#"SELECT pk FROM "HHH""#).await;
    let n = out["Items"].as_array().unwrap().len();
    assert!(n > 200 && n < 300, "{n}");
    let t = out["NextToken"].as_str().unwrap();
    let rest = ok(
        &e,
        Exec,
        json!({"Statement": r#"SELECT pk FROM "HHH""#, "NextToken": t}),
    )
    .await;
    assert_eq!(n + rest["Items"].as_array().unwrap().len(), 300);
    assert!(rest.get("NextToken").is_none());
}

#[tokio::test]
async fn return_values_on_condition_check_failure() {
    let e = engine().await;
    put(&e, "HHH", json!({"pk": {"S": "a"}, "v": {"N": "1"}})).await;
    let (t, _, body) = fail(
        &e,
        Exec,
        json!({"Statement": r#"UPDATE "HHH" SET v = 2 WHERE pk = 'a' AND v = 5"#,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}),
    )
    .await;
    assert_eq!(t, CCF);
    assert_eq!(body["Item"], json!({"pk": {"S": "a"}, "v": {"N": "1"}}));
}

/// Items for the property test: pk in a small set, sk 0..20, a number attribute.
fn items() -> impl Strategy<Value = Vec<(u8, u8, i32)>> {
    prop::collection::vec((0u8..4, 0u8..20, -5i32..5), 0..40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn select_answers_what_query_and_scan_answer(
        rows in items(),
        pk in 0u8..4,
        lo in 0u8..20,
        v in -5i32..5,
        desc in any::<bool>(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let e = Engine::open(crate::EngineConfig::default()).unwrap();
            table(&e, "RRR", "S", Some("N")).await;
            for (p, s, n) in &rows {
                put(&e, "RRR", json!({"pk": {"S": format!("p{p}")}, "sk": {"N": s.to_string()}, "n": {"N": n.to_string()}})).await;
            }
            let pk = format!("p{pk}");
            let order = if desc { "DESC" } else { "ASC" };
            let sel = exec_p(&e, &format!(r#"SELECT * FROM "RRR" WHERE pk = ? AND sk >= ? AND n > ? ORDER BY sk {order}"#),
                json!([{"S": pk}, {"N": lo.to_string()}, {"N": v.to_string()}])).await;
            let q = ok(&e, Query, json!({"TableName": "RRR", "KeyConditionExpression": "pk = :p AND sk >= :lo",
                "FilterExpression": "n > :v", "ScanIndexForward": !desc,
                "ExpressionAttributeValues": {":p": {"S": pk}, ":lo": {"N": lo.to_string()}, ":v": {"N": v.to_string()}}})).await;
            assert_eq!(&sel["Items"], &q["Items"]);
            let sel = exec_p(&e, r#"SELECT * FROM "RRR" WHERE n > ?"#, json!([{"N": v.to_string()}])).await;
            let s = ok(&e, Scan, json!({"TableName": "RRR", "FilterExpression": "n > :v",
                "ExpressionAttributeValues": {":v": {"N": v.to_string()}}})).await;
            assert_eq!(&sel["Items"], &s["Items"]);
        });
    }
}

#[tokio::test]
async fn index_reads() {
    let e = engine().await;
    ok(
        &e,
        CreateTable,
        json!({"TableName": "GGG", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "g", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [{"IndexName": "gix", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}}]}),
    )
    .await;
    put(&e, "GGG", json!({"pk": {"S": "1"}, "g": {"S": "x"}})).await;
    // A PartiQL write maintains the index (the one write path).
    exec(&e, r#"INSERT INTO "GGG" VALUE {'pk': '2', 'g': 'y'}"#).await;
    let out = exec(&e, r#"SELECT pk FROM "GGG"."gix" WHERE g = 'y'"#).await;
    assert_eq!(out["Items"], json!([{"pk": {"S": "2"}}]));
    put(&e, "GGG", json!({"pk": {"S": "3"}})).await;
    let out = exec(&e, r#"SELECT pk FROM "GGG"."gix" WHERE g = 'x'"#).await;
    assert_eq!(out["Items"], json!([{"pk": {"S": "1"}}]));
    let out = exec(&e, r#"SELECT pk FROM "GGG"."gix""#).await;
    assert_eq!(out["Items"].as_array().unwrap().len(), 2, "sparse index");
    let (_, m, _) = fail(
        &e,
        Exec,
        json!({"Statement": r#"SELECT pk FROM "GGG"."gix""#, "ConsistentRead": true}),
    )
    .await;
    assert_eq!(
        m,
        "Strongly consistent read is not supported on Global Secondary Indexes"
    );
    let r = call(
        &e,
        Exec,
        &json!({"Statement": r#"SELECT * FROM "GGG" WHERE pk IN ['1', '3', 'none']"#}),
    )
    .await
    .unwrap();
    assert_eq!(r["Items"].as_array().unwrap().len(), 2);
}

/// Statement-like text from PartiQL's tokens, for the no-panic property.
fn statement_text() -> impl Strategy<Value = String> {
    let tok = prop::sample::select(vec![
        "SELECT",
        "*",
        "FROM",
        "\"HHH\"",
        "\"HHH\".\"x\"",
        "WHERE",
        "pk",
        "=",
        "'a'",
        "?",
        "AND",
        "OR",
        "NOT",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "<<",
        ">>",
        ",",
        ".",
        "1",
        "-2.5e3",
        "IN",
        "BETWEEN",
        "IS",
        "MISSING",
        "NULL",
        "size(",
        "begins_with(",
        "INSERT",
        "INTO",
        "VALUE",
        "UPDATE",
        "SET",
        "REMOVE",
        "DELETE",
        "RETURNING",
        "ALL",
        "NEW",
        "OLD",
        "MODIFIED",
        "set_add(",
        "list_append(",
        "+",
        "-",
        "EXISTS",
        "ORDER",
        "BY",
        "DESC",
        ":",
        "'k'",
        "--",
        "/*",
        "*/",
        "#",
        ";",
        "v",
        "m.n",
        "l[0]",
        "TRUE",
    ]);
    prop::collection::vec(tok, 0..30).prop_map(|v| v.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn any_statement_answers_without_panic_or_5xx(stmt in statement_text()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let e = Engine::open(crate::EngineConfig::default()).unwrap();
            table(&e, "HHH", "S", None).await;
            put(&e, "HHH", json!({"pk": {"S": "a"}, "v": {"N": "1"}})).await;
            for op in [Exec, Tx] {
                let body = match op {
                    Exec => json!({"Statement": stmt, "Parameters": [{"S": "a"}, {"N": "2"}, {"SS": ["x"]}]}),
                    _ => json!({"TransactStatements": [{"Statement": stmt}]}),
                };
                if let Err((t, m, _)) = call(&e, op, &body).await {
                    assert!(!t.contains("InternalServerError"), "{stmt}: {m}");
                }
            }
        });
    }
}

#[tokio::test]
async fn partiql_writes_are_stream_records() {
    use crate::wire::Operation::{DescribeStream, GetRecords, GetShardIterator};
    let e = engine().await;
    let out = ok(
        &e,
        CreateTable,
        json!({"TableName": "SSS", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}}),
    )
    .await;
    let arn = out["TableDescription"]["LatestStreamArn"]
        .as_str()
        .unwrap()
        .to_string();
    exec(&e, r#"INSERT INTO "SSS" VALUE {'pk': 'a', 'v': 1}"#).await;
    exec(&e, r#"UPDATE "SSS" SET v = 2 WHERE pk = 'a'"#).await;
    ok(
        &e,
        Tx,
        json!({"TransactStatements": [{"Statement": r#"DELETE FROM "SSS" WHERE pk = 'a'"#}]}),
    )
    .await;
    let d = ok(&e, DescribeStream, json!({"StreamArn": arn})).await;
    let shard = d["StreamDescription"]["Shards"][0]["ShardId"]
        .as_str()
        .unwrap()
        .to_string();
    let it = ok(
        &e,
        GetShardIterator,
        json!({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
    )
    .await["ShardIterator"]
        .as_str()
        .unwrap()
        .to_string();
    let recs = ok(&e, GetRecords, json!({"ShardIterator": it})).await["Records"].clone();
    let names: Vec<&str> = recs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["eventName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["INSERT", "MODIFY", "REMOVE"]);
    assert_eq!(recs[1]["dynamodb"]["NewImage"]["v"], json!({"N": "2"}));
}
