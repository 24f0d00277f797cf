//! `normalize` in the built-in Schema Registry over raw HTTP with Confluent's
//! JSON shapes: `?normalize=true` for Protobuf (Confluent's normalized text
//! is what is stored, so schemas that differ only in layout, comments, name
//! qualification and the order of options, imports, fields, oneofs and enum
//! constants get one id and version), and the `normalize` field of `/config`
//! and `/config/{subject}` (normalizing without the query parameter, for
//! Avro, JSON Schema and Protobuf, and kept across a restart).

use serde_json::{json, Value};

use crate::harness;
use crate::schema_registry::{assert_error, call, register, registry_addr, start};

/// One schema written two ways (comments, layout, relative names, order).
const PROTO_A: &str = r#"syntax = "proto3";
package skiff.norm;
import "google/protobuf/timestamp.proto";
import "google/protobuf/duration.proto";
option java_package = "dev.skiff.norm";
option go_package = "norm";
// An order.
message Order {
  string id = 1;
  map<string, Line> lines = 2;
  google.protobuf.Timestamp at = 3;
  oneof pay { string card = 5; int64 cash = 4; }
  message Line { string sku = 1; Kind kind = 2; }
  enum Kind { KIND_UNSET = 0; GOODS = 2; SERVICE = 1; }
}
"#;

const PROTO_B: &str = r#"
/* The same order, laid out differently. */
syntax = "proto3";  package skiff.norm;
import "google/protobuf/duration.proto"; import "google/protobuf/timestamp.proto";
option go_package = "norm"; option java_package = "dev.skiff.norm";
message Order {
  oneof pay { int64 cash = 4; string card = 5; }
  .google.protobuf.Timestamp at = 3;
  map<string, .skiff.norm.Order.Line> lines = 2;
  string id = 1;
  enum Kind { KIND_UNSET = 0; SERVICE = 1; GOODS = 2; }
  message Line { Order.Kind kind = 2; string sku = 1; }
}
"#;

/// What Confluent's normalization writes for both (and so stores).
const PROTO_NORMALIZED: &str = r#"syntax = "proto3";
package skiff.norm;

import "google/protobuf/duration.proto";
import "google/protobuf/timestamp.proto";

option go_package = "norm";
option java_package = "dev.skiff.norm";

message Order {
  string id = 1;
  map<string, .skiff.norm.Order.Line> lines = 2;
  .google.protobuf.Timestamp at = 3;

  oneof pay {
    int64 cash = 4;
    string card = 5;
  }

  message Line {
    string sku = 1;
    .skiff.norm.Order.Kind kind = 2;
  }
  enum Kind {
    KIND_UNSET = 0;
    SERVICE = 1;
    GOODS = 2;
  }
}
"#;

fn proto(text: &str) -> Value {
    json!({"schemaType": "PROTOBUF", "schema": text})
}

fn post(addr: &str, path: &str, body: Value) -> (u16, Value) {
    call(addr, "POST", path, Some(body))
}

#[test]
fn protobuf_normalize_gives_one_id_and_stores_confluents_form() {
    harness::run(async {
        let Some((_broker, a)) = start(&[]) else {
            return;
        };
        // Without normalize the two texts are two schemas.
        let plain = harness::unique_topic("sr-pb-plain");
        let (s, r1) = register(&a, &plain, proto(PROTO_A));
        assert_eq!(s, 200, "{r1}");
        let (s, r2) = register(&a, &plain, proto(PROTO_B));
        assert_eq!(s, 200, "{r2}");
        assert_ne!(r1["id"], r2["id"], "without normalize: {r1} {r2}");

        let subject = harness::unique_topic("sr-pb-norm");
        let versions = format!("/subjects/{subject}/versions?normalize=true");
        let (s, first) = post(&a, &versions, proto(PROTO_A));
        assert_eq!(s, 200, "{first}");
        let (s, second) = post(&a, &versions, proto(PROTO_B));
        assert_eq!(s, 200, "{second}");
        assert_eq!(
            (&second["id"], &second["version"]),
            (&first["id"], &json!(1)),
            "normalized: {first} {second}"
        );
        // The stored text is the normalized form; registering it as is (no
        // normalize) finds the same schema.
        let (_, got) = call(&a, "GET", &format!("/subjects/{subject}/versions/1"), None);
        assert_eq!(got["schema"], PROTO_NORMALIZED, "{got}");
        assert_eq!(got["schemaType"], "PROTOBUF");
        assert_eq!(register(&a, &subject, proto(PROTO_NORMALIZED)).1, first);

        // Lookup: normalized, a third layout is found; as given, it is not.
        let third = PROTO_A.replace("\n", "\n\n  ").replace("// An order.", "");
        let (s, found) = post(
            &a,
            &format!("/subjects/{subject}?normalize=true"),
            proto(&third),
        );
        assert_eq!(s, 200, "{found}");
        assert_eq!(
            (&found["id"], &found["version"], &found["subject"]),
            (&first["id"], &json!(1), &json!(subject))
        );
        assert_error(
            post(&a, &format!("/subjects/{subject}"), proto(&third)),
            404,
            40403,
            "lookup without normalize",
        );
        // A compatibility check normalizes too (the same schema: compatible).
        let (s, c) = post(
            &a,
            &format!("/compatibility/subjects/{subject}/versions/latest?normalize=true"),
            proto(PROTO_B),
        );
        assert_eq!((s, c), (200, json!({"is_compatible": true})));
    });
}

#[test]
fn config_normalize_applies_without_the_query_parameter() {
    harness::run(async {
        let Some((mut broker, a)) = start(&[]) else {
            return;
        };
        let pb = harness::unique_topic("sr-cfg-pb");
        // PUT answers with the stored config, GET with the level filled in.
        assert_eq!(
            call(
                &a,
                "PUT",
                &format!("/config/{pb}"),
                Some(json!({"normalize": true}))
            ),
            (200, json!({"normalize": true}))
        );
        assert_eq!(
            call(&a, "GET", &format!("/config/{pb}"), None).1,
            json!({"normalize": true, "compatibilityLevel": "BACKWARD"})
        );
        // A later PUT of the level keeps normalize (Confluent merges).
        assert_eq!(
            call(
                &a,
                "PUT",
                &format!("/config/{pb}"),
                Some(json!({"compatibility": "FULL"}))
            ),
            (200, json!({"compatibility": "FULL", "normalize": true}))
        );
        let (s, r1) = register(&a, &pb, proto(PROTO_A));
        assert_eq!(s, 200, "{r1}");
        assert_eq!(register(&a, &pb, proto(PROTO_B)).1, r1, "subject config");
        let (_, found) = post(&a, &format!("/subjects/{pb}"), proto(PROTO_B));
        assert_eq!(found["id"], r1["id"], "lookup: {found}");

        // The global config: Avro and JSON Schema subjects normalize too.
        assert_eq!(
            call(&a, "PUT", "/config", Some(json!({"normalize": true}))),
            (200, json!({"normalize": true}))
        );
        assert_eq!(
            call(&a, "GET", "/config", None).1,
            json!({"normalize": true, "compatibilityLevel": "BACKWARD"})
        );
        let avro = harness::unique_topic("sr-cfg-avro");
        let avro_a = r#"{"type":"record","name":"U","fields":[{"name":"n","type":"string"}]}"#;
        let avro_b = r#"{"fields":[{"type":"string","name":"n"}],"name":"U","type":"record"}"#;
        let (s, ra) = register(&a, &avro, json!({"schema": avro_a}));
        assert_eq!(s, 200, "{ra}");
        assert_eq!(register(&a, &avro, json!({"schema": avro_b})).1, ra);
        let js = harness::unique_topic("sr-cfg-json");
        let json_a = r#"{"type":"object","properties":{"a":{"type":"string"}}}"#;
        let json_b = r#"{"properties":{"a":{"type":"string"}},"type":"object"}"#;
        let (s, rj) = register(&a, &js, json!({"schemaType": "JSON", "schema": json_a}));
        assert_eq!(s, 200, "{rj}");
        assert_eq!(
            register(&a, &js, json!({"schemaType": "JSON", "schema": json_b})).1,
            rj
        );
        // A subject's own `normalize: false` wins over the global true.
        let off = harness::unique_topic("sr-cfg-off");
        call(
            &a,
            "PUT",
            &format!("/config/{off}"),
            Some(json!({"normalize": false})),
        );
        let (_, o1) = register(&a, &off, json!({"schema": avro_a}));
        let (_, o2) = register(&a, &off, json!({"schema": avro_b}));
        assert_ne!(o1["id"], o2["id"], "normalize=false subject: {o1} {o2}");

        // Bad values are refused with Confluent's codes.
        assert_error(
            call(&a, "PUT", "/config", Some(json!({"normalize": "yes"}))),
            422,
            422,
            "normalize not a boolean",
        );
        assert_error(
            call(
                &a,
                "PUT",
                "/config",
                Some(json!({"compatibility": "SIDEWAYS"})),
            ),
            422,
            42203,
            "bad level",
        );

        // Durable: the CONFIG records are replayed from `_schemas`.
        broker.restart();
        let a = registry_addr(&broker, 2);
        assert_eq!(
            call(&a, "GET", &format!("/config/{pb}"), None).1,
            json!({"normalize": true, "compatibilityLevel": "FULL"})
        );
        assert_eq!(
            call(&a, "GET", "/config", None).1,
            json!({"normalize": true, "compatibilityLevel": "BACKWARD"})
        );
        let json_c = r#"{ "properties" : { "a" : { "type" : "string" } }, "type" : "object" }"#;
        assert_eq!(
            register(&a, &js, json!({"schemaType": "JSON", "schema": json_c})).1,
            rj,
            "after the restart"
        );

        // `null` clears a field; DELETE answers with what it removed.
        assert_eq!(
            call(
                &a,
                "PUT",
                &format!("/config/{pb}"),
                Some(json!({"normalize": null}))
            ),
            (200, json!({"compatibility": "FULL"}))
        );
        assert_eq!(
            call(
                &a,
                "GET",
                &format!("/config/{pb}?defaultToGlobal=true"),
                None
            )
            .1,
            json!({"normalize": true, "compatibilityLevel": "FULL"}),
            "the global normalize shows through"
        );
        assert_eq!(
            call(&a, "DELETE", "/config", None).1,
            json!({"normalize": true, "compatibilityLevel": "BACKWARD"})
        );
        assert_eq!(
            call(&a, "GET", "/config", None).1,
            json!({"compatibilityLevel": "BACKWARD"})
        );
        let js2 = harness::unique_topic("sr-cfg-json2");
        let (_, j2) = register(
            &a,
            &js2,
            json!({"schemaType": "JSON", "schema": r#"{"type":"object","properties":{"b":{"type":"string"}}}"#}),
        );
        let (_, j3) = register(
            &a,
            &js2,
            json!({"schemaType": "JSON", "schema": r#"{"properties":{"b":{"type":"string"}},"type":"object"}"#}),
        );
        assert_ne!(j2["id"], j3["id"], "normalize off again: {j2} {j3}");
    });
}
