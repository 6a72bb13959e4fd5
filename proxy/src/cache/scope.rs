//! Which writes make a cached Query or Scan page stale (coherent mode): a base-table or
//! LSI Query depends on its partition only — the partition key comes from the
//! KeyConditionExpression (`pk = :v`, `#n = :v`, inside ANDs, parsed with the engine's
//! expression parser) or legacy KeyConditions (`EQ`), canonicalised with the engine's
//! key encoding; Scan pages, GSI Query pages and anything not understood depend on every
//! write to the table.

use bytes::Bytes;
use daxlite_engine::expr::ast::CmpOp;
use daxlite_engine::expr::{parse_condition, Condition, ExprKind, Operand, PathElem};
use daxlite_engine::wire::Operation;
use serde_json::{Map, Value};

use super::coherence::Scope;
use super::keys::{decode_attrs, partition_key};
use super::schema::TableSchema;

/// The scope of a page request (already known to be cacheable).
pub fn page_scope(
    op: Operation,
    req: &Map<String, Value>,
    table: &str,
    schema: Option<&TableSchema>,
) -> Scope {
    let partition = match (op, schema) {
        (Operation::Query, Some(schema)) => query_partition(req, table, schema),
        _ => None,
    };
    partition.map_or(Scope::Table, |p| Scope::partition(&p))
}

/// `table ‖ 0 ‖ encoded partition key` of a base-table or LSI Query.
pub fn query_partition(
    req: &Map<String, Value>,
    table: &str,
    schema: &TableSchema,
) -> Option<Bytes> {
    if let Some(index) = req.get("IndexName") {
        let index = index.as_str()?;
        if !schema.lsis.iter().any(|l| l == index) {
            return None;
        }
    }
    let hash = schema.hash.name.as_str();
    let value = match req.get("KeyConditionExpression") {
        Some(expr) => expression_value(req, expr.as_str()?, hash)?,
        None => legacy_value(req.get("KeyConditions")?, hash)?,
    };
    let mut attrs = Map::new();
    attrs.insert(hash.to_string(), value.clone());
    partition_key(table, schema, &decode_attrs(&Value::Object(attrs))?)
}

/// The JSON value compared for equality with `hash` in a KeyConditionExpression.
fn expression_value<'a>(req: &'a Map<String, Value>, src: &str, hash: &str) -> Option<&'a Value> {
    let cond = parse_condition(src, ExprKind::KeyCondition).ok()?;
    let names = req
        .get("ExpressionAttributeNames")
        .and_then(Value::as_object);
    let placeholder = equality(&cond, hash, names)?;
    req.get("ExpressionAttributeValues")?
        .as_object()?
        .get(&placeholder)
}

/// The `:value` placeholder of `hash = :value` (either side) at the top level or in ANDs.
fn equality(c: &Condition, hash: &str, names: Option<&Map<String, Value>>) -> Option<String> {
    match c {
        Condition::And(a, b) => equality(a, hash, names).or_else(|| equality(b, hash, names)),
        Condition::Compare {
            op: CmpOp::Eq,
            lhs,
            rhs,
        } => match (lhs, rhs) {
            (Operand::Path(p), Operand::Value(v)) | (Operand::Value(v), Operand::Path(p)) => {
                let [elem] = p.elems.as_slice() else {
                    return None;
                };
                let name = match elem {
                    PathElem::Attr(a) => a.as_str(),
                    PathElem::Name(n) => names?.get(n)?.as_str()?,
                    PathElem::Index(_) => return None,
                };
                (name == hash).then(|| v.name.clone())
            }
            _ => None,
        },
        _ => None,
    }
}

/// The value of legacy `KeyConditions: {hash: {ComparisonOperator: EQ, AttributeValueList: [v]}}`.
fn legacy_value<'a>(conditions: &'a Value, hash: &str) -> Option<&'a Value> {
    let c = conditions.get(hash)?;
    if c.get("ComparisonOperator")?.as_str()? != "EQ" {
        return None;
    }
    match c.get("AttributeValueList")?.as_array()?.as_slice() {
        [v] => Some(v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::schema::KeyAttr;
    use serde_json::json;

    fn schema() -> TableSchema {
        TableSchema {
            hash: KeyAttr {
                name: "pk".into(),
                ty: "N".into(),
            },
            range: Some(KeyAttr {
                name: "sk".into(),
                ty: "S".into(),
            }),
            gsis: vec!["byG".into()],
            lsis: vec!["byL".into()],
        }
    }

    fn part(v: Value) -> Option<Bytes> {
        let Value::Object(m) = v else { return None };
        query_partition(&m, "t", &schema())
    }

    #[test]
    fn the_partition_comes_from_either_form_canonicalised() {
        let a = part(
            json!({"KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
            "ExpressionAttributeValues": {":p": {"N": "1.50"}, ":s": {"S": "x"}}}),
        );
        assert!(a.is_some());
        let b = part(json!({"KeyConditionExpression": "(sk > :s) and :p = #k",
            "ExpressionAttributeNames": {"#k": "pk"},
            "ExpressionAttributeValues": {":p": {"N": "1.5"}, ":s": {"S": "x"}}}));
        assert_eq!(a, b);
        let c = part(json!({"KeyConditions": {"pk": {"ComparisonOperator": "EQ",
            "AttributeValueList": [{"N": "15E-1"}]}}}));
        assert_eq!(a, c);
        let lsi = part(
            json!({"IndexName": "byL", "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"N": "1.5"}}}),
        );
        assert_eq!(a, lsi);
        let other = part(json!({"KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"N": "2"}}}));
        assert!(other.is_some() && other != a);
    }

    #[test]
    fn gsis_and_unknown_shapes_depend_on_the_table() {
        for v in [
            json!({"IndexName": "byG", "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"N": "1"}}}),
            json!({"IndexName": "nope", "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"N": "1"}}}),
            json!({"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "1"}}}),
            json!({"KeyConditionExpression": "pk = :p OR pk = :p",
                "ExpressionAttributeValues": {":p": {"N": "1"}}}),
            json!({"KeyConditionExpression": "pk = :q", "ExpressionAttributeValues": {":p": {"N": "1"}}}),
            json!({"KeyConditions": {"pk": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "1"}]}}}),
        ] {
            assert_eq!(part(v.clone()), None, "{v}");
        }
        let Value::Object(scan) = json!({"TableName": "t"}) else {
            return;
        };
        assert_eq!(
            page_scope(Operation::Scan, &scan, "t", Some(&schema())),
            Scope::Table
        );
    }
}
