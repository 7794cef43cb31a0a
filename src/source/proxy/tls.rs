//! TLS for the proxy (security profiles 2 and 3): the rustls configuration that terminates
//! `wss://` from chargers (with a required client certificate checked against a CA for
//! profile 3), the one that connects to a `wss://` CSMS, and what a finished handshake says
//! about the charger. TLS 1.2 is the minimum both ways. Reads PEM files; never logs key
//! material, and judges nothing (the engine's `auth.*` rules read what it reports).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, ProtocolVersion, RootCertStore, ServerConfig};

/// A TLS set-up failure, naming the file or setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
    #[error("{0}")]
    Config(String),
}

/// The listening side: `--tls-cert`, `--tls-key`, and `--client-ca` for profile 3.
#[derive(Debug, Clone)]
pub struct ListenTls {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// With a CA, every charger must present a certificate it signed (profile 3).
    pub client_ca: Option<PathBuf>,
}

/// The upstream side: `--upstream-ca`, and `--upstream-cert`/`--upstream-key` for profile 3.
#[derive(Debug, Clone, Default)]
pub struct UpstreamTls {
    /// Without it, the system bundle (`SSL_CERT_FILE`, else
    /// `/etc/ssl/certs/ca-certificates.crt`).
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// Subject alternative names kept of a client certificate (the rest are not compared).
pub const MAX_SAN: usize = 16;

/// What a finished server-side handshake says about the charger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerTls {
    /// `1.2` or `1.3`.
    pub version: Option<&'static str>,
    /// The subject of the charger's client certificate, e.g. `CN=CP-001, O=Example`.
    pub client_cert_subject: Option<String>,
    /// The common name of that subject (OCPP puts the station identity there).
    pub client_cert_cn: Option<String>,
    /// The DNS names and URIs of its subject alternative names, comma-separated (at most
    /// [`MAX_SAN`] of them, each cut to 128 characters).
    pub client_cert_san: Option<String>,
    /// The client certificate itself (DER), verified against `--client-ca`.
    pub client_cert_der: Option<Vec<u8>>,
}

/// A certificate as PEM text.
pub fn pem(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn file_err(path: &Path, message: impl Into<String>) -> TlsError {
    TlsError::File {
        path: path.to_owned(),
        message: message.into(),
    }
}

/// Every certificate of a PEM file, in order; an empty file is an error.
fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = std::fs::read(path).map_err(|e| file_err(path, format!("cannot read: {e}")))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_err(path, format!("not a PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(file_err(path, "holds no PEM certificate"));
    }
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = std::fs::read(path).map_err(|e| file_err(path, format!("cannot read: {e}")))?;
    PrivateKeyDer::from_pem_slice(&bytes)
        .map_err(|e| file_err(path, format!("holds no PEM private key: {e}")))
}

fn load_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(path)? {
        roots
            .add(cert)
            .map_err(|e| file_err(path, format!("not a usable CA certificate: {e}")))?;
    }
    Ok(roots)
}

/// What is suspicious, though not fatal, in the listening side's files: a server
/// certificate outside its validity period (chargers will refuse it), a `--client-ca` that
/// is not a CA certificate (a leaf pinned as a CA). Said at start-up; unreadable files are
/// left to [`server_config`] to report.
pub fn start_warnings(tls: &ListenTls) -> Vec<String> {
    let mut out = Vec::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    if let Ok(certs) = load_certs(&tls.cert)
        && let Some(leaf) = certs.first()
        && let Ok((_, c)) = x509_parser::parse_x509_certificate(leaf.as_ref())
    {
        let v = c.validity();
        if v.not_after.timestamp() < now {
            out.push(format!(
                "{}: the server certificate expired on {}; chargers will refuse the TLS handshake",
                tls.cert.display(),
                v.not_after
            ));
        } else if v.not_before.timestamp() > now {
            out.push(format!(
                "{}: the server certificate is not valid before {}",
                tls.cert.display(),
                v.not_before
            ));
        }
    }
    if let Some(ca) = &tls.client_ca
        && let Ok(certs) = load_certs(ca)
    {
        for cert in &certs {
            if let Ok((_, c)) = x509_parser::parse_x509_certificate(cert.as_ref())
                && !c.is_ca()
            {
                out.push(format!(
                    "{}: `{}` is not a CA certificate (no basicConstraints CA:TRUE); chargers' certificates are checked against it as a trust anchor",
                    ca.display(),
                    c.subject()
                ));
            }
        }
    }
    out
}

/// The rustls configuration for the listening side (TLS 1.2 minimum).
pub fn server_config(tls: &ListenTls) -> Result<Arc<ServerConfig>, TlsError> {
    let certs = load_certs(&tls.cert)?;
    let key = load_key(&tls.key)?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)
        .map_err(|e| TlsError::Config(format!("TLS versions: {e}")))?;
    let builder = match &tls.client_ca {
        Some(ca) => {
            let roots = load_roots(ca)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(|e| file_err(ca, format!("cannot verify clients with it: {e}")))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    // No ALPN list: a charger offering ALPN is not refused for it.
    let config = builder.with_single_cert(certs, key).map_err(|e| {
        file_err(
            &tls.key,
            format!("does not fit {}: {e}", tls.cert.display()),
        )
    })?;
    Ok(Arc::new(config))
}

/// Where the system CA bundle is looked for when no `--upstream-ca` is given.
pub fn system_bundle() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SSL_CERT_FILE") {
        return Some(PathBuf::from(p));
    }
    let p = Path::new("/etc/ssl/certs/ca-certificates.crt");
    p.exists().then(|| p.to_owned())
}

/// The rustls configuration for a `wss://` upstream (TLS 1.2 minimum).
pub fn client_config(tls: &UpstreamTls) -> Result<Arc<ClientConfig>, TlsError> {
    let roots = match &tls.ca {
        Some(ca) => load_roots(ca)?,
        None => {
            let Some(bundle) = system_bundle() else {
                return Err(TlsError::Config(
                    "a wss:// upstream needs CA certificates: no --upstream-ca was given, SSL_CERT_FILE is not set and /etc/ssl/certs/ca-certificates.crt does not exist".into(),
                ));
            };
            // A system bundle may hold a few certificates rustls cannot use; skip those.
            let bytes = std::fs::read(&bundle)
                .map_err(|e| file_err(&bundle, format!("cannot read the CA bundle: {e}")))?;
            let mut roots = RootCertStore::empty();
            let (_, _) = roots.add_parsable_certificates(
                CertificateDer::pem_slice_iter(&bytes).filter_map(Result::ok),
            );
            if roots.is_empty() {
                return Err(file_err(&bundle, "holds no usable CA certificate"));
            }
            roots
        }
    };
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)
        .map_err(|e| TlsError::Config(format!("TLS versions: {e}")))?
        .with_root_certificates(roots);
    let config = match (&tls.cert, &tls.key) {
        (Some(cert), Some(key)) => {
            let certs = load_certs(cert)?;
            let k = load_key(key)?;
            builder
                .with_client_auth_cert(certs, k)
                .map_err(|e| file_err(key, format!("does not fit {}: {e}", cert.display())))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(TlsError::Config(
                "--upstream-cert and --upstream-key go together".into(),
            ));
        }
    };
    Ok(Arc::new(config))
}

/// Names why a charger's TLS handshake failed, in the operator's terms: rustls reports a
/// TLS 1.0/1.1 ClientHello as a missing extension, for instance.
pub fn describe_accept_error(e: &std::io::Error) -> String {
    use rustls::{Error as E, PeerIncompatible as P};
    let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<E>()) else {
        return e.to_string();
    };
    match inner {
        E::PeerIncompatible(
            P::SignatureAlgorithmsExtensionRequired
            | P::SupportedVersionsExtensionRequired
            | P::Tls12NotOffered
            | P::Tls12NotOfferedOrEnabled
            | P::ExtendedMasterSecretExtensionRequired,
        ) => format!(
            "the charger offers only a TLS version below 1.2 (1.2 is the minimum) ({inner})"
        ),
        E::PeerIncompatible(P::NoCipherSuitesInCommon) => {
            format!("no cipher suite in common with the charger ({inner})")
        }
        E::NoCertificatesPresented => {
            "the charger presented no client certificate (--client-ca requires one)".into()
        }
        E::InvalidCertificate(c) => {
            format!("the charger's client certificate was refused: {c:?}")
        }
        E::InvalidMessage(_) => format!("not a TLS handshake ({inner})"),
        other => other.to_string(),
    }
}

/// The bounded reasons [`accept_failure_reason`] gives (metric labels).
pub const ACCEPT_FAILURE_REASONS: [&str; 7] = [
    "old-tls-version",
    "no-cipher-in-common",
    "no-client-cert",
    "bad-client-cert",
    "not-tls",
    "other",
    "timeout",
];

/// A failed TLS accept as one of [`ACCEPT_FAILURE_REASONS`] (the cases
/// [`describe_accept_error`] words; `timeout` is the listener's own).
pub fn accept_failure_reason(e: &std::io::Error) -> &'static str {
    use rustls::{Error as E, PeerIncompatible as P};
    match e.get_ref().and_then(|i| i.downcast_ref::<E>()) {
        Some(E::PeerIncompatible(
            P::SignatureAlgorithmsExtensionRequired
            | P::SupportedVersionsExtensionRequired
            | P::Tls12NotOffered
            | P::Tls12NotOfferedOrEnabled
            | P::ExtendedMasterSecretExtensionRequired,
        )) => "old-tls-version",
        Some(E::PeerIncompatible(P::NoCipherSuitesInCommon)) => "no-cipher-in-common",
        Some(E::NoCertificatesPresented) => "no-client-cert",
        Some(E::InvalidCertificate(_)) => "bad-client-cert",
        Some(E::InvalidMessage(_)) => "not-tls",
        _ => "other",
    }
}

/// Fills in what a client certificate (DER) names: its subject, common name and DNS/URI
/// subject alternative names. A certificate that does not parse fills in nothing.
fn read_client_cert(der: &[u8], out: &mut PeerTls) {
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(der) else {
        return;
    };
    out.client_cert_der = Some(der.to_vec());
    let subject = parsed.subject();
    out.client_cert_subject = Some(subject.to_string());
    out.client_cert_cn = subject
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned);
    if let Ok(Some(san)) = parsed.subject_alternative_name() {
        let names: Vec<String> = san
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                x509_parser::extensions::GeneralName::DNSName(d)
                | x509_parser::extensions::GeneralName::URI(d) => {
                    Some(crate::finding::shorten(d, 128))
                }
                _ => None,
            })
            .take(MAX_SAN)
            .collect();
        if !names.is_empty() {
            out.client_cert_san = Some(names.join(", "));
        }
    }
}

/// What the handshake of `conn` says about the charger.
pub fn peer_tls(conn: &rustls::ServerConnection) -> PeerTls {
    let version = match conn.protocol_version() {
        Some(ProtocolVersion::TLSv1_3) => Some("1.3"),
        Some(ProtocolVersion::TLSv1_2) => Some("1.2"),
        _ => None,
    };
    let mut out = PeerTls {
        version,
        ..PeerTls::default()
    };
    if let Some(cert) = conn.peer_certificates().and_then(|c| c.first()) {
        read_client_cert(cert.as_ref(), &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_certificate_gives_its_subject_common_name_and_dns_sans() {
        let mut params =
            rcgen::CertificateParams::new(vec!["cp-1.example.com".to_owned(), "CP-1".to_owned()])
                .unwrap_or_else(|e| panic!("{e}"));
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "CP-9");
        let key = rcgen::KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
        let cert = params.self_signed(&key).unwrap_or_else(|e| panic!("{e}"));
        let mut out = PeerTls::default();
        read_client_cert(cert.der(), &mut out);
        assert_eq!(out.client_cert_cn.as_deref(), Some("CP-9"));
        assert_eq!(
            out.client_cert_san.as_deref(),
            Some("cp-1.example.com, CP-1")
        );
        assert!(
            out.client_cert_subject
                .is_some_and(|s| s.contains("CN=CP-9"))
        );
        // Not a certificate: nothing is filled in.
        let mut out = PeerTls::default();
        read_client_cert(b"not DER", &mut out);
        assert_eq!(out, PeerTls::default());
    }

    #[test]
    fn missing_files_are_named() {
        let e = server_config(&ListenTls {
            cert: "/nonexistent/server.pem".into(),
            key: "/nonexistent/server.key".into(),
            client_ca: None,
        })
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("/nonexistent/server.pem"), "{e}");
        assert!(e.contains("cannot read"), "{e}");
    }

    #[test]
    fn a_missing_upstream_ca_is_named() {
        let dir = std::env::temp_dir();
        let e = client_config(&UpstreamTls {
            ca: Some(dir.join("none.pem")),
            cert: None,
            key: None,
        })
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("none.pem"), "{e}");
    }
}
