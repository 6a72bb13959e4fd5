//! The server loop: accepts connections (HTTP/1.1 keep-alive and h2; over TLS when
//! `[server] tls_cert` is set, the handshake in each connection's own task), hands each
//! request to the [`Service`], and shuts down gracefully — stop accepting, drain
//! in-flight requests, then close the upstream (which stops the engine cleanly).
//! `[limits]` adds its gates here (`crate::overload`): the connection cap before accept,
//! the first-byte and header read timeouts per connection, the in-flight bounds per request.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::admin::Administer;
use crate::console::Console;
use crate::metrics as m;
use crate::overload::{Admission, Gates, Limits};
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
    limits: &Limits,
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
    let gates = Gates::new(limits);
    let first_byte = limits.header_read_timeout;
    let mut builder = Builder::new(TokioExecutor::new());
    if let Some(t) = limits.header_read_timeout {
        // hyper panics on a header timeout without a timer.
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(t);
    }
    let task = tokio::spawn(async move {
        let graceful = GracefulShutdown::new();
        loop {
            // `[limits] max_connections`: wait for a slot before accepting (the kernel's
            // backlog holds the rest).
            let slot = tokio::select! {
                slot = gates.connection_slot() => slot,
                _ = stopped.changed() => break,
            };
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
                    let conn = Conn {
                        builder: builder.clone(),
                        watcher: graceful.watcher(),
                        service: Arc::clone(&service),
                        console: console.clone(),
                        admission: gates.admission(),
                        slot,
                        peer,
                    };
                    tokio::spawn(conn.run(stream, tls_accept.clone(), first_byte));
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

/// The per-connection request handler: admits the request by `[limits]` (ThrottlingException
/// at once beyond a bound), marks it with the peer address (for `aws:SourceIp`) and, on TLS,
/// [`SecureTransport`]; sends `/console/` paths to the console when there is one,
/// everything else to the service.
fn handler<U: Upstream + Administer>(
    service: &Arc<Service<U>>,
    console: Option<Arc<Console>>,
    peer: SocketAddr,
    secure: bool,
    admission: Admission,
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
        let admitted = admission.try_admit();
        req.extensions_mut().insert(peer);
        if secure {
            req.extensions_mut().insert(SecureTransport);
        }
        let svc = svc.clone();
        let console = console.clone();
        async move {
            let Some(_admitted) = admitted else {
                return Ok(svc.overloaded(req.headers()));
            };
            if let Some(c) = console.filter(|_| Console::owns(req.uri().path())) {
                return Ok(c.handle(&svc, req).await);
            }
            Ok::<_, Infallible>(svc.handle(req).await)
        }
    })
}

/// One accepted connection and what serving it needs.
struct Conn<U> {
    builder: Builder<TokioExecutor>,
    watcher: hyper_util::server::graceful::Watcher,
    service: Arc<Service<U>>,
    console: Option<Arc<Console>>,
    admission: Admission,
    /// The `[limits] max_connections` slot, held until the connection ends.
    slot: Option<tokio::sync::OwnedSemaphorePermit>,
    peer: SocketAddr,
}

impl<U: Upstream + Administer> Conn<U> {
    /// Serves the connection in its own task: over TLS, the handshake first (bounded by
    /// [`HANDSHAKE_TIMEOUT`]); in plain HTTP, with `[limits] header_read_timeout`, the
    /// first byte must arrive within it (hyper's own timer covers the rest of each head);
    /// then HTTP/1.1 or h2.
    async fn run(
        self,
        stream: tokio::net::TcpStream,
        tls: Option<Arc<Tls>>,
        first: Option<Duration>,
    ) {
        let peer = self.peer;
        match tls {
            Some(tls) => {
                let acceptor = tls.acceptor();
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(s)) => self.serve(s, true).await,
                    Ok(Err(e)) => tracing::debug!(error = %e, %peer, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                }
            }
            None => {
                if let Some(limit) = first {
                    let mut byte = [0u8; 1];
                    if !matches!(
                        tokio::time::timeout(limit, stream.peek(&mut byte)).await,
                        Ok(Ok(_))
                    ) {
                        tracing::debug!(%peer, "no request within header_read_timeout");
                        return;
                    }
                }
                self.serve(stream, false).await
            }
        }
    }

    async fn serve<S>(self, stream: S, secure: bool)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let handler = handler(
            &self.service,
            self.console,
            self.peer,
            secure,
            self.admission,
        );
        let conn = self
            .builder
            .serve_connection(TokioIo::new(stream), handler)
            .into_owned();
        metrics::gauge!(m::CLIENT_CONNECTIONS).increment(1.0);
        if let Err(e) = self.watcher.watch(conn).await {
            tracing::debug!(error = %e, "connection ended with an error");
        }
        metrics::gauge!(m::CLIENT_CONNECTIONS).decrement(1.0);
        drop(self.slot);
    }
}
