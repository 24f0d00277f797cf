//! `tls`: what TLS and SASL cost. One Skiff with three listeners
//! (PLAINTEXT, SSL, SASL_SSL with SCRAM-SHA-512; certificates from
//! `skiff dev-certs`) in one run, and the same produce and consume job over
//! each: MB/s, broker CPU per GB and the client's (the bench process, where
//! librdkafka does its own TLS) CPU per GB, so the broker's TLS cost can be
//! read against the client's. Rows `tls-produce-<size>-<protocol>` and
//! `tls-consume-<size>-<protocol>`.

use std::path::Path;

use super::clients::{self, ProduceJob};
use super::procs::SkiffProc;
use super::{
    check_produce, consume_measurement, cpu_self, fill, temp_data_dir, throughput, topic_name,
    Family, Outcome, Runner, ScenarioResult,
};

const USER: &str = "bench";
const PASSWORD: &str = "bench-secret";
/// Partitions of each topic: several connections' worth of work is not the
/// point here, the per-byte cost is; 4 keeps the client busy enough.
const PARTITIONS: i32 = 4;
const PROTOCOLS: [&str; 3] = ["PLAINTEXT", "SSL", "SASL_SSL"];

/// `listener ready name=SSL protocol=SSL addr=127.0.0.1:4711` lines of the log.
fn listener_addr(log: &str, name: &str) -> Option<String> {
    log.lines()
        .filter(|l| l.contains("listener ready"))
        .find(|l| {
            l.split_whitespace()
                .any(|w| w.trim_matches('"') == format!("name={name}"))
        })
        .and_then(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("addr="))
                .map(|a| a.trim_matches('"').to_string())
        })
}

/// The librdkafka settings of `protocol` (none for PLAINTEXT).
fn client_settings(protocol: &str, ca: &Path) -> Vec<(String, String)> {
    let mut s = vec![("security.protocol".to_string(), protocol.to_string())];
    if protocol.ends_with("SSL") {
        s.push(("ssl.ca.location".into(), ca.display().to_string()));
    }
    if protocol.starts_with("SASL") {
        s.push(("sasl.mechanism".into(), "SCRAM-SHA-512".into()));
        s.push(("sasl.username".into(), USER.into()));
        s.push(("sasl.password".into(), PASSWORD.into()));
    }
    s
}

/// Writes the dev certificates with the broker binary itself.
fn dev_certs(bin: &Path, dir: &Path) -> Result<(), String> {
    let out = std::process::Command::new(bin)
        .arg("dev-certs")
        .arg(dir)
        .output()
        .map_err(|e| format!("run skiff dev-certs: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "skiff dev-certs failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

impl Runner<'_> {
    /// The whole `tls` scenario: six rows.
    pub(super) fn tls(&mut self, size: usize, count: u64) -> Vec<ScenarioResult> {
        let rows = |outcome: &dyn Fn(&str, &str) -> Outcome| -> Vec<ScenarioResult> {
            ["produce", "consume"]
                .iter()
                .flat_map(|what| {
                    PROTOCOLS.iter().map(move |p| ScenarioResult {
                        name: format!("tls-{what}-{}-{}", size_label(size), row_label(p)),
                        family: if *what == "produce" {
                            Family::Produce
                        } else {
                            Family::Consume
                        },
                        skiff: outcome(what, p),
                        mock: Outcome::NotApplicable,
                        kafka: Outcome::NotApplicable,
                    })
                })
                .collect()
        };
        if self.opts.bootstrap.is_some() {
            return rows(&|_, _| {
                Outcome::Skipped("the TLS bench starts its own broker (not --bootstrap)".into())
            });
        }
        match self.tls_run(size, count) {
            Ok(mut results) => {
                let mut out = rows(&|_, _| Outcome::NotApplicable);
                for r in &mut out {
                    if let Some(pos) = results.iter().position(|(n, _)| *n == r.name) {
                        r.skiff = results.swap_remove(pos).1;
                    }
                }
                out
            }
            Err(e) => rows(&|_, _| Outcome::Failed(e.clone())),
        }
    }

    fn tls_run(&mut self, size: usize, count: u64) -> Result<Vec<(String, Outcome)>, String> {
        let certs = temp_data_dir("tls-certs")?;
        dev_certs(&self.opts.skiff_bin, certs.path())?;
        let ca = certs.path().join("ca.crt");
        let dir = temp_data_dir("skiff-tls")?;
        let sets = [
            "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0"
                .to_string(),
            format!(
                "ssl.keystore.location={}",
                certs.path().join("broker.pem").display()
            ),
            "sasl.enabled.mechanisms=SCRAM-SHA-512".to_string(),
            format!("sasl.users={USER}:{PASSWORD}"),
            "http.listeners=off".to_string(),
        ];
        let p = SkiffProc::start(&self.opts.skiff_bin, dir.path(), 0, &sets)?;
        let res = self.tls_jobs(&p, &ca, size, count);
        clients::set_security(Vec::new());
        let stopped = p.stop();
        let res = res?;
        stopped?;
        Ok(res)
    }

    fn tls_jobs(
        &mut self,
        p: &SkiffProc,
        ca: &Path,
        size: usize,
        count: u64,
    ) -> Result<Vec<(String, Outcome)>, String> {
        let log = p.log_tail();
        let plain = listener_addr(&log, "PLAINTEXT")
            .ok_or_else(|| format!("no PLAINTEXT listener line\n{log}"))?;
        let admin = clients::admin(&plain)?;
        let mut out = Vec::new();
        for what in ["produce", "consume"] {
            for protocol in PROTOCOLS {
                let name = format!("tls-{what}-{}-{}", size_label(size), row_label(protocol));
                let addr = listener_addr(&log, protocol)
                    .ok_or_else(|| format!("no {protocol} listener line\n{log}"))?;
                let topic = topic_name("tls");
                clients::create_topic(&admin, &topic, PARTITIONS)?;
                let outcome = if what == "produce" {
                    produce_over(p, &addr, &topic, ca, protocol, size, count)
                } else {
                    fill(&plain, &topic, PARTITIONS, count, size)
                        .and_then(|()| consume_over(p, &addr, &topic, ca, protocol, size, count))
                };
                clients::set_security(Vec::new());
                if let Err(e) = clients::delete_topic(&admin, &topic) {
                    eprintln!("[skiff-bench] warning: {e}");
                }
                let outcome = outcome.map_or_else(Outcome::Failed, |mut m| {
                    m.note = format!("{protocol}, {PARTITIONS} partitions");
                    Outcome::Measured(m)
                });
                out.push((name, outcome));
            }
        }
        Ok(out)
    }
}

fn produce_over(
    p: &SkiffProc,
    addr: &str,
    topic: &str,
    ca: &Path,
    protocol: &str,
    size: usize,
    count: u64,
) -> Result<super::Measurement, String> {
    let job = ProduceJob {
        topic: topic.to_string(),
        partitions: PARTITIONS,
        count,
        size,
        acks: "1",
        compression: "none",
        idempotent: false,
        // Connections (and the TLS and SASL handshakes) are up before the clock starts.
        warmup: true,
    };
    clients::set_security(client_settings(protocol, ca));
    let (b0, c0) = (p.cpu_secs(), cpu_self());
    let st = clients::produce(addr, &job);
    let (b1, c1) = (p.cpu_secs(), cpu_self());
    let st = st?;
    let (arrived, note) = check_produce(addr, topic, PARTITIONS, count, &st, false, true)?;
    Ok(throughput(
        count,
        arrived,
        size,
        st.secs,
        b0.zip(b1).map(|(a, b)| b - a),
        Some(c1 - c0),
        note,
    ))
}

fn consume_over(
    p: &SkiffProc,
    addr: &str,
    topic: &str,
    ca: &Path,
    protocol: &str,
    size: usize,
    count: u64,
) -> Result<super::Measurement, String> {
    clients::set_security(client_settings(protocol, ca));
    let (b0, c0) = (p.cpu_secs(), cpu_self());
    let st = clients::consume(addr, topic, PARTITIONS, count, size, false, None);
    let (b1, c1) = (p.cpu_secs(), cpu_self());
    let st = st?;
    Ok(consume_measurement(
        &st,
        count,
        size,
        false,
        b0.zip(b1).map(|(a, b)| b - a),
        Some(c1 - c0),
    ))
}

fn size_label(size: usize) -> String {
    if size >= 1024 && size.is_multiple_of(1024) {
        format!("{}k", size / 1024)
    } else {
        format!("{size}b")
    }
}

fn row_label(protocol: &str) -> String {
    protocol.to_ascii_lowercase().replace('_', "-")
}
