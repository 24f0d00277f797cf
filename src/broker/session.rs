//! Who is on the other end of a connection, as the handlers see it: the
//! client's address, the listener it came in on and the principal it
//! authenticated as. The server fills it in per connection; handlers only read
//! it (authorization, DescribeGroups' client host).

use std::fmt;

/// Kafka's `KafkaPrincipal`: a type and a name, written `User:alice`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KafkaPrincipal {
    pub principal_type: String,
    pub name: String,
}

impl KafkaPrincipal {
    /// The principal of a connection that did not authenticate
    /// (PLAINTEXT, or SSL without a client certificate), as Kafka names it.
    pub fn anonymous() -> KafkaPrincipal {
        KafkaPrincipal::user("ANONYMOUS")
    }

    pub fn user(name: impl Into<String>) -> KafkaPrincipal {
        KafkaPrincipal {
            principal_type: "User".to_string(),
            name: name.into(),
        }
    }
}

impl fmt::Display for KafkaPrincipal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.principal_type, self.name)
    }
}

/// One connection's identity, passed with every request it sends.
#[derive(Debug, Clone)]
pub struct Session {
    /// Kafka's "/<ip>" form, shown in DescribeGroups.
    pub client_host: String,
    pub principal: KafkaPrincipal,
    /// The listener's name (`PLAINTEXT` for the default listener).
    pub listener: String,
    /// Unique per accepted connection (0: none, e.g. an in-process call);
    /// share sessions belong to the connection that opened them.
    pub connection_id: u64,
}

impl Session {
    /// An unauthenticated session on the default PLAINTEXT listener.
    pub fn plaintext(client_host: impl Into<String>) -> Session {
        Session {
            client_host: client_host.into(),
            principal: KafkaPrincipal::anonymous(),
            listener: "PLAINTEXT".to_string(),
            connection_id: 0,
        }
    }
}
