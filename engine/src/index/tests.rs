//! Unit tests of index entry keys and projections.

use super::*;
use crate::catalog::{AttributeDef, IndexKeys, Projection};

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
        keys: IndexKeys {
            hash: vec!["g".into()],
            range: Vec::new(),
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

fn multi(hash: &[&str], range: &[&str]) -> IndexDef {
    let mut ix = gsi(ProjectionType::All, &[]);
    ix.keys = IndexKeys {
        hash: hash.iter().map(|s| s.to_string()).collect(),
        range: range.iter().map(|s| s.to_string()).collect(),
    };
    ix
}

fn enc(v: &AttributeValue) -> Vec<u8> {
    let mut out = Vec::new();
    assert!(encode_key_value(v, &mut out));
    out
}

#[test]
fn single_attribute_entries_keep_the_version_1_layout() {
    // `prefix ‖ hash_prefix(enc(g)) ‖ enc(g) ‖ enc(pk)`: what every data file before
    // multi-attribute keys holds, so they read without a migration.
    let t = table();
    let k = entry_key(
        &t,
        &gsi(ProjectionType::All, &[]),
        &item(&[("pk", s("a")), ("g", n("5"))]),
    );
    let mut want = index_prefix(7, "gi");
    want.extend_from_slice(&hash_prefix(&enc(&n("5"))).to_be_bytes());
    want.extend(enc(&n("5")));
    want.extend(enc(&s("a")));
    assert_eq!(k, Some(want));
}

#[test]
fn multi_attribute_entries_are_the_tuple_of_encodings() {
    let t = table();
    let ix = multi(&["h", "g"], &["x", "y"]);
    let mut t = t;
    for name in ["x", "y"] {
        t.attributes.push(AttributeDef {
            name: name.into(),
            kind: ScalarType::S,
        });
    }
    let full = item(&[
        ("pk", s("a")),
        ("h", s("p")),
        ("g", n("2")),
        ("x", s("m")),
        ("y", s("z")),
    ]);
    let k = entry_key(&t, &ix, &full).unwrap();
    let pk: Vec<u8> = [enc(&s("p")), enc(&n("2"))].concat();
    let mut want = index_prefix(7, "gi");
    want.extend_from_slice(&hash_prefix(&pk).to_be_bytes());
    want.extend(&pk);
    want.extend(enc(&s("m")));
    want.extend(enc(&s("z")));
    want.extend(enc(&s("a")));
    assert_eq!(k, want);
    assert!(k.starts_with(&partition_prefix(&t, &ix, &[s("p"), n("2")]).unwrap()));
    // Sparse: any one key attribute missing or mistyped keeps the item out.
    for drop in ["h", "g", "x", "y"] {
        let mut partial = full.clone();
        partial.remove(drop);
        assert!(entry_key(&t, &ix, &partial).is_none(), "{drop}");
    }
    let mut wrong = full.clone();
    wrong.insert("y".into(), n("1"));
    assert!(entry_key(&t, &ix, &wrong).is_none());
    // Tuple order: ("m", "z") < ("ma", "a") < ("n", "")-free ("n", "a").
    let with = |x: &str, y: &str| {
        let mut i = full.clone();
        i.insert("x".into(), s(x));
        i.insert("y".into(), s(y));
        entry_key(&t, &ix, &i).unwrap()
    };
    assert!(with("m", "z") < with("ma", "a"));
    assert!(with("ma", "a") < with("n", "a"));
}

#[test]
fn index_keys_read_the_old_catalog_shape_and_write_it_when_single() {
    let old: IndexKeys = serde_json::from_str(r#"{"hash":"g","range":"r"}"#).unwrap();
    assert_eq!(old.hash, vec!["g".to_string()]);
    assert_eq!(old.range, vec!["r".to_string()]);
    let none: IndexKeys = serde_json::from_str(r#"{"hash":"g","range":null}"#).unwrap();
    assert!(none.range.is_empty());
    assert_eq!(
        serde_json::to_string(&old).unwrap(),
        r#"{"hash":"g","range":"r"}"#
    );
    let m = multi(&["a", "b"], &["c"]).keys;
    let text = serde_json::to_string(&m).unwrap();
    assert_eq!(text, r#"{"hash":["a","b"],"range":["c"]}"#);
    assert_eq!(serde_json::from_str::<IndexKeys>(&text).unwrap(), m);
}
