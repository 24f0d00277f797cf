//! Kafka's named listeners: `listeners`, `advertised.listeners`,
//! `listener.security.protocol.map` and `inter.broker.listener.name`, parsed
//! into one [`Listener`] per bound address. Only parsing and validation live
//! here; binding is `main`'s and the TLS/SASL settings of each listener are
//! `settings.rs`'s.

use std::collections::BTreeMap;
use std::fmt;

use crate::config::{parse_host_port, ConfigError, HostPort};

use super::settings::TlsSettings;

/// Kafka's `SecurityProtocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecurityProtocol {
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl SecurityProtocol {
    pub fn parse(s: &str) -> Option<SecurityProtocol> {
        match s.trim().to_ascii_uppercase().as_str() {
            "PLAINTEXT" => Some(SecurityProtocol::Plaintext),
            "SSL" => Some(SecurityProtocol::Ssl),
            "SASL_PLAINTEXT" => Some(SecurityProtocol::SaslPlaintext),
            "SASL_SSL" => Some(SecurityProtocol::SaslSsl),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "PLAINTEXT",
            SecurityProtocol::Ssl => "SSL",
            SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
            SecurityProtocol::SaslSsl => "SASL_SSL",
        }
    }

    /// Whether the connection is wrapped in TLS.
    pub fn uses_tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }

    /// Whether clients must authenticate with SASL before any other request.
    pub fn uses_sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }
}

impl fmt::Display for SecurityProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Kafka's default `listener.security.protocol.map` (the protocol names map to themselves).
pub const DEFAULT_PROTOCOL_MAP: &str =
    "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL";

/// One listener: a name, its security protocol, where it binds and what it advertises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// Upper-case, as Kafka normalises listener names.
    pub name: String,
    pub protocol: SecurityProtocol,
    pub bind: HostPort,
    /// `advertised.listeners`' entry for this name; `None` = the bound address.
    pub advertised: Option<HostPort>,
    /// TLS settings (SSL and SASL_SSL listeners only).
    pub tls: Option<TlsSettings>,
    /// `sasl.enabled.mechanisms` (SASL listeners only).
    pub sasl_mechanisms: Vec<String>,
}

impl Listener {
    /// The address clients of this listener are told to use.
    pub fn advertised_address(&self, bound_port: u16) -> HostPort {
        match &self.advertised {
            Some(a) => a.clone(),
            None => HostPort {
                host: match self.bind.host.as_str() {
                    // Telling clients to connect to 0.0.0.0 works on Linux but not everywhere.
                    "0.0.0.0" | "::" => "localhost".to_string(),
                    h => h.to_string(),
                },
                port: bound_port,
            },
        }
    }
}

/// Splits `NAME://HOST:PORT` (or a bare `HOST:PORT`, named PLAINTEXT).
fn split_entry(key: &str, entry: &str) -> Result<(String, HostPort), ConfigError> {
    let (name, _) = match entry.split_once("://") {
        Some((n, rest)) => (n.trim().to_ascii_uppercase(), rest),
        None => ("PLAINTEXT".to_string(), entry),
    };
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(ConfigError::Invalid {
            key: key.to_string(),
            message: format!("bad listener name in {entry:?}"),
        });
    }
    Ok((name, parse_host_port(key, entry)?))
}

fn entries(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|e| !e.is_empty())
}

/// Parses `listener.security.protocol.map` (`NAME:PROTOCOL,...`).
pub fn parse_protocol_map(value: &str) -> Result<BTreeMap<String, SecurityProtocol>, ConfigError> {
    let key = "listener.security.protocol.map";
    let mut map = BTreeMap::new();
    for e in entries(value) {
        let invalid = |message: String| ConfigError::Invalid {
            key: key.to_string(),
            message,
        };
        let (name, proto) = e
            .split_once(':')
            .ok_or_else(|| invalid(format!("expected NAME:PROTOCOL, got {e:?}")))?;
        let proto = SecurityProtocol::parse(proto)
            .ok_or_else(|| invalid(format!("unknown security protocol in {e:?}")))?;
        map.insert(name.trim().to_ascii_uppercase(), proto);
    }
    Ok(map)
}

/// Resolves the listener keys into the listeners to bind, first one first
/// (its address is the one the `broker ready` line names).
pub fn resolve(
    listeners: &str,
    advertised: Option<&str>,
    protocol_map: &str,
    inter_broker: Option<&str>,
) -> Result<Vec<Listener>, ConfigError> {
    let map = parse_protocol_map(protocol_map)?;
    let mut out: Vec<Listener> = Vec::new();
    for e in entries(listeners) {
        let (name, bind) = split_entry("listeners", e)?;
        let protocol = *map.get(&name).ok_or_else(|| ConfigError::Invalid {
            key: "listeners".into(),
            message: format!(
                "no security protocol defined for listener {name} in listener.security.protocol.map"
            ),
        })?;
        if out.iter().any(|l| l.name == name) {
            return Err(ConfigError::Invalid {
                key: "listeners".into(),
                message: format!("each listener must have a different name, {name} is repeated"),
            });
        }
        if bind.port != 0 && out.iter().any(|l| l.bind.port == bind.port) {
            return Err(ConfigError::Invalid {
                key: "listeners".into(),
                message: format!(
                    "each listener must have a different port, {} is repeated",
                    bind.port
                ),
            });
        }
        out.push(Listener {
            name,
            protocol,
            bind,
            advertised: None,
            tls: None,
            sasl_mechanisms: Vec::new(),
        });
    }
    if out.is_empty() {
        return Err(ConfigError::Invalid {
            key: "listeners".into(),
            message: "at least one listener is required".into(),
        });
    }
    if let Some(adv) = advertised.filter(|a| !a.trim().is_empty()) {
        let adv_entries: Vec<&str> = entries(adv).collect();
        // A bare HOST:PORT with a single listener names that listener, whatever
        // it is called: `--advertised-listeners host:9092` keeps working.
        let single_bare = adv_entries.len() == 1 && !adv_entries[0].contains("://");
        for e in adv_entries {
            let (name, addr) = split_entry("advertised.listeners", e)?;
            let target = if single_bare && out.len() == 1 {
                Some(&mut out[0])
            } else {
                out.iter_mut().find(|l| l.name == name)
            };
            let target = target.ok_or_else(|| ConfigError::Invalid {
                key: "advertised.listeners".into(),
                message: format!("advertised listener {name} is not one of the listeners"),
            })?;
            if addr.host == "0.0.0.0" || addr.host == "::" {
                return Err(ConfigError::Invalid {
                    key: "advertised.listeners".into(),
                    message: format!("{e:?}: cannot advertise the meta-address {}", addr.host),
                });
            }
            target.advertised = Some(addr);
        }
    }
    if let Some(ib) = inter_broker.map(str::trim).filter(|s| !s.is_empty()) {
        // A single node has no other broker to talk to; the name must still be one
        // of the listeners, as Kafka requires, so a config carried over stays valid.
        let ib = ib.to_ascii_uppercase();
        if !out.iter().any(|l| l.name == ib) {
            return Err(ConfigError::Invalid {
                key: "inter.broker.listener.name".into(),
                message: format!("{ib} is not one of the listeners"),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_address_is_plaintext() {
        let l = resolve("127.0.0.1:9092", None, DEFAULT_PROTOCOL_MAP, None).unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].name, "PLAINTEXT");
        assert_eq!(l[0].protocol, SecurityProtocol::Plaintext);
        assert_eq!(l[0].advertised_address(9092).to_string(), "127.0.0.1:9092");
        let l = resolve("127.0.0.1:0", Some("example:1"), DEFAULT_PROTOCOL_MAP, None).unwrap();
        assert_eq!(l[0].advertised_address(5).to_string(), "example:1");
    }

    #[test]
    fn docker_pattern_with_custom_names() {
        let l = resolve(
            "PLAINTEXT://0.0.0.0:29092,PLAINTEXT_HOST://0.0.0.0:9092",
            Some("PLAINTEXT://skiff:29092,PLAINTEXT_HOST://localhost:9092"),
            "PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT",
            Some("PLAINTEXT"),
        )
        .unwrap();
        assert_eq!(l[0].advertised_address(0).to_string(), "skiff:29092");
        assert_eq!(l[1].name, "PLAINTEXT_HOST");
        assert_eq!(l[1].advertised_address(0).to_string(), "localhost:9092");
    }

    #[test]
    fn all_protocols_and_errors() {
        let l = resolve(
            "PLAINTEXT://:1,SSL://:2,SASL_PLAINTEXT://:3,sasl_ssl://:4",
            None,
            DEFAULT_PROTOCOL_MAP,
            None,
        )
        .unwrap();
        assert_eq!(
            l.iter().map(|l| l.protocol).collect::<Vec<_>>(),
            vec![
                SecurityProtocol::Plaintext,
                SecurityProtocol::Ssl,
                SecurityProtocol::SaslPlaintext,
                SecurityProtocol::SaslSsl
            ]
        );
        assert_eq!(l[0].advertised_address(1).host, "localhost");
        for (listeners, adv, ib) in [
            ("EXTERNAL://:1", None, None),
            ("PLAINTEXT://:1,PLAINTEXT://:2", None, None),
            ("PLAINTEXT://:1,SSL://:1", None, None),
            ("PLAINTEXT://:1", Some("SSL://h:1"), None),
            ("PLAINTEXT://:1", Some("PLAINTEXT://0.0.0.0:1"), None),
            ("PLAINTEXT://:1", None, Some("SSL")),
            ("", None, None),
            ("BAD NAME://:1", None, None),
        ] {
            assert!(
                resolve(listeners, adv, DEFAULT_PROTOCOL_MAP, ib).is_err(),
                "{listeners} {adv:?} {ib:?}"
            );
        }
        assert!(parse_protocol_map("A:NOPE").is_err());
        assert!(parse_protocol_map("A").is_err());
    }
}
