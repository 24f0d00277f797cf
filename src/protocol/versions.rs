//! The one table of APIs and versions Skiff serves. Dispatch checks every
//! request against it and the ApiVersions answer is built from it, so nothing
//! is advertised that is not served (a unit test in `broker` sends every
//! advertised version of every API through dispatch).
//!
//! Ranges follow what Apache Kafka 4.1 advertises, intersected with what the
//! kafka-protocol crate can decode (`Message::VERSIONS`), plus the old
//! versions Kafka 4.0 removed (KIP-896) and 3.9 still served: legacy clients
//! people still run send them (sarama 1.22 commits with OffsetCommit v1).
//! The vendored crate decodes those again (vendor/kafka-protocol/SKIFF-PATCH.md);
//! their handlers follow Kafka 3.9's semantics for each old version.
//! Produce v0–v2 and Fetch v0–v3 carry the legacy message formats (magic 0
//! and 1), converted as Kafka 3.x did (`record::legacy`). Kafka 4.x still
//! advertises Produce from v0 but closes a client that sends v0–v2
//! (KAFKA-18659: librdkafka before 2.11.1 only enables compression when the
//! advertised range starts at 0); Skiff serves them.

use kafka_protocol::messages::ApiKey;

/// A served API and its inclusive version range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiRange {
    pub key: ApiKey,
    pub min: i16,
    pub max: i16,
}

const fn api(key: ApiKey, min: i16, max: i16) -> ApiRange {
    ApiRange { key, min, max }
}

/// Every API Skiff serves, in API key order.
pub const SERVED: &[ApiRange] = &[
    api(ApiKey::Produce, 0, 13),
    api(ApiKey::Fetch, 0, 18),
    api(ApiKey::ListOffsets, 0, 10),
    api(ApiKey::Metadata, 0, 13),
    api(ApiKey::OffsetCommit, 0, 9),
    api(ApiKey::OffsetFetch, 0, 9),
    api(ApiKey::FindCoordinator, 0, 6),
    api(ApiKey::JoinGroup, 0, 9),
    api(ApiKey::Heartbeat, 0, 4),
    api(ApiKey::LeaveGroup, 0, 5),
    api(ApiKey::SyncGroup, 0, 5),
    api(ApiKey::DescribeGroups, 0, 6),
    api(ApiKey::ListGroups, 0, 5),
    api(ApiKey::SaslHandshake, 0, 1),
    api(ApiKey::ApiVersions, 0, 4),
    api(ApiKey::CreateTopics, 0, 7),
    api(ApiKey::DeleteTopics, 0, 6),
    api(ApiKey::DeleteRecords, 0, 2),
    api(ApiKey::InitProducerId, 0, 5),
    api(ApiKey::AddPartitionsToTxn, 0, 5),
    api(ApiKey::AddOffsetsToTxn, 0, 4),
    api(ApiKey::EndTxn, 0, 5),
    api(ApiKey::TxnOffsetCommit, 0, 5),
    api(ApiKey::OffsetForLeaderEpoch, 0, 4),
    // ACL APIs from v1: Kafka 4.0 removed v0 (KIP-896) and the codec has none.
    api(ApiKey::DescribeAcls, 1, 3),
    api(ApiKey::CreateAcls, 1, 3),
    api(ApiKey::DeleteAcls, 1, 3),
    api(ApiKey::DescribeConfigs, 0, 4),
    api(ApiKey::AlterConfigs, 0, 2),
    api(ApiKey::DescribeLogDirs, 0, 4),
    api(ApiKey::SaslAuthenticate, 0, 2),
    api(ApiKey::CreatePartitions, 0, 3),
    api(ApiKey::DeleteGroups, 0, 2),
    api(ApiKey::IncrementalAlterConfigs, 0, 1),
    api(ApiKey::OffsetDelete, 0, 0),
    api(ApiKey::DescribeClientQuotas, 0, 1),
    api(ApiKey::DescribeUserScramCredentials, 0, 0),
    api(ApiKey::AlterUserScramCredentials, 0, 0),
    api(ApiKey::DescribeCluster, 0, 2),
    api(ApiKey::DescribeProducers, 0, 0),
    api(ApiKey::DescribeTransactions, 0, 0),
    api(ApiKey::ListTransactions, 0, 2),
    api(ApiKey::DescribeTopicPartitions, 0, 0),
    api(ApiKey::ConsumerGroupHeartbeat, 0, 1),
    api(ApiKey::ConsumerGroupDescribe, 0, 1),
    // Share groups (KIP-932) at Kafka 4.2's versions; hidden from ApiVersions
    // when group.share.enable=false (Broker::api_versions).
    api(ApiKey::ShareGroupHeartbeat, 1, 1),
    api(ApiKey::ShareGroupDescribe, 1, 1),
    api(ApiKey::ShareFetch, 1, 2),
    api(ApiKey::ShareAcknowledge, 1, 2),
    // DescribeShareGroupOffsets v1 (Kafka 4.2, KIP-1226) adds the lag.
    api(ApiKey::DescribeShareGroupOffsets, 0, 1),
    api(ApiKey::AlterShareGroupOffsets, 0, 0),
    api(ApiKey::DeleteShareGroupOffsets, 0, 0),
];

/// The share-group APIs (KIP-932), advertised only while share groups are enabled.
pub fn is_share_api(key: ApiKey) -> bool {
    matches!(
        key,
        ApiKey::ShareGroupHeartbeat
            | ApiKey::ShareGroupDescribe
            | ApiKey::ShareFetch
            | ApiKey::ShareAcknowledge
            | ApiKey::DescribeShareGroupOffsets
            | ApiKey::AlterShareGroupOffsets
            | ApiKey::DeleteShareGroupOffsets
    )
}

/// The served range of `key`, if Skiff serves it at all.
pub fn served(key: ApiKey) -> Option<ApiRange> {
    SERVED.iter().copied().find(|r| r.key == key)
}

/// Whether a request of `key` at `version` is served: every advertised
/// version is.
pub fn accepts(range: ApiRange, version: i16) -> bool {
    (range.min..=range.max).contains(&version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_range_is_decodable_by_the_codec() {
        for r in SERVED {
            let codec = r.key.valid_versions();
            assert!(
                codec.min <= r.min && r.max <= codec.max,
                "{:?} {}..={} outside codec {}..={}",
                r.key,
                r.min,
                r.max,
                codec.min,
                codec.max
            );
        }
    }

    #[test]
    fn table_has_no_duplicates() {
        for (i, a) in SERVED.iter().enumerate() {
            assert!(
                SERVED[i + 1..].iter().all(|b| b.key != a.key),
                "{:?}",
                a.key
            );
        }
    }
}
