//! Listeners, TLS and SASL against real clients: rdkafka and kcat over SSL,
//! SASL_PLAINTEXT and SASL_SSL with PLAIN, both SCRAMs and OAUTHBEARER;
//! mTLS principals; kafka-configs adding a SCRAM user; and the bad cases
//! (wrong password, unknown user, wrong mechanism, requests before
//! authentication, plaintext on a TLS port, TLS on a plaintext port, a client
//! that never finishes). Certificates come from `skiff dev-certs`.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kafka_protocol::messages::{
    ApiVersionsRequest, MetadataRequest, SaslAuthenticateRequest, SaslHandshakeRequest,
};
use kafka_protocol::protocol::StrBytes;
use rdkafka::consumer::Consumer;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Message;

use crate::harness::*;

const USER: &str = "alice";
const PASSWORD: &str = "alice-secret";
const AUTH_TIMEOUT_MS: &str = "3000";

/// A broker with all four protocols, its certificates and listener addresses.
struct Secure {
    broker: Broker,
    certs: tempfile::TempDir,
    addrs: HashMap<String, String>,
}

pub(crate) fn dev_certs() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("skiff-certs-")
        .tempdir()
        .expect("temp dir");
    let out = run_cmd(
        env!("CARGO_BIN_EXE_skiff"),
        &["dev-certs", &dir.path().to_string_lossy()],
        b"",
        Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "skiff dev-certs failed: {}",
        out.stderr
    );
    assert!(
        out.stdout.contains("ssl.keystore.location"),
        "{}",
        out.stdout
    );
    dir
}

/// `listener ready name=SSL protocol=SSL addr=127.0.0.1:4711 ...` lines.
pub(crate) fn listener_addrs(broker: &Broker) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in broker.log_lines() {
        if !line.contains("listener ready") {
            continue;
        }
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{name}=")))
                .map(|v| v.trim_matches('"').to_string())
        };
        if let (Some(n), Some(a)) = (field("name"), field("addr")) {
            out.insert(n, a);
        }
    }
    out
}

fn start_secure(extra: &[(&str, &str)]) -> Option<Secure> {
    if skip_if_external("starts brokers with TLS and SASL listeners") {
        return None;
    }
    let certs = dev_certs();
    let ks = certs
        .path()
        .join("broker.pem")
        .to_string_lossy()
        .to_string();
    let ca = certs.path().join("ca.crt").to_string_lossy().to_string();
    let mut sets: Vec<(&str, &str)> = vec![
        (
            "listeners",
            "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0",
        ),
        ("ssl.keystore.location", &ks),
        ("ssl.truststore.location", &ca),
        ("ssl.client.auth", "requested"),
        ("sasl.users", "alice:alice-secret,bob:bob-secret"),
        (
            "sasl.enabled.mechanisms",
            "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER",
        ),
        ("skiff.authentication.timeout.ms", AUTH_TIMEOUT_MS),
    ];
    sets.extend_from_slice(extra);
    let broker = Broker::start_with(&sets);
    let addrs = listener_addrs(&broker);
    for name in ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] {
        if !addrs.contains_key(name) {
            broker.fail(&format!("no `listener ready` line for {name}: {addrs:?}"));
        }
    }
    Some(Secure {
        broker,
        certs,
        addrs,
    })
}

impl Secure {
    fn addr(&self, listener: &str) -> String {
        self.addrs[listener].clone()
    }

    fn ca(&self) -> String {
        self.certs
            .path()
            .join("ca.crt")
            .to_string_lossy()
            .to_string()
    }

    fn cert_path(&self, name: &str) -> PathBuf {
        self.certs.path().join(name)
    }

    /// librdkafka settings for `listener` with `mechanism` (None: no SASL).
    fn client(
        &self,
        listener: &str,
        mechanism: Option<&str>,
        password: &str,
    ) -> Vec<(String, String)> {
        let mut c = vec![
            ("bootstrap.servers".to_string(), self.addr(listener)),
            ("security.protocol".to_string(), listener.to_string()),
        ];
        if listener.ends_with("SSL") {
            c.push(("ssl.ca.location".into(), self.ca()));
        }
        match mechanism {
            None => {}
            Some("OAUTHBEARER") => {
                c.push(("sasl.mechanism".into(), "OAUTHBEARER".into()));
                c.push(("enable.sasl.oauthbearer.unsecure.jwt".into(), "true".into()));
                c.push((
                    "sasl.oauthbearer.config".into(),
                    format!("principal={USER}"),
                ));
            }
            Some(m) => {
                c.push(("sasl.mechanism".into(), m.into()));
                c.push(("sasl.username".into(), USER.into()));
                c.push(("sasl.password".into(), password.into()));
            }
        }
        c
    }
}

fn as_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Produces one record and reads it back with the given client settings;
/// checks that Metadata names the listener's own address.
async fn roundtrip(s: &Secure, settings: &[(String, String)], expect_addr: &str) {
    let extra = as_refs(settings);
    let topic = unique_topic("sec");
    let producer: FutureProducer = producer_config(&s.broker, &extra)
        .create()
        .expect("producer");
    let delivered = producer
        .send(
            FutureRecord::to(&topic)
                .key("k")
                .payload("hello over security"),
            Duration::from_secs(20),
        )
        .await;
    if let Err((e, _)) = delivered {
        s.broker
            .fail(&format!("produce with {settings:?} failed: {e}"));
    }
    let c = consumer(&s.broker, &extra);
    let md = c
        .fetch_metadata(Some(&topic), OP_TIMEOUT)
        .unwrap_or_else(|e| s.broker.fail(&format!("metadata with {settings:?}: {e}")));
    let b = &md.brokers()[0];
    assert_eq!(
        format!("{}:{}", b.host(), b.port()),
        expect_addr,
        "{settings:?}"
    );
    assign_from_start(&c, &topic, &[0]);
    let got = consume_exact(&c, 1, Duration::from_secs(20));
    assert_eq!(got[0].payload(), Some(&b"hello over security"[..]));
}

#[test]
fn rdkafka_over_every_protocol_and_mechanism() {
    let Some(s) = start_secure(&[]) else { return };
    run(async {
        let cases: &[(&str, Option<&str>)] = &[
            ("PLAINTEXT", None),
            ("SSL", None),
            ("SASL_PLAINTEXT", Some("PLAIN")),
            ("SASL_PLAINTEXT", Some("SCRAM-SHA-256")),
            ("SASL_PLAINTEXT", Some("SCRAM-SHA-512")),
            ("SASL_PLAINTEXT", Some("OAUTHBEARER")),
            ("SASL_SSL", Some("PLAIN")),
            ("SASL_SSL", Some("SCRAM-SHA-256")),
            ("SASL_SSL", Some("SCRAM-SHA-512")),
            ("SASL_SSL", Some("OAUTHBEARER")),
        ];
        for (listener, mechanism) in cases {
            let settings = s.client(listener, *mechanism, PASSWORD);
            roundtrip(&s, &settings, &s.addr(listener)).await;
        }
    });
    // Authenticated SASL connections are logged with their principal.
    let lines = s.broker.log_lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("listener=SASL_SSL") && l.contains("principal=User:alice")),
        "no SASL_SSL connection closed as User:alice"
    );
    assert!(
        // The harness's own line shows the command line it ran; the broker's must not.
        !lines
            .iter()
            .any(|l| !l.starts_with("[harness]") && l.contains(PASSWORD)),
        "a password reached the log"
    );
}

#[test]
fn mtls_principal_is_the_certificate_subject() {
    let Some(s) = start_secure(&[("listener.name.ssl.ssl.client.auth", "required")]) else {
        return;
    };
    run(async {
        let mut settings = s.client("SSL", None, "");
        settings.push((
            "ssl.certificate.location".into(),
            s.cert_path("client.crt").to_string_lossy().to_string(),
        ));
        settings.push((
            "ssl.key.location".into(),
            s.cert_path("client.key").to_string_lossy().to_string(),
        ));
        roundtrip(&s, &settings, &s.addr("SSL")).await;

        // Without a certificate the required listener refuses the handshake.
        let plain = s.client("SSL", None, "");
        let c = consumer(&s.broker, &as_refs(&plain));
        assert!(
            c.fetch_metadata(None, Duration::from_secs(3)).is_err(),
            "metadata without a client certificate on a client.auth=required listener"
        );
    });
    wait_for("mTLS principal in the log", Duration::from_secs(10), || {
        s.broker
            .log_lines()
            .iter()
            .any(|l| l.contains("listener=SSL") && l.contains("principal=User:CN=client,O=Skiff"))
            .then_some(())
    });
}

#[test]
fn kcat_over_sasl_ssl_and_ssl() {
    let Some(s) = start_secure(&[]) else { return };
    for (listener, mechanism) in [
        ("SASL_SSL", Some("SCRAM-SHA-256")),
        ("SASL_PLAINTEXT", Some("SCRAM-SHA-512")),
        ("SASL_SSL", Some("PLAIN")),
        ("SASL_SSL", Some("OAUTHBEARER")),
        ("SSL", None),
    ] {
        let topic = unique_topic("kcat-sec");
        let mut args: Vec<String> = Vec::new();
        for (k, v) in s.client(listener, mechanism, PASSWORD) {
            if k == "bootstrap.servers" {
                args.extend(["-b".into(), v]);
            } else {
                args.extend(["-X".into(), format!("{k}={v}")]);
            }
        }
        let mut produce = args.clone();
        produce.extend(["-P".into(), "-t".into(), topic.clone()]);
        let p: Vec<&str> = produce.iter().map(String::as_str).collect();
        let out = run_cmd(kcat(), &p, b"one\ntwo\n", Duration::from_secs(30));
        if !out.status.success() {
            s.broker.fail(&format!(
                "kcat produce {listener} {mechanism:?}: {}",
                out.stderr
            ));
        }
        let mut consume = args.clone();
        consume.extend(
            ["-C", "-t", &topic, "-o", "beginning", "-c", "2", "-e"]
                .iter()
                .map(|s| s.to_string()),
        );
        let c: Vec<&str> = consume.iter().map(String::as_str).collect();
        let out = run_cmd(kcat(), &c, b"", Duration::from_secs(30));
        if !out.status.success() || out.stdout.lines().collect::<Vec<_>>() != ["one", "two"] {
            s.broker.fail(&format!(
                "kcat consume {listener} {mechanism:?}: {}\n{}",
                out.stdout, out.stderr
            ));
        }
    }
}

/// A raw client that got through ApiVersions on a SASL listener.
fn raw_sasl(s: &Secure) -> RawClient {
    let mut c = RawClient::connect(&s.addr("SASL_PLAINTEXT"));
    let v = c.call(
        &ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("raw"))
            .with_client_software_version(StrBytes::from_static_str("1")),
        3,
    );
    assert_eq!(v.error_code, 0);
    assert!(v
        .api_keys
        .iter()
        .any(|k| k.api_key == 36 && k.max_version == 2));
    c
}

fn handshake(c: &mut RawClient, mechanism: &'static str) -> i16 {
    c.call(
        &SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str(mechanism)),
        1,
    )
    .error_code
}

fn authenticate(c: &mut RawClient, bytes: &[u8]) -> (i16, Option<String>) {
    let r = c.call(
        &SaslAuthenticateRequest::default().with_auth_bytes(bytes::Bytes::copy_from_slice(bytes)),
        2,
    );
    (r.error_code, r.error_message.map(|m| m.to_string()))
}

#[test]
fn bad_credentials_mechanisms_and_order_get_kafkas_errors() {
    let Some(s) = start_secure(&[]) else { return };
    // Wrong password and unknown user (PLAIN): SASL_AUTHENTICATION_FAILED (58), closed.
    for token in [&b"\0alice\0wrong"[..], b"\0nobody\0x"] {
        let mut c = raw_sasl(&s);
        assert_eq!(handshake(&mut c, "PLAIN"), 0);
        let (code, msg) = authenticate(&mut c, token);
        assert_eq!(code, 58);
        assert_eq!(
            msg.as_deref(),
            Some("Authentication failed: Invalid username or password")
        );
        assert!(c.closed_within(Duration::from_secs(5)));
    }
    // Unknown user (SCRAM): the generic message, which does not reveal whether the user exists.
    let mut c = raw_sasl(&s);
    assert_eq!(handshake(&mut c, "SCRAM-SHA-256"), 0);
    let (code, msg) = authenticate(&mut c, b"n,,n=nobody,r=clientnonce");
    assert_eq!(code, 58);
    assert_eq!(
        msg.as_deref(),
        Some("Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256")
    );
    // SaslHandshake on a PLAINTEXT listener: ILLEGAL_SASL_STATE (34), as KafkaApis answers.
    let mut c = RawClient::connect(&s.addr("PLAINTEXT"));
    assert_eq!(handshake(&mut c, "PLAIN"), 34);
    // Raw v0 tokens after a v0 handshake (old clients): PLAIN succeeds, then requests work.
    let mut c = raw_sasl(&s);
    let r = c.call(
        &SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str("PLAIN")),
        0,
    );
    assert_eq!(r.error_code, 0);
    c.send_bytes(&frame(b"\0alice\0alice-secret")).unwrap();
    let reply = c.read_frame().expect("v0 token reply");
    assert!(reply.is_empty(), "{reply:?}");
    let md = c.call(&MetadataRequest::default(), 12);
    assert_eq!(md.brokers.len(), 1);

    // rdkafka with a wrong password and with a disabled mechanism never gets metadata.
    run(async {
        for settings in [
            s.client("SASL_SSL", Some("SCRAM-SHA-512"), "wrong"),
            s.client("SASL_PLAINTEXT", Some("PLAIN"), "wrong"),
        ] {
            let c = consumer(&s.broker, &as_refs(&settings));
            assert!(
                c.fetch_metadata(None, Duration::from_secs(3)).is_err(),
                "{settings:?}"
            );
        }
    });
    let lines = s.broker.log_lines();
    assert!(lines
        .iter()
        .any(|l| l.contains("SASL authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512")));
    assert!(
        !lines
            .iter()
            .any(|l| !l.starts_with("[harness]") && l.contains("wrong")),
        "a password reached the log"
    );
}

/// The connection was closed and nothing was answered first.
fn closed_without_answer(c: &mut RawClient) {
    match c.read_frame() {
        Ok(f) => panic!(
            "expected a close without an answer, got a {}-byte frame",
            f.len()
        ),
        Err(e) => assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "the connection stayed open: {e}"
        ),
    }
}

/// What Kafka's SaslServerAuthenticator does with requests out of turn on a
/// SASL listener: before the mechanism is chosen, anything but ApiVersions
/// and SaslHandshake is closed without an answer; after it (handshake v1),
/// anything but SaslAuthenticate gets its ILLEGAL_SASL_STATE (34) error
/// response, then the close; an unknown mechanism gets
/// UNSUPPORTED_SASL_MECHANISM (33) with the enabled list, then the close.
#[test]
fn requests_out_of_turn_before_authentication() {
    let Some(s) = start_secure(&[]) else { return };
    // Metadata before the handshake (after ApiVersions, and as the first request).
    let mut c = raw_sasl(&s);
    c.send(&MetadataRequest::default(), 12);
    closed_without_answer(&mut c);
    let mut c = RawClient::connect(&s.addr("SASL_PLAINTEXT"));
    c.send(&MetadataRequest::default(), 12);
    closed_without_answer(&mut c);
    // SaslAuthenticate before any SaslHandshake.
    let mut c = raw_sasl(&s);
    c.send(
        &SaslAuthenticateRequest::default()
            .with_auth_bytes(bytes::Bytes::from_static(b"\0alice\0alice-secret")),
        2,
    );
    closed_without_answer(&mut c);
    // A second ApiVersions before the handshake.
    let mut c = raw_sasl(&s);
    c.send(&ApiVersionsRequest::default(), 0);
    closed_without_answer(&mut c);
    // A second SaslHandshake after a v1 handshake: ILLEGAL_SASL_STATE, closed.
    let mut c = raw_sasl(&s);
    assert_eq!(handshake(&mut c, "PLAIN"), 0);
    let r = c.call(
        &SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str("PLAIN")),
        1,
    );
    assert_eq!(r.error_code, 34);
    assert!(r.mechanisms.is_empty(), "{:?}", r.mechanisms);
    closed_without_answer(&mut c);
    // Metadata after the handshake, instead of SaslAuthenticate: answered
    // with ILLEGAL_SASL_STATE on each topic, then closed.
    let mut c = raw_sasl(&s);
    assert_eq!(handshake(&mut c, "PLAIN"), 0);
    let md = c.call(
        &MetadataRequest::default().with_topics(Some(vec![
            kafka_protocol::messages::metadata_request::MetadataRequestTopic::default()
                .with_name(Some(topic_name("t1"))),
        ])),
        12,
    );
    assert!(md.brokers.is_empty());
    assert_eq!(md.topics.len(), 1);
    assert_eq!(md.topics[0].error_code, 34);
    closed_without_answer(&mut c);
    // A mechanism that is not enabled: UNSUPPORTED_SASL_MECHANISM (33) with
    // exactly the enabled mechanisms, then closed.
    let mut c = raw_sasl(&s);
    let r = c.call(
        &SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str("GSSAPI")),
        1,
    );
    assert_eq!(r.error_code, 33);
    let listed: Vec<&str> = r.mechanisms.iter().map(|m| m.as_str()).collect();
    assert_eq!(
        listed,
        ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]
    );
    closed_without_answer(&mut c);
    // The broker is still fine: a proper exchange authenticates.
    let mut c = raw_sasl(&s);
    assert_eq!(handshake(&mut c, "PLAIN"), 0);
    assert_eq!(authenticate(&mut c, b"\0alice\0alice-secret").0, 0);
    assert_eq!(c.call(&MetadataRequest::default(), 12).brokers.len(), 1);
}

#[test]
fn wrong_mechanism_for_a_listener_is_refused() {
    let Some(s) = start_secure(&[(
        "listener.name.sasl_plaintext.sasl.enabled.mechanisms",
        "PLAIN",
    )]) else {
        return;
    };
    run(async {
        let refused = s.client("SASL_PLAINTEXT", Some("SCRAM-SHA-256"), PASSWORD);
        let c = consumer(&s.broker, &as_refs(&refused));
        assert!(c.fetch_metadata(None, Duration::from_secs(3)).is_err());
        // The same mechanism on the other listener works.
        let ok = s.client("SASL_SSL", Some("SCRAM-SHA-256"), PASSWORD);
        roundtrip(&s, &ok, &s.addr("SASL_SSL")).await;
    });
    wait_for(
        "unsupported mechanism logged",
        Duration::from_secs(10),
        || {
            s.broker
                .log_lines()
                .iter()
                .any(|l| l.contains("Unsupported SASL mechanism SCRAM-SHA-256"))
                .then_some(())
        },
    );
}

#[test]
fn wrong_bytes_and_silent_clients_are_closed() {
    let Some(s) = start_secure(&[]) else { return };
    // Kafka plaintext bytes on a TLS port: the TLS handshake fails, the connection closes.
    let mut c = RawClient::connect(&s.addr("SSL"));
    c.send(&ApiVersionsRequest::default(), 0);
    assert!(
        c.closed_within(Duration::from_secs(5)),
        "plaintext on the SSL port"
    );
    // A TLS ClientHello on a plaintext port: its first bytes are a frame size
    // far above socket.request.max.bytes, so the connection closes.
    for listener in ["PLAINTEXT", "SASL_PLAINTEXT"] {
        let mut c = RawClient::connect(&s.addr(listener));
        c.send_bytes(&[
            0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
        ])
        .unwrap();
        assert!(c.closed_within(Duration::from_secs(5)), "TLS on {listener}");
    }
    // Clients that never finish: closed after skiff.authentication.timeout.ms.
    for listener in ["SSL", "SASL_PLAINTEXT", "SASL_SSL"] {
        let mut c = RawClient::connect(&s.addr(listener));
        let started = std::time::Instant::now();
        assert!(
            c.closed_within(Duration::from_secs(15)),
            "silent client on {listener}"
        );
        assert!(
            started.elapsed() >= Duration::from_millis(2500),
            "{listener} closed too early"
        );
    }
    // A SASL client that stops after the handshake is closed too.
    let mut c = raw_sasl(&s);
    assert_eq!(handshake(&mut c, "SCRAM-SHA-256"), 0);
    assert!(c.closed_within(Duration::from_secs(15)));
    let lines = s.broker.log_lines();
    assert!(lines.iter().any(|l| l.contains("TLS handshake failed")));
    assert!(lines
        .iter()
        .any(|l| l.contains("TLS handshake did not finish in time")));
    assert!(lines
        .iter()
        .any(|l| l.contains("SASL authentication did not finish within 3000 ms")));
}

#[test]
fn oauthbearer_expired_token_is_refused() {
    let Some(s) = start_secure(&[]) else { return };
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let token = format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none"}"#),
        b64.encode(r#"{"sub":"alice","exp":1000,"iat":10}"#)
    );
    let mut c = raw_sasl(&s);
    assert_eq!(handshake(&mut c, "OAUTHBEARER"), 0);
    let (code, _) = authenticate(
        &mut c,
        format!("n,,\u{1}auth=Bearer {token}\u{1}\u{1}").as_bytes(),
    );
    assert_eq!(code, 0, "the error comes as a challenge first");
    let (code, msg) = authenticate(&mut c, &[1]);
    assert_eq!(code, 58);
    assert_eq!(msg.as_deref(), Some("{\"status\":\"invalid_token\"}"));
    assert!(c.closed_within(Duration::from_secs(5)));
}

#[test]
fn session_lifetime_and_reauthentication() {
    let Some(s) = start_secure(&[("connections.max.reauth.ms", "1500")]) else {
        return;
    };
    // The lifetime is announced; a client that does not re-authenticate is
    // closed on its first request after it.
    let mut c = raw_sasl(&s);
    assert_eq!(handshake(&mut c, "PLAIN"), 0);
    let r = c.call(
        &SaslAuthenticateRequest::default()
            .with_auth_bytes(bytes::Bytes::from_static(b"\0alice\0alice-secret")),
        1,
    );
    assert_eq!(r.error_code, 0);
    assert_eq!(r.session_lifetime_ms, 1500);
    // Re-authentication on the same connection renews the session.
    assert_eq!(handshake(&mut c, "PLAIN"), 0);
    let (code, _) = authenticate(&mut c, b"\0alice\0alice-secret");
    assert_eq!(code, 0);
    // Another principal may not take the session over.
    assert_eq!(handshake(&mut c, "PLAIN"), 0);
    let (code, msg) = authenticate(&mut c, b"\0bob\0bob-secret");
    assert_eq!(code, 58);
    assert!(msg.unwrap_or_default().contains("Cannot change principals"));
    assert!(c.closed_within(Duration::from_secs(5)));

    let mut c = raw_sasl(&s);
    assert_eq!(handshake(&mut c, "PLAIN"), 0);
    assert_eq!(authenticate(&mut c, b"\0alice\0alice-secret").0, 0);
    let expired_at = std::time::Instant::now() + Duration::from_millis(1600);
    wait_for("session expiry", Duration::from_secs(5), || {
        (std::time::Instant::now() >= expired_at).then_some(())
    });
    c.send(&MetadataRequest::default(), 12);
    assert!(
        c.closed_within(Duration::from_secs(5)),
        "expired session still served"
    );

    // librdkafka re-authenticates on its own (KIP-368) and keeps working.
    run(async {
        let settings = s.client("SASL_SSL", Some("SCRAM-SHA-256"), PASSWORD);
        let producer: FutureProducer = producer_config(&s.broker, &as_refs(&settings))
            .create()
            .expect("producer");
        let topic = unique_topic("reauth");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            let r = producer
                .send(
                    FutureRecord::<(), _>::to(&topic).payload("x"),
                    Duration::from_secs(10),
                )
                .await;
            assert!(r.is_ok(), "produce across re-authentication: {:?}", r.err());
            // Paced, so the 5 s span several 1.5 s sessions.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    // rdkafka's connections were never cut for an expired session (the raw one was).
    let lines = s.broker.log_lines();
    assert!(lines
        .iter()
        .any(|l| l.contains("SASL session expired") && l.contains("skiff-compat-raw")));
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("SASL session expired") && l.contains("client_id=\"skiff-compat\"")),
        "librdkafka did not re-authenticate in time"
    );
}

/// Writes a Java client properties file for SASL_SSL/SCRAM.
fn java_props(s: &Secure, dir: &Path, mechanism: &str, user: &str, password: &str) -> PathBuf {
    let path = dir.join(format!("client-{mechanism}.properties"));
    let mut f = std::fs::File::create(&path).expect("props");
    writeln!(
        f,
        "security.protocol=SASL_SSL\nsasl.mechanism={mechanism}\nssl.truststore.type=PEM\nssl.truststore.location={}\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{user}\" password=\"{password}\";",
        s.ca()
    )
    .expect("write props");
    path
}

#[test]
fn kafka_configs_adds_a_scram_user_that_survives_a_restart() {
    let Some(mut s) = start_secure(&[]) else {
        return;
    };
    let Some(cp) = crate::kafka_tools::classpath() else {
        return;
    };
    let props = java_props(&s, s.certs.path(), "SCRAM-SHA-512", USER, PASSWORD);
    let props = props.to_string_lossy().to_string();
    let sasl_ssl = s.addr("SASL_SSL");
    let configs = |args: &[&str]| {
        let mut all = vec!["--bootstrap-server", &sasl_ssl, "--command-config", &props];
        all.extend_from_slice(args);
        let jargs = crate::kafka_tools::java_args(cp, "kafka.admin.ConfigCommand", &all);
        let jargs: Vec<&str> = jargs.iter().map(String::as_str).collect();
        run_cmd("java", &jargs, b"", Duration::from_secs(90))
    };
    let out = configs(&[
        "--alter",
        "--add-config",
        "SCRAM-SHA-256=[iterations=8192,password=carol-secret]",
        "--entity-type",
        "users",
        "--entity-name",
        "carol",
    ]);
    if !out.status.success() {
        s.broker.fail(&format!(
            "kafka-configs --alter: {}\n{}",
            out.stdout, out.stderr
        ));
    }
    let out = configs(&[
        "--describe",
        "--entity-type",
        "users",
        "--entity-name",
        "carol",
    ]);
    assert!(
        out.stdout.contains("SCRAM-SHA-256=iterations=8192"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    let data = s
        .broker
        .data_dir()
        .expect("local")
        .join("scram-credentials.json");
    let stored = std::fs::read_to_string(&data).expect("credential file");
    assert!(!stored.contains("carol-secret"), "password stored in clear");

    let carol = |s: &Secure| {
        let mut c = s.client("SASL_SSL", Some("SCRAM-SHA-256"), "carol-secret");
        for (k, v) in c.iter_mut() {
            if k == "sasl.username" {
                *v = "carol".into();
            }
        }
        c
    };
    run(async {
        roundtrip(&s, &carol(&s), &s.addr("SASL_SSL")).await;
    });
    s.broker.restart();
    s.addrs = listener_addrs_latest(&s.broker);
    run(async {
        roundtrip(&s, &carol(&s), &s.addr("SASL_SSL")).await;
    });
}

/// The listener addresses of the broker's latest start.
fn listener_addrs_latest(broker: &Broker) -> HashMap<String, String> {
    let lines = broker.log_lines();
    let last_start = lines
        .iter()
        .rposition(|l| l.starts_with("[harness] start"))
        .unwrap_or(0);
    let mut out = HashMap::new();
    for line in &lines[last_start..] {
        if let Some(rest) = line.split("listener ready").nth(1) {
            let field = |name: &str| {
                rest.split_whitespace()
                    .find_map(|w| w.strip_prefix(&format!("{name}=")))
                    .map(|v| v.trim_matches('"').to_string())
            };
            if let (Some(n), Some(a)) = (field("name"), field("addr")) {
                out.insert(n, a);
            }
        }
    }
    out
}

/// The SCRAM-over-TLS scripts of the other clients.
fn run_client_script(name: &str, program: &str, script: &str, probe: &[&str]) {
    let Some(s) = start_secure(&[]) else { return };
    let ok = std::process::Command::new(program)
        .args(probe)
        .env("NODE_PATH", clients_js_path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|st| st.success());
    if !ok {
        let reason = format!("{name} is not installed (see compat-tests/clients/README.md)");
        assert!(
            std::env::var("CI").is_err(),
            "{reason}: .ci/run installs it"
        );
        eprintln!("SKIP: {reason}");
        return;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("compat-tests/clients")
        .join(script);
    let envs = [
        format!("SKIFF_SASL_SSL={}", s.addr("SASL_SSL")),
        format!("SKIFF_CA={}", s.ca()),
        format!("SKIFF_USER={USER}"),
        format!("SKIFF_PASSWORD={PASSWORD}"),
        format!("NODE_PATH={}", clients_js_path()),
    ];
    let mut args: Vec<&str> = envs.iter().map(String::as_str).collect();
    let script = script.to_string_lossy().to_string();
    args.push(program);
    args.push(&script);
    let out = run_cmd("env", &args, b"", Duration::from_secs(150));
    if !out.status.success() || !out.stdout.contains("PASS") || out.stdout.contains("FAIL") {
        s.broker.fail(&format!(
            "{name} ({}):\n{}\n{}",
            out.status, out.stdout, out.stderr
        ));
    }
}

fn clients_js_path() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("compat-tests/clients/js/node_modules")
        .to_string_lossy()
        .to_string()
}

#[test]
fn python_clients_with_scram_over_tls() {
    run_client_script(
        "kafka-python, aiokafka and confluent-kafka",
        "python3",
        "python/security_test.py",
        &["-c", "import kafka, aiokafka, confluent_kafka"],
    );
}

#[test]
fn kafkajs_with_scram_over_tls() {
    run_client_script(
        "kafkajs",
        "node",
        "js/kafkajs_security_test.js",
        &["-e", "require('kafkajs')"],
    );
}

#[test]
fn describe_configs_hides_secrets() {
    let Some(s) = start_secure(&[]) else { return };
    // DescribeConfigs over the raw protocol: sasl.users is sensitive and null.
    use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
    use kafka_protocol::messages::DescribeConfigsRequest;
    let mut raw = RawClient::connect(&s.addr("PLAINTEXT"));
    let r = raw.call(
        &DescribeConfigsRequest::default().with_resources(vec![DescribeConfigsResource::default()
            .with_resource_type(4)
            .with_resource_name(StrBytes::from_static_str("1"))
            .with_configuration_keys(Some(vec![StrBytes::from_static_str("sasl.users")]))]),
        4,
    );
    let entry = &r.results[0].configs[0];
    assert_eq!(entry.name.as_str(), "sasl.users");
    assert!(entry.is_sensitive);
    assert_eq!(entry.value, None);
}
