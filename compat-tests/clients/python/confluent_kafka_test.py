"""confluent-kafka-python (librdkafka) against Skiff, default client settings.
Run: SKIFF_BOOTSTRAP=localhost:9092 python3 confluent_kafka_test.py [scenario ...]"""
import threading, time
from confluent_kafka import (Consumer, Producer, TopicPartition, OFFSET_BEGINNING, ConsumerGroupTopicPartitions,
                             KafkaError, KafkaException)
from confluent_kafka.admin import AdminClient, NewTopic, ConfigResource
from _harness import BOOTSTRAP, scenario, check, run, uniq

BASE = {"bootstrap.servers": BOOTSTRAP}


def admin():
    return AdminClient(dict(BASE))


def create(topic, n=3):
    a = admin()  # keep the handle alive until the futures resolve
    for f in a.create_topics([NewTopic(topic, n, 1)]).values():
        f.result(10)
    time.sleep(0.2)


def produce(conf, topic, msgs):
    p = Producer({**BASE, **conf})
    errs = []
    for m in msgs:
        p.produce(topic, on_delivery=lambda e, _m: e and errs.append(e), **m)
    check(p.flush(15) == 0, "flush left messages")
    check(not errs, f"delivery errors {errs}")


def read_all(topic, n_parts, expect, timeout=15, isolation="read_committed"):
    c = Consumer({**BASE, "group.id": uniq("ck-read"), "enable.auto.commit": False,
                  "isolation.level": isolation})
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(n_parts)])
    out = []
    deadline = time.time() + timeout
    while len(out) < expect and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        check(m.error() is None, f"consume error {m.error()}")
        out.append(m)
    c.close()
    return out


@scenario("metadata+admin")
def _():
    t = uniq("ck-adm")
    a = admin()
    for f in a.create_topics([NewTopic(t, 3, 1)]).values():
        f.result(10)
    time.sleep(0.2)
    md = a.list_topics(timeout=10)
    check(t in md.topics and len(md.topics[t].partitions) == 3, "topic metadata")
    res = a.describe_configs([ConfigResource("topic", t)])
    cfg = list(res.values())[0].result(10)
    check("retention.ms" in cfg and "cleanup.policy" in cfg, f"configs {list(cfg)}")
    cl = a.describe_cluster().result(10)
    check(len(cl.nodes) == 1, f"describe_cluster {cl}")
    dt = a.describe_topics(__import__("confluent_kafka").TopicCollection([t]))[t].result(10)
    check(len(dt.partitions) == 3, f"describe_topics {dt}")
    for f in a.delete_topics([t]).values():
        f.result(10)
    time.sleep(0.3)
    check(t not in a.list_topics(timeout=10).topics, "deleted topic still listed")


@scenario("produce-consume")
def _():
    t = uniq("ck-pc")
    create(t, 1)
    produce({}, t, [dict(key=b"k1", value=b"v1", headers=[("h1", b"x"), ("h2", b"")]),
                    dict(key=b"k2", value=None), dict(value=b"v3")])
    recs = read_all(t, 1, 3)
    check([(m.key(), m.value()) for m in recs] == [(b"k1", b"v1"), (b"k2", None), (None, b"v3")],
          f"got {[(m.key(), m.value()) for m in recs]}")
    check(recs[0].headers() == [("h1", b"x"), ("h2", b"")], f"headers {recs[0].headers()}")


for codec in ("gzip", "snappy", "lz4", "zstd"):
    def mk(codec):
        @scenario(f"compression-{codec}")
        def _():
            t = uniq(f"ck-{codec}")
            create(t, 1)
            produce({"compression.type": codec}, t, [dict(key=b"k%d" % i, value=b"value-%d" % i * 10) for i in range(50)])
            recs = read_all(t, 1, 50)
            check([m.value() for m in recs] == [b"value-%d" % i * 10 for i in range(50)], f"{len(recs)} recs")
    mk(codec)


def consumer_group(protocol):
    """Two members split three partitions and consume each record once;
    commit; the group lists and describes as Empty with its offsets after
    both close; a third member resumes from the commits."""
    t, g = uniq("ck-grp"), uniq("ck-g")
    create(t, 3)
    conf = {**BASE, "group.id": g, "auto.offset.reset": "earliest", "enable.auto.commit": False,
            "group.protocol": protocol}
    c1, c2 = Consumer(conf), Consumer(conf)
    c1.subscribe([t]); c2.subscribe([t])
    deadline = time.time() + 40
    while time.time() < deadline and not (c1.assignment() and c2.assignment()):
        c1.poll(0.2); c2.poll(0.2)
    a1 = {p.partition for p in c1.assignment()}; a2 = {p.partition for p in c2.assignment()}
    check(a1 and a2 and not (a1 & a2) and a1 | a2 == {0, 1, 2}, f"assignment {a1} {a2}")
    produce({}, t, [dict(value=b"%d" % i, partition=i % 3) for i in range(30)])
    seen = []
    while time.time() < deadline and len(seen) < 30:
        for c in (c1, c2):
            m = c.poll(0.2)
            if m is not None and m.error() is None:
                seen.append(m.value())
    check(sorted(seen) == sorted(b"%d" % i for i in range(30)), f"seen {len(seen)}")
    c1.commit(asynchronous=False); c2.commit(asynchronous=False)
    c1.close(); c2.close()

    a = admin()
    lg = a.list_consumer_groups().result(10)
    check(g in [x.group_id for x in lg.valid], f"list_consumer_groups {lg.valid} errors {lg.errors}")
    d = a.describe_consumer_groups([g])[g].result(10)
    check(str(d.state) .endswith("EMPTY"), f"describe {d.state}")
    check(str(d.type).endswith(protocol.upper()), f"describe type {d.type}, want {protocol}")
    offs = a.list_consumer_group_offsets([ConsumerGroupTopicPartitions(g)])[g].result(10)
    check({p.partition: p.offset for p in offs.topic_partitions} == {0: 10, 1: 10, 2: 10}, f"offsets {offs.topic_partitions}")

    produce({}, t, [dict(value=b"new", partition=1)])
    c3 = Consumer(conf)
    c3.subscribe([t])
    got = []
    deadline = time.time() + 20
    while time.time() < deadline and not got:
        m = c3.poll(0.3)
        if m is not None and m.error() is None:
            got.append(m.value())
    c3.close()
    check(got == [b"new"], f"resumed consumer got {got}")


@scenario("consumer-group")
def _():
    consumer_group("classic")


# KIP-848: the broker assigns; librdkafka describes such a group with
# ConsumerGroupDescribe.
@scenario("consumer-group-kip848")
def _():
    consumer_group("consumer")


@scenario("idempotent-producer")
def _():
    t = uniq("ck-idem")
    create(t, 1)
    produce({"enable.idempotence": True}, t, [dict(value=b"m%d" % i) for i in range(100)])
    recs = read_all(t, 1, 100)
    check([m.value() for m in recs] == [b"m%d" % i for i in range(100)], f"{len(recs)} recs")


@scenario("offsets-for-times")
def _():
    t = uniq("ck-oft")
    create(t, 1)
    base = int(time.time() * 1000) - 100000
    produce({}, t, [dict(value=b"x", timestamp=base + i * 1000) for i in range(5)])
    c = Consumer({**BASE, "group.id": uniq("ck-oft")})
    lo, hi = c.get_watermark_offsets(TopicPartition(t, 0), timeout=10)
    check((lo, hi) == (0, 5), f"watermarks {lo} {hi}")
    r = c.offsets_for_times([TopicPartition(t, 0, base + 1500)], timeout=10)
    check(r[0].offset == 2, f"oft {r}")
    r = c.offsets_for_times([TopicPartition(t, 0, base + 999999)], timeout=10)
    check(r[0].offset == -1, f"oft future {r}")
    c.close()


# ---- transactions (librdkafka's transactional producer) ----

def txn_producer(tid):
    p = Producer({**BASE, "transactional.id": tid})
    p.init_transactions(15)
    return p


def txn_send(p, topic, msgs):
    """produce within the open transaction and wait for delivery"""
    errs = []
    for m in msgs:
        p.produce(topic, on_delivery=lambda e, _m: e and errs.append(e), **m)
    check(p.flush(15) == 0, "flush left messages")
    check(not errs, f"delivery errors {errs}")


def high(topic, partition, isolation):
    """end offset as ListOffsets answers it for the isolation level (LSO for read_committed)"""
    c = Consumer({**BASE, "group.id": uniq("ck-wm"), "isolation.level": isolation})
    try:
        return c.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[1]
    finally:
        c.close()


def vals(msgs):
    return [m.value() for m in msgs]


@scenario("txn-commit")
def _():
    t = uniq("ck-txc")
    create(t, 2)
    p = txn_producer(uniq("ck-tid"))
    p.begin_transaction()
    txn_send(p, t, [dict(value=b"c%d" % i, partition=i % 2) for i in range(6)])
    # open transaction: read_committed's end offset is held at the LSO, read_uncommitted's is not
    check(high(t, 0, "read_committed") == 0, f"LSO during open txn {high(t, 0, 'read_committed')}")
    check(high(t, 0, "read_uncommitted") == 3, f"HW during open txn {high(t, 0, 'read_uncommitted')}")
    p.commit_transaction(15)
    want = sorted(b"c%d" % i for i in range(6))
    rc = read_all(t, 2, 6)
    check(sorted(vals(rc)) == want, f"read_committed got {vals(rc)}")
    ru = read_all(t, 2, 6, isolation="read_uncommitted")
    check(sorted(vals(ru)) == want, f"read_uncommitted got {vals(ru)}")
    # the commit marker takes an offset; both isolation levels see it as consumed
    check(high(t, 0, "read_committed") == 4 and high(t, 0, "read_uncommitted") == 4,
          f"end offsets after commit {high(t, 0, 'read_committed')} {high(t, 0, 'read_uncommitted')}")
    # a second transaction on the same producer
    p.begin_transaction()
    txn_send(p, t, [dict(value=b"second", partition=1)])
    p.commit_transaction(15)
    rc = read_all(t, 2, 7)
    check(sorted(vals(rc)) == sorted(want + [b"second"]), f"after 2nd txn got {vals(rc)}")


@scenario("txn-abort")
def _():
    t = uniq("ck-txa")
    create(t, 1)
    p = txn_producer(uniq("ck-tid"))
    p.begin_transaction()
    txn_send(p, t, [dict(value=b"a%d" % i) for i in range(3)])
    p.abort_transaction(15)
    p.begin_transaction()
    txn_send(p, t, [dict(value=b"c%d" % i) for i in range(2)])
    p.commit_transaction(15)
    # read_committed: the aborted records (offsets 0-2) come first, so any leak shows up here
    rc = read_all(t, 1, 2)
    check(vals(rc) == [b"c0", b"c1"], f"read_committed got {vals(rc)}")
    check([m.offset() for m in rc] == [4, 5], f"read_committed offsets {[m.offset() for m in rc]}")
    ru = read_all(t, 1, 5, isolation="read_uncommitted")
    check(vals(ru) == [b"a0", b"a1", b"a2", b"c0", b"c1"], f"read_uncommitted got {vals(ru)}")
    check(high(t, 0, "read_committed") == 7, f"LSO after commit {high(t, 0, 'read_committed')}")


@scenario("txn-consume-transform-produce")
def _():
    src, dst, g = uniq("ck-in"), uniq("ck-out"), uniq("ck-eos")
    create(src, 2); create(dst, 2)
    produce({}, src, [dict(value=b"%d" % i, partition=i % 2) for i in range(10)])
    c = Consumer({**BASE, "group.id": g, "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "isolation.level": "read_committed"})
    c.subscribe([src])

    def consume(n):
        got, deadline = [], time.time() + 30
        while len(got) < n and time.time() < deadline:
            m = c.poll(0.3)
            if m is not None:
                check(m.error() is None, f"consume error {m.error()}")
                got.append(m)
        check(len(got) == n, f"consumed {len(got)} of {n}")
        return got

    def committed():
        return {tp.partition: tp.offset for tp in c.committed([TopicPartition(src, 0), TopicPartition(src, 1)], 10)}

    p = txn_producer(uniq("ck-tid"))
    got = consume(10)
    p.begin_transaction()
    txn_send(p, dst, [dict(value=b"x" + m.value(), partition=m.partition()) for m in got])
    p.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), 15)
    p.commit_transaction(15)
    check(committed() == {0: 5, 1: 5}, f"committed after commit {committed()}")
    out = read_all(dst, 2, 10)
    check(sorted(vals(out)) == sorted(b"x%d" % i for i in range(10)), f"output {vals(out)}")
    a = admin()  # keep the handle alive until the future resolves
    offs = a.list_consumer_group_offsets([ConsumerGroupTopicPartitions(g)])[g].result(10)
    check({tp.partition: tp.offset for tp in offs.topic_partitions} == {0: 5, 1: 5}, f"admin offsets {offs}")

    # same again, but abort: the group's offsets must not move, the output must stay hidden
    produce({}, src, [dict(value=b"%d" % i, partition=i % 2) for i in range(10, 14)])
    got = consume(4)
    p.begin_transaction()
    txn_send(p, dst, [dict(value=b"x" + m.value(), partition=m.partition()) for m in got])
    p.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), 15)
    p.abort_transaction(15)
    check(committed() == {0: 5, 1: 5}, f"committed after abort {committed()}")
    p.begin_transaction()
    txn_send(p, dst, [dict(value=b"end", partition=i) for i in (0, 1)])
    p.commit_transaction(15)
    out = read_all(dst, 2, 12)
    check(sorted(vals(out)) == sorted([b"x%d" % i for i in range(10)] + [b"end", b"end"]), f"output {vals(out)}")
    c.close()


@scenario("txn-fencing")
def _():
    t, tid = uniq("ck-txf"), uniq("ck-tid")
    create(t, 1)
    p1 = txn_producer(tid)
    p1.begin_transaction()
    txn_send(p1, t, [dict(value=b"zombie")])
    p2 = txn_producer(tid)  # bumps the epoch and aborts p1's open transaction
    try:
        p1.commit_transaction(15)
        raise AssertionError("fenced producer's commit succeeded")
    except KafkaException as e:
        err = e.args[0]
        check(err.fatal() or err.code() in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED,
                                            KafkaError.INVALID_PRODUCER_EPOCH),
              f"unexpected commit error {err!r}")
    p2.begin_transaction()
    txn_send(p2, t, [dict(value=b"live")])
    p2.commit_transaction(15)
    rc = read_all(t, 1, 1)
    check(vals(rc) == [b"live"], f"read_committed got {vals(rc)}")
    ru = read_all(t, 1, 2, isolation="read_uncommitted")
    check(vals(ru) == [b"zombie", b"live"], f"read_uncommitted got {vals(ru)}")


@scenario("txn-interleaved")
def _():
    """two transactional producers interleave on one partition; the first to commit
    cannot be read until the other ends (LSO); then read_committed filters the
    aborted one's records by producer id out of the same fetched range"""
    t = uniq("ck-txi")
    create(t, 1)
    pa, pb = txn_producer(uniq("ck-tid")), txn_producer(uniq("ck-tid"))
    pa.begin_transaction(); pb.begin_transaction()
    for i in range(3):
        txn_send(pa, t, [dict(value=b"a%d" % i)])
        txn_send(pb, t, [dict(value=b"b%d" % i)])
    pb.commit_transaction(15)
    check(high(t, 0, "read_committed") == 0, f"LSO with a's txn open {high(t, 0, 'read_committed')}")
    pa.abort_transaction(15)
    produce({}, t, [dict(value=b"plain")])
    check(high(t, 0, "read_committed") == 9, f"LSO after both ended {high(t, 0, 'read_committed')}")
    rc = read_all(t, 1, 4)
    check(vals(rc) == [b"b0", b"b1", b"b2", b"plain"], f"read_committed got {vals(rc)}")
    ru = read_all(t, 1, 7, isolation="read_uncommitted")
    check(vals(ru) == [b"a0", b"b0", b"a1", b"b1", b"a2", b"b2", b"plain"], f"read_uncommitted got {vals(ru)}")


@scenario("txn-commit-wakes-read-committed")
def _():
    """a read_committed fetch parked at the LSO returns when the transaction commits,
    not when its long-poll times out"""
    t = uniq("ck-txw")
    create(t, 1)
    c = Consumer({**BASE, "group.id": uniq("ck-read"), "isolation.level": "read_committed",
                  "fetch.wait.max.ms": 5000})
    c.assign([TopicPartition(t, 0, OFFSET_BEGINNING)])
    p = txn_producer(uniq("ck-tid"))
    p.begin_transaction()
    txn_send(p, t, [dict(value=b"w%d" % i) for i in range(3)])
    m = c.poll(1.0)
    check(m is None or m.error() is not None, f"read an uncommitted record {m and m.value()}")
    t0 = time.time()
    p.commit_transaction(15)
    got = []
    while len(got) < 3 and time.time() < t0 + 10:
        m = c.poll(0.2)
        if m is not None and m.error() is None:
            got.append(m.value())
    took = time.time() - t0
    c.close()
    check(got == [b"w0", b"w1", b"w2"], f"got {got}")
    check(took < 2.5, f"records arrived {took:.1f}s after the commit (fetch.wait.max.ms=5000)")


@scenario("txn-offsets-pending-until-commit")
def _():
    """offsets sent to an open transaction are pending: a read_committed consumer's
    committed() (OffsetFetch require_stable) waits for the transaction to end
    (UNSTABLE_OFFSET_COMMIT) instead of answering the old offset"""
    t, g = uniq("ck-txo"), uniq("ck-txog")
    create(t, 1)
    produce({}, t, [dict(value=b"%d" % i) for i in range(5)])
    c = Consumer({**BASE, "group.id": g, "enable.auto.commit": False})
    c.commit(offsets=[TopicPartition(t, 0, 2)], asynchronous=False)
    p = txn_producer(uniq("ck-tid"))
    p.begin_transaction()
    txn_send(p, t, [dict(value=b"x")])
    p.send_offsets_to_transaction([TopicPartition(t, 0, 5)], c.consumer_group_metadata(), 15)
    ru = Consumer({**BASE, "group.id": g, "isolation.level": "read_uncommitted"})
    rc = Consumer({**BASE, "group.id": g, "isolation.level": "read_committed"})
    try:
        got = ru.committed([TopicPartition(t, 0)], timeout=10)[0].offset
        check(got == 2, f"read_uncommitted committed() with txn offsets pending: {got}")
        committer = threading.Timer(1.0, lambda: p.commit_transaction(15))
        committer.start()
        got = rc.committed([TopicPartition(t, 0)], timeout=10)[0].offset
        committer.join()
        check(got == 5, f"read_committed committed() with txn offsets pending: {got}")
    finally:
        ru.close(); rc.close(); c.close()


@scenario("txn-offsets-stale-generation")
def _():
    """KIP-447: send_offsets_to_transaction with the group metadata of a generation
    the group has since left behind fails with ILLEGAL_GENERATION"""
    t, g = uniq("ck-txg"), uniq("ck-txgg")
    create(t, 2)
    conf = {**BASE, "group.id": g, "enable.auto.commit": False, "auto.offset.reset": "earliest"}
    c1 = Consumer(conf)
    c1.subscribe([t])
    deadline = time.time() + 30
    while time.time() < deadline and len(c1.assignment()) < 2:
        c1.poll(0.2)
    stale = c1.consumer_group_metadata()
    c2 = Consumer(conf)
    c2.subscribe([t])
    while time.time() < deadline and not (len(c1.assignment()) == 1 and len(c2.assignment()) == 1):
        c1.poll(0.2); c2.poll(0.2)
    check(len(c1.assignment()) == 1 and len(c2.assignment()) == 1, "no rebalance to two members")
    p = txn_producer(uniq("ck-tid"))
    p.begin_transaction()
    try:
        p.send_offsets_to_transaction([TopicPartition(t, 0, 1)], stale, 15)
        raise AssertionError("offsets with a stale generation accepted")
    except KafkaException as e:
        check(e.args[0].code() == KafkaError.ILLEGAL_GENERATION, f"stale generation: {e.args[0]!r}")
    p.abort_transaction(15)
    p.begin_transaction()
    p.send_offsets_to_transaction([TopicPartition(t, 0, 1)], c1.consumer_group_metadata(), 15)
    p.commit_transaction(15)
    got = c1.committed([TopicPartition(t, 0)], timeout=10)[0].offset
    c1.close(); c2.close()
    check(got == 1, f"committed with current generation: {got}")


@scenario("txn-invalid-timeout")
def _():
    p = Producer({**BASE, "transactional.id": uniq("ck-tid"), "transaction.timeout.ms": 1000000})
    try:
        p.init_transactions(15)
        raise AssertionError("transaction.timeout.ms above transaction.max.timeout.ms accepted")
    except KafkaException as e:
        check(e.args[0].code() == KafkaError.INVALID_TRANSACTION_TIMEOUT, f"init_transactions: {e.args[0]!r}")


run()
