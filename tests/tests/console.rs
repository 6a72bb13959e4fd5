//! The web console (`/console/`, issue Q): plain HTTP checks of its pages and JSON
//! (status, content, the same validation as the API, the token rule beyond loopback),
//! and the whole flow in headless Chromium over the DevTools protocol (console/cdp.rs):
//! create a table through the form, add items, query them, edit one, see the edit
//! through the SDK, watch a hit ratio change after reads, invalidate, delete the table —
//! with a screenshot of every page under tests/console/screenshots/, checked not blank.

#[path = "console/cdp.rs"]
mod cdp;
#[path = "console/http.rs"]
mod http_pages;

use std::path::PathBuf;

use aws_sdk_dynamodb::types::AttributeValue;
use daxlite_tests::{Mode, TestServer};
use serde_json::json;

fn shots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("console/screenshots")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_in_chromium() {
    let server = TestServer::start(Mode::Cached).await;
    let sdk = server.client();
    let base = format!("{}/console", server.url);
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-chromium");
    let mut b = cdp::Browser::start(&work).await;
    let table = daxlite_tests::unique_name("console");

    // Create a table through the form.
    b.goto(&format!("{base}/tables")).await;
    b.screenshot(&shots().join("tables-empty.png")).await;
    let create = format!(
        "(() => {{ const f = document.getElementById('create-table');
          f.name.value = {t}; f.pk.value = 'pk'; f.sk.value = 'sk';
          f.gsi.value = 'by_status status:S'; f.stream.value = 'NEW_AND_OLD_IMAGES'; f.ttl.value = 'expires';
          f.requestSubmit(); return true; }})()",
        t = json!(table)
    );
    b.eval(&create).await;
    b.wait(&format!("location.pathname === '/console/tables/{table}'"))
        .await;
    b.screenshot(&shots().join("table-detail.png")).await;
    let desc = sdk
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let gsis = desc.table().unwrap().global_secondary_indexes();
    assert_eq!(gsis[0].index_name(), Some("by_status"));

    // Add items (plain JSON, types inferred).
    for (sk, n) in [("a", 1), ("b", 2), ("c", 3)] {
        b.goto(&format!("{base}/tables/{table}/item?format=plain"))
            .await;
        let put = format!(
            "(() => {{ document.getElementById('item').value = {};
              document.getElementById('item-form').requestSubmit(); return true; }})()",
            json!(json!({ "pk": "p1", "sk": sk, "status": "open", "n": n }).to_string())
        );
        b.eval(&put).await;
        b.wait("location.search.includes('saved=1')").await;
    }
    b.screenshot(&shots().join("item-edit.png")).await;

    // Query them with the builder.
    b.goto(&format!("{base}/tables/{table}/items")).await;
    b.screenshot(&shots().join("items-scan.png")).await;
    b.eval("(() => { const f = document.getElementById('builder'); f.mode.value = 'query'; f.pk.value = 'p1';
            f.order.value = 'desc'; f.requestSubmit(); return true; })()").await;
    b.wait("location.search.includes('mode=query') && document.getElementById('count')")
        .await;
    assert_eq!(
        b.eval("document.getElementById('count').textContent").await,
        json!("3")
    );
    let first = b
        .eval("document.querySelector('#items tbody tr td:nth-child(2)').textContent")
        .await;
    assert_eq!(first, json!("c"), "descending order");
    b.screenshot(&shots().join("items-query.png")).await;

    // Edit one (the last row: sk = a) as DynamoDB JSON.
    let edit = b
        .eval("document.querySelector('#items tbody tr:last-child a').href")
        .await;
    b.goto(edit.as_str().unwrap()).await;
    b.eval(
        "(() => { const t = document.getElementById('item'); const v = JSON.parse(t.value);
            v.status = { S: 'closed' }; t.value = JSON.stringify(v);
            document.getElementById('item-form').requestSubmit(); return true; })()",
    )
    .await;
    b.wait("location.search.includes('saved=1')").await;
    let key = |sk: &str| {
        [
            ("pk", AttributeValue::S("p1".into())),
            ("sk", AttributeValue::S(sk.into())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect::<std::collections::HashMap<_, _>>()
    };
    let got = sdk
        .get_item()
        .table_name(&table)
        .set_key(Some(key("a")))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.item().unwrap()["status"],
        AttributeValue::S("closed".into())
    );

    // A hit ratio that changes after reads.
    b.goto(&format!("{base}/cache")).await;
    let ratio = format!("(document.querySelector('#ratios tr[data-table=\"{table}\"] .ratio') || {{}}).textContent || ''");
    let before = b.eval(&ratio).await;
    for _ in 0..5 {
        sdk.get_item()
            .table_name(&table)
            .set_key(Some(key("b")))
            .send()
            .await
            .unwrap();
    }
    b.wait(&format!("({ratio}) !== {before} && ({ratio}) !== ''"))
        .await;
    let after = b.eval(&ratio).await;
    assert!(after.as_str().unwrap().ends_with('%'), "{after}");
    // Let the charts draw two samples.
    b.wait("document.querySelectorAll('svg.chart path').length > 0")
        .await;
    b.screenshot(&shots().join("cache.png")).await;

    // Invalidate the table.
    b.eval(&format!(
        "(() => {{ const f = document.getElementById('invalidate-table'); f.table.value = {};
            f.requestSubmit(); return true; }})()",
        json!(table)
    ))
    .await;
    b.wait("location.search.includes('done=')").await;
    let notice = b
        .eval("document.querySelector('.notice').textContent")
        .await;
    assert_eq!(notice, json!(format!("Invalidated: table of {table}.")));

    // PartiQL, metrics, stream.
    b.goto(&format!("{base}/partiql")).await;
    b.eval(&format!(
        "(() => {{ document.getElementById('statement').value = {};
            document.getElementById('partiql').requestSubmit(); return true; }})()",
        json!(format!("SELECT * FROM \"{table}\" WHERE pk = 'p1'"))
    ))
    .await;
    b.wait("document.getElementById('count')").await;
    assert_eq!(
        b.eval("document.getElementById('count').textContent").await,
        json!("3")
    );
    b.screenshot(&shots().join("partiql.png")).await;
    b.goto(&format!("{base}/metrics")).await;
    b.wait("document.querySelectorAll('svg.chart path').length > 0")
        .await;
    b.screenshot(&shots().join("metrics.png")).await;
    b.goto(&format!("{base}/tables/{table}/stream")).await;
    b.wait("document.getElementById('stream-state').textContent.startsWith('live')")
        .await;
    sdk.put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S("p2".into()))
        .item("sk", AttributeValue::S("z".into()))
        .send()
        .await
        .unwrap();
    b.wait("document.querySelectorAll('#stream tbody tr').length > 0")
        .await;
    let event = b
        .eval("document.querySelector('#stream tbody tr td:nth-child(2)').textContent")
        .await;
    assert_eq!(event, json!("INSERT"));
    b.screenshot(&shots().join("stream.png")).await;

    // The dark theme, by the toggle.
    b.goto(&format!("{base}/tables")).await;
    b.eval("document.getElementById('theme').click()").await;
    b.screenshot(&shots().join("tables-theme-toggled.png"))
        .await;
    b.eval("document.getElementById('theme').click()").await;
    b.screenshot(&shots().join("tables.png")).await;

    // Delete the table (confirmed).
    b.goto(&format!("{base}/tables/{table}")).await;
    b.eval(&format!("(() => {{ window.confirm = () => true; const f = document.querySelector('form[action$=\"/delete\"]');
            f.confirm.value = {}; f.requestSubmit(); return true; }})()", json!(table))).await;
    b.wait("location.search.includes('deleted=')").await;
    let listed = sdk.list_tables().send().await.unwrap();
    assert!(!listed.table_names().contains(&table));
    drop(b);
    server.stop().await;
}

/// Every console page of a 100,000-item table renders in < 50 ms (wall time of the whole
/// request over loopback, an upper bound of the server's time). Loading takes a while in
/// a debug build, so it is ignored by default:
/// `cargo test -p daxlite-tests --test e2e console:: -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn pages_stay_fast_on_a_100k_item_table() {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    let server = TestServer::start(Mode::Cached).await;
    let sdk = server.client();
    let t = daxlite_tests::create_pk_table(
        &sdk,
        "big",
        Some(aws_sdk_dynamodb::types::ScalarAttributeType::N),
    )
    .await;
    let mut tasks = Vec::new();
    for w in 0..8u32 {
        let (sdk, t) = (sdk.clone(), t.clone());
        tasks.push(tokio::spawn(async move {
            for batch in 0..500u32 {
                let writes = (0..25u32).map(|i| {
                    let n = (w * 500 + batch) * 25 + i;
                    let put = PutRequest::builder()
                        .item("pk", AttributeValue::S(format!("p{}", n % 1000)))
                        .item("sk", AttributeValue::N(n.to_string()))
                        .item("payload", AttributeValue::S("x".repeat(100)))
                        .build()
                        .unwrap();
                    WriteRequest::builder().put_request(put).build()
                });
                sdk.batch_write_item()
                    .request_items(&t, writes.collect())
                    .send()
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let first = http_pages::get(server.addr, &format!("/console/tables/{t}/items"))
        .await
        .text();
    let next = first
        .split("rel=\"next\" id=\"next\"")
        .next()
        .and_then(|s| s.rsplit("href=\"").next())
        .unwrap()
        .trim_end_matches("\" ")
        .replace("&amp;", "&");
    let paths = [
        "/console/tables".to_string(),
        format!("/console/tables/{t}"),
        format!("/console/tables/{t}/items"),
        next,
        format!("/console/tables/{t}/items?mode=query&pk=p7&order=desc"),
        format!("/console/tables/{t}/export?format=csv"),
        "/console/cache".to_string(),
        "/console/metrics".to_string(),
    ];
    for path in &paths {
        let mut worst = std::time::Duration::ZERO;
        for _ in 0..5 {
            let started = std::time::Instant::now();
            let r = http_pages::get(server.addr, path).await;
            assert_eq!(r.status, 200, "{path}");
            worst = worst.max(started.elapsed());
        }
        println!("{:>8.2} ms  {path}", worst.as_secs_f64() * 1000.0);
        assert!(worst.as_millis() < 50, "{path}: {worst:?}");
    }
    server.stop().await;
}
