//! DynamoDB JSON → Amazon Ion text, as ION exports write it: one `$ion_1_0 {Item:{…}}`
//! line per item; S → string, N → decimal (`103.`, `-17.5`, `6d2`), B → blob, BOOL →
//! bool, NULL → null, L → list, M → struct, and the sets → lists annotated
//! `$dynamodb_SS::` / `$dynamodb_NS::` / `$dynamodb_BS::`.

use serde_json::Value;

/// The Ion line of one stored item (its DynamoDB JSON), newline included.
pub fn item_line(json: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(json).ok()?;
    let mut out = String::from("$ion_1_0 {Item:");
    attrs(&v, &mut out)?;
    out.push_str("}\n");
    Some(out)
}

/// An attribute map as an Ion struct.
fn attrs(v: &Value, out: &mut String) -> Option<()> {
    let m = v.as_object()?;
    out.push('{');
    for (i, (name, value)) in m.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(name, out);
        out.push(':');
        attribute(value, out)?;
    }
    out.push('}');
    Some(())
}

fn string(s: &str, out: &mut String) {
    // JSON string escapes (\" \\ \n \uXXXX ...) are Ion string escapes too.
    out.push_str(&Value::String(s.to_string()).to_string());
}

/// A DynamoDB number's text as an Ion decimal.
pub fn decimal(n: &str) -> String {
    match n.find(['e', 'E']) {
        Some(i) => {
            let (mantissa, exp) = (&n[..i], &n[i + 1..]);
            format!("{mantissa}d{}", exp.trim_start_matches('+'))
        }
        None if n.contains('.') => n.to_string(),
        None => format!("{n}."),
    }
}

fn list<F>(items: &[Value], out: &mut String, mut each: F) -> Option<()>
where
    F: FnMut(&Value, &mut String) -> Option<()>,
{
    out.push('[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(x, out)?;
    }
    out.push(']');
    Some(())
}

/// One `{"<type>": value}` attribute value.
fn attribute(v: &Value, out: &mut String) -> Option<()> {
    let (tag, inner) = v.as_object()?.iter().next()?;
    match (tag.as_str(), inner) {
        ("S", Value::String(s)) => string(s, out),
        ("N", Value::String(n)) => out.push_str(&decimal(n)),
        ("B", Value::String(b)) => {
            out.push_str("{{");
            out.push_str(b);
            out.push_str("}}");
        }
        ("BOOL", Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        ("NULL", _) => out.push_str("null"),
        ("L", Value::Array(items)) => list(items, out, attribute)?,
        ("M", m @ Value::Object(_)) => attrs(m, out)?,
        ("SS", Value::Array(items)) => {
            out.push_str("$dynamodb_SS::");
            list(items, out, |x, o| {
                string(x.as_str()?, o);
                Some(())
            })?;
        }
        ("NS", Value::Array(items)) => {
            out.push_str("$dynamodb_NS::");
            list(items, out, |x, o| {
                o.push_str(&decimal(x.as_str()?));
                Some(())
            })?;
        }
        ("BS", Value::Array(items)) => {
            out.push_str("$dynamodb_BS::");
            list(items, out, |x, o| {
                o.push_str("{{");
                o.push_str(x.as_str()?);
                o.push_str("}}");
                Some(())
            })?;
        }
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn items_become_ion_lines() {
        // Attributes in name order, so the map's order cannot matter.
        let json = br#"{"b":{"B":"AAE="},"bs":{"BS":["AA=="]},"e":{"N":"6E+2"},"f":{"N":"-17.5"},"l":{"L":[{"N":"1"},{"S":"x"}]},"m":{"M":{"k":{"SS":["a","b"]}}},"n":{"N":"103"},"ns":{"NS":["1","2.5"]},"pk":{"S":"a\"b"},"t":{"BOOL":true},"z":{"NULL":true}}"#;
        assert_eq!(
            super::item_line(json).unwrap(),
            "$ion_1_0 {Item:{\"b\":{{AAE=}},\"bs\":$dynamodb_BS::[{{AA==}}],\"e\":6d2,\"f\":-17.5,\"l\":[1.,\"x\"],\"m\":{\"k\":$dynamodb_SS::[\"a\",\"b\"]},\"n\":103.,\"ns\":$dynamodb_NS::[1.,2.5],\"pk\":\"a\\\"b\",\"t\":true,\"z\":null}}\n"
        );
        assert_eq!(super::decimal("1E-130"), "1d-130");
        assert!(super::item_line(b"not json").is_none());
    }
}
