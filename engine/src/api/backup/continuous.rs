//! DescribeContinuousBackups and UpdateContinuousBackups: a table's point-in-time
//! recovery setting (kept in its catalog definition, so the write path sees it with the
//! definition it already loads) and its restorable window.

use serde_json::{json, Map, Value};

use super::{check_table_ref, resolve_table, seconds, table_name_of, table_not_found};
use crate::api::Ctx;
use crate::backup::load::window;
use crate::catalog::{self, Pitr, TableDef};
use crate::wire::shape::{required, Obj, Violations};
use crate::wire::ApiResult;

/// RecoveryPeriodInDays when none is given, and its bounds.
const DEFAULT_PERIOD_DAYS: i64 = 35;

fn description(ctx: &Ctx, def: &TableDef, now: i64) -> Value {
    let mut pitr = Map::new();
    match &def.pitr {
        None => {
            pitr.insert("PointInTimeRecoveryStatus".into(), json!("DISABLED"));
        }
        Some(p) => {
            let (earliest, latest) = window(ctx, p, now);
            pitr.insert("PointInTimeRecoveryStatus".into(), json!("ENABLED"));
            pitr.insert("RecoveryPeriodInDays".into(), json!(p.period_days));
            pitr.insert(
                "EarliestRestorableDateTime".into(),
                json!(seconds(earliest)),
            );
            pitr.insert("LatestRestorableDateTime".into(), json!(seconds(latest)));
        }
    }
    json!({
        "ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": Value::Object(pitr),
        }
    })
}

pub async fn describe_continuous_backups(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let table = required(Obj(body).str("TableName")?, "TableName")?;
    let mut v = Violations::new();
    check_table_ref(&mut v, table, "tableName");
    v.finish()?;
    let now = ctx.now_ms();
    let txn = ctx.store.read()?;
    let def = resolve_table(ctx, &txn, table, now)?;
    Ok(description(ctx, &def, now))
}

pub async fn update_continuous_backups(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let table = o.str("TableName")?;
    let spec = o.obj("PointInTimeRecoverySpecification")?;
    let (enabled, period) = match spec {
        Some(s) => (
            s.bool("PointInTimeRecoveryEnabled")?,
            s.int("RecoveryPeriodInDays")?,
        ),
        None => (None, None),
    };
    let table = required(table, "TableName")?;
    let mut v = Violations::new();
    check_table_ref(&mut v, table, "tableName");
    match spec {
        None => v.not_null("pointInTimeRecoverySpecification"),
        Some(_) => {
            if enabled.is_none() {
                v.not_null("pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled");
            }
            if let Some(p) = period {
                let path = "pointInTimeRecoverySpecification.recoveryPeriodInDays";
                v.min_value(p, path, 1);
                v.max_value(p, path, 35);
            }
        }
    }
    v.finish()?;
    let enabled = enabled.unwrap_or(false);
    let now = ctx.now_ms();
    let given = table.to_string();
    let (region, account) = (ctx.config.region.clone(), ctx.config.account.clone());
    let delete_delay = ctx.config.delete_delay_ms;
    let def = ctx
        .store
        .write(move |txn| {
            let name = table_name_of(&given);
            let mut def = catalog::load_for_write(txn, name)?
                .filter(|d| !d.is_gone(now, delete_delay))
                .filter(|d| !given.starts_with("arn:") || d.arn(&region, &account) == given)
                .ok_or_else(|| table_not_found(&given))?;
            let before = def.pitr.clone();
            def.pitr = match (enabled, before) {
                (false, None) => return Ok(def),
                (false, Some(_)) => {
                    crate::backup::journal::trim(txn, def.id, i64::MAX)?;
                    None
                }
                // A second enable keeps the window; it may change the period.
                (true, Some(p)) => Some(Pitr {
                    period_days: period.unwrap_or(p.period_days),
                    ..p
                }),
                (true, None) => Some(Pitr {
                    period_days: period.unwrap_or(DEFAULT_PERIOD_DAYS),
                    enabled_ms: now,
                }),
            };
            catalog::save(txn, &def)?;
            Ok(def)
        })
        .await?;
    tracing::info!(table = %def.name, enabled, "point-in-time recovery changed");
    Ok(description(ctx, &def, now))
}
