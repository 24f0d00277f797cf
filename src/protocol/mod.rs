//! The Kafka wire protocol: turns a request frame into a typed request and a
//! typed response into a frame. Every message codec is the kafka-protocol
//! crate's; this module only chooses versions, header versions and the few
//! answers Kafka gives outside the normal path (KIP-511, Produce v0–v2).
//!
//! Knows nothing of storage or groups.

mod error;
mod response_buf;
pub mod versions;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsResponse, FetchResponse, RequestHeader, RequestKind, ResponseHeader,
    ResponseKind,
};
use kafka_protocol::protocol::buf::ByteBufMut;
use kafka_protocol::protocol::{Decodable, Encodable};

pub use error::ProtocolError;
pub use response_buf::{ResponseBuf, ResponseOut};
pub use versions::{served, ApiRange, SERVED};

/// A decoded request we serve.
#[derive(Debug)]
pub struct Request {
    pub api_key: ApiKey,
    pub version: i16,
    pub correlation_id: i32,
    pub client_id: Option<String>,
    pub body: RequestKind,
}

/// What a frame turned out to be.
// Almost every frame is a `Request`; boxing it would add an allocation per
// request to save a few hundred bytes of stack on the rare KIP-511 answer.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Incoming {
    /// A request at a version we serve.
    Request(Request),
    /// ApiVersions at a version above ours: answered with a v0 body holding
    /// UNSUPPORTED_VERSION and our ranges, so the client can retry (KIP-511).
    UnsupportedApiVersions { correlation_id: i32 },
}

fn api_name(key: ApiKey) -> &'static str {
    // Debug names of the generated enum are the Kafka API names.
    match key {
        ApiKey::Produce => "Produce",
        ApiKey::Fetch => "Fetch",
        ApiKey::ListOffsets => "ListOffsets",
        ApiKey::Metadata => "Metadata",
        ApiKey::ApiVersions => "ApiVersions",
        ApiKey::CreateTopics => "CreateTopics",
        ApiKey::DeleteTopics => "DeleteTopics",
        ApiKey::InitProducerId => "InitProducerId",
        ApiKey::OffsetForLeaderEpoch => "OffsetForLeaderEpoch",
        ApiKey::DescribeConfigs => "DescribeConfigs",
        ApiKey::CreatePartitions => "CreatePartitions",
        ApiKey::DescribeCluster => "DescribeCluster",
        ApiKey::FindCoordinator => "FindCoordinator",
        ApiKey::JoinGroup => "JoinGroup",
        ApiKey::SyncGroup => "SyncGroup",
        ApiKey::Heartbeat => "Heartbeat",
        ApiKey::LeaveGroup => "LeaveGroup",
        ApiKey::OffsetCommit => "OffsetCommit",
        ApiKey::OffsetFetch => "OffsetFetch",
        ApiKey::DescribeGroups => "DescribeGroups",
        ApiKey::ListGroups => "ListGroups",
        ApiKey::DeleteGroups => "DeleteGroups",
        ApiKey::OffsetDelete => "OffsetDelete",
        ApiKey::DeleteRecords => "DeleteRecords",
        ApiKey::DescribeLogDirs => "DescribeLogDirs",
        ApiKey::AlterConfigs => "AlterConfigs",
        ApiKey::IncrementalAlterConfigs => "IncrementalAlterConfigs",
        ApiKey::AddPartitionsToTxn => "AddPartitionsToTxn",
        ApiKey::AddOffsetsToTxn => "AddOffsetsToTxn",
        ApiKey::EndTxn => "EndTxn",
        ApiKey::TxnOffsetCommit => "TxnOffsetCommit",
        ApiKey::DescribeTransactions => "DescribeTransactions",
        ApiKey::ListTransactions => "ListTransactions",
        ApiKey::DescribeProducers => "DescribeProducers",
        ApiKey::DescribeTopicPartitions => "DescribeTopicPartitions",
        ApiKey::DescribeAcls => "DescribeAcls",
        ApiKey::CreateAcls => "CreateAcls",
        ApiKey::DeleteAcls => "DeleteAcls",
        ApiKey::SaslHandshake => "SaslHandshake",
        ApiKey::SaslAuthenticate => "SaslAuthenticate",
        ApiKey::DescribeUserScramCredentials => "DescribeUserScramCredentials",
        ApiKey::AlterUserScramCredentials => "AlterUserScramCredentials",
        ApiKey::ConsumerGroupHeartbeat => "ConsumerGroupHeartbeat",
        ApiKey::ConsumerGroupDescribe => "ConsumerGroupDescribe",
        ApiKey::ShareGroupHeartbeat => "ShareGroupHeartbeat",
        ApiKey::ShareGroupDescribe => "ShareGroupDescribe",
        ApiKey::ShareFetch => "ShareFetch",
        ApiKey::ShareAcknowledge => "ShareAcknowledge",
        ApiKey::DescribeShareGroupOffsets => "DescribeShareGroupOffsets",
        ApiKey::AlterShareGroupOffsets => "AlterShareGroupOffsets",
        ApiKey::DeleteShareGroupOffsets => "DeleteShareGroupOffsets",
        ApiKey::DescribeClientQuotas => "DescribeClientQuotas",
        _ => "other",
    }
}

/// The name of an API for logs.
pub fn name_of(key: ApiKey) -> &'static str {
    api_name(key)
}

/// Decodes one request frame (the bytes after the 4-byte size).
pub fn decode_request(mut frame: Bytes) -> Result<Incoming, ProtocolError> {
    if frame.len() < 8 {
        return Err(ProtocolError::Truncated(frame.len()));
    }
    let raw_key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let api_key = ApiKey::try_from(raw_key).map_err(|_| ProtocolError::UnknownApiKey(raw_key))?;
    let api = api_name(api_key);
    let range = served(api_key).ok_or(ProtocolError::UnservedApi { api })?;
    let malformed = |e: anyhow::Error| ProtocolError::Malformed {
        api,
        version,
        reason: format!("{e:#}"),
    };

    if api_key == ApiKey::ApiVersions && version > range.max {
        // KIP-511: the header of an unknown future version cannot be trusted
        // beyond the correlation id, which every header version puts at byte 4.
        let correlation_id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
        return Ok(Incoming::UnsupportedApiVersions { correlation_id });
    }
    if !versions::accepts(range, version) {
        return Err(ProtocolError::UnsupportedVersion {
            api,
            version,
            min: range.min,
            max: range.max,
        });
    }

    let header_version = api_key.request_header_version(version);
    let header = RequestHeader::decode(&mut frame, header_version).map_err(malformed)?;
    let client_id = header.client_id.as_ref().map(|c| c.to_string());

    let body = RequestKind::decode(api_key, &mut frame, version).map_err(malformed)?;
    Ok(Incoming::Request(Request {
        api_key,
        version,
        correlation_id: header.correlation_id,
        client_id,
        body,
    }))
}

/// Appends a size-prefixed response frame for `body` to `out`. A Fetch
/// response's records are referenced rather than copied when `out` can
/// (see `ResponseBuf`).
pub fn encode_response<B: ResponseOut>(
    out: &mut B,
    api_key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &ResponseKind,
) -> Result<(), ProtocolError> {
    let fail = |e: anyhow::Error| ProtocolError::Encode {
        api: api_name(api_key),
        version,
        reason: format!("{e:#}"),
    };
    if let ResponseKind::Fetch(fetch) = body {
        return encode_fetch_response(out, version, correlation_id, fetch).map_err(fail);
    }
    let out = out.contiguous();
    let start = out.len();
    out.put_i32(0); // size, patched below
    let header = ResponseHeader::default().with_correlation_id(correlation_id);
    // The crate knows that ApiVersions responses always use header v0.
    let header_version = api_key.response_header_version(version);
    let encoded = header
        .encode(out, header_version)
        .and_then(|_| body.encode(out, version));
    if let Err(e) = encoded {
        // Never leave half a frame behind for the responses already queued.
        out.truncate(start);
        return Err(fail(e));
    }
    patch_size(out, start);
    Ok(())
}

/// A Fetch response, sized first so that the frame size needs no patching
/// and the records can be left where they are (see `ResponseBuf`).
fn encode_fetch_response<B: ResponseOut>(
    out: &mut B,
    version: i16,
    correlation_id: i32,
    fetch: &FetchResponse,
) -> anyhow::Result<()> {
    let header = ResponseHeader::default().with_correlation_id(correlation_id);
    let header_version = ApiKey::Fetch.response_header_version(version);
    let size = header.compute_size(header_version)? + fetch.compute_size(version)?;
    let size = i32::try_from(size).map_err(|_| anyhow::anyhow!("{size} bytes is too large"))?;
    let records: Vec<Bytes> = fetch
        .responses
        .iter()
        .flat_map(|t| &t.partitions)
        .filter_map(|p| p.records.clone())
        .collect();
    let start = out.offset();
    out.share(records);
    out.put_i32(size);
    let encoded = header
        .encode(out, header_version)
        .and_then(|_| fetch.encode(out, version));
    out.share(Vec::new());
    let written = out.offset() - start - 4;
    match encoded {
        Ok(()) if written == size as usize => Ok(()),
        Ok(()) => {
            out.truncate_to(start);
            anyhow::bail!("encoded {written} bytes, sized {size}")
        }
        Err(e) => {
            // Never leave half a frame behind for the responses already queued.
            out.truncate_to(start);
            Err(e)
        }
    }
}

fn patch_size(out: &mut BytesMut, start: usize) {
    let size = (out.len() - start - 4) as i32;
    out[start..start + 4].copy_from_slice(&size.to_be_bytes());
}

/// The KIP-511 answer to an ApiVersions request at a version we do not serve:
/// header v0, a v0 body with UNSUPPORTED_VERSION and the full list of ranges.
pub fn encode_unsupported_api_versions<B: ResponseOut>(
    out: &mut B,
    correlation_id: i32,
    api_keys: Vec<kafka_protocol::messages::api_versions_response::ApiVersion>,
) -> Result<(), ProtocolError> {
    let body = ApiVersionsResponse::default()
        .with_error_code(kafka_protocol::error::ResponseError::UnsupportedVersion.code())
        .with_api_keys(api_keys);
    encode_response(
        out,
        ApiKey::ApiVersions,
        0,
        correlation_id,
        &ResponseKind::ApiVersions(body),
    )
}

/// Reads the correlation id of a frame whose body could not be decoded, for logs.
pub fn peek_correlation_id(frame: &[u8]) -> Option<i32> {
    let mut b = frame.get(4..8)?;
    Some(b.get_i32())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::{ApiVersionsRequest, MetadataRequest};
    use kafka_protocol::protocol::StrBytes;

    fn frame(api: ApiKey, version: i16, body: &impl Encodable) -> Bytes {
        let mut b = BytesMut::new();
        RequestHeader::default()
            .with_request_api_key(api as i16)
            .with_request_api_version(version)
            .with_correlation_id(7)
            .with_client_id(Some(StrBytes::from_static_str("t")))
            .encode(&mut b, api.request_header_version(version))
            .unwrap();
        body.encode(&mut b, version).unwrap();
        b.freeze()
    }

    #[test]
    fn every_served_api_has_its_own_name() {
        // Logs and the /metrics `request` label use these; "other" twice
        // would make duplicate Prometheus series.
        let mut seen = std::collections::HashSet::new();
        for r in SERVED {
            let name = api_name(r.key);
            assert_ne!(name, "other", "{:?}", r.key);
            assert!(seen.insert(name), "{name} twice");
        }
    }

    #[test]
    fn decodes_a_served_request() {
        let f = frame(ApiKey::Metadata, 12, &MetadataRequest::default());
        match decode_request(f).unwrap() {
            Incoming::Request(r) => {
                assert_eq!(r.correlation_id, 7);
                assert_eq!(r.client_id.as_deref(), Some("t"));
                assert!(matches!(r.body, RequestKind::Metadata(_)));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn future_api_versions_gets_kip511_path() {
        let mut f =
            BytesMut::from(&frame(ApiKey::ApiVersions, 3, &ApiVersionsRequest::default())[..]);
        f[2..4].copy_from_slice(&127i16.to_be_bytes());
        assert!(matches!(
            decode_request(f.freeze()).unwrap(),
            Incoming::UnsupportedApiVersions { correlation_id: 7 }
        ));
    }

    #[test]
    fn unknown_key_and_garbage_are_errors_not_panics() {
        let mut f = BytesMut::new();
        f.put_i16(9999);
        f.put_i16(0);
        f.put_i32(1);
        assert!(matches!(
            decode_request(f.freeze()),
            Err(ProtocolError::UnknownApiKey(9999))
        ));
        assert!(decode_request(Bytes::from_static(&[0, 3])).is_err());
        // Metadata v12 whose topic array claims 2^31-1 entries: must fail, not allocate.
        let mut f = BytesMut::from(&frame(ApiKey::Metadata, 4, &MetadataRequest::default())[..]);
        let len = f.len();
        f.truncate(len - 1); // drop allow_auto_topic_creation
        let n = f.len();
        f[n - 4..n].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(decode_request(f.freeze()).is_err());
    }

    #[test]
    fn fetch_responses_reference_their_records_and_decode_back() {
        use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
        let records = Bytes::from((0..20_000u32).map(|i| i as u8).collect::<Vec<_>>());
        let body = FetchResponse::default().with_responses(vec![FetchableTopicResponse::default()
            .with_partitions(vec![PartitionData::default()
                .with_partition_index(3)
                .with_records(Some(records.clone()))])]);
        for version in [4, 11, 12, 16] {
            let mut out = ResponseBuf::new();
            encode_response(
                &mut out,
                ApiKey::Fetch,
                version,
                9,
                &ResponseKind::Fetch(body.clone()),
            )
            .unwrap();
            let slices = out.io_slices(usize::MAX);
            assert!(
                slices
                    .iter()
                    .any(|s| s.as_ptr() == records.as_ptr() && s.len() == records.len()),
                "v{version}: records referenced, not copied"
            );
            let frame: Vec<u8> = slices.iter().flat_map(|s| s.to_vec()).collect();
            let n = frame.len();
            out.consume(n);
            assert!(out.is_empty());
            let mut b = Bytes::from(frame);
            assert_eq!(b.get_i32() as usize, n - 4);
            let h = ResponseHeader::decode(&mut b, ApiKey::Fetch.response_header_version(version))
                .unwrap();
            assert_eq!(h.correlation_id, 9);
            let decoded = FetchResponse::decode(&mut b, version).unwrap();
            assert_eq!(
                decoded.responses[0].partitions[0].records.as_ref(),
                Some(&records),
                "v{version}"
            );
            assert!(b.is_empty());
        }
    }

    #[test]
    fn api_versions_response_uses_header_v0_even_when_flexible() {
        let mut out = BytesMut::new();
        encode_response(
            &mut out,
            ApiKey::ApiVersions,
            3,
            42,
            &ResponseKind::ApiVersions(ApiVersionsResponse::default()),
        )
        .unwrap();
        // size(4) correlation(4) then error code directly: no header tag buffer.
        assert_eq!(&out[4..8], &42i32.to_be_bytes());
        assert_eq!(&out[8..10], &0i16.to_be_bytes());
        assert_eq!(
            i32::from_be_bytes(out[0..4].try_into().unwrap()) as usize,
            out.len() - 4
        );
    }
}
