//! Amazon Ion text → items, for ImportTable with InputFormat ION: a stream of top-level
//! values (the `$ion_1_0` version marker skipped), each a struct `{Item:{…}}` — as ION
//! exports write them, one a line, or spread over lines — or a list of such structs.
//! The mapping is the one ION exports use, backwards: string → S, decimal and int → N,
//! blob → B, bool → BOOL, null → NULL, list → L, struct → M, and lists annotated
//! `$dynamodb_SS::` / `$dynamodb_NS::` / `$dynamodb_BS::` → the sets. Floats become N,
//! symbols S **[G]**; timestamps, clobs, s-expressions, nan and infinities are errors.
//! Comments, quoted symbols, long strings and escapes are read. No panics on any input;
//! nesting is bounded.

use serde_json::{json, Map, Value};

mod parse;

use parse::{Ion, Parser};

use super::read::{item_from_json, Bad};
use crate::catalog::TableDef;
use crate::model::Item;

/// The items of one ION object, in order, stopping at the first bad entry (returned
/// with its index).
pub fn items(def: &TableDef, bytes: &[u8]) -> (Vec<Item>, Option<(usize, Bad)>) {
    let mut p = Parser::new(bytes);
    let mut out = Vec::new();
    let mut index = 0;
    loop {
        let entry = match p.skip_space() {
            Err(e) => Err(e),
            Ok(()) if p.at_end() => return (out, None),
            Ok(()) => p.value(0),
        };
        let entries = match entry {
            Ok(Ion::Symbol(s)) if s == "$ion_1_0" => continue,
            Ok(Ion::List(list, _)) => list,
            Ok(v) => vec![v],
            Err(e) => return (out, Some((index, e))),
        };
        for v in entries {
            match entry_item(def, v) {
                Ok(item) => out.push(item),
                Err(e) => return (out, Some((index, e))),
            }
            index += 1;
        }
    }
}

/// `{Item:{…}}` → the item.
fn entry_item(def: &TableDef, v: Ion) -> Result<Item, Bad> {
    let Ion::Struct(fields) = v else {
        return Err("Each entry must be an Ion struct with an Item".into());
    };
    let attrs = fields
        .into_iter()
        .find(|(k, _)| k == "Item")
        .ok_or_else(|| Bad::from("Missing the Item key"))?
        .1;
    let Ion::Struct(attrs) = attrs else {
        return Err("Item must be a struct of attributes".into());
    };
    let mut m = Map::new();
    for (k, v) in attrs {
        m.insert(k, attribute(v)?);
    }
    item_from_json(def, &Value::Object(m))
}

/// One Ion value as a DynamoDB JSON attribute value.
fn attribute(v: Ion) -> Result<Value, Bad> {
    Ok(match v {
        Ion::Null => json!({"NULL": true}),
        Ion::Bool(b) => json!({ "BOOL": b }),
        Ion::Number(n) => json!({ "N": n }),
        Ion::Str(s) | Ion::Symbol(s) => json!({ "S": s }),
        Ion::Blob(b) => json!({ "B": b }),
        Ion::Struct(fields) => {
            let mut m = Map::new();
            for (k, v) in fields {
                m.insert(k, attribute(v)?);
            }
            json!({ "M": m })
        }
        Ion::List(items, annotation) => {
            let set = match annotation.as_deref() {
                None => None,
                Some("$dynamodb_SS") => Some("SS"),
                Some("$dynamodb_NS") => Some("NS"),
                Some("$dynamodb_BS") => Some("BS"),
                Some(other) => return Err(format!("Unsupported Ion annotation {other}")),
            };
            let Some(tag) = set else {
                let list = items.into_iter().map(attribute).collect::<Result<_, _>>()?;
                return Ok(json!({ "L": Value::Array(list) }));
            };
            let mut members = Vec::new();
            for x in items {
                match (tag, x) {
                    ("SS", Ion::Str(s)) | ("NS", Ion::Number(s)) | ("BS", Ion::Blob(s)) => {
                        members.push(Value::String(s))
                    }
                    _ => return Err(format!("A {tag} set member has the wrong Ion type")),
                }
            }
            json!({ tag: members })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::ScalarType;
    use crate::model::AttributeValue as AV;
    use proptest::prelude::*;

    fn table() -> TableDef {
        crate::keys::tests::table(Some(("sk", ScalarType::N)))
    }

    #[test]
    fn export_lines_read_back() {
        let json = br#"{"b":{"B":"AAE="},"bs":{"BS":["AA=="]},"e":{"N":"6E+2"},"f":{"N":"-17.5"},"l":{"L":[{"N":"1"},{"S":"x"}]},"m":{"M":{"k":{"SS":["a","b"]}}},"ns":{"NS":["1","2.5"]},"pk":{"S":"a\"b"},"sk":{"N":"103"},"t":{"BOOL":true},"z":{"NULL":true}}"#;
        let line = crate::export::ion::item_line(json).unwrap();
        let (items, bad) = super::items(&table(), line.repeat(2).as_bytes());
        assert!(bad.is_none(), "{bad:?}");
        assert_eq!(items.len(), 2);
        let mut d = crate::model::value::Deferred::new();
        let want = crate::model::value::decode_item(
            &serde_json::from_slice::<Value>(json).unwrap(),
            &mut d,
        )
        .unwrap();
        assert_eq!(items[0], want);
    }

    #[test]
    fn hand_written_ion_reads() {
        let src = br#"$ion_1_0
// a comment
[{ Item: { pk: 'sym', sk: 0x10, n: 1_000, f: 2.5e3, s: '''long ''' '''string''',
           q: "\u00e9\x41", nul: null.string, /* block */ ss: $dynamodb_SS::["x"] } }]
{Item:{pk:"b",sk:1d-2}}"#;
        let (items, bad) = super::items(&table(), src);
        assert!(bad.is_none(), "{bad:?}");
        assert_eq!(items.len(), 2);
        let a = &items[0];
        assert_eq!(a.get("pk"), Some(&AV::S("sym".into())));
        assert_eq!(a.get("s"), Some(&AV::S("long string".into())));
        assert_eq!(a.get("q"), Some(&AV::S("éA".into())));
        assert_eq!(a.get("nul"), Some(&AV::Null));
        let n = |v: Option<&AV>| match v {
            Some(AV::N(n)) => n.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(n(a.get("sk")), "16");
        assert_eq!(n(a.get("n")), "1000");
        assert_eq!(n(a.get("f")), "2500");
        assert_eq!(n(items[1].get("sk")), "0.01");
    }

    #[test]
    fn bad_entries_stop_the_object() {
        for (src, at) in [
            (
                &b"{Item:{pk:\"a\",sk:1}} {Item:{sk:2}} {Item:{pk:\"c\",sk:3}}"[..],
                1,
            ),
            (b"{Item:{pk:\"a\",sk:1}} 2024-01-01T", 1),
            (b"{Item:{pk:\"a\",sk:(1)}}", 0),
            (b"{Item:{pk:\"a\",sk:1,x:+inf}}", 0),
            (b"{NotItem:{}}", 0),
            (b"{Item:{pk:\"a\",sk:1,s:$dynamodb_SS::[1]}}", 0),
        ] {
            let (_, bad) = super::items(&table(), src);
            assert_eq!(
                bad.map(|b| b.0),
                Some(at),
                "{}",
                String::from_utf8_lossy(src)
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = super::items(&table(), &bytes);
        }

        #[test]
        fn never_panics_on_ion_like_text(text in "[{}\\[\\]:,'\"a-z0-9.$_ \\n\\\\-]{0,200}") {
            let _ = super::items(&table(), text.as_bytes());
        }
    }
}
