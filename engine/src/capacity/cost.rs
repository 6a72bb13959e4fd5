//! What one item write costs on each arm, as the buckets are debited: the table arm
//! (1 KB units of the larger of the old and new item), each LSI's arm (charged to the
//! table's bucket) and each GSI's arm (its own bucket), per the index-entry rules of
//! CAPACITY.md §1.4: an entry added or removed costs its size, a changed projection the
//! larger size, a moved entry (index key changed) both sizes rounded separately, an
//! unchanged entry nothing.

use crate::catalog::{IndexDef, TableDef};
use crate::index::{entry_key, project};
use crate::model::size::item_size;
use crate::model::Item;

/// 1 KB write units of `bytes`, at least 1.
pub fn wu(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// The units one write costs on each arm.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteCost {
    /// The table arm.
    pub table: f64,
    /// LSI arms that cost something, by index name (debited from the table's bucket).
    pub lsis: Vec<(String, f64)>,
    /// GSI arms that cost something, by index name (each GSI's own bucket).
    pub gsis: Vec<(String, f64)>,
}

impl WriteCost {
    /// What the table's bucket pays: the table arm and every LSI arm.
    pub fn table_bucket(&self) -> f64 {
        self.table + self.lsis.iter().map(|(_, u)| u).sum::<f64>()
    }

    /// The table arm plus every index arm.
    pub fn total(&self) -> f64 {
        self.table_bucket() + self.gsis.iter().map(|(_, u)| u).sum::<f64>()
    }

    /// Adds `other`'s arms to these (a batch's or transaction's per-table sum).
    pub fn add(&mut self, other: &WriteCost) {
        self.table += other.table;
        for (list, more) in [(&mut self.lsis, &other.lsis), (&mut self.gsis, &other.gsis)] {
            for (name, u) in more {
                match list.iter_mut().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 += u,
                    None => list.push((name.clone(), *u)),
                }
            }
        }
    }
}

/// The cost of replacing the old item (of `old_size` bytes, 0 when there was none) with
/// `new`; `table_factor` is 2 for a transaction's table arm (index arms are not doubled).
/// `old` is the old item decoded, read only for the index arms (a table without
/// secondary indexes may pass `None` for an item that existed).
pub fn write_cost(
    def: &TableDef,
    old: Option<&Item>,
    old_size: usize,
    new: Option<&Item>,
    table_factor: f64,
) -> WriteCost {
    let new_size = new.map(item_size).unwrap_or(0);
    // A stored item is never 0 bytes: its key attributes count.
    let table = match (old_size, new) {
        (0, None) => 1.0,
        _ => wu(old_size.max(new_size)),
    };
    let mut cost = WriteCost {
        table: table * table_factor,
        lsis: Vec::new(),
        gsis: Vec::new(),
    };
    for ix in &def.lsis {
        if let Some(units) = index_arm(def, ix, old, new) {
            cost.lsis.push((ix.name.clone(), units));
        }
    }
    for ix in &def.gsis {
        if let Some(units) = index_arm(def, ix, old, new) {
            cost.gsis.push((ix.name.clone(), units));
        }
    }
    cost
}

/// One index's charge for the change, `None` when the index is untouched.
pub fn index_arm(
    def: &TableDef,
    ix: &IndexDef,
    old: Option<&Item>,
    new: Option<&Item>,
) -> Option<f64> {
    let entry = |item: Option<&Item>| {
        let item = item?;
        let key = entry_key(def, ix, item)?;
        Some((key, project(def, ix, item)))
    };
    match (entry(old), entry(new)) {
        (None, None) => None,
        (None, Some((_, n))) => Some(wu(item_size(&n))),
        (Some((_, o)), None) => Some(wu(item_size(&o))),
        (Some((ko, o)), Some((kn, n))) if ko != kn => Some(wu(item_size(&o)) + wu(item_size(&n))),
        (Some((_, o)), Some((_, n))) if o == n => None,
        (Some((_, o)), Some((_, n))) => Some(wu(item_size(&o)).max(wu(item_size(&n)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{
        AttributeDef, BillingMode, IndexKeys, KeySchema, Projection, ProjectionType, ScalarType,
    };
    use crate::model::AttributeValue;

    fn table(projection: ProjectionType, non_key: &[&str]) -> TableDef {
        let text = r#"{"id":1,"name":"T","uuid":"u","attributes":[],"keys":{"hash":"pk","range":null},
            "billing":"Provisioned","billing_explicit":true,"last_pay_per_request_ms":null,
            "throughput":{"read":1,"write":1,"decreases_today":0,"last_increase_ms":null,"last_decrease_ms":null},
            "on_demand":null,"lsis":[],"gsis":[],"stream":null,"latest_stream":null,"sse":null,
            "table_class":null,"deletion_protection":false,"tags":[],"created_ms":0,
            "active_at_ms":0,"updating_until_ms":0,"lifecycle":"Live"}"#;
        let mut def: TableDef = serde_json::from_str(text).expect("fixture");
        assert_eq!(def.billing, BillingMode::Provisioned);
        def.attributes = ["pk", "gk"]
            .iter()
            .map(|n| AttributeDef {
                name: n.to_string(),
                kind: ScalarType::S,
            })
            .collect();
        def.keys = KeySchema {
            hash: "pk".into(),
            range: None,
        };
        def.gsis.push(IndexDef {
            name: "g1".into(),
            keys: IndexKeys {
                hash: vec!["gk".into()],
                range: vec![],
            },
            projection: Projection {
                kind: projection,
                non_key: non_key.iter().map(|s| s.to_string()).collect(),
            },
            throughput: None,
            on_demand: None,
            active_at_ms: 0,
        });
        def
    }

    fn item(pairs: &[(&str, &str)]) -> Item {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string())))
            .collect()
    }

    #[test]
    fn entry_rules_of_the_spec() {
        let def = table(ProjectionType::Include, &["inc"]);
        let big = "x".repeat(1500);
        let old = item(&[("pk", "a"), ("gk", "k1"), ("pad", &big)]);
        let ix = &def.gsis[0];
        // Absent both ways: no arm.
        let bare = item(&[("pk", "a")]);
        assert_eq!(index_arm(&def, ix, Some(&bare), Some(&bare)), None);
        // Added, removed.
        assert_eq!(index_arm(&def, ix, None, Some(&old)), Some(1.0));
        assert_eq!(index_arm(&def, ix, Some(&old), None), Some(1.0));
        // A non-projected attribute changes: nothing on INCLUDE.
        let other = item(&[("pk", "a"), ("gk", "k1"), ("pad", "short")]);
        assert_eq!(index_arm(&def, ix, Some(&old), Some(&other)), None);
        // A projected attribute changes: the larger size.
        let inc = item(&[("pk", "a"), ("gk", "k1"), ("inc", &big)]);
        assert_eq!(index_arm(&def, ix, Some(&other), Some(&inc)), Some(2.0));
        // A move: both sizes, rounded separately.
        let moved = item(&[("pk", "a"), ("gk", "k2"), ("inc", &big)]);
        assert_eq!(index_arm(&def, ix, Some(&inc), Some(&moved)), Some(4.0));
    }

    #[test]
    fn all_projection_charges_any_change_and_transactions_double_the_table_arm() {
        let def = table(ProjectionType::All, &[]);
        let old = item(&[("pk", "a"), ("gk", "k1"), ("pad", "1")]);
        let new = item(&[("pk", "a"), ("gk", "k1"), ("pad", "2")]);
        let c = write_cost(&def, Some(&old), item_size(&old), Some(&new), 2.0);
        assert_eq!(c.table, 2.0);
        assert_eq!(c.gsis, vec![("g1".to_string(), 1.0)]);
        let missing = write_cost(&def, None, 0, None, 1.0);
        assert_eq!(missing.table, 1.0);
        assert!(missing.gsis.is_empty());
    }
}
