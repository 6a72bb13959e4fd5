//! The limit server: a minimal hyper HTTP/1.1 server that answers every request with the
//! same GetItem answer (the item `--item-size` bytes big) and DynamoDB's response headers,
//! without parsing anything. Its CPU per request is the floor for any DynamoDB server on
//! this machine; the others are reported as ratios to it.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;

use crate::cli::LimitArgs;

/// The GetItem answer for an item of `item_size` bytes, as the bench's workload shapes it.
pub fn body(item_size: usize) -> Bytes {
    let args = crate::cli::BenchArgs {
        item_size,
        ..default_bench_args()
    };
    let w = crate::workload::Workload::new(&args);
    Bytes::from(json!({ "Item": w.item(0, 0) }).to_string())
}

fn default_bench_args() -> crate::cli::BenchArgs {
    use clap::Parser;
    #[derive(Parser)]
    struct Only {
        #[command(flatten)]
        bench: crate::cli::BenchArgs,
    }
    match Only::try_parse_from(["x"]) {
        Ok(o) => o.bench,
        Err(e) => panic!("default bench arguments do not parse: {e}"),
    }
}

/// Serves until killed; prints `limit server listening on http://ADDR` once bound.
pub fn main(args: &LimitArgs) -> Result<(), String> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(t) = args.threads {
        builder.worker_threads(t.max(1));
    }
    let runtime = builder
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    runtime.block_on(serve(args.port, body(args.item_size)))
}

async fn serve(port: u16, body: Bytes) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .map_err(|e| format!("bind: {e}"))?;
    let addr = listener.local_addr().map_err(|e| format!("bind: {e}"))?;
    println!(
        "limit server listening on http://{addr} ({} byte answers)",
        body.len()
    );
    let crc = crc32fast::hash(&body).to_string();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        let crc = crc.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let body = body.clone();
                let crc = crc.clone();
                async move {
                    // Read the request like any server must, then answer.
                    let _ = req.into_body().collect().await;
                    let resp = hyper::Response::builder()
                        .header("content-type", "application/x-amz-json-1.0")
                        .header(
                            "x-amzn-requestid",
                            "LIMITSERVER0000000000000000000000000000000000000000000",
                        )
                        .header("x-amz-crc32", crc)
                        .body(Full::new(body))
                        .unwrap_or_default();
                    Ok::<_, Infallible>(resp)
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn body_is_a_getitem_answer_of_about_the_item_size() {
        let b = super::body(200);
        assert!(b.starts_with(br#"{"Item":{"#));
        assert!((220..300).contains(&b.len()), "{}", b.len());
    }
}
