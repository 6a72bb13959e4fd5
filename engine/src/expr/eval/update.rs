//! UpdateExpression application: SET (with `+`/`-`, `if_not_exists`, `list_append`),
//! REMOVE, ADD and DELETE. Every SET value is computed from the item as it was before the
//! update; then the actions apply in order. Reports which top-level attributes the update
//! touched, for ReturnValues UPDATED_OLD / UPDATED_NEW.

use std::collections::BTreeSet;

use super::{get_path, Values};
use crate::expr::ast::{ArithOp, Clause, Operand, Path, PathElem, Update};
use crate::expr::ExprKind;
use crate::model::{AttributeValue, Item};
use crate::wire::ApiError;

const BAD_OPERAND: &str = "An operand in the update expression has an incorrect data type";
const BAD_PATH: &str = "The document path provided in the update expression is invalid for update";
const MISSING: &str =
    "The provided expression refers to an attribute that does not exist in the item";

/// The updated item and the top-level attributes the update wrote or removed.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateOutcome {
    pub item: Item,
    pub touched: BTreeSet<String>,
}

fn type_word(v: &AttributeValue) -> &'static str {
    match v {
        AttributeValue::S(_) => "STRING",
        AttributeValue::N(_) => "NUMBER",
        AttributeValue::B(_) => "BINARY",
        AttributeValue::Null => "NULL",
        AttributeValue::Bool(_) => "BOOLEAN",
        AttributeValue::L(_) => "LIST",
        AttributeValue::M(_) => "MAP",
        AttributeValue::Ss(_) => "STRING SET",
        AttributeValue::Ns(_) => "NUMBER SET",
        AttributeValue::Bs(_) => "BINARY SET",
    }
}

fn value_of<'v>(o: &Operand, values: &'v Values) -> Option<&'v AttributeValue> {
    match o {
        Operand::Value(v) => values.get(&v.name),
        _ => None,
    }
}

/// The checks that need only the request's values (dynalite `updateParser.pegjs`).
pub fn check_update_values(u: &Update, values: &Values) -> Result<(), ApiError> {
    let kind = ExprKind::Update;
    let is_set = |v: &AttributeValue| {
        matches!(
            v,
            AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_)
        )
    };
    for clause in &u.clauses {
        match clause {
            Clause::Add(actions) | Clause::Delete(actions) => {
                let op = clause.keyword();
                for a in actions {
                    let Some(v) = values.get(&a.value.name) else {
                        continue;
                    };
                    let ok = is_set(v) || (op == "ADD" && matches!(v, AttributeValue::N(_)));
                    if !ok {
                        return Err(kind.error(format_args!(
                            "Incorrect operand type for operator or function; operator: {op}, operand type: {}, typeSet: ALLOWED_FOR_{op}_OPERAND",
                            type_word(v)
                        )));
                    }
                }
            }
            Clause::Set(actions) => {
                for a in actions {
                    check_set_value(&a.value, values)?;
                }
            }
            Clause::Remove(_) => {}
        }
    }
    Ok(())
}

fn check_set_value(o: &Operand, values: &Values) -> Result<(), ApiError> {
    let (name, args, want): (&str, Vec<&Operand>, &str) = match o {
        Operand::Arith(a) => (a.op.symbol(), vec![&a.lhs, &a.rhs], "N"),
        Operand::Call(c) if c.name == "list_append" => {
            ("list_append", c.args.iter().collect(), "L")
        }
        Operand::Call(c) => ("", c.args.iter().collect(), ""),
        _ => return Ok(()),
    };
    for arg in args {
        check_set_value(arg, values)?;
        if let Some(v) = value_of(arg, values) {
            if !want.is_empty() && v.type_name() != want {
                return Err(ExprKind::Update.error(format_args!(
                    "Incorrect operand type for operator or function; operator or function: {name}, operand type: {}",
                    v.type_name()
                )));
            }
        }
    }
    Ok(())
}

fn eval_set_value(o: &Operand, old: &Item, values: &Values) -> Result<AttributeValue, ApiError> {
    match o {
        Operand::Path(p) => get_path(old, p)
            .cloned()
            .ok_or_else(|| ApiError::validation(MISSING)),
        Operand::Value(v) => values
            .get(&v.name)
            .cloned()
            .ok_or_else(|| ApiError::validation(MISSING)),
        Operand::Call(c) if c.name == "if_not_exists" => {
            let existing = match c.args.first() {
                Some(Operand::Path(p)) => get_path(old, p).cloned(),
                _ => None,
            };
            match (existing, c.args.get(1)) {
                (Some(v), _) => Ok(v),
                (None, Some(dflt)) => eval_set_value(dflt, old, values),
                (None, None) => Err(ApiError::validation(BAD_OPERAND)),
            }
        }
        Operand::Call(c) if c.name == "list_append" => {
            let mut out = Vec::new();
            for arg in &c.args {
                match eval_set_value(arg, old, values)? {
                    AttributeValue::L(l) => out.extend(l),
                    _ => return Err(ApiError::validation(BAD_OPERAND)),
                }
            }
            Ok(AttributeValue::L(out))
        }
        Operand::Call(_) => Err(ApiError::validation(BAD_OPERAND)),
        Operand::Arith(a) => {
            let (l, r) = (
                eval_set_value(&a.lhs, old, values)?,
                eval_set_value(&a.rhs, old, values)?,
            );
            match (l, r) {
                (AttributeValue::N(x), AttributeValue::N(y)) => {
                    let n = match a.op {
                        ArithOp::Plus => x.checked_add(&y),
                        ArithOp::Minus => x.checked_sub(&y),
                    };
                    n.map(AttributeValue::N).map_err(|e| e.into_api_error())
                }
                _ => Err(ApiError::validation(BAD_OPERAND)),
            }
        }
    }
}

fn bad_path() -> ApiError {
    ApiError::validation(BAD_PATH)
}

/// The container holding `path`'s last step, created from nothing only for top level.
fn parent_mut<'a>(
    item: &'a mut Item,
    path: &Path,
) -> Result<Option<&'a mut AttributeValue>, ApiError> {
    let Some((PathElem::Attr(top), rest)) = path.elems.split_first() else {
        return Err(bad_path());
    };
    let Some((_, middle)) = rest.split_last() else {
        return Ok(None);
    };
    let mut cur = item.get_mut(top).ok_or_else(bad_path)?;
    for e in middle {
        cur = match (e, cur) {
            (PathElem::Attr(n), AttributeValue::M(m)) => m.get_mut(n).ok_or_else(bad_path)?,
            (PathElem::Index(i), AttributeValue::L(l)) => l
                .get_mut(usize::try_from(*i).map_err(|_| bad_path())?)
                .ok_or_else(bad_path)?,
            _ => return Err(bad_path()),
        };
    }
    Ok(Some(cur))
}

fn set_path(item: &mut Item, path: &Path, v: AttributeValue) -> Result<(), ApiError> {
    let last = path.elems.last().ok_or_else(bad_path)?;
    match (parent_mut(item, path)?, last) {
        (None, PathElem::Attr(n)) => {
            item.insert(n.clone(), v);
        }
        (Some(AttributeValue::M(m)), PathElem::Attr(n)) => {
            m.insert(n.clone(), v);
        }
        (Some(AttributeValue::L(l)), PathElem::Index(i)) => {
            match usize::try_from(*i).ok().and_then(|i| l.get_mut(i)) {
                Some(slot) => *slot = v,
                None => l.push(v),
            }
        }
        _ => return Err(bad_path()),
    }
    Ok(())
}

fn remove_path(item: &mut Item, path: &Path) -> Result<(), ApiError> {
    let last = path.elems.last().ok_or_else(bad_path)?;
    let parent = match parent_mut(item, path) {
        Ok(p) => p,
        // A missing ancestor means there is nothing to remove.
        Err(_) => return Ok(()),
    };
    match (parent, last) {
        (None, PathElem::Attr(n)) => {
            item.remove(n);
        }
        (Some(AttributeValue::M(m)), PathElem::Attr(n)) => {
            m.remove(n);
        }
        (Some(AttributeValue::L(l)), PathElem::Index(i)) => {
            if let Ok(i) = usize::try_from(*i) {
                if i < l.len() {
                    l.remove(i);
                }
            }
        }
        _ => return Err(bad_path()),
    }
    Ok(())
}

fn union<T: PartialEq + Clone>(a: &mut Vec<T>, b: &[T]) {
    for x in b {
        if !a.contains(x) {
            a.push(x.clone());
        }
    }
}

/// ADD (`delete == false`) or DELETE of `v` at `path`.
fn add_or_delete(
    item: &mut Item,
    path: &Path,
    v: &AttributeValue,
    delete: bool,
) -> Result<(), ApiError> {
    use AttributeValue::*;
    let current = get_path(item, path).cloned();
    let new = match (current, v, delete) {
        (None, _, true) => return Ok(()),
        (None, v, false) => v.clone(),
        (Some(N(x)), N(y), false) => N(x.checked_add(y).map_err(|e| e.into_api_error())?),
        (Some(Ss(mut x)), Ss(y), false) => {
            union(&mut x, y);
            Ss(x)
        }
        (Some(Ns(mut x)), Ns(y), false) => {
            union(&mut x, y);
            Ns(x)
        }
        (Some(Bs(mut x)), Bs(y), false) => {
            union(&mut x, y);
            Bs(x)
        }
        (Some(Ss(x)), Ss(y), true) => Ss(x.into_iter().filter(|e| !y.contains(e)).collect()),
        (Some(Ns(x)), Ns(y), true) => Ns(x.into_iter().filter(|e| !y.contains(e)).collect()),
        (Some(Bs(x)), Bs(y), true) => Bs(x.into_iter().filter(|e| !y.contains(e)).collect()),
        _ => return Err(ApiError::validation(BAD_OPERAND)),
    };
    let emptied = matches!(&new, Ss(s) if s.is_empty())
        || matches!(&new, Ns(s) if s.is_empty())
        || matches!(&new, Bs(s) if s.is_empty());
    if emptied {
        remove_path(item, path)
    } else {
        set_path(item, path, new)
    }
}

/// Applies a resolved update to `old` (the empty item when there is none).
pub fn apply_update(
    old: &Item,
    update: &Update,
    values: &Values,
) -> Result<UpdateOutcome, ApiError> {
    let mut item = old.clone();
    let mut touched = BTreeSet::new();
    for clause in &update.clauses {
        for path in clause.target_paths() {
            if let Some(top) = path.top() {
                touched.insert(top.to_string());
            }
        }
    }
    // SET values come from the old item, so `SET a = b, b = a` swaps.
    let mut sets = Vec::new();
    for clause in &update.clauses {
        if let Clause::Set(actions) = clause {
            for a in actions {
                sets.push((&a.path, eval_set_value(&a.value, old, values)?));
            }
        }
    }
    for (path, v) in sets {
        set_path(&mut item, path, v)?;
    }
    for clause in &update.clauses {
        match clause {
            Clause::Set(_) => {}
            Clause::Remove(paths) => {
                // Highest list index first, so each index still means the original element.
                let mut paths: Vec<&Path> = paths.iter().collect();
                paths.sort_by(|a, b| {
                    b.elems
                        .last()
                        .map(index_key)
                        .cmp(&a.elems.last().map(index_key))
                });
                for p in paths {
                    remove_path(&mut item, p)?;
                }
            }
            Clause::Add(actions) | Clause::Delete(actions) => {
                let delete = matches!(clause, Clause::Delete(_));
                for a in actions {
                    let v = values
                        .get(&a.value.name)
                        .ok_or_else(|| ApiError::validation(MISSING))?;
                    add_or_delete(&mut item, &a.path, v, delete)?;
                }
            }
        }
    }
    Ok(UpdateOutcome { item, touched })
}

fn index_key(e: &PathElem) -> i64 {
    match e {
        PathElem::Index(i) => i64::from(*i),
        _ => -1,
    }
}
