//! The checks of an UpdateTable `ReplicaUpdates` request, in DynamoDB's order and with
//! its texts (spec GLOBAL.md §1.1): pure, so every row is unit-tested.

use daxlite_engine::wire::{ApiError, ErrorCode};
use serde_json::{Map, Value};

/// What the request asks for, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Create(String),
    Delete(String),
    /// A replica's overrides: the region and the `Update` action as sent
    /// (`overrides::merge` checks its members).
    Update(String, Value),
}

/// What the checks need to know about the group as it stands.
pub struct Group<'a> {
    pub table: &'a str,
    /// This process's region.
    pub own: &'a str,
    /// The regions of `[[global.peer]]`.
    pub peers: &'a [String],
    /// The regions already in the group, with whether each is settled (ACTIVE).
    pub members: &'a [(String, bool)],
}

fn validation(m: impl Into<String>) -> ApiError {
    ApiError::validation(m)
}

fn region_of(action: &Value) -> Result<String, ApiError> {
    action
        .get("RegionName")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            validation(
                "1 validation error detected: Value null at 'replicaUpdates.1.member.regionName' failed to satisfy constraint: Member must not be null",
            )
        })
}

/// Checks `body` (an UpdateTable request holding `ReplicaUpdates`) against `group`.
pub fn check(body: &Map<String, Value>, group: &Group) -> Result<Action, ApiError> {
    if body
        .keys()
        .any(|k| k != "TableName" && k != "ReplicaUpdates")
    {
        return Err(validation(
            "Requests that modify replicas or witnesses must not also modify other fields",
        ));
    }
    let list = match body.get("ReplicaUpdates") {
        Some(Value::Array(list)) if !list.is_empty() => list,
        Some(Value::Array(_)) => {
            return Err(validation(
                "1 validation error detected: Value '[]' at 'replicaUpdates' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ))
        }
        _ => {
            return Err(ApiError::new(
                ErrorCode::SerializationException,
                "Unexpected value type in payload",
            ))
        }
    };
    let mut actions: Vec<Action> = Vec::new();
    for element in list {
        let Some(element) = element.as_object() else {
            return Err(ApiError::new(
                ErrorCode::SerializationException,
                "Unexpected value type in payload",
            ));
        };
        let kinds: Vec<&String> = element
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, _)| k)
            .collect();
        match kinds.as_slice() {
            [] => {
                return Err(validation(
                    "There are no actions specified in the Replica Update Action of the request.",
                ))
            }
            [_, _, ..] => return Err(validation(
                "Update table operation with more than one type of replica actions not allowed.",
            )),
            [kind] => {
                let action = &element[kind.as_str()];
                match kind.as_str() {
                    "Create" => {
                        let a = Action::Create(region_of(action)?);
                        if !actions.contains(&a) {
                            actions.push(a);
                        }
                    }
                    "Delete" => {
                        let a = Action::Delete(region_of(action)?);
                        if !actions.contains(&a) {
                            actions.push(a);
                        }
                    }
                    "Update" => {
                        let region = region_of(action)?;
                        let overrides = action
                            .as_object()
                            .is_some_and(|o| o.keys().any(|k| k != "RegionName"));
                        if !overrides {
                            return Err(validation(
                                "There are no actions specified in the Replica Update Action of the request.",
                            ));
                        }
                        actions.push(Action::Update(region, action.clone()));
                    }
                    _ => {
                        return Err(validation(
                            "There are no actions specified in the Replica Update Action of the request.",
                        ))
                    }
                }
            }
        }
    }
    if actions.len() > 1 {
        return Err(validation(
            "Update table operation with more than one create or delete replica actions not allowed",
        ));
    }
    let Some(action) = actions.pop() else {
        return Err(validation(
            "There are no actions specified in the Replica Update Action of the request.",
        ));
    };
    let region = match &action {
        Action::Create(r) | Action::Delete(r) | Action::Update(r, _) => r.as_str(),
    };
    if region == group.own {
        return Err(validation(if matches!(action, Action::Update(..)) {
            "Cannot add, delete, or update the local region through ReplicaUpdates. Use CreateTable, DeleteTable, or UpdateTable as required."
        } else {
            "Cannot add or delete the local region through ReplicaUpdates. Use CreateTable, DeleteTable, or UpdateTable as required."
        }));
    }
    if group.members.iter().any(|(_, settled)| !settled) {
        return Err(ApiError::new(
            ErrorCode::ResourceInUseException,
            format!(
                "Attempt to change a resource which is still in use: Table is being updated: {}",
                group.table
            ),
        ));
    }
    let member = group.members.iter().any(|(r, _)| r == region);
    match &action {
        Action::Create(_) => {
            if !group.peers.iter().any(|p| p == region) {
                let mut all: Vec<&str> = group.peers.iter().map(String::as_str).collect();
                all.push(group.own);
                all.sort_unstable();
                return Err(validation(format!(
                    "Region {region} is not supported. The latest version of global tables are only supported in the following regions: [{}]",
                    all.join(", ")
                )));
            }
            if member {
                return Err(validation(format!(
                    "Failed to create a the new replica of table with name: '{}' because one or more replicas already existed as tables.",
                    group.table
                )));
            }
        }
        Action::Delete(_) | Action::Update(..) => {
            if !member {
                return Err(validation(format!(
                    "Update global table operation failed because one or more replicas were not part of the global table. Please retry the request without these replicas: [{region}]."
                )));
            }
        }
    }
    Ok(action)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(body: Value, members: &[(String, bool)]) -> Result<Action, String> {
        let peers = ["eu-west-1".to_string(), "us-west-2".to_string()];
        let group = Group {
            table: "T",
            own: "us-east-1",
            peers: &peers,
            members,
        };
        let body = body.as_object().cloned().unwrap_or_default();
        check(&body, &group).map_err(|e| e.message().unwrap_or_default().to_string())
    }

    #[test]
    fn every_row_in_order() {
        let create = |r: &str| serde_json::json!({"Create": {"RegionName": r}});
        let delete = |r: &str| serde_json::json!({"Delete": {"RegionName": r}});
        let body = |u: Vec<Value>| serde_json::json!({"TableName": "T", "ReplicaUpdates": u});
        assert_eq!(
            run(body(vec![create("eu-west-1")]), &[]),
            Ok(Action::Create("eu-west-1".into()))
        );
        // Identical creates are one.
        assert_eq!(
            run(body(vec![create("eu-west-1"), create("eu-west-1")]), &[]),
            Ok(Action::Create("eu-west-1".into()))
        );
        let mut with_billing = body(vec![create("eu-west-1")]);
        with_billing["BillingMode"] = "PAY_PER_REQUEST".into();
        assert_eq!(
            run(with_billing, &[]).err().as_deref(),
            Some("Requests that modify replicas or witnesses must not also modify other fields")
        );
        assert!(run(body(vec![create("eu-west-1"), create("us-west-2")]), &[])
            .is_err_and(|e| e == "Update table operation with more than one create or delete replica actions not allowed"));
        assert!(run(body(vec![serde_json::json!({"Create": {"RegionName": "eu-west-1"}, "Delete": {"RegionName": "eu-west-1"}})]), &[])
            .is_err_and(|e| e == "Update table operation with more than one type of replica actions not allowed."));
        assert!(run(body(vec![serde_json::json!({})]), &[])
            .is_err_and(|e| e
                == "There are no actions specified in the Replica Update Action of the request."));
        assert!(run(
            body(vec![
                serde_json::json!({"Update": {"RegionName": "eu-west-1"}})
            ]),
            &[]
        )
        .is_err_and(
            |e| e == "There are no actions specified in the Replica Update Action of the request."
        ));
        assert!(run(body(vec![create("us-east-1")]), &[]).is_err_and(
            |e| e.starts_with("Cannot add or delete the local region through ReplicaUpdates.")
        ));
        assert!(run(body(vec![create("ap-south-1")]), &[]).is_err_and(|e| e
            == "Region ap-south-1 is not supported. The latest version of global tables are only supported in the following regions: [eu-west-1, us-east-1, us-west-2]"));
        let members = [("eu-west-1".to_string(), true)];
        assert!(run(body(vec![create("eu-west-1")]), &members).is_err_and(|e| e
            == "Failed to create a the new replica of table with name: 'T' because one or more replicas already existed as tables."));
        assert!(run(body(vec![delete("us-west-2")]), &members).is_err_and(|e| e
            == "Update global table operation failed because one or more replicas were not part of the global table. Please retry the request without these replicas: [us-west-2]."));
        assert_eq!(
            run(body(vec![delete("eu-west-1")]), &members),
            Ok(Action::Delete("eu-west-1".into()))
        );
        let busy = [("eu-west-1".to_string(), false)];
        assert!(run(body(vec![create("us-west-2")]), &busy)
            .is_err_and(|e| e.starts_with("Attempt to change a resource which is still in use")));
    }
}
