//! DynamoDB Streams and Time to Live through the AWS SDKs (`aws-sdk-dynamodb` for the
//! table, `aws-sdk-dynamodbstreams` for the stream), against the real server: records
//! for each write, iterators and their expiry, shard rollover and lineage, and TTL
//! deletions with their service-identity REMOVE record.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as AV, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodbstreams::types::{OperationType, ShardIteratorType};
use daxlite_engine::clock::ManualClock;
use daxlite_engine::EngineConfig;
use daxlite_tests::{ddb_test, unique_name, TestServer};

const T0: i64 = 1_700_000_000_000;

fn streams_client(url: &str) -> aws_sdk_dynamodbstreams::Client {
    let conf = aws_sdk_dynamodbstreams::Config::builder()
        .behavior_version(aws_sdk_dynamodbstreams::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodbstreams::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodbstreams::config::Credentials::new(
            "AKIDTEST",
            "secret",
            None,
            None,
            "daxlite-tests",
        ))
        .endpoint_url(url)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(aws_sdk_dynamodbstreams::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_dynamodbstreams::Client::from_conf(conf)
}

async fn stream_table(c: &Client, view: StreamViewType) -> (String, String) {
    let name = unique_name("streams");
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
                .stream_view_type(view)
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

async fn put(c: &Client, table: &str, pk: &str, attrs: &[(&str, AV)]) {
    let mut req = c.put_item().table_name(table).item("pk", AV::S(pk.into()));
    for (k, v) in attrs {
        req = req.item(*k, v.clone());
    }
    req.send().await.unwrap();
}

/// All records of every shard, parents first, from TRIM_HORIZON.
async fn read_all(
    s: &aws_sdk_dynamodbstreams::Client,
    arn: &str,
) -> Vec<aws_sdk_dynamodbstreams::types::Record> {
    let d = s.describe_stream().stream_arn(arn).send().await.unwrap();
    let mut out = Vec::new();
    for shard in d.stream_description().unwrap().shards() {
        let it = s
            .get_shard_iterator()
            .stream_arn(arn)
            .shard_id(shard.shard_id().unwrap())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap();
        let page = s
            .get_records()
            .shard_iterator(it.shard_iterator().unwrap())
            .send()
            .await
            .unwrap();
        out.extend(page.records().iter().cloned());
    }
    out
}

ddb_test!(records_for_each_write_through_the_sdk, |mode| async move {
    let server = TestServer::start(mode).await;
    let c = server.client();
    let s = streams_client(&server.url);
    let (name, arn) = stream_table(&c, StreamViewType::NewAndOldImages).await;
    put(&c, &name, "a", &[("v", AV::N("1".into()))]).await;
    put(&c, &name, "a", &[("v", AV::N("1".into()))]).await;
    put(&c, &name, "a", &[("v", AV::N("2".into()))]).await;
    c.delete_item()
        .table_name(&name)
        .key("pk", AV::S("a".into()))
        .send()
        .await
        .unwrap();

    let listed = s.list_streams().table_name(&name).send().await.unwrap();
    assert_eq!(listed.streams().len(), 1);
    assert_eq!(listed.streams()[0].stream_arn(), Some(arn.as_str()));
    let d = s.describe_stream().stream_arn(&arn).send().await.unwrap();
    let desc = d.stream_description().unwrap();
    assert_eq!(desc.stream_status().map(|s| s.as_str()), Some("ENABLED"));
    assert_eq!(desc.table_name(), Some(name.as_str()));
    assert!(desc.creation_request_date_time().is_some());

    let recs = read_all(&s, &arn).await;
    let kinds: Vec<_> = recs.iter().map(|r| r.event_name().cloned()).collect();
    assert_eq!(
        kinds,
        [
            Some(OperationType::Insert),
            Some(OperationType::Modify),
            Some(OperationType::Remove)
        ]
    );
    let modify = recs[1].dynamodb().unwrap();
    assert_eq!(
        modify.old_image().and_then(|i| i.get("v")),
        Some(&aws_sdk_dynamodbstreams::types::AttributeValue::N(
            "1".into()
        ))
    );
    assert_eq!(
        modify.new_image().and_then(|i| i.get("v")),
        Some(&aws_sdk_dynamodbstreams::types::AttributeValue::N(
            "2".into()
        ))
    );
    assert!(modify.approximate_creation_date_time().is_some());
    assert_eq!(recs[0].event_source(), Some("aws:dynamodb"));
    assert_eq!(recs[0].event_version(), Some("1.1"));
    assert!(recs.iter().all(|r| r.user_identity().is_none()));
    let seqs: Vec<u128> = recs
        .iter()
        .map(|r| {
            r.dynamodb()
                .unwrap()
                .sequence_number()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    server.stop().await;
});

ddb_test!(iterators_expire_after_fifteen_minutes, |mode| async move {
    let clock = ManualClock::new(T0);
    let server =
        TestServer::start_with_engine_config(mode, EngineConfig::default(), clock.clone()).await;
    let c = server.client();
    let s = streams_client(&server.url);
    let (name, arn) = stream_table(&c, StreamViewType::KeysOnly).await;
    put(&c, &name, "a", &[]).await;
    let d = s.describe_stream().stream_arn(&arn).send().await.unwrap();
    let shard = d.stream_description().unwrap().shards()[0]
        .shard_id()
        .unwrap()
        .to_string();
    let it = s
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(&shard)
        .shard_iterator_type(ShardIteratorType::Latest)
        .send()
        .await
        .unwrap();
    clock.advance(15 * 60_000 + 1);
    let e = s
        .get_records()
        .shard_iterator(it.shard_iterator().unwrap())
        .send()
        .await
        .unwrap_err();
    assert!(
        e.as_service_error()
            .is_some_and(|e| e.is_expired_iterator_exception()),
        "{e:?}"
    );
    let e = s
        .describe_stream()
        .stream_arn(format!("{arn}x"))
        .send()
        .await
        .unwrap_err();
    assert!(e
        .as_service_error()
        .is_some_and(|e| e.is_resource_not_found_exception()));
    server.stop().await;
});

ddb_test!(shards_roll_over_with_lineage, |mode| async move {
    let config = EngineConfig {
        stream_shard_max_records: 1,
        ttl_sweep_interval_ms: 20,
        ..EngineConfig::default()
    };
    let server = TestServer::start_with_engine_config(mode, config, ManualClock::new(T0)).await;
    let c = server.client();
    let s = streams_client(&server.url);
    let (name, arn) = stream_table(&c, StreamViewType::KeysOnly).await;
    put(&c, &name, "a", &[]).await;
    let mut shards = Vec::new();
    for _ in 0..250 {
        let d = s.describe_stream().stream_arn(&arn).send().await.unwrap();
        shards = d.stream_description().unwrap().shards().to_vec();
        if shards.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(shards.len() >= 2, "{shards:?}");
    assert_eq!(shards[1].parent_shard_id(), shards[0].shard_id());
    assert!(shards[0]
        .sequence_number_range()
        .and_then(|r| r.ending_sequence_number())
        .is_some());
    put(&c, &name, "b", &[]).await;
    let recs = read_all(&s, &arn).await;
    assert_eq!(recs.len(), 2);
    server.stop().await;
});

ddb_test!(
    ttl_deletes_expired_items_with_a_service_remove_record,
    |mode| async move {
        let clock = ManualClock::new(T0);
        let config = EngineConfig {
            ttl_sweep_interval_ms: 20,
            ..EngineConfig::default()
        };
        let server = TestServer::start_with_engine_config(mode, config, clock.clone()).await;
        let c = server.client();
        let s = streams_client(&server.url);
        let (name, arn) = stream_table(&c, StreamViewType::NewAndOldImages).await;
        let out = c
            .update_time_to_live()
            .table_name(&name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name("exp")
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            out.time_to_live_specification().map(|s| s.attribute_name()),
            Some("exp")
        );
        let d = c
            .describe_time_to_live()
            .table_name(&name)
            .send()
            .await
            .unwrap();
        assert_eq!(
            d.time_to_live_description()
                .and_then(|d| d.time_to_live_status())
                .map(|s| s.as_str()),
            Some("ENABLED")
        );
        let in_a_minute = (T0 / 1000 + 60).to_string();
        put(&c, &name, "session", &[("exp", AV::N(in_a_minute))]).await;
        let get = |consistent: bool| {
            c.get_item()
                .table_name(&name)
                .key("pk", AV::S("session".into()))
                .consistent_read(consistent)
                .send()
        };
        // Through the cache, the write put the item in the cache (write-through).
        assert!(get(false).await.unwrap().item().is_some());
        clock.advance(61_000);
        // Eventually consistent reads, which the cache answers: over the embedded engine
        // the cache follows the engine's change feed, so the sweeper's deletion leaves the
        // cache too (README: "TTL deletions leave the cache at once"); a cache that missed
        // it would keep answering the item. The poll waits for the background sweeper.
        let mut gone = false;
        for _ in 0..250 {
            if get(false).await.unwrap().item().is_none() {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            get(true).await.unwrap().item().is_none(),
            "a strongly consistent read still sees the item"
        );
        assert!(gone, "the expired item is still answered through the cache");
        let recs = read_all(&s, &arn).await;
        let remove = recs.last().unwrap();
        assert_eq!(remove.event_name(), Some(&OperationType::Remove));
        let who = remove.user_identity().unwrap();
        assert_eq!(who.principal_id(), Some("dynamodb.amazonaws.com"));
        assert_eq!(who.r#type(), Some("Service"));
        server.stop().await;
    }
);
