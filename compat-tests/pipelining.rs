//! Pipelining: 50 requests written back to back on one socket before any
//! response is read; the responses come back strictly in request order, and
//! the acks=0 Produce in the middle gets no response.

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, MetadataRequest, ProduceRequest};
use kafka_protocol::protocol::StrBytes;

use crate::harness::*;

#[derive(Debug, Clone, Copy)]
enum Kind {
    ApiVersions,
    Metadata,
    Produce { acks: i16, expect_offset: i64 },
}

#[test]
fn pipelined_requests_answered_in_order() {
    let broker = Broker::start();
    run(async {
        let topic = unique_topic("pipeline");
        create_topic(&broker, &topic, 1).await;
        let mut raw = RawClient::connect(&broker.bootstrap());
        let pv = raw.pick_version(ApiKey::Produce, 9);
        let mv = raw.pick_version(ApiKey::Metadata, 12);

        let mut wire = Vec::new();
        let mut sent: Vec<(i32, Kind)> = Vec::new();
        let mut produced = 0i64;
        for i in 0..50 {
            let corr = raw.next_correlation_id();
            let kind = match i {
                25 => Kind::Produce {
                    acks: 0,
                    expect_offset: produced,
                },
                _ if i % 3 == 0 => Kind::ApiVersions,
                _ if i % 3 == 1 => Kind::Metadata,
                _ => Kind::Produce {
                    acks: 1,
                    expect_offset: produced,
                },
            };
            let bytes = match kind {
                Kind::ApiVersions => {
                    let mut req = ApiVersionsRequest::default();
                    req.client_software_name = StrBytes::from_static_str("skiff-compat");
                    req.client_software_version = StrBytes::from_static_str("0.1");
                    RawClient::encode_request(&req, 3, corr)
                }
                Kind::Metadata => {
                    let req: MetadataRequest = metadata_request(Some(&[&topic]), false);
                    RawClient::encode_request(&req, mv, corr)
                }
                Kind::Produce { acks, .. } => {
                    let v = format!("req-{i}");
                    let req: ProduceRequest =
                        produce_request(&topic, 0, encode_batch(&[v.as_bytes()], None), acks);
                    produced += 1;
                    RawClient::encode_request(&req, pv, corr)
                }
            };
            wire.extend_from_slice(&bytes);
            sent.push((corr, kind));
        }
        // All 50 in one write, before reading anything.
        raw.send_bytes(&wire).unwrap();

        let expected: Vec<(i32, Kind)> = sent
            .iter()
            .copied()
            .filter(|(_, k)| !matches!(k, Kind::Produce { acks: 0, .. }))
            .collect();
        assert_eq!(expected.len(), 49);
        for (n, (corr, kind)) in expected.iter().enumerate() {
            let frame: Bytes = raw
                .read_frame()
                .unwrap_or_else(|e| broker.fail(&format!("response #{n} ({kind:?}): {e}")));
            let got_corr = i32::from_be_bytes(frame[0..4].try_into().unwrap());
            assert_eq!(
                got_corr, *corr,
                "response #{n}: correlation id {got_corr}, expected {corr} ({kind:?}); \
                 responses must follow request order (and acks=0 gets none)"
            );
            match *kind {
                Kind::ApiVersions => {
                    let r = decode_response::<ApiVersionsRequest>(frame, 3, *corr);
                    assert_eq!(r.error_code, 0);
                }
                Kind::Metadata => {
                    let r = decode_response::<MetadataRequest>(frame, mv, *corr);
                    assert_eq!(r.topics[0].error_code, 0);
                }
                Kind::Produce { expect_offset, .. } => {
                    let r = decode_response::<ProduceRequest>(frame, pv, *corr);
                    assert_eq!(
                        produce_result(&r),
                        (0, expect_offset),
                        "produce response #{n} (error, base offset)"
                    );
                }
            }
        }

        // Nothing else is pending: a final request gets the next response.
        let r = raw.call(&metadata_request(Some(&[&topic]), false), mv);
        assert_eq!(r.topics[0].error_code, 0);

        // The acks=0 record was written too, in its place.
        let values = raw_fetch_values(&mut raw, &topic, 0, 0);
        assert_eq!(values.len() as i64, produced, "records in the log");
        let acks0 = sent
            .iter()
            .position(|(_, k)| matches!(k, Kind::Produce { acks: 0, .. }))
            .unwrap();
        let Kind::Produce { expect_offset, .. } = sent[acks0].1 else {
            unreachable!()
        };
        assert_eq!(
            values[expect_offset as usize].1.as_deref(),
            Some(format!("req-{acks0}").as_str()),
            "acks=0 record at its offset"
        );
    });
}
