//! The backup and point-in-time recovery operations: CreateBackup, DescribeBackup,
//! ListBackups, DeleteBackup (`backups`), RestoreTableFromBackup and
//! RestoreTableToPointInTime (`restore`), Describe/UpdateContinuousBackups
//! (`continuous`), with the shapes they share (BackupDetails, BackupDescription). The
//! storage side lives in `crate::backup`.

mod backups;
pub use backups::time_ms;
mod continuous;
mod restore;

pub use backups::{create_backup, delete_backup, describe_backup, list_backups};
pub use continuous::{describe_continuous_backups, update_continuous_backups};
pub use restore::{
    restore_summary_json, restore_table_from_backup, restore_table_to_point_in_time,
};

use redb::ReadTransaction;
use serde_json::{json, Map, Value};

use super::table::describe::{index_key_schema_json, key_schema_json};
use crate::api::Ctx;
use crate::backup::BackupMeta;
use crate::catalog::{BillingMode, IndexDef, TableDef};
use crate::wire::shape::Violations;
use crate::wire::{ApiError, ApiResult, ErrorCode};

/// Epoch seconds with a millisecond fraction, as DynamoDB's timestamps travel.
pub fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// A `TableArn`-typed member (a table name or a table ARN): its constraints.
pub fn check_table_ref(v: &mut Violations, value: &str, path: &str) {
    if value.starts_with("arn:") {
        v.length(value, path, 1, 1024);
    } else {
        v.name(value, path);
    }
}

/// The table name a name-or-ARN member refers to.
pub fn table_name_of(value: &str) -> &str {
    match value.strip_prefix("arn:") {
        Some(_) => value
            .rsplit_once(":table/")
            .map(|(_, rest)| rest.split('/').next().unwrap_or(rest))
            .unwrap_or(value),
        None => value,
    }
}

/// "Table not found: <value as sent>".
pub fn table_not_found(given: &str) -> ApiError {
    ApiError::new(
        ErrorCode::TableNotFoundException,
        format!("Table not found: {given}"),
    )
}

/// The visible table a name-or-ARN member names (TableNotFoundException otherwise).
pub fn resolve_table(
    ctx: &Ctx,
    txn: &ReadTransaction,
    given: &str,
    now: i64,
) -> ApiResult<TableDef> {
    let name = table_name_of(given);
    ctx.visible_table(txn, name, now)?
        .filter(|d| {
            !given.starts_with("arn:") || d.arn(&ctx.config.region, &ctx.config.account) == given
        })
        .ok_or_else(|| table_not_found(given))
}

/// "Backup not found: <arn>".
pub fn backup_not_found(arn: &str) -> ApiError {
    ApiError::new(
        ErrorCode::BackupNotFoundException,
        format!("Backup not found: {arn}"),
    )
}

/// The backup an ARN names: its id must be stored and its whole ARN must match.
pub fn find_backup(txn: &ReadTransaction, arn: &str) -> ApiResult<BackupMeta> {
    let meta = match crate::backup::id_of_arn(arn) {
        Some(id) => crate::backup::load(txn, id)?,
        None => None,
    };
    meta.filter(|m| m.arn == arn)
        .ok_or_else(|| backup_not_found(arn))
}

/// The checks of a BackupArn member: required, 37–1024 characters.
pub fn check_backup_arn<'a>(arn: Option<&'a str>, v: &mut Violations) -> &'a str {
    match arn {
        None => {
            v.not_null("backupArn");
            ""
        }
        Some(a) => {
            v.length(a, "backupArn", 37, 1024);
            a
        }
    }
}

/// BackupDetails.
pub fn details_json(meta: &BackupMeta) -> Value {
    let mut d = Map::new();
    d.insert("BackupArn".into(), json!(meta.arn));
    d.insert("BackupName".into(), json!(meta.name));
    d.insert("BackupSizeBytes".into(), json!(meta.size_bytes));
    d.insert("BackupStatus".into(), json!(meta.status.as_str()));
    d.insert("BackupType".into(), json!(meta.kind.as_str()));
    d.insert(
        "BackupCreationDateTime".into(),
        json!(seconds(meta.created_ms)),
    );
    if let Some(at) = meta.expiry_ms {
        d.insert("BackupExpiryDateTime".into(), json!(seconds(at)));
    }
    Value::Object(d)
}

/// BackupSummary (ListBackups).
pub fn summary_json(meta: &BackupMeta) -> Value {
    let mut d = match details_json(meta) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    d.insert("TableName".into(), json!(meta.table.name));
    d.insert("TableId".into(), json!(meta.table.uuid));
    d.insert("TableArn".into(), json!(meta.table_arn));
    Value::Object(d)
}

fn throughput_json(read: i64, write: i64) -> Value {
    json!({"ReadCapacityUnits": read, "WriteCapacityUnits": write})
}

fn on_demand_json(o: &crate::catalog::OnDemand) -> Value {
    json!({
        "MaxReadRequestUnits": o.max_read.unwrap_or(-1),
        "MaxWriteRequestUnits": o.max_write.unwrap_or(-1),
    })
}

fn projection_json(ix: &IndexDef) -> Value {
    let mut p = Map::new();
    p.insert("ProjectionType".into(), json!(ix.projection.kind.as_str()));
    if !ix.projection.non_key.is_empty() {
        p.insert("NonKeyAttributes".into(), json!(ix.projection.non_key));
    }
    Value::Object(p)
}

/// BackupDescription: BackupDetails, SourceTableDetails, SourceTableFeatureDetails.
pub fn description_json(ctx: &Ctx, meta: &BackupMeta) -> Value {
    let t = &meta.table;
    let mut source = Map::new();
    source.insert("TableName".into(), json!(t.name));
    source.insert("TableId".into(), json!(t.uuid));
    source.insert("TableArn".into(), json!(meta.table_arn));
    source.insert("TableSizeBytes".into(), json!(meta.size_bytes));
    source.insert("KeySchema".into(), key_schema_json(&t.keys));
    source.insert("TableCreationDateTime".into(), json!(seconds(t.created_ms)));
    source.insert(
        "ProvisionedThroughput".into(),
        throughput_json(t.throughput.read, t.throughput.write),
    );
    if let Some(o) = &t.on_demand {
        source.insert("OnDemandThroughput".into(), on_demand_json(o));
    }
    source.insert("ItemCount".into(), json!(meta.item_count));
    source.insert("BillingMode".into(), json!(t.billing.as_str()));

    let mut features = Map::new();
    if !t.lsis.is_empty() {
        let lsis: Vec<Value> = t
            .lsis
            .iter()
            .map(|ix| json!({"IndexName": ix.name, "KeySchema": index_key_schema_json(&ix.keys), "Projection": projection_json(ix)}))
            .collect();
        features.insert("LocalSecondaryIndexes".into(), Value::Array(lsis));
    }
    if !t.gsis.is_empty() {
        let gsis: Vec<Value> = t
            .gsis
            .iter()
            .map(|ix| {
                let mut g = Map::new();
                g.insert("IndexName".into(), json!(ix.name));
                g.insert("KeySchema".into(), index_key_schema_json(&ix.keys));
                g.insert("Projection".into(), projection_json(ix));
                let (r, w) = ix
                    .throughput
                    .as_ref()
                    .map_or((0, 0), |tp| (tp.read, tp.write));
                if t.billing == BillingMode::Provisioned {
                    g.insert("ProvisionedThroughput".into(), throughput_json(r, w));
                }
                if let Some(o) = &ix.on_demand {
                    g.insert("OnDemandThroughput".into(), on_demand_json(o));
                }
                Value::Object(g)
            })
            .collect();
        features.insert("GlobalSecondaryIndexes".into(), Value::Array(gsis));
    }
    if let Some(s) = &t.stream {
        features.insert(
            "StreamDescription".into(),
            json!({"StreamEnabled": true, "StreamViewType": s.view_type}),
        );
    }
    if let Some(ttl) = &meta.ttl {
        let status = ttl.status(meta.created_ms, ctx.config.ttl_transition_ms);
        features.insert(
            "TimeToLiveDescription".into(),
            json!({"TimeToLiveStatus": status, "AttributeName": ttl.attribute}),
        );
    }
    if let Some(sse) = &t.sse {
        let key = sse.kms_key.clone().unwrap_or_else(|| {
            format!(
                "arn:aws:kms:{}:{}:key/{}",
                ctx.config.region, ctx.config.account, t.uuid
            )
        });
        features.insert(
            "SSEDescription".into(),
            json!({"Status": "ENABLED", "SSEType": sse.sse_type, "KMSMasterKeyArn": key}),
        );
    }
    json!({
        "BackupDetails": details_json(meta),
        "SourceTableDetails": Value::Object(source),
        "SourceTableFeatureDetails": Value::Object(features),
    })
}
