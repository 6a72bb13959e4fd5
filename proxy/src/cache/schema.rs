//! Table key schemas, learned once per table by calling DescribeTable through the inner
//! upstream, and forgotten when the table is deleted, recreated or updated through this
//! daxlite or the upstream answers ResourceNotFoundException for it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use daxlite_engine::wire::Operation;
use serde_json::Value;

use crate::upstream::{Request, Upstream};

/// A key attribute: name and scalar type (`S`, `N` or `B`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAttr {
    pub name: String,
    pub ty: String,
}

/// What the cache needs to know about one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSchema {
    pub hash: KeyAttr,
    pub range: Option<KeyAttr>,
    /// Global secondary index names (a Query on one depends on every write to the table).
    pub gsis: Vec<String>,
    /// Local secondary index names (same partition key as the table).
    pub lsis: Vec<String>,
}

impl TableSchema {
    /// Parses a DescribeTable answer.
    pub fn from_describe(body: &[u8]) -> Option<TableSchema> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let table = v.get("Table")?;
        let types: HashMap<&str, &str> = table
            .get("AttributeDefinitions")?
            .as_array()?
            .iter()
            .filter_map(|d| {
                Some((
                    d.get("AttributeName")?.as_str()?,
                    d.get("AttributeType")?.as_str()?,
                ))
            })
            .collect();
        let mut hash = None;
        let mut range = None;
        for k in table.get("KeySchema")?.as_array()? {
            let name = k.get("AttributeName")?.as_str()?;
            let attr = KeyAttr {
                name: name.to_string(),
                ty: (*types.get(name)?).to_string(),
            };
            match k.get("KeyType")?.as_str()? {
                "HASH" => hash = Some(attr),
                "RANGE" => range = Some(attr),
                _ => return None,
            }
        }
        let index_names = |member: &str| -> Vec<String> {
            table
                .get(member)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|i| Some(i.get("IndexName")?.as_str()?.to_string()))
                        .collect()
                })
                .unwrap_or_default()
        };
        Some(TableSchema {
            hash: hash?,
            range,
            gsis: index_names("GlobalSecondaryIndexes"),
            lsis: index_names("LocalSecondaryIndexes"),
        })
    }
}

/// Known schemas by table name.
#[derive(Default)]
pub struct Schemas {
    known: RwLock<HashMap<String, Arc<TableSchema>>>,
}

impl Schemas {
    /// The table's schema, asking the upstream once when it is not known yet. `None` when
    /// the upstream cannot describe it (the request then passes through uncached).
    pub async fn get<U: Upstream>(&self, upstream: &U, table: &str) -> Option<Arc<TableSchema>> {
        if let Some(s) = self.known.read().ok()?.get(table) {
            return Some(Arc::clone(s));
        }
        let body = serde_json::to_vec(&serde_json::json!({ "TableName": table })).ok()?;
        let reply = upstream
            .call(Request {
                op: Operation::DescribeTable,
                body: Bytes::from(body),
            })
            .await;
        if !reply.is_success() {
            return None;
        }
        let schema = Arc::new(TableSchema::from_describe(&reply.body)?);
        if let Ok(mut known) = self.known.write() {
            known.insert(table.to_string(), Arc::clone(&schema));
        }
        Some(schema)
    }

    /// Forgets a table's schema (deleted, recreated, updated, or not found upstream).
    pub fn forget(&self, table: &str) {
        if let Ok(mut known) = self.known.write() {
            known.remove(table);
        }
    }

    pub fn clear(&self) {
        if let Ok(mut known) = self.known.write() {
            known.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_describe_table() {
        let body = br#"{"Table":{"TableName":"t","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"},{"AttributeName":"g","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"GlobalSecondaryIndexes":[{"IndexName":"byG","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}]}]}}"#;
        let s = TableSchema::from_describe(body).expect("no schema");
        assert_eq!(s.hash.name, "pk");
        assert_eq!(s.range.as_ref().map(|r| r.ty.as_str()), Some("N"));
        assert_eq!(s.gsis, vec!["byG".to_string()]);
        assert!(TableSchema::from_describe(b"{}").is_none());
    }
}
