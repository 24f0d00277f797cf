//! kcat (Debian's, librdkafka 2.0): metadata listing, JSON metadata, and a
//! produce/consume roundtrip with keys and headers. kcat negotiates with
//! ApiVersions v3, so these also check that encoding against a second client.

use std::time::Duration;

use crate::harness::*;

const KCAT_TIMEOUT: Duration = Duration::from_secs(30);

fn kcat_run(args: &[&str], stdin: &[u8]) -> CmdOutput {
    let out = run_cmd(kcat(), args, stdin, KCAT_TIMEOUT);
    if !out.status.success() {
        panic!(
            "kcat {args:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
            out.status, out.stdout, out.stderr
        );
    }
    out
}

#[test]
fn kcat_metadata_list_and_json() {
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("kcat-md");
        create_topic(&broker, &topic, 2).await;
        let addr = broker.bootstrap();

        // Plain listing.
        let out = kcat_run(&["-b", &addr, "-m", "15", "-L", "-t", &topic], b"");
        let text = out.stdout;
        assert!(text.contains(" 1 brokers:"), "kcat -L output:\n{text}");
        let broker_line = text
            .lines()
            .find(|l| l.trim_start().starts_with("broker "))
            .unwrap_or_else(|| panic!("no broker line in:\n{text}"));
        assert!(
            broker_line.contains(&format!(" at {addr}")),
            "broker line {broker_line:?} should advertise {addr}"
        );
        assert!(
            text.contains(&format!("topic \"{topic}\" with 2 partitions:")),
            "kcat -L output:\n{text}"
        );
        let partition_lines: Vec<&str> = text
            .lines()
            .filter(|l| l.trim_start().starts_with("partition "))
            .collect();
        assert_eq!(partition_lines.len(), 2, "kcat -L output:\n{text}");
        for l in &partition_lines {
            assert!(!l.contains("Broker:"), "partition error in {l:?}");
            assert!(l.contains("leader "), "{l:?}");
        }

        // JSON listing.
        let out = kcat_run(&["-b", &addr, "-m", "15", "-L", "-J", "-t", &topic], b"");
        let json = Json::parse(out.stdout.trim())
            .unwrap_or_else(|e| panic!("kcat -L -J printed invalid JSON ({e}):\n{}", out.stdout));
        let brokers = json.get("brokers").expect("brokers").as_array();
        assert_eq!(brokers.len(), 1, "{json:?}");
        let bid = brokers[0]
            .get("id")
            .and_then(Json::as_i64)
            .expect("broker id");
        assert_eq!(
            brokers[0].get("name").and_then(Json::as_str),
            Some(addr.as_str()),
            "{json:?}"
        );
        let topics = json.get("topics").expect("topics").as_array();
        let t = topics
            .iter()
            .find(|t| t.get("topic").and_then(Json::as_str) == Some(topic.as_str()))
            .unwrap_or_else(|| panic!("topic missing in {json:?}"));
        assert!(t.get("error").is_none(), "topic error in {t:?}");
        let parts = t.get("partitions").expect("partitions").as_array();
        assert_eq!(parts.len(), 2);
        for p in parts {
            assert_eq!(p.get("leader").and_then(Json::as_i64), Some(bid), "{p:?}");
            assert!(p.get("error").is_none(), "partition error in {p:?}");
            let replicas = p.get("replicas").expect("replicas").as_array();
            assert_eq!(replicas.len(), 1, "{p:?}");
        }
    });
}

#[test]
fn kcat_produce_then_consume_with_keys_and_headers() {
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("kcat-rt");
        create_topic(&broker, &topic, 1).await;
        let addr = broker.bootstrap();

        let input = "k1:hello\nk2:world with spaces\nk3:{\"json\": true}\nk4:last\n";
        kcat_run(
            &[
                "-b",
                &addr,
                "-m",
                "15",
                "-P",
                "-t",
                &topic,
                "-p",
                "0",
                "-K:",
                "-H",
                "h1=v1",
                "-H",
                "trace=abc-123",
            ],
            input.as_bytes(),
        );

        let out = kcat_run(
            &[
                "-b",
                &addr,
                "-m",
                "15",
                "-C",
                "-t",
                &topic,
                "-p",
                "0",
                "-o",
                "beginning",
                "-e",
                "-f",
                "%k|%s|%h|%p|%o\\n",
            ],
            b"",
        );
        let lines: Vec<&str> = out.stdout.lines().collect();
        let expected = [
            ("k1", "hello"),
            ("k2", "world with spaces"),
            ("k3", "{\"json\": true}"),
            ("k4", "last"),
        ];
        assert_eq!(
            lines.len(),
            expected.len(),
            "kcat -C output:\n{}\nstderr:\n{}",
            out.stdout,
            out.stderr
        );
        for (i, (line, (k, v))) in lines.iter().zip(expected).enumerate() {
            assert_eq!(
                *line,
                format!("{k}|{v}|h1=v1,trace=abc-123|0|{i}"),
                "message {i}"
            );
        }
    });
}
