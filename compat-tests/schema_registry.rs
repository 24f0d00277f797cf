//! The built-in Schema Registry (src/schema_registry) against raw HTTP
//! requests with Confluent's JSON shapes: ids, lookups, references, every
//! compatibility level, config and mode, deletes, restarts, bad input. The
//! clients, the console and the fuzz seeds are in `schema_registry_clients.rs`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::{self, Broker};

pub(crate) const CT: &str = "application/vnd.schemaregistry.v1+json";

/// The address of the `n`th (1-based) `schema registry ready addr=` line.
pub(crate) fn registry_addr(broker: &Broker, n: usize) -> String {
    harness::wait_for(
        "schema registry ready line",
        Duration::from_secs(10),
        || {
            broker
                .log_lines()
                .iter()
                .filter(|l| l.contains("schema registry ready"))
                .nth(n - 1)
                .and_then(|l| harness::parse_ready_addr(l))
        },
    )
}

/// A local broker with the registry on a free port, and the registry's address.
pub(crate) fn start(extra: &[(&str, &str)]) -> Option<(Broker, String)> {
    if harness::skip_if_external("the schema registry is Skiff's own") {
        return None;
    }
    let mut sets = vec![
        ("schema.registry.listeners", "127.0.0.1:0"),
        ("http.listeners", "off"),
    ];
    sets.extend_from_slice(extra);
    let broker = Broker::start_with(&sets);
    let addr = registry_addr(&broker, 1);
    Some((broker, addr))
}

/// One HTTP/1.1 request: `(status, content type, body)`.
pub(crate) fn request(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).expect("connect to the schema registry");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: {CT}\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    if let Some(b) = body {
        // The server may answer (413) and close before reading it all.
        let _ = s.write_all(b);
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let content_type = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    (status, content_type, body.to_string())
}

/// A JSON request; asserts the registry's content type; `(status, JSON)`.
pub(crate) fn call(addr: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let bytes = body.map(|b| b.to_string().into_bytes());
    let (status, ct, text) = request(addr, method, path, bytes.as_deref());
    assert_eq!(ct, CT, "{method} {path}: content type");
    let v =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text:?}"));
    (status, v)
}

/// Asserts a Confluent error body.
pub(crate) fn assert_error(got: (u16, Value), status: u16, code: i64, what: &str) {
    assert_eq!(got.0, status, "{what}: {}", got.1);
    assert_eq!(got.1["error_code"], code, "{what}: {}", got.1);
    assert!(got.1["message"].is_string(), "{what}: {}", got.1);
}

pub(crate) fn avro(fields: &[(&str, &str, Option<Value>)]) -> Value {
    let fields: Vec<Value> = fields
        .iter()
        .map(|(n, t, d)| match d {
            Some(d) => json!({"name": n, "type": t, "default": d}),
            None => json!({"name": n, "type": t}),
        })
        .collect();
    json!({"schema": json!({"type": "record", "name": "User", "fields": fields}).to_string()})
}

pub(crate) fn register(addr: &str, subject: &str, body: Value) -> (u16, Value) {
    call(
        addr,
        "POST",
        &format!("/subjects/{subject}/versions"),
        Some(body),
    )
}

#[test]
fn rest_api_shapes_ids_and_lookups() {
    harness::run(async {
        let Some((_broker, addr)) = start(&[]) else {
            return;
        };
        let a = &addr;
        let subject = harness::unique_topic("sr-rest") + "-value";
        let other = harness::unique_topic("sr-rest-other");
        let v1 = avro(&[("name", "string", None)]);

        let (s, r) = register(a, &subject, v1.clone());
        assert_eq!(s, 200, "{r}");
        let id = r["id"].as_i64().expect("id");
        assert_eq!(r["version"], 1, "{r}");
        // Same schema again (other whitespace): same id, no new version.
        let spaced = json!({"schema": "{ \"type\": \"record\", \"name\": \"User\", \"fields\": [ {\"name\": \"name\", \"type\": \"string\"} ] }"});
        assert_eq!(register(a, &subject, spaced.clone()).1["id"], id);
        // Ids are global: the same schema under another subject keeps it.
        assert_eq!(register(a, &other, v1.clone()).1["id"], id);
        assert_eq!(
            call(a, "GET", &format!("/subjects/{subject}/versions"), None),
            (200, json!([1]))
        );

        let (s, latest) = call(
            a,
            "GET",
            &format!("/subjects/{subject}/versions/latest"),
            None,
        );
        assert_eq!(s, 200);
        assert_eq!(latest["subject"], subject.as_str());
        assert_eq!(latest["version"], 1);
        assert_eq!(latest["id"], id);
        assert!(
            latest.get("schemaType").is_none(),
            "AVRO omits schemaType: {latest}"
        );
        let schema_text = latest["schema"].as_str().unwrap().to_string();
        assert_eq!(
            call(
                a,
                "GET",
                &format!("/subjects/{subject}/versions/1/schema"),
                None
            )
            .1,
            serde_json::from_str::<Value>(&schema_text).unwrap()
        );
        assert_eq!(
            call(a, "GET", &format!("/schemas/ids/{id}"), None).1,
            json!({"schema": schema_text})
        );
        let (_, mut subjects) = call(a, "GET", &format!("/schemas/ids/{id}/subjects"), None);
        subjects
            .as_array_mut()
            .unwrap()
            .sort_by_key(|v| v.to_string());
        let mut want = vec![json!(subject), json!(other)];
        want.sort_by_key(|v| v.to_string());
        assert_eq!(subjects, Value::Array(want));
        let (_, versions) = call(a, "GET", &format!("/schemas/ids/{id}/versions"), None);
        assert!(versions
            .as_array()
            .unwrap()
            .contains(&json!({"subject": subject, "version": 1})));
        let (_, types) = call(a, "GET", "/schemas/types", None);
        assert_eq!(types, json!(["JSON", "PROTOBUF", "AVRO"]));
        let (_, all) = call(a, "GET", "/subjects", None);
        assert!(all.as_array().unwrap().contains(&json!(subject)));

        // Lookup: found, schema unknown in the subject, subject unknown.
        let (s, found) = call(a, "POST", &format!("/subjects/{subject}"), Some(spaced));
        assert_eq!(
            (s, found["id"].clone(), found["version"].clone()),
            (200, json!(id), json!(1))
        );
        let v2 = avro(&[("name", "string", None), ("age", "int", Some(json!(0)))]);
        assert_error(
            call(a, "POST", &format!("/subjects/{subject}"), Some(v2.clone())),
            404,
            40403,
            "lookup of an unregistered schema",
        );
        assert_error(
            call(a, "POST", "/subjects/no-such-subject", Some(v1.clone())),
            404,
            40401,
            "lookup in an unknown subject",
        );

        // Unknown subject / version / id, bad version.
        assert_error(
            call(a, "GET", "/subjects/no-such-subject/versions", None),
            404,
            40401,
            "versions of an unknown subject",
        );
        assert_error(
            call(a, "GET", &format!("/subjects/{subject}/versions/9"), None),
            404,
            40402,
            "unknown version",
        );
        assert_error(
            call(a, "GET", "/subjects/no-such-subject/versions/1", None),
            404,
            40401,
            "version of an unknown subject",
        );
        assert_error(
            call(
                a,
                "GET",
                &format!("/subjects/{subject}/versions/zero"),
                None,
            ),
            422,
            42202,
            "bad version",
        );
        assert_error(
            call(a, "GET", "/schemas/ids/99999", None),
            404,
            40403,
            "unknown id",
        );
        assert_error(
            call(a, "GET", "/no/such/path", None),
            404,
            404,
            "unknown path",
        );

        // A new version; referencedby; a Protobuf schema referencing nothing.
        let (_, r2) = register(a, &subject, v2);
        assert_eq!(r2["version"], 2);
        assert_ne!(r2["id"], id);
        let (_, refby) = call(
            a,
            "GET",
            &format!("/subjects/{subject}/versions/1/referencedby"),
            None,
        );
        assert_eq!(refby, json!([]));
        let proto = json!({"schemaType": "PROTOBUF", "schema": "syntax = \"proto3\"; message M { string a = 1; }"});
        let proto_subject = harness::unique_topic("sr-proto");
        let (s, pr) = register(a, &proto_subject, proto);
        assert_eq!(s, 200, "{pr}");
        assert_eq!(pr["schemaType"], "PROTOBUF");

        // Avro references: a record naming a type from another subject.
        let addr_subject = harness::unique_topic("sr-ref-address");
        let address = json!({"schema": json!({"type": "record", "name": "Address", "namespace": "t", "fields": [{"name": "city", "type": "string"}]}).to_string()});
        assert_eq!(register(a, &addr_subject, address).0, 200);
        let person = json!({
            "schema": json!({"type": "record", "name": "Person", "namespace": "t", "fields": [{"name": "home", "type": "t.Address"}]}).to_string(),
            "references": [{"name": "t.Address", "subject": addr_subject, "version": 1}]
        });
        let person_subject = harness::unique_topic("sr-ref-person");
        let (s, pr) = register(a, &person_subject, person);
        assert_eq!(s, 200, "{pr}");
        let (_, refby) = call(
            a,
            "GET",
            &format!("/subjects/{addr_subject}/versions/1/referencedby"),
            None,
        );
        assert_eq!(refby, json!([pr["id"]]));
        assert_eq!(
            call(
                a,
                "GET",
                &format!("/subjects/{person_subject}/versions/1"),
                None
            )
            .1["references"],
            json!([{"name": "t.Address", "subject": addr_subject, "version": 1}])
        );
        // A referenced version cannot be deleted.
        assert_error(
            call(
                a,
                "DELETE",
                &format!("/subjects/{addr_subject}/versions/1"),
                None,
            ),
            422,
            42206,
            "delete of a referenced version",
        );
        // A reference to nothing is an invalid schema.
        let dangling = json!({"schema": "\"string\"", "references": [{"name": "x", "subject": "no-such-subject", "version": 1}]});
        assert_error(
            register(a, &harness::unique_topic("sr-dangling"), dangling),
            422,
            42201,
            "dangling reference",
        );
    });
}

#[test]
fn compatibility_levels_and_config() {
    harness::run(async {
        let Some((_broker, addr)) = start(&[]) else {
            return;
        };
        let a = &addr;
        assert_eq!(
            call(a, "GET", "/config", None),
            (200, json!({"compatibilityLevel": "BACKWARD"}))
        );
        let subject = harness::unique_topic("sr-compat");
        let v1 = avro(&[("name", "string", None), ("age", "int", None)]);
        let with_default = avro(&[
            ("name", "string", None),
            ("age", "int", None),
            ("email", "string", Some(json!(""))),
        ]);
        let new_required = avro(&[
            ("name", "string", None),
            ("age", "int", None),
            ("level", "int", None),
        ]);
        let removed = avro(&[("name", "string", None)]);
        assert_eq!(register(a, &subject, v1).0, 200);

        // BACKWARD: a field with a default passes, a new required field does not.
        let check = |body: &Value, verbose: bool| {
            let q = if verbose { "?verbose=true" } else { "" };
            call(
                a,
                "POST",
                &format!("/compatibility/subjects/{subject}/versions/latest{q}"),
                Some(body.clone()),
            )
        };
        assert_eq!(
            check(&with_default, false),
            (200, json!({"is_compatible": true}))
        );
        let (s, verbose) = check(&new_required, true);
        assert_eq!((s, verbose["is_compatible"].clone()), (200, json!(false)));
        assert!(
            !verbose["messages"].as_array().unwrap().is_empty(),
            "{verbose}"
        );
        let (s, body) = register(a, &subject, new_required.clone());
        assert_error((s, body.clone()), 409, 40901, "incompatible registration");
        assert!(
            body["message"].as_str().unwrap().starts_with(&format!(
                "Schema being registered is incompatible with an earlier schema for subject \"{subject}\""
            )),
            "{body}"
        );
        // Removing a required field is BACKWARD compatible but not FORWARD.
        assert_eq!(check(&removed, false).1["is_compatible"], true);
        assert_eq!(
            call(
                a,
                "PUT",
                &format!("/config/{subject}"),
                Some(json!({"compatibility": "FORWARD"}))
            ),
            (200, json!({"compatibility": "FORWARD"}))
        );
        assert_eq!(
            call(a, "GET", &format!("/config/{subject}"), None).1,
            json!({"compatibilityLevel": "FORWARD"})
        );
        assert_error(
            register(a, &subject, removed.clone()),
            409,
            40901,
            "FORWARD: removing a required field",
        );
        assert_eq!(
            register(a, &subject, new_required.clone()).0,
            200,
            "FORWARD: old readers ignore a new field"
        );

        // FULL_TRANSITIVE checks every version, FULL only the latest.
        let t = harness::unique_topic("sr-transitive");
        call(
            a,
            "PUT",
            &format!("/config/{t}"),
            Some(json!({"compatibility": "FULL"})),
        );
        let s1 = avro(&[("a", "string", None)]);
        // s3 drops `a`: fine for s2's readers (it has a default there), not for s1's.
        let s2 = avro(&[
            ("a", "string", Some(json!(""))),
            ("b", "int", Some(json!(1))),
        ]);
        let s3 = avro(&[("b", "int", Some(json!(1)))]);
        assert_eq!(register(a, &t, s1).0, 200);
        assert_eq!(register(a, &t, s2).0, 200);
        call(
            a,
            "PUT",
            &format!("/config/{t}"),
            Some(json!({"compatibility": "FULL_TRANSITIVE"})),
        );
        assert_error(
            register(a, &t, s3.clone()),
            409,
            40901,
            "FULL_TRANSITIVE against version 1",
        );
        call(
            a,
            "PUT",
            &format!("/config/{t}"),
            Some(json!({"compatibility": "full"})),
        );
        assert_eq!(register(a, &t, s3).0, 200, "FULL against the latest only");

        // NONE accepts anything; DELETE /config/{subject} falls back to global.
        call(
            a,
            "PUT",
            &format!("/config/{t}"),
            Some(json!({"compatibility": "NONE"})),
        );
        assert_eq!(register(a, &t, json!({"schema": "\"long\""})).0, 200);
        assert_eq!(
            call(a, "DELETE", &format!("/config/{t}"), None).1,
            json!({"compatibilityLevel": "NONE"})
        );
        assert_error(
            call(a, "GET", &format!("/config/{t}"), None),
            404,
            40408,
            "no subject level",
        );
        assert_eq!(
            call(a, "GET", &format!("/config/{t}?defaultToGlobal=true"), None).1,
            json!({"compatibilityLevel": "BACKWARD"})
        );
        assert_error(
            call(
                a,
                "PUT",
                "/config",
                Some(json!({"compatibility": "SIDEWAYS"})),
            ),
            422,
            42203,
            "bad level",
        );

        // Modes: READONLY refuses registrations with 42205.
        assert_eq!(
            call(a, "GET", "/mode", None).1,
            json!({"mode": "READWRITE"})
        );
        assert_eq!(
            call(
                a,
                "PUT",
                &format!("/mode/{t}"),
                Some(json!({"mode": "READONLY"}))
            )
            .1,
            json!({"mode": "READONLY"})
        );
        assert_error(
            register(a, &t, json!({"schema": "\"int\""})),
            422,
            42205,
            "read-only subject",
        );
        assert_error(
            call(a, "GET", "/mode/other-subject", None),
            404,
            40409,
            "no subject mode",
        );
        assert_eq!(
            call(a, "DELETE", &format!("/mode/{t}"), None).1,
            json!({"mode": "READONLY"})
        );
        assert_error(
            call(a, "PUT", "/mode", Some(json!({"mode": "WHATEVER"}))),
            422,
            42204,
            "bad mode",
        );
    });
}

#[test]
fn soft_and_permanent_deletes() {
    harness::run(async {
        let Some((_broker, addr)) = start(&[]) else {
            return;
        };
        let a = &addr;
        let subject = harness::unique_topic("sr-del");
        let v1 = avro(&[("a", "string", None)]);
        let v2 = avro(&[("a", "string", None), ("b", "int", Some(json!(0)))]);
        let id1 = register(a, &subject, v1.clone()).1["id"].clone();
        register(a, &subject, v2);

        // Permanent before soft: refused.
        assert_error(
            call(
                a,
                "DELETE",
                &format!("/subjects/{subject}?permanent=true"),
                None,
            ),
            404,
            40405,
            "permanent first",
        );
        // A version: soft delete hides it, only ?deleted=true shows it.
        assert_eq!(
            call(
                a,
                "DELETE",
                &format!("/subjects/{subject}/versions/2"),
                None
            ),
            (200, json!(2))
        );
        assert_eq!(
            call(a, "GET", &format!("/subjects/{subject}/versions"), None).1,
            json!([1])
        );
        assert_eq!(
            call(
                a,
                "GET",
                &format!("/subjects/{subject}/versions?deleted=true"),
                None
            )
            .1,
            json!([1, 2])
        );
        assert_error(
            call(a, "GET", &format!("/subjects/{subject}/versions/2"), None),
            404,
            40402,
            "soft-deleted version",
        );
        assert_eq!(
            call(
                a,
                "GET",
                &format!("/subjects/{subject}/versions/2?deleted=true"),
                None
            )
            .1["version"],
            2
        );
        assert_error(
            call(
                a,
                "DELETE",
                &format!("/subjects/{subject}/versions/2"),
                None,
            ),
            404,
            40406,
            "soft delete twice",
        );
        assert_eq!(
            call(
                a,
                "DELETE",
                &format!("/subjects/{subject}/versions/2?permanent=true"),
                None
            )
            .1,
            json!(2)
        );

        // The subject: hidden after a soft delete, listed with ?deleted=true.
        assert_eq!(
            call(a, "DELETE", &format!("/subjects/{subject}"), None).1,
            json!([1])
        );
        assert!(!call(a, "GET", "/subjects", None)
            .1
            .as_array()
            .unwrap()
            .contains(&json!(subject)));
        assert!(call(a, "GET", "/subjects?deleted=true", None)
            .1
            .as_array()
            .unwrap()
            .contains(&json!(subject)));
        assert_error(
            call(a, "GET", &format!("/subjects/{subject}/versions"), None),
            404,
            40401,
            "soft-deleted subject",
        );
        assert_error(
            call(a, "DELETE", &format!("/subjects/{subject}"), None),
            404,
            40404,
            "soft delete twice",
        );
        // The id still resolves (old messages must stay readable).
        assert_eq!(call(a, "GET", &format!("/schemas/ids/{id1}"), None).0, 200);

        // Permanent delete frees the subject: it starts again at version 1.
        assert_eq!(
            call(
                a,
                "DELETE",
                &format!("/subjects/{subject}?permanent=true"),
                None
            )
            .1,
            json!([1])
        );
        assert!(!call(a, "GET", "/subjects?deleted=true", None)
            .1
            .as_array()
            .unwrap()
            .contains(&json!(subject)));
        let (s, again) = register(a, &subject, avro(&[("z", "int", None)]));
        assert_eq!((s, again["version"].clone()), (200, json!(1)), "{again}");
    });
}

#[test]
fn ids_survive_clean_restart_and_sigkill() {
    harness::run(async {
        let Some((mut broker, addr)) = start(&[]) else {
            return;
        };
        let subject = harness::unique_topic("sr-restart");
        let mut ids = Vec::new();
        for i in 0..5 {
            let fields: Vec<(String, &str, Option<Value>)> = (0..=i)
                .map(|f| (format!("f{f}"), "int", Some(json!(0))))
                .collect();
            let fields: Vec<(&str, &str, Option<Value>)> = fields
                .iter()
                .map(|(n, t, d)| (n.as_str(), *t, d.clone()))
                .collect();
            let (s, r) = register(&addr, &subject, avro(&fields));
            assert_eq!(s, 200, "{r}");
            ids.push((r["id"].clone(), r["version"].clone()));
        }
        call(
            &addr,
            "PUT",
            &format!("/config/{subject}"),
            Some(json!({"compatibility": "FULL"})),
        );
        call(
            &addr,
            "DELETE",
            &format!("/subjects/{subject}/versions/5"),
            None,
        );
        let before = call(
            &addr,
            "GET",
            &format!("/subjects/{subject}/versions?deleted=true"),
            None,
        )
        .1;

        let verify = |addr: &str, what: &str| {
            for (id, version) in &ids {
                let (s, v) = call(
                    addr,
                    "GET",
                    &format!("/subjects/{subject}/versions/{version}?deleted=true"),
                    None,
                );
                assert_eq!((s, &v["id"]), (200, id), "{what}: version {version}: {v}");
                assert_eq!(
                    call(addr, "GET", &format!("/schemas/ids/{id}"), None).0,
                    200,
                    "{what}: id {id}"
                );
            }
            assert_eq!(
                call(
                    addr,
                    "GET",
                    &format!("/subjects/{subject}/versions?deleted=true"),
                    None
                )
                .1,
                before,
                "{what}"
            );
            assert_eq!(
                call(addr, "GET", &format!("/subjects/{subject}/versions"), None).1,
                json!([1, 2, 3, 4]),
                "{what}"
            );
            assert_eq!(
                call(addr, "GET", &format!("/config/{subject}"), None).1,
                json!({"compatibilityLevel": "FULL"}),
                "{what}"
            );
        };

        broker.restart();
        let addr = registry_addr(&broker, 2);
        verify(&addr, "after a clean restart");
        // A new schema after the restart gets a new, higher id.
        let (_, r) = register(
            &addr,
            &harness::unique_topic("sr-after"),
            json!({"schema": "\"bytes\""}),
        );
        let max = ids.iter().filter_map(|(id, _)| id.as_i64()).max().unwrap();
        assert!(r["id"].as_i64().unwrap() > max, "{r}");

        broker.kill();
        broker.restart();
        let addr = registry_addr(&broker, 3);
        verify(&addr, "after SIGKILL");
    });
}

#[test]
fn bad_input_is_answered_not_panicked() {
    harness::run(async {
        let Some((broker, addr)) = start(&[("schema.registry.max.schema.bytes", "65536")]) else {
            return;
        };
        let a = &addr;
        let s = harness::unique_topic("sr-bad");
        for (body, what) in [
            (
                json!({"schema": "{\"type\":\"record\",\"name\":\"X\"}"}),
                "record without fields",
            ),
            (json!({"schema": "not json at all"}), "not JSON"),
            (
                json!({"schema": "{\"type\":\"no-such-type\"}"}),
                "unknown type",
            ),
            (json!({"schema": ""}), "empty"),
            (
                json!({"schema": "message {", "schemaType": "PROTOBUF"}),
                "bad proto",
            ),
            (
                json!({"schema": "[1,2]", "schemaType": "JSON"}),
                "JSON schema not an object",
            ),
            (
                json!({"schema": "\"string\"", "schemaType": "XML"}),
                "unknown schemaType",
            ),
        ] {
            assert_error(register(a, &s, body), 422, 42201, what);
        }
        // Not JSON at all, and JSON of the wrong shape.
        let (st, ct, _) = request(a, "POST", &format!("/subjects/{s}/versions"), Some(b"{{{{"));
        assert_eq!((st, ct.as_str()), (400, CT));
        assert_error(register(a, &s, json!(["schema"])), 422, 42201, "array body");
        // Oversized.
        let big = json!({"schema": format!("\"{}\"", "x".repeat(100_000))}).to_string();
        let (st, ct, body) = request(
            a,
            "POST",
            &format!("/subjects/{s}/versions"),
            Some(big.as_bytes()),
        );
        assert_eq!((st, ct.as_str()), (413, CT), "{body}");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["error_code"],
            413
        );
        // Deep nesting does not overflow the stack.
        let deep = format!(
            "{}\"int\"{}",
            "{\"type\":\"array\",\"items\":".repeat(2000),
            "}".repeat(2000)
        );
        let (st, _) = register(a, &s, json!({"schema": deep}));
        assert!(st == 422 || st == 200, "deeply nested schema: {st}");
        // Still serving, and the broker is alive.
        assert_eq!(register(a, &s, json!({"schema": "\"string\""})).0, 200);
        assert!(broker.is_alive());
        assert!(
            !broker.log_lines().iter().any(|l| l.contains("panicked")),
            "a handler panicked"
        );
    });
}
