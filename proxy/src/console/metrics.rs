//! The Metrics page: request rate per operation, latency percentiles per operation and
//! outcome, errors by operation and class (client 4xx, server 5xx, throttled) and by
//! `__type`, and the capacity units consumed per table, over the last minutes, from the
//! sampler's ring; redrawn every second from `/console/api/metrics`.

use std::fmt::Write;

use http::StatusCode;
use serde_json::json;

use super::page::{self, esc, HttpResponse};
use super::sampler::{self, Ring, EVERY, KEEP};

pub fn page(ring: &Ring) -> HttpResponse {
    let last = ring.last().unwrap_or_default();
    let mut body = format!(
        "<p class=\"hint\">Sampled every {} s; the last {} minutes are kept in memory ({} samples now).</p>\
<div class=\"charts\" data-source=\"/console/api/metrics\">\
<figure><figcaption>Requests per second, by operation</figcaption><svg class=\"chart\" data-chart=\"requests\" viewBox=\"0 0 600 160\" role=\"img\" aria-label=\"request rate chart\"></svg></figure>\
<figure><figcaption>p99 latency (ms), by operation and outcome</figcaption><svg class=\"chart\" data-chart=\"p99\" viewBox=\"0 0 600 160\" role=\"img\" aria-label=\"latency chart\"></svg></figure>\
<figure><figcaption>Errors per second: client (4xx), server (5xx), throttled</figcaption><svg class=\"chart\" data-chart=\"errors\" viewBox=\"0 0 600 160\" role=\"img\" aria-label=\"errors chart\"></svg></figure>\
</div>",
        EVERY.as_secs(),
        KEEP as u64 * EVERY.as_secs() / 60,
        ring.len()
    );
    body.push_str(
        "<h2>By operation (since start)</h2><table class=\"grid\" id=\"operations\"><thead><tr><th>Operation</th>\
<th class=\"num\">Requests</th><th class=\"num\">Client errors</th><th class=\"num\">Server errors</th><th class=\"num\">Throttled</th></tr></thead><tbody>",
    );
    for (op, n) in &last.requests {
        let get = |m: &std::collections::BTreeMap<String, u64>| m.get(op).copied().unwrap_or(0);
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"num\">{n}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(op),
            get(&last.client_errors),
            get(&last.server_errors),
            get(&last.throttled)
        );
    }
    body.push_str("</tbody></table><h2>Latency (last minute)</h2><table class=\"grid\" id=\"latency\"><thead><tr><th>Operation</th><th>Outcome</th>\
<th class=\"num\">p50 ms</th><th class=\"num\">p90 ms</th><th class=\"num\">p99 ms</th></tr></thead><tbody>");
    for (k, q) in &last.latency {
        let (op, outcome) = k.split_once(' ').unwrap_or((k, ""));
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{:.3}</td><td class=\"num\">{:.3}</td><td class=\"num\">{:.3}</td></tr>",
            esc(op), esc(outcome), q.p50, q.p90, q.p99
        );
    }
    body.push_str("</tbody></table><h2>Errors by type (since start)</h2><table class=\"grid\" id=\"error-types\"><thead><tr><th>Type</th><th class=\"num\">Answers</th></tr></thead><tbody>");
    for (t, n) in &last.errors_by_type {
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"num\">{n}</td></tr>",
            esc(t)
        );
    }
    body.push_str("</tbody></table><h2>Capacity consumed (since start)</h2>");
    if last.consumed.is_empty() {
        body.push_str("<p class=\"hint\" id=\"capacity-off\">No capacity recorded: set <code>[capacity] series = true</code> \
(or register an auto scaling target) to record the units each table consumes.</p>");
    } else {
        body.push_str("<table class=\"grid\" id=\"capacity\"><thead><tr><th>Table</th><th>Axis</th><th class=\"num\">Units</th></tr></thead><tbody>");
        for (k, n) in &last.consumed {
            let (table, axis) = k.rsplit_once(' ').unwrap_or((k, ""));
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{n}</td></tr>",
                esc(table),
                esc(axis)
            );
        }
        body.push_str("</tbody></table>");
    }
    page::html(
        StatusCode::OK,
        page::layout("Metrics", "/console/metrics", &body),
    )
}

pub fn api(ring: &Ring) -> HttpResponse {
    let last = ring.last().unwrap_or_default();
    let p99 = {
        let keys: Vec<String> = last.latency.keys().cloned().collect();
        let series: serde_json::Map<String, serde_json::Value> = keys
            .iter()
            .map(|k| {
                let g = ring.gauge(KEEP, |s| s.latency.get(k).map(|q| q.p99));
                (k.clone(), g)
            })
            .collect();
        serde_json::Value::Object(series)
    };
    page::json(
        StatusCode::OK,
        &json!({
            "requests": ring.rates(KEEP, |s| &s.requests),
            "client_errors": ring.rates(KEEP, |s| &s.client_errors),
            "server_errors": ring.rates(KEEP, |s| &s.server_errors),
            "throttled": ring.rates(KEEP, |s| &s.throttled),
            "errors_by_type": ring.rates(KEEP, |s| &s.errors_by_type),
            "consumed": ring.rates(KEEP, |s| &s.consumed),
            "p99": p99,
            "latency": sampler::latency_json(&last),
        }),
    )
}
