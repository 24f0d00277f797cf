//! Writes seed inputs: one size-prefixed request frame per served API and
//! version (default bodies, as a client could send them) into
//! `seeds/decode_request/`, and a few valid record batches into
//! `seeds/record_batch/` (legacy message sets too). Run from `fuzz/`: `cargo run --bin gen_corpus`.

use std::fs;

use bytes::BytesMut;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Encodable, StrBytes};
use skiff::record::{BatchBuilder, Compression, NewRecord, ATTR_CONTROL};

#[path = "common.rs"]
#[allow(dead_code)]
mod common;

fn body(key: ApiKey) -> Option<RequestKind> {
    use RequestKind as R;
    Some(match key {
        ApiKey::Produce => R::Produce(ProduceRequest::default().with_acks(1)),
        ApiKey::Fetch => R::Fetch(FetchRequest::default()),
        ApiKey::ListOffsets => R::ListOffsets(ListOffsetsRequest::default()),
        ApiKey::Metadata => R::Metadata(MetadataRequest::default()),
        ApiKey::ApiVersions => R::ApiVersions(
            ApiVersionsRequest::default()
                .with_client_software_name(StrBytes::from_static_str("fuzz"))
                .with_client_software_version(StrBytes::from_static_str("1")),
        ),
        ApiKey::CreateTopics => R::CreateTopics(CreateTopicsRequest::default()),
        ApiKey::DeleteTopics => R::DeleteTopics(DeleteTopicsRequest::default()),
        ApiKey::InitProducerId => R::InitProducerId(InitProducerIdRequest::default()),
        ApiKey::OffsetForLeaderEpoch => {
            R::OffsetForLeaderEpoch(OffsetForLeaderEpochRequest::default())
        }
        ApiKey::DescribeConfigs => R::DescribeConfigs(DescribeConfigsRequest::default()),
        ApiKey::CreatePartitions => R::CreatePartitions(CreatePartitionsRequest::default()),
        ApiKey::DescribeCluster => {
            R::DescribeCluster(DescribeClusterRequest::default().with_endpoint_type(1))
        }
        ApiKey::FindCoordinator => R::FindCoordinator(FindCoordinatorRequest::default()),
        ApiKey::JoinGroup => R::JoinGroup(JoinGroupRequest::default()),
        ApiKey::SyncGroup => R::SyncGroup(SyncGroupRequest::default()),
        ApiKey::Heartbeat => R::Heartbeat(HeartbeatRequest::default()),
        ApiKey::LeaveGroup => R::LeaveGroup(LeaveGroupRequest::default()),
        ApiKey::OffsetCommit => R::OffsetCommit(OffsetCommitRequest::default()),
        ApiKey::OffsetFetch => {
            R::OffsetFetch(OffsetFetchRequest::default().with_topics(Some(vec![])))
        }
        ApiKey::DescribeGroups => R::DescribeGroups(DescribeGroupsRequest::default()),
        ApiKey::ListGroups => R::ListGroups(ListGroupsRequest::default()),
        ApiKey::DeleteGroups => R::DeleteGroups(DeleteGroupsRequest::default()),
        ApiKey::OffsetDelete => R::OffsetDelete(OffsetDeleteRequest::default()),
        ApiKey::DeleteRecords => R::DeleteRecords(DeleteRecordsRequest::default()),
        ApiKey::DescribeLogDirs => R::DescribeLogDirs(DescribeLogDirsRequest::default()),
        ApiKey::AlterConfigs => R::AlterConfigs(AlterConfigsRequest::default()),
        ApiKey::IncrementalAlterConfigs => {
            R::IncrementalAlterConfigs(IncrementalAlterConfigsRequest::default())
        }
        ApiKey::AddPartitionsToTxn => R::AddPartitionsToTxn(AddPartitionsToTxnRequest::default()),
        ApiKey::AddOffsetsToTxn => R::AddOffsetsToTxn(AddOffsetsToTxnRequest::default()),
        ApiKey::EndTxn => R::EndTxn(EndTxnRequest::default()),
        ApiKey::TxnOffsetCommit => R::TxnOffsetCommit(TxnOffsetCommitRequest::default()),
        ApiKey::DescribeTransactions => {
            R::DescribeTransactions(DescribeTransactionsRequest::default())
        }
        ApiKey::ListTransactions => R::ListTransactions(ListTransactionsRequest::default()),
        ApiKey::DescribeProducers => R::DescribeProducers(DescribeProducersRequest::default()),
        _ => return None,
    })
}

fn main() {
    let req_dir = "seeds/decode_request";
    let rec_dir = "seeds/record_batch";
    fs::create_dir_all(req_dir).unwrap();
    fs::create_dir_all(rec_dir).unwrap();
    let mut n = 0;
    for range in skiff::protocol::SERVED {
        let Some(b) = body(range.key) else {
            eprintln!("no seed body for {:?}", range.key);
            continue;
        };
        for version in range.min..=range.max {
            let mut frame = BytesMut::new();
            RequestHeader::default()
                .with_request_api_key(range.key as i16)
                .with_request_api_version(version)
                .with_correlation_id(1)
                .with_client_id(Some(StrBytes::from_static_str("fuzz")))
                .encode(&mut frame, range.key.request_header_version(version))
                .unwrap();
            if b.encode(&mut frame, version).is_err() {
                continue;
            }
            let mut out = (frame.len() as i32).to_be_bytes().to_vec();
            out.extend_from_slice(&frame);
            fs::write(format!("{req_dir}/{:?}-v{version}", range.key), out).unwrap();
            n += 1;
        }
    }
    let rec = |k: Option<&[u8]>, v: Option<&[u8]>, ts: i64| NewRecord {
        timestamp: ts,
        key: k.map(<[u8]>::to_vec),
        value: v.map(<[u8]>::to_vec),
        headers: vec![(b"h".to_vec(), Some(b"v".to_vec()))],
    };
    let mut batches = vec![
        BatchBuilder::new(0, 1000).build(&[rec(Some(b"k"), Some(b"v"), 1000)]),
        BatchBuilder::new(5, 1000)
            .producer(3, 0, 7)
            .build(&[rec(None, Some(b"a"), 999), rec(Some(b"k2"), None, 1010)]),
        BatchBuilder::new(0, 0).build(&[]),
        {
            let mut b = BatchBuilder::new(9, 5);
            b.attributes = ATTR_CONTROL;
            b.build(&[rec(Some(b"\0\0\0\0"), Some(b"\0\0\0\0\0\0"), 5)])
        },
    ];
    // One batch per codec, so that mutations reach the decompressors.
    for codec in [
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        batches.push(
            BatchBuilder::new(20, 2000)
                .producer(4, 1, 0)
                .build_compressed(
                    &[
                        rec(Some(b"k"), Some(b"compressed value"), 2000),
                        rec(Some(b"k"), None, 2001),
                        rec(Some(b"other"), Some(&[0u8; 40]), 1999),
                    ],
                    codec,
                )
                .unwrap(),
        );
    }
    let mut all = Vec::new();
    for (i, b) in batches.iter().enumerate() {
        fs::write(format!("{rec_dir}/batch-{i}"), b).unwrap();
        all.extend_from_slice(b);
    }
    fs::write(format!("{rec_dir}/batches-concatenated"), &all).unwrap();
    // Legacy message sets (Produce v0-2): each magic, plain and per codec.
    let legacy: &[skiff::record::PlainMessage<'_>] = &[
        (0, 1000, Some(b"k"), Some(b"legacy value")),
        (1, 1001, None, Some(b"v")),
        (2, 999, Some(b"k2"), None),
    ];
    for magic in [0i8, 1] {
        for codec in [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
        ] {
            let set = skiff::record::encode_message_set(magic, codec, legacy).unwrap();
            fs::write(format!("{rec_dir}/legacy-{magic}-{}", codec.name()), set).unwrap();
        }
    }
    // Sanity: the seeds go through the same checks as the targets.
    for f in fs::read_dir(req_dir).unwrap() {
        for frame in common::frames(&fs::read(f.unwrap().path()).unwrap()) {
            common::decode_one(frame);
        }
    }
    common::check_batches(&all);
    eprintln!(
        "wrote {n} request seeds and {} batch seeds",
        batches.len() + 1
    );
}
