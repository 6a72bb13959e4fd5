//! Durability: what a client was told is stored survives a restart of the server.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, Tag,
};
use daxlite_tests::{ddb_test, unique_name, TestServer};

ddb_test!(tables_survive_a_restart, |mode| async move {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..3).map(|_| unique_name("keep")).collect();
    {
        let s = TestServer::start_on_disk(mode, dir.path()).await;
        let c = s.client();
        for n in &names {
            c.create_table()
                .table_name(n)
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name("pk")
                        .attribute_type(ScalarAttributeType::N)
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
                .tags(Tag::builder().key("k").value(n).build().unwrap())
                .send()
                .await
                .unwrap();
        }
        c.delete_table().table_name(&names[2]).send().await.unwrap();
        s.stop().await;
    }
    let s = TestServer::start_on_disk(mode, dir.path()).await;
    let c = s.client();
    let listed = c
        .list_tables()
        .send()
        .await
        .unwrap()
        .table_names
        .unwrap_or_default();
    assert_eq!(listed, names[..2].to_vec());
    let t = c
        .describe_table()
        .table_name(&names[0])
        .send()
        .await
        .unwrap()
        .table
        .expect("no table");
    assert_eq!(
        t.key_schema().first().map(|k| k.attribute_name()),
        Some("pk")
    );
    let tags = c
        .list_tags_of_resource()
        .resource_arn(t.table_arn().unwrap_or_default())
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags().first().map(|t| t.value()),
        Some(names[0].as_str())
    );
    s.stop().await;
});
