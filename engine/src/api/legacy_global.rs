//! Global tables version 2017.11.29 (Legacy): CreateGlobalTable, UpdateGlobalTable,
//! DescribeGlobalTable, ListGlobalTables, DescribeGlobalTableSettings and
//! UpdateGlobalTableSettings, answered as AWS answers them today (GLOBAL.md §1.4): the
//! request's shape is checked, then creating a legacy global table (or adding a replica
//! to one) is refused in favour of version 2019.11.21, no legacy global table exists to
//! describe, update or list, and 2019.11.21 groups are not legacy global tables.

use serde_json::{json, Map, Value};

use crate::api::Ctx;
use crate::wire::shape::{check_table_name, Obj, Violations};
use crate::wire::{ApiError, ApiResult, ErrorCode};

/// CreateGlobalTable and UpdateGlobalTable's Create (checked before any existence).
pub const NOT_SUPPORTED: &str = "One or more parameter values were invalid: DynamoDB global tables version 2017.11.29 is not supported. We recommend using DynamoDB global tables version 2019.11.21, instead of version 2017.11.29 (Legacy).";

/// `GlobalTableName` (required; a table name) and the other violations of `v`.
fn global_table_name<'a>(o: Obj<'a>, v: &mut Violations) -> ApiResult<&'a str> {
    let name = o.str("GlobalTableName")?;
    match name {
        Some(n) => check_table_name(v, n, "globalTableName"),
        None => v.not_null("globalTableName"),
    }
    Ok(name.unwrap_or_default())
}

fn not_found(name: &str) -> ApiError {
    ApiError::new(
        ErrorCode::GlobalTableNotFoundException,
        format!("Global table not found: Global table with name: '{name}' does not exist."),
    )
}

fn settings_not_found(name: &str) -> ApiError {
    ApiError::new(
        ErrorCode::GlobalTableNotFoundException,
        format!("Global table with name: '{name}' does not exist."),
    )
}

/// A list member every element of which must be an object (`path` for the messages).
fn required_list<'a>(
    o: Obj<'a>,
    key: &str,
    path: &str,
    v: &mut Violations,
) -> ApiResult<Vec<Obj<'a>>> {
    let list = o.obj_list(key)?;
    if list.is_none() {
        v.not_null(path);
    }
    Ok(list.unwrap_or_default())
}

pub async fn create_global_table(_ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let mut v = Violations::new();
    global_table_name(o, &mut v)?;
    for (i, r) in required_list(o, "ReplicationGroup", "replicationGroup", &mut v)?
        .iter()
        .enumerate()
    {
        if r.str("RegionName")?.is_none() {
            v.not_null(&format!("replicationGroup.{}.member.regionName", i + 1));
        }
    }
    v.finish()?;
    Err(ApiError::validation(NOT_SUPPORTED))
}

pub async fn update_global_table(_ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let mut v = Violations::new();
    let name = global_table_name(o, &mut v)?;
    let updates = required_list(o, "ReplicaUpdates", "replicaUpdates", &mut v)?;
    let mut creates = false;
    for (i, u) in updates.iter().enumerate() {
        for action in ["Create", "Delete"] {
            if let Some(a) = u.obj(action)? {
                creates |= action == "Create";
                if a.str("RegionName")?.is_none() {
                    let member = action.to_ascii_lowercase();
                    v.not_null(&format!(
                        "replicaUpdates.{}.member.{member}.regionName",
                        i + 1
                    ));
                }
            }
        }
    }
    v.finish()?;
    if creates {
        return Err(ApiError::validation(NOT_SUPPORTED));
    }
    Err(not_found(name))
}

pub async fn describe_global_table(_ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let mut v = Violations::new();
    let name = global_table_name(Obj(body), &mut v)?;
    v.finish()?;
    Err(not_found(name))
}

/// Describe/UpdateGlobalTableSettings: no legacy global table exists.
async fn settings(body: &Map<String, Value>) -> ApiResult<Value> {
    let mut v = Violations::new();
    let name = global_table_name(Obj(body), &mut v)?;
    v.finish()?;
    Err(settings_not_found(name))
}

pub async fn describe_global_table_settings(
    _ctx: &Ctx,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    settings(body).await
}

pub async fn update_global_table_settings(
    _ctx: &Ctx,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    settings(body).await
}

/// `us-east-1`, `ap-southeast-2`, `us-gov-west-1`: lowercase words, then a number.
fn region_shaped(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
}

pub async fn list_global_tables(_ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let mut v = Violations::new();
    if let Some(limit) = o.int("Limit")? {
        v.min_value(limit, "limit", 1);
    }
    if let Some(start) = o.str("ExclusiveStartGlobalTableName")? {
        check_table_name(&mut v, start, "exclusiveStartGlobalTableName");
    }
    v.finish()?;
    // AWS answers a region it does not know with an internal error (GLOBAL.md §1.4).
    if o.str("RegionName")?.is_some_and(|r| !region_shaped(r)) {
        return Err(ApiError::new(
            ErrorCode::InternalServerError,
            "Internal server error",
        ));
    }
    Ok(json!({"GlobalTables": []}))
}

#[cfg(test)]
mod tests {
    use super::region_shaped;

    #[test]
    fn region_names() {
        for r in [
            "us-east-1",
            "ap-southeast-2",
            "us-gov-west-1",
            "eu-central-1",
        ] {
            assert!(region_shaped(r), "{r}");
        }
        for r in ["", "mars", "us-east", "US-EAST-1", "us--1", "us-east-x"] {
            assert!(!region_shaped(r), "{r}");
        }
    }
}
