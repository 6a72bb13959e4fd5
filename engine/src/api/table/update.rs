//! UpdateTable: billing mode, provisioned throughput, streams, SSE, table class,
//! deletion protection, on-demand limits and global secondary index changes — checked
//! against the current definition inside the write that applies them.

use serde_json::{json, Map, Value};

use super::describe::{description, Shape};
use super::parse;
use crate::api::Ctx;
use crate::capacity::budget;
use crate::catalog::{self, BillingMode, IndexDef, StreamSpec, TableDef, TableStatus, Throughput};
use crate::wire::shape::{check_table_name, required, Obj, Violations};
use crate::wire::{ApiError, ApiResult, ErrorCode};

/// Everything an UpdateTable request may change, checked for shape and constraints.
#[derive(Default)]
struct Changes {
    billing: Option<BillingMode>,
    throughput: Option<(i64, i64)>,
    stream: Option<(Option<bool>, Option<String>)>,
    sse: Option<(Option<bool>, Option<String>, Option<String>)>,
    table_class: Option<String>,
    deletion_protection: Option<bool>,
    on_demand: Option<catalog::OnDemand>,
    attributes: Vec<(String, String)>,
    gsi_updates: Vec<GsiUpdate>,
    /// WarmThroughput: (ReadUnitsPerSecond, WriteUnitsPerSecond).
    warm: Option<(Option<i64>, Option<i64>)>,
}

enum GsiUpdate {
    Create(Box<IndexDef>),
    Update {
        name: String,
        throughput: Option<(i64, i64)>,
    },
    Delete {
        name: String,
    },
}

pub async fn update_table(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let name = o.str("TableName")?;
    let billing = o.str("BillingMode")?;
    let pt = o.obj("ProvisionedThroughput")?;
    let stream = o.obj("StreamSpecification")?;
    let sse = o.obj("SSESpecification")?;
    let class = o.str("TableClass")?;
    let deletion_protection = o.bool("DeletionProtectionEnabled")?;
    let on_demand = o.obj("OnDemandThroughput")?;
    let attr_list = o.obj_list("AttributeDefinitions")?;
    let gsi_list = o.obj_list("GlobalSecondaryIndexUpdates")?;
    let replicas = o.list("ReplicaUpdates")?;
    let warm = match o.obj("WarmThroughput")? {
        Some(w) => Some((w.int("ReadUnitsPerSecond")?, w.int("WriteUnitsPerSecond")?)),
        None => None,
    };

    let mut v = Violations::new();
    let mut c = Changes::default();
    if let Some(list) = &attr_list {
        c.attributes = parse::attribute_definitions(list, "attributeDefinitions", &mut v)?;
    }
    let name = required(name, "TableName")?;
    check_table_name(&mut v, name, "tableName");
    parse::billing_mode(billing, &mut v);
    let raw_pt = match pt {
        Some(pt) => Some(parse::throughput(pt, "provisionedThroughput", &mut v)?),
        None => None,
    };
    c.stream = match stream {
        Some(s) => Some(parse::stream_spec(s, &mut v)?),
        None => None,
    };
    c.sse = match sse {
        Some(s) => Some(parse::sse_spec(s, &mut v)?),
        None => None,
    };
    let raw_gsi = match &gsi_list {
        Some(list) => Some(gsi_updates(list, &mut v)?),
        None => None,
    };
    v.finish()?;
    parse::table_class(class)?;
    if replicas.is_some() {
        return Err(ApiError::validation(
            "One or more parameter values were invalid: ReplicaUpdates are not supported by daxlite: global tables need more than one region",
        ));
    }
    c.billing = billing.map(|b| {
        if b == "PAY_PER_REQUEST" {
            BillingMode::PayPerRequest
        } else {
            BillingMode::Provisioned
        }
    });
    if let Some((r, w)) = raw_pt {
        let (r, w) = (r.unwrap_or(0), w.unwrap_or(0));
        parse::check_capacity_bounds(r, w)?;
        c.throughput = Some((r, w));
    }
    c.table_class = class.map(str::to_string);
    c.deletion_protection = deletion_protection;
    c.on_demand = parse::on_demand(on_demand)?;
    // Members not given keep their value; -1 removes one (merged member-wise).
    let on_demand_given = match on_demand {
        Some(od) => (
            od.int("MaxReadRequestUnits")?.is_some(),
            od.int("MaxWriteRequestUnits")?.is_some(),
        ),
        None => (false, false),
    };
    if let Some(raw) = raw_gsi {
        c.gsi_updates = raw;
    }
    c.warm = warm;
    let nothing = c.billing.is_none()
        && c.throughput.is_none()
        && c.stream.is_none()
        && c.sse.is_none()
        && c.table_class.is_none()
        && c.deletion_protection.is_none()
        && c.on_demand.is_none()
        && c.gsi_updates.is_empty()
        && c.warm.is_none();
    if nothing {
        return Err(ApiError::validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates, SSESpecification, ReplicaUpdates, MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is required",
        ));
    }
    // engine/docs/table-errors.md §3 (live captures): an empty list next to another
    // change, and one index named twice.
    if gsi_list.as_ref().is_some_and(|l| l.is_empty()) {
        return Err(ApiError::invalid_parameter(
            "List of GlobalSecondaryIndexUpdates is empty",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for u in &c.gsi_updates {
        let name = match u {
            GsiUpdate::Create(ix) => ix.name.as_str(),
            GsiUpdate::Update { name, .. } | GsiUpdate::Delete { name } => name.as_str(),
        };
        if !seen.insert(name) {
            return Err(ApiError::invalid_parameter(format!(
                "Only one global secondary index update per index is allowed simultaneously. Index: {name}"
            )));
        }
    }

    let name = name.to_string();
    let now = ctx.now_ms();
    let delete_delay = ctx.config.delete_delay_ms;
    let update_delay = ctx.config.update_delay_ms;
    let not_found = ctx.table_not_found(&name);
    let (def, stats) = ctx
        .store
        .write(move |txn| {
            let Some(mut def) =
                catalog::load_for_write(txn, &name)?.filter(|d| !d.is_gone(now, delete_delay))
            else {
                return Err(not_found);
            };
            match def.status(now) {
                TableStatus::Active => {}
                TableStatus::Creating => return Err(in_use("created", &name)),                TableStatus::Updating => {
                    return Err(ApiError::resource_in_use(format!(
                        "Attempt to change a resource which is still in use: Table IOPS are currently being updated. Table: {name}"
                    )))
                }
                TableStatus::Deleting => return Err(in_use("deleted", &name)),
            }
            let before = def.gsis.clone();
            // A WarmThroughput raise alone leaves the table ACTIVE (only its
            // WarmThroughput is UPDATING).
            let warm_only = warm_only(&c);
            let merged = merge_on_demand(def.on_demand.as_ref(), c.on_demand.take(), on_demand_given);
            c.on_demand = merged;
            apply(&mut def, c, now, now + update_delay)?;
            if !warm_only {
                def.updating_until_ms = now + update_delay;
            }
            sync_gsis(txn, &before, &mut def, now + update_delay)?;
            catalog::save(txn, &def)?;
            let stats = catalog::stats_for_write(txn, def.id)?;
            Ok((def, stats))
        })
        .await?;
    tracing::info!(table = %def.name, "table updated");
    Ok(json!({ "TableDescription": description(ctx, &def, stats, now, Shape::Full) }))
}

/// After every check passed: backfills a created GSI (CREATING, Backfilling, until
/// `active_at`) and drops the entries of a deleted one, in the same commit.
fn sync_gsis(
    txn: &crate::storage::WriteTransaction,
    before: &[IndexDef],
    def: &mut TableDef,
    active_at: i64,
) -> ApiResult<()> {
    for old in before {
        if !def.gsis.iter().any(|g| g.name == old.name) {
            crate::index::drop_index(txn, def.id, &old.name)?;
        }
    }
    let mut created = Vec::new();
    for g in def.gsis.iter_mut() {
        if !before.iter().any(|b| b.name == g.name) {
            g.active_at_ms = active_at;
            created.push(g.clone());
        }
    }
    for ix in created {
        crate::index::backfill(txn, def, &ix)?;
    }
    Ok(())
}

fn in_use(what: &str, name: &str) -> ApiError {
    ApiError::resource_in_use(format!(
        "Attempt to change a resource which is still in use: Table is being {what}: {name}"
    ))
}

fn gsi_updates(list: &[Obj<'_>], v: &mut Violations) -> ApiResult<Vec<GsiUpdate>> {
    let mut out = Vec::new();
    for (i, u) in list.iter().enumerate() {
        let p = format!("globalSecondaryIndexUpdates.{}.member", i + 1);
        let mut actions = 0;
        for action in ["Create", "Update", "Delete"] {
            if u.obj(action)?.is_some() {
                actions += 1;
            }
        }
        if actions > 1 {
            return Err(ApiError::invalid_parameter(
                "Only one global secondary index action is allowed per GlobalSecondaryIndexUpdate object",
            ));
        }
        if let Some(create) = u.obj("Create")? {
            let name = create.str("IndexName")?.unwrap_or_default().to_string();
            v.name(&name, &format!("{p}.create.indexName"));
            let keys = match create.obj_list("KeySchema")? {
                Some(list) => {
                    parse::key_elements(&list, &format!("{p}.create.keySchema"), true, v)?
                }
                None => {
                    v.not_null(&format!("{p}.create.keySchema"));
                    Vec::new()
                }
            };
            let projection = parse::projection(
                create.obj("Projection")?,
                &format!("{p}.create.projection"),
                v,
            )?;
            let throughput = match create.obj("ProvisionedThroughput")? {
                Some(pt) => Some(parse::throughput(
                    pt,
                    &format!("{p}.create.provisionedThroughput"),
                    v,
                )?),
                None => None,
            };
            let on_demand = parse::on_demand(create.obj("OnDemandThroughput")?)?;
            if !v.is_empty() {
                continue;
            }
            let schema = parse::gsi_key_schema(&keys)?;
            let projection = parse::projection_def(&projection)?;
            let throughput =
                throughput.map(|(r, w)| Throughput::new(r.unwrap_or(1), w.unwrap_or(1)));
            out.push(GsiUpdate::Create(Box::new(IndexDef {
                name,
                keys: schema,
                projection,
                throughput,
                on_demand,
                active_at_ms: 0,
            })));
        } else if let Some(update) = u.obj("Update")? {
            let name = update.str("IndexName")?.unwrap_or_default().to_string();
            v.name(&name, &format!("{p}.update.indexName"));
            let throughput = match update.obj("ProvisionedThroughput")? {
                Some(pt) => {
                    let (r, w) =
                        parse::throughput(pt, &format!("{p}.update.provisionedThroughput"), v)?;
                    Some((r.unwrap_or(1), w.unwrap_or(1)))
                }
                None => None,
            };
            out.push(GsiUpdate::Update { name, throughput });
        } else if let Some(delete) = u.obj("Delete")? {
            let name = delete.str("IndexName")?.unwrap_or_default().to_string();
            v.name(&name, &format!("{p}.delete.indexName"));
            out.push(GsiUpdate::Delete { name });
        } else {
            return Err(ApiError::invalid_parameter(
                "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null",
            ));
        }
    }
    Ok(out)
}

/// OnDemandThroughput merged member-wise into the current one: a member given replaces
/// (its value, or removal for -1, already `None`), a member not given is kept.
fn merge_on_demand(
    current: Option<&catalog::OnDemand>,
    asked: Option<catalog::OnDemand>,
    given: (bool, bool),
) -> Option<catalog::OnDemand> {
    let asked = asked?;
    let keep = |given: bool, new: Option<i64>, old: Option<i64>| if given { new } else { old };
    Some(catalog::OnDemand {
        max_read: keep(given.0, asked.max_read, current.and_then(|c| c.max_read)),
        max_write: keep(given.1, asked.max_write, current.and_then(|c| c.max_write)),
    })
}

/// Whether WarmThroughput is the only change asked for.
fn warm_only(c: &Changes) -> bool {
    c.warm.is_some()
        && c.billing.is_none()
        && c.throughput.is_none()
        && c.stream.is_none()
        && c.sse.is_none()
        && c.table_class.is_none()
        && c.deletion_protection.is_none()
        && c.on_demand.is_none()
        && c.gsi_updates.is_empty()
}

/// WarmThroughput may only rise; a raise is UPDATING until `until`.
fn apply_warm(
    def: &mut TableDef,
    warm: (Option<i64>, Option<i64>),
    now: i64,
    until: i64,
) -> ApiResult<()> {
    let current = super::describe::warm_throughput(def, now);
    let current = (
        current["ReadUnitsPerSecond"].as_i64().unwrap_or(0),
        current["WriteUnitsPerSecond"].as_i64().unwrap_or(0),
    );
    for (asked, have, name) in [
        (warm.0, current.0, "ReadUnitsPerSecond"),
        (warm.1, current.1, "WriteUnitsPerSecond"),
    ] {
        if asked.is_some_and(|v| v < have) {
            return Err(ApiError::invalid_parameter(format!(
                "Requested {name} for WarmThroughput for table is lower than current WarmThroughput, decreasing WarmThroughput is not supported"
            )));
        }
    }
    let next = (warm.0.unwrap_or(current.0), warm.1.unwrap_or(current.1));
    if next != current {
        def.warm = next;
        def.warm_updating_until_ms = until;
    }
    Ok(())
}

fn apply(def: &mut TableDef, c: Changes, now: i64, until: i64) -> ApiResult<()> {
    let target_billing = c.billing.unwrap_or(def.billing);
    if let Some(b) = c.billing {
        def.billing_explicit = true;
        if b == BillingMode::PayPerRequest && def.billing == BillingMode::Provisioned {
            budget::check_billing_switch(&def.ppr_switches_ms, now)?;
            def.ppr_switches_ms
                .retain(|t| now - t < budget::BILLING_WINDOW_MS);
            def.ppr_switches_ms.push(now);
            def.last_pay_per_request_ms = Some(now);
        }
    }
    if let Some(warm) = c.warm {
        apply_warm(def, warm, now, until)?;
    }
    if c.billing == Some(BillingMode::Provisioned) && c.throughput.is_none() {
        return Err(ApiError::invalid_parameter(
            "ProvisionedThroughput must be specified when BillingMode is PROVISIONED",
        ));
    }
    match (target_billing, c.throughput) {
        (BillingMode::PayPerRequest, Some(_)) if c.billing == Some(BillingMode::PayPerRequest) => {
            return Err(ApiError::invalid_parameter(
                "ProvisionedThroughput cannot be specified when BillingMode is PAY_PER_REQUEST",
            ))
        }
        (BillingMode::PayPerRequest, Some(_)) => {
            return Err(ApiError::invalid_parameter(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ))
        }
        (BillingMode::Provisioned, Some((r, w))) => {
            let t = &def.throughput;            if def.billing == BillingMode::Provisioned && t.read == r && t.write == w {
                return Err(ApiError::validation(format!(
                    "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: {}. Requested ReadCapacityUnits: {r}. Current WriteCapacityUnits provisioned for the table: {}. Requested WriteCapacityUnits: {w}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.",
                    t.read, t.write
                )));
            }
            let decreasing =
                def.billing == BillingMode::Provisioned && (r < t.read || w < t.write);
            let next = changed_throughput(t, r, w, decreasing, now)?;
            def.warm = (def.warm.0.max(next.read), def.warm.1.max(next.write));
            def.throughput = next;
        }
        (BillingMode::Provisioned, None) if def.billing == BillingMode::PayPerRequest => {
            return Err(ApiError::invalid_parameter(
                "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
            ))
        }
        _ => {}
    }
    if target_billing == BillingMode::PayPerRequest {
        def.throughput = Throughput::new(0, 0);
        for g in &mut def.gsis {
            g.throughput = None;
        }
    } else if def.billing == BillingMode::PayPerRequest {
        // Switching to provisioned: every GSI needs capacity, given through its Update.
        let given = |g: &IndexDef| {
            c.gsi_updates.iter().find_map(|u| match u {
                GsiUpdate::Update {
                    name,
                    throughput: Some(t),
                } if name == &g.name => Some(*t),
                _ => None,
            })
        };
        let lacking: Vec<&str> = def
            .gsis
            .iter()
            .filter(|g| given(g).is_none())
            .map(|g| g.name.as_str())
            .collect();
        if !lacking.is_empty() {
            return Err(ApiError::invalid_parameter(format!(
                "ProvisionedThroughput must be specified for index: {}",
                lacking.join(",")
            )));
        }
        let capacities: Vec<Option<(i64, i64)>> = def.gsis.iter().map(given).collect();
        for (g, t) in def.gsis.iter_mut().zip(capacities) {
            g.throughput = t.map(|(r, w)| Throughput::new(r, w));
        }
    }
    def.billing = target_billing;

    if let Some((enabled, view)) = c.stream {
        let view = parse::stream_view(enabled, view, false)?;
        match (view, &def.stream) {
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(format!(
                    "Table already has an enabled stream: TableName: {}",
                    def.name
                )))
            }
            (None, None) => {
                return Err(ApiError::validation(format!(
                    "Table has no stream to disable: TableName: {}",
                    def.name
                )))
            }
            (Some(view_type), None) => {
                let spec = StreamSpec {
                    view_type,
                    label: super::stream_label(now),
                };
                def.latest_stream = Some(spec.clone());
                def.stream = Some(spec);
            }
            (None, Some(_)) => def.stream = None,
        }
    }
    if let Some((enabled, kind, key)) = c.sse {
        if enabled == Some(false) && def.sse.is_none() && kind.is_none() && key.is_none() {
            return Err(ApiError::invalid_parameter(
                "Table is already encrypted by default",
            ));
        }
        def.sse = parse::sse_def(enabled, kind, key)?;
    }
    if let Some(class) = c.table_class {
        def.table_class = Some(class);
    }
    if let Some(p) = c.deletion_protection {
        def.deletion_protection = p;
    }
    if let Some(o) = c.on_demand {
        if target_billing == BillingMode::Provisioned {
            if let Some(member) = super::create::on_demand_member(&o) {
                return Err(ApiError::invalid_parameter(format!(
                    "{member} for OnDemandThroughput cannot be specified when the table BillingMode is PROVISIONED"
                )));
            }
        }
        def.on_demand = Some(o);
    }
    apply_gsi_updates(def, c.gsi_updates, &c.attributes, now)
}

/// `t` changed to `r`/`w`: the decrease budget checked and spent when `decreasing`, the
/// last increase / decrease times kept or moved.
fn changed_throughput(
    t: &Throughput,
    r: i64,
    w: i64,
    decreasing: bool,
    now: i64,
) -> ApiResult<Throughput> {
    if decreasing {
        budget::check_decrease(t, now)?;
    }
    let mut next = Throughput::new(r, w);
    next.decreases_today = budget::decreases_today(t, now);
    next.last_increase_ms = t.last_increase_ms;
    next.last_decrease_ms = t.last_decrease_ms;
    if r > t.read || w > t.write {
        next.last_increase_ms = Some(now);
    }
    if decreasing {
        budget::record_decrease(&mut next, now);
    }
    Ok(next)
}

fn apply_gsi_updates(
    def: &mut TableDef,
    updates: Vec<GsiUpdate>,
    attrs: &[(String, String)],
    now: i64,
) -> ApiResult<()> {
    let structural = updates
        .iter()
        .filter(|u| !matches!(u, GsiUpdate::Update { .. }))
        .count();
    if structural > 1 {
        return Err(ApiError::new(
            ErrorCode::LimitExceededException,
            "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table",
        ));
    }
    for update in updates {
        match update {
            GsiUpdate::Create(ix) => {
                if def.index(&ix.name).is_some() {
                    return Err(ApiError::validation(
                        "Attempting to create an index which already exists",
                    ));
                }
                for key in ix.keys.names() {
                    let declared = attrs
                        .iter()
                        .find(|(n, _)| n == key)
                        .map(|(_, t)| t.as_str());
                    let existing = def.attribute_type(key).map(|t| t.as_str());
                    match (declared, existing) {
                        (Some(d), Some(e)) if d != e => {
                            return Err(ApiError::invalid_parameter(format!(
                                "Cannot change the type of attribute {key} from {e} to {d}"
                            )))
                        }                        (None, None) if attrs.is_empty() => {
                            return Err(ApiError::invalid_parameter(format!(
                                "AttributeDefinitions is not specified for index: {}",
                                ix.name
                            )))
                        }
                        (None, None) => {
                            return Err(ApiError::invalid_parameter(format!(
                                "Some index key attributes are not defined in AttributeDefinitions. Keys: [{key}], AttributeDefinitions: [{}]",
                                attrs.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                            )))
                        }
                        _ => {}
                    }
                }
                let mut ix = *ix;
                match (def.billing, &ix.throughput) {
                    (BillingMode::Provisioned, None) => {                        return Err(ApiError::invalid_parameter(format!(
                            "ProvisionedThroughput is not specified for index: {}",
                            ix.name
                        )))
                    }
                    (BillingMode::PayPerRequest, Some(_)) => {
                        return Err(ApiError::invalid_parameter(format!(
                            "ProvisionedThroughput should not be specified for index: {} when BillingMode is PAY_PER_REQUEST",
                            ix.name
                        )))
                    }
                    (BillingMode::PayPerRequest, None) => ix.throughput = None,
                    _ => {}
                }
                for (name, kind) in attrs {
                    if def.attribute_type(name).is_none() && ix.keys.names().any(|k| k == name) {
                        def.attributes.push(catalog::AttributeDef {
                            name: name.clone(),
                            kind: catalog::ScalarType::parse(kind)
                                .unwrap_or(catalog::ScalarType::S),
                        });
                    }
                }
                if def.gsis.len() >= 20 {
                    return Err(ApiError::new(
                        ErrorCode::LimitExceededException,
                        "Subscriber limit exceeded: Number of global secondary indexes exceeds per-table limit of 20",
                    ));
                }
                def.gsis.push(ix);
            }
            GsiUpdate::Update { name, throughput } => {
                let billing = def.billing;
                let Some(g) = def.gsis.iter_mut().find(|g| g.name == name) else {
                    return Err(ApiError::resource_not_found(format!(
                        "Requested resource not found: Index {name} for table {}",
                        def.name
                    )));
                };
                if let (BillingMode::Provisioned, Some((r, w))) = (billing, throughput) {
                    // Each GSI has its own decrease budget.
                    g.throughput = Some(match &g.throughput {
                        Some(t) => {
                            let decreasing = r < t.read || w < t.write;
                            changed_throughput(t, r, w, decreasing, now)?
                        }
                        None => Throughput::new(r, w),
                    });
                }
            }
            GsiUpdate::Delete { name } => {
                let before = def.gsis.len();
                def.gsis.retain(|g| g.name != name);
                if def.gsis.len() == before {
                    return Err(ApiError::resource_not_found(format!(
                        "Requested resource not found: Index {name} for table {}",
                        def.name
                    )));
                }
                let used: Vec<String> = def
                    .keys
                    .names()
                    .chain(def.lsis.iter().flat_map(|i| i.keys.names()))
                    .chain(def.gsis.iter().flat_map(|i| i.keys.names()))
                    .map(str::to_string)
                    .collect();
                def.attributes.retain(|a| used.contains(&a.name));
            }
        }
    }
    Ok(())
}
