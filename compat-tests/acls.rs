//! ACLs and authorization (issue 13 part 4) with the principal a PLAINTEXT
//! connection has, `User:ANONYMOUS`: with `authorizer.class.name` set and no
//! ACL granting it anything, rdkafka's produce, consume and group join fail
//! with Kafka's error codes and nothing is written; ACLs added over the wire
//! (CreateAcls, as librdkafka and kafka-acls.sh send it) allow them, prefixed
//! patterns match, DENY beats ALLOW, and the ACLs survive a restart. Kafka's
//! own kafka-acls.sh (AclCommand, the Java AdminClient's createAcls /
//! describeAcls / deleteAcls) adds, lists and removes them. The HTTP
//! console's basic auth (`http.auth.users`) is here too.
//!
//! Bootstrapping is as with Kafka: the first run makes User:ANONYMOUS a super
//! user to create the topic and grant it ALTER/DESCRIBE on the cluster (so it
//! may manage ACLs), then the broker restarts with `super.users` empty.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::{
    ApiKey, CreateAclsRequest, DeleteAclsRequest, DescribeAclsRequest, MetadataRequest,
};
use kafka_protocol::protocol::StrBytes;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::FutureRecord;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::Message;

use crate::harness::*;

const STANDARD_AUTHORIZER: &str = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";
const ANONYMOUS: &str = "User:ANONYMOUS";

// Kafka's wire codes.
const TOPIC: i8 = 2;
const GROUP: i8 = 3;
const CLUSTER: i8 = 4;
const LITERAL: i8 = 3;
const PREFIXED: i8 = 4;
const ANY: i8 = 1;
const READ: i8 = 3;
const WRITE: i8 = 4;
const ALTER: i8 = 7;
const DESCRIBE: i8 = 8;
const DENY: i8 = 2;
const ALLOW: i8 = 3;

const TOPIC_AUTHORIZATION_FAILED: i16 = 29;
const GROUP_AUTHORIZATION_FAILED: i16 = 30;
const SECURITY_DISABLED: i16 = 54;

const T: Duration = Duration::from_secs(30);

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn acl(rt: i8, name: &str, pattern: i8, op: i8, perm: i8) -> AclCreation {
    AclCreation::default()
        .with_resource_type(rt)
        .with_resource_name(s(name))
        .with_resource_pattern_type(pattern)
        .with_principal(s(ANONYMOUS))
        .with_host(s("*"))
        .with_operation(op)
        .with_permission_type(perm)
}

/// Sends one CreateAcls; returns each creation's error code.
fn create_acls(broker: &Broker, creations: Vec<AclCreation>) -> Vec<i16> {
    let mut raw = RawClient::connect(&broker.bootstrap());
    let v = raw.pick_version(ApiKey::CreateAcls, 3);
    let resp = raw.call(&CreateAclsRequest::default().with_creations(creations), v);
    resp.results.iter().map(|r| r.error_code).collect()
}

fn grant(broker: &Broker, creations: Vec<AclCreation>) {
    let n = creations.len();
    assert_eq!(create_acls(broker, creations), vec![0; n], "CreateAcls");
}

/// Every ACL the broker holds, as (resource type, name, pattern, op, permission).
fn describe_all(broker: &Broker) -> Vec<(i8, String, i8, i8, i8)> {
    let mut raw = RawClient::connect(&broker.bootstrap());
    let v = raw.pick_version(ApiKey::DescribeAcls, 3);
    let req = DescribeAclsRequest::default()
        .with_resource_name_filter(None)
        .with_principal_filter(None)
        .with_host_filter(None)
        .with_resource_type_filter(ANY)
        .with_pattern_type_filter(ANY)
        .with_operation(ANY)
        .with_permission_type(ANY);
    let resp = raw.call(&req, v);
    assert_eq!(resp.error_code, 0, "DescribeAcls: {resp:?}");
    let mut out: Vec<_> = resp
        .resources
        .iter()
        .flat_map(|r| {
            r.acls.iter().map(move |a| {
                (
                    r.resource_type,
                    r.resource_name.to_string(),
                    r.pattern_type,
                    a.operation,
                    a.permission_type,
                )
            })
        })
        .collect();
    out.sort();
    out
}

/// One raw produce of `value`: the partition's error code.
fn raw_produce(broker: &Broker, topic: &str, value: &str) -> i16 {
    let mut raw = RawClient::connect(&broker.bootstrap());
    let v = raw.pick_version(ApiKey::Produce, 9);
    let req = produce_request(topic, 0, encode_batch(&[value.as_bytes()], None), -1);
    produce_result(&raw.call(&req, v)).0
}

/// Produces with rdkafka; the delivery's error code, if it failed.
async fn rdkafka_produce(broker: &Broker, topic: &str, value: &str) -> Option<RDKafkaErrorCode> {
    let p = future_producer(broker, &[("message.timeout.ms", "20000")]);
    let r = p
        .send(FutureRecord::<(), _>::to(topic).payload(value), T)
        .await;
    r.err().map(|(e, _)| {
        e.rdkafka_error_code()
            .unwrap_or_else(|| panic!("produce failed without a Kafka code: {e}"))
    })
}

/// Polls `c` until it reports `want` as an error (a message is a failure).
fn await_consumer_error(broker: &Broker, c: &BaseConsumer, want: RDKafkaErrorCode) {
    let deadline = Instant::now() + T;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        match c.poll(Duration::from_millis(200)) {
            Some(Err(KafkaError::MessageConsumption(code)))
            | Some(Err(KafkaError::MessageConsumptionFatal(code))) => {
                if code == want {
                    return;
                }
                seen.push(code);
            }
            Some(Err(e)) => seen.push(e.rdkafka_error_code().unwrap_or(RDKafkaErrorCode::Fail)),
            Some(Ok(m)) => broker.fail(&format!(
                "consumed offset {} although unauthorized",
                m.offset()
            )),
            None => {}
        }
    }
    broker.fail(&format!("no {want:?} from the consumer; saw {seen:?}"));
}

fn group_consumer(broker: &Broker, group: &str, topic: &str) -> BaseConsumer {
    let c = consumer(
        broker,
        &[("group.id", group), ("session.timeout.ms", "10000")],
    );
    c.subscribe(&[topic]).expect("subscribe");
    c
}

/// The values `c` (subscribed) consumes until it has `n`.
fn consume_values(broker: &Broker, c: &BaseConsumer, n: usize) -> Vec<(i64, String)> {
    let deadline = Instant::now() + T;
    let mut got = Vec::new();
    while got.len() < n && Instant::now() < deadline {
        match c.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => got.push((
                m.offset(),
                String::from_utf8_lossy(m.payload().unwrap_or_default()).to_string(),
            )),
            Some(Err(e)) => broker.fail(&format!("consume failed: {e}")),
            None => {}
        }
    }
    got
}

/// A broker with the authorizer on whose User:ANONYMOUS has been granted
/// ALTER and DESCRIBE on the cluster (it may manage ACLs and nothing else),
/// with `topic` created while it was a super user.
async fn locked_down_broker(topic: &str) -> Option<Broker> {
    if skip_if_external("the test restarts the broker with other settings") {
        return None;
    }
    let mut broker = Broker::start_with(&[
        ("authorizer.class.name", STANDARD_AUTHORIZER),
        ("super.users", ANONYMOUS),
    ]);
    create_topic(&broker, topic, 1).await;
    grant(
        &broker,
        vec![
            acl(CLUSTER, "kafka-cluster", LITERAL, ALTER, ALLOW),
            acl(CLUSTER, "kafka-cluster", LITERAL, DESCRIBE, ALLOW),
        ],
    );
    broker.restart_with(&[("super.users", "")]);
    Some(broker)
}

#[test]
fn unauthorized_clients_are_refused_until_acls_allow_them() {
    run(async {
        let prefix = unique_topic("acl-");
        let topic = format!("{prefix}orders");
        let group = unique_topic("acl-group");
        let Some(mut broker) = locked_down_broker(&topic).await else {
            return;
        };

        // Nothing granted on the topic or the group: every client is refused
        // with Kafka's code, and nothing is written.
        assert_eq!(
            rdkafka_produce(&broker, &topic, "denied").await,
            Some(RDKafkaErrorCode::TopicAuthorizationFailed)
        );
        assert_eq!(
            raw_produce(&broker, &topic, "denied"),
            TOPIC_AUTHORIZATION_FAILED
        );
        // A member of a group it may read, subscribed to the topic: what
        // fails is the topic (librdkafka reports it from Metadata).
        let readable_group = unique_topic("acl-readable");
        grant(
            &broker,
            vec![acl(GROUP, &readable_group, LITERAL, READ, ALLOW)],
        );
        let subscriber = group_consumer(&broker, &readable_group, &topic);
        await_consumer_error(
            &broker,
            &subscriber,
            RDKafkaErrorCode::TopicAuthorizationFailed,
        );
        drop(subscriber);
        // The Fetch itself is refused too.
        let mut raw = RawClient::connect(&broker.bootstrap());
        let fv = raw.pick_version(ApiKey::Fetch, 12);
        let fetch = raw.call(&fetch_request(fv, &topic, uuid::Uuid::nil(), 0, 0, 0), fv);
        assert_eq!(
            fetch.responses[0].partitions[0].error_code,
            TOPIC_AUTHORIZATION_FAILED
        );
        let member = group_consumer(&broker, &group, &topic);
        await_consumer_error(&broker, &member, RDKafkaErrorCode::GroupAuthorizationFailed);
        drop(member);
        let mut raw = RawClient::connect(&broker.bootstrap());
        let jv = raw.pick_version(ApiKey::JoinGroup, 7);
        let join = kafka_protocol::messages::JoinGroupRequest::default()
            .with_group_id(kafka_protocol::messages::GroupId(s(&group)))
            .with_session_timeout_ms(10_000)
            .with_rebalance_timeout_ms(10_000)
            .with_protocol_type(s("consumer"))
            .with_protocols(vec![
                kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol::default()
                    .with_name(s("range")),
            ]);
        assert_eq!(raw.call(&join, jv).error_code, GROUP_AUTHORIZATION_FAILED);

        // An unauthorized topic is invisible in the all-topics Metadata and
        // TOPIC_AUTHORIZATION_FAILED when named.
        let mut raw = RawClient::connect(&broker.bootstrap());
        let mv = raw.pick_version(ApiKey::Metadata, 12);
        let all = raw.call(&metadata_request(None, false), mv);
        assert!(
            all.topics
                .iter()
                .all(|t| t.name.as_ref().map(|n| n.as_str()) != Some(topic.as_str())),
            "{all:?}"
        );
        let named = raw.call(&metadata_request(Some(&[&topic]), false), mv);
        assert_eq!(named.topics[0].error_code, TOPIC_AUTHORIZATION_FAILED);
        assert!(named.topics[0].partitions.is_empty());

        // WRITE by prefix, READ on the topic and the group.
        grant(
            &broker,
            vec![
                acl(TOPIC, &prefix, PREFIXED, WRITE, ALLOW),
                acl(TOPIC, &topic, LITERAL, READ, ALLOW),
                acl(GROUP, &group, LITERAL, READ, ALLOW),
            ],
        );
        assert_eq!(rdkafka_produce(&broker, &topic, "first").await, None);
        let member = group_consumer(&broker, &group, &topic);
        // The refused produces wrote nothing: the first record is at offset 0.
        assert_eq!(
            consume_values(&broker, &member, 1),
            vec![(0, "first".to_string())]
        );
        drop(member);

        // Authorized operations: READ, WRITE and the DESCRIBE they imply
        // (bits 3, 4, 8) and nothing else; cluster: ALTER and DESCRIBE.
        let mut req = metadata_request(Some(&[&topic]), false);
        req.include_topic_authorized_operations = true;
        let v = raw.pick_version(ApiKey::Metadata, 10);
        req.include_cluster_authorized_operations = v <= 10;
        let resp = raw.call(&req, v);
        assert_eq!(resp.topics[0].error_code, 0);
        assert_eq!(
            resp.topics[0].topic_authorized_operations,
            (1 << 3) | (1 << 4) | (1 << 8)
        );
        if (8..=10).contains(&v) {
            assert_eq!(resp.cluster_authorized_operations, (1 << 7) | (1 << 8));
        }

        let cv = raw.pick_version(ApiKey::DescribeCluster, 1);
        let cluster = raw.call(
            &kafka_protocol::messages::DescribeClusterRequest::default()
                .with_include_cluster_authorized_operations(true)
                .with_endpoint_type(1),
            cv,
        );
        assert_eq!(cluster.cluster_authorized_operations, (1 << 7) | (1 << 8));
        let gv = raw.pick_version(ApiKey::DescribeGroups, 5);
        let groups = raw.call(
            &kafka_protocol::messages::DescribeGroupsRequest::default()
                .with_groups(vec![
                    kafka_protocol::messages::GroupId(s(&group)),
                    kafka_protocol::messages::GroupId(s("acl-not-granted")),
                ])
                .with_include_authorized_operations(true),
            gv,
        );
        assert_eq!(groups.groups[0].error_code, 0, "{groups:?}");
        assert_eq!(groups.groups[0].authorized_operations, (1 << 3) | (1 << 8));
        assert_eq!(groups.groups[1].error_code, GROUP_AUTHORIZATION_FAILED);

        // DENY beats ALLOW.
        grant(&broker, vec![acl(TOPIC, &topic, LITERAL, WRITE, DENY)]);
        assert_eq!(
            rdkafka_produce(&broker, &topic, "after-deny").await,
            Some(RDKafkaErrorCode::TopicAuthorizationFailed)
        );
        // A sibling under the same prefix is still writable.
        let sibling = format!("{prefix}other");
        assert_eq!(
            raw_produce(&broker, &sibling, "x"),
            3,
            "authorized by prefix, but it does not exist: UNKNOWN_TOPIC_OR_PARTITION"
        );

        // The ACLs survive a restart, and keep deciding.
        let before = describe_all(&broker);
        assert_eq!(before.len(), 7, "{before:?}");
        broker.restart();
        assert_eq!(describe_all(&broker), before);
        assert_eq!(
            raw_produce(&broker, &topic, "after-restart"),
            TOPIC_AUTHORIZATION_FAILED
        );
        let mut raw = RawClient::connect(&broker.bootstrap());
        assert_eq!(
            raw_fetch_values(&mut raw, &topic, 0, 0),
            vec![(0, Some("first".to_string()))]
        );

        // DeleteAcls removes the deny: writable again.
        let mut raw = RawClient::connect(&broker.bootstrap());
        let dv = raw.pick_version(ApiKey::DeleteAcls, 3);
        let filter = kafka_protocol::messages::delete_acls_request::DeleteAclsFilter::default()
            .with_resource_type_filter(TOPIC)
            .with_resource_name_filter(Some(s(&topic)))
            .with_principal_filter(None)
            .with_host_filter(None)
            .with_pattern_type_filter(LITERAL)
            .with_operation(ANY)
            .with_permission_type(DENY);
        let resp = raw.call(&DeleteAclsRequest::default().with_filters(vec![filter]), dv);
        assert_eq!(resp.filter_results[0].error_code, 0);
        assert_eq!(resp.filter_results[0].matching_acls.len(), 1, "{resp:?}");
        assert_eq!(raw_produce(&broker, &topic, "again"), 0);
    });
}

#[test]
fn acl_requests_are_validated_and_need_an_authorizer() {
    run(async {
        if skip_if_external("the test needs a broker without an authorizer") {
            return;
        }
        // Without authorizer.class.name everything is allowed (Skiff's and
        // Kafka's default) and the ACL APIs answer SECURITY_DISABLED.
        let open = Broker::start();
        let topic = unique_topic("acl-open");
        create_topic(&open, &topic, 1).await;
        assert_eq!(raw_produce(&open, &topic, "x"), 0);
        assert_eq!(
            create_acls(&open, vec![acl(TOPIC, "t", LITERAL, READ, ALLOW)]),
            vec![SECURITY_DISABLED]
        );
        let mut raw = RawClient::connect(&open.bootstrap());
        let v = raw.pick_version(ApiKey::DescribeAcls, 3);
        let resp = raw.call(
            &DescribeAclsRequest::default()
                .with_resource_name_filter(None)
                .with_principal_filter(None)
                .with_host_filter(None)
                .with_resource_type_filter(ANY)
                .with_pattern_type_filter(ANY)
                .with_operation(ANY)
                .with_permission_type(ANY),
            v,
        );
        assert_eq!(resp.error_code, SECURITY_DISABLED);
        // Authorized operations without an authorizer: everything a topic supports.
        let mut req = MetadataRequest::default();
        req.topics = metadata_request(Some(&[&topic]), false).topics;
        req.include_topic_authorized_operations = true;
        let mv = raw.pick_version(ApiKey::Metadata, 12);
        let resp = raw.call(&req, mv);
        assert_eq!(resp.topics[0].topic_authorized_operations, 0b1101_1111_1000);

        // With an authorizer: a super user's bad ACLs get INVALID_REQUEST
        // each (42), good ones in the same request are stored.
        let broker = Broker::start_with(&[
            ("authorizer.class.name", STANDARD_AUTHORIZER),
            ("super.users", "User:ANONYMOUS"),
        ]);
        let mut no_colon = acl(TOPIC, "t", LITERAL, READ, ALLOW);
        no_colon.principal = s("alice");
        let codes = create_acls(
            &broker,
            vec![
                acl(TOPIC, "t", LITERAL, READ, ALLOW),
                acl(ANY, "t", LITERAL, READ, ALLOW),
                acl(TOPIC, "t", 2, READ, ALLOW),
                acl(CLUSTER, "not-the-cluster", LITERAL, ALTER, ALLOW),
                acl(TOPIC, "", LITERAL, READ, ALLOW),
                acl(TOPIC, "t", LITERAL, ANY, ALLOW),
                no_colon,
            ],
        );
        assert_eq!(codes, vec![0, 42, 42, 42, 42, 42, 42]);
        assert_eq!(describe_all(&broker).len(), 1);
    });
}

// ---------------------------------------------------------------------------
// kafka-acls.sh (AclCommand: the Java AdminClient's ACL calls)
// ---------------------------------------------------------------------------

const ACL_COMMAND: &str = "org.apache.kafka.tools.AclCommand";

#[test]
fn kafka_acls_cli_adds_lists_and_removes() {
    run(async {
        if skip_if_external("the test configures an authorizer") {
            return;
        }
        let broker = Broker::start_with(&[
            ("authorizer.class.name", STANDARD_AUTHORIZER),
            ("super.users", "User:ANONYMOUS"),
        ]);
        let Some(tools) = crate::kafka_tools::Tools::new(&broker) else {
            return;
        };
        let topic = unique_topic("acl-cli");
        tools.ok(
            ACL_COMMAND,
            &[
                "--add",
                "--allow-principal",
                "User:alice",
                "--operation",
                "Read",
                "--topic",
                &topic,
                "--group",
                "g1",
            ],
            b"",
        );
        tools.ok(
            ACL_COMMAND,
            &[
                "--add",
                "--deny-principal",
                "User:bob",
                "--operation",
                "Write",
                "--topic",
                "logs-",
                "--resource-pattern-type",
                "prefixed",
            ],
            b"",
        );
        // --list prints what DescribeAcls returns, per resource.
        let out = tools.ok(ACL_COMMAND, &["--list", "--topic", &topic], b"");
        assert!(
            out.stdout.contains(&format!(
                "ResourcePattern(resourceType=TOPIC, name={topic}, patternType=LITERAL)"
            )) && out
                .stdout
                .contains("(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)"),
            "{}",
            out.stdout
        );
        let out = tools.ok(ACL_COMMAND, &["--list"], b"");
        for want in [
            "ResourcePattern(resourceType=TOPIC, name=logs-, patternType=PREFIXED)",
            "(principal=User:bob, host=*, operation=WRITE, permissionType=DENY)",
            "ResourcePattern(resourceType=GROUP, name=g1, patternType=LITERAL)",
        ] {
            assert!(out.stdout.contains(want), "{want} missing:\n{}", out.stdout);
        }
        // --principal filters by principal (a MATCH-free describe filter).
        let out = tools.ok(ACL_COMMAND, &["--list", "--principal", "User:bob"], b"");
        assert!(!out.stdout.contains("User:alice"), "{}", out.stdout);
        assert!(out.stdout.contains("User:bob"), "{}", out.stdout);

        tools.ok(
            ACL_COMMAND,
            &["--remove", "--force", "--topic", &topic],
            b"",
        );
        assert_eq!(
            describe_all(&broker).len(),
            2,
            "alice's group ACL and bob's remain"
        );
        let out = tools.ok(ACL_COMMAND, &["--list", "--topic", &topic], b"");
        assert!(!out.stdout.contains("User:alice"), "{}", out.stdout);

        // Without an authorizer, AclCommand fails with Kafka's error.
        let plain = Broker::start();
        let tools = crate::kafka_tools::Tools::new(&plain).expect("classpath resolved above");
        let out = tools.raw(ACL_COMMAND, &["--list"], b"");
        assert!(
            out.stdout.contains("SecurityDisabledException")
                || out.stderr.contains("SecurityDisabledException"),
            "stdout:\n{}\nstderr:\n{}",
            out.stdout,
            out.stderr
        );
    });
}

// ---------------------------------------------------------------------------
// HTTP basic auth
// ---------------------------------------------------------------------------

/// One HTTP GET with an optional `Authorization` header: (status, head, body).
fn http_get(addr: &str, path: &str, auth: Option<&str>) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).expect("connect to the http listener");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(a) = auth {
        req.push_str(&format!("Authorization: {a}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_string(), body.to_string())
}

#[test]
fn http_console_basic_auth() {
    run(async {
        if skip_if_external("the HTTP listener is Skiff's own") {
            return;
        }
        let broker = Broker::start_with(&[
            ("http.listeners", "127.0.0.1:0"),
            ("http.auth.users", "admin:s3cret,viewer:other"),
        ]);
        let addr = wait_for("http ready line", Duration::from_secs(10), || {
            broker
                .log_lines()
                .iter()
                .find(|l| l.contains("http ready"))
                .and_then(|l| parse_ready_addr(l))
        });
        // "admin:s3cret", "admin:wrong", "viewer:other" in base64.
        let good = "Basic YWRtaW46czNjcmV0";
        let wrong = "Basic YWRtaW46d3Jvbmc=";
        let viewer = "Basic dmlld2VyOm90aGVy";
        for path in ["/", "/api/broker", "/metrics"] {
            let (status, head, _) = http_get(&addr, path, None);
            assert_eq!(status, 401, "{path}");
            assert!(
                head.to_ascii_lowercase()
                    .contains("www-authenticate: basic realm=\"skiff\""),
                "{head}"
            );
            assert_eq!(http_get(&addr, path, Some(wrong)).0, 401, "{path}");
            assert_eq!(http_get(&addr, path, Some(good)).0, 200, "{path}");
        }
        assert_eq!(http_get(&addr, "/api/broker", Some(viewer)).0, 200);
        // Health checks stay open for probes.
        assert_eq!(http_get(&addr, "/healthz", None).0, 200);
        assert_eq!(http_get(&addr, "/readyz", None).0, 200);
        // The password is never shown, in the API or in the broker's log.
        let (_, _, body) = http_get(&addr, "/api/broker", Some(good));
        assert!(body.contains("http.auth.users"), "{body}");
        assert!(!body.contains("s3cret"), "{body}");
        // (The harness's own line shows the command line it ran.)
        assert!(!broker
            .log_lines()
            .iter()
            .any(|l| !l.starts_with("[harness]") && l.contains("s3cret")));
    });
}

// ---------------------------------------------------------------------------
// Idempotent and transactional producers
// ---------------------------------------------------------------------------

const CLUSTER_AUTHORIZATION_FAILED: i16 = 31;
const TRANSACTIONAL_ID: i8 = 5;

/// InitProducerId (no transactional id): its error code.
fn raw_init_producer_id(broker: &Broker) -> i16 {
    let mut raw = RawClient::connect(&broker.bootstrap());
    let v = raw.pick_version(ApiKey::InitProducerId, 4);
    let req = kafka_protocol::messages::InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(-1)
        .with_producer_id(kafka_protocol::messages::ProducerId(-1))
        .with_producer_epoch(-1);
    raw.call(&req, v).error_code
}

#[test]
fn idempotent_and_transactional_producers_need_their_acls() {
    run(async {
        use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
        let topic = unique_topic("acl-txn-topic");
        let Some(broker) = locked_down_broker(&topic).await else {
            return;
        };
        // An idempotent producer needs IDEMPOTENT_WRITE on the cluster or
        // WRITE on some topic (KIP-679).
        assert_eq!(raw_init_producer_id(&broker), CLUSTER_AUTHORIZATION_FAILED);
        grant(&broker, vec![acl(TOPIC, &topic, LITERAL, WRITE, ALLOW)]);
        assert_eq!(raw_init_producer_id(&broker), 0);
        let p = future_producer(&broker, &[("enable.idempotence", "true")]);
        let r = p
            .send(FutureRecord::<(), _>::to(&topic).payload("idem"), T)
            .await;
        assert!(r.is_ok(), "idempotent produce: {:?}", r.err());

        // A transactional producer needs WRITE on its transactional id.
        let txn_id = unique_topic("acl-tx-");
        let producer = |id: &str| -> BaseProducer {
            producer_config(&broker, &[("transactional.id", id)])
                .create()
                .expect("create transactional producer")
        };
        let p = producer(&txn_id);
        let err = p
            .init_transactions(T)
            .expect_err("init_transactions without WRITE on the transactional id");
        assert_eq!(
            err.rdkafka_error_code(),
            Some(RDKafkaErrorCode::TransactionalIdAuthorizationFailed),
            "{err}"
        );
        drop(p);
        grant(
            &broker,
            vec![acl(TRANSACTIONAL_ID, "acl-tx-", PREFIXED, WRITE, ALLOW)],
        );
        let p = producer(&txn_id);
        p.init_transactions(T)
            .unwrap_or_else(|e| broker.fail(&format!("init_transactions: {e}")));
        p.begin_transaction().expect("begin");
        if let Err((e, _)) = p.send(
            BaseRecord::<(), _>::to(&topic)
                .partition(0)
                .payload("in-txn"),
        ) {
            broker.fail(&format!("send: {e}"));
        }
        p.commit_transaction(T)
            .unwrap_or_else(|e| broker.fail(&format!("commit: {e}")));
    });
}

/// The authorizer's audit log (Kafka's `kafka.authorizer.logger`, here the
/// tracing target `skiff::authorizer`): a denied produce writes one INFO line
/// with principal, operation, host, resource and request, once per request
/// even when the request names the topic twice; allowed decisions are DEBUG,
/// so absent at the default level.
#[test]
fn denied_produce_is_audit_logged_once() {
    run(async {
        let topic = unique_topic("acl-audit");
        let Some(broker) = locked_down_broker(&topic).await else {
            return;
        };
        let mut raw = RawClient::connect(&broker.bootstrap());
        let v = raw.pick_version(ApiKey::Produce, 9);
        let mut req = produce_request(&topic, 0, encode_batch(&[b"denied"], None), -1);
        let again = req.topic_data[0].clone();
        req.topic_data.push(again);
        let resp = raw.call(&req, v);
        for t in &resp.responses {
            for p in &t.partition_responses {
                assert_eq!(p.error_code, TOPIC_AUTHORIZATION_FAILED);
            }
        }
        let want = format!(
            "Principal = User:ANONYMOUS is Denied operation = WRITE from host = 127.0.0.1 on resource = Topic:LITERAL:{topic} for request = Produce"
        );
        let count = || {
            broker
                .log_lines()
                .iter()
                .filter(|l| l.contains("skiff::authorizer") && l.contains(&want))
                .count()
        };
        wait_for("the audit line of the denied produce", T, || {
            (count() > 0).then_some(())
        });
        // One more request after it: by then the first one's lines are all written.
        assert_eq!(
            raw_produce(&broker, &topic, "denied"),
            TOPIC_AUTHORIZATION_FAILED
        );
        wait_for("the second produce's audit line", T, || {
            (count() >= 2).then_some(())
        });
        assert_eq!(count(), 2, "one line per denied request");
        let lines = broker.log_lines();
        assert!(
            !lines
                .iter()
                .any(|l| l.contains("skiff::authorizer") && l.contains("is Allowed")),
            "allowed decisions are DEBUG"
        );
    });
}

/// KIP-848 regex subscriptions resolve only to topics the member's
/// principal may DESCRIBE (Kafka 4.1): the other matches are silently left
/// out of the subscription, so the member is assigned none of them.
#[test]
fn consumer_group_regex_matches_only_describable_topics() {
    if skip_if_external("the test restarts the broker with other settings") {
        return;
    }
    run(async {
        let prefix = unique_topic("rx-");
        let (allowed, hidden) = (format!("{prefix}a"), format!("{prefix}b"));
        let group = unique_topic("rx-group");
        let mut broker = Broker::start_with(&[
            ("authorizer.class.name", STANDARD_AUTHORIZER),
            ("super.users", ANONYMOUS),
        ]);
        create_topic(&broker, &allowed, 2).await;
        create_topic(&broker, &hidden, 2).await;
        let mut raw = RawClient::connect(&broker.bootstrap());
        let (allowed_id, hidden_id) = (topic_id(&mut raw, &allowed), topic_id(&mut raw, &hidden));
        drop(raw);
        grant(
            &broker,
            vec![
                acl(TOPIC, &allowed, LITERAL, READ, ALLOW),
                acl(TOPIC, &allowed, LITERAL, DESCRIBE, ALLOW),
                acl(GROUP, &group, LITERAL, READ, ALLOW),
            ],
        );
        broker.restart_with(&[("super.users", "")]);

        let mut raw = RawClient::connect(&broker.bootstrap());
        let (join, v) = regex_join(&mut raw, &group, &prefix);
        let (_, assigned) = RegexMember::join(&mut raw, join, v).assigned_until(
            &broker,
            &mut raw,
            |a| !a.is_empty(),
            "the regex member was never assigned a partition",
        );
        assert_eq!(
            assigned,
            vec![(allowed_id, 2)],
            "only {allowed} (not {hidden_id})"
        );
    });
}

/// A KIP-848 member of `group` subscribed to the regex `^prefix.*`: its
/// joining heartbeat and the version to send it at.
fn regex_join(
    raw: &mut RawClient,
    group: &str,
    prefix: &str,
) -> (kafka_protocol::messages::ConsumerGroupHeartbeatRequest, i16) {
    use kafka_protocol::messages::{ConsumerGroupHeartbeatRequest, GroupId};
    let v = raw.pick_version(ApiKey::ConsumerGroupHeartbeat, 1);
    assert!(v >= 1, "ConsumerGroupHeartbeat v1 (regex) not served");
    let join = ConsumerGroupHeartbeatRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_member_id(s(&uuid::Uuid::new_v4().to_string()))
        .with_member_epoch(0)
        .with_rebalance_timeout_ms(30_000)
        .with_subscribed_topic_regex(Some(s(&format!("^{prefix}.*"))))
        .with_topic_partitions(Some(vec![]));
    (join, v)
}

/// A raw consumer-protocol member: its joining request, epoch and last
/// assignment.
struct RegexMember {
    join: kafka_protocol::messages::ConsumerGroupHeartbeatRequest,
    v: i16,
    epoch: i32,
    assignment: Option<kafka_protocol::messages::consumer_group_heartbeat_response::Assignment>,
}

impl RegexMember {
    fn join(
        raw: &mut RawClient,
        join: kafka_protocol::messages::ConsumerGroupHeartbeatRequest,
        v: i16,
    ) -> RegexMember {
        let r = raw.call(&join, v);
        assert_eq!(r.error_code, 0, "{r:?}");
        RegexMember {
            join,
            v,
            epoch: r.member_epoch,
            assignment: r.assignment,
        }
    }

    /// The assignment as (topic id, partition count), sorted.
    fn assigned(&self) -> Vec<(uuid::Uuid, usize)> {
        let mut a: Vec<(uuid::Uuid, usize)> = self
            .assignment
            .iter()
            .flat_map(|a| &a.topic_partitions)
            .map(|tp| (tp.topic_id, tp.partitions.len()))
            .collect();
        a.sort();
        a
    }

    /// Heartbeats (every 100 ms, as a client would more slowly) until the
    /// assignment satisfies `done`; fails the test after a deadline. Returns
    /// how long it took and the assignment.
    fn assigned_until(
        &mut self,
        broker: &Broker,
        raw: &mut RawClient,
        done: impl Fn(&[(uuid::Uuid, usize)]) -> bool,
        what: &str,
    ) -> (Duration, Vec<(uuid::Uuid, usize)>) {
        let started = Instant::now();
        let deadline = started + T;
        while !done(&self.assigned()) {
            if Instant::now() > deadline {
                broker.fail(what);
            }
            std::thread::sleep(Duration::from_millis(100));
            let beat = self
                .join
                .clone()
                .with_member_epoch(self.epoch)
                .with_topic_partitions(None);
            let r = raw.call(&beat, self.v);
            assert_eq!(r.error_code, 0, "{r:?}");
            self.epoch = r.member_epoch;
            if r.assignment.is_some() {
                self.assignment = r.assignment;
            }
        }
        (started.elapsed(), self.assigned())
    }
}

/// A DESCRIBE granted after a regex was resolved reaches the subscription
/// the way Kafka 4.1 does it: at the periodic re-resolution
/// (`group.consumer.regex.refresh.interval.ms`, here its minimum of 10 s),
/// without any topic being created or deleted.
#[test]
fn a_describe_granted_later_reaches_a_regex_at_its_periodic_refresh() {
    if skip_if_external("the test restarts the broker with other settings") {
        return;
    }
    run(async {
        let prefix = unique_topic("rxl-");
        let (allowed, later) = (format!("{prefix}a"), format!("{prefix}b"));
        let group = unique_topic("rxl-group");
        let mut broker = Broker::start_with(&[
            ("authorizer.class.name", STANDARD_AUTHORIZER),
            ("super.users", ANONYMOUS),
            ("group.consumer.regex.refresh.interval.ms", "10000"),
        ]);
        create_topic(&broker, &allowed, 2).await;
        create_topic(&broker, &later, 2).await;
        let mut raw = RawClient::connect(&broker.bootstrap());
        let (allowed_id, later_id) = (topic_id(&mut raw, &allowed), topic_id(&mut raw, &later));
        drop(raw);
        grant(
            &broker,
            vec![
                acl(TOPIC, &allowed, LITERAL, READ, ALLOW),
                acl(TOPIC, &allowed, LITERAL, DESCRIBE, ALLOW),
                acl(GROUP, &group, LITERAL, READ, ALLOW),
                // To grant the rest below without being a super user.
                acl(CLUSTER, "kafka-cluster", LITERAL, ALTER, ALLOW),
            ],
        );
        broker.restart_with(&[("super.users", "")]);

        let mut raw = RawClient::connect(&broker.bootstrap());
        let (join, v) = regex_join(&mut raw, &group, &prefix);
        let mut member = RegexMember::join(&mut raw, join, v);
        let (_, assigned) = member.assigned_until(
            &broker,
            &mut raw,
            |a| !a.is_empty(),
            "the regex member was never assigned a partition",
        );
        assert_eq!(assigned, vec![(allowed_id, 2)]);

        // DESCRIBE (and READ) on the other match; no topic changes.
        grant(
            &broker,
            vec![
                acl(TOPIC, &later, LITERAL, READ, ALLOW),
                acl(TOPIC, &later, LITERAL, DESCRIBE, ALLOW),
            ],
        );
        let mut want = vec![(allowed_id, 2), (later_id, 2)];
        want.sort();
        let (took, assigned) = member.assigned_until(
            &broker,
            &mut raw,
            |a| a == want.as_slice(),
            "the later DESCRIBE never reached the regex subscription",
        );
        assert_eq!(assigned, want);
        println!("DESCRIBE granted later took effect after {took:?} (refresh interval 10 s)");
    });
}
