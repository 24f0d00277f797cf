//! Kafka's ACL vocabulary with its wire codes (`org.apache.kafka.common.acl`
//! and `...common.resource`), one ACL binding, and the filters DescribeAcls
//! and DeleteAcls match bindings with.

use serde::{Deserialize, Serialize};

/// The resource name, host and principal name that match anything.
pub const WILDCARD: &str = "*";
/// The only name a CLUSTER resource may have.
pub const CLUSTER_NAME: &str = "kafka-cluster";

macro_rules! coded_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $code:literal => $label:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name { $($variant),* }

        impl $name {
            /// The wire code.
            pub fn code(self) -> i8 {
                match self { $($name::$variant => $code),* }
            }
            /// `None` for Kafka's UNKNOWN (0) and codes this version does not know.
            pub fn from_code(code: i8) -> Option<$name> {
                match code { $($code => Some($name::$variant),)* _ => None }
            }
            /// Kafka's upper-case name, as kafka-acls.sh prints it.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),* }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

coded_enum!(
    /// Kafka's `ResourceType`; ANY appears only in filters.
    ResourceType {
        Any = 1 => "ANY",
        Topic = 2 => "TOPIC",
        Group = 3 => "GROUP",
        Cluster = 4 => "CLUSTER",
        TransactionalId = 5 => "TRANSACTIONAL_ID",
        DelegationToken = 6 => "DELEGATION_TOKEN",
        User = 7 => "USER",
    }
);

coded_enum!(
    /// Kafka's `PatternType`; ANY and MATCH appear only in filters.
    PatternType {
        Any = 1 => "ANY",
        Match = 2 => "MATCH",
        Literal = 3 => "LITERAL",
        Prefixed = 4 => "PREFIXED",
    }
);

coded_enum!(
    /// Kafka's `AclOperation`; ANY appears only in filters, ALL matches every operation.
    AclOperation {
        Any = 1 => "ANY",
        All = 2 => "ALL",
        Read = 3 => "READ",
        Write = 4 => "WRITE",
        Create = 5 => "CREATE",
        Delete = 6 => "DELETE",
        Alter = 7 => "ALTER",
        Describe = 8 => "DESCRIBE",
        ClusterAction = 9 => "CLUSTER_ACTION",
        DescribeConfigs = 10 => "DESCRIBE_CONFIGS",
        AlterConfigs = 11 => "ALTER_CONFIGS",
        IdempotentWrite = 12 => "IDEMPOTENT_WRITE",
        CreateTokens = 13 => "CREATE_TOKENS",
        DescribeTokens = 14 => "DESCRIBE_TOKENS",
    }
);

coded_enum!(
    /// Kafka's `AclPermissionType`; ANY appears only in filters.
    PermissionType {
        Any = 1 => "ANY",
        Deny = 2 => "DENY",
        Allow = 3 => "ALLOW",
    }
);

/// The operations that make sense on a resource type (Kafka's
/// `AclEntry.supportedOperations`): the bits an "authorized operations"
/// field may have set.
pub fn supported_operations(resource_type: ResourceType) -> &'static [AclOperation] {
    use AclOperation::*;
    match resource_type {
        ResourceType::Topic => &[
            Read,
            Write,
            Create,
            Describe,
            Delete,
            Alter,
            DescribeConfigs,
            AlterConfigs,
        ],
        ResourceType::Group => &[Read, Describe, Delete, DescribeConfigs, AlterConfigs],
        ResourceType::Cluster => &[
            Create,
            ClusterAction,
            DescribeConfigs,
            AlterConfigs,
            IdempotentWrite,
            Alter,
            Describe,
        ],
        ResourceType::TransactionalId => &[Describe, Write],
        ResourceType::DelegationToken => &[Describe],
        ResourceType::User => &[CreateTokens, DescribeTokens],
        ResourceType::Any => &[],
    }
}

/// Why an ACL or filter from a request is refused (Kafka answers INVALID_REQUEST).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidAcl(pub String);

/// One ACL: a resource pattern and an access control entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AclBinding {
    pub resource_type: ResourceType,
    pub resource_name: String,
    pub pattern_type: PatternType,
    /// `Type:name`, e.g. `User:alice`; `User:*` is every user.
    pub principal: String,
    /// An IP address, or `*`.
    pub host: String,
    pub operation: AclOperation,
    pub permission: PermissionType,
}

impl AclBinding {
    /// Builds a binding from CreateAcls' wire fields, with the checks Kafka's
    /// controller makes before storing one (`AclControlManager.validateNewAcl`).
    #[allow(clippy::too_many_arguments)]
    pub fn from_wire(
        resource_type: i8,
        resource_name: &str,
        pattern_type: i8,
        principal: &str,
        host: &str,
        operation: i8,
        permission: i8,
    ) -> Result<AclBinding, InvalidAcl> {
        let resource_type = match ResourceType::from_code(resource_type) {
            Some(ResourceType::Any) | None => {
                return Err(InvalidAcl(format!("Invalid resourceType {resource_type}")))
            }
            Some(t) => t,
        };
        let pattern_type = match PatternType::from_code(pattern_type) {
            Some(p @ (PatternType::Literal | PatternType::Prefixed)) => p,
            _ => return Err(InvalidAcl(format!("Invalid patternType {pattern_type}"))),
        };
        let operation = match AclOperation::from_code(operation) {
            Some(AclOperation::Any) | None => {
                return Err(InvalidAcl(format!("Invalid operation {operation}")))
            }
            Some(o) => o,
        };
        let permission = match PermissionType::from_code(permission) {
            Some(p @ (PermissionType::Allow | PermissionType::Deny)) => p,
            _ => return Err(InvalidAcl(format!("Invalid permissionType {permission}"))),
        };
        if resource_name.is_empty() {
            return Err(InvalidAcl("Resource name should not be empty".into()));
        }
        if resource_type == ResourceType::Cluster && resource_name != CLUSTER_NAME {
            return Err(InvalidAcl(format!(
                "The only valid name for the CLUSTER resource is {CLUSTER_NAME}"
            )));
        }
        validate_principal(principal)?;
        if host.is_empty() {
            return Err(InvalidAcl("Invalid empty host".into()));
        }
        Ok(AclBinding {
            resource_type,
            resource_name: resource_name.to_string(),
            pattern_type,
            principal: principal.to_string(),
            host: host.to_string(),
            operation,
            permission,
        })
    }

    /// Whether this binding's resource pattern covers the literal resource `name`.
    pub fn covers(&self, resource_type: ResourceType, name: &str) -> bool {
        self.resource_type == resource_type
            && match self.pattern_type {
                PatternType::Literal => {
                    self.resource_name == name || self.resource_name == WILDCARD
                }
                PatternType::Prefixed => name.starts_with(self.resource_name.as_str()),
                PatternType::Any | PatternType::Match => false,
            }
    }
}

/// Kafka's `SecurityUtils.parseKafkaPrincipal` rule: `Type:name`.
fn validate_principal(principal: &str) -> Result<(), InvalidAcl> {
    match principal.split_once(':') {
        Some((t, _)) if !t.is_empty() => Ok(()),
        _ => Err(InvalidAcl(format!(
            "Could not parse principal from `{principal}` (no colon is present separating the principal type from the principal name)"
        ))),
    }
}

/// A DescribeAcls / DeleteAcls filter (Kafka's `AclBindingFilter`): `None`
/// strings and ANY enums match everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclBindingFilter {
    pub resource_type: ResourceType,
    pub resource_name: Option<String>,
    pub pattern_type: PatternType,
    pub principal: Option<String>,
    pub host: Option<String>,
    pub operation: AclOperation,
    pub permission: PermissionType,
}

impl AclBindingFilter {
    /// Builds a filter from the wire fields; an UNKNOWN element is refused
    /// as Kafka refuses it ("Filter contain UNKNOWN elements").
    #[allow(clippy::too_many_arguments)]
    pub fn from_wire(
        resource_type: i8,
        resource_name: Option<&str>,
        pattern_type: i8,
        principal: Option<&str>,
        host: Option<&str>,
        operation: i8,
        permission: i8,
    ) -> Result<AclBindingFilter, InvalidAcl> {
        let unknown = || InvalidAcl("Filter contain UNKNOWN elements".into());
        Ok(AclBindingFilter {
            resource_type: ResourceType::from_code(resource_type).ok_or_else(unknown)?,
            resource_name: resource_name.map(str::to_string),
            pattern_type: PatternType::from_code(pattern_type).ok_or_else(unknown)?,
            principal: principal.map(str::to_string),
            host: host.map(str::to_string),
            operation: AclOperation::from_code(operation).ok_or_else(unknown)?,
            permission: PermissionType::from_code(permission).ok_or_else(unknown)?,
        })
    }

    /// The filter that matches every binding.
    #[cfg(test)]
    pub fn any() -> AclBindingFilter {
        AclBindingFilter {
            resource_type: ResourceType::Any,
            resource_name: None,
            pattern_type: PatternType::Any,
            principal: None,
            host: None,
            operation: AclOperation::Any,
            permission: PermissionType::Any,
        }
    }

    /// Kafka's `AclBindingFilter.matches`: the pattern filter (where MATCH
    /// selects every stored pattern that would apply to the named resource)
    /// and the entry filter (exact fields unless ANY / null).
    pub fn matches(&self, acl: &AclBinding) -> bool {
        self.matches_pattern(acl) && self.matches_entry(acl)
    }

    fn matches_pattern(&self, acl: &AclBinding) -> bool {
        if self.resource_type != ResourceType::Any && self.resource_type != acl.resource_type {
            return false;
        }
        if !matches!(self.pattern_type, PatternType::Any | PatternType::Match)
            && self.pattern_type != acl.pattern_type
        {
            return false;
        }
        let Some(name) = &self.resource_name else {
            return true;
        };
        if self.pattern_type == PatternType::Any || self.pattern_type == acl.pattern_type {
            return *name == acl.resource_name;
        }
        // MATCH: the stored patterns that cover `name`.
        match acl.pattern_type {
            PatternType::Literal => *name == acl.resource_name || acl.resource_name == WILDCARD,
            PatternType::Prefixed => name.starts_with(acl.resource_name.as_str()),
            PatternType::Any | PatternType::Match => false,
        }
    }

    fn matches_entry(&self, acl: &AclBinding) -> bool {
        self.principal.as_ref().is_none_or(|p| *p == acl.principal)
            && self.host.as_ref().is_none_or(|h| *h == acl.host)
            && (self.operation == AclOperation::Any || self.operation == acl.operation)
            && (self.permission == PermissionType::Any || self.permission == acl.permission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl(rt: ResourceType, name: &str, pt: PatternType) -> AclBinding {
        AclBinding {
            resource_type: rt,
            resource_name: name.into(),
            pattern_type: pt,
            principal: "User:alice".into(),
            host: "*".into(),
            operation: AclOperation::Read,
            permission: PermissionType::Allow,
        }
    }

    #[test]
    fn codes_round_trip_and_unknown_is_none() {
        for code in 1..=7 {
            assert_eq!(ResourceType::from_code(code).unwrap().code(), code);
        }
        assert_eq!(ResourceType::from_code(0), None);
        assert_eq!(
            AclOperation::from_code(14),
            Some(AclOperation::DescribeTokens)
        );
        assert_eq!(AclOperation::from_code(15), None);
        assert_eq!(PatternType::from_code(4), Some(PatternType::Prefixed));
    }

    #[test]
    fn new_acls_are_validated_as_kafka_does() {
        let ok =
            |rt, name, pt, principal| AclBinding::from_wire(rt, name, pt, principal, "*", 3, 3);
        assert!(ok(2, "t", 3, "User:alice").is_ok());
        assert!(ok(2, "t", 4, "User:alice").is_ok());
        assert!(ok(1, "t", 3, "User:alice").is_err(), "ANY resource type");
        assert!(
            ok(0, "t", 3, "User:alice").is_err(),
            "UNKNOWN resource type"
        );
        assert!(ok(2, "t", 2, "User:alice").is_err(), "MATCH pattern");
        assert!(ok(2, "", 3, "User:alice").is_err(), "empty name");
        assert!(ok(4, "other", 3, "User:alice").is_err(), "cluster name");
        assert!(ok(4, CLUSTER_NAME, 3, "User:alice").is_ok());
        assert!(ok(2, "t", 3, "alice").is_err(), "principal without type");
        assert!(
            AclBinding::from_wire(2, "t", 3, "User:a", "*", 1, 3).is_err(),
            "ANY op"
        );
        assert!(
            AclBinding::from_wire(2, "t", 3, "User:a", "*", 3, 1).is_err(),
            "ANY perm"
        );
    }

    #[test]
    fn filters_match_like_kafka() {
        let lit = acl(ResourceType::Topic, "orders", PatternType::Literal);
        let pre = acl(ResourceType::Topic, "ord", PatternType::Prefixed);
        let wild = acl(ResourceType::Topic, "*", PatternType::Literal);
        let group = acl(ResourceType::Group, "orders", PatternType::Literal);
        let mut f = AclBindingFilter::any();
        assert!([&lit, &pre, &wild, &group].iter().all(|a| f.matches(a)));

        f.resource_type = ResourceType::Topic;
        f.resource_name = Some("orders".into());
        // ANY pattern + a name: exact name, any pattern type.
        assert!(f.matches(&lit) && !f.matches(&pre) && !f.matches(&wild) && !f.matches(&group));
        // MATCH: everything that applies to the topic "orders".
        f.pattern_type = PatternType::Match;
        assert!(f.matches(&lit) && f.matches(&pre) && f.matches(&wild) && !f.matches(&group));
        // A concrete pattern type: that type and that exact name.
        f.pattern_type = PatternType::Prefixed;
        assert!(!f.matches(&lit) && !f.matches(&pre));
        f.resource_name = Some("ord".into());
        assert!(f.matches(&pre));

        let mut f = AclBindingFilter::any();
        f.principal = Some("User:bob".into());
        assert!(!f.matches(&lit));
        f.principal = Some("User:alice".into());
        f.operation = AclOperation::Write;
        assert!(!f.matches(&lit));
        f.operation = AclOperation::Read;
        f.permission = PermissionType::Deny;
        assert!(!f.matches(&lit));
        f.permission = PermissionType::Allow;
        assert!(f.matches(&lit));
    }

    #[test]
    fn unknown_filter_elements_are_refused() {
        assert!(AclBindingFilter::from_wire(0, None, 1, None, None, 1, 1).is_err());
        assert!(AclBindingFilter::from_wire(1, None, 0, None, None, 1, 1).is_err());
        assert!(AclBindingFilter::from_wire(1, None, 1, None, None, 0, 1).is_err());
        assert!(AclBindingFilter::from_wire(1, None, 1, None, None, 1, 0).is_err());
        assert_eq!(
            AclBindingFilter::from_wire(1, None, 1, None, None, 1, 1),
            Ok(AclBindingFilter::any())
        );
    }
}
