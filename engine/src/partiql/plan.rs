//! The access path of a SELECT (PARTIQL.md §3): partition-key `=` or `IN` (or an OR of
//! partition-key equalities) reads those partitions — one item by key when the whole key
//! is fixed (GetItem), else a range of each partition narrowed by a sort-key condition
//! (Query); anything else reads the whole table or index (Scan). The full WHERE clause
//! is always evaluated on each item read, so a range only has to cover the answer.

use crate::api::query::keycond::SortCond;
use crate::catalog::{KeySchema, ScalarType, TableDef};
use crate::expr::ast::CmpOp;
use crate::model::AttributeValue;
use crate::wire::{ApiError, ApiResult};

use super::ast::Expr;
use super::bind::{conjuncts, disjuncts, key_equality, Binder};

/// One partition to read and the sort-key condition narrowing it.
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    pub hash: AttributeValue,
    pub sort: Option<SortCond>,
}

/// How a SELECT reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    /// One item by its full key (table reads only).
    Get(crate::model::Item),
    /// These partitions, in order.
    Query(Vec<Partition>),
    Scan,
}

fn type_matches(def: &TableDef, name: &str, v: &AttributeValue) -> bool {
    matches!(
        (def.attribute_type(name), v),
        (Some(ScalarType::S), AttributeValue::S(_))
            | (Some(ScalarType::N), AttributeValue::N(_))
            | (Some(ScalarType::B), AttributeValue::B(_))
    )
}

/// The sort-key condition among `terms` (the first usable one).
fn sort_cond(
    b: &Binder<'_>,
    def: &TableDef,
    sort_key: &str,
    terms: &[&Expr],
) -> ApiResult<Option<SortCond>> {
    let path_is = |e: &Expr| matches!(e, Expr::Path(p) if p.single() == Some(sort_key));
    let typed = |v: &AttributeValue| type_matches(def, sort_key, v);
    for t in terms {
        match t {
            Expr::Cmp(op, l, r) if *op != CmpOp::Ne => {
                let (op, v) = if path_is(l) && Binder::is_value(r) {
                    (*op, r)
                } else if path_is(r) && Binder::is_value(l) {
                    let flipped = match op {
                        CmpOp::Lt => CmpOp::Gt,
                        CmpOp::Le => CmpOp::Ge,
                        CmpOp::Gt => CmpOp::Lt,
                        CmpOp::Ge => CmpOp::Le,
                        o => *o,
                    };
                    (flipped, l)
                } else {
                    continue;
                };
                let v = b.value(v, "root")?;
                if typed(&v) {
                    return Ok(Some(SortCond::Cmp(op, v)));
                }
            }
            Expr::Between {
                subject,
                low,
                high,
                not: false,
            } if path_is(subject) && Binder::is_value(low) && Binder::is_value(high) => {
                let (lo, hi) = (b.value(low, "root")?, b.value(high, "root")?);
                let ordered = crate::expr::eval::condition::order(&lo, &hi)
                    .is_some_and(|o| o != std::cmp::Ordering::Greater);
                if typed(&lo) && typed(&hi) && ordered {
                    return Ok(Some(SortCond::Between(lo, hi)));
                }
            }
            Expr::Call { name, args, .. } if name == "begins_with" => {
                if let [subject, v] = args.as_slice() {
                    if path_is(subject) && Binder::is_value(v) {
                        let v = b.value(v, "root")?;
                        if typed(&v) && !matches!(v, AttributeValue::N(_)) {
                            return Ok(Some(SortCond::BeginsWith(v)));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(None)
}

/// The partition values one AND-branch fixes (`pk = v` or `pk IN [...]`), if any.
fn branch_hashes(
    b: &Binder<'_>,
    hash: &str,
    terms: &[&Expr],
) -> ApiResult<Option<Vec<AttributeValue>>> {
    for t in terms {
        if let Some((name, v)) = key_equality(t) {
            if name == hash {
                return Ok(Some(vec![b.value(v, "root")?]));
            }
        }
        if let Expr::In {
            subject,
            list,
            not: false,
        } = t
        {
            let on_hash = matches!(subject.as_ref(), Expr::Path(p) if p.single() == Some(hash));
            if on_hash && list.iter().all(Binder::is_value) {
                let mut out: Vec<AttributeValue> = Vec::new();
                for x in list {
                    let v = b.value(x, "root")?;
                    if !out.contains(&v) {
                        out.push(v);
                    }
                }
                return Ok(Some(out));
            }
        }
    }
    Ok(None)
}

/// The most key reads one SELECT may decompose into (DynamoDB's 50 partition-key
/// values of an IN).
pub const MAX_DECOMPOSED_READS: usize = 50;

/// The length of an `attr IN [values]` among `terms`, if any.
fn in_list_len(attr: &str, terms: &[&Expr]) -> Option<usize> {
    terms.iter().find_map(|t| match t {
        Expr::In {
            subject,
            list,
            not: false,
        } if matches!(subject.as_ref(), Expr::Path(p) if p.single() == Some(attr))
            && list.iter().all(Binder::is_value) =>
        {
            Some(list.len())
        }
        _ => None,
    })
}

/// Chooses the access path for `filter` over a source with `keys` (`table_read`: the
/// table itself, where a full key is one GetItem).
pub fn access(
    b: &Binder<'_>,
    def: &TableDef,
    keys: &KeySchema,
    table_read: bool,
    filter: Option<&Expr>,
) -> ApiResult<Access> {
    let Some(filter) = filter else {
        return Ok(Access::Scan);
    };
    let branches = disjuncts(filter);
    let mut parts: Vec<Partition> = Vec::new();
    // The reads the key conditions decompose into: partition values × sort-key IN values.
    let mut reads = 0usize;
    // (hash, had a positive sort condition) per branch, for the overlap check.
    let mut seen: Vec<(AttributeValue, Option<SortCond>)> = Vec::new();
    for branch in &branches {
        let terms = conjuncts(branch);
        let Some(hashes) = branch_hashes(b, &keys.hash, &terms)? else {
            return Ok(Access::Scan);
        };
        let sort = match &keys.range {
            Some(r) => sort_cond(b, def, r, &terms)?,
            None => None,
        };
        let sort_values = keys
            .range
            .as_deref()
            .and_then(|r| in_list_len(r, &terms))
            .unwrap_or(1);
        reads = reads.saturating_add(hashes.len().saturating_mul(sort_values));
        for h in hashes {
            seen.push((h.clone(), sort.clone()));
            parts.push(Partition {
                hash: h,
                sort: sort.clone(),
            });
        }
    }
    if reads > MAX_DECOMPOSED_READS {
        return Err(ApiError::validation(
            "Too many decomposed read operations for a given query.",
        ));
    }
    // Branches on one partition: disjoint sort-key equalities are separate reads; any
    // other sort-key condition overlapping another branch is refused; branches without
    // one read the partition once.
    let mut merged: Vec<Partition> = Vec::new();
    for p in parts {
        let same: Vec<&(AttributeValue, Option<SortCond>)> =
            seen.iter().filter(|(h, _)| *h == p.hash).collect();
        if same.len() > 1 {
            let all_eq = same
                .iter()
                .all(|(_, s)| matches!(s, Some(SortCond::Cmp(CmpOp::Eq, _))));
            let any_sort = same.iter().any(|(_, s)| s.is_some());
            if any_sort && !all_eq {
                return Err(ApiError::validation(
                    "Overlapping conditions with range keys are not supported in where clause",
                ));
            }
            let p = if all_eq {
                p
            } else {
                Partition {
                    hash: p.hash,
                    sort: None,
                }
            };
            if !merged.contains(&p) {
                merged.push(p);
            }
        } else {
            merged.push(p);
        }
    }
    if table_read {
        if let [Partition { hash, sort }] = merged.as_slice() {
            let full = match (&keys.range, sort) {
                (None, _) => Some(None),
                (Some(r), Some(SortCond::Cmp(CmpOp::Eq, v))) => Some(Some((r.clone(), v.clone()))),
                _ => None,
            };
            if let Some(range) = full {
                if type_matches(def, &keys.hash, hash) {
                    let mut key = crate::model::Item::new();
                    key.insert(keys.hash.clone(), hash.clone());
                    if let Some((r, v)) = range {
                        key.insert(r, v);
                    }
                    return Ok(Access::Get(key));
                }
            }
        }
    }
    Ok(Access::Query(merged))
}

/// Whether `filter` is exactly equality on every key attribute and nothing else (the
/// SELECTs BatchExecuteStatement and ExecuteTransaction accept).
pub fn exact_key(
    b: &Binder<'_>,
    keys: &KeySchema,
    filter: Option<&Expr>,
) -> ApiResult<Option<crate::model::Item>> {
    let Some(filter) = filter else {
        return Ok(None);
    };
    let terms = conjuncts(filter);
    let names: Vec<&str> = keys.names().collect();
    if terms.len() != names.len() {
        return Ok(None);
    }
    let mut key = crate::model::Item::new();
    for t in terms {
        let Some((name, v)) = key_equality(t) else {
            return Ok(None);
        };
        if !names.contains(&name) || key.contains_key(name) {
            return Ok(None);
        }
        key.insert(name.to_string(), b.value(v, "root")?);
    }
    Ok(Some(key))
}
