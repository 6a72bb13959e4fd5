//! The change record DynamoDB writes to Kinesis (the `Data` of one Kinesis record), with
//! the members in the order AWS writes them, and its Kinesis partition key.

use md5::{Digest, Md5};
use serde_json::{Map, Value};

use super::outbox::OutboxRecord;
use crate::model::size::item_size;
use crate::model::value::{decode_item, Deferred};
use crate::storage::items::Stored;

/// One change record ready for PutRecords.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Made {
    /// The record's JSON text (Kinesis `Data`).
    pub data: String,
    pub partition_key: String,
}

/// The item's JSON, `None` when the stored bytes are not JSON.
fn image(stored: &[u8]) -> Option<Value> {
    serde_json::from_slice(Stored::json_of(stored)).ok()
}

/// The record of outbox entry `seq` of table `table_id` (`table`, whose key attributes
/// are `key_names`): members in AWS's order — `awsRegion, eventID, eventName,
/// userIdentity, recordFormat, tableName, dynamodb {ApproximateCreationDateTime, Keys,
/// NewImage?, OldImage?, SizeBytes}, eventSource`. The eventID (32 hex digits) is
/// derived from the table id and the entry's sequence number, so a record sent twice
/// carries one eventID. `None` for an entry whose images do not decode.
pub fn data(
    seq: u64,
    table_id: u64,
    rec: &OutboxRecord,
    table: &str,
    key_names: &[String],
    region: &str,
) -> Option<Made> {
    let new = match rec.new.as_deref() {
        Some(bytes) => Some(image(bytes)?),
        None => None,
    };
    let old = match rec.old.as_deref() {
        Some(bytes) => Some(image(bytes)?),
        None => None,
    };
    let source = new.as_ref().or(old.as_ref())?.as_object()?;
    let keys: Map<String, Value> = key_names
        .iter()
        .filter_map(|n| source.get(n).map(|v| (n.clone(), v.clone())))
        .collect();
    let keys = Value::Object(keys);
    let key_size = decode_item(&keys, &mut Deferred::new())
        .map(|item| item_size(&item))
        .ok()?;
    let size = key_size
        + rec.new.as_deref().map(Stored::size_of).unwrap_or(0)
        + rec.old.as_deref().map(Stored::size_of).unwrap_or(0);
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
    let mut dynamodb = format!("{{\"ApproximateCreationDateTime\":{at},\"Keys\":{keys}");
    if let Some(n) = &new {
        dynamodb.push_str(&format!(",\"NewImage\":{n}"));
    }
    if let Some(o) = &old {
        dynamodb.push_str(&format!(",\"OldImage\":{o}"));
    }
    dynamodb.push_str(&format!(",\"SizeBytes\":{size}}}"));
    let data = format!(
        "{{\"awsRegion\":{},\"eventID\":\"{table_id:016x}{seq:016x}\",\"eventName\":{},\"userIdentity\":{who},\"recordFormat\":\"application/json\",\"tableName\":{},\"dynamodb\":{dynamodb},\"eventSource\":\"aws:dynamodb\"}}",
        text(region),
        text(rec.name),
        text(table),
    );
    Some(Made {
        data,
        partition_key: partition_key(table, &keys),
    })
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
    use crate::model::Item;
    use serde_json::json;

    fn stored(v: Value) -> Vec<u8> {
        let item: Item = decode_item(&v, &mut Deferred::new()).unwrap();
        Stored::encode(&item).0
    }

    fn rec() -> OutboxRecord {
        OutboxRecord {
            name: "INSERT",
            at_us: 1_706_646_452_123_456,
            micros: false,
            service: false,
            new: Some(stored(json!({"id": {"S": "test"}}))),
            old: None,
        }
    }

    fn keys() -> Vec<String> {
        vec!["id".to_string()]
    }

    #[test]
    fn member_order_and_values() {
        let made = data(2, 1, &rec(), "Music", &keys(), "us-east-1").unwrap();
        assert_eq!(
            made.data,
            r#"{"awsRegion":"us-east-1","eventID":"00000000000000010000000000000002","eventName":"INSERT","userIdentity":null,"recordFormat":"application/json","tableName":"Music","dynamodb":{"ApproximateCreationDateTime":1706646452123,"Keys":{"id":{"S":"test"}},"NewImage":{"id":{"S":"test"}},"SizeBytes":12},"eventSource":"aws:dynamodb"}"#
        );
        assert_eq!(
            made.partition_key,
            partition_key("Music", &json!({"id": {"S": "test"}}))
        );
    }

    #[test]
    fn micros_service_identity_and_both_images() {
        let mut r = rec();
        r.micros = true;
        r.service = true;
        r.name = "MODIFY";
        r.old = Some(stored(json!({"id": {"S": "test"}, "n": {"N": "1"}})));
        let made = data(1, 1, &r, "t\"q", &keys(), "eu-west-1").unwrap();
        let v: Value = serde_json::from_str(&made.data).unwrap();
        assert_eq!(
            v["dynamodb"]["ApproximateCreationDateTime"],
            1_706_646_452_123_456i64
        );
        assert_eq!(
            v["userIdentity"],
            json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"})
        );
        assert_eq!(v["tableName"], "t\"q");
        assert_eq!(v["dynamodb"]["OldImage"]["n"], json!({"N": "1"}));
        assert_eq!(v["dynamodb"]["Keys"], json!({"id": {"S": "test"}}));
    }

    #[test]
    fn undecodable_images_make_no_record() {
        let mut r = rec();
        r.new = Some(b"\0\0\0\x01not json".to_vec());
        assert_eq!(data(1, 1, &r, "t", &keys(), "us-east-1"), None);
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
