//! The bodies of the cargo-fuzz targets (`engine/fuzz/fuzz_targets/*.rs`) as plain
//! functions, so the same oracle runs under libFuzzer (nightly, by hand) and when an
//! ordinary `cargo test` replays every corpus file (`tests/tests/reliability.rs`). Each
//! panics when its oracle fails — that is how a fuzzer or a test sees the failure — and
//! is never called by the server.

use crate::expr::{parse_condition, parse_projection, parse_update, ExprKind};
use crate::model::value::{decode_item, item_to_json_bytes, Deferred};
use crate::model::Number;
use crate::wire::Operation;
use crate::{Engine, EngineConfig};

/// A target's body: runs one input, panics when the oracle fails.
pub type Target = fn(&[u8]);

/// The fuzz targets by name (the corpus folder names), for replaying.
pub const TARGETS: &[(&str, Target)] = &[
    ("attribute_value", attribute_value),
    ("expr_condition", expr_condition),
    ("expr_projection", expr_projection),
    ("expr_update", expr_update),
    ("number", number),
    ("partiql", partiql),
    ("import_readers", import_readers),
    ("request_body", request_body),
];

/// Decoding any JSON as an item never panics, and a decoded item encodes to JSON that
/// decodes to the same item.
pub fn attribute_value(data: &[u8]) {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let mut deferred = Deferred::new();
    if let Ok(item) = decode_item(&json, &mut deferred) {
        if deferred.first.is_none() {
            let bytes = item_to_json_bytes(&item);
            let again: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let mut d2 = Deferred::new();
            assert_eq!(decode_item(&again, &mut d2).ok(), Some(item));
        }
    }
}

/// Condition, filter and key-condition parsing never panics.
pub fn expr_condition(data: &[u8]) {
    if let Ok(src) = std::str::from_utf8(data) {
        for kind in [
            ExprKind::Condition,
            ExprKind::Filter,
            ExprKind::KeyCondition,
        ] {
            let _ = parse_condition(src, kind);
        }
    }
}

/// ProjectionExpression parsing never panics.
pub fn expr_projection(data: &[u8]) {
    if let Ok(src) = std::str::from_utf8(data) {
        let _ = parse_projection(src);
    }
}

/// UpdateExpression parsing never panics or overflows the stack.
pub fn expr_update(data: &[u8]) {
    if let Ok(src) = std::str::from_utf8(data) {
        let _ = parse_update(src);
    }
}

/// Number parsing never panics; printing and re-parsing is the identity.
pub fn number(data: &[u8]) {
    if let Ok(src) = std::str::from_utf8(data) {
        if let Ok(n) = Number::parse(src) {
            assert_eq!(Number::parse(&n.to_string()).ok(), Some(n));
        }
    }
}

const CREATE: &[u8] = br#"{"TableName":"fuzz","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#;

/// Runs `f` on the process's in-memory engine holding table `fuzz`, on its own
/// current-thread runtime (call it outside any tokio runtime). One engine serves every
/// input: opening one per input made these targets run a few executions a second. What
/// earlier inputs wrote stays, so an input's outcome may depend on them; the oracles
/// (no panic, no 500) hold whatever the table holds.
fn with_engine<F: std::future::Future<Output = ()>>(f: impl FnOnce(Engine) -> F) {
    use std::sync::{Mutex, OnceLock};
    static SHARED: OnceLock<Mutex<(tokio::runtime::Runtime, Engine)>> = OnceLock::new();
    let shared = SHARED.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let engine = Engine::open(EngineConfig::default()).expect("engine");
        rt.block_on(async {
            let _ = engine.call(Operation::CreateTable, CREATE).await;
        });
        Mutex::new((rt, engine))
    });
    let guard = shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (rt, engine) = &*guard;
    rt.block_on(async {
        // An input may have deleted or changed the table: make it again if need be.
        let _ = engine.call(Operation::CreateTable, CREATE).await;
        f(engine.clone()).await;
    });
}

/// Any PartiQL statement parses or fails with a 400, and ExecuteStatement answers a
/// result or a DynamoDB error — never a 500.
pub fn partiql(data: &[u8]) {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = crate::partiql::parser::parse(src) {
        assert!(e.status() == 400, "{e}");
    }
    let body = serde_json::json!({"Statement": src, "Parameters": [{"S": "a"}, {"N": "1"}]});
    with_engine(|engine| async move {
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
}

/// Any body sent to any operation (chosen by the first byte) answers a result or a
/// DynamoDB error — never a panic, never a 500.
pub fn request_body(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let ops = Operation::ALL;
    let op = ops[usize::from(selector) % ops.len()];
    with_engine(|engine| async move {
        if let Err(e) = engine.call(op, body).await {
            assert!(e.status() < 500, "{op:?}: {e}");
        }
    });
}

/// The import readers (DynamoDB JSON, CSV with two delimiters, ION, and JSON/ION behind
/// GZIP/ZSTD; the first byte chooses) never panic on any object, and every item they
/// return is one the table accepts: both keys present with their declared types, within
/// DynamoDB's item size.
pub fn import_readers(data: &[u8]) {
    use crate::catalog::{ScalarType, TableDef};
    use crate::import::{ion, read};
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let def = TableDef::plain("fuzz", ("pk", ScalarType::S), Some(("sk", ScalarType::N)));
    let text = || std::str::from_utf8(bytes).ok();
    let (items, _) = match selector % 7 {
        0 => read::dynamodb_json(&def, bytes),
        1 => text().map_or((Vec::new(), None), |t| read::csv(&def, t, ',', None)),
        2 => text().map_or((Vec::new(), None), |t| {
            read::csv(&def, t, ';', Some(&["pk".into(), "sk".into(), "x".into()]))
        }),
        3 => ion::items(&def, bytes),
        4 => match read::decompress("GZIP", bytes) {
            Ok(raw) => read::dynamodb_json(&def, &raw),
            Err(_) => (Vec::new(), None),
        },
        5 => match read::decompress("ZSTD", bytes) {
            Ok(raw) => ion::items(&def, &raw),
            Err(_) => (Vec::new(), None),
        },
        _ => match read::decompress("NONE", bytes) {
            Ok(raw) => read::dynamodb_json(&def, &raw),
            Err(_) => (Vec::new(), None),
        },
    };
    for item in &items {
        if let Err(why) = read::check_item(&def, item) {
            panic!("an imported item the table refuses: {why}");
        }
    }
}
