//! Reading a TransactWriteItems request: shapes (SerializationException), the constraint
//! envelope, then per action the expression checks that fail the whole request with a
//! plain ValidationException (docs/LIMITS.md #38) — before any table is looked at.

use serde_json::Value;

use super::{check_items_length, MAX_TRANSACTION_BYTES};
use crate::api::item::params::{
    attribute_map, check_enum, CapacityMode, ExprParams, CAPACITY_ENUM, METRICS_ENUM,
    ON_FAILURE_ENUM,
};
use crate::api::item::{eval, Condition};
use crate::expr::ast::Update;
use crate::expr::eval::Values;
use crate::expr::ExprKind;
use crate::model::size::{item_size, value_size};
use crate::model::value::Deferred;
use crate::model::Item;
use crate::wire::shape::{check_table_name, Obj, Violations};
use crate::wire::{ApiError, ApiResult};

/// What one action does.
pub enum Kind {
    Check,
    Put,
    Delete,
    Update(Update, Values),
}

/// One action, checked as far as it can be without its table.
pub struct WriteAction<'a> {
    pub kind: Kind,
    pub table: &'a str,
    /// `Item` for a Put, `Key` otherwise.
    pub source: Item,
    pub condition: Option<Condition>,
    pub old_on_failure: bool,
}

/// The whole request.
pub struct WriteRequest<'a> {
    pub actions: Vec<WriteAction<'a>>,
    pub token: Option<&'a str>,
    pub capacity: CapacityMode,
    pub metrics: bool,
}

/// Shapes of one action before its checks.
struct Raw<'a> {
    kind: &'static str,
    table: Option<&'a str>,
    source: Option<Item>,
    condition: Option<&'a str>,
    update: Option<&'a str>,
    on_failure: Option<&'a str>,
    params: ExprParams,
    deferred: Deferred,
}

const KINDS: [(&str, &str); 4] = [
    ("ConditionCheck", "conditionCheck"),
    ("Put", "put"),
    ("Delete", "delete"),
    ("Update", "update"),
];

pub fn read(o: Obj<'_>) -> ApiResult<WriteRequest<'_>> {
    let capacity = o.str("ReturnConsumedCapacity")?;
    let metrics = o.str("ReturnItemCollectionMetrics")?;
    let token = o.str("ClientRequestToken")?;
    let list = o.obj_list("TransactItems")?;
    let mut v = Violations::new();
    check_enum(&mut v, capacity, "returnConsumedCapacity", CAPACITY_ENUM);
    check_enum(&mut v, metrics, "returnItemCollectionMetrics", METRICS_ENUM);
    if let Some(t) = token {
        v.length(t, "clientRequestToken", 1, 36);
    }
    check_items_length(
        &mut v,
        o.raw("TransactItems"),
        list.as_ref().map(Vec::len).unwrap_or(0),
    );
    let mut raws = Vec::new();
    let mut malformed = false;
    for (i, entry) in list.iter().flatten().enumerate() {
        let present: Vec<_> = KINDS
            .iter()
            .filter_map(|(name, path)| entry.obj(name).transpose().map(|r| r.map(|o| (o, *path))))
            .collect::<ApiResult<Vec<_>>>()?;
        let [(a, kind)] = present.as_slice() else {
            malformed = true;
            continue;
        };
        raws.push(read_action(&mut v, *a, kind, i + 1)?);
    }
    v.finish()?;
    if malformed {
        // moto's wording (`MultipleTransactionsException` neighbour); guessed for DynamoDB.
        return Err(ApiError::validation(
            "TransactItems can only contain one of Check, Put, Update or Delete",
        ));
    }
    let mut actions = Vec::new();
    let mut payload = 0usize;
    for raw in raws {
        payload += payload_size(&raw);
        actions.push(check_action(raw)?);
    }
    if payload > MAX_TRANSACTION_BYTES {
        return Err(super::too_big());
    }
    Ok(WriteRequest {
        actions,
        token,
        capacity: CapacityMode::parse(capacity),
        metrics: metrics == Some("SIZE"),
    })
}

fn read_action<'a>(
    v: &mut Violations,
    a: Obj<'a>,
    kind: &'static str,
    n: usize,
) -> ApiResult<Raw<'a>> {
    let path = format!("transactItems.{n}.member.{kind}");
    let mut deferred = Deferred::new();
    let member = if kind == "put" { "Item" } else { "Key" };
    let source = attribute_map(a, member, &mut deferred)?;
    let table = a.str("TableName")?;
    let condition = a.str("ConditionExpression")?;
    let update = if kind == "update" {
        a.str("UpdateExpression")?
    } else {
        None
    };
    let on_failure = a.str("ReturnValuesOnConditionCheckFailure")?;
    let params = ExprParams::read(a, true)?;
    if source.is_none() {
        v.not_null(&format!("{path}.{}", member.to_lowercase()));
    }
    match table {
        None => v.not_null(&format!("{path}.tableName")),
        Some(t) => check_table_name(v, t, &format!("{path}.tableName")),
    }
    if kind == "conditionCheck" && condition.is_none() {
        v.not_null(&format!("{path}.conditionExpression"));
    }
    if kind == "update" && update.is_none() {
        v.not_null(&format!("{path}.updateExpression"));
    }
    check_enum(
        v,
        on_failure,
        &format!("{path}.returnValuesOnConditionCheckFailure"),
        ON_FAILURE_ENUM,
    );
    Ok(Raw {
        kind,
        table,
        source,
        condition,
        update,
        on_failure,
        params,
        deferred,
    })
}

/// The action's share of the request payload: the item of a Put, the key and the
/// expression values of the others (what the request carries, not what is stored).
fn payload_size(raw: &Raw<'_>) -> usize {
    let source = raw.source.as_ref().map(item_size).unwrap_or(0);
    let values: usize = raw
        .params
        .values
        .iter()
        .flatten()
        .map(|(k, v)| k.len() + value_size(v))
        .sum();
    source + values
}

/// Expression parameters, values, parsing and unused placeholders: any failure here is a
/// plain ValidationException for the whole request.
fn check_action(raw: Raw<'_>) -> ApiResult<WriteAction<'_>> {
    let Raw {
        kind,
        table,
        source,
        condition,
        update,
        on_failure,
        mut params,
        deferred,
    } = raw;
    let mut exprs = vec![("ConditionExpression", condition.is_some())];
    if kind == "update" {
        exprs.insert(0, ("UpdateExpression", update.is_some()));
    }
    let value_exprs: Vec<&str> = exprs.iter().map(|(n, _)| *n).collect();
    params.check_usage(&exprs, &[], &value_exprs)?;
    deferred.into_result()?;
    let mut resolver = params.resolver()?;
    let update_expr = update.map(|src| resolver.update_expr(src)).transpose()?;
    let cond_expr = condition
        .map(|src| resolver.condition_expr(src, ExprKind::Condition))
        .transpose()?;
    resolver.finish()?;
    let condition = Condition::checked(&params, cond_expr, None, None)?;
    let kind = match (kind, update_expr) {
        ("conditionCheck", _) => Kind::Check,
        ("put", _) => Kind::Put,
        ("delete", _) => Kind::Delete,
        (_, update) => {
            let update = update.unwrap_or(Update { clauses: vec![] });
            let values = params.value_map();
            eval::check_update(&update, &values)?;
            Kind::Update(update, values)
        }
    };
    Ok(WriteAction {
        kind,
        table: table.unwrap_or_default(),
        source: source.unwrap_or_default(),
        condition,
        old_on_failure: on_failure == Some("ALL_OLD"),
    })
}

/// The request's parameters as the idempotency hash sees them: everything but the token
/// and ReturnConsumedCapacity (a replay may ask for capacity differently).
pub fn parameters_for_hash(body: &serde_json::Map<String, Value>) -> Vec<u8> {
    let mut m = body.clone();
    m.remove("ClientRequestToken");
    m.remove("ReturnConsumedCapacity");
    serde_json::to_vec(&Value::Object(m)).unwrap_or_default()
}
