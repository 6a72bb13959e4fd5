//! CreateBackup, DescribeBackup, ListBackups and DeleteBackup. CreateBackup takes its
//! snapshot (one MVCC read transaction) before it answers, records the backup CREATING,
//! and leaves the copy to a background job (`backup::snapshot`) that makes it AVAILABLE.

use serde_json::{json, Map, Value};

use super::{
    check_backup_arn, check_table_ref, description_json, details_json, find_backup, resolve_table,
    summary_json, table_name_of,
};
use crate::api::Ctx;
use crate::backup::{self, BackupKind, BackupMeta, BackupStatus};
use crate::catalog::{self, TableStatus};
use crate::wire::shape::{required, Obj, Violations};
use crate::wire::{ApiError, ApiResult, ErrorCode};

pub async fn create_backup(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let table = o.str("TableName")?;
    let name = o.str("BackupName")?;
    let table = required(table, "TableName")?;
    let mut v = Violations::new();
    check_table_ref(&mut v, table, "tableName");
    match name {
        None => v.not_null("backupName"),
        Some(n) => v.name(n, "backupName"),
    }
    v.finish()?;
    let name = name.unwrap_or_default().to_string();
    let now = ctx.now_ms();
    let snapshot = ctx.store.read()?;
    let def = resolve_table(ctx, &snapshot, table, now)?;
    if !matches!(def.status(now), TableStatus::Active | TableStatus::Updating) {
        return Err(table_in_use(&def.name));
    }
    let stats = catalog::stats(&snapshot, def.id)?;
    let (region, account) = (&ctx.config.region, &ctx.config.account);
    let id = backup::new_id(now);
    let meta = BackupMeta {
        arn: backup::arn(region, account, &def.name, &id),
        id: id.clone(),
        name,
        kind: BackupKind::User,
        status: BackupStatus::Creating,
        created_ms: now,
        expiry_ms: None,
        size_bytes: stats.bytes,
        item_count: stats.items,
        table_arn: def.arn(region, account),
        ttl: crate::ttl::load(&snapshot, def.id)?,
        table: def,
        seq: 0,
    };
    let saved = meta.clone();
    let meta = ctx
        .store
        .write(move |txn| {
            let mut saved = saved;
            saved.seq = backup::next_seq(txn)?;
            backup::save(txn, &saved)?;
            Ok(saved)
        })
        .await?;
    tracing::info!(table = %meta.table.name, backup = %meta.arn, items = stats.items,
        bytes = stats.bytes, "backup started");
    let table_id = meta.table.id;
    ctx.spawn("backup", move |ctx| {
        backup::snapshot::copy(ctx, snapshot, table_id, id)
    });
    Ok(json!({ "BackupDetails": details_json(&meta) }))
}

/// TableInUseException for a table that is not ACTIVE.
fn table_in_use(name: &str) -> ApiError {
    ApiError::new(
        ErrorCode::TableInUseException,
        format!("Table is being created or deleted: {name}"),
    )
}

pub async fn describe_backup(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let arn = Obj(body).str("BackupArn")?;
    let mut v = Violations::new();
    let arn = check_backup_arn(arn, &mut v);
    v.finish()?;
    let txn = ctx.store.read()?;
    let meta = find_backup(&txn, arn)?;
    Ok(json!({ "BackupDescription": description_json(ctx, &meta) }))
}

pub async fn delete_backup(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let arn = Obj(body).str("BackupArn")?;
    let mut v = Violations::new();
    let arn = check_backup_arn(arn, &mut v).to_string();
    v.finish()?;
    let meta = ctx
        .store
        .write(move |txn| {
            let meta = match backup::id_of_arn(&arn) {
                Some(id) => backup::load_for_write(txn, id)?,
                None => None,
            }
            .filter(|m| m.arn == arn)
            .ok_or_else(|| super::backup_not_found(&arn))?;
            if meta.status == BackupStatus::Creating {
                return Err(backup_in_use(&arn));
            }
            backup::remove(txn, &meta.id)?;
            Ok(meta)
        })
        .await?;
    tracing::info!(backup = %meta.arn, "backup deleted");
    let mut out = description_json(ctx, &meta);
    out["BackupDetails"]["BackupStatus"] = json!("DELETED");
    Ok(json!({ "BackupDescription": out }))
}

/// BackupInUseException: the backup is still being created.
pub fn backup_in_use(arn: &str) -> ApiError {
    ApiError::new(
        ErrorCode::BackupInUseException,
        format!("Backup is being used by another operation: {arn}"),
    )
}

/// A timestamp member in epoch seconds (a JSON number), as milliseconds.
pub fn time_ms(o: &Obj<'_>, key: &str) -> ApiResult<Option<i64>> {
    match o.raw(key) {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64().map(|s| (s * 1000.0).round() as i64)),
        Some(_) => Err(ApiError::serialization("Unexpected value type in payload")),
    }
}

pub async fn list_backups(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let table = o.str("TableName")?;
    let limit = o.int("Limit")?;
    let lower = time_ms(&o, "TimeRangeLowerBound")?;
    let upper = time_ms(&o, "TimeRangeUpperBound")?;
    let start = o.str("ExclusiveStartBackupArn")?;
    let kind = o.str("BackupType")?;
    let mut v = Violations::new();
    if let Some(t) = table {
        check_table_ref(&mut v, t, "tableName");
    }
    if let Some(l) = limit {
        v.min_value(l, "limit", 1);
        v.max_value(l, "limit", 100);
    }
    if let Some(s) = start {
        v.length(s, "exclusiveStartBackupArn", 37, 1024);
    }
    if let Some(k) = kind {
        v.enum_value(k, "backupType", &["USER", "SYSTEM", "AWS_BACKUP", "ALL"]);
    }
    v.finish()?;
    let kinds: &[BackupKind] = match kind.unwrap_or("USER") {
        "USER" => &[BackupKind::User],
        "SYSTEM" => &[BackupKind::System],
        "ALL" => &[BackupKind::User, BackupKind::System],
        // AWS Backup's backups are never listed here (and daxlite makes none).
        _ => &[],
    };
    let table = table.map(table_name_of);
    let txn = ctx.store.read()?;
    let all = backup::list(&txn)?;
    // Past ExclusiveStartBackupArn: after its place in the order (by id if it is gone).
    let after = start.and_then(backup::id_of_arn);
    let skip = match after {
        None => 0,
        Some(a) => match all.iter().position(|m| m.id == a) {
            Some(i) => i + 1,
            None => all.iter().take_while(|m| m.id.as_str() <= a).count(),
        },
    };
    let matching: Vec<BackupMeta> = all
        .into_iter()
        .skip(skip)
        .filter(|m| kinds.contains(&m.kind))
        .filter(|m| table.is_none_or(|t| m.table.name == t))
        .filter(|m| lower.is_none_or(|l| m.created_ms >= l))
        .filter(|m| upper.is_none_or(|u| m.created_ms < u))
        .collect();
    let limit = limit.map_or(usize::MAX, |l| l as usize);
    let page: Vec<Value> = matching.iter().take(limit).map(summary_json).collect();
    let mut out = Map::new();
    out.insert("BackupSummaries".into(), Value::Array(page));
    if matching.len() > limit {
        if let Some(last) = matching.get(limit - 1) {
            out.insert("LastEvaluatedBackupArn".into(), json!(last.arn));
        }
    }
    Ok(Value::Object(out))
}
