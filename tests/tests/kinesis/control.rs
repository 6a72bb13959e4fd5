//! The four operations' answers and DynamoDB's errors; a missing stream (ENABLE_FAILED).

use super::*;

#[tokio::test]
async fn control_plane_answers_and_errors() {
    let k = Kinesalite::start();
    let arn = k.create_stream("crud", 1).await;
    let server = TestServer::start_with(config(&k, Mode::Cached), None).await;
    let c = server.client();
    // 1. Unknown table.
    let e = c
        .enable_kinesis_streaming_destination()
        .table_name("bad-table")
        .stream_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&e),
        (
            "ResourceNotFoundException".into(),
            "Requested resource not found: Table: bad-table not found".into()
        )
    );
    let table = unique_name("kcrud");
    create_table(&c, &table).await;
    assert_eq!(destination(&c, &table).await, json!([]));
    // 2. Enable answers ENABLING with an empty configuration; Describe shows ACTIVE.
    let r = call(
        server.addr,
        "DynamoDB_20120810.EnableKinesisStreamingDestination",
        &json!({"TableName": table, "StreamArn": arn}).to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"DestinationStatus": "ENABLING", "EnableKinesisStreamingConfiguration": {}, "StreamArn": arn, "TableName": table})
    );
    let r = call(
        server.addr,
        "DynamoDB_20120810.DescribeKinesisStreamingDestination",
        &json!({"TableName": table}).to_string(),
    )
    .await;
    assert_eq!(
        r.json(),
        json!({"KinesisDataStreamDestinations": [{"DestinationStatus": "ACTIVE", "StreamArn": arn}], "TableName": table})
    );
    // 3. Enabled already (the same stream or another).
    let busy = "Table is not in a valid state to enable Kinesis Streaming Destination:EnableKinesisStreamingDestination must be DISABLED or ENABLE_FAILED to perform ENABLE operation.";
    for other in [arn.clone(), arn.replace("crud", "other")] {
        let e = c
            .enable_kinesis_streaming_destination()
            .table_name(&table)
            .stream_arn(other)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_parts(&e), ("ValidationException".into(), busy.into()));
    }
    // 4. Update without a configuration, with a bad precision, for another stream.
    let update = |config: Option<UpdateKinesisStreamingConfiguration>, stream: String| {
        c.update_kinesis_streaming_destination()
            .table_name(&table)
            .stream_arn(stream)
            .set_update_kinesis_streaming_configuration(config)
            .send()
    };
    let null = "Streaming destination cannot be updated with given parameters: UpdateKinesisStreamingConfiguration cannot be null or contain only null values";
    for config in [
        None,
        Some(UpdateKinesisStreamingConfiguration::builder().build()),
    ] {
        let e = update(config, arn.clone()).await.unwrap_err();
        assert_eq!(error_parts(&e), ("ValidationException".into(), null.into()));
    }
    let second = UpdateKinesisStreamingConfiguration::builder()
        .approximate_creation_date_time_precision(Precision::from("SECOND"))
        .build();
    let e = update(Some(second), arn.clone()).await.unwrap_err();
    assert_eq!(
        error_parts(&e),
        (
            "ValidationException".into(),
            "1 validation error detected: Value 'SECOND' at 'updateKinesisStreamingConfiguration.approximateCreationDateTimePrecision' failed to satisfy constraint: Member must satisfy enum value set: [MILLISECOND, MICROSECOND]".into()
        )
    );
    let micro = UpdateKinesisStreamingConfiguration::builder()
        .approximate_creation_date_time_precision(Precision::Microsecond)
        .build();
    let unknown = arn.replace("crud", "unknown");
    let e = update(Some(micro.clone()), unknown.clone())
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&e),
        (
            "ValidationException".into(),
            format!("Table is not in a valid state to enable Kinesis Streaming Destination: No streaming destination with streamArn: {unknown} found for table with tableName: {table}")
        )
    );
    // 5. Update to MICROSECOND: UPDATING, then ACTIVE; again: already set.
    let out = update(Some(micro.clone()), arn.clone()).await.unwrap();
    assert_eq!(out.destination_status(), Some(&DestinationStatus::Updating));
    assert_eq!(
        out.update_kinesis_streaming_configuration()
            .and_then(|c| c.approximate_creation_date_time_precision()),
        Some(&Precision::Microsecond)
    );
    assert_eq!(
        destination(&c, &table).await,
        json!([{"arn": arn, "status": "ACTIVE", "description": null, "precision": "MICROSECOND"}])
    );
    let table_id = c
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap()
        .table_id
        .unwrap();
    let e = update(Some(micro), arn.clone()).await.unwrap_err();
    assert_eq!(
        error_parts(&e),
        (
            "ValidationException".into(),
            format!("Invalid Request: Precision is already set to the desired value of MICROSECOND for tableId: {table_id}, kdsArn: {arn}")
        )
    );
    // Enable with a bad precision; a too short stream ARN.
    let other = unique_name("kcrud");
    create_table(&c, &other).await;
    let e = c
        .enable_kinesis_streaming_destination()
        .table_name(&other)
        .stream_arn(&arn)
        .enable_kinesis_streaming_configuration(
            EnableKinesisStreamingConfiguration::builder()
                .approximate_creation_date_time_precision(Precision::from("NANOSECOND"))
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&e),
        (
            "ValidationException".into(),
            "1 validation error detected: Value 'NANOSECOND' at 'enableKinesisStreamingConfiguration.approximateCreationDateTimePrecision' failed to satisfy constraint: Member must satisfy enum value set: [MILLISECOND, MICROSECOND]".into()
        )
    );
    let e = c
        .enable_kinesis_streaming_destination()
        .table_name(&other)
        .stream_arn("arn:short")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&e),
        (
            "ValidationException".into(),
            "1 validation error detected: Value 'arn:short' at 'streamArn' failed to satisfy constraint: Member must have length greater than or equal to 37".into()
        )
    );
    // 11. Disable: DISABLING, then DISABLED (kept in Describe); again: must be ACTIVE.
    let out = c
        .disable_kinesis_streaming_destination()
        .table_name(&table)
        .stream_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.destination_status(),
        Some(&DestinationStatus::Disabling)
    );
    assert_eq!(destination(&c, &table).await[0]["status"], "DISABLED");
    let e = c
        .disable_kinesis_streaming_destination()
        .table_name(&table)
        .stream_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&e),
        (
            "ValidationException".into(),
            "Table is not in a valid state to disable Kinesis Streaming Destination:DisableKinesisStreamingDestination must be ACTIVE to perform DISABLE operation.".into()
        )
    );
    // Enabled again after DISABLED.
    enable(&c, &table, &arn).await;
    assert_eq!(destination(&c, &table).await[0]["status"], "ACTIVE");
    server.stop().await;
}

#[tokio::test]
async fn a_missing_stream_fails_the_destination_and_writes_still_succeed() {
    let k = Kinesalite::start();
    let server = TestServer::start_with(config(&k, Mode::Engine), None).await;
    let c = server.client();
    let table = unique_name("kmissing");
    create_table(&c, &table).await;
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/does-not-exist";
    enable(&c, &table, arn).await;
    let d = wait_status(&c, &table, "ENABLE_FAILED").await;
    assert_eq!(d[0]["status"], "ENABLE_FAILED", "{d}");
    let text = d[0]["description"].as_str().unwrap_or_default();
    assert!(text.contains(arn) && text.contains("not found"), "{text}");
    put(&c, &table, "a", &[]).await;
    // A failed destination may be enabled again.
    let stream = k.create_stream("does-not-exist", 1).await;
    assert_eq!(stream, arn);
    enable(&c, &table, arn).await;
    wait_status(&c, &table, "ACTIVE").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    put(&c, &table, "b", &[]).await;
    let got = k.wait_for("does-not-exist", 1).await;
    assert_eq!(got.len(), 1, "only the change made while live: {got:?}");
    assert_eq!(got[0].2["dynamodb"]["Keys"], json!({"id": {"S": "b"}}));
    server.stop().await;
}
