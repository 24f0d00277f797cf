//! The `skiff` binary: parse flags, load config, start the broker.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use tracing::{error, info, warn};

use skiff::broker::Broker;
use skiff::clock::{Clock, SystemClock};
use skiff::config::{BrokerConfig, RawConfig, Source, BROKER_KEYS};

/// A single-binary message broker that speaks the Kafka wire protocol.
///
/// Configuration is read, from lowest to highest precedence, from Kafka's
/// defaults, the --config file, SKIFF_* environment variables
/// (SKIFF_LOG_SEGMENT_BYTES=1048576 sets log.segment.bytes) and flags.
#[derive(Debug, Parser)]
#[command(name = "skiff", version, after_long_help = config_keys_help())]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// TOML config file with Kafka key names (see configs/skiff.toml).
    #[arg(long, env = "SKIFF_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    /// Address to listen on, HOST:PORT (config key `listeners`; port 0 picks a free one).
    #[arg(long, env = "SKIFF_LISTENERS", value_name = "HOST:PORT")]
    listeners: Option<String>,

    /// Address clients are told to connect to (config key `advertised.listeners`).
    #[arg(long, env = "SKIFF_ADVERTISED_LISTENERS", value_name = "HOST:PORT")]
    advertised_listeners: Option<String>,

    /// Directory for all data (config key `log.dirs`).
    #[arg(long, env = "SKIFF_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// HTTP console/API/metrics address, HOST:PORT, or "off" (config key `http.listeners`).
    #[arg(long, value_name = "HOST:PORT")]
    http_listeners: Option<String>,

    /// Set any config key, e.g. --set log.flush.interval.messages=1 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,

    /// Log filter (tracing EnvFilter syntax), e.g. info or skiff=debug.
    #[arg(long, env = "SKIFF_LOG", default_value = "info", value_name = "FILTER")]
    log: String,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Write a local CA (ca.crt), a broker keystore (broker.pem) and a client
    /// certificate (client.crt/client.key/client.pem) into DIR, for TLS in one step.
    DevCerts {
        /// Directory to write the PEM files into (created if missing).
        dir: PathBuf,
        /// Host names or IP addresses the broker certificate is valid for (repeatable).
        #[arg(long = "host", default_values_t = ["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()])]
        hosts: Vec<String>,
    },
}

/// `skiff dev-certs DIR`: writes the files and prints how to use them.
fn dev_certs(dir: &std::path::Path, hosts: &[String]) -> ExitCode {
    match skiff::security::dev_certs::write(dir, hosts) {
        Ok(c) => {
            println!(
                "Wrote a development CA and certificates to {dir}.\n\n\
                 Broker (config file):\n\
                 \x20 listeners = \"PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9093\"\n\
                 \x20 ssl.keystore.location = \"{ks}\"\n\
                 \x20 # for mTLS: ssl.client.auth = \"required\" and ssl.truststore.location = \"{ca}\"\n\n\
                 Clients: security.protocol=SSL, ssl.ca.location={ca}\n\
                 \x20 (Java: ssl.truststore.type=PEM, ssl.truststore.location={ca});\n\
                 \x20 mTLS client certificate: {cc} with key {ck} (or {cp}).",
                dir = dir.display(),
                ks = c.broker_keystore.display(),
                ca = c.ca_cert.display(),
                cc = c.client_cert.display(),
                ck = c.client_key.display(),
                cp = c.client_keystore.display(),
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("skiff dev-certs: {e}: {:?}", std::error::Error::source(&e));
            ExitCode::FAILURE
        }
    }
}

fn config_keys_help() -> String {
    let mut s = String::from("Config keys (Kafka names; --set KEY=VALUE or the config file):\n");
    for k in BROKER_KEYS {
        s.push_str(&format!(
            "  {} (default: {})\n      {}\n",
            k.name,
            k.default.unwrap_or("unset"),
            k.doc
        ));
    }
    s
}

fn load_config(cli: &Cli) -> Result<BrokerConfig, Box<dyn std::error::Error>> {
    let mut raw = RawConfig::default();
    if let Some(path) = &cli.config {
        raw.merge_file(path)?;
    }
    raw.merge_env(std::env::vars());
    if let Some(l) = &cli.listeners {
        raw.set("listeners", l.clone(), Source::Cli);
    }
    if let Some(a) = &cli.advertised_listeners {
        raw.set("advertised.listeners", a.clone(), Source::Cli);
    }
    if let Some(d) = &cli.data_dir {
        raw.set("log.dirs", d.display().to_string(), Source::Cli);
    }
    if let Some(h) = &cli.http_listeners {
        raw.set("http.listeners", h.clone(), Source::Cli);
    }
    for kv in &cli.set {
        raw.merge_set(kv)?;
    }
    for k in raw.unknown_keys() {
        warn!(key = k, "ignoring unknown config key");
    }
    Ok(BrokerConfig::resolve(&raw)?)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::DevCerts { dir, hosts }) = &cli.command {
        return dev_certs(dir, hosts);
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.log)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let config = match load_config(&cli) {
        Ok(c) => c,
        Err(e) => {
            error!("invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            error!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(config))
}

/// A listener bound but not yet serving.
struct Bound {
    listener: skiff::security::Listener,
    tcp: tokio::net::TcpListener,
    addr: std::net::SocketAddr,
}

async fn bind_all(config: &BrokerConfig) -> Result<Vec<Bound>, String> {
    let mut out = Vec::new();
    for l in &config.listeners {
        let bind = format!("{}:{}", l.bind.host, l.bind.port);
        let tcp = tokio::net::TcpListener::bind(&bind)
            .await
            .map_err(|e| format!("cannot listen on {bind} (listener {}): {e}", l.name))?;
        let addr = tcp
            .local_addr()
            .map_err(|e| format!("cannot read the bound address of {bind}: {e}"))?;
        out.push(Bound {
            listener: l.clone(),
            tcp,
            addr,
        });
    }
    Ok(out)
}

/// Adds TLS acceptors and SASL contexts to the bound listeners.
fn secure(bound: Vec<Bound>, broker: &Broker) -> Result<Vec<skiff::server::BoundListener>, String> {
    use skiff::security::sasl::{oauthbearer::Validator, SaslContext};
    let sasl_settings = &broker.config().sasl;
    let ctx = Arc::new(SaslContext {
        store: broker.scram().clone(),
        oauth: Validator::from_settings(sasl_settings)
            .map_err(|e| format!("{e}: {:?}", std::error::Error::source(&e)))?,
        max_reauth_ms: sasl_settings.max_reauth_ms,
    });
    let timeout = Duration::from_millis(sasl_settings.authentication_timeout_ms);
    bound
        .into_iter()
        .map(|b| {
            let tls = match &b.listener.tls {
                None => None,
                Some(settings) => {
                    let config = skiff::security::tls::server_config(settings).map_err(|e| {
                        format!(
                            "listener {}: {e}: {:?}",
                            b.listener.name,
                            std::error::Error::source(&e)
                        )
                    })?;
                    Some(tokio_rustls::TlsAcceptor::from(config))
                }
            };
            let sasl = b
                .listener
                .protocol
                .uses_sasl()
                .then(|| (Arc::new(b.listener.sasl_mechanisms.clone()), ctx.clone()));
            Ok(skiff::server::BoundListener {
                name: b.listener.name.clone(),
                protocol: b.listener.protocol,
                tcp: b.tcp,
                tls,
                sasl,
                authentication_timeout: timeout,
            })
        })
        .collect()
}

async fn run(config: BrokerConfig) -> ExitCode {
    let bound = match bind_all(&config).await {
        Ok(b) => b,
        Err(e) => {
            error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = bound[0].addr;
    let ports: Vec<u16> = bound.iter().map(|b| b.addr.port()).collect();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let data_dir = config.data_dir.clone();
    let broker = match Broker::open(config, clock.clone(), &ports) {
        Ok(b) => Arc::new(b),
        Err(e) => {
            error!(
                "cannot open {}: {e}: {:?}",
                data_dir.display(),
                std::error::Error::source(&e)
            );
            return ExitCode::FAILURE;
        }
    };

    // Certificates and JWKS are read now: a broken TLS setup fails start-up.
    let addrs: Vec<(String, String, std::net::SocketAddr)> = bound
        .iter()
        .map(|b| {
            (
                b.listener.name.clone(),
                b.listener.protocol.to_string(),
                b.addr,
            )
        })
        .collect();
    let listeners = match secure(bound, &broker) {
        Ok(l) => l,
        Err(e) => {
            error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    for (name, protocol, bound_addr) in &addrs {
        info!(
            name = %name,
            protocol = %protocol,
            addr = %bound_addr,
            advertised = %broker.advertised_for(name),
            "listener ready"
        );
    }

    // Time-based flushes and segment rolls.
    let periodic = {
        let broker = broker.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                broker.logs().run_periodic(broker.now_ms());
            }
        })
    };

    // Consumer group deadlines: sessions, join/sync phases, offset expiry.
    let group_timers = broker.groups().spawn_timer_task();
    // Transaction deadlines: timeouts, marker retries, id expiry.
    let txn_timers = broker.txns().spawn_timer_task();

    // The web console, JSON API, /metrics and health checks (own thread).
    let http = match skiff::http::start(broker.clone()) {
        Ok(h) => h,
        Err(e) => {
            error!("{e}: {:?}", std::error::Error::source(&e));
            return ExitCode::FAILURE;
        }
    };

    info!(
        %addr,
        advertised = %broker.advertised(),
        data_dir = %data_dir.display(),
        version = env!("CARGO_PKG_VERSION"),
        "broker ready"
    );
    skiff::server::run(listeners, broker.clone(), async {
        shutdown_signal().await;
        http.mark_stopping();
    })
    .await;
    periodic.abort();
    group_timers.abort();
    txn_timers.abort();
    match broker.logs().flush_all() {
        Ok(()) => {
            info!("shutdown complete: logs and indexes flushed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            error!("flush on shutdown failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => info!("received SIGINT"),
        _ = term => info!("received SIGTERM"),
    }
}
