//! The server loop: accepts connections (HTTP/1.1 keep-alive and h2; over TLS when
//! `[server] tls_cert` is set, the handshake in each connection's own task), hands each
//! request to the [`Service`], and shuts down gracefully — stop accepting, drain
//! in-flight requests, then close the upstream (which stops the engine cleanly).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::admin::Administer;
use crate::console::Console;
use crate::metrics as m;
use crate::service::Service;
use crate::tls::{SecureTransport, Tls, HANDSHAKE_TIMEOUT};
use crate::upstream::Upstream;

/// How long shutdown waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A running server: its address, and the means to stop it.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// The admin listener's address, when one is configured.
    pub admin_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    /// Background tasks (triggers, stream followers) that end when the server stops.
    tasks: Vec<JoinHandle<()>>,
    /// The TLS settings when serving HTTPS.
    tls: Option<Arc<Tls>>,
}

impl RunningServer {
    /// Stops accepting, drains, closes the upstream, and waits for all of it.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        self.wait().await;
    }

    /// Waits until the server stops (after [`RunningServer::stopper`] was used), with
    /// its background tasks.
    pub async fn wait(self) {
        let _ = self.task.await;
        for t in self.tasks {
            let _ = t.await;
        }
    }

    /// A receiver that fires when the server is told to stop (for background tasks).
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Adds background tasks that end on [`RunningServer::stopping`]; they are awaited
    /// by [`RunningServer::shutdown`] and [`RunningServer::wait`].
    pub fn with_tasks(mut self, tasks: Vec<JoinHandle<()>>) -> Self {
        self.tasks.extend(tasks);
        self
    }

    /// The TLS settings when serving HTTPS (None: plain HTTP).
    pub fn tls(&self) -> Option<&Arc<Tls>> {
        self.tls.as_ref()
    }

    /// A handle that asks the server to stop.
    pub fn stopper(&self) -> watch::Sender<bool> {
        self.stop.clone()
    }
}

/// Serves `service` on `listener` (and the admin endpoints on `admin`, and the web
/// console under `/console/`, if given) until told to stop. Without a console the
/// request path is exactly the service's.
pub fn serve<U: Upstream + Administer>(
    listener: TcpListener,
    admin: Option<(TcpListener, Option<Arc<str>>)>,
    service: Arc<Service<U>>,
    console: Option<Arc<Console>>,
    tls: Option<Arc<Tls>>,
) -> RunningServer {
    let addr = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
    let (stop, mut stopped) = watch::channel(false);
    let admin_addr = admin.as_ref().and_then(|(l, _)| l.local_addr().ok());
    let admin_task = admin.map(|(l, token)| {
        tokio::spawn(crate::admin::serve(
            l,
            Arc::clone(&service),
            stopped.clone(),
            token,
        ))
    });
    let tls_accept = tls.clone();
    let task = tokio::spawn(async move {
        let builder = Builder::new(TokioExecutor::new());
        let graceful = GracefulShutdown::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(conn) => conn,
                        Err(e) => {
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    if let Some(tls) = &tls_accept {
                        serve_tls(tls, stream, peer, &builder, &graceful, &service, console.clone());
                        continue;
                    }
                    let handler = handler(&service, console.clone(), peer, false);
                    let conn = builder.serve_connection(TokioIo::new(stream), handler).into_owned();
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        metrics::gauge!(m::CLIENT_CONNECTIONS).increment(1.0);
                        if let Err(e) = conn.await {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                        metrics::gauge!(m::CLIENT_CONNECTIONS).decrement(1.0);
                    });
                }
                _ = stopped.changed() => break,
            }
        }
        drop(listener);
        if let Some(t) = admin_task {
            let _ = t.await;
        }
        if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("some connections were still open after the drain timeout");
        }
        service.upstream().close();
        tracing::info!("daxlite stopped");
    });
    RunningServer {
        addr,
        admin_addr,
        stop,
        task,
        tasks: Vec::new(),
        tls,
    }
}

/// The per-connection request handler: marks each request with the peer address (for
/// `aws:SourceIp`) and, on TLS, [`SecureTransport`]; sends `/console/` paths to the
/// console when there is one, everything else to the service.
fn handler<U: Upstream + Administer>(
    service: &Arc<Service<U>>,
    console: Option<Arc<Console>>,
    peer: SocketAddr,
    secure: bool,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = crate::service::HttpResponse,
    Error = Infallible,
    Future = impl std::future::Future<Output = Result<crate::service::HttpResponse, Infallible>>
                 + Send
                 + 'static,
> + Clone {
    let svc = Arc::clone(service);
    service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(peer);
        if secure {
            req.extensions_mut().insert(SecureTransport);
        }
        let svc = svc.clone();
        let console = console.clone();
        async move {
            if let Some(c) = console.filter(|_| Console::owns(req.uri().path())) {
                return Ok(c.handle(&svc, req).await);
            }
            Ok::<_, Infallible>(svc.handle(req).await)
        }
    })
}

/// One TLS connection: the handshake (bounded by [`HANDSHAKE_TIMEOUT`]) and then the same
/// HTTP/1.1 or h2 serving as plain connections, in its own task; its requests carry
/// [`SecureTransport`].
fn serve_tls<U: Upstream + Administer>(
    tls: &Tls,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    builder: &Builder<TokioExecutor>,
    graceful: &GracefulShutdown,
    service: &Arc<Service<U>>,
    console: Option<Arc<Console>>,
) {
    let acceptor = tls.acceptor();
    let watcher = graceful.watcher();
    let builder = builder.clone();
    let svc = Arc::clone(service);
    tokio::spawn(async move {
        let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, %peer, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
        };
        let handler = handler(&svc, console, peer, true);
        let conn = builder
            .serve_connection(TokioIo::new(stream), handler)
            .into_owned();
        metrics::gauge!(m::CLIENT_CONNECTIONS).increment(1.0);
        if let Err(e) = watcher.watch(conn).await {
            tracing::debug!(error = %e, "connection ended with an error");
        }
        metrics::gauge!(m::CLIENT_CONNECTIONS).decrement(1.0);
    });
}
