//! ProjectionExpression applied to an item: map members keep their nesting, selected list
//! elements keep list shape (compacted, in index order), and paths that find nothing
//! contribute nothing.

use std::collections::BTreeMap;

use crate::expr::ast::{Path, PathElem};
use crate::model::{AttributeValue, Item};

/// Which parts of a value to keep.
#[derive(Default)]
struct Selection {
    all: bool,
    fields: BTreeMap<String, Selection>,
    indexes: BTreeMap<u32, Selection>,
}

impl Selection {
    fn add(&mut self, elems: &[PathElem]) {
        let Some((first, rest)) = elems.split_first() else {
            self.all = true;
            return;
        };
        let child = match first {
            PathElem::Attr(n) | PathElem::Name(n) => self.fields.entry(n.clone()).or_default(),
            PathElem::Index(i) => self.indexes.entry(*i).or_default(),
        };
        child.add(rest);
    }

    fn apply(&self, v: &AttributeValue) -> Option<AttributeValue> {
        if self.all {
            return Some(v.clone());
        }
        match v {
            AttributeValue::M(m) if !self.fields.is_empty() => {
                let out = select_fields(&self.fields, m);
                (!out.is_empty()).then_some(AttributeValue::M(out))
            }
            AttributeValue::L(l) if !self.indexes.is_empty() => {
                let out: Vec<AttributeValue> = self
                    .indexes
                    .iter()
                    .filter_map(|(i, sel)| {
                        l.get(usize::try_from(*i).ok()?).and_then(|e| sel.apply(e))
                    })
                    .collect();
                (!out.is_empty()).then_some(AttributeValue::L(out))
            }
            _ => None,
        }
    }
}

fn select_fields(fields: &BTreeMap<String, Selection>, m: &Item) -> Item {
    fields
        .iter()
        .filter_map(|(name, sel)| Some((name.clone(), sel.apply(m.get(name)?)?)))
        .collect()
}

/// The part of `item` that `paths` (resolved) select.
pub fn project(item: &Item, paths: &[Path]) -> Item {
    let mut top = Selection::default();
    for p in paths {
        top.add(&p.elems);
    }
    select_fields(&top.fields, item)
}
