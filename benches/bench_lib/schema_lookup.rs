//! `schema-lookup-by-id`: the built-in Schema Registry answering
//! `GET /schemas/ids/{id}` (what a serializer's cold start asks for) over
//! keep-alive HTTP/1.1 connections. The registry serves from one thread, so
//! the figure is requests per second on one core; the broker's CPU seconds
//! over the run are reported beside it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Registered schemas the lookups cycle through.
const SCHEMAS: i64 = 100;
/// Concurrent client connections (threads).
pub const CLIENTS: u64 = 4;

/// One keep-alive connection to the registry.
struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn open(addr: &str) -> Result<Conn, String> {
        let s = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        let writer = s.try_clone().map_err(|e| e.to_string())?;
        Ok(Conn {
            reader: BufReader::new(s),
            writer,
        })
    }

    /// One request; returns (status, body).
    fn call(&mut self, method: &str, path: &str, body: &str) -> Result<(u16, String), String> {
        let req = if body.is_empty() {
            format!("{method} {path} HTTP/1.1\r\nHost: bench\r\n\r\n")
        } else {
            format!(
                "{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        self.writer
            .write_all(req.as_bytes())
            .map_err(|e| e.to_string())?;
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {line:?}"))?;
        let mut len = 0usize;
        loop {
            line.clear();
            self.reader
                .read_line(&mut line)
                .map_err(|e| e.to_string())?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().map_err(|_| format!("bad length {v:?}"))?;
                }
            }
        }
        let mut buf = vec![0; len];
        self.reader
            .read_exact(&mut buf)
            .map_err(|e| e.to_string())?;
        Ok((status, String::from_utf8_lossy(&buf).into_owned()))
    }
}

/// Registers the schemas, then runs `count` lookups by id from
/// [`CLIENTS`] threads. Returns (ok answers, seconds).
pub fn run(addr: &str, count: u64) -> Result<(u64, f64), String> {
    let mut c = Conn::open(addr)?;
    let mut ids = Vec::new();
    for i in 0..SCHEMAS {
        let schema =
            format!(r#"{{"type":"record","name":"R{i}","fields":[{{"name":"f","type":"long"}}]}}"#);
        let body = format!("{{\"schema\":{}}}", serde_json_string(&schema));
        let (status, answer) = c.call("POST", &format!("/subjects/bench-{i}/versions"), &body)?;
        if status != 200 {
            return Err(format!("register: {status} {answer}"));
        }
        let id = answer
            .split("\"id\":")
            .nth(1)
            .and_then(|r| r.split([',', '}']).next())
            .and_then(|n| n.trim().parse::<i64>().ok())
            .ok_or_else(|| format!("no id in {answer}"))?;
        ids.push(id);
    }
    let per = count.div_ceil(CLIENTS);
    let start = Instant::now();
    let handles: Vec<_> = (0..CLIENTS)
        .map(|t| {
            let addr = addr.to_string();
            let ids = ids.clone();
            std::thread::spawn(move || -> Result<u64, String> {
                let mut c = Conn::open(&addr)?;
                let mut ok = 0;
                for n in 0..per {
                    let id = ids[((n + t) % ids.len() as u64) as usize];
                    let (status, body) = c.call("GET", &format!("/schemas/ids/{id}"), "")?;
                    if status == 200 && body.contains("\"schema\"") {
                        ok += 1;
                    }
                }
                Ok(ok)
            })
        })
        .collect();
    let mut ok = 0;
    for h in handles {
        ok += h
            .join()
            .map_err(|_| "lookup thread panicked".to_string())??;
    }
    Ok((ok, start.elapsed().as_secs_f64()))
}

/// A JSON string literal of `s` (schemas here are ASCII without control characters).
fn serde_json_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
