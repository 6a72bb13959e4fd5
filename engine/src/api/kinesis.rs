//! Enable, Disable, Describe and UpdateKinesisStreamingDestination: a table's Kinesis
//! Data Streams destinations (`crate::kinesis`), with DynamoDB's messages (the spec's
//! table, proxy/docs/KINESIS.md). Checks come in DynamoDB's order: the constraint envelope,
//! the update's content, the table, then the destination's state. Enabling or
//! disabling empties the table's outbox, so a destination only ever publishes changes
//! made while it was live.

use serde_json::{json, Map, Value};

use crate::api::Ctx;
use crate::catalog::{self, TableDef, TableStatus};
use crate::kinesis::{self, outbox, Destination, PRECISIONS};
use crate::wire::shape::{check_table_name, required, Obj, Violations};
use crate::wire::{ApiError, ApiResult};

/// The request members all four operations share.
struct Target {
    table: String,
    arn: String,
    precision: Option<String>,
}

/// TableName may be a name or the table's ARN.
fn check_table(ctx: &Ctx, v: &mut Violations, name: &str) -> String {
    if name.starts_with("arn:") {
        v.length(name, "tableName", 1, 1024);
        let prefix = format!(
            "arn:aws:dynamodb:{}:{}:table/",
            ctx.config.region, ctx.config.account
        );
        return name.strip_prefix(&prefix).unwrap_or(name).to_string();
    }
    check_table_name(v, name, "tableName");
    name.to_string()
}

/// Parses TableName, StreamArn and the configuration member `config` (whose
/// ApproximateCreationDateTimePrecision is checked against the enum at `path`).
fn target(ctx: &Ctx, body: &Map<String, Value>, config: &str, path: &str) -> ApiResult<Target> {
    let o = Obj(body);
    let name = required(o.str("TableName")?, "TableName")?;
    let arn = required(o.str("StreamArn")?, "StreamArn")?;
    let precision = match o.obj(config)? {
        Some(c) => c.str("ApproximateCreationDateTimePrecision")?,
        None => None,
    };
    let mut v = Violations::new();
    let table = check_table(ctx, &mut v, name);
    v.length(arn, "streamArn", 37, 1024);
    if let Some(p) = precision {
        v.enum_value(p, path, PRECISIONS);
    }
    v.finish()?;
    Ok(Target {
        table,
        arn: arn.to_string(),
        precision: precision.map(str::to_string),
    })
}

/// The table, ACTIVE or UPDATING, inside the write transaction.
fn live_table(
    txn: &redb::WriteTransaction,
    ctx_not_found: ApiError,
    name: &str,
    now: i64,
) -> ApiResult<TableDef> {
    catalog::load_for_write(txn, name)?
        .filter(|d| matches!(d.status(now), TableStatus::Active | TableStatus::Updating))
        .ok_or(ctx_not_found)
}

fn state_error(op: &str, need: &str, verb: &str) -> ApiError {
    let what = if verb == "ENABLE" {
        "enable"
    } else {
        "disable"
    };
    ApiError::validation(format!(
        "Table is not in a valid state to {what} Kinesis Streaming Destination:{op}KinesisStreamingDestination must be {need} to perform {verb} operation."
    ))
}

pub async fn enable_kinesis_streaming_destination(
    ctx: &Ctx,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    let t = target(
        ctx,
        body,
        "EnableKinesisStreamingConfiguration",
        "enableKinesisStreamingConfiguration.approximateCreationDateTimePrecision",
    )?;
    if kinesis::stream_name(&t.arn).is_none() {
        return Err(ApiError::validation(
            "User does not have a permission to use kinesis stream",
        ));
    }
    let now = ctx.now_ms();
    let delay = ctx.config.kinesis_transition_ms;
    let not_found = ctx.table_not_found(&t.table);
    let (name, arn, precision) = (t.table.clone(), t.arn.clone(), t.precision.clone());
    ctx.store
        .write(move |txn| {
            let mut def = live_table(txn, not_found, &name, now)?;
            let busy = def
                .kinesis
                .iter()
                .any(|d| !matches!(d.status(now, delay), "DISABLED" | "ENABLE_FAILED"));
            if busy {
                return Err(state_error("Enable", "DISABLED or ENABLE_FAILED", "ENABLE"));
            }
            let fresh = Destination {
                stream_arn: arn.clone(),
                state: "ENABLING".into(),
                changed_ms: now,
                precision,
                description: None,
            };
            match def.kinesis.iter_mut().find(|d| d.stream_arn == arn) {
                Some(d) => *d = fresh,
                None => def.kinesis.push(fresh),
            }
            outbox::clear(txn, def.id)?;
            catalog::save(txn, &def)
        })
        .await?;
    let mut config = Map::new();
    if let Some(p) = t.precision {
        config.insert("ApproximateCreationDateTimePrecision".into(), json!(p));
    }
    Ok(json!({
        "TableName": t.table,
        "StreamArn": t.arn,
        "DestinationStatus": "ENABLING",
        "EnableKinesisStreamingConfiguration": config,
    }))
}

pub async fn disable_kinesis_streaming_destination(
    ctx: &Ctx,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    let t = target(
        ctx,
        body,
        "EnableKinesisStreamingConfiguration",
        "enableKinesisStreamingConfiguration.approximateCreationDateTimePrecision",
    )?;
    let now = ctx.now_ms();
    let delay = ctx.config.kinesis_transition_ms;
    let not_found = ctx.table_not_found(&t.table);
    let (name, arn) = (t.table.clone(), t.arn.clone());
    ctx.store
        .write(move |txn| {
            let mut def = live_table(txn, not_found, &name, now)?;
            let Some(d) = def
                .kinesis
                .iter_mut()
                .find(|d| d.stream_arn == arn && d.status(now, delay) == "ACTIVE")
            else {
                return Err(state_error("Disable", "ACTIVE", "DISABLE"));
            };
            d.state = "DISABLING".into();
            d.changed_ms = now;
            d.description = None;
            outbox::clear(txn, def.id)?;
            catalog::save(txn, &def)
        })
        .await?;
    Ok(json!({
        "TableName": t.table,
        "StreamArn": t.arn,
        "DestinationStatus": "DISABLING",
    }))
}

pub async fn update_kinesis_streaming_destination(
    ctx: &Ctx,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    let t = target(
        ctx,
        body,
        "UpdateKinesisStreamingConfiguration",
        "updateKinesisStreamingConfiguration.approximateCreationDateTimePrecision",
    )?;
    let Some(precision) = t.precision.clone() else {
        return Err(ApiError::validation(
            "Streaming destination cannot be updated with given parameters: UpdateKinesisStreamingConfiguration cannot be null or contain only null values",
        ));
    };
    let now = ctx.now_ms();
    let delay = ctx.config.kinesis_transition_ms;
    let not_found = ctx.table_not_found(&t.table);
    let (name, arn, wanted) = (t.table.clone(), t.arn.clone(), precision.clone());
    ctx.store
        .write(move |txn| {
            let mut def = live_table(txn, not_found, &name, now)?;
            let (table_name, table_id) = (def.name.clone(), def.uuid.clone());
            let Some(d) = def
                .kinesis
                .iter_mut()
                .find(|d| d.stream_arn == arn && d.status(now, delay) == "ACTIVE")
            else {
                return Err(ApiError::validation(format!(
                    "Table is not in a valid state to enable Kinesis Streaming Destination: No streaming destination with streamArn: {arn} found for table with tableName: {table_name}"
                )));
            };
            let current = d.precision.as_deref().unwrap_or("MILLISECOND");
            if current == wanted {
                return Err(ApiError::validation(format!(
                    "Invalid Request: Precision is already set to the desired value of {wanted} for tableId: {table_id}, kdsArn: {arn}"
                )));
            }
            d.precision = Some(wanted);
            d.state = "UPDATING".into();
            d.changed_ms = now;
            catalog::save(txn, &def)
        })
        .await?;
    Ok(json!({
        "TableName": t.table,
        "StreamArn": t.arn,
        "DestinationStatus": "UPDATING",
        "UpdateKinesisStreamingConfiguration": { "ApproximateCreationDateTimePrecision": precision },
    }))
}

pub async fn describe_kinesis_streaming_destination(
    ctx: &Ctx,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    let name = required(Obj(body).str("TableName")?, "TableName")?;
    let mut v = Violations::new();
    let name = check_table(ctx, &mut v, name);
    v.finish()?;
    let now = ctx.now_ms();
    let txn = ctx.store.read()?;
    let def = ctx
        .visible_table(&txn, &name, now)?
        .ok_or_else(|| ctx.table_not_found(&name))?;
    let delay = ctx.config.kinesis_transition_ms;
    let list: Vec<Value> = def
        .kinesis
        .iter()
        .map(|d| {
            let mut o = Map::new();
            o.insert("StreamArn".into(), json!(d.stream_arn));
            o.insert("DestinationStatus".into(), json!(d.status(now, delay)));
            if let Some(text) = &d.description {
                o.insert("DestinationStatusDescription".into(), json!(text));
            }
            if let Some(p) = &d.precision {
                o.insert("ApproximateCreationDateTimePrecision".into(), json!(p));
            }
            Value::Object(o)
        })
        .collect();
    Ok(json!({ "TableName": def.name, "KinesisDataStreamDestinations": list }))
}
