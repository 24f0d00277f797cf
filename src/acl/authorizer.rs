//! The authorizer: Kafka's `StandardAuthorizer` rules over the ACL set.
//!
//! For an action (operation on a literal resource) by a principal from a host:
//! 1. a super user (`super.users`) may do anything;
//! 2. otherwise every ACL whose pattern covers the resource (literal name,
//!    literal `*`, or a prefix) and whose principal (or `User:*`) and host
//!    (or `*`) match is considered: any matching DENY denies, else any
//!    matching ALLOW allows;
//! 3. an ALLOW of READ, WRITE, DELETE or ALTER also allows DESCRIBE, and an
//!    ALLOW of ALTER_CONFIGS allows DESCRIBE_CONFIGS (a DENY implies nothing);
//!    ALL matches every operation;
//! 4. with no match: allowed only when no ACL at all covers the resource and
//!    `allow.everyone.if.no.acl.found` is true.
//!
//! Reads are lock-free (an `ArcSwap` of the whole set), so a check on the
//! produce path costs a scan of the set and no lock; changes are serialized
//! by a mutex, written to disk first, then published.

use std::path::Path;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use tracing::{debug, info};

use super::store::{AclStore, StoreError};
use super::types::{supported_operations, AclBinding, AclBindingFilter};
use super::{AclOperation, PermissionType, ResourceType, WILDCARD};

/// The broker keys the authorizer reads.
#[derive(Debug, Clone, Default)]
pub struct AclConfig {
    /// `super.users`, each `Type:name`.
    pub super_users: Vec<String>,
    /// `allow.everyone.if.no.acl.found`.
    pub allow_everyone_if_no_acl_found: bool,
}

impl AclConfig {
    /// Kafka's `super.users` syntax: principals separated by semicolons.
    #[cfg(test)]
    pub fn parse_super_users(value: &str) -> Vec<String> {
        value
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// Who asks: the principal (type and name, e.g. `User`, `alice`) and the
/// client's IP address as text.
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    pub principal_type: &'a str,
    pub principal_name: &'a str,
    pub host: &'a str,
}

impl Requester<'_> {
    fn is(&self, principal: &str) -> bool {
        principal.split_once(':') == Some((self.principal_type, self.principal_name))
    }

    fn matches_principal(&self, principal: &str) -> bool {
        principal == "User:*" || self.is(principal)
    }
}

/// What one DeleteAcls filter removed.
pub type DeleteOutcome = Vec<AclBinding>;

#[derive(Debug)]
pub struct Authorizer {
    config: AclConfig,
    acls: ArcSwap<Vec<AclBinding>>,
    store: AclStore,
    /// Serializes changes so each is saved and published whole.
    write: Mutex<()>,
}

impl Authorizer {
    /// Loads the ACL set of `data_dir`.
    pub fn open(data_dir: &Path, config: AclConfig) -> Result<Authorizer, StoreError> {
        let store = AclStore::new(data_dir);
        let acls = store.load()?;
        info!(
            acls = acls.len(),
            super_users = ?config.super_users,
            allow_everyone_if_no_acl_found = config.allow_everyone_if_no_acl_found,
            "authorizer enabled"
        );
        Ok(Authorizer {
            config,
            acls: ArcSwap::from_pointee(acls),
            store,
            write: Mutex::new(()),
        })
    }

    fn is_super_user(&self, who: &Requester<'_>) -> bool {
        self.config.super_users.iter().any(|s| who.is(s))
    }

    /// Whether `who` may do `op` on the resource `resource_type`:`name`.
    pub fn authorize(
        &self,
        who: &Requester<'_>,
        op: AclOperation,
        resource_type: ResourceType,
        name: &str,
    ) -> bool {
        if self.is_super_user(who) {
            return true;
        }
        let acls = self.acls.load();
        let mut covered = false;
        let mut allowed = false;
        for acl in acls.iter().filter(|a| a.covers(resource_type, name)) {
            covered = true;
            match decision(acl, who, op) {
                Some(PermissionType::Deny) => {
                    debug!(principal = %format_args!("{}:{}", who.principal_type, who.principal_name),
                        host = who.host, %op, %resource_type, name, "denied by ACL");
                    return false;
                }
                Some(PermissionType::Allow) => allowed = true,
                _ => {}
            }
        }
        allowed || (!covered && self.config.allow_everyone_if_no_acl_found)
    }

    /// Kafka's `Authorizer.authorizeByResourceType`: whether `who` may do `op`
    /// on at least one resource of the type (some ALLOW not dominated by a
    /// DENY of the same literal name or of a prefix of it). InitProducerId
    /// uses it: an idempotent producer needs IDEMPOTENT_WRITE on the cluster
    /// or WRITE on any topic.
    pub fn authorize_by_resource_type(
        &self,
        who: &Requester<'_>,
        op: AclOperation,
        resource_type: ResourceType,
    ) -> bool {
        // A made-up name: super users, and allow.everyone.if.no.acl.found
        // with no ACL covering it, pass here (as Kafka checks "hardcode").
        if self.authorize(who, op, resource_type, "hardcode") {
            return true;
        }
        let acls = self.acls.load();
        let relevant = || {
            acls.iter().filter(move |a| {
                a.resource_type == resource_type
                    && (a.host == WILDCARD || a.host == who.host)
                    && who.matches_principal(&a.principal)
                    && (a.operation == op || a.operation == AclOperation::All)
            })
        };
        use super::PatternType::{Literal, Prefixed};
        let denies = |p: super::PatternType| {
            relevant()
                .filter(move |a| a.permission == PermissionType::Deny && a.pattern_type == p)
                .map(|a| a.resource_name.as_str())
        };
        if denies(Literal).any(|n| n == WILDCARD) {
            return false;
        }
        let allows = || relevant().filter(|a| a.permission == PermissionType::Allow);
        if allows().any(|a| a.pattern_type == Literal && a.resource_name == WILDCARD) {
            return true;
        }
        allows().any(|a| {
            let name = a.resource_name.as_str();
            let literal_denied = a.pattern_type == Literal && denies(Literal).any(|d| d == name);
            let prefix_denied = denies(Prefixed).any(|d| name.starts_with(d));
            !literal_denied && !prefix_denied
        })
    }

    /// The "authorized operations" bit field of a resource for `who`
    /// (bit n set = operation code n allowed), over the operations the
    /// resource type supports.
    pub fn authorized_operations(
        &self,
        who: &Requester<'_>,
        resource_type: ResourceType,
        name: &str,
    ) -> i32 {
        supported_operations(resource_type)
            .iter()
            .filter(|op| self.authorize(who, **op, resource_type, name))
            .fold(0, |bits, op| bits | (1 << op.code()))
    }

    /// The ACLs `filter` matches.
    pub fn acls(&self, filter: &AclBindingFilter) -> Vec<AclBinding> {
        self.acls
            .load()
            .iter()
            .filter(|a| filter.matches(a))
            .cloned()
            .collect()
    }

    /// Adds `bindings` (one already present is left as is), durably.
    pub fn create(&self, bindings: &[AclBinding]) -> Result<(), StoreError> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = Vec::clone(&self.acls.load());
        for b in bindings {
            if !next.contains(b) {
                next.push(b.clone());
            }
        }
        self.store.save(&next)?;
        info!(added = bindings.len(), total = next.len(), "ACLs created");
        self.acls.store(Arc::new(next));
        Ok(())
    }

    /// Removes every ACL any of `filters` matches, durably; per filter, the
    /// ACLs it matched (one ACL matched by two filters is reported by both,
    /// as Kafka does).
    pub fn delete(&self, filters: &[AclBindingFilter]) -> Result<Vec<DeleteOutcome>, StoreError> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.acls.load_full();
        let outcomes: Vec<DeleteOutcome> = filters
            .iter()
            .map(|f| current.iter().filter(|a| f.matches(a)).cloned().collect())
            .collect();
        if outcomes.iter().all(Vec::is_empty) {
            return Ok(outcomes);
        }
        let next: Vec<AclBinding> = current
            .iter()
            .filter(|a| !filters.iter().any(|f| f.matches(a)))
            .cloned()
            .collect();
        self.store.save(&next)?;
        info!(
            removed = current.len() - next.len(),
            total = next.len(),
            "ACLs deleted"
        );
        self.acls.store(Arc::new(next));
        Ok(outcomes)
    }
}

/// What `acl` (whose pattern covers the resource) says about `op` by
/// `who`: `None` when it does not apply.
fn decision(acl: &AclBinding, who: &Requester<'_>, op: AclOperation) -> Option<PermissionType> {
    if !who.matches_principal(&acl.principal) {
        return None;
    }
    if acl.host != WILDCARD && acl.host != who.host {
        return None;
    }
    let applies = acl.operation == AclOperation::All
        || acl.operation == op
        || (acl.permission == PermissionType::Allow && implies(acl.operation, op));
    applies.then_some(acl.permission)
}

/// Kafka's implication rules, for ALLOW ACLs only.
fn implies(granted: AclOperation, wanted: AclOperation) -> bool {
    use AclOperation::*;
    match wanted {
        Describe => matches!(granted, Read | Write | Delete | Alter),
        DescribeConfigs => granted == AlterConfigs,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::{PatternType, CLUSTER_NAME};
    use AclOperation::*;
    use ResourceType::*;

    const ALICE: Requester<'static> = Requester {
        principal_type: "User",
        principal_name: "alice",
        host: "127.0.0.1",
    };
    const BOB: Requester<'static> = Requester {
        principal_type: "User",
        principal_name: "bob",
        host: "10.0.0.2",
    };

    fn binding(
        rt: ResourceType,
        name: &str,
        pt: PatternType,
        principal: &str,
        host: &str,
        op: AclOperation,
        perm: PermissionType,
    ) -> AclBinding {
        AclBinding {
            resource_type: rt,
            resource_name: name.into(),
            pattern_type: pt,
            principal: principal.into(),
            host: host.into(),
            operation: op,
            permission: perm,
        }
    }

    fn allow(rt: ResourceType, name: &str, pt: PatternType, op: AclOperation) -> AclBinding {
        binding(rt, name, pt, "User:alice", "*", op, PermissionType::Allow)
    }

    fn deny(rt: ResourceType, name: &str, pt: PatternType, op: AclOperation) -> AclBinding {
        binding(rt, name, pt, "User:alice", "*", op, PermissionType::Deny)
    }

    fn authorizer(config: AclConfig, acls: &[AclBinding]) -> (tempfile::TempDir, Authorizer) {
        let dir = tempfile::tempdir().unwrap();
        let a = Authorizer::open(dir.path(), config).unwrap();
        a.create(acls).unwrap();
        (dir, a)
    }

    #[test]
    fn no_acls_denies_unless_allow_everyone() {
        let (_d, a) = authorizer(AclConfig::default(), &[]);
        assert!(!a.authorize(&ALICE, Read, Topic, "t"));
        let open = AclConfig {
            allow_everyone_if_no_acl_found: true,
            ..AclConfig::default()
        };
        let (_d, a) = authorizer(open, &[allow(Topic, "guarded", PatternType::Literal, Read)]);
        assert!(a.authorize(&BOB, Write, Topic, "t"), "no ACL covers t");
        assert!(
            !a.authorize(&BOB, Read, Topic, "guarded"),
            "an ACL covers guarded, for alice only"
        );
        assert!(a.authorize(&ALICE, Read, Topic, "guarded"));
    }

    #[test]
    fn super_users_bypass_deny() {
        let config = AclConfig {
            super_users: AclConfig::parse_super_users("User:admin; User:bob"),
            ..AclConfig::default()
        };
        let deny_bob = binding(
            Topic,
            "*",
            PatternType::Literal,
            "User:bob",
            "*",
            All,
            PermissionType::Deny,
        );
        let (_d, a) = authorizer(config, &[deny_bob]);
        assert!(a.authorize(&BOB, Write, Topic, "t"));
        assert!(a.authorize(&BOB, ClusterAction, Cluster, CLUSTER_NAME));
        assert!(!a.authorize(&ALICE, Read, Topic, "t"));
    }

    #[test]
    fn literal_prefixed_and_wildcard_patterns() {
        let (_d, a) = authorizer(
            AclConfig::default(),
            &[
                allow(Topic, "orders", PatternType::Literal, Read),
                allow(Topic, "logs-", PatternType::Prefixed, Write),
                allow(Group, "*", PatternType::Literal, Read),
            ],
        );
        assert!(a.authorize(&ALICE, Read, Topic, "orders"));
        assert!(
            !a.authorize(&ALICE, Read, Topic, "orders2"),
            "literal is exact"
        );
        assert!(a.authorize(&ALICE, Write, Topic, "logs-app"));
        assert!(a.authorize(&ALICE, Write, Topic, "logs-"));
        assert!(!a.authorize(&ALICE, Write, Topic, "logs"));
        assert!(a.authorize(&ALICE, Read, Group, "anything"));
        assert!(
            !a.authorize(&ALICE, Read, TransactionalId, "orders"),
            "type matters"
        );
        assert!(
            !a.authorize(&BOB, Read, Topic, "orders"),
            "principal matters"
        );
    }

    #[test]
    fn deny_wins_over_allow() {
        let (_d, a) = authorizer(
            AclConfig::default(),
            &[
                allow(Topic, "*", PatternType::Literal, All),
                deny(Topic, "secret-", PatternType::Prefixed, Read),
            ],
        );
        assert!(a.authorize(&ALICE, Read, Topic, "public"));
        assert!(!a.authorize(&ALICE, Read, Topic, "secret-x"));
        assert!(
            a.authorize(&ALICE, Write, Topic, "secret-x"),
            "deny READ only"
        );
        assert!(
            a.authorize(&ALICE, Describe, Topic, "secret-x"),
            "a DENY of READ does not deny DESCRIBE"
        );
    }

    #[test]
    fn implication_rules_apply_to_allow_only() {
        let (_d, a) = authorizer(
            AclConfig::default(),
            &[
                allow(Topic, "r", PatternType::Literal, Read),
                allow(Topic, "w", PatternType::Literal, Write),
                allow(Topic, "d", PatternType::Literal, Delete),
                allow(Topic, "a", PatternType::Literal, Alter),
                allow(Topic, "c", PatternType::Literal, Create),
                allow(Topic, "ac", PatternType::Literal, AlterConfigs),
            ],
        );
        for t in ["r", "w", "d", "a"] {
            assert!(a.authorize(&ALICE, Describe, Topic, t), "{t}");
        }
        assert!(
            !a.authorize(&ALICE, Describe, Topic, "c"),
            "CREATE implies nothing"
        );
        assert!(a.authorize(&ALICE, DescribeConfigs, Topic, "ac"));
        assert!(!a.authorize(&ALICE, Describe, Topic, "ac"));
        assert!(
            !a.authorize(&ALICE, Write, Topic, "r"),
            "READ does not imply WRITE"
        );
    }

    #[test]
    fn wildcard_principal_and_exact_host() {
        let (_d, a) = authorizer(
            AclConfig::default(),
            &[
                binding(
                    Topic,
                    "t",
                    PatternType::Literal,
                    "User:*",
                    "10.0.0.2",
                    Read,
                    PermissionType::Allow,
                ),
                binding(
                    Topic,
                    "all",
                    PatternType::Literal,
                    "User:*",
                    "*",
                    Read,
                    PermissionType::Allow,
                ),
            ],
        );
        assert!(a.authorize(&BOB, Read, Topic, "t"), "bob is on 10.0.0.2");
        assert!(!a.authorize(&ALICE, Read, Topic, "t"), "alice is not");
        assert!(a.authorize(&ALICE, Read, Topic, "all"));
    }

    #[test]
    fn authorized_operations_bits() {
        let (_d, a) = authorizer(
            AclConfig::default(),
            &[allow(Topic, "t", PatternType::Literal, Read)],
        );
        // READ (3) and the DESCRIBE (8) it implies.
        assert_eq!(
            a.authorized_operations(&ALICE, Topic, "t"),
            (1 << 3) | (1 << 8)
        );
        assert_eq!(a.authorized_operations(&BOB, Topic, "t"), 0);
    }

    #[test]
    fn by_resource_type_needs_an_undominated_allow() {
        let (_d, a) = authorizer(AclConfig::default(), &[]);
        assert!(!a.authorize_by_resource_type(&ALICE, Write, Topic));
        a.create(&[allow(Topic, "logs-a", PatternType::Literal, Write)])
            .unwrap();
        assert!(a.authorize_by_resource_type(&ALICE, Write, Topic));
        a.create(&[deny(Topic, "logs-", PatternType::Prefixed, Write)])
            .unwrap();
        assert!(!a.authorize_by_resource_type(&ALICE, Write, Topic));
        a.create(&[allow(Topic, "*", PatternType::Literal, Write)])
            .unwrap();
        assert!(a.authorize_by_resource_type(&ALICE, Write, Topic));
    }

    #[test]
    fn acls_survive_reopen_and_delete_reports_per_filter() {
        let dir = tempfile::tempdir().unwrap();
        let a = Authorizer::open(dir.path(), AclConfig::default()).unwrap();
        let r = allow(Topic, "t", PatternType::Literal, Read);
        let w = allow(Topic, "t", PatternType::Literal, Write);
        a.create(&[r.clone(), w.clone(), r.clone()]).unwrap();
        drop(a);
        let a = Authorizer::open(dir.path(), AclConfig::default()).unwrap();
        assert_eq!(a.acls(&AclBindingFilter::any()), vec![r.clone(), w.clone()]);
        let mut reads = AclBindingFilter::any();
        reads.operation = Read;
        let out = a.delete(&[reads, AclBindingFilter::any()]).unwrap();
        assert_eq!(out, vec![vec![r.clone()], vec![r, w]]);
        drop(a);
        let a = Authorizer::open(dir.path(), AclConfig::default()).unwrap();
        assert!(a.acls(&AclBindingFilter::any()).is_empty());
    }
}
