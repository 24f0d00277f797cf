"""aiokafka against Skiff, default client settings.
Run: SKIFF_BOOTSTRAP=localhost:9092 python3 aiokafka_test.py [scenario ...]"""
import asyncio, time
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import ProducerFenced, InvalidProducerEpoch
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from _harness import BOOTSTRAP, scenario, check, run, uniq


def aio(fn):
    return lambda: asyncio.run(asyncio.wait_for(fn(), 90))


async def create(topic, n=3):
    a = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await a.start()
    try:
        await a.create_topics([NewTopic(topic, n, 1)])
    finally:
        await a.close()
    await asyncio.sleep(0.2)


async def read_all(topic, n_parts, expect, timeout=15, isolation="read_uncommitted"):
    c = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False, isolation_level=isolation)
    await c.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(n_parts)]
        c.assign(tps)
        await c.seek_to_beginning(*tps)
        out = []
        deadline = time.time() + timeout
        while len(out) < expect and time.time() < deadline:
            for recs in (await c.getmany(timeout_ms=500)).values():
                out.extend(recs)
        return out
    finally:
        await c.stop()


@scenario("metadata+admin")
@aio
async def _():
    t = uniq("aio-adm")
    a = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await a.start()
    try:
        await a.create_topics([NewTopic(t, 3, 1)])
        await asyncio.sleep(0.2)
        check(t in await a.list_topics(), "created topic not listed")
        md = await a.describe_topics([t])
        check(len(md[0]["partitions"]) == 3, f"describe_topics {md}")
        cfg = await a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t)])
        entries = cfg[0].to_object()["resources"][0]["config_entries"]
        names = [e["config_names"] for e in entries]
        check("retention.ms" in names, f"configs {names}")
        cl = await a.describe_cluster()
        check(len(cl["brokers"]) == 1, f"describe_cluster {cl}")
        await a.delete_topics([t])
        await asyncio.sleep(0.3)
        check(t not in await a.list_topics(), "deleted topic still listed")
    finally:
        await a.close()


@scenario("produce-consume")
@aio
async def _():
    t = uniq("aio-pc")
    await create(t, 1)
    p = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP)
    await p.start()
    try:
        await p.send_and_wait(t, key=b"k1", value=b"v1", headers=[("h1", b"x"), ("h2", b"")])
        await p.send_and_wait(t, key=b"k2", value=None)
        await p.send_and_wait(t, value=b"v3")
    finally:
        await p.stop()
    recs = await read_all(t, 1, 3)
    check([(r.key, r.value) for r in recs] == [(b"k1", b"v1"), (b"k2", None), (None, b"v3")],
          f"got {[(r.key, r.value) for r in recs]}")
    check(list(recs[0].headers) == [("h1", b"x"), ("h2", b"")], f"headers {recs[0].headers}")


for codec in ("gzip", "snappy", "lz4", "zstd"):
    def mk(codec):
        @scenario(f"compression-{codec}")
        @aio
        async def _():
            t = uniq(f"aio-{codec}")
            await create(t, 1)
            p = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, compression_type=codec, linger_ms=20)
            await p.start()
            try:
                futs = [await p.send(t, key=b"k%d" % i, value=b"value-%d" % i * 10) for i in range(50)]
                await asyncio.gather(*futs)
            finally:
                await p.stop()
            recs = await read_all(t, 1, 50)
            check([r.value for r in recs] == [b"value-%d" % i * 10 for i in range(50)], f"{len(recs)} recs")
    mk(codec)


@scenario("consumer-group")
@aio
async def _():
    t, g = uniq("aio-grp"), uniq("aio-g")
    await create(t, 3)

    def mkc():
        return AIOKafkaConsumer(t, bootstrap_servers=BOOTSTRAP, group_id=g,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    c1, c2 = mkc(), mkc()
    await c1.start(); await c2.start()
    deadline = time.time() + 40
    while time.time() < deadline and not (c1.assignment() and c2.assignment()
                                          and len(c1.assignment() | c2.assignment()) == 3):
        await asyncio.gather(c1.getmany(timeout_ms=300), c2.getmany(timeout_ms=300))
    a1, a2 = c1.assignment(), c2.assignment()
    check(a1 and a2 and not (a1 & a2) and len(a1 | a2) == 3, f"assignment {a1} {a2}")
    p = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP)
    await p.start()
    for i in range(30):
        await p.send(t, value=b"%d" % i, partition=i % 3)
    await p.flush()
    seen = []
    while time.time() < deadline and len(seen) < 30:
        for res in await asyncio.gather(c1.getmany(timeout_ms=300), c2.getmany(timeout_ms=300)):
            for recs in res.values():
                seen.extend(r.value for r in recs)
    check(sorted(seen) == sorted(b"%d" % i for i in range(30)), f"seen {len(seen)}")
    await c1.commit(); await c2.commit()
    await c1.stop(); await c2.stop()

    a = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await a.start()
    try:
        groups = [x[0] for x in await a.list_consumer_groups()]
        check(g in groups, f"list_consumer_groups {groups}")
        d = await a.describe_consumer_groups([g])
        grp = d[0].to_object()["groups"][0]
        check(grp["error_code"] == 0 and grp["state"] == "Empty", f"describe {grp}")
        offs = await a.list_consumer_group_offsets(g)
        check({tp.partition: o.offset for tp, o in offs.items()} == {0: 10, 1: 10, 2: 10}, f"offsets {offs}")
    finally:
        await a.close()

    await p.send_and_wait(t, value=b"new", partition=1)
    await p.stop()
    c3 = mkc()
    await c3.start()
    got = []
    deadline = time.time() + 20
    while time.time() < deadline and not got:
        for recs in (await c3.getmany(timeout_ms=300)).values():
            got.extend(r.value for r in recs)
    await c3.stop()
    check(got == [b"new"], f"resumed consumer got {got}")


@scenario("idempotent-producer")
@aio
async def _():
    t = uniq("aio-idem")
    await create(t, 1)
    p = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, enable_idempotence=True)
    await p.start()
    try:
        for i in range(5):
            await p.send_and_wait(t, value=b"m%d" % i)
        b = p.create_batch()
        for i in range(3):
            b.append(key=None, value=b"b%d" % i, timestamp=None)
        await (await p.send_batch(b, t, partition=0))
    finally:
        await p.stop()
    recs = await read_all(t, 1, 8)
    check([r.value for r in recs] == [b"m0", b"m1", b"m2", b"m3", b"m4", b"b0", b"b1", b"b2"],
          f"got {[r.value for r in recs]}")


@scenario("offsets-for-times")
@aio
async def _():
    t = uniq("aio-oft")
    await create(t, 1)
    p = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP)
    await p.start()
    base = int(time.time() * 1000) - 100000
    for i in range(5):
        await p.send_and_wait(t, value=b"x", timestamp_ms=base + i * 1000)
    await p.stop()
    c = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP)
    await c.start()
    try:
        tp = TopicPartition(t, 0)
        check(await c.end_offsets([tp]) == {tp: 5}, "end_offsets")
        check(await c.beginning_offsets([tp]) == {tp: 0}, "beginning_offsets")
        r = await c.offsets_for_times({tp: base + 1500})
        check(r[tp] is not None and r[tp].offset == 2 and r[tp].timestamp == base + 2000, f"oft {r}")
        r = await c.offsets_for_times({tp: base + 999999})
        check(r[tp] is None, f"oft future {r}")
    finally:
        await c.stop()


# ---- transactions (aiokafka's transactional AIOKafkaProducer) ----

async def txn_producer(tid):
    p = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, transactional_id=tid)
    await p.start()  # InitProducerId
    return p


async def txn_send(p, topic, msgs):
    futs = [await p.send(topic, **m) for m in msgs]
    await asyncio.gather(*futs)


async def end_offset(topic, partition, isolation):
    """end offset as ListOffsets answers it for the isolation level (LSO for read_committed)"""
    c = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, isolation_level=isolation)
    await c.start()
    try:
        tp = TopicPartition(topic, partition)
        return (await c.end_offsets([tp]))[tp]
    finally:
        await c.stop()


def vals(recs):
    return [r.value for r in recs]


@scenario("txn-commit")
@aio
async def _():
    t = uniq("aio-txc")
    await create(t, 2)
    p = await txn_producer(uniq("aio-tid"))
    try:
        await p.begin_transaction()
        await txn_send(p, t, [dict(value=b"c%d" % i, partition=i % 2) for i in range(6)])
        lso, hw = await end_offset(t, 0, "read_committed"), await end_offset(t, 0, "read_uncommitted")
        check((lso, hw) == (0, 3), f"LSO/HW during open txn {lso} {hw}")
        await p.commit_transaction()
        async with p.transaction():  # the context-manager form, committing on exit
            await p.send_and_wait(t, value=b"second", partition=1)
    finally:
        await p.stop()
    want = sorted([b"c%d" % i for i in range(6)] + [b"second"])
    rc = await read_all(t, 2, 7, isolation="read_committed")
    check(sorted(vals(rc)) == want, f"read_committed got {vals(rc)}")
    ru = await read_all(t, 2, 7)
    check(sorted(vals(ru)) == want, f"read_uncommitted got {vals(ru)}")
    lso = await end_offset(t, 0, "read_committed")
    check(lso == 4, f"LSO after commit {lso}")


@scenario("txn-abort")
@aio
async def _():
    t = uniq("aio-txa")
    await create(t, 1)
    p = await txn_producer(uniq("aio-tid"))
    try:
        await p.begin_transaction()
        await txn_send(p, t, [dict(value=b"a%d" % i) for i in range(3)])
        await p.abort_transaction()
        try:  # an exception inside the context manager aborts
            async with p.transaction():
                await p.send_and_wait(t, value=b"a3")
                raise KeyError("boom")
        except KeyError:
            pass
        async with p.transaction():
            await txn_send(p, t, [dict(value=b"c%d" % i) for i in range(2)])
    finally:
        await p.stop()
    # the aborted records (offsets 0-2, 4) come first, so a leak would show up here
    rc = await read_all(t, 1, 2, isolation="read_committed")
    check([(r.offset, r.value) for r in rc] == [(6, b"c0"), (7, b"c1")],
          f"read_committed got {[(r.offset, r.value) for r in rc]}")
    ru = await read_all(t, 1, 6)
    check(vals(ru) == [b"a0", b"a1", b"a2", b"a3", b"c0", b"c1"], f"read_uncommitted got {vals(ru)}")


@scenario("txn-consume-transform-produce")
@aio
async def _():
    src, dst, g = uniq("aio-in"), uniq("aio-out"), uniq("aio-eos")
    await create(src, 2); await create(dst, 2)
    p0 = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP)
    await p0.start()
    c = AIOKafkaConsumer(src, bootstrap_servers=BOOTSTRAP, group_id=g, auto_offset_reset="earliest",
                         enable_auto_commit=False, isolation_level="read_committed")
    await c.start()
    p = await txn_producer(uniq("aio-tid"))
    tps = [TopicPartition(src, 0), TopicPartition(src, 1)]

    async def consume(n):
        got, deadline = [], time.time() + 30
        while len(got) < n and time.time() < deadline:
            for recs in (await c.getmany(timeout_ms=300)).values():
                got.extend(recs)
        check(len(got) == n, f"consumed {len(got)} of {n}")
        return got

    async def offsets():
        return {tp: await c.position(tp) for tp in c.assignment()}

    async def committed():
        return {tp.partition: await c.committed(tp) for tp in tps}

    try:
        for i in range(10):
            await p0.send(src, value=b"%d" % i, partition=i % 2)
        await p0.flush()
        got = await consume(10)
        async with p.transaction():
            await txn_send(p, dst, [dict(value=b"x" + r.value, partition=r.partition) for r in got])
            await p.send_offsets_to_transaction(await offsets(), g)
        check(await committed() == {0: 5, 1: 5}, f"committed after commit {await committed()}")
        out = await read_all(dst, 2, 10, isolation="read_committed")
        check(sorted(vals(out)) == sorted(b"x%d" % i for i in range(10)), f"output {vals(out)}")

        # again, but abort: the group's offsets must not move, the output must stay hidden
        for i in range(10, 14):
            await p0.send(src, value=b"%d" % i, partition=i % 2)
        await p0.flush()
        got = await consume(4)
        await p.begin_transaction()
        await txn_send(p, dst, [dict(value=b"x" + r.value, partition=r.partition) for r in got])
        await p.send_offsets_to_transaction(await offsets(), g)
        await p.abort_transaction()
        check(await committed() == {0: 5, 1: 5}, f"committed after abort {await committed()}")
        async with p.transaction():
            await txn_send(p, dst, [dict(value=b"end", partition=i) for i in (0, 1)])
    finally:
        await p.stop(); await p0.stop(); await c.stop()
    out = await read_all(dst, 2, 12, isolation="read_committed")
    check(sorted(vals(out)) == sorted([b"x%d" % i for i in range(10)] + [b"end", b"end"]), f"output {vals(out)}")


@scenario("txn-fencing")
@aio
async def _():
    t, tid = uniq("aio-txf"), uniq("aio-tid")
    await create(t, 1)
    p1 = await txn_producer(tid)
    p2 = None
    try:
        await p1.begin_transaction()
        await txn_send(p1, t, [dict(value=b"zombie")])
        p2 = await txn_producer(tid)  # bumps the epoch and aborts p1's open transaction
        try:
            await p1.commit_transaction()
            raise AssertionError("fenced producer's commit succeeded")
        except (ProducerFenced, InvalidProducerEpoch):
            pass
        async with p2.transaction():
            await p2.send_and_wait(t, value=b"live")
    finally:
        await p1.stop()
        if p2:
            await p2.stop()
    rc = await read_all(t, 1, 1, isolation="read_committed")
    check(vals(rc) == [b"live"], f"read_committed got {vals(rc)}")
    ru = await read_all(t, 1, 2)
    check(vals(ru) == [b"zombie", b"live"], f"read_uncommitted got {vals(ru)}")


@scenario("txn-interleaved")
@aio
async def _():
    """two transactional producers interleave on one partition; the first to commit
    cannot be read until the other ends (LSO); then read_committed filters the
    aborted one's records by producer id out of the same fetched range"""
    t = uniq("aio-txi")
    await create(t, 1)
    pa, pb = await txn_producer(uniq("aio-tid")), await txn_producer(uniq("aio-tid"))
    try:
        await pa.begin_transaction(); await pb.begin_transaction()
        for i in range(3):
            await pa.send_and_wait(t, value=b"a%d" % i)
            await pb.send_and_wait(t, value=b"b%d" % i)
        await pb.commit_transaction()
        lso = await end_offset(t, 0, "read_committed")
        check(lso == 0, f"LSO with a's txn open {lso}")
        await pa.abort_transaction()
    finally:
        await pa.stop(); await pb.stop()
    p = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP)
    await p.start()
    try:
        await p.send_and_wait(t, value=b"plain")
    finally:
        await p.stop()
    lso = await end_offset(t, 0, "read_committed")
    check(lso == 9, f"LSO after both ended {lso}")
    rc = await read_all(t, 1, 4, isolation="read_committed")
    check(vals(rc) == [b"b0", b"b1", b"b2", b"plain"], f"read_committed got {vals(rc)}")
    ru = await read_all(t, 1, 7)
    check(vals(ru) == [b"a0", b"b0", b"a1", b"b1", b"a2", b"b2", b"plain"], f"read_uncommitted got {vals(ru)}")


run()
