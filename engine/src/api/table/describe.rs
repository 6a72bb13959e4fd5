//! DescribeTable and the TableDescription shape every table operation answers with.

use serde_json::{json, Map, Value};

use crate::api::Ctx;
use crate::catalog::{
    self, BillingMode, IndexDef, KeySchema, Stats, TableDef, TableStatus, Throughput,
};
use crate::wire::shape::table_name_only;
use crate::wire::ApiResult;

pub async fn describe_table(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let name = table_name_only(body)?;
    let txn = ctx.store.read()?;
    let now = ctx.now_ms();
    let def = ctx
        .visible_table(&txn, name, now)?
        .ok_or_else(|| ctx.table_not_found(name))?;
    let stats = catalog::stats(&txn, def.id)?;
    Ok(json!({ "Table": description(ctx, &def, stats, now, Shape::Full) }))
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

pub fn key_schema_json(keys: &KeySchema) -> Value {
    let mut out = vec![json!({"AttributeName": keys.hash, "KeyType": "HASH"})];
    if let Some(r) = &keys.range {
        out.push(json!({"AttributeName": r, "KeyType": "RANGE"}));
    }
    Value::Array(out)
}

/// An index's KeySchema as given: its HASH elements, then its RANGE elements.
pub fn index_key_schema_json(keys: &catalog::IndexKeys) -> Value {
    let hash = keys.hash.iter().map(|n| (n, "HASH"));
    let range = keys.range.iter().map(|n| (n, "RANGE"));
    Value::Array(
        hash.chain(range)
            .map(|(n, t)| json!({"AttributeName": n, "KeyType": t}))
            .collect(),
    )
}

fn throughput_json(t: &Throughput, now: i64) -> Value {
    let mut m = Map::new();
    if let Some(ms) = t.last_increase_ms {
        m.insert("LastIncreaseDateTime".into(), json!(seconds(ms)));
    }
    if let Some(ms) = t.last_decrease_ms {
        m.insert("LastDecreaseDateTime".into(), json!(seconds(ms)));
    }
    // The counter starts again at 00:00 UTC.
    m.insert(
        "NumberOfDecreasesToday".into(),
        json!(crate::capacity::budget::decreases_today(t, now)),
    );
    m.insert("ReadCapacityUnits".into(), json!(t.read));
    m.insert("WriteCapacityUnits".into(), json!(t.write));
    Value::Object(m)
}

fn projection_json(ix: &IndexDef) -> Value {
    let mut p = Map::new();
    p.insert("ProjectionType".into(), json!(ix.projection.kind.as_str()));
    if !ix.projection.non_key.is_empty() {
        p.insert("NonKeyAttributes".into(), json!(ix.projection.non_key));
    }
    Value::Object(p)
}

fn on_demand_json(o: &catalog::OnDemand) -> Value {
    json!({
        "MaxReadRequestUnits": o.max_read.unwrap_or(-1),
        "MaxWriteRequestUnits": o.max_write.unwrap_or(-1),
    })
}
/// Which operation a TableDescription answers: DynamoDB trims it differently for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// DescribeTable and UpdateTable: everything.
    Full,
    /// CreateTable: no WarmThroughput, DeletionProtectionEnabled only when set.
    Created,
    /// DeleteTable: identity, status, billing and throughput only.
    Deleted,
}

/// The TableDescription of `def` at time `now`.
pub fn description(ctx: &Ctx, def: &TableDef, stats: Stats, now: i64, shape: Shape) -> Value {
    let region = &ctx.config.region;
    let account = &ctx.config.account;
    let arn = def.arn(region, account);
    let status = def.status(now);
    let mut t = Map::new();
    if shape == Shape::Deleted {
        t.insert("TableName".into(), json!(def.name));
        t.insert("TableStatus".into(), json!(status.as_str()));
        t.insert(
            "ProvisionedThroughput".into(),
            throughput_json(&def.throughput, now),
        );
        t.insert("TableSizeBytes".into(), json!(stats.bytes));
        t.insert("ItemCount".into(), json!(stats.items));
        t.insert("TableArn".into(), json!(arn));
        t.insert("TableId".into(), json!(def.uuid));
        if let Some(b) = billing_summary(def) {
            t.insert("BillingModeSummary".into(), b);
        }
        return Value::Object(t);
    }
    let attrs: Vec<Value> = def
        .attributes
        .iter()
        .map(|a| json!({"AttributeName": a.name, "AttributeType": a.kind.as_str()}))
        .collect();
    t.insert("AttributeDefinitions".into(), Value::Array(attrs));
    t.insert("TableName".into(), json!(def.name));
    t.insert("KeySchema".into(), key_schema_json(&def.keys));
    t.insert("TableStatus".into(), json!(status.as_str()));
    t.insert("CreationDateTime".into(), json!(seconds(def.created_ms)));
    t.insert(
        "ProvisionedThroughput".into(),
        throughput_json(&def.throughput, now),
    );
    t.insert("TableSizeBytes".into(), json!(stats.bytes));
    t.insert("ItemCount".into(), json!(stats.items));
    t.insert("TableArn".into(), json!(arn));
    t.insert("TableId".into(), json!(def.uuid));
    if let Some(b) = billing_summary(def) {
        t.insert("BillingModeSummary".into(), b);
    }
    if !def.lsis.is_empty() {
        let lsis: Vec<Value> = def
            .lsis
            .iter()
            .map(|ix| {
                json!({
                    "IndexName": ix.name,
                    "KeySchema": index_key_schema_json(&ix.keys),
                    "Projection": projection_json(ix),
                    "IndexSizeBytes": index_stats(ctx, def, &ix.name).bytes,
                    "ItemCount": index_stats(ctx, def, &ix.name).items,
                    "IndexArn": format!("{arn}/index/{}", ix.name),
                })
            })
            .collect();
        t.insert("LocalSecondaryIndexes".into(), Value::Array(lsis));
    }
    if !def.gsis.is_empty() {
        let gsis: Vec<Value> = def
            .gsis
            .iter()
            .map(|ix| {
                let mut g = Map::new();
                g.insert("IndexName".into(), json!(ix.name));
                g.insert("KeySchema".into(), index_key_schema_json(&ix.keys));
                g.insert("Projection".into(), projection_json(ix));
                let backfilling = now < ix.active_at_ms;
                let index_status = if status == TableStatus::Creating || backfilling {
                    "CREATING"
                } else {
                    "ACTIVE"
                };
                g.insert("IndexStatus".into(), json!(index_status));
                if backfilling {
                    g.insert("Backfilling".into(), json!(true));
                }
                let tp = ix
                    .throughput
                    .clone()
                    .unwrap_or_else(|| Throughput::new(0, 0));
                g.insert("ProvisionedThroughput".into(), throughput_json(&tp, now));
                let st = index_stats(ctx, def, &ix.name);
                g.insert("IndexSizeBytes".into(), json!(st.bytes));
                g.insert("ItemCount".into(), json!(st.items));
                g.insert("IndexArn".into(), json!(format!("{arn}/index/{}", ix.name)));
                if let Some(o) = &ix.on_demand {
                    g.insert("OnDemandThroughput".into(), on_demand_json(o));
                }
                Value::Object(g)
            })
            .collect();
        t.insert("GlobalSecondaryIndexes".into(), Value::Array(gsis));
    }
    if let Some(s) = &def.stream {
        t.insert(
            "StreamSpecification".into(),
            json!({"StreamEnabled": true, "StreamViewType": s.view_type}),
        );
    }
    if let Some(s) = &def.latest_stream {
        t.insert("LatestStreamLabel".into(), json!(s.label));
        t.insert(
            "LatestStreamArn".into(),
            json!(format!("{arn}/stream/{}", s.label)),
        );
    }
    if let Some(sse) = &def.sse {
        let key = sse
            .kms_key
            .clone()
            .unwrap_or_else(|| format!("arn:aws:kms:{region}:{account}:key/{}", def.uuid));
        t.insert(
            "SSEDescription".into(),
            json!({"Status": "ENABLED", "SSEType": sse.sse_type, "KMSMasterKeyArn": key}),
        );
    }
    if let Some(class) = &def.table_class {
        t.insert("TableClassSummary".into(), json!({"TableClass": class}));
    }
    if shape == Shape::Full || def.deletion_protection {
        t.insert(
            "DeletionProtectionEnabled".into(),
            json!(def.deletion_protection),
        );
    }
    if shape == Shape::Full {
        t.insert("WarmThroughput".into(), warm_throughput(def, now));
    }
    if let Some(o) = &def.on_demand {
        t.insert("OnDemandThroughput".into(), on_demand_json(o));
    }
    if let Some(r) = &def.restore {
        t.insert(
            "RestoreSummary".into(),
            crate::api::backup::restore_summary_json(r),
        );
    }
    Value::Object(t)
}

/// One index's ItemCount / IndexSizeBytes from a fresh snapshot (DynamoDB itself only
/// refreshes them every few hours, so a snapshot a moment apart is within contract).
fn index_stats(ctx: &Ctx, def: &TableDef, name: &str) -> Stats {
    ctx.store
        .read()
        .and_then(|txn| crate::index::stats(&txn, def.id, name))
        .unwrap_or_default()
}

/// BillingModeSummary: shown once a table has been on demand (DynamoDB omits it for
/// tables that were only ever provisioned).
fn billing_summary(def: &TableDef) -> Option<Value> {
    let ms = def.last_pay_per_request_ms?;
    Some(json!({
        "BillingMode": def.billing.as_str(),
        "LastUpdateToPayPerRequestDateTime": seconds(ms),
    }))
}

/// WarmThroughput: on-demand tables start warm at 12,000 reads and 4,000 writes per second;
/// provisioned tables are warm to the highest capacity they ever had.
/// Its Status is UPDATING while a raise by UpdateTable is under way (the table itself
/// stays ACTIVE).
pub fn warm_throughput(def: &TableDef, now: i64) -> Value {
    let (mut read, mut write) = (def.warm.0, def.warm.1);
    if def.billing == BillingMode::PayPerRequest || def.last_pay_per_request_ms.is_some() {
        read = read.max(12_000);
        write = write.max(4_000);
    }
    let status = if now < def.warm_updating_until_ms {
        "UPDATING"
    } else {
        "ACTIVE"
    };
    json!({"ReadUnitsPerSecond": read, "WriteUnitsPerSecond": write, "Status": status})
}
