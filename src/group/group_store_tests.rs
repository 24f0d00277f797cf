//! Group store tests (`group_metadata_manager.rs`): groups surviving a
//! reopen (replay), DeleteGroups, DescribeGroups and ListGroups.

use super::*;

#[test]
fn committed_offsets_and_groups_survive_a_reopen() {
    let mut h = H::new();
    assert!(h.commit("simple", "", -1, "t", 0, 42).is_ok());
    assert!(h.commit("simple", "", -1, "t", 0, 43).is_ok());
    assert!(h.commit("simple", "", -1, "u", 3, 7).is_ok());
    let (m, gen) = h.stable_single("g");
    assert!(h.commit("g", &m, gen, "t", 1, 99).is_ok());
    h.reopen();
    assert_eq!(h.committed("simple", "t", 0), 43);
    assert_eq!(h.committed("simple", "u", 3), 7);
    assert_eq!(h.committed("g", "t", 1), 99);
    let all = h.c.fetch_offsets("simple", None);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].partitions[0].metadata, "meta");
    assert_eq!(all[0].partitions[0].leader_epoch, 0);
    // The stable group came back with its member and generation: the
    // consumer carries on without rebalancing.
    assert_eq!(h.c.group_state("g"), Some(GroupState::Stable));
    assert!(h.heartbeat("g", &m, gen).is_ok());
    assert_eq!(
        ready(h.sync("g", &m, gen, &[])).assignment,
        Bytes::from_static(b"A")
    );
    // ... and its session is enforced after the restart too.
    h.advance(i64::from(SESSION));
    assert_eq!(h.c.group_state("g"), Some(GroupState::Empty));
    h.reopen();
    assert_eq!(h.c.group_state("g"), Some(GroupState::Empty));
    assert_eq!(h.committed("g", "t", 1), 99);
}

#[test]
fn delete_groups_requires_an_empty_group_and_is_durable() {
    let mut h = H::new();
    let (m, gen) = h.stable_single("g");
    assert!(h.commit("g", &m, gen, "t", 0, 5).is_ok());
    assert!(h.commit("e", "", -1, "t", 0, 1).is_ok());
    let r = h.c.delete_groups(&["g".into(), "e".into(), "nope".into()]);
    assert!(matches!(r[0], Err(GroupError::NonEmptyGroup)));
    assert!(r[1].is_ok());
    assert!(matches!(r[2], Err(GroupError::GroupIdNotFound(_))));
    assert_eq!(h.committed("e", "t", 0), -1);
    h.reopen();
    assert_eq!(h.c.group_state("e"), None);
    assert_eq!(h.committed("e", "t", 0), -1);
    assert_eq!(h.committed("g", "t", 0), 5);
}

#[test]
fn describe_and_list() {
    let h = H::new();
    let (m, _) = h.stable_single("g");
    assert!(h.commit("simple", "", -1, "t", 0, 1).is_ok());
    let d = h.c.describe_groups(&["g".into(), "missing".into()]);
    assert!(d[0].found);
    assert_eq!(d[0].state, GroupState::Stable);
    assert_eq!(d[0].protocol_data, "range");
    assert_eq!(d[0].members[0].member_id, m);
    assert_eq!(d[0].members[0].client_id, "client");
    assert_eq!(d[0].members[0].client_host, "/127.0.0.1");
    assert_eq!(d[0].members[0].assignment, Bytes::from_static(b"A"));
    assert!(!d[1].found);
    assert_eq!(d[1].state, GroupState::Dead);
    let all = h.c.list_groups(&[], &[]);
    assert_eq!(all.len(), 2);
    let stable = h.c.list_groups(&["STABLE".into()], &[]);
    assert_eq!(stable.len(), 1);
    assert_eq!(stable[0].group_id, "g");
    assert_eq!(stable[0].protocol_type, "consumer");
    let empty = h.c.list_groups(&["Empty".into()], &["Classic".into()]);
    assert_eq!(empty.len(), 1);
    assert_eq!(empty[0].protocol_type, "");
    assert!(h.c.list_groups(&[], &["consumer".into()]).is_empty());
}
