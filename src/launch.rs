//! Starting and stopping one whole broker inside this process: bind the Kafka
//! listener, open (recover) the data dir, start the background tasks and the
//! HTTP listener, and on shutdown drain connections and flush every log.
//!
//! The `skiff` binary is a thin shell around this ([`Broker::from_config`]);
//! Rust tests embed a broker the same way ([`Broker::builder`]), like
//! franz-go's `kfake` or librdkafka's mock cluster, but with the real broker:
//!
//! ```no_run
//! # async fn demo() -> Result<(), skiff::LaunchError> {
//! let broker = skiff::Broker::builder().start().await?; // temp dir, ephemeral port
//! let bootstrap = broker.bootstrap(); // "127.0.0.1:PORT" for any Kafka client
//! // ... produce and consume ...
//! broker.shutdown().await?; // flushes, then removes the temp dir
//! # Ok(()) }
//! ```
//!
//! Several brokers may run in one process; they share the process-wide
//! metrics registry and open-file cache, so `/metrics` of one shows the sum.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::{error, info};

use crate::broker;
use crate::clock::{Clock, SystemClock};
use crate::config::{BrokerConfig, ConfigError, RawConfig, Source};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a broker could not start, or did not stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("invalid configuration")]
    Config(#[from] ConfigError),
    #[error("cannot create a temporary data dir")]
    TempDir(#[source] std::io::Error),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the data dir {}", dir.display())]
    Open {
        dir: PathBuf,
        #[source]
        source: BoxError,
    },
    #[error("cannot start the HTTP listener")]
    Http(#[source] BoxError),
    #[error("flush on shutdown failed")]
    Flush(#[source] BoxError),
    #[error("the broker task ended abnormally")]
    Task(#[source] tokio::task::JoinError),
}

/// Configures a broker before [`BrokerBuilder::start`]. Keys are Kafka's
/// names, as in the config file (`log.segment.bytes`, `num.partitions`…).
#[derive(Debug)]
pub struct BrokerBuilder {
    raw: RawConfig,
    /// No `log.dirs` given: use a fresh temp dir, removed when the broker stops.
    temp_data_dir: bool,
    clock: Arc<dyn Clock>,
}

impl BrokerBuilder {
    /// The data dir (`log.dirs`). It is kept after shutdown, so a second broker
    /// started on it recovers what the first wrote.
    pub fn data_dir(mut self, dir: impl AsRef<Path>) -> BrokerBuilder {
        self.raw
            .set("log.dirs", dir.as_ref().display().to_string(), Source::Cli);
        self.temp_data_dir = false;
        self
    }

    /// The Kafka listener, `HOST:PORT` (`listeners`); port 0 picks a free one.
    pub fn listener(self, host_port: &str) -> BrokerBuilder {
        self.set("listeners", host_port)
    }

    /// The HTTP console/API/metrics listener (`http.listeners`), or `"off"`.
    pub fn http_listener(self, host_port: &str) -> BrokerBuilder {
        self.set("http.listeners", host_port)
    }

    /// Any config key, e.g. `.set("auto.create.topics.enable", "false")`.
    pub fn set(mut self, key: &str, value: impl Into<String>) -> BrokerBuilder {
        self.raw.set(key, value, Source::Cli);
        self
    }

    /// Binds, recovers the data dir and starts serving. Returns once clients
    /// can connect.
    pub async fn start(self) -> Result<Broker, LaunchError> {
        let mut raw = self.raw;
        let temp = if self.temp_data_dir {
            let dir = tempfile::Builder::new()
                .prefix("skiff-")
                .tempdir()
                .map_err(LaunchError::TempDir)?;
            raw.set("log.dirs", dir.path().display().to_string(), Source::Cli);
            Some(dir)
        } else {
            None
        };
        let config = BrokerConfig::resolve(&raw)?;
        start(config, self.clock, temp).await
    }
}

/// A running broker. Dropping it without [`Broker::shutdown`] stops it in
/// the background (the runtime must keep running for the flush to finish).
#[derive(Debug)]
pub struct Broker {
    addr: SocketAddr,
    bootstrap: String,
    http_addr: Option<SocketAddr>,
    data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), LaunchError>>>,
}

impl Broker {
    /// A builder with embedding defaults: `127.0.0.1:0`, the HTTP listener
    /// off, and a temporary data dir removed on shutdown unless
    /// [`BrokerBuilder::data_dir`] names one.
    pub fn builder() -> BrokerBuilder {
        let mut raw = RawConfig::default();
        raw.set("listeners", "127.0.0.1:0", Source::Cli);
        raw.set("http.listeners", "off", Source::Cli);
        BrokerBuilder {
            raw,
            temp_data_dir: true,
            clock: Arc::new(SystemClock),
        }
    }

    /// A builder from fully merged configuration (the binary's file, env and
    /// flags), with Kafka's and Skiff's defaults for everything unset.
    pub fn from_config(raw: RawConfig) -> BrokerBuilder {
        BrokerBuilder {
            raw,
            temp_data_dir: false,
            clock: Arc::new(SystemClock),
        }
    }

    /// The `bootstrap.servers` value for clients: the advertised `HOST:PORT`.
    pub fn bootstrap(&self) -> String {
        self.bootstrap.clone()
    }

    /// The address the Kafka listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The HTTP listener's address, when it runs.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// The data dir in use (a temp dir unless one was configured).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Stops accepting, lets each connection finish the request in hand,
    /// flushes every log and (for a temp data dir) removes the dir.
    pub async fn shutdown(mut self) -> Result<(), LaunchError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(LaunchError::Task)?,
            None => Ok(()),
        }
    }

    /// Serves until `signal` resolves, then shuts down (the binary's main loop).
    pub async fn run_until(self, signal: impl Future<Output = ()>) -> Result<(), LaunchError> {
        signal.await;
        self.shutdown().await
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        // The task sees the sender dropped and shuts down by itself.
        self.stop.take();
    }
}

async fn start(
    config: BrokerConfig,
    clock: Arc<dyn Clock>,
    temp: Option<tempfile::TempDir>,
) -> Result<Broker, LaunchError> {
    let bind = format!("{}:{}", config.listener.host, config.listener.port);
    let bind_error = |source| LaunchError::Bind {
        addr: bind.clone(),
        source,
    };
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let data_dir = config.data_dir.clone();
    let state = broker::Broker::open(config, clock, addr.port())
        .map(Arc::new)
        .map_err(|e| LaunchError::Open {
            dir: data_dir.clone(),
            source: Box::new(e),
        })?;

    // Time-based flushes and segment rolls.
    let periodic = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                state.logs().run_periodic(state.now_ms());
            }
        })
    };
    // Consumer group deadlines: sessions, join/sync phases, offset expiry.
    let group_timers = state.groups().spawn_timer_task();
    // Transaction deadlines: timeouts, marker retries, id expiry.
    let txn_timers = state.txns().spawn_timer_task();
    // The web console, JSON API, /metrics and health checks (own thread).
    let http = match crate::http::start(state.clone()) {
        Ok(h) => h,
        Err(e) => {
            periodic.abort();
            group_timers.abort();
            txn_timers.abort();
            return Err(LaunchError::Http(Box::new(e)));
        }
    };
    let http_addr = http.addr();
    let bootstrap = state.advertised().to_string();
    info!(
        %addr,
        advertised = %bootstrap,
        data_dir = %data_dir.display(),
        version = env!("CARGO_PKG_VERSION"),
        "broker ready"
    );

    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        crate::server::run(listener, state.clone(), async {
            // A dropped handle stops the broker as a shutdown call does.
            let _ = stop_rx.await;
            http.mark_stopping();
        })
        .await;
        periodic.abort();
        group_timers.abort();
        txn_timers.abort();
        http.stop();
        let flushed = state.logs().flush_all();
        // Removed only after the flush: the dir is still in use until here.
        drop(temp);
        match flushed {
            Ok(()) => {
                info!("shutdown complete: logs and indexes flushed");
                Ok(())
            }
            Err(e) => {
                error!("flush on shutdown failed: {e}");
                Err(LaunchError::Flush(Box::new(e)))
            }
        }
    });
    Ok(Broker {
        addr,
        bootstrap,
        http_addr,
        data_dir,
        stop: Some(stop_tx),
        task: Some(task),
    })
}
