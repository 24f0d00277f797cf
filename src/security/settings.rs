//! The TLS and SASL settings of each listener, read from Kafka's `ssl.*` and
//! `sasl.*` keys, where `listener.name.<name>.<key>` overrides `<key>` for one
//! listener as in Kafka. Parsing only: certificates are loaded by `tls.rs`
//! when the listener starts.

use std::path::PathBuf;

use crate::config::ConfigError;

/// The mechanisms Skiff implements.
pub const SUPPORTED_MECHANISMS: &[&str] =
    &["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"];

/// `ssl.client.auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    None,
    Requested,
    Required,
}

/// Where a listener's certificate, key and trusted client CAs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// `ssl.keystore.certificate.chain`: inline PEM.
    pub certificate_chain: Option<String>,
    /// `ssl.keystore.key`: inline PEM (unencrypted).
    pub key: Option<String>,
    /// `ssl.keystore.location`: a PEM file holding the key and the chain.
    pub keystore_location: Option<PathBuf>,
    /// `ssl.truststore.certificates`: inline PEM of trusted client CAs.
    pub truststore_certificates: Option<String>,
    /// `ssl.truststore.location`: a PEM file of trusted client CAs.
    pub truststore_location: Option<PathBuf>,
    pub client_auth: ClientAuth,
    /// `ssl.enabled.protocols`: `TLSv1.2` and/or `TLSv1.3`.
    pub enabled_protocols: Vec<String>,
}

/// Broker-wide SASL settings (per-listener mechanisms are on the listener).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaslSettings {
    /// `sasl.users`: `user:password` pairs (Skiff's key; see the README).
    pub users: Vec<(String, String)>,
    /// `sasl.oauthbearer.jwks.endpoint.url` as a local file (`file:` URL or path):
    /// tokens must then be signed by one of its keys; unset = unsecured JWS.
    pub oauth_jwks_file: Option<PathBuf>,
    /// `sasl.oauthbearer.expected.audience`.
    pub oauth_expected_audience: Vec<String>,
    /// `sasl.oauthbearer.expected.issuer`.
    pub oauth_expected_issuer: Option<String>,
    /// `sasl.oauthbearer.sub.claim.name`.
    pub oauth_sub_claim: String,
    /// `sasl.oauthbearer.clock.skew.seconds`, in ms.
    pub oauth_clock_skew_ms: i64,
    /// `connections.max.reauth.ms`: 0 = sessions never expire.
    pub max_reauth_ms: i64,
    /// `skiff.authentication.timeout.ms`: TLS and SASL must finish within it.
    pub authentication_timeout_ms: u64,
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message: message.into(),
    }
}

fn non_blank(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

/// Reads the TLS settings of a TLS listener through `lookup` (which applies
/// the `listener.name.` overrides and the defaults).
pub fn resolve_tls(
    listener: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<TlsSettings, ConfigError> {
    let keystore_type = lookup("ssl.keystore.type").unwrap_or_else(|| "PEM".into());
    if !keystore_type.trim().eq_ignore_ascii_case("PEM") {
        return Err(invalid(
            "ssl.keystore.type",
            format!("only PEM keystores are supported (got {keystore_type:?}); convert with `openssl pkcs12 -in store.p12 -nodes`"),
        ));
    }
    let truststore_type = lookup("ssl.truststore.type").unwrap_or_else(|| "PEM".into());
    if !truststore_type.trim().eq_ignore_ascii_case("PEM") {
        return Err(invalid(
            "ssl.truststore.type",
            format!("only PEM truststores are supported (got {truststore_type:?})"),
        ));
    }
    if non_blank(lookup("ssl.key.password")).is_some() {
        return Err(invalid(
            "ssl.key.password",
            "encrypted private keys are not supported: give an unencrypted PEM key",
        ));
    }
    let client_auth = match lookup("ssl.client.auth")
        .unwrap_or_else(|| "none".into())
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "none" => ClientAuth::None,
        "requested" => ClientAuth::Requested,
        "required" => ClientAuth::Required,
        other => {
            return Err(invalid(
                "ssl.client.auth",
                format!("must be none, requested or required, got {other:?}"),
            ))
        }
    };
    let settings = TlsSettings {
        certificate_chain: non_blank(lookup("ssl.keystore.certificate.chain")),
        key: non_blank(lookup("ssl.keystore.key")),
        keystore_location: non_blank(lookup("ssl.keystore.location")).map(PathBuf::from),
        truststore_certificates: non_blank(lookup("ssl.truststore.certificates")),
        truststore_location: non_blank(lookup("ssl.truststore.location")).map(PathBuf::from),
        client_auth,
        enabled_protocols: Vec::new(),
    };
    let mut settings = settings;
    for p in lookup("ssl.enabled.protocols")
        .unwrap_or_else(|| "TLSv1.2,TLSv1.3".into())
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match p {
            "TLSv1.2" | "TLSv1.3" => settings.enabled_protocols.push(p.to_string()),
            other => {
                return Err(invalid(
                    "ssl.enabled.protocols",
                    format!("{other} is not supported (TLSv1.2, TLSv1.3)"),
                ))
            }
        }
    }
    if settings.enabled_protocols.is_empty() {
        return Err(invalid("ssl.enabled.protocols", "no TLS version enabled"));
    }
    let inline = settings.certificate_chain.is_some() || settings.key.is_some();
    if inline && (settings.certificate_chain.is_none() || settings.key.is_none()) {
        return Err(invalid(
            "ssl.keystore.key",
            "ssl.keystore.certificate.chain and ssl.keystore.key must be set together",
        ));
    }
    if !inline && settings.keystore_location.is_none() {
        return Err(invalid(
            "ssl.keystore.location",
            format!("listener {listener} uses TLS but has no keystore: set ssl.keystore.location (a PEM file with key and certificate; `skiff dev-certs DIR` writes one) or ssl.keystore.certificate.chain + ssl.keystore.key"),
        ));
    }
    if client_auth != ClientAuth::None
        && settings.truststore_location.is_none()
        && settings.truststore_certificates.is_none()
    {
        return Err(invalid(
            "ssl.truststore.location",
            format!("ssl.client.auth on listener {listener} needs ssl.truststore.location or ssl.truststore.certificates"),
        ));
    }
    Ok(settings)
}

/// `sasl.enabled.mechanisms` of a SASL listener.
pub fn resolve_mechanisms(
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<String>, ConfigError> {
    let value = lookup("sasl.enabled.mechanisms").unwrap_or_default();
    let mut out = Vec::new();
    for m in value.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        let m = m.to_ascii_uppercase();
        if !SUPPORTED_MECHANISMS.contains(&m.as_str()) {
            return Err(invalid(
                "sasl.enabled.mechanisms",
                format!(
                    "{m} is not supported (supported: {})",
                    SUPPORTED_MECHANISMS.join(", ")
                ),
            ));
        }
        if !out.contains(&m) {
            out.push(m);
        }
    }
    if out.is_empty() {
        return Err(invalid(
            "sasl.enabled.mechanisms",
            "a SASL listener needs at least one mechanism",
        ));
    }
    Ok(out)
}

/// Parses `sasl.users` (`user:password,...`).
pub fn parse_users(value: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for e in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (user, password) = e
            .split_once(':')
            .filter(|(u, p)| !u.is_empty() && !p.is_empty())
            // The entry itself holds a password: never echo it.
            .ok_or_else(|| invalid("sasl.users", "each entry must be USER:PASSWORD"))?;
        if out.iter().any(|(u, _)| u == user) {
            return Err(invalid(
                "sasl.users",
                format!("user {user} is listed twice"),
            ));
        }
        out.push((user.to_string(), password.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup_from(
        pairs: &'static [(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn tls_needs_a_keystore_and_a_truststore_for_client_auth() {
        assert!(resolve_tls("SSL", &lookup_from(&[])).is_err());
        let ok = resolve_tls("SSL", &lookup_from(&[("ssl.keystore.location", "/k.pem")])).unwrap();
        assert_eq!(ok.client_auth, ClientAuth::None);
        assert!(resolve_tls(
            "SSL",
            &lookup_from(&[
                ("ssl.keystore.location", "/k.pem"),
                ("ssl.client.auth", "required")
            ])
        )
        .is_err());
        assert!(resolve_tls(
            "SSL",
            &lookup_from(&[
                ("ssl.keystore.location", "/k"),
                ("ssl.keystore.type", "JKS")
            ])
        )
        .is_err());
        assert!(resolve_tls("SSL", &lookup_from(&[("ssl.keystore.key", "x")])).is_err());
    }

    #[test]
    fn mechanisms_and_users() {
        assert_eq!(
            resolve_mechanisms(&lookup_from(&[(
                "sasl.enabled.mechanisms",
                "plain, SCRAM-SHA-512"
            )]))
            .unwrap(),
            vec!["PLAIN", "SCRAM-SHA-512"]
        );
        assert!(
            resolve_mechanisms(&lookup_from(&[("sasl.enabled.mechanisms", "GSSAPI")])).is_err()
        );
        assert!(resolve_mechanisms(&lookup_from(&[("sasl.enabled.mechanisms", "")])).is_err());
        assert_eq!(
            parse_users("alice:a:b, bob:pw").unwrap(),
            vec![("alice".into(), "a:b".into()), ("bob".into(), "pw".into())]
        );
        assert!(parse_users("alice").is_err());
        assert!(parse_users("a:1,a:2").is_err());
    }
}
