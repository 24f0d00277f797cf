//! Offset store tests (`offset_metadata_manager.rs`): metadata limits,
//! expiry, retention, OffsetDelete, offsets of deleted topics.

use super::*;

#[test]
fn offset_metadata_too_large_fails_only_that_partition() {
    let h = H::with(GroupConfig {
        offset_metadata_max_bytes: 3,
        ..GroupConfig::default()
    });
    let r = h.c.commit_offsets(CommitParams {
        unknown_group_is_not_found: true,
        ..commit_params(
            "g",
            "",
            -1,
            vec![
                CommitOffset {
                    metadata: Some("abcd".into()),
                    ..commit_offset("t", 0, 1)
                },
                CommitOffset {
                    metadata: Some("abc".into()),
                    ..commit_offset("t", 1, 2)
                },
            ],
        )
    });
    assert!(matches!(r[0], Err(GroupError::OffsetMetadataTooLarge)));
    assert!(r[1].is_ok());
    assert_eq!(h.committed("g", "t", 0), -1);
    assert_eq!(h.committed("g", "t", 1), 2);
}

#[test]
fn offsets_of_an_empty_group_expire_after_the_retention() {
    let h = H::with(GroupConfig {
        offsets_retention_ms: 60_000,
        offsets_retention_check_interval_ms: 10_000,
        ..GroupConfig::default()
    });
    assert!(h.commit("g", "", -1, "t", 0, 5).is_ok());
    h.advance(50_000);
    assert_eq!(h.committed("g", "t", 0), 5);
    h.advance(10_000);
    assert_eq!(h.committed("g", "t", 0), -1);
    assert_eq!(h.c.group_count(), 0);
}

#[test]
fn offsets_of_subscribed_topics_do_not_expire_while_the_group_is_active() {
    let h = H::with(GroupConfig {
        offsets_retention_ms: 60_000,
        offsets_retention_check_interval_ms: 10_000,
        ..GroupConfig::default()
    });
    let (m, gen) = h.stable_single("g"); // subscribed to "t"
    assert!(h.commit("g", &m, gen, "t", 0, 5).is_ok());
    assert!(h.commit("g", &m, gen, "old", 0, 6).is_ok());
    for _ in 0..12 {
        h.advance(6_000);
        assert!(h.heartbeat("g", &m, gen).is_ok());
    }
    assert_eq!(h.committed("g", "t", 0), 5);
    assert_eq!(h.committed("g", "old", 0), -1);
}

#[test]
fn commit_retention_time_sets_an_explicit_expiry() {
    let h = H::with(GroupConfig {
        offsets_retention_check_interval_ms: 1_000,
        ..GroupConfig::default()
    });
    let r = h.c.commit_offsets(CommitParams {
        retention_time_ms: 5_000,
        ..commit_params("g", "", -1, vec![commit_offset("t", 0, 1)])
    });
    assert!(r[0].is_ok());
    h.advance(4_000);
    assert_eq!(h.committed("g", "t", 0), 1);
    h.advance(1_000);
    assert_eq!(h.committed("g", "t", 0), -1);
}

#[test]
fn offset_delete_refuses_subscribed_topics() {
    let mut h = H::new();
    let (m, gen) = h.stable_single("g"); // subscribed to "t"
    assert!(h.commit("g", &m, gen, "t", 0, 5).is_ok());
    assert!(h.commit("g", &m, gen, "u", 0, 6).is_ok());
    let r =
        h.c.delete_offsets("g", vec![("t".into(), vec![0]), ("u".into(), vec![0, 1])])
            .unwrap();
    assert!(matches!(
        r[0].1[0].1,
        Some(GroupError::GroupSubscribedToTopic)
    ));
    assert!(r[1].1.iter().all(|(_, e)| e.is_none()));
    assert_eq!(h.committed("g", "u", 0), -1);
    h.reopen();
    assert_eq!(h.committed("g", "u", 0), -1);
    assert_eq!(h.committed("g", "t", 0), 5);
    assert!(matches!(
        h.c.delete_offsets("nope", vec![]),
        Err(GroupError::GroupIdNotFound(_))
    ));
}

#[test]
fn offsets_of_a_deleted_topic_are_removed_durably() {
    let mut h = H::new();
    assert!(h.commit("a", "", -1, "gone", 0, 5).is_ok());
    assert!(h.commit("a", "", -1, "kept", 0, 6).is_ok());
    assert!(h.commit("b", "", -1, "gone", 3, 7).is_ok());
    assert_eq!(h.c.delete_topic_offsets("gone").unwrap(), 2);
    h.reopen();
    assert_eq!(h.committed("a", "gone", 0), -1);
    assert_eq!(h.committed("b", "gone", 3), -1);
    assert_eq!(h.committed("a", "kept", 0), 6);
}
