//! ConsumedCapacity of writes with their index arms (CAPACITY.md §1.4, §1.5): TOTAL is
//! `{TableName, CapacityUnits}`; INDEXES adds `Table` and only the LSI / GSI arms that
//! consumed something. TransactWriteItems mirrors each value into `WriteCapacityUnits`
//! at every level.

use serde_json::{json, Map, Value};

use super::cost::{write_cost, WriteCost};
use crate::catalog::TableDef;
use crate::write::Written;

/// What `written` cost on each arm (`table_factor` 2 in a transaction).
pub fn written_cost(def: &TableDef, written: &Written, table_factor: f64) -> WriteCost {
    write_cost(
        def,
        written.old_decoded(),
        written.old_size,
        written.new.as_ref(),
        table_factor,
    )
}

/// How a ConsumedCapacity object is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// INDEXES (else TOTAL).
    pub indexes: bool,
    /// Mirror every value into `WriteCapacityUnits` (TransactWriteItems).
    pub mirror_write: bool,
}

fn capacity(units: f64, shape: Shape) -> Value {
    if shape.mirror_write {
        json!({"WriteCapacityUnits": units, "CapacityUnits": units})
    } else {
        json!({"CapacityUnits": units})
    }
}

fn arms(list: &[(String, f64)], shape: Shape) -> Value {
    Value::Object(
        list.iter()
            .map(|(n, u)| (n.clone(), capacity(*u, shape)))
            .collect(),
    )
}

/// One table's ConsumedCapacity object.
pub fn consumed(table: &str, cost: &WriteCost, shape: Shape) -> Value {
    let total = cost.total();
    let mut m = Map::new();
    m.insert("TableName".into(), json!(table));
    m.insert("CapacityUnits".into(), json!(total));
    if shape.mirror_write {
        m.insert("WriteCapacityUnits".into(), json!(total));
    }
    if shape.indexes {
        m.insert("Table".into(), capacity(cost.table, shape));
        if !cost.lsis.is_empty() {
            m.insert("LocalSecondaryIndexes".into(), arms(&cost.lsis, shape));
        }
        if !cost.gsis.is_empty() {
            m.insert("GlobalSecondaryIndexes".into(), arms(&cost.gsis, shape));
        }
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let cost = WriteCost {
            table: 2.0,
            lsis: vec![],
            gsis: vec![("g1".into(), 4.0)],
        };
        let total = Shape {
            indexes: false,
            mirror_write: false,
        };
        assert_eq!(
            consumed("T", &cost, total),
            json!({"TableName": "T", "CapacityUnits": 6.0})
        );
        let indexes = Shape {
            indexes: true,
            mirror_write: false,
        };
        assert_eq!(
            consumed("T", &cost, indexes),
            json!({"TableName": "T", "CapacityUnits": 6.0, "Table": {"CapacityUnits": 2.0},
                   "GlobalSecondaryIndexes": {"g1": {"CapacityUnits": 4.0}}})
        );
        let tx = Shape {
            indexes: true,
            mirror_write: true,
        };
        assert_eq!(
            consumed("T", &cost, tx)["GlobalSecondaryIndexes"]["g1"],
            json!({"WriteCapacityUnits": 4.0, "CapacityUnits": 4.0})
        );
    }
}
