//! Consumer groups: Kafka's classic group protocol (JoinGroup, SyncGroup,
//! Heartbeat, LeaveGroup), KIP-848 consumer groups (ConsumerGroupHeartbeat),
//! and committed offsets, durable in the internal topic `__consumer_offsets`. The files follow Kafka's `group-coordinator`
//! module, so a reader can compare them side by side.
//!
//! # Layout
//!
//! - [`coordinator`]: [`GroupCoordinator`], the entry points handlers
//!   await; routes each API to the stores or the group type's protocol,
//!   replays `__consumer_offsets` at load, fires timers (Kafka's
//!   `GroupCoordinatorService` + `GroupCoordinatorShard`);
//!   `coordinator_timers`: what each due timer does.
//! - `group_metadata_manager`: the group store (Kafka's
//!   `GroupMetadataManager` minus the classic protocol): groups by id as a
//!   `Group` enum, created, replayed, removed; DescribeGroups/ListGroups.
//! - `offset_metadata_manager`: the offset store (Kafka's
//!   `OffsetMetadataManager`): committed and transactional offsets of groups
//!   of any type, their deletion and expiry.
//! - `classic_join`, `classic_rebalance`, `classic_membership`: the classic
//!   protocol (JoinGroup; rebalance and SyncGroup; Heartbeat, LeaveGroup and
//!   session expiry).
//! - `classic_group`: one classic group's bookkeeping (Kafka's
//!   `ClassicGroup`); [`state`]: its states and their valid previous states
//!   (Kafka's `ClassicGroupState`), with the per-state actions; [`member`]:
//!   a member (Kafka's `ClassicGroupMember`) and its parked requests.
//! - `classic_api`: the classic protocol's request and result types.
//! - [`consumer`]: KIP-848 consumer groups, protocol-free (assignors,
//!   member reconciliation, group state, records); `consumer_membership`:
//!   the coordinator's side of them (find/create/convert the group, append
//!   its records, set its timers, ConsumerGroupDescribe);
//!   `consumer_migration`: online upgrade/downgrade between the two types
//!   (`group.consumer.migration.policy`); `consumer_classic`: classic
//!   (JoinGroup) members inside a consumer group.
//! - [`offsets`]: the `__consumer_offsets` record format (decoded by key
//!   version), append, flush and replay of the topic; `record_writer`: the
//!   field writer it and `consumer/records.rs` share.
//! - `timer`: the deadline table; `env`: what one operation under the lock
//!   carries (time, config, timers, the appender); `config`:
//!   [`GroupConfig`]; `error`: [`GroupError`].
//! - [`consumer_protocol`]: reading a consumer subscription's topics (for
//!   OffsetDelete and expiry only; assignors stay opaque to the broker).
//!
//! # Dependencies (no circles)
//!
//! ```text
//! coordinator ─┬─> classic_join ──┬─> classic_rebalance ─┐
//!              ├─> classic_membership ┘                  │
//!              ├─> offset_metadata_manager ─┐            │
//!              └──────────────────────────> group_metadata_manager
//!                                              └─> classic_group ─> member ─> classic_api
//! leaves used from above: env (offsets, timer, config), offsets, state,
//! timer, config, error, consumer_protocol
//! ```
//!
//! # The second group type (KIP-848 consumer groups)
//!
//! `Group::Consumer` in the group store answers the same questions as a
//! classic group (type, emptiness, offset-commit validation by member epoch,
//! offset deletion, expiry base, describe/list, tombstones); its records are
//! `CoordinatorRecord::ConsumerGroup`, replayed by an arm of
//! `coordinator::replay`; its sessions reuse the heartbeat timer key and its
//! revocation deadlines have their own (`TimerKey::Revocation`).
//!
//! Dependencies: `storage`, `coordinator_log`, `clock`, `config`. Nothing
//! here knows the wire protocol: handlers in `broker/handlers/` translate
//! requests into the parameter types of [`coordinator`] and [`GroupError`]s
//! into Kafka error codes (`broker/error_code.rs`).

mod classic_api;
mod classic_group;
mod classic_join;
mod classic_membership;
mod classic_rebalance;
mod config;
pub mod consumer;
mod consumer_classic;
mod consumer_membership;
mod consumer_migration;
pub mod consumer_protocol;
pub mod coordinator;
mod coordinator_timers;
mod env;
mod error;
mod group_metadata_manager;
pub mod member;
mod offset_metadata_manager;
pub mod offsets;
mod record_writer;
pub mod state;
mod timer;

pub use config::GroupConfig;
pub use coordinator::GroupCoordinator;
pub use error::GroupError;
