//! Consumer groups: Kafka's classic group protocol (JoinGroup, SyncGroup,
//! Heartbeat, LeaveGroup) and committed offsets, durable in the internal
//! topic `__consumer_offsets`. The files follow Kafka's `group-coordinator`
//! module, so a reader can compare them side by side.
//!
//! # Layout
//!
//! - [`coordinator`]: [`GroupCoordinator`], the entry points handlers
//!   await; routes each API to the stores or the group type's protocol,
//!   replays `__consumer_offsets` at load, fires timers (Kafka's
//!   `GroupCoordinatorService` + `GroupCoordinatorShard`).
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
//! - [`offsets`]: the `__consumer_offsets` record format (decoded by key
//!   version), append, flush and replay of the topic.
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
//! # A second group type (KIP-848 consumer groups)
//!
//! A `Consumer` variant of `Group` in the group store (with an arm in each
//! of its `match`es: type, emptiness, offset-commit validation by member
//! epoch, offset deletion, expiry base, describe/list, tombstones), its own
//! protocol files beside the `classic_*` ones (ConsumerGroupHeartbeat), its
//! records as new `CoordinatorRecord` variants decoded by key version in
//! `offsets.rs` and replayed by an arm of `coordinator::replay`, and its
//! timers as new `TimerKey`s fired by `coordinator::fire`. The offset store
//! and the classic files need no change.
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
mod consumer_membership;
pub mod consumer_protocol;
pub mod coordinator;
mod env;
mod error;
mod group_metadata_manager;
pub mod member;
mod offset_metadata_manager;
pub mod offsets;
pub mod state;
mod timer;

pub use config::GroupConfig;
pub use coordinator::GroupCoordinator;
pub use error::GroupError;
pub use state::GroupState;
