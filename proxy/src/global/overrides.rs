//! Replica overrides (UpdateTable `ReplicaUpdates` `Update`): a replica's own read
//! capacity (`ProvisionedThroughputOverride`), on-demand read maximum
//! (`OnDemandThroughputOverride`), table class (`TableClassOverride`) and the same per
//! GSI (`GlobalSecondaryIndexes`). The region that receives the request checks it, has
//! the replica's region apply it to its table, then tells every member, which keeps it
//! (in the data file, position `global.overrides`) to show it in DescribeTable's
//! `Replicas` — and, in the replica's own region, to keep it when a group-wide
//! UpdateTable would change those settings (DynamoDB: a group-wide throughput change
//! propagates unless a replica has an override).

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use daxlite_engine::wire::ApiError;
use serde_json::{json, Map, Value};

/// The consumer position holding every table's overrides.
pub const POSITION: &str = "global.overrides";

/// Table → region → that replica's overrides (the `Update` members, merged).
#[derive(Debug, Default)]
pub struct Overrides(Mutex<BTreeMap<String, BTreeMap<String, Value>>>);

impl Overrides {
    /// From the saved position (anything unreadable: none).
    pub fn load(bytes: Option<&[u8]>) -> Overrides {
        let map = bytes
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or_default();
        Overrides(Mutex::new(map))
    }

    /// The saved form.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&*self.0.lock().unwrap_or_else(PoisonError::into_inner))
            .unwrap_or_default()
    }

    /// `region`'s overrides of `table`.
    pub fn get(&self, table: &str, region: &str) -> Option<Value> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(table)?
            .get(region)
            .cloned()
    }

    /// Sets (`Some`) or forgets (`None`) `region`'s overrides of `table`.
    pub fn set(&self, table: &str, region: &str, value: Option<Value>) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match value {
            Some(v) => {
                map.entry(table.to_string())
                    .or_default()
                    .insert(region.to_string(), v);
            }
            None => {
                if let Some(t) = map.get_mut(table) {
                    t.remove(region);
                    if t.is_empty() {
                        map.remove(table);
                    }
                }
            }
        }
    }
}

fn validation(m: impl Into<String>) -> ApiError {
    ApiError::validation(m)
}

fn read_units(v: &Value, path: &str) -> Result<i64, ApiError> {
    match v.get("ReadCapacityUnits").and_then(Value::as_i64) {
        Some(n) if n >= 1 => Ok(n),
        Some(n) => Err(validation(format!(
            "1 validation error detected: Value '{n}' at '{path}.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1"
        ))),
        None => Err(validation(format!(
            "1 validation error detected: Value null at '{path}.readCapacityUnits' failed to satisfy constraint: Member must not be null"
        ))),
    }
}

/// Checks an `Update` action against the table (its DescribeTable `Table`) and answers
/// `old` with the action's overrides merged in.
pub fn merge(action: &Value, table: &Value, old: Option<&Value>) -> Result<Value, ApiError> {
    let pay_per_request =
        table["BillingModeSummary"]["BillingMode"].as_str() == Some("PAY_PER_REQUEST");
    if action.get("KMSMasterKeyId").is_some() {
        return Err(validation(
            "One or more parameter values were invalid: KMSMasterKeyId is not supported: daxlite has no customer managed keys",
        ));
    }
    let mut out = old.and_then(Value::as_object).cloned().unwrap_or_default();
    if let Some(pt) = action.get("ProvisionedThroughputOverride") {
        if pay_per_request {
            return Err(validation(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ));
        }
        let n = read_units(
            pt,
            "replicaUpdates.1.member.update.provisionedThroughputOverride",
        )?;
        out.insert(
            "ProvisionedThroughputOverride".into(),
            json!({"ReadCapacityUnits": n}),
        );
    }
    if let Some(od) = action.get("OnDemandThroughputOverride") {
        out.insert("OnDemandThroughputOverride".into(), od.clone());
    }
    if let Some(class) = action.get("TableClassOverride") {
        match class.as_str() {
            Some("STANDARD" | "STANDARD_INFREQUENT_ACCESS") => {
                out.insert("TableClassOverride".into(), class.clone());
            }
            _ => {
                return Err(validation(format!(
                    "1 validation error detected: Value '{}' at 'replicaUpdates.1.member.update.tableClassOverride' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, STANDARD_INFREQUENT_ACCESS]",
                    class.as_str().unwrap_or_default()
                )))
            }
        }
    }
    if let Some(list) = action
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_array)
    {
        let known: Vec<&str> = table["GlobalSecondaryIndexes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| g["IndexName"].as_str())
            .collect();
        let mut gsis: Vec<Value> = out
            .get("GlobalSecondaryIndexes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for g in list {
            let name = g["IndexName"].as_str().unwrap_or_default();
            if !known.contains(&name) {
                return Err(ApiError::resource_not_found(format!(
                    "Requested resource not found: Index: {name} not found"
                )));
            }
            if g.get("ProvisionedThroughputOverride").is_some() && pay_per_request {
                return Err(validation(
                    "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                ));
            }
            let mut entry = Map::new();
            entry.insert("IndexName".into(), name.into());
            if let Some(pt) = g.get("ProvisionedThroughputOverride") {
                let n = read_units(pt, "replicaUpdates.1.member.update.globalSecondaryIndexes.1.member.provisionedThroughputOverride")?;
                entry.insert(
                    "ProvisionedThroughputOverride".into(),
                    json!({"ReadCapacityUnits": n}),
                );
            }
            if let Some(od) = g.get("OnDemandThroughputOverride") {
                entry.insert("OnDemandThroughputOverride".into(), od.clone());
            }
            gsis.retain(|o| o["IndexName"].as_str() != Some(name));
            gsis.push(Value::Object(entry));
        }
        out.insert("GlobalSecondaryIndexes".into(), Value::Array(gsis));
    }
    Ok(Value::Object(out))
}

/// The UpdateTable requests that give the replica's table `overrides` (each change on
/// its own: UpdateTable takes one kind at a time), from the table as described.
pub fn requests(name: &str, overrides: &Value, table: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(n) = overrides["ProvisionedThroughputOverride"]["ReadCapacityUnits"].as_i64() {
        out.push(json!({"TableName": name, "ProvisionedThroughput": {
            "ReadCapacityUnits": n,
            "WriteCapacityUnits": table["ProvisionedThroughput"]["WriteCapacityUnits"],
        }}));
    }
    if let Some(od) = overrides.get("OnDemandThroughputOverride") {
        out.push(json!({"TableName": name, "OnDemandThroughput": od}));
    }
    if let Some(class) = overrides.get("TableClassOverride") {
        out.push(json!({"TableName": name, "TableClass": class}));
    }
    for g in overrides["GlobalSecondaryIndexes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let index = g["IndexName"].as_str().unwrap_or_default();
        let described = table["GlobalSecondaryIndexes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["IndexName"].as_str() == Some(index));
        if let Some(n) = g["ProvisionedThroughputOverride"]["ReadCapacityUnits"].as_i64() {
            let write = described.map_or(Value::Null, |d| {
                d["ProvisionedThroughput"]["WriteCapacityUnits"].clone()
            });
            out.push(
                json!({"TableName": name, "GlobalSecondaryIndexUpdates": [{"Update": {
                    "IndexName": index,
                    "ProvisionedThroughput": {"ReadCapacityUnits": n, "WriteCapacityUnits": write},
                }}]}),
            );
        }
        if let Some(od) = g.get("OnDemandThroughputOverride") {
            out.push(
                json!({"TableName": name, "GlobalSecondaryIndexUpdates": [{"Update": {
                    "IndexName": index, "OnDemandThroughput": od,
                }}]}),
            );
        }
    }
    out
}

/// The members a ReplicaDescription shows for `overrides`.
pub fn describe(overrides: &Value, replica: &mut Map<String, Value>) {
    for key in [
        "ProvisionedThroughputOverride",
        "OnDemandThroughputOverride",
        "GlobalSecondaryIndexes",
    ] {
        if let Some(v) = overrides.get(key) {
            replica.insert(key.into(), v.clone());
        }
    }
    if let Some(class) = overrides.get("TableClassOverride") {
        replica.insert(
            "ReplicaTableClassSummary".into(),
            json!({"TableClass": class}),
        );
    }
}

/// A group-wide UpdateTable arriving in a replica with `overrides`: what they cover
/// stays as overridden (its read capacity, on-demand read maximum, table class and its
/// GSIs' read capacity).
pub fn keep(overrides: &Value, body: &mut Map<String, Value>) {
    if let Some(n) = overrides["ProvisionedThroughputOverride"]["ReadCapacityUnits"].as_i64() {
        if let Some(pt) = body
            .get_mut("ProvisionedThroughput")
            .and_then(Value::as_object_mut)
        {
            pt.insert("ReadCapacityUnits".into(), n.into());
        }
    }
    if overrides.get("OnDemandThroughputOverride").is_some() {
        if let Some(od) = body
            .get_mut("OnDemandThroughput")
            .and_then(Value::as_object_mut)
        {
            od.remove("MaxReadRequestUnits");
        }
    }
    if overrides.get("TableClassOverride").is_some() {
        body.remove("TableClass");
    }
    for g in overrides["GlobalSecondaryIndexes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let Some(n) = g["ProvisionedThroughputOverride"]["ReadCapacityUnits"].as_i64() else {
            continue;
        };
        for u in body
            .get_mut("GlobalSecondaryIndexUpdates")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let update = &mut u["Update"];
            if update["IndexName"] == g["IndexName"] {
                if let Some(pt) = update
                    .get_mut("ProvisionedThroughput")
                    .and_then(Value::as_object_mut)
                {
                    pt.insert("ReadCapacityUnits".into(), n.into());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provisioned() -> Value {
        json!({
            "BillingModeSummary": {"BillingMode": "PROVISIONED"},
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 6},
            "GlobalSecondaryIndexes": [{"IndexName": "g", "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 2}}],
        })
    }

    #[test]
    fn overrides_merge_check_and_become_update_tables() {
        let t = provisioned();
        let first = merge(
            &json!({"RegionName": "r", "ProvisionedThroughputOverride": {"ReadCapacityUnits": 7}}),
            &t,
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let both = merge(&json!({"RegionName": "r", "TableClassOverride": "STANDARD_INFREQUENT_ACCESS",
            "GlobalSecondaryIndexes": [{"IndexName": "g", "ProvisionedThroughputOverride": {"ReadCapacityUnits": 3}}]}), &t, Some(&first))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            both["ProvisionedThroughputOverride"]["ReadCapacityUnits"], 7,
            "kept"
        );
        let reqs = requests("T", &both, &t);
        assert_eq!(reqs.len(), 3);
        assert_eq!(
            reqs[0]["ProvisionedThroughput"],
            json!({"ReadCapacityUnits": 7, "WriteCapacityUnits": 6})
        );
        assert_eq!(reqs[1]["TableClass"], "STANDARD_INFREQUENT_ACCESS");
        assert_eq!(
            reqs[2]["GlobalSecondaryIndexUpdates"][0]["Update"]["ProvisionedThroughput"],
            json!({"ReadCapacityUnits": 3, "WriteCapacityUnits": 2})
        );
        let mut replica = Map::new();
        describe(&both, &mut replica);
        assert_eq!(
            replica["ReplicaTableClassSummary"]["TableClass"],
            "STANDARD_INFREQUENT_ACCESS"
        );
        assert_eq!(replica["GlobalSecondaryIndexes"][0]["IndexName"], "g");
        // A group-wide change keeps the overridden read capacity and class.
        let mut body = json!({"TableName": "T", "ProvisionedThroughput": {"ReadCapacityUnits": 9, "WriteCapacityUnits": 9}, "TableClass": "STANDARD"});
        keep(&both, body.as_object_mut().unwrap_or(&mut Map::new()));
        assert_eq!(
            body["ProvisionedThroughput"],
            json!({"ReadCapacityUnits": 7, "WriteCapacityUnits": 9})
        );
        assert!(body.get("TableClass").is_none());
    }

    #[test]
    fn refusals() {
        let ppr = json!({"BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"}});
        let msg = |a: Value, t: &Value| {
            merge(&a, t, None)
                .err()
                .and_then(|e| e.message().map(str::to_string))
                .unwrap_or_default()
        };
        assert_eq!(
            msg(json!({"ProvisionedThroughputOverride": {"ReadCapacityUnits": 7}}), &ppr),
            "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
        );
        assert!(msg(json!({"KMSMasterKeyId": "k"}), &provisioned()).contains("KMSMasterKeyId"));
        assert!(msg(json!({"TableClassOverride": "COLD"}), &provisioned())
            .contains("enum value set: [STANDARD, STANDARD_INFREQUENT_ACCESS]"));
        assert!(msg(
            json!({"ProvisionedThroughputOverride": {"ReadCapacityUnits": 0}}),
            &provisioned()
        )
        .contains("greater than or equal to 1"));
        assert_eq!(
            msg(
                json!({"GlobalSecondaryIndexes": [{"IndexName": "nope", "ProvisionedThroughputOverride": {"ReadCapacityUnits": 1}}]}),
                &provisioned()
            ),
            "Requested resource not found: Index: nope not found"
        );
    }
}
