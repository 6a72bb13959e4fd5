//! RestoreTableFromBackup and RestoreTableToPointInTime: the checks, the new table's
//! definition (the source's, with the overrides, and without what DynamoDB never
//! restores: stream, TTL, tags, PITR, deletion protection, table class), then the
//! table is recorded CREATING with its RestoreSummary and the load job
//! (`backup::load`) fills it in the background and makes it ACTIVE.

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use super::backups::{backup_in_use, time_ms};
use super::{check_backup_arn, check_table_ref, find_backup, resolve_table, seconds};
use crate::api::table::describe::{description, Shape};
use crate::api::table::parse;
use crate::api::Ctx;
use crate::backup::load::{self, Source};
use crate::backup::BackupStatus;
use crate::catalog::{
    self, BillingMode, IndexDef, Lifecycle, OnDemand, RestoreInfo, Sse, TableDef, Throughput,
};
use crate::wire::shape::{check_table_name, required, Obj, Violations};
use crate::wire::{ApiError, ApiResult, ErrorCode};

/// One GlobalSecondaryIndexOverride entry: an index of the source to keep.
struct GsiOverride {
    name: String,
    throughput: Option<(i64, i64)>,
    on_demand: Option<OnDemand>,
}

/// The overrides both restores accept.
struct Overrides {
    billing: Option<BillingMode>,
    throughput: Option<(i64, i64)>,
    on_demand: Option<OnDemand>,
    gsis: Option<Vec<GsiOverride>>,
    lsis: Option<Vec<String>>,
    /// `Some(None)`: encryption with an AWS owned key (the default).
    sse: Option<Option<Sse>>,
}

fn parse_overrides(o: &Obj<'_>, v: &mut Violations) -> ApiResult<Overrides> {
    let billing = o.str("BillingModeOverride")?;
    if let Some(b) = billing {
        v.enum_value(
            b,
            "billingModeOverride",
            &["PROVISIONED", "PAY_PER_REQUEST"],
        );
    }
    let throughput = match o.obj("ProvisionedThroughputOverride")? {
        Some(pt) => Some(parse::throughput(pt, "provisionedThroughputOverride", v)?),
        None => None,
    };
    let on_demand = parse::on_demand(o.obj("OnDemandThroughputOverride")?)?;
    let gsis = match o.obj_list("GlobalSecondaryIndexOverride")? {
        None => None,
        Some(list) => {
            let mut out = Vec::new();
            for (i, g) in list.iter().enumerate() {
                let p = format!("globalSecondaryIndexOverride.{}.member", i + 1);
                let name = g.str("IndexName")?;
                match name {
                    None => v.not_null(&format!("{p}.indexName")),
                    Some(n) => v.name(n, &format!("{p}.indexName")),
                }
                let throughput = match g.obj("ProvisionedThroughput")? {
                    Some(pt) => Some(parse::throughput(
                        pt,
                        &format!("{p}.provisionedThroughput"),
                        v,
                    )?),
                    None => None,
                };
                out.push(GsiOverride {
                    name: name.unwrap_or_default().to_string(),
                    throughput: throughput.map(|(r, w)| (r.unwrap_or(1), w.unwrap_or(1))),
                    on_demand: parse::on_demand(g.obj("OnDemandThroughput")?)?,
                });
            }
            Some(out)
        }
    };
    let lsis = match o.obj_list("LocalSecondaryIndexOverride")? {
        None => None,
        Some(list) => {
            let mut out = Vec::new();
            for (i, l) in list.iter().enumerate() {
                let p = format!("localSecondaryIndexOverride.{}.member.indexName", i + 1);
                match l.str("IndexName")? {
                    None => v.not_null(&p),
                    Some(n) => {
                        v.name(n, &p);
                        out.push(n.to_string());
                    }
                }
            }
            Some(out)
        }
    };
    let sse = match o.obj("SSESpecificationOverride")? {
        Some(s) => Some(parse::sse_spec(s, v)?),
        None => None,
    };
    let sse = match sse {
        Some((enabled, kind, key)) => Some(parse::sse_def(enabled, kind, key)?),
        None => None,
    };
    Ok(Overrides {
        billing: billing.map(|b| match b {
            "PAY_PER_REQUEST" => BillingMode::PayPerRequest,
            _ => BillingMode::Provisioned,
        }),
        throughput: throughput.map(|(r, w)| (r.unwrap_or(1), w.unwrap_or(1))),
        on_demand,
        gsis,
        lsis,
        sse,
    })
}

/// The restored table's definition: `source` with the overrides applied.
fn target_def(
    source: &TableDef,
    ov: Overrides,
    name: &str,
    now: i64,
    restore: RestoreInfo,
) -> ApiResult<TableDef> {
    let billing = ov.billing.unwrap_or(source.billing);
    let throughput = match billing {
        BillingMode::PayPerRequest => {
            if ov.throughput.is_some() {
                return Err(ApiError::invalid_parameter(
                    "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                ));
            }
            Throughput::new(0, 0)
        }
        BillingMode::Provisioned => match ov.throughput {
            Some((r, w)) => {
                parse::check_capacity_bounds(r, w)?;
                Throughput::new(r, w)
            }
            None if source.billing == BillingMode::Provisioned => {
                Throughput::new(source.throughput.read, source.throughput.write)
            }
            None => {
                return Err(ApiError::invalid_parameter(
                    "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
                ))
            }
        },
    };
    let gsi_throughput = |ix: &IndexDef, given: Option<(i64, i64)>| match billing {
        BillingMode::PayPerRequest => None,
        BillingMode::Provisioned => Some(match (given, &ix.throughput) {
            (Some((r, w)), _) => Throughput::new(r, w),
            (None, Some(t)) if source.billing == BillingMode::Provisioned => {
                Throughput::new(t.read, t.write)
            }
            _ => Throughput::new(throughput.read, throughput.write),
        }),
    };
    let gsis: Vec<IndexDef> = match &ov.gsis {
        None => source
            .gsis
            .iter()
            .map(|ix| IndexDef {
                throughput: gsi_throughput(ix, None),
                active_at_ms: 0,
                ..ix.clone()
            })
            .collect(),
        Some(list) => {
            let mut seen = HashSet::new();
            let mut out = Vec::new();
            for g in list {
                let ix = source
                    .gsis
                    .iter()
                    .find(|ix| ix.name == g.name)
                    .ok_or_else(|| unknown_index("GlobalSecondaryIndexOverride", &g.name))?;
                if !seen.insert(g.name.as_str()) {
                    return Err(ApiError::invalid_parameter(format!(
                        "Duplicate index name: {}",
                        g.name
                    )));
                }
                out.push(IndexDef {
                    throughput: gsi_throughput(ix, g.throughput),
                    on_demand: g.on_demand.clone().or_else(|| ix.on_demand.clone()),
                    active_at_ms: 0,
                    ..ix.clone()
                });
            }
            out
        }
    };
    let lsis: Vec<IndexDef> = match &ov.lsis {
        None => source.lsis.clone(),
        Some(list) => {
            let mut out = Vec::new();
            for n in list {
                let ix = source
                    .lsis
                    .iter()
                    .find(|ix| &ix.name == n)
                    .ok_or_else(|| unknown_index("LocalSecondaryIndexOverride", n))?;
                if !out.iter().any(|o: &IndexDef| &o.name == n) {
                    out.push(ix.clone());
                }
            }
            out
        }
    };
    // Only the attributes the kept keys use remain defined.
    let used: HashSet<&str> = source
        .keys
        .names()
        .chain(gsis.iter().chain(&lsis).flat_map(|ix| ix.keys.names()))
        .collect();
    let attributes = source
        .attributes
        .iter()
        .filter(|a| used.contains(a.name.as_str()))
        .cloned()
        .collect();
    let on_demand = match billing {
        BillingMode::PayPerRequest => ov.on_demand.or_else(|| source.on_demand.clone()),
        BillingMode::Provisioned => None,
    };
    Ok(TableDef {
        id: 0,
        name: name.to_string(),
        uuid: uuid::Uuid::new_v4().to_string(),
        attributes,
        keys: source.keys.clone(),
        billing,
        billing_explicit: source.billing_explicit || ov.billing.is_some(),
        last_pay_per_request_ms: (billing == BillingMode::PayPerRequest).then_some(now),
        warm: (throughput.read, throughput.write),
        throughput,
        on_demand,
        lsis,
        gsis,
        stream: None,
        latest_stream: None,
        sse: ov.sse.unwrap_or_else(|| source.sse.clone()),
        table_class: source.table_class.as_ref().map(|_| "STANDARD".to_string()),
        deletion_protection: false,
        tags: Vec::new(),
        created_ms: now,
        // CREATING until the load job finishes.
        active_at_ms: i64::MAX,
        updating_until_ms: 0,
        lifecycle: Lifecycle::Live,
        replicated: false,
        pitr: None,
        restore: Some(restore),
        kinesis: Vec::new(),
        resource_policy: None,
        stream_policies: Vec::new(),
        warm_updating_until_ms: 0,
        ppr_switches_ms: Vec::new(),
    })
}

/// An index override that names no index of the source [G: DynamoDB's wording unknown].
fn unknown_index(member: &str, name: &str) -> ApiError {
    ApiError::invalid_parameter(format!(
        "{member} should match existing indexes of the source table; unknown index: {name}"
    ))
}

/// Records the target table CREATING (TableAlreadyExistsException if the name is taken)
/// and starts the load job; answers the TableDescription.
async fn start(
    ctx: &Ctx,
    snapshot: redb::ReadTransaction,
    source: Source,
    def: TableDef,
) -> ApiResult<Value> {
    let now = ctx.now_ms();
    let delete_delay = ctx.config.delete_delay_ms;
    let def = ctx
        .store
        .write(move |txn| {
            if let Some(existing) = catalog::load_for_write(txn, &def.name)? {
                if !existing.is_gone(now, delete_delay) {
                    return Err(ApiError::new(
                        ErrorCode::TableAlreadyExistsException,
                        format!("Table already exists: {}", def.name),
                    ));
                }
            }
            let mut def = def;
            def.id = catalog::next_table_id(txn)?;
            catalog::save(txn, &def)?;
            Ok(def)
        })
        .await?;
    tracing::info!(table = %def.name, "restore started");
    let job = def.clone();
    ctx.spawn("restore", move |ctx| {
        load::run_or_remove(ctx, snapshot, source, job)
    });
    Ok(
        json!({ "TableDescription": description(ctx, &def, Default::default(), now, Shape::Created) }),
    )
}

pub async fn restore_table_from_backup(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let target = o.str("TargetTableName")?;
    let arn = o.str("BackupArn")?;
    let mut v = Violations::new();
    match target {
        None => v.not_null("targetTableName"),
        Some(t) => check_table_name(&mut v, t, "targetTableName"),
    }
    let arn = check_backup_arn(arn, &mut v);
    let ov = parse_overrides(&o, &mut v)?;
    v.finish()?;
    let target = target.unwrap_or_default();
    let now = ctx.now_ms();
    let snapshot = ctx.store.read()?;
    let meta = find_backup(&snapshot, arn)?;
    if meta.status == BackupStatus::Creating {
        return Err(backup_in_use(arn));
    }
    let info = RestoreInfo {
        source_backup_arn: Some(meta.arn.clone()),
        source_table_arn: meta.table_arn.clone(),
        restore_ms: meta.created_ms,
        in_progress: true,
    };
    let def = target_def(&meta.table, ov, target, now, info)?;
    start(ctx, snapshot, Source::Backup { id: meta.id }, def).await
}

pub async fn restore_table_to_point_in_time(
    ctx: &Ctx,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    let o = Obj(body);
    let source_arn = o.str("SourceTableArn")?;
    let source_name = o.str("SourceTableName")?;
    let target = o.str("TargetTableName")?;
    let latest = o.bool("UseLatestRestorableTime")?;
    let at = time_ms(&o, "RestoreDateTime")?;
    let mut v = Violations::new();
    if let Some(a) = source_arn {
        v.length(a, "sourceTableArn", 1, 1024);
    }
    if let Some(n) = source_name {
        check_table_ref(&mut v, n, "sourceTableName");
    }
    match target {
        None => v.not_null("targetTableName"),
        Some(t) => check_table_name(&mut v, t, "targetTableName"),
    }
    let ov = parse_overrides(&o, &mut v)?;
    v.finish()?;
    let given = match (source_arn, source_name) {
        (Some(a), None) => a,
        (None, Some(n)) => n,
        // [G] DynamoDB's wording for these two is not documented.
        (Some(_), Some(_)) => {
            return Err(ApiError::validation(
                "Only one of SourceTableArn or SourceTableName can be specified",
            ))
        }
        (None, None) => {
            return Err(ApiError::validation(
                "Either SourceTableArn or SourceTableName must be specified",
            ))
        }
    };
    let use_latest = latest.unwrap_or(false);
    if use_latest && at.is_some() {
        return Err(ApiError::validation(
            "Only one of RestoreDateTime or UseLatestRestorableTime can be specified",
        ));
    }
    let target = required(target, "TargetTableName")?;
    let now = ctx.now_ms();
    let snapshot = ctx.store.read()?;
    let source = resolve_table(ctx, &snapshot, given, now)?;
    let Some(pitr) = &source.pitr else {
        return Err(ApiError::new(
            ErrorCode::PointInTimeRecoveryUnavailableException,
            format!(
                "Point in time recovery is not enabled for table '{}'",
                source.name
            ),
        ));
    };
    let (earliest, latest_ms) = load::window(ctx, pitr, now);
    let at_ms = match at {
        _ if use_latest => latest_ms,
        Some(t) => t,
        None => {
            return Err(ApiError::validation(
                "Either RestoreDateTime or UseLatestRestorableTime must be specified",
            ))
        }
    };
    if at_ms < earliest || at_ms > latest_ms {
        return Err(ApiError::new(
            ErrorCode::InvalidRestoreTimeException,
            "RestoreDateTime must be between EarliestRestorableDateTime and LatestRestorableDateTime",
        ));
    }
    let info = RestoreInfo {
        source_backup_arn: None,
        source_table_arn: source.arn(&ctx.config.region, &ctx.config.account),
        restore_ms: at_ms,
        in_progress: true,
    };
    let def = target_def(&source, ov, target, now, info)?;
    let from = Source::Table {
        table_id: source.id,
        at_ms,
    };
    start(ctx, snapshot, from, def).await
}

/// RestoreSummary of a restored table's description.
pub fn restore_summary_json(r: &RestoreInfo) -> Value {
    let mut m = Map::new();
    if let Some(b) = &r.source_backup_arn {
        m.insert("SourceBackupArn".into(), json!(b));
    }
    m.insert("SourceTableArn".into(), json!(r.source_table_arn));
    m.insert("RestoreDateTime".into(), json!(seconds(r.restore_ms)));
    m.insert("RestoreInProgress".into(), json!(r.in_progress));
    Value::Object(m)
}
