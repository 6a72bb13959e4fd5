//! The change record DynamoDB writes to Kinesis (the `Data` of one Kinesis record), with
//! the members in the order AWS writes them, and its Kinesis partition key.

use md5::{Digest, Md5};
use serde_json::Value;

use super::outbox::OutboxRecord;

/// The record's JSON text: `awsRegion, eventID, eventName, userIdentity, recordFormat,
/// tableName, dynamodb {ApproximateCreationDateTime, Keys, NewImage?, OldImage?,
/// SizeBytes}, eventSource`.
pub fn data(rec: &OutboxRecord, table: &str, region: &str) -> String {
    let text = |v: &str| Value::from(v).to_string();
    let at = if rec.micros {
        rec.at_us
    } else {
        rec.at_us.div_euclid(1000)
    };
    let who = if rec.service {
        r#"{"type":"Service","principalId":"dynamodb.amazonaws.com"}"#
    } else {
        "null"
    };
    let mut dynamodb = format!(
        "{{\"ApproximateCreationDateTime\":{at},\"Keys\":{}",
        rec.keys
    );
    if let Some(n) = &rec.new {
        dynamodb.push_str(&format!(",\"NewImage\":{n}"));
    }
    if let Some(o) = &rec.old {
        dynamodb.push_str(&format!(",\"OldImage\":{o}"));
    }
    dynamodb.push_str(&format!(",\"SizeBytes\":{}}}", rec.size));
    format!(
        "{{\"awsRegion\":{},\"eventID\":{},\"eventName\":{},\"userIdentity\":{who},\"recordFormat\":\"application/json\",\"tableName\":{},\"dynamodb\":{dynamodb},\"eventSource\":\"aws:dynamodb\"}}",
        text(region),
        text(&rec.id),
        text(&rec.name),
        text(table),
    )
}

/// The Kinesis PartitionKey: lowercase hex MD5 of the table name and the item's keys
/// (canonical JSON: members in name order), so every change of one item lands on one
/// shard, in order.
pub fn partition_key(table: &str, keys: &Value) -> String {
    let mut h = Md5::new();
    h.update(table.as_bytes());
    h.update(keys.to_string().as_bytes());
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn rec() -> OutboxRecord {
        OutboxRecord {
            id: "ab".into(),
            name: "INSERT".into(),
            at_us: 1_706_646_452_123_456,
            micros: false,
            keys: json!({"id": {"S": "test"}}),
            new: Some(json!({"id": {"S": "test"}})),
            old: None,
            size: 12,
            service: false,
        }
    }

    #[test]
    fn member_order_and_values() {
        let text = data(&rec(), "Music", "us-east-1");
        assert_eq!(
            text,
            r#"{"awsRegion":"us-east-1","eventID":"ab","eventName":"INSERT","userIdentity":null,"recordFormat":"application/json","tableName":"Music","dynamodb":{"ApproximateCreationDateTime":1706646452123,"Keys":{"id":{"S":"test"}},"NewImage":{"id":{"S":"test"}},"SizeBytes":12},"eventSource":"aws:dynamodb"}"#
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(v["dynamodb"].get("OldImage").is_none());
    }

    #[test]
    fn micros_and_service_identity() {
        let mut r = rec();
        r.micros = true;
        r.service = true;
        r.name = "REMOVE".into();
        r.old = r.new.take();
        let v: Value = serde_json::from_str(&data(&r, "t\"q", "eu-west-1")).unwrap();
        assert_eq!(
            v["dynamodb"]["ApproximateCreationDateTime"],
            1_706_646_452_123_456i64
        );
        assert_eq!(
            v["userIdentity"],
            json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"})
        );
        assert_eq!(v["tableName"], "t\"q");
        assert!(v["dynamodb"].get("NewImage").is_none());
    }

    #[test]
    fn partition_key_is_32_hex_and_per_item() {
        let a = partition_key("t", &json!({"pk": {"S": "a"}}));
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(a, partition_key("t", &json!({"pk": {"S": "a"}})));
        assert_ne!(a, partition_key("t", &json!({"pk": {"S": "b"}})));
    }
}
