//! Who a heartbeat (or a classic JoinGroup) is from, and what its patterns
//! resolve to: Kafka's `getOrMaybeSubscribeDynamicConsumerGroupMember`,
//! `getOrMaybeSubscribeStaticConsumerGroupMember`,
//! `throwIfConsumerGroupMemberEpochIsInvalid` and
//! `maybeUpdateRegularExpressions`, for [`super::heartbeat`].

use tracing::info;

use super::assignment::{self, Assignment};
use super::group::ConsumerGroup;
use super::heartbeat::{unknown_member, Context, HeartbeatRequest, Outcome};
use super::member::{ConsumerGroupMember, LEAVE_GROUP_STATIC_MEMBER_EPOCH};
use super::records::{ConsumerGroupRecord, ResolvedRegex};
use super::topics::resolve_regex;
use super::ConsumerGroupError;

type Result<T> = std::result::Result<T, ConsumerGroupError>;

/// Kafka's `getOrMaybeSubscribe*ConsumerGroupMember`: a classic JoinGroup
/// creates (or replaces) a static member only without a member id, a
/// consumer heartbeat at epoch 0; a static member is replaced at once
/// when either side speaks the classic protocol, and only after it left
/// (epoch -2) when both speak the consumer protocol.
///
/// Returns the member as it was (a new one, or for a static member
/// replacing its previous incarnation a copy of it under the new id) and
/// the member it replaces.
pub(super) fn member_of(
    group: &ConsumerGroup,
    req: &HeartbeatRequest,
    member_id: &str,
    owned: Option<&Assignment>,
) -> Result<(ConsumerGroupMember, Option<ConsumerGroupMember>)> {
    let classic_join = req.classic.is_some();
    let joining = req.member_epoch == 0 || classic_join;
    match &req.instance_id {
        None => {
            let m = match group.member(member_id) {
                Some(m) => m.clone(),
                None if joining => {
                    info!(group = group.group_id(), member = %member_id, "member joins the consumer group");
                    ConsumerGroupMember::new(member_id)
                }
                None => return Err(unknown_member(member_id, group.group_id())),
            };
            if !classic_join {
                check_epoch(&m, req.member_epoch, owned)?;
            }
            Ok((m, None))
        }
        Some(instance) => {
            let create = if classic_join {
                req.classic_unknown_member
            } else {
                req.member_epoch == 0
            };
            match group.static_member(instance).cloned() {
                None if create => {
                    info!(group = group.group_id(), member = %member_id, instance = %instance, classic = classic_join, "static member joins the consumer group");
                    Ok((ConsumerGroupMember::new(member_id), None))
                }
                None => Err(ConsumerGroupError::UnknownMemberId(format!(
                    "Instance id {instance} is unknown."
                ))),
                Some(existing) if create => {
                    if !classic_join
                        && !existing.uses_classic_protocol()
                        && existing.member_epoch != LEAVE_GROUP_STATIC_MEMBER_EPOCH
                    {
                        return Err(ConsumerGroupError::UnreleasedInstanceId(format!(
                            "Static member {member_id} with instance id {instance} cannot join the group because the instance id is owned by {} member.",
                            existing.member_id
                        )));
                    }
                    let mut m = existing.clone();
                    m.member_id = member_id.to_string();
                    m.member_epoch = 0;
                    m.previous_member_epoch = 0;
                    info!(group = group.group_id(), member = %member_id, instance = %instance, previous = %existing.member_id, classic = classic_join, "static member rejoins the consumer group, replacing its previous member");
                    Ok((m, Some(existing)))
                }
                Some(existing) => {
                    if existing.member_id != member_id {
                        return Err(ConsumerGroupError::FencedInstanceId(format!(
                            "Static member {member_id} with instance id {instance} was fenced by member {}.",
                            existing.member_id
                        )));
                    }
                    if !classic_join {
                        check_epoch(&existing, req.member_epoch, owned)?;
                    }
                    Ok((existing, None))
                }
            }
        }
    }
}

/// Kafka's `throwIfConsumerGroupMemberEpochIsInvalid`: an epoch ahead of
/// the member's, or behind it unless it is the previous one with nothing
/// owned beyond the current assignment (the bump's answer was lost).
fn check_epoch(m: &ConsumerGroupMember, received: i32, owned: Option<&Assignment>) -> Result<()> {
    if received > m.member_epoch {
        return Err(ConsumerGroupError::FencedMemberEpoch(format!(
            "The consumer group member has a greater member epoch ({received}) than the one known by the group coordinator ({}). The member must abandon all its partitions and rejoin.",
            m.member_epoch
        )));
    }
    if received < m.member_epoch {
        let subset = owned.is_some_and(|o| assignment::is_subset(o, &m.assigned));
        if received != m.previous_member_epoch || !subset {
            return Err(ConsumerGroupError::FencedMemberEpoch(format!(
                "The consumer group member has a smaller member epoch ({received}) than the one known by the group coordinator ({}). The member must abandon all its partitions and rejoin.",
                m.member_epoch
            )));
        }
    }
    Ok(())
}

/// Resolves new patterns and, when the topic list changed, every pattern
/// again (Kafka does this asynchronously; the lists here are small enough
/// to do it in line). Returns whether the group epoch must be bumped.
pub(super) fn update_regexes(
    out: &mut Outcome,
    group: &mut ConsumerGroup,
    (before, after): (&ConsumerGroupMember, &ConsumerGroupMember),
    req: &HeartbeatRequest,
    ctx: Context<'_>,
) -> bool {
    let mut bump = false;
    let subscribed = group.subscribed_regexes();
    if before.subscribed_topic_regex != after.subscribed_topic_regex {
        if let Some(old) = &before.subscribed_topic_regex {
            if !subscribed.contains(old) && group.regexes().contains_key(old) {
                out.emit(
                    group,
                    ConsumerGroupRecord::RegularExpression(old.clone(), None),
                );
                bump = true;
            }
        }
        if let Some(new) = &after.subscribed_topic_regex {
            // Resolved already: the member's subscription changes anyway.
            bump |= group.regexes().contains_key(new);
        }
    }
    let fingerprint = ctx.topics.names_fingerprint();
    let stale = group.regex_fingerprint != Some(fingerprint);
    for re in &subscribed {
        let known = group.regexes().get(re).cloned();
        // Kafka also resolves every pattern again once the last resolution
        // is older than `group.consumer.regex.refresh.interval.ms`: what a
        // pattern matches depends on the requester's DESCRIBE rights too,
        // which change without any topic change.
        let expired = known.as_ref().is_some_and(|k| {
            ctx.now_ms
                > k.timestamp_ms
                    .saturating_add(ctx.config.regex_refresh_interval_ms)
        });
        if known.is_some() && !stale && !expired {
            continue;
        }
        let mut topics = resolve_regex(re, ctx.topics);
        if let Some(allowed) = &req.describable_topics {
            topics.retain(|t| allowed.contains(t));
        }
        let same = known.as_ref().is_some_and(|k| k.topics == topics);
        if same && !expired {
            continue;
        }
        // An expired resolution that did not change is still written, so
        // its time moves on (Kafka writes every refreshed pattern).
        bump |= !same;
        out.emit(
            group,
            ConsumerGroupRecord::RegularExpression(
                re.clone(),
                Some(ResolvedRegex {
                    topics,
                    version: fingerprint,
                    timestamp_ms: ctx.now_ms,
                }),
            ),
        );
    }
    group.regex_fingerprint = Some(fingerprint);
    bump
}
