//! The console's pages and JSON over plain HTTP: statuses, content, pagination forward
//! and back, exports, errors exactly as the API gives them, cache commands, and who may
//! use it (the token beyond loopback, no cross-site form posts).

use std::net::SocketAddr;

use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};
use daxlite::config::RawConfig;
use daxlite_tests::{create_pk_table, ddb_test, raw_at, Mode, RawReply, TestServer};
use serde_json::Value;

pub async fn get(addr: SocketAddr, path: &str) -> RawReply {
    raw_at(addr, "GET", path, &[], Vec::new()).await
}

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

pub async fn post(addr: SocketAddr, path: &str, pairs: &[(&str, &str)]) -> RawReply {
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    raw_at(addr, "POST", path, &headers, form(pairs)).await
}

fn location(r: &RawReply) -> String {
    r.headers["location"].to_str().unwrap().to_string()
}

fn html_escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

ddb_test!(pages_answer_over_both_upstream_modes, |mode| async move {
    let server = TestServer::start(mode).await;
    let a = server.addr;
    let r = get(a, "/console/").await;
    assert_eq!((r.status, location(&r).as_str()), (303, "/console/tables"));
    let css = get(a, "/console/assets/console.css").await;
    assert_eq!(css.headers["content-type"], "text/css; charset=utf-8");
    assert!(css.text().contains("prefers-color-scheme"));
    let js = get(a, "/console/assets/console.js").await;
    assert!(js.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));

    let t = daxlite_tests::unique_name("http");
    let r = post(
        a,
        "/console/tables",
        &[
            ("name", &t),
            ("pk", "pk"),
            ("pk_type", "S"),
            ("sk", "n"),
            ("sk_type", "N"),
            ("billing", "PROVISIONED"),
            ("rcu", "3"),
            ("wcu", "4"),
            ("lsi", "by_x x:S KEYS_ONLY"),
        ],
    )
    .await;
    assert_eq!(
        (r.status, location(&r)),
        (303, format!("/console/tables/{t}")),
        "{}",
        r.text()
    );
    let list = get(a, "/console/tables").await;
    assert_eq!(list.status, 200);
    let page = list.text();
    assert!(page.contains(&format!("<tr data-table=\"{t}\">")), "{page}");
    assert!(page.contains("PROVISIONED") && page.contains("0 GSI · 1 LSI"));
    let detail = get(a, &format!("/console/tables/{t}")).await.text();
    assert!(
        detail.contains("&quot;ReadCapacityUnits&quot;: 3"),
        "{detail}"
    );

    let sdk = server.client();
    let items = get(a, &format!("/console/tables/{t}/items")).await;
    assert!(items
        .text()
        .contains("Count <strong id=\"count\">0</strong>"));
    sdk.put_item()
        .table_name(&t)
        .item("pk", AttributeValue::S("k".into()))
        .item("n", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    let plain = get(a, &format!("/console/tables/{t}/export?format=plain")).await;
    assert_eq!(
        plain.headers["content-disposition"],
        format!("attachment; filename=\"{t}.json\"").as_str()
    );
    assert_eq!(plain.json(), serde_json::json!([{ "pk": "k", "n": 1 }]));
    let csv = get(a, &format!("/console/tables/{t}/export?format=csv"))
        .await
        .text();
    assert_eq!(csv, "pk,n\nk,1\n");

    for path in [
        "/console/cache",
        "/console/metrics",
        "/console/partiql",
        "/console/api/metrics",
        "/console/api/cache",
    ] {
        assert_eq!(get(a, path).await.status, 200, "{path}");
    }
    let cache = get(a, "/console/cache").await.text();
    assert_eq!(
        mode == Mode::Cached,
        cache.contains("id=\"ratios\""),
        "{cache}"
    );
    assert_eq!(get(a, "/console/nope").await.status, 404);
    assert_eq!(get(a, "/console/tables/missing-table").await.status, 404);
    // Deleting needs the typed name.
    let r = post(
        a,
        &format!("/console/tables/{t}/delete"),
        &[("confirm", "wrong")],
    )
    .await;
    assert_eq!(r.status, 400);
    let r = post(
        a,
        &format!("/console/tables/{t}/delete"),
        &[("confirm", &t)],
    )
    .await;
    assert_eq!(r.status, 303);
    server.stop().await;
});

#[tokio::test]
async fn writes_show_the_apis_own_validation_errors() {
    let server = TestServer::start(Mode::Cached).await;
    let sdk = server.client();
    let t = create_pk_table(&sdk, "valid", Some(ScalarAttributeType::N)).await;
    let item = r#"{"pk":{"S":"a"},"sk":{"S":"not a number"}}"#;
    let r = post(
        server.addr,
        &format!("/console/tables/{t}/item"),
        &[("format", "dynamo"), ("item", item)],
    )
    .await;
    assert_eq!(r.status, 400);
    let err = sdk
        .put_item()
        .table_name(&t)
        .item("pk", AttributeValue::S("a".into()))
        .item("sk", AttributeValue::S("not a number".into()))
        .send()
        .await
        .unwrap_err();
    let (code, message) = daxlite_tests::error_parts(&err);
    let page = r.text();
    assert!(page.contains(&format!("#{code}</strong>")), "{page}");
    assert!(
        page.contains(&html_escaped(&message)),
        "{message} in {page}"
    );
    // Plain JSON with inferred types saves.
    let r = post(
        server.addr,
        &format!("/console/tables/{t}/item"),
        &[
            ("format", "plain"),
            ("item", r#"{"pk":"a","sk":7,"ok":true}"#),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let got = sdk.scan().table_name(&t).send().await.unwrap();
    assert_eq!(got.items()[0]["ok"], AttributeValue::Bool(true));
    // The item view, then delete needs the confirmation.
    let key = r#"{"pk":{"S":"a"},"sk":{"N":"7"}}"#;
    let view = get(
        server.addr,
        &format!(
            "/console/tables/{t}/item?key={}",
            key.replace('"', "%22")
                .replace('{', "%7B")
                .replace('}', "%7D")
                .replace(':', "%3A")
                .replace(',', "%2C")
        ),
    )
    .await;
    assert_eq!(view.status, 200, "{}", view.text());
    let path = format!("/console/tables/{t}/item/delete");
    assert_eq!(post(server.addr, &path, &[("key", key)]).await.status, 400);
    assert_eq!(
        post(server.addr, &path, &[("key", key), ("confirm", "yes")])
            .await
            .status,
        303
    );
    assert_eq!(sdk.scan().table_name(&t).send().await.unwrap().count(), 0);
    // Cache commands through the console.
    let r = post(
        server.addr,
        "/console/cache/invalidate",
        &[("what", "item"), ("table", &t), ("key", key)],
    )
    .await;
    assert_eq!(r.status, 303);
    assert!(
        location(&r).contains("Invalidated%3A+item"),
        "{}",
        location(&r)
    );
    let r = post(server.addr, "/console/cache/invalidate", &[("what", "all")]).await;
    assert_eq!(r.status, 303);
    server.stop().await;
}

#[tokio::test]
async fn pages_go_forward_and_back_with_limited_requests() {
    let server = TestServer::start(Mode::Cached).await;
    let sdk = server.client();
    let t = create_pk_table(&sdk, "pages", Some(ScalarAttributeType::N)).await;
    for i in 0..7 {
        sdk.put_item()
            .table_name(&t)
            .item("pk", AttributeValue::S("p".into()))
            .item("sk", AttributeValue::N(i.to_string()))
            .send()
            .await
            .unwrap();
    }
    let first_path = format!("/console/tables/{t}/items?mode=query&pk=p&limit=3");
    let href = |page: &str, id: &str| -> Option<String> {
        let at = page.find(&format!("id=\"{id}\""))?;
        let start = page[..at].rfind("href=\"")? + 6;
        Some(page[start..].split('"').next()?.replace("&amp;", "&"))
    };
    let sks = |page: &str| -> Vec<String> {
        page.split("<tr><td>p</td><td>")
            .skip(1)
            .map(|s| s.split('<').next().unwrap().to_string())
            .collect()
    };
    let p1 = get(server.addr, &first_path).await.text();
    assert_eq!(sks(&p1), ["0", "1", "2"]);
    assert!(href(&p1, "prev").is_none());
    assert!(
        p1.contains("&quot;Limit&quot;: 3"),
        "every request is Limit'ed"
    );
    let p2 = get(server.addr, &href(&p1, "next").unwrap()).await.text();
    assert_eq!(sks(&p2), ["3", "4", "5"]);
    let p3 = get(server.addr, &href(&p2, "next").unwrap()).await.text();
    assert_eq!(sks(&p3), ["6"]);
    assert!(href(&p3, "next").is_none());
    let back = get(server.addr, &href(&p3, "prev").unwrap()).await.text();
    assert_eq!(sks(&back), ["3", "4", "5"]);
    let back = get(server.addr, &href(&back, "prev").unwrap()).await.text();
    assert_eq!(sks(&back), ["0", "1", "2"]);
    // A descending query with a sort-key condition, and a scan segment.
    let desc = get(
        server.addr,
        &format!("/console/tables/{t}/items?mode=query&pk=p&sk_op=between&sk=2&sk2=4&order=desc"),
    )
    .await
    .text();
    assert_eq!(sks(&desc), ["4", "3", "2"]);
    let seg = get(
        server.addr,
        &format!("/console/tables/{t}/items?mode=scan&segment=0&segments=1"),
    )
    .await
    .text();
    assert!(seg.contains("&quot;TotalSegments&quot;: 1"));
    server.stop().await;
}

async fn start_beyond_loopback(token: Option<&str>) -> TestServer {
    let mut raw = RawConfig::default();
    raw.server.host = Some("0.0.0.0".into());
    raw.server.port = Some(0);
    raw.storage.in_memory = Some(true);
    raw.admin.token = token.map(str::to_string);
    TestServer::start_with(raw.validate().unwrap(), None).await
}

#[tokio::test]
async fn beyond_loopback_the_console_needs_the_admin_token_or_is_off() {
    let off = start_beyond_loopback(None).await;
    let at = SocketAddr::from(([127, 0, 0, 1], off.addr.port()));
    assert_eq!(get(at, "/console/tables").await.status, 404);
    off.stop().await;

    let on = start_beyond_loopback(Some("s3cret")).await;
    let at = SocketAddr::from(([127, 0, 0, 1], on.addr.port()));
    let r = get(at, "/console/tables").await;
    assert_eq!(r.status, 401);
    assert!(r.text().contains("action=\"/console/login\""));
    assert_eq!(get(at, "/console/api/metrics").await.status, 401);
    let ok = raw_at(
        at,
        "GET",
        "/console/tables",
        &[("authorization", "Bearer s3cret")],
        Vec::new(),
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        post(at, "/console/login", &[("token", "nope")])
            .await
            .status,
        401
    );
    let login = post(at, "/console/login", &[("token", "s3cret")]).await;
    assert_eq!(login.status, 303);
    let cookie = login.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap();
    let ok = raw_at(
        at,
        "GET",
        "/console/tables",
        &[("cookie", pair)],
        Vec::new(),
    )
    .await;
    assert_eq!(ok.status, 200);
    // The DynamoDB API on the same port is untouched.
    assert_eq!(get(at, "/health").await.status, 200);
    on.stop().await;
}

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused() {
    let server = TestServer::start(Mode::Cached).await;
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("origin", "https://evil.example"),
    ];
    let r = raw_at(
        server.addr,
        "POST",
        "/console/cache/invalidate",
        &headers,
        form(&[("what", "all")]),
    )
    .await;
    assert_eq!(r.status, 403);
    let own = format!("http://{}", server.addr);
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("origin", own.as_str()),
    ];
    let r = raw_at(
        server.addr,
        "POST",
        "/console/cache/invalidate",
        &headers,
        form(&[("what", "all")]),
    )
    .await;
    assert_eq!(r.status, 303);
    let metrics: Value = get(server.addr, "/console/api/metrics").await.json();
    assert!(metrics["requests"]["t"].is_array(), "{metrics}");
    server.stop().await;
}

/// The Metrics page counts error answers by their `__type`: a GetItem on a missing table
/// shows up as ResourceNotFoundException within a few samples.
#[tokio::test]
async fn the_metrics_page_counts_errors_by_type() {
    let server = TestServer::start(Mode::Cached).await;
    let sdk = server.client();
    let err = sdk
        .get_item()
        .table_name("console_no_such_table")
        .key("pk", AttributeValue::S("a".into()))
        .send()
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("ResourceNotFoundException"),
        "{err:?}"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let page = get(server.addr, "/console/metrics").await.text();
        let table = page.split("id=\"error-types\"").nth(1).unwrap_or("");
        if table.contains("<td>ResourceNotFoundException</td>") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no ResourceNotFoundException row: {page}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let api: Value = get(server.addr, "/console/api/metrics").await.json();
    assert!(api["errors_by_type"].is_object(), "{api}");
    server.stop().await;
}
