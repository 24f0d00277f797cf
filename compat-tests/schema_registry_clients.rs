//! The built-in Schema Registry with the clients people use (confluent-kafka
//! Python's SchemaRegistryClient with its Avro, Protobuf and JSON Schema
//! serializers; kafkajs with @kafkajs/confluent-schema-registry) producing to
//! Skiff and consuming back; the console's Schemas view and wire-format
//! decoding; and the schema fuzz target's seeds without libFuzzer.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::{self, Broker};
use crate::schema_registry::{avro, register, registry_addr, request, start};

/// The console's JSON API: the Schemas view's data, and the message
/// browser decoding Confluent-framed Avro and Protobuf values and keys.
#[test]
fn console_lists_schemas_and_decodes_framed_messages() {
    harness::run(async {
        if harness::skip_if_external("the console is Skiff's own") {
            return;
        }
        let broker = Broker::start_with(&[
            ("schema.registry.listeners", "127.0.0.1:0"),
            ("http.listeners", "127.0.0.1:0"),
        ]);
        let reg = registry_addr(&broker, 1);
        let console = harness::wait_for("http ready line", Duration::from_secs(10), || {
            broker
                .log_lines()
                .iter()
                .find(|l| l.contains("http ready"))
                .and_then(|l| harness::parse_ready_addr(l))
        });
        let topic = harness::unique_topic("sr-console");
        let subject = format!("{topic}-value");
        let (_, r) = register(
            &reg,
            &subject,
            avro(&[("name", "string", None), ("n", "long", None)]),
        );
        let avro_id = r["id"].as_i64().unwrap() as i32;
        register(
            &reg,
            &subject,
            avro(&[
                ("name", "string", None),
                ("n", "long", None),
                ("x", "int", Some(json!(7))),
            ]),
        );
        let proto = json!({"schemaType": "PROTOBUF", "schema": "syntax = \"proto3\"; message K { string id = 1; }"});
        let (_, r) = register(&reg, &format!("{topic}-key"), proto);
        let proto_id = r["id"].as_i64().unwrap() as i32;

        // Avro datum {"name": "ab", "n": 3}: string (zigzag len 2 = 4) "ab", long 3 = 6.
        let mut value = vec![0];
        value.extend_from_slice(&avro_id.to_be_bytes());
        value.extend_from_slice(&[4, b'a', b'b', 6]);
        // Protobuf key: message index [0] (a single 0), then field 1 = "k1".
        let mut key = vec![0];
        key.extend_from_slice(&proto_id.to_be_bytes());
        key.extend_from_slice(&[0, 0x0a, 2, b'k', b'1']);
        // An id nobody registered: shown as before (hex).
        let unknown = [0u8, 0, 0, 0x7f, 0x7f, 1, 2];
        let producer = harness::future_producer(&broker, &[]);
        for (k, v) in [(&key[..], &value[..]), (&key[..], &unknown[..])] {
            producer
                .send(
                    rdkafka::producer::FutureRecord::to(&topic)
                        .partition(0)
                        .key(k)
                        .payload(v),
                    harness::OP_TIMEOUT,
                )
                .await
                .unwrap_or_else(|(e, _)| broker.fail(&format!("produce: {e}")));
        }

        let get = |path: &str| {
            let (status, _, body) = request(&console, "GET", path, None);
            assert_eq!(status, 200, "{path}: {body}");
            serde_json::from_str::<Value>(&body).unwrap()
        };
        let page = get(&format!(
            "/api/topics/{topic}/partitions/0/messages?offset=0"
        ));
        let m = &page["messages"][0];
        assert_eq!(m["value"]["encoding"], "avro", "{m}");
        assert_eq!(m["value"]["schema_id"], avro_id);
        assert_eq!(
            serde_json::from_str::<Value>(m["value"]["text"].as_str().unwrap()).unwrap(),
            json!({"name": "ab", "n": 3})
        );
        assert_eq!(m["key"]["encoding"], "protobuf", "{m}");
        assert_eq!(
            serde_json::from_str::<Value>(m["key"]["text"].as_str().unwrap()).unwrap(),
            json!({"id": "k1"})
        );
        assert_eq!(page["messages"][1]["value"]["encoding"], "hex", "{page}");

        let list = get("/api/schemas");
        assert_eq!(list["compatibility"], "BACKWARD");
        let row = list["subjects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["subject"] == subject.as_str())
            .unwrap_or_else(|| panic!("{list}"))
            .clone();
        assert_eq!(
            (
                row["latest_version"].clone(),
                row["versions"].clone(),
                row["schema_type"].clone()
            ),
            (json!(2), json!(2), json!("AVRO"))
        );
        let detail = get(&format!("/api/schemas/{subject}"));
        assert_eq!(detail["versions"].as_array().unwrap().len(), 2, "{detail}");
        assert!(
            detail["versions"][1]["schema"]
                .as_str()
                .unwrap()
                .contains("\"x\""),
            "{detail}"
        );
    });
}

/// The Schemas view and its diff, rendered by a real headless browser.
#[test]
fn schemas_view_in_headless_chromium() {
    let Some(bin) = crate::http::chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but no chromium: .ci/run installs Debian's chromium"
        );
        println!("SKIP: schemas_view_in_headless_chromium: no chromium on PATH");
        return;
    };
    if harness::skip_if_external("the console is Skiff's own") {
        return;
    }
    let browser = crate::http::Browser {
        bin,
        profile: tempfile::tempdir().expect("chromium profile dir"),
    };
    let broker = Broker::start_with(&[
        ("schema.registry.listeners", "127.0.0.1:0"),
        ("http.listeners", "127.0.0.1:0"),
    ]);
    let reg = registry_addr(&broker, 1);
    let console = harness::wait_for("http ready line", Duration::from_secs(10), || {
        broker
            .log_lines()
            .iter()
            .find(|l| l.contains("http ready"))
            .and_then(|l| harness::parse_ready_addr(l))
    });
    let subject = harness::unique_topic("sr-view");
    register(&reg, &subject, avro(&[("name", "string", None)]));
    register(
        &reg,
        &subject,
        avro(&[
            ("name", "string", None),
            ("added_field", "int", Some(json!(1))),
        ]),
    );
    let dom = browser.dom(&format!("http://{console}/#/schemas"));
    assert!(
        dom.contains(&format!(">{subject}</a>")),
        "subject list: {dom}"
    );
    assert_eq!(
        crate::http::text_of(&dom, "global-compat").as_deref(),
        Some("BACKWARD"),
        "{dom}"
    );
    let dom = browser.dom(&format!("http://{console}/#/schema/{subject}"));
    assert!(dom.contains("id=\"schema-diff\""), "diff missing: {dom}");
    assert!(
        dom.contains("class=\"add\"") && dom.contains("added_field"),
        "added line not marked: {dom}"
    );
}

// -- clients -----------------------------------------------------------------

fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("compat-tests/clients")
}

fn run_client(name: &str, program: &str, script: &str, probe: &[&str]) {
    if harness::skip_if_external("the schema registry is Skiff's own") {
        return;
    }
    let node_path = clients_dir()
        .join("js/node_modules")
        .to_string_lossy()
        .to_string();
    let installed = std::process::Command::new(program)
        .args(probe)
        .env("NODE_PATH", &node_path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        let reason = format!("{name} is not installed (see compat-tests/clients/README.md)");
        assert!(
            std::env::var("CI").is_err(),
            "{reason}: .ci/run installs it"
        );
        eprintln!("SKIP: {reason}");
        return;
    }
    let Some((broker, addr)) = start(&[]) else {
        return;
    };
    let out = harness::run_cmd(
        "env",
        &[
            &format!("SKIFF_BOOTSTRAP={}", broker.bootstrap()),
            &format!("SKIFF_SCHEMA_REGISTRY=http://{addr}"),
            &format!("NODE_PATH={node_path}"),
            program,
            &clients_dir().join(script).to_string_lossy(),
        ],
        b"",
        Duration::from_secs(150),
    );
    if !out.status.success() || out.stdout.contains("FAIL") || !out.stdout.contains("PASS") {
        broker.print_log();
        panic!(
            "{name} failed ({}):\n{}\n{}",
            out.status, out.stdout, out.stderr
        );
    }
}

#[test]
fn confluent_kafka_python_serializers() {
    run_client(
        "confluent-kafka[avro,json,protobuf]",
        "python3",
        "python/schema_registry_test.py",
        &["-c", "import confluent_kafka.schema_registry.avro, confluent_kafka.schema_registry.protobuf, confluent_kafka.schema_registry.json_schema"],
    );
}

#[test]
fn kafkajs_confluent_schema_registry() {
    run_client(
        "@kafkajs/confluent-schema-registry",
        "node",
        "js/schema_registry_test.js",
        &[
            "-e",
            "require('kafkajs'); require('@kafkajs/confluent-schema-registry')",
        ],
    );
}

// -- the fuzz target's checks without libFuzzer --------------------------------

#[path = "../fuzz/src/schema_common.rs"]
mod schema_common;

/// Every seed of `fuzz/seeds/schema_parsers`, whatever corpus a local
/// `cargo fuzz run schema_parsers` left, and deterministic mutations of the
/// seeds (byte flips, truncations, insertions, splices) through the fuzz
/// target's checks: a parser panic fails here, not only under cargo fuzz.
#[test]
fn schema_parser_seeds_and_mutations_do_not_panic() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let read_dir = |d: PathBuf, cap: usize| -> Vec<Vec<u8>> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(d)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        names.sort();
        names.truncate(cap);
        names.iter().filter_map(|p| std::fs::read(p).ok()).collect()
    };
    let seeds = read_dir(root.join("seeds/schema_parsers"), usize::MAX);
    assert!(seeds.len() >= 5, "seeds missing");
    for input in seeds
        .iter()
        .chain(&read_dir(root.join("corpus/schema_parsers"), 2_000))
    {
        schema_common::check_schema(input);
    }
    let mut x: u64 = 0x5eed_5c4e_3a00_0001;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut n = 0;
    for (i, seed) in seeds.iter().enumerate() {
        let other = &seeds[(i + 1) % seeds.len()];
        for _ in 0..1500 {
            let mut v = seed.clone();
            for _ in 0..1 + next() % 3 {
                let at = (next() as usize) % (v.len() + 1);
                match next() % 4 {
                    0 if at < v.len() => v[at] = next() as u8,
                    1 => v.truncate(at),
                    2 => v.insert(at, b"{}[]\",:;=0\xff"[(next() % 11) as usize]),
                    _ => {
                        let from = (next() as usize) % other.len().max(1);
                        v.splice(at..at, other.iter().skip(from).take(32).copied());
                    }
                }
            }
            schema_common::check_schema(&v);
            n += 1;
        }
    }
    eprintln!("schema_parsers: {} seeds, {n} mutations", seeds.len());
}
