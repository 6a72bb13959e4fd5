//! Every kind of write read back from Kinesis record by record; precision; disable.

use super::*;

/// An expected record: event name, NewImage, OldImage.
type Expected = (&'static str, Option<Value>, Option<Value>);

/// Asserts one change record.
fn check(rec: &Value, table: &str, name: &str, new: Option<Value>, old: Option<Value>) {
    assert_eq!(rec["eventName"], name, "{rec}");
    assert_eq!(rec["awsRegion"], "us-east-1");
    assert_eq!(rec["recordFormat"], "application/json");
    assert_eq!(rec["eventSource"], "aws:dynamodb");
    assert_eq!(rec["tableName"], table);
    assert_eq!(rec["eventID"].as_str().unwrap().len(), 32);
    assert!(rec.get("eventVersion").is_none() && rec.get("eventSourceARN").is_none());
    let d = &rec["dynamodb"];
    assert!(d.get("SequenceNumber").is_none() && d.get("StreamViewType").is_none());
    assert_eq!(d.get("NewImage").cloned(), new, "{rec}");
    assert_eq!(d.get("OldImage").cloned(), old, "{rec}");
    let at = d["ApproximateCreationDateTime"].as_i64().unwrap();
    assert!((at - now_ms()).abs() < 10_000, "milliseconds: {at}");
}

#[tokio::test]
async fn every_kind_of_write_arrives_record_by_record() {
    let k = Kinesalite::start();
    let stream = "changes";
    let arn = k.create_stream(stream, 2).await;
    let server = TestServer::start_with(config(&k, Mode::Cached), None).await;
    let c = server.client();
    let table = unique_name("kwrites");
    create_table(&c, &table).await;
    enable(&c, &table, &arn).await;
    let n = |v: &str| AttributeValue::N(v.to_string());
    put(&c, &table, "test", &[]).await;
    put(&c, &table, "a", &[("n", n("1"))]).await;
    c.update_item()
        .table_name(&table)
        .key("id", s("a"))
        .update_expression("SET n = :two")
        .expression_attribute_values(":two", n("2"))
        .send()
        .await
        .unwrap();
    c.delete_item()
        .table_name(&table)
        .key("id", s("a"))
        .send()
        .await
        .unwrap();
    let tput = |id: &str| {
        TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&table)
                    .item("id", s(id))
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let check_absent = |id: &str| {
        TransactWriteItem::builder()
            .condition_check(
                ConditionCheck::builder()
                    .table_name(&table)
                    .key("id", s(id))
                    .condition_expression("attribute_not_exists(id)")
                    .build()
                    .unwrap(),
            )
            .build()
    };
    c.transact_write_items()
        .transact_items(tput("b"))
        .transact_items(tput("c"))
        .transact_items(check_absent("d"))
        .send()
        .await
        .unwrap();
    // Cancelled: b exists.
    let e = c
        .transact_write_items()
        .transact_items(tput("e"))
        .transact_items(check_absent("b"))
        .send()
        .await;
    assert!(e.is_err());
    // A write that changes nothing publishes nothing.
    put(&c, &table, "b", &[]).await;
    c.batch_write_item()
        .request_items(
            &table,
            vec![
                WriteRequest::builder()
                    .put_request(PutRequest::builder().item("id", s("f")).build().unwrap())
                    .build(),
                WriteRequest::builder()
                    .delete_request(DeleteRequest::builder().key("id", s("c")).build().unwrap())
                    .build(),
            ],
        )
        .send()
        .await
        .unwrap();
    c.update_time_to_live()
        .table_name(&table)
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
    let past = (now_ms() / 1000 - 10).to_string();
    put(&c, &table, "g", &[("exp", n(&past))]).await;
    let got = k.wait_for(stream, 10).await;
    let items = by_item(&got);
    let id = |v: &str| json!({"id": {"S": v}});
    let an = |v: &str, n: &str| json!({"id": {"S": v}, "n": {"N": n}});
    let g = json!({"id": {"S": "g"}, "exp": {"N": past}});
    let want: Vec<(&str, Vec<Expected>)> = vec![
        (
            "a",
            vec![
                ("INSERT", Some(an("a", "1")), None),
                ("MODIFY", Some(an("a", "2")), Some(an("a", "1"))),
                ("REMOVE", None, Some(an("a", "2"))),
            ],
        ),
        ("b", vec![("INSERT", Some(id("b")), None)]),
        (
            "c",
            vec![
                ("INSERT", Some(id("c")), None),
                ("REMOVE", None, Some(id("c"))),
            ],
        ),
        ("f", vec![("INSERT", Some(id("f")), None)]),
        (
            "g",
            vec![("INSERT", Some(g.clone()), None), ("REMOVE", None, Some(g))],
        ),
        ("test", vec![("INSERT", Some(id("test")), None)]),
    ];
    assert_eq!(
        items.keys().collect::<Vec<_>>(),
        want.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        "{got:?}"
    );
    for (item, records) in &want {
        let seen = &items[*item];
        assert_eq!(seen.len(), records.len(), "{item}: {seen:?}");
        for (rec, (name, new, old)) in seen.iter().zip(records) {
            check(rec, &table, name, new.clone(), old.clone());
            assert_eq!(rec["dynamodb"]["Keys"], id(item));
            let ttl = *item == "g" && *name == "REMOVE";
            let who = if ttl {
                json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"})
            } else {
                Value::Null
            };
            assert_eq!(rec["userIdentity"], who, "{rec}");
        }
    }
    // AWS's captured record: `id = "test"` has SizeBytes 12 (Keys + NewImage).
    assert_eq!(items["test"][0]["dynamodb"]["SizeBytes"], 12);
    // 8. MICROSECOND precision: the time in microseconds.
    c.update_kinesis_streaming_destination()
        .table_name(&table)
        .stream_arn(&arn)
        .update_kinesis_streaming_configuration(
            UpdateKinesisStreamingConfiguration::builder()
                .approximate_creation_date_time_precision(Precision::Microsecond)
                .build(),
        )
        .send()
        .await
        .unwrap();
    put(&c, &table, "micro", &[]).await;
    let got = k.wait_for(stream, 11).await;
    let micro = &by_item(&got)["micro"][0];
    let at = micro["dynamodb"]["ApproximateCreationDateTime"]
        .as_i64()
        .unwrap();
    assert!(
        (at - now_ms() * 1000).abs() < 10_000_000,
        "microseconds: {at}"
    );
    // 11. Disabled: later writes publish nothing.
    c.disable_kinesis_streaming_destination()
        .table_name(&table)
        .stream_arn(&arn)
        .send()
        .await
        .unwrap();
    put(&c, &table, "after", &[]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(k.records(stream).await.len(), 11);
    server.stop().await;
}
