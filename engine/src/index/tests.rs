//! Unit tests of index entry keys and projections.

use super::*;
use crate::catalog::{AttributeDef, KeySchema, Projection};

fn table() -> TableDef {
    let json = serde_json::json!({
        "id": 7, "name": "t", "uuid": "u",
        "attributes": [{"name": "pk", "kind": "S"}, {"name": "g", "kind": "N"}],
        "keys": {"hash": "pk", "range": null},
        "billing": "PayPerRequest", "billing_explicit": true, "last_pay_per_request_ms": null,
        "throughput": {"read": 0, "write": 0, "decreases_today": 0, "last_increase_ms": null, "last_decrease_ms": null},
        "on_demand": null, "lsis": [], "gsis": [], "stream": null, "latest_stream": null,
        "sse": null, "table_class": null, "deletion_protection": false, "tags": [],
        "created_ms": 0, "active_at_ms": 0, "updating_until_ms": 0, "lifecycle": "Live"
    });
    let mut t: TableDef = serde_json::from_value(json).unwrap();
    t.attributes.push(AttributeDef {
        name: "h".into(),
        kind: ScalarType::S,
    });
    t
}

fn gsi(kind: ProjectionType, non_key: &[&str]) -> IndexDef {
    IndexDef {
        name: "gi".into(),
        keys: KeySchema {
            hash: "g".into(),
            range: None,
        },
        projection: Projection {
            kind,
            non_key: non_key.iter().map(|s| s.to_string()).collect(),
        },
        throughput: None,
        on_demand: None,
        active_at_ms: 0,
    }
}

fn item(pairs: &[(&str, AttributeValue)]) -> Item {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn n(x: &str) -> AttributeValue {
    AttributeValue::N(crate::model::Number::parse(x).unwrap())
}

fn s(x: &str) -> AttributeValue {
    AttributeValue::S(x.into())
}

#[test]
fn sparse_and_typed_entries() {
    let t = table();
    let ix = gsi(ProjectionType::All, &[]);
    assert!(entry_key(&t, &ix, &item(&[("pk", s("a"))])).is_none());
    assert!(entry_key(&t, &ix, &item(&[("pk", s("a")), ("g", s("x"))])).is_none());
    let k = entry_key(&t, &ix, &item(&[("pk", s("a")), ("g", n("1"))])).unwrap();
    assert!(k.starts_with(&index_prefix(7, "gi")));
    // Same index key, different base keys: different entries, ordered by base key.
    let k2 = entry_key(&t, &ix, &item(&[("pk", s("b")), ("g", n("1"))])).unwrap();
    assert!(k < k2);
}

#[test]
fn projections() {
    let t = table();
    let full = item(&[("pk", s("a")), ("g", n("1")), ("x", s("1")), ("y", s("2"))]);
    let keys = project(&t, &gsi(ProjectionType::KeysOnly, &[]), &full);
    assert_eq!(keys.len(), 2);
    let inc = project(&t, &gsi(ProjectionType::Include, &["y"]), &full);
    assert_eq!(inc.len(), 3);
    assert!(inc.contains_key("y"));
    assert_eq!(project(&t, &gsi(ProjectionType::All, &[]), &full), full);
}

#[test]
fn prefix_end_is_the_next_prefix() {
    assert_eq!(prefix_end(&[1, 2]), vec![1, 3]);
    assert_eq!(prefix_end(&[1, 0xFF]), vec![2]);
}
