//! ConsumedCapacity exactly as DynamoDB computes it for single-item operations: reads in
//! 4 KB units rounded up (half for eventually consistent reads), writes in 1 KB units of
//! the larger of the old and new item; a missing item still costs one unit (dynalite
//! `db/index.js` `capacityUnits` / `addConsumedCapacity`).

use serde_json::{json, Map, Value};

use super::params::CapacityMode;

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
