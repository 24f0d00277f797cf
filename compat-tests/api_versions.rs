//! ApiVersions over raw TCP: v0 and v3 parse, the v3 response header is v0
//! (checked on the raw bytes), the advertised ranges, and an unsupported
//! ApiVersions version answered as v0 with UNSUPPORTED_VERSION.

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

use crate::harness::*;

const UNSUPPORTED_VERSION: i16 = 35;

fn request(version: i16) -> ApiVersionsRequest {
    let mut req = ApiVersionsRequest::default();
    if version >= 3 {
        req.client_software_name = StrBytes::from_static_str("skiff-compat");
        req.client_software_version = StrBytes::from_static_str("0.1.0");
    }
    req
}

fn range(resp: &ApiVersionsResponse, key: ApiKey) -> (i16, i16) {
    resp.api_keys
        .iter()
        .find(|k| k.api_key == key as i16)
        .map(|k| (k.min_version, k.max_version))
        .unwrap_or_else(|| panic!("{key:?} not advertised: {resp:?}"))
}

#[test]
fn api_versions_v0_and_v3_and_ranges() {
    let broker = Broker::start();
    run(async {
        let mut raw = RawClient::connect(&broker.bootstrap());

        // v0
        let v0 = raw.call(&request(0), 0);
        assert_eq!(v0.error_code, 0);
        assert!(
            v0.api_keys.len() >= 10,
            "v0 lists {} apis",
            v0.api_keys.len()
        );

        // v3, decoded by hand from the raw frame.
        let corr = raw.send(&request(3), 3);
        let frame: Bytes = raw.read_frame().expect("ApiVersions v3 response");
        assert!(frame.len() > 8, "frame too short: {frame:?}");
        assert_eq!(&frame[0..4], &corr.to_be_bytes(), "correlation id first");
        // Response header v0: no tagged-field byte, the body's error code
        // follows the correlation id directly, then the compact array length.
        assert_eq!(
            &frame[4..6],
            &[0, 0],
            "error_code right after the correlation id"
        );
        assert_ne!(
            frame[6], 0,
            "byte 6 must be the api_keys compact-array length (N+1); 0 means a \
             tagged-field byte was put in the response header"
        );
        let mut body = frame.slice(4..);
        let v3 = ApiVersionsResponse::decode(&mut body, 3).expect("decode v3 body");
        assert!(
            body.is_empty(),
            "{} trailing bytes after the v3 body",
            body.len()
        );
        assert_eq!(v3.error_code, 0);
        assert_eq!(
            v0.api_keys.len(),
            v3.api_keys.len(),
            "v0 and v3 list the same apis"
        );

        // Ranges.
        let produce = range(&v3, ApiKey::Produce);
        assert_eq!(
            produce.0, 0,
            "Produce advertised from v0 (librdkafka's feature probe needs it)"
        );
        assert!(produce.1 >= 7, "Produce max {}", produce.1);
        let fetch = range(&v3, ApiKey::Fetch);
        assert!(fetch.0 <= 4, "Fetch min {}", fetch.0);
        assert!(fetch.1 >= 13, "Fetch max {} (topic ids need 13)", fetch.1);
        let md = range(&v3, ApiKey::Metadata);
        assert!(md.0 <= 1 && md.1 >= 10, "Metadata range {md:?}");
        let av = range(&v3, ApiKey::ApiVersions);
        assert!(av.0 == 0 && av.1 >= 3, "ApiVersions range {av:?}");
        for key in [
            ApiKey::ListOffsets,
            ApiKey::InitProducerId,
            ApiKey::CreateTopics,
            ApiKey::DeleteTopics,
            ApiKey::CreatePartitions,
            ApiKey::DescribeConfigs,
        ] {
            let (min, max) = range(&v3, key);
            assert!(min <= max, "{key:?} range {min}..={max}");
        }
        let mut keys: Vec<i16> = v3.api_keys.iter().map(|k| k.api_key).collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n, "duplicate api keys advertised");
        for k in &v3.api_keys {
            assert!(
                k.min_version >= 0 && k.min_version <= k.max_version,
                "bad range for api {}: {}..={}",
                k.api_key,
                k.min_version,
                k.max_version
            );
        }

        // The highest advertised ApiVersions version works too.
        if av.1 > 3 && av.1 <= 4 {
            let resp = raw.call(&request(av.1), av.1);
            assert_eq!(resp.error_code, 0, "ApiVersions v{}", av.1);
        }
    });
}

#[test]
fn api_versions_unsupported_version_gets_v0_error_and_connection_stays() {
    let broker = Broker::start();
    run(async {
        let mut raw = RawClient::connect(&broker.bootstrap());

        // Header v2 with api version 127 and a v3-shaped body, as a newer
        // client would send before knowing what the broker supports.
        let corr = raw.next_correlation_id();
        let mut buf = bytes::BytesMut::new();
        let mut header = kafka_protocol::messages::RequestHeader::default();
        header.request_api_key = ApiKey::ApiVersions as i16;
        header.request_api_version = 127;
        header.correlation_id = corr;
        header.client_id = Some(StrBytes::from_static_str("future-client"));
        header
            .encode(&mut buf, ApiKey::ApiVersions.request_header_version(127))
            .unwrap();
        request(3).encode(&mut buf, 3).unwrap();
        raw.send_bytes(&frame(&buf)).unwrap();

        let mut resp_frame = raw.read_frame().expect("a response to ApiVersions v127");
        let header = kafka_protocol::messages::ResponseHeader::decode(&mut resp_frame, 0).unwrap();
        assert_eq!(header.correlation_id, corr);
        let resp = ApiVersionsResponse::decode(&mut resp_frame, 0).expect("v0 body");
        assert!(resp_frame.is_empty(), "the error answer must be a v0 body");
        assert_eq!(resp.error_code, UNSUPPORTED_VERSION);
        let av = range(&resp, ApiKey::ApiVersions);
        assert_eq!(av.0, 0);
        assert!(av.1 >= 3, "advertised ApiVersions max {}", av.1);

        // Same connection, now at a supported version.
        let ok = raw.call(&request(3), 3);
        assert_eq!(ok.error_code, 0);
        assert!(ok.api_keys.len() >= 10);
    });
}
