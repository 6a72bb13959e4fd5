//! Unit tests of key extraction: every error of docs/LIMITS.md A2 at the value that must pass
//! and the first that must fail, and the storage-key layout.

use super::*;
use crate::catalog::{AttributeDef, IndexDef, IndexKeys, Projection, ProjectionType};
use crate::model::Number;

pub(crate) fn table(range: Option<(&str, ScalarType)>) -> TableDef {
    TableDef::plain("t", ("pk", ScalarType::S), range)
}

fn s(x: &str) -> AttributeValue {
    AttributeValue::S(x.into())
}
fn n(x: &str) -> AttributeValue {
    AttributeValue::N(Number::parse(x).unwrap())
}
fn item(pairs: &[(&str, AttributeValue)]) -> Item {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}
fn msg(r: ApiResult<PrimaryKey>) -> String {
    r.err()
        .and_then(|e| e.message().map(str::to_string))
        .unwrap_or_default()
}

#[test]
fn key_param_must_match_schema_exactly() {
    let t = table(Some(("sk", ScalarType::N)));
    let ok = key_from_param(&t, &item(&[("pk", s("a")), ("sk", n("1"))]));
    assert!(ok.is_ok());
    for bad in [
        item(&[("pk", s("a"))]),
        item(&[("pk", s("a")), ("sk", s("1"))]),
        item(&[("pk", s("a")), ("x", n("1"))]),
        item(&[("pk", s("a")), ("sk", n("1")), ("x", n("1"))]),
    ] {
        assert_eq!(
            msg(key_from_param(&t, &bad)),
            "The provided key element does not match the schema"
        );
    }
}

#[test]
fn item_key_errors() {
    let t = table(Some(("sk", ScalarType::N)));
    assert_eq!(
        msg(key_from_item(&t, &item(&[("sk", n("1"))]))),
        "One or more parameter values were invalid: Missing the key pk in the item"
    );
    assert_eq!(
        msg(key_from_item(&t, &item(&[("pk", s("a")), ("sk", s("1"))]))),
        "One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S"
    );
    assert_eq!(
        msg(key_from_item(&t, &item(&[("pk", s("")), ("sk", n("1"))]))),
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"
    );
    let b = table(Some(("sk", ScalarType::B)));
    assert_eq!(
        msg(key_from_param(&b, &item(&[("pk", s("a")), ("sk", AttributeValue::B(vec![]))]))),
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: sk"
    );
}

#[test]
fn key_size_limits_at_the_boundary() {
    let t = table(Some(("sk", ScalarType::S)));
    let pk_ok = "x".repeat(2048);
    let pk_bad = "x".repeat(2049);
    let sk_ok = "é".repeat(512); // 1024 bytes, 512 chars
    let sk_bad = format!("{}x", "é".repeat(512));
    assert!(key_from_item(&t, &item(&[("pk", s(&pk_ok)), ("sk", s(&sk_ok))])).is_ok());
    assert_eq!(
        msg(key_from_item(&t, &item(&[("pk", s(&pk_bad)), ("sk", s("a"))]))),
        "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes"
    );
    assert_eq!(
        msg(key_from_param(&t, &item(&[("pk", s("a")), ("sk", s(&sk_bad))]))),
        "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
    );
}

#[test]
fn index_keys_are_checked() {
    let mut t = table(None);
    t.attributes.push(AttributeDef {
        name: "g".into(),
        kind: ScalarType::N,
    });
    t.gsis.push(IndexDef {
        name: "gi".into(),
        keys: IndexKeys {
            hash: vec!["g".into()],
            range: Vec::new(),
        },
        projection: Projection {
            kind: ProjectionType::All,
            non_key: vec![],
        },
        throughput: None,
        on_demand: None,
        active_at_ms: 0,
    });
    assert!(key_from_item(&t, &item(&[("pk", s("a"))])).is_ok());
    assert!(key_from_item(&t, &item(&[("pk", s("a")), ("g", n("2"))])).is_ok());
    assert_eq!(
        msg(key_from_item(&t, &item(&[("pk", s("a")), ("g", s("2"))]))),
        "One or more parameter values were invalid: Type mismatch for Index Key g Expected: N Actual: S IndexName: gi"
    );
    t.attributes[1].kind = ScalarType::S;
    assert_eq!(
        msg(key_from_item(&t, &item(&[("pk", s("a")), ("g", s(""))]))),
        "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: gi, IndexKey: g"
    );
}

#[test]
fn storage_keys_group_partitions_and_tables() {
    let t = table(Some(("sk", ScalarType::N)));
    let k1 = key_from_param(&t, &item(&[("pk", s("a")), ("sk", n("2"))])).unwrap();
    let k2 = key_from_param(&t, &item(&[("pk", s("a")), ("sk", n("10"))])).unwrap();
    assert_eq!(&k1.storage[..8], &7u64.to_be_bytes());
    assert!(k1.storage < k2.storage, "sort keys order by value");
    let (start, end) = partition_range(7, &s("a")).unwrap();
    assert!(start <= k1.storage && k2.storage < end);
    let (ts, te) = table_range(7);
    assert!(ts <= k1.storage && k1.storage < te);
    assert_eq!(te, 8u64.to_be_bytes().to_vec());
    // The same number spelled differently is the same key.
    let k3 = key_from_param(&t, &item(&[("pk", s("a")), ("sk", n("1e1"))])).unwrap();
    assert_eq!(k2.storage, k3.storage);
}
