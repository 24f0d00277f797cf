//! The broker as a child process (Skiff, or real Apache Kafka through
//! `compat-tests/kafka-dist/kafka-reference.sh`), and what the bench reads
//! about processes from the OS: `/proc/<pid>/status` (RSS), `/proc/<pid>/stat`
//! (CPU time), free ports, and raw ApiVersions v0 / Metadata v1 exchanges
//! (used to time "first served connection", to see which APIs a broker
//! advertises, and to see that Kafka's broker is unfenced).
//!
//! std only: libc calls (kill, sysconf) are declared here, as the compat
//! harness does, because std already links libc.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
    fn sysconf(name: i32) -> i64;
}
const SIGTERM: i32 = 15;
/// Exit status of a JVM that ran its shutdown hooks after SIGTERM (128 + 15).
const JVM_SIGTERM_EXIT: i32 = 143;
/// `_SC_CLK_TCK` on Linux (glibc and musl).
const SC_CLK_TCK: i32 = 2;

/// How long a broker may take to print its ready line (a debug build that
/// recovers a large data dir is slow; the figure is measured, not bounded).
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// Lines of broker log kept for error messages.
const LOG_TAIL: usize = 200;

// ---------------------------------------------------------------------------
// /proc readers
// ---------------------------------------------------------------------------

/// Memory figures of a process, in KiB, from `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mem {
    /// Resident set size now.
    pub rss_kb: u64,
    /// Peak resident set size (high-water mark) since the process started.
    pub hwm_kb: u64,
    /// Anonymous (heap, stacks) part of the RSS.
    pub anon_kb: u64,
    /// File-backed part of the RSS (mapped segment/index files, the binary).
    pub file_kb: u64,
}

/// `pid` is a number or `"self"`.
pub fn proc_mem(pid: &str) -> Option<Mem> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mut m = Mem::default();
    for line in status.lines() {
        let (key, rest) = match line.split_once(':') {
            Some(kv) => kv,
            None => continue,
        };
        let kb = || -> u64 {
            rest.split_whitespace()
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        match key {
            "VmRSS" => m.rss_kb = kb(),
            "VmHWM" => m.hwm_kb = kb(),
            "RssAnon" => m.anon_kb = kb(),
            "RssFile" => m.file_kb = kb(),
            _ => {}
        }
    }
    (m.rss_kb > 0).then_some(m)
}

/// User + system CPU seconds of all threads of a process so far
/// (`/proc/<pid>/stat` fields 14 and 15). `pid` is a number or `"self"`.
pub fn proc_cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces.
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state): utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / clock_ticks_per_sec())
}

fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf has no preconditions; it returns -1 for an unknown name.
    let t = unsafe { sysconf(SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// Bytes allocated on disk under `dir`, recursively (as `du` counts them):
/// unlike the apparent size this does not count the holes of sparse files
/// (Kafka preallocates 10 MiB sparse index files for every segment).
pub fn dir_alloc_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            match e.metadata() {
                Ok(md) if md.is_dir() => total += dir_alloc_bytes(&e.path()),
                Ok(md) => total += md.blocks() * 512,
                Err(_) => {}
            }
        }
    }
    total
}

/// Bytes under `dir`, recursively (apparent size, as `du -b` counts it).
pub fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            match e.metadata() {
                Ok(md) if md.is_dir() => total += dir_bytes(&e.path()),
                Ok(md) => total += md.len(),
                Err(_) => {}
            }
        }
    }
    total
}

// ---------------------------------------------------------------------------
// Network helpers
// ---------------------------------------------------------------------------

/// A port that was free a moment ago on 127.0.0.1. Used when the bench must
/// know the port before the broker prints it (startup timing).
pub fn free_port() -> io::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Sends ApiVersions v0 on `stream` and returns the advertised
/// `(api_key, min_version, max_version)` list.
pub fn api_versions_on(stream: &mut TcpStream) -> io::Result<Vec<(i16, i16, i16)>> {
    // Request header v1: api_key=18, api_version=0, correlation_id, client_id.
    let client_id = b"skiff-bench";
    let mut req = Vec::with_capacity(32);
    req.extend_from_slice(&18i16.to_be_bytes());
    req.extend_from_slice(&0i16.to_be_bytes());
    req.extend_from_slice(&7i32.to_be_bytes());
    req.extend_from_slice(&(client_id.len() as i16).to_be_bytes());
    req.extend_from_slice(client_id);
    let mut frame = (req.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&req);
    stream.write_all(&frame)?;

    let mut len = [0u8; 4];
    stream.read_exact(&mut len)?;
    let len = i32::from_be_bytes(len);
    if !(10..=1 << 20).contains(&len) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("ApiVersions response size {len}"),
        ));
    }
    let mut body = vec![0u8; len as usize];
    stream.read_exact(&mut body)?;
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let i16_at = |at: usize| -> io::Result<i16> {
        body.get(at..at + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| bad("short ApiVersions response"))
    };
    // correlation_id (4), error_code (2), array length (4), then 6-byte entries.
    if i32::from_be_bytes([body[0], body[1], body[2], body[3]]) != 7 {
        return Err(bad("ApiVersions correlation id mismatch"));
    }
    let error = i16_at(4)?;
    if error != 0 {
        return Err(bad(&format!("ApiVersions error code {error}")));
    }
    let n = i32::from_be_bytes([body[6], body[7], body[8], body[9]]);
    let mut out = Vec::new();
    for k in 0..n.max(0) as usize {
        let at = 10 + 6 * k;
        out.push((i16_at(at)?, i16_at(at + 2)?, i16_at(at + 4)?));
    }
    Ok(out)
}

/// ApiVersions v0 against `addr` (a fresh connection).
pub fn api_versions(addr: &str, timeout: Duration) -> io::Result<Vec<(i16, i16, i16)>> {
    let sa: SocketAddr = resolve(addr)?;
    let mut s = TcpStream::connect_timeout(&sa, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    api_versions_on(&mut s)
}

fn resolve(addr: &str) -> io::Result<SocketAddr> {
    use std::net::ToSocketAddrs;
    addr.to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("cannot resolve {addr}")))
}

/// Whether the advertised API list has the classic consumer-group APIs:
/// FindCoordinator (10), JoinGroup (11), Heartbeat (12), SyncGroup (14).
pub fn has_consumer_groups(apis: &[(i16, i16, i16)]) -> bool {
    [10i16, 11, 12, 14]
        .iter()
        .all(|k| apis.iter().any(|(key, _, _)| key == k))
}

// ---------------------------------------------------------------------------
// The broker process
// ---------------------------------------------------------------------------

/// Timings of one broker start, measured from just before `spawn()`.
#[derive(Debug, Clone, Copy)]
pub struct StartupTiming {
    /// Until the first ApiVersions request on a fresh connection was answered.
    pub first_served: Duration,
    /// Until the `broker ready` line appeared on stderr (Kafka: until
    /// Metadata first listed the broker).
    pub ready_line: Duration,
    /// Just before `spawn()`, for figures taken after the start returned.
    pub spawned: Instant,
}

/// A `skiff` child process. Dropping it kills the process (SIGKILL).
pub struct SkiffProc {
    child: Option<Child>,
    pub addr: String,
    pub pid: u32,
    pub data_dir: PathBuf,
    log: Arc<Mutex<VecDeque<String>>>,
}

impl SkiffProc {
    /// Starts `bin` on `127.0.0.1:port` (0 = ephemeral) with `data_dir` and
    /// extra `--set KEY=VALUE` settings, and waits for its ready line.
    pub fn start(
        bin: &Path,
        data_dir: &Path,
        port: u16,
        sets: &[String],
    ) -> Result<SkiffProc, String> {
        Self::start_inner(bin, data_dir, port, sets, false).map(|(p, _)| p)
    }

    /// Like [`SkiffProc::start`] on a known free port, and measures the time
    /// from spawn to the first served request and to the ready line.
    pub fn start_timed(
        bin: &Path,
        data_dir: &Path,
        sets: &[String],
    ) -> Result<(SkiffProc, StartupTiming), String> {
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let (p, t) = Self::start_inner(bin, data_dir, port, sets, true)?;
        Ok((p, t.expect("timed start measures")))
    }

    fn start_inner(
        bin: &Path,
        data_dir: &Path,
        port: u16,
        sets: &[String],
        probe: bool,
    ) -> Result<(SkiffProc, Option<StartupTiming>), String> {
        if !bin.exists() {
            return Err(format!(
                "broker binary {} not found: run `cargo build --release` (or pass --skiff-bin)",
                bin.display()
            ));
        }
        let mut cmd = Command::new(bin);
        cmd.arg("--listeners")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(data_dir);
        for s in sets {
            cmd.arg("--set").arg(s);
        }
        // The broker reads SKIFF_* variables as config; none may leak in.
        for (var, _) in std::env::vars_os() {
            if var.to_string_lossy().starts_with("SKIFF_") {
                cmd.env_remove(&var);
            }
        }
        cmd.env("SKIFF_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());

        let log: Arc<Mutex<VecDeque<String>>> = Arc::new(Mutex::new(VecDeque::new()));
        let (ready_tx, ready_rx) = mpsc::channel::<(String, Instant)>();
        let spawned = Instant::now();
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot spawn {}: {e}", bin.display()))?;
        let stderr = child.stderr.take().expect("piped stderr");
        let stdout = child.stdout.take().expect("piped stdout");
        {
            let log = log.clone();
            std::thread::spawn(move || drain(stderr, log, Some(ready_tx)));
        }
        {
            let log = log.clone();
            std::thread::spawn(move || drain(stdout, log, None));
        }
        let mut proc_ = SkiffProc {
            pid: child.id(),
            child: Some(child),
            addr: String::new(),
            data_dir: data_dir.to_path_buf(),
            log,
        };

        // Timed start: poll the port until a request is answered.
        let mut first_served = None;
        if probe {
            let child = proc_.child.as_mut().expect("running broker");
            match await_first_served(child, port, spawned) {
                Ok(d) => first_served = Some(d),
                Err(e) => return Err(format!("{e}\n{}", proc_.log_tail())),
            }
        }

        // Every start waits for the ready line (it carries the address).
        let remaining = READY_TIMEOUT.saturating_sub(spawned.elapsed());
        let deadline = Instant::now() + remaining;
        let (addr, ready_at) = loop {
            match ready_rx.recv_timeout(Duration::from_millis(50)) {
                Ok(v) => break v,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Some(status) = proc_.exited() {
                        return Err(format!(
                            "broker exited with {status} before it was ready\n{}",
                            proc_.log_tail()
                        ));
                    }
                    if Instant::now() > deadline {
                        return Err(format!(
                            "no `broker ready ... addr=` line within {READY_TIMEOUT:?}\n{}",
                            proc_.log_tail()
                        ));
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(Duration::from_millis(100));
                    return Err(format!(
                        "broker closed stderr before it was ready (exit: {:?})\n{}",
                        proc_.exited(),
                        proc_.log_tail()
                    ));
                }
            }
        };
        proc_.addr = addr;
        let timing = first_served.map(|fs| StartupTiming {
            first_served: fs,
            ready_line: ready_at.saturating_duration_since(spawned),
            spawned,
        });
        Ok((proc_, timing))
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    pub fn pid_str(&self) -> String {
        self.pid.to_string()
    }

    pub fn mem(&self) -> Option<Mem> {
        proc_mem(&self.pid_str())
    }

    pub fn cpu_secs(&self) -> Option<f64> {
        proc_cpu_secs(&self.pid_str())
    }

    /// The last lines the broker logged.
    pub fn log_tail(&self) -> String {
        let l = self.log.lock().map(|l| l.clone()).unwrap_or_default();
        let mut s = format!("----- last {} broker log lines -----\n", l.len());
        for line in l {
            s.push_str(&line);
            s.push('\n');
        }
        s
    }

    /// Graceful shutdown: SIGTERM, then wait up to 60 s for exit status 0.
    pub fn stop(mut self) -> Result<(), String> {
        let mut child = self.child.take().expect("running broker");
        // SAFETY: kill(2) with a pid we spawned and have not reaped yet.
        let rc = unsafe { kill(child.id() as i32, SIGTERM) };
        if rc != 0 {
            let _ = child.kill();
            let _ = child.wait();
            return Err("kill(SIGTERM) failed".into());
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(format!(
                        "broker exited with {status} after SIGTERM\n{}",
                        self.log_tail()
                    ))
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "broker did not exit within 60 s of SIGTERM\n{}",
                        self.log_tail()
                    ));
                }
            }
        }
    }

    /// Crash: SIGKILL and reap.
    pub fn kill(mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for SkiffProc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Polls 127.0.0.1:`port` until an ApiVersions request on a fresh connection
/// is answered; returns the time since `spawned`. Fails if `child` exits
/// first or after [`READY_TIMEOUT`]. Shared by the Skiff and Kafka starts so
/// both are timed by exactly the same probe.
fn await_first_served(child: &mut Child, port: u16, spawned: Instant) -> Result<Duration, String> {
    let sa: SocketAddr = format!("127.0.0.1:{port}").parse().expect("socket address");
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "broker exited with {status} before serving a request"
            ));
        }
        if spawned.elapsed() > READY_TIMEOUT {
            return Err(format!(
                "broker did not answer ApiVersions within {READY_TIMEOUT:?}"
            ));
        }
        match TcpStream::connect_timeout(&sa, Duration::from_millis(100)) {
            Ok(mut s) => {
                let _ = s.set_nodelay(true);
                let _ = s.set_read_timeout(Some(READY_TIMEOUT));
                if api_versions_on(&mut s).is_ok() {
                    return Ok(spawned.elapsed());
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            Err(_) => std::thread::sleep(Duration::from_micros(200)),
        }
    }
}

/// Sends Metadata v1 for no topics on a fresh connection to `addr` and
/// returns how many brokers the answer lists. A KRaft broker lists only
/// unfenced brokers, so 1 means "ready for clients", not just "listening".
pub fn metadata_broker_count(addr: &str, timeout: Duration) -> io::Result<i32> {
    let sa: SocketAddr = resolve(addr)?;
    let mut s = TcpStream::connect_timeout(&sa, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let client_id = b"skiff-bench";
    let mut req = Vec::with_capacity(32);
    req.extend_from_slice(&3i16.to_be_bytes()); // Metadata
    req.extend_from_slice(&1i16.to_be_bytes()); // v1: null = all, [] = none
    req.extend_from_slice(&9i32.to_be_bytes());
    req.extend_from_slice(&(client_id.len() as i16).to_be_bytes());
    req.extend_from_slice(client_id);
    req.extend_from_slice(&0i32.to_be_bytes()); // topics: []
    let mut frame = (req.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&req);
    s.write_all(&frame)?;
    let mut len = [0u8; 4];
    s.read_exact(&mut len)?;
    let len = i32::from_be_bytes(len);
    if !(8..=1 << 20).contains(&len) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("Metadata response size {len}"),
        ));
    }
    let mut body = vec![0u8; len as usize];
    s.read_exact(&mut body)?;
    if i32::from_be_bytes([body[0], body[1], body[2], body[3]]) != 9 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "Metadata correlation id mismatch",
        ));
    }
    Ok(i32::from_be_bytes([body[4], body[5], body[6], body[7]]))
}

// ---------------------------------------------------------------------------
// Real Apache Kafka, the second reference peer
// ---------------------------------------------------------------------------

/// A real Apache Kafka broker (single-node KRaft, broker+controller in one
/// JVM) run by `kafka-reference.sh run`, which `exec`s the JVM: the child's
/// pid is the broker's pid, so RSS and CPU are read exactly as for Skiff.
/// Dropping it kills the process (SIGKILL).
pub struct KafkaProc {
    child: Option<Child>,
    pub addr: String,
    pub pid: u32,
    /// The script's dir: config, `data/`, `logs/`.
    pub dir: PathBuf,
}

impl KafkaProc {
    /// Writes a config into `dir` (which must not yet hold one), with extra
    /// `KEY=VALUE` broker settings, and formats its KRaft storage. Untimed:
    /// `kafka-storage format` is a separate JVM run before the first start.
    /// Returns the bootstrap address the broker will listen on.
    pub fn prepare(
        script: &Path,
        dir: &Path,
        heap: &str,
        sets: &[String],
    ) -> Result<String, String> {
        let mut cmd = Command::new(script);
        cmd.arg("prepare")
            .arg("--dir")
            .arg(dir)
            .arg("--heap")
            .arg(heap);
        for s in sets {
            cmd.arg("--set").arg(s);
        }
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} prepare failed ({}): {}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("bootstrap=").map(str::to_string))
            .ok_or_else(|| format!("{} prepare printed no bootstrap= line", script.display()))
    }

    /// Starts the broker prepared in `dir` and waits until it is ready for
    /// clients (Metadata lists it). Returns the start-up timing measured from
    /// just before `spawn()`: `first_served` by the same ApiVersions probe
    /// as Skiff's, `ready_line` when Metadata first lists the broker
    /// (Kafka's "unfenced", the counterpart of Skiff's `broker ready`).
    pub fn start(
        script: &Path,
        dir: &Path,
        heap: &str,
    ) -> Result<(KafkaProc, StartupTiming), String> {
        let addr = std::fs::read_to_string(dir.join("port"))
            .ok()
            .and_then(|p| p.trim().parse::<u16>().ok())
            .map(|p| format!("127.0.0.1:{p}"))
            .ok_or_else(|| format!("{} was not prepared (no port file)", dir.display()))?;
        let port: u16 = addr
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or(0);
        let mut cmd = Command::new(script);
        cmd.arg("run").arg("--dir").arg(dir).arg("--heap").arg(heap);
        let out_log = std::fs::File::create(dir.join("logs").join("run.log"))
            .map_err(|e| format!("create {}/logs/run.log: {e}", dir.display()))?;
        let err_log = out_log.try_clone().map_err(|e| format!("run.log: {e}"))?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(out_log))
            .stderr(Stdio::from(err_log));
        let spawned = Instant::now();
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot spawn {}: {e}", script.display()))?;
        let mut p = KafkaProc {
            pid: child.id(),
            child: Some(child),
            addr,
            dir: dir.to_path_buf(),
        };
        let child = p.child.as_mut().expect("running broker");
        let first_served = await_first_served(child, port, spawned)
            .map_err(|e| format!("kafka: {e}\n{}", p.log_tail()))?;
        let ready = loop {
            if let Ok(n) = metadata_broker_count(&p.addr, Duration::from_secs(5)) {
                if n >= 1 {
                    break spawned.elapsed();
                }
            }
            if let Some(status) = p.exited() {
                return Err(format!(
                    "kafka exited with {status} before it was ready\n{}",
                    p.log_tail()
                ));
            }
            if spawned.elapsed() > READY_TIMEOUT {
                return Err(format!(
                    "kafka did not list itself in Metadata within {READY_TIMEOUT:?}\n{}",
                    p.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        Ok((
            p,
            StartupTiming {
                first_served,
                ready_line: ready,
                spawned,
            },
        ))
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    pub fn pid_str(&self) -> String {
        self.pid.to_string()
    }

    pub fn mem(&self) -> Option<Mem> {
        proc_mem(&self.pid_str())
    }

    pub fn cpu_secs(&self) -> Option<f64> {
        proc_cpu_secs(&self.pid_str())
    }

    /// The last lines of the broker's log4j file (and of the JVM's stdout).
    pub fn log_tail(&self) -> String {
        let mut s = String::new();
        for f in ["server.log", "run.log"] {
            let p = self.dir.join("logs").join(f);
            let body = std::fs::read_to_string(&p).unwrap_or_default();
            let lines: Vec<&str> = body.lines().collect();
            let from = lines.len().saturating_sub(LOG_TAIL / 4);
            s.push_str(&format!("----- last lines of {} -----\n", p.display()));
            for l in &lines[from..] {
                s.push_str(l);
                s.push('\n');
            }
        }
        s
    }

    /// Graceful shutdown: SIGTERM, then wait up to 60 s. Kafka's JVM exits
    /// with 143 after its shutdown hook ran; that counts as clean.
    pub fn stop(mut self) -> Result<(), String> {
        let mut child = self.child.take().expect("running broker");
        // SAFETY: kill(2) with a pid we spawned and have not reaped yet.
        let rc = unsafe { kill(child.id() as i32, SIGTERM) };
        if rc != 0 {
            let _ = child.kill();
            let _ = child.wait();
            return Err("kill(SIGTERM) failed".into());
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() || status.code() == Some(JVM_SIGTERM_EXIT) => {
                    return Ok(())
                }
                Ok(Some(status)) => {
                    return Err(format!(
                        "kafka exited with {status} after SIGTERM\n{}",
                        self.log_tail()
                    ))
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "kafka did not exit within 60 s of SIGTERM\n{}",
                        self.log_tail()
                    ));
                }
            }
        }
    }

    /// Crash: SIGKILL and reap.
    pub fn kill(mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for KafkaProc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Bytes of the jars on Kafka's runtime classpath (`classpath.sh` next to
/// the script): Kafka's counterpart of Skiff's binary size, JDK excluded.
pub fn kafka_classpath_bytes(script: &Path) -> Result<u64, String> {
    let cp_script = script.with_file_name("classpath.sh");
    let out = Command::new(&cp_script)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", cp_script.display()))?;
    if !out.status.success() {
        return Err(format!("{} failed ({})", cp_script.display(), out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .trim()
        .split(':')
        .filter_map(|j| std::fs::metadata(j).ok())
        .map(|m| m.len())
        .sum())
}

fn drain(
    stream: impl Read,
    log: Arc<Mutex<VecDeque<String>>>,
    mut ready: Option<mpsc::Sender<(String, Instant)>>,
) {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let line = String::from_utf8_lossy(&buf).trim_end().to_string();
        if ready.is_some() && line.contains("broker ready") {
            if let Some(addr) = parse_ready_addr(&line) {
                let _ = ready.take().unwrap().send((addr, Instant::now()));
            }
        }
        if let Ok(mut l) = log.lock() {
            if l.len() == LOG_TAIL {
                l.pop_front();
            }
            l.push_back(line);
        }
    }
}

/// `... broker ready addr=127.0.0.1:40123 data_dir=/tmp/x` -> `127.0.0.1:40123`.
fn parse_ready_addr(line: &str) -> Option<String> {
    let rest = &line[line.find("addr=")? + "addr=".len()..];
    let addr: String = rest
        .trim_start_matches('"')
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != ',')
        .collect();
    let (_, port) = addr.rsplit_once(':')?;
    port.parse::<u16>().ok().filter(|p| *p != 0)?;
    Some(addr)
}
