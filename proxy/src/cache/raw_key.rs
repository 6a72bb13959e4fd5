//! A GetItem `Key` read straight from the request bytes: attribute names and S / N values
//! borrowed, encoded into the cache's item key without building a `serde_json::Value`
//! or an `Item` (the cache-hit path's parse). Anything else — B values, unknown value
//! members, a key of the wrong shape — reports `None`, and the caller takes the general
//! path (`keys::key_param`), so this only ever decides faster, never differently.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use daxlite_engine::model::keycodec::{encode_n, encode_s};
use daxlite_engine::model::number::Number;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

use super::schema::{KeyAttr, TableSchema};

/// One attribute value as sent; only `{"S": …}` or `{"N": …}` alone is usable.
#[derive(Debug, Default, PartialEq)]
pub struct RawValue<'a> {
    pub s: Option<Cow<'a, str>>,
    pub n: Option<Cow<'a, str>>,
    /// Some other member was present (B, BOOL, …, or an unknown one).
    pub other: bool,
}

/// A `Key` map as sent, in request order (at most a handful of entries).
#[derive(Debug, Default, PartialEq)]
pub struct RawKey<'a>(pub Vec<(Cow<'a, str>, RawValue<'a>)>);

impl<'de: 'a, 'a> Deserialize<'de> for RawValue<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawValue<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an attribute value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut out = RawValue::default();
                while let Some(k) = m.next_key::<Cow<'de, str>>()? {
                    match k.as_ref() {
                        "S" if out.s.is_none() => out.s = Some(m.next_value::<Cow<'de, str>>()?),
                        "N" if out.n.is_none() => out.n = Some(m.next_value::<Cow<'de, str>>()?),
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                            out.other = true;
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawKey<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawKey<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(2);
                while let Some(k) = m.next_key::<Cow<'de, str>>()? {
                    out.push((k, m.next_value::<RawValue<'de>>()?));
                }
                Ok(RawKey(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl RawKey<'_> {
    fn get(&self, name: &str) -> Option<&RawValue<'_>> {
        let mut found = self.0.iter().filter(|(k, _)| k == name);
        let first = found.next().map(|(_, v)| v);
        // A name sent twice is for the general path to judge.
        found.next().is_none().then_some(first).flatten()
    }

    /// The cache's item key (`keys::item_key`'s bytes), or `None` for the general path.
    pub fn item_key(&self, table: &str, schema: &TableSchema) -> Option<Bytes> {
        let expected = 1 + usize::from(schema.range.is_some());
        if self.0.len() != expected {
            return None;
        }
        let mut out = Vec::with_capacity(table.len() + 32);
        out.extend_from_slice(table.as_bytes());
        out.push(0);
        encode(&schema.hash, self.get(&schema.hash.name)?, &mut out)?;
        if let Some(r) = &schema.range {
            encode(r, self.get(&r.name)?, &mut out)?;
        }
        Some(Bytes::from(out))
    }
}

fn encode(attr: &KeyAttr, v: &RawValue<'_>, out: &mut Vec<u8>) -> Option<()> {
    if v.other {
        return None;
    }
    match (attr.ty.as_str(), &v.s, &v.n) {
        ("S", Some(s), None) if !s.is_empty() && s.len() <= 2048 => encode_s(s, out),
        ("N", None, Some(n)) => encode_n(&Number::parse(n).ok()?, out),
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::super::keys::key_param;
    use super::super::schema::KeyAttr;
    use super::*;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    fn schema(range: &str) -> TableSchema {
        TableSchema {
            hash: KeyAttr {
                name: "pk".into(),
                ty: "S".into(),
            },
            range: Some(KeyAttr {
                name: "sk".into(),
                ty: range.into(),
            }),
            gsis: vec![],
            lsis: vec![],
        }
    }

    fn raw(v: &Value) -> Option<Bytes> {
        let text = serde_json::to_string(v).ok()?;
        let key: RawKey<'_> = serde_json::from_str(&text).ok()?;
        key.item_key("t", &schema("N"))
    }

    #[test]
    fn agrees_with_the_general_path_or_defers_to_it() {
        for v in [
            json!({"pk": {"S": "a"}, "sk": {"N": "1.50"}}),
            json!({"sk": {"N": "-0"}, "pk": {"S": "a\u{0}b"}}),
            json!({"pk": {"S": "a"}, "sk": {"N": "1e3"}}),
        ] {
            assert_eq!(raw(&v), key_param("t", &schema("N"), &v), "{v}");
            assert!(raw(&v).is_some(), "{v}");
        }
        for v in [
            json!({"pk": {"S": "a"}, "sk": {"S": "1"}}),
            json!({"pk": {"S": ""}, "sk": {"N": "1"}}),
            json!({"pk": {"S": "a", "N": "1"}, "sk": {"N": "1"}}),
            json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "y"}}),
            json!({"pk": {"S": "a"}, "sk": {"N": "x"}}),
            json!({"pk": {"S": "a"}, "sk": {"N": "1", "Z": 1}}),
            json!({"pk": {"B": "AA=="}, "sk": {"N": "1"}}),
        ] {
            assert_eq!(raw(&v), None, "{v}");
        }
    }

    proptest! {
        // Whenever the fast path answers, it answers what the general path answers.
        #[test]
        fn never_differs(pk in "[a-z\u{0}-\u{7f}]{0,8}", n in "-?[0-9]{1,6}(\\.[0-9]{0,4})?",
                         extra in proptest::bool::ANY) {
            let mut v = json!({"pk": {"S": pk}, "sk": {"N": n}});
            if extra { v["sk"]["S"] = json!("x"); }
            if let Some(fast) = raw(&v) {
                prop_assert_eq!(Some(fast), key_param("t", &schema("N"), &v));
            }
        }
    }
}
