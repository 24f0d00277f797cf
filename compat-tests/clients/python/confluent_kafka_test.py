"""confluent-kafka-python (librdkafka) against Skiff, default client settings.
Run: SKIFF_BOOTSTRAP=localhost:9092 python3 confluent_kafka_test.py [scenario ...]"""
import time
from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING, ConsumerGroupTopicPartitions
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


def read_all(topic, n_parts, expect, timeout=15):
    c = Consumer({**BASE, "group.id": uniq("ck-read"), "enable.auto.commit": False})
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


@scenario("consumer-group")
def _():
    t, g = uniq("ck-grp"), uniq("ck-g")
    create(t, 3)
    conf = {**BASE, "group.id": g, "auto.offset.reset": "earliest", "enable.auto.commit": False}
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


run()
