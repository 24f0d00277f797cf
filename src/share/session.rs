//! Share sessions (KIP-932): per (group, member), the partitions its
//! ShareFetch requests fetch and the epoch the next request must carry.
//! Epoch 0 opens a session (a full fetch), -1 closes it, and every other
//! request carries the next epoch (1, 2, …, wrapping to 1); ShareFetch and
//! ShareAcknowledge share the sequence. As in Kafka, a session belongs to the
//! client connection whose ShareFetch opened it: when that connection closes
//! the session ends (see [`ShareSessions::remove_connection`]).

use std::collections::{BTreeSet, HashMap};

use uuid::Uuid;

/// Why a request does not fit its share session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("the share session was not found")]
    NotFound,
    #[error("the share session epoch is invalid: expected {expected}, got {got}")]
    InvalidEpoch { expected: i32, got: i32 },
    #[error("the limit of share sessions has been reached")]
    LimitReached,
}

#[derive(Debug, Default)]
struct Session {
    next_epoch: i32,
    /// The connection whose epoch-0 ShareFetch opened the session.
    connection: u64,
    partitions: BTreeSet<(Uuid, i32)>,
}

/// Every open share session.
#[derive(Debug)]
pub struct ShareSessions {
    sessions: HashMap<(String, String), Session>,
    /// Most sessions open at once (SHARE_SESSION_LIMIT_REACHED beyond).
    max_sessions: usize,
}

impl Default for ShareSessions {
    fn default() -> ShareSessions {
        ShareSessions::with_limit(2000)
    }
}

fn next(epoch: i32) -> i32 {
    if epoch == i32::MAX {
        1
    } else {
        epoch + 1
    }
}

impl ShareSessions {
    pub fn with_limit(max_sessions: usize) -> ShareSessions {
        ShareSessions {
            sessions: HashMap::new(),
            max_sessions,
        }
    }

    /// Checks and advances the session of one request; returns the
    /// partitions the session fetches afterwards. Epoch -1 checks nothing
    /// here: the caller closes the session after its acknowledgements.
    /// `connection` is the request's connection (it owns a session it opens).
    #[allow(clippy::too_many_arguments)]
    pub fn update(
        &mut self,
        connection: u64,
        group: &str,
        member: &str,
        epoch: i32,
        is_fetch: bool,
        added: &[(Uuid, i32)],
        forgotten: &[(Uuid, i32)],
    ) -> Result<Vec<(Uuid, i32)>, SessionError> {
        let key = (group.to_string(), member.to_string());
        match epoch {
            0 if is_fetch => {
                if !self.sessions.contains_key(&key) && self.sessions.len() >= self.max_sessions {
                    return Err(SessionError::LimitReached);
                }
                let session = Session {
                    next_epoch: 1,
                    connection,
                    partitions: added.iter().copied().collect(),
                };
                let out = session.partitions.iter().copied().collect();
                self.sessions.insert(key, session);
                Ok(out)
            }
            // ShareAcknowledge cannot open a session.
            0 => Err(SessionError::InvalidEpoch {
                expected: self.sessions.get(&key).map_or(1, |s| s.next_epoch),
                got: 0,
            }),
            -1 => match self.sessions.get(&key) {
                Some(s) => Ok(s.partitions.iter().copied().collect()),
                None => Err(SessionError::NotFound),
            },
            got => {
                let s = self.sessions.get_mut(&key).ok_or(SessionError::NotFound)?;
                if got != s.next_epoch {
                    return Err(SessionError::InvalidEpoch {
                        expected: s.next_epoch,
                        got,
                    });
                }
                s.next_epoch = next(got);
                if is_fetch {
                    s.partitions.extend(added.iter().copied());
                    for f in forgotten {
                        s.partitions.remove(f);
                    }
                }
                Ok(s.partitions.iter().copied().collect())
            }
        }
    }

    pub fn remove(&mut self, group: &str, member: &str) {
        self.sessions
            .remove(&(group.to_string(), member.to_string()));
    }

    /// Ends every session `connection` opened; returns their (group, member).
    /// A session reopened since on another connection is not this one's.
    pub fn remove_connection(&mut self, connection: u64) -> Vec<(String, String)> {
        let keys: Vec<(String, String)> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.connection == connection)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &keys {
            self.sessions.remove(k);
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Uuid = Uuid::from_u128(1);

    #[test]
    fn epochs_follow_kafkas_rules() {
        let mut s = ShareSessions::default();
        assert_eq!(
            s.update(1, "g", "m", 1, true, &[], &[]),
            Err(SessionError::NotFound)
        );
        assert_eq!(
            s.update(1, "g", "m", 0, true, &[(T, 0)], &[]).unwrap(),
            vec![(T, 0)]
        );
        assert_eq!(
            s.update(1, "g", "m", 0, false, &[], &[]),
            Err(SessionError::InvalidEpoch {
                expected: 1,
                got: 0
            })
        );
        assert_eq!(
            s.update(1, "g", "m", 1, true, &[(T, 1)], &[])
                .unwrap()
                .len(),
            2
        );
        // ShareAcknowledge takes the next epoch too.
        assert!(s.update(1, "g", "m", 2, false, &[], &[]).is_ok());
        assert_eq!(
            s.update(1, "g", "m", 2, true, &[], &[]),
            Err(SessionError::InvalidEpoch {
                expected: 3,
                got: 2
            })
        );
        assert_eq!(
            s.update(1, "g", "m", 3, true, &[], &[(T, 0)]).unwrap(),
            vec![(T, 1)]
        );
        assert!(s.update(1, "g", "m", -1, false, &[], &[]).is_ok());
        s.remove("g", "m");
        let mut s = ShareSessions::with_limit(1);
        assert!(s.update(1, "g", "x", 0, true, &[], &[]).is_ok());
        assert_eq!(
            s.update(1, "g", "y", 0, true, &[], &[]),
            Err(SessionError::LimitReached)
        );
        assert_eq!(
            s.update(1, "g", "m", -1, false, &[], &[]),
            Err(SessionError::NotFound)
        );
    }

    #[test]
    fn a_closed_connection_ends_only_the_sessions_it_opened() {
        let mut s = ShareSessions::default();
        assert!(s.update(1, "g", "a", 0, true, &[(T, 0)], &[]).is_ok());
        assert!(s.update(2, "g", "b", 0, true, &[(T, 0)], &[]).is_ok());
        // Continued on connection 2, but opened on 1: still connection 1's.
        assert!(s.update(2, "g", "a", 1, true, &[], &[]).is_ok());
        assert_eq!(s.remove_connection(1), vec![("g".into(), "a".into())]);
        assert_eq!(
            s.update(1, "g", "a", 2, true, &[], &[]),
            Err(SessionError::NotFound)
        );
        assert!(s.update(2, "g", "b", 1, true, &[], &[]).is_ok());
        // Reopened on connection 3: closing 2 leaves it.
        assert!(s.update(3, "g", "b", 0, true, &[], &[]).is_ok());
        assert!(s.remove_connection(2).is_empty());
    }
}
