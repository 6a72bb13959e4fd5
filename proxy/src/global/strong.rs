//! Multi-Region strong consistency (`MultiRegionConsistency: STRONG`, witnesses) is not
//! built: daxlite replicates asynchronously only. A request asking for it is checked as
//! DynamoDB checks one (spec GLOBAL.md §2.3, captured texts) and, when it would be valid,
//! refused with DynamoDB's answer for regions that cannot serve strong consistency —
//! never accepted as an eventually consistent group **[G]**. `MultiRegionConsistency:
//! EVENTUAL` on a new group is the default and goes on as a plain ReplicaUpdates request.

use daxlite_engine::wire::ApiError;
use serde_json::{Map, Value};

use super::validate::Group;

fn validation(m: impl Into<String>) -> ApiError {
    ApiError::validation(m)
}

/// The regions DynamoDB groups for MRSC: a group's three regions are all in one set.
const REGION_SETS: [&[&str]; 3] = [
    &["us-east-1", "us-east-2", "us-west-2"],
    &["eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"],
    &["ap-northeast-1", "ap-northeast-2", "ap-northeast-3"],
];

fn regions_of(list: Option<&Value>, kind: &str) -> Vec<String> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get(kind)?.get("RegionName")?.as_str())
        .map(str::to_string)
        .collect()
}

/// Checks the MRSC members of an UpdateTable `ReplicaUpdates` request. Ok(body without
/// `MultiRegionConsistency`) for an EVENTUAL request daxlite serves; an error otherwise.
pub fn check(body: &Map<String, Value>, group: &Group) -> Result<Map<String, Value>, ApiError> {
    let mode = body.get("MultiRegionConsistency");
    let witnesses = body.get("GlobalTableWitnessUpdates");
    let strong = match mode {
        None => false,
        Some(Value::String(s)) if s == "STRONG" => true,
        Some(Value::String(s)) if s == "EVENTUAL" => false,
        Some(v) => {
            let shown = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            return Err(validation(format!(
                "1 validation error detected: Value '{shown}' at 'multiRegionConsistency' failed to satisfy constraint: Member must satisfy enum value set: [EVENTUAL, STRONG]"
            )));
        }
    };
    if witnesses.is_some() && !strong {
        return Err(validation(
            "MultiRegionConsistency must be set as STRONG when GlobalTableWitnessUpdates parameter is present.",
        ));
    }
    let mut rest = body.clone();
    rest.remove("MultiRegionConsistency");
    rest.remove("GlobalTableWitnessUpdates");
    if mode.is_none() {
        return Ok(rest);
    }
    if !group.members.is_empty() {
        return Err(validation(
            "MultiRegionConsistency parameter is unsupported on existing global table",
        ));
    }
    let updates = body.get("ReplicaUpdates").and_then(Value::as_array);
    let only_creates = updates.into_iter().flatten().all(|u| {
        u.as_object()
            .is_some_and(|o| o.len() == 1 && o.contains_key("Create"))
    });
    if !only_creates {
        return Err(validation(
            "Only Replica Create actions are supported when MultiRegionConsistency parameter is provided.",
        ));
    }
    if !strong {
        return Ok(rest);
    }
    let replicas = regions_of(body.get("ReplicaUpdates"), "Create");
    let witness_regions = regions_of(witnesses, "Create");
    if witnesses
        .and_then(Value::as_array)
        .is_some_and(|w| w.len() > 1)
    {
        return Err(validation(
            "1 validation error detected: Value at 'globalTableWitnessUpdates' failed to satisfy constraint: Member must have length less than or equal to 1",
        ));
    }
    if replicas.len() + witness_regions.len() != 2 {
        return Err(validation(
            "Unsupported replica count for global tables with MultiRegionConsistency set to STRONG.",
        ));
    }
    let mut all: Vec<&str> = replicas.iter().map(String::as_str).collect();
    all.extend(witness_regions.iter().map(String::as_str));
    all.push(group.own);
    let mut distinct = all.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != all.len() {
        return Err(validation(
            if witness_regions
                .iter()
                .any(|w| w == group.own || replicas.contains(w))
            {
                "Cannot add a witness in the same region as an existing replica when creating a global table with MultiRegionConsistency set to STRONG."
            } else {
                "Cannot target multiple regions with the same action"
            },
        ));
    }
    // The regions daxlite cannot serve with strong consistency: all of them (a group in
    // one of DynamoDB's region sets would be valid there; outside one, the regions not in
    // this region's set are named, as DynamoDB names them).
    let own_set = REGION_SETS.iter().find(|s| s.contains(&group.own));
    let mut unsupported: Vec<&str> = all
        .iter()
        .copied()
        .filter(|r| *r != group.own && !own_set.is_some_and(|s| s.contains(r)))
        .collect();
    if unsupported.is_empty() {
        unsupported = all.iter().copied().filter(|r| *r != group.own).collect();
    }
    unsupported.sort_unstable();
    Err(validation(format!(
        "Unsupported Region(s) specified for global tables with MultiRegionConsistency set to STRONG: [{}].",
        unsupported.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(body: Value, own: &str, members: &[(String, bool)]) -> Result<(), String> {
        let peers = [
            "us-east-2".to_string(),
            "us-west-2".to_string(),
            "eu-west-1".to_string(),
        ];
        let group = Group {
            table: "T",
            own,
            peers: &peers,
            members,
        };
        let body = body.as_object().cloned().unwrap_or_default();
        check(&body, &group)
            .map(|_| ())
            .map_err(|e| e.message().unwrap_or_default().to_string())
    }

    fn create(r: &str) -> Value {
        json!({"Create": {"RegionName": r}})
    }

    #[test]
    fn every_row_and_never_a_strong_group() {
        let e = |b: Value| run(b, "us-east-1", &[]).unwrap_err();
        assert!(e(json!({"MultiRegionConsistency": "SOMETIMES", "ReplicaUpdates": [create("us-east-2")]}))
            .contains("at 'multiRegionConsistency' failed to satisfy constraint: Member must satisfy enum value set: [EVENTUAL, STRONG]"));
        assert_eq!(
            e(json!({"ReplicaUpdates": [create("us-east-2")], "GlobalTableWitnessUpdates": [create("us-west-2")]})),
            "MultiRegionConsistency must be set as STRONG when GlobalTableWitnessUpdates parameter is present."
        );
        assert_eq!(
            run(json!({"MultiRegionConsistency": "STRONG", "ReplicaUpdates": [create("us-east-2")]}), "us-east-1", &[("us-west-2".into(), true)]).unwrap_err(),
            "MultiRegionConsistency parameter is unsupported on existing global table"
        );
        assert_eq!(
            e(json!({"MultiRegionConsistency": "STRONG", "ReplicaUpdates": [{"Delete": {"RegionName": "us-east-2"}}]})),
            "Only Replica Create actions are supported when MultiRegionConsistency parameter is provided."
        );
        assert_eq!(
            e(json!({"MultiRegionConsistency": "STRONG", "ReplicaUpdates": [create("us-east-2")]})),
            "Unsupported replica count for global tables with MultiRegionConsistency set to STRONG."
        );
        assert_eq!(
            e(json!({"MultiRegionConsistency": "STRONG", "ReplicaUpdates": [create("us-east-2")], "GlobalTableWitnessUpdates": [create("us-east-2")]})),
            "Cannot add a witness in the same region as an existing replica when creating a global table with MultiRegionConsistency set to STRONG."
        );
        assert_eq!(
            e(json!({"MultiRegionConsistency": "STRONG", "ReplicaUpdates": [create("us-east-2"), create("eu-west-1")]})),
            "Unsupported Region(s) specified for global tables with MultiRegionConsistency set to STRONG: [eu-west-1]."
        );
        // A group DynamoDB would accept: still refused, naming the regions.
        assert_eq!(
            e(json!({"MultiRegionConsistency": "STRONG", "ReplicaUpdates": [create("us-east-2"), create("us-west-2")]})),
            "Unsupported Region(s) specified for global tables with MultiRegionConsistency set to STRONG: [us-east-2, us-west-2]."
        );
        assert!(e(json!({"MultiRegionConsistency": "STRONG", "ReplicaUpdates": [create("us-east-2")], "GlobalTableWitnessUpdates": [create("us-west-2"), create("us-east-2")]}))
            .contains("'globalTableWitnessUpdates' failed to satisfy constraint: Member must have length less than or equal to 1"));
        // EVENTUAL (the default) on a new group goes on.
        assert_eq!(
            run(
                json!({"MultiRegionConsistency": "EVENTUAL", "ReplicaUpdates": [create("us-east-2")]}),
                "us-east-1",
                &[]
            ),
            Ok(())
        );
        assert_eq!(
            run(
                json!({"ReplicaUpdates": [create("us-east-2")]}),
                "us-east-1",
                &[]
            ),
            Ok(())
        );
    }
}
