//! From a DynamoDB request to the (action, resource, condition context) tuples IAM
//! evaluates, and the AccessDeniedException for the first tuple the caller's policies
//! do not allow. Runs after signature verification and before the cache or the
//! upstream, so a cache hit is authorized exactly like the request it answers.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use daxlite_engine::wire::{ApiError, ErrorCode, Operation};
use serde_json::{Map, Value};

use super::decide;
use super::identity::Identity;
use super::policy::{evaluate_resource, Context, Decision, Policy};

/// One authorization question.
#[derive(Debug, Clone)]
pub struct Tuple {
    pub action: String,
    pub resource: String,
    pub ctx: Context,
}

/// The partition-key names of a table and of its indexes (for `dynamodb:LeadingKeys`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyNames {
    pub table: String,
    /// Index name -> its partition-key name.
    pub indexes: HashMap<String, String>,
}

impl KeyNames {
    /// From a DescribeTable answer.
    pub fn from_describe(body: &[u8]) -> Option<KeyNames> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let t = v.get("Table")?;
        let table = hash_of(t.get("KeySchema")?)?;
        let mut indexes = HashMap::new();
        for kind in ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"] {
            for ix in t.get(kind).and_then(Value::as_array).into_iter().flatten() {
                if let (Some(n), Some(h)) = (
                    ix.get("IndexName").and_then(Value::as_str),
                    ix.get("KeySchema").and_then(hash_of),
                ) {
                    indexes.insert(n.to_string(), h);
                }
            }
        }
        Some(KeyNames { table, indexes })
    }
}

fn hash_of(schema: &Value) -> Option<String> {
    schema.as_array()?.iter().find_map(|k| {
        (k.get("KeyType")?.as_str()? == "HASH")
            .then(|| k.get("AttributeName")?.as_str().map(str::to_string))
            .flatten()
    })
}

/// Key schemas learned by DescribeTable, forgotten when a table is created, deleted,
/// updated or restored through this daxlite.
#[derive(Debug, Default)]
pub struct Schemas {
    known: RwLock<HashMap<String, Arc<KeyNames>>>,
}

impl Schemas {
    pub fn get(&self, table: &str) -> Option<Arc<KeyNames>> {
        self.known.read().ok()?.get(table).cloned()
    }

    pub fn put(&self, table: &str, names: KeyNames) {
        if let Ok(mut m) = self.known.write() {
            m.insert(table.to_string(), Arc::new(names));
        }
    }

    /// Called for every request with policies on: table-changing operations forget
    /// (true when it did).
    pub fn observe(&self, op: Operation) -> bool {
        use Operation::*;
        if matches!(
            op,
            CreateTable
                | DeleteTable
                | UpdateTable
                | RestoreTableFromBackup
                | RestoreTableToPointInTime
                | ImportTable
        ) {
            if let Ok(mut m) = self.known.write() {
                m.clear();
            }
            return true;
        }
        false
    }
}

/// The table name of a `TableName` that may be a table ARN.
pub fn table_name(v: &str) -> &str {
    match v.split_once(":table/") {
        Some((_, rest)) if v.starts_with("arn:") => rest.split('/').next().unwrap_or(rest),
        _ => v,
    }
}

/// The tables whose key schema the tuples of `op` need for `dynamodb:LeadingKeys`.
pub fn tables_needing_keys(op: Operation, body: &Map<String, Value>) -> Vec<String> {
    use Operation::*;
    match op {
        GetItem | PutItem | UpdateItem | DeleteItem | Query => str_of(body, "TableName")
            .map(|t| vec![table_name(t).to_string()])
            .unwrap_or_default(),
        BatchGetItem | BatchWriteItem => body
            .get("RequestItems")
            .and_then(Value::as_object)
            .map(|m| m.keys().map(|t| table_name(t).to_string()).collect())
            .unwrap_or_default(),
        TransactGetItems | TransactWriteItems => transact_elements(body)
            .filter_map(|(_, e)| str_of(e, "TableName").map(|t| table_name(t).to_string()))
            .collect(),
        ExecuteStatement | BatchExecuteStatement | ExecuteTransaction => {
            let one = [Value::Object(body.clone())];
            let list = match op {
                ExecuteStatement => Some(&one[..]),
                BatchExecuteStatement => body
                    .get("Statements")
                    .and_then(|v| v.as_array())
                    .map(Vec::as_slice),
                _ => body
                    .get("TransactStatements")
                    .and_then(|v| v.as_array())
                    .map(Vec::as_slice),
            };
            list.into_iter()
                .flatten()
                .filter_map(|s| s.get("Statement").and_then(Value::as_str))
                .filter_map(|s| partiql_target(s).1.map(|(t, _)| t))
                .collect()
        }
        _ => Vec::new(),
    }
}

fn str_of<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

fn transact_elements(
    body: &Map<String, Value>,
) -> impl Iterator<Item = (&str, &Map<String, Value>)> {
    body.get("TransactItems")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .filter_map(|e| e.iter().next())
        .filter_map(|(k, v)| Some((k.as_str(), v.as_object()?)))
}

/// Builds the tuples of one request.
pub struct Builder<'a> {
    pub region: &'a str,
    pub identity: &'a Identity,
    pub keys: &'a HashMap<String, Arc<KeyNames>>,
    /// Every condition key in the contexts; otherwise only those the identity's policies
    /// read ([`Identity::context`]).
    pub full: bool,
}

impl Builder<'_> {
    fn arn(&self, rest: &str) -> String {
        format!(
            "arn:aws:dynamodb:{}:{}:{rest}",
            self.region, self.identity.account
        )
    }

    fn table_arn(&self, t: &str) -> String {
        if t.starts_with("arn:") {
            t.to_string()
        } else {
            format!(
                "arn:aws:dynamodb:{}:{}:table/{t}",
                self.region, self.identity.account
            )
        }
    }

    fn tuple(&self, action: &str, resource: String) -> Tuple {
        Tuple {
            action: format!("dynamodb:{action}"),
            resource,
            ctx: self.identity.context(self.full),
        }
    }

    /// The tuples for `op`; None: the operation needs no permission (DescribeEndpoints).
    pub fn tuples(&self, op: Operation, body: &Map<String, Value>) -> Option<Vec<Tuple>> {
        use Operation::*;
        let table = || str_of(body, "TableName").unwrap_or_default();
        let on_table = |action: &str| vec![self.tuple(action, self.table_arn(table()))];
        let by_arn = |action: &str, field: &str| {
            vec![self.tuple(action, str_of(body, field).unwrap_or_default().to_string())]
        };
        Some(match op {
            DescribeEndpoints => return None,
            GetItem | PutItem | UpdateItem | DeleteItem => {
                vec![self.item_tuple(op.name(), body, None)]
            }
            Query | Scan => {
                let t = table();
                let resource = match str_of(body, "IndexName") {
                    Some(i) => format!("{}/index/{i}", self.table_arn(t)),
                    None => self.table_arn(t),
                };
                let mut tu = self.tuple(op.name(), resource);
                tu.ctx
                    .set_with("dynamodb:Attributes", || dedup(names_of(body)));
                tu.ctx.set_with("dynamodb:Select", || {
                    let projected = body.contains_key("ProjectionExpression")
                        || body.contains_key("AttributesToGet");
                    vec![match str_of(body, "Select") {
                        Some(s) => s.to_string(),
                        None if projected => "SPECIFIC_ATTRIBUTES".into(),
                        None if body.contains_key("IndexName") => "ALL_PROJECTED_ATTRIBUTES".into(),
                        None => "ALL_ATTRIBUTES".into(),
                    }]
                });
                copy_return_consumed_capacity(&mut tu.ctx, body);
                if op == Query {
                    if let Some(k) = self.keys.get(table_name(t)) {
                        let pk = match str_of(body, "IndexName") {
                            Some(i) => k.indexes.get(i).unwrap_or(&k.table),
                            None => &k.table,
                        };
                        tu.ctx
                            .set_with("dynamodb:LeadingKeys", || query_pk_values(body, pk));
                    }
                }
                vec![tu]
            }
            BatchGetItem | BatchWriteItem => {
                let items = body.get("RequestItems").and_then(Value::as_object);
                let mut out = Vec::new();
                for (t, req) in items.into_iter().flatten() {
                    let mut tu = self.tuple(op.name(), self.table_arn(t));
                    let pk = self.keys.get(table_name(t)).map(|k| k.table.clone());
                    let mut leading = Vec::new();
                    let mut attrs = Vec::new();
                    if op == BatchGetItem {
                        let req = req.as_object();
                        for key in req
                            .and_then(|r| r.get("Keys"))
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_object)
                        {
                            attrs.extend(key.keys().cloned());
                            leading.extend(pk.as_deref().and_then(|p| key_value(key, p)));
                        }
                        if let Some(r) = req {
                            attrs.extend(names_of(r));
                            tu.ctx.set_with("dynamodb:Select", || {
                                let projected = r.contains_key("ProjectionExpression")
                                    || r.contains_key("AttributesToGet");
                                vec![if projected {
                                    "SPECIFIC_ATTRIBUTES"
                                } else {
                                    "ALL_ATTRIBUTES"
                                }
                                .into()]
                            });
                        }
                    } else {
                        for w in req
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_object)
                        {
                            let item = w
                                .get("PutRequest")
                                .and_then(|p| p.get("Item"))
                                .or_else(|| w.get("DeleteRequest").and_then(|d| d.get("Key")))
                                .and_then(Value::as_object);
                            if let Some(item) = item {
                                attrs.extend(item.keys().cloned());
                                leading.extend(pk.as_deref().and_then(|p| key_value(item, p)));
                            }
                        }
                    }
                    tu.ctx.set_with("dynamodb:Attributes", || dedup(attrs));
                    if pk.is_some() {
                        tu.ctx.set_with("dynamodb:LeadingKeys", || dedup(leading));
                    }
                    copy_return_consumed_capacity(&mut tu.ctx, body);
                    out.push(tu);
                }
                out
            }
            TransactGetItems | TransactWriteItems => transact_elements(body)
                .map(|(kind, e)| {
                    let action = match kind {
                        "Get" => "GetItem",
                        "Put" => "PutItem",
                        "Update" => "UpdateItem",
                        "Delete" => "DeleteItem",
                        _ => "ConditionCheckItem",
                    };
                    self.item_tuple(action, e, Some(op.name()))
                })
                .collect(),
            ExecuteStatement => vec![self.partiql_tuple(body, None)],
            BatchExecuteStatement | ExecuteTransaction => {
                let enclosing = (op == ExecuteTransaction).then_some("ExecuteTransaction");
                let list = body
                    .get(if op == ExecuteTransaction {
                        "TransactStatements"
                    } else {
                        "Statements"
                    })
                    .and_then(Value::as_array);
                list.into_iter()
                    .flatten()
                    .filter_map(Value::as_object)
                    .map(|s| self.partiql_tuple(s, enclosing))
                    .collect()
            }
            ListTables
            | ListBackups
            | ListExports
            | ListImports
            | ListGlobalTables
            | ListContributorInsights
            | DescribeLimits
            | ListStreams => {
                vec![self.tuple(op.name(), self.arn("table/*"))]
            }
            DescribeContributorInsights | UpdateContributorInsights => {
                let resource = match str_of(body, "IndexName") {
                    Some(i) => format!("{}/index/{i}", self.table_arn(table())),
                    None => self.table_arn(table()),
                };
                vec![self.tuple(op.name(), resource)]
            }
            TagResource | UntagResource | ListTagsOfResource | GetResourcePolicy
            | PutResourcePolicy | DeleteResourcePolicy => by_arn(op.name(), "ResourceArn"),
            DescribeBackup | DeleteBackup | RestoreTableFromBackup => {
                by_arn(op.name(), "BackupArn")
            }
            DescribeExport => by_arn(op.name(), "ExportArn"),
            DescribeImport => by_arn(op.name(), "ImportArn"),
            ExportTableToPointInTime => by_arn(op.name(), "TableArn"),
            ImportTable => {
                let t = body
                    .get("TableCreationParameters")
                    .and_then(|p| p.get("TableName"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                vec![self.tuple(op.name(), self.table_arn(t))]
            }
            RestoreTableToPointInTime => {
                let source = str_of(body, "SourceTableArn")
                    .map(str::to_string)
                    .unwrap_or_else(|| {
                        self.table_arn(str_of(body, "SourceTableName").unwrap_or_default())
                    });
                vec![self.tuple(op.name(), source)]
            }
            CreateGlobalTable
            | DescribeGlobalTable
            | DescribeGlobalTableSettings
            | UpdateGlobalTable
            | UpdateGlobalTableSettings => {
                let g = str_of(body, "GlobalTableName").unwrap_or_default();
                vec![self.tuple(
                    op.name(),
                    format!(
                        "arn:aws:dynamodb::{}:global-table/{g}",
                        self.identity.account
                    ),
                )]
            }
            DescribeStream | GetShardIterator => by_arn(op.name(), "StreamArn"),
            GetRecords => {
                let it = str_of(body, "ShardIterator").unwrap_or_default();
                let resource = match it.split_once('|') {
                    Some((arn, _)) if arn.starts_with("arn:") => arn.to_string(),
                    _ => self.arn("table/*/stream/*"),
                };
                vec![self.tuple(op.name(), resource)]
            }
            CreateTable => {
                let mut out = on_table("CreateTable");
                // Creating a table with a policy also needs PutResourcePolicy.
                if body.contains_key("ResourcePolicy") {
                    out.extend(on_table("PutResourcePolicy"));
                }
                out
            }
            DescribeTable
            | UpdateTable
            | DeleteTable
            | UpdateTimeToLive
            | DescribeTimeToLive
            | CreateBackup
            | DescribeContinuousBackups
            | UpdateContinuousBackups
            | DescribeTableReplicaAutoScaling
            | UpdateTableReplicaAutoScaling
            | DescribeKinesisStreamingDestination
            | EnableKinesisStreamingDestination
            | DisableKinesisStreamingDestination
            | UpdateKinesisStreamingDestination => on_table(op.name()),
            // Application Auto Scaling's actions are its own, on resource "*" (scalable
            // targets are named by namespace, resource ID and dimension, not by ARN).
            RegisterScalableTarget
            | DescribeScalableTargets
            | DeregisterScalableTarget
            | PutScalingPolicy
            | DescribeScalingPolicies
            | DeleteScalingPolicy
            | DescribeScalingActivities => vec![Tuple {
                action: format!("application-autoscaling:{}", op.name()),
                resource: "*".to_string(),
                ctx: self.identity.context(self.full),
            }],
        })
    }

    /// A single-item tuple (also one element of a transaction).
    fn item_tuple(&self, action: &str, e: &Map<String, Value>, enclosing: Option<&str>) -> Tuple {
        let t = str_of(e, "TableName").unwrap_or_default();
        let mut tu = self.tuple(action, self.table_arn(t));
        let item = e
            .get("Key")
            .or_else(|| e.get("Item"))
            .and_then(Value::as_object);
        tu.ctx.set_with("dynamodb:Attributes", || {
            let mut attrs: Vec<String> = item
                .map(|i| i.keys().cloned().collect())
                .unwrap_or_default();
            attrs.extend(names_of(e));
            dedup(attrs)
        });
        if let (Some(k), Some(item)) = (self.keys.get(table_name(t)), item) {
            tu.ctx.set_with("dynamodb:LeadingKeys", || {
                key_value(item, &k.table).into_iter().collect()
            });
        }
        if action == "GetItem" {
            tu.ctx.set_with("dynamodb:Select", || {
                let projected =
                    e.contains_key("ProjectionExpression") || e.contains_key("AttributesToGet");
                vec![if projected {
                    "SPECIFIC_ATTRIBUTES"
                } else {
                    "ALL_ATTRIBUTES"
                }
                .into()]
            });
        } else {
            tu.ctx.set_with("dynamodb:ReturnValues", || {
                vec![str_of(e, "ReturnValues").unwrap_or("NONE").to_string()]
            });
        }
        copy_return_consumed_capacity(&mut tu.ctx, e);
        if let Some(enc) = enclosing {
            tu.ctx
                .set_with("dynamodb:EnclosingOperation", || vec![enc.to_string()]);
        }
        tu
    }

    /// A PartiQL statement: the action by its verb, the table (or index) it names.
    fn partiql_tuple(&self, s: &Map<String, Value>, enclosing: Option<&str>) -> Tuple {
        let text = str_of(s, "Statement").unwrap_or_default();
        let (verb, target) = partiql_target(text);
        let resource = match &target {
            Some((t, Some(i))) => format!("{}/index/{i}", self.table_arn(t)),
            Some((t, None)) => self.table_arn(t),
            None => self.arn("table/*"),
        };
        let mut tu = self.tuple(verb, resource);
        let known = target
            .as_ref()
            .and_then(|(t, index)| Some((index, self.keys.get(t.as_str())?)));
        let wanted = tu.ctx.wants("dynamodb:FullTableScan") || tu.ctx.wants("dynamodb:LeadingKeys");
        if let Some((index, k)) = known.filter(|_| wanted) {
            let pk = match index {
                Some(i) => k.indexes.get(i).unwrap_or(&k.table),
                None => &k.table,
            };
            let params = s
                .get("Parameters")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let pinned = if verb == "PartiQLInsert" {
                super::partiql_keys::inserted(text, pk, params)
            } else {
                super::partiql_keys::pinned(text, pk, params)
            };
            if verb == "PartiQLSelect" {
                let full = if pinned.is_some() { "false" } else { "true" };
                tu.ctx.set("dynamodb:FullTableScan", vec![full.into()]);
            }
            if let Some(values) = pinned {
                tu.ctx.set("dynamodb:LeadingKeys", dedup(values));
            }
        }
        if let Some(enc) = enclosing {
            tu.ctx
                .set_with("dynamodb:EnclosingOperation", || vec![enc.to_string()]);
        }
        tu
    }
}

/// The PartiQL action of a statement and the `(table, index)` it names.
pub fn partiql_target(text: &str) -> (&'static str, Option<(String, Option<String>)>) {
    let t = text.trim_start();
    let first = t
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let (verb, after) = match first.as_str() {
        "SELECT" => ("PartiQLSelect", "FROM"),
        "INSERT" => ("PartiQLInsert", "INTO"),
        "UPDATE" => ("PartiQLUpdate", "UPDATE"),
        _ => ("PartiQLDelete", "FROM"),
    };
    // The name after the keyword: "T", "T"."I" or a bare T.
    let upper = t.to_ascii_uppercase();
    let mut at = None;
    let bytes = upper.as_bytes();
    let mut i = 0;
    let mut quote = false;
    while i + after.len() <= bytes.len() {
        let c = bytes[i];
        if c == b'"' || c == b'\'' {
            quote = !quote;
        }
        if !quote
            && upper[i..].starts_with(after)
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
            && bytes
                .get(i + after.len())
                .is_none_or(|b| !b.is_ascii_alphanumeric())
        {
            at = Some(i + after.len());
            break;
        }
        i += 1;
    }
    let Some(at) = at else {
        return (verb, None);
    };
    let rest = t.get(at..).unwrap_or_default().trim_start();
    let (table, rest) = ident(rest);
    let Some(table) = table else {
        return (verb, None);
    };
    let index = rest.strip_prefix('.').and_then(|r| ident(r).0);
    (verb, Some((table, index)))
}

fn ident(s: &str) -> (Option<String>, &str) {
    if let Some(r) = s.strip_prefix('"') {
        match r.find('"') {
            Some(end) => (Some(r[..end].to_string()), &r[end + 1..]),
            None => (None, s),
        }
    } else {
        let end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(s.len());
        if end == 0 {
            (None, s)
        } else {
            (Some(s[..end].to_string()), &s[end..])
        }
    }
}

/// `aws:CurrentTime` and `aws:EpochTime` of the second `epoch_secs`, formatted once per
/// second per thread (every request of that second shares them).
pub fn time_keys(epoch_secs: u64) -> (String, String) {
    use std::cell::RefCell;
    thread_local! {
        static LAST: RefCell<(u64, String, String)> = const { RefCell::new((u64::MAX, String::new(), String::new())) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != epoch_secs {
            *last = (
                epoch_secs,
                iso_time(epoch_secs as i64),
                epoch_secs.to_string(),
            );
        }
        (last.1.clone(), last.2.clone())
    })
}

/// `aws:CurrentTime`: ISO 8601 UTC, seconds precision (`2024-01-31T12:34:56Z`).
pub fn iso_time(epoch_secs: i64) -> String {
    let (days, rem) = (epoch_secs.div_euclid(86_400), epoch_secs.rem_euclid(86_400));
    // Days since 1970-01-01 → civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// `dynamodb:ReturnConsumedCapacity` from the request's member of that name.
fn copy_return_consumed_capacity(ctx: &mut Context, body: &Map<String, Value>) {
    if let Some(v) = str_of(body, "ReturnConsumedCapacity") {
        ctx.set_with("dynamodb:ReturnConsumedCapacity", || vec![v.to_string()]);
    }
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// A key attribute's value as a condition string: S verbatim, N as sent, B base64.
fn key_value(item: &Map<String, Value>, name: &str) -> Option<String> {
    let v = item.get(name)?.as_object()?;
    let (_, inner) = v.iter().next()?;
    inner.as_str().map(str::to_string)
}

/// The partition-key value(s) a Query's key condition names (`pk = :v`).
fn query_pk_values(body: &Map<String, Value>, pk: &str) -> Vec<String> {
    if let Some(kc) = body.get("KeyConditions").and_then(|k| k.get(pk)) {
        return kc
            .get("AttributeValueList")
            .and_then(Value::as_array)
            .and_then(|l| l.first())
            .and_then(Value::as_object)
            .and_then(|v| v.values().next())
            .and_then(Value::as_str)
            .map(|s| vec![s.to_string()])
            .unwrap_or_default();
    }
    let Some(expr) = str_of(body, "KeyConditionExpression") else {
        return Vec::new();
    };
    let names = body
        .get("ExpressionAttributeNames")
        .and_then(Value::as_object);
    let values = body
        .get("ExpressionAttributeValues")
        .and_then(Value::as_object);
    let toks = tokens(expr);
    let resolve = |t: &str| -> Option<String> {
        if t.starts_with('#') {
            names?.get(t)?.as_str().map(str::to_string)
        } else {
            Some(t.to_string())
        }
    };
    for w in toks.windows(3) {
        let (a, op, b) = (&w[0], &w[1], &w[2]);
        if op != "=" {
            continue;
        }
        let (name, value) = if b.starts_with(':') {
            (a, b)
        } else if a.starts_with(':') {
            (b, a)
        } else {
            continue;
        };
        if resolve(name).as_deref() == Some(pk) {
            if let Some(v) = values
                .and_then(|m| m.get(value.as_str()))
                .and_then(Value::as_object)
                .and_then(|v| v.values().next())
                .and_then(Value::as_str)
            {
                return vec![v.to_string()];
            }
        }
    }
    Vec::new()
}

/// Expression tokens: names (`a`, `#a`), values (`:v`), and single punctuation.
fn tokens(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in expr.chars() {
        if c.is_alphanumeric() || c == '_' || c == '#' || c == ':' || c == '-' {
            cur.push(c);
        } else {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            if !c.is_whitespace() {
                out.push(c.to_string());
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

const WORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "between",
    "in",
    "set",
    "remove",
    "add",
    "delete",
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
    "size",
    "if_not_exists",
    "list_append",
];

/// The top-level attribute names a request's expressions and legacy parameters name.
fn names_of(body: &Map<String, Value>) -> Vec<String> {
    let names = body
        .get("ExpressionAttributeNames")
        .and_then(Value::as_object);
    let mut out = Vec::new();
    for field in [
        "ProjectionExpression",
        "KeyConditionExpression",
        "FilterExpression",
        "ConditionExpression",
        "UpdateExpression",
    ] {
        let Some(expr) = str_of(body, field) else {
            continue;
        };
        let toks = tokens(expr);
        for (i, t) in toks.iter().enumerate() {
            let after_dot = i > 0 && toks[i - 1] == ".";
            let is_call = toks.get(i + 1).is_some_and(|n| n == "(");
            if after_dot || t.starts_with(':') || t.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            if let Some(n) = t.strip_prefix('#') {
                let _ = n;
                if let Some(real) = names
                    .and_then(|m| m.get(t.as_str()))
                    .and_then(Value::as_str)
                {
                    out.push(real.to_string());
                }
            } else if t
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && !(is_call || WORDS.contains(&t.to_ascii_lowercase().as_str()))
            {
                out.push(t.clone());
            }
        }
    }
    for field in ["AttributesToGet"] {
        for v in body
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(s) = v.as_str() {
                out.push(s.to_string());
            }
        }
    }
    for field in [
        "AttributeUpdates",
        "Expected",
        "KeyConditions",
        "QueryFilter",
        "ScanFilter",
    ] {
        if let Some(m) = body.get(field).and_then(Value::as_object) {
            out.extend(m.keys().cloned());
        }
    }
    out
}

/// The decision for the tuples, in request order: the first one denied answers.
/// `resource[i]` is the resource-based policy governing `tuples[i]`'s resource, if any:
/// an explicit deny in either kind of policy wins, then an allow from either (both
/// across accounts: [`decide::combine`]).
pub fn check(
    identity: &Identity,
    tuples: &[Tuple],
    resource: &[Option<Arc<Policy>>],
) -> Result<(), ApiError> {
    for (i, t) in tuples.iter().enumerate() {
        let caller = identity.caller(&t.resource);
        let by_identity = identity.evaluate(&t.action, &t.resource, &t.ctx);
        let by_resource = match resource.get(i).and_then(Option::as_deref) {
            Some(p) => evaluate_resource(&[p], caller, &t.action, &t.resource, &t.ctx),
            None => Decision::ImplicitDeny,
        };
        let outcome = decide::combine(by_identity, by_resource, caller.cross_account);
        if let Some(why) = outcome.reason(&t.action) {
            return Err(ApiError::new(
                ErrorCode::AccessDeniedException,
                decide::message(&identity.principal, &t.action, &t.resource, &why),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_keys_follow_the_second() {
        assert_eq!(
            time_keys(1_706_704_496),
            ("2024-01-31T12:34:56Z".to_string(), "1706704496".to_string())
        );
        assert_eq!(
            time_keys(1_706_704_497),
            ("2024-01-31T12:34:57Z".to_string(), "1706704497".to_string())
        );
    }

    #[test]
    fn iso_times() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_time(1_706_704_496), "2024-01-31T12:34:56Z");
        assert_eq!(iso_time(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn partiql_targets() {
        assert_eq!(
            partiql_target(r#"SELECT * FROM "Music"."AlbumIndex" WHERE a=1"#),
            (
                "PartiQLSelect",
                Some(("Music".into(), Some("AlbumIndex".into())))
            )
        );
        assert_eq!(
            partiql_target(r#"insert into Music value {'a':1}"#),
            ("PartiQLInsert", Some(("Music".into(), None)))
        );
        assert_eq!(
            partiql_target(r#"UPDATE "Music" SET x=1"#),
            ("PartiQLUpdate", Some(("Music".into(), None)))
        );
        assert_eq!(
            partiql_target(r#"DELETE FROM "Music" WHERE a='from'"#),
            ("PartiQLDelete", Some(("Music".into(), None)))
        );
    }

    #[test]
    fn names_and_query_keys() {
        let body: Value = serde_json::json!({
            "KeyConditionExpression": "#u = :u AND begins_with(GameTitle, :g)",
            "ProjectionExpression": "TopScore, a.b, #w[0]",
            "ExpressionAttributeNames": {"#u": "UserId", "#w": "Wins"},
            "ExpressionAttributeValues": {":u": {"S": "alice"}, ":g": {"S": "x"}}
        });
        let m = body.as_object().cloned().unwrap_or_default();
        assert_eq!(query_pk_values(&m, "UserId"), vec!["alice".to_string()]);
        assert_eq!(
            dedup(names_of(&m)),
            vec!["GameTitle", "TopScore", "UserId", "Wins", "a"]
        );
    }
}
