//! A parsed statement bound to its table: a SELECT becomes a [`ReadPlan`]; INSERT,
//! UPDATE, DELETE and EXISTS become one [`WriteSpec`] for the one write path
//! (`write.rs`) — the key from the WHERE clause's equalities on every key attribute,
//! every other predicate as the write's condition, SET/REMOVE/set_add/set_delete as the
//! engine's update AST.

use crate::api::item::check_key_untouched;
use crate::catalog::{IndexDef, KeySchema, ScalarType, TableDef};
use crate::expr::ast::{
    Arith, Call, Clause, Condition, Operand, Path, SetAction, Span, Update, ValueAction,
};
use crate::expr::eval::Values;
use crate::keys::{key_from_item, key_from_param, PrimaryKey};
use crate::model::size::{item_size, MAX_ITEM_SIZE};
use crate::model::{AttributeValue, Item};
use crate::wire::{ApiError, ApiResult, ErrorCode};
use crate::write::{Action, WriteSpec};

use super::ast::{Expr, Returning, Select, Statement, UpdateAction};
use super::bind::{and_all, conjuncts, key_equality, to_path, Binder};
use super::plan;
use super::read::ReadPlan;

/// A write ready for the write path, with what its answer needs.
pub struct WritePlan {
    pub spec: WriteSpec,
    pub returning: Option<Returning>,
    /// The paths an UPDATE writes (RETURNING MODIFIED).
    pub targets: Vec<Path>,
    pub key: PrimaryKey,
}

pub enum Prepared {
    Read(Box<ReadPlan>),
    Write(Box<WritePlan>),
}

/// "Duplicate primary key exists in table".
pub fn duplicate_item() -> ApiError {
    ApiError::new(
        ErrorCode::DuplicateItemException,
        "Duplicate primary key exists in table",
    )
}

fn no_full_key() -> ApiError {
    ApiError::validation("Where clause does not contain a mandatory equality on all key attributes")
}

fn type_mismatch(name: &str) -> ApiError {
    ApiError::validation(format!(
        "Key attribute's data type should match its data type in table's schema: Key {name}"
    ))
}

fn typed(kind: Option<ScalarType>, v: &AttributeValue) -> bool {
    matches!(
        (kind, v),
        (Some(ScalarType::S), AttributeValue::S(_))
            | (Some(ScalarType::N), AttributeValue::N(_))
            | (Some(ScalarType::B), AttributeValue::B(_))
    )
}

/// Binds `stmt` to `def`. `consistent` is the request's ConsistentRead;
/// `old_on_failure` its ReturnValuesOnConditionCheckFailure=ALL_OLD.
pub fn prepare(
    b: &mut Binder<'_>,
    def: &TableDef,
    stmt: &Statement,
    consistent: bool,
    old_on_failure: bool,
) -> ApiResult<Prepared> {
    match stmt {
        Statement::Select(s) => select(b, def, s, consistent).map(|p| Prepared::Read(Box::new(p))),
        Statement::Insert { item, .. } => {
            insert(b, def, item).map(|p| Prepared::Write(Box::new(p)))
        }
        Statement::Update {
            table,
            actions,
            filter,
            returning,
        } => {
            if table.index.is_some() {
                return Err(ApiError::validation(
                    "This operation is not supported on an index",
                ));
            }
            update(b, def, actions, filter, *returning, old_on_failure)
                .map(|p| Prepared::Write(Box::new(p)))
        }
        Statement::Delete {
            from,
            filter,
            returning,
        } => {
            if from.index.is_some() {
                return Err(ApiError::validation(
                    "This operation is not supported on an index",
                ));
            }
            if let Some(r) = returning.filter(|r| !r.all || r.new) {
                return Err(ApiError::validation(format!(
                    "Invalid returning clause: {}. Only RETURNING ALL OLD * is allowed in DELETE statements.",
                    r.text()
                )));
            }
            let (key, cond) = keyed(b, def, filter)?;
            let spec = WriteSpec {
                table: def.clone(),
                key: key.clone(),
                condition: cond.map(|c| precondition(c, b.values.clone(), false)),
                old_on_failure,
                action: Action::Delete,
            };
            Ok(Prepared::Write(Box::new(WritePlan {
                spec,
                returning: *returning,
                targets: vec![],
                key,
            })))
        }
        Statement::Exists(s) => {
            if s.from.index.is_some() {
                return Err(ApiError::validation(
                    "Reads on indices are not supported within transactions.",
                ));
            }
            let filter = s.filter.as_ref().ok_or_else(exists_needs_condition)?;
            let (key, cond) = keyed(b, def, filter)?;
            let cond = cond.ok_or_else(exists_needs_condition)?;
            let spec = WriteSpec {
                table: def.clone(),
                key: key.clone(),
                condition: Some(precondition(cond, b.values.clone(), true)),
                old_on_failure,
                action: Action::Check,
            };
            Ok(Prepared::Write(Box::new(WritePlan {
                spec,
                returning: None,
                targets: vec![],
                key,
            })))
        }
    }
}

fn exists_needs_condition() -> ApiError {
    ApiError::validation("EXISTS() must contain a single item read with additional condition")
}

/// The index a SELECT names, checked for ConsistentRead.
pub fn find_index(def: &TableDef, name: &str, consistent: bool) -> ApiResult<IndexDef> {
    if let Some(ix) = def.lsis.iter().find(|i| i.name == name) {
        return Ok(ix.clone());
    }
    let ix = def
        .gsis
        .iter()
        .find(|i| i.name == name)
        .ok_or_else(|| ApiError::validation("The table does not have the specified index"))?;
    if consistent {
        return Err(ApiError::validation(
            "Strongly consistent read is not supported on Global Secondary Indexes",
        ));
    }
    Ok(ix.clone())
}

fn select(b: &mut Binder<'_>, def: &TableDef, s: &Select, consistent: bool) -> ApiResult<ReadPlan> {
    let index = s
        .from
        .index
        .as_deref()
        .map(|n| find_index(def, n, consistent))
        .transpose()?;
    if let Some(ix) = index
        .as_ref()
        .filter(|ix| def.gsis.iter().any(|g| g.name == ix.name))
    {
        check_projected(def, ix, s)?;
    }
    // DynamoDB Local refuses every SELECT from a multi-attribute GSI with this text
    // (engine/docs/multi-attribute-keys.md); the AWS documentation is silent.
    let keys = match &index {
        Some(i) => i.keys.single().ok_or_else(|| {
            ApiError::validation(
                "PartiQL statements cannot be executed on tables with composite HASH keys or composite RANGE keys.",
            )
        })?,
        None => def.keys.clone(),
    };
    let access = plan::access(b, def, &keys, index.is_none(), s.filter.as_ref())?;
    let mut forward = true;
    for (attr, desc) in &s.order {
        if !matches!(access, plan::Access::Query(_) | plan::Access::Get(_)) {
            return Err(ApiError::validation(
                "Must have WHERE clause in the statement when using ORDER BY clause.",
            ));
        }
        if !keys.names().any(|k| k == attr) {
            return Err(ApiError::validation(format!(
                "Variable reference [{attr}] must refer to key attribute in ORDER BY clause."
            )));
        }
        if keys.range.as_deref() == Some(attr.as_str()) {
            forward = !desc;
        }
    }
    let mut filter = s.filter.as_ref().map(|f| b.condition(f)).transpose()?;
    if matches!(access, plan::Access::Get(_))
        && s.filter
            .as_ref()
            .is_some_and(|f| only_key_equalities(f, &keys))
    {
        // The key read already proves the WHERE: the item found has exactly these keys.
        filter = None;
    }
    Ok(ReadPlan {
        def: def.clone(),
        index,
        access,
        forward,
        filter,
        values: b.values.clone(),
        projection: s.projection.clone(),
    })
}

/// Whether a WHERE is one equality per key attribute and nothing else.
fn only_key_equalities(filter: &Expr, keys: &KeySchema) -> bool {
    let terms = conjuncts(filter);
    let mut seen: Vec<&str> = Vec::with_capacity(2);
    for t in &terms {
        match key_equality(t) {
            Some((name, _)) if keys.names().any(|k| k == name) && !seen.contains(&name) => {
                seen.push(name)
            }
            _ => return false,
        }
    }
    seen.len() == keys.names().count()
}

/// A read of a GSI that does not project everything may name only what it projects, in
/// WHERE and in the select list.
fn check_projected(def: &TableDef, ix: &IndexDef, s: &Select) -> ApiResult<()> {
    use crate::catalog::ProjectionType;
    if ix.projection.kind == ProjectionType::All {
        return Ok(());
    }
    let keys = crate::index::key_names(def, ix);
    let projected = |name: &str| {
        keys.contains(&name)
            || (ix.projection.kind == ProjectionType::Include
                && ix.projection.non_key.iter().any(|n| n == name))
    };
    let mut in_filter = Vec::new();
    if let Some(f) = &s.filter {
        top_names(f, &mut in_filter);
    }
    let missing: Vec<&str> = dedup(
        in_filter
            .iter()
            .map(String::as_str)
            .filter(|n| !projected(n)),
    );
    if !missing.is_empty() {
        return Err(ApiError::validation(format!(
            "One or more parameter values were invalid: Secondary index {} does not project one or more filter attributes: [{}]",
            ix.name,
            missing.join(", ")
        )));
    }
    let listed: Vec<&str> = s
        .projection
        .iter()
        .flatten()
        .filter_map(|p| match p.steps.first() {
            Some(super::ast::Step::Attr(a)) => Some(a.as_str()),
            _ => None,
        })
        .collect();
    let missing = dedup(listed.into_iter().filter(|n| !projected(n)));
    if !missing.is_empty() {
        return Err(ApiError::validation(format!(
            "One or more parameter values were invalid: Global secondary index {} does not project [{}]",
            ix.name,
            missing.join(", ")
        )));
    }
    Ok(())
}

fn dedup<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for n in names {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// The top-level attribute names an expression reads, in order.
fn top_names(e: &Expr, out: &mut Vec<String>) {
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        match x {
            Expr::Path(p) => {
                if let Some(super::ast::Step::Attr(a)) = p.steps.first() {
                    out.push(a.clone());
                }
            }
            Expr::List(l) | Expr::Bag(l) => stack.extend(l.iter().rev()),
            Expr::Map(m) => stack.extend(m.iter().rev().map(|(_, v)| v)),
            Expr::Call { args, .. } => stack.extend(args.iter().rev()),
            Expr::Cmp(_, a, b) | Expr::And(a, b) | Expr::Or(a, b) | Expr::Arith(_, a, b) => {
                stack.push(b);
                stack.push(a);
            }
            Expr::Between {
                subject, low, high, ..
            } => {
                stack.push(high);
                stack.push(low);
                stack.push(subject);
            }
            Expr::In { subject, list, .. } => {
                stack.extend(list.iter().rev());
                stack.push(subject);
            }
            Expr::Is { subject, .. } | Expr::Not(subject) => stack.push(subject),
            _ => {}
        }
    }
}

/// The key a write's WHERE clause fixes, and the condition the other terms form.
fn keyed(
    b: &mut Binder<'_>,
    def: &TableDef,
    filter: &Expr,
) -> ApiResult<(PrimaryKey, Option<Condition>)> {
    let names: Vec<&str> = def.keys.names().collect();
    let mut key = Item::new();
    let mut rest = Vec::new();
    for t in conjuncts(filter) {
        match key_equality(t) {
            Some((name, v)) if names.contains(&name) => {
                if key.contains_key(name) {
                    return Err(ApiError::validation(format!(
                        "Multiple conditions on same key {name}. Only single item Update/Insert/Delete are supported"
                    )));
                }
                let v = b.value(v, "root")?;
                if !typed(def.attribute_type(name), &v) {
                    return Err(type_mismatch(name));
                }
                key.insert(name.to_string(), v);
            }
            _ => rest.push(t.clone()),
        }
    }
    if key.len() != names.len() {
        return Err(no_full_key());
    }
    let key = key_from_param(def, &key)?;
    let cond = and_all(rest).map(|e| b.condition(&e)).transpose()?;
    Ok((key, cond))
}

/// A condition as the write path takes it; `must_exist`: a missing item fails it.
fn precondition(
    c: Condition,
    values: Values,
    must_exist: bool,
) -> Box<dyn crate::write::Precondition> {
    Box::new(move |old: Option<&Item>| {
        if must_exist && old.is_none() {
            return Ok(false);
        }
        Ok(crate::api::item::eval::holds(&c, old, &values))
    })
}

fn insert(b: &mut Binder<'_>, def: &TableDef, item: &Expr) -> ApiResult<WritePlan> {
    let item = match item {
        Expr::Map(entries) => entries
            .iter()
            .map(|(k, v)| Ok((k.clone(), b.value(v, "root")?)))
            .collect::<ApiResult<Item>>()?,
        Expr::Param(_) => match b.value(item, "root")? {
            AttributeValue::M(m) => m,
            _ => {
                return Err(ApiError::validation(
                    "Unsupported data type: the inserted value must be a tuple",
                ))
            }
        },
        _ => {
            return Err(ApiError::validation(
                "Unsupported data type: the inserted value must be a tuple",
            ))
        }
    };
    for name in def.keys.names() {
        match item.get(name) {
            None => {
                return Err(ApiError::validation(format!(
                    "Key attribute should be present in the item: Key {name}"
                )))
            }
            Some(v) if !typed(def.attribute_type(name), v) => return Err(type_mismatch(name)),
            Some(_) => {}
        }
    }
    if item_size(&item) > MAX_ITEM_SIZE {
        return Err(ApiError::validation(
            "Item size has exceeded the maximum allowed size",
        ));
    }
    let key = key_from_item(def, &item)?;
    let no_item = |old: Option<&Item>| match old {
        Some(_) => Err(duplicate_item()),
        None => Ok(true),
    };
    Ok(WritePlan {
        spec: WriteSpec {
            table: def.clone(),
            key: key.clone(),
            condition: Some(Box::new(no_item)),
            old_on_failure: false,
            action: Action::put(item),
        },
        returning: None,
        targets: vec![],
        key,
    })
}

fn update(
    b: &mut Binder<'_>,
    def: &TableDef,
    actions: &[UpdateAction],
    filter: &Expr,
    returning: Option<Returning>,
    old_on_failure: bool,
) -> ApiResult<WritePlan> {
    let mut sets = Vec::new();
    let mut removes = Vec::new();
    let mut adds = Vec::new();
    let mut deletes = Vec::new();
    for a in actions {
        match a {
            UpdateAction::Remove(p) => removes.push(to_path(p)),
            UpdateAction::Set(
                p,
                Expr::Call {
                    name,
                    args,
                    at,
                    len,
                },
            ) if name == "set_add" || name == "set_delete" => {
                let upper = name.to_ascii_uppercase();
                let (l, c) = super::lexer::line_col(b.src, *at);
                let pos = format!("{l}:{c}:{len}");
                let [first, second] = args.as_slice() else {
                    return Err(ApiError::validation(format!(
                        "{upper} must have exactly two arguments at {pos}"
                    )));
                };
                if !matches!(first, Expr::Path(fp) if fp.steps == p.steps) {
                    return Err(ApiError::validation(format!(
                        "The first argument to {upper} must equal the assignment value at {pos}"
                    )));
                }
                let is_set_literal = matches!(second, Expr::Bag(_) | Expr::Param(_));
                let v = if is_set_literal {
                    Some(b.value(second, "root")?)
                } else {
                    None
                };
                let Some(
                    v @ (AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_)),
                ) = v
                else {
                    return Err(ApiError::validation(format!(
                        "The second argument to {upper} must be a value with type SET at {pos}"
                    )));
                };
                let Operand::Value(vr) = b.value_ref(v) else {
                    return Err(ApiError::internal("Internal server error"));
                };
                let action = ValueAction {
                    path: to_path(p),
                    value: vr,
                };
                if name == "set_add" {
                    adds.push(action);
                } else {
                    deletes.push(action);
                }
            }
            UpdateAction::Set(p, rhs) => {
                let value = set_value(b, rhs)?;
                sets.push(SetAction {
                    path: to_path(p),
                    value,
                });
            }
        }
    }
    let mut clauses = Vec::new();
    if !sets.is_empty() {
        clauses.push(Clause::Set(sets));
    }
    if !removes.is_empty() {
        clauses.push(Clause::Remove(removes));
    }
    if !adds.is_empty() {
        clauses.push(Clause::Add(adds));
    }
    if !deletes.is_empty() {
        clauses.push(Clause::Delete(deletes));
    }
    let update = Update { clauses };
    let (key, cond) = keyed(b, def, filter)?;
    check_key_untouched(def, &update)?;
    let targets: Vec<Path> = update
        .clauses
        .iter()
        .flat_map(|c| c.target_paths())
        .cloned()
        .collect();
    let values = b.values.clone();
    let cond_values = values.clone();
    let exists_and = move |old: Option<&Item>| -> ApiResult<bool> {
        let Some(old) = old else { return Ok(false) };
        Ok(cond
            .as_ref()
            .is_none_or(|c| crate::api::item::eval::holds(c, Some(old), &cond_values)))
    };
    let apply = Box::new(move |item: Item| crate::api::item::eval::apply(&item, &update, &values));
    Ok(WritePlan {
        spec: WriteSpec {
            table: def.clone(),
            key: key.clone(),
            condition: Some(Box::new(exists_and)),
            old_on_failure,
            action: Action::Update(apply),
        },
        returning,
        targets,
        key,
    })
}

/// A SET value: a value, a path, `a + v` / `a - v`, list_append(...) or if_not_exists(...).
fn set_value(b: &mut Binder<'_>, e: &Expr) -> ApiResult<Operand> {
    match e {
        Expr::Arith(op, l, r) => Ok(Operand::Arith(Box::new(Arith {
            op: *op,
            lhs: set_value(b, l)?,
            rhs: set_value(b, r)?,
            span: Span::default(),
        }))),
        Expr::Call { name, args, .. } if name == "list_append" || name == "if_not_exists" => {
            let args = args
                .iter()
                .map(|a| set_value(b, a))
                .collect::<ApiResult<Vec<_>>>()?;
            Ok(Operand::Call(Call {
                name: name.clone(),
                args,
                span: Span::default(),
            }))
        }
        Expr::Call { name, at, len, .. } => {
            let (l, c) = super::lexer::line_col(b.src, *at);
            Err(ApiError::validation(format!(
                "Unrecognized function: {name} at {l}:{c}:{len}"
            )))
        }
        Expr::Path(p) => Ok(Operand::Path(to_path(p))),
        other => {
            let v = b.value(other, "root")?;
            Ok(b.value_ref(v))
        }
    }
}
