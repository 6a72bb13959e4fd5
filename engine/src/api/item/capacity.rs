//! ConsumedCapacity exactly as DynamoDB computes it for single-item operations: reads in
//! 4 KB units rounded up (half for eventually consistent reads), writes in 1 KB units of
//! the larger of the old and new item; a missing item still costs one unit (dynalite
//! `db/index.js` `capacityUnits` / `addConsumedCapacity`).

use serde_json::{json, Map, Value};

use super::params::CapacityMode;
use crate::catalog::TableDef;
use crate::model::size::item_size;
use crate::model::Item;

/// Read units for an item of `size` bytes (`None`: no item).
pub fn read_units(size: Option<usize>, consistent: bool) -> f64 {
    let units = size.map(|s| s.div_ceil(4096).max(1)).unwrap_or(1) as f64;
    if consistent {
        units
    } else {
        units / 2.0
    }
}

/// Write units for a write that replaced `old` (bytes) with `new` (bytes).
pub fn write_units(old: Option<usize>, new: Option<usize>) -> f64 {
    let units = |s: Option<usize>| s.map(|s| s.div_ceil(1024).max(1)).unwrap_or(1);
    units(new).max(old.map(|o| units(Some(o))).unwrap_or(0)) as f64
}

/// What one write (or a table's share of a batch) consumed: the table arm and the arm of
/// each secondary index whose entry the write changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteUnits {
    pub table: f64,
    /// (index name, is a GSI, units), in the table's index order.
    pub indexes: Vec<(String, bool, f64)>,
}

impl WriteUnits {
    /// The units of a write that replaced `old` with `new` on `def` (sizes in bytes):
    /// the table arm as [`write_units`], and per index (CAPACITY.md §1.4, DynamoDB Local
    /// gives the same figures): an entry added or removed costs its own size in 1 KB
    /// units; a moved entry (index key changed) costs the old and the new one; an entry
    /// whose projection changed costs the larger; an unchanged entry costs nothing (the
    /// arm is omitted).
    pub fn of_write(
        def: &TableDef,
        old: Option<(&Item, usize)>,
        new: Option<(&Item, usize)>,
    ) -> WriteUnits {
        let table = write_units(old.map(|o| o.1), new.map(|n| n.1));
        let mut indexes = Vec::new();
        let kb = |item: &Item| item_size(item).div_ceil(1024).max(1) as f64;
        let gsis = def.gsis.iter().map(|ix| (ix, true));
        for (ix, is_gsi) in gsis.chain(def.lsis.iter().map(|ix| (ix, false))) {
            let entry = |item: Option<(&Item, usize)>| {
                let (item, _) = item?;
                let key = crate::index::entry_key(def, ix, item)?;
                Some((key, crate::index::project(def, ix, item)))
            };
            let units = match (entry(old), entry(new)) {
                (None, None) => continue,
                (None, Some((_, e))) | (Some((_, e)), None) => kb(&e),
                (Some((k1, e1)), Some((k2, e2))) if k1 != k2 => kb(&e1) + kb(&e2),
                (Some((_, e1)), Some((_, e2))) if e1 == e2 => continue,
                (Some((_, e1)), Some((_, e2))) => kb(&e1).max(kb(&e2)),
            };
            indexes.push((ix.name.clone(), is_gsi, units));
        }
        WriteUnits { table, indexes }
    }

    /// Adds another write's units (a batch or transaction on the same table), the table
    /// arm scaled by `factor` (2 in a transaction; index arms are never doubled).
    pub fn add(&mut self, other: &WriteUnits, factor: f64) {
        self.table += factor * other.table;
        for (name, is_gsi, u) in &other.indexes {
            match self.indexes.iter_mut().find(|(n, _, _)| n == name) {
                Some(slot) => slot.2 += u,
                None => self.indexes.push((name.clone(), *is_gsi, *u)),
            }
        }
    }

    pub fn total(&self) -> f64 {
        self.table + self.indexes.iter().map(|(_, _, u)| u).sum::<f64>()
    }
}

/// The ConsumedCapacity object of a write, or `None` when the caller did not ask: TOTAL
/// counts every arm; INDEXES lists the table arm and the index arms that consumed.
pub fn consumed_write(mode: CapacityMode, table: &str, units: &WriteUnits) -> Option<Value> {
    let mut out = consumed(mode, table, units.total())?;
    if mode == CapacityMode::Indexes {
        if let Value::Object(m) = &mut out {
            m.insert("Table".into(), json!({"CapacityUnits": units.table}));
            for (key, gsi) in [
                ("GlobalSecondaryIndexes", true),
                ("LocalSecondaryIndexes", false),
            ] {
                let arms: Map<String, Value> = units
                    .indexes
                    .iter()
                    .filter(|(_, g, _)| *g == gsi)
                    .map(|(n, _, u)| (n.clone(), json!({"CapacityUnits": u})))
                    .collect();
                if !arms.is_empty() {
                    m.insert(key.into(), Value::Object(arms));
                }
            }
        }
    }
    Some(out)
}

/// Copies every `CapacityUnits` of a ConsumedCapacity (list, entry, `Table`, index arms)
/// into `field` (`WriteCapacityUnits` / `ReadCapacityUnits`), as DynamoDB reports the
/// transactional operations (CAPACITY.md §1.5).
pub fn mirror_axis(v: &mut Value, field: &str) {
    match v {
        Value::Array(list) => list.iter_mut().for_each(|e| mirror_axis(e, field)),
        Value::Object(m) => {
            if let Some(units) = m.get("CapacityUnits").cloned() {
                m.insert(field.to_string(), units);
            }
            for (_, child) in m.iter_mut() {
                if child.is_object() {
                    mirror_axis(child, field);
                }
            }
        }
        _ => {}
    }
}

/// The ConsumedCapacity object, or `None` when the caller did not ask for it.
pub fn consumed(mode: CapacityMode, table: &str, units: f64) -> Option<Value> {
    match mode {
        CapacityMode::None => None,
        CapacityMode::Total => Some(json!({"TableName": table, "CapacityUnits": units})),
        CapacityMode::Indexes => {
            let mut m = Map::new();
            m.insert("TableName".into(), json!(table));
            m.insert("CapacityUnits".into(), json!(units));
            m.insert("Table".into(), json!({"CapacityUnits": units}));
            Some(Value::Object(m))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_and_write_units() {
        assert_eq!(read_units(None, false), 0.5);
        assert_eq!(read_units(Some(4096), true), 1.0);
        assert_eq!(read_units(Some(4097), true), 2.0);
        assert_eq!(read_units(Some(4097), false), 1.0);
        assert_eq!(write_units(None, Some(1024)), 1.0);
        assert_eq!(write_units(None, Some(1025)), 2.0);
        assert_eq!(write_units(Some(3000), Some(10)), 3.0);
        assert_eq!(write_units(Some(10), None), 1.0);
        assert_eq!(write_units(None, None), 1.0);
    }
}
