//! The Cache page: size against budget, hit ratio per table, hits / misses / evictions
//! per second and latency percentiles by outcome, redrawn every second from
//! `/console/api/cache` (the sampler's ring); and invalidation of an item, a table or
//! everything, through the same [`Administer`] commands as the admin listener.

use std::fmt::Write;

use http::StatusCode;
use serde_json::{json, Value};

use super::page::{self, enc, esc, HttpResponse};
use super::sampler::{self, Ring};
use super::tables::bytes;
use super::Req;
use crate::admin::{Administer, Command};
use crate::service::Service;
use crate::upstream::Upstream;

/// Seconds of history the charts show.
const WINDOW: usize = 120;

pub async fn page<U: Upstream + Administer>(
    svc: &Service<U>,
    ring: &Ring,
    req: &Req,
) -> HttpResponse {
    let mut body = req.get("done").map(page::notice).unwrap_or_default();
    let Some(stats) = svc.admin(Command::Stats).await.map(|a| a.body) else {
        body.push_str(&page::notice(
            "There is no cache in front of the upstream ([cache] enabled = false).",
        ));
        return page::html(
            StatusCode::OK,
            page::layout("Cache", "/console/cache", &body),
        );
    };
    let n = |k: &str| stats.get(k).and_then(Value::as_u64).unwrap_or(0);
    let last = ring.last().unwrap_or_default();
    let _ = write!(
        body,
        "<section class=\"cards\"><div class=\"card\"><h2>Size</h2><p><span id=\"cache-bytes\">{}</span> of <span id=\"max-bytes\">{}</span> \
(<span id=\"utilization\">{:.1}</span> %)</p><meter id=\"cache-meter\" min=\"0\" max=\"{}\" value=\"{}\"></meter>\
<p><span id=\"entries\">{}</span> entries · consistency {}</p></div>\
<div class=\"card\"><h2>Evicted</h2><p><span id=\"evicted\">{}</span> by size or expiry</p></div></section>",
        bytes(n("cache_bytes")),
        bytes(n("max_bytes")),
        stats.get("cache_memory_utilization").and_then(Value::as_f64).unwrap_or(0.0) * 100.0,
        n("max_bytes"),
        n("cache_bytes"),
        n("entries"),
        esc(stats.get("consistency").and_then(Value::as_str).unwrap_or_default()),
        bytes(last.evicted.get("bytes").copied().unwrap_or(0)),
    );
    body.push_str(
        "<h2>Hit ratio by table</h2><table class=\"grid\" id=\"ratios\"><thead><tr><th>Table</th><th class=\"num\">Hits</th>\
<th class=\"num\">Misses</th><th class=\"num\">Hit ratio</th></tr></thead><tbody>",
    );
    for (table, hits, misses) in ratios(&last) {
        let _ = write!(
            body,
            "<tr data-table=\"{t}\"><td>{t}</td><td class=\"num\">{hits}</td><td class=\"num\">{misses}</td><td class=\"num ratio\">{}</td></tr>",
            ratio_text(hits, misses),
            t = esc(&table)
        );
    }
    body.push_str("</tbody></table>");
    body.push_str(
        "<div class=\"charts\" data-source=\"/console/api/cache\">\
<figure><figcaption>Hit ratio per second, by table</figcaption><svg class=\"chart\" data-chart=\"ratio\" viewBox=\"0 0 600 160\" role=\"img\" aria-label=\"hit ratio chart\"></svg></figure>\
<figure><figcaption>Hits and misses per second</figcaption><svg class=\"chart\" data-chart=\"hits\" viewBox=\"0 0 600 160\" role=\"img\" aria-label=\"hits and misses chart\"></svg></figure>\
<figure><figcaption>Cache bytes (budget: the top line)</figcaption><svg class=\"chart\" data-chart=\"bytes\" viewBox=\"0 0 600 160\" role=\"img\" aria-label=\"cache size chart\"></svg></figure>\
<figure><figcaption>Evicted bytes and invalidations per second</figcaption><svg class=\"chart\" data-chart=\"evictions\" viewBox=\"0 0 600 160\" role=\"img\" aria-label=\"evictions chart\"></svg></figure>\
</div><h2>Latency by outcome (last minute)</h2><table class=\"grid\" id=\"latency\"><thead><tr><th>Operation</th><th>Outcome</th>\
<th class=\"num\">p50 ms</th><th class=\"num\">p90 ms</th><th class=\"num\">p99 ms</th><th class=\"num\">Requests</th></tr></thead><tbody>",
    );
    for (k, q) in &last.latency {
        let (op, outcome) = k.split_once(' ').unwrap_or((k, ""));
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{:.3}</td><td class=\"num\">{:.3}</td><td class=\"num\">{:.3}</td><td class=\"num\">{}</td></tr>",
            esc(op), esc(outcome), q.p50, q.p90, q.p99, q.count
        );
    }
    body.push_str("</tbody></table>");
    body.push_str(&invalidate_forms());
    page::html(
        StatusCode::OK,
        page::layout("Cache", "/console/cache", &body),
    )
}

fn invalidate_forms() -> String {
    "<h2>Invalidate</h2><div class=\"cards\">\
<form method=\"post\" action=\"/console/cache/invalidate\" class=\"card\" id=\"invalidate-item\"><input type=\"hidden\" name=\"what\" value=\"item\">\
<label>Table <input name=\"table\" required></label><label>Key (DynamoDB JSON) <input name=\"key\" required placeholder='{\"pk\":{\"S\":\"a\"}}'></label>\
<button type=\"submit\">Invalidate item</button></form>\
<form method=\"post\" action=\"/console/cache/invalidate\" class=\"card\" id=\"invalidate-table\"><input type=\"hidden\" name=\"what\" value=\"table\">\
<label>Table <input name=\"table\" required></label><button type=\"submit\">Invalidate table</button></form>\
<form method=\"post\" action=\"/console/cache/invalidate\" class=\"card\" id=\"invalidate-all\" data-confirm=\"Empty the whole cache?\">\
<input type=\"hidden\" name=\"what\" value=\"all\"><p>Every cached item and page.</p><button type=\"submit\" class=\"danger\">Invalidate everything</button></form></div>"
        .into()
}

/// (table, hits, misses), cumulative since start.
fn ratios(s: &sampler::Sample) -> Vec<(String, u64, u64)> {
    let mut tables: Vec<&String> = s.hits.keys().chain(s.misses.keys()).collect();
    tables.sort();
    tables.dedup();
    tables
        .into_iter()
        .map(|t| {
            (
                t.clone(),
                s.hits.get(t).copied().unwrap_or(0),
                s.misses.get(t).copied().unwrap_or(0),
            )
        })
        .collect()
}

fn ratio_text(hits: u64, misses: u64) -> String {
    match hits + misses {
        0 => "–".into(),
        all => format!("{:.1} %", hits as f64 * 100.0 / all as f64),
    }
}

pub fn api(ring: &Ring) -> HttpResponse {
    let last = ring.last().unwrap_or_default();
    let tables: Vec<Value> = ratios(&last)
        .into_iter()
        .map(|(t, h, m)| json!({ "table": t, "hits": h, "misses": m, "ratio": ratio_text(h, m) }))
        .collect();
    let stat = |k: &'static str| {
        move |s: &sampler::Sample| {
            s.cache
                .as_ref()
                .and_then(|c| c.get(k))
                .and_then(Value::as_f64)
        }
    };
    page::json(
        StatusCode::OK,
        &json!({
            "cache": last.cache,
            "tables": tables,
            "hits": ring.rates(WINDOW, |s| &s.hits),
            "misses": ring.rates(WINDOW, |s| &s.misses),
            "evicted": ring.rates(WINDOW, |s| &s.evicted),
            "invalidations": ring.rates(WINDOW, |s| &s.invalidations),
            "bytes": ring.gauge(WINDOW, stat("cache_bytes")),
            "max_bytes": ring.gauge(WINDOW, stat("max_bytes")),
            "latency": sampler::latency_json(&last),
        }),
    )
}

pub async fn invalidate<U: Upstream + Administer>(svc: &Service<U>, req: &Req) -> HttpResponse {
    let table = req.get("table").unwrap_or_default().to_string();
    let cmd = match req.get("what") {
        Some("all") => Ok(Command::Flush),
        Some("table") => Ok(Command::InvalidateTable { table }),
        Some("item") => match req.get("key").map(serde_json::from_str::<Value>) {
            Some(Ok(key)) if key.is_object() => Ok(Command::InvalidateItem { table, key }),
            _ => {
                Err("Key must be a DynamoDB JSON object such as {\"pk\":{\"S\":\"a\"}}".to_string())
            }
        },
        _ => Err("what must be item, table or all".to_string()),
    };
    let answer = match cmd {
        Ok(cmd) => svc.admin(cmd).await,
        Err(m) => Some(crate::admin::Answer::bad(400, m)),
    };
    match answer {
        Some(a) if a.status == 200 => {
            let what = a
                .body
                .get("invalidated")
                .and_then(Value::as_str)
                .unwrap_or("all");
            let t = a
                .body
                .get("TableName")
                .and_then(Value::as_str)
                .map(|t| format!(" of {t}"))
                .unwrap_or_default();
            page::redirect(&format!(
                "/console/cache?done={}",
                enc(&format!("Invalidated: {what}{t}."))
            ))
        }
        Some(a) => {
            let m = a
                .body
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("refused")
                .to_string();
            let body = format!("{}{}", page::notice(&m), invalidate_forms());
            page::html(
                StatusCode::from_u16(a.status).unwrap_or(StatusCode::BAD_REQUEST),
                page::layout("Cache", "/console/cache", &body),
            )
        }
        None => page::html(
            StatusCode::NOT_FOUND,
            page::layout(
                "Cache",
                "/console/cache",
                &page::notice("There is no cache in front of the upstream."),
            ),
        ),
    }
}
