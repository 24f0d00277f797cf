"""kafka-python against Skiff, default client settings.
Run: SKIFF_BOOTSTRAP=localhost:9092 python3 kafka_python_test.py [scenario ...]"""
import time
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition, OffsetAndMetadata
import kafka.errors as Errors
from kafka.admin import NewTopic, ConfigResource, ConfigResourceType
from _harness import BOOTSTRAP, scenario, check, run, uniq


def admin():
    return KafkaAdminClient(bootstrap_servers=BOOTSTRAP)


def create(topic, n=3):
    a = admin()
    a.create_topics([NewTopic(topic, n, 1)])
    a.close()
    time.sleep(0.2)


def read_all(topic, n_parts, expect, timeout=15, isolation="read_uncommitted"):
    c = KafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False, isolation_level=isolation)
    tps = [TopicPartition(topic, p) for p in range(n_parts)]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    out = []
    deadline = time.time() + timeout
    while len(out) < expect and time.time() < deadline:
        for recs in c.poll(timeout_ms=500).values():
            out.extend(recs)
    c.close()
    return out


@scenario("metadata+admin")
def _():
    t = uniq("kp-adm")
    a = admin()
    a.create_topics([NewTopic(t, 3, 1)])
    time.sleep(0.2)
    check(t in a.list_topics(), "created topic not listed")
    md = a.describe_topics([t])
    check(len(md[0]["partitions"]) == 3, f"partitions: {md}")
    cfg = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t)], config_filter="all")
    names = cfg["topic"][t]
    check("retention.ms" in names and "cleanup.policy" in names, f"configs: {names}")
    c = KafkaConsumer(bootstrap_servers=BOOTSTRAP)
    check(t in c.topics(), "consumer.topics() misses topic")
    check(c.partitions_for_topic(t) == {0, 1, 2}, "partitions_for_topic")
    c.close()
    a.delete_topics([t])
    time.sleep(0.3)
    check(t not in a.list_topics(), "deleted topic still listed")
    a.close()


@scenario("produce-consume")
def _():
    t = uniq("kp-pc")
    create(t, 1)
    p = KafkaProducer(bootstrap_servers=BOOTSTRAP)
    p.send(t, key=b"k1", value=b"v1", headers=[("h1", b"x"), ("h2", b"")]).get(10)
    p.send(t, key=b"k2", value=None).get(10)
    p.send(t, value=b"v3").get(10)
    p.close()
    recs = read_all(t, 1, 3)
    check([(r.key, r.value) for r in recs] == [(b"k1", b"v1"), (b"k2", None), (None, b"v3")],
          f"got {[(r.key, r.value) for r in recs]}")
    check(list(recs[0].headers) == [("h1", b"x"), ("h2", b"")], f"headers {recs[0].headers}")
    check(recs[0].timestamp > 0, "timestamp")


for codec in ("gzip", "snappy", "lz4", "zstd"):
    def mk(codec):
        @scenario(f"compression-{codec}")
        def _():
            t = uniq(f"kp-{codec}")
            create(t, 1)
            p = KafkaProducer(bootstrap_servers=BOOTSTRAP, compression_type=codec, linger_ms=20)
            futs = [p.send(t, key=b"k%d" % i, value=b"value-%d" % i * 10) for i in range(50)]
            p.flush()
            [f.get(10) for f in futs]
            p.close()
            recs = read_all(t, 1, 50)
            check([r.value for r in recs] == [b"value-%d" % i * 10 for i in range(50)], f"{len(recs)} recs")
    mk(codec)


@scenario("consumer-group")
def _():
    t, g = uniq("kp-grp"), uniq("kp-g")
    create(t, 3)

    def mkc():
        return KafkaConsumer(t, bootstrap_servers=BOOTSTRAP, group_id=g,
                             auto_offset_reset="earliest", enable_auto_commit=False)
    c1 = mkc(); c2 = mkc()
    # join both members first (topic still empty), then produce
    deadline = time.time() + 40
    while time.time() < deadline and not (c1.assignment() and c2.assignment()
                                          and len(c1.assignment() | c2.assignment()) == 3):
        # NB: short poll timeouts (~100ms) trip a kafka-python 3.0.x client bug: the
        # leader abandons its in-flight JoinGroup task when its metadata-triggered
        # rejoin is satisfied by _perform_assignment, never re-enables heartbeats.
        c1.poll(timeout_ms=1000); c2.poll(timeout_ms=1000)
    p = KafkaProducer(bootstrap_servers=BOOTSTRAP)
    for i in range(30):
        p.send(t, key=b"%d" % i, value=b"%d" % i, partition=i % 3)
    p.flush(); p.close()
    seen = []
    while time.time() < deadline and len(seen) < 30:
        for c in (c1, c2):
            for recs in c.poll(timeout_ms=200).values():
                seen.extend(r.value for r in recs)
    a1, a2 = c1.assignment(), c2.assignment()
    check(a1 and a2 and not (a1 & a2) and len(a1 | a2) == 3, f"assignment {a1} {a2}")
    check(sorted(seen) == sorted(b"%d" % i for i in range(30)), f"seen {len(seen)}: {sorted(seen)}")
    c1.commit(); c2.commit()
    c1.close(); c2.close()

    a = admin()
    groups = [x["group_id"] for x in a.list_groups()]
    check(g in groups, f"list_groups: {groups}")
    d = a.describe_groups([g])[g]
    check(d["error"] is None and d["group_state"] == "Empty", f"describe: {d}")
    offs = a.list_group_offsets(g)[g]
    check({tp.partition: o.offset for tp, o in offs.items()} == {0: 10, 1: 10, 2: 10}, f"offsets {offs}")
    a.close()

    p = KafkaProducer(bootstrap_servers=BOOTSTRAP)
    p.send(t, value=b"new", partition=1).get(10); p.close()
    c3 = mkc()
    got = []
    deadline = time.time() + 20
    while time.time() < deadline and not got:
        for recs in c3.poll(timeout_ms=300).values():
            got.extend(r.value for r in recs)
    c3.close()
    check(got == [b"new"], f"resumed consumer got {got}")


@scenario("offsets-for-times")
def _():
    t = uniq("kp-oft")
    create(t, 1)
    p = KafkaProducer(bootstrap_servers=BOOTSTRAP)
    base = int(time.time() * 1000) - 100000
    for i in range(5):
        p.send(t, value=b"x", timestamp_ms=base + i * 1000).get(10)
    p.close()
    c = KafkaConsumer(bootstrap_servers=BOOTSTRAP)
    tp = TopicPartition(t, 0)
    check(c.end_offsets([tp]) == {tp: 5}, f"end {c.end_offsets([tp])}")
    check(c.beginning_offsets([tp]) == {tp: 0}, "beginning")
    r = c.offsets_for_times({tp: base + 1500})
    check(r[tp] is not None and r[tp].offset == 2 and r[tp].timestamp == base + 2000, f"oft {r}")
    r = c.offsets_for_times({tp: base + 999999})
    check(r[tp] is None, f"oft future {r}")
    c.close()


# ---- transactions (kafka-python's transactional KafkaProducer, 2.1+) ----

def txn_producer(tid):
    p = KafkaProducer(bootstrap_servers=BOOTSTRAP, transactional_id=tid, max_block_ms=15000)
    p.init_transactions()
    return p


def txn_send(p, topic, msgs):
    futs = [p.send(topic, **m) for m in msgs]
    p.flush(15)
    [f.get(10) for f in futs]


def end_offset(topic, partition, isolation):
    """end offset as ListOffsets answers it for the isolation level (LSO for read_committed)"""
    c = KafkaConsumer(bootstrap_servers=BOOTSTRAP, isolation_level=isolation)
    try:
        tp = TopicPartition(topic, partition)
        return c.end_offsets([tp])[tp]
    finally:
        c.close()


def vals(recs):
    return [r.value for r in recs]


@scenario("txn-commit")
def _():
    t, tid = uniq("kp-txc"), uniq("kp-tid")
    create(t, 2)
    p = txn_producer(tid)
    p.begin_transaction()
    txn_send(p, t, [dict(value=b"c%d" % i, partition=i % 2) for i in range(6)])
    check(end_offset(t, 0, "read_committed") == 0, f"LSO during open txn {end_offset(t, 0, 'read_committed')}")
    check(end_offset(t, 0, "read_uncommitted") == 3, f"HW during open txn {end_offset(t, 0, 'read_uncommitted')}")
    a = admin()
    try:
        d = a.describe_transactions([tid])[tid]
        check(d.state == "Ongoing" and d.topic_partitions == {TopicPartition(t, 0), TopicPartition(t, 1)},
              f"describe_transactions during txn {d}")
        listed = [x for xs in a.list_transactions().values() for x in xs if x.transactional_id == tid]
        check(len(listed) == 1 and listed[0].state == "Ongoing" and listed[0].producer_id == d.producer_id,
              f"list_transactions {listed}")
        p.commit_transaction()
        d = a.describe_transactions([tid])[tid]
        check(d.state == "CompleteCommit" and not d.topic_partitions, f"describe_transactions after commit {d}")
        listed = a.list_transactions(state_filters=["Ongoing"]).values()
        check(not [x for xs in listed for x in xs if x.transactional_id == tid], f"still ongoing {listed}")
        listed = [x for xs in a.list_transactions(producer_id_filters=[d.producer_id]).values() for x in xs]
        check([(x.transactional_id, x.state) for x in listed] == [(tid, "CompleteCommit")], f"by producer id {listed}")
        try:
            a.describe_transactions([uniq("kp-nope")])
            raise AssertionError("describe_transactions of an unknown id succeeded")
        except Errors.TransactionalIdNotFoundError:
            pass
    finally:
        a.close()
    want = sorted(b"c%d" % i for i in range(6))
    rc = read_all(t, 2, 6, isolation="read_committed")
    check(sorted(vals(rc)) == want, f"read_committed got {vals(rc)}")
    ru = read_all(t, 2, 6)
    check(sorted(vals(ru)) == want, f"read_uncommitted got {vals(ru)}")
    check(end_offset(t, 0, "read_committed") == 4, f"LSO after commit {end_offset(t, 0, 'read_committed')}")
    p.close()


@scenario("txn-abort")
def _():
    t = uniq("kp-txa")
    create(t, 1)
    p = txn_producer(uniq("kp-tid"))
    p.begin_transaction()
    txn_send(p, t, [dict(value=b"a%d" % i) for i in range(3)])
    p.abort_transaction()
    p.begin_transaction()
    txn_send(p, t, [dict(value=b"c%d" % i) for i in range(2)])
    p.commit_transaction()
    p.close()
    # the aborted records (offsets 0-2) come first, so a leak would show up here
    rc = read_all(t, 1, 2, isolation="read_committed")
    check([(r.offset, r.value) for r in rc] == [(4, b"c0"), (5, b"c1")], f"read_committed got {[(r.offset, r.value) for r in rc]}")
    ru = read_all(t, 1, 5)
    check(vals(ru) == [b"a0", b"a1", b"a2", b"c0", b"c1"], f"read_uncommitted got {vals(ru)}")


@scenario("txn-consume-transform-produce")
def _():
    src, dst, g = uniq("kp-in"), uniq("kp-out"), uniq("kp-eos")
    create(src, 2); create(dst, 2)
    p0 = KafkaProducer(bootstrap_servers=BOOTSTRAP)
    for i in range(10):
        p0.send(src, value=b"%d" % i, partition=i % 2)
    p0.flush()
    c = KafkaConsumer(src, bootstrap_servers=BOOTSTRAP, group_id=g, auto_offset_reset="earliest",
                      enable_auto_commit=False, isolation_level="read_committed")
    tps = [TopicPartition(src, 0), TopicPartition(src, 1)]

    def consume(n):
        got, deadline = [], time.time() + 30
        while len(got) < n and time.time() < deadline:
            for recs in c.poll(timeout_ms=1000).values():  # see the consumer-group note on short polls
                got.extend(recs)
        check(len(got) == n, f"consumed {len(got)} of {n}")
        return got

    def offsets():
        return {tp: OffsetAndMetadata(c.position(tp), "", -1) for tp in c.assignment()}

    def committed():
        return {tp.partition: c.committed(tp) for tp in tps}

    p = txn_producer(uniq("kp-tid"))
    got = consume(10)
    p.begin_transaction()
    txn_send(p, dst, [dict(value=b"x" + r.value, partition=r.partition) for r in got])
    p.send_offsets_to_transaction(offsets(), c.group_metadata())
    p.commit_transaction()
    check(committed() == {0: 5, 1: 5}, f"committed after commit {committed()}")
    out = read_all(dst, 2, 10, isolation="read_committed")
    check(sorted(vals(out)) == sorted(b"x%d" % i for i in range(10)), f"output {vals(out)}")

    # again, but abort: the group's offsets must not move, the output must stay hidden
    for i in range(10, 14):
        p0.send(src, value=b"%d" % i, partition=i % 2)
    p0.flush(); p0.close()
    got = consume(4)
    p.begin_transaction()
    txn_send(p, dst, [dict(value=b"x" + r.value, partition=r.partition) for r in got])
    p.send_offsets_to_transaction(offsets(), c.group_metadata())
    p.abort_transaction()
    check(committed() == {0: 5, 1: 5}, f"committed after abort {committed()}")
    p.begin_transaction()
    txn_send(p, dst, [dict(value=b"end", partition=i) for i in (0, 1)])
    p.commit_transaction()
    p.close()
    c.close()
    out = read_all(dst, 2, 12, isolation="read_committed")
    check(sorted(vals(out)) == sorted([b"x%d" % i for i in range(10)] + [b"end", b"end"]), f"output {vals(out)}")
    a = admin()
    offs = a.list_group_offsets(g)[g]
    a.close()
    check({tp.partition: o.offset for tp, o in offs.items()} == {0: 5, 1: 5}, f"group offsets {offs}")


@scenario("txn-fencing")
def _():
    t, tid = uniq("kp-txf"), uniq("kp-tid")
    create(t, 1)
    p1 = txn_producer(tid)
    p1.begin_transaction()
    txn_send(p1, t, [dict(value=b"zombie")])
    p2 = txn_producer(tid)  # bumps the epoch and aborts p1's open transaction
    try:
        p1.commit_transaction()
        raise AssertionError("fenced producer's commit succeeded")
    except (Errors.ProducerFencedError, Errors.InvalidProducerEpochError):
        pass
    p1.close(timeout=5)
    p2.begin_transaction()
    txn_send(p2, t, [dict(value=b"live")])
    p2.commit_transaction()
    p2.close()
    rc = read_all(t, 1, 1, isolation="read_committed")
    check(vals(rc) == [b"live"], f"read_committed got {vals(rc)}")
    ru = read_all(t, 1, 2)
    check(vals(ru) == [b"zombie", b"live"], f"read_uncommitted got {vals(ru)}")


@scenario("txn-interleaved")
def _():
    """two transactional producers interleave on one partition; the first to commit
    cannot be read until the other ends (LSO); then read_committed filters the
    aborted one's records by producer id out of the same fetched range"""
    t = uniq("kp-txi")
    create(t, 1)
    pa, pb = txn_producer(uniq("kp-tid")), txn_producer(uniq("kp-tid"))
    pa.begin_transaction(); pb.begin_transaction()
    for i in range(3):
        txn_send(pa, t, [dict(value=b"a%d" % i)])
        txn_send(pb, t, [dict(value=b"b%d" % i)])
    pb.commit_transaction()
    check(end_offset(t, 0, "read_committed") == 0, f"LSO with a's txn open {end_offset(t, 0, 'read_committed')}")
    pa.abort_transaction()
    pa.close(); pb.close()
    p = KafkaProducer(bootstrap_servers=BOOTSTRAP)
    p.send(t, value=b"plain").get(10); p.close()
    check(end_offset(t, 0, "read_committed") == 9, f"LSO after both ended {end_offset(t, 0, 'read_committed')}")
    rc = read_all(t, 1, 4, isolation="read_committed")
    check(vals(rc) == [b"b0", b"b1", b"b2", b"plain"], f"read_committed got {vals(rc)}")
    ru = read_all(t, 1, 7)
    check(vals(ru) == [b"a0", b"b0", b"a1", b"b1", b"a2", b"b2", b"plain"], f"read_uncommitted got {vals(ru)}")


run()
