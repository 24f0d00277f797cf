//! The HTTP listener (issue 7): JSON API, /metrics and health over real HTTP
//! against a broker real rdkafka clients wrote to and consumed from, and the
//! web console in a real headless Chromium (screenshots land in
//! target/console-screenshots/).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use serde_json::Value;

use crate::harness::{self, Broker};

/// Starts a local broker with the HTTP listener on a free port; returns it
/// and the HTTP address, read from its `http ready addr=` log line.
pub(crate) fn start(extra: &[(&str, &str)]) -> Option<(Broker, String)> {
    if harness::skip_if_external("the HTTP listener is Skiff's own") {
        return None;
    }
    let mut sets = vec![("http.listeners", "127.0.0.1:0")];
    sets.extend_from_slice(extra);
    let broker = Broker::start_with(&sets);
    let addr = harness::wait_for("http ready line", Duration::from_secs(10), || {
        broker
            .log_lines()
            .iter()
            .find(|l| l.contains("http ready"))
            .and_then(|l| harness::parse_ready_addr(l))
    });
    Some((broker, addr))
}

/// One HTTP/1.1 request (Connection: close): `(status, body)`.
pub(crate) fn http(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<(&str, &[u8])>,
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect to the http listener");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some((ct, b)) = body {
        req.push_str(&format!(
            "Content-Type: {ct}\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    if let Some((_, b)) = body {
        let _ = s.write_all(b);
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    // Bodies are small; axum answers with Content-Length, never chunked here.
    assert!(!head.to_ascii_lowercase().contains("chunked"), "{head}");
    (status, body.to_string())
}

pub(crate) fn get_json(addr: &str, path: &str) -> Value {
    let (status, body) = http(addr, "GET", path, None);
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

fn post_json(addr: &str, path: &str, v: &Value) -> (u16, Value) {
    let (status, body) = http(
        addr,
        "POST",
        path,
        Some(("application/json", v.to_string().as_bytes())),
    );
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// The value of the sample `name{labels}` in a Prometheus text exposition.
pub(crate) fn metric(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name_and_labels) && l[name_and_labels.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn produce(broker: &Broker, topic: &str, msgs: &[(&str, &[u8])]) {
    let producer = harness::future_producer(broker, &[]);
    for (key, value) in msgs {
        let headers = OwnedHeaders::new().insert(Header {
            key: "trace-id",
            value: Some("abc-123"),
        });
        producer
            .send(
                FutureRecord::to(topic)
                    .partition(0)
                    .key(*key)
                    .payload(*value)
                    .headers(headers),
                harness::OP_TIMEOUT,
            )
            .await
            .unwrap_or_else(|(e, _)| broker.fail(&format!("produce: {e}")));
    }
}

/// A subscribed consumer in `group`.
fn group_consumer(broker: &Broker, group: &str, topic: &str) -> BaseConsumer {
    let c = harness::consumer(
        broker,
        &[("group.id", group), ("session.timeout.ms", "10000")],
    );
    c.subscribe(&[topic]).expect("subscribe");
    c
}

/// Polls `n` messages and commits after the last one.
fn consume_and_commit(broker: &Broker, c: &BaseConsumer, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(25);
    let mut got = 0;
    while got < n {
        if Instant::now() > deadline {
            broker.fail(&format!("consumed {got} of {n} messages"));
        }
        match c.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                got += 1;
                if got == n {
                    c.commit_message(&m, CommitMode::Sync).expect("commit");
                }
            }
            Some(Err(e)) => broker.fail(&format!("consume: {e}")),
            None => {}
        }
    }
}

const SCRIPT_VALUE: &str = "<script>document.body.setAttribute('data-pwned','1')</script>";
const IMG_VALUE: &str = "<img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">";

#[test]
fn json_api_and_metrics_after_rdkafka_traffic() {
    harness::run(async {
        let Some((broker, addr)) = start(&[]) else {
            return;
        };
        assert_eq!(http(&addr, "GET", "/healthz", None).0, 200);
        assert_eq!(http(&addr, "GET", "/readyz", None).0, 200);

        let topic = harness::unique_topic("http-api");
        harness::create_topic(&broker, &topic, 1).await;
        let big = "x".repeat(200_000);
        let mut msgs: Vec<(String, Vec<u8>)> = (0..8)
            .map(|i| (format!("k{i}"), format!("{{\"n\":{i}}}").into_bytes()))
            .collect();
        msgs.push(("script".into(), SCRIPT_VALUE.as_bytes().to_vec()));
        msgs.push(("big".into(), big.as_bytes().to_vec()));
        let refs: Vec<(&str, &[u8])> = msgs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect();
        produce(&broker, &topic, &refs).await;

        // Topics and partitions.
        let topics = get_json(&addr, "/api/topics");
        let t = topics["topics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == topic.as_str())
            .unwrap_or_else(|| panic!("{topic} not in {topics}"));
        assert_eq!(t["messages"], 10);
        let detail = get_json(&addr, &format!("/api/topics/{topic}"));
        assert_eq!(detail["partitions"][0]["high_watermark"], 10);
        assert_eq!(detail["partitions"][0]["log_start_offset"], 0);
        assert!(detail["partitions"][0]["segment_count"].as_i64().unwrap() >= 1);
        assert!(detail["configs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "retention.ms"));

        // Paging forward and back.
        let base = format!("/api/topics/{topic}/partitions/0/messages");
        let p1 = get_json(&addr, &format!("{base}?offset=0&limit=4"));
        let offsets: Vec<i64> = p1["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["offset"].as_i64().unwrap())
            .collect();
        assert_eq!(offsets, vec![0, 1, 2, 3]);
        assert_eq!(p1["next_offset"], 4);
        assert_eq!(p1["prev_offset"], Value::Null);
        let m0 = &p1["messages"][0];
        assert_eq!(m0["key"]["text"], "k0");
        assert_eq!(m0["value"]["encoding"], "json");
        assert_eq!(m0["headers"][0]["key"], "trace-id");
        assert_eq!(m0["headers"][0]["value"]["text"], "abc-123");
        let p2 = get_json(&addr, &format!("{base}?offset=4&limit=4"));
        assert_eq!(p2["messages"][0]["offset"], 4);
        assert_eq!(p2["prev_offset"], 0);
        let latest = get_json(&addr, &format!("{base}?latest=2"));
        let m = latest["messages"].as_array().unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(
            m[0]["value"]["text"], SCRIPT_VALUE,
            "shown as data, raw in JSON"
        );
        assert_eq!(m[0]["value"]["encoding"], "utf8");
        assert_eq!(m[1]["value"]["size"], 200_000);
        assert_eq!(m[1]["value"]["truncated"], true);
        assert!(m[1]["value"]["text"].as_str().unwrap().len() <= 4096);
        assert_eq!(latest["next_offset"], Value::Null);
        let ts = m0["timestamp"].as_i64().unwrap();
        let by_time = get_json(&addr, &format!("{base}?timestamp={ts}&limit=1"));
        assert_eq!(by_time["messages"][0]["offset"], 0);
        // A page never exceeds its cap.
        let capped = get_json(&addr, &format!("{base}?offset=0&limit=100000"));
        assert!(capped["messages"].as_array().unwrap().len() <= 100);

        // A consumer group: lag 6 after consuming 4, then 0.
        let group = harness::unique_topic("http-group");
        let c = group_consumer(&broker, &group, &topic);
        consume_and_commit(&broker, &c, 4);
        let g = get_json(&addr, &format!("/api/groups/{group}"));
        assert_eq!(g["total_lag"], 6, "{g}");
        assert_eq!(g["offsets"][0]["committed_offset"], 4);
        assert_eq!(g["state"], "Stable");
        assert_eq!(g["protocol_type"], "consumer");
        assert_eq!(g["members"].as_array().unwrap().len(), 1);
        assert_eq!(g["members"][0]["assignment"][0]["topic"], topic.as_str());
        assert_eq!(g["members"][0]["assignment"][0]["partitions"][0], 0);
        let metrics = http(&addr, "GET", "/metrics", None).1;
        let lag_key = format!("kafka_consumergroup_lag{{consumergroup=\"{group}\",topic=\"{topic}\",partition=\"0\"}}");
        assert_eq!(metric(&metrics, &lag_key), Some(6.0), "{metrics}");
        consume_and_commit(&broker, &c, 6);
        let groups = get_json(&addr, "/api/groups");
        let listed = groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["group_id"] == group.as_str())
            .unwrap()
            .clone();
        assert_eq!(listed["total_lag"], 0);

        // Metrics.
        let metrics = http(&addr, "GET", "/metrics", None).1;
        assert_eq!(metric(&metrics, &lag_key), Some(0.0), "{metrics}");
        let tl = format!("{{topic=\"{topic}\"}}");
        assert_eq!(
            metric(
                &metrics,
                &format!("kafka_server_brokertopicmetrics_messagesin_total{tl}")
            ),
            Some(10.0)
        );
        assert!(
            metric(
                &metrics,
                &format!("kafka_server_brokertopicmetrics_bytesin_total{tl}")
            )
            .unwrap()
                > 200_000.0
        );
        assert!(
            metric(
                &metrics,
                &format!("kafka_server_brokertopicmetrics_bytesout_total{tl}")
            )
            .unwrap()
                > 200_000.0
        );
        assert!(
            metric(
                &metrics,
                &format!("kafka_server_brokertopicmetrics_messagesout_total{tl}")
            )
            .unwrap()
                >= 10.0
        );
        assert!(
            metric(
                &metrics,
                "kafka_network_requestmetrics_requests_total{request=\"Produce\"}"
            )
            .unwrap()
                >= 1.0
        );
        assert!(
            metric(
                &metrics,
                "kafka_network_requestmetrics_errors_total{request=\"Produce\",error=\"NONE\"}"
            )
            .unwrap()
                >= 1.0
        );
        assert!(
            metric(
                &metrics,
                "kafka_network_requestmetrics_request_duration_seconds_count{request=\"Fetch\"}"
            )
            .unwrap()
                >= 1.0
        );
        assert!(metric(&metrics, "kafka_network_requestmetrics_request_duration_seconds_bucket{request=\"Fetch\",le=\"+Inf\"}").unwrap() >= 1.0);
        assert!(
            metric(
                &metrics,
                "kafka_server_socket_server_metrics_connection_count"
            )
            .unwrap()
                >= 1.0
        );
        assert_eq!(
            metric(&metrics, &format!("kafka_topic_partitions{tl}")),
            Some(1.0)
        );
        assert_eq!(
            metric(
                &metrics,
                &format!(
                    "kafka_topic_partition_current_offset{{topic=\"{topic}\",partition=\"0\"}}"
                )
            ),
            Some(10.0)
        );
        assert!(
            metric(
                &metrics,
                &format!("kafka_log_log_size{{topic=\"{topic}\",partition=\"0\"}}")
            )
            .unwrap()
                > 200_000.0
        );
        assert!(metric(&metrics, "process_resident_memory_bytes").unwrap() > 1e6);
        assert!(metric(&metrics, "skiff_uptime_seconds").is_some());
        drop(c);

        // Produce, create and delete over HTTP.
        let (s, r) = post_json(
            &addr,
            &format!("/api/topics/{topic}/messages"),
            &serde_json::json!({"key": "h", "value": "from http", "headers": [{"key": "a", "value": "b"}]}),
        );
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["offset"], 10);
        let last = get_json(&addr, &format!("{base}?latest=1"));
        assert_eq!(last["messages"][0]["value"]["text"], "from http");
        assert_eq!(last["messages"][0]["headers"][0]["key"], "a");
        let made = harness::unique_topic("http-made");
        let (s, r) = post_json(
            &addr,
            "/api/topics",
            &serde_json::json!({"name": made, "partitions": 3}),
        );
        assert_eq!(s, 201, "{r}");
        assert_eq!(
            get_json(&addr, &format!("/api/topics/{made}"))["partition_count"],
            3
        );
        let (s, _) = post_json(
            &addr,
            "/api/topics",
            &serde_json::json!({"name": "bad name"}),
        );
        assert_eq!(s, 400);
        assert_eq!(
            http(&addr, "DELETE", &format!("/api/topics/{made}"), None).0,
            200
        );
        assert_eq!(
            http(&addr, "GET", &format!("/api/topics/{made}"), None).0,
            404
        );

        // Limits and cross-site safety.
        let (s, _) = http(
            &addr,
            "POST",
            "/api/topics",
            Some(("application/x-www-form-urlencoded", b"name=x")),
        );
        assert_eq!(s, 415);
        let huge = vec![b'a'; 2 * 1024 * 1024];
        let (s, _) = http(
            &addr,
            "POST",
            &format!("/api/topics/{topic}/messages"),
            Some(("application/json", &huge)),
        );
        assert_eq!(s, 413);
        let long_path = format!("/api/topics/{}", "a".repeat(20_000));
        assert_eq!(http(&addr, "GET", &long_path, None).0, 431);
        assert_eq!(
            http(&addr, "GET", "/api/topics/nope/partitions/0/messages", None).0,
            404
        );
    });
}

#[test]
fn read_only_console_refuses_changes() {
    harness::run(async {
        let Some((broker, addr)) = start(&[("http.read.only", "true")]) else {
            return;
        };
        let topic = harness::unique_topic("http-ro");
        harness::create_topic(&broker, &topic, 1).await;
        let (s, r) = post_json(&addr, "/api/topics", &serde_json::json!({"name": "ro-new"}));
        assert_eq!(s, 403, "{r}");
        let (s, _) = post_json(
            &addr,
            &format!("/api/topics/{topic}/messages"),
            &serde_json::json!({"value": "x"}),
        );
        assert_eq!(s, 403);
        assert_eq!(
            http(&addr, "DELETE", &format!("/api/topics/{topic}"), None).0,
            403
        );
        assert_eq!(get_json(&addr, "/api/broker")["read_only"], true);
        assert_eq!(
            get_json(&addr, &format!("/api/topics/{topic}"))["partition_count"],
            1
        );
    });
}

#[test]
fn http_listener_can_be_disabled() {
    harness::run(async {
        if harness::skip_if_external("the HTTP listener is Skiff's own") {
            return;
        }
        let broker = Broker::start_with(&[("http.listeners", "off")]);
        assert!(broker
            .log_lines()
            .iter()
            .any(|l| l.contains("http listener disabled")));
        assert!(!broker.log_lines().iter().any(|l| l.contains("http ready")));
    });
}

// ---------------------------------------------------------------------------
// The console in a real browser
// ---------------------------------------------------------------------------

pub(crate) fn chromium() -> Option<String> {
    if let Ok(p) = std::env::var("CHROMIUM") {
        return Some(p);
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|c| {
            std::process::Command::new("which")
                .arg(c)
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        })
        .map(|c| c.to_string())
}

fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
    std::fs::create_dir_all(&dir).expect("create target/console-screenshots");
    dir
}

pub(crate) struct Browser {
    pub(crate) bin: String,
    pub(crate) profile: tempfile::TempDir,
}

impl Browser {
    fn args<'a>(&'a self, extra: &[&'a str]) -> Vec<String> {
        let mut a: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.push(format!("--user-data-dir={}", self.profile.path().display()));
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    }

    /// The DOM after the page's scripts ran.
    pub(crate) fn dom(&self, url: &str) -> String {
        let args = self.args(&["--virtual-time-budget=4000", "--dump-dom", url]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = harness::run_cmd(&self.bin, &refs, b"", Duration::from_secs(60));
        assert!(out.status.success(), "chromium failed: {}", out.stderr);
        out.stdout
    }

    fn screenshot(&self, url: &str, name: &str) {
        let file = screenshot_dir().join(name);
        let shot = format!("--screenshot={}", file.display());
        let args = self.args(&[
            "--virtual-time-budget=4000",
            "--window-size=1280,900",
            &shot,
            url,
        ]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = harness::run_cmd(&self.bin, &refs, b"", Duration::from_secs(60));
        assert!(
            out.status.success() && file.exists(),
            "screenshot failed: {}",
            out.stderr
        );
        println!("screenshot: {}", file.display());
    }
}

/// Text of the element with `id` in a dumped DOM (first match, tags stripped).
pub(crate) fn text_of(dom: &str, id: &str) -> Option<String> {
    let at = dom.find(&format!("id=\"{id}\""))?;
    let rest = &dom[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find("</")? + start;
    Some(rest[start..end].to_string())
}

#[test]
fn console_in_headless_chromium() {
    let Some(bin) = chromium() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but no chromium: .ci/run installs Debian's chromium");
        }
        println!("SKIP: console_in_headless_chromium: no chromium on PATH (apt-get install chromium, or set CHROMIUM=/path)");
        return;
    };
    let browser = Browser {
        bin,
        profile: tempfile::tempdir().expect("chromium profile dir"),
    };
    // Chromium runs are slow on a small machine: a runtime without the 55 s test cap.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let Some((broker, addr)) = start(&[]) else {
            return;
        };
        let base = format!("http://{addr}/");
        let topic = harness::unique_topic("console-orders");
        harness::create_topic(&broker, &topic, 1).await;
        produce(
            &broker,
            &topic,
            &[
                ("order-42", br#"{"order":42,"item":"kayak"}"#),
                ("order-43", br#"{"order":43,"item":"paddle"}"#),
                ("evil-script", SCRIPT_VALUE.as_bytes()),
                ("evil-img", IMG_VALUE.as_bytes()),
            ],
        )
        .await;

        // Broker and topic list.
        let dom = browser.dom(&base);
        assert!(
            text_of(&dom, "broker-version").is_some_and(|v| v == env!("CARGO_PKG_VERSION")),
            "{dom}"
        );
        browser.screenshot(&base, "broker.png");
        let topics_url = format!("{base}#/topics");
        let dom = browser.dom(&topics_url);
        assert!(
            dom.contains(&format!(">{topic}</a>")),
            "topic list lacks {topic}: {dom}"
        );
        browser.screenshot(&topics_url, "topics.png");

        // The message browser: key, header and pretty JSON value; hostile values shown, not run.
        let msgs_url = format!("{base}#/topic/{topic}?p=0&latest=20");
        let dom = browser.dom(&msgs_url);
        assert!(dom.contains("id=\"message-table\""), "{dom}");
        assert!(dom.contains(">order-42</pre>"), "key missing: {dom}");
        assert!(
            dom.contains("<b>trace-id</b>") && dom.contains(">abc-123</pre>"),
            "header missing: {dom}"
        );
        assert!(
            dom.contains("\"order\": 42,\n  \"item\": \"kayak\""),
            "pretty JSON missing: {dom}"
        );
        assert!(
            dom.contains("&lt;script&gt;document.body.setAttribute"),
            "script value not shown as text: {dom}"
        );
        assert!(
            dom.contains("&lt;img src=x onerror="),
            "img value not shown as text: {dom}"
        );
        let body_tag = &dom[dom.find("<body").unwrap()..];
        let body_tag = &body_tag[..body_tag.find('>').unwrap()];
        assert!(
            !body_tag.contains("data-pwned"),
            "a message value ran as code: {dom}"
        );
        assert!(
            !dom.contains("<script>document"),
            "raw script element in the DOM: {dom}"
        );
        browser.screenshot(&msgs_url, "messages.png");

        // A consumer group: lag 3 after consuming one message, then 0.
        let group = harness::unique_topic("console-group");
        let c = group_consumer(&broker, &group, &topic);
        consume_and_commit(&broker, &c, 1);
        let group_url = format!("{base}#/group/{group}");
        let dom = browser.dom(&group_url);
        assert_eq!(text_of(&dom, "total-lag").as_deref(), Some("3"), "{dom}");
        assert_eq!(
            text_of(&dom, "group-state").as_deref(),
            Some("Stable"),
            "{dom}"
        );
        browser.screenshot(&group_url, "group-lagging.png");
        consume_and_commit(&broker, &c, 3);
        let dom = browser.dom(&group_url);
        assert_eq!(text_of(&dom, "total-lag").as_deref(), Some("0"), "{dom}");
        assert!(
            dom.contains(&format!("{topic}: [0]")),
            "assignment missing: {dom}"
        );
        browser.screenshot(&group_url, "group.png");
        let groups_url = format!("{base}#/groups");
        let dom = browser.dom(&groups_url);
        assert!(dom.contains(&format!(">{group}</a>")), "{dom}");
        browser.screenshot(&groups_url, "groups.png");
        drop(c);
    });
}
