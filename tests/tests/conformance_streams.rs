//! DynamoDB Streams behaviours (issue K, part 2): DescribeStream's ShardFilter
//! (CHILD_SHARDS) and its validation, the errors for unknown streams and shards,
//! exclusive starts that name nothing, and no record for an UpdateItem that changes
//! nothing on a missing item. Sources: engine/docs/conformance-notes.md §8.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as AV, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, StreamSpecification, StreamViewType,
};
use daxlite_engine::clock::ManualClock;
use daxlite_engine::EngineConfig;
use daxlite_tests::{assert_error, call, ddb_test, unique_name, RawReply, TestServer};

const RNF: &str = "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException";
const VALIDATION: &str = "com.amazon.coral.validate#ValidationException";

async fn streams(addr: std::net::SocketAddr, op: &str, body: &str) -> RawReply {
    call(addr, &format!("DynamoDBStreams_20120810.{op}"), body).await
}

/// A table with a KEYS_ONLY stream; answers (table, stream ARN).
async fn stream_table(c: &aws_sdk_dynamodb::Client) -> (String, String) {
    let name = unique_name("cstreams");
    let out = c
        .create_table()
        .table_name(&name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::KeysOnly)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let arn = out
        .table_description()
        .and_then(|d| d.latest_stream_arn())
        .unwrap()
        .to_string();
    (name, arn)
}

fn shard_ids(r: &RawReply) -> Vec<String> {
    r.json()["StreamDescription"]["Shards"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["ShardId"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

ddb_test!(
    describe_stream_shard_filter_and_exclusive_starts,
    |mode| async move {
        let config = EngineConfig {
            stream_shard_max_records: 1,
            ttl_sweep_interval_ms: 20,
            ..EngineConfig::default()
        };
        let s =
            TestServer::start_with_engine_config(mode, config, ManualClock::new(1_700_000_000_000))
                .await;
        let c = s.client();
        let (table, arn) = stream_table(&c).await;
        c.put_item()
            .table_name(&table)
            .item("pk", AV::S("a".into()))
            .send()
            .await
            .unwrap();
        let describe = |rest: &str| format!(r#"{{"StreamArn":"{arn}"{rest}}}"#);
        let mut ids = Vec::new();
        for _ in 0..250 {
            ids = shard_ids(&streams(s.addr, "DescribeStream", &describe("")).await);
            if ids.len() >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(ids.len() >= 2, "{ids:?}");
        let filter = |shard: &str| {
            format!(r#","ShardFilter":{{"Type":"CHILD_SHARDS","ShardId":"{shard}"}}"#)
        };
        // The children of the first shard: the second one.
        let r = streams(s.addr, "DescribeStream", &describe(&filter(&ids[0]))).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(shard_ids(&r), vec![ids[1].clone()]);
        assert_eq!(
            r.json()["StreamDescription"]["Shards"][0]["ParentShardId"],
            ids[0].as_str()
        );
        // A shard without children, a shard that does not exist, no ShardId: none.
        let last = ids.last().cloned().unwrap_or_default();
        for f in [
            filter(&last),
            filter("shardId-00000000000000000000-00000000"),
            r#","ShardFilter":{"Type":"CHILD_SHARDS"}"#.to_string(),
        ] {
            let r = streams(s.addr, "DescribeStream", &describe(&f)).await;
            assert_eq!((r.status, shard_ids(&r)), (200, vec![]), "{f}");
        }
        // Validation, in the envelope.
        for (f, message) in [
        (r#","ShardFilter":{"Type":"NOPE"}"#, "1 validation error detected: Value 'NOPE' at 'shardFilter.type' failed to satisfy constraint: Member must satisfy enum value set: [CHILD_SHARDS]"),
        (r#","ShardFilter":{"Type":"CHILD_SHARDS","ShardId":"abc"}"#, "1 validation error detected: Value 'abc' at 'shardFilter.shardId' failed to satisfy constraint: Member must have length greater than or equal to 28"),
        (r#","ShardFilter":{"ShardId":"shardId-00000000000000000000-00000000"}"#, "1 validation error detected: Value null at 'shardFilter.type' failed to satisfy constraint: Member must not be null"),
    ] {
        let r = streams(s.addr, "DescribeStream", &describe(f)).await;
        assert_error(&r, 400, VALIDATION, Some(message));
    }
        // ExclusiveStartShardId is a position: one that names no shard still orders.
        let r = streams(
            s.addr,
            "DescribeStream",
            &describe(r#","ExclusiveStartShardId":"shardId-00000000000000000000-00000000""#),
        )
        .await;
        assert_eq!(shard_ids(&r), ids);
        let r = streams(
            s.addr,
            "DescribeStream",
            &describe(&format!(r#","ExclusiveStartShardId":"{}""#, ids[0])),
        )
        .await;
        assert_eq!(shard_ids(&r), ids[1..].to_vec());
        let r = streams(
            s.addr,
            "DescribeStream",
            &describe(r#","ExclusiveStartShardId":"shardId-99999999999999999999-ffffffff""#),
        )
        .await;
        assert_eq!((r.status, shard_ids(&r)), (200, vec![]));
        // ListStreams' ExclusiveStartStreamArn likewise.
        let addr = s.addr;
        let listed = |body: String| async move {
            let r = streams(addr, "ListStreams", &body).await;
            assert_eq!(r.status, 200, "{}", r.text());
            r.json()["Streams"].as_array().map(|a| a.len()).unwrap_or(0)
        };
        let before = format!(
            "arn:aws:dynamodb:us-east-1:000000000000:table/{table}/stream/1999-01-01T00:00:00.000"
        );
        let after = format!(
            "arn:aws:dynamodb:us-east-1:000000000000:table/{table}/stream/2999-01-01T00:00:00.000"
        );
        assert_eq!(
            listed(format!(
                r#"{{"TableName":"{table}","ExclusiveStartStreamArn":"{before}"}}"#
            ))
            .await,
            1
        );
        assert_eq!(
            listed(format!(
                r#"{{"TableName":"{table}","ExclusiveStartStreamArn":"{after}"}}"#
            ))
            .await,
            0
        );
        assert_eq!(
            listed(format!(
                r#"{{"TableName":"{table}","ExclusiveStartStreamArn":"{arn}"}}"#
            ))
            .await,
            0
        );
        s.stop().await;
    }
);

ddb_test!(unknown_streams_and_shards, |mode| async move {
    let s = TestServer::start(mode).await;
    let c = s.client();
    let (_, arn) = stream_table(&c).await;
    let nope = "arn:aws:dynamodb:us-east-1:000000000000:table/nope/stream/2024-01-01T00:00:00.000";
    let r = streams(
        s.addr,
        "DescribeStream",
        &format!(r#"{{"StreamArn":"{nope}"}}"#),
    )
    .await;
    assert_error(
        &r,
        400,
        RNF,
        Some(&format!(
            "Requested resource not found: Stream: {nope} not found"
        )),
    );
    let r = streams(s.addr, "GetShardIterator", &format!(r#"{{"StreamArn":"{nope}","ShardId":"shardId-00000000000000000000-00000000","ShardIteratorType":"TRIM_HORIZON"}}"#)).await;
    assert_error(
        &r,
        400,
        RNF,
        Some(&format!(
            "Requested resource not found: Stream: {nope} not found"
        )),
    );
    let r = streams(s.addr, "GetShardIterator", &format!(r#"{{"StreamArn":"{arn}","ShardId":"shardId-00000000000000000000-00000000","ShardIteratorType":"TRIM_HORIZON"}}"#)).await;
    assert_error(
        &r,
        400,
        RNF,
        Some("Requested resource not found: Shard does not exist"),
    );
    let r = streams(
        s.addr,
        "GetRecords",
        r#"{"ShardIterator":"garbage-iterator-garbage-iterator"}"#,
    )
    .await;
    assert_error(&r, 400, VALIDATION, Some("Invalid ShardIterator"));
    s.stop().await;
});

ddb_test!(
    no_record_for_updates_that_change_nothing,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let c = s.client();
        let (table, arn) = stream_table(&c).await;
        // REMOVE on a missing item: nothing written, no record.
        c.update_item()
            .table_name(&table)
            .key("pk", AV::S("missing".into()))
            .update_expression("REMOVE x")
            .send()
            .await
            .unwrap();
        // A SET that writes the value already there: no record either.
        c.put_item()
            .table_name(&table)
            .item("pk", AV::S("a".into()))
            .item("v", AV::N("1".into()))
            .send()
            .await
            .unwrap();
        c.update_item()
            .table_name(&table)
            .key("pk", AV::S("a".into()))
            .update_expression("SET v = :v")
            .expression_attribute_values(":v", AV::N("1".into()))
            .send()
            .await
            .unwrap();
        let d = streams(
            s.addr,
            "DescribeStream",
            &format!(r#"{{"StreamArn":"{arn}"}}"#),
        )
        .await;
        let mut keys = Vec::new();
        for shard in shard_ids(&d) {
            let it = streams(s.addr, "GetShardIterator", &format!(r#"{{"StreamArn":"{arn}","ShardId":"{shard}","ShardIteratorType":"TRIM_HORIZON"}}"#)).await;
            let iterator = it.json()["ShardIterator"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let recs = streams(
                s.addr,
                "GetRecords",
                &format!(r#"{{"ShardIterator":"{iterator}"}}"#),
            )
            .await;
            for r in recs.json()["Records"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                keys.push((
                    r["eventName"].as_str().unwrap_or("").to_string(),
                    r["dynamodb"]["Keys"]["pk"]["S"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                ));
            }
        }
        assert_eq!(keys, vec![("INSERT".to_string(), "a".to_string())]);
        // And no item appeared.
        let got = c
            .get_item()
            .table_name(&table)
            .key("pk", AV::S("missing".into()))
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        assert_eq!(got.item, None);
        s.stop().await;
    }
);
