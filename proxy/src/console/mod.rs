//! The web console at `/console/` on the main port (`[console]`, docs/CONSOLE.md):
//! server-rendered pages with a little vanilla JavaScript, assets embedded in the binary.
//! Every DynamoDB call goes through the same [`Upstream`] as client requests; cache
//! commands go through [`Administer`], as the admin listener's do.
//!
//! This file owns the routing and the guard; each page is its own module.

mod cache;
mod create;
mod ddb;
mod forms;
mod guard;
mod item;
mod items;
mod metrics;
mod page;
mod partiql;
pub mod sampler;
mod streams;
mod tables;
mod triggers;
mod types;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};

use http::{header, HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::admin::{Administer, Command};
use crate::config::ConsoleConfig;
use crate::service::Service;
use crate::triggers::TriggerConfig;
use crate::upstream::Upstream;

pub use page::HttpResponse;

/// The largest console request body read (an item is at most 400 KB).
const MAX_BODY: usize = 2 * 1024 * 1024;

/// The console's state: the token it requires and the sampled history.
pub struct Console {
    token: Option<String>,
    ring: sampler::Ring,
    /// `[[trigger]]`s, for the stream page's trigger status.
    triggers: Vec<TriggerConfig>,
    /// The embedded engine (where triggers save their positions), when there is one.
    engine: OnceLock<daxlite_engine::Engine>,
}

/// One decoded console request.
pub struct Req {
    pub method: Method,
    /// The path below `/console/`, percent-decoded per segment.
    pub segments: Vec<String>,
    pub query: HashMap<String, String>,
    pub form: HashMap<String, String>,
}

impl Req {
    /// A query or form value, trimmed; empty is absent.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.form
            .get(k)
            .or_else(|| self.query.get(k))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }
}

impl Console {
    /// The console when `[console]` turned it on.
    pub fn new(config: &ConsoleConfig, triggers: &[TriggerConfig]) -> Option<Arc<Console>> {
        config.enabled.then(|| {
            Arc::new(Console {
                token: config.token.clone(),
                ring: sampler::Ring::default(),
                triggers: triggers.to_vec(),
                engine: OnceLock::new(),
            })
        })
    }

    /// Whether `path` is the console's.
    pub fn owns(path: &str) -> bool {
        path == "/console" || path.starts_with("/console/")
    }

    /// Answers one console request.
    pub async fn handle<U: Upstream + Administer>(
        &self,
        svc: &Service<U>,
        req: http::Request<Incoming>,
    ) -> HttpResponse {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path();
        let rest = path
            .strip_prefix("/console")
            .unwrap_or_default()
            .trim_start_matches('/');
        let segments: Vec<String> = rest
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        // The stylesheet and script need no token (they hold no data).
        if let [a, file] = segments.as_slice() {
            if a == "assets" {
                return match file.as_str() {
                    "console.css" => page::asset("text/css; charset=utf-8", page::CSS),
                    "console.js" => page::asset("text/javascript; charset=utf-8", page::JS),
                    _ => page::not_found("no such asset"),
                };
            }
        }
        if !guard::same_origin(&parts.method, &parts.headers) {
            return page::html(
                StatusCode::FORBIDDEN,
                page::layout(
                    "Forbidden",
                    "",
                    "<p>This form was posted from another site's page.</p>",
                ),
            );
        }
        let body = match Limited::new(body, MAX_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => {
                return page::html(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    page::layout(
                        "Too large",
                        "",
                        "<p>Console requests are limited to 2 MiB.</p>",
                    ),
                )
            }
        };
        let req = Req {
            method: parts.method.clone(),
            query: page::decode_form(parts.uri.query().unwrap_or_default().as_bytes()),
            form: if parts.method == Method::POST {
                page::decode_form(&body)
            } else {
                HashMap::new()
            },
            segments,
        };
        if segments_are(&req, &["login"]) {
            return self.login(&req);
        }
        if !guard::authorized(&parts.headers, self.token.as_deref()) {
            return self.login_form(StatusCode::UNAUTHORIZED, None);
        }
        self.route(svc, &req).await
    }

    async fn route<U: Upstream + Administer>(&self, svc: &Service<U>, req: &Req) -> HttpResponse {
        let up = svc.upstream();
        let seg: Vec<&str> = req.segments.iter().map(String::as_str).collect();
        let post = req.method == Method::POST;
        match (post, seg.as_slice()) {
            (false, []) => page::redirect("/console/tables"),
            (false, ["tables"]) => tables::list(up, req).await,
            (true, ["tables"]) => create::create(up, req).await,
            (false, ["tables", t]) => tables::detail(up, t).await,
            (true, ["tables", t, "delete"]) => tables::delete(up, t, req).await,
            (false, ["tables", t, "items"]) => items::browse(up, t, req).await,
            (false, ["tables", t, "export"]) => items::export(up, t, req).await,
            (false, ["tables", t, "item"]) => item::view(up, t, req).await,
            (true, ["tables", t, "item"]) => item::save(up, t, req).await,
            (true, ["tables", t, "item", "delete"]) => item::delete(up, t, req).await,
            (false, ["tables", t, "stream"]) => streams::page(self, up, t).await,
            (false, ["api", "stream"]) => streams::poll(up, req).await,
            (false, ["partiql"]) => partiql::page(up, req).await,
            (true, ["partiql"]) => partiql::run(up, req).await,
            (false, ["cache"]) => cache::page(svc, &self.ring, req).await,
            (false, ["api", "cache"]) => cache::api(&self.ring),
            (true, ["cache", "invalidate"]) => cache::invalidate(svc, req).await,
            (false, ["metrics"]) => metrics::page(&self.ring),
            (false, ["api", "metrics"]) => metrics::api(&self.ring),
            _ => page::not_found("There is no console page here."),
        }
    }

    fn login(&self, req: &Req) -> HttpResponse {
        let Some(token) = self.token.as_deref() else {
            return page::redirect("/console/tables");
        };
        if req.method != Method::POST {
            return self.login_form(StatusCode::OK, None);
        }
        let given = req.get("token").unwrap_or_default();
        let mut headers = http::HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&format!("{}={given}", guard::COOKIE)) {
            headers.insert(header::COOKIE, v);
        }
        if !guard::authorized(&headers, Some(token)) {
            return self.login_form(StatusCode::UNAUTHORIZED, Some("That is not the token."));
        }
        let mut resp = page::redirect("/console/tables");
        let cookie = format!(
            "{}={given}; Path=/console; HttpOnly; SameSite=Strict",
            guard::COOKIE
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().insert(header::SET_COOKIE, v);
        }
        resp
    }

    fn login_form(&self, status: StatusCode, error: Option<&str>) -> HttpResponse {
        let error = error.map(page::notice).unwrap_or_default();
        page::html(
            status,
            page::layout(
                "Sign in",
                "",
                &format!(
                    "{error}<p>This console needs the <code>[admin] token</code>.</p>\
<form method=\"post\" action=\"/console/login\"><label>Token <input type=\"password\" name=\"token\" autofocus required></label> \
<button type=\"submit\">Sign in</button></form>"
                ),
            ),
        )
    }
}

fn segments_are(req: &Req, want: &[&str]) -> bool {
    req.segments.len() == want.len() && req.segments.iter().zip(want).all(|(a, b)| a == b)
}

fn percent_decode(s: &str) -> String {
    // Path segments: `+` is a literal plus, unlike in forms.
    page::decode_form(format!("v={}", s.replace('+', "%2B")).as_bytes())
        .remove("v")
        .unwrap_or_default()
}

/// Starts the sampler: once a second, the recorder's counters and the cache's statistics
/// into the console's ring, until `stop`. Only started when the console is on.
pub fn spawn_sampler<U: Upstream + Administer>(
    console: Arc<Console>,
    service: Weak<Service<U>>,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let prometheus = crate::metrics::prometheus();
        let mut tick = tokio::time::interval(sampler::EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => break,
            }
            let Some(svc) = service.upgrade() else { break };
            svc.upstream().refresh_gauges();
            let text = prometheus.as_ref().map(|p| p.render()).unwrap_or_default();
            let mut sample = sampler::parse(&text, sampler::now_ms());
            sample.cache = svc.admin(Command::Stats).await.map(|a| a.body);
            console.ring.push(sample);
        }
    })
}
