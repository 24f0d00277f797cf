"""confluent-kafka-python's Schema Registry client and serializers against
Skiff's built-in registry: Avro, Protobuf and JSON Schema values produced
to Skiff and consumed back, plus the client's registry calls.
Run: SKIFF_BOOTSTRAP=host:port SKIFF_SCHEMA_REGISTRY=http://host:port \
     python3 schema_registry_test.py [scenario ...]"""
import os, time
from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING
from confluent_kafka.schema_registry import SchemaRegistryClient, Schema, SchemaReference
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.avro import AvroSerializer, AvroDeserializer
from confluent_kafka.schema_registry.json_schema import JSONSerializer, JSONDeserializer
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer, ProtobufDeserializer
from confluent_kafka.serialization import SerializationContext, MessageField
from confluent_kafka.error import SerializationError
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.message_factory import GetMessageClass
from _harness import BOOTSTRAP, scenario, check, run, uniq

REGISTRY = os.environ.get("SKIFF_SCHEMA_REGISTRY", "http://localhost:8081")
BASE = {"bootstrap.servers": BOOTSTRAP}


def client():
    return SchemaRegistryClient({"url": REGISTRY})


def round_trip(topic, serializer, deserializer, values):
    """Serializes values into topic (a new one, auto-created), reads them
    back with a plain consumer and deserializes them."""
    p = Producer(dict(BASE))
    errs = []
    for v in values:
        data = serializer(v, SerializationContext(topic, MessageField.VALUE))
        check(data[0] == 0, "Confluent wire format starts with magic byte 0")
        p.produce(topic, value=data, on_delivery=lambda e, _m: e and errs.append(e))
    check(p.flush(15) == 0, "flush left messages")
    check(not errs, f"delivery errors {errs}")
    c = Consumer({**BASE, "group.id": uniq("sr-read"), "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    out = []
    deadline = time.time() + 20
    while len(out) < len(values) and time.time() < deadline:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        out.append(deserializer(m.value(), SerializationContext(topic, MessageField.VALUE)))
    c.close()
    return out


USER_V1 = """{"type":"record","name":"User","namespace":"skiff.test","fields":[
  {"name":"name","type":"string"},{"name":"age","type":"int"}]}"""
USER_V2 = """{"type":"record","name":"User","namespace":"skiff.test","fields":[
  {"name":"name","type":"string"},{"name":"age","type":"int"},
  {"name":"email","type":["null","string"],"default":null}]}"""
USER_BAD = """{"type":"record","name":"User","namespace":"skiff.test","fields":[
  {"name":"name","type":"string"},{"name":"age","type":"int"},{"name":"level","type":"int"}]}"""


@scenario("avro-round-trip")
def avro_round_trip():
    topic = uniq("sr-avro")
    c = client()
    ser = AvroSerializer(c, USER_V1)
    de = AvroDeserializer(client())
    values = [{"name": f"u{i}", "age": i} for i in range(5)]
    got = round_trip(topic, ser, de, values)
    check(got == values, f"read back {got}")
    latest = c.get_latest_version(f"{topic}-value")
    check(latest.version == 1, f"version {latest.version}")
    again = c.register_schema(f"{topic}-value", Schema(USER_V1, "AVRO"))
    check(again == latest.schema_id, "the same schema registered twice keeps its id")


@scenario("avro-evolution-and-compatibility")
def avro_evolution():
    subject = uniq("sr-evo") + "-value"
    c = client()
    id1 = c.register_schema(subject, Schema(USER_V1, "AVRO"))
    check(c.test_compatibility(subject, Schema(USER_V2, "AVRO")), "optional field with default is BACKWARD compatible")
    check(not c.test_compatibility(subject, Schema(USER_BAD, "AVRO")), "new required field is not BACKWARD compatible")
    id2 = c.register_schema(subject, Schema(USER_V2, "AVRO"))
    check(id2 != id1, "a new schema gets a new id")
    try:
        c.register_schema(subject, Schema(USER_BAD, "AVRO"))
        raise AssertionError("incompatible schema was registered")
    except SchemaRegistryError as e:
        check(e.http_status_code == 409 and e.error_code == 40901, f"got {e.http_status_code} {e.error_code}")
    check(c.get_versions(subject) == [1, 2], f"versions {c.get_versions(subject)}")
    c.set_compatibility(subject, "NONE")
    check(c.get_compatibility(subject) == "NONE", "subject level NONE")
    c.register_schema(subject, Schema(USER_BAD, "AVRO"))
    check(c.delete_subject(subject) == [1, 2, 3], "soft delete lists the versions")
    check(subject not in c.get_subjects(), "soft-deleted subject is hidden")
    check(c.delete_subject(subject, permanent=True) == [1, 2, 3], "permanent delete")
    try:
        c.get_latest_version(subject)
        raise AssertionError("deleted subject still served")
    except SchemaRegistryError as e:
        check(e.error_code == 40401, f"got {e.error_code}")


@scenario("json-schema-round-trip")
def json_round_trip():
    topic = uniq("sr-json")
    schema = """{"$schema":"http://json-schema.org/draft-07/schema#","title":"Order","type":"object",
      "properties":{"id":{"type":"integer"},"item":{"type":"string"}},"required":["id"]}"""
    ser = JSONSerializer(schema, client())
    de = JSONDeserializer(None, schema_registry_client=client())
    values = [{"id": i, "item": f"thing {i}"} for i in range(3)]
    got = round_trip(topic, ser, de, values)
    check(got == values, f"read back {got}")
    latest = client().get_latest_version(f"{topic}-value")
    check(latest.schema.schema_type == "JSON", f"type {latest.schema.schema_type}")


ADDRESS = """{"$id":"http://example.com/address.json","type":"object",
  "properties":{"street":{"type":"string"},"zip":{"$ref":"#/definitions/Zip"}},"required":["street"],
  "definitions":{"Zip":{"type":"string","pattern":"^[0-9]{5}$"}}}"""
CUSTOMER = """{"type":"object","properties":{"name":{"type":"string"},
  "home":{"$ref":"address.json"},"billing_zip":{"$ref":"address.json#/definitions/Zip"}},
  "required":["name","home"]}"""


@scenario("json-schema-with-reference")
def json_with_reference():
    """A JSON Schema whose $refs name another subject's schema (whole, and
    a definition in it by JSON pointer): the serializer registers it with
    its reference and validates through it; the deserializer fetches the
    writer schema by id and resolves the reference from the registry."""
    c = client()
    addr_subject = uniq("sr-json-address")
    c.register_schema(addr_subject, Schema(ADDRESS, "JSON"))
    refs = [SchemaReference("address.json", addr_subject, 1)]
    topic = uniq("sr-json-ref")
    ser = JSONSerializer(Schema(CUSTOMER, "JSON", refs), c)
    de = JSONDeserializer(None, schema_registry_client=client())
    values = [{"name": f"c{i}", "home": {"street": f"{i} Main St", "zip": "1234" + str(i)},
               "billing_zip": "99999"} for i in range(3)]
    got = round_trip(topic, ser, de, values)
    check(got == values, f"read back {got}")
    ctx = SerializationContext(topic, MessageField.VALUE)
    for bad in [{"name": "x", "home": {"street": "s", "zip": "abc"}},
                {"name": "x", "home": {"zip": "12345"}},
                {"name": "x", "home": {"street": "s"}, "billing_zip": "1"}]:
        try:
            ser(bad, ctx)
            raise AssertionError(f"{bad} passed validation through the reference")
        except SerializationError:
            pass
    latest = c.get_latest_version(f"{topic}-value")
    got_refs = [(r.name, r.subject, r.version) for r in latest.schema.references or []]
    check(got_refs == [("address.json", addr_subject, 1)], f"references {got_refs}")
    # A $ref to a name no reference carries is refused by the registry.
    try:
        c.register_schema(uniq("sr-json-dangling"), Schema(CUSTOMER, "JSON"))
        raise AssertionError("unresolvable $ref registered")
    except SchemaRegistryError as e:
        check(e.http_status_code == 422 and e.error_code == 42201, f"got {e.http_status_code} {e.error_code}")


def proto_class():
    """A Protobuf message class built at run time (no protoc needed)."""
    fdp = descriptor_pb2.FileDescriptorProto()
    fdp.name = f"skiff_{uniq('t').replace('-', '_')}.proto"
    fdp.package = "skiff.test"
    fdp.syntax = "proto3"
    msg = fdp.message_type.add()
    msg.name = "Reading"
    f = msg.field.add(); f.name = "sensor"; f.number = 1; f.type = f.TYPE_STRING; f.label = f.LABEL_OPTIONAL
    f = msg.field.add(); f.name = "value"; f.number = 2; f.type = f.TYPE_DOUBLE; f.label = f.LABEL_OPTIONAL
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return GetMessageClass(pool.FindMessageTypeByName("skiff.test.Reading"))


@scenario("protobuf-round-trip")
def protobuf_round_trip():
    topic = uniq("sr-proto")
    Reading = proto_class()
    ser = ProtobufSerializer(Reading, client(), {"use.deprecated.format": False})
    de = ProtobufDeserializer(Reading, {"use.deprecated.format": False}, client())
    values = [Reading(sensor=f"s{i}", value=i * 1.5) for i in range(3)]
    got = round_trip(topic, ser, de, values)
    check([(m.sensor, m.value) for m in got] == [(m.sensor, m.value) for m in values], f"read back {got}")
    latest = client().get_latest_version(f"{topic}-value")
    check(latest.schema.schema_type == "PROTOBUF", f"type {latest.schema.schema_type}")


@scenario("protobuf-with-reference")
def protobuf_with_reference():
    """A message importing another user .proto file: the serializer
    registers the import as its own subject and refers to it."""
    tag = uniq('r').replace('-', '_')
    dep = descriptor_pb2.FileDescriptorProto()
    dep.name = f"skiff_dep_{tag}.proto"
    dep.package = "skiff.dep"
    dep.syntax = "proto3"
    unit = dep.message_type.add()
    unit.name = "Unit"
    f = unit.field.add(); f.name = "symbol"; f.number = 1; f.type = f.TYPE_STRING; f.label = f.LABEL_OPTIONAL
    main = descriptor_pb2.FileDescriptorProto()
    main.name = f"skiff_main_{tag}.proto"
    main.package = "skiff.main"
    main.syntax = "proto3"
    main.dependency.append(dep.name)
    m = main.message_type.add()
    m.name = "Measure"
    f = m.field.add(); f.name = "value"; f.number = 1; f.type = f.TYPE_INT64; f.label = f.LABEL_OPTIONAL
    f = m.field.add(); f.name = "unit"; f.number = 2; f.type = f.TYPE_MESSAGE; f.label = f.LABEL_OPTIONAL
    f.type_name = ".skiff.dep.Unit"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(dep)
    pool.Add(main)
    Measure = GetMessageClass(pool.FindMessageTypeByName("skiff.main.Measure"))
    Unit = GetMessageClass(pool.FindMessageTypeByName("skiff.dep.Unit"))
    topic = uniq("sr-proto-ref")
    ser = ProtobufSerializer(Measure, client(), {"use.deprecated.format": False})
    de = ProtobufDeserializer(Measure, {"use.deprecated.format": False}, client())
    values = [Measure(value=i, unit=Unit(symbol="kg")) for i in range(3)]
    got = round_trip(topic, ser, de, values)
    check([(x.value, x.unit.symbol) for x in got] == [(i, "kg") for i in range(3)], f"read back {got}")
    latest = client().get_latest_version(f"{topic}-value")
    refs = latest.schema.references or []
    check([r.name for r in refs] == [dep.name], f"references {refs}")


PROTO_LAYOUT_A = """syntax = "proto3";
package skiff.pynorm;
import "google/protobuf/timestamp.proto";
message Event { string id = 1; google.protobuf.Timestamp at = 2; oneof by { string user = 4; string bot = 3; } }
"""
PROTO_LAYOUT_B = """// The same schema: other layout, qualified names, other field order.
syntax = "proto3"; package skiff.pynorm;
import "google/protobuf/timestamp.proto";
message Event {
  oneof by { string bot = 3; string user = 4; }
  .google.protobuf.Timestamp at = 2;
  string id = 1;
}
"""


@scenario("protobuf-normalize")
def protobuf_normalize():
    """register_schema / lookup_schema with normalize_schemas=True: two
    layouts of one .proto get one id and version."""
    c = client()
    subject = uniq("sr-pynorm")
    first = c.register_schema(subject, Schema(PROTO_LAYOUT_A, "PROTOBUF"), normalize_schemas=True)
    second = client().register_schema(subject, Schema(PROTO_LAYOUT_B, "PROTOBUF"), normalize_schemas=True)
    check(first == second, f"ids {first} {second}")
    found = client().lookup_schema(subject, Schema(PROTO_LAYOUT_B, "PROTOBUF"), normalize_schemas=True)
    check((found.schema_id, found.version) == (first, 1), f"lookup {found}")
    check(".google.protobuf.Timestamp at = 2;" in found.schema.schema_str, found.schema.schema_str)


@scenario("errors")
def errors():
    c = client()
    try:
        c.register_schema(uniq("sr-bad"), Schema('{"type":"record","name":"X"}', "AVRO"))
        raise AssertionError("malformed schema accepted")
    except SchemaRegistryError as e:
        check(e.http_status_code == 422 and e.error_code == 42201, f"got {e.http_status_code} {e.error_code}")
    try:
        c.get_schema(987654)
        raise AssertionError("unknown id served")
    except SchemaRegistryError as e:
        check(e.http_status_code == 404 and e.error_code == 40403, f"got {e.error_code}")
    subject = uniq("sr-v")
    c.register_schema(subject, Schema('"string"', "AVRO"))
    try:
        c.get_version(subject, 7)
        raise AssertionError("unknown version served")
    except SchemaRegistryError as e:
        check(e.error_code == 40402, f"got {e.error_code}")


if __name__ == "__main__":
    run()
