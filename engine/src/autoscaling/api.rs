//! The Application Auto Scaling operations for ServiceNamespace `dynamodb`, with AWS's
//! validation order: shape and enum constraints (one ValidationException listing them),
//! then the namespace / resource / dimension combination ("Unsupported service
//! namespace, resource type or scalable dimension"), then the table, then existence of
//! the target or policy (ObjectNotFoundException).

use serde_json::{json, Map, Value};

use super::model::{Activity, Dimension, Policy, Target};
use super::scaler;
use crate::ctx::Ctx;
use crate::wire::shape::{Obj, Violations};
use crate::wire::{ApiError, ApiResult, ErrorCode};

/// ServiceNamespace's enum in the API model (2016-02-06).
const NAMESPACES: &[&str] = &[
    "ecs",
    "elasticmapreduce",
    "ec2",
    "appstream",
    "dynamodb",
    "rds",
    "sagemaker",
    "custom-resource",
    "comprehend",
    "lambda",
    "cassandra",
    "kafka",
    "elasticache",
    "neptune",
    "workspaces",
];

/// ScalableDimension's enum in the API model.
const DIMENSIONS: &[&str] = &[
    "ecs:service:DesiredCount",
    "ec2:spot-fleet-request:TargetCapacity",
    "elasticmapreduce:instancegroup:InstanceCount",
    "appstream:fleet:DesiredCapacity",
    "dynamodb:table:ReadCapacityUnits",
    "dynamodb:table:WriteCapacityUnits",
    "dynamodb:index:ReadCapacityUnits",
    "dynamodb:index:WriteCapacityUnits",
    "rds:cluster:ReadReplicaCount",
    "sagemaker:variant:DesiredInstanceCount",
    "custom-resource:ResourceType:Property",
    "comprehend:document-classifier-endpoint:DesiredInferenceUnits",
    "comprehend:entity-recognizer-endpoint:DesiredInferenceUnits",
    "lambda:function:ProvisionedConcurrency",
    "cassandra:table:ReadCapacityUnits",
    "cassandra:table:WriteCapacityUnits",
    "kafka:broker-storage:VolumeSize",
    "elasticache:replication-group:NodeGroups",
    "elasticache:replication-group:Replicas",
    "neptune:cluster:ReadReplicaCount",
    "sagemaker:variant:DesiredProvisionedConcurrency",
    "sagemaker:inference-component:DesiredCopyCount",
    "workspaces:workspacespool:DesiredUserSessions",
];

const POLICY_TYPES: &[&str] = &["StepScaling", "TargetTrackingScaling", "PredictiveScaling"];

pub const UNSUPPORTED: &str = "Unsupported service namespace, resource type or scalable dimension";

/// DynamoDB's range of target utilization, in percent.
pub const TARGET_MIN: f64 = 20.0;
pub const TARGET_MAX: f64 = 90.0;

/// A target's key, checked.
struct Key {
    resource_id: String,
    dimension: Dimension,
    table: String,
    index: Option<String>,
}

fn enum_check(v: &mut Violations, value: Option<&str>, path: &str, allowed: &[&str]) {
    match value {
        None => v.not_null(path),
        Some(s) => v.enum_value(s, path, allowed),
    }
}

/// ServiceNamespace, ResourceId and ScalableDimension, all required.
fn key(o: Obj<'_>, v: &mut Violations) -> ApiResult<Option<(String, String, String)>> {
    let ns = o.str("ServiceNamespace")?;
    let rid = o.str("ResourceId")?;
    let dim = o.str("ScalableDimension")?;
    enum_check(v, ns, "serviceNamespace", NAMESPACES);
    match rid {
        None => v.not_null("resourceId"),
        Some(r) => v.length(r, "resourceId", 1, 1600),
    }
    enum_check(v, dim, "scalableDimension", DIMENSIONS);
    Ok(match (ns, rid, dim) {
        (Some(n), Some(r), Some(d)) => Some((n.into(), r.into(), d.into())),
        _ => None,
    })
}

/// The combination, once each member passed its own constraints.
fn resolve(ns: &str, rid: &str, dim: &str) -> ApiResult<Key> {
    let unsupported = || ApiError::validation(UNSUPPORTED);
    let dimension = Dimension::parse(dim).ok_or_else(unsupported)?;
    if ns != "dynamodb" {
        return Err(unsupported());
    }
    let parts: Vec<&str> = rid.split('/').collect();
    let (table, index) = match parts.as_slice() {
        ["table", t] if !t.is_empty() && !dimension.is_index() => (t.to_string(), None),
        ["table", t, "index", i] if !t.is_empty() && !i.is_empty() && dimension.is_index() => {
            (t.to_string(), Some(i.to_string()))
        }
        _ => return Err(unsupported()),
    };
    Ok(Key {
        resource_id: rid.to_string(),
        dimension,
        table,
        index,
    })
}

/// The key of a request whose ServiceNamespace, ResourceId and ScalableDimension are all
/// required, with no other constraint checked alongside.
fn required_key(body: &Map<String, Value>) -> ApiResult<Key> {
    let mut v = Violations::new();
    let k = key(Obj(body), &mut v)?;
    v.finish()?;
    let (ns, rid, dim) = k.ok_or_else(|| ApiError::validation(UNSUPPORTED))?;
    resolve(&ns, &rid, &dim)
}

fn target_not_found(k: &Key) -> ApiError {
    ApiError::new(
        ErrorCode::ObjectNotFoundException,
        format!(
            "No scalable target registered for service namespace: dynamodb, resource ID: {}, scalable dimension: {}",
            k.resource_id,
            k.dimension.as_str()
        ),
    )
}

/// The table's current value of the dimension, checking the table (and index) exists.
fn current(ctx: &Ctx, k: &Key) -> ApiResult<i64> {
    let txn = ctx.store.read()?;
    let now = ctx.now_ms();
    let missing = || {
        ApiError::validation(format!(
            "DynamoDB table or index does not exist: {}",
            k.resource_id
        ))
    };
    let def = ctx
        .visible_table(&txn, &k.table, now)?
        .ok_or_else(missing)?;
    scaler::provisioned(&def, k.index.as_deref(), k.dimension).ok_or_else(missing)
}

fn float(o: Obj<'_>, key: &str) -> ApiResult<Option<f64>> {
    match o.raw(key) {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(_) => Err(ApiError::serialization(format!(
            "NUMBER_VALUE cannot be converted to Double: {key}"
        ))),
    }
}

pub async fn register_scalable_target(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let mut v = Violations::new();
    let k = key(o, &mut v)?;
    let min = o.int("MinCapacity")?;
    let max = o.int("MaxCapacity")?;
    let role = o.str("RoleARN")?;
    let suspended = o.obj("SuspendedState")?;
    if let Some(r) = role {
        v.length(r, "roleARN", 1, 1600);
    }
    v.finish()?;
    let (ns, rid, dim) = k.ok_or_else(|| ApiError::validation(UNSUPPORTED))?;
    let k = resolve(&ns, &rid, &dim)?;
    let now_value = current(ctx, &k)?;
    let flags = match suspended {
        Some(s) => [
            s.bool("DynamicScalingInSuspended")?,
            s.bool("DynamicScalingOutSuspended")?,
            s.bool("ScheduledScalingSuspended")?,
        ],
        None => [None; 3],
    };
    let exists = ctx
        .autoscaling
        .snapshot()
        .target(&rid, k.dimension)
        .cloned();
    let (new_min, new_max) = match &exists {
        Some(t) => (min.unwrap_or(t.min), max.unwrap_or(t.max)),
        None => match (min, max) {
            (Some(a), Some(b)) => (a, b),
            _ => return Err(ApiError::validation(
                "MinCapacity and MaxCapacity are required for registering a new scalable target",
            )),
        },
    };
    if new_min < 0 || new_max < 0 {
        return Err(ApiError::validation(
            "Minimum and maximum capacity must be greater than or equal to 0",
        ));
    }
    if new_min > new_max {
        return Err(ApiError::validation(format!(
            "Minimum capacity cannot be greater than maximum capacity: MinCapacity {new_min}, MaxCapacity {new_max}"
        )));
    }
    let region = ctx.config.region.clone();
    let account = ctx.config.account.clone();
    let now = ctx.now_ms();
    let role_arn = role.map(str::to_string).unwrap_or_else(|| {
        format!("arn:aws:iam::{account}:role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable")
    });
    let arn = ctx
        .autoscaling
        .change(&ctx.store, |state| {
            let t = match state.target_mut(&rid, k.dimension) {
                Some(t) => t,
                None => {
                    state.targets.push(Target {
                        resource_id: rid.clone(),
                        dimension: k.dimension,
                        table: k.table.clone(),
                        index: k.index.clone(),
                        min: new_min,
                        max: new_max,
                        role_arn: role_arn.clone(),
                        arn: format!(
                            "arn:aws:application-autoscaling:{region}:{account}:scalable-target/{}",
                            uuid::Uuid::new_v4().simple()
                        ),
                        created_ms: now,
                        scale_in_suspended: false,
                        scale_out_suspended: false,
                        scheduled_suspended: false,
                        evaluated_minute: None,
                        last_out_ms: None,
                        last_in_ms: None,
                        high_streak: 0,
                        low_streak: 0,
                    });
                    let n = state.targets.len() - 1;
                    &mut state.targets[n]
                }
            };
            t.min = new_min;
            t.max = new_max;
            if role.is_some() {
                t.role_arn = role_arn.clone();
            }
            let [i, out, sched] = flags;
            t.scale_in_suspended = i.unwrap_or(t.scale_in_suspended);
            t.scale_out_suspended = out.unwrap_or(t.scale_out_suspended);
            t.scheduled_suspended = sched.unwrap_or(t.scheduled_suspended);
            Ok(t.arn.clone())
        })
        .await?;
    // A current value outside the new range is brought inside it at once.
    let bound = if now_value < new_min {
        Some((new_min, format!("minimum capacity was set to {new_min}")))
    } else if now_value > new_max {
        Some((new_max, format!("maximum capacity was set to {new_max}")))
    } else {
        None
    };
    if let Some((to, cause)) = bound {
        scaler::apply(ctx, &rid, k.dimension, to, cause, None).await?;
    }
    Ok(json!({ "ScalableTargetARN": arn }))
}

/// MaxResults (1..=50, default 50) and NextToken (an offset this server handed out).
fn page(o: Obj<'_>, v: &mut Violations) -> ApiResult<(usize, usize)> {
    let max = o.int("MaxResults")?;
    if let Some(m) = max {
        v.min_value(m, "maxResults", 1);
        v.max_value(m, "maxResults", 50);
    }
    let start = match o.str("NextToken")? {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| ApiError::validation("Invalid NextToken"))?,
    };
    Ok((start, max.unwrap_or(50).clamp(1, 50) as usize))
}

fn paged(list: Vec<Value>, member: &str, start: usize, size: usize) -> Value {
    let total = list.len();
    let items: Vec<Value> = list.into_iter().skip(start).take(size).collect();
    let mut out = json!({ member: items });
    if start + size < total {
        out["NextToken"] = json!((start + size).to_string());
    }
    out
}

/// ServiceNamespace (required) and the optional ScalableDimension of the Describe calls.
fn describe_filter(o: Obj<'_>, v: &mut Violations) -> ApiResult<(bool, Option<Dimension>)> {
    let ns = o.str("ServiceNamespace")?;
    enum_check(v, ns, "serviceNamespace", NAMESPACES);
    let dim = o.str("ScalableDimension")?;
    if let Some(d) = dim {
        v.enum_value(d, "scalableDimension", DIMENSIONS);
    }
    Ok((ns == Some("dynamodb"), dim.and_then(Dimension::parse)))
}

pub async fn describe_scalable_targets(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let mut v = Violations::new();
    let (dynamo, dim) = describe_filter(o, &mut v)?;
    let ids = o.str_list("ResourceIds")?;
    let (start, size) = page(o, &mut v)?;
    v.finish()?;
    let dim_given = o.has("ScalableDimension");
    scaler::catch_up(ctx).await?;
    let state = ctx.autoscaling.snapshot();
    let list = state
        .targets
        .iter()
        .filter(|t| dynamo && (!dim_given || Some(t.dimension) == dim))
        .filter(|t| {
            ids.as_ref()
                .is_none_or(|ids| ids.is_empty() || ids.contains(&t.resource_id.as_str()))
        })
        .map(Target::to_json)
        .collect();
    Ok(paged(list, "ScalableTargets", start, size))
}

pub async fn deregister_scalable_target(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let k = required_key(body)?;
    ctx.autoscaling
        .change(&ctx.store, |state| {
            let before = state.targets.len();
            state
                .targets
                .retain(|t| !t.key_matches(&k.resource_id, k.dimension));
            if state.targets.len() == before {
                return Err(target_not_found(&k));
            }
            // Deregistering a target deletes its policies.
            state
                .policies
                .retain(|p| !(p.resource_id == k.resource_id && p.dimension == k.dimension));
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn put_scaling_policy(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let mut v = Violations::new();
    let name = o.str("PolicyName")?;
    match name {
        None => v.not_null("policyName"),
        Some(n) => v.length(n, "policyName", 1, 256),
    }
    let k = key(o, &mut v)?;
    let ptype = o.str("PolicyType")?;
    if let Some(p) = ptype {
        v.enum_value(p, "policyType", POLICY_TYPES);
    }
    let cfg = o.obj("TargetTrackingScalingPolicyConfiguration")?;
    let target_value = match cfg {
        Some(c) => float(c, "TargetValue")?,
        None => None,
    };
    if cfg.is_some() && target_value.is_none() {
        v.not_null("targetTrackingScalingPolicyConfiguration.targetValue");
    }
    v.finish()?;
    let (ns, rid, dim) = k.ok_or_else(|| ApiError::validation(UNSUPPORTED))?;
    let k = resolve(&ns, &rid, &dim)?;
    let name = name.unwrap_or_default().to_string();
    // No PolicyType means StepScaling, which DynamoDB does not support.
    let ptype = ptype.unwrap_or("StepScaling");
    if ptype != "TargetTrackingScaling" {
        return Err(ApiError::validation(format!(
            "{ptype} is not supported for service namespace dynamodb"
        )));
    }
    let (Some(cfg), Some(target_value)) = (cfg, target_value) else {
        return Err(ApiError::validation(
            "TargetTrackingScalingPolicyConfiguration is required for a policy of type TargetTrackingScaling",
        ));
    };
    if cfg.has("CustomizedMetricSpecification") {
        return Err(ApiError::validation(
            "daxlite tracks only PredefinedMetricSpecification (DynamoDBReadCapacityUtilization / DynamoDBWriteCapacityUtilization); CustomizedMetricSpecification is not supported",
        ));
    }
    let spec = cfg.obj("PredefinedMetricSpecification")?.ok_or_else(|| {
        ApiError::validation(
            "Either PredefinedMetricSpecification or CustomizedMetricSpecification must be specified",
        )
    })?;
    let metric = spec.str("PredefinedMetricType")?.ok_or_else(|| {
        ApiError::validation(
            "1 validation error detected: Value null at 'targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType' failed to satisfy constraint: Member must not be null",
        )
    })?;
    if metric != k.dimension.metric() {
        return Err(ApiError::validation(format!(
            "Unsupported metric type {metric} for scalable dimension {}",
            k.dimension.as_str()
        )));
    }
    if !(TARGET_MIN..=TARGET_MAX).contains(&target_value) {
        return Err(ApiError::validation(format!(
            "The target value for a DynamoDB target tracking policy must be between {TARGET_MIN} and {TARGET_MAX}, got {target_value}"
        )));
    }
    let label = spec.str("ResourceLabel")?.map(str::to_string);
    let out_cd = cfg.int("ScaleOutCooldown")?.unwrap_or(0);
    let in_cd = cfg.int("ScaleInCooldown")?.unwrap_or(0);
    if out_cd < 0 || in_cd < 0 {
        return Err(ApiError::validation(
            "Cooldown periods must be greater than or equal to 0",
        ));
    }
    let disable_in = cfg.bool("DisableScaleIn")?.unwrap_or(false);
    let region = ctx.config.region.clone();
    let account = ctx.config.account.clone();
    let now = ctx.now_ms();
    let policy = ctx
        .autoscaling
        .change(&ctx.store, |state| {
            if state.target(&k.resource_id, k.dimension).is_none() {
                return Err(target_not_found(&k));
            }
            let existing = state.policies.iter_mut().find(|p| {
                p.name == name && p.resource_id == k.resource_id && p.dimension == k.dimension
            });
            let p = match existing {
                Some(p) => p,
                None => {
                    let id = uuid::Uuid::new_v4();
                    state.policies.push(Policy {
                        name: name.clone(),
                        resource_id: k.resource_id.clone(),
                        dimension: k.dimension,
                        arn: format!(
                            "arn:aws:autoscaling:{region}:{account}:scalingPolicy:{id}:resource/dynamodb/{}:policyName/{name}",
                            k.resource_id
                        ),
                        alarm_id: uuid::Uuid::new_v4().to_string(),
                        target_value,
                        metric: metric.to_string(),
                        resource_label: None,
                        scale_out_cooldown_s: 0,
                        scale_in_cooldown_s: 0,
                        disable_scale_in: false,
                        created_ms: now,
                    });
                    let n = state.policies.len() - 1;
                    &mut state.policies[n]
                }
            };
            p.target_value = target_value;
            p.metric = metric.to_string();
            p.resource_label = label.clone();
            p.scale_out_cooldown_s = out_cd;
            p.scale_in_cooldown_s = in_cd;
            p.disable_scale_in = disable_in;
            Ok(p.clone())
        })
        .await?;
    Ok(json!({
        "PolicyARN": policy.arn,
        "Alarms": policy.alarms(&ctx.config.region, &ctx.config.account),
    }))
}

pub async fn describe_scaling_policies(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let mut v = Violations::new();
    let (dynamo, dim) = describe_filter(o, &mut v)?;
    let names = o.str_list("PolicyNames")?;
    let rid = o.str("ResourceId")?;
    let (start, size) = page(o, &mut v)?;
    v.finish()?;
    let dim_given = o.has("ScalableDimension");
    let state = ctx.autoscaling.snapshot();
    let list = state
        .policies
        .iter()
        .filter(|p| dynamo && (!dim_given || Some(p.dimension) == dim))
        .filter(|p| rid.is_none_or(|r| r == p.resource_id))
        .filter(|p| {
            names
                .as_ref()
                .is_none_or(|n| n.is_empty() || n.contains(&p.name.as_str()))
        })
        .map(|p| p.to_json(&ctx.config.region, &ctx.config.account))
        .collect();
    Ok(paged(list, "ScalingPolicies", start, size))
}

pub async fn delete_scaling_policy(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let mut v = Violations::new();
    let name = o.str("PolicyName")?;
    match name {
        None => v.not_null("policyName"),
        Some(n) => v.length(n, "policyName", 1, 256),
    }
    let k = key(o, &mut v)?;
    v.finish()?;
    let (ns, rid, dim) = k.ok_or_else(|| ApiError::validation(UNSUPPORTED))?;
    let k = resolve(&ns, &rid, &dim)?;
    let name = name.unwrap_or_default().to_string();
    ctx.autoscaling
        .change(&ctx.store, |state| {
            let before = state.policies.len();
            state.policies.retain(|p| {
                !(p.name == name && p.resource_id == k.resource_id && p.dimension == k.dimension)
            });
            if state.policies.len() == before {
                return Err(ApiError::new(
                    ErrorCode::ObjectNotFoundException,
                    format!(
                        "No scaling policy found for service namespace: dynamodb, resource ID: {}, scalable dimension: {}, policy name: {name}",
                        k.resource_id,
                        k.dimension.as_str()
                    ),
                ));
            }
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn describe_scaling_activities(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let mut v = Violations::new();
    let (dynamo, dim) = describe_filter(o, &mut v)?;
    let rid = o.str("ResourceId")?;
    let _not_scaled = o.bool("IncludeNotScaledActivities")?;
    let (start, size) = page(o, &mut v)?;
    v.finish()?;
    let dim_given = o.has("ScalableDimension");
    scaler::catch_up(ctx).await?;
    let state = ctx.autoscaling.snapshot();
    // Newest first.
    let list = state
        .activities
        .iter()
        .rev()
        .filter(|a| dynamo && (!dim_given || Some(a.dimension) == dim))
        .filter(|a| rid.is_none_or(|r| r == a.resource_id))
        .map(Activity::to_json)
        .collect();
    Ok(paged(list, "ScalingActivities", start, size))
}
