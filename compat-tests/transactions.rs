//! Transactions and exactly-once: rdkafka's transactional producer, read
//! committed and read uncommitted consumers, consume–transform–produce with
//! `send_offsets_to_transaction`, zombie fencing, timeouts, a broker
//! SIGKILL mid-transaction; and raw requests for what a client library
//! never sends on purpose (bad state, unadded partitions, control batches).

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{
    AddPartitionsToTxnRequest, DescribeTransactionsRequest, EndTxnRequest, InitProducerIdRequest,
    ListOffsetsRequest, ListTransactionsRequest, ProducerId, TransactionalId,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{Compression, RecordBatchEncoder, RecordEncodeOptions};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

use crate::harness::*;

const T: Duration = Duration::from_secs(20);

const INVALID_RECORD: i16 = 87;
const INVALID_TXN_STATE: i16 = 48;
const CONCURRENT_TRANSACTIONS: i16 = 51;
const INVALID_TRANSACTION_TIMEOUT: i16 = 50;
const TRANSACTION_ABORTABLE: i16 = 120;
const TRANSACTIONAL_ID_NOT_FOUND: i16 = 105;

fn txn_producer(broker: &Broker, txn_id: &str, extra: &[(&str, &str)]) -> BaseProducer {
    let mut c = producer_config(broker, &[("transactional.id", txn_id)]);
    for (k, v) in extra {
        c.set(*k, *v);
    }
    let p: BaseProducer = c.create().expect("create transactional producer");
    p.init_transactions(T)
        .unwrap_or_else(|e| broker.fail(&format!("init_transactions: {e}")));
    p
}

fn send(p: &BaseProducer, topic: &str, partition: i32, value: &str) {
    let mut rec = BaseRecord::<(), _>::to(topic)
        .partition(partition)
        .payload(value);
    loop {
        match p.send(rec) {
            Ok(()) => return,
            Err((
                KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull),
                r,
            )) => {
                p.poll(Duration::from_millis(10));
                rec = r;
            }
            Err((e, _)) => panic!("send: {e}"),
        }
    }
}

fn committed_consumer(broker: &Broker) -> BaseConsumer {
    consumer(broker, &[("isolation.level", "read_committed")])
}

fn uncommitted_consumer(broker: &Broker) -> BaseConsumer {
    consumer(broker, &[("isolation.level", "read_uncommitted")])
}

fn values(msgs: &[rdkafka::message::OwnedMessage]) -> Vec<String> {
    let mut v: Vec<String> = msgs.iter().map(payload_str).collect();
    v.sort();
    v
}

/// (high watermark, last stable offset) through raw ListOffsets latest.
fn latest_offsets(broker: &Broker, topic: &str, partition: i32) -> (i64, i64) {
    use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
    let mut raw = RawClient::connect(&broker.bootstrap());
    let mut out = [0i64; 2];
    for (i, isolation) in [0i8, 1].into_iter().enumerate() {
        let mut p = ListOffsetsPartition::default();
        p.partition_index = partition;
        p.timestamp = -1;
        let mut t = ListOffsetsTopic::default();
        t.name = topic_name(topic);
        t.partitions = vec![p];
        let mut req = ListOffsetsRequest::default();
        req.replica_id = (-1).into();
        req.isolation_level = isolation;
        req.topics = vec![t];
        let resp = raw.call(&req, 5);
        let part = &resp.topics[0].partitions[0];
        assert_eq!(part.error_code, 0, "ListOffsets: {resp:?}");
        out[i] = part.offset;
    }
    (out[0], out[1])
}

#[test]
fn committed_transaction_is_visible_to_both_isolation_levels() {
    let broker = Broker::start();
    let topic = unique_topic("txn-commit");
    run(async {
        create_topic(&broker, &topic, 2).await;
    });
    let p = txn_producer(&broker, &unique_topic("tid"), &[]);
    p.begin_transaction().unwrap();
    for i in 0..10 {
        send(&p, &topic, i % 2, &format!("c{i}"));
    }
    p.commit_transaction(T).expect("commit");
    let expect: Vec<String> = {
        let mut v: Vec<String> = (0..10).map(|i| format!("c{i}")).collect();
        v.sort();
        v
    };
    for c in [committed_consumer(&broker), uncommitted_consumer(&broker)] {
        assign_from_start(&c, &topic, &[0, 1]);
        assert_eq!(values(&consume_exact(&c, 10, T)), expect);
    }
    // Each partition: 5 records + 1 COMMIT marker; nothing is unstable.
    for part in 0..2 {
        assert_eq!(latest_offsets(&broker, &topic, part), (6, 6));
    }
}

#[test]
fn aborted_transaction_is_hidden_from_read_committed_only() {
    let broker = Broker::start();
    let topic = unique_topic("txn-abort");
    run(async {
        create_topic(&broker, &topic, 1).await;
    });
    let p = txn_producer(&broker, &unique_topic("tid"), &[]);
    p.begin_transaction().unwrap();
    for i in 0..5 {
        send(&p, &topic, 0, &format!("aborted{i}"));
    }
    p.flush(T).unwrap();
    p.abort_transaction(T).expect("abort");
    p.begin_transaction().unwrap();
    for i in 0..5 {
        send(&p, &topic, 0, &format!("kept{i}"));
    }
    p.commit_transaction(T).expect("commit");

    let c = committed_consumer(&broker);
    assign_from_start(&c, &topic, &[0]);
    let got = consume_exact(&c, 5, T);
    assert!(
        got.iter().all(|m| payload_str(m).starts_with("kept")),
        "read_committed saw aborted data: {:?}",
        values(&got)
    );
    let c = uncommitted_consumer(&broker);
    assign_from_start(&c, &topic, &[0]);
    assert_eq!(consume_exact(&c, 10, T).len(), 10);
}

#[test]
fn open_transaction_holds_back_read_committed_and_the_lso() {
    let broker = Broker::start();
    let topic = unique_topic("txn-lso");
    run(async {
        create_topic(&broker, &topic, 1).await;
    });
    // Committed data before the open transaction stays readable.
    let plain = future_producer(&broker, &[]);
    run(async {
        plain
            .send(
                rdkafka::producer::FutureRecord::<(), _>::to(&topic)
                    .partition(0)
                    .payload("before"),
                T,
            )
            .await
            .expect("plain produce");
    });
    let p = txn_producer(&broker, &unique_topic("tid"), &[]);
    p.begin_transaction().unwrap();
    for i in 0..3 {
        send(&p, &topic, 0, &format!("open{i}"));
    }
    p.flush(T).unwrap();
    // High watermark 4, LSO 1: the open transaction starts at offset 1.
    assert_eq!(latest_offsets(&broker, &topic, 0), (4, 1));

    // Raw Fetch v4+ read_committed: only "before", LSO reported.
    let mut raw = RawClient::connect(&broker.bootstrap());
    let mut req = fetch_request(11, &topic, uuid::Uuid::nil(), 0, 0, 0);
    req.isolation_level = 1;
    let resp = raw.call(&req, 11);
    let part = &resp.responses[0].partitions[0];
    assert_eq!(part.error_code, 0);
    assert_eq!(part.high_watermark, 4);
    assert_eq!(part.last_stable_offset, 1);
    let recs = decode_records(part.records.as_ref().expect("records"));
    assert_eq!(recs.len(), 1, "read_committed fetch returned {recs:?}");

    let c = committed_consumer(&broker);
    assign_from_start(&c, &topic, &[0]);
    assert_eq!(values(&consume_exact(&c, 1, T)), ["before"]);
    p.commit_transaction(T).expect("commit");
    let got = consume_exact(&c, 3, T);
    assert_eq!(values(&got), ["open0", "open1", "open2"]);
    assert_eq!(latest_offsets(&broker, &topic, 0), (5, 5));
}

#[test]
fn aborted_transactions_are_listed_in_read_committed_fetch() {
    let broker = Broker::start();
    let topic = unique_topic("txn-abortlist");
    run(async {
        create_topic(&broker, &topic, 1).await;
    });
    let p = txn_producer(&broker, &unique_topic("tid"), &[]);
    p.begin_transaction().unwrap();
    send(&p, &topic, 0, "x");
    p.flush(T).unwrap();
    p.abort_transaction(T).unwrap();
    let mut raw = RawClient::connect(&broker.bootstrap());
    let mut req = fetch_request(11, &topic, uuid::Uuid::nil(), 0, 0, 0);
    req.isolation_level = 1;
    // Kafka answers EndTxn once PrepareAbort is logged and writes the ABORT
    // marker afterwards (Skiff writes it first), so wait for the marker:
    // the last stable offset moves past it.
    let deadline = std::time::Instant::now() + T;
    let resp = loop {
        let resp = raw.call(&req, 11);
        let lso = resp.responses[0].partitions[0].last_stable_offset;
        if lso == 2 || std::time::Instant::now() > deadline {
            break resp;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let part = &resp.responses[0].partitions[0];
    let aborted = part.aborted_transactions.as_ref().expect("aborted list");
    assert_eq!(aborted.len(), 1, "{part:?}");
    assert_eq!(aborted[0].first_offset, 0);
    assert_eq!(part.last_stable_offset, 2);
}

#[test]
fn consume_transform_produce_commits_offsets_with_the_output() {
    let broker = Broker::start();
    let (input, output) = (unique_topic("ctp-in"), unique_topic("ctp-out"));
    run(async {
        create_topic(&broker, &input, 1).await;
        create_topic(&broker, &output, 1).await;
    });
    let plain = future_producer(&broker, &[]);
    run(async {
        for i in 0..10 {
            plain
                .send(
                    rdkafka::producer::FutureRecord::<(), _>::to(&input)
                        .partition(0)
                        .payload(&format!("in{i}")),
                    T,
                )
                .await
                .expect("produce input");
        }
    });
    let group = unique_topic("ctp-group");
    let txn_id = unique_topic("ctp-tid");

    // Run 1: transform everything, send the offsets, then "crash" (the app
    // dies before committing: a new producer with the same id takes over).
    {
        let c = group_consumer(&broker, &group);
        c.subscribe(&[&input]).unwrap();
        let msgs = consume_exact(&c, 10, T);
        let p = txn_producer(&broker, &txn_id, &[]);
        p.begin_transaction().unwrap();
        for m in &msgs {
            send(&p, &output, 0, &format!("out-{}", payload_str(m)));
        }
        let mut offsets = TopicPartitionList::new();
        offsets
            .add_partition_offset(&input, 0, Offset::Offset(10))
            .unwrap();
        p.send_offsets_to_transaction(&offsets, &c.group_metadata().unwrap(), T)
            .expect("send_offsets_to_transaction");
        p.flush(T).unwrap();
        // The app crashes here; its consumer leaves without committing.
    }
    // The new instance fences the old one: its transaction is aborted.
    let p = txn_producer(&broker, &txn_id, &[]);
    assert_eq!(committed_offset(&broker, &group, &input), None);
    let (hw, lso) = latest_offsets(&broker, &output, 0);
    assert_eq!(hw, lso, "the aborted transaction must not hold the LSO");
    let c = committed_consumer(&broker);
    assign_from_start(&c, &output, &[0]);
    assert_eq!(consume_exact(&c, 0, Duration::from_secs(2)).len(), 0);

    // Run 2: the new instance redoes the work and commits.
    let c = group_consumer(&broker, &group);
    c.subscribe(&[&input]).unwrap();
    let msgs = consume_exact(&c, 10, T);
    p.begin_transaction().unwrap();
    for m in &msgs {
        send(&p, &output, 0, &format!("out-{}", payload_str(m)));
    }
    let mut offsets = TopicPartitionList::new();
    offsets
        .add_partition_offset(&input, 0, Offset::Offset(10))
        .unwrap();
    p.send_offsets_to_transaction(&offsets, &c.group_metadata().unwrap(), T)
        .expect("send_offsets_to_transaction");
    p.commit_transaction(T).expect("commit");
    assert_eq!(committed_offset(&broker, &group, &input), Some(10));
    let rc = committed_consumer(&broker);
    assign_from_start(&rc, &output, &[0]);
    let got = consume_exact(&rc, 10, T);
    assert!(got.iter().all(|m| payload_str(m).starts_with("out-in")));
}

fn group_consumer(broker: &Broker, group: &str) -> BaseConsumer {
    let mut c = rdkafka::ClientConfig::new();
    c.set("bootstrap.servers", broker.bootstrap())
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", "read_committed")
        .set("session.timeout.ms", "6000")
        .set("fetch.wait.max.ms", "100")
        .set("log_level", "3");
    c.create().expect("group consumer")
}

/// The group's committed offset for partition 0 of `topic`, via a fresh
/// consumer of the group (OffsetFetch with require_stable, as librdkafka sends).
fn committed_offset(broker: &Broker, group: &str, topic: &str) -> Option<i64> {
    let c = group_consumer(broker, group);
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, 0);
    let got = c.committed_offsets(tpl, T).expect("committed offsets");
    match got.find_partition(topic, 0).expect("partition").offset() {
        Offset::Offset(o) => Some(o),
        _ => None,
    }
}

#[test]
fn a_second_producer_with_the_same_id_fences_the_first() {
    let broker = Broker::start();
    let topic = unique_topic("txn-fence");
    run(async {
        create_topic(&broker, &topic, 1).await;
    });
    let txn_id = unique_topic("tid");
    let zombie = txn_producer(&broker, &txn_id, &[]);
    zombie.begin_transaction().unwrap();
    send(&zombie, &topic, 0, "zombie");
    zombie.flush(T).unwrap();

    let fresh = txn_producer(&broker, &txn_id, &[]);
    fresh.begin_transaction().unwrap();
    send(&fresh, &topic, 0, "fresh");
    fresh.commit_transaction(T).expect("fresh commit");

    let err = zombie
        .commit_transaction(T)
        .expect_err("the fenced producer must not commit");
    match &err {
        KafkaError::Transaction(e) => assert!(
            e.is_fatal() || e.txn_requires_abort(),
            "unexpected error kind: {e:?}"
        ),
        other => panic!("unexpected error: {other:?}"),
    }
    let c = committed_consumer(&broker);
    assign_from_start(&c, &topic, &[0]);
    assert_eq!(values(&consume_exact(&c, 1, T)), ["fresh"]);
}

#[test]
fn a_transaction_past_its_timeout_is_aborted() {
    let broker = Broker::start();
    let topic = unique_topic("txn-timeout");
    run(async {
        create_topic(&broker, &topic, 1).await;
    });
    let txn_id = unique_topic("tid");
    let p = txn_producer(
        &broker,
        &txn_id,
        &[
            ("transaction.timeout.ms", "1500"),
            ("socket.timeout.ms", "1500"),
            ("message.timeout.ms", "1500"),
        ],
    );
    p.begin_transaction().unwrap();
    send(&p, &topic, 0, "late");
    p.flush(T).unwrap();
    let (hw, lso) = latest_offsets(&broker, &topic, 0);
    assert_eq!((hw, lso), (1, 0));
    wait_for(
        "the coordinator to abort the timed-out transaction",
        T,
        || {
            let (hw, lso) = latest_offsets(&broker, &topic, 0);
            (hw == 2 && lso == 2).then_some(())
        },
    );
    assert_eq!(describe_state(&broker, &txn_id), "CompleteAbort");
    assert!(
        p.commit_transaction(T).is_err(),
        "a timed-out transaction cannot commit"
    );
    let c = committed_consumer(&broker);
    assign_from_start(&c, &topic, &[0]);
    assert_eq!(consume_exact(&c, 0, Duration::from_secs(1)).len(), 0);
}

fn describe_state(broker: &Broker, txn_id: &str) -> String {
    let mut raw = RawClient::connect(&broker.bootstrap());
    let mut req = DescribeTransactionsRequest::default();
    req.transactional_ids = vec![TransactionalId(StrBytes::from_string(txn_id.into()))];
    let resp = raw.call(&req, 0);
    let s = &resp.transaction_states[0];
    assert_eq!(s.error_code, 0, "{resp:?}");
    s.transaction_state.to_string()
}

#[test]
fn broker_sigkill_mid_transaction_keeps_commits_and_aborts_the_open_one() {
    if skip_if_external("restarts the broker") {
        return;
    }
    let mut broker = Broker::start_with(&[("log.flush.interval.messages", "1")]);
    let topic = unique_topic("txn-kill");
    run(async {
        create_topic(&broker, &topic, 1).await;
    });
    let txn_id = unique_topic("tid");
    {
        let p = txn_producer(
            &broker,
            &txn_id,
            &[
                ("transaction.timeout.ms", "2000"),
                ("socket.timeout.ms", "2000"),
                ("message.timeout.ms", "2000"),
            ],
        );
        p.begin_transaction().unwrap();
        send(&p, &topic, 0, "committed");
        p.commit_transaction(T).expect("commit");
        p.begin_transaction().unwrap();
        send(&p, &topic, 0, "open");
        p.flush(T).unwrap();
        broker.kill();
    }
    broker.restart();
    // The open transaction is aborted by its timeout after the restart.
    wait_for(
        "the open transaction to be aborted after restart",
        T,
        || {
            let (hw, lso) = latest_offsets(&broker, &topic, 0);
            (lso == hw && hw >= 4).then_some(())
        },
    );
    let c = committed_consumer(&broker);
    assign_from_start(&c, &topic, &[0]);
    assert_eq!(values(&consume_exact(&c, 1, T)), ["committed"]);
    // The transactional id works again after the restart.
    let p = txn_producer(&broker, &txn_id, &[]);
    p.begin_transaction().unwrap();
    send(&p, &topic, 0, "after");
    p.commit_transaction(T).expect("commit after restart");
    assert_eq!(values(&consume_exact(&c, 1, T)), ["after"]);
}

// ---------------------------------------------------------------------------
// Raw protocol: bad input and admin APIs
// ---------------------------------------------------------------------------

/// The broker's finalized `transaction.version` feature level (ApiVersions
/// v3), 0 when it advertises none.
fn transaction_version(raw: &mut RawClient) -> i16 {
    use kafka_protocol::messages::ApiVersionsRequest;
    let mut req = ApiVersionsRequest::default();
    req.client_software_name = StrBytes::from_static_str("skiff-compat");
    req.client_software_version = StrBytes::from_static_str("0.1");
    let resp = raw.call(&req, 3);
    resp.finalized_features
        .iter()
        .find(|f| f.name.as_str() == "transaction.version")
        .map(|f| f.max_version_level)
        .unwrap_or(0)
}

fn raw_init(raw: &mut RawClient, txn_id: &str, timeout_ms: i32) -> (i16, i64, i16) {
    let mut req = InitProducerIdRequest::default();
    req.transactional_id = Some(TransactionalId(StrBytes::from_string(txn_id.into())));
    req.transaction_timeout_ms = timeout_ms;
    req.producer_id = ProducerId(-1);
    req.producer_epoch = -1;
    let resp = raw.call(&req, 4);
    (resp.error_code, resp.producer_id.0, resp.producer_epoch)
}

fn raw_add_partition(raw: &mut RawClient, txn_id: &str, pid: i64, epoch: i16, topic: &str) -> i16 {
    use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
    let mut t = AddPartitionsToTxnTopic::default();
    t.name = topic_name(topic);
    t.partitions = vec![0];
    let mut req = AddPartitionsToTxnRequest::default();
    req.v3_and_below_transactional_id = TransactionalId(StrBytes::from_string(txn_id.into()));
    req.v3_and_below_producer_id = ProducerId(pid);
    req.v3_and_below_producer_epoch = epoch;
    req.v3_and_below_topics = vec![t];
    let resp = raw.call(&req, 3);
    resp.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code
}

fn raw_end(raw: &mut RawClient, txn_id: &str, pid: i64, epoch: i16, commit: bool) -> i16 {
    let mut req = EndTxnRequest::default();
    req.transactional_id = TransactionalId(StrBytes::from_string(txn_id.into()));
    req.producer_id = ProducerId(pid);
    req.producer_epoch = epoch;
    req.committed = commit;
    raw.call(&req, 3).error_code
}

/// One v2 batch of `values`, transactional (and a control batch if asked).
fn txn_batch(values: &[&[u8]], pid: i64, epoch: i16, control: bool) -> Bytes {
    let ts = now_ms();
    let records: Vec<_> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut r = record(i as i64, ts, None, Some(v));
            r.producer_id = pid;
            r.producer_epoch = epoch;
            r.sequence = i as i32;
            r.transactional = true;
            r.control = control;
            r
        })
        .collect();
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        records.iter(),
        &RecordEncodeOptions {
            version: 2,
            compression: Compression::None,
        },
    )
    .expect("encode");
    buf.freeze()
}

#[test]
fn raw_bad_transaction_requests_get_kafkas_errors() {
    let broker = Broker::start_with(&[("transaction.max.timeout.ms", "60000")]);
    let topic = unique_topic("txn-raw");
    run(async {
        create_topic(&broker, &topic, 1).await;
    });
    let mut raw = RawClient::connect(&broker.bootstrap());
    let txn_id = unique_topic("raw-tid");

    // Above transaction.max.timeout.ms: the 60 s set above, or Kafka's
    // default 900 s on an external broker (where the setting cannot apply).
    let too_long = if broker.is_external() {
        900_001
    } else {
        600_000
    };
    assert_eq!(
        raw_init(&mut raw, &txn_id, too_long).0,
        INVALID_TRANSACTION_TIMEOUT
    );
    let (err, pid, epoch) = raw_init(&mut raw, &txn_id, 30_000);
    assert_eq!(err, 0);
    assert_eq!(epoch, 0);

    // EndTxn with no transaction in progress.
    assert_eq!(
        raw_end(&mut raw, &txn_id, pid, epoch, true),
        INVALID_TXN_STATE
    );

    // Produce to a partition not added to the transaction.
    let mut req = produce_request(&topic, 0, txn_batch(&[b"x"], pid, epoch, false), -1);
    req.transactional_id = Some(TransactionalId(StrBytes::from_string(txn_id.clone())));
    let (code, _) = produce_result(&raw.call(&req, 9));
    assert_eq!(code, INVALID_TXN_STATE, "Produce v9");
    let (code, _) = produce_result(&raw.call(&req, 11));
    assert_eq!(code, TRANSACTION_ABORTABLE, "Produce v11");

    // After AddPartitionsToTxn it is accepted; a client control batch never is.
    assert_eq!(raw_add_partition(&mut raw, &txn_id, pid, epoch, &topic), 0);
    let (code, _) = produce_result(&raw.call(&req, 9));
    assert_eq!(code, 0);
    // DescribeProducers shows the open transaction holding the partition.
    {
        use kafka_protocol::messages::describe_producers_request::TopicRequest;
        use kafka_protocol::messages::DescribeProducersRequest;
        let mut t = TopicRequest::default();
        t.name = topic_name(&topic);
        t.partition_indexes = vec![0];
        let mut dp = DescribeProducersRequest::default();
        dp.topics = vec![t];
        let resp = raw.call(&dp, 0);
        let part = &resp.topics[0].partitions[0];
        assert_eq!(part.error_code, 0);
        let me = part
            .active_producers
            .iter()
            .find(|p| p.producer_id.0 == pid)
            .expect("our producer");
        assert_eq!(me.current_txn_start_offset, 0);
        assert_eq!(me.last_sequence, 0);
    }
    let mut ctl = produce_request(&topic, 0, txn_batch(&[b"\0\0\0\x01"], pid, epoch, true), -1);
    ctl.transactional_id = req.transactional_id.clone();
    let (code, _) = produce_result(&raw.call(&ctl, 9));
    assert_eq!(code, INVALID_RECORD);

    // InitProducerId while the transaction is open fences it: the abort
    // runs, the caller is told to retry, and the retry gets a newer epoch.
    // (Kafka keeps answering CONCURRENT_TRANSACTIONS until its abort
    // markers are written, after the first answer; clients retry, so does
    // this test.)
    let (err, _, _) = raw_init(&mut raw, &txn_id, 30_000);
    assert_eq!(err, CONCURRENT_TRANSACTIONS);
    let deadline = std::time::Instant::now() + T;
    let (err, pid2, epoch2) = loop {
        let r = raw_init(&mut raw, &txn_id, 30_000);
        if r.0 != CONCURRENT_TRANSACTIONS || std::time::Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(err, 0);
    assert_eq!(pid2, pid);
    assert_eq!(epoch2, epoch + 2);
    // The old epoch is fenced everywhere.
    assert_eq!(
        raw_add_partition(&mut raw, &txn_id, pid, epoch, &topic),
        90, // PRODUCER_FENCED
    );
    let (code, _) = produce_result(&raw.call(&req, 9));
    assert_eq!(code, 47, "INVALID_PRODUCER_EPOCH for the zombie's produce");

    // Admin views.
    let mut d = DescribeTransactionsRequest::default();
    d.transactional_ids = vec![
        TransactionalId(StrBytes::from_string(txn_id.clone())),
        TransactionalId(StrBytes::from_static_str("no-such-id")),
    ];
    let resp = raw.call(&d, 0);
    assert_eq!(resp.transaction_states[0].error_code, 0);
    assert_eq!(
        resp.transaction_states[0].transaction_state.as_str(),
        "Empty"
    );
    assert_eq!(resp.transaction_states[0].producer_epoch, epoch2);
    assert_eq!(
        resp.transaction_states[1].error_code,
        TRANSACTIONAL_ID_NOT_FOUND
    );

    assert_eq!(
        raw_add_partition(&mut raw, &txn_id, pid2, epoch2, &topic),
        0
    );
    let mut l = ListTransactionsRequest::default();
    l.state_filters = vec![
        StrBytes::from_static_str("Ongoing"),
        StrBytes::from_static_str("Bogus"),
    ];
    l.duration_filter = -1;
    let resp = raw.call(&l, 1);
    assert_eq!(resp.error_code, 0);
    assert_eq!(resp.unknown_state_filters.len(), 1);
    assert!(resp
        .transaction_states
        .iter()
        .any(|s| s.transactional_id.as_str() == txn_id && s.producer_id.0 == pid2));
    assert_eq!(raw_end(&mut raw, &txn_id, pid2, epoch2, false), 0);
    // A retried EndTxn(abort) is answered OK; the opposite is not. (Kafka
    // answers the retry CONCURRENT_TRANSACTIONS while its abort markers are
    // still being written; a client retries that, so does this test.)
    let deadline = std::time::Instant::now() + T;
    let retried = loop {
        let code = raw_end(&mut raw, &txn_id, pid2, epoch2, false);
        if code != CONCURRENT_TRANSACTIONS || std::time::Instant::now() > deadline {
            break code;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(retried, 0);
    assert_eq!(
        raw_end(&mut raw, &txn_id, pid2, epoch2, true),
        INVALID_TXN_STATE
    );
}

#[test]
fn find_coordinator_answers_for_transactions() {
    use kafka_protocol::messages::FindCoordinatorRequest;
    let broker = Broker::start();
    let mut raw = RawClient::connect(&broker.bootstrap());
    let mut req = FindCoordinatorRequest::default();
    req.key = StrBytes::from_static_str("some-txn");
    req.key_type = 1;
    let resp = raw.call(&req, 3);
    assert_eq!(resp.error_code, 0, "{resp:?}");
    assert_eq!(resp.port, i32::from(broker.port()));
}

#[test]
fn raw_txn_offset_commit_is_pending_until_the_transaction_commits() {
    use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
    use kafka_protocol::messages::txn_offset_commit_request::{
        TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
    };
    use kafka_protocol::messages::{
        AddOffsetsToTxnRequest, GroupId, OffsetFetchRequest, TxnOffsetCommitRequest,
    };
    const UNSTABLE_OFFSET_COMMIT: i16 = 88;
    let broker = Broker::start();
    let topic = unique_topic("txn-offsets");
    run(async {
        create_topic(&broker, &topic, 1).await;
    });
    let mut raw = RawClient::connect(&broker.bootstrap());
    let txn_id = unique_topic("raw-tid");
    let group = unique_topic("raw-group");
    let (err, pid, epoch) = raw_init(&mut raw, &txn_id, 30_000);
    assert_eq!(err, 0);

    let commit = |raw: &mut RawClient, version: i16| -> i16 {
        let mut p = TxnOffsetCommitRequestPartition::default();
        p.partition_index = 0;
        p.committed_offset = 3;
        p.committed_leader_epoch = -1;
        let mut t = TxnOffsetCommitRequestTopic::default();
        t.name = topic_name(&topic);
        t.partitions = vec![p];
        let mut req = TxnOffsetCommitRequest::default();
        req.transactional_id = TransactionalId(StrBytes::from_string(txn_id.clone()));
        req.group_id = GroupId(StrBytes::from_string(group.clone()));
        req.producer_id = ProducerId(pid);
        req.producer_epoch = epoch;
        req.generation_id = -1;
        req.topics = vec![t];
        raw.call(&req, version).topics[0].partitions[0].error_code
    };
    let fetch = |raw: &mut RawClient, require_stable: bool| -> (i16, i64) {
        let mut t = OffsetFetchRequestTopic::default();
        t.name = topic_name(&topic);
        t.partition_indexes = vec![0];
        let mut req = OffsetFetchRequest::default();
        req.group_id = GroupId(StrBytes::from_string(group.clone()));
        req.topics = Some(vec![t]);
        req.require_stable = require_stable;
        let resp = raw.call(&req, 7);
        let p = &resp.topics[0].partitions[0];
        (p.error_code, p.committed_offset)
    };

    // Without AddOffsetsToTxn the commit is refused. With the
    // `transaction.version` feature at 2 (KIP-890 part 2, Kafka 4.x's
    // default; Skiff does not advertise it) a v5 commit instead adds the
    // group to the transaction implicitly, so v5 is checked only without it.
    assert_eq!(commit(&mut raw, 3), INVALID_TXN_STATE);
    if transaction_version(&mut raw) < 2 {
        assert_eq!(commit(&mut raw, 5), TRANSACTION_ABORTABLE);
    }

    let mut add = AddOffsetsToTxnRequest::default();
    add.transactional_id = TransactionalId(StrBytes::from_string(txn_id.clone()));
    add.producer_id = ProducerId(pid);
    add.producer_epoch = epoch;
    add.group_id = GroupId(StrBytes::from_string(group.clone()));
    assert_eq!(raw.call(&add, 3).error_code, 0);
    assert_eq!(commit(&mut raw, 3), 0);
    assert_eq!(fetch(&mut raw, true), (UNSTABLE_OFFSET_COMMIT, -1));
    assert_eq!(fetch(&mut raw, false), (0, -1));
    assert_eq!(raw_end(&mut raw, &txn_id, pid, epoch, true), 0);
    // Kafka answers EndTxn before it has written the commit marker to the
    // offsets partition (Skiff after); until then the offset stays unstable.
    let deadline = std::time::Instant::now() + T;
    let stable = loop {
        let r = fetch(&mut raw, true);
        if r.0 != UNSTABLE_OFFSET_COMMIT || std::time::Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(stable, (0, 3));
}
