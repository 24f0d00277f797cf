//! `skiff dev-certs DIR`: a local CA, a broker certificate signed by it and a
//! client certificate for mTLS, as PEM files, so turning TLS on is one step.
//! For development only: the CA key is written next to the certificates.

use std::io::Write;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// Why the certificates could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DevCertsError {
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The files `write` produced.
#[derive(Debug, Clone)]
pub struct DevCerts {
    /// `ca.crt`: what clients trust (`ssl.ca.location`, `ssl.truststore.location`).
    pub ca_cert: PathBuf,
    /// `broker.pem`: key and chain, the broker's `ssl.keystore.location`.
    pub broker_keystore: PathBuf,
    /// `client.crt` / `client.key` / `client.pem`: a client certificate (CN=client).
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    pub client_keystore: PathBuf,
}

fn save(dir: &Path, name: &str, contents: &str, secret: bool) -> Result<PathBuf, DevCertsError> {
    let path = dir.join(name);
    let fail = |source| DevCertsError::Write {
        path: path.clone(),
        source,
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut f = opts.open(&path).map_err(fail)?;
    f.write_all(contents.as_bytes()).map_err(fail)?;
    f.sync_all().map_err(fail)?;
    Ok(path)
}

/// A validity window from the start of this year to two years on: short
/// enough for clients that cap server certificate lifetimes.
fn validity(params: &mut CertificateParams) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let year = 1970 + (secs / 31_556_952) as i32;
    params.not_before = rcgen::date_time_ymd(year, 1, 1);
    params.not_after = rcgen::date_time_ymd(year + 2, 1, 1);
}

/// Writes `ca.crt`, `ca.key`, `broker.pem`, `client.crt`, `client.key` and
/// `client.pem` into `dir` (created if missing). The broker certificate is
/// valid for `hosts` (DNS names or IP addresses).
pub fn write(dir: &Path, hosts: &[String]) -> Result<DevCerts, DevCertsError> {
    std::fs::create_dir_all(dir).map_err(|source| DevCertsError::Write {
        path: dir.to_path_buf(),
        source,
    })?;

    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // CertificateParams::new starts with a CN of its own: the subject is ours alone.
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name
        .push(DnType::OrganizationName, "Skiff");
    ca.distinguished_name
        .push(DnType::CommonName, "Skiff development CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut ca);
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca.self_signed(&ca_key)?;

    let mut broker = CertificateParams::new(hosts.to_vec())?;
    broker.distinguished_name = DistinguishedName::new();
    broker
        .distinguished_name
        .push(DnType::OrganizationName, "Skiff");
    broker.distinguished_name.push(
        DnType::CommonName,
        hosts.first().map_or("localhost", String::as_str),
    );
    broker.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    broker.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    validity(&mut broker);
    let broker_key = KeyPair::generate()?;
    let broker_cert = broker.signed_by(&broker_key, &ca_cert, &ca_key)?;

    let mut client = CertificateParams::new(Vec::<String>::new())?;
    client.distinguished_name = DistinguishedName::new();
    client
        .distinguished_name
        .push(DnType::OrganizationName, "Skiff");
    client.distinguished_name.push(DnType::CommonName, "client");
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    client.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    validity(&mut client);
    let client_key = KeyPair::generate()?;
    let client_cert = client.signed_by(&client_key, &ca_cert, &ca_key)?;

    let ca_pem = ca_cert.pem();
    let ca_cert_path = save(dir, "ca.crt", &ca_pem, false)?;
    save(dir, "ca.key", &ca_key.serialize_pem(), true)?;
    let broker_keystore = save(
        dir,
        "broker.pem",
        &format!(
            "{}{}{}",
            broker_key.serialize_pem(),
            broker_cert.pem(),
            ca_pem
        ),
        true,
    )?;
    let client_cert_path = save(dir, "client.crt", &client_cert.pem(), false)?;
    let client_key_path = save(dir, "client.key", &client_key.serialize_pem(), true)?;
    let client_keystore = save(
        dir,
        "client.pem",
        &format!("{}{}", client_key.serialize_pem(), client_cert.pem()),
        true,
    )?;
    Ok(DevCerts {
        ca_cert: ca_cert_path,
        broker_keystore,
        client_cert: client_cert_path,
        client_key: client_key_path,
        client_keystore,
    })
}
