//! The TCP side of the broker: the accept loop, the connection cap, one task
//! per connection answering its requests strictly in order, and graceful
//! shutdown.
//!
//! Ordering: each connection task reads a frame, lets the broker answer it and
//! only then reads the next, which is how Kafka's SocketServer keeps responses
//! in request order (it mutes a channel until its response is sent). Responses
//! to requests that were already buffered are written together.

mod connection;
mod request_metrics;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

use crate::broker::{Broker, Session};
use crate::protocol::{self, Incoming, ResponseBuf};
pub use connection::{Connection, FrameError};

/// Responses are written once this much is pending even if more requests are queued.
const MAX_PENDING_OUTPUT: usize = 1024 * 1024;
/// How long shutdown waits for connections to finish the request in hand.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Accepts connections on `listener` until `shutdown` resolves, then stops
/// accepting, lets every connection finish the request it is answering and
/// returns.
pub async fn run(
    listener: TcpListener,
    broker: Arc<Broker>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let max_frame = broker.config().socket_request_max_bytes;
    let connection_cap = Arc::new(Semaphore::new(broker.config().max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);

    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = connection_cap.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = accept(&listener) => accepted,
        };
        let broker = broker.clone();
        let stop = stop_rx.clone();
        tasks.spawn(async move {
            serve(stream, peer, broker, max_frame, stop).await;
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

/// Accepts one connection, backing off on errors such as running out of file
/// descriptors instead of spinning or giving up.
async fn accept(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    let mut backoff = Duration::from_millis(10);
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                return (stream, peer);
            }
            Err(e) => {
                error!(error = %e, "accept failed; retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    broker: Arc<Broker>,
    max_frame: usize,
    mut stop: watch::Receiver<bool>,
) {
    let started = Instant::now();
    crate::metrics::global().connection_opened();
    // How Kafka names a client's address in DescribeGroups.
    let session = Session::plaintext(format!("/{}", peer.ip()));
    let mut conn = Connection::new(stream, max_frame);
    let mut out = ResponseBuf::new();
    let mut requests: u64 = 0;
    let mut client: Option<String> = None;

    let reason: String = loop {
        let frame = tokio::select! {
            _ = stop.changed() => break "broker shutting down".into(),
            f = conn.read_frame() => f,
        };
        let frame = match frame {
            Ok(Some(f)) => f,
            Ok(None) => break "closed by client".into(),
            Err(FrameError::Io(e)) => break format!("socket error: {e}"),
            Err(e) => break e.to_string(),
        };
        requests += 1;
        let answered = tokio::select! {
            _ = stop.changed() => break "broker shutting down".into(),
            r = answer(&broker, &session, frame, &mut out, &mut client) => r,
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
    info!(
        %peer,
        client_id = client.as_deref().unwrap_or("-"),
        requests,
        duration_ms = started.elapsed().as_millis() as u64,
        "connection closed: {reason}"
    );
    crate::metrics::global().connection_closed();
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
