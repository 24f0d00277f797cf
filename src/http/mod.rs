//! The HTTP listener: a web console (`/`), the JSON API behind it (`/api/…`),
//! Prometheus metrics (`/metrics`) and health checks (`/healthz`, `/readyz`).
//!
//! Deps: broker, storage, group, record, config, metrics (like a handler
//! module, never the reverse: nothing below `main` knows this module exists).
//!
//! # Why its own runtime thread
//!
//! The listener runs on a dedicated OS thread with a current-thread tokio
//! runtime. Its work (reading a page of messages from disk, decompressing
//! batches, walking every partition for a scrape) is synchronous storage I/O
//! and CPU; on the Kafka runtime it would occupy the worker threads that
//! answer Produce and Fetch. On one separate thread it can use at most one
//! core and never blocks a Kafka connection task; the storage calls it makes
//! take the same short per-partition locks a Fetch does.
//!
//! # Limits
//!
//! At most [`MAX_CONNECTIONS`] connections, request heads up to
//! [`MAX_HEAD_BYTES`], bodies up to [`MAX_BODY_BYTES`], [`HEAD_TIMEOUT`] to
//! send the head and [`REQUEST_TIMEOUT`] per request; a message page holds at
//! most `api::MAX_PAGE` messages and reads at most `api::MAX_PAGE_READ_BYTES`.
//!
//! # Safety of state-changing requests
//!
//! POST and DELETE need a JSON body or no body (so a cross-site form cannot
//! send them without a CORS preflight, which is never answered), a matching
//! `Origin` when one is sent, and are refused when `http.read.only` is set.

mod api;
mod assets;
mod basic_auth;
mod messages;
mod prometheus;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::{Notify, Semaphore};
use tracing::{debug, info, warn};

use crate::broker::Broker;
use crate::config::Source;

/// Most HTTP connections served at once; more wait in the accept queue.
pub const MAX_CONNECTIONS: usize = 64;
/// Largest request head (request line + headers).
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Largest request body (a produced test message, a create-topic form).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Time a client has to send a request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Time one request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the HTTP listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot listen on {addr} (http.listeners)")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the HTTP thread")]
    Thread(#[source] std::io::Error),
}

/// State shared by the HTTP handlers.
#[derive(Debug)]
pub(crate) struct AppState {
    pub broker: Arc<Broker>,
    pub ready: AtomicBool,
    pub read_only: bool,
    pub http_addr: Option<SocketAddr>,
}

/// A running (or disabled) HTTP listener.
#[derive(Debug)]
pub struct HttpServer {
    addr: Option<SocketAddr>,
    state: Option<Arc<AppState>>,
    /// Ends the listener thread (an embedded broker shuts down without the process exiting).
    stop: Arc<Notify>,
}

impl HttpServer {
    /// The bound address; `None` when disabled or not bound.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// From now on `/readyz` answers 503 (the broker is shutting down).
    pub fn mark_stopping(&self) {
        if let Some(s) = &self.state {
            s.ready.store(false, Ordering::Release);
        }
    }

    /// Stops accepting and ends the listener thread; requests in flight are dropped.
    pub fn stop(&self) {
        self.mark_stopping();
        self.stop.notify_one();
    }
}

/// Binds `http.listeners` and serves it on its own thread. Call once the
/// broker has recovered its data and the Kafka listener is bound: `/readyz`
/// answers 200 from then on. Logs `http ready addr=IP:PORT`.
///
/// A bind failure is an error when `http.listeners` was configured; with the
/// built-in default it is only a warning (a second local broker, or a test
/// suite running brokers in parallel, must not fail because port 8092 is taken).
pub fn start(broker: Arc<Broker>) -> Result<HttpServer, HttpError> {
    let Some(hp) = broker.config().http_listener.clone() else {
        info!("http listener disabled (http.listeners is empty or off)");
        return Ok(HttpServer {
            addr: None,
            state: None,
            stop: Arc::new(Notify::new()),
        });
    };
    let explicit = broker
        .config()
        .entries
        .iter()
        .any(|e| e.key.name == "http.listeners" && e.source != Source::Default);
    let bind = hp.to_string();
    let listener = match std::net::TcpListener::bind(&bind) {
        Ok(l) => l,
        Err(source) if !explicit => {
            warn!(addr = %bind, error = %source, "http listener not started: cannot bind the default address");
            return Ok(HttpServer {
                addr: None,
                state: None,
                stop: Arc::new(Notify::new()),
            });
        }
        Err(source) => return Err(HttpError::Bind { addr: bind, source }),
    };
    let addr = listener.local_addr().map_err(|source| HttpError::Bind {
        addr: bind.clone(),
        source,
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| HttpError::Bind {
            addr: bind.clone(),
            source,
        })?;
    let state = Arc::new(AppState {
        read_only: broker.config().http_read_only,
        broker,
        ready: AtomicBool::new(true),
        http_addr: Some(addr),
    });
    let router = router(state.clone());
    let stop = Arc::new(Notify::new());
    let stopped = stop.clone();
    std::thread::Builder::new()
        .name("skiff-http".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    warn!(error = %e, "http listener stopped: cannot build its runtime");
                    return;
                }
            };
            rt.block_on(async move {
                match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => tokio::select! {
                        _ = serve(l, router) => {}
                        _ = stopped.notified() => debug!("http listener stopped"),
                    },
                    Err(e) => warn!(error = %e, "http listener stopped"),
                }
            });
        })
        .map_err(HttpError::Thread)?;
    info!(read_only = state.read_only, "http ready addr={addr}");
    Ok(HttpServer {
        addr: Some(addr),
        state: Some(state),
        stop,
    })
}

/// The routes (public for in-process tests).
pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/console.js", get(assets::script))
        .route("/console.css", get(assets::style))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(prometheus::metrics))
        .merge(api::routes())
        .fallback(|| async {
            api::ApiError::new(StatusCode::NOT_FOUND, "no such page").into_response()
        })
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        // Outside `guard`: credentials are checked before anything else.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            basic_auth::require,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn readyz(State(s): State<Arc<AppState>>) -> Response {
    if s.ready.load(Ordering::Acquire) {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response()
    }
}

/// Request timeout, cross-origin and read-only checks, security headers.
async fn guard(State(s): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if changes_state {
        if let Err(e) = check_origin(&req) {
            return e.into_response();
        }
        if s.read_only && req.uri().path().starts_with("/api/") {
            return api::ApiError::new(
                StatusCode::FORBIDDEN,
                "read-only console: http.read.only is set",
            )
            .into_response();
        }
    }
    let mut resp = match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(r) => r,
        Err(_) => {
            api::ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "request timed out").into_response()
        }
    };
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The console runs only its own script; data is inserted as text, and the
    // policy forbids inline scripts in case that ever regresses.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    resp
}

/// A state-changing request must carry JSON (or nothing) and, when the
/// browser names an `Origin`, come from this very host.
fn check_origin(req: &Request) -> Result<(), api::ApiError> {
    let headers = req.headers();
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
        if host.is_empty() || origin_host != host {
            return Err(api::ApiError::new(
                StatusCode::FORBIDDEN,
                "cross-origin request refused",
            ));
        }
    }
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        if !ct.to_str().unwrap_or("").starts_with("application/json") {
            return Err(api::ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected Content-Type: application/json",
            ));
        }
    }
    Ok(())
}

/// Accept loop: a connection cap, and hyper's HTTP/1 server with a bounded
/// head size and a head read timeout.
async fn serve(listener: tokio::net::TcpListener, router: Router) {
    let cap = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = cap.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(a) => a,
            Err(e) => {
                warn!(error = %e, "http accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .max_buf_size(MAX_HEAD_BYTES)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                debug!(%peer, error = %e, "http connection ended");
            }
            drop(permit);
        });
    }
}

/// A plain-text or JSON body with a content type.
fn typed(content_type: &'static str, body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}
