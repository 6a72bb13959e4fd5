//! CreateTable: shape and constraint checks, DynamoDB's schema rules for keys, indexes,
//! billing, streams, SSE and tags, then one catalog write.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::describe::{description, Shape};
use super::parse::{self, KeyElement, RawProjection};
use crate::api::Ctx;
use crate::catalog::{self, BillingMode, IndexDef, Lifecycle, StreamSpec, TableDef, Throughput};
use crate::wire::shape::{check_table_name, required, Obj, Violations};
use crate::wire::{ApiError, ApiResult};

/// The most LSIs and GSIs a table may have, and NonKeyAttributes across its indexes.
const MAX_LSIS: usize = 5;
const MAX_GSIS: usize = 20;
const MAX_NON_KEY_ATTRIBUTES: usize = 100;

struct RawIndex {
    name: String,
    keys: Vec<KeyElement>,
    projection: RawProjection,
    throughput: Option<(Option<i64>, Option<i64>)>,
    on_demand: Option<catalog::OnDemand>,
}

fn raw_indexes(
    list: &[Obj<'_>],
    path: &str,
    global: bool,
    v: &mut Violations,
) -> ApiResult<Vec<RawIndex>> {
    let mut out = Vec::with_capacity(list.len());
    for (i, ix) in list.iter().enumerate() {
        let p = format!("{path}.{}.member", i + 1);
        let name = ix.str("IndexName")?;
        match name {
            None => v.not_null(&format!("{p}.indexName")),
            Some(n) => v.name(n, &format!("{p}.indexName")),
        }
        let keys = match ix.obj_list("KeySchema")? {
            None => {
                v.not_null(&format!("{p}.keySchema"));
                Vec::new()
            }
            Some(list) => parse::key_elements(&list, &format!("{p}.keySchema"), global, v)?,
        };
        let projection = parse::projection(ix.obj("Projection")?, &format!("{p}.projection"), v)?;
        let throughput = match (global, ix.obj("ProvisionedThroughput")?) {
            (true, Some(pt)) => Some(parse::throughput(
                pt,
                &format!("{p}.provisionedThroughput"),
                v,
            )?),
            _ => None,
        };
        let on_demand = if global {
            parse::on_demand(ix.obj("OnDemandThroughput")?)?
        } else {
            None
        };
        out.push(RawIndex {
            name: name.unwrap_or_default().to_string(),
            keys,
            projection,
            throughput,
            on_demand,
        });
    }
    Ok(out)
}

pub async fn create_table(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let now = ctx.now_ms();
    let def = table_def(ctx, body, now)?;
    let name = def.name.clone();
    let delete_delay = ctx.config.delete_delay_ms;
    let mut def = ctx
        .store
        .write(move |txn| {
            if let Some(existing) = catalog::load_for_write(txn, &name)? {
                if existing.status(now) == catalog::TableStatus::Creating {
                    return Err(ApiError::resource_in_use(format!(
                        "Attempt to change a resource which is still in use: Table is being created: {name}"
                    )));
                }
                if !existing.is_gone(now, delete_delay) {
                    return Err(ApiError::resource_in_use(format!("Table already exists: {name}")));
                }
            }
            let mut def = def;
            def.id = catalog::next_table_id(txn)?;
            catalog::save(txn, &def)?;
            Ok(def)
        })
        .await?;
    def.active_at_ms = def.active_at_ms.max(now);
    tracing::info!(table = %def.name, "table created");
    Ok(
        serde_json::json!({ "TableDescription": description(ctx, &def, Default::default(), now, Shape::Created) }),
    )
}

/// Every check of a CreateTable request, in DynamoDB's order, and the definition it
/// creates (id 0: the commit assigns it). ImportTable checks its TableCreationParameters
/// with it too.
pub fn table_def(ctx: &Ctx, body: &Map<String, Value>, now: i64) -> ApiResult<TableDef> {
    let o = Obj(body);
    // Shape first: every type mismatch is a SerializationException.
    let name = o.str("TableName")?;
    let attr_list = o.obj_list("AttributeDefinitions")?;
    let key_list = o.obj_list("KeySchema")?;
    let lsi_list = o.obj_list("LocalSecondaryIndexes")?;
    let gsi_list = o.obj_list("GlobalSecondaryIndexes")?;
    let billing = o.str("BillingMode")?;
    let pt = o.obj("ProvisionedThroughput")?;
    let stream = o.obj("StreamSpecification")?;
    let sse = o.obj("SSESpecification")?;
    let tag_list = o.obj_list("Tags")?;
    let class = o.str("TableClass")?;
    let deletion_protection = o.bool("DeletionProtectionEnabled")?;
    let on_demand = o.obj("OnDemandThroughput")?;
    let resource_policy = o.str("ResourcePolicy")?;

    // Constraints, reported together.
    let mut v = Violations::new();
    let attrs = match &attr_list {
        None => {
            v.not_null("attributeDefinitions");
            Vec::new()
        }
        Some(list) => parse::attribute_definitions(list, "attributeDefinitions", &mut v)?,
    };
    let name = required(name, "TableName")?;
    check_table_name(&mut v, name, "tableName");
    let keys = match &key_list {
        None => {
            v.not_null("keySchema");
            Vec::new()
        }
        Some(list) => parse::key_elements(list, "keySchema", false, &mut v)?,
    };
    let lsis = match &lsi_list {
        Some(list) => Some(raw_indexes(list, "localSecondaryIndexes", false, &mut v)?),
        None => None,
    };
    let gsis = match &gsi_list {
        Some(list) => Some(raw_indexes(list, "globalSecondaryIndexes", true, &mut v)?),
        None => None,
    };
    parse::billing_mode(billing, &mut v);
    let table_throughput = match pt {
        Some(pt) => Some(parse::throughput(pt, "provisionedThroughput", &mut v)?),
        None => None,
    };
    let stream = match stream {
        Some(s) => Some(parse::stream_spec(s, &mut v)?),
        None => None,
    };
    let sse = match sse {
        Some(s) => Some(parse::sse_spec(s, &mut v)?),
        None => None,
    };
    let tags = super::tags::parse_tags(tag_list.as_deref(), "tags", &mut v)?;
    let on_demand = parse::on_demand(on_demand)?;
    v.finish()?;
    parse::table_class(class)?;
    let name = name.to_string();

    // DynamoDB's semantic checks, in its order.
    let billing = match billing {
        Some("PAY_PER_REQUEST") => BillingMode::PayPerRequest,
        _ => BillingMode::Provisioned,
    };
    let throughput = check_billing(billing, table_throughput)?;
    let attributes = parse::attribute_defs(&attrs)?;
    let defined: Vec<&str> = attrs.iter().map(|(n, _)| n.as_str()).collect();
    check_definitions(&defined, &keys, lsis.as_deref(), gsis.as_deref())?;
    let key_schema = parse::key_schema(&keys)?;

    let mut index_names: HashSet<String> = HashSet::new();
    let mut lsi_defs = Vec::new();
    if let Some(lsis) = &lsis {
        if lsis.is_empty() {
            return Err(ApiError::invalid_parameter(
                "List of LocalSecondaryIndexes is empty",
            ));
        }
        if key_schema.range.is_none() {
            return Err(ApiError::invalid_parameter(
                "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
            ));
        }
        for ix in lsis {
            let def = index_def(ix, &mut index_names, None)?;
            if def.keys.range.is_empty() {
                return Err(ApiError::invalid_parameter(format!(
                    "Index KeySchema does not have a range key for index: {}",
                    ix.name
                )));
            }
            if def.keys.hash != [key_schema.hash.as_str()] {
                return Err(ApiError::invalid_parameter(format!(
                    "Index KeySchema does not have the same leading hash key as table KeySchema for index: {}. index hash key: {}, table hash key: {}",
                    ix.name, def.keys.hash.join(", "), key_schema.hash
                )));
            }
            lsi_defs.push(def);
        }
        if lsis.len() > MAX_LSIS {
            return Err(ApiError::invalid_parameter(format!(
                "Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LSIS}"
            )));
        }
    }
    let mut gsi_defs = Vec::new();
    if let Some(gsis) = &gsis {
        if gsis.is_empty() {
            return Err(ApiError::invalid_parameter(
                "List of GlobalSecondaryIndexes is empty",
            ));
        }
        for ix in gsis {
            let def = index_def(ix, &mut index_names, Some(billing))?;
            gsi_defs.push(def);
        }
        if gsis.len() > MAX_GSIS {
            return Err(ApiError::invalid_parameter(format!(
                "GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSIS}"
            )));
        }
    }
    let non_key_total: usize = lsi_defs
        .iter()
        .chain(&gsi_defs)
        .map(|i| i.projection.non_key.len())
        .sum();
    if non_key_total > MAX_NON_KEY_ATTRIBUTES {
        // DynamoDB's wording for this quota was never captured; this names the limit.
        return Err(ApiError::invalid_parameter(format!(
            "The number of NonKeyAttributes across all secondary indexes exceeds the limit of {MAX_NON_KEY_ATTRIBUTES}"
        )));
    }

    let stream = match stream {
        Some((enabled, view)) => parse::stream_view(enabled, view, true)?,
        None => None,
    };
    let sse = match sse {
        Some((enabled, kind, key)) => parse::sse_def(enabled, kind, key)?,
        None => None,
    };
    let tags = super::tags::validate_create_tags(tags)?;
    let resource_policy = super::policy::for_create(resource_policy, now)?;
    if billing == BillingMode::Provisioned {
        if let Some(member) = on_demand.as_ref().and_then(on_demand_member) {
            return Err(ApiError::invalid_parameter(format!(
                "{member} for OnDemandThroughput cannot be specified when table BillingMode is PROVISIONED."
            )));
        }
    }

    let label = super::stream_label(now);
    let stream = stream.map(|view_type| StreamSpec { view_type, label });
    let warm = (throughput.read, throughput.write);
    let def = TableDef {
        id: 0,
        name: name.clone(),
        uuid: uuid::Uuid::new_v4().to_string(),
        attributes,
        keys: key_schema,
        billing,
        billing_explicit: o.has("BillingMode"),
        last_pay_per_request_ms: (billing == BillingMode::PayPerRequest).then_some(now),
        warm_updating_until_ms: 0,
        ppr_switches_ms: Vec::new(),
        throughput,
        on_demand,
        lsis: lsi_defs,
        gsis: gsi_defs,
        latest_stream: stream.clone(),
        stream,
        sse,
        table_class: class.map(str::to_string),
        deletion_protection: deletion_protection.unwrap_or(false),
        tags,
        created_ms: now,
        active_at_ms: now + ctx.config.create_delay_ms,
        updating_until_ms: 0,
        lifecycle: Lifecycle::Live,
        warm,
        replicated: false,
        pitr: None,
        restore: None,
        kinesis: Vec::new(),
        resource_policy,
        stream_policies: Vec::new(),
    };
    Ok(def)
}

fn check_billing(
    billing: BillingMode,
    given: Option<(Option<i64>, Option<i64>)>,
) -> ApiResult<Throughput> {
    match (billing, given) {
        (BillingMode::Provisioned, Some((Some(r), Some(w)))) => {
            parse::check_capacity_bounds(r, w)?;
            Ok(Throughput::new(r, w))
        }
        (BillingMode::Provisioned, _) => Err(ApiError::invalid_parameter(
            "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        )),
        (BillingMode::PayPerRequest, Some(_)) => Err(ApiError::invalid_parameter(
            "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
        )),
        (BillingMode::PayPerRequest, None) => Ok(Throughput::new(0, 0)),
    }
}

/// Checks one index definition; `global` carries the table's billing mode for GSIs.
fn index_def(
    ix: &RawIndex,
    names: &mut HashSet<String>,
    global: Option<BillingMode>,
) -> ApiResult<IndexDef> {
    let schema = match global {
        Some(_) => parse::gsi_key_schema(&ix.keys)?,
        None => catalog::IndexKeys::from(&parse::key_schema(&ix.keys)?),
    };
    let projection = parse::projection_def(&ix.projection)?;
    if !names.insert(ix.name.clone()) {
        return Err(ApiError::invalid_parameter(format!(
            "Duplicate index name: {}",
            ix.name
        )));
    }
    let throughput = match (global, ix.throughput) {
        (Some(BillingMode::Provisioned), Some((Some(r), Some(w)))) => {
            parse::check_capacity_bounds(r, w)?;
            Some(Throughput::new(r, w))
        }
        (Some(BillingMode::Provisioned), _) => {
            return Err(ApiError::invalid_parameter(format!("ProvisionedThroughput is not specified for index: {}",
                ix.name
            )))
        }
        (Some(BillingMode::PayPerRequest), Some(_)) => {
            return Err(ApiError::invalid_parameter(format!(
                "ProvisionedThroughput should not be specified for index: {} when BillingMode is PAY_PER_REQUEST",
                ix.name
            )))
        }
        _ => None,
    };
    Ok(IndexDef {
        name: ix.name.clone(),
        keys: schema,
        projection,
        throughput,
        on_demand: ix.on_demand.clone(),
        active_at_ms: 0,
    })
}

/// DynamoDB's rules for AttributeDefinitions against the keys that use them, checked
/// before any index detail (so an unused definition masks other index errors).
fn check_definitions(
    defined: &[&str],
    keys: &[KeyElement],
    lsis: Option<&[RawIndex]>,
    gsis: Option<&[RawIndex]>,
) -> ApiResult<()> {
    let table_keys: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
    let missing_table: Vec<&str> = table_keys
        .iter()
        .copied()
        .filter(|k| !defined.contains(k))
        .collect();
    let has_indexes = lsis.is_some() || gsis.is_some();
    let not_defined = |keys: &[&str]| {
        ApiError::invalid_parameter(format!(
            "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
            keys.join(", "),
            defined.join(", ")
        ))
    };
    let same_name_twice = table_keys.len() == 2 && table_keys.first() == table_keys.get(1);
    if !missing_table.is_empty() || (same_name_twice && defined.len() < 2) {
        if table_keys.len() == 2 && (defined.len() < table_keys.len() || same_name_twice) {
            return Err(ApiError::validation(
                "Invalid KeySchema: Some index key attribute have no definition",
            ));
        }
        return Err(not_defined(if has_indexes {
            &missing_table
        } else {
            &table_keys
        }));
    }
    let mut used: Vec<&str> = Vec::new();
    let index_keys = lsis
        .into_iter()
        .chain(gsis)
        .flatten()
        .flat_map(|ix| ix.keys.iter().map(|k| k.name.as_str()));
    for k in table_keys.iter().copied().chain(index_keys) {
        if !used.contains(&k) {
            used.push(k);
        }
    }
    let missing_index: Vec<&str> = used
        .iter()
        .copied()
        .filter(|k| !defined.contains(k))
        .collect();
    if !missing_index.is_empty() {
        return Err(not_defined(&missing_index));
    }
    if defined.iter().any(|d| !used.contains(d)) {
        if !has_indexes {
            return Err(ApiError::invalid_parameter(
                "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
            ));
        }
        return Err(ApiError::invalid_parameter(format!(
            "Some AttributeDefinitions are not used. AttributeDefinitions: [{}], keys used: [{}]",
            defined.join(", "),
            used.join(", ")
        )));
    }
    Ok(())
}

/// The first member an OnDemandThroughput sets, as DynamoDB names it in errors.
pub(super) fn on_demand_member(o: &catalog::OnDemand) -> Option<&'static str> {
    if o.max_read.is_some() {
        Some("MaxReadRequestUnits")
    } else if o.max_write.is_some() {
        Some("MaxWriteRequestUnits")
    } else {
        None
    }
}
