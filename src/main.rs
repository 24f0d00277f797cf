//! The `skiff` binary: parse flags, load config, start the broker.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tracing::{error, info, warn};

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

fn load_config(cli: &Cli) -> Result<RawConfig, Box<dyn std::error::Error>> {
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
    // Validated here too so a bad value exits with status 2 before anything starts.
    BrokerConfig::resolve(&raw)?;
    Ok(raw)
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

async fn run(raw: RawConfig) -> ExitCode {
    let shutdown = shutdown_signal();
    let broker = match skiff::Broker::from_config(raw).start().await {
        Ok(b) => b,
        Err(e) => {
            error!("{}", error_chain(&e));
            return ExitCode::FAILURE;
        }
    };
    match broker.run_until(shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{}", error_chain(&e));
            ExitCode::FAILURE
        }
    }
}

/// "outer: inner: root cause", so one log line says what went wrong and why.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled: a SIGTERM that arrives while
/// the broker is still starting (or just after "broker ready") then shuts it
/// down cleanly instead of killing the process.
#[cfg(unix)]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate()).ok();
    let int = signal(SignalKind::interrupt()).ok();
    async move {
        let wait = |s: Option<tokio::signal::unix::Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = wait(int) => info!("received SIGINT"),
            _ = wait(term) => info!("received SIGTERM"),
        }
    }
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        info!("received SIGINT");
    }
}
