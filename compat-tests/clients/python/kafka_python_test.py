"""kafka-python against Skiff, default client settings.
Run: SKIFF_BOOTSTRAP=localhost:9092 python3 kafka_python_test.py [scenario ...]"""
import time
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic, ConfigResource, ConfigResourceType
from _harness import BOOTSTRAP, scenario, check, run, uniq


def admin():
    return KafkaAdminClient(bootstrap_servers=BOOTSTRAP)


def create(topic, n=3):
    a = admin()
    a.create_topics([NewTopic(topic, n, 1)])
    a.close()
    time.sleep(0.2)


def read_all(topic, n_parts, expect, timeout=15):
    c = KafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False)
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


run()
