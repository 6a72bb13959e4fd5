//! The table lifecycle through aws-sdk-dynamodb: CreateTable, DescribeTable, ListTables,
//! UpdateTable, DeleteTable, tags, lifecycle delays, and DynamoDB's exact errors.

use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, GlobalSecondaryIndex, KeyType, LocalSecondaryIndex, Projection,
    ProjectionType, ProvisionedThroughput, ScalarAttributeType, StreamSpecification,
    StreamViewType, TableStatus, Tag,
};
use aws_sdk_dynamodb::Client;
use daxlite_engine::clock::ManualClock;
use daxlite_engine::EngineConfig;
use daxlite_tests::{attr, call, ddb_test, error_parts, key, unique_name, TestServer};

fn throughput(r: i64, w: i64) -> ProvisionedThroughput {
    ProvisionedThroughput::builder()
        .read_capacity_units(r)
        .write_capacity_units(w)
        .build()
        .unwrap()
}

fn projection(t: ProjectionType) -> Projection {
    Projection::builder().projection_type(t).build()
}

async fn create_simple(client: &Client, name: &str) {
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create");
}

ddb_test!(create_describe_list_delete, |mode| async move {
    let s = TestServer::start(mode).await;
    let c = s.client();
    let name = unique_name("tbl");
    let out = c
        .create_table()
        .table_name(&name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("sk", ScalarAttributeType::N))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .provisioned_throughput(throughput(5, 7))
        .send()
        .await
        .unwrap();
    let d = out.table_description.expect("no description");
    assert_eq!(d.table_name(), Some(name.as_str()));
    assert_eq!(d.table_status(), Some(&TableStatus::Active));
    assert_eq!(
        d.table_arn(),
        Some(format!("arn:aws:dynamodb:us-east-1:000000000000:table/{name}").as_str())
    );
    assert_eq!(d.key_schema().len(), 2);
    assert!(
        d.billing_mode_summary().is_none(),
        "provisioned tables have no BillingModeSummary"
    );

    let t = c
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .unwrap()
        .table
        .expect("no table");
    assert_eq!(t.item_count(), Some(0));
    assert_eq!(t.table_size_bytes(), Some(0));
    let pt = t.provisioned_throughput().expect("no throughput");
    assert_eq!(
        (
            pt.read_capacity_units(),
            pt.write_capacity_units(),
            pt.number_of_decreases_today()
        ),
        (Some(5), Some(7), Some(0))
    );
    assert_eq!(t.deletion_protection_enabled(), Some(false));
    assert_eq!(t.table_id().map(str::len), Some(36));
    assert!(t.creation_date_time().is_some());
    let warm = t.warm_throughput().expect("no warm throughput");
    assert_eq!(
        (warm.read_units_per_second(), warm.write_units_per_second()),
        (Some(5), Some(7))
    );

    let names = c
        .list_tables()
        .send()
        .await
        .unwrap()
        .table_names
        .unwrap_or_default();
    assert!(names.contains(&name));

    let del = c.delete_table().table_name(&name).send().await.unwrap();
    let d = del.table_description.expect("no description");
    assert_eq!(d.table_status(), Some(&TableStatus::Deleting));
    assert!(
        d.key_schema().is_empty(),
        "DeleteTable answers a reduced description"
    );

    let err = c
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .expect_err("still there");
    assert_eq!(
        error_parts(&err),
        (
            "ResourceNotFoundException".into(),
            format!("Requested resource not found: Table: {name} not found")
        )
    );
    s.stop().await;
});

ddb_test!(
    pay_per_request_tables_describe_on_demand_shape,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let c = s.client();
        let name = unique_name("ppr");
        create_simple(&c, &name).await;
        let t = c
            .describe_table()
            .table_name(&name)
            .send()
            .await
            .unwrap()
            .table
            .expect("no table");
        assert_eq!(
            t.billing_mode_summary().and_then(|b| b.billing_mode()),
            Some(&BillingMode::PayPerRequest)
        );
        assert!(t
            .billing_mode_summary()
            .and_then(|b| b.last_update_to_pay_per_request_date_time())
            .is_some());
        let pt = t.provisioned_throughput().expect("no throughput");
        assert_eq!(
            (pt.read_capacity_units(), pt.write_capacity_units()),
            (Some(0), Some(0))
        );
        let warm = t.warm_throughput().expect("no warm throughput");
        assert_eq!(
            (warm.read_units_per_second(), warm.write_units_per_second()),
            (Some(12000), Some(4000))
        );
        s.stop().await;
    }
);

ddb_test!(
    create_existing_table_is_resource_in_use,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let c = s.client();
        let name = unique_name("dup");
        create_simple(&c, &name).await;
        let err = c
            .create_table()
            .table_name(&name)
            .attribute_definitions(attr("pk", ScalarAttributeType::S))
            .key_schema(key("pk", KeyType::Hash))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .expect_err("created twice");
        assert_eq!(
            error_parts(&err),
            (
                "ResourceInUseException".into(),
                format!("Table already exists: {name}")
            )
        );
        s.stop().await;
    }
);

// CreateTable bodies and the exact ValidationException each gets.
ddb_test!(create_table_validation_catalogue, |mode| async move {
    let s = TestServer::start(mode).await;
    let ad = |n: &str, t: &str| format!(r#"{{"AttributeName":"{n}","AttributeType":"{t}"}}"#);
    let ks = |n: &str, t: &str| format!(r#"{{"AttributeName":"{n}","KeyType":"{t}"}}"#);
    let pk = ad("pk", "S");
    let hash = ks("pk", "HASH");
    let cases: Vec<(String, &str)> = vec![
        (
            format!(r#"{{"TableName":"ab","AttributeDefinitions":[{pk}],"KeySchema":[{hash}],"BillingMode":"PAY_PER_REQUEST"}}"#),
            "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3",
        ),
        (
            format!(r#"{{"TableName":"a;c","AttributeDefinitions":[{pk}],"KeySchema":[{hash}],"BillingMode":"PAY_PER_REQUEST"}}"#),
            "1 validation error detected: Value 'a;c' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        ),
        (
            format!(r#"{{"AttributeDefinitions":[{pk}],"KeySchema":[{hash}]}}"#),
            "The parameter 'TableName' is required but was not present in the request",
        ),
        (
            r#"{"TableName":"abc"}"#.to_string(),
            "2 validation errors detected: Value null at 'attributeDefinitions' failed to satisfy constraint: Member must not be null; Value null at 'keySchema' failed to satisfy constraint: Member must not be null",
        ),
        (
            format!(r#"{{"TableName":"abc","AttributeDefinitions":[{}],"KeySchema":[{}]}}"#, ad("pk", "X"), ks("pk", "HASHY")),
            "2 validation errors detected: Value 'X' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]; Value 'HASHY' at 'keySchema.1.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]",
        ),
        (
            format!(r#"{{"TableName":"abc","AttributeDefinitions":[{pk}],"KeySchema":[{hash}]}}"#),
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        ),
        (
            format!(r#"{{"TableName":"abc","AttributeDefinitions":[{pk}],"KeySchema":[{hash}],"BillingMode":"PAY_PER_REQUEST","ProvisionedThroughput":{{"ReadCapacityUnits":1,"WriteCapacityUnits":1}}}}"#),
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
        ),
        (
            format!(r#"{{"TableName":"abc","AttributeDefinitions":[{pk}],"KeySchema":[{hash}],"ProvisionedThroughput":{{"ReadCapacityUnits":0,"WriteCapacityUnits":0}}}}"#),
            "2 validation errors detected: Value '0' at 'provisionedThroughput.writeCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1; Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1",
        ),
        (
            format!(r#"{{"TableName":"abc","AttributeDefinitions":[{}],"KeySchema":[{hash}],"BillingMode":"PAY_PER_REQUEST"}}"#, ad("other", "S")),
            "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [pk], AttributeDefinitions: [other]",
        ),
        (
            format!(r#"{{"TableName":"abc","AttributeDefinitions":[{pk}],"KeySchema":[{hash},{}],"BillingMode":"PAY_PER_REQUEST"}}"#, ks("sk", "RANGE")),
            "Invalid KeySchema: Some index key attribute have no definition",
        ),
        (
            format!(r#"{{"TableName":"abc","AttributeDefinitions":[{pk},{}],"KeySchema":[{hash}],"BillingMode":"PAY_PER_REQUEST"}}"#, ad("x", "S")),
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ),
        (
            format!(r#"{{"TableName":"abc","AttributeDefinitions":[{pk},{pk}],"KeySchema":[{hash}],"BillingMode":"PAY_PER_REQUEST"}}"#),
            "Attribute Name is duplicated: pk",
        ),
        (
            format!(r#"{{"TableName":"abc","AttributeDefinitions":[{pk},{}],"KeySchema":[{},{}],"BillingMode":"PAY_PER_REQUEST"}}"#, ad("sk", "S"), ks("sk", "RANGE"), ks("pk", "HASH")),
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ),
        (
            format!(r#"{{"TableName":"abc","AttributeDefinitions":[{pk},{}],"KeySchema":[{hash},{}],"BillingMode":"PAY_PER_REQUEST"}}"#, ad("sk", "S"), ks("sk", "HASH")),
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
        ),
        (
            format!(r#"{{"TableName":"abc","AttributeDefinitions":[{pk},{}],"KeySchema":[{hash}],"BillingMode":"PAY_PER_REQUEST","LocalSecondaryIndexes":[{{"IndexName":"lsi","KeySchema":[{hash},{}],"Projection":{{"ProjectionType":"ALL"}}}}]}}"#, ad("x", "S"), ks("x", "RANGE")),
            "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
        ),
        (
            format!(r#"{{"TableName":"abc","AttributeDefinitions":[{pk},{}],"KeySchema":[{hash}],"BillingMode":"PAY_PER_REQUEST","GlobalSecondaryIndexes":[{{"IndexName":"gsi","KeySchema":[{}],"Projection":{{"ProjectionType":"ALL","NonKeyAttributes":["a"]}}}}]}}"#, ad("g", "S"), ks("g", "HASH")),
            "One or more parameter values were invalid: ProjectionType is ALL, but NonKeyAttributes is specified",
        ),
        (
            format!(r#"{{"TableName":"abc","AttributeDefinitions":[{pk},{}],"KeySchema":[{hash}],"ProvisionedThroughput":{{"ReadCapacityUnits":1,"WriteCapacityUnits":1}},"GlobalSecondaryIndexes":[{{"IndexName":"g-a","KeySchema":[{}],"Projection":{{"ProjectionType":"ALL"}}}}]}}"#, ad("g", "S"), ks("g", "HASH")),
            "One or more parameter values were invalid: ProvisionedThroughput is not specified for index: g-a",
        ),
        (
            format!(r#"{{"TableName":"abc","AttributeDefinitions":[{pk},{}],"KeySchema":[{hash}],"BillingMode":"PAY_PER_REQUEST","GlobalSecondaryIndexes":[{{"IndexName":"gsi","KeySchema":[{}],"Projection":{{"ProjectionType":"ALL"}}}},{{"IndexName":"gsi","KeySchema":[{}],"Projection":{{"ProjectionType":"ALL"}}}}]}}"#, ad("g", "S"), ks("g", "HASH"), ks("g", "HASH")),
            "One or more parameter values were invalid: Duplicate index name: gsi",
        ),
        (
            format!(r#"{{"TableName":"abc","AttributeDefinitions":[{pk},{},{}],"KeySchema":[{hash}],"BillingMode":"PAY_PER_REQUEST","GlobalSecondaryIndexes":[{{"IndexName":"gsi","KeySchema":[{}],"Projection":{{"ProjectionType":"ALL"}}}}]}}"#, ad("g", "S"), ad("u", "S"), ks("g", "HASH")),
            "One or more parameter values were invalid: Some AttributeDefinitions are not used. AttributeDefinitions: [pk, g, u], keys used: [pk, g]",
        ),
        (
            format!(r#"{{"TableName":"abc","AttributeDefinitions":[{pk}],"KeySchema":[{hash}],"BillingMode":"PAY_PER_REQUEST","StreamSpecification":{{"StreamEnabled":true}}}}"#),
            "One or more parameter values were invalid: Table is being created with a stream enabled, UpdateViewType is required",
        ),
        (
            format!(r#"{{"TableName":"abc","AttributeDefinitions":[{pk}],"KeySchema":[{hash}],"BillingMode":"PAY_PER_REQUEST","TableClass":"standard"}}"#),
            "Invalid table-class parameter provided. Please try again with a valid table-class value: [STANDARD, STANDARD_INFREQUENT_ACCESS].",
        ),
        (
            format!(r#"{{"TableName":"abc","AttributeDefinitions":[{pk}],"KeySchema":[{hash}],"BillingMode":"PAY_PER_REQUEST","SSESpecification":{{"Enabled":false,"SSEType":"KMS"}}}}"#),
            "One or more parameter values were invalid: SSEType can not be specified if Enabled is false",
        ),
    ];
    for (body, message) in cases {
        let r = call(s.addr, "DynamoDB_20120810.CreateTable", &body).await;
        assert_eq!(r.status, 400, "{body} -> {}", r.text());
        assert_eq!(
            r.json()["__type"],
            "com.amazon.coral.validate#ValidationException",
            "{body}"
        );
        assert_eq!(r.json()["message"].as_str(), Some(message), "{body}");
    }
    // None of them created anything.
    let names = s
        .client()
        .list_tables()
        .send()
        .await
        .unwrap()
        .table_names
        .unwrap_or_default();
    assert!(names.is_empty(), "{names:?}");
    s.stop().await;
});

ddb_test!(
    indexes_streams_sse_class_and_tags_are_described,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let c = s.client();
        let name = unique_name("full");
        let gsi = GlobalSecondaryIndex::builder()
            .index_name("by-g")
            .key_schema(key("g", KeyType::Hash))
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::Include)
                    .non_key_attributes("x")
                    .build(),
            )
            .build()
            .unwrap();
        let lsi = LocalSecondaryIndex::builder()
            .index_name("by-l")
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("l", KeyType::Range))
            .projection(projection(ProjectionType::KeysOnly))
            .build()
            .unwrap();
        c.create_table()
            .table_name(&name)
            .attribute_definitions(attr("pk", ScalarAttributeType::S))
            .attribute_definitions(attr("sk", ScalarAttributeType::B))
            .attribute_definitions(attr("g", ScalarAttributeType::N))
            .attribute_definitions(attr("l", ScalarAttributeType::S))
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .billing_mode(BillingMode::PayPerRequest)
            .global_secondary_indexes(gsi)
            .local_secondary_indexes(lsi)
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewAndOldImages)
                    .build()
                    .unwrap(),
            )
            .table_class(aws_sdk_dynamodb::types::TableClass::StandardInfrequentAccess)
            .deletion_protection_enabled(true)
            .tags(Tag::builder().key("team").value("core").build().unwrap())
            .send()
            .await
            .unwrap();
        let t = c
            .describe_table()
            .table_name(&name)
            .send()
            .await
            .unwrap()
            .table
            .expect("no table");
        let g = t.global_secondary_indexes().first().expect("no gsi");
        assert_eq!(g.index_name(), Some("by-g"));
        assert_eq!(
            g.projection().map(|p| p.non_key_attributes().to_vec()),
            Some(vec!["x".to_string()])
        );
        assert_eq!(
            g.index_arn(),
            Some(format!("{}/index/by-g", t.table_arn().unwrap_or_default()).as_str())
        );
        let l = t.local_secondary_indexes().first().expect("no lsi");
        assert_eq!(l.key_schema().len(), 2);
        assert_eq!(
            t.stream_specification().and_then(|s| s.stream_view_type()),
            Some(&StreamViewType::NewAndOldImages)
        );
        let label = t.latest_stream_label().unwrap_or_default().to_string();
        assert_eq!(label.len(), 23, "{label}");
        assert_eq!(
            t.latest_stream_arn(),
            Some(format!("{}/stream/{label}", t.table_arn().unwrap_or_default()).as_str())
        );
        assert_eq!(
            t.table_class_summary()
                .and_then(|c| c.table_class())
                .map(|c| c.as_str()),
            Some("STANDARD_INFREQUENT_ACCESS")
        );
        assert_eq!(t.deletion_protection_enabled(), Some(true));

        let arn = t.table_arn().unwrap_or_default().to_string();
        let tags = c
            .list_tags_of_resource()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(tags.tags().len(), 1);
        c.tag_resource()
            .resource_arn(&arn)
            .tags(Tag::builder().key("env").value("dev").build().unwrap())
            .send()
            .await
            .unwrap();
        c.untag_resource()
            .resource_arn(&arn)
            .tag_keys("team")
            .send()
            .await
            .unwrap();
        let tags = c
            .list_tags_of_resource()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap();
        let keys: Vec<&str> = tags.tags().iter().map(|t| t.key()).collect();
        assert_eq!(keys, ["env"]);

        // Deletion protection holds until it is switched off.
        let err = c
            .delete_table()
            .table_name(&name)
            .send()
            .await
            .expect_err("deleted a protected table");
        assert_eq!(
        error_parts(&err),
        (
            "ValidationException".into(),
            "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.".into()
        )
    );
        c.update_table()
            .table_name(&name)
            .deletion_protection_enabled(false)
            .send()
            .await
            .unwrap();
        c.delete_table().table_name(&name).send().await.unwrap();
        s.stop().await;
    }
);

ddb_test!(update_table_changes_and_errors, |mode| async move {
    let s = TestServer::start(mode).await;
    let c = s.client();
    let name = unique_name("upd");
    c.create_table()
        .table_name(&name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .provisioned_throughput(throughput(5, 5))
        .send()
        .await
        .unwrap();

    let err = c
        .update_table()
        .table_name(&name)
        .send()
        .await
        .expect_err("empty update accepted");
    assert_eq!(error_parts(&err).1, "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates, SSESpecification, ReplicaUpdates, MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is required");

    let err = c
        .update_table()
        .table_name(&name)
        .provisioned_throughput(throughput(5, 5))
        .send()
        .await
        .expect_err("same throughput accepted");
    assert_eq!(error_parts(&err).1, "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: 5. Requested ReadCapacityUnits: 5. Current WriteCapacityUnits provisioned for the table: 5. Requested WriteCapacityUnits: 5. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.");

    let out = c
        .update_table()
        .table_name(&name)
        .provisioned_throughput(throughput(10, 3))
        .send()
        .await
        .unwrap();
    let pt = out
        .table_description
        .and_then(|d| d.provisioned_throughput)
        .expect("no throughput");
    assert_eq!(
        (
            pt.read_capacity_units(),
            pt.write_capacity_units(),
            pt.number_of_decreases_today()
        ),
        (Some(10), Some(3), Some(1))
    );
    assert!(pt.last_increase_date_time().is_some() && pt.last_decrease_date_time().is_some());

    // Streams: enable, enable again (error), disable, disable again (error).
    let spec = |on: bool| {
        let b = StreamSpecification::builder().stream_enabled(on);
        let b = if on {
            b.stream_view_type(StreamViewType::KeysOnly)
        } else {
            b
        };
        b.build().unwrap()
    };
    c.update_table()
        .table_name(&name)
        .stream_specification(spec(true))
        .send()
        .await
        .unwrap();
    let err = c
        .update_table()
        .table_name(&name)
        .stream_specification(spec(true))
        .send()
        .await
        .expect_err("enabled twice");
    assert_eq!(
        error_parts(&err).1,
        format!("Table already has an enabled stream: TableName: {name}")
    );
    c.update_table()
        .table_name(&name)
        .stream_specification(spec(false))
        .send()
        .await
        .unwrap();
    let t = c
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .unwrap()
        .table
        .expect("no table");
    assert!(t.stream_specification().is_none());
    assert!(
        t.latest_stream_arn().is_some(),
        "the latest stream stays described after disabling"
    );
    let err = c
        .update_table()
        .table_name(&name)
        .stream_specification(spec(false))
        .send()
        .await
        .expect_err("disabled twice");
    assert_eq!(
        error_parts(&err).1,
        format!("Table has no stream to disable: TableName: {name}")
    );

    // Billing mode switches.
    let out = c
        .update_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let d = out.table_description.expect("no description");
    assert_eq!(
        d.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    let err = c
        .update_table()
        .table_name(&name)
        .provisioned_throughput(throughput(1, 1))
        .send()
        .await
        .expect_err("throughput on on-demand");
    assert_eq!(error_parts(&err).1, "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
    let err = c
        .update_table()
        .table_name(&name)
        .billing_mode(BillingMode::Provisioned)
        .send()
        .await
        .expect_err("provisioned without throughput");
    assert_eq!(error_parts(&err).1, "One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED");

    let missing = unique_name("missing");
    let err = c
        .update_table()
        .table_name(&missing)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect_err("updated a missing table");
    assert_eq!(
        error_parts(&err),
        (
            "ResourceNotFoundException".into(),
            format!("Requested resource not found: Table: {missing} not found")
        )
    );
    s.stop().await;
});

/// The index's items by `g`, as a Query of `by-g` answers them (pk values, sorted).
async fn by_g(c: &Client, table: &str, g: &str) -> Vec<String> {
    let out = c
        .query()
        .table_name(table)
        .index_name("by-g")
        .key_condition_expression("g = :g")
        .expression_attribute_values(":g", AttributeValue::S(g.into()))
        .send()
        .await
        .unwrap();
    let mut pks: Vec<String> = out
        .items()
        .iter()
        .filter_map(|i| i.get("pk")?.as_s().ok().cloned())
        .collect();
    pks.sort();
    pks
}

async fn put_g(c: &Client, table: &str, pk: &str, g: Option<&str>) {
    let mut req = c
        .put_item()
        .table_name(table)
        .item("pk", AttributeValue::S(pk.into()));
    if let Some(g) = g {
        req = req.item("g", AttributeValue::S(g.into()));
    }
    req.send().await.unwrap();
}

// Added: the index is described, holds the items written before it (backfill) and after
// it (sparse: an item without `g` is not in it), and is queryable; removed: described
// no more and refused by Query.
ddb_test!(
    global_secondary_indexes_are_added_and_removed,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let c = s.client();
        let name = unique_name("gsi");
        create_simple(&c, &name).await;
        put_g(&c, &name, "before", Some("x")).await;
        let create = aws_sdk_dynamodb::types::CreateGlobalSecondaryIndexAction::builder()
            .index_name("by-g")
            .key_schema(key("g", KeyType::Hash))
            .projection(projection(ProjectionType::All))
            .build()
            .unwrap();
        c.update_table()
            .table_name(&name)
            .attribute_definitions(attr("g", ScalarAttributeType::S))
            .global_secondary_index_updates(
                aws_sdk_dynamodb::types::GlobalSecondaryIndexUpdate::builder()
                    .create(create.clone())
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let t = c
            .describe_table()
            .table_name(&name)
            .send()
            .await
            .unwrap()
            .table
            .expect("no table");
        assert_eq!(t.global_secondary_indexes().len(), 1);
        assert_eq!(t.attribute_definitions().len(), 2);
        put_g(&c, &name, "after", Some("x")).await;
        put_g(&c, &name, "other", Some("y")).await;
        put_g(&c, &name, "none", None).await;
        assert_eq!(by_g(&c, &name, "x").await, ["after", "before"]);
        assert_eq!(by_g(&c, &name, "y").await, ["other"]);
        let err = c
            .update_table()
            .table_name(&name)
            .attribute_definitions(attr("g", ScalarAttributeType::S))
            .global_secondary_index_updates(
                aws_sdk_dynamodb::types::GlobalSecondaryIndexUpdate::builder()
                    .create(create)
                    .build(),
            )
            .send()
            .await
            .expect_err("created twice");
        assert_eq!(
            error_parts(&err).1,
            "Attempting to create an index which already exists"
        );
        let delete = aws_sdk_dynamodb::types::DeleteGlobalSecondaryIndexAction::builder()
            .index_name("by-g")
            .build()
            .unwrap();
        c.update_table()
            .table_name(&name)
            .global_secondary_index_updates(
                aws_sdk_dynamodb::types::GlobalSecondaryIndexUpdate::builder()
                    .delete(delete)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let t = c
            .describe_table()
            .table_name(&name)
            .send()
            .await
            .unwrap()
            .table
            .expect("no table");
        assert!(t.global_secondary_indexes().is_empty());
        assert_eq!(
            t.attribute_definitions().len(),
            1,
            "the index's key definition goes with it"
        );
        let err = c
            .query()
            .table_name(&name)
            .index_name("by-g")
            .key_condition_expression("g = :g")
            .expression_attribute_values(":g", AttributeValue::S("x".into()))
            .send()
            .await
            .expect_err("queried a removed index");
        assert_eq!(
            error_parts(&err),
            (
                "ValidationException".into(),
                "The table does not have the specified index: by-g".into()
            )
        );
        s.stop().await;
    }
);

ddb_test!(list_tables_pages_in_name_order, |mode| async move {
    let s = TestServer::start(mode).await;
    let c = s.client();
    for n in ["ccc", "aaa", "bbb", "ddd", "eee"] {
        create_simple(&c, n).await;
    }
    let p1 = c.list_tables().limit(2).send().await.unwrap();
    assert_eq!(p1.table_names(), ["aaa", "bbb"]);
    assert_eq!(p1.last_evaluated_table_name(), Some("bbb"));
    let p2 = c
        .list_tables()
        .limit(3)
        .exclusive_start_table_name("bbb")
        .send()
        .await
        .unwrap();
    assert_eq!(p2.table_names(), ["ccc", "ddd", "eee"]);
    assert_eq!(p2.last_evaluated_table_name(), None);
    // The SDK's paginator walks every page.
    let all: Vec<String> = c
        .list_tables()
        .limit(1)
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .filter_map(Result::ok)
        .collect();
    assert_eq!(all, ["aaa", "bbb", "ccc", "ddd", "eee"]);
    let r = call(
        s.addr,
        "DynamoDB_20120810.ListTables",
        r#"{"Limit":500,"ExclusiveStartTableName":"a;"}"#,
    )
    .await;
    assert_eq!(r.json()["message"].as_str(), Some("3 validation errors detected: Value 'a;' at 'exclusiveStartTableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a;' at 'exclusiveStartTableName' failed to satisfy constraint: Member must have length greater than or equal to 3; Value '500' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100"));
    s.stop().await;
});

ddb_test!(lifecycle_delays_follow_the_clock, |mode| async move {
    let clock = ManualClock::new(1_700_000_000_000);
    let engine = EngineConfig {
        create_delay_ms: 5_000,
        delete_delay_ms: 3_000,
        ..EngineConfig::default()
    };
    let s = TestServer::start_with_engine_config(mode, engine, clock.clone()).await;
    let c = s.client();
    let name = unique_name("slow");
    let out = c
        .create_table()
        .table_name(&name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.table_description.and_then(|d| d.table_status),
        Some(TableStatus::Creating)
    );
    let err = c
        .delete_table()
        .table_name(&name)
        .send()
        .await
        .expect_err("deleted while creating");
    assert_eq!(
        error_parts(&err),
        ("ResourceInUseException".into(), format!("Attempt to change a resource which is still in use: Table is being created: {name}"))
    );
    // Data-plane calls see no table while it is CREATING.
    let r = call(
        s.addr,
        "DynamoDB_20120810.DescribeTable",
        &format!(r#"{{"TableName":"{name}"}}"#),
    )
    .await;
    assert_eq!(r.json()["Table"]["TableStatus"], "CREATING");
    clock.advance(5_000);
    let t = c
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .unwrap()
        .table
        .expect("no table");
    assert_eq!(t.table_status(), Some(&TableStatus::Active));

    c.delete_table().table_name(&name).send().await.unwrap();
    let t = c
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .unwrap()
        .table
        .expect("no table");
    assert_eq!(t.table_status(), Some(&TableStatus::Deleting));
    let err = c
        .create_table()
        .table_name(&name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect_err("recreated while deleting");
    assert_eq!(
        error_parts(&err),
        (
            "ResourceInUseException".into(),
            format!("Table already exists: {name}")
        )
    );
    clock.advance(3_000);
    let err = c
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .expect_err("still there");
    assert_eq!(error_parts(&err).0, "ResourceNotFoundException");
    create_simple(&c, &name).await;
    s.stop().await;
});

ddb_test!(tag_errors, |mode| async move {
    let s = TestServer::start(mode).await;
    let c = s.client();
    let err = c
        .list_tags_of_resource()
        .resource_arn("arn:aws:dynamodb:us-east-1:000000000000:table/nope")
        .send()
        .await
        .expect_err("found");
    assert_eq!(
        error_parts(&err),
        ("AccessDeniedException".into(), "User: arn:aws:iam::000000000000:root is not authorized to perform: dynamodb:ListTagsOfResource on resource: arn:aws:dynamodb:us-east-1:000000000000:table/nope".into())
    );
    let name = unique_name("tags");
    create_simple(&c, &name).await;
    let arn = format!("arn:aws:dynamodb:us-east-1:000000000000:table/{name}");
    let err = c
        .tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("aws:x").value("v").build().unwrap())
        .send()
        .await
        .expect_err("aws: prefix accepted");
    assert_eq!(
        error_parts(&err).1,
        "Tag Key cannot be prefixed with aws:, Key: aws:x"
    );
    s.stop().await;
});
