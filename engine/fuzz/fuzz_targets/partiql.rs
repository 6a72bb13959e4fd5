//! Fuzz target: any PartiQL statement parses or fails with a ValidationException (never a
//! panic or a stack overflow), and ExecuteStatement on an in-memory engine with one
//! table answers a result or a DynamoDB error — never a 500.
#![no_main]
use daxlite_engine::partiql::parser;
use daxlite_engine::wire::Operation;
use daxlite_engine::{Engine, EngineConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = parser::parse(src) {
        assert!(e.status() == 400, "{e}");
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let engine = Engine::open(EngineConfig::default()).expect("engine");
    let create = br#"{"TableName":"fuzz","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#;
    let body = serde_json::json!({"Statement": src, "Parameters": [{"S": "a"}, {"N": "1"}]});
    rt.block_on(async {
        let _ = engine.call(Operation::CreateTable, create).await;
        let _ = engine
            .call(
                Operation::ExecuteStatement,
                br#"{"Statement":"INSERT INTO fuzz VALUE {'pk':'a','n':1}"}"#,
            )
            .await;
        let bytes = serde_json::to_vec(&body).expect("json");
        if let Err(e) = engine.call(Operation::ExecuteStatement, &bytes).await {
            assert!(e.status() < 500, "{e}");
        }
    });
    engine.close();
});
