//! Compatibility tests: the real `skiff` binary against real Kafka clients
//! (rdkafka, kcat) and raw Kafka-protocol requests.
//!
//! Every test starts its own broker on 127.0.0.1:0 with a fresh data dir, so
//! the tests run in parallel. Set `SKIFF_TEST_BOOTSTRAP=host:port` to run the
//! same tests against an external broker (e.g. real Kafka from
//! docker-compose.yml); tests that must restart the broker, read its data dir
//! or change its configuration then print `SKIP: ...` and return.

mod harness;

mod acls;
mod admin;
mod api_versions;
mod auto_create;
mod bad_frames;
mod bench_smoke;
mod clients;
mod compaction;
mod compression;
mod consumer_groups;
mod corruption;
mod crash;
mod disk_faults;
mod durability;
mod embedded;
mod fetch;
mod franz_go;
mod fuzz_replay;
mod group_migration;
mod groups;
mod http;
mod http_groups;
mod idempotence;
mod java_avro_serializer;
mod java_client;
mod java_kip848;
mod kafka_streams;
mod kafka_tools;
mod kcat;
mod large;
mod legacy_records;
mod legacy_versions;
mod limits;
mod list_offsets;
mod metadata;
mod pipelining;
mod produce_consume;
mod protocol_edges;
mod retention;
mod sarama;
mod schema_registry;
mod schema_registry_clients;
mod schema_registry_json;
mod schema_registry_normalize;
mod schema_registry_rules;
mod security;
mod segments;
mod share_admin;
mod share_fetch;
mod share_groups;
mod share_tools;
mod transactions;
