//! The TCP side of the broker: the accept loop over every listener, the
//! connection cap, one task per connection (TLS handshake, SASL
//! authentication, then its requests answered strictly in order), and
//! graceful shutdown.
//!
//! Ordering: each connection task reads a frame, lets the broker answer it and
//! only then reads the next, which is how Kafka's SocketServer keeps responses
//! in request order (it mutes a channel until its response is sent). Responses
//! to requests that were already buffered are written together.

mod connection;
mod request_metrics;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_protocol::messages::ApiKey;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, error, info, warn};

use crate::broker::{Broker, KafkaPrincipal, Session};
use crate::protocol::{self, Incoming, ResponseBuf};
use crate::security::sasl::{Authenticator, SaslContext, Step};
use crate::security::{tls, SecurityProtocol};
pub use connection::{Connection, FrameError};

/// Responses are written once this much is pending even if more requests are queued.
const MAX_PENDING_OUTPUT: usize = 1024 * 1024;
/// How long shutdown waits for connections to finish the request in hand.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A bound listener and what its connections need: TLS and SASL.
pub struct BoundListener {
    pub name: String,
    pub protocol: SecurityProtocol,
    pub tcp: TcpListener,
    pub tls: Option<TlsAcceptor>,
    /// Enabled mechanisms and the shared credentials (SASL listeners only).
    pub sasl: Option<(Arc<Vec<String>>, Arc<SaslContext>)>,
    /// TLS and SASL must finish within this long.
    pub authentication_timeout: Duration,
}

/// What a connection task keeps of its listener.
struct ListenerInfo {
    name: String,
    protocol: SecurityProtocol,
    tls: Option<TlsAcceptor>,
    sasl: Option<(Arc<Vec<String>>, Arc<SaslContext>)>,
    authentication_timeout: Duration,
}

/// Accepts connections on every listener until `shutdown` resolves, then
/// stops accepting, lets every connection finish the request it is
/// answering and returns.
pub async fn run(
    listeners: Vec<BoundListener>,
    broker: Arc<Broker>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let max_frame = broker.config().socket_request_max_bytes;
    let connection_cap = Arc::new(Semaphore::new(broker.config().max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let (sockets, infos): (Vec<TcpListener>, Vec<Arc<ListenerInfo>>) = listeners
        .into_iter()
        .map(|l| {
            (
                l.tcp,
                Arc::new(ListenerInfo {
                    name: l.name,
                    protocol: l.protocol,
                    tls: l.tls,
                    sasl: l.sasl,
                    authentication_timeout: l.authentication_timeout,
                }),
            )
        })
        .unzip();
    tokio::pin!(shutdown);

    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = connection_cap.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (index, stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = accept(&sockets) => accepted,
        };
        let broker = broker.clone();
        let stop = stop_rx.clone();
        let info = infos[index].clone();
        tasks.spawn(async move {
            serve(stream, peer, broker, info, max_frame, stop).await;
            drop(permit);
        });
        // Reap finished connections so the set does not grow with every client ever seen.
        while tasks.try_join_next().is_some() {}
    }

    info!(
        connections = tasks.len(),
        "shutting down: no longer accepting connections"
    );
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        warn!("connections did not finish within {DRAIN_TIMEOUT:?}; closing them");
        tasks.abort_all();
    }
}

/// Accepts one connection on any listener, backing off on errors such as
/// running out of file descriptors instead of spinning or giving up.
async fn accept(listeners: &[TcpListener]) -> (usize, TcpStream, SocketAddr) {
    let mut backoff = Duration::from_millis(10);
    loop {
        let (index, accepted) = std::future::poll_fn(|cx| {
            for (i, l) in listeners.iter().enumerate() {
                if let std::task::Poll::Ready(r) = l.poll_accept(cx) {
                    return std::task::Poll::Ready((i, r));
                }
            }
            std::task::Poll::Pending
        })
        .await;
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                return (index, stream, peer);
            }
            Err(e) => {
                error!(error = %e, "accept failed; retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// Source of `Session::connection_id` (0 is left for "no connection").
static NEXT_CONNECTION_ID: AtomicU64 = AtomicU64::new(1);

async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    broker: Arc<Broker>,
    listener: Arc<ListenerInfo>,
    max_frame: usize,
    stop: watch::Receiver<bool>,
) {
    let started = Instant::now();
    crate::metrics::global().connection_opened();
    // How Kafka names a client's address in DescribeGroups.
    let mut session = Session::plaintext(format!("/{}", peer.ip()));
    session.listener = listener.name.clone();
    session.connection_id = NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed);
    let auth_deadline = tokio::time::Instant::now() + listener.authentication_timeout;
    let outcome = match &listener.tls {
        None => {
            serve_connection(
                stream,
                &broker,
                &listener,
                session,
                max_frame,
                stop,
                auth_deadline,
            )
            .await
        }
        Some(acceptor) => {
            match tokio::time::timeout_at(auth_deadline, acceptor.accept(stream)).await {
                Err(_) => Outcome::closed("TLS handshake did not finish in time"),
                Ok(Err(e)) => Outcome::closed(format!("TLS handshake failed: {e}")),
                Ok(Ok(tls)) => {
                    if listener.protocol == SecurityProtocol::Ssl {
                        // SASL_SSL clients are named by SASL, SSL clients by their certificate.
                        if let Some(dn) = tls::principal_name(tls.get_ref().1.peer_certificates()) {
                            session.principal = KafkaPrincipal::user(dn);
                        }
                    }
                    serve_connection(
                        tls,
                        &broker,
                        &listener,
                        session,
                        max_frame,
                        stop,
                        auth_deadline,
                    )
                    .await
                }
            }
        }
    };
    info!(
        %peer,
        listener = %listener.name,
        principal = %outcome.principal,
        client_id = outcome.client.as_deref().unwrap_or("-"),
        requests = outcome.requests,
        duration_ms = started.elapsed().as_millis() as u64,
        "connection closed: {}",
        outcome.reason
    );
    crate::metrics::global().connection_closed();
}

/// How a connection ended, for its closing log line.
struct Outcome {
    reason: String,
    principal: KafkaPrincipal,
    client: Option<String>,
    requests: u64,
}

impl Outcome {
    fn closed(reason: impl Into<String>) -> Outcome {
        Outcome {
            reason: reason.into(),
            principal: KafkaPrincipal::anonymous(),
            client: None,
            requests: 0,
        }
    }
}

/// Largest frame read before SASL authentication succeeded (Kafka's
/// `sasl.server.max.receive.size` default).
const MAX_SASL_FRAME: usize = 512 * 1024;

/// Whether a frame is a SaslHandshake request (a KIP-368 re-authentication
/// when it comes on an authenticated SASL connection).
fn is_sasl_handshake(frame: &[u8]) -> bool {
    frame.len() >= 2 && i16::from_be_bytes([frame[0], frame[1]]) == ApiKey::SaslHandshake as i16
}

async fn serve_connection<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    broker: &Broker,
    listener: &ListenerInfo,
    mut session: Session,
    max_frame: usize,
    mut stop: watch::Receiver<bool>,
    auth_deadline: tokio::time::Instant,
) -> Outcome {
    let mut conn = Connection::new(stream, max_frame);
    let mut out = ResponseBuf::new();
    let mut requests: u64 = 0;
    let mut client: Option<String> = None;
    let mut sasl = listener
        .sasl
        .as_ref()
        .map(|(mechanisms, ctx)| Authenticator::new(mechanisms.clone(), ctx.clone()));
    // Until authenticated every frame goes to the authenticator.
    let mut authenticating = sasl.is_some();
    let mut session_expiry_ms: Option<i64> = None;
    if authenticating {
        conn.set_max_frame(max_frame.min(MAX_SASL_FRAME));
    }

    let idle = broker.config().connections_max_idle;
    let reason: String = loop {
        let frame = tokio::select! {
            _ = stop.changed() => break "broker shutting down".into(),
            _ = tokio::time::sleep_until(auth_deadline), if authenticating => {
                break format!(
                    "SASL authentication did not finish within {} ms",
                    listener.authentication_timeout.as_millis()
                );
            }
            // Reset per request: the loop reads again only once the
            // previous request is answered, so this measures idle time.
            _ = idle_timeout(idle), if !authenticating => {
                break format!(
                    "idle for more than connections.max.idle.ms ({} ms)",
                    idle.map_or(0, |d| d.as_millis())
                );
            }
            f = conn.read_frame() => f,
        };
        let frame = match frame {
            Ok(Some(f)) => f,
            Ok(None) => break "closed by client".into(),
            Err(FrameError::Io(e)) => break format!("socket error: {e}"),
            Err(e) => break e.to_string(),
        };
        requests += 1;
        let now_ms = broker.now_ms();
        if let Some(auth) = sasl.as_mut() {
            if !authenticating {
                if session_expiry_ms.is_some_and(|exp| now_ms >= exp) {
                    // As Kafka: a request after the session expired closes the connection.
                    break "SASL session expired without re-authentication".into();
                }
                if is_sasl_handshake(&frame) {
                    auth.begin_reauthentication(session.principal.name.clone());
                    authenticating = true;
                }
            }
        }
        let answered = match sasl.as_mut().filter(|_| authenticating) {
            Some(auth) => match auth.on_frame(frame.clone(), &mut out, now_ms) {
                Step::Forward => answer(broker, &session, frame, &mut out, &mut client).await,
                Step::Continue => Ok(()),
                Step::Authenticated {
                    principal,
                    session_expiry_ms: expiry,
                } => {
                    debug!(principal, listener = %listener.name, "authenticated");
                    session.principal = KafkaPrincipal::user(principal);
                    session_expiry_ms = expiry;
                    authenticating = false;
                    conn.set_max_frame(max_frame);
                    Ok(())
                }
                Step::Fail(reason) => Err(format!("SASL authentication failed: {reason}")),
            },
            None => {
                tokio::select! {
                    _ = stop.changed() => break "broker shutting down".into(),
                    r = answer(broker, &session, frame, &mut out, &mut client) => r,
                }
            }
        };
        if let Err(reason) = answered {
            // Whatever was answered before the bad frame still goes out.
            if !out.is_empty() {
                let _ = conn.write_response(&mut out).await;
            }
            break reason;
        }
        if !out.is_empty() && (!conn.has_complete_frame() || out.len() >= MAX_PENDING_OUTPUT) {
            if let Err(e) = conn.write_response(&mut out).await {
                break format!("socket error: {e}");
            }
        }
    };
    // As Kafka: the share sessions this connection opened end with it,
    // releasing the records their members hold.
    broker.shares().close_connection(session.connection_id);
    Outcome {
        reason,
        principal: session.principal,
        client,
        requests,
    }
}

/// Resolves after `idle`, never when `None` (`connections.max.idle.ms=-1`).
async fn idle_timeout(idle: Option<std::time::Duration>) {
    match idle {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// Decodes one frame, lets the broker answer it and appends the response frame
/// (if any) to `out`. An `Err` closes the connection with that reason.
async fn answer(
    broker: &Broker,
    session: &Session,
    frame: bytes::Bytes,
    out: &mut ResponseBuf,
    client: &mut Option<String>,
) -> Result<(), String> {
    match protocol::decode_request(frame) {
        Ok(Incoming::Request(request)) => {
            if client.is_none() {
                client.clone_from(&request.client_id);
            }
            let api_key = request.api_key;
            let version = request.version;
            let correlation_id = request.correlation_id;
            debug!(
                api = protocol::name_of(api_key),
                version, correlation_id, "request"
            );
            let handled_at = Instant::now();
            let handled = broker.handle(request, session).await;
            request_metrics::record(
                api_key,
                handled_at,
                handled.as_ref().ok().and_then(Option::as_ref),
            );
            match handled {
                Ok(Some(body)) => {
                    protocol::encode_response(out, api_key, version, correlation_id, &body)
                        .map_err(|e| e.to_string())
                }
                Ok(None) => Ok(()),
                Err(e) => Err(format!(
                    "{} v{version} failed: {e}",
                    protocol::name_of(api_key)
                )),
            }
        }
        Ok(Incoming::UnsupportedApiVersions { correlation_id }) => {
            protocol::encode_unsupported_api_versions(out, correlation_id, broker.api_versions())
                .map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    }
}
