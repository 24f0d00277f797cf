//! TLS for SSL and SASL_SSL listeners: builds a rustls server config from a
//! listener's PEM keystore and truststore, and names an mTLS client by its
//! certificate's subject DN as Kafka's default principal builder does.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, SupportedProtocolVersion};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::settings::{ClientAuth, TlsSettings};

/// Why a TLS listener could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}: no PEM certificate found")]
    NoCertificate { what: String },
    #[error("{what}: no unencrypted PEM private key found (PKCS#8, PKCS#1 or SEC1)")]
    NoKey { what: String },
    #[error("{what}: bad PEM: {reason}")]
    BadPem { what: String, reason: String },
    #[error("invalid TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("invalid truststore: {0}")]
    Verifier(String),
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem).collect();
    let certs = certs.map_err(|e| TlsError::BadPem {
        what: what.to_string(),
        reason: e.to_string(),
    })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            what: what.to_string(),
        });
    }
    Ok(certs)
}

fn key(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|_| TlsError::NoKey {
        what: what.to_string(),
    })
}

/// The listener's certificate chain and key.
fn keystore(
    s: &TlsSettings,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    match (&s.certificate_chain, &s.key, &s.keystore_location) {
        (Some(chain), Some(k), _) => Ok((
            certs(chain.as_bytes(), "ssl.keystore.certificate.chain")?,
            key(k.as_bytes(), "ssl.keystore.key")?,
        )),
        (_, _, Some(path)) => {
            let pem = read(path)?;
            let what = path.display().to_string();
            Ok((certs(&pem, &what)?, key(&pem, &what)?))
        }
        // settings::resolve_tls requires one of the two forms.
        _ => Err(TlsError::NoKey {
            what: "ssl.keystore.location".into(),
        }),
    }
}

fn truststore(s: &TlsSettings) -> Result<Option<RootCertStore>, TlsError> {
    let mut found = Vec::new();
    if let Some(pem) = &s.truststore_certificates {
        found.extend(certs(pem.as_bytes(), "ssl.truststore.certificates")?);
    }
    if let Some(path) = &s.truststore_location {
        found.extend(certs(&read(path)?, &path.display().to_string())?);
    }
    if found.is_empty() {
        return Ok(None);
    }
    let mut roots = RootCertStore::empty();
    for c in found {
        roots
            .add(c)
            .map_err(|e| TlsError::Verifier(e.to_string()))?;
    }
    Ok(Some(roots))
}

/// A rustls server config for a listener (ring provider, `ssl.enabled.protocols`).
pub fn server_config(s: &TlsSettings) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: Vec<&'static SupportedProtocolVersion> = s
        .enabled_protocols
        .iter()
        .filter_map(|p| match p.as_str() {
            "TLSv1.2" => Some(&rustls::version::TLS12),
            "TLSv1.3" => Some(&rustls::version::TLS13),
            _ => None,
        })
        .collect();
    let builder =
        ServerConfig::builder_with_provider(provider.clone()).with_protocol_versions(&versions)?;
    let builder = match (s.client_auth, truststore(s)?) {
        (ClientAuth::None, _) | (_, None) => builder.with_no_client_auth(),
        (auth, Some(roots)) => {
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if auth == ClientAuth::Requested {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            builder.with_client_cert_verifier(
                verifier
                    .build()
                    .map_err(|e| TlsError::Verifier(e.to_string()))?,
            )
        }
    };
    let (chain, key) = keystore(s)?;
    let config = builder.with_single_cert(chain, key)?;
    Ok(Arc::new(config))
}

/// The user name of a TLS connection's principal: the client certificate's
/// subject DN (`CN=...`), or `None` without one (then ANONYMOUS), as Kafka's
/// DefaultKafkaPrincipalBuilder with `ssl.principal.mapping.rules=DEFAULT`.
pub fn principal_name(peer_certificates: Option<&[CertificateDer<'_>]>) -> Option<String> {
    peer_certificates
        .and_then(|c| c.first())
        .and_then(|c| super::x500::subject_dn(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(dir: &Path) -> super::super::dev_certs::DevCerts {
        super::super::dev_certs::write(dir, &["localhost".to_string()]).unwrap()
    }

    fn settings(keystore: &Path) -> TlsSettings {
        TlsSettings {
            certificate_chain: None,
            key: None,
            keystore_location: Some(keystore.to_path_buf()),
            truststore_certificates: None,
            truststore_location: None,
            client_auth: ClientAuth::None,
            enabled_protocols: vec!["TLSv1.2".into(), "TLSv1.3".into()],
        }
    }

    #[test]
    fn builds_from_a_pem_file_and_inline_pem() {
        let dir = tempfile::tempdir().unwrap();
        let certs = dev(dir.path());
        server_config(&settings(&certs.broker_keystore)).unwrap();
        let pem = std::fs::read_to_string(&certs.broker_keystore).unwrap();
        let mut inline = settings(&certs.broker_keystore);
        inline.keystore_location = None;
        inline.certificate_chain = Some(pem.clone());
        inline.key = Some(pem);
        inline.truststore_location = Some(certs.ca_cert.clone());
        inline.client_auth = ClientAuth::Required;
        server_config(&inline).unwrap();
        let mut bad = settings(&certs.ca_cert);
        assert!(matches!(server_config(&bad), Err(TlsError::NoKey { .. })));
        bad.keystore_location = Some(dir.path().join("missing.pem"));
        assert!(matches!(server_config(&bad), Err(TlsError::Read { .. })));
    }

    #[test]
    fn principal_is_the_subject_dn() {
        assert_eq!(principal_name(None), None);
    }
}
