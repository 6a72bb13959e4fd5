//! UpdateTimeToLive and DescribeTimeToLive. The checks of an update come in DynamoDB's
//! order: shapes, the constraint envelope, the table, then the setting's content
//! (different attribute, already enabled, already disabled) before the one-change-per-
//! interval rule (`ttl_change_cooldown_ms`).

use serde_json::{json, Map, Value};

use crate::api::Ctx;
use crate::catalog::{self, TableStatus};
use crate::ttl::{self, TtlSetting};
use crate::wire::shape::{check_table_name, required, Obj, Violations};
use crate::wire::{ApiError, ApiResult};

pub async fn update_time_to_live(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let name = o.str("TableName")?;
    let spec = o.obj("TimeToLiveSpecification")?;
    let (enabled, attribute) = match spec {
        Some(s) => (s.bool("Enabled")?, s.str("AttributeName")?),
        None => (None, None),
    };
    let name = required(name, "TableName")?;
    let mut v = Violations::new();
    check_table_name(&mut v, name, "tableName");
    match spec {
        None => v.not_null("timeToLiveSpecification"),
        Some(_) => {
            match attribute {
                Some(a) => v.length(a, "timeToLiveSpecification.attributeName", 1, 255),
                None => v.not_null("timeToLiveSpecification.attributeName"),
            }
            if enabled.is_none() {
                v.not_null("timeToLiveSpecification.enabled");
            }
        }
    }
    v.finish()?;
    let (enabled, attribute) = (
        enabled.unwrap_or_default(),
        attribute.unwrap_or_default().to_string(),
    );
    let now = ctx.now_ms();
    let name = name.to_string();
    let not_found = ctx.table_not_found(&name);
    let (transition, cooldown) = (
        ctx.config.ttl_transition_ms,
        ctx.config.ttl_change_cooldown_ms,
    );
    let answer_attribute = attribute.clone();
    ctx.store
        .write(move |txn| {
            let def = catalog::load_for_write(txn, &name)?
                .filter(|d| matches!(d.status(now), TableStatus::Active | TableStatus::Updating))
                .ok_or(not_found)?;
            let current = ttl::load_for_write(txn, def.id)?;
            check_change(
                current.as_ref(),
                enabled,
                &attribute,
                now,
                transition,
                cooldown,
            )?;
            let setting = TtlSetting {
                attribute,
                enabled,
                changed_ms: now,
            };
            ttl::save(txn, def.id, &setting)
        })
        .await?;
    Ok(json!({
        "TimeToLiveSpecification": { "AttributeName": answer_attribute, "Enabled": enabled }
    }))
}

/// DynamoDB's content checks, then its rate limit on changes.
pub fn check_change(
    current: Option<&TtlSetting>,
    enabled: bool,
    attribute: &str,
    now: i64,
    transition_ms: i64,
    cooldown_ms: i64,
) -> ApiResult<()> {
    let status = current.map(|c| c.status(now, transition_ms));
    let active = matches!(status, Some("ENABLED" | "ENABLING" | "DISABLING"));
    if let Some(c) = current.filter(|_| active) {
        if c.attribute != attribute {
            return Err(ApiError::validation(format!(
                "TimeToLive is active on a different AttributeName: current AttributeName is {}",
                c.attribute
            )));
        }
    }
    if enabled && active {
        return Err(ApiError::validation("TimeToLive is already enabled"));
    }
    if !enabled && !active {
        return Err(ApiError::validation("TimeToLive is already disabled"));
    }
    if let Some(c) = current {
        if cooldown_ms > 0 && now < c.changed_ms.saturating_add(cooldown_ms) {
            return Err(ApiError::validation(
                "Time to live has been modified multiple times within a fixed interval",
            ));
        }
    }
    Ok(())
}

pub async fn describe_time_to_live(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let name = o.str("TableName")?;
    let name = required(name, "TableName")?;
    let mut v = Violations::new();
    check_table_name(&mut v, name, "tableName");
    v.finish()?;
    let now = ctx.now_ms();
    let txn = ctx.store.read()?;
    let def = ctx
        .visible_table(&txn, name, now)?
        .ok_or_else(|| ctx.table_not_found(name))?;
    let setting = ttl::load(&txn, def.id)?;
    let description = match setting {
        None => json!({ "TimeToLiveStatus": "DISABLED" }),
        Some(s) => match s.status(now, ctx.config.ttl_transition_ms) {
            "DISABLED" => json!({ "TimeToLiveStatus": "DISABLED" }),
            status => json!({ "TimeToLiveStatus": status, "AttributeName": s.attribute }),
        },
    };
    Ok(json!({ "TimeToLiveDescription": description }))
}
