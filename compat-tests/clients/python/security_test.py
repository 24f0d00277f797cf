"""kafka-python, aiokafka and confluent-kafka with SASL_SSL and SCRAM against
Skiff's SASL_SSL listener (env: SKIFF_SASL_SSL, SKIFF_CA, SKIFF_USER,
SKIFF_PASSWORD; set by compat-tests/security.rs). Each client produces and
consumes one record with both SCRAM mechanisms, and a wrong password fails."""
import asyncio, os, ssl

from _harness import check, run, scenario, uniq

ADDR = os.environ["SKIFF_SASL_SSL"]
CA = os.environ["SKIFF_CA"]
USER = os.environ["SKIFF_USER"]
PASSWORD = os.environ["SKIFF_PASSWORD"]
MECHANISMS = ["SCRAM-SHA-256", "SCRAM-SHA-512"]


def kp_common(mech, password=PASSWORD):
    return dict(bootstrap_servers=ADDR, security_protocol="SASL_SSL", ssl_cafile=CA,
                sasl_mechanism=mech, sasl_plain_username=USER, sasl_plain_password=password)


@scenario("kafka-python SCRAM over TLS")
def kafka_python():
    from kafka import KafkaConsumer, KafkaProducer
    for mech in MECHANISMS:
        topic = uniq("kp-sec")
        p = KafkaProducer(**kp_common(mech))
        p.send(topic, b"hello").get(timeout=20)
        p.close()
        c = KafkaConsumer(topic, auto_offset_reset="earliest", consumer_timeout_ms=15000, **kp_common(mech))
        got = [m.value for m in c][:1]
        c.close()
        check(got == [b"hello"], f"{mech}: {got}")


@scenario("kafka-python wrong password")
def kafka_python_wrong():
    from kafka import KafkaProducer
    from kafka.errors import KafkaError
    try:
        KafkaProducer(request_timeout_ms=5000, max_block_ms=5000, **kp_common("SCRAM-SHA-256", "wrong"))
    except KafkaError:
        return
    raise AssertionError("a wrong password was accepted")


@scenario("aiokafka SCRAM over TLS")
def aiokafka_scram():
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    async def go(mech):
        ctx = ssl.create_default_context(cafile=CA)
        common = dict(bootstrap_servers=ADDR, security_protocol="SASL_SSL", ssl_context=ctx,
                      sasl_mechanism=mech, sasl_plain_username=USER, sasl_plain_password=PASSWORD)
        topic = uniq("aio-sec")
        p = AIOKafkaProducer(**common)
        await p.start()
        try:
            await p.send_and_wait(topic, b"hello")
        finally:
            await p.stop()
        c = AIOKafkaConsumer(topic, auto_offset_reset="earliest", **common)
        await c.start()
        try:
            msg = await asyncio.wait_for(c.getone(), 20)
        finally:
            await c.stop()
        check(msg.value == b"hello", f"{mech}: {msg.value}")

    for mech in MECHANISMS:
        asyncio.run(go(mech))


@scenario("confluent-kafka SCRAM over TLS")
def confluent():
    from confluent_kafka import Consumer, Producer
    for mech in MECHANISMS:
        conf = {"bootstrap.servers": ADDR, "security.protocol": "SASL_SSL", "ssl.ca.location": CA,
                "sasl.mechanism": mech, "sasl.username": USER, "sasl.password": PASSWORD}
        topic = uniq("ck-sec")
        p = Producer(conf)
        p.produce(topic, b"hello")
        check(p.flush(20) == 0, "undelivered")
        c = Consumer({**conf, "group.id": uniq("ck-g"), "auto.offset.reset": "earliest"})
        c.subscribe([topic])
        got = None
        for _ in range(40):
            m = c.poll(0.5)
            if m is not None and m.error() is None:
                got = m.value()
                break
        c.close()
        check(got == b"hello", f"{mech}: {got}")


if __name__ == "__main__":
    run()
