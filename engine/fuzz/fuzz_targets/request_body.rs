//! Fuzz target: any body sent to any operation of an in-memory engine answers a result or
//! a DynamoDB error — never a panic, never a 500.
#![no_main]
use daxlite_engine::wire::Operation;
use daxlite_engine::{Engine, EngineConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let ops = Operation::ALL;
    let op = ops[usize::from(selector) % ops.len()];
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let engine = Engine::open(EngineConfig::default()).expect("engine");
    let create = br#"{"TableName":"fuzz","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#;
    rt.block_on(async {
        let _ = engine.call(Operation::CreateTable, create).await;
        if let Err(e) = engine.call(op, body).await {
            assert!(e.status() < 500, "{op:?}: {e}");
        }
    });
    engine.close();
});
