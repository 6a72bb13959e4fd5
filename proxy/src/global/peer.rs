//! Making a replica in a peer region: its CreateTable built from this region's table
//! description, a wait for ACTIVE, then a backfill of every existing item as replicated
//! changes (`inbound`, applied through the peer's one write path) with version clock 0,
//! so any change shipped since wins over the copy.

use std::time::Duration;

use daxlite_engine::wire::Operation;
use serde_json::{json, Map, Value};

use super::{call_json, inbound};
use crate::upstream::{Embedded, Remote};

/// The CreateTable request that makes `table` (a TableDescription) in another region.
pub fn create_request(table: &Value) -> Value {
    let mut req = Map::new();
    for key in ["TableName", "AttributeDefinitions", "KeySchema"] {
        req.insert(key.into(), table[key].clone());
    }
    let pay_per_request =
        table["BillingModeSummary"]["BillingMode"].as_str() == Some("PAY_PER_REQUEST");
    let throughput = |t: &Value| {
        json!({
            "ReadCapacityUnits": t["ReadCapacityUnits"],
            "WriteCapacityUnits": t["WriteCapacityUnits"],
        })
    };
    if pay_per_request {
        req.insert("BillingMode".into(), "PAY_PER_REQUEST".into());
    } else {
        req.insert("BillingMode".into(), "PROVISIONED".into());
        req.insert(
            "ProvisionedThroughput".into(),
            throughput(&table["ProvisionedThroughput"]),
        );
    }
    let index = |ix: &Value, with_throughput: bool| {
        let mut o = Map::new();
        for key in ["IndexName", "KeySchema", "Projection"] {
            o.insert(key.into(), ix[key].clone());
        }
        if with_throughput {
            o.insert(
                "ProvisionedThroughput".into(),
                throughput(&ix["ProvisionedThroughput"]),
            );
        }
        Value::Object(o)
    };
    if let Some(list) = table["GlobalSecondaryIndexes"].as_array() {
        let gsis: Vec<Value> = list.iter().map(|ix| index(ix, !pay_per_request)).collect();
        req.insert("GlobalSecondaryIndexes".into(), Value::Array(gsis));
    }
    if let Some(list) = table["LocalSecondaryIndexes"].as_array() {
        let lsis: Vec<Value> = list.iter().map(|ix| index(ix, false)).collect();
        req.insert("LocalSecondaryIndexes".into(), Value::Array(lsis));
    }
    req.insert(
        "StreamSpecification".into(),
        json!({"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}),
    );
    // Settings DynamoDB keeps group-wide: the table class and the encryption type (the
    // KMS key is regional: the replica's own default).
    if let Some(class) = table["TableClassSummary"]["TableClass"].as_str() {
        req.insert("TableClass".into(), class.into());
    }
    if table["SSEDescription"]["Status"].as_str() == Some("ENABLED") {
        let sse_type = table["SSEDescription"]["SSEType"].as_str().unwrap_or("KMS");
        req.insert(
            "SSESpecification".into(),
            json!({"Enabled": true, "SSEType": sse_type}),
        );
    }
    Value::Object(req)
}

/// Creates the replica of `table` in `peer` and waits until it is ACTIVE.
pub async fn create_table(peer: &Remote, table: &Value) -> Result<(), String> {
    let name = table["TableName"].as_str().unwrap_or_default().to_string();
    call_json(peer, Operation::CreateTable, create_request(table))
        .await
        .map_err(|e| format!("CreateTable: {e}"))?;
    let mut waited = Duration::ZERO;
    loop {
        let d = call_json(peer, Operation::DescribeTable, json!({"TableName": name}))
            .await
            .map_err(|e| format!("DescribeTable: {e}"))?;
        if d["Table"]["TableStatus"].as_str() == Some("ACTIVE") {
            return Ok(());
        }
        if waited > Duration::from_secs(60) {
            return Err("the replica table did not become ACTIVE within 60 s".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
}

/// Copies every item of `name` into the peer's replica, as changes of region `own`
/// with clock 0.
pub async fn backfill(
    engine: &Embedded,
    peer: &Remote,
    name: &str,
    own: &str,
) -> Result<(), String> {
    let mut start: Option<Value> = None;
    loop {
        let mut scan = json!({"TableName": name, "ConsistentRead": true, "Limit": 100});
        if let Some(k) = start.take() {
            scan["ExclusiveStartKey"] = k;
        }
        let page = call_json(engine, Operation::Scan, scan)
            .await
            .map_err(|e| format!("Scan: {e}"))?;
        let changes: Vec<Value> = page["Items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|item| json!({"NewImage": item, "Clock": 0}))
            .collect();
        if !changes.is_empty() {
            inbound::send_changes(peer, name, own, changes).await?;
        }
        match page.get("LastEvaluatedKey") {
            Some(k) if !k.is_null() => start = Some(k.clone()),
            _ => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replica_gets_the_group_wide_settings_of_the_table() {
        let table = json!({
            "TableName": "T",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
            "TableClassSummary": {"TableClass": "STANDARD_INFREQUENT_ACCESS"},
            "SSEDescription": {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": "arn:aws:kms:us-east-1:1:key/k"},
            "DeletionProtectionEnabled": true,
        });
        let req = create_request(&table);
        assert_eq!(req["TableClass"], "STANDARD_INFREQUENT_ACCESS");
        assert_eq!(
            req["SSESpecification"],
            json!({"Enabled": true, "SSEType": "KMS"})
        );
        assert_eq!(req["BillingMode"], "PAY_PER_REQUEST");
        assert!(req.get("DeletionProtectionEnabled").is_none(), "regional");
        let plain =
            create_request(&json!({"TableName": "T", "KeySchema": [], "AttributeDefinitions": []}));
        assert!(plain.get("TableClass").is_none() && plain.get("SSESpecification").is_none());
    }
}
